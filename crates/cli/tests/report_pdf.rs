//! The inspection report as a hospital prints it: the demo site's report
//! (`hokan demo`: simulated tape library and RDX drive, moto bucket, vault)
//! in Japanese and English, printed to PDF by headless Chromium, must be A4,
//! run to more than one page, keep every word inside the page's margins,
//! break no English word in the middle, and say on its first page that the
//! evidence comes from simulated devices.
//!
//! Needs `chromium`, `pdfinfo`/`pdftotext` (poppler-utils) and a Japanese
//! font (fonts-noto-cjk); scripts/test.sh installs them. Without them the
//! test FAILS, saying so: it never passes without printing. The PDFs are
//! kept under `target/report-pdf/` (the path is printed) for a person to
//! look at.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use common::pdf::{check_pdf, generate_and_print, require_tools, squeeze};

#[test]
fn the_demo_report_prints_on_a4_in_both_languages() {
    let started = Instant::now();
    require_tools();

    let tmp = common::demo::scratch();
    let dir = tmp.path().join("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .args(["--json", "--lang", "en", "demo"])
        .arg(&dir)
        .env("LANG", "C")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let config = dir.join("hokan.toml");
    // Every simulated target of the demo is named in the report's data.
    let json = Command::new(env!("CARGO_BIN_EXE_hokan"))
        .arg("--config")
        .arg(&config)
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let kinds: BTreeSet<(&str, &str)> = json["site"]["simulated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["target"].as_str().unwrap(), s["kind"].as_str().unwrap()))
        .collect();
    let mut want = BTreeSet::from([
        ("weekday", "tape-library"),
        ("rdx", "disk-device"),
        ("demo-vault", "vault"),
    ]);
    if std::fs::read_to_string(&config).unwrap().contains("[[s3]]") {
        want.insert(("cloud", "s3-server"));
    }
    assert_eq!(kinds, want);
    let profile = tmp.path().join("chromium-profile");
    for (lang, notice) in [
        ("ja", "模擬装置による証拠を含みます"),
        ("en", "SIMULATED devices: not evidence"),
    ] {
        let (html, pdf) = generate_and_print(&config, "report", lang, &profile);
        // The simulated-devices notice is on page 1, before the verdict
        // and the first section.
        let page1 = squeeze(&check_pdf(lang, &html, &pdf)[0]);
        let text = std::fs::read_to_string(&html).unwrap();
        let h2 = &text[text.find("<h2>").unwrap() + 4..];
        let first_section = squeeze(&h2[..h2.find("</h2>").unwrap()]);
        let at = page1.find(&squeeze(notice)).unwrap_or_else(|| {
            panic!("{lang}: page 1 does not say {notice:?}: {page1}");
        });
        if let Some(s) = page1.find(&first_section) {
            assert!(at < s, "{lang}: the notice comes after {first_section:?}");
        }
    }
    eprintln!(
        "report_pdf: both languages printed and checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
