//! Opening a disk pool's device (real or SIMULATED), and naming what it
//! reports: which catalog medium a reported cartridge is.

use hokan_catalog::MediumRow;
use hokan_disk::{Cartridge, DiskDevice};
use hokan_offline::MediumId;

use super::{disk_failure, Pool};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::site::SiteCtx;

/// The note a formatted cartridge's medium carries in the catalog, so that
/// a device that reports filesystem UUIDs can be matched to it.
pub fn uuid_note(uuid: &str) -> String {
    format!("filesystem UUID {uuid}")
}

/// The pool's device.
pub fn open(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<Box<dyn DiskDevice>, Failure> {
    let l = ctx.lang;
    if let Some(dir) = &pool.conf.virtual_device {
        let sim = hokan_disk::virt::Sim::open(dir).map_err(|e| disk_failure(l, &e))?;
        let dev = sim.device().map_err(|e| disk_failure(l, &e))?;
        return Ok(Box::new(dev));
    }
    Err(Failure::new(
        exit::CONFIG,
        format!(
            "{}: {}",
            pool.name,
            t(
                l,
                "real removable-disk devices are not wired to this command yet: set `virtual_device` to try it on a simulated one",
                "実機のリムーバブルディスク装置はまだこのコマンドから使えません。模擬装置で試すには `virtual_device` を設定してください",
            )
        ),
    ))
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
