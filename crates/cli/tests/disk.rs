//! Removable disks end to end with the real binary, all on the SIMULATED
//! device (`hokan disk sim` plays the person; no RDX hardware is involved):
//! a week of rotation, eject and its failure, wrong and unformatted
//! cartridges, a cartridge pulled out mid-write, restore from a cartridge
//! alone, and the autoloader's ②-2-1 rule (inactive slot AND attested
//! network segmentation).

mod common;

use std::fs;

use serde_json::Value;

use common::tape::*;
use common::*;

const WEEK: [&str; 7] = [
    "RDX-MON", "RDX-TUE", "RDX-WED", "RDX-THU", "RDX-FRI", "RDX-SAT", "RDX-SUN",
];

fn single() -> String {
    format!(
        r#"[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "2w"
rotation = "weekday"
cartridges = {WEEK:?}
virtual_device = "sim"
"#
    )
}

/// The cartridge due at `minutes` after the current night: the site is at
/// +09:00 and each night starts at 22:00 UTC, 07:00 the next local day.
fn due(s: &Site, minutes: i64) -> &'static str {
    let local = (s.night + time::Duration::minutes(minutes))
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap());
    WEEK[local.weekday().number_days_from_monday() as usize]
}

/// A site with every cartridge of the week formatted and ejected.
fn week_site() -> Site {
    let s = Site::new(&single());
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    for c in WEEK {
        s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", c]);
        s.ok(0, &["disk", "format", "--pool", "rdx", c]);
        s.ok(0, &["disk", "eject", "--pool", "rdx"]);
    }
    s
}

#[test]
fn a_week_of_rotation_counts_each_cartridge_offline_only_after_eject() {
    let mut s = week_site();
    let mut offline = 0;
    for n in 1..=4 {
        s.night(n);
        let c = due(&s, 60);
        s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c]);
        // In the drive: whatever it held is online until it is ejected.
        let st = s.json(55, &["disk", "status", "--pool", "rdx"], 0);
        assert_eq!(st["due"], c, "{st}");
        let v = s.json(60, &["disk", "backup", "--pool", "rdx", "--verify"], 0);
        assert_eq!(v["medium"], c, "{v}");
        assert_eq!(v["verified"], true);
        offline += 1;
        assert_eq!(s.koban_of(70, c), vec!["②-1-1"], "night {n}");
        assert_eq!(s.offline(70), offline, "night {n}");
    }
    // Dedup on one cartridge: the same cartridge a week later stores only
    // what changed. Seven nights on, night 1's cartridge is due again.
    for n in 5..=8 {
        s.night(n);
    }
    let c = due(&s, 60);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c]);
    let v = s.json(60, &["disk", "backup", "--pool", "rdx"], 0);
    let written = v["bytes_written"].as_u64().unwrap();
    let there = v["bytes_already_there"].as_u64().unwrap();
    assert!(there > 10 * written, "most of it was already there: {v}");
    assert_eq!(s.koban_of(70, c), vec!["②-1-1", "②-1-1"]);
}

#[test]
fn a_failed_eject_leaves_the_copy_online_and_says_so() {
    let mut s = week_site();
    s.night(1);
    let c = due(&s, 60);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c]);
    s.ok(50, &["disk", "sim", "fail-eject", "--pool", "rdx"]);
    let (_, err) = s.code(60, &["disk", "backup", "--pool", "rdx"], 1);
    assert!(
        err.contains(c) && err.contains("eject failed") && err.contains("ONLINE"),
        "{err}"
    );
    // The copy exists, but the cartridge is still in the drive: online.
    assert_eq!(s.koban_of(70, c), vec!["online"]);
    assert_eq!(s.offline(70), 0);
    let st: Value = serde_json::from_slice(&s.run(70, &["--json", "status"]).stdout).unwrap();
    let first = &st["evaluation"]["problems"][0];
    assert_eq!(
        first["medium"], c,
        "the cartridge left in comes first: {st}"
    );
    // Ejected by hand (here: again with the command): offline.
    s.ok(80, &["disk", "eject", "--pool", "rdx"]);
    assert_eq!(s.koban_of(90, c), vec!["②-1-1"]);
}

#[test]
fn a_wrong_unformatted_or_foreign_cartridge_is_refused_naming_both() {
    let mut s = week_site();
    s.night(1);
    let c = due(&s, 60);
    let wrong = WEEK.iter().copied().find(|w| *w != c).unwrap();
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", wrong]);
    let before = dir_listing(&s.dir.join("sim"));
    let (_, err) = s.code(60, &["disk", "backup", "--pool", "rdx"], 1);
    assert!(err.contains(wrong) && err.contains(c), "names both: {err}");
    assert_eq!(dir_listing(&s.dir.join("sim")), before, "nothing written");
    s.ok(61, &["disk", "eject", "--pool", "rdx"]);

    // A blank disk: not formatted.
    s.ok(62, &["disk", "sim", "insert", "--pool", "rdx", "BLANK-1"]);
    let (_, err) = s.code(63, &["disk", "backup", "--pool", "rdx"], 1);
    assert!(
        err.contains("not formatted") && err.contains("disk format"),
        "{err}"
    );
    // A cartridge of another pool (its label says so).
    let sim = s.dir.join("sim").join("media").join("BLANK-1");
    fs::write(
        sim.join("HOKAN-DISK.json"),
        r#"{"format":1,"medium":"NAS-1","pool":"nas","created":"2026-11-01T00:00:00Z"}"#,
    )
    .unwrap();
    let (_, err) = s.code(64, &["disk", "backup", "--pool", "rdx"], 1);
    assert!(
        err.contains("NAS-1") && err.contains("nas") && err.contains("rdx") && err.contains(c),
        "{err}"
    );
    // Another disk carrying a copy of the due cartridge's label: its
    // filesystem UUID gives it away.
    let label = s
        .dir
        .join("sim")
        .join("away")
        .join(c)
        .join("HOKAN-DISK.json");
    fs::copy(&label, sim.join("HOKAN-DISK.json")).unwrap();
    let (_, err) = s.code(64, &["disk", "backup", "--pool", "rdx"], 1);
    assert!(err.contains(c) && err.contains("UUID"), "{err}");
    fs::write(
        sim.join("HOKAN-DISK.json"),
        r#"{"format":1,"medium":"NAS-1","pool":"nas","created":"2026-11-01T00:00:00Z"}"#,
    )
    .unwrap();
    // And it is not formatted over from the other pool.
    let (_, err) = s.code(65, &["disk", "format", "--pool", "rdx", c], 1);
    assert!(err.contains("NAS-1") && err.contains("nas"), "{err}");
    assert!(sim.join("HOKAN-DISK.json").exists());
    assert_eq!(s.offline(66), 0);
}

#[test]
fn formatting_is_refused_while_a_copy_is_retained() {
    let mut s = week_site();
    s.night(1);
    let c = due(&s, 60);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c]);
    s.ok(60, &["disk", "backup", "--pool", "rdx"]);
    s.ok(61, &["disk", "sim", "insert", "--pool", "rdx", c]);
    let (_, err) = s.code(62, &["disk", "format", "--pool", "rdx", c], 1);
    assert!(err.contains(c) && err.contains("kept until"), "{err}");
    // The copy is still there and counts once ejected.
    s.ok(63, &["disk", "eject", "--pool", "rdx"]);
    assert_eq!(s.koban_of(64, c), vec!["②-1-1"]);
}

#[test]
fn a_cartridge_pulled_out_mid_write_is_not_counted_and_the_next_run_completes_it() {
    let mut s = week_site();
    fs::write(s.data.join("big.bin"), noise(6_000_000, 7)).unwrap();
    s.night(1);
    let c = due(&s, 60);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c]);
    s.ok(
        50,
        &["disk", "sim", "pull-after", "--pool", "rdx", "1000000"],
    );
    let (_, err) = s.code(60, &["disk", "backup", "--pool", "rdx"], 1);
    assert!(err.contains(c) && err.contains("went away"), "{err}");
    assert_eq!(s.koban_of(61, c), Vec::<String>::new(), "no copy recorded");
    // Back in: the cartridge's repository is usable and the job completes it.
    s.ok(62, &["disk", "sim", "insert", "--pool", "rdx", c]);
    let v = s.json(63, &["disk", "backup", "--pool", "rdx", "--verify"], 0);
    assert!(v["bytes_already_there"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(s.koban_of(64, c), vec!["②-1-1"]);
    // Restore from the cartridge alone: the primary repository and the
    // catalog are gone.
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    for f in fs::read_dir(&s.dir).unwrap() {
        let f = f.unwrap();
        if f.file_name().to_string_lossy().starts_with("catalog.db") {
            fs::remove_file(f.path()).unwrap();
        }
    }
    s.ok(65, &["disk", "sim", "insert", "--pool", "rdx", c]);
    let target = s.dir.join("restored");
    s.ok(
        66,
        &[
            "disk",
            "restore",
            "--pool",
            "rdx",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &target.join("data"));
    // Restoring ejected it again (the new catalog does not know it).
    let where_is = s.json(67, &["disk", "status", "--pool", "rdx"], 0);
    assert!(
        where_is["status"]["cartridges"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{where_is}"
    );
}

const AUTOLOADER: &str = r#"[[disk_pool]]
name = "ql"
mode = "rdx-autoloader"
retention = "2w"
after_job = "deactivate"
virtual_device = "ql"
"#;

#[test]
fn autoloader_inactive_slots_count_only_with_a_valid_segmentation_attestation() {
    let mut s = Site::new(AUTOLOADER);
    s.ok(
        0,
        &["disk", "sim", "create", "--pool", "ql", "--slots", "4"],
    );
    for c in ["QL-1", "QL-2"] {
        s.ok(0, &["disk", "sim", "insert", "--pool", "ql", c]);
        s.ok(0, &["disk", "format", "--pool", "ql", c]);
    }
    s.night(1);
    let v = s.json(60, &["disk", "backup", "--pool", "ql"], 0);
    let c = v["medium"].as_str().unwrap().to_owned();
    let st = s.json(61, &["disk", "status", "--pool", "ql"], 0);
    let slot = st["status"]["slots"].as_array().unwrap();
    assert!(slot.iter().all(|x| x["active"] == false), "{st}");
    // Inactive slot, no attestation: not offline, and status says why.
    assert_eq!(s.offline(62), 0);
    let o = s.run(62, &["status"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("segment"),
        "names the missing attestation:\n{out}"
    );
    s.ok(
        63,
        &[
            "attest",
            "network-segmented",
            "--autoloader",
            "sim-ql",
            "--evidence",
            "VLAN 30 isolated",
            "--by",
            "情報システム課 鈴木",
            "--until",
            "7d",
        ],
    );
    assert_eq!(s.koban_of(64, &c), vec!["②-2-1"]);
    // The active slot is online whatever is attested.
    s.ok(65, &["disk", "sim", "insert", "--pool", "ql", "QL-3"]);
    s.ok(66, &["disk", "format", "--pool", "ql", "QL-3"]);
    let st = s.json(67, &["disk", "status", "--pool", "ql"], 0);
    let active: Vec<&Value> = st["status"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["active"] == true)
        .collect();
    assert_eq!(active.len(), 1, "{st}");
    assert_eq!(s.koban_of(68, &c), vec!["②-2-1"], "another slot is active");
    // Eight days later the attestation has expired: online.
    assert_eq!(s.koban_of(8 * 24 * 60, &c), vec!["online"]);
    // A deactivation that fails leaves the cartridge in the active slot:
    // online, attestation or not.
    let mut s3 = Site::new(AUTOLOADER);
    s3.ok(0, &["disk", "sim", "create", "--pool", "ql"]);
    s3.ok(0, &["disk", "sim", "insert", "--pool", "ql", "QL-5"]);
    s3.ok(0, &["disk", "format", "--pool", "ql", "QL-5"]);
    s3.ok(
        0,
        &[
            "attest",
            "network-segmented",
            "--autoloader",
            "sim-ql",
            "--evidence",
            "VLAN 30",
            "--by",
            "鈴木",
            "--until",
            "30d",
        ],
    );
    s3.night(1);
    s3.ok(50, &["disk", "sim", "fail-eject", "--pool", "ql"]);
    s3.code(60, &["disk", "backup", "--pool", "ql"], 1);
    assert_eq!(s3.koban_of(61, "QL-5"), vec!["online"]);
    s3.ok(62, &["disk", "eject", "--pool", "ql"]);
    assert_eq!(s3.koban_of(63, "QL-5"), vec!["②-2-1"]);
    // Exported: ②-2-2 without any attestation.
    let mut s2 = Site::new(&AUTOLOADER.replace("deactivate", "export"));
    s2.ok(0, &["disk", "sim", "create", "--pool", "ql"]);
    s2.ok(0, &["disk", "sim", "insert", "--pool", "ql", "QL-9"]);
    s2.ok(0, &["disk", "format", "--pool", "ql", "QL-9"]);
    s2.night(1);
    s2.ok(60, &["disk", "backup", "--pool", "ql"]);
    assert_eq!(s2.koban_of(61, "QL-9"), vec!["②-2-2"]);
}

fn dir_listing(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with("state.json") && !p.ends_with("lock") {
                out.push((p.display().to_string(), e.metadata().unwrap().len()));
            }
        }
    }
    out.sort();
    out
}

/// Every file under a cartridge's folder, by path relative to it, with a
/// BLAKE3 of its bytes: equal before and after means byte-for-byte
/// unchanged.
fn cartridge_hashes(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((
                    rel,
                    blake3::hash(&fs::read(&p).unwrap()).to_hex().to_string(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The folder of a SIMULATED cartridge, wherever it is (`media/` in the
/// drive, `away/` ejected).
fn cartridge_dir(s: &Site, id: &str) -> std::path::PathBuf {
    let sim = s.dir.join("sim");
    [sim.join("media").join(id), sim.join("away").join(id)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no folder for {id}"))
}

/// The catalog's files (`catalog.db`, `-wal`, `-shm`, `.head`) as they are now.
fn catalog_files(s: &Site) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(&s.dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("catalog.db"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The attacker's rollback: the catalog's files replaced by an older copy.
fn roll_back(s: &Site, copy: &[(String, Vec<u8>)]) {
    for (name, _) in catalog_files(s) {
        fs::remove_file(s.dir.join(name)).unwrap();
    }
    for (name, bytes) in copy {
        fs::write(s.dir.join(name), bytes).unwrap();
    }
}

/// Anchors on the SIMULATED device (`hokan disk sim`; no RDX hardware):
/// each backup job leaves `HOKAN-ANCHOR.json` on its cartridge with the
/// catalog's head once the copies are recorded. An attacker then rolls the
/// catalog (database, WAL, head file) back to its state after night 1 to
/// hide nights 2 and 3: the cartridge of night 1 is still written (its
/// anchor is in the rolled-back catalog), but the cartridge of night 2
/// carries a head the catalog no longer has, so its next job is refused
/// with exit 12 before anything is written to it.
#[test]
fn a_rolled_back_catalog_is_caught_by_the_anchor_on_a_cartridge_and_nothing_is_written() {
    let mut s = week_site();
    let mut nights = Vec::new();
    let mut after_night_1 = Vec::new();
    for n in 1..=3 {
        s.night(n);
        let c = due(&s, 60);
        s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c]);
        let v = s.json(60, &["disk", "backup", "--pool", "rdx"], 0);
        assert_eq!(v["previous_anchor"], Value::Null, "a new cartridge: {v}");
        // The anchor is on the cartridge, and names the catalog's head once
        // the copies were recorded: only the eject's move came after it.
        let bytes = fs::read(cartridge_dir(&s, c).join("HOKAN-ANCHOR.json")).unwrap();
        let anchor = hokan_catalog::Anchor::parse(&bytes).unwrap();
        assert_eq!(anchor.medium, c);
        assert_eq!(anchor.site, "テープ病院");
        assert_eq!(anchor.seq, v["anchor"]["seq"].as_u64().unwrap(), "{v}");
        assert_eq!(anchor.hash, v["anchor"]["hash"].as_str().unwrap(), "{v}");
        let db = rusqlite::Connection::open(s.dir.join("catalog.db")).unwrap();
        let hash: Vec<u8> = db
            .query_row(
                "SELECT hash FROM events WHERE seq = ?1",
                [anchor.seq as i64],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hex_of(&hash), anchor.hash);
        let at_anchor: String = db
            .query_row(
                "SELECT kind FROM events WHERE seq = ?1",
                [anchor.seq as i64],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(at_anchor, "copy-recorded");
        let later: Vec<String> = db
            .prepare("SELECT kind FROM events WHERE seq > ?1")
            .unwrap()
            .query_map([anchor.seq as i64], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(later, vec!["medium-located"], "only the eject after it");
        drop(db);
        nights.push((c, anchor, s.night));
        if n == 1 {
            after_night_1 = catalog_files(&s);
        }
    }
    assert!(after_night_1.iter().any(|(n, _)| n == "catalog.db.head"));

    let (c2, anchor2, night2) = (nights[1].0, nights[1].1.clone(), nights[1].2);

    // The rollback.
    roll_back(&s, &after_night_1);

    // Night 1's cartridge, a week on: its anchor is in the rolled-back
    // catalog, so it is written (no false alarm).
    let (c1, anchor1, night1) = (nights[0].0, nights[0].1.clone(), nights[0].2);
    s.night = night1 + time::Duration::days(7);
    assert_eq!(due(&s, 60), c1);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c1]);
    let v = s.json(60, &["disk", "backup", "--pool", "rdx"], 0);
    assert_eq!(v["previous_anchor"]["seq"], anchor1.seq, "{v}");

    // Night 2's cartridge, a week on: refused, exit 12, untouched.
    s.night = night2 + time::Duration::days(7);
    assert_eq!(due(&s, 60), c2);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", c2]);
    // `disk status` reports the anchor of a cartridge the host has mounted
    // (here the simulation's state says so, as a host that mounted it by
    // hand would), and that the catalog does not contain it.
    let state_path = s.dir.join("sim").join("state.json");
    let mut state: Value = serde_json::from_slice(&fs::read(&state_path).unwrap()).unwrap();
    for c in state["cartridges"].as_array_mut().unwrap() {
        if c["id"] == c2 {
            c["mounted"] = Value::Bool(true);
        }
    }
    fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    // The catalog is not trusted with that anchor in sight: exit 12.
    let st = s.json(55, &["disk", "status", "--pool", "rdx"], 12);
    assert_eq!(st["trusted"], false, "{st}");
    assert_eq!(st["anchors"][0]["medium"], c2, "{st}");
    assert_eq!(st["anchors"][0]["anchor"]["seq"], anchor2.seq, "{st}");
    assert_eq!(st["anchors"][0]["anchor"]["in_catalog"], false, "{st}");
    let before = cartridge_hashes(&cartridge_dir(&s, c2));
    assert!(before.iter().any(|(n, _)| n == "HOKAN-ANCHOR.json"));
    let (_, err) = s.code(60, &["disk", "backup", "--pool", "rdx"], 12);
    assert!(err.contains(c2), "names the cartridge: {err}");
    assert!(
        err.contains(&format!("event {}", anchor2.seq)),
        "names the anchor's seq: {err}"
    );
    assert!(err.contains("its head is event"), "names the head: {err}");
    assert!(
        err.contains("hokan catalog verify") && err.contains("When the catalog cannot be trusted"),
        "{err}"
    );
    assert_eq!(
        cartridge_hashes(&cartridge_dir(&s, c2)),
        before,
        "nothing written to the cartridge"
    );

    // In Japanese too.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hokan"))
        .env_remove("HOKAN_REPO")
        .env_remove("HOKAN_PASSWORD")
        .env_remove("HOKAN_CATALOG")
        .current_dir(&s.dir)
        .args(["--config", "hokan.toml", "--lang", "ja", "--now", &s.at(61)])
        .args(["disk", "backup", "--pool", "rdx"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(12));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(c2) && err.contains(&format!("イベント {}", anchor2.seq)),
        "{err}"
    );
    assert_eq!(cartridge_hashes(&cartridge_dir(&s, c2)), before);

    // `disk restore` still reads the cartridge (chosen by name: the
    // catalog's newest generation is on night 1's cartridge), and reports
    // the anchor the catalog does not contain.
    let target = s.dir.join("restored");
    let v = s.json(
        62,
        &[
            "disk",
            "restore",
            "--pool",
            "rdx",
            "latest",
            "--cartridge",
            c2,
            "--target",
            target.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(v["anchor"]["seq"], anchor2.seq, "{v}");
    assert_eq!(v["anchor"]["in_catalog"], false, "{v}");
    assert_eq!(v["medium"], c2, "{v}");
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
