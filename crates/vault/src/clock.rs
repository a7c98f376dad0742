//! The compliance clock: the time by which the vault decides whether a
//! generation's retention has ended. It never goes back, and it does not
//! follow the wall clock across a jump it cannot explain.
//!
//! The attack it answers (Veeam's hardened repository has had to answer
//! it too): whoever controls the vault's time source (a forged NTP answer)
//! moves the clock years ahead, and every retention ends at once. So:
//! - the compliance time is the later of the wall clock and the last time
//!   the ledger recorded: setting the clock back changes nothing;
//! - each ledger tick also records the kernel's boot-time clock, which no
//!   time source can step. Within one boot the wall clock is measured
//!   against an **anchor**: the first trusted tick of the boot (the first
//!   tick after it started, or after the last `ClockAccepted`), not the
//!   previous tick, so small steps cannot add up. Since the anchor the wall
//!   clock may be ahead of the boot-time clock by at most
//!   [`ClockPolicy::tolerance`] plus [`ClockPolicy::drift_ppm`] (100 ppm)
//!   of the boot time elapsed: an oscillator's drift that NTP corrects,
//!   about 53 minutes after a year of uptime. Nine minutes gained before
//!   every hourly reading is caught at the second reading;
//! - across a reboot there is no boot-time reference, so the whole wall
//!   advance from the old boot's last tick to the new boot's first is
//!   unexplained. One such gap may be at most [`ClockPolicy::max_gap`], and
//!   the gaps recorded in the last [`ClockPolicy::gap_window`] (30 days of
//!   compliance time, counting the new one) may add up to at most
//!   `max_gap` too: a 6-day step at every reboot is caught at the second.
//!
//! Otherwise the clock is **frozen**: the compliance time stays at the last
//! trusted time, nothing expires, a finding is recorded and notified, until
//! an operator at the vault's console accepts the time (`hokan vault clock
//! --accept`), which also starts a new anchor and forgets the gaps.
//!
//! The anchor and the gaps are not stored as such: the ledger derives them
//! ([`Memory::record`]) by replaying its ticks, `ClockFrozen` and
//! `ClockAccepted` rows. Ticks recorded while frozen are not trusted: they
//! neither anchor nor count as gaps.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// When the clock counts as having jumped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockPolicy {
    /// Allowed lead of the wall clock over the boot-time clock since the
    /// boot's anchor (default 10 minutes: NTP corrections are seconds).
    pub tolerance: Duration,
    /// Further lead allowed per boot time elapsed since the anchor, in
    /// parts per million (default 100: a year of uptime allows ~53 min).
    pub drift_ppm: u64,
    /// Longest unexplained step across a reboot, and the most such steps
    /// may add up to within [`ClockPolicy::gap_window`] (default 7 days: a
    /// vault switched off for longer must have its time accepted by a
    /// person).
    pub max_gap: Duration,
    /// The window, in compliance time, over which cross-reboot gaps add up
    /// (default 30 days).
    pub gap_window: Duration,
}

impl Default for ClockPolicy {
    fn default() -> ClockPolicy {
        ClockPolicy {
            tolerance: Duration::from_secs(600),
            drift_ppm: 100,
            max_gap: Duration::from_secs(7 * 86400),
            gap_window: Duration::from_secs(30 * 86400),
        }
    }
}

impl ClockPolicy {
    /// How far (seconds) the wall clock may lead the boot-time clock after
    /// `boot_ns` of boot time since the anchor.
    pub fn allowance_secs(&self, boot_ns: u64) -> i64 {
        let rate = boot_ns as u128 * self.drift_ppm as u128 / 1_000_000 / 1_000_000_000;
        self.tolerance.as_secs() as i64 + rate as i64
    }
}

/// A wall-clock advance across a reboot that nothing explains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The compliance time of the new boot's first tick.
    pub at: OffsetDateTime,
    /// The wall clock's advance since the old boot's last tick, seconds.
    pub secs: i64,
}

/// What the clock remembers from the ledger beyond its last tick: the
/// current boot's anchor and the cross-reboot gaps since the last accept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// The first trusted tick of the current boot (or since the last
    /// accept).
    pub anchor: Option<Tick>,
    /// Cross-reboot gaps since the last accept, oldest first.
    pub gaps: Vec<Gap>,
}

impl Memory {
    /// Replay one tick recorded at compliance time `at`; `last_tick` is
    /// the tick before it, `frozen` whether a freeze was in force when it
    /// was recorded (then it is not trusted and changes nothing).
    pub fn record(
        &mut self,
        last_tick: Option<&Tick>,
        tick: &Tick,
        at: OffsetDateTime,
        frozen: bool,
    ) {
        if frozen {
            return;
        }
        match &self.anchor {
            Some(a) if same_boot(a, tick) => {}
            Some(_) => {
                if let Some(prev) = last_tick {
                    let secs = (tick.wall - prev.wall).whole_seconds();
                    if secs > 0 {
                        self.gaps.push(Gap { at, secs });
                    }
                }
                self.anchor = Some(tick.clone());
            }
            None => self.anchor = Some(tick.clone()),
        }
    }

    /// An operator accepted the clock: a new anchor at the next tick, and
    /// the gaps so far are forgotten.
    pub fn reset(&mut self) {
        self.anchor = None;
        self.gaps.clear();
    }
}

/// Whether `now` is a later reading of the same boot as `then`.
fn same_boot(then: &Tick, now: &Tick) -> bool {
    !then.boot_id.is_empty() && then.boot_id == now.boot_id && now.boottime_ns >= then.boottime_ns
}

/// One reading of both clocks, as the ledger records it in a tick.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// The wall clock, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub wall: OffsetDateTime,
    /// `/proc/sys/kernel/random/boot_id`.
    pub boot_id: String,
    /// CLOCK_BOOTTIME in nanoseconds.
    pub boottime_ns: u64,
}

impl Tick {
    /// Read the clocks now.
    pub fn now() -> Tick {
        Tick {
            wall: OffsetDateTime::now_utc(),
            boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            boottime_ns: boottime_ns(),
        }
    }
}

fn boottime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The clock's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// The wall clock is believed.
    Ok,
    /// The wall clock is earlier than the ledger's last time; the ledger's
    /// time is used.
    Behind,
    /// Expiry is frozen since `since` because of an unexplained jump.
    Frozen {
        /// Why (the jump seen).
        reason: String,
    },
}

impl State {
    /// The word in receipts and `--json`.
    pub fn word(&self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Behind => "behind",
            State::Frozen { .. } => "frozen",
        }
    }
}

/// What the compliance clock says now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The compliance time.
    pub now: OffsetDateTime,
    /// Its state.
    pub state: State,
    /// Whether this reading found a new jump (the caller records the
    /// freeze in the ledger and notifies).
    pub new_jump: bool,
}

/// Read the compliance clock. `last_time` is the ledger's last trusted
/// time, `last_tick` its last tick, `memory` the anchor and gaps replayed
/// from it; `frozen` the reason of a freeze not yet accepted.
pub fn read(
    tick: &Tick,
    last_time: Option<OffsetDateTime>,
    last_tick: Option<&Tick>,
    memory: &Memory,
    frozen: Option<&str>,
    policy: &ClockPolicy,
) -> Reading {
    let Some(last) = last_time else {
        return Reading {
            now: tick.wall,
            state: State::Ok,
            new_jump: false,
        };
    };
    if let Some(reason) = frozen {
        return Reading {
            now: last,
            state: State::Frozen {
                reason: reason.to_string(),
            },
            new_jump: false,
        };
    }
    let jump = memory
        .anchor
        .as_ref()
        .or(last_tick)
        .and_then(|anchor| jump(anchor, last_tick, memory, last, tick, policy));
    if let Some(reason) = jump {
        return Reading {
            now: last,
            state: State::Frozen { reason },
            new_jump: true,
        };
    }
    if tick.wall < last {
        return Reading {
            now: last,
            state: State::Behind,
            new_jump: false,
        };
    }
    Reading {
        now: tick.wall,
        state: State::Ok,
        new_jump: false,
    }
}

/// A jump the boot-time clock does not explain: within the anchor's boot,
/// a lead over the boot-time clock beyond the allowance; across a reboot,
/// a gap beyond `max_gap`, alone or with the recent gaps.
fn jump(
    anchor: &Tick,
    last_tick: Option<&Tick>,
    memory: &Memory,
    last_time: OffsetDateTime,
    now: &Tick,
    policy: &ClockPolicy,
) -> Option<String> {
    if same_boot(anchor, now) {
        let wall = (now.wall - anchor.wall).whole_seconds();
        let boot_ns = now.boottime_ns - anchor.boottime_ns;
        let boot = (boot_ns / 1_000_000_000) as i64;
        let lead = wall - boot;
        let allowed = policy.allowance_secs(boot_ns);
        if lead > allowed {
            return Some(format!(
                "the wall clock moved {wall} s ahead while {boot} s passed on the boot-time clock (since {}, this boot's anchor): {lead} s ahead, more than the {allowed} s allowed",
                anchor.wall
            ));
        }
        return None;
    }
    let prev = last_tick.unwrap_or(anchor);
    let wall = (now.wall - prev.wall).whole_seconds();
    let max = policy.max_gap.as_secs() as i64;
    if wall > max {
        return Some(format!(
            "the wall clock is {} days past the last tick ({}) across a reboot; more than the {} days allowed",
            wall / 86400,
            prev.wall,
            max / 86400
        ));
    }
    if wall <= 0 {
        return None;
    }
    let since = last_time - policy.gap_window;
    let recent: i64 = memory
        .gaps
        .iter()
        .filter(|g| g.at > since)
        .map(|g| g.secs)
        .sum();
    (recent + wall > max).then(|| {
        format!(
            "the wall clock is {} h past the last tick ({}) across a reboot; with the reboots of the last {} days that is {} h unexplained, more than the {} days allowed",
            wall / 3600,
            prev.wall,
            policy.gap_window.as_secs() / 86400,
            (recent + wall) / 3600,
            max / 86400
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn tick(wall: OffsetDateTime, boot: &str, secs: u64) -> Tick {
        Tick {
            wall,
            boot_id: boot.into(),
            boottime_ns: secs * 1_000_000_000,
        }
    }

    #[test]
    fn the_clock_never_goes_back_and_freezes_on_a_jump() {
        let p = ClockPolicy::default();
        let last = datetime!(2026-12-06 03:00 UTC);
        let prev = tick(last, "b1", 1000);
        // Normal: an hour on both clocks.
        let r = read(
            &tick(datetime!(2026-12-06 04:00 UTC), "b1", 4600),
            Some(last),
            Some(&prev),
            &Memory::default(),
            None,
            &p,
        );
        assert_eq!(
            (r.state, r.now),
            (State::Ok, datetime!(2026-12-06 04:00 UTC))
        );
        // Set back a year: the ledger's time stands.
        let r = read(
            &tick(datetime!(2025-12-06 04:00 UTC), "b1", 4600),
            Some(last),
            Some(&prev),
            &Memory::default(),
            None,
            &p,
        );
        assert_eq!((r.state, r.now), (State::Behind, last));
        // Forward ten years in an hour of boot time: frozen at the last time.
        let r = read(
            &tick(datetime!(2036-12-06 04:00 UTC), "b1", 4600),
            Some(last),
            Some(&prev),
            &Memory::default(),
            None,
            &p,
        );
        assert!(matches!(r.state, State::Frozen { .. }) && r.new_jump);
        assert_eq!(r.now, last);
        // Two days at a time (under any gap threshold) is still caught in the same boot.
        let r = read(
            &tick(datetime!(2026-12-08 04:00 UTC), "b1", 4600),
            Some(last),
            Some(&prev),
            &Memory::default(),
            None,
            &p,
        );
        assert!(matches!(r.state, State::Frozen { .. }));
        // Across a reboot, three days off is believed; thirty is not.
        let r = read(
            &tick(datetime!(2026-12-09 03:00 UTC), "b2", 10),
            Some(last),
            Some(&prev),
            &Memory::default(),
            None,
            &p,
        );
        assert_eq!(r.state, State::Ok);
        let r = read(
            &tick(datetime!(2027-01-05 03:00 UTC), "b2", 10),
            Some(last),
            Some(&prev),
            &Memory::default(),
            None,
            &p,
        );
        assert!(matches!(r.state, State::Frozen { .. }));
        // Once frozen, it stays frozen until accepted.
        let r = read(
            &tick(datetime!(2026-12-06 05:00 UTC), "b1", 8200),
            Some(last),
            Some(&prev),
            &Memory::default(),
            Some("jump"),
            &p,
        );
        assert_eq!(r.now, last);
        assert!(matches!(r.state, State::Frozen { .. }) && !r.new_jump);
    }

    /// The ledger's side of the clock, as `pull::observe` and the ledger's
    /// replay keep it: read, record a freeze, remember the tick.
    struct Sim {
        policy: ClockPolicy,
        last_time: Option<OffsetDateTime>,
        last_tick: Option<Tick>,
        memory: Memory,
        frozen: Option<String>,
        freezes: usize,
    }

    impl Sim {
        fn new(first: Tick) -> Sim {
            let mut s = Sim {
                policy: ClockPolicy::default(),
                last_time: None,
                last_tick: None,
                memory: Memory::default(),
                frozen: None,
                freezes: 0,
            };
            s.read(first);
            s
        }
        fn remember(&mut self, t: Tick, at: OffsetDateTime) {
            self.memory
                .record(self.last_tick.as_ref(), &t, at, self.frozen.is_some());
            self.last_tick = Some(t);
            self.last_time = Some(self.last_time.map_or(at, |l| l.max(at)));
        }
        fn read(&mut self, t: Tick) -> Reading {
            let r = read(
                &t,
                self.last_time,
                self.last_tick.as_ref(),
                &self.memory,
                self.frozen.as_deref(),
                &self.policy,
            );
            if let (true, State::Frozen { reason }) = (r.new_jump, &r.state) {
                self.frozen = Some(reason.clone());
                self.freezes += 1;
            }
            self.remember(t, r.now);
            r
        }
        fn accept(&mut self, t: Tick) {
            self.frozen = None;
            self.memory.reset();
            let at = self.last_time.map_or(t.wall, |l| l.max(t.wall));
            self.remember(t, at);
        }
        fn frozen(&self) -> bool {
            self.frozen.is_some()
        }
    }

    /// Deterministic jitter in [-30 s, +30 s] (xorshift).
    struct Jitter(u64);
    impl Jitter {
        fn next(&mut self) -> time::Duration {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            time::Duration::milliseconds((self.0 % 60_001) as i64 - 30_000)
        }
    }

    const HOUR: u64 = 3600;

    #[test]
    fn nine_minutes_gained_before_every_hourly_reading_freeze_at_the_second() {
        let t0 = datetime!(2026-12-06 03:00 UTC);
        let mut sim = Sim::new(tick(t0, "b1", 1000));
        let mut frozen_at = None;
        for k in 1..=30u64 {
            let wall = t0 + time::Duration::minutes(69 * k as i64);
            let r = sim.read(tick(wall, "b1", 1000 + k * HOUR));
            let lead = 540 * k as i64;
            let allowed = sim.policy.allowance_secs(k * HOUR * 1_000_000_000);
            // Frozen exactly once the accumulated lead passes the allowance.
            assert_eq!(sim.frozen(), lead > allowed, "reading {k}: {r:?}");
            if sim.frozen() && frozen_at.is_none() {
                frozen_at = Some(k);
            }
            // Never more than the allowance ahead of the true time.
            let truth = t0 + time::Duration::hours(k as i64);
            assert!(r.now <= truth + time::Duration::seconds(allowed), "{r:?}");
        }
        assert_eq!(frozen_at, Some(2));
        assert_eq!(sim.freezes, 1, "the freeze is recorded once");
    }

    #[test]
    fn honest_readings_with_ntp_jitter_never_freeze() {
        let t0 = datetime!(2026-12-06 03:00 UTC);
        let mut j = Jitter(0x9e37_79b9_7f4a_7c15);
        let mut sim = Sim::new(tick(t0, "b1", 1000));
        for k in 1..=1000u64 {
            let wall = t0 + time::Duration::hours(k as i64) + j.next();
            let r = sim.read(tick(wall, "b1", 1000 + k * HOUR));
            assert!(!sim.frozen(), "reading {k}: {r:?}");
            assert!(matches!(r.state, State::Ok | State::Behind));
        }
    }

    #[test]
    fn fifty_ppm_of_drift_over_200_days_of_uptime_never_freezes() {
        let t0 = datetime!(2026-12-06 03:00 UTC);
        let mut j = Jitter(42);
        for sign in [1i64, -1] {
            let mut sim = Sim::new(tick(t0, "b1", 1000));
            for k in 1..=200 * 24u64 {
                let boot = k * HOUR;
                // The wall clock gains (or loses) 50 µs a second on the boot-time clock.
                let wall = t0
                    + time::Duration::seconds(boot as i64)
                    + time::Duration::microseconds(sign * 50 * boot as i64)
                    + j.next();
                let r = sim.read(tick(wall, "b1", 1000 + boot));
                assert!(!sim.frozen(), "{sign} reading {k}: {r:?}");
            }
        }
        // The rate is bounded: 150 ppm ahead is caught (after ~139 days).
        let mut sim = Sim::new(tick(t0, "b1", 1000));
        let mut caught = None;
        for k in 1..=200 * 24u64 {
            let boot = k * HOUR;
            let wall = t0
                + time::Duration::seconds(boot as i64)
                + time::Duration::microseconds(150 * boot as i64);
            sim.read(tick(wall, "b1", 1000 + boot));
            if sim.frozen() {
                caught = Some(k / 24);
                break;
            }
        }
        assert!(matches!(caught, Some(138..=140)), "{caught:?}");
    }

    #[test]
    fn six_day_gaps_at_every_reboot_add_up_and_freeze_at_the_second() {
        let t0 = datetime!(2026-12-06 03:00 UTC);
        let day = time::Duration::days(1);
        let mut sim = Sim::new(tick(t0, "b0", 1000));
        sim.read(tick(t0 + time::Duration::hours(1), "b0", 1000 + HOUR));
        let mut wall = t0 + time::Duration::hours(1);
        let mut frozen_at = None;
        for n in 1..=5 {
            wall += 6 * day;
            let r = sim.read(tick(wall, &format!("b{n}"), 60));
            // A few hours of uptime on each boot.
            for h in 1..=3u64 {
                sim.read(tick(
                    wall + time::Duration::hours(h as i64),
                    &format!("b{n}"),
                    60 + h * HOUR,
                ));
            }
            wall += time::Duration::hours(3);
            if sim.frozen() && frozen_at.is_none() {
                frozen_at = Some(n);
                assert!(matches!(r.state, State::Frozen { .. }) && r.new_jump);
            }
            // The compliance time never gains more than the one gap allowed.
            assert!(
                r.now <= t0 + 7 * day + time::Duration::hours(4 * n),
                "{r:?}"
            );
        }
        assert_eq!(frozen_at, Some(2));
        assert_eq!(sim.freezes, 1);

        // One 6-day gap is believed; another one more than 30 days (of
        // compliance time) later is too.
        let mut sim = Sim::new(tick(t0, "b0", 1000));
        let r = sim.read(tick(t0 + 6 * day, "b1", 60));
        assert_eq!(r.state, State::Ok);
        assert_eq!(r.now, t0 + 6 * day);
        for d in 1..=31u64 {
            sim.read(tick(
                t0 + time::Duration::days(6 + d as i64),
                "b1",
                60 + d * 86400,
            ));
        }
        let r = sim.read(tick(t0 + 43 * day, "b2", 60));
        assert_eq!(r.state, State::Ok, "{:?}", sim.memory);
        // But not a third within 30 days of the second.
        let r = sim.read(tick(t0 + 49 * day, "b3", 60));
        assert!(matches!(r.state, State::Frozen { .. }), "{r:?}");
    }

    #[test]
    fn accepting_the_clock_resets_the_anchor_and_honest_readings_go_on() {
        let t0 = datetime!(2026-12-06 03:00 UTC);
        let mut sim = Sim::new(tick(t0, "b1", 1000));
        let anchor = sim.memory.anchor.clone();
        // Two readings, each 9 minutes ahead: frozen.
        for k in 1..=2u64 {
            sim.read(tick(
                t0 + time::Duration::minutes(69 * k as i64),
                "b1",
                1000 + k * HOUR,
            ));
        }
        assert!(sim.frozen());
        // Ticks while frozen do not move the anchor.
        sim.read(tick(t0 + time::Duration::hours(3), "b1", 1000 + 3 * HOUR));
        assert_eq!(sim.memory.anchor, anchor);
        // The operator accepts the wall clock as it is now (18 min ahead).
        let accepted = tick(
            t0 + time::Duration::hours(4) + time::Duration::minutes(18),
            "b1",
            1000 + 4 * HOUR,
        );
        sim.accept(accepted.clone());
        assert!(!sim.frozen());
        assert_eq!(sim.memory.anchor.as_ref(), Some(&accepted));
        // Measured from the new anchor, honest readings go on unfrozen.
        let mut j = Jitter(7);
        for k in 1..=500u64 {
            let wall = accepted.wall + time::Duration::hours(k as i64) + j.next();
            let r = sim.read(tick(
                wall,
                "b1",
                accepted.boottime_ns / 1_000_000_000 + k * HOUR,
            ));
            assert!(!sim.frozen(), "reading {k}: {r:?}");
        }
        // Accepting also forgets the reboot gaps.
        let mut sim = Sim::new(tick(t0, "b0", 1000));
        sim.read(tick(t0 + time::Duration::days(6), "b1", 60));
        sim.read(tick(t0 + time::Duration::days(12), "b2", 60));
        assert!(sim.frozen());
        sim.accept(tick(t0 + time::Duration::days(12), "b2", 120));
        assert!(sim.memory.gaps.is_empty());
        let r = sim.read(tick(t0 + time::Duration::days(18), "b3", 60));
        assert_eq!(r.state, State::Ok);
    }
}
