//! What a refused time, length, capacity or place says, in both languages.
//!
//! The parsing itself (and its ranges) and the sentences are
//! [`hokan_jobs::when`]; these wrappers keep the signatures the commands
//! use and turn a [`ParseError`] into the sentence a person reads. The caller names the
//! argument and exits with a usage failure (exit 2).

use hokan_jobs::when::{self as parse, ParseError};
use hokan_offline::{Location, Text};
use time::{Duration, OffsetDateTime, UtcOffset};

/// The sentence of a refused value ([`ParseError::text`]).
pub fn text(e: &ParseError) -> Text {
    e.text()
}

/// `--now`: an instant in UTC unless it says otherwise.
pub fn parse_instant(s: &str) -> Result<OffsetDateTime, Text> {
    parse::parse_instant(s).map_err(|e| text(&e))
}

/// A length of time (`30m`, `2h`, `7d`), from zero to `max`.
pub fn parse_length(s: &str, max: Duration) -> Result<Duration, Text> {
    parse::parse_length(s, max).map_err(|e| text(&e))
}

/// `--at` of a move, `--from` of an attestation: an instant, or a length ago.
pub fn parse_ago(s: &str, now: OffsetDateTime, offset: UtcOffset) -> Result<OffsetDateTime, Text> {
    parse::parse_ago(s, now, offset).map_err(|e| text(&e))
}

/// `--until` of an attestation (see [`hokan_jobs::when::parse_until`]).
pub fn parse_until(
    s: &str,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Result<OffsetDateTime, Text> {
    parse::parse_until(s, now, offset).map_err(|e| text(&e))
}

/// A capacity: `12TB`, `18TiB`, `500GB`, or plain bytes.
pub fn parse_capacity(s: &str) -> Result<u64, Text> {
    parse::parse_capacity(s).map_err(|e| text(&e))
}

/// A location as typed after `--to`.
pub fn parse_location(s: &str) -> Result<Location, Text> {
    parse::parse_location(s).map_err(|e| text(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    /// The sentences people read, for each kind of refusal (the values
    /// accepted are tested in `hokan_jobs::when`).
    #[test]
    fn refusals_say_what_to_write_in_both_languages() {
        let e = parse_location("cupboard").unwrap_err();
        assert!(e.en.contains("shelf[:PLACE]") && e.ja.contains("cupboard"));
        let e = parse_location("offsite").unwrap_err();
        assert_eq!(
            e.en,
            "offsite needs a name after a colon, e.g. offsite:lib1"
        );
        let now = datetime!(2026-11-23 00:00 UTC);
        let jst = offset!(+9);
        let past = parse_until("2026-11-01", now, jst).unwrap_err();
        assert!(past.en.contains("already passed") && past.ja.contains("既に過ぎて"));
        let far = parse_until("2037-01-01", now, jst).unwrap_err();
        assert!(far.en.contains("10 years") && far.ja.contains("10 年"));
        assert!(parse_until("36526d", now, jst)
            .unwrap_err()
            .en
            .contains("too long"));
        assert!(parse_ago("99999999d", now, UtcOffset::UTC)
            .unwrap_err()
            .en
            .contains("too long"));
        assert_eq!(
            parse_instant(" later ").unwrap_err().en,
            "cannot read \"later\" as a time: write 2026-11-23T08:30:00+09:00, 2026-11-23 08:30 or 2026-11-23"
        );
        assert_eq!(
            parse_length("soon", hokan_offline::limits::MAX_SPAN).unwrap_err().en,
            "cannot read \"soon\" as a length of time: write a whole number and one unit, e.g. 30m, 2h or 7d"
        );
        assert!(parse_instant("2200-01-01T00:00:01Z")
            .unwrap_err()
            .en
            .contains("from 2000-01-01 to 2200-01-01 (UTC)"));
        assert!(parse_capacity("2000TB")
            .unwrap_err()
            .en
            .contains("from 1 byte to 1PB"));
        assert!(parse_capacity("12 bananas")
            .unwrap_err()
            .en
            .contains("12TB, 18TiB or 500GB"));
        assert_eq!(
            parse_location("slot:lib1:x").unwrap_err().ja,
            "スロット \"x\" は数字ではありません"
        );
    }
}
