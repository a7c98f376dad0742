//! The notification outbox: one row per notification and target.
//!
//! A notification is *queued* (`notification-queued`), then either *sent*
//! or *abandoned*; failed attempts in between are recorded too, so a later
//! process knows how often it was tried and when, and backs off the same
//! way. Being events, every step is in the hash chain like any other fact;
//! the `notifications` table is their projection, and `catalog verify`
//! replays it like the others.
//!
//! Deciding *when* to try again is left to `hokan-notify`: this module
//! only keeps the facts it needs (attempts, the last attempt's time).

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::event::Event;
use crate::{from_json, json, parse_ts, Catalog, CatalogError, Result};

/// Where a notification is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationState {
    /// Not delivered yet: due now or after a back-off.
    Queued,
    /// Delivered.
    Sent,
    /// Given up.
    Abandoned,
}

impl NotificationState {
    fn as_str(self) -> &'static str {
        match self {
            NotificationState::Queued => "queued",
            NotificationState::Sent => "sent",
            NotificationState::Abandoned => "abandoned",
        }
    }

    fn parse(s: &str) -> Result<NotificationState> {
        match s {
            "queued" => Ok(NotificationState::Queued),
            "sent" => Ok(NotificationState::Sent),
            "abandoned" => Ok(NotificationState::Abandoned),
            other => Err(CatalogError::corrupt(
                0,
                format!("notification state {other:?}"),
            )),
        }
    }
}

/// One notification for one target, as the outbox holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NotificationRow {
    /// Its id.
    pub id: String,
    /// The target's name.
    pub target: String,
    /// What to tell, as queued.
    pub notice: serde_json::Value,
    /// When it was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the last attempt was made.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
    /// What went wrong last (failed attempt or reason for giving up).
    pub last_error: Option<String>,
    /// Where it is.
    pub state: NotificationState,
    /// When it was sent or abandoned.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

impl Catalog {
    /// The outbox, oldest first: every notification, or only those still
    /// queued (`open_only`).
    pub fn notifications(&self, open_only: bool) -> Result<Vec<NotificationRow>> {
        let sql = format!(
            "SELECT id, target, notice, queued_at, attempts, last_attempt_at, last_error, \
             state, closed_at FROM notifications {} ORDER BY queued_at, id",
            if open_only {
                "WHERE state = 'queued'"
            } else {
                ""
            }
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, target, notice, queued, attempts, last, last_error, state, closed) = row?;
            out.push(NotificationRow {
                id,
                target,
                notice: from_json(&notice)?,
                queued_at: parse_ts(&queued)?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                last_attempt_at: last.as_deref().map(parse_ts).transpose()?,
                last_error,
                state: NotificationState::parse(&state)?,
                closed_at: closed.as_deref().map(parse_ts).transpose()?,
            });
        }
        Ok(out)
    }

    /// The id the next queued notification gets (`N-000001`, …).
    pub fn next_notification_id(&self) -> Result<String> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM notifications", [], |r| r.get(0))?;
        Ok(format!("N-{:06}", n + 1))
    }
}

/// Apply one notification event (see [`crate::apply`]).
pub(crate) fn apply(tx: &Transaction<'_>, at: &str, event: &Event) -> Result<()> {
    match event {
        Event::NotificationQueued { id, target, notice } => {
            let n = tx.execute(
                "INSERT OR IGNORE INTO notifications (id, target, notice, queued_at, state) \
                 VALUES (?1, ?2, ?3, ?4, 'queued')",
                params![id, target, json(notice), at],
            )?;
            if n == 0 {
                return Err(CatalogError::NotificationExists(id.clone()));
            }
        }
        Event::NotificationFailed {
            id,
            target,
            attempt,
            reason,
        } => {
            need_open(tx, id, target)?;
            tx.execute(
                "UPDATE notifications SET attempts = ?2, last_attempt_at = ?3, last_error = ?4 \
                 WHERE id = ?1",
                params![id, *attempt, at, reason],
            )?;
        }
        Event::NotificationSent {
            id,
            target,
            attempt,
        } => {
            need_open(tx, id, target)?;
            tx.execute(
                "UPDATE notifications SET attempts = ?2, last_attempt_at = ?3, state = ?4, \
                 closed_at = ?3 WHERE id = ?1",
                params![id, *attempt, at, NotificationState::Sent.as_str()],
            )?;
        }
        Event::NotificationAbandoned { id, target, reason } => {
            need_open(tx, id, target)?;
            tx.execute(
                "UPDATE notifications SET last_error = ?2, state = ?3, closed_at = ?4 \
                 WHERE id = ?1",
                params![id, reason, NotificationState::Abandoned.as_str(), at],
            )?;
        }
        _ => unreachable!("only notification events come here"),
    }
    Ok(())
}

/// Refuse a step for a notification that is not queued for `target`: a
/// second `sent` would claim a message went out twice.
fn need_open(tx: &Transaction<'_>, id: &str, target: &str) -> Result<()> {
    let found: Option<(String, String)> = tx
        .query_row(
            "SELECT target, state FROM notifications WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match found {
        Some((t, state)) if t == target && state == "queued" => Ok(()),
        Some((t, _)) if t == target => Err(CatalogError::NotificationClosed(id.to_owned())),
        _ => Err(CatalogError::UnknownNotification {
            id: id.to_owned(),
            target: target.to_owned(),
        }),
    }
}
