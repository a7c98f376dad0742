//! The scheduler over a simulated week, on a [`ManualClock`]: no sleeping
//! for hours, real threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration as StdDuration, Instant};

use time::macros::{datetime, time};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::*;

const JST: UtcOffset = time::macros::offset!(+09:00);

fn cal(s: &str) -> Calendar {
    Calendar::parse(s).unwrap()
}

#[test]
fn first_start_waits_a_missed_gap_runs_once() {
    let s = cal("Mon..Fri 22:00");
    // Saturday 2026-12-05, never ran: wait for Monday, no catch-up.
    let sat = datetime!(2026-12-05 12:00 +09:00);
    assert_eq!(
        decide(Some(&s), None, sat, sat),
        Decision::WaitUntil(datetime!(2026-12-07 22:00 +09:00))
    );
    // Last ran Monday 22:00; the server was off until Thursday 09:00:
    // Tuesday's night is due (late), and only that one.
    let mon = datetime!(2026-12-07 22:00 +09:00);
    let thu = datetime!(2026-12-10 09:00 +09:00);
    assert_eq!(
        decide(Some(&s), Some(mon), sat, thu),
        Decision::Run {
            due: datetime!(2026-12-08 22:00 +09:00),
            catch_up: true
        }
    );
    // After that catch-up ran at Thursday 09:00, the next is Thursday 22:00.
    assert_eq!(
        decide(Some(&s), Some(thu), sat, thu + Duration::minutes(1)),
        Decision::WaitUntil(datetime!(2026-12-10 22:00 +09:00))
    );
    // On time (within the slack) is not a catch-up.
    assert_eq!(
        decide(Some(&s), Some(mon), sat, datetime!(2026-12-08 22:01 +09:00)),
        Decision::Run {
            due: datetime!(2026-12-08 22:00 +09:00),
            catch_up: false
        }
    );
    assert_eq!(decide(None, None, sat, sat), Decision::NoSchedule);
    assert_eq!(
        decide(Some(&cal("2020-01-01 00:00")), None, sat, sat),
        Decision::NeverAgain
    );
}

#[test]
fn the_deadline_is_the_next_such_time_of_day() {
    let due = datetime!(2026-12-07 22:00 +09:00);
    assert_eq!(
        deadline(due, time!(06:00)),
        datetime!(2026-12-08 06:00 +09:00)
    );
    assert_eq!(
        deadline(due, time!(23:30)),
        datetime!(2026-12-07 23:30 +09:00)
    );
    assert_eq!(
        deadline(due, time!(22:00)),
        datetime!(2026-12-08 22:00 +09:00)
    );
}

/// A site whose nights are recorded in memory, like the catalog would.
#[derive(Default)]
struct Log {
    started: Vec<(OffsetDateTime, OffsetDateTime, bool)>,
    finished: Vec<OffsetDateTime>,
    overdue: Vec<(OffsetDateTime, OffsetDateTime)>,
    reloads: Vec<Result<(), String>>,
}

struct FakeNight {
    clock: ManualClock,
    settings: Settings,
    next_settings: Option<Result<Settings, String>>,
    log: Arc<Mutex<Log>>,
    /// While set, a started night does not end.
    hang: Arc<AtomicBool>,
    left_running: usize,
}

impl Night for FakeNight {
    fn settings(&self) -> Settings {
        self.settings.clone()
    }
    fn last_started(&mut self) -> Option<OffsetDateTime> {
        self.log.lock().unwrap().started.last().map(|s| s.1)
    }
    fn mark_interrupted(&mut self) -> usize {
        std::mem::take(&mut self.left_running)
    }
    fn start(&mut self, due: OffsetDateTime, catch_up: bool) -> Job {
        let now = self.clock.now();
        self.log.lock().unwrap().started.push((due, now, catch_up));
        let hang = Arc::clone(&self.hang);
        Box::new(move || {
            while hang.load(Ordering::SeqCst) {
                thread::sleep(StdDuration::from_millis(1));
            }
            Outcome::Done
        })
    }
    fn reload(&mut self) -> Result<(), String> {
        let r = match self.next_settings.take() {
            Some(Ok(s)) => {
                self.settings = s;
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None => Ok(()),
        };
        self.log.lock().unwrap().reloads.push(r.clone());
        r
    }
    fn overdue(&mut self, due: OffsetDateTime, deadline: OffsetDateTime) {
        self.log.lock().unwrap().overdue.push((due, deadline));
    }
    fn finished(&mut self, due: OffsetDateTime, _: &Outcome) {
        self.log.lock().unwrap().finished.push(due);
    }
}

/// Wait (real time, bounded) until `f` holds.
fn until(what: &str, f: impl Fn() -> bool) {
    let end = Instant::now() + StdDuration::from_secs(10);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for: {what}");
        thread::sleep(StdDuration::from_millis(2));
    }
}

#[test]
fn a_simulated_week_runs_on_schedule_catches_up_once_and_alerts_on_a_hang() {
    let start = datetime!(2026-12-05 12:00 +09:00); // Saturday
    let clock = ManualClock::new(start);
    let log = Arc::new(Mutex::new(Log::default()));
    let hang = Arc::new(AtomicBool::new(false));
    let signals = Signals::new();
    let mut night = FakeNight {
        clock: clock.clone(),
        settings: Settings {
            schedule: Some(cal("Mon..Fri 22:00")),
            expect_done_by: Some(time!(06:00)),
            offset: JST,
        },
        next_settings: None,
        log: Arc::clone(&log),
        hang: Arc::clone(&hang),
        left_running: 1,
    };
    let (c2, s2) = (clock.clone(), signals.clone());
    let daemon = thread::spawn(move || {
        let ran = serve(&mut night, &c2, &s2);
        (ran, night)
    });
    let step = |to: OffsetDateTime| {
        // Small steps, so the daemon sees every instant it waits for.
        let mut t = clock.now();
        while t < to {
            t = (t + Duration::minutes(30)).min(to);
            clock.set(t);
            thread::sleep(StdDuration::from_millis(3));
        }
    };
    // The weekend: nothing.
    step(datetime!(2026-12-07 21:59 +09:00));
    assert!(log.lock().unwrap().started.is_empty());
    // Monday 22:00 and Tuesday 22:00 run on time.
    step(datetime!(2026-12-07 22:00 +09:00));
    until("Monday's night", || log.lock().unwrap().finished.len() == 1);
    step(datetime!(2026-12-08 22:00 +09:00));
    until("Tuesday's night", || {
        log.lock().unwrap().finished.len() == 2
    });
    // The server is off from Wednesday to Friday 10:00: one catch-up.
    clock.set(datetime!(2026-12-11 10:00 +09:00));
    until("the catch-up", || log.lock().unwrap().finished.len() == 3);
    thread::sleep(StdDuration::from_millis(50));
    {
        let l = log.lock().unwrap();
        assert_eq!(l.started.len(), 3, "{:?}", l.started);
        assert_eq!(l.started[2].0, datetime!(2026-12-09 22:00 +09:00));
        assert!(l.started[2].2, "marked as a catch-up");
    }
    // SIGHUP between nights re-reads the configuration (a broken file:
    // see the next test).
    signals.hang_up();
    until("the reload", || log.lock().unwrap().reloads.len() == 1);
    // Friday's night hangs: the dead-man fires at Saturday 06:00, once.
    hang.store(true, Ordering::SeqCst);
    step(datetime!(2026-12-11 22:00 +09:00));
    until("Friday's night starts", || {
        log.lock().unwrap().started.len() == 4
    });
    step(datetime!(2026-12-12 05:59 +09:00));
    assert!(log.lock().unwrap().overdue.is_empty());
    step(datetime!(2026-12-12 07:00 +09:00));
    until("the dead-man alert", || {
        !log.lock().unwrap().overdue.is_empty()
    });
    // A stop during the hung night waits for it to end.
    signals.terminate();
    thread::sleep(StdDuration::from_millis(30));
    assert!(!daemon.is_finished(), "stopped in the middle of a night");
    hang.store(false, Ordering::SeqCst);
    let (ran, night) = daemon.join().unwrap();
    assert_eq!(ran, 4);
    let l = log.lock().unwrap();
    assert_eq!(
        l.overdue,
        [(
            datetime!(2026-12-11 22:00 +09:00),
            datetime!(2026-12-12 06:00 +09:00)
        )]
    );
    assert_eq!(l.finished.len(), 4);
    assert_eq!(
        night.left_running, 0,
        "interrupted nights were recorded at start"
    );
    assert_eq!(night.settings.schedule, Some(cal("Mon..Fri 22:00")));
}

#[test]
fn a_reload_with_mistakes_keeps_the_old_schedule() {
    let start = datetime!(2026-12-05 12:00 +09:00);
    let clock = ManualClock::new(start);
    let log = Arc::new(Mutex::new(Log::default()));
    let signals = Signals::new();
    let mut night = FakeNight {
        clock: clock.clone(),
        settings: Settings {
            schedule: Some(cal("Sat 13:00")),
            expect_done_by: None,
            offset: JST,
        },
        next_settings: Some(Err("hokan.toml:4:12: site.schedule: not a weekday".into())),
        log: Arc::clone(&log),
        hang: Arc::new(AtomicBool::new(false)),
        left_running: 0,
    };
    let (c2, s2) = (clock.clone(), signals.clone());
    let daemon = thread::spawn(move || serve(&mut night, &c2, &s2));
    signals.hang_up();
    until("the reload", || log.lock().unwrap().reloads.len() == 1);
    assert!(log.lock().unwrap().reloads[0].is_err());
    // The old schedule still fires.
    clock.set(datetime!(2026-12-05 13:00 +09:00));
    until("the night", || log.lock().unwrap().finished.len() == 1);
    signals.terminate();
    assert_eq!(daemon.join().unwrap(), 1);
}
