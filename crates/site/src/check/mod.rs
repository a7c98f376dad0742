//! From the file as written to a [`Site`]: defaults, paths, and every rule
//! serde does not check, all in one pass.
//!
//! Each check that fails records a [`ConfigProblem`] and carries on with a
//! stand-in value, so the rest of the file is still checked and the person
//! gets the whole list at once. A `Site` is only returned when nothing was
//! recorded, so no stand-in ever reaches a caller.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use hokan_offline::limits::{
    self, MAX_GENERATIONS, MAX_NAME_CHARS, MAX_PRE_BACKUP_TIMEOUT, MAX_SITE_NAME_CHARS,
    MAX_SPAN_TEXT,
};
use hokan_offline::policy::{
    DEFAULT_MAX_NEWEST_AGE, DEFAULT_MAX_PERSON_LOCATION_AGE, DEFAULT_MIN_OFFLINE_GENERATIONS,
    DEFAULT_WARNING_HORIZON,
};
use hokan_offline::{span, OfflineError, SourcePolicyOptions, Text, DEFINITION_FLOOR};
use time::macros::format_description;
use time::{Duration, Time, UtcOffset};
use toml::Spanned;

use crate::calendar::Calendar;
use crate::model::*;
use crate::problem::{self, ConfigProblem, ProblemKind};
use crate::raw::*;

mod notify;
mod targets;

/// The catalog's file name when `[site] catalog` is left out.
pub const DEFAULT_CATALOG: &str = "hokan-catalog.db";
/// The most people one `[roles]` key may list.
pub(crate) const MAX_ROLE_NAMES: usize = 20;
/// How long a pre-backup command may run when `timeout` is left out.
pub const DEFAULT_PRE_BACKUP_TIMEOUT: Duration = Duration::hours(1);
/// How long a drill's application check may run when `timeout` is not written.
pub const DEFAULT_DRILL_CHECK_TIMEOUT: Duration = Duration::minutes(10);
/// How often a restore drill is due when `drill_every` is not written: a
/// year, the floor 診療録管理体制加算1 sets.
pub const DEFAULT_DRILL_EVERY: Duration = hokan_offline::policy::DEFAULT_DRILL_EVERY;

pub(crate) fn format_offset(o: UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if o.is_negative() { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

struct Check<'a> {
    text: &'a str,
    dir: PathBuf,
    problems: Vec<ConfigProblem>,
}

fn t(en: impl Into<String>, ja: impl Into<String>) -> Text {
    Text::new(en, ja)
}

/// Check `raw` (read from `text`, the file at `origin`).
pub(crate) fn site(raw: RawFile, text: &str, origin: &Path) -> Result<Site, Vec<ConfigProblem>> {
    let mut c = Check {
        text,
        dir: origin.parent().map(Path::to_owned).unwrap_or_default(),
        problems: Vec::new(),
    };
    let (name, timezone, catalog) = c.site_table(raw.site.as_ref());
    let schedule = raw
        .site
        .as_ref()
        .and_then(|s| c.schedule(s.get_ref().schedule.as_ref(), "site.schedule"));
    let expect_done_by = raw
        .site
        .as_ref()
        .and_then(|s| c.time_of_day(s.get_ref().expect_done_by.as_ref(), "site.expect_done_by"));
    let repository = c.repository(raw.repository.as_ref());
    let sources = c.sources(&raw.source);
    let policy = c.policy(raw.policy.as_ref());
    let targets = c.targets(&raw);
    c.primary_not_a_target(&repository, &raw);
    let notify = c.notify(&raw.notify);
    let serve = c.serve(raw.serve.as_ref());
    let roles = c.roles(raw.roles.as_ref());
    let site = Site {
        file: origin.to_owned(),
        name,
        timezone,
        catalog,
        schedule,
        expect_done_by,
        repository,
        sources,
        policy,
        targets,
        notify,
        serve,
        roles,
    };
    if c.problems.is_empty() {
        // Every rule of `Policy::new` was checked above with its line; this
        // only guards against the two drifting apart.
        if let Err(e) = site.policy() {
            c.problems.push(problem::at(
                text,
                0..0,
                "policy",
                ProblemKind::BadValue,
                t(e.to_string(), e.to_string()),
                t(
                    "Report this as a bug in hokan.",
                    "hokan の不具合として報告してください。",
                ),
            ));
        }
    }
    if c.problems.is_empty() {
        Ok(site)
    } else {
        let mut problems = c.problems;
        problems.sort_by_key(|p| (p.line, p.column));
        Err(problems)
    }
}

impl Check<'_> {
    /// `[serve]`: every key optional; paths relative to this file's folder.
    fn serve(&mut self, serve: Option<&Spanned<crate::raw::RawServe>>) -> crate::model::Serve {
        let mut out = crate::model::Serve::default();
        let Some(serve) = serve else {
            return out;
        };
        let s = serve.get_ref();
        if let Some(l) = &s.listen {
            let listen = self.filled(l, "serve.listen");
            let ok = listen.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !listen.is_empty() && !ok {
                self.push(
                    l.span(),
                    "serve.listen",
                    ProblemKind::BadValue,
                    t(
                        format!("{listen:?} is not host:port."),
                        format!("{listen:?} は ホスト:ポート の形ではありません。"),
                    ),
                    t(
                        "Write the address and port `hokan serve` listens on, e.g. \"0.0.0.0:7443\".",
                        "`hokan serve` が待ち受けるアドレスとポートを書いてください（例: \"0.0.0.0:7443\"）。",
                    ),
                );
            }
            out.listen = listen;
        }
        out.cert = s.cert.as_ref().map(|v| self.path(v, "serve.cert"));
        out.key = s.key.as_ref().map(|v| self.path(v, "serve.key"));
        out.inbox = s.inbox.as_ref().map(|v| self.path(v, "serve.inbox"));
        out
    }

    /// `[roles]`: every key optional; each name printable, not empty, at
    /// most a site name long; a list of at most [`MAX_ROLE_NAMES`].
    fn roles(&mut self, roles: Option<&Spanned<RawRoles>>) -> Roles {
        let mut out = Roles::default();
        let Some(roles) = roles else {
            return out;
        };
        let r = roles.get_ref();
        if let Some(v) = &r.responsible {
            self.short(v, "roles.responsible", MAX_SITE_NAME_CHARS);
            out.responsible = Some(self.filled(v, "roles.responsible").trim().to_owned());
        }
        out.operators = self.role_names(r.operator.as_ref(), "roles.operator");
        out.key_custodians = self.role_names(r.key_custodian.as_ref(), "roles.key_custodian");
        out.vault_console = self.role_names(r.vault_console.as_ref(), "roles.vault_console");
        out
    }

    fn role_names(&mut self, v: Option<&Spanned<RawNames>>, key: &str) -> Vec<String> {
        let Some(v) = v else {
            return Vec::new();
        };
        let names = v.get_ref().names();
        if names.is_empty() || names.len() > MAX_ROLE_NAMES {
            self.push(
                v.span(),
                key,
                ProblemKind::OutOfRange,
                t(
                    format!(
                        "{} names given; between 1 and {MAX_ROLE_NAMES} are allowed.",
                        names.len()
                    ),
                    format!(
                        "{} 名が書かれています。1〜{MAX_ROLE_NAMES} 名にしてください。",
                        names.len()
                    ),
                ),
                t(
                    "List the people (or leave the key out).",
                    "担当者を書いてください（いなければ行ごと削除してください）。",
                ),
            );
        }
        let mut out = Vec::new();
        for n in names {
            let spanned = Spanned::new(v.span(), n.to_owned());
            self.short(&spanned, key, MAX_SITE_NAME_CHARS);
            out.push(self.filled(&spanned, key).trim().to_owned());
        }
        out
    }

    fn push(&mut self, span: Range<usize>, key: &str, kind: ProblemKind, message: Text, fix: Text) {
        self.problems
            .push(problem::at(self.text, span, key, kind, message, fix));
    }

    /// A required key that is not there; `span` is its table's.
    fn missing(&mut self, span: Range<usize>, key: &str, fix: Text) {
        let name = key.rsplit('.').next().unwrap_or(key);
        self.push(
            span,
            key,
            ProblemKind::Missing,
            t(
                format!("Required key `{name}` is missing."),
                format!("必須の項目 `{name}` がありません。"),
            ),
            fix,
        );
    }

    /// A calendar expression (`schedule = "Mon..Fri 22:00"`).
    pub(super) fn schedule(&mut self, v: Option<&Str>, key: &str) -> Option<Calendar> {
        let v = v?;
        match Calendar::parse(v.get_ref()) {
            Ok(c) => Some(c),
            Err(e) => {
                self.push(
                    v.span(),
                    key,
                    ProblemKind::BadValue,
                    t(
                        format!("{:?} is not a calendar expression: {}.", v.get_ref(), e.en),
                        format!("{:?} はカレンダー式として読めません: {}。", v.get_ref(), e.ja),
                    ),
                    t(
                        "Write it as systemd timers do, e.g. \"Mon..Fri 22:00\", \"Sun 02:00\" or \"*-*-01 03:00\".",
                        "systemd のタイマーと同じ書き方にしてください。例: \"Mon..Fri 22:00\"、\"Sun 02:00\"、\"*-*-01 03:00\"。",
                    ),
                );
                None
            }
        }
    }

    /// A time of day `HH:MM`.
    fn time_of_day(&mut self, v: Option<&Str>, key: &str) -> Option<Time> {
        let v = v?;
        let parsed = v.get_ref().split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
            (h < 24 && m < 60 && v.get_ref().len() <= 5)
                .then(|| Time::from_hms(h, m, 0).ok())
                .flatten()
        });
        if parsed.is_none() {
            self.push(
                v.span(),
                key,
                ProblemKind::BadValue,
                t(
                    format!("{:?} is not a time of day.", v.get_ref()),
                    format!("{:?} は時刻として読めません。", v.get_ref()),
                ),
                t(
                    "Write it as HH:MM, e.g. \"06:00\".",
                    "\"06:00\" のように 時:分 で書いてください。",
                ),
            );
        }
        parsed
    }

    /// A string that must not be empty nor hold control characters.
    fn filled(&mut self, v: &Str, key: &str) -> String {
        self.printable(v, key);
        if v.get_ref().trim().is_empty() {
            self.push(
                v.span(),
                key,
                ProblemKind::Empty,
                t("The value is empty.", "値が空です。"),
                t(
                    "Write a value, or leave the key out if it is optional.",
                    "値を書くか、省略できる項目なら行ごと削除してください。",
                ),
            );
        }
        v.get_ref().clone()
    }

    /// Refuse control characters (a newline, a tab, an escape sequence
    /// written as `\u001b`): they break the one-line log and report
    /// entries a value ends up in, and can hide text on a terminal.
    fn printable(&mut self, v: &Str, key: &str) -> bool {
        let Some(c) = v.get_ref().chars().find(|c| c.is_control()) else {
            return true;
        };
        let code = format!("U+{:04X}", u32::from(c));
        self.push(
            v.span(),
            key,
            ProblemKind::BadValue,
            t(
                format!("The value holds a control character ({code}); control characters such as newlines, tabs and escapes are not allowed."),
                format!("値に制御文字（{code}）が含まれています。改行・タブ・エスケープなどの制御文字は使えません。"),
            ),
            t(
                "Remove it, and write the value on one line without \\n, \\t or \\u escapes.",
                "制御文字を削除し、\\n・\\t・\\u によるエスケープを使わずに1行で書いてください。",
            ),
        );
        false
    }

    /// Refuse a value longer than `max` characters.
    fn short(&mut self, v: &Str, key: &str, max: usize) {
        let n = v.get_ref().chars().count();
        if n > max {
            self.push(
                v.span(),
                key,
                ProblemKind::OutOfRange,
                t(
                    format!("The value is {n} characters long; at most {max} are allowed."),
                    format!("値が {n} 文字あります。{max} 文字以内にしてください。"),
                ),
                t(
                    format!("Shorten it to {max} characters or fewer."),
                    format!("{max} 文字以内に短くしてください。"),
                ),
            );
        }
    }

    fn required(&mut self, v: Option<&Str>, table: Range<usize>, key: &str, fix: Text) -> String {
        match v {
            Some(v) => self.filled(v, key),
            None => {
                self.missing(table, key, fix);
                String::new()
            }
        }
    }

    /// A name: `[a-z0-9_-]+`.
    fn name(&mut self, v: Option<&Str>, table: Range<usize>, key: &str, what: &Text) -> String {
        let Some(v) = v else {
            self.missing(
                table,
                key,
                t(
                    format!("Add name = \"…\": the {} name, a–z, 0–9, - and _.", what.en),
                    format!(
                        "name = \"…\" を追加してください（{}の名前。半角英小文字・数字・- と _）。",
                        what.ja
                    ),
                ),
            );
            return String::new();
        };
        self.short(v, key, MAX_NAME_CHARS);
        let name = v.get_ref();
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            self.push(
                v.span(),
                key,
                ProblemKind::BadValue,
                t(
                    format!("{name:?} cannot be a name: names are lower-case letters a–z, digits, - and _ only."),
                    format!("{name:?} は名前に使えません。名前は半角英小文字 a–z・数字・- と _ だけで書きます。"),
                ),
                t(
                    "Rename it, e.g. \"emr\" or \"weekday-tapes\"; commands and reports use this name.",
                    "\"emr\" や \"weekday-tapes\" のような名前に変えてください。コマンドと報告書はこの名前を使います。",
                ),
            );
        }
        name.clone()
    }

    /// A path that may be relative to the configuration file's folder.
    fn path(&mut self, v: &Str, key: &str) -> PathBuf {
        let s = self.filled(v, key);
        resolve(&self.dir, &s)
    }

    /// A path that must be absolute.
    fn absolute(&mut self, v: &Str, key: &str, example: &str) -> PathBuf {
        let s = self.filled(v, key);
        let p = PathBuf::from(&s);
        if !s.trim().is_empty() && !p.is_absolute() {
            self.push(
                v.span(),
                key,
                ProblemKind::RelativePath,
                t(
                    format!("{s:?} is a relative path; this path must be absolute."),
                    format!("{s:?} は相対パスです。ここには絶対パスが必要です。"),
                ),
                t(
                    format!("Write the full path from /, e.g. {example}."),
                    format!("/ から始まる完全なパスを書いてください（例: {example}）。"),
                ),
            );
        }
        normalize(&p)
    }

    /// A length of time, zero to 100 years
    /// ([`hokan_offline::limits::MAX_SPAN`]); `positive` refuses zero.
    fn duration(&mut self, v: &Spanned<RawSpan>, key: &str, positive: bool) -> Duration {
        let d = match v.get_ref() {
            RawSpan::Text(s) => span::parse(s).map_err(|e| (s.clone(), e)),
            RawSpan::Seconds(n) => span::seconds(*n).map_err(|e| (n.to_string(), e)),
        };
        match d {
            Err((written, OfflineError::BadSpan { why, .. })) if why == span::TOO_LONG => {
                self.push(
                    v.span(),
                    key,
                    ProblemKind::OutOfRange,
                    t(
                        format!("{written:?} is too long: lengths of time are at most 100 years ({MAX_SPAN_TEXT})."),
                        format!("{written:?} は長すぎます。期間は最長 100 年（{MAX_SPAN_TEXT}）です。"),
                    ),
                    t(
                        "Write the length you mean with one unit, e.g. \"7d\" (5 years is \"1826d\"); docs/configuration.md gives each key's range.",
                        "意図した期間を単位付きで書いてください（例: \"7d\"。5 年なら \"1826d\"）。各項目の範囲は docs/configuration.md にあります。",
                    ),
                );
                Duration::ZERO
            }
            Ok(d) if positive && d <= Duration::ZERO => {
                self.push(
                    v.span(),
                    key,
                    ProblemKind::BadValue,
                    t(
                        "This length of time must be longer than zero.",
                        "この期間は 0 より長くしてください。",
                    ),
                    t(
                        "Write a positive length such as \"7d\".",
                        "\"7d\" のように 0 より長い期間を書いてください。",
                    ),
                );
                d
            }
            Ok(d) => d,
            Err((written, e)) => {
                let why = match &e {
                    OfflineError::BadSpan { why, .. } => why,
                    _ => "",
                };
                self.push(
                    v.span(),
                    key,
                    ProblemKind::BadDuration,
                    t(
                        format!("Cannot read {written:?} as a length of time: {why}."),
                        format!("{written:?} を期間として読めません: {}。", why_ja(why)),
                    ),
                    t(
                        "Write a whole number and one unit: s (seconds), m (minutes), h (hours), d (days) or w (weeks), e.g. \"7d\".",
                        "整数と単位を1つ書いてください。単位は s（秒）、m（分）、h（時間）、d（日）、w（週）です（例: \"7d\"）。",
                    ),
                );
                Duration::ZERO
            }
        }
    }

    /// One of a fixed set of words.
    fn choice<T: Copy>(&mut self, v: &Str, key: &str, options: &[(&str, T)]) -> Option<T> {
        let found = options
            .iter()
            .find(|(w, _)| w == v.get_ref())
            .map(|(_, x)| *x);
        if found.is_none() {
            let allowed = options
                .iter()
                .map(|(w, _)| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            self.push(
                v.span(),
                key,
                ProblemKind::BadValue,
                t(
                    format!("{:?} is not allowed here; allowed: {allowed}.", v.get_ref()),
                    format!("{:?} はここでは使えません。使える値: {allowed}。", v.get_ref()),
                ),
                t(
                    "Use one of the allowed values (docs/configuration.md explains each).",
                    "使える値のどれかにしてください（それぞれの意味は docs/configuration.md にあります）。",
                ),
            );
        }
        found
    }

    /// A generation count, at least the definitions' floor.
    fn generations(&mut self, v: &Spanned<i64>, key: &str) -> u32 {
        let n = *v.get_ref();
        if n < i64::from(DEFINITION_FLOOR) {
            self.push(
                v.span(),
                key,
                ProblemKind::BelowFloor,
                t(
                    format!("{n} offline generation(s) is too few: the offline definitions assume several generations rotating, so at least {DEFINITION_FLOOR}."),
                    format!("オフライン世代数 {n} は少なすぎます。オフラインの定義は複数世代のローテーションを前提としているため、{DEFINITION_FLOOR} 以上が必要です。"),
                ),
                t(
                    format!("Set it to {DEFINITION_FLOOR} or more (the default is {DEFAULT_MIN_OFFLINE_GENERATIONS})."),
                    format!("{DEFINITION_FLOOR} 以上にしてください（既定値は {DEFAULT_MIN_OFFLINE_GENERATIONS}）。"),
                ),
            );
            return DEFINITION_FLOOR;
        }
        if n > i64::from(MAX_GENERATIONS) {
            self.push(
                v.span(),
                key,
                ProblemKind::OutOfRange,
                t(
                    format!("{n} offline generations is far too many: at most {MAX_GENERATIONS}."),
                    format!("オフライン世代数 {n} は多すぎます。{MAX_GENERATIONS} 以下にしてください。"),
                ),
                t(
                    format!("Write the number of offline generations each source needs, {DEFINITION_FLOOR} to {MAX_GENERATIONS} (e.g. 3)."),
                    format!("必要なオフライン世代数を {DEFINITION_FLOOR} から {MAX_GENERATIONS} の範囲で書いてください（例: 3）。"),
                ),
            );
            return DEFINITION_FLOOR;
        }
        u32::try_from(n).unwrap_or(DEFINITION_FLOOR)
    }

    fn site_table(
        &mut self,
        site: Option<&Spanned<RawSite>>,
    ) -> (String, Option<UtcOffset>, PathBuf) {
        let default_catalog = resolve(&self.dir, DEFAULT_CATALOG);
        let Some(site) = site else {
            self.push(
                0..0,
                "site",
                ProblemKind::Missing,
                t(
                    "The [site] table is missing.",
                    "[site] テーブルがありません。",
                ),
                t(
                    "Add [site] with name = \"…\", the hospital's name as reports show it.",
                    "[site] を追加し、name = \"…\" に報告書に載せる病院名を書いてください。",
                ),
            );
            return (String::new(), None, default_catalog);
        };
        let span = site.span();
        let s = site.get_ref();
        let name = self.required(
            s.name.as_ref(),
            span.clone(),
            "site.name",
            t(
                "Add name = \"…\": the hospital's name as reports show it.",
                "name = \"…\" に報告書に載せる病院名を書いてください。",
            ),
        );
        if let Some(v) = &s.name {
            self.short(v, "site.name", MAX_SITE_NAME_CHARS);
        }
        let timezone = s.timezone.as_ref().and_then(|tz| {
            let parsed = parse_offset(tz.get_ref());
            if let Some(o) = parsed.filter(|o| !limits::offset_in_range(*o)) {
                self.push(
                    tz.span(),
                    "site.timezone",
                    ProblemKind::OutOfRange,
                    t(
                        format!("{} is not a UTC offset in use anywhere: offsets run from -12:00 to +14:00.", format_offset(o)),
                        format!("{} は実在しない UTC からの時差です。時差は -12:00 から +14:00 の範囲です。", format_offset(o)),
                    ),
                    t(
                        "Write it like \"+09:00\" (Japan), or leave it out to use the machine's.",
                        "\"+09:00\"（日本）のように書くか、省略してこのマシンの設定を使ってください。",
                    ),
                );
                return None;
            }
            if parsed.is_none() {
                self.push(
                    tz.span(),
                    "site.timezone",
                    ProblemKind::BadValue,
                    t(
                        format!("{:?} is not a UTC offset.", tz.get_ref()),
                        format!("{:?} は UTC からの時差として読めません。", tz.get_ref()),
                    ),
                    t(
                        "Write it like \"+09:00\" (Japan), or leave it out to use the machine's.",
                        "\"+09:00\"（日本）のように書くか、省略してこのマシンの設定を使ってください。",
                    ),
                );
            }
            parsed
        });
        let catalog = match &s.catalog {
            Some(c) => self.path(c, "site.catalog"),
            None => default_catalog,
        };
        (name, timezone, catalog)
    }

    fn repository(&mut self, repo: Option<&Spanned<RawRepository>>) -> Repository {
        let fix = || {
            t(
                "Add path = \"…\" (the primary repository's folder) or s3 = { endpoint = \"…\", region = \"…\", bucket = \"…\", … } (a bucket of an S3-compatible store).",
                "path = \"…\"（一次リポジトリのフォルダ）または s3 = { endpoint = \"…\", region = \"…\", bucket = \"…\", … }（S3 互換ストレージのバケット）を書いてください。",
            )
        };
        let Some(repo) = repo else {
            self.push(
                0..0,
                "repository",
                ProblemKind::Missing,
                t(
                    "The [repository] table is missing.",
                    "[repository] テーブルがありません。",
                ),
                fix(),
            );
            return Repository {
                location: RepositoryLocation::Folder(PathBuf::new()),
                passphrase_file: None,
            };
        };
        let r = repo.get_ref();
        let location = match (&r.path, &r.s3) {
            (Some(p), None) => RepositoryLocation::Folder(self.path(p, "repository.path")),
            (None, Some(s3)) => RepositoryLocation::S3(self.s3_connection(
                s3.get_ref(),
                s3.span(),
                "repository.s3",
                (
                    S3Connection::PRIMARY_CONCURRENCY,
                    t(
                        "On a LAN 8 to 32 requests in flight keep an S3-compatible cluster busy; leave it out for 8.",
                        "LAN では同時リクエスト 8〜32 が適当です。省略すると 8 になります。",
                    ),
                ),
            )),
            (Some(p), Some(s3)) => {
                self.push(
                    s3.span(),
                    "repository.s3",
                    ProblemKind::Mismatch,
                    t(
                        "[repository] gives both path and s3: the primary repository is in one place.",
                        "[repository] に path と s3 の両方があります。一次リポジトリの場所は 1 つです。",
                    ),
                    t(
                        "Keep path = \"…\" for a folder, or s3 = { … } for a bucket, and remove the other.",
                        "フォルダなら path = \"…\"、バケットなら s3 = { … } の一方だけを残してください。",
                    ),
                );
                RepositoryLocation::Folder(self.path(p, "repository.path"))
            }
            (None, None) => {
                self.missing(repo.span(), "repository.path", fix());
                RepositoryLocation::Folder(PathBuf::new())
            }
        };
        let passphrase_file = r
            .passphrase_file
            .as_ref()
            .map(|p| self.path(p, "repository.passphrase_file"));
        Repository {
            location,
            passphrase_file,
        }
    }

    /// An S3 primary must not be where an `[[s3]]` target writes its
    /// copies: the same bucket and prefix on the same endpoint would mix
    /// the copies into the repository they copy, and prune on either would
    /// judge the other's objects.
    fn primary_not_a_target(&mut self, repository: &Repository, raw: &RawFile) {
        let RepositoryLocation::S3(primary) = &repository.location else {
            return;
        };
        let prefix = |p: &Option<String>| p.as_deref().unwrap_or("").trim_matches('/').to_owned();
        for (i, b) in raw.s3.iter().enumerate() {
            let target = b.get_ref();
            let same = target.bucket.as_ref().map(|x| x.get_ref()) == Some(&primary.bucket)
                && target.endpoint.as_ref().map(|x| x.get_ref()) == primary.endpoint.as_ref()
                && prefix(&target.prefix.as_ref().map(|x| x.get_ref().clone()))
                    == prefix(&primary.prefix);
            if same {
                self.push(
                    b.span(),
                    &format!("s3[{i}].bucket"),
                    ProblemKind::Mismatch,
                    t(
                        format!("This [[s3]] target is the primary repository's own bucket and prefix ({}).", primary.label()),
                        format!("この [[s3]] の保管先は一次リポジトリと同じバケット・プレフィックスです（{}）。", primary.label()),
                    ),
                    t(
                        "Give the offline copies their own bucket with object lock (or at least another prefix).",
                        "オフラインのコピーにはオブジェクトロック付きの別のバケット（少なくとも別のプレフィックス）を指定してください。",
                    ),
                );
            }
        }
    }

    fn sources(&mut self, raw: &[Spanned<RawSource>]) -> Vec<Source> {
        if raw.is_empty() {
            self.push(
                0..0,
                "source",
                ProblemKind::Missing,
                t(
                    "There is no [[source]]: a site without sources would always look compliant.",
                    "[[source]] がありません。バックアップ対象がないと、常に基準を満たしているように見えてしまいます。",
                ),
                t(
                    "Add a [[source]] with name and paths for each thing to back up.",
                    "バックアップする対象ごとに、name と paths を書いた [[source]] を追加してください。",
                ),
            );
        }
        let what = t("source's", "バックアップ対象");
        let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
        let mut sources = Vec::new();
        for (i, src) in raw.iter().enumerate() {
            let key = format!("source[{i}]");
            let span = src.span();
            let s = src.get_ref();
            let name = self.name(s.name.as_ref(), span.clone(), &format!("{key}.name"), &what);
            if let (Some(v), false) = (&s.name, name.is_empty()) {
                let (line, _) = problem::position(self.text, v.span().start);
                if let Some((first, first_line)) = seen.get(&name).copied() {
                    self.push(
                        v.span(),
                        &format!("{key}.name"),
                        ProblemKind::Duplicate,
                        t(
                            format!("Source name {name:?} is already used by source[{first}] on line {first_line}."),
                            format!("対象名 {name:?} は {first_line} 行目の source[{first}] で使われています。"),
                        ),
                        t(
                            "Give each source its own name.",
                            "対象ごとに別の名前を付けてください。",
                        ),
                    );
                } else {
                    seen.insert(name.clone(), (i, line));
                }
            }
            let paths = self.source_paths(s.paths.as_ref(), span.clone(), &key);
            let pre_backup = s
                .pre_backup
                .as_ref()
                .map(|p| self.pre_backup(p, &format!("{key}.pre_backup")));
            let policy = s
                .policy
                .as_ref()
                .map(|p| {
                    let p = p.get_ref();
                    SourcePolicyOptions {
                        min_offline_generations: p.min_offline_generations.as_ref().map(|n| {
                            self.generations(n, &format!("{key}.policy.min_offline_generations"))
                        }),
                        max_newest_age: p.max_newest_age.as_ref().map(|d| {
                            self.duration(d, &format!("{key}.policy.max_newest_age"), true)
                        }),
                    }
                })
                .unwrap_or_default();
            let rto = s
                .rto
                .as_ref()
                .map(|d| self.duration(d, &format!("{key}.rto"), true));
            let drill = s
                .drill
                .as_ref()
                .map(|d| self.drill(d, &format!("{key}.drill")));
            sources.push(Source {
                name: name.into(),
                paths,
                pre_backup,
                policy,
                rto,
                drill,
            });
        }
        sources
    }

    fn source_paths(
        &mut self,
        paths: Option<&Spanned<Vec<Str>>>,
        table: Range<usize>,
        key: &str,
    ) -> Vec<PathBuf> {
        let Some(paths) = paths else {
            self.missing(
                table,
                &format!("{key}.paths"),
                t(
                    "Add paths = [\"/…\"]: the absolute paths to back up.",
                    "paths = [\"/…\"] にバックアップする絶対パスを書いてください。",
                ),
            );
            return Vec::new();
        };
        if paths.get_ref().is_empty() {
            self.push(
                paths.span(),
                &format!("{key}.paths"),
                ProblemKind::Empty,
                t(
                    "The list of paths is empty: this source would back up nothing.",
                    "paths が空です。この対象は何もバックアップしません。",
                ),
                t(
                    "List at least one absolute path, e.g. paths = [\"/srv/emr/data\"].",
                    "絶対パスを1つ以上書いてください（例: paths = [\"/srv/emr/data\"]）。",
                ),
            );
        }
        paths
            .get_ref()
            .iter()
            .enumerate()
            .map(|(j, p)| self.absolute(p, &format!("{key}.paths[{j}]"), "/srv/emr/data"))
            .collect()
    }

    /// A command (argv or one shell string), reported as `empty` with
    /// `fix` when it names no program.
    fn command(&mut self, c: &Spanned<RawCommand>, key: &str, empty: Text, fix: Text) -> Command {
        let (command, is_empty) = match c.get_ref() {
            RawCommand::Argv(argv) => (
                Command::Argv(argv.clone()),
                argv.first().is_none_or(|program| program.trim().is_empty()),
            ),
            RawCommand::Shell(s) => (Command::Shell(s.clone()), s.trim().is_empty()),
        };
        if is_empty {
            self.push(c.span(), key, ProblemKind::Empty, empty, fix);
        }
        command
    }

    fn pre_backup(&mut self, pre: &Spanned<RawPreBackup>, key: &str) -> PreBackup {
        let p = pre.get_ref();
        let command = match &p.command {
            None => {
                self.missing(
                    pre.span(),
                    &format!("{key}.command"),
                    t(
                        "Add command = [\"/path/to/program\", \"arg\", …] (or one string for sh -c).",
                        "command = [\"/path/to/program\", \"引数\", …]（または sh -c で実行する文字列）を書いてください。",
                    ),
                );
                Command::Shell(String::new())
            }
            Some(c) => self.command(
                c,
                &format!("{key}.command"),
                t(
                    "The command is empty: there is no program to run.",
                    "コマンドが空です。実行するプログラムがありません。",
                ),
                t(
                    "Name the program first, e.g. [\"/usr/local/bin/emr-dump\", \"--out\", \"/srv/emr/dump\"], or remove [pre_backup].",
                    "先頭にプログラムを書くか（例: [\"/usr/local/bin/emr-dump\", \"--out\", \"/srv/emr/dump\"]）、pre_backup を削除してください。",
                ),
            ),
        };
        let timeout = p.timeout.as_ref().map_or(DEFAULT_PRE_BACKUP_TIMEOUT, |d| {
            let k = format!("{key}.timeout");
            let timeout = self.duration(d, &k, true);
            if timeout > MAX_PRE_BACKUP_TIMEOUT {
                self.push(
                    d.span(),
                    &k,
                    ProblemKind::OutOfRange,
                    t(
                        format!(
                            "A pre-backup command may run at most 7 days; {} is longer.",
                            span::format(timeout)
                        ),
                        format!(
                            "バックアップ前コマンドの制限時間は最長 7 日です。{} は長すぎます。",
                            span::format(timeout)
                        ),
                    ),
                    t(
                        "Write a timeout from 1s to 7d, e.g. \"2h\" (the default is 1h).",
                        "1s から 7d の範囲で書いてください（例: \"2h\"。既定値は 1h）。",
                    ),
                );
            }
            timeout
        });
        let on_failure = p
            .on_failure
            .as_ref()
            .and_then(|v| {
                self.choice(
                    v,
                    &format!("{key}.on_failure"),
                    &[
                        ("abort", OnFailure::Abort),
                        ("continue", OnFailure::Continue),
                    ],
                )
            })
            .unwrap_or(OnFailure::Abort);
        PreBackup {
            command,
            timeout,
            on_failure,
        }
    }

    fn drill(&mut self, drill: &Spanned<RawDrill>, key: &str) -> DrillCheck {
        let d = drill.get_ref();
        let check = match &d.check {
            None => {
                self.missing(
                    drill.span(),
                    &format!("{key}.check"),
                    t(
                        "Add check = [\"/path/to/program\", \"{target}/…\"]: what checks the restored files.",
                        "check = [\"/path/to/program\", \"{target}/…\"] に、復元したファイルを確かめるコマンドを書いてください。",
                    ),
                );
                Command::Shell(String::new())
            }
            Some(c) => self.command(
                c,
                &format!("{key}.check"),
                t(
                    "The check is empty: there is no program to run.",
                    "check が空です。実行するプログラムがありません。",
                ),
                t(
                    "Name the program first, e.g. [\"pg_restore\", \"--list\", \"{target}/db/emr.dump\"], or remove drill.",
                    "先頭にプログラムを書くか（例: [\"pg_restore\", \"--list\", \"{target}/db/emr.dump\"]）、drill を削除してください。",
                ),
            ),
        };
        let timeout = d.timeout.as_ref().map_or(DEFAULT_DRILL_CHECK_TIMEOUT, |v| {
            let k = format!("{key}.timeout");
            let timeout = self.duration(v, &k, true);
            if timeout > MAX_PRE_BACKUP_TIMEOUT {
                self.push(
                    v.span(),
                    &k,
                    ProblemKind::OutOfRange,
                    t(
                        format!(
                            "A drill check may run at most 7 days; {} is longer.",
                            span::format(timeout)
                        ),
                        format!(
                            "訓練のチェックの制限時間は最長 7 日です。{} は長すぎます。",
                            span::format(timeout)
                        ),
                    ),
                    t(
                        "Write a timeout from 1s to 7d, e.g. \"30m\" (the default is 10m).",
                        "1s から 7d の範囲で書いてください（例: \"30m\"。既定値は 10m）。",
                    ),
                );
            }
            timeout
        });
        DrillCheck { check, timeout }
    }

    fn policy(&mut self, policy: Option<&Spanned<RawPolicy>>) -> PolicySettings {
        let mut settings = PolicySettings {
            min_offline_generations: DEFAULT_MIN_OFFLINE_GENERATIONS,
            max_newest_age: DEFAULT_MAX_NEWEST_AGE,
            warning_horizon: DEFAULT_WARNING_HORIZON,
            max_person_location_age: DEFAULT_MAX_PERSON_LOCATION_AGE,
            drill_every: DEFAULT_DRILL_EVERY,
            defaults: Vec::new(),
        };
        let raw = policy.map(Spanned::get_ref);
        match raw.and_then(|p| p.min_offline_generations.as_ref()) {
            Some(n) => {
                settings.min_offline_generations =
                    self.generations(n, "policy.min_offline_generations");
            }
            None => settings.defaults.push("min_offline_generations"),
        }
        let durations = [
            (
                "max_newest_age",
                raw.and_then(|p| p.max_newest_age.as_ref()),
                true,
            ),
            (
                "warning_horizon",
                raw.and_then(|p| p.warning_horizon.as_ref()),
                false,
            ),
            (
                "max_person_location_age",
                raw.and_then(|p| p.max_person_location_age.as_ref()),
                true,
            ),
            (
                "drill_every",
                raw.and_then(|p| p.drill_every.as_ref()),
                true,
            ),
        ];
        for (name, value, positive) in durations {
            let Some(v) = value else {
                settings.defaults.push(name);
                continue;
            };
            let d = self.duration(v, &format!("policy.{name}"), positive);
            match name {
                "max_newest_age" => settings.max_newest_age = d,
                "warning_horizon" => settings.warning_horizon = d,
                "drill_every" => settings.drill_every = d,
                _ => settings.max_person_location_age = d,
            }
        }
        settings
    }
}

/// `dir/path` for a relative `path`, without `.` components.
fn resolve(dir: &Path, path: &str) -> PathBuf {
    normalize(&dir.join(path))
}

/// Drop `.` components. `..` stays: with symbolic links it is not lexical.
fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// `+09:00`, `-05:30`, `UTC`, `Z`.
fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("utc") || s == "Z" {
        return Some(UtcOffset::UTC);
    }
    let format = format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    UtcOffset::parse(s, &format).ok()
}

fn why_ja(why: &str) -> &str {
    match why {
        "it is empty" => "空です",
        "the unit must be one of s, m, h, d, w" => "単位は s, m, h, d, w のどれかです",
        "write a whole number followed by a unit, like 7d" => "7d のように整数の後に単位を書きます",
        "the number is too large" => "数が大きすぎます",
        "a length of time cannot be negative" => "期間は負にできません",
        span::TOO_LONG => "100 年（36525d）より長く、hokan が受け付ける上限を超えています",
        other => other,
    }
}
