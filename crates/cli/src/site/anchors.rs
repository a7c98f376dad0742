//! Anchors read from offline media for `status` and `catalog verify`.
//!
//! Each job that writes offline media also writes the catalog's head there
//! (`hokan_catalog::anchor`). Before judging, the heads that can be read
//! cheaply are gathered here and handed to `Catalog::evidence`, which
//! reports a catalog whose chain does not contain one of them as rolled
//! back. Disk cartridges and tape sets are checked when a job or `tape
//! scan` reads them; here, the sources that are reachable without a person.

use hokan_catalog::Expected;
use hokan_offline::Text;

use crate::ctx::SiteCtx;

/// The heads to check, and notes on the anchors that could not be read
/// (rollback detection is then incomplete, and the notes say so).
pub fn gather(ctx: &SiteCtx<'_>) -> (Vec<Expected>, Vec<Text>) {
    crate::s3::anchor::bucket_anchors(ctx)
}
