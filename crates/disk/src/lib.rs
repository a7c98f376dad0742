//! Removable disks for hokan: RDX cartridges in a drive or an autoloader,
//! USB disks and NAS shares rotated by hand (項番 ②-1-1, ②-2-1, ②-2-2).
//!
//! A cartridge holds a self-contained hokan repository in `hokan/`, a
//! label file, [`LABEL_FILE`], written when hokan formats it, and the
//! catalog anchor, [`ANCHOR_FILE`], written by every backup job (see
//! `docs/disk-format.md`). Devices are reached through [`DiskDevice`]:
//!
//! - [`linux`]: block devices found by filesystem UUID or label under
//!   `/dev/disk/`, mounted, synced, unmounted and ejected (or powered off)
//!   through commands a site can replace;
//! - [`virt`]: a SIMULATED drive or autoloader kept in a folder, whose
//!   cartridges are folders that appear and disappear; for tests and the
//!   demo.

pub mod anchor;
pub mod device;
pub mod label;
pub mod linux;
pub mod virt;

pub use anchor::{read_anchor, write_anchor, ANCHOR_FILE};
pub use device::{Cartridge, DiskDevice, DiskError, Place, Slot, Status};
pub use label::{read_label, write_label, DiskLabel, LABEL_FILE, REPOSITORY_DIR};
