//! Copies in an S3 bucket under object lock: the copy job, the bucket's
//! check, lock extension, prune, re-checking recorded copies, and the
//! catalog anchors read back from the buckets.
//!
//! - [`copy()`]: the S3 copy job (`copy --to s3:NAME`).
//! - [`check`]: the bucket check and enforcement probe
//!   ([`check::probe`]), recorded with a re-check of every copy
//!   ([`check::check`]).
//! - [`recheck`]: is every object a recorded copy needs still there and
//!   locked as recorded? Copies that are not become incomplete.
//! - [`locks`]: extending the locks of what the bucket's snapshots need
//!   ([`locks::extend_locks`]), and deleting packs nothing needs whose lock
//!   ran out ([`locks::prune`]).
//! - [`run_copy`] and [`run_extend_locks`]: the copy and the lock
//!   extension as one call each, from the catalog's path and the target's
//!   settings ([`Target`]): the lock, the secret, the connection.
//! - [`anchor`]: the catalog anchors of every configured bucket
//!   ([`anchor::bucket_anchors`]), for `status` and `catalog verify`.
//!
//! A target is reached through a [`BucketRef`]: its name, the store
//! configuration ([`config`], the secret read from the file the site names),
//! the network limits ([`network`]) and the lock ([`lock_spec`]). The bucket
//! is one medium in the catalog, named after the target ([`ensure_medium`]).
//!
//! Opening a repository needs the passphrase or paper key, the caller's
//! business: jobs that read the bucket's own repository take it opened, or
//! a closure that opens one when needed.
//!
//! # Why the bucket is checked first
//! A bucket without object lock can be emptied by anyone holding the
//! credentials: copies there never count as offline. The copy job refuses
//! such a bucket ([`JobError::BucketUnlocked`]) unless the target allows it,
//! and then records the copies as unlocked.
//!
//! # Crash semantics
//! The copy is [`copy_plan`](crate::copy::copy_plan)'s (resumable,
//! snapshots last); nothing is recorded until every object is in the bucket
//! and every object the copy relies on is locked. Objects already there are
//! judged by their first version, the one hokan wrote and locked, whatever
//! was written on top.
//!
//! # What a copy's protection is
//! The earliest lock among the objects it needs: objects sent now are
//! locked from about the start of the upload plus the retention; objects
//! already there are asked for their lock, and locked again if it has run
//! out (an index, key or config object of the bucket always: a restore
//! reads them all). The recorded lock never exceeds any object's.
//!
//! # The anchor
//! The head the anchor names is the catalog's before the job recorded
//! anything (before the catalog sync at its start): it is written, locked,
//! as `anchors/<seq>-<hash>.json` and never replaces an object, so a
//! catalog rolled back to before it is caught by `status`.

pub mod anchor;
pub mod check;
mod copy;
pub mod locks;
pub mod recheck;
mod run;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use hokan_catalog::anchor::Anchor;
use hokan_catalog::{Catalog, Event, Head};
use hokan_offline::{LockMode as CatLockMode, MediumId, MediumKind, PoolName};
use hokan_repo::store::StoreError;
use hokan_s3::{LockMode, LockSpec, NetworkOptions, S3Config, S3Store};
use hokan_site::{S3Bucket, S3Connection, S3LockMode};
use time::OffsetDateTime;

pub use copy::{copy, CopyJob, S3Copy, S3Progress};
pub use run::{run_copy, run_extend_locks, CopyDone, CopyRun, Target};

use crate::JobError;

/// The bucket a job works on, as configured (`[[s3]]`).
#[derive(Clone, Copy, Debug)]
pub struct BucketRef<'a> {
    /// The target's name: its pool, and the medium the catalog knows the
    /// bucket as.
    pub name: &'a PoolName,
    /// Where and how to reach the bucket (credentials included). Its
    /// `lock` and `original_versions` are ignored: the job sets them.
    pub config: &'a S3Config,
    /// The network limits.
    pub network: NetworkOptions,
    /// The lock every object is written (or locked again) with.
    pub lock: LockSpec,
    /// Copy into a bucket without object lock anyway (never offline).
    pub allow_unlocked: bool,
}

impl BucketRef<'_> {
    /// Connect to the bucket; `lock`: write new objects under the target's
    /// lock; `original_versions`: read each object's first version.
    pub fn connect(&self, lock: bool, original_versions: bool) -> Result<S3Store, JobError> {
        let cfg = S3Config {
            lock: lock.then_some(self.lock),
            original_versions,
            ..self.config.clone()
        };
        S3Store::connect_with(cfg, self.network).map_err(JobError::from)
    }
}

/// The lock hokan asks for on a target: its mode, and its retention
/// (`retention` of the target; a day if it does not fit).
pub fn lock_spec(bucket: &S3Bucket, retention: time::Duration) -> LockSpec {
    LockSpec {
        mode: match bucket.lock_mode {
            S3LockMode::Compliance => LockMode::Compliance,
            S3LockMode::Governance => LockMode::Governance,
        },
        retention: std::time::Duration::try_from(retention)
            .unwrap_or(std::time::Duration::from_secs(86_400)),
    }
}

/// The network limits of a bucket (an `[[s3]]` target, an S3 primary):
/// its timeouts (the operation's at least one attempt's), the attempts and
/// backoff left at their defaults.
pub fn network(bucket: &S3Connection) -> NetworkOptions {
    let secs = |s: u32| std::time::Duration::from_secs(u64::from(s));
    let to = bucket.timeouts;
    NetworkOptions {
        connect_timeout: secs(to.connect_secs),
        read_timeout: secs(to.read_secs),
        attempt_timeout: secs(to.attempt_secs),
        operation_timeout: secs(to.operation_secs.max(to.attempt_secs)),
        ..NetworkOptions::default()
    }
}

/// `net` giving up after `attempts` per request (at least one), with a
/// short backoff (100 ms up to 1 s): for diagnosis and tests, where a
/// server that is down should be reported in seconds, not minutes.
pub fn with_attempts(mut net: NetworkOptions, attempts: u32) -> NetworkOptions {
    net.max_attempts = attempts.max(1);
    net.initial_backoff = std::time::Duration::from_millis(100);
    net.max_backoff = std::time::Duration::from_secs(1);
    net
}

/// Where and how to reach a bucket (an `[[s3]]` target's, an S3
/// primary's), its secret read from the file the configuration names (the
/// first line); writing without lock, reading the newest versions
/// ([`BucketRef::connect`] sets both for a target).
///
/// Errors: [`JobError::S3SecretFile`].
pub fn config(bucket: &S3Connection) -> Result<S3Config, JobError> {
    let b = bucket;
    let credentials = match (&b.access_key_id, &b.secret_access_key_file) {
        (Some(id), Some(file)) => {
            let secret =
                std::fs::read_to_string(file).map_err(|source| JobError::S3SecretFile {
                    path: PathBuf::from(file),
                    source,
                })?;
            let secret = secret.lines().next().unwrap_or("").trim().to_owned();
            Some((id.clone(), secret))
        }
        _ => None,
    };
    Ok(S3Config {
        endpoint: b.endpoint.clone(),
        region: b.region.clone(),
        bucket: b.bucket.clone(),
        prefix: b.prefix.clone(),
        path_style: b.path_style,
        credentials,
        lock: None,
        concurrency: b.concurrency as usize,
        original_versions: false,
        ..S3Config::new(b.region.clone(), b.bucket.clone())
    })
}

/// The catalog's name of an S3 lock mode.
pub(crate) fn catalog_mode(mode: LockMode) -> CatLockMode {
    match mode {
        LockMode::Compliance => CatLockMode::Compliance,
        LockMode::Governance => CatLockMode::Governance,
    }
}

/// Add the bucket to the catalog's media if it is not there yet; the
/// medium is named after the target.
pub fn ensure_medium(
    cat: &mut Catalog,
    bucket: &BucketRef<'_>,
    at: OffsetDateTime,
    actor: &str,
) -> Result<MediumId, JobError> {
    let id = MediumId::new(bucket.name.as_str());
    if cat.medium(&id).is_err() {
        let b = bucket.config;
        cat.record(
            at,
            actor,
            Event::MediumAdded {
                medium: id.clone(),
                kind: MediumKind::ObjectStore,
                pool: Some(bucket.name.clone()),
                label: Some(format!(
                    "s3://{}/{}",
                    b.bucket,
                    b.prefix.as_deref().unwrap_or("")
                )),
                capacity: None,
                note: b.endpoint.clone(),
            },
        )?;
    }
    Ok(id)
}

/// Write the anchor of `head` into the bucket (locked as the store writes
/// everything; an existing object of that name is left as it is). An empty
/// chain has nothing to pin: nothing is written.
pub fn write_anchor(
    store: &S3Store,
    site: &str,
    medium: &MediumId,
    head: &Head,
) -> Result<(), JobError> {
    if head.seq == 0 {
        return Ok(());
    }
    let anchor = Anchor::new(site, head, medium.as_str(), OffsetDateTime::now_utc());
    store
        .put_once_at(&anchor.object_name(), &anchor.to_bytes())
        .map(|_| ())
        .map_err(|source| JobError::BucketAnchorWrite {
            object: anchor.object_name(),
            source: Box::new(source),
        })
}

/// The S3 error inside a store error (a copy's [`JobError::Destination`]),
/// if there is one: a timeout is then named with the server.
pub fn s3_error_of(e: &StoreError) -> Option<&hokan_s3::S3Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(s3) = err.downcast_ref::<hokan_s3::S3Error>() {
            return Some(s3);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(s3) = inner.downcast_ref::<hokan_s3::S3Error>() {
                    return Some(s3);
                }
            }
        }
        cur = err.source();
    }
    None
}

/// An instant as RFC 3339 text (what the catalog's job details carry).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
