//! `hokan report`: the evidence kept for inspections.

use hokan_offline::evaluate;
use hokan_report::{
    render_html, render_json, render_markdown, Lang as RLang, ReportData, SiteInfo,
};

use super::args::{ReportArgs, ReportFormat};
use super::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// Gather everything a report shows, at `ctx.now`.
pub fn gather(ctx: &SiteCtx<'_>, events: usize) -> Result<ReportData, Failure> {
    let cat = ctx.catalog()?;
    let f = |e| ctx.catalog_failure(&e);
    let facts = cat.facts().map_err(f)?;
    let evaluation = evaluate(&facts, &ctx.conf.policy, ctx.now);
    let verify = cat.verify(None).map_err(f)?;
    let name = if ctx.conf.name.is_empty() {
        t(ctx.lang, "(unnamed site)", "（名称未設定）").to_owned()
    } else {
        ctx.conf.name.clone()
    };
    Ok(ReportData {
        generated_at: ctx.now,
        offset: ctx.offset(),
        program: format!("hokan {}", env!("CARGO_PKG_VERSION")),
        site: SiteInfo {
            name,
            config: ctx.conf.config.as_ref().map(|p| p.display().to_string()),
            catalog: cat
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            repository: ctx
                .conf
                .repository
                .as_ref()
                .map(|p| p.display().to_string()),
        },
        policy: ctx.conf.policy.clone(),
        evaluation,
        snapshots: cat.snapshots().map_err(f)?,
        media: cat.media().map_err(f)?,
        attestations: cat.attestations().map_err(f)?,
        jobs: cat.jobs(20).map_err(f)?,
        drills: cat.drills(20).map_err(f)?,
        events: cat.events(events, false).map_err(f)?,
        catalog_only: cat.events(usize::MAX, true).map_err(f)?,
        head: verify.head.clone(),
        catalog_problems: verify
            .problems
            .iter()
            .map(|p| ctx.pick(&p.message))
            .collect(),
    })
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
    match &args.output {
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
                    if data.evaluation.compliant {
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
    // except that a tampered catalog is reported loudly in the exit code.
    Ok(if data.catalog_problems.is_empty() {
        exit::OK
    } else {
        exit::DAMAGE
    })
}
