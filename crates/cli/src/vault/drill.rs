//! `hokan vault drill`: a restore drill on the vault from its own copy
//! ([`hokan_jobs::vault::drill`]); here the repository is opened with its
//! passphrase, the outcome printed (or JSON) and mapped to an exit code.

use hokan_jobs::vault::drill::{self, Request, VaultDrillError};
use hokan_vault::clock::Tick;
use serde_json::json;

use super::{failure, Cmd};
use crate::ctx::print_json;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// Run `hokan vault drill`: 0 every drill passed, 1 one failed.
pub(super) fn run(c: &Cmd<'_>, request: &Request) -> Result<i32, Failure> {
    let l = c.lang;
    let vault = c.open()?;
    // What to drill first: "nothing to drill" is said before any prompt.
    let picks = drill::choose(&vault, request).map_err(|e| drill_failure(l, &e))?;
    let conf = crate::ctx::load(c.g, l, false)?;
    let repo = crate::ctx::open::open_repository(c.g, l, &vault.folder.repo(), &conf)?;
    if !c.quiet() {
        for g in &picks {
            eprintln!(
                "{} {} ({}) {}",
                t(l, "drill:", "復旧訓練:"),
                g.source,
                &g.snapshot[..g.snapshot.len().min(8)],
                t(l, "from the vault's own copy", "保管サーバ自身の複製から"),
            );
        }
    }
    let drills = drill::run(&vault, &repo, request, Tick::now, vault.firewall_report())
        .map_err(|e| drill_failure(l, &e))?;
    if c.g.json {
        let list: Vec<_> = drills
            .done
            .iter()
            .map(|d| {
                json!({
                    "source": d.generation.source,
                    "snapshot": d.generation.snapshot,
                    "taken": d.generation.taken,
                    "target": d.target,
                    "ok": d.stats.ok(),
                    "by": d.report.by,
                    "started": d.report.started,
                    "stats": d.stats,
                })
            })
            .collect();
        print_json(&json!({
            "vault": vault.config.name,
            "drills": list,
            "ok": drills.ok(),
            "posted": drills.posted.is_ok(),
            "post_error": drills.posted.as_ref().err(),
        }));
    } else {
        for d in &drills.done {
            crate::drill::print_stats(
                l,
                &format!(
                    "{} / {} {}",
                    d.generation.source,
                    t(l, "vault", "保管サーバ"),
                    vault.config.name
                ),
                &d.stats,
                &d.target,
            );
        }
        match &drills.posted {
            Ok(()) => println!(
                "{}",
                t(
                    l,
                    "receipt: signed and posted to the primary (it records the drill)",
                    "受領書: 署名して一次サーバへ送信しました（一次サーバが訓練を記録します）"
                )
            ),
            Err(e) => println!(
                "{}: {e} ({})",
                t(l, "receipt NOT posted", "受領書を送信できませんでした"),
                t(
                    l,
                    "the drill is recorded here; the next `hokan vault pull` sends it",
                    "訓練はここに記録済みです。次の `hokan vault pull` で送信されます"
                )
            ),
        }
    }
    Ok(if drills.ok() { exit::OK } else { exit::ERROR })
}

fn drill_failure(l: Lang, e: &VaultDrillError) -> Failure {
    match e {
        VaultDrillError::Vault(e) => failure(l, e),
        VaultDrillError::Target(e) => crate::job_error::failure(l, e),
        VaultDrillError::NothingToDrill { .. } => Failure::new(
            exit::ERROR,
            format!(
                "{e} ({})",
                t(
                    l,
                    "see `hokan vault status` for the generations the vault holds; run `hokan vault pull` first if it holds none",
                    "保管中の世代は `hokan vault status` で確認できます。ひとつもなければ先に `hokan vault pull` を実行してください"
                )
            ),
        ),
        VaultDrillError::BadCheck { .. } => Failure::new(
            exit::CONFIG,
            format!(
                "{e} ({})",
                t(
                    l,
                    "fix [[drill]] in the vault's vault.toml; nothing was drilled",
                    "保管サーバの vault.toml の [[drill]] を直してください。訓練は行っていません"
                )
            ),
        ),
    }
}
