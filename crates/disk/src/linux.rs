//! Linux removable disks: RDX drives and autoloaders, USB disks and NAS
//! shares, reached as block devices and mount points.
//!
//! - [`disk`]: [`LinuxDisk`], the [`DiskDevice`](crate::DiskDevice): finds
//!   the cartridge among the block devices (by filesystem UUID, label or
//!   device path, or an autoloader slot's device), mounts, syncs
//!   (`syncfs(2)`), unmounts and ejects it, and checks after each step
//!   that the step took effect.
//! - [`command`]: the command templates a site can replace
//!   ([`Commands`]), their placeholders ([`expand`]), and the [`Runner`]
//!   that runs them ([`ProcessRunner`], or scripted answers in tests).
//! - [`lsblk`]: block devices, from `lsblk --json` in the forms the
//!   util-linux versions print.
//! - [`mountinfo`]: what is mounted where, from `/proc/self/mountinfo`.
//!
//! As for tapes, every answer of the system (lsblk's JSON, mountinfo, a
//! command's exit status and messages) is read by a **pure function**
//! tested on recorded answers in `tests/data/`; the device is looked at
//! through [`SystemView`] so that the whole attach / detach / eject flow is
//! tested without a drive.

#![cfg(target_os = "linux")]
#![deny(missing_docs)]

pub mod command;
pub mod disk;
pub mod lsblk;
pub mod mountinfo;

pub use command::{expand, Commands, Output, ProcessRunner, Runner, TemplateError, Values};
pub use disk::{LinuxDisk, LinuxDiskConfig, LiveSystem, Selectors, SlotDevice, SystemView};
pub use lsblk::{parse_lsblk, BlockDev, LSBLK_ARGS};
pub use mountinfo::{parse_mountinfo, MountEntry};

/// A system answer hokan could not read: which answer, and what was wrong
/// with it (naming the line or device where that helps).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{answer}: {what}")]
pub struct BadOutput {
    /// Which answer (`lsblk --json`, `/proc/self/mountinfo`).
    pub answer: &'static str,
    /// What was wrong.
    pub what: String,
}

impl BadOutput {
    /// A bad answer of kind `answer`.
    pub fn new(answer: &'static str, what: impl Into<String>) -> Self {
        BadOutput {
            answer,
            what: what.into(),
        }
    }
}
