//! `[[notify]]`: every type parsed with its defaults, and each mistake
//! named with its line, column and key.

use std::path::{Path, PathBuf};

use hokan_site::*;
use time::Duration;

const BASE: &str = r#"[site]
name = "○○総合病院"

[repository]
path = "repo"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]
"#;

fn parse_with(extra: &str) -> Result<Site, SiteError> {
    parse(
        &format!("{BASE}{extra}"),
        Path::new("/etc/hokan/hokan.toml"),
    )
}

fn errors(extra: &str) -> Vec<String> {
    let e = parse_with(extra).unwrap_err();
    e.render(false).lines().map(str::to_owned).collect()
}

#[test]
fn every_type_parses_with_its_defaults() {
    let site = parse_with(
        r#"
[[notify]]
name = "it-mail"
type = "email"
host = "mail.hospital.local"
from = "hokan@hospital.example"
to = ["it@hospital.example", "oncall@hospital.example"]
username = "hokan"
password_file = "smtp-password"

[[notify]]
name = "log"
type = "syslog"
lang = "en"
events = ["job-failed", "night-missed"]

[[notify]]
name = "siem"
type = "syslog"
address = "10.0.5.30:514"

[[notify]]
name = "chat"
type = "webhook"
url = "https://alerts.hospital.local/hokan"
secret_file = "/etc/hokan/webhook-secret"

[[notify]]
name = "pager"
type = "command"
command = ["/usr/local/bin/page-oncall", "--urgent"]
"#,
    )
    .unwrap();
    let n = site.notify();
    assert_eq!(n.len(), 5);
    let NotifyKind::Email(mail) = &n[0].kind else {
        panic!("email")
    };
    assert_eq!((mail.port, mail.tls), (587, SmtpTls::Starttls));
    assert_eq!(
        mail.password_file.as_deref(),
        Some(Path::new("/etc/hokan/smtp-password")),
        "relative to the configuration file"
    );
    assert_eq!(n[0].lang, NotifyLang::Ja);
    assert!(n[0].wants(NotifyEvent::DrillOverdue));
    assert_eq!(n[1].lang, NotifyLang::En);
    assert_eq!(
        n[1].kind,
        NotifyKind::Syslog(Syslog::Local(PathBuf::from("/dev/log")))
    );
    assert!(n[1].wants(NotifyEvent::NightMissed));
    assert!(!n[1].wants(NotifyEvent::Expiring));
    assert!(n[1].wants(NotifyEvent::Test), "a test goes everywhere");
    assert_eq!(
        n[2].kind,
        NotifyKind::Syslog(Syslog::Udp("10.0.5.30:514".into()))
    );
    let NotifyKind::Command(cmd) = &n[4].kind else {
        panic!("command")
    };
    assert_eq!(cmd.timeout, Duration::seconds(30));
    // JSON (config check --json) shows the secret's file, never a secret.
    let json = serde_json::to_value(&site).unwrap();
    assert_eq!(json["notify"][0]["type"], "email");
    assert_eq!(
        json["notify"][0]["password_file"],
        "/etc/hokan/smtp-password"
    );
}

#[test]
fn plain_smtp_and_http_only_to_this_machine() {
    let ok = parse_with(
        r#"
[[notify]]
name = "relay"
type = "email"
host = "127.0.0.1"
port = 2525
tls = "none"
from = "a@b.c"
to = ["d@e.f"]
[[notify]]
name = "hook"
type = "webhook"
url = "http://[::1]:8080/x"
secret_file = "s"
"#,
    );
    assert!(ok.is_ok(), "{}", ok.unwrap_err());
    let e = errors(
        r#"
[[notify]]
name = "relay"
type = "email"
host = "mail.example"
tls = "none"
from = "a@b.c"
to = ["d@e.f"]
[[notify]]
name = "hook"
type = "webhook"
url = "http://alerts.example/x"
secret_file = "s"
"#,
    );
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with("/etc/hokan/hokan.toml:15:7: notify[0].tls: tls = \"none\" sends"),
        "{}",
        e[0]
    );
    assert!(
        e[1].starts_with(
            "/etc/hokan/hokan.toml:21:7: notify[1].url: \"http://alerts.example/x\" is plain http"
        ),
        "{}",
        e[1]
    );
}

#[test]
fn mistakes_are_all_reported_with_line_and_key() {
    let e = errors(
        r#"
[[notify]]
name = "mail"
type = "email"
host = "mail.example"
port = 70000
from = "not-an-address"
to = []
username = "hokan"
url = "https://x"
[[notify]]
name = "mail"
type = "pager"
[[notify]]
name = "x"
lang = "fr"
events = ["job-failed", "lunch"]
[[notify]]
name = "cmd"
type = "command"
command = ["page-oncall"]
timeout = "1h"
"#,
    );
    let want = [
        ("11:1", "notify[0].password_file: Required key `password_file` is missing"),
        ("15:8", "notify[0].port: 70000 is not a TCP port"),
        ("16:8", "notify[0].from: \"not-an-address\" is not an e-mail address"),
        ("17:6", "notify[0].to: The list of recipients is empty"),
        ("19:7", "notify[0].url: `url` does not apply to type = \"email\""),
        ("21:8", "notify[1].name: Notification target name \"mail\" is already used by notify[0] on line 12"),
        ("22:8", "notify[1].type: \"pager\" is not allowed here"),
        ("23:1", "notify[2].type: Required key `type` is missing"),
        ("25:8", "notify[2].lang: \"fr\" is not allowed here"),
        ("26:25", "notify[2].events[1]: \"lunch\" is not allowed here"),
        ("30:12", "notify[3].command[0]: \"page-oncall\" is a relative path"),
        ("31:11", "notify[3].timeout: A notification command may run at most 10 minutes"),
    ];
    for (line, (pos, what)) in e.iter().zip(want) {
        let prefix = format!("/etc/hokan/hokan.toml:{pos}: {what}");
        assert!(line.starts_with(&prefix), "\n got: {line}\nwant: {prefix}");
    }
    assert_eq!(e.len(), want.len(), "{e:#?}");
}

#[test]
fn an_unknown_key_names_the_table() {
    let e = errors("\n[[notify]]\nname = \"x\"\ntype = \"syslog\"\nfacility = \"local0\"\n");
    assert!(e[0].contains("notify"), "{e:?}");
    assert!(e[0].contains("facility"), "{e:?}");
}
