//! `hokan tape label|inventory|status|move`: the work is
//! [`hokan_jobs::tape::manage`]; here the output and the errors in the
//! person's words.

use hokan_jobs::tape::manage::{self, MoveTo, MovedTo};
use hokan_jobs::{Clock, JobError};
use serde_json::json;

use super::devices::{Devices, DevicesExt};
use super::failure::job_failure;
use super::job::{pool_ref, ACTOR};
use super::Pool;
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;

/// `tape label`: erase a cartridge and write this pool's label on it.
pub fn label(ctx: &SiteCtx<'_>, pool: &Pool, medium: &str) -> Result<i32, Failure> {
    let l = ctx.lang;
    let clock = Clock::new(ctx.now);
    let medium = medium.trim();
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = Devices::open(pool, l)?;
    let done = manage::label(&mut dev, &mut cat, &clock, ACTOR, pool_ref(pool), medium).map_err(
        |e| match e {
            JobError::NotInLibrary { barcode, .. } => Failure::new(
                exit::ERROR,
                format!(
                    "{barcode}: {}",
                    t(
                        l,
                        "is not in the library: put it in (through the mail slot) and run `hokan tape inventory`",
                        "はライブラリにありません。メールスロットから入れて `hokan tape inventory` を実行してください"
                    )
                ),
            ),
            e => job_failure(ctx, &e),
        },
    )?;
    if ctx.g.json {
        print_json(
            &json!({"medium": medium, "pool": pool.name, "slot": done.slot, "simulated": dev.simulated}),
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

/// `tape inventory`: where the library says each cartridge is.
pub fn inventory(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let l = ctx.lang;
    let mut cat = ctx.catalog()?;
    let mut dev = Devices::open(pool, l)?;
    let inv = manage::inventory(
        &mut dev,
        &mut cat,
        ctx.now,
        "hokan tape inventory",
        pool.name.as_str(),
    )
    .map_err(|e| job_failure(ctx, &e))?;
    let moves: Vec<serde_json::Value> = inv
        .moves
        .iter()
        .map(|(medium, location)| {
            json!({"medium": medium, "location": location, "text": ctx.pick(&location.describe())})
        })
        .collect();
    let (unknown, unlabelled) = (inv.unknown, inv.unlabelled);
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
    let st =
        manage::status(&mut dev, &cat, pool.name.as_str()).map_err(|e| job_failure(ctx, &e))?;
    let carts: Vec<serde_json::Value> = st
        .cartridges
        .iter()
        .map(|c| {
            let m = &c.medium;
            let where_ = m
                .location
                .as_ref()
                .map(|o| ctx.pick(&o.location.describe()))
                .unwrap_or_else(|| t(l, "not seen yet", "未確認").to_owned());
            json!({
                "medium": m.id, "location": m.location, "where": where_, "by_device": c.by_device,
                "retained": c.retained, "copies": m.copies, "capacity": m.capacity,
                "sets": c.sets,
            })
        })
        .collect();
    let (library, drive, sets) = (st.library, st.drive, st.sets);
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
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = Devices::open(pool, l)?;
    let fail = |e: JobError| match e {
        JobError::NotInLibrary { barcode, .. } => Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {}",
                t(l, "is not in the library", "はライブラリにありません")
            ),
        ),
        e => job_failure(ctx, &e),
    };
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
        manage::eject(&mut dev, &mut cat, &clock, ACTOR, medium).map_err(fail)?;
        return Ok(exit::OK);
    }
    let dest = match to {
        "drive" => MoveTo::Drive,
        "slot" => MoveTo::Slot,
        "export" => MoveTo::Export,
        _ => {
            // Where the cartridge is is told first, as for a valid --to.
            manage::check_in_library(&mut dev, medium).map_err(fail)?;
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
            ));
        }
    };
    let moved =
        manage::move_in_library(&mut dev, &mut cat, &clock, ACTOR, medium, dest).map_err(fail)?;
    let text = match moved {
        MovedTo::Drive => t(
            l,
            "in the drive: its copies are ONLINE until it is unloaded",
            "ドライブ内: アンロードするまでコピーはオンラインです",
        )
        .to_owned(),
        MovedTo::Slot(s) => format!("{} {s}", t(l, "in storage slot", "格納スロット")),
        MovedTo::MailSlot => t(
            l,
            "in the mail slot: take it out of the library",
            "メールスロット: ライブラリから取り出してください",
        )
        .to_owned(),
        other => format!("{other:?}"),
    };
    if ctx.g.json {
        print_json(&json!({"medium": medium, "to": to}));
    } else if !ctx.g.quiet {
        println!("{medium}: {text}");
    }
    Ok(exit::OK)
}
