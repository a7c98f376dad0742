//! Schedules in hokan.toml: `[site] schedule` and `expect_done_by`, and a
//! `schedule` on each target, read as systemd-style calendar expressions;
//! mistakes name their line, key and what to write.

use std::path::Path;

use hokan_site::{parse, ProblemKind, SiteError};
use time::macros::{datetime, time};

const FILE: &str = r#"[site]
name = "○○総合病院"
timezone = "+09:00"
schedule = "Mon..Sat 22:00"
expect_done_by = "06:00"

[repository]
path = "/srv/hokan/repo"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]

[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
device = "/dev/sdb"
mount_point = "/mnt/rdx"
retention = "28d"
schedule = "Mon..Fri"

[[s3]]
name = "cloud"
bucket = "b"
region = "ap-northeast-1"
retention = "30d"
schedule = "daily"
"#;

#[test]
fn schedules_are_read_and_fire_when_written() {
    let site = parse(FILE, Path::new("/etc/hokan/hokan.toml")).unwrap();
    let night = site.schedule().unwrap();
    // Saturday noon → Saturday 22:00; Saturday 23:00 → Monday 22:00.
    assert_eq!(
        night.next_after(datetime!(2026-12-05 12:00 +09:00)),
        Some(datetime!(2026-12-05 22:00 +09:00))
    );
    assert_eq!(
        night.next_after(datetime!(2026-12-05 23:00 +09:00)),
        Some(datetime!(2026-12-07 22:00 +09:00))
    );
    assert_eq!(site.expect_done_by(), Some(time!(06:00)));
    let rdx = site
        .targets()
        .iter()
        .find(|t| t.name.as_str() == "rdx")
        .unwrap();
    let s = rdx.schedule.as_ref().unwrap();
    assert!(
        s.matches_date(datetime!(2026-12-04 00:00 +09:00).date()),
        "a Friday"
    );
    assert!(
        !s.matches_date(datetime!(2026-12-05 00:00 +09:00).date()),
        "a Saturday"
    );
    let d = site.describe(false);
    assert!(
        d.contains("Night schedule: Mon..Sat 22:00 (Mon..Sat *-*-* 22:00:00)"),
        "{d}"
    );
    assert!(
        d.contains("schedule: Mon..Fri (Mon..Fri *-*-* 00:00:00)"),
        "{d}"
    );
    assert!(site.describe(true).contains("夜間ジョブの予定"));
}

#[test]
fn a_bad_schedule_names_its_line_key_and_what_to_write() {
    let text = FILE
        .replace("\"Mon..Fri\"", "\"Mon..Fry 22:00\"")
        .replace("\"06:00\"", "\"6 o'clock\"");
    let problems = match parse(&text, Path::new("/etc/hokan/hokan.toml")) {
        Err(SiteError::Invalid { problems, .. }) => problems,
        other => panic!("accepted or other error: {other:?}"),
    };
    let p = problems
        .iter()
        .find(|p| p.key == "disk_pool[0].schedule")
        .unwrap();
    assert_eq!((p.line, p.kind), (20, ProblemKind::BadValue));
    let en = p.render(Path::new("hokan.toml"), false);
    assert!(
        en.contains("\"Fry\" is not a weekday") && en.contains("Mon..Fri 22:00"),
        "{en}"
    );
    assert!(
        p.render(Path::new("hokan.toml"), true)
            .contains("カレンダー式"),
        "{}",
        p.render(Path::new("hokan.toml"), true)
    );
    let p = problems
        .iter()
        .find(|p| p.key == "site.expect_done_by")
        .unwrap();
    assert_eq!(p.line, 5);
    assert!(p.render(Path::new("hokan.toml"), false).contains("HH:MM"));
}
