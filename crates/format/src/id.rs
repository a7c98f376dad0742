//! 32-byte identifiers of blobs and objects, printed as 64 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::FormatError;

/// A 32-byte identifier: a blob id (keyed BLAKE3 of the plaintext) or an
/// object name (BLAKE3 of the stored bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id(pub [u8; 32]);

impl Id {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// Lowercase hex, as used in object names and JSON.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 8 hex digits, for display.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }

    /// Parse 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Id, FormatError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|e| FormatError::Invalid {
            what: "id",
            field: "hex",
            detail: format!("{s:?}: {e}"),
        })?;
        Ok(Id(out))
    }

    /// Read from a 32-byte slice (panics on other lengths; callers check).
    pub fn from_slice(b: &[u8]) -> Id {
        let mut out = [0u8; 32];
        out.copy_from_slice(b);
        Id(out)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.short())
    }
}

impl FromStr for Id {
    type Err = FormatError;
    fn from_str(s: &str) -> Result<Id, FormatError> {
        Id::from_hex(s)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Id::from_hex(&s).map_err(serde::de::Error::custom)
    }
}
