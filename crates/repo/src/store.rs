//! The `Store` trait: where repository objects live.
//!
//! A store holds named, immutable objects of a few kinds. The repository engine
//! talks only to this trait, so every store (local directory, removable disk,
//! S3 bucket under object lock, WORM vault) gets the same guarantees from the
//! same code.
//!
//! # Contract every implementation keeps
//! - **Put once.** [`Store::put`] never replaces an existing object: if the name
//!   exists it fails with [`StoreError::AlreadyExists`] and leaves the old object
//!   untouched. A put is atomic: after a crash the object is either absent or
//!   complete (local stores write a temporary file, fsync it, rename it into
//!   place without replacing, and fsync the directory).
//! - **Durable on return.** When `put` returns `Ok`, the object survives a power
//!   loss.
//! - **Listings never show partial objects.** Temporary files are not objects.
//! - **Deletion is explicit** and may be refused while an object is protected
//!   (retention lock, immutable flag): [`StoreError::Protected`].
//!
//! Stores are blocking and `Send + Sync`; the engine calls them from many
//! threads at once.

use std::fmt;

/// The kinds of object a repository holds. Each kind lives in its own
/// namespace of the store (a folder, a key prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// The repository config (one object, named `config`).
    Config,
    /// Key slots: the master key wrapped by a passphrase.
    Key,
    /// Snapshot manifests.
    Snapshot,
    /// Index files: which blob is in which pack.
    Index,
    /// Pack files holding the encrypted blobs.
    Pack,
    /// Lock objects of running operations (the only kind that is routinely deleted).
    Lock,
}

impl ObjectKind {
    /// All kinds, in the order a full listing visits them.
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Config,
        ObjectKind::Key,
        ObjectKind::Snapshot,
        ObjectKind::Index,
        ObjectKind::Pack,
        ObjectKind::Lock,
    ];

    /// The folder (or key prefix) of this kind, as written in the repository
    /// format spec.
    pub fn dir(self) -> &'static str {
        match self {
            ObjectKind::Config => "",
            ObjectKind::Key => "keys",
            ObjectKind::Snapshot => "snapshots",
            ObjectKind::Index => "index",
            ObjectKind::Pack => "data",
            ObjectKind::Lock => "locks",
        }
    }

    /// The relative path of an object of this kind inside the repository.
    /// Packs are spread over 256 sub-folders by the first two hex digits of
    /// their name, so no folder grows past a few thousand entries.
    pub fn path(self, name: &str) -> String {
        match self {
            ObjectKind::Config => "config".to_string(),
            // `get` rather than slicing: a hostile name must not panic.
            ObjectKind::Pack => match name.get(..2) {
                Some(prefix) => format!("data/{prefix}/{name}"),
                _ => format!("data/{name}"),
            },
            _ => format!("{}/{}", self.dir(), name),
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Config => "config",
            ObjectKind::Key => "key",
            ObjectKind::Snapshot => "snapshot",
            ObjectKind::Index => "index",
            ObjectKind::Pack => "pack",
            ObjectKind::Lock => "lock",
        })
    }
}

/// One entry of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object's name (without the kind's folder).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// What protects an object from deletion or overwrite right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Nothing: the store would delete it if asked.
    None,
    /// Protected until this time (Unix seconds, UTC), e.g. an object-lock
    /// retention date. After it, the object is unprotected.
    Until {
        /// Unix seconds (UTC) at which the protection ends.
        unix_secs: i64,
        /// Whether a privileged user can bypass it (S3 governance mode).
        bypassable: bool,
    },
    /// Protected with no end date (immutable flag, legal hold, WORM).
    Indefinite,
    /// The store cannot tell.
    Unknown,
}

/// The longest object name any store accepts (well under the 255-byte file
/// name limit of ext4, XFS and exFAT).
pub const MAX_NAME_LEN: usize = 200;

/// Why `name` is not a valid object name of `kind`, or `Ok` if it is. The
/// same rules for every store (folder, cartridge, bucket), so a repository
/// moves between them without a name becoming invalid or two names one.
pub fn check_name(kind: ObjectKind, name: &str) -> Result<(), &'static str> {
    if kind == ObjectKind::Config {
        return if name == "config" {
            Ok(())
        } else {
            Err("the config object is always named \"config\"")
        };
    }
    if name.is_empty() {
        return Err("object names cannot be empty");
    }
    if name.len() > MAX_NAME_LEN {
        return Err("object name is longer than 200 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("object names may only hold lowercase ASCII letters, digits, '-', '_' and '.'");
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return Err("object names must start with a letter or digit");
    }
    if name.ends_with(".tmp") {
        return Err("object names cannot end in \".tmp\" (reserved for in-flight writes)");
    }
    if kind == ObjectKind::Pack && name.len() < 2 {
        return Err("pack names need at least two characters");
    }
    Ok(())
}

/// Build the error for an invalid object name.
pub fn invalid_name(
    op: &'static str,
    kind: ObjectKind,
    name: &str,
    store: String,
    why: &'static str,
) -> StoreError {
    StoreError::Io {
        op,
        kind,
        name: name.to_string(),
        store,
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
        transient: false,
    }
}

/// Errors from a store. Callers branch on the variant; the message says what
/// went wrong and with which object.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The object does not exist.
    #[error("{kind} object {name} does not exist in {store}")]
    NotFound {
        /// Kind of object.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// The store's description.
        store: String,
    },
    /// A put found an object of that name already there (nothing was changed).
    #[error("{kind} object {name} already exists in {store}; objects are never overwritten")]
    AlreadyExists {
        /// Kind of object.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// The store's description.
        store: String,
    },
    /// The medium is full. Nothing partial was left behind.
    #[error("no space left on {store} while writing {kind} object {name}; free space or use a larger medium, then run the command again")]
    NoSpace {
        /// Kind of object.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// The store's description.
        store: String,
    },
    /// Deletion or overwrite refused because the object is protected.
    #[error("{kind} object {name} in {store} is protected ({why}) and cannot be deleted")]
    Protected {
        /// Kind of object.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// The store's description.
        store: String,
        /// What protects it.
        why: String,
    },
    /// Any other I/O failure.
    #[error("{op} {kind} object {name} in {store}: {source}")]
    Io {
        /// What was being done (read, write, list, delete).
        op: &'static str,
        /// Kind of object.
        kind: ObjectKind,
        /// Its name (empty for listings).
        name: String,
        /// The store's description.
        store: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
        /// Whether retrying may succeed (network hiccup, timeout).
        transient: bool,
    },
}

impl StoreError {
    /// Whether the operation may succeed if retried later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Io {
                transient: true,
                ..
            }
        )
    }
    /// Whether this is [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }
}

/// Where repository objects live. See the module docs for the contract.
pub trait Store: Send + Sync {
    /// A short human description, e.g. `local:/srv/hokan/repo`, used in messages.
    fn describe(&self) -> String;

    /// Prepare an empty repository location (create folders). Fails if the
    /// location already holds a repository config.
    fn create(&self) -> Result<(), StoreError>;

    /// Store a new object, durably and atomically. Never replaces an existing
    /// one: returns [`StoreError::AlreadyExists`] instead.
    fn put(&self, kind: ObjectKind, name: &str, data: &[u8]) -> Result<(), StoreError>;

    /// [`Store::put`] from a buffer the store may keep: a store on the
    /// network sends it without a copy. Gives the buffer back when the
    /// store did not keep it, for the caller to fill again.
    fn put_vec(
        &self,
        kind: ObjectKind,
        name: &str,
        data: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.put(kind, name, &data).map(|()| Some(data))
    }

    /// Read a whole object.
    fn get(&self, kind: ObjectKind, name: &str) -> Result<Vec<u8>, StoreError>;

    /// Read `len` bytes at `offset`. Returns fewer bytes only if the object is
    /// shorter.
    fn get_range(
        &self,
        kind: ObjectKind,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError>;

    /// List all objects of a kind (order unspecified).
    fn list(&self, kind: ObjectKind) -> Result<Vec<ObjectInfo>, StoreError>;

    /// Delete an object. Deleting a missing object is `NotFound`.
    fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError>;

    /// What protects this object from deletion now.
    fn protection(&self, kind: ObjectKind, name: &str) -> Result<Protection, StoreError>;

    /// A hint: how many [`Store::put`]s the engine may usefully have in
    /// flight at once. A folder or cartridge gains nothing from more than
    /// one (the default); a network store hides each request's round trip
    /// behind the others' (an S3 bucket: its `concurrency`).
    fn parallel_writes(&self) -> usize {
        1
    }
}

impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn create(&self) -> Result<(), StoreError> {
        (**self).create()
    }
    fn put(&self, kind: ObjectKind, name: &str, data: &[u8]) -> Result<(), StoreError> {
        (**self).put(kind, name, data)
    }
    fn put_vec(
        &self,
        kind: ObjectKind,
        name: &str,
        data: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).put_vec(kind, name, data)
    }
    fn get(&self, kind: ObjectKind, name: &str) -> Result<Vec<u8>, StoreError> {
        (**self).get(kind, name)
    }
    fn get_range(
        &self,
        kind: ObjectKind,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        (**self).get_range(kind, name, offset, len)
    }
    fn list(&self, kind: ObjectKind) -> Result<Vec<ObjectInfo>, StoreError> {
        (**self).list(kind)
    }
    fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
        (**self).delete(kind, name)
    }
    fn protection(&self, kind: ObjectKind, name: &str) -> Result<Protection, StoreError> {
        (**self).protection(kind, name)
    }
    fn parallel_writes(&self) -> usize {
        (**self).parallel_writes()
    }
}
