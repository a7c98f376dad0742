//! The S3 copy job ([`copy`]): the snapshots not yet in a bucket, their
//! objects sent under object lock, the copies recorded with their
//! protection, and the catalog's head written into the bucket as an anchor
//! (see [the module docs](super) for why and how).

use std::collections::BTreeSet;

use hokan_catalog::{Catalog, Event};
use hokan_format::Id;
use hokan_offline::{MediumId, Retention, SnapshotId};
use hokan_repo::store::ObjectKind;
use hokan_repo::Repository;
use time::OffsetDateTime;

use super::{catalog_mode, ensure_medium, write_anchor, BucketRef};

use crate::catalog::SyncOptions;
use crate::copy::{copy_plan, CopyOptions, CopyProgress, CopyStats};
use crate::JobError;

/// An S3 copy job: what to copy, where, and how.
#[derive(Clone, Copy, Debug)]
pub struct CopyJob<'a> {
    /// The bucket.
    pub bucket: BucketRef<'a>,
    /// The snapshots asked for (id, prefix, `latest`); empty: every
    /// snapshot of the repository without a complete copy in the bucket,
    /// oldest first.
    pub specs: &'a [String],
    /// What the catalog sync at the start needs.
    pub sync: SyncOptions<'a>,
    /// The site's name, carried by the anchor.
    pub site: &'a str,
    /// The actor recorded on the job's events.
    pub actor: &'a str,
    /// The time the job's events are recorded at.
    pub now: OffsetDateTime,
}

/// The progress handle of [`copy`]: told the bytes planned once the
/// snapshots are chosen, then of each object as [`copy_plan`] tells.
pub trait S3Progress: CopyProgress {
    /// The bytes the copy plans to send (some may be there already).
    fn total(&self, bytes: u64);
}

/// What an S3 copy job did.
#[derive(Clone, Debug)]
pub struct S3Copy {
    /// The medium the bucket is in the catalog.
    pub medium: MediumId,
    /// The snapshots copied; empty when every one was there already
    /// (nothing was sent or recorded then; the anchor was written).
    pub snapshots: Vec<Id>,
    /// Whether the bucket has object lock.
    pub locked: bool,
    /// The copies' protection: the earliest lock among their objects;
    /// `None` when the bucket has no object lock (never offline).
    pub locked_until: Option<OffsetDateTime>,
    /// The bytes of the copy plan.
    pub planned: u64,
    /// What the copy wrote (default when nothing was to copy).
    pub copy: CopyStats,
}

impl S3Copy {
    /// The planned bytes the bucket held already.
    pub fn already_there(&self) -> u64 {
        self.planned.saturating_sub(self.copy.written)
    }
}

/// The S3 copy job (see the module docs): sync the catalog, check the
/// bucket, choose the snapshots, copy them, lock again what the copy relies
/// on, write the anchor and record the copies with their protection.
///
/// The caller holds the pool's lock. Errors: [`JobError::Bucket`] (connect,
/// the check, a lock), [`JobError::BucketUnlocked`],
/// [`JobError::Destination`] (the copy; nothing recorded), and
/// [`JobError::BucketAnchorWrite`].
pub fn copy<P: S3Progress>(
    repo: &Repository,
    cat: &mut Catalog,
    job: &CopyJob<'_>,
    progress: &P,
) -> Result<S3Copy, JobError> {
    // The head the bucket's anchor names: the catalog as it was before this
    // job recorded anything.
    let head = cat.head()?;
    crate::catalog::sync(repo, cat, job.sync, job.now)?;

    // The bucket first: without object lock it is not an offline target.
    let probe = job.bucket.connect(false, false)?;
    let report = hokan_s3::bucket_check(&probe).map_err(JobError::from)?;
    let locked = report.object_lock_enabled;
    if !locked && !job.bucket.allow_unlocked {
        return Err(JobError::BucketUnlocked {
            target: job.bucket.name.clone(),
            bucket: job.bucket.config.bucket.clone(),
        });
    }
    // Objects already there are judged by their first version, the one
    // hokan wrote and locked (whatever was written on top since).
    let store = job.bucket.connect(locked, true)?;
    let medium = ensure_medium(cat, &job.bucket, job.now, job.actor)?;

    let ids = snapshots(repo, cat, &medium, job.specs)?;
    if ids.is_empty() {
        if locked {
            write_anchor(&store, job.site, &medium, &head)?;
        }
        return Ok(S3Copy {
            medium,
            snapshots: ids,
            locked,
            locked_until: None,
            planned: 0,
            copy: CopyStats::default(),
        });
    }
    let plan = repo.copy_plan(&ids)?;

    // Every object sent from here on is locked until at least this plus
    // the retention: the copy's recorded lock never exceeds its objects'.
    let upload_started = OffsetDateTime::now_utc();
    progress.total(plan.bytes());
    let stats = copy_plan(
        repo,
        &plan,
        &store,
        &CopyOptions {
            workers: job.bucket.config.concurrency,
        },
        progress,
    )?;

    let retention =
        time::Duration::try_from(job.bucket.lock.retention).unwrap_or(time::Duration::ZERO);
    let mut earliest: Option<OffsetDateTime> = locked.then(|| upload_started + retention);
    if locked {
        let now = OffsetDateTime::now_utc();
        // The objects already there that the copy needs, and every index,
        // key and config object of the bucket (a restore reads them all).
        let mut relock: BTreeSet<(ObjectKind, String)> = stats.kept.iter().cloned().collect();
        relock.extend(
            stats
                .present
                .keys()
                .filter(|(k, _)| {
                    matches!(k, ObjectKind::Index | ObjectKind::Key | ObjectKind::Config)
                })
                .cloned(),
        );
        for (kind, key) in relock {
            let state = store.object_lock(kind, &key).map_err(JobError::from)?;
            let until = match state.retain_until {
                Some(u) if u > now && state.mode.is_some() => u,
                _ if state.legal_hold => continue,
                _ => match store
                    .extend_lock(kind, &key, now + retention)
                    .map_err(JobError::from)?
                {
                    hokan_s3::Extended::Extended { to, .. } => to,
                    hokan_s3::Extended::AlreadyLater { until } => until,
                },
            };
            earliest = Some(earliest.map_or(until, |e| e.min(until)));
        }
        write_anchor(&store, job.site, &medium, &head)?;
    }
    record(cat, job, &medium, &ids, earliest)?;
    Ok(S3Copy {
        medium,
        snapshots: ids,
        locked,
        locked_until: earliest,
        planned: plan.bytes(),
        copy: stats,
    })
}

/// The snapshots to copy: those asked for, else every one not yet
/// completely in the bucket, oldest first.
fn snapshots(
    repo: &Repository,
    cat: &Catalog,
    medium: &MediumId,
    specs: &[String],
) -> Result<Vec<Id>, JobError> {
    if !specs.is_empty() {
        return crate::copy::snapshots_to_copy(repo, specs);
    }
    let there: Vec<SnapshotId> = cat
        .copies()?
        .into_iter()
        .filter(|c| &c.medium == medium && c.complete)
        .map(|c| c.snapshot)
        .collect();
    let (all, _) = repo.snapshots()?;
    let mut ids: Vec<(String, Id)> = all
        .into_iter()
        .filter(|(id, _)| !there.contains(&SnapshotId::new(id.to_hex())))
        .map(|(id, s)| (s.time.clone(), id))
        .collect();
    ids.sort();
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

/// Record each copy, and its protection: until `until`, or unlocked.
fn record(
    cat: &mut Catalog,
    job: &CopyJob<'_>,
    medium: &MediumId,
    ids: &[Id],
    until: Option<OffsetDateTime>,
) -> Result<(), JobError> {
    let at = job.now;
    let mode = catalog_mode(job.bucket.lock.mode);
    let mut events = Vec::new();
    for id in ids {
        let snapshot = SnapshotId::new(id.to_hex());
        events.push(Event::CopyRecorded {
            snapshot: snapshot.clone(),
            medium: medium.clone(),
            since: at,
            complete: true,
            with: Vec::new(),
        });
        events.push(Event::Protected {
            medium: medium.clone(),
            snapshot,
            at,
            mode,
            retention: match until {
                Some(until) => Retention::Until { until },
                None => Retention::Unlocked,
            },
        });
    }
    cat.record_all(at, job.actor, events)?;
    Ok(())
}
