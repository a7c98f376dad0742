//! The catalog anchor in each tape set catalog (the `anchor` field of
//! `HOKAN-CATALOG.json`, see `hokan_catalog::anchor` and
//! docs/tape-format.md): set by `tape backup` to the site catalog's head,
//! checked when a job appends to a set and by `tape scan`.

use hokan_catalog::anchor::{Anchor, RolledBack};
use hokan_catalog::Catalog;
use hokan_tape::format::SetCatalog;
use serde_json::{json, Value};

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};

/// The anchor a set catalog carries: `None` for catalogs written before
/// anchors existed, `Some(Err)` when the field is not an anchor.
pub fn in_catalog(c: &SetCatalog) -> Option<Result<Anchor, String>> {
    hokan_jobs::tape::anchor::anchor_in(c).map(|r| r.map_err(|e| e.to_string()))
}

/// Check the anchor of a set catalog read from cartridge `medium`: a
/// catalog that does not contain it was rolled back (exit 12,
/// [`exit::UNTRUSTED`]). A catalog without events (a new catalog, being
/// rebuilt from tape) is not judged: it cannot contain any head.
pub fn check(
    ctx: &SiteCtx<'_>,
    cat: &Catalog,
    medium: &str,
    c: &SetCatalog,
) -> Result<Option<RolledBack>, Failure> {
    hokan_jobs::tape::anchor::check_anchor(cat, medium, c)
        .map_err(|e| crate::job_error::failure(ctx.lang, &e))
}

/// The refusal for one or more rollbacks found: the first named in full.
pub fn refusal(ctx: &SiteCtx<'_>, found: &[RolledBack]) -> Failure {
    let mut msg = ctx.pick(&found[0].text());
    if found.len() > 1 {
        let others: Vec<&str> = found[1..].iter().map(|r| r.medium.as_str()).collect();
        msg.push_str(&format!(" (+ {})", others.join(", ")));
    }
    Failure::new(exit::UNTRUSTED, msg)
}

/// The anchor of a set catalog for `--json`, with whether the catalog
/// contains it (`null` when not judged).
pub fn to_json(cat: &Catalog, medium: &str, c: &SetCatalog) -> Value {
    match in_catalog(c) {
        None => json!({"medium": medium, "set": c.set, "anchor": null}),
        Some(Err(why)) => json!({"medium": medium, "set": c.set, "unreadable": why}),
        Some(Ok(a)) => {
            let judged = cat.head().is_ok_and(|h| h.seq > 0);
            json!({
                "medium": medium,
                "set": c.set,
                "site": a.site,
                "seq": a.seq,
                "hash": a.hash,
                "written_at": a.written_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                "in_catalog": if judged { cat.contains(&a.head()).ok() } else { None },
            })
        }
    }
}
