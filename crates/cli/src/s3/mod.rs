//! `hokan copy --to s3:NAME` and `hokan s3 check|extend-locks|restore|prune`:
//! copies in an S3 bucket under object lock (項番 ③-1).
//!
//! - [`args`]: the command line.
//! - [`copy`](mod@copy): the copy job, resumable: objects already in the bucket are
//!   not sent again, snapshots go last.
//! - [`manage`]: the bucket check and enforcement probe, lock extension,
//!   restore and prune.
//! - [`recheck`]: a re-checked copy's findings in words.
//! - [`anchor`]: the buckets' catalog anchors, as `status` checks them.
//!
//! The jobs are [`hokan_jobs::s3`]'s; here are their arguments, output,
//! messages and exit codes.
//!
//! The bucket is one medium in the catalog, named after the target. Each
//! copy is recorded with its protection: the earliest lock among the
//! objects the snapshot needs, so the evaluator calls it offline only until
//! then. The latest probe's outcome decides whether those locks count in
//! full (`Held`), only as weaker (`Shortenable`), or not at all (`Failed`).

pub mod anchor;
pub mod args;
mod copy;
pub mod manage;
pub mod recheck;

use std::sync::Arc;

use hokan_jobs::s3::{self as jobs, BucketRef};
use hokan_jobs::JobError;
use hokan_s3::{S3Config, S3Store};
use hokan_site::{S3Bucket, TargetKind};

pub use args::S3Cmd;
pub use copy::copy;

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

/// A configured S3 target, resolved.
pub type Target = crate::ctx::Pool<S3Bucket>;

/// Find `[[s3]] name = …` in the site configuration.
pub fn target(ctx: &SiteCtx<'_>, name: &str) -> Result<Target, Failure> {
    fn pick(k: &TargetKind) -> Option<&S3Bucket> {
        match k {
            TargetKind::S3(b) => Some(b),
            _ => None,
        }
    }
    crate::ctx::pool_of(ctx, name, pick, t(ctx.lang, "S3 target", "S3 保管先"))
}

/// Run `hokan s3 …`.
pub fn run(cmd: S3Cmd, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    match cmd {
        S3Cmd::Check { name } => manage::check(&ctx, &target(&ctx, &name)?),
        S3Cmd::ExtendLocks { name } => manage::extend_locks(&ctx, &target(&ctx, &name)?),
        S3Cmd::Restore {
            name,
            snapshot,
            target: to,
            latest_undamaged,
        } => manage::restore(&ctx, &target(&ctx, &name)?, &snapshot, to, latest_undamaged),
        S3Cmd::Prune { name } => manage::prune(&ctx, &target(&ctx, &name)?),
    }
}

/// Where and how to reach the target's bucket, its secret read from the
/// file the configuration names ([`hokan_jobs::s3::config`]).
fn config(ctx: &SiteCtx<'_>, target: &Target) -> Result<S3Config, Failure> {
    jobs::config(&target.conf.connection).map_err(|e| fail(ctx.lang, &e))
}

/// The network limits of a target ([`hokan_jobs::s3::network`]), and
/// `HOKAN_S3_ATTEMPTS` (attempts per request before giving up; default 8
/// with backoff up to 20 s, about two minutes of outage; fewer with a short
/// backoff for diagnosis and tests).
fn network(target: &Target) -> hokan_s3::NetworkOptions {
    let net = jobs::network(&target.conf.connection);
    match attempts() {
        Some(n) => jobs::with_attempts(net, n),
        None => net,
    }
}

/// `HOKAN_S3_ATTEMPTS`, if set to a number: attempts per S3 request, for
/// the `[[s3]]` targets and an S3 primary alike.
pub(crate) fn attempts() -> Option<u32> {
    std::env::var("HOKAN_S3_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
}

/// Connect to the bucket (see [`BucketRef::connect`]), shared as a store
/// a repository can be opened in.
fn connect(
    bucket: &BucketRef<'_>,
    l: Lang,
    lock: bool,
    originals: bool,
) -> Result<Arc<S3Store>, Failure> {
    bucket
        .connect(lock, originals)
        .map(Arc::new)
        .map_err(|e| fail(l, &e))
}

/// A failed S3 job: bucket errors named with what to check, the rest as
/// every job's ([`crate::job_error::failure`]).
pub(crate) fn fail(l: Lang, e: &JobError) -> Failure {
    match e {
        JobError::Bucket(e) => s3_failure(l, e),
        JobError::BucketObjects(e) => Failure::new(exit::ERROR, format!("s3: {e}")),
        JobError::S3SecretFile { path, source } => Failure::new(
            exit::CONFIG,
            format!(
                "{}: {source} ({})",
                path.display(),
                t(
                    l,
                    "the S3 secret access key file",
                    "S3 シークレットキーのファイル"
                )
            ),
        ),
        e => crate::job_error::failure(l, e),
    }
}

/// An S3 error as a failure.
fn s3_failure(lang: Lang, e: &hokan_s3::S3Error) -> Failure {
    if let Some(text) = timeout_text(lang, e) {
        return Failure::new(exit::ERROR, text);
    }
    Failure::new(
        exit::ERROR,
        format!(
            "{e}. {}",
            t(
                lang,
                "check the endpoint, the credentials and the network, then run the command again (a copy resumes where it stopped)",
                "エンドポイント、認証情報、ネットワークを確認して、もう一度実行してください（コピーは中断した所から再開します）"
            )
        ),
    )
}

/// The message of a request that ran out of time, naming the server; `None`
/// for any other error.
pub(crate) fn timeout_text(lang: Lang, e: &hokan_s3::S3Error) -> Option<String> {
    let hokan_s3::S3Error::Timeout {
        op,
        endpoint,
        bucket,
        limit,
        ..
    } = e
    else {
        return None;
    };
    let secs = limit.as_secs();
    Some(t(
        lang,
        &format!(
            "the S3 server {endpoint} (bucket {bucket}) did not answer {op} within {secs} s, retries included. Check that the server is running and reachable from this machine (network, proxy, firewall), or raise operation_timeout_secs of the [[s3]] target if the uplink is only slow, then run the command again (a copy resumes where it stopped)"
        ),
        &format!(
            "S3 サーバー {endpoint}（バケット {bucket}）が {op} に {secs} 秒以内（再試行を含む）に応答しませんでした。サーバーが動いていて、このマシンから到達できるか（ネットワーク、プロキシ、ファイアウォール）を確認し、回線が遅いだけなら [[s3]] の operation_timeout_secs を上げてから、もう一度実行してください（コピーは中断した所から再開します）"
        ),
    ).to_string())
}

/// The target as the S3 jobs that connect by themselves take it.
fn target_ref(target: &Target) -> jobs::Target<'_> {
    jobs::Target {
        name: &target.name,
        conf: &target.conf,
        retention: target.retention,
        network: network(target),
    }
}

/// The target as the S3 jobs take it.
fn bucket_ref<'a>(
    target: &'a Target,
    config: &'a S3Config,
    network: hokan_s3::NetworkOptions,
) -> BucketRef<'a> {
    BucketRef {
        name: &target.name,
        config,
        network,
        lock: jobs::lock_spec(&target.conf, target.retention),
        allow_unlocked: target.conf.allow_unlocked,
    }
}
