//! `hokan drill` on a disk pool: the cartridge holding the generation
//! attached (it must be inside the device), its own repository handed to
//! the drill, then put away as after any job (unmount, eject).

use std::path::Path;

use hokan_jobs::disk::restore::{self as disk, FromHolders};
use hokan_offline::MediumId;

use super::device;
use super::job::{after_job, attach, repository_of};
use super::{disk_failure, disk_job_failure, Pool};
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::Lang;
use hokan_jobs::Clock;

const ACTOR: &str = "hokan drill";

/// Attach cartridge `medium` of `pool`, call `drill` with its repository
/// folder, and put it away again (also when the drill failed).
pub fn with_cartridge<R>(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    medium: &MediumId,
    drill: impl FnOnce(&Path) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let l = ctx.lang;
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock =
        crate::job_error::lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = device::open(ctx, pool, &cat)?;
    let name = dev.name().to_owned();
    let st = dev.status().map_err(|e| disk_failure(l, &e))?;
    let fail = |e| disk_job_failure(l, &e);
    let media = hokan_jobs::disk::status::pool_media(&cat, &pool.name).map_err(fail)?;
    let order = disk::order(&st);
    let holders = [medium.clone()];
    let found = match disk::by_label(dev.as_mut(), &order, &media, &pool.name, &holders).map_err(fail)? {
        Some(found) => found,
        None => match disk::from_holders(dev.as_mut(), &order, &media, &pool.name, &holders)
            .map_err(fail)?
        {
            FromHolders::Found(found) => *found,
            _ => {
                return Err(Failure::new(
                    exit::INSERT_CARTRIDGE,
                    match l {
                        Lang::Ja => format!(
                            "{name}: 訓練にはカートリッジ {medium} が必要です。挿入して、もう一度実行してください"
                        ),
                        _ => format!(
                            "{name}: the drill needs cartridge {medium}; insert it and run again"
                        ),
                    },
                ))
            }
        },
    };
    let a = attach(ctx, &mut cat, &clock, ACTOR, pool, &name, found)?;
    let out = drill(&repository_of(&a.root));
    let put_away = after_job(ctx, pool, dev.as_mut(), &mut cat, &clock, &a, ACTOR);
    let out = out?;
    put_away?;
    Ok(out)
}
