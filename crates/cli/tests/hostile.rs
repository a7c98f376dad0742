//! Issue 13, through the real binary: someone holding the repository key
//! writes snapshots whose names lead outside a restore target. `hokan
//! restore` must write nothing and exit 4 naming the snapshot and the name;
//! `hokan verify` (with and without `--read-data`) must exit 4 naming each
//! snapshot. A symlink already inside the target is never followed.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use hokan_format::escape_name;
use hokan_repo::testing::{craft_hostile, HOSTILE};
use hokan_repo::Repository;
use hokan_store::LocalStore;

/// Every path under `root` except the repository, symlinks not followed.
fn tree(root: &Path, skip: &Path) -> BTreeSet<(PathBuf, String)> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.starts_with(skip) {
                continue;
            }
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

#[test]
fn hostile_snapshots_are_not_restored_and_verify_names_them() {
    let t = tempfile::tempdir().unwrap();
    let repo_dir = t.path().join("repo");
    init(&repo_dir);
    let outside = t.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("passwd"), "root:x:0:0\n").unwrap();
    let target = t.path().join("x/y/z/target");
    fs::create_dir_all(&target).unwrap();

    let repo = Repository::open(Arc::new(LocalStore::new(&repo_dir)), PW.as_bytes()).unwrap();
    let made: Vec<(&str, hokan_format::Id, Vec<u8>)> = HOSTILE
        .iter()
        .map(|case| {
            let (id, bad) = craft_hostile(&repo, case, &outside).unwrap();
            (*case, id, bad)
        })
        .collect();
    drop(repo);

    let before = tree(t.path(), &repo_dir);
    for (case, id, bad) in &made {
        let o = run(
            &repo_dir,
            &[
                "restore",
                &id.to_hex(),
                "--target",
                target.to_str().unwrap(),
            ],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{case}: {err}");
        assert!(
            err.contains(&id.to_hex()),
            "{case}: names the snapshot: {err}"
        );
        assert!(
            err.contains(&escape_name(bad)),
            "{case}: names the name: {err}"
        );
        assert_eq!(
            tree(t.path(), &repo_dir),
            before,
            "{case}: nothing written, inside or outside the target"
        );
    }
    // In Japanese too, naming the same things.
    let (_, id, bad) = &made[0];
    let o = cmd(&repo_dir)
        .env("LANG", "ja_JP.UTF-8")
        .args([
            "restore",
            &id.to_hex(),
            "--target",
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("危険な名前") && err.contains(&id.to_hex()) && err.contains(&escape_name(bad)),
        "{err}"
    );

    for args in [&["verify"][..], &["verify", "--read-data"][..]] {
        let out = expect_code(&repo_dir, args, 4);
        for (case, id, bad) in &made {
            let line = out
                .lines()
                .find(|l| l.contains(&format!("snapshot {id}")))
                .unwrap_or_else(|| panic!("{args:?} names {case} snapshot {id}:\n{out}"));
            assert!(line.starts_with("DAMAGED"), "{line}");
            assert!(line.contains(&escape_name(bad)), "{case}: {line}");
        }
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let o = run(&repo_dir, &a);
        assert_eq!(o.status.code(), Some(4));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["ok"], false);
        let damaged: Vec<&str> = v["report"]["damage"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["object"].as_str().unwrap())
            .collect();
        for (case, id, _) in &made {
            assert!(
                damaged.contains(&format!("snapshot {id}").as_str()),
                "{case}: {damaged:?}"
            );
        }
    }
    assert_eq!(tree(t.path(), &repo_dir), before);
}

#[test]
fn a_symlink_already_in_the_target_is_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let repo_dir = t.path().join("repo");
    init(&repo_dir);
    let src = t.path().join("src");
    fs::create_dir_all(src.join("etc")).unwrap();
    fs::write(src.join("etc/passwd"), "restored passwd\n").unwrap();
    fs::write(src.join("note"), "restored note\n").unwrap();
    ok(&repo_dir, &["backup", src.to_str().unwrap()]);
    let outside = t.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("passwd"), "root:x:0:0\n").unwrap();
    fs::write(outside.join("note"), "precious\n").unwrap();

    // target/src/etc -> outside (as `target/a -> /etc`), and a file symlink.
    let target = t.path().join("x/y/z/target");
    fs::create_dir_all(target.join("src")).unwrap();
    symlink(&outside, target.join("src/etc")).unwrap();
    symlink(outside.join("note"), target.join("src/note")).unwrap();
    let before = tree(&outside, &repo_dir);

    let o = run(
        &repo_dir,
        &["restore", "latest", "--target", target.to_str().unwrap()],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(tree(&outside, &repo_dir), before);

    ok(
        &repo_dir,
        &[
            "restore",
            "latest",
            "--target",
            target.to_str().unwrap(),
            "--overwrite",
        ],
    );
    assert_eq!(tree(&outside, &repo_dir), before, "nothing written outside");
    assert_eq!(
        fs::read_to_string(outside.join("passwd")).unwrap(),
        "root:x:0:0\n"
    );
    assert_eq!(
        fs::read_to_string(outside.join("note")).unwrap(),
        "precious\n"
    );
    assert!(fs::symlink_metadata(target.join("src/etc"))
        .unwrap()
        .is_dir());
    assert_eq!(
        fs::read_to_string(target.join("src/etc/passwd")).unwrap(),
        "restored passwd\n"
    );
    assert!(fs::symlink_metadata(target.join("src/note"))
        .unwrap()
        .is_file());
}
