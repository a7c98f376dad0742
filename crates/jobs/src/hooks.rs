//! Commands a source runs before its backup (`[source.pre_backup]`), such
//! as a database dump.
//!
//! The command runs in its own process group, so that a time-out stops the
//! whole pipeline (`sh -c "pg_dump … | gzip > …"`), not just the shell:
//! first SIGTERM, then SIGKILL after a grace period. Its output is kept (the
//! last few KiB of stdout and stderr together) for the message, the `--json`
//! answer and the catalog's job record.
//!
//! A command that fails is an outcome ([`HookOutcome`]), not an error: the
//! source's `on_failure` decides whether its backup goes on, and the caller
//! says so in its words.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How much of the command's output is kept.
const TAIL: usize = 4096;
/// How long a command has to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// What happened to a pre-backup command.
#[derive(Clone, Debug, Serialize)]
pub struct HookOutcome {
    /// The command line as shown to people.
    pub command: String,
    /// It exited with status 0 in time.
    pub ok: bool,
    /// Its exit code, if it exited (not killed by a signal).
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// It was stopped because it ran longer than its timeout.
    pub timed_out: bool,
    /// It could not be started at all (program missing, not executable).
    pub spawn_error: Option<String>,
    /// Seconds it ran.
    pub seconds: f64,
    /// The end of its output (stdout and stderr).
    pub output_tail: String,
}

/// The command line as a person reads it.
pub fn show(cmd: &hokan_site::Command) -> String {
    match cmd {
        hokan_site::Command::Argv(v) => v.join(" "),
        hokan_site::Command::Shell(s) => format!("sh -c {s:?}"),
    }
}

/// Run `cmd`, stopping it (and everything it started) after `timeout`.
pub fn run(cmd: &hokan_site::Command, timeout: Duration) -> HookOutcome {
    let mut c = match cmd {
        hokan_site::Command::Argv(v) => {
            let mut c = Command::new(&v[0]);
            c.args(&v[1..]);
            c
        }
        hokan_site::Command::Shell(s) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(s);
            c
        }
    };
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut outcome = HookOutcome {
        command: show(cmd),
        ok: false,
        exit_code: None,
        signal: None,
        timed_out: false,
        spawn_error: None,
        seconds: 0.0,
        output_tail: String::new(),
    };
    let mut child = match c.spawn() {
        Ok(child) => child,
        Err(e) => {
            outcome.spawn_error = Some(e.to_string());
            return outcome;
        }
    };
    // Two tails: the pipes are read by two threads in no fixed order, and
    // the last lines of stderr (why it failed) must not be pushed out by a
    // late chunk of stdout.
    let out_tail = Arc::new(Mutex::new(Vec::new()));
    let err_tail = Arc::new(Mutex::new(Vec::new()));
    let readers = [
        child.stdout.take().map(|r| keep_tail(r, out_tail.clone())),
        child.stderr.take().map(|r| keep_tail(r, err_tail.clone())),
    ];
    let status = wait(&mut child, timeout, &mut outcome.timed_out);
    for r in readers.into_iter().flatten() {
        // A grandchild that kept the pipe open was killed with the group;
        // the readers end when the last writer is gone.
        let _ = r.join();
    }
    outcome.seconds = start.elapsed().as_secs_f64();
    let bytes = joined_tail(
        &out_tail.lock().map(|t| t.clone()).unwrap_or_default(),
        &err_tail.lock().map(|t| t.clone()).unwrap_or_default(),
    );
    outcome.output_tail = String::from_utf8_lossy(&bytes).trim_end().to_owned();
    match status {
        Ok(st) => {
            use std::os::unix::process::ExitStatusExt;
            outcome.exit_code = st.code();
            outcome.signal = st.signal();
            outcome.ok = st.success() && !outcome.timed_out;
        }
        Err(e) => outcome.spawn_error = Some(e.to_string()),
    }
    outcome
}

/// The end of stdout then the end of stderr, at most `TAIL` bytes, stderr
/// keeping at least half of them when both are long.
fn joined_tail(out: &[u8], err: &[u8]) -> Vec<u8> {
    let err = &err[err.len().saturating_sub(TAIL)..];
    let err = if err.len() > TAIL / 2 && out.len() > TAIL / 2 {
        &err[err.len() - TAIL / 2..]
    } else {
        err
    };
    let out = &out[out.len().saturating_sub(TAIL - err.len())..];
    let mut v = out.to_vec();
    if !v.is_empty() && !err.is_empty() && v.last() != Some(&b'\n') {
        v.push(b'\n');
    }
    v.extend_from_slice(err);
    v.drain(..v.len().saturating_sub(TAIL));
    v
}

fn keep_tail(
    mut r: impl Read + Send + 'static,
    tail: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut t) = tail.lock() {
                t.extend_from_slice(&buf[..n]);
                if t.len() > TAIL {
                    let cut = t.len() - TAIL;
                    t.drain(..cut);
                }
            }
        }
    })
}

fn wait(
    child: &mut Child,
    timeout: Duration,
    timed_out: &mut bool,
) -> std::io::Result<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(st) = child.try_wait()? {
            // The command is done; stop anything it left running in its
            // group so that it cannot keep writing into the backup.
            kill_group(child, libc::SIGKILL);
            return Ok(st);
        }
        if Instant::now() >= deadline {
            *timed_out = true;
            kill_group(child, libc::SIGTERM);
            let grace = Instant::now() + GRACE;
            while Instant::now() < grace {
                if let Some(st) = child.try_wait()? {
                    kill_group(child, libc::SIGKILL);
                    return Ok(st);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            kill_group(child, libc::SIGKILL);
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill_group(child: &Child, signal: i32) {
    // The child leads its own group (process_group(0)), so its pid is the
    // group id. Errors (the group is already gone) are of no interest.
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe {
        libc::killpg(child.id() as libc::pid_t, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(s: &str) -> hokan_site::Command {
        hokan_site::Command::Shell(s.to_owned())
    }

    #[test]
    fn success_and_output() {
        let o = run(&sh("echo dumped; echo warn >&2"), Duration::from_secs(10));
        assert!(o.ok, "{o:?}");
        assert_eq!(o.exit_code, Some(0));
        assert!(o.output_tail.contains("dumped") && o.output_tail.contains("warn"));
    }

    #[test]
    fn failure_keeps_code_and_tail_only() {
        let o = run(
            &sh("head -c 100000 /dev/zero | tr '\\0' x; echo; echo disk full >&2; exit 3"),
            Duration::from_secs(10),
        );
        assert!(!o.ok);
        assert_eq!(o.exit_code, Some(3));
        assert!(o.output_tail.len() <= TAIL);
        // stderr's last line ends the tail, however the two pipes' reads
        // interleaved.
        assert!(o.output_tail.ends_with("disk full"), "{:?}", &o.output_tail);
        assert!(o.output_tail.starts_with("xxxx"), "{:?}", &o.output_tail);
    }

    #[test]
    fn timeout_stops_the_whole_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("still-running");
        // A grandchild that would write the marker after 3 s if not killed.
        let cmd = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let start = Instant::now();
        let o = run(&sh(&cmd), Duration::from_millis(300));
        assert!(o.timed_out && !o.ok, "{o:?}");
        assert!(start.elapsed() < Duration::from_secs(5), "{o:?}");
        std::thread::sleep(Duration::from_secs(4));
        assert!(
            !marker.exists(),
            "a process of the group survived the time-out"
        );
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let o = run(
            &hokan_site::Command::Argv(vec!["/nonexistent/emr-dump".into()]),
            Duration::from_secs(1),
        );
        assert!(!o.ok && o.spawn_error.is_some(), "{o:?}");
    }
}
