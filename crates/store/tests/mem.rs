//! MemStore's test-only powers: protection and tampering.

use hokan_repo::store::{ObjectKind, Protection, Store, StoreError};
use hokan_store::MemStore;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn protected_objects_cannot_be_deleted() {
    let store = MemStore::new();
    let future = Protection::Until {
        unix_secs: now() + 3600,
        bypassable: false,
    };
    for (name, protection) in [("aa01", Protection::Indefinite), ("aa02", future)] {
        store.put(ObjectKind::Pack, name, b"keep me").unwrap();
        store.protect(ObjectKind::Pack, name, protection).unwrap();
        assert_eq!(
            store.protection(ObjectKind::Pack, name).unwrap(),
            protection
        );
        match store.delete(ObjectKind::Pack, name) {
            Err(StoreError::Protected { name: n, .. }) => assert_eq!(n, name),
            other => panic!("want Protected, got {other:?}"),
        }
        assert_eq!(store.get(ObjectKind::Pack, name).unwrap(), b"keep me");
    }
}

#[test]
fn expired_retention_protects_nothing() {
    let store = MemStore::new();
    store.put(ObjectKind::Snapshot, "ab", b"old").unwrap();
    let past = Protection::Until {
        unix_secs: now() - 1,
        bypassable: true,
    };
    store.protect(ObjectKind::Snapshot, "ab", past).unwrap();
    assert_eq!(
        store.protection(ObjectKind::Snapshot, "ab").unwrap(),
        Protection::None
    );
    store.delete(ObjectKind::Snapshot, "ab").unwrap();
}

#[test]
fn unknown_protection_is_reported_but_does_not_block() {
    let store = MemStore::new();
    store.put(ObjectKind::Lock, "l1", b"").unwrap();
    store
        .protect(ObjectKind::Lock, "l1", Protection::Unknown)
        .unwrap();
    assert_eq!(
        store.protection(ObjectKind::Lock, "l1").unwrap(),
        Protection::Unknown
    );
    store.delete(ObjectKind::Lock, "l1").unwrap();
}

#[test]
fn protecting_a_missing_object_is_not_found() {
    let store = MemStore::new();
    let err = store
        .protect(ObjectKind::Key, "k", Protection::Indefinite)
        .unwrap_err();
    assert!(err.is_not_found());
}

#[test]
fn tampering_changes_the_bytes() {
    let store = MemStore::new();
    store.put(ObjectKind::Pack, "aa01", b"good").unwrap();
    store
        .tamper(ObjectKind::Pack, "aa01", |d| d[0] ^= 0xff)
        .unwrap();
    assert_ne!(store.get(ObjectKind::Pack, "aa01").unwrap(), b"good");
    assert!(store
        .tamper(ObjectKind::Pack, "aa02", |_| ())
        .unwrap_err()
        .is_not_found());
}

#[test]
fn stores_describe_themselves_differently() {
    assert_ne!(MemStore::new().describe(), MemStore::new().describe());
}
