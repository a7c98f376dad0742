//! Where the daemon's time comes from.
//!
//! [`SystemClock`] is the real one. [`ManualClock`] is moved by a test in
//! the same process; [`FileClock`] reads the time from a file that a test
//! in another process rewrites (`hokan daemon` uses it when
//! `HOKAN_CLOCK_FILE` is set), so a week of nights runs in seconds, with
//! real processes, real signals and SIGKILL.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A source of time that can also wait.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> OffsetDateTime;
    /// Return when `t` has come, or earlier as soon as `wake()` is true.
    fn wait_until(&self, t: OffsetDateTime, wake: &dyn Fn() -> bool);
}

/// Poll a clock that someone else moves.
fn poll(clock: &dyn Clock, t: OffsetDateTime, wake: &dyn Fn() -> bool, step: StdDuration) {
    while clock.now() < t && !wake() {
        std::thread::sleep(step);
    }
}

/// The system's clock. Waits in slices of at most a second, so signals
/// and clock corrections are noticed.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn wait_until(&self, t: OffsetDateTime, wake: &dyn Fn() -> bool) {
        loop {
            if wake() {
                return;
            }
            let left = t - self.now();
            if left <= time::Duration::ZERO {
                return;
            }
            let slice = left.min(time::Duration::SECOND);
            std::thread::sleep(StdDuration::from_nanos(
                slice.whole_nanoseconds().max(1) as u64
            ));
        }
    }
}

/// A clock a test moves by hand, shared between threads.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: OffsetDateTime) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Move it to `at` (never backwards).
    pub fn set(&self, at: OffsetDateTime) {
        let mut now = self.0.lock().expect("clock");
        if at > *now {
            *now = at;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock")
    }

    fn wait_until(&self, t: OffsetDateTime, wake: &dyn Fn() -> bool) {
        poll(self, t, wake, StdDuration::from_millis(1));
    }
}

/// A clock read from a file holding one RFC 3339 time, for tests across
/// processes. A missing or unreadable file reads as the Unix epoch, so a
/// daemon under test waits rather than runs.
#[derive(Clone, Debug)]
pub struct FileClock(PathBuf);

impl FileClock {
    /// Read the time from `path`.
    pub fn new(path: impl Into<PathBuf>) -> FileClock {
        FileClock(path.into())
    }
}

impl Clock for FileClock {
    fn now(&self) -> OffsetDateTime {
        std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|s| OffsetDateTime::parse(s.trim(), &Rfc3339).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    fn wait_until(&self, t: OffsetDateTime, wake: &dyn Fn() -> bool) {
        poll(self, t, wake, StdDuration::from_millis(20));
    }
}
