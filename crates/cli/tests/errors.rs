//! Bad input gets one clear line, a meaningful exit code, and loses nothing.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// Every file under the repository with its content, to prove nothing changed.
fn snapshot_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                v.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    v.sort();
    v
}

fn one_line_error(o: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    err
}

fn repo_with_backup(t: &Path) -> std::path::PathBuf {
    let (repo, src) = (t.join("repo"), t.join("src"));
    make_tree(&src, 31, 1000);
    init(&repo);
    ok(&repo, &["backup", src.to_str().unwrap()]);
    repo
}

#[test]
fn wrong_passphrase() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_backup(t.path());
    let before = snapshot_of(&repo);
    let o = cmd(&repo)
        .env("HOKAN_PASSWORD", "wrong")
        .args(["backup", t.path().join("src").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    let e = one_line_error(&o);
    assert!(e.starts_with("hokan: wrong passphrase:"), "{e}");
    assert!(
        e.contains(repo.to_str().unwrap()),
        "names the repository: {e}"
    );
    let o = cmd(&repo)
        .env("HOKAN_PASSWORD", "wrong")
        .args(["--lang", "ja", "snapshots"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(one_line_error(&o).contains("パスフレーズが違います"));
    assert_eq!(before, snapshot_of(&repo), "nothing changed");
}

#[test]
fn repository_of_a_newer_format_version() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_backup(t.path());
    let cfg = repo.join("config");
    let text = fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"version\": 2", "\"version\": 3");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&cfg, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&cfg, text).unwrap();
    let before = snapshot_of(&repo);
    for args in [
        &["snapshots"][..],
        &["backup", "/etc/hostname"],
        &["verify"],
        &["prune"],
    ] {
        let o = run(&repo, args);
        assert_eq!(o.status.code(), Some(8), "{args:?}");
        let e = one_line_error(&o);
        assert!(
            e.contains("format version 3") && e.contains("upgrade hokan"),
            "{e}"
        );
    }
    let o = run(&repo, &["--lang", "ja", "snapshots"]);
    assert!(one_line_error(&o).contains("hokan を更新してください"));
    assert_eq!(before, snapshot_of(&repo), "nothing changed");
}

#[test]
fn path_that_is_not_a_repository() {
    let t = tempfile::tempdir().unwrap();
    let not_repo = t.path().join("documents");
    fs::create_dir_all(&not_repo).unwrap();
    fs::write(not_repo.join("letter.txt"), b"dear doctor").unwrap();
    let before = snapshot_of(&not_repo);
    let o = run(&not_repo, &["snapshots"]);
    assert_eq!(o.status.code(), Some(1));
    let e = one_line_error(&o);
    assert!(
        e.contains("is not a hokan repository") && e.contains("hokan init"),
        "{e}"
    );
    let o = run(
        &t.path().join("missing"),
        &["restore", "latest", "--target", "/tmp/x"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line_error(&o).contains("is not a hokan repository"));
    assert_eq!(before, snapshot_of(&not_repo));
    // init refuses to write over an existing repository.
    let repo = repo_with_backup(t.path());
    let before = snapshot_of(&repo);
    let o = run(&repo, &["init", "--insecure-fast-kdf"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line_error(&o).contains("already holds a hokan repository"));
    assert_eq!(before, snapshot_of(&repo));
}

#[test]
fn usage_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    assert_eq!(run(t.path(), &["backup"]).status.code(), Some(2));
    assert_eq!(run(t.path(), &["no-such-command"]).status.code(), Some(2));
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .env_remove("HOKAN_REPO")
        .args(["snapshots"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--repo"));
}

#[test]
fn no_passphrase_available() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_backup(t.path());
    let o = cmd(&repo)
        .env_remove("HOKAN_PASSWORD")
        .args(["snapshots"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(one_line_error(&o).contains("HOKAN_PASSWORD"));
}

struct Mount(std::path::PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_fails_cleanly_and_the_repository_stays_usable() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED full_disk test: needs root to mount a small tmpfs (CI runs as root)");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let mnt = t.path().join("small-disk");
    fs::create_dir_all(&mnt).unwrap();
    assert!(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap()
        .success());
    let _guard = Mount(mnt.clone());
    let repo = mnt.join("repo");
    let src = t.path().join("src");
    make_tree(&src, 41, 1 << 20);
    ok(
        &repo,
        &["init", "--insecure-fast-kdf", "--pack-size", "262144"],
    );
    let first = json(&repo, &["backup", src.to_str().unwrap()]);
    // Now something that cannot fit.
    let mut big = vec![0u8; 12 << 20];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut big);
    fs::write(src.join("scan.bin"), &big).unwrap();
    let o = run(&repo, &["backup", src.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(7),
        "no space => exit 7: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let e = one_line_error(&o);
    assert!(
        e.contains("no space left")
            && e.contains(repo.to_str().unwrap())
            && e.contains("still usable"),
        "{e}"
    );
    let o = run(&repo, &["--lang", "ja", "backup", src.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(7));
    assert!(one_line_error(&o).contains("空き容量がありません"));
    // Nothing half-written; the repository verifies and the first night restores.
    let tmp_left: Vec<_> = fs::read_dir(repo.join("tmp")).unwrap().collect();
    assert!(tmp_left.is_empty(), "no temp files left: {tmp_left:?}");
    assert_eq!(json(&repo, &["snapshots"]).as_array().unwrap().len(), 1);
    ok(&repo, &["verify", "--read-data"]);
    let out = t.path().join("out");
    fs::remove_file(src.join("scan.bin")).unwrap();
    ok(
        &repo,
        &[
            "restore",
            first["snapshot_short"].as_str().unwrap(),
            "--target",
            out.to_str().unwrap(),
        ],
    );
    assert_same(&src, &out.join("src"));
    // The administrator gives the medium more room (a bigger disk, space
    // freed elsewhere): the next backup works and reuses the packs the failed
    // attempts managed to write. (Deleting the source file would free nothing
    // on the repository's disk.)
    let before = packs(&repo).len();
    assert!(Command::new("mount")
        .args(["-o", "remount,size=48m"])
        .arg(&mnt)
        .status()
        .unwrap()
        .success());
    fs::write(src.join("scan.bin"), &big).unwrap();
    let again = json(&repo, &["backup", src.to_str().unwrap()]);
    assert_eq!(again["partial"], false);
    let added = again["summary"]["bytes_added"].as_u64().unwrap();
    assert!(
        before > 0 && added < big.len() as u64,
        "reused what the failed runs wrote: added {added} of {}",
        big.len()
    );
    ok(&repo, &["verify", "--read-data"]);
}

/// `hokan … | head -1`: the reader goes away after one line. hokan ends
/// quietly (no panic, no backtrace), with its own exit code or by SIGPIPE.
#[test]
fn closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = (t.path().join("repo"), t.path().join("src"));
    fs::create_dir_all(&src).unwrap();
    // 3000 files with long names: `ls` prints well over the 64 KiB a pipe holds.
    for i in 0..3000 {
        fs::write(
            src.join(format!(
                "{i:05}-a-patient-record-with-a-rather-long-file-name-for-the-listing.txt"
            )),
            b"x",
        )
        .unwrap();
    }
    init(&repo);
    ok(&repo, &["backup", src.to_str().unwrap()]);
    for args in [&["ls", "latest"][..], &["--json", "ls", "latest"]] {
        let mut child = cmd(&repo)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        assert!(!first.is_empty());
        drop(out); // `head -1` exits.
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert!(
            o.status.code() == Some(0) || o.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?} {err}",
            o.status
        );
        assert!(err.is_empty(), "{args:?}: quiet: {err}");
    }
    // Output that was asked for and lost for another reason is an error:
    // `hokan ls latest > file` on a full disk.
    if let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") {
        let o = cmd(&repo)
            .args(["ls", "latest"])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(7));
        let e = one_line_error(&o);
        assert!(
            e.contains("could not be written") && e.contains("No space"),
            "{e}"
        );
    }
}

#[test]
fn init_wants_an_empty_or_missing_folder() {
    let t = tempfile::tempdir().unwrap();
    // A folder of someone's documents: refused, untouched.
    let docs = t.path().join("documents");
    fs::create_dir_all(&docs).unwrap();
    fs::write(docs.join("letter.txt"), b"dear doctor").unwrap();
    let before = snapshot_of(&docs);
    let o = run(&docs, &["init", "--insecure-fast-kdf"]);
    assert_eq!(o.status.code(), Some(2));
    let e = one_line_error(&o);
    assert!(
        e.contains(&format!("folder {} is not empty", docs.display()))
            && e.contains("hokan init wants an empty or missing folder")
            && e.contains("nothing was changed"),
        "{e}"
    );
    let o = run(&docs, &["--lang", "ja", "init", "--insecure-fast-kdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line_error(&o).contains("は空ではありません"));
    assert_eq!(before, snapshot_of(&docs));
    assert_eq!(fs::read_dir(&docs).unwrap().count(), 1, "no hokan folders");
    // An empty existing folder (with the lost+found of a new filesystem) is fine.
    let empty = t.path().join("new-disk");
    fs::create_dir_all(empty.join("lost+found")).unwrap();
    init(&empty);
    ok(&empty, &["snapshots"]);
    // A missing folder is created.
    let missing = t.path().join("a/b/repo");
    init(&missing);
    ok(&missing, &["snapshots"]);
}

/// Fill a filesystem: write until the disk refuses.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let filler = dir.join("filler.bin");
    let mut f = fs::File::create(&filler).unwrap();
    let block = vec![0x5au8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    filler
}

#[test]
fn full_disk_under_the_catalog_says_so_and_the_catalog_stays_usable() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED full catalog disk test: needs root to mount a small tmpfs (CI runs as root)"
        );
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let mnt = t.path().join("small-disk");
    fs::create_dir_all(&mnt).unwrap();
    assert!(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap()
        .success());
    let _guard = Mount(mnt.clone());
    let cat = mnt.join("site.db");
    let catalog = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hokan"));
        c.env("LANG", "C")
            .env_remove("LC_ALL")
            .env_remove("HOKAN_CONFIG")
            .env_remove("HOKAN_CATALOG")
            .current_dir(t.path())
            .arg("--catalog")
            .arg(&cat)
            .args(args);
        c.output().unwrap()
    };
    let add = |id: &str| catalog(&["media", "add", id, "--kind", "lto-library"]);
    assert_eq!(add("HKN001L9").status.code(), Some(0));
    let filler = fill(&mnt);
    let o = add("HKN002L9");
    assert_eq!(
        o.status.code(),
        Some(7),
        "no space => exit 7: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let e = one_line_error(&o);
    assert!(
        e.contains(&format!(
            "no space left on the device holding the catalog {}",
            cat.display()
        )) && e.contains("free space")
            && e.contains("still usable")
            && !e.contains("disk I/O error"),
        "{e}"
    );
    let o = catalog(&[
        "--lang",
        "ja",
        "media",
        "add",
        "HKN002L9",
        "--kind",
        "lto-library",
    ]);
    assert_eq!(o.status.code(), Some(7));
    assert!(one_line_error(&o).contains("空き容量がありません"));
    // A new catalog on the full disk: the same answer.
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("HOKAN_CONFIG")
        .current_dir(t.path())
        .arg("--catalog")
        .arg(mnt.join("new.db"))
        .args(["media", "add", "HKN009L9", "--kind", "lto-library"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(one_line_error(&o).contains("no space left on the device holding the catalog"));
    // Space freed: the catalog verifies, and takes the write it refused.
    fs::remove_file(&filler).unwrap();
    let o = catalog(&["catalog", "verify"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(add("HKN002L9").status.code(), Some(0));
    let o = catalog(&["--json", "media", "list"]);
    assert_eq!(o.status.code(), Some(0));
    let list = String::from_utf8_lossy(&o.stdout);
    assert!(
        list.contains("HKN001L9") && list.contains("HKN002L9"),
        "{list}"
    );
    assert_eq!(catalog(&["catalog", "verify"]).status.code(), Some(0));
}

#[test]
fn secret_files_readable_by_others_get_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_backup(t.path());
    let pw = t.path().join("pw.txt");
    fs::write(&pw, format!("{PW}\n")).unwrap();
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o644)).unwrap();
    let with_file = |lang: &str| {
        cmd(&repo)
            .env_remove("HOKAN_PASSWORD")
            .args([
                "--lang",
                lang,
                "--password-file",
                pw.to_str().unwrap(),
                "snapshots",
            ])
            .output()
            .unwrap()
    };
    let o = with_file("en");
    assert_eq!(o.status.code(), Some(0), "a warning, not an error");
    let e = one_line_error(&o);
    assert!(
        e.contains(&format!(
            "warning: passphrase file {} can be read by other users (mode 0644); run `chmod 600 {}`",
            pw.display(),
            pw.display()
        )),
        "{e}"
    );
    let o = with_file("ja");
    assert_eq!(o.status.code(), Some(0));
    assert!(one_line_error(&o).contains("他のユーザーも読めます"));
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o640)).unwrap();
    assert!(String::from_utf8_lossy(&with_file("en").stderr).contains("mode 0640"));
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o600)).unwrap();
    let o = with_file("en");
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The paper key opens everything too.
    let sheet = ok(&repo, &["key", "export", "--paper"]);
    let pk = t.path().join("paper-key.txt");
    fs::write(&pk, sheet).unwrap();
    fs::set_permissions(&pk, fs::Permissions::from_mode(0o644)).unwrap();
    let o = cmd(&repo)
        .env_remove("HOKAN_PASSWORD")
        .args(["--paper-key", pk.to_str().unwrap(), "snapshots"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        one_line_error(&o).contains(&format!(
            "paper key file {} can be read by other users",
            pk.display()
        )),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
