//! hokan's web dashboard (`hokan web`), for the people who look after the
//! backups: is everything offline that must be, and what must I do today.
//!
//! This first part holds the local accounts ([`accounts`]): names, roles
//! and Argon2id password hashes, with lockout after failed logins, managed
//! by `hokan web user add|passwd|remove|list`. The pages and the HTTPS
//! server come next and build on them.

#![deny(missing_docs)]

pub mod accounts;

pub use accounts::{Account, AccountError, Accounts, Refused, Role};

/// The accounts file's name in the site's state folder (beside the
/// catalog).
pub const ACCOUNTS_FILE: &str = "web-accounts.sqlite";
