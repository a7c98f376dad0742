//! `hokan disk format|status|eject|restore`.

use std::path::PathBuf;

use hokan_catalog::{Catalog, Event, MediumRow};
use hokan_disk::{read_label, write_label, DiskLabel, LABEL_FILE, REPOSITORY_DIR};
use hokan_offline::MediumId;
use hokan_repo::store::Store;
use hokan_store::local::LocalStore;
use serde_json::json;
use time::OffsetDateTime;

use super::device::{self, medium_of, uuid_note};
use super::job::{after_job, attach_cartridge, record, repository_of, Attached};
use super::{attached_location, disk_failure, due, Due, Pool};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::site::{print_json, SiteCtx};
use crate::tape::devices::PoolLock;
use crate::tape::Clock;

fn pool_media(ctx: &SiteCtx<'_>, cat: &Catalog, pool: &Pool) -> Result<Vec<MediumRow>, Failure> {
    Ok(cat
        .media()
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .filter(|m| m.pool.as_ref() == Some(&pool.name))
        .collect())
}

/// Until when a cartridge's copies must be kept: its newest copy plus the
/// pool's retention. `None` when it holds no copy.
fn retained_until(
    ctx: &SiteCtx<'_>,
    cat: &Catalog,
    pool: &Pool,
    medium: &MediumId,
) -> Result<Option<OffsetDateTime>, Failure> {
    Ok(cat
        .copies()
        .map_err(|e| ctx.catalog_failure(&e))?
        .iter()
        .filter(|c| &c.medium == medium)
        .map(|c| c.since + pool.retention)
        .max())
}

pub fn format(ctx: &SiteCtx<'_>, pool: &Pool, medium: &str, force: bool) -> Result<i32, Failure> {
    const ACTOR: &str = "hokan disk format";
    let l = ctx.lang;
    let clock = Clock::new(ctx.now);
    let medium = medium.trim();
    let valid = !medium.is_empty()
        && medium.len() <= 64
        && medium
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "{medium:?}: {}",
                t(
                    l,
                    "a cartridge id is letters, digits, '-', '_' and '.' (e.g. RDX-TUE)",
                    "カートリッジ ID は英数字・'-'・'_'・'.' です（例: RDX-TUE）"
                )
            ),
        ));
    }
    if !pool.conf.cartridges.is_empty() && !pool.conf.cartridges.iter().any(|c| c == medium) {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "{medium}: {} {} ({})",
                t(
                    l,
                    "is not in the cartridges of pool",
                    "はプールのカートリッジ一覧にありません:"
                ),
                pool.name,
                pool.conf.cartridges.join(", ")
            ),
        ));
    }
    let mut cat = ctx.catalog()?;
    let _lock = PoolLock::take(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    let id = MediumId::new(medium);
    if let Ok(m) = cat.medium(&id) {
        if m.pool.as_ref() != Some(&pool.name) {
            return Err(Failure::new(
                exit::ERROR,
                format!(
                    "{medium}: {} {}",
                    t(l, "belongs to another pool:", "は別のプールの媒体です:"),
                    m.pool.as_ref().map(|p| p.as_str()).unwrap_or("-")
                ),
            ));
        }
    }
    let mut dev = device::open(ctx, pool, &cat)?;
    let name = dev.name().to_owned();
    let st = dev.status().map_err(|e| disk_failure(l, &e))?;
    let media = pool_media(ctx, &cat, pool)?;
    // The cartridge to format: the one the host reaches, else (an
    // autoloader) the first one the catalog does not know yet.
    let cartridge = st
        .writable()
        .or_else(|| {
            st.cartridges
                .iter()
                .find(|c| medium_of(c, &media).is_none())
        })
        .cloned()
        .ok_or_else(|| {
            Failure::new(
                exit::ERROR,
                format!(
                    "{name}: {} {medium}",
                    t(
                        l,
                        "no cartridge is inserted; insert",
                        "カートリッジがありません。挿入してください:"
                    )
                ),
            )
        })?;
    let root = dev.attach(&cartridge).map_err(|e| disk_failure(l, &e))?;
    let result = (|| -> Result<Vec<Event>, Failure> {
        let old = read_label(&root).map_err(|e| disk_failure(l, &e))?;
        let mut events = Vec::new();
        match &old {
            Some(lb) if lb.pool != pool.name.as_str() => {
                return Err(Failure::new(
                    exit::ERROR,
                    format!(
                        "{name}: {} {} {} {}; {}",
                        t(l, "the cartridge inserted is", "挿入されたカートリッジは"),
                        lb.medium,
                        t(l, "of pool", "（プール"),
                        lb.pool,
                        t(
                            l,
                            "it is not formatted over from another pool",
                            "）のものです。別のプールのカートリッジは上書きしません"
                        )
                    ),
                ))
            }
            Some(lb) => {
                // Its copies (under its old id, and the new one) must have
                // passed their retention.
                for m in [MediumId::new(lb.medium.as_str()), id.clone()] {
                    if let Some(until) = retained_until(ctx, &cat, pool, &m)? {
                        if until > ctx.now {
                            return Err(Failure::new(
                                exit::ERROR,
                                format!(
                                    "{m}: {} {}; {}",
                                    t(l, "holds copies kept until", "のコピーは次の日時まで保持します:"),
                                    ctx.when(until),
                                    t(
                                        l,
                                        "it is not formatted before then. Use another cartridge",
                                        "それまではフォーマットしません。別のカートリッジを使ってください"
                                    )
                                ),
                            ));
                        }
                    }
                    for c in cat
                        .copies()
                        .map_err(|e| ctx.catalog_failure(&e))?
                        .into_iter()
                        .filter(|c| c.medium == m)
                    {
                        events.push(Event::CopyRemoved {
                            snapshot: c.snapshot,
                            medium: m.clone(),
                            reason: Some("erased by `hokan disk format`".into()),
                        });
                    }
                }
            }
            None => {
                let foreign: Vec<String> = std::fs::read_dir(&root)
                    .map_err(|e| Failure::new(exit::ERROR, format!("{}: {e}", root.display())))?
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "lost+found" && n != REPOSITORY_DIR)
                    .collect();
                if !foreign.is_empty() && !force {
                    return Err(Failure::new(
                        exit::ERROR,
                        format!(
                            "{name}: {} ({}); {}",
                            t(
                                l,
                                "the disk holds files hokan did not write",
                                "ディスクに hokan 以外のファイルがあります"
                            ),
                            foreign
                                .iter()
                                .take(5)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", "),
                            t(
                                l,
                                "check that it is the right disk; `--force` erases them",
                                "正しいディスクか確認してください。`--force` で消去します"
                            )
                        ),
                    ));
                }
                for n in foreign {
                    let p = root.join(&n);
                    let r = if p.is_dir() {
                        std::fs::remove_dir_all(&p)
                    } else {
                        std::fs::remove_file(&p)
                    };
                    r.map_err(|e| Failure::new(exit::ERROR, format!("{}: {e}", p.display())))?;
                }
            }
        }
        let repo_dir = root.join(REPOSITORY_DIR);
        if repo_dir.exists() {
            std::fs::remove_dir_all(&repo_dir)
                .map_err(|e| Failure::new(exit::ERROR, format!("{}: {e}", repo_dir.display())))?;
        }
        LocalStore::new(&repo_dir)
            .create()
            .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
        write_label(
            &root,
            &DiskLabel {
                format: hokan_disk::label::FORMAT_VERSION,
                medium: medium.to_owned(),
                pool: pool.name.to_string(),
                created: clock.at(),
                fs_uuid: cartridge.uuid.clone(),
            },
        )
        .map_err(|e| disk_failure(l, &e))?;
        dev.sync(&root).map_err(|e| disk_failure(l, &e))?;
        Ok(events)
    })();
    let detached = dev.detach(&root);
    let mut events = result?;
    detached.map_err(|e| disk_failure(l, &e))?;
    if cat.medium(&id).is_err() {
        events.insert(
            0,
            Event::MediumAdded {
                medium: id.clone(),
                kind: ctx
                    .pool_kind(&pool.name)
                    .expect("a configured pool has a kind"),
                pool: Some(pool.name.clone()),
                label: None,
                capacity: None,
                note: cartridge.uuid.as_deref().map(uuid_note),
            },
        );
    }
    cat.record_all(clock.at(), ACTOR, events)
        .map_err(|e| ctx.catalog_failure(&e))?;
    // Still in the drive (or an active slot): online until ejected.
    record(
        ctx,
        &mut cat,
        &clock,
        ACTOR,
        &id,
        attached_location(pool, &name),
        &name,
    )?;
    if ctx.g.json {
        print_json(
            &json!({"medium": medium, "pool": pool.name, "device": name, "simulated": dev.simulated()}),
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
    const ACTOR: &str = "hokan disk status";
    let l = ctx.lang;
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let mut dev = device::open(ctx, pool, &cat)?;
    let name = dev.name().to_owned();
    let st = dev.status().map_err(|e| disk_failure(l, &e))?;
    let media = pool_media(ctx, &cat, pool)?;
    // What the device reports, recorded where it differs from the catalog.
    let history = cat.locations(None).map_err(|e| ctx.catalog_failure(&e))?;
    let moves = device::reconcile(
        pool,
        &name,
        &st,
        &media,
        &crate::tape::inventory::device_last(&history),
    );
    for (m, loc) in &moves {
        record(ctx, &mut cat, &clock, ACTOR, m, loc.clone(), &name)?;
    }
    // The anchor of each cartridge the host has mounted now.
    let mut anchors = Vec::new();
    let mut heads = Vec::new();
    for c in &st.cartridges {
        let Some(root) = &c.mounted_at else { continue };
        let medium = medium_of(c, &media)
            .map(|m| m.to_string())
            .or_else(|| read_label(root).ok().flatten().map(|lb| lb.medium))
            .unwrap_or_else(|| root.display().to_string());
        let found = super::anchor::read(root);
        if let super::anchor::OnCartridge::Found(a) = &found {
            if a.site == ctx.conf.name {
                heads.push(a.expected(hokan_offline::Text::new(
                    format!("the anchor on cartridge {medium}"),
                    format!("カートリッジ {medium} のアンカー"),
                )));
            }
        }
        anchors.push((
            medium,
            super::anchor::to_json(&found, Some(&cat)),
            super::anchor::describe(ctx, &found, Some(&cat)),
        ));
    }
    let local = ctx.now.to_offset(ctx.offset());
    let want = due(pool.conf.rotation, &pool.conf.cartridges, local);
    // The verdicts beside the cartridges are judged ones; the anchors of
    // the cartridges mounted now are checked with the rest.
    let judged = ctx.judge_with(heads)?;
    let code = if judged.trusted() {
        exit::OK
    } else {
        exit::UNTRUSTED
    };
    let eval = judged.evaluation;
    let media = pool_media(ctx, &cat, pool)?;
    let mut rows = Vec::new();
    for m in &media {
        let until = retained_until(ctx, &cat, pool, &m.id)?;
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
        Due::Cartridge(c) => c.clone(),
        Due::NoneToday(d) => format!("- ({d})"),
        Due::Any => t(l, "any of the pool", "プールのどれでも").to_owned(),
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
        println!(
            "  slot {}: {}",
            s.slot,
            if s.active { "active" } else { "inactive" }
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

/// Attach the pool's cartridge (under the pool's job lock), run `work` on
/// it, then put it out of reach again as after a job, whatever `work`
/// returned. Gives the cartridge, `work`'s result and what the after-job
/// step did.
fn on_cartridge<R>(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    actor: &str,
    known_only: bool,
    work: impl FnOnce(&Attached, &Catalog) -> R,
) -> Result<(Attached, R, Result<String, Failure>), Failure> {
    let clock = Clock::new(ctx.now);
    let mut cat = ctx.catalog()?;
    let _lock = PoolLock::take(
        cat.path().expect("a file catalog"),
        pool.name.as_str(),
        ctx.lang,
    )?;
    let mut dev = device::open(ctx, pool, &cat)?;
    let a = attach_cartridge(
        ctx,
        pool,
        dev.as_mut(),
        &mut cat,
        &clock,
        &Due::Any,
        actor,
        known_only,
    )?;
    let r = work(&a, &cat);
    let said = after_job(ctx, pool, dev.as_mut(), &mut cat, &clock, &a, actor);
    Ok((a, r, said))
}

pub fn eject(ctx: &SiteCtx<'_>, pool: &Pool) -> Result<i32, Failure> {
    let (a, (), said) = on_cartridge(ctx, pool, "hokan disk eject", true, |_, _| ())?;
    done(ctx, &a, &said?);
    Ok(exit::OK)
}

fn done(ctx: &SiteCtx<'_>, a: &Attached, said: &str) {
    if ctx.g.json {
        print_json(&json!({"medium": a.medium, "after_job": said}));
    } else if !ctx.g.quiet {
        println!("{}: {said}", a.medium);
    }
}

pub fn restore(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    snapshot: &str,
    target: PathBuf,
    latest_undamaged: bool,
) -> Result<i32, Failure> {
    // The catalog may be what was lost: a cartridge it does not know is read.
    // The catalog anchor is reported, whether or not this catalog holds it
    // (a restore after the catalog was lost or rolled back still reads).
    let (a, restored, said) = on_cartridge(ctx, pool, "hokan disk restore", false, |a, cat| {
        let found = super::anchor::read(&a.root);
        if !ctx.g.json && !ctx.g.quiet {
            println!(
                "{}: {}",
                a.medium,
                super::anchor::describe(ctx, &found, Some(cat))
            );
        }
        let mut extra = serde_json::Map::new();
        extra.insert("medium".into(), json!(a.medium));
        extra.insert("anchor".into(), super::anchor::to_json(&found, Some(cat)));
        crate::commands::restore_from_with(
            ctx.g,
            ctx.lang,
            &repository_of(&a.root),
            snapshot,
            target,
            latest_undamaged,
            extra,
        )
    })?;
    let code = restored?;
    let said = said?;
    if !ctx.g.json && !ctx.g.quiet {
        println!("{}: {said}", a.medium);
    }
    Ok(code)
}
