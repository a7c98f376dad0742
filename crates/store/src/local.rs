//! [`LocalStore`]: a repository in a local directory.
//!
//! # Layout
//! ```text
//! <root>/config             the repository config
//! <root>/keys/<name>        key slots
//! <root>/snapshots/<name>   snapshot manifests
//! <root>/index/<name>       index files
//! <root>/data/<ab>/<name>   packs, in sub-folders by the first two characters
//! <root>/locks/<name>       locks of running operations
//! <root>/tmp/<pid>-<host>-<random>.tmp   in-flight writes; never objects
//! ```
//! The paths come from [`ObjectKind::path`], so they match the repository
//! format spec. Pack sub-folders are created when the first pack needs them.
//!
//! # How a put stays atomic and durable
//! 1. The bytes go to a fresh temp file (`O_EXCL`, mode 0444), are
//!    written in full and `fsync`ed. Until this is done no object name refers
//!    to them, so a crash leaves only a temp file.
//! 2. Missing parent folders are created, each followed by an `fsync` of *its*
//!    parent, so the folder we are about to rename into survives a crash too.
//! 3. The temp file is moved to its final name with
//!    `renameat2(RENAME_NOREPLACE)` (or `link`+`unlink` where the filesystem
//!    lacks the flag). The kernel refuses if the name exists, so two writers —
//!    threads or processes — racing for one name can never replace each other:
//!    exactly one wins, the other gets [`StoreError::AlreadyExists`].
//! 4. The target folder is `fsync`ed: only now is the *name* durable (ext4 and
//!    XFS may otherwise lose a rename done just before a power cut). Then
//!    `put` returns `Ok`.
//!
//! After a crash at any step an object is therefore absent or complete, never
//! partial. If `put` fails before step 3 the temp file is removed; if it fails
//! at step 4 the complete object stays in place (removing it could race with a
//! concurrent writer who was just told it exists) and the error is returned.
//! Temp files a killed process left behind are not objects (listings skip
//! them) and [`LocalStore::clean_temp`] removes them.
//!
//! # Temp file names
//! A temp file is named `<pid>-<host>-<random>.tmp`: the writing process's
//! id, a hash of this machine's host name, and 128 random bits. So a later
//! run on the same host can tell a leftover of a killed process (its pid no
//! longer runs) from a file being written right now, and remove it at once
//! instead of waiting for it to age. That is the rule stale repository locks
//! follow too; files of other hosts (a repository on a shared folder) are
//! judged by age only.
//!
//! # Full disks
//! `ENOSPC` and `EDQUOT` from any step become [`StoreError::NoSpace`] after the
//! temp file is removed, so a full disk never leaves a half-written object and
//! the space the failed write took is given back at once. Objects written
//! earlier are untouched.
//!
//! # Protection
//! An object is protected when the file carries the immutable (`chattr +i`) or
//! append-only (`chattr +a`) inode flag, or its folder does (an append-only
//! folder accepts new files but refuses every deletion — a cheap local WORM).
//! The kernel enforces these even against root, so `delete` fails with
//! `EPERM`, which is reported as [`StoreError::Protected`] with the reason.
//! Filesystems without inode flags (FAT, exFAT, many FUSE filesystems) answer
//! the `FS_IOC_GETFLAGS` ioctl with `ENOTTY`/`EOPNOTSUPP`; nothing on them can
//! carry such a flag, so [`Protection::None`] is the true answer there, not a
//! guess. Any other ioctl failure is an error.
//!
//! # Errors
//! Local failures are never transient (`transient: false`): retrying a
//! permission error or a broken disk does not help. `ENOENT` is
//! [`StoreError::NotFound`] when reading or deleting an object, but an I/O
//! error when writing (then it means the repository folder is missing).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hokan_repo::store::{ObjectInfo, ObjectKind, Protection, Store, StoreError};

use crate::{check_name, invalid_name, sys};

/// The folder for in-flight writes, relative to the root. On the same
/// filesystem as the objects, so moving a finished file into place is a
/// rename, never a copy.
pub const TEMP_DIR: &str = "tmp";

/// The suffix of temp files; object names never end in it.
pub const TEMP_SUFFIX: &str = ".tmp";

/// A repository in a local directory. See the [module docs](self) for the
/// layout and the crash semantics.
///
/// Any number of `LocalStore`s, in one process or many, may use the same
/// directory at once: puts never replace each other, and listings never see
/// partial objects.
#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
    description: String,
}

/// What [`LocalStore::clean_temp`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanTempStats {
    /// Temp files removed.
    pub removed: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Temp files kept because they were younger than the limit (probably
    /// being written right now).
    pub kept: u64,
}

/// Why a put failed before its object got a name.
enum PutFailure {
    /// The name is taken (the no-replace move refused).
    Exists,
    /// Anything else.
    Io(io::Error),
}

impl From<io::Error> for PutFailure {
    fn from(e: io::Error) -> Self {
        PutFailure::Io(e)
    }
}

impl LocalStore {
    /// A store rooted at `root`. Touches nothing: call [`Store::create`] for a
    /// new repository.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let description = format!("local:{}", root.display());
        LocalStore { root, description }
    }

    /// The repository's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Remove leftover temp files from the temp folder: those of processes
    /// of this host that no longer run, at any age, and any older than
    /// `older_than` (by modification time).
    ///
    /// Temp files are left behind only when a process dies mid-put (kill -9,
    /// power loss); they are never objects, so removing them loses nothing.
    /// A file whose process still runs, and a younger file of another host
    /// (or with a name from before names carried a pid), may belong to a put
    /// running right now, so it is kept: pass a limit well above the longest
    /// single put on a slow disk (an hour is plenty). The binary calls this
    /// before a backup and a prune.
    pub fn clean_temp(&self, older_than: Duration) -> Result<CleanTempStats, StoreError> {
        let dir = self.root.join(TEMP_DIR);
        let mut stats = CleanTempStats::default();
        let fail = |name: &str, e: io::Error| StoreError::Io {
            op: "remove leftover temp file of",
            kind: ObjectKind::Pack,
            name: name.to_string(),
            store: self.description.clone(),
            source: e,
            transient: false,
        };
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(stats),
            Err(e) => return Err(fail("", e)),
        };
        let now = SystemTime::now();
        for entry in entries {
            let entry = entry.map_err(|e| fail("", e))?;
            let file_name = entry.file_name();
            let name = file_name.to_string_lossy();
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if !is_file || !name.ends_with(TEMP_SUFFIX) {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(fail(&name, e)),
            };
            // A modification time in the future (clock jumps) counts as new.
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .unwrap_or(Duration::ZERO);
            if age < older_than && !left_by_dead_process(&name) {
                stats.kept += 1;
                continue;
            }
            match fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::debug!(file = %name, bytes = meta.len(), "removed leftover temp file");
                    stats.removed += 1;
                    stats.bytes += meta.len();
                }
                // Another process cleaned it first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(&name, e)),
            }
        }
        if stats.removed > 0 {
            sys::fsync_dir(&dir).map_err(|e| fail("", e))?;
        }
        Ok(stats)
    }

    /// Check the name and return the object's path.
    fn object_path(
        &self,
        op: &'static str,
        kind: ObjectKind,
        name: &str,
    ) -> Result<PathBuf, StoreError> {
        check_name(kind, name)
            .map_err(|why| invalid_name(op, kind, name, self.description.clone(), why))?;
        Ok(self.root.join(kind.path(name)))
    }

    /// Map an error while reading, deleting or inspecting an existing object:
    /// a missing file means a missing object.
    fn read_err(&self, op: &'static str, kind: ObjectKind, name: &str, e: io::Error) -> StoreError {
        if e.kind() == io::ErrorKind::NotFound {
            StoreError::NotFound {
                kind,
                name: name.to_string(),
                store: self.description.clone(),
            }
        } else {
            self.write_err(op, kind, name, e)
        }
    }

    /// Map an error while writing or listing: a full disk is
    /// [`StoreError::NoSpace`], everything else an I/O error.
    fn write_err(
        &self,
        op: &'static str,
        kind: ObjectKind,
        name: &str,
        e: io::Error,
    ) -> StoreError {
        match e.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => StoreError::NoSpace {
                kind,
                name: name.to_string(),
                store: self.description.clone(),
            },
            _ => StoreError::Io {
                op,
                kind,
                name: name.to_string(),
                store: self.description.clone(),
                source: e,
                transient: false,
            },
        }
    }

    fn already_exists(&self, kind: ObjectKind, name: &str) -> StoreError {
        StoreError::AlreadyExists {
            kind,
            name: name.to_string(),
            store: self.description.clone(),
        }
    }

    /// Make sure `dir` (inside the root) exists, creating missing folders
    /// below the root and syncing each new folder's parent, so a file renamed
    /// into `dir` cannot be lost because `dir` itself was.
    ///
    /// Never creates the root: a missing root means a wrong path or a disk
    /// that is not mounted, and quietly writing into a fresh folder on the
    /// system disk would hide that.
    fn ensure_dir(&self, dir: &Path) -> io::Result<()> {
        if dir == self.root || !dir.starts_with(&self.root) {
            return fs::metadata(dir).map(|_| ());
        }
        let parent = dir.parent().unwrap_or(&self.root);
        match fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.ensure_dir(parent)?;
                match fs::create_dir(dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        sys::fsync_dir(parent)
    }

    /// Create a new, empty temp file with a random name.
    fn create_temp(&self) -> io::Result<(PathBuf, File)> {
        let dir = self.root.join(TEMP_DIR);
        let mut last = None;
        for attempt in 0..8 {
            let path = dir.join(format!(
                "{}-{}-{:032x}{TEMP_SUFFIX}",
                std::process::id(),
                host_tag(),
                rand::random::<u128>()
            ));
            // Mode 0444: finished objects are read-only, so a stray `>` from
            // an administrator's shell cannot truncate one.
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .open(&path)
            {
                Ok(file) => return Ok((path, file)),
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt == 0 => {
                    self.ensure_dir(&dir)?;
                    last = Some(e);
                }
                // 128 random bits colliding: only if the RNG is broken.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("could not create a temp file")))
    }

    /// Steps 1–3 of a put (see the module docs).
    fn write_and_place(
        &self,
        mut file: File,
        temp: &Path,
        target: &Path,
        data: &[u8],
    ) -> Result<(), PutFailure> {
        file.write_all(data)?;
        // sync_all rather than sync_data: the size must be durable too, and
        // on a fresh file the two cost the same.
        file.sync_all()?;
        drop(file);
        self.ensure_dir(target.parent().unwrap_or(&self.root))?;
        match sys::rename_noreplace(temp, target) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Err(PutFailure::Exists),
            other => Ok(other?),
        }
    }

    /// Why deleting `path` is refused by an inode flag, if it is.
    fn protected_why(&self, path: &Path) -> io::Result<Option<String>> {
        if let Some(why) = sys::inode_flags(path)?.and_then(sys::flags_protection) {
            return Ok(Some(format!("{why} on the file")));
        }
        let Some(parent) = path.parent() else {
            return Ok(None);
        };
        Ok(sys::inode_flags(parent)?
            .and_then(sys::flags_protection)
            .map(|why| format!("{why} on its folder {}", parent.display())))
    }

    /// Append the objects of `kind` found directly in `dir` to `out`.
    fn list_dir(
        &self,
        kind: ObjectKind,
        dir: &Path,
        out: &mut Vec<ObjectInfo>,
    ) -> Result<(), StoreError> {
        let fail = |e| self.write_err("list", kind, "", e);
        for entry in fs::read_dir(dir).map_err(fail)? {
            let entry = entry.map_err(fail)?;
            // file_type() does not follow symlinks: a symlink is not an object.
            if !entry.file_type().map_err(fail)?.is_file() {
                continue;
            }
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str() else {
                continue;
            };
            // Temp files, dot files, editor backups and files in the wrong
            // pack folder are not objects: `get` could not find them by name.
            if check_name(kind, name).is_err() || entry.path() != self.root.join(kind.path(name)) {
                tracing::debug!(file = %entry.path().display(), "not an object, not listed");
                continue;
            }
            match entry.metadata() {
                Ok(meta) => out.push(ObjectInfo {
                    name: name.to_string(),
                    size: meta.len(),
                }),
                // Deleted between readdir and stat.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(e)),
            }
        }
        Ok(())
    }
}

impl Store for LocalStore {
    fn describe(&self) -> String {
        self.description.clone()
    }

    /// Create the root (and its parents) and the kind folders; fails with
    /// [`StoreError::AlreadyExists`] if a config is already there. Existing
    /// folders are fine, so a half-finished `create` can be run again.
    fn create(&self) -> Result<(), StoreError> {
        let fail = |kind, e| self.write_err("create the folder for", kind, "", e);
        let root_existed = self.root.is_dir();
        fs::create_dir_all(&self.root).map_err(|e| fail(ObjectKind::Config, e))?;
        match fs::symlink_metadata(self.root.join(ObjectKind::Config.path("config"))) {
            Ok(_) => return Err(self.already_exists(ObjectKind::Config, "config")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(ObjectKind::Config, e)),
        }
        let folders = [
            (ObjectKind::Key.dir(), ObjectKind::Key),
            (ObjectKind::Snapshot.dir(), ObjectKind::Snapshot),
            (ObjectKind::Index.dir(), ObjectKind::Index),
            (ObjectKind::Pack.dir(), ObjectKind::Pack),
            (ObjectKind::Lock.dir(), ObjectKind::Lock),
            (TEMP_DIR, ObjectKind::Pack),
        ];
        for (dir, kind) in folders {
            match fs::create_dir(self.root.join(dir)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(fail(kind, e)),
            }
        }
        sys::fsync_dir(&self.root).map_err(|e| fail(ObjectKind::Config, e))?;
        if !root_existed {
            if let Some(parent) = self.root.parent().filter(|p| !p.as_os_str().is_empty()) {
                sys::fsync_dir(parent).map_err(|e| fail(ObjectKind::Config, e))?;
            }
        }
        Ok(())
    }

    fn put(&self, kind: ObjectKind, name: &str, data: &[u8]) -> Result<(), StoreError> {
        const OP: &str = "write";
        let target = self.object_path(OP, kind, name)?;
        // Cheap early refusal, so a duplicate 100 MiB pack is not written
        // first; the no-replace move below is what actually guarantees it.
        match fs::symlink_metadata(&target) {
            Ok(_) => return Err(self.already_exists(kind, name)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.write_err(OP, kind, name, e)),
        }
        let (temp, file) = self
            .create_temp()
            .map_err(|e| self.write_err(OP, kind, name, e))?;
        if let Err(failure) = self.write_and_place(file, &temp, &target, data) {
            if let Err(e) = fs::remove_file(&temp) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(file = %temp.display(), error = %e,
                        "could not remove the temp file of a failed write");
                }
            }
            return Err(match failure {
                PutFailure::Exists => self.already_exists(kind, name),
                PutFailure::Io(e) => self.write_err(OP, kind, name, e),
            });
        }
        sys::fsync_dir(target.parent().unwrap_or(&self.root))
            .map_err(|e| self.write_err(OP, kind, name, e))
    }

    fn get(&self, kind: ObjectKind, name: &str) -> Result<Vec<u8>, StoreError> {
        const OP: &str = "read";
        let path = self.object_path(OP, kind, name)?;
        let fail = |e| self.read_err(OP, kind, name, e);
        let mut file = File::open(&path).map_err(fail)?;
        let size = file.metadata().map_err(fail)?.len();
        let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.read_to_end(&mut data).map_err(fail)?;
        Ok(data)
    }

    fn get_range(
        &self,
        kind: ObjectKind,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        const OP: &str = "read";
        let path = self.object_path(OP, kind, name)?;
        let fail = |e| self.read_err(OP, kind, name, e);
        let file = File::open(&path).map_err(fail)?;
        let size = file.metadata().map_err(fail)?.len();
        // Allocate what the file can give, not what was asked for: a caller
        // asking for u64::MAX bytes means "to the end".
        let want = offset.saturating_add(len).min(size).saturating_sub(offset);
        let mut data = vec![0; usize::try_from(want).unwrap_or(usize::MAX)];
        let mut done = 0;
        while done < data.len() {
            match file.read_at(&mut data[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(fail(e)),
            }
        }
        data.truncate(done);
        Ok(data)
    }

    fn list(&self, kind: ObjectKind) -> Result<Vec<ObjectInfo>, StoreError> {
        let mut out = Vec::new();
        match kind {
            ObjectKind::Config => match fs::symlink_metadata(self.root.join(kind.path("config"))) {
                Ok(meta) if meta.is_file() => out.push(ObjectInfo {
                    name: "config".to_string(),
                    size: meta.len(),
                }),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.write_err("list", kind, "", e)),
            },
            ObjectKind::Pack => {
                let data = self.root.join(kind.dir());
                let fail = |e| self.write_err("list", kind, "", e);
                for entry in fs::read_dir(&data).map_err(fail)? {
                    let entry = entry.map_err(fail)?;
                    if entry.file_type().map_err(fail)?.is_dir() {
                        self.list_dir(kind, &entry.path(), &mut out)?;
                    }
                }
            }
            _ => self.list_dir(kind, &self.root.join(kind.dir()), &mut out)?,
        }
        Ok(out)
    }

    fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
        const OP: &str = "delete";
        let path = self.object_path(OP, kind, name)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                return Err(match self.protected_why(&path) {
                    Ok(Some(why)) => StoreError::Protected {
                        kind,
                        name: name.to_string(),
                        store: self.description.clone(),
                        why,
                    },
                    _ => self.read_err(OP, kind, name, e),
                });
            }
            Err(e) => return Err(self.read_err(OP, kind, name, e)),
        }
        // Make the removal durable, so a deleted lock does not come back
        // after a power cut.
        sys::fsync_dir(path.parent().unwrap_or(&self.root))
            .map_err(|e| self.write_err(OP, kind, name, e))
    }

    fn protection(&self, kind: ObjectKind, name: &str) -> Result<Protection, StoreError> {
        const OP: &str = "check the protection of";
        let path = self.object_path(OP, kind, name)?;
        match self.protected_why(&path) {
            Ok(Some(_)) => Ok(Protection::Indefinite),
            Ok(None) => Ok(Protection::None),
            Err(e) => Err(self.read_err(OP, kind, name, e)),
        }
    }
}

/// This host's tag in temp file names (`<pid>-<host>-<random>.tmp`): a
/// 64-bit FNV-1a hash of the host name, in hex (host names may hold
/// characters file names should not). Public for tools and tests that
/// recognise temp files.
pub fn host_tag() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer and its length match; gethostname writes at most
    // that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        &buf[..end]
    } else {
        &b"unknown"[..]
    };
    let hash = name.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Whether a temp file's name (`<pid>-<host>-<random>.tmp`) says it was
/// written on this host by a process that no longer runs. Anything else
/// (another host, an older name, a live or unknown process) is `false`: the
/// file may be in use, and only its age can tell.
fn left_by_dead_process(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(TEMP_SUFFIX) else {
        return false;
    };
    let mut parts = stem.splitn(3, '-');
    let (Some(pid), Some(host), Some(_random)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<libc::pid_t>() else {
        return false;
    };
    if pid <= 0 || host != host_tag() || pid as u32 == std::process::id() {
        return false;
    }
    // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}
