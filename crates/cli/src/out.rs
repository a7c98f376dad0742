//! Printing to stdout and stderr without panicking.
//!
//! `std`'s `println!` panics when a write fails, and Rust ignores `SIGPIPE`,
//! so `hokan ls latest | head -1` used to end in a panic once `head` closed
//! the pipe. Every `print!`, `println!`, `eprint!` and `eprintln!` of this
//! crate comes here instead (`main.rs` defines them, shadowing `std`'s):
//!
//! - A closed pipe (`EPIPE`) silences that stream for the rest of the run,
//!   quietly. The command itself goes on: a backup or tape job is never cut
//!   short because whoever read its output went away, and its exit code
//!   stays what the work decided.
//! - Any other failure (a full disk under `hokan report > file`) silences
//!   the stream too, and [`finish`] reports it at the end: output that was
//!   asked for and lost is an error (exit 7 for no space, else 1).
//!
//! `SIGPIPE` stays ignored on purpose: HTTP connections to S3 write with
//! `writev`, which raises it on a connection the server closed; with the
//! default action that would kill a copy instead of letting it retry.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// One output stream's state.
struct Stream {
    /// Nothing more is written (the reader went away, or a write failed).
    silenced: bool,
    /// The first failure that was not a closed pipe.
    error: Option<io::Error>,
}

impl Stream {
    const fn new() -> Stream {
        Stream {
            silenced: false,
            error: None,
        }
    }

    fn failed(&mut self, e: io::Error) {
        self.silenced = true;
        if e.kind() != io::ErrorKind::BrokenPipe && self.error.is_none() {
            self.error = Some(e);
        }
    }
}

static STDOUT: Mutex<Stream> = Mutex::new(Stream::new());
static STDERR: Mutex<Stream> = Mutex::new(Stream::new());

fn write(state: &Mutex<Stream>, w: &mut dyn Write, args: fmt::Arguments<'_>) {
    let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
    if s.silenced {
        return;
    }
    if let Err(e) = w.write_fmt(args) {
        s.failed(e);
    }
}

/// Write to stdout (`print!`, `println!`).
pub fn stdout(args: fmt::Arguments<'_>) {
    write(&STDOUT, &mut io::stdout().lock(), args);
}

/// Write to stderr (`eprint!`, `eprintln!`).
pub fn stderr(args: fmt::Arguments<'_>) {
    write(&STDERR, &mut io::stderr().lock(), args);
}

/// Whether to colour what goes to stderr: only when it is a terminal, and
/// not when `NO_COLOR` is set to anything non-empty (<https://no-color.org>).
/// Escape codes in a log file or a mail from cron are noise.
pub fn colour_stderr() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stderr().is_terminal()
}

/// Flush stdout; if output the user asked for was lost for another reason
/// than a closed pipe, the failure to report (exit 7 when the disk is full).
pub fn finish(lang: Lang) -> Option<Failure> {
    let mut s = STDOUT.lock().unwrap_or_else(PoisonError::into_inner);
    if !s.silenced {
        if let Err(e) = io::stdout().lock().flush() {
            s.failed(e);
        }
    }
    let e = s.error.take()?;
    let code = match e.raw_os_error() {
        Some(libc::ENOSPC | libc::EDQUOT) => exit::NO_SPACE,
        _ => exit::ERROR,
    };
    Some(Failure::new(
        code,
        format!(
            "{}: {e}",
            t(
                lang,
                "the output could not be written in full (stdout)",
                "出力（標準出力）を最後まで書き込めませんでした"
            )
        ),
    ))
}
