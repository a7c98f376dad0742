//! The report rendered from a real catalog and a real evaluation: what it
//! must say, in both formats and both languages, and that data cannot break
//! out of it.

mod fixture;
mod html;
mod markdown;

use std::collections::BTreeSet;

use hokan_report::ReportData;

/// Every 項番 some copy of the data counts under, as printed.
pub fn kobans(data: &ReportData) -> BTreeSet<&'static str> {
    data.evaluation
        .copies
        .iter()
        .filter_map(|c| c.verdict.koban())
        .map(|k| k.as_str())
        .collect()
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"));
    let rest = &s[i..];
    let j = rest.find(end).unwrap_or(rest.len());
    &rest[..j]
}

#[test]
fn the_fixture_exercises_what_the_report_must_show() {
    let data = fixture::data(fixture::Options::default());
    let k = kobans(&data);
    for expected in ["①-2-1", "①-2-2", "②-2-1", "③-1"] {
        assert!(k.contains(expected), "no copy under {expected}: {k:?}");
    }
    assert!(!data.evaluation.compliant);
    assert_eq!(data.evaluation.sources.len(), 2);
    assert_eq!(data.snapshots.len(), 4);
    assert!(
        data.catalog_problems.is_empty(),
        "{:?}",
        data.catalog_problems
    );
    assert!(data.evaluation.copies.iter().any(|c| matches!(
        &c.verdict,
        hokan_offline::Verdict::Offline {
            strength: hokan_offline::Strength::Weaker(_),
            ..
        }
    )));
    let expired = data
        .attestations
        .iter()
        .filter(|a| !a.holds_at(data.generated_at))
        .count();
    assert_eq!(expired, 1);

    let fixed = fixture::data(fixture::Options {
        tape_back: true,
        ..Default::default()
    });
    assert!(
        fixed.evaluation.compliant,
        "{:#?}",
        fixed.evaluation.all_problems()
    );
}
