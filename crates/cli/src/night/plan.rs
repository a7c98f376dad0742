//! The night's plan: which steps run tonight and which are not due, each
//! pool's cartridge for tonight and what a person must do first (asked
//! from the devices), as `run --dry-run`, `status` and the notices show it.

use hokan_jobs::night::{plan, History, Step};
use hokan_jobs::rotation::{FirstStep, RotationPlan, Tonight};
use hokan_offline::MediumId;
use hokan_site::{Site, TargetKind};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{args, why_not};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;

/// Tonight's cartridge of a disk pool and what a person must do first,
/// as `--dry-run` and the night's notices say it.
#[derive(Clone, Debug)]
pub struct Medium {
    /// The pool.
    pub target: String,
    /// The plan (the device asked when it could be).
    pub plan: RotationPlan,
    /// A tape pool (else a disk pool).
    pub tape: bool,
    /// Why the device could not be asked, if it could not.
    pub unknown: Option<String>,
}

/// The catalog's copies per target and the nights' times (an empty
/// history before the catalog exists).
pub(super) fn history(ctx: &SiteCtx<'_>) -> Result<History, Failure> {
    if !ctx.catalog_path()?.is_file() {
        return Ok(History::default());
    }
    let cat = ctx.catalog()?;
    History::from_catalog(&cat).map_err(|e| crate::job_error::failure(ctx.lang, &e))
}

/// Tonight's plan as `status` shows it: the steps due tonight and each
/// pool's cartridge, with what a person must do first. Only the devices of
/// the pools `ask` names are asked what they reach (`status` asks those
/// that answered its observation within the time limit, so a hanging
/// device cannot hold it); the others get the plan alone, marked unknown.
/// `None` without a hokan.toml.
///
/// "Tonight" is the coming night: the next time of `[site] schedule` after
/// the last night started (now, when that time has passed and the night has
/// not run), or without a site schedule the end of today.
pub fn tonight(ctx: &SiteCtx<'_>, ask: &dyn Fn(&str) -> bool) -> Option<(Vec<Step>, Vec<Medium>)> {
    let site = ctx.conf.loaded.as_ref()?;
    let history = history(ctx).ok()?;
    let now = ctx.now.to_offset(ctx.offset());
    let at = hokan_jobs::night::coming_night(site, &history, now);
    let steps = plan(site, &history, at);
    let media = media_tonight(ctx, site, &steps, at, ask);
    Some((steps, media))
}

/// The JSON of tonight's plan (`run --dry-run --json`, `status --json`).
pub fn plan_json(l: crate::i18n::Lang, steps: &[Step], media: &[Medium]) -> Value {
    let v: Vec<Value> = steps
        .iter()
        .map(|s| json!({"command": format!("hokan {}", args(s).join(" ")), "target": s.target, "due": s.due(), "why_not": s.skip.as_ref().map(|w| why_not(crate::i18n::Lang::En, w))}))
        .collect();
    let m: Vec<Value> = media
        .iter()
        .map(|m| {
            json!({
                "target": m.target,
                "tonight": tonight_text(l, m),
                "first": first_step(l, m),
                "device_unknown": m.unknown,
            })
        })
        .collect();
    json!({"steps": v, "media": m})
}

/// Tonight's plan in a few lines (`status`).
pub fn render_tonight(l: crate::i18n::Lang, steps: &[Step], media: &[Medium]) -> String {
    let mut o = String::new();
    let due: Vec<String> = steps
        .iter()
        .filter(|s| s.due())
        .map(|s| format!("hokan {}", args(s).join(" ")))
        .collect();
    o.push_str(&format!(
        "\n{}\n  {}\n",
        t(l, "Tonight (hokan run):", "今夜（hokan run）:"),
        due.join(", ")
    ));
    for m in media {
        o.push_str(&format!(
            "  {} {}: {}\n",
            t(l, "cartridge of", "カートリッジ"),
            m.target,
            tonight_text(l, m)
        ));
        if let Some(f) = first_step(l, m) {
            o.push_str(&format!("  → {f}\n"));
        }
    }
    o
}

/// Tonight's cartridge of every tape library and disk pool due tonight,
/// and whether its device reaches one it may write now (so a person knows
/// what to insert first); only the devices of pools `ask` names are asked.
pub fn media_tonight(
    ctx: &SiteCtx<'_>,
    site: &Site,
    steps: &[Step],
    at: OffsetDateTime,
    ask: &dyn Fn(&str) -> bool,
) -> Vec<Medium> {
    let mut out = Vec::new();
    for target in site.targets() {
        let name = target.name.as_str();
        if !steps
            .iter()
            .any(|s| s.due() && s.target.as_deref() == Some(name))
        {
            continue;
        }
        if let Some(m) = medium_plan(ctx, target, at, ask(name)) {
            out.push(m);
        }
    }
    out
}

/// The rotation plan of a disk pool or a tape library's pool at `at`,
/// asking its device what it reaches now (a tape library: which pool
/// cartridges it holds and whether one may be written). `None` for other
/// targets. `ask`: whether to ask the device (else the plan alone, marked
/// unknown).
pub(super) fn medium_plan(
    ctx: &SiteCtx<'_>,
    target: &hokan_site::Target,
    at: OffsetDateTime,
    ask: bool,
) -> Option<Medium> {
    let name = target.name.as_str().to_owned();
    let local = at.to_offset(ctx.offset());
    let not_asked = || {
        Err(Failure::new(
            exit::ERROR,
            t(
                ctx.lang,
                "its device was not asked (it did not answer in time, or devices were not observed)",
                "装置に問い合わせていません（時間内に応答がないか、装置を確認していません）",
            ),
        ))
    };
    let (plan, tape, asked) = match &target.kind {
        TargetKind::DiskPool(conf) => {
            let plan = RotationPlan::disk(conf.rotation, &conf.cartridges, local);
            let asked = if ask {
                reachable(ctx, &name).map(|r| plan.clone().reaching(&r))
            } else {
                not_asked()
            };
            (plan, false, asked)
        }
        TargetKind::TapePool(conf) if conf.mode == hokan_site::TapeMode::Library => {
            let plan = RotationPlan {
                tonight: Tonight::Any,
                first: None,
            };
            let asked = if ask {
                tape_plan(ctx, &name, local)
            } else {
                not_asked()
            };
            (plan, true, asked)
        }
        _ => return None,
    };
    Some(match asked {
        Ok(plan) => Medium {
            target: name,
            plan,
            tape,
            unknown: None,
        },
        Err(e) => Medium {
            target: name,
            plan,
            tape,
            unknown: Some(e.message),
        },
    })
}

/// A tape library pool's plan from what the library holds now.
fn tape_plan(ctx: &SiteCtx<'_>, pool: &str, at: OffsetDateTime) -> Result<RotationPlan, Failure> {
    use crate::tape::devices::DevicesExt;
    let p = crate::tape::pool(ctx, pool)?;
    let cat = ctx.catalog()?;
    let mut dev = hokan_jobs::tape::library::Devices::open(&p, ctx.lang)?;
    let status = dev.status_in(ctx.lang)?;
    let cands = hokan_jobs::rotation::tape::candidates(&cat, pool, &status)
        .map_err(|e| crate::job_error::failure(ctx.lang, &e))?;
    Ok(RotationPlan::tape(&cands, at))
}

/// The pool cartridges a disk pool's device reaches now.
fn reachable(ctx: &SiteCtx<'_>, pool: &str) -> Result<Vec<MediumId>, Failure> {
    let pool = crate::disk::pool(ctx, pool)?;
    let cat = ctx.catalog()?;
    let media = cat.media().map_err(|e| ctx.catalog_failure(&e))?;
    let mut dev = crate::disk::device::open(ctx, &pool, &cat)?;
    let st = dev
        .status()
        .map_err(|e| crate::disk::disk_failure(ctx.lang, &e))?;
    Ok(st
        .cartridges
        .iter()
        .filter_map(|c| {
            crate::disk::device::medium_of(c, &media)
                .or_else(|| c.fs_label.as_deref().map(MediumId::new))
        })
        .collect())
}

/// What a person must do first for `m`, in the run's language.
pub fn first_step(l: crate::i18n::Lang, m: &Medium) -> Option<String> {
    Some(match m.plan.first.as_ref()? {
        FirstStep::Insert(c) => format!(
            "{} {c} {}",
            t(l, "insert", "カートリッジ"),
            t(
                l,
                &format!("into the drive of pool {} before the night's job", m.target),
                &format!(
                    "をプール {} のドライブに夜間ジョブの前に挿入してください",
                    m.target
                ),
            )
        ),
        FirstStep::InsertAnyOfPool if m.tape => t(
            l,
            &format!("put a labelled cartridge of pool {} whose retention has passed (or a new one, then hokan tape label) into the library before the night's job: the ones there are retained", m.target),
            &format!("夜間ジョブの前に、保持期間が過ぎたプール {} のラベル付きカートリッジ（または新しいものに hokan tape label）をライブラリに入れてください。中にあるものは保持期間中です", m.target),
        )
        .to_owned(),
        FirstStep::InsertAnyOfPool => format!(
            "{} {}",
            t(l, "insert a formatted cartridge of pool", "プール"),
            t(
                l,
                &format!("{} before the night's job", m.target),
                &format!(
                    "{} のフォーマット済みカートリッジを夜間ジョブの前に挿入してください",
                    m.target
                ),
            )
        ),
    })
}

fn tonight_text(l: crate::i18n::Lang, m: &Medium) -> String {
    match &m.plan.tonight {
        Tonight::Cartridge(c) => c.to_string(),
        Tonight::NoneToday(d) => format!("{} ({d})", t(l, "none today", "本日なし")),
        Tonight::Any => t(l, "any cartridge of the pool", "プールのどれでも").to_owned(),
    }
}

pub(super) fn print_plan(
    ctx: &SiteCtx<'_>,
    steps: &[Step],
    media: &[Medium],
) -> Result<i32, Failure> {
    let l = ctx.lang;
    if ctx.g.json {
        let mut v = plan_json(l, steps, media);
        v["dry_run"] = json!(true);
        print_json(&v);
        return Ok(exit::OK);
    }
    println!(
        "{}",
        t(
            l,
            "Tonight's plan (nothing was run):",
            "今夜の予定（何も実行していません）:"
        )
    );
    for s in steps {
        let cmd = format!("hokan {}", args(s).join(" "));
        match &s.skip {
            None => println!("  {} {cmd}", t(l, "run ", "実行")),
            Some(skip) => println!("  {} {cmd}: {}", t(l, "skip", "省略"), why_not(l, skip)),
        }
    }
    for m in media {
        println!(
            "{} {}: {}",
            t(l, "Tonight's cartridge of", "今夜のカートリッジ:"),
            m.target,
            tonight_text(l, m)
        );
        if let Some(why) = &m.unknown {
            println!(
                "  {}: {why}",
                t(
                    l,
                    "the device could not be asked",
                    "装置に問い合わせできません"
                )
            );
        }
    }
    let firsts: Vec<String> = media.iter().filter_map(|m| first_step(l, m)).collect();
    if !firsts.is_empty() {
        println!("{}", t(l, "A person must first:", "事前に人が行うこと:"));
        for f in firsts {
            println!("  - {f}");
        }
    }
    Ok(exit::OK)
}
