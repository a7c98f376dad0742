//! A disk pool's job as one call ([`run_pool`]): what `hokan disk backup`
//! and the night's disk step do, from the catalog's path and the opened
//! primary repository to the cartridge put away.

use std::path::Path;

use hokan_catalog::anchor::Anchor;
use hokan_catalog::Catalog;
use hokan_offline::{MediumId, PoolName, SnapshotId};
use hokan_repo::Repository;
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset, Weekday};

use super::{backup, device, BackupJob, PoolRef, PutAway};
use crate::catalog::SyncOptions;
use crate::copy::{snapshots_to_copy, CopyProgress};
use crate::rotation::{RotationPlan, Tonight};
use crate::{Clock, JobError, PoolLock};

/// The progress handle of [`run_pool`]: told the bytes planned once the
/// snapshots are chosen, then of each object copied.
pub trait PoolProgress: CopyProgress {
    /// The bytes the copy plans to write (some may be there already).
    fn total(&self, bytes: u64);
}

/// A disk pool's job: the pool, the site around it, and what to copy.
#[derive(Clone, Copy, Debug)]
pub struct PoolJob<'a> {
    /// The pool.
    pub pool: PoolRef<'a>,
    /// The catalog database (the pool's lock is taken beside it).
    pub catalog: &'a Path,
    /// What the catalog sync at the start needs.
    pub sync: SyncOptions<'a>,
    /// The snapshots asked for (id, prefix, `latest`); empty: the latest
    /// of each source.
    pub specs: &'a [String],
    /// Read every object back after writing.
    pub verify: bool,
    /// The site's name, carried by the anchor.
    pub site: &'a str,
    /// The site's time zone: the day of a weekday rotation.
    pub offset: UtcOffset,
    /// The actor recorded on the job's events.
    pub actor: &'a str,
    /// When the job begins (its events are recorded from then on).
    pub now: OffsetDateTime,
}

/// Tonight's cartridge of the pool by its rotation, on the site's day.
pub fn tonight(pool: PoolRef<'_>, now: OffsetDateTime, offset: UtcOffset) -> Tonight {
    let local = now.to_offset(offset);
    RotationPlan::disk(pool.conf.rotation, &pool.conf.cartridges, local).tonight
}

/// What [`run_pool`] did.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PoolRun {
    /// The rotation has no cartridge for the day: no device was opened
    /// and nothing copied (the catalog was synced).
    Skipped {
        /// The pool.
        pool: PoolName,
        /// The day without a cartridge.
        day: Weekday,
    },
    /// The snapshots were copied onto tonight's cartridge.
    Copied(Box<PoolCopy>),
}

/// The copy of a disk pool's job ([`PoolRun::Copied`]).
#[derive(Clone, Debug, Serialize)]
pub struct PoolCopy {
    /// The pool.
    pub pool: PoolName,
    /// The cartridge written.
    pub medium: MediumId,
    /// The snapshots copied.
    pub snapshots: Vec<SnapshotId>,
    /// Bytes written now.
    pub bytes_written: u64,
    /// Bytes the cartridge held already.
    pub bytes_already_there: u64,
    /// Whether every object was read back.
    pub verified: bool,
    /// The anchor written on the cartridge.
    pub anchor: Anchor,
    /// The anchor the cartridge carried before.
    pub previous_anchor: Option<Anchor>,
    /// Where the cartridge went after the job.
    pub put_away: PutAway,
    /// Whether the device is a simulation.
    pub simulated: bool,
}

/// A disk pool's job from start to end: open the catalog, take the pool's
/// lock (else [`JobError::PoolBusy`]), sync the catalog with `repo`, choose
/// the snapshots ([`JobError::NoSnapshotToCopy`] when there is none) and
/// their copy plan, and tonight's cartridge by the rotation
/// ([`PoolRun::Skipped`] when it has none for the day); then open the
/// pool's device and run [`backup`] (the cartridge attached and checked,
/// the copy, the copies recorded, the anchor, the cartridge put away).
///
/// `repo` is the primary repository, opened by the caller. `progress` is
/// told the planned bytes before the copy, then of each object.
pub fn run_pool(
    repo: &Repository,
    job: &PoolJob<'_>,
    progress: &dyn PoolProgress,
) -> Result<PoolRun, JobError> {
    let clock = Clock::new(job.now);
    let mut cat = Catalog::open(job.catalog)?;
    let _lock = PoolLock::take(job.catalog, job.pool.name.as_str())?;
    crate::catalog::sync(repo, &mut cat, job.sync, job.now)?;
    let ids = snapshots_to_copy(repo, job.specs)?;
    let plan = repo.copy_plan(&ids)?;
    let want = tonight(job.pool, job.now, job.offset);
    if let Tonight::NoneToday(day) = want {
        return Ok(PoolRun::Skipped {
            pool: job.pool.name.clone(),
            day,
        });
    }
    let mut dev = device::open(job.pool, &cat)?;
    progress.total(plan.bytes());
    let backup_job = BackupJob {
        pool: job.pool,
        want: &want,
        snapshots: &ids,
        plan: &plan,
        verify: job.verify,
        site: job.site,
        actor: job.actor,
    };
    let done = backup(repo, &mut cat, dev.as_mut(), &clock, &backup_job, progress)?;
    Ok(PoolRun::Copied(Box::new(PoolCopy {
        pool: job.pool.name.clone(),
        medium: done.medium,
        snapshots: ids.iter().map(|i| SnapshotId::new(i.to_hex())).collect(),
        bytes_written: done.copy.written,
        bytes_already_there: done.copy.already_there,
        verified: done.verified,
        anchor: done.anchor,
        previous_anchor: done.previous_anchor,
        put_away: done.put_away,
        simulated: dev.simulated(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy::NoCopyProgress;
    use crate::disk::format::{format, FormatRequest};
    use crate::disk::tests::disk_pool;
    use crate::test_repo::{backup as snapshot, new_repo};
    use hokan_disk::virt::{Shape, Sim};
    use hokan_offline::{Location, MediumKind};
    use hokan_site::{DiskAfterJob, Rotation};
    use time::macros::datetime;

    struct Quiet;
    impl CopyProgress for Quiet {
        fn copied(
            &self,
            obj: &hokan_repo::copy::CopyObject,
            outcome: crate::copy::Outcome,
        ) -> Result<(), JobError> {
            NoCopyProgress.copied(obj, outcome)
        }
    }
    impl PoolProgress for Quiet {
        fn total(&self, _: u64) {}
    }

    const NOW: OffsetDateTime = datetime!(2026-11-20 22:00 UTC); // a Friday

    #[test]
    fn a_pool_run_copies_the_latest_snapshot_to_tonights_cartridge_and_ejects_it() {
        let (dir, repo) = new_repo();
        let id = snapshot(&repo, "a", "2026-11-20T21:00:00Z");
        let catalog = dir.path().join("catalog.db");
        // SIMULATED: a drive with cartridge RDX-1 in it, formatted.
        let sim_dir = dir.path().join("sim");
        let sim = Sim::create(&sim_dir, "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-1", None).unwrap();
        let name = PoolName::new("p");
        let mut conf = disk_pool(DiskAfterJob::Eject);
        conf.virtual_device = Some(sim_dir);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        {
            let mut cat = Catalog::open(&catalog).unwrap();
            let mut dev = device::open(pool, &cat).unwrap();
            let req = FormatRequest {
                medium: "RDX-1",
                force: false,
                relabel: None,
                kind: MediumKind::RdxSingleDrive,
                retention: time::Duration::days(28),
                now: NOW - time::Duration::hours(2),
                actor: "t",
            };
            format(dev.as_mut(), &mut cat, &Clock::new(req.now), pool, &req).unwrap();
        }
        let job = PoolJob {
            pool,
            catalog: &catalog,
            sync: SyncOptions::default(),
            specs: &[],
            verify: true,
            site: "site",
            offset: UtcOffset::UTC,
            actor: "t",
            now: NOW,
        };
        let done = match run_pool(&repo, &job, &Quiet).unwrap() {
            PoolRun::Copied(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(done.medium.as_str(), "RDX-1");
        assert_eq!(done.snapshots, vec![SnapshotId::new(id.to_hex())]);
        assert!(done.bytes_written > 0 && done.verified && done.simulated);
        assert_eq!(done.put_away, PutAway::Ejected);
        let json = serde_json::to_value(PoolRun::Copied(done.clone())).unwrap();
        assert_eq!(json["outcome"], "copied");
        assert_eq!(json["medium"], "RDX-1");
        // Recorded: the copy, and the cartridge out of the drive.
        let cat = Catalog::open(&catalog).unwrap();
        let row = cat.medium(&MediumId::new("RDX-1")).unwrap();
        assert!(
            !matches!(
                row.location.map(|o| o.location),
                Some(Location::InDrive { .. })
            ),
            "still in the drive"
        );
        let copies = cat.copies().unwrap();
        assert!(copies
            .iter()
            .any(|c| c.medium.as_str() == "RDX-1" && c.snapshot.as_str() == id.to_hex()));
        // A weekday rotation without a Friday cartridge: skipped, no device.
        let mut weekday = conf.clone();
        weekday.rotation = Rotation::Weekday;
        weekday.cartridges = vec!["RDX-1".into()];
        let job = PoolJob {
            pool: PoolRef {
                name: &name,
                conf: &weekday,
            },
            ..job
        };
        match run_pool(&repo, &job, &Quiet).unwrap() {
            PoolRun::Skipped { day, .. } => assert_eq!(day, Weekday::Friday),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_busy_pool_is_refused_before_anything_is_done() {
        let (dir, repo) = new_repo();
        snapshot(&repo, "a", "2026-11-20T21:00:00Z");
        let catalog = dir.path().join("catalog.db");
        let name = PoolName::new("p");
        let conf = disk_pool(DiskAfterJob::Eject);
        let _held = PoolLock::take(&catalog, "p").unwrap();
        let job = PoolJob {
            pool: PoolRef {
                name: &name,
                conf: &conf,
            },
            catalog: &catalog,
            sync: SyncOptions::default(),
            specs: &[],
            verify: false,
            site: "site",
            offset: UtcOffset::UTC,
            actor: "t",
            now: NOW,
        };
        let e = run_pool(&repo, &job, &Quiet).unwrap_err();
        assert!(matches!(e, JobError::PoolBusy { .. }), "{e:?}");
        assert!(e.is_transient());
    }
}
