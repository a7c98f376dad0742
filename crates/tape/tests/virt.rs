//! The virtual library behaves like tape hardware: places, positions, file
//! marks, erasing, capacity, write protection, persistence, torn records.

use std::io::Write;
use std::path::Path;

use hokan_tape::virt::{LibraryShape, Place, VirtualLibrary};
use hokan_tape::{Changer, ReadBlock, TapeDrive, TapeError, WriteBlock};

const GIB: u64 = 1 << 30;

/// A library with 2 drives, 4 storage slots and 2 mail slots (5 and 6),
/// holding the given cartridges in slots 1, 2, ….
fn library(dir: &Path, barcodes: &[&str]) -> VirtualLibrary {
    let lib = VirtualLibrary::create(dir, "vtl", LibraryShape::library(2, 4, 2)).unwrap();
    for (i, b) in barcodes.iter().enumerate() {
        assert_eq!(
            lib.insert(b, GIB, false).unwrap(),
            Place::Slot(i as u32 + 1)
        );
    }
    lib
}

fn place(lib: &VirtualLibrary, barcode: &str) -> Place {
    let all = lib.cartridges().unwrap();
    let c: Vec<_> = all.iter().filter(|c| c.barcode == barcode).collect();
    assert_eq!(c.len(), 1, "{barcode} listed once");
    c[0].place
}

fn move_error(r: Result<(), TapeError>) -> String {
    match r {
        Err(e @ TapeError::Move { .. }) => e.to_string(),
        other => panic!("expected a refused move, got {other:?}"),
    }
}

fn read_all(drive: &mut dyn TapeDrive) -> Vec<Result<Vec<u8>, &'static str>> {
    let mut buf = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    loop {
        match drive.read_block(&mut buf).unwrap() {
            ReadBlock::Data(n) => out.push(Ok(buf[..n].to_vec())),
            ReadBlock::FileMark => out.push(Err("mark")),
            ReadBlock::EndOfData => return out,
        }
    }
}

fn block(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn a_cartridge_is_in_exactly_one_place_and_impossible_moves_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["HKN001L9", "HKN002L9"]);
    let mut ch = lib.changer().unwrap();

    ch.load(1, 0).unwrap();
    assert_eq!(place(&lib, "HKN001L9"), Place::Drive(0));
    let st = ch.status().unwrap();
    assert_eq!(st.find("HKN001L9"), Some(Ok(0)));
    assert_eq!(st.drives[0].source_slot, Some(1));
    assert!(st.slots[0].cartridge.is_none());
    assert_eq!(st.slots.len(), 6);
    assert!(st.slots[4].import_export && !st.slots[3].import_export);

    let e = move_error(ch.load(1, 1));
    assert!(e.contains("slot 1 is empty"), "{e}");
    let e = move_error(ch.load(2, 0));
    assert!(e.contains("drive 0 already holds HKN001L9"), "{e}");
    let e = move_error(ch.unload(1, 3));
    assert!(e.contains("drive 1 is empty"), "{e}");
    let e = move_error(ch.unload(0, 2));
    assert!(e.contains("slot 2 already holds HKN002L9"), "{e}");
    let e = move_error(ch.load(7, 1));
    assert!(e.contains("no slot 7"), "{e}");
    let e = move_error(ch.load(2, 2));
    assert!(e.contains("no drive 2"), "{e}");
    // Nothing moved by the refusals.
    assert_eq!(place(&lib, "HKN001L9"), Place::Drive(0));
    assert_eq!(place(&lib, "HKN002L9"), Place::Slot(2));

    ch.unload(0, 3).unwrap();
    assert_eq!(place(&lib, "HKN001L9"), Place::Slot(3));
    ch.transfer(3, 5).unwrap();
    assert_eq!(place(&lib, "HKN001L9"), Place::Slot(5));
    let e = move_error(ch.transfer(3, 4));
    assert!(e.contains("slot 3 is empty"), "{e}");
    let e = move_error(ch.transfer(2, 5));
    assert!(e.contains("slot 5 already holds HKN001L9"), "{e}");

    // A person: takes it out of the mail slot, not out of storage.
    let e = lib.take_out("HKN002L9").unwrap_err().to_string();
    assert!(
        e.contains("HKN002L9 is in storage slot 2; export it to the mail slot first"),
        "{e}"
    );
    lib.take_out("HKN001L9").unwrap();
    assert_eq!(place(&lib, "HKN001L9"), Place::Outside);
    assert_eq!(ch.status().unwrap().find("HKN001L9"), None);
    // Inserting a cartridge that is inside is refused.
    let e = lib.insert("HKN002L9", GIB, false).unwrap_err().to_string();
    assert!(e.contains("already inside, in storage slot 2"), "{e}");
    // Back in: the first free storage slot.
    assert_eq!(lib.insert("HKN001L9", GIB, false).unwrap(), Place::Slot(1));
}

#[test]
fn a_full_library_refuses_inserts() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["A1", "A2", "A3", "A4"]);
    let e = lib.insert("A5", GIB, false).unwrap_err().to_string();
    assert!(e.contains("all 4 storage slots are full"), "{e}");
    assert!(lib.insert("bad/name", GIB, false).is_err());
    assert_eq!(lib.cartridges().unwrap().len(), 4);
}

#[test]
fn blocks_and_file_marks_round_trip_with_spacing_and_locating() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["HKN001L9"]);
    lib.changer().unwrap().load(1, 0).unwrap();
    let mut d = lib.drive(0).unwrap();
    let st = d.status().unwrap();
    assert!(st.loaded && st.at_bot && st.at_eod);
    assert_eq!(st.cartridge_id.as_deref(), Some("HKN001L9"));
    assert_eq!(st.capacity, Some(GIB));

    // File 0: two small blocks; file 1: a large one; file 2: one, unterminated.
    let big = block(3, 300_000);
    assert_eq!(d.write_block(b"first").unwrap(), WriteBlock::Written);
    d.write_block(b"second").unwrap();
    d.write_filemarks(1).unwrap();
    d.write_block(&big).unwrap();
    d.write_filemarks(1).unwrap();
    d.write_block(b"third file").unwrap();
    let st = d.status().unwrap();
    assert_eq!((st.file_number, st.block_number), (Some(2), Some(1)));
    assert!(st.at_eod && !st.at_bot);

    d.rewind().unwrap();
    let all = read_all(&mut d);
    assert_eq!(
        all,
        vec![
            Ok(b"first".to_vec()),
            Ok(b"second".to_vec()),
            Err("mark"),
            Ok(big.clone()),
            Err("mark"),
            Ok(b"third file".to_vec()),
        ]
    );

    d.rewind().unwrap();
    d.space_filemarks_forward(2).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(d.read_block(&mut buf).unwrap(), ReadBlock::Data(10));
    assert_eq!(&buf[..10], b"third file");

    d.locate_file(1).unwrap();
    let st = d.status().unwrap();
    assert_eq!((st.file_number, st.block_number), (Some(1), Some(0)));
    // Too small a buffer: refused, and the block can be read again.
    match d.read_block(&mut buf) {
        Err(TapeError::BlockSize { size, limit, .. }) => assert_eq!((size, limit), (300_000, 64)),
        other => panic!("{other:?}"),
    }
    let mut large = vec![0u8; 400_000];
    assert_eq!(d.read_block(&mut large).unwrap(), ReadBlock::Data(300_000));
    assert_eq!(&large[..300_000], &big[..]);

    // Spacing past the last file mark ends at end of data, with an error.
    d.rewind().unwrap();
    let e = d.space_filemarks_forward(3).unwrap_err().to_string();
    assert!(e.contains("HKN001L9 holds fewer tape files"), "{e}");
    assert!(d.status().unwrap().at_eod);

    d.rewind().unwrap();
    d.seek_end_of_data().unwrap();
    let st = d.status().unwrap();
    assert!(st.at_eod);
    assert_eq!((st.file_number, st.block_number), (Some(2), Some(1)));
    assert_eq!(d.read_block(&mut buf).unwrap(), ReadBlock::EndOfData);
    d.write_filemarks(1).unwrap();

    // What a person exports is what was written.
    assert_eq!(lib.tape_file("HKN001L9", 0).unwrap(), b"firstsecond");
    assert_eq!(lib.tape_file("HKN001L9", 1).unwrap(), big);
    let mut out = Vec::new();
    assert_eq!(lib.export_tape_file("HKN001L9", 2, &mut out).unwrap(), 10);
    assert_eq!(out, b"third file");
    assert!(lib.tape_file("HKN001L9", 4).is_err());
    let used = lib.cartridges().unwrap()[0].used;
    assert_eq!(used, 11 + 300_000 + 10);
}

#[test]
fn writing_in_the_middle_erases_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["HKN001L9"]);
    lib.changer().unwrap().load(1, 0).unwrap();
    let mut d = lib.drive(0).unwrap();
    for f in 0..3u8 {
        d.write_block(&block(f, 1000)).unwrap();
        d.write_block(&block(f + 10, 100_000)).unwrap();
        d.write_filemarks(1).unwrap();
    }
    d.locate_file(1).unwrap();
    let mut buf = vec![0u8; 1000];
    d.read_block(&mut buf).unwrap();
    d.write_block(b"new").unwrap();
    d.write_filemarks(1).unwrap();

    d.rewind().unwrap();
    let all = read_all(&mut d);
    assert_eq!(
        all,
        vec![
            Ok(block(0, 1000)),
            Ok(block(10, 100_000)),
            Err("mark"),
            Ok(block(1, 1000)),
            Ok(b"new".to_vec()),
            Err("mark"),
        ]
    );
    assert!(lib.tape_file("HKN001L9", 2).is_err());
    let image = dir.path().join("cartridges/HKN001L9.tape");
    let len = std::fs::metadata(image).unwrap().len();
    assert_eq!(len, 6 * 5 + 1000 + 100_000 + 1000 + 3);
}

#[test]
fn early_warning_then_end_of_medium_at_the_right_byte_counts() {
    let dir = tempfile::tempdir().unwrap();
    let lib = VirtualLibrary::create(dir.path(), "vtl", LibraryShape::library(1, 2, 1)).unwrap();
    // Early warning point: 8000 - 1000 = 7000 bytes.
    lib.insert("SMALL1", 8000, false).unwrap();
    lib.changer().unwrap().load(1, 0).unwrap();
    let mut d = lib.drive(0).unwrap();
    for _ in 0..7 {
        assert_eq!(d.write_block(&[1; 1000]).unwrap(), WriteBlock::Written);
    }
    assert!(!d.status().unwrap().early_warning);
    // 7001 bytes: past the warning point, still written.
    assert_eq!(d.write_block(&[2; 1]).unwrap(), WriteBlock::EarlyWarning);
    assert!(d.status().unwrap().early_warning);
    assert_eq!(d.write_block(&[3; 998]).unwrap(), WriteBlock::EarlyWarning);
    // 7999 used: 2 more bytes do not fit; the block is not stored.
    match d.write_block(&[4; 2]) {
        Err(e @ TapeError::EndOfMedium { .. }) => {
            assert!(e.to_string().contains("SMALL1"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // A file mark still fits, and so does exactly the last byte.
    d.write_filemarks(1).unwrap();
    assert_eq!(d.write_block(&[5; 1]).unwrap(), WriteBlock::EarlyWarning);
    assert!(matches!(
        d.write_block(&[6; 1]),
        Err(TapeError::EndOfMedium { .. })
    ));
    d.write_filemarks(1).unwrap();
    assert_eq!(lib.tape_file("SMALL1", 0).unwrap().len(), 7999);
    assert_eq!(lib.tape_file("SMALL1", 1).unwrap(), vec![5]);
    assert_eq!(lib.cartridges().unwrap()[0].used, 8000);
    // Rewinding and writing again frees the space.
    d.rewind().unwrap();
    assert_eq!(d.write_block(&[7; 6000]).unwrap(), WriteBlock::Written);
}

#[test]
fn a_write_protected_cartridge_refuses_writes_naming_its_barcode() {
    let dir = tempfile::tempdir().unwrap();
    let lib = VirtualLibrary::create(dir.path(), "vtl", LibraryShape::library(1, 2, 1)).unwrap();
    lib.insert("HKN009L9", GIB, true).unwrap();
    lib.changer().unwrap().load(1, 0).unwrap();
    let mut d = lib.drive(0).unwrap();
    assert!(d.status().unwrap().write_protected);
    for r in [d.write_block(b"x").map(|_| ()), d.write_filemarks(1)] {
        match r {
            Err(e @ TapeError::WriteProtected { .. }) => {
                assert!(e.to_string().contains("HKN009L9"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
    // The tab moved while loaded: the drive notices.
    lib.set_write_protect("HKN009L9", false).unwrap();
    d.write_block(b"x").unwrap();
    lib.set_write_protect("HKN009L9", true).unwrap();
    assert!(matches!(
        d.write_block(b"y"),
        Err(TapeError::WriteProtected { .. })
    ));
}

#[test]
fn an_ejected_or_moved_cartridge_cannot_be_read_and_buffered_blocks_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["HKN001L9", "HKN002L9"]);
    let mut ch = lib.changer().unwrap();
    let mut buf = [0u8; 16];

    // An empty drive.
    let mut d = lib.drive(1).unwrap();
    assert!(!d.status().unwrap().loaded);
    assert!(matches!(
        d.read_block(&mut buf),
        Err(TapeError::NotLoaded { .. })
    ));
    assert!(matches!(
        d.write_block(b"x"),
        Err(TapeError::NotLoaded { .. })
    ));

    // Ejected by the drive: still in the drive for the changer, not loaded.
    ch.load(1, 1).unwrap();
    d.write_block(b"small").unwrap();
    d.unload().unwrap();
    let st = d.status().unwrap();
    assert!(!st.loaded && st.cartridge_id.is_none());
    assert!(matches!(
        d.read_block(&mut buf),
        Err(TapeError::NotLoaded { .. })
    ));
    assert_eq!(ch.status().unwrap().find("HKN001L9"), Some(Ok(1)));
    ch.unload(1, 1).unwrap();
    assert_eq!(lib.tape_file("HKN001L9", 0).unwrap(), b"small");

    // Moved by the changer without an eject: the handle notices, and the
    // blocks it still buffered reach the image.
    ch.load(2, 1).unwrap();
    d.write_block(b"buffered").unwrap();
    ch.unload(1, 2).unwrap();
    assert!(matches!(
        d.read_block(&mut buf),
        Err(TapeError::NotLoaded { .. })
    ));
    assert_eq!(lib.tape_file("HKN002L9", 0).unwrap(), b"buffered");

    // Loaded again: at the beginning.
    ch.load(2, 1).unwrap();
    let st = d.status().unwrap();
    assert!(st.loaded && st.at_bot && !st.at_eod);
    assert_eq!(d.read_block(&mut buf).unwrap(), ReadBlock::Data(8));
}

#[test]
fn the_state_and_drive_position_survive_reopening_the_library() {
    let dir = tempfile::tempdir().unwrap();
    {
        let lib = library(dir.path(), &["HKN001L9", "HKN002L9"]);
        lib.changer().unwrap().load(2, 1).unwrap();
        let mut d = lib.drive(1).unwrap();
        for f in 0..3u8 {
            d.write_block(&block(f, 5000)).unwrap();
            d.write_filemarks(1).unwrap();
        }
        d.locate_file(1).unwrap();
        let mut buf = vec![0u8; 5000];
        d.read_block(&mut buf).unwrap();
        // Dropped here: the read position is saved.
    }
    let lib = VirtualLibrary::open(dir.path()).unwrap();
    assert_eq!(lib.name(), "vtl");
    assert_eq!(place(&lib, "HKN002L9"), Place::Drive(1));
    assert_eq!(place(&lib, "HKN001L9"), Place::Slot(1));
    let mut ch = lib.changer().unwrap();
    assert_eq!(ch.status().unwrap().drives[1].source_slot, Some(2));
    let mut d = lib.drive(1).unwrap();
    let st = d.status().unwrap();
    assert_eq!((st.file_number, st.block_number), (Some(1), Some(1)));
    let mut buf = vec![0u8; 5000];
    assert_eq!(d.read_block(&mut buf).unwrap(), ReadBlock::FileMark);
    assert_eq!(d.read_block(&mut buf).unwrap(), ReadBlock::Data(5000));
    assert_eq!(buf, block(2, 5000));
}

#[test]
fn creating_twice_is_refused_and_opening_nothing_says_how_to_create() {
    let dir = tempfile::tempdir().unwrap();
    let e = VirtualLibrary::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains(&dir.path().display().to_string()), "{e}");
    assert!(e.contains("hokan tape sim create"), "{e}");
    VirtualLibrary::create(dir.path(), "vtl", LibraryShape::library(1, 2, 0)).unwrap();
    let e = VirtualLibrary::create(dir.path(), "vtl", LibraryShape::single_drive())
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
    let lib = VirtualLibrary::open(dir.path()).unwrap();
    assert!(!lib.is_single_drive());
    assert_eq!(lib.shape(), LibraryShape::library(1, 2, 0));
}

#[test]
fn a_torn_trailing_record_is_cut_when_a_drive_opens() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["HKN001L9"]);
    lib.changer().unwrap().load(1, 0).unwrap();
    {
        let mut d = lib.drive(0).unwrap();
        d.write_block(&block(1, 100)).unwrap();
        d.write_filemarks(1).unwrap();
        d.write_block(&block(2, 100)).unwrap();
    }
    let image = dir.path().join("cartridges/HKN001L9.tape");
    let whole = std::fs::metadata(&image).unwrap().len();
    assert_eq!(whole, 3 * 5 + 200);
    // A killed process: a header promising 1000 bytes, 10 of them there.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&image)
        .unwrap();
    f.write_all(&[1, 0xe8, 0x03, 0, 0]).unwrap();
    f.write_all(&[9; 10]).unwrap();
    drop(f);
    assert_eq!(lib.cartridges().unwrap()[0].used, 200);

    let mut d = lib.drive(0).unwrap();
    assert_eq!(std::fs::metadata(&image).unwrap().len(), whole);
    // The drive was writing: it stands at the end of the data it finds.
    let st = d.status().unwrap();
    assert!(st.at_eod);
    assert_eq!((st.file_number, st.block_number), (Some(1), Some(1)));
    d.write_block(b"after").unwrap();
    drop(d);
    assert_eq!(lib.tape_file("HKN001L9", 1).unwrap().len(), 105);
}

#[test]
fn a_killed_writer_leaves_the_drive_at_the_end_of_what_reached_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["HKN001L9"]);
    lib.changer().unwrap().load(1, 0).unwrap();
    let mut d = lib.drive(0).unwrap();
    d.write_block(&block(1, 100_000)).unwrap();
    d.write_filemarks(1).unwrap();
    d.write_block(&block(2, 100_000)).unwrap();
    d.write_block(&block(3, 100_000)).unwrap();
    // No Drop: as if the process was killed (large blocks go out at once).
    std::mem::forget(d);
    let mut d = lib.drive(0).unwrap();
    let st = d.status().unwrap();
    assert!(st.at_eod);
    assert_eq!((st.file_number, st.block_number), (Some(1), Some(2)));
}

#[test]
fn a_single_drive_ejects_to_outside_and_keeps_the_data_of_a_cartridge_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let lib = VirtualLibrary::create(dir.path(), "solo", LibraryShape::single_drive()).unwrap();
    assert!(lib.is_single_drive());
    assert!(lib.changer().is_err());
    let mut d = lib.drive(0).unwrap();
    assert_eq!(d.name(), "solo");
    assert!(!d.status().unwrap().loaded);

    assert_eq!(lib.insert("HKN001L9", GIB, false).unwrap(), Place::Drive(0));
    let e = lib.insert("HKN002L9", GIB, false).unwrap_err().to_string();
    assert!(e.contains("the drive already holds HKN001L9"), "{e}");
    let e = lib.take_out("HKN001L9").unwrap_err().to_string();
    assert!(e.contains("in the drive"), "{e}");
    let st = d.status().unwrap();
    assert!(st.loaded && st.at_bot);
    d.write_block(b"kept").unwrap();
    d.write_filemarks(1).unwrap();
    d.unload().unwrap();
    assert_eq!(place(&lib, "HKN001L9"), Place::Outside);
    assert!(!d.status().unwrap().loaded);
    lib.take_out("HKN001L9").unwrap();

    lib.insert("HKN002L9", GIB, false).unwrap();
    d.write_block(b"other").unwrap();
    d.unload().unwrap();

    // Put back, now write protected: the data is there.
    assert_eq!(lib.insert("HKN001L9", 5, true).unwrap(), Place::Drive(0));
    let st = d.status().unwrap();
    assert!(st.loaded && st.write_protected && st.at_bot);
    assert_eq!(
        st.capacity,
        Some(GIB),
        "a known cartridge keeps its capacity"
    );
    assert_eq!(read_all(&mut d), vec![Ok(b"kept".to_vec()), Err("mark")]);
}

#[test]
fn two_handles_of_one_drive_see_one_position() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), &["HKN001L9"]);
    let mut ch = lib.changer().unwrap();
    ch.load(1, 0).unwrap();
    let mut a = lib.drive(0).unwrap();
    a.write_block(b"one").unwrap();
    a.write_filemarks(1).unwrap();
    // Another process opens the same library and drive.
    let other = VirtualLibrary::open(dir.path()).unwrap();
    let mut b = other.drive(0).unwrap();
    let st = b.status().unwrap();
    assert_eq!((st.file_number, st.at_eod), (Some(1), true));
    b.rewind().unwrap();
    drop(b);
    drop(a);
    let mut c = other.drive(0).unwrap();
    assert!(c.status().unwrap().at_bot);
    let mut buf = [0u8; 8];
    assert_eq!(c.read_block(&mut buf).unwrap(), ReadBlock::Data(3));
}

#[test]
fn concurrent_changes_from_many_handles_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let lib = VirtualLibrary::create(dir.path(), "vtl", LibraryShape::library(1, 64, 2)).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let lib = lib.clone();
            s.spawn(move || {
                for i in 0..8 {
                    lib.insert(&format!("T{t}C{i}"), GIB, false).unwrap();
                }
            });
        }
    });
    let all = lib.cartridges().unwrap();
    assert_eq!(all.len(), 32);
    let mut places: Vec<Place> = all.iter().map(|c| c.place).collect();
    places.sort_by_key(|p| format!("{p:?}"));
    places.dedup();
    assert_eq!(places.len(), 32, "every cartridge in its own slot");
}
