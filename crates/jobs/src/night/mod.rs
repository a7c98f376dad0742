//! The night's plan: which steps run tonight and which are not due.
//!
//! A night backs up the sources, then gives every offline target **due by
//! its `schedule`** its copy (tape pools, disk pools, S3 buckets, whose
//! locks are then extended). What is due rests on the copies the catalog
//! records on each target's media ([`History::from_catalog`]), never on
//! what an earlier night's record says it did: a forged or mistaken night
//! record cannot make a night skip a copy.
//!
//! [`plan`] is pure: the same site, history and instant give the same
//! steps, so `run --dry-run`, `status`, the daemon and the dashboard show
//! what the night will do.
//!
//! [`run`] runs a plan: every due step through a [`StepRunner`] (the
//! binary's runs each as a child process, so a step that panics or hangs
//! cannot take the night down; a dashboard may run them in-process), a
//! failed step never stopping the others, then the verdict, then one
//! `job-finished {job: "night"}` record in the catalog (docs/night.md). The
//! notices it is worth are [`NightRecord::failed_steps`] and
//! [`NightRecord::problems`] handed to [`crate::notices::after_night`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use hokan_catalog::{Catalog, Event};
use hokan_offline::{MediumId, Problem};
use hokan_site::calendar::due;
use hokan_site::{Site, TargetKind};
use serde::Serialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, Time};

use crate::notices::FailedStep;

mod in_process;
use crate::JobError;
pub use in_process::InProcess;

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepKind {
    /// Back up every source (after its pre-backup command).
    Backup,
    /// A tape pool's media-set job.
    TapeBackup,
    /// A disk pool's copy to tonight's cartridge.
    DiskBackup,
    /// The copy into an S3 bucket.
    S3Copy,
    /// The bucket's object locks extended.
    S3ExtendLocks,
    /// A vault: it pulls by itself, so the primary has nothing to do
    /// ([`Skip::PulledByVault`]).
    Vault,
    /// A restore drill from a target's media (`drill_schedule`), after the
    /// copies: `hokan drill --medium TARGET`.
    Drill,
}

/// Why a step does not run tonight.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skip {
    /// Its target's schedule does not make it due.
    NotDue {
        /// The schedule, as written in hokan.toml.
        schedule: String,
        /// When it is next due, if ever.
        next: Option<OffsetDateTime>,
    },
    /// The vault pulls by itself (the primary cannot reach it): nothing to
    /// do on the primary. Not a failure; its receipts say how it went.
    PulledByVault,
}

/// One step of the night.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// The target it copies to (none for the backup).
    pub target: Option<String>,
    /// Why it does not run tonight; `None` when it is due.
    pub skip: Option<Skip>,
}

impl Step {
    /// Whether it runs tonight.
    pub fn due(&self) -> bool {
        self.skip.is_none()
    }

    /// The `hokan` command line (after `hokan`) that runs it by hand.
    pub fn command(&self) -> Vec<String> {
        let target = self.target.clone().unwrap_or_default();
        match self.kind {
            StepKind::Backup => vec!["backup".into()],
            StepKind::TapeBackup => vec!["tape".into(), "backup".into(), "--pool".into(), target],
            StepKind::DiskBackup => vec!["disk".into(), "backup".into(), "--pool".into(), target],
            StepKind::S3Copy => vec!["copy".into(), "--to".into(), format!("s3:{target}")],
            StepKind::S3ExtendLocks => vec!["s3".into(), "extend-locks".into(), target],
            StepKind::Vault => vec!["vault".into(), target],
            StepKind::Drill => vec!["drill".into(), "--medium".into(), target],
        }
    }
}

/// Short English for logs and records; people read the binary's words.
impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::NotDue { schedule, next } => {
                let next = next
                    .map(|t| t.format(&Rfc3339).unwrap_or_default())
                    .unwrap_or_default();
                write!(f, "not due tonight (schedule {schedule}; next {next})")
            }
            Skip::PulledByVault => {
                write!(
                    f,
                    "pulled by the vault itself; nothing to do on the primary"
                )
            }
        }
    }
}

/// What the plan needs from the catalog: each target's newest complete
/// copy and when nights ran.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Target name → when its newest complete copy was made (from the
    /// copies the catalog records on the target's media).
    pub newest_copy: BTreeMap<String, OffsetDateTime>,
    /// When the first recorded night started.
    pub first_night: Option<OffsetDateTime>,
    /// When the last recorded night started.
    pub last_night: Option<OffsetDateTime>,
    /// Target name → when the last drill from its media started (passed
    /// or failed: a failed drill is an error in `status` until one passes,
    /// and is not retried every night).
    pub last_drill: BTreeMap<String, OffsetDateTime>,
}

/// How many recent jobs [`History::from_catalog`] reads for the nights'
/// times.
const JOBS_READ: usize = 500;

/// How many recent drills [`History::from_catalog`] reads.
const DRILLS_READ: usize = 500;

impl History {
    /// The catalog's complete copies per target and the nights' times. A
    /// target's media: a pool's cartridges (by their pool), a bucket's
    /// medium (its name).
    pub fn from_catalog(cat: &Catalog) -> Result<History, JobError> {
        let mut h = History::default();
        let media = cat.media().map_err(JobError::Catalog)?;
        let target_of = |medium: &MediumId| -> Option<String> {
            let row = media.iter().find(|m| &m.id == medium)?;
            Some(match &row.pool {
                Some(p) => p.as_str().to_owned(),
                None => row.id.as_str().to_owned(),
            })
        };
        for c in cat.copies().map_err(JobError::Catalog)? {
            if !c.complete {
                continue;
            }
            if let Some(t) = target_of(&c.medium) {
                let e = h.newest_copy.entry(t).or_insert(c.since);
                *e = (*e).max(c.since);
            }
        }
        for d in cat.drills(DRILLS_READ).map_err(JobError::Catalog)? {
            if let Some(t) = target_of(&d.medium) {
                let e = h.last_drill.entry(t).or_insert(d.started_at);
                *e = (*e).max(d.started_at);
            }
        }
        for j in cat.jobs(JOBS_READ).map_err(JobError::Catalog)? {
            if j.job == "night" {
                h.first_night = Some(h.first_night.map_or(j.started_at, |f| f.min(j.started_at)));
                h.last_night = Some(h.last_night.map_or(j.started_at, |f| f.max(j.started_at)));
            }
        }
        Ok(h)
    }

    /// When `target` last got its copy. A target never copied to since
    /// nights began counts from the first recorded night, so a weekly copy
    /// that failed is caught up the next night rather than a week later.
    pub fn last_done(&self, target: &str) -> Option<OffsetDateTime> {
        self.newest_copy.get(target).copied().or(self.first_night)
    }
}

/// The night's steps at `now`: the backup, then each target's copy (and an
/// S3 bucket's locks), each due or not by its schedule, then the restore
/// drills of targets with a `drill_schedule`, due when an occurrence has
/// passed since their last drill (or, never drilled, since the first
/// night).
pub fn plan(site: &Site, history: &History, now: OffsetDateTime) -> Vec<Step> {
    let mut steps = vec![Step {
        kind: StepKind::Backup,
        target: None,
        skip: None,
    }];
    for target in site.targets() {
        let name = target.name.as_str().to_owned();
        let skip = if due(target.schedule.as_ref(), history.last_done(&name), now) {
            None
        } else {
            Some(Skip::NotDue {
                schedule: target
                    .schedule
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                next: target.schedule.as_ref().and_then(|c| c.next_after(now)),
            })
        };
        let mut push = |kind| {
            steps.push(Step {
                kind,
                target: Some(name.clone()),
                skip: skip.clone(),
            })
        };
        match &target.kind {
            TargetKind::TapePool(_) => push(StepKind::TapeBackup),
            TargetKind::DiskPool(_) => push(StepKind::DiskBackup),
            TargetKind::S3(_) => {
                push(StepKind::S3Copy);
                push(StepKind::S3ExtendLocks);
            }
            TargetKind::Vault(_) => steps.push(Step {
                kind: StepKind::Vault,
                target: Some(name.clone()),
                skip: Some(Skip::PulledByVault),
            }),
        }
    }
    for target in site.targets() {
        let Some(schedule) = &target.drill_schedule else {
            continue;
        };
        let name = target.name.as_str();
        let last = history
            .last_drill
            .get(name)
            .copied()
            .or(history.first_night);
        let skip = (!due(Some(schedule), last, now)).then(|| Skip::NotDue {
            schedule: schedule.to_string(),
            next: schedule.next_after(now),
        });
        steps.push(Step {
            kind: StepKind::Drill,
            target: Some(name.to_owned()),
            skip,
        });
    }
    steps
}

/// The coming night's instant, for plans shown before it runs (`status`,
/// the dashboard): the next time of `[site] schedule` after the last night
/// started (`now`, when that time has passed and the night has not run);
/// without a site schedule, the end of today. `now` is in the site's zone.
pub fn coming_night(site: &Site, history: &History, now: OffsetDateTime) -> OffsetDateTime {
    match site.schedule() {
        Some(c) => c
            .next_after(history.last_night.unwrap_or(now).to_offset(now.offset()))
            .map_or(now, |t| t.max(now)),
        None => now.replace_time(Time::from_hms(23, 59, 59).expect("a time")),
    }
}

/// The night after the one ending at `now` (in the site's zone): the next
/// time of `[site] schedule`, else a day later.
pub fn next_night(site: &Site, now: OffsetDateTime) -> OffsetDateTime {
    site.schedule()
        .and_then(|c| c.next_after(now))
        .unwrap_or(now + Duration::days(1))
}

/// Whether a target's copy is due at `at` when it was last done at
/// `since` (the notices' look at the next night).
pub fn due_at(target: &hokan_site::Target, since: OffsetDateTime, at: OffsetDateTime) -> bool {
    due(target.schedule.as_ref(), Some(since), at)
}

/// A night's outcome from its steps' outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every step that ran succeeded (or none ran).
    Ok,
    /// Some steps failed, others succeeded.
    Partial,
    /// Every step that ran failed.
    Failed,
}

impl Outcome {
    /// The word the catalog records (`ok`, `partial`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
        }
    }

    /// The night's outcome when `failed` of `ran` steps failed.
    pub fn of(ran: usize, failed: usize) -> Outcome {
        match failed {
            0 => Outcome::Ok,
            n if n == ran => Outcome::Failed,
            _ => Outcome::Partial,
        }
    }
}

/// How a step that ran ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    /// It did all it had to.
    Ok,
    /// It did part (a partial backup, some copies).
    Partial,
    /// It failed.
    Failed,
}

/// What a [`StepRunner`] reports of one step (or of the verdict).
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// How it ended.
    pub outcome: StepOutcome,
    /// Its exit status, as `hokan` would exit (0 ok, 3 partial, 9 not
    /// compliant, 12 untrusted…; -1 when it could not run at all).
    pub exit_code: i32,
    /// How long it took.
    pub seconds: f64,
    /// Its report, as the command's `--json` prints it (`null` when none).
    pub report: Value,
    /// The last lines it said on standard error (at most 20).
    pub said: Vec<String>,
}

/// Runs the night's steps for [`run`].
pub trait StepRunner {
    /// The step as the hokan command line (after `hokan`) that runs it,
    /// for the record.
    fn command(&self, step: &Step) -> Vec<String>;
    /// Run one due step.
    fn run(&self, step: &Step) -> StepReport;
    /// Judge the site after the steps (`hokan status --json`'s report).
    fn verdict(&self) -> StepReport;
    /// Why a skipped step is skipped, for the record.
    fn why_not(&self, skip: &Skip) -> String;
}

/// A night as it was recorded.
#[derive(Clone, Debug)]
pub struct NightRecord {
    /// How it went.
    pub outcome: Outcome,
    /// Steps that ran.
    pub ran: usize,
    /// Steps that ran and did not end ok.
    pub failed: usize,
    /// The failed steps, for the notices.
    pub failed_steps: Vec<FailedStep>,
    /// The verdict after the night.
    pub verdict: StepReport,
    /// The verdict's problems, when its report has them.
    pub problems: Option<Vec<Problem>>,
    /// When it ended (started + measured time, verdict included).
    pub finished_at: OffsetDateTime,
    /// The record's `detail` (docs/night.md).
    pub detail: Value,
}

/// The actor of the night's record.
pub const ACTOR: &str = "run";

/// Run `steps` as the night that started at `started_at` (in the site's
/// offset): each due step through `runner` (one failing does not stop the
/// others), the verdict, and the night's record in the catalog at
/// `catalog`. An error only when the record cannot be written; the steps'
/// failures are in the [`NightRecord`].
pub fn run(
    catalog: &Path,
    site: &Site,
    steps: &[Step],
    started_at: OffsetDateTime,
    runner: &dyn StepRunner,
) -> Result<NightRecord, JobError> {
    let whole_night = Instant::now();
    let mut results = Vec::new();
    let mut failed_steps = Vec::new();
    let mut ran = 0;
    for step in steps {
        let args = runner.command(step);
        if let Some(skip) = &step.skip {
            results.push(json!({
                "args": args, "target": step.target, "outcome": "skipped",
                "why": runner.why_not(skip),
            }));
            continue;
        }
        ran += 1;
        let r = runner.run(step);
        if r.outcome != StepOutcome::Ok {
            failed_steps.push(FailedStep {
                what: args.join(" "),
                exit_code: r.exit_code,
                said: r.said.last().cloned(),
            });
        }
        results.push(json!({
            "args": args, "target": step.target, "outcome": r.outcome,
            "exit_code": r.exit_code, "seconds": r.seconds, "report": r.report,
            "stderr_tail": r.said,
        }));
    }
    let verdict = runner.verdict();
    let v = &verdict.report;
    let failed = failed_steps.len();
    let outcome = Outcome::of(ran, failed);
    // Measured, not summed from the steps: the verdict's time counts too.
    let finished_at = started_at + whole_night.elapsed();
    let detail = json!({
        "started_at": started_at.format(&Rfc3339).unwrap_or_default(),
        "steps": results,
        "status_exit_code": verdict.exit_code,
        "status_stderr_tail": verdict.said,
        "compliant": v["compliant"],
        "trusted": v["trusted"],
        "anchor_notes": v["anchor_notes"],
        // Why the site could not be judged, when it could not.
        "untrusted_because": if v["trusted"] == false {
            v["evaluation"]["problems"].clone()
        } else {
            Value::Null
        },
    });
    let mut cat = Catalog::open(catalog).map_err(JobError::Catalog)?;
    cat.record(
        finished_at,
        ACTOR,
        Event::JobFinished {
            job: "night".into(),
            target: if site.name().is_empty() {
                "site".into()
            } else {
                site.name().to_owned()
            },
            started_at,
            finished_at,
            outcome: outcome.as_str().into(),
            detail: detail.clone(),
        },
    )
    .map_err(JobError::Catalog)?;
    let problems = serde_json::from_value(v["evaluation"]["problems"].clone()).ok();
    Ok(NightRecord {
        outcome,
        ran,
        failed,
        failed_steps,
        verdict,
        problems,
        finished_at,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn site(toml_targets: &str) -> Site {
        site_with("", toml_targets)
    }

    fn site_with(site_extra: &str, toml_targets: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hokan.toml");
        std::fs::write(
            &path,
            format!(
                r#"
[site]
name = "test"
catalog = "catalog.db"
{site_extra}

[repository]
path = "repo"

[[source]]
name = "emr"
paths = ["/srv/emr"]

{toml_targets}
"#
            ),
        )
        .unwrap();
        hokan_site::load(&path).unwrap()
    }

    const TARGETS: &str = r#"
[[tape_pool]]
name = "weekly"
schedule = "Fri 22:00"
retention = "28d"
mode = "single-drive"
device = "/dev/nst0"

[[s3]]
name = "bucket"
endpoint = "http://127.0.0.1:9"
bucket = "b"
region = "us-east-1"
retention = "30d"
"#;

    #[test]
    fn a_weekly_pool_is_due_on_its_day_and_a_nightly_bucket_every_night() {
        let site = site(TARGETS);
        let h = History {
            newest_copy: [
                ("weekly".to_owned(), datetime!(2026-11-20 22:30 UTC)),
                ("bucket".to_owned(), datetime!(2026-11-25 22:30 UTC)),
            ]
            .into(),
            first_night: Some(datetime!(2026-11-01 22:00 UTC)),
            last_night: Some(datetime!(2026-11-25 22:00 UTC)),
            ..History::default()
        };
        // Thursday: the bucket, not the tape.
        let thu = plan(&site, &h, datetime!(2026-11-26 22:00 UTC));
        let kinds: Vec<(StepKind, bool)> = thu.iter().map(|s| (s.kind, s.due())).collect();
        assert_eq!(
            kinds,
            [
                (StepKind::Backup, true),
                (StepKind::TapeBackup, false),
                (StepKind::S3Copy, true),
                (StepKind::S3ExtendLocks, true),
            ]
        );
        match &thu[1].skip {
            Some(Skip::NotDue { schedule, next }) => {
                assert_eq!(schedule, "Fri 22:00");
                assert_eq!(*next, Some(datetime!(2026-11-27 22:00 UTC)));
            }
            other => panic!("{other:?}"),
        }
        // Friday: the tape too.
        let fri = plan(&site, &h, datetime!(2026-11-27 22:00 UTC));
        assert!(fri.iter().all(Step::due));
    }

    #[test]
    fn a_failed_weekly_copy_is_caught_up_the_next_night() {
        let site = site(TARGETS);
        // The last tape copy is from two Fridays ago: last Friday failed.
        let h = History {
            newest_copy: [("weekly".to_owned(), datetime!(2026-11-20 22:30 UTC))].into(),
            first_night: Some(datetime!(2026-11-01 22:00 UTC)),
            last_night: Some(datetime!(2026-11-27 22:00 UTC)),
            ..History::default()
        };
        let sat = plan(&site, &h, datetime!(2026-11-28 22:00 UTC));
        assert!(sat[1].due(), "{sat:?}");
    }

    #[test]
    fn a_target_never_copied_counts_from_the_first_night() {
        let site = site(TARGETS);
        let h = History {
            first_night: Some(datetime!(2026-11-24 22:00 UTC)),
            ..History::default()
        };
        // Wednesday after a first night on Tuesday: the Friday pool is not due.
        let wed = plan(&site, &h, datetime!(2026-11-25 22:00 UTC));
        assert!(!wed[1].due());
        let none = plan(&site, &History::default(), datetime!(2026-11-25 22:00 UTC));
        assert!(!none[1].due(), "no history: due only on its day");
    }

    #[test]
    fn outcomes_roll_up() {
        assert_eq!(Outcome::of(0, 0), Outcome::Ok);
        assert_eq!(Outcome::of(3, 0), Outcome::Ok);
        assert_eq!(Outcome::of(3, 1), Outcome::Partial);
        assert_eq!(Outcome::of(3, 3), Outcome::Failed);
    }

    #[test]
    fn the_coming_night_is_the_next_scheduled_time_after_the_last_night() {
        let mut s = site(TARGETS);
        // No site schedule: the end of today.
        let now = datetime!(2026-11-26 09:00 UTC);
        assert_eq!(
            coming_night(&s, &History::default(), now),
            datetime!(2026-11-26 23:59:59 UTC)
        );
        s = site_with("schedule = \"*-*-* 22:00\"", TARGETS);
        let h = History {
            last_night: Some(datetime!(2026-11-25 22:00 UTC)),
            ..History::default()
        };
        assert_eq!(coming_night(&s, &h, now), datetime!(2026-11-26 22:00 UTC));
        // Last night did not run (the server was off): the night is now.
        let h = History {
            last_night: Some(datetime!(2026-11-24 22:00 UTC)),
            ..History::default()
        };
        assert_eq!(coming_night(&s, &h, now), now);
        assert_eq!(next_night(&s, now), datetime!(2026-11-26 22:00 UTC));
    }

    struct Scripted {
        fail: StepKind,
    }

    impl StepRunner for Scripted {
        fn command(&self, step: &Step) -> Vec<String> {
            vec![format!("{:?}", step.kind)]
        }
        fn run(&self, step: &Step) -> StepReport {
            let bad = step.kind == self.fail;
            StepReport {
                outcome: if bad {
                    StepOutcome::Failed
                } else {
                    StepOutcome::Ok
                },
                exit_code: if bad { 13 } else { 0 },
                seconds: 0.1,
                report: Value::Null,
                said: if bad {
                    vec!["first".into(), "the drive is offline".into()]
                } else {
                    vec![]
                },
            }
        }
        fn verdict(&self) -> StepReport {
            StepReport {
                outcome: StepOutcome::Ok,
                exit_code: 0,
                seconds: 0.1,
                report: json!({"compliant": true, "trusted": true, "evaluation": {"problems": []}}),
                said: vec![],
            }
        }
        fn why_not(&self, _skip: &Skip) -> String {
            "not due".into()
        }
    }

    #[test]
    fn a_failed_step_leaves_the_others_run_and_the_night_partial_in_the_catalog() {
        let site = site(TARGETS);
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("catalog.db");
        let steps = plan(&site, &History::default(), datetime!(2026-11-27 22:00 UTC));
        assert!(steps.iter().all(Step::due), "Friday: all due");
        let runner = Scripted {
            fail: StepKind::TapeBackup,
        };
        let started = datetime!(2026-11-27 22:00 +09:00);
        let night = run(&catalog, &site, &steps, started, &runner).unwrap();
        assert_eq!(
            (night.outcome, night.ran, night.failed),
            (Outcome::Partial, 4, 1)
        );
        assert_eq!(night.failed_steps[0].what, "TapeBackup");
        assert_eq!(
            night.failed_steps[0].said.as_deref(),
            Some("the drive is offline")
        );
        assert_eq!(night.problems, Some(Vec::new()));
        let outcomes: Vec<&str> = night.detail["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["ok", "failed", "ok", "ok"]);
        // One record in the catalog, which verifies.
        let cat = Catalog::open_existing(&catalog).unwrap();
        let jobs = cat.jobs(10).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(
            (jobs[0].job.as_str(), jobs[0].outcome.as_str()),
            ("night", "partial")
        );
        assert_eq!(jobs[0].started_at, started);
        assert!(cat.verify(None).unwrap().problems.is_empty());
    }

    #[test]
    fn a_night_whose_every_step_fails_is_failed() {
        let site = site("");
        let dir = tempfile::tempdir().unwrap();
        let steps = plan(&site, &History::default(), datetime!(2026-11-27 22:00 UTC));
        let runner = Scripted {
            fail: StepKind::Backup,
        };
        let night = run(
            &dir.path().join("c.db"),
            &site,
            &steps,
            datetime!(2026-11-27 22:00 UTC),
            &runner,
        )
        .unwrap();
        assert_eq!(night.outcome, Outcome::Failed);
    }
}
