//! Network faults through FlakyProxy: a cut uplink gives transient errors,
//! never a half-written object, and the same put succeeds once it is back.

mod common;

use hokan_repo::store::{ObjectInfo, ObjectKind, Store, StoreError};
use hokan_s3::testing::FlakyProxy;

use common::*;

fn through_proxy(
    server: &hokan_s3::testing::MotoServer,
    proxy: &FlakyProxy,
    bucket: &str,
) -> hokan_s3::S3Store {
    server.create_locked_bucket(bucket).unwrap();
    let mut cfg = server.config(bucket);
    cfg.endpoint = Some(proxy.endpoint());
    connect(cfg)
}

fn assert_transient(result: Result<(), StoreError>) {
    match result {
        Err(
            e @ StoreError::Io {
                transient: true, ..
            },
        ) => {
            eprintln!("transient as expected: {e}");
            let source = std::error::Error::source(&e).expect("source kept");
            assert!(source.to_string().contains("s3://"), "{source}");
        }
        other => panic!("put through a cut network: want a transient Io error, got {other:?}"),
    }
}

#[test]
fn put_while_cut_is_transient_and_succeeds_after_restore() {
    let server = moto();
    let proxy = FlakyProxy::start(&server.endpoint()).unwrap();
    let store = through_proxy(&server, &proxy, "flaky");
    store.put(ObjectKind::Snapshot, "before", b"fine").unwrap();

    proxy.cut();
    let data = vec![42u8; 300_000];
    let attempts_before = proxy.connections();
    assert_transient(store.put(ObjectKind::Pack, "ab01", &data));
    assert!(
        proxy.connections() > attempts_before + 1,
        "the SDK should have retried ({} connections)",
        proxy.connections() - attempts_before
    );

    proxy.restore();
    // Nothing half-written is visible.
    assert!(store.list(ObjectKind::Pack).unwrap().is_empty());
    store.put(ObjectKind::Pack, "ab01", &data).unwrap();
    assert_eq!(
        store.list(ObjectKind::Pack).unwrap(),
        vec![ObjectInfo {
            name: "ab01".into(),
            size: data.len() as u64
        }]
    );
    assert_eq!(store.get(ObjectKind::Pack, "ab01").unwrap(), data);
    assert_eq!(store.get(ObjectKind::Snapshot, "before").unwrap(), b"fine");

    // Cut in the middle of a single PutObject's body: no partial object.
    proxy.cut_after(100_000);
    assert_transient(store.put(ObjectKind::Pack, "ab02", &data));
    proxy.restore();
    assert!(store
        .get(ObjectKind::Pack, "ab02")
        .unwrap_err()
        .is_not_found());
    assert_eq!(store.list(ObjectKind::Pack).unwrap().len(), 1);
    store.put(ObjectKind::Pack, "ab02", &data).unwrap();
    assert_eq!(store.get(ObjectKind::Pack, "ab02").unwrap(), data);
}

#[test]
fn multipart_upload_cut_midway_leaves_no_object() {
    let server = moto();
    let proxy = FlakyProxy::start(&server.endpoint()).unwrap();
    let store = through_proxy(&server, &proxy, "flaky");
    // 12 MiB: three parts of 5, 5 and 2 MiB; cut after 7 MiB went up.
    let data: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    proxy.cut_after(7 * 1024 * 1024);
    assert_transient(store.put(ObjectKind::Pack, "cd02", &data));
    assert!(proxy.is_cut());

    proxy.restore();
    assert!(store.list(ObjectKind::Pack).unwrap().is_empty());
    assert!(store
        .get(ObjectKind::Pack, "cd02")
        .unwrap_err()
        .is_not_found());
    store.put(ObjectKind::Pack, "cd02", &data).unwrap();
    assert_eq!(store.get(ObjectKind::Pack, "cd02").unwrap(), data);
    assert_eq!(
        store.list(ObjectKind::Pack).unwrap(),
        vec![ObjectInfo {
            name: "cd02".into(),
            size: data.len() as u64
        }]
    );
    // And it is locked like any other object.
    assert!(store
        .object_lock(ObjectKind::Pack, "cd02")
        .unwrap()
        .mode
        .is_some());
}

#[test]
fn reads_while_cut_are_transient() {
    let server = moto();
    let proxy = FlakyProxy::start(&server.endpoint()).unwrap();
    let store = through_proxy(&server, &proxy, "flaky");
    store.put(ObjectKind::Index, "i1", b"index").unwrap();
    proxy.cut();
    let err = store.get(ObjectKind::Index, "i1").unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let err = store.list(ObjectKind::Index).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    proxy.restore();
    assert_eq!(store.get(ObjectKind::Index, "i1").unwrap(), b"index");
}
