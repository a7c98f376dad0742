//! The offline state: problems, policy, sources, generations.

use std::collections::{BTreeMap, BTreeSet};

use time::Duration;

use hokan_catalog::event::short;
use hokan_catalog::SnapshotRow;
use hokan_offline::policy::{DEFAULT_MAX_NEWEST_AGE, DEFAULT_MIN_OFFLINE_GENERATIONS};
use hokan_offline::{
    span as policy_span, CopyVerdict, Exclusion, PoolName, SnapshotId, SourceName, Verdict,
};

use super::fmt::Ctx;
use super::plural;
use crate::doc::{Block, Cell, Group, Section, Span, Table, Tone};
use crate::Lang;

/// Problems, most severe first, each with its next step.
pub(crate) fn problems(cx: &Ctx<'_>) -> Section {
    let mut all = cx.data.evaluation.all_problems();
    // Already sorted by severity; sort again (stably) so the report's promise
    // "errors, then warnings, then info" does not rest on another crate.
    all.sort_by_key(|p| p.severity);
    let mut blocks = Vec::new();
    if all.is_empty() {
        blocks.push(Block::Note(
            Tone::Ok,
            Cell::text(cx.tr("No problems.", "問題はありません。")),
        ));
    } else {
        let (e, w, i) = super::counts(cx);
        blocks.push(Block::Para(Cell::text(match cx.lang {
            Lang::Ja => format!(
                "エラー {e} 件、警告 {w} 件、情報 {i} 件。エラーがある間は適合しません。重要なものから順に示します。"
            ),
            Lang::En => format!(
                "{e} error{}, {w} warning{}, {i} info. Any error makes the site not compliant. Most severe first.",
                plural(e),
                plural(w)
            ),
        })));
        let mut t = Table::new(vec![
            cx.tr("Severity", "重要度"),
            cx.tr("Problem", "内容"),
            cx.tr("Next step", "次にすること"),
        ]);
        for p in all {
            t.row(vec![
                cx.severity(p.severity)
                    .line(Cell(vec![Span::Small(p.code.as_str().to_owned())])),
                Cell::rich(&cx.pick(&p.message)),
                Cell::rich(&cx.pick(&p.next_step)),
            ]);
        }
        blocks.push(Block::Table(t));
    }
    Section {
        id: "problems",
        title: cx.tr("Problems", "問題点"),
        blocks,
    }
}

/// The policy's settings as serialised: the only way to list the per-source
/// overrides and pool retentions, which [`hokan_offline::Policy`] keeps
/// private behind getters.
struct PolicyView {
    default_min: u32,
    default_age: Duration,
    overridden: BTreeSet<SourceName>,
    pools: BTreeSet<PoolName>,
}

fn policy_view(cx: &Ctx<'_>) -> PolicyView {
    let v = serde_json::to_value(&cx.data.policy).unwrap_or_default();
    let keys = |field: &str| -> Vec<String> {
        v.get(field)
            .and_then(|m| m.as_object())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    PolicyView {
        default_min: v
            .get("min_offline_generations")
            .and_then(|n| n.as_u64())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_MIN_OFFLINE_GENERATIONS),
        default_age: v
            .get("max_newest_age")
            .and_then(|s| s.as_str())
            .and_then(|s| policy_span::parse(s).ok())
            .unwrap_or(DEFAULT_MAX_NEWEST_AGE),
        overridden: keys("sources").into_iter().map(SourceName::new).collect(),
        pools: keys("pool_retention")
            .into_iter()
            .map(PoolName::new)
            .collect(),
    }
}

fn generations_text(cx: &Ctx<'_>, n: u32) -> String {
    match cx.lang {
        Lang::Ja => format!("{n} 世代"),
        Lang::En => format!("{n} generation{}", plural(n as usize)),
    }
}

/// The policy the site was judged against.
pub(crate) fn policy(cx: &Ctx<'_>) -> Section {
    let p = &cx.data.policy;
    let view = policy_view(cx);
    let horizon = p.warning_horizon();
    let mut blocks = vec![
        Block::Para(Cell::text(cx.tr(
            "The offline definitions presuppose several rotating generations (複数世代のローテーション), so no source can require fewer than 2.",
            "オフライン状態の定義は複数世代のバックアップのローテーションを前提とするため、どの対象も 2 世代未満には設定できません。",
        ))),
        Block::Pairs(vec![
            (
                cx.tr("Minimum offline generations (site default)", "最小オフライン世代数（既定）"),
                Cell::text(generations_text(cx, view.default_min)),
            ),
            (
                cx.tr(
                    "Maximum age of the newest offline generation (site default)",
                    "最新オフライン世代の許容経過時間（既定）",
                ),
                Cell::text(cx.span(view.default_age)),
            ),
            (
                cx.tr("Warning horizon (before a lock, attestation or record runs out)", "警告期間（ロック・証明・所在記録の期限前）"),
                Cell::text(if horizon <= Duration::ZERO {
                    cx.tr("none (no advance warnings)", "なし（事前の警告をしない）")
                } else {
                    cx.span(horizon)
                }),
            ),
            (
                cx.tr(
                    "How long a person's location record counts",
                    "人による所在記録の有効期間",
                ),
                Cell::text(cx.span(p.max_person_location_age())),
            ),
        ]),
    ];

    blocks.push(Block::Sub(
        cx.tr("Per source", "バックアップ対象ごとの要件"),
    ));
    let mut sources: BTreeSet<SourceName> = view.overridden.clone();
    sources.extend(cx.data.evaluation.sources.iter().map(|s| s.source.clone()));
    if sources.is_empty() {
        blocks.push(Block::Para(Cell::text(cx.tr(
            "No backup source is recorded yet; the site defaults above apply to every source.",
            "バックアップ対象はまだ記録されていません。上の既定値がすべての対象に適用されます。",
        ))));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Source", "対象"),
            cx.tr("Minimum offline generations", "最小オフライン世代数"),
            cx.tr("Maximum age of the newest", "最新世代の許容経過時間"),
            cx.tr("Setting", "設定"),
        ]);
        for s in &sources {
            let overridden = view.overridden.contains(s);
            t.row(vec![
                Cell::code(s.as_str()),
                Cell::text(generations_text(cx, p.min_offline_generations(s))),
                Cell::text(cx.span(p.max_newest_age(s))),
                Cell::text(if overridden {
                    cx.tr("per-source override", "対象ごとの設定")
                } else {
                    cx.tr("site default", "既定")
                }),
            ]);
        }
        blocks.push(Block::Table(t));
    }

    blocks.push(Block::Sub(cx.tr("Pool retention", "プールの保持期間")));
    let mut pools: BTreeMap<PoolName, usize> = view.pools.iter().map(|p| (p.clone(), 0)).collect();
    for m in &cx.data.evaluation.media {
        if let Some(pool) = &m.pool {
            *pools.entry(pool.clone()).or_default() += 1;
        }
    }
    if pools.is_empty() {
        blocks.push(Block::Para(Cell::text(cx.tr(
            "No media pool and no pool retention is configured.",
            "媒体プールもプールの保持期間も設定されていません。",
        ))));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Pool", "プール"),
            cx.tr("Retention", "保持期間"),
            cx.tr("Media", "媒体数"),
        ]);
        for (pool, n) in &pools {
            t.row(vec![
                Cell::code(pool.as_str()),
                p.pool_retention(pool).map_or_else(
                    || Cell::text(cx.tr("not set", "設定なし")),
                    |d| Cell::text(cx.span(d)),
                ),
                Cell::text(n.to_string()),
            ]);
        }
        blocks.push(Block::Table(t));
        blocks.push(Block::Para(Cell::text(cx.tr(
            "Pool retention never changes a verdict: it only says when a medium may be reused.",
            "プールの保持期間は判定を変えません。媒体をいつ再利用してよいかを示すだけです。",
        ))));
    }
    Section {
        id: "policy",
        title: cx.tr("Offline policy", "オフライン方針"),
        blocks,
    }
}

/// Per source: required vs offline generations, the newest, rotation.
pub(crate) fn sources(cx: &Ctx<'_>) -> Section {
    let ev = &cx.data.evaluation;
    let mut blocks = Vec::new();
    if ev.sources.is_empty() {
        blocks.push(Block::Note(
            Tone::Warn,
            Cell::text(cx.tr(
                "No backup source is recorded yet: there is nothing to judge.",
                "バックアップ対象はまだ記録されていません。判定するものがありません。",
            )),
        ));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Source", "対象"),
            cx.tr("Verdict", "判定"),
            cx.tr("Offline generations", "オフライン世代"),
            cx.tr("Newest offline generation", "最新のオフライン世代"),
            cx.tr("Rotation", "ローテーション"),
        ]);
        for s in &ev.sources {
            let verdict = if s.compliant {
                Cell::badge(Tone::Ok, cx.tr("○ compliant", "○ 適合"))
            } else {
                Cell::badge(Tone::Bad, cx.tr("× NOT compliant", "× 不適合"))
            };
            let have = s.offline_generations.len();
            let enough = have >= s.required as usize;
            let count = match cx.lang {
                Lang::Ja => format!("{have} / 必要 {}", s.required),
                Lang::En => format!("{have} of {} required", s.required),
            };
            let count = if enough {
                Cell::text(count)
            } else {
                Cell::badge(Tone::Bad, format!("× {count}"))
            };
            let count = count.small_line(match cx.lang {
                Lang::Ja => format!("全 {} 世代中", s.generations),
                Lang::En => format!(
                    "of {} generation{} in all",
                    s.generations,
                    plural(s.generations)
                ),
            });
            let max_age = cx.data.policy.max_newest_age(&s.source);
            let newest = match &s.newest {
                None => Cell::badge(Tone::Bad, cx.tr("× none", "× なし")),
                Some(n) => {
                    let c = Cell::code(short(&n.snapshot)).line(Cell::text(cx.when(n.taken_at)));
                    let age = match cx.lang {
                        Lang::Ja => format!("{}前", cx.span(n.age)),
                        Lang::En => format!("{} ago", cx.span(n.age)),
                    };
                    if n.age > max_age {
                        c.line(Cell::badge(
                            Tone::Bad,
                            match cx.lang {
                                Lang::Ja => format!("× {age}（上限 {}）", cx.span(max_age)),
                                Lang::En => format!("× {age} (limit {})", cx.span(max_age)),
                            },
                        ))
                    } else {
                        c.small_line(age)
                    }
                }
            };
            t.row_toned(
                (!s.compliant).then_some(Tone::Bad),
                vec![
                    Cell::code(s.source.as_str()),
                    verdict,
                    count,
                    newest,
                    rotation(cx, s),
                ],
            );
        }
        blocks.push(Block::Table(t));
    }
    Section {
        id: "sources",
        title: cx.tr("Backup sources", "バックアップ対象ごとの状況"),
        blocks,
    }
}

fn rotation(cx: &Ctx<'_>, s: &hokan_offline::SourceCompliance) -> Cell {
    let r = &s.rotation;
    let mut c = if r.rotates {
        Cell::badge(Tone::Ok, cx.tr("○ rotates", "○ ローテーションあり"))
    } else {
        Cell::badge(
            Tone::Bad,
            cx.tr("× does not rotate", "× ローテーションなし"),
        )
    };
    if !r.media.is_empty() {
        let mut media = Cell::text(cx.tr("Media: ", "媒体："));
        for (i, m) in r.media.iter().enumerate() {
            if i > 0 {
                media = media.then(cx.sep());
            }
            media = media.push(Span::Code(m.to_string()));
        }
        c = c.line(media);
    }
    if s.offline_generations.len() < 2 {
        c = c.small_line(cx.tr(
            "fewer than 2 offline generations",
            "オフライン世代が 2 世代未満",
        ));
    }
    if let Some(m) = &r.single_medium {
        c = c.line(Cell::toned(
            Tone::Bad,
            match cx.lang {
                Lang::Ja => format!("すべて 1 本の媒体 {m} にある"),
                Lang::En => format!("all on one medium, {m}"),
            },
        ));
    }
    if let Some(d) = &r.expiring {
        c = c.line(Cell::toned(
            Tone::Bad,
            match cx.lang {
                Lang::Ja => format!(
                    "{} に{}が終わるとすべて数えられなくなる",
                    cx.when(d.at),
                    cx.pick(&d.cause.describe())
                ),
                Lang::En => format!(
                    "all stop counting when {} ends, {}",
                    cx.pick(&d.cause.describe()),
                    cx.when(d.at)
                ),
            },
        ));
    }
    c
}

/// Every generation, newest first per source, with each copy's verdict.
pub(crate) fn generations(cx: &Ctx<'_>) -> Section {
    let ev = &cx.data.evaluation;
    let mut blocks = vec![Block::Para(Cell::text(cx.tr(
        "For each generation, newest first: the media that hold a copy, and the item number (項番) of the offline definitions under which each copy counts as offline now. A generation with no copy that counts is marked “no offline copy”: it could not be restored if everything online were lost.",
        "各世代（新しい順）について、コピーを持つ媒体と、そのコピーが現在オフラインとみなされる「オフライン状態の定義」の項番を示します。数えられるコピーが一つもない世代には「オフラインのコピーなし」と表示します。オンラインのものがすべて失われた場合、その世代は復旧できません。",
    )))];

    let mut by_source: BTreeMap<&SourceName, Vec<GenerationView<'_>>> = BTreeMap::new();
    for s in &ev.sources {
        by_source.entry(&s.source).or_default();
    }
    for row in &cx.data.snapshots {
        by_source
            .entry(&row.source)
            .or_default()
            .push(GenerationView {
                snapshot: &row.id,
                taken_at: row.taken_at,
                row: Some(row),
            });
    }
    // Copies of generations the snapshot list does not hold (a report made
    // from partial data) are still shown.
    for c in &ev.copies {
        let list = by_source.entry(&c.source).or_default();
        if list.iter().all(|g| g.snapshot != &c.snapshot) {
            list.push(GenerationView {
                snapshot: &c.snapshot,
                taken_at: c.taken_at,
                row: None,
            });
        }
    }

    if by_source.values().all(|v| v.is_empty()) {
        blocks.push(Block::Note(
            Tone::Warn,
            Cell::text(cx.tr(
                "No generation is recorded yet: no backup has been taken, or the catalog has not been synchronised with the repository.",
                "世代はまだ記録されていません。バックアップが未実施か、カタログがリポジトリと同期されていません。",
            )),
        ));
    }
    for (source, mut gens) in by_source {
        gens.sort_by(|a, b| (b.taken_at, b.snapshot).cmp(&(a.taken_at, a.snapshot)));
        blocks.push(Block::Sub(match cx.lang {
            Lang::Ja => format!("対象 {source}"),
            Lang::En => format!("Source {source}"),
        }));
        if gens.is_empty() {
            blocks.push(Block::Note(
                Tone::Bad,
                Cell::text(cx.tr(
                    "No generation of this source is recorded.",
                    "この対象の世代は記録されていません。",
                )),
            ));
            continue;
        }
        let mut t = Table {
            head: vec![
                cx.tr("Generation", "世代"),
                cx.tr("Offline", "オフライン"),
                cx.tr("Medium", "媒体"),
                cx.tr("項番", "項番"),
                cx.tr("Verdict", "判定"),
                cx.tr("Strength", "強度"),
                cx.tr("Counts until", "期限"),
                cx.tr("Last verified", "最終検証"),
            ],
            lead: 2,
            groups: Vec::new(),
        };
        for g in &gens {
            t.groups.push(generation_group(cx, g));
        }
        blocks.push(Block::Table(t));
    }
    Section {
        id: "generations",
        title: cx.tr("Generations and their copies", "世代ごとのコピー"),
        blocks,
    }
}

struct GenerationView<'a> {
    snapshot: &'a SnapshotId,
    taken_at: time::OffsetDateTime,
    row: Option<&'a SnapshotRow>,
}

fn generation_group(cx: &Ctx<'_>, g: &GenerationView<'_>) -> Group {
    let ev = &cx.data.evaluation;
    let copies: Vec<&CopyVerdict> = ev
        .copies
        .iter()
        .filter(|c| &c.snapshot == g.snapshot)
        .collect();
    let counting: BTreeSet<&str> = copies
        .iter()
        .filter(|c| c.counts())
        .map(|c| c.medium.as_str())
        .collect();
    let only_weaker = !counting.is_empty()
        && copies
            .iter()
            .filter(|c| c.counts())
            .all(|c| super::fmt::verdict_tone(&c.verdict) != Tone::Ok);

    let mut about = Cell::code(short(g.snapshot)).line(Cell::text(cx.when(g.taken_at)));
    if let Some(row) = g.row {
        about = about.small_line(cx.size(row.bytes, row.files));
        if row.partial {
            about = about.line(Cell::badge(
                Tone::Warn,
                cx.tr("△ some files unreadable", "△ 読めないファイルあり"),
            ));
        }
        if let Some(f) = row.forgotten_at {
            about = about.small_line(match cx.lang {
                Lang::Ja => format!("{} に一次リポジトリから削除", cx.day(f)),
                Lang::En => format!("forgotten in the primary repository {}", cx.day(f)),
            });
        }
    }
    let (tone, status) = if counting.is_empty() {
        (
            Some(Tone::Bad),
            Cell::badge(
                Tone::Bad,
                cx.tr("× no offline copy", "× オフラインのコピーなし"),
            ),
        )
    } else if only_weaker {
        (
            Some(Tone::Warn),
            Cell::badge(
                Tone::Warn,
                cx.tr("△ weaker copies only", "△ 弱いコピーのみ"),
            ),
        )
    } else {
        let n = counting.len();
        (
            None,
            Cell::badge(
                Tone::Ok,
                match cx.lang {
                    Lang::Ja => format!("○ オフライン（{n} 媒体）"),
                    Lang::En => format!("○ offline ({n} medi{})", if n == 1 { "um" } else { "a" }),
                },
            ),
        )
    };

    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for c in &copies {
        let mut medium = Cell::code(c.medium.as_str());
        if let Some(k) = c.kind {
            medium = medium.small_line(match cx.lang {
                Lang::Ja => k.name_ja(),
                Lang::En => k.name_en(),
            });
        }
        let koban = c.verdict.koban().map_or_else(
            || cx.dash(),
            |k| Cell(vec![Span::Strong(k.as_str().to_owned())]),
        );
        let mut verdict = cx.verdict(&c.verdict);
        if let Some(x) = c.excluded {
            let why = match x {
                Exclusion::Incomplete => cx.tr(
                    "does not count: incomplete copy",
                    "数えない：不完全なコピー",
                ),
                Exclusion::MediumDamaged => {
                    cx.tr("does not count: medium damaged", "数えない：媒体が損傷")
                }
                Exclusion::MediumRetired => {
                    cx.tr("does not count: medium retired", "数えない：媒体は廃棄済み")
                }
            };
            verdict = verdict.line(Cell::badge(Tone::Bad, format!("× {why}")));
        }
        let until = match &c.verdict {
            Verdict::Offline { until, .. } => cx.deadline(until.as_ref()),
            _ => cx.dash(),
        };
        let verified = c.verified_at.map_or_else(
            || Cell(vec![Span::Small(cx.tr("never", "未検証"))]),
            |t| Cell::text(cx.when(t)),
        );
        rows.push(vec![
            medium,
            koban,
            verdict,
            cx.strength(&c.verdict),
            until,
            verified,
        ]);
    }
    if rows.is_empty() {
        rows.push(vec![
            Cell::toned(
                Tone::Bad,
                cx.tr("(no copy on any medium)", "（どの媒体にもコピーなし）"),
            ),
            cx.dash(),
            cx.dash(),
            cx.dash(),
            cx.dash(),
            cx.dash(),
        ]);
    }
    let mut first = vec![about, status];
    first.append(&mut rows[0]);
    rows[0] = first;
    Group { tone, rows }
}
