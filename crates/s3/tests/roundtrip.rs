//! The Store contract on moto: a plain round trip, put-once, and the
//! conformance suite of hokan-store (on a plain bucket in full; on a locked
//! bucket every check but plain deletion, which object lock refuses).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use hokan_repo::store::{ObjectInfo, ObjectKind, Store, StoreError};
use hokan_store::conformance;

use common::*;

#[test]
fn round_trip_on_an_unlocked_bucket() {
    let server = moto();
    let store = plain_store(&server, "plain");
    store.create().unwrap();
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    store.put(ObjectKind::Pack, "ab12", &data).unwrap();
    store.put(ObjectKind::Snapshot, "s1", b"snapshot").unwrap();
    assert_eq!(store.get(ObjectKind::Pack, "ab12").unwrap(), data);
    assert_eq!(
        store.get_range(ObjectKind::Pack, "ab12", 100, 50).unwrap(),
        &data[100..150]
    );
    assert_eq!(
        store
            .get_range(ObjectKind::Pack, "ab12", 4990, 100)
            .unwrap(),
        &data[4990..]
    );
    assert!(store
        .get_range(ObjectKind::Pack, "ab12", 6000, 10)
        .unwrap()
        .is_empty());
    assert_eq!(
        store.list(ObjectKind::Pack).unwrap(),
        vec![ObjectInfo {
            name: "ab12".into(),
            size: 5000
        }]
    );
    // Same key layout as LocalStore: data/<ab>/<name>.
    assert_eq!(store.key(ObjectKind::Pack, "ab12"), "data/ab/ab12");
    let listed = store
        .block_on(store.client().list_objects_v2().bucket("plain").send())
        .unwrap();
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort();
    assert_eq!(keys, ["data/ab/ab12", "snapshots/s1"]);

    // Put never replaces.
    match store.put(ObjectKind::Pack, "ab12", b"other") {
        Err(StoreError::AlreadyExists { kind, name, .. }) => {
            assert_eq!((kind, name.as_str()), (ObjectKind::Pack, "ab12"))
        }
        other => panic!("second put: want AlreadyExists, got {other:?}"),
    }
    assert_eq!(store.get(ObjectKind::Pack, "ab12").unwrap(), data);

    store.delete(ObjectKind::Pack, "ab12").unwrap();
    assert!(store
        .get(ObjectKind::Pack, "ab12")
        .unwrap_err()
        .is_not_found());
    assert!(store.list(ObjectKind::Pack).unwrap().is_empty());
    assert!(store
        .delete(ObjectKind::Pack, "ab12")
        .unwrap_err()
        .is_not_found());
}

#[test]
fn prefix_keeps_the_repository_in_its_folder() {
    let server = moto();
    server.create_plain_bucket("shared").unwrap();
    let mut cfg = server.config("shared");
    cfg.lock = None;
    cfg.prefix = Some("hospital-a/".into());
    let a = connect(cfg.clone());
    cfg.prefix = Some("hospital-b".into());
    let b = connect(cfg);
    a.put(ObjectKind::Key, "k1", b"a").unwrap();
    b.put(ObjectKind::Key, "k1", b"b").unwrap();
    assert_eq!(a.key(ObjectKind::Key, "k1"), "hospital-a/keys/k1");
    assert_eq!(a.get(ObjectKind::Key, "k1").unwrap(), b"a");
    assert_eq!(b.get(ObjectKind::Key, "k1").unwrap(), b"b");
    assert_eq!(a.list(ObjectKind::Key).unwrap().len(), 1);
    assert_eq!(
        a.describe(),
        format!("s3://shared/hospital-a at {}", server.endpoint())
    );
}

#[test]
fn conformance_on_a_plain_bucket() {
    let server = moto();
    let n = AtomicU32::new(0);
    conformance::check_store(&|| {
        let bucket = format!("plain-{}", n.fetch_add(1, Ordering::SeqCst));
        Box::new(plain_store(&server, &bucket))
    });
}

#[test]
fn conformance_on_a_versioned_unlocked_bucket() {
    let server = moto();
    let n = AtomicU32::new(0);
    conformance::check_store(&|| {
        let bucket = format!("versioned-{}", n.fetch_add(1, Ordering::SeqCst));
        server.create_plain_bucket(&bucket).unwrap();
        server.put_versioning(&bucket, true).unwrap();
        let mut cfg = server.config(&bucket);
        cfg.lock = None;
        Box::new(connect(cfg))
    });
}

#[test]
fn conformance_on_a_locked_bucket() {
    let server = moto();
    let n = AtomicU32::new(0);
    let make = || -> Box<dyn Store> {
        let bucket = format!("locked-{}", n.fetch_add(1, Ordering::SeqCst));
        Box::new(locked_store(&server, &bucket))
    };
    let mut ran = 0;
    for (name, check) in conformance::CHECKS {
        // Deleting a locked object is refused by design (tests/lock.rs).
        if *name == "delete, then not found" {
            continue;
        }
        conformance::run_check(&make, name, *check);
        ran += 1;
    }
    assert_eq!(ran, conformance::CHECKS.len() - 1);
}

#[test]
fn a_bucket_takes_as_many_puts_at_once_as_its_concurrency_and_a_folder_one() {
    let server = moto();
    let mut cfg = server.config("any");
    cfg.lock = None;
    cfg.concurrency = 16;
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(connect(cfg));
    assert_eq!(store.parallel_writes(), 16);
    // Through another Arc, as the engine holds it.
    assert_eq!(std::sync::Arc::new(store).parallel_writes(), 16);
    // Asking touches nothing: the folder need not exist.
    let folder = hokan_store::LocalStore::new("/nonexistent/hokan-repo");
    assert_eq!(folder.parallel_writes(), 1);
}
