//! The report as GitHub-flavoured Markdown.
//!
//! Meant to be pasted into a ticket or a wiki, or read as plain text. Data
//! is escaped so it cannot change the structure: `|` inside a cell is `\|`
//! (GFM splits cells before anything else), newlines become `<br>`, and the
//! characters that start emphasis, links, code or raw HTML are
//! backslash-escaped, so a note reading `<script>` shows as text.
//! Grouped tables (a generation and its copies) repeat no lead cells: the
//! lead columns of later rows of a group are left empty.

use crate::content;
use crate::doc::{Block, Cell, Document, Span, Table};
use crate::{Lang, ReportData};

/// The report as Markdown.
pub fn render_markdown(data: &ReportData, lang: Lang) -> String {
    let doc = content::build(data, lang);
    let mut out = String::with_capacity(32 * 1024);
    document(&mut out, &doc);
    out
}

/// A document built elsewhere in this crate (the annex), rendered the same way.
pub(crate) fn render_document(doc: &Document) -> String {
    let mut out = String::with_capacity(32 * 1024);
    document(&mut out, doc);
    out
}

/// Escape text for Markdown, inside or outside a table cell.
pub(crate) fn escape(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\r' if chars.get(i + 1) == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("<br>"),
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // An underscore inside a word (`snake_case`) never starts
            // emphasis; only escape it at word edges.
            '_' => {
                let inner = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if !inner {
                    out.push('\\');
                }
                out.push('_');
            }
            // A `#` at the start of text could start a heading.
            '#' if i == 0 => out.push_str("\\#"),
            c => out.push(c),
        }
    }
    out
}

/// A code span: backquotes inside are fenced by a longer run, `|` is still
/// escaped (GFM splits table cells first), newlines become spaces.
fn code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn cell(c: &Cell) -> String {
    let mut out = String::new();
    for s in &c.0 {
        match s {
            Span::Text(t) | Span::Toned(_, t) | Span::Small(t) => out.push_str(&escape(t)),
            Span::Code(t) => out.push_str(&code(t)),
            Span::Strong(t) | Span::Badge(_, t) => {
                let t = escape(t);
                if t.trim().is_empty() {
                    out.push_str(&t);
                } else {
                    out.push_str("**");
                    out.push_str(&t);
                    out.push_str("**");
                }
            }
            Span::Break => out.push_str("<br>"),
        }
    }
    out
}

fn document(out: &mut String, doc: &Document) {
    out.push_str("# ");
    out.push_str(&escape(&doc.title));
    out.push_str("\n\n");
    for (label, value) in &doc.meta {
        out.push_str(&format!("- **{}**: {}\n", escape(label), cell(value)));
    }
    out.push('\n');
    for b in doc.simulated.iter().chain([&doc.banner]) {
        out.push_str(&format!("> ## {}\n", escape(&b.headline)));
        for line in &b.lines {
            out.push_str(&format!(">\n> {}\n", cell(line)));
        }
        out.push('\n');
    }
    for s in &doc.sections {
        out.push_str(&format!("## {}\n\n", escape(&s.title)));
        for b in &s.blocks {
            block(out, b, doc.lang);
        }
    }
    out.push_str("---\n\n");
    out.push_str(&format!("_{}_\n", escape(&doc.footer)));
}

fn block(out: &mut String, b: &Block, lang: Lang) {
    match b {
        Block::Para(c) => {
            out.push_str(&cell(c));
            out.push_str("\n\n");
        }
        Block::Note(_, c) => {
            out.push_str("> ");
            out.push_str(&cell(c));
            out.push_str("\n\n");
        }
        Block::Sub(s) => {
            out.push_str(&format!("### {}\n\n", escape(s)));
        }
        Block::Pairs(pairs) => {
            let head = match lang {
                Lang::Ja => ["項目", "内容"],
                Lang::En => ["Item", "Value"],
            };
            out.push_str(&format!("| {} | {} |\n|---|---|\n", head[0], head[1]));
            for (label, value) in pairs {
                out.push_str(&format!("| {} | {} |\n", escape(label), cell(value)));
            }
            out.push('\n');
        }
        Block::Table(t) => table(out, t),
    }
}

fn table(out: &mut String, t: &Table) {
    let row = |out: &mut String, cells: &mut dyn Iterator<Item = String>| {
        out.push('|');
        for c in cells {
            out.push(' ');
            out.push_str(&c);
            out.push_str(" |");
        }
        out.push('\n');
    };
    row(out, &mut t.head.iter().map(|h| escape(h)));
    row(out, &mut t.head.iter().map(|_| "---".to_owned()));
    for g in &t.groups {
        for (i, r) in g.rows.iter().enumerate() {
            let lead = if i == 0 { 0 } else { t.lead };
            let mut cells = std::iter::repeat_with(String::new)
                .take(lead)
                .chain(r.iter().map(cell))
                .chain(std::iter::repeat_with(String::new))
                .take(t.head.len());
            row(out, &mut cells);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_structure_characters() {
        assert_eq!(escape("A|B"), "A\\|B");
        assert_eq!(escape("line1\nline2\r\nline3"), "line1<br>line2<br>line3");
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "\\<script\\>alert(1)\\</script\\>"
        );
        assert_eq!(
            escape("*bold* [x](y) `c` & ~"),
            "\\*bold\\* \\[x\\](y) \\`c\\` \\& \\~"
        );
        assert_eq!(escape("emr_server _x_"), "emr_server \\_x\\_");
        assert_eq!(escape("#1 and #2"), "\\#1 and #2");
    }

    #[test]
    fn code_spans_survive_backquotes_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
