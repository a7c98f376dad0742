//! Opening a disk pool's device (real or SIMULATED), as the CLI reports a
//! failure: the logic is [`hokan_jobs::disk::device`].

use hokan_catalog::Catalog;
use hokan_disk::DiskDevice;

use super::{disk_job_failure, pool_ref, Pool};
use crate::ctx::SiteCtx;
use crate::i18n::Lang;

pub use hokan_jobs::disk::medium_of;

/// The pool's device (see [`hokan_jobs::disk::device::open`]).
pub fn open(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    cat: &Catalog,
) -> Result<Box<dyn DiskDevice>, crate::exit::Failure> {
    spec(ctx, pool, cat)?.open(ctx.lang)
}

/// How to open a pool's device, without opening it: plain data that can be
/// handed to another thread (`hokan status` reads devices under a time
/// limit), where [`Spec::open`] opens it.
pub struct Spec(hokan_jobs::disk::device::Spec);

impl Spec {
    /// Open the device.
    pub fn open(self, l: Lang) -> Result<Box<dyn DiskDevice>, crate::exit::Failure> {
        self.0.open().map_err(|e| disk_job_failure(l, &e))
    }
}

/// How to open the pool's device (see [`open`]).
pub fn spec(ctx: &SiteCtx<'_>, pool: &Pool, cat: &Catalog) -> Result<Spec, crate::exit::Failure> {
    hokan_jobs::disk::device::spec(pool_ref(pool), cat)
        .map(Spec)
        .map_err(|e| disk_job_failure(ctx.lang, &e))
}
