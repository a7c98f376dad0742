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

use std::path::Path;
use std::process::Command as Process;
use std::time::Instant;

use hokan_catalog::Event;
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

/// The night's plan at `now`: backup, each target's copy, locks.
pub fn plan(site: &Site, history: &[Value], now: OffsetDateTime) -> Vec<Step> {
    let mut steps = vec![Step {
        args: vec!["backup".into()],
        target: None,
        due: true,
        skip: None,
    }];
    for target in site.targets() {
        let name = target.name.as_str().to_owned();
        let last = last_done(history, &name);
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

/// When `target` last got its copy in a night: the newest night job whose
/// step for it succeeded.
fn last_done(history: &[Value], target: &str) -> Option<OffsetDateTime> {
    history
        .iter()
        .filter_map(|night| {
            let ok = night["steps"].as_array()?.iter().any(|s| {
                s["target"].as_str() == Some(target)
                    && s["outcome"].as_str() == Some("ok")
                    && s["args"][0].as_str() != Some("s3")
            });
            let at = night["started_at"].as_str()?;
            ok.then(|| OffsetDateTime::parse(at, &Rfc3339).ok())?
        })
        .max()
}

/// The night jobs recorded so far (their `detail`s), newest first.
fn history(ctx: &SiteCtx<'_>) -> Result<Vec<Value>, Failure> {
    if !ctx.catalog_path()?.is_file() {
        return Ok(Vec::new());
    }
    let cat = ctx.catalog()?;
    let jobs = cat.jobs(500).map_err(|e| ctx.catalog_failure(&e))?;
    Ok(jobs
        .into_iter()
        .filter(|j| j.job == "night")
        .map(|j| j.detail)
        .collect())
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
    let started_at = ctx.now;
    let steps = plan(&site, &history(ctx)?, ctx.now.to_offset(ctx.offset()));
    if dry_run {
        return print_plan(ctx, &steps);
    }
    let exe = std::env::current_exe().map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    let whole_night = Instant::now();
    let mut results = Vec::new();
    for step in &steps {
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
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = &lines[lines.len().saturating_sub(20)..];
        if !ctx.g.json && !ctx.g.quiet {
            eprintln!("   {outcome} (exit {code}, {secs:.1} s)");
        }
        if code != 0 && !ctx.g.json {
            for line in tail {
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
    let (status_code, verdict) = match status {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            serde_json::from_slice::<Value>(&o.stdout).unwrap_or(Value::Null),
        ),
        Err(_) => (-1, Value::Null),
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
        "compliant": verdict["compliant"],
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
    let code = match outcome {
        "ok" => status_code,
        "partial" => exit::PARTIAL,
        _ => exit::ERROR,
    };
    if ctx.g.json {
        print_json(&json!({"outcome": outcome, "exit_code": code, "night": detail}));
    } else {
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
    }
    Ok(code)
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
    c
}

fn print_plan(ctx: &SiteCtx<'_>, steps: &[Step]) -> Result<i32, Failure> {
    let l = ctx.lang;
    if ctx.g.json {
        let v: Vec<Value> = steps
            .iter()
            .map(|s| json!({"command": format!("hokan {}", s.args.join(" ")), "target": s.target, "due": s.due, "why_not": s.skip.as_ref().map(|w| &w.0)}))
            .collect();
        print_json(&json!({"dry_run": true, "steps": v}));
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
    Ok(exit::OK)
}
