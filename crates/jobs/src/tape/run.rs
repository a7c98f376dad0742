//! A tape pool's job as one call ([`run_pool`]): what `hokan tape backup`
//! and the night's tape step do, from the catalog's path and the opened
//! primary repository to the cartridges put away.

use std::path::Path;
use std::time::{Duration, Instant};

use hokan_catalog::Catalog;
use hokan_offline::SnapshotId;
use hokan_repo::Repository;
use hokan_site::TapePool;
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

use super::backup::{backup, BackupJob, TapeBackup, TapeProgress};
use super::{devices, PoolRef};
use crate::catalog::SyncOptions;
use crate::copy::snapshots_to_copy;
use crate::{Clock, JobError, PoolLock};

/// A tape pool's job: the pool, the site around it, and what to copy.
#[derive(Clone, Copy, Debug)]
pub struct PoolJob<'a> {
    /// The pool as the job sees it.
    pub pool: PoolRef<'a>,
    /// Its settings (`[[tape_pool]]`): the devices opened.
    pub conf: &'a TapePool,
    /// The catalog database (the pool's lock is taken beside it).
    pub catalog: &'a Path,
    /// What the catalog sync at the start needs.
    pub sync: SyncOptions<'a>,
    /// The snapshots asked for (id, prefix, `latest`); empty: the latest
    /// of each source.
    pub specs: &'a [String],
    /// Read every cartridge back after writing.
    pub verify: bool,
    /// How long a single-drive job waits for a person to insert a
    /// cartridge (zero: fail at once, asking for it).
    pub wait: Duration,
    /// The site's name, carried by the set catalog's anchor.
    pub site: &'a str,
    /// The site's time zone (where weeks begin).
    pub offset: UtcOffset,
    /// When the job began, for its duration.
    pub started: Instant,
    /// The actor recorded on the job's events.
    pub actor: &'a str,
    /// When the job begins (its events are recorded from then on).
    pub now: OffsetDateTime,
}

/// What [`run_pool`] did.
#[derive(Debug, Serialize)]
pub struct PoolRun {
    /// The pool.
    pub pool: String,
    /// The snapshots written.
    pub snapshots: Vec<SnapshotId>,
    /// The objects of their copy plan.
    pub objects: usize,
    /// Whether the library is a simulation.
    pub simulated: bool,
    /// The set written, the cartridges, bytes and where they went.
    #[serde(flatten)]
    pub backup: TapeBackup,
}

/// A tape pool's job from start to end: open the catalog, take the pool's
/// lock (else [`JobError::PoolBusy`]), sync the catalog with `repo`, choose
/// the snapshots ([`JobError::NoSnapshotToCopy`] when there is none) and
/// their copy plan, open the pool's drive and changer
/// ([`JobError::TapePoolSettings`], [`JobError::Tape`]), and run
/// [`backup`] (the cartridge chosen by the pool's allocation and
/// retention, the set written and recorded, the cartridges put away).
///
/// `repo` is the primary repository, opened by the caller. `progress` is
/// told the bytes, the cartridges, the notes and any wait for a person.
pub fn run_pool(
    repo: &Repository,
    job: &PoolJob<'_>,
    progress: &dyn TapeProgress,
) -> Result<PoolRun, JobError> {
    let mut cat = Catalog::open(job.catalog)?;
    let _lock = PoolLock::take(job.catalog, job.pool.name)?;
    crate::catalog::sync(repo, &mut cat, job.sync, job.now)?;
    let ids = snapshots_to_copy(repo, job.specs)?;
    let plan = repo.copy_plan(&ids)?;
    let mut dev = devices::open(job.pool.name, job.conf)?;
    let backup_job = BackupJob {
        pool: job.pool,
        snapshots: &ids,
        plan: &plan,
        verify: job.verify,
        wait: job.wait,
        site: job.site,
        offset: job.offset,
        started: job.started,
        actor: job.actor,
    };
    let done = backup(
        repo,
        &mut cat,
        &mut dev,
        Clock::new(job.now),
        &backup_job,
        progress,
    )?;
    Ok(PoolRun {
        pool: job.pool.name.to_owned(),
        snapshots: ids.iter().map(|i| SnapshotId::new(i.to_hex())).collect(),
        objects: plan.objects.len(),
        simulated: dev.simulated,
        backup: done,
    })
}
