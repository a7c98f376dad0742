//! `hokan backup`: the site's sources (with their pre-backup commands) or
//! the paths given, into the primary repository.

use hokan_jobs::backup::{Recording, SourceEvents};
use hokan_repo::BackupResult;

use super::*;

impl Ctx<'_> {
    pub(super) fn backup(
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
            let repo = self.open_for_backup()?;
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
    pub(super) fn backup_sources(
        &self,
        only: Option<String>,
        tags: Vec<String>,
        force: bool,
        time: Option<String>,
    ) -> Out {
        let l = self.lang;
        let conf = ctx::load(self.g, l, false)?;
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
        let repo = crate::ctx::open::open_primary_for_backup(self.g, l, &conf)?;
        self.clean_temp()?;
        let options = hokan_jobs::backup::Options { tags, force, time };
        let recording = conf.catalog.as_deref().map(|c| Recording {
            catalog: c,
            repository: conf.repository_label.as_deref(),
            sources: &conf.sources,
        });
        let runs = hokan_jobs::backup::sources(&repo, &sources, &options, recording, self);
        let mut code = exit::OK;
        let mut docs = Vec::new();
        for run in runs {
            let hook = run
                .pre_backup
                .as_ref()
                .map_or(serde_json::Value::Null, |o| json!(o));
            let name = run.source;
            match run.backup {
                None => {
                    code = code.max(exit::PRE_BACKUP);
                    docs.push(json!({"source": name, "pre_backup": hook,
                        "backup": null, "skipped": true}));
                }
                Some(Ok(r)) => {
                    let (c, doc) = backup_doc(&r);
                    code = code.max(c);
                    docs.push(json!({"source": name, "pre_backup": hook, "backup": doc,
                        "skipped": false}));
                }
                Some(Err(e)) => {
                    let f = self.job_fail(e);
                    code = code.max(f.code);
                    docs.push(json!({"source": name, "pre_backup": hook, "backup": null,
                        "skipped": false, "error": f.message, "exit_code": f.code}));
                }
            }
        }
        if self.g.json {
            print_json(&json!({"sources": docs, "exit_code": code}));
        }
        Ok(code)
    }

    fn job_fail(&self, e: hokan_jobs::JobError) -> Failure {
        match e {
            hokan_jobs::JobError::Repo(e) => self.fail(e),
            e => crate::job_error::failure(self.lang, &e),
        }
    }

    /// Back up `paths` as `source`; prints the human summary, returns the
    /// exit code and the `--json` document.
    pub(super) fn backup_paths(
        &self,
        repo: &Repository,
        paths: Vec<PathBuf>,
        source: String,
        tags: Vec<String>,
        force: bool,
        time: Option<String>,
    ) -> Result<(i32, serde_json::Value), Failure> {
        self.clean_temp()?;
        let conf = self.site()?;
        let recording = conf.catalog.as_deref().map(|c| Recording {
            catalog: c,
            repository: conf.repository_label.as_deref(),
            sources: &conf.sources,
        });
        let options = hokan_jobs::backup::Options { tags, force, time };
        let bar = SourceEvents::progress(self, &source);
        let r = hokan_jobs::backup::paths(repo, paths, &source, &options, &*bar, recording, self);
        drop(bar);
        let r = r.map_err(|e| self.job_fail(e))?;
        self.show_backup(&r);
        Ok(backup_doc(&r))
    }

    /// What people see of one finished backup: a warning about missing
    /// packs (also with `--json`, on stderr), the summary (not with
    /// `--json` or `-q`), the PARTIAL warning.
    fn show_backup(&self, r: &BackupResult) {
        let l = self.lang;
        let s = &r.snapshot;
        if !r.packs.missing_packs.is_empty() {
            // Also with --json (on stderr): an operator reading the log must see it.
            eprintln!("{}", missing_packs_warning(l, &r.packs));
        }
        if self.g.json {
            return;
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
    }

    /// The human summary of one backup (not with `--json` or `-q`).
    pub(super) fn print_backup_summary(&self, id: &Id, s: &hokan_format::Snapshot) {
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
}

/// The exit code and `--json` document of one backup.
fn backup_doc(r: &BackupResult) -> (i32, serde_json::Value) {
    let s = &r.snapshot;
    let doc = json!({"snapshot": r.id, "snapshot_short": r.id.short(), "time": s.time,
        "source": s.source, "partial": s.partial, "errors": s.errors, "summary": s.summary,
        "packs": r.packs});
    (if s.partial { exit::PARTIAL } else { exit::OK }, doc)
}

/// The progress bar of one backup, cleared when the backup ends.
struct BackupBar(Bar);

impl hokan_repo::BackupProgress for BackupBar {
    fn to_read(&self, files: u64, bytes: u64) {
        self.0.to_read(files, bytes)
    }
    fn read(&self, bytes: u64) {
        self.0.read(bytes)
    }
    fn warn(&self, path: &Path, error: &str) {
        self.0.warn(path, error)
    }
}

impl Drop for BackupBar {
    fn drop(&mut self) {
        self.0.finish();
    }
}

impl SourceEvents for Ctx<'_> {
    fn pre_backup(&self, source: &str, command: &hokan_site::Command) {
        if !self.g.json && !self.g.quiet {
            println!(
                "{} {source}: {}",
                t(self.lang, "pre-backup of", "事前処理"),
                hokan_jobs::hooks::show(command)
            );
        }
    }

    fn pre_backup_failed(
        &self,
        source: &str,
        outcome: &hokan_jobs::hooks::HookOutcome,
        timeout: std::time::Duration,
        abort: bool,
    ) {
        let timeout = time::Duration::try_from(timeout).unwrap_or(time::Duration::MAX);
        eprintln!(
            "{}",
            hook_failure(self.lang, source, outcome, timeout, abort)
        );
    }

    fn progress(&self, _source: &str) -> Box<dyn hokan_repo::BackupProgress + '_> {
        Box::new(BackupBar(Bar::new(
            self.g.quiet,
            self.g.json,
            self.lang,
            "backup",
        )))
    }

    fn backed_up(&self, source: &str, result: &Result<BackupResult, hokan_jobs::JobError>) {
        match result {
            Ok(r) => self.show_backup(r),
            Err(hokan_jobs::JobError::Repo(e)) => {
                eprintln!("{source}: {}", from_repo(self.lang, e).message)
            }
            Err(e) => eprintln!(
                "{source}: {}",
                crate::job_error::failure(self.lang, e).message
            ),
        }
    }

    fn not_recorded(&self, catalog: &Path, error: &hokan_jobs::JobError) {
        catalog_warning(self.lang, catalog, error);
    }
}

/// What a failed pre-backup command did, and what follows for the backup.
pub(super) fn hook_failure(
    l: Lang,
    source: &str,
    o: &hokan_jobs::hooks::HookOutcome,
    timeout: time::Duration,
    abort: bool,
) -> String {
    let span = ctx::pick(l, &hokan_offline::text::span(timeout));
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
