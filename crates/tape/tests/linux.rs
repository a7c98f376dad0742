//! The Linux device code on recorded device answers (`tests/data/`): `mtx`
//! outputs, sense bytes, a cartridge-memory answer. No test opens a real
//! device: none is attached to a test machine.

#![cfg(target_os = "linux")]

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;

use hokan_tape::linux::mam::{
    answer_from_sg, medium_info_from_sg, parse_attributes, MamError, MediumInfo, Retry,
};
use hokan_tape::linux::mtx::{failure_error, parse_status, MtxCommand};
use hokan_tape::linux::sense::{parse_hex, parse_sense, SenseFormat, SenseKey, SenseKind};
use hokan_tape::linux::sg::{self, SgResult};
use hokan_tape::linux::st::{write_with_retry, WriteFailure};
use hokan_tape::linux::{MtxChanger, MtxOutput, MtxRunner};
use hokan_tape::{Changer, DriveStatus, TapeError, WriteBlock};

fn data(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn barcode(c: &Option<hokan_tape::Cartridge>) -> Option<&str> {
    c.as_ref().and_then(|c| c.barcode.as_deref())
}

// ---------------------------------------------------------------------------
// The st early-warning protocol, against a model of the driver

/// The st driver's write path in variable block mode (st.c `st_write`),
/// reduced to its end-of-medium states, over a tape of `end` blocks whose
/// early warning is at block `ew`.
struct SimSt {
    tape: Vec<u32>,
    ew: usize,
    end: usize,
    eof: SimEof,
    async_pending_ew: bool,
    asynchronous: bool,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum SimEof {
    NoEof,
    EomOk,
    EodOne,
}

impl SimSt {
    fn new(ew: usize, end: usize) -> Self {
        SimSt {
            tape: Vec::new(),
            ew,
            end,
            eof: SimEof::NoEof,
            async_pending_ew: false,
            asynchronous: false,
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // write_behind_check: an asynchronous write that met EOM is
        // reported now, as ENOSPC, without writing this block.
        if std::mem::take(&mut self.async_pending_ew) {
            self.eof = SimEof::EomOk;
        }
        if self.eof == SimEof::EomOk {
            self.eof = SimEof::EodOne; // allow next write
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        if self.tape.len() >= self.end {
            // VOLUME OVERFLOW: nothing written.
            self.eof = SimEof::EomOk;
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        self.tape
            .push(u32::from_le_bytes(data[..4].try_into().unwrap()));
        if self.tape.len() > self.ew {
            // EOM sense with nothing left over: the count is returned.
            if self.asynchronous && self.eof == SimEof::NoEof {
                self.async_pending_ew = true;
            } else {
                self.eof = SimEof::EomOk;
            }
        } else if self.eof == SimEof::EodOne {
            self.eof = SimEof::EomOk;
        }
        Ok(data.len())
    }

    fn write_filemark(&mut self) {
        // MTWEOF past the warning succeeds and clears the EOM state.
        self.eof = SimEof::NoEof;
        self.async_pending_ew = false;
    }
}

/// Writes blocks 0, 1, 2, … until end of medium; returns what each
/// write reported.
fn fill(
    sim: &mut SimSt,
    filemark_every: Option<u32>,
) -> Vec<(u32, Result<WriteBlock, WriteFailure>)> {
    let mut early_warning = false;
    let mut out = Vec::new();
    for n in 0u32.. {
        let block = n.to_le_bytes().repeat(4);
        let r = write_with_retry(|d| sim.write(d), &block, &mut early_warning).map_err(|(f, _)| f);
        let stop = r.is_err();
        out.push((n, r));
        if stop {
            break;
        }
        if filemark_every.is_some_and(|k| n % k == k - 1) {
            sim.write_filemark();
        }
        assert!(n < 1000, "never reached the end");
    }
    out
}

fn check_fill(sim: &SimSt, out: &[(u32, Result<WriteBlock, WriteFailure>)]) {
    // Every block reported written is on tape exactly once, in order,
    // and the refused one is not.
    let written: Vec<u32> = out
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(sim.tape, written);
    let (last, result) = out.last().unwrap();
    assert_eq!(*result, Err(WriteFailure::EndOfMedium));
    assert!(!sim.tape.contains(last));
    assert_eq!(sim.tape.len(), sim.end);
    // The warning is reported at the latest one block after the drive
    // passed it, and from then on for every block.
    let first_warning = out
        .iter()
        .position(|(_, r)| *r == Ok(WriteBlock::EarlyWarning))
        .unwrap();
    assert!(first_warning <= sim.ew + 2, "warned at {first_warning}");
    assert!(out[first_warning..out.len() - 1]
        .iter()
        .all(|(_, r)| *r == Ok(WriteBlock::EarlyWarning)));
}

#[test]
fn early_warning_then_end_of_medium_loses_and_duplicates_nothing() {
    let mut sim = SimSt::new(90, 100);
    let out = fill(&mut sim, None);
    check_fill(&sim, &out);
    assert_eq!(out[89].1, Ok(WriteBlock::Written));
    assert_eq!(out[91].1, Ok(WriteBlock::EarlyWarning));
}

#[test]
fn early_warning_survives_file_marks() {
    let mut sim = SimSt::new(50, 60);
    let out = fill(&mut sim, Some(3));
    check_fill(&sim, &out);
}

#[test]
fn asynchronous_writes_report_the_warning_late_but_lose_nothing() {
    let mut sim = SimSt::new(30, 37);
    sim.asynchronous = true;
    let out = fill(&mut sim, None);
    check_fill(&sim, &out);
}

#[test]
fn end_without_warning_is_end_of_medium() {
    let mut sim = SimSt::new(usize::MAX, 5);
    let out = fill(&mut sim, None);
    assert_eq!(sim.tape, vec![0, 1, 2, 3, 4]);
    assert_eq!(out.last().unwrap().1, Err(WriteFailure::EndOfMedium));
}

#[test]
fn interrupted_write_is_repeated() {
    let mut calls = 0;
    let mut ew = false;
    let r = write_with_retry(
        |d| {
            calls += 1;
            if calls == 1 {
                Err(io::Error::from_raw_os_error(libc::EINTR))
            } else {
                Ok(d.len())
            }
        },
        b"abcd",
        &mut ew,
    );
    assert_eq!(r.unwrap(), WriteBlock::Written);
    assert_eq!(calls, 2);
    assert!(!ew);
}

// ---------------------------------------------------------------------------
// mtx status

#[test]
fn autoloader_with_one_drive() {
    let s = parse_status(&data("mtx/autoloader-1drive.status")).unwrap();
    assert_eq!(s.drives.len(), 1);
    assert_eq!(s.slots.len(), 8);
    assert_eq!(s.drives[0].index, 0);
    assert_eq!(s.drives[0].source_slot, Some(3));
    assert_eq!(barcode(&s.drives[0].loaded), Some("HKN003L9"));
    assert_eq!(s.slots[0].number, 1);
    assert_eq!(barcode(&s.slots[7].cartridge), Some("CLN001CU"));
    assert!(s.slots.iter().all(|slot| !slot.import_export));
    assert_eq!(s.find("HKN003L9"), Some(Ok(0)));
    assert_eq!(s.find("HKN004L9"), Some(Err(4)));
    assert_eq!(s.free_storage(), Some(3));
    assert_eq!(s.free_import_export(), None);
}

#[test]
fn padded_tags_and_import_export_slots() {
    let s = parse_status(&data("mtx/library-2drives-ie-padded.status")).unwrap();
    assert_eq!((s.drives.len(), s.slots.len()), (2, 24));
    // Padding is not part of the barcode.
    assert_eq!(barcode(&s.drives[0].loaded), Some("HKN005L9"));
    assert_eq!(barcode(&s.slots[0].cartridge), Some("HKN001L9"));
    assert!(s.drives[1].loaded.is_none());
    let ie: Vec<u32> = s
        .slots
        .iter()
        .filter(|slot| slot.import_export)
        .map(|slot| slot.number)
        .collect();
    assert_eq!(ie, [21, 22, 23, 24]);
    assert_eq!(s.find("HKN101L9"), Some(Err(22)));
    assert_eq!(s.free_import_export(), Some(21));
    assert_eq!(s.free_storage(), Some(5));
}

#[test]
fn library_without_barcode_reader() {
    let s = parse_status(&data("mtx/no-barcode-reader.status")).unwrap();
    let drive = &s.drives[0];
    assert_eq!(drive.source_slot, Some(2));
    assert_eq!(drive.loaded.as_ref().map(|c| c.barcode.clone()), Some(None));
    assert_eq!(
        s.slots[0].cartridge.as_ref().map(|c| c.barcode.clone()),
        Some(None)
    );
    assert!(s.slots[1].cartridge.is_none());
    assert!(s.slots[9].import_export && s.slots[9].cartridge.is_none());
    assert_eq!(s.find("anything"), None);
}

#[test]
fn unknown_source_and_alternate_tags() {
    let s = parse_status(&data("mtx/unknown-source-alternate-tags.status")).unwrap();
    assert_eq!(s.drives[0].source_slot, None);
    // The primary tag is the barcode; the alternate one is not.
    assert_eq!(barcode(&s.drives[0].loaded), Some("HKN030L9"));
    assert_eq!(barcode(&s.slots[0].cartridge), Some("HKN031L9"));
    assert!(s.slots[5].import_export);
    assert_eq!(s.find("HKN036L9"), Some(Err(6)));
    assert_eq!(s.find("HKN030L9-B"), None);
}

#[test]
fn four_drives_and_a_path_with_colons() {
    let s = parse_status(&data("mtx/library-4drives-bypath.status")).unwrap();
    assert_eq!((s.drives.len(), s.slots.len()), (4, 42));
    let loaded: Vec<(u32, Option<u32>)> = s
        .drives
        .iter()
        .filter(|d| d.loaded.is_some())
        .map(|d| (d.index, d.source_slot))
        .collect();
    assert_eq!(loaded, [(0, Some(7)), (2, Some(12))]);
    assert_eq!(s.find("HKN212L9"), Some(Ok(2)));
    assert_eq!(s.find("HKN236L9"), Some(Err(36)));
    assert_eq!(s.free_storage(), Some(7));
    assert_eq!(s.free_import_export(), Some(41));
}

#[test]
fn truncated_status_is_an_error() {
    let e = parse_status(&data("mtx/truncated.status")).unwrap_err();
    assert!(e.to_string().contains("announces 8 slots but 5"), "{e}");
    assert_eq!(
        e.for_device("/dev/sg4").to_string(),
        "/dev/sg4: unexpected answer: mtx status: the header announces 8 slots but 5 are \
         listed; the output may be cut short"
    );
}

// ---------------------------------------------------------------------------
// MtxChanger through recorded answers

/// Answers from a queue and remembers every argument list.
#[derive(Default)]
struct Recorded {
    calls: Vec<Vec<String>>,
    answers: VecDeque<io::Result<MtxOutput>>,
}

impl Recorded {
    fn answering(answers: impl IntoIterator<Item = io::Result<MtxOutput>>) -> Self {
        Recorded {
            calls: Vec::new(),
            answers: answers.into_iter().collect(),
        }
    }
}

impl MtxRunner for Recorded {
    fn run(&mut self, args: &[String]) -> io::Result<MtxOutput> {
        self.calls.push(args.to_vec());
        self.answers
            .pop_front()
            .expect("an answer was recorded for every call")
    }
}

fn ok(stdout: &str, stderr: &str) -> io::Result<MtxOutput> {
    Ok(MtxOutput {
        code: Some(0),
        stdout: stdout.into(),
        stderr: stderr.into(),
    })
}

fn failed(stdout: &str, stderr: &str) -> io::Result<MtxOutput> {
    Ok(MtxOutput {
        code: Some(1),
        stdout: stdout.into(),
        stderr: stderr.into(),
    })
}

#[test]
fn changer_builds_the_argument_lists() {
    let runner = Recorded::answering([
        ok(&data("mtx/autoloader-1drive.status"), ""),
        ok("", ""),
        ok(
            "Loading media from Storage Element 4 into drive 0...done\n",
            "",
        ),
        ok("Unloading drive 0 into Storage Element 3...done\n", ""),
        ok("", ""),
    ]);
    let mut changer = MtxChanger::with_runner("/dev/sg4", runner);
    assert_eq!(changer.name(), "/dev/sg4");
    let status = changer.status().unwrap();
    assert_eq!(status.drives.len(), 1);
    changer.inventory().unwrap();
    changer.load(4, 0).unwrap();
    changer.unload(0, 3).unwrap();
    changer.transfer(2, 8).unwrap();
    let calls: Vec<String> = changer.runner().calls.iter().map(|c| c.join(" ")).collect();
    assert_eq!(
        calls,
        [
            "-f /dev/sg4 status",
            "-f /dev/sg4 inventory",
            "-f /dev/sg4 load 4 0",
            "-f /dev/sg4 unload 3 0",
            "-f /dev/sg4 transfer 2 8",
        ]
    );
}

#[test]
fn status_succeeds_despite_unit_attention_noise() {
    let runner = Recorded::answering([ok(
        &data("mtx/autoloader-1drive.status"),
        &data("mtx/errors/status-unit-attention.stderr"),
    )]);
    let mut changer = MtxChanger::with_runner("/dev/sg4", runner);
    assert_eq!(changer.status().unwrap().slots.len(), 8);
}

#[test]
fn source_empty_is_a_move_error() {
    let runner = Recorded::answering([failed(
        &data("mtx/errors/load-source-empty.stdout"),
        &data("mtx/errors/load-source-empty.stderr"),
    )]);
    let mut changer = MtxChanger::with_runner("/dev/sg3", runner);
    match changer.load(2, 0).unwrap_err() {
        TapeError::Move { device, what } => {
            assert_eq!(device, "/dev/sg3");
            assert_eq!(
                what,
                "loading slot 2 into drive 0 refused: Source Element Address 4097 is Empty \
                 (`mtx -f /dev/sg3 load 2 0`)"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn removal_prevented_names_the_sense_and_what_to_do() {
    let runner = Recorded::answering([failed(
        &data("mtx/errors/unload-removal-prevented.stdout"),
        &data("mtx/errors/unload-removal-prevented.stderr"),
    )]);
    let mut changer = MtxChanger::with_runner("/dev/sg3", runner);
    let e = changer.unload(0, 6).unwrap_err();
    let TapeError::Move { what, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(what.starts_with("unloading drive 0 into slot 6 refused: MOVE MEDIUM from Element Address 256 to 4102 Failed"), "{what}");
    assert!(what.contains("ILLEGAL REQUEST, ASC/ASCQ 53/03"), "{what}");
    assert!(what.contains("eject it first"), "{what}");
    assert!(what.ends_with("(`mtx -f /dev/sg3 unload 6 0`)"), "{what}");
}

#[test]
fn full_slot_refusal_is_a_move_error() {
    let out = MtxOutput {
        code: Some(1),
        stdout: String::new(),
        stderr: data("mtx/errors/unload-slot-full.stderr"),
    };
    let e = failure_error("/dev/sg3", &MtxCommand::Unload { drive: 0, slot: 5 }, &out);
    assert!(
        matches!(&e, TapeError::Move { what, .. } if what.contains("Storage Element 5 is Already Full")),
        "{e:?}"
    );
}

#[test]
fn offline_library_is_a_device_error_with_the_sense() {
    let runner = Recorded::answering([failed(
        "",
        &data("mtx/errors/status-library-offline.stderr"),
    )]);
    let mut changer = MtxChanger::with_runner("/dev/sg6", runner);
    let e = changer.status().unwrap_err();
    assert_eq!(
        e.to_string(),
        "/dev/sg6: reading the changer status failed (exit status 1): READ ELEMENT STATUS \
         Command Failed; the changer says: offline (NOT READY, ASC/ASCQ 04/12): put the library \
         or drive online from its front panel (`mtx -f /dev/sg6 status`)"
    );
}

#[test]
fn becoming_ready_on_load_is_a_device_error() {
    let out = MtxOutput {
        code: Some(1),
        stdout: String::new(),
        stderr: data("mtx/errors/load-not-ready-becoming.stderr"),
    };
    let e = failure_error("/dev/sg3", &MtxCommand::Load { slot: 1, drive: 0 }, &out);
    let TapeError::Device { what, .. } = &e else {
        panic!("{e:?}")
    };
    // The argv0 prefix is gone; the sense says to wait.
    assert!(
        what.contains("(exit status 1): MOVE MEDIUM from Element Address 4096 to 256 Failed;"),
        "{what}"
    );
    assert!(
        what.contains("becoming ready") && what.contains("wait a minute and retry"),
        "{what}"
    );
}

#[test]
fn inventory_unsupported_is_not_a_failure() {
    let runner =
        Recorded::answering([failed("", &data("mtx/errors/inventory-unsupported.stderr"))]);
    let mut changer = MtxChanger::with_runner("/dev/sg3", runner);
    changer.inventory().unwrap();
    // Any other inventory failure is one.
    let runner = Recorded::answering([failed(
        "",
        &data("mtx/errors/status-library-offline.stderr"),
    )]);
    let mut changer = MtxChanger::with_runner("/dev/sg3", runner);
    assert!(matches!(changer.inventory(), Err(TapeError::Device { .. })));
}

#[test]
fn missing_mtx_program_says_so() {
    let runner = Recorded::answering([Err(io::Error::from(io::ErrorKind::NotFound))]);
    let mut changer = MtxChanger::with_runner("/dev/sg3", runner);
    let e = changer.status().unwrap_err();
    assert!(matches!(e, TapeError::Io { .. }));
    assert_eq!(
        e.to_string(),
        "/dev/sg3: cannot run `mtx -f /dev/sg3 status`: is the mtx package installed?"
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn timed_out_mtx_is_a_device_error() {
    let runner = Recorded::answering([Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "mtx did not finish within 1800 s and was stopped",
    ))]);
    let mut changer = MtxChanger::with_runner("/dev/sg3", runner);
    let e = changer.load(1, 0).unwrap_err();
    assert!(
        matches!(&e, TapeError::Device { what, .. } if what.contains("library may be busy or hung")),
        "{e:?}"
    );
}

#[test]
fn unparsable_status_is_a_protocol_error() {
    let runner = Recorded::answering([ok("Data Transfer Element 0:Half\n", "")]);
    let mut changer = MtxChanger::with_runner("/dev/sg3", runner);
    assert!(matches!(changer.status(), Err(TapeError::Protocol { .. })));
}

#[test]
fn process_runner_reports_exit_code_and_output() {
    // `sh` stands in for mtx: the runner passes the arguments and collects
    // both streams and the exit code.
    use hokan_tape::linux::ProcessRunner;
    let mut runner = ProcessRunner::new().with_program("sh");
    let out = runner
        .run(&["-c".into(), "echo out; echo err >&2; exit 3".into()])
        .unwrap();
    assert_eq!(out.code, Some(3));
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    let mut slow = ProcessRunner::new()
        .with_program("sh")
        .with_timeout(std::time::Duration::from_millis(200));
    let e = slow.run(&["-c".into(), "sleep 5".into()]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
}

// ---------------------------------------------------------------------------
// Sense data

fn sense(file: &str) -> hokan_tape::linux::Sense {
    let bytes = parse_hex(&data(&format!("sense/{file}"))).unwrap();
    parse_sense(&bytes).unwrap()
}

#[test]
fn sense_early_warning_and_end_of_medium() {
    let ew = sense("fixed-early-warning.hex");
    assert_eq!(ew.kind(), SenseKind::EarlyWarning);
    assert!(ew.eom && ew.information.is_none());
    let end = sense("fixed-volume-overflow.hex");
    assert_eq!(end.key, SenseKey::VolumeOverflow);
    assert_eq!(end.kind(), SenseKind::EndOfMedium);
    assert_eq!(end.residue(), Some(0x40000));
    assert_eq!(
        end.to_tape_error("/dev/nst0", "HKN001L9").to_string(),
        "/dev/nst0: end of medium on cartridge HKN001L9; the block was not written"
    );
    let d = sense("descriptor-volume-overflow.hex");
    assert_eq!(d.format, SenseFormat::Descriptor);
    assert_eq!(
        (d.kind(), d.eom, d.residue()),
        (SenseKind::EndOfMedium, true, Some(0x40000))
    );
}

#[test]
fn sense_reading_conditions() {
    let eod = sense("fixed-blank-check-eod.hex");
    assert_eq!(eod.kind(), SenseKind::EndOfData);
    assert!(
        eod.sentence()
            .starts_with("end of data detected (BLANK CHECK, ASC/ASCQ 00/05)"),
        "{}",
        eod.sentence()
    );
    let fm = sense("fixed-filemark.hex");
    assert_eq!((fm.kind(), fm.filemark), (SenseKind::Filemark, true));
    let long = sense("fixed-ili-long-block.hex");
    assert_eq!(long.kind(), SenseKind::IncorrectLength);
    assert_eq!(long.residue(), Some(-0x40000));
    let d = sense("descriptor-ili.hex");
    assert_eq!(
        (d.kind(), d.ili, d.residue()),
        (SenseKind::IncorrectLength, true, Some(-0x40000))
    );
}

#[test]
fn sense_drive_conditions_as_sentences() {
    let cases = [
        ("fixed-no-medium.hex", SenseKind::MediumNotPresent, "medium not present (NOT READY, ASC/ASCQ 3A/00): load a cartridge"),
        ("fixed-write-protected.hex", SenseKind::WriteProtected, "write protected (DATA PROTECT, ASC/ASCQ 27/00): slide the cartridge's write-protect tab"),
        ("fixed-cleaning-cartridge.hex", SenseKind::CleaningCartridge, "cleaning cartridge installed (NOT READY, ASC/ASCQ 30/03)"),
        ("fixed-becoming-ready.hex", SenseKind::BecomingReady, "becoming ready (loading the cartridge) (NOT READY, ASC/ASCQ 04/01): wait"),
        ("fixed-changer-destination-full.hex", SenseKind::DestinationFull, "medium destination element full (ILLEGAL REQUEST, ASC/ASCQ 3B/0D)"),
        ("fixed-removal-prevented.hex", SenseKind::RemovalPrevented, "medium removal prevented (ILLEGAL REQUEST, ASC/ASCQ 53/02)"),
    ];
    for (file, kind, start) in cases {
        let s = sense(file);
        assert_eq!(s.kind(), kind, "{file}");
        assert!(s.sentence().starts_with(start), "{file}: {}", s.sentence());
    }
    assert!(sense("fixed-becoming-ready.hex").transient());
    assert!(!sense("fixed-no-medium.hex").transient());
}

#[test]
fn sense_deferred_error_says_so() {
    let s = sense("fixed-deferred-write-error.hex");
    assert!(s.deferred);
    assert_eq!(s.kind(), SenseKind::MediumError);
    let text = s.sentence();
    assert!(
        text.contains("deferred") && text.contains("write error"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Cartridge memory

#[test]
fn cartridge_memory_of_an_lto9_cartridge() {
    let bytes = parse_hex(&data("mam/lto9-data-cartridge.hex")).unwrap();
    let attributes = parse_attributes(&bytes).unwrap();
    assert_eq!(attributes.len(), 8);
    let info = MediumInfo::from_attributes(&attributes);
    assert_eq!(info.manufacturer.as_deref(), Some("FUJIFILM"));
    assert_eq!(info.serial.as_deref(), Some("JC0123456789"));
    assert_eq!(info.barcode.as_deref(), Some("HKN001L9"));
    assert_eq!(info.manufactured.as_deref(), Some("20240115"));
    assert_eq!(info.capacity, Some(17_166_138 << 20));
    assert_eq!(info.remaining, Some(17_000_000 << 20));
    assert_eq!(info.load_count, Some(12));
    assert!(!info.cleaning && !info.worm);
    let mut status = DriveStatus {
        loaded: true,
        ..DriveStatus::default()
    };
    info.apply(&mut status);
    assert_eq!(status.cartridge_id.as_deref(), Some("HKN001L9"));
    assert_eq!(status.capacity, Some(17_166_138 << 20));
}

/// READ ATTRIBUTE through SG_IO as the kernel would report it, with the
/// recorded answer in the data buffer (hand-built: no drive here).
#[test]
fn cartridge_memory_through_sg_io() {
    let answer = parse_hex(&data("mam/lto9-data-cartridge.hex")).unwrap();
    let mut buf = answer.clone();
    buf.resize(64 * 1024, 0);
    let result = SgResult {
        resid: (buf.len() - answer.len()) as i32,
        duration_ms: 12,
        ..SgResult::default()
    };
    assert_eq!(answer_from_sg(&result, buf.clone()).unwrap(), answer);
    let info = medium_info_from_sg(&result, buf.clone()).unwrap();
    let mut status = DriveStatus {
        loaded: true,
        ..DriveStatus::default()
    };
    info.apply(&mut status);
    assert_eq!(status.cartridge_id.as_deref(), Some("HKN001L9"));
    assert_eq!(status.capacity, Some(17_166_138 << 20));
    // An HBA that does not report the residue: the zeros after the answer
    // are ignored.
    let no_resid = SgResult::default();
    assert_eq!(medium_info_from_sg(&no_resid, buf).unwrap(), info);
}

#[test]
fn drive_without_cartridge_memory() {
    let result = SgResult {
        status: sg::status::CHECK_CONDITION,
        driver_status: sg::driver::SENSE,
        sense: parse_hex(&data("sense/fixed-illegal-request-invalid-opcode.hex")).unwrap(),
        ..SgResult::default()
    };
    let e = medium_info_from_sg(&result, vec![0; 1024]).unwrap_err();
    assert!(
        matches!(e, MamError::NotAvailable { drive: true, .. }),
        "{e:?}"
    );
    assert_eq!(e.retry(), Retry::Never);
    assert!(
        e.to_string()
            .starts_with("no cartridge memory available: the drive refuses READ ATTRIBUTE"),
        "{e}"
    );
}
