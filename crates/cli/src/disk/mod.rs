//! `hokan disk`: RDX cartridges, USB disks and NAS shares rotated by hand
//! (項番 ②-1-1, ②-2-1, ②-2-2).
//!
//! - [`anchor`]: the catalog anchor on each cartridge (`HOKAN-ANCHOR.json`),
//!   checked before a job writes and written before the cartridge is put
//!   away.
//! - [`args`]: the command line.
//! - [`device`]: opening a pool's device (real or simulated), and naming
//!   what it reports.
//! - [`failure`]: a disk job's error as the person reads it, and its exit
//!   code.
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
pub mod drill;
mod failure;
mod job;
mod manage;
mod restore;
mod sim;

use hokan_jobs::disk::PoolRef;
use hokan_offline::Location;
use hokan_site::{DiskPool, TargetKind};

pub use args::DiskCmd;
pub(crate) use failure::{disk_failure, disk_job_failure};

use crate::ctx::SiteCtx;
use crate::exit::Failure;
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

/// The pool as the jobs library takes it.
fn pool_ref(pool: &Pool) -> PoolRef<'_> {
    PoolRef {
        name: &pool.name,
        conf: &pool.conf,
    }
}

/// Where a cartridge the host can use is, for the catalog: online.
fn attached_location(pool: &Pool, device: &str) -> Location {
    hokan_jobs::disk::attached_location(&pool.conf, device)
}
