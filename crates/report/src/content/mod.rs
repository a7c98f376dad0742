//! What the report says: sections, rows and labels in one language.
//!
//! This module turns [`ReportData`] into a [`Document`]; it is the only place
//! that decides what is shown, in what order, and what is marked as a
//! problem. The order follows what an inspector (立入検査) asks first: a
//! warning when the evidence comes from simulated devices, the overall
//! verdict, what is wrong and what to do, the policy it was judged
//! against, per source, per generation (which media hold it, under which
//! 項番), the media, the attestations people signed, verify and drill
//! evidence, recent events, the facts only the catalog holds, and the
//! catalog head that ties this paper to the tamper-evident log.
//!
//! Empty catalogs are normal on the first day: every section says plainly
//! that there is nothing yet, and the banner never calls an empty site
//! compliant.

pub(crate) mod fmt;
pub(crate) mod records;
mod status;

use hokan_offline::text::when;
use hokan_offline::Severity;

use crate::doc::{tr, Banner, Cell, Document, Span, Tone};
use crate::{Lang, ReportData, SimulatedKind};

pub(crate) use fmt::Ctx;

/// The report's title.
pub(crate) fn title(lang: Lang) -> &'static str {
    tr(
        lang,
        "Offline backup status report",
        "オフラインバックアップ状態確認報告書",
    )
}

/// Build the whole document.
pub(crate) fn build(data: &ReportData, lang: Lang) -> Document {
    let cx = Ctx { data, lang };
    let sections = vec![
        status::problems(&cx),
        status::policy(&cx),
        status::sources(&cx),
        status::generations(&cx),
        records::media(&cx),
        records::attestations(&cx),
        records::verification(&cx),
        records::events(&cx),
        records::appendix(&cx),
        records::integrity(&cx),
    ];
    let sections = crate::doc::numbered(sections);
    Document {
        lang,
        title: title(lang).to_owned(),
        meta: meta(&cx),
        simulated: simulated(&cx),
        banner: banner(&cx),
        sections,
        footer: footer(&cx),
    }
}

fn meta(cx: &Ctx<'_>) -> Vec<(String, Cell)> {
    let d = cx.data;
    let none = || Cell::text(cx.tr("(none)", "（なし）"));
    let mut rows = vec![
        (
            cx.tr("Site", "施設名"),
            Cell(vec![Span::Strong(site_name(cx))]),
        ),
        (
            cx.tr("Generated at", "作成日時"),
            Cell::text(when(d.generated_at, d.offset)),
        ),
        (cx.tr("Program", "プログラム"), Cell::text(&d.program)),
        (
            cx.tr(
                "Rulebook annex (hokan annex)",
                "運用管理規程 別紙（hokan annex）",
            ),
            annex_reference(cx),
        ),
        (cx.tr("Catalog", "カタログ"), Cell::code(&d.site.catalog)),
        (
            cx.tr("Configuration", "設定ファイル"),
            d.site.config.as_ref().map_or_else(none, Cell::code),
        ),
        (
            cx.tr("Primary repository", "一次リポジトリ"),
            d.site.repository.as_ref().map_or_else(none, Cell::code),
        ),
    ];
    for n in &d.site.not_implemented {
        rows.push((cx.tr("Not implemented", "未実装"), Cell::text(n)));
    }
    rows
}

/// Which annex goes with this report: the version `hokan annex` of this
/// program writes for this site, or none without a site configuration
/// (the annex is generated from hokan.toml).
fn annex_reference(cx: &Ctx<'_>) -> Cell {
    let d = cx.data;
    if d.site.config.is_none() {
        return Cell::text(cx.tr(
            "none: hokan annex is generated from hokan.toml, and this report was made without one",
            "なし（hokan annex は hokan.toml から生成します。この報告書は設定ファイルなしで作成されました）",
        ));
    }
    Cell::text(crate::annex::annex_version(&d.program, cx.lang)).small_line(cx.tr(
        "the version this program generates for this site; a filed annex showing another version is out of date: generate it again with hokan annex",
        "このプログラムがこの施設について生成する版です。綴じた別紙の版が異なる場合は古いため、hokan annex で再生成してください",
    ))
}

/// The first-page warning that evidence comes from simulated devices or
/// test servers, naming each; none when every target is real.
fn simulated(cx: &Ctx<'_>) -> Option<Banner> {
    let sims = &cx.data.site.simulated;
    if sims.is_empty() {
        return None;
    }
    let mut lines = vec![Cell(vec![Span::Strong(cx.tr(
        "Part of the evidence in this report comes from simulated devices or test servers on this machine, not from real media. Verdicts resting on them (such as “○ Compliant”) do not show that any real copy is offline: this report shows how hokan works and is not evidence for an inspection.",
        "この報告書の証拠の一部は、実際の媒体ではなく、模擬装置またはこの機械上のテスト用サーバによるものです。これらに基づく判定（「○ 適合」など）は、実際のコピーがオフラインであることを示しません。本報告書は動作確認用であり、立入検査の証拠にはなりません。",
    ))])];
    for s in sims {
        let what = match (s.kind, cx.lang) {
            (SimulatedKind::TapeLibrary, Lang::Ja) => "模擬テープライブラリ（virtual_library）",
            (SimulatedKind::TapeLibrary, Lang::En) => "simulated tape library (virtual_library)",
            (SimulatedKind::DiskDevice, Lang::Ja) => "模擬ディスク装置・RDX（virtual_device）",
            (SimulatedKind::DiskDevice, Lang::En) => "simulated disk/RDX device (virtual_device)",
            (SimulatedKind::S3Server, Lang::Ja) => "この機械上の S3 テスト用サーバ",
            (SimulatedKind::S3Server, Lang::En) => "S3 test server on this machine",
            (SimulatedKind::Vault, Lang::Ja) => "この機械上の保管サーバ（別の機械ではありません）",
            (SimulatedKind::Vault, Lang::En) => "vault on this machine (not a second machine)",
        };
        let head = match cx.lang {
            Lang::Ja => format!("• {}：{what} ", s.target),
            Lang::En => format!("• {}: {what} ", s.target),
        };
        lines.push(Cell::text(head).push(Span::Code(s.at.clone())));
    }
    Some(Banner {
        tone: Tone::Bad,
        headline: cx.tr(
            "× SIMULATED devices: not evidence",
            "× 模擬装置による証拠を含みます（検査の証拠になりません）",
        ),
        lines,
    })
}

/// Problem counts by severity: errors, warnings, info.
pub(crate) fn counts(cx: &Ctx<'_>) -> (usize, usize, usize) {
    let all = cx.data.evaluation.all_problems();
    let n = |s: Severity| all.iter().filter(|p| p.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}

fn banner(cx: &Ctx<'_>) -> Banner {
    let ev = &cx.data.evaluation;
    let (errors, warnings, infos) = counts(cx);
    let count_line = Cell::text(match cx.lang {
        Lang::Ja => format!("問題：エラー {errors} 件、警告 {warnings} 件、情報 {infos} 件"),
        Lang::En => format!(
            "Problems: {errors} error{}, {warnings} warning{}, {infos} info",
            plural(errors),
            plural(warnings)
        ),
    });
    let mut lines = Vec::new();
    let (tone, headline) = if ev.is_untrusted() {
        // The catalog is not evidence: no verdict at all, and the problems
        // below say why and what to do.
        lines.push(Cell::text(cx.tr(
            "The catalog is missing, edited or rolled back, so nothing in it was judged. See the problems below and docs/catalog.md \"When the catalog cannot be trusted\".",
            "カタログが欠落・改ざん・巻き戻しのいずれかの状態にあるため、何も判定していません。下の「問題点」と docs/catalog.md「カタログが信頼できないとき」を参照してください。",
        )));
        (
            Tone::Bad,
            cx.tr(
                "× NOT JUDGED: catalog untrusted",
                "× 判定不能（カタログが信頼できません）",
            ),
        )
    } else if ev.sources.is_empty() {
        // The evaluator calls a site with nothing to judge compliant (every
        // one of no sources is); evidence must not.
        lines.push(Cell::text(cx.tr(
            "No backup source and no generation is recorded yet, so nothing can be judged compliant.",
            "バックアップ対象も世代もまだ記録されていないため、適合とは判定できません。",
        )));
        (
            Tone::Warn,
            cx.tr("△ Nothing to judge yet", "△ 判定対象なし"),
        )
    } else if ev.compliant {
        lines.push(Cell::text(match cx.lang {
            Lang::Ja => format!(
                "すべてのバックアップ対象（{} 件）が、必要な数のオフライン世代を持ち、ローテーションしています。",
                ev.sources.len()
            ),
            Lang::En => format!(
                "Every backup source ({}) has the offline generations the policy requires, and they rotate.",
                ev.sources.len()
            ),
        }));
        (Tone::Ok, cx.tr("○ Compliant", "○ 適合"))
    } else {
        let failing: Vec<String> = ev
            .sources
            .iter()
            .filter(|s| !s.compliant)
            .map(|s| s.source.to_string())
            .collect();
        lines.push(Cell::text(if failing.is_empty() {
            cx.tr(
                "A site-wide error stands; see the problems below.",
                "施設全体に関わるエラーがあります。下の「問題点」を確認してください。",
            )
        } else {
            match cx.lang {
                Lang::Ja => format!(
                    "要件を満たしていないバックアップ対象：{}。下の「問題点」を確認してください。",
                    failing.join("、")
                ),
                Lang::En => format!(
                    "Sources that do not meet the policy: {}. See the problems below.",
                    failing.join(", ")
                ),
            }
        }));
        (Tone::Bad, cx.tr("× NOT compliant", "× 不適合"))
    };
    lines.push(count_line);
    if !cx.data.catalog_problems.is_empty() {
        lines.push(Cell::badge(
            Tone::Bad,
            match cx.lang {
                Lang::Ja => format!(
                    "カタログ検証で {} 件の問題が見つかりました（「カタログの完全性」参照）",
                    cx.data.catalog_problems.len()
                ),
                Lang::En => format!(
                    "catalog verify found {} problem{} (see “Catalog integrity”)",
                    cx.data.catalog_problems.len(),
                    plural(cx.data.catalog_problems.len())
                ),
            },
        ));
    }
    Banner {
        tone,
        headline,
        lines,
    }
}

fn footer(cx: &Ctx<'_>) -> String {
    let d = cx.data;
    format!(
        "{} — {} — {} — {} — {} {}",
        title(cx.lang),
        site_name(cx),
        when(d.generated_at, d.offset),
        d.program,
        cx.tr("catalog head", "カタログ先頭"),
        d.head.seq
    )
}

fn site_name(cx: &Ctx<'_>) -> String {
    let name = cx.data.site.name.trim();
    if name.is_empty() {
        cx.tr("(unnamed site)", "（名称未設定）")
    } else {
        name.to_owned()
    }
}

/// `s` for English plurals.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
