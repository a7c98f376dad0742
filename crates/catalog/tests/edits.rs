//! No edit of the catalog's tables can raise the number of offline
//! generations a judge reports (issue 12).
//!
//! The attacker has root on the backup server and SQL on the catalog file.
//! Whatever rows they update, delete or duplicate (in the projection tables,
//! or in the event log after dropping its triggers), the judged evaluation —
//! facts replayed from a verified chain (`Catalog::evidence`) — either
//! refuses to judge or counts at most what the untouched catalog counted.
//! Run on a real SQLite file, with a fixed seed so CI is repeatable.

use std::path::Path;

use hokan_catalog::*;
use hokan_offline::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2026-11-20 22:00 UTC);
const NOW: OffsetDateTime = datetime!(2026-11-23 23:30 UTC);

/// Every table an edit may touch: the projection and the log.
const TABLES: &[&str] = &[
    "sources",
    "snapshots",
    "media",
    "locations",
    "copies",
    "protections",
    "lock_probes",
    "attestations",
    "jobs",
    "drills",
    "media_sets",
    "set_cartridges",
    "events",
];

fn h(n: i64) -> time::Duration {
    time::Duration::hours(n)
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

/// Three nights on three tapes; the newest tape is back in a drive, so
/// only two generations are offline: an edit that "puts it back" in its
/// slot would raise the count, which is what the attacker wants.
fn build(path: &Path) {
    let mut cat = Catalog::open(path).unwrap();
    let slot = |n: u32| Location::LibrarySlot {
        library: "lib1".into(),
        slot: Some(n),
    };
    let drive = Location::InDrive {
        drive: "drive0".into(),
    };
    for (i, t) in ["TAPE01L9", "TAPE02L9", "TAPE03L9"].iter().enumerate() {
        let night = T0 + h(24 * i as i64);
        let s = format!("{:064x}", i + 1);
        cat.record_all(
            night + h(3),
            "test",
            vec![
                Event::SnapshotRecorded {
                    snapshot: s.as_str().into(),
                    source: "emr".into(),
                    taken_at: night,
                    hostname: "emr-server".into(),
                    paths: vec!["/srv/emr".into()],
                    bytes: 1 << 30,
                    files: 1000,
                    partial: false,
                },
                Event::MediumAdded {
                    medium: (*t).into(),
                    kind: MediumKind::LtoLibrary,
                    pool: Some("weekday".into()),
                    label: None,
                    capacity: Some(12 << 40),
                    note: None,
                },
                located(t, night + h(2), drive.clone()),
                Event::CopyRecorded {
                    snapshot: s.as_str().into(),
                    medium: (*t).into(),
                    since: night + h(3),
                    complete: true,
                    with: vec![],
                },
                located(t, night + h(3), slot(i as u32 + 1)),
            ],
        )
        .unwrap();
    }
    cat.record(
        T0 + h(72),
        "lib1",
        located("TAPE03L9", T0 + h(72), drive.clone()),
    )
    .unwrap();
}

/// Offline generations a judge would report, or `None` when it refuses.
fn judged(path: &Path) -> Option<usize> {
    let cat = Catalog::open_existing(path).ok()?;
    let facts = cat.evidence(&[]).ok()?.facts?;
    Some(offline(&facts))
}

fn offline(facts: &Facts) -> usize {
    evaluate(facts, &Policy::default(), NOW)
        .sources
        .iter()
        .map(|s| s.offline_generations.len())
        .sum()
}

/// One SQL edit. Indexes are taken modulo what the table has.
#[derive(Clone, Debug)]
enum Edit {
    /// Set one cell to the value of the same column in another row, or to
    /// a literal.
    Update {
        table: usize,
        row: usize,
        col: usize,
        from_row: usize,
        literal: Option<usize>,
    },
    /// Delete one row.
    Delete { table: usize, row: usize },
    /// Insert a copy of a row with one column taken from another row.
    Duplicate {
        table: usize,
        row: usize,
        col: usize,
        from_row: usize,
    },
}

const LITERALS: &[&str] = &[
    "NULL",
    "0",
    "1",
    "''",
    "'active'",
    "'2099-01-01T00:00:00Z'",
    r#"'{"kind":"library-slot","library":"lib1","slot":3}'"#,
];

fn edit() -> impl Strategy<Value = Edit> {
    let t = 0..TABLES.len();
    prop_oneof![
        4 => (t.clone(), 0..64usize, 0..16usize, 0..64usize, proptest::option::of(0..LITERALS.len()))
            .prop_map(|(table, row, col, from_row, literal)| Edit::Update { table, row, col, from_row, literal }),
        2 => (t.clone(), 0..64usize).prop_map(|(table, row)| Edit::Delete { table, row }),
        1 => (t, 0..64usize, 0..16usize, 0..64usize)
            .prop_map(|(table, row, col, from_row)| Edit::Duplicate { table, row, col, from_row }),
    ]
}

fn columns(db: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut st = db
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap();
    let names = st.query_map([], |r| r.get(0)).unwrap();
    names.collect::<std::result::Result<_, _>>().unwrap()
}

fn rows(db: &rusqlite::Connection, table: &str) -> usize {
    db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as usize
}

/// Apply an edit; SQL the database refuses (a constraint) is skipped, as
/// it would be for the attacker.
fn apply(db: &rusqlite::Connection, e: &Edit) {
    let (table, row) = match e {
        Edit::Update { table, row, .. }
        | Edit::Delete { table, row }
        | Edit::Duplicate { table, row, .. } => (TABLES[*table], *row),
    };
    let n = rows(db, table);
    if n == 0 {
        return;
    }
    let pick = |r: usize| {
        format!(
            "(SELECT rowid FROM {table} ORDER BY rowid LIMIT 1 OFFSET {})",
            r % n
        )
    };
    let sql = match e {
        Edit::Update {
            col,
            from_row,
            literal,
            ..
        } => {
            let cols = columns(db, table);
            let c = &cols[col % cols.len()];
            let value = match literal {
                Some(l) => LITERALS[*l].to_owned(),
                None => format!(
                    "(SELECT {c} FROM {table} WHERE rowid = {})",
                    pick(*from_row)
                ),
            };
            format!(
                "UPDATE {table} SET {c} = {value} WHERE rowid = {}",
                pick(row)
            )
        }
        Edit::Delete { .. } => format!("DELETE FROM {table} WHERE rowid = {}", pick(row)),
        Edit::Duplicate { col, from_row, .. } => {
            let cols = columns(db, table);
            let c = &cols[col % cols.len()];
            let select: Vec<String> = cols
                .iter()
                .map(|x| {
                    if x == c {
                        format!(
                            "(SELECT {c} FROM {table} WHERE rowid = {})",
                            pick(*from_row)
                        )
                    } else {
                        x.clone()
                    }
                })
                .collect();
            format!(
                "INSERT INTO {table} ({}) SELECT {} FROM {table} WHERE rowid = {}",
                cols.join(", "),
                select.join(", "),
                pick(row)
            )
        }
    };
    let _ = db.execute(&sql, []);
}

fn config() -> Config {
    Config {
        cases: 96,
        rng_seed: RngSeed::Fixed(0x686f_6b61_6e12),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_table_edit_raises_the_offline_generations_judged(edits in proptest::collection::vec(edit(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        build(&path);
        let before = judged(&path).expect("the untouched catalog is judged");
        prop_assert_eq!(before, 2);
        {
            let db = rusqlite::Connection::open(&path).unwrap();
            db.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;").unwrap();
            for e in &edits {
                apply(&db, e);
            }
        }
        if let Some(after) = judged(&path) {
            prop_assert!(after <= before, "{edits:?} raised {before} to {after}");
        }
    }
}

/// The targeted edits the attacker would choose: each one raises the count
/// the tables alone give (so the property above is not vacuous), and each
/// one leaves the judge refusing.
#[test]
fn the_edits_that_would_lie_are_each_refused() {
    let lies = [
        // The newest location of TAPE03L9 says "slot 3" instead of "drive".
        "UPDATE locations SET location = (SELECT location FROM locations WHERE medium = 'TAPE03L9' ORDER BY seq DESC LIMIT 1 OFFSET 1) WHERE seq = (SELECT max(seq) FROM locations)",
        // The load into the drive never happened.
        "DELETE FROM locations WHERE seq = (SELECT max(seq) FROM locations)",
    ];
    for sql in lies {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        build(&path);
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute(sql, [])
            .unwrap();
        let tables_say = offline(&Catalog::open_existing(&path).unwrap().facts().unwrap());
        assert_eq!(
            tables_say, 3,
            "{sql}: the edit should raise the table count"
        );
        assert_eq!(judged(&path), None, "{sql}: the judge must refuse");
    }
}
