//! An S3 target's jobs as one call each: the copy ([`run_copy`], `copy
//! --to s3:NAME` and the night's S3 step) and the lock extension
//! ([`run_extend_locks`], `s3 extend-locks`), from the catalog's path and
//! the target's settings to the copies recorded.

use std::path::Path;
use std::sync::Arc;

use hokan_catalog::Catalog;
use hokan_format::Id;
use hokan_offline::{MediumId, PoolName, SnapshotId};
use hokan_repo::store::Store;
use hokan_repo::Repository;
use hokan_s3::NetworkOptions;
use hokan_site::S3Bucket;
use serde::Serialize;
use time::OffsetDateTime;

use super::locks::{extend_locks, ExtendedLocks};
use super::{config, copy, lock_spec, BucketRef, CopyJob, S3Progress};
use crate::catalog::SyncOptions;
use crate::{JobError, PoolLock};

/// An `[[s3]]` target as its jobs take it.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The target's name: its pool, and the bucket's medium.
    pub name: &'a PoolName,
    /// Its settings (the secret is read from the file they name).
    pub conf: &'a S3Bucket,
    /// Its retention: how long every object is locked.
    pub retention: time::Duration,
    /// The network limits (usually [`super::network`] of `conf`).
    pub network: NetworkOptions,
}

/// An S3 copy job: the target, the site around it, and what to copy.
#[derive(Clone, Copy, Debug)]
pub struct CopyRun<'a> {
    /// The target.
    pub target: Target<'a>,
    /// The catalog database (the target's lock is taken beside it).
    pub catalog: &'a Path,
    /// The snapshots asked for (id, prefix, `latest`); empty: every
    /// snapshot without a complete copy in the bucket.
    pub specs: &'a [String],
    /// What the catalog sync at the start needs.
    pub sync: SyncOptions<'a>,
    /// The site's name, carried by the anchor.
    pub site: &'a str,
    /// The actor recorded on the job's events.
    pub actor: &'a str,
    /// When the job runs (its events are recorded then).
    pub now: OffsetDateTime,
}

/// What [`run_copy`] did.
#[derive(Clone, Debug, Serialize)]
pub struct CopyDone {
    /// The target.
    pub target: PoolName,
    /// Its bucket.
    pub bucket: String,
    /// The medium the bucket is in the catalog.
    pub medium: MediumId,
    /// The snapshots copied; empty when every one was there already.
    pub snapshots: Vec<SnapshotId>,
    /// Bytes sent now.
    pub bytes_sent: u64,
    /// Planned bytes the bucket held already.
    pub bytes_already_there: u64,
    /// Whether the bucket has object lock.
    pub locked: bool,
    /// The copies' protection: the earliest lock among their objects;
    /// `None` when the bucket has no object lock (never offline).
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
}

/// The S3 copy job from start to end: open the catalog, take the target's
/// lock (else [`JobError::PoolBusy`]), read the secret
/// ([`JobError::S3SecretFile`]), and run [`copy()`] (the catalog synced
/// with `repo`, the bucket checked, the copy, the locks, the anchor, the
/// copies recorded).
///
/// `repo` is the primary repository, opened by the caller. `progress` is
/// told the planned bytes, then of each object.
pub fn run_copy<P: S3Progress>(
    repo: &Repository,
    job: &CopyRun<'_>,
    progress: &P,
) -> Result<CopyDone, JobError> {
    let t = job.target;
    let mut cat = Catalog::open(job.catalog)?;
    let _lock = PoolLock::take(job.catalog, t.name.as_str())?;
    let config = config(&t.conf.connection)?;
    let copy_job = CopyJob {
        bucket: bucket_ref(&t, &config),
        specs: job.specs,
        sync: job.sync,
        site: job.site,
        actor: job.actor,
        now: job.now,
    };
    let done = copy(repo, &mut cat, &copy_job, progress)?;
    Ok(CopyDone {
        target: t.name.clone(),
        bucket: t.conf.connection.bucket.clone(),
        bytes_sent: done.copy.written,
        bytes_already_there: done.already_there(),
        medium: done.medium,
        snapshots: done.snapshots.iter().map(snapshot_id).collect(),
        locked: done.locked,
        locked_until: done.locked_until,
    })
}

fn snapshot_id(id: &Id) -> SnapshotId {
    SnapshotId::new(id.to_hex())
}

fn bucket_ref<'a>(t: &Target<'a>, config: &'a hokan_s3::S3Config) -> BucketRef<'a> {
    BucketRef {
        name: t.name,
        config,
        network: t.network,
        lock: lock_spec(t.conf, t.retention),
        allow_unlocked: t.conf.allow_unlocked,
    }
}

/// `s3 extend-locks` from start to end: open the catalog, take the
/// target's lock (else [`JobError::PoolBusy`]), read the secret, connect
/// to the bucket (first versions, writing under the target's lock), open
/// its repository with `open`, and run [`extend_locks`].
///
/// `open` opens the bucket's own repository (same passphrase as the
/// primary): the key is the caller's business, and so is its error `E`,
/// which every [`JobError`] of the job becomes.
pub fn run_extend_locks<E: From<JobError>>(
    target: &Target<'_>,
    catalog: &Path,
    now: OffsetDateTime,
    actor: &str,
    open: impl FnOnce(Arc<dyn Store>) -> Result<Repository, E>,
) -> Result<ExtendedLocks, E> {
    let mut cat = Catalog::open(catalog).map_err(JobError::from)?;
    let _lock = PoolLock::take(catalog, target.name.as_str())?;
    let config = config(&target.conf.connection)?;
    let bucket = bucket_ref(target, &config);
    // First versions: the keys, config and objects hokan wrote and locked,
    // whatever was written on top of them since.
    let store = Arc::new(bucket.connect(true, true)?);
    let repo = open(store.clone())?;
    Ok(extend_locks(&bucket, &store, &repo, &mut cat, now, actor)?)
}
