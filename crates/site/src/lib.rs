//! hokan's site configuration: `hokan.toml`.
//!
//! This crate owns the file that describes one hospital site: its name and
//! time zone, the catalog, the primary repository, the sources to back up
//! (with their pre-backup commands), the offline policy, the offline
//! targets (tape pools, disk pools, S3 buckets, vaults) and who is told
//! what (`[[notify]]`, [`Notify`]). It finds the file
//! ([`locate`]), reads and checks it ([`load`], [`parse`]) into a [`Site`]
//! with every default applied and every path absolute, hands the offline
//! evaluator its [`hokan_offline::Policy`] ([`Site::policy`]), and says in
//! words what it understood ([`Site::describe`]).
//!
//! It leaves everything else to others: reading environment variables and
//! the current directory to the binary (which passes `--config`,
//! `HOKAN_CONFIG` and the working directory in), running pre-backup
//! commands and talking to drives, buckets and vaults to the crates that
//! do that, judging what is offline to `hokan-offline`, and remembering
//! media and copies to `hokan-catalog`. Nothing here does I/O except
//! [`locate`] (which asks whether a file exists) and [`load`] (which reads
//! it).
//!
//! ```
//! use std::path::Path;
//!
//! let text = r#"
//! [site]
//! name = "○○総合病院"
//!
//! [repository]
//! path = "repo"
//!
//! [[source]]
//! name = "emr"
//! paths = ["/srv/emr/data"]
//!
//! [policy]
//! min_offline_generations = 1
//! "#;
//! let err = hokan_site::parse(text, Path::new("/etc/hokan/hokan.toml")).unwrap_err();
//! assert_eq!(
//!     err.render(false).lines().next().unwrap(),
//!     "/etc/hokan/hokan.toml:13:27: policy.min_offline_generations: 1 offline generation(s) \
//!      is too few: the offline definitions assume several generations rotating, so at least 2. \
//!      Set it to 2 or more (the default is 3)."
//! );
//!
//! let site = hokan_site::parse(&text.replace("= 1", "= 4"), Path::new("/etc/hokan/hokan.toml"))
//!     .unwrap();
//! assert_eq!(site.repository_location().folder(), Some(Path::new("/etc/hokan/repo")));
//! assert_eq!(site.catalog_path(), Path::new("/etc/hokan/hokan-catalog.db"));
//! assert_eq!(site.policy().unwrap().min_offline_generations(&"emr".into()), 4);
//! ```
//!
//! # Every mistake, with its line and key
//! A hospital's IT person edits this file by hand, often once a year, so
//! each problem says where it is (`hokan.toml:12:5`), which key
//! (`source[1].pre_backup.timeout`), what is wrong and what to do, in
//! Japanese and English ([`ConfigProblem`]). TOML syntax errors are all
//! reported together; an unknown key or a value of the wrong type stops
//! the reading there (that is what the TOML reader can do), and names the
//! keys allowed; everything else, from a missing retention to a duplicate
//! name or too few generations, is collected in one pass.
//!
//! # Paths
//! `site.catalog`, `repository.path` and `repository.passphrase_file` may be
//! relative: they resolve against the folder holding the configuration
//! file, never the working directory, so a command gives the same answer
//! from anywhere. Source paths and mount points must be absolute: a
//! relative path to back up is a mistake waiting to happen.
#![deny(missing_docs)]

pub mod calendar;
mod check;
mod describe;
mod model;
mod notify;
mod problem;
mod raw;

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use hokan_offline::Text;
use toml::de::DeTable;

pub use calendar::{Calendar, CalendarError};
pub use check::{
    DEFAULT_CATALOG, DEFAULT_DRILL_CHECK_TIMEOUT, DEFAULT_DRILL_EVERY, DEFAULT_PRE_BACKUP_TIMEOUT,
};
pub use model::{
    state_dir, AfterJob, Allocation, Command, DiskAfterJob, DiskCommands, DiskMode, DiskPool,
    DrillCheck, OnFailure, PolicySettings, PreBackup, Repository, RepositoryLocation, Roles,
    Rotation, S3Bucket, S3Connection, S3LockMode, S3Timeouts, Serve, Site, Source, TapeMode,
    TapePool, Target, TargetKind, Vault, DEFAULT_SERVE_LISTEN, DEFAULT_VAULT_FRESH_FOR,
};
pub use notify::{
    is_loopback, Email, Notify, NotifyCommand, NotifyEvent, NotifyKind, NotifyLang, SmtpTls,
    Syslog, Webhook, DEFAULT_NOTIFY_TIMEOUT, DEFAULT_SMTP_PORT, DEFAULT_SYSLOG_SOCKET,
    MAX_NOTIFY_TIMEOUT,
};
pub use problem::{ConfigProblem, ProblemKind};

/// The file looked for in the working directory.
pub const CONFIG_FILE_NAME: &str = "hokan.toml";

/// The environment variable the binary reads and passes to [`locate`]
/// (named here for messages; this crate reads no environment).
pub const CONFIG_ENV: &str = "HOKAN_CONFIG";

/// Errors from finding, reading and checking `hokan.toml`.
///
/// `Display` is English, for logs; people get [`SiteError::render`] in
/// their language.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// No configuration file in any of the places looked at.
    NotFound {
        /// The places, in the order they were looked at.
        tried: Vec<Tried>,
    },
    /// The configuration file does not exist.
    Missing {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The configuration file exists but cannot be read (permissions, a
    /// folder in its place …).
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The file is not UTF-8 (saved as Shift_JIS, say).
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first byte that is not UTF-8.
        line: usize,
        /// 1-based column (in characters) of that byte.
        column: usize,
        /// The decoding error.
        #[source]
        source: std::str::Utf8Error,
    },
    /// The file has mistakes: all of them, sorted by line.
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong, where.
        problems: Vec<ConfigProblem>,
    },
}

/// One place [`locate`] looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tried {
    /// Which place.
    pub place: Place,
    /// The path there; `None` when the option or variable was not given.
    pub path: Option<PathBuf>,
}

/// The places a configuration file is looked for, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The `--config` option.
    Flag,
    /// The `HOKAN_CONFIG` environment variable.
    Env,
    /// `hokan.toml` in the working directory.
    WorkingDir,
}

impl SiteError {
    /// The error in both languages, with what to do.
    pub fn text(&self) -> Text {
        match self {
            SiteError::NotFound { tried } => {
                let (mut en, mut ja) = (Vec::new(), Vec::new());
                for t in tried {
                    let path = t.path.as_ref().map(|p| p.display().to_string());
                    let (e, j) = match (t.place, path) {
                        (Place::Flag, None) => (
                            "--config not given".to_owned(),
                            "--config 指定なし".to_owned(),
                        ),
                        (Place::Env, None) => (
                            format!("{CONFIG_ENV} not set"),
                            format!("{CONFIG_ENV} 未設定"),
                        ),
                        (Place::Flag, Some(p)) => (
                            format!("--config {p}: no such file"),
                            format!("--config {p}: ファイルがありません"),
                        ),
                        (Place::Env, Some(p)) => (
                            format!("{CONFIG_ENV}={p}: no such file"),
                            format!("{CONFIG_ENV}={p}: ファイルがありません"),
                        ),
                        (Place::WorkingDir, p) => {
                            let p = p.unwrap_or_else(|| CONFIG_FILE_NAME.to_owned());
                            (
                                format!("{p}: no such file"),
                                format!("{p}: ファイルがありません"),
                            )
                        }
                    };
                    en.push(e);
                    ja.push(j);
                }
                Text::new(
                    format!(
                        "No configuration file found (looked at: {}). Pass --config PATH, set {CONFIG_ENV}, or run hokan in the folder that holds {CONFIG_FILE_NAME}.",
                        en.join("; ")
                    ),
                    format!(
                        "設定ファイルが見つかりません（確認した場所: {}）。--config PATH を指定するか、{CONFIG_ENV} を設定するか、{CONFIG_FILE_NAME} のあるフォルダで実行してください。",
                        ja.join("、")
                    ),
                )
            }
            SiteError::Missing { path, .. } => {
                let p = path.display();
                Text::new(
                    format!("Configuration file {p} does not exist. Check the path given with --config or {CONFIG_ENV}; docs/hokan.example.toml is a starting point for a new one."),
                    format!("設定ファイル {p} がありません。--config または {CONFIG_ENV} のパスを確認してください。新しく作る場合は docs/hokan.example.toml を元にしてください。"),
                )
            }
            SiteError::Unreadable { path, source } => {
                let p = path.display();
                Text::new(
                    format!("Cannot read configuration file {p}: {source}. Check that it is a file and that this user may read it."),
                    format!("設定ファイル {p} を読めません: {source}。ファイルであること、このユーザに読み取り権限があることを確認してください。"),
                )
            }
            SiteError::NotUtf8 {
                path, line, column, ..
            } => {
                let p = path.display();
                Text::new(
                    format!("Configuration file {p} is not UTF-8 text (first bad byte at line {line}, column {column}). Save it as UTF-8; Shift_JIS is not supported."),
                    format!("設定ファイル {p} は UTF-8 ではありません（{line} 行 {column} 列目）。UTF-8 で保存し直してください（Shift_JIS は使えません）。"),
                )
            }
            SiteError::Invalid { file, problems } => {
                let lines = |ja| {
                    problems
                        .iter()
                        .map(|p| p.render(file, ja))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                Text::new(lines(false), lines(true))
            }
        }
    }

    /// The error in one language: Japanese if `ja`. A file with mistakes
    /// gives one line per problem, `hokan.toml:12:5: key: what. What to do.`
    pub fn render(&self, ja: bool) -> String {
        let t = self.text();
        if ja {
            t.ja
        } else {
            t.en
        }
    }

    /// The problems, for an invalid file; empty for the other errors.
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            SiteError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

impl fmt::Display for SiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().en)
    }
}

/// Find the configuration file: the first of `flag` (`--config`), `env`
/// (`HOKAN_CONFIG`; empty counts as unset) and `cwd/hokan.toml`. A relative
/// `flag` or `env` is taken against `cwd`, so the path returned is absolute
/// when `cwd` is. The first place given decides: a `--config` that names a
/// missing file is an error, not a reason to look further, because
/// silently reading another site's file is worse than stopping.
pub fn locate(flag: Option<&Path>, env: Option<&OsStr>, cwd: &Path) -> Result<PathBuf, SiteError> {
    let env = env.filter(|e| !e.is_empty()).map(Path::new);
    let mut tried = Vec::new();
    for (place, given) in [(Place::Flag, flag), (Place::Env, env)] {
        match given {
            Some(p) => {
                let path = cwd.join(p);
                if absent(&path) {
                    tried.push(Tried {
                        place,
                        path: Some(path),
                    });
                    return Err(SiteError::NotFound { tried });
                }
                return Ok(path);
            }
            None => tried.push(Tried { place, path: None }),
        }
    }
    let path = cwd.join(CONFIG_FILE_NAME);
    if absent(&path) {
        tried.push(Tried {
            place: Place::WorkingDir,
            path: Some(path),
        });
        return Err(SiteError::NotFound { tried });
    }
    Ok(path)
}

/// Whether `path` certainly does not exist. Other failures (permissions)
/// are left for [`load`] to report precisely.
fn absent(path: &Path) -> bool {
    matches!(std::fs::metadata(path), Err(e) if e.kind() == io::ErrorKind::NotFound)
}

/// Read and check the configuration file at `path`. Relative paths in it
/// resolve against `path`'s folder; pass an absolute `path` (as [`locate`]
/// returns) to get absolute paths back.
pub fn load(path: &Path) -> Result<Site, SiteError> {
    let bytes = std::fs::read(path).map_err(|source| {
        let path = path.to_owned();
        if source.kind() == io::ErrorKind::NotFound {
            SiteError::Missing { path, source }
        } else {
            SiteError::Unreadable { path, source }
        }
    })?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(source) => {
            let good = &bytes[..source.valid_up_to()];
            let good = std::str::from_utf8(good).unwrap_or_default();
            let (line, column) = problem::position(good, good.len());
            return Err(SiteError::NotUtf8 {
                path: path.to_owned(),
                line,
                column,
                source,
            });
        }
    };
    parse(text, path)
}

/// Check the text of a configuration file. `origin` is the file's path:
/// relative paths in the file resolve against its folder, and problems name
/// it.
pub fn parse(text: &str, origin: &Path) -> Result<Site, SiteError> {
    let invalid = |problems| SiteError::Invalid {
        file: origin.to_owned(),
        problems,
    };
    // Windows editors may start the file with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (tree, errors) = DeTable::parse_recoverable(text);
    let index = problem::KeyIndex::new(tree.get_ref(), text);
    if !errors.is_empty() {
        return Err(invalid(problem::syntax_all(&errors, text, &index)));
    }
    let raw: raw::RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return Err(invalid(vec![problem::serde(&e, text, &index)])),
    };
    check::site(raw, text, origin).map_err(invalid)
}
