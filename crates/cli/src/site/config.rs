//! `hokan config check`: validate hokan.toml and print the resolved site.

use super::args::ConfigCmd;
use crate::ctx::{load, print_json, SiteCtx};
use crate::exit::{self, Failure};

pub fn run(ctx: &SiteCtx<'_>, cmd: ConfigCmd) -> Result<i32, Failure> {
    match cmd {
        ConfigCmd::Check => {
            // Required here: checking nothing is an error, not a pass.
            let conf = load(ctx.g, ctx.lang, true)?;
            let site = conf.loaded.as_ref().expect("a required site is loaded");
            if ctx.g.json {
                print_json(&serde_json::json!({
                    "ok": true,
                    "config": conf.config,
                    "site": site,
                    "policy": conf.policy,
                }));
            } else {
                print!("{}", site.describe(ctx.lang == crate::i18n::Lang::Ja));
            }
            Ok(exit::OK)
        }
    }
}
