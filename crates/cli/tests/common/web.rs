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

/// A plain HTTPS client of the dashboard, trusting only its certificate,
/// following no redirect.
pub struct Http {
    agent: ureq::Agent,
    /// `https://localhost:PORT`.
    pub base: String,
}

/// The value of cookie `name` set by `r`.
fn set_cookie(r: &ureq::http::Response<ureq::Body>, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

/// The CSRF token of the first form in `html`.
pub fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form") + 19;
    html[at..at + 64].to_owned()
}

impl Http {
    /// A client of `served`.
    pub fn new(served: &Served) -> Http {
        use ureq::tls::{Certificate, RootCerts, TlsConfig};
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::Specific(std::sync::Arc::new(vec![
                        Certificate::from_pem(&served.cert).unwrap(),
                    ])))
                    .build(),
            )
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Http {
            agent,
            base: served.base.clone(),
        }
    }

    /// Try to log in as `user` with [`WEB_PW`] and `code`: the status,
    /// and the session cookie when it is a success (303).
    pub fn try_login(&self, user: &str, code: &str) -> (u16, Option<String>) {
        let mut r = self
            .agent
            .get(&format!("{}/login", self.base))
            .call()
            .unwrap();
        let pre = set_cookie(&r, "hokan_login");
        let token = csrf(&r.body_mut().read_to_string().unwrap());
        let r = self
            .agent
            .post(&format!("{}/login", self.base))
            .header("Cookie", &format!("hokan_login={pre}"))
            .send_form([
                ("csrf", token.as_str()),
                ("user", user),
                ("password", WEB_PW),
                ("code", code),
            ])
            .unwrap();
        let status = r.status().as_u16();
        let cookie =
            (status == 303).then(|| format!("hokan_session={}", set_cookie(&r, "hokan_session")));
        (status, cookie)
    }

    /// Log in as `user` ([`WEB_PW`]): the session cookie and the morning
    /// page's HTML.
    pub fn login(&self, user: &str) -> (String, String) {
        let (status, cookie) = self.try_login(user, "");
        assert_eq!(status, 303, "{user} logs in");
        let cookie = cookie.unwrap();
        let (status, html) = self.get("/", &cookie);
        assert_eq!(status, 200);
        (cookie, html)
    }

    /// GET `path` with the session `cookie`: the status and the body.
    pub fn get(&self, path: &str, cookie: &str) -> (u16, String) {
        let mut r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header("Cookie", cookie)
            .call()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap())
    }

    /// POST the form `fields` to `path` with the session `cookie`: the
    /// status.
    pub fn post(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> u16 {
        self.agent
            .post(&format!("{}{path}", self.base))
            .header("Cookie", cookie)
            .send_form(fields.iter().copied())
            .unwrap()
            .status()
            .as_u16()
    }
}
