//! [`FaultStore`]: a test double that makes any store fail on purpose.
//!
//! The engine's error paths — a disk filling up halfway through a backup, a
//! pack that cannot be read back — are the ones real users hit at the worst
//! moment and tests hit never. This wrapper makes them happen on cue, on top
//! of a [`crate::MemStore`] for speed or a [`crate::LocalStore`] for realism.
//!
//! Injected put failures happen *before* the inner store is touched, so they
//! behave like a well-behaved full disk: [`StoreError::NoSpace`] and nothing
//! written. Everything not injected passes through unchanged, including the
//! inner store's description, so error messages look the same as without the
//! wrapper (and the conformance suite passes on a fault store with no faults).
//!
//! It is always compiled (not `cfg(test)`) so the engine's and the binary's
//! tests can use it; nothing in production code should.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use hokan_repo::store::{ObjectInfo, ObjectKind, Protection, Store, StoreError};

/// Stands for "no limit" in the atomic counters below.
const UNLIMITED: u64 = u64::MAX;

/// Wraps a store and injects failures. All methods take `&self` and are safe
/// to call while other threads use the store, so a test can arm a fault in
/// the middle of a running backup.
#[derive(Debug)]
pub struct FaultStore<S: Store> {
    inner: S,
    /// Puts still allowed before they start failing; `UNLIMITED` if none.
    puts_left: AtomicU64,
    /// Bytes still allowed before puts start failing; `UNLIMITED` if none.
    bytes_left: AtomicU64,
    failing_gets: Mutex<HashSet<(ObjectKind, String)>>,
    puts: AtomicU64,
    put_bytes: AtomicU64,
    failed_puts: AtomicU64,
    failed_gets: AtomicU64,
}

/// Counters of a [`FaultStore`] since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Puts the inner store accepted.
    pub puts: u64,
    /// Bytes of those puts.
    pub put_bytes: u64,
    /// Puts refused by an injected fault (not counting the inner store's own
    /// errors).
    pub failed_puts: u64,
    /// Reads refused by an injected fault.
    pub failed_gets: u64,
}

impl<S: Store> FaultStore<S> {
    /// Wrap `inner`, with no faults armed.
    pub fn new(inner: S) -> Self {
        FaultStore {
            inner,
            puts_left: AtomicU64::new(UNLIMITED),
            bytes_left: AtomicU64::new(UNLIMITED),
            failing_gets: Mutex::new(HashSet::new()),
            puts: AtomicU64::new(0),
            put_bytes: AtomicU64::new(0),
            failed_puts: AtomicU64::new(0),
            failed_gets: AtomicU64::new(0),
        }
    }

    /// The wrapped store, e.g. to check what actually got written.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Let the next `n` puts through; the `n+1`-th and every later put fails
    /// with [`StoreError::NoSpace`]. Counts from this call, and counts every
    /// put attempted (also one the inner store then refuses), so the failure
    /// point is the same however the threads interleave.
    pub fn fail_puts_after(&self, n: u64) {
        self.puts_left.store(n.min(UNLIMITED - 1), Ordering::SeqCst);
    }

    /// Allow `bytes` more bytes of puts, from this call on. A put that would
    /// go past the budget fails with [`StoreError::NoSpace`] and uses none of
    /// it — like a filling disk, a smaller put may still fit afterwards. A put
    /// the inner store refuses gives its bytes back.
    pub fn fail_after_bytes(&self, bytes: u64) {
        self.bytes_left
            .store(bytes.min(UNLIMITED - 1), Ordering::SeqCst);
    }

    /// Make `get` and `get_range` of this object fail with a permanent I/O
    /// error, like an unreadable sector.
    pub fn fail_gets_matching(&self, kind: ObjectKind, name: &str) {
        self.failing_gets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((kind, name.to_string()));
    }

    /// Disarm every fault (the counters keep counting).
    pub fn clear_faults(&self) {
        self.puts_left.store(UNLIMITED, Ordering::SeqCst);
        self.bytes_left.store(UNLIMITED, Ordering::SeqCst);
        self.failing_gets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// What happened so far.
    pub fn stats(&self) -> FaultStats {
        FaultStats {
            puts: self.puts.load(Ordering::SeqCst),
            put_bytes: self.put_bytes.load(Ordering::SeqCst),
            failed_puts: self.failed_puts.load(Ordering::SeqCst),
            failed_gets: self.failed_gets.load(Ordering::SeqCst),
        }
    }

    fn no_space(&self, kind: ObjectKind, name: &str) -> StoreError {
        self.failed_puts.fetch_add(1, Ordering::SeqCst);
        StoreError::NoSpace {
            kind,
            name: name.to_string(),
            store: self.inner.describe(),
        }
    }

    fn check_get(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
        let failing = self
            .failing_gets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&(kind, name.to_string()));
        if !failing {
            return Ok(());
        }
        self.failed_gets.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::Io {
            op: "read",
            kind,
            name: name.to_string(),
            store: self.inner.describe(),
            source: io::Error::other("injected read failure (FaultStore)"),
            transient: false,
        })
    }
}

/// Take `amount` from an atomic allowance, unless it is unlimited; `false` if
/// there is not enough left (then nothing is taken).
fn take(allowance: &AtomicU64, amount: u64) -> bool {
    allowance
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            if left == UNLIMITED {
                Some(left)
            } else {
                left.checked_sub(amount)
            }
        })
        .is_ok()
}

/// Give `amount` back to an allowance taken with [`take`].
fn give_back(allowance: &AtomicU64, amount: u64) {
    let _ = allowance.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
        (left != UNLIMITED).then(|| left.saturating_add(amount).min(UNLIMITED - 1))
    });
}

impl<S: Store> Store for FaultStore<S> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn create(&self) -> Result<(), StoreError> {
        self.inner.create()
    }

    fn put(&self, kind: ObjectKind, name: &str, data: &[u8]) -> Result<(), StoreError> {
        if !take(&self.puts_left, 1) {
            return Err(self.no_space(kind, name));
        }
        let len = data.len() as u64;
        if !take(&self.bytes_left, len) {
            return Err(self.no_space(kind, name));
        }
        match self.inner.put(kind, name, data) {
            Ok(()) => {
                self.puts.fetch_add(1, Ordering::SeqCst);
                self.put_bytes.fetch_add(len, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                give_back(&self.bytes_left, len);
                Err(e)
            }
        }
    }

    fn get(&self, kind: ObjectKind, name: &str) -> Result<Vec<u8>, StoreError> {
        self.check_get(kind, name)?;
        self.inner.get(kind, name)
    }

    fn get_range(
        &self,
        kind: ObjectKind,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        self.check_get(kind, name)?;
        self.inner.get_range(kind, name, offset, len)
    }

    fn list(&self, kind: ObjectKind) -> Result<Vec<ObjectInfo>, StoreError> {
        self.inner.list(kind)
    }

    fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
        self.inner.delete(kind, name)
    }

    fn protection(&self, kind: ObjectKind, name: &str) -> Result<Protection, StoreError> {
        self.inner.protection(kind, name)
    }

    fn parallel_writes(&self) -> usize {
        self.inner.parallel_writes()
    }
}
