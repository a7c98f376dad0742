//! `hokan tape restore` (from tape alone) and `hokan tape scan` (the
//! catalog rebuilt from what is on the cartridges).

use std::collections::BTreeMap;
use std::path::Path;

use hokan_catalog::{Catalog, Event, MediaSetRow};
use hokan_offline::{MediumId, SnapshotId};
use hokan_tape::format::{self, SetCatalog};
use serde_json::json;

use super::devices::{Devices, DevicesExt};
use super::inventory::reconcile;
use super::job::{self, format_failure, kind_of};
use super::{located, tape_failure, Pool};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;

const ACTOR: &str = "hokan tape scan";

/// The snapshot asked for: `latest`, or an id (full or a unique prefix).
fn is_latest(snapshot: &str) -> bool {
    snapshot == "latest"
}

/// A short form of a snapshot id for messages.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// One set in words for messages: its id, its cartridges (barcodes) and the
/// generations (snapshots) it holds, e.g. `weekday-… on HKN001L9, HKN002L9
/// (snapshots 1a2b3c4d5e6f)`.
fn set_words(l: crate::i18n::Lang, s: &MediaSetRow) -> String {
    let carts: Vec<&str> = s.cartridges.iter().map(|m| m.as_str()).collect();
    let snaps: Vec<&str> = s.snapshots.iter().map(|x| short(x.as_str())).collect();
    let carts = if carts.is_empty() {
        "-".to_owned()
    } else {
        carts.join(", ")
    };
    let snaps = if snaps.is_empty() {
        t(l, "not recorded", "記録なし").to_owned()
    } else {
        snaps.join(", ")
    };
    match l {
        crate::i18n::Lang::En => format!("{} on {carts} (snapshots {snaps})", s.id),
        crate::i18n::Lang::Ja => {
            format!("{}（カートリッジ {carts}、スナップショット {snaps}）", s.id)
        }
    }
}

/// What the catalog knows of the pool's complete sets, as a sentence, and
/// what to do when the catalog was lost: for every message that finds no
/// set to restore from.
fn known_sets(ctx: &SiteCtx<'_>, pool: &Pool, sets: &[MediaSetRow]) -> String {
    let l = ctx.lang;
    let p = pool.name.as_str();
    let complete: Vec<String> = sets
        .iter()
        .filter(|s| s.complete)
        .take(8)
        .map(|s| set_words(l, s))
        .collect();
    let known = if complete.is_empty() {
        match l {
            crate::i18n::Lang::En => {
                format!("The catalog knows no complete media set of pool {p}.")
            }
            crate::i18n::Lang::Ja => {
                format!("カタログにはプール {p} の完全なメディアセットがありません。")
            }
        }
    } else {
        match l {
            crate::i18n::Lang::En => format!(
                "The catalog's complete sets of pool {p}, newest first: {}.",
                complete.join("; ")
            ),
            crate::i18n::Lang::Ja => format!(
                "カタログにあるプール {p} の完全なメディアセット（新しい順）: {}。",
                complete.join("、")
            ),
        }
    };
    match l {
        crate::i18n::Lang::En => format!(
            "{known} If the catalog was lost or is older than the tapes, put the pool's cartridges into the library (a single drive: insert each in turn) and run `hokan tape scan --pool {p}`, then run this command again."
        ),
        crate::i18n::Lang::Ja => format!(
            "{known}カタログを失った場合やテープより古い場合は、プールのカートリッジをライブラリに入れ（単体ドライブでは 1 本ずつ挿入し）、`hokan tape scan --pool {p}` を実行してから、もう一度このコマンドを実行してください。"
        ),
    }
}

/// The complete set of `pool` to restore from, and the snapshot to
/// restore from it (`latest` resolved to an id when the catalog knows the
/// generations' times).
///
/// - `latest`: the set holding the newest generation the catalog knows
///   (by the time it was taken); when the catalog knows none of the sets'
///   generations (it was rebuilt by `tape scan` without the repository),
///   the set written last, and its newest generation.
/// - an id or unique prefix: the newest complete set holding it.
/// - `--set`: that set, which must hold the snapshot when the catalog says
///   what it holds (otherwise the set's catalog on tape is checked,
///   [`check_snapshot`]).
///
/// Checked here, before any cartridge is moved.
fn find_set(
    ctx: &SiteCtx<'_>,
    cat: &Catalog,
    pool: &Pool,
    set: Option<&str>,
    snapshot: &str,
) -> Result<(MediaSetRow, String), Failure> {
    let l = ctx.lang;
    let p = pool.name.as_str();
    let sets = cat
        .media_sets(Some(p))
        .map_err(|e| ctx.catalog_failure(&e))?;
    let holds = |s: &MediaSetRow| s.snapshots.iter().any(|x| x.as_str().starts_with(snapshot));
    let mut candidates: Vec<&MediaSetRow> = sets.iter().filter(|s| s.complete).collect();
    if let Some(id) = set {
        candidates.retain(|s| s.id == id);
        if candidates.is_empty() {
            let rest = known_sets(ctx, pool, &sets);
            return Err(Failure::new(
                exit::ERROR,
                match l {
                    crate::i18n::Lang::En => format!(
                        "Media set {id} of pool {p} is not in the catalog as a complete set. {rest}"
                    ),
                    crate::i18n::Lang::Ja => format!(
                        "プール {p} のメディアセット {id} は完全なセットとしてカタログにありません。{rest}"
                    ),
                },
            ));
        }
    }
    if is_latest(snapshot) {
        let times: BTreeMap<String, time::OffsetDateTime> = cat
            .snapshots()
            .map_err(|e| ctx.catalog_failure(&e))?
            .into_iter()
            .map(|s| (s.id.to_string(), s.taken_at))
            .collect();
        // The newest generation whose time the catalog knows, on any set.
        let newest = candidates
            .iter()
            .flat_map(|s| {
                s.snapshots
                    .iter()
                    .filter_map(|x| times.get(x.as_str()).map(|t| (*t, x.to_string(), *s)))
            })
            .max_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        if let Some((_, id, s)) = newest {
            return Ok(((*s).clone(), id));
        }
        // Times unknown: the set written last; the restored repository
        // resolves `latest` among its generations.
        return match candidates
            .iter()
            .max_by_key(|s| (s.closed_at, s.started_at))
        {
            Some(s) => Ok(((*s).clone(), snapshot.to_owned())),
            None => Err(Failure::new(
                exit::ERROR,
                match l {
                    crate::i18n::Lang::En => format!(
                        "There is no latest generation to restore from pool {p}: no complete media set of it is in the catalog. {}",
                        known_sets(ctx, pool, &sets)
                    ),
                    crate::i18n::Lang::Ja => format!(
                        "プール {p} から復元する最新の世代がありません。このプールの完全なメディアセットがカタログにありません。{}",
                        known_sets(ctx, pool, &sets)
                    ),
                },
            )),
        };
    }
    if let (Some(_), [row]) = (set, candidates.as_slice()) {
        if !row.snapshots.is_empty() && !holds(row) {
            let names: Vec<&str> = row.snapshots.iter().map(|s| s.as_str()).collect();
            return Err(not_in_set(ctx, pool, &row.id, snapshot, &names));
        }
        return Ok(((*row).clone(), snapshot.to_owned()));
    }
    match candidates.into_iter().find(|s| holds(s)) {
        Some(s) => Ok((s.clone(), snapshot.to_owned())),
        None => Err(Failure::new(
            exit::ERROR,
            match l {
                crate::i18n::Lang::En => format!(
                    "No complete media set of pool {p} in the catalog holds snapshot {snapshot}. {}",
                    known_sets(ctx, pool, &sets)
                ),
                crate::i18n::Lang::Ja => format!(
                    "スナップショット {snapshot} を含むプール {p} の完全なメディアセットがカタログにありません。{}",
                    known_sets(ctx, pool, &sets)
                ),
            },
        )),
    }
}

/// The set's catalog on tape names the snapshots it holds completely: the
/// one asked for must be among them (`latest` is the newest of them).
fn check_snapshot(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    catalog: &SetCatalog,
    snapshot: &str,
) -> Result<(), Failure> {
    if catalog.snapshots.iter().any(|s| s.starts_with(snapshot))
        || (is_latest(snapshot) && !catalog.snapshots.is_empty())
    {
        return Ok(());
    }
    let names: Vec<&str> = catalog.snapshots.iter().map(String::as_str).collect();
    Err(not_in_set(ctx, pool, &catalog.set, snapshot, &names))
}

fn not_in_set(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    set: &str,
    snapshot: &str,
    holds: &[&str],
) -> Failure {
    let l = ctx.lang;
    let p = pool.name.as_str();
    let list = if holds.is_empty() {
        t(l, "none", "なし").to_owned()
    } else {
        holds
            .iter()
            .map(|s| short(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Failure::new(
        exit::ERROR,
        match l {
            crate::i18n::Lang::En => format!(
                "Media set {set} of pool {p} holds no snapshot {snapshot}; it holds: {list}. Name one of these, or leave out --set to restore from the newest set that holds {snapshot}."
            ),
            crate::i18n::Lang::Ja => format!(
                "プール {p} のメディアセット {set} にはスナップショット {snapshot} がありません。含まれるもの: {list}。このいずれかを指定するか、--set を外して {snapshot} を含む最新のセットから復元してください。"
            ),
        },
    )
}

/// A cartridge of the set in words, for a person to find it: its barcode,
/// the set, its place in the set and the generation being restored.
fn cartridge_words(
    l: crate::i18n::Lang,
    row: &MediaSetRow,
    medium: &str,
    snapshot: &str,
) -> String {
    let n = row.cartridges.len();
    let seq = row
        .cartridges
        .iter()
        .position(|m| m.as_str() == medium)
        .map_or(0, |i| i + 1);
    let snap = if is_latest(snapshot) {
        t(l, "the newest on it", "その中の最新").to_owned()
    } else {
        short(snapshot).to_owned()
    };
    match l {
        crate::i18n::Lang::En => {
            format!(
                "{medium} (media set {}, cartridge {seq} of {n}, snapshot {snap})",
                row.id
            )
        }
        crate::i18n::Lang::Ja => {
            format!(
                "{medium}（メディアセット {} の {seq}/{n} 本目、スナップショット {snap}）",
                row.id
            )
        }
    }
}

/// Every cartridge of the set must be in the library before the restore
/// starts: name all that are not, at once (exit 13).
fn all_in_library(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    row: &MediaSetRow,
    snapshot: &str,
) -> Result<(), Failure> {
    let l = ctx.lang;
    let status = dev.status_in(l)?;
    let away: Vec<String> = row
        .cartridges
        .iter()
        .filter(|m| status.find(m.as_str()).is_none())
        .map(|m| cartridge_words(l, row, m.as_str(), snapshot))
        .collect();
    if away.is_empty() {
        return Ok(());
    }
    let lib = &dev.library;
    Err(Failure::new(
        exit::INSERT_CARTRIDGE,
        match l {
            crate::i18n::Lang::En => format!(
                "Library {lib} lacks {} cartridge(s) of the set: {}. Put them in through the mail slot, run `hokan tape inventory --pool {}`, then run this command again.",
                away.len(),
                away.join("; "),
                row.pool
            ),
            crate::i18n::Lang::Ja => format!(
                "ライブラリ {lib} にこのセットのカートリッジが {} 本ありません: {}。メールスロットから入れて `hokan tape inventory --pool {}` を実行し、もう一度このコマンドを実行してください。",
                away.len(),
                away.join("、"),
                row.pool
            ),
        },
    ))
}

/// Bring `medium` into the drive: by the changer, or ask the person to
/// insert it (exit 13, naming the cartridge and the generation it holds).
fn mount(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    row: &MediaSetRow,
    medium: &str,
    snapshot: &str,
    clock: &hokan_jobs::Clock,
) -> Result<(), Failure> {
    if dev.changer.is_some() {
        return job::load(ctx, dev, cat, medium, clock);
    }
    let l = ctx.lang;
    let loaded = matches!(dev.drive.status(), Ok(s) if s.loaded);
    let inside = if loaded {
        format::read_label(&mut *dev.drive)
            .ok()
            .flatten()
            .map(|lb| lb.medium)
    } else {
        None
    };
    if inside.as_deref() == Some(medium) {
        return Ok(());
    }
    let drive = &dev.drive_id;
    let what = cartridge_words(l, row, medium, snapshot);
    let now_in = match (loaded, inside) {
        (false, _) => match l {
            crate::i18n::Lang::En => format!("Drive {drive} holds no cartridge."),
            crate::i18n::Lang::Ja => format!("ドライブ {drive} にカートリッジがありません。"),
        },
        (true, Some(other)) => match l {
            crate::i18n::Lang::En => {
                format!("Drive {drive} holds {other}, not the cartridge needed.")
            }
            crate::i18n::Lang::Ja => {
                format!("ドライブ {drive} には {other} が入っており、必要なカートリッジではありません。")
            }
        },
        (true, None) => match l {
            crate::i18n::Lang::En => format!(
                "Drive {drive} holds a cartridge without a hokan label, not the cartridge needed."
            ),
            crate::i18n::Lang::Ja => format!(
                "ドライブ {drive} には hokan のラベルのないカートリッジが入っており、必要なカートリッジではありません。"
            ),
        },
    };
    Err(Failure::new(
        exit::INSERT_CARTRIDGE,
        match l {
            crate::i18n::Lang::En => format!("{now_in} Insert {what} and run the command again."),
            crate::i18n::Lang::Ja => {
                format!("{now_in}{what} を挿入して、もう一度実行してください。")
            }
        },
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
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let (row, snapshot) = find_set(ctx, &cat, pool, set, snapshot)?;
    let snapshot = snapshot.as_str();
    let clock = hokan_jobs::Clock::new(ctx.now);
    let mut dev = Devices::open(pool, l)?;
    let Some(last) = row.cartridges.last() else {
        return Err(Failure::new(
            exit::ERROR,
            match l {
                crate::i18n::Lang::En => format!(
                    "Media set {} has no cartridges in the catalog. {}",
                    row.id,
                    known_sets(ctx, pool, &[])
                ),
                crate::i18n::Lang::Ja => format!(
                    "メディアセット {} のカートリッジがカタログにありません。{}",
                    row.id,
                    known_sets(ctx, pool, &[])
                ),
            },
        ));
    };
    if dev.changer.is_some() {
        all_in_library(ctx, &mut dev, &row, snapshot)?;
    }
    // The last cartridge's last catalog describes the whole set.
    mount(
        ctx,
        &mut dev,
        &mut cat,
        &row,
        last.as_str(),
        snapshot,
        &clock,
    )?;
    let catalog = format::last_catalog(&mut *dev.drive)
        .map_err(|e| format_failure(l, &e))?
        .filter(|c| c.set == row.id && c.complete)
        .ok_or_else(|| {
            Failure::new(
                exit::DAMAGE,
                match l {
                    crate::i18n::Lang::En => format!(
                        "Cartridge {last} holds no complete catalog of media set {}: it may be damaged or rewritten. Restore from another set (`hokan tape status --pool {}` lists them).",
                        row.id, pool.name
                    ),
                    crate::i18n::Lang::Ja => format!(
                        "カートリッジ {last} にメディアセット {} の完全なカタログがありません。損傷または上書きされた可能性があります。別のセットから復元してください（`hokan tape status --pool {}` で一覧できます）。",
                        row.id, pool.name
                    ),
                },
            )
        })?;
    check_snapshot(ctx, pool, &catalog, snapshot)?;
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
            mount(ctx, &mut dev, &mut cat, &row, m.as_str(), snapshot, &clock)?;
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
        crate::ctx::restore::restore_from(ctx.g, l, &dir, snapshot, target.to_owned())
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
    let clock = hokan_jobs::Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = Devices::open(pool, l)?;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let barcodes: Vec<String> = if dev.changer.is_some() {
        let st = dev.status_in(l)?;
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
        // The set records every generation its catalog on tape names, known
        // to the catalog or not, so `tape restore` finds it by id or as
        // `latest` after the catalog was lost; copies (what the evaluator
        // counts) only of the generations the catalog knows.
        events.push(Event::MediaSetClosed {
            set: set.clone(),
            at: c.written,
            complete: true,
            snapshots: c
                .snapshots
                .iter()
                .map(|s| SnapshotId::new(s.as_str()))
                .collect(),
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
        let status = dev.status_in(l)?;
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
            match l {
                crate::i18n::Lang::En => println!(
                    "  Snapshot {s} is on tape but not in the catalog: restore it with `hokan tape restore --pool {p} {} --target DIR`, or run `hokan catalog sync` with its repository.",
                    short(s),
                    p = pool.name
                ),
                crate::i18n::Lang::Ja => println!(
                    "  スナップショット {s} はテープにありますがカタログにありません。`hokan tape restore --pool {p} {} --target DIR` で復元するか、リポジトリで `hokan catalog sync` を実行してください。",
                    short(s),
                    p = pool.name
                ),
            }
        }
    }
    Ok(exit::OK)
}
