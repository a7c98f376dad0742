//! `[[notify]]` tables: one flat table per target, whose `type` decides
//! which keys apply. A key of another type is a mistake (a webhook with a
//! `host` was probably meant to be e-mail), reported at the key.

use std::collections::HashMap;
use std::path::PathBuf;

use toml::Spanned;

use super::{t, Check};
use crate::notify::*;
use crate::problem::{self, ProblemKind};
use crate::raw::*;

const TYPES: [(&str, Kind); 4] = [
    ("email", Kind::Email),
    ("syslog", Kind::Syslog),
    ("webhook", Kind::Webhook),
    ("command", Kind::Command),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Syslog,
    Webhook,
    Command,
}

impl Kind {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Email => &[
                "host",
                "port",
                "tls",
                "from",
                "to",
                "username",
                "password_file",
            ],
            Kind::Syslog => &["socket", "address"],
            Kind::Webhook => &["url", "secret_file"],
            Kind::Command => &["command", "timeout"],
        }
    }
}

impl Check<'_> {
    pub(super) fn notify(&mut self, raw: &[Spanned<RawNotify>]) -> Vec<Notify> {
        let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
        let mut out = Vec::new();
        for (i, n) in raw.iter().enumerate() {
            let key = format!("notify[{i}]");
            let target = self.notify_one(n, &key);
            if let Some(v) = &n.get_ref().name {
                let name = v.get_ref();
                if !name.is_empty() {
                    let (line, _) = problem::position(self.text, v.span().start);
                    if let Some((first, first_line)) = seen.get(name).copied() {
                        self.push(
                            v.span(),
                            &format!("{key}.name"),
                            ProblemKind::Duplicate,
                            t(
                                format!("Notification target name {name:?} is already used by notify[{first}] on line {first_line}."),
                                format!("通知先の名前 {name:?} は {first_line} 行目の notify[{first}] で使われています。"),
                            ),
                            t(
                                "Give each [[notify]] its own name.",
                                "[[notify]] ごとに別の名前を付けてください。",
                            ),
                        );
                    } else {
                        seen.insert(name.clone(), (i, line));
                    }
                }
            }
            out.extend(target);
        }
        out
    }

    fn notify_one(&mut self, n: &Spanned<RawNotify>, key: &str) -> Option<Notify> {
        let span = n.span();
        let r = n.get_ref();
        let name = self.name(
            r.name.as_ref(),
            span.clone(),
            &format!("{key}.name"),
            &t("notification target's", "通知先"),
        );
        let lang = r
            .lang
            .as_ref()
            .and_then(|v| {
                self.choice(
                    v,
                    &format!("{key}.lang"),
                    &[("ja", NotifyLang::Ja), ("en", NotifyLang::En)],
                )
            })
            .unwrap_or(NotifyLang::Ja);
        let events = r.events.as_ref().map(|list| {
            if list.get_ref().is_empty() {
                self.push(
                    list.span(),
                    &format!("{key}.events"),
                    ProblemKind::Empty,
                    t(
                        "The list of events is empty: this target would never be told anything.",
                        "events が空です。この通知先には何も通知されません。",
                    ),
                    t(
                        "List the events it should get, or leave events out to get all of them.",
                        "通知する種類を書くか、events を省略してすべて通知してください。",
                    ),
                );
            }
            list.get_ref()
                .iter()
                .enumerate()
                .filter_map(|(j, e)| {
                    self.choice(e, &format!("{key}.events[{j}]"), &NotifyEvent::ALL)
                })
                .collect()
        });
        let Some(kind_v) = &r.kind else {
            self.missing(
                span,
                &format!("{key}.type"),
                t(
                    "Add type = \"email\", \"syslog\", \"webhook\" or \"command\".",
                    "type = \"email\"・\"syslog\"・\"webhook\"・\"command\" のどれかを追加してください。",
                ),
            );
            return None;
        };
        let kind = self.choice(kind_v, &format!("{key}.type"), &TYPES)?;
        self.foreign_keys(r, kind, kind_v.get_ref(), key);
        let kind = match kind {
            Kind::Email => NotifyKind::Email(self.email(n, key)),
            Kind::Syslog => NotifyKind::Syslog(self.syslog(r, key)),
            Kind::Webhook => NotifyKind::Webhook(self.webhook(n, key)),
            Kind::Command => NotifyKind::Command(self.notify_command(n, key)),
        };
        Some(Notify {
            name,
            lang,
            events,
            kind,
        })
    }

    /// Report every key given that belongs to another type.
    fn foreign_keys(&mut self, r: &RawNotify, kind: Kind, word: &str, key: &str) {
        let given: [(&str, Option<std::ops::Range<usize>>); 13] = [
            ("host", r.host.as_ref().map(Spanned::span)),
            ("port", r.port.as_ref().map(Spanned::span)),
            ("tls", r.tls.as_ref().map(Spanned::span)),
            ("from", r.from.as_ref().map(Spanned::span)),
            ("to", r.to.as_ref().map(Spanned::span)),
            ("username", r.username.as_ref().map(Spanned::span)),
            ("password_file", r.password_file.as_ref().map(Spanned::span)),
            ("socket", r.socket.as_ref().map(Spanned::span)),
            ("address", r.address.as_ref().map(Spanned::span)),
            ("url", r.url.as_ref().map(Spanned::span)),
            ("secret_file", r.secret_file.as_ref().map(Spanned::span)),
            ("command", r.command.as_ref().map(Spanned::span)),
            ("timeout", r.timeout.as_ref().map(Spanned::span)),
        ];
        let allowed = kind.keys();
        for (k, span) in given {
            let Some(span) = span else { continue };
            if allowed.contains(&k) {
                continue;
            }
            let list = allowed.join(", ");
            self.push(
                span,
                &format!("{key}.{k}"),
                ProblemKind::BadValue,
                t(
                    format!("`{k}` does not apply to type = {word:?}; its keys are name, type, lang, events, {list}."),
                    format!("`{k}` は type = {word:?} では使えません。使える項目は name, type, lang, events, {list} です。"),
                ),
                t(
                    "Remove the key, or change type to the kind of target you mean.",
                    "この項目を削除するか、type を意図した種類に変えてください。",
                ),
            );
        }
    }

    fn email(&mut self, n: &Spanned<RawNotify>, key: &str) -> Email {
        let span = n.span();
        let r = n.get_ref();
        let host = self.required(
            r.host.as_ref(),
            span.clone(),
            &format!("{key}.host"),
            t(
                "Add host = \"…\": the SMTP server, e.g. \"mail.hospital.local\".",
                "host = \"…\" に SMTP サーバを書いてください（例: \"mail.hospital.local\"）。",
            ),
        );
        let port = r.port.as_ref().map_or(DEFAULT_SMTP_PORT, |p| {
            u16::try_from(*p.get_ref())
                .ok()
                .filter(|p| *p > 0)
                .unwrap_or_else(|| {
                    self.push(
                        p.span(),
                        &format!("{key}.port"),
                        ProblemKind::OutOfRange,
                        t(
                            format!("{} is not a TCP port: ports run from 1 to 65535.", p.get_ref()),
                            format!("{} は TCP ポート番号ではありません。1 から 65535 の範囲です。", p.get_ref()),
                        ),
                        t(
                            "Write the SMTP server's port, usually 587 (the default) or 25.",
                            "SMTP サーバのポート番号を書いてください（通常は 587（既定値）か 25）。",
                        ),
                    );
                    DEFAULT_SMTP_PORT
                })
        });
        let tls = r
            .tls
            .as_ref()
            .and_then(|v| {
                let tls = self.choice(
                    v,
                    &format!("{key}.tls"),
                    &[("starttls", SmtpTls::Starttls), ("none", SmtpTls::None)],
                )?;
                if tls == SmtpTls::None && !host.is_empty() && !is_loopback(&host) {
                    self.push(
                        v.span(),
                        &format!("{key}.tls"),
                        ProblemKind::BadValue,
                        t(
                            format!("tls = \"none\" sends the message and any password in clear text; it is allowed only to a server on this machine, not to {host:?}."),
                            format!("tls = \"none\" はメールとパスワードを暗号化せずに送るため、このマシン上のサーバにしか使えません（{host:?} には使えません）。"),
                        ),
                        t(
                            "Use tls = \"starttls\" (the default), or relay through a server on 127.0.0.1.",
                            "tls = \"starttls\"（既定値）にするか、127.0.0.1 上の中継サーバを使ってください。",
                        ),
                    );
                }
                Some(tls)
            })
            .unwrap_or(SmtpTls::Starttls);
        let from = self.required(
            r.from.as_ref(),
            span.clone(),
            &format!("{key}.from"),
            t(
                "Add from = \"…\": the sender address, e.g. \"hokan@hospital.example\".",
                "from = \"…\" に送信元アドレスを書いてください（例: \"hokan@hospital.example\"）。",
            ),
        );
        if let Some(v) = &r.from {
            self.address(v, &format!("{key}.from"));
        }
        let to = match &r.to {
            None => {
                self.missing(
                    span.clone(),
                    &format!("{key}.to"),
                    t(
                        "Add to = [\"…\"]: who gets the messages.",
                        "to = [\"…\"] に宛先を書いてください。",
                    ),
                );
                Vec::new()
            }
            Some(list) => {
                if list.get_ref().is_empty() {
                    self.push(
                        list.span(),
                        &format!("{key}.to"),
                        ProblemKind::Empty,
                        t(
                            "The list of recipients is empty.",
                            "宛先（to）が空です。",
                        ),
                        t(
                            "List at least one address, e.g. to = [\"it@hospital.example\"].",
                            "アドレスを1つ以上書いてください（例: to = [\"it@hospital.example\"]）。",
                        ),
                    );
                }
                list.get_ref()
                    .iter()
                    .enumerate()
                    .map(|(j, v)| {
                        let k = format!("{key}.to[{j}]");
                        self.address(v, &k);
                        v.get_ref().clone()
                    })
                    .collect()
            }
        };
        let username = r
            .username
            .as_ref()
            .map(|u| self.filled(u, &format!("{key}.username")));
        let password_file = r
            .password_file
            .as_ref()
            .map(|f| self.path(f, &format!("{key}.password_file")));
        match (&r.username, &r.password_file) {
            (Some(_), None) => self.missing(
                span,
                &format!("{key}.password_file"),
                t(
                    "username is given without password_file: add password_file = \"…\", a file whose first line is the password.",
                    "username がありますが password_file がありません。パスワードを1行目に書いたファイルを password_file = \"…\" で指定してください。",
                ),
            ),
            (None, Some(f)) => self.push(
                f.span(),
                &format!("{key}.password_file"),
                ProblemKind::Missing,
                t(
                    "password_file is given without username.",
                    "password_file がありますが username がありません。",
                ),
                t(
                    "Add username = \"…\" (the SMTP login), or remove password_file.",
                    "username = \"…\"（SMTP のログイン名）を追加するか、password_file を削除してください。",
                ),
            ),
            _ => {}
        }
        Email {
            host,
            port,
            tls,
            from,
            to,
            username,
            password_file,
        }
    }

    /// An e-mail address: something@something, one line.
    fn address(&mut self, v: &Str, key: &str) {
        if !self.printable(v, key) {
            return;
        }
        let a = v.get_ref();
        let ok = a
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'))
            && !a.contains(char::is_whitespace);
        if !ok {
            self.push(
                v.span(),
                key,
                ProblemKind::BadValue,
                t(
                    format!("{a:?} is not an e-mail address."),
                    format!("{a:?} はメールアドレスではありません。"),
                ),
                t(
                    "Write it as name@domain, e.g. \"it@hospital.example\".",
                    "name@domain の形で書いてください（例: \"it@hospital.example\"）。",
                ),
            );
        }
    }

    fn syslog(&mut self, r: &RawNotify, key: &str) -> Syslog {
        match (&r.socket, &r.address) {
            (Some(_), Some(a)) => {
                self.push(
                    a.span(),
                    &format!("{key}.address"),
                    ProblemKind::BadValue,
                    t(
                        "socket and address are both given; a syslog target sends to one of them.",
                        "socket と address の両方があります。syslog の送り先はどちらか一方です。",
                    ),
                    t(
                        "Keep socket (a local syslog socket) or address (a server over UDP), not both.",
                        "socket（ローカルの syslog ソケット）か address（UDP のサーバ）のどちらかにしてください。",
                    ),
                );
                Syslog::Local(PathBuf::from(DEFAULT_SYSLOG_SOCKET))
            }
            (Some(s), None) => {
                Syslog::Local(self.absolute(s, &format!("{key}.socket"), DEFAULT_SYSLOG_SOCKET))
            }
            (None, Some(a)) => {
                let k = format!("{key}.address");
                let s = self.filled(a, &k);
                let port = s
                    .rsplit_once(':')
                    .filter(|(h, _)| !h.is_empty())
                    .and_then(|(_, p)| p.parse::<u16>().ok())
                    .filter(|p| *p > 0);
                if port.is_none() && !s.trim().is_empty() {
                    self.push(
                        a.span(),
                        &k,
                        ProblemKind::BadValue,
                        t(
                            format!("{s:?} is not host:port."),
                            format!("{s:?} は host:port の形ではありません。"),
                        ),
                        t(
                            "Write the syslog server and its UDP port, e.g. \"10.0.5.30:514\" or \"[::1]:514\".",
                            "syslog サーバと UDP ポートを書いてください（例: \"10.0.5.30:514\"、\"[::1]:514\"）。",
                        ),
                    );
                }
                Syslog::Udp(s)
            }
            (None, None) => Syslog::Local(PathBuf::from(DEFAULT_SYSLOG_SOCKET)),
        }
    }

    fn webhook(&mut self, n: &Spanned<RawNotify>, key: &str) -> Webhook {
        let span = n.span();
        let r = n.get_ref();
        let k = format!("{key}.url");
        let url = self.required(
            r.url.as_ref(),
            span.clone(),
            &k,
            t(
                "Add url = \"https://…\": where to POST.",
                "url = \"https://…\" に送信先を書いてください。",
            ),
        );
        if let Some(v) = &r.url {
            let host = |rest: &str| {
                let auth = rest.split(['/', '?', '#']).next().unwrap_or("");
                let auth = auth.rsplit('@').next().unwrap_or("");
                match auth.strip_prefix('[') {
                    Some(v6) => v6.split(']').next().unwrap_or("").to_owned(),
                    None => auth.split(':').next().unwrap_or("").to_owned(),
                }
            };
            let problem = if let Some(rest) = url.strip_prefix("https://") {
                host(rest).is_empty().then_some(0)
            } else if let Some(rest) = url.strip_prefix("http://") {
                let h = host(rest);
                (h.is_empty() || !is_loopback(&h)).then_some(1)
            } else {
                Some(0)
            };
            match problem {
                Some(0) if !url.trim().is_empty() => self.push(
                    v.span(),
                    &k,
                    ProblemKind::BadValue,
                    t(
                        format!("{url:?} is not an https:// URL."),
                        format!("{url:?} は https:// の URL ではありません。"),
                    ),
                    t(
                        "Write the full URL, e.g. \"https://alerts.hospital.local/hokan\".",
                        "完全な URL を書いてください（例: \"https://alerts.hospital.local/hokan\"）。",
                    ),
                ),
                Some(1) => self.push(
                    v.span(),
                    &k,
                    ProblemKind::BadValue,
                    t(
                        format!("{url:?} is plain http: allowed only to this machine (127.0.0.1, ::1, localhost)."),
                        format!("{url:?} は暗号化されない http です。このマシン（127.0.0.1、::1、localhost）宛てにしか使えません。"),
                    ),
                    t(
                        "Use https://.",
                        "https:// を使ってください。",
                    ),
                ),
                _ => {}
            }
        }
        let secret_file = match &r.secret_file {
            Some(f) => self.path(f, &format!("{key}.secret_file")),
            None => {
                self.missing(
                    span,
                    &format!("{key}.secret_file"),
                    t(
                        "Add secret_file = \"…\": a file whose first line is the key that signs each message (X-Hokan-Signature).",
                        "secret_file = \"…\" に、各メッセージの署名（X-Hokan-Signature）に使う鍵を1行目に書いたファイルを指定してください。",
                    ),
                );
                PathBuf::new()
            }
        };
        Webhook { url, secret_file }
    }

    fn notify_command(&mut self, n: &Spanned<RawNotify>, key: &str) -> NotifyCommand {
        let r = n.get_ref();
        let k = format!("{key}.command");
        let argv: Vec<String> = match &r.command {
            None => {
                self.missing(
                    n.span(),
                    &k,
                    t(
                        "Add command = [\"/path/to/program\", \"arg\", …]: it gets the message as JSON on its standard input.",
                        "command = [\"/path/to/program\", \"引数\", …] を追加してください。標準入力に JSON でメッセージを受け取ります。",
                    ),
                );
                Vec::new()
            }
            Some(c) => {
                let argv: Vec<String> = c.get_ref().iter().map(|a| a.get_ref().clone()).collect();
                match c.get_ref().first() {
                    None => self.push(
                        c.span(),
                        &k,
                        ProblemKind::Empty,
                        t(
                            "The command is empty: there is no program to run.",
                            "コマンドが空です。実行するプログラムがありません。",
                        ),
                        t(
                            "Name the program first, e.g. [\"/usr/local/bin/page-oncall\"].",
                            "先頭にプログラムを書いてください（例: [\"/usr/local/bin/page-oncall\"]）。",
                        ),
                    ),
                    Some(p) => {
                        self.absolute(p, &format!("{k}[0]"), "/usr/local/bin/page-oncall");
                    }
                }
                argv
            }
        };
        let timeout = r.timeout.as_ref().map_or(DEFAULT_NOTIFY_TIMEOUT, |d| {
            let tk = format!("{key}.timeout");
            let timeout = self.duration(d, &tk, true);
            if timeout > MAX_NOTIFY_TIMEOUT {
                self.push(
                    d.span(),
                    &tk,
                    ProblemKind::OutOfRange,
                    t(
                        "A notification command may run at most 10 minutes.",
                        "通知コマンドの制限時間は最長 10 分です。",
                    ),
                    t(
                        "Write a timeout from 1s to 10m, e.g. \"1m\" (the default is 30s).",
                        "1s から 10m の範囲で書いてください（例: \"1m\"。既定値は 30s）。",
                    ),
                );
            }
            timeout
        });
        NotifyCommand { argv, timeout }
    }
}
