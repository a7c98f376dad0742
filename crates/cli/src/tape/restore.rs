//! `hokan tape restore` (from tape alone) and `hokan tape scan` (the
//! catalog rebuilt from what is on the cartridges). The logic is
//! [`hokan_jobs::tape::restore`] and [`hokan_jobs::tape::scan`]; here the
//! staging folder, the restore as `hokan restore` reports it, and the
//! output.

use std::path::Path;

use hokan_jobs::tape::restore as from_tape;
use hokan_jobs::tape::scan::{self, SkipReason};
use hokan_jobs::Clock;
use serde_json::json;

use super::devices::{Devices, DevicesExt};
use super::failure::{format_failure, job_failure, rolled_back, short};
use super::job::{pool_ref, ACTOR as MOVES};
use super::Pool;
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::job_error::lock_pool;

const ACTOR: &str = "hokan tape scan";

pub fn restore(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    set: Option<&str>,
    snapshot: &str,
    target: &Path,
    keep: Option<&Path>,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let p = pool.name.as_str();
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), p, l)?;
    let fail = |e: hokan_jobs::JobError| job_failure(ctx, &e);
    let (row, snapshot) = from_tape::find_set(&cat, p, set, snapshot).map_err(fail)?;
    let snapshot = snapshot.as_str();
    let clock = Clock::new(ctx.now);
    let mut dev = Devices::open(pool, l)?;
    // The cartridges are moved as `tape backup` moves them.
    let catalog =
        from_tape::open_set(&mut dev, &mut cat, &clock, MOVES, p, &row, snapshot).map_err(fail)?;
    let (dir, temporary) = match keep {
        Some(k) => (k.to_owned(), false),
        None => {
            let parent = target
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (
                parent.join(format!(".hokan-tape-restore-{}", std::process::id())),
                true,
            )
        }
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::new(exit::ERROR, format!("{}: {e}", dir.display())))?;
    let result = (|| {
        from_tape::read_set(
            &mut dev, &mut cat, &clock, MOVES, &row, &catalog, snapshot, &dir,
        )
        .map_err(fail)?;
        crate::ctx::restore::restore_from(ctx.g, l, &dir, snapshot, target.to_owned())
    })();
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

pub fn scan(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let l = ctx.lang;
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = Devices::open(pool, l)?;
    let fail = |e: hokan_jobs::JobError| job_failure(ctx, &e);
    let scanned = scan::read_cartridges(&mut dev, &mut cat, &clock, MOVES, pool.name.as_str())
        .map_err(fail)?;
    let cartridges: Vec<&String> = scanned.found.iter().map(|f| &f.medium).collect();
    let anchors: Vec<serde_json::Value> =
        scanned.anchors.iter().map(super::anchor::to_json).collect();
    // A set catalog whose anchor the catalog lacks: the catalog was rolled
    // back, and is not rebuilt into (exit 12).
    if !scanned.rolled_back.is_empty() {
        if ctx.g.json {
            print_json(&json!({
                "pool": pool.name, "cartridges": cartridges,
                "anchors": anchors,
                "rolled_back": scanned.rolled_back.iter().map(|r| json!({
                    "medium": r.medium, "anchor": r.anchor, "catalog_head": r.head,
                })).collect::<Vec<_>>(),
            }));
        }
        return Err(rolled_back(ctx, &scanned.rolled_back));
    }
    let rebuilt =
        scan::rebuild(&mut dev, &mut cat, &clock, ACTOR, pool_ref(pool), &scanned).map_err(fail)?;
    let skipped: Vec<String> = scanned
        .skipped
        .iter()
        .map(|s| {
            let b = &s.barcode;
            match &s.why {
                SkipReason::OtherPool(p) => format!("{b}: pool {p}"),
                SkipReason::Blank => format!("{b}: {}", t(l, "blank", "空")),
                SkipReason::Unreadable(e) => format!("{b}: {}", format_failure(l, e).message),
                other => format!("{b}: {other:?}"),
            }
        })
        .collect();
    if ctx.g.json {
        print_json(&json!({
            "pool": pool.name, "cartridges": cartridges,
            "added": rebuilt.added, "sets": rebuilt.sets, "skipped": skipped,
            "snapshots_not_in_catalog": rebuilt.unknown_snapshots,
            "anchors": anchors,
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} {}, {} {}",
            t(l, "scanned", "読み取りました:"),
            scanned.found.len(),
            t(l, "cartridge(s)", "本のカートリッジ"),
            rebuilt.sets.len(),
            t(l, "media set(s) recorded", "個のメディアセットを記録")
        );
        for s in &skipped {
            println!("  {} {s}", t(l, "skipped", "対象外"));
        }
        for a in &scanned.anchors {
            if let Some(Ok(anchor)) = &a.anchor {
                println!(
                    "  {} {} {}: {} {} ({})",
                    a.medium,
                    t(l, "set", "セット"),
                    a.set,
                    t(l, "catalog anchor: event", "カタログアンカー: イベント"),
                    anchor.seq,
                    match a.in_catalog {
                        Some(true) => t(l, "in the catalog", "カタログと一致"),
                        Some(false) => t(l, "NOT in the catalog", "カタログにありません"),
                        None => t(
                            l,
                            "not judged: the catalog is new",
                            "未判定: 新しいカタログ"
                        ),
                    }
                );
            }
        }
        for s in &rebuilt.unknown_snapshots {
            match l {
                Lang::En => println!(
                    "  Snapshot {s} is on tape but not in the catalog: restore it with `hokan tape restore --pool {p} {} --target DIR`, or run `hokan catalog sync` with its repository.",
                    short(s),
                    p = pool.name
                ),
                Lang::Ja => println!(
                    "  スナップショット {s} はテープにありますがカタログにありません。`hokan tape restore --pool {p} {} --target DIR` で復元するか、リポジトリで `hokan catalog sync` を実行してください。",
                    short(s),
                    p = pool.name
                ),
            }
        }
    }
    Ok(exit::OK)
}
