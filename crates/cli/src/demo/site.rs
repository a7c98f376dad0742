//! The demo's site: a hokan.toml, a catalog, a simulated tape library with
//! three cartridges moved between drive, slots and an offsite vault, and
//! `status` at two moments: one not compliant (last night's tape left in the
//! drive) and one compliant (after it was unloaded). Ends with a report.
//!
//! The library is simulated here: the catalog records what a tape job and
//! the library would report. Real tape writing comes with the tape support.

use std::fs;
use std::path::Path;

use hokan_catalog::{Catalog, Event};
use hokan_offline::{evaluate, Location, MediumKind, ObservedBy};
use hokan_repo::Repository;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::exit::Failure;
use crate::i18n::{t, Lang};
use crate::site::{self, args::ReportArgs, args::ReportFormat, args::SiteCommand};
use crate::Global;

const TAPES: [&str; 3] = ["HKN001L9", "HKN002L9", "HKN003L9"];

fn config_text(dir: &Path) -> String {
    format!(
        r#"# hokan demo site — made by `hokan demo`
[site]
name = "hokan デモ総合病院 (demo hospital)"
timezone = "+09:00"
catalog = "catalog.db"

[repository]
path = "repo"
passphrase_file = "password.txt"

[[source]]
name = "emr"
paths = ["{data}"]

[policy]
min_offline_generations = 3
max_newest_age = "7d"

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
retention = "28d"
"#,
        data = dir.join("data").display()
    )
}

fn dev(d: &str) -> ObservedBy {
    ObservedBy::Device { device: d.into() }
}

fn at_lib(medium: &str, at: OffsetDateTime, location: Location) -> Event {
    Event::MediumLocated {
        medium: medium.into(),
        at,
        location,
        by: dev("lib1"),
        note: None,
    }
}

fn slot(n: u32) -> Location {
    Location::LibrarySlot {
        library: "lib1".into(),
        slot: Some(n),
    }
}

fn drive() -> Location {
    Location::InDrive {
        drive: "lib1-drive0".into(),
    }
}

/// Build the site beside the demo repository and show both moments.
/// Returns the JSON summary and whether both moments came out as expected.
pub fn run(
    dir: &Path,
    repo: &Repository,
    g: &Global,
    lang: Lang,
    say: &dyn Fn(String),
) -> Result<(Value, bool), Failure> {
    let config = dir.join("hokan.toml");
    fs::write(
        &config,
        config_text(&dir.canonicalize().unwrap_or(dir.to_owned())),
    )
    .map_err(|e| super::io(lang, &config, e))?;
    let mut g2 = g.clone();
    g2.config = Some(config.clone());
    g2.repo = None;
    g2.catalog = None;
    let conf = site::load(&g2, lang, true)?;
    let cat_path = conf
        .catalog
        .clone()
        .expect("the demo config names a catalog");
    let mut cat = Catalog::open(&cat_path).map_err(|e| fail(lang, e))?;

    let (snaps, _) = repo
        .snapshots()
        .map_err(|e| crate::exit::from_repo(lang, &e))?;
    let last_night = snaps
        .last()
        .and_then(|(_, s)| {
            OffsetDateTime::parse(&s.time, &time::format_description::well_known::Rfc3339).ok()
        })
        .unwrap_or_else(OffsetDateTime::now_utc);
    let now = last_night + Duration::hours(2);
    site::sync_catalog(repo, &mut cat, &conf, now).map_err(|e| match e {
        site::SyncError::Repo(e) => crate::exit::from_repo(lang, &e),
        site::SyncError::Catalog(e) => fail(lang, e),
    })?;
    say(format!(
        "6. {} {} ({})",
        t(
            lang,
            "site configuration and catalog:",
            "サイト設定とカタログ:"
        ),
        config.display(),
        cat_path.display()
    ));

    // The simulated library: one tape per night, copied then moved.
    let mut events = Vec::new();
    for (i, tape) in TAPES.iter().enumerate() {
        events.push(Event::MediumAdded {
            medium: (*tape).into(),
            kind: MediumKind::LtoLibrary,
            pool: Some("weekday".into()),
            label: None,
            capacity: Some(18_000_000_000_000),
            note: None,
        });
        events.push(at_lib(
            tape,
            last_night - Duration::days(30),
            slot(i as u32 + 1),
        ));
    }
    cat.record_all(last_night - Duration::days(30), "demo", events)
        .map_err(|e| fail(lang, e))?;
    let tail = snaps.len().saturating_sub(TAPES.len());
    for (i, (id, s)) in snaps[tail..].iter().enumerate() {
        let tape = TAPES[i];
        let night = OffsetDateTime::parse(&s.time, &time::format_description::well_known::Rfc3339)
            .unwrap_or(last_night);
        let copied = night + Duration::minutes(30);
        let mut evs = vec![
            at_lib(tape, night + Duration::minutes(5), drive()),
            Event::CopyRecorded {
                snapshot: id.to_hex().into(),
                medium: tape.into(),
                since: copied,
                complete: true,
                with: vec![],
            },
        ];
        let last = i + tail + 1 == snaps.len();
        if !last {
            evs.push(at_lib(
                tape,
                copied + Duration::minutes(1),
                slot(i as u32 + 1),
            ));
        }
        cat.record_all(copied, "demo (simulated tape job)", evs)
            .map_err(|e| fail(lang, e))?;
        if i == 0 && !last {
            // The first night's tape goes to the bank's vault.
            let out = copied + Duration::hours(8);
            cat.record_all(
                out,
                "demo",
                vec![
                    at_lib(
                        tape,
                        out,
                        Location::Exported {
                            changer: "lib1".into(),
                        },
                    ),
                    Event::MediumLocated {
                        medium: tape.into(),
                        at: out + Duration::hours(1),
                        location: Location::Offsite {
                            site: "bank vault".into(),
                        },
                        by: ObservedBy::Person {
                            person: "山田 (demo)".into(),
                        },
                        note: Some("weekly courier".into()),
                    },
                ],
            )
            .map_err(|e| fail(lang, e))?;
        }
    }
    say(format!(
        "7. {}",
        t(
            lang,
            "simulated tape library lib1: one cartridge per night; the first went offsite, the second back to its slot, last night's is STILL IN THE DRIVE",
            "模擬テープライブラリ lib1: 1 晩 1 本。1 本目は遠隔地へ、2 本目はスロットへ戻し、昨夜の分はドライブに入ったまま"
        )
    ));

    let morning = last_night + Duration::hours(1);
    let before = evaluate(
        &cat.facts().map_err(|e| fail(lang, e))?,
        &conf.policy,
        morning,
    );
    let with_now = |at: OffsetDateTime| {
        let mut g3 = g2.clone();
        g3.now = Some(
            at.format(&time::format_description::well_known::Rfc3339)
                .expect("time"),
        );
        g3
    };
    if !g.json {
        say(format!(
            "\n8. {}",
            t(
                lang,
                "the morning check — `hokan status`:",
                "朝の確認 — `hokan status`:"
            )
        ));
        let _ = site::run(SiteCommand::Status, &with_now(morning), lang);
    }

    // The operator unloads the tape; the library reports it in slot 3.
    let fixed_at = morning + Duration::minutes(10);
    let last_tape = TAPES[(snaps.len() - tail).saturating_sub(1)];
    cat.record(fixed_at, "demo", at_lib(last_tape, fixed_at, slot(3)))
        .map_err(|e| fail(lang, e))?;
    let after_at = fixed_at + Duration::minutes(1);
    let after = evaluate(
        &cat.facts().map_err(|e| fail(lang, e))?,
        &conf.policy,
        after_at,
    );
    if !g.json {
        say(format!(
            "\n9. {} {last_tape} {}",
            t(lang, "the operator unloads", "担当者が"),
            t(
                lang,
                "to its slot; `hokan status` again:",
                "をスロットへ戻しました。もう一度 `hokan status`:"
            )
        ));
        let _ = site::run(SiteCommand::Status, &with_now(after_at), lang);
    }
    let report = dir.join("report.html");
    let mut g4 = with_now(after_at);
    g4.json = true; // no chatter from the report command inside the demo
    site::run(
        SiteCommand::Report(ReportArgs {
            format: ReportFormat::Html,
            output: Some(report.clone()),
            events: 50,
        }),
        &g4,
        lang,
    )?;
    say(format!(
        "\n10. {} {}",
        t(lang, "inspection report written:", "点検用の報告書を出力:"),
        report.display()
    ));
    let ok = !before.compliant && after.compliant;
    Ok((
        json!({
            "config": config,
            "catalog": cat_path,
            "report": report,
            "morning": {"at": morning, "compliant": before.compliant, "problems": before.all_problems()},
            "after_unload": {"at": after_at, "compliant": after.compliant},
        }),
        ok,
    ))
}

fn fail(lang: Lang, e: hokan_catalog::CatalogError) -> Failure {
    Failure::new(crate::exit::ERROR, site::pick(lang, &e.text()))
}
