//! The ranges every length of time, instant and count hokan reads must
//! fall in, and arithmetic on instants that cannot panic.
//!
//! Values reach hokan from a hand-edited `hokan.toml`, from the command
//! line and from catalog events anyone with write access could have
//! written. A value far outside what a hospital could mean (a warning
//! horizon of 8000 years, an attestation until 9999-12-31) is a typing
//! mistake or an attack, never a plan; accepting it once made `status` and
//! `report` panic on time arithmetic. So every reader checks against the
//! constants here and says so clearly, and the evaluator adds lengths to
//! instants only through [`later`] and [`earlier`], which saturate instead
//! of panicking, so that even a value that slipped past a reader (an event
//! written through the catalog library, say) gives a verdict, not a crash.
//!
//! The ranges are documented key by key in `docs/configuration.md`.

use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Longest length of time hokan accepts anywhere (retentions, ages,
/// horizons, lengths typed on the command line): 100 years (36525 days).
/// Longer than any medical-record retention, short enough that adding it to
/// any accepted instant stays far inside what the time library can hold.
pub const MAX_SPAN: Duration = Duration::days(36_525);

/// `MAX_SPAN` as people write it, for messages.
pub const MAX_SPAN_TEXT: &str = "36525d";

/// Earliest instant accepted on the command line (`--now`, `--at`,
/// `--from`, `--until`, `backup --time`): 2000-01-01 00:00 UTC. hokan did
/// not exist before; an earlier date is a typing mistake (`0026-11-23`).
pub const EARLIEST: OffsetDateTime = datetime!(2000-01-01 00:00 UTC);

/// Latest instant accepted on the command line: 2200-01-01 00:00 UTC.
/// Later than any medium will last; adding [`MAX_SPAN`] to it still fits.
pub const LATEST: OffsetDateTime = datetime!(2200-01-01 00:00 UTC);

/// Longest an attestation may run from now: 10 years (3653 days). An
/// attestation is a person's word about a network or a device, which
/// changes; it must be renewed and looked at again, so "forever" is
/// refused. Ten years covers the longest service contract.
pub const MAX_ATTESTATION: Duration = Duration::days(3653);

/// `MAX_ATTESTATION` in words, for messages.
pub const MAX_ATTESTATION_TEXT: (&str, &str) = ("10 years", "10 年");

/// Westernmost UTC offset in use anywhere (Baker Island, −12:00).
pub const MIN_OFFSET: UtcOffset = offset!(-12:00);

/// Easternmost UTC offset in use anywhere (Line Islands, +14:00).
pub const MAX_OFFSET: UtcOffset = offset!(+14:00);

/// Longest site name, in characters: it heads every report and must fit a
/// printed A4 title line; 200 is more than any hospital's full legal name.
pub const MAX_SITE_NAME_CHARS: usize = 200;

/// Longest name of a source, pool or target, in characters: names become
/// catalog keys, file names of simulated devices and report columns.
pub const MAX_NAME_CHARS: usize = 64;

/// The most offline generations a source can be asked for: a weekly
/// rotation kept twenty years is about a thousand.
pub const MAX_GENERATIONS: u32 = 1000;

/// The biggest medium capacity typed on the command line: 1 PB
/// (10¹⁵ bytes); the largest tape cartridge today holds 30 TB.
pub const MAX_CAPACITY: u64 = 1_000_000_000_000_000;

/// The longest a pre-backup command may be given (`timeout`): 7 days. A
/// dump that runs longer than a week would overlap the next one.
pub const MAX_PRE_BACKUP_TIMEOUT: Duration = Duration::days(7);

/// The longest `tape backup --wait-for-cartridge` waits for a person: 7
/// days, a long holiday weekend with room to spare.
pub const MAX_CARTRIDGE_WAIT: Duration = Duration::days(7);

/// The biggest instant the time library can hold, where [`later`] stops.
const END_OF_TIME: OffsetDateTime = PrimitiveDateTime::MAX.assume_utc();
/// The smallest instant the time library can hold, where [`earlier`] stops.
const START_OF_TIME: OffsetDateTime = PrimitiveDateTime::MIN.assume_utc();

/// `t + d`, or the end of representable time if that overflows: a
/// deadline beyond the year 9999 is as good as never.
pub fn later(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    t.checked_add(d).unwrap_or(if d.is_negative() {
        START_OF_TIME
    } else {
        END_OF_TIME
    })
}

/// `t - d`, saturating like [`later`].
pub fn earlier(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    t.checked_sub(d).unwrap_or(if d.is_negative() {
        END_OF_TIME
    } else {
        START_OF_TIME
    })
}

/// Whether `t` is within [`EARLIEST`]..=[`LATEST`].
pub fn instant_in_range(t: OffsetDateTime) -> bool {
    (EARLIEST..=LATEST).contains(&t)
}

/// Whether `o` is within [`MIN_OFFSET`]..=[`MAX_OFFSET`].
pub fn offset_in_range(o: UtcOffset) -> bool {
    let s = o.whole_seconds();
    (MIN_OFFSET.whole_seconds()..=MAX_OFFSET.whole_seconds()).contains(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let far = datetime!(9999-12-31 23:00 UTC);
        assert_eq!(later(far, Duration::days(2)), END_OF_TIME);
        assert_eq!(later(far, Duration::MAX), END_OF_TIME);
        assert_eq!(earlier(far, Duration::MAX), START_OF_TIME);
        assert_eq!(later(far, Duration::MIN), START_OF_TIME);
        assert_eq!(later(EARLIEST, Duration::DAY), EARLIEST + Duration::DAY);
        assert_eq!(later(LATEST, MAX_SPAN), LATEST + MAX_SPAN);
    }

    #[test]
    fn offsets_in_use_are_in_range() {
        assert!(offset_in_range(offset!(+9)));
        assert!(offset_in_range(offset!(-12)));
        assert!(offset_in_range(offset!(+14)));
        assert!(!offset_in_range(offset!(+14:01)));
        assert!(!offset_in_range(offset!(+25)));
    }
}
