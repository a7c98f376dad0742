//! A person's records about a medium: that it exists ([`add`]), where it
//! was put ([`record_move`]), and that it was retired or damaged
//! ([`retire`]).
//!
//! Devices over words: before a person's move is recorded, the medium's
//! device is asked where it is ([`super::observe`]); a person cannot record
//! out of a device a medium the device holds right now
//! ([`JobError::DeviceHoldsMedium`]). A device that cannot be asked leaves
//! the move recorded, and the evaluator weighs it against the device's
//! last report.

use hokan_catalog::{Catalog, Event, EventRecord};
use hokan_offline::{Condition, Location, MediumId, MediumKind, ObservedBy, PoolName};
use hokan_site::Target;
use time::OffsetDateTime;

use super::observe::{observe_pool, DeviceKind, DeviceNote, Observe};
use crate::JobError;

/// A medium a person adds to the catalog.
#[derive(Clone, Debug)]
pub struct NewMedium {
    /// Its id (the barcode, the cartridge's label).
    pub id: MediumId,
    /// What it is.
    pub kind: MediumKind,
    /// The pool it belongs to.
    pub pool: Option<PoolName>,
    /// Its label, when other than its id.
    pub label: Option<String>,
    /// Its capacity in bytes.
    pub capacity: Option<u64>,
    /// The person's note.
    pub note: Option<String>,
    /// Where it is now, and who put it there.
    pub location: Option<(Location, String)>,
}

/// Record a new medium at `now`, and where it is when the person says so,
/// in one transaction.
///
/// Errors: the catalog cannot record it ([`JobError::Catalog`]).
pub fn add(
    cat: &mut Catalog,
    now: OffsetDateTime,
    actor: &str,
    m: NewMedium,
) -> Result<Vec<EventRecord>, JobError> {
    let mut events = vec![Event::MediumAdded {
        medium: m.id.clone(),
        kind: m.kind,
        pool: m.pool,
        label: m.label,
        capacity: m.capacity,
        note: m.note,
    }];
    if let Some((location, person)) = m.location {
        events.push(Event::MediumLocated {
            medium: m.id,
            at: now,
            location,
            by: ObservedBy::Person {
                person: person.into(),
            },
            note: None,
        });
    }
    Ok(cat.record_all(now, actor, events)?)
}

/// Where a person says a medium was put.
#[derive(Clone, Debug)]
pub struct PersonMove<'a> {
    /// The medium.
    pub medium: &'a MediumId,
    /// Where it is now.
    pub to: Location,
    /// Who put it there.
    pub person: &'a str,
    /// When it was put there (at or before the observation's instant).
    pub at: OffsetDateTime,
    /// The person's note.
    pub note: Option<String>,
    /// The actor recorded on the event (the command that recorded it).
    pub actor: &'a str,
}

/// A person's move refused because the medium's device holds it
/// ([`JobError::DeviceHoldsMedium`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldByDevice {
    /// The medium.
    pub medium: MediumId,
    /// Where the person said it is.
    pub said: Location,
    /// Where the device sees it.
    pub seen: Location,
    /// The pool the device serves.
    pub pool: PoolName,
    /// What kind of device.
    pub kind: DeviceKind,
    /// The device's name.
    pub device: String,
    /// Whether it is a SIMULATED device.
    pub simulated: bool,
}

/// A person's move, recorded.
#[derive(Debug)]
pub struct Moved {
    /// The event recorded.
    pub record: EventRecord,
    /// What the medium's device said when it was asked first (none: the
    /// medium has no pool with a device among the targets).
    pub device: Option<DeviceNote>,
}

/// Record a person's move of a medium, after asking its pool's device
/// (among `targets`) where it is, at `how.now`.
///
/// Errors: the device holds the medium right now and the person's place is
/// outside any device ([`JobError::DeviceHoldsMedium`]; nothing recorded);
/// the catalog cannot record it ([`JobError::Catalog`], an unknown medium
/// among them).
pub fn record_move(
    cat: &mut Catalog,
    targets: &[Target],
    how: Observe,
    mv: PersonMove<'_>,
) -> Result<Moved, JobError> {
    let device = match cat.medium(mv.medium).ok().and_then(|m| m.pool) {
        Some(pool) => observe_pool(targets, cat, &pool, how),
        None => None,
    };
    if let Some(note) = &device {
        if let Some(seen) = note.sees(mv.medium) {
            if !mv.to.inside_a_device() && mv.to != Location::Unknown {
                return Err(JobError::DeviceHoldsMedium {
                    held: Box::new(HeldByDevice {
                        medium: mv.medium.clone(),
                        said: mv.to,
                        seen: seen.clone(),
                        pool: note.pool.clone(),
                        kind: note.kind,
                        device: note.device.clone(),
                        simulated: note.simulated,
                    }),
                });
            }
        }
    }
    let record = cat.record(
        how.now,
        mv.actor,
        Event::MediumLocated {
            medium: mv.medium.clone(),
            at: mv.at,
            location: mv.to,
            by: ObservedBy::Person {
                person: mv.person.into(),
            },
            note: mv.note,
        },
    )?;
    Ok(Moved { record, device })
}

/// Record that a medium was retired (or, `damaged`, found damaged) at
/// `now`: its copies no longer count as offline generations.
///
/// Errors: it is retired already ([`JobError::AlreadyRetired`]); the
/// catalog does not know it or cannot record it ([`JobError::Catalog`]).
pub fn retire(
    cat: &mut Catalog,
    now: OffsetDateTime,
    actor: &str,
    medium: &MediumId,
    damaged: bool,
    reason: Option<String>,
) -> Result<EventRecord, JobError> {
    let condition = if damaged {
        Condition::Damaged
    } else {
        Condition::Retired
    };
    if cat.medium(medium)?.condition == Condition::Retired {
        return Err(JobError::AlreadyRetired {
            medium: medium.clone(),
        });
    }
    Ok(cat.record(
        now,
        actor,
        Event::MediumCondition {
            medium: medium.clone(),
            condition,
            reason,
        },
    )?)
}
