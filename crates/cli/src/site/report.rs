//! `hokan report`: the evidence kept for inspections.

use hokan_report::{
    render_html, render_json, render_markdown, Lang as RLang, ReportData, Simulated, SimulatedKind,
    SiteInfo,
};
use hokan_site::{is_loopback, TargetKind};

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{ReportArgs, ReportFormat};
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// Gather everything a report shows, at `ctx.now`. The evaluation is the
/// judged one ([`SiteCtx::judge`]): a catalog that is not evidence gives an
/// untrusted evaluation, and the report still lists what the tables hold
/// (marked by the catalog problems), because a report is evidence too.
pub fn gather(ctx: &SiteCtx<'_>, events: usize) -> Result<ReportData, Failure> {
    let judged = ctx.judge()?;
    let f = |e| ctx.catalog_failure(&e);
    let name = if ctx.conf.name.is_empty() {
        t(ctx.lang, "(unnamed site)", "（名称未設定）").to_owned()
    } else {
        ctx.conf.name.clone()
    };
    let mut catalog_problems: Vec<String> = match &judged.report {
        Some(r) => r.problems.iter().map(|p| ctx.pick(&p.message)).collect(),
        None => judged
            .evaluation
            .problems
            .iter()
            .map(|p| ctx.pick(&p.message))
            .collect(),
    };
    catalog_problems.extend(judged.anchor_notes.iter().map(|n| ctx.pick(n)));
    let head = judged.head();
    let catalog_path = ctx.catalog_path()?.display().to_string();
    let site = SiteInfo {
        name,
        config: ctx.conf.config.as_ref().map(|p| p.display().to_string()),
        catalog: catalog_path,
        repository: ctx.conf.repository_label.clone(),
        not_implemented: Vec::new(),
        simulated: simulated(ctx),
    };
    let mut data = ReportData {
        generated_at: ctx.now,
        offset: ctx.offset(),
        program: format!("hokan {}", env!("CARGO_PKG_VERSION")),
        site,
        policy: ctx.conf.policy.clone(),
        evaluation: judged.evaluation,
        snapshots: Vec::new(),
        media: Vec::new(),
        attestations: Vec::new(),
        jobs: Vec::new(),
        copy_verifications: Vec::new(),
        drills: Vec::new(),
        events: Vec::new(),
        catalog_only: Vec::new(),
        head,
        catalog_problems,
    };
    if let Some(cat) = &judged.catalog {
        data.snapshots = cat.snapshots().map_err(f)?;
        data.media = cat.media().map_err(f)?;
        data.attestations = cat.attestations().map_err(f)?;
        data.jobs = cat.jobs(20).map_err(f)?;
        data.copy_verifications = cat.copy_verifications(200).map_err(f)?;
        data.drills = cat.drills(20).map_err(f)?;
        data.events = cat.events(events, false).map_err(f)?;
        data.catalog_only = cat.events(usize::MAX, true).map_err(f)?;
    }
    Ok(data)
}

/// The targets whose evidence is simulated: a tape pool on a
/// `virtual_library`, a disk pool on a `virtual_device`, an S3 endpoint or a
/// vault address on this machine (loopback: a test server such as moto, or
/// the demo's vault, never separate storage).
fn simulated(ctx: &SiteCtx<'_>) -> Vec<Simulated> {
    let Some(site) = &ctx.conf.loaded else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in site.targets() {
        let (kind, at) = match &t.kind {
            TargetKind::TapePool(p) => match &p.virtual_library {
                Some(v) => (SimulatedKind::TapeLibrary, v.display().to_string()),
                None => continue,
            },
            TargetKind::DiskPool(p) => match &p.virtual_device {
                Some(v) => (SimulatedKind::DiskDevice, v.display().to_string()),
                None => continue,
            },
            TargetKind::S3(b) => match &b.connection.endpoint {
                Some(e) if is_loopback(host_of(e)) => (SimulatedKind::S3Server, e.clone()),
                _ => continue,
            },
            TargetKind::Vault(v) => match &v.address {
                Some(a) if is_loopback(host_of(a)) => (SimulatedKind::Vault, a.clone()),
                _ => continue,
            },
        };
        out.push(Simulated {
            target: t.name.to_string(),
            kind,
            at,
        });
    }
    out
}

/// The host of `scheme://host:port/path`, `host:port` or `[::1]:port`.
fn host_of(s: &str) -> &str {
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.split(['/', '?', '#']).next().unwrap_or(s);
    let s = s.rsplit_once('@').map_or(s, |(_, h)| h);
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => s,
    }
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

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts_of_endpoints_and_addresses() {
        assert_eq!(host_of("http://127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(host_of("https://s3.example.jp/base?x=1"), "s3.example.jp");
        assert_eq!(host_of("http://[::1]:9000/"), "::1");
        assert_eq!(host_of("localhost:7443"), "localhost");
        assert_eq!(host_of("vault.hospital.local"), "vault.hospital.local");
        assert_eq!(host_of("http://user@127.0.0.1"), "127.0.0.1");
    }
}
