//! Catalog sync: the primary repository's snapshots mirrored into the
//! site's catalog.
//!
//! The repository is the truth for what snapshots exist; the catalog adds
//! where each copy is. A sync records every new snapshot with a copy on the
//! [`PRIMARY`] medium, records as forgotten those the repository no longer
//! has (and their primary copies as removed), and declares the configured
//! sources. It is one catalog transaction: all or nothing, so a killed sync
//! leaves the catalog as it was.

use std::collections::BTreeSet;

use hokan_catalog::{Catalog, Event};
use hokan_offline::{MediumId, MediumKind, SnapshotId};
use hokan_repo::Repository;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::JobError;

/// The medium id under which the primary repository's copies are recorded.
pub const PRIMARY: &str = "primary";

/// The actor recorded on a sync's events.
pub const ACTOR: &str = "catalog sync";

/// What a sync needs to know about the site.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncOptions<'a> {
    /// What the primary repository is called (its folder, or
    /// `s3://bucket/prefix at endpoint`), the label of the `primary` medium.
    pub repository: Option<&'a str>,
    /// The configured sources, declared if the catalog lacks them.
    pub sources: &'a [String],
}

/// What a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncStats {
    /// Snapshots newly recorded.
    pub recorded: usize,
    /// Snapshots recorded as forgotten.
    pub forgotten: usize,
    /// Sources newly declared.
    pub sources: usize,
}

/// Mirror the primary repository's snapshots into the catalog, with a copy
/// on the `primary` medium each, and declare the configured sources, all
/// recorded at `now`.
pub fn sync(
    repo: &Repository,
    cat: &mut Catalog,
    options: SyncOptions<'_>,
    now: OffsetDateTime,
) -> Result<SyncStats, JobError> {
    let (snaps, _damaged) = repo.snapshots()?;
    let known = cat.snapshots()?;
    let known_ids: BTreeSet<&str> = known.iter().map(|s| s.id.as_str()).collect();
    let live: BTreeSet<String> = snaps.iter().map(|(id, _)| id.to_hex()).collect();
    let mut events = Vec::new();
    let mut stats = SyncStats::default();
    let primary = MediumId::new(PRIMARY);
    if cat.medium(&primary).is_err() {
        events.push(Event::MediumAdded {
            medium: primary.clone(),
            kind: MediumKind::PrimaryDisk,
            pool: None,
            label: options.repository.map(str::to_owned),
            capacity: None,
            note: None,
        });
    }
    let declared: BTreeSet<String> = cat
        .facts()?
        .sources
        .into_iter()
        .map(|s| s.to_string())
        .collect();
    for s in options.sources {
        if !declared.contains(s) {
            stats.sources += 1;
            events.push(Event::SourceDeclared {
                source: s.as_str().into(),
            });
        }
    }
    for (id, s) in &snaps {
        let hex = id.to_hex();
        if known_ids.contains(hex.as_str()) {
            continue;
        }
        let taken_at = OffsetDateTime::parse(&s.time, &Rfc3339).unwrap_or(now);
        let snapshot = SnapshotId::new(&hex);
        events.push(Event::SnapshotRecorded {
            snapshot: snapshot.clone(),
            source: s.source.as_str().into(),
            taken_at,
            hostname: s.hostname.clone(),
            paths: s.paths.clone(),
            bytes: s.summary.bytes_total,
            files: s.summary.files_new + s.summary.files_changed + s.summary.files_unchanged,
            partial: s.partial,
        });
        events.push(Event::CopyRecorded {
            snapshot,
            medium: primary.clone(),
            since: taken_at,
            complete: true,
            with: vec![],
        });
        stats.recorded += 1;
    }
    let on_primary: BTreeSet<String> = cat
        .copies()?
        .into_iter()
        .filter(|c| c.medium == primary)
        .map(|c| c.snapshot.to_string())
        .collect();
    for s in &known {
        if s.forgotten_at.is_none() && !live.contains(s.id.as_str()) {
            events.push(Event::SnapshotForgotten {
                snapshot: s.id.clone(),
            });
            stats.forgotten += 1;
        }
        if !live.contains(s.id.as_str()) && on_primary.contains(s.id.as_str()) {
            events.push(Event::CopyRemoved {
                snapshot: s.id.clone(),
                medium: primary.clone(),
                reason: Some("forgotten in the primary repository".into()),
            });
        }
    }
    cat.record_all(now, ACTOR, events)?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_repo::{backup, new_repo};
    use time::macros::datetime;

    #[test]
    fn sync_records_new_snapshots_once_and_forgets_removed_ones() {
        let (dir, repo) = new_repo();
        let a = backup(&repo, "a", "2026-11-20T22:00:00Z");
        let b = backup(&repo, "b", "2026-11-21T22:00:00Z");
        let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        let sources = vec!["a".to_owned(), "b".to_owned(), "pacs".to_owned()];
        let opts = SyncOptions {
            repository: Some("/srv/hokan"),
            sources: &sources,
        };
        let now = datetime!(2026-11-22 01:00 UTC);
        let first = sync(&repo, &mut cat, opts, now).unwrap();
        assert_eq!(
            first,
            SyncStats {
                recorded: 2,
                forgotten: 0,
                sources: 3
            }
        );
        let primary = cat.medium(&MediumId::new(PRIMARY)).unwrap();
        assert_eq!(primary.label.as_deref(), Some("/srv/hokan"));
        let copies = cat.copies().unwrap();
        assert_eq!(copies.len(), 2);
        let taken = copies
            .iter()
            .find(|c| c.snapshot.as_str() == a.to_hex())
            .unwrap()
            .since;
        assert_eq!(taken, datetime!(2026-11-20 22:00 UTC));
        // Nothing new: nothing recorded.
        assert_eq!(
            sync(&repo, &mut cat, opts, now).unwrap(),
            SyncStats::default()
        );
        // A snapshot forgotten in the repository is forgotten in the catalog.
        repo.store()
            .delete(hokan_repo::ObjectKind::Snapshot, &b.to_hex())
            .unwrap();
        let later = sync(&repo, &mut cat, opts, now + time::Duration::hours(1)).unwrap();
        assert_eq!(later.forgotten, 1);
        assert_eq!(later.recorded, 0);
        assert!(cat
            .copies()
            .unwrap()
            .iter()
            .all(|c| c.snapshot.as_str() != b.to_hex()));
    }
}
