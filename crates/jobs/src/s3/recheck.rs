//! Re-checking the copies the catalog records in a bucket: is every object
//! each copy needs still there (its first version) and locked at least as
//! long as recorded?
//!
//! A copy is recorded once, when `copy --to s3` finishes. On a server that
//! lets a COMPLIANCE retention be shortened (moto; some S3-compatible
//! services), whoever holds the credentials can shorten a lock and then
//! delete the object, and the catalog would still count the copy as ③-1.
//! [`recheck_copies`] finds that; [`record`] writes it to the catalog as an
//! incomplete copy (`CopyRecorded { complete: false }`), which the evaluator
//! never counts as offline. The next successful `copy --to s3` sends what is
//! missing, locks again what is unlocked, and records the copy complete.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use hokan_catalog::{Catalog, Event};
use hokan_offline::{LockMode as CatLockMode, MediumId, Retention, SnapshotId};
use hokan_repo::store::{ObjectKind, Store};
use hokan_repo::{RepoError, Repository};
use hokan_s3::{FirstVersions, LockExpectation, LockMode, ObjectFinding, S3Store};
use time::OffsetDateTime;

use super::BucketRef;
use crate::JobError;

/// The repositories a re-check may need, opened by the caller (who holds
/// the passphrase or paper key, and keeps why one could not be opened).
pub trait Repositories {
    /// The bucket's own repository in `store` (which reads first
    /// versions); `None` if it cannot be opened.
    fn bucket(&mut self, store: Arc<dyn Store>) -> Option<Repository>;
    /// The primary repository, asked at most once and only if the bucket's
    /// cannot plan a copy; `None` if it cannot be opened.
    fn primary(&mut self) -> Option<Repository>;
}

/// Why the bucket's own repository could not list what a snapshot needs;
/// the objects were then taken from the primary repository's plan (or, if
/// that failed too, the snapshot and the config only).
#[derive(Debug)]
#[non_exhaustive]
pub enum Unplannable {
    /// The bucket's repository could not be opened
    /// ([`Repositories::bucket`] gave `None`; its caller knows why).
    NotOpened,
    /// An index, a tree or the snapshot itself is unreadable.
    Plan(RepoError),
}

/// What re-checking one recorded copy found.
#[derive(Debug)]
pub struct CopyRecheck {
    /// The copy's snapshot.
    pub snapshot: SnapshotId,
    /// How many objects were checked.
    pub objects: usize,
    /// The objects that are missing or not locked as recorded.
    pub findings: Vec<ObjectFinding>,
    /// Why the bucket's own repository could not list what the snapshot
    /// needs, if so.
    pub unplannable: Option<Unplannable>,
    /// Whether the catalog counted the copy complete before the check.
    pub was_complete: bool,
}

impl CopyRecheck {
    /// Whether the copy is whole: every object there and locked as recorded.
    pub fn whole(&self) -> bool {
        self.findings.is_empty() && self.unplannable.is_none()
    }
}

/// Re-check every copy the catalog records on the bucket (`medium`).
/// Reads first versions only; connects only if there is a copy to check.
/// Fails if the bucket cannot be read at all ([`JobError::Bucket`]).
pub fn recheck_copies(
    bucket: &BucketRef<'_>,
    cat: &Catalog,
    medium: &MediumId,
    repos: &mut dyn Repositories,
) -> Result<Vec<CopyRecheck>, JobError> {
    let copies: Vec<_> = cat
        .copies()?
        .into_iter()
        .filter(|c| &c.medium == medium)
        .collect();
    if copies.is_empty() {
        return Ok(Vec::new());
    }
    let facts = cat.facts()?;
    let store = Arc::new(bucket.connect(false, true)?);
    let listed = store.first_versions()?;
    // The bucket's own repository, read from first versions; if even that
    // cannot be opened, every copy is checked against the primary's plan.
    let bucket_repo = repos.bucket(store.clone());
    // Opened only if the bucket cannot plan a copy.
    let mut primary: Option<Option<Repository>> = None;
    let mut out = Vec::new();
    for copy in copies {
        let Ok(id) = hokan_format::Id::from_hex(copy.snapshot.as_str()) else {
            continue;
        };
        let mut unplannable = None;
        let mut need: BTreeSet<(ObjectKind, String)> = BTreeSet::new();
        let bucket_plan = match &bucket_repo {
            Some(repo) => repo.copy_plan(&[id]).map_err(Unplannable::Plan),
            None => Err(Unplannable::NotOpened),
        };
        let plan = match bucket_plan {
            Ok(plan) => Some(plan),
            Err(why) => {
                unplannable = Some(why);
                primary
                    .get_or_insert_with(|| repos.primary())
                    .as_ref()
                    .and_then(|p| p.copy_plan(&[id]).ok())
            }
        };
        match plan {
            Some(plan) => {
                for o in plan.objects.iter().filter(|o| o.bytes.is_none()) {
                    need.insert((o.kind, o.name.clone()));
                }
            }
            None => {
                // Neither the bucket nor the primary can say: at least the
                // snapshot and the config must be there.
                need.insert((ObjectKind::Config, "config".into()));
                need.insert((ObjectKind::Snapshot, copy.snapshot.as_str().to_owned()));
            }
        }
        // Every index of the bucket (the copy's fresh index among them)
        // must stay locked too.
        for kind in [ObjectKind::Index, ObjectKind::Key] {
            let folder = format!("{}/", kind.dir());
            for name in names_under(&store, &listed, &folder) {
                need.insert((kind, name));
            }
        }
        let latest = facts
            .protections
            .iter()
            .filter(|p| p.medium == copy.medium && p.snapshot == copy.snapshot)
            .max_by_key(|p| p.recorded_at);
        let recorded = latest.and_then(|p| match p.retention {
            Retention::Until { until } => Some(until),
            _ => None,
        });
        let expect = LockExpectation {
            until: recorded,
            // A copy recorded in COMPLIANCE mode must not be found in a
            // weaker one.
            mode: match latest.map(|p| p.mode) {
                Some(CatLockMode::Compliance) => Some(LockMode::Compliance),
                Some(_) => None,
                None => Some(bucket.lock.mode),
            },
        };
        let objects: Vec<_> = need.into_iter().collect();
        let findings = store.check_objects(&listed, &objects, expect, OffsetDateTime::now_utc())?;
        out.push(CopyRecheck {
            snapshot: copy.snapshot,
            objects: objects.len(),
            findings,
            unplannable,
            was_complete: copy.complete,
        });
    }
    Ok(out)
}

/// Record in the catalog what [`recheck_copies`] found: each copy counted
/// complete that is not whole becomes incomplete (never offline) until a
/// copy makes it whole again. Returns how many were changed.
pub fn record(
    cat: &mut Catalog,
    medium: &MediumId,
    results: &[CopyRecheck],
    now: OffsetDateTime,
    actor: &str,
) -> Result<usize, JobError> {
    let since: HashMap<SnapshotId, OffsetDateTime> = cat
        .copies()?
        .into_iter()
        .filter(|c| &c.medium == medium)
        .map(|c| (c.snapshot, c.since))
        .collect();
    let events: Vec<Event> = results
        .iter()
        .filter(|r| r.was_complete && !r.whole())
        .map(|r| Event::CopyRecorded {
            snapshot: r.snapshot.clone(),
            medium: medium.clone(),
            since: since.get(&r.snapshot).copied().unwrap_or(now),
            complete: false,
            with: Vec::new(),
        })
        .collect();
    let n = events.len();
    if n > 0 {
        cat.record_all(now, actor, events)?;
    }
    Ok(n)
}

/// Names of one kind from the listing of first versions: keys directly
/// under `folder` (`index/`, `keys/`) of the store's prefix.
pub fn names_under(store: &S3Store, listed: &FirstVersions, folder: &str) -> Vec<String> {
    let full = store.key(ObjectKind::Config, "config");
    let prefix = full.strip_suffix("config").unwrap_or("").to_owned() + folder;
    listed
        .keys()
        .filter_map(|k| k.strip_prefix(&prefix))
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .map(str::to_owned)
        .collect()
}
