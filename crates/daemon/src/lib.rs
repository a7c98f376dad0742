//! hokan's scheduler: *when* the night runs.
//!
//! This crate owns the decisions a long-running `hokan daemon` makes, and
//! nothing about what a night does (that is `hokan-jobs`, reached through
//! the [`Night`] trait):
//!
//! - **When.** The site's `schedule` (a [`hokan_site::Calendar`], read in
//!   the site's time zone) says when a night is due. [`decide`] compares it
//!   with when the last night *started* (from the catalog, so a restarted
//!   daemon remembers): the first occurrence after that start is due once
//!   it has passed.
//! - **Catch up once.** If the server was off over several scheduled
//!   times, only the first missed occurrence is due; once it has run, the
//!   next occurrence is after *now*. A daemon started for the first time on
//!   a site that never ran does not catch up at all: it waits for the next
//!   occurrence.
//! - **One job at a time.** The loop runs one night and waits for it to end
//!   before deciding again; a second daemon on the same catalog is refused
//!   by the front-end's lock, not here.
//! - **A job killed mid-way** (SIGKILL, power loss) is left *started* in the
//!   catalog; [`Night::mark_interrupted`] records it as interrupted when
//!   the daemon starts, and the next night runs normally.
//! - **Dead-man's switch.** With `expect_done_by`, a night still running at
//!   that time of day raises [`Night::overdue`] once (e.g. a notification:
//!   "the night of … has not finished").
//! - **Signals.** SIGHUP re-reads the configuration ([`Night::reload`]); a
//!   file with mistakes is reported and the old configuration kept. SIGTERM
//!   or SIGINT stop the daemon between nights; during a night it lets the
//!   job end first (systemd's stop timeout bounds that).
//!
//! Time comes from a [`Clock`], so tests run a simulated week in seconds
//! ([`ManualClock`] in-process, [`FileClock`] across processes).

#![deny(missing_docs)]

mod clock;
mod plan;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use hokan_site::Calendar;
use time::{Duration, OffsetDateTime, Time, UtcOffset};

pub use clock::{Clock, FileClock, ManualClock, SystemClock};
pub use plan::{deadline, decide, Decision, CATCH_UP_SLACK};

/// What the scheduler needs to know from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// When the night runs; `None`: the site has no `[site] schedule`.
    pub schedule: Option<Calendar>,
    /// The time of day by which a night must have finished.
    pub expect_done_by: Option<Time>,
    /// The site's time zone, in which the schedule is read.
    pub offset: UtcOffset,
}

/// A night's work, as the daemon starts it: runs on its own thread.
pub type Job = Box<dyn FnOnce() -> Outcome + Send>;

/// How a night ended, as far as the scheduler cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every step succeeded.
    Done,
    /// Some steps failed; the job record says which.
    Partial,
    /// The night failed.
    Failed,
}

/// What the daemon drives: the site, its catalog and its jobs.
pub trait Night {
    /// The schedule as configured now.
    fn settings(&self) -> Settings;
    /// When the last night started, from the catalog.
    fn last_started(&mut self) -> Option<OffsetDateTime>;
    /// Record nights left *started* by a killed process as interrupted;
    /// how many there were.
    fn mark_interrupted(&mut self) -> usize;
    /// Prepare the night due at `due` (`catch_up`: it is being run late,
    /// after a missed time). The job runs on its own thread.
    fn start(&mut self, due: OffsetDateTime, catch_up: bool) -> Job;
    /// Re-read the configuration. On an error the old one stays in force;
    /// the error says what is wrong.
    fn reload(&mut self) -> Result<(), String>;
    /// The night due at `due` is still running at `deadline`.
    fn overdue(&mut self, due: OffsetDateTime, deadline: OffsetDateTime);
    /// The night due at `due` ended.
    fn finished(&mut self, due: OffsetDateTime, outcome: &Outcome);
}

/// The signals a daemon answers: SIGHUP (reload), SIGTERM and SIGINT (stop).
#[derive(Clone, Debug, Default)]
pub struct Signals {
    hup: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Signals {
    /// Flags that nothing sets but [`Signals::hang_up`] and
    /// [`Signals::terminate`] (tests, embedding).
    pub fn new() -> Signals {
        Signals::default()
    }

    /// Flags set by the process's SIGHUP, SIGTERM and SIGINT.
    pub fn register() -> std::io::Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let s = Signals::new();
        signal_hook::flag::register(SIGHUP, Arc::clone(&s.hup))?;
        signal_hook::flag::register(SIGTERM, Arc::clone(&s.stop))?;
        signal_hook::flag::register(SIGINT, Arc::clone(&s.stop))?;
        Ok(s)
    }

    /// As SIGHUP would.
    pub fn hang_up(&self) {
        self.hup.store(true, Ordering::SeqCst);
    }

    /// As SIGTERM would.
    pub fn terminate(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// A stop was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Whether a reload was asked for since the last call.
    pub fn take_hang_up(&self) -> bool {
        self.hup.swap(false, Ordering::SeqCst)
    }

    /// Something to act on is pending.
    pub fn pending(&self) -> bool {
        self.stopping() || self.hup.load(Ordering::SeqCst)
    }
}

/// How often a waiting daemon looks at its clock and signals while a night
/// runs (in the clock's time).
const WATCH_STEP: Duration = Duration::seconds(30);

/// Run nights on schedule until a stop is asked for. Returns how many
/// nights ran.
pub fn serve(night: &mut dyn Night, clock: &dyn Clock, signals: &Signals) -> usize {
    let first_seen = clock.now();
    let interrupted = night.mark_interrupted();
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "nights left running by a stopped process were recorded as interrupted"
        );
    }
    let mut ran = 0;
    // The start of the last night this process ran: a catalog that failed to
    // record it must not make the same night run twice.
    let mut started_here: Option<OffsetDateTime> = None;
    loop {
        if signals.stopping() {
            tracing::info!("stopping: no night is running");
            return ran;
        }
        if signals.take_hang_up() {
            match night.reload() {
                Ok(()) => tracing::info!("configuration re-read"),
                Err(e) => {
                    tracing::error!(error = %e, "configuration not re-read; the old one stays in force")
                }
            }
        }
        let settings = night.settings();
        let now = clock.now().to_offset(settings.offset);
        let last = night.last_started().max(started_here);
        match decide(settings.schedule.as_ref(), last, first_seen, now) {
            Decision::Run { due, catch_up } => {
                if catch_up {
                    tracing::warn!(%due, "the night due then was missed; running it once now");
                } else {
                    tracing::info!(%due, "starting the night");
                }
                started_here = Some(now);
                let job = night.start(due, catch_up);
                let handle = thread::spawn(job);
                // A late night (a catch-up) is judged from when it started.
                let dead = settings.expect_done_by.map(|t| deadline(due.max(now), t));
                let mut alerted = false;
                let mut said_stop = false;
                while !handle.is_finished() {
                    let now = clock.now();
                    if let Some(d) = dead.filter(|d| !alerted && now >= *d) {
                        tracing::error!(%due, deadline = %d, "the night has not finished by the expected time");
                        night.overdue(due, d);
                        alerted = true;
                    }
                    if signals.stopping() && !said_stop {
                        tracing::warn!("stop asked for: letting the running night finish first");
                        said_stop = true;
                    }
                    let step = now + WATCH_STEP;
                    let until = dead.filter(|_| !alerted).map_or(step, |d| d.min(step));
                    clock.wait_until(until, &|| handle.is_finished());
                }
                let outcome = handle.join().unwrap_or(Outcome::Failed);
                tracing::info!(%due, ?outcome, "the night ended");
                night.finished(due, &outcome);
                ran += 1;
            }
            Decision::WaitUntil(t) => {
                tracing::info!(next = %t, "waiting for the next night");
                clock.wait_until(t, &|| signals.pending())
            }
            Decision::NoSchedule => {
                tracing::error!(
                    "no [site] schedule in hokan.toml: nothing to run; add one and send SIGHUP"
                );
                wait_for_signal(clock, signals);
            }
            Decision::NeverAgain => {
                tracing::error!("the schedule never fires again; change it and send SIGHUP");
                wait_for_signal(clock, signals);
            }
        }
    }
}

fn wait_for_signal(clock: &dyn Clock, signals: &Signals) {
    while !signals.pending() {
        let now = clock.now();
        clock.wait_until(now + Duration::days(1), &|| signals.pending());
    }
}

#[cfg(test)]
mod tests;
