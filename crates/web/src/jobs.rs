//! ジョブ / Jobs: the nights and jobs the catalog recorded (each night's
//! steps with their outcome, time and bytes, and the log of a failed one),
//! the night running now with its log (the page reloads itself while it
//! runs), tonight's plan, and for operators a button that runs tonight's
//! job now.
//!
//! "Run now" starts the configured command ([`WebConfig::night`], `hokan
//! --config FILE run`) as a child process whose output goes to
//! [`NIGHT_LOG`] in the site's state folder. The night takes the catalog's
//! night lock itself, so a night already running (started here, by the
//! daemon or by a timer) is never doubled: the page says so and offers no
//! button.
//!
//! [`WebConfig::night`]: crate::server::WebConfig::night

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hokan_jobs::night::{History, Skip, Step};
use maud::{html, Markup};
use serde_json::Value;

use crate::pages::{error_page, load_site, page, tr, when, Lang, Pick};
use crate::server::{Session, Shared};

/// The log of the last night started from the dashboard, in the site's
/// state folder.
pub const NIGHT_LOG: &str = "web-night.log";
/// The log of the last drill started from the dashboard, beside it.
pub const DRILL_LOG: &str = "web-drill.log";

/// What an operator can start from the Jobs page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Background {
    /// Tonight's job (`hokan run`), now.
    Night,
    /// A restore drill (`hokan drill --by NAME`) of every source's newest
    /// offline generation.
    Drill,
}

impl Background {
    /// The form's address.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Background::Night => "/jobs/run",
            Background::Drill => "/jobs/drill",
        }
    }

    /// What the catalog records when it starts.
    pub(crate) fn event(self) -> hokan_catalog::WebAccess {
        match self {
            Background::Night => hokan_catalog::WebAccess::NightStarted,
            Background::Drill => hokan_catalog::WebAccess::DrillStarted,
        }
    }

    fn log(self) -> &'static str {
        match self {
            Background::Night => NIGHT_LOG,
            Background::Drill => DRILL_LOG,
        }
    }

    /// The lock that says it runs: the night takes `.night` itself; a
    /// drill started here is held under `.web-drill` by the dashboard
    /// while it runs.
    fn lock(self) -> &'static str {
        match self {
            Background::Night => ".night",
            Background::Drill => ".web-drill",
        }
    }

    fn running(self, catalog: &Path) -> bool {
        hokan_jobs::lock::holder(catalog, self.lock()).is_some()
    }
}

/// How many finished jobs the page lists.
const JOBS_SHOWN: usize = 30;

fn log_path(site: &hokan_site::Site, what: Background) -> PathBuf {
    hokan_site::state_dir(site.catalog_path()).join(what.log())
}

/// The last `n` lines of the log of what the dashboard started last, if
/// there is one.
fn log_tail(site: &hokan_site::Site, what: Background, n: usize) -> Option<String> {
    let text = std::fs::read_to_string(log_path(site, what)).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    Some(lines[lines.len().saturating_sub(n)..].join("\n"))
}

/// The Jobs page, and whether a night is running (the server then asks the
/// browser to reload it).
pub(crate) fn jobs(s: &Shared, l: Lang, who: &Session) -> (String, bool) {
    let title = tr(l, "Jobs", "ジョブ");
    let site = match load_site(s) {
        Ok(x) => x,
        Err(e) => return (error_page(l, title, who, &e), false),
    };
    let cat = match hokan_catalog::Catalog::open_existing(site.catalog_path()) {
        Ok(c) => c,
        Err(e) => return (error_page(l, title, who, &e.text().pick(l)), false),
    };
    let night = Background::Night.running(site.catalog_path());
    let drill = Background::Drill.running(site.catalog_path());
    let running = night || drill;
    let rows = cat.jobs(JOBS_SHOWN);
    let history = History::from_catalog(&cat);
    let now = s.now();
    let can_run = who.role >= crate::Role::Operator && !s.config.hokan.is_empty();
    let body = html! {
        @if night {
            p.verdict.warning { (tr(l, "A night is running now. This page reloads every 5 seconds.", "夜間ジョブを実行中です。このページは 5 秒ごとに更新されます。")) }
        }
        @if drill {
            p.verdict.warning { (tr(l, "A restore drill is running now. This page reloads every 5 seconds.", "復元訓練を実行中です。このページは 5 秒ごとに更新されます。")) }
        }
        @if can_run && !running {
            form.inline method="post" action=(Background::Night.path()) {
                input type="hidden" name="csrf" value=(who.csrf);
                button { (tr(l, "Run tonight's job now", "今夜のジョブを今すぐ実行")) }
            }
            " "
            form.inline method="post" action=(Background::Drill.path()) {
                input type="hidden" name="csrf" value=(who.csrf);
                button { (tr(l, "Run a restore drill now", "復元訓練を今すぐ実行")) }
            }
        }
        @if let Some(tail) = log_tail(&site, Background::Night, 40) {
            details open[night] {
                summary { (tr(l, "Log of the night started from the dashboard", "ダッシュボードから開始した夜間ジョブのログ")) }
                pre.log { (tail) }
            }
        }
        @if let Some(tail) = log_tail(&site, Background::Drill, 40) {
            details open[drill] {
                summary { (tr(l, "Log of the drill started from the dashboard", "ダッシュボードから開始した復元訓練のログ")) }
                pre.log { (tail) }
            }
        }
        h2 { (tr(l, "Tonight's plan", "今夜の予定")) }
        @match &history {
            Ok(h) => (plan(l, &site, h, now)),
            Err(e) => p.problem.error { (e.to_string()) },
        }
        h2 { (tr(l, "History", "履歴")) }
        @match rows {
            Ok(rows) if rows.is_empty() => p.small { (tr(l, "No job has finished yet.", "完了したジョブはまだありません。")) },
            Ok(rows) => {
                @for j in &rows {
                    section.job {
                        h3 {
                            (when(j.started_at, &site)) " · " (j.job) " · " (j.target) " · "
                            span.(outcome_class(&j.outcome)) { (outcome_word(l, &j.outcome)) }
                            " · " (seconds(l, (j.finished_at - j.started_at).as_seconds_f64()))
                        }
                        @if let Some(steps) = j.detail["steps"].as_array() {
                            (steps_table(l, steps))
                        }
                    }
                }
            },
            Err(e) => p.problem.error { (e.text().pick(l)) },
        }
    };
    (page(l, title, Some(who), body), running)
}

fn plan(l: Lang, site: &hokan_site::Site, h: &History, now: time::OffsetDateTime) -> Markup {
    let local = now.to_offset(site.timezone().unwrap_or(time::UtcOffset::UTC));
    let night = hokan_jobs::night::coming_night(site, h, local);
    let steps: Vec<Step> = hokan_jobs::night::plan(site, h, night);
    html! {
        p.small { (tr(l, "The night of ", "対象の夜: ")) (when(night, site)) }
        table {
            thead { tr { th { (tr(l, "step", "手順")) } th { (tr(l, "tonight", "今夜")) } } }
            tbody { @for st in &steps { tr {
                td { code { "hokan " (st.command().join(" ")) } }
                td {
                    @match &st.skip {
                        None => span.ok { (tr(l, "runs", "実行")) },
                        Some(Skip::NotDue { schedule, next }) => {
                            (tr(l, "not due (schedule ", "対象外（スケジュール ")) code { (schedule) } ")"
                            @if let Some(n) = next { "; " (tr(l, "next ", "次回 ")) (when(*n, site)) }
                        },
                        Some(Skip::PulledByVault) => (tr(l, "the vault pulls by itself", "保管庫が自ら取得")),
                        Some(other) => (other.to_string()),
                    }
                }
            } } }
        }
    }
}

/// A night's steps: what ran, how it ended, how long, how many bytes, and
/// for a step that did not end ok, the last lines it said.
fn steps_table(l: Lang, steps: &[Value]) -> Markup {
    html! {
        table.steps {
            thead { tr {
                th { (tr(l, "step", "手順")) } th { (tr(l, "outcome", "結果")) }
                th { (tr(l, "time", "時間")) } th { (tr(l, "bytes", "バイト")) }
            } }
            tbody { @for st in steps {
                @let outcome = st["outcome"].as_str().unwrap_or("");
                tr {
                    td { code { "hokan " (args(st)) } }
                    td.(outcome_class(outcome)) { (outcome_word(l, outcome)) }
                    td { @if let Some(sec) = st["seconds"].as_f64() { (seconds(l, sec)) } }
                    td { @if let Some(b) = bytes(l, &st["report"]) { (b) } }
                }
                @if outcome == "failed" || outcome == "partial" {
                    tr.log { td colspan="4" {
                        details open {
                            summary { (tr(l, "What it said (exit ", "出力（終了コード ")) (st["exit_code"].as_i64().unwrap_or(-1)) ")" }
                            pre.log { @for line in st["stderr_tail"].as_array().into_iter().flatten() { (line.as_str().unwrap_or("")) "\n" } }
                        }
                    } }
                }
                @if outcome == "skipped" {
                    tr.skipped { td colspan="4" { span.small { (st["why"].as_str().unwrap_or("")) } } }
                }
            } }
        }
    }
}

fn args(step: &Value) -> String {
    step["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a step's report says of bytes: a backup's bytes read and added
/// (summed over its sources), a tape's or a disk's bytes written.
fn bytes(l: Lang, report: &Value) -> Option<String> {
    if let Some(sources) = report["sources"].as_array() {
        let sum = |k: &str| -> u64 {
            sources
                .iter()
                .filter_map(|s| s["backup"]["summary"][k].as_u64())
                .sum()
        };
        let (read, added) = (sum("bytes_read"), sum("bytes_added"));
        return Some(match l {
            Lang::En => format!(
                "read {}, added {}",
                hokan_report::bytes_text(read),
                hokan_report::bytes_text(added)
            ),
            Lang::Ja => format!(
                "読込 {}、追加 {}",
                hokan_report::bytes_text(read),
                hokan_report::bytes_text(added)
            ),
        });
    }
    ["bytes", "bytes_written", "bytes_copied"]
        .iter()
        .find_map(|k| report[k].as_u64())
        .map(hokan_report::bytes_text)
}

fn seconds(l: Lang, s: f64) -> String {
    match l {
        Lang::En => format!("{s:.1} s"),
        Lang::Ja => format!("{s:.1} 秒"),
    }
}

fn outcome_class(o: &str) -> &'static str {
    match o {
        "ok" => "ok",
        "skipped" => "small",
        _ => "bad",
    }
}

fn outcome_word(l: Lang, o: &str) -> String {
    let (en, ja) = match o {
        "ok" => ("ok", "成功"),
        "partial" => ("partial", "一部失敗"),
        "failed" => ("failed", "失敗"),
        "skipped" => ("skipped", "対象外"),
        "interrupted" => ("interrupted", "中断"),
        other => (other, other),
    };
    tr(l, en, ja).to_owned()
}

/// Start `what` now for the logged-in `user`, its output in its log
/// ([`NIGHT_LOG`], [`DRILL_LOG`]): the child's process id. Refused when a
/// night or a drill is running, or when no `hokan` command is configured.
pub(crate) fn start(s: &Shared, what: Background, user: &str) -> Result<u32, hokan_offline::Text> {
    use hokan_offline::Text;
    let Some((program, global)) = s.config.hokan.split_first() else {
        return Err(Text::new(
            "this dashboard was not given the hokan command to run jobs with",
            "このダッシュボードにはジョブを実行する hokan コマンドが設定されていません",
        ));
    };
    let site = load_site(s).map_err(|e| Text::new(e.clone(), e))?;
    let catalog = site.catalog_path().to_owned();
    if Background::Night.running(&catalog) || Background::Drill.running(&catalog) {
        return Err(Text::new(
            "a night or a drill is running already: wait for it to end (the Jobs page shows it)",
            "夜間ジョブか復元訓練がすでに実行中です。終わるまで待ってください（ジョブのページに表示されます）",
        ));
    }
    // A drill started here is held under its lock while it runs.
    let held = match what {
        Background::Drill => Some(
            hokan_jobs::PoolLock::take(&catalog, what.lock())
                .map_err(|e| Text::new(e.to_string(), e.to_string()))?,
        ),
        Background::Night => None,
    };
    let log = log_path(&site, what);
    let out = std::fs::File::create(&log).map_err(|e| {
        Text::new(
            format!("{}: {e}", log.display()),
            format!("{}: {e}", log.display()),
        )
    })?;
    let err = out
        .try_clone()
        .map_err(|e| Text::new(e.to_string(), e.to_string()))?;
    let mut cmd = Command::new(program);
    cmd.args(global);
    match what {
        Background::Night => cmd.arg("run"),
        Background::Drill => cmd.args(["drill", "--by", user]),
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| {
            let p = Path::new(program).display().to_string();
            Text::new(format!("{p}: {e}"), format!("{p}: {e}"))
        })?;
    let pid = child.id();
    // Wait until the night holds its lock (or has ended already), so that
    // the page the person is sent back to shows it running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while what == Background::Night
        && std::time::Instant::now() < deadline
        && !what.running(&catalog)
        && matches!(child.try_wait(), Ok(None))
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Reaped when it ends, so that it leaves no zombie behind; a drill's
    // lock goes with it.
    std::thread::spawn(move || {
        let _ = child.wait();
        drop(held);
    });
    Ok(pid)
}
