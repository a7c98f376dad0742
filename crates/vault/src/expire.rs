//! The vault's retention: the only thing that ever removes a generation
//! from the vault, and only after its `retain_until` by the compliance
//! clock ([`crate::clock`]), never while the clock is frozen, and only the
//! objects no retained generation needs. Config and key slots are never
//! removed.
//!
//! Order, so that a crash at any point leaves a usable vault: the ledger
//! records `expiring`, the snapshot goes first (the generation disappears
//! from restores before any of its data does), then the index files and
//! packs only it needed, then the ledger records `expired`. A run killed
//! in between is finished by the next one.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use crate::clock::Tick;
use crate::config::VaultConfig;
use crate::folder::Folder;
use crate::ledger::{self, Event, Ledger};
use crate::wire::Kind;
use crate::VaultError;

/// What a retention run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Generations removed.
    pub generations: Vec<String>,
    /// Objects removed.
    pub objects: u64,
    /// Expiry was frozen by the clock (nothing removed).
    pub frozen: bool,
    /// The compliance time used.
    pub now: Option<OffsetDateTime>,
}

/// Remove the generations whose retention ended.
pub fn run(folder: &Folder, config: &VaultConfig, tick: &Tick) -> Result<Expired, VaultError> {
    let _lock = folder
        .lock()
        .map_err(|e| VaultError::Folder(e.to_string()))?;
    let (mut ledger, state) = Ledger::open(&folder.ledger_path())?;
    let now = crate::pull::observe(&mut ledger, &state, tick, &config.clock())?;
    let state = ledger.replay()?;
    let mut out = Expired {
        now: Some(now),
        ..Expired::default()
    };
    if state.frozen.is_some() {
        out.frozen = true;
        return Ok(out);
    }
    let mut due: Vec<String> = state
        .generations
        .values()
        .filter(|g| ledger::parse(&g.retain_until).is_some_and(|t| t <= now))
        .map(|g| g.snapshot.clone())
        .collect();
    if let Some(s) = &state.expiring {
        if !due.contains(s) {
            due.push(s.clone());
        }
    }
    // Generations this run has removed: they keep nothing (two due
    // generations sharing a pack must not each keep it for the other).
    let mut gone: BTreeSet<String> = BTreeSet::new();
    for snapshot in due {
        let keep: BTreeSet<(Kind, String)> = {
            let mut k = BTreeSet::new();
            for g in state
                .generations
                .keys()
                .filter(|g| **g != snapshot && !gone.contains(*g))
            {
                for o in ledger.objects(g)? {
                    k.insert((o.kind, o.name));
                }
            }
            k
        };
        if state.expiring.as_deref() != Some(snapshot.as_str()) {
            ledger.append(
                now,
                &Event::Expiring {
                    snapshot: snapshot.clone(),
                },
            )?;
        }
        let mut objects = ledger.objects(&snapshot)?;
        // The snapshot first, then index files, then packs.
        objects.sort_by_key(|o| match o.kind {
            Kind::Snapshot => 0,
            Kind::Index => 1,
            _ => 2,
        });
        let mut removed = 0;
        for o in objects {
            if matches!(o.kind, Kind::Config | Kind::Key)
                || keep.contains(&(o.kind, o.name.clone()))
            {
                continue;
            }
            if folder.remove(o.kind, &o.name).map_err(|e| {
                VaultError::Folder(format!("removing {} {}: {e}", o.kind.word(), o.name))
            })? {
                removed += 1;
            }
        }
        ledger.append(
            now,
            &Event::Expired {
                snapshot: snapshot.clone(),
                removed,
            },
        )?;
        out.objects += removed;
        gone.insert(snapshot.clone());
        out.generations.push(snapshot);
    }
    Ok(out)
}
