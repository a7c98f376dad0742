//! Tape for hokan: LTO drives and libraries, and what hokan writes on them.
//!
//! - [`device`]: the [`TapeDrive`] and
//!   [`Changer`] traits every implementation follows, with
//!   the states and errors they report.
//! - [`virt`]: a file-backed virtual library (cartridge images, drives,
//!   storage and import/export slots, barcodes, capacity, write protection)
//!   and a single drive; its state survives process restarts. Tests and the
//!   demo use it.
//! - [`linux`]: the real devices: the `st` driver (`/dev/nst*`, MTIOCTOP /
//!   MTIOCGET) and SCSI media changers through `mtx`; every answer a device
//!   gives is parsed by a pure function tested on recorded answers.
//! - [`format`]: the on-tape format (`docs/tape-format.md`): the label,
//!   pax tar files of repository objects, media sets spanning cartridges.
//!
//! [`format`]: mod@format

pub mod device;
pub mod format;
pub mod linux;
pub mod virt;

pub use device::{
    Cartridge, Changer, ChangerStatus, DriveElement, DriveStatus, ReadBlock, SlotElement,
    TapeDrive, TapeError, WriteBlock,
};
pub use virt::{VirtualChanger, VirtualDrive, VirtualLibrary};
