//! Judging the site on its catalog as evidence: the catalog must exist,
//! its chain verify, its tables equal the replay, and every head anchored
//! on offline media lie on its chain (a rolled-back catalog is caught).
//! The facts judged are the replayed ones, with every configured source
//! added, under the site's policy.

use std::path::Path;

use hokan_catalog::{Catalog, CatalogError, Expected, VerifyReport};
use hokan_offline::{evaluate, Evaluation, Policy, SourceName, Text};
use hokan_site::Site;
use time::OffsetDateTime;

use crate::s3::anchor::BucketAnchors;
use crate::JobError;

/// What a site is judged on.
#[derive(Debug)]
pub struct Judge<'a> {
    /// The catalog (never created: a missing one is untrusted).
    pub catalog: &'a Path,
    /// The offline policy the facts are judged under.
    pub policy: &'a Policy,
    /// The configured sources: one without generations is a finding, not
    /// silence.
    pub sources: &'a [String],
    /// The evaluation instant.
    pub now: OffsetDateTime,
    /// The site whose `[[s3]]` buckets' anchors are read
    /// ([`crate::s3::anchor::bucket_anchors`]), with the site name a
    /// genuine anchor carries; `None` reads no bucket.
    pub site: Option<(&'a Site, &'a str)>,
    /// Heads the caller has already read from media at hand (the anchor of
    /// a mounted cartridge), checked with the ones read from buckets.
    pub extra: Vec<Expected>,
}

/// A site judged on its catalog ([`judge`]).
pub struct Judged {
    /// The evaluation; [`Evaluation::untrusted`] when the catalog is not
    /// evidence.
    pub evaluation: Evaluation,
    /// The catalog, when it exists.
    pub catalog: Option<Catalog>,
    /// What verification found, when the catalog exists.
    pub report: Option<VerifyReport>,
    /// What was read from each bucket: its anchors, and what could not be
    /// read (rollback detection is then incomplete). Empty when the
    /// catalog does not exist (no bucket is read then).
    pub buckets: Vec<BucketAnchors>,
}

impl Judged {
    /// Whether the verdict stands on verified facts.
    pub fn trusted(&self) -> bool {
        !self.evaluation.is_untrusted()
    }
}

/// Judge the site on its catalog as evidence. The catalog must exist, its
/// chain verify, its tables equal the replay, and every anchor read from
/// the site's buckets (each named by `name`, in the caller's words: the
/// bucket and the anchor's object name) and every head of
/// [`Judge::extra`] lie on its chain. Anything less gives
/// [`Evaluation::untrusted`], never compliant. A missing catalog is not
/// created (and no bucket is read).
///
/// Errors: the catalog exists but cannot be opened or read
/// ([`JobError::Catalog`]).
pub fn judge(
    what: Judge<'_>,
    name: &dyn Fn(&BucketAnchors, &str) -> Text,
) -> Result<Judged, JobError> {
    let cat = match Catalog::open_existing(what.catalog) {
        Ok(c) => c,
        Err(e @ CatalogError::Missing(_)) => {
            return Ok(Judged {
                evaluation: Evaluation::untrusted(what.now, std::slice::from_ref(&e.text())),
                catalog: None,
                report: None,
                buckets: Vec::new(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let buckets = match what.site {
        Some((site, site_name)) => crate::s3::anchor::bucket_anchors(site, site_name),
        None => Vec::new(),
    };
    let mut expected = bucket_heads(&buckets, name);
    expected.extend(what.extra);
    let evidence = cat.evidence(&expected)?;
    let evaluation = match evidence.facts {
        Some(mut facts) => {
            for s in what.sources {
                let source = SourceName::new(s.as_str());
                if !facts.sources.contains(&source) {
                    facts.sources.push(source);
                }
            }
            evaluate(&facts, what.policy, what.now)
        }
        None => {
            let findings: Vec<Text> = evidence
                .report
                .problems
                .iter()
                .map(|p| p.message.clone())
                .collect();
            Evaluation::untrusted(what.now, &findings)
        }
    };
    Ok(Judged {
        evaluation,
        catalog: Some(cat),
        report: Some(evidence.report),
        buckets,
    })
}

/// The heads anchored in `buckets`, each named by `name` (the bucket and
/// the anchor's object name), to check a catalog against
/// (`Catalog::evidence`).
pub fn bucket_heads(
    buckets: &[BucketAnchors],
    name: &dyn Fn(&BucketAnchors, &str) -> Text,
) -> Vec<Expected> {
    buckets
        .iter()
        .flat_map(|b| {
            b.anchors
                .iter()
                .map(move |(path, anchor)| anchor.expected(name(b, path)))
        })
        .collect()
}
