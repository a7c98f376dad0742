//! `hokan daemon`: runs the night on the site's schedule.
//!
//! The scheduling decisions are `hokan-daemon`'s; this file gives them the
//! site: the schedule from hokan.toml, the catalog's night history, a
//! night run as a child `hokan run` (which dies with the daemon: a killed
//! daemon leaves no orphan writing), the marker file that lets a restarted
//! daemon record a killed night as interrupted, the lock that keeps a
//! second daemon off the same catalog, and the notifications (the dead-man
//! alert, retries of the outbox every minute).
//!
//! For tests, `HOKAN_CLOCK_FILE` names a file holding the current time
//! (RFC 3339): the daemon reads its clock from it and passes that time to
//! the nights it runs, so a simulated week takes seconds.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use hokan_catalog::{Catalog, Event};
use hokan_daemon::{serve, Clock, FileClock, Job, Night, Outcome, Settings, Signals, SystemClock};
use hokan_notify::outbox::{self, Select};
use hokan_notify::Notice;
use hokan_site::Site;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::ctx::{load, SiteConf};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

/// The file beside the catalog that says a night is running (written when
/// it starts, removed when it ends): found at start, it is a night a killed
/// daemon left behind.
const RUNNING: &str = "hokan-night.running";

/// `hokan daemon`.
pub fn run(g: &Global, lang: Lang) -> Result<i32, Failure> {
    let conf = load(g, lang, true)?;
    let original = conf.config.clone().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            t(
                lang,
                "hokan daemon needs a hokan.toml (--config, HOKAN_CONFIG or ./hokan.toml)",
                "hokan daemon には hokan.toml が必要です（--config、HOKAN_CONFIG、または ./hokan.toml）",
            ),
        )
    })?;
    let (conf, in_force) =
        take_in_force(g, lang, &original).map_err(|m| Failure::new(exit::CONFIG, m))?;
    let site = loaded(&conf, lang)?;
    let catalog = match &g.catalog {
        Some(p) => p.clone(),
        None => conf.catalog.clone().ok_or_else(|| {
            Failure::new(
                exit::CONFIG,
                t(
                    lang,
                    "hokan daemon needs a catalog: set [site] catalog in hokan.toml",
                    "hokan daemon にはカタログが必要です。hokan.toml の [site] catalog を設定してください",
                ),
            )
        })?,
    };
    let dir = catalog
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let _lock = single_instance(&dir, lang)?;
    let clock: Arc<dyn Clock> = match std::env::var_os("HOKAN_CLOCK_FILE") {
        Some(p) => {
            tracing::warn!(file = ?p, "the clock is read from a file (HOKAN_CLOCK_FILE): for tests only");
            Arc::new(FileClock::new(p))
        }
        None => Arc::new(SystemClock),
    };
    let signals = Signals::register().map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    let mut night = SiteNight {
        g: g.clone(),
        lang,
        conf,
        original,
        in_force,
        site,
        catalog,
        marker: dir.join(RUNNING),
        clock: Arc::clone(&clock),
        file_clock: std::env::var_os("HOKAN_CLOCK_FILE").is_some(),
    };
    tracing::info!(
        schedule = %night.site.schedule().map(|c| c.to_string()).unwrap_or_default(),
        "hokan daemon started"
    );
    // The outbox is retried every minute, whatever the nights do.
    flush_in_background(&night, Arc::clone(&clock), signals.clone());
    let ran = serve(&mut night, clock.as_ref(), &signals);
    tracing::info!(nights = ran, "hokan daemon stopped");
    Ok(exit::OK)
}

fn loaded(conf: &SiteConf, lang: Lang) -> Result<Site, Failure> {
    conf.loaded.clone().ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            t(
                lang,
                "hokan daemon needs a hokan.toml (--config, HOKAN_CONFIG or ./hokan.toml)",
                "hokan daemon には hokan.toml が必要です（--config、HOKAN_CONFIG、または ./hokan.toml）",
            ),
        )
    })
}

/// Hold `hokan-daemon.lock` beside the catalog for as long as the daemon
/// runs; a second daemon on the same catalog is refused (exit 6).
fn single_instance(dir: &Path, lang: Lang) -> Result<hokan_jobs::PoolLock, Failure> {
    let path = dir.join("hokan-daemon.lock");
    hokan_jobs::PoolLock::take_file(&path, "daemon").map_err(|e| match e {
        hokan_jobs::JobError::PoolBusy { .. } => {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            Failure::new(
                exit::LOCKED,
                format!(
                    "{} ({}: {}, pid {})",
                    t(
                        lang,
                        "another hokan daemon is running on this catalog; stop it first (systemctl stop hokan)",
                        "このカタログでは別の hokan daemon が動いています。先に停止してください（systemctl stop hokan）",
                    ),
                    t(lang, "lock", "ロック"),
                    path.display(),
                    holder.trim()
                ),
            )
        }
        e => crate::job_error::failure(lang, &e),
    })
}

/// Read the configuration in `original` and keep a copy of it in force
/// beside it (`.NAME.in-force`): the nights run with that copy, so a file
/// edited (or broken) since the last good load never reaches a night
/// before SIGHUP accepts it. Where the folder cannot be written, the
/// nights read `original` itself (logged).
fn take_in_force(g: &Global, lang: Lang, original: &Path) -> Result<(SiteConf, PathBuf), String> {
    let text = fs::read(original).map_err(|e| format!("{}: {e}", original.display()))?;
    let dir = original.parent().unwrap_or(Path::new("."));
    let name = original
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hokan.toml".into());
    let in_force = dir.join(format!(".{name}.in-force"));
    let candidate = dir.join(format!(".{name}.candidate"));
    if let Err(e) = fs::write(&candidate, &text) {
        tracing::warn!(folder = %dir.display(), error = %e, "no copy of the configuration in force can be kept: nights read hokan.toml as it is then");
        let mut g = g.clone();
        g.config = Some(original.to_owned());
        let conf = load(&g, lang, true).map_err(|f| f.message)?;
        return Ok((conf, original.to_owned()));
    }
    // The copy is as private as the file people edit.
    if let Ok(meta) = fs::metadata(original) {
        let _ = fs::set_permissions(&candidate, meta.permissions());
    }
    let mut g = g.clone();
    g.config = Some(candidate.clone());
    match load(&g, lang, true) {
        Ok(mut conf) => {
            fs::rename(&candidate, &in_force)
                .map_err(|e| format!("{}: {e}", in_force.display()))?;
            conf.config = Some(in_force.clone());
            Ok((conf, in_force))
        }
        Err(f) => {
            let _ = fs::remove_file(&candidate);
            Err(f.message.replace(
                &candidate.display().to_string(),
                &original.display().to_string(),
            ))
        }
    }
}

struct SiteNight {
    g: Global,
    lang: Lang,
    conf: SiteConf,
    /// The file people edit.
    original: PathBuf,
    /// The copy the nights run with (see [`take_in_force`]).
    in_force: PathBuf,
    site: Site,
    catalog: PathBuf,
    marker: PathBuf,
    clock: Arc<dyn Clock>,
    file_clock: bool,
}

impl SiteNight {
    fn offset(&self) -> UtcOffset {
        self.conf.offset.unwrap_or(UtcOffset::UTC)
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

    fn nights(&self) -> Vec<hokan_catalog::JobRow> {
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
        if self.site.notify().is_empty() {
            return;
        }
        let now = self.clock.now();
        let Some(mut cat) = self.open_catalog(true) else {
            return;
        };
        let raised =
            hokan_jobs::notices::raise(&mut cat, &self.site, vec![notice], now, self.offset());
        if let Err(e) = raised {
            tracing::error!(error = %e, "a notice could not be queued or sent");
        }
    }

    /// The child `hokan run` of a night: the same site, catalog, language
    /// and passphrase; the daemon's clock when it is a test clock. It dies
    /// with the daemon (PR_SET_PDEATHSIG), as an in-process job would.
    fn child(&self) -> Process {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("hokan"));
        let mut c = crate::night::hokan_child(&exe, &self.g, self.lang, Some(&self.in_force));
        if self.file_clock {
            c.arg("--now")
                .arg(self.clock.now().format(&Rfc3339).unwrap_or_default());
        }
        c.arg("run");
        c
    }
}

impl Night for SiteNight {
    fn settings(&self) -> Settings {
        Settings {
            schedule: self.site.schedule().cloned(),
            expect_done_by: self.site.expect_done_by(),
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
        let now = self.clock.now().max(started);
        let recorded = cat.record(
            now,
            "daemon",
            Event::JobFinished {
                job: "night".into(),
                target: self.site.name().to_owned(),
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
        let started = self.clock.now();
        // A night caught up after its deadline passed (the server was off)
        // did not run when it should have: people are told.
        if let (true, Some(by)) = (catch_up, self.site.expect_done_by()) {
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
        let mut child = self.child();
        Box::new(move || match child.status() {
            Ok(s) => match s.code() {
                Some(0) | Some(exit::NOT_COMPLIANT) => Outcome::Done,
                Some(exit::PARTIAL) => Outcome::Partial,
                _ => Outcome::Failed,
            },
            Err(e) => {
                tracing::error!(error = %e, "hokan run could not be started");
                Outcome::Failed
            }
        })
    }

    fn reload(&mut self) -> Result<(), String> {
        let (conf, in_force) = take_in_force(&self.g, self.lang, &self.original)?;
        let site = loaded(&conf, self.lang).map_err(|f| f.message)?;
        self.conf = conf;
        self.in_force = in_force;
        self.site = site;
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

/// Every minute (real time), send what the outbox has due, until stopped.
fn flush_in_background(night: &SiteNight, clock: Arc<dyn Clock>, signals: Signals) {
    let catalog = night.catalog.clone();
    let targets = night.site.notify().to_vec();
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
