//! The tape job on the virtual library.

use std::cell::RefCell;
use std::path::Path;

use super::*;
use crate::catalog::{sync, SyncOptions};
use crate::copy::snapshots_to_copy;
use crate::tape::inventory::drive_name;
use crate::test_repo::{backup as snap, new_repo};
use hokan_offline::MediumKind;
use hokan_site::{AfterJob, Allocation, TapeMode};
use hokan_tape::format::{write_label, Label, FORMAT_VERSION};
use hokan_tape::virt::{LibraryShape, VirtualLibrary};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-23 22:00 UTC);

/// What the job said, in order.
#[derive(Default)]
struct Said(RefCell<Vec<String>>);

impl TapeProgress for Said {
    fn total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn cartridge(&self, medium: &str) {
        self.0.borrow_mut().push(format!("writing {medium}"));
    }
    fn verifying(&self) {
        self.0.borrow_mut().push("verifying".into());
    }
    fn note(&self, note: Note<'_>) {
        self.0.borrow_mut().push(format!("{note:?}"));
    }
    fn waiting(&self, why: &JobError, _: Duration) {
        self.0.borrow_mut().push(format!("waiting: {why}"));
    }
}

/// A library of one drive and four slots holding `tapes`, each known
/// to the catalog as a cartridge of pool `p` and labelled for it (or
/// blank), and its devices.
fn library(dir: &Path, cat: &mut Catalog, tapes: &[(&str, bool)]) -> Devices {
    let lib =
        VirtualLibrary::create(&dir.join("lib"), "lib", LibraryShape::library(1, 4, 1)).unwrap();
    let name = lib.name();
    let mut dev = Devices {
        library: name.clone(),
        drive_id: drive_name(&name, 0).to_string(),
        simulated: true,
        drive_index: 0,
        changer: Some(Box::new(lib.changer().unwrap())),
        drive: Box::new(lib.drive(0).unwrap()),
    };
    let clock = Clock::new(NOW - time::Duration::days(1));
    for (barcode, labelled) in tapes {
        lib.insert(barcode, 64 << 20, false).unwrap();
        cat.record(
            clock.at(),
            "test",
            Event::MediumAdded {
                medium: MediumId::new(*barcode),
                kind: MediumKind::LtoLibrary,
                pool: Some(PoolName::new("p")),
                label: Some(barcode.to_string()),
                capacity: None,
                note: None,
            },
        )
        .unwrap();
        if !labelled {
            continue;
        }
        library::load(&mut dev, cat, &clock, "test", barcode).unwrap();
        write_label(
            &mut *dev.drive,
            &Label {
                format: FORMAT_VERSION,
                medium: barcode.to_string(),
                pool: "p".into(),
                set: String::new(),
                seq: 0,
                created: clock.at(),
                set_started: clock.at(),
            },
        )
        .unwrap();
        library::put_away(&mut dev, cat, &clock, "test", barcode).unwrap();
    }
    dev
}

fn pool() -> PoolRef<'static> {
    PoolRef {
        name: "p",
        allocation: Allocation::Weekday,
        retention: time::Duration::days(28),
        mode: TapeMode::Library,
        after_job: AfterJob::Unload,
    }
}

#[test]
fn a_set_is_written_read_back_recorded_and_put_away() {
    let (dir, repo) = new_repo();
    snap(&repo, "a", "2026-11-23T20:00:00Z");
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let opts = SyncOptions {
        repository: None,
        sources: &[],
    };
    sync(&repo, &mut cat, opts, NOW).unwrap();
    let mut dev = library(dir.path(), &mut cat, &[("T1", true), ("T2", true)]);
    let ids = snapshots_to_copy(&repo, &[]).unwrap();
    let plan = repo.copy_plan(&ids).unwrap();
    let job = BackupJob {
        pool: pool(),
        snapshots: &ids,
        plan: &plan,
        verify: true,
        wait: Duration::ZERO,
        site: "test",
        offset: UtcOffset::UTC,
        started: Instant::now(),
        actor: "test",
    };
    let said = Said::default();
    let done = backup(&repo, &mut cat, &mut dev, Clock::new(NOW), &job, &said).unwrap();
    assert!(!done.appended);
    assert_eq!(done.cartridges.len(), 1);
    assert_eq!(done.bytes, plan.bytes());
    assert_eq!(done.verified, Some(true));
    assert!(done.refused.is_empty());
    let m = &done.cartridges[0];
    assert!(
        matches!(&done.after_job[..], [Moved::Unloaded { medium, .. }] if medium == m),
        "{:?}",
        done.after_job
    );
    assert_eq!(
        *said.0.borrow(),
        vec![format!("writing {m}"), "verifying".to_owned()]
    );
    // The copy, verified, on the cartridge; the set closed (weekday).
    let copies = cat.copies().unwrap();
    let on_tape: Vec<_> = copies.iter().filter(|c| c.medium.as_str() == m).collect();
    assert_eq!(on_tape.len(), 1);
    assert_eq!(on_tape[0].snapshot.as_str(), ids[0].to_hex());
    let sets = cat.media_sets(Some("p")).unwrap();
    assert_eq!(sets.len(), 1);
    assert!(sets[0].closed_at.is_some() && sets[0].complete);
}

#[test]
fn blank_cartridges_are_refused_and_no_cartridge_is_a_typed_error() {
    let (dir, repo) = new_repo();
    snap(&repo, "a", "2026-11-23T20:00:00Z");
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let opts = SyncOptions {
        repository: None,
        sources: &[],
    };
    sync(&repo, &mut cat, opts, NOW).unwrap();
    // Known to the catalog, but its label was never written.
    let mut dev = library(dir.path(), &mut cat, &[("T1", false)]);
    let ids = snapshots_to_copy(&repo, &[]).unwrap();
    let plan = repo.copy_plan(&ids).unwrap();
    let job = BackupJob {
        pool: pool(),
        snapshots: &ids,
        plan: &plan,
        verify: false,
        wait: Duration::ZERO,
        site: "test",
        offset: UtcOffset::UTC,
        started: Instant::now(),
        actor: "test",
    };
    let said = Said::default();
    let e = backup(&repo, &mut cat, &mut dev, Clock::new(NOW), &job, &said).unwrap_err();
    match &e {
        JobError::NoTapeCartridge { pool, refused, .. } => {
            assert_eq!(pool, "p");
            assert!(
                matches!(&refused[..], [(m, TapeRefusal::Blank)] if m == "T1"),
                "{refused:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.is_transient());
    assert!(
        said.0.borrow()[0].contains("Refused"),
        "{:?}",
        said.0.borrow()
    );
    // Nothing recorded as copied on tape.
    assert!(cat
        .copies()
        .unwrap()
        .iter()
        .all(|c| c.medium.as_str() != "T1"));
}
