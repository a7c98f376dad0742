//! Site commands: config, catalog, media, attestations, status and report.
//!
//! These work on the site's catalog (found through `--catalog`, or the
//! `[site] catalog` of the configuration) and judge it with the offline
//! evaluator under the configured policy. Every change is recorded as a
//! catalog event, signed by the person (`--by`) or the command that made it.

pub mod anchors;
pub mod annex;
pub mod args;
mod attest;
pub mod catalog;
mod config;
mod judge;
mod media;
pub mod observe;
mod report;
mod status;

use crate::exit::Failure;
use crate::i18n::Lang;
use crate::Global;

use crate::ctx::SiteCtx;
pub use args::{AttestCmd, CatalogCmd, ConfigCmd, MediaCmd};

/// Run a site command.
pub fn run(cmd: args::SiteCommand, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    match cmd {
        args::SiteCommand::Config(c) => config::run(&ctx, c),
        args::SiteCommand::Catalog(c) => catalog::run(&ctx, c),
        args::SiteCommand::Media(c) => media::run(&ctx, c),
        args::SiteCommand::Attest(c) => attest::run(&ctx, c),
        args::SiteCommand::Status(a) => status::run(&ctx, &a),
        args::SiteCommand::Report(r) => report::run(&ctx, r),
        args::SiteCommand::Annex(a) => annex::run(&ctx, a),
    }
}
