//! A site with a repository, a catalog and three nights of backups, run
//! through the real binary with a fixed clock (`--now`): the fixture of the
//! site and trust tests.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use hokan_catalog::{Catalog, Event};
use hokan_offline::{Location, ObservedBy};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{make_tree, PW};

pub struct Site {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    /// The last night's backup time; the tests' clock runs from here.
    pub night: OffsetDateTime,
}

impl Site {
    pub fn config(&self) -> PathBuf {
        self.dir.join("hokan.toml")
    }

    pub fn catalog(&self) -> PathBuf {
        self.dir.join("catalog.db")
    }

    pub fn at(&self, hours: i64) -> String {
        (self.night + Duration::hours(hours))
            .format(&Rfc3339)
            .unwrap()
    }

    /// `hokan --config … --now (night + hours) ARGS`.
    pub fn run(&self, hours: i64, lang: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hokan"))
            .env_remove("HOKAN_REPO")
            .env_remove("HOKAN_PASSWORD")
            .env_remove("HOKAN_CATALOG")
            .env("LANG", "C")
            .arg("--config")
            .arg(self.config())
            .args(["--now", &self.at(hours), "--lang", lang])
            .args(args)
            .output()
            .unwrap()
    }

    pub fn code(&self, hours: i64, args: &[&str], code: i32) -> String {
        let o = self.run(hours, "en", args);
        assert_eq!(
            o.status.code(),
            Some(code),
            "hokan {args:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    pub fn json(&self, hours: i64, args: &[&str], code: i32) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.code(hours, &a, code)).unwrap()
    }

    /// Record what a tape job would: tape loaded, copy complete, unloaded.
    pub fn tape_copy(&self, snapshot: &str, tape: &str, at: OffsetDateTime, slot: u32) {
        let mut cat = Catalog::open(&self.catalog()).unwrap();
        let dev = |d: &str| ObservedBy::Device { device: d.into() };
        cat.record_all(
            at,
            "test tape job",
            vec![
                Event::MediumLocated {
                    medium: tape.into(),
                    at,
                    location: Location::InDrive {
                        drive: "lib1-d0".into(),
                    },
                    by: dev("lib1"),
                    note: None,
                },
                Event::CopyRecorded {
                    snapshot: snapshot.into(),
                    medium: tape.into(),
                    since: at + Duration::minutes(20),
                    complete: true,
                    with: vec![],
                },
                Event::MediumLocated {
                    medium: tape.into(),
                    at: at + Duration::minutes(21),
                    location: Location::LibrarySlot {
                        library: "lib1".into(),
                        slot: Some(slot),
                    },
                    by: dev("lib1"),
                    note: None,
                },
            ],
        )
        .unwrap();
    }
}

/// A site with a repository, a catalog and three nights of backups.
pub fn site() -> Site {
    site_in(r#"path = "repo""#, &[])
}

/// [`site`] with the primary repository at `location` (the line of
/// `[repository]` that says where: `path = …` or `s3 = { … }`), and
/// `files` (name, content) written in the site's folder first.
pub fn site_in(location: &str, files: &[(&str, &str)]) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    for (name, content) in files {
        fs::write(dir.join(name), content).unwrap();
    }
    let data = dir.join("data");
    make_tree(&data, 7, 100_000);
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
name = "テスト病院"
catalog = "catalog.db"

[repository]
{location}
passphrase_file = "pw.txt"

[[source]]
name = "emr"
paths = ["{data}"]

[policy]
min_offline_generations = 2
max_newest_age = "7d"

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
retention = "28d"
"#,
            data = data.display()
        ),
    )
    .unwrap();
    let night = OffsetDateTime::parse("2026-11-20T22:00:00Z", &Rfc3339).unwrap();
    let mut s = Site {
        _tmp: tmp,
        dir,
        night,
    };
    s.code(0, &["init", "--insecure-fast-kdf"], 0);
    for n in (0..3).rev() {
        let t = (night - Duration::days(n)).format(&Rfc3339).unwrap();
        fs::write(data.join(format!("night{n}.txt")), format!("night {n}")).unwrap();
        s.code(
            0,
            &[
                "backup",
                "--source",
                "emr",
                "--time",
                &t,
                data.to_str().unwrap(),
            ],
            0,
        );
    }
    s.night = night;
    s
}

pub fn snapshot_ids(s: &Site) -> Vec<String> {
    let cat = Catalog::open(&s.catalog()).unwrap();
    cat.snapshots()
        .unwrap()
        .into_iter()
        .map(|r| r.id.to_string())
        .collect()
}
