//! The disk backup job ([`backup`]): tonight's cartridge attached after
//! its label and anchor are checked, the copy (resumable, snapshots last),
//! the copies recorded, the catalog's new head written as the anchor, and
//! the cartridge put away as the pool says.

use std::path::Path;
use std::sync::Mutex;

use hokan_catalog::anchor::Anchor;
use hokan_catalog::{Catalog, Event};
use hokan_disk::DiskDevice;
use hokan_format::Id;
use hokan_offline::{MediumId, SnapshotId};
use hokan_repo::copy::{CopyObject, CopyPlan};
use hokan_repo::Repository;
use hokan_store::LocalStore;

use super::{after_job, attach_cartridge, check_anchor, repository_of, write_anchor};
use super::{Attached, PoolRef, PutAway};
use crate::copy::{copy_plan, verify_copy, CopyOptions, CopyProgress, CopyStats, Outcome};
use crate::rotation::Tonight;
use crate::{Clock, JobError};

/// The caller's progress handle, and the device told of each object
/// written (a simulated cartridge can be pulled out in the middle).
struct DeviceProgress<'a> {
    inner: &'a dyn CopyProgress,
    dev: Mutex<&'a mut dyn DiskDevice>,
    root: &'a Path,
}

impl CopyProgress for DeviceProgress<'_> {
    fn copied(&self, obj: &CopyObject, outcome: Outcome) -> Result<(), JobError> {
        if outcome == Outcome::Written {
            self.dev
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .written(self.root, obj.size)
                .map_err(JobError::Disk)?;
        }
        self.inner.copied(obj, outcome)
    }
}

/// Copy `plan` into the repository of the attached cartridge (see
/// [`copy_plan`]: resumable, snapshots last), make it durable, and with
/// `verify` read every object back.
///
/// A failed write is [`JobError::CartridgeWrite`] (whether the cartridge
/// went away is judged before it is detached); a read-back that differs is
/// [`JobError::ReadBackDiffers`]. After a failed copy or read-back the
/// cartridge is detached; nothing is recorded either way (the caller
/// records the copy once this returned `Ok`).
pub fn write_copy(
    repo: &Repository,
    plan: &CopyPlan,
    dev: &mut dyn DiskDevice,
    a: &Attached,
    verify: bool,
    progress: &dyn CopyProgress,
) -> Result<CopyStats, JobError> {
    let store = LocalStore::new(repository_of(&a.root));
    let copied = {
        let hook = DeviceProgress {
            inner: progress,
            dev: Mutex::new(&mut *dev),
            root: &a.root,
        };
        copy_plan(repo, plan, &store, &CopyOptions::default(), &hook)
    };
    let stats = match copied {
        Ok(s) => s,
        Err(e) => {
            let e = match e {
                JobError::Destination(source) => JobError::CartridgeWrite {
                    medium: a.medium.clone(),
                    gone: !a.root.exists(),
                    source,
                },
                e => e,
            };
            let _ = dev.detach(&a.root);
            return Err(e);
        }
    };
    dev.sync(&a.root).map_err(JobError::Disk)?;
    if verify {
        if let Err(e) = verify_copy(repo, plan, &store) {
            let _ = dev.detach(&a.root);
            return Err(match e {
                JobError::ReadBackDiffers { path, .. } => JobError::ReadBackDiffers {
                    medium: Some(a.medium.clone()),
                    path,
                },
                e => e,
            });
        }
    }
    Ok(stats)
}

/// Record the copies of `ids` on `medium` (and, when `verified`, that they
/// were read back), all at one instant.
pub fn record_copies(
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    ids: &[Id],
    medium: &MediumId,
    verified: bool,
) -> Result<(), JobError> {
    let at = clock.at();
    let mut events = Vec::new();
    for id in ids {
        let snapshot = SnapshotId::new(id.to_hex());
        events.push(Event::CopyRecorded {
            snapshot: snapshot.clone(),
            medium: medium.clone(),
            since: at,
            complete: true,
            with: Vec::new(),
        });
        if verified {
            events.push(Event::CopyVerified {
                snapshot,
                medium: medium.clone(),
                at,
                ok: true,
                detail: Some("read back after writing".into()),
            });
        }
    }
    cat.record_all(at, actor, events)?;
    Ok(())
}

/// A disk backup job: what to copy, where, and how.
#[derive(Clone, Copy, Debug)]
pub struct BackupJob<'a> {
    /// The pool.
    pub pool: PoolRef<'a>,
    /// Tonight's cartridge by the rotation (not [`Tonight::NoneToday`]:
    /// there is no job then).
    pub want: &'a Tonight,
    /// The snapshots copied.
    pub snapshots: &'a [Id],
    /// Their copy plan.
    pub plan: &'a CopyPlan,
    /// Read every object back after writing.
    pub verify: bool,
    /// The site's name, carried by the anchor.
    pub site: &'a str,
    /// The actor recorded on the job's events.
    pub actor: &'a str,
}

/// What a disk backup job did.
#[derive(Clone, Debug)]
pub struct DiskBackup {
    /// The cartridge written.
    pub medium: MediumId,
    /// What the copy wrote.
    pub copy: CopyStats,
    /// Whether every object was read back.
    pub verified: bool,
    /// The anchor written on the cartridge.
    pub anchor: Anchor,
    /// The anchor the cartridge carried before.
    pub previous_anchor: Option<Anchor>,
    /// Where the cartridge went.
    pub put_away: PutAway,
}

/// A disk backup job after the plan: attach tonight's cartridge (checking
/// its label), check its anchor against the catalog, copy (and with
/// `verify` read back), record the copies, write the catalog's new head as
/// the anchor, and put the cartridge away as the pool says.
///
/// The copies are recorded before the eject, which may fail
/// ([`JobError::EjectFailed`]: the copies stay recorded, the cartridge
/// online). On any failure before that, nothing is recorded and the
/// cartridge is detached. `progress` is told of each object copied.
pub fn backup(
    repo: &Repository,
    cat: &mut Catalog,
    dev: &mut dyn DiskDevice,
    clock: &Clock,
    job: &BackupJob<'_>,
    progress: &dyn CopyProgress,
) -> Result<DiskBackup, JobError> {
    let a = attach_cartridge(dev, cat, clock, job.pool, job.want, job.actor, true)?;
    let previous_anchor = match check_anchor(cat, a.medium.as_str(), &a.root) {
        Ok(p) => p,
        Err(e) => {
            let _ = dev.detach(&a.root);
            return Err(e);
        }
    };
    let copy = write_copy(repo, job.plan, dev, &a, job.verify, progress)?;
    // The copy is on the cartridge: record it before the eject, which may
    // fail.
    record_copies(cat, clock, job.actor, job.snapshots, &a.medium, job.verify)?;
    // The head, copies included, goes on the cartridge before it is put
    // away: a catalog rolled back to before this job will not contain it.
    let anchor =
        write_anchor(cat, job.site, a.medium.as_str(), &a.root, clock.at()).and_then(|an| {
            dev.sync(&a.root).map_err(JobError::Disk)?;
            Ok(an)
        });
    let anchor = match anchor {
        Ok(an) => an,
        Err(e) => {
            let _ = dev.detach(&a.root);
            return Err(e);
        }
    };
    let put_away = after_job(dev, cat, clock, job.pool, &a, job.actor)?;
    Ok(DiskBackup {
        medium: a.medium,
        copy,
        verified: job.verify,
        anchor,
        previous_anchor,
        put_away,
    })
}
