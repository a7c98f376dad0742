//! Opening a disk pool's device: the SIMULATED one in `virtual_device`,
//! else the Linux device set up from the pool (mount point, selectors,
//! slots, commands) and the filesystem UUIDs the catalog recorded for its
//! cartridges.

use std::path::PathBuf;

use hokan_catalog::Catalog;
use hokan_disk::linux::{Commands, LinuxDisk, LinuxDiskConfig, SlotDevice};
use hokan_disk::DiskDevice;

use super::{recorded_uuid, PoolRef};
use crate::JobError;

/// How to open a pool's device, without opening it: plain data that can be
/// handed to another thread (`hokan status` reads devices under a time
/// limit), where [`Spec::open`] opens it.
#[derive(Clone, Debug)]
pub enum Spec {
    /// The simulation in this folder.
    Virtual(PathBuf),
    /// A Linux device.
    Linux(Box<LinuxDiskConfig>),
}

impl Spec {
    /// Open the device; a simulation that cannot be opened is
    /// [`JobError::Disk`].
    pub fn open(self) -> Result<Box<dyn DiskDevice>, JobError> {
        match self {
            Spec::Virtual(dir) => {
                let sim = hokan_disk::virt::Sim::open(&dir).map_err(JobError::Disk)?;
                let dev = sim.device().map_err(JobError::Disk)?;
                Ok(Box::new(dev))
            }
            Spec::Linux(conf) => Ok(Box::new(LinuxDisk::new(*conf))),
        }
    }
}

/// How to open the pool's device (see [`open`]). A real device needs the
/// pool's `mount_point` ([`JobError::NoMountPoint`] without it).
pub fn spec(pool: PoolRef<'_>, cat: &Catalog) -> Result<Spec, JobError> {
    let conf = pool.conf;
    if let Some(dir) = &conf.virtual_device {
        return Ok(Spec::Virtual(dir.clone()));
    }
    let mount_point = conf
        .mount_point
        .clone()
        .ok_or_else(|| JobError::NoMountPoint {
            pool: pool.name.clone(),
        })?;
    let mut linux = LinuxDiskConfig::new(pool.name.as_str(), mount_point);
    let media = cat.media()?;
    linux.select.uuids = media
        .iter()
        .filter(|m| m.pool.as_ref() == Some(pool.name))
        .filter_map(|m| recorded_uuid(m).map(str::to_owned))
        .collect();
    linux.select.devices = conf.device.iter().map(PathBuf::from).collect();
    linux.select.labels = conf.cartridges.clone();
    linux.slots = conf
        .slots
        .iter()
        .enumerate()
        .map(|(i, d)| SlotDevice {
            slot: i as u32 + 1,
            device: PathBuf::from(d),
        })
        .collect();
    let c = &conf.commands;
    let mut commands = Commands::default();
    if let Some(x) = &c.mount {
        commands.mount = x.clone();
    }
    if let Some(x) = &c.unmount {
        commands.unmount = x.clone();
    }
    if let Some(x) = &c.eject {
        commands.eject = x.clone();
    }
    commands.activate = c.activate.clone();
    commands.deactivate = c.deactivate.clone();
    commands.export = c.export.clone();
    linux.commands = commands;
    Ok(Spec::Linux(Box::new(linux)))
}

/// The pool's device, opened (see [`spec`]).
pub fn open(pool: PoolRef<'_>, cat: &Catalog) -> Result<Box<dyn DiskDevice>, JobError> {
    spec(pool, cat)?.open()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::tests::disk_pool;
    use hokan_offline::PoolName;
    use hokan_site::DiskAfterJob;

    #[test]
    fn a_simulated_pool_opens_its_simulation_and_a_real_one_needs_a_mount_point() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        let name = PoolName::new("p");
        let mut conf = disk_pool(DiskAfterJob::Eject);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let e = spec(pool, &cat).unwrap_err();
        assert!(
            matches!(&e, JobError::NoMountPoint { pool } if pool.as_str() == "p"),
            "{e:?}"
        );
        // SIMULATED: the simulation in `virtual_device`.
        let sim = dir.path().join("sim");
        hokan_disk::virt::Sim::create(&sim, "rdx0", hokan_disk::virt::Shape::Drive).unwrap();
        conf.virtual_device = Some(sim);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let dev = open(pool, &cat).unwrap();
        assert!(dev.simulated());
        assert_eq!(dev.name(), "rdx0");
        conf.virtual_device = None;
        conf.mount_point = Some(dir.path().join("mnt"));
        conf.cartridges = vec!["RDX-1".into()];
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        match spec(pool, &cat).unwrap() {
            Spec::Linux(l) => assert_eq!(l.select.labels, vec!["RDX-1".to_owned()]),
            other => panic!("{other:?}"),
        }
    }
}
