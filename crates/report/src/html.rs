//! The report as one self-contained HTML file that prints on A4.
//!
//! Self-contained means it opens the same on an air-gapped PC years later:
//! no stylesheet, font, image or script is fetched (there is no `<script>`
//! at all), the only links are anchors inside the page, and the style is
//! inline. Printing: A4 with 15 mm margins, table headers repeated on every
//! page, rows (and a generation with a few copies) kept on one page, black
//! text on white, and every status given in words as well as colour so a
//! black-and-white photocopy loses nothing.
//!
//! Every string from the data (medium ids, notes, evidence, person names)
//! comes from users and is escaped by [`escape`]; so are labels, so no
//! path into the page is left unescaped. The one string placed in CSS (the
//! page footer) goes through [`css_string`], which escapes everything that
//! is not a letter or digit.

use std::fmt::Write;

use crate::content;
use crate::doc::{Banner, Block, Cell, Document, Span, Table, Tone};
use crate::{Lang, ReportData};

/// The report as self-contained HTML.
pub fn render_html(data: &ReportData, lang: Lang) -> String {
    let doc = content::build(data, lang);
    let mut out = String::with_capacity(64 * 1024);
    document(&mut out, &doc);
    out
}

/// A document built elsewhere in this crate (the annex), rendered the same way.
pub(crate) fn render_document(doc: &Document) -> String {
    let mut out = String::with_capacity(64 * 1024);
    document(&mut out, doc);
    out
}

/// Escape text for HTML element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A CSS string literal: every character that is not an ASCII letter or
/// digit becomes a six-digit hex escape, so nothing in the data can end the
/// string, the rule or the `<style>` element. Spaces are escaped too: CSS
/// swallows one whitespace character after an escape.
pub(crate) fn css_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let _ = write!(out, "\\{:06x}", c as u32);
        }
    }
    out.push('"');
    out
}

const STYLE: &str = r#"
:root { color-scheme: light; }
html {
  font-family: "Noto Sans CJK JP", "Noto Sans JP", "Source Han Sans JP", "IPAexGothic", "IPAGothic",
    "TakaoGothic", "VL Gothic", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", "YuGothic",
    "Meiryo", sans-serif;
  font-size: 10pt; line-height: 1.45; color: #000; background: #fff;
}
body { margin: 0 auto; max-width: 200mm; padding: 8mm 6mm; }
h1 { font-size: 17pt; margin: 0 0 3mm; padding-bottom: 1.5mm; border-bottom: 2pt solid #000; }
h2 { font-size: 13pt; margin: 7mm 0 2mm; padding-bottom: 0.8mm; border-bottom: 1pt solid #000;
  page-break-after: avoid; break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm; page-break-after: avoid; break-after: avoid; }
p { margin: 1.5mm 0; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin: 1.5mm 0 3mm; }
th, td { border: 0.5pt solid #555; padding: 0.8mm 1.5mm; vertical-align: top; text-align: left;
  word-break: normal; overflow-wrap: break-word; hyphens: auto; }
thead { display: table-header-group; }
thead th { background: #e8e8e8; font-weight: bold; }
tr, tbody.keep { page-break-inside: avoid; break-inside: avoid; }
table.pairs th { width: 38%; background: #f2f2f2; font-weight: normal; }
table.meta { font-size: 9.5pt; }
code { font-family: "Noto Sans Mono CJK JP", "Noto Sans Mono", "DejaVu Sans Mono", Consolas, monospace;
  font-size: 8.5pt; word-break: normal; overflow-wrap: break-word; }
small { font-size: 8pt; color: #333; }
.badge { display: inline-block; border: 0.8pt solid currentColor; border-radius: 2pt; padding: 0 1mm;
  font-weight: bold; background: #fff; white-space: nowrap; }
.badge.long { white-space: normal; }
.ok { color: #0b6623; }
.warn { color: #8a4b00; }
.bad { color: #b00020; }
.info { color: #0b4a8a; }
.muted { color: #555; }
.nw { white-space: nowrap; }
.banner { border: 2pt solid currentColor; padding: 2.5mm 4mm; margin: 4mm 0; page-break-inside: avoid;
  break-inside: avoid; }
.banner.simulated .headline { font-size: 14pt; }
.banner.simulated p { font-size: 9.5pt; }
.banner .headline { font-size: 20pt; font-weight: bold; line-height: 1.2; }
.banner p { color: #000; margin: 1mm 0 0; }
.note { border-left: 3pt solid currentColor; padding: 1.2mm 3mm; margin: 2mm 0; page-break-inside: avoid;
  break-inside: avoid; }
.note span.body { color: #000; }
td.cont { border-top-style: hidden; }
tbody.bad > tr:first-child > td:first-child, tr.bad > td:first-child { border-left: 3pt solid #b00020; }
tbody.warn > tr:first-child > td:first-child, tr.warn > td:first-child { border-left: 3pt solid #8a4b00; }
tr.muted td { color: #444; }
nav ol { margin: 1mm 0 3mm; padding-left: 6mm; columns: 2; font-size: 9pt; }
nav a { color: inherit; }
footer { margin-top: 8mm; padding-top: 1.5mm; border-top: 0.5pt solid #555; font-size: 8pt; color: #333; }
@media print {
  body { max-width: none; padding: 0; }
  nav { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

fn document(out: &mut String, doc: &Document) {
    let lang = match doc.lang {
        Lang::Ja => "ja",
        Lang::En => "en",
    };
    let title = escape(&doc.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"hokan-report\">\n<title>{title}</title>\n<style>"
    );
    // Page margin boxes are honoured by some browsers and ignored by the
    // others; the footer at the end of the document is there for those.
    let _ = write!(
        out,
        "\n@page {{ size: A4; margin: 15mm;\n  @bottom-left {{ content: {}; font-size: 7pt; color: #333; }}\n  \
         @bottom-right {{ content: counter(page) \" / \" counter(pages); font-size: 7pt; color: #333; }}\n}}",
        css_string(&doc.footer)
    );
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header>\n");
    let _ = writeln!(out, "<h1>{title}</h1>");
    out.push_str("<table class=\"pairs meta\">\n<tbody>\n");
    for (label, value) in &doc.meta {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            escape(label),
            cell(value)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    if let Some(b) = &doc.simulated {
        banner(out, b, "simulated", "alert");
    }
    banner(out, &doc.banner, "verdict", "status");
    out.push_str("</header>\n<nav>\n<ol>\n");
    for s in &doc.sections {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            s.id,
            escape(&s.title)
        );
    }
    out.push_str("</ol>\n</nav>\n<main>\n");
    for s in &doc.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            s.id,
            escape(&s.title)
        );
        for b in &s.blocks {
            block(out, b);
        }
        out.push_str("</section>\n");
    }
    let _ = write!(
        out,
        "</main>\n<footer>{}</footer>\n</body>\n</html>\n",
        escape(&doc.footer)
    );
}

/// A boxed headline with lines under it (the verdict, the simulated-devices
/// warning).
fn banner(out: &mut String, b: &Banner, class: &str, role: &str) {
    let _ = writeln!(
        out,
        "<div class=\"banner {class} {}\" role=\"{role}\">\n<div class=\"headline\">{}</div>",
        b.tone.class(),
        escape(&b.headline)
    );
    for line in &b.lines {
        let _ = writeln!(out, "<p>{}</p>", cell(line));
    }
    out.push_str("</div>\n");
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Para(c) => {
            let _ = writeln!(out, "<p>{}</p>", cell(c));
        }
        Block::Note(tone, c) => {
            let _ = writeln!(
                out,
                "<div class=\"note {}\"><span class=\"body\">{}</span></div>",
                tone.class(),
                cell(c)
            );
        }
        Block::Sub(s) => {
            let _ = writeln!(out, "<h3>{}</h3>", escape(s));
        }
        Block::Pairs(pairs) => {
            out.push_str("<table class=\"pairs\">\n<tbody>\n");
            for (label, value) in pairs {
                let _ = writeln!(
                    out,
                    "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                    escape(label),
                    cell(value)
                );
            }
            out.push_str("</tbody>\n</table>\n");
        }
        Block::Table(t) => table(out, t),
    }
}

/// Groups of at most this many rows are kept on one printed page.
const KEEP_ROWS: usize = 4;

fn table(out: &mut String, t: &Table) {
    out.push_str("<table>\n<thead>\n<tr>");
    for h in &t.head {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr>\n</thead>\n");
    let grouped = t.lead > 0;
    if !grouped {
        out.push_str("<tbody>\n");
    }
    for g in &t.groups {
        let class = g.tone.map(Tone::class);
        if grouped {
            // A small group (a generation and a few copies) stays on one
            // page; a large one may break between its rows, or keeping
            // it whole leaves most of a page empty.
            let keep = if g.rows.len() <= KEEP_ROWS {
                " keep"
            } else {
                ""
            };
            match class {
                Some(c) => {
                    let _ = writeln!(out, "<tbody class=\"group {c}{keep}\">");
                }
                None => {
                    let _ = writeln!(out, "<tbody class=\"group{keep}\">");
                }
            }
        }
        for (i, row) in g.rows.iter().enumerate() {
            match class.filter(|_| !grouped) {
                Some(c) => {
                    let _ = write!(out, "<tr class=\"{c}\">");
                }
                None => out.push_str("<tr>"),
            }
            // Later rows of a group have empty lead columns with no line
            // above, so the group reads as one. Not rowspan: a browser
            // will not break a page inside a row span, which left large
            // groups on a page of their own.
            if grouped && i > 0 {
                for _ in 0..t.lead {
                    out.push_str("<td class=\"cont\"></td>");
                }
            }
            for c in row {
                let _ = write!(out, "<td>{}</td>", cell(c));
            }
            out.push_str("</tr>\n");
        }
        if grouped {
            out.push_str("</tbody>\n");
        }
    }
    if !grouped {
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
}

/// Inline content. Newlines inside data become line breaks.
fn cell(c: &Cell) -> String {
    let mut out = String::new();
    for s in &c.0 {
        match s {
            Span::Text(t) if word(t) => {
                let _ = write!(out, "<span class=\"nw\">{}</span>", text(t));
            }
            Span::Text(t) => out.push_str(&text(t)),
            Span::Code(t) => {
                let _ = write!(out, "<code>{}</code>", text(t));
            }
            Span::Strong(t) if word(t) => {
                let _ = write!(out, "<strong class=\"nw\">{}</strong>", text(t));
            }
            Span::Strong(t) => {
                let _ = write!(out, "<strong>{}</strong>", text(t));
            }
            Span::Badge(tone, t) => {
                // A status word never wraps letter by letter; a sentence in
                // a badge (the banner's) may wrap between words.
                let long = if t.chars().count() > 24 { " long" } else { "" };
                let _ = write!(
                    out,
                    "<span class=\"badge {}{long}\">{}</span>",
                    tone.class(),
                    text(t)
                );
            }
            Span::Toned(tone, t) => {
                let nw = if word(t) { " nw" } else { "" };
                let _ = write!(
                    out,
                    "<span class=\"{}{nw}\">{}</span>",
                    tone.class(),
                    text(t)
                );
            }
            Span::Small(t) => {
                let nw = if word(t) { " class=\"nw\"" } else { "" };
                let _ = write!(out, "<small{nw}>{}</small>", text(t));
            }
            Span::Break => out.push_str("<br>"),
        }
    }
    out
}

/// A short token (a 項番 like ①-2-1, 完全, a count) that must not be broken
/// across lines in a narrow column.
fn word(t: &str) -> bool {
    t.chars().count() <= 6 && !t.chars().any(char::is_whitespace)
}

/// Escaped text with line breaks kept.
fn text(s: &str) -> String {
    let s = escape(s);
    if s.contains('\n') || s.contains('\r') {
        s.replace("\r\n", "\n")
            .replace('\r', "\n")
            .replace('\n', "<br>")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("テープ HKN003L9"), "テープ HKN003L9");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn css_strings_cannot_break_out() {
        let s = css_string("a\"; } </style><script>x</script> 報告書\\");
        assert!(s.starts_with('"') && s.ends_with('"'));
        let inner = &s[1..s.len() - 1];
        assert!(!inner.contains('"') && !inner.contains('<') && !inner.contains('}'));
        assert!(inner.contains("\\00003c"), "{inner}");
        assert!(inner.contains("\\005831"), "報 is U+5831: {inner}");
        assert_eq!(css_string("報 告"), "\"\\005831\\000020\\00544a\"");
    }

    #[test]
    fn only_small_groups_are_kept_on_one_page() {
        use crate::doc::Group;
        let rows = |n: usize| {
            (0..n).map(|i| match i {
                0 => vec![Cell::text("g"), Cell::text("0")],
                i => vec![Cell::text(i.to_string())],
            })
        };
        let t = Table {
            head: vec!["generation".into(), "copy".into()],
            lead: 1,
            groups: vec![
                Group {
                    tone: None,
                    rows: rows(2).collect(),
                },
                Group {
                    tone: Some(Tone::Bad),
                    rows: rows(KEEP_ROWS + 1).collect(),
                },
            ],
        };
        let mut out = String::new();
        table(&mut out, &t);
        assert!(out.contains("<tbody class=\"group keep\">"), "{out}");
        assert!(out.contains("<tbody class=\"group bad\">"), "{out}");
        // Later rows: an empty lead cell, then the row's own cells.
        assert!(
            out.contains("<tr><td class=\"cont\"></td><td><span class=\"nw\">1</span></td></tr>"),
            "{out}"
        );
        assert!(!out.contains("rowspan"));
    }

    #[test]
    fn badges_wrap_only_when_they_are_sentences() {
        let c = Cell::badge(Tone::Ok, "○ passed");
        assert_eq!(cell(&c), "<span class=\"badge ok\">○ passed</span>");
        let long = Cell::badge(Tone::Bad, "catalog verify found 3 problems (see below)");
        assert!(cell(&long).starts_with("<span class=\"badge bad long\">"));
    }

    #[test]
    fn newlines_in_data_become_breaks() {
        assert_eq!(text("a\r\nb<c>\nd"), "a<br>b&lt;c&gt;<br>d");
    }
}
