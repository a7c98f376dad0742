//! hokan's on-disk structures, with no I/O and no cryptography.
//!
//! This crate owns the *bytes*: magic numbers, version numbers, the binary
//! layouts of pack headers and index files, and the JSON documents (repository
//! config, key slots, snapshots, trees). Everything here is described in
//! `docs/repository-format.md`; the two must agree. Parsers in this crate take
//! untrusted bytes (a damaged disk, a tampered tape) and must return an error,
//! never panic: each has a fuzz target in `fuzz/`.
//!
//! What this crate leaves to others: encryption and hashing (`hokan-repo`
//! seals and opens the bytes produced here), and where objects are stored
//! (`hokan-store`).
#![deny(missing_docs)]

pub mod binary;
pub mod id;
pub mod json;
pub mod paper;

pub use binary::{BlobEntry, BlobKind, IndexFile, IndexPack, PackHeader, PACK_MAGIC, PACK_TRAILER};
pub use id::Id;
pub use json::{
    escape_name, unsafe_name_reason, ChunkerParams, KdfParams, KeySlot, Node, NodeKind, RepoConfig,
    Snapshot, SnapshotError, SnapshotSummary, Tree, KEY_SLOT_VERSION,
};

/// The repository format version this build writes and the highest it reads.
/// A repository whose config says more is refused with a clear message.
/// Version 2 authenticates the config and key slots with the master key;
/// version 1 repositories are still read and written (as version 1).
pub const FORMAT_VERSION: u32 = 2;

/// Errors from parsing repository bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes end before the structure does.
    #[error("{what} is truncated: needs {need} bytes, has {have}")]
    Truncated {
        /// Which structure.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// A magic number does not match: this is not the expected kind of object.
    #[error("{what}: bad magic number (not a hokan {what}, or damaged)")]
    BadMagic {
        /// Which structure.
        what: &'static str,
    },
    /// A version this build does not know.
    #[error("{what} has format version {found}; this hokan reads up to {supported}. Upgrade hokan to read it")]
    UnsupportedVersion {
        /// Which structure.
        what: &'static str,
        /// The version found.
        found: u32,
        /// The highest supported.
        supported: u32,
    },
    /// A field holds a value that cannot be right.
    #[error("{what}: invalid {field}: {detail}")]
    Invalid {
        /// Which structure.
        what: &'static str,
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A tree holds an entry name that is not one safe path component, or
    /// a name twice: see [`Tree::check_names`].
    #[error("tree: entry name {name} {reason}; a restore could write outside its target (damaged, or crafted by someone holding the repository key)")]
    UnsafeName {
        /// The name, quoted and escaped ([`escape_name`]).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A JSON document does not parse.
    #[error("{what}: malformed JSON: {source}")]
    Json {
        /// Which document.
        what: &'static str,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}
