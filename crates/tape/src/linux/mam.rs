//! Cartridge memory (MAM): the attributes an LTO cartridge carries in its
//! chip, read with READ ATTRIBUTE (SPC-4 §6.17, service action 00h
//! ATTRIBUTE VALUES; attribute identifiers of SPC-4 §7.4).
//!
//! The command goes to the drive through SCSI pass-through ([`super::sg`],
//! the `SG_IO` ioctl on the `st` node itself): [`read_attribute_cdb`] builds
//! it, [`medium_info_from_sg`] reads the outcome (status, sense, residue,
//! then the answer) and [`read_medium_info`] sends it. [`super::StDrive`]
//! does that once per loaded cartridge and fills
//! [`DriveStatus::cartridge_id`] and [`DriveStatus::capacity`] through
//! [`MediumInfo::apply`]; any failure leaves them empty ([`MamError`]):
//! `st` lets only a process with CAP_SYS_RAWIO (root) send SCSI commands,
//! and a drive without READ ATTRIBUTE answers ILLEGAL REQUEST.
//!
//! Answer layout: a 4-byte AVAILABLE DATA length, then attributes, each a
//! 2-byte identifier, a byte with READ ONLY (bit 7) and FORMAT (bits 1-0:
//! binary, ASCII, text), a 2-byte length and the value. ASCII values are
//! left-aligned and padded with spaces.
//!
//! Not checked on a real drive (no hardware here): the CDB, the answers and
//! the sense data in the tests are built from SPC-4, not captured.

use std::io;
use std::os::fd::RawFd;

use super::sense::SenseKey;
use super::sg::{self, SgFailure, SgResult};
use super::BadAnswer;
use crate::device::DriveStatus;

/// Attribute identifiers hokan reads.
pub mod id {
    /// REMAINING CAPACITY IN PARTITION, MiB (binary, 8 bytes).
    pub const REMAINING_CAPACITY: u16 = 0x0000;
    /// MAXIMUM CAPACITY IN PARTITION, MiB (binary, 8 bytes).
    pub const MAXIMUM_CAPACITY: u16 = 0x0001;
    /// LOAD COUNT (binary, 8 bytes).
    pub const LOAD_COUNT: u16 = 0x0003;
    /// MEDIUM MANUFACTURER (ASCII, 8 bytes).
    pub const MEDIUM_MANUFACTURER: u16 = 0x0400;
    /// MEDIUM SERIAL NUMBER (ASCII, 32 bytes).
    pub const MEDIUM_SERIAL_NUMBER: u16 = 0x0401;
    /// MEDIUM MANUFACTURE DATE, `YYYYMMDD` (ASCII, 8 bytes).
    pub const MEDIUM_MANUFACTURE_DATE: u16 = 0x0406;
    /// MEDIUM TYPE: 00h data, 01h cleaning, 80h WORM (binary, 1 byte).
    pub const MEDIUM_TYPE: u16 = 0x0408;
    /// BARCODE (ASCII, 32 bytes), written by the application or library.
    pub const BARCODE: u16 = 0x0806;
}

/// The FORMAT of an attribute value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeFormat {
    /// 00b: big-endian number or bytes.
    Binary,
    /// 01b: printable ASCII, padded with spaces.
    Ascii,
    /// 10b: text in the localization of attribute 0805h.
    Text,
    /// 11b: reserved.
    Reserved,
}

/// One attribute of a READ ATTRIBUTE answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The identifier ([`id`]).
    pub id: u16,
    /// Set by the device; the application cannot change it.
    pub read_only: bool,
    /// How to read the value.
    pub format: AttributeFormat,
    /// The raw value.
    pub value: Vec<u8>,
}

impl Attribute {
    /// The value as a number (binary attributes up to 8 bytes).
    pub fn number(&self) -> Option<u64> {
        (self.format == AttributeFormat::Binary && self.value.len() <= 8).then(|| {
            self.value
                .iter()
                .fold(0u64, |n, &b| (n << 8) | u64::from(b))
        })
    }

    /// The value as a string, padding removed; `None` when empty.
    pub fn text(&self) -> Option<String> {
        if !matches!(self.format, AttributeFormat::Ascii | AttributeFormat::Text) {
            return None;
        }
        let s = String::from_utf8_lossy(&self.value);
        let s = s.trim_end_matches([' ', '\0']).trim_start();
        (!s.is_empty()).then(|| s.to_string())
    }
}

/// Decodes a READ ATTRIBUTE (ATTRIBUTE VALUES) answer. An answer cut short
/// by a small allocation length yields the attributes that are complete;
/// an attribute running past the length the device announced is an error.
pub fn parse_attributes(bytes: &[u8]) -> Result<Vec<Attribute>, BadAnswer> {
    let bad = |what: String| BadAnswer::new("READ ATTRIBUTE", what);
    if bytes.len() < 4 {
        return Err(bad(format!("{} bytes, need at least 4", bytes.len())));
    }
    let available = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let announced_end = 4 + available;
    let end = announced_end.min(bytes.len());
    let mut out = Vec::new();
    let mut at = 4;
    while at < end {
        if at + 5 > end {
            if end == announced_end {
                return Err(bad(format!("attribute header at byte {at} is cut off")));
            }
            break;
        }
        let id = u16::from_be_bytes([bytes[at], bytes[at + 1]]);
        let flags = bytes[at + 2];
        let len = usize::from(u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]));
        let value_end = at + 5 + len;
        if value_end > end {
            if end == announced_end {
                return Err(bad(format!(
                    "attribute {id:04X}h claims {len} bytes, only {} left",
                    end - at - 5
                )));
            }
            break;
        }
        out.push(Attribute {
            id,
            read_only: flags & 0x80 != 0,
            format: match flags & 0x03 {
                0 => AttributeFormat::Binary,
                1 => AttributeFormat::Ascii,
                2 => AttributeFormat::Text,
                _ => AttributeFormat::Reserved,
            },
            value: bytes[at + 5..value_end].to_vec(),
        });
        at = value_end;
    }
    Ok(out)
}

/// What hokan uses of the cartridge memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediumInfo {
    /// MEDIUM MANUFACTURER.
    pub manufacturer: Option<String>,
    /// MEDIUM SERIAL NUMBER: fixed at manufacture, unlike the barcode label.
    pub serial: Option<String>,
    /// BARCODE attribute, when the library or an application wrote it.
    pub barcode: Option<String>,
    /// MEDIUM MANUFACTURE DATE (`YYYYMMDD`).
    pub manufactured: Option<String>,
    /// MAXIMUM CAPACITY IN PARTITION, bytes (native, uncompressed).
    pub capacity: Option<u64>,
    /// REMAINING CAPACITY IN PARTITION, bytes.
    pub remaining: Option<u64>,
    /// LOAD COUNT: how often the cartridge was loaded.
    pub load_count: Option<u64>,
    /// MEDIUM TYPE says cleaning cartridge.
    pub cleaning: bool,
    /// MEDIUM TYPE says WORM.
    pub worm: bool,
}

const MIB: u64 = 1 << 20;

impl MediumInfo {
    /// Picks the known attributes out of a decoded answer.
    pub fn from_attributes(attributes: &[Attribute]) -> MediumInfo {
        let find = |id: u16| attributes.iter().find(|a| a.id == id);
        let text = |id: u16| find(id).and_then(Attribute::text);
        let number = |id: u16| find(id).and_then(Attribute::number);
        let medium_type = number(id::MEDIUM_TYPE);
        MediumInfo {
            manufacturer: text(id::MEDIUM_MANUFACTURER),
            serial: text(id::MEDIUM_SERIAL_NUMBER),
            barcode: text(id::BARCODE),
            manufactured: text(id::MEDIUM_MANUFACTURE_DATE),
            capacity: number(id::MAXIMUM_CAPACITY).map(|mib| mib.saturating_mul(MIB)),
            remaining: number(id::REMAINING_CAPACITY).map(|mib| mib.saturating_mul(MIB)),
            load_count: number(id::LOAD_COUNT),
            cleaning: medium_type == Some(0x01),
            worm: medium_type == Some(0x80),
        }
    }

    /// Fills the cartridge identity (barcode, else serial number) and the
    /// capacity of `status`. (A WORM cartridge is not write protected: it
    /// takes appends, and refuses overwrites with sense 30/0C.)
    pub fn apply(&self, status: &mut DriveStatus) {
        status.cartridge_id = self.barcode.clone().or_else(|| self.serial.clone());
        status.capacity = self.capacity;
    }
}

/// READ ATTRIBUTE operation code.
pub const READ_ATTRIBUTE: u8 = 0x8c;

/// Service action 00h: ATTRIBUTE VALUES.
pub const ATTRIBUTE_VALUES: u8 = 0x00;

/// Allocation length hokan asks for: every attribute from 0000h on. LTO
/// cartridge memory holds at most a few tens of KiB; an answer cut short
/// still yields its complete attributes ([`parse_attributes`]).
pub const ALLOCATION_LENGTH: u32 = 64 * 1024;

/// How long the drive may take, in milliseconds. READ ATTRIBUTE does not
/// move the tape and normally answers at once; the margin is generous
/// because a timed-out pass-through command starts the kernel's error
/// handling, which may reset the drive (and so lose the tape position).
/// Not checked on a real drive.
pub const TIMEOUT_MS: u32 = 60_000;

/// The 16-byte READ ATTRIBUTE CDB (SPC-4 §6.17.1), service action ATTRIBUTE
/// VALUES: attributes with identifiers from `first_attribute` on, at most
/// `alloc_len` bytes of answer. Logical volume 0, partition 0 (the
/// partition whose capacity attributes are returned), CACHE bit off.
pub fn read_attribute_cdb(first_attribute: u16, alloc_len: u32) -> [u8; 16] {
    let mut cdb = [0u8; 16];
    cdb[0] = READ_ATTRIBUTE;
    // Byte 1, bits 4-0: the service action.
    cdb[1] = ATTRIBUTE_VALUES;
    // Bytes 2-4: restricted (SMC element address); 5: logical volume
    // number; 6: reserved; 7: partition number. All 0.
    cdb[8..10].copy_from_slice(&first_attribute.to_be_bytes());
    cdb[10..14].copy_from_slice(&alloc_len.to_be_bytes());
    // 14: bit 0 CACHE; 15: CONTROL. Both 0.
    cdb
}

/// When it is worth sending READ ATTRIBUTE again after a [`MamError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Never on this drive: the drive or the node cannot do it, or hokan
    /// lacks the privilege.
    Never,
    /// Not for this cartridge; the next one may answer.
    NextCartridge,
    /// A little later (busy, UNIT ATTENTION, becoming ready).
    Later,
}

/// Why the cartridge memory was not read. None of these is a reason to
/// fail a job: the cartridge identity and capacity just stay unknown.
#[derive(Debug, thiserror::Error)]
pub enum MamError {
    /// ILLEGAL REQUEST, typically 20/00 invalid command operation code (a
    /// drive without READ ATTRIBUTE) or 24/00 invalid field in CDB; or the
    /// cartridge's memory is not accessible (04/10) or unreadable (11/12).
    #[error("no cartridge memory available: {what}")]
    NotAvailable {
        /// What the drive said.
        what: String,
        /// The drive refuses the command itself (not only for this
        /// cartridge).
        drive: bool,
    },
    /// The kernel refused the `SG_IO` ioctl: `EPERM`/`EACCES` (st passes
    /// SCSI commands only for a process with CAP_SYS_RAWIO), or
    /// `ENOTTY`/`EINVAL` (the node does not take SCSI commands).
    #[error("cannot send READ ATTRIBUTE: {what}")]
    PassThroughRefused {
        /// Why.
        what: String,
        /// The errno.
        #[source]
        source: io::Error,
    },
    /// Worth trying again shortly: BUSY, a full queue, becoming ready, or
    /// UNIT ATTENTION.
    #[error("cartridge memory not read yet: {what}")]
    Transient {
        /// What the drive or the kernel said.
        what: String,
        /// It was UNIT ATTENTION: the drive reported a reset or a medium
        /// change to this command, so the `st` driver did not see it.
        unit_attention: bool,
    },
    /// Anything else: timeout, host adapter or driver error, medium or
    /// hardware error, an answer hokan cannot read.
    #[error("cartridge memory not read: {0}")]
    Failed(String),
}

impl MamError {
    /// When to try again.
    pub fn retry(&self) -> Retry {
        match self {
            MamError::NotAvailable { drive: true, .. } | MamError::PassThroughRefused { .. } => {
                Retry::Never
            }
            MamError::NotAvailable { drive: false, .. } | MamError::Failed(_) => {
                Retry::NextCartridge
            }
            MamError::Transient { .. } => Retry::Later,
        }
    }

    /// The error for a failed `SG_IO` ioctl (the command may not have
    /// reached the drive).
    pub fn from_os_error(e: io::Error) -> MamError {
        let refused = |what: &str, source| MamError::PassThroughRefused {
            what: what.to_string(),
            source,
        };
        match e.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => refused(
                "SCSI pass-through (SG_IO) on a tape node needs CAP_SYS_RAWIO (run hokan as \
                 root to read cartridge memory)",
                e,
            ),
            Some(libc::ENOTTY | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {
                refused("the device node does not take SCSI pass-through (SG_IO)", e)
            }
            Some(libc::EINTR | libc::EAGAIN | libc::EBUSY) => MamError::Transient {
                what: format!("SG_IO: {e}"),
                unit_attention: false,
            },
            _ => MamError::Failed(format!("SG_IO: {e}")),
        }
    }

    /// The error for a command that reached the drive and did not complete.
    pub fn from_failure(failure: SgFailure) -> MamError {
        if let SgFailure::CheckCondition(sense) = &failure {
            let codes = (sense.asc, sense.ascq);
            if sense.key == SenseKey::IllegalRequest {
                return MamError::NotAvailable {
                    what: format!("the drive refuses READ ATTRIBUTE: {}", sense.sentence()),
                    // Unknown opcode, or a field of the CDB refused (the
                    // service action): the same for every cartridge.
                    drive: matches!(sense.asc, 0x20 | 0x24),
                };
            }
            if matches!(codes, (0x04, 0x10) | (0x11, 0x12)) {
                let what = if codes == (0x04, 0x10) {
                    "the cartridge's memory is not accessible"
                } else {
                    "the cartridge's memory could not be read"
                };
                return MamError::NotAvailable {
                    what: format!(
                        "{what} ({}, ASC/ASCQ {:02X}/{:02X})",
                        sense.key, sense.asc, sense.ascq
                    ),
                    drive: false,
                };
            }
            if sense.key == SenseKey::UnitAttention {
                return MamError::Transient {
                    what: sense.sentence(),
                    unit_attention: true,
                };
            }
        }
        if failure.transient() {
            MamError::Transient {
                what: failure.to_string(),
                unit_attention: false,
            }
        } else {
            MamError::Failed(failure.to_string())
        }
    }
}

/// The READ ATTRIBUTE answer in `buf` (the data buffer of the `SG_IO` call
/// that gave `result`), cut to the bytes that came back; or why there is
/// none.
pub fn answer_from_sg(result: &SgResult, mut buf: Vec<u8>) -> Result<Vec<u8>, MamError> {
    let n = sg::check(result, buf.len()).map_err(MamError::from_failure)?;
    buf.truncate(n);
    Ok(buf)
}

/// [`answer_from_sg`], decoded: what hokan uses of the cartridge memory.
pub fn medium_info_from_sg(result: &SgResult, buf: Vec<u8>) -> Result<MediumInfo, MamError> {
    let answer = answer_from_sg(result, buf)?;
    let attributes = parse_attributes(&answer).map_err(|e| MamError::Failed(e.to_string()))?;
    Ok(MediumInfo::from_attributes(&attributes))
}

/// Sends READ ATTRIBUTE (every attribute, [`ALLOCATION_LENGTH`] bytes,
/// [`TIMEOUT_MS`]) to the drive open at `fd` and decodes the answer. Does
/// not move the tape; `st` flushes its write buffer first.
///
/// Not exercised on a real drive here: no hardware.
pub fn read_medium_info(fd: RawFd) -> Result<MediumInfo, MamError> {
    let cdb = read_attribute_cdb(0x0000, ALLOCATION_LENGTH);
    let mut buf = vec![0u8; ALLOCATION_LENGTH as usize];
    let result = sg::sg_io(fd, &cdb, &mut buf, TIMEOUT_MS).map_err(MamError::from_os_error)?;
    medium_info_from_sg(&result, buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(id: u16, flags: u8, value: &[u8]) -> Vec<u8> {
        let mut v = id.to_be_bytes().to_vec();
        v.push(flags);
        v.extend_from_slice(&(value.len() as u16).to_be_bytes());
        v.extend_from_slice(value);
        v
    }

    fn answer(attrs: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = attrs.concat();
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend(body);
        v
    }

    #[test]
    fn reads_text_and_numbers() {
        let a = answer(&[
            attr(id::MAXIMUM_CAPACITY, 0x80, &2_288_000u64.to_be_bytes()),
            attr(id::BARCODE, 0x01, b"HKN001L8                        "),
            attr(id::MEDIUM_TYPE, 0x80, &[0x80]),
        ]);
        let attrs = parse_attributes(&a).unwrap();
        assert_eq!(attrs.len(), 3);
        assert!(attrs[0].read_only && !attrs[1].read_only);
        let info = MediumInfo::from_attributes(&attrs);
        assert_eq!(info.barcode.as_deref(), Some("HKN001L8"));
        assert_eq!(info.capacity, Some(2_288_000 * MIB));
        assert!(info.worm && !info.cleaning);
        let mut status = DriveStatus::default();
        info.apply(&mut status);
        assert_eq!(status.cartridge_id.as_deref(), Some("HKN001L8"));
        assert_eq!(status.capacity, Some(2_288_000 * MIB));
        assert!(!status.write_protected);
    }

    #[test]
    fn serial_when_no_barcode() {
        let a = answer(&[attr(id::MEDIUM_SERIAL_NUMBER, 0x81, b"A1B2C3  ")]);
        let info = MediumInfo::from_attributes(&parse_attributes(&a).unwrap());
        let mut status = DriveStatus::default();
        info.apply(&mut status);
        assert_eq!(status.cartridge_id.as_deref(), Some("A1B2C3"));
    }

    #[test]
    fn short_buffer_keeps_complete_attributes() {
        let mut a = answer(&[
            attr(id::LOAD_COUNT, 0x80, &7u64.to_be_bytes()),
            attr(id::BARCODE, 0x01, b"HKN002L8"),
        ]);
        a.truncate(a.len() - 3);
        let attrs = parse_attributes(&a).unwrap();
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].number(), Some(7));
    }

    #[test]
    fn lying_length_is_an_error() {
        let mut a = answer(&[attr(id::BARCODE, 0x01, b"HKN003L8")]);
        a[4 + 4] = 0x40; // value length 64, but the answer ends after 8
        let e = parse_attributes(&a).unwrap_err();
        assert!(e.to_string().contains("0806h"), "{e}");
        assert!(parse_attributes(&[0, 0]).is_err());
    }

    #[test]
    fn read_attribute_cdb_layout() {
        let cdb = read_attribute_cdb(0x0401, 0x0001_0203);
        assert_eq!(
            cdb,
            [
                0x8c, 0x00, 0, 0, 0, 0, 0, 0, // opcode, ATTRIBUTE VALUES, volume/partition 0
                0x04, 0x01, // first attribute identifier
                0x00, 0x01, 0x02, 0x03, // allocation length
                0x00, 0x00, // CACHE off, CONTROL
            ]
        );
        let all = read_attribute_cdb(0, ALLOCATION_LENGTH);
        assert_eq!(&all[8..14], &[0, 0, 0x00, 0x01, 0x00, 0x00]);
    }

    fn check_condition(key: u8, asc: u8, ascq: u8) -> SgResult {
        let mut sense = vec![0u8; 18];
        sense[0] = 0x70;
        sense[2] = key;
        sense[7] = 10;
        sense[12] = asc;
        sense[13] = ascq;
        SgResult {
            status: sg::status::CHECK_CONDITION,
            driver_status: sg::driver::SENSE,
            sense,
            ..SgResult::default()
        }
    }

    #[test]
    fn good_answer_is_cut_to_what_came_back() {
        let a = answer(&[attr(id::BARCODE, 0x01, b"HKN004L9")]);
        let mut buf = a.clone();
        buf.resize(256, 0xee); // stale bytes past the answer
        let result = SgResult {
            resid: (256 - a.len()) as i32,
            ..SgResult::default()
        };
        assert_eq!(answer_from_sg(&result, buf.clone()).unwrap(), a);
        let info = medium_info_from_sg(&result, buf).unwrap();
        assert_eq!(info.barcode.as_deref(), Some("HKN004L9"));
        // Fewer than 4 bytes: no answer to decode.
        let tiny = SgResult {
            resid: 254,
            ..SgResult::default()
        };
        let e = medium_info_from_sg(&tiny, vec![0; 256]).unwrap_err();
        assert!(matches!(e, MamError::Failed(_)), "{e:?}");
        assert_eq!(e.retry(), Retry::NextCartridge);
    }

    #[test]
    fn invalid_opcode_means_no_cartridge_memory() {
        // A drive without READ ATTRIBUTE: ILLEGAL REQUEST 20/00.
        let e = answer_from_sg(&check_condition(0x5, 0x20, 0x00), vec![0; 64]).unwrap_err();
        assert!(
            matches!(e, MamError::NotAvailable { drive: true, .. }),
            "{e:?}"
        );
        assert_eq!(e.retry(), Retry::Never);
        let text = e.to_string();
        assert!(
            text.starts_with("no cartridge memory available:")
                && text.contains("invalid command operation code")
                && text.contains("20/00"),
            "{text}"
        );
        // Service action refused: also the drive's.
        let e = answer_from_sg(&check_condition(0x5, 0x24, 0x00), vec![0; 64]).unwrap_err();
        assert_eq!(e.retry(), Retry::Never);
        // Another ILLEGAL REQUEST: only this cartridge.
        let e = answer_from_sg(&check_condition(0x5, 0x1a, 0x00), vec![0; 64]).unwrap_err();
        assert!(matches!(e, MamError::NotAvailable { drive: false, .. }));
    }

    #[test]
    fn unreadable_chip_is_the_cartridges() {
        for (key, asc, ascq, words) in [
            (0x2, 0x04, 0x10, "not accessible"),
            (0x3, 0x11, 0x12, "could not be read"),
        ] {
            let e = answer_from_sg(&check_condition(key, asc, ascq), vec![0; 64]).unwrap_err();
            assert!(
                matches!(e, MamError::NotAvailable { drive: false, .. }),
                "{e:?}"
            );
            assert_eq!(e.retry(), Retry::NextCartridge);
            assert!(e.to_string().contains(words), "{e}");
        }
    }

    #[test]
    fn unit_attention_and_busy_are_retried_later() {
        let e = answer_from_sg(&check_condition(0x6, 0x29, 0x00), vec![0; 64]).unwrap_err();
        assert!(
            matches!(
                e,
                MamError::Transient {
                    unit_attention: true,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.retry(), Retry::Later);
        let e = answer_from_sg(&check_condition(0x2, 0x04, 0x01), vec![0; 64]).unwrap_err();
        assert!(matches!(
            e,
            MamError::Transient {
                unit_attention: false,
                ..
            }
        ));
        let busy = SgResult {
            status: sg::status::BUSY,
            ..SgResult::default()
        };
        assert_eq!(
            answer_from_sg(&busy, vec![0; 8]).unwrap_err().retry(),
            Retry::Later
        );
    }

    #[test]
    fn timeouts_and_hardware_errors_give_up_for_this_cartridge() {
        let timeout = SgResult {
            host_status: sg::host::TIME_OUT,
            ..SgResult::default()
        };
        let e = answer_from_sg(&timeout, vec![0; 8]).unwrap_err();
        assert_eq!(e.retry(), Retry::NextCartridge);
        assert!(e.to_string().contains("timed out"), "{e}");
        let e = answer_from_sg(&check_condition(0x4, 0x44, 0x00), vec![0; 8]).unwrap_err();
        assert!(matches!(e, MamError::Failed(_)), "{e:?}");
        assert!(e.to_string().contains("internal target failure"), "{e}");
    }

    #[test]
    fn refused_ioctls() {
        let os = |code| MamError::from_os_error(io::Error::from_raw_os_error(code));
        let e = os(libc::EPERM);
        assert_eq!(e.retry(), Retry::Never);
        assert!(e.to_string().contains("CAP_SYS_RAWIO"), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(os(libc::ENOTTY).retry(), Retry::Never);
        assert_eq!(os(libc::EINTR).retry(), Retry::Later);
        // st refuses every ioctl with EIO after a reset until rewound.
        assert_eq!(os(libc::EIO).retry(), Retry::NextCartridge);
    }

    #[test]
    fn sending_to_something_that_is_no_drive() {
        let null = std::fs::File::open("/dev/null").unwrap();
        let e = read_medium_info(std::os::fd::AsRawFd::as_raw_fd(&null)).unwrap_err();
        assert!(matches!(e, MamError::PassThroughRefused { .. }), "{e:?}");
    }

    #[test]
    fn binary_is_not_text() {
        let a = Attribute {
            id: 1,
            read_only: true,
            format: AttributeFormat::Binary,
            value: vec![1, 2],
        };
        assert_eq!(a.text(), None);
        assert_eq!(a.number(), Some(0x0102));
    }
}
