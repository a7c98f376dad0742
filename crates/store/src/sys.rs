//! The few system calls std does not wrap: rename without replacing, inode
//! flags, directory fsync.
//!
//! Everything here is a thin, documented wrapper returning [`io::Result`]; the
//! stores decide what an error *means* (full disk, protected object, ...).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `FS_IMMUTABLE_FL` from `<linux/fs.h>` (`chattr +i`): the file cannot be
/// modified, renamed, linked to or deleted, not even by root. Not in the
/// `libc` crate, so spelled out here.
pub(crate) const FS_IMMUTABLE_FL: u32 = 0x0000_0010;
/// `FS_APPEND_FL` from `<linux/fs.h>` (`chattr +a`): the file can only be
/// appended to; on a folder, entries can be added but never removed.
pub(crate) const FS_APPEND_FL: u32 = 0x0000_0020;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// Move `from` to `to` atomically, failing with `EEXIST` if `to` exists.
///
/// Uses `renameat2(RENAME_NOREPLACE)`: the existence check and the rename are
/// one step inside the kernel, so two writers racing for the same name cannot
/// both win and neither can clobber the other. Filesystems (or kernels) that
/// do not support the flag answer `EINVAL`/`ENOSYS`; then we fall back to
/// [`link_then_unlink`], which has the same no-replace guarantee.
pub(crate) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    match renameat2_noreplace(from, to) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            tracing::debug!(error = %e, "renameat2(RENAME_NOREPLACE) unsupported, using link+unlink");
            link_then_unlink(from, to)
        }
        Err(e) => Err(e),
    }
}

#[cfg(target_os = "linux")]
fn renameat2_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    let from = c_path(from)?;
    let to = c_path(to)?;
    // Called through syscall() rather than the libc wrapper so it works with
    // any glibc (the wrapper appeared only in 2.28) and with musl.
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the
    // call; the kernel does not keep them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn renameat2_noreplace(_from: &Path, _to: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// The portable no-replace move: `link(from, to)` fails with `EEXIST` if `to`
/// exists (atomically, like `RENAME_NOREPLACE`), then `from` is unlinked.
///
/// A crash between the two steps leaves the object complete *and* a second
/// name for it in the temp folder; that second name is a temp file like any
/// other and [`crate::local::LocalStore::clean_temp`] removes it. Failing to
/// unlink `from` is therefore logged, not returned: the object is in place.
/// Filesystems without hard links (FAT) fail here with `EPERM`, which the
/// caller reports as an I/O error — we never fall back to a check-then-rename
/// that could replace an object written concurrently.
pub(crate) fn link_then_unlink(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::hard_link(from, to)?;
    if let Err(e) = std::fs::remove_file(from) {
        tracing::warn!(path = %from.display(), error = %e,
            "object is in place but its temporary name could not be removed");
    }
    Ok(())
}

/// Flush a directory's entries to stable storage, so a file created, renamed
/// or removed in it stays that way after a power loss. Without this, ext4 and
/// XFS may forget a rename that happened just before the crash.
///
/// Filesystems that cannot sync a directory (some FUSE and network
/// filesystems) answer `EINVAL`; there is nothing better to do on them, so
/// that answer counts as success.
pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    let f = File::open(dir)?;
    match f.sync_all() {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
        other => other,
    }
}

/// The inode flags (`lsattr`) of a file or folder, or `None` if the
/// filesystem has no such flags (tmpfs on old kernels, FAT, many FUSE
/// filesystems), in which case nothing on it can be protected by a flag.
#[cfg(target_os = "linux")]
pub(crate) fn inode_flags(path: &Path) -> io::Result<Option<u32>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: never hang on a FIFO someone left in the repository.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    let mut flags: libc::c_int = 0;
    // The kernel reads and writes an `int` despite the ioctl number's `long`
    // (e2fsprogs passes an int too).
    // SAFETY: the fd is open for the duration of the call and `flags` is a
    // valid, writable int.
    let rc = unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) };
    if rc == 0 {
        return Ok(Some(flags as u32));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOTTY | libc::ENOTSUP | libc::EINVAL | libc::ENOSYS) => Ok(None),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn inode_flags(_path: &Path) -> io::Result<Option<u32>> {
    Ok(None)
}

/// What an inode flag set means for deletion, in words for error messages, or
/// `None` if the flags do not prevent deletion.
pub(crate) fn flags_protection(flags: u32) -> Option<&'static str> {
    if flags & FS_IMMUTABLE_FL != 0 {
        Some("immutable flag, chattr +i")
    } else if flags & FS_APPEND_FL != 0 {
        Some("append-only flag, chattr +a")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_fallback_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"new").unwrap();
        std::fs::write(&b, b"old").unwrap();
        let err = link_then_unlink(&a, &b).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
        assert!(a.exists(), "source must stay when the move is refused");

        std::fs::remove_file(&b).unwrap();
        link_then_unlink(&a, &b).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"new");
        assert!(!a.exists(), "source must be gone after the move");
    }

    #[test]
    fn rename_noreplace_refuses_existing() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"new").unwrap();
        std::fs::write(&b, b"old").unwrap();
        let err = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
    }

    #[test]
    fn flag_words() {
        assert_eq!(flags_protection(0), None);
        assert!(flags_protection(FS_IMMUTABLE_FL).unwrap().contains("+i"));
        assert!(flags_protection(FS_APPEND_FL).unwrap().contains("+a"));
    }
}
