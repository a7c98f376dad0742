//! The engine's error type.
//!
//! Rules: every variant a caller branches on is its own variant; causes are
//! kept as `#[source]`, never flattened into strings; each message names the
//! object, path or store involved and, where there is one, what to do next.
//! The binary turns these into one-line messages in Japanese or English.

use std::path::PathBuf;

use hokan_format::FormatError;

use crate::store::StoreError;

/// Errors from repository operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The store failed (includes a full medium: [`StoreError::NoSpace`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No key slot opens with the passphrase given.
    #[error("wrong passphrase: no key slot of repository {store} opens with it")]
    WrongPassword {
        /// The store's description.
        store: String,
    },
    /// No key slot opens and some are damaged: the passphrase may well be
    /// right, for a damaged slot. ([`RepoError::WrongPassword`] is only for
    /// a repository whose slots are all intact.)
    #[error("no key slot of repository {store} opens: {intact} intact key slot(s) did not open with the passphrase, and {} key slot(s) are damaged ({}). The passphrase may belong to a damaged slot: open with another passphrase or the paper key (--paper-key FILE), add a new passphrase with `hokan key add`, and run `hokan verify`", damaged.len(), damaged.join(", "))]
    DamagedKeySlots {
        /// The store's description.
        store: String,
        /// The damaged slots: name, and what is wrong.
        damaged: Vec<String>,
        /// How many intact slots were tried.
        intact: usize,
    },
    /// The repository has a config but no key slot at all.
    #[error("repository {store} has no key slots: they were deleted or lost, so no passphrase can open it. Open it with the paper key (--paper-key FILE), add a passphrase with `hokan key add`, and run `hokan verify`")]
    NoKeySlots {
        /// The store's description.
        store: String,
    },
    /// The key slot that opened was altered: its metadata does not match its
    /// MAC, or its version does not fit the repository's.
    #[error("key slot {slot} of repository {store} is damaged or altered: {detail}. Nothing was read further; open with another passphrase or the paper key (--paper-key FILE), remove this slot with `hokan key remove`, and run `hokan verify`")]
    KeySlotAltered {
        /// The store's description.
        store: String,
        /// The slot's name.
        slot: String,
        /// What is wrong.
        detail: String,
    },
    /// The config is damaged, altered or missing while the rest of a
    /// repository is there.
    #[error("the config of repository {store} is damaged: {detail}. Nothing was changed. Put back the `config` file from a copy of this repository (a disk, tape or bucket copy holds the same file), then run `hokan verify`")]
    DamagedConfig {
        /// The store's description.
        store: String,
        /// What is wrong.
        detail: String,
    },
    /// The location holds no repository config.
    #[error("{store} is not a hokan repository (no config); check the path, or create one with `hokan init`")]
    NotARepository {
        /// The store's description.
        store: String,
    },
    /// `init` found a repository already there.
    #[error("{store} already holds a hokan repository; nothing was changed")]
    AlreadyInitialized {
        /// The store's description.
        store: String,
    },
    /// A repository object fails to parse.
    #[error("{object} is damaged: {source}")]
    Format {
        /// Which object.
        object: String,
        /// The parser's error.
        #[source]
        source: FormatError,
    },
    /// A repository object is damaged in a way a parser did not catch
    /// (authentication failure, wrong hash, impossible values).
    #[error("{what} is damaged: {detail}")]
    Corrupt {
        /// Which object.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// `latest` cannot be resolved: a snapshot manifest is damaged, so which
    /// snapshot is newest cannot be known (the damaged one may be).
    #[error("cannot tell which snapshot is the latest: snapshot {} is damaged ({detail}) and may be the newest. Run `hokan verify`; to use the newest undamaged snapshot instead, pass --latest-undamaged, or name a snapshot by its id", damaged.join(", "))]
    LatestDamaged {
        /// The damaged snapshots' names.
        damaged: Vec<String>,
        /// What is wrong with the first.
        detail: String,
    },
    /// The snapshot named is damaged.
    #[error("snapshot {name} is damaged: {detail}. Run `hokan verify`; restore another snapshot (see `hokan snapshots`)")]
    SnapshotDamaged {
        /// Its name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// No snapshot matches.
    #[error("no snapshot matches {0:?}; list them with `hokan snapshots`")]
    SnapshotNotFound(String),
    /// Several snapshots match a short id.
    #[error("{0:?} matches several snapshots; give more digits")]
    AmbiguousSnapshot(String),
    /// Another process holds a conflicting lock.
    #[error("repository is locked by {holder}; wait for it to finish, or if it died, run `hokan unlock`")]
    Locked {
        /// Who holds it (host, pid, operation, time).
        holder: String,
    },
    /// A local file or folder (source or restore target) failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Restore would overwrite existing files and was not told to.
    #[error("restore refused: {count} file(s) already exist in the target, e.g. {first}; choose an empty target or pass --overwrite")]
    WouldOverwrite {
        /// How many.
        count: usize,
        /// The first one.
        first: PathBuf,
    },
    /// A tree holds an entry name that is not one safe path component
    /// (empty, `.`, `..`, with `/` or NUL) or a name twice. Such a tree is
    /// refused as soon as it is read: restoring it could write outside the
    /// target. Only someone holding the repository key can write it, or
    /// damage that still authenticates (a bug); either way the snapshot is
    /// not restored.
    #[error("{}tree {tree} holds an unsafe entry name {name}: it {reason}; a restore could write outside its target (the tree is damaged, or was crafted by someone holding the repository key)", snapshot.map(|s| format!("snapshot {s}: ")).unwrap_or_default())]
    UnsafeName {
        /// The snapshot it was reached from, where known.
        snapshot: Option<hokan_format::Id>,
        /// The tree blob.
        tree: hokan_format::Id,
        /// The name, quoted and escaped.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A caller passed something that cannot work.
    #[error("{0}")]
    Invalid(String),
}

impl RepoError {
    /// Whether the failure is a full medium.
    pub fn is_no_space(&self) -> bool {
        matches!(self, RepoError::Store(StoreError::NoSpace { .. }))
    }

    /// Name the snapshot an [`RepoError::UnsafeName`] was reached from;
    /// other errors pass unchanged.
    pub fn in_snapshot(self, id: &hokan_format::Id) -> RepoError {
        match self {
            RepoError::UnsafeName {
                snapshot: None,
                tree,
                name,
                reason,
            } => RepoError::UnsafeName {
                snapshot: Some(*id),
                tree,
                name,
                reason,
            },
            e => e,
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> RepoError {
        RepoError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Shorthand.
pub type Result<T, E = RepoError> = std::result::Result<T, E>;
