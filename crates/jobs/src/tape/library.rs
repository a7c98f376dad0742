//! A pool's drive and changer, and the moves of cartridges between the
//! drive, the storage slots and the mail slot, each recorded in the catalog
//! from what the changer reports (`ObservedBy::Device`) as it happens.
//!
//! Opening the devices (real or simulated, from the pool's settings) is the
//! caller's: the settings' mistakes are told in the caller's words.

use hokan_catalog::{Catalog, Event};
use hokan_offline::{DeviceId, Location, MediumId, ObservedBy};
use hokan_site::{AfterJob, TapeMode};
use hokan_tape::{Changer, ChangerStatus, TapeDrive};
use time::OffsetDateTime;

use crate::{Clock, JobError};

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
    /// What the changer reports (an empty status for a single drive).
    pub fn changer_status(&mut self) -> Result<ChangerStatus, JobError> {
        match &mut self.changer {
            Some(c) => c.status().map_err(JobError::Tape),
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

/// A move the device reported, as a catalog event.
pub fn located(medium: &str, at: OffsetDateTime, location: Location, device: &str) -> Event {
    Event::MediumLocated {
        medium: MediumId::new(medium),
        at,
        location,
        by: ObservedBy::Device {
            device: DeviceId::new(device),
        },
        note: None,
    }
}

/// Record a move of a cartridge the catalog knows (a cartridge not yet in
/// the catalog, e.g. one being labelled or scanned, is recorded when
/// added).
pub fn record_move(
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    ev: Event,
) -> Result<(), JobError> {
    if let Event::MediumLocated { medium, .. } = &ev {
        if cat.medium(medium).is_err() {
            return Ok(());
        }
    }
    cat.record(clock.at(), actor, ev)?;
    Ok(())
}

/// Load `barcode` into the pool's drive; a cartridge already there (from an
/// interrupted job, or put there by a person) goes back to a slot first.
/// [`JobError::CartridgeInDrive`] when it is in another drive,
/// [`JobError::NotInLibrary`] when the changer does not report it.
pub fn load(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    barcode: &str,
) -> Result<(), JobError> {
    let status = dev.changer_status()?;
    let here = status
        .drives
        .iter()
        .find(|d| d.index == dev.drive_index)
        .and_then(|d| d.loaded.clone());
    if let Some(c) = here {
        if c.barcode.as_deref() == Some(barcode) {
            return Ok(());
        }
        let other = c.barcode.unwrap_or_default();
        put_away(dev, cat, clock, actor, &other)?;
    }
    let status = dev.changer_status()?;
    let slot = match status.find(barcode) {
        Some(Err(slot)) => slot,
        Some(Ok(drive)) => {
            return Err(JobError::CartridgeInDrive {
                barcode: barcode.to_owned(),
                drive,
            })
        }
        None => {
            return Err(JobError::NotInLibrary {
                barcode: barcode.to_owned(),
                exporting: false,
            })
        }
    };
    let changer = dev.changer.as_mut().expect("a library");
    changer
        .load(slot, dev.drive_index)
        .map_err(JobError::Tape)?;
    let ev = located(barcode, clock.at(), dev.in_drive(), &dev.library);
    record_move(cat, clock, actor, ev)
}

/// Unload the drive's cartridge to its home slot (or any free one), and
/// record where the cartridge the changer reports in the drive went (which
/// is normally `barcode`; the device's word is what is recorded). Returns
/// the slot; with an empty drive, the slot `barcode` is in already.
pub fn put_away(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    barcode: &str,
) -> Result<u32, JobError> {
    let status = dev.changer_status()?;
    let d = status.drives.iter().find(|d| d.index == dev.drive_index);
    let Some(inside) = d.and_then(|d| d.loaded.clone()) else {
        return match status.find(barcode) {
            Some(Err(slot)) => Ok(slot),
            _ => Err(JobError::NotInDriveOrSlot {
                barcode: barcode.to_owned(),
                library: dev.library.clone(),
            }),
        };
    };
    let actual = inside.barcode.unwrap_or_else(|| barcode.to_owned());
    if actual != barcode {
        tracing::warn!(
            "expected {barcode} in {}, the changer reports {actual}",
            dev.drive_id
        );
    }
    let home = d
        .and_then(|d| d.source_slot)
        .filter(|s| {
            status
                .slots
                .iter()
                .any(|x| x.number == *s && x.cartridge.is_none() && !x.import_export)
        })
        .or_else(|| status.free_storage())
        .ok_or_else(|| JobError::NoFreeSlot {
            barcode: actual.clone(),
        })?;
    // The drive ejects; then the changer takes the cartridge.
    let _ = dev.drive.unload();
    let changer = dev.changer.as_mut().expect("a library");
    changer
        .unload(dev.drive_index, home)
        .map_err(JobError::Tape)?;
    let ev = located(&actual, clock.at(), dev.in_slot(home), &dev.library);
    record_move(cat, clock, actor, ev)?;
    Ok(home)
}

/// Move a cartridge from its storage slot (or the drive) to a free mail
/// slot. [`JobError::MailSlotFull`] when there is none.
pub fn export(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    barcode: &str,
) -> Result<(), JobError> {
    let status = dev.changer_status()?;
    let from = match status.find(barcode) {
        Some(Err(s)) => s,
        Some(Ok(_)) => put_away(dev, cat, clock, actor, barcode)?,
        None => {
            return Err(JobError::NotInLibrary {
                barcode: barcode.to_owned(),
                exporting: true,
            })
        }
    };
    let status = dev.changer_status()?;
    let to = status
        .free_import_export()
        .ok_or_else(|| JobError::MailSlotFull {
            barcode: barcode.to_owned(),
        })?;
    let changer = dev.changer.as_mut().expect("a library");
    changer.transfer(from, to).map_err(JobError::Tape)?;
    let ev = located(barcode, clock.at(), dev.in_mail_slot(), &dev.library);
    record_move(cat, clock, actor, ev)
}

/// A cartridge moved by [`after_job`].
#[derive(Debug, serde::Serialize)]
#[serde(tag = "moved", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Moved {
    /// Ejected from the single drive, for a person to take and store
    /// (①-1-1).
    Ejected {
        /// The cartridge.
        medium: String,
    },
    /// Unloaded to a storage slot of the library (①-2-1).
    Unloaded {
        /// The cartridge.
        medium: String,
        /// The slot.
        slot: u32,
    },
    /// Exported to the mail slot, for a person to take out (①-2-2 once
    /// removed).
    Exported {
        /// The cartridge.
        medium: String,
    },
    /// The export failed; the cartridge stays in the library.
    NotExported {
        /// The cartridge.
        medium: String,
        /// Why (serialized as its short English text).
        #[serde(serialize_with = "error_text")]
        error: JobError,
    },
}

fn error_text<S: serde::Serializer>(e: &JobError, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

/// Where a job's cartridges go after it, by the pool's policy: the single
/// drive's cartridge (`in_drive`) ejected; a library's drive unloaded and,
/// with `export`, every cartridge of the set (`used`) exported. A failed
/// export is reported in the list, not as an error: the other cartridges
/// still go.
pub fn after_job(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    policy: (TapeMode, AfterJob),
    in_drive: &str,
    used: &[String],
) -> Result<Vec<Moved>, JobError> {
    let (mode, after) = policy;
    let mut moved = Vec::new();
    if mode == TapeMode::SingleDrive {
        if after == AfterJob::Eject {
            dev.drive.unload().map_err(JobError::Tape)?;
            let ev = located(in_drive, clock.at(), dev.ejected(), &dev.drive_id);
            record_move(cat, clock, actor, ev)?;
            moved.push(Moved::Ejected {
                medium: in_drive.to_owned(),
            });
        }
        return Ok(moved);
    }
    let status = dev.changer_status()?;
    let inside = status
        .drives
        .iter()
        .find(|d| d.index == dev.drive_index)
        .and_then(|d| d.loaded.as_ref())
        .and_then(|c| c.barcode.clone());
    if let Some(m) = inside {
        let slot = put_away(dev, cat, clock, actor, &m)?;
        moved.push(Moved::Unloaded { medium: m, slot });
    }
    if after == AfterJob::Export {
        for m in used {
            match export(dev, cat, clock, actor, m) {
                Ok(()) => moved.push(Moved::Exported { medium: m.clone() }),
                Err(error) => moved.push(Moved::NotExported {
                    medium: m.clone(),
                    error,
                }),
            }
        }
    }
    Ok(moved)
}
