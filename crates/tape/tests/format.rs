//! The on-tape format (`docs/tape-format.md`) on an in-memory tape: labels,
//! sets spanning cartridges, end of medium, appended and killed jobs,
//! damaged data, and GNU tar reading what hokan wrote.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use hokan_tape::format::{
    extract_to_dir, last_catalog, read_cartridge_objects, read_label, scan_cartridge, write_label,
    Finish, FormatError, Label, Progress, SetCatalog, SetWriter, TapeFileKind, BLOCK_SIZE,
};
use hokan_tape::{DriveStatus, ReadBlock, TapeDrive, TapeError, WriteBlock};
use time::macros::datetime;
use time::OffsetDateTime;

const MIB: u64 = 1 << 20;
const NOW: OffsetDateTime = datetime!(2026-11-22 03:00 UTC);

// ---------------------------------------------------------------------------
// An in-memory tape

#[derive(Clone, Debug)]
enum Item {
    Block(Vec<u8>),
    Mark,
}

/// A cartridge in a drive: blocks and file marks, a capacity, an
/// early-warning zone at its end; file marks always fit.
#[derive(Clone, Debug)]
struct MemTape {
    items: Vec<Item>,
    pos: usize,
    capacity: u64,
    early_warning_zone: u64,
}

impl MemTape {
    /// Early warning in the last eighth, as drives do.
    fn new(capacity: u64) -> Self {
        Self::with_zone(capacity, capacity / 8)
    }

    fn with_zone(capacity: u64, early_warning_zone: u64) -> Self {
        MemTape {
            items: Vec::new(),
            pos: 0,
            capacity,
            early_warning_zone,
        }
    }

    fn used(&self, upto: usize) -> u64 {
        self.items[..upto]
            .iter()
            .map(|i| match i {
                Item::Block(b) => b.len() as u64,
                Item::Mark => 0,
            })
            .sum()
    }

    /// The blocks of tape file `n`, concatenated (as `dd` would read them).
    fn file_bytes(&self, n: usize) -> Vec<u8> {
        let mut file = 0;
        let mut out = Vec::new();
        for item in &self.items {
            match item {
                Item::Mark => file += 1,
                Item::Block(b) if file == n => out.extend_from_slice(b),
                Item::Block(_) => {}
            }
        }
        out
    }

    /// Index in `items` of block `block` of tape file `file`.
    fn block_index(&self, file: usize, block: usize) -> usize {
        let mut f = 0;
        let mut b = 0;
        for (i, item) in self.items.iter().enumerate() {
            match item {
                Item::Mark => f += 1,
                Item::Block(_) if f == file => {
                    if b == block {
                        return i;
                    }
                    b += 1;
                }
                Item::Block(_) => {}
            }
        }
        panic!("no block {block} in file {file}")
    }
}

impl TapeDrive for MemTape {
    fn name(&self) -> String {
        "mem0".into()
    }

    fn status(&mut self) -> Result<DriveStatus, TapeError> {
        Ok(DriveStatus {
            loaded: true,
            at_bot: self.pos == 0,
            at_eod: self.pos == self.items.len(),
            capacity: Some(self.capacity),
            ..DriveStatus::default()
        })
    }

    fn rewind(&mut self) -> Result<(), TapeError> {
        self.pos = 0;
        Ok(())
    }

    fn write_block(&mut self, data: &[u8]) -> Result<WriteBlock, TapeError> {
        self.items.truncate(self.pos);
        let used = self.used(self.pos) + data.len() as u64;
        if used > self.capacity {
            return Err(TapeError::EndOfMedium {
                device: "mem0".into(),
                cartridge: "mem".into(),
            });
        }
        self.items.push(Item::Block(data.to_vec()));
        self.pos += 1;
        Ok(if used > self.capacity - self.early_warning_zone {
            WriteBlock::EarlyWarning
        } else {
            WriteBlock::Written
        })
    }

    fn write_filemarks(&mut self, count: u32) -> Result<(), TapeError> {
        self.items.truncate(self.pos);
        for _ in 0..count {
            self.items.push(Item::Mark);
        }
        self.pos += count as usize;
        Ok(())
    }

    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadBlock, TapeError> {
        let Some(item) = self.items.get(self.pos) else {
            return Ok(ReadBlock::EndOfData);
        };
        self.pos += 1;
        match item {
            Item::Mark => Ok(ReadBlock::FileMark),
            Item::Block(b) => {
                if b.len() > buf.len() {
                    return Err(TapeError::BlockSize {
                        device: "mem0".into(),
                        size: b.len(),
                        limit: buf.len(),
                    });
                }
                buf[..b.len()].copy_from_slice(b);
                Ok(ReadBlock::Data(b.len()))
            }
        }
    }

    fn space_filemarks_forward(&mut self, count: u32) -> Result<(), TapeError> {
        let mut left = count;
        while left > 0 {
            match self.items.get(self.pos) {
                None => {
                    return Err(TapeError::Device {
                        device: "mem0".into(),
                        what: "blank check: end of data".into(),
                    })
                }
                Some(Item::Mark) => left -= 1,
                Some(Item::Block(_)) => {}
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn seek_end_of_data(&mut self) -> Result<(), TapeError> {
        self.pos = self.items.len();
        Ok(())
    }

    fn unload(&mut self) -> Result<(), TapeError> {
        self.pos = 0;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// Seeded xorshift bytes.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn hexname(seed: u64) -> String {
    blake3::hash(&seed.to_le_bytes()).to_hex().to_string()
}

fn pack_path(seed: u64) -> String {
    let h = hexname(seed);
    format!("data/{}/{h}", &h[..2])
}

fn medium(i: usize) -> String {
    format!("HKN{:03}L9", i + 1)
}

/// A shelf of blank cartridges, written one after the other.
struct Shelf {
    tapes: Vec<MemTape>,
    blank: MemTape,
    current: usize,
    /// Write with `write_shared` (as `hokan tape backup` does) instead of
    /// `write_object`.
    shared: bool,
}

impl Shelf {
    fn new(blank: MemTape) -> Self {
        Shelf {
            tapes: Vec::new(),
            blank,
            current: 0,
            shared: false,
        }
    }

    fn next(&mut self, w: &mut SetWriter) {
        self.tapes.push(self.blank.clone());
        self.current = self.tapes.len() - 1;
        w.start_cartridge(&mut self.tapes[self.current], &medium(self.current), NOW)
            .unwrap();
    }

    fn drive(&mut self) -> &mut MemTape {
        &mut self.tapes[self.current]
    }

    /// Write the objects, changing cartridge when asked. Returns the paths
    /// whose first `write_object` returned `Done` (accepted at once).
    fn write(&mut self, w: &mut SetWriter, objects: &[(String, Vec<u8>)]) -> Vec<String> {
        let mut at_once = Vec::new();
        for (path, bytes) in objects {
            let mut first = true;
            let shared = std::sync::Arc::new(bytes.clone());
            let hash = blake3::hash(bytes);
            while if self.shared {
                w.write_shared(self.drive(), path, &shared, hash, NOW)
            } else {
                w.write_object(self.drive(), path, bytes, NOW)
            }
            .unwrap()
                == Progress::NeedCartridge
            {
                first = false;
                self.next(w);
            }
            if first {
                at_once.push(path.clone());
            }
        }
        at_once
    }

    fn finish(&mut self, w: &mut SetWriter, snapshots: &[&str]) -> SetCatalog {
        let snapshots: Vec<String> = snapshots.iter().map(|s| s.to_string()).collect();
        loop {
            match w.finish(self.drive(), snapshots.clone(), NOW).unwrap() {
                Finish::Done(c) => return *c,
                Finish::NeedCartridge => self.next(w),
            }
        }
    }
}

/// Read every cartridge with the catalog and assemble the objects.
fn read_back(tapes: &mut [MemTape], catalog: &SetCatalog) -> HashMap<String, Vec<u8>> {
    let mut got: HashMap<String, Vec<u8>> = HashMap::new();
    for tape in tapes.iter_mut() {
        read_cartridge_objects(tape, catalog, &mut |path, offset, bytes| {
            let v = got.entry(path.to_owned()).or_default();
            let end = offset as usize + bytes.len();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[offset as usize..end].copy_from_slice(bytes);
            Ok(())
        })
        .unwrap();
    }
    got
}

fn assert_same(got: &HashMap<String, Vec<u8>>, objects: &[(String, Vec<u8>)]) {
    assert_eq!(got.len(), objects.len(), "number of objects read back");
    for (path, bytes) in objects {
        let g = got
            .get(path)
            .unwrap_or_else(|| panic!("{path} not read back"));
        assert!(g == bytes, "{path}: bytes differ");
    }
}

fn repository_objects() -> Vec<(String, Vec<u8>)> {
    vec![
        ("config".into(), br#"{"version":1}"#.to_vec()),
        (format!("keys/{}", hexname(1)), random_bytes(1, 300)),
        (format!("snapshots/{}", hexname(2)), random_bytes(2, 5000)),
        (format!("index/{}", hexname(3)), random_bytes(3, 70_000)),
        (pack_path(4), random_bytes(4, 1_300_000)),
        (pack_path(5), Vec::new()),
        (pack_path(6), random_bytes(6, 512 * 1024)),
    ]
}

// ---------------------------------------------------------------------------
// Labels

#[test]
fn label_round_trip_blank_and_foreign_tapes() {
    let mut tape = MemTape::new(64 * MIB);
    assert_eq!(read_label(&mut tape).unwrap(), None, "a blank tape");
    let label = Label {
        format: 1,
        medium: "HKN001L9".into(),
        pool: "offsite".into(),
        set: "set-2026-11".into(),
        seq: 1,
        created: NOW,
        set_started: datetime!(2026-11-01 03:00 UTC),
    };
    write_label(&mut tape, &label).unwrap();
    assert_eq!(read_label(&mut tape).unwrap(), Some(label.clone()));
    assert!(matches!(tape.items[..], [Item::Block(ref b), Item::Mark] if b.len() == BLOCK_SIZE));
    // A second label erases what followed.
    tape.items.push(Item::Block(vec![1; BLOCK_SIZE]));
    write_label(&mut tape, &label).unwrap();
    assert_eq!(tape.items.len(), 2);

    // Something else: a tar of another program, and random bytes.
    let mut foreign = MemTape::new(64 * MIB);
    foreign.items.push(Item::Block(random_bytes(9, 10240)));
    foreign.items.push(Item::Mark);
    let err = read_label(&mut foreign).unwrap_err();
    assert!(matches!(err, FormatError::NotHokan { .. }), "{err}");
    assert!(err.to_string().contains("is not a hokan tape"), "{err}");
    let mut other_tar = MemTape::new(64 * MIB);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
    let tar = dir.path().join("x.tar");
    let ok = Command::new("tar")
        .args([
            "-cf",
            tar.to_str().unwrap(),
            "-C",
            dir.path().to_str().unwrap(),
            "notes.txt",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    other_tar
        .items
        .push(Item::Block(std::fs::read(&tar).unwrap()));
    let err = read_label(&mut other_tar).unwrap_err();
    assert!(err.to_string().contains("notes.txt"), "{err}");

    // A newer format is refused with "upgrade".
    let mut newer = MemTape::new(64 * MIB);
    write_label(&mut newer, &Label { format: 2, ..label }).unwrap();
    let err = read_label(&mut newer).unwrap_err();
    assert!(
        matches!(err, FormatError::UnsupportedFormat { format: 2, .. }),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Writing and reading a set

#[test]
fn objects_written_and_read_back_byte_identical() {
    let objects = repository_objects();
    let mut shelf = Shelf::new(MemTape::new(256 * MIB));
    let mut w = SetWriter::new("set-a", "offsite", NOW, 512 * 1024);
    shelf.next(&mut w);
    shelf.write(&mut w, &objects);
    assert!(w.contains("config"));
    assert!(!w.contains("index/none"));
    let catalog = shelf.finish(&mut w, &["snap1"]);
    assert!(catalog.complete);
    assert_eq!(catalog.seq, 1);
    assert_eq!(catalog.file, 2);
    assert_eq!(catalog.snapshots, ["snap1"]);
    assert_eq!(catalog.objects.len(), objects.len());
    let big = catalog.object(&pack_path(4)).unwrap();
    let entries: Vec<_> = big.segments.iter().map(|s| s.entry.as_str()).collect();
    let p = pack_path(4);
    assert_eq!(
        entries,
        [
            format!("{p}.part0001"),
            format!("{p}.part0002"),
            format!("{p}.part0003")
        ]
    );
    assert_eq!(
        big.blake3.as_deref(),
        Some(blake3::hash(&objects[4].1).to_hex().as_str())
    );
    assert_eq!(w.bytes_written() % BLOCK_SIZE as u64, 0);

    let tape = shelf.drive();
    assert_eq!(last_catalog(tape).unwrap().as_ref(), Some(&catalog));
    let scan = scan_cartridge(tape).unwrap();
    let kinds: Vec<_> = scan
        .files
        .iter()
        .map(|f| match &f.kind {
            TapeFileKind::Label(_) => "label",
            TapeFileKind::Data { .. } => "data",
            TapeFileKind::Catalog(_) => "catalog",
            TapeFileKind::Unknown { .. } => "unknown",
        })
        .collect();
    assert_eq!(kinds, ["label", "data", "catalog"]);
    assert!(
        matches!(&scan.files[1].kind, TapeFileKind::Data { first_entry: Some(e) } if e == "config")
    );
    for item in &tape.items {
        if let Item::Block(b) = item {
            assert_eq!(b.len(), BLOCK_SIZE, "every block is 256 KiB");
        }
    }

    let got = read_back(&mut shelf.tapes, &catalog);
    assert_same(&got, &objects);

    // Into a repository folder.
    let dir = tempfile::tempdir().unwrap();
    let report = extract_to_dir(shelf.drive(), &catalog, dir.path()).unwrap();
    assert_eq!(report.restored.len(), objects.len());
    assert!(report.waiting.is_empty());
    for (path, bytes) in &objects {
        let file = dir.path().join(path);
        assert!(std::fs::read(&file).unwrap() == *bytes, "{path}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}");
    }
}

#[test]
fn a_set_spans_three_cartridges() {
    // 8 MiB cartridges (early warning at 7 MiB), 512 KiB segments, about
    // 18 MiB of objects, one of them larger than a cartridge.
    let mut objects = vec![("config".to_owned(), b"{}".to_vec())];
    objects.push((pack_path(100), random_bytes(100, 9 * MIB as usize + 12_345)));
    for i in 0..12 {
        objects.push((pack_path(i), random_bytes(i, 700_000 + 1000 * i as usize)));
    }
    let total: usize = objects.iter().map(|o| o.1.len()).sum();
    assert!(total > 17 * MIB as usize && total < 19 * MIB as usize);

    let mut shelf = Shelf::new(MemTape::new(8 * MIB));
    let mut w = SetWriter::new("set-b", "offsite", NOW, 512 * 1024);
    shelf.next(&mut w);
    shelf.write(&mut w, &objects);
    let catalog = shelf.finish(&mut w, &["snap1"]);
    assert_eq!(shelf.tapes.len(), 3, "three cartridges");
    assert_eq!(
        w.cartridges(),
        (0..3)
            .map(|i| (i as u32 + 1, medium(i)))
            .collect::<Vec<_>>()
    );

    let mut previous: Option<SetCatalog> = None;
    for (i, tape) in shelf.tapes.iter_mut().enumerate() {
        let label = read_label(tape).unwrap().unwrap();
        assert_eq!(
            (label.seq, label.medium.as_str()),
            (i as u32 + 1, medium(i).as_str())
        );
        assert_eq!(label.set, "set-b");
        let c = last_catalog(tape)
            .unwrap()
            .expect("each cartridge has a catalog");
        assert_eq!(c.seq, i as u32 + 1);
        assert_eq!(c.complete, i == 2, "only the last catalog is complete");
        assert_eq!(c.cartridges.len(), i + 1);
        // Cumulative: everything the previous catalog listed is still there.
        if let Some(p) = &previous {
            for o in &p.objects {
                let now = c.object(&o.path).unwrap();
                assert!(now.segments.starts_with(&o.segments), "{}", o.path);
            }
            assert!(
                c.objects.iter().map(|o| o.segments.len()).sum::<usize>()
                    > p.objects.iter().map(|o| o.segments.len()).sum::<usize>()
            );
        }
        previous = Some(c);
    }
    assert_eq!(previous.as_ref(), Some(&catalog));
    let big = catalog.object(&pack_path(100)).unwrap();
    let seqs: std::collections::BTreeSet<u32> = big.segments.iter().map(|s| s.seq).collect();
    assert!(
        seqs.len() >= 2,
        "the large object spans cartridges: {seqs:?}"
    );
    assert!(catalog.objects.iter().all(|o| o.is_whole()));

    assert_same(&read_back(&mut shelf.tapes, &catalog), &objects);

    // Restore: cartridges in any order into one folder.
    let dir = tempfile::tempdir().unwrap();
    let mut restored = Vec::new();
    for i in [2, 0, 1] {
        let r = extract_to_dir(&mut shelf.tapes[i], &catalog, dir.path()).unwrap();
        restored.extend(r.restored);
    }
    assert_eq!(restored.len(), objects.len());
    for (path, bytes) in &objects {
        assert!(
            std::fs::read(dir.path().join(path)).unwrap() == *bytes,
            "{path}"
        );
    }
}

#[test]
fn end_of_medium_mid_segment_rewrites_it_on_the_next_cartridge() {
    // No early warning at all: every cartridge ends in end of medium, in the
    // middle of some entry, with the tails of objects already accepted in
    // the lost block.
    let mut objects = Vec::new();
    for i in 0..60 {
        let len = if i % 7 == 3 {
            900_000
        } else {
            100_000 + 37 * i as usize
        };
        objects.push((pack_path(200 + i), random_bytes(200 + i, len)));
    }
    let mut shelf = Shelf::new(MemTape::with_zone(4 * MIB + 1000, 0));
    let mut w = SetWriter::new("set-c", "offsite", NOW, 512 * 1024);
    shelf.next(&mut w);
    let at_once = shelf.write(&mut w, &objects);
    let catalog = shelf.finish(&mut w, &["snap1"]);
    let n = shelf.tapes.len();
    assert!(n >= 3, "{n} cartridges");

    let dir = tempfile::tempdir().unwrap();
    let mut accepted_then_rewritten = 0;
    for k in 0..n - 1 {
        let seq = k as u32 + 1;
        let tape = &mut shelf.tapes[k];
        // Label and a data file cut short; the catalog did not fit after
        // end of medium.
        let scan = scan_cartridge(tape).unwrap();
        assert!(matches!(scan.files[1].kind, TapeFileKind::Data { .. }));
        assert!(!scan
            .files
            .iter()
            .any(|f| matches!(f.kind, TapeFileKind::Catalog(_))));
        // GNU tar sees the truncated last entry; what comes before is intact.
        let file = dir.path().join(format!("{k}.tar"));
        std::fs::write(&file, tape.file_bytes(1)).unwrap();
        let out = Command::new("tar").arg("-tf").arg(&file).output().unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Unexpected EOF"), "{stderr}");
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        let here: Vec<&str> = catalog
            .objects
            .iter()
            .flat_map(|o| &o.segments)
            .filter(|s| s.seq == seq)
            .map(|s| s.entry.as_str())
            .collect();
        let listed: Vec<&str> = listed.lines().collect();
        let (cut, intact) = listed.split_last().unwrap();
        assert_eq!(intact.iter().filter(|e| !here.contains(e)).count(), 0);
        assert!(
            !here.contains(cut),
            "the cut entry {cut} is not listed on {seq}"
        );
        let again = catalog
            .objects
            .iter()
            .flat_map(|o| &o.segments)
            .find(|s| s.entry == *cut)
            .unwrap();
        assert_eq!(
            again.seq,
            seq + 1,
            "{cut} is written again on the next cartridge"
        );
        let path = cut.split(".part").next().unwrap();
        if at_once.iter().any(|p| p == path) {
            accepted_then_rewritten += 1;
        }
    }
    assert!(
        accepted_then_rewritten > 0,
        "some cut entry belonged to an object already accepted (held and rewritten)"
    );
    assert!(catalog.objects.iter().all(|o| o.is_whole()));
    assert_same(&read_back(&mut shelf.tapes, &catalog), &objects);
}

#[test]
fn the_streaming_writer_writes_the_same_cartridges() {
    // `write_shared` (shared bytes kept for retries, the hash given by the
    // caller) must write exactly what `write_object` writes, through end of
    // medium in the middle of entries.
    let objects: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| {
            let len = if i % 5 == 2 { 700_000 } else { 90_000 + 41 * i };
            (pack_path(400 + i as u64), random_bytes(400 + i as u64, len))
        })
        .collect();
    let mut runs = Vec::new();
    for shared in [false, true] {
        let mut shelf = Shelf::new(MemTape::with_zone(3 * MIB + 500, 0));
        shelf.shared = shared;
        let mut w = SetWriter::new("set-s", "offsite", NOW, 512 * 1024);
        shelf.next(&mut w);
        shelf.write(&mut w, &objects);
        let catalog = shelf.finish(&mut w, &["snap1"]);
        assert!(shelf.tapes.len() >= 3, "{} cartridges", shelf.tapes.len());
        assert_same(&read_back(&mut shelf.tapes, &catalog), &objects);
        let files: Vec<Vec<u8>> = shelf.tapes.iter().map(|t| t.file_bytes(1)).collect();
        runs.push((catalog, files));
    }
    assert_eq!(runs[0].0, runs[1].0, "the same catalog");
    assert!(runs[0].1 == runs[1].1, "the same data files");
}

// ---------------------------------------------------------------------------
// ---------------------------------------------------------------------------
// Jobs appended to a set, and killed jobs

fn job_one() -> (Shelf, Vec<(String, Vec<u8>)>, SetCatalog) {
    let objects = repository_objects();
    let mut shelf = Shelf::new(MemTape::new(256 * MIB));
    let mut w = SetWriter::new("set-d", "offsite", NOW, 512 * 1024);
    shelf.next(&mut w);
    shelf.write(&mut w, &objects);
    let catalog = shelf.finish(&mut w, &["snap1"]);
    (shelf, objects, catalog)
}

#[test]
fn a_second_job_appends_without_rewriting_old_objects() {
    let (mut shelf, mut objects, first) = job_one();
    let catalog = last_catalog(shelf.drive()).unwrap().unwrap();
    assert_eq!(catalog, first);
    let mut w = SetWriter::append(shelf.drive(), catalog).unwrap();
    assert!(w.contains("config") && w.contains(&pack_path(4)));
    let mut new = vec![(format!("snapshots/{}", hexname(50)), random_bytes(50, 800))];
    new.push((pack_path(51), random_bytes(51, 2 * MIB as usize)));
    // The job gives old objects too: they are skipped.
    let mut given = objects.clone();
    given.extend(new.iter().cloned());
    shelf.write(&mut w, &given);
    let catalog = shelf.finish(&mut w, &["snap1", "snap2"]);
    assert_eq!(catalog.snapshots, ["snap1", "snap2"]);
    assert_eq!(catalog.file, 4);
    assert!(
        w.bytes_written() < 3 * MIB + 4 * BLOCK_SIZE as u64,
        "{}",
        w.bytes_written()
    );
    for (path, _) in &objects {
        let o = catalog.object(path).unwrap();
        assert!(
            o.segments.iter().all(|s| s.file == 1),
            "{path} not rewritten"
        );
    }
    for (path, _) in &new {
        let o = catalog.object(path).unwrap();
        assert!(
            o.segments.iter().all(|s| s.file == 3),
            "{path} in the new data file"
        );
    }
    let scan = scan_cartridge(shelf.drive()).unwrap();
    assert_eq!(scan.files.len(), 5);
    assert!(matches!(&scan.files[2].kind, TapeFileKind::Catalog(c) if **c == first));
    objects.extend(new);
    assert_same(&read_back(&mut shelf.tapes, &catalog), &objects);
}

#[test]
fn a_killed_job_is_ignored_and_written_over() {
    let (mut shelf, mut objects, first) = job_one();
    // Job 2 writes 3 MiB, then dies: no end of archive, no file mark, no
    // catalog.
    {
        let catalog = last_catalog(shelf.drive()).unwrap().unwrap();
        let mut w = SetWriter::append(shelf.drive(), catalog).unwrap();
        for i in 0..3 {
            let p = w
                .write_object(
                    shelf.drive(),
                    &pack_path(70 + i),
                    &random_bytes(70 + i, MIB as usize),
                    NOW,
                )
                .unwrap();
            assert_eq!(p, Progress::Done);
        }
    }
    let scan = scan_cartridge(shelf.drive()).unwrap();
    assert_eq!(scan.files.len(), 4);
    assert!(
        !scan.files[3].terminated,
        "the killed job's data file has no file mark"
    );
    assert!(
        matches!(&scan.files[3].kind, TapeFileKind::Data { first_entry: Some(e) } if *e == format!("{}.part0001", pack_path(70)))
    );

    let catalog = last_catalog(shelf.drive()).unwrap().unwrap();
    assert_eq!(catalog, first, "the killed job's data is not in the set");
    let mut w = SetWriter::append(shelf.drive(), catalog).unwrap();
    let new = vec![(pack_path(80), random_bytes(80, 100_000))];
    shelf.write(&mut w, &new);
    let catalog = shelf.finish(&mut w, &["snap3"]);
    assert_eq!(catalog.snapshots, ["snap1", "snap3"]);
    assert!(catalog.object(&pack_path(70)).is_none());
    let scan = scan_cartridge(shelf.drive()).unwrap();
    assert_eq!(scan.files.len(), 5);
    assert!(scan.files.iter().all(|f| f.terminated));
    assert!(
        matches!(&scan.files[3].kind, TapeFileKind::Data { first_entry: Some(e) } if *e == pack_path(80))
    );
    // Nothing of the killed job remains after the new catalog.
    assert!(matches!(shelf.drive().items.last(), Some(Item::Mark)));
    objects.extend(new);
    assert_same(&read_back(&mut shelf.tapes, &catalog), &objects);
}

#[test]
fn append_refuses_another_cartridge() {
    let (mut shelf, _, first) = job_one();
    let mut other = MemTape::new(64 * MIB);
    let err = SetWriter::append(&mut other, first.clone()).err().unwrap();
    assert!(matches!(err, FormatError::WrongCartridge { .. }), "{err}");
    let mut w = SetWriter::append(shelf.drive(), first).unwrap();
    let err = w.start_cartridge(&mut other, "HKN009L9", NOW).unwrap_err();
    assert!(matches!(err, FormatError::CartridgeOpen { .. }), "{err}");
}

// ---------------------------------------------------------------------------
// Damaged data

#[test]
fn a_corrupt_byte_names_cartridge_file_and_entry() {
    let (mut shelf, _, catalog) = job_one();
    // The data file's first block: config (13 bytes), then keys/…; flip a
    // byte of the key slot's data (after two headers and config's record).
    let at = shelf.drive().block_index(1, 0);
    let Item::Block(b) = &mut shelf.drive().items[at] else {
        unreachable!()
    };
    b[512 * 3 + 10] ^= 0x40;
    let err = read_cartridge_objects(shelf.drive(), &catalog, &mut |_, _, _| Ok(())).unwrap_err();
    let key = format!("keys/{}", hexname(1));
    assert_eq!(
        err.to_string(),
        format!("cartridge HKN001L9, tape file 1: entry {key}: blake3 does not match the catalog")
    );
    assert!(matches!(err, FormatError::Corrupt { file: 1, ref entry, .. } if *entry == key));

    // A truncated data file: the entries past the cut are reported missing.
    let (mut shelf, _, catalog) = job_one();
    let at = shelf.drive().block_index(1, 2);
    shelf.drive().items.remove(at);
    let err = read_cartridge_objects(shelf.drive(), &catalog, &mut |_, _, _| Ok(())).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cartridge HKN001L9, tape file 1: entry "),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// GNU tar reads what hokan writes

fn tar_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("tar")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tar {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gnu_tar_lists_and_extracts_a_data_file() {
    let long = format!("snapshots/{}", "0123456789abcdef".repeat(7));
    assert!(long.len() > 100);
    let mut objects = repository_objects();
    objects.push((long.clone(), random_bytes(77, 4321)));
    let mut shelf = Shelf::new(MemTape::new(256 * MIB));
    let mut w = SetWriter::new("set-e", "offsite", NOW, 512 * 1024);
    shelf.next(&mut w);
    shelf.write(&mut w, &objects);
    let catalog = shelf.finish(&mut w, &["snap1"]);

    let dir = tempfile::tempdir().unwrap();
    let tape = shelf.drive();
    for (n, name) in [(0, "label.tar"), (1, "data.tar"), (2, "catalog.tar")] {
        std::fs::write(dir.path().join(name), tape.file_bytes(n)).unwrap();
    }
    // The label and the catalog, as a person would read them.
    let label = tar_in(
        dir.path(),
        &["-b", "512", "-xOf", "label.tar", "HOKAN-LABEL.json"],
    );
    let label: Label = serde_json::from_str(&label).unwrap();
    assert_eq!((label.seq, label.set.as_str()), (1, "set-e"));
    let json = tar_in(dir.path(), &["-xOf", "catalog.tar", "HOKAN-CATALOG.json"]);
    assert_eq!(serde_json::from_str::<SetCatalog>(&json).unwrap(), catalog);

    // List: names and sizes.
    let listing = tar_in(dir.path(), &["-b", "512", "-tvf", "data.tar"]);
    let listed: Vec<(String, u64)> = listing
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[5].to_owned(), f[2].parse().unwrap())
        })
        .collect();
    let expected: Vec<(String, u64)> = catalog
        .objects
        .iter()
        .flat_map(|o| &o.segments)
        .map(|s| (s.entry.clone(), s.len))
        .collect();
    assert_eq!(listed, expected);
    assert!(listed.iter().any(|(n, _)| *n == long));

    // Extract and join parts with cat: a repository folder.
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    tar_in(&repo, &["-b", "512", "-xf", "../data.tar"]);
    let big = pack_path(4);
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("cat {big}.part* > {big} && rm {big}.part*"))
        .current_dir(&repo)
        .status()
        .unwrap();
    assert!(status.success());
    for (path, bytes) in &objects {
        let got = std::fs::read(repo.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(got == *bytes, "{path}: bytes differ after tar -x");
    }
}
