//! The commands a disk job runs (mount, unmount, eject, and an
//! autoloader's activate / deactivate / export), as templates a site can
//! replace, and the [`Runner`] that runs them.
//!
//! A template is an argument list (`["mount", "{device}", "{mount_point}"]`)
//! whose arguments may hold placeholders, replaced by [`expand`]:
//!
//! | placeholder | value |
//! |---|---|
//! | `{device}` | the cartridge's block device (`/dev/sdb1`) |
//! | `{disk}` | the whole disk holding it (`/dev/sdb`; the same as `{device}` when it is not a partition) |
//! | `{mount_point}` | the pool's mount point |
//! | `{slot}` | the autoloader slot (1-based) |
//!
//! A placeholder may sit inside an argument (`--slot={slot}`); `{{` and `}}`
//! stand for literal braces. Nothing goes through a shell.

use std::io;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["device", "disk", "mount_point", "slot"];

/// Per-step command templates. A site replaces the ones its hardware needs
/// in its disk pool, under the keys `mount_command`, `unmount_command`,
/// `eject_command`, `activate_command`, `deactivate_command` and
/// `export_command`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Commands {
    /// Mounts the cartridge: `mount {device} {mount_point}`.
    #[serde(rename = "mount_command")]
    pub mount: Vec<String>,
    /// Unmounts it: `umount {mount_point}`.
    #[serde(rename = "unmount_command")]
    pub unmount: Vec<String>,
    /// Takes it out of reach of a single drive: `eject {device}` (an RDX
    /// drive ejects the cartridge). For a USB disk a site sets
    /// `udisksctl power-off -b {device}`.
    #[serde(rename = "eject_command")]
    pub eject: Vec<String>,
    /// Makes an autoloader slot visible to the host as a disk. None by
    /// default: each autoloader has its own tool.
    #[serde(rename = "activate_command")]
    pub activate: Option<Vec<String>>,
    /// Makes an autoloader slot invisible to the host again (②-2-1). None
    /// by default.
    #[serde(rename = "deactivate_command")]
    pub deactivate: Option<Vec<String>>,
    /// Moves the cartridge of a slot out of the autoloader (②-2-2). None by
    /// default.
    #[serde(rename = "export_command")]
    pub export: Option<Vec<String>>,
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

impl Default for Commands {
    fn default() -> Self {
        Commands {
            mount: argv(&["mount", "{device}", "{mount_point}"]),
            unmount: argv(&["umount", "{mount_point}"]),
            eject: argv(&["eject", "{device}"]),
            activate: None,
            deactivate: None,
            export: None,
        }
    }
}

impl Commands {
    /// Checks every template for unknown placeholders, unclosed braces and
    /// empty argument lists, naming the configuration key of the first bad
    /// one (`eject_command: unknown placeholder {foo} …`).
    pub fn check(&self) -> Result<(), String> {
        let all = [
            ("mount_command", Some(&self.mount)),
            ("unmount_command", Some(&self.unmount)),
            ("eject_command", Some(&self.eject)),
            ("activate_command", self.activate.as_ref()),
            ("deactivate_command", self.deactivate.as_ref()),
            ("export_command", self.export.as_ref()),
        ];
        for (key, template) in all {
            if let Some(template) = template {
                if template.is_empty() {
                    return Err(format!("{key}: {}", TemplateError::Empty));
                }
                for arg in template {
                    split(arg).map_err(|e| format!("{key}: {e}"))?;
                }
            }
        }
        Ok(())
    }
}

/// The values placeholders are replaced with; `None` where the step has no
/// such value (no slot on a single drive, no device for a NAS share).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Values<'a> {
    /// `{device}`.
    pub device: Option<&'a Path>,
    /// `{disk}`.
    pub disk: Option<&'a Path>,
    /// `{mount_point}`.
    pub mount_point: Option<&'a Path>,
    /// `{slot}`.
    pub slot: Option<u32>,
}

/// A template that cannot be expanded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// No program at all.
    #[error("the command is empty: give at least the program to run")]
    Empty,
    /// `{foo}`.
    #[error(
        "unknown placeholder {{{0}}}: the placeholders are {{device}}, {{disk}}, {{mount_point}} and {{slot}} (write {{{{ and }}}} for literal braces)"
    )]
    Unknown(String),
    /// A known placeholder with no value for this step.
    #[error("{{{0}}} has no value here ({1})")]
    Missing(String, &'static str),
    /// A `{` with no `}`.
    #[error("unclosed `{{` in argument {0:?} (write {{{{ for a literal brace)")]
    Unclosed(String),
    /// A path that is not UTF-8.
    #[error("{{{0}}}: the path {1:?} is not UTF-8")]
    NotUtf8(String, String),
}

/// Literal text and placeholders of one argument.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(String),
    Name(&'a str),
}

fn split(arg: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = arg;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("{{") {
            text.push('{');
            rest = &rest[2..];
        } else if rest.starts_with("}}") {
            text.push('}');
            rest = &rest[2..];
        } else if c == '{' {
            let end = rest
                .find('}')
                .ok_or_else(|| TemplateError::Unclosed(arg.to_string()))?;
            let name = &rest[1..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError::Unknown(name.to_string()));
            }
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Name(name));
            rest = &rest[end + 1..];
        } else {
            text.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// Whether `template` uses placeholder `name` (a template that does not
/// parse uses nothing; [`expand`] reports it).
pub fn uses(template: &[String], name: &str) -> bool {
    template.iter().any(|arg| {
        split(arg)
            .map(|pieces| pieces.contains(&Piece::Name(name)))
            .unwrap_or(false)
    })
}

fn path_value(name: &str, path: Option<&Path>, why: &'static str) -> Result<String, TemplateError> {
    let path = path.ok_or_else(|| TemplateError::Missing(name.to_string(), why))?;
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| TemplateError::NotUtf8(name.to_string(), path.display().to_string()))
}

/// Replaces the placeholders of `template` with `values`. Refuses an empty
/// template, an unknown placeholder (naming it), an unclosed brace, and a
/// placeholder that has no value for this step.
pub fn expand(template: &[String], values: &Values<'_>) -> Result<Vec<String>, TemplateError> {
    if template.is_empty() {
        return Err(TemplateError::Empty);
    }
    let mut out = Vec::with_capacity(template.len());
    for arg in template {
        let mut expanded = String::new();
        for piece in split(arg)? {
            match piece {
                Piece::Text(t) => expanded.push_str(&t),
                Piece::Name(name) => {
                    let value = match name {
                        "device" => path_value(name, values.device, "no block device")?,
                        "disk" => path_value(name, values.disk, "no block device")?,
                        "mount_point" => path_value(name, values.mount_point, "no mount point")?,
                        "slot" => values.slot.map(|s| s.to_string()).ok_or_else(|| {
                            TemplateError::Missing(name.to_string(), "not an autoloader slot")
                        })?,
                        _ => unreachable!("split accepts only known placeholders"),
                    };
                    expanded.push_str(&value);
                }
            }
        }
        out.push(expanded);
    }
    Ok(out)
}

/// The command line as a person would type it, for messages: arguments
/// with spaces or quotes are put in single quotes.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| !c.is_whitespace() && !matches!(c, '\'' | '"' | '\\' | '$' | '`'));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one command printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Exit code; `None` when killed by a signal.
    pub status: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// A successful run that printed `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Output {
        Output {
            status: Some(0),
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// A failed run with exit code `status` that printed `stderr`.
    pub fn failed(status: i32, stderr: impl Into<String>) -> Output {
        Output {
            status: Some(status),
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    /// Exit status and what the command printed, for messages:
    /// `exit status 32: umount: /mnt/x: target is busy.`
    pub fn describe(&self) -> String {
        let status = match self.status {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        };
        let said = if self.stderr.trim().is_empty() {
            self.stdout.trim()
        } else {
            self.stderr.trim()
        };
        if said.is_empty() {
            status
        } else {
            format!("{status}: {}", said.lines().collect::<Vec<_>>().join(" / "))
        }
    }
}

/// Runs a command. The real one is [`ProcessRunner`]; tests script the
/// answers and check the argument lists.
pub trait Runner: Send {
    /// Runs `argv` (program first) and collects what it printed. `Err` only
    /// when it could not start or finish (not found, timed out).
    fn run(&mut self, argv: &[String]) -> io::Result<Output>;
}

/// Runs commands as child processes, with a time limit, in the C locale
/// (so that messages such as umount's "target is busy" can be recognised
/// whatever the host's language).
#[derive(Clone, Debug)]
pub struct ProcessRunner {
    timeout: Duration,
}

impl Default for ProcessRunner {
    fn default() -> Self {
        ProcessRunner::new()
    }
}

impl ProcessRunner {
    /// A runner giving each command 120 s.
    pub fn new() -> ProcessRunner {
        ProcessRunner {
            timeout: Duration::from_secs(120),
        }
    }

    /// Another time limit; past it the child is killed and the run fails
    /// with [`io::ErrorKind::TimedOut`].
    pub fn with_timeout(mut self, timeout: Duration) -> ProcessRunner {
        self.timeout = timeout;
        self
    }
}

impl Runner for ProcessRunner {
    fn run(&mut self, argv: &[String]) -> io::Result<Output> {
        let (program, args) = argv.split_first().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "empty command: nothing to run")
        })?;
        let mut command = Command::new(program);
        command.args(args).env("LC_ALL", "C");
        let f = hokan_exec::run(command, self.timeout, &command_line(argv)).map_err(|e| match e
            .kind()
        {
            io::ErrorKind::TimedOut => e,
            kind => io::Error::new(kind, format!("cannot run {program}: {e}")),
        })?;
        Ok(Output {
            status: f.code,
            stdout: f.stdout,
            stderr: f.stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn t(words: &[&str]) -> Vec<String> {
        argv(words)
    }

    #[test]
    fn defaults_expand_to_the_documented_commands() {
        let c = Commands::default();
        let v = Values {
            device: Some(Path::new("/dev/sdb1")),
            disk: Some(Path::new("/dev/sdb")),
            mount_point: Some(Path::new("/mnt/hokan rdx")),
            slot: None,
        };
        assert_eq!(
            expand(&c.mount, &v).unwrap(),
            ["mount", "/dev/sdb1", "/mnt/hokan rdx"]
        );
        assert_eq!(
            expand(&c.unmount, &v).unwrap(),
            ["umount", "/mnt/hokan rdx"]
        );
        assert_eq!(expand(&c.eject, &v).unwrap(), ["eject", "/dev/sdb1"]);
        assert_eq!(c.activate, None);
        assert_eq!(c.deactivate, None);
        assert_eq!(c.export, None);
        assert_eq!(c.check(), Ok(()));
    }

    #[test]
    fn placeholders_inside_arguments_and_literal_braces() {
        let v = Values {
            disk: Some(Path::new("/dev/sdc")),
            slot: Some(3),
            ..Values::default()
        };
        assert_eq!(
            expand(&t(&["rdxctl", "--slot={slot}", "{{x}}", "{disk}", ""]), &v).unwrap(),
            ["rdxctl", "--slot=3", "{x}", "/dev/sdc", ""]
        );
        assert!(uses(
            &t(&["udisksctl", "power-off", "-b", "{disk}"]),
            "disk"
        ));
        assert!(!uses(&t(&["echo", "{{disk}}"]), "disk"));
    }

    #[test]
    fn an_unknown_placeholder_is_refused_by_name() {
        let e = expand(&t(&["eject", "{foo}"]), &Values::default()).unwrap_err();
        assert_eq!(e, TemplateError::Unknown("foo".into()));
        assert!(e.to_string().contains("unknown placeholder {foo}"), "{e}");
        let c = Commands {
            eject: t(&["eject", "{devcie}"]),
            ..Commands::default()
        };
        let e = c.check().unwrap_err();
        assert!(
            e.starts_with("eject_command: unknown placeholder {devcie}"),
            "{e}"
        );
    }

    #[test]
    fn missing_values_unclosed_braces_and_empty_commands_are_errors() {
        let e = expand(&t(&["activate", "{slot}"]), &Values::default()).unwrap_err();
        assert!(
            matches!(e, TemplateError::Missing(ref n, _) if n == "slot"),
            "{e}"
        );
        let e = expand(&t(&["x", "{device"]), &Values::default()).unwrap_err();
        assert_eq!(e, TemplateError::Unclosed("{device".into()));
        assert_eq!(expand(&[], &Values::default()), Err(TemplateError::Empty));
        let c = Commands {
            activate: Some(vec![]),
            ..Commands::default()
        };
        assert!(c.check().unwrap_err().starts_with("activate_command:"));
    }

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        assert_eq!(
            command_line(&t(&["mount", "/dev/sdb1", "/mnt/a b", "it's"])),
            r"mount /dev/sdb1 '/mnt/a b' 'it'\''s'"
        );
    }

    #[test]
    fn the_process_runner_collects_output_and_stops_at_the_time_limit() {
        let mut r = ProcessRunner::new();
        let out = r
            .run(&t(&["sh", "-c", "echo out; echo err >&2; exit 3"]))
            .unwrap();
        assert_eq!(out.status, Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.describe(), "exit status 3: err");
        let mut r = ProcessRunner::new().with_timeout(Duration::from_millis(200));
        let started = Instant::now();
        let e = r.run(&t(&["sleep", "5"])).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(4));
        let e = r.run(&t(&["/nonexistent/hokan-no-such-tool"])).unwrap_err();
        assert!(e.to_string().contains("cannot run"), "{e}");
    }
}
