//! Opening a disk pool's device (real or SIMULATED), and naming what it
//! reports: which catalog medium a reported cartridge is.

use std::path::PathBuf;

use hokan_catalog::{Catalog, MediumRow};
use hokan_disk::linux::{Commands, LinuxDisk, LinuxDiskConfig, SlotDevice};
use hokan_disk::{Cartridge, DiskDevice};
use hokan_offline::MediumId;

use super::{disk_failure, Pool};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::site::SiteCtx;

/// The note a formatted cartridge's medium carries in the catalog, so that
/// a device that reports filesystem UUIDs can be matched to it.
pub fn uuid_note(uuid: &str) -> String {
    format!("{UUID_NOTE}{uuid}")
}

/// The pool's device: the simulation in `virtual_device`, else the Linux
/// device set up from the pool (mount point, selectors, slots, commands)
/// and the filesystem UUIDs the catalog recorded for its cartridges.
pub fn open(ctx: &SiteCtx<'_>, pool: &Pool, cat: &Catalog) -> Result<Box<dyn DiskDevice>, Failure> {
    let l = ctx.lang;
    if let Some(dir) = &pool.conf.virtual_device {
        let sim = hokan_disk::virt::Sim::open(dir).map_err(|e| disk_failure(l, &e))?;
        let dev = sim.device().map_err(|e| disk_failure(l, &e))?;
        return Ok(Box::new(dev));
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
        .filter_map(|m| {
            m.note
                .as_deref()?
                .strip_prefix(UUID_NOTE)
                .map(str::to_owned)
        })
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
    Ok(Box::new(LinuxDisk::new(conf)))
}

const UUID_NOTE: &str = "filesystem UUID ";

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
