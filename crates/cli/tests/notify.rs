//! `hokan notify` with the real binary: a test to every target (exit 0
//! only if all were sent), the outbox listed, flush, and a site without
//! targets.

use std::path::Path;
use std::process::{Command, Output};

fn hokan(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hokan"))
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("HOKAN_CATALOG")
        .env("HOKAN_CONFIG", config)
        .args(args)
        .output()
        .expect("run hokan")
}

fn write_site(dir: &Path, notify: &str) -> std::path::PathBuf {
    let path = dir.join("hokan.toml");
    std::fs::write(
        &path,
        format!(
            "[site]\nname = \"○○総合病院\"\n[repository]\npath = \"repo\"\n[[source]]\nname = \"emr\"\npaths = [\"/srv/emr\"]\n{notify}"
        ),
    )
    .unwrap();
    path
}

#[test]
fn notify_test_sends_to_every_target_and_says_which_failed() {
    let dir = tempfile::tempdir().unwrap();
    let got = dir.path().join("got.json");
    let config = write_site(
        dir.path(),
        &format!(
            "[[notify]]\nname = \"pager\"\ntype = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"cat > \\\"$0\\\"\", \"{}\"]\n\
             [[notify]]\nname = \"broken\"\ntype = \"command\"\nlang = \"en\"\ncommand = [\"/bin/sh\", \"-c\", \"echo no pager >&2; exit 3\"]\n",
            got.display()
        ),
    );
    let o = hokan(&config, &["notify", "test", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let d = &v["deliveries"];
    assert_eq!(
        (d[0]["target"].as_str(), d[0]["outcome"].as_str()),
        (Some("pager"), Some("sent"))
    );
    assert_eq!(d[1]["target"], "broken");
    assert_eq!(d[1]["outcome"], "abandoned");
    assert_eq!(
        d[1]["reason"],
        "sent once, not retried: /bin/sh exited with code 3: no pager"
    );
    let msg: serde_json::Value = serde_json::from_slice(&std::fs::read(&got).unwrap()).unwrap();
    assert_eq!(msg["event"], "test");
    assert_eq!(msg["site"], "○○総合病院");
    assert_eq!(msg["subject"], "[hokan] ○○総合病院: テスト通知");

    let o = hokan(&config, &["notify", "list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("N-000001  [sent]  pager  test"), "{out}");
    assert!(out.contains("N-000002  [ABANDONED]  broken  test"), "{out}");

    let o = hokan(&config, &["notify", "flush"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "nothing due to send\n"
    );

    // Only the working target: exit 0, in Japanese.
    let config = write_site(
        dir.path(),
        &format!(
            "[[notify]]\nname = \"pager\"\ntype = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"cat > \\\"$0\\\"\", \"{}\"]\n",
            got.display()
        ),
    );
    let o = hokan(&config, &["--lang", "ja", "notify", "test"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "N-000003  pager: 送信しました\n"
    );
}

#[test]
fn notify_without_targets_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_site(dir.path(), "");
    let o = hokan(&config, &["notify", "test"]);
    assert_eq!(o.status.code(), Some(10));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains("no notification targets: add a [[notify]]"),
        "{err}"
    );
}
