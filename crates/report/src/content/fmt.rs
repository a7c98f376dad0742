//! Small formatting helpers: language choice, times, sizes, labels.

use time::{Duration, OffsetDateTime};

use hokan_catalog::event::{condition_en, condition_ja};
use hokan_offline::text::{day, span, when};
use hokan_offline::{
    Condition, Deadline, ObservedBy, Severity, Strength, Text, Verdict, WeakerReason,
};

use crate::doc::{pick, tr, Cell, Span, Tone};
use crate::{Lang, ReportData};

/// The data and the language, with the formatting every section needs.
pub(crate) struct Ctx<'a> {
    /// Everything shown.
    pub data: &'a ReportData,
    /// The language.
    pub lang: Lang,
}

impl Ctx<'_> {
    /// One language.
    pub fn tr(&self, en: &str, ja: &str) -> String {
        tr(self.lang, en, ja).to_owned()
    }

    /// One language of a [`Text`].
    pub fn pick(&self, t: &Text) -> String {
        pick(self.lang, t)
    }

    /// An instant in the site's offset, to the minute.
    pub fn when(&self, t: OffsetDateTime) -> String {
        when(t, self.data.offset)
    }

    /// A day in the site's offset.
    pub fn day(&self, t: OffsetDateTime) -> String {
        day(t, self.data.offset)
    }

    /// A length of time (`3日`, `3 days`).
    pub fn span(&self, d: Duration) -> String {
        self.pick(&span(d))
    }

    /// How long before the report `t` was (`3日前`, `3 days ago`).
    pub fn ago(&self, t: OffsetDateTime) -> String {
        let d = self.data.generated_at - t;
        if d < Duration::ZERO {
            return self.tr("after this report", "本報告書の作成後");
        }
        match self.lang {
            Lang::Ja => format!("{}前", self.span(d)),
            Lang::En => format!("{} ago", self.span(d)),
        }
    }

    /// `—`, for a value that does not apply.
    pub fn dash(&self) -> Cell {
        Cell(vec![Span::Small("—".into())])
    }

    /// A severity as a badge.
    pub fn severity(&self, s: Severity) -> Cell {
        let (tone, en, ja) = match s {
            Severity::Error => (Tone::Bad, "× error", "× エラー"),
            Severity::Warning => (Tone::Warn, "△ warning", "△ 警告"),
            Severity::Info => (Tone::Info, "i info", "i 情報"),
        };
        Cell::badge(tone, self.tr(en, ja))
    }

    /// A medium's condition, toned.
    pub fn condition(&self, c: Condition) -> Cell {
        let word = match self.lang {
            Lang::Ja => condition_ja(c),
            Lang::En => condition_en(c),
        };
        match c {
            Condition::Writable | Condition::Full => Cell::text(word),
            Condition::Damaged => Cell::badge(Tone::Bad, word),
            Condition::Retired => Cell::badge(Tone::Muted, word),
        }
    }

    /// A verdict sentence, coloured: offline full is ok, weaker is a
    /// warning, online and unknown are bad.
    pub fn verdict(&self, v: &Verdict) -> Cell {
        Cell::toned(verdict_tone(v), self.pick(&v.describe(self.data.offset)))
    }

    /// The strength of an offline verdict; `—` otherwise.
    pub fn strength(&self, v: &Verdict) -> Cell {
        match v {
            Verdict::Offline {
                strength: Strength::Full,
                ..
            } => Cell::text(self.tr("full", "完全")),
            Verdict::Offline {
                strength: Strength::Weaker(reasons),
                ..
            } => {
                let why: Vec<String> = reasons.iter().map(|r| self.weaker(*r)).collect();
                Cell::badge(Tone::Warn, self.tr("△ weaker", "△ 弱い"))
                    .line(Cell(vec![Span::Small(why.join(self.sep()))]))
            }
            _ => self.dash(),
        }
    }

    /// A weaker reason, short.
    fn weaker(&self, r: WeakerReason) -> String {
        match r {
            WeakerReason::GovernanceMode => self.tr(
                "governance mode (bypassable)",
                "ガバナンスモード（解除可能）",
            ),
            WeakerReason::FlagClearable => {
                self.tr("clearable immutable flag", "解除可能な不変フラグ")
            }
            WeakerReason::LockNeverProbed => self.tr("lock never tested", "ロック未検査"),
            WeakerReason::RetentionShortenable => {
                self.tr("retention could be shortened", "保持期間を短縮可能")
            }
        }
    }

    /// When an offline verdict stops holding by itself.
    pub fn deadline(&self, d: Option<&Deadline>) -> Cell {
        match d {
            None => self.dash(),
            Some(d) => {
                let soon = d.at - self.data.generated_at <= self.data.policy.warning_horizon();
                let at = self.when(d.at);
                let at = if soon {
                    Cell::badge(Tone::Warn, at)
                } else {
                    Cell::text(at)
                };
                at.small_line(self.pick(&d.cause.describe()))
            }
        }
    }

    /// Who recorded something: a device or a person.
    pub fn observer(&self, by: &ObservedBy) -> String {
        match (by, self.lang) {
            (ObservedBy::Device { device }, Lang::Ja) => format!("装置 {device}"),
            (ObservedBy::Device { device }, Lang::En) => format!("device {device}"),
            (ObservedBy::Person { person }, Lang::Ja) => format!("{person}（人による記録）"),
            (ObservedBy::Person { person }, Lang::En) => format!("{person} (person)"),
        }
    }

    /// A job outcome (`ok`, `partial`, `failed`), toned.
    pub fn outcome(&self, outcome: &str) -> Cell {
        match outcome {
            "ok" => Cell::badge(Tone::Ok, self.tr("○ ok", "○ 成功")),
            "partial" => Cell::badge(Tone::Warn, self.tr("△ partial", "△ 一部失敗")),
            "failed" => Cell::badge(Tone::Bad, self.tr("× failed", "× 失敗")),
            other => Cell::text(other),
        }
    }

    /// A pass/fail result.
    pub fn passed(&self, ok: bool) -> Cell {
        if ok {
            Cell::badge(Tone::Ok, self.tr("○ passed", "○ 成功"))
        } else {
            Cell::badge(Tone::Bad, self.tr("× FAILED", "× 失敗"))
        }
    }

    /// `1.0 GiB・1,000 ファイル`.
    pub fn size(&self, bytes: u64, files: u64) -> String {
        match self.lang {
            Lang::Ja => format!("{}・{} ファイル", bytes_text(bytes), thousands(files)),
            Lang::En => format!(
                "{}, {} file{}",
                bytes_text(bytes),
                thousands(files),
                if files == 1 { "" } else { "s" }
            ),
        }
    }

    /// A drill's duration: `30分35秒`, `30 min 35 s` (see [`duration`]).
    pub fn seconds(&self, secs: f64) -> String {
        duration(self.lang, secs)
    }

    /// The list separator of the language.
    pub fn sep(&self) -> &'static str {
        tr(self.lang, ", ", "、")
    }

    /// A job's or event's free-form detail, compact, at most 300
    /// characters, with numbers written for people: durations
    /// (`seconds: 0.36…` → `0.4 s`), sizes (`bytes: 1048576` → `1.0 MiB`),
    /// rates, counts with thousands separators; and the throughput when the
    /// detail has bytes and seconds but no rate.
    pub fn json_detail(&self, v: &serde_json::Value) -> String {
        use serde_json::Value;
        let s = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Object(map) => {
                let mut parts: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", self.detail_value(k, v)))
                    .collect();
                let num = |k: &str| map.get(k).and_then(Value::as_f64);
                let has_rate = map.keys().any(|k| k.ends_with("per_s"));
                if let (Some(b), Some(s), false) = (num("bytes"), num("seconds"), has_rate) {
                    if b > 0.0 && s > 0.0 {
                        parts.push(format!(
                            "{}: {}",
                            self.tr("throughput", "転送速度"),
                            rate_text(b / s)
                        ));
                    }
                }
                parts.join(self.sep())
            }
            other => self.detail_value("", other),
        };
        truncate(&s, 300)
    }

    /// A string of a job's detail: an instant in the site's zone, a
    /// snapshot id or hash shortened to 8 hex digits (long unbreakable
    /// tokens squeeze a table's other columns to a letter a line).
    fn detail_string(&self, s: &str) -> String {
        if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
            return self.when(t);
        }
        if s.len() >= 32 && s.chars().all(|c| c.is_ascii_hexdigit()) {
            return s[..8].to_owned();
        }
        s.to_owned()
    }

    /// One value of a job's detail, by what its key says it is.
    fn detail_value(&self, key: &str, v: &serde_json::Value) -> String {
        use serde_json::Value;
        let is = |suffix: &str| key == suffix || key.ends_with(&format!("_{suffix}"));
        match v {
            Value::Null => "—".to_owned(),
            Value::Bool(b) => self.tr(
                if *b { "yes" } else { "no" },
                if *b { "はい" } else { "いいえ" },
            ),
            Value::String(s) => self.detail_string(s),
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if is("seconds") || is("secs") {
                    self.seconds(f)
                } else if (key.starts_with("bytes") || is("bytes")) && n.as_u64().is_some() {
                    bytes_text(n.as_u64().unwrap_or(0))
                } else if key.ends_with("mib_per_s") {
                    format!("{f:.1} MiB/s")
                } else if key.ends_with("per_s") {
                    rate_text(f)
                } else if let Some(u) = n.as_u64() {
                    thousands(u)
                } else if let Some(i) = n.as_i64() {
                    i.to_string()
                } else {
                    round(f)
                }
            }
            Value::Array(items) => items
                .iter()
                .map(|i| self.detail_value(key, i))
                .collect::<Vec<_>>()
                .join(self.sep()),
            Value::Object(map) => format!(
                "({})",
                map.iter()
                    .map(|(k, v)| format!("{k}: {}", self.detail_value(k, v)))
                    .collect::<Vec<_>>()
                    .join(self.sep())
            ),
        }
    }
}

/// The tone of a verdict.
pub(crate) fn verdict_tone(v: &Verdict) -> Tone {
    match v {
        Verdict::Offline {
            strength: Strength::Full,
            ..
        } => Tone::Ok,
        Verdict::Offline { .. } => Tone::Warn,
        Verdict::Online(_) | Verdict::Unknown(_) => Tone::Bad,
    }
}

/// A measured length of time for people: `12.3 s` under a minute,
/// `30 min 35 s` under an hour, `2 h 5 min` beyond (seconds are noise
/// there); parts that are zero are left out (`24 h`, not `24 h 0 min`).
/// `—` for a value that is not a length of time.
pub(crate) fn duration(lang: Lang, secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "—".to_owned();
    }
    if secs < 60.0 {
        return match lang {
            Lang::Ja => format!("{secs:.1}秒"),
            Lang::En => format!("{secs:.1} s"),
        };
    }
    let total = secs.round() as u64;
    let parts: [(u64, &str, &str); 2] = if total < 3600 {
        [(total / 60, "分", "min"), (total % 60, "秒", "s")]
    } else {
        let minutes = (total + 30) / 60;
        [(minutes / 60, "時間", "h"), (minutes % 60, "分", "min")]
    };
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, ja, en)| match lang {
            Lang::Ja => format!("{n}{ja}"),
            Lang::En => format!("{n} {en}"),
        })
        .collect();
    shown.join(tr(lang, " ", ""))
}

/// `1.5 GiB`: binary units, one decimal.
pub fn bytes_text(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Bytes per second as `12.3 MiB/s`.
pub(crate) fn rate_text(bytes_per_s: f64) -> String {
    if !bytes_per_s.is_finite() || bytes_per_s < 0.0 {
        return "—".to_owned();
    }
    let b = bytes_text(bytes_per_s.round() as u64);
    format!("{b}/s")
}

/// A fraction for people: at most three significant decimals, no trailing
/// zeros (`0.3639…` → `0.364`, `2.50` → `2.5`).
pub(crate) fn round(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let decimals = if f.abs() >= 100.0 {
        0
    } else if f.abs() >= 10.0 {
        1
    } else if f.abs() >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{f:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits: Vec<char> = n.to_string().chars().collect();
    let groups: Vec<String> = digits
        .rchunks(3)
        .rev()
        .map(|g| g.iter().collect())
        .collect();
    groups.join(",")
}

/// At most `max` characters, with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts() {
        assert_eq!(bytes_text(0), "0 B");
        assert_eq!(bytes_text(1 << 30), "1.0 GiB");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(bytes_text(u64::MAX), "16.0 EiB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(truncate("あいうえお", 3), "あいう…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(rate_text(3.0 * 1048576.0), "3.0 MiB/s");
        assert_eq!(round(0.363_912_7), "0.364");
        assert_eq!(round(2.5), "2.5");
        assert_eq!(round(123.456), "123");
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(duration(Lang::En, 0.04), "0.0 s");
        assert_eq!(duration(Lang::En, 1834.5), "30 min 35 s");
        assert_eq!(duration(Lang::Ja, 1834.5), "30分35秒");
        assert_eq!(duration(Lang::En, 120.0), "2 min");
        assert_eq!(duration(Lang::En, 86_400.0), "24 h");
        assert_eq!(duration(Lang::Ja, 3600.0 + 5.0 * 60.0 + 40.0), "1時間6分");
        assert_eq!(duration(Lang::En, f64::NAN), "—");
    }
}
