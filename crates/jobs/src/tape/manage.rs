//! A person's work on a tape pool: labelling a cartridge ([`label`]),
//! reading the library's inventory into the catalog ([`inventory`]), the
//! pool's state ([`status`]) and moving a cartridge ([`eject`],
//! [`move_in_library`]). Every move is recorded as the device reports it.

use hokan_catalog::{Catalog, Event, MediaSetRow, MediumRow, Retained};
use hokan_offline::{Location, MediumId, ObservedBy, PoolName};
use hokan_site::TapeMode;
use hokan_tape::format::{self, Label};
use hokan_tape::{ChangerStatus, DriveStatus};

use super::inventory::{device_last, reconcile_drive, reconcile_with};
use super::library::{self, located, Devices};
use super::{kind_of, PoolRef};
use crate::{Clock, JobError};

/// Refuse a cartridge whose retention has not passed at `now`
/// ([`JobError::Retained`]), or that is part of an open set
/// ([`JobError::InOpenSet`]).
pub fn check_free(cat: &Catalog, medium: &str, now: time::OffsetDateTime) -> Result<(), JobError> {
    match cat.retention_of(&MediumId::new(medium))? {
        Retained::Until { at } if at > now => Err(JobError::Retained {
            medium: medium.to_owned(),
            until: at,
        }),
        Retained::OpenSet { set } => Err(JobError::InOpenSet {
            medium: medium.to_owned(),
            set,
        }),
        _ => Ok(()),
    }
}

/// A cartridge labelled by [`label`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Labelled {
    /// The storage slot it went back to (a library), or `None` (it stays
    /// in the single drive).
    pub slot: Option<u32>,
}

/// Erase cartridge `medium` and write pool `pool`'s label on it: with a
/// library it is taken from its slot (or the mail slot) into the drive
/// and put away after. Refused when it belongs to another pool, is
/// retained or in an open set, or carries the label of another pool's
/// cartridge. The catalog then knows it as a free cartridge of the pool,
/// its old copies removed. `actor` is recorded on the events.
pub fn label(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    pool: PoolRef<'_>,
    medium: &str,
) -> Result<Labelled, JobError> {
    let now = clock.start;
    let id = MediumId::new(medium);
    let known = cat.medium(&id).ok();
    if let Some(m) = &known {
        if m.pool.as_ref().map(|p| p.as_str()) != Some(pool.name) {
            return Err(JobError::OtherPoolsMedium {
                medium: medium.to_owned(),
                pool: m.pool.as_ref().map(|p| p.to_string()),
            });
        }
        check_free(cat, medium, now)?;
    }
    let single = pool.mode == TapeMode::SingleDrive;
    if !single {
        let status = dev.changer_status()?;
        match status.find(medium) {
            None => {
                return Err(JobError::NotInLibrary {
                    barcode: medium.to_owned(),
                    exporting: false,
                })
            }
            Some(Err(slot))
                if status
                    .slots
                    .iter()
                    .any(|s| s.number == slot && s.import_export) =>
            {
                let to = status.free_storage().ok_or(JobError::NoStorageSlot)?;
                let changer = dev.changer.as_mut().expect("a library");
                changer.transfer(slot, to).map_err(JobError::Tape)?;
            }
            _ => {}
        }
        library::load(dev, cat, clock, actor, medium)?;
    }
    let st = dev.drive.status().map_err(JobError::Tape)?;
    let result = write_label(dev, cat, clock, pool, medium, &st);
    let mut events = Vec::new();
    if result.is_ok() {
        if known.is_none() {
            events.push(Event::MediumAdded {
                medium: id.clone(),
                kind: kind_of(pool.mode),
                pool: Some(PoolName::new(pool.name)),
                label: Some(medium.to_owned()),
                capacity: st.capacity,
                note: dev.simulated.then(|| "simulated cartridge".to_owned()),
            });
        }
        for c in cat.copies()?.into_iter().filter(|c| c.medium == id) {
            events.push(Event::CopyRemoved {
                snapshot: c.snapshot,
                medium: id.clone(),
                reason: Some("erased by `hokan tape label`".into()),
            });
        }
    }
    cat.record_all(clock.at(), actor, events)?;
    let slot = if single {
        let ev = located(medium, clock.at(), dev.in_drive(), &dev.drive_id);
        cat.record(clock.at(), actor, ev)?;
        None
    } else {
        Some(library::put_away(dev, cat, clock, actor, medium)?)
    };
    result?;
    Ok(Labelled { slot })
}

/// Write the label on the cartridge in the drive, after checking it can
/// be written and does not hold another pool's (or a retained) cartridge.
fn write_label(
    dev: &mut Devices,
    cat: &Catalog,
    clock: &Clock,
    pool: PoolRef<'_>,
    medium: &str,
    st: &DriveStatus,
) -> Result<(), JobError> {
    if !st.loaded {
        return Err(JobError::Tape(hokan_tape::TapeError::NotLoaded {
            device: dev.drive_id.clone(),
        }));
    }
    if st.write_protected {
        return Err(JobError::Tape(hokan_tape::TapeError::WriteProtected {
            device: dev.drive_id.clone(),
            cartridge: medium.to_owned(),
        }));
    }
    // What is on it now: another hokan cartridge may still be retained.
    match format::read_label(&mut *dev.drive) {
        Ok(Some(old)) if old.medium != medium => {
            if old.pool != pool.name {
                return Err(JobError::OtherCartridgesLabel {
                    medium: medium.to_owned(),
                    label: old.medium,
                    pool: old.pool,
                });
            }
            check_free(cat, &old.medium, clock.start)?;
        }
        _ => {}
    }
    format::write_label(
        &mut *dev.drive,
        &Label {
            format: format::FORMAT_VERSION,
            medium: medium.to_owned(),
            pool: pool.name.to_owned(),
            // Not in a set yet (docs/tape-format.md: a free cartridge).
            set: String::new(),
            seq: 0,
            created: clock.at(),
            set_started: clock.at(),
        },
    )
    .map_err(JobError::TapeFormat)
}

/// What [`inventory`] recorded.
#[derive(Debug, Default)]
pub struct Inventoried {
    /// The moves recorded: each cartridge and where it is now.
    pub moves: Vec<(MediumId, Location)>,
    /// Barcodes the changer reports that the catalog does not know.
    pub unknown: Vec<String>,
    /// Cartridges without a barcode label, by place (`slot 4`).
    pub unlabelled: Vec<String>,
}

/// Where the devices of pool `pool` say each cartridge is, recorded in
/// the catalog at `now` (only changes): a library's inventory (the changer
/// rescans first), or the single drive's cartridge by its label.
pub fn inventory(
    dev: &mut Devices,
    cat: &mut Catalog,
    now: time::OffsetDateTime,
    actor: &str,
    pool: &str,
) -> Result<Inventoried, JobError> {
    let inv;
    let mut unlabelled = Vec::new();
    if dev.changer.is_some() {
        if let Some(c) = dev.changer.as_mut() {
            c.inventory().map_err(JobError::Tape)?;
        }
        let status = dev.changer_status()?;
        let media = cat.media()?;
        let history = cat.locations(None)?;
        let i = reconcile_with(&dev.library, &status, &media, &device_last(&history), now);
        unlabelled = i.unlabelled.clone();
        inv = i;
    } else {
        let st = dev.drive.status().map_err(JobError::Tape)?;
        let media = cat.media()?;
        let history = cat.locations(None)?;
        let inside = if st.loaded {
            format::read_label(&mut *dev.drive)
                .map_err(JobError::TapeFormat)?
                .map(|lb| lb.medium)
        } else {
            None
        };
        inv = reconcile_drive(
            &PoolName::new(pool),
            &dev.drive_id,
            inside.as_deref(),
            &media,
            &device_last(&history),
            now,
        );
    }
    let moves = inv
        .events
        .iter()
        .filter_map(|e| match e {
            Event::MediumLocated {
                medium, location, ..
            } => Some((medium.clone(), location.clone())),
            _ => None,
        })
        .collect();
    cat.record_all(now, actor, inv.events)?;
    Ok(Inventoried {
        moves,
        unknown: inv.unknown,
        unlabelled,
    })
}

/// One cartridge of the pool in [`PoolStatus`].
#[derive(Debug)]
pub struct CartridgeStatus {
    /// The catalog's row (where it is, its copies, capacity).
    pub medium: MediumRow,
    /// Whether its place was last reported by a device.
    pub by_device: bool,
    /// Its retention.
    pub retained: Retained,
    /// The sets it is part of.
    pub sets: Vec<String>,
}

/// A tape pool's state: what its devices report and what the catalog
/// knows of its cartridges and sets.
#[derive(Debug)]
pub struct PoolStatus {
    /// What the changer reports (empty for a single drive).
    pub library: ChangerStatus,
    /// What the drive reports, if it answered.
    pub drive: Option<DriveStatus>,
    /// The pool's cartridges in the catalog.
    pub cartridges: Vec<CartridgeStatus>,
    /// The pool's media sets, newest first.
    pub sets: Vec<MediaSetRow>,
}

/// The state of pool `pool` ([`PoolStatus`]).
pub fn status(dev: &mut Devices, cat: &Catalog, pool: &str) -> Result<PoolStatus, JobError> {
    let library = dev.changer_status()?;
    let drive = dev.drive.status().ok();
    let sets = cat.media_sets(Some(pool))?;
    let mut cartridges = Vec::new();
    for m in cat
        .media()?
        .into_iter()
        .filter(|m| m.pool.as_ref().map(|p| p.as_str()) == Some(pool))
    {
        let retained = cat.retention_of(&m.id)?;
        let by_device = m
            .location
            .as_ref()
            .is_some_and(|o| matches!(o.by, ObservedBy::Device { .. }));
        let in_sets = sets
            .iter()
            .filter(|s| s.cartridges.contains(&m.id))
            .map(|s| s.id.clone())
            .collect();
        cartridges.push(CartridgeStatus {
            medium: m,
            by_device,
            retained,
            sets: in_sets,
        });
    }
    Ok(PoolStatus {
        library,
        drive,
        cartridges,
        sets,
    })
}

/// Eject the single drive's cartridge `medium`, recording it ejected.
pub fn eject(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    medium: &str,
) -> Result<(), JobError> {
    dev.drive.unload().map_err(JobError::Tape)?;
    let ev = located(medium, clock.at(), dev.ejected(), &dev.drive_id);
    cat.record(clock.at(), actor, ev)?;
    Ok(())
}

/// Where [`move_in_library`] moves a cartridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MoveTo {
    /// Into the pool's drive (its copies become online).
    Drive,
    /// Back to a storage slot.
    Slot,
    /// To the mail slot, for a person to take out.
    Export,
}

/// Where the cartridge went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MovedTo {
    /// Into the drive.
    Drive,
    /// Into this storage slot.
    Slot(u32),
    /// Into the mail slot.
    MailSlot,
}

/// Check that the library holds `medium` ([`JobError::NotInLibrary`]
/// otherwise), before a move.
pub fn check_in_library(dev: &mut Devices, medium: &str) -> Result<(), JobError> {
    let status = dev.changer_status()?;
    match status.find(medium) {
        Some(_) => Ok(()),
        None => Err(JobError::NotInLibrary {
            barcode: medium.to_owned(),
            exporting: false,
        }),
    }
}

/// Move `medium` within the library (or out through the mail slot),
/// recording where it went.
pub fn move_in_library(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    medium: &str,
    to: MoveTo,
) -> Result<MovedTo, JobError> {
    let status = dev.changer_status()?;
    let place = status.find(medium).ok_or_else(|| JobError::NotInLibrary {
        barcode: medium.to_owned(),
        exporting: to == MoveTo::Export,
    })?;
    match (to, place) {
        (MoveTo::Drive, _) => {
            library::load(dev, cat, clock, actor, medium)?;
            Ok(MovedTo::Drive)
        }
        (MoveTo::Slot, Ok(_)) => Ok(MovedTo::Slot(library::put_away(
            dev, cat, clock, actor, medium,
        )?)),
        (MoveTo::Slot, Err(from)) => {
            let to = status.free_storage().ok_or(JobError::NoStorageSlot)?;
            if let Some(c) = dev.changer.as_mut() {
                c.transfer(from, to).map_err(JobError::Tape)?;
            }
            let ev = located(medium, clock.at(), dev.in_slot(to), &dev.library);
            cat.record(clock.at(), actor, ev)?;
            Ok(MovedTo::Slot(to))
        }
        (MoveTo::Export, _) => {
            library::export(dev, cat, clock, actor, medium)?;
            Ok(MovedTo::MailSlot)
        }
    }
}
