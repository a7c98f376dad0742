//! The in-memory index: for every blob, the pack and place that hold it.
//!
//! Built at open time from every index file in the store. Index files are
//! written during a backup every few packs, so a killed backup loses at most
//! the last few packs' entries; those packs are found again by listing the
//! store and reading their headers ([`crate::Repository::index_orphan_packs`]).
//! A damaged index file is skipped and reported, never fatal: its packs become
//! orphans and are re-indexed the same way.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use hokan_format::{BlobEntry, BlobKind, Id, IndexFile, IndexPack};

/// Blob ids are outputs of a keyed hash: uniformly distributed and not
/// choosable by an attacker without the key. Their first 8 bytes are a good
/// hash as they are; SipHash over 32 bytes would only cost time.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= (*b as u64) << (8 * i);
        }
    }
}

/// A map keyed by [`Id`].
pub type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;
/// A set of [`Id`]s.
pub type IdSet = HashSet<Id, BuildHasherDefault<IdHasher>>;

/// Where one blob is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobLoc {
    /// Position of the pack in [`Index::packs`].
    pub pack: u32,
    /// Data or tree.
    pub kind: BlobKind,
    /// Offset in the pack.
    pub offset: u32,
    /// Sealed length.
    pub length: u32,
    /// Plaintext length.
    pub raw_length: u32,
}

/// The in-memory index.
#[derive(Default)]
pub struct Index {
    packs: Vec<Id>,
    pack_pos: IdMap<u32>,
    blobs: IdMap<BlobLoc>,
    /// Names of the index files this was built from.
    pub files: Vec<Id>,
}

impl Index {
    /// Add all entries of one pack.
    pub fn add_pack(&mut self, pack: Id, entries: &[BlobEntry]) {
        let pos = *self.pack_pos.entry(pack).or_insert_with(|| {
            self.packs.push(pack);
            (self.packs.len() - 1) as u32
        });
        for e in entries {
            self.blobs.entry(e.id).or_insert(BlobLoc {
                pack: pos,
                kind: e.kind,
                offset: e.offset,
                length: e.length,
                raw_length: e.raw_length,
            });
        }
    }

    /// Add an index file's contents.
    pub fn add_file(&mut self, name: Id, file: &IndexFile) {
        for p in &file.packs {
            self.add_pack(p.pack, &p.entries);
        }
        self.files.push(name);
    }

    /// Where a blob is.
    pub fn get(&self, id: &Id) -> Option<BlobLoc> {
        self.blobs.get(id).copied()
    }

    /// Whether a blob is known.
    pub fn contains(&self, id: &Id) -> bool {
        self.blobs.contains_key(id)
    }

    /// The pack name at a position.
    pub fn pack_name(&self, pos: u32) -> Id {
        self.packs[pos as usize]
    }

    /// Whether a pack is indexed.
    pub fn has_pack(&self, pack: &Id) -> bool {
        self.pack_pos.contains_key(pack)
    }

    /// All indexed packs.
    pub fn packs(&self) -> &[Id] {
        &self.packs
    }

    /// Number of blobs.
    pub fn len(&self) -> usize {
        self.blobs.len()
    }

    /// True if no blobs.
    pub fn is_empty(&self) -> bool {
        self.blobs.is_empty()
    }

    /// Every blob with its location.
    pub fn iter(&self) -> impl Iterator<Item = (&Id, &BlobLoc)> {
        self.blobs.iter()
    }

    /// The entries of each pack, rebuilt from the blob map (for writing a
    /// consolidated index or planning a prune).
    pub fn by_pack(&self) -> IdMap<Vec<BlobEntry>> {
        let mut m: IdMap<Vec<BlobEntry>> = IdMap::default();
        for p in &self.packs {
            m.insert(*p, Vec::new());
        }
        for (id, l) in &self.blobs {
            m.get_mut(&self.packs[l.pack as usize])
                .expect("pack listed")
                .push(BlobEntry {
                    kind: l.kind,
                    id: *id,
                    offset: l.offset,
                    length: l.length,
                    raw_length: l.raw_length,
                });
        }
        for v in m.values_mut() {
            v.sort_by_key(|e| e.offset);
        }
        m
    }
}

/// Build an index file for some packs.
pub fn index_file(packs: Vec<(Id, Vec<BlobEntry>)>) -> IndexFile {
    IndexFile {
        packs: packs
            .into_iter()
            .map(|(pack, entries)| IndexPack { pack, entries })
            .collect(),
    }
}
