//! The on-tape format of hokan (`docs/tape-format.md`): the label, pax tar
//! files of repository objects, and media sets spanning cartridges.
//!
//! A cartridge holds, as tape files separated by file marks:
//!
//! ```text
//! file 0      label    tar: HOKAN-LABEL.json
//! file 1      data     tar: repository objects (or their parts) of job 1
//! file 2      catalog  tar: HOKAN-CATALOG.json, cumulative for the whole set
//! file 3, 4   data, catalog of job 2 (appended), …
//! ```
//!
//! Every block is [`BLOCK_SIZE`] bytes, and every tape file is a POSIX pax
//! archive, so that a person with `mt`, `tar` and `cat` can recover a
//! repository folder from a media set without hokan.
//!
//! **Invariants.** A segment (an object, or a `.partNNNN` of one) is listed
//! in a catalog only once every block holding it has been written; a
//! catalog lists every segment written before it in the set; the last
//! readable catalog of the last cartridge therefore describes the set.
//!
//! **Crash semantics.** A job killed before its catalog leaves a data file
//! no catalog lists: [`last_catalog`] returns the previous catalog and
//! [`SetWriter::append`] writes over the leftover. End of medium in the
//! middle of a segment loses nothing: the segments not yet wholly on tape
//! are written again on the next cartridge.
//!
//! **Locking.** None here: one writer per drive, and the caller (the job)
//! owns the drive while it writes.
//!
//! - [`SetWriter`] writes a set; [`write_label`] / [`read_label`] the label.
//! - [`scan_cartridge`], [`last_catalog`] say what a cartridge holds.
//! - [`read_cartridge_objects`] and [`extract_to_dir`] read objects back,
//!   checking sizes and BLAKE3 against the catalog.

#![deny(missing_docs)]

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::device::TapeError;

mod reader;
mod tar;
mod writer;

pub use reader::{
    extract_to_dir, last_catalog, read_cartridge_objects, read_label, scan_cartridge, write_label,
    CartridgeScan, ExtractReport, ObjectSink, ReadReport, TapeFile, TapeFileKind,
};
pub use writer::{Finish, Progress, SetWriter};

/// Size of every block hokan writes: 256 KiB, a tar blocking factor of 512
/// (`tar -b 512`). Large enough that LTO drives stream at full speed, small
/// enough that the padding of a label or a small catalog costs nothing.
pub const BLOCK_SIZE: usize = 262_144;

/// The version of the tape format written in labels and catalogs.
pub const FORMAT_VERSION: u32 = 1;

/// The entry name of the label in tape file 0.
pub const LABEL_ENTRY: &str = "HOKAN-LABEL.json";

/// The entry name of the catalog in a catalog tape file.
pub const CATALOG_ENTRY: &str = "HOKAN-CATALOG.json";

/// The label, the only entry of tape file 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Tape format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// The cartridge's name (its barcode, `HKN001L9`).
    pub medium: String,
    /// The pool the set belongs to.
    pub pool: String,
    /// The media set's id.
    pub set: String,
    /// This cartridge's place in its set, from 1.
    pub seq: u32,
    /// When this label was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// When the set's first cartridge was labelled.
    #[serde(with = "time::serde::rfc3339")]
    pub set_started: OffsetDateTime,
}

/// The catalog: what the whole set holds so far. Written after every data
/// file, cumulative, so the last one of the last cartridge describes the set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCatalog {
    /// Tape format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// The media set's id.
    pub set: String,
    /// The pool.
    pub pool: String,
    /// When the set's first cartridge was labelled.
    #[serde(with = "time::serde::rfc3339")]
    pub set_started: OffsetDateTime,
    /// The place in the set of the cartridge holding this catalog.
    pub seq: u32,
    /// The cartridge holding this catalog.
    pub medium: String,
    /// The tape file number of this catalog on that cartridge.
    pub file: u64,
    /// When this catalog was written.
    #[serde(with = "time::serde::rfc3339")]
    pub written: OffsetDateTime,
    /// Written at the end of a job (true), or at a cartridge change (false).
    pub complete: bool,
    /// Segment size of the set: objects larger than this are cut into parts
    /// of exactly this size (the last shorter). Fixed for the set's life.
    pub segment_size: u64,
    /// The cartridges of the set so far, by `seq`.
    pub cartridges: Vec<CatalogCartridge>,
    /// Snapshots all of whose objects are in the set (given by the jobs
    /// that completed).
    pub snapshots: Vec<String>,
    /// The objects with at least one segment in the set, in writing order.
    pub objects: Vec<CatalogObject>,
    /// The site catalog's head when this set catalog was written (a
    /// `hokan_catalog::anchor::Anchor` as JSON; this crate does not read
    /// it). Optional: catalogs written before anchors existed have none and
    /// read as `None`, and a catalog without one is written without the
    /// field, byte for byte as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<serde_json::Value>,
}

impl SetCatalog {
    /// The object stored under `path`.
    pub fn object(&self, path: &str) -> Option<&CatalogObject> {
        self.objects.iter().find(|o| o.path == path)
    }

    /// The medium of cartridge `seq`.
    pub fn medium_of(&self, seq: u32) -> Option<&str> {
        self.cartridges
            .iter()
            .find(|c| c.seq == seq)
            .map(|c| c.medium.as_str())
    }
}

/// A cartridge of a set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogCartridge {
    /// Its place in the set, from 1.
    pub seq: u32,
    /// Its name (barcode).
    pub medium: String,
}

/// A repository object in the set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogObject {
    /// Repository-relative path (`config`, `data/ab/ab12…`).
    pub path: String,
    /// Size of the whole object in bytes.
    pub size: u64,
    /// BLAKE3 of the whole object, hex; `null` while the writer has not yet
    /// been given all of it (an object cut by a cartridge change).
    pub blake3: Option<String>,
    /// Its segments on tape, by offset.
    pub segments: Vec<Segment>,
}

impl CatalogObject {
    /// Every byte of the object is in some listed segment.
    pub fn is_whole(&self) -> bool {
        let mut next = 0;
        for s in &self.segments {
            if s.offset != next {
                return false;
            }
            next += s.len;
        }
        next == self.size && !self.segments.is_empty()
    }
}

/// A piece of an object stored as one tar entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// The cartridge (`seq`) holding it.
    pub seq: u32,
    /// The tape file on that cartridge.
    pub file: u64,
    /// The tar entry name: the path, or `<path>.partNNNN`.
    pub entry: String,
    /// Where the segment starts in the object.
    pub offset: u64,
    /// Its length.
    pub len: u64,
    /// BLAKE3 of the segment's bytes, hex.
    pub blake3: String,
}

/// Errors of the tape format. Bad data names the cartridge, the tape file
/// and the entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The drive failed.
    #[error(transparent)]
    Tape(#[from] TapeError),
    /// The tape holds something other than a hokan label in file 0.
    #[error("the cartridge in {device} is not a hokan tape: {what}")]
    NotHokan {
        /// The drive.
        device: String,
        /// What was found.
        what: String,
    },
    /// A label or catalog of a newer format.
    #[error("cartridge {medium}: {what} of tape format {format}; this hokan reads format {FORMAT_VERSION}: upgrade hokan")]
    UnsupportedFormat {
        /// The cartridge.
        medium: String,
        /// `label` or `catalog`.
        what: &'static str,
        /// The format found.
        format: u32,
    },
    /// Damaged or inconsistent data on a cartridge.
    #[error("cartridge {medium}, tape file {file}: entry {entry}: {what}")]
    Corrupt {
        /// The cartridge.
        medium: String,
        /// The tape file number.
        file: u64,
        /// The tar entry (or a description of where in the file).
        entry: String,
        /// What is wrong.
        what: String,
    },
    /// A label or catalog that is not valid JSON of its kind.
    #[error("cartridge {medium}, tape file {file}: entry {entry}: invalid JSON")]
    Json {
        /// The cartridge.
        medium: String,
        /// The tape file number.
        file: u64,
        /// The entry.
        entry: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The loaded cartridge is not the one expected.
    #[error("wrong cartridge: expected {expected}, found {found}")]
    WrongCartridge {
        /// What was expected (medium, set and place).
        expected: String,
        /// What the label says.
        found: String,
    },
    /// A write with no cartridge open: call [`SetWriter::start_cartridge`].
    #[error("media set {set}: no cartridge is open for writing; start the next cartridge")]
    NoCartridge {
        /// The set.
        set: String,
    },
    /// [`SetWriter::start_cartridge`] while a cartridge is open.
    #[error("media set {set}: cartridge {medium} is still open")]
    CartridgeOpen {
        /// The set.
        set: String,
        /// The open cartridge.
        medium: String,
    },
    /// The cartridge is already part of the set.
    #[error("media set {set}: cartridge {medium} is already in the set")]
    MediumInSet {
        /// The set.
        set: String,
        /// The cartridge.
        medium: String,
    },
    /// Another object is half written: it must be given again first.
    #[error("object {current} is not yet wholly written; write it again (not {given}) after changing cartridge")]
    ObjectInProgress {
        /// The object being written.
        current: String,
        /// The object given instead.
        given: String,
    },
    /// The bytes given differ from what the set already holds for the path.
    #[error("object {path}: {what}")]
    ObjectMismatch {
        /// The object.
        path: String,
        /// What differs.
        what: String,
    },
    /// A path that cannot be a repository object name.
    #[error("{path:?} is not a repository object path")]
    InvalidPath {
        /// The path.
        path: String,
    },
    /// A segment did not fit on a whole new cartridge.
    #[error("cartridge {medium}: end of medium before a single segment fitted; use a smaller segment size")]
    SegmentDoesNotFit {
        /// The cartridge.
        medium: String,
    },
    /// A file system error while extracting.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The tar entry name of part `index` (0-based) of an object cut into
/// `count` parts: the path itself for a single part, else
/// `<path>.partNNNN` with at least four digits, as many as `count` needs, so
/// that the shell's sorted `<path>.part*` lists parts in order.
pub fn entry_name(path: &str, index: u64, count: u64) -> String {
    if count <= 1 {
        return path.to_owned();
    }
    let width = count.to_string().len().max(4);
    format!("{path}.part{:0width$}", index + 1)
}

/// Number of segments of an object of `size` bytes (at least one).
pub fn segment_count(size: u64, segment_size: u64) -> u64 {
    size.div_ceil(segment_size.max(1)).max(1)
}

/// A repository-relative path hokan accepts as an object name: non-empty
/// components of ASCII letters, digits, `-`, `_` and `.`, not `.` or `..`,
/// joined by `/`, and not one of the format's own entry names.
pub fn valid_object_path(path: &str) -> bool {
    !path.is_empty()
        && path != LABEL_ENTRY
        && path != CATALOG_ENTRY
        && path.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_sort_in_order() {
        assert_eq!(entry_name("config", 0, 1), "config");
        assert_eq!(entry_name("data/ab/x", 0, 3), "data/ab/x.part0001");
        let names: Vec<_> = (0..12_000).map(|i| entry_name("x", i, 12_000)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names[0], "x.part00001");
    }

    #[test]
    fn segment_counts() {
        assert_eq!(segment_count(0, 10), 1);
        assert_eq!(segment_count(10, 10), 1);
        assert_eq!(segment_count(11, 10), 2);
    }

    #[test]
    fn object_paths() {
        assert!(valid_object_path("data/ab/abcdef"));
        assert!(valid_object_path("config"));
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "../x",
            "a/./b",
            "HOKAN-CATALOG.json",
            "a b",
        ] {
            assert!(!valid_object_path(bad), "{bad}");
        }
    }

    #[test]
    fn whole_objects() {
        let seg = |offset, len| Segment {
            seq: 1,
            file: 1,
            entry: String::new(),
            offset,
            len,
            blake3: String::new(),
        };
        let mut o = CatalogObject {
            path: "x".into(),
            size: 10,
            blake3: None,
            segments: vec![seg(0, 4), seg(8, 2)],
        };
        assert!(!o.is_whole());
        o.segments.insert(1, seg(4, 4));
        assert!(o.is_whole());
    }

    #[test]
    fn the_anchor_is_optional_both_ways() {
        let mut c = SetCatalog {
            format: FORMAT_VERSION,
            set: "S".into(),
            pool: "p".into(),
            set_started: OffsetDateTime::UNIX_EPOCH,
            seq: 1,
            medium: "T1".into(),
            file: 2,
            written: OffsetDateTime::UNIX_EPOCH,
            complete: true,
            segment_size: 512,
            cartridges: vec![],
            snapshots: vec![],
            objects: vec![],
            anchor: None,
        };
        // Without an anchor: no field, as catalogs were written before.
        let old = serde_json::to_string(&c).unwrap();
        assert!(!old.contains("anchor"), "{old}");
        let back: SetCatalog = serde_json::from_str(&old).unwrap();
        assert_eq!(back.anchor, None);
        // With one: kept as written.
        let a = serde_json::json!({"format": "hokan-catalog-anchor-v1", "seq": 7});
        c.anchor = Some(a.clone());
        let new = serde_json::to_string(&c).unwrap();
        let back: SetCatalog = serde_json::from_str(&new).unwrap();
        assert_eq!(back.anchor, Some(a));
    }
}
