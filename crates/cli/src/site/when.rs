//! Reading times, lengths, capacities and locations as people type them.

use hokan_offline::{Location, Text};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

fn bad(what: &str, s: &str, need: &str, need_ja: &str) -> Text {
    Text::new(
        format!("cannot read {s:?} as {what}: write {need}"),
        format!("{s:?} を読めません: {need_ja} の形で指定してください"),
    )
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

/// An instant: RFC 3339 (`2026-11-23T08:30:00+09:00`), or a date or
/// `YYYY-MM-DD HH:MM` in the site's offset.
pub fn parse_instant_in(s: &str, offset: UtcOffset) -> Result<OffsetDateTime, Text> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    if let Some(t) = local(s) {
        return Ok(t.assume_offset(offset));
    }
    if let Some(d) = date(s) {
        return Ok(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(offset));
    }
    Err(bad(
        "a time",
        s,
        "2026-11-23T08:30:00+09:00, 2026-11-23 08:30 or 2026-11-23",
        "2026-11-23T08:30:00+09:00、2026-11-23 08:30、2026-11-23 のいずれか",
    ))
}

/// `--now`: an instant in UTC unless it says otherwise.
pub fn parse_instant(s: &str, _now: OffsetDateTime) -> Result<OffsetDateTime, Text> {
    parse_instant_in(s, UtcOffset::UTC)
}

/// `--at` of a move: an instant, or a length ago (`2h` = two hours ago).
pub fn parse_ago(s: &str, now: OffsetDateTime, offset: UtcOffset) -> Result<OffsetDateTime, Text> {
    if let Ok(d) = hokan_offline::span::parse(s) {
        return Ok(now - d);
    }
    parse_instant_in(s, offset)
}

/// `--until` of an attestation: a length from now (`90d`), an instant, or a
/// date meaning through the end of that day.
pub fn parse_until(
    s: &str,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Result<OffsetDateTime, Text> {
    if let Ok(d) = hokan_offline::span::parse(s) {
        return Ok(now + d);
    }
    if let Some(d) = date(s.trim()) {
        return Ok(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(offset) + Duration::DAY);
    }
    parse_instant_in(s, offset)
}

/// A capacity: `12TB` (decimal, as cartridges are sold), `18TiB`, `500GB`,
/// or plain bytes.
pub fn parse_capacity(s: &str) -> Result<u64, Text> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        bad(
            "a capacity",
            s,
            "12TB, 18TiB or 500GB",
            "12TB、18TiB、500GB など",
        )
    })?;
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
        _ => {
            return Err(bad(
                "a capacity",
                s,
                "12TB, 18TiB or 500GB",
                "12TB、18TiB、500GB など",
            ))
        }
    };
    Ok((n * mult) as u64)
}

/// A location as typed after `--to`.
pub fn parse_location(s: &str) -> Result<Location, Text> {
    let (what, rest) = match s.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let need = |arg: Option<&str>| -> Result<String, Text> {
        match arg.filter(|a| !a.trim().is_empty()) {
            Some(a) => Ok(a.trim().to_owned()),
            None => Err(Text::new(
                format!("{what} needs a name after a colon, e.g. {what}:lib1"),
                format!("{what} の後にコロンと名前が必要です（例: {what}:lib1）"),
            )),
        }
    };
    let dev_slot = |arg: Option<&str>| -> Result<(String, Option<u32>), Text> {
        let a = need(arg)?;
        match a.rsplit_once(':') {
            Some((dev, n)) => match n.parse() {
                Ok(n) => Ok((dev.to_owned(), Some(n))),
                Err(_) => Err(Text::new(
                    format!("slot {n:?} is not a number"),
                    format!("スロット {n:?} は数字ではありません"),
                )),
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
            return Err(Text::new(
                format!("unknown place {s:?}: use shelf[:PLACE], offsite:SITE, drive:DRIVE, slot:LIBRARY[:N], mailslot:LIBRARY, exported:CHANGER, ejected[:DRIVE], inactive-slot:AUTOLOADER[:N], active-slot:AUTOLOADER, connected[:HOST] or unknown"),
                format!("場所 {s:?} が分かりません: shelf[:場所]、offsite:拠点、drive:ドライブ、slot:ライブラリ[:番号]、mailslot:ライブラリ、exported:チェンジャ、ejected[:ドライブ]、inactive-slot:オートローダ[:番号]、active-slot:オートローダ、connected[:ホスト]、unknown のいずれかを指定してください"),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(parse_location("offsite").is_err());
        assert!(parse_location("slot:lib1:x").is_err());
        let e = parse_location("cupboard").unwrap_err();
        assert!(e.en.contains("shelf[:PLACE]") && e.ja.contains("cupboard"));
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
        assert!(parse_ago("yesterday", now, jst).is_err());
        assert_eq!(parse_capacity("12TB").unwrap(), 12_000_000_000_000);
        assert_eq!(parse_capacity("1TiB").unwrap(), 1 << 40);
        assert!(parse_capacity("12 bananas").is_err());
    }
}
