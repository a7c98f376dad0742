//! Running a device tool (`mtx`, `mount`, `eject`, an autoloader's own
//! program) as a child process with a time limit: both pipes are read
//! while waiting, so a long answer cannot fill a pipe and stall the child,
//! and a child past its time is killed.

use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished child printed, and its exit code (`None`: killed by a
/// signal).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Finished {
    /// The exit code.
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error leaves what was read so far: enough for messages.
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `command` (stdin from /dev/null) until it exits or `timeout`
/// passes. Past the time limit the child is killed and the result is an
/// [`io::ErrorKind::TimedOut`] error saying `what` did not finish.
pub fn run(mut command: Command, timeout: Duration, what: &str) -> io::Result<Finished> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{what} did not finish within {} s and was stopped",
                    timeout.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Finished {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    #[test]
    fn collects_both_pipes_and_the_code() {
        let f = run(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
            "sh",
        )
        .unwrap();
        assert_eq!(f.code, Some(3));
        assert_eq!(f.stdout, "out\n");
        assert_eq!(f.stderr, "err\n");
    }

    #[test]
    fn a_large_answer_does_not_stall_the_child() {
        let f = run(
            sh("head -c 300000 /dev/zero | tr '\\0' x"),
            Duration::from_secs(20),
            "sh",
        )
        .unwrap();
        assert_eq!(f.stdout.len(), 300_000);
    }

    #[test]
    fn a_child_past_its_time_is_killed() {
        let start = Instant::now();
        let e = run(sh("sleep 30"), Duration::from_millis(200), "the sleeper").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("the sleeper"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let e = run(
            Command::new("/nonexistent/hokan-tool"),
            Duration::from_secs(1),
            "x",
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
