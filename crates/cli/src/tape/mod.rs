//! `hokan tape`: LTO cartridges, libraries and media pools (項番 ①-1-1,
//! ①-2-1, ①-2-2).
//!
//! - [`anchor`]: the catalog anchor in a set catalog on tape, for `--json`.
//! - [`args`]: the command line.
//! - [`devices`]: opening a pool's drive and changer (real or simulated;
//!   in `hokan_jobs::tape::devices`), errors in the person's words.
//! - [`drill`]: `hokan drill` reading a set back from tape alone.
//! - [`failure`]: tape job errors as the person reads them, with exit
//!   codes.
//! - [`job`]: `tape backup` (the job is `hokan_jobs::tape::backup`): its
//!   progress, results and errors in the person's words.
//! - [`restore`]: `tape restore` from tape alone, and `tape scan` (in
//!   `hokan_jobs::tape::restore` and `hokan_jobs::tape::scan`).
//! - [`manage`]: `tape label|inventory|status|move` (in
//!   `hokan_jobs::tape::manage`).
//! - [`sim`]: `tape sim`: what a person does with a simulated library.
//!
//! Every move of a cartridge is recorded in the catalog as it happens, from
//! what the device reports (`ObservedBy::Device`), so that the offline
//! evaluator judges each copy by where its cartridges really are.

mod anchor;
pub mod args;
pub(crate) mod devices;
pub(crate) mod drill;
mod failure;
pub(crate) mod job;
mod manage;
mod restore;
mod sim;

use hokan_site::{TapePool, TargetKind};

pub use args::TapeCmd;

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

/// A configured tape pool, resolved.
pub type Pool = crate::ctx::Pool<TapePool>;

/// Find `[[tape_pool]] name = …` in the site configuration.
pub fn pool(ctx: &SiteCtx<'_>, name: &str) -> Result<Pool, Failure> {
    fn pick(k: &TargetKind) -> Option<&TapePool> {
        match k {
            TargetKind::TapePool(p) => Some(p),
            _ => None,
        }
    }
    crate::ctx::pool_of(ctx, name, pick, t(ctx.lang, "tape pool", "テーププール"))
}

/// Run `hokan tape …`.
pub fn run(cmd: TapeCmd, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    match cmd {
        TapeCmd::Label { pool: p, medium } => manage::label(&ctx, &pool(&ctx, &p)?, &medium),
        TapeCmd::Inventory { pool: p } => manage::inventory(&ctx, &pool(&ctx, &p)?),
        TapeCmd::Status { pool: p } => manage::status(&ctx, &pool(&ctx, &p)?),
        TapeCmd::Move {
            pool: p,
            medium,
            to,
        } => manage::move_to(&ctx, &pool(&ctx, &p)?, &medium, &to),
        TapeCmd::Backup {
            pool: p,
            snapshots,
            verify,
            wait_for_cartridge,
        } => {
            let wait = match wait_for_cartridge {
                None => std::time::Duration::ZERO,
                Some(w) => {
                    crate::ctx::when::parse_length(&w, hokan_offline::limits::MAX_CARTRIDGE_WAIT)
                        .ok()
                        .and_then(|d| std::time::Duration::try_from(d).ok())
                        .ok_or_else(|| {
                            Failure::new(
                                exit::USAGE,
                                format!(
                                    "--wait-for-cartridge {w:?}: {}",
                                    t(
                                        lang,
                                        "not a length of time from 0s to 7d (e.g. 30m, 2h)",
                                        "0s から 7d までの時間の長さではありません（例: 30m、2h）"
                                    )
                                ),
                            )
                        })?
                }
            };
            job::backup(&ctx, &pool(&ctx, &p)?, &snapshots, verify, wait)
        }
        TapeCmd::Restore {
            pool: p,
            set,
            snapshot,
            target,
            keep_objects,
        } => restore::restore(
            &ctx,
            &pool(&ctx, &p)?,
            set.as_deref(),
            &snapshot,
            &target,
            keep_objects.as_deref(),
        ),
        TapeCmd::Scan { pool: p } => restore::scan(&ctx, &pool(&ctx, &p)?),
        TapeCmd::Sim(c) => sim::run(&ctx, c),
    }
}
