//! `hokan disk format|status|eject` (`disk restore` is in
//! [`super::restore`]): the arguments in, the result out; the logic is
//! [`hokan_jobs::disk::format`] and [`hokan_jobs::disk::status`].

use hokan_disk::LABEL_FILE;
use hokan_jobs::disk::anchor::OnCartridge;
use hokan_jobs::disk::format::FormatRequest;
use hokan_jobs::disk::status::{observe, pool_media, retained_until};
use serde_json::json;

use super::failure::{attach_failure, disk_job_failure, format_failure, put_away_text};
use super::{device, pool_ref, Pool};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;
use hokan_jobs::rotation::{RotationPlan, Tonight};
use hokan_jobs::Clock;

pub fn format(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    medium: &str,
    force: bool,
    relabel: Option<&str>,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let fail = |e| format_failure(ctx, pool, relabel, &e);
    let clock = Clock::new(ctx.now);
    let medium = medium.trim();
    hokan_jobs::disk::format::check_id(&pool.conf, medium).map_err(fail)?;
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    hokan_jobs::disk::format::check_owner(&cat, &pool.name, medium).map_err(fail)?;
    let mut dev = device::open(ctx, pool, &cat)?;
    let req = FormatRequest {
        medium,
        force,
        relabel,
        kind: ctx
            .pool_kind(&pool.name)
            .expect("a configured pool has a kind"),
        retention: pool.retention,
        now: ctx.now,
        actor: "hokan disk format",
    };
    let done =
        hokan_jobs::disk::format::format(dev.as_mut(), &mut cat, &clock, pool_ref(pool), &req)
            .map_err(fail)?;
    if ctx.g.json {
        print_json(
            &json!({"medium": medium, "pool": pool.name, "device": done.device, "simulated": done.simulated}),
        );
    } else if !ctx.g.quiet {
        println!(
            "{} {medium} ({} {}, {LABEL_FILE})",
            t(l, "formatted", "フォーマットしました:"),
            t(l, "pool", "プール"),
            pool.name
        );
    }
    Ok(exit::OK)
}

pub fn status(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let l = ctx.lang;
    let fail = |e| disk_job_failure(l, &e);
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let mut dev = device::open(ctx, pool, &cat)?;
    let seen = observe(
        dev.as_mut(),
        &mut cat,
        &clock,
        pool_ref(pool),
        "hokan disk status",
    )
    .map_err(fail)?;
    let (name, st, moves) = (&seen.device, &seen.status, &seen.moves);
    let mut anchors = Vec::new();
    let mut heads = Vec::new();
    for m in &seen.anchors {
        let medium = &m.medium;
        if let OnCartridge::Found(a) = &m.anchor {
            if a.site == ctx.conf.name {
                heads.push(a.expected(hokan_offline::Text::new(
                    format!("the anchor on cartridge {medium}"),
                    format!("カートリッジ {medium} のアンカー"),
                )));
            }
        }
        anchors.push((
            medium.clone(),
            super::anchor::to_json(&m.anchor, Some(&cat)),
            super::anchor::describe(ctx, &m.anchor, Some(&cat)),
        ));
    }
    let local = ctx.now.to_offset(ctx.offset());
    let want = RotationPlan::disk(pool.conf.rotation, &pool.conf.cartridges, local).tonight;
    // The verdicts beside the cartridges are judged ones; the anchors of
    // the cartridges mounted now are checked with the rest.
    let judged = ctx.judge_with(heads)?;
    let code = if judged.trusted() {
        exit::OK
    } else {
        exit::UNTRUSTED
    };
    let eval = judged.evaluation;
    let media = pool_media(&cat, &pool.name).map_err(fail)?;
    let mut rows = Vec::new();
    for m in &media {
        let until = retained_until(&cat, pool.retention, &m.id).map_err(fail)?;
        let state = eval.medium(&m.id);
        let verdict = state.and_then(|s| s.verdict.as_ref());
        rows.push(json!({
            "medium": m.id,
            "location": m.location.as_ref().map(|o| &o.location),
            "where": m.location.as_ref().map(|o| ctx.pick(&o.location.describe())),
            "retained_until": until.map(|u| ctx.when(u)),
            "copies": state.map(|s| s.complete_copies).unwrap_or(0),
            "offline": verdict.map(|v| v.is_offline()),
            "koban": verdict.and_then(|v| v.koban()).map(|k| k.to_string()),
            "verdict": verdict.map(|v| ctx.pick(&v.describe(ctx.offset()))),
        }));
    }
    let due_text = match &want {
        Tonight::Cartridge(c) => c.to_string(),
        Tonight::NoneToday(d) => format!("- ({d})"),
        Tonight::Any => t(l, "any of the pool", "プールのどれでも").to_owned(),
    };
    if ctx.g.json {
        print_json(&json!({
            "pool": pool.name,
            "device": name,
            "simulated": dev.simulated(),
            "status": st,
            "due": due_text,
            "moves": moves.iter().map(|(m, loc)| json!({"medium": m, "location": loc})).collect::<Vec<_>>(),
            "cartridges": rows,
            "anchors": anchors.iter().map(|(m, a, _)| json!({"medium": m, "anchor": a})).collect::<Vec<_>>(),
            "trusted": code == exit::OK,
        }));
        return Ok(code);
    }
    println!(
        "{} {} ({}{})",
        t(l, "disk pool", "ディスクプール"),
        pool.name,
        name,
        if dev.simulated() {
            t(l, ", SIMULATED", "、模擬装置")
        } else {
            ""
        }
    );
    println!("  {}: {due_text}", t(l, "due tonight", "今夜の番"));
    for s in &st.slots {
        let held = st
            .cartridges
            .iter()
            .find(|c| matches!(c.place, hokan_disk::Place::Slot { slot, .. } if slot == s.slot))
            .and_then(|c| c.fs_label.clone());
        let state = match (s.occupied, s.active) {
            (Some(false), _) => t(l, "empty", "空").to_owned(),
            (_, true) => t(
                l,
                "in use by the host (online)",
                "ホストが使用中（オンライン）",
            )
            .to_owned(),
            (_, false) => t(
                l,
                "holds a cartridge, out of the host's reach",
                "カートリッジあり、ホストから切り離し済み",
            )
            .to_owned(),
        };
        println!(
            "  {} {}: {state}{}",
            t(l, "slot", "スロット"),
            s.slot,
            held.map(|h| format!(" ({h})")).unwrap_or_default()
        );
    }
    for r in &rows {
        println!(
            "  {:<10} {:<40} {}",
            r["medium"].as_str().unwrap_or(""),
            r["where"].as_str().unwrap_or("-"),
            r["verdict"].as_str().unwrap_or("-"),
        );
    }
    for (m, _, said) in &anchors {
        println!("  {m}: {said}");
    }
    if code != exit::OK {
        for p in &eval.problems {
            println!(
                "  {}\n    → {}",
                ctx.pick(&p.message),
                ctx.pick(&p.next_step)
            );
        }
    }
    Ok(code)
}

pub fn eject(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(
        cat.path().expect("a file catalog"),
        pool.name.as_str(),
        ctx.lang,
    )?;
    let mut dev = device::open(ctx, pool, &cat)?;
    let done = hokan_jobs::disk::status::eject(
        dev.as_mut(),
        &mut cat,
        &clock,
        pool_ref(pool),
        "hokan disk eject",
    )
    .map_err(|e| attach_failure(ctx.lang, pool, &Tonight::Any, &e))?;
    let said = put_away_text(ctx.lang, done.put_away);
    if ctx.g.json {
        print_json(&json!({"medium": done.medium, "after_job": said}));
    } else if !ctx.g.quiet {
        println!("{}: {said}", done.medium);
    }
    Ok(exit::OK)
}
