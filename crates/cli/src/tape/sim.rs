//! `hokan tape sim`: what a person does with a SIMULATED library: create
//! it, put cartridges in, take exported ones out. The library itself (its
//! drives, slots, robot and cartridge images) is `hokan_tape::virt`.

use hokan_site::TapeMode;
use hokan_tape::virt::{LibraryShape, Place, VirtualLibrary};
use hokan_tape::Changer;
use serde_json::json;

use super::args::SimCmd;
use super::failure::tape_failure;
use super::{pool, Pool};
use crate::ctx::{print_json, when, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

pub fn run(ctx: &SiteCtx<'_>, cmd: SimCmd) -> Result<i32, Failure> {
    let l = ctx.lang;
    match cmd {
        SimCmd::Create {
            pool: p,
            drives,
            slots,
            mail_slots,
        } => {
            let pool = pool(ctx, &p)?;
            let dir = dir(ctx, &pool)?;
            let single = pool.conf.mode == TapeMode::SingleDrive;
            let shape = if single {
                LibraryShape::single_drive()
            } else {
                LibraryShape {
                    drives,
                    slots,
                    mail_slots,
                    single_drive: false,
                }
            };
            let name = format!("vtl-{}", pool.name);
            VirtualLibrary::create(&dir, &name, shape).map_err(|e| tape_failure(l, &e))?;
            say(
                ctx,
                json!({"library": name, "dir": dir, "single_drive": single}),
                format!(
                    "{} {name} ({})",
                    t(
                        l,
                        "created the simulated library",
                        "模擬ライブラリを作成しました:"
                    ),
                    dir.display()
                ),
            );
        }
        SimCmd::Insert {
            pool: p,
            barcode,
            capacity,
            write_protected,
        } => {
            let lib = open(ctx, &pool(ctx, &p)?)?;
            let bytes = when::parse_capacity(&capacity)
                .map_err(|e| Failure::new(exit::USAGE, format!("--capacity: {}", ctx.pick(&e))))?;
            let place = lib
                .insert(&barcode, bytes, write_protected)
                .map_err(|e| tape_failure(l, &e))?;
            let shape = lib.shape();
            let (en, ja) = match place {
                Place::Drive(_) if shape.single_drive => {
                    ("in the drive".into(), "ドライブ内".into())
                }
                Place::Drive(d) => (format!("in drive {d}"), format!("ドライブ {d}")),
                Place::Slot(n) if shape.is_mail_slot(n) => {
                    (format!("in mail slot {n}"), format!("メールスロット {n}"))
                }
                Place::Slot(n) => (format!("in slot {n}"), format!("スロット {n}")),
                Place::Outside => ("outside".into(), "外部".into()),
            };
            say(
                ctx,
                json!({"barcode": barcode, "place": place}),
                format!(
                    "{barcode}: {} ({})",
                    t(l, "inserted", "挿入しました"),
                    if l == Lang::Ja { ja } else { en }
                ),
            );
        }
        SimCmd::TakeOut { pool: p, barcode } => {
            let lib = open(ctx, &pool(ctx, &p)?)?;
            lib.take_out(&barcode).map_err(|e| tape_failure(l, &e))?;
            say(
                ctx,
                json!({"barcode": barcode, "place": "outside"}),
                format!(
                    "{barcode}: {}",
                    t(
                        l,
                        "taken out of the library (run `hokan tape inventory` so the catalog knows)",
                        "ライブラリから取り出しました（`hokan tape inventory` でカタログに反映します）"
                    )
                ),
            );
        }
        SimCmd::Load {
            pool: p,
            barcode,
            drive,
        } => {
            let lib = open(ctx, &pool(ctx, &p)?)?;
            let mut changer = lib.changer().map_err(|e| tape_failure(l, &e))?;
            let status = changer.status().map_err(|e| tape_failure(l, &e))?;
            match status.find(&barcode) {
                Some(Err(slot)) => changer.load(slot, drive).map_err(|e| tape_failure(l, &e))?,
                Some(Ok(d)) => {
                    return Err(Failure::new(
                        exit::ERROR,
                        format!(
                            "{barcode}: {} {d}",
                            t(l, "is already in drive", "は既にドライブにあります:")
                        ),
                    ))
                }
                None => {
                    return Err(Failure::new(
                        exit::ERROR,
                        format!(
                            "{barcode}: {}",
                            t(l, "is not in the library", "はライブラリにありません")
                        ),
                    ))
                }
            }
            say(
                ctx,
                json!({"barcode": barcode, "drive": drive}),
                format!(
                    "{barcode}: {} {drive} ({})",
                    t(l, "loaded into drive", "ドライブに装填しました:"),
                    t(
                        l,
                        "hokan was not told: the next `hokan status` asks the library",
                        "hokan には知らせていません。次の `hokan status` がライブラリに確認します"
                    )
                ),
            );
        }
    }
    Ok(exit::OK)
}

fn dir(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<std::path::PathBuf, Failure> {
    pool.conf.virtual_library.clone().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            format!(
                "[[tape_pool]] {}: {}",
                pool.name,
                t(
                    ctx.lang,
                    "has no `virtual_library`: `tape sim` only works on a simulated library",
                    "に `virtual_library` がありません。`tape sim` は模擬ライブラリ専用です"
                )
            ),
        )
    })
}

fn open(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<VirtualLibrary, Failure> {
    VirtualLibrary::open(&dir(ctx, pool)?).map_err(|e| tape_failure(ctx.lang, &e))
}

fn say(ctx: &SiteCtx<'_>, v: serde_json::Value, text: String) {
    if ctx.g.json {
        print_json(&v);
    } else if !ctx.g.quiet {
        println!("{text}");
    }
}
