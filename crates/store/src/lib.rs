//! hokan stores: where repository objects live.
//!
//! **Owns** the implementations of [`hokan_repo::store::Store`]:
//! - [`LocalStore`]: a repository in a local directory (also the base of
//!   removable disks later);
//! - [`MemStore`]: the same contract in memory, for fast engine tests;
//! - [`FaultStore`]: a test double that wraps any store and fails like a
//!   filling disk or a bad sector, so the engine's error paths get exercised;
//! - [`conformance`]: the suite every store must pass, so "keeps the contract"
//!   is something a test proves rather than something a doc claims.
//!
//! **Leaves to others**: what objects contain and when they are written or
//! deleted (`hokan-repo`), what a person sees (the `hokan` binary).
//!
//! # Object names
//! Every store here accepts the same names, so a repository can be copied
//! from one kind of store to another (a local directory to an exFAT disk to
//! S3) without a name becoming invalid or two names becoming one:
//! - 1 to 200 bytes of lowercase ASCII letters, digits, `-`, `_` and `.`,
//!   starting with a letter or digit; lowercase only because removable disks
//!   are often case-insensitive (exFAT), where `Ab` and `ab` are one file;
//! - not ending in `.tmp` (that suffix marks in-flight writes, never objects);
//! - the config object is always named `config`;
//! - pack names have at least two characters (the first two choose the
//!   sub-folder).
//!
//! Anything else is refused with [`StoreError::Io`](hokan_repo::store::StoreError::Io) of kind
//! [`std::io::ErrorKind::InvalidInput`] before the store is touched, which
//! also makes path tricks like `../config` impossible.
#![deny(missing_docs)]

pub mod conformance;
pub mod fault;
pub mod local;
pub mod mem;
mod sys;

pub use fault::{FaultStats, FaultStore};
pub use local::{CleanTempStats, LocalStore};
pub use mem::MemStore;

pub use hokan_repo::store::MAX_NAME_LEN;
pub(crate) use hokan_repo::store::{check_name, invalid_name};

#[cfg(test)]
mod tests {
    use super::*;
    use hokan_repo::store::ObjectKind;

    #[test]
    fn names() {
        use ObjectKind::*;
        for ok in ["ab", "0123abcdef", "host-1234_x.lock", "a"] {
            let kind = if ok.len() >= 2 { Pack } else { Lock };
            assert_eq!(check_name(kind, ok), Ok(()), "{ok}");
        }
        assert_eq!(check_name(Config, "config"), Ok(()));
        for bad in [
            "", ".", "..", "../x", "a/b", "x.tmp", ".hidden", "-x", "a\0b", "Ab", "日本", "a b",
        ] {
            assert!(check_name(Key, bad).is_err(), "{bad:?} must be refused");
        }
        assert!(check_name(Config, "other").is_err());
        assert!(check_name(Pack, "a").is_err());
        assert!(check_name(Key, &"a".repeat(MAX_NAME_LEN)).is_ok());
        assert!(check_name(Key, &"a".repeat(MAX_NAME_LEN + 1)).is_err());
    }
}
