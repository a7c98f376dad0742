//! Identifiers as newtypes.
//!
//! Every id here is a plain string as the catalog and the devices spell it (a
//! tape barcode, a bucket name, a snapshot id in hex). They are separate types
//! so that a medium id can never be passed where a device id is meant: the
//! evaluator matches attestations to autoloaders and copies to media by these,
//! and a mix-up would silently make a copy count.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wrap a string as this id.
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }

            /// The id as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }
    };
}

string_id!(
    /// A snapshot (one generation, 世代) as the repository names it.
    SnapshotId
);
string_id!(
    /// A backup source (バックアップ対象) by its configured name.
    SourceName
);
string_id!(
    /// A medium: tape or RDX barcode/label, disk label, bucket, vault name.
    MediumId
);
string_id!(
    /// A media pool (ローテーション) by its configured name.
    PoolName
);
string_id!(
    /// A device that holds media: a drive, a tape library, an RDX autoloader.
    /// Attestations of network segmentation name autoloaders by this id.
    DeviceId
);
string_id!(
    /// An attestation as the catalog numbers it, so problems can name it.
    AttestationId
);
string_id!(
    /// A person who recorded a move or attested a fact, as they signed it.
    Person
);
