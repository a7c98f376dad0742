//! `hokan web user`: the dashboard's accounts, through the binary.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

fn web(dir: &std::path::Path, password: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hokan"));
    c.arg("web")
        .arg("--accounts")
        .arg(dir.join("accounts.sqlite"))
        .args(args)
        .env_remove("HOKAN_WEB_PASSWORD")
        .stdin(std::process::Stdio::null());
    if let Some(p) = password {
        c.env("HOKAN_WEB_PASSWORD", p);
    }
    c.output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn accounts_are_added_listed_and_removed_with_clear_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pw = "correct horse battery staple";
    let o = web(d, Some(pw), &["user", "add", "tanaka", "--role", "admin"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        code(&web(
            d,
            Some(pw),
            &["user", "add", "sato", "--role", "operator"]
        )),
        0
    );
    // The file holds Argon2id hashes, never a password, and only its
    // owner may read it.
    let file = d.join("accounts.sqlite");
    let bytes = std::fs::read(&file).unwrap();
    assert!(!bytes.windows(pw.len()).any(|w| w == pw.as_bytes()));
    assert!(bytes.windows(10).any(|w| w == b"$argon2id$"));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "accounts file mode {mode:o}");

    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .args(["--json", "web", "--accounts"])
        .arg(&file)
        .args(["user", "list"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let roles: Vec<(String, String)> = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("sato".into(), "operator".into()),
            ("tanaka".into(), "admin".into())
        ]
    );

    // Refusals: a short password (in Japanese with --lang ja), an existing
    // name, an unknown role, no password at all, the last admin.
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .args(["--lang", "ja", "web", "--accounts"])
        .arg(&file)
        .args(["user", "add", "suzuki"])
        .env("HOKAN_WEB_PASSWORD", "short")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("12 文字以上"));
    let o = web(d, Some(pw), &["user", "add", "tanaka"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists already"));
    assert_eq!(
        code(&web(d, Some(pw), &["user", "add", "x", "--role", "root"])),
        2
    );
    let o = web(d, None, &["user", "add", "x"]);
    assert_eq!(code(&o), 5);
    assert!(String::from_utf8_lossy(&o.stderr).contains("HOKAN_WEB_PASSWORD"));
    let o = web(d, None, &["user", "remove", "tanaka"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("last admin"));

    assert_eq!(code(&web(d, None, &["user", "remove", "sato"])), 0);
    assert_eq!(
        code(&web(
            d,
            Some("another long password"),
            &["user", "passwd", "tanaka"]
        )),
        0
    );
    let o = web(d, None, &["user", "remove", "sato"]);
    assert_eq!(code(&o), 2, "removing twice");
}

mod common;

use common::tape::library_with;
use common::web::{accesses, add_users, moves, serve, WEB_PW as PW};

/// `hokan web serve` on a site with the SIMULATED tape library (no tape
/// hardware): a tape written, exported and taken out of the library is a
/// problem on the morning page, with a form to record where it went; a
/// viewer sees no form and is refused if they post one; an operator's post
/// without the CSRF token is refused; with it, the move is recorded under
/// the operator's name and the tape's copy is offline (①-2-2).
#[test]
fn an_operator_records_a_tapes_move_on_the_morning_page_and_a_viewer_cannot() {
    let mut s = library_with(&["HKN001L8", "HKN002L8"], "1GiB");
    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
    let t = v["cartridges"][0].as_str().unwrap().to_owned();
    s.ok(
        62,
        &["tape", "move", "--pool", "weekday", &t, "--to", "export"],
    );
    s.ok(63, &["tape", "sim", "take-out", "--pool", "weekday", &t]);
    add_users(&s, 64, &[("op", "operator"), ("viewer", "viewer")]);
    let served = serve(&s, 65);
    let (base, cert) = (&served.base, &served.cert);
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::Specific(std::sync::Arc::new(vec![
                    Certificate::from_pem(cert).unwrap(),
                ])))
                .build(),
        )
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let set_cookie = |r: &ureq::http::Response<ureq::Body>, name: &str| -> String {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let csrf = |html: &str| -> String {
        let at = html.find("name=\"csrf\" value=\"").expect("a form") + 19;
        html[at..at + 64].to_owned()
    };
    let login = |user: &str| -> (String, String) {
        let mut r = agent.get(&format!("{base}/login")).call().unwrap();
        let pre = set_cookie(&r, "hokan_login");
        let token = csrf(&r.body_mut().read_to_string().unwrap());
        let r = agent
            .post(&format!("{base}/login"))
            .header("Cookie", &format!("hokan_login={pre}"))
            .send_form([("csrf", token.as_str()), ("user", user), ("password", PW)])
            .unwrap();
        assert_eq!(r.status(), 303, "{user} logs in");
        let cookie = format!("hokan_session={}", set_cookie(&r, "hokan_session"));
        let mut home = agent
            .get(&format!("{base}/"))
            .header("Cookie", &cookie)
            .call()
            .unwrap();
        assert_eq!(home.status(), 200);
        let html = home.body_mut().read_to_string().unwrap();
        (cookie, html)
    };
    let events = || moves(&s, 66);

    // The operator sees the problem and the form to record the tape's move.
    let (op, html) = login("op");
    assert!(html.contains("Not compliant"), "{html}");
    assert!(html.contains(&t), "the tape is named: {html}");
    assert!(html.contains("/media/move") && html.contains(&format!("value=\"{t}\"")));
    let op_csrf = csrf(&html);

    // The viewer sees the page, no form, and a post is refused.
    let (viewer, vhtml) = login("viewer");
    assert!(vhtml.contains(&t) && !vhtml.contains("/media/move"));
    let before = events();
    assert_eq!(events(), before, "listing records nothing");
    let r = agent
        .post(&format!("{base}/media/move"))
        .header("Cookie", &viewer)
        .send_form([
            ("csrf", csrf(&vhtml).as_str()),
            ("medium", t.as_str()),
            ("to", "offsite:金庫"),
        ])
        .unwrap();
    assert_eq!(r.status(), 403, "a viewer cannot act");
    // The operator without the token: refused too.
    let r = agent
        .post(&format!("{base}/media/move"))
        .header("Cookie", &op)
        .send_form([("medium", t.as_str()), ("to", "offsite:金庫")])
        .unwrap();
    assert_eq!(r.status(), 403, "a forged form without the token");
    assert_eq!(events(), before, "nothing was recorded");

    // With it: recorded, under the operator's name.
    let r = agent
        .post(&format!("{base}/media/move"))
        .header("Cookie", &op)
        .send_form([
            ("csrf", op_csrf.as_str()),
            ("medium", t.as_str()),
            ("to", "offsite:金庫"),
            ("note", "金庫へ"),
        ])
        .unwrap();
    assert_eq!(r.status(), 303, "recorded, back to the morning page");
    // The move, and what the library was asked first (it no longer holds
    // the tape).
    assert_eq!(events(), before + 1);
    assert_eq!(s.koban_of(70, &t), vec!["①-2-2"]);
    // The library's report that the tape left and the person's record of
    // where it went share an instant: the person's says where it is, so
    // nothing asks any more where it went.
    let mut r = agent
        .get(&format!("{base}/"))
        .header("Cookie", &op)
        .call()
        .unwrap();
    let html = r.body_mut().read_to_string().unwrap();
    assert!(!html.contains("is not recorded"), "{html}");
    // The logins and the two refused posts, with who and from where.
    let mut got = accesses(&s, 70);
    got.reverse();
    let want = [
        ("op", "logged-in", ""),
        ("viewer", "logged-in", ""),
        ("viewer", "action-refused", "/media/move"),
        ("op", "action-refused", "/media/move"),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((user, access, path), w) in got.iter().zip(want) {
        assert_eq!((user.as_str(), access.as_str(), path.as_str()), w);
    }
    let mut r = agent
        .get(&format!("{base}/events"))
        .header("Cookie", &op)
        .call()
        .unwrap();
    let html = r.body_mut().read_to_string().unwrap();
    assert!(html.contains("hokan web (op)"), "{html}");
    assert!(html.contains("HKN001L8") && html.contains("金庫"), "{html}");
}
