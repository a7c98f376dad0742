//! Binary layouts: pack files, pack headers and index files.
//!
//! All integers are little-endian. Layouts are fixed-size records so that a
//! reader in any language can parse them with a few lines, and so that a
//! damaged record cannot make a parser allocate or loop without bound: every
//! count is checked against the bytes actually present before use.
//!
//! ```text
//! pack file
//!   0      8  PACK_MAGIC  "HOKANPK" + version byte 0x01
//!   8      …  blobs, each a sealed object (see docs: nonce | ciphertext | tag)
//!   …      H  sealed pack header (plaintext = PackHeader::encode)
//!   end-12 4  H as u32
//!   end-8  8  PACK_TRAILER "HKPKTRL" + version byte 0x01
//!
//! pack header plaintext
//!   0      1  version (1)
//!   1      4  entry count N
//!   5   46*N  entries (BlobEntry)
//!
//! blob entry (46 bytes)
//!   0      1  kind (0 data, 1 tree)
//!   1      1  reserved, 0
//!   2     32  blob id
//!   34     4  offset of the sealed blob in the pack
//!   38     4  length of the sealed blob
//!   42     4  length of the blob's plaintext (after decompression)
//!
//! index file plaintext
//!   0      8  INDEX_MAGIC "HKINDEX" + version byte 0x01
//!   8      4  pack count P
//!   then P times: pack id (32), entry count N (4), N blob entries (46 each)
//! ```

use crate::{FormatError, Id};

/// First 8 bytes of every pack file.
pub const PACK_MAGIC: [u8; 8] = *b"HOKANPK\x01";
/// Last 8 bytes of every pack file.
pub const PACK_TRAILER: [u8; 8] = *b"HKPKTRL\x01";
/// First 8 bytes of an index file's plaintext.
pub const INDEX_MAGIC: [u8; 8] = *b"HKINDEX\x01";
/// Length of the fixed tail of a pack: header length (4) and trailer (8).
pub const PACK_TAIL_LEN: usize = 12;
/// Size of one encoded [`BlobEntry`].
pub const ENTRY_LEN: usize = 46;
const HEADER_VERSION: u8 = 1;

/// What a blob holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlobKind {
    /// A chunk of file content.
    Data,
    /// A directory listing (a JSON [`crate::Tree`]).
    Tree,
}

impl BlobKind {
    fn to_byte(self) -> u8 {
        match self {
            BlobKind::Data => 0,
            BlobKind::Tree => 1,
        }
    }
    fn from_byte(b: u8) -> Result<BlobKind, FormatError> {
        match b {
            0 => Ok(BlobKind::Data),
            1 => Ok(BlobKind::Tree),
            other => Err(FormatError::Invalid {
                what: "blob entry",
                field: "kind",
                detail: format!("unknown kind {other}"),
            }),
        }
    }
}

/// Where one blob sits inside its pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlobEntry {
    /// Data or tree.
    pub kind: BlobKind,
    /// The blob id (keyed hash of its plaintext).
    pub id: Id,
    /// Offset of the sealed blob from the start of the pack.
    pub offset: u32,
    /// Length of the sealed blob.
    pub length: u32,
    /// Length of the plaintext after decompression.
    pub raw_length: u32,
}

impl BlobEntry {
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.kind.to_byte());
        out.push(0);
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.length.to_le_bytes());
        out.extend_from_slice(&self.raw_length.to_le_bytes());
    }

    fn decode(b: &[u8]) -> Result<BlobEntry, FormatError> {
        debug_assert_eq!(b.len(), ENTRY_LEN);
        if b[1] != 0 {
            return Err(FormatError::Invalid {
                what: "blob entry",
                field: "reserved",
                detail: format!("{} (must be 0)", b[1]),
            });
        }
        Ok(BlobEntry {
            kind: BlobKind::from_byte(b[0])?,
            id: Id::from_slice(&b[2..34]),
            offset: u32_at(b, 34),
            length: u32_at(b, 38),
            raw_length: u32_at(b, 42),
        })
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn need(what: &'static str, b: &[u8], n: usize) -> Result<(), FormatError> {
    if b.len() < n {
        Err(FormatError::Truncated {
            what,
            need: n,
            have: b.len(),
        })
    } else {
        Ok(())
    }
}

/// The list of blobs in one pack (the plaintext of its sealed header).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackHeader {
    /// The blobs, in the order they appear in the pack.
    pub entries: Vec<BlobEntry>,
}

impl PackHeader {
    /// Encode as the header plaintext.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + ENTRY_LEN * self.entries.len());
        out.push(HEADER_VERSION);
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            e.encode_into(&mut out);
        }
        out
    }

    /// Decode a header plaintext. Checks the count against the length.
    pub fn decode(b: &[u8]) -> Result<PackHeader, FormatError> {
        need("pack header", b, 5)?;
        if b[0] != HEADER_VERSION {
            return Err(FormatError::UnsupportedVersion {
                what: "pack header",
                found: b[0] as u32,
                supported: HEADER_VERSION as u32,
            });
        }
        let n = u32_at(b, 1) as usize;
        let want = n
            .checked_mul(ENTRY_LEN)
            .and_then(|x| x.checked_add(5))
            .ok_or(FormatError::Invalid {
                what: "pack header",
                field: "count",
                detail: format!("{n} entries"),
            })?;
        if b.len() != want {
            return Err(FormatError::Invalid {
                what: "pack header",
                field: "length",
                detail: format!("{} entries need {} bytes, found {}", n, want, b.len()),
            });
        }
        let entries = b[5..]
            .chunks_exact(ENTRY_LEN)
            .map(BlobEntry::decode)
            .collect::<Result<_, _>>()?;
        Ok(PackHeader { entries })
    }

    /// Check that every entry lies between the magic and `body_end` (where the
    /// sealed header starts) and that entries do not overlap.
    pub fn check_bounds(&self, body_end: u64) -> Result<(), FormatError> {
        let mut spans: Vec<(u64, u64)> = self
            .entries
            .iter()
            .map(|e| (e.offset as u64, e.offset as u64 + e.length as u64))
            .collect();
        spans.sort_unstable();
        let mut prev_end = PACK_MAGIC.len() as u64;
        for (start, end) in spans {
            if start < prev_end || end > body_end {
                return Err(FormatError::Invalid {
                    what: "pack header",
                    field: "offset",
                    detail: format!(
                        "blob at {start}..{end} outside {prev_end}..{body_end} or overlapping"
                    ),
                });
            }
            prev_end = end;
        }
        Ok(())
    }
}

/// Read the fixed tail of a pack (its last [`PACK_TAIL_LEN`] bytes) and return
/// the length of the sealed header that precedes it.
pub fn decode_pack_tail(tail: &[u8]) -> Result<u32, FormatError> {
    need("pack tail", tail, PACK_TAIL_LEN)?;
    let t = &tail[tail.len() - PACK_TAIL_LEN..];
    if t[4..12] != PACK_TRAILER {
        return Err(FormatError::BadMagic {
            what: "pack trailer",
        });
    }
    Ok(u32_at(t, 0))
}

/// Encode the fixed tail of a pack.
pub fn encode_pack_tail(header_len: u32) -> [u8; PACK_TAIL_LEN] {
    let mut t = [0u8; PACK_TAIL_LEN];
    t[..4].copy_from_slice(&header_len.to_le_bytes());
    t[4..].copy_from_slice(&PACK_TRAILER);
    t
}

/// One pack's entries in an index file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexPack {
    /// The pack's name.
    pub pack: Id,
    /// Its blobs.
    pub entries: Vec<BlobEntry>,
}

/// The plaintext of an index file: for each pack, the blobs it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexFile {
    /// Packs described by this index file.
    pub packs: Vec<IndexPack>,
}

impl IndexFile {
    /// Encode as the index plaintext.
    pub fn encode(&self) -> Vec<u8> {
        let blobs: usize = self.packs.iter().map(|p| p.entries.len()).sum();
        let mut out = Vec::with_capacity(12 + self.packs.len() * 36 + blobs * ENTRY_LEN);
        out.extend_from_slice(&INDEX_MAGIC);
        out.extend_from_slice(&(self.packs.len() as u32).to_le_bytes());
        for p in &self.packs {
            out.extend_from_slice(&p.pack.0);
            out.extend_from_slice(&(p.entries.len() as u32).to_le_bytes());
            for e in &p.entries {
                e.encode_into(&mut out);
            }
        }
        out
    }

    /// Decode an index plaintext; every count is checked against the bytes left.
    pub fn decode(b: &[u8]) -> Result<IndexFile, FormatError> {
        need("index file", b, 12)?;
        if b[..7] != INDEX_MAGIC[..7] {
            return Err(FormatError::BadMagic { what: "index file" });
        }
        if b[7] != INDEX_MAGIC[7] {
            return Err(FormatError::UnsupportedVersion {
                what: "index file",
                found: b[7] as u32,
                supported: INDEX_MAGIC[7] as u32,
            });
        }
        let npacks = u32_at(b, 8) as usize;
        let mut at = 12;
        // Each pack needs at least 36 bytes: bound the allocation by what is there.
        let mut packs = Vec::with_capacity(npacks.min((b.len() - at) / 36));
        for _ in 0..npacks {
            need("index file", b, at + 36)?;
            let pack = Id::from_slice(&b[at..at + 32]);
            let n = u32_at(b, at + 32) as usize;
            at += 36;
            let len = n.checked_mul(ENTRY_LEN).ok_or(FormatError::Invalid {
                what: "index file",
                field: "count",
                detail: format!("{n} entries"),
            })?;
            need("index file", b, at.saturating_add(len))?;
            let entries = b[at..at + len]
                .chunks_exact(ENTRY_LEN)
                .map(BlobEntry::decode)
                .collect::<Result<_, _>>()?;
            at += len;
            packs.push(IndexPack { pack, entries });
        }
        if at != b.len() {
            return Err(FormatError::Invalid {
                what: "index file",
                field: "length",
                detail: format!("{} trailing bytes", b.len() - at),
            });
        }
        Ok(IndexFile { packs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry() -> impl Strategy<Value = BlobEntry> {
        (
            any::<bool>(),
            any::<[u8; 32]>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(|(t, id, offset, length, raw_length)| BlobEntry {
                kind: if t { BlobKind::Tree } else { BlobKind::Data },
                id: Id(id),
                offset,
                length,
                raw_length,
            })
    }

    proptest! {
        #[test]
        fn pack_header_round_trips(entries in proptest::collection::vec(entry(), 0..50)) {
            let h = PackHeader { entries };
            prop_assert_eq!(PackHeader::decode(&h.encode()).unwrap(), h);
        }

        #[test]
        fn index_round_trips(packs in proptest::collection::vec(
            (any::<[u8; 32]>(), proptest::collection::vec(entry(), 0..20)), 0..10)) {
            let f = IndexFile { packs: packs.into_iter().map(|(p, entries)| IndexPack { pack: Id(p), entries }).collect() };
            prop_assert_eq!(IndexFile::decode(&f.encode()).unwrap(), f);
        }

        #[test]
        fn truncated_index_is_an_error(packs in proptest::collection::vec(
            (any::<[u8; 32]>(), proptest::collection::vec(entry(), 1..5)), 1..4), cut in 1usize..100) {
            let f = IndexFile { packs: packs.into_iter().map(|(p, entries)| IndexPack { pack: Id(p), entries }).collect() };
            let b = f.encode();
            let cut = cut.min(b.len());
            prop_assert!(IndexFile::decode(&b[..b.len() - cut]).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = PackHeader::decode(&b);
            let _ = IndexFile::decode(&b);
            let _ = decode_pack_tail(&b);
        }
    }

    #[test]
    fn overlapping_entries_are_refused() {
        let e = |offset, length| BlobEntry {
            kind: BlobKind::Data,
            id: Id::default(),
            offset,
            length,
            raw_length: 0,
        };
        assert!(PackHeader {
            entries: vec![e(8, 10), e(18, 5)]
        }
        .check_bounds(23)
        .is_ok());
        assert!(PackHeader {
            entries: vec![e(8, 10), e(17, 5)]
        }
        .check_bounds(23)
        .is_err());
        assert!(PackHeader {
            entries: vec![e(8, 10)]
        }
        .check_bounds(17)
        .is_err());
        assert!(PackHeader {
            entries: vec![e(0, 4)]
        }
        .check_bounds(17)
        .is_err());
    }
}
