//! `hokan catalog verify|sync|events|export` (the sync itself is
//! [`hokan_jobs::catalog::sync`]).

use hokan_catalog::{Catalog, Head};
use serde_json::json;

use super::args::CatalogCmd;
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{pad, t};

pub fn run(ctx: &SiteCtx<'_>, cmd: CatalogCmd) -> Result<i32, Failure> {
    match cmd {
        CatalogCmd::Verify { expect } => verify(ctx, expect.as_deref()),
        CatalogCmd::Sync => {
            let repo = crate::ctx::primary_repository(ctx)?;
            let mut cat = ctx.catalog()?;
            let stats = crate::ctx::sync_catalog(&repo, &mut cat, &ctx.conf, ctx.now)
                .map_err(|e| crate::job_error::failure(ctx.lang, &e))?;
            if ctx.g.json {
                print_json(&stats);
            } else {
                println!(
                    "{}: {} {}, {} {}",
                    t(ctx.lang, "catalog synced", "カタログを同期しました"),
                    stats.recorded,
                    t(ctx.lang, "new snapshot(s)", "件の新しい世代"),
                    stats.forgotten,
                    t(ctx.lang, "forgotten", "件の削除")
                );
            }
            Ok(exit::OK)
        }
        CatalogCmd::Events {
            limit,
            catalog_only,
        } => events(ctx, limit, catalog_only),
        CatalogCmd::Jobs { limit } => jobs(ctx, limit),
        CatalogCmd::Export { output } => {
            let cat = ctx.catalog()?;
            let only = cat
                .events(usize::MAX, true)
                .map_err(|e| ctx.catalog_failure(&e))?;
            let head = cat.head().map_err(|e| ctx.catalog_failure(&e))?;
            let doc = json!({
                "what": "facts only the hokan catalog holds (manual moves, attestations, condition changes, drills)",
                "site": ctx.conf.name,
                "exported_at": ctx.now,
                "head": head,
                "events": only,
            });
            let text = serde_json::to_string_pretty(&doc).expect("json");
            match output {
                Some(p) => std::fs::write(&p, text + "\n")
                    .map_err(|e| Failure::new(exit::ERROR, format!("{}: {e}", p.display())))?,
                None => println!("{text}"),
            }
            Ok(exit::OK)
        }
    }
}

fn verify(ctx: &SiteCtx<'_>, expect: Option<&str>) -> Result<i32, Failure> {
    let l = ctx.lang;
    let expect = match expect {
        Some(s) => Some(Head::parse(s).ok_or_else(|| {
            Failure::new(
                exit::USAGE,
                t(
                    l,
                    "--expect wants SEQ:HASH as printed on a report (e.g. 42:9f3c…, 64 hex digits)",
                    "--expect には報告書に印字された SEQ:HASH（例: 42:9f3c…、16進64桁）を指定してください",
                ),
            )
        })?),
        None => None,
    };
    // Verify never creates a catalog: a missing one is exit 12.
    let cat = Catalog::open_existing(&ctx.catalog_path()?).map_err(|e| ctx.catalog_failure(&e))?;
    // The heads the chain must contain: --expect, and every anchor that
    // can be read from offline media without a person.
    let (mut expected, notes) = super::anchors::gather(ctx);
    if let Some(h) = expect {
        expected.push(hokan_catalog::Expected {
            head: h,
            from: hokan_offline::Text::new("--expect", "--expect"),
        });
    }
    let anchors = expected.len();
    let r = cat
        .verify_against(&expected)
        .map_err(|e| ctx.catalog_failure(&e))?
        .report;
    if ctx.g.json {
        print_json(
            &json!({"ok": r.ok(), "report": r, "anchors_checked": anchors, "anchor_notes": notes}),
        );
    } else {
        for n in &notes {
            println!("{} {}", t(l, "note:", "注意:"), ctx.pick(n));
        }
        for p in &r.problems {
            println!(
                "{} {}",
                t(l, "TAMPERED:", "改ざん検出:"),
                ctx.pick(&p.message)
            );
        }
        if r.ok() {
            println!(
                "{}: {} {}, head {} ({} {})",
                t(l, "catalog intact", "カタログは正常です"),
                r.events,
                t(l, "events", "件のイベント"),
                r.head,
                anchors,
                t(
                    l,
                    "anchor(s) from offline media checked",
                    "件の媒体上のアンカーと照合"
                )
            );
        } else {
            println!(
                "{}",
                t(
                    l,
                    "The catalog was changed outside hokan. Keep this file as evidence, restore the catalog from a backup or rebuild it from the repositories and media, and re-record manual facts from the last report's appendix.",
                    "カタログが hokan 以外で変更されています。このファイルを証拠として保全し、バックアップから戻すかリポジトリと媒体から再構築し、手作業の記録は直近の報告書の付録から登録し直してください。"
                )
            );
        }
    }
    Ok(if r.ok() { exit::OK } else { exit::DAMAGE })
}

fn jobs(ctx: &SiteCtx<'_>, limit: usize) -> Result<i32, Failure> {
    let cat = ctx.catalog()?;
    let jobs = cat.jobs(limit).map_err(|e| ctx.catalog_failure(&e))?;
    if ctx.g.json {
        print_json(&json!({"jobs": jobs}));
        return Ok(exit::OK);
    }
    for j in jobs.iter().rev() {
        let secs = (j.finished_at - j.started_at).whole_seconds();
        println!(
            "{:>6}  {}  {:<12} {} {} ({secs} s)",
            j.seq,
            ctx.when(j.started_at),
            j.job,
            pad(crate::i18n::outcome_word(ctx.lang, &j.outcome), 10),
            j.target
        );
        for s in j.detail["steps"].as_array().into_iter().flatten() {
            let args: Vec<&str> = s["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
                .collect();
            println!(
                "          {} hokan {}",
                pad(
                    crate::i18n::outcome_word(ctx.lang, s["outcome"].as_str().unwrap_or("?")),
                    10
                ),
                args.join(" ")
            );
        }
    }
    Ok(exit::OK)
}

fn events(ctx: &SiteCtx<'_>, limit: usize, only: bool) -> Result<i32, Failure> {
    let cat = ctx.catalog()?;
    let evs = cat
        .events(limit, only)
        .map_err(|e| ctx.catalog_failure(&e))?;
    if ctx.g.json {
        print_json(&json!({"events": evs}));
        return Ok(exit::OK);
    }
    for e in evs.iter().rev() {
        println!(
            "{:>6}  {}  {}  ({})",
            e.seq,
            ctx.when(e.at),
            ctx.pick(&e.event.describe()),
            e.actor
        );
    }
    Ok(exit::OK)
}
