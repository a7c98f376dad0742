//! A local S3 server with object lock: moto's server (`python3 -m
//! moto.server`) on a free loopback port, for `hokan demo` and for tests.
//! Behind the `local-server` feature, so that a binary carries only this;
//! the test doubles (a network that can be cut, the bucket set-ups tests
//! need) stay behind `testing`.
//!
//! moto ignores request signatures: [`ACCESS_KEY`] and [`SECRET`] are
//! fixed, public values, good for a local server only.
//!
//! Where moto differs from AWS S3 (moto 5.2): GetObjectRetention answers 500
//! (use HeadObject's lock headers); a COMPLIANCE retention can be shortened;
//! suspending versioning on a locked bucket is accepted; a default retention
//! can only be set on an empty bucket. It does refuse deleting a locked
//! version (403), keeps old versions on overwrite, honours governance bypass
//! and `If-None-Match: *`, and ignores request signatures.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The access key id of a local server (moto accepts any).
pub const ACCESS_KEY: &str = "hokan-test-key";
/// The secret of a local server (moto checks none).
pub const SECRET: &str = "hokan-test-secret";

/// A moto S3 server process on a free loopback port; killed on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
}

/// A free loopback port (the OS's pick; a small race until it is bound again).
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl MotoServer {
    /// Start moto's server and wait until it answers (up to 30 s).
    pub fn start() -> Result<MotoServer, String> {
        let mut last = String::new();
        for _ in 0..3 {
            match MotoServer::try_start() {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn try_start() -> Result<MotoServer, String> {
        let port = free_port().map_err(|e| format!("no free loopback port: {e}"))?;
        let log =
            std::env::temp_dir().join(format!("hokan-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| {
                format!("cannot run python3 -m moto.server ({e}): install python3 and `pip install 'moto[server]'` (scripts/test.sh does)")
            })?;
        let mut server = MotoServer {
            child: Some(child),
            port,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let out = std::fs::read_to_string(&server.log).unwrap_or_default();
                return Err(format!(
                    "moto server exited at start ({status}); install it with `pip install 'moto[server]'` (scripts/test.sh does). Its output:\n{out}"
                ));
            }
            if matches!(server.http("GET", "/", &[], b""), Ok((200, _))) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "moto server on port {port} did not answer within 30 s; its output is in {}",
                    server.log.display()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Create a bucket with object lock enabled at creation (and so
    /// versioning enabled).
    pub fn create_locked_bucket(&self, name: &str) -> Result<(), String> {
        self.expect_ok(
            "PUT",
            &format!("/{name}"),
            &[("x-amz-bucket-object-lock-enabled", "true")],
            b"",
        )?;
        self.put_versioning(name, true)
    }

    /// Enable (or suspend) versioning.
    pub fn put_versioning(&self, bucket: &str, enabled: bool) -> Result<(), String> {
        let status = if enabled { "Enabled" } else { "Suspended" };
        let body = format!(
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{status}</Status></VersioningConfiguration>"
        );
        self.expect_ok(
            "PUT",
            &format!("/{bucket}?versioning"),
            &[],
            body.as_bytes(),
        )
    }

    /// The server process's id (to pause it with SIGSTOP in tests of a
    /// stalled server); `None` once stopped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stop the server (also done on drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&self.log);
        }
    }

    pub(crate) fn expect_ok(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), String> {
        match self.http(method, path, headers, body) {
            Ok((status, _)) if (200..300).contains(&status) => Ok(()),
            Ok((status, text)) => Err(format!("moto: {method} {path} answered {status}: {text}")),
            Err(e) => Err(format!("moto: {method} {path} failed: {e}")),
        }
    }

    /// One plain HTTP/1.1 request (moto does not check signatures).
    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<(u16, String)> {
        let mut conn = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(2))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        req.push_str("\r\n");
        conn.write_all(req.as_bytes())?;
        conn.write_all(body)?;
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer)?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no HTTP status line"))?;
        Ok((status, text))
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}
