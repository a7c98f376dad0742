//! The catalog anchor found in a tape set catalog, for `--json` (the
//! anchor and its check are [`hokan_jobs::tape::anchor`] and
//! [`hokan_jobs::tape::scan::AnchorSeen`]).

use hokan_jobs::tape::scan::AnchorSeen;
use serde_json::{json, Value};

/// The anchor of a set catalog for `--json`, with whether the catalog
/// contains it (`null` when not judged).
pub fn to_json(a: &AnchorSeen) -> Value {
    let (medium, set) = (&a.medium, &a.set);
    match &a.anchor {
        None => json!({"medium": medium, "set": set, "anchor": null}),
        Some(Err(why)) => json!({"medium": medium, "set": set, "unreadable": why.to_string()}),
        Some(Ok(x)) => json!({
            "medium": medium,
            "set": set,
            "site": x.site,
            "seq": x.seq,
            "hash": x.hash,
            "written_at": x.written_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "in_catalog": a.in_catalog,
        }),
    }
}
