//! `hokan disk backup`: the snapshots copied into the cartridge's own
//! repository, then unmount and eject as the pool says.
//!
//! Objects are written as the repository writes them (a temporary file,
//! fsync, rename without replacing), config and keys first, packs, the
//! index, and each snapshot last: a cartridge pulled out at any moment
//! holds a repository that the next job completes, and no snapshot whose
//! objects are not all there. Objects already on the cartridge are not
//! written again, so generations on one cartridge share their data.
//!
//! Before anything is written, the catalog anchor on the cartridge (if
//! any) must be in the catalog's chain, else the job is refused with exit
//! 12 (the catalog was rolled back); after the copies are recorded, the
//! catalog's new head is written there as the anchor, before the eject.
//!
//! The job is [`hokan_jobs::disk::run_pool`]; here are its arguments, its
//! bar, and its results and errors in the person's words.

use hokan_catalog::Catalog;
use hokan_disk::DiskDevice;
use hokan_jobs::disk::{PoolJob, PoolRun};
use hokan_offline::{Location, MediumId};
use serde_json::json;

use super::failure::{backup_failure, disk_job_failure, put_away_text};
use super::{pool_ref, Pool};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::progress::{Bar, BarProgress};
use hokan_jobs::Clock;

/// The actor recorded on the job's events.
pub const ACTOR: &str = "hokan disk backup";

pub use hokan_jobs::disk::Attached;

/// Record a move the device reported.
/// The cartridge found for a restore or a drill (what the device reports,
/// where its files are, its label), recorded as attached to `device` of
/// `pool`.
#[allow(clippy::too_many_arguments)] // the catalog's record and what was found
pub fn attach(
    ctx: &SiteCtx<'_>,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    pool: &Pool,
    device: &str,
    found: (
        hokan_disk::Cartridge,
        std::path::PathBuf,
        hokan_disk::DiskLabel,
    ),
) -> Result<Attached, Failure> {
    let (cartridge, root, label) = found;
    let a = Attached {
        cartridge,
        medium: MediumId::new(label.medium.as_str()),
        root,
    };
    record(
        ctx,
        cat,
        clock,
        actor,
        &a.medium,
        super::attached_location(pool, device),
        device,
    )?;
    Ok(a)
}

pub fn record(
    ctx: &SiteCtx<'_>,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    medium: &MediumId,
    location: Location,
    device: &str,
) -> Result<(), Failure> {
    hokan_jobs::disk::record(cat, clock, actor, medium, location, device)
        .map_err(|e| disk_job_failure(ctx.lang, &e))
}

/// Unmount, then eject / deactivate / export as the pool says (see
/// [`hokan_jobs::disk::after_job`]); what was done, in a sentence. `Err`
/// when the eject failed: the cartridge stays recorded where the host can
/// reach it (online), and the message says so.
pub fn after_job(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    a: &Attached,
    actor: &str,
) -> Result<String, Failure> {
    let l = ctx.lang;
    let done = hokan_jobs::disk::after_job(dev, cat, clock, pool_ref(pool), a, actor)
        .map_err(|e| disk_job_failure(l, &e))?;
    Ok(put_away_text(l, done))
}

pub fn backup(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    specs: &[String],
    verify: bool,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let started = std::time::Instant::now();
    let repo = crate::ctx::primary_repository(ctx)?;
    let catalog = ctx.catalog_path()?;
    let job = PoolJob {
        pool: pool_ref(pool),
        catalog: &catalog,
        sync: hokan_jobs::catalog::SyncOptions {
            repository: ctx.conf.repository_label.as_deref(),
            sources: &ctx.conf.sources,
        },
        specs,
        verify,
        site: &ctx.conf.name,
        offset: ctx.offset(),
        actor: ACTOR,
        now: ctx.now,
    };
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "disk");
    let done = hokan_jobs::disk::run_pool(&repo, &job, &Shown(&bar));
    bar.finish();
    let done = match done {
        Ok(PoolRun::Copied(done)) => done,
        Ok(PoolRun::Skipped { day, .. }) => {
            let msg = format!(
                "{}: {} {day}",
                pool.name,
                t(
                    l,
                    "the rotation has no cartridge for",
                    "ローテーションにカートリッジがない曜日です:"
                ),
            );
            if ctx.g.json {
                print_json(&json!({"pool": pool.name, "skipped": msg}));
            } else if !ctx.g.quiet {
                println!("{msg}");
            }
            return Ok(exit::OK);
        }
        Err(e) => {
            // The refusal names tonight's cartridge: the rotation's, as the
            // job chose it.
            let want = hokan_jobs::disk::tonight(job.pool, job.now, job.offset);
            return Err(backup_failure(ctx, pool, &want, &e));
        }
    };
    let after = put_away_text(l, done.put_away);
    let (written, skipped) = (done.bytes_written, done.bytes_already_there);
    let verified = done.verified.then_some(true);
    let snap_ids: Vec<&str> = done.snapshots.iter().map(|i| i.as_str()).collect();
    if ctx.g.json {
        print_json(&json!({
            "pool": pool.name,
            "medium": done.medium,
            "snapshots": snap_ids,
            "bytes_written": written,
            "bytes_already_there": skipped,
            "verified": verified,
            "anchor": {"seq": done.anchor.seq, "hash": done.anchor.hash},
            "previous_anchor": done.previous_anchor.as_ref().map(|p| json!({"seq": p.seq, "hash": p.hash})),
            "after_job": after,
            "seconds": started.elapsed().as_secs_f64(),
            "simulated": done.simulated,
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → {}: {} {}, {} {}, {} {}",
            t(l, "copied", "コピーしました:"),
            snap_ids.len(),
            done.medium,
            crate::i18n::Bytes(written),
            t(l, "written", "書き込み"),
            crate::i18n::Bytes(skipped),
            t(l, "already there", "既存"),
            if verify {
                t(l, "verified;", "検証済み;")
            } else {
                ""
            },
            after
        );
        if done.simulated {
            println!(
                "  ({})",
                t(l, "simulated device", "模擬装置（実機ではありません）")
            );
        }
    }
    Ok(exit::OK)
}

/// The bar, sized once the job knows what it copies.
struct Shown<'a>(&'a Bar);

impl hokan_jobs::copy::CopyProgress for Shown<'_> {
    fn copied(
        &self,
        obj: &hokan_repo::copy::CopyObject,
        outcome: hokan_jobs::copy::Outcome,
    ) -> Result<(), hokan_jobs::JobError> {
        BarProgress(self.0).copied(obj, outcome)
    }
}

impl hokan_jobs::disk::PoolProgress for Shown<'_> {
    fn total(&self, bytes: u64) {
        self.0.set_total(bytes);
    }
}

pub use hokan_jobs::disk::repository_of;
