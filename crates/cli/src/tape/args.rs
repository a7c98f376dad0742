//! Command-line arguments of `hokan tape`.

use std::path::PathBuf;

use clap::Subcommand;

/// `hokan tape`.
#[derive(Subcommand, Debug)]
pub enum TapeCmd {
    /// Erase a cartridge and label it for a pool (refused while its retention runs).
    Label {
        /// The pool (a `[[tape_pool]]` of hokan.toml).
        #[arg(long)]
        pool: String,
        /// The cartridge: its barcode in a library; for a single drive, the
        /// id to write on the one inserted.
        medium: String,
    },
    /// Read the library's barcodes and record where each pool cartridge is.
    Inventory {
        /// The pool.
        #[arg(long)]
        pool: String,
    },
    /// The library (drives, slots, barcodes), the pool's cartridges and media sets.
    Status {
        /// The pool.
        #[arg(long)]
        pool: String,
    },
    /// Copy snapshots from the primary repository to a new media set of the pool.
    Backup {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Snapshots (id, unique prefix, or `latest`); default: each source's
        /// newest snapshot not yet on a complete set of this pool.
        snapshots: Vec<String>,
        /// Read back everything written and compare before calling the copy done.
        #[arg(long)]
        verify: bool,
        /// A single drive: when no usable cartridge is in it (at the start,
        /// or the cartridge is full), ask for one and wait this long (`2h`,
        /// at most `7d`) for a person to insert it. Default: fail at once,
        /// asking for it.
        #[arg(long, value_name = "DURATION")]
        wait_for_cartridge: Option<String>,
    },
    /// Restore a snapshot from tape alone (no primary repository needed).
    Restore {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// The media set (default: the newest complete set holding the snapshot).
        #[arg(long)]
        set: Option<String>,
        /// Snapshot id or unique prefix.
        snapshot: String,
        /// Target folder.
        #[arg(long)]
        target: PathBuf,
        /// Keep the objects read from tape in this folder (a complete
        /// repository of the set's snapshots) instead of a temporary one.
        #[arg(long)]
        keep_objects: Option<PathBuf>,
    },
    /// Read every cartridge of the pool in the library and rebuild the
    /// catalog's record of media sets and copies from what is on tape.
    Scan {
        /// The pool.
        #[arg(long)]
        pool: String,
    },
    /// Move a cartridge out of a drive back to a slot, or out of the library.
    Move {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// The cartridge.
        medium: String,
        /// `slot` (back to a storage slot), `export` (to the mail slot),
        /// `drive` (into the pool's drive: its copies become online) or
        /// `eject` (a single drive).
        #[arg(long, value_parser = ["slot", "export", "drive", "eject"])]
        to: String,
    },
    /// The simulated library: what a person does with cartridges (for the
    /// demo, tests and trying hokan out without hardware).
    #[command(subcommand)]
    Sim(SimCmd),
}

/// What a person does with a simulated library.
#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// Create the simulated library of a pool (its `virtual_library` folder).
    Create {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Drives, 1 to 16.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
        drives: u32,
        /// Storage slots, 1 to 1000.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
        slots: u32,
        /// Import/export (mail) slots, 0 to 16.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=16))]
        mail_slots: u32,
    },
    /// Put a new cartridge into the library (a storage slot or, for a single
    /// drive, the drive).
    Insert {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Its barcode.
        barcode: String,
        /// Its capacity (e.g. 2.5TiB, 64MiB), 1 byte to 1PB.
        #[arg(long, default_value = "1GiB")]
        capacity: String,
        /// Set the write-protect tab.
        #[arg(long)]
        write_protected: bool,
    },
    /// Take a cartridge out of the mail slot (or out of a single drive after eject).
    TakeOut {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Its barcode.
        barcode: String,
    },
    /// Load a cartridge from its slot into a drive behind hokan's back (the
    /// library's front panel, or another program driving the robot).
    Load {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Its barcode.
        barcode: String,
        /// Which drive.
        #[arg(long, default_value_t = 0)]
        drive: u32,
    },
}
