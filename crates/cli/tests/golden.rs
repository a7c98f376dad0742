//! The golden repository: a small repository written by hokan 0.1.0 (format
//! version 1) and committed under `tests/fixtures/golden-v1`. Every later
//! version must still open it, verify it, and restore exactly the data it was
//! made from. Never regenerate the fixture to make this test pass: a failure
//! here means old repositories — a hospital's ten-year-old tapes — would no
//! longer restore.
//!
//! The source data is rebuilt here deterministically (`golden_source`), which
//! is also how the fixture was made:
//! `HOKAN_MAKE_GOLDEN=1 cargo test -p hokan --test golden` with the fixture
//! folder absent.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;

const GOLDEN_PW: &str = "golden fixture passphrase";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden-v1")
}

fn set_mtime(p: &Path, secs: i64) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let t = libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 123_456_789,
    };
    // SAFETY: valid C string and two-element array.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            [t, t].as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(rc, 0);
}

/// The data the fixture was made from. Deterministic: no randomness, fixed times.
fn golden_source(dir: &Path) {
    fs::create_dir_all(dir.join("ward/notes")).unwrap();
    fs::write(
        dir.join("ward/notes/admission.txt"),
        "患者 ID 00012345 入院 2026-11-22\n".repeat(50),
    )
    .unwrap();
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(dir.join("ward/scan.dcm"), &big).unwrap();
    fs::write(dir.join("empty"), b"").unwrap();
    fs::write(
        dir.join(OsStr::from_bytes(b"latin1-\xe9t\xe9.txt")),
        b"not utf-8 name",
    )
    .unwrap();
    std::os::unix::fs::symlink("ward/notes/admission.txt", dir.join("link")).unwrap();
    fs::hard_link(dir.join("empty"), dir.join("empty-hardlink")).unwrap();
    fs::set_permissions(dir.join("ward/scan.dcm"), fs::Permissions::from_mode(0o600)).unwrap();
    let latin1 = dir.join(OsStr::from_bytes(b"latin1-\xe9t\xe9.txt"));
    let files = [
        dir.join("ward/notes/admission.txt"),
        dir.join("ward/scan.dcm"),
        dir.join("empty"),
        latin1,
        dir.join("link"),
    ];
    for (i, p) in files.iter().enumerate() {
        set_mtime(p, 1_790_000_000 + i as i64 * 3600);
    }
    set_mtime(&dir.join("ward/notes"), 1_790_100_000);
    set_mtime(&dir.join("ward"), 1_790_200_000);
}

/// Writes the fixture. Called only with `HOKAN_MAKE_GOLDEN=1` and no fixture
/// present, i.e. once, when a new format version gets its own fixture.
fn make_golden_fixture() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("golden");
    golden_source(&src);
    let out = fixture();
    assert!(
        !out.exists(),
        "the golden fixture exists already; never regenerate it"
    );
    let run = |args: &[&str]| {
        let o = cmd(&out)
            .env("HOKAN_PASSWORD", GOLDEN_PW)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    run(&["init", "--insecure-fast-kdf", "--pack-size", "65536"]);
    run(&[
        "backup",
        "--source",
        "golden",
        "--time",
        "2026-11-22T03:00:00Z",
        src.to_str().unwrap(),
    ]);
    fs::write(src.join("ward/notes/discharge.txt"), b"discharged").unwrap();
    run(&[
        "backup",
        "--source",
        "golden",
        "--time",
        "2026-11-23T03:00:00Z",
        src.to_str().unwrap(),
    ]);
    fs::write(
        out.join("paper-key.txt"),
        run(&["key", "export", "--paper"]),
    )
    .unwrap();
    let _ = fs::remove_dir_all(out.join("locks"));
    let _ = fs::remove_dir_all(out.join("tmp"));
}

#[test]
fn golden_v1_repository_still_opens_verifies_and_restores() {
    let repo_src = fixture();
    if std::env::var_os("HOKAN_MAKE_GOLDEN").is_some() && !repo_src.exists() {
        make_golden_fixture();
    }
    assert!(
        repo_src.join("config").exists(),
        "fixture missing: {repo_src:?}"
    );
    // Work on a copy: the fixture stays untouched (and git does not keep empty folders).
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    copy_tree(&repo_src, &repo);
    for d in ["locks", "tmp"] {
        fs::create_dir_all(repo.join(d)).unwrap();
    }
    let run = |args: &[&str]| -> serde_json::Value {
        let o = cmd(&repo)
            .env("HOKAN_PASSWORD", GOLDEN_PW)
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = run(&["verify", "--read-data"]);
    assert_eq!(v["ok"], true, "{v}");
    let snaps = run(&["snapshots"]);
    let times: Vec<&str> = snaps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["time"].as_str().unwrap())
        .collect();
    assert_eq!(times, ["2026-11-22T03:00:00Z", "2026-11-23T03:00:00Z"]);

    let t2 = tempfile::tempdir().unwrap();
    let src = t2.path().join("golden");
    golden_source(&src);
    // Night 1 restores exactly the source as it was.
    let out1 = t2.path().join("night1");
    run(&[
        "restore",
        snaps[0]["short_id"].as_str().unwrap(),
        "--target",
        out1.to_str().unwrap(),
    ]);
    assert_same(&src, &out1.join("golden"));
    // Night 2 adds one file; everything else unchanged.
    fs::write(src.join("ward/notes/discharge.txt"), b"discharged").unwrap();
    let out2 = t2.path().join("night2");
    run(&["restore", "latest", "--target", out2.to_str().unwrap()]);
    assert_eq!(
        fs::read(out2.join("golden/ward/notes/discharge.txt")).unwrap(),
        b"discharged"
    );
    assert_eq!(
        fs::read(out2.join("golden/ward/scan.dcm")).unwrap(),
        fs::read(src.join("ward/scan.dcm")).unwrap()
    );
    // The paper key printed then still opens it, with no passphrase at all.
    let o = cmd(&repo)
        .env_remove("HOKAN_PASSWORD")
        .args([
            "--paper-key",
            repo.join("paper-key.txt").to_str().unwrap(),
            "--json",
            "snapshots",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
