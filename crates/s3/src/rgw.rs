//! A real, strict S3 server for tests: a single-node Ceph cluster with the
//! RADOS Gateway, started by the project's `scripts/ceph-rgw.sh`.
//!
//! Unlike moto, RGW (Ceph 16) **enforces** COMPLIANCE object lock: deleting
//! a locked version, shortening its retention, switching it to GOVERNANCE
//! and the governance bypass header are all refused with 403. It checks
//! request signatures too. Its two gaps, which hokan works around and tests
//! here prove: `If-None-Match: *` is ignored on versioned buckets (the put
//! succeeds as a new version), and the lock headers of
//! CreateMultipartUpload are silently dropped.
//!
//! [`RgwServer::get`] reads `HOKAN_TEST_RGW_ENDPOINT`,
//! `HOKAN_TEST_RGW_ACCESS_KEY` and `HOKAN_TEST_RGW_SECRET` (what
//! `scripts/ceph-rgw.sh env DIR` prints; `scripts/test.sh` starts one
//! cluster for the whole suite and exports them). Without them it starts
//! the cluster itself in `<target dir>/ceph-rgw` (port
//! `HOKAN_TEST_RGW_PORT`, default 7480), once for all test processes (a
//! file lock orders them; nextest runs each test in its own process), and
//! leaves it running for the next run: stop it with
//! `scripts/ceph-rgw.sh stop <target dir>/ceph-rgw`. If Ceph is not
//! installed it fails with the apt command; tests should fail with that
//! message, never skip.
//!
//! The cluster is shared, so every test takes fresh bucket names
//! ([`RgwServer::bucket`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

use crate::{S3Config, S3Store};

/// The environment variables that name a running RGW.
pub const ENV_ENDPOINT: &str = "HOKAN_TEST_RGW_ENDPOINT";
/// The access key id of the RGW test user.
pub const ENV_ACCESS_KEY: &str = "HOKAN_TEST_RGW_ACCESS_KEY";
/// The secret of the RGW test user.
pub const ENV_SECRET: &str = "HOKAN_TEST_RGW_SECRET";

/// A handle on the shared Ceph RGW (nothing to stop on drop: the cluster
/// outlives the test).
#[derive(Clone, Debug)]
pub struct RgwServer {
    endpoint: String,
    access_key: String,
    secret: String,
}

impl RgwServer {
    /// The cluster named by the environment, or the one in
    /// `<target dir>/ceph-rgw`, started if need be (see the module docs).
    pub fn get() -> Result<RgwServer, String> {
        let from_env = (
            std::env::var(ENV_ENDPOINT),
            std::env::var(ENV_ACCESS_KEY),
            std::env::var(ENV_SECRET),
        );
        if let (Ok(endpoint), Ok(access_key), Ok(secret)) = from_env {
            return Ok(RgwServer {
                endpoint,
                access_key,
                secret,
            });
        }
        let dir = cluster_dir()?;
        let output = {
            let _lock = FileLock::take(&dir.with_extension("lock"))?;
            let port = std::env::var("HOKAN_TEST_RGW_PORT").unwrap_or_else(|_| "7480".into());
            Command::new("bash")
                .arg(script())
                .arg("start")
                .arg(&dir)
                .arg(&port)
                .output()
                .map_err(|e| format!("cannot run {}: {e}", script().display()))?
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(format!(
                "cannot start the Ceph RGW test cluster in {} ({}):\n{stderr}",
                dir.display(),
                output.status
            ));
        }
        let value = |name: &str| {
            stdout
                .split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .map(str::to_string)
                .ok_or_else(|| format!("scripts/ceph-rgw.sh printed no {name}: {stdout}"))
        };
        Ok(RgwServer {
            endpoint: value(ENV_ENDPOINT)?,
            access_key: value(ENV_ACCESS_KEY)?,
            secret: value(ENV_SECRET)?,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The test user's access key id and secret.
    pub fn credentials(&self) -> (String, String) {
        (self.access_key.clone(), self.secret.clone())
    }

    /// A bucket name no other test (or earlier run) used: `stem`, the
    /// process id, a counter and the time.
    pub fn bucket(&self, stem: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            % 1_000_000_000_000;
        let stem: String = stem
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(24)
            .collect();
        format!(
            "{stem}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        )
    }

    /// A store configuration for `bucket`: path style, the test user's
    /// credentials, region `us-east-1`, COMPLIANCE lock for a day, 5 MiB
    /// parts above 8 MiB (as `MotoServer::config`).
    pub fn config(&self, bucket: &str) -> S3Config {
        let mut cfg = S3Config::new("us-east-1", bucket);
        cfg.endpoint = Some(self.endpoint());
        cfg.path_style = true;
        cfg.credentials = Some(self.credentials());
        cfg.part_size = crate::MIN_PART_SIZE;
        cfg.multipart_threshold = 8 * 1024 * 1024;
        if let Some(lock) = cfg.lock.as_mut() {
            lock.retention = Duration::from_secs(86_400);
        }
        cfg
    }

    /// Create a bucket with object lock enabled at creation (and so
    /// versioning enabled).
    pub fn create_locked_bucket(&self, name: &str) -> Result<(), String> {
        self.create(name, true, false)
    }

    /// Create a bucket without object lock or versioning.
    pub fn create_plain_bucket(&self, name: &str) -> Result<(), String> {
        self.create(name, false, false)
    }

    /// Create a bucket with versioning but without object lock.
    pub fn create_versioned_bucket(&self, name: &str) -> Result<(), String> {
        self.create(name, false, true)
    }

    fn create(&self, name: &str, lock: bool, versioning: bool) -> Result<(), String> {
        let mut cfg = self.config(name);
        cfg.lock = None;
        let store = S3Store::connect(cfg).map_err(|e| e.to_string())?;
        let client = store.client();
        store
            .block_on(
                client
                    .create_bucket()
                    .bucket(name)
                    .set_object_lock_enabled_for_bucket(lock.then_some(true))
                    .send(),
            )
            .map_err(|e| format!("RGW: cannot create bucket {name}: {e:?}"))?;
        if versioning {
            store
                .block_on(
                    client
                        .put_bucket_versioning()
                        .bucket(name)
                        .versioning_configuration(
                            VersioningConfiguration::builder()
                                .status(BucketVersioningStatus::Enabled)
                                .build(),
                        )
                        .send(),
                )
                .map_err(|e| format!("RGW: cannot enable versioning on {name}: {e:?}"))?;
        }
        Ok(())
    }
}

/// `scripts/ceph-rgw.sh` of this source tree.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ceph-rgw.sh")
}

/// `<target dir>/ceph-rgw`: the test executable is `<target
/// dir>/<profile>/deps/<name>` (or `<profile>/<name>` for a binary).
fn cluster_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no current executable: {e}"))?;
    let target = exe
        .ancestors()
        .find(|a| a.join("CACHEDIR.TAG").is_file())
        .or_else(|| exe.ancestors().nth(3))
        .ok_or_else(|| format!("no target dir above {}", exe.display()))?;
    Ok(target.join("ceph-rgw"))
}

/// An exclusive `flock` on a file, released on drop (and by the kernel
/// when the process dies).
struct FileLock(std::fs::File);

impl FileLock {
    fn take(path: &Path) -> Result<FileLock, String> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(format!(
                "cannot lock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `take`.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}
