//! `hokan serve`: the primary's read-only export for vaults
//! ([`hokan_vault::export`]), and `--init` for its certificate.

use std::net::TcpListener;

use hokan_vault::export::{self, Access, ExportConfig};
use serde_json::json;

use super::args::ServeArgs;
use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

/// `hokan serve`.
pub fn serve(a: ServeArgs, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    let site = ctx.conf.loaded.as_ref().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            t(
                lang,
                "hokan serve needs a hokan.toml with at least one [[vault]] (--config, HOKAN_CONFIG or ./hokan.toml)",
                "hokan serve には [[vault]] を含む hokan.toml が必要です（--config、HOKAN_CONFIG、または ./hokan.toml）",
            ),
        )
    })?;
    let state = hokan_site::state_dir(&ctx.catalog_path()?);
    let cfg = site.serve();
    let (cert, key) = (cfg.cert_in(&state), cfg.key_in(&state));
    if a.init {
        let names = if a.name.is_empty() {
            vec![crate::notify::hostname()]
        } else {
            a.name.clone()
        };
        export::init_cert(&cert, &key, &names).map_err(|e| {
            Failure::new(
                exit::ERROR,
                format!(
                    "{e} ({})",
                    t(
                        lang,
                        "an existing certificate is never replaced; remove it first only if no vault pins it",
                        "既存の証明書は置き換えません。どの保管サーバも使っていない場合に限り、先に削除してください"
                    )
                ),
            )
        })?;
        if g.json {
            print_json(&json!({"cert": cert, "key": key, "names": names}));
        } else {
            println!("{} {}", t(lang, "certificate:", "証明書:"), cert.display());
            println!("{} {}", t(lang, "private key:", "秘密鍵:"), key.display());
            println!(
                "{}",
                t(
                    lang,
                    "Copy the certificate (not the key) to each vault and give it to `hokan vault init --primary-cert`.",
                    "証明書（秘密鍵ではありません）を各保管サーバへコピーし、`hokan vault init --primary-cert` に指定してください。"
                )
            );
        }
        return Ok(exit::OK);
    }
    let vaults: Vec<Access> = site
        .vaults()
        .map(|(name, v)| Access {
            name: name.to_string(),
            token_blake3: v.token_blake3.clone(),
        })
        .collect();
    if vaults.is_empty() {
        return Err(Failure::new(
            exit::CONFIG,
            t(
                lang,
                "no [[vault]] in hokan.toml: no vault could pull; run `hokan vault init` on the vault and add the table it prints",
                "hokan.toml に [[vault]] がありません。保管サーバで `hokan vault init` を実行し、表示された内容を追加してください",
            ),
        ));
    }
    let listen = a.listen.clone().unwrap_or_else(|| cfg.listen.clone());
    let listener = TcpListener::bind(&listen).map_err(|e| {
        Failure::new(
            exit::ERROR,
            format!(
                "{listen}: {e} ({})",
                t(lang, "cannot listen there", "この宛先で待ち受けできません")
            ),
        )
    })?;
    // Through the store: a primary in a bucket is served like a folder.
    let repo = crate::ctx::open::open_primary(g, lang, &ctx.conf)?;
    let inbox = cfg.inbox_in(&state);
    let running = export::start(
        listener,
        repo,
        ExportConfig {
            cert,
            key,
            inbox: inbox.clone(),
            vaults,
        },
    )
    .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    if g.json {
        print_json(&json!({"listening": running.addr.to_string(), "inbox": inbox}));
    } else if !g.quiet {
        println!(
            "{} https://{}  ({} {})",
            t(
                lang,
                "serving the repository read-only on",
                "リポジトリを読み取り専用で公開中:"
            ),
            running.addr,
            t(lang, "receipts to", "受領書の保存先"),
            inbox.display()
        );
    }
    running.wait();
    Ok(exit::OK)
}
