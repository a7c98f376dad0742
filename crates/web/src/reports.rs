//! 報告書 / Reports: the inspection report (`hokan report`) and the backup
//! annex to the operations rulebook (`hokan annex`), to download as HTML or
//! Markdown in Japanese or English. Gathered by the same library functions
//! as the commands ([`hokan_jobs::site::report`]) at the page's instant,
//! from the catalog judged as evidence (the devices are not asked: the
//! documents state what the catalog holds).

use hokan_report::{
    render_annex_html, render_annex_markdown, render_html, render_markdown, Lang as RLang,
};
use maud::html;
use time::{OffsetDateTime, UtcOffset};

use crate::pages::{self, tr, Lang, Pick};
use crate::server::{Session, Shared};

/// How many of the newest events a downloaded report lists (as `hokan
/// report`'s default).
pub(crate) const REPORT_EVENTS: usize = 50;

/// A document to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Doc {
    /// The inspection report, HTML.
    ReportHtml,
    /// The inspection report, Markdown.
    ReportMd,
    /// The rulebook annex, HTML.
    AnnexHtml,
    /// The rulebook annex, Markdown.
    AnnexMd,
}

impl Doc {
    const ALL: [Doc; 4] = [Doc::ReportHtml, Doc::ReportMd, Doc::AnnexHtml, Doc::AnnexMd];

    /// The document at `/reports/FILE`, if any.
    pub(crate) fn named(file: &str) -> Option<Doc> {
        Doc::ALL
            .into_iter()
            .find(|d| d.path().strip_prefix("/reports/") == Some(file))
    }

    /// Its address under `/reports/`.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Doc::ReportHtml => "/reports/report.html",
            Doc::ReportMd => "/reports/report.md",
            Doc::AnnexHtml => "/reports/annex.html",
            Doc::AnnexMd => "/reports/annex.md",
        }
    }

    fn html(self) -> bool {
        matches!(self, Doc::ReportHtml | Doc::AnnexHtml)
    }

    fn annex(self) -> bool {
        matches!(self, Doc::AnnexHtml | Doc::AnnexMd)
    }

    /// Its `Content-Type`.
    pub(crate) fn content_type(self) -> &'static str {
        if self.html() {
            "text/html; charset=utf-8"
        } else {
            "text/markdown; charset=utf-8"
        }
    }

    /// The file name it is saved under: `hokan-report-2026-12-06-0914.html`
    /// or `hokan-annex-2026-12-06.md`, at `at` in the site's zone, with the
    /// language (`-ja`, `-en`) before the extension.
    fn file_name(self, at: OffsetDateTime, l: Lang) -> String {
        let stamp = if self.annex() {
            at.format(time::macros::format_description!("[year]-[month]-[day]"))
        } else {
            at.format(time::macros::format_description!(
                "[year]-[month]-[day]-[hour][minute]"
            ))
        }
        .unwrap_or_default();
        let what = if self.annex() { "annex" } else { "report" };
        let ext = if self.html() { "html" } else { "md" };
        format!("hokan-{what}-{stamp}-{}.{ext}", tr(l, "en", "ja"))
    }

    fn title(self, l: Lang) -> &'static str {
        match self {
            Doc::ReportHtml => tr(
                l,
                "Offline backup status report (HTML)",
                "オフラインバックアップ状態確認報告書（HTML）",
            ),
            Doc::ReportMd => tr(
                l,
                "Offline backup status report (Markdown)",
                "オフラインバックアップ状態確認報告書（Markdown）",
            ),
            Doc::AnnexHtml => tr(
                l,
                "Annex to the operations rulebook: backup operations (HTML)",
                "運用管理規程 別紙: バックアップ運用（HTML）",
            ),
            Doc::AnnexMd => tr(
                l,
                "Annex to the operations rulebook: backup operations (Markdown)",
                "運用管理規程 別紙: バックアップ運用（Markdown）",
            ),
        }
    }
}

/// A document ready to download.
pub(crate) struct Download {
    /// The name it is saved under.
    pub(crate) file_name: String,
    /// Its `Content-Type`.
    pub(crate) content_type: &'static str,
    /// Its text.
    pub(crate) body: String,
}

/// Gather and render `doc` in `l` at the page's instant, as `hokan report`
/// and `hokan annex` do (without reading the vaults' inbox first: the
/// dashboard does not write receipts into the catalog). The error says
/// what went wrong, in `l`.
pub(crate) fn download(s: &Shared, l: Lang, doc: Doc) -> Result<Download, String> {
    let ja = l == Lang::Ja;
    let site = hokan_site::load(&s.config.site).map_err(|e| e.render(ja))?;
    let policy = site.policy().map_err(|e| e.to_string())?;
    let sources: Vec<String> = site.source_names().map(str::to_owned).collect();
    let offset = site
        .timezone()
        .or_else(|| UtcOffset::current_local_offset().ok())
        .unwrap_or(UtcOffset::UTC);
    // Sentences the evaluator writes show times in the offset of `now`.
    let now = s.now().to_offset(offset);
    let judged = hokan_jobs::site::judge(
        hokan_jobs::site::Judge {
            catalog: site.catalog_path(),
            policy: &policy,
            sources: &sources,
            now,
            site: Some((&site, site.name())),
            extra: Vec::new(),
        },
        &hokan_jobs::s3::anchor::name,
    )
    .map_err(|e| e.to_string())?;
    let notes = hokan_jobs::s3::anchor::notes(&judged.buckets, site.name(), &|e| e.to_string());
    let catalog_failure = |e: hokan_catalog::CatalogError| e.text().pick(l);
    let rl = if ja { RLang::Ja } else { RLang::En };
    let body = if doc.annex() {
        let data = hokan_jobs::site::report::annex(&site, &policy, judged, now, offset)
            .map_err(catalog_failure)?;
        match doc {
            Doc::AnnexHtml => render_annex_html(&data, rl),
            _ => render_annex_markdown(&data, rl),
        }
    } else {
        let from = hokan_jobs::site::report::ReportFrom {
            site: Some(&site),
            catalog: site.catalog_path(),
            repository: Some(site.repository_location().label()),
            policy: &policy,
            now,
            offset,
            ja,
            events: REPORT_EVENTS,
            notes,
        };
        let data = hokan_jobs::site::report::report(from, judged).map_err(catalog_failure)?;
        match doc {
            Doc::ReportHtml => render_html(&data, rl),
            _ => render_markdown(&data, rl),
        }
    };
    Ok(Download {
        file_name: doc.file_name(now, l),
        content_type: doc.content_type(),
        body,
    })
}

/// 報告書 / Reports: the documents to download, each in Japanese and in
/// English.
pub(crate) fn reports(_s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "Reports", "報告書");
    let body = html! {
        p { (tr(l,
            "Made on request from the catalog as it is now, judged as evidence, exactly as the commands hokan report and hokan annex make them. Each download is saved as a file.",
            "カタログの現在の内容を証拠として判定し、hokan report・hokan annex と同じ内容で、その場で作成します。ファイルとして保存されます。")) }
        table {
            thead { tr {
                th { (tr(l, "document", "文書")) }
                th { (tr(l, "download", "ダウンロード")) }
            } }
            tbody {
                @for d in Doc::ALL {
                    tr {
                        td { (d.title(l)) }
                        td {
                            a href={ (d.path()) "?lang=ja" } { "日本語" }
                            " | "
                            a href={ (d.path()) "?lang=en" } { "English" }
                        }
                    }
                }
            }
        }
    };
    pages::page(l, title, Some(who), body)
}
