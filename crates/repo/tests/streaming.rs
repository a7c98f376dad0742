//! A backup holds in memory only the directories on the scan's path and
//! those with a file still being read: what it holds follows the tree's
//! depth and width, not the number of files. Trees are written as their
//! directories complete, in whatever order the readers finish, and still
//! come out the same for the same files.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use hokan_repo::{
    BackupOptions, InitOptions, KdfStrength, NoProgress, ParentChoice, Repository, RestoreOptions,
};
use hokan_store::MemStore;

const DIRS: usize = 40;
const PER_DIR: usize = 250;

/// DIRS folders of PER_DIR small distinct files, two levels deep.
fn tree(root: &Path) {
    for d in 0..DIRS {
        let dir = root.join(format!("y{}", d / 10)).join(format!("m{d:03}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..PER_DIR {
            let body = format!("MSH|^~\\&|LAB|{d}|{f}|\r{}\r", "OBX|".repeat(f % 40));
            fs::write(dir.join(format!("ORU{f:05}.hl7")), body).unwrap();
        }
    }
}

fn repo() -> Repository {
    Repository::init(
        Arc::new(MemStore::new()),
        b"pw",
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            ..Default::default()
        },
    )
    .unwrap()
}

fn opts(data: &Path, parent: ParentChoice) -> BackupOptions {
    BackupOptions {
        source: "lab".into(),
        paths: vec![data.to_path_buf()],
        parent,
        time: Some("2026-12-07T00:00:00Z".into()),
        ..Default::default()
    }
}

fn same_files(a: &Path, b: &Path) {
    let mut n = 0;
    for e in walk(a) {
        let rel = e.strip_prefix(a).unwrap();
        assert_eq!(
            fs::read(&e).unwrap(),
            fs::read(b.join(rel)).unwrap(),
            "{}",
            rel.display()
        );
        n += 1;
    }
    assert_eq!(n, walk(b).len());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_backup_holds_a_few_directories_not_every_file_and_restores_them_all() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    tree(&data);
    let repo = repo();
    let first = repo
        .backup(&opts(&data, ParentChoice::None), &NoProgress)
        .unwrap();
    let files = DIRS * PER_DIR;
    assert_eq!(first.snapshot.summary.files_new, files as u64);
    // Before, every file's entry was held until the end (10,000 here).
    // Now: the open folders of 250, plus what the readers' queue holds.
    assert!(
        first.peak_entries_held < files / 4,
        "held {} of {files} entries at once",
        first.peak_entries_held
    );
    let out = tmp.path().join("out");
    repo.restore(
        &first.id,
        &RestoreOptions {
            target: out.clone(),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    same_files(&data, &out.join("data"));

    // The night: nothing changed but one file; the parent's trees are read
    // folder by folder alongside.
    fs::write(data.join("y2/m021/ORU00007.hl7"), "changed").unwrap();
    let night = repo
        .backup(&opts(&data, ParentChoice::Auto), &NoProgress)
        .unwrap();
    let s = &night.snapshot.summary;
    assert_eq!((s.files_unchanged, s.files_changed), (files as u64 - 1, 1));
    assert!(
        night.peak_entries_held < files / 4,
        "{}",
        night.peak_entries_held
    );
    assert_ne!(night.snapshot.tree, first.snapshot.tree);
}

#[test]
fn the_same_files_give_the_same_trees_whatever_order_the_readers_finish_in() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    tree(&data);
    let repo = repo();
    let roots: Vec<_> = (0..3)
        .map(|_| {
            repo.backup(&opts(&data, ParentChoice::None), &NoProgress)
                .unwrap()
                .snapshot
                .tree
        })
        .collect();
    assert!(roots.iter().all(|r| *r == roots[0]), "{roots:?}");
    // And a fresh repository with the same key material is not needed:
    // the unchanged night reuses every entry and gives the same root.
    let night = repo
        .backup(&opts(&data, ParentChoice::Auto), &NoProgress)
        .unwrap();
    assert_eq!(night.snapshot.tree, roots[0]);
    assert_eq!(night.snapshot.summary.bytes_read, 0);
}
