//! Devices over words, end to end with the real binary, all on SIMULATED
//! devices: the test suite's virtual tape library (`hokan tape sim`) and
//! virtual RDX drive (`hokan disk sim`) play the hardware and the person
//! acting behind hokan's back; no tape or RDX hardware is involved.
//!
//! - `hokan status` asks every device where its media are before judging:
//!   a cartridge loaded back into a drive behind hokan's back is online at
//!   the next status, with the reason;
//! - `hokan media move` is refused when the device holds the medium;
//! - a device that cannot be observed (its state gone, or hanging) does not
//!   stop status: it ends within `--observe-timeout` and says which device
//!   and how old its newest observation is;
//! - `--no-observe` leaves the devices alone.

mod common;

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::tape::*;

const RDX: &str = r#"[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "2w"
rotation = "any"
virtual_device = "sim"
"#;

/// How many events the catalog holds.
fn events(s: &Site, minutes: i64) -> usize {
    let v = s.json(minutes, &["catalog", "events", "--limit", "100000"], 0);
    v["events"].as_array().unwrap().len()
}

/// `status --json` (not compliant: the policy wants three generations).
fn status(s: &Site, minutes: i64, extra: &[&str]) -> Value {
    let mut a = vec!["status"];
    a.extend_from_slice(extra);
    s.json(minutes, &a, 9)
}

/// The verdict of the copies on `medium` in a `status --json`.
fn verdicts(st: &Value, medium: &str) -> Vec<Value> {
    st["evaluation"]["copies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["medium"] == medium)
        .map(|c| c["verdict"].clone())
        .collect()
}

/// A SIMULATED library with two labelled tapes and one night written; the
/// tape written, back in its slot (①-2-1).
fn library_night() -> (Site, String) {
    let mut s = library_with(&["HKN001L8", "HKN002L8"], "1GiB");
    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
    let t = v["cartridges"][0].as_str().unwrap().to_owned();
    assert_eq!(s.koban_of(61, &t), vec!["①-2-1"]);
    (s, t)
}

/// A person says the tape is in the vault while the SIMULATED library has
/// it in its drive: refused (naming the library, the drive and what to
/// do), nothing recorded, and the copy stays online. Once the tape is
/// exported and taken out, the same move is accepted.
#[test]
fn a_move_the_library_contradicts_is_refused_and_nothing_is_recorded() {
    let (s, t) = library_night();
    s.ok(
        62,
        &["tape", "move", "--pool", "weekday", &t, "--to", "drive"],
    );
    let before = events(&s, 63);
    let (_, err) = s.code(
        64,
        &["media", "move", &t, "--to", "offsite:金庫", "--by", "佐藤"],
        1,
    );
    assert!(
        err.contains("vtl-weekday")
            && err.contains("in drive vtl-weekday-drive0")
            && err.contains("offsite at 金庫")
            && err.contains(&format!("hokan tape move --pool weekday {t} --to export")),
        "names the device, where it sees the tape, and what to do: {err}"
    );
    // In Japanese too.
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .current_dir(&s.dir)
        .env("LANG", "C")
        .args(["--config", "hokan.toml", "--lang", "ja", "--now", &s.at(64)])
        .args(["media", "move", &t, "--to", "offsite:金庫", "--by", "佐藤"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("記録しませんでした")
            && err.contains("ドライブ vtl-weekday-drive0 内")
            && err.contains("先に装置から取り出し"),
        "{err}"
    );
    assert_eq!(events(&s, 65), before, "nothing was recorded");
    let st = status(&s, 66, &[]);
    let v = verdicts(&st, &t);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["state"], "online", "{v:?}");
    assert_eq!(v[0]["detail"]["reason"], "in-drive", "{v:?}");

    // Exported and taken out: the library no longer holds it; accepted.
    s.ok(
        67,
        &["tape", "move", "--pool", "weekday", &t, "--to", "export"],
    );
    s.ok(68, &["tape", "sim", "take-out", "--pool", "weekday", &t]);
    s.ok(
        69,
        &["media", "move", &t, "--to", "offsite:金庫", "--by", "佐藤"],
    );
    assert_eq!(s.koban_of(70, &t), vec!["①-2-2"]);
}

/// The SIMULATED library's robot loads the tape into its drive behind
/// hokan's back (after a person recorded it in the vault): the next status
/// asks the library, records the drive, and the copy is online, with the
/// reason; exit 9.
#[test]
fn a_tape_loaded_behind_hokans_back_is_online_at_the_next_status() {
    let (s, t) = library_night();
    // Nobody tells hokan.
    s.ok(62, &["tape", "sim", "load", "--pool", "weekday", &t]);
    // Monitoring that must not touch devices still sees the old record.
    let quiet = status(&s, 63, &["--no-observe"]);
    assert_eq!(quiet["observed_devices"], false);
    assert_eq!(quiet["devices"], serde_json::json!([]));
    assert_eq!(verdicts(&quiet, &t)[0]["detail"]["koban"], "①-2-1");

    let st = status(&s, 64, &[]);
    assert_eq!(st["exit_code"], 9);
    let dev = &st["devices"][0];
    assert_eq!(dev["device"], "vtl-weekday", "{dev}");
    assert_eq!(dev["kind"], "tape-library", "{dev}");
    assert_eq!(dev["simulated"], true, "{dev}");
    assert_eq!(dev["outcome"]["state"], "observed", "{dev}");
    assert_eq!(dev["outcome"]["moved"][0]["medium"], t.as_str(), "{dev}");
    let v = verdicts(&st, &t);
    assert_eq!(v[0]["state"], "online", "{v:?}");
    assert_eq!(v[0]["detail"]["drive"], "vtl-weekday-drive0", "{v:?}");
    let problems = st["evaluation"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "medium-in-drive" && p["medium"] == t.as_str()),
        "{problems:?}"
    );
    // The human view says what the device reported, and the reason.
    let o = s.run(65, &["status"]);
    assert_eq!(o.status.code(), Some(9));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Devices (asked before judging):")
            && out.contains("tape library vtl-weekday (SIMULATED) of pool weekday: observed"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Medium {t} is in drive vtl-weekday-drive0")),
        "{out}"
    );
}

/// ①-1-1 on the SIMULATED single drive: a person recorded the ejected
/// cartridge in the vault; it is put back into the drive behind hokan's
/// back; the next status reads the drive (and the cartridge's label) and
/// the copy is online.
#[test]
fn a_cartridge_put_back_into_a_single_drive_is_online_at_the_next_status() {
    let (s, _) = single_with_one_set("HKN101L9");
    s.ok(
        61,
        &["tape", "sim", "take-out", "--pool", "single", "HKN101L9"],
    );
    s.ok(
        62,
        &[
            "media",
            "move",
            "HKN101L9",
            "--to",
            "offsite:金庫",
            "--by",
            "佐藤",
        ],
    );
    assert_eq!(s.koban_of(63, "HKN101L9"), vec!["①-1-1"]);

    s.ok(
        64,
        &["tape", "sim", "insert", "--pool", "single", "HKN101L9"],
    );
    let st = status(&s, 65, &[]);
    let dev = &st["devices"][0];
    assert_eq!(dev["kind"], "tape-drive", "{dev}");
    assert_eq!(dev["device"], "vtl-single", "{dev}");
    assert_eq!(dev["outcome"]["seen"][0]["medium"], "HKN101L9", "{dev}");
    let v = verdicts(&st, "HKN101L9");
    assert_eq!(v[0]["state"], "online", "{v:?}");
    assert_eq!(v[0]["detail"]["reason"], "in-drive", "{v:?}");
    assert_eq!(
        st["evaluation"]["sources"][0]["offline_generations"],
        serde_json::json!([])
    );
}

/// RDX on the SIMULATED drive: the cartridge ejected after the job is
/// re-inserted behind hokan's back; the next status says online.
#[test]
fn an_rdx_cartridge_reinserted_behind_hokans_back_is_online_at_the_next_status() {
    let mut s = Site::new(RDX);
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "format", "--pool", "rdx", "RDX-A"]);
    s.night(1);
    s.ok(60, &["disk", "backup", "--pool", "rdx"]);
    assert_eq!(s.koban_of(61, "RDX-A"), vec!["②-1-1"]);

    s.ok(62, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    let st = status(&s, 63, &[]);
    let dev = &st["devices"][0];
    assert_eq!(dev["kind"], "disk", "{dev}");
    assert_eq!(dev["device"], "sim-rdx", "{dev}");
    assert_eq!(dev["outcome"]["moved"][0]["medium"], "RDX-A", "{dev}");
    let v = verdicts(&st, "RDX-A");
    assert_eq!(v[0]["state"], "online", "{v:?}");
    assert_eq!(v[0]["detail"]["drive"], "sim-rdx", "{v:?}");
    // And a person cannot record it on the shelf while the drive has it.
    let (_, err) = s.code(
        64,
        &["media", "move", "RDX-A", "--to", "shelf", "--by", "佐藤"],
        1,
    );
    assert!(err.contains("hokan disk eject --pool rdx"), "{err}");
}

/// The SIMULATED library's state is gone (an unreachable device): status
/// still answers, names the device, says it could not be observed and how
/// old the newest observation of its media is, and judges them as recorded.
#[test]
fn a_device_that_cannot_be_opened_is_named_with_the_age_of_its_last_observation() {
    let (s, t) = library_night();
    fs::rename(s.dir.join("vtl"), s.dir.join("vtl-away")).unwrap();
    // Two hours after the job put the tape away.
    let st = status(&s, 180, &[]);
    let dev = &st["devices"][0];
    assert_eq!(dev["outcome"]["state"], "failed", "{dev}");
    assert!(dev["device"].as_str().unwrap().ends_with("vtl"), "{dev}");
    let age = dev["last_observed_age_seconds"].as_i64().unwrap();
    assert!((2 * 3600 - 300..=2 * 3600).contains(&age), "{dev}");
    assert_eq!(verdicts(&st, &t)[0]["detail"]["koban"], "①-2-1");
    let o = s.run(180, &["status"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("tape library")
            && out.contains("could not be observed")
            && out.contains("the newest device observation of its media is 1 hour old"),
        "{out}"
    );
}

/// The SIMULATED library hangs (its lock is held by another process, as a
/// robot that never answers): status ends within the time limit, says which
/// device did not answer and how old its last observation is.
#[test]
fn a_hanging_device_does_not_hold_status_beyond_the_time_limit() {
    let (s, t) = library_night();
    // --no-fork: flock becomes the sleep, so killing it ends the hang
    // (a forked sleep outlived the test, holding the lock and the output).
    let mut hang = Command::new("flock")
        .arg("--no-fork")
        .arg(s.dir.join("vtl").join("lock"))
        .args(["sleep", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("flock(1)");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let o = s.run(120, &["--json", "--observe-timeout", "2s", "status"]);
    let took = started.elapsed();
    let _ = hang.kill();
    let _ = hang.wait();
    assert_eq!(
        o.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    let dev = &st["devices"][0];
    assert_eq!(dev["outcome"]["state"], "timed-out", "{dev}");
    assert_eq!(dev["outcome"]["after_seconds"], 2, "{dev}");
    assert!(dev["last_observed"].is_string(), "{dev}");
    assert_eq!(verdicts(&st, &t)[0]["detail"]["koban"], "①-2-1");
}

/// The SIMULATED library last saw the tape in its drive and cannot be
/// asked now: the person's move is accepted and recorded, but it does not
/// count until a device agrees (unknown, with the reason); when the library
/// answers again and still holds it, it is online.
#[test]
fn a_move_recorded_while_the_device_is_away_counts_only_once_a_device_agrees() {
    let (s, t) = library_night();
    s.ok(
        62,
        &["tape", "move", "--pool", "weekday", &t, "--to", "drive"],
    );
    fs::rename(s.dir.join("vtl"), s.dir.join("vtl-away")).unwrap();
    let out = s.ok(
        63,
        &["media", "move", &t, "--to", "offsite:金庫", "--by", "佐藤"],
    );
    assert!(out.contains("could not be observed"), "{out}");
    let st = status(&s, 64, &[]);
    let v = verdicts(&st, &t);
    assert_eq!(v[0]["state"], "unknown", "{v:?}");
    assert_eq!(
        v[0]["detail"]["missing"], "person-contradicts-device",
        "{v:?}"
    );
    let problems = st["evaluation"]["problems"].as_array().unwrap();
    let p = problems
        .iter()
        .find(|p| p["code"] == "location-contradicts-device")
        .unwrap_or_else(|| panic!("{problems:?}"));
    let msg = p["message"]["en"].as_str().unwrap();
    assert!(
        msg.contains(&format!("佐藤 recorded {t} offsite at 金庫"))
            && msg.contains("device vtl-weekday last saw it in drive vtl-weekday-drive0"),
        "{msg}"
    );
    // The library is back and still holds it: online.
    fs::rename(s.dir.join("vtl-away"), s.dir.join("vtl")).unwrap();
    let st = status(&s, 65, &[]);
    assert_eq!(verdicts(&st, &t)[0]["detail"]["reason"], "in-drive");
}
