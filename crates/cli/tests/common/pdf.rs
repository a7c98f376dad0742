//! Printing a generated document (the report, the annex) to PDF with
//! headless Chromium and checking it with poppler-utils as a hospital's
//! printout: A4, every word on the page, no English word broken.
//!
//! Needs `chromium`, `pdfinfo`/`pdftotext` (poppler-utils) and a Japanese
//! font (fonts-noto-cjk); scripts/test.sh installs them. Without them a
//! test FAILS, saying so ([`require_tools`]): it never passes without
//! printing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A4 in PostScript points.
pub const A4: (f64, f64) = (595.28, 841.89);
/// The report's page margin (`@page { margin: 15mm }`) in points.
pub const MARGIN: f64 = 15.0 / 25.4 * 72.0;

pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed: this test prints to PDF with headless \
             Chromium and reads it with poppler-utils. scripts/test.sh installs them \
             (apt-get install chromium poppler-utils fonts-noto-cjk)."
        )
    })
}

pub fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(p) = std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        }) {
            return p;
        }
    }
    tool("chromium")
}

/// Where the PDFs are kept, for a person to look at: `target/report-pdf/`.
pub fn artifacts() -> PathBuf {
    // CARGO_BIN_EXE_hokan is target/<profile>/hokan.
    let bin = Path::new(env!("CARGO_BIN_EXE_hokan"));
    let target = bin
        .parent()
        .and_then(Path::parent)
        .expect("the binary lives under target/<profile>/");
    let dir = target.join("report-pdf");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `hokan --config CONFIG ARGS`, which must succeed.
pub fn hokan_ok(config: &Path, args: &[&str]) {
    let o = super::demo::hokan()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "hokan {args:?}: {}",
        super::demo::text(&o)
    );
}

/// Print `html` to `pdf` with headless Chromium, within a minute.
pub fn print(html: &Path, pdf: &Path, profile: &Path) {
    let _ = std::fs::remove_file(pdf);
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            assert!(status.success(), "chromium failed: {err}");
            break;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not print {} within 60 s", html.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        std::fs::metadata(pdf).is_ok_and(|m| m.len() > 1000),
        "chromium wrote no PDF for {}",
        html.display()
    );
}

fn output(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `hokan --lang LANG COMMAND --format html` for the site of `config`,
/// printed to PDF: both kept under [`artifacts`] as `demo-COMMAND-LANG`.
/// Returns the HTML's and the PDF's paths.
pub fn generate_and_print(
    config: &Path,
    command: &str,
    lang: &str,
    profile: &Path,
) -> (PathBuf, PathBuf) {
    let out = artifacts();
    let html = out.join(format!("demo-{command}-{lang}.html"));
    let pdf = out.join(format!("demo-{command}-{lang}.pdf"));
    let args = ["--lang", lang, command, "--format", "html", "-o"];
    let mut args: Vec<&str> = args.to_vec();
    args.push(html.to_str().unwrap());
    hokan_ok(config, &args);
    print(&html, &pdf, profile);
    eprintln!(
        "{command}: {} printed with {} to {}",
        html.display(),
        chromium().display(),
        pdf.display()
    );
    (html, pdf)
}

/// Pages and each page's size in points, from `pdfinfo -f 1 -l N`.
fn page_sizes(pdf: &Path) -> Vec<(f64, f64)> {
    let info = output(Command::new(tool("pdfinfo")).arg(pdf));
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .expect("pdfinfo prints Pages:")
        .trim()
        .parse()
        .unwrap();
    let all = output(
        Command::new(tool("pdfinfo"))
            .args(["-f", "1", "-l", &pages.to_string()])
            .arg(pdf),
    );
    let sizes: Vec<(f64, f64)> = all
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains("size:"))
        .map(|l| {
            let after = l.split("size:").nth(1).unwrap();
            let nums: Vec<f64> = after
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            (nums[0], nums[1])
        })
        .collect();
    assert_eq!(sizes.len(), pages, "{all}");
    sizes
}

/// One word of `pdftotext -bbox`: page (from 1), text, xMin, yMin, xMax, yMax.
struct Word {
    page: usize,
    text: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

fn attr(tag: &str, name: &str) -> f64 {
    let at = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = at + tag[at..].find('"').unwrap();
    tag[at..end].parse().unwrap()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn words(pdf: &Path) -> Vec<Word> {
    let out = std::env::temp_dir().join(format!(
        "hokan-bbox-{}-{}.html",
        std::process::id(),
        pdf.file_stem().unwrap().to_string_lossy()
    ));
    output(
        Command::new(tool("pdftotext"))
            .arg("-bbox")
            .arg(pdf)
            .arg(&out),
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let mut page = 0;
    let mut words = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            page += 1;
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let close = rest.find('>').unwrap();
            let tag = &rest[..close];
            let body = &rest[close + 1..];
            let body = body.strip_suffix("</word>").unwrap_or(body);
            words.push(Word {
                page,
                text: unescape(body),
                x0: attr(tag, "xMin"),
                y0: attr(tag, "yMin"),
                x1: attr(tag, "xMax"),
                y1: attr(tag, "yMax"),
            });
        }
    }
    words
}

/// The words of the HTML's text outside `<code>` (where any break is
/// allowed), and of all its text.
fn html_words(html: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let body = &html[html.find("<body").unwrap()..];
    let mut prose = String::new();
    let mut all = String::new();
    let mut in_tag = false;
    let mut code = 0usize;
    let mut i = 0;
    let b = body.as_bytes();
    while i < b.len() {
        if b[i] == b'<' {
            in_tag = true;
            if body[i..].starts_with("<code") {
                code += 1;
            } else if body[i..].starts_with("</code") {
                code = code.saturating_sub(1);
            }
            prose.push(' ');
            all.push(' ');
        } else if b[i] == b'>' && in_tag {
            in_tag = false;
        } else if !in_tag {
            let c = body[i..].chars().next().unwrap();
            all.push(c);
            if code == 0 {
                prose.push(c);
            }
            i += c.len_utf8();
            continue;
        }
        i += 1;
    }
    let split = |s: &str| -> BTreeSet<String> {
        unescape(s)
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    (split(&prose), split(&all))
}

/// Check one printed document (`what`: `report ja`, `annex en`): A4 on
/// every page, more than one page, every word inside the page and off
/// its left and right margins, no English word of the HTML's prose broken
/// in the middle. Returns every page's text, in order.
pub fn check_pdf(lang: &str, html_path: &Path, pdf: &Path) -> Vec<String> {
    let sizes = page_sizes(pdf);
    assert!(
        sizes.len() > 1,
        "{lang}: printed on {} page(s) only",
        sizes.len()
    );
    for (i, (w, h)) in sizes.iter().enumerate() {
        assert!(
            (w - A4.0).abs() <= 1.0 && (h - A4.1).abs() <= 1.0,
            "{lang}: page {} is {w}×{h} pt, not A4 (595×842)",
            i + 1
        );
    }
    let words = words(pdf);
    assert!(words.len() > 200, "{lang}: only {} words", words.len());
    // Nothing outside the page, and nothing in the left or right margin
    // (text that overflows a table spills there first).
    for w in &words {
        let (pw, ph) = sizes[w.page - 1];
        assert!(
            w.x0 >= MARGIN - 2.0 && w.x1 <= pw - MARGIN + 2.0 && w.y0 >= 0.0 && w.y1 <= ph,
            "{lang}: {:?} on page {} lies outside the printable area ({:.1},{:.1})–({:.1},{:.1}); see {}",
            w.text,
            w.page,
            w.x0,
            w.y0,
            w.x1,
            w.y1,
            pdf.display()
        );
    }
    // No English word broken in the middle ("Generati" / "on"): a printed
    // word that is not a word of the report but starts one of its words.
    let html = std::fs::read_to_string(html_path).unwrap();
    let (prose, all) = html_words(&html);
    for w in &words {
        let t: String = w
            .text
            .trim_matches(|c: char| !c.is_ascii_alphabetic())
            .to_owned();
        if t.len() < 3 || !t.chars().all(|c| c.is_ascii_alphabetic()) || all.contains(&t) {
            continue;
        }
        let whole = prose
            .iter()
            .find(|p| p.len() > t.len() && p.starts_with(&t));
        assert!(
            whole.is_none(),
            "{lang}: {:?} is printed broken as {:?} on page {}; see {}",
            whole.unwrap(),
            t,
            w.page,
            pdf.display()
        );
    }
    (1..=sizes.len())
        .map(|p| {
            let on: Vec<&str> = words
                .iter()
                .filter(|w| w.page == p)
                .map(|w| w.text.as_str())
                .collect();
            on.join(" ")
        })
        .collect()
}

/// Text without spaces, to compare with pdftotext's: it splits Japanese
/// into words of its own choosing.
pub fn squeeze(s: &str) -> String {
    s.split_whitespace().collect()
}

/// Chromium, poppler-utils and a Japanese font are installed; panics
/// saying how to install them otherwise (the test never passes without
/// printing). Returns Chromium's path.
pub fn require_tools() -> PathBuf {
    let chromium = chromium();
    let (_, _) = (tool("pdfinfo"), tool("pdftotext"));
    let fonts = Command::new("fc-list")
        .arg(":lang=ja")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        !fonts.trim().is_empty(),
        "no Japanese font is installed (fc-list :lang=ja is empty): Japanese would print \
         as boxes. scripts/test.sh installs fonts-noto-cjk."
    );
    chromium
}
