//! POSIX pax / ustar headers, written and read by hand (the workspace has no
//! tar crate, and hokan needs only regular files).
//!
//! What is written: for each entry an optional pax extended header (`x`)
//! carrying `path` (names over 100 bytes), `size` (8 GiB and more) and
//! `mtime` (before 1970 or after 2242), then a ustar header (`ustar\0`,
//! version `00`), the data, zeros to a multiple of 512. What is read: ustar
//! and GNU headers, pax `x` (path, size) and `g` headers, GNU `L` long names;
//! every other entry type is skipped over.

use crate::device::{ReadBlock, TapeDrive, TapeError};

use super::{FormatError, BLOCK_SIZE};

/// A tar record.
pub(crate) const RECORD: usize = 512;

/// The largest value of an 11-digit octal field (size, mtime).
const OCTAL_11_MAX: u64 = 0o77_777_777_777;

/// Bytes needed after `len` bytes of data to reach a record boundary.
pub(crate) fn record_padding(len: u64) -> usize {
    ((RECORD as u64 - len % RECORD as u64) % RECORD as u64) as usize
}

/// Header bytes (pax header if needed, then the ustar header) of a regular
/// file entry.
pub(crate) fn entry_header(name: &str, size: u64, mtime: i64, mode: u32) -> Vec<u8> {
    let mtime_fits = (0..=OCTAL_11_MAX as i64).contains(&mtime);
    let mut records = Vec::new();
    if name.len() > 100 {
        pax_record(&mut records, "path", name);
    }
    if size > OCTAL_11_MAX {
        pax_record(&mut records, "size", &size.to_string());
    }
    if !mtime_fits {
        pax_record(&mut records, "mtime", &mtime.to_string());
    }
    let ustar_mtime = mtime.clamp(0, OCTAL_11_MAX as i64) as u64;
    let mut out = Vec::with_capacity(RECORD * 3);
    if !records.is_empty() {
        let base = name.rsplit('/').next().unwrap_or(name);
        let pax_name = format!("PaxHeaders/{}", tail(base, 89));
        out.extend_from_slice(&ustar(
            &pax_name,
            records.len() as u64,
            ustar_mtime,
            0o644,
            b'x',
        ));
        out.extend_from_slice(&records);
        out.resize(out.len() + record_padding(records.len() as u64), 0);
    }
    let size_field = if size > OCTAL_11_MAX { 0 } else { size };
    out.extend_from_slice(&ustar(tail(name, 100), size_field, ustar_mtime, mode, b'0'));
    out
}

/// The last `max` bytes of `s`, cut at a character boundary.
fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Append one pax record: `"<len> <key>=<value>\n"`, where `len` counts the
/// whole record including its own digits.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    let base = key.len() + value.len() + 3;
    let mut len = base + 1;
    while base + len.to_string().len() != len {
        len = base + len.to_string().len();
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

/// One ustar header record.
fn ustar(name: &str, size: u64, mtime: u64, mode: u32, typeflag: u8) -> [u8; RECORD] {
    let mut h = [0u8; RECORD];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], u64::from(mode));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[156] = typeflag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// Zero-padded octal digits filling all but the last byte, then NUL.
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    field[..digits].copy_from_slice(format!("{value:0digits$o}").as_bytes());
    field[digits] = 0;
}

/// A header as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// The entry name (pax `path` or GNU long name applied).
    pub name: String,
    /// Data bytes that follow.
    pub size: u64,
    /// The type flag (`0` or NUL for regular files).
    pub typeflag: u8,
}

impl Header {
    /// A regular file.
    pub fn is_file(&self) -> bool {
        matches!(self.typeflag, b'0' | 0 | b'7')
    }
}

/// Why reading a tar stream failed.
#[derive(Debug)]
pub(crate) enum TarError {
    /// The drive failed.
    Tape(TapeError),
    /// The tape file ended (file mark or end of data) inside an entry.
    Truncated,
    /// A header that is not a tar header.
    Header(String),
    /// The consumer of the data failed.
    Sink(FormatError),
}

impl From<TapeError> for TarError {
    fn from(e: TapeError) -> Self {
        TarError::Tape(e)
    }
}

/// How a tape file's blocks ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileEnd {
    /// A file mark was read: the drive is at the start of the next file.
    FileMark,
    /// End of recorded data.
    EndOfData,
}

/// The bytes of one tape file, block by block.
pub(crate) struct BlockIn<'d> {
    drive: &'d mut dyn TapeDrive,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    ended: Option<FileEnd>,
    /// Blocks read so far.
    pub blocks: u64,
}

impl<'d> BlockIn<'d> {
    /// Read the tape file at the drive's position.
    pub fn new(drive: &'d mut dyn TapeDrive) -> Self {
        BlockIn {
            drive,
            buf: vec![0; BLOCK_SIZE],
            start: 0,
            end: 0,
            ended: None,
            blocks: 0,
        }
    }

    /// Make bytes available; `Ok(false)` at the end of the tape file.
    pub fn fill(&mut self) -> Result<bool, TapeError> {
        if self.start < self.end {
            return Ok(true);
        }
        if self.ended.is_some() {
            return Ok(false);
        }
        match self.drive.read_block(&mut self.buf)? {
            ReadBlock::Data(n) => {
                self.start = 0;
                self.end = n;
                self.blocks += 1;
                Ok(n > 0 || self.fill()?)
            }
            ReadBlock::FileMark => {
                self.ended = Some(FileEnd::FileMark);
                Ok(false)
            }
            ReadBlock::EndOfData => {
                self.ended = Some(FileEnd::EndOfData);
                Ok(false)
            }
        }
    }

    /// How the file ended, once it has.
    pub fn ended(&self) -> Option<FileEnd> {
        self.ended
    }

    /// Pass the next `n` bytes to `f`; returns how many there were (fewer
    /// than `n` at the end of the file).
    fn take(
        &mut self,
        mut n: u64,
        f: &mut dyn FnMut(&[u8]) -> Result<(), FormatError>,
    ) -> Result<u64, TarError> {
        let mut done = 0;
        while n > 0 && self.fill()? {
            let k = (self.end - self.start).min(usize::try_from(n).unwrap_or(usize::MAX));
            f(&self.buf[self.start..self.start + k]).map_err(TarError::Sink)?;
            self.start += k;
            n -= k as u64;
            done += k as u64;
        }
        Ok(done)
    }

    /// Skip to the end of the tape file; returns how it ended.
    pub fn finish(&mut self) -> Result<FileEnd, TapeError> {
        self.start = self.end;
        while self.fill()? {
            self.start = self.end;
        }
        Ok(self.ended.unwrap_or(FileEnd::EndOfData))
    }
}

/// A tar archive read from a tape file.
pub(crate) struct TarReader<'d> {
    /// The blocks.
    pub input: BlockIn<'d>,
}

impl<'d> TarReader<'d> {
    /// Read the tape file at the drive's position.
    pub fn new(drive: &'d mut dyn TapeDrive) -> Self {
        TarReader {
            input: BlockIn::new(drive),
        }
    }

    /// Read exactly one record; `None` at the end of the tape file.
    fn record(&mut self) -> Result<Option<[u8; RECORD]>, TarError> {
        let mut rec = [0u8; RECORD];
        let mut at = 0;
        let n = self.input.take(RECORD as u64, &mut |b| {
            rec[at..at + b.len()].copy_from_slice(b);
            at += b.len();
            Ok(())
        })?;
        match n {
            0 => Ok(None),
            512 => Ok(Some(rec)),
            _ => Err(TarError::Truncated),
        }
    }

    /// The next header, or `None` at the end of the archive (a zero record)
    /// or of the tape file.
    pub fn next_header(&mut self) -> Result<Option<Header>, TarError> {
        let mut long_name: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            let Some(rec) = self.record()? else {
                return Ok(None);
            };
            if rec.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            let h = parse_ustar(&rec)?;
            match h.typeflag {
                b'x' | b'L' => {
                    let mut data = Vec::new();
                    self.read_data(h.size, &mut |b| {
                        data.extend_from_slice(b);
                        Ok(())
                    })?;
                    if h.typeflag == b'L' {
                        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                        long_name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
                    } else {
                        for (key, value) in parse_pax(&data)? {
                            match key.as_str() {
                                "path" => long_name = Some(value),
                                "size" => {
                                    pax_size = Some(value.parse().map_err(|_| {
                                        TarError::Header(format!("pax size {value:?}"))
                                    })?)
                                }
                                _ => {}
                            }
                        }
                    }
                }
                b'g' => self.skip_data(h.size)?,
                _ => {
                    return Ok(Some(Header {
                        name: long_name.unwrap_or(h.name),
                        size: pax_size.unwrap_or(h.size),
                        typeflag: h.typeflag,
                    }))
                }
            }
        }
    }

    /// Pass an entry's `size` data bytes to `f`, then skip its padding.
    pub fn read_data(
        &mut self,
        size: u64,
        f: &mut dyn FnMut(&[u8]) -> Result<(), FormatError>,
    ) -> Result<(), TarError> {
        if self.input.take(size, f)? != size {
            return Err(TarError::Truncated);
        }
        let pad = record_padding(size) as u64;
        if self.input.take(pad, &mut |_| Ok(()))? != pad {
            return Err(TarError::Truncated);
        }
        Ok(())
    }

    /// Skip an entry's data and padding.
    pub fn skip_data(&mut self, size: u64) -> Result<(), TarError> {
        self.read_data(size, &mut |_| Ok(()))
    }
}

/// Parse one ustar (or GNU) header record, checking its checksum.
pub(crate) fn parse_ustar(rec: &[u8; RECORD]) -> Result<Header, TarError> {
    let stored = parse_number(&rec[148..156])
        .ok_or_else(|| TarError::Header("checksum field is not a number".into()))?;
    let unsigned: u64 = rec
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    let signed: i64 = rec
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(b as i8)
            }
        })
        .sum();
    if stored != unsigned && stored as i64 != signed {
        return Err(TarError::Header("header checksum does not match".into()));
    }
    let field = |r: &[u8]| {
        let end = r.iter().position(|&b| b == 0).unwrap_or(r.len());
        String::from_utf8_lossy(&r[..end]).into_owned()
    };
    let mut name = field(&rec[0..100]);
    if &rec[257..263] == b"ustar\0" {
        let prefix = field(&rec[345..500]);
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
    }
    let size = parse_number(&rec[124..136])
        .ok_or_else(|| TarError::Header(format!("entry {name}: size field is not a number")))?;
    Ok(Header {
        name,
        size,
        typeflag: rec[156],
    })
}

/// An octal field (spaces and NULs around it), or GNU base-256.
fn parse_number(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c| c == ' ' || c == '\0');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// The records of a pax extended header.
fn parse_pax(mut data: &[u8]) -> Result<Vec<(String, String)>, TarError> {
    let bad = || TarError::Header("malformed pax record".into());
    let mut out = Vec::new();
    while !data.is_empty() && data[0] != 0 {
        let space = data.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err(bad());
        }
        let record = std::str::from_utf8(&data[space + 1..len - 1]).map_err(|_| bad())?;
        let (key, value) = record.split_once('=').ok_or_else(bad)?;
        out.push((key.to_owned(), value.to_owned()));
        data = &data[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(bytes: &[u8]) -> Header {
        // Run the header through the reader's parsing without a drive: pax
        // records are applied the way `next_header` does.
        let mut at = 0;
        let mut path = None;
        let mut size = None;
        loop {
            let rec: [u8; RECORD] = bytes[at..at + RECORD].try_into().unwrap();
            let h = parse_ustar(&rec).unwrap();
            at += RECORD;
            if h.typeflag == b'x' {
                let data = &bytes[at..at + h.size as usize];
                for (k, v) in parse_pax(data).unwrap() {
                    match k.as_str() {
                        "path" => path = Some(v),
                        "size" => size = Some(v.parse().unwrap()),
                        _ => {}
                    }
                }
                at += h.size as usize + record_padding(h.size);
                continue;
            }
            assert_eq!(at, bytes.len(), "the header ends after the ustar record");
            return Header {
                name: path.unwrap_or(h.name),
                size: size.unwrap_or(h.size),
                typeflag: h.typeflag,
            };
        }
    }

    #[test]
    fn short_name_is_plain_ustar() {
        let h = entry_header("config", 1234, 1_700_000_000, 0o600);
        assert_eq!(h.len(), RECORD);
        assert_eq!(&h[257..263], b"ustar\0");
        assert_eq!(&h[124..136], b"00000002322\0");
        assert_eq!(
            header_of(&h),
            Header {
                name: "config".into(),
                size: 1234,
                typeflag: b'0'
            }
        );
    }

    #[test]
    fn long_name_and_large_size_use_pax() {
        let name = format!("data/ab/{}.part0001", "ab".repeat(64));
        let size = 9 << 30;
        let h = entry_header(&name, size, -5, 0o600);
        assert_eq!(h[156], b'x');
        assert_eq!(h.len() % RECORD, 0);
        let parsed = header_of(&h);
        assert_eq!(parsed.name, name);
        assert_eq!(parsed.size, size);
    }

    #[test]
    fn pax_record_length_counts_itself() {
        for n in [1usize, 5, 90, 95, 96, 97, 990, 995, 996] {
            let mut out = Vec::new();
            let value = "v".repeat(n);
            pax_record(&mut out, "path", &value);
            let s = String::from_utf8(out.clone()).unwrap();
            let len: usize = s.split(' ').next().unwrap().parse().unwrap();
            assert_eq!(len, out.len(), "{s:?}");
            assert_eq!(parse_pax(&out).unwrap(), vec![("path".into(), value)]);
        }
    }

    #[test]
    fn bad_checksum_is_refused() {
        let mut h = entry_header("config", 1, 0, 0o600);
        h[0] = b'C';
        let rec: [u8; RECORD] = h[..RECORD].try_into().unwrap();
        assert!(matches!(parse_ustar(&rec), Err(TarError::Header(_))));
    }
}
