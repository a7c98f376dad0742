//! The decisions, as pure functions of the schedule, the last start and now.

use hokan_site::Calendar;
use time::{Duration, OffsetDateTime, Time};

/// A night that starts this long after its time is a catch-up (the server
/// was off, or the previous night ran over), and is logged as one.
pub const CATCH_UP_SLACK: Duration = Duration::minutes(5);

/// What the daemon does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The night due at `due` has come: run it now.
    Run {
        /// The scheduled time.
        due: OffsetDateTime,
        /// More than [`CATCH_UP_SLACK`] late.
        catch_up: bool,
    },
    /// Nothing is due before this time.
    WaitUntil(OffsetDateTime),
    /// The site has no schedule.
    NoSchedule,
    /// The schedule never fires again (e.g. a date that has passed).
    NeverAgain,
}

/// Decide at `now` (in the site's offset). `last_started` is when the last
/// night started, if one ever did; `first_seen` is when this daemon
/// started, the reference for a site that never ran (no catch-up then).
///
/// The night due is the first occurrence after the last start: once it has
/// run, the next one lies after *now*, so however many times were missed,
/// one night runs.
pub fn decide(
    schedule: Option<&Calendar>,
    last_started: Option<OffsetDateTime>,
    first_seen: OffsetDateTime,
    now: OffsetDateTime,
) -> Decision {
    let Some(schedule) = schedule else {
        return Decision::NoSchedule;
    };
    let offset = now.offset();
    let anchor = last_started.unwrap_or(first_seen).to_offset(offset);
    match schedule.next_after(anchor) {
        None => Decision::NeverAgain,
        Some(due) if due <= now => Decision::Run {
            due,
            catch_up: now - due > CATCH_UP_SLACK,
        },
        Some(due) => Decision::WaitUntil(due),
    }
}

/// When a night due at `due` must have finished: the first `by` (a time of
/// day in `due`'s offset) after `due`. A night due at 22:00 with
/// `expect_done_by = "06:00"` must be done by 06:00 the next morning.
pub fn deadline(due: OffsetDateTime, by: Time) -> OffsetDateTime {
    let same_day = due.date().with_time(by).assume_offset(due.offset());
    if same_day > due {
        same_day
    } else {
        same_day + Duration::days(1)
    }
}
