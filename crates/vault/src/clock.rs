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
//!   time source can move. While the machine has not rebooted, the wall
//!   clock must have advanced by what the boot-time clock advanced
//!   (± [`ClockPolicy::tolerance`]); across a reboot, by no more than
//!   [`ClockPolicy::max_gap`]. Otherwise the clock is **frozen**: the
//!   compliance time stays at the last trusted time, nothing expires, a
//!   finding is recorded and notified, until an operator at the vault's
//!   console accepts the time (`hokan vault clock --accept`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// When the clock counts as having jumped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockPolicy {
    /// Allowed drift between wall and boot-time clocks since the last tick
    /// of the same boot (default 10 minutes: NTP corrections are seconds).
    pub tolerance: Duration,
    /// Longest unexplained step across a reboot (default 7 days: a vault
    /// switched off for longer must have its time accepted by a person).
    pub max_gap: Duration,
}

impl Default for ClockPolicy {
    fn default() -> ClockPolicy {
        ClockPolicy {
            tolerance: Duration::from_secs(600),
            max_gap: Duration::from_secs(7 * 86400),
        }
    }
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

/// Read the compliance clock. `last` is the ledger's last trusted time and
/// its last tick; `frozen` the reason of a freeze not yet accepted.
pub fn read(
    tick: &Tick,
    last_time: Option<OffsetDateTime>,
    last_tick: Option<&Tick>,
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
    let jump = last_tick.and_then(|t| jump(t, tick, policy));
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

/// A jump between two ticks that the boot-time clock does not explain.
fn jump(prev: &Tick, now: &Tick, policy: &ClockPolicy) -> Option<String> {
    let wall = (now.wall - prev.wall).whole_seconds();
    if !prev.boot_id.is_empty()
        && prev.boot_id == now.boot_id
        && now.boottime_ns >= prev.boottime_ns
    {
        let boot = ((now.boottime_ns - prev.boottime_ns) / 1_000_000_000) as i64;
        let drift = wall - boot;
        if drift > policy.tolerance.as_secs() as i64 {
            return Some(format!(
                "the wall clock moved {wall} s ahead while {boot} s passed on the boot-time clock (since {})",
                prev.wall
            ));
        }
        return None;
    }
    (wall > policy.max_gap.as_secs() as i64).then(|| {
        format!(
            "the wall clock is {} days past the last tick ({}) across a reboot; more than the {} days allowed",
            wall / 86400,
            prev.wall,
            policy.max_gap.as_secs() / 86400
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
            None,
            &p,
        );
        assert_eq!((r.state, r.now), (State::Behind, last));
        // Forward ten years in an hour of boot time: frozen at the last time.
        let r = read(
            &tick(datetime!(2036-12-06 04:00 UTC), "b1", 4600),
            Some(last),
            Some(&prev),
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
            None,
            &p,
        );
        assert!(matches!(r.state, State::Frozen { .. }));
        // Across a reboot, three days off is believed; thirty is not.
        let r = read(
            &tick(datetime!(2026-12-09 03:00 UTC), "b2", 10),
            Some(last),
            Some(&prev),
            None,
            &p,
        );
        assert_eq!(r.state, State::Ok);
        let r = read(
            &tick(datetime!(2027-01-05 03:00 UTC), "b2", 10),
            Some(last),
            Some(&prev),
            None,
            &p,
        );
        assert!(matches!(r.state, State::Frozen { .. }));
        // Once frozen, it stays frozen until accepted.
        let r = read(
            &tick(datetime!(2026-12-06 05:00 UTC), "b1", 8200),
            Some(last),
            Some(&prev),
            Some("jump"),
            &p,
        );
        assert_eq!(r.now, last);
        assert!(matches!(r.state, State::Frozen { .. }) && !r.new_jump);
    }
}
