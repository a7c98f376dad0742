//! A re-checked copy ([`hokan_jobs::s3::recheck`]) in words: `hokan s3
//! check` prints them.

use hokan_jobs::s3::recheck::{CopyRecheck, Unplannable};
use hokan_s3::ObjectFinding;

/// Why the bucket's repository could not list what the copy needs, if it
/// could not; `not_opened`: why the bucket's repository could not be opened
/// (the failure's message).
pub fn unplannable(c: &CopyRecheck, not_opened: Option<&str>) -> Option<String> {
    Some(match c.unplannable.as_ref()? {
        Unplannable::NotOpened => not_opened.unwrap_or_default().to_owned(),
        Unplannable::Plan(e) => e.to_string(),
        other => format!("{other:?}"),
    })
}

/// A finding as one line for people (English or Japanese).
pub fn describe(lang: crate::i18n::Lang, f: &ObjectFinding) -> String {
    use crate::i18n::t;
    use hokan_s3::ObjectFault as F;
    let what = match &f.fault {
        F::Missing => t(lang, "missing (deleted)", "ありません（削除された）").to_owned(),
        F::Unlocked { state } => format!(
            "{} ({})",
            t(lang, "NOT locked", "ロックされていません"),
            state.describe()
        ),
        F::Shortened { state, recorded } => format!(
            "{} ({}; {} {})",
            t(lang, "lock shortened", "ロックが短縮されています"),
            state.describe(),
            t(lang, "recorded until", "記録された期限"),
            super::copy::rfc3339(*recorded)
        ),
        F::WeakerMode { state } => format!(
            "{} ({})",
            t(lang, "locked in a weaker mode", "弱いモードでロック"),
            state.describe()
        ),
        _ => t(lang, "not as recorded", "記録と異なります").to_owned(),
    };
    format!("{}: {what}", f.key)
}
