//! `hokan disk sim`: what a person does with a SIMULATED disk device.

use hokan_disk::virt::{Shape, Sim};
use hokan_site::DiskMode;
use serde_json::json;

use super::args::SimCmd;
use super::{disk_failure, pool, Pool};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;

fn dir(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<std::path::PathBuf, Failure> {
    pool.conf.virtual_device.clone().ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            format!(
                "{}: {}",
                pool.name,
                t(
                    ctx.lang,
                    "has no `virtual_device`: `disk sim` only works on a simulated device",
                    "に `virtual_device` がありません。`disk sim` は模擬装置専用です"
                )
            ),
        )
    })
}

fn open(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<Sim, Failure> {
    Sim::open(&dir(ctx, pool)?).map_err(|e| disk_failure(ctx.lang, &e))
}

fn say(ctx: &SiteCtx<'_>, v: serde_json::Value, text: String) {
    if ctx.g.json {
        print_json(&v);
    } else if !ctx.g.quiet {
        println!("{text}");
    }
}

/// Run `hokan disk sim …`.
pub fn run(ctx: &SiteCtx<'_>, cmd: SimCmd) -> Result<i32, Failure> {
    let l = ctx.lang;
    let fail = |e: hokan_disk::DiskError| disk_failure(l, &e);
    match cmd {
        SimCmd::Create { pool: p, slots } => {
            let pool = pool(ctx, &p)?;
            let shape = match pool.conf.mode {
                DiskMode::RdxAutoloader => Shape::Autoloader {
                    slots: slots.unwrap_or(4),
                },
                _ => Shape::Drive,
            };
            let dir = dir(ctx, &pool)?;
            let name = format!("sim-{}", pool.name);
            Sim::create(&dir, &name, shape).map_err(fail)?;
            say(
                ctx,
                json!({"pool": pool.name, "device": name, "shape": shape, "dir": dir}),
                format!(
                    "{} {name} ({}) {}",
                    t(l, "created the SIMULATED device", "模擬装置を作成しました:"),
                    match shape {
                        Shape::Drive => "drive".to_owned(),
                        Shape::Autoloader { slots } => format!("autoloader, {slots} slots"),
                    },
                    dir.display()
                ),
            );
        }
        SimCmd::Insert {
            pool: p,
            medium,
            slot,
        } => {
            let sim = open(ctx, &pool(ctx, &p)?)?;
            let at = sim.insert(&medium, slot).map_err(fail)?;
            say(
                ctx,
                json!({"medium": medium, "place": at}),
                format!(
                    "{medium}: {} {}",
                    t(l, "inserted into", "挿入しました:"),
                    match at {
                        hokan_disk::virt::Where::Slot { slot } => {
                            format!("{} {slot}", t(l, "slot", "スロット"))
                        }
                        hokan_disk::virt::Where::Drive => t(l, "the drive", "ドライブ").to_owned(),
                        hokan_disk::virt::Where::Outside => "-".to_owned(),
                    }
                ),
            );
        }
        SimCmd::TakeOut { pool: p, medium } => {
            let sim = open(ctx, &pool(ctx, &p)?)?;
            sim.take_out(&medium).map_err(fail)?;
            say(
                ctx,
                json!({"medium": medium, "taken_out": true}),
                format!("{medium}: {}", t(l, "taken out", "取り出しました")),
            );
        }
        SimCmd::Pull { pool: p, medium } => {
            let sim = open(ctx, &pool(ctx, &p)?)?;
            sim.pull(&medium).map_err(fail)?;
            say(
                ctx,
                json!({"medium": medium, "pulled": true}),
                format!("{medium}: {}", t(l, "pulled out", "引き抜きました")),
            );
        }
        SimCmd::PullAfter { pool: p, bytes } => {
            let sim = open(ctx, &pool(ctx, &p)?)?;
            sim.pull_after(bytes).map_err(fail)?;
            say(
                ctx,
                json!({"pull_after": bytes}),
                format!(
                    "{} {bytes} {}",
                    t(
                        l,
                        "the cartridge will be pulled out after",
                        "カートリッジは次の量の書き込み後に引き抜かれます:"
                    ),
                    t(l, "bytes", "バイト")
                ),
            );
        }
        SimCmd::FailEject { pool: p } => {
            let sim = open(ctx, &pool(ctx, &p)?)?;
            sim.fail_next_eject().map_err(fail)?;
            say(
                ctx,
                json!({"fail_next_eject": true}),
                t(l, "the next eject will fail", "次の排出は失敗します").to_owned(),
            );
        }
    }
    Ok(exit::OK)
}
