//! Site-wide problems: media, locks, attestations and the catalog itself.
//!
//! Problems are grouped per medium (one line for "12 copies on bucket B lose
//! their retention within 14 days", not twelve), and only raised for media
//! that hold complete copies: a blank tape waiting in the drive for tonight's
//! job is normal, not a problem.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::evaluate::MediumState;
use crate::facts::{
    Claim, Condition, Copy, Generation, Location, MediumKind, ObservedBy, VaultReceipt,
};
use crate::id::MediumId;
use crate::judge::Judge;
use crate::limits::later;
use crate::policy::{EXPORT_RECORD_GRACE, RECEIPT_CLOCK_SKEW};
use crate::problem::{count_en, Problem, ProblemCode, Severity};
use crate::text::{span, when, Text};
use crate::verdict::{
    CopyVerdict, DeadlineCause, Exclusion, Lapsed, Missing, OnlineReason, Strength, Verdict,
    WeakerReason,
};
use crate::MediumClass;

fn inconsistent(en: String, ja: String) -> Problem {
    Problem::new(
        Severity::Warning,
        ProblemCode::CatalogInconsistent,
        Text::new(en, ja),
        Text::new(
            "Run `hokan catalog verify` and report this; until it is fixed the affected copies do not count.",
            "`hokan catalog verify` を実行して報告してください。修正されるまで該当するコピーは数えません。",
        ),
    )
}

pub(crate) fn duplicate_generation(first: &Generation, again: &Generation) -> Problem {
    inconsistent(
        format!(
            "Snapshot {} is recorded twice (sources {} and {}); the first record is used.",
            again.snapshot, first.source, again.source
        ),
        format!(
            "スナップショット {} が二重に記録されています（対象 {} と {}）。最初の記録を使います。",
            again.snapshot, first.source, again.source
        ),
    )
    .with_source(&first.source)
}

pub(crate) fn duplicate_medium(id: &MediumId) -> Problem {
    inconsistent(
        format!("Medium {id} is recorded twice; the first record is used."),
        format!("媒体 {id} が二重に登録されています。最初の記録を使います。"),
    )
    .with_medium(id)
}

pub(crate) fn dangling_snapshot(copy: &Copy) -> Problem {
    inconsistent(
        format!(
            "A copy on {} names snapshot {}, which the catalog does not know; it is ignored.",
            copy.medium, copy.snapshot
        ),
        format!(
            "{} のコピーが未登録のスナップショット {} を指しています。無視します。",
            copy.medium, copy.snapshot
        ),
    )
    .with_medium(&copy.medium)
}

pub(crate) fn dangling_medium(copy: &Copy) -> Problem {
    inconsistent(
        format!(
            "A copy of snapshot {} names medium {}, which the catalog does not know; it does not count.",
            copy.snapshot, copy.medium
        ),
        format!(
            "スナップショット {} のコピーが未登録の媒体 {} を指しています。数えません。",
            copy.snapshot, copy.medium
        ),
    )
    .with_medium(&copy.medium)
}

/// Add every site-wide problem to `out`.
pub(crate) fn problems(
    judge: &Judge<'_>,
    media: &[MediumState],
    copies: &[CopyVerdict],
    out: &mut Vec<Problem>,
) {
    for m in media {
        let on: Vec<&CopyVerdict> = copies.iter().filter(|c| c.medium == m.id).collect();
        medium_problems(judge, m, &on, out);
        if m.kind == MediumKind::PullVault {
            vault_problems(judge, m, out);
        }
    }
    attestations_expiring(judge, out);
    drill_problems(judge, copies, out);
}

/// The command that drills a kind of medium: a vault drills itself, on
/// the vault (the primary has no way in to it).
fn drill_command(kind: &str) -> Text {
    if kind == "vault" {
        Text::new(
            "`hokan vault drill` on the vault (its signed receipt brings the result)",
            "保管サーバ上で `hokan vault drill`（結果は署名付き受領書で届きます）",
        )
    } else {
        let c = format!("`hokan drill --kind {kind}`");
        Text::new(c.clone(), c)
    }
}

/// Per kind of medium holding complete copies: an error when its last drill
/// failed and none passed since; a warning when no drill passed within
/// `drill_every` (counted from when the kind first held a copy, for a site
/// that never drilled).
fn drill_problems(judge: &Judge<'_>, copies: &[CopyVerdict], out: &mut Vec<Problem>) {
    let every = judge.policy.drill_every();
    let mut first_use: BTreeMap<&'static str, OffsetDateTime> = BTreeMap::new();
    let class = |kind: MediumKind| MediumClass::of(kind).map(MediumClass::as_str);
    for c in copies {
        if let Some(k) = c.kind.and_then(class) {
            let e = first_use.entry(k).or_insert(c.since);
            *e = (*e).min(c.since);
        }
    }
    for (kind, since) in first_use {
        let drills: Vec<_> = judge
            .facts
            .drills
            .iter()
            .filter(|d| d.started_at <= judge.now)
            .filter(|d| judge.medium(&d.medium).and_then(|m| class(m.kind)) == Some(kind))
            .collect();
        let last_ok = drills.iter().filter(|d| d.ok).map(|d| d.started_at).max();
        let last = drills.iter().max_by_key(|d| d.started_at);
        if let Some(d) = last.filter(|d| !d.ok) {
            out.push(
                Problem::new(
                    Severity::Error,
                    ProblemCode::DrillFailed,
                    Text::new(
                        format!(
                            "The last restore drill from {kind} media ({}, {}) failed, and none passed since.",
                            d.medium,
                            when(d.started_at, judge.now.offset())
                        ),
                        format!(
                            "{kind} 媒体からの最後の復旧訓練（{}、{}）が失敗し、その後成功していません。",
                            d.medium,
                            when(d.started_at, judge.now.offset())
                        ),
                    ),
                    Text::new(
                        format!("See what failed with `hokan catalog events`, fix the medium or the check, and run {} again.", drill_command(kind).en),
                        format!("`hokan catalog events` で失敗の内容を確認し、媒体またはチェックを直して {} を再実行してください。", drill_command(kind).ja),
                    ),
                )
                .with_medium(&d.medium)
                .with_date(d.started_at),
            );
        }
        let from = last_ok.unwrap_or(since);
        let due = later(from, every);
        if judge.now > due {
            let (en, ja) = match last_ok {
                Some(t) => (
                    format!(
                        "The last successful restore drill from {kind} media was on {}, longer ago than the policy's {} (drill_every).",
                        when(t, judge.now.offset()),
                        span(every).en
                    ),
                    format!(
                        "{kind} 媒体からの最後の成功した復旧訓練は {} で、方針の間隔 {}（drill_every）を過ぎています。",
                        when(t, judge.now.offset()),
                        span(every).ja
                    ),
                ),
                None => (
                    format!(
                        "No restore drill from {kind} media has passed, and they have held copies since {}, longer than the policy's {} (drill_every).",
                        when(since, judge.now.offset()),
                        span(every).en
                    ),
                    format!(
                        "{kind} 媒体からの復旧訓練が一度も成功していません（{} からコピーを保持、方針の間隔 {}（drill_every）を超過）。",
                        when(since, judge.now.offset()),
                        span(every).ja
                    ),
                ),
            };
            out.push(
                Problem::new(
                    Severity::Warning,
                    ProblemCode::DrillOverdue,
                    Text::new(en, ja),
                    Text::new(
                        format!("Run {} (診療録管理体制加算1 asks for a restore drill at least once a year).", drill_command(kind).en),
                        format!("{} を実行してください（診療録管理体制加算1 は年1回以上の復旧訓練を求めています）。", drill_command(kind).ja),
                    ),
                )
                .with_date(due),
            );
        }
    }
}

/// How long a vault's ledger going back stays a problem after the receipt
/// that showed it.
pub const LEDGER_WENT_BACK_SHOWN: Duration = Duration::days(30);

/// A vault whose ledger went back: among its receipts (in the order the
/// vault issued them), one issued in the last [`LEDGER_WENT_BACK_SHOWN`]
/// reports fewer rows than an earlier one, or as many rows with another
/// head hash. An append-only ledger never does either: the vault's folder
/// was put back from an older copy (a virtual machine's snapshot, a
/// restore) or its ledger was cut or rewritten, and what it says about
/// retention may have lost rows.
fn ledger_went_back(judge: &Judge<'_>, id: &MediumId) -> Option<Problem> {
    let horizon = later(judge.now, RECEIPT_CLOCK_SKEW);
    let mut rs: Vec<&VaultReceipt> = judge
        .facts
        .receipts
        .iter()
        .filter(|r| &r.vault == id && r.issued <= horizon && r.ledger_rows > 0)
        .collect();
    rs.sort_by_key(|r| r.issued);
    let mut top: Option<&VaultReceipt> = None;
    let mut found = None;
    for r in rs {
        if let Some(t) = top {
            let back = r.ledger_rows < t.ledger_rows
                || (r.ledger_rows == t.ledger_rows && r.ledger_head != t.ledger_head);
            if back && judge.now - r.issued <= LEDGER_WENT_BACK_SHOWN {
                found = Some((t, r));
            }
            if r.ledger_rows > t.ledger_rows {
                top = Some(r);
            }
        } else {
            top = Some(r);
        }
    }
    let (was, now) = found?;
    let offset = judge.now.offset();
    Some(
        Problem::new(
            Severity::Error,
            ProblemCode::VaultLedgerWentBack,
            Text::new(
                format!(
                    "The ledger of vault {id} went back: its receipt of {} reports {} rows (head {}), an earlier one of {} reported {} (head {}). Its folder was put back from an older copy or its ledger was cut or rewritten.",
                    when(now.issued, offset), now.ledger_rows, short(&now.ledger_head),
                    when(was.issued, offset), was.ledger_rows, short(&was.ledger_head)
                ),
                format!(
                    "保管サーバ {id} の台帳が巻き戻っています。{} の受領書は {} 行（先頭 {}）ですが、それ以前の {} の受領書は {} 行（先頭 {}）でした。フォルダが古い複製から戻されたか、台帳が切り詰め・改変されています。",
                    when(now.issued, offset), now.ledger_rows, short(&now.ledger_head),
                    when(was.issued, offset), was.ledger_rows, short(&was.ledger_head)
                ),
            ),
            Text::new(
                format!("At vault {id}'s console: find out who restored or edited the vault's folder (`hokan vault status`, the system's logs); compare its ledger with the receipts kept in this server's inbox. The problem stays for {} days after the receipt that showed it.", LEDGER_WENT_BACK_SHOWN.whole_days()),
                format!("保管サーバ {id} のコンソールで、誰がフォルダを戻したか・台帳を変更したかを調べてください（`hokan vault status`、システムのログ）。台帳をこのサーバの受け口にある受領書と照合してください。この問題は、示した受領書から {} 日間表示されます。", LEDGER_WENT_BACK_SHOWN.whole_days()),
            ),
        )
        .with_date(now.issued),
    )
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// What a vault's newest signed receipt says about the vault itself: a
/// receipt gone stale, a firewall that differs, objects without the
/// immutable flag, a failed pull, a clock that is not right, and the
/// findings its operator has not acknowledged.
fn vault_problems(judge: &Judge<'_>, m: &MediumState, out: &mut Vec<Problem>) {
    let id = &m.id;
    let Some(r) = judge.latest_receipt(id) else {
        return;
    };
    if let Some(p) = ledger_went_back(judge, id) {
        out.push(p.with_medium(id));
    }
    let offset = judge.now.offset();
    let pool = m.pool.clone().unwrap_or_else(|| id.as_str().into());
    let fresh_for = judge.policy.vault_fresh_for(&pool);
    let age = judge.now - r.issued;
    let mut push = |p: Problem| out.push(p.with_medium(id));
    let check = Text::new(
        format!("Run `hokan vault status` on vault {id} (at its console), and check its network path to this server's `hokan serve`."),
        format!("保管サーバ {id} のコンソールで `hokan vault status` を実行し、このサーバの `hokan serve` までのネットワークを確認してください。"),
    );
    if later(r.issued, fresh_for) <= judge.now {
        let (a, f) = (span(age), span(fresh_for));
        push(
            Problem::new(
                Severity::Error,
                ProblemCode::VaultReceiptStale,
                Text::new(
                    format!("The newest signed receipt of vault {id} is {} old (issued {}; fresh for {}): its copies are unknown, not offline.", a.en, when(r.issued, offset), f.en),
                    format!("保管サーバ {id} の最新の署名付き受領書は {} 前（{} 発行、有効 {}）のものです。この保管サーバのコピーは不明として扱い、オフラインとは数えません。", a.ja, when(r.issued, offset), f.ja),
                ),
                check.clone(),
            )
            .with_date(r.issued),
        );
        // What an old receipt says about the vault no longer describes it.
        return;
    }
    match r.firewall.as_str() {
        "ok" => {}
        state => push(Problem::new(
            Severity::Warning,
            ProblemCode::VaultFirewallDiffers,
            Text::new(
                format!("Vault {id} reports its firewall {}{}: its copies do not count under ⑤-1.", if state == "differs" { "differs from the ruleset hokan wrote" } else { "could not be checked" }, list(&r.firewall_detail)),
                format!("保管サーバ {id} のファイアウォールは{}{}。この保管サーバのコピーは ⑤-1 として数えません。", if state == "differs" { "hokan の書いたルールと異なります" } else { "確認できませんでした" }, list(&r.firewall_detail)),
            ),
            Text::new(
                format!("At vault {id}'s console, compare the live ruleset with hokan's (`hokan vault status`) and restore it; the next receipt shows the result."),
                format!("保管サーバ {id} のコンソールで現在のルールと hokan のルールを比べ（`hokan vault status`）、元に戻してください。次の受領書に結果が出ます。"),
            ),
        )),
    }
    if r.without_flag_total > 0 {
        push(Problem::new(
            Severity::Warning,
            ProblemCode::VaultNotImmutable,
            Text::new(
                format!("Vault {id} reports {} object(s) without the immutable flag{}: the generations needing them do not count under ④-1.", r.without_flag_total, list(&r.without_flag)),
                format!("保管サーバ {id} で不変フラグのないオブジェクトが {} 件あります{}。それらを必要とする世代は ④-1 として数えません。", r.without_flag_total, list(&r.without_flag)),
            ),
            Text::new(
                format!("At vault {id}'s console, find out who cleared the flag, then let `hokan vault` set it again."),
                format!("保管サーバ {id} のコンソールで、誰がフラグを外したかを調べてから、`hokan vault` で再設定してください。"),
            ),
        ));
    }
    if let Some(why) = &r.pull_failed {
        push(Problem::new(
            Severity::Warning,
            ProblemCode::VaultPullFailed,
            Text::new(
                format!("The last pull of vault {id} failed: {why}."),
                format!("保管サーバ {id} の前回の取得に失敗しました: {why}。"),
            ),
            check.clone(),
        ));
    }
    if r.clock != "ok" {
        push(Problem::new(
            Severity::Warning,
            ProblemCode::VaultClock,
            Text::new(
                format!("Vault {id} reports its compliance clock {}.", if r.clock == "frozen" { "frozen (the wall clock jumped forward; no retention ends until an operator accepts the time)" } else { "behind (the wall clock is earlier than the ledger's time)" }),
                format!("保管サーバ {id} のコンプライアンス時計が{}。", if r.clock == "frozen" { "凍結されています（時計が先へ飛んだため、担当者が時刻を承認するまで保持期間は終わりません）" } else { "遅れています（時計が台帳の時刻より前）" }),
            ),
            Text::new(
                format!("At vault {id}'s console, check its clock and time source (`hokan vault status`)."),
                format!("保管サーバ {id} のコンソールで時計と時刻源を確認してください（`hokan vault status`）。"),
            ),
        ));
    }
    if r.findings_total > 0 || !r.findings.is_empty() {
        let n = r.findings_total.max(r.findings.len() as u64);
        let shown: Vec<String> = r
            .findings
            .iter()
            .rev()
            .take(3)
            .map(|f| format!("{} {}: {}", f.time, f.kind, f.detail))
            .collect();
        push(Problem::new(
            Severity::Error,
            ProblemCode::VaultFindings,
            Text::new(
                format!("Vault {id} reports {n} finding(s) nobody has acknowledged{}.", list(&shown)),
                format!("保管サーバ {id} に未確認の検出事項が {n} 件あります{}。", list(&shown)),
            ),
            Text::new(
                format!("At vault {id}'s console, read them (`hokan vault status`): changed or vanished objects may mean the primary was attacked; restore only from generations the vault checked."),
                format!("保管サーバ {id} のコンソールで内容を確認してください（`hokan vault status`）。変更・消失したオブジェクトは一次サーバが攻撃された可能性を示します。保管サーバが確認した世代からのみ復元してください。"),
            ),
        ));
    }
}

/// ` (a; b; c)`, or nothing.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        let mut d: Vec<&str> = items.iter().take(3).map(String::as_str).collect();
        if items.len() > 3 {
            d.push("…");
        }
        format!(" ({})", d.join("; "))
    }
}

fn medium_problems(
    judge: &Judge<'_>,
    m: &MediumState,
    on: &[&CopyVerdict],
    out: &mut Vec<Problem>,
) {
    let id = &m.id;
    let incomplete = on
        .iter()
        .filter(|c| c.excluded == Some(Exclusion::Incomplete))
        .count();
    if incomplete > 0 {
        out.push(
            Problem::new(
                Severity::Info,
                ProblemCode::CopyIncomplete,
                Text::new(
                    format!("{} on {id} incomplete and do not count.", are(incomplete)),
                    format!("{id} の {incomplete} 件のコピーは不完全なため数えません。"),
                ),
                Text::new(
                    format!("Run the copy to {id} again to complete them, or remove them."),
                    format!("{id} へのコピーを再実行して完了させるか、削除してください。"),
                ),
            )
            .with_medium(id),
        );
    }
    let complete = m.complete_copies;
    if complete == 0 {
        return;
    }
    if !m.condition.can_restore() {
        let (code, en, ja) = match m.condition {
            Condition::Damaged => (ProblemCode::MediumDamaged, "damaged", "損傷"),
            _ => (ProblemCode::MediumRetired, "retired", "廃棄済み"),
        };
        out.push(
            Problem::new(
                Severity::Info,
                code,
                Text::new(
                    format!(
                        "Medium {id} is {en}; the {} on it do not count.",
                        count_en(complete, "copy", "copies")
                    ),
                    format!("媒体 {id} は{ja}の扱いのため、{complete} 件のコピーを数えません。"),
                ),
                Text::new(
                    format!("If the generations on {id} are still needed offline, copy them to another medium."),
                    format!("{id} の世代がオフラインでまだ必要なら、別の媒体へコピーしてください。"),
                ),
            )
            .with_medium(id),
        );
        return;
    }
    // A vault's retention is what it promises per generation (judged from
    // its receipts), not a medium that may be reused.
    if let Some(pool) = m.pool.as_ref().filter(|_| m.kind != MediumKind::PullVault) {
        if let Some(retention) = judge.policy.pool_retention(pool) {
            let old = on
                .iter()
                .filter(|c| c.excluded.is_none() && later(c.since, retention) <= judge.now)
                .count();
            if old > 0 {
                let r = span(retention);
                out.push(
                    Problem::new(
                        Severity::Info,
                        ProblemCode::PoolRetentionPassed,
                        Text::new(
                            format!(
                                "{} on {id} older than pool {pool}'s retention ({}); the medium may be reused and they may be overwritten.",
                                are(old),
                                r.en
                            ),
                            format!(
                                "{id} の {old} 件のコピーはプール {pool} の保持期間（{}）を過ぎています。媒体が再利用され上書きされる可能性があります。",
                                r.ja
                            ),
                        ),
                        Text::new(
                            "Do not count on them for long; make sure newer generations are offline on other media.",
                            "これらに長く頼らず、新しい世代が他の媒体でオフラインになっていることを確認してください。",
                        ),
                    )
                    .with_medium(id),
                );
            }
        }
    }
    match &m.verdict {
        Some(v) => carried_problems(judge, m, v, out),
        None => stored_problems(judge, id, on, out),
    }
}

/// `1 copy is`, `3 copies are`.
fn are(n: usize) -> String {
    if n == 1 {
        "1 copy is".to_owned()
    } else {
        format!("{n} copies are")
    }
}

fn move_command(id: &MediumId) -> String {
    format!("`hokan media move {id} --to shelf|offsite:NAME --by NAME`")
}

fn carried_problems(judge: &Judge<'_>, m: &MediumState, verdict: &Verdict, out: &mut Vec<Problem>) {
    let offset = judge.now.offset();
    let id = &m.id;
    let n = m.complete_copies;
    let seen = m
        .location
        .as_ref()
        .map_or_else(String::new, |o| when(o.at, offset));
    // Dated by the observation, unless the problem has a date of its own.
    let push = |out: &mut Vec<Problem>, p: Problem| {
        let p = p.with_medium(id);
        out.push(match m.location.as_ref() {
            Some(o) if p.date.is_none() => p.with_date(o.at),
            _ => p,
        });
    };
    match verdict {
        Verdict::Online(OnlineReason::InDrive { drive }) => {
            let at = &seen;
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::MediumInDrive,
                Text::new(
                    format!("Medium {id} is in drive {drive} (seen {at}); {} on it {} online.", count_en(n, "copy", "copies"), if n == 1 { "is" } else { "are" }),
                    format!("媒体 {id} がドライブ {drive} に入ったままです（{at} 確認）。この媒体の {n} 件のコピーはオンラインです。"),
                ),
                Text::new(
                    format!("When the job using it is done, eject {id} from {drive} (or have the library return it to a slot) and record where it is kept."),
                    format!("使用中の処理が終わったら {id} を {drive} から取り出し（またはライブラリのスロットへ戻し）、保管場所を記録してください。"),
                ),
            ));
        }
        Verdict::Online(OnlineReason::ActiveSlot { autoloader }) => {
            let at = &seen;
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::MediumInDrive,
                Text::new(
                    format!("Cartridge {id} is in the active slot of autoloader {autoloader} (seen {at}); {} on it {} online.", count_en(n, "copy", "copies"), if n == 1 { "is" } else { "are" }),
                    format!("カートリッジ {id} がオートローダ {autoloader} のアクティブスロットにあります（{at} 確認）。この媒体の {n} 件のコピーはオンラインです。"),
                ),
                Text::new(
                    format!("Move {id} to an inactive slot or eject it from {autoloader}."),
                    format!("{id} を非アクティブスロットへ移すか、{autoloader} から取り出してください。"),
                ),
            ));
        }
        Verdict::Online(OnlineReason::Connected { .. }) => {
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::MediumConnected,
                Text::new(
                    format!("Disk {id} is connected; {} on it {} online.", count_en(n, "copy", "copies"), if n == 1 { "is" } else { "are" }),
                    format!("ディスク {id} が接続されたままです。この媒体の {n} 件のコピーはオンラインです。"),
                ),
                Text::new(
                    format!("Unmount and unplug {id}, then record where it is kept: {}.", move_command(id)),
                    format!("{id} をアンマウントして取り外し、保管場所を記録してください：{}。", move_command(id)),
                ),
            ));
        }
        Verdict::Online(OnlineReason::NotSegmented { autoloader, lapsed }) => {
            let claim = Claim::NetworkSegmented {
                autoloader: Some(autoloader.clone()),
            };
            push(
                out,
                attestation_missing(judge, id, &claim, lapsed.as_ref(), n),
            );
        }
        Verdict::Unknown(Missing::LocationStale {
            at,
            by: ObservedBy::Device { device },
            location: Location::Exported { .. },
        }) => {
            let grace = span(EXPORT_RECORD_GRACE);
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::ExportNotRecorded,
                Text::new(
                    format!("{id} left {device} on {} and where it went was never recorded (the limit is {}); its {} no longer count as offline.", when(*at, offset), grace.en, count_en(n, "copy", "copies")),
                    format!("{id} は {} に {device} から搬出されましたが、行き先が記録されていません（期限 {}）。この媒体の {n} 件のコピーはオフラインとして数えません。", when(*at, offset), grace.ja),
                ),
                Text::new(
                    format!("Find {id} and record where it is kept: {}.", move_command(id)),
                    format!("{id} を探し、保管場所を記録してください：{}。", move_command(id)),
                ),
            ));
        }
        Verdict::Unknown(Missing::LocationStale { at, by, location }) => {
            let who = match by {
                ObservedBy::Person { person } => person.to_string(),
                ObservedBy::Device { device } => device.to_string(),
            };
            let loc = location.describe();
            let max = span(judge.policy.max_person_location_age());
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::LocationStale,
                Text::new(
                    format!("The only record of where {id} is ({}) was made by {who} on {}, more than {} ago; its {} no longer count.", loc.en, when(*at, offset), max.en, count_en(n, "copy", "copies")),
                    format!("{id} の所在の記録（{}）は {} に {who} が記録したもので、{}以上前です。この媒体の {n} 件のコピーは数えません。", loc.ja, when(*at, offset), max.ja),
                ),
                Text::new(
                    format!("Check that {id} is still there and record it again: {}.", move_command(id)),
                    format!("{id} が今もそこにあるか確認し、もう一度記録してください：{}。", move_command(id)),
                ),
            ));
        }
        Verdict::Unknown(Missing::PersonContradictsDevice {
            at,
            by,
            location,
            device,
            device_at,
            device_location,
        }) => {
            let who = match by {
                ObservedBy::Person { person } => person.to_string(),
                ObservedBy::Device { device } => device.to_string(),
            };
            let (l, d) = (location.describe(), device_location.describe());
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::LocationContradictsDevice,
                Text::new(
                    format!("{who} recorded {id} {} on {}, but device {device} last saw it {} on {}; until a device confirms where it is, its {} do not count as offline.", l.en, when(*at, offset), d.en, when(*device_at, offset), count_en(n, "copy", "copies")),
                    format!("{} に {who} が {id} を「{}」と記録しましたが、装置 {device} が最後に確認した所在は「{}」（{}）です。装置で確認できるまで、この媒体の {n} 件のコピーはオフラインとして数えません。", when(*at, offset), l.ja, d.ja, when(*device_at, offset)),
                ),
                Text::new(
                    format!("Let hokan ask {device}: run `hokan status` while it is reachable (or `hokan tape inventory` / `hokan disk status`). If {id} is still in it, eject or export it with `hokan tape move` or `hokan disk eject` first."),
                    format!("{device} を hokan に確認させてください: 装置が使える状態で `hokan status`（または `hokan tape inventory` / `hokan disk status`）を実行します。{id} がまだ装置内にあれば、先に `hokan tape move` か `hokan disk eject` で取り出してください。"),
                ),
            ).with_date(*at));
        }
        Verdict::Unknown(Missing::LocationDoesNotFit { location, kind }) => {
            let loc = location.describe();
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::LocationDoesNotFit,
                Text::new(
                    format!("{id} is recorded as a {} but was seen {}; one of the two records is wrong, so its {} do not count.", kind.name_en(), loc.en, count_en(n, "copy", "copies")),
                    format!("{id} は{}として登録されていますが、所在が「{}」と記録されています。どちらかの記録が誤っているため、{n} 件のコピーを数えません。", kind.name_ja(), loc.ja),
                ),
                Text::new(
                    format!("Correct the kind of {id} or record where it really is: {}.", move_command(id)),
                    format!("{id} の種別を直すか、実際の所在を記録してください：{}。", move_command(id)),
                ),
            ));
        }
        Verdict::Unknown(missing) => {
            let why = missing.describe(offset);
            push(out, Problem::new(
                Severity::Warning,
                ProblemCode::LocationUnknown,
                Text::new(
                    format!("Where medium {id} is is not known ({}); its {} do not count as offline.", why.en, count_en(n, "copy", "copies")),
                    format!("媒体 {id} の所在が分かりません（{}）。この媒体の {n} 件のコピーはオフラインとして数えません。", why.ja),
                ),
                Text::new(
                    format!("Find {id} and record where it is: {}.", move_command(id)),
                    format!("{id} を探し、所在を記録してください：{}。", move_command(id)),
                ),
            ));
        }
        Verdict::Offline { .. } => {
            let Some(obs) = &m.location else { return };
            if let Location::MailSlot { library } = &obs.location {
                push(out, Problem::new(
                    Severity::Info,
                    ProblemCode::MediumInMailSlot,
                    Text::new(
                        format!("Tape {id} is in the mail slot of library {library}: the robot can still reach it, so it counts as ①-2-1, not yet ①-2-2."),
                        format!("テープ {id} はライブラリ {library} のメールスロットにあります。ロボットが届くため ①-2-1 として数え、まだ ①-2-2 ではありません。"),
                    ),
                    Text::new(
                        format!("Take {id} out of the mail slot to complete the export, and record where it is kept."),
                        format!("{id} をメールスロットから取り出してエクスポートを完了し、保管場所を記録してください。"),
                    ),
                ));
            }
            if let (
                ObservedBy::Device { device },
                Location::Exported { .. },
                Some(stale),
                Verdict::Offline { koban, .. },
            ) = (&obs.by, &obs.location, judge.stale_at(obs), verdict)
            {
                push(out, Problem::new(
                    Severity::Warning,
                    ProblemCode::ExportNotRecorded,
                    Text::new(
                        format!("{id} left {device} on {} but where it went is not recorded. It counts as {} until {}, then its copies stop counting.", when(obs.at, offset), koban.as_str(), when(stale, offset)),
                        format!("{id} は {} に {device} から搬出されましたが、行き先が記録されていません。{} まで {} として数え、その後はコピーを数えません。", when(obs.at, offset), when(stale, offset), koban.as_str()),
                    ),
                    Text::new(
                        format!("Record where {id} is kept: {}.", move_command(id)),
                        format!("{id} の保管場所を記録してください：{}。", move_command(id)),
                    ),
                ));
            } else if let Some(stale) = judge.stale_at(obs) {
                if stale <= later(judge.now, judge.policy.warning_horizon()) {
                    let loc = obs.location.describe();
                    out.push(
                        Problem::new(
                            Severity::Info,
                            ProblemCode::LocationConfirmDue,
                            Text::new(
                                format!("The record that {id} is {} goes stale on {}; after that its copies stop counting.", loc.en, when(stale, offset)),
                                format!("{id} が「{}」にあるという記録は {} に期限切れとなり、その後はコピーを数えません。", loc.ja, when(stale, offset)),
                            ),
                            Text::new(
                                format!("Before then, check {id} and record its location again: {}.", move_command(id)),
                                format!("それまでに {id} を確認し、所在をもう一度記録してください：{}。", move_command(id)),
                            ),
                        )
                        .with_medium(id)
                        .with_date(stale),
                    );
                }
            }
        }
        Verdict::Online(_) => {}
    }
}

fn attestation_missing(
    judge: &Judge<'_>,
    id: &MediumId,
    claim: &Claim,
    lapsed: Option<&Lapsed>,
    n: usize,
) -> Problem {
    let offset = judge.now.offset();
    let (en_l, ja_l) = match lapsed {
        Some(l) => (
            format!(" (attestation {} ended {})", l.id, when(l.ended_at, offset)),
            format!("（証明 {} は {} に失効）", l.id, when(l.ended_at, offset)),
        ),
        None => (String::new(), String::new()),
    };
    let hint = match claim {
        Claim::NetworkSegmented { .. } => Text::new(
            "If the backup server's network is not segmented from the EMR network, segment it first; then have the person responsible attest it with `hokan attest`, with evidence and an expiry.",
            "バックアップサーバのネットワークが電子カルテのネットワークから分割されていなければ先に分割し、責任者が `hokan attest` で根拠と有効期限を付けて証明してください。",
        ),
        _ => Text::new(
            "Have the person responsible check it and attest it with `hokan attest`, with evidence and an expiry.",
            "責任者が確認し、`hokan attest` で根拠と有効期限を付けて証明してください。",
        ),
    };
    let p = Problem::new(
        Severity::Warning,
        ProblemCode::AttestationMissing,
        Text::new(
            format!(
                "The {} on {id} do not count: there is no valid attestation of {}{en_l}.",
                count_en(n, "copy", "copies"),
                claim.name_en()
            ),
            format!(
                "{id} の {n} 件のコピーを数えません。{}の有効な証明がありません{ja_l}。",
                claim.name_ja()
            ),
        ),
        hint,
    )
    .with_medium(id);
    match lapsed {
        Some(l) => p.with_attestation(&l.id).with_date(l.ended_at),
        None => p,
    }
}

fn stored_problems(judge: &Judge<'_>, id: &MediumId, on: &[&CopyVerdict], out: &mut Vec<Problem>) {
    let offset = judge.now.offset();
    let horizon_end = later(judge.now, judge.policy.warning_horizon());
    let mut probe_failed = None;
    let mut unlocked = 0;
    let mut expired: (usize, Option<OffsetDateTime>) = (0, None);
    let mut unrecorded = 0;
    let mut missing: BTreeMap<String, (Claim, Option<Lapsed>, usize)> = BTreeMap::new();
    let mut weaker: BTreeMap<WeakerReason, usize> = BTreeMap::new();
    let mut expiring: (usize, Option<OffsetDateTime>) = (0, None);
    for c in on.iter().filter(|c| c.excluded.is_none()) {
        match &c.verdict {
            Verdict::Online(OnlineReason::ProbeFailed { at }) => probe_failed = Some(*at),
            Verdict::Online(OnlineReason::Unlocked) => unlocked += 1,
            Verdict::Online(OnlineReason::RetentionExpired { at }) => {
                expired.0 += 1;
                expired.1 = expired.1.max(Some(*at));
            }
            Verdict::Unknown(Missing::NoProtectionRecorded) => unrecorded += 1,
            Verdict::Unknown(Missing::Attestation { claim, lapsed }) => {
                missing
                    .entry(claim.name_en())
                    .or_insert_with(|| (claim.clone(), lapsed.clone(), 0))
                    .2 += 1;
            }
            Verdict::Offline {
                strength, until, ..
            } => {
                if let Strength::Weaker(reasons) = strength {
                    for r in reasons {
                        *weaker.entry(*r).or_default() += 1;
                    }
                }
                if let Some(d) = until {
                    if matches!(d.cause, DeadlineCause::Retention { .. }) && d.at <= horizon_end {
                        expiring.0 += 1;
                        expiring.1 = Some(expiring.1.map_or(d.at, |e: OffsetDateTime| e.min(d.at)));
                    }
                }
            }
            _ => {}
        }
    }
    let mut push = |p: Problem| out.push(p.with_medium(id));
    if let Some(at) = probe_failed {
        push(Problem::new(
            Severity::Error,
            ProblemCode::LockProbeFailed,
            Text::new(
                format!("The lock test of {} deleted locked data on {id}: it does not enforce its locks, so nothing on it counts as offline.", when(at, offset)),
                format!("{} のロック確認で {id} のロック中のデータが削除できました。ロックが機能していないため、この媒体のコピーはどれもオフラインとして数えません。", when(at, offset)),
            ),
            Text::new(
                format!("Stop relying on {id}: check its lock configuration and who can reach it, then test the lock again."),
                format!("{id} に頼るのをやめ、ロックの設定と到達できる相手を確認してから、もう一度ロックを確認してください。"),
            ),
        ).with_date(at));
    }
    if unlocked > 0 {
        push(Problem::new(
            Severity::Warning,
            ProblemCode::CopiesNotLocked,
            Text::new(
                format!("{} on {id} not locked and can be deleted over the network.", are(unlocked)),
                format!("{id} の {unlocked} 件のコピーはロックされておらず、ネットワーク経由で削除できます。"),
            ),
            Text::new(
                format!("Enable object lock in compliance mode (or the device's retention) on {id}, then run the copy again."),
                format!("{id} でコンプライアンスモードのオブジェクトロック（または装置の保持機能）を有効にし、コピーを再実行してください。"),
            ),
        ));
    }
    if let (n @ 1.., Some(at)) = expired {
        push(Problem::new(
            Severity::Info,
            ProblemCode::RetentionExpired,
            Text::new(
                format!("The retention of {} on {id} has ended (last on {}); they are online.", count_en(n, "copy", "copies"), when(at, offset)),
                format!("{id} の {n} 件のコピーの保持期間が終了しました（最後は {}）。オンラインです。", when(at, offset)),
            ),
            Text::new(
                "If these generations are still needed offline, extend their retention.",
                "これらの世代がまだオフラインで必要なら、保持期間を延長してください。",
            ),
        ).with_date(at));
    }
    if unrecorded > 0 {
        push(Problem::new(
            Severity::Warning,
            ProblemCode::ProtectionNotRecorded,
            Text::new(
                format!("No retention is recorded for {} on {id}; they are unknown, not offline.", count_en(unrecorded, "copy", "copies")),
                format!("{id} の {unrecorded} 件のコピーは保持期間が記録されていないため、オフラインではなく不明です。"),
            ),
            Text::new(
                format!("Read the retention of the objects on {id} into the catalog (run the copy or verify to {id} again)."),
                format!("{id} のオブジェクトの保持期間をカタログに取り込んでください（{id} へのコピーか検証を再実行）。"),
            ),
        ));
    }
    for (claim, lapsed, n) in missing.into_values() {
        push(attestation_missing(judge, id, &claim, lapsed.as_ref(), n));
    }
    for (reason, n) in weaker {
        let copies_en = count_en(n, "copy", "copies");
        let (severity, code, en, ja, next) = match reason {
            WeakerReason::GovernanceMode => (
                Severity::Warning,
                ProblemCode::RetentionGovernance,
                format!("{copies_en} on {id} are locked in governance mode, which a privileged user can bypass; they count as offline, but weaker."),
                format!("{id} の {n} 件のコピーはガバナンスモードでロックされており、特権ユーザーが解除できます。オフラインとして数えますが、弱い扱いです。"),
                Text::new(
                    format!("Use compliance mode for new locks on {id}."),
                    format!("{id} の新しいロックはコンプライアンスモードにしてください。"),
                ),
            ),
            WeakerReason::FlagClearable => (
                Severity::Info,
                ProblemCode::ImmutableFlagClearable,
                format!("{copies_en} on {id} rely on an immutable flag its administrator can clear; they count as weaker."),
                format!("{id} の {n} 件のコピーは管理者が解除できる不変フラグで保護されているため、弱い扱いです。"),
                Text::new(
                    format!("Use a WORM or compliance mode on {id}, or attest it as an immutable device (④-1) if nobody can clear the flag."),
                    format!("{id} で WORM かコンプライアンスモードを使うか、誰もフラグを解除できないなら不変装置（④-1）として証明してください。"),
                ),
            ),
            WeakerReason::RetentionShortenable => (
                Severity::Warning,
                ProblemCode::RetentionShortenable,
                format!("{id} let a compliance-mode retention be shortened when tested: whoever holds its credentials can shorten the locks and then delete. {copies_en} on it: offline, but weaker."),
                format!("{id} はテストでコンプライアンスモードの保持期間の短縮を許しました。認証情報を持つ者がロックを短縮してから削除できるため、{n} 件のコピーはオフラインとして数えますが弱い扱いです。"),
                Text::new(
                    format!("Use a storage service that enforces compliance mode on {id}'s data (AWS S3, or check your vendor's object-lock certification), then run `hokan s3 check` again."),
                    format!("{id} のデータにはコンプライアンスモードを強制するストレージ（AWS S3 など。ベンダーのオブジェクトロック認証を確認）を使い、もう一度 `hokan s3 check` を実行してください。"),
                ),
            ),
            WeakerReason::LockNeverProbed => (
                Severity::Info,
                ProblemCode::LockNeverProbed,
                format!("Nobody has tested that {id} refuses to delete locked data; {copies_en} on it count as weaker."),
                format!("{id} がロック中のデータの削除を拒否することを一度も確認していないため、{n} 件のコピーを弱い扱いにしています。"),
                Text::new(
                    format!("Run a lock test on {id}: try to delete a locked test object and record the result."),
                    format!("{id} でロックの確認を行ってください（ロックしたテスト用オブジェクトの削除を試み、結果を記録）。"),
                ),
            ),
        };
        push(Problem::new(severity, code, Text::new(en, ja), next));
    }
    if let (n @ 1.., Some(first)) = expiring {
        let h = span(judge.policy.warning_horizon());
        push(Problem::new(
            Severity::Warning,
            ProblemCode::RetentionExpiring,
            Text::new(
                format!("The retention of {} on {id} ends within {}, the first on {}.", count_en(n, "copy", "copies"), h.en, when(first, offset)),
                format!("{id} の {n} 件のコピーの保持期間が{}以内に終わります（最初は {}）。", h.ja, when(first, offset)),
            ),
            Text::new(
                format!("Extend the retention on {id} before {}, or make sure newer generations are offline elsewhere.", when(first, offset)),
                format!("{} より前に {id} の保持期間を延長するか、新しい世代が他でオフラインになっていることを確認してください。", when(first, offset)),
            ),
        ).with_date(first));
    }
}

fn attestations_expiring(judge: &Judge<'_>, out: &mut Vec<Problem>) {
    let offset = judge.now.offset();
    let horizon_end = later(judge.now, judge.policy.warning_horizon());
    for a in &judge.facts.attestations {
        if !a.holds_at(judge.now) || a.ends_at() > horizon_end {
            continue;
        }
        let end = when(a.ends_at(), offset);
        let mut p = Problem::new(
            Severity::Warning,
            ProblemCode::AttestationExpiring,
            Text::new(
                format!(
                    "Attestation {} ({}, by {}) ends on {end}; copies relying on it will stop counting.",
                    a.id,
                    a.claim.name_en(),
                    a.by
                ),
                format!(
                    "証明 {}（{}、{}）は {end} に失効し、それに頼るコピーは数えられなくなります。",
                    a.id,
                    a.claim.name_ja(),
                    a.by
                ),
            ),
            Text::new(
                format!("Before {end}, check the fact again and record a new attestation with `hokan attest`."),
                format!("{end} より前に事実を再確認し、`hokan attest` で新しい証明を記録してください。"),
            ),
        )
        .with_attestation(&a.id)
        .with_date(a.ends_at());
        if let Claim::ImmutableDevice { medium }
        | Claim::ProviderIsolation { medium }
        | Claim::PullOnlyVault { medium } = &a.claim
        {
            p = p.with_medium(medium);
        }
        out.push(p);
    }
}
