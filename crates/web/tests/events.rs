//! The event log's verify button checks what `hokan catalog verify`
//! checks: an event rewritten with SQL by someone who owns the server is
//! found, and the page says the catalog does not verify.

mod common;

use common::{login, send, PW};
use hokan_catalog::{Catalog, Event};
use hokan_offline::{Attestation, Claim};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-24 08:00 +9);

#[tokio::test]
async fn the_verify_button_finds_an_event_rewritten_with_sql() {
    let dir = common::plain_site("検証病院");
    let db = dir.path().join("catalog.db");
    let mut cat = Catalog::open(&db).unwrap();
    cat.record(
        NOW - Duration::days(1),
        "attest --by 山田",
        Event::Attested {
            attestation: Attestation {
                id: cat.next_attestation_id().unwrap(),
                claim: Claim::NetworkSegmented { autoloader: None },
                by: "山田".into(),
                evidence: "VLAN review".into(),
                valid_from: NOW - Duration::days(1),
                expires_at: NOW + Duration::days(300),
                withdrawn_at: None,
            },
        },
    )
    .unwrap();
    drop(cat);
    let root = dir.path().to_owned();
    let app = common::app_at(dir, root.join("hokan.toml"), Some(NOW));
    let (viewer, csrf) = login(&app, "viewer", PW).await.ok().unwrap();
    let form = format!("csrf={csrf}");
    let a = send(&app, "POST", "/events/verify", &viewer, &form).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("The chain verifies"), "{}", a.body);

    // Root on the server drops the append-only trigger and rewrites who
    // signed the attestation.
    let conn = rusqlite::Connection::open(root.join("catalog.db")).unwrap();
    conn.execute("DROP TRIGGER events_no_update", []).unwrap();
    let n = conn
        .execute(
            "UPDATE events SET body = replace(body, '山田', '佐藤') WHERE kind = 'attested'",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    let a = send(&app, "POST", "/events/verify", &viewer, &form).await;
    assert!(a.body.contains("The catalog does not verify"), "{}", a.body);
    assert!(!a.body.contains("The chain verifies"));
}
