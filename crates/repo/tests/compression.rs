//! Large files are compressed where they compress and stored as they are
//! where they do not (a PACS image, already JPEG 2000): the level is chosen
//! on a probe of the first chunk, and a file found incompressible is probed
//! again each 16 MiB segment, so that a part that compresses after it is
//! still compressed. Both restore byte for byte.

use std::fs;
use std::sync::Arc;

use hokan_repo::{BackupOptions, InitOptions, KdfStrength, NoProgress, Repository, RestoreOptions};
use hokan_store::MemStore;
use rand::{RngCore, SeedableRng};

fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

fn text(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(
            format!(
                "2026-11-{:02} patient {i:06} ward {} blood pressure 120/80 ok\n",
                i % 28 + 1,
                i % 17
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.truncate(n);
    out
}

/// Bytes the backup added for a folder holding `content` as one file.
fn added(content: &[u8]) -> u64 {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("file"), content).unwrap();
    let repo = Repository::init(
        Arc::new(MemStore::new()),
        b"pw",
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            ..Default::default()
        },
    )
    .unwrap();
    let r = repo
        .backup(
            &BackupOptions {
                source: "s".into(),
                paths: vec![data.clone()],
                time: Some("2026-12-07T00:00:00Z".into()),
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
    let out = tmp.path().join("out");
    repo.restore(
        &r.id,
        &RestoreOptions {
            target: out.clone(),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(
        fs::read(out.join("data").join("file")).unwrap() == content,
        "restores byte for byte"
    );
    r.snapshot.summary.bytes_added
}

#[test]
fn an_incompressible_file_is_stored_as_is_and_a_compressible_one_compressed() {
    const MIB: usize = 1 << 20;
    let raw = added(&noise(24 * MIB, 1));
    assert!(raw >= 24 * MIB as u64, "noise cannot shrink: {raw}");
    assert!(
        raw < 24 * MIB as u64 + MIB as u64 / 4,
        "nothing but framing added: {raw}"
    );
    let squeezed = added(&text(24 * MIB));
    assert!(squeezed < 4 * MIB as u64, "text compresses: {squeezed}");
}

#[test]
fn a_file_that_turns_compressible_after_its_first_segment_is_compressed_from_there() {
    const MIB: usize = 1 << 20;
    // 20 MiB of noise (the first segment is probed raw), then 40 MiB of text.
    let mut content = noise(20 * MIB, 2);
    content.extend_from_slice(&text(40 * MIB));
    let total = added(&content);
    assert!(
        total < 30 * MIB as u64,
        "the text after the noise was compressed: {total} bytes for 20 MiB of noise and 40 MiB of text"
    );
}
