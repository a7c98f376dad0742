//! The report as a small document model, shared by the HTML and Markdown
//! renderers.
//!
//! [`crate::content`] decides *what* the report says (which sections, which
//! rows, which label in which language, what is marked as a problem);
//! [`crate::html`] and [`crate::markdown`] only decide how it looks. Keeping
//! the decisions in one place is what makes the two formats say the same
//! thing: a fact added to one cannot be forgotten in the other.
//!
//! Every string in the model is plain text. Escaping is the renderers' job,
//! and they escape everything, labels included, so no caller can forget.

use hokan_offline::Text;

use crate::Lang;

/// The whole report.
pub(crate) struct Document {
    /// The report's language.
    pub lang: Lang,
    /// The title (one `<h1>`).
    pub title: String,
    /// Site, time, program… as label/value pairs under the title.
    pub meta: Vec<(String, Cell)>,
    /// A warning shown on the first page above the verdict: the evidence
    /// comes (partly) from simulated devices or test servers.
    pub simulated: Option<Banner>,
    /// The overall verdict, shown prominently.
    pub banner: Banner,
    /// The numbered sections, in order.
    pub sections: Vec<Section>,
    /// One line repeated at the foot of the report (and of printed pages
    /// where the browser supports page margin boxes).
    pub footer: String,
}

/// The overall verdict.
pub(crate) struct Banner {
    /// Colour of the box; the headline says the same in words.
    pub tone: Tone,
    /// `× 不適合`.
    pub headline: String,
    /// Lines under the headline (reasons, problem counts).
    pub lines: Vec<Cell>,
}

/// One numbered section (one `<h2>`).
pub(crate) struct Section {
    /// A fixed ASCII anchor (`problems`), never data.
    pub id: &'static str,
    /// The heading, numbered.
    pub title: String,
    /// Its content.
    pub blocks: Vec<Block>,
}

/// `sections` with their titles numbered from 1, in order.
pub(crate) fn numbered(sections: Vec<Section>) -> Vec<Section> {
    sections
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            s.title = format!("{}. {}", i + 1, s.title);
            s
        })
        .collect()
}

/// A piece of a section.
pub(crate) enum Block {
    /// A paragraph.
    Para(Cell),
    /// A boxed remark: what is missing, what an inspector should notice.
    Note(Tone, Cell),
    /// A sub-heading (`<h3>`).
    Sub(String),
    /// A two-column label/value table.
    Pairs(Vec<(String, Cell)>),
    /// A table.
    Table(Table),
}

/// A table whose rows come in groups: the first `lead` columns describe the
/// group (a generation) and are shown once, the other columns are one row per
/// member (a copy). A table of plain rows has `lead == 0` and one row per
/// group. Groups are kept on one printed page where they fit.
pub(crate) struct Table {
    /// Column headings.
    pub head: Vec<String>,
    /// How many leading columns belong to the group rather than the row.
    pub lead: usize,
    /// The groups.
    pub groups: Vec<Group>,
}

/// One group of rows.
pub(crate) struct Group {
    /// Marks the whole group (a generation with no offline copy).
    pub tone: Option<Tone>,
    /// The first row has every column; later rows omit the `lead` columns.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with one row per group.
    pub fn new(head: Vec<String>) -> Table {
        Table {
            head,
            lead: 0,
            groups: Vec::new(),
        }
    }

    /// Add a plain row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.groups.push(Group {
            tone: None,
            rows: vec![cells],
        });
    }

    /// Add a plain row marked with `tone`.
    pub fn row_toned(&mut self, tone: Option<Tone>, cells: Vec<Cell>) {
        self.groups.push(Group {
            tone,
            rows: vec![cells],
        });
    }
}

/// What a mark means. Always paired with words: colour alone never carries
/// the meaning, because reports are photocopied in black and white.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Compliant, offline, valid, passed.
    Ok,
    /// Needs attention soon; weaker.
    Warn,
    /// Not compliant, online, expired, failed, missing.
    Bad,
    /// Worth knowing.
    Info,
    /// Not applicable, unknown without blame.
    Muted,
}

impl Tone {
    /// The CSS class and the mark printed before badge words.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Ok => "ok",
            Tone::Warn => "warn",
            Tone::Bad => "bad",
            Tone::Info => "info",
            Tone::Muted => "muted",
        }
    }
}

/// A run of inline content.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Cell(pub Vec<Span>);

/// One inline piece.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Span {
    /// Plain text.
    Text(String),
    /// An id, hash or command: monospace.
    Code(String),
    /// Emphasised text.
    Strong(String),
    /// A short status word with a mark, coloured by tone (`× 不適合`).
    Badge(Tone, String),
    /// Running text coloured by tone (a verdict sentence).
    Toned(Tone, String),
    /// Secondary text (who recorded it, a kind name).
    Small(String),
    /// A line break.
    Break,
}

impl Cell {
    /// An empty cell.
    pub fn empty() -> Cell {
        Cell(Vec::new())
    }

    /// Plain text.
    pub fn text(s: impl Into<String>) -> Cell {
        Cell(vec![Span::Text(s.into())])
    }

    /// Monospace.
    pub fn code(s: impl Into<String>) -> Cell {
        Cell(vec![Span::Code(s.into())])
    }

    /// A badge.
    pub fn badge(tone: Tone, s: impl Into<String>) -> Cell {
        Cell(vec![Span::Badge(tone, s.into())])
    }

    /// Text coloured by tone.
    pub fn toned(tone: Tone, s: impl Into<String>) -> Cell {
        Cell(vec![Span::Toned(tone, s.into())])
    }

    /// Text in which `` `backquoted` `` parts are code, as the evaluator
    /// writes commands in its sentences. Unbalanced backquotes are text.
    pub fn rich(s: &str) -> Cell {
        let parts: Vec<&str> = s.split('`').collect();
        // Balanced backquotes split the text into an odd number of parts.
        let balanced = parts.len() % 2 == 1;
        if !balanced {
            return Cell::text(s);
        }
        let mut c = Cell::empty();
        for (i, p) in parts.into_iter().enumerate() {
            if p.is_empty() {
                continue;
            }
            c.0.push(if i % 2 == 1 {
                Span::Code(p.to_owned())
            } else {
                Span::Text(p.to_owned())
            });
        }
        c
    }

    /// Append a span.
    pub fn push(mut self, span: Span) -> Cell {
        self.0.push(span);
        self
    }

    /// Append plain text.
    pub fn then(self, s: impl Into<String>) -> Cell {
        self.push(Span::Text(s.into()))
    }

    /// Append a line break, then `other`'s spans (nothing if `other` is
    /// empty).
    pub fn line(mut self, other: Cell) -> Cell {
        if other.0.is_empty() {
            return self;
        }
        if !self.0.is_empty() {
            self.0.push(Span::Break);
        }
        self.0.extend(other.0);
        self
    }

    /// Append a line break and secondary text.
    pub fn small_line(self, s: impl Into<String>) -> Cell {
        self.line(Cell(vec![Span::Small(s.into())]))
    }
}

/// Pick one language.
pub(crate) fn tr<'a>(lang: Lang, en: &'a str, ja: &'a str) -> &'a str {
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// Pick one language of a [`Text`].
pub(crate) fn pick(lang: Lang, t: &Text) -> String {
    match lang {
        Lang::En => t.en.clone(),
        Lang::Ja => t.ja.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backquotes_become_code_only_when_balanced() {
        assert_eq!(
            Cell::rich("Run `hokan catalog verify` now."),
            Cell(vec![
                Span::Text("Run ".into()),
                Span::Code("hokan catalog verify".into()),
                Span::Text(" now.".into()),
            ])
        );
        assert_eq!(Cell::rich("a ` b"), Cell::text("a ` b"));
    }
}
