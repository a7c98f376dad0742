//! `hokan drill`: restore drills (復旧訓練) from each kind of offline medium
//! alone, timed, checked and recorded in the catalog. The drill itself is
//! [`hokan_jobs::drill`]; here the medium is opened (a disk cartridge
//! attached, a tape set read back, a bucket's first versions), the result
//! printed and recorded. A vault drills itself (`hokan vault drill`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use hokan_catalog::{AppCheck, DrillFailure, Event};
use hokan_jobs::drill::{self, DrillFilter, DrillPick, DrillRun, DrillStats, MediumClass};
use hokan_repo::Repository;
use serde_json::json;

use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::job_error::failure as job_failure;
use crate::progress::Bar;
use crate::Global;

/// `hokan drill` arguments.
#[derive(Args, Debug)]
pub struct DrillArgs {
    /// Only this source (default: every source).
    #[arg(long)]
    pub source: Option<String>,
    /// Only this medium (a cartridge, a bucket) or the media of this pool.
    #[arg(long, conflicts_with = "kind")]
    pub medium: Option<String>,
    /// Only this kind of medium: tape, disk, s3, vault.
    #[arg(long, value_parser = ["tape", "disk", "s3", "vault"])]
    pub kind: Option<String>,
    /// This generation (an id or a prefix) instead of the newest offline one.
    #[arg(long)]
    pub snapshot: Option<String>,
    /// The scratch folder to restore into (default: a new folder under the
    /// system's temporary folder). Refused inside a source's paths.
    #[arg(long)]
    pub target: Option<PathBuf>,
    /// Keep the restored files (default: removed after the checks).
    #[arg(long)]
    pub keep: bool,
    /// Who runs the drill, for the record (default: the login name).
    #[arg(long)]
    pub by: Option<String>,
}

/// One drill done: what was drilled, where, and what it found.
pub struct Done {
    /// The generation and medium.
    pub pick: DrillPick,
    /// The scratch folder.
    pub target: PathBuf,
    /// What it measured and found.
    pub stats: DrillStats,
}

/// The drills `hokan drill` ran.
pub struct Drilled {
    /// Each drill, recorded in the catalog.
    pub done: Vec<Done>,
    /// Generations on vaults: drilled on the vault (`hokan vault drill`).
    pub on_the_vault: Vec<DrillPick>,
    /// Drills that could not be attempted, and why (a cartridge to insert):
    /// nothing recorded for them.
    pub not_attempted: Vec<(DrillPick, Failure)>,
    /// Who ran them.
    pub by: String,
}

/// Run `hokan drill`.
pub fn run(a: DrillArgs, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    let l = lang;
    let Drilled {
        done,
        on_the_vault: skipped,
        mut not_attempted,
        by,
    } = drills(&ctx, &a)?;
    print(g, l, &done, &skipped, &not_attempted, &by);
    // Exit 1 for a failed drill; else the reason one could not be
    // attempted (13: a cartridge to insert), said once more last.
    if !done.iter().all(|d| d.stats.ok()) {
        return Ok(exit::ERROR);
    }
    if let Some((_, f)) = not_attempted.pop() {
        return Err(f);
    }
    if done.is_empty() {
        return Err(Failure::new(exit::ERROR, on_the_vault(l).to_owned()));
    }
    Ok(exit::OK)
}

/// Run the drills `a` asks for on the site of `ctx`, each recorded in the
/// catalog.
pub fn drills(ctx: &SiteCtx<'_>, a: &DrillArgs) -> Result<Drilled, Failure> {
    let (g, l) = (ctx.g, ctx.lang);
    let Some(site) = ctx.conf.loaded.clone() else {
        return Err(Failure::new(
            exit::CONFIG,
            t(
                l,
                "hokan drill needs a site configuration: pass --config hokan.toml",
                "hokan drill には設定ファイルが必要です: --config hokan.toml を指定してください",
            ),
        ));
    };
    let judged = ctx.judge()?;
    let filter = DrillFilter {
        source: a.source.clone(),
        medium: a.medium.clone(),
        class: a.kind.as_deref().and_then(MediumClass::parse),
        snapshot: a.snapshot.clone(),
    };
    let picks = drill::choose(&judged.evaluation, &filter);
    if picks.is_empty() {
        return Err(Failure::new(
            exit::ERROR,
            t(
                l,
                "nothing to drill: no offline generation matches (see `hokan status`)",
                "訓練できるものがありません: 条件に合うオフライン世代がありません（`hokan status` を確認してください）",
            ),
        ));
    }
    let sources: Vec<(String, Vec<PathBuf>)> = site
        .sources()
        .iter()
        .map(|s| (s.name.to_string(), s.paths.clone()))
        .collect();
    let by =
        a.by.clone()
            .or_else(|| std::env::var("SUDO_USER").ok())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| "unknown".into());
    let snapshots = ctx
        .catalog()?
        .snapshots()
        .map_err(|e| ctx.catalog_failure(&e))?;
    let stamp = ctx.now.unix_timestamp();
    let mut done = Vec::new();
    let mut skipped = Vec::new();
    let mut not_attempted = Vec::new();
    for pick in picks {
        if pick.class == MediumClass::Vault {
            // The vault is reached only by its own pulls: its drill runs
            // there and comes back in its signed receipt.
            skipped.push(pick);
            continue;
        }
        let target = match (&a.target, done.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => t.join(format!("{}-{}", pick.source, pick.class.as_str())),
            (None, _) => std::env::temp_dir().join(format!(
                "hokan-drill-{}-{}-{stamp}-{}",
                pick.source,
                pick.class.as_str(),
                std::process::id()
            )),
        };
        drill::check_target(
            &target,
            sources.iter().map(|(n, p)| (n.as_str(), p.as_slice())),
        )
        .map_err(|e| job_failure(l, &e))?;
        let source = site.sources().iter().find(|s| s.name == pick.source);
        let whole_bytes = snapshots
            .iter()
            .filter(|s| s.source == pick.source && !s.partial)
            .max_by_key(|s| s.taken_at)
            .map(|s| s.bytes);
        if !g.json && !g.quiet {
            println!(
                "{} {} ({}) {} {} → {}",
                t(l, "drill:", "復旧訓練:"),
                pick.source,
                &pick.snapshot.as_str()[..pick.snapshot.as_str().len().min(8)],
                t(l, "from", "媒体"),
                pick.medium,
                target.display()
            );
        }
        let started_at = ctx.now;
        let bar = Bar::new(
            g.quiet,
            g.json,
            l,
            &format!("{} {}", pick.source, pick.medium),
        );
        let with_repo = |repo: Result<Repository, Failure>, before: Duration| -> DrillStats {
            let repo = match repo {
                Ok(r) => r,
                Err(f) => return unopened(&pick, f),
            };
            let found = match repo.find_snapshot_with(pick.snapshot.as_str(), None, false) {
                Ok(f) => f,
                Err(e) => return unopened(&pick, Failure::new(exit::DAMAGE, e.to_string())),
            };
            drill::run(
                &DrillRun {
                    repo: &repo,
                    snapshot: &found.id,
                    target: &target,
                    check: source.and_then(|s| s.drill.as_ref()),
                    keep: a.keep,
                    whole_bytes,
                    rto: source.and_then(|s| s.rto),
                    before,
                },
                &bar,
            )
        };
        let open = |dir: &std::path::Path| crate::ctx::open::open_repository(g, l, dir, &ctx.conf);
        let pool_name = pick
            .pool
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default();
        // A medium that cannot be opened now (a cartridge to insert, a set
        // away from the library) is no drill: said at the end, the other
        // kinds still drilled.
        let opened = (|| -> Result<DrillStats, Failure> {
            Ok(match pick.class {
                MediumClass::Disk => {
                    let pool = crate::disk::pool(ctx, &pool_name)?;
                    crate::disk::drill::with_cartridge(ctx, &pool, &pick.medium, |dir| {
                        Ok(with_repo(open(dir), Duration::ZERO))
                    })?
                }
                MediumClass::Tape => {
                    let pool = crate::tape::pool(ctx, &pool_name)?;
                    bar.say(
                        t(
                            l,
                            "reading the set from tape",
                            "テープからセットを読み込み中",
                        )
                        .into(),
                    );
                    crate::tape::drill::with_set(
                        ctx,
                        &pool,
                        &pick.medium,
                        pick.snapshot.as_str(),
                        &target,
                        |dir, before| with_repo(dir.and_then(open), before),
                    )?
                }
                MediumClass::S3 => {
                    let bucket = crate::s3::target(ctx, &pool_name)?;
                    let start = Instant::now();
                    let repo = crate::s3::manage::first_versions(ctx, &bucket);
                    with_repo(repo, start.elapsed())
                }
                MediumClass::Vault => unreachable!("skipped above"),
            })
        })();
        bar.finish();
        let stats = match opened {
            Ok(stats) => stats,
            Err(f) => {
                not_attempted.push((pick, f));
                continue;
            }
        };
        let mut cat = ctx.catalog()?;
        cat.record(
            ctx.now,
            "hokan drill",
            Event::Drilled {
                snapshot: pick.snapshot.clone(),
                medium: pick.medium.clone(),
                started_at,
                seconds: stats.seconds,
                ok: stats.ok(),
                by: Some(by.as_str().into()),
                detail: stats.detail(),
                measured: Some(stats.measures(pick.class, pick.source.as_str(), &target)),
            },
        )
        .map_err(|e| ctx.catalog_failure(&e))?;
        done.push(Done {
            pick,
            target,
            stats,
        });
    }
    Ok(Drilled {
        done,
        on_the_vault: skipped,
        not_attempted,
        by,
    })
}

fn print(
    g: &Global,
    l: Lang,
    done: &[Done],
    skipped: &[DrillPick],
    not_attempted: &[(DrillPick, Failure)],
    by: &str,
) {
    if g.json {
        let v: Vec<_> = done
            .iter()
            .map(|d| {
                json!({
                    "source": d.pick.source,
                    "kind": d.pick.class,
                    "pool": d.pick.pool,
                    "medium": d.pick.medium,
                    "snapshot": d.pick.snapshot,
                    "taken_at": d.pick.taken_at.format(&time::format_description::well_known::Rfc3339).ok(),
                    "target": d.target,
                    "ok": d.stats.ok(),
                    "by": by,
                    "meets_rto": d.stats.meets_rto(),
                    "stats": d.stats,
                })
            })
            .collect();
        print_json(&json!({
            "drills": v,
            "on_the_vault": skipped,
            "not_attempted": not_attempted
                .iter()
                .map(|(p, f)| json!({"pick": p, "exit_code": f.code, "why": f.message}))
                .collect::<Vec<_>>(),
            "ok": done.iter().all(|d| d.stats.ok()) && not_attempted.is_empty(),
        }));
    } else {
        for d in done {
            print_human(l, d);
        }
        for p in skipped {
            println!(
                "{} {} / vault {}: {}",
                t(l, "drill of", "復旧訓練"),
                p.source,
                p.medium,
                on_the_vault(l)
            );
        }
        for (p, f) in not_attempted {
            println!(
                "{} {} / {} {}: {} {}",
                t(l, "drill of", "復旧訓練"),
                p.source,
                p.class.as_str(),
                p.medium,
                t(l, "NOT ATTEMPTED:", "未実施:"),
                f.message
            );
        }
    }
}

/// A vault is drilled on the vault: the primary has no way in to it.
fn on_the_vault(l: Lang) -> &'static str {
    t(
        l,
        "run `hokan vault drill` on the vault: the primary has no way in to a vault; the result comes back in the vault's signed receipt",
    "保管サーバ上で `hokan vault drill` を実行してください（本番サーバから保管サーバへは接続できません）。結果は保管サーバの署名付き受領証で届きます",
    )
}

/// A drill whose medium's repository could not even be opened: failed,
/// naming the medium and why.
fn unopened(pick: &DrillPick, f: Failure) -> DrillStats {
    DrillStats {
        failures: vec![DrillFailure {
            what: format!("{} ({})", pick.medium, pick.class.as_str()),
            why: f.message,
        }],
        ..DrillStats::default()
    }
}

fn secs(l: Lang, s: f64) -> String {
    let s = s.max(0.0);
    if s < 120.0 {
        format!("{s:.1}{}", t(l, " s", " 秒"))
    } else if s < 7200.0 {
        format!("{:.1}{}", s / 60.0, t(l, " min", " 分"))
    } else {
        format!("{:.1}{}", s / 3600.0, t(l, " h", " 時間"))
    }
}

/// A drill's result for a person (also the demo's last step).
pub(crate) fn print_human(l: Lang, d: &Done) {
    print_stats(
        l,
        &format!(
            "{} / {} {}",
            d.pick.source,
            d.pick.class.as_str(),
            d.pick.medium
        ),
        &d.stats,
        &d.target,
    );
}

/// A drill's figures and findings for a person: `what` names the source
/// and the medium; `target` is where the files were restored.
pub(crate) fn print_stats(l: Lang, what: &str, st: &DrillStats, target: &std::path::Path) {
    let verdict = if st.ok() {
        t(l, "PASSED", "成功")
    } else {
        t(l, "FAILED", "失敗")
    };
    println!("{} {what}: {verdict}", t(l, "drill of", "復旧訓練"));
    println!(
        "  {} {}, {} {}, {} {} ({}/s), {} {}",
        t(l, "first file after", "最初のファイルまで"),
        st.first_file_secs.map_or("-".into(), |s| secs(l, s)),
        t(l, "total", "合計"),
        secs(l, st.seconds),
        Bytes(st.bytes),
        t(l, "restored", "を復元"),
        Bytes(st.throughput as u64),
        st.files_checked,
        t(l, "files checked", "ファイルを照合"),
    );
    if let Some(c) = st.app_check {
        println!(
            "  {} {}",
            t(l, "application check:", "アプリケーション確認:"),
            match c {
                AppCheck::Passed => t(l, "passed", "成功"),
                AppCheck::Failed => t(l, "FAILED", "失敗"),
                AppCheck::TimedOut => t(l, "FAILED (timed out, stopped)", "失敗（時間切れで停止）"),
                AppCheck::NotRun => t(l, "not run (the restore failed)", "未実行（復元が失敗）"),
            }
        );
    }
    if let Some(p) = st.projected_secs {
        let rto = match (st.rto_secs, st.meets_rto()) {
            (Some(r), Some(true)) => format!(
                " — {} {}",
                t(
                    l,
                    "meets the recovery-time target",
                    "目標復旧時間を満たします:"
                ),
                secs(l, r)
            ),
            (Some(r), _) => format!(
                " — {} {}",
                t(
                    l,
                    "MISSES the recovery-time target",
                    "目標復旧時間を超えます:"
                ),
                secs(l, r)
            ),
            _ => String::new(),
        };
        println!(
            "  {} {}{rto}",
            t(
                l,
                "whole source from this kind of medium: about",
                "この種類の媒体から対象全体を復元する見込み: 約"
            ),
            secs(l, p)
        );
    }
    for f in &st.failures {
        println!("  {} {}: {}", t(l, "FAILED:", "失敗:"), f.what, f.why);
    }
    if st.kept {
        println!(
            "  {} {}",
            t(l, "restored files kept in", "復元したファイルの保存先:"),
            target.display()
        );
    }
}
