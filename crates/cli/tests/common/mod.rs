//! Helpers shared by the integration tests: run the real `hokan` binary,
//! make data, compare trees.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::{Rng, RngCore, SeedableRng};

pub mod demo;
pub mod pdf;
pub mod site;
pub mod tape;
pub mod web;

pub const PW: &str = "correct horse battery staple";

/// A `hokan` command with a passphrase, English messages and no inherited repo.
pub fn cmd(repo: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hokan"));
    c.env("HOKAN_PASSWORD", PW)
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("HOKAN_REPO")
        .arg("--repo")
        .arg(repo);
    c
}

pub fn run(repo: &Path, args: &[&str]) -> Output {
    cmd(repo).args(args).output().expect("run hokan")
}

/// Run and insist on an exit code; returns stdout.
pub fn ok(repo: &Path, args: &[&str]) -> String {
    expect_code(repo, args, 0)
}

pub fn expect_code(repo: &Path, args: &[&str], code: i32) -> String {
    let o = run(repo, args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "hokan {args:?} exited {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf8")
}

pub fn json(repo: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok(repo, &a)).expect("json output")
}

pub fn init(repo: &Path) {
    ok(repo, &["init", "--insecure-fast-kdf"]);
}

/// A small varied tree: text, random, empty and larger files, nesting,
/// a symlink, a hard link, odd permissions.
pub fn make_tree(dir: &Path, seed: u64, big: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    fs::create_dir_all(dir.join("a/b/c")).unwrap();
    fs::create_dir_all(dir.join("empty-dir")).unwrap();
    for i in 0..40 {
        let n = rng.gen_range(0..20_000);
        let mut v = vec![0u8; n];
        if i % 2 == 0 {
            rng.fill_bytes(&mut v);
        } else {
            for (j, b) in v.iter_mut().enumerate() {
                *b = b"patient record line\n"[j % 20];
            }
        }
        let sub = ["", "a", "a/b", "a/b/c"][i % 4];
        fs::write(dir.join(sub).join(format!("f{i:03}.dat")), v).unwrap();
    }
    fs::write(dir.join("empty.txt"), b"").unwrap();
    let mut v = vec![0u8; big];
    rng.fill_bytes(&mut v);
    fs::write(dir.join("big.bin"), &v).unwrap();
    std::os::unix::fs::symlink("a/b/c/f003.dat", dir.join("link")).unwrap();
    fs::hard_link(dir.join("a/f001.dat"), dir.join("hardlink.dat")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.join("a/f005.dat"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(dir.join("a/b"), fs::Permissions::from_mode(0o750)).unwrap();
}

/// Copy a tree with every attribute (`cp -a`): the state a snapshot must restore to.
pub fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(st.success(), "cp -a {from:?} {to:?}");
}

/// Compare two trees; panics listing the differences.
pub fn assert_same(a: &Path, b: &Path) {
    let d = hokan_repo::compare::compare_trees(a, b).expect("compare");
    assert!(
        d.is_empty(),
        "trees differ: {a:?} vs {b:?}:\n{}",
        d.join("\n")
    );
}

pub fn packs(repo: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for d in fs::read_dir(repo.join("data")).unwrap() {
        let d = d.unwrap().path();
        if d.is_dir() {
            for f in fs::read_dir(&d).unwrap() {
                v.push(f.unwrap().path());
            }
        }
    }
    v.sort();
    v
}

pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}
