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

use hokan_catalog::Catalog;
use hokan_disk::DiskDevice;
use hokan_jobs::disk::{BackupJob, PoolRef, PutAway, Refusal};
use hokan_jobs::JobError;
use hokan_offline::{Location, MediumId};
use hokan_repo::store::StoreError;
use serde_json::json;

use super::device;
use super::{disk_failure, Pool};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;
use crate::progress::{Bar, BarProgress};
use hokan_jobs::rotation::{RotationPlan, Tonight};
use hokan_jobs::Clock;

/// The actor recorded on the job's events.
pub const ACTOR: &str = "hokan disk backup";

pub use hokan_jobs::disk::Attached;

/// The pool as the jobs library takes it.
fn pool_ref(pool: &Pool) -> PoolRef<'_> {
    PoolRef {
        name: &pool.name,
        conf: &pool.conf,
    }
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
    hokan_jobs::disk::record(cat, clock, actor, medium, location, device)
        .map_err(|e| disk_job_failure(ctx.lang, &e))
}

/// Find the cartridge the job wants (`want`), attach it, and check its
/// label (see [`hokan_jobs::disk::attach_cartridge`]); a refusal names
/// both cartridges.
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
    hokan_jobs::disk::attach_cartridge(dev, cat, clock, pool_ref(pool), want, actor, known_only)
        .map_err(|e| match e {
            JobError::CartridgeRefused { device, refusal } => Failure::new(
                exit::ERROR,
                refusal_text(ctx.lang, pool, want, &device, &refusal),
            ),
            e => disk_job_failure(ctx.lang, &e),
        })
}

/// A disk job's error as the person reads it.
fn disk_job_failure(l: crate::i18n::Lang, e: &JobError) -> Failure {
    match e {
        JobError::Disk(e) => disk_failure(l, e),
        JobError::NoCartridge {
            device: name,
            pool,
            wanted,
        } => {
            let what = match wanted {
                Some(id) => id.to_string(),
                None => wanted_any(l).to_owned(),
            };
            Failure::new(
                exit::ERROR,
                match l {
                    crate::i18n::Lang::Ja => format!(
                        "{name}: 書き込むカートリッジがありません。{what} を挿入してください（プール {pool}）"
                    ),
                    _ => format!("{name}: no cartridge to write; insert {what} (pool {pool})"),
                },
            )
        }
        JobError::EjectFailed { medium, source } => Failure::new(
            exit::ERROR,
            format!(
                "{}: {} ({source}). {}",
                medium,
                t(l, "the eject failed", "排出に失敗しました"),
                t(
                    l,
                    "The cartridge is still where the host can reach it, so its copies count as ONLINE. Eject it by hand (or fix the device) and run `hokan disk status` so hokan sees it gone",
                    "カートリッジはまだホストから届く場所にあり、コピーはオンライン扱いです。手で排出する（または装置を直す）と、`hokan disk status` で確認できます"
                )
            ),
        ),
        e => crate::job_error::failure(l, e),
    }
}

/// "a formatted cartridge", when the rotation wants none in particular.
fn wanted_any(l: crate::i18n::Lang) -> &'static str {
    t(l, "a formatted cartridge", "フォーマット済みのカートリッジ")
}

/// Why the cartridge in `name` is not written to, in a sentence.
fn refusal_text(
    l: crate::i18n::Lang,
    pool: &Pool,
    want: &Tonight,
    name: &str,
    refusal: &Refusal,
) -> String {
    let wanted = match want {
        Tonight::Cartridge(id) => id.to_string(),
        _ => wanted_any(l).to_owned(),
    };
    match refusal {
        Refusal::Unreadable(e) => e.to_string(),
        Refusal::NotFormatted => format!(
            "{}: {} `hokan disk format --pool {} <ID>`{}",
            name,
            t(
                l,
                "the cartridge inserted is not formatted for hokan; format it with",
                "挿入されたカートリッジは hokan 用にフォーマットされていません。フォーマットするには"
            ),
            pool.name,
            t(l, "", " を実行してください")
        ),
        Refusal::OtherPool {
            medium,
            pool: other,
        } => format!(
            "{}: {} {} {} {}, {} {}; {} {wanted}",
            name,
            t(l, "the cartridge inserted is", "挿入されたカートリッジは"),
            medium,
            t(l, "of pool", "（プール"),
            other,
            t(l, "not of pool", "）で、プール"),
            pool.name,
            t(l, "insert", "のものではありません。挿入してください:"),
        ),
        Refusal::NotInCatalog { medium } => format!(
            "{}: {} {}",
            name,
            medium,
            t(
                l,
                "is labelled for this pool but is not in this site's catalog (a catalog rebuilt or from another site): `hokan disk restore` can still read it; it is not written to. `hokan disk format` adds it, erasing it",
                "はこのプールのラベルがありますが、このサイトのカタログにありません（カタログの再作成か別サイトのもの）。`hokan disk restore` で読めますが、書き込みはしません。`hokan disk format` で追加できますが、内容は消去されます"
            ),
        ),
        Refusal::UuidDiffers { medium, uuid } => format!(
            "{}: {} {} {} {}; {} {}",
            name,
            t(l, "the cartridge labelled", "ラベル"),
            medium,
            t(
                l,
                "has another filesystem UUID than when it was formatted:",
                "のカートリッジは、フォーマット時と異なるファイルシステム UUID です:"
            ),
            uuid.as_deref().unwrap_or("-"),
            t(
                l,
                "it is another disk carrying a copy of its label (or it was reformatted outside hokan); it is not written to. Insert",
                "ラベルを複製した別のディスク（または hokan 以外で再フォーマットされたもの）なので書き込みません。挿入してください:"
            ),
            medium
        ),
        Refusal::NotTonight { inserted, due: id } => format!(
            "{}: {} {}, {} {id} {}; {} {id}",
            name,
            t(l, "the cartridge inserted is", "挿入されたカートリッジは"),
            inserted,
            t(l, "but", "ですが、今夜は"),
            t(l, "is due tonight", "の番です"),
            t(l, "insert", "挿入してください:"),
        ),
        other => format!("{name}: {other}"),
    }
}

/// Unmount, then eject / deactivate / export as the pool says (see
/// [`hokan_jobs::disk::after_job`]); what was done, in a sentence. `Err`
/// when the eject failed: the cartridge stays recorded where the host can
/// reach it (online), and the message says so.
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
    let done = hokan_jobs::disk::after_job(dev, cat, clock, pool_ref(pool), a, actor)
        .map_err(|e| disk_job_failure(l, &e))?;
    Ok(put_away_text(l, done))
}

/// What the after-job step did, in a sentence.
fn put_away_text(l: crate::i18n::Lang, done: PutAway) -> String {
    match done {
        PutAway::Unmounted => t(
            l,
            "unmounted; still connected, so its copies are ONLINE until it is taken away and recorded",
            "アンマウントしました。接続されたままなので、取り外して記録するまでコピーはオンラインです",
        ),
        PutAway::Ejected => t(l, "unmounted and ejected (②-1-1)", "アンマウントして排出しました（②-1-1）"),
        PutAway::Deactivated => t(
            l,
            "unmounted, slot made inactive (②-2-1 with an attested network segmentation)",
            "アンマウントし、スロットを非アクティブにしました（ネットワーク分離の証明があれば ②-2-1）",
        ),
        PutAway::Exported => t(
            l,
            "unmounted and exported from the autoloader (②-2-2)",
            "アンマウントしてオートローダから搬出しました（②-2-2）",
        ),
    }
    .to_owned()
}

/// A failed disk backup job, as the person reads it.
fn backup_failure(ctx: &SiteCtx<'_>, pool: &Pool, want: &Tonight, e: &JobError) -> Failure {
    let l = ctx.lang;
    match e {
        JobError::CartridgeRefused { device, refusal } => {
            Failure::new(exit::ERROR, refusal_text(l, pool, want, device, refusal))
        }
        JobError::CatalogRolledBack(rolled_back) => {
            Failure::new(exit::UNTRUSTED, ctx.pick(&rolled_back.text()))
        }
        JobError::AnchorUnreadable { medium, source } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} ({source}). {}",
                t(
                    l,
                    "the catalog anchor on the cartridge cannot be read",
                    "カートリッジのカタログアンカーを読めません"
                ),
                t(
                    l,
                    "Nothing was written to the cartridge. Keep it as it is, run `hokan catalog verify`, and see docs/catalog.md \"When the catalog cannot be trusted\"",
                    "カートリッジには何も書き込んでいません。そのまま保管し、`hokan catalog verify` を実行して、docs/catalog.md の「カタログが信頼できないとき」を参照してください"
                )
            ),
        ),
        JobError::AnchorWrite { medium, source } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} ({source}). {}",
                t(
                    l,
                    "writing the catalog anchor failed",
                    "カタログアンカーの書き込みに失敗しました"
                ),
                t(
                    l,
                    "The copy is recorded; check the cartridge and run the job again so that it carries the catalog's head",
                    "コピーは記録済みです。カートリッジを確認し、カタログのヘッドが記録されるようにもう一度ジョブを実行してください"
                )
            ),
        ),
        JobError::ReadBackDiffers { medium, path } => Failure::new(
            exit::DAMAGE,
            format!(
                "{}: {} {}: {}",
                medium.as_ref().map(|m| m.as_str()).unwrap_or("-"),
                t(l, "read-back differs for", "読み戻しが一致しません:"),
                path,
                t(
                    l,
                    "the copy is not recorded; check the cartridge (it may be failing) and run again",
                    "コピーは記録していません。カートリッジを確認して（故障の可能性）、もう一度実行してください"
                )
            ),
        ),
        JobError::CartridgeWrite {
            medium,
            gone,
            source: e,
        } => {
            let code = match e {
                StoreError::NoSpace { .. } => exit::NO_SPACE,
                _ => exit::ERROR,
            };
            let what = if *gone {
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
                    medium,
                    t(
                        l,
                        "Nothing was recorded as copied; what was written stays valid and the next job completes it. Insert the cartridge and run the command again",
                        "コピーとしては何も記録していません。書き込んだ分は有効なまま残り、次のジョブで完了します。カートリッジを挿入して、もう一度実行してください"
                    )
                ),
            )
        }
        e => disk_job_failure(l, e),
    }
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
    let repo = crate::ctx::primary_repository(ctx)?;
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    crate::ctx::sync_catalog(&repo, &mut cat, &ctx.conf, ctx.now)
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
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "disk");
    bar.set_total(plan.bytes());
    let job = BackupJob {
        pool: pool_ref(pool),
        want: &want,
        snapshots: &ids,
        plan: &plan,
        verify,
        site: &ctx.conf.name,
        actor: ACTOR,
    };
    let done = hokan_jobs::disk::backup(
        &repo,
        &mut cat,
        dev.as_mut(),
        &clock,
        &job,
        &BarProgress(&bar),
    );
    bar.finish();
    let done = done.map_err(|e| backup_failure(ctx, pool, &want, &e))?;
    let after = put_away_text(l, done.put_away);
    let (written, skipped) = (done.copy.written, done.copy.already_there);
    let verified = done.verified.then_some(true);
    let snap_ids: Vec<String> = ids.iter().map(|i| i.to_hex()).collect();
    if ctx.g.json {
        print_json(&json!({
            "pool": pool.name,
            "medium": done.medium,
            "snapshots": snap_ids,
            "bytes_written": written,
            "bytes_already_there": skipped,
            "verified": verified,
            "anchor": {"seq": done.anchor.seq, "hash": done.anchor.hash},
            "previous_anchor": done.previous_anchor.as_ref().map(|p| json!({"seq": p.seq, "hash": p.hash})),
            "after_job": after,
            "seconds": started.elapsed().as_secs_f64(),
            "simulated": dev.simulated(),
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → {}: {} {}, {} {}, {} {}",
            t(l, "copied", "コピーしました:"),
            snap_ids.len(),
            done.medium,
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

pub use hokan_jobs::disk::repository_of;
