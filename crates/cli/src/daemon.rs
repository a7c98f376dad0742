//! `hokan daemon`: runs the night on the site's schedule.
//!
//! The scheduling decisions are `hokan-daemon`'s and the site's part (the
//! configuration kept in force, the catalog's night history, the marker
//! that lets a restarted daemon record a killed night as interrupted, the
//! dead-man alert, retries of the outbox every minute, the test clock
//! `HOKAN_CLOCK_FILE`) is `hokan_jobs::daemon`'s. This file gives them the
//! process: a night is a child `hokan run` (which dies with the daemon: a
//! killed daemon leaves no orphan writing), and the person reads the
//! errors that stop the daemon from starting in their language.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitStatus};
use std::sync::Arc;

use hokan_daemon::{Outcome, Signals};
use hokan_jobs::daemon::{DaemonClock, SiteNight, StartNight};
use hokan_jobs::JobError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ctx::load;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

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
    let start = Arc::new(ChildNight { g: g.clone(), lang });
    let mut night = SiteNight::new(&original, g.catalog.clone(), DaemonClock::from_env(), start)
        .map_err(|e| failure(lang, &e))?;
    let _lock = night.single_instance().map_err(|e| match e {
        JobError::PoolBusy { lock, .. } => busy(lang, &lock),
        e => failure(lang, &e),
    })?;
    let signals = Signals::register().map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    night.serve(&signals);
    Ok(exit::OK)
}

/// A second daemon on the same catalog (exit 6), naming the lock and the
/// pid of the daemon that holds it.
fn busy(lang: Lang, lock: &Path) -> Failure {
    let holder = fs::read_to_string(lock).unwrap_or_default();
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
            lock.display(),
            holder.trim()
        ),
    )
}

/// What stops the daemon from starting, as the person reads it: a
/// configuration that cannot be taken in force is exit 10.
fn failure(lang: Lang, e: &JobError) -> Failure {
    match e {
        JobError::Site(e) => Failure::new(exit::CONFIG, e.render(lang == Lang::Ja)),
        JobError::SitePolicy { path, source } => {
            Failure::new(exit::CONFIG, format!("{}: {source}", path.display()))
        }
        JobError::InForceCopy { path, source } => {
            Failure::new(exit::CONFIG, format!("{}: {source}", path.display()))
        }
        e => crate::job_error::failure(lang, e),
    }
}

/// A night as a child `hokan run`: the same site (the copy in force),
/// catalog, language and passphrase; the daemon's clock when it is a test
/// clock. It dies with the daemon (PR_SET_PDEATHSIG), as an in-process
/// job would.
struct ChildNight {
    g: Global,
    lang: Lang,
}

impl StartNight for ChildNight {
    fn command(&self, config: &Path, now: Option<OffsetDateTime>) -> Process {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("hokan"));
        let mut c = crate::night::hokan_child(&exe, &self.g, self.lang, Some(config));
        if let Some(now) = now {
            c.arg("--now").arg(now.format(&Rfc3339).unwrap_or_default());
        }
        c.arg("run");
        c
    }

    /// `hokan run`'s exit code: a night that ran every step is done even
    /// when the site is not compliant (exit 9).
    fn outcome(&self, status: ExitStatus) -> Outcome {
        match status.code() {
            Some(exit::OK) | Some(exit::NOT_COMPLIANT) => Outcome::Done,
            Some(exit::PARTIAL) => Outcome::Partial,
            _ => Outcome::Failed,
        }
    }
}
