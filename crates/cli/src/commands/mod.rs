//! The commands: parse → call the engine → print (human or `--json`).
//!
//! [`run`] dispatches; the repository commands live one group a file
//! ([`backup`], [`key`] (init and keys), [`browse`] (snapshots, ls, diff,
//! restore), [`maintain`] (verify, forget, prune, repair, unlock)), each
//! adding methods to [`Ctx`]. Nothing outside this module imports it but
//! `main` (opening a repository and restoring are in `ctx::open` and
//! `ctx::restore`, which the tape, disk and S3 commands use too).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hokan_format::{Id, NodeKind};
use hokan_repo::prune::{KeepPolicy, PruneOptions};
use hokan_repo::{InitOptions, KdfStrength, RepoError, Repository, Store};
use hokan_store::local::LocalStore;
use serde_json::json;

use crate::ctx::open::{open_primary, passphrase, passphrase_from, primary_store, repo_location};
use crate::ctx::restore::restore_snapshot;
use crate::ctx::{self, SiteConf};
use crate::exit::{self, from_repo, Failure};
use crate::i18n::{pad, pad_left, t, Bytes, Lang};
use crate::progress::Bar;
use crate::site::{self, args::SiteCommand};
use crate::{Cli, Command, Global, KeyAction, RepairWhat};

mod backup;
mod browse;
mod key;
mod maintain;

type Out = Result<i32, Failure>;

/// Run a parsed command line; returns the exit code.
pub fn run(cli: Cli, lang: Lang) -> Out {
    let g = cli.global;
    // Read the display offset now, while the process has one thread.
    let offset = display_offset(ctx::load(&g, lang, false).ok().as_ref());
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
            let ctx = crate::ctx::SiteCtx::new(&g, lang)?;
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
        Command::Drill(a) => crate::drill::run(a, &g, lang),
        Command::Copy { to, snapshots } => {
            let ctx = crate::ctx::SiteCtx::new(&g, lang)?;
            crate::s3::copy(&ctx, &to, &snapshots)
        }
        Command::S3 { action } => crate::s3::run(action, &g, lang),
        Command::Report(r) => site::run(SiteCommand::Report(r), &g, lang),
        Command::Annex(a) => site::run(SiteCommand::Annex(a), &g, lang),
        Command::Notify { action } => crate::notify::run(action, &g, lang),
        Command::Vault(a) => crate::vault::run(a, &g, lang),
        Command::Serve(a) => crate::vault::serve(a, &g, lang),
        Command::Web(a) => crate::web::run(a, &g, lang),
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

impl Ctx<'_> {
    fn fail(&self, e: RepoError) -> Failure {
        from_repo(self.lang, &e)
    }

    /// Remove the temp files killed runs left in a folder repository: those
    /// of processes of this host that are gone at once, any others once an
    /// hour old (a concurrent writer's are younger). Best effort: a backup
    /// does not fail because debris could not be removed. A bucket has no
    /// temp files: an upload is whole or absent.
    fn clean_temp(&self) -> Result<(), Failure> {
        let location = self.location()?;
        let Some(folder) = location.folder() else {
            return Ok(());
        };
        match LocalStore::new(folder).clean_temp(std::time::Duration::from_secs(3600)) {
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
        ctx::load(self.g, self.lang, false)
    }

    /// Where the primary repository is: a folder or a bucket.
    fn location(&self) -> Result<hokan_site::RepositoryLocation, Failure> {
        repo_location(self.lang, &self.site()?)
    }

    /// The offset times are shown in (see [`display_offset`]).
    fn offset(&self) -> time::UtcOffset {
        self.offset
    }

    fn store(&self) -> Result<Arc<dyn Store>, Failure> {
        primary_store(self.lang, &self.site()?)
    }

    fn open(&self) -> Result<Repository, Failure> {
        open_primary(self.g, self.lang, &self.site()?)
    }

    /// [`Self::open`] for a command that only backs up
    /// ([`hokan_repo::IndexScope::Backup`]).
    fn open_for_backup(&self) -> Result<Repository, Failure> {
        crate::ctx::open::open_primary_for_backup(self.g, self.lang, &self.site()?)
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
        let recording = hokan_jobs::backup::Recording {
            catalog: &path,
            repository: conf.repository_label.as_deref(),
            sources: &conf.sources,
        };
        let detail = detail(());
        if let Err(e) =
            hokan_jobs::backup::record(repo, recording, job, target, started, outcome, detail)
        {
            catalog_warning(self.lang, &path, &e);
        }
    }
}

/// A job is done but the catalog could not record it.
fn catalog_warning(l: Lang, path: &Path, e: &hokan_jobs::JobError) {
    let e = match e {
        hokan_jobs::JobError::Repo(e) => e.to_string(),
        hokan_jobs::JobError::Catalog(e) => ctx::pick(l, &e.text()),
        e => e.to_string(),
    };
    eprintln!(
        "{} {}: {e}. {}",
        t(l, "warning: catalog", "警告: カタログ"),
        path.display(),
        t(
            l,
            "The backup itself is complete; run `hokan catalog sync` later",
            "バックアップ自体は完了しています。後で `hokan catalog sync` を実行してください"
        )
    );
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
