//! A person's records about a medium: where it was put ([`record_move`]),
//! and that it was retired or damaged ([`retire`]).
//!
//! Devices over words: before a person's move is recorded, the medium's
//! device is asked where it is ([`super::observe`]); a person cannot record
//! out of a device a medium the device holds right now
//! ([`JobError::DeviceHoldsMedium`]). A device that cannot be asked leaves
//! the move recorded, and the evaluator weighs it against the device's
//! last report.

use hokan_catalog::{Catalog, Event, EventRecord};
use hokan_offline::{Condition, Location, MediumId, ObservedBy};
use hokan_site::Target;
use time::OffsetDateTime;

use super::observe::{observe_pool, DeviceNote, Observe};
use crate::JobError;

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
                    medium: mv.medium.clone(),
                    said: mv.to,
                    seen: seen.clone(),
                    pool: note.pool.clone(),
                    kind: note.kind,
                    device: note.device.clone(),
                    simulated: note.simulated,
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
