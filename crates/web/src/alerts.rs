//! Alerts: what hokan told people (the notifications raised in the last
//! [`ALERT_DAYS`] days: a failed night, a site not compliant, a medium to
//! carry), shown on the morning page until a person acknowledges them.
//! An acknowledgement is an `alert-acknowledged` event in the catalog with
//! the person's name and what they did; the notification itself (sent,
//! failed, abandoned) is not changed.

use std::collections::{BTreeMap, HashMap, HashSet};

use hokan_catalog::{Catalog, Event, NotificationRow};
use hokan_offline::Text;
use maud::{html, Markup};
use time::{Duration, OffsetDateTime};

use crate::pages::{load_site, tr, when, Lang};
use crate::server::{Session, Shared};

/// How far back the morning page looks for alerts not yet acknowledged.
pub const ALERT_DAYS: i64 = 14;

/// One alert: the same notice raised at one instant, for every target it
/// went to.
pub(crate) struct Alert {
    /// The notifications (one per target).
    pub rows: Vec<NotificationRow>,
    /// What it said.
    pub notice: Option<hokan_notify::Notice>,
}

/// The alerts of the last [`ALERT_DAYS`] days no one has acknowledged,
/// newest first.
pub(crate) fn open_alerts(cat: &Catalog, now: OffsetDateTime) -> Vec<Alert> {
    let Ok(rows) = cat.notifications(false) else {
        return Vec::new();
    };
    let acknowledged: HashSet<String> = cat
        .events(usize::MAX, true)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| match e.event {
            Event::AlertAcknowledged { notification, .. } => Some(notification),
            _ => None,
        })
        .collect();
    let since = now - Duration::days(ALERT_DAYS);
    let mut grouped: BTreeMap<(OffsetDateTime, String), Vec<NotificationRow>> = BTreeMap::new();
    for r in rows {
        if r.queued_at < since || r.queued_at > now || acknowledged.contains(&r.id) {
            continue;
        }
        grouped
            .entry((r.queued_at, r.notice.to_string()))
            .or_default()
            .push(r);
    }
    grouped
        .into_values()
        .rev()
        .map(|rows| Alert {
            notice: serde_json::from_value(rows[0].notice.clone()).ok(),
            rows,
        })
        .collect()
}

fn state_word(l: Lang, r: &NotificationRow) -> String {
    use hokan_catalog::NotificationState as S;
    let (en, ja) = match r.state {
        S::Sent => ("sent", "送信済み"),
        S::Abandoned => ("not sent (given up)", "送信断念"),
        _ if r.attempts > 0 => ("not sent yet (retrying)", "未送信（再試行中）"),
        _ => ("queued", "送信待ち"),
    };
    format!("{}: {}", r.target, tr(l, en, ja))
}

/// The morning page's section: each alert with what it said, where it
/// went, and for operators a button to acknowledge it.
pub(crate) fn section(l: Lang, who: &Session, site: &hokan_site::Site, alerts: &[Alert]) -> Markup {
    let nl = match l {
        Lang::En => hokan_site::NotifyLang::En,
        Lang::Ja => hokan_site::NotifyLang::Ja,
    };
    let can_act = who.role >= crate::Role::Operator;
    html! {
        @if !alerts.is_empty() {
            h2 { (tr(l, "Alerts not yet acknowledged", "未確認の通知")) }
            ul.problems {
                @for a in alerts {
                    li.problem.warning {
                        @match &a.notice {
                            Some(n) => {
                                @let (headline, todo) = hokan_notify::Notification {
                                    site: site.name().to_owned(),
                                    host: String::new(),
                                    raised_at: a.rows[0].queued_at,
                                    notice: n.clone(),
                                }.task(nl);
                                strong { (headline) }
                                @for line in &todo { br; span.todo { "→ " (line) } }
                            },
                            None => strong { (a.rows[0].notice.to_string()) },
                        }
                        br;
                        span.small {
                            (when(a.rows[0].queued_at, site)) " · "
                            (a.rows.iter().map(|r| state_word(l, r)).collect::<Vec<_>>().join(", "))
                        }
                        @if can_act {
                            form.move method="post" action="/alerts/acknowledge" {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="hidden" name="ids" value=(a.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(","));
                                label { (tr(l, "what you did", "対応内容")) input name="note"; }
                                button { (tr(l, "Acknowledge", "確認済みにする")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Record that the logged-in operator acknowledged the notifications
/// `ids` (comma-separated) of `form`, with their note.
pub(crate) fn acknowledge(
    s: &Shared,
    who: &Session,
    form: &HashMap<String, String>,
) -> Result<(), Text> {
    let site = load_site(s).map_err(|e| Text::new(e.clone(), e))?;
    let ids: Vec<&str> = form
        .get("ids")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(Text::new("no alert given", "通知が指定されていません"));
    }
    let note = form
        .get("note")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let mut cat = Catalog::open_existing(site.catalog_path()).map_err(|e| e.text())?;
    let known: HashSet<String> = cat
        .notifications(false)
        .map_err(|e| e.text())?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if let Some(unknown) = ids.iter().find(|i| !known.contains(**i)) {
        return Err(Text::new(
            format!("no alert {unknown:?} was raised"),
            format!("通知 {unknown:?} はありません"),
        ));
    }
    let actor = format!("hokan web ({})", who.user);
    let events = ids
        .iter()
        .map(|id| Event::AlertAcknowledged {
            notification: (*id).to_owned(),
            by: who.user.as_str().into(),
            note: note.clone(),
        })
        .collect();
    cat.record_all(s.now(), &actor, events)
        .map_err(|e| e.text())?;
    tracing::info!("dashboard: {} acknowledged {}", who.user, ids.join(","));
    Ok(())
}
