//! The in-memory index: for every blob, the pack and place that hold it.
//!
//! Built at open time from every index file in the store. Index files are
//! written during a backup every few packs, so a killed backup loses at most
//! the last few packs' entries; those packs are found again by listing the
//! store and reading their headers ([`crate::Repository::index_orphan_packs`]).
//! A damaged index file is skipped and reported, never fatal: its packs become
//! orphans and are re-indexed the same way.
//!
//! # Layout: about 42 bytes a blob
//!
//! A site with millions of small files has millions of blobs, and every
//! backup holds the whole index, so its size per blob is most of what a
//! backup's memory grows by. A hash map of [`Id`] → [`BlobLoc`] costs
//! 60–120 bytes a blob (52 bytes of entry, a control byte, and a load of
//! 44–87 %). Here instead:
//!
//! - The **first two bytes** of an id choose one of 65,536 buckets and are
//!   not stored: only the other 30 bytes are. Every comparison is still on
//!   the **full id** (bucket and 30 bytes), so a lookup never answers for a
//!   blob that is not there: backup deduplicates on [`Index::contains`], and
//!   a false yes would drop a blob from the backup.
//! - The location is packed into **12 bytes**: kind (1 bit), pack position
//!   (23 bits), offset (26 bits), sealed and plain length (23 bits each).
//!   A location that does not fit (a pack past the 8,388,606th, an offset
//!   past 64 MiB, a blob of 8 MiB or more) goes whole into a side table and
//!   its record holds the table position instead: such blobs are few (the
//!   chunker's maximum is 8 MiB by default, packs are 8 MiB) and cost 20
//!   bytes more, nothing is ever truncated.
//! - A bucket is a vector of 42-byte records: a sorted run, then up to
//!   16 records (`TAIL`) in the order they came, merged into the run when the
//!   tail is full. Adding is a few comparisons and a short move, a lookup is
//!   a binary search over a bucket (46 records on average at 3,000,000
//!   blobs) and a scan of its short tail. Buckets grow by a sixteenth, so
//!   their spare room stays small.
//!
//! A backup needs no data blob's location, only whether it is there: an
//! index [`for backup`](Index::for_backup) keeps data blobs in buckets of
//! bare 30-byte ids, and only trees (which a backup reads from its parent)
//! with their locations. Three million small blobs then take 32 bytes each.
//!
//! Counted from capacities ([`Index::heap_bytes`]; the `bytes_per_blob`
//! test prints both), three million small blobs take 43.4 bytes each here,
//! 124 MiB, against 74 bytes, 212 MiB, as the hash map (which varies from
//! about 60 to 120 bytes with how full its table happens to be); a million
//! take 45.5 against 111. The 65,536 buckets cost 2 MiB however few the
//! blobs.

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

/// Bytes of an id a record keeps: the first two choose its bucket.
const KEY: usize = Id::LEN - 2;
/// Bytes of a packed location.
const LOC: usize = 12;
/// Bytes of a record: the id's last 30 bytes, then its location.
const REC: usize = KEY + LOC;
type Rec = [u8; REC];
/// One bucket for each value of an id's first two bytes.
const BUCKETS: usize = 1 << 16;
/// Records a bucket keeps unsorted, at its end, before merging them into its
/// sorted run: a lookup scans at most `TAIL - 1` records.
const TAIL: usize = 16;

const PACK_BITS: u32 = 23;
const OFFSET_BITS: u32 = 26;
const LEN_BITS: u32 = 23;
/// The pack position that marks a record whose location is in
/// [`Index::wide`] (at the position its offset bits hold).
const WIDE: u32 = (1 << PACK_BITS) - 1;
const OFFSET_SHIFT: u32 = 1 + PACK_BITS;
const LENGTH_SHIFT: u32 = OFFSET_SHIFT + OFFSET_BITS;
const RAW_SHIFT: u32 = LENGTH_SHIFT + LEN_BITS;
const _: () = assert!(RAW_SHIFT + LEN_BITS == 8 * LOC as u32);

/// The records of one bucket, `R` bytes each (an id's last 30 bytes, then
/// its location if the bucket keeps locations): `recs[..sorted]` sorted by
/// id, the rest (fewer than [`TAIL`]) in the order they were added.
struct Bucket<const R: usize> {
    recs: Vec<[u8; R]>,
    sorted: u32,
}

impl<const R: usize> Default for Bucket<R> {
    fn default() -> Self {
        Bucket {
            recs: Vec::new(),
            sorted: 0,
        }
    }
}

impl<const R: usize> Bucket<R> {
    /// Position of the record of the id whose last 30 bytes are `key`.
    fn find(&self, key: &[u8]) -> Option<usize> {
        let sorted = self.sorted as usize;
        match self.recs[..sorted].binary_search_by(|r| r[..KEY].cmp(key)) {
            Ok(i) => Some(i),
            Err(_) => self.recs[sorted..]
                .iter()
                .position(|r| &r[..KEY] == key)
                .map(|i| sorted + i),
        }
    }

    fn push(&mut self, rec: [u8; R]) {
        if self.recs.len() == self.recs.capacity() {
            // A sixteenth more (at least 2): spare room stays small, and a
            // bucket is short, so growing often costs little.
            self.recs.reserve_exact((self.recs.len() / 16).max(2));
        }
        self.recs.push(rec);
        if self.recs.len() - self.sorted as usize >= TAIL {
            self.merge();
        }
    }

    /// Merge the tail into the sorted run, from the back, in place. Ids in
    /// a bucket are distinct, so there are no ties.
    fn merge(&mut self) {
        let (s, n) = (self.sorted as usize, self.recs.len());
        let t = n - s;
        let mut tail = [[0u8; R]; TAIL];
        tail[..t].copy_from_slice(&self.recs[s..]);
        tail[..t].sort_unstable_by(|a, b| a[..KEY].cmp(&b[..KEY]));
        let (mut i, mut j) = (s, t);
        while j > 0 {
            let k = i + j - 1;
            if i > 0 && self.recs[i - 1][..KEY] > tail[j - 1][..KEY] {
                self.recs[k] = self.recs[i - 1];
                i -= 1;
            } else {
                self.recs[k] = tail[j - 1];
                j -= 1;
            }
        }
        self.sorted = n as u32;
    }
}

fn bucket_of(id: &Id) -> usize {
    u16::from_be_bytes([id.0[0], id.0[1]]) as usize
}

/// Bytes a hashbrown table of this capacity allocates (entries, one
/// control byte each, buckets a power of two at most 7/8 full).
fn hash_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        (capacity + 1).next_power_of_two()
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    buckets * (entry + 1) + 16
}

/// The in-memory index (see the module documentation for its layout).
#[derive(Default)]
pub struct Index {
    packs: Vec<Id>,
    pack_pos: IdMap<u32>,
    /// Empty until the first blob, then [`BUCKETS`] buckets.
    buckets: Vec<Bucket<REC>>,
    /// Data blobs known by id alone ([`Index::for_backup`]): empty until
    /// the first, then [`BUCKETS`] buckets. Always empty in a full index.
    present: Vec<Bucket<KEY>>,
    /// Whether data blobs are kept by id alone.
    backup_only: bool,
    /// Locations too large to pack into a record.
    wide: Vec<BlobLoc>,
    len: usize,
    /// Names of the index files this was built from.
    pub files: Vec<Id>,
}

impl Index {
    /// An index for a backup: data blobs are kept by id alone (30 bytes
    /// instead of 42), enough for [`Index::contains`] and deduplication;
    /// tree blobs keep their locations, since a backup reads its parent's
    /// trees. [`Index::get`] finds no data blob, and [`Index::iter`] and
    /// [`Index::by_pack`] refuse to run: nothing that reads data, copies or
    /// prunes may use such an index.
    pub fn for_backup() -> Index {
        Index {
            backup_only: true,
            ..Index::default()
        }
    }

    /// Whether this index holds the location of every blob (false for
    /// [`Index::for_backup`]).
    pub fn locates_data(&self) -> bool {
        !self.backup_only
    }

    /// Panic if this index does not locate data blobs: a caller that lists
    /// every blob of such an index would take the data blobs as gone, and
    /// prune would delete their packs.
    fn require_locations(&self) {
        assert!(
            !self.backup_only,
            "the index was loaded for a backup only and locates no data blob"
        );
    }

    /// Add all entries of one pack. A blob already indexed keeps its first
    /// location.
    pub fn add_pack(&mut self, pack: Id, entries: &[BlobEntry]) {
        let pos = *self.pack_pos.entry(pack).or_insert_with(|| {
            self.packs.push(pack);
            (self.packs.len() - 1) as u32
        });
        for e in entries {
            self.insert(
                &e.id,
                BlobLoc {
                    pack: pos,
                    kind: e.kind,
                    offset: e.offset,
                    length: e.length,
                    raw_length: e.raw_length,
                },
            );
        }
    }

    /// Add an index file's contents.
    pub fn add_file(&mut self, name: Id, file: &IndexFile) {
        for p in &file.packs {
            self.add_pack(p.pack, &p.entries);
        }
        self.files.push(name);
    }

    /// Add one blob unless it is known.
    fn insert(&mut self, id: &Id, loc: BlobLoc) {
        if self.contains(id) {
            return;
        }
        let n = bucket_of(id);
        let key = &id.0[2..];
        if self.backup_only && loc.kind == BlobKind::Data {
            if self.present.is_empty() {
                self.present.resize_with(BUCKETS, Bucket::default);
            }
            let mut rec = [0u8; KEY];
            rec.copy_from_slice(key);
            self.present[n].push(rec);
        } else {
            if self.buckets.is_empty() {
                self.buckets.resize_with(BUCKETS, Bucket::default);
            }
            let mut rec = [0u8; REC];
            rec[..KEY].copy_from_slice(key);
            rec[KEY..].copy_from_slice(&self.pack_loc(loc));
            self.buckets[n].push(rec);
        }
        self.len += 1;
    }

    /// The 12 bytes of a location, adding it to [`Self::wide`] if it does not
    /// fit.
    fn pack_loc(&mut self, l: BlobLoc) -> [u8; LOC] {
        let kind = match l.kind {
            BlobKind::Data => 0u128,
            BlobKind::Tree => 1,
        };
        let fits = l.pack < WIDE
            && l.offset < 1 << OFFSET_BITS
            && l.length < 1 << LEN_BITS
            && l.raw_length < 1 << LEN_BITS;
        let v = if fits {
            kind | (l.pack as u128) << 1
                | (l.offset as u128) << OFFSET_SHIFT
                | (l.length as u128) << LENGTH_SHIFT
                | (l.raw_length as u128) << RAW_SHIFT
        } else {
            self.wide.push(l);
            kind | (WIDE as u128) << 1 | ((self.wide.len() - 1) as u128) << OFFSET_SHIFT
        };
        let mut out = [0u8; LOC];
        out.copy_from_slice(&v.to_le_bytes()[..LOC]);
        out
    }

    fn unpack_loc(&self, rec: &Rec) -> BlobLoc {
        let mut b = [0u8; 16];
        b[..LOC].copy_from_slice(&rec[KEY..]);
        let v = u128::from_le_bytes(b);
        let field = |shift: u32, bits: u32| ((v >> shift) & ((1u128 << bits) - 1)) as u32;
        let pack = field(1, PACK_BITS);
        if pack == WIDE {
            return self.wide[(v >> OFFSET_SHIFT) as usize];
        }
        BlobLoc {
            pack,
            kind: if v & 1 == 0 {
                BlobKind::Data
            } else {
                BlobKind::Tree
            },
            offset: field(OFFSET_SHIFT, OFFSET_BITS),
            length: field(LENGTH_SHIFT, LEN_BITS),
            raw_length: field(RAW_SHIFT, LEN_BITS),
        }
    }

    /// Where a blob is (never a data blob in an index [`for
    /// backup`](Index::for_backup)).
    pub fn get(&self, id: &Id) -> Option<BlobLoc> {
        let b = self.buckets.get(bucket_of(id))?;
        b.find(&id.0[2..]).map(|i| self.unpack_loc(&b.recs[i]))
    }

    /// Whether a blob is known.
    pub fn contains(&self, id: &Id) -> bool {
        let (n, key) = (bucket_of(id), &id.0[2..]);
        self.buckets.get(n).is_some_and(|b| b.find(key).is_some())
            || self.present.get(n).is_some_and(|b| b.find(key).is_some())
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
        self.len
    }

    /// True if no blobs.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every blob with its location, in no particular order.
    ///
    /// # Panics
    /// On an index [`for backup`](Index::for_backup), which does not locate
    /// data blobs.
    pub fn iter(&self) -> impl Iterator<Item = (Id, BlobLoc)> + '_ {
        self.require_locations();
        self.buckets.iter().enumerate().flat_map(move |(n, b)| {
            b.recs.iter().map(move |r| {
                let mut id = Id::default();
                id.0[..2].copy_from_slice(&(n as u16).to_be_bytes());
                id.0[2..].copy_from_slice(&r[..KEY]);
                (id, self.unpack_loc(r))
            })
        })
    }

    /// Heap bytes the index holds, counted from capacities (what it asked
    /// the allocator for, without the allocator's own overhead).
    pub fn heap_bytes(&self) -> usize {
        let id = std::mem::size_of::<Id>();
        self.buckets.capacity() * std::mem::size_of::<Bucket<REC>>()
            + self
                .buckets
                .iter()
                .map(|b| b.recs.capacity() * REC)
                .sum::<usize>()
            + self.present.capacity() * std::mem::size_of::<Bucket<KEY>>()
            + self
                .present
                .iter()
                .map(|b| b.recs.capacity() * KEY)
                .sum::<usize>()
            + self.wide.capacity() * std::mem::size_of::<BlobLoc>()
            + (self.packs.capacity() + self.files.capacity()) * id
            + hash_bytes(self.pack_pos.capacity(), id + 4)
    }

    /// The entries of each pack, rebuilt from the blob map (for writing a
    /// consolidated index or planning a prune).
    ///
    /// # Panics
    /// On an index [`for backup`](Index::for_backup).
    pub fn by_pack(&self) -> IdMap<Vec<BlobEntry>> {
        self.require_locations();
        let mut m: IdMap<Vec<BlobEntry>> = IdMap::default();
        for p in &self.packs {
            m.insert(*p, Vec::new());
        }
        for (id, l) in self.iter() {
            m.get_mut(&self.packs[l.pack as usize])
                .expect("pack listed")
                .push(BlobEntry {
                    kind: l.kind,
                    id,
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore, SeedableRng};

    fn random_id(rng: &mut impl RngCore) -> Id {
        let mut id = Id::default();
        rng.fill_bytes(&mut id.0);
        id
    }

    fn entry(id: Id, rng: &mut impl Rng) -> BlobEntry {
        // Mostly small values, sometimes values that need the side table.
        let big = rng.gen_ratio(1, 20);
        let v = |rng: &mut dyn RngCore, small: u32| {
            if big {
                rng.next_u32()
            } else {
                rng.next_u32() % small
            }
        };
        BlobEntry {
            kind: if rng.gen_ratio(1, 10) {
                BlobKind::Tree
            } else {
                BlobKind::Data
            },
            id,
            offset: v(rng, 8 << 20),
            length: v(rng, 64 << 10),
            raw_length: v(rng, 64 << 10),
        }
    }

    fn loc(pack: u32, e: &BlobEntry) -> BlobLoc {
        BlobLoc {
            pack,
            kind: e.kind,
            offset: e.offset,
            length: e.length,
            raw_length: e.raw_length,
        }
    }

    /// The index against a hash map with the old semantics (first location
    /// wins), adds and lookups interleaved, with ids that share a bucket,
    /// ids that differ only in their last byte or only in their bucket, and
    /// blobs indexed again in later packs.
    #[test]
    fn matches_a_map() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut idx = Index::default();
        let mut model: IdMap<BlobLoc> = IdMap::default();
        let mut all: Vec<Id> = Vec::new();
        for round in 0..300 {
            let pack = random_id(&mut rng);
            let mut entries = Vec::new();
            for _ in 0..rng.gen_range(1..400) {
                let id = match rng.gen_range(0..10) {
                    // Again, in this pack or an earlier one.
                    0 if !all.is_empty() => all[rng.gen_range(0..all.len())],
                    // Same bucket as a known id.
                    1 if !all.is_empty() => {
                        let mut id = random_id(&mut rng);
                        id.0[..2].copy_from_slice(&all[rng.gen_range(0..all.len())].0[..2]);
                        id
                    }
                    // A known id with only its last byte changed.
                    2 if !all.is_empty() => {
                        let mut id = all[rng.gen_range(0..all.len())];
                        id.0[31] ^= 1 << rng.gen_range(0..8);
                        id
                    }
                    // A known id in another bucket.
                    3 if !all.is_empty() => {
                        let mut id = all[rng.gen_range(0..all.len())];
                        id.0[rng.gen_range(0..2)] ^= 1 << rng.gen_range(0..8);
                        id
                    }
                    _ => random_id(&mut rng),
                };
                entries.push(entry(id, &mut rng));
            }
            // Now and then a pack indexed a second time: nothing changes.
            let pack = if round % 17 == 16 {
                idx.packs()[rng.gen_range(0..idx.packs().len())]
            } else {
                pack
            };
            idx.add_pack(pack, &entries);
            let pos = idx.packs().iter().position(|p| *p == pack).unwrap() as u32;
            for e in &entries {
                model.entry(e.id).or_insert_with(|| loc(pos, e));
                all.push(e.id);
            }
            assert_eq!(idx.len(), model.len());
            for _ in 0..200 {
                let id = all[rng.gen_range(0..all.len())];
                assert_eq!(idx.get(&id), model.get(&id).copied(), "{id}");
                assert!(idx.contains(&id));
                let mut near = id;
                near.0[rng.gen_range(0..32)] ^= 1 << rng.gen_range(0..8);
                assert_eq!(idx.get(&near), model.get(&near).copied(), "{near}");
                assert_eq!(idx.contains(&near), model.contains_key(&near));
                let absent = random_id(&mut rng);
                assert!(!idx.contains(&absent) && idx.get(&absent).is_none());
            }
        }
        assert!(!idx.wide.is_empty(), "the side table was exercised");
        for (id, l) in &model {
            assert_eq!(idx.get(id), Some(*l));
        }
        let listed: IdMap<BlobLoc> = idx.iter().collect();
        assert_eq!(listed, model);
        let by_pack = idx.by_pack();
        assert_eq!(by_pack.len(), idx.packs().len());
        assert_eq!(by_pack.values().map(Vec::len).sum::<usize>(), model.len());
        for (pack, entries) in &by_pack {
            for e in entries {
                let l = model[&e.id];
                assert_eq!(idx.pack_name(l.pack), *pack);
                assert_eq!(
                    (e.offset, e.length, e.raw_length),
                    (l.offset, l.length, l.raw_length)
                );
            }
        }
    }

    /// One bucket filled one id at a time, across many merges of its tail:
    /// after each add, every id added is found, and no other.
    #[test]
    fn merge_boundaries() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut idx = Index::default();
        let pack = random_id(&mut rng);
        let mut added = Vec::new();
        for n in 0..(TAIL * 12 + 3) {
            // Descending, ascending and random orders all go through merges.
            let mut id = random_id(&mut rng);
            id.0[..2].copy_from_slice(&[0xab, 0xcd]);
            match n / (TAIL * 4) {
                0 => id.0[2] = 255 - n as u8,
                1 => id.0[2..4].copy_from_slice(&[0, n as u8]),
                _ => {}
            }
            if added.contains(&id) {
                continue;
            }
            let e = entry(id, &mut rng);
            idx.add_pack(pack, &[e]);
            added.push(id);
            let b = &idx.buckets[0xabcd];
            assert!(b.recs.len() - (b.sorted as usize) < TAIL);
            assert!(b.recs[..b.sorted as usize]
                .windows(2)
                .all(|w| w[0][..KEY] < w[1][..KEY]));
            for a in &added {
                assert!(idx.contains(a), "{a} lost after {} adds", added.len());
                let mut other = *a;
                other.0[31] ^= 0x80;
                assert_eq!(idx.contains(&other), added.contains(&other));
            }
            assert_eq!(idx.len(), added.len());
        }
        assert_eq!(idx.iter().filter(|(id, _)| id.0[0] != 0xab).count(), 0);
    }

    /// Locations at the edges of what a record holds, and past them.
    #[test]
    fn wide_locations() {
        let mut idx = Index::default();
        let edges = [
            (0, 0, 0, 0),
            (
                WIDE - 1,
                (1 << OFFSET_BITS) - 1,
                (1 << LEN_BITS) - 1,
                (1 << LEN_BITS) - 1,
            ),
            (WIDE, 0, 0, 0),
            (0, 1 << OFFSET_BITS, 0, 0),
            (0, 0, 1 << LEN_BITS, 0),
            (0, 0, 0, 1 << LEN_BITS),
            (u32::MAX, u32::MAX, u32::MAX, u32::MAX),
        ];
        let mut want = Vec::new();
        for (i, (pack, offset, length, raw_length)) in edges.into_iter().enumerate() {
            for kind in [BlobKind::Data, BlobKind::Tree] {
                let mut id = Id::default();
                id.0[31] = i as u8;
                id.0[30] = kind as u8;
                let l = BlobLoc {
                    pack,
                    kind,
                    offset,
                    length,
                    raw_length,
                };
                idx.insert(&id, l);
                want.push((id, l));
            }
        }
        assert_eq!(idx.wide.len(), 10);
        for (id, l) in want {
            assert_eq!(idx.get(&id), Some(l));
        }
    }

    /// An index for backup answers `contains` exactly for data and trees
    /// alike, locates trees, never locates data, and refuses to list.
    #[test]
    fn an_index_for_backup_knows_data_blobs_by_id_alone() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut full = Index::default();
        let mut backup = Index::for_backup();
        let mut all = Vec::new();
        for _ in 0..50 {
            let pack = random_id(&mut rng);
            let mut entries: Vec<BlobEntry> = (0..rng.gen_range(1..300))
                .map(|_| entry(random_id(&mut rng), &mut rng))
                .collect();
            // Some ids again, some a bit away from a known one.
            for _ in 0..5 {
                if let Some(&id) = all.get(rng.gen_range(0..all.len().max(1))) {
                    entries.push(entry(id, &mut rng));
                    let mut near: Id = id;
                    near.0[rng.gen_range(0..32)] ^= 1;
                    entries.push(entry(near, &mut rng));
                }
            }
            full.add_pack(pack, &entries);
            backup.add_pack(pack, &entries);
            all.extend(entries.iter().map(|e| e.id));
        }
        assert_eq!(backup.len(), full.len());
        assert!(!backup.locates_data() && full.locates_data());
        for id in &all {
            assert!(backup.contains(id));
            let l = full.get(id).unwrap();
            match l.kind {
                BlobKind::Tree => assert_eq!(backup.get(id), Some(l)),
                BlobKind::Data => assert_eq!(backup.get(id), None),
            }
            let mut near = *id;
            near.0[rng.gen_range(0..32)] ^= 1 << rng.gen_range(0..8);
            assert_eq!(backup.contains(&near), full.contains(&near));
        }
        for _ in 0..1000 {
            assert!(!backup.contains(&random_id(&mut rng)));
        }
        assert_eq!(backup.packs(), full.packs());
        // (Its size a blob is in `bytes_per_blob`: with few blobs, its two
        // sets of 65,536 buckets outweigh the 12 bytes saved on each.)
        let listing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| backup.by_pack()));
        assert!(listing.is_err(), "by_pack must refuse an index for backup");
        let listing =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| backup.iter().count()));
        assert!(listing.is_err(), "iter must refuse an index for backup");
    }

    /// Bytes a blob costs with a million distinct small blobs, against the
    /// hash map this index replaced (`cargo test -p hokan-repo
    /// bytes_per_blob -- --nocapture` prints both).
    #[test]
    fn bytes_per_blob() {
        // INDEX_BLOBS=3000000 for the 3,000,000 small files of the bench.
        let n: usize = std::env::var("INDEX_BLOBS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut idx = Index::default();
        let mut for_backup = Index::for_backup();
        let mut map: IdMap<BlobLoc> = IdMap::default();
        // As a backup adds them: packs of 2,000 blobs of a few KiB.
        for _ in 0..n / 2000 {
            let pack = random_id(&mut rng);
            let entries: Vec<BlobEntry> = (0..2000u32)
                .map(|i| BlobEntry {
                    kind: BlobKind::Data,
                    id: random_id(&mut rng),
                    offset: 4 + i * 4100,
                    length: 4100,
                    raw_length: 4096 + i % 7,
                })
                .collect();
            idx.add_pack(pack, &entries);
            for_backup.add_pack(pack, &entries);
            let pos = idx.packs().len() as u32 - 1;
            for e in &entries {
                map.insert(e.id, loc(pos, e));
            }
        }
        assert_eq!(idx.len(), n);
        assert!(idx.wide.is_empty());
        let compact = idx.heap_bytes() as f64 / n as f64;
        let backup = for_backup.heap_bytes() as f64 / n as f64;
        let entry = std::mem::size_of::<(Id, BlobLoc)>();
        let hashed = hash_bytes(map.capacity(), entry) as f64 / n as f64;
        println!(
            "{n} blobs: {compact:.1} bytes a blob, {backup:.1} for a backup, as a hash map {hashed:.1}"
        );
        // 65,536 buckets cost about 2 MiB however few the blobs.
        if n >= 1_000_000 {
            assert!(compact < 46.0, "{compact} bytes a blob");
            assert!(backup < 34.0, "{backup} bytes a blob for a backup");
        }
        assert!(hashed > 1.5 * compact);
        // Lookups stay exact.
        for _ in 0..10_000 {
            assert!(!idx.contains(&random_id(&mut rng)));
        }
        for (id, l) in map.iter().take(10_000) {
            assert_eq!(idx.get(id), Some(*l));
        }
    }
}
