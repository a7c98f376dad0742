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

/// The process that holds the lock of `pool` beside the catalog at
/// `catalog`, if one does, read from the kernel's list of locks
/// (`/proc/locks`) without touching the lock: taking it to see, even for
/// an instant, could make a job starting at that instant fail as busy.
/// `None` when nobody holds it, or when `/proc/locks` cannot be read.
pub fn holder(catalog: &Path, pool: &str) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(lock_path(catalog, pool)).ok()?;
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in(&locks, meta.dev(), meta.ino())
}

/// The `FLOCK` holder of the file (`dev`, `ino`) in `/proc/locks`' text.
fn holder_in(locks: &str, dev: u64, ino: u64) -> Option<u32> {
    // `1: FLOCK  ADVISORY  WRITE 4242 fe:00:10168905 0 EOF`; a waiting
    // request is shown as `1: -> FLOCK ...` and is not a holder.
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1) != Some(&"FLOCK") || f.get(3) != Some(&"WRITE") {
            return None;
        }
        let mut id = f.get(5)?.split(':');
        let maj = u32::from_str_radix(id.next()?, 16).ok()?;
        let min = u32::from_str_radix(id.next()?, 16).ok()?;
        let i: u64 = id.next()?.parse().ok()?;
        (maj == major && min == minor && i == ino).then(|| f[4].parse().ok())?
    })
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
    fn the_holder_is_read_without_taking_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let cat = dir.path().join("catalog.db");
        assert_eq!(holder(&cat, ".night"), None, "no lock file yet");
        let lock = PoolLock::take(&cat, ".night").unwrap();
        assert_eq!(holder(&cat, ".night"), Some(std::process::id()));
        // Asking did not take it: it is still ours, and a second taker is
        // refused.
        assert!(PoolLock::take(&cat, ".night").is_err());
        drop(lock);
        assert_eq!(holder(&cat, ".night"), None);
        assert!(PoolLock::take(&cat, ".night").is_ok());
        // A waiting request is not a holder.
        assert_eq!(
            holder_in(
                "1: -> FLOCK  ADVISORY  WRITE 7 fe:00:42 0 EOF\n",
                libc::makedev(0xfe, 0),
                42
            ),
            None
        );
        assert_eq!(
            holder_in(
                "1: FLOCK  ADVISORY  WRITE 7 fe:00:42 0 EOF\n",
                libc::makedev(0xfe, 0),
                42
            ),
            Some(7)
        );
    }

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
