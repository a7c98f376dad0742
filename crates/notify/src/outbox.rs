//! The durable outbox: notifications are catalog events, delivered by
//! passes that send what is due.
//!
//! # Lifecycle and retries
//! [`queue`] records one `notification-queued` per target that wants the
//! notice, in one transaction. [`deliver`] sends every queued notification
//! that is due at `now`: never tried, or tried `n` times with the last
//! attempt at least [`backoff`]`(n)` ago (1 min, doubling, at most 1 h).
//! A success is recorded as `notification-sent`, a failure as
//! `notification-failed` with the reason; once a notification is
//! [`GIVE_UP_AFTER`] old and fails again (or its target left
//! `hokan.toml`) it is `notification-abandoned`. A server that is down
//! for an hour therefore loses nothing: the next passes retry it.
//!
//! # Once, and what "once" means
//! A sent notification is closed in the catalog, and the catalog refuses a
//! second `sent` for it, so a pass never resends it. The gap that remains
//! is a crash (or a full disk) between the receiver taking the message and
//! the `sent` event being written: the next pass sends it again. That is
//! at-least-once by choice: a repeated alarm is better than a lost one.
//! Webhook and command receivers get the outbox id to drop repeats. Two
//! passes running at the same moment could both send one notification;
//! the binary runs one pass at a time.
//!
//! `now` is a parameter everywhere, so tests move time instead of sleeping.

use hokan_catalog::{Catalog, Event, NotificationRow};
use hokan_site::Notify;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::notice::Notification;
use crate::{send, NotifyError, SendError};

/// The first wait after a failed attempt; it doubles after each one.
pub const FIRST_RETRY: Duration = Duration::minutes(1);
/// The longest wait between attempts.
pub const MAX_RETRY: Duration = Duration::hours(1);
/// A notification still failing this long after it was queued is
/// abandoned.
pub const GIVE_UP_AFTER: Duration = Duration::hours(24);

/// The actor recorded on outbox events.
pub const ACTOR: &str = "notify";

/// How long to wait after `attempts` failed attempts (1 min, 2, 4, …, 1 h).
pub fn backoff(attempts: u32) -> Duration {
    if attempts == 0 {
        return Duration::ZERO;
    }
    let doublings = (attempts - 1).min(10);
    (FIRST_RETRY * (1i32 << doublings)).min(MAX_RETRY)
}

/// When a queued notification is next due.
pub fn due_at(row: &NotificationRow) -> OffsetDateTime {
    match row.last_attempt_at {
        Some(last) if row.attempts > 0 => last + backoff(row.attempts),
        _ => row.queued_at,
    }
}

/// Queue `n` for every target that wants it. Returns the outbox ids with
/// their targets, in target order; nothing when no target wants it.
pub fn queue(
    cat: &mut Catalog,
    targets: &[Notify],
    n: &Notification,
    now: OffsetDateTime,
) -> Result<Vec<(String, String)>, NotifyError> {
    let notice = serde_json::to_value(n).expect("notifications serialise");
    let first = cat.next_notification_id()?;
    let first: u64 = first
        .strip_prefix("N-")
        .and_then(|d| d.parse().ok())
        .unwrap_or(1);
    let mut ids = Vec::new();
    let mut events = Vec::new();
    let wanting = targets.iter().filter(|t| t.wants(n.notice.event()));
    for (number, t) in (first..).zip(wanting) {
        let id = format!("N-{number:06}");
        events.push(Event::NotificationQueued {
            id: id.clone(),
            target: t.name.clone(),
            notice: notice.clone(),
        });
        ids.push((id, t.name.clone()));
    }
    cat.record_all(now, ACTOR, events)?;
    Ok(ids)
}

/// What one delivery attempt came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Delivered.
    Sent,
    /// Not delivered; tried again from `retry_at`.
    Failed {
        /// Why (never holds a secret).
        reason: String,
        /// When the next pass may try again.
        #[serde(with = "time::serde::rfc3339")]
        retry_at: OffsetDateTime,
    },
    /// Given up.
    Abandoned {
        /// Why.
        reason: String,
    },
}

/// One notification handled by a pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The outbox id.
    pub id: String,
    /// The target's name.
    pub target: String,
    /// Which attempt this was (0 when abandoned without one).
    pub attempt: u32,
    /// What happened (flattened in JSON: `"outcome": "sent"`, …).
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Which queued notifications a pass looks at.
#[derive(Clone, Copy, Debug)]
pub enum Select<'a> {
    /// Those due at `now`.
    Due,
    /// These ids, at once and once: a failure is abandoned, not retried
    /// (`hokan notify test`: a test arriving hours later would mislead).
    Now(&'a [String]),
}

/// Send what is due at `now` (see the module documentation), recording
/// every outcome. A catalog error stops the pass; a failed send does not.
pub fn deliver(
    cat: &mut Catalog,
    targets: &[Notify],
    select: Select<'_>,
    now: OffsetDateTime,
) -> Result<Vec<Delivery>, NotifyError> {
    let mut out = Vec::new();
    for row in cat.notifications(true)? {
        let chosen = match select {
            Select::Due => due_at(&row) <= now,
            Select::Now(ids) => ids.contains(&row.id),
        };
        let too_old = now >= row.queued_at + GIVE_UP_AFTER;
        let target = targets.iter().find(|t| t.name == row.target);
        let Some(target) = target else {
            if chosen || too_old {
                let reason = format!("target {} is no longer in hokan.toml", row.target);
                out.push(abandon(cat, &row, reason, now)?);
            }
            continue;
        };
        if !chosen {
            if too_old && row.attempts > 0 {
                let reason = format!(
                    "not delivered within {} h; last error: {}",
                    GIVE_UP_AFTER.whole_hours(),
                    row.last_error.as_deref().unwrap_or("none")
                );
                out.push(abandon(cat, &row, reason, now)?);
            }
            continue;
        }
        let attempt = row.attempts + 1;
        let result = serde_json::from_value::<Notification>(row.notice.clone())
            .map_err(SendError::Unreadable)
            .and_then(|n| send::send(target, &row.id, &n, now));
        match result {
            Ok(()) => {
                cat.record(
                    now,
                    ACTOR,
                    Event::NotificationSent {
                        id: row.id.clone(),
                        target: row.target.clone(),
                        attempt,
                    },
                )?;
                tracing::info!(id = %row.id, target = %row.target, attempt, "notification sent");
                out.push(Delivery {
                    id: row.id,
                    target: row.target,
                    attempt,
                    outcome: Outcome::Sent,
                });
            }
            Err(e) => {
                let reason = crate::chain(&e);
                tracing::warn!(id = %row.id, target = %row.target, attempt, %reason, "notification not sent");
                cat.record(
                    now,
                    ACTOR,
                    Event::NotificationFailed {
                        id: row.id.clone(),
                        target: row.target.clone(),
                        attempt,
                        reason: reason.clone(),
                    },
                )?;
                let once = matches!(select, Select::Now(_));
                if too_old || once {
                    let why = if once {
                        format!("sent once, not retried: {reason}")
                    } else {
                        format!(
                            "not delivered within {} h; last error: {reason}",
                            GIVE_UP_AFTER.whole_hours()
                        )
                    };
                    let mut d = abandon(cat, &row, why, now)?;
                    d.attempt = attempt;
                    out.push(d);
                } else {
                    out.push(Delivery {
                        id: row.id,
                        target: row.target,
                        attempt,
                        outcome: Outcome::Failed {
                            reason,
                            retry_at: now + backoff(attempt),
                        },
                    });
                }
            }
        }
    }
    Ok(out)
}

fn abandon(
    cat: &mut Catalog,
    row: &NotificationRow,
    reason: String,
    now: OffsetDateTime,
) -> Result<Delivery, NotifyError> {
    cat.record(
        now,
        ACTOR,
        Event::NotificationAbandoned {
            id: row.id.clone(),
            target: row.target.clone(),
            reason: reason.clone(),
        },
    )?;
    tracing::warn!(id = %row.id, target = %row.target, %reason, "notification abandoned");
    Ok(Delivery {
        id: row.id.clone(),
        target: row.target.clone(),
        attempt: 0,
        outcome: Outcome::Abandoned { reason },
    })
}
