//! Alerts on the morning page: the notifications of the last two weeks
//! stay there, with what they said and where they went, until an operator
//! acknowledges them; the acknowledgement is in the catalog with the
//! person's name and note. A viewer sees them and cannot acknowledge.

mod common;

use common::{login, send, PW};
use hokan_catalog::{Catalog, Event};
use hokan_notify::{JobOutcome, Notice};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-24 08:00 +9);

fn failed(target: &str, at: OffsetDateTime) -> serde_json::Value {
    serde_json::to_value(Notice::JobFailed {
        job: "night".into(),
        target: target.into(),
        outcome: JobOutcome::Failed,
        at,
        reason: None,
    })
    .unwrap()
}

fn acks(dir: &std::path::Path) -> Vec<(String, Event)> {
    Catalog::open_existing(&dir.join("catalog.db"))
        .unwrap()
        .events(1000, false)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.event, Event::AlertAcknowledged { .. }))
        .map(|e| (e.actor, e.event))
        .collect()
}

#[tokio::test]
async fn alerts_stay_on_the_morning_page_until_an_operator_acknowledges_them() {
    let dir = common::plain_site("通知病院");
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let last_night = NOW - Duration::hours(8);
    let long_ago = NOW - Duration::days(20);
    // Last night's failure, to two targets; a failure three weeks ago.
    cat.record_all(
        long_ago,
        "run",
        vec![Event::NotificationQueued {
            id: "N-000001".into(),
            target: "mail".into(),
            notice: failed("OLD-NIGHT", long_ago),
        }],
    )
    .unwrap();
    cat.record_all(
        last_night,
        "run",
        vec![
            Event::NotificationQueued {
                id: "N-000002".into(),
                target: "mail".into(),
                notice: failed("テスト病院", last_night),
            },
            Event::NotificationQueued {
                id: "N-000003".into(),
                target: "chat".into(),
                notice: failed("テスト病院", last_night),
            },
        ],
    )
    .unwrap();
    cat.record(
        last_night + Duration::minutes(1),
        "run",
        Event::NotificationSent {
            id: "N-000002".into(),
            target: "mail".into(),
            attempt: 1,
        },
    )
    .unwrap();
    drop(cat);
    let root = dir.path().to_owned();
    let app = common::app_at(dir, root.join("hokan.toml"), Some(NOW));

    // The viewer sees the alert once, both targets, no button.
    let (viewer, vcsrf) = login(&app, "viewer", PW).await.ok().unwrap();
    let page = send(&app, "GET", "/?lang=en", &viewer, "").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Alerts not yet acknowledged"),
        "{}",
        page.body
    );
    assert_eq!(
        page.body.matches("job failed: night テスト病院").count(),
        1,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("mail: sent") && page.body.contains("chat: queued"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("OLD-NIGHT"), "older than two weeks");
    assert!(!page.body.contains("/alerts/acknowledge"));
    let form = format!("csrf={vcsrf}&ids=N-000002,N-000003");
    assert_eq!(
        send(&app, "POST", "/alerts/acknowledge", &viewer, &form)
            .await
            .status,
        403
    );

    // The operator: an unknown alert is refused; then acknowledged.
    let (op, csrf) = login(&app, "operator", PW).await.ok().unwrap();
    let page = send(&app, "GET", "/", &op, "").await;
    assert!(
        page.body.contains("value=\"N-000002,N-000003\""),
        "{}",
        page.body
    );
    let a = send(
        &app,
        "POST",
        "/alerts/acknowledge",
        &op,
        &format!("csrf={csrf}&ids=N-999999"),
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("N-999999"));
    assert!(acks(&root).is_empty());
    let form = format!("csrf={csrf}&ids=N-000002,N-000003&note=disk+replaced,+night+re-run");
    let a = send(&app, "POST", "/alerts/acknowledge", &op, &form).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let page = send(&app, "GET", "/", &op, "").await;
    assert!(
        !page.body.contains("Alerts not yet acknowledged"),
        "{}",
        page.body
    );
    let got = acks(&root);
    assert_eq!(got.len(), 2);
    for (actor, e) in &got {
        assert_eq!(actor, "hokan web (operator)");
        let Event::AlertAcknowledged { by, note, .. } = e else {
            unreachable!()
        };
        assert_eq!(by.to_string(), "operator");
        assert_eq!(note.as_deref(), Some("disk replaced, night re-run"));
    }
}
