//! Japanese and English output.
//!
//! Every sentence a person reads is written twice, side by side, at the place
//! it is used (`t(lang, "English", "日本語")`), so a reviewer sees both and
//! neither can be forgotten. The language comes from `--lang`, else from
//! `LC_ALL` / `LC_MESSAGES` / `LANG` (`ja*` → Japanese), else English.

use std::fmt;

/// Output language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// 日本語.
    Ja,
}

impl Lang {
    /// `--lang` if given, else the locale.
    pub fn detect(flag: Option<Lang>) -> Lang {
        if let Some(l) = flag {
            return l;
        }
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if v.is_empty() {
                    continue;
                }
                return if v.starts_with("ja") {
                    Lang::Ja
                } else {
                    Lang::En
                };
            }
        }
        Lang::En
    }
}

/// Pick the sentence for the language.
pub fn t<'a>(lang: Lang, en: &'a str, ja: &'a str) -> &'a str {
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// Bytes for people: 1.5 GiB.
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"];
        let mut v = self.0 as f64;
        let mut u = 0;
        while v >= 1024.0 && u + 1 < units.len() {
            v /= 1024.0;
            u += 1;
        }
        if u == 0 {
            write!(f, "{} B", self.0)
        } else {
            write!(f, "{v:.1} {}", units[u])
        }
    }
}

/// Columns a string takes on a terminal: East Asian wide and fullwidth
/// characters (kanji, kana, fullwidth forms) take two.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0x303E).contains(&u)
                || (0x3041..=0x33FF).contains(&u)
                || (0x3400..=0x4DBF).contains(&u)
                || (0x4E00..=0x9FFF).contains(&u)
                || (0xA000..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Left-align `s` in `width` terminal columns.
pub fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// Right-align `s` in `width` terminal columns.
pub fn pad_left(s: &str, width: usize) -> String {
    format!("{}{s}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// Pick the sentence of a bilingual text.
pub fn pick(lang: Lang, t: &hokan_offline::Text) -> String {
    match lang {
        Lang::En => t.en.clone(),
        Lang::Ja => t.ja.clone(),
    }
}

/// A job's or step's outcome in the reader's language.
pub fn outcome_word(l: Lang, outcome: &str) -> &str {
    match outcome {
        "ok" => t(l, "ok", "成功"),
        "partial" => t(l, "partial", "一部失敗"),
        "failed" => t(l, "failed", "失敗"),
        "skipped" => t(l, "skipped", "省略"),
        "interrupted" => t(l, "interrupted", "中断"),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_takes_two_columns() {
        assert_eq!(display_width("日時"), 4);
        assert_eq!(display_width("サイズ"), 6);
        assert_eq!(display_width("time"), 4);
        assert_eq!(pad("対象", 6), "対象  ");
        assert_eq!(pad("source", 6), "source");
        assert_eq!(pad_left("サイズ", 8), "  サイズ");
    }
}
