//! Shared set-up: every test starts its own moto server on a free port.
#![allow(dead_code)]

use std::time::Duration;

use hokan_s3::testing::MotoServer;
use hokan_s3::{NetworkOptions, S3Config, S3Store};

/// Start moto or fail the test with the reason (CI installs moto; a skipped
/// S3 test would prove nothing).
pub fn moto() -> MotoServer {
    MotoServer::start().unwrap_or_else(|e| panic!("cannot start the moto S3 server: {e}"))
}

/// Short backoffs so failing requests fail fast in tests.
pub fn fast_network() -> NetworkOptions {
    NetworkOptions {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(30),
        attempt_timeout: Duration::from_secs(40),
        operation_timeout: Duration::from_secs(120),
    }
}

pub fn connect(cfg: S3Config) -> S3Store {
    S3Store::connect_with(cfg, fast_network()).expect("connect")
}

/// A store on a new locked bucket of `server`.
pub fn locked_store(server: &MotoServer, bucket: &str) -> S3Store {
    server
        .create_locked_bucket(bucket)
        .expect("create locked bucket");
    connect(server.config(bucket))
}

/// A store without lock on a new plain bucket of `server`.
pub fn plain_store(server: &MotoServer, bucket: &str) -> S3Store {
    server
        .create_plain_bucket(bucket)
        .expect("create plain bucket");
    let mut cfg = server.config(bucket);
    cfg.lock = None;
    connect(cfg)
}

/// Unix seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
