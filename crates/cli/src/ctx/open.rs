//! Opening a repository with the site's secrets: `--paper-key`, else the
//! passphrase from `--password-file`, `HOKAN_PASSPHRASE` (or its older
//! name `HOKAN_PASSWORD`), the site's passphrase file, or a prompt. The
//! opening itself is `hokan_jobs::repository`; reading the secrets is the
//! binary's (the only place that reads env vars and files of secrets).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hokan_repo::{IndexScope, Repository, Store};
use hokan_site::RepositoryLocation;
use hokan_store::local::LocalStore;

use super::SiteConf;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::job_error::failure as job_failure;
use crate::Global;

/// Read the passphrase: --password-file, HOKAN_PASSPHRASE (or its older
/// name HOKAN_PASSWORD), or a terminal prompt.
pub fn passphrase(g: &Global, lang: Lang, confirm: bool) -> Result<Vec<u8>, Failure> {
    passphrase_from(g, None, lang, confirm)
}

/// The passphrase from the environment: `HOKAN_PASSPHRASE` (the documented
/// name), else `HOKAN_PASSWORD` (the older name, still accepted).
fn passphrase_env() -> Option<std::ffi::OsString> {
    std::env::var_os("HOKAN_PASSPHRASE").or_else(|| std::env::var_os("HOKAN_PASSWORD"))
}

/// Read the passphrase: --password-file, HOKAN_PASSPHRASE / HOKAN_PASSWORD,
/// the site's passphrase file, or a terminal prompt.
pub(crate) fn passphrase_from(
    g: &Global,
    site_file: Option<&Path>,
    lang: Lang,
    confirm: bool,
) -> Result<Vec<u8>, Failure> {
    let file = g
        .password_file
        .as_deref()
        .or(if passphrase_env().is_some() {
            None
        } else {
            site_file
        });
    if let Some(f) = file {
        warn_if_others_can_read(f, lang, "passphrase file", "パスフレーズファイル");
        let s = std::fs::read_to_string(f).map_err(|e| {
            Failure::new(
                exit::PASSWORD,
                format!(
                    "{} {}: {e}",
                    t(
                        lang,
                        "cannot read password file",
                        "パスワードファイルを読めません"
                    ),
                    f.display()
                ),
            )
        })?;
        return Ok(s.lines().next().unwrap_or("").as_bytes().to_vec());
    }
    if let Some(p) = passphrase_env() {
        use std::os::unix::ffi::OsStringExt;
        return Ok(p.into_vec());
    }
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password(t(
            lang,
            "Repository passphrase: ",
            "リポジトリのパスフレーズ: ",
        ))
        .map_err(|e| Failure::new(exit::PASSWORD, e.to_string()))?;
        if confirm {
            let again = rpassword::prompt_password(t(lang, "Again: ", "もう一度: "))
                .map_err(|e| Failure::new(exit::PASSWORD, e.to_string()))?;
            if again != p {
                return Err(Failure::new(
                    exit::PASSWORD,
                    t(lang, "the passphrases differ", "パスフレーズが一致しません"),
                ));
            }
        }
        return Ok(p.into_bytes());
    }
    Err(Failure::new(
        exit::PASSWORD,
        t(
            lang,
            "no passphrase: set HOKAN_PASSPHRASE (or its older name HOKAN_PASSWORD), pass --password-file, or run on a terminal",
            "パスフレーズがありません: HOKAN_PASSPHRASE (旧名 HOKAN_PASSWORD) を設定するか --password-file を指定するか、端末から実行してください",
        ),
    ))
}

/// Warn, once per file and run, when a file holding a secret (a passphrase,
/// a paper key) can be read by other users than its owner: anyone who can
/// read it opens every backup. A warning, not a refusal: the backup must
/// still run tonight.
pub fn warn_if_others_can_read(path: &Path, lang: Lang, what_en: &str, what_ja: &str) {
    use std::os::unix::fs::PermissionsExt;
    static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let Ok(meta) = std::fs::metadata(path) else {
        return; // Reading it reports why.
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o044 == 0 {
        return;
    }
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if warned.iter().any(|p| p == path) {
        return;
    }
    warned.push(path.to_owned());
    let p = path.display();
    match lang {
        Lang::En => eprintln!(
            "hokan: warning: {what_en} {p} can be read by other users (mode {mode:04o}); run `chmod 600 {p}`"
        ),
        Lang::Ja => eprintln!(
            "hokan: 警告: {what_ja} {p} は他のユーザーも読めます（モード {mode:04o}）。`chmod 600 {p}` を実行してください"
        ),
    }
}

/// The repository of the site (`--repo`, `HOKAN_REPO` or `[repository]`),
/// or the usage error naming the three.
pub fn repo_location(lang: Lang, conf: &SiteConf) -> Result<RepositoryLocation, Failure> {
    conf.repository.clone().ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            t(
                lang,
                "no repository: pass --repo PATH (or s3://BUCKET/PREFIX), set HOKAN_REPO, or configure [repository] path (or s3) in hokan.toml",
                "リポジトリの指定がありません: --repo PATH（または s3://バケット/プレフィックス）、HOKAN_REPO、または hokan.toml の [repository] path（または s3）を指定してください",
            ),
        )
    })
}

/// The store of the site's primary repository: its folder, or its bucket
/// (without object lock).
pub fn primary_store(lang: Lang, conf: &SiteConf) -> Result<Arc<dyn Store>, Failure> {
    hokan_jobs::repository::primary_store(&repo_location(lang, conf)?, crate::s3::attempts())
        .map_err(|e| job_failure(lang, &e))
}

/// Open the site's primary repository (`--repo`, `HOKAN_REPO` or
/// `[repository]`), in a folder or a bucket.
pub fn open_primary(g: &Global, lang: Lang, conf: &SiteConf) -> Result<Repository, Failure> {
    open_repository_in(g, lang, primary_store(lang, conf)?, conf)
}

/// [`open_primary`] for a process that only backs up: the index keeps data
/// blobs by id alone ([`IndexScope::Backup`]), a quarter less memory.
pub fn open_primary_for_backup(
    g: &Global,
    lang: Lang,
    conf: &SiteConf,
) -> Result<Repository, Failure> {
    open_scoped(
        g,
        lang,
        primary_store(lang, conf)?,
        conf,
        IndexScope::Backup,
    )
}

/// Open the repository at `path`: a paper key if given, else the passphrase.
pub fn open_repository(
    g: &Global,
    lang: Lang,
    path: &Path,
    conf: &SiteConf,
) -> Result<Repository, Failure> {
    open_repository_in(g, lang, Arc::new(LocalStore::new(path)), conf)
}

/// Open the repository in `store` (a folder, a bucket): a paper key if
/// given, else the passphrase.
pub fn open_repository_in(
    g: &Global,
    lang: Lang,
    store: Arc<dyn Store>,
    conf: &SiteConf,
) -> Result<Repository, Failure> {
    open_scoped(g, lang, store, conf, IndexScope::Full)
}

fn open_scoped(
    g: &Global,
    lang: Lang,
    store: Arc<dyn Store>,
    conf: &SiteConf,
    scope: IndexScope,
) -> Result<Repository, Failure> {
    use hokan_jobs::repository::{self as repository, Key};
    // Config first: a newer format or a wrong path is reported before any prompt.
    repository::check(&*store).map_err(|e| job_failure(lang, &e))?;
    let key = match &g.paper_key {
        Some(p) => {
            warn_if_others_can_read(p, lang, "paper key file", "ペーパーキーのファイル");
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::new(exit::PASSWORD, format!("{}: {e}", p.display())))?;
            Key::PaperKey(text)
        }
        None => Key::Passphrase(passphrase_from(
            g,
            conf.passphrase_file.as_deref(),
            lang,
            false,
        )?),
    };
    repository::unlock_scoped(store, key, scope).map_err(|e| job_failure(lang, &e))
}
