//! `hokan disk format|status|eject` (`disk restore` is in [`super::restore`]).

use hokan_catalog::{Catalog, Event, MediumRow};
use hokan_disk::Cartridge;
use hokan_disk::{read_label, write_label, DiskLabel, LABEL_FILE, REPOSITORY_DIR};
use hokan_offline::{Condition, MediumId};
use hokan_repo::store::Store;
use hokan_store::local::LocalStore;
use serde_json::json;
use time::OffsetDateTime;

use super::device::{self, medium_of, uuid_note};
use super::job::{after_job, attach_cartridge, record, Attached};
use super::{attached_location, disk_failure, Pool};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;
use crate::job_error::lock_pool;
use hokan_jobs::rotation::{RotationPlan, Tonight};
use hokan_jobs::Clock;

pub(super) fn pool_media(
    ctx: &SiteCtx<'_>,
    cat: &Catalog,
    pool: &Pool,
) -> Result<Vec<MediumRow>, Failure> {
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

pub fn format(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    medium: &str,
    force: bool,
    relabel: Option<&str>,
) -> Result<i32, Failure> {
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
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
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
    let all_media: Vec<MediumRow> = cat
        .media()
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .filter(|m| m.condition != Condition::Retired)
        .collect();
    // The live medium the catalog recorded for a filesystem UUID.
    let by_uuid = |uuid: Option<&str>| -> Option<MediumId> {
        let note = uuid_note(uuid?);
        all_media
            .iter()
            .find(|m| m.note.as_deref() == Some(note.as_str()))
            .map(|m| m.id.clone())
    };
    // Only the cartridge named (or a blank one, or with --relabel the one
    // carrying that id) is formatted: the device's cartridges in that
    // order, the one the host reaches first among equals; a cartridge the
    // catalog knows as another medium is not even loaded.
    let rank = |c: &Cartridge| -> u8 {
        let known = medium_of(c, &media).map(|m| m.to_string());
        if relabel.is_some() && known.as_deref() == relabel {
            0
        } else if known.as_deref() == Some(medium) || c.fs_label.as_deref() == Some(medium) {
            1
        } else if known.is_none() {
            2
        } else {
            3
        }
    };
    let mut order: Vec<&Cartridge> = st.cartridges.iter().filter(|c| rank(c) < 3).collect();
    let reachable = |c: &Cartridge| st.writable() == Some(c);
    order.sort_by_key(|c| (rank(c), !reachable(c)));
    let describe = |c: &Cartridge| -> String {
        let place = match c.place {
            hokan_disk::Place::Drive => t(l, "in the drive", "ドライブ内").to_owned(),
            hokan_disk::Place::Slot { slot, .. } => format!("{} {slot}", t(l, "slot", "スロット")),
        };
        let id = medium_of(c, &media)
            .map(|m| m.to_string())
            .or_else(|| c.fs_label.clone())
            .unwrap_or_else(|| "?".into());
        format!("{id} ({place})")
    };
    let mut refused: Vec<String> = st
        .cartridges
        .iter()
        .filter(|c| rank(c) == 3)
        .map(|c| {
            format!(
                "{} {}",
                describe(c),
                t(
                    l,
                    "carries another hokan id",
                    "は別の hokan ID のカートリッジです"
                )
            )
        })
        .collect();
    let mut chosen = None;
    for c in order {
        let root = dev.attach(c).map_err(|e| disk_failure(l, &e))?;
        let why = match read_label(&root) {
            Err(e) => Some(e.to_string()),
            Ok(Some(lb)) if lb.pool != pool.name.as_str() => Some(format!(
                "{}: {} {} {} {}; {}",
                describe(c),
                t(l, "the cartridge is", "カートリッジは"),
                lb.medium,
                t(l, "of pool", "（プール"),
                lb.pool,
                t(
                    l,
                    "it is not formatted over from another pool",
                    "）のものです。別のプールのカートリッジは上書きしません"
                )
            )),
            Ok(lb) => {
                let mut idents: Vec<MediumId> = lb
                    .as_ref()
                    .map(|lb| MediumId::new(lb.medium.as_str()))
                    .into_iter()
                    .chain(by_uuid(c.uuid.as_deref()))
                    .collect();
                idents.dedup();
                let others: Vec<&MediumId> =
                    idents.iter().filter(|m| m.as_str() != medium).collect();
                if others.iter().all(|m| Some(m.as_str()) == relabel) {
                    chosen = Some((c.clone(), root.clone(), lb, idents.clone()));
                    None
                } else {
                    Some(format!(
                        "{} {} {}",
                        describe(c),
                        t(l, "carries hokan id", "は次の hokan ID を持っています:"),
                        others
                            .iter()
                            .map(|m| m.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
        };
        if chosen.is_some() {
            break;
        }
        let _ = dev.detach(&root);
        refused.extend(why);
    }
    let Some((cartridge, root, old, idents)) = chosen else {
        let inside = if refused.is_empty() {
            t(
                l,
                "no cartridge is inserted",
                "カートリッジが入っていません",
            )
            .to_owned()
        } else {
            refused.join("; ")
        };
        let relabel_said = match relabel {
            Some(r) => format!(
                " {} {r}.",
                t(
                    l,
                    "No cartridge inside carries",
                    "次の ID のカートリッジは入っていません:"
                )
            ),
            None => String::new(),
        };
        return Err(Failure::new(
            exit::ERROR,
            format!(
                "{name}: {} {medium}: {inside}.{relabel_said} {} {medium} {}",
                t(l, "no blank cartridge to format as", "次の ID でフォーマットできる空のカートリッジがありません:"),
                t(l, "Insert a blank cartridge (or", "空のカートリッジ（または"),
                t(
                    l,
                    "itself) and run again. Nothing was changed. To re-use a cartridge under a new id once its copies are past retention, add `--relabel CURRENT-ID`",
                    "自身）を挿入して、もう一度実行してください。何も変更していません。保持期間を過ぎたカートリッジを新しい ID で使うには `--relabel 現在のID` を付けてください"
                )
            ),
        ));
    };
    let result = (|| -> Result<Vec<Event>, Failure> {
        let mut events = Vec::new();
        // Every identity the cartridge carries (label, catalog by UUID) and
        // the one it is given: their copies must have passed retention.
        let mut all = idents.clone();
        if !all.contains(&id) {
            all.push(id.clone());
        }
        for m in &all {
            if let Some(until) = retained_until(ctx, &cat, pool, m)? {
                if until > ctx.now {
                    return Err(Failure::new(
                        exit::ERROR,
                        format!(
                            "{m}: {} {}; {} {m} {} `hokan disk format --pool {} NEW-ID`{}",
                            t(l, "holds copies kept until", "のコピーは次の日時まで保持します:"),
                            ctx.when(until),
                            t(l, "this cartridge is not formatted as", "それまでこのカートリッジを"),
                            t(
                                l,
                                "before then. Nothing was changed. Give this cartridge another id, or use another cartridge:",
                                "としてフォーマットしません。何も変更していません。このカートリッジには別の ID を付けるか、別のカートリッジを使ってください:"
                            ),
                            pool.name,
                            t(l, "", "")
                        ),
                    ));
                }
            }
        }
        // An id already given to another filesystem is not moved onto this
        // one (the catalog keeps one filesystem per id, one id per filesystem).
        if let (Some(now), Some(row)) = (
            cartridge.uuid.as_deref(),
            all_media.iter().find(|m| m.id == id),
        ) {
            if let Some(was) = device::recorded_uuid(row) {
                if was != now {
                    return Err(Failure::new(
                        exit::ERROR,
                        format!(
                            "{id}: {} {was}, {} {now}. {}",
                            t(l, "was formatted on another cartridge (filesystem UUID", "は別のカートリッジ（ファイルシステム UUID"),
                            t(l, "this one is", "）でフォーマットされています。このカートリッジは"),
                            t(
                                l,
                                "Nothing was changed. Give this cartridge another id, or insert the cartridge that carries it",
                                "です。何も変更していません。このカートリッジには別の ID を付けるか、その ID のカートリッジを挿入してください"
                            )
                        ),
                    ));
                }
            }
        }
        for m in &all {
            for c in cat
                .copies()
                .map_err(|e| ctx.catalog_failure(&e))?
                .into_iter()
                .filter(|c| &c.medium == m)
            {
                events.push(Event::CopyRemoved {
                    snapshot: c.snapshot,
                    medium: m.clone(),
                    reason: Some("erased by `hokan disk format`".into()),
                });
            }
            if m != &id && all_media.iter().any(|x| &x.id == m) {
                events.push(Event::MediumCondition {
                    medium: m.clone(),
                    condition: Condition::Retired,
                    reason: Some(format!(
                        "relabelled as {id} by `hokan disk format --relabel`"
                    )),
                });
            }
        }
        if old.is_none() {
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
    let _lock = lock_pool(
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
        &Tonight::Any,
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
