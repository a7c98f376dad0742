//! Command-line arguments of the site commands.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// The site commands, as `main` dispatches them.
#[derive(Debug)]
pub enum SiteCommand {
    /// `hokan config …`
    Config(ConfigCmd),
    /// `hokan catalog …`
    Catalog(CatalogCmd),
    /// `hokan media …`
    Media(MediaCmd),
    /// `hokan attest …`
    Attest(AttestCmd),
    /// `hokan status`
    Status(StatusArgs),
    /// `hokan report …`
    Report(ReportArgs),
    /// `hokan annex …`
    Annex(AnnexArgs),
}

/// `hokan status`.
#[derive(Args, Debug, Default)]
pub struct StatusArgs {
    /// Do not ask any device (tape library, drive, RDX) where its media are:
    /// judge the catalog as recorded. For monitoring that must never touch
    /// the devices; the verdicts then rest on the last recorded locations.
    #[arg(long)]
    pub no_observe: bool,
}

/// `hokan config`.
#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Validate hokan.toml and print the resolved site (every default filled in).
    Check,
}

/// `hokan catalog`.
#[derive(Subcommand, Debug)]
pub enum CatalogCmd {
    /// Check the event log's hash chain and that the tables follow from it.
    Verify {
        /// A head printed on an earlier report (`SEQ:HASH`) that must still be in the chain.
        #[arg(long)]
        expect: Option<String>,
    },
    /// Record the primary repository's snapshots (and the configured sources) in the catalog.
    Sync,
    /// List recent events.
    Events {
        /// How many (newest first), 1 to 100000.
        #[arg(long, default_value_t = 30, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
        limit: usize,
        /// Only the facts that only the catalog holds (manual moves, attestations, …).
        #[arg(long)]
        catalog_only: bool,
    },
    /// List recent jobs (nights, copies, restores) with their outcome and steps.
    Jobs {
        /// How many (newest first), 1 to 100000.
        #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
        limit: usize,
    },
    /// Export the facts only the catalog holds, as JSON, to keep beside the reports.
    Export {
        /// Write to this file instead of standard output.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
}

/// Kinds of media, as typed on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KindArg {
    /// LTO cartridge used in a single drive (①-1-1).
    LtoSingleDrive,
    /// LTO cartridge in a tape library or autoloader (①-2-1, ①-2-2).
    LtoLibrary,
    /// RDX cartridge in a single RDX drive (②-1-1).
    RdxSingleDrive,
    /// RDX cartridge in an RDX autoloader (②-2-1, ②-2-2).
    RdxAutoloader,
    /// External HDD/USB disk or NAS rotated by hand (judged as ②-1-1).
    RemovableDisk,
    /// S3 bucket or other object store (③-1).
    ObjectStore,
    /// Immutable storage appliance (④-1).
    ImmutableStorage,
    /// Pull-only vault server (⑤-1).
    PullVault,
}

impl From<KindArg> for hokan_offline::MediumKind {
    fn from(k: KindArg) -> Self {
        use hokan_offline::MediumKind as M;
        match k {
            KindArg::LtoSingleDrive => M::LtoSingleDrive,
            KindArg::LtoLibrary => M::LtoLibrary,
            KindArg::RdxSingleDrive => M::RdxSingleDrive,
            KindArg::RdxAutoloader => M::RdxAutoloader,
            KindArg::RemovableDisk => M::RemovableDisk,
            KindArg::ObjectStore => M::ObjectStore,
            KindArg::ImmutableStorage => M::ImmutableStorage,
            KindArg::PullVault => M::PullVault,
        }
    }
}

/// `hokan media`.
#[derive(Subcommand, Debug)]
pub enum MediaCmd {
    /// Add a medium (tape, cartridge, disk, bucket, vault) to the inventory.
    Add {
        /// Its id: barcode, label or bucket name (e.g. HKN003L9).
        id: String,
        /// What it is; defaults to what its --pool gives.
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// Its pool (from hokan.toml).
        #[arg(long)]
        pool: Option<String>,
        /// The label as printed, if different from the id.
        #[arg(long)]
        label: Option<String>,
        /// Capacity, e.g. 12TB, 18TiB, 2000GB (1 byte to 1PB).
        #[arg(long)]
        capacity: Option<String>,
        /// Free text.
        #[arg(long)]
        note: Option<String>,
        /// Where it is now (see `media move --to`).
        #[arg(long)]
        location: Option<String>,
        /// Who added it (needed with --location).
        #[arg(long)]
        by: Option<String>,
    },
    /// List media with their location and offline state.
    List,
    /// Show one medium: its copies, location history and verdict.
    Show {
        /// The medium.
        id: String,
    },
    /// Record where a person put a medium.
    // `[:PLACE]` below is the syntax shown by --help, not a doc link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[command(after_help = PLACE_WORDS)]
    Move {
        /// The medium.
        id: String,
        /// Where: shelf[:PLACE], offsite:SITE, drive:DRIVE, slot:LIBRARY[:N],
        /// mailslot:LIBRARY, exported:CHANGER, ejected[:DRIVE],
        /// inactive-slot:AUTOLOADER[:N], active-slot:AUTOLOADER,
        /// connected[:HOST], unknown.
        #[arg(long)]
        to: String,
        /// Who moved it (their name as they sign it).
        #[arg(long)]
        by: String,
        /// When, if not now: 2026-11-23T08:30+09:00, 2026-11-23, or 2h (ago);
        /// between 2000-01-01 and 2200-01-01, and not in the future.
        #[arg(long)]
        at: Option<String>,
        /// Free text.
        #[arg(long)]
        note: Option<String>,
    },
    /// Retire a medium (worn out, destroyed, lost): its copies stop counting.
    Retire {
        /// The medium.
        id: String,
        /// Who decided.
        #[arg(long)]
        by: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Mark it damaged instead of retired.
        #[arg(long)]
        damaged: bool,
    },
}

/// What each `--to` word of `media move` means (shown by its --help; the
/// same table is in docs/status.md).
pub const PLACE_WORDS: &str = "\
Places (--to); words in capitals are yours to fill in:
  shelf[:PLACE]                   on a shelf or in a safe on site      offline (①-1-1, ②-1-1, …)
  offsite:SITE                    taken to another site (bank vault)   offline (①-2-2 for library tapes)
  drive:DRIVE                     in a drive                           ONLINE
  slot:LIBRARY[:N]                in slot N of a tape library          offline ①-2-1
  mailslot:LIBRARY                in the library's mail slot           offline ①-2-1 until taken out
  exported:CHANGER                exported out of a library/autoloader offline ①-2-2, ②-2-2
  ejected[:DRIVE]                 ejected from a single drive          offline ①-1-1, ②-1-1
  inactive-slot:AUTOLOADER[:N]    RDX autoloader's inactive slot       offline ②-2-1 with a network-segmented attestation
  active-slot:AUTOLOADER          RDX autoloader's active slot         ONLINE
  connected[:HOST]                plugged into a computer              ONLINE
  unknown                         nobody knows                         never counted
Example: hokan media move HKN001L9 --to offsite:bank --by 山田 --note \"weekly pickup\"";

/// Options every attestation takes.
#[derive(Args, Debug)]
pub struct AttestCommon {
    /// What shows it: document, ticket, configuration reviewed.
    #[arg(long)]
    pub evidence: String,
    /// Who attests (their name as they sign it).
    #[arg(long)]
    pub by: String,
    /// Until when it holds: a date (2027-03-31, through that day), a time,
    /// or a length from now (90d). Must be after now and at most 10 years
    /// ahead: an attestation that has already run out is refused.
    #[arg(long)]
    pub until: String,
    /// From when it holds (default now): a time, or a length ago (2h);
    /// between 2000-01-01 and 2200-01-01.
    #[arg(long)]
    pub from: Option<String>,
}

/// `hokan attest`.
#[derive(Subcommand, Debug)]
pub enum AttestCmd {
    /// The backup server's network is segmented from the EMR network (②-2-1).
    NetworkSegmented {
        /// Only for this autoloader (default: the whole site).
        #[arg(long)]
        autoloader: Option<String>,
        #[command(flatten)]
        common: AttestCommon,
    },
    /// The device keeps data in an immutable area (④-1).
    ImmutableDevice {
        /// The medium (appliance) concerned.
        #[arg(long)]
        medium: String,
        #[command(flatten)]
        common: AttestCommon,
    },
    /// The cloud provider isolates the storage from the network (③-1).
    ProviderIsolation {
        /// The medium (bucket) concerned.
        #[arg(long)]
        medium: String,
        #[command(flatten)]
        common: AttestCommon,
    },
    /// The vault only pulls; a firewall blocks all traffic towards it (⑤-1).
    PullOnlyVault {
        /// The vault.
        #[arg(long)]
        medium: String,
        #[command(flatten)]
        common: AttestCommon,
    },
    /// List attestations and whether each holds now.
    List,
    /// Withdraw an attestation (the fact no longer holds).
    Withdraw {
        /// Its id (A-0001).
        id: String,
        /// Who withdraws it.
        #[arg(long)]
        by: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// Report formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// Self-contained HTML, prints on A4.
    Html,
    /// Markdown.
    Md,
    /// JSON: everything the report shows.
    Json,
}

/// `hokan report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Format.
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// Write here. Default: on a terminal, hokan-report-DATE-TIME.EXT in
    /// the current folder (the name is printed); piped or redirected,
    /// standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// How many recent events to include, 0 to 100000.
    #[arg(long, default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100_000))]
    pub events: usize,
}

/// Annex formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum AnnexFormat {
    /// Self-contained HTML, prints on A4.
    Html,
    /// Markdown.
    Md,
}

/// `hokan annex`.
#[derive(Args, Debug)]
pub struct AnnexArgs {
    /// Format.
    #[arg(long, value_enum, default_value = "html")]
    pub format: AnnexFormat,
    /// Write here. Default: on a terminal (or with --json),
    /// hokan-annex-DATE.EXT in the current folder; piped or redirected,
    /// standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}
