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

/// Flip one byte of a file in the repository (objects are read-only).
fn flip(path: &Path, at: usize) {
    use std::os::unix::fs::PermissionsExt;
    let mut b = fs::read(path).unwrap();
    b[at] ^= 0x01;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(path, &b).unwrap();
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn damaged_newest_snapshot_stops_restore_latest_until_asked_for_the_newest_undamaged() {
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = (t.path().join("repo"), t.path().join("src"));
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("chart.txt"), b"night 1").unwrap();
    init(&repo);
    ok(
        &repo,
        &[
            "backup",
            "--time",
            "2026-11-22T03:00:00Z",
            src.to_str().unwrap(),
        ],
    );
    fs::write(src.join("chart.txt"), b"night 2").unwrap();
    ok(
        &repo,
        &[
            "backup",
            "--time",
            "2026-11-23T03:00:00Z",
            src.to_str().unwrap(),
        ],
    );
    let snaps = json(&repo, &["snapshots"]);
    let older = snaps[0]["id"].as_str().unwrap().to_string();
    let newest = snaps[1]["id"].as_str().unwrap().to_string();
    flip(&repo.join("snapshots").join(&newest), 20);

    let out = t.path().join("out");
    let o = run(
        &repo,
        &["restore", "latest", "--target", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&newest) && e.contains("hokan verify") && e.contains("--latest-undamaged"),
        "names the snapshot and what to do: {e}"
    );
    assert!(!out.exists(), "nothing was restored");
    let o = run(
        &repo,
        &[
            "--lang",
            "ja",
            "restore",
            "latest",
            "--target",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("破損"), "{}", stderr(&o));

    let o = run(
        &repo,
        &[
            "restore",
            "latest",
            "--latest-undamaged",
            "--target",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&newest) && e.contains(&older[..8]) && e.contains("newest undamaged"),
        "says which it skipped and which it took: {e}"
    );
    assert_eq!(fs::read(out.join("src/chart.txt")).unwrap(), b"night 1");
    // JSON says so too.
    let out2 = t.path().join("out2");
    let v = json(
        &repo,
        &[
            "restore",
            "latest",
            "--latest-undamaged",
            "--target",
            out2.to_str().unwrap(),
        ],
    );
    assert_eq!(v["snapshot"], older.as_str());
    assert_eq!(v["skipped_damaged"][0]["snapshot"], newest.as_str());
    // Named by id, the damaged one is damaged, not "not found".
    let o = run(
        &repo,
        &["restore", &newest[..8], "--target", out2.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("is damaged"), "{}", stderr(&o));
    // The flag belongs to `latest` only.
    let o = run(
        &repo,
        &[
            "restore",
            &older[..8],
            "--latest-undamaged",
            "--target",
            out2.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn damaged_config_and_key_slots_are_damage_not_a_wrong_passphrase() {
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = (t.path().join("repo"), t.path().join("src"));
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("a"), b"x").unwrap();
    init(&repo);
    ok(&repo, &["backup", src.to_str().unwrap()]);
    let pristine = t.path().join("pristine");
    copy_tree(&repo, &pristine);
    let reset = || {
        fs::remove_dir_all(&repo).unwrap();
        copy_tree(&pristine, &repo);
    };
    // A digit of pack_size, a digit of the id, a brace: each is a damaged config.
    let cfg = fs::read_to_string(repo.join("config")).unwrap();
    let at = |needle: &str| cfg.find(needle).unwrap() + needle.len();
    for pos in [at("\"pack_size\": "), at("\"id\": \"") + 5, 0] {
        flip(&repo.join("config"), pos);
        let o = run(&repo, &["snapshots"]);
        assert_eq!(o.status.code(), Some(4), "byte {pos}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("config") && e.contains("damaged") && e.contains("hokan verify"),
            "{e}"
        );
        assert!(
            !e.contains("wrong passphrase") && !e.contains("hokan init"),
            "{e}"
        );
        reset();
    }
    // A flipped byte in the key slot.
    let slot = files_in(&repo.join("keys")).pop().unwrap();
    flip(&slot, 30);
    let o = run(&repo, &["snapshots"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("damaged") && e.contains("--paper-key"), "{e}");
    assert!(!e.contains("wrong passphrase"), "{e}");
    let o = run(&repo, &["--lang", "ja", "snapshots"]);
    assert!(stderr(&o).contains("破損"), "{}", stderr(&o));
    reset();
    // Every key slot deleted.
    fs::remove_dir_all(repo.join("keys")).unwrap();
    fs::create_dir_all(repo.join("keys")).unwrap();
    let o = run(&repo, &["snapshots"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("no key slots"), "{}", stderr(&o));
    reset();
    // The config deleted, the rest still there.
    fs::remove_file(repo.join("config")).unwrap();
    let o = run(&repo, &["snapshots"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("config") && !stderr(&o).contains("hokan init"));
    reset();
    // A real wrong passphrase is still a wrong passphrase.
    let o = cmd(&repo)
        .env("HOKAN_PASSWORD", "wrong")
        .args(["snapshots"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("wrong passphrase"));
    ok(&repo, &["snapshots"]);
}
