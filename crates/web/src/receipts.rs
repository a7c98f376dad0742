//! 保管サーバの受領証 / Vault receipts: the signed receipts of the pull-only
//! vaults recorded in the catalog (only receipts whose signature verified
//! with the vault's registered key are recorded), newest first: the vault,
//! when it issued the receipt, its firewall and clock checks, the
//! generations it stores with their retention and immutable flag, and its
//! findings.

use hokan_offline::VaultReceipt;
use maud::{html, Markup};

use crate::pages::{self, tr, Lang, Pick};
use crate::server::{Session, Shared};

/// How many receipts the page shows.
pub(crate) const RECEIPTS_SHOWN: usize = 100;

/// A check's state (`ok`, `differs`, `unchecked`, `behind`, `frozen`) in
/// `l`, marked good or bad.
fn state(l: Lang, s: &str) -> Markup {
    let (word, class) = match s {
        "ok" => (tr(l, "ok", "正常"), "ok"),
        "differs" => (tr(l, "differs", "相違あり"), "bad"),
        "unchecked" => (tr(l, "not checked", "未確認"), "bad"),
        "behind" => (tr(l, "behind", "遅れ"), "bad"),
        "frozen" => (tr(l, "frozen", "停止"), "bad"),
        other => (other, "bad"),
    };
    html! { span.(class) { (word) } }
}

fn receipt(l: Lang, r: &VaultReceipt, site: &hokan_site::Site) -> Markup {
    html! {
        section.receipt {
            h2 { (r.vault.to_string()) " · " (pages::when(r.issued, site)) }
            table {
                tbody {
                    tr { th { (tr(l, "issued", "発行")) } td { (pages::when(r.issued, site)) } }
                    tr { th { (tr(l, "firewall", "ファイアウォール")) } td {
                        (state(l, &r.firewall))
                        @for d in &r.firewall_detail { br; span.small { (d) } }
                    } }
                    tr { th { (tr(l, "clock", "時計")) } td { (state(l, &r.clock)) } }
                    tr { th { (tr(l, "pull", "取得")) } td {
                        @match &r.pull_failed {
                            None => span.ok { (tr(l, "complete", "完了")) },
                            Some(why) => span.bad { (tr(l, "failed: ", "失敗: ")) (why) },
                        }
                    } }
                    tr { th { (tr(l, "objects without the immutable flag", "イミュータブルでないオブジェクト")) } td.(if r.without_flag_total == 0 { "ok" } else { "bad" }) {
                        (r.without_flag_total)
                        @for p in &r.without_flag { br; code { (p) } }
                    } }
                }
            }
            h3 { (tr(l, "Generations stored", "保管している世代")) }
            @if r.generations.is_empty() {
                p.small { (tr(l, "none", "なし")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(l, "generation", "世代")) }
                        th { (tr(l, "stored", "保管日時")) }
                        th { (tr(l, "retained until", "保持期限")) }
                        th { (tr(l, "immutable", "イミュータブル")) }
                    } }
                    tbody {
                        @for g in &r.generations {
                            tr {
                                td { code { (g.snapshot.to_string()) } }
                                td { (pages::when(g.stored, site)) }
                                td { (pages::when(g.retain_until, site)) }
                                td.(if g.immutable { "ok" } else { "bad" }) { (if g.immutable { tr(l, "yes", "はい") } else { tr(l, "no", "いいえ") }) }
                            }
                        }
                    }
                }
            }
            h3 { (tr(l, "Findings not acknowledged", "未確認の検出事項")) " (" (r.findings_total) ")" }
            @if r.findings.is_empty() {
                p.small { (tr(l, "none", "なし")) }
            } @else {
                ul.problems {
                    @for f in &r.findings {
                        li.problem.warning { strong { (f.kind) } " " (f.time) br; (f.detail) }
                    }
                }
            }
        }
    }
}

/// The receipts, newest first.
pub(crate) fn receipts(s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "Vault receipts", "保管サーバの受領証");
    let site = match pages::load_site(s) {
        Ok(x) => x,
        Err(e) => return pages::error_page(l, title, who, &e),
    };
    let list = hokan_catalog::Catalog::open_existing(site.catalog_path())
        .and_then(|cat| cat.vault_receipts(None));
    let mut list = match list {
        Ok(x) => x,
        Err(e) => return pages::error_page(l, title, who, &e.text().pick(l)),
    };
    list.reverse();
    list.truncate(RECEIPTS_SHOWN);
    let body = html! {
        @if list.is_empty() {
            p.small { (tr(l, "No vault receipt is recorded (a vault's receipts are read from the primary's inbox when the site is judged).", "保管サーバの受領証の記録はありません（受領証は判定時にプライマリの受信箱から読み込まれます）。")) }
        } @else {
            @for r in &list { (receipt(l, r, &site)) }
        }
    };
    pages::page(l, title, Some(who), body)
}
