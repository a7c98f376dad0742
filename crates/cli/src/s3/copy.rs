//! `hokan copy --to s3:NAME [SNAP...]`: the snapshots not yet in the bucket
//! (default: every snapshot of the primary repository without a complete
//! copy there), their objects sent under object lock.
//!
//! Resumable: objects already in the bucket are not sent again, and every
//! snapshot object goes last, after all the objects it needs, so an
//! interrupted copy leaves nothing a restore could trip on and records no
//! copy. Each copy is recorded with its protection: the earliest lock among
//! the objects it needs.

use hokan_catalog::Event;
use hokan_format::Id;
use hokan_jobs::copy::CopyOptions;
use hokan_jobs::JobError;
use hokan_offline::{LockMode as CatLockMode, Retention, SnapshotId};
use hokan_repo::store::{ObjectKind, StoreError};
use hokan_s3::LockMode;
use serde_json::json;
use time::OffsetDateTime;

use super::{connect, ensure_medium, lock_spec, s3_failure, target};
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes};
use crate::job_error::lock_pool;
use crate::progress::{Bar, BarProgress};
use crate::site::{print_json, SiteCtx};

const ACTOR: &str = "hokan copy";

/// `hokan copy --to s3:NAME`.
pub fn copy(ctx: &SiteCtx<'_>, to: &str, specs: &[String]) -> Result<i32, Failure> {
    let l = ctx.lang;
    let started = std::time::Instant::now();
    let Some(name) = to.strip_prefix("s3:") else {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "--to {to:?}: {}",
                t(
                    l,
                    "name the destination as s3:NAME (an [[s3]] of hokan.toml)",
                    "コピー先は s3:NAME（hokan.toml の [[s3]]）で指定してください"
                )
            ),
        ));
    };
    let target = target(ctx, name)?;
    let repo = crate::site::primary_repository(ctx)?;
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), target.name.as_str(), l)?;
    // The head the bucket's anchor names: the catalog as it was before this
    // job recorded anything.
    let head = cat.head().map_err(|e| ctx.catalog_failure(&e))?;
    crate::site::sync_catalog(&repo, &mut cat, &ctx.conf, ctx.now)
        .map_err(|e| crate::job_error::failure(l, &e))?;

    // The bucket first: without object lock it is not an offline target.
    let probe_store = connect(ctx, &target, false)?;
    let report = hokan_s3::bucket_check(&probe_store).map_err(|e| s3_failure(l, &e))?;
    let locked = report.object_lock_enabled;
    if !locked && !target.conf.allow_unlocked {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "s3:{name} ({}): {}",
                target.conf.bucket,
                t(
                    l,
                    "the bucket has no object lock, so copies in it could be deleted by anyone holding the credentials and never count as offline. Create a bucket with object lock enabled (and versioning), or set allow_unlocked = true to copy there anyway (never offline)",
                    "バケットにオブジェクトロックがないため、認証情報を持つ誰でもコピーを削除でき、オフラインとは数えません。オブジェクトロック（とバージョニング）を有効にしたバケットを作るか、オフライン扱いされないことを承知で allow_unlocked = true を設定してください"
                )
            ),
        ));
    }
    // Objects already there are judged by their first version, the one
    // hokan wrote and locked (whatever was written on top since).
    let store = super::connect_as(ctx, &target, locked, true)?;
    let medium = ensure_medium(ctx, &mut cat, &target, ACTOR)?;

    // Which snapshots: asked for, else every one not yet completely there.
    let ids: Vec<Id> = if specs.is_empty() {
        let there: Vec<SnapshotId> = cat
            .copies()
            .map_err(|e| ctx.catalog_failure(&e))?
            .into_iter()
            .filter(|c| c.medium == medium && c.complete)
            .map(|c| c.snapshot)
            .collect();
        let (all, _) = repo.snapshots().map_err(|e| exit::from_repo(l, &e))?;
        let mut ids: Vec<(String, Id)> = all
            .into_iter()
            .filter(|(id, _)| !there.contains(&SnapshotId::new(id.to_hex())))
            .map(|(id, s)| (s.time.clone(), id))
            .collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect()
    } else {
        hokan_jobs::copy::snapshots_to_copy(&repo, specs)
            .map_err(|e| crate::job_error::failure(l, &e))?
    };
    if ids.is_empty() {
        if locked {
            super::anchor::write(ctx, &store, &medium, &head)?;
        }
        if ctx.g.json {
            print_json(&json!({"to": to, "snapshots": [], "bytes_sent": 0}));
        } else if !ctx.g.quiet {
            println!(
                "s3:{name}: {}",
                t(
                    l,
                    "every snapshot is already there",
                    "すべてのスナップショットがコピー済みです"
                )
            );
        }
        return Ok(exit::OK);
    }
    let plan = repo.copy_plan(&ids).map_err(|e| exit::from_repo(l, &e))?;

    // Every object sent from here on is locked until at least this plus
    // the retention: the copy's recorded lock never exceeds its objects'.
    let upload_started = OffsetDateTime::now_utc();
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "s3");
    bar.set_total(plan.bytes());
    // Everything but the snapshots, a few at a time; then the snapshots.
    let copied = hokan_jobs::copy::copy_plan(
        &repo,
        &plan,
        &store,
        &CopyOptions {
            workers: target.conf.concurrency as usize,
        },
        &BarProgress(&bar),
    );
    bar.finish();
    let stats = copied.map_err(|e| copy_failure(ctx, name, &e))?;
    // What was there before (size by key): every index, key and config
    // object of the bucket is locked again below.
    let have = &stats.present;

    // The protection of the copy: the earliest lock among its objects.
    // Objects sent now are locked from about now; objects already there are
    // asked for their lock.
    // Objects already there whose lock has run out (or was shortened until
    // it did) are locked again, so that the copy is whole and offline again.
    let spec = lock_spec(&target);
    let retention = time::Duration::try_from(spec.retention).unwrap_or(time::Duration::ZERO);
    let mut earliest: Option<OffsetDateTime> = locked.then(|| upload_started + retention);
    let unlocked = !locked;
    if locked {
        let now = OffsetDateTime::now_utc();
        // The objects already there that the copy needs, and every index,
        // key and config object of the bucket (a restore reads them all).
        let mut relock: std::collections::BTreeSet<(ObjectKind, String)> =
            stats.kept.iter().cloned().collect();
        relock.extend(
            have.keys()
                .filter(|(k, _)| {
                    matches!(k, ObjectKind::Index | ObjectKind::Key | ObjectKind::Config)
                })
                .cloned(),
        );
        for (kind, key) in relock {
            let state = store
                .object_lock(kind, &key)
                .map_err(|e| s3_failure(l, &e))?;
            let until = match state.retain_until {
                Some(u) if u > now && state.mode.is_some() => u,
                _ if state.legal_hold => continue,
                _ => match store
                    .extend_lock(kind, &key, now + retention)
                    .map_err(|e| s3_failure(l, &e))?
                {
                    hokan_s3::Extended::Extended { to, .. } => to,
                    hokan_s3::Extended::AlreadyLater { until } => until,
                },
            };
            earliest = Some(earliest.map_or(until, |e| e.min(until)));
        }
        super::anchor::write(ctx, &store, &medium, &head)?;
    }
    let at = ctx.now;
    let mode = match spec.mode {
        LockMode::Compliance => CatLockMode::Compliance,
        LockMode::Governance => CatLockMode::Governance,
    };
    let mut events = Vec::new();
    for id in &ids {
        let snapshot = SnapshotId::new(id.to_hex());
        events.push(Event::CopyRecorded {
            snapshot: snapshot.clone(),
            medium: medium.clone(),
            since: at,
            complete: true,
            with: Vec::new(),
        });
        events.push(Event::Protected {
            medium: medium.clone(),
            snapshot,
            at,
            mode,
            retention: match (unlocked, earliest) {
                (false, Some(until)) => Retention::Until { until },
                _ => Retention::Unlocked,
            },
        });
    }
    cat.record_all(at, ACTOR, events)
        .map_err(|e| ctx.catalog_failure(&e))?;
    let sent = stats.written;
    let snap_ids: Vec<String> = ids.iter().map(Id::to_hex).collect();
    if ctx.g.json {
        print_json(&json!({
            "to": to,
            "bucket": target.conf.bucket,
            "snapshots": snap_ids,
            "bytes_sent": sent,
            "bytes_already_there": plan.bytes().saturating_sub(sent),
            "locked": locked,
            "locked_until": earliest.filter(|_| !unlocked).map(rfc3339),
            "seconds": started.elapsed().as_secs_f64(),
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → s3:{name}: {} {}, {} {}{}",
            t(l, "copied", "コピーしました:"),
            snap_ids.len(),
            Bytes(sent),
            t(l, "sent", "送信"),
            Bytes(plan.bytes().saturating_sub(sent)),
            t(l, "already there", "既存"),
            match (unlocked, earliest) {
                (false, Some(u)) =>
                    format!("; {} {}", t(l, "locked until", "ロック期限"), ctx.when(u)),
                _ => format!(
                    "; {}",
                    t(
                        l,
                        "NOT LOCKED: never offline",
                        "ロックなし: オフライン扱いされません"
                    )
                ),
            }
        );
    }
    Ok(exit::OK)
}

/// A failed copy into the bucket.
fn copy_failure(ctx: &SiteCtx<'_>, name: &str, e: &JobError) -> Failure {
    match e {
        JobError::Destination(e) => store_failure(ctx, name, e),
        e => crate::job_error::failure(ctx.lang, e),
    }
}

fn store_failure(ctx: &SiteCtx<'_>, name: &str, e: &StoreError) -> Failure {
    let l = ctx.lang;
    if let Some(text) = super::s3_error_of(e).and_then(|s3| super::timeout_text(l, s3)) {
        return Failure::new(exit::ERROR, format!("s3:{name}: {text}"));
    }
    Failure::new(
        exit::ERROR,
        format!(
            "s3:{name}: {e}. {}",
            t(
                l,
                "Nothing was recorded as copied and nothing half-written is left; run the command again to resume",
                "コピーとしては何も記録していません。中途半端なオブジェクトは残りません。もう一度実行すると再開します"
            )
        ),
    )
}

/// An instant as RFC 3339 text, for `--json`.
pub(super) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
