//! The site commands end to end with the real binary: hokan.toml, the
//! catalog filled by real backups, media moves, attestations, `status`
//! exit codes, reports and `catalog verify` against a tampered database.
//!
//! Tape and disk jobs come in later issues; until then the copies they
//! would record are written here through the catalog library, exactly as
//! such a job records them (device-reported locations, complete copies).

mod common;

use std::fs;
use std::process::Command;

use hokan_catalog::{Catalog, Event};
use hokan_offline::{Location, ObservedBy};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use common::site::*;
use common::*;

#[test]
fn backups_fill_the_catalog_and_status_follows_the_tapes() {
    let s = site();
    // Each backup mirrored its snapshot into the catalog, with the job.
    let ids = snapshot_ids(&s);
    assert_eq!(ids.len(), 3);
    let jobs = Catalog::open(&s.catalog()).unwrap().jobs(10).unwrap();
    assert_eq!(jobs.iter().filter(|j| j.job == "backup").count(), 3);

    // Only the primary copy: nothing offline, exit code 9.
    let st = s.json(1, &["status"], 9);
    assert_eq!(st["compliant"], false);
    assert_eq!(st["exit_code"], 9);

    for t in ["TAPE01L9", "TAPE02L9", "TAPE03L9"] {
        s.code(0, &["media", "add", t, "--pool", "weekday"], 0);
    }
    s.tape_copy(
        &ids[1],
        "TAPE02L9",
        s.night - Duration::days(1) + Duration::hours(1),
        2,
    );
    s.tape_copy(&ids[2], "TAPE03L9", s.night + Duration::hours(1), 3);
    let st = s.json(3, &["status"], 0);
    assert_eq!(st["compliant"], true, "{st:#}");
    let emr = &st["evaluation"]["sources"][0];
    assert_eq!(emr["offline_generations"].as_array().unwrap().len(), 2);

    // Someone loads TAPE03L9 into a drive: that generation is online again.
    s.code(
        4,
        &[
            "media",
            "move",
            "TAPE03L9",
            "--to",
            "drive:lib1-d0",
            "--by",
            "佐藤",
        ],
        0,
    );
    let human = s.code(5, &["status"], 9);
    assert!(human.contains("NOT COMPLIANT"), "{human}");
    assert!(human.contains("TAPE03L9"), "{human}");
    let ja = s.run(5, "ja", &["status"]);
    let ja = String::from_utf8(ja.stdout).unwrap();
    assert!(ja.contains("不適合") && ja.contains("①-2-1"), "{ja}");

    // Taken out of the library to the bank: ①-2-2, compliant again.
    s.code(
        6,
        &[
            "media",
            "move",
            "TAPE03L9",
            "--to",
            "offsite:bank",
            "--by",
            "佐藤",
            "--note",
            "courier 11:00",
        ],
        0,
    );
    let st = s.json(7, &["status"], 0);
    let kobans: Vec<String> = st["evaluation"]["copies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["verdict"]["detail"]["koban"].as_str().map(str::to_owned))
        .collect();
    assert!(kobans.contains(&"①-2-1".to_owned()), "{kobans:?}");
    assert!(kobans.contains(&"①-2-2".to_owned()), "{kobans:?}");

    // The media list and a medium's history say the same.
    let list = s.code(7, &["media", "list"], 0);
    assert!(list.contains("TAPE02L9") && list.contains("bank"), "{list}");
    let show = s.code(7, &["media", "show", "TAPE03L9"], 0);
    assert!(
        show.contains("佐藤") && show.contains("courier 11:00"),
        "{show}"
    );

    // Retiring TAPE02L9 drops its generation: not compliant.
    s.code(
        8,
        &[
            "media", "retire", "TAPE02L9", "--by", "佐藤", "--reason", "worn",
        ],
        0,
    );
    s.code(9, &["status"], 9);
    assert!(s.json(9, &["catalog", "verify"], 0)["ok"] == true);
}

#[test]
fn attestations_count_until_they_expire_or_are_withdrawn() {
    let s = site();
    let ids = snapshot_ids(&s);
    for (i, c) in ["RDX1", "RDX2"].iter().enumerate() {
        s.code(0, &["media", "add", c, "--kind", "rdx-autoloader"], 0);
        let mut cat = Catalog::open(&s.catalog()).unwrap();
        let at = s.night + Duration::hours(1);
        cat.record_all(
            at,
            "test disk job",
            vec![
                Event::CopyRecorded {
                    snapshot: ids[i + 1].as_str().into(),
                    medium: (*c).into(),
                    since: at,
                    complete: true,
                    with: vec![],
                },
                Event::MediumLocated {
                    medium: (*c).into(),
                    at,
                    location: Location::InactiveSlot {
                        autoloader: "ql1".into(),
                        slot: Some(i as u32 + 1),
                    },
                    by: ObservedBy::Device {
                        device: "ql1".into(),
                    },
                    note: None,
                },
            ],
        )
        .unwrap();
    }
    // Inactive slots without the segmentation attestation are online (②-2-1 needs both).
    let out = s.code(2, &["status"], 9);
    assert!(
        out.contains("segment"),
        "status must say which attestation is missing:\n{out}"
    );

    s.code(
        2,
        &[
            "attest",
            "network-segmented",
            "--autoloader",
            "ql1",
            "--evidence",
            "VLAN 30 isolated, firewall rule review 2026-11",
            "--by",
            "情報システム課 鈴木",
            "--until",
            "30d",
        ],
        0,
    );
    let st = s.json(3, &["status"], 0);
    assert_eq!(st["compliant"], true, "{st:#}");
    let list = s.json(3, &["attest", "list"], 0);
    assert_eq!(list["attestations"][0]["holds"], true);
    assert_eq!(list["attestations"][0]["attestation"]["id"], "A-0001");

    // 31 days later the attestation has expired: online again.
    s.code(24 * 31, &["status"], 9);
    // Withdrawn now: online at once.
    s.code(
        4,
        &[
            "attest",
            "withdraw",
            "A-0001",
            "--by",
            "鈴木",
            "--reason",
            "network change",
        ],
        0,
    );
    s.code(5, &["status"], 9);
    // Attestations are among the facts only the catalog holds.
    let export = s.code(5, &["catalog", "export"], 0);
    let export: Value = serde_json::from_str(&export).unwrap();
    let kinds: Vec<&str> = export["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"attested") && kinds.contains(&"attestation-withdrawn"),
        "{kinds:?}"
    );
}

#[test]
fn reports_in_every_format_carry_the_evidence() {
    let s = site();
    let ids = snapshot_ids(&s);
    s.code(0, &["media", "add", "TAPE01L9", "--pool", "weekday"], 0);
    s.tape_copy(&ids[2], "TAPE01L9", s.night + Duration::hours(1), 1);
    let head = s.json(2, &["catalog", "verify"], 0)["report"]["head"]["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let html = s.dir.join("r.html");
    s.code(
        2,
        &["report", "--format", "html", "-o", html.to_str().unwrap()],
        0,
    );
    let text = fs::read_to_string(&html).unwrap();
    assert!(text.contains("TAPE01L9") && text.contains("①-2-1"));
    assert!(text.contains(&head), "the report prints the catalog head");
    assert!(!text.contains("<script") && !text.contains("src=\"http"));
    // A tape pool on a real device: no simulated-devices notice.
    assert!(!text.contains("banner simulated") && !text.contains("SIMULATED"));
    let md = s.code(2, &["report", "--format", "md"], 0);
    assert!(md.contains("TAPE01L9") && md.contains(&head));
    let js: Value = serde_json::from_str(&s.code(2, &["report", "--format", "json"], 0)).unwrap();
    assert_eq!(js["head"]["hash"], head.as_str());
    assert_eq!(js["snapshots"].as_array().unwrap().len(), 3);
    assert_eq!(js["site"]["simulated"], serde_json::json!([]));
    let ja = s.run(2, "ja", &["report", "--format", "html"]);
    let ja = String::from_utf8(ja.stdout).unwrap();
    assert!(ja.contains("オフラインバックアップ状態確認報告書"));
    assert!(!ja.contains("模擬装置"));
}

#[test]
fn catalog_verify_catches_tampering_and_says_what_to_do() {
    let s = site();
    s.code(0, &["media", "add", "TAPE01L9", "--pool", "weekday"], 0);
    s.code(
        1,
        &[
            "media",
            "move",
            "TAPE01L9",
            "--to",
            "shelf:金庫",
            "--by",
            "佐藤",
        ],
        0,
    );
    let printed = s.json(2, &["catalog", "verify"], 0)["report"]["head"].clone();
    let expect = format!("{}:{}", printed["seq"], printed["hash"].as_str().unwrap());
    s.code(2, &["catalog", "verify", "--expect", &expect], 0);

    let db = rusqlite::Connection::open(s.catalog()).unwrap();
    db.execute_batch("DROP TRIGGER events_no_update;").unwrap();
    db.execute(
        "UPDATE events SET actor = 'someone else' WHERE kind = 'medium-located'",
        [],
    )
    .unwrap();
    drop(db);
    let o = s.run(3, "en", &["catalog", "verify"]);
    assert_eq!(o.status.code(), Some(4));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("changed after it was recorded"), "{out}");
    assert!(out.contains("Keep this file as evidence"), "{out}");
    // A report made from a tampered catalog says so in its exit code:
    // nothing in it was judged.
    assert_eq!(
        s.run(3, "en", &["report", "--format", "md"]).status.code(),
        Some(12)
    );
}

#[test]
fn config_errors_name_the_line_and_key() {
    let s = site();
    let bad = s.dir.join("bad.toml");
    fs::write(
        &bad,
        "[site]\nname = \"x\"\n\n[repository]\npath = \"repo\"\n\n[policy]\nmin_offline_generations = 1\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .args(["--lang", "en", "--config"])
        .arg(&bad)
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(10));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(":8") && err.contains("min_offline_generations"),
        "{err}"
    );
    assert!(err.contains('2'), "the floor is named: {err}");

    let out = s.code(0, &["config", "check"], 0);
    assert!(
        out.contains("テスト病院") && out.contains("weekday"),
        "{out}"
    );

    // No configuration anywhere: a clear error, not a silent default.
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .current_dir(empty.path())
        .env_remove("HOKAN_CONFIG")
        .args(["--lang", "en", "config", "check"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hokan.toml"));
}

#[test]
fn operator_mistakes_get_clear_errors_in_both_languages() {
    let s = site();
    let cases: &[(&[&str], i32, &str, &str)] = &[
        (
            &["media", "move", "NOSUCH", "--to", "shelf", "--by", "x"],
            1,
            "no medium NOSUCH in the catalog",
            "媒体 NOSUCH はカタログにありません",
        ),
        (
            &["media", "move", "X", "--to", "cupboard", "--by", "x"],
            2,
            "unknown place \"cupboard\"",
            "場所 \"cupboard\" が分かりません",
        ),
        (
            &["media", "add", "T9", "--pool", "nosuch"],
            2,
            "nosuch",
            "nosuch",
        ),
        (&["media", "add", "T9"], 2, "--kind", "--kind"),
        (
            &["attest", "withdraw", "A-0042", "--by", "x"],
            1,
            "no attestation A-0042",
            "証明 A-0042 はありません",
        ),
        (
            &["catalog", "verify", "--expect", "nonsense"],
            2,
            "SEQ:HASH",
            "SEQ:HASH",
        ),
    ];
    for (args, code, en, ja) in cases {
        for (lang, want) in [("en", en), ("ja", ja)] {
            let o = s.run(1, lang, args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(*code), "{args:?} {lang}: {err}");
            assert!(err.contains(*want), "{args:?} {lang}: {err}");
        }
    }
    // None of the refused commands left an event behind.
    let cat = Catalog::open(&s.catalog()).unwrap();
    assert!(cat.verify(None).unwrap().ok());
    assert!(cat
        .media()
        .unwrap()
        .iter()
        .all(|m| m.id.as_str() == "primary"));
}

/// `hokan backup` without paths backs up every configured source, each
/// after its pre-backup command; a failing or hanging command stops its own
/// source (abort) or marks the snapshot (continue), never the others.
#[test]
fn configured_sources_run_their_pre_backup_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = &tmp.path().to_owned();
    for d in ["emr", "pacs", "lab", "docs"] {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
    fs::write(dir.join("pacs/img.dcm"), b"DICM").unwrap();
    fs::write(dir.join("lab/old.csv"), b"stale").unwrap();
    fs::write(dir.join("docs/a.txt"), b"doc").unwrap();
    fs::write(dir.join("pw.txt"), format!("{PW}\n")).unwrap();
    // Private, as a site's passphrase file must be (else hokan warns).
    std::fs::set_permissions(
        dir.join("pw.txt"),
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
    )
    .unwrap();
    let d = dir.display();
    fs::write(
        dir.join("hokan.toml"),
        format!(
            r#"[site]
name = "test"
catalog = "catalog.db"

[repository]
path = "repo"
passphrase_file = "pw.txt"

[[source]]
name = "emr"
paths = ["{d}/emr"]
[source.pre_backup]
command = "echo dumping; echo 'INSERT 42' > {d}/emr/dump.sql"

[[source]]
name = "pacs"
paths = ["{d}/pacs"]
[source.pre_backup]
command = ["/bin/sh", "-c", "echo 'pg_dump: connection refused' >&2; exit 2"]

[[source]]
name = "lab"
paths = ["{d}/lab"]
[source.pre_backup]
command = "sleep 30"
timeout = "1s"
on_failure = "continue"

[[source]]
name = "docs"
paths = ["{d}/docs"]
"#
        ),
    )
    .unwrap();
    let s = Site {
        _tmp: tmp,
        dir: dir.to_owned(),
        night: OffsetDateTime::now_utc(),
    };
    s.code(0, &["init", "--insecure-fast-kdf"], 0);

    let started = std::time::Instant::now();
    let o = s.run(0, "en", &["--json", "backup"]);
    assert_eq!(
        o.status.code(),
        Some(11),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("pacs") && err.contains("exit code 2"), "{err}");
    assert!(
        err.contains("connection refused"),
        "the command's output is shown: {err}"
    );
    assert!(err.contains("NOT backed up"), "{err}");
    assert!(err.contains("lab") && err.contains("timeout"), "{err}");
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let by: std::collections::HashMap<_, _> = doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["source"].as_str().unwrap().to_owned(), v.clone()))
        .collect();
    assert_eq!(by["emr"]["pre_backup"]["ok"], true);
    assert_eq!(by["pacs"]["skipped"], true);
    assert_eq!(by["lab"]["pre_backup"]["timed_out"], true);
    assert_eq!(by["lab"]["skipped"], false);
    assert!(by["docs"]["pre_backup"].is_null());

    // The dump ran before the backup: it is in the snapshot.
    let snaps = s.json(0, &["snapshots"], 0);
    let snaps = snaps.as_array().unwrap();
    let sources: Vec<&str> = snaps
        .iter()
        .map(|v| v["source"].as_str().unwrap())
        .collect();
    assert!(
        !sources.contains(&"pacs"),
        "an aborted source is not backed up: {sources:?}"
    );
    for want in ["emr", "lab", "docs"] {
        assert!(sources.contains(&want), "{want} missing from {sources:?}");
    }
    let lab = snaps.iter().find(|v| v["source"] == "lab").unwrap();
    assert!(
        lab["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "pre-backup-failed"),
        "{lab}"
    );
    let emr = snaps.iter().find(|v| v["source"] == "emr").unwrap();
    let id = emr["id"].as_str().unwrap();
    let files = s.code(0, &["ls", id], 0);
    assert!(files.contains("dump.sql"), "{files}");

    // The catalog knows of the failed dumps.
    let jobs = Catalog::open(&s.catalog()).unwrap().jobs(20).unwrap();
    let failed: Vec<_> = jobs
        .iter()
        .filter(|j| j.job == "pre-backup" && j.outcome == "failed")
        .map(|j| j.target.clone())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");

    // One source on its own; an unknown one is a usage error naming the others.
    s.code(0, &["backup", "--source", "docs"], 0);
    let o = s.run(0, "en", &["backup", "--source", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("emr, pacs, lab, docs"));
}

/// Issue 12 "Values": `attest --until 9999-12-31` used to pass and make
/// `status` and `report` panic; now it is a usage error naming `--until`.
#[test]
fn attest_until_9999_12_31_is_a_usage_error_not_a_panic() {
    let s = site();
    for (lang, want) in [
        ("en", "from 2000-01-01 to 2200-01-01"),
        ("ja", "2000-01-01 から 2200-01-01"),
    ] {
        let o = s.run(
            1,
            lang,
            &[
                "attest",
                "network-segmented",
                "--evidence",
                "VLAN 30",
                "--by",
                "鈴木",
                "--until",
                "9999-12-31",
            ],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{lang}: {err}");
        assert!(
            err.contains("--until") && err.contains(want),
            "{lang}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // More than ten years ahead is refused too, as a date or a length.
    for until in ["2040-01-01", "3650w", "36525d"] {
        let o = s.run(
            1,
            "en",
            &[
                "attest",
                "network-segmented",
                "--evidence",
                "VLAN 30",
                "--by",
                "鈴木",
                "--until",
                until,
            ],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{until}: {err}");
        assert!(err.contains("--until"), "{until}: {err}");
    }
    let list = s.json(1, &["attest", "list"], 0);
    assert_eq!(list["attestations"].as_array().unwrap().len(), 0);
}

/// An attestation whose end has already passed used to be recorded
/// silently and count for nothing; it is refused.
#[test]
fn attest_until_already_past_is_refused() {
    let s = site();
    // night is 2026-11-20 22:00 UTC.
    for (lang, want) in [("en", "already passed"), ("ja", "既に過ぎています")] {
        for until in ["2026-11-01", "2026-11-20T21:00:00Z"] {
            let o = s.run(
                1,
                lang,
                &[
                    "attest",
                    "network-segmented",
                    "--evidence",
                    "VLAN 30",
                    "--by",
                    "鈴木",
                    "--until",
                    until,
                ],
            );
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{until} {lang}: {err}");
            assert!(err.contains("--until") && err.contains(want), "{err}");
        }
    }
    let list = s.json(1, &["attest", "list"], 0);
    assert_eq!(list["attestations"].as_array().unwrap().len(), 0);
    // A date later today or after still works.
    s.code(
        1,
        &[
            "attest",
            "network-segmented",
            "--evidence",
            "VLAN 30",
            "--by",
            "鈴木",
            "--until",
            "2027-03-31",
        ],
        0,
    );
}

/// Instants on the command line outside 2000-01-01..2200-01-01 are usage
/// errors naming the argument.
#[test]
fn instants_out_of_range_on_the_command_line_are_usage_errors() {
    let s = site();
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .arg("--config")
        .arg(s.config())
        .args(["--lang", "en", "--now", "1999-12-31T23:00:00Z", "status"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--now") && err.contains("2000-01-01"), "{err}");

    s.code(0, &["media", "add", "T1", "--kind", "lto-library"], 0);
    for (args, arg) in [
        (
            &[
                "media",
                "move",
                "T1",
                "--to",
                "shelf",
                "--by",
                "x",
                "--at",
                "0026-11-23",
            ][..],
            "--at",
        ),
        (
            &[
                "media",
                "move",
                "T1",
                "--to",
                "shelf",
                "--by",
                "x",
                "--at",
                "99999999d",
            ][..],
            "--at",
        ),
        (
            &[
                "media",
                "add",
                "T2",
                "--kind",
                "lto-library",
                "--capacity",
                "99999999999TB",
            ][..],
            "--capacity",
        ),
        (
            &[
                "tape",
                "backup",
                "--pool",
                "weekday",
                "--wait-for-cartridge",
                "3000000d",
            ][..],
            "--wait-for-cartridge",
        ),
    ] {
        let o = s.run(1, "en", args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(arg), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `config check` names the line and key of a warning horizon of thousands
/// of years (it used to pass, and `status` then panicked).
#[test]
fn config_check_refuses_a_warning_horizon_of_thousands_of_years() {
    let s = site();
    let text = fs::read_to_string(s.config()).unwrap().replace(
        "max_newest_age = \"7d\"",
        "max_newest_age = \"7d\"\nwarning_horizon = \"3000000d\"",
    );
    fs::write(s.config(), text).unwrap();
    let o = s.run(1, "en", &["config", "check"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(10), "{err}");
    assert!(
        err.contains("hokan.toml:16:") && err.contains("policy.warning_horizon"),
        "{err}"
    );
    assert!(err.contains("100 years"), "{err}");
}

/// Someone with write access to the catalog can record through the
/// documented event API an attestation expiring at 9999-12-31 and a
/// person's location dated at the end of time; `status` and `report` used
/// to panic on the time arithmetic. They must give a verdict instead.
#[test]
fn status_and_report_do_not_panic_on_a_far_future_expiry_in_the_catalog() {
    let s = site();
    // A site east of UTC, so showing 9999-12-31 23:59 UTC in it overflows.
    let text = fs::read_to_string(s.config())
        .unwrap()
        .replace("[site]\n", "[site]\ntimezone = \"+09:00\"\n");
    fs::write(s.config(), text).unwrap();
    s.code(0, &["media", "add", "T1", "--kind", "lto-library"], 0);
    let end = OffsetDateTime::parse("9999-12-31T23:59:59Z", &Rfc3339).unwrap();
    let mut cat = Catalog::open(&s.catalog()).unwrap();
    let id = cat.next_attestation_id().unwrap();
    cat.record_all(
        s.night,
        "attacker",
        vec![
            Event::Attested {
                attestation: hokan_offline::Attestation {
                    id,
                    claim: hokan_offline::Claim::NetworkSegmented { autoloader: None },
                    by: "attacker".into(),
                    evidence: "none".into(),
                    valid_from: s.night,
                    expires_at: end,
                    withdrawn_at: None,
                },
            },
            Event::MediumLocated {
                medium: "T1".into(),
                at: end,
                location: Location::Shelf { place: None },
                by: ObservedBy::Person {
                    person: "attacker".into(),
                },
                note: None,
            },
        ],
    )
    .unwrap();
    drop(cat);
    for args in [
        &["status"][..],
        &["--json", "status"][..],
        &["attest", "list"][..],
        &["media", "list"][..],
        &["report", "--format", "html"][..],
        &["report", "--format", "md"][..],
        &["report", "--format", "json"][..],
    ] {
        for lang in ["en", "ja"] {
            let o = s.run(2, lang, args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                !err.contains("panicked") && o.status.code() != Some(101),
                "{args:?} {lang}: {err}"
            );
            assert!(
                matches!(o.status.code(), Some(0) | Some(9)),
                "{args:?} {lang}: {:?} {err}",
                o.status.code()
            );
        }
    }
}
