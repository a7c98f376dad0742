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
