//! Command-line arguments of `hokan disk`.

use std::path::PathBuf;

use clap::Subcommand;

/// `hokan disk`.
#[derive(Subcommand, Debug)]
pub enum DiskCmd {
    /// Prepare the inserted cartridge for a pool: label file and an empty
    /// repository (refused while a retention runs, or on a disk with other data).
    Format {
        /// The pool (a `[[disk_pool]]` of hokan.toml).
        #[arg(long)]
        pool: String,
        /// The cartridge's id, as printed on it (`RDX-TUE`).
        medium: String,
        /// Erase a disk that holds files hokan did not write.
        #[arg(long)]
        force: bool,
        /// Re-use a cartridge that already carries hokan id CURRENT (its
        /// label, or the catalog by filesystem UUID) under the new id; only
        /// once CURRENT's copies are past retention. CURRENT is retired.
        #[arg(long, value_name = "CURRENT")]
        relabel: Option<String>,
    },
    /// What the device holds, the pool's cartridges, which one is due, and
    /// whether each counts as offline (and if not, why).
    Status {
        /// The pool.
        #[arg(long)]
        pool: String,
    },
    /// Copy snapshots to the inserted cartridge's repository, then unmount
    /// and eject it as the pool says.
    Backup {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Snapshots to copy (default: the newest of each source).
        snapshots: Vec<String>,
        /// Read back every object written and compare.
        #[arg(long)]
        verify: bool,
    },
    /// Unmount and eject the pool's cartridge now (as after a job).
    Eject {
        /// The pool.
        #[arg(long)]
        pool: String,
    },
    /// Restore a snapshot from the inserted cartridge alone.
    Restore {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// The snapshot (id prefix or `latest`).
        snapshot: String,
        /// Where to restore.
        #[arg(long)]
        target: PathBuf,
        /// With `latest`: if a snapshot manifest is damaged (so the newest
        /// cannot be known), take the newest undamaged snapshot and say which
        /// damaged ones were skipped. Without it, such a restore stops (exit 4).
        #[arg(long)]
        latest_undamaged: bool,
        /// Replace files that already exist in the target.
        #[arg(long)]
        overwrite: bool,
        /// Restore from this cartridge (default: the one that holds the
        /// snapshot, per the catalog, or what the inserted cartridges hold).
        #[arg(long, value_name = "NAME")]
        cartridge: Option<String>,
    },
    /// Play the person with a SIMULATED device (`virtual_device`).
    #[command(subcommand)]
    Sim(SimCmd),
}

/// `hokan disk sim`.
#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// Create the simulated drive or autoloader of a pool.
    Create {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Autoloader slots (rdx-autoloader pools; default 4), 1 to 64.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
        slots: Option<u32>,
    },
    /// Insert a cartridge (a new, blank one the first time).
    Insert {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// The cartridge.
        medium: String,
        /// The autoloader slot (default: the first free one).
        #[arg(long)]
        slot: Option<u32>,
    },
    /// Take a cartridge out of an autoloader's inactive slot.
    TakeOut {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// The cartridge.
        medium: String,
    },
    /// Pull a cartridge out whatever the host is doing with it.
    Pull {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// The cartridge.
        medium: String,
    },
    /// Pull the mounted cartridge out once a job has written BYTES more.
    PullAfter {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Bytes.
        bytes: u64,
    },
    /// Make the next eject fail (a jammed drive, a busy disk).
    FailEject {
        /// The pool.
        #[arg(long)]
        pool: String,
    },
}
