//! `hokan drill` on a tape pool: the set holding the generation read back
//! from its cartridges alone (moved as `tape restore` moves them) into a
//! staging repository folder, which the drill then restores from. Reading
//! the tape is part of the drill's time.

use std::path::Path;
use std::time::{Duration, Instant};

use hokan_jobs::tape::library;
use hokan_jobs::tape::restore as from_tape;
use hokan_jobs::{Clock, JobError};
use hokan_offline::MediumId;
use hokan_site::TapeMode;

use super::devices::{Devices, DevicesExt};
use super::failure::job_failure;
use super::Pool;
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::job_error::lock_pool;

const ACTOR: &str = "hokan drill";

/// Read the set of `pool` that holds `snapshot` on cartridge `medium` (or,
/// when the catalog knows no such set, any complete set holding it) into
/// a staging folder, and call `drill` with that folder, or with why the
/// tape could not be read (a damaged cartridge is a failed drill, not an
/// error), and the time the reading took. The staging folder is made
/// beside the drill's `target` (a set can be large: it goes where the
/// person chose room for the restore) and removed afterwards.
pub fn with_set<R>(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    medium: &MediumId,
    snapshot: &str,
    target: &Path,
    drill: impl FnOnce(Result<&Path, Failure>, Duration) -> R,
) -> Result<R, Failure> {
    let l = ctx.lang;
    let p = pool.name.as_str();
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), p, l)?;
    let fail = |e: JobError| job_failure(ctx, &e);
    let on_medium = cat
        .media_sets(Some(p))
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .find(|s| {
            s.complete
                && s.cartridges.contains(medium)
                && s.snapshots.iter().any(|x| x.as_str() == snapshot)
        });
    let row = match on_medium {
        Some(row) => row,
        None => {
            from_tape::find_set(&cat, p, None, snapshot)
                .map_err(fail)?
                .0
        }
    };
    let clock = Clock::new(ctx.now);
    let mut dev = Devices::open(pool, l)?;
    let staging = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(format!(".hokan-drill-tape-{}", std::process::id()));
    std::fs::create_dir_all(&staging)
        .map_err(|e| Failure::new(exit::ERROR, format!("{}: {e}", staging.display())))?;
    let start = Instant::now();
    let read = from_tape::open_set(&mut dev, &mut cat, &clock, ACTOR, p, &row, snapshot).and_then(
        |catalog| {
            from_tape::read_set(
                &mut dev, &mut cat, &clock, ACTOR, &row, &catalog, snapshot, &staging,
            )
        },
    );
    let elapsed = start.elapsed();
    // A single drive's cartridge goes where the pool's jobs leave it
    // (ejected: offline again); a library's was put back in its slot.
    let put_away = match (&read, pool.conf.mode, row.cartridges.first()) {
        (Err(_), ..) | (_, TapeMode::Library, _) | (_, _, None) => Ok(()),
        (Ok(()), TapeMode::SingleDrive, Some(first)) => library::after_job(
            &mut dev,
            &mut cat,
            &clock,
            ACTOR,
            (pool.conf.mode, pool.conf.after_job),
            first.as_str(),
            &[],
        )
        .map(drop),
    };
    let out = match read {
        // A cartridge a person must bring, or one that is away from the
        // library: nothing was drilled, nothing is recorded.
        Err(e @ (JobError::InsertSetCartridge { .. } | JobError::SetCartridgesAway { .. })) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(fail(e));
        }
        read => drill(read.map(|()| staging.as_path()).map_err(fail), elapsed),
    };
    let _ = std::fs::remove_dir_all(&staging);
    put_away.map_err(fail)?;
    Ok(out)
}
