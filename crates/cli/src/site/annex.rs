//! `hokan annex`: the backup annex to the hospital's operations rulebook
//! (運用管理規程 別紙: バックアップ運用), generated from hokan.toml, the
//! catalog and the evaluator.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use hokan_report::{render_annex_html, render_annex_markdown, AnnexData, Lang as RLang};
use serde_json::json;

use super::args::{AnnexArgs, AnnexFormat};
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// Gather everything the annex shows, at `ctx.now`
/// ([`hokan_jobs::site::report::annex`]). Needs a configuration:
/// the annex describes a site, and without hokan.toml there is none.
pub fn gather(ctx: &SiteCtx<'_>) -> Result<AnnexData, Failure> {
    let Some(site) = &ctx.conf.loaded else {
        return Err(Failure::new(
            exit::CONFIG,
            t(
                ctx.lang,
                "the annex describes a site: give its hokan.toml (--config, HOKAN_CONFIG or ./hokan.toml)",
                "別紙はサイトを記述します。hokan.toml を指定してください（--config、HOKAN_CONFIG、または ./hokan.toml）",
            )
            .to_owned(),
        ));
    };
    let (judged, _) = ctx.judge()?.into_jobs();
    hokan_jobs::site::report::annex(site, &ctx.conf.policy, judged, ctx.now, ctx.offset())
        .map_err(|e| ctx.catalog_failure(&e))
}

/// The annex in `format`, in the context's language.
fn render(ctx: &SiteCtx<'_>, data: &AnnexData, format: AnnexFormat) -> String {
    let lang = rlang(ctx);
    match format {
        AnnexFormat::Html => render_annex_html(data, lang),
        AnnexFormat::Md => render_annex_markdown(data, lang),
    }
}

fn rlang(ctx: &SiteCtx<'_>) -> RLang {
    match ctx.lang {
        Lang::Ja => RLang::Ja,
        Lang::En => RLang::En,
    }
}

fn write_failure(ctx: &SiteCtx<'_>, p: &Path, e: std::io::Error) -> Failure {
    Failure::new(
        exit::ERROR,
        format!(
            "{} {}: {e}",
            t(
                ctx.lang,
                "cannot write the annex to",
                "別紙を書き込めません:"
            ),
            p.display()
        ),
    )
}

/// Gather and write the annex to `path`, saying nothing (the demo).
pub fn write(ctx: &SiteCtx<'_>, format: AnnexFormat, path: &Path) -> Result<AnnexData, Failure> {
    let data = gather(ctx)?;
    std::fs::write(path, render(ctx, &data, format)).map_err(|e| write_failure(ctx, path, e))?;
    Ok(data)
}

pub fn run(ctx: &SiteCtx<'_>, args: AnnexArgs) -> Result<i32, Failure> {
    let data = gather(ctx)?;
    let text = render(ctx, &data, args.format);
    let version = data.version(rlang(ctx));
    // As `report`: on a terminal without -o, a file named after the date.
    let output = match &args.output {
        Some(p) => Some(p.clone()),
        None if std::io::stdout().is_terminal() || ctx.g.json => {
            Some(default_name(ctx, args.format))
        }
        None => None,
    };
    match &output {
        Some(p) => {
            std::fs::write(p, &text).map_err(|e| write_failure(ctx, p, e))?;
            if ctx.g.json {
                print_json(&json!({
                    "path": p,
                    "version": version,
                    "format_version": hokan_report::ANNEX_FORMAT,
                    "program": data.program,
                    "head": data.head,
                }));
            } else {
                eprintln!(
                    "{} {} ({version})",
                    t(ctx.lang, "annex written:", "別紙を出力しました:"),
                    p.display()
                );
            }
        }
        None => print!("{text}"),
    }
    Ok(if data.evaluation.is_untrusted() {
        exit::UNTRUSTED
    } else {
        exit::OK
    })
}

/// `hokan-annex-2026-12-06.html` in the current folder; `-2`, `-3`, … if
/// taken (an existing annex is never overwritten).
fn default_name(ctx: &SiteCtx<'_>, format: AnnexFormat) -> PathBuf {
    let ext = match format {
        AnnexFormat::Html => "html",
        AnnexFormat::Md => "md",
    };
    let stamp = ctx
        .now
        .format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default();
    let base = format!("hokan-annex-{stamp}");
    let mut p = PathBuf::from(format!("{base}.{ext}"));
    let mut n = 2;
    while p.exists() {
        p = PathBuf::from(format!("{base}-{n}.{ext}"));
        n += 1;
    }
    p
}
