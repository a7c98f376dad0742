//! The kinds of offline medium restore drills are counted by (`hokan
//! drill --kind`): the status's `drill-overdue`, the drills themselves, and
//! the report's and annex's drill tables all sort media this way.

use serde::Serialize;

use crate::facts::MediumKind;

/// The kinds of offline medium a drill is due on, each on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediumClass {
    /// LTO tape (a library or a single drive).
    Tape,
    /// Removable disks (RDX, a USB disk).
    Disk,
    /// An S3 bucket (object lock).
    S3,
    /// A pull-only vault.
    Vault,
}

impl MediumClass {
    /// Every class, in the order drills run.
    pub const ALL: [MediumClass; 4] = [
        MediumClass::Tape,
        MediumClass::Disk,
        MediumClass::S3,
        MediumClass::Vault,
    ];

    /// The class of a medium's kind; `None` for the primary disk.
    pub fn of(kind: MediumKind) -> Option<MediumClass> {
        match kind {
            MediumKind::LtoSingleDrive | MediumKind::LtoLibrary => Some(MediumClass::Tape),
            MediumKind::RdxSingleDrive | MediumKind::RdxAutoloader | MediumKind::RemovableDisk => {
                Some(MediumClass::Disk)
            }
            MediumKind::ObjectStore | MediumKind::ImmutableStorage => Some(MediumClass::S3),
            MediumKind::PullVault => Some(MediumClass::Vault),
            MediumKind::PrimaryDisk => None,
        }
    }

    /// Its name: `tape`, `disk`, `s3`, `vault`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediumClass::Tape => "tape",
            MediumClass::Disk => "disk",
            MediumClass::S3 => "s3",
            MediumClass::Vault => "vault",
        }
    }

    /// The class named `s`.
    pub fn parse(s: &str) -> Option<MediumClass> {
        MediumClass::ALL.into_iter().find(|c| c.as_str() == s)
    }
}
