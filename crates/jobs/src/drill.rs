//! Restore drills (復旧訓練): a generation restored from one offline medium
//! alone into a scratch folder, checked, timed, and the time to restore the
//! whole source projected against its recovery-time target.
//!
//! Three steps, so each front-end (the CLI, the daemon) can open the
//! medium its own way (a cartridge attached, a bucket connected, a tape set
//! read back) between them:
//! - [`choose`] picks, from the site's evaluation, the newest **offline**
//!   generation of each source on each kind of medium in use
//!   ([`MediumClass`]), or the medium/generation asked for;
//! - [`check_target`] refuses a scratch folder inside (or holding) a
//!   source's own paths, or one that already holds files;
//! - [`run`] restores from the repository opened **on that medium** (never
//!   the primary repository), checks every restored file against the
//!   snapshot, runs the source's application check, and cleans up.
//!
//! A damaged medium is a failed drill naming what failed ([`DrillStats`]
//! with failures), never an error: an error is only for a drill that could
//! not be attempted (a refused target).
//!
//! What counts as checked: each file's content came through the restore's
//! authenticated decryption (a flipped byte fails it, naming the file and
//! the object), and its size, permission bits and modification time are
//! compared with the snapshot's; folders' permission bits and symbolic
//! links' targets too. Owners are not compared: a drill need not run as
//! root.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hokan_catalog::{AppCheck, DrillFailure, DrillMeasures};
use hokan_format::json::NodeKind;
use hokan_format::Id;
use hokan_offline::{Evaluation, MediumId, PoolName, SnapshotId, SourceName};
use hokan_repo::{Repository, RestoreOptions, RestoreProgress};
use hokan_site::DrillCheck;
use serde::Serialize;
use time::OffsetDateTime;

use crate::hooks::{self, HookOutcome};
use crate::JobError;

pub use hokan_offline::MediumClass;

/// Which drills to run: everything left `None` is chosen by [`choose`].
#[derive(Clone, Debug, Default)]
pub struct DrillFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this medium (its id) or the media of this pool (its name).
    pub medium: Option<String>,
    /// Only this kind of medium.
    pub class: Option<MediumClass>,
    /// This generation (an id or a unique prefix) instead of the newest
    /// offline one; then any complete copy of it on the kind counts.
    pub snapshot: Option<String>,
}

/// One drill to run: a generation of a source, on one medium.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DrillPick {
    /// The source.
    pub source: SourceName,
    /// The kind of medium.
    pub class: MediumClass,
    /// The medium's pool (its target in hokan.toml).
    pub pool: Option<PoolName>,
    /// The medium.
    pub medium: MediumId,
    /// The generation.
    pub snapshot: SnapshotId,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
}

/// The drills `filter` asks for, from the site's evaluation: per source
/// and per kind of medium, the newest generation whose copy there is
/// offline now (or the generation named). Sorted by source, then kind.
pub fn choose(eval: &Evaluation, filter: &DrillFilter) -> Vec<DrillPick> {
    let mut picks: Vec<DrillPick> = Vec::new();
    // `copies` lists each source's generations newest first.
    for c in &eval.copies {
        let Some(class) = c.kind.and_then(MediumClass::of) else {
            continue;
        };
        let pool = eval.medium(&c.medium).and_then(|m| m.pool.clone());
        if filter
            .source
            .as_deref()
            .is_some_and(|s| s != c.source.as_str())
            || filter.class.is_some_and(|k| k != class)
            || filter.medium.as_deref().is_some_and(|m| {
                m != c.medium.as_str() && pool.as_ref().is_none_or(|p| p.as_str() != m)
            })
        {
            continue;
        }
        match &filter.snapshot {
            Some(s) if !c.snapshot.as_str().starts_with(s.as_str()) => continue,
            None if !c.verdict.is_offline() => continue,
            _ => {}
        }
        if picks
            .iter()
            .any(|p| p.source == c.source && p.class == class)
        {
            continue;
        }
        picks.push(DrillPick {
            source: c.source.clone(),
            class,
            pool,
            medium: c.medium.clone(),
            snapshot: c.snapshot.clone(),
            taken_at: c.taken_at,
        });
    }
    picks.sort_by(|a, b| (&a.source, a.class).cmp(&(&b.source, b.class)));
    picks
}

/// `path` made absolute and without `.`/`..`, symbolic links of the part
/// that exists resolved (the rest need not exist yet).
fn resolved(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_owned();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        match Path::new(&name).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) | None => {}
            _ => out.push(name),
        }
    }
    out
}

/// Refuse a scratch folder that is inside a source's paths or holds one
/// ([`JobError::DrillTargetInSource`]: a drill must never write over the
/// data it protects), or that already holds something
/// ([`JobError::DrillTargetNotEmpty`]: the drill removes it afterwards).
pub fn check_target<'a>(
    target: &Path,
    sources: impl IntoIterator<Item = (&'a str, &'a [PathBuf])>,
) -> Result<(), JobError> {
    let t = resolved(target);
    for (name, paths) in sources {
        for p in paths {
            let p = resolved(p);
            if t.starts_with(&p) || p.starts_with(&t) {
                return Err(JobError::DrillTargetInSource {
                    target: target.to_owned(),
                    source_name: name.to_owned(),
                    path: p,
                });
            }
        }
    }
    let holds_something = std::fs::read_dir(target).is_ok_and(|mut d| d.next().is_some());
    if holds_something {
        return Err(JobError::DrillTargetNotEmpty {
            target: target.to_owned(),
        });
    }
    Ok(())
}

/// One drill as [`run`] runs it.
pub struct DrillRun<'a> {
    /// The repository on the medium drilled (never the primary one).
    pub repo: &'a Repository,
    /// The generation.
    pub snapshot: &'a Id,
    /// The scratch folder ([`check_target`] first); created, and removed
    /// afterwards unless `keep`.
    pub target: &'a Path,
    /// The source's application check.
    pub check: Option<&'a DrillCheck>,
    /// Keep the restored files.
    pub keep: bool,
    /// The source's size (bytes of its newest generation), for the
    /// projection.
    pub whole_bytes: Option<u64>,
    /// The source's recovery-time target.
    pub rto: Option<time::Duration>,
    /// Time already spent getting the data off the medium before the
    /// restore (a tape set read into a staging folder): it counts in the
    /// time to the first file, the restore's time and its throughput.
    pub before: Duration,
}

/// What a drill measured and found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DrillStats {
    /// Seconds from the start to the first file's first bytes written.
    pub first_file_secs: Option<f64>,
    /// Seconds the restore took.
    pub restore_secs: f64,
    /// Seconds the whole drill took (restore, checks, application check).
    pub seconds: f64,
    /// Content bytes restored.
    pub bytes: u64,
    /// Bytes per second of the restore.
    pub throughput: f64,
    /// Files checked against the snapshot.
    pub files_checked: u64,
    /// What failed (empty: the drill passed).
    pub failures: Vec<DrillFailure>,
    /// The application check's outcome, when the source has one.
    pub app_check: Option<AppCheck>,
    /// What the application check did.
    pub app_check_run: Option<HookOutcome>,
    /// Seconds a restore of the whole source would take at this throughput.
    pub projected_secs: Option<f64>,
    /// The recovery-time target in seconds, if the source has one.
    pub rto_secs: Option<f64>,
    /// Whether the restored files were kept.
    pub kept: bool,
}

impl DrillStats {
    /// Nothing failed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// The projection meets the target (`None`: no target or no
    /// projection).
    pub fn meets_rto(&self) -> Option<bool> {
        Some(self.projected_secs? <= self.rto_secs?)
    }

    /// The figures as the catalog records them.
    pub fn measures(&self, class: MediumClass, source: &str, target: &Path) -> DrillMeasures {
        DrillMeasures {
            kind: class.as_str().to_owned(),
            source: source.to_owned(),
            target: target.display().to_string(),
            first_file_secs: self.first_file_secs,
            bytes: self.bytes,
            throughput: self.throughput,
            files_checked: self.files_checked,
            app_check: self.app_check,
            failures: self.failures.clone(),
            projected_secs: self.projected_secs,
            rto_secs: self.rto_secs,
        }
    }

    /// The failures in one line, for the catalog's `detail`.
    pub fn detail(&self) -> Option<String> {
        if self.failures.is_empty() {
            return None;
        }
        let mut s: Vec<String> = self
            .failures
            .iter()
            .take(10)
            .map(|f| format!("{}: {}", f.what, f.why))
            .collect();
        if self.failures.len() > 10 {
            s.push(format!("… {} more", self.failures.len() - 10));
        }
        Some(s.join("; "))
    }
}

/// Records when the first bytes were written.
struct FirstBytes<'a> {
    start: Instant,
    first: OnceLock<Duration>,
    inner: &'a dyn RestoreProgress,
}

impl RestoreProgress for FirstBytes<'_> {
    fn total(&self, files: u64, bytes: u64) {
        self.inner.total(files, bytes);
    }
    fn written(&self, bytes: u64) {
        if bytes > 0 {
            let _ = self.first.set(self.start.elapsed());
        }
        self.inner.written(bytes);
    }
}

/// Run one drill ([`DrillRun`]); `progress` is told of the restore's
/// total and the bytes written as it goes (a progress bar). Never fails:
/// what went wrong is in [`DrillStats::failures`].
pub fn run(d: &DrillRun<'_>, progress: &dyn RestoreProgress) -> DrillStats {
    let now = Instant::now();
    let start = now.checked_sub(d.before).unwrap_or(now);
    let mut stats = DrillStats {
        rto_secs: d.rto.map(|r| r.as_seconds_f64()),
        kept: d.keep,
        ..DrillStats::default()
    };
    let progress = FirstBytes {
        start,
        first: OnceLock::new(),
        inner: progress,
    };
    let restored = d.repo.restore(
        d.snapshot,
        &RestoreOptions {
            target: d.target.to_owned(),
            include: Vec::new(),
            overwrite: false,
        },
        &progress,
    );
    stats.restore_secs = start.elapsed().as_secs_f64();
    stats.first_file_secs = progress.first.get().map(Duration::as_secs_f64);
    let mut not_restored = std::collections::BTreeSet::new();
    match restored {
        Ok(st) => {
            stats.bytes = st.bytes;
            for (path, why) in st.errors {
                not_restored.insert(PathBuf::from(&path));
                stats.failures.push(DrillFailure { what: path, why });
            }
        }
        Err(e) => stats.failures.push(DrillFailure {
            what: format!("snapshot {}", d.snapshot.short()),
            why: chain(&e),
        }),
    }
    if stats.restore_secs > 0.0 {
        stats.throughput = stats.bytes as f64 / stats.restore_secs;
    }
    if stats.throughput > 0.0 {
        stats.projected_secs = d.whole_bytes.map(|b| b as f64 / stats.throughput);
    }
    compare(d, &not_restored, &mut stats);
    stats.app_check = d.check.map(|check| {
        if !stats.failures.is_empty() {
            return AppCheck::NotRun;
        }
        let cmd = with_target(&check.check, d.target);
        let timeout = Duration::from_secs_f64(check.timeout.as_seconds_f64().max(0.0));
        let out = hooks::run(&cmd, timeout);
        let outcome = if out.ok {
            AppCheck::Passed
        } else if out.timed_out {
            AppCheck::TimedOut
        } else {
            AppCheck::Failed
        };
        if !out.ok {
            let why = match (&out.spawn_error, out.timed_out, out.exit_code) {
                (Some(e), _, _) => format!("{}: could not start: {e}", out.command),
                (None, true, _) => format!(
                    "{}: still running after {} and stopped",
                    out.command,
                    hokan_offline::span::format(check.timeout)
                ),
                (None, false, code) => format!(
                    "{}: exit {}{}",
                    out.command,
                    code.map_or("by a signal".to_owned(), |c| c.to_string()),
                    if out.output_tail.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", last_line(&out.output_tail))
                    }
                ),
            };
            stats.failures.push(DrillFailure {
                what: "check".into(),
                why,
            });
        }
        stats.app_check_run = Some(out);
        outcome
    });
    if !d.keep {
        if let Err(e) = std::fs::remove_dir_all(d.target) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("drill: cannot remove {}: {e}", d.target.display());
                stats.kept = true;
            }
        }
    }
    stats.seconds = start.elapsed().as_secs_f64();
    stats
}

/// An error with its causes, for a person.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn last_line(s: &str) -> &str {
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("")
}

/// `cmd` with `{target}` replaced by the scratch folder.
pub fn with_target(cmd: &hokan_site::Command, target: &Path) -> hokan_site::Command {
    let t = target.display().to_string();
    match cmd {
        hokan_site::Command::Argv(v) => {
            hokan_site::Command::Argv(v.iter().map(|a| a.replace("{target}", &t)).collect())
        }
        hokan_site::Command::Shell(s) => hokan_site::Command::Shell(s.replace("{target}", &t)),
    }
}

/// Every entry of the snapshot against what was restored: files by size,
/// permission bits and modification time; folders by permission bits;
/// symbolic links by target. Files the restore already named are skipped.
fn compare(
    d: &DrillRun<'_>,
    not_restored: &std::collections::BTreeSet<PathBuf>,
    stats: &mut DrillStats,
) {
    let mut entries = Vec::new();
    let walked = d
        .repo
        .read_snapshot(&d.snapshot.to_hex())
        .and_then(|s| d.repo.walk(&s.tree, Path::new(""), &mut entries));
    if let Err(e) = walked {
        if stats.failures.is_empty() {
            stats.failures.push(DrillFailure {
                what: format!("snapshot {}", d.snapshot.short()),
                why: chain(&e),
            });
        }
        return;
    }
    for e in entries {
        if not_restored.contains(&e.rel) {
            continue;
        }
        let what = e.rel.display().to_string();
        let path = d.target.join(&e.rel);
        let mut fail = |why: String| {
            stats.failures.push(DrillFailure {
                what: what.clone(),
                why,
            })
        };
        let m = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(err) => {
                fail(format!("not restored: {err}"));
                continue;
            }
        };
        let mode = m.permissions().mode() & 0o7777;
        match e.node.kind {
            NodeKind::File => {
                stats.files_checked += 1;
                if !m.is_file() {
                    fail("not a file".into());
                    continue;
                }
                if m.len() != e.node.size {
                    fail(format!("size {} instead of {}", m.len(), e.node.size));
                }
                if mode != e.node.mode & 0o7777 {
                    fail(format!(
                        "mode {mode:o} instead of {:o}",
                        e.node.mode & 0o7777
                    ));
                }
                let mtime = m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128;
                if mtime != e.node.mtime_ns as i128 {
                    fail("modification time differs from the snapshot's".into());
                }
            }
            NodeKind::Dir => {
                if !m.is_dir() {
                    fail("not a folder".into());
                } else if mode != e.node.mode & 0o7777 {
                    fail(format!(
                        "mode {mode:o} instead of {:o}",
                        e.node.mode & 0o7777
                    ));
                }
            }
            NodeKind::Symlink => {
                let want = hokan_repo::meta::node_target(&e.node);
                match std::fs::read_link(&path) {
                    Ok(t) if t.as_os_str().as_bytes() == want.as_slice() => {}
                    Ok(_) => fail("link target differs from the snapshot's".into()),
                    Err(err) => fail(format!("not a symbolic link: {err}")),
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_repo::{backup, new_repo};

    fn drill_into<'a>(
        repo: &'a Repository,
        id: &'a Id,
        target: &'a Path,
        check: Option<&'a DrillCheck>,
    ) -> DrillRun<'a> {
        DrillRun {
            repo,
            snapshot: id,
            target,
            check,
            keep: false,
            whole_bytes: Some(10_000_000),
            rto: Some(time::Duration::hours(24)),
            before: Duration::ZERO,
        }
    }

    fn sh(script: &str, timeout: time::Duration) -> DrillCheck {
        DrillCheck {
            check: hokan_site::Command::Shell(script.into()),
            timeout,
        }
    }

    #[test]
    fn an_intact_generation_passes_is_measured_and_its_scratch_folder_goes() {
        let (dir, repo) = new_repo();
        let id = backup(&repo, "emr", "2026-11-20T22:00:00Z");
        let target = dir.path().join("drill");
        // The check sees the restored files under {target}.
        let check = sh(
            "grep -rq 'emr 2026-11-20' {target}",
            time::Duration::minutes(1),
        );
        let st = run(
            &drill_into(&repo, &id, &target, Some(&check)),
            &hokan_repo::NoProgress,
        );
        assert!(st.ok(), "{:?}", st.failures);
        assert_eq!(st.files_checked, 1);
        assert_eq!(st.bytes, "emr 2026-11-20T22:00:00Z\n".len() as u64);
        assert!(st.first_file_secs.is_some_and(|f| f <= st.restore_secs));
        assert!(st.throughput > 0.0);
        let projected = st.projected_secs.unwrap();
        assert!((projected - 10_000_000.0 / st.throughput).abs() < 1e-6);
        assert_eq!(st.rto_secs, Some(86_400.0));
        assert_eq!(st.app_check, Some(AppCheck::Passed));
        assert!(!target.exists(), "the scratch folder is removed");
        // Kept when asked.
        let mut d = drill_into(&repo, &id, &target, None);
        d.keep = true;
        let st = run(&d, &hokan_repo::NoProgress);
        assert!(st.ok() && st.kept && target.exists());
        assert_eq!(st.app_check, None);
    }

    #[test]
    fn bytes_flipped_in_a_pack_fail_the_drill_naming_the_pack() {
        let (dir, repo) = new_repo();
        let id = backup(&repo, "emr", "2026-11-20T22:00:00Z");
        let mut packs = Vec::new();
        for d in std::fs::read_dir(dir.path().join("repo/data")).unwrap() {
            for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
                packs.push(f.unwrap().path());
            }
        }
        assert!(!packs.is_empty());
        // Each pack in turn (one holds the file's bytes, one the folder
        // listing): bytes flipped all through it fail the drill, naming it.
        let target = dir.path().join("drill");
        let check = sh("true", time::Duration::minutes(1));
        for p in &packs {
            let good = std::fs::read(p).unwrap();
            let mut bad = good.clone();
            for i in (0..bad.len()).step_by(16) {
                bad[i] ^= 0x01;
            }
            std::fs::write(p, &bad).unwrap();
            // Opened afresh, as a drill opens the medium's repository.
            let store = std::sync::Arc::new(hokan_store::LocalStore::new(dir.path().join("repo")));
            let repo = Repository::open(store, crate::test_repo::PW).unwrap();
            let st = run(
                &drill_into(&repo, &id, &target, Some(&check)),
                &hokan_repo::NoProgress,
            );
            std::fs::write(p, &good).unwrap();
            assert!(!st.ok());
            let name = p.file_name().unwrap().to_string_lossy();
            let detail = st.detail().unwrap();
            assert!(
                detail.contains(&format!("pack {}", &name[..8]))
                    && detail.contains("authentication failed"),
                "{detail}"
            );
            assert_eq!(st.app_check, Some(AppCheck::NotRun));
            assert!(!target.exists());
        }
        let st = run(
            &drill_into(&repo, &id, &target, Some(&check)),
            &hokan_repo::NoProgress,
        );
        assert!(st.ok(), "{:?}", st.failures);
    }

    #[test]
    fn a_failing_or_slow_check_fails_the_drill() {
        let (dir, repo) = new_repo();
        let id = backup(&repo, "emr", "2026-11-20T22:00:00Z");
        let target = dir.path().join("drill");
        let check = sh(
            "echo 'pg_restore: invalid dump' >&2; exit 3",
            time::Duration::minutes(1),
        );
        let st = run(
            &drill_into(&repo, &id, &target, Some(&check)),
            &hokan_repo::NoProgress,
        );
        assert_eq!(st.app_check, Some(AppCheck::Failed));
        assert_eq!(st.failures.len(), 1);
        assert_eq!(st.failures[0].what, "check");
        assert!(
            st.failures[0]
                .why
                .contains("exit 3: pg_restore: invalid dump"),
            "{:?}",
            st.failures
        );
        let slow = sh("sleep 30", time::Duration::seconds(1));
        let st = run(
            &drill_into(&repo, &id, &target, Some(&slow)),
            &hokan_repo::NoProgress,
        );
        assert_eq!(st.app_check, Some(AppCheck::TimedOut));
        assert!(st.failures[0].why.contains("stopped"), "{:?}", st.failures);
        assert!(st.seconds < 20.0, "stopped at its timeout: {}", st.seconds);
    }

    #[test]
    fn a_scratch_folder_inside_or_holding_a_source_or_not_empty_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("srv/emr");
        std::fs::create_dir_all(&src).unwrap();
        let paths = vec![src.clone()];
        let sources = || [("emr", paths.as_slice())];
        for bad in [
            src.join("drill"),
            dir.path().join("srv"),
            src.join("x/../y"),
        ] {
            let e = check_target(&bad, sources()).unwrap_err();
            assert!(
                matches!(&e, JobError::DrillTargetInSource { source_name, .. } if source_name == "emr"),
                "{bad:?}: {e:?}"
            );
        }
        let full = dir.path().join("full");
        std::fs::create_dir_all(&full).unwrap();
        std::fs::write(full.join("f"), "x").unwrap();
        assert!(matches!(
            check_target(&full, sources()),
            Err(JobError::DrillTargetNotEmpty { .. })
        ));
        check_target(&dir.path().join("scratch"), sources()).unwrap();
    }
}
