//! The error of a job.
//!
//! Rules (as in rustic_core's `error.rs`):
//! - anything a caller branches on is a variant; the data a message needs
//!   is in the variant, never a sentence: the binary writes the ja/en text
//!   and picks the exit code;
//! - a cause is kept as a `#[source]`, never flattened into a string;
//! - [`JobError::is_transient`] says whether running the same job again
//!   later, unchanged, may succeed (a busy pool, a locked repository, a
//!   timed-out bucket) or a person must change something first.
//!
//! The `Display` texts are short English for logs; people read the
//! binary's sentences.

use std::path::PathBuf;

use hokan_catalog::CatalogError;
use hokan_offline::{MediumId, PoolName};
use hokan_repo::store::StoreError;
use hokan_repo::RepoError;

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// Another job holds the pool's lock.
    #[error("another job is running on pool {pool} ({})", lock.display())]
    PoolBusy {
        /// The pool.
        pool: String,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The pool's lock file could not be opened.
    #[error("{}: cannot open the pool's lock file", path.display())]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a repository.
    #[error("repository")]
    Repo(#[source] RepoError),
    /// Reading or writing the catalog.
    #[error("catalog")]
    Catalog(#[source] CatalogError),
    /// A drill's scratch folder is inside a source's paths, or holds one.
    #[error("{}: inside or holding source {source_name}'s path {}", target.display(), path.display())]
    DrillTargetInSource {
        /// The scratch folder asked for.
        target: PathBuf,
        /// The source.
        source_name: String,
        /// Its path.
        path: PathBuf,
    },
    /// A drill's scratch folder already holds files.
    #[error("{}: the drill's scratch folder is not empty", target.display())]
    DrillTargetNotEmpty {
        /// The scratch folder.
        target: PathBuf,
    },
    /// A copy job found no snapshot to copy (the repository is empty).
    #[error("the repository has no snapshot to copy")]
    NoSnapshotToCopy,
    /// A night's step names a target hokan.toml does not define (or not
    /// of the step's kind), or a kind of step hokan cannot run yet.
    #[error("no runnable target {0} in hokan.toml")]
    NoSuchTarget(String),
    /// A step the in-process night cannot run: a restore drill opens its
    /// medium through the `hokan` binary's device handling (`hokan run`
    /// runs it).
    #[error("the step `hokan {0}` runs only in a night started by `hokan run` or `hokan daemon`")]
    NotInProcess(String),
    /// A paper key that does not decode (a typing mistake; the error names
    /// the line).
    #[error("paper key")]
    PaperKey(#[source] hokan_format::FormatError),
    /// Listing or writing the store a copy goes to (a disk cartridge, a
    /// bucket) failed; a full medium is [`StoreError::NoSpace`] inside.
    #[error("the copy's destination")]
    Destination(#[source] StoreError),
    /// An object read back from a copy is missing or differs from the
    /// repository's (a failing medium).
    #[error("read-back differs for {path}")]
    ReadBackDiffers {
        /// The medium read back, when the caller named it.
        medium: Option<MediumId>,
        /// The object's path in the repository folder.
        path: String,
    },
    /// A removable disk device failed (or the cartridge went away).
    #[error("disk device")]
    Disk(#[source] hokan_disk::DiskError),
    /// The device holds no cartridge the job could write (none inserted,
    /// or on an autoloader none of the pool's).
    #[error("{device}: no cartridge of pool {pool} to write")]
    NoCartridge {
        /// The drive or autoloader.
        device: String,
        /// The pool.
        pool: PoolName,
        /// The cartridge the rotation wants, if it wants one.
        wanted: Option<MediumId>,
    },
    /// The cartridge the device holds is not the one to write (it was
    /// detached again, nothing written).
    #[error("{device}: cartridge refused")]
    CartridgeRefused {
        /// The drive or autoloader.
        device: String,
        /// Why.
        #[source]
        refusal: crate::disk::Refusal,
    },
    /// Writing the copy onto a disk cartridge failed (nothing recorded;
    /// what was written stays valid and the next job completes it).
    #[error("{medium}: writing the copy failed")]
    CartridgeWrite {
        /// The cartridge.
        medium: MediumId,
        /// Whether the cartridge had gone away (pulled out, unplugged)
        /// when the write failed.
        gone: bool,
        /// What the store said; a full cartridge is
        /// [`StoreError::NoSpace`].
        #[source]
        source: StoreError,
    },
    /// The catalog anchor on a medium cannot be read: nothing was
    /// written to the medium.
    #[error("{medium}: the catalog anchor cannot be read")]
    AnchorUnreadable {
        /// The medium.
        medium: MediumId,
        /// Why.
        #[source]
        source: crate::disk::AnchorProblem,
    },
    /// The catalog does not contain the head a medium's anchor names: it
    /// was rolled back or replaced since the medium was written. Nothing
    /// was written to the medium.
    #[error("the catalog was rolled back")]
    CatalogRolledBack(#[source] hokan_catalog::anchor::RolledBack),
    /// Writing the catalog anchor on a medium failed (the copy is
    /// recorded).
    #[error("{medium}: writing the catalog anchor failed")]
    AnchorWrite {
        /// The medium.
        medium: MediumId,
        /// What the device said.
        #[source]
        source: hokan_disk::DiskError,
    },
    /// Taking the cartridge out of reach of the host failed: it stays
    /// recorded where the host can reach it, so its copies are online.
    #[error("{medium}: the eject failed")]
    EjectFailed {
        /// The cartridge.
        medium: MediumId,
        /// What the device said.
        #[source]
        source: hokan_disk::DiskError,
    },
    /// A disk pool without `virtual_device` has no `mount_point`: hokan
    /// does not know where to mount its cartridges.
    #[error("disk pool {pool}: no mount_point")]
    NoMountPoint {
        /// The pool.
        pool: PoolName,
    },
    /// `disk format` refused or failed (see
    /// [`crate::disk::format::FormatProblem`]).
    #[error("{medium}: format")]
    Format {
        /// The id the cartridge was to be given.
        medium: String,
        /// The device, once it was opened.
        device: Option<String>,
        /// Why (boxed: the error stays small for the functions that
        /// never return this).
        #[source]
        problem: Box<crate::disk::format::FormatProblem>,
    },
    /// A tape drive or changer failed.
    #[error("tape device")]
    Tape(#[source] hokan_tape::TapeError),
    /// Bad data on tape, or the drive's error underneath.
    #[error("tape format")]
    TapeFormat(#[source] hokan_tape::format::FormatError),
    /// The cartridge to load is in another drive of the library.
    #[error("{barcode} is in drive {drive}")]
    CartridgeInDrive {
        /// The cartridge.
        barcode: String,
        /// The drive holding it.
        drive: u32,
    },
    /// The changer does not report the cartridge.
    #[error("{barcode} is not in the library")]
    NotInLibrary {
        /// The cartridge.
        barcode: String,
        /// Whether it was to be exported (else loaded).
        exporting: bool,
    },
    /// The cartridge is neither in the drive nor in a slot.
    #[error("{barcode} is neither in the drive nor in a slot of {library}")]
    NotInDriveOrSlot {
        /// The cartridge.
        barcode: String,
        /// The library.
        library: String,
    },
    /// No free storage slot to unload the drive to.
    #[error("{barcode}: no free storage slot")]
    NoFreeSlot {
        /// The cartridge in the drive.
        barcode: String,
    },
    /// No free mail slot to export to.
    #[error("{barcode}: the mail slot is full")]
    MailSlotFull {
        /// The cartridge.
        barcode: String,
    },
    /// No cartridge of the pool can be written (retained, in an open
    /// set, in the mail slot, or refused on the way).
    #[error("no cartridge of pool {pool} can be written")]
    NoTapeCartridge {
        /// The pool.
        pool: String,
        /// Why each candidate could not be used (boxed: the error stays
        /// small for the functions that never return this).
        why: Box<crate::rotation::tape::NoCartridge>,
        /// Cartridges refused in this job, with why.
        refused: Vec<(String, crate::tape::backup::TapeRefusal)>,
    },
    /// The single drive's cartridge cannot be used: a person must insert
    /// a labelled cartridge of the pool.
    #[error("{drive}: insert a labelled cartridge of pool {pool}")]
    InsertCartridge {
        /// The drive.
        drive: String,
        /// The pool.
        pool: String,
        /// What is wrong with the one there.
        problem: crate::tape::backup::DriveProblem,
    },
    /// The single drive holds another cartridge than the one the open
    /// set continues on.
    #[error("{drive} holds {holds}; media set {set} continues on {want}")]
    WrongCartridgeForSet {
        /// The drive.
        drive: String,
        /// The cartridge in it.
        holds: String,
        /// The open set.
        set: String,
        /// The cartridge it continues on.
        want: String,
    },
    /// The cartridge holds a media set whose retention has not passed: it
    /// is never overwritten before.
    #[error("{medium} is retained until {until}")]
    Retained {
        /// The cartridge.
        medium: String,
        /// Until when.
        until: time::OffsetDateTime,
    },
    /// Reading a media set back found fewer whole objects than it holds.
    #[error("verify of media set {set}: {whole}/{objects} objects read back whole")]
    SetVerifyIncomplete {
        /// The set.
        set: String,
        /// Objects read back whole.
        whole: usize,
        /// Objects in the set.
        objects: usize,
    },
    /// A tape pool's settings name no device that can be opened.
    #[error("[[tape_pool]] {pool}: {problem}")]
    TapePoolSettings {
        /// The pool.
        pool: String,
        /// What is missing.
        problem: crate::tape::devices::SettingsProblem,
    },
    /// The medium belongs to another pool.
    #[error("{medium} belongs to another pool")]
    OtherPoolsMedium {
        /// The cartridge.
        medium: String,
        /// The pool it belongs to, if any.
        pool: Option<String>,
    },
    /// The cartridge is part of a media set still open (being written,
    /// or left open by an interrupted job).
    #[error("{medium} is part of the open media set {set}")]
    InOpenSet {
        /// The cartridge.
        medium: String,
        /// The set.
        set: String,
    },
    /// The cartridge carries the label of another hokan cartridge, of
    /// another pool.
    #[error("{medium} carries the label of {label} of pool {pool}")]
    OtherCartridgesLabel {
        /// The cartridge.
        medium: String,
        /// The cartridge its label names.
        label: String,
        /// The pool its label names.
        pool: String,
    },
    /// No free storage slot to move a cartridge to from the mail slot.
    #[error("no free storage slot")]
    NoStorageSlot,
    /// No complete media set of the pool to restore from.
    #[error("pool {pool}: no media set to restore from ({why:?})")]
    NoSetToRestore {
        /// The pool.
        pool: String,
        /// What was asked that no set answers.
        why: crate::tape::restore::NoSet,
        /// The pool's sets in the catalog (newest first), for the person
        /// to choose from; empty when not looked at.
        known: Vec<hokan_catalog::MediaSetRow>,
    },
    /// The media set does not hold the snapshot asked for.
    #[error("media set {set} of pool {pool} holds no snapshot {snapshot}")]
    SnapshotNotInSet {
        /// The pool.
        pool: String,
        /// The set.
        set: String,
        /// The snapshot asked for.
        snapshot: String,
        /// The snapshots it holds.
        holds: Vec<String>,
    },
    /// Cartridges of the set to restore from are not in the library.
    #[error("library {library} lacks {} cartridge(s) of the set", away.len())]
    SetCartridgesAway {
        /// The library.
        library: String,
        /// The pool.
        pool: String,
        /// The cartridges not in the library.
        away: Vec<crate::tape::restore::SetCartridge>,
        /// The snapshot being restored (`latest` when not resolved).
        snapshot: String,
    },
    /// The single drive does not hold the cartridge of the set to read
    /// next: a person must insert it.
    #[error("{drive}: insert {}", want.medium)]
    InsertSetCartridge {
        /// The drive.
        drive: String,
        /// What the drive holds now.
        holds: crate::tape::restore::InDrive,
        /// The cartridge to insert (boxed: the error stays small).
        want: Box<crate::tape::restore::SetCartridge>,
        /// The snapshot being restored (`latest` when not resolved).
        snapshot: String,
    },
    /// The set's last cartridge holds no complete catalog of the set
    /// (damaged or rewritten).
    #[error("{medium} holds no complete catalog of media set {set}")]
    SetCatalogMissing {
        /// The pool.
        pool: String,
        /// The cartridge.
        medium: String,
        /// The set.
        set: String,
    },
    /// Objects still incomplete after every cartridge of a set was read.
    #[error("objects incomplete after reading every cartridge of set {set}")]
    SetObjectsIncomplete {
        /// The set.
        set: String,
        /// The objects.
        objects: Vec<String>,
    },
    /// Reaching, checking or locking objects of an S3 bucket failed (a
    /// timeout is [`hokan_s3::S3Error::Timeout`] inside; boxed: the
    /// error stays small for the functions that never return this).
    #[error("S3 bucket")]
    Bucket(#[source] Box<hokan_s3::S3Error>),
    /// The bucket has no object lock and the target does not allow
    /// copying there anyway: copies in it could be deleted by anyone
    /// holding the credentials. Nothing was copied.
    #[error("s3:{target} ({bucket}): the bucket has no object lock")]
    BucketUnlocked {
        /// The target.
        target: PoolName,
        /// The bucket.
        bucket: String,
    },
    /// Writing the catalog anchor into a bucket failed (the objects are
    /// in the bucket; the copies are not recorded).
    #[error("{object}: writing the catalog anchor failed")]
    BucketAnchorWrite {
        /// The anchor's object name.
        object: String,
        /// What the bucket said (boxed, as in [`JobError::Bucket`]).
        #[source]
        source: Box<hokan_s3::S3Error>,
    },
    /// The file holding an `[[s3]]` target's secret access key cannot be
    /// read (nothing was sent to the bucket).
    #[error("{}: cannot read the S3 secret access key file", path.display())]
    S3SecretFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Listing, asking for the lock of, or deleting objects of a bucket
    /// through its store failed (`s3 extend-locks`, `s3 prune`).
    #[error("S3 bucket objects")]
    BucketObjects(#[source] StoreError),
    /// The thread that reads a device (`hokan status` asks each device
    /// on its own thread, with a time limit) could not be started.
    #[error("cannot start the thread that reads the device")]
    DeviceReaderSpawn(#[source] std::io::Error),
    /// The thread that read a device stopped without an answer (it
    /// panicked).
    #[error("the device reader stopped without an answer")]
    DeviceReaderStopped,
    /// A person's move of a medium out of a device, while the device
    /// reports holding it right now: a person's record cannot take a
    /// medium out of a device (nothing recorded).
    #[error("{}: {} holds it; a person's move out of it is not recorded", held.medium, held.device)]
    DeviceHoldsMedium {
        /// The medium, the device and both places (boxed: the error stays
        /// small for the functions that never return this).
        held: Box<crate::site::media::HeldByDevice>,
    },
    /// The medium is retired already.
    #[error("{medium} is retired already")]
    AlreadyRetired {
        /// The medium.
        medium: MediumId,
    },
    /// `latest_undamaged` asked with a snapshot named by its id: a snapshot
    /// named is restored as named.
    #[error("latest-undamaged goes with `latest` only, not {spec:?}")]
    LatestUndamagedNeedsLatest {
        /// The snapshot asked for.
        spec: String,
    },
    /// The site's configuration (hokan.toml) cannot be read or has
    /// mistakes; the error names the file people edit.
    #[error("the site configuration")]
    Site(#[source] hokan_site::SiteError),
    /// The offline policy hokan.toml sets is not a valid one.
    #[error("{}: the offline policy", path.display())]
    SitePolicy {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: hokan_offline::OfflineError,
    },
    /// The copy of the configuration the daemon's nights run with cannot
    /// be put in place.
    #[error("{}: the copy of the configuration in force cannot be written", path.display())]
    InForceCopy {
        /// The copy.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl JobError {
    /// Whether the same job, run again later without any change, may
    /// succeed: another job or process held a lock, or a store timed out.
    /// Everything else (damage, a wrong passphrase, a full medium, a
    /// missing snapshot) needs a person first.
    pub fn is_transient(&self) -> bool {
        match self {
            JobError::PoolBusy { .. } => true,
            JobError::LockFile { .. } => false,
            JobError::Repo(e) => repo_is_transient(e),
            JobError::Destination(e) => e.is_transient(),
            JobError::CartridgeWrite { source, .. } => source.is_transient(),
            JobError::ReadBackDiffers { .. }
            | JobError::Disk(_)
            | JobError::NoCartridge { .. }
            | JobError::CartridgeRefused { .. }
            | JobError::EjectFailed { .. }
            | JobError::AnchorUnreadable { .. }
            | JobError::CatalogRolledBack(_)
            | JobError::AnchorWrite { .. }
            | JobError::NoMountPoint { .. }
            | JobError::DrillTargetInSource { .. }
            | JobError::DrillTargetNotEmpty { .. }
            | JobError::Format { .. } => false,
            JobError::Tape(_)
            | JobError::TapeFormat(_)
            | JobError::CartridgeInDrive { .. }
            | JobError::NotInLibrary { .. }
            | JobError::NotInDriveOrSlot { .. }
            | JobError::NoFreeSlot { .. }
            | JobError::MailSlotFull { .. }
            | JobError::NoTapeCartridge { .. }
            | JobError::InsertCartridge { .. }
            | JobError::WrongCartridgeForSet { .. }
            | JobError::Retained { .. }
            | JobError::SetVerifyIncomplete { .. }
            | JobError::TapePoolSettings { .. }
            | JobError::OtherPoolsMedium { .. }
            | JobError::InOpenSet { .. }
            | JobError::OtherCartridgesLabel { .. }
            | JobError::NoStorageSlot
            | JobError::NoSetToRestore { .. }
            | JobError::SnapshotNotInSet { .. }
            | JobError::SetCartridgesAway { .. }
            | JobError::InsertSetCartridge { .. }
            | JobError::SetCatalogMissing { .. }
            | JobError::SetObjectsIncomplete { .. } => false,
            JobError::Bucket(e) | JobError::BucketAnchorWrite { source: e, .. } => e.is_transient(),
            JobError::BucketUnlocked { .. } | JobError::S3SecretFile { .. } => false,
            JobError::BucketObjects(e) => e.is_transient(),
            // The machine was short of threads or memory for a moment.
            JobError::DeviceReaderSpawn(_) => true,
            JobError::DeviceReaderStopped => false,
            JobError::DeviceHoldsMedium { .. } | JobError::AlreadyRetired { .. } => false,
            JobError::Catalog(e) => matches!(e, CatalogError::Busy),
            JobError::NoSnapshotToCopy
            | JobError::NoSuchTarget(_)
            | JobError::NotInProcess(_)
            | JobError::PaperKey(_)
            | JobError::LatestUndamagedNeedsLatest { .. } => false,
            // A person edits hokan.toml or the folder's permissions first.
            JobError::Site(_) | JobError::SitePolicy { .. } | JobError::InForceCopy { .. } => false,
        }
    }
}

fn repo_is_transient(e: &RepoError) -> bool {
    match e {
        RepoError::Locked { .. } => true,
        RepoError::Store(s) => s.is_transient(),
        _ => false,
    }
}

impl From<RepoError> for JobError {
    fn from(e: RepoError) -> JobError {
        JobError::Repo(e)
    }
}

impl From<CatalogError> for JobError {
    fn from(e: CatalogError) -> JobError {
        JobError::Catalog(e)
    }
}

impl From<hokan_s3::S3Error> for JobError {
    fn from(e: hokan_s3::S3Error) -> JobError {
        JobError::Bucket(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_catalog_is_transient_and_a_missing_one_is_not() {
        assert!(JobError::from(CatalogError::Busy).is_transient());
        assert!(!JobError::from(CatalogError::Missing("x".into())).is_transient());
    }

    #[test]
    fn the_cause_is_kept_as_source() {
        let e = JobError::from(RepoError::SnapshotNotFound("abc".into()));
        let src = std::error::Error::source(&e).expect("source");
        assert!(src.to_string().contains("abc"), "{src}");
        assert!(!e.is_transient());
    }
}
