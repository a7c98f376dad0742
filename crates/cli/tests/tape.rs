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
use std::process::Stdio;

use common::tape::*;
use common::*;

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

#[test]
fn a_weekly_set_grows_by_one_job_a_night_and_closes_with_the_week() {
    // Nights 1-3 fall on Wed-Fri of ISO week 47 in the site's zone (+09:00);
    // night 6 on Monday of week 48.
    let pool = LIBRARY.replace(r#"allocation = "weekday""#, r#"allocation = "weekly""#);
    let mut s = Site::new(&pool);
    s.ok(0, &["tape", "sim", "create", "--pool", "weekday"]);
    for t in ["HKN001L9", "HKN002L9"] {
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
                "256MiB",
            ],
        );
        s.ok(0, &["tape", "label", "--pool", "weekday", t]);
    }
    let mut sets = Vec::new();
    let mut snaps = Vec::new();
    for n in 1..=3 {
        s.night(n);
        let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
        assert_eq!(v["appended"], n > 1, "{v}");
        sets.push(v["set"].as_str().unwrap().to_owned());
        snaps.push(v["snapshots"][0].as_str().unwrap().to_owned());
        assert_eq!(v["cartridges"].as_array().unwrap().len(), 1, "{v}");
    }
    assert!(
        sets.iter().all(|x| *x == sets[0]),
        "one set for the week: {sets:?}"
    );
    // Three generations, each a copy on the same cartridge, all offline.
    assert_eq!(s.offline(120), 3);
    let first = s.json(121, &["tape", "status", "--pool", "weekday"], 0);
    let set0 = first["sets"][0].clone();
    assert!(set0["closed_at"].is_null(), "still open: {set0}");

    for n in 4..=6 {
        s.night(n);
    }
    let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
    assert_eq!(v["appended"], false, "a new week starts a new set: {v}");
    assert_ne!(v["set"], sets[0].as_str());
    let st = s.json(61, &["tape", "status", "--pool", "weekday"], 0);
    let old = st["sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == sets[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(old["complete"], true, "{old}");
    assert_eq!(old["snapshots"].as_array().unwrap().len(), 3, "{old}");
    assert!(!old["retained_until"].is_null(), "{old}");

    // Night 1's generation restores from the weekly set alone.
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("night1");
    s.ok(
        70,
        &[
            "tape",
            "restore",
            "--pool",
            "weekday",
            "--set",
            &sets[0],
            &snaps[0][..10],
            "--target",
            target.to_str().unwrap(),
        ],
    );
    let restored = target.join("data");
    assert!(restored.join("night-1.txt").exists());
    assert!(!restored.join("night-2.txt").exists());
}

#[test]
fn a_job_killed_while_appending_keeps_the_earlier_copies_and_the_next_job_appends() {
    let pool = LIBRARY.replace(r#"allocation = "weekday""#, r#"allocation = "weekly""#);
    let mut s = Site::new(&pool);
    s.ok(0, &["tape", "sim", "create", "--pool", "weekday"]);
    s.ok(
        0,
        &[
            "tape",
            "sim",
            "insert",
            "--pool",
            "weekday",
            "HKN001L9",
            "--capacity",
            "256MiB",
        ],
    );
    s.ok(0, &["tape", "label", "--pool", "weekday", "HKN001L9"]);
    s.night(1);
    s.ok(60, &["tape", "backup", "--pool", "weekday"]);
    fs::write(s.data.join("scan.dcm"), noise(6_000_000, 5)).unwrap();
    s.night(2);
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
    // Night 1's copy is still there and offline once the cartridge is back
    // in its slot; night 2's half-written data is not a copy.
    s.ok(
        61,
        &[
            "tape", "move", "--pool", "weekday", "HKN001L9", "--to", "slot",
        ],
    );
    assert_eq!(s.offline(62), 1);
    let v = s.json(63, &["tape", "backup", "--pool", "weekday", "--verify"], 0);
    assert_eq!(v["appended"], true, "{v}");
    assert_eq!(s.offline(120), 2);
}

/// A retired cartridge in a drive of the SIMULATED library is listed as
/// retired and not counted, never as ONLINE.
#[test]
fn a_retired_cartridge_is_listed_as_retired_never_online() {
    let mut s = library_with(&["HKN501L9"], "256MiB");
    s.night(1);
    s.ok(60, &["tape", "backup", "--pool", "weekday"]);
    s.ok(
        61,
        &[
            "tape", "move", "--pool", "weekday", "HKN501L9", "--to", "drive",
        ],
    );
    s.ok(
        62,
        &[
            "media", "retire", "HKN501L9", "--by", "佐藤", "--reason", "worn",
        ],
    );
    let out = String::from_utf8_lossy(&s.run(63, &["media", "list"]).stdout).into_owned();
    let line = out.lines().find(|l| l.contains("HKN501L9")).unwrap();
    assert!(
        line.contains("retired (not counted)") && !line.contains("ONLINE"),
        "{out}"
    );
    assert_eq!(s.offline(63), 0);
}
