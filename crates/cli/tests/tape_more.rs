//! More tape end to end with the real binary, all on the SIMULATED library
//! (`hokan tape sim` plays the person; no tape hardware is involved):
//!
//! - a single stand-alone drive (①-1-1): eject after the job, a night
//!   without a cartridge, the retained cartridge inserted again;
//! - `after_job = "export"`: the mail slot (still ①-2-1), then taken out
//!   (①-2-2);
//! - the catalog lost: `tape scan` rebuilds it from the cartridges and
//!   `tape restore --set` restores from tape alone;
//! - cartridges that must not be written: another pool's, a blank one.

mod common;

use std::fs;

use serde_json::Value;

use common::tape::*;
use common::*;

/// The medium's location in `tape status --json`.
fn location_of(s: &Site, minutes: i64, pool: &str, medium: &str) -> Value {
    let v = s.json(minutes, &["tape", "status", "--pool", pool], 0);
    v["cartridges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["medium"] == medium)
        .unwrap_or_else(|| panic!("{medium} not in {v}"))["location"]["location"]
        .clone()
}

/// ①-1-1 on the SIMULATED single drive: the cartridge a person inserted is
/// labelled, written and ejected; a night without a cartridge asks for one,
/// naming the drive; the same cartridge inserted again is online once the
/// inventory sees it, and is refused (naming the date its retention ends)
/// rather than overwritten.
#[test]
fn a_single_drive_ejects_asks_for_a_cartridge_and_refuses_a_retained_one() {
    let mut s = Site::new(SINGLE);
    s.ok(0, &["tape", "sim", "create", "--pool", "single"]);
    let v = s.json(
        0,
        &["tape", "sim", "insert", "--pool", "single", "HKN101L9"],
        0,
    );
    assert!(v["place"]["drive"].is_u64(), "{v}");
    s.ok(0, &["tape", "label", "--pool", "single", "HKN101L9"]);

    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "single"], 0);
    assert_eq!(v["cartridges"], serde_json::json!(["HKN101L9"]), "{v}");
    let copies = s.copies_on(120, "HKN101L9");
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(
        copies[0]["verdict"]["detail"]["koban"], "①-1-1",
        "{copies:?}"
    );
    assert_eq!(
        location_of(&s, 120, "single", "HKN101L9")["kind"],
        "ejected"
    );
    assert_eq!(s.offline(120), 1);

    // The next night nobody inserted a cartridge.
    s.night(2);
    let (_, err) = s.code(60, &["tape", "backup", "--pool", "single"], 1);
    assert!(
        err.contains("vtl-single") && err.contains("insert") && err.contains("single"),
        "names the drive and the pool: {err}"
    );

    // The same cartridge back in the drive: online once the inventory sees it.
    s.ok(
        61,
        &["tape", "sim", "insert", "--pool", "single", "HKN101L9"],
    );
    s.ok(62, &["tape", "inventory", "--pool", "single"]);
    assert_eq!(
        location_of(&s, 63, "single", "HKN101L9")["kind"],
        "in-drive"
    );
    assert_eq!(s.koban_of(63, "HKN101L9"), vec!["online"]);
    assert_eq!(s.offline(63), 0);

    // It holds last night's set for 3 days (written 2026-11-17 23:00 UTC,
    // kept until 2026-11-21 08:00 in the site's +09:00): refused.
    let (_, err) = s.code(64, &["tape", "backup", "--pool", "single"], 1);
    assert!(
        err.contains("HKN101L9") && err.contains("2026-11-21"),
        "names the cartridge and the date: {err}"
    );
    // Nothing was written: last night's copy is still there, and counts
    // again once the cartridge is ejected.
    s.ok(
        65,
        &[
            "tape", "move", "--pool", "single", "HKN101L9", "--to", "eject",
        ],
    );
    assert_eq!(s.koban_of(66, "HKN101L9"), vec!["①-1-1"]);
    assert_eq!(s.offline(66), 1);
}

const EXPORT: &str = r#"[[tape_pool]]
name = "offsite"
mode = "library"
after_job = "export"
allocation = "weekday"
retention = "3d"
virtual_library = "vtl"
"#;

/// `after_job = "export"` on a SIMULATED library with two mail slots: the
/// job leaves the cartridge in a mail slot, where the robot can still reach
/// it, so the evaluator counts it as ①-2-1 and says it is in the mail slot;
/// once a person takes it out and the inventory notices, it is ①-2-2.
#[test]
fn after_job_export_leaves_the_cartridge_in_the_mail_slot_until_taken_out() {
    let mut s = Site::new(EXPORT);
    s.ok(
        0,
        &[
            "tape",
            "sim",
            "create",
            "--pool",
            "offsite",
            "--slots",
            "4",
            "--mail-slots",
            "2",
        ],
    );
    for t in ["HKN201L9", "HKN202L9"] {
        s.ok(0, &["tape", "sim", "insert", "--pool", "offsite", t]);
        s.ok(0, &["tape", "label", "--pool", "offsite", t]);
    }
    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "offsite"], 0);
    let t = v["cartridges"][0].as_str().unwrap().to_owned();
    assert!(
        v["after_job"][1].as_str().unwrap().contains("mail slot"),
        "{v}"
    );
    let lib = s.json(61, &["tape", "status", "--pool", "offsite"], 0);
    let mail: Vec<&Value> = lib["library"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["import_export"] == true)
        .collect();
    assert_eq!(mail.len(), 2, "{lib}");
    assert_eq!(mail[0]["cartridge"]["barcode"], t.as_str(), "{lib}");
    assert_eq!(location_of(&s, 61, "offsite", &t)["kind"], "mail-slot");

    // In the mail slot: ①-2-1 (the robot can fetch it back), with a note.
    assert_eq!(s.koban_of(62, &t), vec!["①-2-1"]);
    let o = s.run(62, &["--json", "status"]);
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems = st["evaluation"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "medium-in-mail-slot" && p["medium"] == t.as_str()),
        "{problems:?}"
    );

    // A person takes it out; the inventory notices: ①-2-2.
    s.ok(63, &["tape", "sim", "take-out", "--pool", "offsite", &t]);
    let v = s.json(64, &["tape", "inventory", "--pool", "offsite"], 0);
    assert_eq!(v["moves"][0]["medium"], t.as_str(), "{v}");
    assert_eq!(location_of(&s, 65, "offsite", &t)["kind"], "exported");
    assert_eq!(s.koban_of(65, &t), vec!["①-2-2"]);
    assert_eq!(s.offline(65), 1);
    // The inventory records only changes: a second one moves nothing.
    let v = s.json(66, &["tape", "inventory", "--pool", "offsite"], 0);
    assert_eq!(v["moves"], serde_json::json!([]), "{v}");
}

/// The catalog and the primary repository are both lost; the cartridges of
/// the SIMULATED library are all that is left. `tape scan` finds the pool's
/// cartridges and media sets on them (and says that their snapshots are not
/// in the new catalog), and `tape restore --set` restores a snapshot
/// byte-identical from the set's own catalog on tape.
#[test]
fn after_the_catalog_is_lost_scan_rebuilds_it_and_restore_set_works() {
    let mut s = library_with(&["HKN301L9", "HKN302L9", "HKN303L9"], "1GiB");
    let mut nights = Vec::new();
    let first = s.dir.join("first-night");
    for n in 1..=2 {
        s.night(n);
        nights.push(s.json(60, &["tape", "backup", "--pool", "weekday"], 0));
        if n == 1 {
            copy_tree(&s.data, &first);
        }
    }

    for f in fs::read_dir(&s.dir).unwrap() {
        let f = f.unwrap();
        if f.file_name().to_string_lossy().starts_with("catalog.db") {
            fs::remove_file(f.path()).unwrap();
        }
    }
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let v = s.json(120, &["tape", "scan", "--pool", "weekday"], 0);
    let mut carts: Vec<&str> = v["cartridges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    carts.sort();
    assert_eq!(carts, ["HKN301L9", "HKN302L9", "HKN303L9"], "{v}");
    assert_eq!(v["added"].as_array().unwrap().len(), 3, "{v}");
    let sets: Vec<&str> = nights.iter().map(|n| n["set"].as_str().unwrap()).collect();
    assert_eq!(v["sets"], serde_json::json!(sets), "{v}");
    let snaps: Vec<&str> = nights
        .iter()
        .map(|n| n["snapshots"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        v["snapshots_not_in_catalog"],
        serde_json::json!(snaps),
        "{v}"
    );

    // The rebuilt catalog knows the sets, their cartridges and where those are.
    let st = s.json(121, &["tape", "status", "--pool", "weekday"], 0);
    for n in &nights {
        let set = st["sets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == n["set"])
            .unwrap_or_else(|| panic!("{} not in {st}", n["set"]));
        assert_eq!(set["cartridges"], n["cartridges"], "{st}");
        assert_eq!(set["complete"], true, "{st}");
        let t = n["cartridges"][0].as_str().unwrap();
        assert_eq!(location_of(&s, 121, "weekday", t)["kind"], "library-slot");
    }

    // Restore the first night's snapshot from its set, named explicitly.
    let target = s.dir.join("restored");
    s.ok(
        122,
        &[
            "tape",
            "restore",
            "--pool",
            "weekday",
            "--set",
            sets[0],
            &snaps[0][..10],
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&first, &target.join("data"));

    // A snapshot that is not in the named set: refused, naming the set.
    let (_, err) = s.code(
        123,
        &[
            "tape",
            "restore",
            "--pool",
            "weekday",
            "--set",
            sets[0],
            &snaps[1][..10],
            "--target",
            s.dir.join("r2").to_str().unwrap(),
        ],
        1,
    );
    assert!(
        err.contains(sets[0]) && err.contains(&snaps[1][..10]),
        "{err}"
    );
}

const TWO_POOLS: &str = r#"[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "3d"
virtual_library = "vtl"

[[tape_pool]]
name = "monthly"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "90d"
virtual_library = "vtl"
"#;

/// Two pools in one SIMULATED library. A cartridge whose barcode says
/// pool `weekday` but whose tape label says `monthly` (someone swapped the
/// barcode stickers) is loaded, its label read, and refused without a byte
/// written; a blank cartridge nobody labelled is never used. With nothing
/// else usable the job fails (exit 1) naming both, and the refused
/// cartridge goes back to its slot unchanged. A cartridge labelled for the
/// pool then takes the night.
#[test]
fn a_cartridge_with_another_pools_label_or_none_is_never_written() {
    let mut s = Site::new(TWO_POOLS);
    s.ok(
        0,
        &["tape", "sim", "create", "--pool", "weekday", "--slots", "6"],
    );
    for (t, pool) in [("HKN501L9", "weekday"), ("HKN601L9", "monthly")] {
        s.ok(0, &["tape", "sim", "insert", "--pool", pool, t]);
        s.ok(0, &["tape", "label", "--pool", pool, t]);
    }
    // The blank one: in the library, never labelled.
    s.ok(
        0,
        &["tape", "sim", "insert", "--pool", "weekday", "HKN509L9"],
    );
    // The sticker swap: HKN501L9's tape now carries HKN601L9's label.
    let images = s.dir.join("vtl").join("cartridges");
    fs::copy(images.join("HKN601L9.tape"), images.join("HKN501L9.tape")).unwrap();
    let before = fs::read(images.join("HKN501L9.tape")).unwrap();
    let blank = fs::read(images.join("HKN509L9.tape")).unwrap();

    s.night(1);
    let (_, err) = s.code(60, &["tape", "backup", "--pool", "weekday"], 1);
    assert!(
        err.contains("HKN501L9") && err.contains("another label") && err.contains("monthly"),
        "names the cartridge and the label it carries: {err}"
    );
    assert!(err.contains("no cartridge of pool weekday"), "{err}");
    assert!(
        !err.contains("HKN509L9 is blank"),
        "the blank one is not even loaded: {err}"
    );
    assert_eq!(fs::read(images.join("HKN501L9.tape")).unwrap(), before);
    assert_eq!(fs::read(images.join("HKN509L9.tape")).unwrap(), blank);
    let lib = s.json(61, &["tape", "status", "--pool", "weekday"], 0);
    assert!(
        lib["library"]["drives"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["cartridge"].is_null()),
        "the refused cartridge went back to its slot: {lib}"
    );
    assert_eq!(s.offline(61), 0, "nothing was counted");

    // A cartridge labelled for the pool takes the night; the others stay as they were.
    s.ok(
        62,
        &["tape", "sim", "insert", "--pool", "weekday", "HKN502L9"],
    );
    s.ok(62, &["tape", "label", "--pool", "weekday", "HKN502L9"]);
    let v = s.json(63, &["tape", "backup", "--pool", "weekday"], 0);
    assert_eq!(v["cartridges"], serde_json::json!(["HKN502L9"]), "{v}");
    assert_eq!(fs::read(images.join("HKN501L9.tape")).unwrap(), before);
    assert_eq!(fs::read(images.join("HKN509L9.tape")).unwrap(), blank);
    assert_eq!(s.koban_of(64, "HKN502L9"), vec!["①-2-1"]);
}

/// A SIMULATED single drive holding another pool's cartridge, or a blank
/// one: the job asks for the right cartridge, naming what is there.
#[test]
fn a_single_drive_with_the_wrong_cartridge_asks_for_the_right_one() {
    let mut s = Site::new(&format!(
        "{SINGLE}\n[[tape_pool]]\nname = \"monthly\"\nmode = \"single-drive\"\nafter_job = \"eject\"\nallocation = \"weekday\"\nretention = \"90d\"\nvirtual_library = \"vtl\"\n"
    ));
    s.ok(0, &["tape", "sim", "create", "--pool", "single"]);
    s.ok(
        0,
        &["tape", "sim", "insert", "--pool", "monthly", "HKN701L9"],
    );
    s.ok(0, &["tape", "label", "--pool", "monthly", "HKN701L9"]);
    s.night(1);
    let (_, err) = s.code(60, &["tape", "backup", "--pool", "single"], 1);
    assert!(
        err.contains("HKN701L9") && err.contains("of pool monthly") && err.contains("pool single"),
        "{err}"
    );
    s.ok(
        61,
        &[
            "tape", "move", "--pool", "monthly", "HKN701L9", "--to", "eject",
        ],
    );
    s.ok(
        61,
        &["tape", "sim", "insert", "--pool", "single", "HKN702L9"],
    );
    let (_, err) = s.code(62, &["tape", "backup", "--pool", "single"], 1);
    assert!(err.contains("blank"), "{err}");
    assert_eq!(s.offline(63), 0);
}

/// A SIMULATED single drive and a set larger than a cartridge: with
/// `--wait-for-cartridge` the job asks for the next cartridge at end of
/// media and goes on when a person (here the test, through `tape sim`)
/// inserts it; the set spans three cartridges, each ejected (①-1-1), and
/// counts as one generation. `--verify` asks for the earlier cartridges
/// again and reads them back.
#[test]
fn a_single_drive_job_waits_for_each_next_cartridge_a_person_inserts() {
    let mut s = Site::new(SINGLE);
    s.ok(0, &["tape", "sim", "create", "--pool", "single"]);
    let tapes = ["HKN801L9", "HKN802L9", "HKN803L9"];
    for t in tapes {
        s.ok(
            0,
            &[
                "tape",
                "sim",
                "insert",
                "--pool",
                "single",
                t,
                "--capacity",
                "8MiB",
            ],
        );
        s.ok(0, &["tape", "label", "--pool", "single", t]);
        s.ok(0, &["tape", "move", "--pool", "single", t, "--to", "eject"]);
    }
    fs::write(s.data.join("scan.dcm"), noise(18_000_000, 7)).unwrap();
    s.night(1);
    s.ok(1, &["tape", "sim", "insert", "--pool", "single", tapes[0]]);
    let mut job = s
        .command(
            60,
            &[
                "--json",
                "tape",
                "backup",
                "--pool",
                "single",
                "--wait-for-cartridge",
                "2m",
                "--verify",
            ],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The person: whenever the drive is empty, the next cartridge goes in:
    // the second and third to write, then the first and second again for
    // the verify (which reads the third first, as it is in the drive).
    let asked = [tapes[1], tapes[2], tapes[0], tapes[1]];
    let mut next = 0;
    let started = std::time::Instant::now();
    while job.try_wait().unwrap().is_none() {
        assert!(started.elapsed().as_secs() < 100, "the job did not finish");
        let st = s.json(61, &["tape", "status", "--pool", "single"], 0);
        if st["drive"]["loaded"] == false && next < asked.len() {
            s.ok(
                61,
                &["tape", "sim", "insert", "--pool", "single", asked[next]],
            );
            next += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = job.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("waiting"), "the job asked: {err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cartridges"], serde_json::json!(tapes), "{v}");
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(next, asked.len(), "every cartridge was asked for");
    for t in tapes {
        assert_eq!(
            s.koban_of(120, t),
            vec!["①-1-1"],
            "{t}: {}",
            String::from_utf8_lossy(&s.run(120, &["catalog", "events"]).stdout)
        );
    }
    assert_eq!(s.offline(120), 1);
}

/// Anchors on the SIMULATED library (`hokan tape sim`; no tape hardware):
/// the set catalog each tape job writes carries the catalog's head, and
/// `tape scan` reports it and checks it. When the attacker rolls the
/// catalog (database, WAL, head file) back to before the job, the scan
/// names the rollback, records nothing from the tapes, and exits 12.
#[test]
fn tape_scan_reports_each_anchor_and_names_a_rolled_back_catalog() {
    let mut s = library_with(&["HKN401L9", "HKN402L9"], "1GiB");
    // The attacker's copy: taken with no hokan process running, after the
    // cartridges were labelled (a catalog with events), before the job.
    let copy: Vec<(String, Vec<u8>)> = fs::read_dir(&s.dir)
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
    assert!(copy.iter().any(|(n, _)| n == "catalog.db.head"));

    s.night(1);
    let night = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
    let tape = night["cartridges"][0].as_str().unwrap().to_owned();

    // The genuine catalog contains the anchor the scan finds on tape.
    let v = s.json(70, &["tape", "scan", "--pool", "weekday"], 0);
    let anchors = v["anchors"].as_array().unwrap();
    let a = anchors
        .iter()
        .find(|a| a["medium"] == tape.as_str())
        .unwrap_or_else(|| panic!("no anchor of {tape}: {v}"));
    assert_eq!(a["set"], night["set"], "{v}");
    assert_eq!(a["site"], "テープ病院", "{v}");
    assert_eq!(a["in_catalog"], true, "{v}");
    let seq = a["seq"].as_u64().unwrap();
    let hash = a["hash"].as_str().unwrap().to_owned();
    let db = rusqlite::Connection::open(s.dir.join("catalog.db")).unwrap();
    let (kind, stored): (String, Vec<u8>) = db
        .query_row(
            "SELECT kind, hash FROM events WHERE seq = ?1",
            [seq as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let stored: String = stored.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(stored, hash);
    // The head just before the set catalog was written: the set's last
    // cartridge labelled into it, before any copy was recorded.
    assert_eq!(kind, "cartridge-labeled");
    drop(db);

    // The rollback: every file of the catalog replaced by the old copy.
    for e in fs::read_dir(&s.dir).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().starts_with("catalog.db") {
            fs::remove_file(e.path()).unwrap();
        }
    }
    for (name, bytes) in &copy {
        fs::write(s.dir.join(name), bytes).unwrap();
    }
    let (out, err) = s.code(80, &["--json", "tape", "scan", "--pool", "weekday"], 12);
    assert!(
        err.contains(&tape) && err.contains(&format!("event {seq}")),
        "names the cartridge and the anchor: {err}"
    );
    assert!(err.contains("rolled back"), "{err}");
    assert!(err.contains("hokan catalog verify"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rolled_back"][0]["anchor"]["seq"], seq, "{v}");
    // Nothing from the tapes was recorded into the rolled-back catalog.
    let st = s.json(81, &["tape", "status", "--pool", "weekday"], 0);
    assert_eq!(st["sets"], serde_json::json!([]), "no set rebuilt: {st}");
}

/// README's `hokan tape restore --pool weekday latest --target …` on the
/// SIMULATED library: `latest` and an id (short and full) restore with the
/// catalog intact, and again after the catalog is deleted and rebuilt by
/// `tape scan` (no `--set` needed).
#[test]
fn tape_restore_latest_and_by_id_with_the_catalog_and_after_scan() {
    let mut s = library_with(&["HKN401L9", "HKN402L9"], "1GiB");
    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
    let snap = v["snapshots"][0].as_str().unwrap().to_owned();
    let restore = |s: &Site, m: i64, what: &str, dir: &str| {
        let target = s.dir.join(dir);
        s.ok(
            m,
            &[
                "tape",
                "restore",
                "--pool",
                "weekday",
                what,
                "--target",
                target.to_str().unwrap(),
            ],
        );
        assert_same(&s.data, &target.join("data"));
    };
    restore(&s, 61, "latest", "r-latest");
    restore(&s, 62, &snap[..8], "r-short");
    restore(&s, 63, &snap, "r-full");
    for f in fs::read_dir(&s.dir).unwrap() {
        let f = f.unwrap();
        if f.file_name().to_string_lossy().starts_with("catalog.db") {
            fs::remove_file(f.path()).unwrap();
        }
    }
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    s.ok(120, &["tape", "scan", "--pool", "weekday"]);
    restore(&s, 121, "latest", "s-latest");
    restore(&s, 122, &snap[..8], "s-short");
    restore(&s, 123, &snap, "s-full");
    // An id no set holds: one whole sentence naming the set and its cartridge.
    let (_, err) = s.code(
        124,
        &[
            "tape", "restore", "--pool", "weekday", "0000dead", "--target", "x",
        ],
        1,
    );
    assert!(
        err.contains(
            "No complete media set of pool weekday in the catalog holds snapshot 0000dead."
        ) && err.contains("HKN40"),
        "{err}"
    );
}

/// A SIMULATED single drive left empty: `tape restore` asks for the
/// cartridge holding the generation by barcode, set and snapshot (exit 13).
#[test]
fn a_single_drive_restore_with_an_empty_drive_asks_for_the_named_cartridge() {
    let (s, v) = single_with_one_set("HKN103L9");
    let set = v["set"].as_str().unwrap().to_owned();
    s.ok(
        61,
        &["tape", "sim", "take-out", "--pool", "single", "HKN103L9"],
    );
    let (_, err) = s.code(
        62,
        &[
            "tape", "restore", "--pool", "single", "latest", "--target", "r",
        ],
        13,
    );
    assert!(
        err.contains("holds no cartridge. Insert HKN103L9 (media set")
            && err.contains(&set)
            && !err.contains("no cartridge to write"),
        "{err}"
    );
    s.ok(
        63,
        &["tape", "sim", "insert", "--pool", "single", "HKN103L9"],
    );
    s.ok(
        64,
        &[
            "tape", "restore", "--pool", "single", "latest", "--target", "r",
        ],
    );
    assert_same(&s.data, &s.dir.join("r").join("data"));
}
