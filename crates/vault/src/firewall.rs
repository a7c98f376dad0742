//! The vault's firewall (項番 ⑤-1): the nftables ruleset hokan writes, and
//! the check that the live ruleset still is that one.
//!
//! The Ministry's offline definition ⑤-1 counts a pull-only server as
//! offline only if a firewall blocks all traffic towards it. The vault opens
//! every connection itself, so its inbound side needs nothing but the
//! replies to those connections: [`render`] writes one table, `inet
//! hokan_vault`, whose input chain drops everything that is not such a
//! reply (or loopback, or IPv6 neighbour discovery), and whose output chain
//! lets the vault reach only the primary, its NTP servers, its DNS servers
//! and its notification targets. [`apply`] loads it; [`check`] compares the
//! live table with it, rule by rule, so that an added `tcp dport 22 accept`
//! is caught and named in the vault's signed receipt.
//!
//! Other tables cannot re-open what this table drops: in nftables a `drop`
//! in any base chain is final for the packet, while an `accept` only ends
//! the chain it is in and the packet still meets every other base chain on
//! the same hook. [`check`] therefore reports other tables' accepting input
//! chains as notes, not as differences. The specification is
//! `docs/vault-firewall.md`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::receipt::FirewallReport;

/// The table hokan owns (family `inet`, so one table covers IPv4 and IPv6).
pub const TABLE: &str = "hokan_vault";

/// Where the vault may connect to: everything else, in and out, is dropped.
///
/// Names are resolved by the caller before building it, because the
/// ruleset matches addresses and must not depend on DNS answers at the
/// moment it is loaded (and DNS may itself be closed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// The primary's export (`hokan serve`): address and TCP port, one
    /// entry per address it may be reached at.
    pub primary: Vec<SocketAddr>,
    /// NTP servers (UDP 123), for the compliance clock.
    pub ntp: Vec<IpAddr>,
    /// Notification targets (SMTP relay, webhook…): address and TCP port.
    pub notify: Vec<SocketAddr>,
    /// DNS servers (UDP and TCP 53), only if the vault resolves names at
    /// run time; empty means no DNS traffic at all.
    pub dns: Vec<IpAddr>,
}

impl Ruleset {
    /// Refuses a ruleset the vault cannot work with, before anything is
    /// loaded: with no primary the vault could pull from nothing, and an
    /// unspecified address or port 0 is a configuration slip, not a target.
    pub fn validate(&self) -> Result<(), FirewallError> {
        if self.primary.is_empty() {
            return Err(FirewallError::Invalid(
                "the vault's firewall names no primary, so the vault could pull from nothing: \
                 set the primary's address and port in the vault's configuration"
                    .into(),
            ));
        }
        for (what, list) in [
            ("primary", &self.primary),
            ("notification target", &self.notify),
        ] {
            for a in list {
                if a.ip().is_unspecified() || a.port() == 0 {
                    return Err(FirewallError::Invalid(format!(
                        "the {what} {a} is not a place to connect to (unspecified address or \
                         port 0): give its real address and port"
                    )));
                }
            }
        }
        for (what, list) in [("NTP server", &self.ntp), ("DNS server", &self.dns)] {
            for a in list {
                if a.is_unspecified() {
                    return Err(FirewallError::Invalid(format!(
                        "the {what} address {a} is unspecified: give the server's real address"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Why the firewall could not be applied or checked.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    /// The ruleset itself is unusable.
    #[error("{0}")]
    Invalid(String),
    /// `nft` is not on this machine.
    #[error(
        "nft ({program}) was not found, so the vault's firewall cannot be loaded or checked: \
         install nftables (apt-get install nftables)"
    )]
    NftMissing {
        /// The program hokan tried to run.
        program: String,
    },
    /// `nft` could not be started or fed.
    #[error("could not run `{command}`: {source}")]
    Run {
        /// The command line.
        command: String,
        /// What the system said.
        source: io::Error,
    },
    /// `nft` ran and refused.
    #[error("`{command}` failed (exit status {status}): {stderr}")]
    Nft {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What nft wrote on stderr.
        stderr: String,
    },
    /// The network namespace to run nft in could not be entered or made.
    #[error("{0}")]
    Namespace(String),
    /// nft printed something hokan cannot read.
    #[error(
        "`{command}` printed JSON hokan cannot read ({detail}); \
         is this nftables version supported (1.0 or later)?"
    )]
    Json {
        /// The command line.
        command: String,
        /// What was wrong with it.
        detail: String,
    },
}

/// How to run `nft`: which program, and in which network namespace.
///
/// The vault runs it in its own namespace (`netns: None`); the tests run it
/// inside namespaces they create, which is why [`apply`] and [`check`] are
/// also methods here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nft {
    /// The program (`nft`, looked up on `PATH`).
    pub program: PathBuf,
    /// A named network namespace (`ip netns add NAME`) to run it in, or
    /// `None` for the caller's own.
    pub netns: Option<String>,
}

impl Default for Nft {
    fn default() -> Self {
        Nft {
            program: PathBuf::from("nft"),
            netns: None,
        }
    }
}

/// The outcome of [`check`]: what differs between the live table and the
/// one hokan writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    /// Each difference in words (table missing or switched off, a chain
    /// missing or with another hook, priority or policy, a rule hokan did
    /// not write, a rule of hokan's missing). Empty means the live table is
    /// hokan's.
    pub differences: Vec<String>,
    /// Things worth knowing that do not make the vault reachable: other
    /// tables with an accepting input chain (they cannot re-open what
    /// `hokan_vault` drops, since a drop in any base chain is final).
    pub notes: Vec<String>,
}

impl Check {
    /// Whether the live table is the one hokan writes.
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }

    /// The receipt's view of this check (`ok` or `differs`, with the
    /// differences as detail).
    pub fn report(&self) -> FirewallReport {
        FirewallReport {
            state: if self.ok() { "ok" } else { "differs" }.into(),
            detail: self.differences.clone(),
        }
    }
}

/// The receipt's view of a check that could not be made (`unchecked`, with
/// the reason), so that a vault whose nft is broken says so instead of
/// claiming a firewall.
pub fn unchecked(error: &FirewallError) -> FirewallReport {
    FirewallReport {
        state: "unchecked".into(),
        detail: vec![error.to_string()],
    }
}

/// Loads the ruleset into the vault's own network namespace
/// (`nft -f -`), replacing any earlier `hokan_vault` table in one
/// transaction.
pub fn apply(ruleset: &Ruleset) -> Result<(), FirewallError> {
    Nft::default().apply(ruleset)
}

/// Compares the live `hokan_vault` table of the vault's own network
/// namespace with the one [`render`] writes; see [`Nft::check`].
pub fn check(ruleset: &Ruleset) -> Result<Check, FirewallError> {
    Nft::default().check(ruleset)
}

/// The nftables script for `ruleset`: one `nft -f` transaction that
/// (re)creates `table inet hokan_vault`.
///
/// The `table … {}` + `delete table …` idiom makes the delete succeed
/// whether or not the table exists, and since nft applies a file as one
/// transaction, there is no moment without the table (and a refused script
/// leaves the old one in place). Input: replies to the vault's own
/// connections, loopback, and IPv6 neighbour discovery; nothing new, not
/// even ICMP echo. Output: replies, loopback, neighbour discovery, and the
/// configured targets only. Forward: nothing. IPv6 scope ids are not
/// matched (nft has no such field); ARP is not IP and no `inet` table sees
/// it. A ruleset with no primary renders only loopback and replies;
/// [`Ruleset::validate`] (called by [`apply`] and [`check`]) refuses it.
pub fn render(ruleset: &Ruleset) -> String {
    let mut s = String::new();
    s.push_str(
        "#!/usr/sbin/nft -f\n\
         # hokan vault firewall (項番 ⑤-1), written by hokan (`hokan vault firewall`).\n\
         # The vault opens every connection itself: nothing new comes in.\n\
         # `hokan vault check` compares the live table with this one; do not edit it\n\
         # by hand, change the vault's configuration and write it again.\n",
    );
    s.push_str(&format!("table inet {TABLE} {{}}\n"));
    s.push_str(&format!("delete table inet {TABLE}\n"));
    s.push_str(&format!("table inet {TABLE} {{\n"));
    s.push_str("\tcomment \"hokan vault: pull-only, no inbound connections (written by hokan)\"\n");

    s.push_str("\tchain input {\n");
    s.push_str("\t\ttype filter hook input priority 0; policy drop;\n");
    s.push_str("\t\tcomment \"hokan: only replies to the vault's own connections come in\"\n");
    s.push_str("\t\tct state established,related accept comment \"hokan: replies\"\n");
    s.push_str("\t\tiif lo accept comment \"hokan: loopback\"\n");
    // Without neighbour discovery IPv6 cannot resolve the next hop, so not
    // even the vault's own connections would work. Hop limit 255 means the
    // packet was not routed: only the local link can send it.
    s.push_str(
        "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } \
         ip6 hoplimit 255 accept comment \"hokan: IPv6 neighbour discovery (link-local only)\"\n",
    );
    s.push_str("\t}\n");

    s.push_str("\tchain output {\n");
    s.push_str("\t\ttype filter hook output priority 0; policy drop;\n");
    s.push_str("\t\tcomment \"hokan: the vault connects only to what its configuration names\"\n");
    s.push_str("\t\tct state established,related accept comment \"hokan: replies\"\n");
    s.push_str("\t\toif lo accept comment \"hokan: loopback\"\n");
    s.push_str(
        "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } \
         ip6 hoplimit 255 accept comment \"hokan: IPv6 neighbour discovery (link-local only)\"\n",
    );
    for a in dedup(&ruleset.primary) {
        s.push_str(&rule(a.ip(), "tcp", a.port(), "pull from the primary"));
    }
    for a in dedup(&ruleset.ntp) {
        s.push_str(&rule(a, "udp", 123, "NTP for the compliance clock"));
    }
    for a in dedup(&ruleset.dns) {
        s.push_str(&rule(a, "udp", 53, "DNS"));
        s.push_str(&rule(a, "tcp", 53, "DNS"));
    }
    for a in dedup(&ruleset.notify) {
        s.push_str(&rule(a.ip(), "tcp", a.port(), "notification"));
    }
    s.push_str("\t}\n");

    s.push_str("\tchain forward {\n");
    s.push_str("\t\ttype filter hook forward priority 0; policy drop;\n");
    s.push_str("\t\tcomment \"hokan: the vault routes nothing\"\n");
    s.push_str("\t}\n");
    s.push_str("}\n");
    s
}

fn rule(ip: IpAddr, proto: &str, port: u16, why: &str) -> String {
    let family = match ip {
        IpAddr::V4(_) => "ip",
        IpAddr::V6(_) => "ip6",
    };
    format!("\t\t{family} daddr {ip} {proto} dport {port} accept comment \"hokan: {why}\"\n")
}

fn dedup<T: PartialEq + Copy>(list: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for &x in list {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Where a closure's commands run.
#[derive(Clone, Copy)]
enum Ns<'a> {
    /// The caller's network namespace.
    Own,
    /// A named one (`/run/netns/NAME`).
    Named(&'a str),
    /// A new, empty one, gone once its last process ends.
    Scratch,
}

/// Runs `f` on a thread in network namespace `ns`. Entering a network
/// namespace (setns/unshare) changes only the calling thread, and child
/// processes start in the namespace of the thread that spawns them, so
/// the rest of the process is not affected.
fn in_netns<T: Send>(
    ns: Ns<'_>,
    f: impl FnOnce() -> Result<T, FirewallError> + Send,
) -> Result<T, FirewallError> {
    let enter = move || -> Result<(), FirewallError> {
        match ns {
            Ns::Own => Ok(()),
            Ns::Named(name) => enter_named(name),
            Ns::Scratch => {
                // SAFETY: unshare takes no pointers; it changes this thread only.
                if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                    return Err(FirewallError::Namespace(format!(
                        "could not make a scratch network namespace, in which hokan lets nft \
                         read its own ruleset to compare it with the live one: {} \
                         (the vault runs as root, or with CAP_SYS_ADMIN and CAP_NET_ADMIN)",
                        io::Error::last_os_error()
                    )));
                }
                Ok(())
            }
        }
    };
    if let Ns::Own = ns {
        return f();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                enter()?;
                f()
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Moves the calling thread into the named network namespace.
fn enter_named(name: &str) -> Result<(), FirewallError> {
    use std::os::fd::AsRawFd;
    let path = ["/run/netns", "/var/run/netns"]
        .iter()
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.exists())
        .ok_or_else(|| {
            FirewallError::Namespace(format!(
                "there is no network namespace {name} (looked in /run/netns and \
                 /var/run/netns): create it with `ip netns add {name}` or name another"
            ))
        })?;
    let file = std::fs::File::open(&path).map_err(|e| {
        FirewallError::Namespace(format!(
            "could not open network namespace {}: {e}",
            path.display()
        ))
    })?;
    // SAFETY: the descriptor is open for the duration of the call.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(FirewallError::Namespace(format!(
            "could not enter network namespace {}: {} (this needs root or CAP_SYS_ADMIN)",
            path.display(),
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

impl Nft {
    /// An `nft` that runs inside the named network namespace.
    pub fn in_netns(name: impl Into<String>) -> Nft {
        Nft {
            netns: Some(name.into()),
            ..Nft::default()
        }
    }

    fn ns(&self) -> Ns<'_> {
        match &self.netns {
            Some(n) => Ns::Named(n),
            None => Ns::Own,
        }
    }

    /// Loads the ruleset (`nft -f -`), replacing any earlier `hokan_vault`
    /// table in one transaction; other tables are left alone.
    pub fn apply(&self, ruleset: &Ruleset) -> Result<(), FirewallError> {
        ruleset.validate()?;
        let script = render(ruleset);
        in_netns(self.ns(), || {
            self.run(&["-f", "-"], Some(&script)).map(drop)
        })
    }

    /// Compares the live `hokan_vault` table with the one [`render`] writes.
    ///
    /// Both sides are compared as nft itself prints them (`nft -j`), so
    /// that no second parser of nft's syntax stands between hokan and the
    /// kernel: the expected table is the rendered script loaded into a new,
    /// empty network namespace that exists only for this (made with
    /// `unshare(CLONE_NEWNET)` on a helper thread, gone when its last nft
    /// exits, so nothing leaks), listed there, and compared with the live
    /// listing. Rules are compared per chain as a multiset of their
    /// expressions, ignoring handles and comments: every hokan chain ends in
    /// policy drop and holds only accept rules, so their order does not
    /// change what passes, while any rule hokan did not write (whatever its
    /// verdict) is a difference, named as nft prints it. The table's flags
    /// (`dormant` switches it off), each chain's type, hook, priority and
    /// policy, extra chains and extra objects (sets, maps…) are compared as
    /// well. Other tables are not differences (see the module docs); those
    /// with an accepting input chain are listed in [`Check::notes`].
    pub fn check(&self, ruleset: &Ruleset) -> Result<Check, FirewallError> {
        ruleset.validate()?;
        let script = render(ruleset);
        let program = self.program.clone();
        let expected = in_netns(Ns::Scratch, move || {
            let scratch = Nft {
                program,
                netns: None,
            };
            scratch.run(&["-f", "-"], Some(&script))?;
            scratch.listing(false)
        })?;
        let live = in_netns(self.ns(), || self.listing(true))?;
        Ok(compare(&expected, &live))
    }

    /// The JSON listing (whole ruleset if `all`, else hokan's table) and
    /// the text listing of hokan's table with handles (empty if it does not
    /// exist), which gives each rule's words.
    fn listing(&self, all: bool) -> Result<Listing, FirewallError> {
        let args: &[&str] = if all {
            &["-j", "list", "ruleset"]
        } else {
            &["-j", "list", "table", "inet", TABLE]
        };
        let json = self.run(args, None)?;
        let json: Value = serde_json::from_str(&json).map_err(|e| FirewallError::Json {
            command: self.command_line(args),
            detail: e.to_string(),
        })?;
        let objects = match json.get("nftables").and_then(Value::as_array) {
            Some(a) => a.clone(),
            None => {
                return Err(FirewallError::Json {
                    command: self.command_line(args),
                    detail: "no `nftables` array".into(),
                })
            }
        };
        let has_table = objects.iter().any(|o| {
            o.get("table")
                .is_some_and(|t| t["family"] == "inet" && t["name"] == TABLE)
        });
        let text = if has_table {
            self.run(&["-a", "list", "table", "inet", TABLE], None)?
        } else {
            String::new()
        };
        Ok(Listing { objects, text })
    }

    fn command_line(&self, args: &[&str]) -> String {
        let mut s = String::new();
        if let Some(ns) = &self.netns {
            s.push_str(&format!("ip netns exec {ns} "));
        }
        s.push_str(&self.program.display().to_string());
        for a in args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }

    /// Runs nft in the calling thread's namespace; stdout on success.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<String, FirewallError> {
        let command = self.command_line(args);
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| {
                if source.kind() == io::ErrorKind::NotFound {
                    FirewallError::NftMissing {
                        program: self.program.display().to_string(),
                    }
                } else {
                    FirewallError::Run {
                        command: command.clone(),
                        source,
                    }
                }
            })?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())
                .map_err(|source| FirewallError::Run {
                    command: command.clone(),
                    source,
                })?;
        }
        let out = child
            .wait_with_output()
            .map_err(|source| FirewallError::Run {
                command: command.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(FirewallError::Nft {
                command,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        String::from_utf8(out.stdout).map_err(|e| FirewallError::Json {
            command,
            detail: format!("not UTF-8: {e}"),
        })
    }
}

/// What nft printed: the JSON objects, and the text of hokan's table.
struct Listing {
    objects: Vec<Value>,
    text: String,
}

/// One rule, comparable: its chain, its expressions with keys sorted (no
/// handle, no comment), and its words.
struct Rule {
    chain: String,
    key: String,
    words: String,
}

/// Hokan's table as listed: found, its chains' base settings, its rules,
/// and anything else it holds.
#[derive(Default)]
struct Table {
    found: bool,
    flags: Option<String>,
    chains: BTreeMap<String, String>,
    rules: Vec<Rule>,
    others: Vec<String>,
}

impl Listing {
    fn table(&self) -> Table {
        let words = rule_words(&self.text);
        let mut t = Table {
            flags: table_flags(&self.text),
            ..Table::default()
        };
        let ours = |o: &Value| o["family"] == "inet" && o["table"] == TABLE;
        for object in &self.objects {
            let Some((kind, o)) = object.as_object().and_then(|m| m.iter().next()) else {
                continue;
            };
            match kind.as_str() {
                "metainfo" => {}
                "table" if o["family"] == "inet" && o["name"] == TABLE => t.found = true,
                "table" => {}
                "chain" if ours(o) => {
                    let name = o["name"].as_str().unwrap_or("?").to_string();
                    t.chains.insert(name, chain_words(o));
                }
                "rule" if ours(o) => {
                    let expr = canonical(o.get("expr").unwrap_or(&Value::Null));
                    let key = expr.to_string();
                    let handle = o.get("handle").and_then(Value::as_u64);
                    let words = handle
                        .and_then(|h| words.get(&h).cloned())
                        .unwrap_or_else(|| key.clone());
                    t.rules.push(Rule {
                        chain: o["chain"].as_str().unwrap_or("?").to_string(),
                        key,
                        words,
                    });
                }
                _ if ours(o) => {
                    let name = o["name"].as_str().unwrap_or("?");
                    t.others.push(format!("{kind} {name}"));
                }
                _ => {}
            }
        }
        t
    }

    /// Other tables' base chains on the input hook whose policy is accept
    /// and that hold accepting rules.
    fn other_accepting_inputs(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for object in &self.objects {
            let Some(c) = object.get("chain") else {
                continue;
            };
            if (c["family"] == "inet" && c["table"] == TABLE)
                || c["hook"] != "input"
                || c["policy"] != "accept"
            {
                continue;
            }
            let accepts = self.objects.iter().any(|r| {
                r.get("rule").is_some_and(|r| {
                    r["family"] == c["family"]
                        && r["table"] == c["table"]
                        && r["chain"] == c["name"]
                        && r["expr"].to_string().contains("\"accept\"")
                })
            });
            if accepts {
                notes.push(format!(
                    "table {} {} has an input chain {} with policy accept and accepting rules; \
                     it cannot re-open what table inet {TABLE} drops (a drop in any base chain \
                     is final), but it is not hokan's",
                    c["family"].as_str().unwrap_or("?"),
                    c["table"].as_str().unwrap_or("?"),
                    c["name"].as_str().unwrap_or("?"),
                ));
            }
        }
        notes
    }
}

/// A chain's base settings in words (`type filter hook input priority 0
/// policy drop`), or `regular chain` for one without a hook.
fn chain_words(c: &Value) -> String {
    match c.get("hook") {
        None => "regular chain (no hook)".into(),
        Some(hook) => {
            let s = |v: &Value| match v {
                Value::String(s) => s.clone(),
                Value::Null => "?".into(),
                v => v.to_string(),
            };
            let mut w = format!(
                "type {} hook {} priority {} policy {}",
                s(&c["type"]),
                s(hook),
                s(&c["prio"]),
                s(&c["policy"])
            );
            if let Some(dev) = c.get("dev") {
                w.push_str(&format!(" device {}", s(dev)));
            }
            w
        }
    }
}

/// Each rule's text by handle, from `nft -a list table`.
fn rule_words(text: &str) -> BTreeMap<u64, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((rule, handle)) = line.rsplit_once(" # handle ") else {
            continue;
        };
        if rule.ends_with('{') {
            continue; // a table or chain header
        }
        if let Ok(h) = handle.trim().parse() {
            out.insert(h, rule.trim().to_string());
        }
    }
    out
}

/// The table's `flags` line, if any (nft 1.0.6's JSON prints table flags
/// wrongly, so the text listing is the reliable one).
fn table_flags(text: &str) -> Option<String> {
    let mut depth = 0usize;
    for line in text.lines() {
        let l = line.trim();
        if depth == 1 {
            if let Some(f) = l.strip_prefix("flags ") {
                return Some(f.trim().to_string());
            }
        }
        let l = l.split(" # ").next().unwrap_or(l);
        depth += l.matches('{').count();
        depth = depth.saturating_sub(l.matches('}').count());
    }
    None
}

/// `v` with every object's keys sorted, so equal expressions print equally.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, canonical(v))).collect();
            let mut out = serde_json::Map::new();
            for (k, v) in sorted {
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        v => v.clone(),
    }
}

fn compare(expected: &Listing, live: &Listing) -> Check {
    let want = expected.table();
    let have = live.table();
    let mut check = Check {
        differences: Vec::new(),
        notes: live.other_accepting_inputs(),
    };
    let d = &mut check.differences;
    let again = "run `hokan vault firewall` again to restore hokan's table";
    if !have.found {
        d.push(format!(
            "table inet {TABLE} is missing, so no hokan firewall is loaded: {again}"
        ));
        return check;
    }
    if let Some(flags) = &have.flags {
        if want.flags.as_ref() != Some(flags) {
            d.push(format!(
                "table inet {TABLE} has flags `{flags}` hokan did not set \
                 (`dormant` switches the whole table off): {again}"
            ));
        }
    }
    for (name, words) in &want.chains {
        match have.chains.get(name) {
            None => d.push(format!(
                "chain {name} is missing from table inet {TABLE}: {again}"
            )),
            Some(live) if live != words => d.push(format!(
                "chain {name} is `{live}` where hokan's is `{words}`: {again}"
            )),
            Some(_) => {}
        }
    }
    for (name, words) in &have.chains {
        if !want.chains.contains_key(name) {
            d.push(format!(
                "table inet {TABLE} has a chain hokan did not write: {name} ({words}): {again}"
            ));
        }
    }
    let mut missing: Vec<&Rule> = want.rules.iter().collect();
    for rule in &have.rules {
        match missing
            .iter()
            .position(|w| w.chain == rule.chain && w.key == rule.key)
        {
            Some(i) => {
                missing.remove(i);
            }
            None => d.push(format!(
                "chain {} has a rule hokan did not write: `{}`: {again}",
                rule.chain, rule.words
            )),
        }
    }
    for rule in missing {
        d.push(format!(
            "chain {} lacks hokan's rule `{}`: {again}",
            rule.chain, rule.words
        ));
    }
    for other in &have.others {
        d.push(format!(
            "table inet {TABLE} holds a {other} hokan did not write: {again}"
        ));
    }
    check
}

#[cfg(test)]
mod tests;
