//! What a refused time, length, capacity or place says, in both languages.
//!
//! The parsing itself (and its ranges) is [`hokan_jobs::when`]; these
//! wrappers keep the signatures the commands use and turn a
//! [`ParseError`] into the sentence a person reads. The caller names the
//! argument and exits with a usage failure (exit 2).

use hokan_jobs::when::{self as parse, Expected, ParseError};
use hokan_offline::limits;
use hokan_offline::{Location, Text};
use time::{Duration, OffsetDateTime, UtcOffset};

fn bad(what: &str, s: &str, need: &str, need_ja: &str) -> Text {
    Text::new(
        format!("cannot read {s:?} as {what}: write {need}"),
        format!("{s:?} を読めません: {need_ja} の形で指定してください"),
    )
}

/// The sentence of a refused value.
pub fn text(e: &ParseError) -> Text {
    match e {
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
        // A refusal added to the library later: its log text, until it
        // has sentences here.
        other => Text::new(other.to_string(), other.to_string()),
    }
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
            parse_length("soon", limits::MAX_SPAN).unwrap_err().en,
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
