//! Opening a pool's drive and changer, real or simulated.

use hokan_offline::{DeviceId, Location};
use hokan_site::TapeMode;
use hokan_tape::virt::VirtualLibrary;
use hokan_tape::{Changer, ChangerStatus, TapeDrive};

use super::inventory::drive_name;
use super::{tape_failure, Pool};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// A pool's devices.
pub struct Devices {
    /// The library's name in the catalog's locations (the changer device,
    /// or the simulated library's name); for a single drive, the drive's.
    pub library: String,
    /// The drive's name in locations (`lib-drive0`, or the single drive).
    pub drive_id: String,
    /// Simulated hardware.
    pub simulated: bool,
    /// Which drive of the library.
    pub drive_index: u32,
    /// The changer; `None` for a single drive.
    pub changer: Option<Box<dyn Changer>>,
    /// The drive.
    pub drive: Box<dyn TapeDrive>,
}

impl Devices {
    /// Open the devices of `pool`.
    pub fn open(pool: &Pool, lang: Lang) -> Result<Devices, Failure> {
        let single = pool.conf.mode == TapeMode::SingleDrive;
        if let Some(dir) = &pool.conf.virtual_library {
            let lib = VirtualLibrary::open(dir).map_err(|e| tape_failure(lang, &e))?;
            let name = lib.name();
            let changer: Option<Box<dyn Changer>> = if single {
                None
            } else {
                Some(Box::new(lib.changer().map_err(|e| tape_failure(lang, &e))?))
            };
            let drive = lib
                .drive(pool.conf.drive)
                .map_err(|e| tape_failure(lang, &e))?;
            let drive_id = if single {
                name.clone()
            } else {
                drive_name(&name, pool.conf.drive).to_string()
            };
            return Ok(Devices {
                library: name,
                drive_id,
                simulated: true,
                drive_index: pool.conf.drive,
                changer,
                drive: Box::new(drive),
            });
        }
        real(pool, single, lang)
    }

    /// What the changer reports (an empty status for a single drive).
    pub fn changer_status(&mut self, lang: Lang) -> Result<ChangerStatus, Failure> {
        match &mut self.changer {
            Some(c) => c.status().map_err(|e| tape_failure(lang, &e)),
            None => Ok(ChangerStatus::default()),
        }
    }

    /// The location of a cartridge in this pool's drive.
    pub fn in_drive(&self) -> Location {
        Location::InDrive {
            drive: DeviceId::new(self.drive_id.as_str()),
        }
    }

    /// The location of a cartridge in storage slot `slot`.
    pub fn in_slot(&self, slot: u32) -> Location {
        Location::LibrarySlot {
            library: DeviceId::new(self.library.as_str()),
            slot: Some(slot),
        }
    }

    /// The location of a cartridge in the mail slot.
    pub fn in_mail_slot(&self) -> Location {
        Location::MailSlot {
            library: DeviceId::new(self.library.as_str()),
        }
    }

    /// The location of a cartridge ejected from the single drive.
    pub fn ejected(&self) -> Location {
        Location::Ejected {
            drive: Some(DeviceId::new(self.drive_id.as_str())),
        }
    }
}

#[cfg(target_os = "linux")]
fn real(pool: &Pool, single: bool, lang: Lang) -> Result<Devices, Failure> {
    use hokan_tape::linux::{MtxChanger, StDrive};
    let Some(device) = &pool.conf.device else {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "[[tape_pool]] {}: {}",
                pool.name,
                t(
                    lang,
                    "set `device` (the drive's no-rewind device, e.g. /dev/nst0), or `virtual_library` for a simulated one",
                    "`device`（ドライブの巻き戻しなしデバイス、例 /dev/nst0）か、模擬ライブラリの `virtual_library` を設定してください",
                )
            ),
        ));
    };
    let changer: Option<Box<dyn Changer>> = match (&pool.conf.changer, single) {
        (_, true) => None,
        (Some(c), false) => Some(Box::new(MtxChanger::new(c.as_str()))),
        (None, false) => {
            return Err(Failure::new(
                exit::CONFIG,
                format!(
                    "[[tape_pool]] {}: {}",
                    pool.name,
                    t(
                        lang,
                        "a library needs `changer` (its SCSI generic device, e.g. /dev/sg3)",
                        "ライブラリには `changer`（SCSI 汎用デバイス、例 /dev/sg3）が必要です",
                    )
                ),
            ))
        }
    };
    let library = match &pool.conf.changer {
        Some(c) if !single => c.clone(),
        _ => device.clone(),
    };
    let drive_id = if single {
        device.clone()
    } else {
        drive_name(&library, pool.conf.drive).to_string()
    };
    Ok(Devices {
        library,
        drive_id,
        simulated: false,
        drive_index: pool.conf.drive,
        changer,
        drive: Box::new(StDrive::new(device.as_str())),
    })
}

#[cfg(not(target_os = "linux"))]
fn real(pool: &Pool, _single: bool, lang: Lang) -> Result<Devices, Failure> {
    Err(Failure::new(
        exit::CONFIG,
        format!(
            "[[tape_pool]] {}: {}",
            pool.name,
            t(
                lang,
                "tape drives are supported on Linux only; use `virtual_library` to try hokan",
                "テープドライブは Linux でのみ使えます。試すには `virtual_library` を使ってください",
            )
        ),
    ))
}
