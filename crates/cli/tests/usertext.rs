//! What a user reads: no Rust Debug text, the documented passphrase
//! variable, exit 10 without a configuration, `-q`, colour only on a
//! terminal, times in the site's zone, `report` without `-o`.
//! All on the demo site (`hokan demo`: simulated tape library and RDX drive).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::demo::{demo, hokan, text};

fn in_demo(dir: &Path, args: &[&str]) -> Output {
    hokan().current_dir(dir).args(args).output().unwrap()
}

/// Rust's Debug formatting, as it would leak into a message.
fn debug_leaks(s: &str) -> Vec<String> {
    let bad = [
        r"\bSome\(",
        r"\bNone\b",
        r"\bOk\(",
        r"\bErr\(",
        r"Slot \{",
        r"\(Slot\(",
        r"\b[A-Z]\w+\(\d+\)",
        r"\b[A-Z]\w* \{ \w+: ",
        r#"\\""#,
        r"\\u\{",
        r"\\n",
        r"\b(Compliance|Governance|Shortenable|Enabled|Suspended)\b",
    ];
    let mut found = Vec::new();
    for line in s.lines() {
        for b in bad {
            if regex_lite_match(b, line) {
                found.push(format!("{b} in: {line}"));
            }
        }
    }
    found
}

/// A tiny matcher for the patterns above (no regex crate in this
/// workspace's dev-dependencies): translates them to checks by hand.
fn regex_lite_match(p: &str, line: &str) -> bool {
    let word_before = |i: usize| {
        i > 0
            && line[..i]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
    };
    let find_word = |w: &str, next: Option<char>| {
        line.match_indices(w).any(|(i, _)| {
            !word_before(i)
                && match next {
                    Some(n) => line[i + w.len()..].starts_with(n),
                    None => !line[i + w.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_'),
                }
        })
    };
    match p {
        r"\bSome\(" => find_word("Some", Some('(')),
        r"\bNone\b" => find_word("None", None),
        r"\bOk\(" => find_word("Ok", Some('(')),
        r"\bErr\(" => find_word("Err", Some('(')),
        r"Slot \{" => line.contains("Slot {"),
        r"\(Slot\(" => line.contains("(Slot("),
        r"\b[A-Z]\w+\(\d+\)" => {
            // `Slot(1)`, `Drive(0)`: a capitalised word, `(`, digits, `)`.
            let b = line.as_bytes();
            (0..b.len()).any(|i| {
                b[i].is_ascii_uppercase() && !word_before(i) && {
                    let mut j = i + 1;
                    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                        j += 1;
                    }
                    j > i + 1 && j < b.len() && b[j] == b'(' && {
                        let mut k = j + 1;
                        while k < b.len() && b[k].is_ascii_digit() {
                            k += 1;
                        }
                        k > j + 1 && k < b.len() && b[k] == b')'
                    }
                }
            })
        }
        r"\b[A-Z]\w* \{ \w+: " => {
            // `Location { kind: …`
            line.match_indices(" { ").any(|(i, _)| {
                let before = &line[..i];
                let word: String = before
                    .chars()
                    .rev()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let after = &line[i + 3..];
                let field: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                word.chars().last().is_some_and(|c| c.is_ascii_uppercase())
                    && !field.is_empty()
                    && after[field.len()..].starts_with(": ")
            })
        }
        r#"\\""# => line.contains("\\\""),
        r"\\u\{" => line.contains("\\u{"),
        r"\\n" => line.contains("\\n"),
        r"\b(Compliance|Governance|Shortenable|Enabled|Suspended)\b" => [
            "Compliance",
            "Governance",
            "Shortenable",
            "Enabled",
            "Suspended",
        ]
        .iter()
        .any(|w| find_word(w, None)),
        _ => unreachable!("{p}"),
    }
}

#[test]
fn the_debug_detector_detects() {
    for s in [
        "inserted (Slot(1))",
        "at Slot { slot: 1 }",
        "value Some(3)",
        "none: None",
        "Location { kind: shelf }",
        r#"name "a\"b""#,
        "protection on cloud recorded (Compliance)",
    ] {
        assert!(!debug_leaks(s).is_empty(), "not detected: {s}");
    }
    for s in [
        "in slot 2 of library vtl-weekday",
        "offline ①-2-1",
        "Nonesuch Hospital",
        "hokan: {\"a\": 1}",
    ] {
        assert!(
            debug_leaks(s).is_empty(),
            "false alarm: {s}: {:?}",
            debug_leaks(s)
        );
    }
}

#[test]
fn no_debug_text_in_human_output_en_and_ja() {
    let (_tmp, dir) = demo();
    let ids = String::from_utf8(in_demo(&dir, &["snapshots", "--json"]).stdout).unwrap();
    let ids: serde_json::Value = serde_json::from_str(&ids).unwrap();
    let first = ids[0]["short_id"].as_str().unwrap().to_owned();
    let commands: Vec<Vec<&str>> = vec![
        vec!["status", "--no-observe"],
        vec!["status"],
        vec!["media", "list"],
        vec!["media", "show", "HKN001L9"],
        vec!["media", "show", "HKN003L9"],
        vec!["media", "show", "RDX-1"],
        vec!["attest", "list"],
        vec!["catalog", "events", "--limit", "500"],
        vec!["catalog", "verify"],
        vec!["config", "check"],
        vec!["tape", "status", "--pool", "weekday"],
        vec!["tape", "inventory", "--pool", "weekday"],
        vec!["disk", "status", "--pool", "rdx"],
        vec!["snapshots"],
        vec!["ls", "latest"],
        vec!["diff", &first, "latest"],
        vec!["verify"],
        vec!["key", "list"],
        vec!["report", "--format", "md"],
        vec![
            "media",
            "move",
            "HKN002L9",
            "--to",
            "nowhere:x",
            "--by",
            "t",
        ],
        vec!["media", "show", "NO-SUCH"],
        vec!["restore", "nosuch", "--target", "r"],
        vec!["backup", "--time", "yesterday"],
        vec!["forget", "--keep-last", "2", "--dry-run"],
        vec!["prune", "--dry-run"],
    ];
    let mut leaks = Vec::new();
    for lang in ["en", "ja"] {
        for c in &commands {
            let o = hokan()
                .current_dir(&dir)
                .args(["--lang", lang])
                .args(c)
                .output()
                .unwrap();
            for l in debug_leaks(&text(&o)) {
                leaks.push(format!("hokan --lang {lang} {}: {l}", c.join(" ")));
            }
        }
    }
    // Inserting into the simulated library printed `inserted (Slot(1))`.
    for (lang, barcode, want) in [
        ("en", "HKN010L9", "in slot"),
        ("ja", "HKN011L9", "スロット"),
    ] {
        let o = in_demo(
            &dir,
            &[
                "--lang", lang, "tape", "sim", "insert", "--pool", "weekday", barcode,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains(want), "{}", text(&o));
        for l in debug_leaks(&text(&o)) {
            leaks.push(format!("hokan --lang {lang} tape sim insert: {l}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "Debug text in output:\n{}",
        leaks.join("\n")
    );
}

/// Issue 16: a `[[vault]]` counts only from its signed receipts: one that
/// never sent any is shown as such in status (human and JSON), with a
/// problem saying what to check, and counts for nothing.
#[test]
fn a_vault_without_a_receipt_counts_for_nothing() {
    let (_tmp, dir) = demo();
    let conf = dir.join("hokan.toml");
    let mut toml = std::fs::read_to_string(&conf).unwrap();
    toml.push_str(&format!(
        "\n[[vault]]\nname = \"dr-vault\"\nretention = \"30d\"\npublic_key = \"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\"\ntoken_blake3 = \"{}\"\n",
        "ab".repeat(32)
    ));
    std::fs::write(&conf, toml).unwrap();
    let o = in_demo(&dir, &["--lang", "en", "status", "--no-observe"]);
    let out = text(&o);
    assert!(out.contains("no verified receipt yet"), "{out}");
    assert!(
        out.contains("Vault dr-vault has never sent a receipt"),
        "{out}"
    );
    let o = in_demo(&dir, &["--lang", "ja", "status", "--no-observe"]);
    assert!(text(&o).contains("検証済みの受領書なし"), "{}", text(&o));
    let o = in_demo(&dir, &["status", "--no-observe", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dr = v["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "dr-vault")
        .unwrap_or_else(|| panic!("no dr-vault in {v}"));
    assert!(dr["last_receipt"].is_null(), "{v}");
    assert_eq!(dr["copies"], 0, "{v}");
}

#[test]
fn hokan_passphrase_is_read_and_hokan_password_still_works() {
    let (_tmp, dir) = demo();
    let pw = std::fs::read_to_string(dir.join("password.txt")).unwrap();
    let pw = pw.lines().next().unwrap();
    let repo = dir.join("repo");
    for var in ["HOKAN_PASSPHRASE", "HOKAN_PASSWORD"] {
        let o = hokan()
            .arg("--repo")
            .arg(&repo)
            .arg("snapshots")
            .env(var, pw)
            .output()
            .unwrap();
        assert!(o.status.success(), "{var}: {}", text(&o));
        let o = hokan()
            .arg("--repo")
            .arg(&repo)
            .arg("snapshots")
            .env(var, "wrong")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(5), "{var} wrong: {}", text(&o));
    }
    // Neither set, no terminal: the message names the documented variable.
    let o = hokan()
        .arg("--repo")
        .arg(&repo)
        .arg("snapshots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(text(&o).contains("HOKAN_PASSPHRASE"), "{}", text(&o));
}

#[test]
fn status_and_report_without_configuration_exit_10_and_say_what_to_run() {
    let tmp = common::demo::scratch();
    for (args, lang, word) in [
        (vec!["status"], "en", "hokan.toml"),
        (vec!["report", "-o", "r.html"], "en", "hokan config check"),
        (vec!["status"], "ja", "設定ファイル"),
    ] {
        let o = hokan()
            .current_dir(tmp.path())
            .args(["--lang", lang])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(10), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(word), "{args:?}: {}", text(&o));
    }
}

#[test]
fn quiet_hides_the_backup_summary_but_not_the_snapshot() {
    let (_tmp, dir) = demo();
    let o = in_demo(&dir, &["backup"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("added to repository"), "{}", text(&o));
    let o = in_demo(&dir, &["-q", "backup"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o), "", "-q printed something");
    let n = in_demo(&dir, &["snapshots", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&n.stdout).unwrap();
    // The demo's three nights and its night through `hokan run`, then two.
    assert_eq!(v.as_array().unwrap().len(), 6, "the quiet backup was made");
}

#[test]
fn no_colour_codes_when_stderr_is_not_a_terminal() {
    let (_tmp, dir) = demo();
    // A damaged index file makes the engine log a warning on stderr.
    let index = std::fs::read_dir(dir.join("repo/index"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&index, b"garbage").unwrap();
    let o = in_demo(&dir, &["snapshots"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("damaged"), "no warning to check: {err}");
    assert!(!err.contains('\x1b'), "escape codes on a pipe: {err:?}");
    // On a terminal (script(1) gives one), colour, unless NO_COLOR.
    if Path::new("/usr/bin/script").exists() {
        let run = |no_color: bool| {
            let mut c = Command::new("/usr/bin/script");
            c.current_dir(&dir)
                .args(["-qec"])
                .arg(format!("{} snapshots", env!("CARGO_BIN_EXE_hokan")))
                .arg("/dev/null")
                .env_remove("NO_COLOR")
                .env("LANG", "C");
            if no_color {
                c.env("NO_COLOR", "1");
            }
            String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
        };
        assert!(run(false).contains('\x1b'), "no colour on a terminal");
        let plain = run(true);
        assert!(
            !plain.contains("\x1b[3") && !plain.contains("\x1b[0m"),
            "colour despite NO_COLOR: {plain:?}"
        );
    } else {
        eprintln!("SKIPPED the terminal half: /usr/bin/script (util-linux) is missing");
    }
}

#[test]
fn times_are_shown_in_the_site_zone_and_json_stays_utc() {
    let (_tmp, dir) = demo(); // timezone = "+09:00"
    let o = in_demo(&dir, &["snapshots"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = out.lines().skip(1).filter(|l| l.contains("emr")).collect();
    assert_eq!(
        rows.len(),
        4,
        "three nights and one through hokan run: {out}"
    );
    for r in &rows {
        assert!(r.contains(" +09:00 "), "not in the site's zone: {r}");
        // The time column only: the data path is a temporary folder whose
        // random name may hold a 'Z'.
        let time_column = r.split(" emr").next().unwrap();
        assert!(!time_column.contains('Z'), "UTC shown: {r}");
    }
    let o = in_demo(&dir, &["backup"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().next().unwrap().contains(" +09:00)"), "{out}");
    let o = in_demo(&dir, &["snapshots", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for s in v.as_array().unwrap() {
        let t = s["time"].as_str().unwrap();
        assert!(t.ends_with('Z') && t.contains('T'), "JSON time {t}");
    }
    // The same instant: 14:14Z is 23:14 +09:00.
    let utc = v[0]["time"].as_str().unwrap();
    let t = time::OffsetDateTime::parse(utc, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap());
    let shown = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute()
    );
    assert!(rows[0].contains(&shown), "{} vs {shown}", rows[0]);
}

#[test]
fn report_without_output_on_a_terminal_goes_to_a_named_file() {
    let (_tmp, dir) = demo();
    // Piped: stdout, as before (scripts redirect it).
    let o = in_demo(&dir, &["report", "--format", "md"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("# "));
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("SKIPPED the terminal half: /usr/bin/script (util-linux) is missing");
        return;
    }
    let o = Command::new("/usr/bin/script")
        .current_dir(&dir)
        .args(["-qec"])
        .arg(format!("{} --lang en report", env!("CARGO_BIN_EXE_hokan")))
        .arg("/dev/null")
        .env("LANG", "C")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        !out.contains("<html") && !out.contains("<!DOCTYPE"),
        "HTML on the terminal"
    );
    let written: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("hokan-report-") && n.ends_with(".html"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}; said: {out}");
    assert!(out.contains(&written[0]), "the name is not said: {out}");
    let html = std::fs::read_to_string(dir.join(&written[0])).unwrap();
    assert!(html.contains("<html"), "not the report");
}

#[test]
fn help_is_japanese_under_a_japanese_locale_or_lang_ja() {
    let by_lang = hokan().args(["--lang", "ja", "--help"]).output().unwrap();
    let by_locale = hokan()
        .arg("--help")
        .env("LANG", "ja_JP.UTF-8")
        .output()
        .unwrap();
    for o in [&by_lang, &by_locale] {
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("病院のためのオフラインバックアップ"), "{out}");
        // Every command's one-line about is Japanese.
        let commands: Vec<&str> = out
            .lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect();
        assert!(commands.len() >= 20, "{out}");
        for l in commands {
            assert!(!l.is_ascii(), "English about under ja: {l}");
        }
    }
    let o = hokan()
        .args(["--lang", "ja", "media", "move", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("人が媒体を置いた場所を記録します"));
    let en = hokan().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&en.stdout).contains("Create a new repository"));
}
