//! Trust the verdict (issue 12), doing what an attacker with root on the
//! backup server does to the catalog: delete it, edit each fact table with
//! SQL, roll it back (database alone, or with its head file, with and
//! without a later write). Every time, `status` must not say COMPLIANT: it
//! judges nothing and exits 12, with the reason. The real binary on a real
//! SQLite file.
//!
//! Anchors on offline media are tested where they are written: S3 in
//! `src/s3/anchor.rs` (moto), cartridges in `tests/disk.rs`, tape sets in
//! `tests/tape_more.rs`.

mod common;

use std::fs;
use std::path::Path;

use hokan_catalog::Catalog;
use serde_json::Value;
use time::Duration;

use common::site::*;

const UNTRUSTED: i32 = 12;

/// A compliant site: two generations on tapes back in their slots.
fn compliant() -> Site {
    let s = site();
    let ids = snapshot_ids(&s);
    for t in ["TAPE01L9", "TAPE02L9", "TAPE03L9"] {
        s.code(0, &["media", "add", t, "--pool", "weekday"], 0);
    }
    s.tape_copy(
        &ids[1],
        "TAPE02L9",
        s.night - Duration::days(1) + Duration::hours(1),
        2,
    );
    s.tape_copy(&ids[2], "TAPE03L9", s.night + Duration::hours(1), 3);
    assert_eq!(s.json(3, &["status", "--no-observe"], 0)["compliant"], true);
    s
}

const FILES: [&str; 4] = [
    "catalog.db",
    "catalog.db-wal",
    "catalog.db-shm",
    "catalog.db.head",
];

/// Copy the catalog's files from `from` to `to` (removing those `from`
/// lacks), as root on the server would.
fn copy_catalog(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for name in FILES {
        let (src, dst) = (from.join(name), to.join(name));
        if src.exists() {
            fs::copy(&src, &dst).unwrap();
        } else if dst.exists() {
            fs::remove_file(&dst).unwrap();
        }
    }
}

/// The problems of an untrusted verdict, joined.
fn untrusted_reasons(st: &Value) -> String {
    assert_eq!(st["trusted"], false, "{st:#}");
    assert_eq!(st["compliant"], false, "{st:#}");
    let problems = st["evaluation"]["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    assert!(
        problems.iter().all(|p| p["code"] == "catalog-untrusted"),
        "{st:#}"
    );
    assert!(
        st["evaluation"]["sources"].as_array().unwrap().is_empty(),
        "nothing judged: {st:#}"
    );
    problems
        .iter()
        .map(|p| p["message"]["en"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn a_deleted_catalog_is_not_judged_and_not_recreated() {
    let s = compliant();
    for f in FILES {
        let _ = fs::remove_file(s.dir.join(f));
    }
    let st = s.json(4, &["status"], UNTRUSTED);
    let why = untrusted_reasons(&st);
    assert!(why.contains("no catalog at"), "{why}");
    assert!(!s.catalog().exists(), "status must not create a catalog");

    let human = s.code(4, &["status"], UNTRUSTED);
    assert!(human.contains("NOT JUDGED"), "{human}");
    assert!(!human.contains("COMPLIANT\n"), "{human}");
    assert!(human.contains("hokan catalog verify"), "{human}");
    let ja = s.run(4, "ja", &["status"]);
    assert_eq!(ja.status.code(), Some(UNTRUSTED));
    assert!(String::from_utf8_lossy(&ja.stdout).contains("判定不能"));

    // The report is still written, and says it judged nothing.
    let out = s.dir.join("report.md");
    s.code(
        4,
        &[
            "report",
            "--format",
            "md",
            "--output",
            out.to_str().unwrap(),
        ],
        UNTRUSTED,
    );
    let md = fs::read_to_string(&out).unwrap();
    assert!(md.contains("NOT JUDGED"), "{md}");
    // Neither verify nor the media list create it.
    s.code(4, &["catalog", "verify"], UNTRUSTED);
    s.code(4, &["media", "list"], UNTRUSTED);
    assert!(!s.catalog().exists());
}

/// One SQL statement on each fact table. Tables without rows get a row
/// inserted; the others are edited in the way that would flatter the site.
const EDITS: &[(&str, &str)] = &[
    (
        "locations",
        "UPDATE locations SET location = '{\"kind\":\"offsite\",\"site\":\"bank\"}' WHERE seq = (SELECT max(seq) FROM locations)",
    ),
    (
        "locations",
        "UPDATE locations SET location = 'garbage' WHERE seq = (SELECT min(seq) FROM locations)",
    ),
    ("locations", "DELETE FROM locations WHERE seq = (SELECT max(seq) FROM locations)"),
    ("copies", "UPDATE copies SET complete = 1, since = '2026-11-01T00:00:00Z'"),
    ("copies", "DELETE FROM copies WHERE medium = 'primary'"),
    (
        "copies",
        "INSERT INTO copies SELECT snapshot, 'TAPE01L9', since, complete, verified_at, verified_ok, with_media FROM copies WHERE medium = 'TAPE02L9'",
    ),
    ("media", "UPDATE media SET kind = 'lto-library' WHERE id = 'primary'"),
    ("media", "DELETE FROM media WHERE id = 'TAPE01L9'"),
    ("snapshots", "UPDATE snapshots SET taken_at = '2026-11-21T00:00:00Z'"),
    ("snapshots", "DELETE FROM snapshots WHERE rowid = (SELECT min(rowid) FROM snapshots)"),
    ("sources", "DELETE FROM sources"),
    ("sources", "INSERT INTO sources VALUES ('pacs', '2026-11-01T00:00:00Z')"),
    (
        "protections",
        "INSERT INTO protections VALUES (999, 'TAPE01L9', 'x', '2026-11-01T00:00:00Z', 'compliance', '2099-01-01T00:00:00Z')",
    ),
    (
        "attestations",
        "INSERT INTO attestations VALUES ('A-999', '{}', '2026-11-01T00:00:00Z', NULL, NULL)",
    ),
    ("jobs", "UPDATE jobs SET detail = 'edited'"),
    ("jobs", "DELETE FROM jobs"),
    (
        "lock_probes",
        "INSERT INTO lock_probes VALUES (999, 'TAPE01L9', '2026-11-01T00:00:00Z', 'held', NULL)",
    ),
    (
        "drills",
        "INSERT INTO drills (seq, snapshot, medium, started_at, seconds, ok, by, detail) VALUES (999, 'x', 'TAPE01L9', '2026-11-01T00:00:00Z', 1.0, 1, NULL, NULL)",
    ),
    (
        "media_sets",
        "INSERT INTO media_sets VALUES ('S-999', 'weekday', '2026-11-01T00:00:00Z', NULL, 1, '[]', NULL)",
    ),
    (
        "set_cartridges",
        "INSERT INTO set_cartridges VALUES ('S-999', 1, 'TAPE01L9', '2026-11-01T00:00:00Z')",
    ),
];

#[test]
fn sql_on_any_fact_table_leaves_nothing_judged() {
    let s = compliant();
    let clean = s.dir.join("clean");
    copy_catalog(&s.dir, &clean);
    let mut tables_seen = std::collections::BTreeSet::new();
    for (table, sql) in EDITS {
        copy_catalog(&clean, &s.dir);
        let changed = rusqlite::Connection::open(s.catalog())
            .unwrap()
            .execute(sql, [])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(changed > 0, "{sql} changed nothing");
        tables_seen.insert(*table);
        let st = s.json(4, &["status", "--no-observe"], UNTRUSTED);
        let why = untrusted_reasons(&st);
        assert!(
            why.contains(&format!("table {table} does not match")),
            "{sql}: {why}"
        );
        // The other front-ends refuse the same way.
        s.code(4, &["media", "list"], UNTRUSTED);
        s.code(4, &["catalog", "verify"], 4);
    }
    assert_eq!(
        tables_seen.len(),
        12,
        "every projection table: {tables_seen:?}"
    );
    // An edited event (the log itself), triggers dropped.
    copy_catalog(&clean, &s.dir);
    rusqlite::Connection::open(s.catalog())
        .unwrap()
        .execute_batch(
            "DROP TRIGGER events_no_update; UPDATE events SET actor = 'x' WHERE seq = 3;",
        )
        .unwrap();
    let why = untrusted_reasons(&s.json(4, &["status", "--no-observe"], UNTRUSTED));
    assert!(why.contains("event 3"), "{why}");
    // Untouched again: judged again.
    copy_catalog(&clean, &s.dir);
    s.code(4, &["status", "--no-observe"], 0);
}

#[test]
fn a_rolled_back_catalog_is_caught_with_and_without_a_later_write() {
    let s = compliant();
    let old = s.dir.join("old");
    copy_catalog(&s.dir, &old);
    // The library loads TAPE03L9 into a drive: not compliant.
    s.code(
        4,
        &[
            "media",
            "move",
            "TAPE03L9",
            "--to",
            "drive:lib1-d0",
            "--by",
            "lib",
        ],
        0,
    );
    s.code(5, &["status", "--no-observe"], 9);
    let head = s.json(5, &["catalog", "verify"], 0)["report"]["head"].clone();
    let printed = format!("{}:{}", head["seq"], head["hash"].as_str().unwrap());
    let newer = s.dir.join("newer");
    copy_catalog(&s.dir, &newer);

    // 1. The database alone rolled back: its head file names a later event.
    fs::copy(old.join("catalog.db"), s.catalog()).unwrap();
    for f in ["catalog.db-wal", "catalog.db-shm"] {
        let _ = fs::remove_file(s.dir.join(f));
        if old.join(f).exists() {
            fs::copy(old.join(f), s.dir.join(f)).unwrap();
        }
    }
    let why = untrusted_reasons(&s.json(6, &["status", "--no-observe"], UNTRUSTED));
    assert!(why.contains("rolled back"), "{why}");
    // ... and a write on top of it is refused, exit 12, nothing written.
    let events_before = Catalog::open_existing(&s.catalog())
        .unwrap()
        .events(usize::MAX, false)
        .unwrap()
        .len();
    let o = s.run(
        6,
        "en",
        &[
            "media",
            "move",
            "TAPE03L9",
            "--to",
            "slot:lib1:3",
            "--by",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(UNTRUSTED), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("Nothing was written"));
    let events_after = Catalog::open_existing(&s.catalog())
        .unwrap()
        .events(usize::MAX, false)
        .unwrap()
        .len();
    assert_eq!(events_before, events_after);

    // 2. The head file deleted as well: a catalog with events and no head.
    fs::remove_file(s.dir.join("catalog.db.head")).unwrap();
    let why = untrusted_reasons(&s.json(6, &["status", "--no-observe"], UNTRUSTED));
    assert!(why.contains("head"), "{why}");
    // A garbage head file is no better.
    fs::write(s.dir.join("catalog.db.head"), "{not json").unwrap();
    untrusted_reasons(&s.json(6, &["status", "--no-observe"], UNTRUSTED));

    // 3. Database and head file rolled back together, then written once.
    // Without an anchor on offline media the server alone cannot tell
    // (documented); the head printed on the last report can.
    copy_catalog(&old, &s.dir);
    s.code(
        7,
        &[
            "media",
            "move",
            "TAPE01L9",
            "--to",
            "shelf:金庫",
            "--by",
            "x",
        ],
        0,
    );
    let o = s.run(7, "en", &["catalog", "verify", "--expect", &printed]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("another hash"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // The real catalog back: judged (not compliant, TAPE03L9 in a drive).
    copy_catalog(&newer, &s.dir);
    s.code(8, &["status", "--no-observe"], 9);
}
