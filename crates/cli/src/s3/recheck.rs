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
//!
//! Nothing here prints: `hokan s3 check` prints the results, the nightly job
//! can log them.

use std::collections::BTreeSet;
use std::sync::Arc;

use hokan_catalog::{Catalog, Event};
use hokan_offline::{LockMode as CatLockMode, MediumId, Retention, SnapshotId};
use hokan_repo::store::{ObjectKind, Store};
use hokan_s3::{LockExpectation, LockMode, ObjectFinding, S3Store};
use time::OffsetDateTime;

use super::{s3_failure, Target};
use crate::ctx::SiteCtx;
use crate::exit::Failure;

/// What re-checking one recorded copy found.
#[derive(Clone, Debug)]
pub struct CopyRecheck {
    /// The copy's snapshot.
    pub snapshot: SnapshotId,
    /// How many objects were checked.
    pub objects: usize,
    /// The objects that are missing or not locked as recorded.
    pub findings: Vec<ObjectFinding>,
    /// Why the bucket's own repository could not list what the snapshot
    /// needs (an index, a tree or the snapshot itself unreadable), if so;
    /// the objects were then taken from the primary repository's plan.
    pub unplannable: Option<String>,
    /// Whether the catalog counted the copy complete before the check.
    pub was_complete: bool,
}

impl CopyRecheck {
    /// Whether the copy is whole: every object there and locked as recorded.
    pub fn whole(&self) -> bool {
        self.findings.is_empty() && self.unplannable.is_none()
    }
}

/// Re-check every copy the catalog records on `target`'s bucket (`medium`).
/// Reads first versions only. Fails if the bucket cannot be read at all.
pub fn recheck_copies(
    ctx: &SiteCtx<'_>,
    target: &Target,
    cat: &Catalog,
    medium: &MediumId,
) -> Result<Vec<CopyRecheck>, Failure> {
    let l = ctx.lang;
    let copies: Vec<_> = cat
        .copies()
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .filter(|c| &c.medium == medium)
        .collect();
    if copies.is_empty() {
        return Ok(Vec::new());
    }
    let facts = cat.facts().map_err(|e| ctx.catalog_failure(&e))?;
    let store = super::connect_as(ctx, target, false, true)?;
    let listed = store.first_versions().map_err(|e| s3_failure(l, &e))?;
    // The bucket's own repository, read from first versions; if even that
    // cannot be opened, every copy is checked against the primary's plan.
    let bucket_repo = open(ctx, &store);
    // Opened only if the bucket cannot plan a copy.
    let mut primary: Option<Option<hokan_repo::Repository>> = None;
    let mode = match target.conf.lock_mode {
        hokan_site::S3LockMode::Compliance => LockMode::Compliance,
        hokan_site::S3LockMode::Governance => LockMode::Governance,
    };
    let mut out = Vec::new();
    for copy in copies {
        let id = match hokan_format::Id::from_hex(copy.snapshot.as_str()) {
            Ok(id) => id,
            Err(_) => continue,
        };
        let mut unplannable = None;
        let mut need: BTreeSet<(ObjectKind, String)> = BTreeSet::new();
        let bucket_plan = match &bucket_repo {
            Ok(repo) => repo.copy_plan(&[id]).map_err(|e| e.to_string()),
            Err(f) => Err(f.message.clone()),
        };
        let plan = match bucket_plan {
            Ok(plan) => Some(plan),
            Err(why) => {
                unplannable = Some(why);
                primary
                    .get_or_insert_with(|| crate::ctx::primary_repository(ctx).ok())
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
        let recorded = facts
            .protections
            .iter()
            .filter(|p| p.medium == copy.medium && p.snapshot == copy.snapshot)
            .max_by_key(|p| p.recorded_at)
            .and_then(|p| match p.retention {
                Retention::Until { until } => Some(until),
                _ => None,
            });
        let recorded_mode = facts
            .protections
            .iter()
            .filter(|p| p.medium == copy.medium && p.snapshot == copy.snapshot)
            .max_by_key(|p| p.recorded_at)
            .map(|p| p.mode);
        let expect = LockExpectation {
            until: recorded,
            // A copy recorded in COMPLIANCE mode must not be found in a
            // weaker one.
            mode: match recorded_mode {
                Some(CatLockMode::Compliance) => Some(LockMode::Compliance),
                Some(_) => None,
                None => Some(mode),
            },
        };
        let objects: Vec<_> = need.into_iter().collect();
        let findings = store
            .check_objects(&listed, &objects, expect, OffsetDateTime::now_utc())
            .map_err(|e| s3_failure(l, &e))?;
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
    ctx: &SiteCtx<'_>,
    cat: &mut Catalog,
    medium: &MediumId,
    results: &[CopyRecheck],
    actor: &str,
) -> Result<usize, Failure> {
    let since: std::collections::HashMap<SnapshotId, OffsetDateTime> = cat
        .copies()
        .map_err(|e| ctx.catalog_failure(&e))?
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
            since: since.get(&r.snapshot).copied().unwrap_or(ctx.now),
            complete: false,
            with: Vec::new(),
        })
        .collect();
    let n = events.len();
    if n > 0 {
        cat.record_all(ctx.now, actor, events)
            .map_err(|e| ctx.catalog_failure(&e))?;
    }
    Ok(n)
}

/// Names of one kind from the listing of first versions: keys directly
/// under `folder`.
fn names_under(store: &S3Store, listed: &hokan_s3::FirstVersions, folder: &str) -> Vec<String> {
    let full = store.key(ObjectKind::Config, "config");
    let prefix = full.strip_suffix("config").unwrap_or("").to_owned() + folder;
    listed
        .keys()
        .filter_map(|k| k.strip_prefix(&prefix))
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .map(str::to_owned)
        .collect()
}

/// The bucket's repository, read from first versions.
fn open(ctx: &SiteCtx<'_>, store: &Arc<S3Store>) -> Result<hokan_repo::Repository, Failure> {
    let store: Arc<dyn Store> = store.clone();
    crate::ctx::open_repository_in(ctx.g, ctx.lang, store, &ctx.conf)
}

/// A finding as one line for people (English or Japanese).
pub fn describe(lang: crate::i18n::Lang, f: &ObjectFinding) -> String {
    use crate::i18n::t;
    use hokan_s3::ObjectFault as F;
    let what = match &f.fault {
        F::Missing => t(lang, "missing (deleted)", "ありません（削除された）").to_owned(),
        F::Unlocked { state } => format!(
            "{} ({})",
            t(lang, "NOT locked", "ロックされていません"),
            state.describe()
        ),
        F::Shortened { state, recorded } => format!(
            "{} ({}; {} {})",
            t(lang, "lock shortened", "ロックが短縮されています"),
            state.describe(),
            t(lang, "recorded until", "記録された期限"),
            super::copy::rfc3339(*recorded)
        ),
        F::WeakerMode { state } => format!(
            "{} ({})",
            t(lang, "locked in a weaker mode", "弱いモードでロック"),
            state.describe()
        ),
        _ => t(lang, "not as recorded", "記録と異なります").to_owned(),
    };
    format!("{}: {what}", f.key)
}
