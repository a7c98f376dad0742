//! # hokan vault: a pull-only, write-once copy server (項番 ⑤-1 and ④-1)
//!
//! The primary runs a read-only export ([`export`], `hokan serve`): it lists
//! the repository's generations, serves each one's copy plan and objects,
//! and accepts nothing but signed receipts into a small append-only inbox.
//! The vault, on a separate machine that listens on no port, pulls
//! ([`pull`]): it checks every object against its BLAKE3 name as it
//! arrives, never replaces one, makes each immutable on disk
//! ([`immutable`]), and records each generation with its retention in a
//! hash-chained ledger ([`ledger`]) kept by a compliance clock that never
//! goes back ([`clock`]). Only the vault's own retention ever removes a
//! generation ([`expire`]). After each pull it signs a [`receipt`] and posts
//! it to the primary, whose catalog counts the vault's copies only while
//! such a receipt is fresh. Its [`firewall`] drops every inbound
//! connection, and the receipt says whether the live ruleset is still that
//! one.
//!
//! The wire format and the folder layout are specified in `docs/vault.md`.

#![warn(missing_docs)]

pub mod clock;
pub mod config;
pub mod firewall;
pub mod folder;
pub mod immutable;
pub mod ledger;
pub mod pull;
pub mod receipt;
pub mod wire;

/// What stops a vault command.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The ledger.
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// The configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The vault's folder (disk, permissions, the lock).
    #[error("vault folder: {0}")]
    Folder(String),
    /// Setting up (certificate, key, token).
    #[error("{0}")]
    Setup(String),
    /// A receipt.
    #[error(transparent)]
    Receipt(#[from] receipt::ReceiptError),
}
pub mod expire;
pub mod export;
pub mod ops;
