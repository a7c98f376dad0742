//! Opening a repository: config, keys, index, snapshots, sealed objects.
//!
//! A [`Repository`] is a store plus the master key plus the in-memory index.
//! Opening reads the config first (plaintext, so a newer format is refused
//! before any passphrase is asked for), then tries the passphrase on every key
//! slot, then loads the index.

use std::sync::{Arc, RwLock};

use hokan_format::{
    BlobKind, ChunkerParams, FormatError, Id, IndexFile, KeySlot, RepoConfig, Snapshot, Tree,
    FORMAT_VERSION, KEY_SLOT_VERSION,
};
use rand::RngCore;
use rayon::prelude::*;

use crate::crypto::{self, aad, blob_aad, object_name, KdfStrength, MasterKey, Unwrapped};
use crate::error::{RepoError, Result};
use crate::index::{index_file, Index};
use crate::pack::read_pack_header;
use crate::store::{ObjectKind, Store, StoreError};

/// Readable snapshots (oldest first) and damaged manifests with the reason.
pub type SnapshotList = (Vec<(Id, Snapshot)>, Vec<(String, RepoError)>);

/// Key slots whose bytes match their name, and damaged ones (name, why).
type SlotList = (Vec<(String, KeySlot)>, Vec<(String, String)>);

/// A snapshot found by [`Repository::find_snapshot_with`].
#[derive(Clone, Debug)]
pub struct FoundSnapshot {
    /// Its id.
    pub id: Id,
    /// The manifest.
    pub snapshot: Snapshot,
    /// Damaged manifests passed over to find it (only with
    /// `latest_undamaged`), with the reason: the caller must say so.
    pub skipped: Vec<(String, String)>,
}

/// Who and when, stamped on new key slots and snapshots.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Host name.
    pub hostname: String,
    /// User name.
    pub username: String,
}

impl Actor {
    /// The current host and user.
    pub fn current() -> Actor {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let username = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| {
                crate::meta::user_name(unsafe { libc::getuid() })
                    .unwrap_or_else(|| "unknown".into())
            });
        Actor { hostname, username }
    }
}

/// What `repair index` did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RepairStats {
    /// Packs added to the index.
    pub packs_indexed: usize,
    /// Packs whose header could not be read, with the reason.
    pub unreadable_packs: Vec<(Id, String)>,
    /// Damaged index files removed.
    pub damaged_index_removed: Vec<Id>,
    /// Packs the index listed that are gone from the store; their entries
    /// were dropped from the index (see [`PackCheck`]).
    pub missing_packs: Vec<Id>,
    /// Blobs that were only in those packs (now in no index).
    pub blobs_dropped: u64,
}

/// What one listing of the packs found, compared with the index
/// ([`Repository::check_packs`]): packs no index listed (indexed now), and
/// packs the index listed that are gone (dropped from the index, so that
/// nothing new is deduplicated against data that no longer exists).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PackCheck {
    /// Packs no index file listed, whose headers were read and indexed.
    pub orphans_indexed: usize,
    /// Orphan packs whose header could not be read, with the reason.
    pub unreadable_packs: Vec<(Id, String)>,
    /// Packs the index listed that are missing from the store.
    pub missing_packs: Vec<Id>,
    /// Blobs that were only in the missing packs: no snapshot written from
    /// now on refers to them; older snapshots that do are damaged (`hokan
    /// repair snapshots` salvages what is left of them).
    pub blobs_dropped: u64,
    /// Index files that listed a missing pack, replaced by one new file
    /// without it.
    pub index_files_replaced: usize,
}

/// Options for `init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Chunking parameters.
    pub chunker: ChunkerParams,
    /// Target pack size.
    pub pack_size: u32,
    /// zstd level for new blobs.
    pub zstd_level: i32,
    /// Argon2 work for the first key slot.
    pub kdf: KdfStrength,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            chunker: ChunkerParams::default(),
            pack_size: 8 * 1024 * 1024,
            zstd_level: 3,
            kdf: KdfStrength::Standard,
        }
    }
}

/// How much of the index an open repository keeps in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IndexScope {
    /// Every blob's location: everything works.
    #[default]
    Full,
    /// Data blobs by id alone ([`Index::for_backup`]), a quarter less
    /// memory a blob: for a process that only backs up. Reading data,
    /// restore, verify, copy and prune refuse to run.
    Backup,
}

/// An open repository.
pub struct Repository {
    scope: IndexScope,
    store: Arc<dyn Store>,
    config: RepoConfig,
    key: MasterKey,
    key_slot: Option<String>,
    damaged_keys: Vec<(String, String)>,
    index: RwLock<Index>,
    damaged_index: Vec<(Id, String)>,
    /// Packs indexed in memory only (read from their headers at open because
    /// an index file was damaged); `index_orphan_packs` writes them out.
    recovered: std::sync::Mutex<Vec<(Id, Vec<hokan_format::BlobEntry>)>>,
}

/// RFC 3339 UTC now.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatting now")
}

impl Repository {
    /// Create a new repository in an empty store, with one key slot.
    pub fn init(
        store: Arc<dyn Store>,
        passphrase: &[u8],
        opts: &InitOptions,
    ) -> Result<Repository> {
        match store.get(ObjectKind::Config, "config") {
            Ok(_) => {
                return Err(RepoError::AlreadyInitialized {
                    store: store.describe(),
                })
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        store.create().map_err(|e| match e {
            StoreError::AlreadyExists { .. } => RepoError::AlreadyInitialized {
                store: store.describe(),
            },
            e => e.into(),
        })?;
        let mut id = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut id);
        let mut config = RepoConfig {
            version: FORMAT_VERSION,
            id: Id(id),
            created: now_rfc3339(),
            chunker: opts.chunker,
            pack_size: opts.pack_size,
            zstd_level: opts.zstd_level,
            mac: None,
        };
        let key = MasterKey::generate();
        config.mac = Some(key.metadata_mac(&config.authenticated_bytes()));
        let actor = Actor::current();
        let slot = crypto::wrap_key(
            &key,
            KEY_SLOT_VERSION,
            passphrase,
            opts.kdf,
            "initial key",
            &actor.hostname,
            &actor.username,
            &config.created,
        )?;
        let slot_name = put_key_slot(&*store, &slot)?;
        // The config goes last: a repository without config is not a repository,
        // so an init that dies half-way leaves nothing that looks usable.
        let bytes = serde_json::to_vec_pretty(&config).expect("config serializes");
        store.put(ObjectKind::Config, "config", &bytes)?;
        Ok(Repository {
            scope: IndexScope::Full,
            store,
            config,
            key,
            key_slot: Some(slot_name),
            damaged_keys: Vec::new(),
            index: RwLock::new(Index::default()),
            damaged_index: Vec::new(),
            recovered: Default::default(),
        })
    }

    /// Read and check the config only (no key needed). A config that is
    /// missing or unreadable where key slots or snapshots exist is
    /// [`RepoError::DamagedConfig`]; with neither, the location is
    /// [`RepoError::NotARepository`]. A version-2 config's MAC is checked
    /// only once the key is known ([`Repository::open`]).
    pub fn read_config(store: &dyn Store) -> Result<RepoConfig> {
        let bytes = match store.get(ObjectKind::Config, "config") {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                if looks_like_repository(store) {
                    return Err(RepoError::DamagedConfig {
                        store: store.describe(),
                        detail: "the config file is missing, but key slots or snapshots are there"
                            .into(),
                    });
                }
                return Err(RepoError::NotARepository {
                    store: store.describe(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        RepoConfig::decode(&bytes).map_err(|source| match source {
            FormatError::UnsupportedVersion { .. } => RepoError::Format {
                object: format!("config of {}", store.describe()),
                source,
            },
            source if looks_like_repository(store) => RepoError::DamagedConfig {
                store: store.describe(),
                detail: source.to_string(),
            },
            FormatError::Json { .. } => RepoError::NotARepository {
                store: store.describe(),
            },
            source => RepoError::DamagedConfig {
                store: store.describe(),
                detail: source.to_string(),
            },
        })
    }

    /// The key slots: those whose bytes match their name (and, with `key`,
    /// whose version-2 MAC verifies), and the damaged ones with the reason.
    /// A slot is named by the BLAKE3 of its bytes, so accidental damage is
    /// recognised without any passphrase.
    fn read_key_slots(store: &dyn Store, key: Option<&MasterKey>) -> Result<SlotList> {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for info in store.list(ObjectKind::Key)? {
            let bytes = match store.get(ObjectKind::Key, &info.name) {
                Ok(b) => b,
                Err(e) if e.is_not_found() => continue, // removed meanwhile
                Err(e) => {
                    bad.push((info.name, format!("unreadable: {e}")));
                    continue;
                }
            };
            if object_name(&bytes).to_hex() != info.name {
                bad.push((
                    info.name,
                    "content does not match its name (damaged or truncated)".into(),
                ));
                continue;
            }
            match KeySlot::decode(&bytes) {
                Ok(slot) => {
                    if let (Some(k), Some(mac)) = (key, &slot.mac) {
                        if !k.metadata_mac_ok(&slot.authenticated_bytes(), mac) {
                            bad.push((
                                info.name,
                                "its fields do not match their MAC (altered)".into(),
                            ));
                            continue;
                        }
                    }
                    ok.push((info.name, slot))
                }
                Err(e) => bad.push((info.name, e.to_string())),
            }
        }
        Ok((ok, bad))
    }

    /// Open with a passphrase: tries every intact key slot, then checks the
    /// slot and (version 2) the config against their MACs. Tells apart a wrong
    /// passphrase (every slot intact, none opens), damaged slots, no slots at
    /// all, and an altered config.
    pub fn open(store: Arc<dyn Store>, passphrase: &[u8]) -> Result<Repository> {
        Self::open_scoped(store, passphrase, IndexScope::Full)
    }

    /// [`Repository::open`], keeping `scope` of the index in memory.
    pub fn open_scoped(
        store: Arc<dyn Store>,
        passphrase: &[u8],
        scope: IndexScope,
    ) -> Result<Repository> {
        let config = Self::read_config(&*store)?;
        let (slots, mut damaged) = Self::read_key_slots(&*store, None)?;
        if slots.is_empty() && damaged.is_empty() {
            return Err(RepoError::NoKeySlots {
                store: store.describe(),
            });
        }
        let mut intact = 0;
        for (name, slot) in &slots {
            let opened = match crypto::unwrap_key_checked(slot, passphrase) {
                Ok(o) => o,
                Err(e) => {
                    damaged.push((name.clone(), e.to_string()));
                    continue;
                }
            };
            intact += 1;
            match opened {
                Unwrapped::No => {}
                Unwrapped::Downgraded => return Err(RepoError::KeySlotAltered {
                    store: store.describe(),
                    slot: name.clone(),
                    detail:
                        "it says version 1 but was written as version 2 (its version was changed)"
                            .into(),
                }),
                Unwrapped::Key(key) => {
                    check_slot_and_config(&*store, &key, &config, name, slot, &slots)?;
                    // The other slots, now that the MACs can be checked too.
                    let (_, damaged) = Self::read_key_slots(&*store, Some(&key))?;
                    return Self::opened(store, config, *key, Some(name.clone()), damaged, scope);
                }
            }
        }
        if !damaged.is_empty() {
            return Err(RepoError::DamagedKeySlots {
                store: store.describe(),
                damaged: damaged
                    .iter()
                    .map(|(n, why)| format!("{n}: {why}"))
                    .collect(),
                intact,
            });
        }
        Err(RepoError::WrongPassword {
            store: store.describe(),
        })
    }

    /// Open with the master secret itself (from a paper key). The config is
    /// checked as with a passphrase; damaged or missing key slots are
    /// reported ([`Repository::damaged_key_slots`]) but do not stop the
    /// paper key, which is how a repository with lost slots is recovered.
    pub fn open_with_secret(store: Arc<dyn Store>, secret: [u8; 32]) -> Result<Repository> {
        Self::open_with_secret_scoped(store, secret, IndexScope::Full)
    }

    /// [`Repository::open_with_secret`], keeping `scope` of the index in
    /// memory.
    pub fn open_with_secret_scoped(
        store: Arc<dyn Store>,
        secret: [u8; 32],
        scope: IndexScope,
    ) -> Result<Repository> {
        let config = Self::read_config(&*store)?;
        let key = MasterKey::from_secret(secret);
        let (slots, damaged) = Self::read_key_slots(&*store, Some(&key))?;
        if config.version < 2 && slots.iter().any(|(_, s)| s.version >= 2) {
            return Err(downgraded(&*store));
        }
        check_config_mac(&*store, &key, &config)?;
        if slots.is_empty() {
            tracing::warn!(
                "repository {} has no intact key slot: add a passphrase with `hokan key add`",
                store.describe()
            );
        }
        Self::opened(store, config, key, None, damaged, scope)
    }

    fn opened(
        store: Arc<dyn Store>,
        config: RepoConfig,
        key: MasterKey,
        key_slot: Option<String>,
        damaged_keys: Vec<(String, String)>,
        scope: IndexScope,
    ) -> Result<Repository> {
        for (name, why) in &damaged_keys {
            tracing::warn!("key slot {name} is damaged: {why}; run `hokan verify`");
        }
        let mut r = Repository {
            scope,
            store,
            config,
            key,
            key_slot,
            damaged_keys,
            index: RwLock::new(Index::default()),
            damaged_index: Vec::new(),
            recovered: Default::default(),
        };
        r.load_index()?;
        if !r.damaged_index.is_empty() {
            // An index file is damaged: what it listed is still in the packs.
            // Read their headers into memory (writing nothing) so that restore
            // works now, before anyone runs `hokan repair index`.
            let (good, _) = r.find_orphans()?;
            {
                let mut idx = r.index_mut();
                for (p, e) in &good {
                    idx.add_pack(*p, e);
                }
            }
            *r.recovered.lock().expect("recovered") = good;
        }
        Ok(r)
    }

    /// An empty index of this repository's [`IndexScope`].
    pub(crate) fn empty_index(&self) -> Index {
        match self.scope {
            IndexScope::Full => Index::default(),
            IndexScope::Backup => Index::for_backup(),
        }
    }

    /// Refuse `what` on a repository opened for a backup only: its index
    /// does not locate data blobs.
    pub(crate) fn require_full_index(&self, what: &str) -> Result<()> {
        match self.scope {
            IndexScope::Full => Ok(()),
            IndexScope::Backup => Err(RepoError::Invalid(format!(
                "{what} needs the whole index, but the repository was opened for a backup only (IndexScope::Backup); open it again with Repository::open"
            ))),
        }
    }

    fn load_index(&mut self) -> Result<()> {
        let mut index = self.empty_index();
        let mut damaged = Vec::new();
        self.each_index_file(|name, r| match r {
            Ok(file) => index.add_file(name, &file),
            Err(e) => {
                tracing::warn!("index file {name} is damaged and was skipped: {e}");
                damaged.push((name, e));
            }
        })?;
        self.damaged_index.extend(damaged);
        *self.index.write().expect("index lock") = index;
        Ok(())
    }

    /// Read and decode every index file, a few at a time in parallel, and
    /// give each to `f` in the order of the listing. Only those few are
    /// decoded at once: all of them together take more memory than the
    /// index they make (48 bytes an entry against 42).
    ///
    /// A missing `index/` folder is no index file at all, not an error:
    /// everything an index says can be rebuilt from the packs (`hokan repair
    /// index`), and refusing to open would stop even that.
    fn each_index_file(
        &self,
        mut f: impl FnMut(Id, std::result::Result<IndexFile, String>),
    ) -> Result<()> {
        let files = match self.store.list(ObjectKind::Index) {
            Ok(f) => f,
            Err(StoreError::Io { ref source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                tracing::warn!(
                    "the repository has no index folder; run `hokan repair index` to rebuild it from the packs"
                );
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        let batch = 2 * rayon::current_num_threads().max(1);
        for group in files.chunks(batch) {
            let read: Vec<_> = group
                .par_iter()
                .map(|f| {
                    let name = Id::from_hex(&f.name).unwrap_or_default();
                    let r = self
                        .store
                        .get(ObjectKind::Index, &f.name)
                        .map_err(|e| e.to_string())
                        .and_then(|b| {
                            self.open_object(&b, &f.name, aad::INDEX)
                                .map_err(|e| e.to_string())
                        })
                        .and_then(|p| IndexFile::decode(&p).map_err(|e| e.to_string()));
                    (name, r)
                })
                .collect();
            for (name, r) in read {
                f(name, r);
            }
        }
        Ok(())
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
    /// The config.
    pub fn config(&self) -> &RepoConfig {
        &self.config
    }
    /// The master key.
    pub fn key(&self) -> &MasterKey {
        &self.key
    }
    /// The key slot that opened this repository (None with a paper key).
    pub fn key_slot(&self) -> Option<&str> {
        self.key_slot.as_deref()
    }
    /// The index (read lock).
    pub fn index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().expect("index lock")
    }
    pub(crate) fn index_mut(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().expect("index lock")
    }
    /// Key slots found damaged or altered at open time, with the reason.
    pub fn damaged_key_slots(&self) -> &[(String, String)] {
        &self.damaged_keys
    }
    /// Index files that could not be read at open time, with the reason.
    pub fn damaged_index_files(&self) -> &[(Id, String)] {
        &self.damaged_index
    }

    /// Open a sealed object and check that its name is the hash of its bytes.
    pub(crate) fn open_object(&self, bytes: &[u8], name: &str, aad: &[u8]) -> Result<Vec<u8>> {
        if object_name(bytes).to_hex() != name {
            return Err(RepoError::Corrupt {
                what: format!("object {name}"),
                detail: "content does not match its name (damaged or truncated)".into(),
            });
        }
        self.key
            .open(bytes, aad, None)
            .map_err(|e| RepoError::Corrupt {
                what: format!("object {name}"),
                detail: e.to_string(),
            })
    }

    /// Seal and store an object named by the hash of its bytes.
    pub(crate) fn put_object(
        &self,
        kind: ObjectKind,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Id, u64)> {
        let sealed = self
            .key
            .seal_compressed(plaintext, self.config.zstd_level, aad);
        let name = object_name(&sealed);
        match self.store.put(kind, &name.to_hex(), &sealed) {
            Ok(()) | Err(StoreError::AlreadyExists { .. }) => Ok((name, sealed.len() as u64)),
            Err(e) => Err(e.into()),
        }
    }

    /// Write an index file for these packs.
    pub(crate) fn put_index(
        &self,
        packs: Vec<(Id, Vec<hokan_format::BlobEntry>)>,
    ) -> Result<(Id, u64)> {
        self.put_index_file(&index_file(packs))
    }

    /// Write one index file as it is.
    pub(crate) fn put_index_file(&self, file: &IndexFile) -> Result<(Id, u64)> {
        self.put_object(ObjectKind::Index, aad::INDEX, &file.encode())
    }

    /// Read and authenticate one blob.
    pub fn read_blob(&self, id: &Id) -> Result<Vec<u8>> {
        let loc = self.index().get(id).ok_or_else(|| {
            let idx = self.index();
            if idx.contains(id) {
                RepoError::Invalid(format!(
                    "blob {id} is a data blob, and the repository was opened for a backup only: its index does not locate data"
                ))
            } else if idx.is_empty() && idx.files.is_empty() {
                RepoError::Corrupt {
                    what: "the index".into(),
                    detail: "no index file is left (index/ is empty or missing), so no blob can be found; run `hokan repair index` to rebuild the index from the packs".into(),
                }
            } else {
                RepoError::Corrupt {
                    what: format!("blob {id}"),
                    detail:
                        "not in any index (the pack holding it is missing or unindexed; run `hokan verify`, then `hokan repair index` or `hokan repair snapshots`)"
                            .into(),
                }
            }
        })?;
        let pack = self.index().pack_name(loc.pack);
        let sealed = self.store.get_range(
            ObjectKind::Pack,
            &pack.to_hex(),
            loc.offset as u64,
            loc.length as u64,
        )?;
        self.open_blob(&pack, loc.kind, id, &sealed, loc.raw_length as usize)
    }

    /// Open a sealed blob and check its id.
    pub(crate) fn open_blob(
        &self,
        pack: &Id,
        kind: BlobKind,
        id: &Id,
        sealed: &[u8],
        raw_len: usize,
    ) -> Result<Vec<u8>> {
        let plain = self
            .key
            .open(sealed, &blob_aad(kind, id), Some(raw_len))
            .map_err(|e| RepoError::Corrupt {
                what: format!("blob {} in pack {}", id.short(), pack.short()),
                detail: e.to_string(),
            })?;
        if self.key.blob_id(&plain) != *id || plain.len() != raw_len {
            return Err(RepoError::Corrupt {
                what: format!("blob {} in pack {}", id.short(), pack.short()),
                detail: "content does not match its id".into(),
            });
        }
        Ok(plain)
    }

    /// Read a tree blob.
    pub fn read_tree(&self, id: &Id) -> Result<Tree> {
        let b = self.read_blob(id)?;
        Tree::decode(&b).map_err(|source| match source {
            FormatError::UnsafeName { name, reason } => RepoError::UnsafeName {
                snapshot: None,
                tree: *id,
                name,
                reason,
            },
            source => RepoError::Format {
                object: format!("tree {id}"),
                source,
            },
        })
    }

    /// Read one snapshot manifest.
    pub fn read_snapshot(&self, name: &str) -> Result<Snapshot> {
        let b = self.store.get(ObjectKind::Snapshot, name)?;
        let p = self.open_object(&b, name, aad::SNAPSHOT)?;
        Snapshot::decode(&p).map_err(|source| RepoError::Format {
            object: format!("snapshot {name}"),
            source,
        })
    }

    /// All snapshots, oldest first. Damaged manifests are returned as errors
    /// in the second list so that one bad file does not hide the others.
    pub fn snapshots(&self) -> Result<SnapshotList> {
        let list = self.store.list(ObjectKind::Snapshot)?;
        let got: Vec<(String, Result<Snapshot>)> = list
            .par_iter()
            .map(|i| (i.name.clone(), self.read_snapshot(&i.name)))
            .collect();
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for (name, r) in got {
            match r {
                Ok(s) => ok.push((Id::from_hex(&name).unwrap_or_default(), s)),
                Err(e) => bad.push((name, e)),
            }
        }
        ok.sort_by(|a, b| a.1.time.cmp(&b.1.time).then(a.0.cmp(&b.0)));
        Ok((ok, bad))
    }

    /// Find a snapshot by `latest`, a full id or a unique prefix, optionally
    /// limited to one source. `latest` fails with
    /// [`RepoError::LatestDamaged`] while any snapshot manifest is damaged
    /// (its time and source cannot be read, so it may be the newest); see
    /// [`Repository::find_snapshot_with`] to take the newest undamaged one.
    pub fn find_snapshot(&self, spec: &str, source: Option<&str>) -> Result<(Id, Snapshot)> {
        let f = self.find_snapshot_with(spec, source, false)?;
        Ok((f.id, f.snapshot))
    }

    /// [`Repository::find_snapshot`]; with `latest_undamaged`, `latest` is the
    /// newest readable snapshot and the damaged manifests passed over are
    /// returned in [`FoundSnapshot::skipped`].
    pub fn find_snapshot_with(
        &self,
        spec: &str,
        source: Option<&str>,
        latest_undamaged: bool,
    ) -> Result<FoundSnapshot> {
        let (all, bad) = self.snapshots()?;
        let mut matching: Vec<(Id, Snapshot)> = all
            .into_iter()
            .filter(|(_, s)| source.is_none_or(|src| s.source == src))
            .collect();
        let bad: Vec<(String, String)> = bad.into_iter().map(|(n, e)| (n, e.to_string())).collect();
        if spec == "latest" {
            if !bad.is_empty() && !latest_undamaged {
                return Err(RepoError::LatestDamaged {
                    damaged: bad.iter().map(|(n, _)| n.clone()).collect(),
                    detail: bad[0].1.clone(),
                });
            }
            let (id, snapshot) = matching
                .pop()
                .ok_or_else(|| RepoError::SnapshotNotFound(spec.into()))?;
            return Ok(FoundSnapshot {
                id,
                snapshot,
                skipped: bad,
            });
        }
        let spec_l = spec.to_ascii_lowercase();
        let mut hits: Vec<(Id, Snapshot)> = matching
            .drain(..)
            .filter(|(id, _)| id.to_hex().starts_with(&spec_l))
            .collect();
        let mut bad_hits: Vec<(String, String)> = bad
            .into_iter()
            .filter(|(n, _)| n.starts_with(&spec_l))
            .collect();
        match (hits.len(), bad_hits.len()) {
            (0, 0) => Err(RepoError::SnapshotNotFound(spec.into())),
            (1, 0) => {
                let (id, snapshot) = hits.pop().expect("one");
                Ok(FoundSnapshot {
                    id,
                    snapshot,
                    skipped: Vec::new(),
                })
            }
            (0, 1) => {
                let (name, detail) = bad_hits.pop().expect("one");
                Err(RepoError::SnapshotDamaged { name, detail })
            }
            _ => Err(RepoError::AmbiguousSnapshot(spec.into())),
        }
    }

    /// Store a snapshot manifest; returns its id.
    pub(crate) fn put_snapshot(&self, s: &Snapshot) -> Result<(Id, u64)> {
        let b = serde_json::to_vec(s).expect("snapshot serializes");
        self.put_object(ObjectKind::Snapshot, aad::SNAPSHOT, &b)
    }

    /// Packs in the store that no loaded index lists, with their headers
    /// read (or the reason they could not be). Reads only.
    #[allow(clippy::type_complexity)]
    pub(crate) fn find_orphans(
        &self,
    ) -> Result<(Vec<(Id, Vec<hokan_format::BlobEntry>)>, Vec<(Id, String)>)> {
        self.find_orphans_in(self.store.list(ObjectKind::Pack)?)
    }

    /// [`Self::find_orphans`] on a listing already made.
    #[allow(clippy::type_complexity)]
    fn find_orphans_in(
        &self,
        listed: Vec<crate::store::ObjectInfo>,
    ) -> Result<(Vec<(Id, Vec<hokan_format::BlobEntry>)>, Vec<(Id, String)>)> {
        let orphans: Vec<_> = {
            let idx = self.index();
            listed
                .into_iter()
                .filter_map(|i| Id::from_hex(&i.name).ok().map(|id| (id, i.size)))
                .filter(|(id, _)| !idx.has_pack(id))
                .collect()
        };
        let read: Vec<(Id, Result<Vec<hokan_format::BlobEntry>>)> = orphans
            .par_iter()
            .map(|(id, size)| (*id, read_pack_header(&*self.store, &self.key, id, *size)))
            .collect();
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for (id, r) in read {
            match r {
                Ok(entries) => good.push((id, entries)),
                Err(e) => bad.push((id, e.to_string())),
            }
        }
        Ok((good, bad))
    }

    /// Find packs that no readable index file lists (left by a killed backup,
    /// or whose index file is damaged), read their headers and write one new
    /// index file for them. Returns how many packs were indexed and the packs
    /// whose headers could not be read (damaged, with the reason).
    pub fn index_orphan_packs(&self) -> Result<(usize, Vec<(Id, String)>)> {
        self.index_orphans_in(self.store.list(ObjectKind::Pack)?)
    }

    /// [`Self::index_orphan_packs`] on a listing already made.
    fn index_orphans_in(
        &self,
        listed: Vec<crate::store::ObjectInfo>,
    ) -> Result<(usize, Vec<(Id, String)>)> {
        let (mut good, bad) = self.find_orphans_in(listed)?;
        good.append(&mut self.recovered.lock().expect("recovered"));
        let n = good.len();
        if n > 0 {
            let (name, _) = self.put_index(good.clone())?;
            let mut idx = self.index_mut();
            for (p, e) in &good {
                idx.add_pack(*p, e);
            }
            idx.files.push(name);
            tracing::info!(
                "indexed {n} pack(s) left without index (e.g. by an interrupted backup)"
            );
        }
        Ok((n, bad))
    }

    /// Compare the packs the index relies on with one listing of the
    /// store's packs: index the packs no index lists (orphans), and drop
    /// from the index the packs that are gone ([`PackCheck`]).
    ///
    /// Run at the start of every backup, so that a backup never
    /// deduplicates against a deleted pack: whatever the missing packs held
    /// is written again if it is still in the source. The fix is persisted
    /// (a new index file without the missing packs is written, then the
    /// index files that listed them are deleted; a crash in between leaves
    /// both, and the next run does it again), so later runs find nothing to
    /// drop. Costs one listing of the packs while the index is sound.
    pub fn check_packs(&self) -> Result<PackCheck> {
        let listed = self.store.list(ObjectKind::Pack)?;
        // Only packs this index knew before the listing can be "missing": a
        // pack a concurrent backup lists after it is not ours to judge.
        let missing: crate::index::IdSet = {
            let present: crate::index::IdSet = listed
                .iter()
                .filter_map(|i| Id::from_hex(&i.name).ok())
                .collect();
            self.index()
                .packs()
                .iter()
                .filter(|p| !present.contains(*p))
                .copied()
                .collect()
        };
        let (orphans_indexed, unreadable_packs) = self.index_orphans_in(listed)?;
        let mut check = PackCheck {
            orphans_indexed,
            unreadable_packs,
            ..Default::default()
        };
        if !missing.is_empty() {
            let (dropped, replaced) = self.drop_missing_packs(&missing)?;
            let mut m: Vec<Id> = missing.into_iter().collect();
            m.sort();
            tracing::warn!(
                "{} pack(s) listed by the index are missing from the store; {dropped} blob(s) dropped from the index",
                m.len()
            );
            check.missing_packs = m;
            check.blobs_dropped = dropped;
            check.index_files_replaced = replaced;
        }
        Ok(check)
    }

    /// Rewrite the index without `missing` packs: one new index file holds
    /// every other pack of the index files that listed a missing one, then
    /// those files are deleted, and the in-memory index is rebuilt. Returns
    /// (blobs no longer in any index, index files replaced).
    fn drop_missing_packs(&self, missing: &crate::index::IdSet) -> Result<(u64, usize)> {
        // The index files that list no missing pack, as they are.
        let mut fresh = self.empty_index();
        let mut affected: Vec<Id> = Vec::new();
        let mut salvaged: Vec<(Id, Vec<hokan_format::BlobEntry>)> = Vec::new();
        let mut seen = crate::index::IdSet::default();
        // Blobs the missing packs held: those no other pack holds are lost.
        let mut lost = crate::index::IdSet::default();
        self.each_index_file(|name, r| {
            // Damaged files stay as they are: `repair index` handles them.
            let Ok(file) = r else { return };
            if file.packs.iter().any(|p| missing.contains(&p.pack)) {
                affected.push(name);
                for p in file.packs {
                    if missing.contains(&p.pack) {
                        lost.extend(p.entries.iter().map(|e| e.id));
                    } else if seen.insert(p.pack) {
                        salvaged.push((p.pack, p.entries));
                    }
                }
            } else {
                fresh.add_file(name, &file);
            }
        })?;
        if !salvaged.is_empty() {
            let file = index_file(salvaged);
            let (name, _) = self.put_index_file(&file)?;
            fresh.add_file(name, &file);
        }
        let mut replaced = 0;
        for f in &affected {
            match self.store.delete(ObjectKind::Index, &f.to_hex()) {
                Ok(()) | Err(StoreError::NotFound { .. }) => replaced += 1,
                // A protected index file keeps naming the missing pack; the
                // in-memory index below does not, and the next run drops it
                // again.
                Err(e) => tracing::warn!("index file {f} lists a missing pack and was kept: {e}"),
            }
        }
        let mut idx = self.index_mut();
        // Packs known only in memory (headers read at open because their
        // index file is damaged) stay known. An index for backup cannot
        // list its packs' blobs: those packs are the ones read at open.
        let in_memory: Vec<(Id, Vec<hokan_format::BlobEntry>)> = if idx.locates_data() {
            idx.by_pack().into_iter().collect()
        } else {
            self.recovered.lock().expect("recovered").clone()
        };
        for (p, e) in in_memory {
            if missing.contains(&p) {
                lost.extend(e.iter().map(|e| e.id));
            } else if !fresh.has_pack(&p) {
                fresh.add_pack(p, &e);
            }
        }
        let dropped = lost.iter().filter(|id| !fresh.contains(id)).count() as u64;
        *idx = fresh;
        Ok((dropped, replaced))
    }

    /// `hokan repair index`: index orphan packs (every pack, if no index is
    /// left), drop packs that are gone from the index ([`Self::check_packs`]),
    /// then delete the damaged index files, whose packs are now listed by
    /// the new index file. A damaged index file is kept if some pack could
    /// not be re-indexed (it may be all that still names that pack's blobs)
    /// or if the store protects it.
    pub fn repair_index(&mut self) -> Result<RepairStats> {
        let damaged = std::mem::take(&mut self.damaged_index);
        let mut kept = Vec::new();
        let mut removed = Vec::new();
        let check = {
            let _lock = self.lock(false, "repair index")?;
            let check = self.check_packs()?;
            for (name, why) in damaged {
                if !check.unreadable_packs.is_empty() {
                    kept.push((name, why));
                    continue;
                }
                match self.store.delete(ObjectKind::Index, &name.to_hex()) {
                    Ok(()) | Err(StoreError::NotFound { .. }) => removed.push(name),
                    Err(e) => {
                        tracing::warn!("damaged index file {name} kept: {e}");
                        kept.push((name, e.to_string()));
                    }
                }
            }
            check
        };
        self.damaged_index = kept;
        Ok(RepairStats {
            packs_indexed: check.orphans_indexed,
            unreadable_packs: check.unreadable_packs,
            damaged_index_removed: removed,
            missing_packs: check.missing_packs,
            blobs_dropped: check.blobs_dropped,
        })
    }

    /// Add a key slot for another passphrase; returns its name.
    pub fn add_key(&self, passphrase: &[u8], label: &str, kdf: KdfStrength) -> Result<String> {
        let actor = Actor::current();
        // Version-1 repositories keep version-1 slots: a version-2 slot
        // there would read as a downgraded version-2 repository.
        let slot_version = if self.config.version >= 2 {
            KEY_SLOT_VERSION
        } else {
            1
        };
        let slot = crypto::wrap_key(
            &self.key,
            slot_version,
            passphrase,
            kdf,
            label,
            &actor.hostname,
            &actor.username,
            &now_rfc3339(),
        )?;
        put_key_slot(&*self.store, &slot)
    }

    /// The intact key slots with their names, oldest first (damaged ones:
    /// [`Repository::damaged_key_slots`]).
    pub fn list_keys(&self) -> Result<Vec<(String, KeySlot)>> {
        let (mut out, _) = Self::read_key_slots(&*self.store, Some(&self.key))?;
        out.sort_by(|a, b| a.1.created.cmp(&b.1.created));
        Ok(out)
    }

    /// Remove a key slot (by name or unique prefix). Refuses to remove the
    /// last one, or the one in use unless `allow_current`.
    pub fn remove_key(&self, spec: &str, allow_current: bool) -> Result<String> {
        let (keys, damaged) = Self::read_key_slots(&*self.store, Some(&self.key))?;
        let hits: Vec<&String> = keys
            .iter()
            .map(|(n, _)| n)
            .chain(damaged.iter().map(|(n, _)| n))
            .filter(|n| n.starts_with(spec))
            .collect();
        let name = match hits.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(RepoError::Invalid(format!(
                    "no key slot matches {spec:?}; see `hokan key list`"
                )))
            }
            _ => {
                return Err(RepoError::Invalid(format!(
                    "{spec:?} matches several key slots; give more digits"
                )))
            }
        };
        let is_damaged = damaged.iter().any(|(n, _)| *n == name);
        if keys.len() == 1 && !is_damaged {
            return Err(RepoError::Invalid(
                "refusing to remove the only key slot: the repository could never be opened again"
                    .into(),
            ));
        }
        if Some(name.as_str()) == self.key_slot() && !allow_current {
            return Err(RepoError::Invalid(format!(
                "key slot {name} is the one you opened the repository with; open with another key to remove it"
            )));
        }
        self.store.delete(ObjectKind::Key, &name)?;
        Ok(name)
    }

    pub(crate) fn seal_blob_with_id(
        &self,
        kind: BlobKind,
        id: &Id,
        plain: &[u8],
        level: Option<i32>,
    ) -> Vec<u8> {
        self.key.seal_compressed(
            plain,
            level.unwrap_or(self.config.zstd_level),
            &blob_aad(kind, id),
        )
    }
}

/// Whether a store without a readable config still holds a repository's
/// other objects (then the config is damaged, not absent by design).
fn looks_like_repository(store: &dyn Store) -> bool {
    [ObjectKind::Key, ObjectKind::Snapshot]
        .iter()
        .any(|k| store.list(*k).map(|l| !l.is_empty()).unwrap_or(false))
}

fn downgraded(store: &dyn Store) -> RepoError {
    RepoError::DamagedConfig {
        store: store.describe(),
        detail: "it says format version 1, but the key slots were written for version 2; \
                 a version-2 repository is never rewritten as version 1, so the config was altered"
            .into(),
    }
}

/// A version-2 config's MAC (nothing to check in version 1).
fn check_config_mac(store: &dyn Store, key: &MasterKey, config: &RepoConfig) -> Result<()> {
    if config.version < 2 {
        return Ok(());
    }
    let ok = config
        .mac
        .as_ref()
        .is_some_and(|m| key.metadata_mac_ok(&config.authenticated_bytes(), m));
    if ok {
        Ok(())
    } else {
        Err(RepoError::DamagedConfig {
            store: store.describe(),
            detail:
                "its fields do not match their MAC (id, chunker parameters or pack size changed)"
                    .into(),
        })
    }
}

/// After `slot` opened: its own MAC, its version against the config's (no
/// downgrade either way), then the config's MAC.
fn check_slot_and_config(
    store: &dyn Store,
    key: &MasterKey,
    config: &RepoConfig,
    name: &str,
    slot: &KeySlot,
    all: &[(String, KeySlot)],
) -> Result<()> {
    let altered = |detail: &str| RepoError::KeySlotAltered {
        store: store.describe(),
        slot: name.to_string(),
        detail: detail.into(),
    };
    if let Some(mac) = &slot.mac {
        if !key.metadata_mac_ok(&slot.authenticated_bytes(), mac) {
            return Err(altered(
                "its fields do not match their MAC (created, host, label or KDF changed)",
            ));
        }
    }
    if config.version < 2 {
        if all.iter().any(|(_, s)| s.version >= 2) {
            return Err(downgraded(store));
        }
        return Ok(());
    }
    if slot.version < 2 {
        return Err(altered(
            "a version-1 key slot in a version-2 repository (never written by hokan)",
        ));
    }
    check_config_mac(store, key, config)
}

fn put_key_slot(store: &dyn Store, slot: &KeySlot) -> Result<String> {
    let bytes = serde_json::to_vec_pretty(slot).expect("key slot serializes");
    let name = object_name(&bytes).to_hex();
    store.put(ObjectKind::Key, &name, &bytes)?;
    Ok(name)
}
