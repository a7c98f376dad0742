//! `hokan catalog verify|sync|events|export`.

use std::collections::BTreeSet;

use hokan_catalog::{Catalog, Event, Head};
use hokan_offline::{MediumId, MediumKind, SnapshotId};
use hokan_repo::Repository;
use serde::Serialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::args::CatalogCmd;
use super::{print_json, SiteConf, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;

/// The medium id under which the primary repository's copies are recorded.
pub const PRIMARY: &str = "primary";

pub fn run(ctx: &SiteCtx<'_>, cmd: CatalogCmd) -> Result<i32, Failure> {
    match cmd {
        CatalogCmd::Verify { expect } => verify(ctx, expect.as_deref()),
        CatalogCmd::Sync => {
            let path = ctx.conf.repository.clone().ok_or_else(|| {
                Failure::new(
                    exit::USAGE,
                    t(
                        ctx.lang,
                        "no repository: pass --repo or configure [repository] path",
                        "リポジトリの指定がありません: --repo か [repository] path を設定してください",
                    ),
                )
            })?;
            let repo = crate::commands::open_repository(ctx.g, ctx.lang, &path, &ctx.conf)?;
            let mut cat = ctx.catalog()?;
            let stats = sync(&repo, &mut cat, &ctx.conf, ctx.now).map_err(|e| match e {
                SyncError::Repo(e) => crate::exit::from_repo(ctx.lang, &e),
                SyncError::Catalog(e) => ctx.catalog_failure(&e),
            })?;
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

/// What a sync did.
#[derive(Debug, Default, Serialize)]
pub struct SyncStats {
    /// Snapshots newly recorded.
    pub recorded: usize,
    /// Snapshots recorded as forgotten.
    pub forgotten: usize,
    /// Sources newly declared.
    pub sources: usize,
}

/// Why a sync failed.
pub enum SyncError {
    /// Reading the repository.
    Repo(hokan_repo::RepoError),
    /// Writing the catalog.
    Catalog(hokan_catalog::CatalogError),
}

/// Mirror the primary repository's snapshots into the catalog, with a copy
/// on the `primary` medium each, and declare the configured sources. One
/// catalog transaction: all or nothing.
pub fn sync(
    repo: &Repository,
    cat: &mut Catalog,
    conf: &SiteConf,
    now: OffsetDateTime,
) -> Result<SyncStats, SyncError> {
    let (snaps, _damaged) = repo.snapshots().map_err(SyncError::Repo)?;
    let known = cat.snapshots().map_err(SyncError::Catalog)?;
    let known_ids: BTreeSet<&str> = known.iter().map(|s| s.id.as_str()).collect();
    let live: BTreeSet<String> = snaps.iter().map(|(id, _)| id.to_hex()).collect();
    let mut events = Vec::new();
    let mut stats = SyncStats::default();
    let primary = MediumId::new(PRIMARY);
    if cat.medium(&primary).is_err() {
        events.push(Event::MediumAdded {
            medium: primary.clone(),
            kind: MediumKind::PrimaryDisk,
            pool: None,
            label: conf.repository.as_ref().map(|p| p.display().to_string()),
            capacity: None,
            note: None,
        });
    }
    let declared: BTreeSet<String> = cat
        .facts()
        .map_err(SyncError::Catalog)?
        .sources
        .into_iter()
        .map(|s| s.to_string())
        .collect();
    for s in &conf.sources {
        if !declared.contains(s) {
            stats.sources += 1;
            events.push(Event::SourceDeclared {
                source: s.as_str().into(),
            });
        }
    }
    for (id, s) in &snaps {
        let hex = id.to_hex();
        if known_ids.contains(hex.as_str()) {
            continue;
        }
        let taken_at = OffsetDateTime::parse(&s.time, &Rfc3339).unwrap_or(now);
        let snapshot = SnapshotId::new(&hex);
        events.push(Event::SnapshotRecorded {
            snapshot: snapshot.clone(),
            source: s.source.as_str().into(),
            taken_at,
            hostname: s.hostname.clone(),
            paths: s.paths.clone(),
            bytes: s.summary.bytes_total,
            files: s.summary.files_new + s.summary.files_changed + s.summary.files_unchanged,
            partial: s.partial,
        });
        events.push(Event::CopyRecorded {
            snapshot,
            medium: primary.clone(),
            since: taken_at,
            complete: true,
            with: vec![],
        });
        stats.recorded += 1;
    }
    let on_primary: BTreeSet<String> = cat
        .copies()
        .map_err(SyncError::Catalog)?
        .into_iter()
        .filter(|c| c.medium == primary)
        .map(|c| c.snapshot.to_string())
        .collect();
    for s in &known {
        if s.forgotten_at.is_none() && !live.contains(s.id.as_str()) {
            events.push(Event::SnapshotForgotten {
                snapshot: s.id.clone(),
            });
            stats.forgotten += 1;
        }
        if !live.contains(s.id.as_str()) && on_primary.contains(s.id.as_str()) {
            events.push(Event::CopyRemoved {
                snapshot: s.id.clone(),
                medium: primary.clone(),
                reason: Some("forgotten in the primary repository".into()),
            });
        }
    }
    cat.record_all(now, "catalog sync", events)
        .map_err(SyncError::Catalog)?;
    Ok(stats)
}
