//! `hokan tape backup`: copy snapshots from the primary repository to a new
//! media set of a pool. The job itself is [`hokan_jobs::tape::run_pool`];
//! here are its arguments, its progress on the terminal, and its results
//! and errors in the person's words.

use std::time::Instant;

use hokan_jobs::tape::backup::{Note, TapeProgress};
use hokan_jobs::tape::library::Moved;
use hokan_jobs::tape::PoolJob;
use hokan_jobs::JobError;
use serde_json::json;

use super::failure::{job_failure, refused_line};
use super::Pool;
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes};
use crate::progress::Bar;

/// The actor recorded on the job's events.
pub const ACTOR: &str = "hokan tape backup";

pub fn backup(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    specs: &[String],
    verify: bool,
    wait: std::time::Duration,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let started = Instant::now();
    let repo = crate::ctx::primary_repository(ctx)?;
    let catalog = ctx.catalog_path()?;
    let job = PoolJob {
        pool: pool_ref(pool),
        conf: &pool.conf,
        catalog: &catalog,
        sync: hokan_jobs::catalog::SyncOptions {
            repository: ctx.conf.repository_label.as_deref(),
            sources: &ctx.conf.sources,
        },
        specs,
        verify,
        wait,
        site: &ctx.conf.name,
        offset: ctx.offset(),
        started,
        actor: ACTOR,
        now: ctx.now,
    };
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "tape");
    let shown = Shown { ctx, bar: &bar };
    let run = hokan_jobs::tape::run_pool(&repo, &job, &shown);
    bar.finish();
    let run = run.map_err(|e| job_failure(ctx, &e))?;
    let done = &run.backup;
    let after: Vec<String> = done.after_job.iter().map(|m| moved_text(ctx, m)).collect();
    let refused: Vec<String> = done
        .refused
        .iter()
        .map(|(m, why)| refused_line(l, m, why))
        .collect();
    let snap_ids: Vec<&str> = run.snapshots.iter().map(|i| i.as_str()).collect();
    let mib_per_s = done.bytes as f64 / done.write_seconds.max(1e-9) / 1048576.0;
    if ctx.g.json {
        crate::ctx::print_json(&json!({
            "pool": pool.name,
            "set": done.set,
            "appended": done.appended,
            "cartridges": done.cartridges,
            "snapshots": snap_ids,
            "objects": run.objects,
            "bytes": done.bytes,
            "seconds": done.seconds,
            "write_mib_per_s": mib_per_s,
            "verified": done.verified,
            "refused": refused,
            "after_job": after,
            "simulated": run.simulated,
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → {} ({}): {} {}, {} ({:.1}s, {:.0} MiB/s){}",
            t(l, "wrote set", "メディアセットを書き込みました"),
            done.set,
            pool.name,
            done.cartridges.join(", "),
            snap_ids.len(),
            t(l, "snapshot(s)", "スナップショット"),
            Bytes(done.bytes),
            done.seconds,
            mib_per_s,
            if verify {
                t(l, ", verified", "、検証済み")
            } else {
                ""
            }
        );
        for line in &after {
            println!("  {line}");
        }
        if run.simulated {
            println!(
                "  ({})",
                t(
                    l,
                    "simulated library",
                    "模擬ライブラリ（実機ではありません）"
                )
            );
        }
    }
    Ok(exit::OK)
}

/// The job's progress on the terminal: the bar, and notes above it.
struct Shown<'a, 'c> {
    ctx: &'a SiteCtx<'c>,
    bar: &'a Bar,
}

impl TapeProgress for Shown<'_, '_> {
    fn total(&self, bytes: u64) {
        self.bar.set_total(bytes);
    }

    fn advance(&self, bytes: u64) {
        self.bar.add(bytes);
    }

    fn cartridge(&self, medium: &str) {
        self.bar.say(medium.to_owned());
    }

    fn verifying(&self) {
        self.bar
            .say(t(self.ctx.lang, "verifying", "検証中").to_owned());
    }

    fn note(&self, note: Note<'_>) {
        let l = self.ctx.lang;
        match note {
            Note::CartridgeFull { medium } => self.bar.note(&format!(
                "{medium}: {}",
                t(
                    l,
                    "cartridge full, continuing on the next one",
                    "カートリッジが一杯です。次のカートリッジに続けます"
                )
            )),
            Note::Refused { medium, why } => self.bar.note(&format!(
                "{}: {}",
                t(l, "warning", "警告"),
                refused_line(l, medium, why)
            )),
            Note::NoSetCatalog { medium, set } => self.bar.note(&format!(
                "{}: {medium} {} {set}",
                t(l, "warning", "警告"),
                t(
                    l,
                    "does not hold the catalog of media set",
                    "にメディアセットのカタログがありません:"
                ),
            )),
            _ => {}
        }
    }

    fn waiting(&self, why: &JobError, wait: std::time::Duration) {
        let l = self.ctx.lang;
        self.bar.ask(&format!(
            "{} {} ({} {})",
            job_failure(self.ctx, why).message,
            t(l, "— waiting", "— 待機中"),
            t(l, "up to", "最長"),
            hokan_offline::span::format(
                time::Duration::try_from(wait).unwrap_or(time::Duration::MAX)
            )
        ));
    }
}

/// What the after-job step did with one cartridge, in a sentence.
fn moved_text(ctx: &SiteCtx<'_>, m: &Moved) -> String {
    let l = ctx.lang;
    match m {
        Moved::Ejected { medium } => format!(
            "{medium}: {}",
            t(
                l,
                "ejected; take it out of the drive and store it (①-1-1)",
                "イジェクトしました。ドライブから取り出して保管してください（①-1-1）"
            )
        ),
        Moved::Unloaded { medium, slot } => format!(
            "{medium}: {} {slot} (①-2-1)",
            t(l, "unloaded to slot", "スロットへアンロード:")
        ),
        Moved::Exported { medium } => format!(
            "{medium}: {}",
            t(l, "exported to the mail slot: take it out of the library (①-2-2 once removed)", "メールスロットへ搬出しました。ライブラリから取り出してください（取り出すと ①-2-2）")
        ),
        Moved::NotExported { medium, error } => {
            format!("{medium}: {}", job_failure(ctx, error).message)
        }
        other => format!("{other:?}"),
    }
}

/// The pool as the jobs library takes it.
pub(super) fn pool_ref(pool: &Pool) -> hokan_jobs::tape::PoolRef<'_> {
    hokan_jobs::tape::PoolRef {
        name: pool.name.as_str(),
        allocation: pool.conf.allocation,
        retention: pool.retention,
        mode: pool.conf.mode,
        after_job: pool.conf.after_job,
    }
}
