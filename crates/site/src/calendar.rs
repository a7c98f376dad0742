//! Calendar expressions for schedules, in the form systemd's `OnCalendar=`
//! uses (`man systemd.time`), so an IT person who knows timers reads them
//! at once:
//!
//! | written | means |
//! |---|---|
//! | `Mon..Fri 22:00` | weekdays at 22:00 |
//! | `Sun 02:00` | Sundays at 02:00 |
//! | `*-*-01 03:00` | the first of every month at 03:00 |
//! | `Mon,Wed,Fri *-*-* 21:30:00` | the full form |
//! | `daily`, `weekly`, `monthly` | 00:00 every day / Monday / first day |
//!
//! An expression is up to three parts, in this order, each optional but
//! not all absent: weekdays (`Mon`, `Mon..Fri`, `Sat,Sun`), a date
//! (`YEAR-MONTH-DAY` or `MONTH-DAY`), a time (`HOUR:MINUTE[:SECOND]`). Each
//! date or time component is `*` or a comma list of values, ranges `a..b`
//! and steps `a/n` or `a..b/n`. A missing date means every day; a missing
//! time means 00:00:00. Not supported (refused with a message, never
//! guessed): `~` (days from the end of a month), time zones inside the
//! expression (schedules run in the site's `timezone`), fractional seconds.
//!
//! [`Calendar::next_after`] gives the first instant strictly after a given
//! one, in that instant's UTC offset; the daemon and `run --dry-run` use
//! it to say when a schedule fires next.

use std::fmt;

use time::{Date, Duration, OffsetDateTime, Time};

/// A parsed calendar expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    /// Bit `n` set: weekday `n` (Monday = 0) matches.
    weekdays: u8,
    years: Field,
    months: Field,
    days: Field,
    hours: Field,
    minutes: Field,
    seconds: Field,
    text: String,
}

/// One component: every value, or a list of values, ranges and steps.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Field {
    Any,
    List(Vec<Run>),
}

/// `start..=end` every `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    start: u32,
    end: u32,
    step: u32,
}

impl Field {
    fn matches(&self, v: u32) -> bool {
        match self {
            Field::Any => true,
            Field::List(runs) => runs
                .iter()
                .any(|r| v >= r.start && v <= r.end && (v - r.start).is_multiple_of(r.step)),
        }
    }
}

/// Why an expression was refused, in English and Japanese.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("calendar expression {expr:?}: {en}")]
pub struct CalendarError {
    /// The expression as written.
    pub expr: String,
    /// What is wrong, in English.
    pub en: String,
    /// What is wrong, in Japanese.
    pub ja: String,
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

const SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The first and last year an expression may name; an instant outside is
/// never searched.
const YEARS: (u32, u32) = (1970, 2199);

/// How far ahead [`Calendar::next_after`] looks: enough for "29 February"
/// on a Monday (28 years), bounded so a never-matching expression
/// (`*-02-30`) ends.
const HORIZON_DAYS: i64 = 366 * 30;

impl Calendar {
    /// Read an expression. Refuses what systemd would refuse and the parts
    /// hokan does not support, saying which.
    pub fn parse(expr: &str) -> Result<Calendar, CalendarError> {
        let err = |en: String, ja: String| CalendarError {
            expr: expr.to_owned(),
            en,
            ja,
        };
        let trimmed = expr.trim();
        let full = match trimmed.to_ascii_lowercase().as_str() {
            "daily" => "*-*-* 00:00:00".to_owned(),
            "weekly" => "Mon *-*-* 00:00:00".to_owned(),
            "monthly" => "*-*-01 00:00:00".to_owned(),
            "hourly" => "*-*-* *:00:00".to_owned(),
            "" => {
                return Err(err(
                    "it is empty; write e.g. \"Mon..Fri 22:00\"".into(),
                    "空です。例: \"Mon..Fri 22:00\"".into(),
                ))
            }
            _ => trimmed.to_owned(),
        };
        if full.contains('~') {
            return Err(err(
                "`~` (days counted from the end of a month) is not supported; name the days, e.g. *-*-28".into(),
                "`~`（月末からの日数）には対応していません。日を直接書いてください（例: *-*-28）".into(),
            ));
        }
        let mut parts: Vec<&str> = full.split_whitespace().collect();
        if parts.len() > 3 {
            return Err(err(
                "too many parts: at most weekdays, a date and a time, separated by spaces (a time zone is not allowed: schedules run in the site's timezone)".into(),
                "部分が多すぎます。曜日・日付・時刻をスペースで区切って最大 3 つまでです（タイムゾーンは書けません。スケジュールはサイトの timezone で動きます）".into(),
            ));
        }
        let mut weekdays = 0x7f;
        if let Some(first) = parts.first() {
            if first
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            {
                weekdays = parse_weekdays(first).map_err(|(en, ja)| err(en, ja))?;
                parts.remove(0);
            }
        }
        let (mut date, mut time) = (None, None);
        for p in parts {
            if p.contains(':') && time.is_none() {
                time = Some(p);
            } else if p.contains('-') && date.is_none() && time.is_none() {
                date = Some(p);
            } else {
                return Err(err(
                    format!("cannot read {p:?}: expected weekdays, then a date like *-*-01, then a time like 22:00"),
                    format!("{p:?} を読めません。曜日、日付（例 *-*-01）、時刻（例 22:00）の順に書いてください"),
                ));
            }
        }
        let (years, months, days) = match date {
            None => (Field::Any, Field::Any, Field::Any),
            Some(d) => {
                let c: Vec<&str> = d.split('-').collect();
                let (y, m, dd) = match c.as_slice() {
                    [y, m, dd] => (*y, *m, *dd),
                    [m, dd] => ("*", *m, *dd),
                    _ => {
                        return Err(err(
                            format!("date {d:?}: write YEAR-MONTH-DAY or MONTH-DAY, each a number, a range a..b or *"),
                            format!("日付 {d:?}: 年-月-日 か 月-日 で書いてください（数、範囲 a..b、または *）"),
                        ))
                    }
                };
                (
                    parse_field(y, "year", YEARS).map_err(|(en, ja)| err(en, ja))?,
                    parse_field(m, "month", (1, 12)).map_err(|(en, ja)| err(en, ja))?,
                    parse_field(dd, "day", (1, 31)).map_err(|(en, ja)| err(en, ja))?,
                )
            }
        };
        let (hours, minutes, seconds) = match time {
            None => (single(0), single(0), single(0)),
            Some(t) => {
                let c: Vec<&str> = t.split(':').collect();
                let (h, mi, s) = match c.as_slice() {
                    [h, mi] => (*h, *mi, "0"),
                    [h, mi, s] => (*h, *mi, *s),
                    _ => {
                        return Err(err(
                            format!("time {t:?}: write HOUR:MINUTE or HOUR:MINUTE:SECOND"),
                            format!("時刻 {t:?}: 時:分 か 時:分:秒 で書いてください"),
                        ))
                    }
                };
                if s.contains('.') {
                    return Err(err(
                        "fractions of a second are not supported".into(),
                        "秒の小数には対応していません".into(),
                    ));
                }
                (
                    parse_field(h, "hour", (0, 23)).map_err(|(en, ja)| err(en, ja))?,
                    parse_field(mi, "minute", (0, 59)).map_err(|(en, ja)| err(en, ja))?,
                    parse_field(s, "second", (0, 59)).map_err(|(en, ja)| err(en, ja))?,
                )
            }
        };
        Ok(Calendar {
            weekdays,
            years,
            months,
            days,
            hours,
            minutes,
            seconds,
            text: trimmed.to_owned(),
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the expression matches `date` (any time of that day).
    pub fn matches_date(&self, date: Date) -> bool {
        self.weekdays & (1 << date.weekday().number_days_from_monday()) != 0
            && self.years.matches(date.year() as u32)
            && self.months.matches(u8::from(date.month()) as u32)
            && self.days.matches(date.day() as u32)
    }

    /// The first instant strictly after `after` that the expression
    /// matches, read in `after`'s UTC offset; `None` when none comes within
    /// about 30 years (e.g. `*-02-30`).
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let offset = after.offset();
        // Whole seconds: the first candidate is the next second.
        let start = after.replace_nanosecond(0).ok()? + Duration::seconds(1);
        let mut date = start.date();
        for day in 0..HORIZON_DAYS {
            if self.matches_date(date) {
                let from = if day == 0 {
                    start.time()
                } else {
                    Time::MIDNIGHT
                };
                if let Some(t) = self.first_time_from(from) {
                    return Some(date.with_time(t).assume_offset(offset));
                }
            }
            date = date.next_day()?;
        }
        None
    }

    /// The first matching time of day at or after `from`.
    fn first_time_from(&self, from: Time) -> Option<Time> {
        for h in from.hour() as u32..24 {
            if !self.hours.matches(h) {
                continue;
            }
            let m0 = if h == from.hour() as u32 {
                from.minute() as u32
            } else {
                0
            };
            for m in m0..60 {
                if !self.minutes.matches(m) {
                    continue;
                }
                let s0 = if h == from.hour() as u32 && m == from.minute() as u32 {
                    from.second() as u32
                } else {
                    0
                };
                if let Some(s) = (s0..60).find(|s| self.seconds.matches(*s)) {
                    return Time::from_hms(h as u8, m as u8, s as u8).ok();
                }
            }
        }
        None
    }
}

impl serde::Serialize for Calendar {
    /// As written, so `config check --json` shows what the person wrote.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl fmt::Display for Calendar {
    /// The expression as written (the normal form is for [`Calendar::normalized`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Calendar {
    /// The full form, as `systemd-analyze calendar` prints it:
    /// `Mon..Fri *-*-* 22:00:00`.
    pub fn normalized(&self) -> String {
        let mut out = String::new();
        if self.weekdays != 0x7f {
            out.push_str(&weekday_text(self.weekdays));
            out.push(' ');
        }
        let f = |field: &Field, width: usize| match field {
            Field::Any => "*".to_owned(),
            Field::List(runs) => runs
                .iter()
                .map(|r| {
                    let mut s = format!("{:0width$}", r.start);
                    if r.end != r.start && !(r.step > 1 && r.end == u32::MAX) {
                        s.push_str(&format!("..{:0width$}", r.end));
                    }
                    if r.step > 1 {
                        s.push_str(&format!("/{}", r.step));
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join(","),
        };
        out.push_str(&format!(
            "{}-{}-{} {}:{}:{}",
            f(&self.years, 4),
            f(&self.months, 2),
            f(&self.days, 2),
            f(&self.hours, 2),
            f(&self.minutes, 2),
            f(&self.seconds, 2)
        ));
        out
    }
}

fn single(v: u32) -> Field {
    Field::List(vec![Run {
        start: v,
        end: v,
        step: 1,
    }])
}

fn weekday_text(mask: u8) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < 7 {
        if mask & (1 << i) == 0 {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < 7 && mask & (1 << (j + 1)) != 0 {
            j += 1;
        }
        parts.push(match j - i {
            0 => SHORT[i].to_owned(),
            1 => format!("{},{}", SHORT[i], SHORT[j]),
            _ => format!("{}..{}", SHORT[i], SHORT[j]),
        });
        i = j + 1;
    }
    parts.join(",")
}

type Why = (String, String);

fn weekday(name: &str) -> Result<u32, Why> {
    let n = name.to_ascii_lowercase();
    WEEKDAYS
        .iter()
        .position(|(s, l)| n == *s || n == *l)
        .map(|i| i as u32)
        .ok_or_else(|| {
            (
                format!("{name:?} is not a weekday: write Mon, Tue, Wed, Thu, Fri, Sat or Sun"),
                format!("{name:?} は曜日ではありません。Mon, Tue, Wed, Thu, Fri, Sat, Sun のいずれかを書いてください"),
            )
        })
}

fn parse_weekdays(s: &str) -> Result<u8, Why> {
    let mut mask = 0u8;
    for item in s.split(',').filter(|i| !i.is_empty()) {
        let (a, b) = match item.split_once("..") {
            Some((a, b)) => (weekday(a)?, weekday(b)?),
            None => {
                let d = weekday(item)?;
                (d, d)
            }
        };
        // Sat..Mon wraps around the week, as in systemd.
        let mut d = a;
        loop {
            mask |= 1 << d;
            if d == b {
                break;
            }
            d = (d + 1) % 7;
        }
    }
    if mask == 0 {
        return Err((
            format!("no weekday in {s:?}"),
            format!("{s:?} に曜日がありません"),
        ));
    }
    Ok(mask)
}

fn number(s: &str, what: &str, (lo, hi): (u32, u32)) -> Result<u32, Why> {
    let v: u32 = s.parse().map_err(|_| {
        (
            format!("{what} {s:?} is not a number"),
            format!("{what} の {s:?} は数ではありません"),
        )
    })?;
    if v < lo || v > hi {
        return Err((
            format!("{what} {v} is out of range: {lo} to {hi}"),
            format!("{what} の {v} は範囲外です（{lo}〜{hi}）"),
        ));
    }
    Ok(v)
}

fn parse_field(s: &str, what: &str, range: (u32, u32)) -> Result<Field, Why> {
    if s == "*" {
        return Ok(Field::Any);
    }
    let mut runs = Vec::new();
    for item in s.split(',') {
        let (body, step) = match item.split_once('/') {
            Some((b, st)) => {
                let st: u32 = st.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    (
                        format!("{what} step {st:?} must be a whole number above 0"),
                        format!("{what} の間隔 {st:?} は 1 以上の整数にしてください"),
                    )
                })?;
                (b, st)
            }
            None => (item, 1),
        };
        let (start, end) = match body.split_once("..") {
            Some((a, b)) => (number(a, what, range)?, number(b, what, range)?),
            None if body == "*" => (range.0, range.1),
            // `a/n` repeats from a to the end of the range.
            None if step > 1 => (number(body, what, range)?, range.1),
            None => {
                let v = number(body, what, range)?;
                (v, v)
            }
        };
        if end < start {
            return Err((
                format!("{what} range {body:?} runs backwards"),
                format!("{what} の範囲 {body:?} が逆順です"),
            ));
        }
        runs.push(Run { start, end, step });
    }
    Ok(Field::List(runs))
}

/// Whether a target with `schedule` is due at `now`, its last completed
/// copy made at `last_done`. Without a schedule: always (every night's run
/// copies to it). With one: when an occurrence has passed since the last
/// copy — so a missed night is caught up once, not once per missed night.
/// A target never copied to counts its last copy as a day ago: due if an
/// occurrence fell within the last 24 hours.
pub fn due(
    schedule: Option<&Calendar>,
    last_done: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> bool {
    let Some(c) = schedule else { return true };
    let since = last_done
        .unwrap_or(now - Duration::days(1))
        .to_offset(now.offset());
    c.next_after(since).is_some_and(|t| t <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn next(expr: &str, after: OffsetDateTime) -> OffsetDateTime {
        Calendar::parse(expr).unwrap().next_after(after).unwrap()
    }

    // 2026-12-05 is a Saturday.
    const SAT_NOON: OffsetDateTime = datetime!(2026-12-05 12:00 +09:00);

    #[test]
    fn the_issue_examples_fire_when_systemd_would() {
        assert_eq!(
            next("Mon..Fri 22:00", SAT_NOON),
            datetime!(2026-12-07 22:00 +09:00)
        );
        assert_eq!(
            next("Sun 02:00", SAT_NOON),
            datetime!(2026-12-06 02:00 +09:00)
        );
        assert_eq!(
            next("*-*-01 03:00", SAT_NOON),
            datetime!(2027-01-01 03:00 +09:00)
        );
        // Later the same day, and strictly after: at 22:00 the next is tomorrow's.
        let mon = datetime!(2026-12-07 21:59:59 +09:00);
        assert_eq!(
            next("Mon..Fri 22:00", mon),
            datetime!(2026-12-07 22:00 +09:00)
        );
        let at = datetime!(2026-12-07 22:00 +09:00);
        assert_eq!(
            next("Mon..Fri 22:00", at),
            datetime!(2026-12-08 22:00 +09:00)
        );
        // Friday night to Monday.
        let fri = datetime!(2026-12-11 23:00 +09:00);
        assert_eq!(
            next("Mon..Fri 22:00", fri),
            datetime!(2026-12-14 22:00 +09:00)
        );
    }

    #[test]
    fn shorthands_lists_steps_and_wrapping_weekdays() {
        assert_eq!(next("daily", SAT_NOON), datetime!(2026-12-06 00:00 +09:00));
        assert_eq!(next("weekly", SAT_NOON), datetime!(2026-12-07 00:00 +09:00));
        assert_eq!(
            next("monthly", SAT_NOON),
            datetime!(2027-01-01 00:00 +09:00)
        );
        assert_eq!(
            next("Mon,Wed,Fri 21:30", SAT_NOON),
            datetime!(2026-12-07 21:30 +09:00)
        );
        assert_eq!(
            next("Sat..Mon 01:00", SAT_NOON),
            datetime!(2026-12-06 01:00 +09:00)
        );
        assert_eq!(
            next("*-*-* 00/6:00", SAT_NOON),
            datetime!(2026-12-05 18:00 +09:00)
        );
        assert_eq!(
            next("*-*-1..7 04:00", SAT_NOON),
            datetime!(2026-12-06 04:00 +09:00)
        );
        // The first Sunday of a month.
        assert_eq!(
            next("Sun *-*-1..7 04:00", datetime!(2026-12-07 00:00 +09:00)),
            datetime!(2027-01-03 04:00 +09:00)
        );
        assert_eq!(
            next("12-25 08:00", SAT_NOON),
            datetime!(2026-12-25 08:00 +09:00)
        );
        assert_eq!(
            next("*-02-29 00:00", SAT_NOON),
            datetime!(2028-02-29 00:00 +09:00)
        );
        assert_eq!(
            Calendar::parse("2027-02-29 00:00")
                .unwrap()
                .next_after(SAT_NOON),
            None
        );
    }

    #[test]
    fn a_target_is_due_once_per_occurrence() {
        let rdx = Calendar::parse("Mon..Fri").unwrap();
        let mon_night = datetime!(2026-12-07 22:00 +09:00);
        let fri_night = datetime!(2026-12-04 22:05 +09:00);
        assert!(due(Some(&rdx), Some(fri_night), mon_night));
        assert!(!due(
            Some(&rdx),
            Some(mon_night),
            mon_night + Duration::hours(1)
        ));
        // Saturday's run: the weekday pool is not due.
        assert!(!due(
            Some(&rdx),
            Some(fri_night),
            datetime!(2026-12-05 22:00 +09:00)
        ));
        // Never copied: due if an occurrence fell in the last day.
        assert!(due(Some(&rdx), None, mon_night));
        assert!(!due(Some(&rdx), None, datetime!(2026-12-06 22:00 +09:00)));
        let tape = Calendar::parse("Fri 22:00").unwrap();
        assert!(!due(Some(&tape), Some(fri_night), mon_night));
        assert!(due(
            Some(&tape),
            Some(fri_night),
            datetime!(2026-12-11 22:00 +09:00)
        ));
        // Server off Friday to Monday: the missed Friday is due on Monday, once.
        assert!(due(
            Some(&tape),
            Some(fri_night),
            datetime!(2026-12-14 22:00 +09:00)
        ));
        assert!(due(None, Some(mon_night), mon_night));
    }

    #[test]
    fn a_date_that_never_comes_gives_none() {
        let c = Calendar::parse("*-02-30 00:00").unwrap();
        assert_eq!(c.next_after(SAT_NOON), None);
    }

    #[test]
    fn normal_form_reads_like_systemd_analyze() {
        let n = |e: &str| Calendar::parse(e).unwrap().normalized();
        assert_eq!(n("Mon..Fri 22:00"), "Mon..Fri *-*-* 22:00:00");
        assert_eq!(n("Sat,Sun 9:5"), "Sat,Sun *-*-* 09:05:00");
        assert_eq!(n("*-*-01 03:00"), "*-*-01 03:00:00");
        assert_eq!(n("Mon,Wed,Fri 21:30"), "Mon,Wed,Fri *-*-* 21:30:00");
    }

    #[test]
    fn mistakes_are_refused_with_what_to_write() {
        for (expr, says) in [
            ("", "empty"),
            ("Mon..Fry 22:00", "not a weekday"),
            ("Mon 25:00", "hour 25 is out of range"),
            ("Mon 22:60", "minute 60 is out of range"),
            ("*-13-01 00:00", "month 13 is out of range"),
            ("*-*~01", "not supported"),
            ("Mon 22:00 Asia/Tokyo", "cannot read"),
            ("Mon *-*-* 22:00 Asia/Tokyo", "too many parts"),
            ("*-*-5..1 00:00", "runs backwards"),
            ("*-*-* 00/0:00", "above 0"),
            ("Mon 22", "cannot read"),
            ("22:00:00.5", "fractions"),
        ] {
            let e = Calendar::parse(expr).unwrap_err();
            assert!(e.en.contains(says), "{expr:?}: {}", e.en);
            assert!(!e.ja.is_empty());
        }
    }
}
