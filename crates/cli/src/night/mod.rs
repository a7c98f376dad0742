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

use hokan_jobs::night::{NightRecord, Outcome, Skip, Step, StepOutcome, StepReport, StepRunner};
use hokan_jobs::notices::{after_night, NextMedium, NightEnd};
use hokan_site::Site;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

mod plan;

pub use plan::*;

/// A step as the hokan command line (after `hokan`) that runs it.
pub fn args(step: &Step) -> Vec<String> {
    step.command()
}

/// Why a step does not run tonight, in `l`.
pub fn why_not(l: crate::i18n::Lang, skip: &Skip) -> String {
    match skip {
        Skip::NotDue { schedule, next } => {
            let next = next
                .map(|t| t.format(&Rfc3339).unwrap_or_default())
                .unwrap_or_default();
            t(
                l,
                &format!("not due tonight (schedule {schedule}; next {next})"),
                &format!("今夜は予定外（予定 {schedule}、次回 {next}）"),
            )
            .to_owned()
        }
        _ => t(
            l,
            "pulled by the vault itself; nothing to do on the primary",
            "保管サーバ自身が取得します（一次サーバでの作業なし）",
        )
        .to_owned(),
    }
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
    let steps = hokan_jobs::night::plan(&site, &history(ctx)?, ctx.now.to_offset(ctx.offset()));
    if dry_run {
        let media = media_tonight(ctx, &site, &steps, ctx.now, &|_| true);
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

/// Run `steps` as the night at `ctx.now` ([`hokan_jobs::night::run`], each
/// step a child process): each due step, the verdict, the job record, the
/// notices. Prints its text (not its JSON, which it returns) unless
/// `--json`.
pub fn night(ctx: &SiteCtx<'_>, site: &Site, steps: &[Step]) -> Result<(i32, Value), Failure> {
    let l = ctx.lang;
    let exe = std::env::current_exe().map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    let runner = Children {
        ctx,
        exe,
        began: Instant::now(),
    };
    let record = hokan_jobs::night::run(&ctx.catalog_path()?, site, steps, ctx.now, &runner)
        .map_err(|e| crate::job_error::failure(l, &e))?;
    let notices = tell(ctx, site, &record);
    let outcome = record.outcome.as_str();
    let code = match record.outcome {
        Outcome::Ok => record.verdict.exit_code,
        Outcome::Partial => exit::PARTIAL,
        _ => exit::ERROR,
    };
    let summary =
        json!({"outcome": outcome, "exit_code": code, "night": record.detail, "notices": notices});
    if !ctx.g.json {
        let (en, ja) = match record.outcome {
            Outcome::Ok => ("every step succeeded", "すべての手順が成功しました"),
            Outcome::Partial => (
                "some steps failed (see above); the others are done",
                "一部の手順が失敗しました（上記参照）。他の手順は完了しています",
            ),
            _ => ("every step failed", "すべての手順が失敗しました"),
        };
        println!(
            "{}: {} ({}/{} {})",
            t(l, "night", "夜間ジョブ"),
            t(l, en, ja),
            record.failed,
            record.ran,
            t(l, "failed", "失敗")
        );
        let c = match &record.verdict.report["compliant"] {
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

/// The night's steps as child `hokan --json -q …` processes of this binary:
/// a step that fails, panics or hangs cannot take the night down, and its
/// JSON report lands in the record as it is.
struct Children<'a, 'g> {
    ctx: &'a SiteCtx<'g>,
    exe: std::path::PathBuf,
    /// When the night began.
    began: Instant,
}

impl Children<'_, '_> {
    fn spawn(&self, args: &[String]) -> StepReport {
        let clock = Instant::now();
        let out = child(&self.exe, self.ctx, args, self.began).output();
        let seconds = clock.elapsed().as_secs_f64();
        let (exit_code, report, stderr) = match out {
            Ok(o) => (
                o.status.code().unwrap_or(-1),
                serde_json::from_slice::<Value>(&o.stdout).unwrap_or(Value::Null),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            ),
            Err(e) => (-1, Value::Null, e.to_string()),
        };
        let outcome = match exit_code {
            0 => StepOutcome::Ok,
            exit::PARTIAL => StepOutcome::Partial,
            _ => StepOutcome::Failed,
        };
        StepReport {
            outcome,
            exit_code,
            seconds,
            report,
            said: tail(&stderr),
        }
    }
}

impl StepRunner for Children<'_, '_> {
    fn command(&self, step: &Step) -> Vec<String> {
        args(step)
    }

    fn run(&self, step: &Step) -> StepReport {
        let (l, g) = (self.ctx.lang, self.ctx.g);
        let args = args(step);
        if !g.json && !g.quiet {
            eprintln!("== hokan {}", args.join(" "));
        }
        let r = self.spawn(&args);
        if !g.json && !g.quiet {
            let word = match r.outcome {
                StepOutcome::Ok => "ok",
                StepOutcome::Partial => "partial",
                _ => "failed",
            };
            eprintln!(
                "   {} (exit {}, {:.1} s)",
                crate::i18n::outcome_word(l, word),
                r.exit_code,
                r.seconds
            );
        }
        if r.exit_code != 0 && !g.json {
            for line in &r.said {
                eprintln!("   {line}");
            }
        }
        r
    }

    fn verdict(&self) -> StepReport {
        self.spawn(&["status".to_owned()])
    }

    fn why_not(&self, skip: &Skip) -> String {
        why_not(crate::i18n::Lang::En, skip)
    }
}

/// Queue the notices the night is worth (failed steps, the verdict's
/// problems, the next night's cartridge) for every `[[notify]]` target and
/// send what is due now; what cannot be sent stays in the outbox for the
/// next `hokan notify flush`, run or daemon pass. Returns the kinds queued.
/// Notifying never changes the night's outcome: a problem here is logged.
fn tell(ctx: &SiteCtx<'_>, site: &Site, record: &NightRecord) -> Vec<String> {
    let at = record.finished_at;
    let next = next_media(ctx, site, at);
    let notices = after_night(&NightEnd {
        site: site.name(),
        at,
        failed: record.failed_steps.clone(),
        all_failed: record.failed == record.ran && record.failed > 0,
        problems: record.problems.as_deref(),
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
    if site.notify().is_empty() {
        return Vec::new();
    }
    let sent = ctx.catalog().map_err(|f| f.message).and_then(|mut cat| {
        hokan_jobs::notices::raise(&mut cat, site, notices, at, ctx.offset())
            .map_err(|e| e.to_string())
    });
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
    let next_night = hokan_jobs::night::next_night(site, local);
    let mut out = Vec::new();
    for target in site.targets() {
        if !hokan_jobs::night::due_at(target, local, next_night) {
            continue;
        }
        let Some(m) = medium_plan(ctx, target, next_night, true) else {
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
fn child(exe: &Path, ctx: &SiteCtx<'_>, args: &[String], began: Instant) -> Process {
    let mut c = hokan_child(exe, ctx.g, ctx.lang, ctx.conf.config.as_deref());
    c.arg("--json").arg("-q");
    // The same instant for every step, as the night is judged at one;
    // except a drill, which reads what tonight's copies wrote (recorded at
    // the night's instant plus the time they took): it runs at the
    // night's instant plus the time the night has taken so far.
    if ctx.g.now.is_some() {
        let now = match args.first().map(String::as_str) {
            Some("drill") => ctx.now + began.elapsed(),
            _ => ctx.now,
        };
        c.env("HOKAN_NOW", now.format(&Rfc3339).unwrap_or_default());
    }
    c.args(args);
    if args.first().map(String::as_str) == Some("drill") {
        c.args(["--by", "hokan run (drill_schedule)"]);
    }
    // A night run at a given instant backs up as of that instant too.
    if ctx.g.now.is_some() && args.first().map(String::as_str) == Some("backup") {
        let utc = ctx.now.to_offset(time::UtcOffset::UTC);
        c.arg("--time")
            .arg(utc.format(&Rfc3339).unwrap_or_default());
    }
    c
}

/// A child `hokan` of the night (a step) or of the daemon (a night): this
/// binary with the same language, configuration, catalog, passphrase file
/// and repository, killed when its parent dies (its writes are
/// crash-safe; a killed night or daemon leaves nothing writing on its own).
pub fn hokan_child(exe: &Path, g: &crate::Global, lang: Lang, config: Option<&Path>) -> Process {
    let mut c = Process::new(exe);
    c.args(["--lang", t(lang, "en", "ja")]);
    if let Some(p) = config {
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
    die_with_parent(&mut c);
    c
}

/// Make `c`'s process be killed when the thread that started it ends
/// (PR_SET_PDEATHSIG): the night's steps, and the daemon's nights.
fn die_with_parent(c: &mut Process) {
    // SAFETY: prctl between fork and exec is async-signal-safe and touches
    // no memory of ours.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(c, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}
