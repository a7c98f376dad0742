//! `hokan s3 check|extend-locks|restore|prune`: the jobs are
//! [`hokan_jobs::s3::check`] and [`hokan_jobs::s3::locks`]; here are their
//! output and messages.

use std::path::PathBuf;
use std::sync::Arc;

use hokan_jobs::s3::recheck::Repositories;
use hokan_jobs::s3::{self as jobs};
use hokan_offline::ProbeOutcome;
use hokan_repo::store::Store;
use hokan_repo::Repository;
use serde_json::json;

use super::{bucket_ref, connect, fail, Target};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::job_error::lock_pool;

/// The bucket's own repository (same passphrase as the primary).
fn open(ctx: &SiteCtx<'_>, store: Arc<dyn Store>) -> Result<Repository, Failure> {
    crate::ctx::open_repository_in(ctx.g, ctx.lang, store, &ctx.conf)
}

/// The repositories a re-check opens, with the site's passphrase; why the
/// bucket's could not be opened is kept for the output.
pub(super) struct Repos<'a, 'b> {
    ctx: &'a SiteCtx<'b>,
    /// Why the bucket's repository could not be opened, if it could not.
    pub not_opened: Option<String>,
}

impl Repositories for Repos<'_, '_> {
    fn bucket(&mut self, store: Arc<dyn Store>) -> Option<Repository> {
        open(self.ctx, store)
            .map_err(|f| self.not_opened = Some(f.message))
            .ok()
    }

    fn primary(&mut self) -> Option<Repository> {
        crate::ctx::primary_repository(self.ctx).ok()
    }
}

pub fn check(ctx: &SiteCtx<'_>, target: &Target) -> Result<i32, Failure> {
    const ACTOR: &str = "hokan s3 check";
    let l = ctx.lang;
    let config = super::config(ctx, target)?;
    let bucket = bucket_ref(target, &config, super::network(target));
    let probe = jobs::check::probe(&bucket).map_err(|e| fail(l, &e))?;
    let mut cat = ctx.catalog()?;
    let mut repos = Repos {
        ctx,
        not_opened: None,
    };
    let done = jobs::check::check(&bucket, &mut cat, probe, &mut repos, ctx.now, ACTOR)
        .map_err(|e| fail(l, &e))?;
    let (report, probe) = (&done.probe.report, &done.probe.probe);
    let (outcome, detail) = (done.probe.outcome(), done.probe.detail());
    let copies = &done.copies;
    let broken: Vec<_> = done.broken().collect();
    let why = |c| super::recheck::unplannable(c, repos.not_opened.as_deref());
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
                "unplannable": why(c),
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
            "bucket": target.conf.connection.bucket,
            "check": report,
            "probe": probe,
            "outcome": outcome,
            "detail": detail,
            "verdict": verdict,
            "copies": copies_json,
            "copies_not_whole": broken.len(),
            "copies_now_incomplete": done.downgraded,
        }));
    } else if !ctx.g.quiet {
        println!("s3:{} ({})", target.name, target.conf.connection.bucket);
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
        if let Some(why) = why(c) {
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
    Ok(if done.ok() { exit::OK } else { exit::ERROR })
}

pub fn extend_locks(ctx: &SiteCtx<'_>, target: &Target) -> Result<i32, Failure> {
    const ACTOR: &str = "hokan s3 extend-locks";
    let l = ctx.lang;
    let catalog = ctx.catalog_path()?;
    /// A failure of the job, or of opening the bucket's repository.
    enum Failed {
        Job(hokan_jobs::JobError),
        Open(Failure),
    }
    impl From<hokan_jobs::JobError> for Failed {
        fn from(e: hokan_jobs::JobError) -> Failed {
            Failed::Job(e)
        }
    }
    let done = jobs::run_extend_locks(
        &super::target_ref(target),
        &catalog,
        ctx.now,
        ACTOR,
        |store| open(ctx, store).map_err(Failed::Open),
    )
    .map_err(|e| match e {
        Failed::Job(e) => fail(l, &e),
        Failed::Open(f) => f,
    })?;
    if ctx.g.json {
        print_json(&json!({
            "target": target.name, "objects": done.extended, "snapshots": done.snapshots,
            "locked_until": done.locked_until.map(super::copy::rfc3339),
        }));
    } else if !ctx.g.quiet {
        println!(
            "s3:{}: {} {} {}, {} {}",
            target.name,
            t(l, "locks of", "ロック延長:"),
            done.extended,
            t(l, "objects extended", "オブジェクト"),
            t(l, "earliest now", "最も早い期限"),
            done.locked_until
                .map(|u| ctx.when(u))
                .unwrap_or_else(|| "-".into())
        );
    }
    Ok(exit::OK)
}

/// The repository in the bucket as hokan wrote it: the first version of
/// every object, what hokan wrote and locked, even if someone wrote or
/// deleted on top of it since. Restores and drills read this.
pub fn first_versions(ctx: &SiteCtx<'_>, target: &Target) -> Result<Repository, Failure> {
    let config = super::config(ctx, target)?;
    let bucket = bucket_ref(target, &config, super::network(target));
    let store = connect(&bucket, ctx.lang, false, true)?;
    open(ctx, store)
}

pub fn restore(
    ctx: &SiteCtx<'_>,
    target: &Target,
    snapshot: &str,
    to: PathBuf,
    latest_undamaged: bool,
) -> Result<i32, Failure> {
    let repo = first_versions(ctx, target)?;
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
    let config = super::config(ctx, target)?;
    let bucket = bucket_ref(target, &config, super::network(target));
    // What the snapshots need is read from first versions (what hokan
    // wrote); deletions go through the plain store.
    let originals = connect(&bucket, l, false, true)?;
    let repo = open(ctx, originals.clone())?;
    let done = jobs::locks::prune(
        &bucket, &originals, &repo, &mut cat, started, ctx.now, ACTOR,
    )
    .map_err(|e| fail(l, &e))?;
    if ctx.g.json {
        print_json(
            &json!({"target": target.name, "deleted": done.deleted.len(), "waiting": done.waiting_json()}),
        );
    } else if !ctx.g.quiet {
        println!(
            "s3:{}: {} {}, {} {}",
            target.name,
            done.deleted.len(),
            t(l, "unneeded packs deleted", "個の不要なパックを削除"),
            done.waiting.len(),
            t(
                l,
                "still locked (deleted by a later prune once their lock has run out; see --json for the dates)",
                "個はロック中（ロック期限後の prune で削除します。日付は --json で確認できます）"
            )
        );
    }
    Ok(exit::OK)
}
