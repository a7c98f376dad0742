//! Observing a SIMULATED tape library and a SIMULATED disk drive (one
//! that answers, one that hangs, one whose pool is busy), and judging a
//! missing and a rolled-back catalog.

use std::path::Path;
use std::time::{Duration, Instant};

use hokan_catalog::{Catalog, Event, Expected};
use hokan_disk::virt::{Shape, Sim};
use hokan_offline::{DeviceId, Location, MediumId, MediumKind, ObservedBy, Policy, PoolName, Text};
use hokan_site::{
    AfterJob, Allocation, DiskAfterJob, DiskPool, TapeMode, TapePool, Target, TargetKind,
};
use hokan_tape::virt::{LibraryShape, VirtualLibrary};
use time::macros::datetime;
use time::OffsetDateTime;

use super::observe::{DeviceKind, Outcome, Seen, Step};
use super::*;
use crate::{Clock, JobError, PoolLock};

const NOW: OffsetDateTime = datetime!(2026-11-23 22:00 UTC);
const LATER: OffsetDateTime = datetime!(2026-11-24 07:00 UTC);

fn how(timeout: Duration) -> Observe {
    Observe {
        now: LATER,
        timeout,
    }
}

fn tape_target(dir: &Path) -> Target {
    Target {
        name: PoolName::new("weekday"),
        retention: time::Duration::days(28),
        schedule: None,
        drill_schedule: None,
        kind: TargetKind::TapePool(TapePool {
            mode: TapeMode::Library,
            after_job: AfterJob::Unload,
            allocation: Allocation::Weekday,
            device: None,
            changer: None,
            drive: 0,
            virtual_library: Some(dir.join("vtl")),
        }),
    }
}

fn disk_target(dir: &Path) -> Target {
    let mut conf: DiskPool = crate::disk::tests::disk_pool(DiskAfterJob::Eject);
    conf.virtual_device = Some(dir.join("sim"));
    Target {
        name: PoolName::new("rdx"),
        retention: time::Duration::days(28),
        schedule: None,
        drill_schedule: None,
        kind: TargetKind::DiskPool(conf),
    }
}

/// A SIMULATED library holding cartridge `T1`, labelled for pool
/// `weekday` (so recorded in its slot by the device), and the catalog.
fn labelled_library(dir: &Path) -> (VirtualLibrary, Catalog) {
    let lib =
        VirtualLibrary::create(&dir.join("vtl"), "vtl-w", LibraryShape::library(1, 4, 1)).unwrap();
    lib.insert("T1", 64 << 20, false).unwrap();
    let mut cat = Catalog::open(&dir.join("catalog.db")).unwrap();
    let TargetKind::TapePool(conf) = tape_target(dir).kind else {
        unreachable!()
    };
    let mut dev = crate::tape::devices::open("weekday", &conf).unwrap();
    let pool = crate::tape::PoolRef {
        name: "weekday",
        allocation: Allocation::Weekday,
        retention: time::Duration::days(28),
        mode: TapeMode::Library,
        after_job: AfterJob::Unload,
    };
    crate::tape::manage::label(&mut dev, &mut cat, &Clock::new(NOW), "t", pool, "T1").unwrap();
    (lib, cat)
}

/// A SIMULATED RDX drive holding `RDX-1`, formatted for pool `rdx`.
fn formatted_drive(dir: &Path, cat: &mut Catalog) -> Sim {
    let sim = Sim::create(&dir.join("sim"), "rdx0", Shape::Drive).unwrap();
    sim.insert("RDX-1", None).unwrap();
    let mut dev = sim.device().unwrap();
    let TargetKind::DiskPool(conf) = disk_target(dir).kind else {
        unreachable!()
    };
    let name = PoolName::new("rdx");
    let req = crate::disk::format::FormatRequest {
        medium: "RDX-1",
        force: false,
        relabel: None,
        kind: MediumKind::RdxSingleDrive,
        retention: time::Duration::days(28),
        now: NOW,
        actor: "t",
    };
    let pool = crate::disk::PoolRef {
        name: &name,
        conf: &conf,
    };
    crate::disk::format::format(&mut dev, cat, &Clock::new(NOW), pool, &req).unwrap();
    sim
}

/// When the library reported `T1` at its labelling.
fn labelled_at(cat: &Catalog) -> OffsetDateTime {
    let o = cat.medium(&MediumId::new("T1")).unwrap().location.unwrap();
    assert!(matches!(o.by, ObservedBy::Device { .. }), "{o:?}");
    o.at
}

fn location(cat: &Catalog, m: &str) -> Option<Location> {
    cat.medium(&MediumId::new(m))
        .unwrap()
        .location
        .map(|o| o.location)
}

/// A person's record that `medium` is in the safe.
fn person_says_offsite(cat: &mut Catalog, medium: &str) {
    cat.record_all(
        NOW + time::Duration::hours(1),
        "media move",
        vec![Event::MediumLocated {
            medium: MediumId::new(medium),
            at: NOW + time::Duration::hours(1),
            location: Location::Offsite {
                site: "safe".into(),
            },
            by: ObservedBy::Person {
                person: "sato".into(),
            },
            note: None,
        }],
    )
    .unwrap();
}

#[test]
fn a_simulated_library_and_drive_are_believed_over_a_persons_word() {
    let dir = tempfile::tempdir().unwrap();
    let (_lib, mut cat) = labelled_library(dir.path());
    let sim = formatted_drive(dir.path(), &mut cat);
    // The person says the tape is in the safe; the library still holds it.
    person_says_offsite(&mut cat, "T1");
    // The cartridge was pulled out of the RDX drive by hand.
    sim.pull("RDX-1").unwrap();
    let targets = [tape_target(dir.path()), disk_target(dir.path())];

    let notes = observe_devices(&targets, &mut cat, how(Duration::from_secs(30)));
    assert_eq!(notes.len(), 2, "{notes:?}");
    let (tape, disk) = (&notes[0], &notes[1]);

    assert_eq!(tape.kind, DeviceKind::TapeLibrary);
    assert_eq!(tape.device, "vtl-w");
    assert!(tape.simulated && tape.observed(), "{tape:?}");
    assert_eq!(tape.last_observed, None);
    let slot = location(&cat, "T1").unwrap();
    assert!(matches!(slot, Location::LibrarySlot { .. }), "{slot:?}");
    assert_eq!(tape.sees(&MediumId::new("T1")), Some(&slot));
    match &tape.outcome {
        Outcome::Observed { moved, unknown, .. } => {
            assert_eq!(
                moved,
                &vec![Seen {
                    medium: MediumId::new("T1"),
                    location: slot.clone()
                }]
            );
            assert!(unknown.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let by = cat.medium(&MediumId::new("T1")).unwrap().location.unwrap();
    assert_eq!(by.at, LATER);
    assert!(matches!(by.by, ObservedBy::Device { .. }), "{by:?}");

    assert_eq!(disk.kind, DeviceKind::Disk);
    assert_eq!(disk.device, "rdx0");
    assert!(disk.observed(), "{disk:?}");
    let ejected = Location::Ejected {
        drive: Some(DeviceId::new("rdx0")),
    };
    assert_eq!(location(&cat, "RDX-1"), Some(ejected.clone()));
    assert_eq!(disk.sees(&MediumId::new("RDX-1")), None);

    // Asked again: nothing changed, nothing recorded.
    let again = observe_pool(
        &targets,
        &mut cat,
        &PoolName::new("rdx"),
        how(Duration::from_secs(30)),
    )
    .unwrap();
    assert!(
        matches!(&again.outcome, Outcome::Observed { moved, .. } if moved.is_empty()),
        "{again:?}"
    );
    assert!(observe_pool(
        &targets,
        &mut cat,
        &PoolName::new("nope"),
        how(Duration::ZERO)
    )
    .is_none());
}

/// Holds the SIMULATED library's lock (on an open file of its own, as
/// another process would), as a robot that never answers, until dropped.
struct Hang {
    _locked: std::fs::File,
}

impl Hang {
    fn library(dir: &Path) -> Hang {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(dir.join("vtl").join("lock")).unwrap();
        // SAFETY: flock on a descriptor this test owns; no memory involved.
        assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
        Hang { _locked: f }
    }
}

#[test]
fn a_hung_device_is_a_note_and_its_media_stay_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (_lib, mut cat) = labelled_library(dir.path());
    let labelled = labelled_at(&cat);
    person_says_offsite(&mut cat, "T1");
    let before = location(&cat, "T1");
    let targets = [tape_target(dir.path())];
    let hang = Hang::library(dir.path());
    let started = Instant::now();
    let notes = observe_devices(&targets, &mut cat, how(Duration::from_millis(500)));
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(hang);
    let note = &notes[0];
    assert!(
        matches!(note.outcome, Outcome::TimedOut { after } if after == Duration::from_millis(500)),
        "{note:?}"
    );
    assert!(!note.observed());
    assert_eq!(note.sees(&MediumId::new("T1")), None);
    // What the configuration names, since the device never answered.
    assert_eq!(note.device, dir.path().join("vtl").display().to_string());
    // The library's own report at labelling is the newest observation.
    assert_eq!(note.last_observed, Some(labelled));
    assert_eq!(location(&cat, "T1"), before);
}

#[test]
fn a_busy_pool_is_not_asked_and_a_missing_device_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (_lib, mut cat) = labelled_library(dir.path());
    let labelled = labelled_at(&cat);
    let targets = [tape_target(dir.path()), disk_target(dir.path())];
    let held = PoolLock::take(&dir.path().join("catalog.db"), "weekday").unwrap();
    let notes = observe_devices(&targets, &mut cat, how(Duration::from_secs(30)));
    drop(held);
    assert!(matches!(notes[0].outcome, Outcome::Busy), "{:?}", notes[0]);
    assert_eq!(notes[0].last_observed, Some(labelled));
    // No simulation folder for the disk pool.
    match &notes[1].outcome {
        Outcome::Failed { step, error } => {
            assert_eq!(*step, Step::Open);
            assert!(matches!(error, JobError::Disk(_)), "{error:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(notes[1].last_observed, None);
}

fn judge_at<'a>(catalog: &'a Path, policy: &'a Policy, extra: Vec<Expected>) -> Judge<'a> {
    Judge {
        catalog,
        policy,
        sources: &[],
        now: LATER,
        site: None,
        extra,
    }
}

fn no_name(_: &crate::s3::anchor::BucketAnchors, _: &str) -> Text {
    unreachable!("no bucket is read")
}

#[test]
fn a_missing_catalog_is_untrusted_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let policy = Policy::default();
    let j = judge(judge_at(&path, &policy, Vec::new()), &no_name).unwrap();
    assert!(!j.trusted());
    assert!(j.evaluation.is_untrusted() && !j.evaluation.compliant);
    assert!(j.catalog.is_none() && j.report.is_none() && j.buckets.is_empty());
    assert!(!path.exists());
}

/// Copy the catalog's files (database, head, WAL if any) from `from` to
/// `to`, removing those `from` lacks.
fn copy_catalog(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in [
        "catalog.db",
        "catalog.db.head",
        "catalog.db-wal",
        "catalog.db-shm",
    ] {
        let (src, dst) = (from.join(name), to.join(name));
        if src.exists() {
            std::fs::copy(&src, &dst).unwrap();
        } else if dst.exists() {
            std::fs::remove_file(&dst).unwrap();
        }
    }
}

#[test]
fn a_catalog_rolled_back_past_an_anchor_is_untrusted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let policy = Policy::default();
    let add = |cat: &mut Catalog, id: &str| {
        cat.record_all(
            NOW,
            "t",
            vec![Event::MediumAdded {
                medium: MediumId::new(id),
                kind: MediumKind::LtoLibrary,
                pool: None,
                label: None,
                capacity: None,
                note: None,
            }],
        )
        .unwrap();
    };
    let mut cat = Catalog::open(&path).unwrap();
    add(&mut cat, "T1");
    drop(cat);
    copy_catalog(dir.path(), &dir.path().join("before"));
    let mut cat = Catalog::open(&path).unwrap();
    add(&mut cat, "T2");
    // The head a job wrote on a cartridge after the second event.
    let anchored = Expected {
        head: cat.head().unwrap(),
        from: Text::new("anchor on cartridge T2", "カートリッジ T2 のアンカー"),
    };
    drop(cat);

    let j = judge(judge_at(&path, &policy, vec![anchored.clone()]), &no_name).unwrap();
    assert!(j.trusted(), "{:?}", j.evaluation.problems);
    assert!(j.report.as_ref().unwrap().ok());

    // Root puts the older catalog back.
    copy_catalog(&dir.path().join("before"), dir.path());
    let j = judge(judge_at(&path, &policy, vec![anchored]), &no_name).unwrap();
    assert!(!j.trusted());
    assert!(!j.evaluation.compliant);
    let report = j.report.unwrap();
    assert!(!report.ok());
    let said = format!("{:?}", report.problems);
    assert!(said.contains("anchor on cartridge T2"), "{said}");
    // Without the anchor the older catalog verifies: only the anchor tells.
    let j = judge(judge_at(&path, &policy, Vec::new()), &no_name).unwrap();
    assert!(j.trusted(), "{:?}", j.evaluation.problems);
}

#[test]
fn a_persons_move_out_of_a_device_that_holds_the_medium_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_lib, mut cat) = labelled_library(dir.path());
    let before = location(&cat, "T1");
    let targets = [tape_target(dir.path())];
    let t1 = MediumId::new("T1");
    let mv = |to: Location| media::PersonMove {
        medium: &t1,
        to,
        person: "sato",
        at: LATER,
        note: None,
        actor: "media move --by sato",
    };
    let safe = Location::Offsite {
        site: "safe".into(),
    };
    let e = media::record_move(
        &mut cat,
        &targets,
        how(Duration::from_secs(30)),
        mv(safe.clone()),
    )
    .unwrap_err();
    match &e {
        JobError::DeviceHoldsMedium { held } => {
            assert_eq!(held.said, safe);
            assert_eq!(Some(&held.seen), before.as_ref());
            assert_eq!(
                (held.kind, held.device.as_str()),
                (DeviceKind::TapeLibrary, "vtl-w")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.is_transient());
    assert_eq!(location(&cat, "T1"), before);

    // The library cannot be asked: the person's word is recorded, with
    // the note saying why the device was not heard.
    let _hang = Hang::library(dir.path());
    let moved = media::record_move(
        &mut cat,
        &targets,
        how(Duration::from_millis(300)),
        mv(safe.clone()),
    )
    .unwrap();
    assert!(matches!(
        moved.device.as_ref().map(|n| &n.outcome),
        Some(Outcome::TimedOut { .. })
    ));
    assert_eq!(location(&cat, "T1"), Some(safe));
}

#[test]
fn a_medium_is_added_where_a_person_put_it_and_retired_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let safe = Location::Offsite {
        site: "safe".into(),
    };
    let new = media::NewMedium {
        id: MediumId::new("T1"),
        kind: MediumKind::LtoLibrary,
        pool: Some(PoolName::new("weekday")),
        label: None,
        capacity: Some(64 << 20),
        note: None,
        location: Some((safe.clone(), "sato".into())),
    };
    assert_eq!(
        media::add(&mut cat, NOW, "media add", new).unwrap().len(),
        2
    );
    assert_eq!(location(&cat, "T1"), Some(safe));
    let t1 = MediumId::new("T1");
    media::retire(&mut cat, LATER, "t", &t1, false, Some("worn".into())).unwrap();
    let e = media::retire(&mut cat, LATER, "t", &t1, true, None).unwrap_err();
    assert!(matches!(e, JobError::AlreadyRetired { .. }), "{e:?}");
    let e = media::retire(&mut cat, LATER, "t", &MediumId::new("NOPE"), false, None).unwrap_err();
    assert!(matches!(e, JobError::Catalog(_)), "{e:?}");
}
