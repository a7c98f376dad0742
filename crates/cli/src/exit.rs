//! Exit codes and the one-line error message.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | error (the message says which object and what to do) |
//! | 2 | usage: bad arguments, or `init` on a folder that is not empty |
//! | 3 | partial: a backup skipped unreadable files, or a restore could not restore some files |
//! | 4 | damage: verify found some; or the config, the key slots or the snapshot `latest` would be is damaged; or restore refused a snapshot with unsafe names |
//! | 5 | wrong passphrase (every key slot intact, none opens), or no passphrase available |
//! | 6 | the repository is locked by another operation |
//! | 7 | no space left on the medium, or on the disk holding the catalog |
//! | 8 | the repository or catalog was written by a newer hokan |
//! | 9 | `status`: the site is not compliant with its offline policy |
//! | 10 | the site configuration (hokan.toml) is missing or invalid |
//! | 11 | a pre-backup command failed or timed out, and its source was not backed up |
//! | 12 | the catalog is missing, damaged or rolled back: nothing was judged |
//! | 13 | `tape restore`: a cartridge the restore needs is not in the drive or library; the message names it (barcode, media set, snapshot) |
//! | 14 | `vault pull` / `vault status` / `vault findings`: the primary served something the vault refused (changed bytes, a vanished or future-dated snapshot…), or such findings wait for acknowledgement |
//!
//! README repeats this table; keep them together.

use hokan_format::FormatError;
use hokan_repo::{RepoError, StoreError};

use crate::i18n::{t, Lang};

/// Success.
pub const OK: i32 = 0;
/// Generic error.
pub const ERROR: i32 = 1;
/// Usage error (clap uses 2 as well).
pub const USAGE: i32 = 2;
/// Partial backup or restore.
pub const PARTIAL: i32 = 3;
/// Damage found (verify), or damage that stops an open or a `latest`.
pub const DAMAGE: i32 = 4;
/// Wrong (every key slot intact, none opens) or missing passphrase.
pub const PASSWORD: i32 = 5;
/// Locked.
pub const LOCKED: i32 = 6;
/// No space.
pub const NO_SPACE: i32 = 7;
/// Newer format.
pub const NEWER_FORMAT: i32 = 8;
/// The site is not compliant with its offline policy.
pub const NOT_COMPLIANT: i32 = 9;
/// The site configuration is missing or invalid.
pub const CONFIG: i32 = 10;
/// A pre-backup command failed, and its source was not backed up.
pub const PRE_BACKUP: i32 = 11;
/// The catalog is missing, damaged or rolled back: nothing was judged.
pub const UNTRUSTED: i32 = 12;
/// A cartridge the restore needs is not in the drive or library: a person
/// must insert it (the message names it).
pub const INSERT_CARTRIDGE: i32 = 13;
/// The vault recorded findings (it kept what it had), or findings wait for
/// acknowledgement.
pub const VAULT_FINDINGS: i32 = 14;

/// An error on its way out of `main`: code and message.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// The one-line message (already in the user's language).
    pub message: String,
}

impl Failure {
    /// A failure with a code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// Map an engine error to an exit code and a one-line message.
pub fn from_repo(lang: Lang, e: &RepoError) -> Failure {
    let detail = e.to_string();
    match e {
        RepoError::WrongPassword { store } => Failure::new(
            PASSWORD,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("パスフレーズが違います: {store} のどの鍵スロットも開けません。パスフレーズを確認してください"),
            },
        ),
        RepoError::DamagedKeySlots { store, damaged, intact } => Failure::new(
            DAMAGE,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("{store} のどの鍵スロットも開けません: 無傷の鍵スロット {intact} 個はこのパスフレーズで開かず、{} 個は破損しています ({})。パスフレーズは破損したスロットのものかもしれません。別のパスフレーズかペーパーキー (--paper-key FILE) で開き、`hokan key add` で新しいパスフレーズを追加し、`hokan verify` を実行してください", damaged.len(), damaged.join(", ")),
            },
        ),
        RepoError::NoKeySlots { store } => Failure::new(
            DAMAGE,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("{store} に鍵スロットがありません (削除または消失)。パスフレーズでは開けません。ペーパーキー (--paper-key FILE) で開き、`hokan key add` でパスフレーズを追加し、`hokan verify` を実行してください"),
            },
        ),
        RepoError::KeySlotAltered { store, slot, detail: why } => Failure::new(
            DAMAGE,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("{store} の鍵スロット {slot} は破損または改変されています: {why}。これ以上読んでいません。別のパスフレーズかペーパーキー (--paper-key FILE) で開き、`hokan key remove` でこのスロットを削除し、`hokan verify` を実行してください"),
            },
        ),
        RepoError::DamagedConfig { store, detail: why } => Failure::new(
            DAMAGE,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("{store} のリポジトリ設定 (config) が破損しています: {why}。何も変更していません。このリポジトリのコピー (ディスク・テープ・バケット) から `config` ファイルを戻し、`hokan verify` を実行してください"),
            },
        ),
        RepoError::LatestDamaged { damaged, detail: why } => Failure::new(
            DAMAGE,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("最新のスナップショットを決められません: スナップショット {} が破損しており ({why})、これが最新かもしれません。`hokan verify` を実行してください。破損していない最新のものを使うには --latest-undamaged を付けるか、ID で指定してください", damaged.join(", ")),
            },
        ),
        RepoError::SnapshotDamaged { name, detail: why } => Failure::new(
            DAMAGE,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("スナップショット {name} は破損しています: {why}。`hokan verify` を実行し、別のスナップショットを復元してください (`hokan snapshots`)"),
            },
        ),
        RepoError::NotARepository { store } => Failure::new(
            ERROR,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("{store} は hokan のリポジトリではありません (config がありません)。パスを確認するか、`hokan init` で作成してください"),
            },
        ),
        RepoError::Format {
            source: FormatError::UnsupportedVersion { what: "repository", found, supported },
            ..
        } => Failure::new(
            NEWER_FORMAT,
            match lang {
                Lang::En => format!("the repository has format version {found}, newer than this hokan reads (up to {supported}); upgrade hokan. Nothing was changed. (If no newer hokan ever wrote to this repository, its config is damaged: put back `config` from a copy and run `hokan verify`)"),
                Lang::Ja => format!("リポジトリの形式バージョン {found} はこの hokan が読める版 ({supported} まで) より新しいため開けません。hokan を更新してください。何も変更していません (新しい hokan で書き込んだことがなければ config の破損です。コピーから `config` を戻し、`hokan verify` を実行してください)"),
            },
        ),
        RepoError::Store(StoreError::NoSpace { store, .. }) => Failure::new(
            NO_SPACE,
            match lang {
                Lang::En => format!("{detail}. The repository is unchanged and still usable; `hokan prune` removes what the interrupted backup left"),
                Lang::Ja => format!("{store} の空き容量がありません。容量を空けるか大きな媒体を使い、もう一度実行してください。リポジトリは変更されておらず、そのまま使えます。中断したバックアップの残りは `hokan prune` で削除できます"),
            },
        ),
        RepoError::Locked { holder } => Failure::new(
            LOCKED,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("リポジトリは {holder} がロック中です。終了を待つか、そのプロセスが既に無い場合は `hokan unlock` を実行してください"),
            },
        ),
        RepoError::WouldOverwrite { count, first } => Failure::new(
            ERROR,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("復元を中止しました: 復元先に既存ファイルが {count} 件あります (例: {})。空のフォルダを指定するか --overwrite を付けてください", first.display()),
            },
        ),
        RepoError::UnsafeName {
            snapshot,
            tree,
            name,
            reason,
        } => Failure::new(
            DAMAGE,
            match lang {
                Lang::En => format!("{detail}. Nothing was restored; run `hokan verify`, and find out who else holds the repository passphrase"),
                Lang::Ja => format!(
                    "{}ツリー {tree} に危険な名前 {name} があります ({reason})。復元先の外に書き込むおそれがあるため、何も復元していません。`hokan verify` を実行し、リポジトリのパスフレーズを持つ者による改ざんを疑い、パスフレーズを持つ者を確認してください",
                    snapshot.map(|s| format!("スナップショット {s}: ")).unwrap_or_default()
                ),
            },
        ),
        RepoError::SnapshotNotFound(s) => Failure::new(
            ERROR,
            match lang {
                Lang::En => detail,
                Lang::Ja => format!("{s:?} に一致するスナップショットがありません。`hokan snapshots` で一覧を確認してください"),
            },
        ),
        _ => Failure::new(ERROR, format!("{}{detail}", t(lang, "", "エラー: "))),
    }
}
