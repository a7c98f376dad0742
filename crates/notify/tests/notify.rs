//! Notifications against real receivers on loopback: an SMTP server
//! (aiosmtpd, from PyPI, installed by scripts/test.sh), an HTTP listener
//! checking the signature, a UDP syslog socket, a command; the outbox's
//! retries with a clock that moves instead of sleeping; and secrets that
//! never show.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration as StdDuration;

use hokan_catalog::{Catalog, NotificationState};
use hokan_notify::outbox::{backoff, GIVE_UP_AFTER};
use hokan_notify::*;
use hokan_offline::Text;
use hokan_site::{Notify, NotifyLang};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-20 22:00 +09:00);
const SECRET: &str = "hunter2-do-not-print";

fn targets(dir: &Path, toml: &str) -> Vec<Notify> {
    let text = format!(
        "[site]\nname = \"○○総合病院\"\n[repository]\npath = \"repo\"\n[[source]]\nname = \"emr\"\npaths = [\"/srv/emr\"]\n{toml}"
    );
    hokan_site::parse(&text, &dir.join("hokan.toml"))
        .unwrap_or_else(|e| panic!("{}", e.render(false)))
        .notify()
        .to_vec()
}

fn notification(notice: Notice) -> Notification {
    Notification {
        site: "○○総合病院".into(),
        host: "backup01".into(),
        raised_at: T0,
        notice,
    }
}

fn job_failed() -> Notice {
    Notice::JobFailed {
        job: "backup".into(),
        target: "emr".into(),
        outcome: JobOutcome::Failed,
        at: T0,
        reason: Some(Text::new("disk full", "ディスクが満杯")),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd on `port`, writing decoded messages to `dir`. Fails (never
/// skips) when aiosmtpd is missing: scripts/test.sh installs it.
struct Smtp(Child);

impl Smtp {
    fn start(port: u16, dir: &Path) -> Smtp {
        let have = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            have,
            "this test needs aiosmtpd (a test SMTP server from PyPI): run scripts/test.sh, \
             or `python3 -m pip install aiosmtpd`"
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
        Smtp(child)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mails(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u32>().ok())
    });
    files
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

fn email_toml(name: &str, port: u16, lang: &str) -> String {
    format!(
        "[[notify]]\nname = \"{name}\"\ntype = \"email\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nlang = \"{lang}\"\nfrom = \"hokan@hospital.example\"\nto = [\"it@hospital.example\"]\n"
    )
}

fn all_events(cat: &Catalog) -> String {
    cat.events(100_000, false)
        .unwrap()
        .iter()
        .map(|e| serde_json::to_string(&e.event).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn email_arrives_in_japanese_and_english() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let port = free_port();
    let _smtp = Smtp::start(port, &inbox);
    let t = targets(
        dir.path(),
        &(email_toml("ja-mail", port, "ja") + &email_toml("en-mail", port, "en")),
    );
    let mut cat = Catalog::in_memory().unwrap();
    let ids = queue(&mut cat, &t, &notification(job_failed()), T0).unwrap();
    assert_eq!(ids.len(), 2);
    let done = deliver(&mut cat, &t, Select::Due, T0).unwrap();
    assert!(done.iter().all(|d| d.outcome == Outcome::Sent), "{done:#?}");
    let m = mails(&inbox);
    assert_eq!(m.len(), 2);
    assert_eq!(
        m[0]["subject"],
        "[hokan] ○○総合病院: ジョブが失敗しました: backup emr"
    );
    let body = m[0]["body"].as_str().unwrap();
    for want in [
        "emr の backup ジョブが失敗しました（2026-11-20 22:00 +09:00）。",
        "理由: ディスクが満杯",
        "サイト: ○○総合病院",
        "ホスト: backup01",
        "対応:",
    ] {
        assert!(body.contains(want), "{want:?} not in\n{body}");
    }
    assert_eq!(
        m[1]["subject"],
        "[hokan] ○○総合病院: job failed: backup emr"
    );
    let body = m[1]["body"].as_str().unwrap();
    for want in [
        "The backup job on emr failed at 2026-11-20 22:00 +09:00.",
        "Reason: disk full",
        "Host: backup01",
        "What to do:",
    ] {
        assert!(body.contains(want), "{want:?} not in\n{body}");
    }
    assert_eq!(m[0]["to"][0], "it@hospital.example");
}

/// The server is down for an hour: every queued message is retried with
/// back-off and arrives exactly once when it is back.
#[test]
fn a_server_down_for_an_hour_gets_every_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let port = free_port();
    let t = targets(dir.path(), &email_toml("mail", port, "en"));
    let mut cat = Catalog::in_memory().unwrap();
    let notices = [
        job_failed(),
        Notice::ActionNeeded {
            action: Action::RemoveMedium {
                medium: "HKN003L9".into(),
                from: Text::new("drive 1", "ドライブ 1"),
            },
        },
        Notice::Test,
    ];
    for n in notices {
        queue(&mut cat, &t, &notification(n), T0).unwrap();
    }
    // Down: every attempt fails, and nothing is due again before its back-off.
    let mut now = T0;
    let mut attempts = 0;
    while now < T0 + Duration::hours(1) {
        let done = deliver(&mut cat, &t, Select::Due, now).unwrap();
        if !done.is_empty() {
            attempts += 1;
            assert_eq!(done.len(), 3);
            assert!(
                done.iter()
                    .all(|d| matches!(d.outcome, Outcome::Failed { .. })),
                "{done:#?}"
            );
        }
        now += Duration::seconds(30);
    }
    // 1, 2, 4, 8, 16, 32 minutes: attempts at 0, 1, 3, 7, 15, 31 min.
    assert_eq!(attempts, 6);
    assert_eq!(backoff(7), Duration::hours(1));
    let row = &cat.notifications(true).unwrap()[0];
    assert!(
        row.last_error.as_deref().unwrap().contains("SMTP"),
        "{row:?}"
    );

    let _smtp = Smtp::start(port, &inbox);
    let done = deliver(&mut cat, &t, Select::Due, now).unwrap();
    assert!(done.is_empty(), "not due yet: {done:#?}");
    let now = T0 + Duration::minutes(63);
    let done = deliver(&mut cat, &t, Select::Due, now).unwrap();
    assert_eq!(done.len(), 3);
    assert!(done
        .iter()
        .all(|d| d.outcome == Outcome::Sent && d.attempt == 7));
    for later in [now, now + Duration::hours(2), now + Duration::days(2)] {
        assert!(deliver(&mut cat, &t, Select::Due, later)
            .unwrap()
            .is_empty());
    }
    let m = mails(&inbox);
    assert_eq!(m.len(), 3, "each message exactly once");
    assert!(m[1]["subject"]
        .as_str()
        .unwrap()
        .contains("remove HKN003L9 from drive 1"));
    assert!(cat
        .notifications(false)
        .unwrap()
        .iter()
        .all(|r| r.state == NotificationState::Sent));
    assert!(cat.verify(None).unwrap().ok());
}

#[test]
fn a_message_still_failing_after_a_day_is_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let t = targets(dir.path(), &email_toml("mail", free_port(), "ja"));
    let mut cat = Catalog::in_memory().unwrap();
    queue(&mut cat, &t, &notification(Notice::Test), T0).unwrap();
    let mut now = T0;
    let mut last = Vec::new();
    while now <= T0 + GIVE_UP_AFTER + Duration::hours(1) {
        let done = deliver(&mut cat, &t, Select::Due, now).unwrap();
        if !done.is_empty() {
            last = done;
        }
        now += Duration::minutes(10);
    }
    assert!(
        matches!(&last[0].outcome, Outcome::Abandoned { reason } if reason.contains("not delivered within 24 h")),
        "{last:#?}"
    );
    let rows = cat.notifications(false).unwrap();
    assert_eq!(rows[0].state, NotificationState::Abandoned);
    // A target removed from hokan.toml: its notifications are abandoned.
    queue(&mut cat, &t, &notification(Notice::Test), now).unwrap();
    let done = deliver(&mut cat, &[], Select::Due, now).unwrap();
    assert!(
        matches!(&done[0].outcome, Outcome::Abandoned { reason } if reason.contains("no longer in hokan.toml"))
    );
}

/// One HTTP request: (headers, body); answers `status`.
fn http_once(status: u16) -> (u16, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(StdDuration::from_secs(10)))
            .unwrap();
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            buf.push(byte[0]);
        }
        let head = String::from_utf8(buf).unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0; len];
        s.read_exact(&mut body).unwrap();
        write!(
            s,
            "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        tx.send((head, body)).unwrap();
    });
    (port, rx)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn a_webhook_gets_json_signed_with_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), format!("{SECRET}\nignored\n")).unwrap();
    let (port, rx) = http_once(200);
    let t = targets(
        dir.path(),
        &format!("[[notify]]\nname = \"hook\"\ntype = \"webhook\"\nlang = \"en\"\nurl = \"http://127.0.0.1:{port}/hokan\"\nsecret_file = \"key\"\n"),
    );
    let mut cat = Catalog::in_memory().unwrap();
    queue(&mut cat, &t, &notification(job_failed()), T0).unwrap();
    let done = deliver(&mut cat, &t, Select::Due, T0).unwrap();
    assert_eq!(done[0].outcome, Outcome::Sent, "{done:#?}");
    let (head, body) = rx.recv().unwrap();
    assert!(head.starts_with("POST /hokan HTTP/1.1\r\n"), "{head}");
    let sig = header(&head, "x-hokan-signature").unwrap();
    assert_eq!(sig, send::signature(&Secret::new(SECRET), &body));
    assert_ne!(sig, send::signature(&Secret::new("wrong"), &body));
    // Independently of the crate: HMAC-SHA256 over the exact body.
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    assert_eq!(
        sig,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let mut wrong = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"wrong").unwrap();
    wrong.update(&body);
    let hexsig = sig.strip_prefix("sha256=").unwrap();
    assert!(wrong.verify_slice(&hex::decode(hexsig).unwrap()).is_err());

    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["event"], "job-failed");
    assert_eq!(json["id"], "N-000001");
    assert_eq!(json["notice"]["outcome"], "failed");
    assert_eq!(
        json["subject"],
        "[hokan] ○○総合病院: job failed: backup emr"
    );
    assert!(!String::from_utf8_lossy(&body).contains(SECRET));

    // An error status is a failure, retried later.
    let (port, _rx) = http_once(500);
    let t = targets(
        dir.path(),
        &format!("[[notify]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{port}/\"\nsecret_file = \"key\"\n"),
    );
    queue(&mut cat, &t, &notification(Notice::Test), T0).unwrap();
    let done = deliver(&mut cat, &t, Select::Due, T0).unwrap();
    assert!(
        matches!(&done[0].outcome, Outcome::Failed { reason, .. } if reason == "webhook answered HTTP 500"),
        "{done:#?}"
    );
}

#[test]
fn syslog_over_udp_is_one_rfc5424_line() {
    let dir = tempfile::tempdir().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(StdDuration::from_secs(10)))
        .unwrap();
    let port = sock.local_addr().unwrap().port();
    let t = targets(
        dir.path(),
        &format!("[[notify]]\nname = \"log\"\ntype = \"syslog\"\nlang = \"en\"\naddress = \"127.0.0.1:{port}\"\n"),
    );
    let mut cat = Catalog::in_memory().unwrap();
    queue(&mut cat, &t, &notification(job_failed()), T0).unwrap();
    let now = T0 + Duration::seconds(5);
    assert_eq!(
        deliver(&mut cat, &t, Select::Due, now).unwrap()[0].outcome,
        Outcome::Sent
    );
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    let line = std::str::from_utf8(&buf[..n]).unwrap();
    // PRI = daemon (3) * 8 + error (3); version 1.
    let mut f = line.splitn(8, ' ');
    assert_eq!(f.next(), Some("<27>1"));
    assert_eq!(f.next(), Some("2026-11-20T13:00:05Z"));
    assert_eq!(f.next(), Some("backup01"));
    assert_eq!(f.next(), Some("hokan"));
    assert_eq!(f.next(), Some(std::process::id().to_string().as_str()));
    assert_eq!(f.next(), Some("job-failed"));
    assert_eq!(f.next(), Some("-"));
    let msg = f.next().unwrap();
    assert!(
        msg.starts_with("\u{feff}[hokan] ○○総合病院: job failed: backup emr: The backup job"),
        "{msg}"
    );
    assert!(!line.contains('\n'));
}

#[test]
fn a_command_gets_the_message_as_json_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("got.json");
    let t = targets(
        dir.path(),
        &format!(
            "[[notify]]\nname = \"pager\"\ntype = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"cat > \\\"$0\\\"\", \"{}\"]\n\
             [[notify]]\nname = \"broken\"\ntype = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"echo no pager >&2; exit 3\"]\n\
             [[notify]]\nname = \"slow\"\ntype = \"command\"\ncommand = [\"/bin/sleep\", \"30\"]\ntimeout = \"1s\"\n",
            out.display()
        ),
    );
    let mut cat = Catalog::in_memory().unwrap();
    queue(
        &mut cat,
        &t,
        &notification(Notice::ActionNeeded {
            action: Action::InsertCartridge {
                medium: "HKN004L9".into(),
                into: Text::new("slot 4", "スロット 4"),
                before: T0 + Duration::hours(2),
            },
        }),
        T0,
    )
    .unwrap();
    let done = deliver(&mut cat, &t, Select::Due, T0).unwrap();
    assert_eq!(done[0].outcome, Outcome::Sent, "{done:#?}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["event"], "action-needed");
    assert_eq!(json["lang"], "ja");
    assert_eq!(json["notice"]["action"]["medium"], "HKN004L9");
    assert_eq!(
        json["subject"],
        "[hokan] ○○総合病院: カートリッジ HKN004L9 を挿入してください"
    );
    assert!(
        matches!(&done[1].outcome, Outcome::Failed { reason, .. } if reason == "/bin/sh exited with code 3: no pager"),
        "{done:#?}"
    );
    assert!(
        matches!(&done[2].outcome, Outcome::Failed { reason, .. } if reason.contains("did not finish within 1 s")),
        "{done:#?}"
    );
}

#[test]
fn secrets_never_show_in_debug_errors_or_events() {
    assert_eq!(format!("{:?}", Secret::new(SECRET)), "***");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), SECRET).unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let port = free_port();
    // A server that offers no login: the attempt fails after reading the
    // password; the reason must not hold it.
    let _smtp = Smtp::start(port, &inbox);
    let t = targets(
        dir.path(),
        &format!(
            "{}username = \"hokan\"\npassword_file = \"pw\"\n\
             [[notify]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nsecret_file = \"pw\"\n\
             [[notify]]\nname = \"nokey\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nsecret_file = \"missing\"\n",
            email_toml("mail", port, "en")
        ),
    );
    assert!(!format!("{t:?}").contains(SECRET));
    let mut cat = Catalog::in_memory().unwrap();
    queue(&mut cat, &t, &notification(Notice::Test), T0).unwrap();
    let done = deliver(&mut cat, &t, Select::Due, T0).unwrap();
    let shown = format!("{done:?}\n{}", all_events(&cat));
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(
        matches!(&done[2].outcome, Outcome::Failed { reason, .. } if reason.contains("cannot read secret file") && reason.contains("missing")),
        "{done:#?}"
    );
    let e = Secret::from_file(&dir.path().join("missing")).unwrap_err();
    assert!(!format!("{e:?} {e}").contains(SECRET));
}

#[test]
fn every_notice_renders_what_where_and_what_to_do_in_both_languages() {
    let notices = [
        job_failed(),
        Notice::NotCompliant {
            findings: vec![Finding {
                problem: Text::new(
                    "emr has 1 offline generation; 3 needed",
                    "emr のオフライン世代は 1（必要 3）",
                ),
                next_step: Text::new(
                    "Run a tape backup tonight.",
                    "今夜テープへバックアップしてください。",
                ),
            }],
        },
        Notice::ActionNeeded {
            action: Action::TakeToSafe {
                media: vec!["HKN001L9".into(), "HKN002L9".into()],
                to: Text::new("the safe", "金庫"),
            },
        },
        Notice::ActionNeeded {
            action: Action::InsertCartridge {
                medium: "RDX-TUE".into(),
                into: Text::new(
                    "the drive of disk pool rdx",
                    "ディスクプール rdx のドライブ",
                ),
                before: T0,
            },
        },
        Notice::ActionNeeded {
            action: Action::InsertAnyOf {
                pool: "weekly".into(),
                into: Text::new(
                    "the tape library of pool weekly",
                    "プール weekly のテープライブラリ",
                ),
                before: T0,
            },
        },
        Notice::ActionNeeded {
            action: Action::RemoveMedium {
                medium: "HKN003L9".into(),
                from: Text::new("the drive", "ドライブ"),
            },
        },
        Notice::Expiring {
            what: Expiring::Attestation,
            subject: "A-0001".into(),
            expires_at: T0 + Duration::days(7),
        },
        Notice::NightMissed {
            expected_by: T0,
            last_run: None,
        },
        Notice::DrillOverdue {
            last_drill: Some(T0 - Duration::days(400)),
            due: T0 - Duration::days(35),
        },
        Notice::Test,
    ];
    for n in notices {
        let n = notification(n);
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(serde_json::from_value::<Notification>(json).unwrap(), n);
        for (lang, labels) in [
            (
                NotifyLang::Ja,
                ["サイト: ○○総合病院", "ホスト: backup01", "対応:"],
            ),
            (
                NotifyLang::En,
                ["Site: ○○総合病院", "Host: backup01", "What to do:"],
            ),
        ] {
            let r = n.render(lang);
            assert!(r.subject.starts_with("[hokan] ○○総合病院: "));
            assert!(!r.subject.contains('\n'));
            for l in labels {
                assert!(r.body.contains(l), "{l:?} not in\n{}", r.body);
            }
        }
    }
    let r = notification(Notice::NotCompliant {
        findings: vec![Finding {
            problem: Text::new("p-en", "p-ja"),
            next_step: Text::new("fix-en", "fix-ja"),
        }],
    })
    .render(NotifyLang::Ja);
    assert!(
        r.body.contains("- p-ja") && r.body.contains("- fix-ja"),
        "{}",
        r.body
    );
}
