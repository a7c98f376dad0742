//! Times, lengths, capacities and places as people type them (`--now`,
//! `--at`, `--until`, `--wait-for-cartridge`, `--capacity`, `--to`).
//!
//! Every value read here is checked against its range
//! ([`hokan_offline::limits`]): instants between 2000-01-01 and
//! 2200-01-01, lengths up to 100 years, attestations ending after now and
//! at most 10 years ahead, capacities up to 1 PB; nothing typed can make a
//! later job overflow. A refusal is a [`ParseError`] holding what was typed
//! and what was wrong; the caller says it in the person's language and
//! names the argument.

use hokan_offline::limits::{self, MAX_ATTESTATION, MAX_CAPACITY};
use hokan_offline::{Location, Text};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// What a typed value should have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// An instant or a date.
    Time,
    /// A length of time (`30m`, `2h`, `7d`).
    Length,
    /// A capacity (`12TB`).
    Capacity,
}

/// Why a typed value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not readable as what was expected.
    #[error("cannot read {input:?} as {expected:?}")]
    Unreadable {
        /// What was typed.
        input: String,
        /// What it should have been.
        expected: Expected,
    },
    /// An instant before 2000-01-01 or after 2200-01-01 (UTC).
    #[error("{input:?} is outside 2000-01-01..2200-01-01")]
    OutOfRange {
        /// What was typed.
        input: String,
    },
    /// A length longer than allowed.
    #[error("{input:?} is longer than {max}")]
    TooLong {
        /// What was typed.
        input: String,
        /// The longest allowed.
        max: Duration,
    },
    /// An attestation's end that is not after now.
    #[error("{input:?} has already passed (now is {now})")]
    AlreadyPassed {
        /// What was typed.
        input: String,
        /// Now.
        now: OffsetDateTime,
        /// The offset the person thinks in.
        offset: UtcOffset,
    },
    /// An attestation's end more than [`MAX_ATTESTATION`] ahead.
    #[error("{input:?} is more than {MAX_ATTESTATION} ahead")]
    TooFarAhead {
        /// What was typed.
        input: String,
    },
    /// A capacity below 1 byte or above 1 PB.
    #[error("{input:?} is not from 1 byte to 1PB")]
    CapacityOutOfRange {
        /// What was typed.
        input: String,
    },
    /// A kind of place that needs a name after a colon, without one.
    #[error("{kind} needs a name")]
    PlaceNeedsName {
        /// The kind of place, as typed (`offsite`).
        kind: String,
    },
    /// A slot number that is not a number.
    #[error("slot {slot:?} is not a number")]
    SlotNotNumber {
        /// What was typed as the slot.
        slot: String,
    },
    /// A kind of place hokan does not know.
    #[error("unknown place {input:?}")]
    UnknownPlace {
        /// What was typed.
        input: String,
    },
}

fn unreadable(s: &str, expected: Expected) -> ParseError {
    ParseError::Unreadable {
        input: s.to_owned(),
        expected,
    }
}

fn date(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

fn local(s: &str) -> Option<PrimitiveDateTime> {
    PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .or_else(|_| {
        PrimitiveDateTime::parse(
            s,
            format_description!("[year]-[month]-[day] [hour]:[minute]"),
        )
    })
    .ok()
}

/// `t` if it is between [`limits::EARLIEST`] and [`limits::LATEST`].
fn in_range(s: &str, t: OffsetDateTime) -> Result<OffsetDateTime, ParseError> {
    if limits::instant_in_range(t) {
        return Ok(t);
    }
    Err(ParseError::OutOfRange {
        input: s.to_owned(),
    })
}

/// An instant: RFC 3339 (`2026-11-23T08:30:00+09:00`), or a date or
/// `YYYY-MM-DD HH:MM` in `offset`; between 2000-01-01 and 2200-01-01 UTC.
pub fn parse_instant_in(s: &str, offset: UtcOffset) -> Result<OffsetDateTime, ParseError> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return in_range(s, t);
    }
    if let Some(t) = local(s) {
        return in_range(s, t.assume_offset(offset));
    }
    if let Some(d) = date(s) {
        return in_range(
            s,
            PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(offset),
        );
    }
    Err(unreadable(s, Expected::Time))
}

/// `--now`: an instant in UTC unless it says otherwise.
pub fn parse_instant(s: &str) -> Result<OffsetDateTime, ParseError> {
    parse_instant_in(s, UtcOffset::UTC)
}

/// A length of time (`30m`, `2h`, `7d`), from zero to `max`.
pub fn parse_length(s: &str, max: Duration) -> Result<Duration, ParseError> {
    match hokan_offline::span::parse(s) {
        Ok(d) if d <= max => Ok(d),
        Ok(_)
        | Err(hokan_offline::OfflineError::BadSpan {
            why: hokan_offline::span::TOO_LONG,
            ..
        }) => Err(ParseError::TooLong {
            input: s.to_owned(),
            max,
        }),
        Err(_) => Err(unreadable(s, Expected::Length)),
    }
}

/// `--at` of a move, `--from` of an attestation: an instant, or a length
/// ago (`2h` = two hours ago); between 2000-01-01 and 2200-01-01.
pub fn parse_ago(
    s: &str,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Result<OffsetDateTime, ParseError> {
    match hokan_offline::span::parse(s) {
        Ok(d) => in_range(s, limits::earlier(now, d)),
        Err(_) if looks_like_length(s) => {
            parse_length(s, limits::MAX_SPAN).and_then(|d| in_range(s, limits::earlier(now, d)))
        }
        Err(_) => parse_instant_in(s, offset),
    }
}

/// Whether `s` was meant as a length (digits and a unit), so that a length
/// too long is reported as such rather than as an unreadable date.
fn looks_like_length(s: &str) -> bool {
    let s = s.trim();
    let digits = s.trim_end_matches(['s', 'm', 'h', 'd', 'w']);
    !digits.is_empty() && digits.len() + 1 >= s.len() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `--until` of an attestation: a length from now (`90d`), an instant, or a
/// date meaning through the end of that day. It must end after `now` (an
/// attestation that has already run out would count for nothing, silently)
/// and at most [`MAX_ATTESTATION`] (10 years) after it: a person's word
/// about a network or a device must be looked at again.
pub fn parse_until(
    s: &str,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Result<OffsetDateTime, ParseError> {
    let until = if let Ok(d) = hokan_offline::span::parse(s) {
        in_range(s, limits::later(now, d))?
    } else if looks_like_length(s) {
        let d = parse_length(s, MAX_ATTESTATION)?;
        in_range(s, limits::later(now, d))?
    } else if let Some(d) = date(s.trim()) {
        // Through the end of that day; 9999-12-31 has no next day, and is
        // out of range anyway (the epoch stands in for it).
        let end = PrimitiveDateTime::new(d, Time::MIDNIGHT)
            .assume_offset(offset)
            .checked_add(Duration::DAY)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        in_range(s, end)?
    } else {
        parse_instant_in(s, offset)?
    };
    if until <= now {
        return Err(ParseError::AlreadyPassed {
            input: s.to_owned(),
            now,
            offset,
        });
    }
    if until > limits::later(now, MAX_ATTESTATION) {
        return Err(ParseError::TooFarAhead {
            input: s.to_owned(),
        });
    }
    Ok(until)
}

/// A capacity: `12TB` (decimal, as cartridges are sold), `18TiB`, `500GB`,
/// or plain bytes; from 1 byte to 1 PB.
pub fn parse_capacity(s: &str) -> Result<u64, ParseError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| unreadable(s, Expected::Capacity))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024f64,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        _ => return Err(unreadable(s, Expected::Capacity)),
    };
    let bytes = n * mult;
    if !(1.0..=MAX_CAPACITY as f64).contains(&bytes) {
        return Err(ParseError::CapacityOutOfRange {
            input: s.to_owned(),
        });
    }
    Ok(bytes as u64)
}

/// A location as typed after `--to` (`shelf:金庫A`, `slot:lib1:7`, …).
pub fn parse_location(s: &str) -> Result<Location, ParseError> {
    let (what, rest) = match s.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let need = |arg: Option<&str>| -> Result<String, ParseError> {
        match arg.filter(|a| !a.trim().is_empty()) {
            Some(a) => Ok(a.trim().to_owned()),
            None => Err(ParseError::PlaceNeedsName {
                kind: what.to_owned(),
            }),
        }
    };
    let dev_slot = |arg: Option<&str>| -> Result<(String, Option<u32>), ParseError> {
        let a = need(arg)?;
        match a.rsplit_once(':') {
            Some((dev, n)) => match n.parse() {
                Ok(n) => Ok((dev.to_owned(), Some(n))),
                Err(_) => Err(ParseError::SlotNotNumber { slot: n.to_owned() }),
            },
            None => Ok((a, None)),
        }
    };
    let opt = |arg: Option<&str>| {
        arg.map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
    };
    Ok(match what.trim().to_ascii_lowercase().as_str() {
        "shelf" => Location::Shelf { place: opt(rest) },
        "offsite" => Location::Offsite { site: need(rest)? },
        "drive" => Location::InDrive {
            drive: need(rest)?.into(),
        },
        "slot" | "library-slot" => {
            let (library, slot) = dev_slot(rest)?;
            Location::LibrarySlot {
                library: library.into(),
                slot,
            }
        }
        "mailslot" | "mail-slot" => Location::MailSlot {
            library: need(rest)?.into(),
        },
        "exported" => Location::Exported {
            changer: need(rest)?.into(),
        },
        "ejected" => Location::Ejected {
            drive: opt(rest).map(Into::into),
        },
        "inactive-slot" => {
            let (autoloader, slot) = dev_slot(rest)?;
            Location::InactiveSlot {
                autoloader: autoloader.into(),
                slot,
            }
        }
        "active-slot" => Location::ActiveSlot {
            autoloader: need(rest)?.into(),
        },
        "connected" => Location::Connected { host: opt(rest) },
        "unknown" => Location::Unknown,
        _ => {
            return Err(ParseError::UnknownPlace {
                input: s.to_owned(),
            })
        }
    })
}

fn bad(what: &str, s: &str, need: &str, need_ja: &str) -> Text {
    Text::new(
        format!("cannot read {s:?} as {what}: write {need}"),
        format!("{s:?} を読めません: {need_ja} の形で指定してください"),
    )
}

impl ParseError {
    /// The sentence a person reads, in both languages: what was refused
    /// and what to write instead.
    pub fn text(&self) -> Text {
        match self {

            ParseError::Unreadable {
                input: s,
                expected: Expected::Time,
            } => bad(
                "a time",
                s,
                "2026-11-23T08:30:00+09:00, 2026-11-23 08:30 or 2026-11-23",
                "2026-11-23T08:30:00+09:00、2026-11-23 08:30、2026-11-23 のいずれか",
            ),
            ParseError::Unreadable {
                input: s,
                expected: Expected::Length,
            } => bad(
                "a length of time",
                s,
                "a whole number and one unit, e.g. 30m, 2h or 7d",
                "30m、2h、7d のような整数と単位",
            ),
            ParseError::Unreadable { input: s, .. } => bad(
                "a capacity",
                s,
                "12TB, 18TiB or 500GB",
                "12TB、18TiB、500GB など",
            ),
            ParseError::OutOfRange { input: s } => Text::new(
                format!("{s:?} is outside the dates hokan accepts: from 2000-01-01 to 2200-01-01 (UTC)"),
                format!("{s:?} は hokan が受け付ける日付の範囲外です。2000-01-01 から 2200-01-01（UTC）までの日時を指定してください"),
            ),
            ParseError::TooLong { input: s, max } => {
                let m = hokan_offline::span::format(*max);
                Text::new(
                    format!("{s:?} is too long: at most {m}"),
                    format!("{s:?} は長すぎます。最長 {m} です"),
                )
            }
            ParseError::AlreadyPassed { input: s, now, offset } => Text::new(
                format!(
                    "{s:?} has already passed: an attestation must hold until a time after now ({})",
                    hokan_offline::text::when(*now, *offset)
                ),
                format!(
                    "{s:?} は既に過ぎています。証明の有効期限は現在（{}）より後にしてください",
                    hokan_offline::text::when(*now, *offset)
                ),
            ),
            ParseError::TooFarAhead { input: s } => {
                let (max_en, max_ja) = limits::MAX_ATTESTATION_TEXT;
                Text::new(
                    format!("{s:?} is too far ahead: an attestation may hold at most {max_en} from now; renew it before it runs out"),
                    format!("{s:?} は先すぎます。証明の有効期限は現在から最長 {max_ja} です。期限が来る前に更新してください"),
                )
            }
            ParseError::CapacityOutOfRange { input: s } => Text::new(
                format!("{s:?} is not a capacity hokan accepts: from 1 byte to 1PB"),
                format!("{s:?} は受け付けられる容量ではありません。1 バイトから 1PB の範囲で指定してください"),
            ),
            ParseError::PlaceNeedsName { kind: what } => Text::new(
                format!("{what} needs a name after a colon, e.g. {what}:lib1"),
                format!("{what} の後にコロンと名前が必要です（例: {what}:lib1）"),
            ),
            ParseError::SlotNotNumber { slot: n } => Text::new(
                format!("slot {n:?} is not a number"),
                format!("スロット {n:?} は数字ではありません"),
            ),
            ParseError::UnknownPlace { input: s } => Text::new(
                format!("unknown place {s:?}: use shelf[:PLACE], offsite:SITE, drive:DRIVE, slot:LIBRARY[:N], mailslot:LIBRARY, exported:CHANGER, ejected[:DRIVE], inactive-slot:AUTOLOADER[:N], active-slot:AUTOLOADER, connected[:HOST] or unknown"),
                format!("場所 {s:?} が分かりません: shelf[:場所]、offsite:拠点、drive:ドライブ、slot:ライブラリ[:番号]、mailslot:ライブラリ、exported:チェンジャ、ejected[:ドライブ]、inactive-slot:オートローダ[:番号]、active-slot:オートローダ、connected[:ホスト]、unknown のいずれかを指定してください"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{datetime, offset};

    #[test]
    fn locations_read_as_typed() {
        assert_eq!(
            parse_location("shelf").unwrap(),
            Location::Shelf { place: None }
        );
        assert_eq!(
            parse_location("shelf:金庫A").unwrap(),
            Location::Shelf {
                place: Some("金庫A".into())
            }
        );
        assert_eq!(
            parse_location("slot:lib1:7").unwrap(),
            Location::LibrarySlot {
                library: "lib1".into(),
                slot: Some(7)
            }
        );
        assert_eq!(
            parse_location("offsite:bank").unwrap(),
            Location::Offsite {
                site: "bank".into()
            }
        );
        assert_eq!(
            parse_location("offsite").unwrap_err(),
            ParseError::PlaceNeedsName {
                kind: "offsite".into()
            }
        );
        assert_eq!(
            parse_location("slot:lib1:x").unwrap_err(),
            ParseError::SlotNotNumber { slot: "x".into() }
        );
        assert_eq!(
            parse_location("cupboard").unwrap_err(),
            ParseError::UnknownPlace {
                input: "cupboard".into()
            }
        );
    }

    #[test]
    fn times_and_lengths() {
        let now = datetime!(2026-11-23 00:00 UTC);
        let jst = offset!(+9);
        assert_eq!(
            parse_until("2027-03-31", now, jst).unwrap(),
            datetime!(2027-04-01 00:00 +9)
        );
        assert_eq!(
            parse_until("90d", now, jst).unwrap(),
            now + Duration::days(90)
        );
        assert_eq!(parse_ago("2h", now, jst).unwrap(), now - Duration::hours(2));
        assert_eq!(
            parse_ago("2026-11-22 18:00", now, jst).unwrap(),
            datetime!(2026-11-22 18:00 +9)
        );
        assert_eq!(
            parse_ago("yesterday", now, jst).unwrap_err(),
            ParseError::Unreadable {
                input: "yesterday".into(),
                expected: Expected::Time
            }
        );
        assert_eq!(parse_capacity("12TB").unwrap(), 12_000_000_000_000);
        assert_eq!(parse_capacity("1TiB").unwrap(), 1 << 40);
        assert!(matches!(
            parse_capacity("12 bananas"),
            Err(ParseError::Unreadable {
                expected: Expected::Capacity,
                ..
            })
        ));
    }

    /// `--now` is UTC unless it says otherwise; a date alone is midnight.
    #[test]
    fn now_is_utc_unless_it_names_an_offset() {
        assert_eq!(
            parse_instant("2026-11-23").unwrap(),
            datetime!(2026-11-23 00:00 UTC)
        );
        assert_eq!(
            parse_instant(" 2026-11-23T08:30:00+09:00 ").unwrap(),
            datetime!(2026-11-22 23:30 UTC)
        );
        assert_eq!(
            parse_instant_in("2026-11-23 08:30", offset!(+9)).unwrap(),
            datetime!(2026-11-22 23:30 UTC)
        );
        // The input named in the error is the trimmed one.
        assert_eq!(
            parse_instant(" later ").unwrap_err(),
            ParseError::Unreadable {
                input: "later".into(),
                expected: Expected::Time
            }
        );
    }

    /// Issue 12: `--until 9999-12-31` panicked on `+ 1 day`; far dates,
    /// past ends and ends beyond ten years are refused.
    #[test]
    fn until_is_after_now_and_within_ten_years() {
        let now = datetime!(2026-11-23 00:00 UTC);
        let jst = offset!(+9);
        for s in [
            "9999-12-31",
            "9999-12-31T23:59:59Z",
            "1999-01-01",
            "2200-01-02",
        ] {
            assert!(parse_until(s, now, jst).is_err(), "{s}");
        }
        assert_eq!(
            parse_until("2026-11-01", now, jst).unwrap_err(),
            ParseError::AlreadyPassed {
                input: "2026-11-01".into(),
                now,
                offset: jst
            }
        );
        assert_eq!(
            parse_until("2037-01-01", now, jst).unwrap_err(),
            ParseError::TooFarAhead {
                input: "2037-01-01".into()
            }
        );
        assert!(parse_until("3653d", now, jst).is_ok());
        assert!(parse_until("3654d", now, jst).is_err());
        assert!(matches!(
            parse_until("36526d", now, jst),
            Err(ParseError::TooLong { .. })
        ));
        assert!(parse_until("0s", now, jst).is_err());
    }

    #[test]
    fn instants_are_between_2000_and_2200() {
        assert!(parse_instant("1999-12-31T23:59:59Z").is_err());
        assert!(parse_instant("2000-01-01T00:00:00Z").is_ok());
        assert!(parse_instant("2200-01-01T00:00:00Z").is_ok());
        assert_eq!(
            parse_instant("2200-01-01T00:00:01Z").unwrap_err(),
            ParseError::OutOfRange {
                input: "2200-01-01T00:00:01Z".into()
            }
        );
        let now = datetime!(2026-11-23 00:00 UTC);
        assert!(matches!(
            parse_ago("99999999d", now, UtcOffset::UTC),
            Err(ParseError::TooLong { max, .. }) if max == limits::MAX_SPAN
        ));
        assert!(
            parse_ago("36525d", now, UtcOffset::UTC).is_err(),
            "before 2000"
        );
        assert!(parse_capacity("0").is_err());
        assert!(parse_capacity("2PB").is_err());
        assert!(parse_capacity("1000TB").is_ok());
        assert_eq!(
            parse_length("7d", limits::MAX_CARTRIDGE_WAIT).unwrap(),
            Duration::days(7)
        );
        assert!(parse_length("8d", limits::MAX_CARTRIDGE_WAIT).is_err());
    }

    fn now_strategy() -> impl Strategy<Value = OffsetDateTime> {
        (limits::EARLIEST.unix_timestamp()..=limits::LATEST.unix_timestamp())
            .prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap())
    }

    fn offset_strategy() -> impl Strategy<Value = UtcOffset> {
        (-12 * 4..=14 * 4).prop_map(|q| UtcOffset::from_whole_seconds(q * 900).unwrap())
    }

    /// Text that looks like what people type: dates, times, lengths,
    /// numbers, plus any printable noise.
    fn typed() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC*",
            "[0-9]{1,20}[smhdw]?",
            "[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?",
            "[0-9.]{1,25}(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?",
        ]
    }

    proptest! {
        /// Whatever is typed, the parsers never panic, and whatever they
        /// accept is within the documented range.
        #[test]
        fn parsers_never_panic_and_accept_only_in_range(
            s in typed(),
            now in now_strategy(),
            off in offset_strategy(),
        ) {
            if let Ok(t) = parse_instant_in(&s, off) {
                prop_assert!(limits::instant_in_range(t), "{s:?} -> {t}");
            }
            if let Ok(t) = parse_instant(&s) {
                prop_assert!(limits::instant_in_range(t), "{s:?} -> {t}");
            }
            if let Ok(t) = parse_ago(&s, now, off) {
                prop_assert!(limits::instant_in_range(t), "{s:?} -> {t}");
            }
            if let Ok(t) = parse_until(&s, now, off) {
                prop_assert!(t > now && t <= now + MAX_ATTESTATION, "{s:?} -> {t}");
                prop_assert!(limits::instant_in_range(t), "{s:?} -> {t}");
            }
            if let Ok(d) = parse_length(&s, limits::MAX_SPAN) {
                prop_assert!(d >= Duration::ZERO && d <= limits::MAX_SPAN, "{s:?} -> {d}");
            }
            if let Ok(n) = parse_capacity(&s) {
                prop_assert!((1..=MAX_CAPACITY).contains(&n), "{s:?} -> {n}");
            }
            let _ = parse_location(&s);
        }
    }
}
