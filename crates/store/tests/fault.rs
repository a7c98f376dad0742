//! FaultStore injects exactly the failures it is asked for.

use std::sync::atomic::{AtomicU64, Ordering};

use hokan_repo::store::{ObjectKind, Store, StoreError};
use hokan_store::{FaultStats, FaultStore, MemStore};

fn store() -> FaultStore<MemStore> {
    let store = FaultStore::new(MemStore::new());
    store.create().unwrap();
    store
}

fn is_no_space(result: Result<(), StoreError>, want_name: &str) -> bool {
    matches!(result, Err(StoreError::NoSpace { ref name, .. }) if name == want_name)
}

#[test]
fn puts_fail_after_the_countdown() {
    let store = store();
    store.fail_puts_after(2);
    store.put(ObjectKind::Pack, "aa01", b"one").unwrap();
    store.put(ObjectKind::Pack, "aa02", b"two").unwrap();
    assert!(is_no_space(
        store.put(ObjectKind::Pack, "aa03", b"three"),
        "aa03"
    ));
    assert!(is_no_space(store.put(ObjectKind::Key, "k1", b"k"), "k1"));
    assert_eq!(store.inner().object_count(), 2, "failed puts write nothing");
    assert_eq!(
        store.stats(),
        FaultStats {
            puts: 2,
            put_bytes: 6,
            failed_puts: 2,
            failed_gets: 0
        }
    );
    store.clear_faults();
    store.put(ObjectKind::Pack, "aa03", b"three").unwrap();
}

#[test]
fn zero_countdown_fails_the_first_put() {
    let store = store();
    store.fail_puts_after(0);
    assert!(is_no_space(store.put(ObjectKind::Lock, "l1", b""), "l1"));
}

#[test]
fn byte_budget_behaves_like_a_filling_disk() {
    let store = store();
    store.fail_after_bytes(100);
    store.put(ObjectKind::Pack, "aa01", &[0; 60]).unwrap();
    // 60 + 50 > 100: refused, and uses none of the budget.
    assert!(is_no_space(
        store.put(ObjectKind::Pack, "aa02", &[0; 50]),
        "aa02"
    ));
    // A smaller object still fits, exactly to the byte.
    store.put(ObjectKind::Pack, "aa03", &[0; 40]).unwrap();
    assert!(is_no_space(
        store.put(ObjectKind::Pack, "aa04", &[0; 1]),
        "aa04"
    ));
    // Empty objects need no space.
    store.put(ObjectKind::Pack, "aa05", &[]).unwrap();
    let stats = store.stats();
    assert_eq!(
        (stats.puts, stats.put_bytes, stats.failed_puts),
        (3, 100, 2)
    );
}

#[test]
fn a_put_the_inner_store_refuses_gives_its_bytes_back() {
    let store = store();
    store.fail_after_bytes(10);
    store.put(ObjectKind::Pack, "aa01", &[1; 5]).unwrap();
    assert!(matches!(
        store.put(ObjectKind::Pack, "aa01", &[2; 5]),
        Err(StoreError::AlreadyExists { .. })
    ));
    store.put(ObjectKind::Pack, "aa02", &[3; 5]).unwrap();
}

#[test]
fn byte_budget_holds_under_concurrency() {
    // 8 threads race 10-byte puts against a 250-byte budget: exactly 25 win.
    let store = store();
    store.fail_after_bytes(250);
    let next = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..10 {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let _ = store.put(ObjectKind::Pack, &format!("{i:04}"), &[0; 10]);
                }
            });
        }
    });
    let stats = store.stats();
    assert_eq!(
        (stats.puts, stats.put_bytes, stats.failed_puts),
        (25, 250, 55)
    );
    assert_eq!(store.inner().object_count(), 25);
}

#[test]
fn gets_of_one_object_fail() {
    let store = store();
    store.put(ObjectKind::Pack, "aa01", b"bad sector").unwrap();
    store.put(ObjectKind::Pack, "aa02", b"fine").unwrap();
    store.fail_gets_matching(ObjectKind::Pack, "aa01");
    for result in [
        store.get(ObjectKind::Pack, "aa01"),
        store.get_range(ObjectKind::Pack, "aa01", 0, 3),
    ] {
        match result {
            Err(e @ StoreError::Io { .. }) => {
                assert!(!e.is_transient());
                assert!(e.to_string().contains("aa01"), "{e}");
            }
            other => panic!("want an injected Io error, got {other:?}"),
        }
    }
    assert_eq!(store.get(ObjectKind::Pack, "aa02").unwrap(), b"fine");
    // Listing and deleting are unaffected.
    assert_eq!(store.list(ObjectKind::Pack).unwrap().len(), 2);
    assert_eq!(store.stats().failed_gets, 2);
    store.clear_faults();
    assert_eq!(store.get(ObjectKind::Pack, "aa01").unwrap(), b"bad sector");
}

#[test]
fn errors_name_the_inner_store() {
    let store = store();
    store.fail_puts_after(0);
    match store.put(ObjectKind::Index, "ab", b"x") {
        Err(StoreError::NoSpace { store: s, .. }) => assert_eq!(s, store.inner().describe()),
        other => panic!("{other:?}"),
    }
}
