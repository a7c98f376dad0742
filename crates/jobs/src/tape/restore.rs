//! Restoring from a tape media set alone: which set holds the snapshot
//! ([`find_set`]), bringing its cartridges into the drive ([`mount`]), its
//! catalog on tape ([`open_set`]) and its objects read back into a folder
//! ([`read_set`]), which the caller then restores from as a repository.
//!
//! Checked before any cartridge moves: the set, and with a library that
//! every cartridge of it is inside ([`JobError::SetCartridgesAway`]).

use std::collections::BTreeMap;
use std::path::Path;

use hokan_catalog::{Catalog, MediaSetRow};
use hokan_tape::format::{self, SetCatalog};

use super::library::{self, Devices};
use crate::{Clock, JobError};

/// Whether the snapshot asked for is `latest` (else an id or a unique
/// prefix).
pub fn is_latest(snapshot: &str) -> bool {
    snapshot == "latest"
}

/// What was asked that no complete set of the pool answers
/// ([`JobError::NoSetToRestore`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoSet {
    /// The set named is not in the catalog as a complete set.
    NotComplete {
        /// The set named.
        set: String,
    },
    /// `latest`, and the pool has no complete set.
    NoLatest,
    /// No complete set holds the snapshot.
    NoneHolds {
        /// The snapshot asked for.
        snapshot: String,
    },
    /// The catalog records no cartridge of the set.
    NoCartridges {
        /// The set.
        set: String,
    },
}

/// A cartridge of a set, for a person to find it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCartridge {
    /// Its barcode.
    pub medium: String,
    /// The set.
    pub set: String,
    /// Its place in the set, from 1 (0 when the set does not list it).
    pub seq: usize,
    /// The set's number of cartridges.
    pub of: usize,
}

impl SetCartridge {
    /// Cartridge `medium` of `row`.
    pub fn of(row: &MediaSetRow, medium: &str) -> SetCartridge {
        SetCartridge {
            medium: medium.to_owned(),
            set: row.id.clone(),
            seq: row
                .cartridges
                .iter()
                .position(|m| m.as_str() == medium)
                .map_or(0, |i| i + 1),
            of: row.cartridges.len(),
        }
    }
}

/// What a single drive holds, when it is not the cartridge needed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InDrive {
    /// No cartridge.
    Empty,
    /// Another hokan cartridge.
    Other {
        /// Its barcode (by its label).
        medium: String,
    },
    /// A cartridge without a hokan label.
    Unlabelled,
}

/// The complete set of `pool` to restore from, and the snapshot to
/// restore from it (`latest` resolved to an id when the catalog knows the
/// generations' times).
///
/// - `latest`: the set holding the newest generation the catalog knows
///   (by the time it was taken); when the catalog knows none of the sets'
///   generations (it was rebuilt by a scan without the repository), the
///   set written last, and `latest` left for the restored repository.
/// - an id or unique prefix: the newest complete set holding it.
/// - `set`: that set, which must hold the snapshot when the catalog says
///   what it holds (otherwise the set's catalog on tape is checked,
///   [`check_snapshot`]).
pub fn find_set(
    cat: &Catalog,
    pool: &str,
    set: Option<&str>,
    snapshot: &str,
) -> Result<(MediaSetRow, String), JobError> {
    let sets = cat.media_sets(Some(pool))?;
    let holds = |s: &MediaSetRow| s.snapshots.iter().any(|x| x.as_str().starts_with(snapshot));
    let mut candidates: Vec<&MediaSetRow> = sets.iter().filter(|s| s.complete).collect();
    let no_set = |why: NoSet| JobError::NoSetToRestore {
        pool: pool.to_owned(),
        why,
        known: sets.clone(),
    };
    if let Some(id) = set {
        candidates.retain(|s| s.id == id);
        if candidates.is_empty() {
            return Err(no_set(NoSet::NotComplete { set: id.to_owned() }));
        }
    }
    if is_latest(snapshot) {
        let times: BTreeMap<String, time::OffsetDateTime> = cat
            .snapshots()?
            .into_iter()
            .map(|s| (s.id.to_string(), s.taken_at))
            .collect();
        // The newest generation whose time the catalog knows, on any set.
        let newest = candidates
            .iter()
            .flat_map(|s| {
                s.snapshots
                    .iter()
                    .filter_map(|x| times.get(x.as_str()).map(|t| (*t, x.to_string(), *s)))
            })
            .max_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        if let Some((_, id, s)) = newest {
            return Ok(((*s).clone(), id));
        }
        // Times unknown: the set written last; the restored repository
        // resolves `latest` among its generations.
        return match candidates
            .iter()
            .max_by_key(|s| (s.closed_at, s.started_at))
        {
            Some(s) => Ok(((*s).clone(), snapshot.to_owned())),
            None => Err(no_set(NoSet::NoLatest)),
        };
    }
    if let (Some(_), [row]) = (set, candidates.as_slice()) {
        if !row.snapshots.is_empty() && !holds(row) {
            return Err(JobError::SnapshotNotInSet {
                pool: pool.to_owned(),
                set: row.id.clone(),
                snapshot: snapshot.to_owned(),
                holds: row.snapshots.iter().map(|s| s.to_string()).collect(),
            });
        }
        return Ok(((*row).clone(), snapshot.to_owned()));
    }
    match candidates.into_iter().find(|s| holds(s)) {
        Some(s) => Ok((s.clone(), snapshot.to_owned())),
        None => Err(no_set(NoSet::NoneHolds {
            snapshot: snapshot.to_owned(),
        })),
    }
}

/// The set's catalog on tape names the snapshots it holds completely: the
/// one asked for must be among them (`latest` is the newest of them).
pub fn check_snapshot(pool: &str, catalog: &SetCatalog, snapshot: &str) -> Result<(), JobError> {
    if catalog.snapshots.iter().any(|s| s.starts_with(snapshot))
        || (is_latest(snapshot) && !catalog.snapshots.is_empty())
    {
        return Ok(());
    }
    Err(JobError::SnapshotNotInSet {
        pool: pool.to_owned(),
        set: catalog.set.clone(),
        snapshot: snapshot.to_owned(),
        holds: catalog.snapshots.clone(),
    })
}

/// Every cartridge of the set must be in the library before the restore
/// starts: [`JobError::SetCartridgesAway`] names all that are not, at
/// once.
pub fn all_in_library(
    dev: &mut Devices,
    row: &MediaSetRow,
    snapshot: &str,
) -> Result<(), JobError> {
    let status = dev.changer_status()?;
    let away: Vec<SetCartridge> = row
        .cartridges
        .iter()
        .filter(|m| status.find(m.as_str()).is_none())
        .map(|m| SetCartridge::of(row, m.as_str()))
        .collect();
    if away.is_empty() {
        return Ok(());
    }
    Err(JobError::SetCartridgesAway {
        library: dev.library.clone(),
        pool: row.pool.to_string(),
        away,
        snapshot: snapshot.to_owned(),
    })
}

/// Bring `medium` of set `row` into the drive: by the changer, or, with a
/// single drive, [`JobError::InsertSetCartridge`] unless it is there.
/// `actor` is recorded on the changer's moves.
pub fn mount(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    row: &MediaSetRow,
    medium: &str,
    snapshot: &str,
) -> Result<(), JobError> {
    if dev.changer.is_some() {
        return library::load(dev, cat, clock, actor, medium);
    }
    let loaded = matches!(dev.drive.status(), Ok(s) if s.loaded);
    let inside = if loaded {
        format::read_label(&mut *dev.drive)
            .ok()
            .flatten()
            .map(|lb| lb.medium)
    } else {
        None
    };
    if inside.as_deref() == Some(medium) {
        return Ok(());
    }
    let holds = match (loaded, inside) {
        (false, _) => InDrive::Empty,
        (true, Some(medium)) => InDrive::Other { medium },
        (true, None) => InDrive::Unlabelled,
    };
    Err(JobError::InsertSetCartridge {
        drive: dev.drive_id.clone(),
        holds,
        want: Box::new(SetCartridge::of(row, medium)),
        snapshot: snapshot.to_owned(),
    })
}

/// Open set `row` of pool `pool` for restoring `snapshot`: with a library,
/// check that all its cartridges are inside; mount its last cartridge,
/// whose last catalog describes the whole set, and check that it holds the
/// snapshot. Returns that catalog.
pub fn open_set(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    pool: &str,
    row: &MediaSetRow,
    snapshot: &str,
) -> Result<SetCatalog, JobError> {
    let Some(last) = row.cartridges.last() else {
        return Err(JobError::NoSetToRestore {
            pool: pool.to_owned(),
            why: NoSet::NoCartridges {
                set: row.id.clone(),
            },
            known: Vec::new(),
        });
    };
    if dev.changer.is_some() {
        all_in_library(dev, row, snapshot)?;
    }
    mount(dev, cat, clock, actor, row, last.as_str(), snapshot)?;
    let catalog = format::last_catalog(&mut *dev.drive)
        .map_err(JobError::TapeFormat)?
        .filter(|c| c.set == row.id && c.complete)
        .ok_or_else(|| JobError::SetCatalogMissing {
            pool: pool.to_owned(),
            medium: last.to_string(),
            set: row.id.clone(),
        })?;
    check_snapshot(pool, &catalog, snapshot)?;
    Ok(catalog)
}

/// Read every cartridge of set `row` (last first) into the repository
/// folder `dir`, by the set's `catalog` ([`open_set`]); with a library,
/// put the first cartridge (the last read) away. Objects still incomplete
/// after every cartridge are [`JobError::SetObjectsIncomplete`].
#[allow(clippy::too_many_arguments)] // the set, its catalog, and where to
pub fn read_set(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    row: &MediaSetRow,
    catalog: &SetCatalog,
    snapshot: &str,
    dir: &Path,
) -> Result<(), JobError> {
    let mut waiting = Vec::new();
    for m in row.cartridges.iter().rev() {
        mount(dev, cat, clock, actor, row, m.as_str(), snapshot)?;
        let r =
            format::extract_to_dir(&mut *dev.drive, catalog, dir).map_err(JobError::TapeFormat)?;
        waiting = r.waiting;
    }
    if !waiting.is_empty() {
        return Err(JobError::SetObjectsIncomplete {
            set: row.id.clone(),
            objects: waiting,
        });
    }
    if dev.changer.is_some() {
        if let Some(m) = row.cartridges.first() {
            library::put_away(dev, cat, clock, actor, m.as_str())?;
        }
    }
    Ok(())
}
