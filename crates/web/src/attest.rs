//! 証明 / Attestations: the facts the software cannot observe, signed by a
//! person with evidence and an end (a segmented network, an immutable
//! device, a provider's isolation, a pull-only vault), whether each holds
//! now; for operators a form to record one (signed with their account's
//! name) and a button to withdraw one. Recorded by
//! [`hokan_jobs::site::attest`], as `hokan attest` records them.

use std::collections::HashMap;

use hokan_offline::{Attestation, Claim, Text};
use maud::html;
use time::OffsetDateTime;

use crate::pages::{error_page, load_site, page, tr, when, Lang, Pick};
use crate::server::{Session, Shared};

/// The kinds of claim, as the form names them, with their 項番 and words.
const KINDS: [(&str, &str, &str); 4] = [
    (
        "network-segmented",
        "the backup network is segmented from the EMR network (②-2-1)",
        "バックアップのネットワークが電子カルテのネットワークから分割されている（②-2-1）",
    ),
    (
        "immutable-device",
        "the device keeps data in an immutable area (④-1)",
        "装置がデータを不変領域に保存する（④-1）",
    ),
    (
        "provider-isolation",
        "the cloud provider isolates the storage (③-1)",
        "クラウド事業者が保管領域を隔離している（③-1）",
    ),
    (
        "pull-only-vault",
        "the vault only pulls; its firewall blocks all traffic to it (⑤-1)",
        "保管サーバは取得のみ。ファイアウォールが保管サーバへの通信をすべて遮断（⑤-1）",
    ),
];

fn state(l: Lang, a: &Attestation, now: OffsetDateTime) -> (&'static str, &'static str) {
    if a.withdrawn_at.is_some_and(|w| w <= now) {
        (tr(l, "withdrawn", "取消済み"), "bad")
    } else if a.holds_at(now) {
        (tr(l, "holds", "有効"), "ok")
    } else if now < a.valid_from {
        (tr(l, "not yet valid", "開始前"), "bad")
    } else {
        (tr(l, "expired", "期限切れ"), "bad")
    }
}

/// The page.
pub(crate) fn attestations(s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "Attestations", "証明");
    let site = match load_site(s) {
        Ok(x) => x,
        Err(e) => return error_page(l, title, who, &e),
    };
    let cat = match hokan_catalog::Catalog::open_existing(site.catalog_path()) {
        Ok(c) => c,
        Err(e) => return error_page(l, title, who, &e.text().pick(l)),
    };
    let all = match cat.attestations() {
        Ok(a) => a,
        Err(e) => return error_page(l, title, who, &e.text().pick(l)),
    };
    let now = s.now();
    let can_act = who.role >= crate::Role::Operator;
    let body = html! {
        p.small { (tr(l, "What hokan cannot observe, a person signs, with evidence and an end. An expired or withdrawn attestation no longer counts.", "hokan が観測できない事実は、人が根拠と期限を付けて署名します。期限切れや取消済みの証明は数えません。")) }
        @if all.is_empty() {
            p { (tr(l, "No attestation is recorded.", "証明は記録されていません。")) }
        } @else {
            table {
                thead { tr {
                    th { "id" } th { (tr(l, "what", "内容")) } th { (tr(l, "signed by", "署名者")) }
                    th { (tr(l, "evidence", "根拠")) } th { (tr(l, "valid", "有効期間")) } th { (tr(l, "now", "現在")) }
                    @if can_act { th {} }
                } }
                tbody { @for a in all.iter().rev() {
                    @let (word, class) = state(l, a, now);
                    tr {
                        td { (a.id.to_string()) }
                        td { (match l { Lang::En => a.claim.name_en(), Lang::Ja => a.claim.name_ja() }) }
                        td { (a.by.to_string()) }
                        td { (a.evidence) }
                        td { (when(a.valid_from, &site)) " – " (when(a.ends_at(), &site)) }
                        td.(class) { (word) }
                        @if can_act {
                            td { @if a.holds_at(now) {
                                form.inline method="post" action="/attestations/withdraw" {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    input type="hidden" name="id" value=(a.id.to_string());
                                    input name="reason" placeholder=(tr(l, "why", "理由"));
                                    button { (tr(l, "Withdraw", "取り消す")) }
                                }
                            } }
                        }
                    }
                } }
            }
        }
        @if can_act {
            h2 { (tr(l, "Record an attestation", "証明を記録する")) }
            form method="post" action="/attestations" {
                input type="hidden" name="csrf" value=(who.csrf);
                label { (tr(l, "What you attest", "証明する内容"))
                    select name="kind" { @for (k, en, ja) in KINDS { option value=(k) { (tr(l, en, ja)) } } }
                }
                label { (tr(l, "Medium (bucket, appliance, vault), or the autoloader for a segmented network (empty: the whole site)", "媒体（バケット、装置、保管サーバ）。ネットワーク分割ではオートローダ（空欄: 施設全体）"))
                    input name="subject"; }
                label { (tr(l, "Evidence (document, ticket, configuration reviewed)", "根拠（文書、チケット、確認した設定）"))
                    textarea name="evidence" required {} }
                label { (tr(l, "Holds until (a date such as 2027-03-31, or a length such as 365d; at most 10 years)", "有効期限（2027-03-31 のような日付、または 365d のような期間。最長 10 年）"))
                    input name="until" required; }
                p.small { (tr(l, "Signed by your account's name: ", "署名者はあなたのアカウント名です: ")) strong { (who.user) } }
                button { (tr(l, "Record", "記録する")) }
            }
        }
    };
    page(l, title, Some(who), body)
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(|v| v.trim()).unwrap_or("")
}

/// Record the attestation in `form`, signed by the logged-in operator.
pub(crate) fn add(s: &Shared, who: &Session, form: &HashMap<String, String>) -> Result<(), Text> {
    let site = load_site(s).map_err(|e| Text::new(e.clone(), e))?;
    let subject = field(form, "subject");
    let needs_subject = || {
        Text::new(
            "this attestation is about a medium: name it (a bucket, an appliance, a vault)",
            "この証明は媒体についてのものです。媒体名（バケット、装置、保管サーバ）を指定してください",
        )
    };
    let claim = match field(form, "kind") {
        "network-segmented" => Claim::NetworkSegmented {
            autoloader: (!subject.is_empty()).then(|| subject.into()),
        },
        _ if subject.is_empty() => return Err(needs_subject()),
        "immutable-device" => Claim::ImmutableDevice {
            medium: subject.into(),
        },
        "provider-isolation" => Claim::ProviderIsolation {
            medium: subject.into(),
        },
        "pull-only-vault" => Claim::PullOnlyVault {
            medium: subject.into(),
        },
        other => {
            return Err(Text::new(
                format!("unknown kind of attestation {other:?}"),
                format!("証明の種類 {other:?} はありません"),
            ))
        }
    };
    let now = s.now();
    let offset = site.timezone().unwrap_or(time::UtcOffset::UTC);
    let until =
        hokan_jobs::when::parse_until(field(form, "until"), now, offset).map_err(|e| e.text())?;
    let mut cat =
        hokan_catalog::Catalog::open_existing(site.catalog_path()).map_err(|e| e.text())?;
    let (a, _) = hokan_jobs::site::attest::attest(
        &mut cat,
        now,
        &format!("hokan web ({})", who.user),
        hokan_jobs::site::attest::NewAttestation {
            claim,
            by: &who.user,
            evidence: field(form, "evidence"),
            from: now,
            until,
        },
    )
    .map_err(|e| e.text(offset))?;
    tracing::info!("dashboard: {} recorded attestation {}", who.user, a.id);
    Ok(())
}

/// Withdraw the attestation in `form`, signed by the logged-in operator.
pub(crate) fn withdraw(
    s: &Shared,
    who: &Session,
    form: &HashMap<String, String>,
) -> Result<(), Text> {
    let site = load_site(s).map_err(|e| Text::new(e.clone(), e))?;
    let offset = site.timezone().unwrap_or(time::UtcOffset::UTC);
    let id = field(form, "id");
    let reason = Some(field(form, "reason").to_owned()).filter(|r| !r.is_empty());
    let mut cat =
        hokan_catalog::Catalog::open_existing(site.catalog_path()).map_err(|e| e.text())?;
    hokan_jobs::site::attest::withdraw(
        &mut cat,
        s.now(),
        &format!("hokan web ({})", who.user),
        &id.into(),
        &who.user,
        reason,
    )
    .map_err(|e| e.text(offset))?;
    tracing::info!("dashboard: {} withdrew attestation {id}", who.user);
    Ok(())
}
