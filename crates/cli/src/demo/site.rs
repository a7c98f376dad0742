//! The demo's site: a hokan.toml, a catalog, a simulated tape library with
//! three cartridges moved between drive, slots and an offsite vault, and
//! `status` at two moments: one not compliant (last night's tape left in the
//! drive) and one compliant (after it was unloaded). Ends with a report.
//!
//! The library is SIMULATED (`hokan_tape::virt`: a folder of cartridge
//! images, drives and slots), but the jobs are the real `hokan tape`
//! commands: labels, media sets written and verified, moves recorded from
//! what the library reports.

use std::fs;
use std::path::{Path, PathBuf};

use hokan_catalog::{Catalog, Event};
use hokan_offline::{evaluate, Location, ObservedBy};
use hokan_repo::Repository;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::exit::Failure;
use crate::i18n::{t, Lang};
use crate::site::{
    self, args::AnnexFormat, args::ReportArgs, args::ReportFormat, args::SiteCommand,
};
use crate::tape::args::SimCmd;
use crate::tape::TapeCmd;
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
rto = "4h"
drill = {{ check = ["test", "-s", "{{target}}/data/db/emr.dump"], timeout = "1m" }}

[policy]
min_offline_generations = 3
max_newest_age = "7d"

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "28d"
virtual_library = "vtl"

[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "28d"
rotation = "any"
virtual_device = "rdx-sim"
"#,
        data = dir.join("data").display()
    )
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
    // A local S3 server with object lock (moto), when it is installed: no
    // cloud account needed. Stopped when the demo ends.
    let s3 = local_s3(dir);
    let mut text = config_text(&dir.canonicalize().unwrap_or(dir.to_owned()));
    if let Ok(m) = &s3 {
        text.push_str(&format!(
            r#"
[[s3]]
name = "cloud"
endpoint = "{}"
region = "us-east-1"
bucket = "hokan-demo"
prefix = "demo"
path_style = true
retention = "28d"
access_key_id = "{}"
secret_access_key_file = "s3-secret"
"#,
            m.endpoint(),
            hokan_s3::local::ACCESS_KEY
        ));
    }
    fs::write(&config, text).map_err(|e| super::io(lang, &config, e))?;
    let mut g2 = g.clone();
    g2.config = Some(config.clone());
    g2.repo = None;
    g2.catalog = None;
    let conf = crate::ctx::load(&g2, lang, true)?;
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
    crate::ctx::sync_catalog(repo, &mut cat, &conf, now).map_err(|e| match e {
        hokan_jobs::JobError::Catalog(e) => fail(lang, e),
        e => crate::job_error::failure(lang, &e),
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

    // The simulated library: real tape jobs on a SIMULATED library (a
    // folder of cartridge images, hokan_tape::virt), one set per night.
    let tape = |at: OffsetDateTime, cmd: TapeCmd| -> Result<i32, Failure> {
        let mut g3 = g2.clone();
        g3.now = Some(at.format(&Rfc3339).expect("time"));
        g3.quiet = true;
        g3.json = false;
        crate::tape::run(cmd, &g3, lang)
    };
    let pool = || "weekday".to_owned();
    let setup = last_night - Duration::days(30);
    tape(
        setup,
        TapeCmd::Sim(SimCmd::Create {
            pool: pool(),
            drives: 1,
            slots: 8,
            mail_slots: 1,
        }),
    )?;
    for t in TAPES {
        tape(
            setup,
            TapeCmd::Sim(SimCmd::Insert {
                pool: pool(),
                barcode: t.into(),
                capacity: "12TiB".into(),
                write_protected: false,
            }),
        )?;
        tape(
            setup,
            TapeCmd::Label {
                pool: pool(),
                medium: t.into(),
            },
        )?;
    }
    say(format!(
        "7. {}",
        t(
            lang,
            "simulated tape library (SIMULATED: a folder of cartridge images), one verified tape job a night:",
            "模擬テープライブラリ（実機ではなくフォルダ上のカートリッジイメージ）、毎晩の検証付きテープジョブ:"
        )
    ));
    let tail = snaps.len().saturating_sub(TAPES.len());
    let mut last_tape = TAPES[0];
    for (i, (id, s)) in snaps[tail..].iter().enumerate() {
        let night = OffsetDateTime::parse(&s.time, &Rfc3339).unwrap_or(last_night);
        tape(
            night + Duration::minutes(30),
            TapeCmd::Backup {
                pool: pool(),
                snapshots: vec![id.to_hex()],
                verify: true,
                wait_for_cartridge: None,
            },
        )?;
        let on = cat_media_with_copy(&cat_path, &id.to_hex(), lang)?;
        last_tape = TAPES
            .iter()
            .copied()
            .find(|t| *t == on)
            .unwrap_or(last_tape);
        say(format!(
            "  7.{} {} {} → {on} ({})",
            i + 1,
            t(lang, "snapshot", "スナップショット"),
            id.short(),
            t(
                lang,
                "verified, unloaded to its slot",
                "検証済み、スロットへアンロード"
            )
        ));
        if i == 0 && tail + 1 < snaps.len() {
            // The first night's cartridge goes to the bank's vault: exported
            // through the mail slot, taken out, and handed to the courier.
            let out = night + Duration::hours(8);
            tape(
                out,
                TapeCmd::Move {
                    pool: pool(),
                    medium: on.clone(),
                    to: "export".into(),
                },
            )?;
            tape(
                out + Duration::minutes(5),
                TapeCmd::Sim(SimCmd::TakeOut {
                    pool: pool(),
                    barcode: on.clone(),
                }),
            )?;
            tape(
                out + Duration::minutes(6),
                TapeCmd::Inventory { pool: pool() },
            )?;
            let mut cat = Catalog::open(&cat_path).map_err(|e| fail(lang, e))?;
            cat.record(
                out + Duration::hours(1),
                "demo",
                Event::MediumLocated {
                    medium: on.as_str().into(),
                    at: out + Duration::hours(1),
                    location: Location::Offsite {
                        site: "bank vault".into(),
                    },
                    by: ObservedBy::Person {
                        person: "山田 (demo)".into(),
                    },
                    note: Some("weekly courier".into()),
                },
            )
            .map_err(|e| fail(lang, e))?;
            say(format!(
                "       {on}: {}",
                t(
                    lang,
                    "exported through the mail slot and taken to the bank's vault",
                    "メールスロットから搬出し、銀行の保管庫へ"
                )
            ));
        }
    }
    // The first night also goes to an RDX cartridge (a SIMULATED drive),
    // ejected after the job: ②-1-1.
    if let Some((first_id, first)) = snaps.get(tail) {
        let night = OffsetDateTime::parse(&first.time, &Rfc3339).unwrap_or(last_night);
        let disk = |at: OffsetDateTime, cmd: crate::disk::DiskCmd| -> Result<i32, Failure> {
            let mut g3 = g2.clone();
            g3.now = Some(at.format(&Rfc3339).expect("time"));
            g3.quiet = true;
            g3.json = false;
            crate::disk::run(cmd, &g3, lang)
        };
        use crate::disk::args::{DiskCmd, SimCmd as DiskSim};
        let rdx = || "rdx".to_owned();
        disk(
            setup,
            DiskCmd::Sim(DiskSim::Create {
                pool: rdx(),
                slots: None,
            }),
        )?;
        disk(
            setup,
            DiskCmd::Sim(DiskSim::Insert {
                pool: rdx(),
                medium: "RDX-1".into(),
                slot: None,
            }),
        )?;
        disk(
            setup,
            DiskCmd::Format {
                pool: rdx(),
                medium: "RDX-1".into(),
                force: false,
                relabel: None,
            },
        )?;
        disk(
            night + Duration::hours(1),
            DiskCmd::Backup {
                pool: rdx(),
                snapshots: vec![first_id.to_hex()],
                verify: true,
            },
        )?;
        say(format!(
            "  {} {} → RDX-1 ({})",
            t(
                lang,
                "RDX (SIMULATED drive): snapshot",
                "RDX（模擬ドライブ）: スナップショット"
            ),
            first_id.short(),
            t(
                lang,
                "verified, unmounted and ejected",
                "検証済み、アンマウントして排出"
            )
        ));
    }
    // The first night also goes to the S3 bucket under a COMPLIANCE lock,
    // and the bucket's enforcement is probed.
    if let (Ok(_), Some((first_id, first))) = (&s3, snaps.get(tail)) {
        let night = OffsetDateTime::parse(&first.time, &Rfc3339).unwrap_or(last_night);
        let mut g3 = g2.clone();
        g3.now = Some(
            (night + Duration::minutes(90))
                .format(&Rfc3339)
                .expect("time"),
        );
        g3.quiet = true;
        g3.json = false;
        let ctx = crate::ctx::SiteCtx::new(&g3, lang)?;
        crate::s3::copy(&ctx, "s3:cloud", &[first_id.to_hex()])?;
        // moto lets a compliance retention be shortened: the check says so
        // (exit 1) and the copy counts only as weaker.
        let _ = crate::s3::run(
            crate::s3::S3Cmd::Check {
                name: "cloud".into(),
            },
            &g3,
            lang,
        );
        say(format!(
            "  {} {} → s3://hokan-demo/demo ({})",
            t(lang, "S3 (a local moto server, no cloud account): snapshot", "S3（ローカルの moto サーバー、クラウド契約不要）: スナップショット"),
            first_id.short(),
            t(
                lang,
                "COMPLIANCE lock for 28 days; the probe found the retention could be shortened, so it counts only as weaker ③-1",
                "コンプライアンスモードで 28 日ロック。検査で保持期間を短縮できたため、弱い ③-1 として数えます"
            )
        ));
    } else if let Err(why) = &s3 {
        say(format!(
            "  S3: {} ({why})",
            t(
                lang,
                "skipped — no local S3 server; `pip install 'moto[server]'` adds it, or point [[s3]] at AWS, Wasabi or MinIO (README)",
                "省略 — ローカルの S3 サーバーがありません。`pip install 'moto[server]'` で追加するか、[[s3]] を AWS・Wasabi・MinIO に向けてください（README）"
            )
        ));
    }
    // Someone loads last night's cartridge back into the drive to look at
    // it, and forgets it there.
    tape(
        last_night + Duration::minutes(50),
        TapeCmd::Move {
            pool: pool(),
            medium: last_tape.into(),
            to: "drive".into(),
        },
    )?;
    say(format!(
        "  {} {last_tape} {}",
        t(lang, "after the last job,", "最後のジョブの後、"),
        t(
            lang,
            "was loaded back into the drive and left there",
            "がドライブに戻され、入ったままです"
        )
    ));
    let cat = Catalog::open(&cat_path).map_err(|e| fail(lang, e))?;

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
        let _ = site::run(
            SiteCommand::Status(Default::default()),
            &with_now(morning),
            lang,
        );
    }

    // The operator unloads the tape; the library reports it in its slot.
    let fixed_at = morning + Duration::minutes(10);
    tape(
        fixed_at,
        TapeCmd::Move {
            pool: pool(),
            medium: last_tape.into(),
            to: "slot".into(),
        },
    )?;
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
        let _ = site::run(
            SiteCommand::Status(Default::default()),
            &with_now(after_at),
            lang,
        );
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
    let night = tonight(dir, &g2, lang, last_night + Duration::days(1), say)?;
    let ok = !before.compliant && after.compliant && night["outcome"] == "ok";
    Ok((
        json!({
            "night": night,
            "config": config,
            "catalog": cat_path,
            "report": report,
            "morning": {"at": morning, "compliant": before.compliant, "problems": before.all_problems()},
            "after_unload": {"at": after_at, "compliant": after.compliant},
        }),
        ok,
    ))
}

/// The next night, as a site runs it: `hokan run --dry-run` shows the plan
/// and what a person must do first; the person does it (inserts the RDX
/// cartridge, adds a fresh tape: the three in the library are retained);
/// then `hokan run` runs the whole night — backup, tape, RDX, S3 — as one
/// job. Returns the night's summary (as `hokan run --json` prints it).
fn tonight(
    dir: &Path,
    g: &Global,
    lang: Lang,
    at: OffsetDateTime,
    say: &dyn Fn(String),
) -> Result<Value, Failure> {
    let mut g3 = g.clone();
    g3.now = Some(at.format(&Rfc3339).expect("time"));
    g3.quiet = true;
    g3.json = true;
    let ctx = crate::ctx::SiteCtx::new(&g3, lang)?;
    let site = ctx.conf.loaded.clone().expect("the demo config loads");
    let steps = hokan_jobs::night::plan(
        &site,
        &hokan_jobs::night::History::default(),
        at.to_offset(ctx.offset()),
    );
    let media = crate::night::media_tonight(&ctx, &site, &steps, at, &|_| true);
    say(format!(
        "\n11. {}",
        t(
            lang,
            "the next night — `hokan run --dry-run`, then `hokan run`:",
            "次の夜 — `hokan run --dry-run`、続いて `hokan run`:"
        )
    ));
    for s in steps.iter().filter(|s| s.due()) {
        say(format!(
            "  {} hokan {}",
            t(lang, "plan:", "予定:"),
            crate::night::args(s).join(" ")
        ));
    }
    for m in &media {
        if let Some(f) = crate::night::first_step(lang, m) {
            say(format!(
                "  {} {f}",
                t(lang, "a person must first:", "事前作業:")
            ));
        }
    }
    // The person: the RDX cartridge into the drive, a fresh tape into the
    // library.
    let before = at - Duration::hours(2);
    let mut g4 = g3.clone();
    g4.now = Some(before.format(&Rfc3339).expect("time"));
    g4.json = false;
    use crate::disk::args::{DiskCmd, SimCmd as DiskSim};
    crate::disk::run(
        DiskCmd::Sim(DiskSim::Insert {
            pool: "rdx".into(),
            medium: "RDX-1".into(),
            slot: None,
        }),
        &g4,
        lang,
    )?;
    let tape = |cmd: TapeCmd| crate::tape::run(cmd, &g4, lang);
    tape(TapeCmd::Sim(SimCmd::Insert {
        pool: "weekday".into(),
        barcode: "HKN004L9".into(),
        capacity: "12TiB".into(),
        write_protected: false,
    }))?;
    tape(TapeCmd::Label {
        pool: "weekday".into(),
        medium: "HKN004L9".into(),
    })?;
    say(format!(
        "  {}",
        t(
            lang,
            "done: RDX-1 inserted, a fresh tape HKN004L9 added (the three others are retained for 28 days)",
            "実施: RDX-1 を挿入、新しいテープ HKN004L9 を追加（他の3本は28日間保持中）"
        )
    ));
    let data = dir.join("data").join("tonight.txt");
    fs::write(&data, format!("night of {at}\n")).map_err(|e| super::io(lang, &data, e))?;
    let (_, summary) = crate::night::night(&ctx, &site, &steps)?;
    for s in summary["night"]["steps"].as_array().into_iter().flatten() {
        let args: Vec<&str> = s["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .collect();
        say(format!(
            "  {:<8} hokan {} ({:.1} s)",
            s["outcome"].as_str().unwrap_or("?"),
            args.join(" "),
            s["seconds"].as_f64().unwrap_or(0.0)
        ));
    }
    say(format!(
        "  {}: {} ({})",
        t(lang, "the night", "夜間ジョブ"),
        summary["outcome"].as_str().unwrap_or("?"),
        t(
            lang,
            "one job in the catalog: hokan catalog jobs",
            "カタログに1件のジョブとして記録: hokan catalog jobs"
        )
    ));
    Ok(summary)
}

fn fail(lang: Lang, e: hokan_catalog::CatalogError) -> Failure {
    Failure::new(crate::exit::ERROR, crate::ctx::pick(lang, &e.text()))
}

/// The cartridge holding the copy of `snapshot` (hex), from the catalog.
fn cat_media_with_copy(cat_path: &Path, snapshot: &str, lang: Lang) -> Result<String, Failure> {
    let cat = Catalog::open(cat_path).map_err(|e| fail(lang, e))?;
    let copies = cat.copies().map_err(|e| fail(lang, e))?;
    copies
        .into_iter()
        .find(|c| c.snapshot.as_str() == snapshot && c.medium.as_str() != "primary")
        .map(|c| c.medium.to_string())
        .ok_or_else(|| {
            Failure::new(
                crate::exit::ERROR,
                format!("demo: no tape copy of {snapshot} in the catalog"),
            )
        })
}

/// Start a local S3 server with object lock for the demo (moto, when it is
/// installed) and its locked bucket; the secret goes beside hokan.toml.
fn local_s3(dir: &Path) -> Result<hokan_s3::local::MotoServer, String> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return Err("python3 -c 'import moto.server' failed".into());
    }
    let m = hokan_s3::local::MotoServer::start()?;
    m.create_locked_bucket("hokan-demo")?;
    fs::write(
        dir.join("s3-secret"),
        format!("{}\n", hokan_s3::local::SECRET),
    )
    .map_err(|e| e.to_string())?;
    Ok(m)
}

/// The demo's last step: a restore drill from the tape library alone,
/// recorded in the catalog (so the annex written after it shows it), at
/// the real time (not ahead of it like the vault's step: a report or annex
/// a person makes right after the demo must show it). Returns its JSON and
/// whether it passed.
pub fn drill(
    dir: &Path,
    g: &Global,
    lang: Lang,
    say: &dyn Fn(String),
) -> Result<(Value, bool), Failure> {
    let g2 = at_real_time(g, &dir.join("hokan.toml"), 0);
    let ctx = crate::ctx::SiteCtx::new(&g2, lang)?;
    let scratch = dir.join("drill-scratch");
    let _ = fs::remove_dir_all(&scratch);
    let args = crate::drill::DrillArgs {
        source: None,
        medium: None,
        kind: Some("tape".into()),
        snapshot: None,
        target: Some(scratch),
        keep: false,
        by: Some("hokan demo".into()),
    };
    say(format!(
        "\n13. {}",
        t(
            lang,
            "restore drill (復旧訓練) from the tape library alone, checked, timed and recorded (`hokan drill`)",
            "テープライブラリだけからの復旧訓練: 照合・計時して記録（`hokan drill`）"
        )
    ));
    let drilled = crate::drill::drills(&ctx, &args)?;
    let mut out = Vec::new();
    for d in &drilled.done {
        if !g.json {
            crate::drill::print_human(lang, d);
        }
        out.push(
            json!({"medium": d.pick.medium, "kind": d.pick.class, "ok": d.stats.ok(),
            "files_checked": d.stats.files_checked, "meets_rto": d.stats.meets_rto()}),
        );
    }
    let ok = !drilled.done.is_empty() && drilled.done.iter().all(|d| d.stats.ok());
    Ok((json!(out), ok))
}

/// Write the rulebook annex (`hokan annex --lang ja`) beside the report, as
/// `annex-ja.html`, once every target of the demo (the vault included) is
/// in hokan.toml: judged at the real time, like the vault's step. The annex
/// is the Japanese one whatever language the demo speaks.
pub fn write_annex(dir: &Path, g: &Global) -> Result<PathBuf, Failure> {
    let annex = dir.join("annex-ja.html");
    let g2 = at_real_time(g, &dir.join("hokan.toml"), 3);
    let ctx = crate::ctx::SiteCtx::new(&g2, Lang::Ja)?;
    site::annex::write(&ctx, AnnexFormat::Html, &annex)?;
    Ok(annex)
}

/// The demo site's options for the steps after its simulated nights (the
/// vault, the drill, the annex): its hokan.toml, judged `minutes` after the
/// real time, so that each step sees the one before.
pub fn at_real_time(g: &Global, config: &Path, minutes: i64) -> Global {
    let mut g2 = g.clone();
    g2.config = Some(config.to_owned());
    g2.repo = None;
    g2.catalog = None;
    g2.now = Some(
        (OffsetDateTime::now_utc() + Duration::minutes(minutes))
            .format(&Rfc3339)
            .expect("time"),
    );
    g2
}
