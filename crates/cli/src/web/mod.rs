//! `hokan web`: the dashboard's accounts (`hokan web user add|passwd|totp|remove|list`).
//! The logic is in [`hokan_web`]; this parses, prompts, prints and maps
//! errors to exit codes.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use hokan_web::{AccountError, Accounts, Role};
use serde_json::json;

use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

/// `hokan web`.
#[derive(Args, Debug)]
pub struct WebArgs {
    /// The accounts file (default: web-accounts.sqlite beside the catalog).
    #[arg(long, env = "HOKAN_WEB_ACCOUNTS")]
    pub accounts: Option<PathBuf>,
    #[command(subcommand)]
    pub action: WebCmd,
}

/// What `hokan web` does.
#[derive(Subcommand, Debug)]
pub enum WebCmd {
    /// Serve the dashboard over HTTPS (127.0.0.1:8443 unless --listen).
    Serve {
        /// Address and port to listen on (the management network's address
        /// to reach it from other machines).
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
        /// The certificate, PEM (default: web-cert.pem beside the catalog).
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Its private key, PEM (default: web-key.pem beside the catalog).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Make a self-signed certificate and key for these names first if
        /// there are none (never replaces one).
        #[arg(long = "init-cert", value_name = "NAME")]
        init_cert: Vec<String>,
    },
    /// The dashboard's local accounts.
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
}

/// `hokan web user`.
#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add an account. The password is asked twice on a terminal, or read
    /// from HOKAN_WEB_PASSWORD.
    Add {
        /// The account's name (letters, digits, '.', '_', '-').
        name: String,
        /// viewer (reads), operator (also acts: media moves, attestations,
        /// jobs, drills, alerts) or admin (also the configuration).
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Set an account's password (and unlock it).
    Passwd {
        /// The account's name.
        name: String,
    },
    /// Remove an account (never the last admin).
    Remove {
        /// The account's name.
        name: String,
    },
    /// Give an account a second factor (TOTP, as authenticator apps use):
    /// prints the secret and its otpauth:// address once; logins then need
    /// the current code too. A new secret replaces the old one.
    Totp {
        /// The account's name.
        name: String,
        /// Take the second factor away instead.
        #[arg(long)]
        off: bool,
    },
    /// List the accounts, their roles and whether they are locked.
    List,
}

/// `hokan web`.
pub fn run(a: WebArgs, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let path = match a.accounts {
        Some(p) => p,
        None => {
            let ctx = SiteCtx::new(g, lang)?;
            hokan_site::state_dir(&ctx.catalog_path()?).join(hokan_web::ACCOUNTS_FILE)
        }
    };
    let action = match a.action {
        WebCmd::User { action } => action,
        WebCmd::Serve {
            listen,
            cert,
            key,
            init_cert,
        } => return serve(g, lang, path, listen, cert, key, init_cert),
    };
    let accounts = Accounts::open(&path).map_err(|e| failure(lang, &e))?;
    match action {
        UserCmd::Add { name, role } => {
            let role: Role = role.parse().map_err(|e| failure(lang, &e))?;
            let pw = password(lang)?;
            accounts
                .add(&name, role, &pw)
                .map_err(|e| failure(lang, &e))?;
            done(g, lang, "added", "追加しました", &name, Some(role));
        }
        UserCmd::Passwd { name } => {
            let pw = password(lang)?;
            accounts
                .set_password(&name, &pw)
                .map_err(|e| failure(lang, &e))?;
            done(
                g,
                lang,
                "password set",
                "パスワードを設定しました",
                &name,
                None,
            );
        }
        UserCmd::Remove { name } => {
            accounts.remove(&name).map_err(|e| failure(lang, &e))?;
            done(g, lang, "removed", "削除しました", &name, None);
        }
        UserCmd::Totp { name, off: true } => {
            accounts
                .disable_totp(&name)
                .map_err(|e| failure(lang, &e))?;
            done(
                g,
                lang,
                "second factor removed",
                "二要素認証を解除しました",
                &name,
                None,
            );
        }
        UserCmd::Totp { name, off: false } => {
            let (secret, uri) = accounts.enable_totp(&name).map_err(|e| failure(lang, &e))?;
            if g.json {
                print_json(&json!({ "account": name, "totp_secret": secret, "otpauth": uri }));
            } else {
                println!(
                    "{name}: {}\n  {secret}\n  {uri}\n{}",
                    t(
                        lang,
                        "enter this secret (or the address) in an authenticator app:",
                        "この秘密鍵（またはアドレス）を認証アプリに登録してください:"
                    ),
                    t(
                        lang,
                        "It is shown only now. Logins need the app's 6-digit code from now on.",
                        "表示は今回だけです。以後のログインにはアプリの 6 桁のコードが必要です。"
                    )
                );
            }
        }
        UserCmd::List => {
            let list = accounts.list().map_err(|e| failure(lang, &e))?;
            if g.json {
                print_json(&json!({ "accounts": list }));
            } else if list.is_empty() {
                println!(
                    "{}",
                    t(
                        lang,
                        "no accounts yet: add one with `hokan web user add NAME --role admin`",
                        "アカウントはまだありません: `hokan web user add 名前 --role admin` で追加してください"
                    )
                );
            } else {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                for acc in list {
                    let locked = acc
                        .locked_until
                        .filter(|&u| u > now)
                        .map(|_| t(lang, "  (locked)", "  （ロック中）"))
                        .unwrap_or("");
                    let totp = if acc.totp { "  TOTP" } else { "" };
                    println!("{:<24} {}{totp}{locked}", acc.name, acc.role.as_str());
                }
            }
        }
    }
    Ok(exit::OK)
}

fn done(g: &Global, lang: Lang, en: &str, ja: &str, name: &str, role: Option<Role>) {
    if g.json {
        print_json(&json!({ "account": name, "role": role, "done": en }));
    } else {
        println!("{name}: {}", t(lang, en, ja));
    }
}

fn failure(lang: Lang, e: &AccountError) -> Failure {
    let code = match e {
        AccountError::Db { .. } | AccountError::DamagedHash(_) | AccountError::DamagedTotp(_) => {
            exit::ERROR
        }
        _ => exit::USAGE,
    };
    let en = e.to_string();
    Failure::new(code, t(lang, &en, &e.ja()).to_owned())
}

/// The new password: HOKAN_WEB_PASSWORD, else asked twice on a terminal.
fn password(lang: Lang) -> Result<String, Failure> {
    if let Ok(p) = std::env::var("HOKAN_WEB_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            exit::PASSWORD,
            t(
                lang,
                "no password: set HOKAN_WEB_PASSWORD, or run this on a terminal to be asked",
                "パスワードがありません: HOKAN_WEB_PASSWORD を設定するか、端末で実行して入力してください",
            ),
        ));
    }
    let ask = |en, ja| {
        rpassword::prompt_password(t(lang, en, ja))
            .map_err(|e| Failure::new(exit::PASSWORD, e.to_string()))
    };
    let first = ask(
        "New dashboard password: ",
        "ダッシュボードの新しいパスワード: ",
    )?;
    let again = ask("Again: ", "もう一度: ")?;
    if first != again {
        return Err(Failure::new(
            exit::PASSWORD,
            t(
                lang,
                "the two passwords differ; nothing was changed",
                "2 回の入力が一致しません。何も変更していません",
            ),
        ));
    }
    Ok(first)
}

/// `hokan web serve`.
fn serve(
    g: &Global,
    lang: Lang,
    accounts: PathBuf,
    listen: String,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    init_cert: Vec<String>,
) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    let site = ctx.conf.config.clone().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            t(
                lang,
                "hokan web needs the site's hokan.toml (--config, HOKAN_CONFIG or ./hokan.toml)",
                "hokan web にはサイトの hokan.toml が必要です（--config、HOKAN_CONFIG、または ./hokan.toml）",
            ),
        )
    })?;
    let state = hokan_site::state_dir(&ctx.catalog_path()?);
    let cert = cert.unwrap_or_else(|| state.join("web-cert.pem"));
    let key = key.unwrap_or_else(|| state.join("web-key.pem"));
    if !init_cert.is_empty() && !cert.exists() && !key.exists() {
        hokan_vault::export::init_cert(&cert, &key, &init_cert)
            .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    }
    let listener = std::net::TcpListener::bind(&listen).map_err(|e| {
        Failure::new(
            exit::ERROR,
            format!(
                "{listen}: {e} ({})",
                t(
                    lang,
                    "is another program on that port?",
                    "そのポートを別のプログラムが使っていませんか"
                )
            ),
        )
    })?;
    // The Jobs page starts `hokan run` and `hokan drill` as this binary,
    // on this site, with the same --now when one was given.
    let mut hokan: Vec<std::ffi::OsString> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        hokan.push(exe.into());
        hokan.push("--config".into());
        hokan.push(site.clone().into());
        if let Some(now) = &g.now {
            hokan.push("--now".into());
            hokan.push(now.into());
        }
    }
    let config = hokan_web::server::WebConfig {
        site,
        accounts,
        now: g.now.as_ref().map(|_| ctx.now),
        hokan,
    };
    let running = hokan_web::server::start(listener, config, &cert, &key).map_err(|e| {
        let hint = t(
            lang,
            "give --cert and --key, or --init-cert NAME to make a self-signed pair",
            "--cert と --key を指定するか、--init-cert 名前 で自己署名の証明書を作成してください",
        );
        Failure::new(exit::ERROR, format!("{e} ({hint})"))
    })?;
    if g.json {
        print_json(
            &json!({ "listen": running.addr.to_string(), "url": format!("https://{}/", running.addr) }),
        );
    } else {
        println!(
            "{} https://{}/",
            t(lang, "dashboard at", "ダッシュボード:"),
            running.addr
        );
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    running.wait();
    Ok(exit::OK)
}
