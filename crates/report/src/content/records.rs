//! The records: media, attestations, verify and drill evidence, events, the
//! catalog-only facts and the catalog's head.

use time::OffsetDateTime;

use hokan_catalog::event::short;
use hokan_catalog::{CopyVerifyRow, Event, EventRecord, MediumRow};
use hokan_offline::{Attestation, MediumState};

use super::fmt::{bytes_text, truncate, Ctx};
use super::plural;
use crate::doc::{Block, Cell, Section, Span, Table, Tone};
use crate::Lang;

use crate::drills::{DrillFacts, DRILL_INTERVAL};

/// The media inventory: the evaluator's state of each medium joined with the
/// catalog's row (label, capacity, note).
pub(crate) fn media(cx: &Ctx<'_>) -> Section {
    let ev = &cx.data.evaluation;
    let mut blocks = Vec::new();
    let mut listed: Vec<(Option<&MediumState>, Option<&MediumRow>)> = ev
        .media
        .iter()
        .map(|m| (Some(m), cx.data.media.iter().find(|r| r.id == m.id)))
        .collect();
    for r in &cx.data.media {
        if ev.medium(&r.id).is_none() {
            listed.push((None, Some(r)));
        }
    }
    if listed.is_empty() {
        blocks.push(Block::Note(
            Tone::Warn,
            Cell::text(cx.tr(
                "No medium is registered yet: no copy can be offline.",
                "媒体はまだ登録されていません。オフラインのコピーはありません。",
            )),
        ));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Medium", "媒体"),
            cx.tr("Kind / pool", "種別・プール"),
            cx.tr("Condition", "状態"),
            cx.tr("Where it is now", "現在の所在"),
            cx.tr("Verdict", "判定"),
            cx.tr("Complete copies", "完全なコピー"),
            cx.tr("Note", "備考"),
        ]);
        for (state, row) in listed {
            t.row(medium_row(cx, state, row));
        }
        blocks.push(Block::Table(t));
    }
    Section {
        id: "media",
        title: cx.tr("Media inventory", "媒体一覧"),
        blocks,
    }
}

fn medium_row(cx: &Ctx<'_>, state: Option<&MediumState>, row: Option<&MediumRow>) -> Vec<Cell> {
    let id = state.map(|s| &s.id).or(row.map(|r| &r.id));
    let kind = state.map(|s| s.kind).or(row.map(|r| r.kind));
    let pool = state
        .and_then(|s| s.pool.as_ref())
        .or(row.and_then(|r| r.pool.as_ref()));
    let condition = state.map(|s| s.condition).or(row.map(|r| r.condition));

    let mut medium = id.map_or_else(Cell::empty, |i| Cell::code(i.as_str()));
    if let Some(r) = row {
        if let Some(l) = r.label.as_ref().filter(|l| l.as_str() != r.id.as_str()) {
            medium = medium.small_line(match cx.lang {
                Lang::Ja => format!("ラベル {l}"),
                Lang::En => format!("label {l}"),
            });
        }
        if let Some(c) = r.capacity {
            medium = medium.small_line(match cx.lang {
                Lang::Ja => format!("容量 {}", bytes_text(c)),
                Lang::En => format!("capacity {}", bytes_text(c)),
            });
        }
    }
    let mut kind_pool = kind.map_or_else(Cell::empty, |k| {
        Cell::text(match cx.lang {
            Lang::Ja => k.name_ja(),
            Lang::En => k.name_en(),
        })
    });
    kind_pool = kind_pool.small_line(match (pool, cx.lang) {
        (Some(p), Lang::Ja) => format!("プール {p}"),
        (Some(p), Lang::En) => format!("pool {p}"),
        (None, _) => cx.tr("no pool", "プールなし"),
    });

    // Where: the observation the evaluator used (latest by time); for a
    // medium the evaluator did not see, the catalog's latest record.
    let carried = kind.is_some_and(|k| k.is_carried());
    let observation = match state {
        Some(s) => s.location.as_ref(),
        None => row.and_then(|r| r.location.as_ref()),
    };
    let location = match observation {
        Some(o) => {
            let mut c = Cell::text(cx.pick(&o.location.describe())).small_line(match cx.lang {
                Lang::Ja => format!("記録：{}・{}", cx.observer(&o.by), cx.when(o.at)),
                Lang::En => format!("recorded by {}, {}", cx.observer(&o.by), cx.when(o.at)),
            });
            if let Some(n) = &o.note {
                c = c.small_line(match cx.lang {
                    Lang::Ja => format!("メモ：{n}"),
                    Lang::En => format!("note: {n}"),
                });
            }
            c
        }
        None if carried => Cell::badge(Tone::Bad, cx.tr("× never recorded", "× 記録なし")),
        None => Cell(vec![Span::Small(cx.tr(
            "— (stored medium: judged by what protects each copy)",
            "—（保管型の媒体：コピーごとの保護で判定）",
        ))]),
    };
    let verdict = match state.and_then(|s| s.verdict.as_ref()) {
        Some(v) => cx.verdict(v),
        None => Cell(vec![Span::Small(cx.tr(
            "per copy (see “Generations and their copies”)",
            "コピーごと（「世代ごとのコピー」参照）",
        ))]),
    };
    let copies = match state {
        Some(s) => s.complete_copies.to_string(),
        None => row.map_or(0, |r| r.copies).to_string(),
    };
    vec![
        medium,
        kind_pool,
        condition.map_or_else(Cell::empty, |c| cx.condition(c)),
        location,
        verdict,
        Cell::text(copies),
        row.and_then(|r| r.note.as_ref())
            .map_or_else(Cell::empty, |n| Cell::text(n.as_str())),
    ]
}

/// Attestations, and whether each holds when the report was made.
pub(crate) fn attestations(cx: &Ctx<'_>) -> Section {
    let mut blocks = vec![Block::Para(Cell::text(cx.tr(
        "Facts software cannot observe (network segmentation, an immutable device, a pull-only firewall, provider isolation) count only while a person attests them; every attestation expires.",
        "ソフトウェアが観測できない事実（ネットワーク分割、不変領域、プル専用のファイアウォール、事業者による隔離）は、人が証明している間だけ数えます。証明には必ず期限があります。",
    )))];
    if cx.data.attestations.is_empty() {
        blocks.push(Block::Note(
            Tone::Info,
            Cell::text(cx.tr("No attestation is recorded.", "証明は記録されていません。")),
        ));
    } else {
        let mut t = Table::new(vec![
            cx.tr("ID", "ID"),
            cx.tr("Claim", "内容"),
            cx.tr("By", "証明者"),
            cx.tr("Evidence", "根拠"),
            cx.tr("Valid", "有効期間"),
            cx.tr("At this report", "作成時点"),
        ]);
        for a in &cx.data.attestations {
            let (tone, state) = attestation_state(cx, a);
            let mut valid = Cell::text(cx.when(a.valid_from))
                .line(Cell::text(format!("〜 {}", cx.when(a.expires_at))));
            if let Some(w) = a.withdrawn_at {
                valid = valid.line(Cell::toned(
                    Tone::Bad,
                    match cx.lang {
                        Lang::Ja => format!("取消 {}", cx.when(w)),
                        Lang::En => format!("withdrawn {}", cx.when(w)),
                    },
                ));
            }
            t.row_toned(
                (tone != Tone::Ok).then_some(Tone::Muted),
                vec![
                    Cell::code(a.id.as_str()),
                    Cell::text(match cx.lang {
                        Lang::Ja => a.claim.name_ja(),
                        Lang::En => a.claim.name_en(),
                    }),
                    Cell::text(a.by.as_str()),
                    Cell::text(a.evidence.as_str()),
                    valid,
                    Cell::badge(tone, state),
                ],
            );
        }
        blocks.push(Block::Table(t));
    }
    Section {
        id: "attestations",
        title: cx.tr("Attestations", "証明（人による確認事項）"),
        blocks,
    }
}

fn attestation_state(cx: &Ctx<'_>, a: &Attestation) -> (Tone, String) {
    let now = cx.data.generated_at;
    if a.holds_at(now) {
        return (Tone::Ok, cx.tr("○ holds", "○ 有効"));
    }
    let why = if a.valid_from > now {
        cx.tr("× not yet valid", "× 開始前")
    } else if a.withdrawn_at.is_some_and(|w| w <= now) {
        cx.tr("× withdrawn", "× 取消済み")
    } else {
        cx.tr("× expired", "× 期限切れ")
    };
    (Tone::Bad, why)
}

/// Verify results, restore drills and the other recent jobs.
pub(crate) fn verification(cx: &Ctx<'_>) -> Section {
    let d = cx.data;
    let mut blocks = Vec::new();

    blocks.push(Block::Sub(
        cx.tr("Verify results", "検証（読み戻し確認）の結果"),
    ));
    let rows = verify_rows(cx);
    if rows.is_empty() {
        blocks.push(Block::Note(
            Tone::Warn,
            Cell::text(cx.tr(
                "No verify is recorded: no verify job among the recent jobs, and no copy read back from its medium.",
                "検証の記録はありません（最近のジョブに検証がなく、媒体から読み戻したコピーもありません）。",
            )),
        ));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Target", "対象"),
            cx.tr("When", "日時"),
            cx.tr("Result", "結果"),
            cx.tr("Detail", "詳細"),
        ]);
        for (_, tone, cells) in rows {
            t.row_toned(tone, cells);
        }
        blocks.push(Block::Table(t));
    }

    blocks.push(Block::Sub(cx.tr("Restore drills", "復旧訓練")));
    blocks.push(drill_note(cx));
    blocks.push(Block::Sub(cx.tr(
        "The last drill per kind of medium",
        "媒体の種類ごとの最後の訓練",
    )));
    blocks.push(Block::Para(annex_reference(cx)));
    let facts = DrillFacts::new(
        cx.lang,
        (d.generated_at, d.offset),
        &d.evaluation,
        &d.media,
        &d.drills,
    );
    blocks.push(Block::Table(facts.table()));
    if !d.drills.is_empty() {
        blocks.push(Block::Sub(
            cx.tr("Every drill recorded", "記録されたすべての訓練"),
        ));
        let mut t = Table::new(vec![
            cx.tr("Generation", "世代"),
            cx.tr("From medium", "媒体"),
            cx.tr("Started", "実施日時"),
            cx.tr("Took", "所要時間"),
            cx.tr("Result", "結果"),
            cx.tr("By", "実施者"),
            cx.tr("Detail", "詳細"),
        ]);
        for r in &d.drills {
            t.row_toned(
                (!r.ok).then_some(Tone::Bad),
                vec![
                    Cell::code(short(&r.snapshot)),
                    Cell::code(r.medium.as_str()),
                    Cell::text(cx.when(r.started_at)),
                    Cell::text(cx.seconds(r.seconds)),
                    cx.passed(r.ok),
                    r.by.as_deref().map_or_else(Cell::empty, Cell::text),
                    r.detail.as_deref().map_or_else(Cell::empty, Cell::text),
                ],
            );
        }
        blocks.push(Block::Table(t));
    }

    blocks.push(Block::Sub(
        cx.tr("Other recent jobs", "その他の最近のジョブ"),
    ));
    let others: Vec<_> = d.jobs.iter().filter(|j| j.job != "verify").collect();
    if others.is_empty() {
        blocks.push(Block::Para(Cell::text(cx.tr(
            "No other job is recorded.",
            "ほかのジョブの記録はありません。",
        ))));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Job", "種類"),
            cx.tr("Target", "対象"),
            cx.tr("Started", "開始"),
            cx.tr("Finished", "終了"),
            cx.tr("Result", "結果"),
            cx.tr("Detail", "詳細"),
        ]);
        for j in others {
            t.row(vec![
                // Plain text, not code: a job's kind and target break
                // between words ("tape-" / "backup"), never letter by letter.
                Cell::text(&j.job),
                Cell::text(&j.target),
                Cell::text(cx.when(j.started_at)),
                Cell::text(cx.when(j.finished_at)),
                cx.outcome(&j.outcome),
                Cell::text(cx.json_detail(&j.detail)),
            ]);
        }
        blocks.push(Block::Table(t));
    }
    Section {
        id: "verification",
        title: verification_title(cx.lang).to_owned(),
        blocks,
    }
}

/// The title of the report's section on verify and drill evidence, which
/// the annex refers to.
pub(crate) fn verification_title(lang: Lang) -> &'static str {
    crate::doc::tr(lang, "Verification and restore drills", "検証と復旧訓練")
}

/// What the per-medium table means, and that the rulebook annex of the
/// version named on the first page shows the same table.
fn annex_reference(cx: &Ctx<'_>) -> Cell {
    let version = crate::annex::annex_version(&cx.data.program, cx.lang);
    Cell::text(match cx.lang {
        Lang::Ja => format!(
            "各行は、その種類の媒体だけから復元した最後の訓練です。「全体の復元見込み」は、計測した転送速度でバックアップ対象全体を復元した場合の所要時間で、対象の目標復旧時間（hokan.toml の rto）と比べます。運用管理規程の別紙（{version}）の「復旧訓練」にも同じ表があります。"
        ),
        Lang::En => format!(
            "Each row is the last drill that restored from that kind of medium alone. “Whole source” is the time a restore of the whole source would take at the measured throughput, compared with the source’s recovery-time target (rto in hokan.toml). The rulebook annex ({version}) shows the same table in its section “Restore drills”."
        ),
    })
}

/// The verify evidence, newest first: verify jobs, and the copies read back
/// from their medium (a tape or disk job's read-back after writing, a verify
/// of a medium), one row per medium and instant.
fn verify_rows(cx: &Ctx<'_>) -> Vec<(OffsetDateTime, Option<Tone>, Vec<Cell>)> {
    let d = cx.data;
    let mut rows = Vec::new();
    for j in d.jobs.iter().filter(|j| j.job == "verify") {
        let tone = (j.outcome != "ok").then_some(Tone::Bad);
        rows.push((
            j.finished_at,
            tone,
            vec![
                Cell::code(&j.target).small_line(cx.tr("verify job", "検証ジョブ")),
                Cell::text(cx.when(j.started_at))
                    .line(Cell::text(format!("〜 {}", cx.when(j.finished_at)))),
                cx.outcome(&j.outcome),
                Cell::text(cx.json_detail(&j.detail)),
            ],
        ));
    }
    // Group the per-generation records of one medium at one instant.
    let mut groups: Vec<Vec<&CopyVerifyRow>> = Vec::new();
    for v in &d.copy_verifications {
        match groups.last_mut() {
            Some(g)
                if g[0].medium == v.medium
                    && g[0].at == v.at
                    && g[0].ok == v.ok
                    && g[0].detail == v.detail =>
            {
                g.push(v)
            }
            _ => groups.push(vec![v]),
        }
    }
    for g in groups {
        let first = g[0];
        let kind = cx
            .data
            .media
            .iter()
            .find(|m| m.id == first.medium)
            .map(|m| match cx.lang {
                Lang::Ja => m.kind.name_ja(),
                Lang::En => m.kind.name_en(),
            });
        let mut target = Cell::code(first.medium.as_str());
        if let Some(k) = kind {
            target = target.small_line(k);
        }
        let mut ids: Vec<String> = g.iter().map(|v| short(&v.snapshot).to_owned()).collect();
        ids.dedup();
        let n = ids.len();
        let mut detail = Cell::text(match cx.lang {
            Lang::Ja => format!("{n} 世代："),
            Lang::En => format!("{n} generation{}: ", plural(n)),
        })
        .push(Span::Code(ids.join(" ")));
        if let Some(why) = &first.detail {
            detail = detail.line(Cell::text(why.as_str()));
        }
        detail = detail.small_line(match cx.lang {
            Lang::Ja => format!("記録：{}", first.actor),
            Lang::En => format!("recorded by {}", first.actor),
        });
        rows.push((
            first.at,
            (!first.ok).then_some(Tone::Bad),
            vec![
                target,
                Cell::text(cx.when(first.at)),
                cx.passed(first.ok),
                detail,
            ],
        ));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows
}

/// The yearly-drill remark: none recorded, too old, the newest failed, or
/// when the newest was.
fn drill_note(cx: &Ctx<'_>) -> Block {
    let now = cx.data.generated_at;
    let rule = cx.tr(
        "The fee-schedule rule (診療録管理体制加算1) asks for a restore drill at least once a year.",
        "診療録管理体制加算1 では、年1回以上の復旧訓練が求められます。",
    );
    let newest = cx
        .data
        .drills
        .iter()
        .filter(|r| r.started_at <= now)
        .max_by_key(|r| (r.started_at, r.seq));
    let Some(newest) = newest else {
        return Block::Note(
            Tone::Bad,
            Cell(vec![Span::Strong(cx.tr(
                "No restore drill recorded.",
                "復旧訓練の記録がありません。",
            ))])
            .then(format!(" {rule}")),
        );
    };
    let at = cx.day(newest.started_at);
    let ago = cx.ago(newest.started_at);
    if now - newest.started_at > DRILL_INTERVAL {
        return Block::Note(
            Tone::Bad,
            Cell(vec![Span::Strong(match cx.lang {
                Lang::Ja => format!("最新の復旧訓練は {at}（{ago}）で、1年以上前です。"),
                Lang::En => {
                    format!("The newest restore drill was on {at} ({ago}), more than a year ago.")
                }
            })])
            .then(format!(" {rule}")),
        );
    }
    if !newest.ok {
        return Block::Note(
            Tone::Bad,
            Cell(vec![Span::Strong(match cx.lang {
                Lang::Ja => format!("最新の復旧訓練（{at}）は失敗しました。"),
                Lang::En => format!("The newest restore drill ({at}) failed."),
            })])
            .then(cx.tr(
                " Find the cause and drill again.",
                "原因を確認し、再度訓練を行ってください。",
            )),
        );
    }
    Block::Note(
        Tone::Ok,
        Cell::text(match cx.lang {
            Lang::Ja => format!(
                "最新の復旧訓練：{at}（{ago}）、{}（{}）で成功。{rule}",
                cx.seconds(newest.seconds),
                newest.medium
            ),
            Lang::En => format!(
                "Newest restore drill: {at} ({ago}), from {}, passed in {}. {rule}",
                newest.medium,
                cx.seconds(newest.seconds)
            ),
        }),
    )
}

fn event_table(cx: &Ctx<'_>, events: &[EventRecord], with_detail: bool) -> Table {
    let mut head = vec![
        cx.tr("#", "番号"),
        cx.tr("Recorded", "記録日時"),
        cx.tr("By", "記録者"),
        cx.tr("Event", "内容"),
    ];
    if with_detail {
        head.push(cx.tr("Detail", "詳細"));
    }
    let mut t = Table::new(head);
    for e in events {
        let mut row = vec![
            Cell::text(e.seq.to_string()),
            Cell::text(cx.when(e.at)),
            Cell::text(e.actor.as_str()),
            Cell::text(cx.pick(&e.event.describe())),
        ];
        if with_detail {
            row.push(event_detail(cx, &e.event));
        }
        t.row(row);
    }
    t
}

/// Recent events, newest first.
pub(crate) fn events(cx: &Ctx<'_>) -> Section {
    let events = &cx.data.events;
    let blocks = if events.is_empty() {
        vec![Block::Para(Cell::text(cx.tr(
            "The catalog holds no event yet.",
            "カタログにはまだイベントがありません。",
        )))]
    } else {
        vec![
            Block::Para(Cell::text(match cx.lang {
                Lang::Ja => format!("直近 {} 件（新しい順）。", events.len()),
                Lang::En => format!(
                    "The latest {} event{}, newest first.",
                    events.len(),
                    plural(events.len())
                ),
            })),
            Block::Table(event_table(cx, events, false)),
        ]
    };
    Section {
        id: "events",
        title: cx.tr("Recent events", "最近のイベント"),
        blocks,
    }
}

/// What a catalog-only event holds beyond its one-line description: the
/// parts that would be lost with the catalog.
fn event_detail(cx: &Ctx<'_>, e: &Event) -> Cell {
    let mut c = Cell::empty();
    let mut add = |label_en: &str, label_ja: &str, value: String| {
        c = std::mem::take(&mut c).line(Cell::text(match cx.lang {
            Lang::Ja => format!("{label_ja}：{value}"),
            Lang::En => format!("{label_en}: {value}"),
        }));
    };
    let when = |t: OffsetDateTime| cx.when(t);
    match e {
        Event::MediumLocated { at, note, .. } => {
            add("there at", "所在の日時", when(*at));
            if let Some(n) = note {
                add("note", "メモ", n.clone());
            }
        }
        Event::MediumAdded { note: Some(n), .. } => add("note", "メモ", n.clone()),
        Event::MediumCondition {
            reason: Some(r), ..
        } => add("reason", "理由", r.clone()),
        Event::Attested { attestation: a } => {
            add("evidence", "根拠", a.evidence.clone());
            add(
                "valid",
                "有効期間",
                format!("{} 〜 {}", when(a.valid_from), when(a.expires_at)),
            );
        }
        Event::AttestationWithdrawn { at, reason, .. } => {
            add("from", "取消日時", when(*at));
            if let Some(r) = reason {
                add("reason", "理由", r.clone());
            }
        }
        Event::Drilled {
            started_at,
            seconds,
            by,
            detail,
            ..
        } => {
            add("started", "開始", when(*started_at));
            add("took", "所要時間", cx.seconds(*seconds));
            if let Some(b) = by {
                add("by", "実施者", b.to_string());
            }
            if let Some(d) = detail {
                add("detail", "詳細", truncate(d, 300));
            }
        }
        _ => {}
    }
    c
}

/// Every fact only the catalog holds.
pub(crate) fn appendix(cx: &Ctx<'_>) -> Section {
    let all = &cx.data.catalog_only;
    let mut blocks = vec![Block::Para(Cell::text(cx.tr(
        "Snapshots, copies and locks can be rebuilt by reading the repositories and media again. The facts below cannot: moves of media recorded by people, attestations and their withdrawal, changes of a medium's condition, restore drill results and notes exist only in the catalog. They are listed here in full, so that this report keeps them if the catalog is lost (the JSON report holds them in machine-readable form).",
        "世代・コピー・ロックは、リポジトリや媒体を読み直せば再構成できます。以下の事実はできません：人が記録した媒体の移動、証明とその取消、媒体の状態変更、復旧訓練の結果、メモはカタログにしか存在しません。カタログを失ってもこの報告書に残るよう、全件を記載します（機械で読める形は JSON 形式の報告書にあります）。",
    )))];
    if all.is_empty() {
        blocks.push(Block::Para(Cell::text(cx.tr(
            "There are no such facts yet.",
            "該当する事実はまだありません。",
        ))));
    } else {
        blocks.push(Block::Para(Cell::text(match cx.lang {
            Lang::Ja => format!("全 {} 件（新しい順）。", all.len()),
            Lang::En => format!("All {} of them, newest first.", all.len()),
        })));
        blocks.push(Block::Table(event_table(cx, all, true)));
    }
    Section {
        id: "catalog-only",
        title: cx.tr(
            "Appendix: facts only the catalog holds",
            "付録：カタログにしかない事実",
        ),
        blocks,
    }
}

/// The catalog's head and what `catalog verify` found.
pub(crate) fn integrity(cx: &Ctx<'_>) -> Section {
    let d = cx.data;
    let head = d.head.to_string();
    let verify = if d.catalog_problems.is_empty() {
        Cell::badge(
            Tone::Ok,
            cx.tr("○ catalog verify: OK", "○ カタログ検証：問題なし"),
        )
    } else {
        let mut c = Cell::badge(
            Tone::Bad,
            match cx.lang {
                Lang::Ja => format!("× カタログ検証：{} 件の問題", d.catalog_problems.len()),
                Lang::En => format!(
                    "× catalog verify: {} problem{}",
                    d.catalog_problems.len(),
                    plural(d.catalog_problems.len())
                ),
            },
        );
        for p in &d.catalog_problems {
            c = c.line(Cell::text(format!("• {p}")));
        }
        c
    };
    let blocks = vec![
        Block::Pairs(vec![
            (
                cx.tr("Catalog head (event number:hash)", "カタログの先頭（イベント番号:ハッシュ）"),
                Cell::code(head.clone()),
            ),
            (cx.tr("Catalog verify", "カタログ検証"), verify),
        ]),
        Block::Para(
            Cell::text(cx.tr(
                "The hash chains every event up to this report. To show later that no event was removed or altered since, run ",
                "このハッシュは、本報告書までのすべてのイベントを連鎖的に要約したものです。作成後にイベントが削除・改ざんされていないことを後日確かめるには、",
            ))
            .push(Span::Code(format!("hokan catalog verify --expect {head}")))
            .then(cx.tr(".", " を実行してください。")),
        ),
    ];
    Section {
        id: "integrity",
        title: cx.tr("Catalog integrity", "カタログの完全性"),
        blocks,
    }
}
