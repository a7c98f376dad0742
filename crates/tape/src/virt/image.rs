//! Cartridge images: the record format, scanning, and the buffered writer
//! of a drive.
//!
//! An image is a sequence of records `[kind u8][len u32 LE][len bytes]`:
//! kind [`BLOCK`] carries one tape block, kind [`FILE_MARK`] has length 0.
//! Writing truncates the image at the position first, so the image always
//! ends where the last write ended, as a tape does.

use std::fs::File;
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Record kind of a data block.
pub(crate) const BLOCK: u8 = 1;
/// Record kind of a file mark.
pub(crate) const FILE_MARK: u8 = 2;
/// Bytes of a record header.
pub(crate) const HEADER: u64 = 5;

/// Small records gather in a buffer of this size before one `write`.
const BUFFER: usize = 1 << 20;
/// Blocks of at least this size skip the buffer: the pending bytes, the
/// header and the block go out in one `writev`, so a large block costs one
/// system call and no extra copy, like a plain `write` of it.
const DIRECT: usize = 64 << 10;
/// Read-ahead when reading records.
const READ_AHEAD: usize = 1 << 20;

/// A position on a cartridge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pos {
    /// Byte offset in the image (always a record boundary).
    pub offset: u64,
    /// Tape file number (file marks before the position).
    pub file: u64,
    /// Block number within that tape file.
    pub block: u64,
    /// Payload bytes of all blocks before the position (capacity used).
    pub used: u64,
}

impl Pos {
    /// The position after a block of `len` bytes at `self`.
    fn after_block(self, len: u64) -> Pos {
        Pos {
            offset: self.offset + HEADER + len,
            file: self.file,
            block: self.block + 1,
            used: self.used + len,
        }
    }

    /// The position after a file mark at `self`.
    fn after_mark(self) -> Pos {
        Pos {
            offset: self.offset + HEADER,
            file: self.file + 1,
            block: 0,
            used: self.used,
        }
    }
}

/// One record's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// A block of this many bytes.
    Block(u32),
    /// A file mark.
    FileMark,
}

impl Record {
    /// The position after this record at `pos`.
    pub(crate) fn after(self, pos: Pos) -> Pos {
        match self {
            Record::Block(len) => pos.after_block(u64::from(len)),
            Record::FileMark => pos.after_mark(),
        }
    }
}

/// Decodes a header; `None` for an unknown kind.
fn decode(h: &[u8]) -> Option<Record> {
    let len = u32::from_le_bytes([h[1], h[2], h[3], h[4]]);
    match (h[0], len) {
        (BLOCK, len) => Some(Record::Block(len)),
        (FILE_MARK, 0) => Some(Record::FileMark),
        _ => None,
    }
}

fn corrupt(offset: u64, h: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "cartridge image damaged at byte {offset}: record kind {} length {} is neither a \
             block (1) nor a file mark (2, length 0)",
            h[0],
            u32::from_le_bytes([h[1], h[2], h[3], h[4]])
        ),
    )
}

/// What a scan of a whole image found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The end of the last whole record: the end of data.
    pub end: Pos,
    /// The file's length; more than `end.offset` when a record is torn.
    pub file_len: u64,
    /// Where a record header made no sense, if one did: damage, or a
    /// record another handle is writing right now.
    pub undecodable: Option<u64>,
}

/// Walks the record headers of `file` from the start to the end of the
/// last whole record. Headers are read with `pread` through a small window,
/// so a scan reads a few KiB per large block, not the block.
pub(crate) fn scan(file: &File) -> io::Result<Scan> {
    const WINDOW: usize = 8 << 10;
    let file_len = file.metadata()?.len();
    let mut window = vec![0u8; WINDOW];
    let (mut at, mut filled) = (0u64, 0usize);
    let mut pos = Pos::default();
    while pos.offset + HEADER <= file_len {
        let start = pos.offset.wrapping_sub(at) as usize;
        if pos.offset < at || start + HEADER as usize > filled {
            at = pos.offset;
            let want = WINDOW.min((file_len - at) as usize);
            file.read_exact_at(&mut window[..want], at)?;
            filled = want;
        }
        let i = (pos.offset - at) as usize;
        let h = &window[i..i + HEADER as usize];
        let Some(record) = decode(h) else {
            return Ok(Scan {
                end: pos,
                file_len,
                undecodable: Some(pos.offset),
            });
        };
        let next = record.after(pos);
        if next.offset > file_len {
            break;
        }
        pos = next;
    }
    Ok(Scan {
        end: pos,
        file_len,
        undecodable: None,
    })
}

/// Copies the blocks of tape file `n` of the image at `path` to `out`;
/// returns the bytes copied, or `Ok(None)` when the tape holds fewer files.
pub(crate) fn export_file(path: &Path, n: u64, out: &mut dyn Write) -> io::Result<Option<u64>> {
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut reader = io::BufReader::with_capacity(READ_AHEAD, file);
    let mut pos = Pos::default();
    let mut copied = 0u64;
    let mut h = [0u8; HEADER as usize];
    let mut chunk = Vec::new();
    while pos.offset + HEADER <= file_len {
        reader.read_exact(&mut h)?;
        let record = decode(&h).ok_or_else(|| corrupt(pos.offset, &h))?;
        let next = record.after(pos);
        if next.offset > file_len {
            break;
        }
        match record {
            Record::FileMark if pos.file == n => return Ok(Some(copied)),
            Record::FileMark => {}
            Record::Block(len) if pos.file == n => {
                chunk.resize(len as usize, 0);
                reader.read_exact(&mut chunk)?;
                out.write_all(&chunk)?;
                copied += u64::from(len);
            }
            Record::Block(len) => reader.seek_relative(i64::from(len))?,
        }
        pos = next;
    }
    // An unterminated last tape file still counts; nothing after the last
    // file mark is no tape file.
    Ok((pos.file == n && pos.block > 0).then_some(copied))
}

/// A cartridge image opened by a drive: reads at positions, appends
/// records through a buffer.
pub(crate) struct Image {
    file: File,
    /// The end of data, including buffered records.
    eod: Pos,
    /// Whole records not yet handed to the OS; they belong at `flushed`.
    pending: Vec<u8>,
    /// Where the file ends on disk (and its cursor stands).
    flushed: u64,
    /// Read-ahead: bytes of the file from `rbuf_at`.
    rbuf: Vec<u8>,
    rbuf_at: u64,
}

impl Image {
    /// Opens the image at `path` and cuts a torn trailing record off.
    /// Returns the image and the number of bytes cut.
    ///
    /// Every open image holds a shared `flock` on its file. A torn tail is
    /// cut (and damage reported) only by a handle that can take the lock
    /// exclusively: with another handle open — another process writing the
    /// cartridge right now, while `tape status` looks at the drive — the
    /// tail is a record being written, and cutting it would punch a hole in
    /// the writer's data. A killed writer's lock goes with it.
    pub(crate) fn open(path: &Path) -> io::Result<(Image, u64)> {
        let mut file = File::options().read(true).write(true).open(path)?;
        flock(&file, libc::LOCK_SH)?;
        let scan = scan(&file)?;
        let mut cut = scan.file_len - scan.end.offset;
        if cut > 0 {
            if flock(&file, libc::LOCK_EX | libc::LOCK_NB).is_ok() {
                if let Some(at) = scan.undecodable {
                    let mut h = [0u8; HEADER as usize];
                    file.read_exact_at(&mut h, at)?;
                    return Err(corrupt(at, &h));
                }
                file.set_len(scan.end.offset)?;
                flock(&file, libc::LOCK_SH)?;
            } else {
                cut = 0;
            }
        }
        file.seek(SeekFrom::Start(scan.end.offset))?;
        Ok((
            Image {
                file,
                eod: scan.end,
                pending: Vec::new(),
                flushed: scan.end.offset,
                rbuf: Vec::new(),
                rbuf_at: 0,
            },
            cut,
        ))
    }

    /// The end of data.
    pub(crate) fn eod(&self) -> Pos {
        self.eod
    }

    /// Hands buffered records to the OS.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending)?;
            self.flushed += self.pending.len() as u64;
            self.pending.clear();
        }
        Ok(())
    }

    /// Makes `pos` the end of data, erasing what followed, before a write.
    pub(crate) fn erase_after(&mut self, pos: Pos) -> io::Result<()> {
        if pos.offset == self.eod.offset {
            return Ok(());
        }
        self.flush()?;
        self.file.set_len(pos.offset)?;
        self.file.seek(SeekFrom::Start(pos.offset))?;
        self.flushed = pos.offset;
        self.eod = pos;
        self.rbuf.clear();
        Ok(())
    }

    /// Writes one block at `pos` (erasing what followed); returns the
    /// position after it.
    pub(crate) fn write_block(&mut self, pos: Pos, data: &[u8]) -> io::Result<Pos> {
        let len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block over 4 GiB"))?;
        self.erase_after(pos)?;
        self.pending.push(BLOCK);
        self.pending.extend_from_slice(&len.to_le_bytes());
        if data.len() >= DIRECT {
            let total = self.pending.len() + data.len();
            write_all_vectored(
                &mut self.file,
                &mut [IoSlice::new(&self.pending), IoSlice::new(data)],
            )?;
            self.flushed += total as u64;
            self.pending.clear();
        } else {
            self.pending.extend_from_slice(data);
            if self.pending.len() >= BUFFER {
                self.flush()?;
            }
        }
        self.eod = pos.after_block(u64::from(len));
        Ok(self.eod)
    }

    /// Writes one file mark at `pos` (erasing what followed); returns the
    /// position after it.
    pub(crate) fn write_mark(&mut self, pos: Pos) -> io::Result<Pos> {
        self.erase_after(pos)?;
        self.pending.extend_from_slice(&[FILE_MARK, 0, 0, 0, 0]);
        self.eod = pos.after_mark();
        Ok(self.eod)
    }

    /// The bytes of the file at `at`, at least `want` of them when the file
    /// has them; from the read-ahead, refilled when needed (or read
    /// directly, without read-ahead, when `ahead` is false).
    fn bytes_at(&mut self, at: u64, want: usize, ahead: bool) -> io::Result<&[u8]> {
        let end = self.rbuf_at + self.rbuf.len() as u64;
        if !(at >= self.rbuf_at && at + want as u64 <= end) {
            let size = if ahead { READ_AHEAD.max(want) } else { want };
            let size = size.min(self.flushed.saturating_sub(at) as usize);
            self.rbuf.resize(size, 0);
            self.file.read_exact_at(&mut self.rbuf, at)?;
            self.rbuf_at = at;
        }
        let from = (at - self.rbuf_at) as usize;
        Ok(&self.rbuf[from..])
    }

    /// The record at `pos`, or `None` at the end of data.
    pub(crate) fn record_at(&mut self, pos: Pos, ahead: bool) -> io::Result<Option<Record>> {
        if pos.offset >= self.eod.offset {
            return Ok(None);
        }
        self.flush()?;
        let h = self.bytes_at(pos.offset, HEADER as usize, ahead)?;
        if h.len() < HEADER as usize {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "cartridge image shorter than expected at byte {}",
                    pos.offset
                ),
            ));
        }
        let h = [h[0], h[1], h[2], h[3], h[4]];
        decode(&h).map(Some).ok_or_else(|| corrupt(pos.offset, &h))
    }

    /// Reads the payload of the block of `len` bytes whose record starts at
    /// `pos` into `buf` (which holds at least `len` bytes).
    pub(crate) fn read_payload(&mut self, pos: Pos, len: usize, buf: &mut [u8]) -> io::Result<()> {
        let at = pos.offset + HEADER;
        let have = self.bytes_at(at, 0, true)?;
        let n = have.len().min(len);
        buf[..n].copy_from_slice(&have[..n]);
        if n < len {
            self.file.read_exact_at(&mut buf[n..len], at + n as u64)?;
        }
        Ok(())
    }
}

/// `write_all` for several slices in as few `writev` calls as the OS allows.
fn write_all_vectored(file: &mut File, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !bufs.is_empty() {
        match file.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `flock(2)` on the image, retried when interrupted.
fn flock(file: &File, op: i32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor we own; no memory involved.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_another_handle_is_writing_is_not_cut_but_a_dead_writers_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.tape");
        std::fs::write(&path, b"").unwrap();
        let (mut writer, _) = Image::open(&path).unwrap();
        let end = writer.write_block(Pos::default(), &[7u8; 1000]).unwrap();
        writer.flush().unwrap();
        // Half a record more, as a write in progress looks from outside.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&[BLOCK, 0, 4, 0, 0, 9, 9]).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let (reader, cut) = Image::open(&path).unwrap();
        assert_eq!(cut, 0, "the writer is alive: nothing cut");
        assert_eq!(reader.eod(), end);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        drop(reader);
        drop(writer);
        // The writer is gone (killed): the next open cuts the torn record.
        let (_, cut) = Image::open(&path).unwrap();
        assert_eq!(cut, 7);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), end.offset);
    }

    fn image(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("T.tape");
        File::create(&path).unwrap();
        path
    }

    #[test]
    fn small_and_large_blocks_round_trip_through_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let path = image(dir.path());
        let (mut img, _) = Image::open(&path).unwrap();
        let big = vec![7u8; DIRECT + 3];
        let mut pos = img.write_block(Pos::default(), b"abc").unwrap();
        pos = img.write_block(pos, &big).unwrap();
        pos = img.write_mark(pos).unwrap();
        img.flush().unwrap();
        assert_eq!(pos.offset, 3 * HEADER + 3 + big.len() as u64);
        assert_eq!(
            (pos.file, pos.block, pos.used),
            (1, 0, 3 + big.len() as u64)
        );
        let scanned = scan(&File::open(&path).unwrap()).unwrap();
        assert_eq!(scanned.end, pos);
        let mut buf = vec![0u8; big.len()];
        let second = Record::Block(3).after(Pos::default());
        assert_eq!(
            img.record_at(second, true).unwrap(),
            Some(Record::Block(big.len() as u32))
        );
        img.read_payload(second, big.len(), &mut buf).unwrap();
        assert_eq!(buf, big);
    }

    #[test]
    fn an_unknown_record_kind_is_reported_as_damage_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = image(dir.path());
        std::fs::write(&path, [9u8, 0, 0, 0, 0]).unwrap();
        let err = Image::open(&path).err().unwrap();
        assert!(err.to_string().contains("damaged at byte 0"), "{err}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 5);
    }
}
