//! `hokan s3 check|extend-locks|restore|prune`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use hokan_catalog::Event;
use hokan_offline::{LockMode as CatLockMode, ProbeOutcome, Retention, SnapshotId};
use hokan_repo::store::{ObjectKind, Protection, Store};
use hokan_repo::Repository;
use hokan_s3::LockMode;
use serde_json::json;
use time::OffsetDateTime;

use super::{connect, ensure_medium, lock_spec, s3_failure, Target};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::job_error::lock_pool;

/// The bucket's own repository (same passphrase as the primary).
fn open(ctx: &SiteCtx<'_>, store: &Arc<hokan_s3::S3Store>) -> Result<Repository, Failure> {
    let store: Arc<dyn Store> = store.clone();
    crate::ctx::open_repository_in(ctx.g, ctx.lang, store, &ctx.conf)
}

pub fn check(ctx: &SiteCtx<'_>, target: &Target) -> Result<i32, Failure> {
    const ACTOR: &str = "hokan s3 check";
    let l = ctx.lang;
    let store = connect(ctx, target, false)?;
    let report = hokan_s3::bucket_check(&store).map_err(|e| s3_failure(l, &e))?;
    let probe = if report.object_lock_enabled {
        Some(hokan_s3::probe(&store).map_err(|e| s3_failure(l, &e))?)
    } else {
        None
    };
    let (outcome, detail) = match &probe {
        None => (
            ProbeOutcome::Failed,
            "object lock is not enabled on the bucket: nothing stops a delete".to_owned(),
        ),
        Some(p) if !p.delete_version_refused => (
            ProbeOutcome::Failed,
            format!("a locked object version was deleted: {}", p.detail),
        ),
        Some(p) if !p.shorten_refused => (
            ProbeOutcome::Shortenable,
            format!(
                "deleting a locked version was refused, but its compliance retention could be shortened: {}",
                p.detail
            ),
        ),
        Some(p) => (
            ProbeOutcome::Held,
            format!(
                "deleting a locked version and shortening its retention were both refused: {}",
                p.detail
            ),
        ),
    };
    let mut cat = ctx.catalog()?;
    let medium = ensure_medium(ctx, &mut cat, target, ACTOR)?;
    cat.record(
        ctx.now,
        ACTOR,
        Event::LockProbed {
            medium: medium.clone(),
            at: ctx.now,
            outcome,
            detail: Some(detail.clone()),
        },
    )
    .map_err(|e| ctx.catalog_failure(&e))?;
    // Every copy the catalog records here: still whole and locked?
    let copies = super::recheck::recheck_copies(ctx, target, &cat, &medium)?;
    let downgraded = super::recheck::record(ctx, &mut cat, &medium, &copies, ACTOR)?;
    let broken: Vec<&super::recheck::CopyRecheck> = copies.iter().filter(|c| !c.whole()).collect();
    let verdict = match outcome {
        ProbeOutcome::Held => t(
            l,
            "object lock is enforced: copies here can count as ③-1",
            "オブジェクトロックは強制されています: ここのコピーは ③-1 として数えられます",
        ),
        ProbeOutcome::Shortenable => t(
            l,
            "object lock is NOT fully enforced (retention can be shortened): copies here count only as weaker",
            "オブジェクトロックは完全には強制されていません（保持期間を短縮できる）: ここのコピーは弱い扱いです",
        ),
        ProbeOutcome::Failed => t(
            l,
            "object lock is NOT enforced: copies here do not count as offline",
            "オブジェクトロックは強制されていません: ここのコピーはオフラインとして数えません",
        ),
    };
    let copies_json: Vec<serde_json::Value> = copies
        .iter()
        .map(|c| {
            json!({
                "snapshot": c.snapshot,
                "objects": c.objects,
                "whole": c.whole(),
                "unplannable": c.unplannable,
                "problems": c.findings.iter().map(|f| json!({
                    "key": f.key,
                    "kind": f.kind.to_string(),
                    "name": f.name,
                    "fault": match &f.fault {
                        hokan_s3::ObjectFault::Missing => "missing",
                        hokan_s3::ObjectFault::Unlocked { .. } => "unlocked",
                        hokan_s3::ObjectFault::Shortened { .. } => "shortened",
                        hokan_s3::ObjectFault::WeakerMode { .. } => "weaker-mode",
                        _ => "other",
                    },
                    "detail": super::recheck::describe(l, f),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    if ctx.g.json {
        print_json(&json!({
            "target": target.name,
            "bucket": target.conf.bucket,
            "check": report,
            "probe": probe,
            "outcome": outcome,
            "detail": detail,
            "verdict": verdict,
            "copies": copies_json,
            "copies_not_whole": broken.len(),
            "copies_now_incomplete": downgraded,
        }));
    } else if !ctx.g.quiet {
        println!("s3:{} ({})", target.name, target.conf.bucket);
        println!(
            "  {}: {}",
            t(l, "versioning", "バージョニング"),
            match report.versioning {
                hokan_s3::Versioning::Enabled => t(l, "enabled", "有効"),
                hokan_s3::Versioning::Suspended => t(l, "SUSPENDED", "停止中"),
                hokan_s3::Versioning::Off => t(l, "OFF", "無効"),
            }
        );
        println!(
            "  {}: {}",
            t(l, "object lock", "オブジェクトロック"),
            if report.object_lock_enabled {
                t(l, "enabled", "有効")
            } else {
                t(l, "NOT enabled", "無効")
            }
        );
        if let Some(skew) = report.clock_skew_secs {
            println!("  {}: {skew} s", t(l, "clock skew", "時刻のずれ"));
        }
        for w in &report.warnings {
            let w = if l == Lang::Ja { &w.ja } else { &w.en };
            println!("  {}: {w}", t(l, "WARNING", "警告"));
        }
        if let Some(p) = &probe {
            println!(
                "  {}: {} / {}",
                t(
                    l,
                    "probe (delete a locked version / shorten its retention)",
                    "検査（ロック中の版の削除 / 保持期間の短縮）"
                ),
                if p.delete_version_refused {
                    t(l, "refused", "拒否")
                } else {
                    t(l, "ALLOWED", "許可された")
                },
                if p.shorten_refused {
                    t(l, "refused", "拒否")
                } else {
                    t(l, "ALLOWED", "許可された")
                },
            );
        }
        println!("  → {verdict}");
        println!(
            "  {}: {} / {}",
            t(
                l,
                "recorded copies whole and locked",
                "記録されたコピーのうち完全でロック中"
            ),
            copies.len() - broken.len(),
            copies.len()
        );
    }
    // Broken copies are told even with --quiet and --json: they change the
    // verdict.
    for c in &broken {
        eprintln!(
            "hokan: s3:{}: {} {} {}",
            target.name,
            t(l, "the copy of snapshot", "スナップショット"),
            &c.snapshot.as_str()[..c.snapshot.as_str().len().min(12)],
            t(
                l,
                "is no longer whole and locked; it counts as online until `hokan copy --to s3:NAME` makes it whole again:",
                "のコピーは完全でもロック中でもなくなりました。`hokan copy --to s3:NAME` で元に戻すまでオンライン扱いです:"
            )
        );
        if let Some(why) = &c.unplannable {
            eprintln!(
                "  {}: {why}",
                t(
                    l,
                    "the bucket cannot restore it",
                    "バケットから復元できません"
                )
            );
        }
        for f in &c.findings {
            eprintln!("  {}", super::recheck::describe(l, f));
        }
    }
    Ok(if outcome == ProbeOutcome::Held && broken.is_empty() {
        exit::OK
    } else {
        exit::ERROR
    })
}

/// Objects by kind and name.
type Objects = BTreeSet<(ObjectKind, String)>;

/// The objects the bucket's snapshots need: config, keys, every index file
/// and snapshot, and the packs their trees reach.
fn needed(
    ctx: &SiteCtx<'_>,
    repo: &Repository,
    store: &hokan_s3::S3Store,
) -> Result<(Vec<hokan_format::Id>, Objects), Failure> {
    let l = ctx.lang;
    let (snaps, _) = repo.snapshots().map_err(|e| exit::from_repo(l, &e))?;
    let ids: Vec<hokan_format::Id> = snaps.into_iter().map(|(id, _)| id).collect();
    let mut need = BTreeSet::new();
    if !ids.is_empty() {
        let plan = repo.copy_plan(&ids).map_err(|e| exit::from_repo(l, &e))?;
        for o in plan.objects.iter().filter(|o| o.bytes.is_none()) {
            need.insert((o.kind, o.name.clone()));
        }
    }
    for kind in [ObjectKind::Index, ObjectKind::Snapshot, ObjectKind::Key] {
        for o in store
            .list(kind)
            .map_err(|e| Failure::new(exit::ERROR, format!("s3: {e}")))?
        {
            need.insert((kind, o.name));
        }
    }
    Ok((ids, need))
}

pub fn extend_locks(ctx: &SiteCtx<'_>, target: &Target) -> Result<i32, Failure> {
    const ACTOR: &str = "hokan s3 extend-locks";
    let l = ctx.lang;
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), target.name.as_str(), l)?;
    // First versions: the keys, config and objects hokan wrote and locked,
    // whatever was written on top of them since.
    let store = super::connect_as(ctx, target, true, true)?;
    let repo = open(ctx, &store)?;
    let (ids, need) = needed(ctx, &repo, &store)?;
    let spec = lock_spec(target);
    let until = OffsetDateTime::now_utc()
        + time::Duration::try_from(spec.retention).unwrap_or(time::Duration::ZERO);
    let mut earliest: Option<OffsetDateTime> = None;
    let mut extended = 0usize;
    for (kind, name) in &need {
        let now_until = match store
            .extend_lock(*kind, name, until)
            .map_err(|e| s3_failure(l, &e))?
        {
            hokan_s3::Extended::Extended { to, .. } => {
                extended += 1;
                to
            }
            hokan_s3::Extended::AlreadyLater { until } => until,
        };
        earliest = Some(earliest.map_or(now_until, |e: OffsetDateTime| e.min(now_until)));
    }
    let medium = ensure_medium(ctx, &mut cat, target, ACTOR)?;
    let mode = match spec.mode {
        LockMode::Compliance => CatLockMode::Compliance,
        LockMode::Governance => CatLockMode::Governance,
    };
    let on_medium: Vec<SnapshotId> = cat
        .copies()
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .filter(|c| c.medium == medium && c.complete)
        .map(|c| c.snapshot)
        .collect();
    let mut events = Vec::new();
    if let Some(until) = earliest {
        for id in &ids {
            let snapshot = SnapshotId::new(id.to_hex());
            if on_medium.contains(&snapshot) {
                events.push(Event::Protected {
                    medium: medium.clone(),
                    snapshot,
                    at: ctx.now,
                    mode,
                    retention: Retention::Until { until },
                });
            }
        }
    }
    cat.record_all(ctx.now, ACTOR, events)
        .map_err(|e| ctx.catalog_failure(&e))?;
    if ctx.g.json {
        print_json(&json!({
            "target": target.name, "objects": extended, "snapshots": ids.len(),
            "locked_until": earliest.map(super::copy::rfc3339),
        }));
    } else if !ctx.g.quiet {
        println!(
            "s3:{}: {} {extended} {}, {} {}",
            target.name,
            t(l, "locks of", "ロック延長:"),
            t(l, "objects extended", "オブジェクト"),
            t(l, "earliest now", "最も早い期限"),
            earliest.map(|u| ctx.when(u)).unwrap_or_else(|| "-".into())
        );
    }
    Ok(exit::OK)
}

pub fn restore(
    ctx: &SiteCtx<'_>,
    target: &Target,
    snapshot: &str,
    to: PathBuf,
    latest_undamaged: bool,
) -> Result<i32, Failure> {
    // The first version of every object: what hokan wrote and locked, even
    // if someone wrote or deleted on top of it since.
    let store = super::connect_as(ctx, target, false, true)?;
    let repo = open(ctx, &store)?;
    crate::ctx::restore::restore_snapshot(
        ctx.g,
        ctx.lang,
        &repo,
        snapshot,
        to,
        Vec::new(),
        false,
        None,
        latest_undamaged,
    )
}

pub fn prune(ctx: &SiteCtx<'_>, target: &Target) -> Result<i32, Failure> {
    const ACTOR: &str = "hokan s3 prune";
    let l = ctx.lang;
    let started = ctx.now;
    let mut cat = ctx.catalog()?;
    // Not while a copy is sending objects its snapshot does not name yet.
    let _lock = lock_pool(cat.path().expect("a file catalog"), target.name.as_str(), l)?;
    // What the snapshots need is read from first versions (what hokan
    // wrote); deletions go through the plain store.
    let originals = super::connect_as(ctx, target, false, true)?;
    let repo = open(ctx, &originals)?;
    let (_, need) = needed(ctx, &repo, &originals)?;
    let store = connect(ctx, target, false)?;
    let now = OffsetDateTime::now_utc();
    let mut deleted = Vec::new();
    let mut waiting = Vec::new();
    let packs = store
        .list(ObjectKind::Pack)
        .map_err(|e| Failure::new(exit::ERROR, format!("s3: {e}")))?;
    for o in packs {
        if need.contains(&(ObjectKind::Pack, o.name.clone())) {
            continue;
        }
        // Never try to delete a locked object: ask first.
        let p = store
            .protection(ObjectKind::Pack, &o.name)
            .map_err(|e| Failure::new(exit::ERROR, format!("s3: {e}")))?;
        let free_at = match p {
            Protection::None => None,
            Protection::Until { unix_secs, .. } if unix_secs <= now.unix_timestamp() => None,
            Protection::Until { unix_secs, .. } => {
                Some(OffsetDateTime::from_unix_timestamp(unix_secs).unwrap_or(now))
            }
            Protection::Indefinite | Protection::Unknown => {
                waiting.push(json!({"pack": o.name, "after": null}));
                continue;
            }
        };
        match free_at {
            None => {
                store
                    .delete(ObjectKind::Pack, &o.name)
                    .map_err(|e| Failure::new(exit::ERROR, format!("s3: {e}")))?;
                deleted.push(o.name);
            }
            Some(at) => waiting
                .push(json!({"pack": o.name, "after": super::copy::rfc3339(at), "bytes": o.size})),
        }
    }
    let detail = json!({"deleted": deleted, "waiting": waiting});
    cat.record(
        ctx.now,
        ACTOR,
        Event::JobFinished {
            job: "s3-prune".into(),
            target: format!("s3:{}", target.name),
            started_at: started,
            finished_at: ctx.now,
            outcome: "ok".into(),
            detail: detail.clone(),
        },
    )
    .map_err(|e| ctx.catalog_failure(&e))?;
    if ctx.g.json {
        print_json(&json!({"target": target.name, "deleted": deleted.len(), "waiting": waiting}));
    } else if !ctx.g.quiet {
        println!(
            "s3:{}: {} {}, {} {}",
            target.name,
            deleted.len(),
            t(l, "unneeded packs deleted", "個の不要なパックを削除"),
            waiting.len(),
            t(
                l,
                "still locked (deleted by a later prune once their lock has run out; see --json for the dates)",
                "個はロック中（ロック期限後の prune で削除します。日付は --json で確認できます）"
            )
        );
    }
    Ok(exit::OK)
}
