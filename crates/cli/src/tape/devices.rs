//! Opening a pool's drive and changer (real or simulated: the logic is
//! [`hokan_jobs::tape::devices::open`]), with its errors in the person's
//! words.

use hokan_tape::ChangerStatus;

pub(crate) use super::failure::device_failure;
use super::Pool;
use crate::exit::Failure;
use crate::i18n::Lang;

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
        hokan_jobs::tape::devices::open(pool.name.as_str(), &pool.conf)
            .map_err(|e| device_failure(lang, &e))
    }

    fn status_in(&mut self, lang: Lang) -> Result<ChangerStatus, Failure> {
        self.changer_status().map_err(|e| device_failure(lang, &e))
    }
}
