//! The daemon's site: what `hokan daemon` (and later the vault and the
//! dashboard) hands `hokan-daemon`'s scheduler as its [`Night`].
//!
//! `hokan-daemon` decides *when* a night runs; [`SiteNight`] gives it the
//! site:
//!
//! - the schedule, `expect_done_by` and time zone of hokan.toml, read from
//!   a copy kept in force beside it ([`take_in_force`]): the nights run
//!   with that copy, so a file edited (or broken) since the last good load
//!   never reaches a night before SIGHUP accepts it;
//! - the catalog's night history (when the last night started);
//! - the marker file [`RUNNING`] beside the catalog, written when a night
//!   starts and removed when it ends: found at start, it is a night a
//!   killed daemon left behind, recorded as `interrupted`;
//! - the dead-man notice (`night-missed`, through [`crate::notices::raise`])
//!   and the outbox retried every minute ([`flush_in_background`]);
//! - the lock that keeps a second daemon off the catalog
//!   ([`single_instance`]).
//!
//! How a night is started is the caller's ([`StartNight`]): `hokan daemon`
//! runs a child `hokan run` that dies with it; this module writes the
//! marker, runs the command on the night's thread and turns its exit
//! status into an [`Outcome`] through the caller.
//!
//! Time comes from a [`DaemonClock`]: the system's, or for tests the file
//! that [`CLOCK_FILE`] names, whose time the nights are given as well.
//!
//! Nothing here prints; what goes wrong while the daemon runs is logged
//! (`tracing`) for operators, and what stops it from starting is a
//! [`JobError`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use hokan_catalog::{Catalog, Event, JobRow};
use hokan_daemon::{Clock, FileClock, Job, Night, Outcome, Settings, Signals, SystemClock};
use hokan_notify::outbox::{self, Select};
use hokan_notify::Notice;
use hokan_site::{Site, SiteError};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::{JobError, PoolLock};

/// The file beside the catalog that says a night is running (written when
/// it starts, removed when it ends): found at start, it is a night a killed
/// daemon left behind.
pub const RUNNING: &str = "hokan-night.running";

/// The lock file beside the catalog a daemon holds while it runs.
pub const LOCK: &str = "hokan-daemon.lock";

/// The environment variable naming a file that holds the current time
/// (RFC 3339), for tests: the daemon reads its clock from it and passes
/// that time to the nights it runs, so a simulated week takes seconds.
pub const CLOCK_FILE: &str = "HOKAN_CLOCK_FILE";

/// How a night is started: the process-specific part of a daemon.
///
/// `hokan daemon` gives the command of a child `hokan run` (its language,
/// catalog, passphrase file and repository, killed with the daemon).
pub trait StartNight: Send + Sync {
    /// The command that runs one night with the configuration at `config`
    /// (the copy in force); `now`: the time the night must take as its
    /// own, when the daemon's clock is simulated.
    fn command(&self, config: &Path, now: Option<OffsetDateTime>) -> Command;
    /// How the night ended, from the command's exit status.
    fn outcome(&self, status: ExitStatus) -> Outcome;
}

/// The daemon's clock, and whether it is simulated (then the nights are
/// told its time).
#[derive(Clone)]
pub struct DaemonClock {
    clock: Arc<dyn Clock>,
    simulated: bool,
}

impl DaemonClock {
    /// The system's clock.
    pub fn system() -> DaemonClock {
        DaemonClock {
            clock: Arc::new(SystemClock),
            simulated: false,
        }
    }

    /// A clock of the caller's (a test's): the nights are given its time.
    pub fn simulated(clock: Arc<dyn Clock>) -> DaemonClock {
        DaemonClock {
            clock,
            simulated: true,
        }
    }

    /// The file [`CLOCK_FILE`] names if it is set (logged: for tests only),
    /// else the system's clock.
    pub fn from_env() -> DaemonClock {
        match std::env::var_os(CLOCK_FILE) {
            Some(p) => {
                tracing::warn!(file = ?p, "the clock is read from a file (HOKAN_CLOCK_FILE): for tests only");
                DaemonClock::simulated(Arc::new(FileClock::new(p)))
            }
            None => DaemonClock::system(),
        }
    }

    /// The clock itself.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Whether the nights are given this clock's time.
    pub fn is_simulated(&self) -> bool {
        self.simulated
    }
}

/// The configuration in force: the site as loaded and the file the nights
/// run with.
#[derive(Clone, Debug)]
pub struct InForce {
    /// The site, checked (its offline policy included).
    pub site: Site,
    /// The copy beside the original (`.NAME.in-force`), or the original
    /// itself when its folder cannot be written.
    pub path: PathBuf,
}

/// Read the configuration in `original` and keep a copy of it in force
/// beside it (`.NAME.in-force`, as private as `original`): the nights run
/// with that copy, so a file edited (or broken) since the last good load
/// never reaches a night before it is taken again. A file with mistakes
/// leaves the previous copy as it was (the error names `original`). Where
/// the folder cannot be written, the nights read `original` itself
/// (logged).
pub fn take_in_force(original: &Path) -> Result<InForce, JobError> {
    let text = fs::read(original).map_err(|source| {
        let path = original.to_owned();
        JobError::Site(if source.kind() == std::io::ErrorKind::NotFound {
            SiteError::Missing { path, source }
        } else {
            SiteError::Unreadable { path, source }
        })
    })?;
    let dir = original.parent().unwrap_or(Path::new("."));
    let name = original
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hokan.toml".into());
    let in_force = dir.join(format!(".{name}.in-force"));
    let candidate = dir.join(format!(".{name}.candidate"));
    if let Err(e) = fs::write(&candidate, &text) {
        tracing::warn!(folder = %dir.display(), error = %e, "no copy of the configuration in force can be kept: nights read hokan.toml as it is then");
        let site = checked(original, original)?;
        return Ok(InForce {
            site,
            path: original.to_owned(),
        });
    }
    // The copy is as private as the file people edit.
    if let Ok(meta) = fs::metadata(original) {
        let _ = fs::set_permissions(&candidate, meta.permissions());
    }
    match checked(&candidate, original) {
        Ok(site) => {
            fs::rename(&candidate, &in_force).map_err(|source| JobError::InForceCopy {
                path: in_force.clone(),
                source,
            })?;
            Ok(InForce {
                site,
                path: in_force,
            })
        }
        Err(e) => {
            let _ = fs::remove_file(&candidate);
            Err(e)
        }
    }
}

/// Load and check the site at `path`; errors name `shown` (the file people
/// edit, not the candidate copy).
fn checked(path: &Path, shown: &Path) -> Result<Site, JobError> {
    let site = hokan_site::load(path).map_err(|mut e| {
        match &mut e {
            SiteError::Missing { path, .. }
            | SiteError::Unreadable { path, .. }
            | SiteError::NotUtf8 { path, .. }
            | SiteError::Invalid { file: path, .. } => *path = shown.to_owned(),
            _ => {}
        }
        JobError::Site(e)
    })?;
    site.policy().map_err(|source| JobError::SitePolicy {
        path: shown.to_owned(),
        source,
    })?;
    Ok(site)
}

/// The folder of `catalog` (`.` for a bare file name).
fn folder_of(catalog: &Path) -> PathBuf {
    catalog
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Hold [`LOCK`] beside `catalog` for as long as the lock lives; a second
/// daemon on the same catalog gets [`JobError::PoolBusy`] (pool `daemon`).
pub fn single_instance(catalog: &Path) -> Result<PoolLock, JobError> {
    PoolLock::take_file(&folder_of(catalog).join(LOCK), "daemon")
}

/// The site a daemon runs nights for: hokan-daemon's [`Night`].
pub struct SiteNight {
    /// The file people edit.
    original: PathBuf,
    /// The configuration the nights run with (see [`take_in_force`]).
    in_force: InForce,
    catalog: PathBuf,
    marker: PathBuf,
    clock: DaemonClock,
    start: Arc<dyn StartNight>,
}

impl SiteNight {
    /// The site of the configuration `original` (taken in force, see
    /// [`take_in_force`]), its catalog (`catalog`, else the one hokan.toml
    /// names), nights started by `start`, time from `clock`.
    pub fn new(
        original: &Path,
        catalog: Option<PathBuf>,
        clock: DaemonClock,
        start: Arc<dyn StartNight>,
    ) -> Result<SiteNight, JobError> {
        let in_force = take_in_force(original)?;
        let catalog = catalog.unwrap_or_else(|| in_force.site.catalog_path().to_owned());
        let marker = folder_of(&catalog).join(RUNNING);
        Ok(SiteNight {
            original: original.to_owned(),
            in_force,
            catalog,
            marker,
            clock,
            start,
        })
    }

    /// The site as in force.
    pub fn site(&self) -> &Site {
        &self.in_force.site
    }

    /// The configuration file the nights run with.
    pub fn in_force(&self) -> &Path {
        &self.in_force.path
    }

    /// The catalog.
    pub fn catalog(&self) -> &Path {
        &self.catalog
    }

    /// The marker file ([`RUNNING`]) beside the catalog.
    pub fn marker(&self) -> &Path {
        &self.marker
    }

    /// Take the daemon's lock beside the catalog ([`single_instance`]).
    pub fn single_instance(&self) -> Result<PoolLock, JobError> {
        single_instance(&self.catalog)
    }

    /// Run nights on schedule until `signals` ask for a stop, retrying the
    /// outbox every minute meanwhile. Returns how many nights ran.
    pub fn serve(&mut self, signals: &Signals) -> usize {
        tracing::info!(
            schedule = %self.site().schedule().map(|c| c.to_string()).unwrap_or_default(),
            "hokan daemon started"
        );
        flush_in_background(
            self.catalog.clone(),
            self.site().notify().to_vec(),
            Arc::clone(&self.clock.clock),
            signals.clone(),
        );
        let clock = Arc::clone(&self.clock.clock);
        let ran = hokan_daemon::serve(self, clock.as_ref(), signals);
        tracing::info!(nights = ran, "hokan daemon stopped");
        ran
    }

    fn offset(&self) -> UtcOffset {
        self.site().timezone().unwrap_or(UtcOffset::UTC)
    }

    /// The catalog; `create`: make it if missing (a first night killed
    /// before it wrote anything is still recorded, as any job would).
    fn open_catalog(&self, create: bool) -> Option<Catalog> {
        if !create && !self.catalog.is_file() {
            return None;
        }
        let opened = if create {
            Catalog::open(&self.catalog)
        } else {
            Catalog::open_existing(&self.catalog)
        };
        match opened {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(catalog = %self.catalog.display(), error = %e, "the catalog cannot be opened");
                None
            }
        }
    }

    fn nights(&self) -> Vec<JobRow> {
        let Some(cat) = self.open_catalog(false) else {
            return Vec::new();
        };
        match cat.jobs(500) {
            Ok(j) => j.into_iter().filter(|j| j.job == "night").collect(),
            Err(e) => {
                tracing::error!(error = %e, "the catalog's jobs cannot be read");
                Vec::new()
            }
        }
    }

    /// Queue a notice for every target and send what is due.
    fn tell(&self, notice: Notice) {
        if self.site().notify().is_empty() {
            return;
        }
        let now = self.clock.clock.now();
        let Some(mut cat) = self.open_catalog(true) else {
            return;
        };
        let raised = crate::notices::raise(&mut cat, self.site(), vec![notice], now, self.offset());
        if let Err(e) = raised {
            tracing::error!(error = %e, "a notice could not be queued or sent");
        }
    }
}

/// `e` with its causes, for a log line.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

impl Night for SiteNight {
    fn settings(&self) -> Settings {
        Settings {
            schedule: self.site().schedule().cloned(),
            expect_done_by: self.site().expect_done_by(),
            offset: self.offset(),
        }
    }

    fn last_started(&mut self) -> Option<OffsetDateTime> {
        self.nights().iter().map(|j| j.started_at).max()
    }

    fn mark_interrupted(&mut self) -> usize {
        let Ok(text) = fs::read_to_string(&self.marker) else {
            return 0;
        };
        let left: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let started = left["started_at"]
            .as_str()
            .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok());
        let Some(started) = started else {
            tracing::warn!(file = %self.marker.display(), "an unreadable night marker was removed");
            let _ = fs::remove_file(&self.marker);
            return 0;
        };
        // The night may have recorded itself before the daemon was killed.
        if self.nights().iter().any(|j| j.started_at >= started) {
            let _ = fs::remove_file(&self.marker);
            return 0;
        }
        let Some(mut cat) = self.open_catalog(true) else {
            return 0;
        };
        let now = self.clock.clock.now().max(started);
        let recorded = cat.record(
            now,
            "daemon",
            Event::JobFinished {
                job: "night".into(),
                target: self.site().name().to_owned(),
                started_at: started,
                finished_at: now,
                outcome: "interrupted".into(),
                detail: json!({
                    "interrupted": true,
                    "due": left["due"],
                    "pid": left["pid"],
                    "why": "the daemon running it stopped before it finished (killed, crashed or powered off)",
                }),
            },
        );
        match recorded {
            Ok(_) => {
                let _ = fs::remove_file(&self.marker);
                1
            }
            Err(e) => {
                tracing::error!(error = %e, "the interrupted night could not be recorded");
                0
            }
        }
    }

    fn start(&mut self, due: OffsetDateTime, catch_up: bool) -> Job {
        let started = self.clock.clock.now();
        // A night caught up after its deadline passed (the server was off)
        // did not run when it should have: people are told.
        if let (true, Some(by)) = (catch_up, self.site().expect_done_by()) {
            let expected_by = hokan_daemon::deadline(due, by);
            if started > expected_by {
                self.overdue(due, expected_by);
            }
        }
        let marker = json!({
            "due": due.format(&Rfc3339).unwrap_or_default(),
            "started_at": started.format(&Rfc3339).unwrap_or_default(),
            "pid": std::process::id(),
            "catch_up": catch_up,
        });
        if let Err(e) = fs::write(&self.marker, marker.to_string()) {
            tracing::error!(file = %self.marker.display(), error = %e, "the night marker cannot be written");
        }
        let now = self.clock.simulated.then_some(started);
        let mut command = self.start.command(&self.in_force.path, now);
        let start = Arc::clone(&self.start);
        Box::new(move || match command.status() {
            Ok(s) => start.outcome(s),
            Err(e) => {
                tracing::error!(error = %e, "the night's command could not be started");
                Outcome::Failed
            }
        })
    }

    fn reload(&mut self) -> Result<(), String> {
        self.in_force = take_in_force(&self.original).map_err(|e| with_causes(&e))?;
        Ok(())
    }

    fn overdue(&mut self, _due: OffsetDateTime, deadline: OffsetDateTime) {
        let last_run = self.nights().iter().map(|j| j.finished_at).max();
        self.tell(Notice::NightMissed {
            expected_by: deadline,
            last_run,
        });
    }

    fn finished(&mut self, _due: OffsetDateTime, outcome: &Outcome) {
        let _ = fs::remove_file(&self.marker);
        if *outcome == Outcome::Failed && self.nights().is_empty() {
            tracing::error!("the night failed before it could record itself");
        }
    }
}

/// Every minute (real time), send what the outbox of `catalog` has due to
/// `targets`, on a thread of its own, until `signals` ask for a stop.
/// Nothing to do without targets.
pub fn flush_in_background(
    catalog: PathBuf,
    targets: Vec<hokan_site::Notify>,
    clock: Arc<dyn Clock>,
    signals: Signals,
) {
    if targets.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        while !signals.stopping() {
            for _ in 0..60 {
                if signals.stopping() {
                    return;
                }
                std::thread::sleep(StdDuration::from_secs(1));
            }
            if !catalog.is_file() {
                continue;
            }
            match Catalog::open_existing(&catalog) {
                Ok(mut cat) => {
                    if let Err(e) = outbox::deliver(&mut cat, &targets, Select::Due, clock.now()) {
                        tracing::warn!(error = %e, "the outbox could not be flushed");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the catalog cannot be opened to flush the outbox")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    use hokan_daemon::ManualClock;
    use time::macros::datetime;

    use super::*;

    const GOOD: &str = r#"[site]
name = "daemon-unit"
timezone = "+09:00"
catalog = "catalog.db"
schedule = "*-*-* 22:00"

[repository]
path = "repo"

[[source]]
name = "emr"
paths = ["/srv/emr"]
"#;

    /// Nights that run `true` (exit 0: done, else failed), noting the time
    /// they were given.
    struct True;

    impl StartNight for True {
        fn command(&self, config: &Path, now: Option<OffsetDateTime>) -> Command {
            let mut c = Command::new("true");
            c.arg(config);
            if let Some(now) = now {
                c.arg(now.format(&Rfc3339).unwrap());
            }
            c
        }

        fn outcome(&self, status: ExitStatus) -> Outcome {
            if status.success() {
                Outcome::Done
            } else {
                Outcome::Failed
            }
        }
    }

    fn site(dir: &Path, at: OffsetDateTime) -> SiteNight {
        let original = dir.join("hokan.toml");
        fs::write(&original, GOOD).unwrap();
        let clock = DaemonClock::simulated(Arc::new(ManualClock::new(at)));
        SiteNight::new(&original, None, clock, Arc::new(True)).unwrap()
    }

    fn record_night(catalog: &Path, started: OffsetDateTime, outcome: &str) {
        let mut cat = Catalog::open(catalog).unwrap();
        cat.record(
            started + time::Duration::HOUR,
            "test",
            Event::JobFinished {
                job: "night".into(),
                target: "daemon-unit".into(),
                started_at: started,
                finished_at: started + time::Duration::HOUR,
                outcome: outcome.into(),
                detail: json!({}),
            },
        )
        .unwrap();
    }

    fn nights(catalog: &Path) -> Vec<JobRow> {
        let cat = Catalog::open_existing(catalog).unwrap();
        let mut n: Vec<JobRow> = cat
            .jobs(100)
            .unwrap()
            .into_iter()
            .filter(|j| j.job == "night")
            .collect();
        n.sort_by_key(|j| j.started_at);
        n
    }

    fn leave_marker(night: &SiteNight, started: &str) {
        let marker = json!({"due": "2026-11-16T13:00:00Z", "started_at": started, "pid": 4242, "catch_up": false});
        fs::write(night.marker(), marker.to_string()).unwrap();
    }

    #[test]
    fn a_left_marker_is_recorded_as_an_interrupted_night() {
        let dir = tempfile::tempdir().unwrap();
        let mut night = site(dir.path(), datetime!(2026-11-17 09:00 +09:00));
        assert_eq!(night.catalog(), dir.path().join("catalog.db"));
        assert_eq!(night.marker(), dir.path().join(RUNNING));
        // An older night is in the catalog; the marker's is not.
        record_night(night.catalog(), datetime!(2026-11-15 13:00 UTC), "ok");
        leave_marker(&night, "2026-11-16T13:00:01Z");
        assert_eq!(night.mark_interrupted(), 1);
        assert!(!night.marker().exists());
        let n = nights(night.catalog());
        assert_eq!(n.len(), 2, "{n:?}");
        assert_eq!(n[1].outcome, "interrupted");
        assert_eq!(n[1].started_at, datetime!(2026-11-16 13:00:01 UTC));
        assert_eq!(n[1].target, "daemon-unit");
        assert_eq!(n[1].detail["pid"], 4242);
        assert_eq!(n[1].detail["due"], "2026-11-16T13:00:00Z");
        assert_eq!(night.last_started(), Some(n[1].started_at));
        // Done once: nothing left to mark.
        assert_eq!(night.mark_interrupted(), 0);
        assert_eq!(nights(night.catalog()).len(), 2);
    }

    #[test]
    fn a_killed_first_night_is_recorded_in_a_new_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let mut night = site(dir.path(), datetime!(2026-11-17 09:00 +09:00));
        leave_marker(&night, "2026-11-16T13:00:01Z");
        assert!(!night.catalog().exists());
        assert_eq!(night.mark_interrupted(), 1);
        assert_eq!(nights(night.catalog())[0].outcome, "interrupted");
    }

    #[test]
    fn a_night_that_recorded_itself_is_not_marked_again() {
        for at in ["2026-11-16T13:00:01Z", "2026-11-16T13:00:02Z"] {
            let dir = tempfile::tempdir().unwrap();
            let mut night = site(dir.path(), datetime!(2026-11-17 09:00 +09:00));
            // The night recorded itself (at the marker's start, or later)
            // before the daemon was killed.
            record_night(
                night.catalog(),
                OffsetDateTime::parse(at, &Rfc3339).unwrap(),
                "ok",
            );
            leave_marker(&night, "2026-11-16T13:00:01Z");
            assert_eq!(night.mark_interrupted(), 0, "{at}");
            assert!(!night.marker().exists());
            let n = nights(night.catalog());
            assert_eq!(n.len(), 1);
            assert_eq!(n[0].outcome, "ok");
        }
    }

    #[test]
    fn an_unreadable_marker_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut night = site(dir.path(), datetime!(2026-11-17 09:00 +09:00));
        fs::write(night.marker(), "{not json").unwrap();
        assert_eq!(night.mark_interrupted(), 0);
        assert!(!night.marker().exists());
        assert!(!night.catalog().exists(), "no catalog made for nothing");
    }

    #[test]
    fn a_night_writes_its_marker_runs_its_command_and_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let at = datetime!(2026-11-16 22:00:05 +09:00);
        let mut night = site(dir.path(), at);
        assert_eq!(night.settings().offset, time::macros::offset!(+9));
        let due = datetime!(2026-11-16 22:00 +09:00);
        let job = night.start(due, false);
        let left: Value =
            serde_json::from_str(&fs::read_to_string(night.marker()).unwrap()).unwrap();
        assert_eq!(left["due"], due.format(&Rfc3339).unwrap());
        assert_eq!(left["started_at"], at.format(&Rfc3339).unwrap());
        assert_eq!(left["catch_up"], false);
        assert_eq!(left["pid"], std::process::id());
        let outcome = job();
        assert_eq!(outcome, Outcome::Done);
        night.finished(due, &outcome);
        assert!(!night.marker().exists());
    }

    #[test]
    fn the_copy_in_force_keeps_the_files_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("hokan.toml");
        fs::write(&original, GOOD).unwrap();
        fs::set_permissions(&original, fs::Permissions::from_mode(0o640)).unwrap();
        let taken = take_in_force(&original).unwrap();
        assert_eq!(taken.path, dir.path().join(".hokan.toml.in-force"));
        assert_eq!(taken.site.name(), "daemon-unit");
        assert_eq!(fs::read_to_string(&taken.path).unwrap(), GOOD);
        let mode = fs::metadata(&taken.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert!(!dir.path().join(".hokan.toml.candidate").exists());
    }

    #[test]
    fn a_broken_file_is_refused_and_the_previous_copy_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut night = site(dir.path(), datetime!(2026-11-16 12:00 +09:00));
        let in_force = night.in_force().to_owned();
        let original = dir.path().join("hokan.toml");
        fs::write(&original, "[site\nname = \"broken").unwrap();
        let e = take_in_force(&original).unwrap_err();
        match &e {
            JobError::Site(SiteError::Invalid { file, .. }) => assert_eq!(file, &original),
            other => panic!("{other:?}"),
        }
        assert!(!e.is_transient());
        assert_eq!(fs::read_to_string(&in_force).unwrap(), GOOD);
        assert!(!dir.path().join(".hokan.toml.candidate").exists());
        // A reload says what is wrong, naming the file people edit, and
        // keeps the site in force.
        let said = night.reload().unwrap_err();
        assert!(said.contains(&original.display().to_string()), "{said}");
        assert!(!said.contains("candidate"), "{said}");
        assert_eq!(night.site().name(), "daemon-unit");
        assert!(night.settings().schedule.is_some());
        // A good one replaces it.
        fs::write(&original, GOOD.replace("22:00", "23:00")).unwrap();
        night.reload().unwrap();
        assert!(fs::read_to_string(&in_force).unwrap().contains("23:00"));
    }

    #[test]
    fn a_missing_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = take_in_force(&dir.path().join("hokan.toml")).unwrap_err();
        assert!(
            matches!(e, JobError::Site(SiteError::Missing { .. })),
            "{e:?}"
        );
    }

    #[test]
    fn a_second_daemon_on_the_catalog_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let night = site(dir.path(), datetime!(2026-11-16 12:00 +09:00));
        let held = night.single_instance().unwrap();
        let Err(e) = single_instance(night.catalog()) else {
            panic!("a second lock was taken");
        };
        assert!(
            matches!(e, JobError::PoolBusy { ref lock, .. } if lock == &dir.path().join(LOCK)),
            "{e:?}"
        );
        drop(held);
        single_instance(night.catalog()).unwrap();
    }
}
