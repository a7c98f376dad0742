//! A tape drive through the Linux `st` driver, on its no-rewind node
//! (`/dev/nst0`, or a `/dev/tape/by-id/…-nst` link).
//!
//! Data moves with `read(2)`/`write(2)` in **variable block mode** (one
//! call = one tape block); positioning and status go through the MTIOCTOP
//! and MTIOCGET ioctls with the structs of `linux/mtio.h`. The decisions —
//! what an errno and a byte count mean, what the status bits mean — are pure
//! functions ([`decode_status`], [`classify_write`], [`write_with_retry`],
//! [`classify_read`], [`StOptions::parse`]) so they can be tested without a
//! drive.
//!
//! # What this relies on in the `st` driver
//!
//! From `Documentation/scsi/st.rst` and `drivers/scsi/st.c`:
//!
//! - **Opening** (st.rst "Basics", point 4; `st_open`, `check_tape`,
//!   `test_ready`): with `O_NONBLOCK` the open succeeds whether or not the
//!   drive is ready, and a write-protected cartridge opens read-write with
//!   writes refused (`EACCES`). Without it the open waits up to
//!   ST_BLOCK_SECONDS for *any* not-ready drive — an empty one too — then
//!   fails (`ENOMEDIUM` without a cartridge, `EIO` otherwise), and refuses a
//!   read-write open of a write-protected cartridge with `EROFS`. `EBUSY`:
//!   another program has the drive open (one opener at a time). So
//!   [`StDrive`] opens with `O_NONBLOCK`, asks MTIOCGET, and opens blocking
//!   only when a cartridge is present but still becoming ready (after a
//!   changer load); [`TapeDrive::status`] never waits. The cartridge's state
//!   (write protection, block limits) is read at open, so the node is closed
//!   after [`TapeDrive::unload`]: each cartridge gets a fresh open.
//! - **Variable block mode** ("Basics", MTSETBLK): after `MTSETBLK 0` the
//!   byte count of a `write` is the size of the block on tape; a `read`
//!   returns one block, or fails with `ENOMEM` when the block is larger than
//!   the buffer (the tape has then moved past that block). Counts outside
//!   the drive's block limits fail with `EINVAL` before the tape moves
//!   (st.c `rw_checks`); READ(6)/WRITE(6) carry at most
//!   [`MAX_VARIABLE_BLOCK`] bytes.
//! - **EOM behaviour when writing** (st.rst section of that name): at the
//!   early warning the current write completes and returns its count; the
//!   next write returns `-1`/`ENOSPC` *without writing*; the one after is
//!   allowed and, if it succeeds, returns its count; after that `ENOSPC` and
//!   success alternate until the physical end, where the write fails with
//!   `ENOSPC` again, nothing written (st.c `st_write`: in variable block mode
//!   `ENOSPC` is only returned when none of the block was written). So:
//!   `ENOSPC` once → the early warning has been passed, write the same block
//!   again; `ENOSPC` twice in a row → end of medium. See [`write_with_retry`].
//! - **File marks at early warning**: writing a file mark past the early
//!   warning succeeds and clears the driver's EOM state (st.c
//!   `st_int_ioctl`, MTWEOF with EOM sense), so [`StDrive`] reads GMT_EOT
//!   before writing file marks to carry the warning over.
//! - **Reading marks** ("Basics": "end of data is signified by returning
//!   zero bytes for two consecutive reads"; st.c `st_read`): a file mark
//!   reads as 0 bytes; reaching end of data after a file mark also reads as
//!   0 bytes, with GMT_EOD then set in MTIOCGET, and further reads fail
//!   with `EIO`. A blank check *not* after a file mark (e.g. a never-written
//!   cartridge at BOT) is a plain `EIO`: `st` keeps the sense data to itself,
//!   so that case is reported as a device error, not as end of data.
//! - **MTIOCGET** ("IOCTLs"): `mt_fileno`/`mt_blkno` are -1 when unknown;
//!   GMT_DR_OPEN means no tape; GMT_EOT is set in the early-warning state,
//!   GMT_EOD at end of data.
//! - **Closing and moving after a write** ("Basics"): closing after a write
//!   writes one file mark, and so does rewind/offline/seek when the previous
//!   operation was a write.
//! - **Driver options** (st.rst "Sysfs Support", MTSETDRVBUFFER): the
//!   options in `/sys/class/scsi_tape/nstN/options`; hokan wants
//!   asynchronous writes, immediate (no-wait) positioning and immediate file
//!   marks **off** and clears them when it may (root); see [`StOptions`].
//! - **SCSI pass-through** (`st_ioctl`): `SG_IO` on the tape node reaches
//!   the drive for a process with CAP_SYS_RAWIO (root), else `EPERM`; `st`
//!   flushes its write buffer first and otherwise keeps its state. hokan
//!   sends READ ATTRIBUTE that way, once per loaded cartridge, to fill the
//!   cartridge identity and capacity of [`TapeDrive::status`] from the
//!   cartridge memory ([`super::mam`]); when that fails they stay empty.
//!   A reset or medium change the drive reports to that command (UNIT
//!   ATTENTION) is not seen by `st`: hokan logs it as a warning.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::mam::{self, MediumInfo, Retry};
use super::mtio::{gmt, op, opt, MtGet, MtOp, MTIOCGET, MTIOCTOP};
use super::BadAnswer;
use crate::device::{DriveStatus, ReadBlock, TapeDrive, TapeError, WriteBlock};

// ---------------------------------------------------------------------------
// Pure decisions

/// The drive's state from an MTIOCGET answer. `mt_fileno`/`mt_blkno` of
/// -1 become `None`. Cartridge identity and capacity are not in `mtget`:
/// [`StDrive`] adds them from cartridge memory ([`super::mam`]).
pub fn decode_status(get: &MtGet) -> DriveStatus {
    let bits = gstat(get);
    let has = |bit: u32| bits & bit != 0;
    let known = |n: libc::c_int| u64::try_from(n).ok();
    DriveStatus {
        loaded: has(gmt::ONLINE) && !has(gmt::DR_OPEN),
        write_protected: has(gmt::WR_PROT),
        file_number: known(get.mt_fileno),
        block_number: known(get.mt_blkno),
        at_bot: has(gmt::BOT),
        early_warning: has(gmt::EOT),
        at_eod: has(gmt::EOD),
        cartridge_id: None,
        capacity: None,
    }
}

/// The generic status bits (the low 32 bits of `mt_gstat`).
pub fn gstat(get: &MtGet) -> u32 {
    (get.mt_gstat as u64 & 0xffff_ffff) as u32
}

/// The drive's block size in bytes (0 = variable block mode).
pub fn block_size(get: &MtGet) -> u32 {
    (get.mt_dsreg as u64 & 0x00ff_ffff) as u32
}

/// The drive asks for cleaning (GMT_CLN).
pub fn cleaning_requested(get: &MtGet) -> bool {
    gstat(get) & gmt::CLN != 0
}

/// Why writing a block failed, as decided by [`classify_write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFailure {
    /// Physical end of medium: the block was not written.
    EndOfMedium,
    /// `EACCES`/`EROFS`: the cartridge is write protected.
    WriteProtected,
    /// `EINVAL`/`EOVERFLOW`: the block is outside the drive's block limits
    /// or larger than the driver can handle.
    BlockSize,
    /// `ENOMEDIUM`.
    NotLoaded,
    /// Only part of the block went out (never expected in variable block
    /// mode): the tape file is damaged.
    Short {
        /// Bytes the driver reported written.
        written: usize,
    },
    /// Another errno (`EIO` among them).
    Os,
}

/// What to do after one `write(2)` of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteStep {
    /// The block was accepted.
    Done(WriteBlock),
    /// Nothing was written, and the driver accepts the next write: the
    /// early warning has been passed; write the same block once more.
    Retry,
    /// Give up.
    Fail(WriteFailure),
}

/// Decides what one `write(2)` of a `len`-byte block meant.
/// `early_warning_seen`: the warning was already seen on this cartridge;
/// `retried`: this was the second attempt after an `ENOSPC`.
pub fn classify_write(
    result: &io::Result<usize>,
    len: usize,
    early_warning_seen: bool,
    retried: bool,
) -> WriteStep {
    match result {
        Ok(n) if *n == len => WriteStep::Done(if early_warning_seen || retried {
            WriteBlock::EarlyWarning
        } else {
            WriteBlock::Written
        }),
        Ok(n) => WriteStep::Fail(WriteFailure::Short { written: *n }),
        Err(e) => match e.raw_os_error() {
            // st.rst "EOM Behaviour When Writing": the first ENOSPC after the
            // warning is the driver's signal (nothing written, next write
            // allowed); a second one in a row is the physical end.
            Some(libc::ENOSPC) if !retried => WriteStep::Retry,
            Some(libc::ENOSPC) => WriteStep::Fail(WriteFailure::EndOfMedium),
            Some(libc::EACCES | libc::EROFS) => WriteStep::Fail(WriteFailure::WriteProtected),
            Some(libc::EINVAL | libc::EOVERFLOW) => WriteStep::Fail(WriteFailure::BlockSize),
            Some(libc::ENOMEDIUM) => WriteStep::Fail(WriteFailure::NotLoaded),
            _ => WriteStep::Fail(WriteFailure::Os),
        },
    }
}

/// Writes one block through `write` (one `write(2)` call each time),
/// following the st early-warning protocol: on the first `ENOSPC` the
/// warning is noted in `early_warning` and the same block is written once
/// more; a second `ENOSPC` is the end of the medium. `EINTR` repeats the
/// attempt. On failure the `io::Error` is returned when there was one.
pub fn write_with_retry<W>(
    mut write: W,
    data: &[u8],
    early_warning: &mut bool,
) -> Result<WriteBlock, (WriteFailure, Option<io::Error>)>
where
    W: FnMut(&[u8]) -> io::Result<usize>,
{
    let mut retried = false;
    loop {
        let result = write(data);
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::Interrupted) {
            continue;
        }
        match classify_write(&result, data.len(), *early_warning, retried) {
            WriteStep::Done(block) => {
                if block == WriteBlock::EarlyWarning {
                    *early_warning = true;
                }
                return Ok(block);
            }
            WriteStep::Retry => {
                *early_warning = true;
                retried = true;
            }
            WriteStep::Fail(failure) => return Err((failure, result.err())),
        }
    }
}

/// Why reading a block failed, as decided by [`classify_read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFailure {
    /// `ENOMEM`: the block on tape is larger than the buffer (the tape has
    /// moved past it).
    TooLarge,
    /// `EINVAL`/`EOVERFLOW`: the driver refused the buffer (not in variable
    /// block mode, or larger than it can map).
    BufferRefused,
    /// `ENOMEDIUM`.
    NotLoaded,
    /// `EIO` not at end of data: unreadable, or blank without a file mark
    /// before.
    Unreadable,
    /// Another errno.
    Os,
}

/// What one `read(2)` meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStep {
    /// A block, a file mark or end of data.
    Done(ReadBlock),
    /// Ask MTIOCGET and call again with the status: 0 bytes and `EIO` mean
    /// different things at end of data.
    NeedStatus,
    /// Give up.
    Fail(ReadFailure),
}

/// Decides what one `read(2)` meant; `status_after` is the drive's status
/// read after it, when [`ReadStep::NeedStatus`] asked for it.
pub fn classify_read(result: &io::Result<usize>, status_after: Option<&DriveStatus>) -> ReadStep {
    match (result, status_after) {
        (Ok(n), _) if *n > 0 => ReadStep::Done(ReadBlock::Data(*n)),
        (Ok(_), None) => ReadStep::NeedStatus,
        (Ok(_), Some(s)) if s.at_eod => ReadStep::Done(ReadBlock::EndOfData),
        (Ok(_), Some(_)) => ReadStep::Done(ReadBlock::FileMark),
        (Err(e), status) => match (e.raw_os_error(), status) {
            (Some(libc::ENOMEM), _) => ReadStep::Fail(ReadFailure::TooLarge),
            (Some(libc::EINVAL | libc::EOVERFLOW), _) => ReadStep::Fail(ReadFailure::BufferRefused),
            (Some(libc::ENOMEDIUM), _) => ReadStep::Fail(ReadFailure::NotLoaded),
            (Some(libc::EIO), None) => ReadStep::NeedStatus,
            (Some(libc::EIO), Some(s)) if s.at_eod => ReadStep::Done(ReadBlock::EndOfData),
            (Some(libc::EIO), Some(_)) => ReadStep::Fail(ReadFailure::Unreadable),
            _ => ReadStep::Fail(ReadFailure::Os),
        },
    }
}

/// The `st` driver options of one device node, as
/// `/sys/class/scsi_tape/nstN/options` shows them (`0x%08x`, the bits of
/// [`opt`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StOptions(pub u32);

impl StOptions {
    /// Options hokan wants off: asynchronous writes report a failed block on
    /// the *next* write; immediate positioning returns before the tape has
    /// moved; immediate file marks no longer flush the drive's buffer, so
    /// a finished tape file would not be known to be on tape.
    pub const UNWANTED: u32 = opt::ASYNC_WRITES | opt::NOWAIT | opt::NOWAIT_EOF;

    /// Parses the sysfs `options` file.
    pub fn parse(text: &str) -> Result<StOptions, BadAnswer> {
        let t = text.trim();
        let hex = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .ok_or_else(|| BadAnswer::new("st options", format!("{t:?} is not 0x<hex>")))?;
        u32::from_str_radix(hex, 16)
            .map(StOptions)
            .map_err(|_| BadAnswer::new("st options", format!("{t:?} is not 0x<hex>")))
    }

    /// The unwanted options that are on.
    pub fn unwanted(self) -> u32 {
        self.0 & Self::UNWANTED
    }

    /// Names of the options in `bits`: mt-st's names, and `no-wait-eof` for
    /// MT_ST_NOWAIT_EOF, which mt-st does not name.
    pub fn names(bits: u32) -> Vec<&'static str> {
        const NAMES: [(u32, &str); 16] = [
            (opt::BUFFER_WRITES, "buffer-writes"),
            (opt::ASYNC_WRITES, "async-writes"),
            (opt::READ_AHEAD, "read-ahead"),
            (opt::DEBUGGING, "debug"),
            (opt::TWO_FM, "two-fms"),
            (opt::FAST_MTEOM, "fast-eod"),
            (opt::AUTO_LOCK, "auto-lock"),
            (opt::DEF_WRITES, "def-writes"),
            (opt::CAN_BSR, "can-bsr"),
            (opt::NO_BLKLIMS, "no-blklimits"),
            (opt::CAN_PARTITIONS, "can-partitions"),
            (opt::SCSI2LOGICAL, "scsi2logical"),
            (opt::SYSV, "sysv"),
            (opt::NOWAIT, "no-wait"),
            (opt::SILI, "sili"),
            (opt::NOWAIT_EOF, "no-wait-eof"),
        ];
        NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

/// What MTIOCGET on a freshly opened node says about using it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenState {
    /// Ready with a cartridge (GMT_ONLINE).
    Ready,
    /// No cartridge (GMT_DR_OPEN).
    Empty,
    /// A cartridge is there but not ready: loading, or ejected and waiting
    /// to be taken out.
    NotReady,
}

/// Decides [`OpenState`] from an MTIOCGET answer.
pub fn open_state(get: &MtGet) -> OpenState {
    let bits = gstat(get);
    if bits & gmt::DR_OPEN != 0 {
        OpenState::Empty
    } else if bits & gmt::ONLINE != 0 {
        OpenState::Ready
    } else {
        OpenState::NotReady
    }
}

/// Where sysfs shows the options of the device node at `canonical` (a path
/// with links resolved, `/dev/nst0` → `/sys/class/scsi_tape/nst0/options`).
pub fn sysfs_options_path(canonical: &Path) -> Option<PathBuf> {
    let name = canonical.file_name()?.to_str()?;
    let is_tape = name
        .strip_prefix("nst")
        .or_else(|| name.strip_prefix("st"))
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    is_tape.then(|| Path::new("/sys/class/scsi_tape").join(name).join("options"))
}

// ---------------------------------------------------------------------------
// The device

/// The largest variable block `st` can move: it reads and writes with
/// READ(6)/WRITE(6), whose transfer length has 24 bits.
pub const MAX_VARIABLE_BLOCK: usize = 0xff_ffff;

/// Buffer sizes tried, largest first, to measure a block larger than the
/// caller's buffer. `st` refuses sizes above the drive's block limits with
/// `EINVAL` before moving the tape (st.c `rw_checks`), so the next smaller
/// is tried then. LTO drives take 8 MiB or 16 MiB - 1.
const PROBE_SIZES: [usize; 5] = [MAX_VARIABLE_BLOCK, 8 << 20, 4 << 20, 2 << 20, 1 << 20];

/// How often READ ATTRIBUTE is tried per loaded cartridge when the drive
/// answers "later" (busy, UNIT ATTENTION, becoming ready).
const MAM_ATTEMPTS: u8 = 3;

/// The cartridge memory of the loaded cartridge, as far as read.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mam {
    /// Not read yet; `attempts` tries answered "later".
    NotRead { attempts: u8 },
    /// Read.
    Read(MediumInfo),
    /// Not to be tried again for this cartridge.
    GaveUp,
}

impl Mam {
    /// The state after an attempt that failed with `retry`, and whether
    /// the drive should never be asked again.
    fn after_failure(attempts: u8, retry: Retry) -> (Mam, bool) {
        match retry {
            Retry::Never => (Mam::GaveUp, true),
            Retry::NextCartridge => (Mam::GaveUp, false),
            Retry::Later if attempts + 1 < MAM_ATTEMPTS => (
                Mam::NotRead {
                    attempts: attempts + 1,
                },
                false,
            ),
            Retry::Later => (Mam::GaveUp, false),
        }
    }
}

/// A tape drive on an `st` no-rewind node.
///
/// The node is opened at the first operation and closed after
/// [`TapeDrive::unload`] (or when the drive reports it holds no cartridge),
/// so each cartridge is opened afresh. While open, no other program can
/// open the drive (`st` allows one opener). Dropping the drive closes it;
/// if the last operation was a write, `st` then writes a file mark.
///
/// [`TapeDrive::status`] reads the cartridge memory once per open (each
/// cartridge gets a fresh open) through SCSI pass-through, best effort: see
/// [`super::mam`].
pub struct StDrive {
    path: PathBuf,
    name: String,
    file: Option<std::fs::File>,
    write_protected: bool,
    early_warning: bool,
    cartridge: Option<String>,
    max_block: Option<usize>,
    /// Cartridge memory of the cartridge in the open node.
    mam: Mam,
    /// READ ATTRIBUTE cannot work on this drive (no privilege, no
    /// pass-through, or the drive lacks the command): not tried again.
    mam_never: bool,
}

impl fmt::Debug for StDrive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StDrive")
            .field("path", &self.path)
            .field("open", &self.file.is_some())
            .field("write_protected", &self.write_protected)
            .field("early_warning", &self.early_warning)
            .field("cartridge", &self.cartridge)
            .field("mam", &self.mam)
            .finish()
    }
}

/// An OS error with what hokan was doing; keeps the errno as its source.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct Context {
    what: String,
    #[source]
    source: io::Error,
}

fn with_context(what: String, source: io::Error) -> io::Error {
    io::Error::new(source.kind(), Context { what, source })
}

fn retry_eintr<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn ioctl_op(fd: RawFd, mt_op: i16, mt_count: i32) -> io::Result<()> {
    let arg = MtOp { mt_op, mt_count };
    retry_eintr(|| {
        // SAFETY: MTIOCTOP reads one `struct mtop` from the pointer; `MtOp`
        // has its layout (#[repr(C)], size checked in the tests) and lives
        // for the duration of the call.
        let r = unsafe { libc::ioctl(fd, MTIOCTOP as libc::Ioctl, &arg as *const MtOp) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    })
}

fn ioctl_get(fd: RawFd) -> io::Result<MtGet> {
    let mut get = MtGet::default();
    retry_eintr(|| {
        // SAFETY: MTIOCGET writes one `struct mtget` to the pointer; `MtGet`
        // has its layout and is exclusively borrowed for the call.
        let r = unsafe { libc::ioctl(fd, MTIOCGET as libc::Ioctl, &mut get as *mut MtGet) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    })?;
    Ok(get)
}

fn sys_write(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: `data` is valid for reads of `data.len()` bytes.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

fn sys_read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

fn errno(e: &io::Error) -> Option<i32> {
    e.raw_os_error()
}

impl StDrive {
    /// A drive on the node at `path` (`/dev/nst0`). Nothing is opened yet.
    pub fn new(path: impl Into<PathBuf>) -> StDrive {
        let path = path.into();
        StDrive {
            name: path.display().to_string(),
            path,
            file: None,
            write_protected: false,
            early_warning: false,
            cartridge: None,
            max_block: None,
            mam: Mam::NotRead { attempts: 0 },
            mam_never: false,
        }
    }

    /// The device node.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Name the loaded cartridge (its barcode) in messages; the changer
    /// knows it, the drive does not. Cleared by [`TapeDrive::unload`].
    pub fn set_cartridge(&mut self, label: Option<String>) {
        self.cartridge = label;
    }

    /// The largest block the drive takes, when known (`MaxBlock` of
    /// `tapeinfo`): larger writes fail with [`TapeError::BlockSize`] before
    /// reaching the drive.
    pub fn set_max_block(&mut self, max: Option<usize>) {
        self.max_block = max;
    }

    /// Closes the node now. If the last operation was a write, `st` writes
    /// a file mark first.
    pub fn close(&mut self) {
        self.file = None;
        self.early_warning = false;
        self.mam = Mam::NotRead { attempts: 0 };
    }

    fn cartridge_name(&self) -> String {
        self.cartridge
            .clone()
            .unwrap_or_else(|| "the loaded cartridge".into())
    }

    fn io_error(&self, what: String, source: io::Error) -> TapeError {
        TapeError::Io {
            device: self.name.clone(),
            source: with_context(what, source),
        }
    }

    /// Opens read-write with `O_NONBLOCK`: never waits for the drive, and
    /// `st` then lets a write-protected cartridge open read-write, refusing
    /// writes with `EACCES` (st.rst "Basics", point 4).
    fn open_nonblocking(&self) -> Result<std::fs::File, TapeError> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.path)
            .map_err(|e| self.open_error(e))
    }

    /// Opens read-write and lets `st` wait (up to its ST_BLOCK_SECONDS) for
    /// the drive to become ready; read-only when the cartridge is write
    /// protected (`EROFS`).
    fn open_blocking(&self) -> Result<std::fs::File, TapeError> {
        let rw = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path);
        match rw {
            Err(e) if errno(&e) == Some(libc::EROFS) => {
                std::fs::OpenOptions::new().read(true).open(&self.path)
            }
            other => other,
        }
        .map_err(|e| self.open_error(e))
    }

    /// Keeps `file` as the open node: variable block mode, driver options.
    fn adopt(&mut self, file: std::fs::File, get: &MtGet) -> Result<RawFd, TapeError> {
        let fd = file.as_raw_fd();
        ioctl_op(fd, op::MTSETBLK, 0).map_err(|e| {
            self.io_error(
                "cannot set variable block mode (MTSETBLK 0); check that this is a tape drive \
                 and no other program changed its mode"
                    .into(),
                e,
            )
        })?;
        self.check_options(fd);
        self.write_protected = gstat(get) & gmt::WR_PROT != 0;
        if self.write_protected {
            tracing::info!(device = %self.name, "the cartridge is write protected");
        }
        self.file = Some(file);
        self.early_warning = false;
        self.mam = Mam::NotRead { attempts: 0 };
        Ok(fd)
    }

    /// The open node, opening it if needed. A cartridge that is present but
    /// not ready yet (threading after a load) is waited for.
    fn fd(&mut self) -> Result<RawFd, TapeError> {
        if let Some(file) = &self.file {
            return Ok(file.as_raw_fd());
        }
        let file = self.open_nonblocking()?;
        let get = self.get_on(&file)?;
        match open_state(&get) {
            OpenState::Ready => self.adopt(file, &get),
            OpenState::Empty => Err(TapeError::NotLoaded {
                device: self.name.clone(),
            }),
            OpenState::NotReady => {
                drop(file);
                let file = self.open_blocking()?;
                let get = self.get_on(&file)?;
                self.adopt(file, &get)
            }
        }
    }

    fn get_on(&self, file: &std::fs::File) -> Result<MtGet, TapeError> {
        ioctl_get(file.as_raw_fd())
            .map_err(|e| self.io_error("cannot read the drive status (MTIOCGET)".into(), e))
    }

    fn open_error(&self, e: io::Error) -> TapeError {
        let what = match errno(&e) {
            Some(libc::ENOMEDIUM) => {
                return TapeError::NotLoaded {
                    device: self.name.clone(),
                }
            }
            Some(libc::EIO) => {
                return TapeError::Device {
                    device: self.name.clone(),
                    what: "the drive did not become ready (EIO at open): check its display, \
                           reload the cartridge, and see the kernel log (dmesg)"
                        .into(),
                }
            }
            Some(libc::EBUSY) => {
                "is open in another program (st allows one at a time): \
                                  close mt, tar or the other hokan process"
            }
            Some(libc::ENOENT | libc::ENXIO | libc::ENODEV) => {
                "no such tape device: check the path (ls /dev/nst* /dev/tape/by-id)"
            }
            Some(libc::EACCES | libc::EPERM) => {
                "permission denied: run hokan as a member of the tape group"
            }
            _ => "cannot open the tape device",
        };
        self.io_error(what.into(), e)
    }

    /// Warns about a rewinding node, reads the driver options and clears
    /// the unwanted ones when allowed.
    fn check_options(&self, fd: RawFd) {
        let Ok(canonical) = std::fs::canonicalize(&self.path) else {
            return;
        };
        if canonical
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("st"))
        {
            tracing::warn!(
                device = %self.name,
                "this is a rewinding node: closing it rewinds the tape; use the /dev/nstN node"
            );
        }
        let Some(path) = sysfs_options_path(&canonical) else {
            return;
        };
        let options = match std::fs::read_to_string(&path).map(|t| StOptions::parse(&t)) {
            Ok(Ok(options)) => options,
            Ok(Err(e)) => {
                tracing::debug!(device = %self.name, "{e}");
                return;
            }
            Err(e) => {
                tracing::debug!(device = %self.name, "{}: {e}", path.display());
                return;
            }
        };
        let unwanted = options.unwanted();
        if unwanted == 0 {
            return;
        }
        let names = StOptions::names(unwanted).join(", ");
        match ioctl_op(
            fd,
            op::MTSETDRVBUFFER,
            (opt::CLEARBOOLEANS | unwanted) as i32,
        ) {
            Ok(()) => tracing::info!(device = %self.name, "cleared st options {names}"),
            Err(e) => tracing::warn!(
                device = %self.name,
                "st options {names} are on and could not be cleared ({e}); hokan still works, \
                 but errors may be reported one block late: clear them as root \
                 (MTSETDRVBUFFER; mt-st: `mt -f {} stclearoptions …`)",
                self.name
            ),
        }
    }

    fn mt_get(&mut self) -> Result<MtGet, TapeError> {
        let fd = self.fd()?;
        ioctl_get(fd)
            .map_err(|e| self.io_error("cannot read the drive status (MTIOCGET)".into(), e))
    }

    /// " at tape file N, block M" when the driver knows, for messages.
    fn position(&self) -> String {
        match self.file.as_ref().map(|f| ioctl_get(f.as_raw_fd())) {
            Some(Ok(get)) if get.mt_fileno >= 0 && get.mt_blkno >= 0 => {
                format!(" at tape file {}, block {}", get.mt_fileno, get.mt_blkno)
            }
            Some(Ok(get)) if get.mt_fileno >= 0 => format!(" in tape file {}", get.mt_fileno),
            _ => String::new(),
        }
    }

    /// One MTIOCTOP operation, its failure described with `what`.
    fn mt_op(&mut self, mt_op: i16, count: i32, what: &str) -> Result<(), TapeError> {
        let fd = self.fd()?;
        ioctl_op(fd, mt_op, count).map_err(|e| self.op_error(what, e))
    }

    fn op_error(&self, what: &str, e: io::Error) -> TapeError {
        let device = self.name.clone();
        match errno(&e) {
            Some(libc::ENOMEDIUM) => TapeError::NotLoaded { device },
            Some(libc::EACCES | libc::EROFS) => TapeError::WriteProtected {
                device,
                cartridge: self.cartridge_name(),
            },
            Some(libc::ENOSPC) => TapeError::EndOfMedium {
                device,
                cartridge: self.cartridge_name(),
            },
            Some(libc::EIO) => {
                let pos = self.position();
                TapeError::Device {
                    device,
                    what: format!(
                        "{what} failed (EIO){pos} on {}: the kernel log (dmesg) has the drive's \
                         sense data; clean the drive and retry, then try another cartridge",
                        self.cartridge_name()
                    ),
                }
            }
            _ => self.io_error(format!("{what} failed"), e),
        }
    }

    fn write_error(&self, failure: WriteFailure, len: usize, e: Option<io::Error>) -> TapeError {
        let device = self.name.clone();
        match failure {
            WriteFailure::EndOfMedium => TapeError::EndOfMedium {
                device,
                cartridge: self.cartridge_name(),
            },
            WriteFailure::WriteProtected => TapeError::WriteProtected {
                device,
                cartridge: self.cartridge_name(),
            },
            WriteFailure::BlockSize => TapeError::BlockSize {
                device,
                size: len,
                // The drive refused `len`; without its block limits the
                // best true statement is that it takes less.
                limit: self
                    .max_block
                    .filter(|max| *max < len)
                    .unwrap_or(len.saturating_sub(1)),
            },
            WriteFailure::NotLoaded => TapeError::NotLoaded { device },
            WriteFailure::Short { written } => {
                let pos = self.position();
                TapeError::Device {
                    device,
                    what: format!(
                        "only {written} of {len} bytes of a block were written{pos} on {}: this \
                         tape file is damaged; write it again on another cartridge",
                        self.cartridge_name()
                    ),
                }
            }
            WriteFailure::Os => match e {
                Some(e) if errno(&e) == Some(libc::EIO) => {
                    let pos = self.position();
                    TapeError::Device {
                        device,
                        what: format!(
                            "write failed (EIO){pos} on {}: this tape file is not safely on \
                             tape; the kernel log (dmesg) has the drive's sense data; clean the \
                             drive and write the tape file again on another cartridge",
                            self.cartridge_name()
                        ),
                    }
                }
                Some(e) => self.io_error("write failed".into(), e),
                None => TapeError::Device {
                    device,
                    what: "write failed without an error code".into(),
                },
            },
        }
    }

    /// `ENOMEM` on read: the block is larger than `len`. Steps back over
    /// it, reads it into a large buffer to learn its size, and steps back
    /// again, so the caller can read it with a larger buffer.
    fn too_large(&self, len: usize) -> TapeError {
        let device = self.name.clone();
        match self.measure_block(len) {
            Some(size) if size > len => TapeError::BlockSize {
                device,
                size,
                limit: len,
            },
            _ => TapeError::Device {
                device,
                what: format!(
                    "a block larger than the {len}-byte buffer (ENOMEM) could not be measured; \
                     the position is unknown: rewind, and read with a larger buffer (at most \
                     {MAX_VARIABLE_BLOCK} bytes)"
                ),
            },
        }
    }

    /// Steps back over the block just passed, reads it into a large buffer
    /// and steps back again: its size, position unchanged.
    fn measure_block(&self, len: usize) -> Option<usize> {
        let fd = self.file.as_ref()?.as_raw_fd();
        ioctl_op(fd, op::MTBSR, 1).ok()?;
        for probe in PROBE_SIZES.into_iter().filter(|p| *p > len) {
            let mut big = vec![0u8; probe];
            match retry_eintr(|| sys_read(fd, &mut big)) {
                Ok(size) => {
                    ioctl_op(fd, op::MTBSR, 1).ok()?;
                    return Some(size);
                }
                // Above the drive's limits: refused before any motion.
                Err(e) if errno(&e) == Some(libc::EINVAL) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    fn read_error(&self, failure: ReadFailure, len: usize, e: Option<io::Error>) -> TapeError {
        let device = self.name.clone();
        match failure {
            ReadFailure::TooLarge => self.too_large(len),
            ReadFailure::BufferRefused => TapeError::Device {
                device,
                what: format!(
                    "the st driver refused a read of {len} bytes (EINVAL/EOVERFLOW): the buffer \
                     is larger than the drive's maximum block or than the driver can map, or the \
                     drive is not in variable block mode; read with a smaller buffer"
                ),
            },
            ReadFailure::NotLoaded => TapeError::NotLoaded { device },
            ReadFailure::Unreadable => {
                let pos = self.position();
                TapeError::Device {
                    device,
                    what: format!(
                        "read failed (EIO){pos} on {}: either nothing was ever written here (a \
                         new cartridge: label it) or the data is unreadable (clean the drive and \
                         retry; if it persists, restore from another copy); the kernel log \
                         (dmesg) has the drive's sense data",
                        self.cartridge_name()
                    ),
                }
            }
            ReadFailure::Os => match e {
                Some(e) => self.io_error("read failed".into(), e),
                None => TapeError::Device {
                    device,
                    what: "read failed without an error code".into(),
                },
            },
        }
    }

    /// Fills the cartridge identity and capacity of `status` from the
    /// cartridge memory, reading it first if not done for this cartridge.
    /// Never fails: what goes wrong is logged (debug) and leaves them empty.
    fn add_cartridge_memory(&mut self, status: &mut DriveStatus) {
        if let Mam::NotRead { attempts } = self.mam {
            if self.mam_never {
                self.mam = Mam::GaveUp;
                return;
            }
            let Some(fd) = self.file.as_ref().map(|f| f.as_raw_fd()) else {
                return;
            };
            self.mam = match mam::read_medium_info(fd) {
                Ok(info) => {
                    tracing::debug!(
                        device = %self.name,
                        barcode = ?info.barcode,
                        serial = ?info.serial,
                        capacity = ?info.capacity,
                        "cartridge memory read"
                    );
                    Mam::Read(info)
                }
                Err(e) => {
                    if let mam::MamError::Transient {
                        unit_attention: true,
                        ..
                    } = &e
                    {
                        // The sense went to READ ATTRIBUTE, not to st.
                        tracing::warn!(
                            device = %self.name,
                            "the drive reported a condition to READ ATTRIBUTE that the st driver \
                             did not see ({e}); if it was a reset or a cartridge change, rewind \
                             and read the label again before writing"
                        );
                    } else {
                        tracing::debug!(device = %self.name, "{e}");
                    }
                    let (mam, never) = Mam::after_failure(attempts, e.retry());
                    self.mam_never |= never;
                    mam
                }
            };
        }
        if let Mam::Read(info) = &self.mam {
            info.apply(status);
        }
    }

    fn count(&self, count: u32, what: &str) -> Result<i32, TapeError> {
        i32::try_from(count).map_err(|_| TapeError::Device {
            device: self.name.clone(),
            what: format!(
                "cannot {what} {count} times: the st driver takes at most {}",
                i32::MAX
            ),
        })
    }
}

impl TapeDrive for StDrive {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn status(&mut self) -> Result<DriveStatus, TapeError> {
        if self.file.is_none() {
            // Never wait here: a blocking open of an empty drive takes
            // ST_BLOCK_SECONDS (st.c test_ready) before it fails.
            let file = match self.open_nonblocking() {
                Ok(file) => file,
                Err(TapeError::NotLoaded { .. }) => return Ok(DriveStatus::default()),
                Err(e) => return Err(e),
            };
            let get = self.get_on(&file)?;
            if open_state(&get) != OpenState::Ready {
                return Ok(decode_status(&get));
            }
            self.adopt(file, &get)?;
        }
        let get = self.mt_get()?;
        let mut status = decode_status(&get);
        status.write_protected |= self.write_protected;
        status.early_warning |= self.early_warning;
        if cleaning_requested(&get) {
            tracing::warn!(device = %self.name, "the drive asks for cleaning: load a cleaning cartridge");
        }
        if status.loaded {
            self.add_cartridge_memory(&mut status);
        } else {
            // The cartridge left (ejected by hand or by the changer): open
            // afresh for the next one.
            self.close();
        }
        Ok(status)
    }

    fn rewind(&mut self) -> Result<(), TapeError> {
        self.mt_op(op::MTREW, 1, "rewind")?;
        self.early_warning = false;
        Ok(())
    }

    fn write_block(&mut self, data: &[u8]) -> Result<WriteBlock, TapeError> {
        if data.is_empty() {
            return Err(TapeError::Device {
                device: self.name.clone(),
                what: "cannot write an empty block: st treats a zero-length write as no write"
                    .into(),
            });
        }
        let limit = self
            .max_block
            .unwrap_or(MAX_VARIABLE_BLOCK)
            .min(MAX_VARIABLE_BLOCK);
        if data.len() > limit {
            return Err(TapeError::BlockSize {
                device: self.name.clone(),
                size: data.len(),
                limit,
            });
        }
        let fd = self.fd()?;
        if self.write_protected {
            return Err(TapeError::WriteProtected {
                device: self.name.clone(),
                cartridge: self.cartridge_name(),
            });
        }
        let mut early_warning = self.early_warning;
        let result = write_with_retry(|d| sys_write(fd, d), data, &mut early_warning);
        if early_warning && !self.early_warning {
            tracing::info!(
                device = %self.name,
                cartridge = %self.cartridge_name(),
                "early warning: the cartridge is nearly full"
            );
        }
        self.early_warning = early_warning;
        result.map_err(|(failure, e)| self.write_error(failure, data.len(), e))
    }

    fn write_filemarks(&mut self, count: u32) -> Result<(), TapeError> {
        let count = self.count(count, "write file marks")?;
        self.fd()?;
        if self.write_protected {
            return Err(TapeError::WriteProtected {
                device: self.name.clone(),
                cartridge: self.cartridge_name(),
            });
        }
        // st forgets the early-warning state once a file mark is written
        // past it; keep it for the next block.
        if let Ok(get) = self.mt_get() {
            self.early_warning |= gstat(&get) & gmt::EOT != 0;
        }
        self.mt_op(op::MTWEOF, count, "writing file marks")
    }

    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadBlock, TapeError> {
        if buf.is_empty() {
            return Err(TapeError::BlockSize {
                device: self.name.clone(),
                size: 1,
                limit: 0,
            });
        }
        let fd = self.fd()?;
        // A larger request would not fit READ(6); no block is larger anyway.
        let len = buf.len().min(MAX_VARIABLE_BLOCK);
        let buf = &mut buf[..len];
        let result = retry_eintr(|| sys_read(fd, buf));
        let mut step = classify_read(&result, None);
        if step == ReadStep::NeedStatus {
            let status = decode_status(&self.mt_get()?);
            step = classify_read(&result, Some(&status));
        }
        match step {
            ReadStep::Done(block) => Ok(block),
            ReadStep::NeedStatus => unreachable!("classify_read asks for the status only once"),
            ReadStep::Fail(failure) => Err(self.read_error(failure, buf.len(), result.err())),
        }
    }

    fn space_filemarks_forward(&mut self, count: u32) -> Result<(), TapeError> {
        if count == 0 {
            return Ok(());
        }
        let n = self.count(count, "space over file marks")?;
        self.early_warning = false;
        match self.mt_op(
            op::MTFSF,
            n,
            &format!("spacing forward over {count} file marks"),
        ) {
            Err(TapeError::Device { device, what }) => {
                // Running into end of data while spacing is EIO with GMT_EOD.
                match self.file.as_ref().map(|f| ioctl_get(f.as_raw_fd())) {
                    Some(Ok(get)) if gstat(&get) & gmt::EOD != 0 => Err(TapeError::Device {
                        device,
                        what: format!(
                            "end of data reached while spacing over {count} file marks{}: {} \
                             holds fewer tape files than asked for",
                            if get.mt_fileno >= 0 {
                                format!(" (after tape file {})", get.mt_fileno)
                            } else {
                                String::new()
                            },
                            self.cartridge_name()
                        ),
                    }),
                    _ => Err(TapeError::Device { device, what }),
                }
            }
            other => other,
        }
    }

    fn seek_end_of_data(&mut self) -> Result<(), TapeError> {
        self.early_warning = false;
        self.mt_op(op::MTEOM, 1, "spacing to end of data")
    }

    fn unload(&mut self) -> Result<(), TapeError> {
        self.mt_op(op::MTOFFL, 1, "unloading")?;
        self.close();
        self.cartridge = None;
        Ok(())
    }
}

/// Ejects the cartridge from the drive at `path` (MTOFFL) through a fresh
/// read-only open, for a changer that must take it out. `Ok(false)` when
/// the drive holds no cartridge. Fails with an error naming the drive when
/// another program (an [`StDrive`] among them) has it open.
pub fn eject(path: &Path) -> Result<bool, TapeError> {
    let mut drive = StDrive::new(path);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if errno(&e) == Some(libc::ENOMEDIUM) => return Ok(false),
        Err(e) => return Err(drive.open_error(e)),
    };
    // Empty, or a cartridge already ejected and waiting for the changer.
    if open_state(&drive.get_on(&file)?) != OpenState::Ready {
        return Ok(false);
    }
    let fd = file.as_raw_fd();
    drive.file = Some(file);
    ioctl_op(fd, op::MTOFFL, 1).map_err(|e| drive.op_error("unloading", e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: i32) -> io::Result<usize> {
        Err(io::Error::from_raw_os_error(code))
    }

    fn get(gstat: u32, fileno: i32, blkno: i32) -> MtGet {
        MtGet {
            mt_type: 0x72,
            mt_gstat: gstat as libc::c_long,
            mt_fileno: fileno,
            mt_blkno: blkno,
            ..MtGet::default()
        }
    }

    #[test]
    fn decodes_status_at_bot() {
        // `mt status`: "General status bits on (41010000): BOT ONLINE IM_REP_EN".
        let s = decode_status(&get(0x4101_0000, 0, 0));
        assert!(s.loaded && s.at_bot && !s.at_eod && !s.early_warning && !s.write_protected);
        assert_eq!((s.file_number, s.block_number), (Some(0), Some(0)));
    }

    #[test]
    fn decodes_empty_drive() {
        // "File number=-1, block number=-1 … (50000): DR_OPEN IM_REP_EN".
        let s = decode_status(&get(0x0005_0000, -1, -1));
        assert!(!s.loaded);
        assert_eq!((s.file_number, s.block_number), (None, None));
    }

    #[test]
    fn decodes_write_protect_eod_eot() {
        let s = decode_status(&get(0x4501_0000, 0, 0));
        assert!(s.write_protected && s.at_bot);
        let s = decode_status(&get(0x0901_0000, 7, 0));
        assert!(s.at_eod && !s.early_warning);
        assert_eq!(s.file_number, Some(7));
        let s = decode_status(&get(0x2101_0000, 7, 4711));
        assert!(s.early_warning && !s.at_eod);
        assert_eq!(s.block_number, Some(4711));
        // Online bit without door-open: loaded; both: not loaded.
        assert!(!decode_status(&get(gmt::ONLINE | gmt::DR_OPEN, -1, -1)).loaded);
    }

    #[test]
    fn block_size_density_and_cleaning() {
        let mut g = get(0x0101_8000, 0, 0);
        g.mt_dsreg = (0x5a << 24) | 0x40000;
        assert_eq!(block_size(&g), 0x40000);
        assert!(cleaning_requested(&g));
        assert!(!cleaning_requested(&get(0x0101_0000, 0, 0)));
    }

    #[test]
    fn classify_write_cases() {
        use WriteFailure as F;
        use WriteStep as S;
        assert_eq!(
            classify_write(&Ok(10), 10, false, false),
            S::Done(WriteBlock::Written)
        );
        assert_eq!(
            classify_write(&Ok(10), 10, true, false),
            S::Done(WriteBlock::EarlyWarning)
        );
        assert_eq!(
            classify_write(&Ok(10), 10, false, true),
            S::Done(WriteBlock::EarlyWarning)
        );
        assert_eq!(
            classify_write(&err(libc::ENOSPC), 10, false, false),
            S::Retry
        );
        assert_eq!(
            classify_write(&err(libc::ENOSPC), 10, true, false),
            S::Retry
        );
        assert_eq!(
            classify_write(&err(libc::ENOSPC), 10, true, true),
            S::Fail(F::EndOfMedium)
        );
        assert_eq!(
            classify_write(&Ok(4), 10, false, false),
            S::Fail(F::Short { written: 4 })
        );
        assert_eq!(
            classify_write(&err(libc::EACCES), 10, false, false),
            S::Fail(F::WriteProtected)
        );
        assert_eq!(
            classify_write(&err(libc::EINVAL), 10, false, false),
            S::Fail(F::BlockSize)
        );
        assert_eq!(
            classify_write(&err(libc::ENOMEDIUM), 10, false, false),
            S::Fail(F::NotLoaded)
        );
        assert_eq!(
            classify_write(&err(libc::EIO), 10, false, false),
            S::Fail(F::Os)
        );
    }

    #[test]
    fn classify_read_cases() {
        let at_eod = DriveStatus {
            loaded: true,
            at_eod: true,
            ..DriveStatus::default()
        };
        let mid = DriveStatus {
            loaded: true,
            ..DriveStatus::default()
        };
        assert_eq!(
            classify_read(&Ok(512), None),
            ReadStep::Done(ReadBlock::Data(512))
        );
        assert_eq!(classify_read(&Ok(0), None), ReadStep::NeedStatus);
        assert_eq!(
            classify_read(&Ok(0), Some(&mid)),
            ReadStep::Done(ReadBlock::FileMark)
        );
        assert_eq!(
            classify_read(&Ok(0), Some(&at_eod)),
            ReadStep::Done(ReadBlock::EndOfData)
        );
        assert_eq!(classify_read(&err(libc::EIO), None), ReadStep::NeedStatus);
        assert_eq!(
            classify_read(&err(libc::EIO), Some(&at_eod)),
            ReadStep::Done(ReadBlock::EndOfData)
        );
        assert_eq!(
            classify_read(&err(libc::EIO), Some(&mid)),
            ReadStep::Fail(ReadFailure::Unreadable)
        );
        assert_eq!(
            classify_read(&err(libc::ENOMEM), None),
            ReadStep::Fail(ReadFailure::TooLarge)
        );
        assert_eq!(
            classify_read(&err(libc::EINVAL), None),
            ReadStep::Fail(ReadFailure::BufferRefused)
        );
        assert_eq!(
            classify_read(&err(libc::ENOMEDIUM), None),
            ReadStep::Fail(ReadFailure::NotLoaded)
        );
        assert_eq!(
            classify_read(&err(libc::EBADF), None),
            ReadStep::Fail(ReadFailure::Os)
        );
    }

    #[test]
    fn open_states() {
        assert_eq!(open_state(&get(0x4101_0000, 0, 0)), OpenState::Ready);
        assert_eq!(open_state(&get(0x0005_0000, -1, -1)), OpenState::Empty);
        // Neither ONLINE nor DR_OPEN: a cartridge that is loading or
        // waiting to be taken out.
        assert_eq!(open_state(&get(0x0001_0000, -1, -1)), OpenState::NotReady);
    }

    #[test]
    fn options_from_sysfs() {
        // Defaults of a modern kernel: buffer writes, async writes, read
        // ahead, can-bsr, scsi2logical.
        let o = StOptions::parse("0x00000907\n").unwrap();
        assert_eq!(o.unwanted(), opt::ASYNC_WRITES);
        assert_eq!(StOptions::names(o.unwanted()), vec!["async-writes"]);
        assert_eq!(
            StOptions::parse("0x0000a000").unwrap().unwanted(),
            opt::NOWAIT | opt::NOWAIT_EOF
        );
        assert!(StOptions::parse("907").is_err());
        assert!(StOptions::parse("0xzz").is_err());
    }

    #[test]
    fn sysfs_paths() {
        assert_eq!(
            sysfs_options_path(Path::new("/dev/nst0")),
            Some(PathBuf::from("/sys/class/scsi_tape/nst0/options"))
        );
        assert_eq!(
            sysfs_options_path(Path::new("/dev/nst12l")),
            Some(PathBuf::from("/sys/class/scsi_tape/nst12l/options"))
        );
        assert_eq!(sysfs_options_path(Path::new("/dev/sg3")), None);
        assert_eq!(sysfs_options_path(Path::new("/dev/stdin")), None);
    }

    #[test]
    fn cartridge_memory_retry_policy() {
        assert_eq!(Mam::after_failure(0, Retry::Never), (Mam::GaveUp, true));
        assert_eq!(
            Mam::after_failure(0, Retry::NextCartridge),
            (Mam::GaveUp, false)
        );
        assert_eq!(
            Mam::after_failure(0, Retry::Later),
            (Mam::NotRead { attempts: 1 }, false)
        );
        assert_eq!(
            Mam::after_failure(MAM_ATTEMPTS - 1, Retry::Later),
            (Mam::GaveUp, false)
        );
    }

    #[test]
    fn cartridge_memory_fills_status_and_is_forgotten_at_close() {
        let mut drive = StDrive::new("/nonexistent/nst9");
        let info = MediumInfo {
            serial: Some("JC0123456789".into()),
            capacity: Some(18 << 40),
            ..MediumInfo::default()
        };
        drive.mam = Mam::Read(info);
        let mut status = DriveStatus {
            loaded: true,
            ..DriveStatus::default()
        };
        drive.add_cartridge_memory(&mut status);
        assert_eq!(status.cartridge_id.as_deref(), Some("JC0123456789"));
        assert_eq!(status.capacity, Some(18 << 40));
        drive.close();
        assert_eq!(drive.mam, Mam::NotRead { attempts: 0 });
        // Nothing open: nothing read, nothing filled, nothing failed.
        let mut status = DriveStatus::default();
        drive.add_cartridge_memory(&mut status);
        assert_eq!(drive.mam, Mam::NotRead { attempts: 0 });
        assert_eq!(status, DriveStatus::default());
    }

    #[test]
    fn refused_pass_through_is_not_tried_again() {
        // /dev/null refuses SG_IO with ENOTTY, as a node without SCSI
        // pass-through would; a tape node refuses with EPERM when not root.
        let mut drive = StDrive::new("/dev/null");
        drive.file = Some(std::fs::File::open("/dev/null").unwrap());
        let mut status = DriveStatus::default();
        drive.add_cartridge_memory(&mut status);
        assert_eq!(drive.mam, Mam::GaveUp);
        assert!(drive.mam_never);
        assert_eq!((status.cartridge_id, status.capacity), (None, None));
        // The next cartridge is not asked either.
        drive.close();
        drive.file = Some(std::fs::File::open("/dev/null").unwrap());
        let mut status = DriveStatus::default();
        drive.add_cartridge_memory(&mut status);
        assert_eq!(drive.mam, Mam::GaveUp);
    }

    #[test]
    fn missing_device_names_the_path() {
        let mut drive = StDrive::new("/nonexistent/nst9");
        let e = drive.rewind().unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("/nonexistent/nst9: no such tape device"),
            "{text}"
        );
        assert!(std::error::Error::source(&e).is_some());
        // Blocks that cannot be written never reach the device (which
        // does not exist here: touching it would be an Io error).
        assert!(matches!(
            drive.write_block(&[]),
            Err(TapeError::Device { .. })
        ));
        let huge = vec![0u8; MAX_VARIABLE_BLOCK + 1];
        assert!(matches!(
            drive.write_block(&huge),
            Err(TapeError::BlockSize { size, limit: MAX_VARIABLE_BLOCK, .. }) if size == huge.len()
        ));
        drive.set_max_block(Some(1024));
        assert_eq!(
            drive.write_block(&[0; 2048]).unwrap_err().to_string(),
            "/nonexistent/nst9: block of 2048 bytes does not fit (1024 bytes at most)"
        );
    }
}
