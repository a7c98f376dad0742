//! The demo's vault: `hokan serve` and a vault folder on this machine,
//! joined over loopback TLS. A real vault is a second Linux machine behind
//! its own firewall (README, "The vault"); the demo says so, and says what
//! its copies count as here (no firewall is checked, so never ⑤-1).

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use hokan_offline::{evaluate, Koban, MediumId};
use hokan_repo::Repository;
use hokan_store::local::LocalStore;
use hokan_vault::clock::Tick;
use hokan_vault::config::VaultConfig;
use hokan_vault::export::{self, Access, ExportConfig};
use hokan_vault::ops::{self, Vault};
use serde_json::{json, Value};

use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::Global;

const NAME: &str = "demo-vault";

/// Clear the immutable flags a previous demo's vault set, so that the demo
/// folder can be replaced (best effort; only inside a demo folder).
pub fn release(dir: &Path) {
    let mut stack = vec![dir.join("vault")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(ft) if ft.is_dir() => stack.push(p),
                Ok(ft) if ft.is_file() => {
                    let _ = hokan_vault::immutable::set_immutable(&p, false);
                }
                _ => {}
            }
        }
    }
}

fn fail(lang: Lang, what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(
        exit::ERROR,
        format!(
            "{} {what}: {e}",
            t(lang, "demo vault:", "デモの保管サーバ:")
        ),
    )
}

/// Set up the export and the vault, pull, and judge the site at the real
/// time (the vault's receipt carries the real time).
pub fn run(
    dir: &Path,
    password: &str,
    g: &Global,
    lang: Lang,
    say: &dyn Fn(String),
) -> Result<Value, Failure> {
    let config = dir.join("hokan.toml");
    let (cert, key) = (dir.join("serve-cert.pem"), dir.join("serve-key.pem"));
    export::init_cert(&cert, &key, &["127.0.0.1".into()]).map_err(|e| fail(lang, "cert", e))?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| fail(lang, "listen", e))?;
    let addr = listener.local_addr().map_err(|e| fail(lang, "listen", e))?;
    let mut vc = VaultConfig::new(NAME, &format!("https://{addr}"));
    vc.keep_days = 30;
    // A demo on a small disk: keep 64 MiB free instead of 1 GiB.
    vc.reserve_mib = 64;
    vc.firewall.enforce = false;
    let pem = std::fs::read(&cert).map_err(|e| fail(lang, "cert", e))?;
    let vault_dir = dir.join("vault");
    let setup = ops::init(&vault_dir, &vc, &pem).map_err(|e| fail(lang, "init", e))?;
    let mut text = std::fs::read_to_string(&config).map_err(|e| fail(lang, "hokan.toml", e))?;
    text.push_str(&format!(
        "\n# The demo's vault: a folder on this machine (a real one is a second machine).\n\
         [[vault]]\nname = \"{NAME}\"\naddress = \"127.0.0.1\"\nretention = \"30d\"\npublic_key = \"{}\"\ntoken_blake3 = \"{}\"\n",
        setup.public_key, setup.token_blake3
    ));
    std::fs::write(&config, text).map_err(|e| fail(lang, "hokan.toml", e))?;

    let repo = Repository::open(
        Arc::new(LocalStore::new(dir.join("repo"))),
        password.as_bytes(),
    )
    .map_err(|e| crate::exit::from_repo(lang, &e))?;
    let running = export::start(
        listener,
        repo,
        ExportConfig {
            cert,
            key,
            inbox: dir.join("inbox"),
            vaults: vec![Access {
                name: NAME.into(),
                token_blake3: setup.token_blake3.clone(),
            }],
        },
    )
    .map_err(|e| fail(lang, "serve", e))?;
    let vault = Vault::open(&vault_dir).map_err(|e| fail(lang, "open", e))?;
    let night = vault
        .pull(Tick::now(), vault.firewall_report())
        .map_err(|e| fail(lang, "pull", e))?;
    // The vault drills itself (the primary cannot reach it): the newest
    // generation restored from the vault's own folder, checked, recorded in
    // its ledger and carried to the primary by a signed receipt.
    let vrepo = Repository::open(
        Arc::new(LocalStore::new(vault.folder.repo())),
        password.as_bytes(),
    )
    .map_err(|e| crate::exit::from_repo(lang, &e))?;
    let scratch = dir.join("vault-drill-scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    let drilled = hokan_jobs::vault::drill::run(
        &vault,
        &vrepo,
        &hokan_jobs::vault::drill::Request {
            target: Some(scratch),
            by: "hokan demo".into(),
            ..Default::default()
        },
        Tick::now,
        vault.firewall_report(),
    )
    .map_err(|e| fail(lang, "drill", e))?;
    drop(running);

    // The primary reads the inbox and judges, at the real time.
    let g2 = super::site::at_real_time(g, &config, 1);
    let ctx = crate::ctx::SiteCtx::new(&g2, lang)?;
    let problems = ctx.ingest_vaults();
    let cat = ctx.catalog()?;
    let facts = cat.facts().map_err(|e| ctx.catalog_failure(&e))?;
    let ev = evaluate(&facts, &ctx.conf.policy, ctx.now);
    let id = MediumId::new(NAME);
    let count = |k: Koban| {
        ev.copies
            .iter()
            .filter(|c| c.medium == id && c.verdict.koban() == Some(k))
            .count()
    };
    let (c51, c41) = (
        count(Koban::AccessControlled),
        count(Koban::ImmutableDevice),
    );
    let immutable = night.receipt.immutable.without_flag_total == 0;
    say(format!(
        "\n12. {} ({})",
        t(lang, "the vault", "保管サーバ"),
        t(
            lang,
            "a folder on this machine pulling from `hokan serve` over loopback TLS; a real vault is a second Linux machine behind its own firewall, README \"The vault\"",
            "このマシン上のフォルダが loopback の TLS で `hokan serve` から取得します。実際の保管サーバはファイアウォールの内側にある別の Linux マシンです（README「保管サーバ」）"
        )
    ));
    say(format!(
        "  {} {} ({}), {}",
        t(lang, "pulled generations:", "取得した世代:"),
        night.outcome.added.len(),
        Bytes(night.outcome.bytes),
        if immutable {
            t(
                lang,
                "every object immutable (chattr +i)",
                "全オブジェクトを変更不可に設定（chattr +i）",
            )
            .to_owned()
        } else {
            format!(
                "{} ({})",
                t(
                    lang,
                    "the immutable flag could not be set here",
                    "ここでは変更不可フラグを設定できません"
                ),
                setup.immutable_problem.clone().unwrap_or_default()
            )
        }
    ));
    say(format!(
        "  {}: {}; {} ④-1 {c41}, ⑤-1 {c51} ({})",
        t(lang, "signed receipt", "署名付き受領書"),
        if night.posted.is_ok() {
            t(
                lang,
                "posted to the primary's inbox and verified",
                "一次サーバの受信箱に送信し検証済み",
            )
        } else {
            t(lang, "NOT posted", "送信できませんでした")
        },
        t(lang, "the primary counts", "一次サーバの判定:"),
        t(
            lang,
            "no firewall in the demo, so never ⑤-1",
            "デモではファイアウォールがないため ⑤-1 にはなりません"
        )
    ));
    let recorded = cat
        .drills(100)
        .map_err(|e| ctx.catalog_failure(&e))?
        .into_iter()
        .filter(|d| d.medium == id)
        .count();
    for d in &drilled.done {
        say(format!(
            "  {} {} ({}): {}, {} {}; {}",
            t(
                lang,
                "restore drill on the vault (hokan vault drill):",
                "保管サーバ上の復旧訓練（hokan vault drill）:"
            ),
            d.generation.source,
            &d.generation.snapshot[..8.min(d.generation.snapshot.len())],
            if d.stats.ok() {
                t(lang, "passed", "成功")
            } else {
                t(lang, "FAILED", "失敗")
            },
            d.stats.files_checked,
            t(lang, "files checked", "ファイルを照合"),
            if recorded > 0 {
                t(
                    lang,
                    "recorded in the primary's catalog from the signed receipt",
                    "署名付き受領書から一次サーバのカタログに記録",
                )
            } else {
                t(
                    lang,
                    "NOT yet recorded on the primary",
                    "一次サーバにはまだ記録されていません",
                )
            },
        ));
    }
    for p in problems.iter().chain(
        ev.problems
            .iter()
            .filter(|p| p.medium.as_ref() == Some(&id)),
    ) {
        say(format!("  ! {}", ctx.pick(&p.message)));
    }
    Ok(json!({
        "vault": NAME,
        "added": night.outcome.added.len(),
        "bytes": night.outcome.bytes,
        "immutable": immutable,
        "immutable_problem": setup.immutable_problem,
        "posted": night.posted.is_ok(),
        "offline_4_1": c41,
        "offline_5_1": c51,
        "drills": drilled.done.iter().map(|d| json!({"source": d.generation.source, "ok": d.stats.ok(), "files_checked": d.stats.files_checked})).collect::<Vec<_>>(),
        "drills_ok": drilled.ok(),
        "drills_recorded_on_primary": recorded,
    }))
}
