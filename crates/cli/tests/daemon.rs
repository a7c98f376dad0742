//! `hokan daemon` as a real process on a controllable clock: its clock is a
//! file (`HOKAN_CLOCK_FILE`) the test moves forward, so a simulated week
//! takes seconds and nothing sleeps for hours. The nights it runs are real
//! `hokan run` processes backing up a real folder into a real repository.
//!
//! - it runs at the scheduled times and not between them;
//! - stopped (SIGTERM, cleanly) over two scheduled times and restarted, it
//!   catches up once, not twice;
//! - SIGKILL in the middle of a night (a pre-backup command that hangs),
//!   then a restart: that night is recorded as interrupted and the next
//!   night runs normally;
//! - SIGHUP with a broken hokan.toml keeps the old schedule; with a good
//!   one the new schedule is used;
//! - the dead-man alert: a night still running at `expect_done_by` is told
//!   to the `[[notify]]` target;
//! - a second daemon on the same catalog is refused, and so is a night
//!   started by hand while the daemon's runs.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{make_tree, PW};

struct Site {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

const HANG: &str = "hang-pre-backup";

impl Site {
    fn new(schedule: &str, extra: &str) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        make_tree(&dir.join("data"), 3, 20_000);
        fs::write(dir.join("pw.txt"), format!("{PW}\n")).unwrap();
        std::fs::set_permissions(
            dir.join("pw.txt"),
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
        )
        .unwrap();
        let s = Site { _tmp: tmp, dir };
        s.write_config(schedule, extra);
        s.set_clock("2026-11-16T12:00:00+09:00");
        let o = s.hokan(&["init", "--insecure-fast-kdf"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        s
    }

    fn write_config(&self, schedule: &str, extra: &str) {
        let dir = self.dir.display();
        fs::write(
            self.dir.join("hokan.toml"),
            format!(
                r#"[site]
name = "daemon-test"
timezone = "+09:00"
catalog = "catalog.db"
schedule = "{schedule}"
{extra}

[repository]
path = "repo"
passphrase_file = "pw.txt"

[[source]]
name = "emr"
paths = ["{dir}/data"]

[source.pre_backup]
command = ["/bin/sh", "-c", "if [ -e {dir}/{HANG} ]; then touch {dir}/hanging; fi; while [ -e {dir}/{HANG} ]; do sleep 0.1; done"]
timeout = "1h"
"#
            ),
        )
        .unwrap();
    }

    fn set_clock(&self, at: &str) {
        let tmp = self.dir.join("clock.tmp");
        fs::write(&tmp, at).unwrap();
        fs::rename(tmp, self.dir.join("clock")).unwrap();
    }

    fn hokan(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_hokan"))
            .current_dir(&self.dir)
            .env_remove("HOKAN_REPO")
            .env_remove("HOKAN_CATALOG")
            .env("LANG", "C")
            .args(["--config", "hokan.toml", "--lang", "en"])
            .args(args)
            .output()
            .unwrap()
    }

    fn daemon(&self) -> Child {
        Command::new(env!("CARGO_BIN_EXE_hokan"))
            .current_dir(&self.dir)
            .env_remove("HOKAN_REPO")
            .env_remove("HOKAN_CATALOG")
            .env("LANG", "C")
            .env("HOKAN_CLOCK_FILE", self.dir.join("clock"))
            .env("HOKAN_LOG", "info")
            .args(["--config", "hokan.toml", "--lang", "en", "daemon"])
            .stdout(Stdio::null())
            .stderr(fs::File::create(self.dir.join("daemon.log")).unwrap())
            .spawn()
            .unwrap()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    /// The night jobs in the catalog, oldest first: (started_at, outcome).
    fn nights(&self) -> Vec<(String, String)> {
        if !self.dir.join("catalog.db").exists() {
            return Vec::new();
        }
        // Read without hokan.toml (a test may have broken it on purpose).
        let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
            .current_dir("/")
            .env_remove("HOKAN_CONFIG")
            .arg("--catalog")
            .arg(self.dir.join("catalog.db"))
            .args(["--json", "catalog", "jobs", "--limit", "1000"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        let mut n: Vec<(String, String)> = v["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| j["job"] == "night")
            .map(|j| {
                (
                    j["started_at"].as_str().unwrap().to_owned(),
                    j["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        n.sort();
        n
    }

    /// Wait (real time, at most 60 s) until there are `n` nights.
    fn wait_nights(&self, n: usize) -> Vec<(String, String)> {
        let t = Instant::now();
        loop {
            let got = self.nights();
            if got.len() >= n {
                return got;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "waited for {n} nights, have {got:?}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_log(&self, text: &str) {
        let t = Instant::now();
        while !self.log().contains(text) {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "waited for {text:?} in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Nothing more happens for a while (real time): the count stays.
fn stays(s: &Site, n: usize) {
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.nights().len(), n, "log:\n{}", s.log());
}

fn terminate(child: &mut Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "a clean stop exits 0");
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "SIGTERM ignored");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, sig) };
}

fn started(n: &[(String, String)]) -> Vec<&str> {
    n.iter().map(|(s, _)| &s[..16]).collect()
}

#[test]
fn nights_run_on_schedule_and_a_gap_is_caught_up_once() {
    let s = Site::new("*-*-* 22:00", "");
    let mut d = s.daemon();
    // First start, Monday noon: nothing ran before, nothing is caught up.
    s.wait_log("waiting for the next night");
    stays(&s, 0);
    s.set_clock("2026-11-16T21:59:00+09:00");
    stays(&s, 0);
    s.set_clock("2026-11-16T22:00:05+09:00");
    let n = s.wait_nights(1);
    s.set_clock("2026-11-17T03:00:00+09:00");
    stays(&s, 1);
    s.set_clock("2026-11-17T22:00:05+09:00");
    let n2 = s.wait_nights(2);
    assert_eq!(n2[0], n[0]);
    // Stopped cleanly over Wednesday's and Thursday's nights.
    terminate(&mut d);
    assert!(s.log().contains("stopping"), "{}", s.log());
    s.set_clock("2026-11-20T09:00:00+09:00");
    let mut d = s.daemon();
    let n3 = s.wait_nights(3);
    stays(&s, 3);
    assert_eq!(
        started(&n3),
        ["2026-11-16T13:00", "2026-11-17T13:00", "2026-11-20T00:00"],
        "one catch-up, at restart (times in UTC)"
    );
    assert!(s.log().contains("missed"), "{}", s.log());
    // Friday night runs as usual.
    s.set_clock("2026-11-20T22:00:05+09:00");
    let n4 = s.wait_nights(4);
    assert!(n4.iter().all(|(_, o)| o == "ok"), "{n4:?}");
    // A second daemon on the same catalog is refused.
    let second = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .current_dir(&s.dir)
        .env("HOKAN_CLOCK_FILE", s.dir.join("clock"))
        .args(["--config", "hokan.toml", "--lang", "en", "daemon"])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another hokan daemon"));
    terminate(&mut d);
}

#[test]
fn a_night_killed_midway_is_recorded_as_interrupted_and_the_next_runs() {
    let s = Site::new("*-*-* 22:00", "");
    let mut d = s.daemon();
    s.wait_log("waiting for the next night");
    fs::write(s.dir.join(HANG), "").unwrap();
    s.set_clock("2026-11-16T22:00:05+09:00");
    // The night is running (its marker is there, its pre-backup hangs).
    let marker = s.dir.join("hokan-night.running");
    let t = Instant::now();
    while !marker.exists() {
        assert!(t.elapsed() < Duration::from_secs(30), "{}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    signal(&d, libc::SIGKILL);
    d.wait().unwrap();
    assert_eq!(s.nights().len(), 0, "nothing recorded by the killed night");
    // The `hokan run` child died with the daemon: no process of this site
    // is left running the night.
    std::thread::sleep(Duration::from_millis(300));
    assert!(!running_hokan_in(&s.dir), "an orphan hokan run is left");
    fs::remove_file(s.dir.join(HANG)).unwrap();
    s.set_clock("2026-11-16T23:00:00+09:00");
    let mut d = s.daemon();
    let n = s.wait_nights(1);
    assert_eq!(n[0].1, "interrupted", "{n:?}");
    assert!(!marker.exists());
    stays(&s, 1);
    s.set_clock("2026-11-17T22:00:05+09:00");
    let n = s.wait_nights(2);
    assert_eq!(n[1].1, "ok", "{n:?}\n{}", s.log());
    terminate(&mut d);
}

/// Whether a `hokan run` whose working directory is `dir` is still alive.
fn running_hokan_in(dir: &Path) -> bool {
    let Ok(procs) = fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|p| {
        let cwd = fs::read_link(p.path().join("cwd")).ok();
        let mut cmd = String::new();
        let _ =
            fs::File::open(p.path().join("cmdline")).and_then(|mut f| f.read_to_string(&mut cmd));
        cwd.as_deref() == Some(dir) && cmd.contains("hokan") && cmd.split('\0').any(|a| a == "run")
    })
}

#[test]
fn sighup_with_a_broken_file_keeps_the_old_schedule_and_a_good_one_replaces_it() {
    let s = Site::new("*-*-* 22:00", "");
    let mut d = s.daemon();
    s.wait_log("waiting for the next night");
    fs::write(s.dir.join("hokan.toml"), "[site\nname = \"broken").unwrap();
    signal(&d, libc::SIGHUP);
    s.wait_log("not re-read");
    s.set_clock("2026-11-16T22:00:05+09:00");
    s.wait_nights(1);
    // A good file moves the night to 23:00.
    s.write_config("*-*-* 23:00", "");
    signal(&d, libc::SIGHUP);
    s.wait_log("configuration re-read");
    s.set_clock("2026-11-16T22:59:00+09:00");
    stays(&s, 1);
    s.set_clock("2026-11-16T23:00:05+09:00");
    let n = s.wait_nights(2);
    assert_eq!(&n[1].0[..16], "2026-11-16T14:00", "23:00 at +09:00: {n:?}");
    assert!(!s.log().contains("missed"), "{}", s.log());
    terminate(&mut d);
}

#[test]
fn a_night_still_running_at_expect_done_by_is_told() {
    let s = Site::new(
        "*-*-* 22:00",
        "expect_done_by = \"22:30\"\n\n[[notify]]\nname = \"log\"\ntype = \"command\"\nlang = \"en\"\ncommand = [\"/bin/sh\", \"-c\", \"cat >> notices.jsonl; echo >> notices.jsonl\"]",
    );
    let mut d = s.daemon();
    s.wait_log("waiting for the next night");
    fs::write(s.dir.join(HANG), "").unwrap();
    s.set_clock("2026-11-16T22:00:05+09:00");
    s.wait_log("starting the night");
    assert!(!s.dir.join("notices.jsonl").exists());
    // A person starting a night by hand meanwhile is refused: one night at
    // a time on a catalog.
    let t = Instant::now();
    while !s.dir.join("hanging").exists() {
        assert!(t.elapsed() < Duration::from_secs(30), "{}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let manual = s.hokan(&["--now", "2026-11-16T22:10:00+09:00", "run"]);
    assert_eq!(
        manual.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&manual.stderr)
    );
    assert!(String::from_utf8_lossy(&manual.stderr).contains("another night is running"));
    s.set_clock("2026-11-16T22:31:00+09:00");
    s.wait_log("has not finished by the expected time");
    let t = Instant::now();
    let told = loop {
        let text = fs::read_to_string(s.dir.join("notices.jsonl")).unwrap_or_default();
        if text.contains("night-missed") {
            break text;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "{}", s.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    let first: Value = serde_json::from_str(told.lines().next().unwrap()).unwrap();
    assert_eq!(first["notice"]["type"], "night-missed", "{first}");
    assert!(
        first["subject"].as_str().unwrap().contains("daemon-test"),
        "{first}"
    );
    // The hang ends; the night finishes and is recorded.
    fs::remove_file(s.dir.join(HANG)).unwrap();
    s.wait_nights(1);
    terminate(&mut d);
}
