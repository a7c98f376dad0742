//! The running context every site command shares: the site configuration
//! resolved ([`SiteConf`]), the catalog, the evaluation instant, and the
//! pools and targets it names. Commands of every group (tape, disk, s3,
//! site, run) take a [`SiteCtx`]; nothing here depends on one group.

pub mod open;
pub mod restore;
pub mod when;

use std::path::{Path, PathBuf};

use hokan_catalog::{Catalog, CatalogError};
use hokan_offline::{MediumKind, Policy, PoolName, Text};
use time::{OffsetDateTime, UtcOffset};

use crate::exit::{self, Failure};
use crate::i18n::Lang;
use crate::Global;

pub use crate::i18n::pick;
pub use crate::job_error::catalog_failure;
pub use open::{open_repository, open_repository_in};

/// Mirror the primary repository's snapshots into the catalog
/// ([`hokan_jobs::catalog::sync`]), with the site's repository and sources.
pub fn sync_catalog(
    repo: &hokan_repo::Repository,
    cat: &mut Catalog,
    conf: &SiteConf,
    now: OffsetDateTime,
) -> Result<hokan_jobs::catalog::SyncStats, hokan_jobs::JobError> {
    let options = hokan_jobs::catalog::SyncOptions {
        repository: conf.repository_label.as_deref(),
        sources: &conf.sources,
    };
    hokan_jobs::catalog::sync(repo, cat, options, now)
}

/// What the commands need from the site configuration, resolved.
#[derive(Clone, Debug)]
pub struct SiteConf {
    /// The hospital's name.
    pub name: String,
    /// The configuration file, if one was found.
    pub config: Option<PathBuf>,
    /// The catalog database.
    pub catalog: Option<PathBuf>,
    /// The primary repository: a folder or a bucket.
    pub repository: Option<hokan_site::RepositoryLocation>,
    /// What the primary repository is called (its folder, or
    /// `s3://bucket/prefix at endpoint`): the catalog's label for it.
    pub repository_label: Option<String>,
    /// The passphrase file the configuration names.
    pub passphrase_file: Option<PathBuf>,
    /// The offline policy.
    pub policy: Policy,
    /// Configured source names.
    pub sources: Vec<String>,
    /// Pools and targets, with the kind of medium each gives.
    pub pools: Vec<(PoolName, MediumKind)>,
    /// Time zone for display.
    pub offset: Option<UtcOffset>,
    /// The loaded configuration itself, for `config check`.
    pub loaded: Option<hokan_site::Site>,
}

/// Load the site: `--config`, `HOKAN_CONFIG`, or `./hokan.toml` if present.
/// Without any, the defaults (and `--catalog` / `--repo` from the command
/// line) make an unnamed site.
pub fn load(g: &Global, lang: Lang, required: bool) -> Result<SiteConf, Failure> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let env = std::env::var_os("HOKAN_CONFIG");
    let found = match hokan_site::locate(g.config.as_deref(), env.as_deref(), &cwd) {
        Ok(p) => Some(p),
        Err(e) if required || g.config.is_some() || env.is_some() => {
            return Err(Failure::new(exit::CONFIG, pick(lang, &e.text())));
        }
        Err(_) => None,
    };
    let mut conf = SiteConf {
        name: String::new(),
        config: None,
        catalog: None,
        repository: None,
        repository_label: None,
        passphrase_file: None,
        policy: Policy::default(),
        sources: Vec::new(),
        pools: Vec::new(),
        offset: None,
        loaded: None,
    };
    if let Some(path) = found {
        let site = hokan_site::load(&path)
            .map_err(|e| Failure::new(exit::CONFIG, e.render(lang == Lang::Ja)))?;
        conf.policy = site
            .policy()
            .map_err(|e| Failure::new(exit::CONFIG, format!("{}: {e}", path.display())))?;
        conf.name = site.name().to_owned();
        conf.catalog = Some(site.catalog_path().to_owned());
        conf.repository = Some(site.repository_location().clone());
        conf.passphrase_file = site.passphrase_file().map(Path::to_owned);
        conf.sources = site.source_names().map(str::to_owned).collect();
        conf.pools = site.pool_kinds();
        conf.offset = site.timezone();
        conf.config = Some(path);
        conf.loaded = Some(site);
    }
    if let Some(c) = &g.catalog {
        conf.catalog = Some(c.clone());
    }
    if let Some(r) = &g.repo {
        conf.repository = Some(repo_arg(r, lang)?);
    }
    conf.repository_label = conf.repository.as_ref().map(|r| r.label());
    Ok(conf)
}

/// The repository `--repo` (or `HOKAN_REPO`) names: a folder, or
/// `s3://bucket/prefix` at `HOKAN_S3_ENDPOINT` in `HOKAN_S3_REGION` (else
/// `AWS_REGION`), its credentials from the usual AWS sources
/// (`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, …).
fn repo_arg(r: &Path, lang: Lang) -> Result<hokan_site::RepositoryLocation, Failure> {
    let Some(arg) = r.to_str() else {
        return Ok(hokan_site::RepositoryLocation::Folder(r.to_owned()));
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    hokan_site::RepositoryLocation::from_arg(
        arg,
        env("HOKAN_S3_ENDPOINT"),
        env("HOKAN_S3_REGION").or_else(|| env("AWS_REGION")),
    )
    .map_err(|e| Failure::new(exit::USAGE, format!("--repo: {}", pick(lang, &e))))
}

/// The running context of a site command.
pub struct SiteCtx<'a> {
    /// Global options.
    pub g: &'a Global,
    /// Output language.
    pub lang: Lang,
    /// The site.
    pub conf: SiteConf,
    /// The evaluation instant and recording time (`--now`, else the clock).
    pub now: OffsetDateTime,
}

impl<'a> SiteCtx<'a> {
    /// Load the site for a command.
    pub fn new(g: &'a Global, lang: Lang) -> Result<SiteCtx<'a>, Failure> {
        let conf = load(g, lang, false)?;
        let now = match &g.now {
            Some(s) => when::parse_instant(s).map_err(|e| {
                Failure::new(exit::USAGE, format!("--now {s:?}: {}", pick(lang, &e)))
            })?,
            None => OffsetDateTime::now_utc(),
        };
        let mut ctx = SiteCtx { g, lang, conf, now };
        // Sentences the evaluator writes show times in the offset of `now`.
        ctx.now = ctx.now.to_offset(ctx.offset());
        Ok(ctx)
    }

    /// The offset times are shown in: the site's, else the machine's.
    pub fn offset(&self) -> UtcOffset {
        self.conf
            .offset
            .or_else(|| UtcOffset::current_local_offset().ok())
            .unwrap_or(UtcOffset::UTC)
    }

    /// Read the vaults' inbox into the catalog before judging
    /// ([`hokan_jobs::vault::ingest`]): only receipts that verify with each
    /// vault's registered key are recorded. What was not believed comes
    /// back as problems for the evaluation. Nothing happens without a
    /// `[[vault]]` or a catalog; a catalog that does not verify is not
    /// written to (the judgement then says why).
    pub fn ingest_vaults(&self) -> Vec<hokan_offline::Problem> {
        let Some(site) = &self.conf.loaded else {
            return Vec::new();
        };
        let Ok(path) = self.catalog_path() else {
            return Vec::new();
        };
        if site.vaults().next().is_none() || !path.is_file() {
            return Vec::new();
        }
        let Ok(mut cat) = Catalog::open(&path) else {
            return Vec::new();
        };
        let inbox = hokan_jobs::vault::inbox(site, &path);
        match hokan_jobs::vault::ingest(&inbox, site, &mut cat, self.now) {
            Ok(i) => i.problems,
            Err(e) => {
                tracing::warn!("vault inbox {}: {e}", inbox.display());
                Vec::new()
            }
        }
    }

    /// Pick the sentence of a bilingual text.
    pub fn pick(&self, t: &Text) -> String {
        pick(self.lang, t)
    }

    /// Open the catalog (creating it if missing).
    pub fn catalog(&self) -> Result<Catalog, Failure> {
        let path = self.catalog_path()?;
        Catalog::open(&path).map_err(|e| self.catalog_failure(&e))
    }

    /// The catalog's path, from `--catalog` or the configuration.
    pub fn catalog_path(&self) -> Result<PathBuf, Failure> {
        // Only a configuration names a catalog, so without one there is no
        // site at all: say that (exit 10, like `config check`), not merely
        // that a catalog is missing.
        let path = self.conf.catalog.clone().ok_or_else(|| {
            Failure::new(
                exit::CONFIG,
                crate::i18n::t(
                    self.lang,
                    "no site configuration (hokan.toml) found: --config not given, HOKAN_CONFIG not set, and no hokan.toml in the current folder. Pass --config PATH, set HOKAN_CONFIG, or run hokan in the folder that holds hokan.toml; write one from docs/hokan.example.toml (or run `hokan demo` for a complete example), then check it with `hokan config check`",
                    "サイトの設定ファイル (hokan.toml) が見つかりません: --config の指定も HOKAN_CONFIG の設定もなく、カレントフォルダに hokan.toml もありません。--config PATH を指定するか、HOKAN_CONFIG を設定するか、hokan.toml のあるフォルダで実行してください。docs/hokan.example.toml を元に作成し (完全な例は `hokan demo` で作れます)、`hokan config check` で確認してください",
                ),
            )
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(Failure::new(
                    exit::ERROR,
                    format!(
                        "{}: {}",
                        crate::i18n::t(
                            self.lang,
                            "the catalog's folder does not exist",
                            "カタログのフォルダがありません"
                        ),
                        dir.display()
                    ),
                ));
            }
        }
        Ok(path)
    }

    /// Map a catalog error to an exit code and message.
    pub fn catalog_failure(&self, e: &CatalogError) -> Failure {
        catalog_failure(self.lang, e)
    }

    /// The kind of medium a pool gives, if the pool is configured.
    pub fn pool_kind(&self, pool: &PoolName) -> Option<MediumKind> {
        self.conf
            .pools
            .iter()
            .find(|(p, _)| p == pool)
            .map(|(_, k)| *k)
    }

    /// The time in the site's zone, `2026-11-23 09:00`.
    pub fn when(&self, t: OffsetDateTime) -> String {
        hokan_offline::text::when(t, self.offset())
    }
}

/// Open the site's primary repository (`[repository]`, or `--repo`).
pub fn primary_repository(ctx: &SiteCtx<'_>) -> Result<hokan_repo::Repository, Failure> {
    open::open_primary(ctx.g, ctx.lang, &ctx.conf)
}

/// A configured pool of one kind of target (`T`: its settings), resolved.
pub struct Pool<T> {
    /// Its name.
    pub name: hokan_offline::PoolName,
    /// Its settings.
    pub conf: T,
    /// How long its copies are kept before the medium may be reused.
    pub retention: time::Duration,
}

/// The pool `name` of the site configuration, whose settings `pick` finds
/// in its kind (`what` names that kind in messages: "tape pool").
pub fn pool_of<T: Clone>(
    ctx: &SiteCtx<'_>,
    name: &str,
    pick: impl Fn(&hokan_site::TargetKind) -> Option<&T>,
    what: &str,
) -> Result<Pool<T>, Failure> {
    let target = target_of(ctx, name, |k| pick(k).is_some(), what)?;
    Ok(Pool {
        name: target.name.clone(),
        conf: pick(&target.kind)
            .expect("target_of checked the kind")
            .clone(),
        retention: target.retention,
    })
}

/// The offline target `name` of the site configuration, which must be of
/// the kind `is` accepts (`what` names that kind in messages: "tape pool").
pub fn target_of<'c>(
    ctx: &'c SiteCtx<'_>,
    name: &str,
    is: impl Fn(&hokan_site::TargetKind) -> bool,
    what: &str,
) -> Result<&'c hokan_site::Target, Failure> {
    let l = ctx.lang;
    let Some(site) = &ctx.conf.loaded else {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "{what}: {}",
                crate::i18n::t(
                    l,
                    "this command needs a site configuration that defines it: pass --config hokan.toml (see docs/configuration.md)",
                    "このコマンドには、それを定義した設定ファイルが必要です: --config hokan.toml を指定してください（docs/configuration.md）",
                )
            ),
        ));
    };
    let names = site
        .targets()
        .iter()
        .filter(|t| is(&t.kind))
        .map(|t| t.name.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match site.target(name) {
        Some(target) if is(&target.kind) => Ok(target),
        Some(_) => Err(Failure::new(
            exit::USAGE,
            format!(
                "{name}: {} {what} ({names})",
                crate::i18n::t(l, "is not a", "は次の種類ではありません:")
            ),
        )),
        None => Err(Failure::new(
            exit::USAGE,
            format!(
                "{name}: {} {what} ({}: {names})",
                crate::i18n::t(l, "no such", "存在しません:"),
                crate::i18n::t(l, "configured", "設定済み"),
            ),
        )),
    }
}

pub fn print_json<T: serde::Serialize>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).expect("json"));
}
