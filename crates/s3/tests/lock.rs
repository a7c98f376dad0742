//! Object lock on a locked moto bucket: every put is locked, deletes are
//! refused with the date, versions survive raw deletes and overwrites, and
//! extend_lock only ever moves the date later.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use hokan_repo::store::{ObjectKind, Protection, Store, StoreError};
use hokan_s3::{Extended, LockMode};
use time::OffsetDateTime;

use common::*;

const DAY: i64 = 86_400;

#[test]
fn every_put_is_locked_in_compliance_until_now_plus_retention() {
    let server = moto();
    let store = locked_store(&server, "locked");
    store.create().unwrap();
    let before = now();
    let objects = [
        (ObjectKind::Config, "config".to_string()),
        (ObjectKind::Key, "k1".to_string()),
        (ObjectKind::Snapshot, "s1".to_string()),
        (ObjectKind::Index, "i1".to_string()),
        (ObjectKind::Pack, "ab01".to_string()),
    ];
    for (kind, name) in &objects {
        store.put(*kind, name, b"locked data").unwrap();
    }
    // A multipart object (above the 8 MiB threshold) too.
    let big = vec![7u8; 12 * 1024 * 1024];
    store.put(ObjectKind::Pack, "cd02", &big).unwrap();
    let after = now();
    for (kind, name) in objects
        .iter()
        .chain([&(ObjectKind::Pack, "cd02".to_string())])
    {
        let state = store.object_lock(*kind, name).unwrap();
        assert_eq!(
            state.mode,
            Some(LockMode::Compliance),
            "{kind} {name}: {state:?}"
        );
        let until = state.retain_until.expect("retain-until").unix_timestamp();
        assert!(
            until >= before + DAY && until <= after + DAY + 1,
            "{kind} {name}: retain until {until}, want about now + 1 day ({})",
            before + DAY
        );
        assert!(state.version_id.is_some(), "{kind} {name}: no version id");
        match store.protection(*kind, name).unwrap() {
            Protection::Until {
                unix_secs,
                bypassable: false,
            } => assert_eq!(unix_secs, until),
            other => panic!("{kind} {name}: protection {other:?}"),
        }
    }
    assert_eq!(store.get(ObjectKind::Pack, "cd02").unwrap(), big);
    // Lock objects of running operations are written without retention so
    // they can be removed when the operation ends.
    store.put(ObjectKind::Lock, "host-1", b"lock").unwrap();
    assert_eq!(
        store.protection(ObjectKind::Lock, "host-1").unwrap(),
        Protection::None
    );
    store.delete(ObjectKind::Lock, "host-1").unwrap();
    assert!(store
        .get(ObjectKind::Lock, "host-1")
        .unwrap_err()
        .is_not_found());
}

#[test]
fn delete_of_a_locked_object_is_protected_and_versions_survive() {
    let server = moto();
    let store = locked_store(&server, "locked");
    store.create().unwrap();
    store
        .put(ObjectKind::Snapshot, "snap", b"original")
        .unwrap();
    let state = store.object_lock(ObjectKind::Snapshot, "snap").unwrap();
    let until = state.retain_until.unwrap();

    match store.delete(ObjectKind::Snapshot, "snap") {
        Err(StoreError::Protected { why, .. }) => {
            let date = until
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            assert!(why.contains("COMPLIANCE"), "{why}");
            assert!(
                why.contains(&date),
                "reason {why:?} must name the date {date}"
            );
        }
        other => panic!("delete of a locked object: want Protected, got {other:?}"),
    }
    assert_eq!(
        store.get(ObjectKind::Snapshot, "snap").unwrap(),
        b"original"
    );
    // No delete marker was added: the object is still the current version.
    let key = store.key(ObjectKind::Snapshot, "snap");
    let client = store.client().clone();
    let versions = store
        .block_on(
            client
                .list_object_versions()
                .bucket("locked")
                .prefix(&key)
                .send(),
        )
        .unwrap();
    assert!(versions.delete_markers().is_empty(), "{versions:?}");

    // Deleting the version with the raw client fails, through our helper too.
    let version = state.version_id.clone().unwrap();
    let raw = store.block_on(
        client
            .delete_object()
            .bucket("locked")
            .key(&key)
            .version_id(&version)
            .send(),
    );
    assert!(raw.is_err(), "raw delete of a locked version succeeded");
    let err = store
        .delete_version(ObjectKind::Snapshot, "snap", &version, false)
        .unwrap_err();
    assert!(err.is_access_denied(), "{err}");
    let err = store
        .delete_version(ObjectKind::Snapshot, "snap", &version, true)
        .unwrap_err();
    assert!(
        err.is_access_denied(),
        "compliance must ignore bypass: {err}"
    );
    assert_eq!(
        store.get(ObjectKind::Snapshot, "snap").unwrap(),
        b"original"
    );

    // Overwriting with the raw client adds a version; the original stays
    // readable by its version id.
    let md5 = {
        use base64::Engine as _;
        use md5::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b"overwritten"))
    };
    store
        .block_on(
            client
                .put_object()
                .bucket("locked")
                .key(&key)
                .content_md5(md5)
                .body(ByteStream::from_static(b"overwritten"))
                .send(),
        )
        .unwrap();
    assert_eq!(
        store.get(ObjectKind::Snapshot, "snap").unwrap(),
        b"overwritten"
    );
    let old = store
        .block_on(async {
            let out = client
                .get_object()
                .bucket("locked")
                .key(&key)
                .version_id(&version)
                .send()
                .await?;
            Ok::<_, Box<dyn std::error::Error>>(out.body.collect().await?.into_bytes())
        })
        .unwrap();
    assert_eq!(&old[..], b"original");
}

#[test]
fn extend_lock_moves_the_date_later_never_earlier() {
    let server = moto();
    let store = locked_store(&server, "locked");
    store.put(ObjectKind::Index, "idx", b"index").unwrap();
    let first = store.object_lock(ObjectKind::Index, "idx").unwrap();
    let first_until = first.retain_until.unwrap();

    let later = OffsetDateTime::now_utc() + time::Duration::days(10);
    match store.extend_lock(ObjectKind::Index, "idx", later).unwrap() {
        Extended::Extended { from, to } => {
            assert_eq!(from, Some(first_until));
            assert!(to >= later && to.unix_timestamp() - later.unix_timestamp() <= 1);
        }
        other => panic!("want Extended, got {other:?}"),
    }
    let state = store.object_lock(ObjectKind::Index, "idx").unwrap();
    let extended = state.retain_until.unwrap();
    assert!(
        extended > first_until + time::Duration::days(8),
        "{state:?}"
    );
    assert_eq!(state.mode, Some(LockMode::Compliance));
    assert_eq!(state.version_id, first.version_id, "same version extended");

    // Asking for an earlier date leaves the later one.
    let earlier = OffsetDateTime::now_utc() + time::Duration::days(2);
    assert_eq!(
        store
            .extend_lock(ObjectKind::Index, "idx", earlier)
            .unwrap(),
        Extended::AlreadyLater { until: extended }
    );
    assert_eq!(
        store
            .object_lock(ObjectKind::Index, "idx")
            .unwrap()
            .retain_until,
        Some(extended)
    );
    // A missing object is NotFound.
    assert!(store
        .extend_lock(ObjectKind::Index, "missing", later)
        .unwrap_err()
        .is_not_found());
}
