//! Scanning a pool's cartridges: what is on each ([`read_cartridges`]),
//! and the catalog rebuilt from it ([`rebuild`]): media, sets with their
//! cartridges in order, closed sets and copies, and where the cartridges
//! are.
//!
//! A set catalog on tape whose anchor the site catalog does not contain
//! means the catalog was rolled back: [`Scanned::rolled_back`] says so,
//! and [`rebuild`] refuses to rebuild into it.

use std::collections::BTreeMap;

use hokan_catalog::anchor::{Anchor, AnchorError, RolledBack};
use hokan_catalog::{Catalog, Event};
use hokan_offline::{MediumId, PoolName, SnapshotId};
use hokan_tape::format::{self, FormatError, Label, SetCatalog};

use super::anchor::{anchor_in, check_anchor};
use super::inventory::reconcile;
use super::library::{self, located, Devices};
use super::{kind_of, PoolRef};
use crate::{Clock, JobError};

/// What scanning found on one cartridge of the pool.
#[derive(Debug)]
pub struct Found {
    /// The cartridge (by its label).
    pub medium: String,
    /// Its label.
    pub label: Label,
    /// The last set catalog on it, if any.
    pub catalog: Option<SetCatalog>,
}

/// A cartridge the scan did not take, and why.
#[derive(Debug)]
pub struct Skipped {
    /// Its barcode (empty for a single drive's cartridge).
    pub barcode: String,
    /// Why.
    pub why: SkipReason,
}

/// Why a cartridge was not taken.
#[derive(Debug)]
#[non_exhaustive]
pub enum SkipReason {
    /// It belongs to another pool.
    OtherPool(String),
    /// It has no hokan label.
    Blank,
    /// Its label cannot be read.
    Unreadable(FormatError),
}

/// The catalog anchor in a set catalog found on tape.
#[derive(Debug)]
pub struct AnchorSeen {
    /// The cartridge.
    pub medium: String,
    /// The set.
    pub set: String,
    /// The anchor: `None` for catalogs written before anchors existed,
    /// `Some(Err)` when the field is not an anchor.
    pub anchor: Option<Result<Anchor, AnchorError>>,
    /// Whether the site catalog contains it; `None` when not judged (a
    /// new catalog, or no readable anchor).
    pub in_catalog: Option<bool>,
}

impl AnchorSeen {
    /// The anchor of set catalog `c` from cartridge `medium`, judged
    /// against `cat`.
    pub fn of(cat: &Catalog, medium: &str, c: &SetCatalog) -> AnchorSeen {
        let anchor = anchor_in(c);
        let in_catalog = match &anchor {
            Some(Ok(a)) if cat.head().is_ok_and(|h| h.seq > 0) => cat.contains(&a.head()).ok(),
            _ => None,
        };
        AnchorSeen {
            medium: medium.to_owned(),
            set: c.set.clone(),
            anchor,
            in_catalog,
        }
    }
}

/// What [`read_cartridges`] found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// The pool's cartridges.
    pub found: Vec<Found>,
    /// Cartridges not taken.
    pub skipped: Vec<Skipped>,
    /// The anchors of the set catalogs found.
    pub anchors: Vec<AnchorSeen>,
    /// Set catalogs whose anchor the catalog does not contain.
    pub rolled_back: Vec<RolledBack>,
}

/// Read the label and last set catalog of every cartridge of pool `pool`
/// the devices reach: each cartridge of a library in turn (loaded and put
/// away again, `actor` recorded on the moves), or the single drive's.
/// An empty single drive is [`hokan_tape::TapeError::NotLoaded`].
pub fn read_cartridges(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    pool: &str,
) -> Result<Scanned, JobError> {
    let mut out = Scanned::default();
    let barcodes: Vec<String> = if dev.changer.is_some() {
        let st = dev.changer_status()?;
        st.drives
            .iter()
            .filter_map(|d| d.loaded.as_ref())
            .chain(
                st.slots
                    .iter()
                    .filter(|s| !s.import_export)
                    .filter_map(|s| s.cartridge.as_ref()),
            )
            .filter_map(|c| c.barcode.clone())
            .collect()
    } else {
        vec![String::new()]
    };
    for b in &barcodes {
        if dev.changer.is_some() {
            library::load(dev, cat, clock, actor, b)?;
        }
        let skip = |why| Skipped {
            barcode: b.clone(),
            why,
        };
        match format::read_label(&mut *dev.drive) {
            Ok(Some(label)) if label.pool == pool => {
                let catalog =
                    format::last_catalog(&mut *dev.drive).map_err(JobError::TapeFormat)?;
                out.found.push(Found {
                    medium: label.medium.clone(),
                    label,
                    catalog,
                });
            }
            Ok(Some(label)) => out.skipped.push(skip(SkipReason::OtherPool(label.pool))),
            Ok(None) => out.skipped.push(skip(SkipReason::Blank)),
            Err(e) => out.skipped.push(skip(SkipReason::Unreadable(e))),
        }
        if dev.changer.is_some() {
            library::put_away(dev, cat, clock, actor, b)?;
        }
    }
    if dev.changer.is_none() && out.found.is_empty() {
        let st = dev.drive.status().map_err(JobError::Tape)?;
        if !st.loaded {
            return Err(JobError::Tape(hokan_tape::TapeError::NotLoaded {
                device: dev.drive_id.clone(),
            }));
        }
    }
    for f in &out.found {
        let Some(c) = &f.catalog else { continue };
        out.anchors.push(AnchorSeen::of(cat, &f.medium, c));
        if let Some(r) = check_anchor(cat, &f.medium, c)? {
            out.rolled_back.push(r);
        }
    }
    Ok(out)
}

/// What [`rebuild`] recorded.
#[derive(Debug, Default)]
pub struct Rebuilt {
    /// Cartridges added to the catalog.
    pub added: Vec<String>,
    /// Sets recorded as closed and complete, with their copies.
    pub sets: Vec<String>,
    /// Snapshots on tape the catalog does not know (no copy recorded;
    /// the set still names them).
    pub unknown_snapshots: Vec<String>,
}

/// Rebuild the catalog from what [`read_cartridges`] found: the
/// cartridges, their sets, the complete sets closed with their copies,
/// and where the cartridges are now. [`JobError::CatalogRolledBack`]
/// (nothing recorded) when a set catalog's anchor is not in the catalog.
pub fn rebuild(
    dev: &mut Devices,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    pool: PoolRef<'_>,
    scanned: &Scanned,
) -> Result<Rebuilt, JobError> {
    if let Some(r) = scanned.rolled_back.first() {
        return Err(JobError::CatalogRolledBack(r.clone()));
    }
    let found = &scanned.found;
    let mut out = Rebuilt::default();
    let known_snaps: Vec<String> = cat
        .snapshots()?
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let mut events = Vec::new();
    for f in found {
        let id = MediumId::new(f.medium.as_str());
        if cat.medium(&id).is_err() {
            events.push(Event::MediumAdded {
                medium: id,
                kind: kind_of(pool.mode),
                pool: Some(PoolName::new(pool.name)),
                label: Some(f.medium.clone()),
                capacity: None,
                note: Some("found by `hokan tape scan`".into()),
            });
            out.added.push(f.medium.clone());
        }
    }
    let mut sets: BTreeMap<String, Vec<&Found>> = BTreeMap::new();
    for f in found.iter().filter(|f| !f.label.set.is_empty()) {
        sets.entry(f.label.set.clone()).or_default().push(f);
    }
    for (set, mut carts) in sets {
        carts.sort_by_key(|f| f.label.seq);
        let existing = cat.media_set(&set).ok();
        if existing.is_none() {
            events.push(Event::MediaSetStarted {
                set: set.clone(),
                pool: PoolName::new(pool.name),
                at: carts[0].label.set_started,
            });
        }
        for f in &carts {
            let id = MediumId::new(f.medium.as_str());
            if !existing
                .as_ref()
                .is_some_and(|s| s.cartridges.contains(&id))
            {
                events.push(Event::CartridgeLabeled {
                    medium: id,
                    set: set.clone(),
                    seq: f.label.seq,
                    at: f.label.created,
                });
            }
        }
        let last = carts.last().expect("one cartridge");
        let Some(c) = last.catalog.as_ref().filter(|c| c.complete) else {
            continue;
        };
        let whole = c.cartridges.len() == carts.len();
        if !whole || existing.as_ref().is_some_and(|s| s.closed_at.is_some()) {
            continue;
        }
        let snaps: Vec<SnapshotId> = c
            .snapshots
            .iter()
            .filter(|s| {
                let k = known_snaps.contains(s);
                if !k {
                    out.unknown_snapshots.push((*s).clone());
                }
                k
            })
            .map(|s| SnapshotId::new(s.as_str()))
            .collect();
        let media: Vec<MediumId> = carts
            .iter()
            .map(|f| MediumId::new(f.medium.as_str()))
            .collect();
        for s in &snaps {
            for m in &media {
                events.push(Event::CopyRecorded {
                    snapshot: s.clone(),
                    medium: m.clone(),
                    since: c.written,
                    complete: true,
                    with: media.iter().filter(|x| *x != m).cloned().collect(),
                });
            }
        }
        // The set records every generation its catalog on tape names, known
        // to the catalog or not, so a restore finds it by id or as `latest`
        // after the catalog was lost; copies (what the evaluator counts)
        // only of the generations the catalog knows.
        events.push(Event::MediaSetClosed {
            set: set.clone(),
            at: c.written,
            complete: true,
            snapshots: c
                .snapshots
                .iter()
                .map(|s| SnapshotId::new(s.as_str()))
                .collect(),
            retained_until: c.written + pool.retention,
        });
        out.sets.push(set);
    }
    cat.record_all(clock.at(), actor, events)?;
    // Where the cartridges are: the moves of this scan were not recorded
    // for cartridges the catalog did not know yet.
    let media = cat.media()?;
    let moves = if dev.changer.is_some() {
        let status = dev.changer_status()?;
        reconcile(&dev.library, &status, &media, clock.at()).events
    } else {
        let here = dev.in_drive();
        found
            .iter()
            .filter(|f| {
                !media.iter().any(|m| {
                    m.id.as_str() == f.medium
                        && m.location.as_ref().map(|o| &o.location) == Some(&here)
                })
            })
            .map(|f| located(&f.medium, clock.at(), here.clone(), &dev.drive_id))
            .collect()
    };
    cat.record_all(clock.at(), actor, moves)?;
    Ok(out)
}
