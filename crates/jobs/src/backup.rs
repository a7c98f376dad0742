//! Backing up the site's sources into the primary repository.
//!
//! Each source runs its pre-backup command first (a database dump): a
//! failed command either skips the source (`on_failure = "abort"`) or lets
//! the backup go on with the snapshot tagged `pre-backup-failed`, because
//! the dump in it may be stale. Every backup is then mirrored into the
//! catalog with its job record ([`record`]); the repository is the truth,
//! so a catalog that cannot be written is reported, not fatal.
//!
//! The caller sees each step through [`SourceEvents`] and draws the
//! progress; nothing here prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hokan_catalog::{Catalog, Event};
use hokan_repo::{BackupOptions, BackupProgress, BackupResult, ParentChoice, Repository};
use hokan_site::{OnFailure, Source};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::hooks::{self, HookOutcome};
use crate::JobError;

/// The tag a snapshot gets when its source's pre-backup command failed
/// and the backup went on.
pub const PRE_BACKUP_FAILED: &str = "pre-backup-failed";

/// What every backup of one run shares.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Tags added to every snapshot.
    pub tags: Vec<String>,
    /// Read every file again (no parent snapshot).
    pub force: bool,
    /// The snapshot time (RFC 3339) instead of the clock's.
    pub time: Option<String>,
}

/// Where backups are recorded: the catalog and what its sync needs.
#[derive(Clone, Copy, Debug)]
pub struct Recording<'a> {
    /// The catalog database.
    pub catalog: &'a Path,
    /// What the primary repository is called: its folder, or
    /// `s3://bucket/prefix at endpoint` ([`hokan_site::RepositoryLocation::label`]).
    pub repository: Option<&'a str>,
    /// The configured sources.
    pub sources: &'a [String],
}

/// What a run of [`sources`] tells its caller as it goes.
pub trait SourceEvents {
    /// `source`'s pre-backup command starts.
    fn pre_backup(&self, source: &str, command: &hokan_site::Command);
    /// It failed; `abort`: the source is not backed up.
    fn pre_backup_failed(
        &self,
        source: &str,
        outcome: &HookOutcome,
        timeout: Duration,
        abort: bool,
    );
    /// The progress handle for `source`'s backup.
    fn progress(&self, source: &str) -> Box<dyn BackupProgress + '_>;
    /// The backup of `source` ended (the handle is dropped first).
    fn backed_up(&self, source: &str, result: &Result<BackupResult, JobError>);
    /// The catalog could not record a job (the backup itself is done).
    fn not_recorded(&self, catalog: &Path, error: &JobError);
}

/// How one source's backup went.
#[derive(Debug)]
pub struct SourceRun {
    /// The source.
    pub source: String,
    /// What its pre-backup command did, if it has one.
    pub pre_backup: Option<HookOutcome>,
    /// The backup; `None` when a failed pre-backup command stopped it.
    pub backup: Option<Result<BackupResult, JobError>>,
}

/// Back up `sources` (each after its pre-backup command) into `repo`,
/// recording each job where `recording` says.
pub fn sources(
    repo: &Repository,
    sources: &[&Source],
    options: &Options,
    recording: Option<Recording<'_>>,
    events: &dyn SourceEvents,
) -> Vec<SourceRun> {
    let mut runs = Vec::new();
    for src in sources {
        let name = src.name.as_str().to_owned();
        let mut tags = options.tags.clone();
        let mut pre_backup = None;
        if let Some(pre) = &src.pre_backup {
            events.pre_backup(&name, &pre.command);
            let timeout = pre.timeout.try_into().unwrap_or(Duration::MAX);
            let started = OffsetDateTime::now_utc();
            let o = hooks::run(&pre.command, timeout);
            if !o.ok {
                let abort = pre.on_failure == OnFailure::Abort;
                events.pre_backup_failed(&name, &o, timeout, abort);
                if let Some(r) = recording {
                    let detail = json!(o);
                    if let Err(e) = record(repo, r, "pre-backup", &name, started, "failed", detail)
                    {
                        events.not_recorded(r.catalog, &e);
                    }
                }
                if abort {
                    runs.push(SourceRun {
                        source: name,
                        pre_backup: Some(o),
                        backup: None,
                    });
                    continue;
                }
                tags.push(PRE_BACKUP_FAILED.to_owned());
            }
            pre_backup = Some(o);
        }
        let result = {
            let progress = events.progress(&name);
            paths(
                repo,
                src.paths.clone(),
                &name,
                &Options {
                    tags,
                    force: options.force,
                    time: options.time.clone(),
                },
                &*progress,
                recording,
                events,
            )
        };
        events.backed_up(&name, &result);
        runs.push(SourceRun {
            source: name,
            pre_backup,
            backup: Some(result),
        });
    }
    runs
}

/// Back up `paths` as `source` into `repo` and record it where
/// `recording` says (a failure to record goes to `events`).
pub fn paths(
    repo: &Repository,
    paths: Vec<PathBuf>,
    source: &str,
    options: &Options,
    progress: &dyn BackupProgress,
    recording: Option<Recording<'_>>,
    events: &dyn SourceEvents,
) -> Result<BackupResult, JobError> {
    let opts = BackupOptions {
        source: source.to_owned(),
        tags: options.tags.clone(),
        paths,
        parent: if options.force {
            ParentChoice::None
        } else {
            ParentChoice::Auto
        },
        time: options.time.clone(),
    };
    let started = OffsetDateTime::now_utc();
    let r = repo.backup(&opts, progress).map_err(JobError::Repo)?;
    if let Some(rec) = recording {
        let outcome = if r.snapshot.partial { "partial" } else { "ok" };
        let detail =
            json!({"snapshot": r.id, "summary": r.snapshot.summary, "partial": r.snapshot.partial});
        if let Err(e) = record(
            repo,
            rec,
            "backup",
            &r.snapshot.source,
            started,
            outcome,
            detail,
        ) {
            events.not_recorded(rec.catalog, &e);
        }
    }
    Ok(r)
}

/// Mirror `repo`'s snapshots into the catalog and record a finished job
/// (`job` on `target`, from `started` until now, with `outcome` and
/// `detail`).
pub fn record(
    repo: &Repository,
    recording: Recording<'_>,
    job: &str,
    target: &str,
    started: OffsetDateTime,
    outcome: &str,
    detail: Value,
) -> Result<(), JobError> {
    let now = OffsetDateTime::now_utc();
    let mut cat = Catalog::open(recording.catalog).map_err(JobError::Catalog)?;
    let options = crate::catalog::SyncOptions {
        repository: recording.repository,
        sources: recording.sources,
    };
    crate::catalog::sync(repo, &mut cat, options, now)?;
    cat.record(
        now,
        job,
        Event::JobFinished {
            job: job.to_owned(),
            target: target.to_owned(),
            started_at: started,
            finished_at: now,
            outcome: outcome.to_owned(),
            detail,
        },
    )
    .map_err(JobError::Catalog)?;
    Ok(())
}
