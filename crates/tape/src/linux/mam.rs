//! Cartridge memory (MAM): the attributes an LTO cartridge carries in its
//! chip, as the answer to READ ATTRIBUTE (SPC-4 §6.17, service action 00h
//! ATTRIBUTE VALUES; attribute identifiers of SPC-4 §7.4).
//!
//! Only the answer is decoded here; sending READ ATTRIBUTE needs SCSI
//! pass-through (SG_IO), which hokan does not do yet. So [`super::StDrive`]
//! leaves [`DriveStatus::cartridge_id`] and [`DriveStatus::capacity`] empty;
//! [`MediumInfo::apply`] fills them once an answer is at hand.
//!
//! Answer layout: a 4-byte AVAILABLE DATA length, then attributes, each a
//! 2-byte identifier, a byte with READ ONLY (bit 7) and FORMAT (bits 1-0:
//! binary, ASCII, text), a 2-byte length and the value. ASCII values are
//! left-aligned and padded with spaces.

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
