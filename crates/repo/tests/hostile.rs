//! A hostile repository key holder: snapshots whose names would lead a
//! restore outside its target are refused when their trees are read
//! (restore writes nothing, verify calls the snapshot damaged and names it),
//! and restore never follows a symlink already in the target.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hokan_format::escape_name;
use hokan_repo::testing::{craft_hostile, HOSTILE};
use hokan_repo::{
    BackupOptions, InitOptions, KdfStrength, NoProgress, RepoError, Repository, RestoreOptions,
    Store,
};
use hokan_store::MemStore;

fn repo() -> Repository {
    let store: Arc<dyn Store> = Arc::new(MemStore::new());
    Repository::init(
        store,
        b"pw",
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Every path under `root`, symlinks not followed, with what it is.
fn tree(root: &Path) -> BTreeSet<(PathBuf, String)> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = fs::symlink_metadata(&p).unwrap();
            let what = if md.is_symlink() {
                format!("-> {}", fs::read_link(&p).unwrap().display())
            } else if md.is_dir() {
                todo.push(p.clone());
                "dir".into()
            } else {
                format!("{} bytes", md.len())
            };
            out.insert((p, what));
        }
    }
    out
}

/// A temp root with a deep target (x/y/z/target) and an `outside` folder.
fn place() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("x/y/z/target");
    let outside = t.path().join("outside");
    fs::create_dir_all(&target).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("passwd"), "root:x:0:0\n").unwrap();
    (t, target, outside)
}

#[test]
fn every_hostile_snapshot_is_refused_by_restore_and_damaged_in_verify() {
    let r = repo();
    let (t, target, outside) = place();
    let mut made = Vec::new();
    for case in HOSTILE {
        made.push((*case, craft_hostile(&r, case, &outside).unwrap()));
    }
    let before = tree(t.path());
    for (case, (id, bad)) in &made {
        let e = r
            .restore(
                id,
                &RestoreOptions {
                    target: target.clone(),
                    ..Default::default()
                },
                &NoProgress,
            )
            .expect_err(case);
        let msg = e.to_string();
        assert!(
            matches!(&e, RepoError::UnsafeName { snapshot: Some(s), .. } if s == id),
            "{case}: {msg}"
        );
        assert!(
            msg.contains(&id.to_hex()),
            "{case}: names the snapshot: {msg}"
        );
        assert!(
            msg.contains(&escape_name(bad)),
            "{case}: names {}: {msg}",
            escape_name(bad)
        );
        assert_eq!(tree(t.path()), before, "{case}: nothing written anywhere");
    }
    for read_data in [false, true] {
        let rep = r.verify(read_data, &NoProgress).unwrap();
        assert!(!rep.ok());
        for (case, (id, bad)) in &made {
            let d = rep
                .damage
                .iter()
                .find(|d| d.object == format!("snapshot {id}"))
                .unwrap_or_else(|| panic!("{case}: verify names snapshot {id}: {:?}", rep.damage));
            assert!(d.detail.contains(&escape_name(bad)), "{case}: {}", d.detail);
            assert!(
                rep.affected.iter().any(|a| a.snapshot == id.short()),
                "{case}"
            );
        }
    }
    assert_eq!(tree(t.path()), before);
}

#[test]
fn a_tree_with_a_name_raw_that_is_not_hex_is_damaged() {
    let r = repo();
    let mut c = hokan_repo::testing::Crafter::new(&r);
    let root = c.tree_json(
        r#"{"nodes":[{"name":"ok","name_raw":"zz","type":"file","mode":420,"uid":0,"gid":0,"mtime_ns":0,"ctime_ns":0,"inode":0,"dev":0,"nlink":1}]}"#,
    );
    let id = c.snapshot(root, "hex").unwrap();
    let (t, target, _) = place();
    let before = tree(t.path());
    let e = r
        .restore(
            &id,
            &RestoreOptions {
                target,
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap_err();
    assert!(e.to_string().contains("name_raw"), "{e}");
    assert_eq!(tree(t.path()), before);
    assert!(!r.verify(false, &NoProgress).unwrap().ok());
}

/// Source: `a/f`, `a/b/g`, `top`, and a symlink `link` pointing outside.
fn backed_up(r: &Repository, root: &Path, outside: &Path) -> hokan_format::Id {
    let src = root.join("src");
    fs::create_dir_all(src.join("a/b")).unwrap();
    fs::write(src.join("a/f"), "file f\n").unwrap();
    fs::write(src.join("a/b/g"), "file g\n").unwrap();
    fs::write(src.join("top"), "top\n").unwrap();
    symlink(outside, src.join("link")).unwrap();
    let id = r
        .backup(
            &BackupOptions {
                source: "s".into(),
                paths: vec![src.clone()],
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap()
        .id;
    fs::remove_dir_all(&src).unwrap();
    id
}

fn restore(
    r: &Repository,
    id: &hokan_format::Id,
    target: &Path,
    overwrite: bool,
) -> hokan_repo::Result<hokan_repo::RestoreStats> {
    r.restore(
        id,
        &RestoreOptions {
            target: target.to_path_buf(),
            overwrite,
            ..Default::default()
        },
        &NoProgress,
    )
}

fn symlinks_in_target_are_never_followed() {
    let r = repo();
    let (t, target, outside) = place();
    let id = backed_up(&r, t.path(), &outside);

    // A symlink where the snapshot has a folder, one a level down, and one
    // where it has a file: each points outside.
    fs::create_dir_all(target.join("src/a")).unwrap();
    symlink(&outside, target.join("src/a/b")).unwrap();
    symlink(outside.join("passwd"), target.join("src/top")).unwrap();
    let before = tree(&outside);
    let e = restore(&r, &id, &target, false).unwrap_err();
    assert!(matches!(e, RepoError::WouldOverwrite { .. }), "{e}");
    assert_eq!(tree(&outside), before, "refused: nothing written outside");

    // Told to overwrite: the symlinks are replaced, never followed.
    let st = restore(&r, &id, &target, true).unwrap();
    assert!(st.errors.is_empty(), "{:?}", st.errors);
    assert_eq!(tree(&outside), before, "nothing written outside");
    assert_eq!(
        fs::read_to_string(outside.join("passwd")).unwrap(),
        "root:x:0:0\n"
    );
    assert!(fs::symlink_metadata(target.join("src/a/b"))
        .unwrap()
        .is_dir());
    assert_eq!(
        fs::read_to_string(target.join("src/a/b/g")).unwrap(),
        "file g\n"
    );
    assert!(fs::symlink_metadata(target.join("src/top"))
        .unwrap()
        .is_file());
    assert_eq!(fs::read_to_string(target.join("src/top")).unwrap(), "top\n");
    // The snapshot's own symlink is restored as a symlink, its text as data.
    assert_eq!(fs::read_link(target.join("src/link")).unwrap(), outside);

    // A symlink in place of a whole top-level folder of the snapshot.
    let target2 = t.path().join("x/y/z/target2");
    fs::create_dir_all(&target2).unwrap();
    symlink(&outside, target2.join("src")).unwrap();
    assert!(matches!(
        restore(&r, &id, &target2, false).unwrap_err(),
        RepoError::WouldOverwrite { .. }
    ));
    let st = restore(&r, &id, &target2, true).unwrap();
    assert!(st.errors.is_empty(), "{:?}", st.errors);
    assert_eq!(tree(&outside), before, "nothing written outside");
    assert_eq!(
        fs::read_to_string(target2.join("src/a/f")).unwrap(),
        "file f\n"
    );
}

#[test]
fn symlinks_in_the_target_are_not_followed_with_openat2() {
    symlinks_in_target_are_never_followed();
}

#[test]
fn symlinks_in_the_target_are_not_followed_walking_one_folder_at_a_time() {
    hokan_repo::confine::use_openat2(false);
    symlinks_in_target_are_never_followed();
    hokan_repo::confine::use_openat2(true);
}

#[test]
fn open_beneath_refuses_a_symlink_at_any_step_either_way() {
    use hokan_repo::confine::{open_dir_beneath, open_root};
    use std::os::fd::AsFd;
    let (t, target, outside) = place();
    fs::create_dir_all(target.join("a/b")).unwrap();
    symlink(&outside, target.join("a/l")).unwrap();
    symlink(&outside, target.join("l")).unwrap();
    let root = open_root(&target).unwrap();
    for on in [true, false] {
        hokan_repo::confine::use_openat2(on);
        assert!(open_dir_beneath(root.as_fd(), Path::new("a/b")).is_ok());
        for bad in [
            "a/l",
            "l",
            "l/x",
            "a/l/passwd",
            "a/../..",
            "../outside",
            "/etc",
        ] {
            assert!(
                open_dir_beneath(root.as_fd(), Path::new(bad)).is_err(),
                "{bad} (openat2 {on})"
            );
        }
    }
    hokan_repo::confine::use_openat2(true);
    drop(t);
}

/// A key holder rewrites the index through the documented format (an index
/// file sealed with the repository's key) so that patient A's blob points
/// at patient B's bytes in the same pack, and deletes the real index files.
/// The in-memory index takes the location as written, so restore must not
/// trust it: A's file is not written with B's record, it is listed as
/// failed, B's file is restored whole, and verify names the damage.
#[test]
fn an_index_pointing_a_blob_at_another_blobs_bytes_does_not_restore_the_wrong_record() {
    use hokan_format::{IndexFile, IndexPack};
    use hokan_repo::crypto::{aad, object_name};
    use hokan_repo::store::ObjectKind;
    use hokan_repo::ParentChoice;

    let repo = repo();
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("ward");
    fs::create_dir_all(&src).unwrap();
    let record_a = "patient A: allergic to penicillin\n".repeat(40);
    let record_b = "patient B: no known allergies\n".repeat(40);
    fs::write(src.join("a.txt"), &record_a).unwrap();
    fs::write(src.join("b.txt"), &record_b).unwrap();
    let snap = repo
        .backup(
            &BackupOptions {
                source: "ward".into(),
                paths: vec![src.clone()],
                parent: ParentChoice::None,
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
    let (id_a, id_b) = (
        repo.key().blob_id(record_a.as_bytes()),
        repo.key().blob_id(record_b.as_bytes()),
    );

    let store = repo.store().clone();
    let mut lying = IndexFile::default();
    for (pack, mut entries) in repo.index().by_pack() {
        let b = entries.iter().find(|e| e.id == id_b).cloned();
        if let (Some(b), Some(a)) = (b, entries.iter_mut().find(|e| e.id == id_a)) {
            (a.offset, a.length, a.raw_length) = (b.offset, b.length, b.raw_length);
        }
        lying.packs.push(IndexPack { pack, entries });
    }
    for f in store.list(ObjectKind::Index).unwrap() {
        store.delete(ObjectKind::Index, &f.name).unwrap();
    }
    let sealed = repo.key().seal_compressed(&lying.encode(), 3, aad::INDEX);
    store
        .put(ObjectKind::Index, &object_name(&sealed).to_hex(), &sealed)
        .unwrap();

    let opened = Repository::open(store, b"pw").unwrap();
    let loc = |id| opened.index().get(&id).map(|l| (l.pack, l.offset));
    assert_eq!(loc(id_a), loc(id_b), "the lie was taken into the index");

    let out = t.path().join("out");
    let st = opened
        .restore(
            &snap.id,
            &RestoreOptions {
                target: out.clone(),
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
    let restored = out.join("ward");
    assert_eq!(
        fs::read_to_string(restored.join("b.txt")).unwrap(),
        record_b
    );
    assert_ne!(
        fs::read_to_string(restored.join("a.txt")).ok().as_deref(),
        Some(record_b.as_str()),
        "patient B's record written as patient A's"
    );
    assert!(
        st.errors.iter().any(|(path, _)| path.ends_with("a.txt")),
        "{:?}",
        st.errors
    );
    let report = opened.verify(true, &NoProgress).unwrap();
    assert!(!report.ok(), "verify --read-data must see it: {report:?}");
}
