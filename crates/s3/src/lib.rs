//! hokan's S3 store: a repository in a bucket under object lock (項番 ③-1).
//!
//! **Owns**
//! - [`S3Store`]: [`hokan_repo::store::Store`] on an S3 bucket (AWS or an
//!   S3-compatible service), with every object written under an object-lock
//!   retention, multipart upload for large objects, the SDK's standard retries
//!   and a bounded number of requests in flight;
//! - the lock maintenance the store needs to stay offline: reading an
//!   object's lock ([`S3Store::object_lock`]) and extending it
//!   ([`S3Store::extend_lock`]);
//! - proof that the bucket is what it claims: [`bucket_check`] (versioning,
//!   object lock, default retention, what the credentials may do, clock skew)
//!   and [`probe`] (does the server *enforce* the lock?);
//! - with the `local-server` feature, `local`: a local moto server process
//!   and its locked bucket (`hokan demo`);
//! - with the `testing` feature (tests only), `testing`: that server's
//!   test set-ups and a TCP proxy that cuts the network, for tests here and
//!   in the binary; and `rgw`, a handle on a real single-node Ceph RGW
//!   (started by `scripts/ceph-rgw.sh`), which enforces object lock as AWS
//!   does.
//!
//! **Leaves to others**: which objects exist and when they may go
//! (`hokan-repo`), how long a pool keeps copies and whether a copy counts as
//! offline (`hokan-site`, `hokan-offline`), what a person sees (the `hokan`
//! binary).
//!
//! # Why object lock makes a bucket offline
//! A cloud copy is reachable over the network by whoever holds its
//! credentials, ransomware included. It only counts as offline while the data
//! cannot be deleted or overwritten, by anyone, until a date: S3 object lock in
//! COMPLIANCE mode. GOVERNANCE mode can be bypassed by credentials with
//! `s3:BypassGovernanceRetention`, so it is allowed but reported as weaker.
//! Every object is written with its own retention date (not just the bucket's
//! default), so the protection does not depend on a bucket setting someone
//! could change later; [`S3Store::extend_lock`] moves the date forward for
//! objects still needed.
//!
//! # Layout
//! Keys are `<prefix>/<path>` where `<path>` is [`ObjectKind::path`], the
//! same relative path `hokan_store::LocalStore` uses under its
//! root, so a repository can be copied between a directory and a bucket
//! object by object. Canaries of the bucket check and the probe live under
//! `<prefix>/hokan-probe/`, outside every kind's folder, so listings never
//! show them.
//!
//! # Reading lock state
//! Lock state is read from HeadObject (`x-amz-object-lock-mode`,
//! `x-amz-object-lock-retain-until-date`, `x-amz-object-lock-legal-hold`),
//! not GetObjectRetention: both need `s3:GetObjectRetention` on AWS, HeadObject
//! also works on moto (whose GetObjectRetention answers 500), and it returns
//! the version id in the same request. On AWS, HeadObject silently omits the
//! lock headers when the credentials lack that permission; the bucket check
//! writes a locked canary and warns when its lock is not visible.
//!
//! [`ObjectKind::path`]: hokan_repo::store::ObjectKind::path
#![deny(missing_docs)]
// `S3Error` is about 140 bytes (bucket, key, the service's answer and the
// cause, all needed in the message). Errors are rare next to the network
// round trip each call makes, so boxing them would buy nothing.
#![allow(clippy::result_large_err)]

use std::time::Duration;

mod check;
mod error;
#[cfg(feature = "local-server")]
pub mod local;
mod multipart;
mod name;
mod objects;
mod probe;
mod requests;
#[cfg(feature = "testing")]
pub mod rgw;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use check::{bucket_check, BucketReport, DefaultRetention, Versioning};
pub use error::S3Error;
pub use objects::{FirstVersions, LockExpectation, ObjectFault, ObjectFinding};
pub use probe::{probe, ProbeReport, PROBE_RETENTION};
pub use store::{Extended, NetworkOptions, ObjectLockState, S3Store};

/// The smallest part S3 accepts in a multipart upload (except the last).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// The object-lock mode hokan writes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockMode {
    /// Nobody, not even the account root, can shorten or remove the
    /// retention before it ends. Full strength for ③-1.
    Compliance,
    /// Credentials with `s3:BypassGovernanceRetention` can delete the object
    /// or shorten the retention. Allowed, reported as weaker.
    Governance,
}

impl LockMode {
    /// The name S3 uses (`COMPLIANCE`, `GOVERNANCE`).
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Compliance => "COMPLIANCE",
            LockMode::Governance => "GOVERNANCE",
        }
    }
}

impl std::fmt::Display for LockMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lock every object is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockSpec {
    /// COMPLIANCE (default) or GOVERNANCE.
    pub mode: LockMode,
    /// How long from the moment of writing the object stays locked. Should
    /// cover the pool's retention; [`S3Store::extend_lock`] extends it later.
    pub retention: Duration,
}

/// Where and how to reach the bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Config {
    /// The service endpoint (`https://s3.example.jp`); `None` for AWS's own
    /// endpoint of the region.
    pub endpoint: Option<String>,
    /// The region (S3-compatible services usually accept `us-east-1`).
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// A key prefix inside the bucket (leading and trailing `/` ignored).
    pub prefix: Option<String>,
    /// Address the bucket in the path (`endpoint/bucket/key`) rather than the
    /// host name; most S3-compatible services need this.
    pub path_style: bool,
    /// Access key id and secret. `None`: the usual AWS sources (environment,
    /// shared config and credentials files, web identity, container or
    /// instance role).
    pub credentials: Option<(String, String)>,
    /// The lock every object is written with; `None` writes without lock (the
    /// copies then never count as offline).
    pub lock: Option<LockSpec>,
    /// Requests in flight at once, parts of multipart uploads included. A
    /// hospital uplink of 10 to 100 Mbit/s is saturated by a few; more only
    /// makes each slower and timeouts likelier.
    pub concurrency: usize,
    /// Part size of multipart uploads (at least [`MIN_PART_SIZE`]).
    pub part_size: u64,
    /// Objects larger than this are uploaded in parts.
    pub multipart_threshold: u64,
    /// Read every object as its FIRST version and list objects from their
    /// versions: hokan never overwrites or deletes an object it needs, so
    /// the first version is the one hokan wrote (and locked), whatever was
    /// written or deleted on top of it since (ransomware with the same
    /// credentials only adds versions and delete markers). For restores.
    pub original_versions: bool,
}

impl S3Config {
    /// A configuration for `bucket` in `region` with the defaults: AWS's
    /// endpoint, no prefix, credentials from the usual sources, COMPLIANCE
    /// lock for 30 days, 4 requests in flight, 8 MiB parts above 16 MiB.
    pub fn new(region: impl Into<String>, bucket: impl Into<String>) -> Self {
        S3Config {
            endpoint: None,
            region: region.into(),
            bucket: bucket.into(),
            prefix: None,
            path_style: false,
            credentials: None,
            lock: Some(LockSpec {
                mode: LockMode::Compliance,
                retention: Duration::from_secs(30 * 86_400),
            }),
            concurrency: 4,
            part_size: 8 * 1024 * 1024,
            multipart_threshold: 16 * 1024 * 1024,
            original_versions: false,
        }
    }
}
