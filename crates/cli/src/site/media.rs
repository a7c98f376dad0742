//! `hokan media add|list|show|move|retire`.

use hokan_catalog::event::{condition_en, condition_ja};
use hokan_jobs::site::media::{NewMedium, PersonMove};
use hokan_jobs::JobError;
use hokan_offline::{Condition, MediumId, MediumKind, ObservedBy, PoolName};
use serde_json::json;

use super::args::MediaCmd;
use super::observe::DeviceKind;
use crate::ctx::{print_json, when, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{pad, t, Bytes};

pub fn run(ctx: &SiteCtx<'_>, cmd: MediaCmd) -> Result<i32, Failure> {
    match cmd {
        MediaCmd::Add {
            id,
            kind,
            pool,
            label,
            capacity,
            note,
            location,
            by,
        } => add(ctx, id, kind, pool, label, capacity, note, location, by),
        MediaCmd::List => list(ctx),
        MediaCmd::Show { id } => show(ctx, &id),
        MediaCmd::Move {
            id,
            to,
            by,
            at,
            note,
        } => move_to(ctx, &id, &to, &by, at.as_deref(), note),
        MediaCmd::Retire {
            id,
            by,
            reason,
            damaged,
        } => retire(ctx, &id, &by, reason, damaged),
    }
}

/// A usage failure naming the argument: `--at "1999-01-01": …`.
fn usage_of(ctx: &SiteCtx<'_>, arg: &str, t: hokan_offline::Text) -> Failure {
    Failure::new(exit::USAGE, format!("{arg}: {}", ctx.pick(&t)))
}

fn person(ctx: &SiteCtx<'_>, by: &str) -> Result<String, Failure> {
    let by = by.trim();
    if by.is_empty() {
        return Err(Failure::new(
            exit::USAGE,
            t(
                ctx.lang,
                "--by needs the name of the person who did it",
                "--by には作業した人の名前を指定してください",
            ),
        ));
    }
    Ok(by.to_owned())
}

#[allow(clippy::too_many_arguments)]
fn add(
    ctx: &SiteCtx<'_>,
    id: String,
    kind: Option<super::args::KindArg>,
    pool: Option<String>,
    label: Option<String>,
    capacity: Option<String>,
    note: Option<String>,
    location: Option<String>,
    by: Option<String>,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let id = id.trim().to_owned();
    if id.is_empty() || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Failure::new(
            exit::USAGE,
            t(
                l,
                "a medium id is one word without spaces, e.g. the barcode HKN003L9",
                "媒体 ID は空白を含まない 1 語にしてください（例: バーコード HKN003L9）",
            ),
        ));
    }
    let pool = pool.map(PoolName::new);
    let pool_kind = pool.as_ref().and_then(|p| ctx.pool_kind(p));
    if let (Some(p), None, true) = (&pool, pool_kind, ctx.conf.config.is_some()) {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "{} {p}: {}",
                t(l, "no pool", "プール"),
                t(
                    l,
                    "is not in hokan.toml; `hokan config check` lists the pools",
                    "は hokan.toml にありません。`hokan config check` で一覧できます"
                )
            ),
        ));
    }
    let kind = match (kind.map(MediumKind::from), pool_kind) {
        (Some(k), Some(pk)) if k != pk => {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "{}: --kind {} / pool {} ({})",
                    t(l, "the kind does not fit the pool", "種類がプールと合いません"),
                    k.name_en(),
                    pool.as_ref().map(|p| p.as_str()).unwrap_or(""),
                    pk.name_en()
                ),
            ))
        }
        (Some(k), _) => k,
        (None, Some(pk)) => pk,
        (None, None) => {
            return Err(Failure::new(
                exit::USAGE,
                t(
                    l,
                    "say what the medium is: --kind (e.g. lto-library), or --pool of a configured pool",
                    "媒体の種類を指定してください: --kind（例: lto-library）か、設定済みプールの --pool",
                ),
            ))
        }
    };
    let capacity = capacity
        .map(|c| when::parse_capacity(&c))
        .transpose()
        .map_err(|e| usage_of(ctx, "--capacity", e))?;
    let location = match location {
        Some(loc) => {
            let by = person(
                ctx,
                by.as_deref().ok_or_else(|| {
                    Failure::new(
                        exit::USAGE,
                        t(
                            l,
                            "--location needs --by (who put it there)",
                            "--location には --by（置いた人）が必要です",
                        ),
                    )
                })?,
            )?;
            let place = when::parse_location(&loc).map_err(|e| usage_of(ctx, "--location", e))?;
            Some((place, by))
        }
        None => None,
    };
    let new = NewMedium {
        id: MediumId::new(&id),
        kind,
        pool,
        label,
        capacity,
        note,
        location,
    };
    let mut cat = ctx.catalog()?;
    let recs = hokan_jobs::site::media::add(&mut cat, ctx.now, "media add", new)
        .map_err(|e| media_failure(ctx, &id, &e))?;
    if ctx.g.json {
        print_json(&json!({"added": id, "kind": kind, "events": recs}));
    } else {
        println!(
            "{} {id} ({})",
            t(l, "added medium", "媒体を登録しました:"),
            match l {
                crate::i18n::Lang::En => kind.name_en(),
                crate::i18n::Lang::Ja => kind.name_ja(),
            }
        );
    }
    Ok(exit::OK)
}

fn list(ctx: &SiteCtx<'_>) -> Result<i32, Failure> {
    let (ev, code) = judged_or_warn(ctx)?;
    let cat = existing(ctx)?;
    let media = match cat.media() {
        Ok(m) => m,
        // Tables that are not evidence may not even read back: the
        // reasons are printed already.
        Err(e) if code == exit::UNTRUSTED => {
            eprintln!("{}", ctx.pick(&e.text()));
            return Ok(code);
        }
        Err(e) => return Err(ctx.catalog_failure(&e)),
    };
    if ctx.g.json {
        let rows: Vec<_> = media
            .iter()
            .map(|m| json!({"medium": m, "state": ev.medium(&m.id)}))
            .collect();
        print_json(&json!({"at": ctx.now, "trusted": code == exit::OK, "media": rows}));
        return Ok(code);
    }
    let l = ctx.lang;
    if media.is_empty() {
        println!(
            "{}",
            t(
                l,
                "no media yet: `hokan media add ID --kind …` adds one",
                "媒体はまだありません: `hokan media add ID --kind …` で登録します"
            )
        );
        return Ok(exit::OK);
    }
    let table = super::status::media_table(ctx, &ev, &media);
    print!("{table}");
    Ok(code)
}

fn show(ctx: &SiteCtx<'_>, id: &str) -> Result<i32, Failure> {
    let (ev, code) = judged_or_warn(ctx)?;
    let cat = existing(ctx)?;
    let id = MediumId::new(id);
    let m = cat.medium(&id).map_err(|e| ctx.catalog_failure(&e))?;
    let history = cat
        .locations(Some(&id))
        .map_err(|e| ctx.catalog_failure(&e))?;
    let copies: Vec<_> = ev.copies.iter().filter(|c| c.medium == id).collect();
    if ctx.g.json {
        print_json(
            &json!({"medium": m, "state": ev.medium(&id), "copies": copies, "locations": history}),
        );
        return Ok(code);
    }
    let l = ctx.lang;
    let off = ctx.offset();
    let name = |k: hokan_offline::MediumKind| match l {
        crate::i18n::Lang::En => k.name_en(),
        crate::i18n::Lang::Ja => k.name_ja(),
    };
    println!("{} {}", t(l, "medium", "媒体"), m.id);
    let rows = [
        (t(l, "kind", "種類"), name(m.kind).to_owned()),
        (
            t(l, "pool", "プール"),
            m.pool.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        ),
        (t(l, "label", "ラベル"), m.label.clone().unwrap_or_default()),
        (
            t(l, "capacity", "容量"),
            m.capacity.map(|c| Bytes(c).to_string()).unwrap_or_default(),
        ),
        (
            t(l, "condition", "状態"),
            match l {
                crate::i18n::Lang::En => condition_en(m.condition),
                crate::i18n::Lang::Ja => condition_ja(m.condition),
            }
            .to_owned(),
        ),
        (t(l, "added", "登録日時"), ctx.when(m.added_at)),
        (t(l, "note", "備考"), m.note.clone().unwrap_or_default()),
        (
            t(l, "offline state", "オフライン判定"),
            ev.medium(&id)
                .and_then(|s| s.verdict.as_ref())
                .map(|v| ctx.pick(&v.describe(off)))
                .unwrap_or_else(|| t(l, "per copy (see below)", "コピーごと（下記）").to_owned()),
        ),
    ];
    for (k, v) in rows {
        if !v.is_empty() {
            println!("  {} {v}", pad(k, 16));
        }
    }
    println!("{}", t(l, "copies:", "保持している世代:"));
    if copies.is_empty() {
        println!("  {}", t(l, "(none)", "（なし）"));
    }
    for c in &copies {
        println!(
            "  {} {} {}  {}{}",
            &c.snapshot.as_str()[..c.snapshot.as_str().len().min(8)],
            pad(c.source.as_str(), 10),
            ctx.when(c.taken_at),
            ctx.pick(&c.verdict.describe(off)),
            if c.counts() {
                String::new()
            } else if c.excluded.is_some() {
                format!(" ({})", t(l, "does not count", "数えない"))
            } else {
                String::new()
            }
        );
    }
    println!(
        "{}",
        t(l, "locations (oldest first):", "場所の記録（古い順）:")
    );
    if history.is_empty() {
        println!("  {}", t(l, "(none recorded)", "（記録なし）"));
    }
    for o in &history {
        let who = match &o.by {
            ObservedBy::Device { device } => format!("{} {device}", t(l, "device", "装置")),
            ObservedBy::Person { person } => person.to_string(),
        };
        println!(
            "  {}  {}  ({who}){}",
            ctx.when(o.at),
            ctx.pick(&o.location.describe()),
            o.note
                .as_ref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
    }
    Ok(code)
}

fn move_to(
    ctx: &SiteCtx<'_>,
    id: &str,
    to: &str,
    by: &str,
    at: Option<&str>,
    note: Option<String>,
) -> Result<i32, Failure> {
    let location = when::parse_location(to).map_err(|e| usage_of(ctx, "--to", e))?;
    let by = person(ctx, by)?;
    let at = match at {
        Some(a) => {
            when::parse_ago(a, ctx.now, ctx.offset()).map_err(|e| usage_of(ctx, "--at", e))?
        }
        None => ctx.now,
    };
    if at > ctx.now {
        return Err(Failure::new(
            exit::USAGE,
            t(
                ctx.lang,
                "--at is in the future: record a move when it has happened",
                "--at が未来です: 移動は実施後に記録してください",
            ),
        ));
    }
    let mut cat = ctx.catalog()?;
    let medium = MediumId::new(id);
    // Devices over words: the medium's device is asked first; a person
    // cannot move out of a device what the device holds.
    let targets = ctx.conf.loaded.as_ref().map_or(&[][..], |s| s.targets());
    let actor = format!("media move --by {by}");
    let mv = PersonMove {
        medium: &medium,
        to: location.clone(),
        person: &by,
        at,
        note,
        actor: &actor,
    };
    let moved =
        hokan_jobs::site::media::record_move(&mut cat, targets, super::observe::how(ctx), mv)
            .map_err(|e| media_failure(ctx, id, &e))?;
    let rec = moved.record;
    let device = moved.device.map(|n| super::observe::note(ctx, n));
    // Say at once what the move means for the copies on it.
    let (ev, _untrusted) = judged_or_warn(ctx)?;
    let state = ev.medium(&medium);
    if ctx.g.json {
        print_json(&json!({"event": rec, "state": state, "device": device}));
    } else {
        println!(
            "{}: {id} → {} ({by}, {})",
            t(ctx.lang, "recorded", "記録しました"),
            ctx.pick(&location.describe()),
            ctx.when(at)
        );
        if let Some(note) = device.as_ref().filter(|n| !n.observed()) {
            println!("  {}", ctx.pick(&note.describe(ctx)));
        }
        if let Some(v) = state.and_then(|s| s.verdict.as_ref()) {
            println!(
                "  {}: {}",
                t(ctx.lang, "now", "判定"),
                ctx.pick(&v.describe(ctx.offset()))
            );
        }
    }
    Ok(exit::OK)
}

/// A person's record refused or failed, in the person's words: the move
/// the device contradicts names the device, where it sees the medium, and
/// what to do.
fn media_failure(ctx: &SiteCtx<'_>, id: &str, e: &JobError) -> Failure {
    match e {
        JobError::DeviceHoldsMedium { held } => {
            let (pool, device) = (&held.pool, &held.device);
            let how = match held.kind {
                DeviceKind::TapeLibrary => {
                    format!("`hokan tape move --pool {pool} {id} --to export`")
                }
                DeviceKind::TapeDrive => format!("`hokan tape move --pool {pool} {id} --to eject`"),
                DeviceKind::Disk => format!("`hokan disk eject --pool {pool}`"),
            };
            let name = super::observe::device_name(held.kind, device, held.simulated, pool);
            let (seen, said) = (held.seen.describe(), held.said.describe());
            Failure::new(
                exit::ERROR,
                ctx.pick(&hokan_offline::Text::new(
                    format!(
                        "{id}: not recorded: the {} reports it {} right now, not {}. A person's record cannot take a medium out of a device. Take it out with the device first ({how}), then record where it is kept.",
                        name.en, seen.en, said.en
                    ),
                    format!(
                        "{id}: 記録しませんでした。{} が今「{}」にあると報告しており、「{}」ではありません。人の記録で装置内の媒体を装置外に移すことはできません。先に装置から取り出し（{how}）、その後で保管場所を記録してください。",
                        name.ja, seen.ja, said.ja
                    ),
                )),
            )
        }
        JobError::AlreadyRetired { .. } => Failure::new(
            exit::ERROR,
            format!(
                "{id}: {}",
                t(ctx.lang, "already retired", "既に廃棄済みです")
            ),
        ),
        JobError::Catalog(c) => ctx.catalog_failure(c),
        e => crate::job_error::failure(ctx.lang, e),
    }
}

fn retire(
    ctx: &SiteCtx<'_>,
    id: &str,
    by: &str,
    reason: Option<String>,
    damaged: bool,
) -> Result<i32, Failure> {
    let by = person(ctx, by)?;
    let mut cat = ctx.catalog()?;
    let medium = MediumId::new(id);
    let condition = if damaged {
        Condition::Damaged
    } else {
        Condition::Retired
    };
    let actor = format!("media retire --by {by}");
    let rec = hokan_jobs::site::media::retire(&mut cat, ctx.now, &actor, &medium, damaged, reason)
        .map_err(|e| media_failure(ctx, id, &e))?;
    if ctx.g.json {
        print_json(&json!({"event": rec}));
    } else {
        println!(
            "{id}: {} ({by}). {}",
            match ctx.lang {
                crate::i18n::Lang::En => condition_en(condition),
                crate::i18n::Lang::Ja => condition_ja(condition),
            },
            t(
                ctx.lang,
                "Its copies no longer count as offline generations.",
                "この媒体のコピーはオフライン世代として数えません。"
            )
        );
    }
    Ok(exit::OK)
}

/// The judged evaluation for the verdicts shown beside media, and the exit
/// code: 0, or [`exit::UNTRUSTED`] with the reasons on stderr when the
/// catalog is not evidence (the media are then listed without a verdict).
fn judged_or_warn(ctx: &SiteCtx<'_>) -> Result<(hokan_offline::Evaluation, i32), Failure> {
    let judged = ctx.judge()?;
    if judged.trusted() {
        return Ok((judged.evaluation, exit::OK));
    }
    for p in &judged.evaluation.problems {
        eprintln!("{}\n  → {}", ctx.pick(&p.message), ctx.pick(&p.next_step));
    }
    Ok((judged.evaluation, exit::UNTRUSTED))
}

/// The catalog, which must exist (listing never creates one: a missing
/// catalog is exit 12, [`exit::UNTRUSTED`]).
fn existing(ctx: &SiteCtx<'_>) -> Result<hokan_catalog::Catalog, Failure> {
    hokan_catalog::Catalog::open_existing(&ctx.catalog_path()?).map_err(|e| ctx.catalog_failure(&e))
}
