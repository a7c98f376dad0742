//! What the bucket's snapshots need, kept locked ([`extend_locks`]), and
//! the packs nothing needs deleted once their lock has run out
//! ([`prune`]).
//!
//! Both read what the snapshots need from the bucket's own repository,
//! opened by the caller on a store reading first versions (the keys,
//! config and objects hokan wrote and locked, whatever was written on top
//! of them since). The caller holds the pool's lock: a prune must not run
//! while a copy sends objects its snapshot does not name yet.

use std::collections::BTreeSet;

use hokan_catalog::{Catalog, Event};
use hokan_format::Id;
use hokan_offline::{MediumId, Retention, SnapshotId};
use hokan_repo::store::{ObjectKind, Protection, Store};
use hokan_repo::Repository;
use hokan_s3::S3Store;
use serde_json::json;
use time::OffsetDateTime;

use super::{catalog_mode, ensure_medium, rfc3339, BucketRef};
use crate::JobError;

/// Objects by kind and name.
type Objects = BTreeSet<(ObjectKind, String)>;

/// The objects the bucket's snapshots need: config, keys, every index file
/// and snapshot, and the packs their trees reach; with the snapshots.
fn needed(repo: &Repository, store: &S3Store) -> Result<(Vec<Id>, Objects), JobError> {
    let (snaps, _) = repo.snapshots()?;
    let ids: Vec<Id> = snaps.into_iter().map(|(id, _)| id).collect();
    let mut need = BTreeSet::new();
    if !ids.is_empty() {
        let plan = repo.copy_plan(&ids)?;
        for o in plan.objects.iter().filter(|o| o.bytes.is_none()) {
            need.insert((o.kind, o.name.clone()));
        }
    }
    for kind in [ObjectKind::Index, ObjectKind::Snapshot, ObjectKind::Key] {
        for o in store.list(kind).map_err(JobError::BucketObjects)? {
            need.insert((kind, o.name));
        }
    }
    Ok((ids, need))
}

/// What [`extend_locks`] did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExtendedLocks {
    /// The bucket's medium in the catalog.
    pub medium: MediumId,
    /// The snapshots in the bucket.
    pub snapshots: usize,
    /// The objects whose lock was extended (the others were locked longer
    /// already).
    pub extended: usize,
    /// The earliest lock among the objects the snapshots need now; `None`
    /// when they need none.
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
}

/// Extend the lock of every object the bucket's snapshots need to the
/// target's retention from now, and record the new protection of each
/// complete copy the catalog records there.
///
/// `store`: the bucket, reading first versions and writing under the
/// target's lock; `repo`: its repository. Errors: [`JobError::Repo`],
/// [`JobError::BucketObjects`] (listing), [`JobError::Bucket`] (a lock),
/// [`JobError::Catalog`].
pub fn extend_locks(
    bucket: &BucketRef<'_>,
    store: &S3Store,
    repo: &Repository,
    cat: &mut Catalog,
    now: OffsetDateTime,
    actor: &str,
) -> Result<ExtendedLocks, JobError> {
    let (ids, need) = needed(repo, store)?;
    let until = OffsetDateTime::now_utc()
        + time::Duration::try_from(bucket.lock.retention).unwrap_or(time::Duration::ZERO);
    let mut earliest: Option<OffsetDateTime> = None;
    let mut extended = 0usize;
    for (kind, name) in &need {
        let now_until = match store.extend_lock(*kind, name, until)? {
            hokan_s3::Extended::Extended { to, .. } => {
                extended += 1;
                to
            }
            hokan_s3::Extended::AlreadyLater { until } => until,
        };
        earliest = Some(earliest.map_or(now_until, |e: OffsetDateTime| e.min(now_until)));
    }
    let medium = ensure_medium(cat, bucket, now, actor)?;
    let mode = catalog_mode(bucket.lock.mode);
    let on_medium: Vec<SnapshotId> = cat
        .copies()?
        .into_iter()
        .filter(|c| c.medium == medium && c.complete)
        .map(|c| c.snapshot)
        .collect();
    let mut events = Vec::new();
    if let Some(until) = earliest {
        for id in &ids {
            let snapshot = SnapshotId::new(id.to_hex());
            if on_medium.contains(&snapshot) {
                events.push(Event::Protected {
                    medium: medium.clone(),
                    snapshot,
                    at: now,
                    mode,
                    retention: Retention::Until { until },
                });
            }
        }
    }
    cat.record_all(now, actor, events)?;
    Ok(ExtendedLocks {
        medium,
        snapshots: ids.len(),
        extended,
        locked_until: earliest,
    })
}

/// A pack nothing needs that is still locked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The pack's name.
    pub pack: String,
    /// When its lock runs out; `None` when it has no end (a legal hold)
    /// or the bucket does not say.
    pub after: Option<OffsetDateTime>,
    /// Its size, when its lock has an end.
    pub bytes: Option<u64>,
}

impl Waiting {
    /// As the catalog's job detail and `--json` give it: `pack`, `after`
    /// (RFC 3339 or null) and, with an end, `bytes`.
    pub fn to_json(&self) -> serde_json::Value {
        match (self.after, self.bytes) {
            (Some(at), bytes) => {
                json!({"pack": self.pack, "after": rfc3339(at), "bytes": bytes})
            }
            (None, _) => json!({"pack": self.pack, "after": null}),
        }
    }
}

/// What [`prune`] did.
#[derive(Clone, Debug, Default)]
pub struct Pruned {
    /// The packs deleted.
    pub deleted: Vec<String>,
    /// The packs nothing needs that are still locked.
    pub waiting: Vec<Waiting>,
}

impl Pruned {
    /// [`Pruned::waiting`] as JSON ([`Waiting::to_json`]).
    pub fn waiting_json(&self) -> serde_json::Value {
        serde_json::Value::Array(self.waiting.iter().map(Waiting::to_json).collect())
    }
}

/// Delete the packs no snapshot in the bucket needs whose lock has run out
/// (a locked object is never tried: its lock is asked first); list the
/// others with the date they may go; record the job (`s3-prune`).
///
/// `originals`: the bucket reading first versions, `repo`: its repository;
/// deletions go through a plain connection. Errors: [`JobError::Repo`],
/// [`JobError::Bucket`] (connect), [`JobError::BucketObjects`],
/// [`JobError::Catalog`].
pub fn prune(
    bucket: &BucketRef<'_>,
    originals: &S3Store,
    repo: &Repository,
    cat: &mut Catalog,
    started: OffsetDateTime,
    now: OffsetDateTime,
    actor: &str,
) -> Result<Pruned, JobError> {
    let (_, need) = needed(repo, originals)?;
    let store = bucket.connect(false, false)?;
    let clock = OffsetDateTime::now_utc();
    let mut done = Pruned::default();
    let packs = store
        .list(ObjectKind::Pack)
        .map_err(JobError::BucketObjects)?;
    for o in packs {
        if need.contains(&(ObjectKind::Pack, o.name.clone())) {
            continue;
        }
        // Never try to delete a locked object: ask first.
        let p = store
            .protection(ObjectKind::Pack, &o.name)
            .map_err(JobError::BucketObjects)?;
        let free_at = match p {
            Protection::None => None,
            Protection::Until { unix_secs, .. } if unix_secs <= clock.unix_timestamp() => None,
            Protection::Until { unix_secs, .. } => {
                Some(OffsetDateTime::from_unix_timestamp(unix_secs).unwrap_or(clock))
            }
            Protection::Indefinite | Protection::Unknown => {
                done.waiting.push(Waiting {
                    pack: o.name,
                    after: None,
                    bytes: None,
                });
                continue;
            }
        };
        match free_at {
            None => {
                store
                    .delete(ObjectKind::Pack, &o.name)
                    .map_err(JobError::BucketObjects)?;
                done.deleted.push(o.name);
            }
            Some(at) => done.waiting.push(Waiting {
                pack: o.name,
                after: Some(at),
                bytes: Some(o.size),
            }),
        }
    }
    cat.record(
        now,
        actor,
        Event::JobFinished {
            job: "s3-prune".into(),
            target: format!("s3:{}", bucket.name),
            started_at: started,
            finished_at: now,
            outcome: "ok".into(),
            detail: json!({"deleted": done.deleted, "waiting": done.waiting_json()}),
        },
    )?;
    Ok(done)
}
