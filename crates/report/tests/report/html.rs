//! The HTML report.

use std::path::PathBuf;

use hokan_catalog::event::short;
use hokan_report::{render_html, Lang};
use time::Duration;

use crate::fixture::{self, Options, E1, E2, HOSTILE, LANGS, MEDIA};
use crate::{between, kobans};

/// Check that tags nest properly: every element closed in order, void
/// elements aside. Text and attribute values are escaped, so any `<` in
/// the markup outside `<style>` starts a tag.
fn assert_well_formed(html: &str) {
    const VOID: [&str; 4] = ["meta", "br", "hr", "img"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unclosed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name, "</{name}> closes <{open}>");
            continue;
        }
        let name = tag.split_whitespace().next().unwrap().to_owned();
        if name == "style" {
            let close = rest.find("</style>").expect("style closed");
            rest = &rest[close + "</style>".len()..];
            continue;
        }
        if !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "left open: {stack:?}");
}

fn count(s: &str, needle: &str) -> usize {
    s.matches(needle).count()
}

#[test]
fn self_contained_printable_and_well_formed() {
    for data in [fixture::data(Options::default()), fixture::empty()] {
        for lang in LANGS {
            let html = render_html(&data, lang);
            let code = match lang {
                Lang::Ja => "ja",
                Lang::En => "en",
            };
            assert!(html.starts_with("<!DOCTYPE html>\n"));
            assert!(html.contains(&format!("<html lang=\"{code}\">")));
            assert!(html.contains("<meta charset=\"utf-8\">"));
            for forbidden in [
                "<script", "src=", "http://", "https://", "<link", "@import", "url(",
            ] {
                assert!(!html.contains(forbidden), "{code}: found {forbidden:?}");
            }
            for (i, _) in html.match_indices("href=\"") {
                assert!(html[i + 6..].starts_with('#'), "external link at {i}");
            }
            assert!(html.contains("@page { size: A4; margin: 15mm;"));
            assert!(html.contains("thead { display: table-header-group; }"));
            assert!(html.contains("page-break-inside: avoid"));
            for font in [
                "\"Noto Sans CJK JP\"",
                "\"Hiragino Sans\"",
                "\"Yu Gothic\"",
                "\"Meiryo\"",
                "sans-serif",
            ] {
                assert!(html.contains(font), "font {font}");
            }
            assert_eq!(count(&html, "<h1"), 1);
            assert_eq!(count(&html, "<h2>"), 10);
            // Data tables have a head and a body; label/value tables a body.
            let tables = count(&html, "<table>");
            assert_eq!(count(&html, "<table>\n<thead>"), tables);
            assert!(count(&html, "<tbody") >= tables);
            assert_well_formed(&html);
        }
    }
}

#[test]
fn key_facts_of_a_non_compliant_site() {
    let data = fixture::data(Options::default());
    let ja = render_html(&data, Lang::Ja);
    let en = render_html(&data, Lang::En);
    for html in [&ja, &en] {
        for m in MEDIA {
            assert!(html.contains(m), "medium {m}");
        }
        for k in kobans(&data) {
            assert!(html.contains(k), "項番 {k}");
        }
        assert!(html.contains(&data.head.hash), "full head hash");
        assert!(html.contains(&format!(
            "<code>{}:{}</code>",
            data.head.seq, data.head.hash
        )));
        assert!(html.contains("A-0001") && html.contains("A-0002"));
        assert!(html.contains("市立みなと病院"));
        assert!(html.contains("hokan 0.1.0"));
    }
    assert!(ja.contains("オフラインバックアップ状態確認報告書"));
    assert!(ja.contains("<div class=\"headline\">× 不適合</div>"));
    assert!(en.contains("<div class=\"headline\">× NOT compliant</div>"));
    assert!(en.contains("Offline backup status report"));
    // Times are in the site's offset.
    assert!(ja.contains("2026-11-24 09:00 +09:00"), "generated at");
    // The expired attestation says so; the valid one holds.
    assert!(between(&ja, "<code>A-0001</code>", "</tr>").contains("期限切れ"));
    assert!(between(&ja, "<code>A-0002</code>", "</tr>").contains("○ 有効"));
    assert!(between(&en, "<code>A-0001</code>", "</tr>").contains("expired"));
    // The governance-mode bucket copy is weaker, with the reason.
    assert!(ja.contains("ガバナンスモード（解除可能）"));
    assert!(en.contains("governance mode (bypassable)"));
    // The person's move offsite shows who recorded it.
    assert!(ja.contains("田中 花子（人による記録）"));
    // Verify and drill evidence.
    assert!(ja.contains("30分35秒") && en.contains("30 min 35 s"));
    assert!(!ja.contains("復旧訓練の記録がありません"));
    assert!(ja.contains("カタログ検証：問題なし"));
    assert!(en.contains("catalog verify: OK"));
    // The policy: site default and per-source override.
    assert!(between(&ja, "<code>emr</code>", "</tr>").contains("対象ごとの設定"));
    assert!(between(&ja, "<code>weekday</code>", "</tr>").contains("28日"));
}

#[test]
fn problems_come_before_the_generations() {
    let data = fixture::data(Options::default());
    for lang in LANGS {
        let html = render_html(&data, lang);
        let problems = html.find("<section id=\"problems\">").unwrap();
        let generations = html.find("<section id=\"generations\">").unwrap();
        assert!(problems < generations);
        // Errors before warnings, and the first error's next step is there.
        let section = &html[problems..generations];
        let error = section.find("badge bad").expect("an error");
        let warning = section.find("badge warn").expect("a warning");
        assert!(error < warning);
        let first = data.evaluation.all_problems()[0];
        let next = match lang {
            Lang::Ja => &first.next_step.ja,
            Lang::En => &first.next_step.en,
        };
        assert!(section.contains(next.split('`').next().unwrap()));
    }
}

#[test]
fn a_generation_with_no_offline_copy_is_marked() {
    let data = fixture::data(Options::default());
    let ja = render_html(&data, Lang::Ja);
    let en = render_html(&data, Lang::En);
    let group = |html: &str, id: &str| -> String {
        let html = between(html, "<section id=\"generations\">", "</section>");
        let at = html
            .find(&format!("<code>{}</code>", short(&id.into())))
            .unwrap();
        let start = html[..at].rfind("<tbody").unwrap();
        let end = at + html[at..].find("</tbody>").unwrap();
        html[start..end].to_owned()
    };
    let e2 = group(&ja, E2);
    assert!(e2.starts_with("<tbody class=\"group bad"), "{e2}");
    assert!(e2.contains("× オフラインのコピーなし"));
    assert!(e2.contains("TAPE02L9") && e2.contains("ドライブ drive0 に装填中"));
    assert!(group(&en, E2).contains("× no offline copy"));
    // Night 1 is offline on two media; newest first puts night 3 above it.
    let e1 = group(&ja, E1);
    assert!(e1.contains("○ オフライン（2 媒体）"), "{e1}");
    assert_eq!(e1.matches("<tr>").count(), 2, "{e1}");
    assert!(e1.contains("<tr><td class=\"cont\"></td><td class=\"cont\"></td><td>"));
    assert!(ja.find(&short(&E2.into()).to_owned()).unwrap() < ja.rfind(short(&E1.into())).unwrap());

    let fixed = render_html(
        &fixture::data(Options {
            tape_back: true,
            ..Default::default()
        }),
        Lang::Ja,
    );
    assert!(!fixed.contains("× オフラインのコピーなし"));
    assert!(!fixed.contains("<tbody class=\"group bad"));
}

#[test]
fn a_compliant_site_says_so() {
    let data = fixture::data(Options {
        tape_back: true,
        ..Default::default()
    });
    let ja = render_html(&data, Lang::Ja);
    let en = render_html(&data, Lang::En);
    assert!(ja.contains("<div class=\"headline\">○ 適合</div>"));
    assert!(
        !ja.contains("不適合"),
        "a compliant report must not say 不適合 anywhere"
    );
    assert!(en.contains("<div class=\"headline\">○ Compliant</div>"));
    assert!(!en.contains("NOT compliant"));
    assert!(ja.contains("○ ローテーションあり"));
}

#[test]
fn user_text_is_escaped() {
    let data = fixture::data(Options {
        hostile: true,
        ..Default::default()
    });
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    for lang in LANGS {
        let html = render_html(&data, lang);
        assert!(!html.contains(HOSTILE));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("EVIL&lt;b&gt;01"));
        // The note (media table and appendix), the person (media table,
        // attestations, events), the evidence.
        assert!(count(&html, escaped) >= 5, "{}", count(&html, escaped));
        let media = between(&html, "<section id=\"media\">", "</section>");
        assert!(media.contains(&format!("<td>{escaped}</td>")), "note cell");
        assert!(
            media.contains(&format!("{escaped}（人による記録）"))
                || media.contains(&format!("{escaped} (person)"))
        );
        let attest = between(&html, "<section id=\"attestations\">", "</section>");
        assert!(
            attest.contains(&format!("<td>{escaped}</td><td>{escaped}</td>")),
            "by and evidence"
        );
        assert!(html.contains("A|B &quot;棚&quot; &amp; &#39;C&#39;"));
        assert!(html.contains(&format!("{escaped}<br>second line")));
        assert_well_formed(&html);
    }
    // A site name is user text too, and also goes into the CSS footer.
    let mut data = data;
    data.site.name = format!("{HOSTILE}\"; }} </style>");
    let html = render_html(&data, Lang::Ja);
    assert!(!html.contains(HOSTILE) && !html.contains("\"; } </style>"));
    assert_eq!(count(&html, "</style>"), 1);
    assert_well_formed(&html);
}

#[test]
fn drills_missing_or_older_than_a_year_are_noted() {
    let mut data = fixture::data(Options::default());
    let recent = render_html(&data, Lang::En);
    assert!(recent.contains("Newest restore drill:"));
    assert!(!recent.contains("more than a year ago"));

    data.drills[0].started_at = data.generated_at - Duration::days(400);
    let old_ja = render_html(&data, Lang::Ja);
    let old_en = render_html(&data, Lang::En);
    assert!(between(&old_ja, "<div class=\"note bad\">", "</div>").contains("1年以上前"));
    assert!(old_ja.contains("診療録管理体制加算1"));
    assert!(between(&old_en, "<div class=\"note bad\">", "</div>").contains("more than a year ago"));

    data.drills.clear();
    let none_en = render_html(&data, Lang::En);
    let none_ja = render_html(&data, Lang::Ja);
    assert!(between(&none_en, "<div class=\"note bad\">", "</div>")
        .contains("No restore drill recorded."));
    assert!(between(&none_ja, "<div class=\"note bad\">", "</div>")
        .contains("復旧訓練の記録がありません。"));
}

#[test]
fn an_empty_catalog_says_there_is_nothing_yet() {
    let data = fixture::empty();
    let ja = render_html(&data, Lang::Ja);
    let en = render_html(&data, Lang::En);
    assert!(ja.contains("△ 判定対象なし"));
    assert!(!ja.contains("○ 適合"));
    assert!(ja.contains("バックアップ対象はまだ記録されていません"));
    assert!(ja.contains("世代はまだ記録されていません"));
    assert!(ja.contains("媒体はまだ登録されていません"));
    assert!(ja.contains("復旧訓練の記録がありません"));
    assert!(ja.contains("カタログにはまだイベントがありません"));
    assert!(en.contains("Nothing to judge yet"));
    assert!(!en.contains("○ Compliant"));
    assert!(en.contains("No medium is registered yet"));
    assert!(en.contains("No restore drill recorded."));
    assert!(en.contains(&format!("0:{}", "0".repeat(64))));
    assert!(ja.contains("<strong>（名称未設定）</strong>"));
}

#[test]
fn catalog_problems_are_shown_loudly() {
    let mut data = fixture::data(Options::default());
    data.catalog_problems = vec!["event 7: hash does not match".into()];
    let en = render_html(&data, Lang::En);
    assert!(en.contains("catalog verify found 1 problem"));
    assert!(en.contains("× catalog verify: 1 problem"));
    assert!(en.contains("event 7: hash does not match"));
    assert!(!en.contains("catalog verify: OK"));
}

/// The fixture's reports, for a person to look at; the test still checks
/// that they were written and say what they must.
#[test]
fn writes_sample_reports() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&target).unwrap();
    let data = fixture::data(Options::default());
    for (lang, name, verdict) in [
        (Lang::Ja, "ja", "不適合"),
        (Lang::En, "en", "NOT compliant"),
    ] {
        let path = target.join(format!("report-sample-{name}.html"));
        std::fs::write(&path, render_html(&data, lang)).unwrap();
        let back = std::fs::read_to_string(&path).unwrap();
        assert!(back.contains(verdict));
        assert!(back.ends_with("</html>\n"));
        let md = target.join(format!("report-sample-{name}.md"));
        std::fs::write(&md, hokan_report::render_markdown(&data, lang)).unwrap();
    }
}

/// A report whose evidence comes from simulated devices says so on its
/// first page, above the verdict and before the first section; one from
/// real devices says nothing of the kind.
#[test]
fn simulated_devices_are_said_above_the_verdict() {
    use hokan_report::{Simulated, SimulatedKind};
    let mut data = fixture::data(Options::default());
    for lang in LANGS {
        let html = render_html(&data, lang);
        assert!(!html.contains("banner simulated"));
        assert!(!html.contains("SIMULATED") && !html.contains("模擬"));
        let md = hokan_report::render_markdown(&data, lang);
        assert!(!md.contains("SIMULATED") && !md.contains("模擬"));
    }
    data.site.simulated = vec![
        Simulated {
            target: "weekday".into(),
            kind: SimulatedKind::TapeLibrary,
            at: "/srv/demo/vtl".into(),
        },
        Simulated {
            target: "cloud".into(),
            kind: SimulatedKind::S3Server,
            at: "http://127.0.0.1:5000".into(),
        },
    ];
    for (lang, headline, what) in [
        (
            Lang::Ja,
            "× 模擬装置による証拠を含みます",
            "weekday：模擬テープライブラリ",
        ),
        (
            Lang::En,
            "× SIMULATED devices: not evidence",
            "weekday: simulated tape library",
        ),
    ] {
        let html = render_html(&data, lang);
        let notice = html.find("<div class=\"banner simulated bad\"").unwrap();
        let verdict = html.find("<div class=\"banner verdict").unwrap();
        let first = html.find("<section").unwrap();
        assert!(notice < verdict && verdict < first);
        let box_ = &html[notice..verdict];
        assert!(box_.contains(headline), "{box_}");
        assert!(box_.contains(what), "{box_}");
        assert!(
            box_.contains("<code>http://127.0.0.1:5000</code>"),
            "{box_}"
        );
        assert_well_formed(&html);
        let md = hokan_report::render_markdown(&data, lang);
        let md_first = md.find("\n## 1. ").unwrap();
        assert!(md.find(headline).unwrap() < md_first);
    }
}

/// Copies read back after writing (tape and RDX jobs with verify) are verify
/// evidence even when no verify job ran; one row per medium and instant.
#[test]
fn verified_copies_are_verify_evidence() {
    use hokan_catalog::CopyVerifyRow;
    let mut data = fixture::data(Options::default());
    data.jobs.retain(|j| j.job != "verify");
    let at = data.generated_at - Duration::hours(3);
    for s in [E1, E2] {
        data.copy_verifications.insert(
            0,
            CopyVerifyRow {
                seq: 900,
                snapshot: s.into(),
                medium: "RDX0001".into(),
                at,
                ok: true,
                actor: "hokan disk".into(),
                detail: Some("read back after writing".into()),
            },
        );
    }
    let en = render_html(&data, Lang::En);
    let ja = render_html(&data, Lang::Ja);
    let section = between(&en, "<section id=\"verification\">", "<h3>Restore drills");
    assert!(!section.contains("No verify is recorded"), "{section}");
    // The fixture's verify of TAPE01L9, and the RDX job's read-back of two
    // generations in one row.
    assert!(section.contains("<code>TAPE01L9</code>"), "{section}");
    assert!(section.contains("<code>RDX0001</code>"), "{section}");
    assert_eq!(section.matches("<code>RDX0001</code>").count(), 1);
    assert!(section.contains("2 generations"), "{section}");
    assert!(section.contains("read back after writing"));
    assert!(section.contains("○ passed"));
    assert!(between(&ja, "<section id=\"verification\">", "<h3>復旧訓練").contains("2 世代"));

    data.copy_verifications.clear();
    let none = render_html(&data, Lang::En);
    assert!(none.contains("No verify is recorded"));
}

/// Job details are written for people: durations, sizes and rates, not
/// `seconds: 0.3639123`.
#[test]
fn job_details_are_written_for_people() {
    let mut data = fixture::data(Options::default());
    let j = data.jobs.iter_mut().find(|j| j.job != "verify").unwrap();
    j.detail = serde_json::json!({
        "set": "weekday-2026-11-20",
        "bytes": 3_145_728u64,
        "seconds": 0.363_912_345,
        "verified": true,
        "files": 12345,
        "snapshots": [E1, E2],
        "started_at": "2026-11-20T13:00:42.123456+00:00",
    });
    let en = render_html(&data, Lang::En);
    let ja = render_html(&data, Lang::Ja);
    for html in [&en, &ja] {
        assert!(!html.contains("0.3639"), "raw seconds printed");
        assert!(!html.contains("3145728"), "raw bytes printed");
        assert!(html.contains("bytes: 3.0 MiB"));
        assert!(html.contains("files: 12,345"));
        assert!(html.contains("8.2 MiB/s"), "throughput");
        // Ids shortened, instants in the site's zone (+09:00).
        assert!(!html.contains(E1) && html.contains(&format!("snapshots: {}", &E1[..8])));
        assert!(html.contains("started_at: 2026-11-20 22:00"));
    }
    assert!(en.contains("seconds: 0.4 s") && en.contains("verified: yes"));
    assert!(ja.contains("seconds: 0.4秒") && ja.contains("verified: はい"));
}

/// Print rules: words break between words (never "Generati / on"),
/// status badges never wrap, and the font stack names fonts a bare Linux
/// server can install.
#[test]
fn print_rules_for_words_badges_and_fonts() {
    let html = render_html(&fixture::data(Options::default()), Lang::En);
    let style = between(&html, "<style>", "</style>");
    let rule = |sel: &str| between(style, &format!("\n{sel} {{"), "}").to_owned();
    let cells = rule("th, td");
    assert!(!cells.contains("anywhere"), "{cells}");
    assert!(cells.contains("word-break: normal"), "{cells}");
    assert!(rule(".badge").contains("white-space: nowrap"));
    for font in [
        "Noto Sans CJK JP",
        "IPAexGothic",
        "IPAGothic",
        "TakaoGothic",
        "VL Gothic",
    ] {
        assert!(style.contains(&format!("\"{font}\"")), "{font}");
    }
    // Only rows and small groups are kept on one page.
    assert!(style.contains("tr, tbody.keep {"));
    assert!(!style.contains("tbody.group {"));
    assert!(html.contains("<span class=\"badge ok\">○ passed</span>"));
}
