//! hokan's repository engine.
//!
//! Owns: chunking, keys and encryption, packs, the index, snapshots and trees,
//! and the operations on them (backup, restore, verify, forget, prune, keys,
//! repair).
//! Leaves to others: the byte layouts (`hokan-format`), where objects are
//! stored (implementations of [`store::Store`] live in `hokan-store`), and
//! everything a person sees (the `hokan` binary). This crate never names a
//! concrete store, so every store gets the same guarantees from the same code.
//!
//! Invariants every operation keeps:
//! - objects are written once and never modified (see [`store`]);
//! - a snapshot manifest is written only after every object it needs is
//!   durable, so a crash at any point leaves a repository the next run can use;
//! - deletion happens only in `forget`/`prune` (and for locks and key slots
//!   on request), never as a side effect of writing.
#![deny(missing_docs)]

pub mod backup;
pub mod browse;
pub mod chunker;
pub mod compare;
pub mod confine;
pub mod copy;
pub mod crypto;
pub mod error;
pub mod index;
pub mod lock;
pub mod memory;
pub mod meta;
pub mod pack;
pub mod prune;
pub mod repair;
pub mod repository;
pub mod restore;
pub mod store;
#[doc(hidden)]
pub mod testing;
pub mod verify;

pub use backup::{BackupOptions, BackupProgress, BackupResult, NoProgress, ParentChoice};
pub use crypto::KdfStrength;
pub use error::{RepoError, Result};
pub use repository::{FoundSnapshot, IndexScope, InitOptions, Repository};
pub use restore::{RestoreOptions, RestoreProgress, RestoreStats};
pub use store::{ObjectInfo, ObjectKind, Protection, Store, StoreError};
