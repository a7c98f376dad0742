//! Building and reading pack files.
//!
//! A pack is built in memory (a few MiB) and stored with one `put`, so a
//! pack is never visible half-written. See `hokan_format::binary` for the
//! byte layout.

use hokan_format::binary::{decode_pack_tail, encode_pack_tail, PACK_TAIL_LEN};
use hokan_format::{BlobEntry, BlobKind, Id, PackHeader, PACK_MAGIC};

use crate::crypto::{aad, object_name, Compression, MasterKey, OpenError};
use crate::error::{RepoError, Result};
use crate::store::{ObjectKind, Store};

/// A pack being filled.
#[derive(Default)]
pub struct PackBuilder {
    bytes: Vec<u8>,
    header: PackHeader,
    /// Bytes a full pack is given room for: a pack started small grows by
    /// doubling up to this, not past it (0: no bound).
    room: usize,
}

impl PackBuilder {
    /// An empty pack with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> PackBuilder {
        let mut bytes = Vec::with_capacity(capacity + capacity / 8);
        bytes.extend_from_slice(&PACK_MAGIC);
        PackBuilder {
            room: bytes.capacity(),
            bytes,
            header: PackHeader::default(),
        }
    }

    /// An empty pack that starts small and grows as blobs come, to room
    /// for `capacity` bytes at most (one more blob past that if it must):
    /// doubling alone would end a full pack in twice the room it needs.
    pub fn growing(capacity: usize) -> PackBuilder {
        let mut p = PackBuilder::with_buffer(Vec::new());
        p.room = capacity + capacity / 8;
        p
    }

    /// An empty pack in `buf` (a finished pack's bytes, given back to be
    /// used again: a backup keeps a few buffers instead of allocating one
    /// per pack, which the allocator would keep around in every thread).
    pub fn with_buffer(mut buf: Vec<u8>) -> PackBuilder {
        buf.clear();
        buf.extend_from_slice(&PACK_MAGIC);
        PackBuilder {
            room: buf.capacity(),
            bytes: buf,
            header: PackHeader::default(),
        }
    }

    /// Bytes so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if no blob was added.
    pub fn is_empty(&self) -> bool {
        self.header.entries.is_empty()
    }

    /// Append a sealed blob.
    pub fn add(&mut self, kind: BlobKind, id: Id, sealed: &[u8], raw_length: usize) {
        let need = self.bytes.len() + sealed.len();
        if need > self.bytes.capacity() && self.room > 0 {
            let to = (self.bytes.capacity() * 2).min(self.room).max(need);
            self.bytes.reserve_exact(to - self.bytes.len());
        }
        let offset = self.bytes.len() as u32;
        self.bytes.extend_from_slice(sealed);
        self.header.entries.push(BlobEntry {
            kind,
            id,
            offset,
            length: sealed.len() as u32,
            raw_length: raw_length as u32,
        });
    }

    /// Seal the header, append the tail, and return (name, bytes, entries).
    pub fn finish(mut self, key: &MasterKey) -> (Id, Vec<u8>, Vec<BlobEntry>) {
        let header = key.seal(Compression::None, &self.header.encode(), aad::PACK_HEADER);
        self.bytes.extend_from_slice(&header);
        self.bytes
            .extend_from_slice(&encode_pack_tail(header.len() as u32));
        let name = object_name(&self.bytes);
        (name, self.bytes, self.header.entries)
    }
}

/// Parse a whole pack's header from its bytes (used by verify and repair).
pub fn parse_pack(key: &MasterKey, name: &Id, bytes: &[u8]) -> Result<Vec<BlobEntry>> {
    let what = || format!("pack {name}");
    if bytes.len() < PACK_MAGIC.len() + PACK_TAIL_LEN || bytes[..8] != PACK_MAGIC {
        return Err(RepoError::Corrupt {
            what: what(),
            detail: "not a hokan pack (bad magic or too short)".into(),
        });
    }
    let hlen = decode_pack_tail(bytes).map_err(|source| RepoError::Format {
        object: what(),
        source,
    })? as usize;
    let body_end = bytes
        .len()
        .checked_sub(PACK_TAIL_LEN + hlen)
        .filter(|&e| e >= PACK_MAGIC.len())
        .ok_or_else(|| RepoError::Corrupt {
            what: what(),
            detail: format!("header length {hlen} exceeds the pack"),
        })?;
    header_entries(
        key,
        name,
        &bytes[body_end..bytes.len() - PACK_TAIL_LEN],
        body_end as u64,
    )
}

fn header_entries(
    key: &MasterKey,
    name: &Id,
    sealed: &[u8],
    body_end: u64,
) -> Result<Vec<BlobEntry>> {
    let what = || format!("pack {name}");
    let plain = key
        .open(sealed, aad::PACK_HEADER, None)
        .map_err(|e: OpenError| RepoError::Corrupt {
            what: what(),
            detail: format!("header: {e}"),
        })?;
    let h = PackHeader::decode(&plain).map_err(|source| RepoError::Format {
        object: what(),
        source,
    })?;
    h.check_bounds(body_end)
        .map_err(|source| RepoError::Format {
            object: what(),
            source,
        })?;
    Ok(h.entries)
}

/// Read only a pack's header from a store (two range reads from the end).
pub fn read_pack_header(
    store: &dyn Store,
    key: &MasterKey,
    name: &Id,
    size: u64,
) -> Result<Vec<BlobEntry>> {
    let hex = name.to_hex();
    let what = || format!("pack {name}");
    if size < (PACK_MAGIC.len() + PACK_TAIL_LEN) as u64 {
        return Err(RepoError::Corrupt {
            what: what(),
            detail: format!("only {size} bytes"),
        });
    }
    let tail = store.get_range(
        ObjectKind::Pack,
        &hex,
        size - PACK_TAIL_LEN as u64,
        PACK_TAIL_LEN as u64,
    )?;
    let hlen = decode_pack_tail(&tail).map_err(|source| RepoError::Format {
        object: what(),
        source,
    })? as u64;
    let body_end = size
        .checked_sub(PACK_TAIL_LEN as u64 + hlen)
        .filter(|&e| e >= PACK_MAGIC.len() as u64)
        .ok_or_else(|| RepoError::Corrupt {
            what: what(),
            detail: format!("header length {hlen} exceeds the pack"),
        })?;
    let sealed = store.get_range(ObjectKind::Pack, &hex, body_end, hlen)?;
    header_entries(key, name, &sealed, body_end)
}
