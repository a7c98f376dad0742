//! `hokan drill` end to end with the real binary on the SIMULATED RDX
//! device and the SIMULATED tape library (`hokan disk sim` and `hokan tape
//! sim` play the person; no hardware; the S3 drill is in tests/s3.rs, on
//! moto): a drill reads the medium alone (the primary repository folder
//! renamed away),
//! checks every file, runs the source's application check, and records
//! what it measured; a failing check and bytes flipped in a pack on the
//! cartridge are failed drills, recorded, naming what failed.

mod common;

use std::fs;
use std::path::PathBuf;

use hokan_catalog::{AppCheck, Catalog};

use common::tape::*;

const POOL: &str = r#"[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "2w"
cartridges = ["RDX-A"]
virtual_device = "sim"
"#;

/// A site whose source has a recovery-time target and an application
/// check (`check`), one night backed up to cartridge RDX-A, ejected.
fn site(check: &str) -> Site {
    let mut s = Site::new(POOL);
    set_check(&s, check);
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "format", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "eject", "--pool", "rdx"]);
    s.night(1);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(60, &["disk", "backup", "--pool", "rdx"]);
    s
}

/// Rewrite the source's `rto` and `drill` lines.
fn set_check(s: &Site, check: &str) {
    let path = s.dir.join("hokan.toml");
    let text = fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("rto = ") || line.starts_with("drill = ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line == "name = \"emr\"" {
            out.push_str(&format!(
                "rto = \"24h\"\ndrill = {{ check = {check}, timeout = \"1m\" }}\n"
            ));
        }
    }
    fs::write(&path, out).unwrap();
}

fn cartridge_dir(s: &Site, id: &str) -> PathBuf {
    let sim = s.dir.join("sim");
    [sim.join("media").join(id), sim.join("away").join(id)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no folder for {id}"))
}

fn packs_under(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            packs_under(&p, out);
        } else if p
            .parent()
            .and_then(|d| d.parent())
            .is_some_and(|d| d.ends_with("data"))
        {
            out.push(p);
        }
    }
}

#[test]
fn a_drill_reads_the_cartridge_alone_checks_every_file_and_records_what_it_measured() {
    let s = site(r#"["sh", "-c", "test -s {target}/data/big.bin && test -L {target}/data/link"]"#);
    // The primary repository is away: only the cartridge can answer.
    fs::rename(s.dir.join("repo"), s.dir.join("repo.away")).unwrap();
    // On the shelf: exit 13 naming it, nothing recorded.
    let (_, err) = s.code(65, &["drill", "--kind", "disk"], 13);
    assert!(err.contains("RDX-A") && err.contains("insert it"), "{err}");
    s.ok(70, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    let scratch = s.dir.join("scratch");
    let v = s.json(
        80,
        &[
            "drill",
            "--kind",
            "disk",
            "--by",
            "佐藤 一郎",
            "--target",
            scratch.to_str().unwrap(),
        ],
        0,
    );
    let d = &v["drills"][0];
    assert_eq!(d["ok"], true, "{v}");
    assert_eq!(d["medium"], "RDX-A");
    assert_eq!(d["kind"], "disk");
    let files = d["stats"]["files_checked"].as_u64().unwrap();
    assert!(files >= 43, "every file of the tree is checked: {v}");
    assert!(d["stats"]["bytes"].as_u64().unwrap() >= 300_000, "{v}");
    assert!(d["stats"]["first_file_secs"].as_f64().is_some(), "{v}");
    assert_eq!(d["stats"]["app_check"], "passed", "{v}");
    assert_eq!(d["meets_rto"], true, "{v}");
    assert!(!scratch.exists(), "the scratch folder is removed");
    // Recorded, hash-chained, with the figures.
    let cat = Catalog::open(&s.dir.join("catalog.db")).unwrap();
    let rows = cat.drills(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].ok);
    assert_eq!(rows[0].by.as_deref(), Some("佐藤 一郎"));
    assert_eq!(rows[0].medium.as_str(), "RDX-A");
    let m = rows[0].measured.as_ref().unwrap();
    assert_eq!((m.kind.as_str(), m.source.as_str()), ("disk", "emr"));
    assert_eq!(m.files_checked, files);
    assert_eq!(m.app_check, Some(AppCheck::Passed));
    assert_eq!(m.rto_secs, Some(86_400.0));
    assert!(m.projected_secs.unwrap() > 0.0);
    assert!(cat.verify(None).unwrap().ok());
    // The cartridge was put away again, as after any job.
    let st = s.json(81, &["disk", "status", "--pool", "rdx"], 0);
    assert!(
        st["status"]["cartridges"].as_array().unwrap().is_empty(),
        "{st}"
    );

    // A scratch folder inside the source is refused before anything moves.
    let inside = s.data.join("drill");
    let (_, err) = s.code(
        82,
        &[
            "drill",
            "--kind",
            "disk",
            "--target",
            inside.to_str().unwrap(),
        ],
        2,
    );
    assert!(err.contains("overlaps source emr"), "{err}");
    assert_eq!(cat.drills(10).unwrap().len(), 1);
}

#[test]
fn a_failing_check_and_a_damaged_cartridge_are_failed_drills_recorded_naming_what_failed() {
    let s = site(r#"["sh", "-c", "echo 'pg_restore: input file is too short' >&2; exit 1"]"#);
    fs::rename(s.dir.join("repo"), s.dir.join("repo.away")).unwrap();
    s.ok(70, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    let v = s.json(80, &["drill", "--kind", "disk"], 1);
    let d = &v["drills"][0];
    assert_eq!(d["ok"], false, "{v}");
    assert_eq!(d["stats"]["app_check"], "failed");
    let why = d["stats"]["failures"][0]["why"].as_str().unwrap();
    assert!(why.contains("input file is too short"), "{v}");
    // Bytes flipped all through every pack on the cartridge.
    set_check(&s, r#"["true"]"#);
    let mut packs = Vec::new();
    packs_under(&cartridge_dir(&s, "RDX-A"), &mut packs);
    assert!(!packs.is_empty());
    for p in &packs {
        let mut b = fs::read(p).unwrap();
        for i in (0..b.len()).step_by(64) {
            b[i] ^= 0x20;
        }
        fs::write(p, b).unwrap();
    }
    s.ok(90, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    let (out, _) = s.code(100, &["drill", "--kind", "disk"], 1);
    assert!(out.contains("FAILED"), "{out}");
    let names: Vec<String> = packs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy()[..8].to_owned())
        .collect();
    assert!(
        names.iter().any(|n| out.contains(&format!("pack {n}"))),
        "a damaged pack is named: {out}"
    );
    let cat = Catalog::open(&s.dir.join("catalog.db")).unwrap();
    let rows = cat.drills(10).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| !r.ok));
    let m = rows[0].measured.as_ref().unwrap();
    assert_eq!(m.app_check, Some(AppCheck::NotRun));
    assert!(
        m.failures
            .iter()
            .any(|f| f.why.contains("authentication failed")),
        "{:?}",
        m.failures
    );
    assert!(rows[0].detail.as_deref().unwrap().contains("pack "));
    assert_eq!(
        rows[1].measured.as_ref().unwrap().app_check,
        Some(AppCheck::Failed)
    );
}

/// `status`'s site problems about drills at `minutes`: (code, severity).
fn drill_problems(s: &Site, minutes: i64) -> Vec<(String, String)> {
    let o = s.run(minutes, &["--json", "status", "--no-observe"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["evaluation"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"].as_str().unwrap().starts_with("drill-"))
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn status_warns_when_no_drill_passed_within_drill_every_and_errs_after_a_failed_one() {
    let s = site(r#"["true"]"#);
    let path = s.dir.join("hokan.toml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replace(
            "max_newest_age = \"7d\"\n",
            "max_newest_age = \"7d\"\ndrill_every = \"30d\"\n",
        ),
    )
    .unwrap();
    const DAY: i64 = 24 * 60;
    // Disks have held a copy for a day: no drill is due yet.
    assert_eq!(drill_problems(&s, DAY), vec![]);
    // 31 days on, none passed: a warning (status still exits 9 only for errors).
    let overdue = vec![("drill-overdue".to_owned(), "warning".to_owned())];
    assert_eq!(drill_problems(&s, 31 * DAY), overdue);
    // A drill passes: nothing due.
    s.ok(
        31 * DAY,
        &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"],
    );
    s.ok(31 * DAY + 1, &["drill", "--kind", "disk"]);
    assert_eq!(drill_problems(&s, 31 * DAY + 2), vec![]);
    // A failed drill is an error until one passes again.
    set_check(&s, r#"["false"]"#);
    s.ok(
        45 * DAY,
        &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"],
    );
    s.code(45 * DAY + 1, &["drill", "--kind", "disk"], 1);
    assert_eq!(
        drill_problems(&s, 45 * DAY + 2),
        vec![("drill-failed".to_owned(), "error".to_owned())]
    );
    set_check(&s, r#"["true"]"#);
    s.ok(
        46 * DAY,
        &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"],
    );
    s.ok(46 * DAY + 1, &["drill", "--kind", "disk"]);
    assert_eq!(drill_problems(&s, 46 * DAY + 2), vec![]);
    // Due again 30 days after the last success.
    assert_eq!(drill_problems(&s, 75 * DAY), vec![]);
    assert_eq!(drill_problems(&s, 77 * DAY), overdue);
}

#[test]
fn a_drill_reads_the_tape_set_alone_and_a_damaged_cartridge_is_a_failed_drill_naming_it() {
    let mut s = library_with(&["HKN001L9", "HKN002L9"], "64MiB");
    set_check(&s, r#"["sh", "-c", "test -s {target}/data/big.bin"]"#);
    s.night(1);
    let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
    let cart = v["cartridges"][0].as_str().unwrap().to_owned();
    assert_eq!(s.koban_of(120, &cart), vec!["①-2-1"], "offline in its slot");
    // Only the tape can answer.
    fs::rename(s.dir.join("repo"), s.dir.join("repo.away")).unwrap();
    let scratch = s.dir.join("scratch");
    let v = s.json(
        130,
        &[
            "drill",
            "--kind",
            "tape",
            "--target",
            scratch.to_str().unwrap(),
        ],
        0,
    );
    let d = &v["drills"][0];
    assert_eq!(d["ok"], true, "{v}");
    assert_eq!(
        (d["kind"].as_str(), d["medium"].as_str()),
        (Some("tape"), Some(cart.as_str()))
    );
    assert!(d["stats"]["files_checked"].as_u64().unwrap() >= 43, "{v}");
    assert_eq!(d["stats"]["app_check"], "passed", "{v}");
    // Reading the set off tape is part of the time to the first file.
    let first = d["stats"]["first_file_secs"].as_f64().unwrap();
    assert!(
        first > 0.0 && first <= d["stats"]["seconds"].as_f64().unwrap(),
        "{v}"
    );
    assert!(!scratch.exists(), "the scratch folder is removed");
    let leftovers: Vec<_> = fs::read_dir(&s.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".hokan-drill"))
        .collect();
    assert!(leftovers.is_empty(), "the staging folder is removed");
    // The cartridge went back to its slot: still offline.
    assert_eq!(s.koban_of(131, &cart), vec!["①-2-1"]);

    // Bytes flipped in the middle of the cartridge's image.
    let image = s
        .dir
        .join("vtl")
        .join("cartridges")
        .join(format!("{cart}.tape"));
    let mut b = fs::read(&image).unwrap();
    let mid = b.len() / 2;
    for i in (mid..mid + 4096).step_by(97) {
        b[i] ^= 0x5a;
    }
    fs::write(&image, b).unwrap();
    let v = s.json(140, &["drill", "--kind", "tape"], 1);
    let d = &v["drills"][0];
    assert_eq!(d["ok"], false, "{v}");
    let failures = d["stats"]["failures"].to_string();
    // The cartridge, and the object whose bytes do not match.
    assert!(
        failures.contains(&format!("cartridge {cart}"))
            && failures.contains("entry data/")
            && failures.contains("does not match"),
        "the damage is named: {failures}"
    );
    let cat = Catalog::open(&s.dir.join("catalog.db")).unwrap();
    let rows = cat.drills(10).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(!rows[0].ok && rows[1].ok);
    assert_eq!(rows[0].measured.as_ref().unwrap().kind, "tape");
    assert!(cat.verify(None).unwrap().ok());
}

#[test]
fn the_night_runs_a_drill_when_the_targets_drill_schedule_says_and_not_again_before_the_next() {
    let s = library_with(&["HKN001L9", "HKN002L9"], "64MiB");
    let path = s.dir.join("hokan.toml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replace(
            "virtual_library = \"vtl\"\n",
            "virtual_library = \"vtl\"\ndrill_schedule = \"*-*-* 23:00\"\n",
        ),
    )
    .unwrap();
    // 23:30 on the first night: backup, tape backup, then the drill from it
    // (exit 9: one generation is fewer than the policy asks).
    let v = s.json(90, &["run"], 9);
    assert_eq!(v["outcome"], "ok", "{v}");
    let steps = v["night"]["steps"].as_array().unwrap();
    let drill = steps
        .iter()
        .find(|st| st["args"][0] == "drill")
        .unwrap_or_else(|| panic!("a drill step: {v}"));
    assert_eq!(drill["outcome"], "ok", "{drill}");
    let cat = Catalog::open(&s.dir.join("catalog.db")).unwrap();
    let rows = cat.drills(10).unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert!(rows[0].ok);
    assert_eq!(rows[0].measured.as_ref().unwrap().kind, "tape");
    assert_eq!(rows[0].by.as_deref(), Some("hokan run (drill_schedule)"));
    // A quarter of an hour later: not due until the next 23:00 (site time).
    let v = s.json(105, &["run"], 9);
    let drill = v["night"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["args"][0] == "drill")
        .unwrap()
        .clone();
    assert_eq!(drill["outcome"], "skipped", "{drill}");
    assert!(
        drill["why"].as_str().unwrap().contains("not due"),
        "{drill}"
    );
    assert_eq!(cat.drills(10).unwrap().len(), 1);
    // The annex says which target the night drills, and when.
    let annex = s.dir.join("annex.md");
    s.ok(
        106,
        &[
            "annex",
            "--lang",
            "en",
            "--format",
            "md",
            "-o",
            annex.to_str().unwrap(),
        ],
    );
    let text = fs::read_to_string(&annex).unwrap();
    assert!(
        text.contains("Drilled automatically: weekday") && text.contains(r"\*-\*-\* 23:00"),
        "{text}"
    );
}

#[test]
fn a_single_drive_drill_asks_for_the_cartridge_and_ejects_it_again() {
    let (s, _) = single_with_one_set("HKN101L9");
    assert_eq!(s.koban_of(120, "HKN101L9"), vec!["①-1-1"]);
    // Neither the primary repository nor the source's own folder is there.
    fs::rename(s.dir.join("repo"), s.dir.join("repo.away")).unwrap();
    fs::rename(&s.data, s.dir.join("data.away")).unwrap();
    // The cartridge is on the shelf: the drill asks for it by name.
    // Exit 13: a cartridge must be inserted.
    let (out, err) = s.code(130, &["drill", "--kind", "tape"], 13);
    assert!(err.contains("Insert HKN101L9"), "{out}{err}");
    let cat = Catalog::open(&s.dir.join("catalog.db")).unwrap();
    assert_eq!(
        cat.drills(10).unwrap().len(),
        0,
        "nothing drilled, nothing recorded"
    );
    s.ok(
        140,
        &["tape", "sim", "insert", "--pool", "single", "HKN101L9"],
    );
    let v = s.json(150, &["drill", "--kind", "tape"], 0);
    assert_eq!(v["drills"][0]["ok"], true, "{v}");
    assert!(v["drills"][0]["stats"]["files_checked"].as_u64().unwrap() >= 43);
    // Ejected again, as after the job: the copy is offline again.
    assert_eq!(s.koban_of(160, "HKN101L9"), vec!["①-1-1"]);
}

#[test]
fn a_cartridge_left_on_the_shelf_does_not_stop_the_other_kinds_drills() {
    let mut s = Site::new(&format!("{POOL}{LIBRARY}"));
    s.ok(0, &["disk", "sim", "create", "--pool", "rdx"]);
    s.ok(0, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "format", "--pool", "rdx", "RDX-A"]);
    s.ok(0, &["disk", "eject", "--pool", "rdx"]);
    s.ok(
        0,
        &["tape", "sim", "create", "--pool", "weekday", "--slots", "4"],
    );
    s.ok(
        0,
        &["tape", "sim", "insert", "--pool", "weekday", "HKN001L9"],
    );
    s.ok(0, &["tape", "label", "--pool", "weekday", "HKN001L9"]);
    s.night(1);
    s.ok(50, &["disk", "sim", "insert", "--pool", "rdx", "RDX-A"]);
    s.ok(60, &["disk", "backup", "--pool", "rdx"]);
    s.ok(61, &["tape", "backup", "--pool", "weekday"]);
    // Both offline; RDX-A on the shelf. Every kind is drilled that can be.
    let v = s.json(120, &["drill"], 13);
    let drills = v["drills"].as_array().unwrap();
    assert_eq!(drills.len(), 1, "{v}");
    assert_eq!(
        (drills[0]["kind"].as_str(), drills[0]["ok"].as_bool()),
        (Some("tape"), Some(true))
    );
    let not = &v["not_attempted"][0];
    assert_eq!(
        (not["pick"]["medium"].as_str(), not["exit_code"].as_i64()),
        (Some("RDX-A"), Some(13)),
        "{v}"
    );
    let cat = Catalog::open(&s.dir.join("catalog.db")).unwrap();
    assert_eq!(
        cat.drills(10).unwrap().len(),
        1,
        "only the tape drill is recorded"
    );
}
