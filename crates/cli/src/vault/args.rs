//! Command-line arguments of `hokan vault` (run on the vault machine) and
//! `hokan serve` (run on the primary).

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `hokan vault …`: the folder and the command.
#[derive(Args, Debug)]
pub struct VaultArgs {
    /// The vault's folder (or env HOKAN_VAULT).
    #[arg(long, env = "HOKAN_VAULT", default_value = "/var/lib/hokan-vault")]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub action: VaultCmd,
}

/// `hokan vault`.
#[derive(Subcommand, Debug)]
pub enum VaultCmd {
    /// Set up a vault folder: configuration, signing key, access token and
    /// the primary's pinned certificate. Prints the `[[vault]]` table to add
    /// to the primary's hokan.toml.
    Init {
        /// The vault's name (as the primary's `[[vault]] name` will say).
        #[arg(long)]
        name: String,
        /// The primary's export, `https://host:port` (`hokan serve`).
        #[arg(long)]
        primary: String,
        /// The primary's certificate (PEM; `hokan serve --init` made it).
        /// The vault trusts no other.
        #[arg(long)]
        primary_cert: PathBuf,
        /// Days each generation is kept, whatever anybody asks.
        #[arg(long, default_value_t = 90)]
        keep_days: u32,
        /// Most bytes the vault's objects may take (default: no limit but
        /// the 1 GiB free-space reserve).
        #[arg(long)]
        max_bytes: Option<u64>,
        /// An NTP server the firewall lets the vault reach (IP address; repeat).
        #[arg(long)]
        ntp: Vec<String>,
        /// A DNS server the firewall lets the vault reach (IP address; repeat).
        #[arg(long)]
        dns: Vec<String>,
        /// A notification target the firewall lets the vault reach (ip:port; repeat).
        #[arg(long)]
        notify: Vec<String>,
    },
    /// Pull the generations the vault does not hold yet, apply retention,
    /// sign a receipt and post it to the primary. Exit 14 when the primary
    /// served something the vault refused (the vault kept what it had).
    Pull,
    /// Pull on schedule (vault.toml `pull_every_minutes`, default 60) until
    /// stopped (SIGTERM).
    Daemon,
    /// What the vault holds, until when, and in what state: clock, immutable
    /// flags, firewall, findings. Exit 9 when the vault is weakened, 14
    /// when findings wait for acknowledgement.
    Status,
    /// Restore a generation from the vault's own copy (needs the
    /// repository's passphrase or paper key; the vault itself never does).
    Restore {
        /// The snapshot (id prefix or `latest`).
        snapshot: String,
        /// Where to restore.
        #[arg(long)]
        target: PathBuf,
        /// Only these paths (repeat).
        #[arg(long)]
        include: Vec<String>,
        /// Only generations of this source (with `latest`).
        #[arg(long)]
        source: Option<String>,
        /// With `latest`: skip damaged snapshots, saying which.
        #[arg(long)]
        latest_undamaged: bool,
    },
    /// A restore drill from the vault's own copy alone: per source the
    /// newest generation the vault holds (or --snapshot), restored into a
    /// scratch folder, every file checked, vault.toml's `[[drill]]` check
    /// run; recorded in the ledger and sent to the primary in a signed
    /// receipt. Needs the repository's passphrase. Exit 1 when a drill
    /// failed.
    Drill {
        /// This generation (a snapshot id or prefix) instead of the newest.
        #[arg(long)]
        snapshot: Option<String>,
        /// Only this source.
        #[arg(long)]
        source: Option<String>,
        /// The scratch folder (default: a new folder under the temporary
        /// folder); it must be empty or missing.
        #[arg(long)]
        target: Option<PathBuf>,
        /// Keep the restored files.
        #[arg(long)]
        keep: bool,
        /// Who runs the drill (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Apply the vault's retention now (a pull does it too).
    Expire,
    /// Print the nftables ruleset for this vault; with --apply, load it and
    /// check it.
    Firewall {
        /// Load the ruleset (needs root and nft).
        #[arg(long)]
        apply: bool,
    },
    /// Compare the live nftables ruleset with the one hokan writes and say
    /// what differs. Exit 9 when it differs, 1 when it cannot be checked.
    Check,
    /// The compliance clock; after a freeze, accept the wall clock (at the
    /// vault's console, once the time is known to be right).
    Clock {
        /// Accept the wall clock now.
        #[arg(long)]
        accept: bool,
        /// Who accepts (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// The findings not yet acknowledged; with --ack, acknowledge them all.
    Findings {
        /// Acknowledge every finding listed.
        #[arg(long)]
        ack: bool,
        /// Who acknowledges (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
}

/// `hokan serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Make the export's TLS certificate and key (self-signed) and stop.
    #[arg(long)]
    pub init: bool,
    /// A host name or IP address the vault uses to reach this machine
    /// (with --init; repeat). Default: this machine's host name.
    #[arg(long)]
    pub name: Vec<String>,
    /// Listen on this address instead of `[serve] listen`.
    #[arg(long)]
    pub listen: Option<String>,
}
