//! The catalog anchor in each tape set catalog (the `anchor` field of
//! `HOKAN-CATALOG.json`, see `hokan_catalog::anchor` and
//! docs/tape-format.md): set by a tape backup to the site catalog's head,
//! checked when a job appends to a set and when a set is scanned.

use hokan_catalog::anchor::{Anchor, AnchorError, RolledBack};
use hokan_catalog::Catalog;
use hokan_tape::format::SetCatalog;
use time::OffsetDateTime;

use crate::JobError;

/// The anchor for a set catalog of `set`: the catalog's head now.
pub fn anchor_of_head(
    cat: &Catalog,
    site: &str,
    set: &str,
    at: OffsetDateTime,
) -> Result<serde_json::Value, JobError> {
    let head = cat.head()?;
    let a = Anchor::new(site, &head, set, at);
    Ok(serde_json::to_value(&a).expect("anchors serialise"))
}

/// The anchor a set catalog carries: `None` for catalogs written before
/// anchors existed, `Some(Err)` when the field is not an anchor.
pub fn anchor_in(c: &SetCatalog) -> Option<Result<Anchor, AnchorError>> {
    let v = c.anchor.as_ref()?;
    let bytes = serde_json::to_vec(v).expect("json values serialise");
    Some(Anchor::parse(&bytes))
}

/// Check the anchor of a set catalog read from cartridge `medium`: a
/// catalog that does not contain it was rolled back (`Some`). A catalog
/// without events (a new catalog, being rebuilt from tape) is not judged:
/// it cannot contain any head.
pub fn check_anchor(
    cat: &Catalog,
    medium: &str,
    c: &SetCatalog,
) -> Result<Option<RolledBack>, JobError> {
    let Some(Ok(a)) = anchor_in(c) else {
        return Ok(None);
    };
    let head = cat.head()?;
    if head.seq == 0 {
        return Ok(None);
    }
    Ok(cat.check_anchor(medium, &a)?.err())
}
