//! Judging the site on its catalog as evidence, with the anchors read
//! from offline media ([`super::anchors::gather`]).

use hokan_catalog::{Catalog, CatalogError, VerifyReport};
use hokan_offline::{evaluate, Evaluation, SourceName, Text};

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};

impl SiteCtx<'_> {
    /// Judge the site on its catalog as evidence: the catalog must exist,
    /// its chain verify, its tables equal the replay, and every anchor read
    /// from offline media ([`super::anchors::gather`]) lie on its chain. The facts
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
    pub fn judge_with(&self, mut extra: Vec<hokan_catalog::Expected>) -> Result<Judged, Failure> {
        let path = self.catalog_path()?;
        let cat = match Catalog::open_existing(&path) {
            Ok(c) => c,
            Err(e @ CatalogError::Missing(_)) => {
                let text = e.text();
                return Ok(Judged {
                    evaluation: Evaluation::untrusted(self.now, std::slice::from_ref(&text)),
                    catalog: None,
                    report: None,
                    anchor_notes: Vec::new(),
                });
            }
            Err(e) => return Err(self.catalog_failure(&e)),
        };
        let (mut expected, anchor_notes) = super::anchors::gather(self);
        expected.append(&mut extra);
        let evidence = cat
            .evidence(&expected)
            .map_err(|e| self.catalog_failure(&e))?;
        let evaluation = match evidence.facts {
            Some(mut facts) => {
                for s in &self.conf.sources {
                    let name = SourceName::new(s.as_str());
                    if !facts.sources.contains(&name) {
                        facts.sources.push(name);
                    }
                }
                evaluate(&facts, &self.conf.policy, self.now)
            }
            None => {
                let findings: Vec<Text> = evidence
                    .report
                    .problems
                    .iter()
                    .map(|p| p.message.clone())
                    .collect();
                Evaluation::untrusted(self.now, &findings)
            }
        };
        Ok(Judged {
            evaluation,
            catalog: Some(cat),
            report: Some(evidence.report),
            anchor_notes,
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
