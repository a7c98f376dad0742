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
