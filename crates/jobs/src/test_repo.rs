//! Small repositories for the unit tests: a fast key derivation, a
//! temporary folder, snapshots of a few files.

use std::sync::Arc;

use hokan_format::Id;
use hokan_repo::{BackupOptions, InitOptions, KdfStrength, NoProgress, Repository};
use hokan_store::LocalStore;
use tempfile::TempDir;

/// The passphrase of every test repository.
pub const PW: &[u8] = b"pw";

/// A new repository in `<tmp>/repo`; the folder lives as long as the
/// `TempDir`.
pub fn new_repo() -> (TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path().join("repo")));
    let opts = InitOptions {
        kdf: KdfStrength::TestOnly,
        pack_size: 64 * 1024,
        ..Default::default()
    };
    let repo = Repository::init(store, PW, &opts).unwrap();
    (dir, repo)
}

/// A snapshot of source `source` taken at `time` (RFC 3339), of a folder
/// with one file naming both.
pub fn backup(repo: &Repository, source: &str, time: &str) -> Id {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("note.txt"), format!("{source} {time}\n")).unwrap();
    repo.backup(
        &BackupOptions {
            source: source.into(),
            paths: vec![data.path().to_path_buf()],
            time: Some(time.into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap()
    .id
}
