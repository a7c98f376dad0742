//! Sending one rendered message to one target: e-mail, syslog, webhook or
//! a command. Each send is blocking and bounded in time, so one dead
//! target cannot hold up the others for long.

use std::io::{Read, Write};
use std::net::{ToSocketAddrs, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use hokan_site::{Email, Notify, NotifyCommand, NotifyKind, NotifyLang, SmtpTls, Syslog, Webhook};
use serde::Serialize;
use sha2::Sha256;
use time::OffsetDateTime;

use crate::notice::{Notification, Rendered};
use crate::{Secret, SendError};

/// How long one SMTP conversation or HTTP request may take.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest syslog datagram sent (RFC 5424 §6.1: receivers should take
/// 2048 octets); longer messages are cut at a character boundary.
pub const SYSLOG_MAX: usize = 2048;

/// What a webhook and a command receive: the message in the target's
/// language and the notice as data.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    /// The outbox id (the same on a retry: receivers can drop repeats).
    pub id: &'a str,
    /// The target's name.
    pub target: &'a str,
    /// The event word (`job-failed`, …).
    pub event: &'static str,
    /// The site.
    pub site: &'a str,
    /// The host.
    pub host: &'a str,
    /// When it was raised.
    #[serde(with = "time::serde::rfc3339")]
    pub raised_at: OffsetDateTime,
    /// `ja` or `en`.
    pub lang: &'static str,
    /// One line.
    pub subject: &'a str,
    /// The full text.
    pub body: &'a str,
    /// The notice as data.
    pub notice: &'a crate::Notice,
}

/// Render `n` for `target` and send it as outbox entry `id`, at `now`.
pub fn send(
    target: &Notify,
    id: &str,
    n: &Notification,
    now: OffsetDateTime,
) -> Result<(), SendError> {
    let r = n.render(target.lang);
    let payload = || {
        let p = Payload {
            id,
            target: &target.name,
            event: n.notice.event().as_str(),
            site: &n.site,
            host: &n.host,
            raised_at: n.raised_at,
            lang: match target.lang {
                NotifyLang::Ja => "ja",
                NotifyLang::En => "en",
            },
            subject: &r.subject,
            body: &r.body,
            notice: &n.notice,
        };
        serde_json::to_vec(&p).expect("payloads serialise")
    };
    match &target.kind {
        NotifyKind::Email(e) => email(e, &n.host, &r),
        NotifyKind::Syslog(s) => syslog(s, &syslog_line(n, &r, now, std::process::id())),
        NotifyKind::Webhook(w) => webhook(w, &payload()),
        NotifyKind::Command(c) => command(c, &payload()),
    }
}

fn email(e: &Email, host: &str, r: &Rendered) -> Result<(), SendError> {
    use lettre::message::{header::ContentType, Mailbox};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::extension::ClientId;
    use lettre::{Message, SmtpTransport, Transport};

    let mailbox = |a: &str| {
        a.parse::<Mailbox>().map_err(|source| SendError::Address {
            address: a.to_owned(),
            source,
        })
    };
    let mut b = Message::builder()
        .from(mailbox(&e.from)?)
        .subject(r.subject.clone());
    for to in &e.to {
        b = b.to(mailbox(to)?);
    }
    let message = b
        .header(ContentType::TEXT_PLAIN)
        .body(r.body.clone())
        .map_err(SendError::Message)?;
    let builder = match e.tls {
        SmtpTls::Starttls => SmtpTransport::starttls_relay(&e.host).map_err(SendError::Smtp)?,
        SmtpTls::None => SmtpTransport::builder_dangerous(&e.host),
    };
    let mut builder = builder
        .port(e.port)
        .timeout(Some(NETWORK_TIMEOUT))
        .hello_name(ClientId::Domain(helo_name(host)));
    if let (Some(user), Some(file)) = (&e.username, &e.password_file) {
        let password = Secret::from_file(file)?;
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    builder
        .build()
        .send(&message)
        .map(drop)
        .map_err(SendError::Smtp)
}

/// A name for SMTP's HELO: the host name if it is one, else `localhost`.
fn helo_name(host: &str) -> String {
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        host.to_owned()
    } else {
        "localhost".to_owned()
    }
}

/// One RFC 5424 line:
/// `<PRI>1 TIMESTAMP HOSTNAME hokan PROCID MSGID - BOM subject: body`,
/// facility daemon (3), the notice's severity, the body on one line.
pub fn syslog_line(n: &Notification, r: &Rendered, now: OffsetDateTime, pid: u32) -> Vec<u8> {
    let pri = 3 * 8 + u32::from(n.notice.severity());
    let ts = now
        .to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "-".to_owned());
    let host = header_field(&n.host, 255);
    let msgid = n.notice.event().as_str();
    let body = r
        .body
        .lines()
        .filter(|l| !l.is_empty() && *l != "-- " && *l != "hokan")
        .collect::<Vec<_>>()
        .join(" | ");
    let mut line = format!("<{pri}>1 {ts} {host} hokan {pid} {msgid} - ").into_bytes();
    line.extend_from_slice("\u{feff}".as_bytes());
    line.extend_from_slice(format!("{}: {body}", r.subject).as_bytes());
    if line.len() > SYSLOG_MAX {
        let mut cut = SYSLOG_MAX;
        while cut > 0 && (line[cut] & 0xC0) == 0x80 {
            cut -= 1;
        }
        line.truncate(cut);
    }
    line
}

/// A syslog header field: printable ASCII without spaces, `-` when empty.
fn header_field(s: &str, max: usize) -> String {
    let f: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if f.is_empty() {
        "-".to_owned()
    } else {
        f
    }
}

fn syslog(s: &Syslog, line: &[u8]) -> Result<(), SendError> {
    match s {
        Syslog::Local(path) => {
            let sock = std::os::unix::net::UnixDatagram::unbound().map_err(SendError::Syslog)?;
            sock.send_to(line, path)
                .map(drop)
                .map_err(SendError::Syslog)
        }
        Syslog::Udp(address) => {
            let to = address
                .to_socket_addrs()
                .map_err(SendError::Syslog)?
                .next()
                .ok_or_else(|| {
                    SendError::Syslog(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{address} resolves to no address"),
                    ))
                })?;
            let bind = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            let sock = UdpSocket::bind(bind).map_err(SendError::Syslog)?;
            sock.send_to(line, to).map(drop).map_err(SendError::Syslog)
        }
    }
}

/// `sha256=<hex HMAC-SHA256(key, body)>`, the `X-Hokan-Signature` header.
pub fn signature(key: &Secret, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn webhook(w: &Webhook, body: &[u8]) -> Result<(), SendError> {
    let key = Secret::from_file(&w.secret_file)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(NETWORK_TIMEOUT))
        // A redirect would carry the signed message somewhere not configured.
        .max_redirects(0)
        .build()
        .into();
    agent
        .post(&w.url)
        .header("Content-Type", "application/json")
        .header("X-Hokan-Signature", &signature(&key, body))
        .send(body)
        .map(drop)
        .map_err(|e| match e {
            ureq::Error::StatusCode(status) => SendError::HttpStatus { status },
            other => SendError::Http(other),
        })
}

fn command(c: &NotifyCommand, input: &[u8]) -> Result<(), SendError> {
    let program = c.argv.first().ok_or(SendError::EmptyCommand)?;
    let mut child = Command::new(program)
        .args(&c.argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| SendError::CommandStart {
            program: program.clone(),
            source,
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // Written from a thread: a program that does not read its input must
    // not block us past the time limit.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        // Read to the end, so a talkative program never blocks on a full
        // pipe; only the start is kept for the message.
        let _ = stderr.read_to_end(&mut s);
        s.truncate(4096);
        String::from_utf8_lossy(&s).into_owned()
    });
    let timeout = Duration::from_secs(c.timeout.whole_seconds().max(1) as u64);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|source| SendError::CommandStart {
            program: program.clone(),
            source,
        })? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SendError::CommandTimeout {
                program: program.clone(),
                seconds: timeout.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let stderr = reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(SendError::CommandFailed {
            program: program.clone(),
            code: status.code(),
            stderr: stderr.trim().chars().take(300).collect(),
        })
    }
}
