//! What hokan asks of a removable-disk device, and what it reports.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where a cartridge is, as the device sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Place {
    /// In the single drive (or plugged in: a USB disk, a NAS switched on).
    Drive,
    /// In slot `slot` of an autoloader; `active` when the host's OS can read
    /// and write it (the slot shows up as a disk).
    Slot {
        /// The slot number (1-based).
        slot: u32,
        /// Whether the host sees it as a disk now.
        active: bool,
    },
}

/// A cartridge the device reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cartridge {
    /// Where it is.
    pub place: Place,
    /// The block device, when there is one (`/dev/sdb1`).
    pub device: Option<PathBuf>,
    /// The filesystem UUID, when there is one.
    pub uuid: Option<String>,
    /// The filesystem label, when there is one.
    pub fs_label: Option<String>,
    /// Where it is mounted now, if it is.
    pub mounted_at: Option<PathBuf>,
}

/// An autoloader slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The slot number (1-based).
    pub slot: u32,
    /// Whether the host sees it as a disk now.
    pub active: bool,
    /// Whether a cartridge is in it (when the autoloader can tell).
    pub occupied: Option<bool>,
}

/// What a device reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The cartridges it can see (one at most for a single drive).
    pub cartridges: Vec<Cartridge>,
    /// Autoloader slots (empty for a single drive).
    pub slots: Vec<Slot>,
}

impl Status {
    /// The cartridge in the drive or the active slot, if any.
    pub fn writable(&self) -> Option<&Cartridge> {
        self.cartridges.iter().find(|c| match c.place {
            Place::Drive => true,
            Place::Slot { active, .. } => active,
        })
    }
}

/// A device failure, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// No cartridge where one was needed.
    #[error("{device}: no cartridge is inserted")]
    NoCartridge {
        /// The drive or autoloader.
        device: String,
    },
    /// The cartridge went away while it was being used (pulled out, the
    /// USB cable unplugged, the NAS switched off).
    #[error("{device}: the cartridge went away while in use ({detail})")]
    Gone {
        /// The drive or autoloader.
        device: String,
        /// What failed.
        detail: String,
    },
    /// A command (mount, unmount, eject, …) failed.
    #[error("{device}: `{command}` failed ({detail})")]
    Command {
        /// The drive or autoloader.
        device: String,
        /// The command as run.
        command: String,
        /// Exit status and what it printed.
        detail: String,
    },
    /// The autoloader has no such slot, or it is empty.
    #[error("{device}: slot {slot}: {detail}")]
    Slot {
        /// The autoloader.
        device: String,
        /// The slot.
        slot: u32,
        /// What is wrong.
        detail: String,
    },
    /// Any other I/O failure, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The simulation's state file is damaged or was written by something
    /// else.
    #[error("{path}: {detail}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// A removable-disk device: a single drive, an autoloader, or a place
/// where a disk is plugged in or a NAS share appears.
///
/// The job's sequence is `status` → `attach` (mount; on an autoloader,
/// activate the slot first) → write the repository → `sync` → `detach`
/// (unmount) → `eject` (the cartridge leaves the drive, the disk is powered
/// off, or the autoloader's slot goes inactive / the cartridge is
/// exported).
///
/// `Send`, so that a job can hand the device to the copy's progress handle,
/// which the copy may call from its worker threads.
pub trait DiskDevice: Send {
    /// The device's name in messages and in the catalog (`rdx0`).
    fn name(&self) -> &str;

    /// Whether this is a simulation (reports say so).
    fn simulated(&self) -> bool {
        false
    }

    /// What the device sees now.
    fn status(&mut self) -> Result<Status, DiskError>;

    /// Make `cartridge` readable and writable and return where its files
    /// are. An autoloader first makes its slot active. A cartridge already
    /// mounted is returned where it is.
    fn attach(&mut self, cartridge: &Cartridge) -> Result<PathBuf, DiskError>;

    /// Make everything written under `path` durable on the cartridge
    /// (`syncfs`).
    fn sync(&mut self, path: &std::path::Path) -> Result<(), DiskError>;

    /// The job wrote `bytes` more to the cartridge attached at `path`.
    /// Real devices ignore it; the simulation uses it to pull a cartridge
    /// out in the middle of a job, as a person might.
    fn written(&mut self, path: &std::path::Path, bytes: u64) -> Result<(), DiskError> {
        let _ = (path, bytes);
        Ok(())
    }

    /// Unmount the cartridge attached at `path`.
    fn detach(&mut self, path: &std::path::Path) -> Result<(), DiskError>;

    /// Take the cartridge out of reach of the host: eject it from a single
    /// drive or power off the disk (②-1-1); on an autoloader, make its slot
    /// inactive (②-2-1, with an attested network segmentation), or, with
    /// `export`, move it out of the autoloader (②-2-2).
    fn eject(&mut self, cartridge: &Cartridge, export: bool) -> Result<(), DiskError>;
}
