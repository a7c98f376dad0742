//! The Markdown report.

use hokan_report::{render_markdown, Lang};

use crate::fixture::{self, Options, HOSTILE, LANGS, MEDIA};
use crate::kobans;

/// Cell separators on a table line: `|` not escaped by a backslash.
fn separators(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

/// Every table line has as many cells as its header line.
fn assert_tables_rectangular(md: &str) {
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = separators(line);
            match header {
                None => header = Some(n),
                Some(h) => assert_eq!(n, h, "ragged table line: {line}"),
            }
        } else {
            header = None;
        }
    }
}

#[test]
fn key_facts_in_both_languages() {
    let data = fixture::data(Options::default());
    let ja = render_markdown(&data, Lang::Ja);
    let en = render_markdown(&data, Lang::En);
    for md in [&ja, &en] {
        for m in MEDIA {
            assert!(md.contains(m), "medium {m}");
        }
        for k in kobans(&data) {
            assert!(md.contains(k), "項番 {k}");
        }
        assert!(md.contains(&format!("`{}:{}`", data.head.seq, data.head.hash)));
        assert!(md.contains("A-0001"));
        assert_tables_rectangular(md);
        assert_eq!(md.lines().filter(|l| l.starts_with("# ")).count(), 1);
        assert_eq!(md.lines().filter(|l| l.starts_with("## ")).count(), 10);
    }
    assert!(ja.starts_with("# オフラインバックアップ状態確認報告書\n"));
    assert!(ja.contains("> ## × 不適合"));
    assert!(ja.contains("**× オフラインのコピーなし**"));
    assert!(en.starts_with("# Offline backup status report\n"));
    assert!(en.contains("> ## × NOT compliant"));
    assert!(en.contains("**× no offline copy**"));
    // Problems come before the generations.
    assert!(ja.find("## 1. 問題点").unwrap() < ja.find("世代ごとのコピー\n").unwrap());

    let fixed = fixture::data(Options {
        tape_back: true,
        ..Default::default()
    });
    let ja = render_markdown(&fixed, Lang::Ja);
    assert!(ja.contains("> ## ○ 適合"));
    assert!(!ja.contains("不適合"));
    assert!(render_markdown(&fixed, Lang::En).contains("> ## ○ Compliant"));
}

#[test]
fn pipes_and_newlines_in_cells_are_escaped() {
    let data = fixture::data(Options::default());
    for lang in LANGS {
        let md = render_markdown(&data, lang);
        let line = md
            .lines()
            .find(|l| l.starts_with("| `RDX0001`"))
            .expect("RDX0001's row in the media table");
        assert!(line.contains("rotation Mon\\|Wed\\|Fri"), "{line}");
        assert!(!line.contains("Mon|Wed"));
    }
    let data = fixture::data(Options {
        hostile: true,
        ..Default::default()
    });
    for lang in LANGS {
        let md = render_markdown(&data, lang);
        let raw: Vec<&str> = md
            .lines()
            .filter(|l| {
                l.match_indices('<').any(|(i, _)| {
                    !l[..i].ends_with('\\')
                        && !l[i..].starts_with("<br>")
                        && !l[..i].ends_with("`EVIL")
                })
            })
            .collect();
        assert!(raw.is_empty(), "unescaped: {raw:#?}");
        assert!(!md.contains(HOSTILE));
        assert!(md.contains("\\<script\\>alert(1)\\</script\\>"));
        assert!(md.contains("\\<script\\>alert(1)\\</script\\><br>second line"));
        assert!(md.contains("A\\|B"));
        assert!(md.contains("`EVIL<b>01`"), "ids are code spans");
        assert_tables_rectangular(&md);
    }
}

#[test]
fn an_empty_catalog_says_there_is_nothing_yet() {
    let data = fixture::empty();
    let ja = render_markdown(&data, Lang::Ja);
    let en = render_markdown(&data, Lang::En);
    assert!(ja.contains("> ## △ 判定対象なし"));
    assert!(ja.contains("媒体はまだ登録されていません"));
    assert!(ja.contains("復旧訓練の記録がありません"));
    assert!(en.contains("> ## △ Nothing to judge yet"));
    assert!(en.contains("No backup source is recorded yet"));
    assert!(en.contains("**No restore drill recorded.**"));
    assert_tables_rectangular(&ja);
    assert_tables_rectangular(&en);
}
