//! `s3 check`: the bucket's settings and a probe that object lock is
//! enforced ([`probe`]), then the probe's outcome recorded and every copy
//! the catalog records in the bucket re-checked ([`check`]).
//!
//! The latest probe's outcome decides whether the bucket's locks count in
//! full (`Held`), only as weaker (`Shortenable`), or not at all (`Failed`).
//! Two steps so that a caller reaches the bucket before it opens the
//! catalog.

use hokan_catalog::{Catalog, Event};
use hokan_offline::{MediumId, ProbeOutcome};
use hokan_s3::{BucketReport, ProbeReport};
use time::OffsetDateTime;

use super::recheck::{self, CopyRecheck, Repositories};
use super::{ensure_medium, BucketRef};
use crate::JobError;

/// What the bucket's settings and the enforcement probe found.
#[derive(Debug)]
pub struct LockProbe {
    /// Versioning, object lock, default retention, rights, clock skew.
    pub report: BucketReport,
    /// The probe (delete a locked version, shorten its retention); `None`
    /// when the bucket has no object lock (nothing to probe).
    pub probe: Option<ProbeReport>,
}

impl LockProbe {
    /// How far the bucket's locks can be trusted.
    pub fn outcome(&self) -> ProbeOutcome {
        match &self.probe {
            None => ProbeOutcome::Failed,
            Some(p) if !p.delete_version_refused => ProbeOutcome::Failed,
            Some(p) if !p.shorten_refused => ProbeOutcome::Shortenable,
            Some(_) => ProbeOutcome::Held,
        }
    }

    /// The probe's detail as the catalog records it (`LockProbed`; short
    /// English, like a log line).
    pub fn detail(&self) -> String {
        match &self.probe {
            None => "object lock is not enabled on the bucket: nothing stops a delete".to_owned(),
            Some(p) if !p.delete_version_refused => {
                format!("a locked object version was deleted: {}", p.detail)
            }
            Some(p) if !p.shorten_refused => format!(
                "deleting a locked version was refused, but its compliance retention could be shortened: {}",
                p.detail
            ),
            Some(p) => format!(
                "deleting a locked version and shortening its retention were both refused: {}",
                p.detail
            ),
        }
    }
}

/// Check the bucket's settings and, if it has object lock, probe that the
/// lock is enforced. Nothing is recorded. Errors: [`JobError::Bucket`].
pub fn probe(bucket: &BucketRef<'_>) -> Result<LockProbe, JobError> {
    let store = bucket.connect(false, false)?;
    let report = hokan_s3::bucket_check(&store)?;
    let probe = if report.object_lock_enabled {
        Some(hokan_s3::probe(&store)?)
    } else {
        None
    };
    Ok(LockProbe { report, probe })
}

/// What [`check`] found and recorded.
#[derive(Debug)]
pub struct BucketCheck {
    /// The settings and the probe.
    pub probe: LockProbe,
    /// The bucket's medium in the catalog.
    pub medium: MediumId,
    /// Every copy the catalog records in the bucket, re-checked.
    pub copies: Vec<CopyRecheck>,
    /// How many copies counted complete became incomplete.
    pub downgraded: usize,
}

impl BucketCheck {
    /// The copies that are not whole and locked as recorded.
    pub fn broken(&self) -> impl Iterator<Item = &CopyRecheck> {
        self.copies.iter().filter(|c| !c.whole())
    }

    /// Whether the lock is enforced and every recorded copy is whole.
    pub fn ok(&self) -> bool {
        self.probe.outcome() == ProbeOutcome::Held && self.broken().next().is_none()
    }
}

/// Record the probe's outcome (the bucket added to the catalog's media if
/// it is not there yet), re-check every copy recorded in the bucket
/// ([`recheck::recheck_copies`]) and record those no longer whole as
/// incomplete ([`recheck::record`]).
pub fn check(
    bucket: &BucketRef<'_>,
    cat: &mut Catalog,
    probe: LockProbe,
    repos: &mut dyn Repositories,
    now: OffsetDateTime,
    actor: &str,
) -> Result<BucketCheck, JobError> {
    let medium = ensure_medium(cat, bucket, now, actor)?;
    cat.record(
        now,
        actor,
        Event::LockProbed {
            medium: medium.clone(),
            at: now,
            outcome: probe.outcome(),
            detail: Some(probe.detail()),
        },
    )?;
    let copies = recheck::recheck_copies(bucket, cat, &medium, repos)?;
    let downgraded = recheck::record(cat, &medium, &copies, now, actor)?;
    Ok(BucketCheck {
        probe,
        medium,
        copies,
        downgraded,
    })
}
