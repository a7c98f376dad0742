//! Opening a pool's drive and changer, real or simulated.

use hokan_site::TapeMode;
use hokan_tape::virt::VirtualLibrary;
use hokan_tape::{Changer, ChangerStatus};

use super::inventory::drive_name;
use super::{tape_failure, Pool};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

pub use hokan_jobs::tape::library::Devices;

/// Opening a pool's devices, and their status as a failure in the
/// person's words.
pub trait DevicesExt: Sized {
    /// Open the devices of `pool`.
    fn open(pool: &Pool, lang: Lang) -> Result<Self, Failure>;
    /// What the changer reports (an empty status for a single drive).
    fn status_in(&mut self, lang: Lang) -> Result<ChangerStatus, Failure>;
}

impl DevicesExt for Devices {
    fn open(pool: &Pool, lang: Lang) -> Result<Devices, Failure> {
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

    fn status_in(&mut self, lang: Lang) -> Result<ChangerStatus, Failure> {
        self.changer_status().map_err(|e| match e {
            hokan_jobs::JobError::Tape(e) => tape_failure(lang, &e),
            e => crate::job_error::failure(lang, &e),
        })
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
