//! What the inspection report (`hokan report`) and the backup annex to the
//! operations rulebook (`hokan annex`) show, gathered from the site, its
//! catalog judged as evidence ([`super::judge()`]) and the evaluator.
//!
//! The CLI and the dashboard call these the same way, and render the data
//! with `hokan_report`. The words are the caller's: the language picks the
//! sentences of the catalog's problems, and the notes on anchors that could
//! not be read come already written.

use std::path::Path;

use hokan_catalog::{CatalogError, Head};
use hokan_offline::{Policy, Text};
use hokan_report::{AnnexData, ReportData, Simulated, SimulatedKind, SiteInfo};
use hokan_site::{is_loopback, Site, TargetKind};
use time::{OffsetDateTime, UtcOffset};

use super::Judged;

/// The program that made a document: `hokan` and its version.
pub fn program() -> String {
    format!("hokan {}", env!("CARGO_PKG_VERSION"))
}

/// What a report is gathered from, besides the judged catalog.
#[derive(Debug)]
pub struct ReportFrom<'a> {
    /// The site's configuration, when there is one (a report can be made
    /// on a catalog alone).
    pub site: Option<&'a Site>,
    /// The catalog the judged one was opened from.
    pub catalog: &'a Path,
    /// What the primary repository is called (its folder, or
    /// `s3://bucket/prefix at endpoint`), if known.
    pub repository: Option<String>,
    /// The offline policy the site was judged under.
    pub policy: &'a Policy,
    /// The report's instant (the evaluation's `now`).
    pub now: OffsetDateTime,
    /// The offset times are shown in.
    pub offset: UtcOffset,
    /// Whether the catalog's problems are written in Japanese (else
    /// English).
    pub ja: bool,
    /// How many of the newest events the report lists.
    pub events: usize,
    /// Anchors that could not be read (rollback detection incomplete), in
    /// the caller's words; listed with the catalog's problems.
    pub notes: Vec<Text>,
}

/// The catalog head the verification reached (sequence 0 and a hash of
/// zeros without a catalog), as a document names it.
pub fn head(judged: &Judged) -> Head {
    judged
        .report
        .as_ref()
        .map(|r| r.head.clone())
        .unwrap_or(Head {
            seq: 0,
            hash: "0".repeat(64),
        })
}

fn pick(ja: bool, t: &Text) -> String {
    if ja {
        t.ja.clone()
    } else {
        t.en.clone()
    }
}

/// Gather everything a report shows. The evaluation is the judged one: a
/// catalog that is not evidence gives an untrusted evaluation, and the
/// report still lists what the tables hold (marked by the catalog
/// problems), because a report is evidence too.
///
/// Errors: the catalog's tables cannot be read.
pub fn report(from: ReportFrom<'_>, judged: Judged) -> Result<ReportData, CatalogError> {
    let ja = from.ja;
    let name = match from.site.map(Site::name) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => if ja {
            "（名称未設定）"
        } else {
            "(unnamed site)"
        }
        .to_owned(),
    };
    let mut catalog_problems: Vec<String> = match &judged.report {
        Some(r) => r.problems.iter().map(|p| pick(ja, &p.message)).collect(),
        None => judged
            .evaluation
            .problems
            .iter()
            .map(|p| pick(ja, &p.message))
            .collect(),
    };
    catalog_problems.extend(from.notes.iter().map(|n| pick(ja, n)));
    let head = head(&judged);
    let site = SiteInfo {
        name,
        config: from.site.map(|s| s.file().display().to_string()),
        catalog: from.catalog.display().to_string(),
        repository: from.repository,
        not_implemented: Vec::new(),
        simulated: from.site.map(simulated).unwrap_or_default(),
    };
    let mut data = ReportData {
        generated_at: from.now,
        offset: from.offset,
        program: program(),
        site,
        policy: from.policy.clone(),
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
        data.snapshots = cat.snapshots()?;
        data.media = cat.media()?;
        data.attestations = cat.attestations()?;
        data.jobs = cat.jobs(20)?;
        data.copy_verifications = cat.copy_verifications(200)?;
        data.drills = cat.drills(20)?;
        data.events = cat.events(from.events, false)?;
        data.catalog_only = cat.events(usize::MAX, true)?;
    }
    Ok(data)
}

/// Gather everything the annex to the operations rulebook shows, for
/// `site` judged under `policy` at `now` (times shown at `offset`).
///
/// Errors: the catalog's tables cannot be read.
pub fn annex(
    site: &Site,
    policy: &Policy,
    judged: Judged,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Result<AnnexData, CatalogError> {
    let head = head(&judged);
    let (media, drills) = match &judged.catalog {
        Some(cat) => (cat.media()?, cat.drills(100_000)?),
        None => (Vec::new(), Vec::new()),
    };
    let config = std::path::absolute(site.file()).unwrap_or_else(|_| site.file().to_owned());
    Ok(AnnexData {
        generated_at: now,
        offset,
        program: program(),
        command: format!("hokan --config {}", config.display()),
        policy: policy.clone(),
        evaluation: judged.evaluation,
        media,
        drills,
        head,
        site: site.clone(),
    })
}

/// The targets whose evidence is simulated: a tape pool on a
/// `virtual_library`, a disk pool on a `virtual_device`, an S3 endpoint or a
/// vault address on this machine (loopback: a test server such as moto, or
/// the demo's vault, never separate storage).
pub fn simulated(site: &Site) -> Vec<Simulated> {
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
