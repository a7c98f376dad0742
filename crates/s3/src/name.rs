//! Object names: the same rules as every other hokan store.
//!
//! `hokan-store` keeps these rules crate-private, so they are repeated here;
//! the conformance suite (run against this store on moto in
//! `tests/conformance.rs`) checks both agree on the names that matter. A
//! repository can then move between a directory, a removable disk and a
//! bucket without a name becoming invalid or two names becoming one.

use std::io;

use hokan_repo::store::{ObjectKind, StoreError};

/// The longest object name any store accepts.
pub(crate) const MAX_NAME_LEN: usize = 200;

/// Why `name` is not a valid object name of `kind`, or `Ok` if it is.
pub(crate) fn check_name(kind: ObjectKind, name: &str) -> Result<(), &'static str> {
    if kind == ObjectKind::Config {
        return if name == "config" {
            Ok(())
        } else {
            Err("the config object is always named \"config\"")
        };
    }
    if name.is_empty() {
        return Err("object names cannot be empty");
    }
    if name.len() > MAX_NAME_LEN {
        return Err("object name is longer than 200 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("object names may only hold lowercase ASCII letters, digits, '-', '_' and '.'");
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return Err("object names must start with a letter or digit");
    }
    if name.ends_with(".tmp") {
        return Err("object names cannot end in \".tmp\" (reserved for in-flight writes)");
    }
    if kind == ObjectKind::Pack && name.len() < 2 {
        return Err("pack names need at least two characters");
    }
    Ok(())
}

/// The error for an invalid object name (refused before any request).
pub(crate) fn invalid_name(
    op: &'static str,
    kind: ObjectKind,
    name: &str,
    store: String,
    why: &'static str,
) -> StoreError {
    StoreError::Io {
        op,
        kind,
        name: name.to_string(),
        store,
        source: io::Error::new(io::ErrorKind::InvalidInput, why),
        transient: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        use ObjectKind::*;
        assert_eq!(check_name(Pack, "ab"), Ok(()));
        assert_eq!(check_name(Lock, "host-1234_x.lock"), Ok(()));
        assert_eq!(check_name(Config, "config"), Ok(()));
        for bad in ["", "..", "../x", "a/b", "x.tmp", "-x", "Ab", "日本", "a b"] {
            assert!(check_name(Key, bad).is_err(), "{bad:?} must be refused");
        }
        assert!(check_name(Config, "other").is_err());
        assert!(check_name(Pack, "a").is_err());
        assert!(check_name(Key, &"a".repeat(MAX_NAME_LEN + 1)).is_err());
    }
}
