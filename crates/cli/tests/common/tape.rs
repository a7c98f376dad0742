//! The tape tests' site: a hokan.toml with a `[[tape_pool]]`, a primary
//! repository, and the real binary run at chosen instants (`--now`), on the
//! SIMULATED library (`hokan tape sim`).

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{make_tree, PW};

pub struct Site {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub data: PathBuf,
    pub night: OffsetDateTime,
}

pub const NIGHT0: &str = "2026-11-16T22:00:00Z";

impl Site {
    pub fn new(pool: &str) -> Site {
        let s = Site::uninitialised("path = \"repo\"", pool);
        s.ok(0, &["init", "--insecure-fast-kdf"]);
        s
    }

    /// A site whose `[repository]` is `repository` (its `path` or `s3`
    /// line), not initialised yet.
    pub fn uninitialised(repository: &str, pool: &str) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let data = dir.join("data");
        make_tree(&data, 11, 300_000);
        fs::write(dir.join("pw.txt"), format!("{PW}\n")).unwrap();
        // Private, as a site's passphrase file must be (else hokan warns).
        std::fs::set_permissions(
            dir.join("pw.txt"),
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
        )
        .unwrap();
        fs::write(
            dir.join("hokan.toml"),
            format!(
                r#"[site]
name = "テープ病院"
timezone = "+09:00"
catalog = "catalog.db"

[repository]
{repository}
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
        Site {
            _tmp: tmp,
            dir,
            data,
            night: OffsetDateTime::parse(NIGHT0, &Rfc3339).unwrap(),
        }
    }

    pub fn at(&self, minutes: i64) -> String {
        (self.night + Duration::minutes(minutes))
            .format(&Rfc3339)
            .unwrap()
    }

    pub fn command(&self, minutes: i64, args: &[&str]) -> Command {
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

    pub fn run(&self, minutes: i64, args: &[&str]) -> Output {
        self.command(minutes, args).output().unwrap()
    }

    pub fn code(&self, minutes: i64, args: &[&str], code: i32) -> (String, String) {
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

    pub fn ok(&self, minutes: i64, args: &[&str]) -> String {
        self.code(minutes, args, 0).0
    }

    pub fn json(&self, minutes: i64, args: &[&str], code: i32) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.code(minutes, &a, code).0).unwrap()
    }

    /// The next night: change some data and back it up.
    pub fn night(&mut self, n: u32) {
        self.night += Duration::days(1);
        fs::write(
            self.data.join(format!("night-{n}.txt")),
            format!("night {n}"),
        )
        .unwrap();
        let t = self.at(0);
        self.ok(0, &["backup", "--source", "emr", "--time", &t]);
    }

    pub fn status(&self, minutes: i64) -> Value {
        self.json(minutes, &["status"], 0)
    }

    pub fn offline(&self, minutes: i64) -> usize {
        let o = self.run(minutes, &["--json", "status"]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["evaluation"]["sources"][0]["offline_generations"]
            .as_array()
            .unwrap()
            .len()
    }

    /// The copies on `medium` in `status --json`.
    pub fn copies_on(&self, minutes: i64, medium: &str) -> Vec<Value> {
        let o = self.run(minutes, &["--json", "status"]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["evaluation"]["copies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["medium"] == medium)
            .cloned()
            .collect()
    }

    /// 項番 of the copies on `medium` ("online" for a copy that is not
    /// offline), from `status --json`.
    pub fn koban_of(&self, minutes: i64, medium: &str) -> Vec<String> {
        self.copies_on(minutes, medium)
            .iter()
            .map(|c| match c["verdict"]["detail"]["koban"].as_str() {
                Some(k) => k.to_owned(),
                None => "online".to_owned(),
            })
            .collect()
    }
}

/// A single stand-alone drive that ejects after each job (①-1-1).
pub const SINGLE: &str = r#"[[tape_pool]]
name = "single"
mode = "single-drive"
after_job = "eject"
allocation = "weekday"
retention = "3d"
virtual_library = "vtl"
"#;

/// A SIMULATED single drive (SINGLE) with `tape` labelled and one night
/// backed up to it at minute 60, ejected after the job (①-1-1). Returns
/// the site and the tape job's JSON.
pub fn single_with_one_set(tape: &str) -> (Site, Value) {
    let mut s = Site::new(SINGLE);
    s.ok(0, &["tape", "sim", "create", "--pool", "single"]);
    s.ok(0, &["tape", "sim", "insert", "--pool", "single", tape]);
    s.ok(0, &["tape", "label", "--pool", "single", tape]);
    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "single"], 0);
    (s, v)
}

pub const LIBRARY: &str = r#"[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "3d"
virtual_library = "vtl"
"#;

/// A SIMULATED library of pool `weekday` (LIBRARY) with `tapes` of
/// `capacity` inserted and labelled.
pub fn library_with(tapes: &[&str], capacity: &str) -> Site {
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

/// `n` incompressible bytes (a linear congruential generator).
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
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
