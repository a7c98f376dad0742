//! [`S3Store`]: the [`Store`] contract on an S3 bucket.
//!
//! # How the contract is kept
//! - **Put once.** A put first asks HeadObject whether the key exists
//!   ([`StoreError::AlreadyExists`] if so), then writes with
//!   `If-None-Match: *`, which AWS S3 (since 2024), moto and recent
//!   S3-compatible services evaluate atomically: of two racing writers exactly
//!   one wins, the other gets 412 and [`StoreError::AlreadyExists`]. A server
//!   that ignores the header leaves a race between the HeadObject and the
//!   write; [`crate::bucket_check`] reports whether the server honours it
//!   (`conditional_put`). Ceph RGW ignores it on versioned buckets (every
//!   racing put succeeds as a new version), so on a versioned bucket each
//!   put then lists the key's versions: the put whose version is the first
//!   wins; a loser deletes its own version if it may (no retention), or else
//!   puts a copy of the first version on top (under the lock), so the object
//!   reads as the winner's, and returns [`StoreError::AlreadyExists`]. The
//!   winner's version is never touched.
//! - **Atomic.** S3 never shows a partial object: a single PutObject is
//!   stored whole or not at all, and a multipart upload becomes an object only
//!   when CompleteMultipartUpload succeeds. A failed multipart upload is
//!   aborted; if even the abort cannot reach the server (the uplink is down)
//!   the parts stay invisible to listings and are billed until a lifecycle
//!   rule (`AbortIncompleteMultipartUpload`) removes them.
//! - **Durable on return.** S3 acknowledges a write only once it is stored
//!   redundantly.
//! - **Deletion refused while locked.** [`Store::delete`] reads the object's
//!   lock first and returns [`StoreError::Protected`] with the date instead of
//!   sending a DeleteObject. On a versioned bucket a plain DeleteObject would
//!   *succeed* on a locked object by adding a delete marker: the data would
//!   stay, but hidden, and the repository would look damaged. Unlocked objects
//!   are deleted by version id, so the space is freed at once.
//!
//! # Lock
//! With a [`LockSpec`], every PutObject and CreateMultipartUpload carries
//! `x-amz-object-lock-mode` and `x-amz-object-lock-retain-until-date` = now +
//! retention (whole seconds, rounded up), and every body a `Content-MD5`
//! (S3 refuses locked writes without a checksum; MD5 is the one every
//! S3-compatible service understands). After a multipart upload the lock is
//! read back and set with PutObjectRetention if the server dropped it (moto
//! and Ceph RGW 16 ignore the lock headers of CreateMultipartUpload).
//!
//! The one exception is [`ObjectKind::Lock`]: lock objects of running
//! operations hold no backup data and must be deletable when the operation
//! ends, so they are written without a retention. (A bucket *default*
//! retention still applies to them; the bucket check warns about it.)
//!
//! # Threads and runtime
//! The store owns a small tokio runtime (2 workers) and blocks on it, so the
//! engine can call it from any number of plain threads. Do not call it from
//! inside another tokio runtime (blocking there panics). A semaphore of
//! [`S3Config::concurrency`] permits bounds the requests in flight, parts of
//! multipart uploads included, whatever the number of calling threads.
//!
//! # Retries
//! The SDK retries in standard mode (exponential backoff with jitter, a retry
//! quota) up to [`NetworkOptions::max_attempts`] attempts: network failures,
//! timeouts, 5xx and throttling. What still fails after that is reported as
//! transient ([`StoreError::is_transient`]) so a job can try again later.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::{Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::Client;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use hokan_repo::store::{ObjectInfo, ObjectKind, Protection, Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::error::S3Error;
use crate::name::{check_name, invalid_name};
use crate::requests::{ceil_secs, rfc3339, SdkErr};
use crate::{LockMode, LockSpec, S3Config, MIN_PART_SIZE};

/// How the client deals with a slow or failing network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkOptions {
    /// Attempts per request, the first included (SDK standard retry mode).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles with each retry (with jitter).
    pub initial_backoff: Duration,
    /// The longest backoff between two attempts.
    pub max_backoff: Duration,
    /// Limit for opening a connection.
    pub connect_timeout: Duration,
    /// Limit from sending a request to the first byte of the answer. It
    /// includes uploading the body, so it must allow a whole part over a slow
    /// uplink shared by [`S3Config::concurrency`] uploads.
    pub read_timeout: Duration,
    /// Limit for one attempt of a request, from start to the answer's
    /// headers (a server that accepts the connection and then stalls is cut
    /// off here, and the attempt retried).
    pub attempt_timeout: Duration,
    /// Limit for a whole request, every attempt and backoff included: after
    /// it the request fails with [`S3Error::Timeout`], naming the endpoint.
    pub operation_timeout: Duration,
}

impl Default for NetworkOptions {
    /// 8 attempts, 1 s first backoff up to 20 s (about two minutes of outage
    /// bridged), 10 s to connect, 5 minutes to the first byte (an 8 MiB part
    /// at 1 Mbit/s takes about 70 s), 5 minutes 10 s per attempt, 15
    /// minutes per request in all.
    fn default() -> Self {
        NetworkOptions {
            max_attempts: 8,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(300),
            attempt_timeout: Duration::from_secs(310),
            operation_timeout: Duration::from_secs(900),
        }
    }
}

/// An object's lock, as HeadObject reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectLockState {
    /// The retention mode, if the object has a retention.
    pub mode: Option<LockMode>,
    /// The end of the retention (whole seconds, rounded up).
    pub retain_until: Option<OffsetDateTime>,
    /// Whether a legal hold is on (protects with no end date).
    pub legal_hold: bool,
    /// The current version's id (`None` on an unversioned bucket).
    pub version_id: Option<String>,
}

impl ObjectLockState {
    /// What protects the object at `now`.
    pub fn protection(&self, now: OffsetDateTime) -> Protection {
        if self.legal_hold {
            return Protection::Indefinite;
        }
        match (self.mode, self.retain_until) {
            (Some(mode), Some(until)) if until > now => Protection::Until {
                unix_secs: until.unix_timestamp(),
                bypassable: mode == LockMode::Governance,
            },
            _ => Protection::None,
        }
    }

    /// A short English description for messages, e.g. `COMPLIANCE object
    /// lock until 2026-05-01T00:00:00Z`.
    pub fn describe(&self) -> String {
        let until = self.retain_until.map(rfc3339).unwrap_or_default();
        let mut out = match self.mode {
            Some(mode) => format!("{mode} object lock until {until}"),
            None => "no retention".to_string(),
        };
        if self.legal_hold {
            out.push_str(", legal hold on");
        }
        out
    }
}

/// What [`S3Store::extend_lock`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Extended {
    /// The retention now ends at `to` (it ended at `from`, or there was none).
    Extended {
        /// The previous end, if any.
        from: Option<OffsetDateTime>,
        /// The new end.
        to: OffsetDateTime,
    },
    /// The retention already ended at or after the requested date; left as
    /// it was (a retention is never shortened).
    AlreadyLater {
        /// The end it keeps.
        until: OffsetDateTime,
    },
}

/// The S3 store. See the [module docs](self).
pub struct S3Store {
    pub(crate) client: Client,
    rt: OwnedRuntime,
    pub(crate) cfg: S3Config,
    /// The key prefix, normalised: empty or ending in `/`.
    prefix: String,
    description: String,
    /// One permit per request in flight.
    pub(crate) permits: Arc<Semaphore>,
    /// The limits the client was built with (named in timeout errors).
    net: NetworkOptions,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the config: it may hold a secret.
        f.debug_struct("S3Store")
            .field("store", &self.description)
            .finish_non_exhaustive()
    }
}

/// A runtime that shuts down without blocking when dropped, so dropping the
/// store inside an async context cannot panic.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl S3Store {
    /// [`Store::put`] of a body the SDK can send (and resend) without
    /// copying it.
    fn put_bytes(
        &self,
        kind: ObjectKind,
        name: &str,
        body: bytes::Bytes,
    ) -> Result<(), StoreError> {
        let key = self.name_ok("write", kind, name)?;
        let fail = |e: S3Error| {
            if e.code() == Some("PreconditionFailed") {
                self.already_exists(kind, name)
            } else {
                self.store_err("write", kind, name, e)
            }
        };
        match self.block_on(self.head_key(&key, None)) {
            Ok(_) => return Err(self.already_exists(kind, name)),
            Err(S3Error::NotFound { .. }) => {}
            Err(e) => return Err(fail(e)),
        }
        // Lock objects of running operations are deleted when the operation
        // ends: they carry no retention (see the module docs).
        let lock = if kind == ObjectKind::Lock {
            None
        } else {
            self.new_lock()
        };
        let len = body.len();
        let written = if len as u64 > self.cfg.multipart_threshold {
            self.block_on(self.put_multipart(&key, body, lock))
        } else {
            self.block_on(self.put_key(&key, body, lock, true))
        };
        let written = written.map_err(fail)?;
        // A server that ignores `If-None-Match: *` on a versioned bucket
        // (Ceph RGW) lets a racing writer add a version: the first one wins.
        if let Some(version) = written.filter(|v| v != "null") {
            if !self
                .block_on(self.settle_race(&key, &version, lock))
                .map_err(fail)?
            {
                return Err(self.already_exists(kind, name));
            }
        }
        tracing::debug!(key = %key, bytes = len, "object written");
        Ok(())
    }

    /// Connect with the default [`NetworkOptions`]. Sends nothing yet:
    /// credentials are resolved and the bucket is reached on the first request
    /// ([`Store::create`] or [`crate::bucket_check`] check it).
    pub fn connect(cfg: S3Config) -> Result<S3Store, S3Error> {
        S3Store::connect_with(cfg, NetworkOptions::default())
    }

    /// Connect with explicit [`NetworkOptions`] (tests use short backoffs).
    pub fn connect_with(cfg: S3Config, net: NetworkOptions) -> Result<S3Store, S3Error> {
        validate(&cfg, &net)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hokan-s3")
            .enable_all()
            .build()
            .map_err(|source| S3Error::Runtime {
                bucket: cfg.bucket.clone(),
                source,
            })?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let retry = RetryConfig::standard()
            .with_max_attempts(net.max_attempts)
            .with_initial_backoff(net.initial_backoff)
            .with_max_backoff(net.max_backoff);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(net.connect_timeout)
            .read_timeout(net.read_timeout)
            .operation_attempt_timeout(net.attempt_timeout)
            .operation_timeout(net.operation_timeout)
            .build();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .http_client(http)
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some((id, secret)) = &cfg.credentials {
            loader = loader.credentials_provider(Credentials::new(
                id.clone(),
                secret.clone(),
                None,
                None,
                "hokan-s3-config",
            ));
        }
        let shared = rt.block_on(loader.load());
        let mut builder = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(cfg.path_style)
            // Content-MD5 is sent explicitly; the SDK's default extra CRC
            // (often as an aws-chunked trailer) trips S3-compatible services.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        if let Some(endpoint) = &cfg.endpoint {
            builder = builder.endpoint_url(endpoint.clone());
        }
        let client = Client::from_conf(builder.build());
        let prefix = match cfg.prefix.as_deref().map(|p| p.trim_matches('/')) {
            Some(p) if !p.is_empty() => format!("{p}/"),
            _ => String::new(),
        };
        let mut description = match prefix.trim_end_matches('/') {
            "" => format!("s3://{}", cfg.bucket),
            p => format!("s3://{}/{p}", cfg.bucket),
        };
        // Which server: a site may reach buckets of one name on several.
        if let Some(endpoint) = &cfg.endpoint {
            description = format!("{description} at {endpoint}");
        }
        let permits = Arc::new(Semaphore::new(cfg.concurrency));
        Ok(S3Store {
            client,
            rt: OwnedRuntime(Some(rt)),
            cfg,
            prefix,
            description,
            permits,
            net,
        })
    }

    /// The SDK client (for tools and tests that need a raw request).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Run a future on the store's runtime, e.g. a raw request through
    /// [`S3Store::client`]. Blocks; do not call from inside a tokio runtime.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt
            .0
            .as_ref()
            .expect("runtime present until drop")
            .block_on(fut)
    }

    /// The configuration the store was connected with.
    pub fn config(&self) -> &S3Config {
        &self.cfg
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.cfg.bucket
    }

    /// The full key of an object: `<prefix>/<kind path>`.
    pub fn key(&self, kind: ObjectKind, name: &str) -> String {
        format!("{}{}", self.prefix, kind.path(name))
    }

    /// The normalised key prefix (empty or ending in `/`).
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The lock of an object's current version, read with HeadObject (see the
    /// crate docs for why not GetObjectRetention).
    /// With [`S3Config::original_versions`], the lock of the first version.
    pub fn object_lock(&self, kind: ObjectKind, name: &str) -> Result<ObjectLockState, S3Error> {
        self.checked(kind, name)?;
        let key = self.key(kind, name);
        self.block_on(async {
            let version = self.version_to_read(&key).await?;
            self.lock_of_key(&key, version.as_deref()).await
        })
    }

    /// The version reads and lock changes address: the first with
    /// [`S3Config::original_versions`], else the current one (`None`).
    pub(crate) async fn version_to_read(&self, key: &str) -> Result<Option<String>, S3Error> {
        if self.cfg.original_versions {
            Ok(Some(self.first_version(key).await?))
        } else {
            Ok(None)
        }
    }

    /// Extend the retention of an object's current version to `until`,
    /// keeping its mode (GOVERNANCE stays GOVERNANCE; an object without
    /// retention gets the configured mode, COMPLIANCE if none). Never
    /// shortens: if the retention already ends at or after `until`, nothing
    /// is sent. With [`S3Config::original_versions`], the first version's
    /// retention (the one hokan wrote), whatever was written on top.
    pub fn extend_lock(
        &self,
        kind: ObjectKind,
        name: &str,
        until: OffsetDateTime,
    ) -> Result<Extended, S3Error> {
        self.checked(kind, name)?;
        let key = self.key(kind, name);
        let until = ceil_secs(until);
        self.block_on(async {
            let version = self.version_to_read(&key).await?;
            let state = self.lock_of_key(&key, version.as_deref()).await?;
            if let Some(current) = state.retain_until.filter(|c| *c >= until) {
                return Ok(Extended::AlreadyLater { until: current });
            }
            let mode = state
                .mode
                .or(self.cfg.lock.map(|l| l.mode))
                .unwrap_or(LockMode::Compliance);
            self.put_retention(&key, state.version_id.as_deref(), mode, until)
                .await?;
            tracing::debug!(key = %key, until = %rfc3339(until), "object lock extended");
            Ok(Extended::Extended {
                from: state.retain_until,
                to: until,
            })
        })
    }

    /// Delete one version of an object permanently (for maintenance and
    /// tests). `bypass_governance` sends `x-amz-bypass-governance-retention`.
    /// A locked version is refused by the server: [`S3Error::AccessDenied`].
    pub fn delete_version(
        &self,
        kind: ObjectKind,
        name: &str,
        version_id: &str,
        bypass_governance: bool,
    ) -> Result<(), S3Error> {
        self.checked(kind, name)?;
        let key = self.key(kind, name);
        self.block_on(self.delete_key_version(&key, version_id, bypass_governance))
    }

    fn checked(&self, kind: ObjectKind, name: &str) -> Result<(), S3Error> {
        check_name(kind, name).map_err(|why| S3Error::Config {
            bucket: self.cfg.bucket.clone(),
            what: format!("{kind} object name {name:?} is invalid: {why}"),
        })
    }

    pub(crate) fn err(&self, op: &'static str, key: &str, e: SdkErr) -> S3Error {
        if e.timed_out {
            return S3Error::Timeout {
                op,
                endpoint: self.endpoint(),
                bucket: self.cfg.bucket.clone(),
                key: key.to_string(),
                limit: self.net.operation_timeout,
                source: Box::new(e.into_s3(op, &self.cfg.bucket, key)),
            };
        }
        e.into_s3(op, &self.cfg.bucket, key)
    }

    /// The server's address as messages name it: the configured endpoint,
    /// or AWS's for the region.
    pub fn endpoint(&self) -> String {
        self.cfg
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.cfg.region))
    }

    /// The network limits the store was connected with.
    pub fn network(&self) -> &NetworkOptions {
        &self.net
    }

    /// The lock a new object gets now: mode and retain-until date.
    fn new_lock(&self) -> Option<(LockMode, OffsetDateTime)> {
        self.cfg.lock.map(|LockSpec { mode, retention }| {
            (mode, ceil_secs(OffsetDateTime::now_utc() + retention))
        })
    }

    /// `list` from the versions: every object that has a version, with the
    /// size of its first one, even when a delete marker or a newer version
    /// hides it (see [`S3Config::original_versions`]).
    fn list_original(
        &self,
        kind: ObjectKind,
        list_prefix: &str,
    ) -> Result<Vec<ObjectInfo>, S3Error> {
        self.block_on(async {
            let mut first: std::collections::BTreeMap<String, (aws_smithy_types::DateTime, u64)> =
                Default::default();
            for (key, _, at, size) in self.versions_under(list_prefix).await? {
                let Some(rel) = key.strip_prefix(&self.prefix) else {
                    continue;
                };
                let name = rel.rsplit('/').next().unwrap_or(rel);
                if check_name(kind, name).is_err() || kind.path(name) != rel {
                    continue;
                }
                let e = first.entry(name.to_string()).or_insert((at, size));
                if at <= e.0 {
                    *e = (at, size);
                }
            }
            Ok(first
                .into_iter()
                .map(|(name, (_, size))| ObjectInfo { name, size })
                .collect())
        })
    }

    /// After writing `ours`, a version of `key`: whether it is the key's
    /// first version, i.e. this put won. Servers that honour
    /// `If-None-Match: *` on versioned buckets never get here with a lost
    /// race; Ceph RGW ignores it there, so racing puts all "succeed" as
    /// versions on top of each other. The first one wins; a loser removes
    /// its version if it may (no retention), or else writes a copy of the
    /// first version on top, so that the object reads as the winner's.
    pub(crate) async fn settle_race(
        &self,
        key: &str,
        ours: &str,
        lock: Option<(LockMode, OffsetDateTime)>,
    ) -> Result<bool, S3Error> {
        let first = self.first_version(key).await?;
        if first == ours {
            return Ok(true);
        }
        tracing::debug!(key = %key, "a racing writer was first (the server ignored If-None-Match)");
        match self.delete_key_version(key, ours, false).await {
            Ok(()) => return Ok(false),
            Err(S3Error::AccessDenied { .. }) => {}
            Err(e) => return Err(e),
        }
        let _permit = self.permit().await;
        self.client
            .copy_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .copy_source(format!("{}/{key}?versionId={first}", self.cfg.bucket))
            .set_object_lock_mode(lock.map(|(m, _)| crate::requests::object_lock_mode(m)))
            .set_object_lock_retain_until_date(lock.map(|(_, t)| crate::requests::to_smithy(t)))
            .send()
            .await
            .map_err(|e| self.err("CopyObject", key, SdkErr::from(e)))?;
        Ok(false)
    }

    /// One of the `concurrency` request slots, held while a request runs.
    pub(crate) async fn permit(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.permits
            .acquire()
            .await
            .expect("semaphore never closed")
    }

    // ---- mapping to the Store contract ----

    fn name_ok(
        &self,
        op: &'static str,
        kind: ObjectKind,
        name: &str,
    ) -> Result<String, StoreError> {
        check_name(kind, name)
            .map_err(|why| invalid_name(op, kind, name, self.description.clone(), why))?;
        Ok(self.key(kind, name))
    }

    fn store_err(&self, op: &'static str, kind: ObjectKind, name: &str, e: S3Error) -> StoreError {
        let store = self.description.clone();
        let name = name.to_string();
        match e {
            S3Error::NotFound { .. } => StoreError::NotFound { kind, name, store },
            e if matches!(e.code(), Some("QuotaExceeded" | "InsufficientStorage")) => {
                StoreError::NoSpace { kind, name, store }
            }
            e => {
                let transient = e.is_transient();
                let io_kind = if e.is_access_denied() {
                    io::ErrorKind::PermissionDenied
                } else if transient {
                    io::ErrorKind::TimedOut
                } else {
                    io::ErrorKind::Other
                };
                StoreError::Io {
                    op,
                    kind,
                    name,
                    store,
                    source: io::Error::new(io_kind, e),
                    transient,
                }
            }
        }
    }

    fn already_exists(&self, kind: ObjectKind, name: &str) -> StoreError {
        StoreError::AlreadyExists {
            kind,
            name: name.to_string(),
            store: self.description.clone(),
        }
    }

    fn protected(&self, kind: ObjectKind, name: &str, why: String) -> StoreError {
        StoreError::Protected {
            kind,
            name: name.to_string(),
            store: self.description.clone(),
            why,
        }
    }
}

impl Store for S3Store {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn create(&self) -> Result<(), StoreError> {
        let kind = ObjectKind::Config;
        let key = self.key(kind, "config");
        self.block_on(async {
            let _permit = self.permit().await;
            self.client
                .head_bucket()
                .bucket(&self.cfg.bucket)
                .send()
                .await
                .map_err(|e| {
                    let mut e = self.err("HeadBucket", "", SdkErr::from(e));
                    if let S3Error::NotFound { .. } = e {
                        e = S3Error::Config {
                            bucket: self.cfg.bucket.clone(),
                            what: "the bucket does not exist (or is in another region)".into(),
                        };
                    }
                    self.store_err("create repository in", kind, "", e)
                })
        })?;
        match self.block_on(self.head_key(&key, None)) {
            Ok(_) => Err(self.already_exists(kind, "config")),
            Err(S3Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.store_err("create repository in", kind, "config", e)),
        }
    }

    fn put(&self, kind: ObjectKind, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.put_bytes(kind, name, bytes::Bytes::copy_from_slice(data))
    }

    /// Sent as it is, never copied: a pack in flight costs its own size once.
    fn put_vec(
        &self,
        kind: ObjectKind,
        name: &str,
        data: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.put_bytes(kind, name, bytes::Bytes::from(data))
            .map(|()| None)
    }

    fn get(&self, kind: ObjectKind, name: &str) -> Result<Vec<u8>, StoreError> {
        let key = self.name_ok("read", kind, name)?;
        self.block_on(self.get_key(&key, None))
            .map(|r| r.data)
            .map_err(|e| self.store_err("read", kind, name, e))
    }

    fn get_range(
        &self,
        kind: ObjectKind,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        let key = self.name_ok("read", kind, name)?;
        if len == 0 {
            // No request can ask for zero bytes; still answer NotFound for a
            // missing object.
            return self
                .block_on(self.head_key(&key, None))
                .map(|_| Vec::new())
                .map_err(|e| self.store_err("read", kind, name, e));
        }
        let end = offset.saturating_add(len - 1);
        let got = self
            .block_on(self.get_key(&key, Some(format!("bytes={offset}-{end}"))))
            .map_err(|e| self.store_err("read", kind, name, e))?;
        let mut data = got.data;
        if !got.ranged {
            // The server ignored the Range and sent the whole object.
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(data.len());
            data.drain(..start);
        }
        data.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(data)
    }

    fn list(&self, kind: ObjectKind) -> Result<Vec<ObjectInfo>, StoreError> {
        let list_prefix = match kind {
            ObjectKind::Config => self.key(kind, "config"),
            _ => format!("{}{}/", self.prefix, kind.dir()),
        };
        let fail = |e: S3Error| self.store_err("list", kind, "", e);
        if self.cfg.original_versions {
            return self.list_original(kind, &list_prefix).map_err(fail);
        }
        self.block_on(async {
            let mut out = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.cfg.bucket)
                .prefix(&list_prefix)
                .into_paginator()
                .send();
            loop {
                let page = {
                    let _permit = self.permit().await;
                    pages.next().await
                };
                let Some(page) = page else { break };
                let page = page
                    .map_err(|e| fail(self.err("ListObjectsV2", &list_prefix, SdkErr::from(e))))?;
                for obj in page.contents() {
                    let Some(key) = obj.key() else { continue };
                    let Some(rel) = key.strip_prefix(&self.prefix) else {
                        continue;
                    };
                    let name = rel.rsplit('/').next().unwrap_or(rel);
                    // Keys `get` could not find by name are not objects.
                    if check_name(kind, name).is_err() || kind.path(name) != rel {
                        tracing::debug!(key = %key, "not an object, not listed");
                        continue;
                    }
                    out.push(ObjectInfo {
                        name: name.to_string(),
                        size: obj.size().unwrap_or(0).max(0) as u64,
                    });
                }
            }
            Ok(out)
        })
    }

    fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
        let key = self.name_ok("delete", kind, name)?;
        let fail = |e: S3Error| self.store_err("delete", kind, name, e);
        let state = self.block_on(self.lock_of_key(&key, None)).map_err(fail)?;
        if state.protection(OffsetDateTime::now_utc()) != Protection::None {
            return Err(self.protected(kind, name, state.describe()));
        }
        let refused = |e: S3Error| match e {
            // Our clock may be behind the server's, or the lock was set
            // after we looked: the server's refusal is the truth.
            S3Error::AccessDenied { detail, .. } => {
                self.protected(kind, name, format!("the server refused: {detail}"))
            }
            e => fail(e),
        };
        self.block_on(async {
            match state.version_id.as_deref().filter(|v| *v != "null") {
                Some(version) => {
                    self.delete_key_version(&key, version, false)
                        .await
                        .map_err(refused)?;
                    // An older version (written around hokan) would now be
                    // the object: hide it behind a delete marker.
                    match self.head_key(&key, None).await {
                        Err(S3Error::NotFound { .. }) => Ok(()),
                        Err(e) => Err(fail(e)),
                        Ok(_) => self.delete_marker(&key).await.map_err(refused),
                    }
                }
                None => self.delete_marker(&key).await.map_err(refused),
            }
        })?;
        tracing::debug!(key = %key, "object deleted");
        Ok(())
    }

    fn protection(&self, kind: ObjectKind, name: &str) -> Result<Protection, StoreError> {
        let key = self.name_ok("read the protection of", kind, name)?;
        let state = self
            .block_on(self.lock_of_key(&key, None))
            .map_err(|e| self.store_err("read the protection of", kind, name, e))?;
        Ok(state.protection(OffsetDateTime::now_utc()))
    }

    /// The requests the store lets in flight at once
    /// ([`S3Config::concurrency`]): more puts would only wait for a slot.
    fn parallel_writes(&self) -> usize {
        self.cfg.concurrency.max(1)
    }
}

fn validate(cfg: &S3Config, net: &NetworkOptions) -> Result<(), S3Error> {
    let bad = |what: String| {
        Err(S3Error::Config {
            bucket: cfg.bucket.clone(),
            what,
        })
    };
    if cfg.bucket.is_empty() {
        return bad("the bucket name is empty".into());
    }
    if cfg.region.is_empty() {
        return bad("the region is empty (S3-compatible services usually accept us-east-1)".into());
    }
    if cfg.concurrency == 0 {
        return bad("concurrency must be at least 1".into());
    }
    if cfg.part_size < MIN_PART_SIZE || cfg.part_size > 5 << 30 {
        return bad(format!(
            "part size {} is outside S3's limits of 5 MiB to 5 GiB",
            cfg.part_size
        ));
    }
    if cfg.multipart_threshold < cfg.part_size {
        return bad("the multipart threshold must be at least the part size".into());
    }
    if let Some(lock) = cfg.lock {
        if lock.retention < Duration::from_secs(1) {
            return bad("the lock retention must be at least one second".into());
        }
    }
    if net.max_attempts == 0 {
        return bad("max_attempts must be at least 1".into());
    }
    let zero = [
        ("connect", net.connect_timeout),
        ("read", net.read_timeout),
        ("attempt", net.attempt_timeout),
        ("operation", net.operation_timeout),
    ]
    .into_iter()
    .find(|(_, d)| d.is_zero());
    if let Some((what, _)) = zero {
        return bad(format!("the {what} timeout must be at least one second"));
    }
    if net.operation_timeout < net.attempt_timeout {
        return bad("the operation timeout must be at least the attempt timeout".into());
    }
    if let Some(endpoint) = &cfg.endpoint {
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return bad(format!(
                "endpoint {endpoint:?} must start with https:// (or http:// for a test server)"
            ));
        }
    }
    Ok(())
}
