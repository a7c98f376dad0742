//! Media mistakes with removable disks, end to end with the real binary on
//! the SIMULATED device (`hokan disk sim` plays the person; no RDX hardware
//! is involved): formatting in an autoloader touches only the cartridge it
//! names, an identity whose copies are retained is not re-used, `disk
//! restore` finds the cartridge that holds the generation wanted (with the
//! catalog and without it), `disk status` tells the truth after an export,
//! and `disk restore --overwrite` works as its hint says.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use common::tape::*;

const AUTOLOADER: &str = r#"[[disk_pool]]
name = "ql"
mode = "rdx-autoloader"
retention = "2w"
after_job = "deactivate"
virtual_device = "ql"
"#;

const SINGLE: &str = r#"[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "2w"
rotation = "any"
cartridges = ["RDX-A", "RDX-B", "RDX-C"]
virtual_device = "sim"
"#;

/// The label on a SIMULATED cartridge, wherever it is.
fn label_of(s: &Site, sim: &str, id: &str) -> Option<Value> {
    let dir = s.dir.join(sim);
    [dir.join("media").join(id), dir.join("away").join(id)]
        .iter()
        .map(|p| p.join("HOKAN-DISK.json"))
        .find(|p| p.exists())
        .map(|p| serde_json::from_slice(&fs::read(p).unwrap()).unwrap())
}

/// (filesystem-UUID note, media ids not retired) for every note the
/// catalog holds more than once.
fn uuids_shared(s: &Site) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(s.dir.join("catalog.db")).unwrap();
    let mut st = db
        .prepare(
            "SELECT note, group_concat(id) FROM media WHERE note IS NOT NULL \
             AND condition != 'retired' GROUP BY note HAVING COUNT(*) > 1",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn remove_catalog(s: &Site) {
    for f in fs::read_dir(&s.dir).unwrap() {
        let f = f.unwrap();
        if f.file_name().to_string_lossy().starts_with("catalog.db") {
            fs::remove_file(f.path()).unwrap();
        }
    }
}

fn restore_args<'a>(target: &'a Path, pool: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "disk",
        "restore",
        "--pool",
        pool,
        "latest",
        "--target",
        target.to_str().unwrap(),
    ];
    a.extend_from_slice(extra);
    a
}

/// The binary run in Japanese at `minutes` after the current night.
fn ja(s: &Site, minutes: i64, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hokan"))
        .env_remove("HOKAN_REPO")
        .env_remove("HOKAN_PASSWORD")
        .env_remove("HOKAN_CATALOG")
        .current_dir(&s.dir)
        .args([
            "--config",
            "hokan.toml",
            "--lang",
            "ja",
            "--now",
            &s.at(minutes),
        ])
        .args(args)
        .output()
        .unwrap()
}

fn fresh(s: &Site, name: &str) -> PathBuf {
    s.dir.join(name)
}

/// The user's report: AL-1 in the active slot, `format AL-2` then `AL-3`
/// relabelled AL-1 twice, and the catalog ended with three ids on one
/// filesystem UUID.
#[test]
fn autoloader_format_touches_only_the_named_cartridge_and_one_id_per_uuid() {
    let s = Site::new(AUTOLOADER);
    s.ok(0, &["disk", "sim", "create", "--pool", "ql"]);
    s.ok(0, &["disk", "sim", "insert", "--pool", "ql", "AL-1"]);
    s.ok(1, &["disk", "format", "--pool", "ql", "AL-1"]);
    s.ok(2, &["disk", "sim", "insert", "--pool", "ql", "AL-2"]);
    s.ok(2, &["disk", "sim", "insert", "--pool", "ql", "AL-3"]);
    s.ok(3, &["disk", "format", "--pool", "ql", "AL-2"]);
    s.ok(4, &["disk", "format", "--pool", "ql", "AL-3"]);
    for id in ["AL-1", "AL-2", "AL-3"] {
        assert_eq!(label_of(&s, "ql", id).unwrap()["medium"], id, "{id}");
    }
    assert_eq!(uuids_shared(&s), Vec::new(), "one id per filesystem UUID");

    // No blank cartridge left: refused, saying what is inside and what to
    // insert; nothing relabelled.
    let (_, err) = s.code(5, &["disk", "format", "--pool", "ql", "AL-4"], 1);
    assert!(
        err.contains("AL-4") && err.contains("AL-3") && err.contains("blank"),
        "{err}"
    );
    assert!(err.contains("--relabel"), "says how to re-use one: {err}");
    for id in ["AL-1", "AL-2", "AL-3"] {
        assert_eq!(label_of(&s, "ql", id).unwrap()["medium"], id, "{id}");
    }

    // Re-using AL-1 under another id takes --relabel with its current id,
    // and only once its copies are past retention.
    let mut s = s;
    s.night(1);
    let v = s.json(60, &["disk", "backup", "--pool", "ql"], 0);
    let written = v["medium"].as_str().unwrap().to_owned();
    let (_, err) = s.code(
        61,
        &[
            "disk",
            "format",
            "--pool",
            "ql",
            "AL-9",
            "--relabel",
            &written,
        ],
        1,
    );
    assert!(
        err.contains(&written) && err.contains("kept until"),
        "{err}"
    );
    assert_eq!(label_of(&s, "ql", &written).unwrap()["medium"], *written);
    // A wrong current id is refused too.
    let other = ["AL-1", "AL-2", "AL-3"]
        .into_iter()
        .find(|c| *c != written)
        .unwrap();
    let (_, err) = s.code(
        62,
        &[
            "disk",
            "format",
            "--pool",
            "ql",
            "AL-9",
            "--relabel",
            "AL-7",
        ],
        1,
    );
    assert!(err.contains("AL-7"), "{err}");
    // A cartridge without copies may be relabelled: the old id is retired,
    // and the catalog still has one live id per filesystem UUID.
    s.ok(
        63,
        &["disk", "format", "--pool", "ql", "AL-9", "--relabel", other],
    );
    assert_eq!(label_of(&s, "ql", other).unwrap()["medium"], "AL-9");
    assert_eq!(uuids_shared(&s), Vec::new());
    let db = rusqlite::Connection::open(s.dir.join("catalog.db")).unwrap();
    let cond: String = db
        .query_row("SELECT condition FROM media WHERE id = ?1", [other], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cond, "retired");
}

/// The user's report: `format --pool rdx RDX-A` on a blank cartridge
/// succeeded while RDX-A's copies were retained.
#[test]
fn a_retained_identity_is_not_reused_on_another_cartridge() {
    let mut s = Site::new(SINGLE);
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "format", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "eject", "--pool", "rdx"]);
    s.night(1);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(60, &["disk", "backup", "--pool", "rdx"]);
    // A new blank cartridge, and the person names it RDX-A.
    s.ok(70, &["disk", "sim", "insert", "--pool", "rdx", "SPARE-1"]);
    let (_, err) = s.code(71, &["disk", "format", "--pool", "rdx", "RDX-A"], 1);
    assert!(
        err.contains("RDX-A") && err.contains("kept until") && err.contains("2026-12"),
        "says until when: {err}"
    );
    assert!(err.contains("another id"), "says what to do: {err}");
    assert!(label_of(&s, "sim", "SPARE-1").is_none(), "nothing written");
    // In Japanese too.
    let o = ja(&s, 72, &["disk", "format", "--pool", "rdx", "RDX-A"]);
    assert_eq!(o.status.code(), Some(1));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.contains("RDX-A") && said.contains("保持"), "{said}");
    // Under its own new id it is fine.
    s.ok(73, &["disk", "format", "--pool", "rdx", "RDX-B"]);
    assert_eq!(label_of(&s, "sim", "SPARE-1").unwrap()["medium"], "RDX-B");
    assert_eq!(uuids_shared(&s), Vec::new());
}

/// Two cartridges of a SIMULATED autoloader, night 1 on one and night 2 on
/// the other: `disk restore latest` loads the one with night 2, with the
/// catalog and with the catalog deleted.
#[test]
fn restore_latest_picks_the_cartridge_with_the_newest_generation() {
    let mut s = Site::new(AUTOLOADER);
    s.ok(0, &["disk", "sim", "create", "--pool", "ql"]);
    for c in ["QL-A", "QL-B"] {
        s.ok(0, &["disk", "sim", "insert", "--pool", "ql", c]);
        s.ok(0, &["disk", "format", "--pool", "ql", c]);
    }
    s.ok(1, &["disk", "eject", "--pool", "ql"]);
    s.night(1);
    let one = s.json(60, &["disk", "backup", "--pool", "ql"], 0)["medium"]
        .as_str()
        .unwrap()
        .to_owned();
    s.night(2);
    let two = s.json(60, &["disk", "backup", "--pool", "ql"], 0)["medium"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(one, two, "one night on each cartridge");

    let target = fresh(&s, "r1");
    let v = s.json(70, &restore_args(&target, "ql", &[]), 0);
    assert_eq!(v["medium"], two, "{v}");
    assert!(target.join("data/night-2.txt").exists());

    // --cartridge chooses.
    let target = fresh(&s, "r2");
    let v = s.json(71, &restore_args(&target, "ql", &["--cartridge", &one]), 0);
    assert_eq!(v["medium"], one, "{v}");
    assert!(target.join("data/night-1.txt").exists());
    assert!(!target.join("data/night-2.txt").exists());

    // The catalog lost: the cartridges inside are read, and the newest wins.
    remove_catalog(&s);
    let target = fresh(&s, "r3");
    let (out, err) = s.code(72, &restore_args(&target, "ql", &[]), 0);
    assert!(!err.contains("no cartridge to write"), "{err}");
    assert!(out.contains(&two) && out.contains("holds"), "{out}");
    assert!(target.join("data/night-2.txt").exists(), "{out}");
}

/// A single drive holding the wrong cartridge: `disk restore latest` asks
/// for the one that holds it, by name, with the snapshot and its date.
#[test]
fn restore_asks_for_the_cartridge_that_holds_the_generation() {
    let mut s = Site::new(SINGLE);
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    for c in ["RDX-A", "RDX-B"] {
        s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", c]);
        s.ok(0, &["disk", "format", "--pool", "rdx", c]);
        s.ok(0, &["disk", "eject", "--pool", "rdx"]);
    }
    for (n, c) in [(1, "RDX-A"), (2, "RDX-B")] {
        s.night(n);
        s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c]);
        let v = s.json(60, &["disk", "backup", "--pool", "rdx"], 0);
        assert_eq!(v["medium"], c);
    }
    let latest = s.json(61, &["snapshots"], 0)[1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.ok(62, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    let target = fresh(&s, "r1");
    let (_, err) = s.code(63, &restore_args(&target, "rdx", &[]), 1);
    assert!(
        err.contains("insert RDX-B") && err.contains(&latest[..8]) && err.contains("2026-11-19"),
        "{err}"
    );
    assert!(!err.contains("no cartridge to write"), "{err}");
    assert!(!target.join("data").exists(), "nothing restored");

    // --cartridge RDX-A restores what RDX-A holds.
    s.ok(64, &restore_args(&target, "rdx", &["--cartridge", "RDX-A"]));
    assert!(target.join("data/night-1.txt").exists());
    assert!(!target.join("data/night-2.txt").exists());

    // The catalog lost, RDX-A inserted: it is read, and says what it holds.
    remove_catalog(&s);
    s.ok(65, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    let target = fresh(&s, "r2");
    let (out, _) = s.code(66, &restore_args(&target, "rdx", &[]), 0);
    assert!(out.contains("RDX-A") && out.contains("holds"), "{out}");
    assert!(target.join("data/night-1.txt").exists());
}

/// Export from the SIMULATED autoloader: `disk status` says the slot is
/// empty, and no Rust debug text reaches the person.
#[test]
fn disk_status_after_an_export_shows_the_slot_empty_in_words() {
    let mut s = Site::new(&AUTOLOADER.replace("deactivate", "export"));
    s.ok(0, &["disk", "sim", "create", "--pool", "ql"]);
    let out = s.ok(0, &["disk", "sim", "insert", "--pool", "ql", "QL-9"]);
    assert!(out.contains("slot 1") && !out.contains("Slot"), "{out}");
    s.ok(0, &["disk", "format", "--pool", "ql", "QL-9"]);
    s.night(1);
    s.ok(60, &["disk", "backup", "--pool", "ql"]);
    let out = s.ok(61, &["disk", "status", "--pool", "ql"]);
    assert!(out.contains("slot 1: empty"), "{out}");
    assert!(!out.contains("active"), "{out}");
    assert!(!out.contains("Slot"), "{out}");
    let v = s.json(61, &["disk", "status", "--pool", "ql"], 0);
    assert!(
        v["status"]["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["active"] == false),
        "{v}"
    );
    // In Japanese.
    let o = ja(&s, 62, &["disk", "status", "--pool", "ql"]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("スロット 1: 空"), "{said}");
    let o = ja(&s, 63, &["disk", "sim", "insert", "--pool", "ql", "QL-8"]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("スロット 1") && !said.contains("Slot"),
        "{said}"
    );
}

/// `disk restore` into a folder that holds the files: the message says
/// --overwrite, and --overwrite is accepted.
#[test]
fn disk_restore_accepts_the_overwrite_it_suggests() {
    let mut s = Site::new(SINGLE);
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "format", "--pool", "rdx", "RDX-A"]);
    s.night(1);
    s.ok(60, &["disk", "backup", "--pool", "rdx"]);
    let target = fresh(&s, "r");
    s.ok(61, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(62, &restore_args(&target, "rdx", &[]));
    s.ok(63, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    let (_, err) = s.code(64, &restore_args(&target, "rdx", &[]), 1);
    assert!(err.contains("--overwrite"), "{err}");
    s.ok(65, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    fs::write(target.join("data/night-1.txt"), "changed").unwrap();
    s.ok(66, &restore_args(&target, "rdx", &["--overwrite"]));
    assert_eq!(
        fs::read_to_string(target.join("data/night-1.txt")).unwrap(),
        "night 1"
    );
}
