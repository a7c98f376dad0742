//! `hokan`: offline backup for hospitals.
//!
//! The binary owns arguments, output, language, passphrases and wiring; it is
//! the only place that reads environment variables. Everything else is in the
//! libraries.

// `print!` and friends that never panic (see `out`). Defined before the
// modules, so that every `println!` of this crate means these, not `std`'s.
macro_rules! print {
    ($($arg:tt)*) => { $crate::out::stdout(format_args!($($arg)*)) };
}
macro_rules! println {
    () => { $crate::out::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}
#[allow(unused_macros)] // None yet; a later `eprint!` must not be std's.
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { $crate::out::stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

mod commands;
mod ctx;
mod daemon;
mod demo;
mod disk;
mod drill;
mod exit;
mod i18n;
mod job_error;
mod night;
mod notify;
mod out;
mod progress;
mod s3;
mod site;
mod tape;
mod vault;
mod web;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::i18n::Lang;

/// hokan (保管) — offline backup for hospitals: multi-generation, deduplicated,
/// encrypted backups, with copies on media that count as offline.
#[derive(Parser, Debug)]
#[command(name = "hokan", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Repository path (or env HOKAN_REPO).
    #[arg(long, short = 'r', global = true, env = "HOKAN_REPO")]
    pub repo: Option<PathBuf>,
    /// Read the passphrase from this file (first line). Otherwise env
    /// HOKAN_PASSPHRASE (or HOKAN_PASSWORD), otherwise a prompt on a terminal.
    #[arg(long, global = true)]
    pub password_file: Option<PathBuf>,
    /// Open with a paper key (file holding the K1..K4 lines) instead of a passphrase.
    #[arg(long, global = true)]
    pub paper_key: Option<PathBuf>,
    /// Machine-readable output (JSON on stdout).
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of messages: ja or en (default: from the locale).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,
    /// No progress bars, and no summary lines from jobs (errors, warnings
    /// and the reports a command is asked for still print).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Site configuration (hokan.toml). Otherwise env HOKAN_CONFIG, otherwise
    /// ./hokan.toml if present.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Catalog database (overrides the configuration's), or env HOKAN_CATALOG.
    #[arg(long, global = true, env = "HOKAN_CATALOG")]
    pub catalog: Option<PathBuf>,
    /// Evaluate and record as of this instant (RFC 3339), between
    /// 2000-01-01 and 2200-01-01. For tests, demos and re-creating a past
    /// report.
    #[arg(long, global = true, hide = true, env = "HOKAN_NOW")]
    pub now: Option<String>,
    /// Time limit for asking one tape library, tape drive or RDX device
    /// where its media are (`status`, `media move`), e.g. 30s, 2m. A device
    /// that does not answer in time is reported, and its media are judged as
    /// last recorded.
    #[arg(
        long,
        global = true,
        env = "HOKAN_OBSERVE_TIMEOUT",
        default_value = "30s",
        value_parser = site::observe::parse_timeout
    )]
    pub observe_timeout: std::time::Duration,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new repository.
    Init {
        /// Use a fast, weak key derivation. For tests only: anyone who steals
        /// the repository can guess passphrases much faster.
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
        /// Target pack size in bytes (default 8 MiB).
        #[arg(long, hide = true)]
        pack_size: Option<u32>,
    },
    /// Back up paths into a new snapshot (generation).
    Backup {
        /// Paths to back up. Without paths: every `[[source]]` of hokan.toml,
        /// each after its pre-backup command.
        paths: Vec<PathBuf>,
        /// Source name: generations are counted per source. With paths, the
        /// name to record (default `default`); without, the configured source
        /// to back up.
        #[arg(long)]
        source: Option<String>,
        /// Tags (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Read every file, ignoring the previous snapshot.
        #[arg(long)]
        force: bool,
        /// Snapshot time to record (RFC 3339), e.g. for imports and simulations.
        #[arg(long, hide = true)]
        time: Option<String>,
    },
    /// Run the night as hokan.toml describes it: back up every source, copy
    /// to each offline target due tonight by its schedule, extend S3 locks,
    /// judge the site. One job in the catalog; a failed step does not stop
    /// the others (exit 3 when some failed).
    Run {
        /// Print tonight's plan (what would run, what is not due) and run nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run the night on the site's schedule ([site] schedule), as a service:
    /// catches up once after a missed time, one night at a time, records a
    /// night killed mid-way as interrupted, alerts when a night has not
    /// finished by [site] expect_done_by; SIGHUP re-reads hokan.toml,
    /// SIGTERM stops between nights. See packaging/ for the systemd unit.
    Daemon,
    /// List snapshots.
    Snapshots {
        /// Only this source.
        #[arg(long)]
        source: Option<String>,
    },
    /// List the files in a snapshot.
    Ls {
        /// Snapshot id, unique prefix, or `latest`.
        snapshot: String,
        /// Path inside the snapshot.
        path: Option<String>,
    },
    /// Show what changed between two snapshots.
    Diff {
        /// Older snapshot.
        a: String,
        /// Newer snapshot.
        b: String,
    },
    /// Restore a snapshot.
    Restore {
        /// Snapshot id, unique prefix, or `latest`.
        snapshot: String,
        /// Where to restore to.
        #[arg(long, short = 't')]
        target: PathBuf,
        /// Only paths matching this glob (repeat for several).
        #[arg(long)]
        include: Vec<String>,
        /// Replace files that already exist in the target.
        #[arg(long)]
        overwrite: bool,
        /// With `latest`: the latest of this source.
        #[arg(long)]
        source: Option<String>,
        /// With `latest`: if a snapshot manifest is damaged (so the newest
        /// cannot be known), take the newest undamaged snapshot and say which
        /// damaged ones were skipped. Without it, such a restore stops (exit 4).
        #[arg(long)]
        latest_undamaged: bool,
    },
    /// Check the repository; with --read-data, read and authenticate every pack.
    Verify {
        /// Read every pack and authenticate every blob.
        #[arg(long)]
        read_data: bool,
    },
    /// Remove snapshots by a grandfather-father-son policy.
    Forget {
        /// Keep the last N snapshots.
        #[arg(long, default_value_t = 0)]
        keep_last: u32,
        /// Keep the newest snapshot of each of the last N days.
        #[arg(long, default_value_t = 0)]
        keep_daily: u32,
        /// … of each of the last N weeks.
        #[arg(long, default_value_t = 0)]
        keep_weekly: u32,
        /// … of each of the last N months.
        #[arg(long, default_value_t = 0)]
        keep_monthly: u32,
        /// … of each of the last N years.
        #[arg(long, default_value_t = 0)]
        keep_yearly: u32,
        /// Only this source.
        #[arg(long)]
        source: Option<String>,
        /// Show what would be removed; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Prune right after.
        #[arg(long)]
        prune: bool,
    },
    /// Delete data no snapshot needs (repacks only what it must).
    Prune {
        /// Show the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Repack a pack when more than this percentage of it is unused.
        #[arg(long, default_value_t = 20)]
        repack_threshold: u8,
    },
    /// Manage passphrases (key slots) and the paper key.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Repair: rebuild the index from the packs; salvage damaged snapshots.
    Repair {
        #[command(subcommand)]
        what: RepairWhat,
    },
    /// Remove stale locks (of processes that are gone).
    Unlock {
        /// Remove every lock, also those of other hosts. Make sure nothing runs.
        #[arg(long)]
        all: bool,
    },
    /// The site configuration (hokan.toml).
    Config {
        #[command(subcommand)]
        action: site::ConfigCmd,
    },
    /// The catalog: verify its event log, sync snapshots, list events, export.
    Catalog {
        #[command(subcommand)]
        action: site::CatalogCmd,
    },
    /// Media inventory: add, list, show, move, retire.
    Media {
        #[command(subcommand)]
        action: site::MediaCmd,
    },
    /// Record a fact the software cannot observe (network segmentation, …).
    Attest {
        #[command(subcommand)]
        action: site::AttestCmd,
    },
    /// LTO tape: label, inventory, back up to a media pool, restore, scan.
    Tape {
        #[command(subcommand)]
        action: tape::TapeCmd,
    },
    /// Removable disks (RDX, USB disks, NAS): format, back up, eject, restore.
    Disk {
        #[command(subcommand)]
        action: disk::DiskCmd,
    },
    /// Copy snapshots to another store: `--to s3:NAME` (an S3 bucket under object lock).
    Copy {
        /// The destination, `s3:NAME` (an `[[s3]]` of hokan.toml).
        #[arg(long)]
        to: String,
        /// Snapshots (default: every one not yet there).
        snapshots: Vec<String>,
    },
    /// S3 buckets under object lock: check, extend-locks, restore, prune.
    S3 {
        #[command(subcommand)]
        action: s3::S3Cmd,
    },
    /// The morning view: offline generations per source, media, problems.
    /// Asks the tape and RDX devices where their media are first (see
    /// --no-observe). Exit code 9 when the site is not compliant.
    Status(site::args::StatusArgs),
    /// Notifications ([[notify]]): send a test, deliver the outbox, list it.
    Notify {
        #[command(subcommand)]
        action: notify::NotifyCmd,
    },
    /// The pull-only vault (run on the vault machine): init, pull, status,
    /// restore, firewall, check, clock, findings (項番 ⑤-1 and ④-1).
    Vault(vault::args::VaultArgs),
    /// Serve the repository read-only to vaults over HTTPS, and keep the
    /// receipts they post (run on the primary; `--init` makes the certificate).
    Serve(vault::args::ServeArgs),
    /// The web dashboard over HTTPS (serve), and its local accounts (user add,
    /// passwd, remove, list).
    Web(web::WebArgs),
    /// Restore drills (復旧訓練): the newest offline generation of each source
    /// restored from each kind of medium alone into a scratch folder,
    /// checked, timed and recorded. Exit code 1 when a drill failed.
    Drill(drill::DrillArgs),
    /// Write the offline backup status report (オフラインバックアップ状態確認報告書).
    Report(site::args::ReportArgs),
    /// Write the backup annex to the operations rulebook (運用管理規程 別紙:
    /// バックアップ運用): what, how often, which media and 項番, where, who,
    /// recovery step by step, drills. Generated from hokan.toml and the catalog.
    Annex(site::args::AnnexArgs),
    /// Build a demo site with sample data, back it up over a few nights, restore and compare.
    Demo {
        /// Folder for the demo (default ./hokan-demo).
        dir: Option<PathBuf>,
        /// How many nights to simulate.
        #[arg(long, default_value_t = 3)]
        nights: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyAction {
    /// Add a passphrase (asks for the new one; or env HOKAN_NEW_PASSPHRASE or HOKAN_NEW_PASSWORD, or --new-password-file).
    Add {
        /// A label for the new key slot.
        #[arg(long, default_value = "")]
        label: String,
        /// Read the new passphrase from this file.
        #[arg(long)]
        new_password_file: Option<PathBuf>,
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
    /// List key slots.
    List,
    /// Remove a key slot.
    Remove {
        /// Key slot name or unique prefix.
        id: String,
    },
    /// Export the master key: --paper prints a sheet to keep in a safe.
    Export {
        /// A printable sheet with checksummed lines.
        #[arg(long)]
        paper: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum RepairWhat {
    /// Rebuild the index from the packs: index packs no readable index lists
    /// (after a crash, a damaged or deleted index), drop packs that are gone.
    Index,
    /// Save what is left of damaged snapshots (data gone or damaged) into new
    /// snapshots tagged `repaired`; lists every file left out. Writes unless
    /// --dry-run; the originals stay unless --forget.
    Snapshots {
        /// Show what would be salvaged and lost; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also read every pack and authenticate every blob, to find damaged
        /// (not only missing) data.
        #[arg(long)]
        read_data: bool,
        /// Forget each damaged original once its salvaged copy is written.
        #[arg(long)]
        forget: bool,
    },
}

/// The one-line about of each command in Japanese, by command path; applied
/// to clap's help when the language is Japanese (`--lang ja`, or the locale).
const JA_ABOUT: &[(&str, &str)] = &[
    ("", "hokan (保管) — 病院のためのオフラインバックアップ: 多世代・重複排除・暗号化したバックアップと、オフラインとみなされる媒体へのコピー"),
    ("init", "新しいリポジトリを作成します"),
    ("backup", "パスを新しいスナップショット (世代) にバックアップします"),
    ("run", "hokan.toml のとおりに夜間ジョブを実行します: 全ソースのバックアップ、今夜予定の各オフライン保管先へのコピー、S3 ロック延長、サイトの判定（一部失敗は終了コード 3）"),
    ("daemon", "サービスとして夜間ジョブを [site] schedule のとおりに実行します（停止中に逃した回は一度だけ実行、同時実行なし、途中で止まった回は中断として記録、expect_done_by までに終わらなければ通知、SIGHUP で再読込、SIGTERM で停止）"),
    ("snapshots", "スナップショットを一覧表示します"),
    ("ls", "スナップショット内のファイルを一覧表示します"),
    ("diff", "2 つのスナップショットの違いを表示します"),
    ("restore", "スナップショットを復元します"),
    ("verify", "リポジトリを検査します (--read-data で全パックを読んで認証)"),
    ("forget", "世代管理の規則でスナップショットを削除します"),
    ("prune", "どのスナップショットにも不要なデータを削除します"),
    ("key", "パスフレーズ (鍵スロット) とペーパーキーを管理します"),
    ("repair", "修復: パックから索引を再構築し、破損したスナップショットを救出します"),
    ("unlock", "終了したプロセスが残したロックを削除します"),
    ("config", "サイト設定 (hokan.toml)"),
    ("catalog", "カタログ: イベントログの検証、同期、一覧、書き出し"),
    ("media", "媒体台帳: 追加、一覧、表示、移動、廃棄"),
    ("media move", "人が媒体を置いた場所を記録します"),
    ("attest", "ソフトウェアから見えない事実 (ネットワーク分割など) を記録します"),
    ("tape", "LTO テープ: ラベル、棚卸し、プールへのバックアップ、復元、スキャン"),
    ("disk", "リムーバブルディスク (RDX・USB ディスク・NAS): フォーマット、バックアップ、排出、復元"),
    ("copy", "スナップショットを別の保管先へコピーします (`--to s3:名前`)"),
    ("s3", "オブジェクトロック付き S3 バケット: 検査、ロック延長、復元、削除"),
    ("notify", "通知（[[notify]]）: テスト送信、送信箱の配信、一覧"),
    ("notify test", "すべての通知先へテスト通知を今すぐ送ります（全件送信できたときだけ終了コード 0）"),
    ("notify flush", "送信時刻になった通知を配信します（再送は 1 分から 1 時間まで間隔を延ばし、24 時間で断念）"),
    ("notify list", "送信箱: すべての通知とその状態"),
    ("vault", "プル型の保管サーバ（保管サーバ側で実行）: 初期設定、取得、状態、復元、ファイアウォール、時計、検出事項（項番 ⑤-1・④-1）"),
    ("vault init", "保管サーバのフォルダを作成します（設定・署名鍵・アクセストークン・一次サーバの証明書）。一次サーバの hokan.toml に追加する [[vault]] を表示します"),
    ("vault pull", "未取得の世代を取得し、保持期限を適用し、受領書に署名して一次サーバへ送ります（拒否した事項があれば終了コード 14）"),
    ("vault daemon", "vault.toml の pull_every_minutes ごとに取得を続けます（SIGTERM で停止）"),
    ("vault status", "保管中の世代と保持期限、時計・変更不可フラグ・ファイアウォール・検出事項（弱体化なら 9、未確認の検出事項は 14）"),
    ("vault restore", "保管サーバ自身のコピーから世代を復元します（リポジトリのパスフレーズが必要）"),
    ("vault expire", "保管サーバの保持期限を今すぐ適用します"),
    ("vault firewall", "この保管サーバの nftables ルールを表示します（--apply で読み込んで確認）"),
    ("vault check", "稼働中の nftables ルールを hokan のものと比べ、違いを示します（異なれば 9）"),
    ("vault clock", "コンプライアンス時計。凍結後はコンソールで --accept により時刻を承認します"),
    ("vault findings", "未確認の検出事項の一覧。--ack で確認済みにします"),
    ("web", "Web ダッシュボードを HTTPS で公開し（serve）、そのローカルアカウントを管理します（user）"),
    ("web serve", "ダッシュボードを HTTPS で公開します（既定は 127.0.0.1:8443）"),
    ("web user", "ダッシュボードのアカウントを管理します"),
    ("web user add", "アカウントを追加します（パスワードは端末で 2 回、または HOKAN_WEB_PASSWORD）"),
    ("web user passwd", "アカウントのパスワードを設定し、ロックを解除します"),
    ("web user remove", "アカウントを削除します（最後の admin は削除できません）"),
    ("web user list", "アカウント、ロール、ロック状態の一覧"),
    ("serve", "一次サーバのリポジトリを保管サーバへ HTTPS で読み取り専用に公開し、受領書を受け取ります（--init で証明書を作成）"),
    ("status", "朝の確認: 対象ごとのオフライン世代数、媒体、問題点 (不適合なら終了コード 9)"),
    ("report", "オフラインバックアップ状態確認報告書を出力します"),
    ("annex", "運用管理規程の別紙（バックアップ運用）を hokan.toml とカタログから生成します: 対象・頻度・媒体と項番・保管場所・責任者・媒体別の復旧手順・復旧訓練"),
    ("demo", "サンプルデータでデモサイトを作り、数晩分バックアップし、復元して比較します"),
    ("help", "このメッセージ、またはサブコマンドのヘルプを表示します"),
];

/// The language of `--help`, before the arguments are parsed.
fn help_lang() -> Lang {
    let args: Vec<String> = std::env::args().collect();
    let flag = args.iter().enumerate().find_map(|(i, a)| {
        let v = a.strip_prefix("--lang=").or_else(|| {
            (a == "--lang")
                .then(|| args.get(i + 1).map(String::as_str))
                .flatten()
        })?;
        match v {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    });
    Lang::detect(flag)
}

/// Put the Japanese abouts into `cmd` (and its subcommands), at `path`.
fn japanese(mut cmd: clap::Command, path: &str) -> clap::Command {
    if let Some((_, ja)) = JA_ABOUT.iter().find(|(p, _)| *p == path) {
        cmd = cmd.about(*ja).long_about(None);
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for n in names {
        let sub = if path.is_empty() {
            n.clone()
        } else {
            format!("{path} {n}")
        };
        cmd = cmd.mut_subcommand(&n, |c| japanese(c, &sub));
    }
    cmd
}

fn main() {
    use clap::{CommandFactory, FromArgMatches};
    hokan_repo::memory::tune_allocator();
    let mut command = Cli::command();
    if help_lang() == Lang::Ja {
        // Built first, so the generated `help` subcommands are there too.
        command.build();
        command = japanese(command, "");
    }
    let cli = match command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let lang = Lang::detect(cli.global.lang);
    // A service logs what it does; a command only its warnings.
    let level = if matches!(cli.command, Command::Daemon) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOKAN_LOG")
                .unwrap_or_else(|_| level.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(out::colour_stderr())
        .without_time()
        .with_target(false)
        .init();
    let mut code = match commands::run(cli, lang) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("hokan: {}", f.message);
            f.code
        }
    };
    if let Some(f) = out::finish(lang) {
        eprintln!("hokan: {}", f.message);
        if code == exit::OK {
            code = f.code;
        }
    }
    std::process::exit(code);
}
