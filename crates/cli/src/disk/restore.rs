//! `hokan disk restore`: a snapshot restored from the repository on a
//! cartridge alone (the catalog may be the thing that was lost).

use std::path::PathBuf;

use hokan_disk::{Cartridge, DiskLabel};
use hokan_jobs::disk::restore::{self as disk, FromHolders};
use hokan_offline::MediumId;
use serde_json::json;

use super::device::{self, medium_of};
use super::job::{after_job, attach, repository_of};
use super::{disk_failure, disk_job_failure, Pool};
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;
use hokan_jobs::Clock;

/// Attach `c` and read its label.
fn attach_read(
    l: crate::i18n::Lang,
    dev: &mut dyn hokan_disk::DiskDevice,
    c: &Cartridge,
) -> Result<(PathBuf, Option<DiskLabel>), Failure> {
    disk::attach_read(dev, c).map_err(|e| disk_job_failure(l, &e))
}

pub fn restore(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    snapshot: &str,
    target: PathBuf,
    (latest_undamaged, overwrite): (bool, bool),
    cartridge: Option<&str>,
) -> Result<i32, Failure> {
    const ACTOR: &str = "hokan disk restore";
    let l = ctx.lang;
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let mut dev = device::open(ctx, pool, &cat)?;
    let name = dev.name().to_owned();
    let st = dev.status().map_err(|e| disk_failure(l, &e))?;
    let fail = |e| disk_job_failure(l, &e);
    let media = hokan_jobs::disk::status::pool_media(&cat, &pool.name).map_err(fail)?;
    let order = disk::order(&st);
    let inside: Vec<String> = order
        .iter()
        .map(|c| {
            medium_of(c, &media)
                .map(|m| m.to_string())
                .or_else(|| c.fs_label.clone())
                .unwrap_or_else(|| "?".into())
        })
        .collect();
    let inside_text = if inside.is_empty() {
        t(l, "no cartridge is inside", "カートリッジは入っていません").to_owned()
    } else {
        format!("{} {}", t(l, "inside:", "装置内:"), inside.join(", "))
    };
    // Which generation, and which cartridges hold it, per the catalog.
    let mut spec = snapshot.to_owned();
    let mut holders: Vec<MediumId> = Vec::new();
    let mut wanted = String::new();
    if cartridge.is_none() {
        if let Some(held) = disk::held(&cat, &media, snapshot).map_err(fail)? {
            spec = held.snapshot;
            holders = held.holders;
            wanted = format!(
                "{} {} {} {}",
                t(l, "snapshot", "スナップショット"),
                &spec[..spec.len().min(8)],
                t(l, "of", "、"),
                ctx.when(held.taken_at)
            );
        }
    }
    let mut read = Vec::new();
    // A cartridge the device cannot name (no filesystem label or UUID
    // reported): its label says which it is.
    let by_label =
        disk::by_label(dev.as_mut(), &order, &media, &pool.name, &holders).map_err(fail)?;
    let chosen: disk::Found = if let Some(found) = by_label {
        found
    } else if !holders.is_empty() {
        match disk::from_holders(dev.as_mut(), &order, &media, &pool.name, &holders)
            .map_err(fail)?
        {
            FromHolders::Found(found) => *found,
            FromHolders::NoPoolLabel => {
                return Err(Failure::new(
                    exit::ERROR,
                    format!(
                        "{name}: {} {}",
                        inside.first().cloned().unwrap_or_default(),
                        t(
                            l,
                            "carries no label of this pool; check the cartridge",
                            "にこのプールのラベルがありません。カートリッジを確認してください"
                        )
                    ),
                ));
            }
            _ => {
                let who = holders
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(t(l, " or ", " または "));
                return Err(Failure::new(
                    exit::ERROR,
                    match l {
                        crate::i18n::Lang::Ja => format!(
                            "{name}: {who} を挿入してください（{wanted} を保持）。{inside_text}。別のカートリッジから復元するには --cartridge NAME を指定してください"
                        ),
                        _ => format!(
                            "{name}: insert {who} (holds {wanted}); {inside_text}. To restore from another cartridge, pass --cartridge NAME"
                        ),
                    },
                ));
            }
        }
    } else {
        // The catalog cannot say (lost, or --cartridge): read what the
        // cartridges inside hold.
        read = disk::read_cartridges(dev.as_mut(), &order, &pool.name, cartridge, |repo| {
            let (ok, _) = crate::ctx::open_repository(ctx.g, l, repo, &ctx.conf)?
                .snapshots()
                .map_err(|e| exit::from_repo(l, &e))?;
            Ok(ok
                .iter()
                .map(|(id, s)| (id.to_hex(), s.time.clone()))
                .collect())
        })
        .map_err(fail)??;
        for r in &read {
            if !ctx.g.json && !ctx.g.quiet {
                println!(
                    "{} {} {}",
                    r.label.medium,
                    t(l, "holds", "が保持するスナップショット:"),
                    if r.snapshots.is_empty() {
                        t(l, "no snapshot", "なし").to_owned()
                    } else {
                        r.snapshots
                            .iter()
                            .map(|(id, time)| format!("{} ({time})", &id[..8.min(id.len())]))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
            }
        }
        let Some(r) = disk::pick(&read, cartridge, snapshot) else {
            let what = match cartridge {
                Some(w) => w.to_owned(),
                None => format!(
                    "{} {snapshot}",
                    t(
                        l,
                        "a cartridge of the pool holding",
                        "次を保持するプールのカートリッジ:"
                    )
                ),
            };
            return Err(Failure::new(
                exit::ERROR,
                match l {
                    crate::i18n::Lang::Ja => format!(
                        "{name}: {what} が装置内にありません（{inside_text}）。挿入して、もう一度実行してください"
                    ),
                    _ => format!(
                        "{name}: {what} is not inside ({inside_text}); insert it and run again"
                    ),
                },
            ));
        };
        let (root, lb) = attach_read(l, dev.as_mut(), &r.cartridge)?;
        (r.cartridge.clone(), root, lb.expect("read above"))
    };
    let a = attach(ctx, &mut cat, &clock, ACTOR, pool, &name, chosen)?;
    // The catalog anchor is reported, whether or not this catalog holds it
    // (a restore after the catalog was lost or rolled back still reads).
    let found = hokan_jobs::disk::anchor::read(&a.root);
    if !ctx.g.json && !ctx.g.quiet {
        println!(
            "{}: {}",
            a.medium,
            super::anchor::describe(ctx, &found, Some(&cat))
        );
    }
    let mut extra = serde_json::Map::new();
    extra.insert("medium".into(), json!(a.medium));
    extra.insert("anchor".into(), super::anchor::to_json(&found, Some(&cat)));
    extra.insert(
        "cartridges_read".into(),
        json!(read
            .iter()
            .map(|r| json!({"medium": r.label.medium, "snapshots": r.snapshots.iter().map(|(id, time)| json!({"id": id, "time": time})).collect::<Vec<_>>()}))
            .collect::<Vec<_>>()),
    );
    let restored = crate::ctx::restore::restore_from_with(
        ctx.g,
        l,
        &repository_of(&a.root),
        &spec,
        target,
        latest_undamaged,
        overwrite,
        extra,
    );
    let said = after_job(ctx, pool, dev.as_mut(), &mut cat, &clock, &a, ACTOR);
    let code = restored?;
    let said = said?;
    if !ctx.g.json && !ctx.g.quiet {
        println!("{}: {said}", a.medium);
    }
    Ok(code)
}
