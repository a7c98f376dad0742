//! Sentences in English and Japanese.
//!
//! The evaluator writes the sentences itself, both languages side by side,
//! because only it knows which medium, date and 項番 a problem is about; the
//! binary only chooses which language to print. Times are shown in the offset
//! of the `now` the evaluation was made with (the site's local time), to the
//! minute, with the offset spelled out so a report read elsewhere is not
//! misread.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

/// One sentence in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// English.
    pub en: String,
    /// 日本語.
    pub ja: String,
}

impl Text {
    /// Both languages.
    pub fn new(en: impl Into<String>, ja: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            ja: ja.into(),
        }
    }
}

impl fmt::Display for Text {
    /// English, then Japanese: for logs and test failures. People get one
    /// language chosen by the binary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.en, self.ja)
    }
}

/// `2025-04-01 09:00 +09:00`: an instant in the given offset.
pub fn when(t: OffsetDateTime, offset: UtcOffset) -> String {
    let format = format_description!(
        "[year]-[month]-[day] [hour]:[minute] [offset_hour sign:mandatory]:[offset_minute]"
    );
    // An instant near the end of representable time (an attestation
    // "until 9999-12-31" written straight into the catalog) may not fit in
    // another offset: show it in its own rather than panic.
    t.checked_to_offset(offset)
        .unwrap_or(t)
        .format(&format)
        .unwrap_or_else(|_| t.to_string())
}

/// `2025-04-01`: a day in the given offset.
pub fn day(t: OffsetDateTime, offset: UtcOffset) -> String {
    let format = format_description!("[year]-[month]-[day]");
    // An instant near the end of representable time (an attestation
    // "until 9999-12-31" written straight into the catalog) may not fit in
    // another offset: show it in its own rather than panic.
    t.checked_to_offset(offset)
        .unwrap_or(t)
        .format(&format)
        .unwrap_or_else(|_| t.to_string())
}

/// A length of time, rounded down to whole days, hours or minutes.
pub fn span(d: Duration) -> Text {
    let days = d.whole_days();
    let hours = d.whole_hours();
    if days >= 2 || (days == 1 && hours == 24) {
        let unit = if days == 1 { "day" } else { "days" };
        Text::new(format!("{days} {unit}"), format!("{days}日"))
    } else if hours >= 1 {
        let unit = if hours == 1 { "hour" } else { "hours" };
        Text::new(format!("{hours} {unit}"), format!("{hours}時間"))
    } else {
        let m = d.whole_minutes().max(0);
        let unit = if m == 1 { "minute" } else { "minutes" };
        Text::new(format!("{m} {unit}"), format!("{m}分"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn times_in_the_site_offset() {
        let t = datetime!(2025-04-01 00:30 UTC);
        assert_eq!(when(t, offset!(+9)), "2025-04-01 09:30 +09:00");
        assert_eq!(day(t, offset!(-5)), "2025-03-31");
    }

    #[test]
    fn spans_round_down() {
        assert_eq!(span(Duration::hours(30)).en, "30 hours");
        assert_eq!(span(Duration::hours(24)).en, "1 day");
        assert_eq!(span(Duration::hours(49)).ja, "2日");
        assert_eq!(span(Duration::minutes(1)).en, "1 minute");
    }
}
