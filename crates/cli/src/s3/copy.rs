//! `hokan copy --to s3:NAME [SNAP...]`: the snapshots not yet in the bucket
//! (default: every snapshot of the primary repository without a complete
//! copy there), their objects sent under object lock. The job is
//! [`hokan_jobs::s3::run_copy`]; here are its arguments, output and
//! messages.

use hokan_jobs::s3::{CopyRun, S3Progress};
use hokan_jobs::JobError;
use hokan_repo::store::StoreError;
use serde_json::json;
use time::OffsetDateTime;

use super::{fail, s3_failure, target};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::progress::{Bar, BarProgress};

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
    let repo = crate::ctx::primary_repository(ctx)?;
    let catalog = ctx.catalog_path()?;
    let job = CopyRun {
        target: super::target_ref(&target),
        catalog: &catalog,
        specs,
        sync: hokan_jobs::catalog::SyncOptions {
            repository: ctx.conf.repository_label.as_deref(),
            sources: &ctx.conf.sources,
        },
        site: &ctx.conf.name,
        actor: ACTOR,
        now: ctx.now,
    };
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "s3");
    let done = hokan_jobs::s3::run_copy(&repo, &job, &BucketProgress(&bar));
    bar.finish();
    let done = done.map_err(|e| copy_failure(l, name, &e))?;
    if done.snapshots.is_empty() {
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
    let sent = done.bytes_sent;
    let snap_ids: Vec<&str> = done.snapshots.iter().map(|i| i.as_str()).collect();
    if ctx.g.json {
        print_json(&json!({
            "to": to,
            "bucket": done.bucket,
            "snapshots": snap_ids,
            "bytes_sent": sent,
            "bytes_already_there": done.bytes_already_there,
            "locked": done.locked,
            "locked_until": done.locked_until.map(rfc3339),
            "seconds": started.elapsed().as_secs_f64(),
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → s3:{name}: {} {}, {} {}{}",
            t(l, "copied", "コピーしました:"),
            snap_ids.len(),
            Bytes(sent),
            t(l, "sent", "送信"),
            Bytes(done.bytes_already_there),
            t(l, "already there", "既存"),
            match done.locked_until {
                Some(u) => format!("; {} {}", t(l, "locked until", "ロック期限"), ctx.when(u)),
                None => format!(
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

/// The bar, sized once the job knows what it sends.
struct BucketProgress<'a>(&'a Bar);

impl hokan_jobs::copy::CopyProgress for BucketProgress<'_> {
    fn copied(
        &self,
        obj: &hokan_repo::copy::CopyObject,
        outcome: hokan_jobs::copy::Outcome,
    ) -> Result<(), JobError> {
        BarProgress(self.0).copied(obj, outcome)
    }
}

impl S3Progress for BucketProgress<'_> {
    fn total(&self, bytes: u64) {
        self.0.set_total(bytes);
    }
}

/// A failed S3 copy job.
fn copy_failure(l: Lang, name: &str, e: &JobError) -> Failure {
    match e {
        JobError::Destination(e) => store_failure(l, name, e),
        JobError::Bucket(e) => s3_failure(l, e),
        JobError::BucketUnlocked { target, bucket } => Failure::new(
            exit::CONFIG,
            format!(
                "s3:{target} ({bucket}): {}",
                t(
                    l,
                    "the bucket has no object lock, so copies in it could be deleted by anyone holding the credentials and never count as offline. Create a bucket with object lock enabled (and versioning), or set allow_unlocked = true to copy there anyway (never offline)",
                    "バケットにオブジェクトロックがないため、認証情報を持つ誰でもコピーを削除でき、オフラインとは数えません。オブジェクトロック（とバージョニング）を有効にしたバケットを作るか、オフライン扱いされないことを承知で allow_unlocked = true を設定してください"
                )
            ),
        ),
        JobError::BucketAnchorWrite { object, source } => Failure::new(
            exit::ERROR,
            format!(
                "{} {object}: {}",
                t(
                    l,
                    "could not write the catalog anchor",
                    "カタログのアンカーを書けませんでした"
                ),
                s3_failure(l, source).message
            ),
        ),
        e => fail(l, e),
    }
}

fn store_failure(l: Lang, name: &str, e: &StoreError) -> Failure {
    if let Some(text) = hokan_jobs::s3::s3_error_of(e).and_then(|s3| super::timeout_text(l, s3)) {
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
