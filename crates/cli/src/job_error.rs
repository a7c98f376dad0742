//! A job's error ([`hokan_jobs::JobError`]) as the person reads it: the
//! sentence in their language and the exit code. The library keeps the
//! data; the words are here, so the messages stay what they were before
//! the jobs moved out of the binary.

use std::path::Path;

use hokan_catalog::CatalogError;
use hokan_jobs::{JobError, PoolLock};

use crate::exit::{self, Failure};
use crate::i18n::{pick, t, Lang};

/// The failure `hokan` exits with for `e`.
pub fn failure(lang: Lang, e: &JobError) -> Failure {
    match e {
        JobError::PoolBusy { pool, lock } => Failure::new(
            exit::LOCKED,
            format!(
                "{} {pool} ({})",
                t(
                    lang,
                    "another job is running on pool",
                    "別のジョブが実行中です: プール"
                ),
                lock.display()
            ),
        ),
        JobError::LockFile { path, source } => {
            Failure::new(exit::ERROR, format!("{}: {source}", path.display()))
        }
        JobError::Repo(e) => exit::from_repo(lang, e),
        JobError::Catalog(e) => catalog_failure(lang, e),
        JobError::NoSnapshotToCopy => Failure::new(
            exit::ERROR,
            t(
                lang,
                "the repository has no snapshot to copy: run `hokan backup` first",
                "コピーするスナップショットがありません。先に `hokan backup` を実行してください",
            ),
        ),
        JobError::PaperKey(e) => Failure::new(
            exit::PASSWORD,
            format!("{}: {e}", t(lang, "paper key", "ペーパーキー")),
        ),
        JobError::LatestUndamagedNeedsLatest { .. } => Failure::new(
            exit::USAGE,
            t(
                lang,
                "--latest-undamaged goes with `latest` only; a snapshot named by its id is restored as named",
                "--latest-undamaged は `latest` と一緒にのみ使えます。ID で指定したスナップショットはそのまま復元します",
            ),
        ),
        JobError::DrillTargetInSource {
            target,
            source_name,
            path,
        } => Failure::new(
            exit::USAGE,
            match lang {
                Lang::Ja => format!(
                    "{}: 訓練の復元先が対象 {source_name} のパス {} と重なっています。対象のデータを上書きしないよう、別のフォルダを --target に指定してください",
                    target.display(),
                    path.display()
                ),
                _ => format!(
                    "{}: the drill's scratch folder overlaps source {source_name}'s path {}; pass another folder with --target, so the drill never writes over the data it protects",
                    target.display(),
                    path.display()
                ),
            },
        ),
        JobError::DrillTargetNotEmpty { target } => Failure::new(
            exit::USAGE,
            format!(
                "{}: {}",
                target.display(),
                t(
                    lang,
                    "the drill's scratch folder is not empty (the drill removes it afterwards); pass an empty or new folder with --target",
                    "訓練の復元先フォルダが空ではありません（訓練後に削除します）。空のフォルダか新しいフォルダを --target に指定してください",
                )
            ),
        ),
        other => Failure::new(exit::ERROR, other.to_string()),
    }
}

/// Take the pool's job lock next to the catalog, or fail at once naming the
/// pool (exit 6).
pub fn lock_pool(catalog: &Path, pool: &str, lang: Lang) -> Result<PoolLock, Failure> {
    PoolLock::take(catalog, pool).map_err(|e| failure(lang, &e))
}

/// Map a catalog error to an exit code and message.
pub fn catalog_failure(lang: Lang, e: &CatalogError) -> Failure {
    let code = match e {
        CatalogError::Busy => exit::LOCKED,
        CatalogError::NoSpace { .. } => exit::NO_SPACE,
        CatalogError::NewerSchema { .. } => exit::NEWER_FORMAT,
        CatalogError::Corrupt { .. } => exit::DAMAGE,
        CatalogError::Untrusted { .. } | CatalogError::Missing(_) => exit::UNTRUSTED,
        _ => exit::ERROR,
    };
    Failure::new(code, pick(lang, &e.text()))
}
