//! Events: every change of fact, in the order it was recorded.
//!
//! The event log is the catalog's source of truth. The other tables are a
//! projection of it (the private `apply` module), so `catalog verify` can replay the log
//! into an empty database and compare. Each stored event carries the hash of
//! the one before it:
//!
//! ```text
//! hash(n) = BLAKE3( "hokan-catalog-event-v1" ‖ hash(n-1) ‖ u64le(seq) ‖
//!                   u32le(len(at)) ‖ at ‖ u32le(len(actor)) ‖ actor ‖
//!                   u32le(len(body)) ‖ body )
//! ```
//! with `hash(0)` = 32 zero bytes, `at` the RFC 3339 UTC recording time and
//! `body` the event's JSON exactly as stored (never re-serialised for
//! hashing, so a reader in another language checks the same bytes).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use hokan_offline::{
    Attestation, AttestationId, Condition, LockMode, MediumId, MediumKind, ObservedBy, Person,
    PoolName, ProbeOutcome, Retention, SnapshotId, SourceName,
};
use hokan_offline::{Location, Text};

/// What a restore drill measured and found: time to the first file, bytes,
/// throughput, files checked, the application check, the failures, and
/// the projected time to restore the whole source against its target.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillMeasures {
    /// The kind of medium read: `tape`, `disk`, `s3`, `vault`.
    pub kind: String,
    /// The source whose generation was restored.
    pub source: String,
    /// The scratch folder restored into.
    pub target: String,
    /// Seconds from the start to the first file's bytes written.
    #[serde(default)]
    pub first_file_secs: Option<f64>,
    /// Content bytes restored.
    pub bytes: u64,
    /// Bytes per second over the whole restore.
    pub throughput: f64,
    /// Restored files checked against the snapshot.
    pub files_checked: u64,
    /// The application check's outcome, when the source has one.
    #[serde(default)]
    pub app_check: Option<AppCheck>,
    /// What failed: a file or an object, and why.
    #[serde(default)]
    pub failures: Vec<DrillFailure>,
    /// Seconds a restore of the whole source would take at the measured
    /// throughput (its size in its newest snapshot).
    #[serde(default)]
    pub projected_secs: Option<f64>,
    /// The source's recovery-time target, in seconds.
    #[serde(default)]
    pub rto_secs: Option<f64>,
}

/// What happened at the web dashboard's door, or to a refused action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebAccess {
    /// A login succeeded.
    LoggedIn,
    /// A login was refused: wrong name or password.
    LoginRefused,
    /// A login was refused: the account is locked after failures.
    LoginLocked,
    /// The person logged out.
    LoggedOut,
    /// An action was refused: the role may not, or the form's CSRF token
    /// was missing or wrong.
    ActionRefused,
    /// An operator started tonight's job now (it records its own
    /// `job-finished` when it ends).
    NightStarted,
    /// An operator started a restore drill now (it records its own
    /// `drilled` events).
    DrillStarted,
}

impl WebAccess {
    /// Its name as stored: `logged-in`, `login-refused`, `login-locked`,
    /// `logged-out`, `action-refused`, `night-started`, `drill-started`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebAccess::LoggedIn => "logged-in",
            WebAccess::LoginRefused => "login-refused",
            WebAccess::LoginLocked => "login-locked",
            WebAccess::LoggedOut => "logged-out",
            WebAccess::ActionRefused => "action-refused",
            WebAccess::NightStarted => "night-started",
            WebAccess::DrillStarted => "drill-started",
        }
    }
}

/// How a drill's application check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppCheck {
    /// It exited 0.
    Passed,
    /// It exited otherwise, or could not be started.
    Failed,
    /// It was still running at its timeout and was stopped.
    TimedOut,
    /// Not run: the restore had already failed.
    NotRun,
}

impl AppCheck {
    /// Its name as stored: `passed`, `failed`, `timed-out`, `not-run`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppCheck::Passed => "passed",
            AppCheck::Failed => "failed",
            AppCheck::TimedOut => "timed-out",
            AppCheck::NotRun => "not-run",
        }
    }

    /// The outcome stored as `s`.
    pub fn parse(s: &str) -> Option<AppCheck> {
        [
            AppCheck::Passed,
            AppCheck::Failed,
            AppCheck::TimedOut,
            AppCheck::NotRun,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// One thing a drill found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillFailure {
    /// The file (relative to the restore) or the object (`pack 3fa2…`),
    /// or `check` for the application check.
    pub what: String,
    /// Why.
    pub why: String,
}

/// Domain separation for the chain hash; changes only with a new chain format.
pub(crate) const HASH_CONTEXT: &[u8] = b"hokan-catalog-event-v1";

/// One change of fact. Stored as JSON with a `type` tag (kebab-case).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Event {
    /// A backup source was named (from the site configuration).
    SourceDeclared {
        /// Its name.
        source: SourceName,
    },
    /// A snapshot (generation) was found in a repository.
    SnapshotRecorded {
        /// Full snapshot id (hex).
        snapshot: SnapshotId,
        /// Its source.
        source: SourceName,
        /// When the backup started (the data's instant).
        #[serde(with = "time::serde::rfc3339")]
        taken_at: OffsetDateTime,
        /// Host that made it.
        hostname: String,
        /// Backed-up paths.
        paths: Vec<String>,
        /// Bytes of file content it holds.
        bytes: u64,
        /// Files it holds.
        files: u64,
        /// Some files could not be read.
        partial: bool,
    },
    /// A snapshot was forgotten (removed from the primary repository). Its
    /// copies on offline media stay recorded: they still exist.
    SnapshotForgotten {
        /// Which.
        snapshot: SnapshotId,
    },
    /// A medium entered the inventory.
    MediumAdded {
        /// Its id (barcode, label, bucket name).
        medium: MediumId,
        /// What kind of medium and set-up it is.
        kind: MediumKind,
        /// Its pool, if any.
        #[serde(default)]
        pool: Option<PoolName>,
        /// Label or barcode as printed, if different from the id.
        #[serde(default)]
        label: Option<String>,
        /// Capacity in bytes, if known.
        #[serde(default)]
        capacity: Option<u64>,
        /// Free text.
        #[serde(default)]
        note: Option<String>,
    },
    /// A medium's condition changed (full, damaged, retired, writable again).
    MediumCondition {
        /// Which.
        medium: MediumId,
        /// The new condition.
        condition: Condition,
        /// Why, as the operator or job said.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Where a medium is, as a device reported or a person recorded it.
    MediumLocated {
        /// Which.
        medium: MediumId,
        /// When it was there (may be earlier than the recording time).
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Where.
        location: Location,
        /// Who says so.
        by: ObservedBy,
        /// Free text.
        #[serde(default)]
        note: Option<String>,
    },
    /// A medium or store now holds a snapshot (complete or not yet).
    CopyRecorded {
        /// Which snapshot.
        snapshot: SnapshotId,
        /// On which medium.
        medium: MediumId,
        /// Since when it holds it.
        #[serde(with = "time::serde::rfc3339")]
        since: OffsetDateTime,
        /// Whether everything the snapshot needs to restore is there
        /// (together with the media of `with`).
        complete: bool,
        /// The other media the copy also needs: the rest of a media set that
        /// spans several cartridges. Empty (and then not stored) for a copy
        /// on one medium.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        with: Vec<MediumId>,
    },
    /// A copy was read back and checked.
    CopyVerified {
        /// Which snapshot.
        snapshot: SnapshotId,
        /// On which medium.
        medium: MediumId,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Whether it was intact.
        ok: bool,
        /// What the check found.
        #[serde(default)]
        detail: Option<String>,
    },
    /// A copy no longer exists (medium overwritten, objects deleted).
    CopyRemoved {
        /// Which snapshot.
        snapshot: SnapshotId,
        /// On which medium.
        medium: MediumId,
        /// Why.
        #[serde(default)]
        reason: Option<String>,
    },
    /// What protects a copy on a store (object lock, WORM, immutable flag).
    Protected {
        /// Which medium.
        medium: MediumId,
        /// Which snapshot.
        snapshot: SnapshotId,
        /// When it was read or set.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The lock mode.
        mode: LockMode,
        /// Until when.
        retention: Retention,
    },
    /// An enforcement test of a medium's lock.
    LockProbed {
        /// Which medium.
        medium: MediumId,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// What happened.
        outcome: ProbeOutcome,
        /// What was tried and seen.
        #[serde(default)]
        detail: Option<String>,
    },
    /// A person attested a fact the software cannot observe.
    Attested {
        /// The attestation (its id is given by the catalog).
        attestation: Attestation,
    },
    /// An attestation was withdrawn before it expired.
    AttestationWithdrawn {
        /// Which.
        attestation: AttestationId,
        /// From when.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// By whom.
        by: Person,
        /// Why.
        #[serde(default)]
        reason: Option<String>,
    },
    /// A job (backup, copy, verify, prune, …) finished.
    JobFinished {
        /// What kind of job (`backup`, `verify`, `tape-backup`, …).
        job: String,
        /// What it worked on (source, repository, pool).
        target: String,
        /// When it started.
        #[serde(with = "time::serde::rfc3339")]
        started_at: OffsetDateTime,
        /// When it ended.
        #[serde(with = "time::serde::rfc3339")]
        finished_at: OffsetDateTime,
        /// `ok`, `partial`, `failed`.
        outcome: String,
        /// Figures and messages, as the job reported them.
        #[serde(default)]
        detail: serde_json::Value,
    },
    /// A tape job began a new media set in a pool.
    MediaSetStarted {
        /// The set's id (as written in every cartridge label of the set).
        set: String,
        /// The pool.
        pool: PoolName,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A cartridge was labelled as member `seq` (from 1) of a media set.
    /// Labelling erases the cartridge: every copy on it must have been
    /// removed (`copy-removed`) before, or the event is refused.
    CartridgeLabeled {
        /// The cartridge.
        medium: MediumId,
        /// The media set.
        set: String,
        /// Its place in the set, from 1.
        seq: u32,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A media set was closed: its final catalog is written (`complete`),
    /// or the job ended without it (a partial set, whose copies never
    /// count).
    MediaSetClosed {
        /// The set.
        set: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Whether the set's final catalog was written.
        complete: bool,
        /// The snapshots the set holds completely.
        snapshots: Vec<SnapshotId>,
        /// No cartridge of the set may be overwritten before this instant
        /// (the close time plus the pool's retention).
        #[serde(with = "time::serde::rfc3339")]
        retained_until: OffsetDateTime,
    },
    /// A restore drill (復旧訓練) of a generation from a medium.
    Drilled {
        /// Which snapshot.
        snapshot: SnapshotId,
        /// From which medium.
        medium: MediumId,
        /// When it started.
        #[serde(with = "time::serde::rfc3339")]
        started_at: OffsetDateTime,
        /// How long the restore took, in seconds.
        seconds: f64,
        /// Whether the restored data matched.
        ok: bool,
        /// Who ran it, if a person did.
        #[serde(default)]
        by: Option<Person>,
        /// What was found.
        #[serde(default)]
        detail: Option<String>,
        /// What `hokan drill` measured (absent on drills recorded before it
        /// existed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        measured: Option<DrillMeasures>,
    },
    /// A vault's signed receipt, read from the primary's inbox after its
    /// Ed25519 signature verified with the vault's registered public key.
    /// Recorded once per envelope (`key`); the newest of a vault decides
    /// how its copies are judged.
    VaultReceipt {
        /// BLAKE3 of the envelope's bytes (hex): the same file read again
        /// is not recorded twice.
        key: String,
        /// The inbox file it came from (relative to the inbox).
        file: String,
        /// What it says, as the evaluator reads it.
        receipt: hokan_offline::VaultReceipt,
    },
    /// A notification was put in the outbox for one target (`[[notify]]`
    /// name). It stays due until a `notification-sent` or
    /// `notification-abandoned` with the same id.
    NotificationQueued {
        /// Its id (`N-000001`, …), one per target.
        id: String,
        /// The target's name.
        target: String,
        /// What to tell, as data (`hokan-notify`'s `Notice`); rendered into
        /// words only when sent, in the target's language.
        notice: serde_json::Value,
    },
    /// An attempt to deliver a notification failed; it is retried later.
    NotificationFailed {
        /// Which.
        id: String,
        /// Its target.
        target: String,
        /// Which attempt, from 1.
        attempt: u32,
        /// What went wrong (never holds a secret).
        reason: String,
    },
    /// A notification was delivered.
    NotificationSent {
        /// Which.
        id: String,
        /// Its target.
        target: String,
        /// The attempt that delivered it, from 1.
        attempt: u32,
    },
    /// A notification was given up (too old, or its target is gone).
    NotificationAbandoned {
        /// Which.
        id: String,
        /// Its target.
        target: String,
        /// Why (never holds a secret).
        reason: String,
    },
    /// A person saw an alert (a notification raised) and says so: the
    /// dashboard stops showing it as new. Changes no table.
    AlertAcknowledged {
        /// The notification (`N-000001`).
        notification: String,
        /// Who acknowledged it.
        by: Person,
        /// What they did or will do.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The web dashboard: a login, a refused login, a logout, or a refused
    /// action. Actions that were done are their own events, with the
    /// person in the actor (`hokan web (NAME)`). Changes no table.
    WebAccess {
        /// The account name (for a refused login: as typed, at most 64
        /// characters).
        user: String,
        /// The client's address.
        from: String,
        /// What happened.
        access: WebAccess,
        /// The refused action's path (`/media/move`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
}

impl Event {
    /// The `type` tag, as stored in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SourceDeclared { .. } => "source-declared",
            Event::SnapshotRecorded { .. } => "snapshot-recorded",
            Event::SnapshotForgotten { .. } => "snapshot-forgotten",
            Event::MediumAdded { .. } => "medium-added",
            Event::MediumCondition { .. } => "medium-condition",
            Event::MediumLocated { .. } => "medium-located",
            Event::CopyRecorded { .. } => "copy-recorded",
            Event::CopyVerified { .. } => "copy-verified",
            Event::CopyRemoved { .. } => "copy-removed",
            Event::Protected { .. } => "protected",
            Event::LockProbed { .. } => "lock-probed",
            Event::Attested { .. } => "attested",
            Event::AttestationWithdrawn { .. } => "attestation-withdrawn",
            Event::JobFinished { .. } => "job-finished",
            Event::Drilled { .. } => "drilled",
            Event::MediaSetStarted { .. } => "media-set-started",
            Event::CartridgeLabeled { .. } => "cartridge-labeled",
            Event::MediaSetClosed { .. } => "media-set-closed",
            Event::VaultReceipt { .. } => "vault-receipt",
            Event::NotificationQueued { .. } => "notification-queued",
            Event::NotificationFailed { .. } => "notification-failed",
            Event::NotificationSent { .. } => "notification-sent",
            Event::NotificationAbandoned { .. } => "notification-abandoned",
            Event::AlertAcknowledged { .. } => "alert-acknowledged",
            Event::WebAccess { .. } => "web-access",
        }
    }

    /// Whether only the catalog knows this fact: nothing on a repository,
    /// medium or device can bring it back if the catalog is lost. These are
    /// exported with every report.
    pub fn catalog_only(&self) -> bool {
        match self {
            Event::MediumLocated { by, .. } => matches!(by, ObservedBy::Person { .. }),
            Event::Attested { .. }
            | Event::AttestationWithdrawn { .. }
            | Event::MediumCondition { .. }
            | Event::Drilled { .. }
            | Event::AlertAcknowledged { .. } => true,
            Event::MediumAdded { note, .. } => note.is_some(),
            _ => false,
        }
    }

    /// A one-line description for event listings and reports.
    pub fn describe(&self) -> Text {
        match self {
            Event::SourceDeclared { source } => Text::new(
                format!("source {source} declared"),
                format!("バックアップ対象 {source} を登録"),
            ),
            Event::SnapshotRecorded {
                snapshot, source, ..
            } => Text::new(
                format!("snapshot {} of {source} recorded", short(snapshot)),
                format!("{source} の世代 {} を記録", short(snapshot)),
            ),
            Event::SnapshotForgotten { snapshot } => Text::new(
                format!(
                    "snapshot {} forgotten in the primary repository",
                    short(snapshot)
                ),
                format!("世代 {} を一次リポジトリから削除", short(snapshot)),
            ),
            Event::MediumAdded { medium, kind, .. } => Text::new(
                format!("medium {medium} added ({})", kind.name_en()),
                format!("媒体 {medium} を登録（{}）", kind.name_ja()),
            ),
            Event::MediumCondition {
                medium, condition, ..
            } => Text::new(
                format!("medium {medium} is now {}", condition_en(*condition)),
                format!("媒体 {medium} の状態: {}", condition_ja(*condition)),
            ),
            Event::MediumLocated {
                medium,
                location,
                by,
                ..
            } => {
                let loc = location.describe();
                let (who_en, who_ja) = match by {
                    ObservedBy::Device { device } => {
                        (format!("device {device}"), format!("装置 {device}"))
                    }
                    ObservedBy::Person { person } => (person.to_string(), person.to_string()),
                };
                Text::new(
                    format!("medium {medium} {} (by {who_en})", loc.en),
                    format!("媒体 {medium}: {}（{who_ja}）", loc.ja),
                )
            }
            Event::CopyRecorded {
                snapshot,
                medium,
                complete,
                ..
            } => Text::new(
                format!(
                    "{} copy of {} on {medium}",
                    if *complete { "complete" } else { "partial" },
                    short(snapshot)
                ),
                format!(
                    "世代 {} の{}コピーを {medium} に記録",
                    short(snapshot),
                    if *complete {
                        "完全な"
                    } else {
                        "未完了の"
                    }
                ),
            ),
            Event::CopyVerified {
                snapshot,
                medium,
                ok,
                ..
            } => Text::new(
                format!(
                    "copy of {} on {medium} verified: {}",
                    short(snapshot),
                    if *ok { "ok" } else { "FAILED" }
                ),
                format!(
                    "{medium} 上の世代 {} を検証: {}",
                    short(snapshot),
                    if *ok { "正常" } else { "失敗" }
                ),
            ),
            Event::CopyRemoved {
                snapshot, medium, ..
            } => Text::new(
                format!("copy of {} on {medium} removed", short(snapshot)),
                format!("{medium} 上の世代 {} のコピーを削除", short(snapshot)),
            ),
            Event::Protected { medium, mode, .. } => Text::new(
                format!("protection on {medium} recorded ({})", lock_mode(*mode).0),
                format!("{medium} の保護状態を記録（{}）", lock_mode(*mode).1),
            ),
            Event::LockProbed {
                medium, outcome, ..
            } => Text::new(
                format!("lock test on {medium}: {}", probe_outcome(*outcome).0),
                format!("{medium} のロック検査: {}", probe_outcome(*outcome).1),
            ),
            Event::Attested { attestation } => Text::new(
                format!(
                    "attestation {}: {} (by {})",
                    attestation.id,
                    attestation.claim.name_en(),
                    attestation.by
                ),
                format!(
                    "証明 {}: {}（{}）",
                    attestation.id,
                    attestation.claim.name_ja(),
                    attestation.by
                ),
            ),
            Event::AttestationWithdrawn {
                attestation, by, ..
            } => Text::new(
                format!("attestation {attestation} withdrawn by {by}"),
                format!("証明 {attestation} を {by} が取り消し"),
            ),
            Event::JobFinished {
                job,
                target,
                outcome,
                ..
            } => Text::new(
                format!("job {job} on {target}: {outcome}"),
                format!("ジョブ {job}（{target}）: {outcome}"),
            ),
            Event::MediaSetStarted { set, pool, .. } => Text::new(
                format!("media set {set} started in pool {pool}"),
                format!("プール {pool} でメディアセット {set} を開始"),
            ),
            Event::CartridgeLabeled {
                medium, set, seq, ..
            } => Text::new(
                format!("cartridge {medium} labelled as no. {seq} of media set {set}"),
                format!(
                    "カートリッジ {medium} にメディアセット {set} の {seq} 本目としてラベルを書込"
                ),
            ),
            Event::MediaSetClosed {
                set,
                complete,
                snapshots,
                ..
            } => Text::new(
                format!(
                    "media set {set} closed: {} ({} snapshot(s))",
                    if *complete {
                        "complete"
                    } else {
                        "PARTIAL, does not count"
                    },
                    snapshots.len()
                ),
                format!(
                    "メディアセット {set} を終了: {}（世代 {} 件）",
                    if *complete {
                        "完了"
                    } else {
                        "未完了（数えない）"
                    },
                    snapshots.len()
                ),
            ),
            Event::Drilled {
                snapshot,
                medium,
                ok,
                ..
            } => Text::new(
                format!(
                    "restore drill of {} from {medium}: {}",
                    short(snapshot),
                    if *ok { "ok" } else { "FAILED" }
                ),
                format!(
                    "{medium} からの世代 {} の復旧訓練: {}",
                    short(snapshot),
                    if *ok { "成功" } else { "失敗" }
                ),
            ),
            Event::VaultReceipt { receipt, .. } => Text::new(
                format!(
                    "signed receipt of vault {}: {} generation(s), firewall {}",
                    receipt.vault,
                    receipt.generations.len(),
                    receipt.firewall
                ),
                format!(
                    "保管サーバ {} の署名付き受領書: {} 世代、ファイアウォール {}",
                    receipt.vault,
                    receipt.generations.len(),
                    receipt.firewall
                ),
            ),
            Event::NotificationQueued { id, target, .. } => Text::new(
                format!("notification {id} queued for {target}"),
                format!("通知 {id} を {target} 宛てに登録"),
            ),
            Event::NotificationFailed {
                id,
                target,
                attempt,
                reason,
            } => Text::new(
                format!("notification {id} to {target}: attempt {attempt} failed ({reason})"),
                format!("通知 {id}（{target} 宛て）: {attempt} 回目の送信に失敗（{reason}）"),
            ),
            Event::NotificationSent {
                id,
                target,
                attempt,
            } => Text::new(
                format!("notification {id} sent to {target} (attempt {attempt})"),
                format!("通知 {id} を {target} へ送信（{attempt} 回目）"),
            ),
            Event::NotificationAbandoned { id, target, reason } => Text::new(
                format!("notification {id} to {target} abandoned: {reason}"),
                format!("通知 {id}（{target} 宛て）の送信を断念: {reason}"),
            ),
            Event::AlertAcknowledged {
                notification,
                by,
                note,
            } => {
                let note = note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default();
                Text::new(
                    format!("alert {notification} acknowledged by {by}{note}"),
                    format!("通知 {notification} を {by} が確認{note}"),
                )
            }
            Event::WebAccess {
                user,
                from,
                access,
                path,
            } => {
                let path = path.as_deref().unwrap_or("");
                match access {
                    WebAccess::LoggedIn => Text::new(
                        format!("dashboard: {user} logged in from {from}"),
                        format!("ダッシュボード: {user} が {from} からログイン"),
                    ),
                    WebAccess::LoginRefused => Text::new(
                        format!("dashboard: login as {user:?} from {from} refused (wrong name or password)"),
                        format!("ダッシュボード: {from} からの {user:?} のログインを拒否（名前またはパスワードの誤り）"),
                    ),
                    WebAccess::LoginLocked => Text::new(
                        format!("dashboard: login as {user:?} from {from} refused (account locked)"),
                        format!("ダッシュボード: {from} からの {user:?} のログインを拒否（アカウントはロック中）"),
                    ),
                    WebAccess::LoggedOut => Text::new(
                        format!("dashboard: {user} logged out ({from})"),
                        format!("ダッシュボード: {user} がログアウト（{from}）"),
                    ),
                    WebAccess::NightStarted => Text::new(
                        format!("dashboard: {user} started tonight's job now ({from})"),
                        format!("ダッシュボード: {user} が今夜のジョブを今すぐ開始（{from}）"),
                    ),
                    WebAccess::DrillStarted => Text::new(
                        format!("dashboard: {user} started a restore drill now ({from})"),
                        format!("ダッシュボード: {user} が復元訓練を今すぐ開始（{from}）"),
                    ),
                    WebAccess::ActionRefused => Text::new(
                        format!("dashboard: {path} by {user} from {from} refused (role or form token)"),
                        format!("ダッシュボード: {from} からの {user} による {path} を拒否（ロールまたはフォームのトークン）"),
                    ),
                }
            }
        }
    }
}

/// The first 8 characters of a snapshot id, as listings show it.
pub fn short(id: &SnapshotId) -> &str {
    let s = id.as_str();
    &s[..s.len().min(8)]
}

/// A condition in English.
pub fn condition_en(c: Condition) -> &'static str {
    match c {
        Condition::Writable => "writable",
        Condition::Full => "full",
        Condition::Damaged => "damaged",
        Condition::Retired => "retired",
    }
}

/// A condition in Japanese.
pub fn condition_ja(c: Condition) -> &'static str {
    match c {
        Condition::Writable => "書込可",
        Condition::Full => "満杯",
        Condition::Damaged => "損傷",
        Condition::Retired => "廃棄",
    }
}

/// One event as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRecord {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who or what recorded it (`hokan media move --by …`, `backup`, …).
    pub actor: String,
    /// The event.
    pub event: Event,
    /// Hash of the previous event, hex.
    pub prev_hash: String,
    /// This event's hash, hex.
    pub hash: String,
}

/// The chain hash of one event (see the module documentation).
pub(crate) fn chain_hash(prev: &[u8; 32], seq: u64, at: &str, actor: &str, body: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(HASH_CONTEXT);
    h.update(prev);
    h.update(&seq.to_le_bytes());
    for part in [at, actor, body] {
        h.update(&(part.len() as u32).to_le_bytes());
        h.update(part.as_bytes());
    }
    *h.finalize().as_bytes()
}

/// A lock mode in words (English, Japanese), never its Debug name.
fn lock_mode(m: hokan_offline::LockMode) -> (&'static str, &'static str) {
    use hokan_offline::LockMode as M;
    match m {
        M::Compliance => ("compliance-mode lock", "コンプライアンスモードのロック"),
        M::Governance => ("governance-mode lock", "ガバナンスモードのロック"),
        M::ImmutableFlag => ("immutable flag", "変更不可フラグ"),
        M::WormServer => ("WORM server", "WORM サーバー"),
    }
}

/// A lock probe's outcome in words (English, Japanese).
fn probe_outcome(o: hokan_offline::ProbeOutcome) -> (&'static str, &'static str) {
    use hokan_offline::ProbeOutcome as P;
    match o {
        P::Held => ("the lock held", "ロックは有効でした"),
        P::Failed => (
            "locked data could be deleted: the lock is not enforced",
            "ロックされたデータを削除できました（ロックが効いていません）",
        ),
        P::Shortenable => (
            "the lock held, but its retention could be shortened (weaker)",
            "ロックは有効でしたが、保持期間を短縮できました（弱い保護）",
        ),
    }
}
