//! `disk status` and `disk eject`: what the device holds, recorded where
//! it differs from the catalog, the anchors of the cartridges mounted now,
//! and a cartridge put away as after a job. Judging whether the copies
//! count as offline is the caller's (it holds the site's trust anchors).

use hokan_catalog::{Catalog, MediumRow};
use hokan_disk::{read_label, DiskDevice, Status};
use hokan_offline::{Location, MediumId, PoolName};
use time::OffsetDateTime;

use super::anchor::{self, OnCartridge};
use super::{after_job, attach_cartridge, inventory, medium_of, record, PoolRef, PutAway};
use crate::rotation::Tonight;
use crate::{Clock, JobError};

/// The media of the pool `pool` in the catalog (their latest records).
pub fn pool_media(cat: &Catalog, pool: &PoolName) -> Result<Vec<MediumRow>, JobError> {
    Ok(cat
        .media()?
        .into_iter()
        .filter(|m| m.pool.as_ref() == Some(pool))
        .collect())
}

/// Until when a cartridge's copies must be kept: its newest copy plus the
/// pool's `retention`. `None` when it holds no copy.
pub fn retained_until(
    cat: &Catalog,
    retention: time::Duration,
    medium: &MediumId,
) -> Result<Option<OffsetDateTime>, JobError> {
    Ok(cat
        .copies()?
        .iter()
        .filter(|c| &c.medium == medium)
        .map(|c| c.since + retention)
        .max())
}

/// The anchor of a cartridge the host has mounted now.
#[derive(Debug)]
pub struct MountedAnchor {
    /// The cartridge: the medium the catalog knows it as, else its label's,
    /// else where it is mounted.
    pub medium: String,
    /// Its anchor as read.
    pub anchor: OnCartridge,
}

/// What [`observe`] saw and recorded.
#[derive(Debug)]
pub struct Observed {
    /// The device's name.
    pub device: String,
    /// Whether the device is a simulation.
    pub simulated: bool,
    /// What it reports.
    pub status: Status,
    /// The moves recorded ([`inventory::reconcile`]).
    pub moves: Vec<(MediumId, Location)>,
    /// The anchors of the cartridges mounted now.
    pub anchors: Vec<MountedAnchor>,
}

/// Ask the device what it holds, record every move where the catalog
/// differs (as `actor`), and read the anchor of each cartridge the host
/// has mounted now.
pub fn observe(
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    pool: PoolRef<'_>,
    actor: &str,
) -> Result<Observed, JobError> {
    let name = dev.name().to_owned();
    let status = dev.status().map_err(JobError::Disk)?;
    let media = pool_media(cat, pool.name)?;
    let history = cat.locations(None)?;
    let moves = inventory::reconcile(
        pool.conf,
        &name,
        &status,
        &media,
        &crate::tape::inventory::device_last(&history),
    );
    for (m, loc) in &moves {
        record(cat, clock, actor, m, loc.clone(), &name)?;
    }
    let mut anchors = Vec::new();
    for c in &status.cartridges {
        let Some(root) = &c.mounted_at else { continue };
        let medium = medium_of(c, &media)
            .map(|m| m.to_string())
            .or_else(|| read_label(root).ok().flatten().map(|lb| lb.medium))
            .unwrap_or_else(|| root.display().to_string());
        anchors.push(MountedAnchor {
            medium,
            anchor: anchor::read(root),
        });
    }
    Ok(Observed {
        device: name,
        simulated: dev.simulated(),
        status,
        moves,
        anchors,
    })
}

/// What [`eject`] did.
#[derive(Clone, Debug)]
pub struct Ejected {
    /// The cartridge.
    pub medium: MediumId,
    /// Where it went.
    pub put_away: PutAway,
}

/// Attach the pool cartridge the host reaches (one this catalog knows,
/// its label checked), then put it out of reach as after a job.
pub fn eject(
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    pool: PoolRef<'_>,
    actor: &str,
) -> Result<Ejected, JobError> {
    let a = attach_cartridge(dev, cat, clock, pool, &Tonight::Any, actor, true)?;
    let put_away = after_job(dev, cat, clock, pool, &a, actor)?;
    Ok(Ejected {
        medium: a.medium,
        put_away,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::format::{format, FormatRequest};
    use crate::disk::tests::disk_pool;
    use hokan_disk::virt::{Shape, Sim, Where};
    use hokan_offline::{DeviceId, MediumKind};
    use hokan_site::DiskAfterJob;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-20 22:00 UTC);

    /// A SIMULATED drive whose cartridge `RDX-1` was formatted for pool
    /// `p` (so it is recorded in the drive).
    fn formatted(dir: &std::path::Path) -> (Sim, Box<dyn DiskDevice>, Catalog) {
        let sim = Sim::create(&dir.join("sim"), "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-1", None).unwrap();
        let mut dev: Box<dyn DiskDevice> = Box::new(sim.device().unwrap());
        let mut cat = Catalog::open(&dir.join("catalog.db")).unwrap();
        let name = PoolName::new("p");
        let conf = disk_pool(DiskAfterJob::Eject);
        let req = FormatRequest {
            medium: "RDX-1",
            force: false,
            relabel: None,
            kind: MediumKind::RdxSingleDrive,
            retention: time::Duration::days(28),
            now: NOW,
            actor: "t",
        };
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        format(dev.as_mut(), &mut cat, &Clock::new(NOW), pool, &req).unwrap();
        (sim, dev, cat)
    }

    fn location(cat: &Catalog, m: &str) -> Option<Location> {
        cat.medium(&MediumId::new(m))
            .unwrap()
            .location
            .map(|o| o.location)
    }

    #[test]
    fn status_of_a_simulated_drive_records_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let (sim, mut dev, mut cat) = formatted(dir.path());
        let name = PoolName::new("p");
        let conf = disk_pool(DiskAfterJob::Eject);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let clock = Clock::new(NOW + time::Duration::hours(1));
        // In the drive, as recorded: nothing to record, no anchor mounted.
        let seen = observe(dev.as_mut(), &mut cat, &clock, pool, "t").unwrap();
        assert_eq!(seen.device, "rdx0");
        assert!(seen.simulated);
        assert_eq!(seen.status.cartridges.len(), 1);
        assert!(seen.moves.is_empty(), "{:?}", seen.moves);
        assert!(seen.anchors.is_empty());
        // Pulled out by hand: it has left the drive.
        sim.pull("RDX-1").unwrap();
        let seen = observe(dev.as_mut(), &mut cat, &clock, pool, "t").unwrap();
        let ejected = Location::Ejected {
            drive: Some(DeviceId::new("rdx0")),
        };
        assert_eq!(seen.moves, vec![(MediumId::new("RDX-1"), ejected.clone())]);
        assert_eq!(location(&cat, "RDX-1"), Some(ejected));
        assert_eq!(pool_media(&cat, &name).unwrap().len(), 1);
        assert!(pool_media(&cat, &PoolName::new("other"))
            .unwrap()
            .is_empty());
        assert_eq!(
            retained_until(&cat, time::Duration::days(28), &MediumId::new("RDX-1")).unwrap(),
            None
        );
    }

    #[test]
    fn eject_puts_the_simulated_cartridge_away_and_records_it() {
        let dir = tempfile::tempdir().unwrap();
        let (sim, mut dev, mut cat) = formatted(dir.path());
        let name = PoolName::new("p");
        let conf = disk_pool(DiskAfterJob::Eject);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let clock = Clock::new(NOW + time::Duration::hours(1));
        let done = eject(dev.as_mut(), &mut cat, &clock, pool, "t").unwrap();
        assert_eq!(done.medium.as_str(), "RDX-1");
        assert_eq!(done.put_away, PutAway::Ejected);
        assert_eq!(sim.where_is("RDX-1").unwrap(), Some(Where::Outside));
        assert_eq!(
            location(&cat, "RDX-1"),
            Some(Location::Ejected {
                drive: Some(DeviceId::new("rdx0"))
            })
        );
        // Nothing left to eject.
        let e = eject(dev.as_mut(), &mut cat, &clock, pool, "t").unwrap_err();
        assert!(matches!(e, JobError::NoCartridge { .. }), "{e:?}");
    }
}
