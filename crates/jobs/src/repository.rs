//! Opening a repository (a folder, a cartridge's folder, a bucket) with a
//! passphrase or a paper key.
//!
//! Opening is two steps so that a front-end can ask for the passphrase
//! only when it is needed: [`check`] reads the config (a newer format, a
//! wrong path or a damaged config is reported before anyone is prompted),
//! then [`unlock`] opens it with the [`Key`] the caller obtained (from a
//! file, the environment, a prompt: the caller's business, never read
//! here). [`open`] does both.

use std::sync::Arc;

use hokan_repo::{IndexScope, Repository, Store};
use hokan_site::RepositoryLocation;

use crate::JobError;

/// The store of the primary repository at `location`: its folder, or its
/// bucket reached with the bucket's credentials and limits, writing
/// without object lock (the primary is online by definition, and prune
/// deletes from it). Nothing is read yet: a missing bucket or wrong
/// credentials are reported by the first request ([`check`], `init`).
/// `attempts`: per request, instead of the patient default
/// ([`crate::s3::with_attempts`]).
///
/// Errors: [`JobError::S3SecretFile`], [`JobError::Bucket`] (a
/// configuration S3 cannot take).
pub fn primary_store(
    location: &RepositoryLocation,
    attempts: Option<u32>,
) -> Result<Arc<dyn Store>, JobError> {
    match location {
        RepositoryLocation::Folder(path) => Ok(Arc::new(hokan_store::LocalStore::new(path))),
        RepositoryLocation::S3(c) => {
            let cfg = crate::s3::config(c)?;
            let mut net = crate::s3::network(c);
            if let Some(n) = attempts {
                net = crate::s3::with_attempts(net, n);
            }
            let store = hokan_s3::S3Store::connect_with(cfg, net)?;
            Ok(Arc::new(store))
        }
    }
}

/// What the operator should know about the primary's bucket, asked of
/// the server (nothing for a folder). Today one thing: on a bucket with
/// versioning, what prune deletes stays as old versions, still stored and
/// paid for, until a lifecycle rule expires them. Printed by `init`.
///
/// Errors: those of [`primary_store`], and the bucket's answers
/// ([`JobError::Bucket`]).
pub fn primary_warnings(
    location: &RepositoryLocation,
) -> Result<Vec<hokan_offline::Text>, JobError> {
    let RepositoryLocation::S3(c) = location else {
        return Ok(Vec::new());
    };
    let store = hokan_s3::S3Store::connect_with(crate::s3::config(c)?, crate::s3::network(c))?;
    let report = hokan_s3::bucket_check(&store)?;
    let mut out = Vec::new();
    if report.versioning != hokan_s3::Versioning::Off {
        let b = &report.bucket;
        out.push(hokan_offline::Text::new(
            format!(
                "bucket {b} keeps old versions (versioning is {}): what prune deletes from the primary stays stored, and paid for, as noncurrent versions. Add a lifecycle rule that expires noncurrent versions after a few days, or use a bucket without versioning for the primary.",
                if report.versioning == hokan_s3::Versioning::Enabled { "on" } else { "suspended" }
            ),
            format!(
                "バケット {b} は古いバージョンを保持します (バージョニング{}): prune がプライマリから削除したものは非現行バージョンとして残り、容量と料金がかかり続けます。非現行バージョンを数日後に失効させるライフサイクルルールを追加するか、バージョニングのないバケットをプライマリに使ってください。",
                if report.versioning == hokan_s3::Versioning::Enabled { "有効" } else { "一時停止中" }
            ),
        ));
    }
    Ok(out)
}

/// What opens a repository.
pub enum Key {
    /// A passphrase (one of the key slots').
    Passphrase(Vec<u8>),
    /// The text of a paper key (the K1..K4 lines), opening the repository
    /// without any key slot.
    PaperKey(String),
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret itself.
        match self {
            Key::Passphrase(_) => f.write_str("Key::Passphrase(..)"),
            Key::PaperKey(_) => f.write_str("Key::PaperKey(..)"),
        }
    }
}

/// Whether `store` holds a repository this hokan can read: its config is
/// present, intact and not of a newer format.
pub fn check(store: &dyn Store) -> Result<(), JobError> {
    Repository::read_config(store)?;
    Ok(())
}

/// Open the repository in `store` with `key`.
pub fn unlock(store: Arc<dyn Store>, key: Key) -> Result<Repository, JobError> {
    unlock_scoped(store, key, IndexScope::Full)
}

/// [`unlock`], keeping `scope` of the index in memory
/// ([`IndexScope::Backup`] for a process that only backs up).
pub fn unlock_scoped(
    store: Arc<dyn Store>,
    key: Key,
    scope: IndexScope,
) -> Result<Repository, JobError> {
    match key {
        Key::Passphrase(pw) => Ok(Repository::open_scoped(store, &pw, scope)?),
        Key::PaperKey(text) => {
            let secret = hokan_format::paper::decode(&text).map_err(JobError::PaperKey)?;
            Ok(Repository::open_with_secret_scoped(store, secret, scope)?)
        }
    }
}

/// [`check`], then [`unlock`].
pub fn open(store: Arc<dyn Store>, key: Key) -> Result<Repository, JobError> {
    check(&*store)?;
    unlock(store, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_repo::{new_repo, PW};
    use hokan_repo::RepoError;
    use hokan_store::LocalStore;

    fn store(dir: &std::path::Path) -> Arc<dyn Store> {
        Arc::new(LocalStore::new(dir.join("repo")))
    }

    #[test]
    fn the_passphrase_opens_and_a_wrong_one_is_permanent() {
        let (dir, repo) = new_repo();
        let id = repo.config().id;
        let opened = open(store(dir.path()), Key::Passphrase(PW.to_vec())).unwrap();
        assert_eq!(opened.config().id, id);
        let e = open(store(dir.path()), Key::Passphrase(b"nope".to_vec()))
            .err()
            .expect("wrong passphrase");
        assert!(
            matches!(e, JobError::Repo(RepoError::WrongPassword { .. })),
            "{e:?}"
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn a_folder_without_repository_fails_before_any_key_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("repo")).unwrap();
        let e = check(&*store(dir.path())).unwrap_err();
        assert!(matches!(e, JobError::Repo(_)), "{e:?}");
    }

    #[test]
    fn a_mistyped_paper_key_is_its_own_error() {
        let (dir, _repo) = new_repo();
        let e = open(store(dir.path()), Key::PaperKey("K1 nonsense".into()))
            .err()
            .expect("bad paper key");
        assert!(matches!(e, JobError::PaperKey(_)), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(
            format!("{:?}", Key::Passphrase(PW.to_vec())),
            "Key::Passphrase(..)"
        );
    }
}
