//! `hokan status`: the morning view.
//!
//! Problems first, each with what to do; then per source the offline
//! generations against the policy; then every medium with its place and
//! 項番. Exit code 0 when compliant, [`crate::exit::NOT_COMPLIANT`] when not, and
//! [`crate::exit::UNTRUSTED`] when the catalog cannot be trusted (nothing judged),
//! so monitoring can alert on it.

use std::fmt::Write;

use hokan_catalog::MediumRow;
use hokan_offline::{Evaluation, ObservedBy, Severity, Strength, Verdict};
use serde_json::json;

use crate::ctx::{print_json, SiteCtx};
use crate::exit::Failure;
use crate::i18n::{display_width, pad, t, Lang};

pub fn run(ctx: &SiteCtx<'_>, args: &super::args::StatusArgs) -> Result<i32, Failure> {
    // Devices over words: observe before judging.
    // Every tape library, tape drive and RDX device is asked where its media
    // are (each within --observe-timeout) and what it reports is recorded,
    // so the verdicts below rest on the devices, not on older words.
    // `--no-observe` skips this for monitoring that must not touch devices.
    // A missing catalog is neither observed into nor created: it is judged
    // untrusted below.
    let exists = ctx.catalog_path()?.is_file();
    let (observed, devices) = if args.no_observe || !exists {
        (false, Vec::new())
    } else {
        let mut cat = ctx.catalog()?;
        (true, super::observe::observe_devices(ctx, &mut cat))
    };
    // The verdict rests on the verified chain and the anchors on offline
    // media, never on the tables alone.
    let judged = ctx.judge()?;
    let ev = &judged.evaluation;
    let code = judged.exit_code();
    // Tonight's plan and what a person must do first (a trusted catalog's
    // night history decides what is due).
    // Only devices that answered just now are asked again.
    let tonight = if judged.trusted() {
        crate::night::tonight(ctx, &|pool| {
            devices
                .iter()
                .any(|d| d.pool.as_str() == pool && d.observed())
        })
    } else {
        None
    };
    if ctx.g.json {
        print_json(&json!({
            "site": ctx.conf.name,
            "compliant": ev.compliant,
            "trusted": judged.trusted(),
            "exit_code": code,
            "observed_devices": observed,
            "devices": devices,
            "anchor_notes": judged.anchor_notes,
            "vaults": vaults_json(ctx, &judged),
            "catalog_head": judged.report.as_ref().map(|r| r.head.to_string()),
            "evaluation": ev,
            "tonight": tonight.as_ref().map(|(s, m)| crate::night::plan_json(ctx.lang, s, m)),
        }));
        return Ok(code);
    }
    let media = match (&judged.catalog, judged.trusted()) {
        (Some(cat), true) => cat.media().map_err(|e| ctx.catalog_failure(&e))?,
        // Untrusted tables are not shown as if they were facts.
        _ => Vec::new(),
    };
    print!("{}", super::observe::render(ctx, &devices));
    print!("{}", render(ctx, ev, &media));
    if judged.trusted() {
        print!("{}", render_vaults(ctx, &judged));
    }
    if let Some((steps, media)) = &tonight {
        print!("{}", crate::night::render_tonight(ctx.lang, steps, media));
    }
    for n in &judged.anchor_notes {
        println!("  [{}] {}", t(ctx.lang, "note", "注意"), ctx.pick(n));
    }
    Ok(code)
}

fn severity(l: Lang, s: Severity) -> &'static str {
    match s {
        Severity::Error => t(l, "ERROR", "エラー"),
        Severity::Warning => t(l, "warning", "警告"),
        Severity::Info => t(l, "info", "情報"),
    }
}

/// The whole human view.
pub fn render(ctx: &SiteCtx<'_>, ev: &Evaluation, media: &[MediumRow]) -> String {
    let l = ctx.lang;
    let off = ctx.offset();
    let mut o = String::new();
    let problems = ev.all_problems();
    let count = |s| problems.iter().filter(|p| p.severity == s).count();
    let name = if ctx.conf.name.is_empty() {
        String::new()
    } else {
        format!("{} — ", ctx.conf.name)
    };
    let _ = writeln!(o, "{name}{}", ctx.when(ev.at));
    let _ = writeln!(
        o,
        "{}: {} ({} {}, {} {}, {} {})",
        t(l, "Offline backup", "オフラインバックアップ"),
        if ev.is_untrusted() {
            t(
                l,
                "NOT JUDGED, the catalog cannot be trusted",
                "判定不能（カタログが信頼できません）",
            )
        } else if ev.compliant {
            t(l, "COMPLIANT", "適合")
        } else {
            t(l, "NOT COMPLIANT", "不適合")
        },
        count(Severity::Error),
        t(l, "error(s)", "エラー"),
        count(Severity::Warning),
        t(l, "warning(s)", "警告"),
        count(Severity::Info),
        t(l, "note(s)", "情報"),
    );
    if !problems.is_empty() {
        let _ = writeln!(
            o,
            "\n{}",
            t(l, "Problems, most urgent first:", "問題（重要な順）:")
        );
        for p in &problems {
            let _ = writeln!(
                o,
                "  [{}] {}",
                severity(l, p.severity),
                ctx.pick(&p.message)
            );
            let _ = writeln!(o, "      → {}", ctx.pick(&p.next_step));
        }
    }

    if ev.is_untrusted() {
        // Nothing below would be evidence.
        return o;
    }
    let _ = writeln!(o, "\n{}", t(l, "Sources:", "バックアップ対象:"));
    if ev.sources.is_empty() {
        let _ = writeln!(
            o,
            "  {}",
            t(
                l,
                "(no generations recorded yet: run a backup, then `hokan catalog sync`)",
                "（世代の記録がまだありません: バックアップ後に `hokan catalog sync` を実行してください）"
            )
        );
    }
    for s in &ev.sources {
        let newest = match &s.newest {
            Some(n) => format!(
                "{} {} ({} {})",
                t(l, "newest offline", "最新オフライン世代"),
                ctx.when(n.taken_at),
                ctx.pick(&hokan_offline::text::span(n.age)),
                t(l, "old", "経過")
            ),
            None => t(l, "no offline generation", "オフライン世代なし").to_owned(),
        };
        let _ = writeln!(
            o,
            "  {} {}  {} {}/{} ({} {})  {}  {}",
            if s.compliant { "✓" } else { "✗" },
            pad(s.source.as_str(), 10),
            t(l, "offline generations", "オフライン世代"),
            s.offline_generations.len(),
            s.required,
            t(l, "snapshots:", "スナップショット"),
            s.generations,
            newest,
            if s.rotation.rotates {
                t(l, "rotating", "ローテーションあり")
            } else {
                t(l, "NOT rotating", "ローテーションなし")
            }
        );
        for g in s.offline_generations.iter().rev().take(5) {
            let copies: Vec<String> = g
                .copies
                .iter()
                .map(|c| {
                    format!(
                        "{} {}{}",
                        c.medium,
                        c.koban.as_str(),
                        if c.strength == Strength::Full {
                            ""
                        } else {
                            t(l, " (weaker)", "（弱）")
                        }
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "      {} {}  {}",
                &g.snapshot.as_str()[..g.snapshot.as_str().len().min(8)],
                ctx.when(g.taken_at),
                copies.join(", ")
            );
        }
        if s.offline_generations.len() > 5 {
            let _ = writeln!(
                o,
                "      … {} {}",
                s.offline_generations.len() - 5,
                t(l, "older", "件の古い世代")
            );
        }
    }
    let _ = writeln!(o, "\n{}", t(l, "Media:", "媒体:"));
    if media.is_empty() {
        let _ = writeln!(
            o,
            "  {}",
            t(
                l,
                "(none: `hokan media add` adds one)",
                "（なし: `hokan media add` で登録）"
            )
        );
    } else {
        o.push_str(&media_table(ctx, ev, media));
    }
    let _ = off;
    o
}

/// The per-medium table (also `media list`).
pub fn media_table(ctx: &SiteCtx<'_>, ev: &Evaluation, media: &[MediumRow]) -> String {
    let l = ctx.lang;
    let off = ctx.offset();
    let header = [
        t(l, "medium", "媒体"),
        t(l, "kind", "種類"),
        t(l, "pool", "プール"),
        t(l, "where", "場所"),
        t(l, "offline state", "判定"),
        t(l, "copies", "世代数"),
    ];
    let mut rows: Vec<[String; 6]> = Vec::new();
    for m in media {
        let state = ev.medium(&m.id);
        let kind = match l {
            Lang::En => m.kind.name_en(),
            Lang::Ja => m.kind.name_ja(),
        };
        let place = match state.and_then(|s| s.location.as_ref()) {
            Some(obs) => {
                let who = match &obs.by {
                    ObservedBy::Device { .. } => String::new(),
                    ObservedBy::Person { person } => format!(" ({person})"),
                };
                format!("{}{who}", ctx.pick(&obs.location.describe()))
            }
            None if m.kind.is_carried() => t(l, "not recorded", "記録なし").to_owned(),
            None => "—".to_owned(),
        };
        let verdict = match state.and_then(|s| s.verdict.as_ref()) {
            // Retired or damaged media never count, wherever they are:
            // never shown as ONLINE or offline.
            _ if m.condition == hokan_offline::Condition::Retired => {
                t(l, "retired (not counted)", "廃棄済み（数えない）").to_owned()
            }
            _ if m.condition == hokan_offline::Condition::Damaged => {
                t(l, "damaged (not counted)", "損傷（数えない）").to_owned()
            }
            Some(v) => short_verdict(l, v),
            None => {
                // Stores: the verdict is per copy.
                let on: Vec<_> = ev.copies.iter().filter(|c| c.medium == m.id).collect();
                let offline = on.iter().filter(|c| c.verdict.is_offline()).count();
                let koban = on.iter().find_map(|c| c.verdict.koban());
                match koban {
                    Some(k) => format!(
                        "{} {} ({offline}/{})",
                        t(l, "offline", "オフライン"),
                        k.as_str(),
                        on.len()
                    ),
                    None => on
                        .first()
                        .map(|c| short_verdict(l, &c.verdict))
                        .unwrap_or_else(|| "—".to_owned()),
                }
            }
        };
        let _ = off;
        rows.push([
            m.id.to_string(),
            kind.to_owned(),
            m.pool.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            place,
            verdict,
            m.copies.to_string(),
        ]);
    }
    let mut widths = header.map(display_width);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(display_width(c));
        }
    }
    let mut o = String::new();
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            s.push(' ');
            s.push_str(&pad(c, widths[i]));
        }
        s.trim_end().to_owned()
    };
    let _ = writeln!(o, "{}", line(header.to_vec()));
    for r in &rows {
        let _ = writeln!(o, "{}", line(r.iter().map(String::as_str).collect()));
    }
    o
}

fn short_verdict(l: Lang, v: &Verdict) -> String {
    match v {
        Verdict::Offline {
            koban, strength, ..
        } => format!(
            "{} {}{}",
            t(l, "offline", "オフライン"),
            koban.as_str(),
            if *strength == Strength::Full {
                ""
            } else {
                t(l, " (weaker)", "（弱）")
            }
        ),
        Verdict::Online(_) => t(l, "ONLINE", "オンライン").to_owned(),
        Verdict::Unknown(_) => t(l, "unknown", "不明").to_owned(),
    }
}

/// One configured vault as `status` shows it: its newest verified receipt
/// and what its copies count as.
struct VaultLine {
    name: String,
    newest: Option<hokan_offline::VaultReceipt>,
    copies: usize,
    access: usize,
    immutable: usize,
    unknown: usize,
}

fn vault_lines(ctx: &SiteCtx<'_>, judged: &crate::site::judge::Judged) -> Vec<VaultLine> {
    let (Some(site), Some(cat)) = (&ctx.conf.loaded, &judged.catalog) else {
        return Vec::new();
    };
    if !judged.trusted() {
        return Vec::new();
    }
    let ev = &judged.evaluation;
    site.vaults()
        .map(|(name, _)| {
            let id = hokan_offline::MediumId::new(name.as_str());
            let newest = cat
                .vault_receipts(Some(&id))
                .unwrap_or_default()
                .into_iter()
                .max_by_key(|r| r.issued);
            let on: Vec<_> = ev.copies.iter().filter(|c| c.medium == id).collect();
            VaultLine {
                name: name.to_string(),
                newest,
                copies: on.len(),
                access: on
                    .iter()
                    .filter(|c| c.verdict.koban() == Some(hokan_offline::Koban::AccessControlled))
                    .count(),
                immutable: on
                    .iter()
                    .filter(|c| c.verdict.koban() == Some(hokan_offline::Koban::ImmutableDevice))
                    .count(),
                unknown: on
                    .iter()
                    .filter(|c| matches!(c.verdict, Verdict::Unknown(_)))
                    .count(),
            }
        })
        .collect()
}

fn vaults_json(ctx: &SiteCtx<'_>, judged: &crate::site::judge::Judged) -> serde_json::Value {
    let now = judged.evaluation.at;
    serde_json::Value::Array(
        vault_lines(ctx, judged)
            .into_iter()
            .map(|v| {
                json!({
                    "name": v.name,
                    "last_receipt": v.newest.as_ref().map(|r| r.issued.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
                    "last_receipt_age_seconds": v.newest.as_ref().map(|r| (now - r.issued).whole_seconds()),
                    "firewall": v.newest.as_ref().map(|r| r.firewall.clone()),
                    "generations_held": v.newest.as_ref().map(|r| r.generations.len()),
                    "copies": v.copies,
                    "offline_5_1": v.access,
                    "offline_4_1": v.immutable,
                    "unknown": v.unknown,
                })
            })
            .collect(),
    )
}

/// The vaults' lines of the human view.
fn render_vaults(ctx: &SiteCtx<'_>, judged: &crate::site::judge::Judged) -> String {
    let l = ctx.lang;
    let lines = vault_lines(ctx, judged);
    if lines.is_empty() {
        return String::new();
    }
    let now = judged.evaluation.at;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n{}",
        t(
            l,
            "Vaults (signed receipts):",
            "保管サーバ（署名付き受領書）:"
        )
    );
    for v in &lines {
        match &v.newest {
            None => {
                let _ = writeln!(
                    o,
                    "  ✗ {}  {}",
                    pad(&v.name, 10),
                    t(
                        l,
                        "no verified receipt yet: nothing counts",
                        "検証済みの受領書なし: 何も数えません"
                    )
                );
            }
            Some(r) => {
                let age = ctx.pick(&hokan_offline::text::span(now - r.issued));
                let _ = writeln!(
                    o,
                    "  {} {}  {} {} ({} {})  {} {}  ⑤-1 {}  ④-1 {}  {} {}",
                    if v.unknown == 0 && v.copies > 0 {
                        "✓"
                    } else {
                        "✗"
                    },
                    pad(&v.name, 10),
                    t(l, "last receipt", "最新の受領書"),
                    ctx.when(r.issued),
                    age,
                    t(l, "old", "経過"),
                    t(l, "generations held", "保持世代"),
                    r.generations.len(),
                    v.access,
                    v.immutable,
                    t(l, "unknown", "不明"),
                    v.unknown,
                );
            }
        }
    }
    o
}
