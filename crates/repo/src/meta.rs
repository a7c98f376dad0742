//! File metadata: reading it into tree nodes and putting it back on restore.

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::sync::Mutex;

use hokan_format::{Node, NodeKind};

/// Turn a file name into the node's `name` (and `name_raw` when not UTF-8).
pub fn name_fields(name: &OsStr) -> (String, Option<String>) {
    match name.to_str() {
        Some(s) => (s.to_string(), None),
        None => (
            name.to_string_lossy().into_owned(),
            Some(hex::encode(name.as_bytes())),
        ),
    }
}

/// The exact name bytes of a node.
pub fn node_name(node: &Node) -> Vec<u8> {
    node.name_raw
        .as_ref()
        .and_then(|h| hex::decode(h).ok())
        .unwrap_or_else(|| node.name.as_bytes().to_vec())
}

/// The exact link target of a symlink node.
pub fn node_target(node: &Node) -> Vec<u8> {
    node.target_raw
        .as_ref()
        .and_then(|h| hex::decode(h).ok())
        .unwrap_or_else(|| node.target.clone().unwrap_or_default().into_bytes())
}

fn ns(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// Caches uid/gid → name lookups (a backup asks for the same few owners
/// thousands of times).
#[derive(Default)]
pub struct OwnerNames {
    users: Mutex<HashMap<u32, Option<String>>>,
    groups: Mutex<HashMap<u32, Option<String>>>,
}

impl OwnerNames {
    fn user(&self, uid: u32) -> Option<String> {
        self.users
            .lock()
            .expect("names")
            .entry(uid)
            .or_insert_with(|| user_name(uid))
            .clone()
    }
    fn group(&self, gid: u32) -> Option<String> {
        self.groups
            .lock()
            .expect("names")
            .entry(gid)
            .or_insert_with(|| group_name(gid))
            .clone()
    }
}

/// The user name of a uid, if the system knows it.
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers are valid for the call; the result points into `buf`.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return None;
    }
    // SAFETY: pw_name is a NUL-terminated string inside `buf`.
    Some(
        unsafe { CStr::from_ptr(pwd.pw_name) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// The group name of a gid, if the system knows it.
pub fn group_name(gid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return None;
    }
    // SAFETY: gr_name is a NUL-terminated string inside `buf`.
    Some(
        unsafe { CStr::from_ptr(grp.gr_name) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// Build a node (without content or subtree) from `lstat` metadata.
pub fn node_from_metadata(
    name: &OsStr,
    md: &std::fs::Metadata,
    path: &Path,
    names: &OwnerNames,
) -> Node {
    let ft = md.file_type();
    let kind = if ft.is_file() {
        NodeKind::File
    } else if ft.is_dir() {
        NodeKind::Dir
    } else if ft.is_symlink() {
        NodeKind::Symlink
    } else if ft.is_fifo() {
        NodeKind::Fifo
    } else if ft.is_char_device() {
        NodeKind::Chardev
    } else if ft.is_block_device() {
        NodeKind::Blockdev
    } else {
        NodeKind::Socket
    };
    let (name, name_raw) = name_fields(name);
    let (target, target_raw) = if kind == NodeKind::Symlink {
        match std::fs::read_link(path) {
            Ok(t) => {
                let (a, b) = name_fields(t.as_os_str());
                (Some(a), b)
            }
            Err(_) => (Some(String::new()), None),
        }
    } else {
        (None, None)
    };
    Node {
        name,
        name_raw,
        kind,
        mode: md.mode() & 0o7777,
        uid: md.uid(),
        gid: md.gid(),
        user: names.user(md.uid()),
        group: names.group(md.gid()),
        mtime_ns: ns(md.mtime(), md.mtime_nsec()),
        ctime_ns: ns(md.ctime(), md.ctime_nsec()),
        inode: md.ino(),
        dev: md.dev(),
        nlink: md.nlink(),
        size: if kind == NodeKind::File { md.size() } else { 0 },
        content: Vec::new(),
        subtree: None,
        target,
        target_raw,
        rdev: matches!(kind, NodeKind::Chardev | NodeKind::Blockdev).then(|| md.rdev()),
        incomplete: false,
    }
}

fn cpath(p: &Path) -> std::io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
}

fn check(rc: libc::c_int) -> std::io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Put owner, mode and times back on a restored path. Ownership is set only
/// when running as root (anyone else can only give files away to
/// themselves); the mode is set after the owner because chown clears setuid.
pub fn apply(path: &Path, node: &Node, as_root: bool) -> std::io::Result<()> {
    let c = cpath(path)?;
    if as_root {
        // SAFETY: valid C string.
        check(unsafe { libc::lchown(c.as_ptr(), node.uid, node.gid) })?;
    }
    if node.kind != NodeKind::Symlink {
        // SAFETY: valid C string.
        check(unsafe { libc::chmod(c.as_ptr(), node.mode as libc::mode_t) })?;
    }
    let t = libc::timespec {
        tv_sec: node.mtime_ns.div_euclid(1_000_000_000) as libc::time_t,
        tv_nsec: node.mtime_ns.rem_euclid(1_000_000_000) as _,
    };
    let times = [t, t];
    // SAFETY: valid C string and a two-element array.
    check(unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Like [`apply`] for a regular file already open for writing: the same
/// result without looking the path up three more times (restore does this for
/// every file that is complete after one write, which is most files).
pub fn apply_fd(f: &std::fs::File, node: &Node, as_root: bool) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = f.as_raw_fd();
    if as_root {
        // SAFETY: a valid open descriptor.
        check(unsafe { libc::fchown(fd, node.uid, node.gid) })?;
    }
    // SAFETY: as above.
    check(unsafe { libc::fchmod(fd, node.mode as libc::mode_t) })?;
    let t = libc::timespec {
        tv_sec: node.mtime_ns.div_euclid(1_000_000_000) as libc::time_t,
        tv_nsec: node.mtime_ns.rem_euclid(1_000_000_000) as _,
    };
    // SAFETY: as above, with a two-element array.
    check(unsafe { libc::futimens(fd, [t, t].as_ptr()) })
}

/// Create a special file (fifo or device node).
pub fn make_special(path: &Path, node: &Node) -> std::io::Result<()> {
    let c = cpath(path)?;
    let kind = match node.kind {
        NodeKind::Fifo => libc::S_IFIFO,
        NodeKind::Chardev => libc::S_IFCHR,
        NodeKind::Blockdev => libc::S_IFBLK,
        _ => return Ok(()),
    };
    // SAFETY: valid C string.
    check(unsafe {
        libc::mknod(
            c.as_ptr(),
            kind | (node.mode & 0o7777) as libc::mode_t,
            node.rdev.unwrap_or(0) as libc::dev_t,
        )
    })
}
