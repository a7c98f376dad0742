//! The catalog on a real SQLite file: facts in and out, refusals, the hash
//! chain against every kind of tampering, migrations, concurrent writers and
//! a writer killed with SIGKILL.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hokan_catalog::*;
use hokan_offline::*;
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2026-11-20 22:00 UTC);

fn hours(h: i64) -> time::Duration {
    time::Duration::hours(h)
}

fn snap(id: &str, source: &str, at: OffsetDateTime) -> Event {
    Event::SnapshotRecorded {
        snapshot: id.into(),
        source: source.into(),
        taken_at: at,
        hostname: "emr-server".into(),
        paths: vec!["/srv/emr".into()],
        bytes: 1 << 30,
        files: 1000,
        partial: false,
    }
}

fn tape(id: &str) -> Event {
    Event::MediumAdded {
        medium: id.into(),
        kind: MediumKind::LtoLibrary,
        pool: Some("weekday".into()),
        label: None,
        capacity: Some(12 << 40),
        note: None,
    }
}

fn located(id: &str, at: OffsetDateTime, location: Location) -> Event {
    Event::MediumLocated {
        medium: id.into(),
        at,
        location,
        by: ObservedBy::Device {
            device: "lib1".into(),
        },
        note: None,
    }
}

fn copy(s: &str, m: &str, at: OffsetDateTime) -> Event {
    Event::CopyRecorded {
        snapshot: s.into(),
        medium: m.into(),
        since: at,
        complete: true,
        with: vec![],
    }
}

fn slot(n: u32) -> Location {
    Location::LibrarySlot {
        library: "lib1".into(),
        slot: Some(n),
    }
}

fn drive() -> Location {
    Location::InDrive {
        drive: "drive0".into(),
    }
}

/// Three nights, three tapes, each back in its slot.
fn three_nights(cat: &mut Catalog) {
    for (i, t) in ["TAPE01L9", "TAPE02L9", "TAPE03L9"].iter().enumerate() {
        let night = T0 + hours(24 * i as i64);
        let s = format!("{:064x}", i + 1);
        cat.record_all(
            night + hours(3),
            "test",
            vec![
                snap(&s, "emr", night),
                tape(t),
                located(t, night + hours(2), drive()),
                copy(&s, t, night + hours(3)),
                located(t, night + hours(3), slot(i as u32 + 1)),
            ],
        )
        .unwrap();
    }
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn facts_round_trip_into_the_evaluator() {
    let dir = tempfile::tempdir().unwrap();
    let mut cat = Catalog::open(&dir.path().join("c.db")).unwrap();
    three_nights(&mut cat);
    let facts = cat.facts().unwrap();
    assert_eq!(facts.generations.len(), 3);
    assert_eq!(facts.media.len(), 3);
    assert_eq!(facts.copies.len(), 3);
    assert_eq!(facts.observations.len(), 6);
    let now = T0 + hours(24 * 3);
    let ev = evaluate(&facts, &Policy::default(), now);
    assert!(ev.compliant, "{:#?}", ev.all_problems());
    assert_eq!(ev.sources[0].offline_generations.len(), 3);
    assert!(ev
        .copies
        .iter()
        .all(|c| c.verdict.koban() == Some(Koban::LtoInLibrarySlot)));

    // The library loads TAPE02L9 into a drive: that generation is online.
    cat.record(now, "lib1", located("TAPE02L9", now, drive()))
        .unwrap();
    let ev = evaluate(&cat.facts().unwrap(), &Policy::default(), now + hours(1));
    assert_eq!(ev.sources[0].offline_generations.len(), 2);
    assert!(!ev.compliant);
}

#[test]
fn a_refused_event_leaves_nothing_behind() {
    let mut cat = Catalog::in_memory().unwrap();
    three_nights(&mut cat);
    let head = cat.head().unwrap();
    let before = cat.facts().unwrap();
    // The batch's first event is fine, the second names an unknown medium.
    let err = cat
        .record_all(
            T0,
            "test",
            vec![tape("TAPE09L9"), located("NOSUCH", T0, slot(9))],
        )
        .unwrap_err();
    assert!(
        matches!(err, CatalogError::UnknownMedium(ref m) if m.as_str() == "NOSUCH"),
        "{err}"
    );
    assert!(err.text().ja.contains("NOSUCH"));
    assert_eq!(cat.head().unwrap(), head);
    assert_eq!(cat.facts().unwrap(), before);

    let dup = cat.record(T0, "test", tape("TAPE01L9")).unwrap_err();
    assert!(matches!(dup, CatalogError::MediumExists(_)));
    let unknown = cat
        .record(T0, "test", copy(&format!("{:064x}", 99), "TAPE01L9", T0))
        .unwrap_err();
    assert!(matches!(unknown, CatalogError::UnknownSnapshot(_)));
    cat.record(
        T0,
        "test",
        Event::MediumCondition {
            medium: "TAPE01L9".into(),
            condition: Condition::Retired,
            reason: None,
        },
    )
    .unwrap();
    let retired = cat
        .record(T0, "test", copy(&format!("{:064x}", 2), "TAPE01L9", T0))
        .unwrap_err();
    assert!(matches!(retired, CatalogError::MediumRetired(_)));
    assert!(cat.verify(None).unwrap().ok());
}

#[test]
fn attestations_are_numbered_expire_and_withdraw() {
    let mut cat = Catalog::in_memory().unwrap();
    let id = cat.next_attestation_id().unwrap();
    assert_eq!(id.as_str(), "A-0001");
    let a = Attestation {
        id: id.clone(),
        claim: Claim::NetworkSegmented { autoloader: None },
        by: "山田".into(),
        evidence: "VLAN 20 and 30, ACL review 2026-11".into(),
        valid_from: T0,
        expires_at: T0 + hours(24 * 90),
        withdrawn_at: None,
    };
    cat.record(
        T0,
        "attest",
        Event::Attested {
            attestation: a.clone(),
        },
    )
    .unwrap();
    assert_eq!(cat.next_attestation_id().unwrap().as_str(), "A-0002");
    let again = cat
        .record(
            T0,
            "attest",
            Event::Attested {
                attestation: a.clone(),
            },
        )
        .unwrap_err();
    assert!(matches!(again, CatalogError::AttestationExists(_)));
    let backwards = Attestation {
        id: "A-0002".into(),
        expires_at: T0 - hours(1),
        ..a.clone()
    };
    assert!(matches!(
        cat.record(
            T0,
            "attest",
            Event::Attested {
                attestation: backwards
            }
        ),
        Err(CatalogError::BadPeriod { .. })
    ));
    let w = T0 + hours(48);
    cat.record(
        w,
        "attest",
        Event::AttestationWithdrawn {
            attestation: id.clone(),
            at: w,
            by: "山田".into(),
            reason: Some("network redesign".into()),
        },
    )
    .unwrap();
    let got = cat.attestations().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].withdrawn_at, Some(w));
    assert!(!got[0].holds_at(w + hours(1)));
    assert!(got[0].holds_at(w - hours(1)));
    // Attestations, person moves and withdrawals are what only the catalog knows.
    let only = cat.events(100, true).unwrap();
    assert_eq!(only.len(), 2);
    assert!(cat.verify(None).unwrap().ok());
}

#[test]
fn verify_passes_an_intact_catalog_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let head = {
        let mut cat = Catalog::open(&path).unwrap();
        three_nights(&mut cat);
        cat.head().unwrap()
    };
    assert_eq!(head.seq, 15);
    let cat = Catalog::open(&path).unwrap();
    let r = cat.verify(Some(&head)).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(r.events, 15);
    assert_eq!(r.anchor.as_ref(), Some(&head));
    assert_eq!(Head::parse(&head.to_string()), Some(head));
}

fn tampered(f: impl FnOnce(&rusqlite::Connection)) -> VerifyReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    {
        let mut cat = Catalog::open(&path).unwrap();
        three_nights(&mut cat);
    }
    let c = raw(&path);
    c.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
        .unwrap();
    f(&c);
    drop(c);
    let cat = Catalog::open(&path).unwrap();
    let r = cat.verify(None).unwrap();
    assert!(!r.ok(), "tampering went unnoticed");
    r
}

fn mentions(r: &VerifyReport, seq: Option<u64>, words: &str) -> bool {
    r.problems
        .iter()
        .any(|p| p.seq == seq && p.message.en.contains(words))
}

#[test]
fn the_event_log_is_append_only_for_plain_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let mut cat = Catalog::open(&path).unwrap();
    three_nights(&mut cat);
    let c = raw(&path);
    let e = c
        .execute("DELETE FROM events WHERE seq = 3", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = c
        .execute("UPDATE events SET actor = 'x' WHERE seq = 3", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[test]
fn verify_finds_an_edited_event() {
    // Someone turns "in drive" into "in slot 9" to make a copy count.
    let r = tampered(|c| {
        c.execute(
            "UPDATE events SET body = replace(body, '\"in-drive\",\"drive\":\"drive0\"', \
             '\"library-slot\",\"library\":\"lib1\",\"slot\":9') WHERE seq = 8",
            [],
        )
        .unwrap();
        c.execute(
            "UPDATE locations SET location = '{\"kind\":\"library-slot\",\"library\":\"lib1\",\"slot\":9}' WHERE seq = 8",
            [],
        )
        .unwrap();
    });
    assert!(
        mentions(&r, Some(8), "changed after it was recorded"),
        "{r:#?}"
    );
}

#[test]
fn verify_finds_a_deleted_event() {
    let r = tampered(|c| {
        c.execute("DELETE FROM events WHERE seq = 7", []).unwrap();
    });
    assert!(mentions(&r, Some(8), "missing"), "{r:#?}");
    assert!(mentions(&r, Some(8), "does not follow"), "{r:#?}");
}

#[test]
fn verify_finds_a_deleted_tail_through_the_anchor() {
    let r = tampered(|c| {
        c.execute("DELETE FROM events WHERE seq > 12", []).unwrap();
    });
    assert!(
        mentions(&r, Some(15), "events were deleted from its end"),
        "{r:#?}"
    );
}

#[test]
fn verify_finds_a_rewritten_chain_against_an_earlier_head() {
    // A careful forger recomputes every hash after editing; the head printed
    // on last month's report no longer matches.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let printed = {
        let mut cat = Catalog::open(&path).unwrap();
        three_nights(&mut cat);
        cat.head().unwrap()
    };
    let forged_dir = tempfile::tempdir().unwrap();
    let forged_path = forged_dir.path().join("c.db");
    {
        let mut cat = Catalog::open(&forged_path).unwrap();
        three_nights(&mut cat);
        // Differs from the original in its last event's content only.
    }
    let c = raw(&forged_path);
    c.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
        .unwrap();
    c.execute("DELETE FROM events WHERE seq = 15", []).unwrap();
    // A careful forger also rewrites the head file to the new end.
    let h14: Vec<u8> = c
        .query_row("SELECT hash FROM events WHERE seq = 14", [], |r| r.get(0))
        .unwrap();
    drop(c);
    std::fs::write(
        forged_dir.path().join("c.db.head"),
        format!(r#"{{"seq":14,"hash":"{}"}}"#, hex::encode(h14)),
    )
    .unwrap();
    let mut cat = Catalog::open(&forged_path).unwrap();
    cat.execute_forged_tail();
    let r = cat.verify(Some(&printed)).unwrap();
    assert!(mentions(&r, Some(15), "another hash"), "{r:#?}");
}

trait Forge {
    fn execute_forged_tail(&mut self);
}

impl Forge for Catalog {
    /// Re-record event 15 with a different location, through the API, so the
    /// chain is internally valid.
    fn execute_forged_tail(&mut self) {
        // The projection still has event 15's location row; remove it so
        // the replay comparison is not what catches this.
        let p = self.path().unwrap().to_owned();
        let c = raw(&p);
        c.execute("DELETE FROM locations WHERE seq = 15", [])
            .unwrap();
        drop(c);
        self.record(T0, "forger", located("TAPE03L9", T0, slot(7)))
            .unwrap();
        assert!(self.verify(None).unwrap().ok());
    }
}

#[test]
fn verify_finds_an_edited_table() {
    let r = tampered(|c| {
        c.execute(
            "UPDATE media SET condition = 'writable', pool = 'monthly' WHERE id = 'TAPE02L9'",
            [],
        )
        .unwrap();
    });
    assert!(mentions(&r, None, "table media does not match"), "{r:#?}");
    let r = tampered(|c| {
        c.execute("DELETE FROM copies WHERE medium = 'TAPE01L9'", [])
            .unwrap();
    });
    assert!(mentions(&r, None, "table copies does not match"), "{r:#?}");
}

#[test]
fn a_newer_schema_is_refused_and_migration_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    {
        let cat = Catalog::open(&path).unwrap();
        assert_eq!(cat.schema_version().unwrap(), SCHEMA_VERSION);
    }
    let cat = Catalog::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), SCHEMA_VERSION);
    drop(cat);
    raw(&path)
        .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    match Catalog::open(&path) {
        Err(CatalogError::NewerSchema { found, known, .. }) => {
            assert_eq!((found, known), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[test]
fn concurrent_writers_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    {
        let mut cat = Catalog::open(&path).unwrap();
        cat.record(T0, "setup", tape("TAPE01L9")).unwrap();
    }
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut cat = Catalog::open(&path).unwrap_or_else(|e| panic!("open: {e:?}"));
                for i in 0..40 {
                    let at = T0 + time::Duration::minutes(i);
                    cat.record(at, &format!("writer{t}"), located("TAPE01L9", at, slot(t)))
                        .unwrap_or_else(|e| panic!("record: {e:?}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let cat = Catalog::open(&path).unwrap();
    let r = cat.verify(None).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(r.events, 1 + 4 * 40);
    // The anchor follows the head: writers never move it backwards.
    let anchor: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("c.db.head")).unwrap()).unwrap();
    assert_eq!(anchor["seq"], 1 + 4 * 40, "{anchor}");
}

/// Run by `a_killed_writer_leaves_a_valid_catalog` in a child process.
#[test]
fn child_writer() {
    let Some(path) = std::env::var_os("HOKAN_CATALOG_CHILD") else {
        return; // Only meaningful as the child of the test below.
    };
    let mut cat = Catalog::open(Path::new(&path)).unwrap();
    let start = cat.head().unwrap().seq;
    for i in 0.. {
        let at = T0 + time::Duration::seconds(i);
        let id = format!("{:064x}", start as i64 * 1_000_000 + i);
        cat.record_all(
            at,
            "child",
            vec![
                snap(&id, "emr", at),
                copy(&id, "TAPE01L9", at),
                located("TAPE01L9", at, slot(1)),
            ],
        )
        .unwrap();
    }
}

#[test]
fn a_killed_writer_leaves_a_valid_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    {
        let mut cat = Catalog::open(&path).unwrap();
        cat.record(T0, "setup", tape("TAPE01L9")).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let mut last = 1;
    for round in 0..6u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
            .env("HOKAN_CATALOG_CHILD", &path)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(150 + 70 * round));
        // SIGKILL: no destructors, no rollback by the process itself.
        unsafe { libc_kill(child.id() as i32) };
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child was meant to be killed");
        let cat = Catalog::open(&path).unwrap();
        let r = cat.verify(None).unwrap();
        assert!(r.ok(), "round {round}: {:?}", r.problems);
        // Batches are all or nothing: every snapshot has its copy.
        let facts = cat.facts().unwrap();
        assert_eq!(facts.generations.len(), facts.copies.len());
        assert!(r.events > last, "round {round}: the child wrote nothing");
        last = r.events;
    }
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

unsafe fn libc_kill(pid: i32) {
    assert_eq!(kill(pid, 9), 0);
}

/// Media sets: cartridges join a set by being labelled (refused while they
/// still hold recorded copies), copies spanning the set name the other
/// cartridges, closing records the retention, and `verify` replays it all.
#[test]
fn media_sets_track_labels_spanning_copies_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let mut cat = Catalog::open(&dir.path().join("c.db")).unwrap();
    cat.record(T0, "t", snap("s1", "emr", T0)).unwrap();
    for t in ["A", "B"] {
        cat.record(T0, "t", tape(t)).unwrap();
    }
    // A holds an old single-cartridge copy: labelling it is refused.
    cat.record(T0, "t", copy("s1", "A", T0)).unwrap();
    let start = Event::MediaSetStarted {
        set: "set-1".into(),
        pool: "weekday".into(),
        at: T0,
    };
    cat.record(T0, "t", start.clone()).unwrap();
    assert!(matches!(
        cat.record(T0, "t", start),
        Err(CatalogError::SetExists(_))
    ));
    let label = |m: &str, seq| Event::CartridgeLabeled {
        medium: m.into(),
        set: "set-1".into(),
        seq,
        at: T0,
    };
    match cat.record(T0, "t", label("A", 1)) {
        Err(CatalogError::CartridgeHoldsCopies { medium, count }) => {
            assert_eq!((medium.as_str(), count), ("A", 1));
        }
        other => panic!("labelling a cartridge with copies: {other:?}"),
    }
    cat.record(
        T0,
        "t",
        Event::CopyRemoved {
            snapshot: "s1".into(),
            medium: "A".into(),
            reason: Some("relabelled".into()),
        },
    )
    .unwrap();
    cat.record(T0, "t", label("A", 1)).unwrap();
    assert!(matches!(
        cat.record(T0, "t", label("B", 1)),
        Err(CatalogError::SetSeqTaken { seq: 1, .. })
    ));
    cat.record(T0, "t", label("B", 2)).unwrap();
    assert_eq!(
        cat.retention_of(&"A".into()).unwrap(),
        Retained::OpenSet {
            set: "set-1".into()
        }
    );
    let t1 = T0 + time::Duration::hours(1);
    for (m, other) in [("A", "B"), ("B", "A")] {
        cat.record(
            t1,
            "t",
            Event::CopyRecorded {
                snapshot: "s1".into(),
                medium: m.into(),
                since: t1,
                complete: true,
                with: vec![other.into()],
            },
        )
        .unwrap();
    }
    let until = t1 + time::Duration::days(28);
    cat.record(
        t1,
        "t",
        Event::MediaSetClosed {
            set: "set-1".into(),
            at: t1,
            complete: true,
            snapshots: vec!["s1".into()],
            retained_until: until,
        },
    )
    .unwrap();
    let set = cat.media_set("set-1").unwrap();
    assert_eq!(set.cartridges, vec![MediumId::new("A"), MediumId::new("B")]);
    assert!(set.complete);
    assert_eq!(set.snapshots, vec![SnapshotId::new("s1")]);
    assert_eq!(
        cat.retention_of(&"B".into()).unwrap(),
        Retained::Until { at: until }
    );
    let copies = cat.facts().unwrap().copies;
    let on_a = copies.iter().find(|c| c.medium.as_str() == "A").unwrap();
    assert_eq!(on_a.with, vec![MediumId::new("B")]);
    let r = cat.verify(None).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
}

/// A catalog written by the first release (schema 1, made by `hokan demo`)
/// opens, migrates to the current schema, keeps its chain and anchor valid,
/// and reads its copies as single-medium copies.
#[test]
fn a_schema_1_catalog_migrates_and_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::copy(data.join("catalog-v1.db"), &path).unwrap();
    std::fs::copy(
        data.join("catalog-v1.db.head"),
        dir.path().join("catalog.db.head"),
    )
    .unwrap();
    let v: u32 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
    let cat = Catalog::open(&path).unwrap();
    let v: u32 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let r = cat.verify(None).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(r.events, 25);
    let copies = cat.facts().unwrap().copies;
    assert_eq!(copies.len(), 6);
    assert!(copies.iter().all(|c| c.with.is_empty()));
    assert!(cat.media_sets(None).unwrap().is_empty());
}

/// Regression (issue 12): a catalog rolled back to an older copy used to
/// accept the next write, which replaced the head file and hid the rollback.
/// Now the write is refused and nothing is recorded.
#[test]
fn a_rolled_back_catalog_refuses_the_next_write_and_a_deleted_head_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let old = dir.path().join("old.db");
    {
        let mut cat = Catalog::open(&path).unwrap();
        three_nights(&mut cat);
        // An attacker's older copy, taken consistently.
        raw(&path)
            .execute("VACUUM INTO ?1", [old.to_str().unwrap()])
            .unwrap();
        cat.record(T0, "later", located("TAPE03L9", T0, slot(7)))
            .unwrap();
    }
    // Roll the database back, keep the (newer) head file.
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    std::fs::copy(&old, &path).unwrap();
    let mut cat = Catalog::open(&path).unwrap();
    let before = cat.head().unwrap();
    let err = cat
        .record(T0, "attacker", located("TAPE03L9", T0, slot(8)))
        .unwrap_err();
    assert!(
        matches!(err, hokan_catalog::CatalogError::Untrusted { .. }),
        "{err:?}"
    );
    assert_eq!(cat.head().unwrap(), before, "nothing was recorded");
    assert!(!cat.verify(None).unwrap().ok());

    // The attacker deletes the head file instead: still refused, and verify says so.
    std::fs::remove_file(dir.path().join("c.db.head")).unwrap();
    let err = cat
        .record(T0, "attacker", located("TAPE03L9", T0, slot(8)))
        .unwrap_err();
    assert!(
        matches!(err, hokan_catalog::CatalogError::Untrusted { .. }),
        "{err:?}"
    );
    let r = cat.verify(None).unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| p.message.en.contains("head file")),
        "{r:#?}"
    );
}

#[test]
fn a_catalog_that_cannot_be_created_says_so_with_the_io_error() {
    let t = tempfile::tempdir().unwrap();
    let not_a_folder = t.path().join("file");
    std::fs::write(&not_a_folder, b"x").unwrap();
    let path = not_a_folder.join("site.db");
    match Catalog::open(&path) {
        Err(hokan_catalog::CatalogError::Create { path: p, source }) => {
            assert_eq!(p, path);
            assert_eq!(source.raw_os_error(), Some(20), "ENOTDIR: {source}");
        }
        Err(e) => panic!("expected Create, got {e:?}"),
        Ok(_) => panic!("opened a catalog under a file"),
    }
}

#[test]
fn catalog_and_head_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("site.db");
    drop(Catalog::open(&path).unwrap());
    for f in [path.clone(), t.path().join("site.db.head")] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
}

/// The notification outbox: queued, a failed attempt, sent; a second
/// `sent` is refused (a message goes out once), and the table replays.
#[test]
fn notifications_move_from_queued_to_sent_once_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let mut cat = Catalog::open(&dir.path().join("c.db")).unwrap();
    let id = cat.next_notification_id().unwrap();
    assert_eq!(id, "N-000001");
    let queued = |id: &str, target: &str| Event::NotificationQueued {
        id: id.into(),
        target: target.into(),
        notice: serde_json::json!({"type": "test"}),
    };
    cat.record(T0, "notify", queued(&id, "mail")).unwrap();
    assert!(matches!(
        cat.record(T0, "notify", queued(&id, "mail")),
        Err(CatalogError::NotificationExists(_))
    ));
    cat.record(
        T0 + hours(1),
        "notify",
        Event::NotificationFailed {
            id: id.clone(),
            target: "mail".into(),
            attempt: 1,
            reason: "connection refused".into(),
        },
    )
    .unwrap();
    let open = cat.notifications(true).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].attempts, open[0].last_attempt_at, open[0].state),
        (1, Some(T0 + hours(1)), NotificationState::Queued)
    );
    assert_eq!(open[0].last_error.as_deref(), Some("connection refused"));
    let sent = Event::NotificationSent {
        id: id.clone(),
        target: "mail".into(),
        attempt: 2,
    };
    cat.record(T0 + hours(2), "notify", sent.clone()).unwrap();
    assert!(matches!(
        cat.record(T0 + hours(2), "notify", sent),
        Err(CatalogError::NotificationClosed(_))
    ));
    assert!(matches!(
        cat.record(
            T0,
            "notify",
            Event::NotificationAbandoned {
                id: id.clone(),
                target: "other".into(),
                reason: "x".into()
            }
        ),
        Err(CatalogError::UnknownNotification { .. })
    ));
    assert!(cat.notifications(true).unwrap().is_empty());
    let all = cat.notifications(false).unwrap();
    assert_eq!(
        (all[0].state, all[0].attempts, all[0].closed_at),
        (NotificationState::Sent, 2, Some(T0 + hours(2)))
    );
    assert_eq!(cat.next_notification_id().unwrap(), "N-000002");
    let r = cat.verify(None).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
}

/// A job's figures are JSON with floats (seconds, rates). The tables are
/// checked against a replay of the log, so every float must come back from
/// the stored text exactly: a last-digit difference would make an honest
/// catalog look edited (found by `hokan run`, whose steps record seconds).
#[test]
fn job_details_with_floats_replay_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let mut cat = Catalog::open(&path).unwrap();
    // Values whose shortest representation is long, and which a fast
    // (not correctly rounded) parser reads one unit off.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut floats = vec![
        1.678_191_636_999_999_8,
        0.1 + 0.2,
        5e-324,
        1.7976931348623157e308,
    ];
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        floats.push((x % 10_000_000_000) as f64 / 1e9 + 1e-7 * ((x >> 40) as f64));
    }
    for (i, chunk) in floats.chunks(50).enumerate() {
        let at = T0 + time::Duration::minutes(i as i64);
        cat.record(
            at,
            "test",
            Event::JobFinished {
                job: "night".into(),
                target: "site".into(),
                started_at: at,
                finished_at: at,
                outcome: "ok".into(),
                detail: serde_json::json!({ "seconds": chunk }),
            },
        )
        .unwrap();
    }
    let report = cat.verify(None).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// A drill recorded by `hokan drill` keeps its figures and failures through
/// the projection and `catalog verify`'s replay; a drill in the older form
/// (no figures) still reads, as one without them.
#[test]
fn a_drill_keeps_its_figures_and_failures_and_an_old_form_drill_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    cat.record(T0, "test", snap("s1", "emr", T0)).unwrap();
    cat.record(T0, "test", tape("TAPE01L9")).unwrap();
    let old: Event = serde_json::from_str(
        r#"{"type":"drilled","snapshot":"s1","medium":"TAPE01L9",
            "started_at":"2026-11-21T01:00:00Z","seconds":12.5,"ok":true}"#,
    )
    .unwrap();
    cat.record(T0 + hours(3), "test", old).unwrap();
    let measured = DrillMeasures {
        kind: "tape".into(),
        source: "emr".into(),
        target: "/var/tmp/drill".into(),
        first_file_secs: Some(0.25),
        bytes: 1 << 20,
        throughput: 2_000_000.0,
        files_checked: 41,
        app_check: Some(AppCheck::TimedOut),
        failures: vec![DrillFailure {
            what: "pack 3fa2".into(),
            why: "authentication failed".into(),
        }],
        projected_secs: Some(536.9),
        rto_secs: Some(86_400.0),
    };
    cat.record(
        T0 + hours(4),
        "hokan drill",
        Event::Drilled {
            snapshot: "s1".into(),
            medium: "TAPE01L9".into(),
            started_at: T0 + hours(4),
            seconds: 0.5,
            ok: false,
            by: Some("佐藤".into()),
            detail: Some("pack 3fa2: authentication failed".into()),
            measured: Some(measured.clone()),
        },
    )
    .unwrap();
    let drills = cat.drills(10).unwrap();
    assert_eq!(drills.len(), 2);
    assert_eq!(drills[0].measured.as_ref(), Some(&measured));
    assert!(!drills[0].ok);
    assert_eq!(drills[1].measured, None);
    assert!(drills[1].ok);
    let r = cat.verify(None).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
}
