//! hokan's calendar expressions against systemd's own: for each expression
//! hokan accepts, `systemd-analyze calendar` (the parser systemd's timers
//! use) must give the same next five times. So a site moving from a
//! `hokan-run.timer` to `[site] schedule` (or back) keeps its nights.
//! `scripts/test.sh` installs systemd's tools when they are missing.

use std::process::Command;

use hokan_site::calendar::Calendar;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

const EXPRESSIONS: &[&str] = &[
    "Mon..Fri 22:00",
    "Sun 02:00",
    "*-*-01 03:00",
    "Mon,Wed,Fri 21:30",
    "Sat..Sun 01:15",
    "*-*-* 22:00",
    "daily",
    "weekly",
    "monthly",
    "*-*-1,15 04:00",
    "Mon..Fri 08..18:00",
    "*-*-* *:0/15",
];

/// The next `n` elapses systemd computes for `expr` from now, in UTC.
fn systemd(expr: &str, n: usize) -> Option<Vec<String>> {
    let out = match Command::new("systemd-analyze")
        .env("TZ", "UTC")
        .args(["calendar", &format!("--iterations={n}"), expr])
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!(
            "systemd-analyze is needed for this test (scripts/test.sh installs package systemd): {e}"
        ),
    };
    assert!(
        out.status.success(),
        "systemd-analyze refused {expr:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let times: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(": ")?;
            let k = k.trim();
            (k == "Next elapse" || k.starts_with("Iter. #")).then(|| {
                // "Mon 2026-12-07 22:00:00 UTC" → "2026-12-07 22:00:00"
                let v: Vec<&str> = v.split_whitespace().collect();
                format!("{} {}", v[1], v[2])
            })
        })
        .collect();
    Some(times)
}

fn hokan(expr: &str, from: OffsetDateTime, n: usize) -> Vec<String> {
    let c = Calendar::parse(expr).unwrap_or_else(|e| panic!("hokan refused {expr:?}: {e:?}"));
    let mut t = from;
    let mut out = Vec::new();
    for _ in 0..n {
        t = c.next_after(t).expect("fires again");
        let s = t.to_offset(UtcOffset::UTC).format(&Rfc3339).unwrap();
        out.push(s[..19].replace('T', " "));
    }
    out
}

#[test]
fn the_next_five_times_agree_with_systemd() {
    for expr in EXPRESSIONS {
        // Retry once if a minute boundary passed between the two answers.
        let mut agreed = false;
        let mut last = (Vec::new(), Vec::new());
        for _ in 0..2 {
            let now = OffsetDateTime::now_utc();
            let theirs = systemd(expr, 5).unwrap();
            let ours = hokan(expr, now, 5);
            if theirs == ours {
                agreed = true;
                break;
            }
            last = (theirs, ours);
        }
        assert!(agreed, "{expr:?}: systemd {:?}, hokan {:?}", last.0, last.1);
    }
}
