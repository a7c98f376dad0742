//! Per-source compliance: enough offline generations, fresh enough, rotating.
//!
//! An *offline generation* is a generation with at least one copy that counts
//! (complete, on a usable medium, offline — full or weaker). Weaker copies
//! count, because the definitions accept retention "for a set period" and a
//! governance lock does stop the backup server's own credentials; every
//! generation that counts only through weaker copies is reported.
//!
//! Rotation (the definitions' premise, 複数世代のバックアップがローテートされる)
//! is judged on the offline generations, and only once there are two of them
//! (fewer is already a count problem):
//! - *one medium*: every offline copy of every offline generation is on the
//!   same medium. Losing or reaching that one medium loses them all.
//! - *one expiring lock*: every offline generation stops counting, by itself,
//!   at or before one instant within the warning horizon, because each of its
//!   copies relies on a retention or an attestation that ends by then. Copies
//!   judged by location have no such end. (A person's location record going
//!   stale is warned about per medium instead: it is renewed by looking, not
//!   by a lock.) The problem names the lock or attestation that holds out
//!   longest, i.e. the one whose renewal alone would fix it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::facts::MediumKind;
use crate::id::{MediumId, SnapshotId, SourceName};
use crate::judge::Judge;
use crate::koban::Koban;
use crate::limits;
use crate::problem::{count_en, Problem, ProblemCode, Severity};
use crate::span;
use crate::text::{span as span_text, when, Text};
use crate::verdict::{CopyVerdict, Deadline, DeadlineCause, Strength, Verdict};

/// The compliance result of one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCompliance {
    /// This source's problems, most severe first.
    pub problems: Vec<Problem>,
    /// The source.
    pub source: SourceName,
    /// Offline generations at least as many as required, the newest young
    /// enough, and rotating.
    pub compliant: bool,
    /// Offline generations the policy requires.
    pub required: u32,
    /// Generations known (offline or not).
    pub generations: usize,
    /// The generations that can be restored if everything online is lost,
    /// newest first, each with the media that hold it offline.
    pub offline_generations: Vec<OfflineGeneration>,
    /// The newest offline generation and its age.
    pub newest: Option<NewestOffline>,
    /// Whether the offline generations rotate.
    pub rotation: Rotation,
}

/// A generation with at least one copy that counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineGeneration {
    /// The snapshot.
    pub snapshot: SnapshotId,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    /// Every copy that counts, one per medium.
    pub copies: Vec<OfflineCopy>,
}

impl OfflineGeneration {
    /// Whether every copy that counts is weaker.
    pub fn only_weaker(&self) -> bool {
        self.copies
            .iter()
            .all(|c| matches!(c.strength, Strength::Weaker(_)))
    }
}

/// One copy that makes its generation offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineCopy {
    /// The medium.
    pub medium: MediumId,
    /// The 項番 it counts under.
    pub koban: Koban,
    /// Full or weaker.
    pub strength: Strength,
    /// When it stops counting by itself.
    pub until: Option<Deadline>,
}

/// The newest offline generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewestOffline {
    /// The snapshot.
    pub snapshot: SnapshotId,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    /// How old it is at the instant judged.
    #[serde(with = "span")]
    pub age: Duration,
}

/// Whether the offline generations rotate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// At least two offline generations, not all on one medium, not all
    /// under one lock expiring within the warning horizon.
    pub rotates: bool,
    /// The distinct media holding copies that count.
    pub media: Vec<MediumId>,
    /// Set when every offline copy is on this one medium.
    pub single_medium: Option<MediumId>,
    /// Set when every offline generation stops counting by this deadline,
    /// within the warning horizon; names the lock or attestation.
    pub expiring: Option<Deadline>,
}

pub(crate) fn judge_source(
    judge: &Judge<'_>,
    source: &SourceName,
    generations: usize,
    copies: &[&CopyVerdict],
) -> SourceCompliance {
    let policy = judge.policy;
    let now = judge.now;
    let offset = now.offset();
    let required = policy.min_offline_generations(source);
    let max_age = policy.max_newest_age(source);

    let mut by_snapshot: BTreeMap<&SnapshotId, OfflineGeneration> = BTreeMap::new();
    for c in copies.iter().filter(|c| c.counts()) {
        let Verdict::Offline {
            koban,
            strength,
            until,
        } = &c.verdict
        else {
            continue;
        };
        let g = by_snapshot
            .entry(&c.snapshot)
            .or_insert_with(|| OfflineGeneration {
                snapshot: c.snapshot.clone(),
                taken_at: c.taken_at,
                copies: Vec::new(),
            });
        if g.copies.iter().all(|o| o.medium != c.medium) {
            g.copies.push(OfflineCopy {
                medium: c.medium.clone(),
                koban: *koban,
                strength: strength.clone(),
                until: until.clone(),
            });
        }
    }
    let mut offline: Vec<OfflineGeneration> = by_snapshot.into_values().collect();
    offline.sort_by(|a, b| (b.taken_at, &b.snapshot).cmp(&(a.taken_at, &a.snapshot)));

    let newest = offline.first().map(|g| NewestOffline {
        snapshot: g.snapshot.clone(),
        taken_at: g.taken_at,
        age: now - g.taken_at,
    });
    let rotation = rotation(&offline, limits::later(now, policy.warning_horizon()));

    let mut problems = Vec::new();
    // Media that hold complete copies of this source but do not count now:
    // putting them offline is the quickest fix, so the next step names them.
    let mut waiting: Vec<(&MediumId, &Verdict)> = Vec::new();
    for c in copies {
        let useful = c.excluded.is_none()
            && !c.verdict.is_offline()
            && c.kind.is_some_and(|k| k != MediumKind::PrimaryDisk)
            && offline.iter().all(|g| g.snapshot != c.snapshot);
        if useful && waiting.iter().all(|(m, _)| *m != &c.medium) {
            waiting.push((&c.medium, &c.verdict));
        }
    }
    waiting.truncate(3);
    let fix = |default: Text| -> Text {
        if waiting.is_empty() {
            return default;
        }
        let (en, ja): (Vec<String>, Vec<String>) = waiting
            .iter()
            .map(|(m, v)| {
                let d = v.describe(offset);
                (format!("{m} ({})", d.en), format!("{m}（{}）", d.ja))
            })
            .unzip();
        Text::new(
            format!(
                "Make these media holding its copies count offline: {}.",
                en.join(", ")
            ),
            format!(
                "この対象のコピーを持つ次の媒体をオフラインにしてください：{}。",
                ja.join("、")
            ),
        )
    };

    let have = offline.len();
    if have < required as usize {
        problems.push(
            Problem::new(
                Severity::Error,
                ProblemCode::TooFewOfflineGenerations,
                Text::new(
                    format!(
                        "Source {source} has {}; the policy requires {required}.",
                        count_en(have, "offline generation", "offline generations")
                    ),
                    format!(
                        "バックアップ対象 {source} のオフライン世代は {have} 世代で、ポリシーが求める {required} 世代に足りません。"
                    ),
                ),
                fix(Text::new(
                    format!("Copy more generations of {source} to offline media and take those media offline."),
                    format!("{source} の世代をさらにオフライン用の媒体へコピーし、その媒体をオフラインにしてください。"),
                )),
            )
            .with_source(source),
        );
    }
    if let Some(n) = newest.as_ref().filter(|n| n.age > max_age) {
        let age = span_text(n.age);
        let max = span_text(max_age);
        problems.push(
            Problem::new(
                Severity::Error,
                ProblemCode::NewestOfflineTooOld,
                Text::new(
                    format!(
                        "The newest offline generation of {source} was taken {} ({} ago); the policy allows {}.",
                        when(n.taken_at, offset),
                        age.en,
                        max.en
                    ),
                    format!(
                        "{source} の最新のオフライン世代は {} 取得（{}前）で、ポリシーの上限 {} を超えています。",
                        when(n.taken_at, offset),
                        age.ja,
                        max.ja
                    ),
                ),
                fix(Text::new(
                    format!("Check that the backup and copy jobs of {source} run, and take the newest copy offline."),
                    format!("{source} のバックアップとコピーが実行されているか確認し、最新のコピーをオフラインにしてください。"),
                )),
            )
            .with_source(source)
            .with_date(n.taken_at),
        );
    }
    if let Some(m) = &rotation.single_medium {
        problems.push(
            Problem::new(
                Severity::Error,
                ProblemCode::GenerationsOnOneMedium,
                Text::new(
                    format!(
                        "All {have} offline generations of {source} are on one medium, {m}: they do not rotate, and losing {m} loses them all."
                    ),
                    format!(
                        "{source} のオフライン世代 {have} 世代がすべて媒体 {m} 1本にあり、ローテーションになっていません。{m} を失うと全世代を失います。"
                    ),
                ),
                Text::new(
                    format!("Copy the next generations of {source} to other media in turn, so that no single medium holds them all."),
                    format!("{source} の次の世代からは別の媒体へ順にコピーし、1本の媒体に全世代が集まらないようにしてください。"),
                ),
            )
            .with_source(source)
            .with_medium(m),
        );
    }
    if let Some(d) = &rotation.expiring {
        let cause = d.cause.describe();
        let mut p = Problem::new(
            Severity::Error,
            ProblemCode::GenerationsUnderOneExpiringLock,
            Text::new(
                format!(
                    "Every offline generation of {source} stops counting by {}, when {} ends: they are not spread over retention periods.",
                    when(d.at, offset),
                    cause.en
                ),
                format!(
                    "{source} のすべてのオフライン世代が {} までに数えられなくなります（{}の終了）。保持期間が分散していません。",
                    when(d.at, offset),
                    cause.ja
                ),
            ),
            Text::new(
                format!(
                    "Before {}, extend or renew {}, or take a generation of {source} offline on a medium that does not depend on it.",
                    when(d.at, offset),
                    cause.en
                ),
                format!(
                    "{} より前に{}を延長・更新するか、{source} の世代をそれに依存しない媒体でオフラインにしてください。",
                    when(d.at, offset),
                    cause.ja
                ),
            ),
        )
        .with_source(source)
        .with_date(d.at);
        match &d.cause {
            DeadlineCause::Retention { medium }
            | DeadlineCause::LocationRecord { medium }
            | DeadlineCause::Receipt { medium } => {
                p = p.with_medium(medium);
            }
            DeadlineCause::Attestation { id } => p = p.with_attestation(id),
        }
        problems.push(p);
    }
    let weaker: Vec<&OfflineGeneration> = offline.iter().filter(|g| g.only_weaker()).collect();
    if !weaker.is_empty() {
        let list: Vec<String> = weaker.iter().map(|g| g.snapshot.to_string()).collect();
        problems.push(
            Problem::new(
                Severity::Warning,
                ProblemCode::GenerationsOnlyWeaker,
                Text::new(
                    format!(
                        "{} of {source} ({}) count as offline only through weaker copies: a privileged user could delete them, or the lock was never tested.",
                        count_en(weaker.len(), "generation", "generations"),
                        list.join(", ")
                    ),
                    format!(
                        "{source} の {} 世代（{}）は弱いコピーによってのみオフラインとして数えています。特権ユーザーが削除できるか、ロックが未確認です。",
                        weaker.len(),
                        list.join("、")
                    ),
                ),
                Text::new(
                    "Use compliance mode for new locks, run a lock test, or keep these generations also on tape or a cartridge stored offline.",
                    "新しいロックはコンプライアンスモードにし、ロックの確認を行うか、これらの世代をテープやカートリッジにも保存してオフラインで保管してください。",
                ),
            )
            .with_source(source),
        );
    }
    Problem::sort(&mut problems);
    let compliant = problems.iter().all(|p| p.severity != Severity::Error);
    SourceCompliance {
        problems,
        source: source.clone(),
        compliant,
        required,
        generations,
        offline_generations: offline,
        newest,
        rotation,
    }
}

fn rotation(offline: &[OfflineGeneration], horizon_end: OffsetDateTime) -> Rotation {
    let mut media: Vec<MediumId> = offline
        .iter()
        .flat_map(|g| g.copies.iter().map(|c| c.medium.clone()))
        .collect();
    media.sort();
    media.dedup();
    if offline.len() < 2 {
        return Rotation {
            rotates: false,
            media,
            single_medium: None,
            expiring: None,
        };
    }
    let single_medium = (media.len() == 1).then(|| media[0].clone());
    // For each generation, the deadline of the copy that lasts longest
    // (`None`: some copy has no lock-like end). The generations all stop
    // counting by the latest of these.
    let mut last: Option<Deadline> = None;
    let mut all_end = true;
    for g in offline {
        let mut longest: Option<&Deadline> = None;
        let mut ends = true;
        for c in &g.copies {
            match &c.until {
                Some(d)
                    if !matches!(
                        d.cause,
                        DeadlineCause::LocationRecord { .. } | DeadlineCause::Receipt { .. }
                    ) =>
                {
                    if later(longest, d) {
                        longest = Some(d);
                    }
                }
                _ => ends = false,
            }
        }
        match (ends, longest) {
            (true, Some(d)) => {
                if later(last.as_ref(), d) {
                    last = Some(d.clone());
                }
            }
            _ => all_end = false,
        }
    }
    let expiring = last.filter(|d| all_end && d.at <= horizon_end);
    Rotation {
        rotates: single_medium.is_none() && expiring.is_none(),
        media,
        single_medium,
        expiring,
    }
}

/// Whether `d` is later than `current` (or there is none yet); ties are broken
/// by cause so the result does not depend on the order of the facts.
fn later(current: Option<&Deadline>, d: &Deadline) -> bool {
    match current {
        None => true,
        Some(cur) => (d.at, &d.cause) > (cur.at, &cur.cause),
    }
}
