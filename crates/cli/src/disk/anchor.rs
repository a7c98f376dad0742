//! The catalog anchor on a cartridge (`HOKAN-ANCHOR.json`, see
//! `hokan_catalog::anchor` and docs/disk-format.md), as `disk status` and
//! `disk restore` report it. A backup job checks and writes it through
//! `hokan_jobs::disk::{check_anchor, write_anchor}`, and reads it with
//! [`hokan_jobs::disk::anchor::read`].

use hokan_catalog::Catalog;
use hokan_jobs::disk::anchor::OnCartridge;
use serde_json::{json, Value};

use crate::ctx::SiteCtx;
use crate::i18n::t;

/// The anchor for `--json` reports: its head, when and where it was
/// written, and whether the catalog contains it (`null` without a catalog
/// to ask).
pub fn to_json(found: &OnCartridge, cat: Option<&Catalog>) -> Value {
    match found {
        OnCartridge::None => Value::Null,
        OnCartridge::Found(a) => json!({
            "site": a.site,
            "seq": a.seq,
            "hash": a.hash,
            "written_at": a.written_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "medium": a.medium,
            "in_catalog": cat.and_then(|c| c.contains(&a.head()).ok()),
        }),
        OnCartridge::Unreadable(why) => json!({ "unreadable": why.to_string() }),
    }
}

/// One line for people: the anchor and what the catalog says about it.
pub fn describe(ctx: &SiteCtx<'_>, found: &OnCartridge, cat: Option<&Catalog>) -> String {
    let l = ctx.lang;
    match found {
        OnCartridge::None => t(l, "no catalog anchor", "カタログアンカーなし").to_owned(),
        OnCartridge::Found(a) => {
            let verdict = match cat.map(|c| c.contains(&a.head())) {
                Some(Ok(true)) => t(l, "in the catalog", "カタログと一致"),
                Some(Ok(false)) => t(
                    l,
                    "NOT in the catalog: the catalog was rolled back or replaced; run `hokan catalog verify`",
                    "カタログにありません: カタログが巻き戻されたか差し替えられています。`hokan catalog verify` を実行してください",
                ),
                _ => t(l, "not checked", "未確認"),
            };
            format!(
                "{} {} ({}, {}): {verdict}",
                t(l, "catalog anchor: event", "カタログアンカー: イベント"),
                a.seq,
                a.hash.get(..16).unwrap_or(&a.hash),
                ctx.when(a.written_at),
            )
        }
        OnCartridge::Unreadable(why) => format!(
            "{}: {why}",
            t(
                l,
                "catalog anchor unreadable",
                "カタログアンカーを読めません"
            )
        ),
    }
}
