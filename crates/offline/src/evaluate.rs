//! The evaluation: every copy, every source, every medium, and the problems.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::compliance::{self, SourceCompliance};
use crate::facts::Medium;
use crate::facts::{Condition, Copy, Facts, Generation, MediumKind, Observation};
use crate::id::{MediumId, PoolName, SnapshotId, SourceName};
use crate::judge::Judge;
use crate::policy::Policy;
use crate::problem::{Problem, Severity};
use crate::site;
use crate::text::Text;
use crate::verdict::{CopyVerdict, Deadline, Exclusion, Missing, OnlineReason, Strength, Verdict};

/// The result of judging a site's facts at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Site-wide problems (media, locks, attestations, the catalog), most
    /// severe first. Each source's own problems are in [`Evaluation::sources`];
    /// [`Evaluation::all_problems`] lists both.
    pub problems: Vec<Problem>,
    /// The instant judged.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Every source compliant, and no site-wide error.
    pub compliant: bool,
    /// Per source, in name order.
    pub sources: Vec<SourceCompliance>,
    /// Per medium, in id order.
    pub media: Vec<MediumState>,
    /// Per copy: by source, newest generation first, then by medium.
    pub copies: Vec<CopyVerdict>,
}

impl Evaluation {
    /// The evaluation when the facts cannot be trusted (the catalog is
    /// missing, its chain broken, a table edited, or it was rolled back
    /// behind an anchor): nothing is judged, nothing counts, the site is not
    /// compliant, and each finding is an error saying what to do. Every
    /// front-end (status, report, dashboard) shows this instead of a verdict
    /// built on facts nobody can vouch for.
    pub fn untrusted(at: OffsetDateTime, findings: &[Text]) -> Evaluation {
        let next = Text::new(
            "run `hokan catalog verify`, keep the catalog files as evidence, and follow docs/catalog.md \"When the catalog cannot be trusted\" (rebuild from the media)",
            "`hokan catalog verify` を実行し、カタログのファイルを証拠として保全したうえで、docs/catalog.md「カタログが信頼できないとき」に従って媒体から再構築してください",
        );
        let mut problems: Vec<Problem> = findings
            .iter()
            .map(|f| {
                Problem::new(
                    Severity::Error,
                    crate::problem::ProblemCode::CatalogUntrusted,
                    Text::new(
                        format!(
                            "the catalog cannot be trusted, nothing was judged: {}",
                            f.en
                        ),
                        format!("カタログが信頼できないため判定していません: {}", f.ja),
                    ),
                    next.clone(),
                )
            })
            .collect();
        if problems.is_empty() {
            problems.push(Problem::new(
                Severity::Error,
                crate::problem::ProblemCode::CatalogUntrusted,
                Text::new(
                    "the catalog cannot be trusted, nothing was judged",
                    "カタログが信頼できないため判定していません",
                ),
                next,
            ));
        }
        Evaluation {
            problems,
            at,
            compliant: false,
            sources: Vec::new(),
            media: Vec::new(),
            copies: Vec::new(),
        }
    }

    /// Whether this evaluation judged nothing because the catalog cannot be
    /// trusted.
    pub fn is_untrusted(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.code == crate::problem::ProblemCode::CatalogUntrusted)
    }

    /// Site and source problems together, most severe first.
    pub fn all_problems(&self) -> Vec<&Problem> {
        let mut all: Vec<&Problem> = self
            .problems
            .iter()
            .chain(self.sources.iter().flat_map(|s| s.problems.iter()))
            .collect();
        all.sort_by_key(|p| p.severity);
        all
    }

    /// The compliance result of one source.
    pub fn source(&self, name: &SourceName) -> Option<&SourceCompliance> {
        self.sources.iter().find(|s| &s.source == name)
    }

    /// The state of one medium.
    pub fn medium(&self, id: &MediumId) -> Option<&MediumState> {
        self.media.iter().find(|m| &m.id == id)
    }

    /// The verdicts on the copies of one generation.
    pub fn copies_of<'a>(
        &'a self,
        snapshot: &'a SnapshotId,
    ) -> impl Iterator<Item = &'a CopyVerdict> + 'a {
        self.copies.iter().filter(move |c| &c.snapshot == snapshot)
    }
}

/// One medium as it stands now: for the per-medium table of `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediumState {
    /// The medium.
    pub id: MediumId,
    /// Its kind.
    pub kind: MediumKind,
    /// Its pool.
    pub pool: Option<PoolName>,
    /// Its condition.
    pub condition: Condition,
    /// The observation that says where it is now (carried media only).
    pub location: Option<Observation>,
    /// The verdict that applies to every copy on it, for media whose verdict
    /// does not depend on the copy (carried media, the primary disk). `None`
    /// for stored media, where each copy has its own protection.
    pub verdict: Option<Verdict>,
    /// How many complete copies of known generations it holds.
    pub complete_copies: usize,
}

/// One copy per (generation, medium): several records of the same pair (a
/// copy interrupted, then run again) are merged. The medium holds the
/// generation completely if any record says so, since the earliest complete
/// record; it was last verified at the latest verification. Records stamped
/// after `now` do not exist yet. Each record's `with` is sorted first, so the
/// order of the facts never matters.
fn merge_copies(facts: &Facts, now: OffsetDateTime) -> Vec<Copy> {
    let mut merged: BTreeMap<(&SnapshotId, &MediumId), Copy> = BTreeMap::new();
    for orig in facts.copies.iter().filter(|c| c.since <= now) {
        let mut c = orig.clone();
        c.with.sort();
        c.with.dedup();
        let Some(m) = merged.get_mut(&(&orig.snapshot, &orig.medium)) else {
            merged.insert((&orig.snapshot, &orig.medium), c);
            continue;
        };
        if c.complete && !m.complete {
            m.complete = true;
            m.since = c.since;
            m.with = c.with.clone();
        } else if c.complete == m.complete {
            m.since = m.since.min(c.since);
            // Of two records of one copy, the one needing fewer other media
            // holds (a medium that alone holds the generation needs no set).
            if (c.with.len(), &c.with) < (m.with.len(), &m.with) {
                m.with = c.with.clone();
            }
        }
        m.verified_at = m.verified_at.max(c.verified_at);
    }
    merged.into_values().collect()
}

/// Judge `facts` against `policy` at `now`.
///
/// Pure: no clock, no I/O; the same arguments give the same result. Facts
/// stamped after `now` are ignored, so a past instant can be re-evaluated.
pub fn evaluate(facts: &Facts, policy: &Policy, now: OffsetDateTime) -> Evaluation {
    let judge = Judge::new(facts, policy, now);
    let mut problems = Vec::new();

    let mut generations: HashMap<&SnapshotId, &Generation> = HashMap::new();
    let mut later: BTreeSet<&SnapshotId> = BTreeSet::new();
    for g in &facts.generations {
        if g.taken_at > now {
            later.insert(&g.snapshot);
        } else if let Some(first) = generations.insert(&g.snapshot, g) {
            problems.push(site::duplicate_generation(first, g));
        }
    }
    // A duplicate medium id is reported; the first record is used throughout.
    let mut media_verdicts: HashMap<&MediumId, Option<Verdict>> = HashMap::new();
    for m in &facts.media {
        if media_verdicts.contains_key(&m.id) {
            problems.push(site::duplicate_medium(&m.id));
        } else {
            media_verdicts.insert(&m.id, judge.medium_verdict(m));
        }
    }

    let mut copies = Vec::new();
    for copy in merge_copies(facts, now) {
        let copy = &copy;
        let Some(generation) = generations.get(&copy.snapshot) else {
            if !later.contains(&copy.snapshot) {
                problems.push(site::dangling_snapshot(copy));
            }
            continue;
        };
        let medium = judge.medium(&copy.medium);
        let verdict_of = |m: &Medium| match media_verdicts.get(&m.id) {
            Some(Some(v)) => v.clone(),
            _ => judge.verdict(m, &copy.snapshot),
        };
        let mut verdict = match medium {
            None => {
                problems.push(site::dangling_medium(copy));
                Verdict::Unknown(Missing::MediumNotRecorded)
            }
            Some(m) => verdict_of(m),
        };
        // A copy spanning a media set is only as offline as its least
        // offline cartridge.
        for other in copy.with.iter().filter(|o| **o != copy.medium) {
            if !verdict.is_offline() {
                break;
            }
            let v = match judge.medium(other) {
                None => Verdict::Unknown(Missing::MediumNotRecorded),
                Some(m) => verdict_of(m),
            };
            verdict = match v {
                Verdict::Online(r) => Verdict::Online(OnlineReason::SetMemberOnline {
                    medium: other.clone(),
                    because: Box::new(r),
                }),
                Verdict::Unknown(w) => Verdict::Unknown(Missing::SetMember {
                    medium: other.clone(),
                    lacks: Box::new(w),
                }),
                Verdict::Offline {
                    until,
                    strength: s2,
                    ..
                } => match verdict {
                    Verdict::Offline {
                        koban,
                        strength,
                        until: own,
                    } => Verdict::Offline {
                        koban,
                        strength: weakest(strength, s2),
                        until: earliest(own, until),
                    },
                    v => v,
                },
            };
        }
        let excluded = match medium.map(|m| m.condition) {
            Some(Condition::Damaged) => Some(Exclusion::MediumDamaged),
            Some(Condition::Retired) => Some(Exclusion::MediumRetired),
            _ if !copy.complete => Some(Exclusion::Incomplete),
            _ => None,
        };
        copies.push(CopyVerdict {
            snapshot: copy.snapshot.clone(),
            source: generation.source.clone(),
            taken_at: generation.taken_at,
            medium: copy.medium.clone(),
            since: copy.since,
            kind: medium.map(|m| m.kind),
            considered: medium.map_or_else(Vec::new, |m| m.kind.considered().to_vec()),
            note: match medium {
                Some(m)
                    if m.kind == MediumKind::PullVault && judge.latest_receipt(&m.id).is_some() =>
                {
                    judge.by_receipt(m, &copy.snapshot).1
                }
                _ => None,
            },
            verdict,
            excluded,
            verified_at: copy.verified_at,
        });
    }
    copies.sort_by(|a, b| {
        (
            &a.source,
            std::cmp::Reverse(a.taken_at),
            &a.snapshot,
            &a.medium,
        )
            .cmp(&(
                &b.source,
                std::cmp::Reverse(b.taken_at),
                &b.snapshot,
                &b.medium,
            ))
    });

    let mut media: Vec<MediumState> = Vec::new();
    for m in &facts.media {
        if judge
            .medium(&m.id)
            .is_some_and(|first| !std::ptr::eq(first, m))
        {
            continue;
        }
        media.push(MediumState {
            id: m.id.clone(),
            kind: m.kind,
            pool: m.pool.clone(),
            condition: m.condition,
            location: if m.kind.is_carried() {
                judge.current_observation(&m.id).cloned()
            } else {
                None
            },
            verdict: media_verdicts.get(&m.id).cloned().flatten(),
            complete_copies: copies
                .iter()
                .filter(|c| c.medium == m.id && c.excluded != Some(Exclusion::Incomplete))
                .count(),
        });
    }
    media.sort_by(|a, b| a.id.cmp(&b.id));

    let mut by_source: BTreeMap<&SourceName, Vec<&CopyVerdict>> = BTreeMap::new();
    for name in &facts.sources {
        by_source.entry(name).or_default();
    }
    for g in generations.values() {
        by_source.entry(&g.source).or_default();
    }
    for c in &copies {
        by_source.entry(&c.source).or_default().push(c);
    }
    let sources: Vec<SourceCompliance> = by_source
        .into_iter()
        .map(|(name, copies)| {
            let count = generations.values().filter(|g| &g.source == name).count();
            compliance::judge_source(&judge, name, count, &copies)
        })
        .collect();

    site::problems(&judge, &media, &copies, &mut problems);
    Problem::sort(&mut problems);
    let compliant = sources.iter().all(|s| s.compliant)
        && problems.iter().all(|p| p.severity != Severity::Error);
    Evaluation {
        problems,
        at: now,
        compliant,
        sources,
        media,
        copies,
    }
}

/// The earlier of two deadlines (`None` = none).
fn earliest(a: Option<Deadline>, b: Option<Deadline>) -> Option<Deadline> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.at < a.at { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Both strengths' weaknesses together.
fn weakest(a: Strength, b: Strength) -> Strength {
    match (a, b) {
        (Strength::Full, b) => b,
        (a, Strength::Full) => a,
        (Strength::Weaker(mut x), Strength::Weaker(y)) => {
            x.extend(y);
            x.sort();
            x.dedup();
            Strength::Weaker(x)
        }
    }
}
