//! hokan's web dashboard (`hokan web`), for the people who look after the
//! backups: is everything offline that must be, and what must I do today.
//!
//! - [`accounts`]: names, roles and Argon2id password hashes, with lockout
//!   after failed logins, and an optional second factor (TOTP)
//!   (`hokan web user add|passwd|totp|remove|list`).
//! - [`server`]: HTTPS (rustls), sessions with `Secure; HttpOnly;
//!   SameSite=Strict` cookies, a CSRF token on every form, login limits per
//!   address, each route's least role ([`server::ROUTES`]); every login,
//!   refused login, logout and refused action recorded in the catalog's
//!   hash-chained log (`web-access` events).
//! - [`pages`]: 朝の確認 / This morning (the site judged as `hokan status`
//!   judges it, each problem with what to do, and for operators a form to
//!   record a medium's move), the event log with its hash chain's check.
//! - `media`: 媒体 / Media, every medium where the catalog last saw it, with
//!   a picture of each tape library's and RDX autoloader's slots and drives.
//! - `generations`: 世代 / Generations, per source a matrix of generations
//!   × media, each cell a copy's verdict (its 項番, or online, unknown,
//!   excluded).
//! - `reports`: 報告書 / Reports, the inspection report and the rulebook
//!   annex to download (HTML or Markdown, ja or en), made as `hokan report`
//!   and `hokan annex` make them.
//! - `drills`: 復旧訓練 / Drills, the restore drills recorded, newest first.
//! - `receipts`: 受領証 / Vault receipts, the vaults' signed receipts
//!   recorded, newest first.
//! - `config`: 設定 / Configuration (admins only), hokan.toml as `hokan
//!   config check` describes it (secret files named, never read).
//!
//! - `jobs`: ジョブ / Jobs, each recorded night with its steps (outcome,
//!   time, bytes, the log of a failed one), the night or drill running now
//!   (the page reloads itself), tonight's plan, and for operators "run
//!   tonight's job now" and "run a restore drill now".
//!
//! - `attest`: 証明 / Attestations, whether each holds now; operators
//!   record one (signed with their name) or withdraw one.
//! - `alerts`: on the morning page, the alerts of the last two weeks (the
//!   notifications hokan raised) until an operator acknowledges them, with
//!   their name and what they did (`alert-acknowledged` events).

#![deny(missing_docs)]

pub mod accounts;
mod alerts;
mod attest;
mod config;
mod drills;
mod generations;
mod jobs;
mod media;
pub mod pages;
mod receipts;
mod reports;
pub mod server;

pub use accounts::{Account, AccountError, Accounts, Refused, Role};

/// The accounts file's name in the site's state folder (beside the
/// catalog).
pub const ACCOUNTS_FILE: &str = "web-accounts.sqlite";
