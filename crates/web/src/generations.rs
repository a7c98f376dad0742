//! 世代 / Generations: per source, a matrix with one row per generation
//! (newest first) and one column per medium holding a copy of one of
//! them, each cell the copy's verdict: its 項番 when offline, else online,
//! unknown or excluded; and above, each source's offline generations
//! against the policy (as on the morning page).

use std::collections::{BTreeMap, BTreeSet};

use hokan_offline::{CopyVerdict, Evaluation, Exclusion, MediumId, SnapshotId, Strength, Verdict};
use maud::{html, Markup};
use time::OffsetDateTime;

use crate::pages::{self, tr, Lang, Pick};
use crate::server::{Session, Shared};

/// One generation: a row of the matrix.
pub(crate) struct Row<'a> {
    /// Its snapshot.
    pub(crate) snapshot: SnapshotId,
    /// When it was taken.
    pub(crate) taken_at: OffsetDateTime,
    /// Each copy's verdict, by medium.
    pub(crate) copies: BTreeMap<MediumId, &'a CopyVerdict>,
}

/// One source's matrix.
pub(crate) struct Matrix<'a> {
    /// The source.
    pub(crate) source: String,
    /// The media holding a copy of one of its generations, in id order.
    pub(crate) media: Vec<MediumId>,
    /// Its generations, newest first.
    pub(crate) rows: Vec<Row<'a>>,
}

/// The matrices of every source: the evaluation's copy verdicts, plus the
/// generations the catalog knows with no copy anywhere (`known`: source,
/// snapshot, taken at), so that a generation nothing holds is shown too.
pub(crate) fn matrices<'a>(
    ev: &'a Evaluation,
    known: &[(String, SnapshotId, OffsetDateTime)],
) -> Vec<Matrix<'a>> {
    let mut by_source: BTreeMap<String, BTreeMap<SnapshotId, Row<'a>>> = BTreeMap::new();
    for s in &ev.sources {
        by_source.entry(s.source.to_string()).or_default();
    }
    for (source, snapshot, taken_at) in known.iter().filter(|k| k.2 <= ev.at) {
        by_source
            .entry(source.clone())
            .or_default()
            .entry(snapshot.clone())
            .or_insert_with(|| Row {
                snapshot: snapshot.clone(),
                taken_at: *taken_at,
                copies: BTreeMap::new(),
            });
    }
    for c in &ev.copies {
        by_source
            .entry(c.source.to_string())
            .or_default()
            .entry(c.snapshot.clone())
            .or_insert_with(|| Row {
                snapshot: c.snapshot.clone(),
                taken_at: c.taken_at,
                copies: BTreeMap::new(),
            })
            .copies
            .insert(c.medium.clone(), c);
    }
    by_source
        .into_iter()
        .map(|(source, rows)| {
            let mut rows: Vec<Row<'a>> = rows.into_values().collect();
            rows.sort_by(|a, b| (b.taken_at, &b.snapshot).cmp(&(a.taken_at, &a.snapshot)));
            let media: BTreeSet<MediumId> =
                rows.iter().flat_map(|r| r.copies.keys().cloned()).collect();
            Matrix {
                source,
                media: media.into_iter().collect(),
                rows,
            }
        })
        .collect()
}

/// A copy's cell: its word, its class (`ok` when it makes its generation
/// offline, else `bad`).
pub(crate) fn cell(l: Lang, c: &CopyVerdict) -> (String, &'static str) {
    let word = match (&c.excluded, &c.verdict) {
        (Some(_), _) => tr(l, "excluded", "除外").to_owned(),
        (
            None,
            Verdict::Offline {
                koban,
                strength: Strength::Full,
                ..
            },
        ) => koban.as_str().to_owned(),
        (None, Verdict::Offline { koban, .. }) => {
            format!("{}{}", koban.as_str(), tr(l, " (weaker)", "（弱）"))
        }
        (None, Verdict::Online(_)) => tr(l, "online", "オンライン").to_owned(),
        (None, Verdict::Unknown(_)) => tr(l, "unknown", "不明").to_owned(),
    };
    (word, if c.counts() { "ok" } else { "bad" })
}

/// The verdict in words, for the cell's tooltip.
fn why(l: Lang, c: &CopyVerdict, offset: time::UtcOffset) -> String {
    let v = c.verdict.describe(offset).pick(l);
    let x = match c.excluded {
        None => return v,
        Some(Exclusion::Incomplete) => tr(l, "incomplete copy", "不完全なコピー"),
        Some(Exclusion::MediumDamaged) => tr(l, "medium damaged", "媒体が損傷"),
        Some(Exclusion::MediumRetired) => tr(l, "medium retired", "媒体は廃棄済み"),
    };
    format!("{x}; {v}")
}

fn matrix(l: Lang, m: &Matrix<'_>, ev: &Evaluation, site: &hokan_site::Site) -> Markup {
    let offset = site.timezone().unwrap_or(time::UtcOffset::UTC);
    let offline = ev.sources.iter().find(|s| s.source.as_str() == m.source);
    let counts = |id: &SnapshotId| {
        offline.is_some_and(|s| s.offline_generations.iter().any(|g| &g.snapshot == id))
    };
    html! {
        section.source data-source=(m.source) {
            h2 { (m.source) }
            @if m.rows.is_empty() {
                p.small { (tr(l, "No generation yet.", "世代はまだありません。")) }
            } @else {
                div.scroll {
                    table.matrix {
                        thead { tr {
                            th { (tr(l, "taken", "取得日時")) }
                            th { (tr(l, "snapshot", "スナップショット")) }
                            th { (tr(l, "offline generation", "オフライン世代")) }
                            @for id in &m.media { th.medium { (id.to_string()) } }
                        } }
                        tbody {
                            @for r in &m.rows {
                                tr data-snapshot=(r.snapshot.to_string()) {
                                    td { (pages::when(r.taken_at, site)) }
                                    td { code { (hokan_catalog::event::short(&r.snapshot)) } }
                                    @if counts(&r.snapshot) {
                                        td.ok { (tr(l, "yes", "はい")) }
                                    } @else {
                                        td.bad { (tr(l, "no", "いいえ")) }
                                    }
                                    @for id in &m.media {
                                        @match r.copies.get(id) {
                                            Some(c) => {
                                                @let (word, class) = cell(l, c);
                                                td.cell.(class) data-medium=(id.to_string()) title=(why(l, c, offset)) { (word) }
                                            }
                                            None => td.cell.none data-medium=(id.to_string()) { "" },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// 世代 / Generations: each source's offline generations against the
/// policy, then its matrix of generations × media.
pub(crate) fn generations(s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "Generations", "世代");
    let j = match pages::judge(s, false) {
        Ok(j) => j,
        Err(e) => return pages::error_page(l, title, who, &e),
    };
    let (site, ev) = (&j.site, &j.ev);
    let known: Vec<(String, SnapshotId, OffsetDateTime)> = match (&j.catalog, ev.is_untrusted()) {
        (Some(cat), false) => cat
            .snapshots()
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.source.to_string(), r.id, r.taken_at))
            .collect(),
        _ => Vec::new(),
    };
    let all = matrices(ev, &known);
    let body = html! {
        (pages::verdict_line(l, ev, site))
        (pages::untrusted(l, ev))
        h2 { (tr(l, "Sources", "バックアップ対象")) }
        (pages::sources_table(l, ev))
        p.small { (tr(l, "Each cell is one copy's verdict now: its 項番 when offline (green), else online, unknown or excluded (red; hover for why). Newest generations first.", "各セルはコピーの現在の判定です。オフラインなら項番（緑）、そうでなければオンライン・不明・除外（赤。理由はカーソルを合わせると表示）。新しい世代から順に表示します。")) }
        @for m in &all {
            (matrix(l, m, ev, site))
        }
    };
    pages::page(l, title, Some(who), body)
}
