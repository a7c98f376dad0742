//! The last restore drill per kind of medium and source: what it found,
//! what it measured, and whether the whole source could be restored from
//! that kind of medium within the source's recovery-time target (`rto`).
//!
//! One table, shown by the report (section "Verification and restore
//! drills") and by the annex (section "Restore drills"), so the paper filed
//! with the rulebook and the paper shown to an inspector say the same.
//! Every kind of medium in use appears: one never drilled is a row saying
//! so, never a missing row.

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime, UtcOffset};

use hokan_catalog::event::short;
use hokan_catalog::{AppCheck, DrillRow, MediumRow};
use hokan_offline::text::{day, when};
use hokan_offline::Evaluation;

use crate::content::fmt::{bytes_text, duration, rate_text, thousands, truncate};
use crate::doc::{tr, Cell, Span, Table, Tone};
use crate::Lang;

/// The fee-schedule rule (診療録管理体制加算1) asks for a restore drill at
/// least once a year; an older one is overdue.
pub(crate) const DRILL_INTERVAL: Duration = Duration::days(365);

/// How many failures a row names; the rest are counted.
const FAILURES_SHOWN: usize = 3;

/// A kind of medium as `hokan drill --kind` names it.
pub(crate) use hokan_offline::MediumClass as Class;

/// A kind of medium's name on paper.
fn class_name(class: Class, lang: Lang) -> &'static str {
    match class {
        Class::Tape => tr(lang, "LTO tape", "テープ（LTO）"),
        Class::Disk => tr(lang, "Removable disk", "ディスク（RDX等）"),
        Class::S3 => tr(lang, "Cloud (S3)", "クラウド（S3）"),
        Class::Vault => tr(lang, "Vault", "保管サーバ（vault）"),
    }
}

/// What the table is made from: the same facts in the report and the annex.
pub(crate) struct DrillFacts<'a> {
    pub lang: Lang,
    pub offset: UtcOffset,
    /// The instant the paper describes: later drills are not shown.
    pub now: OffsetDateTime,
    pub evaluation: &'a Evaluation,
    pub media: &'a [MediumRow],
    pub drills: &'a [DrillRow],
    /// Targets known from the configuration (the annex), with their kind;
    /// the targets of the media in the catalog are added to them.
    pub targets: Vec<(Class, String)>,
}

impl<'a> DrillFacts<'a> {
    /// The facts of a report or an annex made at `now`.
    pub fn new(
        lang: Lang,
        (now, offset): (OffsetDateTime, UtcOffset),
        evaluation: &'a Evaluation,
        media: &'a [MediumRow],
        drills: &'a [DrillRow],
    ) -> DrillFacts<'a> {
        DrillFacts {
            lang,
            offset,
            now,
            evaluation,
            media,
            drills,
            targets: Vec::new(),
        }
    }
}

/// One row: a kind of medium and a source, and its newest drill if any.
struct Row<'a> {
    class: Class,
    source: Option<String>,
    last: Option<&'a DrillRow>,
}

impl DrillFacts<'_> {
    fn tr(&self, en: &str, ja: &str) -> String {
        tr(self.lang, en, ja).to_owned()
    }

    fn kind_of(&self, r: &DrillRow) -> Option<Class> {
        if let Some(c) = r.measured.as_ref().and_then(|m| Class::parse(&m.kind)) {
            return Some(c);
        }
        let m = self.media.iter().find(|m| m.id == r.medium)?;
        Class::of(m.kind)
    }

    /// The drilled source: as measured, or (for a drill recorded before
    /// `hokan drill` measured) the source of its generation.
    fn source_of(&self, r: &DrillRow) -> Option<String> {
        if let Some(m) = r.measured.as_ref().filter(|m| !m.source.is_empty()) {
            return Some(m.source.clone());
        }
        self.evaluation
            .copies
            .iter()
            .find(|c| c.snapshot == r.snapshot)
            .map(|c| c.source.to_string())
    }

    /// The kinds in use, each with its targets.
    fn targets(&self) -> BTreeMap<Class, BTreeSet<String>> {
        let mut out: BTreeMap<Class, BTreeSet<String>> = BTreeMap::new();
        for (c, name) in &self.targets {
            out.entry(*c).or_default().insert(name.clone());
        }
        for m in self.media {
            if let Some(c) = Class::of(m.kind) {
                let name = m.pool.as_ref().map_or(m.id.as_str(), |p| p.as_str());
                out.entry(c).or_default().insert(name.to_owned());
            }
        }
        for c in &self.evaluation.copies {
            if let Some(class) = c.kind.and_then(Class::of) {
                out.entry(class).or_default();
            }
        }
        out
    }

    /// Per kind in use, per source that has a copy on it or was drilled
    /// from it, the newest drill; a kind with neither is one row.
    fn rows(&self) -> Vec<Row<'_>> {
        let mut rows: BTreeMap<(Class, Option<String>), Option<&DrillRow>> = BTreeMap::new();
        for c in &self.evaluation.copies {
            if let Some(class) = c.kind.and_then(Class::of) {
                rows.insert((class, Some(c.source.to_string())), None);
            }
        }
        for d in self.drills.iter().filter(|d| d.started_at <= self.now) {
            let Some(class) = self.kind_of(d) else {
                continue;
            };
            let slot = rows.entry((class, self.source_of(d))).or_default();
            if slot.is_none_or(|s| (s.started_at, s.seq) < (d.started_at, d.seq)) {
                *slot = Some(d);
            }
        }
        for class in self.targets().into_keys() {
            if !rows.keys().any(|(c, _)| *c == class) {
                rows.insert((class, None), None);
            }
        }
        rows.into_iter()
            .map(|((class, source), last)| Row {
                class,
                source,
                last,
            })
            .collect()
    }

    /// The table: one row per kind of medium in use and source.
    pub fn table(&self) -> Table {
        let targets = self.targets();
        let mut t = Table::new(vec![
            self.tr("Medium / source", "媒体・対象"),
            self.tr("Last drill", "最後の訓練"),
            self.tr("Result", "結果"),
            self.tr("Restore time", "復元時間"),
            self.tr("Throughput", "転送速度"),
            self.tr("App check", "アプリ確認"),
            self.tr("Whole source vs RTO", "全体の復元見込みと目標"),
        ]);
        for row in self.rows() {
            let mut what = Cell(vec![Span::Strong(
                class_name(row.class, self.lang).to_owned(),
            )]);
            if let Some(names) = targets.get(&row.class).filter(|n| !n.is_empty()) {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                what = what.small_line(names.join(tr(self.lang, ", ", "、")));
            }
            what = what.line(match &row.source {
                Some(s) => Cell::text(self.tr("source ", "対象 ")).push(Span::Code(s.clone())),
                None => Cell(vec![Span::Small(
                    self.tr("no copy on it yet", "まだコピーがありません"),
                )]),
            });
            let Some(last) = row.last else {
                t.row_toned(Some(Tone::Bad), self.missing(&row, what));
                continue;
            };
            let (cells, bad) = self.drilled(last, what);
            t.row_toned(bad.then_some(Tone::Bad), cells);
        }
        t
    }

    /// A kind of medium (and source) never drilled.
    fn missing(&self, row: &Row<'_>, what: Cell) -> Vec<Cell> {
        // A vault is drilled on the vault: the primary cannot reach it.
        let mut cmd = match row.class {
            Class::Vault => self.tr(
                "on the vault: hokan vault drill",
                "保管サーバで: hokan vault drill",
            ),
            c => format!("hokan drill --kind {}", c.as_str()),
        };
        if let Some(s) = &row.source {
            cmd.push_str(&format!(" --source {s}"));
        }
        let dash = || Cell(vec![Span::Small("—".into())]);
        vec![
            what,
            Cell::badge(
                Tone::Bad,
                self.tr("× no drill recorded", "× 訓練の記録なし"),
            )
            .line(Cell::code(cmd)),
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
        ]
    }

    /// The cells of a drilled row, and whether it is a problem (failed,
    /// over a year old, or too slow for the target).
    fn drilled(&self, last: &DrillRow, what: Cell) -> (Vec<Cell>, bool) {
        let lang = self.lang;
        let dash = || Cell(vec![Span::Small("—".into())]);
        let old = self.now - last.started_at > DRILL_INTERVAL;
        let mut when_cell = Cell::text(when(last.started_at, self.offset)).small_line(format!(
            "{} · {}",
            last.medium,
            short(&last.snapshot)
        ));
        if let Some(by) = &last.by {
            when_cell = when_cell.small_line(match lang {
                Lang::Ja => format!("実施 {by}"),
                Lang::En => format!("by {by}"),
            });
        }
        when_cell = when_cell.line(if old {
            Cell::badge(Tone::Bad, self.tr("× over a year ago", "× 1年以上前"))
        } else {
            let next = day(last.started_at + DRILL_INTERVAL, self.offset);
            Cell(vec![Span::Small(match lang {
                Lang::Ja => format!("次回 {next} まで"),
                Lang::En => format!("next by {next}"),
            })])
        });

        let m = last.measured.as_ref();
        let mut result = if last.ok {
            Cell::badge(Tone::Ok, self.tr("○ passed", "○ 成功"))
        } else {
            Cell::badge(Tone::Bad, self.tr("× FAILED", "× 失敗"))
        };
        let failures = m.map_or(&[][..], |m| &m.failures[..]);
        for f in failures.iter().take(FAILURES_SHOWN) {
            result = result.line(Cell::code(truncate(&f.what, 60)).then(format!(
                "{}{}",
                tr(lang, ": ", "："),
                truncate(&f.why, 120)
            )));
        }
        if failures.len() > FAILURES_SHOWN {
            let more = failures.len() - FAILURES_SHOWN;
            result = result.small_line(match lang {
                Lang::Ja => format!("ほか {more} 件"),
                Lang::En => format!("and {more} more"),
            });
        }
        if let Some(d) = last.detail.as_deref().filter(|_| failures.is_empty()) {
            result = result.small_line(truncate(d, 200));
        }

        let mut took = Cell::text(duration(lang, last.seconds));
        if let Some(first) = m.and_then(|m| m.first_file_secs) {
            took = took.small_line(match lang {
                Lang::Ja => format!("最初のファイル {}", duration(lang, first)),
                Lang::En => format!("first file {}", duration(lang, first)),
            });
        }

        let (rate, app, (projected, slow)) = match m {
            None => (
                dash(),
                dash(),
                (
                    Cell(vec![Span::Small(self.tr(
                        "not measured (recorded by hand)",
                        "未計測（手作業の記録）",
                    ))]),
                    false,
                ),
            ),
            Some(m) => {
                let files = m.files_checked;
                let rate = Cell::text(rate_text(m.throughput))
                    .small_line(bytes_text(m.bytes))
                    .small_line(match lang {
                        Lang::Ja => format!("{} ファイル照合", thousands(files)),
                        Lang::En => format!(
                            "{} file{} checked",
                            thousands(files),
                            if files == 1 { "" } else { "s" }
                        ),
                    });
                (
                    rate,
                    self.app_check(m.app_check),
                    self.projected(m.projected_secs, m.rto_secs),
                )
            }
        };
        let bad = !last.ok || old || slow;
        (
            vec![what, when_cell, result, took, rate, app, projected],
            bad,
        )
    }

    fn app_check(&self, a: Option<AppCheck>) -> Cell {
        match a {
            Some(AppCheck::Passed) => Cell::badge(Tone::Ok, self.tr("○ passed", "○ 成功")),
            Some(AppCheck::Failed) => Cell::badge(Tone::Bad, self.tr("× FAILED", "× 失敗")),
            Some(AppCheck::TimedOut) => {
                Cell::badge(Tone::Bad, self.tr("× timed out", "× 時間切れ"))
            }
            Some(AppCheck::NotRun) => Cell::badge(Tone::Muted, self.tr("— not run", "— 未実行")),
            None => Cell::badge(Tone::Muted, self.tr("— none", "— なし"))
                .small_line(self.tr("no check configured", "確認コマンド未設定")),
        }
    }

    /// The projected whole-source restore time against the target, and
    /// whether it misses it.
    fn projected(&self, projected: Option<f64>, rto: Option<f64>) -> (Cell, bool) {
        let lang = self.lang;
        let Some(p) = projected.filter(|p| p.is_finite() && *p >= 0.0) else {
            return (
                Cell(vec![Span::Small(self.tr("not projected", "見込みなし"))]),
                false,
            );
        };
        let about = Cell::text(match lang {
            Lang::Ja => format!("約{}", duration(lang, p)),
            Lang::En => format!("about {}", duration(lang, p)),
        });
        let Some(r) = rto.filter(|r| r.is_finite() && *r > 0.0) else {
            return (
                about.line(Cell::badge(
                    Tone::Muted,
                    self.tr("— no target", "— 目標なし"),
                )),
                false,
            );
        };
        let misses = p > r;
        let badge = if misses {
            Cell::badge(Tone::Bad, self.tr("× MISSES", "× 目標超過"))
        } else {
            Cell::badge(Tone::Ok, self.tr("○ meets", "○ 目標内"))
        };
        let target = match lang {
            Lang::Ja => format!("目標 {}", duration(lang, r)),
            Lang::En => format!("target {}", duration(lang, r)),
        };
        (about.line(badge).small_line(target), misses)
    }
}

#[cfg(test)]
mod tests {
    use hokan_catalog::{DrillFailure, DrillMeasures};
    use time::macros::{datetime, offset};

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    /// A drill of `emr` from `medium` of `kind` a day before [`NOW`].
    fn drill(seq: u64, medium: &str, kind: &str, ok: bool) -> DrillRow {
        DrillRow {
            seq,
            snapshot: "e1a0c3d5e1a0c3d5".into(),
            medium: medium.into(),
            started_at: NOW - Duration::days(1),
            seconds: 95.0,
            ok,
            by: Some("佐藤 一郎".into()),
            detail: None,
            measured: Some(DrillMeasures {
                kind: kind.into(),
                source: "emr".into(),
                target: "/tmp/drill".into(),
                first_file_secs: Some(0.4),
                bytes: 3 << 30,
                throughput: 33_554_432.0,
                files_checked: 12_345,
                app_check: Some(AppCheck::Passed),
                failures: Vec::new(),
                projected_secs: Some(2.0 * 3600.0),
                rto_secs: Some(4.0 * 3600.0),
            }),
        }
    }

    fn evaluation() -> Evaluation {
        Evaluation {
            problems: Vec::new(),
            at: NOW,
            compliant: true,
            sources: Vec::new(),
            media: Vec::new(),
            copies: Vec::new(),
        }
    }

    /// The table's rows as text, one string per row with ` | ` between
    /// cells, in `lang`.
    fn table_rows(lang: Lang, drills: &[DrillRow]) -> Vec<String> {
        let ev = evaluation();
        let facts = DrillFacts {
            lang,
            offset: offset!(+9),
            now: NOW,
            evaluation: &ev,
            media: &[],
            drills,
            targets: vec![
                (Class::Tape, "weekday".into()),
                (Class::Disk, "rdx".into()),
                (Class::Vault, "vault-b".into()),
            ],
        };
        facts
            .table()
            .groups
            .iter()
            .map(|g| {
                g.rows[0]
                    .iter()
                    .map(|c| {
                        c.0.iter()
                            .map(|s| match s {
                                Span::Text(t)
                                | Span::Code(t)
                                | Span::Strong(t)
                                | Span::Badge(_, t)
                                | Span::Toned(_, t)
                                | Span::Small(t) => t.as_str(),
                                Span::Break => " / ",
                            })
                            .collect::<String>()
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect()
    }

    fn row<'a>(rows: &'a [String], starts: &str) -> &'a str {
        rows.iter()
            .find(|r| r.starts_with(starts))
            .unwrap_or_else(|| panic!("no row starting {starts:?} in {rows:#?}"))
    }

    #[test]
    fn a_passed_drill_shows_what_it_measured_and_meets_the_target() {
        let rows = table_rows(Lang::En, &[drill(7, "RDX-1", "disk", true)]);
        let disk = row(&rows, "Removable disk");
        for want in [
            "rdx / source emr",
            "RDX-1 · e1a0c3d5",
            "by 佐藤 一郎",
            "next by 2027-11-23",
            "○ passed",
            "1 min 35 s",
            "first file 0.4 s",
            "32.0 MiB/s",
            "3.0 GiB",
            "12,345 files checked",
            "about 2 h",
            "○ meets",
            "target 4 h",
        ] {
            assert!(disk.contains(want), "{want:?} not in {disk}");
        }
        let ja = table_rows(Lang::Ja, &[drill(7, "RDX-1", "disk", true)]);
        let disk = row(&ja, "ディスク（RDX等）");
        assert!(
            disk.contains("1分35秒") && disk.contains("約2時間"),
            "{disk}"
        );
        assert!(
            disk.contains("○ 目標内") && disk.contains("目標 4時間"),
            "{disk}"
        );
    }

    #[test]
    fn a_kind_in_use_never_drilled_shows_as_missing() {
        let rows = table_rows(Lang::En, &[drill(7, "RDX-1", "disk", true)]);
        // Tape and vault are in use; only the disk was drilled.
        assert_eq!(rows.len(), 3, "{rows:#?}");
        for (kind, cmd) in [
            ("LTO tape", "hokan drill --kind tape"),
            ("Vault", "hokan vault drill"),
        ] {
            let r = row(&rows, kind);
            assert!(r.contains("× no drill recorded"), "{r}");
            assert!(r.contains(cmd), "{r}");
            assert!(!r.contains("passed"), "{r}");
        }
        // No drill at all: every kind in use is missing, in Japanese too.
        let ja = table_rows(Lang::Ja, &[]);
        assert_eq!(ja.len(), 3);
        assert!(ja.iter().all(|r| r.contains("× 訓練の記録なし")), "{ja:#?}");
    }

    #[test]
    fn a_failed_drill_names_what_failed() {
        let mut d = drill(8, "HKN001L9", "tape", false);
        let m = d.measured.as_mut().unwrap();
        m.app_check = Some(AppCheck::NotRun);
        m.failures = (0..5)
            .map(|i| DrillFailure {
                what: format!("data/f{i:03}.dat"),
                why: "authentication failed (pack 3fa2b7c1)".into(),
            })
            .collect();
        // An older passed drill of the same kind and source is not shown.
        let older = DrillRow {
            seq: 3,
            started_at: NOW - Duration::days(30),
            ..drill(3, "HKN002L9", "tape", true)
        };
        let rows = table_rows(Lang::En, &[older, d]);
        let tape = row(&rows, "LTO tape");
        assert!(tape.contains("× FAILED"), "{tape}");
        assert!(
            tape.contains("HKN001L9") && !tape.contains("HKN002L9"),
            "{tape}"
        );
        assert!(
            tape.contains("data/f000.dat: authentication failed (pack 3fa2b7c1)"),
            "{tape}"
        );
        assert!(tape.contains("data/f002.dat") && !tape.contains("data/f003.dat"));
        assert!(tape.contains("and 2 more"), "{tape}");
        assert!(tape.contains("— not run"), "{tape}");
        let ja = table_rows(Lang::Ja, &[drill(8, "HKN001L9", "tape", false)]);
        assert!(row(&ja, "テープ").contains("× 失敗"));
    }

    #[test]
    fn projected_restore_time_against_the_target() {
        let mut slow = drill(9, "RDX-1", "disk", true);
        slow.measured.as_mut().unwrap().projected_secs = Some(30.0 * 3600.0);
        let mut untargeted = drill(10, "vault-b", "vault", true);
        untargeted.measured.as_mut().unwrap().rto_secs = None;
        let mut unknown = drill(11, "HKN001L9", "tape", true);
        unknown.measured.as_mut().unwrap().projected_secs = None;
        let rows = table_rows(Lang::En, &[slow, untargeted, unknown]);
        let disk = row(&rows, "Removable disk");
        assert!(
            disk.contains("about 30 h / × MISSES / target 4 h"),
            "{disk}"
        );
        let vault = row(&rows, "Vault");
        assert!(vault.contains("about 2 h / — no target"), "{vault}");
        assert!(!vault.contains("MISSES") && !vault.contains("meets"));
        let tape = row(&rows, "LTO tape");
        assert!(tape.ends_with("not projected"), "{tape}");
        // A passed drill that misses its target marks the row.
        let ev = evaluation();
        let mut slow = drill(9, "RDX-1", "disk", true);
        slow.measured.as_mut().unwrap().projected_secs = Some(5.0 * 3600.0);
        let facts = DrillFacts {
            lang: Lang::Ja,
            offset: offset!(+9),
            now: NOW,
            evaluation: &ev,
            media: &[],
            drills: &[slow],
            targets: Vec::new(),
        };
        let t = facts.table();
        assert_eq!(t.groups.len(), 1);
        assert_eq!(t.groups[0].tone, Some(Tone::Bad));
    }
}
