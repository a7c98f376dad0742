//! `hokan report`: the evidence kept for inspections.

use hokan_report::{render_html, render_json, render_markdown, Lang as RLang, ReportData};

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{ReportArgs, ReportFormat};
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// Gather everything a report shows, at `ctx.now`
/// ([`hokan_jobs::site::report::report`]). The evaluation is the judged one
/// ([`SiteCtx::judge`]): a catalog that is not evidence gives an untrusted
/// evaluation, and the report still lists what the tables hold (marked by
/// the catalog problems), because a report is evidence too.
pub fn gather(ctx: &SiteCtx<'_>, events: usize) -> Result<ReportData, Failure> {
    let (judged, notes) = ctx.judge()?.into_jobs();
    let catalog = ctx.catalog_path()?;
    let from = hokan_jobs::site::report::ReportFrom {
        site: ctx.conf.loaded.as_ref(),
        catalog: &catalog,
        repository: ctx.conf.repository_label.clone(),
        policy: &ctx.conf.policy,
        now: ctx.now,
        offset: ctx.offset(),
        ja: ctx.lang == Lang::Ja,
        events,
        notes,
    };
    hokan_jobs::site::report::report(from, judged).map_err(|e| ctx.catalog_failure(&e))
}

pub fn run(ctx: &SiteCtx<'_>, args: ReportArgs) -> Result<i32, Failure> {
    let data = gather(ctx, args.events)?;
    let lang = match ctx.lang {
        Lang::Ja => RLang::Ja,
        Lang::En => RLang::En,
    };
    let text = match args.format {
        ReportFormat::Html => render_html(&data, lang),
        ReportFormat::Md => render_markdown(&data, lang),
        ReportFormat::Json => render_json(&data),
    };
    // On a terminal, pages of HTML help nobody: without -o the report goes
    // to a file named after the site's date and time, and we say which.
    // Piped or redirected (`hokan report > r.html`), it goes to stdout.
    let output = match &args.output {
        Some(p) => Some(p.clone()),
        None if std::io::stdout().is_terminal() => Some(default_name(ctx, args.format)),
        None => None,
    };
    match &output {
        Some(p) => {
            std::fs::write(p, &text).map_err(|e| {
                Failure::new(
                    exit::ERROR,
                    format!(
                        "{} {}: {e}",
                        t(
                            ctx.lang,
                            "cannot write the report to",
                            "報告書を書き込めません:"
                        ),
                        p.display()
                    ),
                )
            })?;
            if !ctx.g.json {
                eprintln!(
                    "{} {} ({})",
                    t(ctx.lang, "report written:", "報告書を出力しました:"),
                    p.display(),
                    if data.evaluation.is_untrusted() {
                        t(
                            ctx.lang,
                            "NOT JUDGED: catalog untrusted",
                            "判定不能: カタログが信頼できません",
                        )
                    } else if data.evaluation.compliant {
                        t(ctx.lang, "compliant", "適合")
                    } else {
                        t(ctx.lang, "NOT compliant", "不適合")
                    }
                );
            }
        }
        None => print!("{text}"),
    }
    // A report is evidence, not a check: it succeeds whatever it says,
    // except that a catalog that is not evidence is reported loudly in the
    // exit code.
    Ok(if data.evaluation.is_untrusted() {
        exit::UNTRUSTED
    } else {
        exit::OK
    })
}

/// `hokan-report-2026-12-06-0914.html` in the current folder, at the
/// report's time in the site's zone; `-2`, `-3`, … if that name is taken
/// (an existing report is never overwritten).
pub fn default_name(ctx: &SiteCtx<'_>, format: ReportFormat) -> PathBuf {
    let ext = match format {
        ReportFormat::Html => "html",
        ReportFormat::Md => "md",
        ReportFormat::Json => "json",
    };
    let stamp = ctx
        .now
        .format(time::macros::format_description!(
            "[year]-[month]-[day]-[hour][minute]"
        ))
        .unwrap_or_default();
    let base = format!("hokan-report-{stamp}");
    let mut p = PathBuf::from(format!("{base}.{ext}"));
    let mut n = 2;
    while p.exists() {
        p = PathBuf::from(format!("{base}-{n}.{ext}"));
        n += 1;
    }
    p
}
