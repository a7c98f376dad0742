//! Attestations from the dashboard: an operator records one (signed with
//! the account's name, in the catalog with `hokan web (NAME)` as actor) and
//! withdraws it; a viewer sees them and cannot act; what `hokan attest`
//! refuses is refused here too, and nothing is recorded.

mod common;

use common::{hidden_csrf, login, send, PW};
use hokan_catalog::{Catalog, Event};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-24 08:00 +9);

fn attestations(dir: &std::path::Path) -> Vec<(String, Event)> {
    Catalog::open_existing(&dir.join("catalog.db"))
        .unwrap()
        .events(1000, false)
        .unwrap()
        .into_iter()
        .filter(|e| {
            matches!(
                e.event,
                Event::Attested { .. } | Event::AttestationWithdrawn { .. }
            )
        })
        .map(|e| (e.actor, e.event))
        .collect()
}

#[tokio::test]
async fn an_operator_attests_and_withdraws_a_viewer_cannot() {
    let dir = common::plain_site("証明病院");
    let root = dir.path().to_owned();
    let app = common::app_at(dir, root.join("hokan.toml"), Some(NOW));

    // The viewer: the page, no form; a post is refused.
    let (viewer, vcsrf) = login(&app, "viewer", PW).await.ok().unwrap();
    let page = send(&app, "GET", "/attestations", &viewer, "").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("No attestation is recorded"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("action=\"/attestations\""));
    let form = format!("csrf={vcsrf}&kind=network-segmented&subject=&evidence=x&until=365d");
    assert_eq!(
        send(&app, "POST", "/attestations", &viewer, &form)
            .await
            .status,
        403
    );

    // The operator: refusals first, each saying why, nothing recorded.
    let (op, csrf) = login(&app, "operator", PW).await.ok().unwrap();
    let page = send(&app, "GET", "/attestations", &op, "").await;
    assert!(page.body.contains("action=\"/attestations\""));
    assert_eq!(hidden_csrf(&page.body), csrf);
    for (form, says) in [
        (
            "kind=network-segmented&subject=&evidence=VLAN+review&until=2020-01-01",
            "has already passed",
        ),
        (
            "kind=network-segmented&subject=&evidence=VLAN+review&until=5000d",
            "too",
        ),
        (
            "kind=network-segmented&subject=&evidence=&until=365d",
            "needs who signs it and what shows it",
        ),
        (
            "kind=provider-isolation&subject=&evidence=contract&until=365d",
            "name it",
        ),
        (
            "kind=provider-isolation&subject=no-such-bucket&evidence=contract&until=365d",
            "no-such-bucket",
        ),
    ] {
        let a = send(
            &app,
            "POST",
            "/attestations",
            &op,
            &format!("csrf={csrf}&{form}"),
        )
        .await;
        assert_eq!(a.status, 400, "{form}: {}", a.body);
        assert!(a.body.contains(says), "{form}: {}", a.body);
    }
    assert!(attestations(&root).is_empty(), "nothing recorded");

    // Recorded, signed with the account's name.
    let form = format!(
        "csrf={csrf}&kind=network-segmented&subject=&evidence=VLAN+10+review+2026-11&until=2027-03-31"
    );
    let a = send(&app, "POST", "/attestations", &op, &form).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let page = send(&app, "GET", "/attestations", &op, "").await;
    assert!(
        page.body.contains("site-wide network segmentation"),
        "{}",
        page.body
    );
    assert!(page.body.contains("VLAN 10 review 2026-11"));
    assert!(
        page.body.contains("2027-04-01 00:00 +09:00"),
        "through that day: {}",
        page.body
    );
    assert!(page.body.contains(">holds<"), "{}", page.body);
    let got = attestations(&root);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "hokan web (operator)");
    let Event::Attested { attestation } = &got[0].1 else {
        panic!("{got:?}")
    };
    assert_eq!(attestation.by.to_string(), "operator");
    let id = attestation.id.to_string();

    // Withdrawn by the operator: it no longer holds.
    let form = format!("csrf={csrf}&id={id}&reason=VLAN+merged");
    let a = send(&app, "POST", "/attestations/withdraw", &op, &form).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let page = send(&app, "GET", "/attestations", &op, "").await;
    assert!(page.body.contains(">withdrawn<"), "{}", page.body);
    let got = attestations(&root);
    assert_eq!(got.len(), 2);
    assert!(
        matches!(&got[0].1, Event::AttestationWithdrawn { reason: Some(r), .. } if r == "VLAN merged")
    );
    // A viewer's withdrawal is refused.
    let form = format!("csrf={vcsrf}&id={id}");
    assert_eq!(
        send(&app, "POST", "/attestations/withdraw", &viewer, &form)
            .await
            .status,
        403
    );
    // The Japanese page.
    let page = send(&app, "GET", "/attestations?lang=ja", &op, "").await;
    assert!(page.body.contains("施設全体のネットワーク分割") && page.body.contains("取消済み"));
}

/// An attestation "until 9999-12-31T23:59:59Z" written straight into the
/// catalog (through the documented format, by someone who owns the server)
/// cannot be shown in +09:00: the page shows it in its own offset instead
/// of failing.
#[tokio::test]
async fn an_end_past_the_representable_time_in_the_sites_zone_is_shown_not_fatal() {
    let dir = common::plain_site("証明病院");
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let id = cat.next_attestation_id().unwrap();
    cat.record(
        NOW,
        "attest --by 山田",
        Event::Attested {
            attestation: hokan_offline::Attestation {
                id,
                claim: hokan_offline::Claim::NetworkSegmented { autoloader: None },
                by: "山田".into(),
                evidence: "forged".into(),
                valid_from: NOW,
                expires_at: datetime!(9999-12-31 23:59:59 UTC),
                withdrawn_at: None,
            },
        },
    )
    .unwrap();
    drop(cat);
    let root = dir.path().to_owned();
    let app = common::app_at(dir, root.join("hokan.toml"), Some(NOW));
    let (viewer, _) = login(&app, "viewer", PW).await.ok().unwrap();
    let page = send(&app, "GET", "/attestations", &viewer, "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("9999-12-31 23:59 +00:00"),
        "{}",
        page.body
    );
}
