//! [`probe`]: does the server really enforce object lock?
//!
//! A bucket can say "object lock: enabled" and still let data go: some
//! S3-compatible services (and test servers) store the retention but do not
//! enforce all of it. So the probe writes a small canary under a short
//! COMPLIANCE retention ([`PROBE_RETENTION`]) and attacks it the two ways
//! ransomware holding the credentials would:
//! 1. delete that object *version* (not just add a delete marker);
//! 2. shorten its COMPLIANCE retention (to one hour from now), which S3
//!    refuses for everyone, the account root included.
//!
//! Whether an attack worked is decided by looking afterwards (HeadObject of
//! the version), not by the answer's status alone: a server that answers 200
//! but keeps the version or the date has refused in effect. A server that
//! allows either does not enforce object lock; copies there must not count
//! as offline at full strength.
//!
//! The canaries are named `<prefix>/hokan-probe/enforce-<time>` and are never
//! left unlocked: a shortened canary still has an hour of retention and is set
//! back to its original date right away. If the delete succeeds, the canary
//! is gone and a second canary is written for the shortening test.
//!
//! Known: moto 5.2 refuses deleting a locked version but lets a COMPLIANCE
//! retention be shortened, so its probe reports `delete_version_refused =
//! true`, `shorten_refused = false`.

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::S3Error;
use crate::requests::{ceil_secs, rfc3339};
use crate::{LockMode, S3Store};

/// How long canaries of the probe and the bucket check stay locked: one day.
/// Long enough that the lock is certainly in force during the probe even
/// with a clock hours off; short enough that a few bytes a day of canaries
/// never add up (they can be deleted the next day).
pub const PROBE_RETENTION: Duration = Duration::from_secs(86_400);

/// How far the probe tries to shorten the canary's retention: to one hour
/// from now (still locked, so a server that allows it leaves no unlocked
/// canary behind).
const SHORTENED: Duration = Duration::from_secs(3_600);

/// What [`probe`] found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ProbeReport {
    /// Whether deleting the locked canary's version failed (the version is
    /// still there).
    pub delete_version_refused: bool,
    /// Whether shortening the canary's COMPLIANCE retention failed (the date
    /// is unchanged).
    pub shorten_refused: bool,
    /// The key of the (first) canary.
    pub canary_key: String,
    /// What happened, in English, for logs and the event log.
    pub detail: String,
}

impl ProbeReport {
    /// Whether the server enforces object lock: both attacks refused.
    pub fn enforced(&self) -> bool {
        self.delete_version_refused && self.shorten_refused
    }
}

/// The key of a new canary: `<prefix>/hokan-probe/<what>-<unix nanos>`.
pub(crate) fn canary_key(store: &S3Store, what: &str) -> String {
    format!(
        "{}hokan-probe/{what}-{}",
        store.prefix(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    )
}

/// Probe whether the store's bucket enforces object lock. Fails if the canary
/// cannot be written (no object lock on the bucket:
/// [`S3Error::LockNotEnabled`]) or the network fails.
pub fn probe(store: &S3Store) -> Result<ProbeReport, S3Error> {
    store.block_on(run(store))
}

/// A locked canary: key, version id, retain-until.
struct Canary {
    key: String,
    version: Option<String>,
    until: OffsetDateTime,
}

async fn write_canary(store: &S3Store) -> Result<Canary, S3Error> {
    let key = canary_key(store, "enforce");
    let until = ceil_secs(OffsetDateTime::now_utc() + PROBE_RETENTION);
    let body = bytes::Bytes::from_static(b"hokan object lock probe canary\n");
    let version = store
        .put_key(&key, body, Some((LockMode::Compliance, until)), false)
        .await?;
    // Some services only return the version id on HeadObject.
    let version = match version {
        Some(v) => Some(v),
        None => store.lock_of_key(&key, None).await?.version_id,
    };
    Ok(Canary {
        key,
        version,
        until,
    })
}

async fn run(store: &S3Store) -> Result<ProbeReport, S3Error> {
    let mut detail = Vec::new();
    let first = write_canary(store).await?;
    let canary_key = first.key.clone();
    let Some(version) = first.version.clone() else {
        return Err(S3Error::Request {
            op: "PutObject",
            bucket: store.bucket().to_string(),
            key: first.key,
            detail: "the locked canary has no version id: versioning is off, so object lock cannot be working".into(),
            code: None,
            transient: false,
            source: "no version id".into(),
        });
    };

    // 1. Delete the locked version.
    let attempt = store.delete_key_version(&first.key, &version, false).await;
    if let Err(e) = &attempt {
        if e.is_transient() {
            return Err(attempt.unwrap_err());
        }
    }
    let still_there = match store.head_key(&first.key, Some(&version)).await {
        Ok(_) => true,
        Err(S3Error::NotFound { .. }) => false,
        Err(e) => return Err(e),
    };
    let delete_version_refused = still_there;
    detail.push(match (&attempt, still_there) {
        (Err(e), true) => format!(
            "Deleting the locked canary version was refused ({}).",
            e.code().unwrap_or("error")
        ),
        (Ok(()), true) => "Deleting the locked canary version was answered with success, but the version is still there.".to_string(),
        (_, false) => "DANGER: the locked canary version was deleted: this server does not enforce object lock against deletion.".to_string(),
    });

    // 2. Shorten the COMPLIANCE retention (on a fresh canary if the first is gone).
    let target = if still_there {
        first
    } else {
        write_canary(store).await?
    };
    let target_version = target.version.as_deref();
    let shortened_to = ceil_secs(OffsetDateTime::now_utc() + SHORTENED);
    let attempt = store
        .put_retention(
            &target.key,
            target_version,
            LockMode::Compliance,
            shortened_to,
        )
        .await;
    if let Err(e) = &attempt {
        if e.is_transient() {
            return Err(attempt.unwrap_err());
        }
    }
    let after = store.lock_of_key(&target.key, target_version).await?;
    let shortened = match after.retain_until {
        Some(until) => until < target.until,
        // The lock is not visible to these credentials: trust the answer.
        None => attempt.is_ok(),
    };
    let shorten_refused = !shortened;
    match (&attempt, shortened) {
        (Err(e), false) => detail.push(format!(
            "Shortening the canary's COMPLIANCE retention was refused ({}).",
            e.code().unwrap_or("error")
        )),
        (Ok(()), false) => detail.push(
            "Shortening the canary's COMPLIANCE retention was answered with success, but the date is unchanged.".to_string(),
        ),
        (_, true) => {
            detail.push(format!(
                "DANGER: the canary's COMPLIANCE retention was shortened from {} to {}: whoever holds the credentials can shorten locks and then delete, so this server does not fully enforce object lock.",
                rfc3339(target.until),
                after.retain_until.map(rfc3339).unwrap_or_else(|| "an earlier date".into())
            ));
            // Put the original date back (extending is always allowed).
            if let Err(e) = store
                .put_retention(&target.key, target_version, LockMode::Compliance, target.until)
                .await
            {
                tracing::warn!(key = %target.key, error = %e, "could not restore the probe canary's retention; it stays locked for an hour");
            }
        }
    }

    let report = ProbeReport {
        delete_version_refused,
        shorten_refused,
        canary_key,
        detail: detail.join(" "),
    };
    tracing::info!(
        canary = %report.canary_key,
        delete_version_refused,
        shorten_refused,
        "object lock probe: {}",
        report.detail
    );
    Ok(report)
}
