//! Removable-disk jobs: which cartridge a job writes, checking its label
//! before anything is written, and putting it away afterwards.
//!
//! Every move the device reports is recorded in the catalog from what the
//! device did (not from what the pool intends): a cartridge still mounted,
//! in the drive or in an active slot is online. A cartridge this catalog
//! does not know (a restore after the catalog was lost) is not recorded.
//!
//! Nothing here prints: a refused cartridge is a [`Refusal`] inside
//! [`JobError::CartridgeRefused`], with the data the sentence needs.
//!
//! - [`anchor`]: the catalog anchor on a cartridge, checked, written, read.
//! - [`device`]: opening a pool's device (real or SIMULATED).
//! - [`format`](mod@format): `disk format`.
//! - [`inventory`]: what a device's report means for the catalog.
//! - [`restore`]: which cartridge holds the snapshot a restore wants.
//! - [`status`]: `disk status` and `disk eject`.
//! - the backup job itself: [`backup`], [`write_copy`], [`record_copies`];
//!   and a pool's whole job in one call, from the catalog's path and the
//!   opened primary repository to the cartridge put away: [`run_pool`].

pub mod anchor;
mod backup;
pub mod device;
pub mod format;
pub mod inventory;
pub mod restore;
mod run;
pub mod status;

pub use anchor::{check_anchor, write_anchor, AnchorProblem};
pub use backup::{backup, record_copies, write_copy, BackupJob, DiskBackup};
pub use run::{run_pool, tonight, PoolCopy, PoolJob, PoolProgress, PoolRun};

use std::path::{Path, PathBuf};

use hokan_catalog::{Catalog, Event, MediumRow};
use hokan_disk::{read_label, Cartridge, DiskDevice, DiskError, Place, REPOSITORY_DIR};
use hokan_offline::{DeviceId, Location, MediumId, ObservedBy, PoolName};
use hokan_site::{DiskAfterJob, DiskMode, DiskPool};

use crate::rotation::Tonight;
use crate::{Clock, JobError};

/// A disk pool as a job sees it: its name and its settings.
#[derive(Clone, Copy, Debug)]
pub struct PoolRef<'a> {
    /// The pool's name.
    pub name: &'a PoolName,
    /// Its settings (`[[disk_pool]]`).
    pub conf: &'a DiskPool,
}

/// A pool cartridge the host can read and write now.
#[derive(Clone, Debug)]
pub struct Attached {
    /// What the device reports.
    pub cartridge: Cartridge,
    /// Which medium it is.
    pub medium: MediumId,
    /// Where its files are.
    pub root: PathBuf,
}

/// Why the cartridge the device holds is not written to. The cartridge is
/// detached again before this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Its label cannot be read.
    #[error("the label cannot be read")]
    Unreadable(#[source] DiskError),
    /// It carries no hokan label.
    #[error("not formatted for hokan")]
    NotFormatted,
    /// It is labelled for another pool.
    #[error("{medium} is of pool {pool}")]
    OtherPool {
        /// The medium its label names.
        medium: String,
        /// The pool its label names.
        pool: String,
    },
    /// Labelled for this pool, but this catalog does not know it (a
    /// catalog rebuilt, or from another site).
    #[error("{medium} is not in this catalog")]
    NotInCatalog {
        /// The medium its label names.
        medium: String,
    },
    /// Its filesystem UUID is not the one recorded when it was formatted:
    /// another disk carrying a copy of the label.
    #[error("{medium} has another filesystem UUID")]
    UuidDiffers {
        /// The medium its label names.
        medium: String,
        /// The UUID the device reports now.
        uuid: Option<String>,
    },
    /// Another cartridge of the pool is due tonight.
    #[error("{inserted} is inserted, {due} is due")]
    NotTonight {
        /// The medium its label names.
        inserted: String,
        /// The one the rotation wants.
        due: MediumId,
    },
}

/// Where a cartridge attached by a pool's device is, for the catalog.
pub fn attached_location(conf: &DiskPool, device: &str) -> Location {
    let d = DeviceId::new(device);
    match conf.mode {
        DiskMode::RdxAutoloader => Location::ActiveSlot { autoloader: d },
        DiskMode::RdxSingleDrive => Location::InDrive { drive: d },
        DiskMode::RemovableDisk | DiskMode::Nas => Location::Connected {
            host: Some(device.to_owned()),
        },
    }
}

const UUID_NOTE: &str = "filesystem UUID ";

/// The note a formatted cartridge's medium carries in the catalog, so that
/// a device that reports filesystem UUIDs can be matched to it.
pub fn uuid_note(uuid: &str) -> String {
    format!("{UUID_NOTE}{uuid}")
}

/// The filesystem UUID recorded for a medium when it was formatted.
pub fn recorded_uuid(m: &MediumRow) -> Option<&str> {
    m.note.as_deref()?.strip_prefix(UUID_NOTE)
}

/// Which of the pool's media `c` is: the filesystem label names it (the
/// simulation, and sites that label their filesystems with the cartridge
/// id), or its filesystem UUID is the one recorded when it was formatted.
pub fn medium_of(c: &Cartridge, media: &[MediumRow]) -> Option<MediumId> {
    if let Some(l) = &c.fs_label {
        if let Some(m) = media.iter().find(|m| m.id.as_str() == l) {
            return Some(m.id.clone());
        }
    }
    let uuid = c.uuid.as_deref()?;
    let note = uuid_note(uuid);
    media
        .iter()
        .find(|m| m.note.as_deref() == Some(note.as_str()))
        .map(|m| m.id.clone())
}

/// Record a move the device reported. A medium this catalog does not know
/// is not recorded (a restore after the catalog was lost).
pub fn record(
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    medium: &MediumId,
    location: Location,
    device: &str,
) -> Result<(), JobError> {
    if cat.medium(medium).is_err() {
        return Ok(());
    }
    let at = clock.at();
    let ev = Event::MediumLocated {
        medium: medium.clone(),
        at,
        location,
        by: ObservedBy::Device {
            device: DeviceId::new(device),
        },
        note: None,
    };
    cat.record(at, actor, ev)?;
    Ok(())
}

/// Find the cartridge the job wants (`want`), attach it, and check its
/// label. A wrong cartridge is detached again and refused
/// ([`JobError::CartridgeRefused`]); no cartridge at all is
/// [`JobError::NoCartridge`]. `known_only`: refuse a pool cartridge this
/// catalog does not know (a restore allows it: the catalog may be the
/// thing that was lost).
#[allow(clippy::too_many_arguments)] // each is a separate input of the check
pub fn attach_cartridge(
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    pool: PoolRef<'_>,
    want: &Tonight,
    actor: &str,
    known_only: bool,
) -> Result<Attached, JobError> {
    let name = dev.name().to_owned();
    let st = dev.status().map_err(JobError::Disk)?;
    let media: Vec<_> = cat
        .media()?
        .into_iter()
        .filter(|m| m.pool.as_ref() == Some(pool.name))
        .collect();
    // The cartridge to attach: the one wanted if the device holds it, else
    // the one the host can reach now (checked below, and refused if wrong).
    let by_medium = |id: &str| {
        st.cartridges
            .iter()
            .find(|c| medium_of(c, &media).is_some_and(|m| m.as_str() == id))
    };
    let chosen = match want {
        Tonight::Cartridge(id) => by_medium(id.as_str()).or_else(|| st.writable()),
        _ => st.writable().or_else(|| {
            // An autoloader: the pool cartridge written longest ago.
            let copies = cat.copies().unwrap_or_default();
            let last = |c: &&Cartridge| {
                medium_of(c, &media).map(|m| {
                    copies
                        .iter()
                        .filter(|x| x.medium == m)
                        .map(|x| x.since)
                        .max()
                })
            };
            st.cartridges
                .iter()
                .filter(|c| medium_of(c, &media).is_some())
                .min_by_key(|c| last(c))
        }),
    };
    let Some(cartridge) = chosen.cloned() else {
        return Err(JobError::NoCartridge {
            device: name,
            pool: pool.name.clone(),
            wanted: match want {
                Tonight::Cartridge(id) => Some(id.clone()),
                _ => None,
            },
        });
    };
    let root = dev.attach(&cartridge).map_err(JobError::Disk)?;
    if let Some(m) = medium_of(&cartridge, &media) {
        record(
            cat,
            clock,
            actor,
            &m,
            attached_location(pool.conf, &name),
            &name,
        )?;
    }
    let refusal = match (read_label(&root), want) {
        (Err(e), _) => Err(Refusal::Unreadable(e)),
        (Ok(None), _) => Err(Refusal::NotFormatted),
        (Ok(Some(lb)), _) if lb.pool != pool.name.as_str() => Err(Refusal::OtherPool {
            medium: lb.medium,
            pool: lb.pool,
        }),
        (Ok(Some(lb)), _) if known_only && !media.iter().any(|m| m.id.as_str() == lb.medium) => {
            Err(Refusal::NotInCatalog { medium: lb.medium })
        }
        (Ok(Some(lb)), _) if uuid_differs(&media, &lb.medium, cartridge.uuid.as_deref()) => {
            Err(Refusal::UuidDiffers {
                medium: lb.medium,
                uuid: cartridge.uuid.clone(),
            })
        }
        (Ok(Some(lb)), Tonight::Cartridge(id)) if lb.medium != id.as_str() => {
            Err(Refusal::NotTonight {
                inserted: lb.medium,
                due: id.clone(),
            })
        }
        (Ok(Some(lb)), _) => Ok(lb),
    };
    match refusal {
        Ok(label) => Ok(Attached {
            cartridge,
            medium: MediumId::new(label.medium),
            root,
        }),
        Err(refusal) => {
            let _ = dev.detach(&root);
            Err(JobError::CartridgeRefused {
                device: name,
                refusal,
            })
        }
    }
}

/// Whether the catalog recorded another filesystem UUID for `medium` than
/// the device reports now.
fn uuid_differs(media: &[MediumRow], medium: &str, now: Option<&str>) -> bool {
    let Some(now) = now else { return false };
    media
        .iter()
        .find(|m| m.id.as_str() == medium)
        .and_then(recorded_uuid)
        .is_some_and(|was| was != now)
}

/// The repository folder of an attached cartridge.
pub fn repository_of(root: &Path) -> PathBuf {
    root.join(REPOSITORY_DIR)
}

/// Where [`after_job`] put the cartridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PutAway {
    /// Unmounted only: still connected, so its copies are online until a
    /// person takes it away and records that.
    Unmounted,
    /// Unmounted and ejected (②-1-1).
    Ejected,
    /// Unmounted, slot made inactive (②-2-1 with an attested network
    /// segmentation).
    Deactivated,
    /// Unmounted and exported from the autoloader (②-2-2).
    Exported,
}

/// Unmount, then eject / deactivate / export as the pool says, recording
/// where the cartridge went from what the device did.
/// [`JobError::EjectFailed`] when the eject failed: the cartridge stays
/// recorded where the host can reach it (online).
pub fn after_job(
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    pool: PoolRef<'_>,
    a: &Attached,
    actor: &str,
) -> Result<PutAway, JobError> {
    let name = dev.name().to_owned();
    dev.detach(&a.root).map_err(JobError::Disk)?;
    let (export, location, done) = match pool.conf.after_job {
        DiskAfterJob::Unmount => return Ok(PutAway::Unmounted),
        DiskAfterJob::Eject => (
            false,
            Location::Ejected {
                drive: Some(DeviceId::new(&name)),
            },
            PutAway::Ejected,
        ),
        DiskAfterJob::Deactivate => (
            false,
            Location::InactiveSlot {
                autoloader: DeviceId::new(&name),
                slot: match a.cartridge.place {
                    Place::Slot { slot, .. } => Some(slot),
                    Place::Drive => None,
                },
            },
            PutAway::Deactivated,
        ),
        DiskAfterJob::Export => (
            true,
            Location::Exported {
                changer: DeviceId::new(&name),
            },
            PutAway::Exported,
        ),
    };
    if let Err(source) = dev.eject(&a.cartridge, export) {
        return Err(JobError::EjectFailed {
            medium: a.medium.clone(),
            source,
        });
    }
    record(cat, clock, actor, &a.medium, location, &name)?;
    Ok(done)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::copy::{snapshots_to_copy, NoCopyProgress};
    use crate::test_repo::{backup, new_repo};
    use hokan_disk::virt::{Shape, Sim};
    use hokan_repo::store::StoreError;
    use hokan_store::LocalStore;

    /// A simulated drive holding cartridge `RDX-1`, attached.
    pub(crate) fn attached(dir: &Path) -> (Sim, Box<dyn DiskDevice>, Attached) {
        let sim = Sim::create(&dir.join("sim"), "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-1", None).unwrap();
        let mut dev: Box<dyn DiskDevice> = Box::new(sim.device().unwrap());
        let st = dev.status().unwrap();
        let cartridge = st.writable().unwrap().clone();
        let root = dev.attach(&cartridge).unwrap();
        // As `hokan disk format` leaves it.
        use hokan_repo::store::Store;
        LocalStore::new(repository_of(&root)).create().unwrap();
        let a = Attached {
            cartridge,
            medium: MediumId::new("RDX-1"),
            root,
        };
        (sim, dev, a)
    }

    #[test]
    fn a_copy_onto_a_cartridge_reads_back_and_resumes() {
        let (dir, repo) = new_repo();
        backup(&repo, "a", "2026-11-20T22:00:00Z");
        let plan = repo
            .copy_plan(&snapshots_to_copy(&repo, &[]).unwrap())
            .unwrap();
        let (_sim, mut dev, a) = attached(dir.path());
        let stats = write_copy(&repo, &plan, dev.as_mut(), &a, true, &NoCopyProgress).unwrap();
        assert_eq!(stats.written, plan.bytes());
        let again = write_copy(&repo, &plan, dev.as_mut(), &a, true, &NoCopyProgress).unwrap();
        assert_eq!((again.written, again.already_there), (0, plan.bytes()));
    }

    #[test]
    fn a_cartridge_pulled_out_during_the_copy_is_said_to_be_gone() {
        let (dir, repo) = new_repo();
        backup(&repo, "a", "2026-11-20T22:00:00Z");
        let plan = repo
            .copy_plan(&snapshots_to_copy(&repo, &[]).unwrap())
            .unwrap();
        let (sim, mut dev, a) = attached(dir.path());
        // Pulled out after the first object.
        sim.pull_after(1).unwrap();
        let e = write_copy(&repo, &plan, dev.as_mut(), &a, false, &NoCopyProgress).unwrap_err();
        match &e {
            JobError::CartridgeWrite {
                medium,
                gone,
                source,
            } => {
                assert_eq!(medium.as_str(), "RDX-1");
                assert!(*gone, "{e:?}");
                assert!(!matches!(source, StoreError::NoSpace { .. }), "{source:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    pub(crate) fn disk_pool(after_job: DiskAfterJob) -> DiskPool {
        DiskPool {
            mode: DiskMode::RdxSingleDrive,
            mount_point: None,
            rotation: hokan_site::Rotation::Any,
            cartridges: Vec::new(),
            after_job,
            device: None,
            slots: Vec::new(),
            commands: Default::default(),
            virtual_device: None,
        }
    }

    #[test]
    fn an_unformatted_cartridge_is_refused_and_detached() {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::create(&dir.path().join("sim"), "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-1", None).unwrap();
        let mut dev = sim.device().unwrap();
        let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        let name = PoolName::new("p");
        let conf = disk_pool(DiskAfterJob::Eject);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let clock = Clock::new(time::OffsetDateTime::now_utc());
        let e = attach_cartridge(&mut dev, &mut cat, &clock, pool, &Tonight::Any, "t", true)
            .unwrap_err();
        assert!(
            matches!(
                &e,
                JobError::CartridgeRefused {
                    refusal: Refusal::NotFormatted,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(std::error::Error::source(&e).is_some());
        let st = dev.status().unwrap();
        assert!(
            st.cartridges.iter().all(|c| c.mounted_at.is_none()),
            "{st:?}"
        );
    }

    #[test]
    fn a_failed_eject_is_its_own_error_naming_the_cartridge() {
        let dir = tempfile::tempdir().unwrap();
        let (sim, mut dev, a) = attached(dir.path());
        hokan_disk::write_label(
            &a.root,
            &hokan_disk::DiskLabel {
                format: 1,
                medium: "RDX-1".into(),
                pool: "p".into(),
                created: time::OffsetDateTime::now_utc(),
                fs_uuid: None,
            },
        )
        .unwrap();
        let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        let name = PoolName::new("p");
        let conf = disk_pool(DiskAfterJob::Eject);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let clock = Clock::new(time::OffsetDateTime::now_utc());
        // Attached again by the job, found by its label.
        let a = attach_cartridge(
            dev.as_mut(),
            &mut cat,
            &clock,
            pool,
            &Tonight::Any,
            "t",
            false,
        )
        .unwrap();
        assert_eq!(a.medium.as_str(), "RDX-1");
        sim.fail_next_eject().unwrap();
        let e = after_job(dev.as_mut(), &mut cat, &clock, pool, &a, "t").unwrap_err();
        assert!(
            matches!(&e, JobError::EjectFailed { medium, .. } if medium.as_str() == "RDX-1"),
            "{e:?}"
        );
        // Unmount only: nothing to eject, nothing to fail.
        let conf = disk_pool(DiskAfterJob::Unmount);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let a = attach_cartridge(
            dev.as_mut(),
            &mut cat,
            &clock,
            pool,
            &Tonight::Any,
            "t",
            false,
        )
        .unwrap();
        assert_eq!(
            after_job(dev.as_mut(), &mut cat, &clock, pool, &a, "t").unwrap(),
            PutAway::Unmounted
        );
    }
}
