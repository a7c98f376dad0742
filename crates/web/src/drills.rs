//! 復旧訓練 / Drills: the restore drills recorded in the catalog
//! (`hokan drill`, `hokan vault drill`), newest first: when, which
//! generation from which medium, whether it matched, how long it took and
//! at what throughput, the files checked, the application check, what
//! failed, and the whole source's projected restore time against its RTO.

use hokan_catalog::{AppCheck, DrillRow};
use maud::{html, Markup};

use crate::pages::{self, tr, Lang, Pick};
use crate::server::{Session, Shared};

/// How many drills the page lists.
pub(crate) const DRILLS_SHOWN: usize = 200;

/// Seconds as `12.3 s`, or in minutes, hours or days when longer.
pub(crate) fn seconds(l: Lang, secs: f64) -> String {
    if secs < 120.0 {
        match l {
            Lang::En => format!("{secs:.1} s"),
            Lang::Ja => format!("{secs:.1} 秒"),
        }
    } else {
        hokan_offline::text::span(time::Duration::seconds_f64(secs)).pick(l)
    }
}

/// Bytes per second as `12.3 MB/s`.
fn throughput(bps: f64) -> String {
    format!("{:.1} MB/s", bps / 1_000_000.0)
}

fn app_check(l: Lang, a: Option<AppCheck>) -> &'static str {
    match a {
        None => tr(l, "none configured", "設定なし"),
        Some(AppCheck::Passed) => tr(l, "passed", "成功"),
        Some(AppCheck::Failed) => tr(l, "failed", "失敗"),
        Some(AppCheck::TimedOut) => tr(l, "timed out", "タイムアウト"),
        Some(AppCheck::NotRun) => tr(l, "not run", "未実行"),
    }
}

/// The projected time to restore the whole source against its RTO.
fn projected(l: Lang, d: &DrillRow) -> Markup {
    let Some(m) = &d.measured else {
        return html! { "—" };
    };
    match (m.projected_secs, m.rto_secs) {
        (Some(p), Some(rto)) => html! {
            span.(if p <= rto { "ok" } else { "bad" }) {
                (seconds(l, p)) " / RTO " (seconds(l, rto))
                @if p > rto { " " (tr(l, "(over)", "（超過）")) }
            }
        },
        (Some(p), None) => html! { (seconds(l, p)) " / " (tr(l, "no RTO", "RTO 未設定")) },
        (None, _) => html! { "—" },
    }
}

/// The drills, newest first.
pub(crate) fn drills(s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "Restore drills", "復旧訓練");
    let site = match pages::load_site(s) {
        Ok(x) => x,
        Err(e) => return pages::error_page(l, title, who, &e),
    };
    let list = hokan_catalog::Catalog::open_existing(site.catalog_path())
        .and_then(|cat| cat.drills(DRILLS_SHOWN));
    let list = match list {
        Ok(x) => x,
        Err(e) => return pages::error_page(l, title, who, &e.text().pick(l)),
    };
    let body = html! {
        @if list.is_empty() {
            p.small { (tr(l, "No restore drill is recorded yet (hokan drill).", "復旧訓練の記録はまだありません（hokan drill）。")) }
        } @else {
            table.drills {
                thead { tr {
                    th { (tr(l, "when", "日時")) }
                    th { (tr(l, "generation", "世代")) }
                    th { (tr(l, "medium", "媒体")) }
                    th { (tr(l, "outcome", "結果")) }
                    th { (tr(l, "time", "所要時間")) }
                    th { (tr(l, "throughput", "スループット")) }
                    th { (tr(l, "files checked", "確認したファイル")) }
                    th { (tr(l, "application check", "アプリケーション確認")) }
                    th { (tr(l, "failures", "失敗")) }
                    th { (tr(l, "projected / RTO", "全体の復旧見込み / RTO")) }
                    th { (tr(l, "by", "実施者")) }
                } }
                tbody {
                    @for d in &list {
                        tr {
                            td { (pages::when(d.started_at, &site)) }
                            td { code { (d.snapshot.to_string()) } @if let Some(m) = &d.measured { br; span.small { (m.source) } } }
                            td { (d.medium.to_string()) @if let Some(m) = &d.measured { br; span.small { (m.kind) } } }
                            td.(if d.ok { "ok" } else { "bad" }) { (if d.ok { tr(l, "ok", "成功") } else { tr(l, "failed", "失敗") }) }
                            td { (seconds(l, d.seconds)) }
                            td { @if let Some(m) = &d.measured { (throughput(m.throughput)) } @else { "—" } }
                            td { @if let Some(m) = &d.measured { (m.files_checked) } @else { "—" } }
                            td { @if let Some(m) = &d.measured { (app_check(l, m.app_check)) } @else { "—" } }
                            td {
                                @match &d.measured {
                                    Some(m) if !m.failures.is_empty() => {
                                        ul { @for f in &m.failures { li { (f.what) ": " (f.why) } } }
                                    }
                                    _ => {
                                        @if let (false, Some(detail)) = (d.ok, &d.detail) { (detail) } @else { "—" }
                                    }
                                }
                            }
                            td { (projected(l, d)) }
                            td { (d.by.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
    };
    pages::page(l, title, Some(who), body)
}
