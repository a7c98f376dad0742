//! Catalog anchors in S3 buckets: each copy job writes the catalog's head
//! as a locked object `anchors/<seq>-<hash>.json`
//! ([`hokan_catalog::anchor`], [`write_anchor`](super::write_anchor)), and
//! [`bucket_anchors`] reads them back so that `status` and `catalog verify`
//! can tell a rolled-back catalog.
//!
//! The anchor object is written under the same lock as the copy's objects
//! and never replaces an object: once written, nobody holding hokan's
//! credentials can change or remove it until its lock ends. Reading takes
//! each object's first version, so what an attacker writes on top of an
//! anchor is never read.

use hokan_catalog::anchor::{Anchor, AnchorError, MAX_ANCHOR_BYTES, STORE_ANCHOR_PREFIX};
use hokan_s3::{NetworkOptions, S3Config, S3Error, S3Store};
use hokan_site::{Site, TargetKind};

use crate::JobError;

/// How many anchors of a bucket are read, newest first: the newest genuine
/// anchor already pins the whole chain before it (each event's hash covers
/// the one before), so older ones add little but requests.
pub const ANCHORS_READ: usize = 16;

/// The network limits for reading anchors: short, so that `status` is not
/// held up for long by a bucket that does not answer.
pub fn quick_network() -> NetworkOptions {
    let s = std::time::Duration::from_secs;
    NetworkOptions {
        max_attempts: 2,
        initial_backoff: std::time::Duration::from_millis(200),
        max_backoff: s(1),
        connect_timeout: s(5),
        read_timeout: s(10),
        attempt_timeout: s(10),
        operation_timeout: s(20),
    }
}

/// The anchors read from one configured bucket, and what could not be.
#[derive(Debug)]
pub struct BucketAnchors {
    /// The bucket.
    pub bucket: String,
    /// Its endpoint (AWS's own for the region when none is configured).
    pub endpoint: String,
    /// The anchors read, newest first, each with its object name.
    pub anchors: Vec<(String, Anchor)>,
    /// What could not be read or was ignored, in the order met.
    pub problems: Vec<AnchorProblem>,
}

/// An anchor (or a whole bucket's) that could not be read or was ignored.
/// Rollback detection is incomplete when the bucket could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnchorProblem {
    /// The bucket could not be reached (its configuration, a connection):
    /// none of its anchors was read.
    Unreachable(JobError),
    /// The bucket's anchors could not be listed: none was read.
    Unlisted(S3Error),
    /// An anchor listed could not be read.
    Unread {
        /// The object name.
        path: String,
        /// Why.
        error: S3Error,
    },
    /// The object is larger than an anchor can be (ignored).
    TooLarge {
        /// The object name.
        path: String,
        /// Its size.
        size: u64,
    },
    /// The object is not an anchor (ignored).
    Unparsable {
        /// The object name.
        path: String,
        /// Why.
        error: AnchorError,
    },
    /// The object's content names another head than its name (ignored).
    Misnamed {
        /// The object name.
        path: String,
        /// The anchor read.
        anchor: Anchor,
    },
    /// The anchor was written by another site (two sites share the bucket
    /// and prefix?; ignored).
    OtherSite {
        /// The object name.
        path: String,
        /// The site that wrote it.
        site: String,
    },
}

/// The anchors of every `[[s3]]` bucket of `site`, newest first, at most
/// [`ANCHORS_READ`] a bucket, read from first versions with
/// [`quick_network`]; `site_name` is the name a genuine anchor carries.
pub fn bucket_anchors(site: &Site, site_name: &str) -> Vec<BucketAnchors> {
    let mut out = Vec::new();
    for target in site.targets() {
        let TargetKind::S3(bucket) = &target.kind else {
            continue;
        };
        let b = &bucket.connection;
        let endpoint = b
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", b.region));
        let mut found = BucketAnchors {
            bucket: b.bucket.clone(),
            endpoint,
            anchors: Vec::new(),
            problems: Vec::new(),
        };
        let store = super::config(b).and_then(|cfg| {
            let cfg = S3Config {
                original_versions: true,
                ..cfg
            };
            S3Store::connect_with(cfg, quick_network()).map_err(JobError::from)
        });
        match store {
            Ok(store) => read(&store, site_name, &mut found),
            Err(e) => found.problems.push(AnchorProblem::Unreachable(e)),
        }
        out.push(found);
    }
    out
}

/// Read the newest anchors of one bucket into `found`.
fn read(store: &S3Store, site_name: &str, found: &mut BucketAnchors) {
    let mut listed = match store.list_first_at(STORE_ANCHOR_PREFIX) {
        Ok(l) => l,
        Err(e) => {
            found.problems.push(AnchorProblem::Unlisted(e));
            return;
        }
    };
    // Names carry the seq with 20 digits: name order is chain order.
    listed.retain(|(path, _)| Anchor::is_object_name(path));
    listed.sort();
    for (path, size) in listed.into_iter().rev().take(ANCHORS_READ) {
        if size > MAX_ANCHOR_BYTES as u64 {
            found.problems.push(AnchorProblem::TooLarge { path, size });
            continue;
        }
        let bytes = match store.get_first_at(&path, MAX_ANCHOR_BYTES as u64) {
            Ok(b) => b,
            Err(error) => {
                found.problems.push(AnchorProblem::Unread { path, error });
                continue;
            }
        };
        let anchor = match Anchor::parse(&bytes) {
            Ok(a) => a,
            Err(error) => {
                found
                    .problems
                    .push(AnchorProblem::Unparsable { path, error });
                continue;
            }
        };
        if anchor.object_name() != path {
            found
                .problems
                .push(AnchorProblem::Misnamed { path, anchor });
            continue;
        }
        if anchor.site != site_name {
            found.problems.push(AnchorProblem::OtherSite {
                path,
                site: anchor.site,
            });
            continue;
        }
        found.anchors.push((path, anchor));
    }
}

/// How the catalog names an anchor of `found` at `path` when it checks it
/// (data the catalog keeps in both languages, like the evaluator's texts).
pub fn name(found: &BucketAnchors, path: &str) -> hokan_offline::Text {
    let (bucket, endpoint) = (&found.bucket, &found.endpoint);
    hokan_offline::Text::new(
        format!("anchor {path} in S3 bucket {bucket} at {endpoint}"),
        format!("S3 バケット {bucket}（{endpoint}）のアンカー {path}"),
    )
}

/// A note for each bucket (or anchor) of `found` that could not be read
/// or was ignored: rollback detection is then incomplete. `site_name` is
/// the site whose anchors were expected; `why` puts a bucket's
/// unreachability in the caller's words.
pub fn notes(
    found: &[BucketAnchors],
    site_name: &str,
    why: &dyn Fn(&JobError) -> String,
) -> Vec<hokan_offline::Text> {
    found
        .iter()
        .flat_map(|b| {
            b.problems
                .iter()
                .map(|p| note(&b.bucket, &b.endpoint, p, site_name, why))
        })
        .collect()
}

/// A bucket or anchor that could not be read, or an anchor ignored.
fn note(
    bucket: &str,
    endpoint: &str,
    problem: &AnchorProblem,
    site_name: &str,
    why: &dyn Fn(&JobError) -> String,
) -> hokan_offline::Text {
    use hokan_offline::Text;
    let unreadable = |why: &str| {
        Text::new(
            format!("could not read anchors from bucket {bucket} at {endpoint}: {why}; rollback detection incomplete"),
            format!("バケット {bucket}（{endpoint}）のアンカーを読めませんでした: {why}。巻き戻しの検出は不完全です"),
        )
    };
    let bad = |path: &str, why: String| {
        Text::new(
            format!("anchor {path} in bucket {bucket} at {endpoint} was ignored: {why}"),
            format!("バケット {bucket}（{endpoint}）のアンカー {path} を無視しました: {why}"),
        )
    };
    match problem {
        AnchorProblem::Unreachable(e) => unreadable(&why(e)),
        AnchorProblem::Unlisted(e) => unreadable(&e.to_string()),
        AnchorProblem::Unread { error, .. } => unreadable(&error.to_string()),
        AnchorProblem::TooLarge { path, size } => {
            bad(path, format!("{size} bytes is more than an anchor can be"))
        }
        AnchorProblem::Unparsable { path, error } => bad(path, error.to_string()),
        AnchorProblem::Misnamed { path, anchor } => bad(
            path,
            format!(
                "its content names head {}:{}, not its object name",
                anchor.seq, anchor.hash
            ),
        ),
        AnchorProblem::OtherSite { path, site } => bad(
            path,
            format!("it was written by site {site:?}, not {site_name:?} (two sites share the bucket and prefix?)"),
        ),
    }
}
