//! `hokan tape restore` (from tape alone) and `hokan tape scan` (the
//! catalog rebuilt from what is on the cartridges).

use std::collections::BTreeMap;
use std::path::Path;

use hokan_catalog::{Catalog, Event, MediaSetRow};
use hokan_offline::{MediumId, SnapshotId};
use hokan_tape::format::{self, SetCatalog};
use serde_json::json;

use super::devices::{Devices, PoolLock};
use super::inventory::reconcile;
use super::job::{self, format_failure, kind_of};
use super::{located, tape_failure, Pool};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::site::{print_json, SiteCtx};

const ACTOR: &str = "hokan tape scan";

/// The complete set of `pool` that holds a snapshot starting with `prefix`
/// (or the set named). A set named with `--set` is taken even when the
/// catalog does not know its snapshots (it was rebuilt by `tape scan`
/// without the repository): the set's own catalog on tape is then checked
/// ([`check_snapshot`]); a set whose snapshots the catalog knows is checked
/// here, before any cartridge is moved.
fn find_set(
    ctx: &SiteCtx<'_>,
    cat: &Catalog,
    pool: &Pool,
    set: Option<&str>,
    prefix: &str,
) -> Result<MediaSetRow, Failure> {
    let l = ctx.lang;
    let sets = cat
        .media_sets(Some(pool.name.as_str()))
        .map_err(|e| ctx.catalog_failure(&e))?;
    let holds = |s: &MediaSetRow| s.snapshots.iter().any(|x| x.as_str().starts_with(prefix));
    if let Some(id) = set {
        let row = sets
            .into_iter()
            .find(|s| s.id == id && s.complete)
            .ok_or_else(|| {
                Failure::new(
                    exit::ERROR,
                    format!(
                        "{} {id} {} {}. {}",
                        t(l, "media set", "メディアセット"),
                        t(l, "of pool", "（プール"),
                        pool.name,
                        t(
                            l,
                            "is not in the catalog as a complete set; if the catalog was lost, put the cartridges in the library and run `hokan tape scan --pool` first",
                            "）は完全なセットとしてカタログにありません。カタログを失った場合は、カートリッジをライブラリに入れて先に `hokan tape scan --pool` を実行してください"
                        )
                    ),
                )
            })?;
        if !row.snapshots.is_empty() && !holds(&row) {
            let names: Vec<&str> = row.snapshots.iter().map(|s| s.as_str()).collect();
            return Err(not_in_set(ctx, &row.id, prefix, &names));
        }
        return Ok(row);
    }
    sets.into_iter()
        .find(|s| s.complete && holds(s))
        .ok_or_else(|| {
            Failure::new(
                exit::ERROR,
                format!(
                    "{} {} {prefix}. {}",
                    t(l, "no complete media set of pool", "プール"),
                    pool.name,
                    t(
                        l,
                        "in the catalog holds snapshot; if the catalog was lost, put the cartridges in the library and run `hokan tape scan --pool` first, then name the set with `--set`",
                        "のメディアセットでこのスナップショットを含む完全なものがカタログにありません。カタログを失った場合は、カートリッジをライブラリに入れて先に `hokan tape scan --pool` を実行し、`--set` でセットを指定してください"
                    )
                ),
            )
        })
}

/// The set's catalog on tape names the snapshots it holds completely: the
/// one asked for must be among them.
fn check_snapshot(ctx: &SiteCtx<'_>, catalog: &SetCatalog, prefix: &str) -> Result<(), Failure> {
    if catalog.snapshots.iter().any(|s| s.starts_with(prefix)) {
        return Ok(());
    }
    let names: Vec<&str> = catalog.snapshots.iter().map(String::as_str).collect();
    Err(not_in_set(ctx, &catalog.set, prefix, &names))
}

fn not_in_set(ctx: &SiteCtx<'_>, set: &str, prefix: &str, holds: &[&str]) -> Failure {
    let l = ctx.lang;
    let short: Vec<&str> = holds.iter().map(|s| &s[..s.len().min(12)]).collect();
    Failure::new(
        exit::ERROR,
        format!(
            "{} {set} {} {prefix} ({}: {})",
            t(l, "media set", "メディアセット"),
            t(l, "holds no snapshot", "にスナップショットがありません:"),
            t(l, "it holds", "含むもの"),
            if short.is_empty() {
                "-".to_owned()
            } else {
                short.join(", ")
            }
        ),
    )
}

/// Bring `medium` into the drive: by the changer, or ask the person.
fn mount(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    medium: &str,
    clock: &super::Clock,
) -> Result<(), Failure> {
    if dev.changer.is_some() {
        return job::load(ctx, dev, cat, medium, clock);
    }
    let l = ctx.lang;
    let inside = match dev.drive.status() {
        Ok(s) if s.loaded => format::read_label(&mut *dev.drive)
            .ok()
            .flatten()
            .map(|lb| lb.medium),
        _ => None,
    };
    if inside.as_deref() == Some(medium) {
        return Ok(());
    }
    Err(Failure::new(
        exit::ERROR,
        format!(
            "{}: {} {medium} {}",
            dev.drive_id,
            t(l, "insert cartridge", "カートリッジ"),
            t(
                l,
                "and run the command again",
                "を挿入して、もう一度実行してください"
            )
        ),
    ))
}

pub fn restore(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    set: Option<&str>,
    snapshot: &str,
    target: &Path,
    keep: Option<&Path>,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let mut cat = ctx.catalog()?;
    let _lock = PoolLock::take(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let row = find_set(ctx, &cat, pool, set, snapshot)?;
    let clock = super::Clock::new(ctx.now);
    let mut dev = Devices::open(pool, l)?;
    let Some(last) = row.cartridges.last() else {
        return Err(Failure::new(
            exit::ERROR,
            format!("{}: no cartridges", row.id),
        ));
    };
    // The last cartridge's last catalog describes the whole set.
    mount(ctx, &mut dev, &mut cat, last.as_str(), &clock)?;
    let catalog = format::last_catalog(&mut *dev.drive)
        .map_err(|e| format_failure(l, &e))?
        .filter(|c| c.set == row.id && c.complete)
        .ok_or_else(|| {
            Failure::new(
                exit::DAMAGE,
                format!(
                    "{last}: {} {}",
                    t(
                        l,
                        "holds no complete catalog of media set",
                        "にメディアセットの完全なカタログがありません:"
                    ),
                    row.id
                ),
            )
        })?;
    check_snapshot(ctx, &catalog, snapshot)?;
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
        let mut waiting = Vec::new();
        for m in row.cartridges.iter().rev() {
            mount(ctx, &mut dev, &mut cat, m.as_str(), &clock)?;
            let r = format::extract_to_dir(&mut *dev.drive, &catalog, &dir)
                .map_err(|e| format_failure(l, &e))?;
            waiting = r.waiting;
        }
        if !waiting.is_empty() {
            return Err(Failure::new(
                exit::DAMAGE,
                format!(
                    "{} {}: {}",
                    t(
                        l,
                        "objects incomplete after reading every cartridge of set",
                        "すべてのカートリッジを読んでも不完全なオブジェクト: セット"
                    ),
                    row.id,
                    waiting.join(", ")
                ),
            ));
        }
        if dev.changer.is_some() {
            if let Some(m) = row.cartridges.first() {
                job::put_away(ctx, &mut dev, &mut cat, m.as_str(), &clock)?;
            }
        }
        crate::commands::restore_from(ctx.g, l, &dir, snapshot, target.to_owned())
    })();
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// What scanning found on one cartridge.
struct Found {
    medium: String,
    label: format::Label,
    catalog: Option<SetCatalog>,
}

pub fn scan(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let l = ctx.lang;
    let clock = super::Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = PoolLock::take(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = Devices::open(pool, l)?;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let barcodes: Vec<String> = if dev.changer.is_some() {
        let st = dev.changer_status(l)?;
        st.drives
            .iter()
            .filter_map(|d| d.loaded.as_ref())
            .chain(
                st.slots
                    .iter()
                    .filter(|s| !s.import_export)
                    .filter_map(|s| s.cartridge.as_ref()),
            )
            .filter_map(|c| c.barcode.clone())
            .collect()
    } else {
        vec![String::new()]
    };
    for b in &barcodes {
        if dev.changer.is_some() {
            job::load(ctx, &mut dev, &mut cat, b, &clock)?;
        }
        let label = format::read_label(&mut *dev.drive).map_err(|e| format_failure(l, &e));
        match label {
            Ok(Some(label)) if label.pool == pool.name.as_str() => {
                let catalog =
                    format::last_catalog(&mut *dev.drive).map_err(|e| format_failure(l, &e))?;
                found.push(Found {
                    medium: label.medium.clone(),
                    label,
                    catalog,
                });
            }
            Ok(Some(label)) => skipped.push(format!("{b}: pool {}", label.pool)),
            Ok(None) => skipped.push(format!("{b}: {}", t(l, "blank", "空"))),
            Err(f) => skipped.push(format!("{b}: {}", f.message)),
        }
        if dev.changer.is_some() {
            job::put_away(ctx, &mut dev, &mut cat, b, &clock)?;
        }
    }
    if dev.changer.is_none() && found.is_empty() {
        let st = dev.drive.status().map_err(|e| tape_failure(l, &e))?;
        if !st.loaded {
            return Err(tape_failure(
                l,
                &hokan_tape::TapeError::NotLoaded {
                    device: dev.drive_id.clone(),
                },
            ));
        }
    }

    // The anchors in the set catalogs: a catalog that lacks one was rolled
    // back, and is not rebuilt into (exit 12).
    let mut anchors = Vec::new();
    let mut rolled_back = Vec::new();
    for f in &found {
        let Some(c) = &f.catalog else { continue };
        anchors.push(super::anchor::to_json(&cat, &f.medium, c));
        if let Some(r) = super::anchor::check(ctx, &cat, &f.medium, c)? {
            rolled_back.push(r);
        }
    }
    if !rolled_back.is_empty() {
        if ctx.g.json {
            print_json(&json!({
                "pool": pool.name, "cartridges": found.iter().map(|f| &f.medium).collect::<Vec<_>>(),
                "anchors": anchors,
                "rolled_back": rolled_back.iter().map(|r| json!({
                    "medium": r.medium, "anchor": r.anchor, "catalog_head": r.head,
                })).collect::<Vec<_>>(),
            }));
        }
        return Err(super::anchor::refusal(ctx, &rolled_back));
    }

    // Rebuild: media, sets (cartridges in order), closed sets and copies.
    let known_snaps: Vec<String> = cat
        .snapshots()
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let mut events = Vec::new();
    let mut added = Vec::new();
    for f in &found {
        let id = MediumId::new(f.medium.as_str());
        if cat.medium(&id).is_err() {
            events.push(Event::MediumAdded {
                medium: id,
                kind: kind_of(pool),
                pool: Some(pool.name.clone()),
                label: Some(f.medium.clone()),
                capacity: None,
                note: Some("found by `hokan tape scan`".into()),
            });
            added.push(f.medium.clone());
        }
    }
    let mut sets: BTreeMap<String, Vec<&Found>> = BTreeMap::new();
    for f in found.iter().filter(|f| !f.label.set.is_empty()) {
        sets.entry(f.label.set.clone()).or_default().push(f);
    }
    let mut unknown_snapshots = Vec::new();
    let mut rebuilt = Vec::new();
    for (set, mut carts) in sets {
        carts.sort_by_key(|f| f.label.seq);
        let existing = cat.media_set(&set).ok();
        if existing.is_none() {
            events.push(Event::MediaSetStarted {
                set: set.clone(),
                pool: pool.name.clone(),
                at: carts[0].label.set_started,
            });
        }
        for f in &carts {
            let id = MediumId::new(f.medium.as_str());
            if !existing
                .as_ref()
                .is_some_and(|s| s.cartridges.contains(&id))
            {
                events.push(Event::CartridgeLabeled {
                    medium: id,
                    set: set.clone(),
                    seq: f.label.seq,
                    at: f.label.created,
                });
            }
        }
        let last = carts.last().expect("one cartridge");
        let Some(c) = last.catalog.as_ref().filter(|c| c.complete) else {
            continue;
        };
        let whole = c.cartridges.len() == carts.len();
        if !whole || existing.as_ref().is_some_and(|s| s.closed_at.is_some()) {
            continue;
        }
        let snaps: Vec<SnapshotId> = c
            .snapshots
            .iter()
            .filter(|s| {
                let k = known_snaps.contains(s);
                if !k {
                    unknown_snapshots.push((*s).clone());
                }
                k
            })
            .map(|s| SnapshotId::new(s.as_str()))
            .collect();
        let media: Vec<MediumId> = carts
            .iter()
            .map(|f| MediumId::new(f.medium.as_str()))
            .collect();
        for s in &snaps {
            for m in &media {
                events.push(Event::CopyRecorded {
                    snapshot: s.clone(),
                    medium: m.clone(),
                    since: c.written,
                    complete: true,
                    with: media.iter().filter(|x| *x != m).cloned().collect(),
                });
            }
        }
        events.push(Event::MediaSetClosed {
            set: set.clone(),
            at: c.written,
            complete: true,
            snapshots: snaps,
            retained_until: c.written + pool.retention,
        });
        rebuilt.push(set);
    }
    cat.record_all(clock.at(), ACTOR, events)
        .map_err(|e| ctx.catalog_failure(&e))?;
    // Where the cartridges are: the moves of this scan were not recorded
    // for cartridges the catalog did not know yet.
    let media = cat.media().map_err(|e| ctx.catalog_failure(&e))?;
    let moves = if dev.changer.is_some() {
        let status = dev.changer_status(l)?;
        reconcile(&dev.library, &status, &media, clock.at()).events
    } else {
        let here = dev.in_drive();
        found
            .iter()
            .filter(|f| {
                !media.iter().any(|m| {
                    m.id.as_str() == f.medium
                        && m.location.as_ref().map(|o| &o.location) == Some(&here)
                })
            })
            .map(|f| located(&f.medium, clock.at(), here.clone(), &dev.drive_id))
            .collect()
    };
    cat.record_all(clock.at(), ACTOR, moves)
        .map_err(|e| ctx.catalog_failure(&e))?;
    if ctx.g.json {
        print_json(&json!({
            "pool": pool.name, "cartridges": found.iter().map(|f| &f.medium).collect::<Vec<_>>(),
            "added": added, "sets": rebuilt, "skipped": skipped,
            "snapshots_not_in_catalog": unknown_snapshots,
            "anchors": anchors,
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} {}, {} {}",
            t(l, "scanned", "読み取りました:"),
            found.len(),
            t(l, "cartridge(s)", "本のカートリッジ"),
            rebuilt.len(),
            t(l, "media set(s) recorded", "個のメディアセットを記録")
        );
        for s in &skipped {
            println!("  {} {s}", t(l, "skipped", "対象外"));
        }
        for a in &anchors {
            if let Some(seq) = a["seq"].as_u64() {
                println!(
                    "  {} {} {}: {} {seq} ({})",
                    a["medium"].as_str().unwrap_or(""),
                    t(l, "set", "セット"),
                    a["set"].as_str().unwrap_or(""),
                    t(l, "catalog anchor: event", "カタログアンカー: イベント"),
                    match a["in_catalog"].as_bool() {
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
        for s in &unknown_snapshots {
            println!(
                "  {} {s}: {}",
                t(l, "snapshot", "スナップショット"),
                t(
                    l,
                    "is on tape but not in the catalog: run `hokan catalog sync` with its repository, or restore it with `hokan tape restore --set`",
                    "はテープにありますがカタログにありません。リポジトリで `hokan catalog sync` を実行するか、`hokan tape restore --set` で復元してください"
                )
            );
        }
    }
    Ok(exit::OK)
}
