//! The rulebook annex as a hospital files it: the demo site's annex
//! (`hokan demo`, after a restore drill from its simulated RDX cartridge so
//! the drill table holds a real result) in Japanese and English, printed to
//! PDF by headless Chromium, must be A4, keep every word inside the page's
//! margins, break no English word in the middle, and show every section and
//! the drill per kind of medium: the passed disk drill with its projected
//! restore time against the source's target, and the kinds in use never
//! drilled as missing.
//!
//! Needs `chromium`, `pdfinfo`/`pdftotext` and a Japanese font, like
//! report_pdf.rs: without them the test FAILS, saying so. The PDFs are kept
//! under `target/report-pdf/` for a person to look at.

mod common;

use std::path::Path;
use std::time::Instant;

use common::demo::demo;
use common::pdf::{check_pdf, generate_and_print, hokan_ok, require_tools, squeeze};

/// Put the demo's RDX cartridge in the drive and drill from it (the demo
/// gives its source a recovery-time target and drills its tape itself).
fn drill_the_disk(config: &Path) {
    let toml = std::fs::read_to_string(config).unwrap();
    assert!(
        toml.contains("rto = \"4h\""),
        "the demo's source has no rto"
    );
    hokan_ok(config, &["disk", "sim", "insert", "--pool", "rdx", "RDX-1"]);
    hokan_ok(config, &["drill", "--kind", "disk", "--by", "佐藤 一郎"]);
}

#[test]
fn the_demo_annex_with_a_drill_prints_on_a4_in_both_languages() {
    let started = Instant::now();
    require_tools();
    let (tmp, dir) = demo();
    let config = dir.join("hokan.toml");
    drill_the_disk(&config);
    let profile = tmp.path().join("chromium-profile");
    let en_sections = [
        "Purpose and scope",
        "Who is responsible",
        "What is backed up",
        "How often",
        "Where media are kept",
        "Recovery: the order",
        "Passphrase and paper key",
        "Restore drills",
        "Version and approval",
    ];
    let ja_sections = [
        "目的と適用範囲",
        "責任者と担当者",
        "バックアップの対象",
        "媒体の保管場所",
        "復旧の順序",
        "パスフレーズとペーパーキー",
        "復旧訓練",
        "版と承認",
    ];
    // (lang, sections, what the drill table shows: the disk drill passed
    // within the target, and a kind in use never drilled). Words that wrap
    // in a table's narrow column come out of pdftotext mixed with the next
    // column's, so these are badges, printed on one line.
    let langs: [(&str, &[&str], [&str; 3]); 2] = [
        ("ja", &ja_sections, ["○成功", "○目標内", "×訓練の記録なし"]),
        (
            "en",
            &en_sections,
            ["○passed", "○meets", "×nodrillrecorded"],
        ),
    ];
    for (lang, sections, drill) in langs {
        let (html, pdf) = generate_and_print(&config, "annex", lang, &profile);
        let pages = check_pdf(&format!("annex {lang}"), &html, &pdf);
        let all = squeeze(&pages.join(" "));
        for s in sections {
            assert!(
                all.contains(&squeeze(s)),
                "{lang}: no section {s:?} in the PDF"
            );
        }
        // The drill section: from its heading to the filing section's.
        let (from, to) = if lang == "ja" {
            ("11. 復旧訓練", "12. 診療録管理体制加算1 の届出")
        } else {
            (
                "11. Restore drills",
                "12. For the 診療録管理体制加算1 filing",
            )
        };
        let (from, to) = (squeeze(from), squeeze(to));
        let at = all
            .find(&from)
            .unwrap_or_else(|| panic!("{lang}: no {from:?} in {all}"));
        let section = &all[at..];
        let end = section
            .find(&to)
            .unwrap_or_else(|| panic!("{lang}: no {to:?} after {from:?}"));
        let section = &section[..end];
        for want in drill {
            assert!(
                section.contains(want),
                "{lang}: the drill section does not show {want:?}: {section}"
            );
        }
        assert!(
            section.contains("RDX-1") && section.contains("佐藤一郎"),
            "{section}"
        );
        // The demo's own drill, from its tape library.
        assert!(
            section.contains("HKN00") && section.contains("hokandemo"),
            "{section}"
        );
        let version = format!("別紙様式第{}版", hokan_report::ANNEX_FORMAT);
        let version_en = format!("annexformat{}", hokan_report::ANNEX_FORMAT);
        assert!(
            all.contains(&version) || all.contains(&version_en),
            "{lang}: no annex version"
        );
    }
    eprintln!(
        "annex_pdf: both languages printed and checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
