//! Problems in `hokan.toml`, each with its line, column and key.
//!
//! A problem names the place the way a person finds it: the line and column
//! (1-based, columns counted in characters, so a Japanese name does not push
//! the column off) and the dotted key, `source[1].pre_backup.timeout`, where
//! `[1]` is the second `[[source]]` table (indices count from 0, as in every
//! other tool that prints TOML and JSON paths). Then what is wrong and what
//! to do, in English and Japanese.
//!
//! Syntax and type errors come from the TOML reader as a message and a byte
//! span; the key is found by looking the span up in the parsed document
//! ([`KeyIndex`]), and serde's English message is taken apart so that the
//! Japanese sentence says the same thing.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use hokan_offline::Text;
use serde::Serialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::raw::{EXPECT_COMMAND, EXPECT_SPAN};

/// One mistake in the configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// 1-based line. A problem about the whole file (a missing `[site]`
    /// table, say) is on line 1.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The dotted key, `policy.min_offline_generations`, `source[0].paths[2]`.
    pub key: String,
    /// What kind of mistake, for callers and tests that branch on it.
    pub kind: ProblemKind,
    /// What is wrong.
    pub message: Text,
    /// What to do about it.
    pub fix: Text,
}

/// The kinds of mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// Not valid TOML.
    Syntax,
    /// A key or table hokan does not know.
    UnknownKey,
    /// A value of the wrong type (a string where a number belongs …).
    WrongType,
    /// A required key or table is not there.
    Missing,
    /// An empty list or string where something is needed.
    Empty,
    /// A value of the right type that is not allowed (an unknown mode, a
    /// bad name, zero where a length of time must be positive …).
    BadValue,
    /// A length of time that cannot be read.
    BadDuration,
    /// A value outside its documented range (a length longer than 100
    /// years, a UTC offset beyond −12:00…+14:00, a name too long …); the
    /// ranges are in `docs/configuration.md` and `hokan_offline::limits`.
    OutOfRange,
    /// Fewer offline generations than the definitions' floor.
    BelowFloor,
    /// A name used twice.
    Duplicate,
    /// A relative path where an absolute one is required.
    RelativePath,
    /// Two settings that do not fit together.
    Mismatch,
}

impl ConfigProblem {
    /// `hokan.toml:12:5: policy.min_offline_generations: …` in one language.
    pub fn render(&self, file: &Path, ja: bool) -> String {
        let key = if self.key.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.key)
        };
        let (message, fix, gap) = if ja {
            (&self.message.ja, &self.fix.ja, "")
        } else {
            (&self.message.en, &self.fix.en, " ")
        };
        format!(
            "{}:{}:{}: {key}{message}{gap}{fix}",
            file.display(),
            self.line,
            self.column
        )
    }
}

impl fmt::Display for ConfigProblem {
    /// `12:5: key: message fix`, in English: for logs and test failures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {} {}",
            self.line, self.column, self.key, self.message.en, self.fix.en
        )
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Build a problem at a byte span.
pub(crate) fn at(
    text: &str,
    span: Range<usize>,
    key: impl Into<String>,
    kind: ProblemKind,
    message: Text,
    fix: Text,
) -> ConfigProblem {
    let (line, column) = position(text, span.start);
    ConfigProblem {
        line,
        column,
        key: key.into(),
        kind,
        message,
        fix,
    }
}

/// Every key of a parsed document with its spans, to name the key a byte
/// span belongs to.
pub(crate) struct KeyIndex {
    entries: Vec<Entry>,
}

struct Entry {
    path: String,
    key: Range<usize>,
    value: Range<usize>,
    /// A table opened by a `[header]` or `[[header]]` line.
    header: bool,
    depth: usize,
}

impl KeyIndex {
    pub(crate) fn new(root: &DeTable<'_>, text: &str) -> KeyIndex {
        let mut index = KeyIndex {
            entries: Vec::new(),
        };
        index.table(root, "", 0, text);
        index
    }

    fn table(&mut self, table: &DeTable<'_>, prefix: &str, depth: usize, text: &str) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            self.value(path, k.span(), v, depth + 1, text);
        }
    }

    fn value(
        &mut self,
        path: String,
        key: Range<usize>,
        v: &Spanned<DeValue<'_>>,
        depth: usize,
        text: &str,
    ) {
        let header = matches!(v.get_ref(), DeValue::Table(_))
            && text.get(v.span()).is_some_and(|s| s.starts_with('['));
        self.entries.push(Entry {
            path: path.clone(),
            key: key.clone(),
            value: v.span(),
            header,
            depth,
        });
        match v.get_ref() {
            DeValue::Table(t) => self.table(t, &path, depth, text),
            DeValue::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    self.value(format!("{path}[{i}]"), key.clone(), e, depth + 1, text);
                }
            }
            _ => {}
        }
    }

    /// The innermost key whose name or value holds `offset`.
    fn holding(&self, offset: usize) -> Option<&str> {
        let inside = |r: &Range<usize>| {
            (r.start <= offset && offset < r.end) || (r.is_empty() && r.start == offset)
        };
        self.entries
            .iter()
            .filter_map(|e| {
                [&e.key, &e.value]
                    .into_iter()
                    .filter(|r| inside(r))
                    .map(|r| r.len())
                    .min()
                    .map(|len| (len, std::cmp::Reverse(e.depth), e))
            })
            .min_by_key(|(len, depth, _)| (*len, *depth))
            .map(|(_, _, e)| e.path.as_str())
    }

    /// The table whose value span is exactly `span` (a table header).
    fn table_at(&self, span: &Range<usize>) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| e.value == *span)
            .max_by_key(|e| e.depth)
            .map(|e| e.path.as_str())
    }

    /// The `[table]` in force at `offset`: the last header before it.
    fn header_before(&self, offset: usize) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| e.header && e.value.start <= offset)
            .max_by_key(|e| (e.value.start, e.depth))
            .map(|e| e.path.as_str())
    }
}

fn join(table: Option<&str>, key: &str) -> String {
    match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_owned(),
    }
}

/// The key a syntax error is about, read from its line: `key = …` inside
/// the `[table]` in force there, or a `[table]` header itself.
fn syntax_key(index: &KeyIndex, text: &str, offset: usize) -> String {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = text[start..end].trim();
    if let Some(header) = line.strip_prefix('[') {
        let name = header.split(']').next().unwrap_or("");
        return name
            .trim_matches(|c: char| c == '[' || c.is_whitespace())
            .to_owned();
    }
    let table = index.header_before(start);
    let bare = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | ' '))
    };
    match line.split_once('=') {
        Some((k, _)) if bare(k.trim()) => join(table, &k.trim().replace(['"', ' '], "")),
        _ => index
            .holding(offset)
            .map(str::to_owned)
            .unwrap_or_else(|| table.unwrap_or("").to_owned()),
    }
}

/// Every TOML syntax error, sorted by place. A table written twice makes
/// the reader also report each of its keys again; only the table is kept.
pub(crate) fn syntax_all(
    errors: &[toml::de::Error],
    text: &str,
    index: &KeyIndex,
) -> Vec<ConfigProblem> {
    let mut problems: Vec<(bool, ConfigProblem)> = errors
        .iter()
        .map(|e| {
            let twice = e.message().starts_with("duplicate key");
            (twice, syntax(e, text, index))
        })
        .collect();
    problems.sort_by_key(|(_, p)| (p.line, p.column));
    let mut kept: Vec<ConfigProblem> = Vec::new();
    let mut twice: Vec<String> = Vec::new();
    for (dup, p) in problems {
        if dup {
            if twice.iter().any(|t| p.key.starts_with(&format!("{t}."))) {
                continue;
            }
            twice.push(p.key.clone());
        }
        if !kept
            .iter()
            .any(|k| k.line == p.line && k.message == p.message)
        {
            kept.push(p);
        }
    }
    kept
}

/// A TOML syntax error.
fn syntax(err: &toml::de::Error, text: &str, index: &KeyIndex) -> ConfigProblem {
    let span = err.span().unwrap_or(0..0);
    let msg = err.message();
    let (message, fix) = if msg.starts_with("duplicate key") {
        (
            Text::new(
                "This key or table is written twice.",
                "このキーまたはテーブルが二度書かれています。",
            ),
            Text::new(
                "Keep one of the two (each key may appear once per table; repeat a table with [[double brackets]] only where a list is meant, like [[source]]).",
                "どちらか一方を残してください（キーはテーブルごとに一度だけ書けます。[[source]] のように一覧にする場合だけ [[二重かっこ]] で繰り返します）。",
            ),
        )
    } else {
        (
            Text::new(
                format!("This is not valid TOML: {msg}."),
                format!("TOML として読めません: {}。", syntax_ja(msg)),
            ),
            Text::new(
                "Fix the TOML here: text needs quotes (\"…\"), lists are [ … ], one key = value per line.",
                "この位置の書き方を直してください。文字列は \"…\" で囲み、配列は [ … ]、1行に「キー = 値」を1つ書きます。",
            ),
        )
    };
    let key = syntax_key(index, text, span.start);
    at(text, span, key, ProblemKind::Syntax, message, fix)
}

fn syntax_ja(msg: &str) -> String {
    const KNOWN: [(&str, &str); 6] = [
        (
            "string values must be quoted",
            "文字列は引用符で囲んでください",
        ),
        ("invalid basic string", "\"…\" の文字列が閉じていません"),
        ("invalid literal string", "'…' の文字列が閉じていません"),
        ("invalid table header", "テーブルの見出しが正しくありません"),
        ("key with no value", "キーに値がありません"),
        ("unclosed array", "配列が閉じていません"),
    ];
    KNOWN
        .iter()
        .find(|(en, _)| msg.starts_with(en))
        .map(|(en, ja)| format!("{ja}（{en}）"))
        .unwrap_or_else(|| msg.to_owned())
}

/// A serde error: unknown key, wrong type, missing key.
pub(crate) fn serde(err: &toml::de::Error, text: &str, index: &KeyIndex) -> ConfigProblem {
    let span = err.span().unwrap_or(0..0);
    let msg = err.message();
    let key = index.holding(span.start).unwrap_or("").to_owned();
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let names = backticked(rest);
        let unknown = names.first().cloned().unwrap_or_default();
        let allowed = names[1.min(names.len())..]
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (allowed_en, allowed_ja) = if allowed.is_empty() {
            ("none".to_owned(), "なし".to_owned())
        } else {
            (allowed.clone(), allowed)
        };
        return at(
            text,
            span,
            key,
            ProblemKind::UnknownKey,
            Text::new(
                format!("Unknown key `{unknown}`; the keys allowed here are {allowed_en}."),
                format!("`{unknown}` という設定項目はありません。ここで使える項目: {allowed_ja}。"),
            ),
            Text::new(
                "Check the spelling, or move it to the table it belongs to (docs/configuration.md lists every key).",
                "綴りを確認するか、正しいテーブルへ移してください（全項目は docs/configuration.md にあります）。",
            ),
        );
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        let field = backticked(rest).into_iter().next().unwrap_or_default();
        let key = join(index.table_at(&span), &field);
        return at(
            text,
            span,
            key,
            ProblemKind::Missing,
            Text::new(
                format!("Required key `{field}` is missing."),
                format!("必須の項目 `{field}` がありません。"),
            ),
            Text::new(
                "Add it (docs/configuration.md says what it means).",
                "追加してください（意味は docs/configuration.md にあります）。",
            ),
        );
    }
    for (prefix, kind) in [
        ("invalid type: ", ProblemKind::WrongType),
        ("invalid value: ", ProblemKind::BadValue),
    ] {
        if let Some((found, expected)) = msg
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(", expected "))
        {
            let expected = expected_text(expected);
            let found_ja = found_ja(found);
            return at(
                text,
                span,
                key,
                kind,
                Text::new(
                    format!("Expected {}, found {found}.", expected.en),
                    format!(
                        "{}を書いてください（書かれているのは {found_ja}）。",
                        expected.ja
                    ),
                ),
                Text::new(
                    "Change the value (docs/configuration.md gives each key's type).",
                    "値を直してください（各項目の型は docs/configuration.md にあります）。",
                ),
            );
        }
    }
    at(
        text,
        span,
        key,
        ProblemKind::WrongType,
        Text::new(format!("{msg}."), format!("読み取れません: {msg}。")),
        Text::new(
            "Change the value (docs/configuration.md gives each key's type).",
            "値を直してください（各項目の型は docs/configuration.md にあります）。",
        ),
    )
}

/// The `names` in a serde message.
fn backticked(s: &str) -> Vec<String> {
    s.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

fn expected_text(expected: &str) -> Text {
    match expected {
        EXPECT_SPAN => Text::new(
            "a length of time such as \"7d\" (units s, m, h, d, w)",
            "\"7d\" のような期間（単位 s, m, h, d, w）",
        ),
        EXPECT_COMMAND => Text::new(
            EXPECT_COMMAND,
            "コマンド（文字列の配列、または sh -c で実行する1つの文字列）",
        ),
        "a string" => Text::new("text in quotes", "引用符で囲んだ文字列"),
        "a boolean" => Text::new("true or false", "true または false"),
        "i64" | "u64" | "u32" | "an integer" => Text::new("a whole number", "整数"),
        "a sequence" => Text::new("a list [ … ]", "配列 [ … ]"),
        e if e.starts_with("struct ") || e == "a map" => Text::new(
            "a table ([name] or { … })",
            "テーブル（[名前] または { … }）",
        ),
        e => Text::new(e, e),
    }
}

fn found_ja(found: &str) -> String {
    const KINDS: [(&str, &str); 6] = [
        ("string", "文字列"),
        ("integer", "整数"),
        ("boolean", "真偽値"),
        ("floating point", "小数"),
        ("sequence", "配列"),
        ("map", "テーブル"),
    ];
    KINDS
        .iter()
        .find_map(|(en, ja)| found.strip_prefix(en).map(|rest| format!("{ja}{rest}")))
        .unwrap_or_else(|| found.to_owned())
}
