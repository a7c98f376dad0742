//! The bucket check and the enforcement probe against moto.

mod common;

use hokan_repo::store::{ObjectKind, Store};
use hokan_s3::{bucket_check, probe, LockMode, Versioning};

use common::*;

#[test]
fn bucket_check_on_a_locked_bucket() {
    let server = moto();
    let store = locked_store(&server, "locked");
    let report = bucket_check(&store).unwrap();
    eprintln!("{report:#?}");
    assert_eq!(report.versioning, Versioning::Enabled);
    assert!(report.object_lock_enabled);
    assert_eq!(report.default_retention, None);
    // moto does not check permissions: the test credentials may do anything,
    // and the check must say so loudly.
    assert_eq!(report.can_bypass_governance, Some(true));
    assert_eq!(report.can_change_lock_config, Some(true));
    assert!(report
        .warnings
        .iter()
        .any(|w| w.en.contains("DANGER") && w.en.contains("bypass GOVERNANCE")));
    assert!(report
        .warnings
        .iter()
        .any(|w| w.en.contains("DANGER") && w.en.contains("object lock configuration")));
    assert!(
        report.clock_skew_secs.is_some_and(|s| s.abs() <= 2),
        "{report:?}"
    );
    assert_eq!(report.conditional_put, Some(true));
    assert_eq!(report.lock_visible, Some(true));
    assert!(!report.warnings.iter().any(|w| w.en.contains("not enabled")));
    // Canaries stay out of every listing.
    for kind in ObjectKind::ALL {
        assert!(
            store.list(kind).unwrap().is_empty(),
            "{kind} lists a canary"
        );
    }
}

#[test]
fn bucket_check_on_a_plain_bucket_warns() {
    let server = moto();
    let store = plain_store(&server, "plain");
    let report = bucket_check(&store).unwrap();
    eprintln!("{report:#?}");
    assert_eq!(report.versioning, Versioning::Off);
    assert!(!report.object_lock_enabled);
    assert_eq!(report.can_bypass_governance, None);
    assert_eq!(report.can_change_lock_config, None);
    assert!(report
        .warnings
        .iter()
        .any(|w| w.en.contains("Object lock is not enabled") && w.en.contains("plain")));
    assert!(report
        .warnings
        .iter()
        .any(|w| w.en.contains("Versioning is off")));
    // The unlocked canary was removed again.
    let listed = store
        .block_on(store.client().list_objects_v2().bucket("plain").send())
        .unwrap();
    assert!(listed.contents().is_empty(), "{listed:?}");
}

#[test]
fn bucket_check_reports_a_default_retention_and_governance_writes() {
    let server = moto();
    server.create_locked_bucket("gov").unwrap();
    server
        .put_default_retention("gov", LockMode::Governance, 7)
        .unwrap();
    let mut cfg = server.config("gov");
    cfg.lock.as_mut().unwrap().mode = LockMode::Governance;
    let store = connect(cfg);
    let report = bucket_check(&store).unwrap();
    eprintln!("{report:#?}");
    let d = report.default_retention.expect("default retention");
    assert_eq!(
        (d.mode, d.days, d.years),
        (Some(LockMode::Governance), Some(7), None)
    );
    assert!(report
        .warnings
        .iter()
        .any(|w| w.en.contains("GOVERNANCE mode")));
    assert!(report
        .warnings
        .iter()
        .any(|w| w.en.contains("default retention")));
}

#[test]
fn probe_on_moto_reports_delete_refused_but_shorten_allowed() {
    let server = moto();
    let store = locked_store(&server, "locked");
    let report = probe(&store).unwrap();
    eprintln!("{report:#?}");
    assert!(report.canary_key.starts_with("hokan-probe/enforce-"));
    // moto 5.2: a locked version cannot be deleted...
    assert!(report.delete_version_refused, "{}", report.detail);
    // ...but a COMPLIANCE retention can be shortened.
    assert!(!report.shorten_refused, "{}", report.detail);
    assert!(!report.enforced());
    assert!(report.detail.contains("shortened"), "{}", report.detail);
    // The canary is still locked (its date was put back).
    let head = store
        .block_on(
            store
                .client()
                .head_object()
                .bucket("locked")
                .key(&report.canary_key)
                .send(),
        )
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    let until = head.object_lock_retain_until_date().unwrap().secs();
    assert!(until > now() + 86_400 - 120, "canary lock ends at {until}");
}

#[test]
fn probe_with_a_prefix_names_the_canary_under_it() {
    let server = moto();
    server.create_locked_bucket("locked").unwrap();
    let mut cfg = server.config("locked");
    cfg.prefix = Some("/site-a/repo/".into());
    let store = connect(cfg);
    let report = probe(&store).unwrap();
    assert!(
        report
            .canary_key
            .starts_with("site-a/repo/hokan-probe/enforce-"),
        "{}",
        report.canary_key
    );
}

#[test]
fn probe_on_a_plain_bucket_fails_with_lock_not_enabled() {
    let server = moto();
    let store = plain_store(&server, "plain");
    let err = probe(&store).unwrap_err();
    assert!(
        matches!(err, hokan_s3::S3Error::LockNotEnabled { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("plain"), "{err}");
}

#[test]
fn get_object_retention_on_moto() {
    // Documents why lock state is read from HeadObject: on moto 5.2
    // GetObjectRetention fails while HeadObject has the lock.
    let server = moto();
    let store = locked_store(&server, "locked");
    store.put(ObjectKind::Key, "k", b"key").unwrap();
    let key = store.key(ObjectKind::Key, "k");
    let got = store.block_on(
        store
            .client()
            .get_object_retention()
            .bucket("locked")
            .key(&key)
            .send(),
    );
    eprintln!("GetObjectRetention on moto: {got:?}");
    let state = store.object_lock(ObjectKind::Key, "k").unwrap();
    assert_eq!(state.mode, Some(LockMode::Compliance));
    if let Ok(out) = got {
        // If a later moto implements it, both must agree.
        let r = out.retention().expect("retention");
        assert_eq!(
            r.retain_until_date().map(|d| d.secs()),
            state.retain_until.map(|t| t.unix_timestamp())
        );
    }
}
