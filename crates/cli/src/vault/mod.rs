//! `hokan vault …` (on the vault machine) and `hokan serve` (on the
//! primary). What the vault does is `hokan-vault`'s ([`hokan_vault::ops`]);
//! this file reads the arguments, prints what happened in the user's
//! language (or JSON), and maps outcomes to exit codes.

pub mod args;
mod drill;
mod serve;

use std::path::Path;

use hokan_vault::clock::Tick;
use hokan_vault::config::VaultConfig;
use hokan_vault::ops::{self, Night, Vault};
use hokan_vault::receipt::{FirewallReport, Receipt};
use hokan_vault::VaultError;
use serde_json::json;

use crate::ctx::print_json;
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::Global;
use args::{VaultArgs, VaultCmd};

pub use serve::serve;

/// `hokan vault …`.
pub fn run(a: VaultArgs, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let c = Cmd {
        g,
        lang,
        dir: &a.dir,
    };
    match a.action {
        VaultCmd::Init {
            name,
            primary,
            primary_cert,
            keep_days,
            max_bytes,
            ntp,
            dns,
            notify,
        } => {
            let mut config = VaultConfig::new(&name, &primary);
            config.keep_days = keep_days;
            config.max_bytes = max_bytes;
            config.firewall.ntp = ntp;
            config.firewall.dns = dns;
            config.firewall.notify = notify;
            c.init(&config, &primary_cert)
        }
        VaultCmd::Pull => c.pull(),
        VaultCmd::Daemon => c.daemon(),
        VaultCmd::Status => c.status(),
        VaultCmd::Restore {
            snapshot,
            target,
            include,
            source,
            latest_undamaged,
        } => c.restore(&snapshot, target, include, source, latest_undamaged),
        VaultCmd::Drill {
            snapshot,
            source,
            target,
            keep,
            by,
        } => drill::run(
            &c,
            &hokan_jobs::vault::drill::Request {
                snapshot,
                source,
                target,
                keep,
                by: actor(by),
            },
        ),
        VaultCmd::Expire => c.expire(),
        VaultCmd::Firewall { apply } => c.firewall(apply),
        VaultCmd::Check => c.check(),
        VaultCmd::Clock { accept, by } => c.clock(accept, by),
        VaultCmd::Findings { ack, by } => c.findings(ack, by),
    }
}

struct Cmd<'a> {
    g: &'a Global,
    lang: Lang,
    dir: &'a Path,
}

/// An error of the vault library, as the person reads it.
fn failure(lang: Lang, e: &VaultError) -> Failure {
    match e {
        VaultError::Ledger(hokan_vault::ledger::LedgerError::Broken { .. }) => Failure::new(
            exit::DAMAGE,
            format!(
                "{e} ({})",
                t(
                    lang,
                    "nothing was changed; the vault refuses to pull or expire on a ledger that does not verify",
                    "何も変更していません。検証できない台帳の上では取得も期限処理も行いません"
                )
            ),
        ),
        VaultError::Config(_) => Failure::new(exit::CONFIG, e.to_string()),
        VaultError::Folder(m) if m.contains("No space left") => {
            Failure::new(exit::NO_SPACE, e.to_string())
        }
        VaultError::Folder(m) if m.contains("locked") || m.contains("Resource temporarily") => {
            Failure::new(exit::LOCKED, e.to_string())
        }
        _ => Failure::new(exit::ERROR, e.to_string()),
    }
}

/// Who is acting: `--by`, else the login name.
fn actor(by: Option<String>) -> String {
    by.or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

impl Cmd<'_> {
    fn open(&self) -> Result<Vault, Failure> {
        Vault::open(self.dir).map_err(|e| match e {
            VaultError::Config(hokan_vault::config::ConfigError::Io { .. }) => Failure::new(
                exit::CONFIG,
                format!(
                    "{e} ({})",
                    t(
                        self.lang,
                        "no vault here: set one up with `hokan vault --dir DIR init`, or pass --dir / HOKAN_VAULT",
                        "ここには保管サーバのフォルダがありません。`hokan vault --dir DIR init` で作成するか、--dir / HOKAN_VAULT を指定してください"
                    )
                ),
            ),
            e => failure(self.lang, &e),
        })
    }

    fn quiet(&self) -> bool {
        self.g.json || self.g.quiet
    }

    fn init(&self, config: &VaultConfig, cert: &Path) -> Result<i32, Failure> {
        let l = self.lang;
        let pem = std::fs::read(cert).map_err(|e| {
            Failure::new(
                exit::USAGE,
                format!(
                    "{}: {e} ({})",
                    cert.display(),
                    t(
                        l,
                        "copy the primary's certificate here first (`hokan serve --init` printed where it is)",
                        "先に一次サーバの証明書をこちらへコピーしてください（場所は `hokan serve --init` が表示しました）"
                    )
                ),
            )
        })?;
        // Check what vault.toml would refuse before writing anything.
        if !config.primary.starts_with("https://") {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "--primary {:?}: {}",
                    config.primary,
                    t(
                        l,
                        "give the primary's export as https://host:port",
                        "一次サーバのエクスポートを https://ホスト:ポート で指定してください"
                    )
                ),
            ));
        }
        let setup = ops::init(self.dir, config, &pem).map_err(|e| match e {
            VaultError::Setup(m) if m.contains("holds a vault already") => {
                Failure::new(exit::USAGE, m)
            }
            e => failure(l, &e),
        })?;
        let snippet = format!(
            "[[vault]]\nname = \"{}\"\nretention = \"{}d\"\npublic_key = \"{}\"\ntoken_blake3 = \"{}\"\n",
            config.name, config.keep_days, setup.public_key, setup.token_blake3
        );
        if self.g.json {
            print_json(&json!({
                "dir": self.dir,
                "name": config.name,
                "public_key": setup.public_key,
                "token_blake3": setup.token_blake3,
                "immutable_problem": setup.immutable_problem,
                "hokan_toml": snippet,
            }));
        } else {
            println!(
                "{} {}",
                t(l, "vault set up in", "保管サーバのフォルダを作成しました:"),
                self.dir.display()
            );
            println!(
                "{}\n\n{snippet}",
                t(
                    l,
                    "Add this to the primary's hokan.toml (the primary learns only the token's hash and the public key):",
                    "一次サーバの hokan.toml に次を追加してください（一次サーバが知るのはトークンのハッシュと公開鍵だけです）:"
                )
            );
            println!(
                "{}",
                t(
                    l,
                    "Next: `hokan vault firewall --apply`, then `hokan vault pull` (or the daemon / a timer).",
                    "次に `hokan vault firewall --apply`、続けて `hokan vault pull`（またはデーモン・タイマー）を実行してください。"
                )
            );
        }
        if let Some(p) = &setup.immutable_problem {
            eprintln!(
                "{}: {p}. {}",
                t(l, "WARNING", "警告"),
                t(
                    l,
                    "Objects cannot be made immutable in this folder, so the primary will not count this vault under ④-1: use ext4 or XFS and run hokan as root (CAP_LINUX_IMMUTABLE)",
                    "このフォルダではオブジェクトを変更不可にできないため、一次サーバはこの保管サーバを ④-1 と数えません。ext4 または XFS 上で root（CAP_LINUX_IMMUTABLE）として実行してください"
                )
            );
        }
        Ok(exit::OK)
    }

    fn pull(&self) -> Result<i32, Failure> {
        let vault = self.open()?;
        if !self.quiet() {
            eprintln!(
                "{} {} …",
                t(self.lang, "pulling from", "取得中:"),
                vault.config.primary
            );
        }
        let bar = crate::progress::Bar::new(
            self.g.quiet,
            self.g.json,
            self.lang,
            t(self.lang, "pull", "取得"),
        );
        let progress = BarPull {
            bar: &bar,
            total: std::sync::atomic::AtomicU64::new(0),
        };
        let night = vault
            .pull_with(Tick::now(), vault.firewall_report(), &progress)
            .map_err(|e| failure(self.lang, &e))?;
        bar.finish();
        self.print_night(&vault, &night);
        Ok(night_code(&night))
    }

    fn print_night(&self, vault: &Vault, n: &Night) {
        let l = self.lang;
        if self.g.json {
            print_json(&json!({
                "vault": vault.config.name,
                "added": n.outcome.added,
                "bytes": n.outcome.bytes,
                "error": n.outcome.error,
                "resealed": n.outcome.resealed,
                "findings": n.outcome.findings,
                "expired": {
                    "generations": n.expired.generations,
                    "objects": n.expired.objects,
                    "frozen": n.expired.frozen,
                },
                "posted": n.posted.is_ok(),
                "post_error": n.posted.as_ref().err(),
                "receipt": n.receipt,
            }));
            return;
        }
        if self.g.quiet && night_code(n) == exit::OK {
            return;
        }
        println!(
            "{}: {} {} ({})",
            vault.config.name,
            t(l, "generations added:", "追加した世代:"),
            n.outcome.added.len(),
            Bytes(n.outcome.bytes)
        );
        for s in &n.outcome.added {
            if let Some(h) = n.receipt.generations.iter().find(|h| &h.snapshot == s) {
                println!(
                    "  + {}  {}  {}  {} {}",
                    &s[..s.len().min(12)],
                    h.source,
                    h.time,
                    t(l, "kept until", "保持期限"),
                    h.retain_until
                );
            }
        }
        if n.outcome.resealed > 0 {
            println!(
                "{} {}",
                t(
                    l,
                    "immutable flag set again on objects a killed run left without it:",
                    "中断された実行が残した未保護のオブジェクトを変更不可にしました:"
                ),
                n.outcome.resealed
            );
        }
        for f in &n.outcome.findings {
            println!("{} [{}] {}", t(l, "FINDING", "検出"), f.kind, f.detail);
        }
        if let Some(e) = &n.outcome.error {
            println!(
                "{}: {e} ({})",
                t(l, "PULL FAILED", "取得に失敗"),
                t(
                    l,
                    "what the vault held is kept; the next pull tries again",
                    "保管済みのものはそのままです。次回の取得で再試行します"
                )
            );
        }
        if n.expired.frozen {
            println!(
                "{}",
                t(
                    l,
                    "retention: FROZEN by the compliance clock (nothing removed); check the time, then `hokan vault clock --accept` at the console",
                    "保持期限: コンプライアンス時計により凍結中（何も削除していません）。時刻を確認してからコンソールで `hokan vault clock --accept` を実行してください"
                )
            );
        } else if !n.expired.generations.is_empty() {
            println!(
                "{} {} ({} {})",
                t(
                    l,
                    "retention: generations removed:",
                    "保持期限: 削除した世代:"
                ),
                n.expired.generations.len(),
                n.expired.objects,
                t(l, "objects", "オブジェクト")
            );
        }
        self.print_firewall(&n.receipt.firewall);
        match &n.posted {
            Ok(()) => println!(
                "{}",
                t(l, "receipt: signed and posted to the primary", "受領書: 署名して一次サーバへ送信しました")
            ),
            Err(e) => println!(
                "{}: {e} ({})",
                t(l, "receipt NOT posted", "受領書を送信できませんでした"),
                t(
                    l,
                    "kept in the vault's receipts/; the primary counts this vault only while a receipt is fresh",
                    "保管サーバの receipts/ に保存しました。一次サーバは新しい受領書がある間だけこの保管サーバを数えます"
                )
            ),
        }
    }

    fn print_firewall(&self, f: &FirewallReport) {
        let l = self.lang;
        let word = match f.state.as_str() {
            "ok" => t(
                l,
                "ok (the live ruleset is hokan's)",
                "正常（稼働中のルールは hokan のもの）",
            ),
            "differs" => t(
                l,
                "DIFFERS from the ruleset hokan writes",
                "hokan の書いたルールと異なります",
            ),
            "not-enforced" => t(
                l,
                "not enforced (vault.toml)",
                "適用しない設定（vault.toml）",
            ),
            _ => t(l, "could not be checked", "確認できません"),
        };
        println!("{} {word}", t(l, "firewall:", "ファイアウォール:"));
        for d in &f.detail {
            println!("  - {d}");
        }
    }

    fn daemon(&self) -> Result<i32, Failure> {
        let vault = self.open()?;
        let signals = hokan_daemon::Signals::register()
            .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
        let every = std::time::Duration::from_secs(vault.config.pull_every_minutes * 60);
        tracing::info!(
            vault = %vault.config.name,
            every_minutes = vault.config.pull_every_minutes,
            "hokan vault daemon started"
        );
        while !signals.stopping() {
            let started = std::time::Instant::now();
            // A fresh read each time: vault.toml may have changed (SIGHUP
            // is not needed; the next pull reads it).
            match Vault::open(self.dir) {
                Ok(v) => match v.pull_with(Tick::now(), v.firewall_report(), &LogPull) {
                    Ok(n) => self.print_night(&v, &n),
                    Err(e) => eprintln!("{}", failure(self.lang, &e).message),
                },
                Err(e) => eprintln!("{}", failure(self.lang, &e).message),
            }
            while !signals.stopping() && started.elapsed() < every {
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        }
        Ok(exit::OK)
    }

    fn status(&self) -> Result<i32, Failure> {
        let vault = self.open()?;
        let r = vault
            .receipt(&Tick::now(), None, vault.firewall_report())
            .map_err(|e| failure(self.lang, &e))?;
        let (used, _) = vault.folder.usage().unwrap_or((0, 0));
        let code = status_code(&r);
        if self.g.json {
            print_json(&json!({
                "vault": r,
                "dir": self.dir,
                "bytes": used,
                "ok": code == exit::OK,
            }));
            return Ok(code);
        }
        let l = self.lang;
        println!(
            "{} {}  ({})  {} {}",
            t(l, "vault", "保管サーバ"),
            r.vault,
            self.dir.display(),
            t(l, "primary", "一次サーバ"),
            vault.config.primary
        );
        let clock = match r.clock.state.as_str() {
            "ok" => t(l, "ok", "正常"),
            "behind" => t(
                l,
                "the wall clock is behind the ledger: the ledger's time is used",
                "時計が台帳より遅れています（台帳の時刻を使います）",
            ),
            _ => t(
                l,
                "FROZEN: the clock jumped; nothing expires until `hokan vault clock --accept`",
                "凍結中: 時計が飛びました。`hokan vault clock --accept` まで期限切れ処理をしません",
            ),
        };
        println!(
            "{} {} ({} {})",
            t(l, "compliance clock:", "コンプライアンス時計:"),
            clock,
            r.issued,
            t(l, "by the ledger", "台帳による")
        );
        println!(
            "{} {} / {} {}",
            t(l, "immutable flag:", "変更不可フラグ:"),
            r.immutable.checked - r.immutable.without_flag_total,
            r.immutable.checked,
            t(l, "objects", "オブジェクト")
        );
        for p in &r.immutable.without_flag {
            println!("  {} {p}", t(l, "WITHOUT FLAG", "フラグなし"));
        }
        self.print_firewall(&r.firewall);
        println!(
            "{} {} ({})",
            t(l, "generations held:", "保管中の世代:"),
            r.generations.len(),
            Bytes(used)
        );
        let mut held: Vec<_> = r.generations.iter().collect();
        held.sort_by(|a, b| a.time.cmp(&b.time));
        for h in held {
            println!(
                "  {}  {:<12} {}  {} {}{}",
                &h.snapshot[..h.snapshot.len().min(12)],
                h.source,
                h.time,
                t(l, "kept until", "保持期限"),
                h.retain_until,
                if h.immutable {
                    ""
                } else {
                    t(l, "  NOT WHOLE/IMMUTABLE", "  欠落または変更可能")
                }
            );
        }
        if r.findings_total > 0 {
            println!(
                "{} {} ({})",
                t(l, "findings not acknowledged:", "未確認の検出事項:"),
                r.findings_total,
                t(
                    l,
                    "`hokan vault findings` lists them, `--ack` acknowledges",
                    "`hokan vault findings` で一覧、`--ack` で確認済みにします"
                )
            );
        }
        Ok(code)
    }

    fn restore(
        &self,
        snapshot: &str,
        target: std::path::PathBuf,
        include: Vec<String>,
        source: Option<String>,
        latest_undamaged: bool,
    ) -> Result<i32, Failure> {
        let vault = self.open()?;
        let conf = crate::ctx::load(self.g, self.lang, false)?;
        let repo =
            crate::ctx::open::open_repository(self.g, self.lang, &vault.folder.repo(), &conf)?;
        let mut extra = serde_json::Map::new();
        extra.insert("vault".into(), json!(vault.config.name));
        crate::ctx::restore::restore_snapshot_with(
            self.g,
            self.lang,
            &repo,
            snapshot,
            target,
            include,
            false,
            source,
            latest_undamaged,
            extra,
        )
    }

    fn expire(&self) -> Result<i32, Failure> {
        let vault = self.open()?;
        let done = vault
            .expire(&Tick::now())
            .map_err(|e| failure(self.lang, &e))?;
        let l = self.lang;
        if self.g.json {
            print_json(&json!({
                "generations": done.generations,
                "objects": done.objects,
                "frozen": done.frozen,
            }));
        } else if done.frozen {
            println!(
                "{}",
                t(
                    l,
                    "expiry is FROZEN by the compliance clock: nothing removed (`hokan vault clock`)",
                    "コンプライアンス時計により期限切れ処理は凍結中です。何も削除していません（`hokan vault clock`）"
                )
            );
        } else {
            println!(
                "{} {} ({} {})",
                t(l, "generations removed:", "削除した世代:"),
                done.generations.len(),
                done.objects,
                t(l, "objects", "オブジェクト")
            );
        }
        Ok(if done.frozen {
            exit::NOT_COMPLIANT
        } else {
            exit::OK
        })
    }

    fn firewall(&self, apply: bool) -> Result<i32, Failure> {
        let vault = self.open()?;
        let rules = vault
            .ruleset()
            .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
        if !apply {
            print!("{}", hokan_vault::firewall::render(&rules));
            return Ok(exit::OK);
        }
        hokan_vault::firewall::apply(&rules)
            .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
        if !self.quiet() {
            println!(
                "{}",
                t(
                    self.lang,
                    "firewall loaded (table inet hokan_vault); make it permanent: `hokan vault firewall > /etc/nftables.d/hokan-vault.nft` and include it from /etc/nftables.conf",
                    "ファイアウォールを読み込みました（table inet hokan_vault）。再起動後も有効にするには `hokan vault firewall > /etc/nftables.d/hokan-vault.nft` を /etc/nftables.conf から include してください"
                )
            );
        }
        self.check()
    }

    fn check(&self) -> Result<i32, Failure> {
        let vault = self.open()?;
        let l = self.lang;
        let rules = vault
            .ruleset()
            .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
        let checked = hokan_vault::firewall::check(&rules);
        let (report, notes) = match &checked {
            Ok(c) => (c.report(), c.notes.clone()),
            Err(e) => (hokan_vault::firewall::unchecked(e), Vec::new()),
        };
        if self.g.json {
            print_json(&json!({
                "state": report.state,
                "differences": report.detail,
                "notes": notes,
            }));
        } else {
            self.print_firewall(&report);
            for n in &notes {
                println!("  ({}) {n}", t(l, "note", "注"));
            }
        }
        Ok(match report.state.as_str() {
            "ok" => exit::OK,
            "differs" => exit::NOT_COMPLIANT,
            _ => exit::ERROR,
        })
    }

    fn clock(&self, accept: bool, by: Option<String>) -> Result<i32, Failure> {
        let vault = self.open()?;
        let l = self.lang;
        let tick = Tick::now();
        if accept {
            let who = actor(by);
            let was = vault
                .accept_clock(&tick, &who)
                .map_err(|e| failure(l, &e))?;
            if self.g.json {
                print_json(&json!({"accepted": was, "wall": tick.wall.to_string(), "by": who}));
            } else if was {
                println!(
                    "{} {} ({who})",
                    t(
                        l,
                        "clock accepted; expiry resumes from",
                        "時刻を承認しました。期限切れ処理を再開します:"
                    ),
                    hokan_vault::ledger::fmt(tick.wall)
                );
            } else {
                println!(
                    "{}",
                    t(
                        l,
                        "the clock was not frozen; nothing to accept",
                        "時計は凍結していません。承認するものはありません"
                    )
                );
            }
            return Ok(exit::OK);
        }
        let r = vault
            .receipt(
                &tick,
                None,
                FirewallReport {
                    state: "unchecked".into(),
                    detail: vec![],
                },
            )
            .map_err(|e| failure(l, &e))?;
        let state = vault.state().map_err(|e| failure(l, &e))?;
        if self.g.json {
            print_json(&json!({
                "state": r.clock.state,
                "compliance_time": r.issued,
                "wall": r.clock.wall,
                "frozen_because": state.frozen,
            }));
        } else {
            println!(
                "{} {}",
                t(l, "compliance time:", "コンプライアンス時刻:"),
                r.issued
            );
            println!("{} {}", t(l, "wall clock:", "システム時計:"), r.clock.wall);
            println!("{} {}", t(l, "state:", "状態:"), r.clock.state);
            if let Some(why) = &state.frozen {
                println!("{} {why}", t(l, "frozen because:", "凍結の理由:"));
            }
        }
        Ok(if state.frozen.is_some() {
            exit::NOT_COMPLIANT
        } else {
            exit::OK
        })
    }

    fn findings(&self, ack: bool, by: Option<String>) -> Result<i32, Failure> {
        let vault = self.open()?;
        let l = self.lang;
        let state = vault.state().map_err(|e| failure(l, &e))?;
        if self.g.json && !ack {
            let list: Vec<_> = state
                .findings
                .iter()
                .map(|(seq, time, f)| json!({"seq": seq, "time": time, "finding": f}))
                .collect();
            print_json(&json!({"findings": list}));
            return Ok(if list.is_empty() {
                exit::OK
            } else {
                exit::VAULT_FINDINGS
            });
        }
        if !self.g.json {
            for (seq, time, f) in &state.findings {
                println!("#{seq} {time} [{}] {}", f.kind, f.detail);
            }
            if state.findings.is_empty() {
                println!(
                    "{}",
                    t(l, "no findings waiting", "未確認の検出事項はありません")
                );
            }
        }
        if ack {
            let who = actor(by);
            let n = vault.acknowledge(&who).map_err(|e| failure(l, &e))?;
            if self.g.json {
                print_json(&json!({"acknowledged": n, "by": who}));
            } else if n > 0 {
                println!(
                    "{} {n} ({who})",
                    t(l, "acknowledged:", "確認済みにしました:")
                );
            }
            return Ok(exit::OK);
        }
        Ok(if state.findings.is_empty() {
            exit::OK
        } else {
            exit::VAULT_FINDINGS
        })
    }
}

/// A pull's progress on the bar: the total grows by each generation's
/// bytes still to come.
struct BarPull<'a> {
    bar: &'a crate::progress::Bar,
    total: std::sync::atomic::AtomicU64,
}

impl hokan_vault::pull::PullProgress for BarPull<'_> {
    fn generation(&self, snapshot: &str, source: &str, bytes: u64) {
        use std::sync::atomic::Ordering;
        let total = self.total.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.bar.set_total(total);
        self.bar
            .say(format!("{} {source}", &snapshot[..snapshot.len().min(8)]));
    }

    fn stored(&self, bytes: u64) {
        self.bar.add(bytes);
    }
}

/// A pull's progress in the daemon's log (the journal).
struct LogPull;

impl hokan_vault::pull::PullProgress for LogPull {
    fn generation(&self, snapshot: &str, source: &str, bytes: u64) {
        tracing::info!(snapshot, source, bytes, "pulling a generation");
    }
}

/// A pull's exit code: 1 when it failed or the receipt could not be
/// posted, 14 when it recorded findings, else 0.
fn night_code(n: &Night) -> i32 {
    if n.outcome.error.is_some() || n.posted.is_err() {
        exit::ERROR
    } else if !n.outcome.findings.is_empty() {
        exit::VAULT_FINDINGS
    } else {
        exit::OK
    }
}

/// `status`'s exit code: 9 when the vault is weakened (clock frozen,
/// objects without the immutable flag, firewall not hokan's), 14 when
/// findings wait, else 0.
fn status_code(r: &Receipt) -> i32 {
    if r.clock.state == "frozen" || r.immutable.without_flag_total > 0 || r.firewall.state != "ok" {
        exit::NOT_COMPLIANT
    } else if r.findings_total > 0 {
        exit::VAULT_FINDINGS
    } else {
        exit::OK
    }
}
