//! `hokan web serve` on a test site: accounts added with the binary, the
//! server started on a free port with a certificate it makes itself, and
//! stopped when dropped.

use std::io::BufRead;

use super::tape::Site;

/// The password every test account gets.
pub const WEB_PW: &str = "operator password 1";

/// Add the accounts `(name, role)` with [`WEB_PW`].
pub fn add_users(s: &Site, minutes: i64, users: &[(&str, &str)]) {
    for (user, role) in users {
        let o = s
            .command(minutes, &["web", "user", "add", user, "--role", role])
            .env("HOKAN_WEB_PASSWORD", WEB_PW)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A running `hokan web serve`, killed when dropped.
pub struct Served {
    child: std::process::Child,
    /// `https://localhost:PORT`.
    pub base: String,
    /// The certificate it serves (PEM), made by `--init-cert localhost`.
    pub cert: Vec<u8>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serve the site's dashboard as it is at `minutes` (the binary's `--now`).
pub fn serve(s: &Site, minutes: i64) -> Served {
    let mut child = s
        .command(
            minutes,
            &[
                "web",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--init-cert",
                "localhost",
            ],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first
        .trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let cert = std::fs::read(s.dir.join("web-cert.pem")).expect("--init-cert made web-cert.pem");
    Served {
        child,
        base: format!("https://localhost:{port}"),
        cert,
    }
}

/// The catalog's events of type `kind`.
pub fn events_of(s: &Site, minutes: i64, kind: &str) -> Vec<serde_json::Value> {
    s.json(minutes, &["catalog", "events", "--limit", "100000"], 0)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["type"] == kind)
        .cloned()
        .collect()
}

/// What people recorded about where media are.
pub fn moves(s: &Site, minutes: i64) -> usize {
    events_of(s, minutes, "medium-located")
        .iter()
        .filter(|e| e["event"]["by"]["kind"] == "person")
        .count()
}

/// The dashboard's `web-access` events: (user, access, path).
pub fn accesses(s: &Site, minutes: i64) -> Vec<(String, String, String)> {
    events_of(s, minutes, "web-access")
        .iter()
        .map(|e| {
            let f = |k: &str| e["event"][k].as_str().unwrap_or("").to_owned();
            (f("user"), f("access"), f("path"))
        })
        .collect()
}
