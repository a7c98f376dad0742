//! Tape end to end with the real binary on the SIMULATED library (no tape
//! hardware here: `hokan tape sim` plays the person and the library keeps
//! its state in a folder, as `crates/tape/src/virt` documents).
//!
//! Nights of backups over a rotation, cartridges unloaded, exported and put
//! back in a drive, `status` following each move with the right 項番; a set
//! spanning three cartridges; restore from tape alone after the primary
//! repository is deleted; refusal to overwrite a retained cartridge; a
//! write-protected cartridge; a tape job killed half-way.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use common::*;

struct Site {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
    night: OffsetDateTime,
}

const NIGHT0: &str = "2026-11-16T22:00:00Z";

impl Site {
    fn new(pool: &str) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let data = dir.join("data");
        make_tree(&data, 11, 300_000);
        fs::write(dir.join("pw.txt"), format!("{PW}\n")).unwrap();
        fs::write(
            dir.join("hokan.toml"),
            format!(
                r#"[site]
name = "テープ病院"
timezone = "+09:00"
catalog = "catalog.db"

[repository]
path = "repo"
passphrase_file = "pw.txt"

[[source]]
name = "emr"
paths = ["{}"]

[policy]
min_offline_generations = 3
max_newest_age = "7d"

{pool}"#,
                data.display()
            ),
        )
        .unwrap();
        let s = Site {
            _tmp: tmp,
            dir,
            data,
            night: OffsetDateTime::parse(NIGHT0, &Rfc3339).unwrap(),
        };
        s.ok(0, &["init", "--insecure-fast-kdf"]);
        s
    }

    fn at(&self, minutes: i64) -> String {
        (self.night + Duration::minutes(minutes))
            .format(&Rfc3339)
            .unwrap()
    }

    fn command(&self, minutes: i64, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hokan"));
        c.env_remove("HOKAN_REPO")
            .env_remove("HOKAN_PASSWORD")
            .env_remove("HOKAN_CATALOG")
            .env("LANG", "C")
            .current_dir(&self.dir)
            .args([
                "--config",
                "hokan.toml",
                "--lang",
                "en",
                "--now",
                &self.at(minutes),
            ])
            .args(args);
        c
    }

    fn run(&self, minutes: i64, args: &[&str]) -> Output {
        self.command(minutes, args).output().unwrap()
    }

    fn code(&self, minutes: i64, args: &[&str], code: i32) -> (String, String) {
        let o = self.run(minutes, args);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(
            o.status.code(),
            Some(code),
            "hokan {args:?}\nstdout: {out}\nstderr: {err}"
        );
        (out, err)
    }

    fn ok(&self, minutes: i64, args: &[&str]) -> String {
        self.code(minutes, args, 0).0
    }

    fn json(&self, minutes: i64, args: &[&str], code: i32) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.code(minutes, &a, code).0).unwrap()
    }

    /// The next night: change some data and back it up.
    fn night(&mut self, n: u32) {
        self.night += Duration::days(1);
        fs::write(
            self.data.join(format!("night-{n}.txt")),
            format!("night {n}"),
        )
        .unwrap();
        let t = self.at(0);
        self.ok(0, &["backup", "--source", "emr", "--time", &t]);
    }

    fn status(&self, minutes: i64) -> Value {
        self.json(minutes, &["status"], 0)
    }

    fn offline(&self, minutes: i64) -> usize {
        let o = self.run(minutes, &["--json", "status"]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["evaluation"]["sources"][0]["offline_generations"]
            .as_array()
            .unwrap()
            .len()
    }

    /// 項番 of the copies on `medium`, from `status --json`.
    fn koban_of(&self, minutes: i64, medium: &str) -> Vec<String> {
        let o = self.run(minutes, &["--json", "status"]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["evaluation"]["copies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["medium"] == medium)
            .map(|c| match c["verdict"]["detail"]["koban"].as_str() {
                Some(k) => k.to_owned(),
                None => "online".to_owned(),
            })
            .collect()
    }
}

/// `n` incompressible bytes (a linear congruential generator).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

const LIBRARY: &str = r#"[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "3d"
virtual_library = "vtl"
"#;

fn library_with(tapes: &[&str], capacity: &str) -> Site {
    let s = Site::new(LIBRARY);
    s.ok(
        0,
        &["tape", "sim", "create", "--pool", "weekday", "--slots", "8"],
    );
    for t in tapes {
        s.ok(
            0,
            &[
                "tape",
                "sim",
                "insert",
                "--pool",
                "weekday",
                t,
                "--capacity",
                capacity,
            ],
        );
        s.ok(0, &["tape", "label", "--pool", "weekday", t]);
    }
    s
}

#[test]
fn nights_of_tape_backups_rotate_and_status_follows_every_move() {
    let mut s = library_with(&["HKN001L9", "HKN002L9", "HKN003L9", "HKN004L9"], "256MiB");
    let mut used = Vec::new();
    for n in 1..=3 {
        s.night(n);
        let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
        let set = v["cartridges"].as_array().unwrap();
        assert_eq!(set.len(), 1, "{v}");
        used.push(set[0].as_str().unwrap().to_owned());
    }
    // Each night on a different cartridge, each back in its slot: ①-2-1.
    used.sort();
    used.dedup();
    assert_eq!(used.len(), 3, "{used:?}");
    assert_eq!(s.offline(120), 3);
    for t in &used {
        assert_eq!(s.koban_of(120, t), vec!["①-2-1"], "{t}");
    }
    s.status(120);

    // A cartridge back in a drive: its copy is online, status names it.
    let t = used[0].clone();
    s.ok(
        130,
        &["tape", "move", "--pool", "weekday", &t, "--to", "drive"],
    );
    assert_eq!(s.koban_of(131, &t), vec!["online"]);
    let o = s.run(131, &["status"]);
    assert_eq!(o.status.code(), Some(9));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("Medium {t} is in drive")));

    // Exported through the mail slot, then taken out by a person: ①-2-2.
    s.ok(
        140,
        &["tape", "move", "--pool", "weekday", &t, "--to", "export"],
    );
    s.ok(141, &["tape", "sim", "take-out", "--pool", "weekday", &t]);
    s.ok(142, &["tape", "inventory", "--pool", "weekday"]);
    assert_eq!(s.koban_of(143, &t), vec!["①-2-2"]);
    assert_eq!(s.offline(143), 3);
}

#[test]
fn a_retained_cartridge_is_never_overwritten() {
    let mut s = library_with(&["HKN001L9"], "256MiB");
    s.night(1);
    s.ok(60, &["tape", "backup", "--pool", "weekday"]);
    s.night(2);
    // The only cartridge holds last night's set for 3 days.
    let (_, err) = s.code(60, &["tape", "backup", "--pool", "weekday"], 1);
    assert!(err.contains("HKN001L9"), "{err}");
    assert!(
        err.contains("2026-11-21"),
        "names the date it may be reused: {err}"
    );
    let (_, err) = s.code(61, &["tape", "label", "--pool", "weekday", "HKN001L9"], 1);
    assert!(
        err.contains("HKN001L9") && err.contains("2026-11-21"),
        "{err}"
    );
    // After the retention it is reused, and the old copy is gone from the catalog.
    s.night(3);
    s.night(4);
    s.night(5);
    s.ok(60, &["tape", "backup", "--pool", "weekday"]);
    assert_eq!(s.offline(120), 1);
}

#[test]
fn a_set_spans_three_cartridges_and_restores_from_tape_alone() {
    let mut s = library_with(&["HKN001L9", "HKN002L9", "HKN003L9"], "8MiB");
    // ~17 MiB of incompressible data in an 8 MiB-per-cartridge pool: more
    // than two cartridges hold (each keeps its last eighth as the early
    // warning zone), less than three.
    fs::write(s.data.join("scan.dcm"), noise(18_000_000, 7)).unwrap();
    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "weekday", "--verify"], 0);
    let carts: Vec<&str> = v["cartridges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(carts.len(), 3, "{v}");
    // Counted once, as one generation, while every cartridge is in a slot.
    assert_eq!(s.offline(120), 1);
    for t in &carts {
        assert_eq!(s.koban_of(120, t), vec!["①-2-1"]);
    }

    // The primary repository is lost.
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let snap = v["snapshots"][0].as_str().unwrap().to_owned();
    let target = s.dir.join("restored");
    s.ok(
        130,
        &[
            "tape",
            "restore",
            "--pool",
            "weekday",
            &snap[..8],
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &target.join("data"));
}

#[test]
fn a_write_protected_cartridge_is_refused_with_its_name() {
    let s = Site::new(LIBRARY);
    s.ok(0, &["tape", "sim", "create", "--pool", "weekday"]);
    s.ok(
        0,
        &[
            "tape",
            "sim",
            "insert",
            "--pool",
            "weekday",
            "HKN009L9",
            "--write-protected",
        ],
    );
    let (_, err) = s.code(0, &["tape", "label", "--pool", "weekday", "HKN009L9"], 1);
    assert!(
        err.contains("HKN009L9") && err.contains("write protect"),
        "{err}"
    );
}

#[test]
fn a_killed_tape_job_leaves_no_copy_counted_and_the_next_job_runs() {
    let mut s = library_with(&["HKN001L9", "HKN002L9"], "256MiB");
    fs::write(s.data.join("scan.dcm"), noise(6_000_000, 3)).unwrap();
    s.night(1);
    // Slow the simulated drive down so the job is surely mid-write.
    let mut child = s
        .command(60, &["tape", "backup", "--pool", "weekday"])
        .env("HOKAN_SIM_TAPE_DELAY_MS", "200")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    assert_eq!(s.offline(61), 0, "a partial set must not count");
    // The next job closes the partial set and writes a complete one.
    let v = s.json(62, &["tape", "backup", "--pool", "weekday"], 0);
    assert_eq!(v["cartridges"].as_array().unwrap().len(), 1);
    assert_eq!(s.offline(120), 1);
}
