//! Object names: the rules every hokan store shares
//! ([`hokan_repo::store::check_name`]).

pub(crate) use hokan_repo::store::{check_name, invalid_name};
#[cfg(test)]
use hokan_repo::store::{ObjectKind, MAX_NAME_LEN};

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
