//! hokan's notifications: telling people what happened and what to do.
//!
//! This crate owns what a notification says ([`Notice`], data rendered into
//! Japanese or English by [`Notification::render`]), the durable outbox in
//! the catalog ([`outbox`]: queue, deliver with retries and back-off), and
//! the four ways of sending ([`send`]): e-mail over SMTP with STARTTLS, an
//! RFC 5424 syslog line, a signed webhook, a command fed JSON on its
//! standard input. It leaves reading `hokan.toml` to `hokan-site` (which
//! gives the [`hokan_site::Notify`] targets), deciding *when* something is
//! worth a notice to the jobs and the binary, and printing to the binary:
//! this crate prints nothing and logs through `tracing`.
//!
//! # Secrets
//! The SMTP password and the webhook key are read from their files at
//! send time into a [`Secret`], whose `Debug` prints `***`. No error of
//! this crate holds a secret, so none reaches a log, a terminal or an
//! outbox event (which record failure reasons).
//!
//! # Threat model
//! The attacker who owns the backup server can read the secrets and send
//! or suppress notifications as it likes; notifications are a way to tell
//! people, not evidence. What they can not do is make hokan print or log a
//! secret it was not already given, or make a plain-text SMTP or HTTP
//! connection leave the machine (`hokan-site` allows those only to
//! loopback).
#![deny(missing_docs)]

pub mod notice;
pub mod outbox;
mod secret;
pub mod send;

use std::path::PathBuf;

pub use notice::{Action, Expiring, Finding, JobOutcome, Notice, Notification, Rendered};
pub use outbox::{deliver, queue, Delivery, Outcome, Select};
pub use secret::Secret;

/// Why one message could not be sent. Never holds a secret: secret files
/// are named by path only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A secret file could not be read.
    #[error("cannot read secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A secret file is not UTF-8 text.
    #[error("secret file {path} is not UTF-8 text")]
    SecretNotText {
        /// The file.
        path: PathBuf,
    },
    /// A secret file's first line is empty.
    #[error("secret file {path} has an empty first line")]
    SecretEmpty {
        /// The file.
        path: PathBuf,
    },
    /// An e-mail address that SMTP cannot take.
    #[error("{address:?} is not a usable e-mail address: {source}")]
    Address {
        /// The address.
        address: String,
        /// Why.
        #[source]
        source: lettre::address::AddressError,
    },
    /// The e-mail could not be built.
    #[error("cannot build the e-mail: {0}")]
    Message(#[source] lettre::error::Error),
    /// The SMTP conversation failed (connection, STARTTLS, login, refusal).
    #[error("SMTP: {0}")]
    Smtp(#[source] lettre::transport::smtp::Error),
    /// The syslog socket or server could not be reached.
    #[error("syslog: {0}")]
    Syslog(#[source] std::io::Error),
    /// The webhook could not be reached.
    #[error("webhook: {0}")]
    Http(#[source] ureq::Error),
    /// The webhook answered with an error status.
    #[error("webhook answered HTTP {status}")]
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// The command has no program.
    #[error("the command is empty")]
    EmptyCommand,
    /// The command could not be started.
    #[error("cannot run {program}: {source}")]
    CommandStart {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The command ran past its time limit and was killed.
    #[error("{program} did not finish within {seconds} s and was stopped")]
    CommandTimeout {
        /// The program.
        program: String,
        /// The limit.
        seconds: u64,
    },
    /// The command failed.
    #[error("{program} exited with {}{}", code.map_or("a signal".to_owned(), |c| format!("code {c}")), if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    CommandFailed {
        /// The program.
        program: String,
        /// Its exit code (`None`: killed by a signal).
        code: Option<i32>,
        /// The start of what it wrote to standard error.
        stderr: String,
    },
    /// The queued notification cannot be read back (written by a newer
    /// hokan, or edited).
    #[error("the queued notification cannot be read: {0}")]
    Unreadable(#[source] serde_json::Error),
}

/// Errors of the outbox: the catalog, not a send (sends fail per message,
/// see [`Outcome`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The catalog refused or failed.
    #[error(transparent)]
    Catalog(#[from] hokan_catalog::CatalogError),
}

/// An error with its causes, `a: b: c`, skipping a cause whose text the
/// outer message already holds: a failure reason for people and events.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cause = c.source();
    }
    s
}
