//! `hokan run`: the whole night, as hokan.toml describes it.
//!
//! Each source is backed up (after its pre-backup command), then every
//! offline target due tonight by its `schedule` gets its copy (tape pools,
//! disk pools, S3 buckets, whose locks are then extended), and the site is
//! judged. The night is one `night` job in the catalog, with every step's
//! outcome, duration and figures. A failed step does not stop the others: a
//! tape drive error must not cancel the S3 copy.
//!
//! Stopgap until the jobs library owns it (issue 15, part 1): each step runs
//! as a child `hokan … --json` process of this same binary, so a step that
//! fails or panics cannot take the night down with it, and its JSON report
//! lands in the job record as it is.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command as Process;
use std::time::Instant;

use hokan_catalog::Event;
use hokan_jobs::notices::{after_night, FailedStep, NextMedium, NightEnd};
use hokan_jobs::rotation::{FirstStep, RotationPlan, Tonight};
use hokan_notify::outbox::{self, Select};
use hokan_notify::Notification;
use hokan_offline::MediumId;
use hokan_offline::Problem;
use hokan_site::calendar::due;
use hokan_site::{Site, TargetKind};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::site::{print_json, SiteCtx};

const ACTOR: &str = "run";

/// One step of the night.
#[derive(Clone, Debug)]
pub struct Step {
    /// What it does, as a hokan command line after `hokan`.
    pub args: Vec<String>,
    /// The target it copies to, if any.
    pub target: Option<String>,
    /// Due tonight (otherwise shown in the plan, not run).
    pub due: bool,
    /// Why not, when not due or not runnable.
    pub skip: Option<(String, String)>,
}

/// Tonight's cartridge of a disk pool and what a person must do first,
/// as `--dry-run` and the night's notices say it.
#[derive(Clone, Debug)]
pub struct Medium {
    /// The pool.
    pub target: String,
    /// The plan (the device asked when it could be).
    pub plan: RotationPlan,
    /// A tape pool (else a disk pool).
    pub tape: bool,
    /// Why the device could not be asked, if it could not.
    pub unknown: Option<String>,
}

/// The night's plan at `now`: backup, each target's copy, locks.
pub fn plan(site: &Site, history: &History, now: OffsetDateTime) -> Vec<Step> {
    let mut steps = vec![Step {
        args: vec!["backup".into()],
        target: None,
        due: true,
        skip: None,
    }];
    for target in site.targets() {
        let name = target.name.as_str().to_owned();
        let last = history.last_done(&name);
        let is_due = due(target.schedule.as_ref(), last, now);
        let not_due = || {
            let next = target
                .schedule
                .as_ref()
                .and_then(|c| c.next_after(now))
                .map(|t| t.format(&Rfc3339).unwrap_or_default())
                .unwrap_or_default();
            Some((
                format!("not due tonight (schedule {}; next {next})", sched(target)),
                format!("今夜は予定外（予定 {}、次回 {next}）", sched(target)),
            ))
        };
        let mut push = |args: Vec<&str>| {
            steps.push(Step {
                args: args.into_iter().map(str::to_owned).collect(),
                target: Some(name.clone()),
                due: is_due,
                skip: if is_due { None } else { not_due() },
            })
        };
        match &target.kind {
            TargetKind::TapePool(_) => push(vec!["tape", "backup", "--pool", &name]),
            TargetKind::DiskPool(_) => push(vec!["disk", "backup", "--pool", &name]),
            TargetKind::S3(_) => {
                let to = format!("s3:{name}");
                push(vec!["copy", "--to", &to]);
                push(vec!["s3", "extend-locks", &name]);
            }
            TargetKind::Vault(_) => steps.push(Step {
                args: vec!["vault".into(), name.clone()],
                target: Some(name.clone()),
                due: false,
                skip: Some((
                    "not implemented yet: nothing is copied to a vault".into(),
                    "未実装: 保管サーバへはまだコピーしません".into(),
                )),
            }),
        }
    }
    steps
}

fn sched(target: &hokan_site::Target) -> String {
    target
        .schedule
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default()
}

/// What the plan needs from the catalog: each target's newest complete
/// copy and when nights began.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Target name → when its newest complete copy was made (from the
    /// copies the catalog records on the target's media, not from what a
    /// night's record says it did).
    pub newest_copy: BTreeMap<String, OffsetDateTime>,
    /// When the first and the last recorded night started.
    pub first_night: Option<OffsetDateTime>,
    /// When the last recorded night started.
    pub last_night: Option<OffsetDateTime>,
}

impl History {
    /// When `target` last got its copy. A target never copied to since
    /// nights began counts from the first recorded night, so a weekly copy
    /// that failed is caught up the next night rather than a week later.
    fn last_done(&self, target: &str) -> Option<OffsetDateTime> {
        self.newest_copy.get(target).copied().or(self.first_night)
    }
}

/// The catalog's copies per target and the nights' times. A target's
/// media: a pool's cartridges (by their pool), a bucket's medium (its
/// name).
fn history(ctx: &SiteCtx<'_>) -> Result<History, Failure> {
    let mut h = History::default();
    if !ctx.catalog_path()?.is_file() {
        return Ok(h);
    }
    let cat = ctx.catalog()?;
    let fail = |e| ctx.catalog_failure(&e);
    let media = cat.media().map_err(fail)?;
    let target_of = |medium: &MediumId| -> Option<String> {
        let row = media.iter().find(|m| &m.id == medium)?;
        Some(match &row.pool {
            Some(p) => p.as_str().to_owned(),
            None => row.id.as_str().to_owned(),
        })
    };
    for c in cat.copies().map_err(fail)? {
        if !c.complete {
            continue;
        }
        if let Some(t) = target_of(&c.medium) {
            let e = h.newest_copy.entry(t).or_insert(c.since);
            *e = (*e).max(c.since);
        }
    }
    for j in cat.jobs(500).map_err(fail)? {
        if j.job == "night" {
            h.first_night = Some(h.first_night.map_or(j.started_at, |f| f.min(j.started_at)));
            h.last_night = Some(h.last_night.map_or(j.started_at, |f| f.max(j.started_at)));
        }
    }
    Ok(h)
}

/// `hokan run [--dry-run]`.
pub fn run(ctx: &SiteCtx<'_>, dry_run: bool) -> Result<i32, Failure> {
    let l = ctx.lang;
    let Some(site) = ctx.conf.loaded.clone() else {
        return Err(Failure::new(
            exit::CONFIG,
            t(
                l,
                "hokan run needs a hokan.toml (--config, HOKAN_CONFIG or ./hokan.toml): it runs the night the file describes",
                "hokan run には hokan.toml が必要です（--config、HOKAN_CONFIG、または ./hokan.toml）。ファイルに書かれた夜間ジョブを実行します",
            ),
        ));
    };
    let steps = plan(&site, &history(ctx)?, ctx.now.to_offset(ctx.offset()));
    if dry_run {
        let media = media_tonight(ctx, &site, &steps, ctx.now);
        return print_plan(ctx, &steps, &media);
    }
    // One night at a time on a catalog, whoever started it (a person, the
    // daemon, a timer): the lock dies with the process.
    let _night = hokan_jobs::PoolLock::take(&ctx.catalog_path()?, ".night").map_err(|e| match e {
        hokan_jobs::JobError::PoolBusy { lock, .. } => Failure::new(
            exit::LOCKED,
            format!(
                "{} ({})",
                t(
                    l,
                    "another night is running on this catalog (hokan run or hokan daemon): wait for it to end; hokan catalog jobs shows when it has",
                    "このカタログでは別の夜間ジョブが実行中です（hokan run または hokan daemon）。終わるまで待ってください。終了は hokan catalog jobs で確認できます",
                ),
                lock.display()
            ),
        ),
        e => crate::job_error::failure(l, &e),
    })?;
    let (code, summary) = night(ctx, &site, &steps)?;
    if ctx.g.json {
        print_json(&summary);
    }
    Ok(code)
}

/// Run `steps` as the night at `ctx.now`: each due step, the verdict, the
/// job record, the notices. Prints its text (not its JSON, which it
/// returns) unless `--json`.
pub fn night(ctx: &SiteCtx<'_>, site: &Site, steps: &[Step]) -> Result<(i32, Value), Failure> {
    let l = ctx.lang;
    let started_at = ctx.now;
    let exe = std::env::current_exe().map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    let whole_night = Instant::now();
    let mut results = Vec::new();
    for step in steps {
        if !step.due {
            results.push(json!({
                "args": step.args, "target": step.target, "outcome": "skipped",
                "why": step.skip.as_ref().map(|s| &s.0),
            }));
            continue;
        }
        if !ctx.g.json && !ctx.g.quiet {
            eprintln!("== hokan {}", step.args.join(" "));
        }
        let clock = Instant::now();
        let out = child(&exe, ctx, &step.args).output();
        let secs = clock.elapsed().as_secs_f64();
        let (code, report, stderr) = match out {
            Ok(o) => (
                o.status.code().unwrap_or(-1),
                serde_json::from_slice::<Value>(&o.stdout).unwrap_or(Value::Null),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            ),
            Err(e) => (-1, Value::Null, e.to_string()),
        };
        let outcome = match code {
            0 => "ok",
            exit::PARTIAL => "partial",
            _ => "failed",
        };
        let tail = tail(&stderr);
        if !ctx.g.json && !ctx.g.quiet {
            eprintln!(
                "   {} (exit {code}, {secs:.1} s)",
                crate::site::catalog::outcome_word(l, outcome)
            );
        }
        if code != 0 && !ctx.g.json {
            for line in &tail {
                eprintln!("   {line}");
            }
        }
        results.push(json!({
            "args": step.args, "target": step.target, "outcome": outcome,
            "exit_code": code, "seconds": secs, "report": report, "stderr_tail": tail,
        }));
    }
    // The site's verdict after the night.
    let status = child(&exe, ctx, &["status".to_owned()]).output();
    let (status_code, verdict, status_tail) = match status {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            serde_json::from_slice::<Value>(&o.stdout).unwrap_or(Value::Null),
            tail(&String::from_utf8_lossy(&o.stderr)),
        ),
        Err(e) => (-1, Value::Null, vec![e.to_string()]),
    };
    let ran: Vec<&Value> = results
        .iter()
        .filter(|r| r["outcome"] != "skipped")
        .collect();
    let failed = ran.iter().filter(|r| r["outcome"] != "ok").count();
    let outcome = match failed {
        0 => "ok",
        n if n == ran.len() => "failed",
        _ => "partial",
    };
    // Measured, not summed from the steps: the verdict's time counts too.
    let finished_at = started_at + whole_night.elapsed();
    let detail = json!({
        "started_at": started_at.format(&Rfc3339).unwrap_or_default(),
        "steps": results,
        "status_exit_code": status_code,
        "status_stderr_tail": status_tail,
        "compliant": verdict["compliant"],
        "trusted": verdict["trusted"],
        "anchor_notes": verdict["anchor_notes"],
        // Why the site could not be judged, when it could not.
        "untrusted_because": if verdict["trusted"] == false {
            verdict["evaluation"]["problems"].clone()
        } else {
            Value::Null
        },
    });
    let mut cat = ctx.catalog()?;
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
            outcome: outcome.into(),
            detail: detail.clone(),
        },
    )
    .map_err(|e| ctx.catalog_failure(&e))?;
    let notices = tell(
        ctx,
        site,
        &results,
        failed == ran.len() && failed > 0,
        &verdict,
        finished_at,
    );
    let code = match outcome {
        "ok" => status_code,
        "partial" => exit::PARTIAL,
        _ => exit::ERROR,
    };
    let summary =
        json!({"outcome": outcome, "exit_code": code, "night": detail, "notices": notices});
    if !ctx.g.json {
        let (en, ja) = match outcome {
            "ok" => ("every step succeeded", "すべての手順が成功しました"),
            "partial" => (
                "some steps failed (see above); the others are done",
                "一部の手順が失敗しました（上記参照）。他の手順は完了しています",
            ),
            _ => ("every step failed", "すべての手順が失敗しました"),
        };
        println!(
            "{}: {} ({failed}/{} {})",
            t(l, "night", "夜間ジョブ"),
            t(l, en, ja),
            ran.len(),
            t(l, "failed", "失敗")
        );
        let c = match &verdict["compliant"] {
            Value::Bool(true) => t(l, "compliant", "適合"),
            Value::Bool(false) => t(
                l,
                "NOT compliant (run hokan status)",
                "不適合（hokan status で確認）",
            ),
            _ => t(
                l,
                "not judged (run hokan status)",
                "判定なし（hokan status で確認）",
            ),
        };
        println!("{}: {c}", t(l, "site", "サイト"));
        if !notices.is_empty() {
            println!("{}: {}", t(l, "notices queued", "通知"), notices.join(", "));
        }
    }
    Ok((code, summary))
}

/// Queue the notices the night is worth (failed steps, the verdict's
/// problems, the next night's cartridge) for every `[[notify]]` target and
/// send what is due now; what cannot be sent stays in the outbox for the
/// next `hokan notify flush`, run or daemon pass. Returns the kinds queued.
/// Notifying never changes the night's outcome: a problem here is logged.
fn tell(
    ctx: &SiteCtx<'_>,
    site: &Site,
    results: &[Value],
    all_failed: bool,
    verdict: &Value,
    at: OffsetDateTime,
) -> Vec<String> {
    let failed: Vec<FailedStep> = results
        .iter()
        .filter(|r| r["outcome"] != "ok" && r["outcome"] != "skipped")
        .map(|r| FailedStep {
            what: r["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            exit_code: r["exit_code"].as_i64().unwrap_or(-1) as i32,
            said: r["stderr_tail"]
                .as_array()
                .and_then(|l| l.last())
                .and_then(|l| l.as_str())
                .map(str::to_owned),
        })
        .collect();
    let problems: Option<Vec<Problem>> =
        serde_json::from_value(verdict["evaluation"]["problems"].clone()).ok();
    let next = next_media(ctx, site, at);
    let notices = after_night(&NightEnd {
        site: site.name(),
        at,
        failed,
        all_failed,
        problems: problems.as_deref(),
        next: &next,
    });
    let kinds: Vec<String> = notices
        .iter()
        .filter_map(|n| {
            serde_json::to_value(n).ok()?["type"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let targets = site.notify();
    if targets.is_empty() || notices.is_empty() {
        return if targets.is_empty() {
            Vec::new()
        } else {
            kinds
        };
    }
    let sent = (|| -> Result<(), String> {
        let mut cat = ctx.catalog().map_err(|f| f.message)?;
        for notice in notices {
            let n = Notification {
                site: site.name().to_owned(),
                host: crate::notify::hostname(),
                raised_at: at.to_offset(ctx.offset()),
                notice,
            };
            outbox::queue(&mut cat, targets, &n, at).map_err(|e| e.to_string())?;
        }
        outbox::deliver(&mut cat, targets, Select::Due, at).map_err(|e| e.to_string())?;
        Ok(())
    })();
    if let Err(e) = sent {
        tracing::error!(error = %e, "the night's notices could not be queued or sent");
        if !ctx.g.json {
            eprintln!("{}: {e}", t(ctx.lang, "notices", "通知"));
        }
    }
    kinds
}

/// The next night's cartridge of every disk pool due then, knowing what
/// each device reaches now (the person has the day to insert it).
fn next_media(ctx: &SiteCtx<'_>, site: &Site, now: OffsetDateTime) -> Vec<NextMedium> {
    let local = now.to_offset(ctx.offset());
    let next_night = site
        .schedule()
        .and_then(|c| c.next_after(local))
        .unwrap_or(local + time::Duration::days(1));
    let mut out = Vec::new();
    for target in site.targets() {
        if !due(target.schedule.as_ref(), Some(local), next_night) {
            continue;
        }
        let Some(m) = medium_plan(ctx, target, next_night) else {
            continue;
        };
        if m.unknown.is_some() {
            continue;
        }
        let name = &m.target;
        out.push(NextMedium {
            pool: name.clone(),
            plan: m.plan,
            into: if m.tape {
                hokan_offline::Text::new(
                    format!("the tape library of pool {name}"),
                    format!("プール {name} のテープライブラリ"),
                )
            } else {
                hokan_offline::Text::new(
                    format!("the drive of disk pool {name}"),
                    format!("ディスクプール {name} のドライブ"),
                )
            },
            before: next_night,
        });
    }
    out
}

/// The last 20 lines of a step's standard error, kept in the job record.
fn tail(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines[lines.len().saturating_sub(20)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// A child `hokan … --json` with this run's site, language, clock and
/// passphrase settings.
fn child(exe: &Path, ctx: &SiteCtx<'_>, args: &[String]) -> Process {
    let mut c = Process::new(exe);
    let g = ctx.g;
    c.arg("--json").arg("-q");
    c.args(["--lang", t(ctx.lang, "en", "ja")]);
    if let Some(p) = &ctx.conf.config {
        c.arg("--config").arg(p);
    }
    if let Some(p) = &g.catalog {
        c.arg("--catalog").arg(p);
    }
    if let Some(p) = &g.password_file {
        c.arg("--password-file").arg(p);
    }
    if let Some(p) = &g.repo {
        c.arg("--repo").arg(p);
    }
    // The same instant for every step, as the night is judged at one.
    if g.now.is_some() {
        c.env("HOKAN_NOW", ctx.now.format(&Rfc3339).unwrap_or_default());
    }
    c.args(args);
    // A night run at a given instant backs up as of that instant too.
    if g.now.is_some() && args.first().map(String::as_str) == Some("backup") {
        let utc = ctx.now.to_offset(time::UtcOffset::UTC);
        c.arg("--time")
            .arg(utc.format(&Rfc3339).unwrap_or_default());
    }
    // A step dies with the night (a killed `hokan run` or daemon leaves no
    // step writing on its own); its writes are crash-safe.
    // SAFETY: prctl between fork and exec is async-signal-safe and touches
    // no memory of ours.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut c, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    c
}

/// Tonight's plan as `status` shows it: the steps due tonight and each
/// disk pool's cartridge, with what a person must do first (`observe`:
/// ask the devices what they reach; otherwise the plan alone). `None`
/// without a hokan.toml.
///
/// "Tonight" is the coming night: the next time of `[site] schedule` after
/// the last night started (now, when that time has passed and the night has
/// not run), or without a site schedule the end of today.
pub fn tonight(ctx: &SiteCtx<'_>, observe: bool) -> Option<(Vec<Step>, Vec<Medium>)> {
    let site = ctx.conf.loaded.as_ref()?;
    let history = history(ctx).ok()?;
    let now = ctx.now.to_offset(ctx.offset());
    let at = match site.schedule() {
        Some(c) => c
            .next_after(history.last_night.unwrap_or(now).to_offset(now.offset()))
            .map_or(now, |t| t.max(now)),
        None => now.replace_time(time::Time::from_hms(23, 59, 59).expect("a time")),
    };
    let steps = plan(site, &history, at);
    let media = if observe {
        media_tonight(ctx, site, &steps, at)
    } else {
        Vec::new()
    };
    Some((steps, media))
}

/// The JSON of tonight's plan (`run --dry-run --json`, `status --json`).
pub fn plan_json(l: crate::i18n::Lang, steps: &[Step], media: &[Medium]) -> Value {
    let v: Vec<Value> = steps
        .iter()
        .map(|s| json!({"command": format!("hokan {}", s.args.join(" ")), "target": s.target, "due": s.due, "why_not": s.skip.as_ref().map(|w| &w.0)}))
        .collect();
    let m: Vec<Value> = media
        .iter()
        .map(|m| {
            json!({
                "target": m.target,
                "tonight": tonight_text(l, m),
                "first": first_step(l, m),
                "device_unknown": m.unknown,
            })
        })
        .collect();
    json!({"steps": v, "media": m})
}

/// Tonight's plan in a few lines (`status`).
pub fn render_tonight(l: crate::i18n::Lang, steps: &[Step], media: &[Medium]) -> String {
    let mut o = String::new();
    let due: Vec<String> = steps
        .iter()
        .filter(|s| s.due)
        .map(|s| format!("hokan {}", s.args.join(" ")))
        .collect();
    o.push_str(&format!(
        "\n{}\n  {}\n",
        t(l, "Tonight (hokan run):", "今夜（hokan run）:"),
        due.join(", ")
    ));
    for m in media {
        o.push_str(&format!(
            "  {} {}: {}\n",
            t(l, "cartridge of", "カートリッジ"),
            m.target,
            tonight_text(l, m)
        ));
        if let Some(f) = first_step(l, m) {
            o.push_str(&format!("  → {f}\n"));
        }
    }
    o
}

/// Tonight's cartridge of every disk pool due tonight, and whether its
/// device reaches it now (so a person knows what to insert first).
pub fn media_tonight(
    ctx: &SiteCtx<'_>,
    site: &Site,
    steps: &[Step],
    at: OffsetDateTime,
) -> Vec<Medium> {
    let mut out = Vec::new();
    for target in site.targets() {
        let name = target.name.as_str();
        if !steps
            .iter()
            .any(|s| s.due && s.target.as_deref() == Some(name))
        {
            continue;
        }
        if let Some(m) = medium_plan(ctx, target, at) {
            out.push(m);
        }
    }
    out
}

/// The rotation plan of a disk pool or a tape library's pool at `at`,
/// asking its device what it reaches now (a tape library: which pool
/// cartridges it holds and whether one may be written). `None` for other
/// targets.
fn medium_plan(
    ctx: &SiteCtx<'_>,
    target: &hokan_site::Target,
    at: OffsetDateTime,
) -> Option<Medium> {
    let name = target.name.as_str().to_owned();
    let local = at.to_offset(ctx.offset());
    let (plan, tape, asked) = match &target.kind {
        TargetKind::DiskPool(conf) => {
            let plan = RotationPlan::disk(conf.rotation, &conf.cartridges, local);
            let asked = reachable(ctx, &name).map(|r| plan.clone().reaching(&r));
            (plan, false, asked)
        }
        TargetKind::TapePool(conf) if conf.mode == hokan_site::TapeMode::Library => {
            let plan = RotationPlan {
                tonight: Tonight::Any,
                first: None,
            };
            (plan, true, tape_plan(ctx, &name, local))
        }
        _ => return None,
    };
    Some(match asked {
        Ok(plan) => Medium {
            target: name,
            plan,
            tape,
            unknown: None,
        },
        Err(e) => Medium {
            target: name,
            plan,
            tape,
            unknown: Some(e.message),
        },
    })
}

/// A tape library pool's plan from what the library holds now.
fn tape_plan(ctx: &SiteCtx<'_>, pool: &str, at: OffsetDateTime) -> Result<RotationPlan, Failure> {
    use crate::tape::devices::DevicesExt;
    let p = crate::tape::pool(ctx, pool)?;
    let cat = ctx.catalog()?;
    let mut dev = hokan_jobs::tape::library::Devices::open(&p, ctx.lang)?;
    let status = dev.status_in(ctx.lang)?;
    let cands = hokan_jobs::rotation::tape::candidates(&cat, pool, &status)
        .map_err(|e| crate::job_error::failure(ctx.lang, &e))?;
    Ok(RotationPlan::tape(&cands, at))
}

/// The pool cartridges a disk pool's device reaches now.
fn reachable(ctx: &SiteCtx<'_>, pool: &str) -> Result<Vec<MediumId>, Failure> {
    let pool = crate::disk::pool(ctx, pool)?;
    let cat = ctx.catalog()?;
    let media = cat.media().map_err(|e| ctx.catalog_failure(&e))?;
    let mut dev = crate::disk::device::open(ctx, &pool, &cat)?;
    let st = dev
        .status()
        .map_err(|e| crate::disk::disk_failure(ctx.lang, &e))?;
    Ok(st
        .cartridges
        .iter()
        .filter_map(|c| {
            crate::disk::device::medium_of(c, &media)
                .or_else(|| c.fs_label.as_deref().map(MediumId::new))
        })
        .collect())
}

/// What a person must do first for `m`, in the run's language.
pub fn first_step(l: crate::i18n::Lang, m: &Medium) -> Option<String> {
    Some(match m.plan.first.as_ref()? {
        FirstStep::Insert(c) => format!(
            "{} {c} {}",
            t(l, "insert", "カートリッジ"),
            t(
                l,
                &format!("into the drive of pool {} before the night's job", m.target),
                &format!(
                    "をプール {} のドライブに夜間ジョブの前に挿入してください",
                    m.target
                ),
            )
        ),
        FirstStep::InsertAnyOfPool if m.tape => t(
            l,
            &format!("put a labelled cartridge of pool {} whose retention has passed (or a new one, then hokan tape label) into the library before the night's job: the ones there are retained", m.target),
            &format!("夜間ジョブの前に、保持期間が過ぎたプール {} のラベル付きカートリッジ（または新しいものに hokan tape label）をライブラリに入れてください。中にあるものは保持期間中です", m.target),
        )
        .to_owned(),
        FirstStep::InsertAnyOfPool => format!(
            "{} {}",
            t(l, "insert a formatted cartridge of pool", "プール"),
            t(
                l,
                &format!("{} before the night's job", m.target),
                &format!(
                    "{} のフォーマット済みカートリッジを夜間ジョブの前に挿入してください",
                    m.target
                ),
            )
        ),
    })
}

fn tonight_text(l: crate::i18n::Lang, m: &Medium) -> String {
    match &m.plan.tonight {
        Tonight::Cartridge(c) => c.to_string(),
        Tonight::NoneToday(d) => format!("{} ({d})", t(l, "none today", "本日なし")),
        Tonight::Any => t(l, "any cartridge of the pool", "プールのどれでも").to_owned(),
    }
}

fn print_plan(ctx: &SiteCtx<'_>, steps: &[Step], media: &[Medium]) -> Result<i32, Failure> {
    let l = ctx.lang;
    if ctx.g.json {
        let mut v = plan_json(l, steps, media);
        v["dry_run"] = json!(true);
        print_json(&v);
        return Ok(exit::OK);
    }
    println!(
        "{}",
        t(
            l,
            "Tonight's plan (nothing was run):",
            "今夜の予定（何も実行していません）:"
        )
    );
    for s in steps {
        let cmd = format!("hokan {}", s.args.join(" "));
        match (&s.skip, s.due) {
            (None, true) => println!("  {} {cmd}", t(l, "run ", "実行")),
            (Some((en, ja)), _) => println!("  {} {cmd}: {}", t(l, "skip", "省略"), t(l, en, ja)),
            (None, false) => println!("  {} {cmd}", t(l, "skip", "省略")),
        }
    }
    for m in media {
        println!(
            "{} {}: {}",
            t(l, "Tonight's cartridge of", "今夜のカートリッジ:"),
            m.target,
            tonight_text(l, m)
        );
        if let Some(why) = &m.unknown {
            println!(
                "  {}: {why}",
                t(
                    l,
                    "the device could not be asked",
                    "装置に問い合わせできません"
                )
            );
        }
    }
    let firsts: Vec<String> = media.iter().filter_map(|m| first_step(l, m)).collect();
    if !firsts.is_empty() {
        println!("{}", t(l, "A person must first:", "事前に人が行うこと:"));
        for f in firsts {
            println!("  - {f}");
        }
    }
    Ok(exit::OK)
}
