//! `hokan annex`: the rulebook annex generated for the demo site (`hokan
//! demo`: simulated tape library and RDX drive, a moto bucket when moto is
//! installed, and a vault), checked for its sections and for the site's
//! real targets, cartridges and commands, read from the demo's hokan.toml
//! and catalog here rather than from a frozen copy of the text.

mod common;

use std::path::Path;
use std::process::Output;

use common::demo::{demo, hokan, text};

use hokan_catalog::Catalog;

/// `hokan --config DIR/hokan.toml ARGS`, from another folder.
fn annex(dir: &Path, args: &[&str]) -> Output {
    hokan()
        .current_dir(dir.parent().unwrap())
        .arg("--config")
        .arg(dir.join("hokan.toml"))
        .args(args)
        .output()
        .unwrap()
}

/// What the site really has: targets with their table, and the catalog's
/// media per pool.
struct Real {
    config: String,
    targets: Vec<(String, String)>,
    media: Vec<(String, String)>,
}

fn real(dir: &Path) -> Real {
    let o = annex(dir, &["config", "check", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let targets = v["site"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let cat = Catalog::open(&dir.join("catalog.db")).unwrap();
    let media = cat
        .media()
        .unwrap()
        .into_iter()
        .filter_map(|m| Some((m.id.to_string(), m.pool?.to_string())))
        .collect();
    Real {
        config: std::path::absolute(dir.join("hokan.toml"))
            .unwrap()
            .display()
            .to_string(),
        targets,
        media,
    }
}

fn write(dir: &Path, lang: &str, format: &str, name: &str) -> String {
    let out = dir.join(name);
    let o = annex(
        dir,
        &[
            "--lang",
            lang,
            "annex",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::read_to_string(out).unwrap()
}

/// Every target's restore command, its cartridges and the site's config
/// path are in the annex, as an operator would type them. (None of them
/// holds a character HTML or Markdown escapes, so the same strings serve
/// every format.)
fn has_the_real_site(doc: &str, r: &Real) {
    let base = format!("hokan --config {}", r.config);
    assert!(
        r.targets.iter().any(|(_, k)| k == "tape_pool"),
        "demo without tapes?"
    );
    for (name, kind) in &r.targets {
        let restore = match kind.as_str() {
            "tape_pool" => format!("{base} tape restore --pool {name} "),
            "disk_pool" => format!("{base} disk restore --pool {name} "),
            "s3" => format!("{base} s3 restore {name} "),
            "vault" => "hokan vault --dir /var/lib/hokan-vault restore ".to_owned(),
            other => panic!("unknown target kind {other}"),
        };
        assert!(
            doc.contains(restore.as_str()),
            "no {restore:?} in the annex"
        );
        assert!(doc.contains(name.as_str()), "target {name} missing");
    }
    for (id, pool) in &r.media {
        if r.targets.iter().any(|(n, _)| n == pool) {
            assert!(
                doc.contains(id.as_str()),
                "medium {id} of pool {pool} missing"
            );
        }
    }
    // The catalog head is printed, so the paper can be tied to the log.
    assert!(doc.contains(" catalog verify --expect "), "no head check");
}

#[test]
fn the_demo_sites_annex_in_japanese_and_english_html_and_markdown() {
    let (_tmp, dir) = demo();
    let r = real(&dir);

    // The demo wrote the Japanese annex beside its report.
    let demo_annex = std::fs::read_to_string(dir.join("annex-ja.html")).unwrap();
    assert!(dir.join("report.html").exists());
    assert!(demo_annex.contains("運用管理規程 別紙"), "demo annex");

    let ja = write(&dir, "ja", "html", "annex-ja-2.html");
    assert!(ja.starts_with("<!DOCTYPE html>") && ja.contains("<html lang=\"ja\">"));
    assert!(ja.contains("size: A4"), "prints on A4 like the report");
    for section in [
        "目的と適用範囲",
        "責任者と担当者",
        "バックアップの対象",
        "バックアップの頻度",
        "媒体・方式と項番",
        "世代管理とローテーション",
        "媒体の保管場所",
        "復旧の順序",
        "媒体別の復旧手順",
        "パスフレーズとペーパーキー",
        "復旧訓練",
        "診療録管理体制加算1 の届出に記載する事項",
        "版と承認",
    ] {
        assert!(ja.contains(section), "section {section} missing");
    }
    // The definitions' wording of the 項番 the demo uses.
    assert!(
        ja.contains("①-2-1") && ja.contains("スロットに格納され、ドライブに装填されていない状態")
    );
    assert!(ja.contains("②-1-1"));
    // The order of recovery: a generation from before the infection, an
    // isolated place first.
    assert!(ja.contains("それより前に取得された世代を選びます"));
    assert!(ja.contains("隔離した復元先"));
    assert!(ja.contains("--paper-key") && ja.contains("key export --paper"));
    // No drill in the demo yet: said per target, never left blank.
    assert!(ja.contains("訓練の記録なし"));
    // Version and simulated devices are stated.
    assert!(ja.contains(&format!(
        "hokan {}・別紙様式 第{}版",
        env!("CARGO_PKG_VERSION"),
        hokan_report::ANNEX_FORMAT
    )));
    assert!(ja.contains("模擬装置"));
    has_the_real_site(&ja, &r);

    let en = write(&dir, "en", "html", "annex-en.html");
    assert!(en.contains("<html lang=\"en\">"));
    for section in [
        "Purpose and scope",
        "Who is responsible",
        "What is backed up",
        "How often",
        "Media, methods and 項番",
        "Generations and rotation",
        "Where media are kept",
        "Recovery: the order",
        "Recovery from each medium, step by step",
        "Passphrase and paper key",
        "Restore drills",
        "For the 診療録管理体制加算1 filing",
        "Version and approval",
    ] {
        assert!(en.contains(section), "section {section} missing");
    }
    assert!(en.contains("no drill recorded"));
    assert!(en.contains("choose a generation taken BEFORE it"));
    has_the_real_site(&en, &r);

    let m = write(&dir, "ja", "md", "annex-ja.md");
    assert!(
        m.starts_with("# 運用管理規程 別紙：バックアップ運用\n"),
        "{}",
        &m[..200]
    );
    assert!(m.contains("## 9. 媒体別の復旧手順"), "numbered sections");
    has_the_real_site(&m, &r);

    // --json: the path and the version, nothing else on stdout.
    let out = dir.join("annex.json.html");
    let o = annex(&dir, &["--json", "annex", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["path"], out.to_str().unwrap());
    assert_eq!(v["format_version"], hokan_report::ANNEX_FORMAT);
    assert!(v["version"]
        .as_str()
        .unwrap()
        .contains(env!("CARGO_PKG_VERSION")));
    assert!(out.exists());

    // The report names the annex format it goes with.
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let format = hokan_report::ANNEX_FORMAT;
    assert!(
        report.contains(&format!("別紙様式 第{format}版"))
            || report.contains(&format!("annex format {format}"))
    );
}

#[test]
fn roles_from_hokan_toml_or_who_must_fill_them_in() {
    let (_tmp, dir) = demo();
    let ja = write(&dir, "ja", "md", "before.md");
    assert!(ja.contains("要記入"), "blanks to fill in");
    assert!(
        ja.contains("医療情報システム安全管理責任者が担当者を定め"),
        "says who must fill them in"
    );
    let en = write(&dir, "en", "md", "before-en.md");
    assert!(en.contains("must name these people"), "{en}");

    let conf = dir.join("hokan.toml");
    let mut toml = std::fs::read_to_string(&conf).unwrap();
    toml.push_str(
        "\n[roles]\nresponsible = \"情報システム課長 山田\"\noperator = [\"佐藤\", \"鈴木\"]\nkey_custodian = \"事務長 田中\"\nvault_console = \"佐藤\"\n",
    );
    std::fs::write(&conf, toml).unwrap();
    let ja = write(&dir, "ja", "md", "after.md");
    assert!(
        ja.contains("| バックアップ運用の管理責任者 | 情報システム課長 山田 |"),
        "{ja}"
    );
    assert!(ja.contains("佐藤、鈴木"));
    assert!(ja.contains("事務長 田中"));
    assert!(!ja.contains("医療情報システム安全管理責任者が担当者を定め"));
}

#[test]
fn no_configuration_no_annex() {
    let tmp = common::demo::scratch();
    let o = hokan()
        .current_dir(tmp.path())
        .args(["--lang", "en", "annex", "-o", "x.html"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    assert!(text(&o).contains("hokan.toml"), "{}", text(&o));
    assert!(!tmp.path().join("x.html").exists());
}
