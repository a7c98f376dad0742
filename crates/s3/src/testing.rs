//! Test doubles for S3: a real moto server process ([`MotoServer`], from
//! [`crate::local`], with the bucket set-ups tests need), and a TCP proxy
//! that cuts the network. Behind the `testing` feature; the binary's tests
//! use them as a dev-dependency with that feature.
//!
//! [`MotoServer`] runs `python3 -m moto.server` on a free loopback port, one
//! per test, so tests never share state. moto is a Python package (CI's
//! `scripts/test.sh` installs `moto[server]`); if it cannot be started,
//! [`MotoServer::start`] returns an error saying how to install it, and tests
//! should fail with that message rather than skip: a skipped S3 test proves
//! nothing. Where moto differs from AWS S3 is listed in [`crate::local`].

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub use crate::local::{MotoServer, ACCESS_KEY as TEST_ACCESS_KEY, SECRET as TEST_SECRET};
pub use crate::rgw::RgwServer;
use crate::{LockMode, S3Config};

/// The bucket set-ups and configuration tests need.
impl MotoServer {
    /// A store configuration for `bucket` on this server: path style, static
    /// test credentials, region `us-east-1`, COMPLIANCE lock for a day, 5 MiB
    /// parts above 8 MiB.
    pub fn config(&self, bucket: &str) -> S3Config {
        let mut cfg = S3Config::new("us-east-1", bucket);
        cfg.endpoint = Some(self.endpoint());
        cfg.path_style = true;
        cfg.credentials = Some((TEST_ACCESS_KEY.into(), TEST_SECRET.into()));
        cfg.part_size = crate::MIN_PART_SIZE;
        cfg.multipart_threshold = 8 * 1024 * 1024;
        if let Some(lock) = cfg.lock.as_mut() {
            lock.retention = Duration::from_secs(86_400);
        }
        cfg
    }

    /// Create a bucket without object lock or versioning.
    pub fn create_plain_bucket(&self, name: &str) -> Result<(), String> {
        self.expect_ok("PUT", &format!("/{name}"), &[], b"")
    }

    /// Turn versioning on for a bucket (without object lock).
    pub fn enable_versioning(&self, bucket: &str) -> Result<(), String> {
        let body = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>";
        self.expect_ok(
            "PUT",
            &format!("/{bucket}?versioning"),
            &[],
            body.as_bytes(),
        )
    }

    /// Set a default retention on a locked bucket (moto: only while empty).
    pub fn put_default_retention(
        &self,
        bucket: &str,
        mode: LockMode,
        days: u32,
    ) -> Result<(), String> {
        let body = format!(
            "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>{mode}</Mode><Days>{days}</Days></DefaultRetention></Rule></ObjectLockConfiguration>"
        );
        let md5 = crate::requests::content_md5(body.as_bytes());
        self.expect_ok(
            "PUT",
            &format!("/{bucket}?object-lock"),
            &[("Content-MD5", md5.as_str())],
            body.as_bytes(),
        )
    }

    /// Forget every bucket and object.
    pub fn reset(&self) -> Result<(), String> {
        self.expect_ok("POST", "/moto-api/reset", &[], b"")
    }
}

/// A TCP proxy on a free loopback port that forwards to a target and can cut
/// the network: [`FlakyProxy::cut`] drops every connection and refuses new
/// ones (accepts and closes them at once) until [`FlakyProxy::restore`].
/// A thread per connection and direction copies the bytes.
#[derive(Debug)]
pub struct FlakyProxy {
    port: u16,
    state: Arc<ProxyState>,
}

#[derive(Debug)]
struct ProxyState {
    target: SocketAddr,
    cut: AtomicBool,
    stopped: AtomicBool,
    /// Bytes still allowed from clients to the target before an automatic
    /// cut; `i64::MAX` means no limit.
    budget: AtomicI64,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
    /// Connections accepted (refused ones included).
    accepted: AtomicU64,
}

impl ProxyState {
    fn cut_all(&self) {
        self.cut.store(true, Ordering::SeqCst);
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()));
        for (client, server) in conns.values() {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

impl FlakyProxy {
    /// Forward a free loopback port to `target` (`host:port` or an
    /// `http://host:port` endpoint).
    pub fn start(target: &str) -> Result<FlakyProxy, String> {
        let addr_text = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let target: SocketAddr = addr_text
            .parse()
            .map_err(|e| format!("proxy target {addr_text:?} is not host:port: {e}"))?;
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("proxy cannot bind: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let state = Arc::new(ProxyState {
            target,
            cut: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            budget: AtomicI64::new(i64::MAX),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            accepted: AtomicU64::new(0),
        });
        let st = state.clone();
        thread::Builder::new()
            .name("flaky-proxy-accept".into())
            .spawn(move || accept_loop(listener, st))
            .map_err(|e| e.to_string())?;
        Ok(FlakyProxy { port, state })
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Drop all connections and refuse new ones.
    pub fn cut(&self) {
        self.state.cut_all();
    }

    /// Cut automatically once `bytes` more bytes went from clients to the
    /// target (e.g. in the middle of an upload).
    pub fn cut_after(&self, bytes: u64) {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.state.budget.store(bytes, Ordering::SeqCst);
    }

    /// Accept and forward connections again (and forget any `cut_after`).
    pub fn restore(&self) {
        self.state.budget.store(i64::MAX, Ordering::SeqCst);
        self.state.cut.store(false, Ordering::SeqCst);
    }

    /// Whether the proxy is cut now.
    pub fn is_cut(&self) -> bool {
        self.state.cut.load(Ordering::SeqCst)
    }

    /// Connections accepted so far, refused ones included.
    pub fn connections(&self) -> u64 {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.state.cut_all();
        // Wake the accept loop so it sees `stopped`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn accept_loop(listener: TcpListener, state: Arc<ProxyState>) {
    for conn in listener.incoming() {
        if state.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = conn else { continue };
        state.accepted.fetch_add(1, Ordering::SeqCst);
        if state.cut.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(state.target) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let id = state.next_id.fetch_add(1, Ordering::SeqCst);
        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
            client.try_clone(),
            server.try_clone(),
            client.try_clone(),
            server.try_clone(),
        ) else {
            continue;
        };
        state
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (c3, s3));
        let st = state.clone();
        thread::spawn(move || pump(client, s2, &st, id, true));
        let st = state.clone();
        thread::spawn(move || pump(server, c2, &st, id, false));
    }
}

/// Copy `from` to `to` until either side closes; `upload` marks the
/// client-to-target direction, which spends the cut budget.
fn pump(mut from: TcpStream, mut to: TcpStream, state: &ProxyState, id: u64, upload: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if upload && state.budget.fetch_sub(n as i64, Ordering::SeqCst) <= n as i64 {
            state.cut_all();
            break;
        }
        if state.cut.load(Ordering::SeqCst) || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
    state
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
}
