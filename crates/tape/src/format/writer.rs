//! Writing a media set: [`SetWriter`].
//!
//! The writer streams: object bytes are copied once, into the 256 KiB block
//! being filled, and hashed on the way. A segment counts as written only
//! when the block holding its last byte has been accepted by the drive;
//! until then it is *pending*. When an object's last segments are still
//! pending as [`SetWriter::write_object`] returns, the writer keeps a copy of
//! them (at most one segment plus one block): if end of medium strikes the
//! block holding them, they are written again on the next cartridge even
//! though the caller has moved on. That copy is the price of never losing a
//! segment; it is dropped as soon as the block is written.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::device::{TapeDrive, TapeError, WriteBlock};

use super::reader::{read_label, tape_error_is_eom};
use super::tar::{entry_header, record_padding, RECORD};
use super::{
    entry_name, segment_count, valid_object_path, write_label, CatalogCartridge, CatalogObject,
    FormatError, Label, Segment, SetCatalog, BLOCK_SIZE, CATALOG_ENTRY, FORMAT_VERSION,
};

/// What a write achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Progress {
    /// The object is accepted: it is on tape, or held to be written again.
    Done,
    /// The cartridge was closed (early warning or end of medium): call
    /// [`SetWriter::start_cartridge`] with the next cartridge, then make the
    /// same call again; it continues where it stopped.
    NeedCartridge,
}

/// What [`SetWriter::finish`] achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Finish {
    /// The job is closed; its final catalog.
    Done(Box<SetCatalog>),
    /// End of medium before the final catalog was written: start the next
    /// cartridge and call `finish` again.
    NeedCartridge,
}

/// Blocks of the tape file being written.
struct BlockOut {
    buf: Vec<u8>,
    len: usize,
    /// Bytes given to the current tape file.
    pushed: u64,
    /// Bytes of the current tape file the drive has accepted.
    flushed: u64,
    /// The drive reported early warning during this tape file.
    early_warning: bool,
    /// Blocks written by this writer, all files.
    blocks: u64,
}

/// Why a write stopped.
enum WriteFail {
    /// End of medium: the block was not written.
    EndOfMedium(TapeError),
    /// Any other drive error.
    Tape(TapeError),
}

impl From<WriteFail> for FormatError {
    fn from(e: WriteFail) -> Self {
        match e {
            WriteFail::EndOfMedium(e) | WriteFail::Tape(e) => FormatError::Tape(e),
        }
    }
}

impl BlockOut {
    fn new() -> Self {
        BlockOut {
            buf: vec![0; BLOCK_SIZE],
            len: 0,
            pushed: 0,
            flushed: 0,
            early_warning: false,
            blocks: 0,
        }
    }

    /// Start a new tape file.
    fn reset(&mut self) {
        self.len = 0;
        self.pushed = 0;
        self.flushed = 0;
        self.early_warning = false;
    }

    fn push(&mut self, drive: &mut dyn TapeDrive, mut data: &[u8]) -> Result<(), WriteFail> {
        while !data.is_empty() {
            let n = (BLOCK_SIZE - self.len).min(data.len());
            self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
            self.len += n;
            self.pushed += n as u64;
            data = &data[n..];
            if self.len == BLOCK_SIZE {
                self.flush(drive)?;
            }
        }
        Ok(())
    }

    fn zeros(&mut self, drive: &mut dyn TapeDrive, mut n: usize) -> Result<(), WriteFail> {
        while n > 0 {
            let k = (BLOCK_SIZE - self.len).min(n);
            self.buf[self.len..self.len + k].fill(0);
            self.len += k;
            self.pushed += k as u64;
            n -= k;
            if self.len == BLOCK_SIZE {
                self.flush(drive)?;
            }
        }
        Ok(())
    }

    /// End the tar archive: two zero records, then zeros to a whole block.
    fn end_archive(&mut self, drive: &mut dyn TapeDrive) -> Result<(), WriteFail> {
        self.zeros(drive, 2 * RECORD)?;
        if self.len > 0 {
            self.zeros(drive, BLOCK_SIZE - self.len)?;
        }
        Ok(())
    }

    fn flush(&mut self, drive: &mut dyn TapeDrive) -> Result<(), WriteFail> {
        match drive.write_block(&self.buf) {
            Ok(WriteBlock::Written) => {}
            Ok(WriteBlock::EarlyWarning) => self.early_warning = true,
            Err(e) if tape_error_is_eom(&e) => return Err(WriteFail::EndOfMedium(e)),
            Err(e) => return Err(WriteFail::Tape(e)),
        }
        self.len = 0;
        self.flushed += BLOCK_SIZE as u64;
        self.blocks += 1;
        Ok(())
    }

    /// Header, data and padding of one tar entry.
    fn entry(
        &mut self,
        drive: &mut dyn TapeDrive,
        name: &str,
        data: &[u8],
        mtime: i64,
        mode: u32,
    ) -> Result<(), WriteFail> {
        self.push(drive, &entry_header(name, data.len() as u64, mtime, mode))?;
        self.push(drive, data)?;
        self.zeros(drive, record_padding(data.len() as u64))
    }
}

/// An object as the writer knows it.
struct ObjectState {
    entry: CatalogObject,
    /// All its bytes were given (its segments are on tape or pending).
    accepted: bool,
}

/// A segment given to the current data file whose last block is not yet
/// written.
struct Pending {
    object: usize,
    offset: u64,
    len: u64,
    entry: String,
    blake3: String,
    mtime: i64,
    /// Where it ends in the tape file's byte stream.
    end: u64,
    /// Its bytes, once its object's `write_object` has returned.
    data: Option<Held>,
}

/// The bytes of a segment kept for writing again after end of medium: a
/// copy, or a range of the caller's shared buffer (no copy).
enum Held {
    Copy(Vec<u8>),
    Shared(Arc<Vec<u8>>, Range<usize>),
}

impl Held {
    fn bytes(&self) -> &[u8] {
        match self {
            Held::Copy(v) => v,
            Held::Shared(v, r) => &v[r.clone()],
        }
    }
}

/// The object whose `write_object` has not yet returned `Done`.
struct Current {
    object: usize,
    hasher: blake3::Hasher,
    hashed: u64,
}

/// The cartridge being written.
struct Open {
    seq: u32,
    medium: String,
    /// Tape file number of the data file being written.
    data_file: u64,
    /// Labelled by this writer (not appended to).
    fresh: bool,
    /// Segments written whole on this cartridge.
    durable: u64,
}

/// Writes a media set: labels cartridges, streams objects into data tape
/// files, and writes the cumulative catalogs. See the module documentation
/// and `docs/tape-format.md`.
pub struct SetWriter {
    set: String,
    pool: String,
    set_started: OffsetDateTime,
    segment_size: u64,
    cartridges: Vec<CatalogCartridge>,
    snapshots: Vec<String>,
    objects: Vec<ObjectState>,
    index: HashMap<String, usize>,
    open: Option<Open>,
    out: BlockOut,
    pending: Vec<Pending>,
    retry: VecDeque<Pending>,
    current: Option<Current>,
    anchor: Option<serde_json::Value>,
}

impl SetWriter {
    /// A new media set. `segment_size` (at least 512; smaller values are
    /// raised) is fixed for the set's life: objects larger than it are cut
    /// into parts of exactly that size.
    pub fn new(set: &str, pool: &str, started: OffsetDateTime, segment_size: u64) -> SetWriter {
        SetWriter {
            set: set.to_owned(),
            pool: pool.to_owned(),
            set_started: started,
            segment_size: segment_size.max(RECORD as u64),
            cartridges: Vec::new(),
            snapshots: Vec::new(),
            objects: Vec::new(),
            index: HashMap::new(),
            open: None,
            out: BlockOut::new(),
            pending: Vec::new(),
            retry: VecDeque::new(),
            current: None,
            anchor: None,
        }
    }

    /// The anchor (the site catalog's head, as JSON) written in every
    /// catalog from now on, until set again. An appended set keeps the
    /// anchor of its last catalog until then.
    pub fn set_anchor(&mut self, anchor: Option<serde_json::Value>) {
        self.anchor = anchor;
    }

    /// Continue an existing set with a new job. `catalog` is the set's
    /// latest catalog ([`super::last_catalog`] of its last cartridge), and
    /// the drive holds the cartridge it was read from. The next data file
    /// starts right after that catalog, erasing whatever a killed job left
    /// behind it. The set keeps its segment size; objects the catalog lists
    /// whole are [`SetWriter::contains`]; objects it lists in part are
    /// completed by writing them again (only their missing parts go to tape).
    pub fn append(
        drive: &mut dyn TapeDrive,
        catalog: SetCatalog,
    ) -> Result<SetWriter, FormatError> {
        if catalog.format > FORMAT_VERSION {
            return Err(FormatError::UnsupportedFormat {
                medium: catalog.medium,
                what: "catalog",
                format: catalog.format,
            });
        }
        let expected = format!(
            "cartridge {} (number {} of media set {})",
            catalog.medium, catalog.seq, catalog.set
        );
        let label = read_label(drive)?.ok_or_else(|| FormatError::WrongCartridge {
            expected: expected.clone(),
            found: "a blank tape".into(),
        })?;
        if label.set != catalog.set || label.medium != catalog.medium || label.seq != catalog.seq {
            return Err(FormatError::WrongCartridge {
                expected,
                found: format!(
                    "cartridge {} (number {} of media set {})",
                    label.medium, label.seq, label.set
                ),
            });
        }
        // Go past the catalog's file mark; if the job that wrote it died
        // before the mark, write it now.
        drive.locate_file(catalog.file)?;
        let mut buf = vec![0; BLOCK_SIZE];
        loop {
            match drive.read_block(&mut buf)? {
                crate::device::ReadBlock::Data(_) => {}
                crate::device::ReadBlock::FileMark => break,
                crate::device::ReadBlock::EndOfData => {
                    drive.write_filemarks(1)?;
                    break;
                }
            }
        }
        let mut w = SetWriter::new(
            &catalog.set,
            &catalog.pool,
            catalog.set_started,
            catalog.segment_size,
        );
        w.cartridges = catalog.cartridges;
        w.snapshots = catalog.snapshots;
        w.anchor = catalog.anchor;
        for o in catalog.objects {
            w.index.insert(o.path.clone(), w.objects.len());
            w.objects.push(ObjectState {
                accepted: o.is_whole(),
                entry: o,
            });
        }
        w.open = Some(Open {
            seq: catalog.seq,
            medium: catalog.medium,
            data_file: catalog.file + 1,
            fresh: false,
            durable: 0,
        });
        Ok(w)
    }

    /// Label a new cartridge as the next of the set (erasing it) and start
    /// a data file on it.
    pub fn start_cartridge(
        &mut self,
        drive: &mut dyn TapeDrive,
        medium: &str,
        now: OffsetDateTime,
    ) -> Result<(), FormatError> {
        if let Some(open) = &self.open {
            return Err(FormatError::CartridgeOpen {
                set: self.set.clone(),
                medium: open.medium.clone(),
            });
        }
        if self.cartridges.iter().any(|c| c.medium == medium) {
            return Err(FormatError::MediumInSet {
                set: self.set.clone(),
                medium: medium.to_owned(),
            });
        }
        let seq = self.cartridges.last().map_or(1, |c| c.seq + 1);
        write_label(
            drive,
            &Label {
                format: FORMAT_VERSION,
                medium: medium.to_owned(),
                pool: self.pool.clone(),
                set: self.set.clone(),
                seq,
                created: now,
                set_started: self.set_started,
            },
        )?;
        self.out.blocks += 1;
        self.cartridges.push(CatalogCartridge {
            seq,
            medium: medium.to_owned(),
        });
        self.out.reset();
        self.open = Some(Open {
            seq,
            medium: medium.to_owned(),
            data_file: 1,
            fresh: true,
            durable: 0,
        });
        Ok(())
    }

    /// The set holds the object `path` whole, or this writer has accepted
    /// all of it.
    pub fn contains(&self, path: &str) -> bool {
        self.index
            .get(path)
            .is_some_and(|&i| self.objects[i].accepted)
    }

    /// Write one repository object (its repository-relative path and all
    /// its bytes). Already contained objects are skipped. On
    /// [`Progress::NeedCartridge`], start the next cartridge and call again
    /// with the same object: segments already written are not written
    /// again.
    pub fn write_object(
        &mut self,
        drive: &mut dyn TapeDrive,
        path: &str,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<Progress, FormatError> {
        self.write(drive, path, bytes, None, None, now)
    }

    /// [`write_object`](Self::write_object) for a job that streams: the
    /// segments kept for a possible retry share `bytes` instead of copying
    /// them, and `blake3` (the BLAKE3 of all of `bytes`, computed by the
    /// caller while the previous object was being written) is taken as the
    /// object's hash instead of hashing again here.
    pub fn write_shared(
        &mut self,
        drive: &mut dyn TapeDrive,
        path: &str,
        bytes: &Arc<Vec<u8>>,
        blake3: blake3::Hash,
        now: OffsetDateTime,
    ) -> Result<Progress, FormatError> {
        self.write(drive, path, bytes, Some(bytes), Some(blake3), now)
    }

    fn write(
        &mut self,
        drive: &mut dyn TapeDrive,
        path: &str,
        bytes: &[u8],
        shared: Option<&Arc<Vec<u8>>>,
        known: Option<blake3::Hash>,
        now: OffsetDateTime,
    ) -> Result<Progress, FormatError> {
        self.require_open()?;
        if let Some(c) = &self.current {
            let current = &self.objects[c.object].entry.path;
            if current != path {
                return Err(FormatError::ObjectInProgress {
                    current: current.clone(),
                    given: path.to_owned(),
                });
            }
        } else if self.contains(path) {
            return Ok(Progress::Done);
        }
        if self.drain_retries(drive, now)? == Progress::NeedCartridge {
            return Ok(Progress::NeedCartridge);
        }
        let size = bytes.len() as u64;
        let object = match &self.current {
            Some(c) => c.object,
            None => {
                if !valid_object_path(path) {
                    return Err(FormatError::InvalidPath {
                        path: path.to_owned(),
                    });
                }
                let object = match self.index.get(path) {
                    Some(&i) => {
                        if self.objects[i].entry.size != size {
                            return Err(FormatError::ObjectMismatch {
                                path: path.to_owned(),
                                what: format!(
                                    "{size} bytes given, the set holds {} bytes",
                                    self.objects[i].entry.size
                                ),
                            });
                        }
                        i
                    }
                    None => {
                        self.index.insert(path.to_owned(), self.objects.len());
                        self.objects.push(ObjectState {
                            entry: CatalogObject {
                                path: path.to_owned(),
                                size,
                                blake3: None,
                                segments: Vec::new(),
                            },
                            accepted: false,
                        });
                        self.objects.len() - 1
                    }
                };
                self.current = Some(Current {
                    object,
                    hasher: blake3::Hasher::new(),
                    hashed: 0,
                });
                object
            }
        };
        let count = segment_count(size, self.segment_size);
        let mtime = now.unix_timestamp();
        for k in 0..count {
            let offset = k * self.segment_size;
            let len = (size - offset).min(self.segment_size);
            if self.has_segment(object, offset) {
                continue;
            }
            if self.out.early_warning {
                self.close(drive, now, false)?;
                return Ok(Progress::NeedCartridge);
            }
            let piece = &bytes[offset as usize..(offset + len) as usize];
            let cur = self.current.as_mut().expect("an object is being written");
            let blake3 = match known {
                Some(h) if count == 1 => h.to_hex().to_string(),
                Some(_) => blake3::hash(piece).to_hex().to_string(),
                None => {
                    if cur.hashed < offset + len {
                        cur.hasher
                            .update(&bytes[cur.hashed as usize..(offset + len) as usize]);
                        cur.hashed = offset + len;
                    }
                    if count == 1 {
                        cur.hasher.finalize().to_hex().to_string()
                    } else {
                        blake3::hash(piece).to_hex().to_string()
                    }
                }
            };
            let entry = entry_name(path, k, count);
            match self.out.entry(drive, &entry, piece, mtime, 0o600) {
                Ok(()) => {}
                Err(WriteFail::EndOfMedium(_)) => {
                    self.abandon(drive, now)?;
                    return Ok(Progress::NeedCartridge);
                }
                Err(e) => return Err(e.into()),
            }
            self.pending.push(Pending {
                object,
                offset,
                len,
                entry,
                blake3,
                mtime,
                end: self.out.pushed,
                data: None,
            });
            self.promote();
        }
        // Every byte was given: the object is accepted.
        let mut cur = self.current.take().expect("an object is being written");
        let hash = match known {
            Some(h) => h.to_hex().to_string(),
            None => {
                if cur.hashed < size {
                    cur.hasher.update(&bytes[cur.hashed as usize..]);
                }
                cur.hasher.finalize().to_hex().to_string()
            }
        };
        let state = &mut self.objects[object];
        if let Some(known) = &state.entry.blake3 {
            if *known != hash {
                return Err(FormatError::ObjectMismatch {
                    path: path.to_owned(),
                    what: "its BLAKE3 differs from the one the set holds".into(),
                });
            }
        }
        state.entry.blake3 = Some(hash);
        state.accepted = true;
        for p in self.pending.iter_mut().filter(|p| p.object == object) {
            let range = p.offset as usize..(p.offset + p.len) as usize;
            p.data = Some(match shared {
                Some(v) => Held::Shared(Arc::clone(v), range),
                None => Held::Copy(bytes[range].to_vec()),
            });
        }
        Ok(Progress::Done)
    }

    /// End the job: close the data file and write the catalog with
    /// `complete = true`, adding `snapshots` (the snapshots all of whose
    /// objects are now in the set) to the set's list.
    pub fn finish(
        &mut self,
        drive: &mut dyn TapeDrive,
        snapshots: Vec<String>,
        now: OffsetDateTime,
    ) -> Result<Finish, FormatError> {
        self.require_open()?;
        if let Some(c) = &self.current {
            return Err(FormatError::ObjectInProgress {
                current: self.objects[c.object].entry.path.clone(),
                given: "the end of the job".into(),
            });
        }
        for s in snapshots {
            if !self.snapshots.contains(&s) {
                self.snapshots.push(s);
            }
        }
        if self.drain_retries(drive, now)? == Progress::NeedCartridge {
            return Ok(Finish::NeedCartridge);
        }
        Ok(match self.close(drive, now, true)? {
            Some(catalog) => Finish::Done(Box::new(catalog)),
            None => Finish::NeedCartridge,
        })
    }

    /// The cartridges of the set so far: (seq, medium).
    pub fn cartridges(&self) -> Vec<(u32, String)> {
        self.cartridges
            .iter()
            .map(|c| (c.seq, c.medium.clone()))
            .collect()
    }

    /// Bytes of blocks this writer has written (labels, data, catalogs).
    pub fn bytes_written(&self) -> u64 {
        self.out.blocks * BLOCK_SIZE as u64
    }

    /// The catalog as it would be written now on the open cartridge (or the
    /// last one).
    pub fn catalog(&self, now: OffsetDateTime, complete: bool) -> SetCatalog {
        let (seq, medium, file) = match &self.open {
            Some(o) => (o.seq, o.medium.clone(), o.data_file + 1),
            None => self
                .cartridges
                .last()
                .map_or((0, String::new(), 0), |c| (c.seq, c.medium.clone(), 0)),
        };
        SetCatalog {
            format: FORMAT_VERSION,
            set: self.set.clone(),
            pool: self.pool.clone(),
            set_started: self.set_started,
            seq,
            medium,
            file,
            written: now,
            complete,
            segment_size: self.segment_size,
            cartridges: self.cartridges.clone(),
            snapshots: self.snapshots.clone(),
            objects: self
                .objects
                .iter()
                .filter(|o| !o.entry.segments.is_empty())
                .map(|o| o.entry.clone())
                .collect(),
            anchor: self.anchor.clone(),
        }
    }

    fn require_open(&self) -> Result<(), FormatError> {
        if self.open.is_none() {
            return Err(FormatError::NoCartridge {
                set: self.set.clone(),
            });
        }
        Ok(())
    }

    /// The segment at `offset` is on tape, pending or waiting to be
    /// rewritten.
    fn has_segment(&self, object: usize, offset: u64) -> bool {
        let segs = &self.objects[object].entry.segments;
        segs.binary_search_by_key(&offset, |s| s.offset).is_ok()
            || self
                .pending
                .iter()
                .chain(self.retry.iter())
                .any(|p| p.object == object && p.offset == offset)
    }

    /// Record pending segments whose last block is written.
    fn promote(&mut self) {
        let flushed = self.out.flushed;
        if !self.pending.iter().any(|p| p.end <= flushed) {
            return;
        }
        let open = self.open.as_mut().expect("a cartridge is open");
        let (done, rest): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| p.end <= flushed);
        self.pending = rest;
        for p in done {
            let segs = &mut self.objects[p.object].entry.segments;
            let at = segs.partition_point(|s| s.offset < p.offset);
            segs.insert(
                at,
                Segment {
                    seq: open.seq,
                    file: open.data_file,
                    entry: p.entry,
                    offset: p.offset,
                    len: p.len,
                    blake3: p.blake3,
                },
            );
            open.durable += 1;
        }
    }

    /// Write again the segments that end of medium cut off.
    fn drain_retries(
        &mut self,
        drive: &mut dyn TapeDrive,
        now: OffsetDateTime,
    ) -> Result<Progress, FormatError> {
        while let Some(mut p) = self.retry.pop_front() {
            if self.out.early_warning {
                self.retry.push_front(p);
                self.close(drive, now, false)?;
                return Ok(Progress::NeedCartridge);
            }
            let data = p.data.take().expect("retried segments keep their bytes");
            match self
                .out
                .entry(drive, &p.entry, data.bytes(), p.mtime, 0o600)
            {
                Ok(()) => {
                    p.data = Some(data);
                    p.end = self.out.pushed;
                    self.pending.push(p);
                    self.promote();
                }
                Err(WriteFail::EndOfMedium(_)) => {
                    p.data = Some(data);
                    self.retry.push_front(p);
                    self.abandon(drive, now)?;
                    return Ok(Progress::NeedCartridge);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Progress::Done)
    }

    /// Close the cartridge: end the data file, file mark, catalog, file
    /// mark. `Some(catalog)` when all of it was written.
    fn close(
        &mut self,
        drive: &mut dyn TapeDrive,
        now: OffsetDateTime,
        complete: bool,
    ) -> Result<Option<SetCatalog>, FormatError> {
        match self.out.end_archive(drive) {
            Ok(()) => {}
            Err(WriteFail::EndOfMedium(_)) => {
                self.abandon(drive, now)?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        self.promote();
        debug_assert!(self.pending.is_empty());
        ignore_eom(drive.write_filemarks(1))?;
        let catalog = self.write_catalog(drive, now, complete)?;
        self.open = None;
        Ok(catalog)
    }

    /// End of medium in the data file: the pending segments go back to be
    /// written on the next cartridge; try to end the file and write the
    /// catalog (end of medium ignored).
    fn abandon(
        &mut self,
        drive: &mut dyn TapeDrive,
        now: OffsetDateTime,
    ) -> Result<(), FormatError> {
        // Segments whose last block was written before the failing one stay.
        self.promote();
        let open = self.open.as_ref().expect("a cartridge is open");
        if open.fresh && open.data_file == 1 && open.durable == 0 {
            return Err(FormatError::SegmentDoesNotFit {
                medium: open.medium.clone(),
            });
        }
        self.out.reset();
        let mut again: VecDeque<Pending> = self
            .pending
            .drain(..)
            .filter(|p| p.data.is_some())
            .collect();
        again.extend(self.retry.drain(..));
        self.retry = again;
        ignore_eom(drive.write_filemarks(1))?;
        self.write_catalog(drive, now, false)?;
        self.open = None;
        Ok(())
    }

    /// The catalog tape file and its file mark. `None` if end of medium
    /// cut it.
    fn write_catalog(
        &mut self,
        drive: &mut dyn TapeDrive,
        now: OffsetDateTime,
        complete: bool,
    ) -> Result<Option<SetCatalog>, FormatError> {
        let catalog = self.catalog(now, complete);
        let json = serde_json::to_vec(&catalog).expect("a catalog serializes");
        self.out.reset();
        let written = self
            .out
            .entry(drive, CATALOG_ENTRY, &json, now.unix_timestamp(), 0o644)
            .and_then(|()| self.out.end_archive(drive));
        match written {
            Ok(()) => {}
            Err(WriteFail::EndOfMedium(_)) => {
                self.out.reset();
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        if !ignore_eom(drive.write_filemarks(1))? {
            return Ok(None);
        }
        Ok(Some(catalog))
    }
}

/// `Ok(false)` for end of medium, other errors as they are.
fn ignore_eom(r: Result<(), TapeError>) -> Result<bool, FormatError> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if tape_error_is_eom(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
