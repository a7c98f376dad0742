//! The commands: parse → call the engine → print (human or `--json`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hokan_format::{Id, NodeKind};
use hokan_repo::prune::{KeepPolicy, PruneOptions};
use hokan_repo::{
    BackupOptions, InitOptions, KdfStrength, ParentChoice, RepoError, Repository, RestoreOptions,
    Store,
};
use hokan_store::local::LocalStore;
use serde_json::json;

use crate::exit::{self, from_repo, Failure};
use crate::i18n::{pad, pad_left, t, Bytes, Lang};
use crate::job_error::failure as job_failure;
use crate::progress::Bar;
use crate::site::{self, args::SiteCommand, SiteConf};
use crate::{Cli, Command, Global, KeyAction, RepairWhat};

type Out = Result<i32, Failure>;

/// Run a parsed command line; returns the exit code.
pub fn run(cli: Cli, lang: Lang) -> Out {
    let g = cli.global;
    // Read the display offset now, while the process has one thread.
    let offset = display_offset(site::load(&g, lang, false).ok().as_ref());
    let ctx = Ctx {
        g: &g,
        lang,
        offset,
    };
    match cli.command {
        Command::Init {
            insecure_fast_kdf,
            pack_size,
        } => ctx.init(insecure_fast_kdf, pack_size),
        Command::Backup {
            paths,
            source,
            tags,
            force,
            time,
        } => ctx.backup(paths, source, tags, force, time),
        Command::Daemon => crate::daemon::run(&g, lang),
        Command::Run { dry_run } => {
            let ctx = crate::site::SiteCtx::new(&g, lang)?;
            crate::night::run(&ctx, dry_run)
        }
        Command::Snapshots { source } => ctx.snapshots(source),
        Command::Ls { snapshot, path } => ctx.ls(&snapshot, path.as_deref().unwrap_or("")),
        Command::Diff { a, b } => ctx.diff(&a, &b),
        Command::Restore {
            snapshot,
            target,
            include,
            overwrite,
            source,
            latest_undamaged,
        } => ctx.restore(
            &snapshot,
            target,
            include,
            overwrite,
            source,
            latest_undamaged,
        ),
        Command::Verify { read_data } => ctx.verify(read_data),
        Command::Forget {
            keep_last,
            keep_daily,
            keep_weekly,
            keep_monthly,
            keep_yearly,
            source,
            dry_run,
            prune,
        } => {
            let policy = KeepPolicy {
                last: keep_last,
                daily: keep_daily,
                weekly: keep_weekly,
                monthly: keep_monthly,
                yearly: keep_yearly,
            };
            ctx.forget(policy, source, dry_run, prune)
        }
        Command::Prune {
            dry_run,
            repack_threshold,
        } => ctx.prune(dry_run, repack_threshold),
        Command::Key { action } => ctx.key(action),
        Command::Repair {
            what: RepairWhat::Index,
        } => ctx.repair_index(),
        Command::Repair {
            what:
                RepairWhat::Snapshots {
                    dry_run,
                    read_data,
                    forget,
                },
        } => ctx.repair_snapshots(dry_run, read_data, forget),
        Command::Unlock { all } => ctx.unlock(all),
        Command::Demo { dir, nights } => crate::demo::run(dir, nights, &g, lang),
        Command::Config { action } => site::run(SiteCommand::Config(action), &g, lang),
        Command::Catalog { action } => site::run(SiteCommand::Catalog(action), &g, lang),
        Command::Media { action } => site::run(SiteCommand::Media(action), &g, lang),
        Command::Attest { action } => site::run(SiteCommand::Attest(action), &g, lang),
        Command::Status(a) => site::run(SiteCommand::Status(a), &g, lang),
        Command::Tape { action } => crate::tape::run(action, &g, lang),
        Command::Disk { action } => crate::disk::run(action, &g, lang),
        Command::Copy { to, snapshots } => {
            let ctx = crate::site::SiteCtx::new(&g, lang)?;
            crate::s3::copy(&ctx, &to, &snapshots)
        }
        Command::S3 { action } => crate::s3::run(action, &g, lang),
        Command::Report(r) => site::run(SiteCommand::Report(r), &g, lang),
        Command::Notify { action } => crate::notify::run(action, &g, lang),
    }
}

struct Ctx<'a> {
    g: &'a Global,
    lang: Lang,
    /// The offset times are shown in ([`display_offset`]).
    offset: time::UtcOffset,
}

/// `2026-11-23T02:00:00.123456789Z` → `2026-11-23 11:00:00 +09:00` for people:
/// the instant in `offset` (the site's time zone, else the machine's), to the
/// second, with the offset written out. JSON keeps the RFC 3339 UTC string.
pub fn show_time(t: &str, offset: time::UtcOffset) -> String {
    use time::format_description::well_known::Rfc3339;
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
    );
    time::OffsetDateTime::parse(t, &Rfc3339)
        .ok()
        .and_then(|x| x.checked_to_offset(offset))
        .and_then(|x| x.format(&format).ok())
        .unwrap_or_else(|| t.to_string())
}

/// The offset times are shown in: the site's `timezone`, else the
/// machine's, else UTC. Call before threads start (the machine's offset
/// cannot be read safely after).
fn display_offset(conf: Option<&SiteConf>) -> time::UtcOffset {
    conf.and_then(|c| c.offset)
        .or_else(|| time::UtcOffset::current_local_offset().ok())
        .unwrap_or(time::UtcOffset::UTC)
}

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("json"));
}

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
fn passphrase_from(
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

fn repo_path(lang: Lang, conf: &SiteConf) -> Result<PathBuf, Failure> {
    conf.repository.clone().ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            t(
                lang,
                "no repository: pass --repo PATH, set HOKAN_REPO, or configure [repository] path in hokan.toml",
                "リポジトリの指定がありません: --repo PATH、HOKAN_REPO、または hokan.toml の [repository] path を指定してください",
            ),
        )
    })
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
    repository::unlock(store, key).map_err(|e| job_failure(lang, &e))
}

impl Ctx<'_> {
    fn fail(&self, e: RepoError) -> Failure {
        from_repo(self.lang, &e)
    }

    /// Remove the temp files killed runs left in the repository: those of
    /// processes of this host that are gone at once, any others once an
    /// hour old (a concurrent writer's are younger). Best effort: a backup
    /// does not fail because debris could not be removed.
    fn clean_temp(&self) -> Result<(), Failure> {
        match LocalStore::new(self.repo_path()?).clean_temp(std::time::Duration::from_secs(3600)) {
            Ok(st) if st.removed > 0 => tracing::info!(
                removed = st.removed,
                bytes = st.bytes,
                "removed temp files left by killed runs"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("could not remove leftover temp files: {e}"),
        }
        Ok(())
    }

    /// The site configuration, if any (its repository and passphrase file
    /// are the defaults for `--repo` and `--password-file`).
    fn site(&self) -> Result<SiteConf, Failure> {
        site::load(self.g, self.lang, false)
    }

    fn repo_path(&self) -> Result<PathBuf, Failure> {
        repo_path(self.lang, &self.site()?)
    }

    /// The offset times are shown in (see [`display_offset`]).
    fn offset(&self) -> time::UtcOffset {
        self.offset
    }

    fn store(&self) -> Result<Arc<dyn Store>, Failure> {
        Ok(Arc::new(LocalStore::new(self.repo_path()?)))
    }

    fn open(&self) -> Result<Repository, Failure> {
        let conf = self.site()?;
        open_repository(self.g, self.lang, &repo_path(self.lang, &conf)?, &conf)
    }

    /// With a catalog (configured or `--catalog`), mirror the repository's
    /// snapshots into it and record the job. The repository is the truth:
    /// a catalog that cannot be written is a warning, and the next
    /// `hokan catalog sync` catches up.
    fn record_in_catalog(
        &self,
        repo: &Repository,
        job: &str,
        target: &str,
        started: time::OffsetDateTime,
        outcome: &str,
        detail: impl FnOnce(()) -> serde_json::Value,
    ) {
        let Ok(conf) = self.site() else { return };
        let Some(path) = conf.catalog.clone() else {
            return;
        };
        let now = time::OffsetDateTime::now_utc();
        let result = hokan_catalog::Catalog::open(&path)
            .map_err(|e| site::pick(self.lang, &e.text()))
            .and_then(|mut cat| {
                site::sync_catalog(repo, &mut cat, &conf, now).map_err(|e| match e {
                    hokan_jobs::JobError::Repo(e) => e.to_string(),
                    hokan_jobs::JobError::Catalog(e) => site::pick(self.lang, &e.text()),
                    e => e.to_string(),
                })?;
                cat.record(
                    now,
                    job,
                    hokan_catalog::Event::JobFinished {
                        job: job.to_owned(),
                        target: target.to_owned(),
                        started_at: started,
                        finished_at: now,
                        outcome: outcome.to_owned(),
                        detail: detail(()),
                    },
                )
                .map_err(|e| site::pick(self.lang, &e.text()))
            });
        if let Err(e) = result {
            eprintln!(
                "{} {}: {e}. {}",
                t(self.lang, "warning: catalog", "警告: カタログ"),
                path.display(),
                t(
                    self.lang,
                    "The backup itself is complete; run `hokan catalog sync` later",
                    "バックアップ自体は完了しています。後で `hokan catalog sync` を実行してください"
                )
            );
        }
    }

    /// `init` wants an empty or missing folder: a repository mixed into a
    /// folder of other files is easily damaged by whoever tidies it, and a
    /// mistyped path must not scatter hokan's folders among someone's
    /// documents. A folder holding a repository gets the engine's own
    /// refusal; `lost+found` alone (a freshly made filesystem) counts as
    /// empty.
    fn refuse_non_empty_folder(&self) -> Result<(), Failure> {
        let path = self.repo_path()?;
        if path.join("config").exists() {
            return Ok(());
        }
        let Ok(entries) = std::fs::read_dir(&path) else {
            return Ok(()); // Missing (created below), or the engine reports why not.
        };
        let other = entries
            .filter_map(|e| e.ok())
            .find(|e| e.file_name() != "lost+found");
        match other {
            None => Ok(()),
            Some(e) => Err(Failure::new(
                exit::USAGE,
                match self.lang {
                    Lang::En => format!(
                        "folder {} is not empty (it holds {:?}, …): hokan init wants an empty or missing folder. Choose a new one, e.g. {}; nothing was changed",
                        path.display(),
                        e.file_name(),
                        path.join("hokan").display()
                    ),
                    Lang::Ja => format!(
                        "フォルダ {} は空ではありません（{:?} などがあります）。hokan init には空のフォルダか存在しないフォルダを指定してください（例: {}）。何も変更していません",
                        path.display(),
                        e.file_name(),
                        path.join("hokan").display()
                    ),
                },
            )),
        }
    }

    fn init(&self, fast: bool, pack_size: Option<u32>) -> Out {
        self.refuse_non_empty_folder()?;
        let store = self.store()?;
        let pw = passphrase_from(
            self.g,
            self.site()?.passphrase_file.as_deref(),
            self.lang,
            true,
        )?;
        if pw.is_empty() {
            return Err(Failure::new(
                exit::PASSWORD,
                t(
                    self.lang,
                    "an empty passphrase is not allowed",
                    "空のパスフレーズは使えません",
                ),
            ));
        }
        let mut opts = InitOptions {
            kdf: if fast {
                KdfStrength::TestOnly
            } else {
                KdfStrength::Standard
            },
            ..Default::default()
        };
        if let Some(p) = pack_size {
            opts.pack_size = p.clamp(64 * 1024, 512 << 20);
        }
        let repo = Repository::init(store.clone(), &pw, &opts).map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(
                &json!({"repository": store.describe(), "id": repo.config().id, "version": repo.config().version}),
            );
        } else {
            println!(
                "{} {}",
                t(self.lang, "created repository", "リポジトリを作成しました:"),
                store.describe()
            );
            println!(
                "{}",
                t(
                    self.lang,
                    "Keep the passphrase safe, and print a paper key now: hokan key export --paper",
                    "パスフレーズを安全に保管し、今ペーパーキーを印刷してください: hokan key export --paper"
                )
            );
        }
        Ok(exit::OK)
    }

    fn backup(
        &self,
        paths: Vec<PathBuf>,
        source: Option<String>,
        tags: Vec<String>,
        force: bool,
        time: Option<String>,
    ) -> Out {
        if let Some(s) = &time {
            // The snapshot time is recorded as given and later compared and
            // added to; it must be an RFC 3339 instant in hokan's range.
            let parsed =
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .ok()
                    .filter(|t| hokan_offline::limits::instant_in_range(*t));
            if parsed.is_none() {
                return Err(Failure::new(
                    exit::USAGE,
                    format!(
                        "--time {s:?}: {}",
                        t(
                            self.lang,
                            "write an RFC 3339 time between 2000-01-01 and 2200-01-01, e.g. 2026-11-23T02:00:00+09:00",
                            "2000-01-01 から 2200-01-01 までの RFC 3339 形式の日時を指定してください（例: 2026-11-23T02:00:00+09:00）"
                        )
                    ),
                ));
            }
        }
        if !paths.is_empty() {
            let repo = self.open()?;
            let source = source.unwrap_or_else(|| "default".to_owned());
            let (code, doc) = self.backup_paths(&repo, paths, source, tags, force, time)?;
            if self.g.json {
                print_json(&doc);
            }
            return Ok(code);
        }
        self.backup_sources(source, tags, force, time)
    }

    /// `hokan backup` without paths: every source of the site configuration
    /// (or the one `--source` names), each after its pre-backup command.
    fn backup_sources(
        &self,
        only: Option<String>,
        tags: Vec<String>,
        force: bool,
        time: Option<String>,
    ) -> Out {
        let l = self.lang;
        let conf = site::load(self.g, l, false)?;
        let Some(loaded) = conf.loaded.clone() else {
            return Err(Failure::new(
                exit::USAGE,
                t(
                    l,
                    "nothing to back up: give the paths (hokan backup --source NAME PATH...), or use a hokan.toml with [[source]] tables (--config FILE, HOKAN_CONFIG, or ./hokan.toml)",
                    "バックアップ対象がありません: パスを指定する (hokan backup --source 名前 パス...) か、[[source]] を書いた hokan.toml を使ってください (--config、HOKAN_CONFIG、またはカレントフォルダの hokan.toml)",
                ),
            ));
        };
        let sources: Vec<&hokan_site::Source> = loaded
            .sources()
            .iter()
            .filter(|s| only.as_ref().is_none_or(|o| s.name.as_str() == o))
            .collect();
        if sources.is_empty() {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "{} {:?} {} {}: {}",
                    t(l, "no source", "バックアップ対象"),
                    only.unwrap_or_default(),
                    t(l, "in", "は"),
                    conf.config.as_deref().unwrap_or(Path::new("")).display(),
                    t(
                        l,
                        &format!("configured sources are {}", conf.sources.join(", ")),
                        &format!("にありません。設定済み: {}", conf.sources.join(", "))
                    )
                ),
            ));
        }
        let repo = open_repository(self.g, l, &repo_path(l, &conf)?, &conf)?;
        let mut code = exit::OK;
        let mut docs = Vec::new();
        for src in sources {
            let name = src.name.as_str().to_owned();
            let mut tags = tags.clone();
            let mut hook_doc = serde_json::Value::Null;
            if let Some(pre) = &src.pre_backup {
                if !self.g.json && !self.g.quiet {
                    println!(
                        "{} {name}: {}",
                        t(l, "pre-backup of", "事前処理"),
                        crate::hooks::show(&pre.command)
                    );
                }
                let timeout = pre.timeout.try_into().unwrap_or(std::time::Duration::MAX);
                let started = time::OffsetDateTime::now_utc();
                let o = crate::hooks::run(&pre.command, timeout);
                hook_doc = json!(o);
                if !o.ok {
                    let abort = pre.on_failure == hokan_site::OnFailure::Abort;
                    eprintln!("{}", hook_failure(l, &name, &o, pre.timeout, abort));
                    self.record_in_catalog(&repo, "pre-backup", &name, started, "failed", |_| {
                        json!(o)
                    });
                    if abort {
                        code = code.max(exit::PRE_BACKUP);
                        docs.push(json!({"source": name, "pre_backup": hook_doc,
                            "backup": null, "skipped": true}));
                        continue;
                    }
                    tags.push("pre-backup-failed".to_owned());
                }
            }
            match self.backup_paths(
                &repo,
                src.paths.clone(),
                name.clone(),
                tags,
                force,
                time.clone(),
            ) {
                Ok((c, doc)) => {
                    code = code.max(c);
                    docs.push(
                        json!({"source": name, "pre_backup": hook_doc, "backup": doc,
                        "skipped": false}),
                    );
                }
                Err(f) => {
                    eprintln!("{name}: {}", f.message);
                    code = code.max(f.code);
                    docs.push(
                        json!({"source": name, "pre_backup": hook_doc, "backup": null,
                        "skipped": false, "error": f.message, "exit_code": f.code}),
                    );
                }
            }
        }
        if self.g.json {
            print_json(&json!({"sources": docs, "exit_code": code}));
        }
        Ok(code)
    }

    /// Back up `paths` as `source`; prints the human summary, returns the
    /// exit code and the `--json` document.
    fn backup_paths(
        &self,
        repo: &Repository,
        paths: Vec<PathBuf>,
        source: String,
        tags: Vec<String>,
        force: bool,
        time: Option<String>,
    ) -> Result<(i32, serde_json::Value), Failure> {
        self.clean_temp()?;
        let bar = Bar::new(self.g.quiet, self.g.json, self.lang, "backup");
        let opts = BackupOptions {
            source,
            tags,
            paths,
            parent: if force {
                ParentChoice::None
            } else {
                ParentChoice::Auto
            },
            time,
        };
        let started = time::OffsetDateTime::now_utc();
        let r = repo.backup(&opts, &bar);
        bar.finish();
        let r = r.map_err(|e| self.fail(e))?;
        let outcome = if r.snapshot.partial { "partial" } else { "ok" };
        self.record_in_catalog(repo, "backup", &r.snapshot.source, started, outcome, |_| {
            json!({"snapshot": r.id, "summary": r.snapshot.summary, "partial": r.snapshot.partial})
        });
        let s = &r.snapshot;
        let m = &s.summary;
        let doc = json!({"snapshot": r.id, "snapshot_short": r.id.short(), "time": s.time,
            "source": s.source, "partial": s.partial, "errors": s.errors, "summary": m,
            "packs": r.packs});
        let code = if s.partial { exit::PARTIAL } else { exit::OK };
        let l = self.lang;
        if !r.packs.missing_packs.is_empty() {
            // Also with --json (on stderr): an operator reading the log must see it.
            eprintln!("{}", missing_packs_warning(l, &r.packs));
        }
        if self.g.json {
            return Ok((code, doc));
        }
        // `-q`: no summary (as --help says); the PARTIAL warning below stays.
        if !self.g.quiet {
            self.print_backup_summary(&r.id, s);
        }
        if s.partial {
            eprintln!(
                "{} {} {}",
                t(l, "PARTIAL snapshot:", "部分的なスナップショット:"),
                s.errors.len(),
                t(
                    l,
                    "path(s) could not be read (listed above; recorded in the snapshot)",
                    "件のパスを読めませんでした (上記参照。スナップショットに記録済み)"
                )
            );
        }
        Ok((code, doc))
    }

    /// The human summary of one backup (not with `--json` or `-q`).
    fn print_backup_summary(&self, id: &Id, s: &hokan_format::Snapshot) {
        let l = self.lang;
        let m = &s.summary;
        println!(
            "{} {} ({})",
            t(l, "snapshot", "スナップショット"),
            id.short(),
            show_time(&s.time, self.offset())
        );
        println!(
            "  {}: {} {} / {} {} / {} {}",
            t(l, "files", "ファイル"),
            m.files_new,
            t(l, "new", "新規"),
            m.files_changed,
            t(l, "changed", "変更"),
            m.files_unchanged,
            t(l, "unchanged", "変更なし")
        );
        println!(
            "  {}: {}   {}: {}   {}: {}",
            t(l, "read", "読み込み"),
            Bytes(m.bytes_read),
            t(l, "total", "合計"),
            Bytes(m.bytes_total),
            t(l, "added to repository", "リポジトリへの追加"),
            Bytes(m.bytes_added)
        );
        println!(
            "  {}: {:.1}s",
            t(l, "duration", "所要時間"),
            m.duration_secs
        );
    }

    fn snapshots(&self, source: Option<String>) -> Out {
        let offset = self.offset();
        let repo = self.open()?;
        let (list, broken) = repo.snapshots().map_err(|e| self.fail(e))?;
        let list: Vec<_> = list
            .into_iter()
            .filter(|(_, s)| source.as_ref().is_none_or(|x| &s.source == x))
            .collect();
        if self.g.json {
            let v: Vec<_> = list
                .iter()
                .map(|(id, s)| json!({"id": id, "short_id": id.short(), "time": s.time, "source": s.source, "hostname": s.hostname,
                    "tags": s.tags, "paths": s.paths, "partial": s.partial, "summary": s.summary}))
                .collect();
            print_json(&json!(v));
        } else {
            let l = self.lang;
            println!(
                "{:<10} {} {} {}  {}",
                "ID",
                pad(t(l, "time", "日時"), 26),
                pad(t(l, "source", "対象"), 12),
                pad_left(t(l, "size", "サイズ"), 10),
                t(l, "paths", "パス")
            );
            for (id, s) in &list {
                println!(
                    "{:<10} {} {} {:>10}  {}{}",
                    id.short(),
                    pad(&show_time(&s.time, offset), 26),
                    pad(&s.source, 12),
                    Bytes(s.summary.bytes_total).to_string(),
                    s.paths.join(" "),
                    if s.partial {
                        t(l, "  (partial)", "  (部分的)")
                    } else {
                        ""
                    }
                );
            }
            println!("{} {}", list.len(), t(l, "snapshot(s)", "件"));
        }
        for (name, e) in &broken {
            eprintln!(
                "{} {name}: {e}",
                t(self.lang, "damaged snapshot", "破損したスナップショット")
            );
        }
        Ok(if broken.is_empty() {
            exit::OK
        } else {
            exit::DAMAGE
        })
    }

    fn ls(&self, snap: &str, path: &str) -> Out {
        let repo = self.open()?;
        let (id, _) = repo.find_snapshot(snap, None).map_err(|e| self.fail(e))?;
        let entries = repo.ls(&id, path).map_err(|e| self.fail(e))?;
        if self.g.json {
            let v: Vec<_> = entries
                .iter()
                .map(|e| json!({"path": e.rel.display().to_string(), "type": e.node.kind, "mode": format!("{:o}", e.node.mode),
                    "size": e.node.size, "mtime_ns": e.node.mtime_ns, "uid": e.node.uid, "gid": e.node.gid}))
                .collect();
            print_json(&json!(v));
        } else {
            for e in entries {
                let k = match e.node.kind {
                    NodeKind::Dir => 'd',
                    NodeKind::Symlink => 'l',
                    NodeKind::File => '-',
                    _ => '?',
                };
                println!(
                    "{k}{:04o} {:>6}:{:<6} {:>12}  {}",
                    e.node.mode,
                    e.node.uid,
                    e.node.gid,
                    e.node.size,
                    e.rel.display()
                );
            }
        }
        Ok(exit::OK)
    }

    fn diff(&self, a: &str, b: &str) -> Out {
        let repo = self.open()?;
        let (ia, _) = repo.find_snapshot(a, None).map_err(|e| self.fail(e))?;
        let (ib, _) = repo.find_snapshot(b, None).map_err(|e| self.fail(e))?;
        let changes = repo.diff(&ia, &ib).map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!(changes));
        } else {
            for c in &changes {
                println!("{}  {}", c.change, c.path);
            }
            println!(
                "{} {}",
                changes.len(),
                t(self.lang, "change(s)", "件の変更")
            );
        }
        Ok(exit::OK)
    }

    fn restore(
        &self,
        snap: &str,
        target: PathBuf,
        include: Vec<String>,
        overwrite: bool,
        source: Option<String>,
        latest_undamaged: bool,
    ) -> Out {
        let repo = self.open()?;
        restore_snapshot(
            self.g,
            self.lang,
            &repo,
            snap,
            target,
            include,
            overwrite,
            source,
            latest_undamaged,
        )
    }

    fn verify(&self, read_data: bool) -> Out {
        let repo = self.open()?;
        let bar = Bar::new(self.g.quiet, self.g.json, self.lang, "verify");
        let started = time::OffsetDateTime::now_utc();
        let r = repo.verify(read_data, &bar);
        bar.finish();
        let rep = r.map_err(|e| self.fail(e))?;
        let target = self
            .repo_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let outcome = if rep.ok() { "ok" } else { "failed" };
        self.record_in_catalog(&repo, "verify", &target, started, outcome, |_| {
            json!({"read_data": read_data, "packs": rep.packs, "snapshots": rep.snapshots,
                   "bytes_read": rep.bytes_read, "damage": rep.damage.len()})
        });
        let l = self.lang;
        if self.g.json {
            print_json(&json!({"ok": rep.ok(), "read_data": read_data, "report": rep}));
        } else {
            for w in &rep.warnings {
                println!("{} {w}", t(l, "note:", "注意:"));
            }
            for d in &rep.damage {
                println!("{} {}: {}", t(l, "DAMAGED", "破損"), d.object, d.detail);
            }
            for a in &rep.affected {
                println!(
                    "{} {} ({} {}) {}",
                    t(l, "cannot restore:", "復元不可:"),
                    a.path,
                    a.snapshot,
                    a.time,
                    a.source
                );
            }
            if rep.ok() {
                println!(
                    "{}: {} {}, {} {}, {} {}{}",
                    t(l, "no damage found", "破損はありません"),
                    rep.snapshots,
                    t(l, "snapshots", "スナップショット"),
                    rep.trees,
                    t(l, "trees", "ツリー"),
                    rep.packs,
                    t(l, "packs", "パック"),
                    if read_data {
                        format!(
                            ", {} {}",
                            Bytes(rep.bytes_read),
                            t(l, "read and authenticated", "を読み込み認証")
                        )
                    } else {
                        String::new()
                    }
                );
            } else {
                println!(
                    "{}: {} {}, {} {}",
                    t(l, "DAMAGE FOUND", "破損を検出"),
                    rep.damage.len(),
                    t(l, "damaged object(s)", "個の破損オブジェクト"),
                    rep.affected.len(),
                    t(
                        l,
                        "file(s) or folder(s) cannot be restored completely",
                        "個のファイル/フォルダが完全には復元できません"
                    )
                );
            }
        }
        Ok(if rep.ok() { exit::OK } else { exit::DAMAGE })
    }

    fn forget(
        &self,
        policy: KeepPolicy,
        source: Option<String>,
        dry_run: bool,
        prune: bool,
    ) -> Out {
        let repo = self.open()?;
        let plan = repo
            .forget(&policy, source.as_deref(), dry_run)
            .map_err(|e| self.fail(e))?;
        let l = self.lang;
        if !self.g.json {
            for d in &plan.decisions {
                println!(
                    "{} {} {} {} {}",
                    if d.keep {
                        t(l, "keep  ", "保持  ")
                    } else {
                        t(l, "remove", "削除  ")
                    },
                    d.id.short(),
                    show_time(&d.time, self.offset()),
                    d.source,
                    d.reasons.join(",")
                );
            }
            if dry_run {
                println!(
                    "{}",
                    t(
                        l,
                        "dry run: nothing was removed",
                        "ドライラン: 何も削除していません"
                    )
                );
            }
        }
        let pruned = if prune && !dry_run {
            self.clean_temp()?;
            Some(
                repo.prune(&PruneOptions::default())
                    .map_err(|e| self.fail(e))?,
            )
        } else {
            None
        };
        if self.g.json {
            print_json(
                &json!({"dry_run": dry_run, "policy": policy, "plan": plan, "prune": pruned}),
            );
        } else if let Some(p) = pruned {
            self.print_prune(&p, false);
        }
        Ok(exit::OK)
    }

    fn print_prune(&self, p: &hokan_repo::prune::PrunePlan, dry_run: bool) {
        let l = self.lang;
        println!(
            "{}: {} {}, {} {}, {} {}; {} {}, {} {}",
            if dry_run {
                t(l, "prune plan", "prune 計画")
            } else {
                t(l, "pruned", "prune 完了")
            },
            p.packs_delete.len(),
            t(l, "packs deleted", "パック削除"),
            p.packs_repack.len(),
            t(l, "repacked", "再パック"),
            p.packs_keep,
            t(l, "kept", "保持"),
            Bytes(p.bytes_freed),
            t(l, "freed", "解放"),
            Bytes(p.bytes_repacked),
            t(l, "copied", "コピー")
        );
        for (id, when) in &p.protected {
            println!(
                "{} {} {} {when}",
                t(l, "protected, kept:", "保護中のため保持:"),
                id.short(),
                t(l, "deletable after", "削除可能日時")
            );
        }
    }

    fn prune(&self, dry_run: bool, threshold: u8) -> Out {
        let repo = self.open()?;
        if !dry_run {
            self.clean_temp()?;
        }
        let p = repo
            .prune(&PruneOptions {
                repack_threshold_pct: threshold.min(100),
                dry_run,
            })
            .map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!({"dry_run": dry_run, "plan": p}));
        } else {
            self.print_prune(&p, dry_run);
        }
        Ok(exit::OK)
    }

    fn key(&self, action: KeyAction) -> Out {
        let repo = self.open()?;
        let l = self.lang;
        match action {
            KeyAction::Add {
                label,
                new_password_file,
                insecure_fast_kdf,
            } => {
                let g2 = Global {
                    password_file: new_password_file,
                    ..self.g.clone()
                };
                let new_env = std::env::var("HOKAN_NEW_PASSPHRASE")
                    .or_else(|_| std::env::var("HOKAN_NEW_PASSWORD"));
                let pw = match (&g2.password_file, new_env) {
                    (None, Ok(p)) => p.into_bytes(),
                    _ => passphrase(
                        &Global {
                            password_file: g2.password_file.clone(),
                            ..self.g.clone()
                        },
                        l,
                        true,
                    )?,
                };
                let kdf = if insecure_fast_kdf {
                    KdfStrength::TestOnly
                } else {
                    KdfStrength::Standard
                };
                let name = repo.add_key(&pw, &label, kdf).map_err(|e| self.fail(e))?;
                if self.g.json {
                    print_json(&json!({"added": name}));
                } else {
                    println!(
                        "{} {}",
                        t(l, "added key slot", "鍵スロットを追加しました:"),
                        &name[..8]
                    );
                }
            }
            KeyAction::List => {
                let keys = repo.list_keys().map_err(|e| self.fail(e))?;
                if self.g.json {
                    let v: Vec<_> = keys
                        .iter()
                        .map(|(n, k)| json!({"id": n, "created": k.created, "hostname": k.hostname, "username": k.username,
                            "label": k.label, "current": Some(n.as_str()) == repo.key_slot(), "kdf": {"m_cost": k.kdf.m_cost, "t_cost": k.kdf.t_cost, "p_cost": k.kdf.p_cost}}))
                        .collect();
                    print_json(&json!(v));
                } else {
                    for (n, k) in keys {
                        let cur = if Some(n.as_str()) == repo.key_slot() {
                            "*"
                        } else {
                            " "
                        };
                        println!(
                            "{cur} {} {} {}@{} {}",
                            &n[..8],
                            k.created,
                            k.username,
                            k.hostname,
                            k.label
                        );
                    }
                }
                for (n, why) in repo.damaged_key_slots() {
                    eprintln!(
                        "{} {n}: {why}",
                        t(l, "DAMAGED key slot", "破損した鍵スロット")
                    );
                }
            }
            KeyAction::Remove { id } => {
                let name = repo.remove_key(&id, false).map_err(|e| self.fail(e))?;
                if self.g.json {
                    print_json(&json!({"removed": name}));
                } else {
                    println!(
                        "{} {}",
                        t(l, "removed key slot", "鍵スロットを削除しました:"),
                        &name[..8]
                    );
                }
            }
            KeyAction::Export { paper } => {
                let secret = repo.key().secret();
                let cfg = repo.config();
                if paper {
                    println!(
                        "{}",
                        paper_sheet(
                            &cfg.id,
                            &cfg.created,
                            self.repo_path().ok().as_deref(),
                            secret
                        )
                    );
                } else if self.g.json {
                    print_json(
                        &json!({"repository": cfg.id, "master_secret": hex::encode(secret)}),
                    );
                } else {
                    println!("{}", hex::encode(secret));
                }
                eprintln!(
                    "{}",
                    t(
                        l,
                        "WARNING: this opens the repository without any passphrase. Store it offline, in a safe.",
                        "警告: これがあればパスフレーズなしでリポジトリを開けます。金庫などオフラインで保管してください。"
                    )
                );
            }
        }
        Ok(exit::OK)
    }

    fn repair_index(&self) -> Out {
        let mut repo = self.open()?;
        let st = repo.repair_index().map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!(st));
        } else {
            let l = self.lang;
            println!(
                "{} {}",
                t(l, "packs indexed:", "索引に登録したパック:"),
                st.packs_indexed
            );
            for id in &st.damaged_index_removed {
                println!(
                    "{} {id}",
                    t(
                        l,
                        "removed damaged index file",
                        "破損した索引ファイルを削除:"
                    )
                );
            }
            if !st.missing_packs.is_empty() {
                println!(
                    "{}",
                    missing_packs_warning(
                        l,
                        &hokan_repo::repository::PackCheck {
                            missing_packs: st.missing_packs.clone(),
                            blobs_dropped: st.blobs_dropped,
                            ..Default::default()
                        }
                    )
                );
            }
            for (id, e) in &st.unreadable_packs {
                println!(
                    "{} {id}: {e}",
                    t(
                        l,
                        "DAMAGED pack, header unreadable:",
                        "破損パック (ヘッダ読めず):"
                    )
                );
            }
        }
        Ok(if st.unreadable_packs.is_empty() {
            exit::OK
        } else {
            exit::DAMAGE
        })
    }

    fn repair_snapshots(&self, dry_run: bool, read_data: bool, forget: bool) -> Out {
        let repo = self.open()?;
        let r = repo
            .repair_snapshots(&hokan_repo::repair::RepairSnapshotsOptions {
                dry_run,
                read_data,
                forget_originals: forget,
            })
            .map_err(|e| self.fail(e))?;
        let failed = !r.unsalvageable.is_empty() || !r.damaged_manifests.is_empty();
        let code = if failed || (dry_run && !r.salvaged.is_empty()) {
            exit::DAMAGE
        } else {
            exit::OK
        };
        if self.g.json {
            print_json(&json!({"repair": r, "files_lost": r.files_lost(), "exit_code": code}));
            return Ok(code);
        }
        let l = self.lang;
        if !r.packs.missing_packs.is_empty() {
            println!("{}", missing_packs_warning(l, &r.packs));
        }
        for d in &r.damage {
            println!("{} {}: {}", t(l, "DAMAGED", "破損"), d.object, d.detail);
        }
        for s in &r.salvaged {
            let new = s
                .new
                .map(|id| id.short())
                .unwrap_or_else(|| t(l, "(dry run)", "(ドライラン)").to_owned());
            println!(
                "{} {} ({} {}) → {} : {} {}",
                t(l, "salvaged", "救済"),
                s.original.short(),
                show_time(&s.time, self.offset()),
                s.source,
                new,
                s.lost.len(),
                t(l, "file(s) left out", "件を除外")
            );
            for e in &s.lost {
                println!("  {} {}", t(l, "LEFT OUT:", "除外:"), e.path);
            }
            if s.original_forgotten {
                println!(
                    "  {} {}",
                    t(l, "original forgotten:", "元のスナップショットを削除:"),
                    s.original.short()
                );
            }
        }
        for (orig, copy) in &r.already_salvaged {
            println!(
                "{} {} → {}",
                t(l, "already salvaged:", "救済済み:"),
                orig.short(),
                copy.short()
            );
        }
        for (id, why) in &r.unsalvageable {
            println!(
                "{} {}: {why}",
                t(
                    l,
                    "CANNOT SALVAGE (its root folder listing is gone):",
                    "救済不可 (ルートのフォルダ一覧が失われています):"
                ),
                id.short()
            );
        }
        for (name, why) in &r.damaged_manifests {
            println!(
                "{} {name}: {why}",
                t(l, "damaged snapshot", "破損したスナップショット")
            );
        }
        println!(
            "{}: {} {}, {} {}, {} {}",
            if dry_run {
                t(
                    l,
                    "dry run, nothing written",
                    "ドライラン (何も書き込んでいません)",
                )
            } else {
                t(l, "repair snapshots", "スナップショット修復")
            },
            r.snapshots,
            t(l, "snapshot(s) checked", "件を確認"),
            r.salvaged.len(),
            t(l, "salvaged", "件を救済"),
            r.files_lost(),
            t(l, "file(s) left out", "件のファイルを除外")
        );
        if !r.salvaged.is_empty() && !forget {
            println!(
                "{}",
                t(
                    l,
                    "the damaged originals are kept; `hokan repair snapshots --forget` (or `hokan forget`) removes them, after which prune works again",
                    "破損した元のスナップショットは残しています。`hokan repair snapshots --forget` (または `hokan forget`) で削除すると prune が再び実行できます"
                )
            );
        }
        if !r.salvaged.is_empty() && forget && read_data && !dry_run {
            // Prune's default threshold leaves a pack alone when little of it
            // is unused, so a small damaged blob would stay and keep `verify
            // --read-data` failing.
            println!(
                "{}",
                t(
                    l,
                    "next: `hokan prune --repack-threshold 0` removes the damaged blobs nothing needs any more",
                    "次に `hokan prune --repack-threshold 0` で、どのスナップショットも使わなくなった破損ブロブを削除してください"
                )
            );
        }
        Ok(code)
    }

    fn unlock(&self, all: bool) -> Out {
        let repo = self.open()?;
        let n = repo.unlock(all).map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!({"removed": n}));
        } else {
            println!("{} {n}", t(self.lang, "locks removed:", "削除したロック:"));
        }
        Ok(exit::OK)
    }
}

/// The warning when the index listed packs that are gone (a backup, `repair
/// index`, `repair snapshots`): how many, what was done, what to run next.
fn missing_packs_warning(l: Lang, p: &hokan_repo::repository::PackCheck) -> String {
    let n = p.missing_packs.len();
    let first = p
        .missing_packs
        .first()
        .map(|id| id.short())
        .unwrap_or_default();
    match l {
        Lang::En => format!(
            "WARNING: {n} pack(s) the index listed are missing from the repository (first: {first}); {} blob(s) they held were dropped from the index. A backup writes their data again where it is still in the source, so new snapshots are complete; older snapshots that used them are damaged: run `hokan verify`, then `hokan repair snapshots`.",
            p.blobs_dropped
        ),
        Lang::Ja => format!(
            "警告: 索引にあるパックのうち {n} 個がリポジトリにありません (最初: {first})。そこにあった {} 個のブロブを索引から外しました。バックアップはソースに残っているデータを再度書き込むため新しいスナップショットは完全ですが、それを使っていた古いスナップショットは破損しています。`hokan verify` の後 `hokan repair snapshots` を実行してください。",
            p.blobs_dropped
        ),
    }
}

/// The printable paper key sheet (bilingual, so whoever finds it in ten years can use it).
pub fn paper_sheet(repo_id: &Id, created: &str, path: Option<&Path>, secret: &[u8; 32]) -> String {
    let mut s = String::new();
    s.push_str("hokan paper key / hokan ペーパーキー\n");
    s.push_str("==================================\n");
    s.push_str(&format!("repository id / リポジトリID : {repo_id}\n"));
    s.push_str(&format!("created / 作成日時          : {created}\n"));
    if let Some(p) = path {
        s.push_str(&format!(
            "location when printed / 印刷時の場所 : {}\n",
            p.display()
        ));
    }
    s.push('\n');
    for line in hokan_format::paper::encode_lines(secret) {
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(
        "\nTo restore without the passphrase: type the four K lines into a file and run\n  hokan --repo REPO --paper-key FILE restore latest --target DIR\n\
         Each line has its own checksum (ck): a typing mistake is reported with its line.\n\
         パスフレーズなしで復元するには: K1〜K4 の4行をファイルに入力し、次を実行します\n  hokan --repo REPO --paper-key FILE restore latest --target DIR\n\
         各行にチェックサム (ck) があり、入力誤りは行ごとに検出されます。\n\
         Keep this sheet in a safe, away from the servers. / サーバーから離れた金庫に保管してください。\n",
    );
    s
}

/// What a failed pre-backup command did, and what follows for the backup.
fn hook_failure(
    l: Lang,
    source: &str,
    o: &crate::hooks::HookOutcome,
    timeout: time::Duration,
    abort: bool,
) -> String {
    let span = site::pick(l, &hokan_offline::text::span(timeout));
    let what = match (l, &o.spawn_error, o.timed_out, o.signal) {
        (Lang::En, Some(e), _, _) => format!("could not be started ({e})"),
        (Lang::Ja, Some(e), _, _) => format!("を起動できませんでした ({e})"),
        (Lang::En, None, true, _) => format!("was stopped after its timeout of {span}"),
        (Lang::Ja, None, true, _) => format!("はタイムアウト ({span}) で停止しました"),
        (Lang::En, None, false, Some(sig)) => format!("was killed by signal {sig}"),
        (Lang::Ja, None, false, Some(sig)) => format!("はシグナル {sig} で終了しました"),
        (Lang::En, None, false, None) => {
            format!("failed with exit code {}", o.exit_code.unwrap_or(-1))
        }
        (Lang::Ja, None, false, None) => {
            format!("が失敗しました (終了コード {})", o.exit_code.unwrap_or(-1))
        }
    };
    let next = match (l, abort) {
        (Lang::En, true) => format!(
            "{source} was NOT backed up (on_failure = \"abort\"). Fix the command, then run `hokan backup --source {source}`."
        ),
        (Lang::Ja, true) => format!(
            "{source} はバックアップしていません (on_failure = \"abort\")。コマンドを直してから `hokan backup --source {source}` を実行してください。"
        ),
        (Lang::En, false) => format!(
            "{source} was backed up anyway (on_failure = \"continue\"); its snapshot is tagged pre-backup-failed, because the dump in it may be stale."
        ),
        (Lang::Ja, false) => format!(
            "設定 (on_failure = \"continue\") により {source} のバックアップは実施し、スナップショットに pre-backup-failed のタグを付けました。中のダンプは古い可能性があります。"
        ),
    };
    let tail = if o.output_tail.is_empty() {
        String::new()
    } else {
        let last: Vec<&str> = o.output_tail.lines().rev().take(5).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        format!("\n  | {}", last.join("\n  | "))
    };
    match l {
        Lang::En => format!(
            "error: the pre-backup command of {source} ({}) {what}.{tail}\n  {next}",
            o.command
        ),
        Lang::Ja => format!(
            "エラー: {source} の事前処理コマンド ({}) {what}。{tail}\n  {next}",
            o.command
        ),
    }
}

/// `hokan restore` from the repository folder `repo` (used by `tape
/// restore` on the objects read back from tape).
pub fn restore_from(
    g: &Global,
    lang: Lang,
    repo: &Path,
    snapshot: &str,
    target: PathBuf,
) -> Result<i32, Failure> {
    restore_from_with(
        g,
        lang,
        repo,
        snapshot,
        target,
        false,
        false,
        serde_json::Map::new(),
    )
}

/// [`restore_from`], adding `extra` to the `--json` report (`disk restore`
/// adds the cartridge's catalog anchor).
#[allow(clippy::too_many_arguments)] // the options of `hokan restore`
pub fn restore_from_with(
    g: &Global,
    lang: Lang,
    repo: &Path,
    snapshot: &str,
    target: PathBuf,
    latest_undamaged: bool,
    overwrite: bool,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Result<i32, Failure> {
    let mut g = g.clone();
    g.repo = Some(repo.to_owned());
    let offset = display_offset(site::load(&g, lang, false).ok().as_ref());
    let ctx = Ctx {
        g: &g,
        lang,
        offset,
    };
    let repo = ctx.open()?;
    restore_snapshot_with(
        &g,
        lang,
        &repo,
        snapshot,
        target,
        Vec::new(),
        overwrite,
        None,
        latest_undamaged,
        extra,
    )
}

/// Restore snapshot `snap` of an opened repository (a folder, a cartridge,
/// a bucket) into `target`, reporting as `hokan restore` does.
#[allow(clippy::too_many_arguments)] // the options of `hokan restore`
pub fn restore_snapshot(
    g: &Global,
    lang: Lang,
    repo: &Repository,
    snap: &str,
    target: PathBuf,
    include: Vec<String>,
    overwrite: bool,
    source: Option<String>,
    latest_undamaged: bool,
) -> Out {
    restore_snapshot_with(
        g,
        lang,
        repo,
        snap,
        target,
        include,
        overwrite,
        source,
        latest_undamaged,
        serde_json::Map::new(),
    )
}

/// [`restore_snapshot`], adding `extra` to the `--json` report.
#[allow(clippy::too_many_arguments)] // the options of `hokan restore`
pub fn restore_snapshot_with(
    g: &Global,
    lang: Lang,
    repo: &Repository,
    snap: &str,
    target: PathBuf,
    include: Vec<String>,
    overwrite: bool,
    source: Option<String>,
    latest_undamaged: bool,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Out {
    let found = hokan_jobs::restore::choose(repo, snap, source.as_deref(), latest_undamaged)
        .map_err(|e| job_failure(lang, &e))?;
    let (id, s) = (&found.id, &found.snapshot);
    // Never silent: which damaged snapshots were passed over, and which one
    // is restored instead (stderr, so it shows also with --json).
    for (name, why) in &found.skipped {
        eprintln!(
            "{} {name} ({why})",
            t(
                lang,
                "warning: skipped damaged snapshot",
                "警告: 破損したスナップショットを飛ばしました:"
            ),
        );
    }
    if !found.skipped.is_empty() {
        eprintln!(
            "{} {} ({}). {}",
            t(
                lang,
                "restoring the newest undamaged snapshot",
                "破損していない最新のスナップショットを復元します:"
            ),
            id.short(),
            s.time,
            t(
                lang,
                "Run `hokan verify` to see the damage",
                "`hokan verify` で破損を確認してください"
            )
        );
    }
    let bar = Bar::new(g.quiet, g.json, lang, "restore");
    let r = hokan_jobs::restore::restore(
        repo,
        &found,
        &RestoreOptions {
            target: target.clone(),
            include,
            overwrite,
        },
        &bar,
    );
    bar.finish();
    let st = r.map_err(|e| job_failure(lang, &e))?;
    if g.json {
        let skipped: Vec<_> = found
            .skipped
            .iter()
            .map(|(n, why)| json!({"snapshot": n, "error": why}))
            .collect();
        let mut out = json!({"snapshot": id, "time": s.time, "target": target, "stats": st,
            "skipped_damaged": skipped});
        if let Some(o) = out.as_object_mut() {
            o.extend(extra);
        }
        print_json(&out);
    } else {
        let l = lang;
        println!(
            "{} {} → {}: {} {}, {} {}, {} ({:.1}s)",
            t(l, "restored", "復元しました"),
            id.short(),
            target.display(),
            st.files,
            t(l, "files", "ファイル"),
            st.dirs,
            t(l, "folders", "フォルダ"),
            Bytes(st.bytes),
            st.duration_secs
        );
        for (p, e) in &st.errors {
            eprintln!("{} {p}: {e}", t(l, "NOT RESTORED:", "復元できません:"));
        }
    }
    Ok(if st.errors.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}
