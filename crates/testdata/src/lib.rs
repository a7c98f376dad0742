//! A synthetic hospital data set for hokan's tests and benchmarks, and its
//! changes from one night to the next.
//!
//! [`create`] fills an empty folder with about `scale` GiB of what a hospital
//! backs up every night; [`night`] then ages it by one night, the way the
//! next nightly backup would find it:
//!
//! | folder  | what (share of the size)                                   | each night                                        |
//! |---------|-------------------------------------------------------------|---------------------------------------------------|
//! | `db/`   | one electronic medical record dump, PostgreSQL `COPY` text (40 %) | ~2 % of rows rewritten in place, blocks of new rows inserted in the middle (shifts everything after them) |
//! | `pacs/` | image files: a DICOM-like header and 16-bit noisy pixels (30 %, partly compressible) | ~1 % new studies; old ones never change |
//! | `docs/` | scanned documents, incompressible, Japanese file names (18 %) | ~1 % new ones |
//! | `hl7/`  | many small HL7 v2 lab result messages (10 %, compressible) | ~1 % new ones |
//! | `logs/` | eight application logs (2 %)                               | lines appended to each |
//!
//! Everything is a function of the seed (and, for a night, of the data set
//! as the previous night left it): the same seed gives the same bytes on
//! every machine, since the generator is ChaCha8 with a fixed algorithm.
//! The seed, scale and night number are kept in the marker file
//! [`MARKER`] (`.night`) at the top of the data set.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The marker file at the top of a data set: night number, seed and scale.
pub const MARKER: &str = ".night";

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// One image file: 1024 × 768 pixels of 16 bits behind a 256-byte header.
const PACS_SIZE: u64 = 3 * MIB / 2;
/// Mean size of a scanned document (each is 60–140 KiB).
const DOC_MEAN: u64 = 100 * 1024;
/// Roughly the mean size of one HL7 message, used to turn a share of the
/// size into a number of messages.
const HL7_MEAN: u64 = 2400;
/// Roughly the length of one log line.
const LOG_LINE: u64 = 80;
const LOGS: usize = 8;
/// HL7 messages per sub-folder.
const HL7_PER_DIR: u64 = 1000;

/// What a call wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Files created, rewritten or appended to.
    pub files: u64,
    /// Bytes written (a rewritten file counts whole, an append only what it
    /// added).
    pub bytes: u64,
}

/// The state kept in [`MARKER`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    /// 0 after [`create`], then one more for every [`night`].
    pub night: u32,
    pub seed: u64,
    pub scale: f64,
}

/// Fill the empty (or missing) folder `dir` with a data set of about
/// `scale` GiB made from `seed`. Refuses a folder that has anything in it.
pub fn create(dir: &Path, scale: f64, seed: u64) -> io::Result<Written> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(invalid(format!(
            "the scale must be a positive number of GiB, got {scale}"
        )));
    }
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is not empty: a data set is only created in an empty folder",
                dir.display()
            ),
        ));
    }
    fs::create_dir_all(dir.join("db"))?;
    let mut rng = rng_for(seed, 0);
    let mut w = Written::default();
    let total = (scale * GIB as f64) as u64;

    let db_bytes = total * 40 / 100;
    w.add(write_db(
        &dir.join("db").join("emr.dump"),
        &mut rng,
        db_bytes,
    )?);

    let counts = Counts {
        pacs: (total * 30 / 100 / PACS_SIZE).max(1),
        docs: (total * 18 / 100 / DOC_MEAN).max(1),
        hl7: (total * 10 / 100 / HL7_MEAN).max(1),
    };
    w.add(add_files(dir, &mut rng, 0, counts)?);

    let lines = (total * 2 / 100 / LOGS as u64 / LOG_LINE).max(50);
    w.add(append_logs(dir, &mut rng, 0, lines)?);

    write_state(
        dir,
        State {
            night: 0,
            seed,
            scale,
        },
    )?;
    Ok(w)
}

/// Age the data set in `dir` by one night and return its new state and what
/// was written.
pub fn night(dir: &Path) -> io::Result<(State, Written)> {
    let mut st = state(dir)?;
    st.night += 1;
    let mut rng = rng_for(st.seed, st.night);
    let mut w = Written::default();

    w.add(age_db(
        &dir.join("db").join("emr.dump"),
        &mut rng,
        st.night,
    )?);
    let counts = Counts {
        pacs: (count_files(&dir.join("pacs"))? / 100).max(1),
        docs: (count_files(&dir.join("docs"))? / 100).max(1),
        hl7: (count_files(&dir.join("hl7"))? / 100).max(1),
    };
    w.add(add_files(dir, &mut rng, st.night, counts)?);
    let total = (st.scale * GIB as f64) as u64;
    let lines = (total * 2 / 100 / LOGS as u64 / LOG_LINE / 20).max(10);
    w.add(append_logs(dir, &mut rng, st.night, lines)?);

    write_state(dir, st)?;
    Ok((st, w))
}

/// Read the marker of the data set in `dir`.
pub fn state(dir: &Path) -> io::Result<State> {
    let p = dir.join(MARKER);
    let text = fs::read_to_string(&p).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{} has no readable {MARKER} marker ({e}): is it a data set made by hokan-testdata create?",
                dir.display()
            ),
        )
    })?;
    let mut night = None;
    let mut seed = None;
    let mut scale = None;
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("night", v)) => night = v.trim().parse().ok(),
            Some(("seed", v)) => seed = v.trim().parse().ok(),
            Some(("scale", v)) => scale = v.trim().parse().ok(),
            _ => {}
        }
    }
    match (night, seed, scale) {
        (Some(night), Some(seed), Some(scale)) => Ok(State { night, seed, scale }),
        _ => Err(invalid(format!(
            "{} is damaged: it needs the lines 'night N', 'seed N' and 'scale S'",
            p.display()
        ))),
    }
}

/// Every file under `dir` (the marker included), as paths relative to
/// `dir`, sorted.
pub fn list_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
        for e in fs::read_dir(root.join(rel))? {
            let e = e?;
            let r = rel.join(e.file_name());
            if e.file_type()?.is_dir() {
                walk(root, &r, out)?;
            } else {
                out.push(r);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out)?;
    out.sort();
    Ok(out)
}

impl Written {
    fn add(&mut self, o: Written) {
        self.files += o.files;
        self.bytes += o.bytes;
    }
    fn one(bytes: u64) -> Written {
        Written { files: 1, bytes }
    }
}

#[derive(Clone, Copy)]
struct Counts {
    pacs: u64,
    docs: u64,
    hl7: u64,
}

/// Night 0 and every later night draw from their own ChaCha stream of the
/// same seed, so a night's changes do not depend on how many numbers the
/// nights before it used.
fn rng_for(seed: u64, night: u32) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(u64::from(night));
    r
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn write_state(dir: &Path, st: State) -> io::Result<()> {
    let tmp = dir.join(".night.tmp");
    fs::write(
        &tmp,
        format!("night {}\nseed {}\nscale {}\n", st.night, st.seed, st.scale),
    )?;
    fs::rename(tmp, dir.join(MARKER))
}

fn count_files(dir: &Path) -> io::Result<u64> {
    if !dir.exists() {
        return Ok(0);
    }
    Ok(list_files(dir)?.len() as u64)
}

fn pick<'a, R: Rng>(rng: &mut R, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

/// Civil date `days` after 2026-11-01, as (year, month, day).
fn date_after_nov1(days: u32) -> (i64, u32, u32) {
    // Days since 1970-01-01 of 2026-11-01 is 20758; the conversion is
    // Howard Hinnant's civil_from_days.
    let z = 20758 + i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ------------------------------------------------------------------ db/

const DB_HEAD: &[u8] = b"COPY public.encounter (id, mrn, name, sex, birth, icd10, visit, dept, points, memo) FROM stdin;\n";
const DB_TAIL: &[u8] = b"\\.\n";

const FAMILY: &[&str] = &[
    "佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤", "山本", "中村", "小林", "加藤",
];
const GIVEN: &[&str] = &[
    "太郎",
    "花子",
    "健一",
    "美咲",
    "翔",
    "陽菜",
    "大輔",
    "結衣",
    "誠",
    "さくら",
];
const ICD10: &[&str] = &[
    "J45.9", "I10", "E11.9", "K21.0", "M54.5", "N39.0", "J06.9", "R51", "I48.9", "C34.9",
];
const DEPT: &[&str] = &[
    "内科",
    "外科",
    "小児科",
    "整形外科",
    "循環器内科",
    "放射線科",
    "救急科",
];

/// One row of the dump, with its newline.
fn db_row<R: Rng>(rng: &mut R, id: u64, out: &mut Vec<u8>) {
    let (_, m, d) = date_after_nov1(rng.gen_range(0..365));
    let _ = writeln!(
        out,
        "{id}\t{:08}\t{} {}\t{}\t19{:02}-{:02}-{:02}\t{}\t2026-{m:02}-{d:02}\t{}\t{}\tmemo-{:016x}",
        rng.gen_range(0..100_000_000u32),
        pick(rng, FAMILY),
        pick(rng, GIVEN),
        if rng.gen::<bool>() { "M" } else { "F" },
        rng.gen_range(30..100u32),
        rng.gen_range(1..13u32),
        rng.gen_range(1..29u32),
        pick(rng, ICD10),
        pick(rng, DEPT),
        rng.gen_range(50..20_000u32),
        rng.next_u64(),
    );
}

fn write_db(path: &Path, rng: &mut ChaCha8Rng, size: u64) -> io::Result<Written> {
    let mut f = BufWriter::with_capacity(MIB as usize, File::create(path)?);
    let mut n = DB_HEAD.len() as u64;
    f.write_all(DB_HEAD)?;
    let mut buf = Vec::with_capacity(256);
    let mut id = 1u64;
    while n < size {
        buf.clear();
        db_row(rng, id, &mut buf);
        f.write_all(&buf)?;
        n += buf.len() as u64;
        id += 1;
    }
    f.write_all(DB_TAIL)?;
    f.flush()?;
    Ok(Written::one(n + DB_TAIL.len() as u64))
}

/// Rewrite ~2 % of the rows in place (same id, new values) and insert 20
/// blocks of new rows at random places; the file is replaced atomically.
fn age_db(path: &Path, rng: &mut ChaCha8Rng, night: u32) -> io::Result<Written> {
    let mut old = Vec::new();
    File::open(path)?.read_to_end(&mut old)?;
    if !old.starts_with(b"COPY ") || !old.ends_with(DB_TAIL) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is not a dump made by hokan-testdata (no COPY header or \\. end line)",
                path.display()
            ),
        ));
    }
    // Start offset of every line; line 0 is the header, the last is `\.`.
    let mut starts = vec![0usize];
    starts.extend(
        old.iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .filter(|&s| s < old.len()),
    );
    let lines = starts.len();
    let line = |i: usize| &old[starts[i]..starts.get(i + 1).copied().unwrap_or(old.len())];
    let rows = 1..lines - 1;
    if rows.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} has no rows", path.display()),
        ));
    }

    let mut updates: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    for _ in 0..(rows.len() / 50).max(1) {
        let i = rng.gen_range(rows.clone());
        let l = line(i);
        let id = l
            .iter()
            .position(|&b| b == b'\t')
            .and_then(|t| std::str::from_utf8(&l[..t]).ok()?.parse().ok())
            .unwrap_or(i as u64);
        let mut row = Vec::with_capacity(l.len() + 16);
        db_row(rng, id, &mut row);
        updates.insert(i, row);
    }
    let mut inserts: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let per_block = (rows.len() as u64 / 1000).clamp(20, 500);
    for block in 0..20u64 {
        // Before any row, or before the end line.
        let i = rng.gen_range(1..lines);
        let e = inserts.entry(i).or_default();
        for j in 0..per_block {
            let id = 100_000_000 + u64::from(night) * 1_000_000 + block * 1000 + j;
            db_row(rng, id, e);
        }
    }

    let tmp = path.with_extension("dump.tmp");
    let mut f = BufWriter::with_capacity(MIB as usize, File::create(&tmp)?);
    let mut n = 0u64;
    for i in 0..lines {
        if let Some(b) = inserts.get(&i) {
            f.write_all(b)?;
            n += b.len() as u64;
        }
        let l = updates.get(&i).map(|v| &v[..]).unwrap_or_else(|| line(i));
        f.write_all(l)?;
        n += l.len() as u64;
    }
    f.flush()?;
    drop(f);
    fs::rename(&tmp, path)?;
    Ok(Written::one(n))
}

// ------------------------------------------------------------------ pacs/, docs/, hl7/

fn add_files(dir: &Path, rng: &mut ChaCha8Rng, night: u32, c: Counts) -> io::Result<Written> {
    let mut w = Written::default();
    let pacs = dir.join("pacs").join(format!("n{night:03}"));
    fs::create_dir_all(&pacs)?;
    for k in 0..c.pacs {
        let modality = pick(rng, &["CT", "MR", "CR", "DX"]);
        let p = pacs.join(format!("{modality}-{k:05}.dcm"));
        w.add(write_file(&p, &pacs_image(rng, modality))?);
    }
    let docs = dir.join("docs").join(format!("n{night:03}"));
    fs::create_dir_all(&docs)?;
    for k in 0..c.docs {
        let kind = pick(
            rng,
            &["紹介状", "同意書", "検査結果", "診断書", "退院サマリー"],
        );
        let p = docs.join(format!("{k:06}-{kind}.pdf"));
        let len = rng.gen_range(60 * 1024..140 * 1024);
        let mut b = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let at = b.len();
        b.resize(at + len, 0);
        rng.fill_bytes(&mut b[at..]);
        w.add(write_file(&p, &b)?);
    }
    let mut msg = Vec::with_capacity(4096);
    for k in 0..c.hl7 {
        let sub = dir
            .join("hl7")
            .join(format!("n{night:03}-{:03}", k / HL7_PER_DIR));
        if k % HL7_PER_DIR == 0 {
            fs::create_dir_all(&sub)?;
        }
        msg.clear();
        hl7_message(rng, night, k, &mut msg);
        w.add(write_file(&sub.join(format!("ORU{k:06}.hl7")), &msg)?);
    }
    Ok(w)
}

fn write_file(p: &Path, b: &[u8]) -> io::Result<Written> {
    fs::write(p, b)?;
    Ok(Written::one(b.len() as u64))
}

/// A DICOM-like file: 128-byte preamble, `DICM`, a small header, then
/// 1024 × 768 16-bit pixels: rows of a slowly drifting level with 6 bits of
/// noise (compresses, but not much).
fn pacs_image(rng: &mut ChaCha8Rng, modality: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(PACS_SIZE as usize);
    b.resize(128, 0);
    b.extend_from_slice(b"DICM");
    let _ = write!(
        b,
        "MODALITY={modality};ROWS=768;COLUMNS=1024;BITS=12;PATIENT={:08};",
        rng.gen_range(0..100_000_000u32)
    );
    b.resize(256, 0);
    let mut level: i32 = rng.gen_range(800..1200);
    while (b.len() as u64) < PACS_SIZE {
        level = (level + rng.gen_range(-8..=8)).clamp(200, 3800);
        for _ in 0..1024 / 8 {
            let noise = rng.next_u64();
            for s in 0..8 {
                let v = level as u16 + ((noise >> (s * 6)) & 63) as u16;
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    b.truncate(PACS_SIZE as usize);
    b
}

/// A PACS-like set in the empty folder `dir`: `files` DICOM-like files of
/// `mib` MiB in all, each a small header followed by pixel data already
/// compressed (JPEG 2000 or JPEG-LS in a real archive: here ChaCha8 bytes,
/// which no compressor shrinks), in one folder per study. The same seed
/// gives the same bytes.
pub fn create_pacs(dir: &Path, files: u64, mib: u64, seed: u64) -> io::Result<Written> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::other(format!(
            "{} is not empty: give an empty or new folder",
            dir.display()
        )));
    }
    let files = files.max(1);
    let each = (mib << 20) / files;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5041_4353);
    let mut w = Written::default();
    for i in 0..files {
        let study = dir.join(format!("study-{:04}", i / 8));
        fs::create_dir_all(&study)?;
        let mut b = Vec::with_capacity(each as usize);
        b.resize(128, 0);
        b.extend_from_slice(b"DICM");
        let _ = write!(
            b,
            "MODALITY=CT;TRANSFER_SYNTAX=1.2.840.10008.1.2.4.90;PATIENT={:08};IMAGE={i};",
            rng.gen_range(0..100_000_000u32)
        );
        b.resize(1024.min(each as usize).max(b.len()), 0);
        let at = b.len();
        b.resize(each.max(at as u64) as usize, 0);
        rng.fill_bytes(&mut b[at..]);
        fs::write(study.join(format!("IMG{i:05}.dcm")), &b)?;
        w.files += 1;
        w.bytes += b.len() as u64;
    }
    Ok(w)
}

/// A many-small-files set in the empty folder `dir`: `files` HL7 lab
/// result messages (about 1–3 KiB each, every one different), 1000 to a
/// folder and 100 folders to a parent, as a laboratory or document archive
/// keeps them for years. The same seed gives the same bytes.
pub fn create_messages(dir: &Path, files: u64, seed: u64) -> io::Result<Written> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::other(format!(
            "{} is not empty: give an empty or new folder",
            dir.display()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x484c_3700);
    let mut w = Written::default();
    let mut msg = Vec::with_capacity(4096);
    let mut sub = PathBuf::new();
    for k in 0..files {
        if k % HL7_PER_DIR == 0 {
            let folder = k / HL7_PER_DIR;
            sub = dir
                .join(format!("y{:03}", folder / 100))
                .join(format!("m{:05}", folder));
            fs::create_dir_all(&sub)?;
        }
        msg.clear();
        hl7_message(&mut rng, (k / 10_000) as u32, k, &mut msg);
        w.add(write_file(&sub.join(format!("ORU{k:08}.hl7")), &msg)?);
    }
    Ok(w)
}

/// Lab tests: JLAC10-like code, name, unit, normal low and high (×10).
const LAB: &[(&str, &str, &str, u32, u32)] = &[
    ("3D010", "グルコース", "mg/dL", 700, 1090),
    ("3C015", "クレアチニン", "mg/dL", 6, 11),
    ("3B035", "AST", "U/L", 130, 300),
    ("3B045", "ALT", "U/L", 100, 420),
    ("2A990", "白血球数", "10^3/uL", 33, 86),
    ("2A030", "ヘモグロビン", "g/dL", 116, 168),
    ("3F015", "総コレステロール", "mg/dL", 1420, 2480),
    ("3H010", "ナトリウム", "mmol/L", 1380, 1450),
    ("3H015", "カリウム", "mmol/L", 36, 48),
    ("5C070", "CRP", "mg/dL", 0, 3),
];

/// One HL7 v2.5 ORU^R01 lab result message (segments end in CR, as HL7
/// wants).
fn hl7_message(rng: &mut ChaCha8Rng, night: u32, k: u64, out: &mut Vec<u8>) {
    let (y, m, d) = date_after_nov1(night);
    let when = format!(
        "{y}{m:02}{d:02}{:02}{:02}{:02}",
        rng.gen_range(0..24u32),
        rng.gen_range(0..60u32),
        rng.gen_range(0..60u32)
    );
    let mrn = rng.gen_range(0..100_000_000u32);
    let _ = write!(
        out,
        "MSH|^~\\&|LIS|HOKAN-HOSP|HIS|HOKAN-HOSP|{when}||ORU^R01|N{night:03}M{k:06}|P|2.5||||||UNICODE UTF-8\r\
         PID|1||{mrn:08}^^^HOKAN^MR||{}^{}||19{:02}{:02}{:02}|{}\r\
         PV1|1|{}|W{:02}^{}^{}\r\
         OBR|1|{:010}||LAB^検体検査|||{when}\r",
        pick(rng, FAMILY),
        pick(rng, GIVEN),
        rng.gen_range(30..100u32),
        rng.gen_range(1..13u32),
        rng.gen_range(1..29u32),
        if rng.gen::<bool>() { "M" } else { "F" },
        if rng.gen::<bool>() { "I" } else { "O" },
        rng.gen_range(1..20u32),
        rng.gen_range(100..999u32),
        rng.gen_range(1..5u32),
        rng.gen_range(0..10_000_000_000u64),
    );
    for i in 1..=rng.gen_range(18..36u32) {
        let (code, name, unit, lo, hi) = LAB[rng.gen_range(0..LAB.len())];
        let span = (hi - lo).max(1);
        let v = rng.gen_range(lo.saturating_sub(span / 2)..hi + span / 2);
        let flag = if v < lo {
            "L"
        } else if v > hi {
            "H"
        } else {
            "N"
        };
        let _ = write!(
            out,
            "OBX|{i}|NM|{code}^{name}^JC10||{}.{}|{unit}|{}.{}-{}.{}|{flag}|||F|||{when}\r",
            v / 10,
            v % 10,
            lo / 10,
            lo % 10,
            hi / 10,
            hi % 10,
        );
    }
    out.push(b'\n');
}

// ------------------------------------------------------------------ logs/

fn append_logs(dir: &Path, rng: &mut ChaCha8Rng, night: u32, lines: u64) -> io::Result<Written> {
    let logs = dir.join("logs");
    fs::create_dir_all(&logs)?;
    let (y, m, d) = date_after_nov1(night);
    let apps = [
        "emr", "pacs", "lis", "ris", "pharmacy", "billing", "hl7-gw", "backup",
    ];
    let mut w = Written::default();
    for (a, app) in apps.iter().enumerate().take(LOGS) {
        let mut buf = Vec::with_capacity((lines * LOG_LINE) as usize);
        for i in 0..lines {
            let secs = i * 86_400 / lines;
            let _ = writeln!(
                buf,
                "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}+09:00 {app}[{}] {} job {} ward=W{:02} rows={} {}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                1000 + a,
                pick(rng, &["INFO", "INFO", "INFO", "WARN", "DEBUG"]),
                u64::from(night) * 1_000_000 + i,
                rng.gen_range(1..20u32),
                rng.gen_range(0..100_000u32),
                pick(rng, &["ok", "ok", "ok", "retry", "slow"]),
            );
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join(format!("{app}.log")))?;
        f.write_all(&buf)?;
        w.add(Written::one(buf.len() as u64));
    }
    Ok(w)
}
