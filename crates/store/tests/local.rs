//! LocalStore behaviour the conformance suite cannot show on every store:
//! temp files, permissions, a really full disk, inode-flag protection.
//!
//! Tests that need root (mounting a tmpfs, setting inode flags) print a loud
//! `SKIPPED` line and pass when run as another user.

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use hokan_repo::store::{ObjectInfo, ObjectKind, Protection, Store, StoreError};
use hokan_store::conformance::{id, pattern};
use hokan_store::local::TEMP_DIR;
use hokan_store::LocalStore;

const FS_IMMUTABLE_FL: libc::c_int = 0x10;
const FS_APPEND_FL: libc::c_int = 0x20;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn skipped(test: &str, why: &str) {
    eprintln!("\n*** {test}: SKIPPED ({why}) ***\n");
}

fn new_store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("repo"));
    store.create().unwrap();
    (dir, store)
}

fn temp_files(store: &LocalStore) -> Vec<PathBuf> {
    fs::read_dir(store.root().join(TEMP_DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// Set and clear inode flags, like `chattr`.
fn change_flags(path: &Path, set: libc::c_int, clear: libc::c_int) -> io::Result<()> {
    let file = File::open(path)?;
    let mut flags: libc::c_int = 0;
    // SAFETY: valid fd and a valid int to read into / from.
    if unsafe { libc::ioctl(file.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    flags = (flags | set) & !clear;
    // SAFETY: as above.
    if unsafe { libc::ioctl(file.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Clears the flags it set when dropped, also when the test panics, so the
/// temp dir can be removed.
struct FlagGuard {
    path: PathBuf,
    flags: libc::c_int,
}

impl FlagGuard {
    /// Set `flags` on `path`; `None` if the filesystem has no inode flags.
    fn set(path: &Path, flags: libc::c_int) -> Option<FlagGuard> {
        match change_flags(path, flags, 0) {
            Ok(()) => Some(FlagGuard {
                path: path.to_path_buf(),
                flags,
            }),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTTY | libc::EOPNOTSUPP)) => None,
            Err(e) => panic!("setting inode flags on {}: {e}", path.display()),
        }
    }
}

impl Drop for FlagGuard {
    fn drop(&mut self) {
        if let Err(e) = change_flags(&self.path, 0, self.flags) {
            eprintln!(
                "could not clear inode flags on {}: {e}",
                self.path.display()
            );
        }
    }
}

/// A mounted tmpfs, unmounted when dropped (also on panic).
struct TmpfsMount {
    dir: PathBuf,
}

impl TmpfsMount {
    fn mount(dir: &Path, size: &str) -> io::Result<TmpfsMount> {
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        Ok(TmpfsMount {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Busy (a file still open): detach it so it goes away when freed.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

#[test]
fn describe_names_the_root() {
    let store = LocalStore::new("/srv/hokan/repo");
    assert_eq!(store.describe(), "local:/srv/hokan/repo");
}

#[test]
fn leftover_temp_files_are_not_listed_and_cleaned_when_old() {
    let (_dir, store) = new_store();
    let leftover = store.root().join(TEMP_DIR).join("0123abcd.tmp");
    fs::write(&leftover, vec![7u8; 1234]).unwrap();
    // Debris that is not an object anywhere else either.
    fs::write(store.root().join("keys/abc.tmp"), b"x").unwrap();
    fs::write(store.root().join("snapshots/.hidden"), b"x").unwrap();
    fs::create_dir(store.root().join("keys/somedir")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", store.root().join("index/abcd")).unwrap();
    fs::create_dir_all(store.root().join("data/ab")).unwrap();
    fs::write(
        store.root().join("data/ab/cd1234"),
        b"pack in the wrong folder",
    )
    .unwrap();
    for kind in ObjectKind::ALL {
        assert_eq!(
            store.list(kind).unwrap(),
            vec![],
            "{kind} must list nothing"
        );
    }

    let stats = store.clean_temp(Duration::from_secs(3600)).unwrap();
    assert_eq!(
        (stats.removed, stats.kept),
        (0, 1),
        "a fresh temp file may be in use"
    );
    assert!(leftover.exists());

    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    File::options()
        .write(true)
        .open(&leftover)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let stats = store.clean_temp(Duration::from_secs(3600)).unwrap();
    assert_eq!((stats.removed, stats.bytes, stats.kept), (1, 1234, 0));
    assert!(!leftover.exists());
    assert!(
        store.root().join("keys/abc.tmp").exists(),
        "only the temp folder is cleaned"
    );
}

#[test]
fn clean_temp_without_temp_folder_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    assert_eq!(store.clean_temp(Duration::ZERO).unwrap().removed, 0);
}

#[test]
fn objects_are_read_only_files() {
    let (_dir, store) = new_store();
    store.put(ObjectKind::Key, "abcd", b"key").unwrap();
    let mode = fs::metadata(store.root().join("keys/abcd"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444);
}

#[test]
fn put_without_repository_folder_is_io_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("not-mounted");
    let store = LocalStore::new(&root);
    match store.put(ObjectKind::Snapshot, "abcd", b"x") {
        Err(StoreError::Io {
            kind, name, source, ..
        }) => {
            assert_eq!((kind, name.as_str()), (ObjectKind::Snapshot, "abcd"));
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("want an Io error for a missing root, got {other:?}"),
    }
    assert!(!root.exists(), "put must never create the repository root");
}

#[test]
fn missing_pack_folders_are_created_on_demand() {
    let (_dir, store) = new_store();
    fs::remove_dir(store.root().join(TEMP_DIR)).unwrap();
    store.put(ObjectKind::Pack, "ee01", b"pack").unwrap();
    assert!(store.root().join("data/ee/ee01").is_file());
    assert_eq!(store.get(ObjectKind::Pack, "ee01").unwrap(), b"pack");
}

#[test]
fn put_into_read_only_folder_is_io_error_naming_the_object() {
    let (_dir, store) = new_store();
    let keys = store.root().join("keys");
    // Root ignores permission bits, but not the immutable flag.
    let _guard;
    if is_root() {
        match FlagGuard::set(&keys, FS_IMMUTABLE_FL) {
            Some(g) => _guard = g,
            None => return skipped("read-only folder", "filesystem has no inode flags"),
        }
    } else {
        fs::set_permissions(&keys, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let err = store.put(ObjectKind::Key, "abcd", b"key").unwrap_err();
    let text = err.to_string();
    match &err {
        StoreError::Io {
            kind,
            name,
            store: s,
            transient,
            ..
        } => {
            assert_eq!((*kind, name.as_str()), (ObjectKind::Key, "abcd"));
            assert_eq!(s, &store.describe());
            assert!(!transient, "a local permission error is permanent");
        }
        other => panic!("want Io, got {other:?}"),
    }
    assert!(
        text.contains("abcd") && text.contains(&store.describe()),
        "{text}"
    );
    assert_eq!(
        temp_files(&store),
        Vec::<PathBuf>::new(),
        "temp file left behind"
    );
    if !is_root() {
        fs::set_permissions(&keys, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn full_disk_is_no_space_and_leaves_earlier_objects_intact() {
    if !is_root() {
        return skipped("full disk", "needs root for tmpfs mount");
    }
    let dir = tempfile::tempdir().unwrap();
    let mount = match TmpfsMount::mount(dir.path(), "2m") {
        Ok(m) => m,
        Err(e) => return skipped("full disk", &format!("tmpfs mount failed: {e}")),
    };
    let store = LocalStore::new(dir.path().join("repo"));
    store.create().unwrap();

    let mut written: Vec<(String, Vec<u8>)> = Vec::new();
    let mut refused = None;
    for i in 0..100u64 {
        let name = id(i);
        let data = pattern(i, 100 * 1024 + i as usize * 13);
        match store.put(ObjectKind::Pack, &name, &data) {
            Ok(()) => written.push((name, data)),
            Err(StoreError::NoSpace {
                kind,
                name: n,
                store: s,
            }) => {
                assert_eq!((kind, &n, &s), (ObjectKind::Pack, &name, &store.describe()));
                refused = Some(name);
                break;
            }
            Err(e) => panic!("put {i} on a filling disk: want NoSpace, got {e:?}"),
        }
    }
    let refused = refused.expect("a 2 MiB tmpfs never filled up");
    assert!(
        written.len() >= 5,
        "only {} objects fit in 2 MiB",
        written.len()
    );

    assert_eq!(
        temp_files(&store),
        Vec::<PathBuf>::new(),
        "temp file left behind"
    );
    assert!(store
        .get(ObjectKind::Pack, &refused)
        .unwrap_err()
        .is_not_found());
    let mut listed = store.list(ObjectKind::Pack).unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let mut want: Vec<ObjectInfo> = written
        .iter()
        .map(|(name, data)| ObjectInfo {
            name: name.clone(),
            size: data.len() as u64,
        })
        .collect();
    want.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed, want, "exactly the successful puts are listed");
    for (name, data) in &written {
        assert_eq!(&store.get(ObjectKind::Pack, name).unwrap(), data, "{name}");
    }

    // The failed put gave its space back: after deleting one object, the
    // refused one fits.
    store.delete(ObjectKind::Pack, &written[0].0).unwrap();
    let data = pattern(999, 100 * 1024);
    store.put(ObjectKind::Pack, &refused, &data).unwrap();
    assert_eq!(store.get(ObjectKind::Pack, &refused).unwrap(), data);

    drop(store);
    drop(mount);
}

#[test]
fn immutable_object_is_protected() {
    if !is_root() {
        return skipped("immutable flag", "needs root for chattr +i");
    }
    let (_dir, store) = new_store();
    let (kind, name) = (ObjectKind::Snapshot, "abcdef");
    store.put(kind, name, b"manifest").unwrap();
    assert_eq!(store.protection(kind, name).unwrap(), Protection::None);

    let path = store.root().join(kind.path(name));
    let Some(guard) = FlagGuard::set(&path, FS_IMMUTABLE_FL) else {
        return skipped("immutable flag", "filesystem has no inode flags");
    };
    assert_eq!(
        store.protection(kind, name).unwrap(),
        Protection::Indefinite
    );
    match store.delete(kind, name) {
        Err(StoreError::Protected {
            kind: k,
            name: n,
            why,
            ..
        }) => {
            assert_eq!((k, n.as_str()), (kind, name));
            assert!(why.contains("immutable"), "{why}");
        }
        other => panic!("delete of an immutable object: want Protected, got {other:?}"),
    }
    assert_eq!(store.get(kind, name).unwrap(), b"manifest");
    assert!(matches!(
        store.put(kind, name, b"other"),
        Err(StoreError::AlreadyExists { .. })
    ));

    drop(guard);
    assert_eq!(store.protection(kind, name).unwrap(), Protection::None);
    store.delete(kind, name).unwrap();
}

#[test]
fn append_only_folder_accepts_new_objects_but_refuses_deletion() {
    if !is_root() {
        return skipped("append-only folder", "needs root for chattr +a");
    }
    let (_dir, store) = new_store();
    let kind = ObjectKind::Snapshot;
    store.put(kind, "0001", b"first").unwrap();
    let Some(guard) = FlagGuard::set(&store.root().join("snapshots"), FS_APPEND_FL) else {
        return skipped("append-only folder", "filesystem has no inode flags");
    };
    store.put(kind, "0002", b"second").unwrap();
    for name in ["0001", "0002"] {
        assert_eq!(
            store.protection(kind, name).unwrap(),
            Protection::Indefinite
        );
        match store.delete(kind, name) {
            Err(StoreError::Protected { why, .. }) => {
                assert!(
                    why.contains("append-only") && why.contains("folder"),
                    "{why}"
                )
            }
            other => panic!("delete in an append-only folder: want Protected, got {other:?}"),
        }
    }
    drop(guard);
    store.delete(kind, "0001").unwrap();
}

#[test]
fn listing_a_missing_kind_folder_is_an_error_not_an_empty_list() {
    // An empty list would tell prune "no snapshots" on a damaged repository.
    let (_dir, store) = new_store();
    fs::remove_dir(store.root().join("snapshots")).unwrap();
    match store.list(ObjectKind::Snapshot) {
        Err(StoreError::Io { kind, source, .. }) => {
            assert_eq!(kind, ObjectKind::Snapshot);
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("want Io(NotFound), got {other:?}"),
    }
}

/// The pid of a process that has ended (and been reaped).
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn temp_files_of_dead_processes_on_this_host_are_cleaned_at_once() {
    let (_dir, store) = new_store();
    let tmp = store.root().join(TEMP_DIR);
    let me = hokan_store::local::host_tag();
    let name = |pid: u32, host: &str| format!("{pid}-{host}-{:032x}.tmp", 0xabcdu128);
    let dead = tmp.join(name(dead_pid(), &me));
    // pid 1 always runs; this process is writing its own.
    let live = tmp.join(name(1, &me));
    let own = tmp.join(name(std::process::id(), &me));
    let other_host = tmp.join(name(dead_pid(), "00000000deadbeef"));
    let old_style = tmp.join(format!("{:032x}.tmp", 0x1234u128));
    for f in [&dead, &live, &own, &other_host, &old_style] {
        fs::write(f, b"half a pack").unwrap();
    }
    let stats = store.clean_temp(Duration::from_secs(3600)).unwrap();
    assert_eq!((stats.removed, stats.kept), (1, 4));
    assert!(!dead.exists(), "a killed process's file goes at once");
    for f in [&live, &own, &other_host, &old_style] {
        assert!(f.exists(), "may be in use: {}", f.display());
    }
    // Age still clears the rest.
    assert_eq!(store.clean_temp(Duration::ZERO).unwrap().removed, 4);
    assert!(fs::read_dir(&tmp).unwrap().next().is_none());
}
