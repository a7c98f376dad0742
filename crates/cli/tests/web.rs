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
use common::web::{accesses, add_users, csrf, moves, serve, Http};

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
    let http = Http::new(&served);
    let login = |user: &str| http.login(user);
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
    let status = http.post(
        "/media/move",
        &viewer,
        &[
            ("csrf", csrf(&vhtml).as_str()),
            ("medium", t.as_str()),
            ("to", "offsite:金庫"),
        ],
    );
    assert_eq!(status, 403, "a viewer cannot act");
    // The operator without the token: refused too.
    let status = http.post(
        "/media/move",
        &op,
        &[("medium", t.as_str()), ("to", "offsite:金庫")],
    );
    assert_eq!(status, 403, "a forged form without the token");
    assert_eq!(events(), before, "nothing was recorded");

    // With it: recorded, under the operator's name.
    let status = http.post(
        "/media/move",
        &op,
        &[
            ("csrf", op_csrf.as_str()),
            ("medium", t.as_str()),
            ("to", "offsite:金庫"),
            ("note", "金庫へ"),
        ],
    );
    assert_eq!(status, 303, "recorded, back to the morning page");
    // The move, and what the library was asked first (it no longer holds
    // the tape).
    assert_eq!(events(), before + 1);
    assert_eq!(s.koban_of(70, &t), vec!["①-2-2"]);
    // The library's report that the tape left and the person's record of
    // where it went share an instant: the person's says where it is, so
    // nothing asks any more where it went.
    let (_, html) = http.get("/", &op);
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
    let (_, html) = http.get("/events", &op);
    assert!(html.contains("hokan web (op)"), "{html}");
    assert!(html.contains("HKN001L8") && html.contains("金庫"), "{html}");
}

/// Jobs: an operator runs tonight's job now from the dashboard (on the
/// SIMULATED tape library); the page shows it running, then the night in
/// the history with its steps; a viewer has no button and is refused; the
/// start is in the catalog's log with the operator's name.
#[test]
fn an_operator_runs_tonights_job_now_and_the_jobs_page_shows_it() {
    let s = library_with(&["HKN001L8", "HKN002L8"], "1GiB");
    add_users(&s, 0, &[("op", "operator"), ("viewer", "viewer")]);
    let served = serve(&s, 1);
    let http = Http::new(&served);
    let (viewer, _) = http.login("viewer");
    let (status, html) = http.get("/jobs", &viewer);
    assert_eq!(status, 200);
    assert!(html.contains("No job has finished yet"), "{html}");
    assert!(
        html.contains("hokan tape backup --pool weekday"),
        "tonight's plan: {html}"
    );
    assert!(!html.contains("/jobs/run"), "no button for a viewer");
    let token = csrf(&html);
    assert_eq!(http.post("/jobs/run", &viewer, &[("csrf", &token)]), 403);

    let (op, _) = http.login("op");
    let (_, html) = http.get("/jobs", &op);
    assert!(html.contains("/jobs/run"), "{html}");
    assert_eq!(http.post("/jobs/run", &op, &[]), 403, "no token");
    assert_eq!(http.post("/jobs/run", &op, &[("csrf", &csrf(&html))]), 303);
    // Until the night ends, the page says so (and asks to be reloaded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let html = loop {
        let (_, html) = http.get("/jobs", &op);
        if !html.contains("A night is running now") {
            break html;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the night did not end"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(html.contains("night"), "{html}");
    assert!(
        html.contains("hokan backup") && html.contains("hokan tape backup --pool weekday"),
        "the night's steps: {html}"
    );
    assert!(html.contains("read "), "the backup's bytes: {html}");
    assert!(
        html.contains("Log of the night started from the dashboard"),
        "{html}"
    );
    let jobs = s.json(5, &["catalog", "jobs"], 0);
    assert_eq!(jobs["jobs"][0]["job"], "night", "{jobs}");

    // Later that night (the server's clock is the test's --now): a
    // restore drill now, from the tape the night wrote, by the operator.
    drop(served);
    let served = serve(&s, 30);
    let http = Http::new(&served);
    let (op, _) = http.login("op");
    let (_, html) = http.get("/jobs", &op);
    assert!(html.contains("/jobs/drill"), "{html}");
    assert_eq!(
        http.post("/jobs/drill", &op, &[("csrf", &csrf(&html))]),
        303
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    loop {
        let (_, html) = http.get("/jobs", &op);
        if !html.contains("A restore drill is running now") {
            assert!(
                html.contains("Log of the drill started from the dashboard"),
                "{html}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the drill did not end"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let drills = common::web::events_of(&s, 5, "drilled");
    let log = std::fs::read_to_string(s.dir.join("web-drill.log")).unwrap_or_default();
    assert_eq!(drills.len(), 1, "{drills:?}\n{log}");
    assert_eq!(drills[0]["event"]["by"], "op", "{drills:?}");
    assert_eq!(drills[0]["event"]["ok"], true, "{drills:?}");
    let (_, html) = http.get("/drills", &op);
    assert!(html.contains("HKN00"), "the drilled tape is listed: {html}");
    let mut got = accesses(&s, 5);
    got.reverse();
    let started: Vec<_> = got
        .iter()
        .filter(|(_, a, _)| a.ends_with("-started") || a == "action-refused")
        .map(|(u, a, p)| (u.as_str(), a.as_str(), p.as_str()))
        .collect();
    assert_eq!(
        started,
        [
            ("viewer", "action-refused", "/jobs/run"),
            ("op", "action-refused", "/jobs/run"),
            ("op", "night-started", ""),
            ("op", "drill-started", ""),
        ]
    );
}

/// A second factor: `hokan web user totp` prints the secret once; the
/// dashboard then refuses the password alone, a wrong code and a code used
/// already, and lets the current code in; `--off` takes it away.
#[test]
fn an_account_with_a_second_factor_needs_its_code() {
    let s = library_with(&["HKN001L8"], "1GiB");
    add_users(&s, 0, &[("op", "operator")]);
    let v = s.json(0, &["web", "user", "totp", "op"], 0);
    let secret = v["totp_secret"].as_str().unwrap().to_owned();
    assert!(v["otpauth"].as_str().unwrap().contains(&secret));
    let list = s.json(0, &["web", "user", "list"], 0);
    assert_eq!(list["accounts"][0]["totp"], true, "{list}");
    // The server's clock is the test's --now: codes are for that instant.
    let served = serve(&s, 1);
    let http = Http::new(&served);
    let now = time::OffsetDateTime::parse(&s.at(1), &time::format_description::well_known::Rfc3339)
        .unwrap();
    let code = hokan_web::accounts::totp_code(&secret, now).unwrap();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert_eq!(http.try_login("op", "").0, 401, "the password alone");
    assert_eq!(http.try_login("op", &wrong).0, 401, "a wrong code");
    let (status, cookie) = http.try_login("op", &code);
    assert_eq!(status, 303, "the right code");
    assert_eq!(http.get("/", &cookie.unwrap()).0, 200);
    assert_eq!(http.try_login("op", &code).0, 401, "the same code again");
    let refused: Vec<_> = accesses(&s, 2)
        .into_iter()
        .map(|(_, a, _)| a)
        .filter(|a| a == "login-refused")
        .collect();
    assert_eq!(refused.len(), 3, "each refusal is in the catalog");
    drop(served);
    s.ok(2, &["web", "user", "totp", "op", "--off"]);
    let list = s.json(2, &["web", "user", "list"], 0);
    assert_eq!(list["accounts"][0]["totp"], false, "{list}");
}
