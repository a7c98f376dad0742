//! What to tell: [`Notice`] is data, never sentences; [`Notification::render`]
//! writes the subject and body in the target's language.
//!
//! Every message says what happened, where (the site and the host) and
//! what to do. Texts that come from elsewhere (an evaluator's problem, a
//! job's error) arrive in both languages as [`Text`].

use hokan_offline::Text;
use hokan_site::{NotifyEvent, NotifyLang};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How a job ended, when that is worth a notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobOutcome {
    /// It failed: nothing usable was made.
    Failed,
    /// It finished, but some of its work is missing.
    Partial,
}

/// One problem that makes the site not compliant, with what to do about it
/// (the evaluator's `Problem::message` and `next_step`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What is wrong.
    pub problem: Text,
    /// What to do.
    pub next_step: Text,
}

/// Something only a person can do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Put a cartridge in before a job needs it.
    InsertCartridge {
        /// Which cartridge (barcode, label).
        medium: String,
        /// Where to put it (a drive, a slot), in both languages.
        into: Text,
        /// The job that needs it starts at this time.
        #[serde(with = "time::serde::rfc3339")]
        before: OffsetDateTime,
    },
    /// Put in any cartridge of a pool that may be written (the device
    /// holds none: all are retained, or none is there).
    InsertAnyOf {
        /// The pool.
        pool: String,
        /// Where to put it, in both languages.
        into: Text,
        /// The job that needs it starts at this time.
        #[serde(with = "time::serde::rfc3339")]
        before: OffsetDateTime,
    },
    /// Take a medium out of a drive (a medium left in a drive is online).
    RemoveMedium {
        /// Which.
        medium: String,
        /// From where, in both languages.
        from: Text,
    },
    /// Carry exported media to where they are kept offline.
    TakeToSafe {
        /// Which media.
        media: Vec<String>,
        /// Where to (the safe, the offsite store), in both languages.
        to: Text,
    },
}

/// What can run out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expiring {
    /// A lock's retention (object lock, WORM).
    Lock,
    /// A person's attestation.
    Attestation,
    /// A person's record of where a medium is.
    Location,
}

/// What happened. Data, rendered by [`Notification::render`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Notice {
    /// A job failed or finished partially.
    JobFailed {
        /// What kind of job (`backup`, `tape-backup`, …).
        job: String,
        /// What it worked on (source, pool).
        target: String,
        /// How it ended.
        outcome: JobOutcome,
        /// When it ended.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Why, as the job said, if it said.
        #[serde(default)]
        reason: Option<Text>,
    },
    /// The site does not meet its offline policy.
    NotCompliant {
        /// Every problem, with what to do.
        findings: Vec<Finding>,
    },
    /// A person must act.
    ActionNeeded {
        /// What to do.
        action: Action,
    },
    /// A protection or a person's record runs out soon.
    Expiring {
        /// What kind of thing.
        what: Expiring,
        /// Which one (medium id, attestation id).
        subject: String,
        /// When it runs out.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// The night's job did not run (dead-man's switch).
    NightMissed {
        /// When it should have run by.
        #[serde(with = "time::serde::rfc3339")]
        expected_by: OffsetDateTime,
        /// When a job last finished, if ever.
        #[serde(default, with = "time::serde::rfc3339::option")]
        last_run: Option<OffsetDateTime>,
    },
    /// A restore drill is overdue.
    DrillOverdue {
        /// When the last drill was, if ever.
        #[serde(default, with = "time::serde::rfc3339::option")]
        last_drill: Option<OffsetDateTime>,
        /// When the next one was due.
        #[serde(with = "time::serde::rfc3339")]
        due: OffsetDateTime,
    },
    /// A test message (`hokan notify test`).
    Test,
}

impl Notice {
    /// The word a target's `events` filter uses for it.
    pub fn event(&self) -> NotifyEvent {
        match self {
            Notice::JobFailed { .. } => NotifyEvent::JobFailed,
            Notice::NotCompliant { .. } => NotifyEvent::NotCompliant,
            Notice::ActionNeeded { .. } => NotifyEvent::ActionNeeded,
            Notice::Expiring { .. } => NotifyEvent::Expiring,
            Notice::NightMissed { .. } => NotifyEvent::NightMissed,
            Notice::DrillOverdue { .. } => NotifyEvent::DrillOverdue,
            Notice::Test => NotifyEvent::Test,
        }
    }

    /// How urgent, as a syslog severity (RFC 5424: 3 error, 4 warning,
    /// 5 notice).
    pub fn severity(&self) -> u8 {
        match self {
            Notice::JobFailed {
                outcome: JobOutcome::Failed,
                ..
            }
            | Notice::NotCompliant { .. }
            | Notice::NightMissed { .. } => 3,
            Notice::Test => 5,
            _ => 4,
        }
    }
}

/// A notice with where it comes from: what is queued in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// The site's name (`[site] name`).
    pub site: String,
    /// The host hokan runs on.
    pub host: String,
    /// When it was raised. Its UTC offset is the one messages show.
    #[serde(with = "time::serde::rfc3339")]
    pub raised_at: OffsetDateTime,
    /// What happened.
    pub notice: Notice,
}

/// A message in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    /// Several lines: what happened, where, what to do.
    pub body: String,
}

/// A time as messages show it: `2026-11-20 22:00 +09:00`.
pub fn when(t: OffsetDateTime) -> String {
    let (h, m, _) = t.offset().as_hms();
    let sign = if t.offset().is_negative() { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {sign}{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

fn pick(t: &Text, ja: bool) -> &str {
    if ja {
        &t.ja
    } else {
        &t.en
    }
}

impl Notification {
    /// The subject and body in `lang`.
    pub fn render(&self, lang: NotifyLang) -> Rendered {
        let ja = lang == NotifyLang::Ja;
        let (headline, what, todo) = self.words(ja);
        let subject = format!("[hokan] {}: {headline}", self.site);
        let mut body = String::new();
        body.push_str(&what);
        body.push_str("\n\n");
        let labels = if ja {
            ["サイト", "ホスト", "日時", "対応"]
        } else {
            ["Site", "Host", "Time", "What to do"]
        };
        body.push_str(&format!("{}: {}\n", labels[0], self.site));
        body.push_str(&format!("{}: {}\n", labels[1], self.host));
        body.push_str(&format!("{}: {}\n\n", labels[2], when(self.raised_at)));
        body.push_str(&format!("{}:\n", labels[3]));
        for line in todo {
            body.push_str(&format!("- {line}\n"));
        }
        body.push_str("\n-- \nhokan\n");
        Rendered { subject, body }
    }

    /// The headline and what to do, in `lang`, without the site, host and
    /// time around them (a dashboard lists them as today's tasks).
    pub fn task(&self, lang: NotifyLang) -> (String, Vec<String>) {
        let (headline, _, todo) = self.words(lang == NotifyLang::Ja);
        (headline, todo)
    }

    /// Headline, what happened, what to do.
    fn words(&self, ja: bool) -> (String, String, Vec<String>) {
        let tr = |en: String, j: String| if ja { j } else { en };
        match &self.notice {
            Notice::JobFailed {
                job,
                target,
                outcome,
                at,
                reason,
            } => {
                let (hen, hja) = match outcome {
                    JobOutcome::Failed => ("job failed", "ジョブが失敗しました"),
                    JobOutcome::Partial => ("job finished partially", "ジョブが一部未完了で終了しました"),
                };
                let mut what = tr(
                    format!("The {job} job on {target} {} at {}.", if *outcome == JobOutcome::Failed { "failed" } else { "finished, but not everything was done" }, when(*at)),
                    format!("{target} の {job} ジョブが{}（{}）。", if *outcome == JobOutcome::Failed { "失敗しました" } else { "終了しましたが、一部が完了していません" }, when(*at)),
                );
                if let Some(r) = reason {
                    what.push_str(&tr(
                        format!("\nReason: {}", r.en),
                        format!("\n理由: {}", r.ja),
                    ));
                }
                (
                    tr(format!("{hen}: {job} {target}"), format!("{hja}: {job} {target}")),
                    what,
                    vec![
                        tr(
                            "Read the job's messages (the system journal or the job's log) and fix the cause.".into(),
                            "ジョブのメッセージ（システムのジャーナルまたはジョブのログ）を確認し、原因を取り除いてください。".into(),
                        ),
                        tr(
                            "Run the job again, then check `hokan status`.".into(),
                            "ジョブを再実行し、`hokan status` で確認してください。".into(),
                        ),
                    ],
                )
            }
            Notice::NotCompliant { findings } => (
                tr(
                    "the site is NOT compliant".into(),
                    "オフライン保管の基準を満たしていません".into(),
                ),
                {
                    let mut what = tr(
                        format!("The site does not meet its offline policy ({} problem(s)):", findings.len()),
                        format!("オフライン保管の方針を満たしていません（問題 {} 件）:", findings.len()),
                    );
                    for f in findings {
                        what.push_str(&format!("\n- {}", pick(&f.problem, ja)));
                    }
                    what
                },
                {
                    let mut todo: Vec<String> =
                        findings.iter().map(|f| pick(&f.next_step, ja).to_owned()).collect();
                    todo.push(tr(
                        "Check with `hokan status` after acting.".into(),
                        "対応後、`hokan status` で確認してください。".into(),
                    ));
                    todo
                },
            ),
            Notice::ActionNeeded { action } => match action {
                Action::InsertCartridge {
                    medium,
                    into,
                    before,
                } => (
                    tr(format!("insert cartridge {medium}"), format!("カートリッジ {medium} を挿入してください")),
                    tr(
                        format!("The next job needs cartridge {medium} in {} before {}.", into.en, when(*before)),
                        format!("次のジョブで {} にカートリッジ {medium} が必要です（{} まで）。", into.ja, when(*before)),
                    ),
                    vec![tr(
                        format!("Insert cartridge {medium} into {} before {}, and record it with `hokan media move`.", into.en, when(*before)),
                        format!("{} までにカートリッジ {medium} を {} に挿入し、`hokan media move` で記録してください。", when(*before), into.ja),
                    )],
                ),
                Action::InsertAnyOf { pool, into, before } => (
                    tr(format!("insert a usable cartridge of pool {pool}"), format!("プール {pool} の使用可能なカートリッジを挿入してください")),
                    tr(
                        format!("The next job of pool {pool} finds no cartridge it may write in {} (the ones there are retained, or there are none); it starts before {}.", into.en, when(*before)),
                        format!("プール {pool} の次のジョブが {} に書き込めるカートリッジを見つけられません（保持期間中か、ありません）。ジョブは {} までに始まります。", into.ja, when(*before)),
                    ),
                    vec![tr(
                        format!("Put a labelled cartridge of pool {pool} whose retention has passed (or a new one, labelled with `hokan tape label` for a tape pool or `hokan disk format` for a disk pool) into {} before {}.", into.en, when(*before)),
                        format!("{} までに、保持期間が過ぎたプール {pool} のラベル付きカートリッジ（または新しいもの。テープは `hokan tape label`、ディスクは `hokan disk format` で準備）を {} に入れてください。", when(*before), into.ja),
                    )],
                ),
                Action::RemoveMedium { medium, from } => (
                    tr(format!("remove {medium} from {}", from.en), format!("{medium} を{}から取り出してください", from.ja)),
                    tr(
                        format!("Medium {medium} is still in {}: while it is there, it is online and ransomware can reach it.", from.en),
                        format!("媒体 {medium} が{}に入ったままです。入っている間はオンラインで、ランサムウェアから届きます。", from.ja),
                    ),
                    vec![tr(
                        format!("Remove {medium} from {} now and put it where it is kept offline; record the move with `hokan media move`.", from.en),
                        format!("今すぐ {medium} を{}から取り出してオフラインの保管場所へ移し、`hokan media move` で記録してください。", from.ja),
                    )],
                ),
                Action::TakeToSafe { media, to } => {
                    let list = media.join(", ");
                    (
                        tr(format!("take {} exported medium(s) to {}", media.len(), to.en), format!("搬出された媒体 {} 本を{}へ", media.len(), to.ja)),
                        tr(
                            format!("These media were exported and wait to be taken to {}: {list}.", to.en),
                            format!("次の媒体が搬出され、{}への移動を待っています: {list}。", to.ja),
                        ),
                        vec![tr(
                            format!("Take {list} to {} today, and record it with `hokan media move`.", to.en),
                            format!("本日中に {list} を{}へ移し、`hokan media move` で記録してください。", to.ja),
                        )],
                    )
                }
            },
            Notice::Expiring {
                what,
                subject,
                expires_at,
            } => {
                let (en, j, fix_en, fix_ja) = match what {
                    Expiring::Lock => (
                        "the lock on",
                        "のロック",
                        "Extend the retention (`hokan s3 extend-locks`), or make a new offline copy before then.",
                        "期限までに保持期間を延長する（`hokan s3 extend-locks`）か、新しいオフラインコピーを作成してください。",
                    ),
                    Expiring::Attestation => (
                        "attestation",
                        "の証明",
                        "Check the fact again and record a new attestation (`hokan attest`).",
                        "事実を再確認し、新しい証明を記録してください（`hokan attest`）。",
                    ),
                    Expiring::Location => (
                        "the recorded location of",
                        "の所在記録",
                        "Check where the medium is and record it again (`hokan media move`).",
                        "媒体の所在を確認し、記録し直してください（`hokan media move`）。",
                    ),
                };
                (
                    tr(format!("{en} {subject} runs out {}", when(*expires_at)), format!("{subject} {j}が {} に期限切れになります", when(*expires_at))),
                    tr(
                        format!("{} {subject} runs out at {}; after that it no longer counts as offline protection.", capital(en), when(*expires_at)),
                        format!("{subject} {j}は {} に期限が切れ、その後はオフラインの保護として数えられません。", when(*expires_at)),
                    ),
                    vec![tr(fix_en.into(), fix_ja.into())],
                )
            }
            Notice::NightMissed {
                expected_by,
                last_run,
            } => {
                let last_en = last_run.map_or("never".to_owned(), when);
                let last_ja = last_run.map_or("なし".to_owned(), when);
                (
                    tr("the nightly backup did not run".into(), "夜間バックアップが実行されていません".into()),
                    tr(
                        format!("No backup job finished by {}. The last job finished: {last_en}.", when(*expected_by)),
                        format!("{} までに完了したバックアップジョブがありません。最後に完了したジョブ: {last_ja}。", when(*expected_by)),
                    ),
                    vec![
                        tr(
                            "Check that the backup server is up and that hokan's timer or cron job runs.".into(),
                            "バックアップサーバが起動しているか、hokan のタイマーまたは cron が動いているか確認してください。".into(),
                        ),
                        tr(
                            "Run the backup by hand, then check `hokan status`.".into(),
                            "手動でバックアップを実行し、`hokan status` で確認してください。".into(),
                        ),
                    ],
                )
            }
            Notice::DrillOverdue { last_drill, due } => {
                let last_en = last_drill.map_or("never".to_owned(), when);
                let last_ja = last_drill.map_or("なし".to_owned(), when);
                (
                    tr("a restore drill is overdue".into(), "復旧訓練の期限を過ぎています".into()),
                    tr(
                        format!("A restore drill was due by {}. The last drill: {last_en}.", when(*due)),
                        format!("復旧訓練の期限は {} でした。前回の訓練: {last_ja}。", when(*due)),
                    ),
                    vec![tr(
                        "Restore an offline generation into an isolated place (`hokan restore`, `hokan tape restore`), compare it, and keep the record for the inspection.".into(),
                        "オフライン世代を隔離した場所へ復旧して（`hokan restore`、`hokan tape restore`）照合する訓練を行い、記録を立入検査用に保管してください。".into(),
                    )],
                )
            }
            Notice::Test => (
                tr("test message".into(), "テスト通知".into()),
                tr(
                    "This is a test message from hokan: notifications reach you by this path.".into(),
                    "hokan からのテスト通知です。この経路で通知が届きます。".into(),
                ),
                vec![tr("Nothing.".into(), "対応は不要です。".into())],
            ),
        }
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
