//! `hokan disk`: RDX cartridges, USB disks and NAS shares rotated by hand
//! (項番 ②-1-1, ②-2-1, ②-2-2).
//!
//! - [`anchor`]: the catalog anchor on each cartridge (`HOKAN-ANCHOR.json`),
//!   checked before a job writes and written before the cartridge is put
//!   away.
//! - [`args`]: the command line.
//! - [`device`]: opening a pool's device (real or simulated), and naming
//!   what it reports.
//! - [`job`]: `disk backup`: snapshots copied into the cartridge's own
//!   repository, then unmount and eject.
//! - [`manage`]: `disk format|status|eject`.
//! - [`restore`]: `disk restore`, from a cartridge alone.
//! - [`sim`]: `disk sim`: what a person does with a simulated device.
//!
//! Each cartridge holds a self-contained hokan repository (the primary's
//! objects, copied as they are: same keys, dedup across the generations on
//! that cartridge). Every move is recorded in the catalog from what the
//! device reports, so that a cartridge still mounted, still in the drive or
//! in an active slot is online, whatever the pool intends.

mod anchor;
pub mod args;
pub(crate) mod device;
mod job;
mod manage;
mod restore;
mod sim;

use hokan_offline::Location;
use hokan_site::{DiskPool, TargetKind};

pub use args::DiskCmd;

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

/// A configured disk pool, resolved.
pub type Pool = crate::ctx::Pool<DiskPool>;

/// Find `[[disk_pool]] name = …` in the site configuration.
pub fn pool(ctx: &SiteCtx<'_>, name: &str) -> Result<Pool, Failure> {
    fn pick(k: &TargetKind) -> Option<&DiskPool> {
        match k {
            TargetKind::DiskPool(p) => Some(p),
            _ => None,
        }
    }
    crate::ctx::pool_of(ctx, name, pick, t(ctx.lang, "disk pool", "ディスクプール"))
}

/// Run `hokan disk …`.
pub fn run(cmd: DiskCmd, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    match cmd {
        DiskCmd::Format {
            pool: p,
            medium,
            force,
            relabel,
        } => manage::format(&ctx, &pool(&ctx, &p)?, &medium, force, relabel.as_deref()),
        DiskCmd::Status { pool: p } => manage::status(&ctx, &pool(&ctx, &p)?),
        DiskCmd::Backup {
            pool: p,
            snapshots,
            verify,
        } => job::backup(&ctx, &pool(&ctx, &p)?, &snapshots, verify),
        DiskCmd::Eject { pool: p } => manage::eject(&ctx, &pool(&ctx, &p)?),
        DiskCmd::Restore {
            pool: p,
            snapshot,
            target,
            latest_undamaged,
            overwrite,
            cartridge,
        } => restore::restore(
            &ctx,
            &pool(&ctx, &p)?,
            &snapshot,
            target,
            (latest_undamaged, overwrite),
            cartridge.as_deref(),
        ),
        DiskCmd::Sim(c) => sim::run(&ctx, c),
    }
}

/// Where a cartridge the host can use is, for the catalog: online.
fn attached_location(pool: &Pool, device: &str) -> Location {
    hokan_jobs::disk::attached_location(&pool.conf, device)
}

/// A device error as a failure: its sentence, and what to do.
pub(crate) fn disk_failure(lang: Lang, e: &hokan_disk::DiskError) -> Failure {
    use hokan_disk::DiskError as E;
    let hint = match e {
        E::NoCartridge { .. } => t(
            lang,
            "insert the cartridge, then run the command again",
            "カートリッジを挿入してから、もう一度実行してください",
        ),
        E::Gone { .. } => t(
            lang,
            "the cartridge went away while in use: nothing was recorded as copied, and its repository stays usable; insert it and run the command again",
            "使用中にカートリッジが外れました。コピーは記録していません。カートリッジのリポジトリはそのまま使えます。挿入して、もう一度実行してください",
        ),
        E::Command { .. } => t(
            lang,
            "check the device and the command in hokan.toml ([[disk_pool]] *_command), then run again",
            "装置と hokan.toml のコマンド（[[disk_pool]] の *_command）を確認して、もう一度実行してください",
        ),
        _ => t(
            lang,
            "check the device and the cartridge, then run the command again",
            "装置とカートリッジを確認して、もう一度実行してください",
        ),
    };
    Failure::new(exit::ERROR, format!("{e}. {hint}"))
}
