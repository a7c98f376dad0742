//! Every store in this crate passes the conformance suite.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use hokan_repo::store::Store;
use hokan_store::conformance::check_store;
use hokan_store::{FaultStore, LocalStore, MemStore};

/// Temp files left in any repository under `base`, which must be none:
/// every put, successful or refused, cleans up after itself.
fn leftover_temp_files(base: &Path) -> Vec<String> {
    let mut left = Vec::new();
    for repo in std::fs::read_dir(base).unwrap() {
        let tmp = repo.unwrap().path().join(hokan_store::local::TEMP_DIR);
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            left.extend(entries.map(|e| e.unwrap().path().display().to_string()));
        }
    }
    left
}

#[test]
fn local_store_conforms() {
    let base = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    // Each check gets its own repository; the root does not exist yet, so
    // create() making it is covered too.
    check_store(&|| {
        let root = base
            .path()
            .join(format!("repo{}", n.fetch_add(1, Ordering::SeqCst)));
        Box::new(LocalStore::new(root)) as Box<dyn Store>
    });
    assert_eq!(leftover_temp_files(base.path()), Vec::<String>::new());
}

#[test]
fn mem_store_conforms() {
    check_store(&|| Box::new(MemStore::new()));
}

#[test]
fn fault_store_without_faults_conforms() {
    check_store(&|| Box::new(FaultStore::new(MemStore::new())));
}

#[test]
fn fault_store_over_local_store_conforms() {
    let base = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    check_store(&|| {
        let root = base
            .path()
            .join(format!("repo{}", n.fetch_add(1, Ordering::SeqCst)));
        Box::new(FaultStore::new(LocalStore::new(root))) as Box<dyn Store>
    });
}

/// The suite has teeth: a store with one flaw fails the check meant for it.
mod flawed_stores_are_caught {
    use std::panic::{self, AssertUnwindSafe};

    use hokan_repo::store::{ObjectInfo, ObjectKind, Protection, Store, StoreError};
    use hokan_store::conformance::{run_check, CHECKS};
    use hokan_store::MemStore;

    #[derive(Clone, Copy, PartialEq)]
    enum Flaw {
        /// A second put replaces the first.
        Overwrites,
        /// get_range ignores the offset.
        RangeFromStart,
        /// Listings drop the last object.
        ListDropsOne,
        /// Missing objects are an I/O error instead of NotFound.
        MissingIsIo,
        /// A deleted object can still be read.
        DeleteIsNoop,
    }

    struct Flawed {
        inner: MemStore,
        flaw: Flaw,
    }

    impl Store for Flawed {
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn create(&self) -> Result<(), StoreError> {
            self.inner.create()
        }
        fn put(&self, kind: ObjectKind, name: &str, data: &[u8]) -> Result<(), StoreError> {
            if self.flaw == Flaw::Overwrites {
                let _ = self.inner.delete(kind, name);
            }
            self.inner.put(kind, name, data)
        }
        fn get(&self, kind: ObjectKind, name: &str) -> Result<Vec<u8>, StoreError> {
            self.inner.get(kind, name).map_err(|e| self.fix(e))
        }
        fn get_range(
            &self,
            kind: ObjectKind,
            name: &str,
            offset: u64,
            len: u64,
        ) -> Result<Vec<u8>, StoreError> {
            let offset = if self.flaw == Flaw::RangeFromStart {
                0
            } else {
                offset
            };
            self.inner
                .get_range(kind, name, offset, len)
                .map_err(|e| self.fix(e))
        }
        fn list(&self, kind: ObjectKind) -> Result<Vec<ObjectInfo>, StoreError> {
            let mut list = self.inner.list(kind)?;
            if self.flaw == Flaw::ListDropsOne {
                list.pop();
            }
            Ok(list)
        }
        fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
            if self.flaw == Flaw::DeleteIsNoop {
                return self.inner.get(kind, name).map(|_| ());
            }
            self.inner.delete(kind, name).map_err(|e| self.fix(e))
        }
        fn protection(&self, kind: ObjectKind, name: &str) -> Result<Protection, StoreError> {
            self.inner.protection(kind, name).map_err(|e| self.fix(e))
        }
    }

    impl Flawed {
        fn fix(&self, e: StoreError) -> StoreError {
            match e {
                StoreError::NotFound { kind, name, store } if self.flaw == Flaw::MissingIsIo => {
                    StoreError::Io {
                        op: "read",
                        kind,
                        name,
                        store,
                        source: std::io::Error::other("no such object"),
                        transient: false,
                    }
                }
                other => other,
            }
        }
    }

    fn assert_caught(flaw: Flaw, check_name: &str) {
        let (_, check) = CHECKS
            .iter()
            .find(|(name, _)| *name == check_name)
            .unwrap_or_else(|| panic!("no check named {check_name:?}"));
        let make = move || {
            Box::new(Flawed {
                inner: MemStore::new(),
                flaw,
            }) as Box<dyn Store>
        };
        let caught =
            panic::catch_unwind(AssertUnwindSafe(|| run_check(&make, check_name, *check))).is_err();
        assert!(caught, "check {check_name:?} passed a flawed store");
    }

    #[test]
    fn overwriting_store() {
        assert_caught(Flaw::Overwrites, "put once: a second put is refused");
    }

    #[test]
    fn range_ignoring_store() {
        assert_caught(
            Flaw::RangeFromStart,
            "get_range inside, across and past the end",
        );
    }

    #[test]
    fn listing_dropping_store() {
        assert_caught(Flaw::ListDropsOne, "list shows exactly the objects put");
    }

    #[test]
    fn missing_as_io_store() {
        assert_caught(Flaw::MissingIsIo, "missing objects are not found");
    }

    #[test]
    fn delete_ignoring_store() {
        assert_caught(Flaw::DeleteIsNoop, "delete, then not found");
    }
}
