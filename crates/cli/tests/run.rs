//! `hokan run`, the whole night from hokan.toml, with the real binary on a
//! site with a SIMULATED tape library, a SIMULATED RDX drive (`hokan tape
//! sim`, `hokan disk sim` play the robot and the person; no hardware is
//! involved) and a real moto S3 server on loopback:
//!
//! - over a week, each target gets its copy on the nights its `schedule`
//!   names (S3 nightly, RDX on weekdays, tape on Fridays) and on no other;
//! - a tape library that cannot be reached on Friday leaves the S3 and
//!   RDX copies of that night done, the night recorded as partial (exit 3)
//!   with the tape step failed, and the tape copy is caught up on Saturday;
//! - a forged night record claiming the tape copy was done does not make
//!   the night skip it (what is due rests on the catalog's copies);
//! - `--dry-run` runs nothing and says which cartridge is due and that a
//!   person must insert it first;
//! - the night tells its `[[notify]]` target (a command here) that the tape
//!   step failed, and after each weekday night which cartridge a person
//!   must insert before the next one.

mod common;

use std::fs;

use hokan_s3::testing::{MotoServer, TEST_ACCESS_KEY, TEST_SECRET};
use serde_json::Value;

use common::tape::*;

const WEEK: [&str; 5] = ["RDX-MON", "RDX-TUE", "RDX-WED", "RDX-THU", "RDX-FRI"];

/// Minutes from the harness's first instant (2026-11-16 22:00 UTC) to
/// 23:00 at +09:00 on the `day`-th day after Tuesday 2026-11-17.
fn at_23h(day: i64) -> i64 {
    16 * 60 + day * 24 * 60
}

fn site(m: &MotoServer) -> Site {
    let s = Site::new(&format!(
        r#"[[tape_pool]]
name = "weekly"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "3d"
virtual_library = "vtl"
schedule = "Fri 22:00"

[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "2w"
rotation = "weekday"
cartridges = {WEEK:?}
virtual_device = "sim"
schedule = "Mon..Fri 22:00"

[[s3]]
name = "cloud"
endpoint = "{endpoint}"
region = "us-east-1"
bucket = "night"
prefix = "hokan"
path_style = true
retention = "1d"
access_key_id = "{TEST_ACCESS_KEY}"
secret_access_key_file = "s3-secret"
schedule = "*-*-* 22:00"

[[notify]]
name = "log"
type = "command"
lang = "en"
command = ["/bin/sh", "-c", "cat >> notices.jsonl; echo >> notices.jsonl"]
"#,
        endpoint = m.endpoint()
    ));
    fs::write(s.dir.join("s3-secret"), format!("{TEST_SECRET}\n")).unwrap();
    s.ok(
        0,
        &["tape", "sim", "create", "--pool", "weekly", "--slots", "6"],
    );
    for t in ["WK0001L9", "WK0002L9"] {
        s.ok(0, &["tape", "sim", "insert", "--pool", "weekly", t]);
        s.ok(0, &["tape", "label", "--pool", "weekly", t]);
    }
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    for c in WEEK {
        s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", c]);
        s.ok(0, &["disk", "format", "--pool", "rdx", c]);
        s.ok(0, &["disk", "eject", "--pool", "rdx"]);
    }
    s
}

/// The targets whose copy step ran (not skipped) in a night's report, and
/// with what outcome.
fn ran(night: &Value) -> Vec<(String, String)> {
    night["night"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] != "skipped" && s["args"][0] != "s3")
        .map(|s| {
            (
                s["target"].as_str().unwrap_or("(backup)").to_owned(),
                s["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Runs the night of `day`; `code` is the exit status wanted, where 0 also
/// accepts 9 (every step done, the site not yet compliant: the policy asks
/// for three offline generations and the first nights have fewer).
fn run_night(s: &Site, day: i64, code: i32) -> Value {
    let _ = fs::remove_file(s.dir.join("notices.jsonl"));
    fs::write(s.data.join(format!("day-{day}.txt")), format!("day {day}")).unwrap();
    let o = s.run(at_23h(day), &["--json", "run"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let got = o.status.code().unwrap();
    assert!(
        got == code || (code == 0 && got == 9),
        "day {day}: exit {got}: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(&out).unwrap()
}

/// The notices the night's command target got (type, subject line).
fn told(s: &Site) -> Vec<(String, String)> {
    let text = fs::read_to_string(s.dir.join("notices.jsonl")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            (
                v["notice"]["type"].as_str().unwrap_or("?").to_owned(),
                v["subject"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

fn forge_night_with_tape_done(s: &Site, minutes: i64) {
    let at = time::OffsetDateTime::parse(
        &s.at(minutes),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let mut cat = hokan_catalog::Catalog::open(&s.dir.join("catalog.db")).unwrap();
    cat.record(
        at,
        "attacker",
        hokan_catalog::Event::JobFinished {
            job: "night".into(),
            target: "テープ病院".into(),
            started_at: at,
            finished_at: at,
            outcome: "ok".into(),
            detail: serde_json::json!({
                "started_at": s.at(minutes),
                "steps": [{"args": ["tape", "backup", "--pool", "weekly"], "target": "weekly", "outcome": "ok"}],
            }),
        },
    )
    .unwrap();
}

#[test]
fn each_target_gets_its_copy_on_its_nights_and_a_tape_error_leaves_the_others_done() {
    let m = MotoServer::start().unwrap_or_else(|e| {
        panic!("this test needs moto's server (scripts/test.sh installs it): {e}")
    });
    m.create_locked_bucket("night").unwrap();
    let s = site(&m);
    let pair = |t: &str, o: &str| (t.to_owned(), o.to_owned());
    let backup = pair("(backup)", "ok");

    // Tuesday: the dry run names RDX-TUE and says a person must insert it.
    let dry = s.json(at_23h(0) - 120, &["run", "--dry-run"], 0);
    let media = dry["media"].as_array().unwrap();
    assert_eq!(media.len(), 1, "{dry}");
    assert_eq!(media[0]["tonight"], "RDX-TUE", "{dry}");
    assert!(
        media[0]["first"]
            .as_str()
            .unwrap()
            .contains("insert RDX-TUE"),
        "{dry}"
    );
    let due: Vec<&str> = dry["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["due"] == true)
        .map(|s| s["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        due,
        [
            "hokan backup",
            "hokan disk backup --pool rdx",
            "hokan copy --to s3:cloud",
            "hokan s3 extend-locks cloud"
        ],
        "{dry}"
    );
    assert!(
        !s.dir.join("repo").join("snapshots").exists()
            || fs::read_dir(s.dir.join("repo").join("snapshots"))
                .unwrap()
                .next()
                .is_none(),
        "a dry run backs nothing up"
    );
    let text =
        String::from_utf8_lossy(&s.run(at_23h(0) - 120, &["run", "--dry-run"]).stdout).into_owned();
    assert!(
        text.contains("A person must first:") && text.contains("insert RDX-TUE"),
        "{text}"
    );

    // Tuesday to Thursday: the person inserts the day's cartridge; the
    // night copies to RDX and S3, not to tape.
    for (day, c) in [(0, "RDX-TUE"), (1, "RDX-WED"), (2, "RDX-THU")] {
        if day > 0 {
            // The morning's status already says what tonight needs.
            let o = s.run(at_23h(day) - 600, &["--json", "status"]);
            let st: Value = serde_json::from_slice(&o.stdout).unwrap();
            let first = &st["tonight"]["media"][0]["first"];
            assert!(
                first
                    .as_str()
                    .is_some_and(|f| f.contains(&format!("insert {c}"))),
                "day {day}: {}",
                st["tonight"]
            );
        }
        s.ok(
            at_23h(day) - 60,
            &["disk", "sim", "insert", "--pool", "rdx", c],
        );
        let n = run_night(&s, day, 0);
        assert_eq!(
            ran(&n),
            [backup.clone(), pair("rdx", "ok"), pair("cloud", "ok")],
            "day {day}: {n}"
        );
        assert_eq!(n["outcome"], "ok");
        // The person is told tomorrow's cartridge.
        let next = ["RDX-WED", "RDX-THU", "RDX-FRI"][day as usize];
        assert!(
            told(&s)
                .iter()
                .any(|(kind, subject)| kind == "action-needed" && subject.contains(next)),
            "day {day}: {:?}",
            told(&s)
        );
    }

    // Friday: the library cannot be reached. Tape fails; RDX and S3 done.
    s.ok(
        at_23h(3) - 60,
        &["disk", "sim", "insert", "--pool", "rdx", "RDX-FRI"],
    );
    fs::rename(s.dir.join("vtl"), s.dir.join("vtl-away")).unwrap();
    // The attacker (hokan's own access) appends a night record claiming
    // tonight's tape copy was done: what is due rests on the copies the
    // catalog records, not on what a night says, so the tape step still runs.
    forge_night_with_tape_done(&s, at_23h(3) - 30);
    let fri = run_night(&s, 3, 3);
    assert_eq!(fri["outcome"], "partial");
    assert_eq!(
        ran(&fri),
        [
            backup.clone(),
            pair("weekly", "failed"),
            pair("rdx", "ok"),
            pair("cloud", "ok")
        ],
        "{fri}"
    );
    let tape_step = &fri["night"]["steps"][1];
    assert!(
        tape_step["stderr_tail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("vtl")),
        "the failed step says which device: {tape_step}"
    );
    let got = told(&s);
    assert!(
        got.iter().any(|(kind, _)| kind == "job-failed"),
        "the failed tape step is told: {got:?}"
    );
    // The copies of that night really are there: S3 and RDX-FRI.
    let st = s.json(at_23h(3) + 10, &["media", "list"], 0);
    let media = st.to_string();
    assert!(media.contains("RDX-FRI") && media.contains("cloud"), "{st}");
    // The catalog holds the night as one partial job with every step.
    let jobs = s.json(at_23h(3) + 10, &["catalog", "jobs"], 0);
    let night = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == "night" && j["outcome"] == "partial")
        .unwrap_or_else(|| panic!("no partial night job: {jobs}"));
    assert!(night["detail"]["steps"].as_array().unwrap().len() >= 5);

    // Saturday: the library is back; the failed weekly tape copy is caught
    // up, RDX has no schedule tonight, S3 copies as every night.
    fs::rename(s.dir.join("vtl-away"), s.dir.join("vtl")).unwrap();
    let sat = run_night(&s, 4, 0);
    assert_eq!(
        ran(&sat),
        [backup.clone(), pair("weekly", "ok"), pair("cloud", "ok")],
        "{sat}"
    );
    // Sunday: tape is not due again, RDX neither.
    let sun = run_night(&s, 5, 0);
    assert_eq!(ran(&sun), [backup.clone(), pair("cloud", "ok")], "{sun}");
    // Monday: RDX again.
    s.ok(
        at_23h(6) - 60,
        &["disk", "sim", "insert", "--pool", "rdx", "RDX-MON"],
    );
    let mon = run_night(&s, 6, 0);
    assert_eq!(
        ran(&mon),
        [backup, pair("rdx", "ok"), pair("cloud", "ok")],
        "{mon}"
    );
}

/// The demo (README's first command) runs its last night through `hokan
/// run`: every step of it succeeds (tape, RDX, and S3 when moto is there)
/// and the night is one job in the demo site's catalog. Its vault drills
/// itself, and it ends with a restore drill from the tape library: both
/// recorded in the site's catalog.
#[test]
fn the_demo_runs_a_night_through_hokan_run() {
    let tmp = common::demo::scratch();
    let dir = tmp.path().join("demo");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hokan"))
        .args(["--json", "--lang", "en", "demo"])
        .arg(&dir)
        .env("LANG", "C")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let night = &v["site"]["night"];
    assert_eq!(night["outcome"], "ok", "{night}");
    let steps: Vec<String> = night["night"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["args"][0].as_str().unwrap(),
                s["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        steps.starts_with(&[
            "backup ok".to_owned(),
            "tape ok".to_owned(),
            "disk ok".to_owned()
        ]),
        "{steps:?}"
    );
    let drills = v["drills"].as_array().unwrap();
    assert_eq!(drills.len(), 1, "{v}");
    assert_eq!(drills[0]["kind"], "tape");
    assert_eq!(drills[0]["ok"], true);
    assert_eq!(drills[0]["meets_rto"], true);
    assert!(drills[0]["files_checked"].as_u64().unwrap() > 100);
    // And the vault drilled itself; its signed receipt brought the drill.
    assert_eq!(v["vault"]["drills_ok"], true, "{v}");
    let cat = hokan_catalog::Catalog::open(&dir.join("catalog.db")).unwrap();
    let rows = cat.drills(10).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let kinds: Vec<&str> = rows
        .iter()
        .map(|r| r.measured.as_ref().unwrap().kind.as_str())
        .collect();
    assert!(
        kinds.contains(&"tape") && kinds.contains(&"vault"),
        "{kinds:?}"
    );
    assert!(rows.iter().all(|r| r.ok));
    assert!(rows.iter().any(|r| r.by.as_deref() == Some("hokan demo")));
    assert!(!dir.join("drill-scratch").exists(), "the drill cleaned up");
    let jobs = std::process::Command::new(env!("CARGO_BIN_EXE_hokan"))
        .arg("--config")
        .arg(dir.join("hokan.toml"))
        .args(["--json", "catalog", "jobs"])
        .output()
        .unwrap();
    let jobs: Value = serde_json::from_slice(&jobs.stdout).unwrap();
    assert_eq!(
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["job"] == "night")
            .count(),
        1,
        "{jobs}"
    );
}

/// A tape library whose only cartridge is retained after tonight's set:
/// the next morning, `status` and `run --dry-run` say a person must put a
/// usable cartridge into the library before the night (the 2018 incident:
/// nobody inserted the tape).
#[test]
fn a_library_with_every_cartridge_retained_asks_for_one_before_the_night() {
    let s = library_with(&["WK0001L9"], "100GiB");
    // Done, the site not yet compliant (one generation): exit 9.
    let night = s.json(60, &["run"], 9);
    assert_eq!(night["outcome"], "ok", "{night}");
    // The next morning.
    let o = s.run(60 + 10 * 60, &["--json", "status"]);
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    let media = &st["tonight"]["media"];
    assert_eq!(media[0]["target"], "weekday", "{st}");
    assert!(
        media[0]["first"]
            .as_str()
            .is_some_and(|f| f.contains("put a labelled cartridge of pool weekday")),
        "{media}"
    );
    // Once a fresh one is in, the plan names it and asks nothing.
    s.ok(
        60 + 11 * 60,
        &["tape", "sim", "insert", "--pool", "weekday", "WK0002L9"],
    );
    s.ok(
        60 + 11 * 60,
        &["tape", "label", "--pool", "weekday", "WK0002L9"],
    );
    let plan = s.json(60 + 12 * 60, &["run", "--dry-run"], 0);
    assert_eq!(plan["media"][0]["tonight"], "WK0002L9", "{plan}");
    assert!(plan["media"][0]["first"].is_null(), "{plan}");
}
