//! Event times of a job.
//!
//! A job records its events at the command's instant (`--now`, else the
//! clock) plus the time elapsed since it started, strictly increasing. A
//! cartridge loaded and unloaded within one job gets two distinct times, so
//! the evaluator (which, at one instant, believes the more reachable place)
//! sees the order in which the moves happened.

use std::cell::Cell;
use std::time::Instant;

use time::{Duration, OffsetDateTime};

/// The clock of one job: [`Clock::at`] never gives the same instant twice.
pub struct Clock {
    /// The job's instant.
    pub start: OffsetDateTime,
    t0: Instant,
    last: Cell<OffsetDateTime>,
}

impl Clock {
    /// A clock starting at `start`.
    pub fn new(start: OffsetDateTime) -> Clock {
        Clock {
            start,
            t0: Instant::now(),
            last: Cell::new(start - Duration::microseconds(1)),
        }
    }

    /// Now, later than every instant given before.
    pub fn at(&self) -> OffsetDateTime {
        let mut t = self.start + self.t0.elapsed();
        let min = self.last.get() + Duration::microseconds(1);
        if t < min {
            t = min;
        }
        self.last.set(t);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_start_at_the_given_time_and_strictly_increase() {
        let start = datetime!(2026-11-23 22:00 UTC);
        let clock = Clock::new(start);
        let times: Vec<_> = (0..1000).map(|_| clock.at()).collect();
        assert!(times[0] >= start);
        assert!(times[0] < start + Duration::seconds(5));
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(clock.start, start);
    }

    /// `--now` far in the past (a demo night): the job's times follow it,
    /// not the machine's clock.
    #[test]
    fn a_past_start_is_kept() {
        let start = datetime!(2001-01-01 00:00 UTC);
        let clock = Clock::new(start);
        assert!(clock.at() < datetime!(2001-01-02 00:00 UTC));
    }
}
