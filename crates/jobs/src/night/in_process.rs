//! A [`StepRunner`] that runs every step in this process, through the
//! same library calls the `hokan` commands make: a daemon, the dashboard
//! or a drill runs a night without spawning the command line.
//!
//! The binary's `hokan run` prefers child processes (a step that panics or
//! hangs in a device driver cannot take the night down); this runner trades
//! that isolation for needing no `hokan` binary at all. Both record the
//! same night ([`super::run`]).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hokan_offline::Policy;
use hokan_repo::store::Store;
use hokan_repo::{BackupProgress, BackupResult, Repository};
use hokan_site::{Site, Target, TargetKind};
use serde_json::{json, Value};
use time::{OffsetDateTime, UtcOffset};

use super::{Skip, Step, StepKind, StepOutcome, StepReport, StepRunner};
use crate::copy::CopyProgress;
use crate::hooks::HookOutcome;
use crate::JobError;

/// What every step of an in-process night needs.
pub struct InProcess<'a> {
    /// The site.
    pub site: &'a Site,
    /// The catalog database.
    pub catalog: &'a Path,
    /// The primary repository, opened (the caller holds the key).
    pub repo: &'a Repository,
    /// Opens a bucket's repository (its key is the primary's, found by
    /// the caller): for `extend-locks`, which reads what the bucket's
    /// snapshots need.
    pub open_bucket: &'a dyn Fn(Arc<dyn Store>) -> Result<Repository, JobError>,
    /// The offline policy the verdict is judged under.
    pub policy: &'a Policy,
    /// The night's instant (every step's events are recorded from it).
    pub now: OffsetDateTime,
    /// The site's time zone.
    pub offset: UtcOffset,
}

/// The actor of the events an in-process night's steps record.
pub const ACTOR: &str = "hokan night (in process)";

impl InProcess<'_> {
    fn target(&self, step: &Step) -> Result<&Target, JobError> {
        let name = step.target.as_deref().unwrap_or_default();
        self.site
            .target(name)
            .ok_or_else(|| JobError::NoSuchTarget(name.to_owned()))
    }

    fn sources(&self) -> Vec<String> {
        self.site.source_names().map(str::to_owned).collect()
    }

    fn step(&self, step: &Step) -> Result<(StepOutcome, Value), JobError> {
        let sources = self.sources();
        let label = self.site.repository_location().label();
        let sync = crate::catalog::SyncOptions {
            repository: Some(&label),
            sources: &sources,
        };
        let specs: &[String] = &[];
        match step.kind {
            StepKind::Backup => {
                let all: Vec<&hokan_site::Source> = self.site.sources().iter().collect();
                let recording = crate::backup::Recording {
                    catalog: self.catalog,
                    repository: Some(&label),
                    sources: &sources,
                };
                let options = crate::backup::Options {
                    time: Some(
                        self.now
                            .to_offset(UtcOffset::UTC)
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default(),
                    ),
                    ..Default::default()
                };
                let runs =
                    crate::backup::sources(self.repo, &all, &options, Some(recording), &Quiet);
                let mut outcome = StepOutcome::Ok;
                let mut docs = Vec::new();
                for r in &runs {
                    let (o, doc) = match &r.backup {
                        None => (StepOutcome::Failed, Value::Null),
                        Some(Err(e)) => (StepOutcome::Failed, json!({"error": e.to_string()})),
                        Some(Ok(b)) if b.snapshot.partial => (
                            StepOutcome::Partial,
                            json!({"snapshot": b.id, "partial": true}),
                        ),
                        Some(Ok(b)) => (StepOutcome::Ok, json!({"snapshot": b.id})),
                    };
                    outcome = worse(outcome, o);
                    docs.push(
                        json!({"source": r.source, "pre_backup": r.pre_backup, "backup": doc}),
                    );
                }
                if runs.iter().all(|r| !matches!(r.backup, Some(Ok(_)))) && !runs.is_empty() {
                    outcome = StepOutcome::Failed;
                }
                Ok((outcome, json!({ "sources": docs })))
            }
            StepKind::TapeBackup => {
                let t = self.target(step)?;
                let TargetKind::TapePool(conf) = &t.kind else {
                    return Err(JobError::NoSuchTarget(t.name.to_string()));
                };
                let job = crate::tape::PoolJob {
                    pool: crate::tape::PoolRef {
                        name: t.name.as_str(),
                        allocation: conf.allocation,
                        retention: t.retention,
                        mode: conf.mode,
                        after_job: conf.after_job,
                    },
                    conf,
                    catalog: self.catalog,
                    sync,
                    specs,
                    verify: false,
                    wait: Duration::ZERO,
                    site: self.site.name(),
                    offset: self.offset,
                    started: Instant::now(),
                    actor: ACTOR,
                    now: self.now,
                };
                let run = crate::tape::run_pool(self.repo, &job, &Quiet)?;
                Ok((
                    StepOutcome::Ok,
                    serde_json::to_value(&run).unwrap_or(Value::Null),
                ))
            }
            StepKind::DiskBackup => {
                let t = self.target(step)?;
                let TargetKind::DiskPool(conf) = &t.kind else {
                    return Err(JobError::NoSuchTarget(t.name.to_string()));
                };
                let job = crate::disk::PoolJob {
                    pool: crate::disk::PoolRef {
                        name: &t.name,
                        conf,
                    },
                    catalog: self.catalog,
                    sync,
                    specs,
                    verify: false,
                    site: self.site.name(),
                    offset: self.offset,
                    actor: ACTOR,
                    now: self.now,
                };
                let run = crate::disk::run_pool(self.repo, &job, &Quiet)?;
                Ok((
                    StepOutcome::Ok,
                    serde_json::to_value(&run).unwrap_or(Value::Null),
                ))
            }
            StepKind::S3Copy | StepKind::S3ExtendLocks => {
                let t = self.target(step)?;
                let TargetKind::S3(conf) = &t.kind else {
                    return Err(JobError::NoSuchTarget(t.name.to_string()));
                };
                let target = crate::s3::Target {
                    name: &t.name,
                    conf,
                    retention: t.retention,
                    network: crate::s3::network(&conf.connection),
                };
                let report = if step.kind == StepKind::S3Copy {
                    let job = crate::s3::CopyRun {
                        target,
                        catalog: self.catalog,
                        specs,
                        sync,
                        site: self.site.name(),
                        actor: ACTOR,
                        now: self.now,
                    };
                    serde_json::to_value(crate::s3::run_copy(self.repo, &job, &Quiet)?)
                } else {
                    let open = |s: Arc<dyn Store>| (self.open_bucket)(s);
                    serde_json::to_value(crate::s3::run_extend_locks(
                        &target,
                        self.catalog,
                        self.now,
                        ACTOR,
                        open,
                    )?)
                };
                Ok((StepOutcome::Ok, report.unwrap_or(Value::Null)))
            }
            StepKind::Drill => Err(JobError::NotInProcess(step.command().join(" "))),
            _ => Err(JobError::NoSuchTarget(
                step.target.clone().unwrap_or_default(),
            )),
        }
    }
}

/// The worse of two outcomes.
fn worse(a: StepOutcome, b: StepOutcome) -> StepOutcome {
    use StepOutcome::*;
    match (a, b) {
        (Failed, _) | (_, Failed) => Failed,
        (Partial, _) | (_, Partial) => Partial,
        _ => Ok,
    }
}

/// An error and its causes, one line each (for the record's tail).
fn lines(e: &JobError) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

impl StepRunner for InProcess<'_> {
    fn command(&self, step: &Step) -> Vec<String> {
        step.command()
    }

    fn run(&self, step: &Step) -> StepReport {
        let clock = Instant::now();
        let (outcome, report, said) = match self.step(step) {
            Ok((o, r)) => (o, r, Vec::new()),
            Err(e) => (StepOutcome::Failed, Value::Null, lines(&e)),
        };
        StepReport {
            outcome,
            exit_code: match outcome {
                StepOutcome::Ok => 0,
                StepOutcome::Partial => 3,
                StepOutcome::Failed => 1,
            },
            seconds: clock.elapsed().as_secs_f64(),
            report,
            said,
        }
    }

    fn verdict(&self) -> StepReport {
        let clock = Instant::now();
        let sources = self.sources();
        let what = crate::site::Judge {
            catalog: self.catalog,
            policy: self.policy,
            sources: &sources,
            now: self.now.to_offset(self.offset),
            site: Some((self.site, self.site.name())),
            extra: Vec::new(),
        };
        match crate::site::judge(what, &crate::s3::anchor::name) {
            Ok(j) => {
                let trusted = !j.evaluation.is_untrusted();
                let compliant = j.evaluation.compliant;
                StepReport {
                    outcome: StepOutcome::Ok,
                    exit_code: match (trusted, compliant) {
                        (false, _) => 12,
                        (true, true) => 0,
                        (true, false) => 9,
                    },
                    seconds: clock.elapsed().as_secs_f64(),
                    report: json!({
                        "compliant": compliant,
                        "trusted": trusted,
                        "evaluation": j.evaluation,
                        "anchor_notes": [],
                    }),
                    said: Vec::new(),
                }
            }
            Err(e) => StepReport {
                outcome: StepOutcome::Failed,
                exit_code: 1,
                seconds: clock.elapsed().as_secs_f64(),
                report: Value::Null,
                said: lines(&e),
            },
        }
    }

    fn why_not(&self, skip: &Skip) -> String {
        skip.to_string()
    }
}

/// Progress nobody watches (the night's record says what happened).
struct Quiet;

impl BackupProgress for Quiet {}

impl CopyProgress for Quiet {
    fn copied(
        &self,
        _: &hokan_repo::copy::CopyObject,
        _: crate::copy::Outcome,
    ) -> Result<(), JobError> {
        Ok(())
    }
}

impl crate::disk::PoolProgress for Quiet {
    fn total(&self, _: u64) {}
}

impl crate::s3::S3Progress for Quiet {
    fn total(&self, _: u64) {}
}

impl crate::tape::backup::TapeProgress for Quiet {
    fn total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn cartridge(&self, _: &str) {}
    fn verifying(&self) {}
    fn note(&self, _: crate::tape::backup::Note<'_>) {}
    fn waiting(&self, _: &JobError, _: Duration) {}
}

impl crate::backup::SourceEvents for Quiet {
    fn pre_backup(&self, _: &str, _: &hokan_site::Command) {}
    fn pre_backup_failed(&self, _: &str, _: &HookOutcome, _: Duration, _: bool) {}
    fn progress(&self, _: &str) -> Box<dyn BackupProgress + '_> {
        Box::new(Quiet)
    }
    fn backed_up(&self, _: &str, _: &Result<BackupResult, JobError>) {}
    fn not_recorded(&self, _: &Path, _: &JobError) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::night::{plan, History, Outcome};
    use crate::Clock;
    use hokan_catalog::Catalog;
    use hokan_disk::virt::{Shape, Sim};
    use hokan_offline::{MediumId, MediumKind, PoolName};
    use hokan_repo::{InitOptions, KdfStrength};
    use hokan_site::{AfterJob, Allocation, TapeMode};
    use hokan_store::LocalStore;
    use hokan_tape::virt::{LibraryShape, VirtualLibrary};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-27 22:00 UTC); // a Friday

    /// A site with a SIMULATED tape library (cartridge T1 labelled) and a
    /// SIMULATED RDX drive (RDX-1 formatted), its repository and catalog.
    fn site(dir: &Path) -> (Site, Repository) {
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/emr.dump"), b"patients\n".repeat(1000)).unwrap();
        std::fs::write(
            dir.join("hokan.toml"),
            format!(
                r#"
[site]
name = "test hospital"
catalog = "catalog.db"

[repository]
path = "repo"

[[source]]
name = "emr"
paths = ["{d}/data"]

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "28d"
virtual_library = "vtl"

[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "14d"
mount_point = "{d}/mnt"
after_job = "eject"
virtual_device = "sim"
"#,
                d = dir.display()
            ),
        )
        .unwrap();
        let site = hokan_site::load(&dir.join("hokan.toml")).unwrap();
        let repo = Repository::init(
            Arc::new(LocalStore::new(dir.join("repo"))),
            crate::test_repo::PW,
            &InitOptions {
                kdf: KdfStrength::TestOnly,
                pack_size: 64 * 1024,
                ..Default::default()
            },
        )
        .unwrap();
        let lib = VirtualLibrary::create(&dir.join("vtl"), "vtl", LibraryShape::library(1, 4, 1))
            .unwrap();
        lib.insert("T1", 64 << 20, false).unwrap();
        let mut cat = Catalog::open(&dir.join("catalog.db")).unwrap();
        let clock = Clock::new(NOW - time::Duration::hours(4));
        let TargetKind::TapePool(tape) = &site.target("weekday").unwrap().kind else {
            unreachable!()
        };
        let mut dev = crate::tape::devices::open("weekday", tape).unwrap();
        let pool = crate::tape::PoolRef {
            name: "weekday",
            allocation: Allocation::Weekday,
            retention: time::Duration::days(28),
            mode: TapeMode::Library,
            after_job: AfterJob::Unload,
        };
        crate::tape::manage::label(&mut dev, &mut cat, &clock, "t", pool, "T1").unwrap();
        let sim = Sim::create(&dir.join("sim"), "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-1", None).unwrap();
        let TargetKind::DiskPool(disk) = &site.target("rdx").unwrap().kind else {
            unreachable!()
        };
        let name = PoolName::new("rdx");
        let pool = crate::disk::PoolRef {
            name: &name,
            conf: disk,
        };
        let mut dev = crate::disk::device::open(pool, &cat).unwrap();
        let req = crate::disk::format::FormatRequest {
            medium: "RDX-1",
            force: false,
            relabel: None,
            kind: MediumKind::RdxSingleDrive,
            retention: time::Duration::days(14),
            now: NOW - time::Duration::hours(4),
            actor: "t",
        };
        crate::disk::format::format(dev.as_mut(), &mut cat, &clock, pool, &req).unwrap();
        (site, repo)
    }

    /// Friday's night of `site`, run in this process (no bucket is used).
    fn friday(site: &Site, repo: &Repository, catalog: &Path) -> crate::night::NightRecord {
        let open = |_: Arc<dyn Store>| -> Result<Repository, JobError> { unreachable!() };
        let policy = site.policy().unwrap();
        let runner = InProcess {
            site,
            catalog,
            repo,
            open_bucket: &open,
            policy: &policy,
            now: NOW,
            offset: UtcOffset::UTC,
        };
        let steps = plan(site, &History::default(), NOW);
        crate::night::run(catalog, site, &steps, NOW, &runner).unwrap()
    }

    #[test]
    fn a_night_runs_in_process_without_the_binary_and_records_every_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (site, repo) = site(dir);
        let catalog = dir.join("catalog.db");
        let night = friday(&site, &repo, &catalog);
        assert_eq!(night.outcome, Outcome::Ok, "{:#}", night.detail);
        assert_eq!(night.ran, 3);
        let cat = Catalog::open_existing(&catalog).unwrap();
        // The snapshot is on the cartridge and on the disk, as the catalog
        // records it; the night is one job, the backup and copies each too.
        let copies = cat.copies().unwrap();
        for m in ["T1", "RDX-1"] {
            assert!(
                copies
                    .iter()
                    .any(|c| c.medium == MediumId::new(m) && c.complete),
                "no complete copy on {m}: {copies:?}"
            );
        }
        let jobs = cat.jobs(20).unwrap();
        assert!(jobs.iter().any(|j| j.job == "night" && j.outcome == "ok"));
        assert!(jobs.iter().any(|j| j.job == "backup" && j.outcome == "ok"));
        // The verdict judged the catalog after the night (trusted).
        assert_eq!(
            night.verdict.report["trusted"], true,
            "{:#}",
            night.verdict.report
        );
        assert!(cat.verify(None).unwrap().problems.is_empty());
    }

    #[test]
    fn a_step_that_fails_in_process_is_recorded_with_its_causes_and_the_others_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (site, repo) = site(dir);
        // The library is gone: the tape step fails, the disk copy is done.
        std::fs::remove_dir_all(dir.join("vtl")).unwrap();
        let catalog = dir.join("catalog.db");
        let night = friday(&site, &repo, &catalog);
        assert_eq!(night.outcome, Outcome::Partial, "{:#}", night.detail);
        assert_eq!(night.failed_steps.len(), 1);
        assert_eq!(night.failed_steps[0].what, "tape backup --pool weekday");
        assert!(night.failed_steps[0].said.is_some());
        let cat = Catalog::open_existing(&catalog).unwrap();
        assert!(cat
            .copies()
            .unwrap()
            .iter()
            .any(|c| c.medium == MediumId::new("RDX-1") && c.complete));
    }
}
