//! SCSI pass-through with the `SG_IO` ioctl (the sg version 3 interface,
//! `include/uapi/scsi/sg.h`): send one command descriptor block (CDB) to the
//! device behind an open node and get back the data, the SCSI status, and
//! the sense data when the device reports CHECK CONDITION.
//!
//! `SG_IO` works on `/dev/sg*` and also on the nodes of the upper-level
//! drivers, `st` (`/dev/nst*`) among them: `st` passes it to the SCSI
//! mid-layer after flushing its own write buffer, and only for a process with
//! CAP_SYS_RAWIO (root); others get `EPERM` (drivers/scsi/st.c `st_ioctl`).
//!
//! As in the rest of [`super`], the decisions are pure: [`check`] reads the
//! outcome of a call ([`SgResult`]: status, host and driver status, residue,
//! sense bytes) and is tested on hand-built results. [`sg_io`] is the only
//! part that touches the device, and holds the only `unsafe` block.
//!
//! Not checked on a real drive (no hardware here): which host and driver
//! status values a given HBA and kernel report for a timed-out or aborted
//! command, and whether the HBA reports the residue (many report 0, which
//! [`check`] then takes as "the whole buffer came back").

use std::fmt;
use std::io;
use std::os::fd::RawFd;

use super::sense::{parse_sense, Sense};
use super::BadAnswer;

/// `SG_IO` of `scsi/sg.h`: a plain number, not `_IOC`-encoded.
pub const SG_IO: u32 = 0x2285;

/// `interface_id` of the version 3 interface (`SG_INTERFACE_ID_ORIG`).
pub const SG_INTERFACE_ID_ORIG: libc::c_int = b'S' as libc::c_int;

/// `dxfer_direction`: no data (`SG_DXFER_NONE`).
pub const SG_DXFER_NONE: libc::c_int = -1;
/// `dxfer_direction`: data to the device (`SG_DXFER_TO_DEV`).
pub const SG_DXFER_TO_DEV: libc::c_int = -2;
/// `dxfer_direction`: data from the device (`SG_DXFER_FROM_DEV`).
pub const SG_DXFER_FROM_DEV: libc::c_int = -3;

/// `struct sg_io_hdr` (`sg_io_hdr_t`) of `scsi/sg.h`, which the `libc`
/// crate does not define. `[i]` fields are set by the caller, `[o]` fields
/// by the kernel.
#[repr(C)]
#[derive(Debug)]
pub struct SgIoHdr {
    /// `[i]` `'S'` ([`SG_INTERFACE_ID_ORIG`]).
    pub interface_id: libc::c_int,
    /// `[i]` [`SG_DXFER_FROM_DEV`] and friends.
    pub dxfer_direction: libc::c_int,
    /// `[i]` Length of the CDB at `cmdp`.
    pub cmd_len: libc::c_uchar,
    /// `[i]` Size of the sense buffer at `sbp`.
    pub mx_sb_len: libc::c_uchar,
    /// `[i]` 0: `dxferp` is one buffer, not a scatter-gather list.
    pub iovec_count: libc::c_ushort,
    /// `[i]` Size of the data buffer at `dxferp`.
    pub dxfer_len: libc::c_uint,
    /// `[i]` The data buffer.
    pub dxferp: *mut libc::c_void,
    /// `[i]` The CDB.
    pub cmdp: *const libc::c_uchar,
    /// `[i]` The sense buffer.
    pub sbp: *mut libc::c_uchar,
    /// `[i]` Timeout in milliseconds.
    pub timeout: libc::c_uint,
    /// `[i]` `SG_FLAG_*`; 0 = defaults.
    pub flags: libc::c_uint,
    /// `[i->o]` Unused by `SG_IO`.
    pub pack_id: libc::c_int,
    /// `[i->o]` Unused by `SG_IO`.
    pub usr_ptr: *mut libc::c_void,
    /// `[o]` The SCSI status byte ([`status`]).
    pub status: libc::c_uchar,
    /// `[o]` The status shifted right by one (obsolete).
    pub masked_status: libc::c_uchar,
    /// `[o]` Messaging-level status (obsolete).
    pub msg_status: libc::c_uchar,
    /// `[o]` Bytes of sense data written to `sbp`.
    pub sb_len_wr: libc::c_uchar,
    /// `[o]` The host adapter's verdict ([`host`]).
    pub host_status: libc::c_ushort,
    /// `[o]` The mid-layer's verdict ([`driver`]).
    pub driver_status: libc::c_ushort,
    /// `[o]` `dxfer_len` minus the bytes actually transferred.
    pub resid: libc::c_int,
    /// `[o]` How long the command took, in milliseconds.
    pub duration: libc::c_uint,
    /// `[o]` `SG_INFO_*` bits; bit 0 set: something is not GOOD.
    pub info: libc::c_uint,
}

/// SCSI status codes (SAM-5), as in `status`.
pub mod status {
    /// The command completed.
    pub const GOOD: u8 = 0x00;
    /// Sense data tells what went wrong.
    pub const CHECK_CONDITION: u8 = 0x02;
    /// Completed (PRE-FETCH); as good as GOOD.
    pub const CONDITION_MET: u8 = 0x04;
    /// The device is busy: retry later.
    pub const BUSY: u8 = 0x08;
    /// Another initiator holds a reservation.
    pub const RESERVATION_CONFLICT: u8 = 0x18;
    /// The device's queue is full: retry later.
    pub const TASK_SET_FULL: u8 = 0x28;
    /// ACA ACTIVE.
    pub const ACA_ACTIVE: u8 = 0x30;
    /// The command was aborted by another initiator or a reset.
    pub const TASK_ABORTED: u8 = 0x40;
}

/// Host status codes (`DID_*` of `include/scsi/scsi_status.h`).
pub mod host {
    /// No error.
    pub const OK: u16 = 0x00;
    /// The device could not be reached.
    pub const NO_CONNECT: u16 = 0x01;
    /// The bus stayed busy.
    pub const BUS_BUSY: u16 = 0x02;
    /// The command timed out.
    pub const TIME_OUT: u16 = 0x03;
    /// Bad target.
    pub const BAD_TARGET: u16 = 0x04;
    /// Aborted.
    pub const ABORT: u16 = 0x05;
    /// Parity error.
    pub const PARITY: u16 = 0x06;
    /// Internal error of the adapter.
    pub const ERROR: u16 = 0x07;
    /// Reset by somebody.
    pub const RESET: u16 = 0x08;
    /// Retry the command.
    pub const SOFT_ERROR: u16 = 0x0b;
    /// Retry immediately.
    pub const IMM_RETRY: u16 = 0x0c;
    /// Requeue.
    pub const REQUEUE: u16 = 0x0d;
    /// The transport was disrupted; retry.
    pub const TRANSPORT_DISRUPTED: u16 = 0x0e;
}

/// Driver status codes (`DRIVER_*`; the low nibble of `driver_status`).
pub mod driver {
    /// No error.
    pub const OK: u16 = 0x00;
    /// Busy.
    pub const BUSY: u16 = 0x01;
    /// The command timed out.
    pub const TIMEOUT: u16 = 0x06;
    /// Not an error by itself: sense data was returned.
    pub const SENSE: u16 = 0x08;
}

/// What an `SG_IO` call gave back, copied out of the [`SgIoHdr`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SgResult {
    /// SCSI status byte ([`status`]).
    pub status: u8,
    /// `host_status` ([`host`]).
    pub host_status: u16,
    /// `driver_status` ([`driver`]).
    pub driver_status: u16,
    /// Bytes asked for minus bytes transferred; 0 when the HBA does not
    /// report it.
    pub resid: i32,
    /// Milliseconds the command took.
    pub duration_ms: u32,
    /// The sense bytes the kernel wrote (`sb_len_wr` of them).
    pub sense: Vec<u8>,
}

/// Why an `SG_IO` command did not complete with GOOD status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SgFailure {
    /// The command timed out (host `DID_TIME_OUT` or driver
    /// `DRIVER_TIMEOUT`): the kernel's error handling may have aborted it
    /// or reset the device.
    TimedOut,
    /// The host adapter reported this `DID_*` code.
    Host(u16),
    /// The mid-layer reported this `DRIVER_*` code.
    Driver(u16),
    /// CHECK CONDITION with this sense data.
    CheckCondition(Sense),
    /// CHECK CONDITION without sense data hokan can read.
    UnreadableSense(BadAnswer),
    /// Another SCSI status (BUSY, RESERVATION CONFLICT, …).
    Status(u8),
}

impl SgFailure {
    /// Worth sending again a little later without anyone doing anything:
    /// busy device or bus, a full queue, an aborted task, UNIT ATTENTION or
    /// a device becoming ready.
    pub fn transient(&self) -> bool {
        match self {
            SgFailure::Host(code) => matches!(
                *code,
                host::BUS_BUSY
                    | host::SOFT_ERROR
                    | host::IMM_RETRY
                    | host::REQUEUE
                    | host::TRANSPORT_DISRUPTED
            ),
            SgFailure::Driver(code) => *code == driver::BUSY,
            SgFailure::CheckCondition(sense) => sense.transient(),
            SgFailure::Status(s) => matches!(
                *s,
                status::BUSY | status::TASK_SET_FULL | status::TASK_ABORTED
            ),
            SgFailure::TimedOut | SgFailure::UnreadableSense(_) => false,
        }
    }
}

impl fmt::Display for SgFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SgFailure::TimedOut => f.write_str("the command timed out"),
            SgFailure::Host(code) => {
                let what = match *code {
                    host::NO_CONNECT => "no connection to the device",
                    host::BUS_BUSY => "the bus stayed busy",
                    host::BAD_TARGET => "bad target",
                    host::ABORT => "the command was aborted",
                    host::PARITY => "parity error",
                    host::ERROR => "internal error of the host adapter",
                    host::RESET => "the bus or device was reset",
                    host::SOFT_ERROR | host::IMM_RETRY | host::REQUEUE => {
                        "the host adapter asks to retry"
                    }
                    host::TRANSPORT_DISRUPTED => "the transport was disrupted",
                    _ => "host adapter error",
                };
                write!(f, "{what} (host status {code:#04x})")
            }
            SgFailure::Driver(code) => write!(f, "driver error (driver status {code:#04x})"),
            SgFailure::CheckCondition(sense) => f.write_str(&sense.sentence()),
            SgFailure::UnreadableSense(e) => write!(f, "CHECK CONDITION, {e}"),
            SgFailure::Status(s) => {
                let what = match *s {
                    status::BUSY => "BUSY",
                    status::RESERVATION_CONFLICT => {
                        "RESERVATION CONFLICT (another host has reserved the device)"
                    }
                    status::TASK_SET_FULL => "TASK SET FULL",
                    status::ACA_ACTIVE => "ACA ACTIVE",
                    status::TASK_ABORTED => "TASK ABORTED",
                    _ => "unexpected SCSI status",
                };
                write!(f, "{what} (status {s:02X}h)")
            }
        }
    }
}

/// Reads the outcome of an `SG_IO` call that asked for `dxfer_len` bytes:
/// `Ok(n)`, the number of bytes that came back, or why the command failed.
///
/// Order: the host adapter's verdict, then the mid-layer's, then the SCSI
/// status. CHECK CONDITION with RECOVERED ERROR or NO SENSE counts as
/// success (the command completed). A residue outside `0..=dxfer_len` is
/// taken as not reported: all `dxfer_len` bytes.
pub fn check(result: &SgResult, dxfer_len: usize) -> Result<usize, SgFailure> {
    match result.host_status {
        host::OK => {}
        host::TIME_OUT => return Err(SgFailure::TimedOut),
        code => return Err(SgFailure::Host(code)),
    }
    match result.driver_status & 0x0f {
        driver::OK | driver::SENSE => {}
        driver::TIMEOUT => return Err(SgFailure::TimedOut),
        code => return Err(SgFailure::Driver(code)),
    }
    // Bits 0 and 7 of the status byte are reserved (SAM-5).
    match result.status & 0x7e {
        status::GOOD | status::CONDITION_MET => {}
        status::CHECK_CONDITION => {
            if result.sense.is_empty() {
                return Err(SgFailure::UnreadableSense(BadAnswer::new(
                    "sense data",
                    "none returned",
                )));
            }
            let sense = parse_sense(&result.sense).map_err(SgFailure::UnreadableSense)?;
            if !matches!(
                sense.key,
                super::SenseKey::NoSense | super::SenseKey::RecoveredError
            ) {
                return Err(SgFailure::CheckCondition(sense));
            }
        }
        other => return Err(SgFailure::Status(other)),
    }
    let resid = usize::try_from(result.resid)
        .ok()
        .filter(|r| *r <= dxfer_len)
        .unwrap_or(0);
    Ok(dxfer_len - resid)
}

/// Sends `cdb` to the device open at `fd` and reads up to `buf.len()` bytes
/// of data into `buf` (data-in commands only), waiting at most `timeout_ms`.
/// `Err` is the errno of the ioctl itself (`EPERM` without CAP_SYS_RAWIO,
/// `ENOTTY` when the node does not take `SG_IO`, `EINVAL` for a buffer the
/// kernel refuses); what the device said is in the [`SgResult`], for
/// [`check`].
///
/// Not exercised on a real drive here: no hardware.
pub fn sg_io(fd: RawFd, cdb: &[u8], buf: &mut [u8], timeout_ms: u32) -> io::Result<SgResult> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_string());
    let cmd_len = u8::try_from(cdb.len()).map_err(|_| invalid("CDB longer than 255 bytes"))?;
    let dxfer_len =
        libc::c_uint::try_from(buf.len()).map_err(|_| invalid("data buffer too large"))?;
    let mut sense = [0u8; 96];
    let mut hdr = SgIoHdr {
        interface_id: SG_INTERFACE_ID_ORIG,
        dxfer_direction: if buf.is_empty() {
            SG_DXFER_NONE
        } else {
            SG_DXFER_FROM_DEV
        },
        cmd_len,
        mx_sb_len: sense.len() as u8,
        iovec_count: 0,
        dxfer_len,
        dxferp: buf.as_mut_ptr().cast(),
        cmdp: cdb.as_ptr(),
        sbp: sense.as_mut_ptr(),
        timeout: timeout_ms,
        flags: 0,
        pack_id: 0,
        usr_ptr: std::ptr::null_mut(),
        status: 0,
        masked_status: 0,
        msg_status: 0,
        sb_len_wr: 0,
        host_status: 0,
        driver_status: 0,
        resid: 0,
        duration: 0,
        info: 0,
    };
    // SAFETY: SG_IO reads one `struct sg_io_hdr` from the pointer and writes
    // its output fields back; `SgIoHdr` has that layout (#[repr(C)], size
    // and offsets checked in the tests). Through the header the kernel reads
    // `cmd_len` bytes at `cmdp` (`cdb`), writes at most `dxfer_len` bytes at
    // `dxferp` (`buf`) and at most `mx_sb_len` bytes at `sbp` (`sense`); all
    // three are borrowed for the whole call, which is synchronous, and no
    // scatter-gather list is used (`iovec_count` 0).
    let r = unsafe { libc::ioctl(fd, SG_IO as libc::Ioctl, &mut hdr as *mut SgIoHdr) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let written = usize::from(hdr.sb_len_wr).min(sense.len());
    Ok(SgResult {
        status: hdr.status,
        host_status: hdr.host_status,
        driver_status: hdr.driver_status,
        resid: hdr.resid,
        duration_ms: hdr.duration,
        sense: sense[..written].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::SenseKind;
    use std::mem::{offset_of, size_of};
    use std::os::fd::AsRawFd;

    fn fixed_sense(key: u8, asc: u8, ascq: u8) -> Vec<u8> {
        let mut b = vec![0u8; 18];
        b[0] = 0x70;
        b[2] = key;
        b[7] = 10;
        b[12] = asc;
        b[13] = ascq;
        b
    }

    #[test]
    fn header_layout_matches_sg_h() {
        let ptr = size_of::<*mut libc::c_void>();
        // "64 bytes long (on i386)"; 88 on LP64 (pointers 8-aligned).
        assert_eq!(size_of::<SgIoHdr>(), if ptr == 8 { 88 } else { 64 });
        assert_eq!(offset_of!(SgIoHdr, cmd_len), 8);
        assert_eq!(offset_of!(SgIoHdr, dxfer_len), 12);
        assert_eq!(offset_of!(SgIoHdr, dxferp), 16);
        assert_eq!(offset_of!(SgIoHdr, cmdp), 16 + ptr);
        assert_eq!(offset_of!(SgIoHdr, timeout), 16 + 3 * ptr);
        let status_at = if ptr == 8 { 64 } else { 44 };
        assert_eq!(offset_of!(SgIoHdr, status), status_at);
        assert_eq!(offset_of!(SgIoHdr, host_status), status_at + 4);
        assert_eq!(offset_of!(SgIoHdr, resid), status_at + 8);
        assert_eq!(offset_of!(SgIoHdr, info), status_at + 16);
        assert_eq!(SG_IO, 0x2285);
        assert_eq!(SG_INTERFACE_ID_ORIG, 0x53);
        assert_eq!(SG_DXFER_FROM_DEV, -3);
    }

    #[test]
    fn good_status_and_residue() {
        let good = SgResult::default();
        assert_eq!(check(&good, 4096), Ok(4096));
        let short = SgResult {
            resid: 4096 - 149,
            ..SgResult::default()
        };
        assert_eq!(check(&short, 4096), Ok(149));
        // Nonsense residues are taken as not reported.
        for resid in [-1, 5000] {
            let odd = SgResult {
                resid,
                ..SgResult::default()
            };
            assert_eq!(check(&odd, 4096), Ok(4096), "resid {resid}");
        }
        // Reserved bits of the status byte do not matter.
        let vendor_bit = SgResult {
            status: 0x01,
            ..SgResult::default()
        };
        assert_eq!(check(&vendor_bit, 8), Ok(8));
    }

    #[test]
    fn check_condition_carries_the_sense() {
        let r = SgResult {
            status: status::CHECK_CONDITION,
            driver_status: driver::SENSE,
            sense: fixed_sense(0x2, 0x3a, 0x00),
            ..SgResult::default()
        };
        match check(&r, 64) {
            Err(SgFailure::CheckCondition(s)) => {
                assert_eq!(s.kind(), SenseKind::MediumNotPresent)
            }
            other => panic!("{other:?}"),
        }
        // Recovered error: the command completed.
        let recovered = SgResult {
            sense: fixed_sense(0x1, 0x00, 0x00),
            resid: 10,
            ..r.clone()
        };
        assert_eq!(check(&recovered, 64), Ok(54));
        // CHECK CONDITION without (readable) sense.
        let none = SgResult {
            sense: Vec::new(),
            ..r.clone()
        };
        let e = check(&none, 64).unwrap_err();
        assert!(matches!(e, SgFailure::UnreadableSense(_)), "{e:?}");
        assert!(e.to_string().contains("none returned"), "{e}");
        let garbage = SgResult {
            sense: vec![0x12, 0, 0, 0],
            ..r
        };
        assert!(matches!(
            check(&garbage, 64),
            Err(SgFailure::UnreadableSense(_))
        ));
    }

    #[test]
    fn host_and_driver_verdicts_come_first() {
        // A timeout reported by the host adapter, with a status left GOOD.
        let host_timeout = SgResult {
            host_status: host::TIME_OUT,
            ..SgResult::default()
        };
        assert_eq!(check(&host_timeout, 8), Err(SgFailure::TimedOut));
        let driver_timeout = SgResult {
            driver_status: driver::TIMEOUT,
            ..SgResult::default()
        };
        assert_eq!(check(&driver_timeout, 8), Err(SgFailure::TimedOut));
        assert!(!SgFailure::TimedOut.transient());
        let gone = SgResult {
            host_status: host::NO_CONNECT,
            status: status::CHECK_CONDITION,
            sense: fixed_sense(0x6, 0x29, 0x00),
            ..SgResult::default()
        };
        let e = check(&gone, 8).unwrap_err();
        assert_eq!(e, SgFailure::Host(host::NO_CONNECT));
        assert!(e.to_string().contains("no connection"), "{e}");
        assert!(!e.transient());
        assert!(SgFailure::Host(host::BUS_BUSY).transient());
        // DRIVER_SENSE with a suggestion in the high nibble is no error.
        let suggest = SgResult {
            driver_status: 0x10 | driver::SENSE,
            ..SgResult::default()
        };
        assert_eq!(check(&suggest, 8), Ok(8));
        let hard = SgResult {
            driver_status: 0x07,
            ..SgResult::default()
        };
        assert_eq!(check(&hard, 8), Err(SgFailure::Driver(7)));
    }

    #[test]
    fn other_statuses() {
        let busy = SgResult {
            status: status::BUSY,
            ..SgResult::default()
        };
        let e = check(&busy, 8).unwrap_err();
        assert_eq!(e, SgFailure::Status(status::BUSY));
        assert!(e.transient());
        let conflict = SgResult {
            status: status::RESERVATION_CONFLICT,
            ..SgResult::default()
        };
        let e = check(&conflict, 8).unwrap_err();
        assert!(!e.transient());
        assert!(e.to_string().contains("RESERVATION CONFLICT"), "{e}");
        let ua =
            SgFailure::CheckCondition(parse_sense(&fixed_sense(0x6, 0x28, 0x00)).expect("sense"));
        assert!(ua.transient());
    }

    #[test]
    fn refused_ioctl_is_an_os_error() {
        // /dev/null is no SCSI device: the kernel refuses SG_IO (ENOTTY).
        let null = std::fs::File::open("/dev/null").expect("/dev/null");
        let mut buf = [0u8; 16];
        let e = sg_io(null.as_raw_fd(), &[0u8; 6], &mut buf, 1000).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY), "{e}");
        let e = sg_io(-1, &[0u8; 300], &mut buf, 1000).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
