//! Lengths of time as people write them in a config file: `7d`, `36h`, `2w`.
//!
//! Policies are written by hospital staff in `hokan.toml` and printed back in
//! reports, so a duration is a short string with one unit (`s`, `m`, `h`,
//! `d`, `w`), or a bare number of seconds. Printing uses the largest of `d`,
//! `h`, `m`, `s` that divides the value exactly (never weeks, so `7d` comes
//! back as `7d`, the way policies are usually written), and a machine can
//! still parse it. Used through `#[serde(with = …)]`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Duration;

use crate::limits::MAX_SPAN;
use crate::OfflineError;

/// Why [`parse`] refuses a length longer than [`MAX_SPAN`]; callers match
/// it to say the same thing in Japanese.
pub const TOO_LONG: &str = "it is longer than 100 years (36525d), the most hokan accepts";

const UNITS: [(char, i64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Print a duration with the largest unit that divides it (`7d`, `90m`).
/// Fractions of a second are dropped: policies never need them.
pub fn format(d: Duration) -> String {
    let secs = d.whole_seconds();
    if secs == 0 {
        return "0s".to_owned();
    }
    for (unit, size) in UNITS.into_iter().skip(1) {
        if secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    unreachable!("every whole number of seconds is divisible by 1")
}

/// Parse `7d`, `36h`, `2w`, `90m`, `45s` or a bare number of seconds.
///
/// Anything accepted is between zero and [`MAX_SPAN`] (100 years); longer
/// is refused with [`TOO_LONG`], so a length from here can be added to any
/// instant hokan accepts without overflowing.
pub fn parse(text: &str) -> Result<Duration, OfflineError> {
    let bad = |why: &'static str| OfflineError::BadSpan {
        text: text.to_owned(),
        why,
    };
    let t = text.trim();
    let (digits, size) = match t.chars().last() {
        None => return Err(bad("it is empty")),
        Some(c) if c.is_ascii_digit() => (t, 1),
        Some(c) => match UNITS.iter().find(|(u, _)| *u == c) {
            Some((_, size)) => (&t[..t.len() - 1], *size),
            None => return Err(bad("the unit must be one of s, m, h, d, w")),
        },
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("write a whole number followed by a unit, like 7d"));
    }
    // More digits than any accepted length has: too long, not unreadable.
    let n: i64 = digits.parse().map_err(|_| bad(TOO_LONG))?;
    let d = n
        .checked_mul(size)
        .map(Duration::seconds)
        .ok_or_else(|| bad(TOO_LONG))?;
    within(d).map_err(|_| bad(TOO_LONG))
}

/// A number of seconds as a length: zero to [`MAX_SPAN`].
pub fn seconds(n: i64) -> Result<Duration, OfflineError> {
    let bad = |why: &'static str| OfflineError::BadSpan {
        text: n.to_string(),
        why,
    };
    if n < 0 {
        return Err(bad("a length of time cannot be negative"));
    }
    within(Duration::seconds(n)).map_err(|_| bad(TOO_LONG))
}

/// `d` if it is between zero and [`MAX_SPAN`].
fn within(d: Duration) -> Result<Duration, ()> {
    if (Duration::ZERO..=MAX_SPAN).contains(&d) {
        Ok(d)
    } else {
        Err(())
    }
}

struct SpanVisitor;

impl Visitor<'_> for SpanVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"7d\", \"36h\" or a number of seconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        seconds(i64::try_from(v).unwrap_or(i64::MAX)).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        seconds(v).map_err(E::custom)
    }
}

/// `#[serde(with = "span")]` for a [`Duration`].
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

/// `#[serde(with = "span")]` for a [`Duration`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(SpanVisitor)
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Wrapped(#[serde(with = "self")] Duration);

/// `#[serde(with = "span::option")]` for an `Option<Duration>`.
pub mod option {
    use super::*;

    /// Serialise `None` as null.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        d.map(Wrapped).serialize(s)
    }

    /// Deserialise null as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
    }
}

/// `#[serde(with = "span::map")]` for a map whose values are durations.
pub mod map {
    use super::*;

    /// Serialise each value as a span string.
    pub fn serialize<K: Serialize + Ord + Clone, S: Serializer>(
        m: &BTreeMap<K, Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.iter()
            .map(|(k, v)| (k.clone(), Wrapped(*v)))
            .collect::<BTreeMap<K, Wrapped>>()
            .serialize(s)
    }

    /// Deserialise each value from a span string or seconds.
    pub fn deserialize<'de, K: Deserialize<'de> + Ord, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<K, Duration>, D::Error> {
        Ok(BTreeMap::<K, Wrapped>::deserialize(d)?
            .into_iter()
            .map(|(k, w)| (k, w.0))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_what_people_write() {
        for text in ["7d", "36h", "90m", "45s", "0s", "92d"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(parse("120").unwrap(), Duration::minutes(2));
        assert_eq!(format(parse("2w").unwrap()), "14d");
    }

    #[test]
    fn refuses_lengths_beyond_a_hundred_years() {
        assert_eq!(parse("36525d").unwrap(), MAX_SPAN);
        assert_eq!(parse("3155760000").unwrap(), MAX_SPAN);
        for text in [
            "36526d",
            "3000000d",
            "5218w",
            "3155760001",
            "9223372036854775807s",
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.to_string().contains("100 years"), "{text}: {e}");
        }
        assert!(seconds(-1).is_err());
        assert!(seconds(i64::MAX).is_err());
    }

    proptest::proptest! {
        /// Whatever is typed, parse never panics and anything accepted is
        /// within zero..=100 years.
        #[test]
        fn parse_never_panics_and_stays_in_range(s in "\\PC*") {
            if let Ok(d) = parse(&s) {
                proptest::prop_assert!(d >= Duration::ZERO && d <= MAX_SPAN, "{s:?} -> {d}");
            }
        }

        #[test]
        fn parse_of_number_and_unit_stays_in_range(n in proptest::num::u64::ANY, unit in "[smhdw]?") {
            let s = format!("{n}{unit}");
            if let Ok(d) = parse(&s) {
                proptest::prop_assert!(d >= Duration::ZERO && d <= MAX_SPAN, "{s:?} -> {d}");
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for text in ["", "d", "7x", "-7d", "7.5d", "99999999999999999999d", "7 d"] {
            assert!(parse(text).is_err(), "{text:?} should be refused");
        }
    }
}
