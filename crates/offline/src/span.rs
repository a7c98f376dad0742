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

use crate::OfflineError;

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
    let n: i64 = digits.parse().map_err(|_| bad("the number is too large"))?;
    n.checked_mul(size)
        .map(Duration::seconds)
        .ok_or_else(|| bad("the number is too large"))
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
        i64::try_from(v)
            .map(Duration::seconds)
            .map_err(|_| E::custom("the number of seconds is too large"))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        if v < 0 {
            return Err(E::custom("a duration cannot be negative"));
        }
        Ok(Duration::seconds(v))
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
    fn refuses_what_it_cannot_read() {
        for text in ["", "d", "7x", "-7d", "7.5d", "99999999999999999999d", "7 d"] {
            assert!(parse(text).is_err(), "{text:?} should be refused");
        }
    }
}
