//! Damage on the medium: a flipped byte, a truncated index file, a deleted
//! pack. `verify` must report the damaged object and name the files that
//! cannot be restored; restore must still restore every other file; and what
//! verify names must be exactly what restore cannot restore.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::*;

fn setup(t: &Path) -> (PathBuf, PathBuf) {
    let (repo, src) = (t.join("repo"), t.join("src"));
    make_tree(&src, 21, 3 << 20);
    // Small packs so that damage to one pack leaves others intact.
    ok(
        &repo,
        &["init", "--insecure-fast-kdf", "--pack-size", "131072"],
    );
    ok(&repo, &["backup", src.to_str().unwrap()]);
    (repo, src)
}

fn affected(v: &serde_json::Value) -> BTreeSet<String> {
    v["report"]["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap().to_string())
        .collect()
}

/// Restore `snap`, expect exit 3, check every file not reported is identical
/// to the source, and return the set of paths restore reported.
fn restore_partial(repo: &Path, snap: &str, src: &Path, out: &Path) -> BTreeSet<String> {
    let o = run(
        repo,
        &["--json", "restore", snap, "--target", out.to_str().unwrap()],
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "partial restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let failed: BTreeSet<String> = v["stats"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e[0].as_str()
                .unwrap()
                .strip_prefix(out.to_str().unwrap())
                .unwrap()
                .trim_start_matches('/')
                .to_string()
        })
        .collect();
    assert!(!failed.is_empty());
    // Every file that restore did not report is intact.
    let mut checked = 0;
    for entry in walk(src) {
        let rel = Path::new("src").join(entry.strip_prefix(src).unwrap());
        if failed.contains(rel.to_str().unwrap()) || !entry.is_file() || entry.is_symlink() {
            continue;
        }
        assert_eq!(
            fs::read(&entry).unwrap(),
            fs::read(out.join(&rel)).unwrap(),
            "{rel:?} must restore intact"
        );
        checked += 1;
    }
    assert!(
        checked > 10,
        "most files are unaffected and restored ({checked})"
    );
    failed
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.is_symlink() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn flipped_byte_in_a_pack_is_found_by_read_data_and_named() {
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = setup(t.path());
    // The largest pack holds data of big.bin; flip a byte inside its first blob.
    let mut ps = packs(&repo);
    ps.sort_by_key(|p| fs::metadata(p).unwrap().len());
    let victim = ps.last().unwrap().clone();
    let mut b = fs::read(&victim).unwrap();
    b[100] ^= 0x01;
    fs::write(&victim, &b).unwrap();

    let o = run(&repo, &["--json", "verify", "--read-data"]);
    assert_eq!(o.status.code(), Some(4), "damage found => exit 4");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let name = victim.file_name().unwrap().to_str().unwrap();
    let dmg = serde_json::to_string(&v["report"]["damage"]).unwrap();
    assert!(dmg.contains(name), "the damaged pack is named: {dmg}");
    let aff = affected(&v);
    assert!(
        !aff.is_empty() && aff.iter().all(|p| p.starts_with("src/")),
        "{aff:?}"
    );
    let failed = restore_partial(&repo, "latest", &src, &t.path().join("out"));
    assert_eq!(failed, aff, "restore fails exactly the files verify named");
}

#[test]
fn deleted_pack_is_found_without_reading_data() {
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = setup(t.path());
    let mut ps = packs(&repo);
    ps.sort_by_key(|p| fs::metadata(p).unwrap().len());
    let victim = ps.last().unwrap().clone();
    fs::remove_file(&victim).unwrap();
    let o = run(&repo, &["--json", "verify"]);
    assert_eq!(o.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dmg = serde_json::to_string(&v["report"]["damage"]).unwrap();
    assert!(
        dmg.contains(victim.file_name().unwrap().to_str().unwrap()) && dmg.contains("missing"),
        "{dmg}"
    );
    let aff = affected(&v);
    assert!(!aff.is_empty());
    let failed = restore_partial(&repo, "latest", &src, &t.path().join("out"));
    assert_eq!(failed, aff);
    // Human output names the files too.
    let human = String::from_utf8(run(&repo, &["verify"]).stdout).unwrap();
    assert!(
        human.contains("cannot restore:") && human.contains(aff.iter().next().unwrap()),
        "{human}"
    );
}

#[test]
fn truncated_index_is_reported_and_repair_rebuilds_it() {
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = setup(t.path());
    let first = files_in(&repo.join("index"));
    // A second night adds files; its index file is the one we damage.
    fs::write(src.join("a/night2.txt"), vec![b'x'; 200_000]).unwrap();
    fs::write(
        src.join("night2.bin"),
        (0..400_000u32)
            .map(|i| (i * 7 % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    ok(&repo, &["backup", src.to_str().unwrap()]);
    let second: Vec<PathBuf> = files_in(&repo.join("index"))
        .into_iter()
        .filter(|f| !first.contains(f))
        .collect();
    assert_eq!(second.len(), 1);
    let b = fs::read(&second[0]).unwrap();
    fs::write(&second[0], &b[..b.len() / 2]).unwrap();

    let o = run(&repo, &["--json", "verify"]);
    assert_eq!(o.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dmg = serde_json::to_string(&v["report"]["damage"]).unwrap();
    assert!(
        dmg.contains("index file")
            && dmg.contains(second[0].file_name().unwrap().to_str().unwrap()),
        "{dmg}"
    );
    let detail = dmg.clone();
    assert!(
        detail.contains("hokan repair index"),
        "says what to do: {detail}"
    );
    // Nothing is lost: the packs are intact, and opening the repository reads
    // their headers, so every file of both nights restores even before repair.
    assert!(affected(&v).is_empty(), "{:?}", affected(&v));
    let out0 = t.path().join("out0");
    ok(
        &repo,
        &["restore", "latest", "--target", out0.to_str().unwrap()],
    );
    assert_same(&src, &out0.join("src"));
    // repair index rebuilds from pack headers; afterwards everything verifies.
    ok(&repo, &["repair", "index"]);
    ok(&repo, &["verify", "--read-data"]);
    let out = t.path().join("out");
    ok(
        &repo,
        &["restore", "latest", "--target", out.to_str().unwrap()],
    );
    assert_same(&src, &out.join("src"));
}
