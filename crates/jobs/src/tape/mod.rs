//! Tape media-set jobs: what the catalog records around writing a media
//! set, so that it stays truthful when a job is killed.
//!
//! The order of events: the set is started, then each cartridge is
//! recorded as part of the set (its old copies removed,
//! [`start_cartridge`]) *before* anything is written on it; the copies are
//! recorded only after the set's catalog is on tape ([`record_set`]). A
//! killed job leaves an open set without copies, which the next job closes
//! as partial ([`settle_open_sets`]).
//!
//! - [`library`]: the pool's drive and changer, and moving cartridges
//!   (load, put away, export, after the job);
//! - [`inventory`]: what the changer reports, turned into catalog moves
//!   (pure);
//! - [`backup`]: the whole `tape backup` job once its snapshots are
//!   chosen; [`run_pool`]: a pool's whole job in one call, from the
//!   catalog's path and the opened primary repository (lock, sync, plan,
//!   devices) to the cartridges put away;
//! - [`anchor`]: the catalog anchor in each set catalog on tape;
//! - [`devices`]: opening a pool's drive and changer (real or SIMULATED)
//!   from its settings;
//! - [`restore`]: finding the set that holds a snapshot and reading it
//!   back from its cartridges;
//! - [`scan`]: the catalog rebuilt from what is on the cartridges;
//! - [`manage`]: labelling, inventory, a pool's status, moving a
//!   cartridge.
//!
//! What a person is told stays with the caller; nothing here prints.

pub mod anchor;
pub mod backup;
pub mod devices;
pub mod inventory;
pub mod library;
pub mod manage;
pub mod restore;
mod run;
pub mod scan;
#[cfg(test)]
mod sim_tests;

use hokan_catalog::{Catalog, Event, MediaSetRow};
use hokan_format::Id;
use hokan_offline::{MediumId, MediumKind, SnapshotId};
use hokan_site::{AfterJob, Allocation, TapeMode};
use time::{OffsetDateTime, UtcOffset};

use crate::{Clock, JobError};

pub use library::record_move;
pub use run::{run_pool, PoolJob, PoolRun};

/// The medium kind of a tape pool's cartridges.
pub fn kind_of(mode: TapeMode) -> MediumKind {
    match mode {
        TapeMode::SingleDrive => MediumKind::LtoSingleDrive,
        TapeMode::Library => MediumKind::LtoLibrary,
    }
}

/// Whether two instants fall in the same ISO week in the site's time zone.
pub fn same_week(a: OffsetDateTime, b: OffsetDateTime, offset: UtcOffset) -> bool {
    let (a, b) = (a.to_offset(offset), b.to_offset(offset));
    a.to_iso_week_date().0 == b.to_iso_week_date().0 && a.iso_week() == b.iso_week()
}

/// The snapshots with copies on a set's cartridges since it started,
/// sorted, each once.
pub fn set_snapshots(cat: &Catalog, set: &MediaSetRow) -> Result<Vec<SnapshotId>, JobError> {
    let copies = cat.copies()?;
    let mut snaps: Vec<SnapshotId> = copies
        .into_iter()
        .filter(|c| set.cartridges.contains(&c.medium) && c.since >= set.started_at)
        .map(|c| c.snapshot)
        .collect();
    snaps.sort();
    snaps.dedup();
    Ok(snaps)
}

/// A tape pool as a job sees it.
#[derive(Clone, Copy, Debug)]
pub struct PoolRef<'a> {
    /// The pool's name.
    pub name: &'a str,
    /// Whether a job continues the pool's open set.
    pub allocation: Allocation,
    /// How long a closed set is kept before its cartridges may be reused.
    pub retention: time::Duration,
    /// A single drive or a library.
    pub mode: TapeMode,
    /// Where the cartridges go after a job.
    pub after_job: AfterJob,
}

/// Close the pool's open sets but the one this job continues (by the
/// pool's allocation), which is returned. A set left open by a killed job
/// without any copy is closed as partial: never counted, and its
/// cartridges free again. A set with copies (weekly or continuing sets
/// hold one per finished job) is closed complete, kept for the retention
/// from now. `offset`: the site's time zone, where weeks begin.
pub fn settle_open_sets(
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    pool: PoolRef<'_>,
    offset: UtcOffset,
) -> Result<Option<MediaSetRow>, JobError> {
    let sets = cat.media_sets(Some(pool.name))?;
    let copies = cat.copies()?;
    let now = clock.at();
    let mut keep = None;
    let mut events = Vec::new();
    for s in sets.into_iter().filter(|s| s.closed_at.is_none()) {
        let mut snaps: Vec<SnapshotId> = copies
            .iter()
            .filter(|c| s.cartridges.contains(&c.medium) && c.since >= s.started_at)
            .map(|c| c.snapshot.clone())
            .collect();
        snaps.sort();
        snaps.dedup();
        let has_job = !snaps.is_empty();
        let go_on = has_job
            && keep.is_none()
            && match pool.allocation {
                Allocation::Weekday => false,
                Allocation::Weekly => same_week(s.started_at, now, offset),
                Allocation::Continue => true,
            };
        if go_on {
            keep = Some(s);
            continue;
        }
        if !has_job {
            tracing::warn!(
                "media set {} was left open by an interrupted job: closed as partial",
                s.id
            );
        }
        events.push(Event::MediaSetClosed {
            set: s.id,
            at: now,
            complete: has_job,
            snapshots: snaps,
            retained_until: if has_job { now + pool.retention } else { now },
        });
    }
    cat.record_all(clock.at(), actor, events)?;
    Ok(keep)
}

/// Close `set`, whose last cartridge no longer holds its catalog: complete
/// if it has copies (kept for the retention), else partial.
pub fn close_lost_set(
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    set: &MediaSetRow,
    retention: time::Duration,
) -> Result<(), JobError> {
    let snaps = set_snapshots(cat, set)?;
    let now = clock.at();
    cat.record_all(
        clock.at(),
        actor,
        vec![Event::MediaSetClosed {
            set: set.id.clone(),
            at: now,
            complete: !snaps.is_empty(),
            snapshots: snaps,
            retained_until: now + retention,
        }],
    )?;
    Ok(())
}

/// A new set id for `pool`: `<pool>-<UTC start of the job>`, with `-2`,
/// `-3`, … when the catalog has it already.
pub fn new_set_id(cat: &Catalog, clock: &Clock, pool: &str) -> Result<String, JobError> {
    let stamp = clock
        .start
        .to_offset(UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .expect("format");
    let base = format!("{pool}-{stamp}");
    let sets = cat.media_sets(None)?;
    let mut id = base.clone();
    let mut n = 1;
    while sets.iter().any(|s| s.id == id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    Ok(id)
}

/// Record that `medium` becomes cartridge number `seq` of `set`, before
/// anything is written on it: the copies it held are removed from the
/// catalog.
pub fn start_cartridge(
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    set: &str,
    medium: &str,
    seq: u32,
) -> Result<(), JobError> {
    let id = MediumId::new(medium);
    let mut events: Vec<Event> = cat
        .copies()?
        .into_iter()
        .filter(|c| c.medium == id)
        .map(|c| Event::CopyRemoved {
            snapshot: c.snapshot,
            medium: id.clone(),
            reason: Some(format!("overwritten by media set {set}")),
        })
        .collect();
    events.push(Event::CartridgeLabeled {
        medium: id,
        set: set.to_owned(),
        seq,
        at: clock.at(),
    });
    cat.record_all(clock.at(), actor, events)?;
    Ok(())
}

/// What [`record_set`] records.
#[derive(Clone, Copy, Debug)]
pub struct WrittenSet<'a> {
    /// The set's id.
    pub set: &'a str,
    /// The snapshots written.
    pub snapshots: &'a [Id],
    /// The set's cartridges, in order.
    pub cartridges: &'a [String],
    /// Whether every cartridge was read back.
    pub verified: bool,
    /// The snapshots the set's catalog on tape lists (all of the set's
    /// jobs).
    pub in_set_catalog: &'a [String],
}

/// The set is on tape: record each snapshot's copy on each cartridge (each
/// needing the others), and, with one set per job (weekday allocation),
/// close the set, kept for the retention.
pub fn record_set(
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    pool: PoolRef<'_>,
    w: WrittenSet<'_>,
) -> Result<(), JobError> {
    let cartridges: Vec<MediumId> = w
        .cartridges
        .iter()
        .map(|m| MediumId::new(m.as_str()))
        .collect();
    let mut events = Vec::new();
    for id in w.snapshots {
        let snapshot = SnapshotId::new(id.to_hex());
        for m in &cartridges {
            events.push(Event::CopyRecorded {
                snapshot: snapshot.clone(),
                medium: m.clone(),
                since: clock.at(),
                complete: true,
                with: cartridges.iter().filter(|c| *c != m).cloned().collect(),
            });
            if w.verified {
                events.push(Event::CopyVerified {
                    snapshot: snapshot.clone(),
                    medium: m.clone(),
                    at: clock.at(),
                    ok: true,
                    detail: Some("read back after writing".into()),
                });
            }
        }
    }
    if pool.allocation == Allocation::Weekday {
        // One set per job: closed now, kept for the retention.
        events.push(Event::MediaSetClosed {
            set: w.set.to_owned(),
            at: clock.at(),
            complete: true,
            snapshots: w
                .in_set_catalog
                .iter()
                .map(|s| SnapshotId::new(s.as_str()))
                .collect(),
            retained_until: clock.at() + pool.retention,
        });
    }
    cat.record_all(clock.at(), actor, events)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn weeks_are_iso_weeks_in_the_site_zone() {
        let jst = offset!(+9);
        // Sunday 23:30 JST and Monday 00:30 JST: different weeks, although
        // both are Sunday in UTC.
        assert!(!same_week(
            datetime!(2026-11-22 14:30 UTC),
            datetime!(2026-11-22 15:30 UTC),
            jst
        ));
        assert!(same_week(
            datetime!(2026-11-23 00:00 +9),
            datetime!(2026-11-29 23:59 +9),
            jst
        ));
        // The same week number of another year is another week.
        assert!(!same_week(
            datetime!(2025-11-24 12:00 +9),
            datetime!(2026-11-23 12:00 +9),
            jst
        ));
    }
}
