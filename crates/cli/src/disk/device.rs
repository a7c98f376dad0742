//! Opening a disk pool's device (real or SIMULATED), and naming what it
//! reports: which catalog medium a reported cartridge is.

use std::collections::HashMap;
use std::path::PathBuf;

use hokan_catalog::{Catalog, MediumRow};
use hokan_disk::linux::{Commands, LinuxDisk, LinuxDiskConfig, SlotDevice};
use hokan_disk::{DiskDevice, Status};
use hokan_offline::{Location, MediumId};

use super::{disk_failure, Pool};
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::t;

pub use hokan_jobs::disk::{medium_of, recorded_uuid, uuid_note};

/// The pool's device: the simulation in `virtual_device`, else the Linux
/// device set up from the pool (mount point, selectors, slots, commands)
/// and the filesystem UUIDs the catalog recorded for its cartridges.
pub fn open(ctx: &SiteCtx<'_>, pool: &Pool, cat: &Catalog) -> Result<Box<dyn DiskDevice>, Failure> {
    spec(ctx, pool, cat)?.open(ctx.lang)
}

/// How to open a pool's device, without opening it: plain data that can be
/// handed to another thread (`hokan status` reads devices under a time
/// limit), where [`Spec::open`] opens it.
pub enum Spec {
    /// The simulation in this folder.
    Virtual(PathBuf),
    /// A Linux device.
    Linux(Box<LinuxDiskConfig>),
}

impl Spec {
    /// Open the device.
    pub fn open(self, l: crate::i18n::Lang) -> Result<Box<dyn DiskDevice>, Failure> {
        match self {
            Spec::Virtual(dir) => {
                let sim = hokan_disk::virt::Sim::open(&dir).map_err(|e| disk_failure(l, &e))?;
                let dev = sim.device().map_err(|e| disk_failure(l, &e))?;
                Ok(Box::new(dev))
            }
            Spec::Linux(conf) => Ok(Box::new(LinuxDisk::new(*conf))),
        }
    }
}

/// How to open the pool's device (see [`open`]).
pub fn spec(ctx: &SiteCtx<'_>, pool: &Pool, cat: &Catalog) -> Result<Spec, Failure> {
    let l = ctx.lang;
    if let Some(dir) = &pool.conf.virtual_device {
        return Ok(Spec::Virtual(dir.clone()));
    }
    let mount_point = pool.conf.mount_point.clone().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            format!(
                "{}: {}",
                pool.name,
                t(
                    l,
                    "set `mount_point` (where hokan mounts the cartridge, e.g. /mnt/hokan-rdx), or `virtual_device` for a simulated device",
                    "`mount_point`（カートリッジをマウントする場所、例 /mnt/hokan-rdx）か、模擬装置の `virtual_device` を設定してください",
                )
            ),
        )
    })?;
    let mut conf = LinuxDiskConfig::new(pool.name.as_str(), mount_point);
    let media = cat.media().map_err(|e| ctx.catalog_failure(&e))?;
    conf.select.uuids = media
        .iter()
        .filter(|m| m.pool.as_ref() == Some(&pool.name))
        .filter_map(|m| recorded_uuid(m).map(str::to_owned))
        .collect();
    conf.select.devices = pool.conf.device.iter().map(PathBuf::from).collect();
    conf.select.labels = pool.conf.cartridges.clone();
    conf.slots = pool
        .conf
        .slots
        .iter()
        .enumerate()
        .map(|(i, d)| SlotDevice {
            slot: i as u32 + 1,
            device: PathBuf::from(d),
        })
        .collect();
    let c = &pool.conf.commands;
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
    conf.commands = commands;
    Ok(Spec::Linux(Box::new(conf)))
}

/// The moves to record from what the device `name` reports
/// ([`hokan_jobs::disk::inventory::reconcile`]).
pub fn reconcile(
    pool: &Pool,
    name: &str,
    st: &Status,
    media: &[MediumRow],
    device_last: &HashMap<MediumId, Location>,
) -> Vec<(MediumId, Location)> {
    hokan_jobs::disk::inventory::reconcile(&pool.conf, name, st, media, device_last)
}
