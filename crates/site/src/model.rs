//! The site as checked: every default applied, every path absolute.
//!
//! A [`Site`] only comes out of [`crate::parse`] or [`crate::load`], so its
//! invariants hold for every value a caller sees: names are valid and unique
//! (sources among sources; pools and targets in one namespace, because they
//! all become [`PoolName`]s), source paths are absolute, every target has a
//! retention, tape `after_job` fits the tape mode, and the policy is above
//! the definitions' floor. The parts ([`Source`], [`Target`] …) are plain
//! data with public fields: read them freely; a `Site` hands out only shared
//! references, so they cannot be changed behind its back.

use std::path::{Path, PathBuf};

use hokan_offline::{
    span, Koban, MediumKind, OfflineError, Policy, PolicyOptions, PoolName, SourceName,
    SourcePolicyOptions, Text,
};
use serde::{Serialize, Serializer};
use time::{Duration, Time, UtcOffset};

use crate::calendar::Calendar;
use crate::notify::Notify;

/// One hospital site, as `hokan.toml` describes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Site {
    pub(crate) file: PathBuf,
    pub(crate) name: String,
    #[serde(serialize_with = "offset_opt")]
    pub(crate) timezone: Option<UtcOffset>,
    pub(crate) catalog: PathBuf,
    pub(crate) schedule: Option<Calendar>,
    #[serde(serialize_with = "time_opt")]
    pub(crate) expect_done_by: Option<Time>,
    pub(crate) repository: Repository,
    pub(crate) sources: Vec<Source>,
    pub(crate) policy: PolicySettings,
    pub(crate) targets: Vec<Target>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) notify: Vec<Notify>,
    pub(crate) serve: Serve,
    #[serde(skip_serializing_if = "Roles::is_empty")]
    pub(crate) roles: Roles,
}

/// The listen address `hokan serve` uses unless `[serve] listen` says
/// otherwise.
pub const DEFAULT_SERVE_LISTEN: &str = "0.0.0.0:7443";

/// `[serve]`: the primary's read-only HTTPS export that vaults pull from
/// (`hokan serve`), and the inbox their signed receipts are posted to.
/// Paths are absolute when given; the defaults live in the state folder
/// (the catalog's folder) and are found with [`Serve::inbox_in`],
/// [`Serve::cert_in`] and [`Serve::key_in`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Serve {
    /// `host:port` to listen on (default [`DEFAULT_SERVE_LISTEN`]).
    pub listen: String,
    /// The TLS certificate (PEM), if given.
    pub cert: Option<PathBuf>,
    /// The TLS private key (PEM), if given.
    pub key: Option<PathBuf>,
    /// The receipts' inbox folder, if given.
    pub inbox: Option<PathBuf>,
}

impl Default for Serve {
    fn default() -> Serve {
        Serve {
            listen: DEFAULT_SERVE_LISTEN.to_owned(),
            cert: None,
            key: None,
            inbox: None,
        }
    }
}

impl Serve {
    /// The inbox: `[serve] inbox`, else `inbox` in the state folder
    /// `state` (the folder of the catalog in use).
    pub fn inbox_in(&self, state: &Path) -> PathBuf {
        self.inbox.clone().unwrap_or_else(|| state.join("inbox"))
    }

    /// The TLS certificate: `[serve] cert`, else `serve-cert.pem` in the
    /// state folder (written by `hokan serve --init`).
    pub fn cert_in(&self, state: &Path) -> PathBuf {
        self.cert
            .clone()
            .unwrap_or_else(|| state.join("serve-cert.pem"))
    }

    /// The TLS key: `[serve] key`, else `serve-key.pem` in the state folder
    /// (written by `hokan serve --init`).
    pub fn key_in(&self, state: &Path) -> PathBuf {
        self.key
            .clone()
            .unwrap_or_else(|| state.join("serve-key.pem"))
    }
}

/// The state folder of a catalog path: the folder that holds it (the
/// working folder for a bare file name).
pub fn state_dir(catalog: &Path) -> PathBuf {
    match catalog.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The primary repository (`[repository]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Repository {
    /// Where it is: a folder, or a bucket of an S3-compatible store. In
    /// JSON as in hokan.toml: `"path": …` or `"s3": { … }`.
    #[serde(flatten)]
    pub location: RepositoryLocation,
    /// A file holding the passphrase; absolute. Without it the binary asks,
    /// or uses `HOKAN_PASSPHRASE`.
    pub passphrase_file: Option<PathBuf>,
}

/// Where the primary repository lives (`[repository] path` or `s3`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum RepositoryLocation {
    /// A folder (`path`); absolute.
    #[serde(rename = "path")]
    Folder(PathBuf),
    /// A bucket of an S3-compatible store (`s3 = { … }`): Ceph RGW, MinIO,
    /// a cloud bucket. No object lock is needed: the primary is online by
    /// definition, and prune deletes from it.
    #[serde(rename = "s3")]
    S3(S3Connection),
}

impl RepositoryLocation {
    /// The location `--repo` (or `HOKAN_REPO`) names: `s3://bucket/prefix`
    /// for a bucket, anything else a folder. A bucket is reached at
    /// `endpoint` (`HOKAN_S3_ENDPOINT`; AWS's own when `None`, path-style
    /// addressing otherwise, as Ceph RGW and MinIO want) in `region`
    /// (`us-east-1` when `None`), with
    /// [`S3Connection::PRIMARY_CONCURRENCY`] requests in flight;
    /// its credentials come from the usual AWS sources
    /// (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, shared files, an
    /// instance role). The caller reads the environment.
    pub fn from_arg(
        arg: &str,
        endpoint: Option<String>,
        region: Option<String>,
    ) -> Result<RepositoryLocation, Text> {
        let Some(rest) = arg.strip_prefix("s3://") else {
            return Ok(RepositoryLocation::Folder(PathBuf::from(arg)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Text::new(
                format!("{arg:?} names no bucket: write s3://BUCKET or s3://BUCKET/PREFIX"),
                format!("{arg:?} にバケット名がありません。s3://バケット または s3://バケット/プレフィックス と書いてください"),
            ));
        }
        if let Some(e) = endpoint
            .as_deref()
            .filter(|e| !(e.starts_with("http://") || e.starts_with("https://")))
        {
            return Err(Text::new(
                format!("HOKAN_S3_ENDPOINT={e:?} is not a URL: write it with its scheme, e.g. \"http://rgw.lan:7480\", or unset it for AWS"),
                format!("HOKAN_S3_ENDPOINT={e:?} は URL ではありません。\"http://rgw.lan:7480\" のようにスキーム付きで書くか、AWS なら設定しないでください"),
            ));
        }
        let prefix = prefix.trim_matches('/');
        Ok(RepositoryLocation::S3(S3Connection {
            path_style: endpoint.is_some(),
            endpoint,
            region: region
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "us-east-1".to_owned()),
            bucket: bucket.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            access_key_id: None,
            secret_access_key_file: None,
            concurrency: S3Connection::PRIMARY_CONCURRENCY,
            timeouts: S3Timeouts::DEFAULT,
        }))
    }

    /// The folder, for a repository in one.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            RepositoryLocation::Folder(p) => Some(p),
            RepositoryLocation::S3(_) => None,
        }
    }

    /// What people and the catalog call it: the folder, or
    /// `s3://bucket/prefix at endpoint` (never a secret).
    pub fn label(&self) -> String {
        match self {
            RepositoryLocation::Folder(p) => p.display().to_string(),
            RepositoryLocation::S3(c) => c.label(),
        }
    }
}

/// One backup source (`[[source]]`, バックアップ対象).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Source {
    /// Its name: `[a-z0-9_-]+`, unique among sources.
    pub name: SourceName,
    /// What is backed up: absolute paths, at least one.
    pub paths: Vec<PathBuf>,
    /// What runs before the backup (a database dump, say).
    pub pre_backup: Option<PreBackup>,
    /// This source's overrides of the site policy, as written.
    pub policy: SourcePolicyOptions,
    /// Its recovery-time target (`rto = "24h"`): how long a restore of the
    /// whole source may take. A drill compares its projection with it.
    pub rto: Option<Duration>,
    /// How a drill checks a restore of it with the application
    /// (`drill = { check = […], timeout = "10m" }`).
    pub drill: Option<DrillCheck>,
}

/// The application check a restore drill runs on the restored files of a
/// source (`[source.drill]`): `{target}` in the command stands for the
/// folder the drill restored into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DrillCheck {
    /// What to run (`["pg_restore", "--list", "{target}/db/emr.dump"]`).
    pub check: Command,
    /// How long it may run before it counts as failed (default 10 minutes).
    #[serde(with = "span")]
    pub timeout: Duration,
}

/// A command run before a source is backed up (`[source.pre_backup]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PreBackup {
    /// What to run.
    pub command: Command,
    /// How long it may run before it counts as failed (default 1 hour).
    #[serde(with = "span")]
    pub timeout: Duration,
    /// What a failure (or time-out) means for the backup.
    pub on_failure: OnFailure,
}

/// A command line, kept the way it was written: the binary runs an argument
/// vector directly and a string through `sh -c`, and `config check` shows
/// which one it will do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// `["/usr/local/bin/emr-dump", "--out", "/srv/emr/dump"]`: run directly,
    /// no shell. The program is the first element; never empty.
    Argv(Vec<String>),
    /// `"pg_dump emr > /srv/dump.sql"`: run with `sh -c`. Never empty.
    Shell(String),
}

/// What happens to the backup when the pre-backup command fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Do not back up the source (the default): a backup without its fresh
    /// dump may look complete and restore stale data.
    Abort,
    /// Back up anyway, and mark the snapshot as taken with a failed dump.
    Continue,
}

/// `[policy]` with every default applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicySettings {
    /// Offline generations each source needs.
    pub min_offline_generations: u32,
    /// Oldest the newest offline generation may be.
    #[serde(with = "span")]
    pub max_newest_age: Duration,
    /// Warning time before a lock, attestation or record runs out.
    #[serde(with = "span")]
    pub warning_horizon: Duration,
    /// How long a person's record of a medium's location counts.
    #[serde(with = "span")]
    pub max_person_location_age: Duration,
    /// How often each kind of offline medium in use must pass a restore
    /// drill (default 365 days, the 加算1 floor of once a year).
    #[serde(with = "span")]
    pub drill_every: Duration,
    /// The keys left out of the file, which hold their defaults.
    pub defaults: Vec<&'static str>,
}

impl PolicySettings {
    /// Whether `key` (e.g. `"max_newest_age"`) was left at its default.
    pub fn is_default(&self, key: &str) -> bool {
        self.defaults.contains(&key)
    }
}

/// An offline target: a media pool or a store. Names are unique across all
/// kinds, because each becomes a [`PoolName`] in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its name: `[a-z0-9_-]+`.
    pub name: PoolName,
    /// How long a copy must be kept before its medium may be reused (pools)
    /// or its objects may expire (stores).
    pub retention: Duration,
    /// When its copy is due (`schedule = "Mon..Fri 22:00"`); without one,
    /// every run of the night copies to it.
    pub schedule: Option<Calendar>,
    /// When a restore drill from its media is due (`drill_schedule =
    /// "Sun *-*-01..07 10:00"`): the night runs `hokan drill --medium
    /// NAME` when an occurrence has passed since the last drill from it.
    /// Not for vaults (a vault drills itself).
    pub drill_schedule: Option<Calendar>,
    /// What it is.
    pub kind: TargetKind,
}

/// The kinds of offline target, one per table name in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TargetKind {
    /// `[[tape_pool]]`: LTO cartridges.
    TapePool(TapePool),
    /// `[[disk_pool]]`: RDX cartridges, removable disks, NAS.
    DiskPool(DiskPool),
    /// `[[s3]]`: an S3 bucket, normally with object lock.
    S3(S3Bucket),
    /// `[[vault]]`: a pull-only vault server.
    Vault(Vault),
}

/// A pool of LTO cartridges (`[[tape_pool]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TapePool {
    /// One drive, or a library/autoloader.
    pub mode: TapeMode,
    /// Where the cartridge goes when a job ends; decides the 項番.
    pub after_job: AfterJob,
    /// Which cartridge a job writes to.
    pub allocation: Allocation,
    /// The drive's no-rewind device (`/dev/nst0`).
    pub device: Option<String>,
    /// The library's changer (`/dev/sg3`), driven with `mtx`.
    pub changer: Option<String>,
    /// Which drive of the library the pool writes with (mtx numbering,
    /// from 0).
    pub drive: u32,
    /// A simulated library (or single drive) in this folder instead of
    /// `device`/`changer`: for tests, the demo and trying hokan out.
    pub virtual_library: Option<PathBuf>,
}

/// How the tape drive is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapeMode {
    /// One stand-alone drive (①-1-1).
    SingleDrive,
    /// A tape library or LTO autoloader (①-2-1, ①-2-2).
    Library,
}

/// Where a cartridge goes when a job ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AfterJob {
    /// Back to its library slot (①-2-1). Library only; the default there.
    Unload,
    /// Out of the library through the mail slot (①-2-2). Library only.
    Export,
    /// Out of the single drive (①-1-1). Single drive only, and its default.
    Eject,
}

/// Which cartridge a job writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocation {
    /// One cartridge set per weekday.
    Weekday,
    /// One cartridge set per week.
    Weekly,
    /// Keep appending to the current cartridge until it is full (default).
    Continue,
}

/// A pool of disks or cartridges (`[[disk_pool]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskPool {
    /// What the disks are.
    pub mode: DiskMode,
    /// Where the disk is mounted while connected; absolute.
    pub mount_point: Option<PathBuf>,
    /// Which cartridge is due when.
    pub rotation: Rotation,
    /// The pool's cartridges in rotation order (`RDX-MON`, `RDX-TUE`, …);
    /// empty when `rotation` is `any` and the pool takes whatever is
    /// formatted for it.
    pub cartridges: Vec<String>,
    /// Where the cartridge goes when a job ends.
    pub after_job: DiskAfterJob,
    /// The block device to use (`/dev/disk/by-label/RDX`), when not found
    /// by the filesystem UUIDs the pool's labels recorded.
    pub device: Option<String>,
    /// An autoloader's slots: the block device each shows up as while
    /// active, slot 1 first.
    pub slots: Vec<String>,
    /// Commands replacing the built-in steps, each an argument vector with
    /// `{device}`, `{mount_point}` and `{slot}` placeholders.
    pub commands: DiskCommands,
    /// Use a SIMULATED device kept in this folder instead of real ones.
    pub virtual_device: Option<PathBuf>,
}

/// Which cartridge of a disk pool is due for tonight's job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rotation {
    /// `cartridges[0]` on Monday, `[1]` on Tuesday, …; a day without a
    /// cartridge has no job.
    Weekday,
    /// `cartridges[ISO week number % len]`.
    Weekly,
    /// Whichever cartridge of the pool is inserted.
    Any,
}

/// Where a disk pool's cartridge goes after a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskAfterJob {
    /// Unmount and eject / power off (②-1-1).
    Eject,
    /// Autoloader: unmount and make the slot inactive (②-2-1, with an
    /// attested network segmentation).
    Deactivate,
    /// Autoloader: unmount and move the cartridge out (②-2-2).
    Export,
    /// Unmount only: a person takes the disk away (the copy is online
    /// until someone records that).
    Unmount,
}

/// Site replacements for the device steps (`None`: the built-in one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiskCommands {
    /// Mount `{device}` at `{mount_point}`.
    pub mount: Option<Vec<String>>,
    /// Unmount `{mount_point}`.
    pub unmount: Option<Vec<String>>,
    /// Eject or power off `{device}`.
    pub eject: Option<Vec<String>>,
    /// Make autoloader slot `{slot}` active.
    pub activate: Option<Vec<String>>,
    /// Make autoloader slot `{slot}` inactive.
    pub deactivate: Option<Vec<String>>,
    /// Move the cartridge of autoloader slot `{slot}` out.
    pub export: Option<Vec<String>>,
}

/// What the disks of a disk pool are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskMode {
    /// RDX cartridges in one drive (②-1-1).
    RdxSingleDrive,
    /// RDX cartridges in an autoloader (②-2-1, ②-2-2).
    RdxAutoloader,
    /// External disks rotated by hand (②-1-1, per the definitions' note).
    RemovableDisk,
    /// NAS devices rotated by hand (②-1-1, per the definitions' note).
    Nas,
}

/// An S3 bucket (`[[s3]]`): its connection, and the lock hokan asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct S3Bucket {
    /// Where and how to reach the bucket.
    #[serde(flatten)]
    pub connection: S3Connection,
    /// The object-lock mode hokan asks for.
    pub lock_mode: S3LockMode,
    /// Whether a bucket without object lock may be used at all. Its copies
    /// then never count as offline.
    pub allow_unlocked: bool,
}

/// Where and how to reach a bucket: the same keys for an `[[s3]]` target
/// and for `[repository] s3`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct S3Connection {
    /// The service endpoint; `None` for AWS's own for the region.
    pub endpoint: Option<String>,
    /// The region.
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// A key prefix inside the bucket.
    pub prefix: Option<String>,
    /// Address the bucket in the path rather than the host name.
    pub path_style: bool,
    /// The access key id, when the site gives credentials here rather than
    /// through the usual AWS sources (environment, shared files, instance
    /// role).
    pub access_key_id: Option<String>,
    /// The file holding the secret access key (first line), with
    /// `access_key_id`.
    pub secret_access_key_file: Option<PathBuf>,
    /// Requests in flight at once: a few over a hospital's uplink (an
    /// `[[s3]]` target, default 4), more on a LAN (the primary, default 8).
    pub concurrency: u32,
    /// Time limits of every request to the bucket.
    pub timeouts: S3Timeouts,
}

impl S3Connection {
    /// Requests in flight to an S3 primary when hokan.toml gives no
    /// `concurrency`: a LAN to a Ceph RGW or MinIO cluster keeps 8 busy.
    pub const PRIMARY_CONCURRENCY: u32 = 8;

    /// `s3://bucket/prefix at endpoint` (AWS's endpoint of the region when
    /// none is given): what messages and the catalog call the bucket.
    pub fn label(&self) -> String {
        let prefix = self.prefix.as_deref().unwrap_or("").trim_matches('/');
        let at = match &self.endpoint {
            Some(e) => e.clone(),
            None => format!("AWS {}", self.region),
        };
        format!("s3://{}/{prefix} at {at}", self.bucket)
    }
}

/// Time limits of the requests to an `[[s3]]` target, in seconds. A server
/// that does not answer within them is reported by name instead of leaving
/// a job hanging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct S3Timeouts {
    /// Opening a connection (`connect_timeout_secs`, 1–300, default 10).
    pub connect_secs: u32,
    /// From sending a request, its body included, to the first byte of the
    /// answer (`read_timeout_secs`, 1–3600, default 300: an 8 MiB part over
    /// a slow uplink shared by a few uploads).
    pub read_secs: u32,
    /// One attempt of a request (`attempt_timeout_secs`, 1–3600, default
    /// 310).
    pub attempt_secs: u32,
    /// A whole request, retries included (`operation_timeout_secs`,
    /// 1–86400 and at least the attempt limit, default 900).
    pub operation_secs: u32,
}

impl S3Timeouts {
    /// The limits used when hokan.toml gives none.
    pub const DEFAULT: S3Timeouts = S3Timeouts {
        connect_secs: 10,
        read_secs: 300,
        attempt_secs: 310,
        operation_secs: 900,
    };
}

impl Default for S3Timeouts {
    fn default() -> Self {
        S3Timeouts::DEFAULT
    }
}

/// The object-lock mode of an S3 target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum S3LockMode {
    /// Nobody can shorten or remove the lock (default; ③-1 at full strength).
    Compliance,
    /// A privileged user can bypass it: allowed, reported as weaker.
    Governance,
}

/// The `fresh_for` of a `[[vault]]` left without one.
pub const DEFAULT_VAULT_FRESH_FOR: Duration = hokan_offline::DEFAULT_VAULT_FRESH_FOR;

/// A pull-only vault server (`[[vault]]`). The primary never connects to
/// it: the vault pulls from `hokan serve` and posts signed receipts to the
/// inbox, and only those receipts make its copies count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vault {
    /// Where it is, for people (`host` or `host:port`): informational, the
    /// primary never connects to it.
    pub address: Option<String>,
    /// Its Ed25519 public key (64 hex digits, lower case), printed by
    /// `hokan vault init`: only receipts signed with it are believed.
    pub public_key: String,
    /// BLAKE3 (64 hex digits, lower case) of the vault's access token for
    /// `hokan serve`, printed by `hokan vault init`.
    pub token_blake3: String,
    /// How old its newest receipt may be before its copies turn unknown.
    #[serde(with = "span")]
    pub fresh_for: Duration,
}

impl Target {
    /// The kind the catalog gives this target's media.
    pub fn medium_kind(&self) -> MediumKind {
        match &self.kind {
            TargetKind::TapePool(t) => match t.mode {
                TapeMode::SingleDrive => MediumKind::LtoSingleDrive,
                TapeMode::Library => MediumKind::LtoLibrary,
            },
            TargetKind::DiskPool(d) => match d.mode {
                DiskMode::RdxSingleDrive => MediumKind::RdxSingleDrive,
                DiskMode::RdxAutoloader => MediumKind::RdxAutoloader,
                DiskMode::RemovableDisk | DiskMode::Nas => MediumKind::RemovableDisk,
            },
            TargetKind::S3(_) => MediumKind::ObjectStore,
            TargetKind::Vault(_) => MediumKind::PullVault,
        }
    }

    /// The 項番 under which this target's copies are meant to count as
    /// offline, as configured. A tape library's `after_job` picks one of its
    /// two; everything else is what its medium kind allows. This is intent:
    /// the evaluator decides from what was observed.
    pub fn koban(&self) -> Vec<Koban> {
        match &self.kind {
            TargetKind::TapePool(t) => match t.after_job {
                AfterJob::Eject => vec![Koban::LtoEjected],
                AfterJob::Unload => vec![Koban::LtoInLibrarySlot],
                AfterJob::Export => vec![Koban::LtoExported],
            },
            _ => self.medium_kind().considered().to_vec(),
        }
    }

    /// The table the target was written in: `tape_pool`, `disk_pool`,
    /// `s3`, `vault`.
    pub fn table(&self) -> &'static str {
        match self.kind {
            TargetKind::TapePool(_) => "tape_pool",
            TargetKind::DiskPool(_) => "disk_pool",
            TargetKind::S3(_) => "s3",
            TargetKind::Vault(_) => "vault",
        }
    }
}

/// The JSON shape of a target: its fields plus what they imply.
#[derive(Serialize)]
struct TargetJson<'a> {
    name: &'a PoolName,
    #[serde(with = "span")]
    retention: Duration,
    medium_kind: MediumKind,
    koban: Vec<Koban>,
    #[serde(flatten)]
    kind: &'a TargetKind,
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TargetJson {
            name: &self.name,
            retention: self.retention,
            medium_kind: self.medium_kind(),
            koban: self.koban(),
            kind: &self.kind,
        }
        .serialize(s)
    }
}

fn offset_opt<S: Serializer>(o: &Option<UtcOffset>, s: S) -> Result<S::Ok, S::Error> {
    match o {
        Some(o) => s.serialize_some(&crate::check::format_offset(*o)),
        None => s.serialize_none(),
    }
}

fn time_opt<S: Serializer>(t: &Option<Time>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&format!("{:02}:{:02}", t.hour(), t.minute())),
        None => s.serialize_none(),
    }
}

/// `[roles]`: who answers for the backups, as the rulebook's annex
/// (`hokan annex`) names them. Every key is optional: an annex for a site
/// without them leaves blanks and says who must fill them in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Roles {
    /// The person responsible for the backups (`responsible`, e.g.
    /// "情報システム課長 山田").
    pub responsible: Option<String>,
    /// Who runs the nights and moves media (`operator`).
    pub operators: Vec<String>,
    /// Who keeps the passphrase and the paper key (`key_custodian`).
    pub key_custodians: Vec<String>,
    /// Who may use the vault's console (`vault_console`).
    pub vault_console: Vec<String>,
}

impl Roles {
    /// No role given at all.
    pub fn is_empty(&self) -> bool {
        self.responsible.is_none()
            && self.operators.is_empty()
            && self.key_custodians.is_empty()
            && self.vault_console.is_empty()
    }
}

impl Site {
    /// The configuration file this site was read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The hospital's name, as shown on reports.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The UTC offset reports use; `None` leaves it to the binary (the
    /// machine's local offset).
    pub fn timezone(&self) -> Option<UtcOffset> {
        self.timezone
    }

    /// When the night runs (`[site] schedule`), if the site says.
    pub fn schedule(&self) -> Option<&Calendar> {
        self.schedule.as_ref()
    }

    /// The time of day by which the night's run must have finished
    /// (`[site] expect_done_by`), for the dead-man's switch.
    pub fn expect_done_by(&self) -> Option<Time> {
        self.expect_done_by
    }

    /// The catalog database.
    pub fn catalog_path(&self) -> &Path {
        &self.catalog
    }

    /// The primary repository.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// Where the primary repository is.
    pub fn repository_location(&self) -> &RepositoryLocation {
        &self.repository.location
    }

    /// The passphrase file, if configured.
    pub fn passphrase_file(&self) -> Option<&Path> {
        self.repository.passphrase_file.as_deref()
    }

    /// The sources, in file order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The source names, in file order.
    pub fn source_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.sources.iter().map(|s| s.name.as_str())
    }

    /// `[policy]` with its defaults.
    pub fn policy_settings(&self) -> &PolicySettings {
        &self.policy
    }

    /// The offline targets of every kind, in file order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// `[serve]`: the export vaults pull from and the receipts' inbox.
    pub fn serve(&self) -> &Serve {
        &self.serve
    }

    /// The `[[vault]]` targets, with their names.
    pub fn vaults(&self) -> impl Iterator<Item = (&PoolName, &Vault)> {
        self.targets.iter().filter_map(|t| match &t.kind {
            TargetKind::Vault(v) => Some((&t.name, v)),
            _ => None,
        })
    }

    /// The notification targets (`[[notify]]`), in file order.
    pub fn notify(&self) -> &[Notify] {
        &self.notify
    }

    /// `[roles]`: who is responsible, who operates, who keeps the keys.
    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    /// The target named `name`.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name.as_str() == name)
    }

    /// Every target with the kind its media are given.
    pub fn pool_kinds(&self) -> Vec<(PoolName, MediumKind)> {
        self.targets
            .iter()
            .map(|t| (t.name.clone(), t.medium_kind()))
            .collect()
    }

    /// The offline evaluator's options: `[policy]`, each target's retention
    /// and each source's overrides.
    pub fn policy_options(&self) -> PolicyOptions {
        PolicyOptions {
            min_offline_generations: Some(self.policy.min_offline_generations),
            max_newest_age: Some(self.policy.max_newest_age),
            warning_horizon: Some(self.policy.warning_horizon),
            max_person_location_age: Some(self.policy.max_person_location_age),
            drill_every: Some(self.policy.drill_every),
            pool_retention: self
                .targets
                .iter()
                .map(|t| (t.name.clone(), t.retention))
                .collect(),
            vault_fresh_for: self
                .targets
                .iter()
                .filter_map(|t| match &t.kind {
                    TargetKind::Vault(v) => Some((t.name.clone(), v.fresh_for)),
                    _ => None,
                })
                .collect(),
            sources: self
                .sources
                .iter()
                .filter(|s| s.policy != SourcePolicyOptions::default())
                .map(|s| (s.name.clone(), s.policy.clone()))
                .collect(),
        }
    }

    /// The checked policy for the evaluator. Loading already checked every
    /// rule [`Policy::new`] applies (with line numbers), so this does not
    /// fail for a loaded site; it returns the `Result` so that those rules
    /// have one home.
    pub fn policy(&self) -> Result<Policy, OfflineError> {
        Policy::new(&self.policy_options())
    }
}
