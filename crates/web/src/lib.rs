//! hokan's web dashboard (`hokan web`), for the people who look after the
//! backups: is everything offline that must be, and what must I do today.
//!
//! - [`accounts`]: names, roles and Argon2id password hashes, with lockout
//!   after failed logins (`hokan web user add|passwd|remove|list`).
//! - [`server`]: HTTPS (rustls), sessions with `Secure; HttpOnly;
//!   SameSite=Strict` cookies, a CSRF token on every form, login limits per
//!   address, each route's least role ([`server::ROUTES`]).
//! - [`pages`]: 朝の確認 / This morning (the site judged as `hokan status`
//!   judges it, each problem with what to do, and for operators a form to
//!   record a medium's move), the event log with its hash chain's check.
//!
//! Not yet: the media, generations, jobs, drills and configuration pages,
//! attestations and runs from the dashboard, TOTP, login events in the
//! catalog's log, browser tests.

#![deny(missing_docs)]

pub mod accounts;
pub mod pages;
pub mod server;

pub use accounts::{Account, AccountError, Accounts, Refused, Role};

/// The accounts file's name in the site's state folder (beside the
/// catalog).
pub const ACCOUNTS_FILE: &str = "web-accounts.sqlite";
