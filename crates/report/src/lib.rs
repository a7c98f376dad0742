//! hokan's evidence report: オフラインバックアップ状態確認報告書.
//!
//! This crate owns turning one [`ReportData`] (everything the catalog and the
//! evaluator know at one instant) into the document a hospital keeps for
//! inspections (立入検査): self-contained HTML that prints on A4, Markdown,
//! or JSON. It does no I/O and reads no clock: the binary gathers the data,
//! so a report can be re-made for any past instant from the same facts.
//!
//! [`render_html`] and [`render_markdown`] say the same things in the same
//! order, because both render one document model built in one place (the
//! private `content` module decides what is shown; `html` and `markdown`
//! only how). All text from the data is escaped by the renderers.
#![deny(missing_docs)]

pub mod annex;
mod content;
mod doc;
mod drills;
mod html;
mod markdown;

pub use annex::{render_annex_html, render_annex_markdown, AnnexData, ANNEX_FORMAT};
pub use content::fmt::bytes_text;
pub use html::render_html;
pub use markdown::render_markdown;

use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

use hokan_catalog::{CopyVerifyRow, DrillRow, EventRecord, Head, JobRow, MediumRow, SnapshotRow};
use hokan_offline::{Attestation, Evaluation, Policy};

/// The language of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 日本語.
    Ja,
    /// English.
    En,
}

/// Which site this is.
#[derive(Clone, Debug, Serialize)]
pub struct SiteInfo {
    /// The hospital's name as configured (`[site] name`).
    pub name: String,
    /// The configuration file, if one was used.
    pub config: Option<String>,
    /// The catalog database file.
    pub catalog: String,
    /// The primary repository, if configured.
    pub repository: Option<String>,
    /// Configured parts hokan does not implement yet (a `[[vault]]`), each
    /// a sentence in the report's language; they count for nothing.
    #[serde(default)]
    pub not_implemented: Vec<String>,
    /// Targets whose evidence comes from SIMULATED devices or from servers
    /// on this machine (a virtual tape library, a simulated RDX drive, an S3
    /// test server or a vault on loopback). The report says so on its first
    /// page: its verdicts then show how hokan works, not that this site's
    /// data is offline.
    #[serde(default)]
    pub simulated: Vec<Simulated>,
}

/// One target whose evidence is simulated (see [`SiteInfo::simulated`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Simulated {
    /// The target's name in hokan.toml (`weekday`, `rdx`, `cloud`).
    pub target: String,
    /// What is simulated.
    pub kind: SimulatedKind,
    /// Where: the simulation's folder, or the loopback endpoint.
    pub at: String,
}

/// What kind of thing is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimulatedKind {
    /// A `[[tape_pool]]` with `virtual_library`: a folder of cartridge images.
    TapeLibrary,
    /// A `[[disk_pool]]` with `virtual_device`: a simulated RDX or disk.
    DiskDevice,
    /// An `[[s3]]` whose endpoint is on this machine (a test server such as
    /// moto), not separate storage.
    S3Server,
    /// A `[[vault]]` whose address is on this machine, not a second machine.
    Vault,
}

/// Everything a report shows, gathered at one instant.
#[derive(Clone, Debug, Serialize)]
pub struct ReportData {
    /// When the report was made (the evaluation's `now`).
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The offset times are shown in (the site's time zone).
    #[serde(skip)]
    pub offset: UtcOffset,
    /// `hokan 0.1.0`.
    pub program: String,
    /// The site.
    pub site: SiteInfo,
    /// The offline policy in force.
    pub policy: Policy,
    /// The evaluator's answer at `generated_at`: per-source compliance,
    /// per-copy verdicts with 項番, media states, problems.
    pub evaluation: Evaluation,
    /// Every generation the catalog knows, oldest first.
    pub snapshots: Vec<SnapshotRow>,
    /// The media inventory with latest locations.
    pub media: Vec<MediumRow>,
    /// All attestations, valid or not (the report says which hold).
    pub attestations: Vec<Attestation>,
    /// Recent jobs (verify among them), newest first.
    pub jobs: Vec<JobRow>,
    /// Recent copy verifications (a tape or disk job's read-back after
    /// writing, a verify of a medium), newest first.
    #[serde(default)]
    pub copy_verifications: Vec<CopyVerifyRow>,
    /// Recent restore drills, newest first.
    pub drills: Vec<DrillRow>,
    /// Recent events, newest first.
    pub events: Vec<EventRecord>,
    /// Every fact only the catalog holds (manual moves, attestations,
    /// condition changes, drills), newest first: exported with every report
    /// so they survive the loss of the catalog.
    pub catalog_only: Vec<EventRecord>,
    /// The catalog's head when the report was made.
    pub head: Head,
    /// Whether `catalog verify` passed just before the report was made, and
    /// what it found otherwise.
    pub catalog_problems: Vec<String>,
}

/// The report as JSON (pretty, stable field order).
pub fn render_json(data: &ReportData) -> String {
    serde_json::to_string_pretty(data).expect("report data serialises")
}
