//! The person's tape commands, a restore from tape alone and a scan into
//! a lost catalog, on a SIMULATED library (`hokan_tape::virt`) opened from
//! a pool's settings as the binary opens it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hokan_catalog::Catalog;
use hokan_offline::Location;
use hokan_repo::Repository;
use hokan_site::{AfterJob, Allocation, TapeMode, TapePool};
use hokan_store::LocalStore;
use hokan_tape::virt::{LibraryShape, VirtualLibrary};
use time::macros::datetime;
use time::{OffsetDateTime, UtcOffset};

use super::backup::{backup, BackupJob, Note, TapeProgress};
use super::library::Devices;
use super::manage::{self, MoveTo, MovedTo};
use super::restore::{self as from_tape, NoSet};
use super::{devices, scan, PoolRef};
use crate::catalog::{sync, SyncOptions};
use crate::copy::snapshots_to_copy;
use crate::test_repo::{backup as snap, new_repo, PW};
use crate::{Clock, JobError};

const NOW: OffsetDateTime = datetime!(2026-11-23 22:00 UTC);

fn pool() -> PoolRef<'static> {
    PoolRef {
        name: "p",
        allocation: Allocation::Weekday,
        retention: time::Duration::days(28),
        mode: TapeMode::Library,
        after_job: AfterJob::Unload,
    }
}

/// A SIMULATED library of one drive, four slots and a mail slot holding
/// blank cartridges `tapes`, and its folder.
fn library(dir: &Path, tapes: &[&str]) -> VirtualLibrary {
    let lib =
        VirtualLibrary::create(&dir.join("lib"), "vtl-p", LibraryShape::library(1, 4, 1)).unwrap();
    for t in tapes {
        lib.insert(t, 64 << 20, false).unwrap();
    }
    lib
}

/// The pool's devices, opened from its settings.
fn open(dir: &Path) -> Devices {
    let conf = TapePool {
        mode: TapeMode::Library,
        after_job: AfterJob::Unload,
        allocation: Allocation::Weekday,
        device: None,
        changer: None,
        drive: 0,
        virtual_library: Some(dir.join("lib")),
    };
    devices::open("p", &conf).unwrap()
}

struct Quiet;

impl TapeProgress for Quiet {
    fn total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn cartridge(&self, _: &str) {}
    fn verifying(&self) {}
    fn note(&self, _: Note<'_>) {}
    fn waiting(&self, _: &JobError, _: Duration) {}
}

#[test]
fn label_inventory_status_and_moves_on_a_simulated_library() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["T1", "T2"]);
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let mut dev = open(dir.path());
    let clock = Clock::new(NOW);

    let done = manage::label(&mut dev, &mut cat, &clock, "test", pool(), "T1").unwrap();
    assert!(done.slot.is_some());
    let other = PoolRef {
        name: "q",
        ..pool()
    };
    let e = manage::label(&mut dev, &mut cat, &clock, "test", other, "T1").unwrap_err();
    assert!(
        matches!(e, JobError::OtherPoolsMedium { ref pool, .. } if pool.as_deref() == Some("p"))
    );
    let e = manage::label(&mut dev, &mut cat, &clock, "test", pool(), "NOPE").unwrap_err();
    assert!(matches!(e, JobError::NotInLibrary { .. }), "{e:?}");

    // T2 was never labelled: the inventory names it, the catalog does not
    // learn it.
    let inv = manage::inventory(&mut dev, &mut cat, clock.at(), "test", "p").unwrap();
    assert_eq!(inv.unknown, vec!["T2".to_owned()]);

    let st = manage::status(&mut dev, &cat, "p").unwrap();
    assert_eq!(st.cartridges.len(), 1);
    assert_eq!(st.cartridges[0].medium.id.as_str(), "T1");
    assert!(st.cartridges[0].by_device);
    assert_eq!(st.library.slots.len(), 5);

    let at = |cat: &Catalog| {
        cat.media().unwrap()[0]
            .location
            .as_ref()
            .map(|o| o.location.clone())
    };
    let moved = manage::move_in_library(&mut dev, &mut cat, &clock, "t", "T1", MoveTo::Drive);
    assert_eq!(moved.unwrap(), MovedTo::Drive);
    assert!(matches!(at(&cat), Some(Location::InDrive { .. })));
    let moved = manage::move_in_library(&mut dev, &mut cat, &clock, "t", "T1", MoveTo::Slot);
    assert!(matches!(moved.unwrap(), MovedTo::Slot(_)));
    let moved = manage::move_in_library(&mut dev, &mut cat, &clock, "t", "T1", MoveTo::Export);
    assert_eq!(moved.unwrap(), MovedTo::MailSlot);
    assert!(matches!(at(&cat), Some(Location::MailSlot { .. })));
    // From the mail slot back to a storage slot.
    let moved = manage::move_in_library(&mut dev, &mut cat, &clock, "t", "T1", MoveTo::Slot);
    assert!(matches!(moved.unwrap(), MovedTo::Slot(_)));

    lib.insert("T3", 64 << 20, false).unwrap();
    let e = manage::check_in_library(&mut dev, "T4").unwrap_err();
    assert!(matches!(e, JobError::NotInLibrary { .. }));
    manage::check_in_library(&mut dev, "T3").unwrap();
}

#[test]
fn a_set_is_restored_from_tape_and_scanned_into_a_lost_catalog() {
    let (dir, repo) = new_repo();
    let id = snap(&repo, "a", "2026-11-23T20:00:00Z");
    let lib = library(dir.path(), &["T1"]);
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let opts = SyncOptions {
        repository: None,
        sources: &[],
    };
    sync(&repo, &mut cat, opts, NOW).unwrap();
    let mut dev = open(dir.path());
    let clock = Clock::new(NOW);
    manage::label(&mut dev, &mut cat, &clock, "test", pool(), "T1").unwrap();
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
    let later = Clock::new(NOW + time::Duration::minutes(5));
    backup(&repo, &mut cat, &mut dev, later, &job, &Quiet).unwrap();

    // `latest` is the generation the catalog knows; a snapshot no set holds
    // is a typed error naming the pool's sets.
    let (row, snapshot) = from_tape::find_set(&cat, "p", None, "latest").unwrap();
    assert_eq!(snapshot, id.to_hex());
    let e = from_tape::find_set(&cat, "p", None, "ffff").unwrap_err();
    assert!(
        matches!(&e, JobError::NoSetToRestore { why: NoSet::NoneHolds { .. }, known, .. } if known.len() == 1),
        "{e:?}"
    );

    // Read back into a folder, which opens as the repository.
    let clock = Clock::new(NOW + time::Duration::minutes(10));
    let catalog =
        from_tape::open_set(&mut dev, &mut cat, &clock, "t", "p", &row, &snapshot).unwrap();
    let out = dir.path().join("restored");
    std::fs::create_dir_all(&out).unwrap();
    from_tape::read_set(
        &mut dev, &mut cat, &clock, "t", &row, &catalog, &snapshot, &out,
    )
    .unwrap();
    let back = Repository::open(Arc::new(LocalStore::new(out)), PW).unwrap();
    let (snaps, damaged) = back.snapshots().unwrap();
    assert!(damaged.is_empty());
    assert_eq!(snaps.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![id]);

    // The catalog is lost: a scan of the library rebuilds the set, and
    // `latest` finds it without knowing the generations' times.
    let mut fresh = Catalog::open(&dir.path().join("fresh.db")).unwrap();
    let scanned = scan::read_cartridges(&mut dev, &mut fresh, &clock, "t", "p").unwrap();
    assert_eq!(scanned.found.len(), 1);
    assert!(scanned.rolled_back.is_empty());
    assert_eq!(scanned.anchors.len(), 1);
    assert_eq!(
        scanned.anchors[0].in_catalog, None,
        "a new catalog is not judged"
    );
    let rebuilt = scan::rebuild(&mut dev, &mut fresh, &clock, "t", pool(), &scanned).unwrap();
    assert_eq!(rebuilt.added, vec!["T1".to_owned()]);
    assert_eq!(rebuilt.sets, vec![row.id.clone()]);
    assert_eq!(rebuilt.unknown_snapshots, vec![id.to_hex()]);
    let (again, snapshot) = from_tape::find_set(&fresh, "p", None, "latest").unwrap();
    assert_eq!((again.id, snapshot.as_str()), (row.id.clone(), "latest"));

    // A cartridge of the set taken out: named before anything moves.
    let clock = Clock::new(NOW + time::Duration::minutes(20));
    manage::move_in_library(&mut dev, &mut cat, &clock, "t", "T1", MoveTo::Export).unwrap();
    lib.take_out("T1").unwrap();
    let e = from_tape::open_set(&mut dev, &mut cat, &clock, "t", "p", &row, "latest").unwrap_err();
    match e {
        JobError::SetCartridgesAway { away, .. } => {
            assert_eq!(away.len(), 1);
            assert_eq!(
                (away[0].medium.as_str(), away[0].seq, away[0].of),
                ("T1", 1, 1)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_pool_run_writes_a_set_onto_a_simulated_library_and_unloads_it() {
    let (dir, repo) = new_repo();
    let id = snap(&repo, "a", "2026-11-23T20:00:00Z");
    library(dir.path(), &["T1"]);
    let catalog = dir.path().join("catalog.db");
    let conf = TapePool {
        mode: TapeMode::Library,
        after_job: AfterJob::Unload,
        allocation: Allocation::Weekday,
        device: None,
        changer: None,
        drive: 0,
        virtual_library: Some(dir.path().join("lib")),
    };
    {
        let mut cat = Catalog::open(&catalog).unwrap();
        let mut dev = open(dir.path());
        manage::label(&mut dev, &mut cat, &Clock::new(NOW), "test", pool(), "T1").unwrap();
    }
    let job = super::PoolJob {
        pool: pool(),
        conf: &conf,
        catalog: &catalog,
        sync: SyncOptions::default(),
        specs: &[],
        verify: true,
        wait: Duration::ZERO,
        site: "test",
        offset: UtcOffset::UTC,
        started: Instant::now(),
        actor: "test",
        now: NOW + time::Duration::minutes(5),
    };
    let done = super::run_pool(&repo, &job, &Quiet).unwrap();
    assert_eq!(done.pool, "p");
    assert_eq!(
        done.snapshots,
        vec![hokan_offline::SnapshotId::new(id.to_hex())]
    );
    assert!(done.simulated && done.objects > 0 && done.backup.bytes > 0);
    assert_eq!(done.backup.cartridges, vec!["T1".to_owned()]);
    assert_eq!(done.backup.verified, Some(true));
    assert!(
        matches!(&done.backup.after_job[..], [super::library::Moved::Unloaded { medium, .. }] if medium == "T1"),
        "{:?}",
        done.backup.after_job
    );
    let json = serde_json::to_value(&done).unwrap();
    assert_eq!(json["set"], done.backup.set.as_str());
    assert_eq!(json["after_job"][0]["moved"], "unloaded");
    // Recorded: the copy on the set's cartridge.
    let cat = Catalog::open(&catalog).unwrap();
    assert!(cat
        .copies()
        .unwrap()
        .iter()
        .any(|c| c.medium.as_str() == "T1" && c.snapshot.as_str() == id.to_hex()));
    // The pool's lock is released with the job: a second run takes it,
    // and finds the only cartridge retained.
    let again = super::PoolJob {
        now: NOW + time::Duration::minutes(30),
        ..job
    };
    let e = super::run_pool(&repo, &again, &Quiet).unwrap_err();
    assert!(matches!(e, JobError::NoTapeCartridge { .. }), "{e:?}");
}
