//! Judging the site on its catalog as evidence
//! ([`hokan_jobs::site::judge()`]), with the notes on anchors that could not
//! be read in the person's words, and the exit code of a verdict.

use hokan_catalog::{Catalog, VerifyReport};
use hokan_offline::{Evaluation, Text};

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::s3::anchor::{anchor_name, notes};

impl SiteCtx<'_> {
    /// Judge the site on its catalog as evidence
    /// ([`hokan_jobs::site::judge()`]): the catalog must exist, its chain
    /// verify, its tables equal the replay, and every anchor read from
    /// offline media (the configured buckets') lie on its chain. The facts
    /// judged are the replayed ones, with every source of hokan.toml added
    /// (a configured source without generations is a finding, not
    /// silence). Anything less gives [`Evaluation::untrusted`]: never
    /// compliant. A missing catalog is not created.
    pub fn judge(&self) -> Result<Judged, Failure> {
        self.judge_with(Vec::new())
    }

    /// [`SiteCtx::judge`], with heads the caller has already read from
    /// media at hand (the anchor of a mounted cartridge) added to the ones
    /// gathered.
    pub fn judge_with(&self, extra: Vec<hokan_catalog::Expected>) -> Result<Judged, Failure> {
        let path = self.catalog_path()?;
        // A vault's copies count only from its signed receipts: read the
        // inbox first.
        let vault_problems = self.ingest_vaults();
        let what = hokan_jobs::site::Judge {
            catalog: &path,
            policy: &self.conf.policy,
            sources: &self.conf.sources,
            now: self.now,
            site: self
                .conf
                .loaded
                .as_ref()
                .map(|s| (s, self.conf.name.as_str())),
            extra,
        };
        let mut judged = hokan_jobs::site::judge(what, &anchor_name).map_err(|e| match e {
            hokan_jobs::JobError::Catalog(c) => self.catalog_failure(&c),
            e => crate::job_error::failure(self.lang, &e),
        })?;
        hokan_jobs::vault::add_problems(&mut judged.evaluation, &vault_problems);
        Ok(Judged {
            anchor_notes: notes(self, &judged.buckets),
            evaluation: judged.evaluation,
            catalog: judged.catalog,
            report: judged.report,
        })
    }
}

/// A site judged on its catalog ([`SiteCtx::judge`]).
pub struct Judged {
    /// The evaluation; [`Evaluation::untrusted`] when the catalog is not
    /// evidence.
    pub evaluation: Evaluation,
    /// The catalog, when it exists.
    pub catalog: Option<Catalog>,
    /// What verification found, when the catalog exists.
    pub report: Option<VerifyReport>,
    /// Anchors that could not be read (rollback detection incomplete).
    pub anchor_notes: Vec<Text>,
}

impl Judged {
    /// The judged site as the library's gatherers take it
    /// ([`hokan_jobs::site::report`]), and the notes on anchors that could
    /// not be read, already in the person's words.
    pub fn into_jobs(self) -> (hokan_jobs::site::Judged, Vec<Text>) {
        let judged = hokan_jobs::site::Judged {
            evaluation: self.evaluation,
            catalog: self.catalog,
            report: self.report,
            buckets: Vec::new(),
        };
        (judged, self.anchor_notes)
    }

    /// Whether the verdict stands on verified facts.
    pub fn trusted(&self) -> bool {
        !self.evaluation.is_untrusted()
    }

    /// The exit code of a command that judges: 0 compliant, 9 not, 12
    /// untrusted.
    pub fn exit_code(&self) -> i32 {
        if !self.trusted() {
            exit::UNTRUSTED
        } else if self.evaluation.compliant {
            exit::OK
        } else {
            exit::NOT_COMPLIANT
        }
    }
}
