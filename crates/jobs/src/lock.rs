//! One job per pool at a time.
//!
//! The lock is an `flock` on a file next to the catalog
//! (`<catalog>.tape-<pool>.lock`, the same name for tape, disk and S3 pools,
//! so the name stays what older versions used). It is released when the
//! [`PoolLock`] is dropped, or when the process dies, so a killed job never
//! leaves a pool locked.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::JobError;

/// A pool's job lock, held while the value lives.
pub struct PoolLock {
    _file: File,
}

impl PoolLock {
    /// Take the lock of `pool` next to the catalog at `catalog`, or fail at
    /// once ([`JobError::PoolBusy`]) when another job holds it.
    pub fn take(catalog: &Path, pool: &str) -> Result<PoolLock, JobError> {
        PoolLock::take_file(&lock_path(catalog, pool), pool)
    }

    /// Take the lock held in the file `path` (`what` names it in the
    /// error), or fail at once when another process holds it. The holder's
    /// process id is written into the file, for the message a second
    /// taker shows.
    pub fn take_file(path: &Path, what: &str) -> Result<PoolLock, JobError> {
        let path = path.to_owned();
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| JobError::LockFile {
                path: path.clone(),
                source,
            })?;
        // SAFETY: flock on a descriptor we own; no memory is involved.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            return Err(JobError::PoolBusy {
                pool: what.to_owned(),
                lock: path,
            });
        }
        // Only the holder writes it; a failure to say who holds it does not
        // make the lock less held.
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        Ok(PoolLock { _file: file })
    }
}

/// The lock file of `pool` beside the catalog.
pub fn lock_path(catalog: &Path, pool: &str) -> PathBuf {
    let name = catalog
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "catalog".into());
    catalog.with_file_name(format!("{name}.tape-{pool}.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_job_on_the_same_pool_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let cat = dir.path().join("catalog.db");
        let first = PoolLock::take(&cat, "weekday").unwrap();
        // flock locks are per open file description: a second open in the
        // same process conflicts as another process's would.
        let e = PoolLock::take(&cat, "weekday").err().expect("busy");
        match &e {
            JobError::PoolBusy { pool, lock } => {
                assert_eq!(pool, "weekday");
                assert_eq!(lock, &dir.path().join("catalog.db.tape-weekday.lock"));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.is_transient());
        // Another pool is independent.
        let _other = PoolLock::take(&cat, "rdx").unwrap();
        drop(first);
        PoolLock::take(&cat, "weekday").unwrap();
    }

    #[test]
    fn a_lock_in_a_missing_folder_is_a_permanent_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cat = dir.path().join("gone").join("catalog.db");
        let e = PoolLock::take(&cat, "p").err().expect("no folder");
        assert!(
            matches!(&e, JobError::LockFile { path, .. } if path.ends_with("catalog.db.tape-p.lock"))
        );
        assert!(!e.is_transient());
        assert!(std::error::Error::source(&e).is_some());
    }
}
