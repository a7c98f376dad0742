//! Writing beneath a directory and nowhere else.
//!
//! Restore creates every file, folder and link relative to a directory
//! handle of its target, one name at a time, and never follows a symlink on
//! the way: neither one a snapshot holds (symlinks are restored as symlinks;
//! their target text is data) nor one already present in the target (a
//! `target/a -> /etc` left by someone else). Names reaching here have been
//! checked when their tree was read ([`hokan_format::Tree::check_names`]);
//! they are checked again here, so that this module alone keeps the promise.
//!
//! Paths of more than one component are opened with `openat2(2)` and
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` (Linux 5.6 and later); where the
//! kernel lacks it (or a sandbox forbids it) one component at a time with
//! `O_NOFOLLOW | O_DIRECTORY`.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicU8, Ordering};

use hokan_format::{Node, NodeKind};

/// A directory handle that is either held (for the whole restore) or opened
/// for one operation.
pub enum Dir<'a> {
    /// Held elsewhere.
    Borrowed(BorrowedFd<'a>),
    /// Opened for this use; closed on drop.
    Owned(OwnedFd),
}

impl Dir<'_> {
    /// The raw descriptor for a `*at` call.
    pub fn raw(&self) -> RawFd {
        match self {
            Dir::Borrowed(b) => b.as_raw_fd(),
            Dir::Owned(o) => o.as_raw_fd(),
        }
    }
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A name as a C string, refused unless it is one safe path component.
pub fn cname(name: &[u8]) -> io::Result<CString> {
    if let Some(why) = hokan_format::unsafe_name_reason(name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "entry name {} {why}; refused",
                hokan_format::escape_name(name)
            ),
        ));
    }
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Open the restore target itself (created by the caller; the operator
/// chose this path, so symlinks on the way to it are theirs and followed).
pub fn open_root(target: &Path) -> io::Result<OwnedFd> {
    let c = CString::new(target.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a valid C string; the result is checked.
    let fd = cvt(unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a descriptor we just opened and own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One component, beneath `dir`, as a directory: never through a symlink.
fn open_child_dir(dir: RawFd, name: &[u8]) -> io::Result<OwnedFd> {
    let c = cname(name)?;
    // SAFETY: a valid descriptor and C string; the result is checked.
    let fd = cvt(unsafe {
        libc::openat(
            dir,
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a descriptor we just opened and own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `openat2` works here: 0 unknown, 1 yes, 2 no.
static OPENAT2: AtomicU8 = AtomicU8::new(0);

/// Test support: `false` makes every later lookup walk one component at a
/// time, as on a kernel without `openat2`; `true` tries `openat2` again.
#[doc(hidden)]
pub fn use_openat2(on: bool) {
    OPENAT2.store(if on { 0 } else { 2 }, Ordering::Relaxed);
}

/// Whether the last multi-component lookup used `openat2`.
#[doc(hidden)]
pub fn openat2_in_use() -> bool {
    OPENAT2.load(Ordering::Relaxed) == 1
}

#[cfg(target_os = "linux")]
fn openat2_dir(dir: RawFd, rel: &Path) -> Option<io::Result<OwnedFd>> {
    if OPENAT2.load(Ordering::Relaxed) == 2 {
        return None;
    }
    let c = match CString::new(rel.as_os_str().as_bytes()) {
        Ok(c) => c,
        Err(_) => return Some(Err(io::Error::from(io::ErrorKind::InvalidInput))),
    };
    // SAFETY: open_how is plain data; zero is a valid start.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: valid descriptor, C string and struct with its size.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        // No such system call, or a sandbox (seccomp) refusing it: walk.
        if matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM)) {
            OPENAT2.store(2, Ordering::Relaxed);
            return None;
        }
        OPENAT2.store(1, Ordering::Relaxed);
        return Some(Err(e));
    }
    OPENAT2.store(1, Ordering::Relaxed);
    // SAFETY: a descriptor the kernel just gave us.
    Some(Ok(unsafe { OwnedFd::from_raw_fd(rc as RawFd) }))
}

#[cfg(not(target_os = "linux"))]
fn openat2_dir(_dir: RawFd, _rel: &Path) -> Option<io::Result<OwnedFd>> {
    None
}

/// Open the folder `rel` (relative, normal components only) beneath `dir`,
/// following no symlink at any step. An empty `rel` is `dir` itself.
pub fn open_dir_beneath<'a>(dir: BorrowedFd<'a>, rel: &Path) -> io::Result<Dir<'a>> {
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => parts.push(n.as_bytes()),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a plain relative path; refused", rel.display()),
                ))
            }
        }
    }
    match parts.as_slice() {
        [] => return Ok(Dir::Borrowed(dir)),
        [one] => return open_child_dir(dir.as_raw_fd(), one).map(Dir::Owned),
        _ => {}
    }
    if let Some(r) = openat2_dir(dir.as_raw_fd(), rel) {
        return r.map(Dir::Owned);
    }
    let mut cur = open_child_dir(dir.as_raw_fd(), parts[0])?;
    for p in &parts[1..] {
        cur = open_child_dir(cur.as_raw_fd(), p)?;
    }
    Ok(Dir::Owned(cur))
}

/// `lstat` of `name` in `dir`; `None` if nothing is there.
pub fn lstat_at(dir: RawFd, name: &[u8]) -> io::Result<Option<libc::stat>> {
    let c = cname(name)?;
    // SAFETY: plain data, filled by the call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, C string and buffer.
    match cvt(unsafe { libc::fstatat(dir, c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) }) {
        Ok(_) => Ok(Some(st)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What is at `rel` beneath `dir`, without following symlinks: `None` if
/// nothing; an error (`ELOOP`, `ENOTDIR`) if a symlink or a non-folder is on
/// the way.
pub fn lstat_beneath(dir: BorrowedFd<'_>, rel: &Path) -> io::Result<Option<libc::stat>> {
    let (parent, name) = split(rel)?;
    let d = match open_dir_beneath(dir, parent) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    lstat_at(d.raw(), name)
}

/// Split a relative path into its folder and last name.
/// By bytes, not by [`Path::file_name`], which would quietly turn `d/.`
/// into `d`: the name is checked as it is when it is used.
pub fn split(rel: &Path) -> io::Result<(&Path, &[u8])> {
    let b = rel.as_os_str().as_bytes();
    Ok(match b.iter().rposition(|&c| c == b'/') {
        Some(0) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is absolute; refused", rel.display()),
            ))
        }
        Some(i) => (Path::new(OsStr::from_bytes(&b[..i])), &b[i + 1..]),
        None => (Path::new(""), b),
    })
}

/// Whether an `lstat` result is a folder.
pub fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// Whether an `lstat` result is a regular file.
pub fn is_file(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFREG
}

/// Create folder `name` in `dir` (or keep the one there; with `replace`, a
/// non-folder in the way is removed first) and open it, never through a
/// symlink.
pub fn make_dir(dir: RawFd, name: &[u8], replace: bool) -> io::Result<OwnedFd> {
    let c = cname(name)?;
    // SAFETY: valid descriptor and C string.
    match cvt(unsafe { libc::mkdirat(dir, c.as_ptr(), 0o700) }) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if replace {
                if let Some(st) = lstat_at(dir, name)? {
                    if !is_dir(&st) {
                        unlink_at(dir, name)?;
                        // SAFETY: as above.
                        cvt(unsafe { libc::mkdirat(dir, c.as_ptr(), 0o700) })?;
                    }
                }
            }
        }
        Err(e) => return Err(e),
    }
    open_child_dir(dir, name)
}

/// Remove the non-folder `name` in `dir` (a symlink itself, never what it
/// points to).
pub fn unlink_at(dir: RawFd, name: &[u8]) -> io::Result<()> {
    let c = cname(name)?;
    // SAFETY: valid descriptor and C string.
    cvt(unsafe { libc::unlinkat(dir, c.as_ptr(), 0) }).map(|_| ())
}

/// Open file `name` in `dir` for writing, creating it (mode 0600 until its
/// metadata is applied); a symlink there is an error, never followed.
pub fn open_file(dir: RawFd, name: &[u8], truncate: bool) -> io::Result<std::fs::File> {
    let c = cname(name)?;
    let mut flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    if truncate {
        flags |= libc::O_TRUNC;
    }
    // SAFETY: valid descriptor and C string; the result is checked.
    let fd = cvt(unsafe { libc::openat(dir, c.as_ptr(), flags, 0o600 as libc::c_uint) })?;
    // SAFETY: a descriptor we just opened and own.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// Create symlink `name` in `dir` holding `target` (text, not followed).
pub fn symlink_at(target: &[u8], dir: RawFd, name: &[u8]) -> io::Result<()> {
    let c = cname(name)?;
    let t = CString::new(target).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: valid descriptor and C strings.
    cvt(unsafe { libc::symlinkat(t.as_ptr(), dir, c.as_ptr()) }).map(|_| ())
}

/// Create a fifo or device node `name` in `dir`.
pub fn special_at(dir: RawFd, name: &[u8], node: &Node) -> io::Result<()> {
    let kind = match node.kind {
        NodeKind::Fifo => libc::S_IFIFO,
        NodeKind::Chardev => libc::S_IFCHR,
        NodeKind::Blockdev => libc::S_IFBLK,
        _ => return Ok(()),
    };
    let c = cname(name)?;
    // SAFETY: valid descriptor and C string.
    cvt(unsafe {
        libc::mknodat(
            dir,
            c.as_ptr(),
            kind | (node.mode & 0o7777) as libc::mode_t,
            node.rdev.unwrap_or(0) as libc::dev_t,
        )
    })
    .map(|_| ())
}

/// Hard link `name` in `dir` to `from_name` in `from_dir` (a symlink there
/// is linked as itself, not followed).
pub fn link_at(from_dir: RawFd, from_name: &[u8], dir: RawFd, name: &[u8]) -> io::Result<()> {
    let a = cname(from_name)?;
    let b = cname(name)?;
    // SAFETY: valid descriptors and C strings; flags 0: no follow.
    cvt(unsafe { libc::linkat(from_dir, a.as_ptr(), dir, b.as_ptr(), 0) }).map(|_| ())
}

/// Put owner, mode and times back on `name` in `dir`, as
/// [`crate::meta::apply`] does for a path: nothing is followed. The mode is
/// not set on what is (now) a symlink: Linux has no mode on symlinks, and
/// `chmod` would follow it.
pub fn apply_at(dir: RawFd, name: &[u8], node: &Node, as_root: bool) -> io::Result<()> {
    let c = cname(name)?;
    if as_root {
        // SAFETY: valid descriptor and C string.
        cvt(unsafe {
            libc::fchownat(
                dir,
                c.as_ptr(),
                node.uid,
                node.gid,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
    }
    if node.kind != NodeKind::Symlink {
        match lstat_at(dir, name)? {
            Some(st) if st.st_mode & libc::S_IFMT != libc::S_IFLNK => {
                // SAFETY: valid descriptor and C string; not a symlink.
                cvt(unsafe { libc::fchmodat(dir, c.as_ptr(), node.mode as libc::mode_t, 0) })?;
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a symlink is where a restored entry should be; not followed",
                ))
            }
        }
    }
    let t = libc::timespec {
        tv_sec: node.mtime_ns.div_euclid(1_000_000_000) as libc::time_t,
        tv_nsec: node.mtime_ns.rem_euclid(1_000_000_000) as _,
    };
    let times = [t, t];
    // SAFETY: valid descriptor, C string and a two-element array.
    cvt(unsafe { libc::utimensat(dir, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
        .map(|_| ())
}

/// How many folder handles a restore may keep open: half of what the
/// process may open after raising its soft limit to the hard one (as Go
/// does at start), leaving room for packs, files and the rest.
pub fn dir_budget() -> usize {
    // SAFETY: plain data, filled by the calls.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: a valid buffer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 256;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: a valid struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim = raised;
        }
    }
    let soft = usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX);
    (soft.saturating_sub(256) / 2).min(1 << 20)
}

/// `AsFd` for a [`Dir`].
impl AsFd for Dir<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Dir::Borrowed(b) => *b,
            Dir::Owned(o) => o.as_fd(),
        }
    }
}
