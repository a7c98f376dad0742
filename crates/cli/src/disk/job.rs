//! `hokan disk backup`: the snapshots copied into the cartridge's own
//! repository, then unmount and eject as the pool says.
//!
//! Objects are written as the repository writes them (a temporary file,
//! fsync, rename without replacing), config and keys first, packs, the
//! index, and each snapshot last: a cartridge pulled out at any moment
//! holds a repository that the next job completes, and no snapshot whose
//! objects are not all there. Objects already on the cartridge are not
//! written again, so generations on one cartridge share their data.
//!
//! Before anything is written, the catalog anchor on the cartridge (if
//! any) must be in the catalog's chain, else the job is refused with exit
//! 12 (the catalog was rolled back); after the copies are recorded, the
//! catalog's new head is written there as the anchor, before the eject.

use std::path::{Path, PathBuf};

use hokan_catalog::{Catalog, Event};
use hokan_disk::{read_label, Cartridge, DiskDevice, Place, REPOSITORY_DIR};
use hokan_offline::{DeviceId, Location, MediumId, SnapshotId};
use hokan_repo::store::{Store, StoreError};
use hokan_site::DiskAfterJob;
use hokan_store::local::LocalStore;
use serde_json::json;

use super::device::{self, medium_of};
use super::{attached_location, disk_failure, Pool};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;
use crate::progress::Bar;
use crate::site::{print_json, SiteCtx};
use hokan_jobs::rotation::{RotationPlan, Tonight};
use hokan_jobs::Clock;

/// The actor recorded on the job's events.
pub const ACTOR: &str = "hokan disk backup";

/// A pool cartridge the host can read and write now.
pub struct Attached {
    /// What the device reports.
    pub cartridge: Cartridge,
    /// Which medium it is.
    pub medium: MediumId,
    /// Where its files are.
    pub root: PathBuf,
}

/// Record a move the device reported.
pub fn record(
    ctx: &SiteCtx<'_>,
    cat: &mut Catalog,
    clock: &Clock,
    actor: &str,
    medium: &MediumId,
    location: Location,
    device: &str,
) -> Result<(), Failure> {
    if cat.medium(medium).is_err() {
        // Not in this catalog (a restore after the catalog was lost).
        return Ok(());
    }
    let at = clock.at();
    let ev = Event::MediumLocated {
        medium: medium.clone(),
        at,
        location,
        by: hokan_offline::ObservedBy::Device {
            device: DeviceId::new(device),
        },
        note: None,
    };
    cat.record(at, actor, ev)
        .map_err(|e| ctx.catalog_failure(&e))
        .map(|_| ())
}

/// Find the cartridge the job wants (`want`), attach it, and check its
/// label. A wrong cartridge is detached again and refused, naming both.
/// `known_only`: refuse a pool cartridge this catalog does not know (a
/// restore allows it: the catalog may be the thing that was lost).
#[allow(clippy::too_many_arguments)] // each is a separate input of the check
pub fn attach_cartridge(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    want: &Tonight,
    actor: &str,
    known_only: bool,
) -> Result<Attached, Failure> {
    let l = ctx.lang;
    let name = dev.name().to_owned();
    let st = dev.status().map_err(|e| disk_failure(l, &e))?;
    let media: Vec<_> = cat
        .media()
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .filter(|m| m.pool.as_ref() == Some(&pool.name))
        .collect();
    let insert = |what: &str| -> Failure {
        Failure::new(
            exit::ERROR,
            match l {
                crate::i18n::Lang::Ja => format!(
                    "{name}: 書き込むカートリッジがありません。{what} を挿入してください（プール {}）",
                    pool.name
                ),
                _ => format!(
                    "{name}: no cartridge to write; insert {what} (pool {})",
                    pool.name
                ),
            },
        )
    };
    let wanted = match want {
        Tonight::Cartridge(id) => id.to_string(),
        _ => t(l, "a formatted cartridge", "フォーマット済みのカートリッジ").to_owned(),
    };
    // The cartridge to attach: the one wanted if the device holds it, else
    // the one the host can reach now (checked below, and refused if wrong).
    let by_medium = |id: &str| {
        st.cartridges
            .iter()
            .find(|c| medium_of(c, &media).is_some_and(|m| m.as_str() == id))
    };
    let chosen = match want {
        Tonight::Cartridge(id) => by_medium(id.as_str()).or_else(|| st.writable()),
        _ => st.writable().or_else(|| {
            // An autoloader: the pool cartridge written longest ago.
            let copies = cat.copies().unwrap_or_default();
            let last = |c: &&Cartridge| {
                medium_of(c, &media).map(|m| {
                    copies
                        .iter()
                        .filter(|x| x.medium == m)
                        .map(|x| x.since)
                        .max()
                })
            };
            st.cartridges
                .iter()
                .filter(|c| medium_of(c, &media).is_some())
                .min_by_key(|c| last(c))
        }),
    };
    let Some(cartridge) = chosen.cloned() else {
        return Err(insert(&wanted));
    };
    let root = dev.attach(&cartridge).map_err(|e| disk_failure(l, &e))?;
    let known = medium_of(&cartridge, &media);
    if let Some(m) = &known {
        record(
            ctx,
            cat,
            clock,
            actor,
            m,
            attached_location(pool, &name),
            &name,
        )?;
    }
    let label = read_label(&root);
    let refusal = match (&label, want) {
        (Err(e), _) => Some(e.to_string()),
        (Ok(None), _) => Some(format!(
            "{}: {} `hokan disk format --pool {} <ID>`{}",
            name,
            t(
                l,
                "the cartridge inserted is not formatted for hokan; format it with",
                "挿入されたカートリッジは hokan 用にフォーマットされていません。フォーマットするには"
            ),
            pool.name,
            t(l, "", " を実行してください")
        )),
        (Ok(Some(lb)), _) if lb.pool != pool.name.as_str() => Some(format!(
            "{}: {} {} {} {}, {} {}; {} {wanted}",
            name,
            t(l, "the cartridge inserted is", "挿入されたカートリッジは"),
            lb.medium,
            t(l, "of pool", "（プール"),
            lb.pool,
            t(l, "not of pool", "）で、プール"),
            pool.name,
            t(l, "insert", "のものではありません。挿入してください:"),
        )),
        (Ok(Some(lb)), _)
            if known_only && !media.iter().any(|m| m.id.as_str() == lb.medium) =>
        {
            Some(format!(
                "{}: {} {}",
                name,
                lb.medium,
                t(
                    l,
                    "is labelled for this pool but is not in this site's catalog (a catalog rebuilt or from another site): `hokan disk restore` can still read it; it is not written to. `hokan disk format` adds it, erasing it",
                    "はこのプールのラベルがありますが、このサイトのカタログにありません（カタログの再作成か別サイトのもの）。`hokan disk restore` で読めますが、書き込みはしません。`hokan disk format` で追加できますが、内容は消去されます"
                ),
            ))
        }
        (Ok(Some(lb)), _) if uuid_differs(&media, &lb.medium, cartridge.uuid.as_deref()) => {
            Some(format!(
                "{}: {} {} {} {}; {} {}",
                name,
                t(l, "the cartridge labelled", "ラベル"),
                lb.medium,
                t(
                    l,
                    "has another filesystem UUID than when it was formatted:",
                    "のカートリッジは、フォーマット時と異なるファイルシステム UUID です:"
                ),
                cartridge.uuid.as_deref().unwrap_or("-"),
                t(
                    l,
                    "it is another disk carrying a copy of its label (or it was reformatted outside hokan); it is not written to. Insert",
                    "ラベルを複製した別のディスク（または hokan 以外で再フォーマットされたもの）なので書き込みません。挿入してください:"
                ),
                lb.medium
            ))
        }
        (Ok(Some(lb)), Tonight::Cartridge(id)) if lb.medium != id.as_str() => Some(format!(
            "{}: {} {}, {} {id} {}; {} {id}",
            name,
            t(l, "the cartridge inserted is", "挿入されたカートリッジは"),
            lb.medium,
            t(l, "but", "ですが、今夜は"),
            t(l, "is due tonight", "の番です"),
            t(l, "insert", "挿入してください:"),
        )),
        _ => None,
    };
    if let Some(why) = refusal {
        let _ = dev.detach(&root);
        return Err(Failure::new(exit::ERROR, why));
    }
    let label = label.ok().flatten().expect("checked above");
    Ok(Attached {
        cartridge,
        medium: MediumId::new(label.medium),
        root,
    })
}

/// Whether the catalog recorded another filesystem UUID for `medium` than
/// the device reports now.
fn uuid_differs(media: &[hokan_catalog::MediumRow], medium: &str, now: Option<&str>) -> bool {
    let Some(now) = now else { return false };
    media
        .iter()
        .find(|m| m.id.as_str() == medium)
        .and_then(|m| device::recorded_uuid(m))
        .is_some_and(|was| was != now)
}

/// Unmount, then eject / deactivate / export as the pool says, recording
/// where the cartridge went from what the device did. `Err` when the eject
/// failed: the cartridge stays recorded where the host can reach it
/// (online), and the message says so.
pub fn after_job(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    a: &Attached,
    actor: &str,
) -> Result<String, Failure> {
    let l = ctx.lang;
    let name = dev.name().to_owned();
    dev.detach(&a.root).map_err(|e| disk_failure(l, &e))?;
    let (export, location, said) = match pool.conf.after_job {
        DiskAfterJob::Unmount => {
            return Ok(t(
                l,
                "unmounted; still connected, so its copies are ONLINE until it is taken away and recorded",
                "アンマウントしました。接続されたままなので、取り外して記録するまでコピーはオンラインです",
            )
            .to_owned())
        }
        DiskAfterJob::Eject => (
            false,
            Location::Ejected {
                drive: Some(DeviceId::new(&name)),
            },
            t(l, "unmounted and ejected (②-1-1)", "アンマウントして排出しました（②-1-1）"),
        ),
        DiskAfterJob::Deactivate => (
            false,
            Location::InactiveSlot {
                autoloader: DeviceId::new(&name),
                slot: match a.cartridge.place {
                    Place::Slot { slot, .. } => Some(slot),
                    Place::Drive => None,
                },
            },
            t(
                l,
                "unmounted, slot made inactive (②-2-1 with an attested network segmentation)",
                "アンマウントし、スロットを非アクティブにしました（ネットワーク分離の証明があれば ②-2-1）",
            ),
        ),
        DiskAfterJob::Export => (
            true,
            Location::Exported {
                changer: DeviceId::new(&name),
            },
            t(
                l,
                "unmounted and exported from the autoloader (②-2-2)",
                "アンマウントしてオートローダから搬出しました（②-2-2）",
            ),
        ),
    };
    if let Err(e) = dev.eject(&a.cartridge, export) {
        return Err(Failure::new(
            exit::ERROR,
            format!(
                "{}: {} ({e}). {}",
                a.medium,
                t(l, "the eject failed", "排出に失敗しました"),
                t(
                    l,
                    "The cartridge is still where the host can reach it, so its copies count as ONLINE. Eject it by hand (or fix the device) and run `hokan disk status` so hokan sees it gone",
                    "カートリッジはまだホストから届く場所にあり、コピーはオンライン扱いです。手で排出する（または装置を直す）と、`hokan disk status` で確認できます"
                )
            ),
        ));
    }
    record(ctx, cat, clock, actor, &a.medium, location, &name)?;
    Ok(said.to_owned())
}

/// What a store error during the copy means for the person.
fn copy_failure(ctx: &SiteCtx<'_>, a: &Attached, e: &StoreError) -> Failure {
    let l = ctx.lang;
    let gone = !a.root.exists();
    let code = match e {
        StoreError::NoSpace { .. } => exit::NO_SPACE,
        _ => exit::ERROR,
    };
    let what = if gone {
        t(
            l,
            "the cartridge went away during the copy (pulled out, unplugged?)",
            "コピー中にカートリッジが外れました（引き抜き、接続断?）",
        )
    } else {
        t(
            l,
            "writing to the cartridge failed",
            "カートリッジへの書き込みに失敗しました",
        )
    };
    Failure::new(
        code,
        format!(
            "{}: {what}: {e}. {}",
            a.medium,
            t(
                l,
                "Nothing was recorded as copied; what was written stays valid and the next job completes it. Insert the cartridge and run the command again",
                "コピーとしては何も記録していません。書き込んだ分は有効なまま残り、次のジョブで完了します。カートリッジを挿入して、もう一度実行してください"
            )
        ),
    )
}

pub fn backup(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    specs: &[String],
    verify: bool,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let started = std::time::Instant::now();
    let clock = Clock::new(ctx.now);
    let repo = crate::site::primary_repository(ctx)?;
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    crate::site::sync_catalog(&repo, &mut cat, &ctx.conf, ctx.now)
        .map_err(|e| crate::job_error::failure(l, &e))?;
    let ids = hokan_jobs::copy::snapshots_to_copy(&repo, specs)
        .map_err(|e| crate::job_error::failure(l, &e))?;
    let plan = repo.copy_plan(&ids).map_err(|e| exit::from_repo(l, &e))?;
    let local = ctx.now.to_offset(ctx.offset());
    let want = RotationPlan::disk(pool.conf.rotation, &pool.conf.cartridges, local).tonight;
    if let Tonight::NoneToday(day) = want {
        let msg = format!(
            "{}: {} {day}",
            pool.name,
            t(
                l,
                "the rotation has no cartridge for",
                "ローテーションにカートリッジがない曜日です:"
            ),
        );
        if ctx.g.json {
            print_json(&json!({"pool": pool.name, "skipped": msg}));
        } else if !ctx.g.quiet {
            println!("{msg}");
        }
        return Ok(exit::OK);
    }
    let mut dev = device::open(ctx, pool, &cat)?;
    let a = attach_cartridge(
        ctx,
        pool,
        dev.as_mut(),
        &mut cat,
        &clock,
        &want,
        ACTOR,
        true,
    )?;
    // Before anything is written: the catalog must contain the head this
    // cartridge carries, or it was rolled back since the cartridge was last
    // written (and writing now would cover that).
    let previous = match super::anchor::check(ctx, &cat, a.medium.as_str(), &a.root) {
        Ok(p) => p,
        Err(f) => {
            let _ = dev.detach(&a.root);
            return Err(f);
        }
    };
    let store = LocalStore::new(a.root.join(REPOSITORY_DIR));
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "disk");
    bar.set_total(plan.bytes());
    let mut copy = || -> Result<(u64, u64), Failure> {
        let have =
            hokan_repo::copy::objects_present(&store).map_err(|e| copy_failure(ctx, &a, &e))?;
        let (mut written, mut skipped) = (0u64, 0u64);
        for obj in &plan.objects {
            if have.get(&(obj.kind, obj.name.clone())) == Some(&obj.size) {
                skipped += obj.size;
                bar.add(obj.size);
                continue;
            }
            let bytes = repo
                .copy_object_bytes(obj)
                .map_err(|e| exit::from_repo(l, &e))?;
            match store.put(obj.kind, &obj.name, &bytes) {
                Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(copy_failure(ctx, &a, &e)),
            }
            dev.written(&a.root, obj.size)
                .map_err(|e| disk_failure(l, &e))?;
            written += obj.size;
            bar.add(obj.size);
        }
        Ok((written, skipped))
    };
    let copied = copy();
    bar.finish();
    let (written, skipped) = match copied {
        Ok(x) => x,
        Err(f) => {
            let _ = dev.detach(&a.root);
            return Err(f);
        }
    };
    dev.sync(&a.root).map_err(|e| disk_failure(l, &e))?;
    let mut verified = None;
    if verify {
        for obj in &plan.objects {
            let want = repo
                .copy_object_bytes(obj)
                .map_err(|e| exit::from_repo(l, &e))?;
            let got = store.get(obj.kind, &obj.name);
            if got.as_deref().ok() != Some(&want[..]) {
                let _ = dev.detach(&a.root);
                return Err(Failure::new(
                    exit::DAMAGE,
                    format!(
                        "{}: {} {}: {}",
                        a.medium,
                        t(l, "read-back differs for", "読み戻しが一致しません:"),
                        obj.path(),
                        t(
                            l,
                            "the copy is not recorded; check the cartridge (it may be failing) and run again",
                            "コピーは記録していません。カートリッジを確認して（故障の可能性）、もう一度実行してください"
                        )
                    ),
                ));
            }
        }
        verified = Some(true);
    }
    // The copy is on the cartridge: record it before the eject, which may fail.
    let at = clock.at();
    let mut events = Vec::new();
    for id in &ids {
        let snapshot = SnapshotId::new(id.to_hex());
        events.push(Event::CopyRecorded {
            snapshot: snapshot.clone(),
            medium: a.medium.clone(),
            since: at,
            complete: true,
            with: Vec::new(),
        });
        if verify {
            events.push(Event::CopyVerified {
                snapshot,
                medium: a.medium.clone(),
                at,
                ok: true,
                detail: Some("read back after writing".into()),
            });
        }
    }
    cat.record_all(at, ACTOR, events)
        .map_err(|e| ctx.catalog_failure(&e))?;
    // The head, copies included, goes on the cartridge before it is put
    // away: a catalog rolled back to before this job will not contain it.
    let written_anchor = super::anchor::write(ctx, &cat, a.medium.as_str(), &a.root, clock.at())
        .and_then(|an| {
            dev.sync(&a.root).map_err(|e| disk_failure(l, &e))?;
            Ok(an)
        });
    let written_anchor = match written_anchor {
        Ok(an) => an,
        Err(f) => {
            let _ = dev.detach(&a.root);
            return Err(f);
        }
    };
    let after = after_job(ctx, pool, dev.as_mut(), &mut cat, &clock, &a, ACTOR)?;
    let snap_ids: Vec<String> = ids.iter().map(|i| i.to_hex()).collect();
    if ctx.g.json {
        print_json(&json!({
            "pool": pool.name,
            "medium": a.medium,
            "snapshots": snap_ids,
            "bytes_written": written,
            "bytes_already_there": skipped,
            "verified": verified,
            "anchor": {"seq": written_anchor.seq, "hash": written_anchor.hash},
            "previous_anchor": previous.as_ref().map(|p| json!({"seq": p.seq, "hash": p.hash})),
            "after_job": after,
            "seconds": started.elapsed().as_secs_f64(),
            "simulated": dev.simulated(),
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → {}: {} {}, {} {}, {} {}",
            t(l, "copied", "コピーしました:"),
            snap_ids.len(),
            a.medium,
            crate::i18n::Bytes(written),
            t(l, "written", "書き込み"),
            crate::i18n::Bytes(skipped),
            t(l, "already there", "既存"),
            if verify {
                t(l, "verified;", "検証済み;")
            } else {
                ""
            },
            after
        );
        if dev.simulated() {
            println!(
                "  ({})",
                t(l, "simulated device", "模擬装置（実機ではありません）")
            );
        }
    }
    Ok(exit::OK)
}

/// The repository folder of an attached cartridge.
pub fn repository_of(root: &Path) -> PathBuf {
    root.join(REPOSITORY_DIR)
}
