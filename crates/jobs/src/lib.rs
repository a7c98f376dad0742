//! hokan jobs: what happens in a night and in a drill, as a library.
//!
//! This crate owns the logic of the site's jobs that used to live in the
//! `hokan` binary, so that a daemon, the dashboard or a drill can run a job
//! without spawning the command line:
//!
//! - [`backup`]: the site's sources backed up (each after its
//!   pre-backup command) and recorded in the catalog.
//! - [`clock`]: event times of a job, strictly increasing.
//! - [`when`]: times, lengths, capacities and places as people type them,
//!   checked against their ranges.
//! - [`lock`]: one job per pool at a time.
//! - [`catalog`]: the primary repository's snapshots mirrored into the
//!   catalog (`catalog sync`, and the start of every copy job).
//! - [`repository`]: opening a repository with a passphrase or paper key.
//! - [`restore`]: restoring a snapshot of an opened repository, the
//!   routine every restore (folder, tape, disk, bucket) shares.
//! - [`copy`]: which snapshots a copy job copies, and copying them into
//!   a store (a disk cartridge, a bucket) resumably ([`copy::copy_plan`],
//!   one routine for every random-access store).
//! - [`daemon`]: the site a daemon runs nights for ([`daemon::SiteNight`],
//!   `hokan-daemon`'s night): the configuration kept in force, the
//!   catalog's night history, a killed night recorded as interrupted, the
//!   dead-man notice and the outbox retried; the caller says how a night
//!   starts ([`daemon::StartNight`]).
//! - [`disk`]: the removable-disk job ([`disk::backup`]): tonight's
//!   cartridge attached after its label and anchor are checked, the copy,
//!   the new anchor, and the cartridge put out of reach after the job;
//!   opening a pool's device ([`disk::device`]), formatting a cartridge
//!   ([`disk::format`]), what the device holds and ejecting
//!   ([`disk::status`]), and which cartridge a restore reads
//!   ([`disk::restore`]).
//! - [`hooks`]: the command a source runs before its backup (a database
//!   dump), stopped with everything it started after its timeout.
//! - [`night`]: the night's plan: which steps are due tonight by each
//!   target's schedule and the copies the catalog records.
//! - [`notices`]: what a night tells people, as notices to queue.
//! - [`rotation`]: tonight's medium of a pool, and what a person must do
//!   first ([`rotation::RotationPlan`]).
//! - [`s3`]: the S3 copy job ([`s3::copy`]): the bucket checked for
//!   object lock, the copy, objects it relies on locked again, the copies
//!   recorded with their protection, and the catalog anchor in the bucket;
//!   the bucket's check and enforcement probe with a re-check of every
//!   recorded copy ([`s3::check`], [`s3::recheck`]), lock extension and
//!   prune ([`s3::locks`]), and the anchors read back ([`s3::anchor`]).
//! - [`tape`]: the tape media-set job ([`tape::backup`]), moving
//!   cartridges in a library and putting them offline after a job
//!   ([`tape::library`]), what the catalog records around a set, opening
//!   a pool's devices ([`tape::devices`]), restoring from tape alone
//!   ([`tape::restore`]), rebuilding the catalog from tape
//!   ([`tape::scan`]) and a person's label, inventory, status and moves
//!   ([`tape::manage`]).
//! - [`site`]: every configured device asked where its media are before
//!   the site is judged ([`site::observe`]), the site judged on its
//!   catalog with the anchors read from offline media
//!   ([`site::judge()`]), and a person's records about a medium checked
//!   against its device ([`site::media`]).
//!
//! Each copy step of a night is one call that takes the catalog's path,
//! the opened primary repository, the pool's or target's settings and the
//! time, takes the pool's lock and returns a `Serialize` result:
//! [`tape::run_pool`], [`disk::run_pool`], [`s3::run_copy`] and
//! [`s3::run_extend_locks`].
//!
//! Long jobs take a progress handle from the caller
//! ([`copy::CopyProgress`], [`tape::backup::TapeProgress`]): the caller
//! draws the bar and writes the notes in its words.
//!
//! It leaves to others: arguments, output, the ja/en sentences and exit
//! codes (the binary turns a [`JobError`] into those); the catalog's schema
//! (`hokan-catalog`); the offline rules (`hokan-offline`); devices
//! (`hokan-tape`, `hokan-disk`, `hokan-s3`).
//!
//! Nothing here prints. Errors are [`JobError`] (or, for typed input,
//! [`when::ParseError`]), with their causes kept as sources.

#![deny(missing_docs)]

pub mod backup;
pub mod catalog;
pub mod clock;
pub mod copy;
pub mod daemon;
pub mod disk;
pub mod drill;
mod error;
pub mod hooks;
pub mod lock;
pub mod night;
pub mod notices;
pub mod repository;
pub mod restore;
pub mod rotation;
pub mod s3;
pub mod site;
pub mod tape;
#[cfg(test)]
mod test_repo;
pub mod vault;
pub mod when;

pub use clock::Clock;
pub use error::JobError;
pub use lock::PoolLock;
