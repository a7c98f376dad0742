//! The item numbers (項番) of the offline definitions.
//!
//! Users and inspectors quote these numbers, so they are one enum, printed and
//! serialised exactly as in the definitions (`①-1-1`), never translated or
//! re-numbered. The variant names say in words what each item is, so code that
//! matches on them reads without the table at hand.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One pattern (項番) of 「各媒体におけるオフライン状態の定義」.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Koban {
    /// ①-1-1: LTO tape, single drive; the cartridge is ejected from the drive.
    LtoEjected,
    /// ①-2-1: LTO tape, library or autoloader; the cartridge is in a library
    /// slot, not in any drive.
    LtoInLibrarySlot,
    /// ①-2-2: LTO tape, library or autoloader; the cartridge is exported out
    /// of the library itself.
    LtoExported,
    /// ②-1-1: RDX cartridge (or, per the definitions' note, an external disk
    /// or NAS rotated by hand), single drive; ejected from the drive.
    RdxEjected,
    /// ②-2-1: RDX autoloader; the cartridge is in an inactive slot the backup
    /// server's OS cannot read or write, AND the backup server's network is
    /// segmented from the EMR network.
    RdxInactiveSlotSegmented,
    /// ②-2-2: RDX autoloader; the cartridge is ejected from the autoloader.
    RdxExported,
    /// ③-1: cloud storage whose data cannot be deleted or overwritten for a
    /// set period or indefinitely (object lock, or provider isolation).
    CloudImmutable,
    /// ④-1: another device that makes data undeletable by a product feature
    /// (immutable file system, tamper-proof snapshots).
    ImmutableDevice,
    /// ⑤-1: a device under access control that nobody outside can write to
    /// (a vault that pulls, behind a firewall that blocks everything inbound).
    AccessControlled,
}

impl Koban {
    /// Every item, in the order of the definitions.
    pub const ALL: [Koban; 9] = [
        Koban::LtoEjected,
        Koban::LtoInLibrarySlot,
        Koban::LtoExported,
        Koban::RdxEjected,
        Koban::RdxInactiveSlotSegmented,
        Koban::RdxExported,
        Koban::CloudImmutable,
        Koban::ImmutableDevice,
        Koban::AccessControlled,
    ];

    /// The item number exactly as printed in the definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            Koban::LtoEjected => "①-1-1",
            Koban::LtoInLibrarySlot => "①-2-1",
            Koban::LtoExported => "①-2-2",
            Koban::RdxEjected => "②-1-1",
            Koban::RdxInactiveSlotSegmented => "②-2-1",
            Koban::RdxExported => "②-2-2",
            Koban::CloudImmutable => "③-1",
            Koban::ImmutableDevice => "④-1",
            Koban::AccessControlled => "⑤-1",
        }
    }
}

impl fmt::Display for Koban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the item numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an item number (項番) of the offline definitions; expected one of ①-1-1, ①-2-1, ①-2-2, ②-1-1, ②-2-1, ②-2-2, ③-1, ④-1, ⑤-1")]
pub struct UnknownKoban(pub String);

impl FromStr for Koban {
    type Err = UnknownKoban;

    fn from_str(s: &str) -> Result<Koban, UnknownKoban> {
        Koban::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| UnknownKoban(s.to_owned()))
    }
}

impl Serialize for Koban {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Koban {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Koban, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_exactly_as_in_the_definitions() {
        let printed: Vec<String> = Koban::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(
            printed,
            [
                "①-1-1", "①-2-1", "①-2-2", "②-1-1", "②-2-1", "②-2-2", "③-1", "④-1", "⑤-1"
            ]
        );
    }

    #[test]
    fn parses_what_it_prints() {
        for k in Koban::ALL {
            assert_eq!(k.as_str().parse::<Koban>(), Ok(k));
        }
        assert!("1-1-1".parse::<Koban>().is_err());
    }
}
