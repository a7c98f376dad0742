//! `hokan tape label|inventory|status|move`.

use hokan_catalog::{Event, Retained};
use hokan_offline::{MediumId, ObservedBy};
use hokan_site::TapeMode;
use hokan_tape::format::{self, Label};
use serde_json::json;

use super::devices::{Devices, DevicesExt};
use super::inventory::{device_last, reconcile_drive, reconcile_with};
use super::job::{self, format_failure, kind_of, retained_failure, ACTOR};
use super::{located, tape_failure, Pool};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;

/// `tape label`: erase a cartridge and write this pool's label on it.
pub fn label(ctx: &SiteCtx<'_>, pool: &Pool, medium: &str) -> Result<i32, Failure> {
    let l = ctx.lang;
    let clock = hokan_jobs::Clock::new(ctx.now);
    let medium = medium.trim();
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = Devices::open(pool, l)?;
    let id = MediumId::new(medium);
    let known = cat.medium(&id).ok();
    if let Some(m) = &known {
        if m.pool.as_ref() != Some(&pool.name) {
            return Err(Failure::new(
                exit::ERROR,
                format!(
                    "{medium}: {} {}",
                    t(l, "belongs to another pool:", "は別のプールの媒体です:"),
                    m.pool.as_ref().map(|p| p.as_str()).unwrap_or("-")
                ),
            ));
        }
        check_free(ctx, &cat, medium)?;
    }
    let single = pool.conf.mode == TapeMode::SingleDrive;
    if !single {
        let status = dev.status_in(l)?;
        match status.find(medium) {
            None => {
                return Err(Failure::new(
                    exit::ERROR,
                    format!(
                        "{medium}: {}",
                        t(
                            l,
                            "is not in the library: put it in (through the mail slot) and run `hokan tape inventory`",
                            "はライブラリにありません。メールスロットから入れて `hokan tape inventory` を実行してください"
                        )
                    ),
                ))
            }
            Some(Err(slot)) if status.slots.iter().any(|s| s.number == slot && s.import_export) => {
                let to = status.free_storage().ok_or_else(|| {
                    Failure::new(exit::ERROR, t(l, "no free storage slot", "空きスロットがありません"))
                })?;
                let changer = dev.changer.as_mut().expect("a library");
                changer.transfer(slot, to).map_err(|e| tape_failure(l, &e))?;
            }
            _ => {}
        }
        job::load(ctx, &mut dev, &mut cat, medium, &clock)?;
    }
    let st = dev.drive.status().map_err(|e| tape_failure(l, &e))?;
    let result = (|| {
        if !st.loaded {
            return Err(tape_failure(
                l,
                &hokan_tape::TapeError::NotLoaded {
                    device: dev.drive_id.clone(),
                },
            ));
        }
        if st.write_protected {
            return Err(tape_failure(
                l,
                &hokan_tape::TapeError::WriteProtected {
                    device: dev.drive_id.clone(),
                    cartridge: medium.to_owned(),
                },
            ));
        }
        // What is on it now: another hokan cartridge may still be retained.
        match format::read_label(&mut *dev.drive) {
            Ok(Some(old)) if old.medium != medium => {
                if old.pool != pool.name.as_str() {
                    return Err(Failure::new(
                        exit::ERROR,
                        format!(
                            "{medium}: {} {} / {}",
                            t(
                                l,
                                "carries the label of another hokan cartridge:",
                                "には別の hokan カートリッジのラベルがあります:"
                            ),
                            old.medium,
                            old.pool
                        ),
                    ));
                }
                check_free(ctx, &cat, &old.medium)?;
            }
            _ => {}
        }
        format::write_label(
            &mut *dev.drive,
            &Label {
                format: format::FORMAT_VERSION,
                medium: medium.to_owned(),
                pool: pool.name.to_string(),
                // Not in a set yet (docs/tape-format.md: a free cartridge).
                set: String::new(),
                seq: 0,
                created: clock.at(),
                set_started: clock.at(),
            },
        )
        .map_err(|e| format_failure(l, &e))
    })();
    let mut events = Vec::new();
    if result.is_ok() {
        if known.is_none() {
            events.push(Event::MediumAdded {
                medium: id.clone(),
                kind: kind_of(pool),
                pool: Some(pool.name.clone()),
                label: Some(medium.to_owned()),
                capacity: st.capacity,
                note: dev.simulated.then(|| "simulated cartridge".to_owned()),
            });
        }
        for c in cat
            .copies()
            .map_err(|e| ctx.catalog_failure(&e))?
            .into_iter()
            .filter(|c| c.medium == id)
        {
            events.push(Event::CopyRemoved {
                snapshot: c.snapshot,
                medium: id.clone(),
                reason: Some("erased by `hokan tape label`".into()),
            });
        }
    }
    cat.record_all(clock.at(), ACTOR, events)
        .map_err(|e| ctx.catalog_failure(&e))?;
    let home = if single {
        let ev = located(medium, clock.at(), dev.in_drive(), &dev.drive_id);
        cat.record(clock.at(), ACTOR, ev)
            .map_err(|e| ctx.catalog_failure(&e))?;
        None
    } else {
        Some(job::put_away(ctx, &mut dev, &mut cat, medium, &clock)?)
    };
    result?;
    if ctx.g.json {
        print_json(
            &json!({"medium": medium, "pool": pool.name, "slot": home, "simulated": dev.simulated}),
        );
    } else if !ctx.g.quiet {
        println!(
            "{} {medium} ({} {})",
            t(l, "labelled", "ラベルを書き込みました:"),
            t(l, "pool", "プール"),
            pool.name
        );
    }
    Ok(exit::OK)
}

/// Refuse a cartridge whose retention has not passed, or that is part of
/// an open set.
fn check_free(
    ctx: &SiteCtx<'_>,
    cat: &hokan_catalog::Catalog,
    medium: &str,
) -> Result<(), Failure> {
    match cat
        .retention_of(&MediumId::new(medium))
        .map_err(|e| ctx.catalog_failure(&e))?
    {
        Retained::Until { at } if at > ctx.now => Err(retained_failure(ctx, medium, at)),
        Retained::OpenSet { set } => Err(Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} {set}",
                t(
                    ctx.lang,
                    "is part of a media set still being written (or left open by an interrupted job; the next `hokan tape backup` closes it):",
                    "は書き込み中のメディアセットの一部です（中断したジョブの場合は次の `hokan tape backup` で閉じられます）:"
                )
            ),
        )),
        _ => Ok(()),
    }
}

/// `tape inventory`: where the library says each cartridge is.
pub fn inventory(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let l = ctx.lang;
    let mut cat = ctx.catalog()?;
    let mut dev = Devices::open(pool, l)?;
    let mut moves = Vec::new();
    let unknown;
    let mut unlabelled = Vec::new();
    if dev.changer.is_some() {
        if let Some(c) = dev.changer.as_mut() {
            c.inventory().map_err(|e| tape_failure(l, &e))?;
        }
        let status = dev.status_in(l)?;
        let media = cat.media().map_err(|e| ctx.catalog_failure(&e))?;
        let history = cat.locations(None).map_err(|e| ctx.catalog_failure(&e))?;
        let inv = reconcile_with(
            &dev.library,
            &status,
            &media,
            &device_last(&history),
            ctx.now,
        );
        for e in &inv.events {
            if let Event::MediumLocated {
                medium, location, ..
            } = e
            {
                moves.push(json!({"medium": medium, "location": location, "text": ctx.pick(&location.describe())}));
            }
        }
        cat.record_all(ctx.now, "hokan tape inventory", inv.events)
            .map_err(|e| ctx.catalog_failure(&e))?;
        unknown = inv.unknown;
        unlabelled = inv.unlabelled;
    } else {
        let st = dev.drive.status().map_err(|e| tape_failure(l, &e))?;
        let media = cat.media().map_err(|e| ctx.catalog_failure(&e))?;
        let history = cat.locations(None).map_err(|e| ctx.catalog_failure(&e))?;
        let inside = if st.loaded {
            format::read_label(&mut *dev.drive)
                .map_err(|e| format_failure(l, &e))?
                .map(|lb| lb.medium)
        } else {
            None
        };
        let inv = reconcile_drive(
            &pool.name,
            &dev.drive_id,
            inside.as_deref(),
            &media,
            &device_last(&history),
            ctx.now,
        );
        for e in &inv.events {
            if let Event::MediumLocated {
                medium, location, ..
            } = e
            {
                moves.push(json!({"medium": medium, "location": location, "text": ctx.pick(&location.describe())}));
            }
        }
        cat.record_all(ctx.now, "hokan tape inventory", inv.events)
            .map_err(|e| ctx.catalog_failure(&e))?;
        unknown = inv.unknown;
    }
    if ctx.g.json {
        print_json(
            &json!({"pool": pool.name, "moves": moves, "unknown": unknown, "unlabelled": unlabelled}),
        );
    } else if !ctx.g.quiet {
        for m in &moves {
            println!(
                "{}: {}",
                m["medium"].as_str().unwrap_or(""),
                m["text"].as_str().unwrap_or("")
            );
        }
        if moves.is_empty() {
            println!(
                "{}",
                t(l, "no cartridge moved", "移動したカートリッジはありません")
            );
        }
        for b in &unknown {
            println!(
                "{b}: {}",
                t(
                    l,
                    "not in the catalog: label it with `hokan tape label` to add it to the pool",
                    "カタログにありません。`hokan tape label` でプールに加えられます"
                )
            );
        }
        for s in &unlabelled {
            println!(
                "{s}: {}",
                t(
                    l,
                    "a cartridge without a barcode",
                    "バーコードのないカートリッジ"
                )
            );
        }
    }
    Ok(exit::OK)
}

/// `tape status`: the library, the pool's cartridges and media sets.
pub fn status(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let l = ctx.lang;
    let cat = ctx.catalog()?;
    let mut dev = Devices::open(pool, l)?;
    let library = dev.status_in(l)?;
    let drive = dev.drive.status().ok();
    let sets = cat
        .media_sets(Some(pool.name.as_str()))
        .map_err(|e| ctx.catalog_failure(&e))?;
    let mut carts = Vec::new();
    for m in cat
        .media()
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .filter(|m| m.pool.as_ref() == Some(&pool.name))
    {
        let retained = cat
            .retention_of(&m.id)
            .map_err(|e| ctx.catalog_failure(&e))?;
        let where_ = m
            .location
            .as_ref()
            .map(|o| ctx.pick(&o.location.describe()))
            .unwrap_or_else(|| t(l, "not seen yet", "未確認").to_owned());
        let by_device = m
            .location
            .as_ref()
            .is_some_and(|o| matches!(o.by, ObservedBy::Device { .. }));
        carts.push(json!({
            "medium": m.id, "location": m.location, "where": where_, "by_device": by_device,
            "retained": retained, "copies": m.copies, "capacity": m.capacity,
            "sets": sets.iter().filter(|s| s.cartridges.contains(&m.id)).map(|s| s.id.clone()).collect::<Vec<_>>(),
        }));
    }
    if ctx.g.json {
        print_json(&json!({
            "pool": pool.name, "simulated": dev.simulated, "library": library, "drive": drive,
            "cartridges": carts, "sets": sets,
        }));
        return Ok(exit::OK);
    }
    println!(
        "{} {}{}",
        t(l, "tape pool", "テーププール"),
        pool.name,
        if dev.simulated {
            t(l, " (SIMULATED library)", "（模擬ライブラリ）")
        } else {
            ""
        }
    );
    for d in &library.drives {
        let b = d
            .loaded
            .as_ref()
            .map(|c| c.barcode.clone().unwrap_or_else(|| "?".into()));
        println!(
            "  {} {}: {}",
            t(l, "drive", "ドライブ"),
            d.index,
            b.unwrap_or_else(|| "-".into())
        );
    }
    for s in &library.slots {
        let b = s
            .cartridge
            .as_ref()
            .map(|c| c.barcode.clone().unwrap_or_else(|| "?".into()));
        println!(
            "  {} {}{}: {}",
            t(l, "slot", "スロット"),
            s.number,
            if s.import_export {
                t(l, " (mail)", "（メール）")
            } else {
                ""
            },
            b.unwrap_or_else(|| "-".into())
        );
    }
    if let Some(d) = &drive {
        if library.drives.is_empty() {
            println!(
                "  {}: {}{}",
                dev.drive_id,
                if d.loaded {
                    t(l, "loaded", "装填中")
                } else {
                    t(l, "empty", "空")
                },
                if d.write_protected {
                    t(l, ", write protected", "、書き込み禁止")
                } else {
                    ""
                }
            );
        }
    }
    println!("{}", t(l, "cartridges:", "カートリッジ:"));
    for c in &carts {
        let kept = match serde_json::from_value::<serde_json::Value>(c["retained"].clone()) {
            Ok(v) if v["state"] == "until" => format!(
                "{} {}",
                t(l, "kept until", "保持期限"),
                v["at"]
                    .as_str()
                    .and_then(|s| time::OffsetDateTime::parse(
                        s,
                        &time::format_description::well_known::Rfc3339
                    )
                    .ok())
                    .map(|t| ctx.when(t))
                    .unwrap_or_default()
            ),
            Ok(v) if v["state"] == "open-set" => {
                t(l, "in an open set", "書き込み中のセット").to_owned()
            }
            _ => t(l, "free", "空き").to_owned(),
        };
        println!(
            "  {:<10} {:<40} {}, {} {}",
            c["medium"].as_str().unwrap_or(""),
            c["where"].as_str().unwrap_or(""),
            kept,
            c["copies"],
            t(l, "copies", "コピー")
        );
    }
    println!("{}", t(l, "media sets:", "メディアセット:"));
    for s in sets.iter().take(20) {
        println!(
            "  {} {} [{}] {}",
            s.id,
            ctx.when(s.started_at),
            s.cartridges
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            match (s.closed_at, s.complete) {
                (None, _) => t(l, "open", "書き込み中"),
                (Some(_), true) => t(l, "complete", "完了"),
                (Some(_), false) => t(l, "partial (not counted)", "不完全（数えません）"),
            }
        );
    }
    Ok(exit::OK)
}

/// `tape move`: a cartridge to a slot, to the mail slot, or into the drive.
pub fn move_to(ctx: &SiteCtx<'_>, pool: &Pool, medium: &str, to: &str) -> Result<i32, Failure> {
    let l = ctx.lang;
    let clock = hokan_jobs::Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = Devices::open(pool, l)?;
    if dev.changer.is_none() {
        if to != "eject" {
            return Err(Failure::new(
                exit::USAGE,
                t(
                    l,
                    "a single drive can only eject (--to eject)",
                    "単体ドライブではイジェクト（--to eject）のみです",
                ),
            ));
        }
        dev.drive.unload().map_err(|e| tape_failure(l, &e))?;
        let ev = located(medium, clock.at(), dev.ejected(), &dev.drive_id);
        cat.record(clock.at(), ACTOR, ev)
            .map_err(|e| ctx.catalog_failure(&e))?;
        return Ok(exit::OK);
    }
    let status = dev.status_in(l)?;
    let place = status.find(medium).ok_or_else(|| {
        Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {}",
                t(l, "is not in the library", "はライブラリにありません")
            ),
        )
    })?;
    let text = match (to, place) {
        ("drive", _) => {
            job::load(ctx, &mut dev, &mut cat, medium, &clock)?;
            t(
                l,
                "in the drive: its copies are ONLINE until it is unloaded",
                "ドライブ内: アンロードするまでコピーはオンラインです",
            )
            .to_owned()
        }
        ("slot", Ok(_)) => {
            let s = job::put_away(ctx, &mut dev, &mut cat, medium, &clock)?;
            format!("{} {s}", t(l, "in storage slot", "格納スロット"))
        }
        ("slot", Err(from)) => {
            let to = status.free_storage().ok_or_else(|| {
                Failure::new(
                    exit::ERROR,
                    t(l, "no free storage slot", "空きスロットがありません"),
                )
            })?;
            if let Some(c) = dev.changer.as_mut() {
                c.transfer(from, to).map_err(|e| tape_failure(l, &e))?;
            }
            let ev = located(medium, clock.at(), dev.in_slot(to), &dev.library);
            cat.record(clock.at(), ACTOR, ev)
                .map_err(|e| ctx.catalog_failure(&e))?;
            format!("{} {to}", t(l, "in storage slot", "格納スロット"))
        }
        ("export", _) => {
            job::export(ctx, &mut dev, &mut cat, medium, &clock)?;
            t(
                l,
                "in the mail slot: take it out of the library",
                "メールスロット: ライブラリから取り出してください",
            )
            .to_owned()
        }
        _ => {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "--to {to}: {}",
                    t(
                        l,
                        "use slot, export or drive",
                        "slot、export、drive のいずれかです"
                    )
                ),
            ))
        }
    };
    if ctx.g.json {
        print_json(&json!({"medium": medium, "to": to}));
    } else if !ctx.g.quiet {
        println!("{medium}: {text}");
    }
    Ok(exit::OK)
}
