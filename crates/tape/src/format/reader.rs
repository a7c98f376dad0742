//! Labels, scanning a cartridge, and reading objects back.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::device::{TapeDrive, TapeError};

use super::tar::{entry_header, record_padding, FileEnd, Header, TarError, TarReader, RECORD};
use super::{
    FormatError, Label, SetCatalog, BLOCK_SIZE, CATALOG_ENTRY, FORMAT_VERSION, LABEL_ENTRY,
};

/// Labels and catalogs larger than this are refused as damaged.
const LABEL_MAX: u64 = 1 << 20;
const CATALOG_MAX: u64 = 4 << 30;

pub(crate) fn tape_error_is_eom(e: &TapeError) -> bool {
    matches!(e, TapeError::EndOfMedium { .. })
}

/// Write the label as tape file 0: rewind, one block, a file mark. Erases
/// everything that was on the cartridge.
pub fn write_label(drive: &mut dyn TapeDrive, label: &Label) -> Result<(), FormatError> {
    let json = serde_json::to_vec_pretty(label).expect("a label serializes");
    let mut bytes = entry_header(
        LABEL_ENTRY,
        json.len() as u64,
        label.created.unix_timestamp(),
        0o644,
    );
    bytes.extend_from_slice(&json);
    bytes.resize(
        bytes.len() + record_padding(json.len() as u64) + 2 * RECORD,
        0,
    );
    bytes.resize(bytes.len().div_ceil(BLOCK_SIZE) * BLOCK_SIZE, 0);
    drive.rewind()?;
    for block in bytes.chunks(BLOCK_SIZE) {
        drive.write_block(block)?;
    }
    drive.write_filemarks(1)?;
    Ok(())
}

/// Read the label in tape file 0 (rewinding first). `Ok(None)` for a blank
/// tape; [`FormatError::NotHokan`] for a tape with something else on it.
/// Afterwards the drive is at the start of tape file 1.
pub fn read_label(drive: &mut dyn TapeDrive) -> Result<Option<Label>, FormatError> {
    Ok(read_label_end(drive)?.map(|(label, _)| label))
}

fn read_label_end(drive: &mut dyn TapeDrive) -> Result<Option<(Label, FileEnd)>, FormatError> {
    let device = drive.name();
    let not_hokan = |what: String| FormatError::NotHokan {
        device: device.clone(),
        what,
    };
    drive.rewind()?;
    let mut tar = TarReader::new(drive);
    match tar.input.fill() {
        Ok(true) => {}
        Ok(false) if tar.input.ended() == Some(FileEnd::EndOfData) => return Ok(None),
        Ok(false) => return Err(not_hokan("tape file 0 is empty".into())),
        Err(TapeError::BlockSize { size, .. }) => {
            return Err(not_hokan(format!(
                "its first block ({size} bytes) is larger than hokan's {BLOCK_SIZE}"
            )))
        }
        Err(e) => return Err(e.into()),
    }
    let header = match tar.next_header() {
        Ok(Some(h)) => h,
        Ok(None) => return Err(not_hokan("tape file 0 is an empty tar archive".into())),
        Err(TarError::Tape(e)) => return Err(e.into()),
        Err(e) => {
            return Err(not_hokan(format!(
                "tape file 0 is not a tar archive ({e:?})"
            )))
        }
    };
    if header.name != LABEL_ENTRY || header.size > LABEL_MAX {
        return Err(not_hokan(format!(
            "tape file 0 starts with {:?}, not {LABEL_ENTRY}",
            header.name
        )));
    }
    let medium = format!("in {device}");
    let body = read_body(&mut tar, &header, &medium, 0)?;
    let label: Label = parse_json(&body, &medium, 0, LABEL_ENTRY, "label")?;
    let end = tar.input.finish()?;
    Ok(Some((label, end)))
}

/// Parse a label or catalog, refusing a newer format before looking at its
/// fields (a newer format may have fields this version does not know).
fn parse_json<T: DeserializeOwned>(
    body: &[u8],
    medium: &str,
    file: u64,
    entry: &str,
    what: &'static str,
) -> Result<T, FormatError> {
    let json_err = |source| FormatError::Json {
        medium: medium.to_owned(),
        file,
        entry: entry.to_owned(),
        source,
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(json_err)?;
    let format = value.get("format").and_then(|f| f.as_u64()).unwrap_or(0);
    if format > u64::from(FORMAT_VERSION) {
        let medium = value
            .get("medium")
            .and_then(|m| m.as_str())
            .unwrap_or(medium);
        return Err(FormatError::UnsupportedFormat {
            medium: medium.to_owned(),
            what,
            format: u32::try_from(format).unwrap_or(u32::MAX),
        });
    }
    serde_json::from_value(value).map_err(json_err)
}

/// The data of an entry whose header was just read.
fn read_body(
    tar: &mut TarReader<'_>,
    header: &Header,
    medium: &str,
    file: u64,
) -> Result<Vec<u8>, FormatError> {
    let mut body = Vec::with_capacity(usize::try_from(header.size).unwrap_or(0));
    tar.read_data(header.size, &mut |b| {
        body.extend_from_slice(b);
        Ok(())
    })
    .map_err(|e| tar_error(e, medium, file, &header.name))?;
    Ok(body)
}

/// A tar reading error as a format error about `entry`.
fn tar_error(e: TarError, medium: &str, file: u64, entry: &str) -> FormatError {
    let what = match e {
        TarError::Tape(e) => return e.into(),
        TarError::Sink(e) => return e,
        TarError::Truncated => "the tape file ends inside this entry".to_owned(),
        TarError::Header(what) => format!("bad tar header: {what}"),
    };
    FormatError::Corrupt {
        medium: medium.to_owned(),
        file,
        entry: entry.to_owned(),
        what,
    }
}

/// What is on a cartridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartridgeScan {
    /// The label; `None` for a blank tape (then `files` is empty).
    pub label: Option<Label>,
    /// The tape files, from 0 (the label).
    pub files: Vec<TapeFile>,
}

/// A tape file found by [`scan_cartridge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeFile {
    /// Its number (0 = the label).
    pub number: u64,
    /// What it holds.
    pub kind: TapeFileKind,
    /// It ends with a file mark (a file without one was cut short: the job
    /// writing it was killed).
    pub terminated: bool,
}

/// The kind of a tape file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapeFileKind {
    /// The label (file 0).
    Label(Label),
    /// A data file (only its first block was read).
    Data {
        /// Its first entry; `None` for an empty archive.
        first_entry: Option<String>,
    },
    /// A catalog.
    Catalog(Box<SetCatalog>),
    /// Something hokan did not write, or a damaged catalog.
    Unknown {
        /// What was found.
        what: String,
    },
}

/// Internal kind: catalogs may be left unparsed.
enum Kind {
    Public(TapeFileKind),
    CatalogUnread,
}

/// What is on the loaded cartridge: its label and, for each tape file, its
/// kind. Reads the first block of data files and skips the rest by file
/// marks; reads catalogs whole.
pub fn scan_cartridge(drive: &mut dyn TapeDrive) -> Result<CartridgeScan, FormatError> {
    let (label, files) = scan(drive, true)?;
    Ok(CartridgeScan {
        label,
        files: files
            .into_iter()
            .map(|(number, kind, terminated)| TapeFile {
                number,
                kind: match kind {
                    Kind::Public(k) => k,
                    Kind::CatalogUnread => unreachable!("catalogs are parsed"),
                },
                terminated,
            })
            .collect(),
    })
}

type Scanned = (Option<Label>, Vec<(u64, Kind, bool)>);

fn scan(drive: &mut dyn TapeDrive, parse_catalogs: bool) -> Result<Scanned, FormatError> {
    let Some((label, end)) = read_label_end(drive)? else {
        return Ok((None, Vec::new()));
    };
    let medium = label.medium.clone();
    let mut files = vec![(
        0,
        Kind::Public(TapeFileKind::Label(label.clone())),
        end == FileEnd::FileMark,
    )];
    if end == FileEnd::EndOfData {
        return Ok((Some(label), files));
    }
    for number in 1.. {
        let mut tar = TarReader::new(&mut *drive);
        if !tar.input.fill()? {
            if tar.input.ended() == Some(FileEnd::EndOfData) {
                break;
            }
            let what = "an empty tape file".to_owned();
            files.push((number, Kind::Public(TapeFileKind::Unknown { what }), true));
            continue;
        }
        let kind = match tar.next_header() {
            Ok(None) => Kind::Public(TapeFileKind::Data { first_entry: None }),
            Ok(Some(h)) if h.name == CATALOG_ENTRY => {
                if parse_catalogs {
                    match read_catalog_body(&mut tar, &h, &label, number) {
                        Ok(c) => Kind::Public(TapeFileKind::Catalog(Box::new(c))),
                        Err(FormatError::Tape(e)) => return Err(e.into()),
                        Err(e) => Kind::Public(TapeFileKind::Unknown {
                            what: format!("a damaged catalog: {e}"),
                        }),
                    }
                } else {
                    Kind::CatalogUnread
                }
            }
            Ok(Some(h)) if h.name == LABEL_ENTRY => Kind::Public(TapeFileKind::Unknown {
                what: "a second label".into(),
            }),
            Ok(Some(h)) => Kind::Public(TapeFileKind::Data {
                first_entry: Some(h.name),
            }),
            Err(TarError::Tape(e)) => return Err(e.into()),
            Err(e) => Kind::Public(TapeFileKind::Unknown {
                what: tar_error(e, &medium, number, "(first)").to_string(),
            }),
        };
        let ended = tar.input.ended();
        drop(tar);
        let end = match ended {
            Some(end) => end,
            None => skip_file(drive)?,
        };
        files.push((number, kind, end == FileEnd::FileMark));
        if end == FileEnd::EndOfData {
            break;
        }
    }
    Ok((Some(label), files))
}

/// Space forward over one file mark; a file cut short (no mark before the
/// end of data) is reported as [`FileEnd::EndOfData`].
fn skip_file(drive: &mut dyn TapeDrive) -> Result<FileEnd, FormatError> {
    match drive.space_filemarks_forward(1) {
        Ok(()) => Ok(FileEnd::FileMark),
        Err(e) => {
            if drive.status().is_ok_and(|s| s.at_eod) {
                Ok(FileEnd::EndOfData)
            } else {
                Err(e.into())
            }
        }
    }
}

/// Read and check a catalog whose header was just read.
fn read_catalog_body(
    tar: &mut TarReader<'_>,
    header: &Header,
    label: &Label,
    file: u64,
) -> Result<SetCatalog, FormatError> {
    let medium = &label.medium;
    if header.size > CATALOG_MAX {
        return Err(FormatError::Corrupt {
            medium: medium.clone(),
            file,
            entry: header.name.clone(),
            what: format!("{} bytes is too large for a catalog", header.size),
        });
    }
    let body = read_body(tar, header, medium, file)?;
    let catalog: SetCatalog = parse_json(&body, medium, file, CATALOG_ENTRY, "catalog")?;
    if catalog.medium != *medium || catalog.file != file || catalog.set != label.set {
        return Err(FormatError::Corrupt {
            medium: medium.clone(),
            file,
            entry: CATALOG_ENTRY.into(),
            what: format!(
                "the catalog says it is tape file {} of cartridge {} of set {}",
                catalog.file, catalog.medium, catalog.set
            ),
        });
    }
    Ok(catalog)
}

/// The last readable catalog on the loaded cartridge (complete or not), or
/// `None` if it has none. A data file after it (a killed job) is ignored.
pub fn last_catalog(drive: &mut dyn TapeDrive) -> Result<Option<SetCatalog>, FormatError> {
    let (label, files) = scan(drive, false)?;
    let Some(label) = label else {
        return Ok(None);
    };
    for (number, kind, _) in files.into_iter().rev() {
        if !matches!(kind, Kind::CatalogUnread) {
            continue;
        }
        drive.locate_file(number)?;
        let mut tar = TarReader::new(&mut *drive);
        let result = match tar.next_header() {
            Ok(Some(h)) => read_catalog_body(&mut tar, &h, &label, number),
            Ok(None) => continue,
            Err(e) => Err(tar_error(e, &label.medium, number, CATALOG_ENTRY)),
        };
        match result {
            Ok(c) => return Ok(Some(c)),
            Err(FormatError::Tape(e)) => return Err(e.into()),
            Err(e) => tracing::warn!("{e}; using an earlier catalog"),
        }
    }
    Ok(None)
}

/// Receives object bytes as they are read: `(path, offset in the object,
/// bytes)`.
pub type ObjectSink<'a> = dyn FnMut(&str, u64, &[u8]) -> Result<(), FormatError> + 'a;

/// What reading a cartridge found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// The cartridge.
    pub medium: String,
    /// Its place in the set.
    pub seq: u32,
    /// Segments read, each checked against its size and BLAKE3.
    pub segments: u64,
    /// Object bytes read.
    pub bytes: u64,
    /// Objects wholly on this cartridge, checked against their BLAKE3.
    pub whole: Vec<String>,
    /// Objects with only some segments on this cartridge (each segment
    /// checked; the object is checked once all are together).
    pub partial: Vec<String>,
}

/// Read every segment the catalog places on the loaded cartridge, checking
/// each segment's size and BLAKE3 and, for objects wholly on this
/// cartridge, the object's BLAKE3. `sink(path, offset, bytes)` receives the
/// bytes as they stream, at least once per segment (an empty object's one
/// segment gives an empty slice), before the segment is checked: on error,
/// discard what it received of that segment. Restore writes them into a repository
/// folder ([`extract_to_dir`]); verify discards them.
pub fn read_cartridge_objects(
    drive: &mut dyn TapeDrive,
    catalog: &SetCatalog,
    sink: &mut ObjectSink<'_>,
) -> Result<ReadReport, FormatError> {
    let label = read_label(drive)?.ok_or_else(|| FormatError::WrongCartridge {
        expected: format!("a cartridge of media set {}", catalog.set),
        found: "a blank tape".into(),
    })?;
    if label.set != catalog.set || catalog.medium_of(label.seq) != Some(label.medium.as_str()) {
        return Err(FormatError::WrongCartridge {
            expected: format!("a cartridge of media set {}", catalog.set),
            found: format!(
                "cartridge {} (number {} of media set {})",
                label.medium, label.seq, label.set
            ),
        });
    }
    let medium = label.medium.clone();
    let seq = label.seq;
    let mut report = ReadReport {
        medium: medium.clone(),
        seq,
        ..ReadReport::default()
    };
    // Wanted entries by tape file; objects wholly here get a running hash.
    let mut wanted: BTreeMap<u64, HashMap<&str, (usize, usize)>> = BTreeMap::new();
    let mut whole: HashMap<usize, (blake3::Hasher, u64)> = HashMap::new();
    for (oi, o) in catalog.objects.iter().enumerate() {
        let mut here = 0;
        for (si, s) in o.segments.iter().enumerate() {
            if s.seq == seq {
                wanted.entry(s.file).or_default().insert(&s.entry, (oi, si));
                here += 1;
            }
        }
        if here == 0 {
            continue;
        }
        if here == o.segments.len() && o.is_whole() && o.blake3.is_some() {
            whole.insert(oi, (blake3::Hasher::new(), 0));
        } else {
            report.partial.push(o.path.clone());
        }
    }
    for (file, mut want) in wanted {
        drive.locate_file(file)?;
        let mut tar = TarReader::new(&mut *drive);
        let mut previous = "(start of the file)".to_owned();
        while !want.is_empty() {
            let header = match tar.next_header() {
                Ok(Some(h)) => h,
                Ok(None) | Err(TarError::Truncated) => break,
                Err(e) => return Err(tar_error(e, &medium, file, &format!("after {previous}"))),
            };
            let Some((oi, si)) = want.remove(header.name.as_str()) else {
                if let Err(e) = tar.skip_data(header.size) {
                    if matches!(e, TarError::Truncated) {
                        break;
                    }
                    return Err(tar_error(e, &medium, file, &header.name));
                }
                previous = header.name;
                continue;
            };
            let object = &catalog.objects[oi];
            let segment = &object.segments[si];
            let corrupt = |what: String| FormatError::Corrupt {
                medium: medium.clone(),
                file,
                entry: header.name.clone(),
                what,
            };
            if !header.is_file() || header.size != segment.len {
                return Err(corrupt(format!(
                    "{} bytes on tape, the catalog says {}",
                    header.size, segment.len
                )));
            }
            let mut running = whole
                .get_mut(&oi)
                .filter(|(_, next)| *next == segment.offset);
            let in_order = running.is_some();
            let mut hasher = blake3::Hasher::new();
            let mut offset = segment.offset;
            if segment.len == 0 {
                sink(&object.path, offset, &[])?;
            }
            tar.read_data(header.size, &mut |piece| {
                hasher.update(piece);
                if let Some((h, _)) = running.as_mut() {
                    h.update(piece);
                }
                sink(&object.path, offset, piece)?;
                offset += piece.len() as u64;
                Ok(())
            })
            .map_err(|e| tar_error(e, &medium, file, &header.name))?;
            if hasher.finalize().to_hex().as_str() != segment.blake3 {
                return Err(corrupt("blake3 does not match the catalog".into()));
            }
            report.segments += 1;
            report.bytes += segment.len;
            if let Some((h, next)) = whole.get_mut(&oi) {
                if in_order {
                    *next += segment.len;
                    if *next == object.size {
                        if Some(h.finalize().to_hex().as_str()) != object.blake3.as_deref() {
                            return Err(corrupt(format!(
                                "object {}: blake3 does not match the catalog",
                                object.path
                            )));
                        }
                        report.whole.push(object.path.clone());
                    }
                }
            }
            previous = header.name;
        }
        if let Some(missing) = want.keys().min() {
            return Err(FormatError::Corrupt {
                medium: medium.clone(),
                file,
                entry: (*missing).to_owned(),
                what: "not found in the tape file".into(),
            });
        }
    }
    // Objects wholly here but read out of order: their segments were
    // checked; say they are only partly checked.
    for (oi, (_, next)) in &whole {
        let o = &catalog.objects[*oi];
        if *next != o.size {
            report.partial.push(o.path.clone());
        }
    }
    report.partial.sort();
    Ok(report)
}

/// What [`extract_to_dir`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtractReport {
    /// What was read from the cartridge.
    pub read: ReadReport,
    /// Objects now complete and checked in the folder (at `dir/<path>`).
    pub restored: Vec<String>,
    /// Objects that still wait for parts on other cartridges.
    pub waiting: Vec<String>,
}

/// Extract the set's objects found on the loaded cartridge into `dir`, laid
/// out as a repository folder. Segments go to `dir/tmp/tape/<entry>` first
/// (files 0600); an object moves to `dir/<path>` once all its segments are
/// there (from this or earlier calls with other cartridges of the set) and
/// its BLAKE3 matches the catalog, so an object appears whole or not at all.
/// Call it once per cartridge, in any order, with the set's last catalog.
pub fn extract_to_dir(
    drive: &mut dyn TapeDrive,
    catalog: &SetCatalog,
    dir: &Path,
) -> Result<ExtractReport, FormatError> {
    let staging = dir.join("tmp").join("tape");
    let seg_size = catalog.segment_size.max(1);
    let index: HashMap<&str, usize> = catalog
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.path.as_str(), i))
        .collect();
    let mut open: Option<(usize, u64, File, PathBuf)> = None;
    let read = read_cartridge_objects(drive, catalog, &mut |path, offset, bytes| {
        let oi = index[path];
        let k = offset / seg_size;
        let same = matches!(&open, Some((o, kk, _, _)) if (*o, *kk) == (oi, k));
        if !same {
            let seg = &catalog.objects[oi].segments;
            let entry = &seg[seg.partition_point(|s| s.offset < k * seg_size)].entry;
            let part = staging.join(entry);
            open = Some((oi, k, create_file(&part)?, part));
        }
        let (_, _, file, part) = open.as_mut().expect("just opened");
        file.write_all(bytes).map_err(|e| io_err(part, e))
    })?;
    if let Some((_, _, file, part)) = open.take() {
        file.sync_all().map_err(|e| io_err(&part, e))?;
    }
    let mut report = ExtractReport {
        read,
        ..ExtractReport::default()
    };
    let touched: Vec<String> = report
        .read
        .whole
        .iter()
        .chain(&report.read.partial)
        .cloned()
        .collect();
    for path in touched {
        let object = &catalog.objects[index[path.as_str()]];
        if assemble(object, &staging, dir)? {
            report.restored.push(path);
        } else {
            report.waiting.push(path);
        }
    }
    Ok(report)
}

/// Move a staged object into place if all its parts are staged; `false` if
/// some are missing.
fn assemble(
    object: &super::CatalogObject,
    staging: &Path,
    dir: &Path,
) -> Result<bool, FormatError> {
    let parts: Vec<PathBuf> = object
        .segments
        .iter()
        .map(|s| staging.join(&s.entry))
        .collect();
    for (s, p) in object.segments.iter().zip(&parts) {
        match fs::metadata(p) {
            Ok(m) if m.len() == s.len => {}
            _ => return Ok(false),
        }
    }
    if !object.is_whole() {
        return Ok(false);
    }
    let target = dir.join(&object.path);
    let mismatch = |got: String| FormatError::Corrupt {
        medium: "(restored folder)".into(),
        file: 0,
        entry: object.path.clone(),
        what: format!(
            "assembled object has blake3 {got}, the catalog says {:?}",
            object.blake3
        ),
    };
    let staged = if parts.len() == 1 {
        parts[0].clone()
    } else {
        let whole = staging.join(format!("{}.whole", object.path));
        let mut out = create_file(&whole)?;
        let mut buf = vec![0; BLOCK_SIZE];
        for p in &parts {
            let mut f = File::open(p).map_err(|e| io_err(p, e))?;
            loop {
                let n = f.read(&mut buf).map_err(|e| io_err(p, e))?;
                if n == 0 {
                    break;
                }
                out.write_all(&buf[..n]).map_err(|e| io_err(&whole, e))?;
            }
        }
        out.sync_all().map_err(|e| io_err(&whole, e))?;
        whole
    };
    let got = hash_file(&staged)?;
    if Some(got.as_str()) != object.blake3.as_deref() {
        return Err(mismatch(got));
    }
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    fs::rename(&staged, &target).map_err(|e| io_err(&target, e))?;
    if parts.len() > 1 {
        for p in &parts {
            fs::remove_file(p).map_err(|e| io_err(p, e))?;
        }
    }
    Ok(true)
}

fn hash_file(path: &Path) -> Result<String, FormatError> {
    let mut f = File::open(path).map_err(|e| io_err(path, e))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0; BLOCK_SIZE];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_err(path, e))?;
        if n == 0 {
            return Ok(hasher.finalize().to_hex().to_string());
        }
        hasher.update(&buf[..n]);
    }
}

fn create_file(path: &Path) -> Result<File, FormatError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_err(path, e))
}

fn io_err(path: &Path, source: std::io::Error) -> FormatError {
    FormatError::Io {
        path: path.to_owned(),
        source,
    }
}
