//! SCSI sense data: what a drive or changer says when a command fails.
//!
//! Decodes both layouts of SPC-4 §4.5: **fixed** (response codes 70h current,
//! 71h deferred) and **descriptor** (72h, 73h), with the stream-command bits
//! of SSC-4 (FILEMARK, EOM, ILI) and the INFORMATION field (the residue of a
//! read or write). [`Sense::sentence`] renders the conditions hokan meets as
//! one sentence with what to do; [`Sense::kind`] is what code branches on.
//!
//! Everything here is pure. Where sense data comes from: `mtx` prints it on
//! failure ([`super::mtx`] reads that report), SG_IO answers carry it; the
//! `st` driver keeps it to itself (it logs it in the kernel log) and only
//! passes an errno up.

use std::fmt;

use super::BadAnswer;
use crate::device::TapeError;

/// The sense key: the class of the condition (SPC-4 table 27).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SenseKey {
    /// 0h: nothing wrong; look at FILEMARK/EOM/ILI and the ASC.
    NoSense,
    /// 1h: the command succeeded after recovery.
    RecoveredError,
    /// 2h: the device cannot be used now.
    NotReady,
    /// 3h: the medium is at fault.
    MediumError,
    /// 4h: the device is at fault.
    HardwareError,
    /// 5h: the command or a field in it was refused.
    IllegalRequest,
    /// 6h: something changed (reset, cartridge change, mode change).
    UnitAttention,
    /// 7h: write protection.
    DataProtect,
    /// 8h: blank medium or end of data met.
    BlankCheck,
    /// 9h: vendor specific.
    VendorSpecific,
    /// Ah: copy aborted.
    CopyAborted,
    /// Bh: the device aborted the command.
    AbortedCommand,
    /// Dh: the physical end of the partition was reached; data was not
    /// (completely) written.
    VolumeOverflow,
    /// Eh: miscompare.
    Miscompare,
    /// Ch, Fh: reserved or obsolete codes, kept as received.
    Other(u8),
}

impl SenseKey {
    /// The key for a 4-bit code.
    pub fn from_code(code: u8) -> SenseKey {
        match code & 0x0f {
            0x0 => SenseKey::NoSense,
            0x1 => SenseKey::RecoveredError,
            0x2 => SenseKey::NotReady,
            0x3 => SenseKey::MediumError,
            0x4 => SenseKey::HardwareError,
            0x5 => SenseKey::IllegalRequest,
            0x6 => SenseKey::UnitAttention,
            0x7 => SenseKey::DataProtect,
            0x8 => SenseKey::BlankCheck,
            0x9 => SenseKey::VendorSpecific,
            0xa => SenseKey::CopyAborted,
            0xb => SenseKey::AbortedCommand,
            0xd => SenseKey::VolumeOverflow,
            0xe => SenseKey::Miscompare,
            other => SenseKey::Other(other),
        }
    }

    /// The 4-bit code.
    pub fn code(self) -> u8 {
        match self {
            SenseKey::NoSense => 0x0,
            SenseKey::RecoveredError => 0x1,
            SenseKey::NotReady => 0x2,
            SenseKey::MediumError => 0x3,
            SenseKey::HardwareError => 0x4,
            SenseKey::IllegalRequest => 0x5,
            SenseKey::UnitAttention => 0x6,
            SenseKey::DataProtect => 0x7,
            SenseKey::BlankCheck => 0x8,
            SenseKey::VendorSpecific => 0x9,
            SenseKey::CopyAborted => 0xa,
            SenseKey::AbortedCommand => 0xb,
            SenseKey::VolumeOverflow => 0xd,
            SenseKey::Miscompare => 0xe,
            SenseKey::Other(code) => code & 0x0f,
        }
    }

    /// The key by the name `mtx` prints (`Not Ready`, `Illegal Request`,
    /// …), ignoring case and spaces.
    pub fn from_name(name: &str) -> Option<SenseKey> {
        let squeezed: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Some(match squeezed.as_str() {
            "nosense" => SenseKey::NoSense,
            "recoverederror" => SenseKey::RecoveredError,
            "notready" => SenseKey::NotReady,
            "mediumerror" => SenseKey::MediumError,
            "hardwareerror" => SenseKey::HardwareError,
            "illegalrequest" => SenseKey::IllegalRequest,
            "unitattention" => SenseKey::UnitAttention,
            "dataprotect" => SenseKey::DataProtect,
            "blankcheck" => SenseKey::BlankCheck,
            "vendorspecific" => SenseKey::VendorSpecific,
            "copyaborted" => SenseKey::CopyAborted,
            "abortedcommand" => SenseKey::AbortedCommand,
            "equal" => SenseKey::Other(0xc),
            "volumeoverflow" => SenseKey::VolumeOverflow,
            "miscompare" => SenseKey::Miscompare,
            _ => return None,
        })
    }
}

impl fmt::Display for SenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SenseKey::NoSense => "NO SENSE",
            SenseKey::RecoveredError => "RECOVERED ERROR",
            SenseKey::NotReady => "NOT READY",
            SenseKey::MediumError => "MEDIUM ERROR",
            SenseKey::HardwareError => "HARDWARE ERROR",
            SenseKey::IllegalRequest => "ILLEGAL REQUEST",
            SenseKey::UnitAttention => "UNIT ATTENTION",
            SenseKey::DataProtect => "DATA PROTECT",
            SenseKey::BlankCheck => "BLANK CHECK",
            SenseKey::VendorSpecific => "VENDOR SPECIFIC",
            SenseKey::CopyAborted => "COPY ABORTED",
            SenseKey::AbortedCommand => "ABORTED COMMAND",
            SenseKey::VolumeOverflow => "VOLUME OVERFLOW",
            SenseKey::Miscompare => "MISCOMPARE",
            SenseKey::Other(code) => return write!(f, "sense key {code:X}h"),
        };
        f.write_str(name)
    }
}

/// Which of the two SPC layouts the sense data used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SenseFormat {
    /// Response code 70h/71h.
    Fixed,
    /// Response code 72h/73h.
    Descriptor,
}

/// Decoded sense data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sense {
    /// The layout it came in.
    pub format: SenseFormat,
    /// A deferred error (71h/73h): it belongs to an earlier command, e.g. a
    /// buffered write that failed after the drive had accepted it.
    pub deferred: bool,
    /// The sense key.
    pub key: SenseKey,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
    /// FILEMARK: a file mark was met (reads, spacing).
    pub filemark: bool,
    /// EOM: early warning or end of partition (writes), or beginning of
    /// partition (spacing backwards).
    pub eom: bool,
    /// ILI: the block on tape was longer or shorter than asked for.
    pub ili: bool,
    /// The INFORMATION field when marked valid: for reads and writes the
    /// residue (requested minus actual; two's complement when the block
    /// was longer than asked for).
    pub information: Option<u64>,
}

/// What a sense condition means for hokan: the cases code branches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SenseKind {
    /// Past the early-warning point (EOM bit, NO SENSE): the write was done;
    /// close the tape file and change cartridge.
    EarlyWarning,
    /// The physical end (VOLUME OVERFLOW): the write was not done.
    EndOfMedium,
    /// End of recorded data (BLANK CHECK 00/05), or a blank cartridge.
    EndOfData,
    /// A file mark was read or spaced over.
    Filemark,
    /// The block had another length than asked for (ILI).
    IncorrectLength,
    /// No cartridge in the drive (3A/xx).
    MediumNotPresent,
    /// The cartridge or drive refuses writes (27/xx, WORM).
    WriteProtected,
    /// The device is getting ready; retry shortly (04/01, operation in
    /// progress).
    BecomingReady,
    /// The device is not ready and will not become ready by itself.
    NotReady,
    /// A cleaning cartridge is in the drive (30/03) or cleaning failed.
    CleaningCartridge,
    /// The drive asks to be cleaned (00/17).
    CleaningRequested,
    /// The drive cannot use this cartridge (30/xx).
    IncompatibleMedium,
    /// The medium is damaged or unreadable.
    MediumError,
    /// The device is at fault.
    HardwareError,
    /// Loading or ejecting failed (53/00, 53/01).
    LoadEjectFailed,
    /// Medium removal is prevented (53/02, 53/03).
    RemovalPrevented,
    /// A changer move found its destination full (3B/0D).
    DestinationFull,
    /// A changer move found its source empty (3B/0E).
    SourceEmpty,
    /// A changer element cannot be reached (invalid address, magazine out,
    /// element disabled).
    ElementNotAccessible,
    /// The cartridge may have changed, or the mail slot was used: re-read
    /// labels and inventory (28/xx).
    MediumMayHaveChanged,
    /// Power on or reset: the position is lost (29/xx).
    Reset,
    /// The command was refused as malformed or unsupported.
    IllegalRequest,
    /// Anything else.
    Other,
}

/// One row of the table of conditions hokan knows: what it is and what to
/// do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Condition {
    /// Additional sense code.
    pub asc: u8,
    /// Qualifier; `None` for a whole family (`30/xx`).
    pub ascq: Option<u8>,
    /// The class hokan branches on.
    pub kind: SenseKind,
    /// What happened, in a few words.
    pub what: &'static str,
    /// What to do next.
    pub action: &'static str,
    /// Worth retrying after a short wait without a person doing anything.
    pub transient: bool,
}

const fn row(
    asc: u8,
    ascq: Option<u8>,
    kind: SenseKind,
    what: &'static str,
    action: &'static str,
    transient: bool,
) -> Condition {
    Condition {
        asc,
        ascq,
        kind,
        what,
        action,
        transient,
    }
}

use SenseKind as K;

/// The conditions hokan meets with LTO drives and SCSI libraries (SPC-4
/// annex D ASC/ASCQ assignments, SSC-4, SMC-3). Exact qualifiers first;
/// rows with `ascq: None` catch the rest of their family.
#[rustfmt::skip]
pub static CONDITIONS: &[Condition] = &[
    row(0x00, Some(0x01), K::Filemark, "file mark detected", "none: the tape file ends here", false),
    row(0x00, Some(0x02), K::EndOfMedium, "end of partition/medium detected", "finish on the next cartridge", false),
    row(0x00, Some(0x04), K::Other, "beginning of partition/medium detected", "none: the position is the beginning of the tape", false),
    row(0x00, Some(0x05), K::EndOfData, "end of data detected", "nothing was written past this point: append here, or stop reading", false),
    row(0x00, Some(0x07), K::EarlyWarning, "programmable early warning detected", "finish the current tape file and change cartridge", false),
    row(0x00, Some(0x16), K::BecomingReady, "operation in progress", "wait and retry", true),
    row(0x00, Some(0x17), K::CleaningRequested, "cleaning requested", "load a cleaning cartridge into this drive", false),
    row(0x00, Some(0x18), K::BecomingReady, "erase operation in progress", "wait for the erase to finish", true),
    row(0x00, Some(0x19), K::BecomingReady, "locate operation in progress", "wait and retry", true),
    row(0x00, Some(0x1a), K::BecomingReady, "rewind operation in progress", "wait for the rewind to finish", true),
    row(0x04, Some(0x00), K::NotReady, "not ready, cause not reportable", "wait and retry; if it persists, check the drive's display", true),
    row(0x04, Some(0x01), K::BecomingReady, "becoming ready (loading the cartridge)", "wait a minute and retry", true),
    row(0x04, Some(0x02), K::NotReady, "not ready, a load is required", "load the cartridge (mt load, or move it in with the changer)", false),
    row(0x04, Some(0x03), K::NotReady, "not ready, manual intervention required", "check the drive or library panel: a door may be open or a cartridge stuck", false),
    row(0x04, Some(0x12), K::NotReady, "offline", "put the library or drive online from its front panel", false),
    row(0x04, None, K::NotReady, "not ready", "wait and retry; if it persists, check the device's panel", true),
    row(0x0c, None, K::MediumError, "write error", "the data was not written: clean the drive, then write to another cartridge", false),
    row(0x11, None, K::MediumError, "unrecovered read error", "clean the drive and retry; if it persists, restore from another copy", false),
    row(0x14, Some(0x03), K::MediumError, "end of data not found", "the end of the recorded data is damaged: restore from another copy", false),
    row(0x14, None, K::MediumError, "recorded entity not found", "the position asked for does not exist on this cartridge", false),
    row(0x15, None, K::HardwareError, "mechanical positioning error", "retry once; if it persists, have the device serviced", false),
    row(0x20, Some(0x00), K::IllegalRequest, "invalid command operation code", "the device does not support this command", false),
    row(0x21, Some(0x01), K::ElementNotAccessible, "invalid element address", "that slot or drive does not exist in this library: check with mtx status", false),
    row(0x24, Some(0x00), K::IllegalRequest, "invalid field in command", "a parameter was refused: check slot, drive and block numbers", false),
    row(0x25, Some(0x00), K::IllegalRequest, "logical unit not supported", "check the device path", false),
    row(0x27, None, K::WriteProtected, "write protected", "slide the cartridge's write-protect tab to unlocked, or use another cartridge", false),
    row(0x28, Some(0x01), K::MediumMayHaveChanged, "the import/export element was accessed", "a person used the mail slot: run an inventory", true),
    row(0x28, None, K::MediumMayHaveChanged, "the medium may have changed", "read the cartridge label again before writing", true),
    row(0x29, None, K::Reset, "power on or reset occurred", "the position is lost: rewind and retry", true),
    row(0x2a, None, K::Other, "parameters changed", "retry", true),
    row(0x30, Some(0x03), K::CleaningCartridge, "cleaning cartridge installed", "wait for cleaning to finish and unload it; it holds no data", false),
    row(0x30, Some(0x07), K::CleaningCartridge, "cleaning failure", "replace the cleaning cartridge (it is probably used up)", false),
    row(0x30, Some(0x0c), K::WriteProtected, "WORM medium, overwrite attempted", "a WORM cartridge cannot be rewritten: use another cartridge", false),
    row(0x30, None, K::IncompatibleMedium, "incompatible medium installed", "this drive cannot use this cartridge (generation or format): use a supported cartridge", false),
    row(0x31, None, K::MediumError, "medium format corrupted", "retire the cartridge", false),
    row(0x3a, None, K::MediumNotPresent, "medium not present", "load a cartridge, or check the changer's inventory", false),
    row(0x3b, Some(0x0d), K::DestinationFull, "medium destination element full", "choose an empty slot or drive", false),
    row(0x3b, Some(0x0e), K::SourceEmpty, "medium source element empty", "run an inventory: the library's view is out of date", false),
    row(0x3b, Some(0x11), K::ElementNotAccessible, "medium magazine not accessible", "close the magazine or door", false),
    row(0x3b, Some(0x12), K::ElementNotAccessible, "medium magazine removed", "insert the magazine", false),
    row(0x3b, Some(0x16), K::HardwareError, "mechanical positioning or changer error", "check the library's panel, then run an inventory", false),
    row(0x3b, Some(0x18), K::ElementNotAccessible, "element disabled", "enable the element from the library's panel, or use another one", false),
    row(0x3b, None, K::MediumError, "positioning error", "rewind and retry; if it persists, retire the cartridge", false),
    row(0x44, None, K::HardwareError, "internal target failure", "power-cycle the device; if it persists, have it serviced", false),
    row(0x50, None, K::MediumError, "write append error", "the tape file is incomplete: rewrite it on another cartridge", false),
    row(0x51, None, K::MediumError, "erase failure", "retire the cartridge", false),
    row(0x52, None, K::MediumError, "cartridge fault", "retire the cartridge", false),
    row(0x53, Some(0x00), K::LoadEjectFailed, "media load or eject failed", "check the drive for a stuck cartridge", false),
    row(0x53, Some(0x01), K::LoadEjectFailed, "unload tape failure", "check the drive for a stuck cartridge", false),
    row(0x53, Some(0x02), K::RemovalPrevented, "medium removal prevented", "another program holds the drive or library locked: end it or unlock", false),
    row(0x53, Some(0x03), K::RemovalPrevented, "medium removal prevented by the drive", "the drive still holds the cartridge: eject it first (mt offline)", false),
    row(0x53, None, K::LoadEjectFailed, "load or unload failure", "check the device for a stuck cartridge", false),
    row(0x5a, Some(0x01), K::MediumMayHaveChanged, "operator medium removal request", "someone pressed eject: let the job finish or unload", true),
    row(0x5d, None, K::Other, "failure prediction threshold exceeded", "copy the data off this cartridge and retire it, or service the drive", false),
];

/// The table row for `asc`/`ascq`: the exact qualifier first, then the
/// family.
pub fn lookup(asc: u8, ascq: u8) -> Option<&'static Condition> {
    CONDITIONS
        .iter()
        .find(|c| c.asc == asc && c.ascq == Some(ascq))
        .or_else(|| CONDITIONS.iter().find(|c| c.asc == asc && c.ascq.is_none()))
}

/// Decodes sense data in either format. Extra bytes are ignored; a
/// truncated answer decodes as far as it goes when the sense key is
/// present.
pub fn parse_sense(bytes: &[u8]) -> Result<Sense, BadAnswer> {
    let bad = |what: String| BadAnswer::new("sense data", what);
    let Some(&first) = bytes.first() else {
        return Err(bad("empty".into()));
    };
    match first & 0x7f {
        0x70 | 0x71 => {
            if bytes.len() < 3 {
                return Err(bad(format!(
                    "fixed format needs at least 3 bytes for the sense key, got {}",
                    bytes.len()
                )));
            }
            let valid = first & 0x80 != 0;
            let flags = bytes[2];
            // Additional sense length (byte 7) bounds what the device filled in.
            let end = bytes
                .get(7)
                .map_or(bytes.len(), |&n| (8 + usize::from(n)).min(bytes.len()));
            let information = if valid && bytes.len() >= 7 {
                Some(u64::from(u32::from_be_bytes([
                    bytes[3], bytes[4], bytes[5], bytes[6],
                ])))
            } else {
                None
            };
            Ok(Sense {
                format: SenseFormat::Fixed,
                deferred: first & 0x7f == 0x71,
                key: SenseKey::from_code(flags & 0x0f),
                asc: if end > 12 { bytes[12] } else { 0 },
                ascq: if end > 13 { bytes[13] } else { 0 },
                filemark: flags & 0x80 != 0,
                eom: flags & 0x40 != 0,
                ili: flags & 0x20 != 0,
                information,
            })
        }
        0x72 | 0x73 => {
            if bytes.len() < 4 {
                return Err(bad(format!(
                    "descriptor format needs at least 4 bytes, got {}",
                    bytes.len()
                )));
            }
            let mut sense = Sense {
                format: SenseFormat::Descriptor,
                deferred: first & 0x7f == 0x73,
                key: SenseKey::from_code(bytes[1] & 0x0f),
                asc: bytes[2],
                ascq: bytes[3],
                filemark: false,
                eom: false,
                ili: false,
                information: None,
            };
            let end = bytes
                .get(7)
                .map_or(bytes.len(), |&n| (8 + usize::from(n)).min(bytes.len()));
            let mut at = 8;
            while at + 2 <= end {
                let kind = bytes[at];
                let len = usize::from(bytes[at + 1]);
                let body = &bytes[at..(at + 2 + len).min(end)];
                match kind {
                    // Information descriptor: VALID bit in byte 2, value in 4..12.
                    0x00 if body.len() >= 12 && body[2] & 0x80 != 0 => {
                        let mut value = [0u8; 8];
                        value.copy_from_slice(&body[4..12]);
                        sense.information = Some(u64::from_be_bytes(value));
                    }
                    // Stream commands descriptor (SSC): the bits of fixed byte 2.
                    0x04 if body.len() >= 4 => {
                        sense.filemark = body[3] & 0x80 != 0;
                        sense.eom = body[3] & 0x40 != 0;
                        sense.ili = body[3] & 0x20 != 0;
                    }
                    _ => {}
                }
                at += 2 + len;
            }
            Ok(sense)
        }
        code => Err(bad(format!(
            "unknown response code {code:02X}h (expected 70h to 73h)"
        ))),
    }
}

impl Sense {
    /// The class of this condition, taking the key and the stream bits
    /// into account (00/02 is early warning under NO SENSE and the end of
    /// the medium under VOLUME OVERFLOW).
    pub fn kind(&self) -> SenseKind {
        match self.key {
            SenseKey::VolumeOverflow => return K::EndOfMedium,
            SenseKey::BlankCheck => return K::EndOfData,
            SenseKey::DataProtect if self.asc != 0x30 => return K::WriteProtected,
            SenseKey::NoSense | SenseKey::RecoveredError => {
                if self.filemark {
                    return K::Filemark;
                }
                // Early warning: EOM with 00/00 or 00/02; programmable early
                // warning 00/07 (SSC-4 4.2.3). Some drives omit the EOM bit.
                let codes = (self.asc, self.ascq);
                if (self.eom && codes == (0x00, 0x00)) || matches!(codes, (0x00, 0x02 | 0x07)) {
                    return K::EarlyWarning;
                }
                if self.ili {
                    return K::IncorrectLength;
                }
            }
            _ => {}
        }
        match self.condition() {
            Some(c) => c.kind,
            None => match self.key {
                SenseKey::MediumError => K::MediumError,
                SenseKey::HardwareError => K::HardwareError,
                SenseKey::IllegalRequest => K::IllegalRequest,
                SenseKey::NotReady => K::NotReady,
                _ => K::Other,
            },
        }
    }

    /// The INFORMATION field as the signed residue of a read or write
    /// (requested minus actual bytes; negative when the block on tape was
    /// longer than asked for). The fixed format holds 32 bits.
    pub fn residue(&self) -> Option<i64> {
        self.information.map(|v| match self.format {
            SenseFormat::Fixed => i64::from(v as u32 as i32),
            SenseFormat::Descriptor => v as i64,
        })
    }

    /// The table row for this ASC/ASCQ, if hokan knows it.
    pub fn condition(&self) -> Option<&'static Condition> {
        lookup(self.asc, self.ascq)
    }

    /// Worth retrying after a short wait without anyone doing anything.
    pub fn transient(&self) -> bool {
        self.key == SenseKey::UnitAttention || self.condition().is_some_and(|c| c.transient)
    }

    /// One sentence: what the device reported, its codes, what to do.
    pub fn sentence(&self) -> String {
        let codes = format!("{}, ASC/ASCQ {:02X}/{:02X}", self.key, self.asc, self.ascq);
        let deferred = if self.deferred {
            " (deferred: it concerns an earlier command, e.g. buffered data)"
        } else {
            ""
        };
        let nothing = (self.asc, self.ascq) == (0, 0) && !(self.filemark || self.eom || self.ili);
        if nothing && matches!(self.key, SenseKey::NoSense | SenseKey::RecoveredError) {
            let what = if self.key == SenseKey::NoSense {
                "no error reported"
            } else {
                "recovered by the device"
            };
            return format!("{what} ({codes}){deferred}: nothing to do");
        }
        let (what, action): (&str, &str) = match self.kind() {
            K::EarlyWarning => (
                "early warning: the cartridge is nearly full",
                "finish the current tape file and change cartridge",
            ),
            K::EndOfMedium if self.key == SenseKey::VolumeOverflow => (
                "end of medium: the cartridge is full and the data was not written",
                "write it again on the next cartridge",
            ),
            K::EndOfData if self.condition().is_none() => (
                "end of data (blank check)",
                "nothing was written past this point: append here, or stop reading",
            ),
            K::Filemark if self.condition().map(|c| c.kind) != Some(K::Filemark) => {
                ("file mark detected", "none: the tape file ends here")
            }
            K::IncorrectLength => (
                "the block on tape has another length than asked for",
                "read with a buffer as large as the largest block",
            ),
            K::WriteProtected if self.condition().is_none() => (
                "write protected",
                "slide the cartridge's write-protect tab to unlocked, or use another cartridge",
            ),
            _ => match self.condition() {
                Some(c) => (c.what, c.action),
                None => {
                    return format!(
                        "{codes}{deferred}: a condition hokan has no text for; look it up in the \
                         device manual or the T10 ASC list"
                    )
                }
            },
        };
        format!("{what} ({codes}){deferred}: {action}")
    }

    /// The [`TapeError`] for a command that failed with this sense on
    /// `device`, naming `cartridge` where one is concerned.
    pub fn to_tape_error(&self, device: &str, cartridge: &str) -> TapeError {
        let device = device.to_string();
        match self.kind() {
            K::MediumNotPresent => TapeError::NotLoaded { device },
            K::WriteProtected => TapeError::WriteProtected {
                device,
                cartridge: cartridge.to_string(),
            },
            K::EndOfMedium if self.key == SenseKey::VolumeOverflow => TapeError::EndOfMedium {
                device,
                cartridge: cartridge.to_string(),
            },
            K::DestinationFull | K::SourceEmpty | K::ElementNotAccessible | K::RemovalPrevented => {
                TapeError::Move {
                    device,
                    what: self.sentence(),
                }
            }
            _ => TapeError::Device {
                device,
                what: self.sentence(),
            },
        }
    }
}

impl fmt::Display for Sense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence())
    }
}

/// Parses hex bytes written as pairs separated by spaces or newlines
/// (`70 00 08 …`), as kernel logs and `sg_decode_sense` print them. Lines
/// starting with `#` are comments.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, BadAnswer> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            let byte = u8::from_str_radix(word, 16)
                .map_err(|_| BadAnswer::new("hex dump", format!("{word:?} is not a hex byte")))?;
            out.push(byte);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(key: u8, flags: u8, asc: u8, ascq: u8) -> Vec<u8> {
        let mut b = vec![0u8; 18];
        b[0] = 0x70;
        b[2] = flags | key;
        b[7] = 10;
        b[12] = asc;
        b[13] = ascq;
        b
    }

    #[test]
    fn fixed_format_fields() {
        let mut b = fixed(0x0, 0x40, 0x00, 0x02);
        b[0] = 0xf0; // VALID
        b[3..7].copy_from_slice(&[0, 0, 0x10, 0]);
        let s = parse_sense(&b).unwrap();
        assert_eq!(s.format, SenseFormat::Fixed);
        assert!(!s.deferred);
        assert_eq!(s.key, SenseKey::NoSense);
        assert!(s.eom && !s.filemark && !s.ili);
        assert_eq!(s.information, Some(0x1000));
        assert_eq!(s.kind(), SenseKind::EarlyWarning);
    }

    #[test]
    fn information_ignored_without_valid_bit() {
        let mut b = fixed(0x3, 0, 0x11, 0);
        b[3..7].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(parse_sense(&b).unwrap().information, None);
    }

    #[test]
    fn short_additional_length_hides_asc() {
        let mut b = fixed(0x2, 0, 0x3a, 0);
        b[7] = 4; // device filled bytes 8..12 only
        let s = parse_sense(&b).unwrap();
        assert_eq!((s.asc, s.ascq), (0, 0));
    }

    #[test]
    fn descriptor_format_with_stream_and_information() {
        let b = [
            0x72, 0x08, 0x00, 0x05, 0, 0, 0, 0x14, // header: BLANK CHECK 00/05, 20 more bytes
            0x00, 0x0a, 0x80, 0x00, 0, 0, 0, 0, 0, 0x04, 0x00, 0x00, // information = 0x40000
            0x04, 0x02, 0x00, 0x40, // stream: EOM
            0xff, 0xff, // past the additional length: ignored
        ];
        let s = parse_sense(&b).unwrap();
        assert_eq!(s.format, SenseFormat::Descriptor);
        assert_eq!(s.key, SenseKey::BlankCheck);
        assert_eq!(s.information, Some(0x40000));
        assert!(s.eom && !s.filemark);
        assert_eq!(s.kind(), SenseKind::EndOfData);
    }

    #[test]
    fn deferred_codes() {
        let mut b = fixed(0x3, 0, 0x0c, 0);
        b[0] = 0x71;
        assert!(parse_sense(&b).unwrap().deferred);
        let d = [0x73, 0x03, 0x0c, 0x00, 0, 0, 0, 0];
        assert!(parse_sense(&d).unwrap().deferred);
    }

    #[test]
    fn refuses_garbage() {
        assert!(parse_sense(&[]).is_err());
        assert!(parse_sense(&[0x70, 0]).is_err());
        let err = parse_sense(&[0x12, 0, 0, 0]).unwrap_err();
        assert!(err.to_string().contains("12h"), "{err}");
    }

    #[test]
    fn early_warning_versus_end_of_medium() {
        let ew = parse_sense(&fixed(0x0, 0x40, 0, 2)).unwrap();
        let eom = parse_sense(&fixed(0xd, 0x40, 0, 2)).unwrap();
        assert_eq!(ew.kind(), SenseKind::EarlyWarning);
        assert_eq!(eom.kind(), SenseKind::EndOfMedium);
        assert!(
            ew.sentence().starts_with("early warning"),
            "{}",
            ew.sentence()
        );
        assert!(eom.sentence().contains("not written"), "{}", eom.sentence());
        assert!(matches!(
            eom.to_tape_error("/dev/nst0", "HKN001L9"),
            TapeError::EndOfMedium { .. }
        ));
    }

    #[test]
    fn filemark_and_ili() {
        let fm = parse_sense(&fixed(0x0, 0x80, 0, 1)).unwrap();
        assert_eq!(fm.kind(), SenseKind::Filemark);
        let ili = parse_sense(&fixed(0x0, 0x20, 0, 0)).unwrap();
        assert_eq!(ili.kind(), SenseKind::IncorrectLength);
        assert!(ili.sentence().contains("another length"));
    }

    #[test]
    fn table_rows_render_with_codes_and_action() {
        let s = parse_sense(&fixed(0x2, 0, 0x3a, 0x00)).unwrap();
        assert_eq!(
            s.sentence(),
            "medium not present (NOT READY, ASC/ASCQ 3A/00): load a cartridge, or check the \
             changer's inventory"
        );
        assert!(matches!(
            s.to_tape_error("/dev/nst0", "x"),
            TapeError::NotLoaded { .. }
        ));
        let wp = parse_sense(&fixed(0x7, 0, 0x27, 0x00)).unwrap();
        assert_eq!(wp.kind(), SenseKind::WriteProtected);
        assert_eq!(
            wp.to_tape_error("/dev/nst0", "HKN002L9").to_string(),
            "/dev/nst0: cartridge HKN002L9 is write protected"
        );
    }

    #[test]
    fn family_rows_and_exact_rows() {
        assert_eq!(
            lookup(0x30, 0x03).unwrap().kind,
            SenseKind::CleaningCartridge
        );
        assert_eq!(
            lookup(0x30, 0x01).unwrap().kind,
            SenseKind::IncompatibleMedium
        );
        assert_eq!(
            lookup(0x53, 0x02).unwrap().kind,
            SenseKind::RemovalPrevented
        );
        assert_eq!(lookup(0x53, 0x00).unwrap().kind, SenseKind::LoadEjectFailed);
        assert_eq!(lookup(0x04, 0x01).unwrap().kind, SenseKind::BecomingReady);
        assert!(lookup(0x04, 0x01).unwrap().transient);
        assert!(lookup(0x99, 0x00).is_none());
    }

    #[test]
    fn no_sense_is_nothing_to_do() {
        let s = parse_sense(&fixed(0x0, 0, 0, 0)).unwrap();
        assert_eq!(
            s.sentence(),
            "no error reported (NO SENSE, ASC/ASCQ 00/00): nothing to do"
        );
    }

    #[test]
    fn unknown_condition_still_names_codes() {
        let s = parse_sense(&fixed(0x9, 0, 0x82, 0x82)).unwrap();
        let text = s.sentence();
        assert!(text.contains("VENDOR SPECIFIC, ASC/ASCQ 82/82"), "{text}");
        assert_eq!(s.kind(), SenseKind::Other);
    }

    #[test]
    fn changer_move_conditions_become_move_errors() {
        let s = parse_sense(&fixed(0x5, 0, 0x3b, 0x0e)).unwrap();
        assert_eq!(s.kind(), SenseKind::SourceEmpty);
        match s.to_tape_error("/dev/sg3", "-") {
            TapeError::Move { what, .. } => assert!(what.contains("source element empty")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_table_row_is_reachable() {
        // A row shadowed by an earlier row with the same codes would never
        // be found.
        for c in CONDITIONS {
            if let Some(q) = c.ascq {
                assert_eq!(lookup(c.asc, q), Some(c), "{:02X}/{:02X}", c.asc, q);
            }
        }
    }

    #[test]
    fn key_names_round_trip() {
        for code in 0..16u8 {
            let key = SenseKey::from_code(code);
            assert_eq!(key.code(), code);
            if !matches!(key, SenseKey::Other(_)) {
                assert_eq!(SenseKey::from_name(&key.to_string()), Some(key));
            }
        }
        assert_eq!(SenseKey::from_name("Not Ready"), Some(SenseKey::NotReady));
    }

    #[test]
    fn hex_dumps() {
        assert_eq!(
            parse_hex("# c\n70 00\n 0a FF\n").unwrap(),
            vec![0x70, 0, 0x0a, 0xff]
        );
        assert!(parse_hex("70 zz").is_err());
    }
}
