//! The dashboard's pages, rendered on the server (maud), in Japanese or
//! English, with one stylesheet embedded in the binary and no script.

use std::collections::HashMap;

use hokan_offline::{MediumId, ProblemCode, Severity, Text};
use maud::{html, Markup, DOCTYPE};
use time::OffsetDateTime;

use crate::server::{Session, Shared};

/// A page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// 日本語.
    Ja,
}

/// The text in `l`.
pub fn tr<'a>(l: Lang, en: &'a str, ja: &'a str) -> &'a str {
    match l {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// A [`Text`] in `l`.
pub trait Pick {
    /// The text in `l`.
    fn pick(&self, l: Lang) -> String;
}

impl Pick for Text {
    fn pick(&self, l: Lang) -> String {
        match l {
            Lang::En => self.en.clone(),
            Lang::Ja => self.ja.clone(),
        }
    }
}

/// The stylesheet: plain, readable on a small screen, and printable.
pub const STYLE: &str = include_str!("style.css");

pub(crate) fn page(l: Lang, title: &str, who: Option<&Session>, body: Markup) -> String {
    let lang = tr(l, "en", "ja");
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — hokan" }
                link rel="stylesheet" href="/style.css";
            }
            body {
                header {
                    strong { "hokan 保管" }
                    @if let Some(s) = who {
                        nav {
                            a href="/" { (tr(l, "This morning", "朝の確認")) }
                            a href="/media" { (tr(l, "Media", "媒体")) }
                            a href="/generations" { (tr(l, "Generations", "世代")) }
                            a href="/jobs" { (tr(l, "Jobs", "ジョブ")) }
                            a href="/attestations" { (tr(l, "Attestations", "証明")) }
                            a href="/drills" { (tr(l, "Drills", "復旧訓練")) }
                            a href="/receipts" { (tr(l, "Receipts", "受領証")) }
                            a href="/reports" { (tr(l, "Reports", "報告書")) }
                            a href="/events" { (tr(l, "Events", "イベント")) }
                            @if s.role >= crate::Role::Admin {
                                a href="/config" { (tr(l, "Configuration", "設定")) }
                            }
                        }
                        span.who { (s.user) " (" (s.role.as_str()) ")" }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button { (tr(l, "Log out", "ログアウト")) }
                        }
                    }
                    span.lang {
                        a href="?lang=ja" { "日本語" } " | " a href="?lang=en" { "English" }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
    .into_string()
}

/// The login form; `error` after a refused login.
pub fn login(l: Lang, token: &str, error: Option<&str>) -> String {
    page(
        l,
        tr(l, "Log in", "ログイン"),
        None,
        html! {
            @if let Some(e) = error { p.problem.error { (e) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                label { (tr(l, "Name", "名前")) input name="user" autocomplete="username" required; }
                label { (tr(l, "Password", "パスワード")) input type="password" name="password" autocomplete="current-password" required; }
                label { (tr(l, "Code from the authenticator app (if your account has one)", "認証アプリのコード（設定している場合）"))
                    input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"; }
                button { (tr(l, "Log in", "ログイン")) }
            }
        },
    )
}

/// A page with one message.
pub fn message(l: Lang, who: Option<&Session>, text: &str) -> String {
    page(
        l,
        tr(l, "hokan", "hokan"),
        who,
        html! { p.problem { (text) } p { a href="/" { (tr(l, "Back", "戻る")) } } },
    )
}

/// The answer to a role that may not.
pub fn forbidden(l: Lang, who: &Session, needs: crate::Role) -> String {
    let text = match l {
        Lang::En => format!(
            "This needs the {} role; your account is {}. Ask an admin.",
            needs.as_str(),
            who.role.as_str()
        ),
        Lang::Ja => format!(
            "この操作には {} ロールが必要です（あなたのアカウントは {}）。管理者に依頼してください。",
            needs.as_str(),
            who.role.as_str()
        ),
    };
    message(l, Some(who), &text)
}

pub(crate) fn load_site(s: &Shared) -> Result<hokan_site::Site, String> {
    hokan_site::load(&s.config.site).map_err(|e| e.to_string())
}

/// An instant in the site's zone, as every other message shows it
/// ([`hokan_offline::text::when`]).
pub(crate) fn when(t: OffsetDateTime, site: &hokan_site::Site) -> String {
    hokan_offline::text::when(t, site.timezone().unwrap_or(time::UtcOffset::UTC))
}

/// The site judged as `hokan status` judges it, for the pages that show
/// the evaluation.
pub(crate) struct Judged {
    /// The site's configuration.
    pub(crate) site: hokan_site::Site,
    /// The devices asked first, and what each answered (empty when not
    /// asked).
    pub(crate) notes: Vec<hokan_jobs::site::DeviceNote>,
    /// The evaluation at the page's instant.
    pub(crate) ev: hokan_offline::Evaluation,
    /// The catalog, when it exists.
    pub(crate) catalog: Option<hokan_catalog::Catalog>,
    /// What verifying the catalog found, anchors read from the buckets
    /// included, when the catalog exists.
    pub(crate) report: Option<hokan_catalog::VerifyReport>,
    /// Each bucket or anchor that could not be read (rollback detection is
    /// then incomplete).
    pub(crate) anchor_notes: Vec<Text>,
}

/// Load the site and its policy and judge the catalog at the page's
/// instant; with `ask_devices`, the devices are asked where their media
/// are first (the morning page), otherwise the catalog's newest
/// observations are taken as they are.
pub(crate) fn judge(s: &Shared, ask_devices: bool) -> Result<Judged, String> {
    let site = load_site(s)?;
    let policy = site.policy().map_err(|e| e.to_string())?;
    let sources: Vec<String> = site.source_names().map(str::to_owned).collect();
    let opened = ask_devices
        .then(|| hokan_catalog::Catalog::open_existing(site.catalog_path()).ok())
        .flatten();
    let notes = match opened {
        Some(mut cat) => hokan_jobs::site::observe_devices(
            site.targets(),
            &mut cat,
            hokan_jobs::site::Observe {
                now: s.now(),
                timeout: OBSERVE_TIMEOUT,
            },
        ),
        None => Vec::new(),
    };
    let judged = hokan_jobs::site::judge(
        hokan_jobs::site::Judge {
            catalog: site.catalog_path(),
            policy: &policy,
            sources: &sources,
            now: s.now(),
            site: Some((&site, site.name())),
            extra: Vec::new(),
        },
        &hokan_jobs::s3::anchor::name,
    )
    .map_err(|e| e.to_string())?;
    let anchor_notes =
        hokan_jobs::s3::anchor::notes(&judged.buckets, site.name(), &|e| e.to_string());
    Ok(Judged {
        site,
        notes,
        ev: judged.evaluation,
        catalog: judged.catalog,
        report: judged.report,
        anchor_notes,
    })
}

/// A page that only says what went wrong.
pub(crate) fn error_page(l: Lang, title: &str, who: &Session, e: &str) -> String {
    page(l, title, Some(who), html! { p.problem.error { (e) } })
}

/// The evaluation's verdict and the instant judged.
pub(crate) fn verdict_line(
    l: Lang,
    ev: &hokan_offline::Evaluation,
    site: &hokan_site::Site,
) -> Markup {
    html! {
        @if ev.compliant {
            p.verdict.ok { (tr(l, "Compliant: every source has its offline generations.", "適合: すべての対象にオフライン世代があります。")) }
        } @else {
            p.verdict.bad { (tr(l, "Not compliant: see the problems below, each with what to do.", "不適合: 下の問題と対処を確認してください。")) }
        }
        p.small { (site.name()) " · " (tr(l, "judged at", "判定時刻")) " " (when(ev.at, site)) }
    }
}

/// When the catalog cannot be trusted, why (nothing was judged, so the
/// page's tables are empty); nothing otherwise.
pub(crate) fn untrusted(l: Lang, ev: &hokan_offline::Evaluation) -> Markup {
    html! {
        @if ev.is_untrusted() {
            ul.problems {
                @for p in &ev.problems {
                    li.problem.error { strong { (p.message.pick(l)) } br; span.todo { "→ " (p.next_step.pick(l)) } }
                }
            }
        }
    }
}

/// Each source's offline generations against the policy, the newest one's
/// age and its verdict.
pub(crate) fn sources_table(l: Lang, ev: &hokan_offline::Evaluation) -> Markup {
    html! {
        table {
            thead { tr {
                th { (tr(l, "source", "対象")) }
                th { (tr(l, "offline generations / policy", "オフライン世代 / 方針")) }
                th { (tr(l, "newest offline", "最新のオフライン世代")) }
                th { (tr(l, "verdict", "判定")) }
            } }
            tbody {
                @for src in &ev.sources {
                    tr {
                        td { (src.source.to_string()) }
                        td { (src.offline_generations.len()) " / " (src.required) }
                        td {
                            @match &src.newest {
                                Some(n) => { (hokan_offline::text::span(n.age).pick(l)) " " (tr(l, "ago", "前")) }
                                None => { "—" }
                            }
                        }
                        td.(if src.compliant { "ok" } else { "bad" }) {
                            @if src.compliant { (tr(l, "compliant", "適合")) } @else { (tr(l, "not compliant", "不適合")) }
                        }
                    }
                }
            }
        }
    }
}

/// 朝の確認 / This morning: compliant or not, each source's offline
/// generations against the policy and the newest one's age, the problems
/// first, each with what to do, and a form to record a medium's move.
pub(crate) fn morning(s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "This morning", "朝の確認");
    // As `hokan status` does: ask the devices where their media are first,
    // so that the page does not judge a cartridge where it was last night.
    let Judged {
        site, notes, ev, ..
    } = match judge(s, true) {
        Ok(j) => j,
        Err(e) => return error_page(l, title, who, &e),
    };
    let problems = ev.all_problems();
    let can_act = who.role >= crate::Role::Operator;
    let tasks = tasks(&site, &ev, s.now());
    let alerts = hokan_catalog::Catalog::open_existing(site.catalog_path())
        .map(|cat| crate::alerts::open_alerts(&cat, s.now()))
        .unwrap_or_default();
    let nl = match l {
        Lang::En => hokan_site::NotifyLang::En,
        Lang::Ja => hokan_site::NotifyLang::Ja,
    };
    let body = html! {
        (verdict_line(l, &ev, &site))
        @for n in notes.iter().filter(|n| !n.observed()) {
            p.problem.warning { (not_asked(l, n, &site)) }
        }
        h2 { (tr(l, "Today's tasks", "今日の作業")) }
        @if tasks.is_empty() {
            p.small { (tr(l, "Nothing for people to do today.", "今日は人が行う作業はありません。")) }
        } @else {
            ol.tasks {
                @for n in &tasks {
                    @let (headline, todo) = n.task(nl);
                    li { strong { (headline) } @for line in &todo { br; span.todo { "→ " (line) } } }
                }
            }
        }
        (crate::alerts::section(l, who, &site, &alerts))
        @if !problems.is_empty() {
            h2 { (tr(l, "Problems and what to do", "問題と対処")) }
            ul.problems {
                @for p in &problems {
                    li.problem.(severity(p.severity)) {
                        strong { (p.message.pick(l)) }
                        br;
                        span.todo { "→ " (p.next_step.pick(l)) }
                        @if let (Some(m), true) = (&p.medium, can_act && about_where(p.code)) {
                            (move_form(l, who, m))
                        }
                    }
                }
            }
        }
        h2 { (tr(l, "Sources", "バックアップ対象")) }
        (sources_table(l, &ev))
    };
    page(l, title, Some(who), body)
}

/// What people must do today, as the night's notices say it: insert the
/// next night's cartridge of each disk pool due then (unless the catalog's
/// newest device report has it within the device's reach), take a medium
/// out of a drive, carry exported media to where they are kept, and what
/// runs out soon (an attestation, a lock, a record of where a medium is).
fn tasks(
    site: &hokan_site::Site,
    ev: &hokan_offline::Evaluation,
    now: OffsetDateTime,
) -> Vec<hokan_notify::Notification> {
    use hokan_offline::Location;
    let local = now.to_offset(site.timezone().unwrap_or(time::UtcOffset::UTC));
    let next_night = hokan_jobs::night::next_night(site, local);
    let mut next = Vec::new();
    for target in site.targets() {
        let hokan_site::TargetKind::DiskPool(conf) = &target.kind else {
            continue;
        };
        if !hokan_jobs::night::due_at(target, local, next_night) {
            continue;
        }
        let reachable: Vec<MediumId> = ev
            .media
            .iter()
            .filter(|m| m.pool.as_ref().map(|p| p.as_str()) == Some(target.name.as_str()))
            .filter(|m| {
                m.location.as_ref().is_some_and(|o| {
                    o.location.reach_rank() == 0
                        || matches!(o.location, Location::InactiveSlot { .. })
                })
            })
            .map(|m| m.id.clone())
            .collect();
        let name = target.name.as_str();
        next.push(hokan_jobs::notices::NextMedium {
            pool: name.to_owned(),
            plan: hokan_jobs::rotation::RotationPlan::disk(
                conf.rotation,
                &conf.cartridges,
                next_night,
            )
            .reaching(&reachable),
            into: Text::new(
                format!("the drive of disk pool {name}"),
                format!("ディスクプール {name} のドライブ"),
            ),
            before: next_night,
        });
    }
    let problems = ev.all_problems().into_iter().cloned().collect::<Vec<_>>();
    hokan_jobs::notices::after_night(&hokan_jobs::notices::NightEnd {
        site: site.name(),
        at: now,
        failed: Vec::new(),
        all_failed: false,
        problems: Some(&problems),
        next: &next,
    })
    .into_iter()
    .filter(|n| {
        matches!(
            n,
            hokan_notify::Notice::ActionNeeded { .. } | hokan_notify::Notice::Expiring { .. }
        )
    })
    .map(|notice| hokan_notify::Notification {
        site: site.name().to_owned(),
        host: String::new(),
        raised_at: local,
        notice,
    })
    .collect()
}

/// How long the morning page waits for each device.
const OBSERVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// A device that could not be asked, and how old the page's idea of where
/// its media are is.
fn not_asked(l: Lang, n: &hokan_jobs::site::DeviceNote, site: &hokan_site::Site) -> String {
    use hokan_jobs::site::Outcome;
    let why = match &n.outcome {
        Outcome::Busy => tr(l, "a job is using it", "ジョブが使用中").to_owned(),
        Outcome::Failed { error, .. } => error.to_string(),
        Outcome::TimedOut { after } => match l {
            Lang::En => format!("no answer within {} s", after.as_secs()),
            Lang::Ja => format!("{} 秒以内に応答がありません", after.as_secs()),
        },
        _ => tr(l, "it did not answer", "応答がありません").to_owned(),
    };
    let last = n
        .last_observed
        .map_or_else(|| tr(l, "never", "なし").to_owned(), |t| when(t, site));
    match l {
        Lang::En => format!(
            "The device of pool {} ({}) was not asked: {why}. Its media are shown where a device last saw them ({last}).",
            n.pool, n.device
        ),
        Lang::Ja => format!(
            "プール {} の装置（{}）に問い合わせられませんでした: {why}。媒体は最後に装置が確認した場所で表示しています（{last}）。",
            n.pool, n.device
        ),
    }
}

/// Whether a person fixes the problem by saying where the medium is (a
/// bucket's or a vault's problem is not fixed by carrying anything).
fn about_where(code: ProblemCode) -> bool {
    matches!(
        code,
        ProblemCode::MediumInDrive
            | ProblemCode::MediumConnected
            | ProblemCode::MediumInMailSlot
            | ProblemCode::LocationUnknown
            | ProblemCode::LocationStale
            | ProblemCode::LocationDoesNotFit
            | ProblemCode::LocationContradictsDevice
            | ProblemCode::LocationConfirmDue
            | ProblemCode::ExportNotRecorded
    )
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn move_form(l: Lang, who: &Session, medium: &MediumId) -> Markup {
    html! {
        form.move method="post" action="/media/move" {
            input type="hidden" name="csrf" value=(who.csrf);
            input type="hidden" name="medium" value=(medium.to_string());
            label { (tr(l, "Record that", "記録: ")) " " strong { (medium.to_string()) } " " (tr(l, "is now at", "の現在の場所")) " "
                input name="to" placeholder="shelf:金庫A / offsite:SITE" required; }
            label { (tr(l, "note", "メモ")) input name="note"; }
            button { (tr(l, "Record the move", "移動を記録")) }
        }
    }
}

/// Record a medium's move by the logged-in person (an operator).
pub(crate) fn record_move(
    s: &Shared,
    who: &Session,
    form: &HashMap<String, String>,
) -> Result<(), Text> {
    let site = load_site(s).map_err(|e| Text::new(e.clone(), e))?;
    let medium = form
        .get("medium")
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .ok_or_else(|| Text::new("no medium given", "媒体が指定されていません"))?;
    let to = form.get("to").map(|t| t.trim()).unwrap_or("");
    let location = hokan_jobs::when::parse_location(to).map_err(|e| e.text())?;
    let mut cat =
        hokan_catalog::Catalog::open_existing(site.catalog_path()).map_err(|e| e.text())?;
    let now = s.now();
    let actor = format!("hokan web ({})", who.user);
    let note = form
        .get("note")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    hokan_jobs::site::media::record_move(
        &mut cat,
        site.targets(),
        hokan_jobs::site::Observe {
            now,
            timeout: std::time::Duration::from_secs(30),
        },
        hokan_jobs::site::media::PersonMove {
            medium: &MediumId::new(medium),
            to: location,
            person: &who.user,
            at: now,
            note,
            actor: &actor,
        },
    )
    .map_err(|e| Text::new(e.to_string(), e.to_string()))?;
    tracing::info!(
        "dashboard: {} recorded the move of {medium} to {to}",
        who.user
    );
    Ok(())
}

/// The catalog's events, newest first; with `verify`, the check on top
/// that `hokan catalog verify` makes: the hash chain, the tables against
/// its replay, the head file and every anchor read from the buckets (a
/// catalog rolled back to an older copy is caught there).
pub(crate) fn events(s: &Shared, l: Lang, who: &Session, verify: bool) -> String {
    let title = tr(l, "Events", "イベント");
    let checked = verify.then(|| judge(s, false));
    let site = match load_site(s) {
        Ok(x) => x,
        Err(e) => return page(l, title, Some(who), html! { p.problem.error { (e) } }),
    };
    let cat = match hokan_catalog::Catalog::open_existing(site.catalog_path()) {
        Ok(c) => c,
        Err(e) => {
            return page(
                l,
                title,
                Some(who),
                html! { p.problem.error { (e.text().pick(l)) } },
            )
        }
    };
    let list = cat.events(200, false);
    let body = html! {
        form method="post" action="/events/verify" {
            input type="hidden" name="csrf" value=(who.csrf);
            button { (tr(l, "Verify the hash chain", "ハッシュチェーンを検証")) }
        }
        @match &checked {
            Some(Ok(Judged { report: Some(r), anchor_notes, .. })) => {
                @if r.ok() {
                    p.verdict.ok {
                        (tr(l, "The chain verifies: ", "チェーンは正常です: ")) (r.events) (tr(l, " events, head ", " 件、先頭 ")) (r.head.to_string())
                        (tr(l, "; anchors checked: ", "。照合したアンカー: ")) (r.expected.len())
                    }
                } @else {
                    p.verdict.bad { (tr(l, "The catalog does not verify:", "カタログの検証に失敗しました:")) }
                    ul { @for p in &r.problems { li { @if let Some(seq) = p.seq { "#" (seq) " " } (p.message.pick(l)) } } }
                }
                @for n in anchor_notes { p.problem.warning { (n.pick(l)) } }
            },
            Some(Ok(_)) => p.verdict.bad { (tr(l, "There is no catalog to verify.", "検証するカタログがありません。")) },
            Some(Err(e)) => p.verdict.bad { (e) },
            None => {},
        }
        @match list {
            Ok(events) => table {
                thead { tr { th { "#" } th { (tr(l, "when", "日時")) } th { (tr(l, "what", "内容")) } th { (tr(l, "by", "記録者")) } } }
                tbody { @for e in &events { tr {
                    td { (e.seq) } td { (when(e.at, &site)) } td { (e.event.describe().pick(l)) } td { (e.actor) }
                } } }
            },
            Err(e) => p.problem.error { (e.text().pick(l)) },
        }
    };
    page(l, title, Some(who), body)
}
