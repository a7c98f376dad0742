//! Notification targets (`[[notify]]`): who is told, how, in which
//! language, about what.
//!
//! Only paths to secrets are kept here (`password_file`, `secret_file`):
//! the secrets themselves are read by `hokan-notify` when it sends, so
//! they never sit in a [`crate::Site`], its `Debug` or its JSON.

use std::path::PathBuf;

use serde::Serialize;
use time::Duration;

use hokan_offline::span;

/// One `[[notify]]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notify {
    /// Its name: `[a-z0-9_-]+`, unique among `[[notify]]` tables.
    pub name: String,
    /// The language its messages are written in (default Japanese).
    pub lang: NotifyLang,
    /// What it is told about; `None` (the default): everything.
    pub events: Option<Vec<NotifyEvent>>,
    /// How it is told.
    #[serde(flatten)]
    pub kind: NotifyKind,
}

impl Notify {
    /// Whether this target is told about `event`. A test message goes to
    /// every target: testing is asking whether the path works at all.
    pub fn wants(&self, event: NotifyEvent) -> bool {
        event == NotifyEvent::Test
            || self
                .events
                .as_ref()
                .is_none_or(|list| list.contains(&event))
    }
}

/// A message language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyLang {
    /// 日本語 (`ja`, the default).
    Ja,
    /// English (`en`).
    En,
}

/// What a target can be told about (`events = [...]`), one word per kind
/// of notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyEvent {
    /// A job failed or finished partially (`job-failed`).
    JobFailed,
    /// The site is not compliant (`not-compliant`).
    NotCompliant,
    /// A person must do something: insert, remove or carry media
    /// (`action-needed`).
    ActionNeeded,
    /// A lock, attestation or location record runs out soon (`expiring`).
    Expiring,
    /// The night's job did not run (`night-missed`, the dead-man's switch).
    NightMissed,
    /// A restore drill is overdue (`drill-overdue`).
    DrillOverdue,
    /// A test message (`test`).
    Test,
}

impl NotifyEvent {
    /// Every kind, with its word in `hokan.toml`.
    pub const ALL: [(&'static str, NotifyEvent); 7] = [
        ("job-failed", NotifyEvent::JobFailed),
        ("not-compliant", NotifyEvent::NotCompliant),
        ("action-needed", NotifyEvent::ActionNeeded),
        ("expiring", NotifyEvent::Expiring),
        ("night-missed", NotifyEvent::NightMissed),
        ("drill-overdue", NotifyEvent::DrillOverdue),
        ("test", NotifyEvent::Test),
    ];

    /// Its word in `hokan.toml`.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("", |(w, _)| w)
    }
}

/// How a target is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum NotifyKind {
    /// E-mail over SMTP (`type = "email"`).
    Email(Email),
    /// A syslog line, RFC 5424 (`type = "syslog"`).
    Syslog(Syslog),
    /// An HTTP POST of JSON, signed (`type = "webhook"`).
    Webhook(Webhook),
    /// A program run with the message as JSON on its standard input
    /// (`type = "command"`).
    Command(NotifyCommand),
}

/// How SMTP is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpTls {
    /// STARTTLS, required (the default): no TLS, no message.
    Starttls,
    /// Plain text: only to a server on this machine (127.0.0.1, ::1,
    /// localhost), e.g. a local relay.
    None,
}

/// `type = "email"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Email {
    /// The SMTP server.
    pub host: String,
    /// Its port (default 587).
    pub port: u16,
    /// STARTTLS or, on loopback only, none.
    pub tls: SmtpTls,
    /// The sender address.
    pub from: String,
    /// The recipients; at least one.
    pub to: Vec<String>,
    /// The SMTP login, if the server wants one.
    pub username: Option<String>,
    /// The file whose first line is the password; absolute. Given exactly
    /// when `username` is.
    pub password_file: Option<PathBuf>,
}

/// `type = "syslog"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Syslog {
    /// The local syslog socket (`socket`, default `/dev/log`).
    Local(PathBuf),
    /// A syslog server over UDP (`address = "host:port"`).
    Udp(String),
}

/// `type = "webhook"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    /// Where to POST: `https://…` (`http://` only on loopback).
    pub url: String,
    /// The file whose first line is the HMAC key; absolute.
    pub secret_file: PathBuf,
}

/// `type = "command"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotifyCommand {
    /// The program and its arguments, run directly (no shell).
    pub argv: Vec<String>,
    /// How long it may run (default 30 s, at most 10 min).
    #[serde(with = "span")]
    pub timeout: Duration,
}

/// The SMTP port when `port` is left out (submission).
pub const DEFAULT_SMTP_PORT: u16 = 587;
/// The syslog socket when neither `socket` nor `address` is given.
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";
/// How long a notification command may run when `timeout` is left out.
pub const DEFAULT_NOTIFY_TIMEOUT: Duration = Duration::seconds(30);
/// The longest `timeout` a notification command may have.
pub const MAX_NOTIFY_TIMEOUT: Duration = Duration::minutes(10);

/// Whether `host` names this machine (plain SMTP and `http://` are allowed
/// only there).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
