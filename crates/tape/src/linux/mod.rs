//! The real devices on Linux: tape drives through the `st` driver and
//! media changers through the `mtx` tool.
//!
//! - [`st`]: [`StDrive`], a [`TapeDrive`](crate::device::TapeDrive) on a
//!   no-rewind device (`/dev/nst0`) via `read`/`write` and the MTIOCTOP /
//!   MTIOCGET ioctls of `linux/mtio.h` ([`mtio`]).
//! - [`mtx`]: [`MtxChanger`], a [`Changer`](crate::device::Changer) that runs
//!   `mtx -f /dev/sgN …` and parses what it prints.
//! - [`sense`]: SCSI sense data (fixed and descriptor format) rendered as a
//!   sentence with what to do.
//! - [`sg`]: SCSI pass-through (the `SG_IO` ioctl) and the reading of its
//!   outcome: status, host and driver status, sense data, residue.
//! - [`mam`]: the cartridge memory (MAM): READ ATTRIBUTE sent through
//!   [`sg`], and its answer decoded: serial number, manufacturer, barcode,
//!   capacity.
//!
//! The rule of this module: every answer a device or tool gives (an
//! `mtget`, an errno and a byte count, `mtx status` text, sense bytes, a MAM
//! page) is read by a **pure function** tested on recorded answers in
//! `tests/data/`. The parts that touch the device are thin and hold no
//! decisions, because no test machine has a tape drive.

#![cfg(target_os = "linux")]
#![deny(missing_docs)]

pub mod mam;
pub mod mtio;
pub mod mtx;
pub mod sense;
pub mod sg;
pub mod st;

pub use mtx::{MtxChanger, MtxOutput, MtxRunner, ProcessRunner};
pub use sense::{Sense, SenseKey, SenseKind};
pub use st::{StDrive, StOptions};

use crate::device::TapeError;

/// A device answer hokan could not read: which answer, and what was wrong
/// with it (naming the line or byte where that helps).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{answer}: {what}")]
pub struct BadAnswer {
    /// Which answer (`mtx status`, `sense data`, `READ ATTRIBUTE`).
    pub answer: &'static str,
    /// What was wrong.
    pub what: String,
}

impl BadAnswer {
    /// A bad answer of kind `answer`.
    pub fn new(answer: &'static str, what: impl Into<String>) -> Self {
        BadAnswer {
            answer,
            what: what.into(),
        }
    }

    /// As the [`TapeError::Protocol`] of `device`.
    pub fn for_device(self, device: &str) -> TapeError {
        TapeError::Protocol {
            device: device.to_string(),
            what: self.to_string(),
        }
    }
}
