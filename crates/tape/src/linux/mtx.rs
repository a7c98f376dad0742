//! A media changer through the `mtx` tool (`mtx -f /dev/sgN …`).
//!
//! `mtx` does the SCSI (READ ELEMENT STATUS, MOVE MEDIUM); hokan builds its
//! argument lists ([`MtxCommand::args`]), runs it through an [`MtxRunner`]
//! (a real process, or recorded answers in tests) and reads what it printed
//! with pure functions: [`parse_status`] for `mtx status`,
//! [`parse_request_sense`] and [`failure_error`] for failures.
//!
//! Numbering is `mtx`'s: drives from 0, slots from 1, import/export slots
//! numbered after (and among) the storage slots, as `mtx status` lists them.
//!
//! The `mtx status` format (mtx 1.3.12, `mtx.c` `Status()`):
//!
//! ```text
//!   Storage Changer /dev/sg3:2 Drives, 24 Slots ( 4 Import/Export )
//! Data Transfer Element 0:Full (Storage Element 3 Loaded):VolumeTag = HKN003L9
//! Data Transfer Element 1:Empty
//!       Storage Element 1:Full :VolumeTag=HKN001L9
//!       Storage Element 2:Empty
//!       Storage Element 21 IMPORT/EXPORT:Full :VolumeTag=HKN021L9
//! ```
//!
//! A drive loaded by hand shows `Full (Unknown Storage Element Loaded)`;
//! volume tags may carry the library's space padding and an
//! `:AlternateVolumeTag`; libraries without a barcode reader print `Full `
//! and nothing more. The header's "Slots" count includes the import/export
//! slots.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::sense::{Sense, SenseFormat, SenseKey, SenseKind};
use super::BadAnswer;
use crate::device::{Cartridge, Changer, ChangerStatus, DriveElement, SlotElement, TapeError};

/// What one run of `mtx` printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MtxOutput {
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error (`mtx` prints its sense report and failure here).
    pub stderr: String,
}

impl MtxOutput {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `mtx`. The real one is [`ProcessRunner`]; tests feed recorded
/// outputs and check the argument lists.
pub trait MtxRunner: Send {
    /// Runs `mtx` with `args` (they start with `-f DEVICE`) and collects
    /// what it printed. `Err` only when it could not run or finish.
    fn run(&mut self, args: &[String]) -> io::Result<MtxOutput>;
}

/// Runs the `mtx` program as a child process, with a time limit.
#[derive(Clone, Debug)]
pub struct ProcessRunner {
    program: PathBuf,
    timeout: Duration,
}

impl Default for ProcessRunner {
    fn default() -> Self {
        ProcessRunner::new()
    }
}

impl ProcessRunner {
    /// `mtx` from `PATH`, given 30 minutes per command (an inventory of a
    /// large library takes many minutes; a move one or two).
    pub fn new() -> ProcessRunner {
        ProcessRunner {
            program: PathBuf::from("mtx"),
            timeout: Duration::from_secs(30 * 60),
        }
    }

    /// Another program path.
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> ProcessRunner {
        self.program = program.into();
        self
    }

    /// Another time limit; past it the child is killed and the run fails
    /// with [`io::ErrorKind::TimedOut`].
    pub fn with_timeout(mut self, timeout: Duration) -> ProcessRunner {
        self.timeout = timeout;
        self
    }
}

impl MtxRunner for ProcessRunner {
    fn run(&mut self, args: &[String]) -> io::Result<MtxOutput> {
        let mut command = Command::new(&self.program);
        command.args(args);
        let f = hokan_exec::run(command, self.timeout, "mtx")?;
        Ok(MtxOutput {
            code: f.code,
            stdout: f.stdout,
            stderr: f.stderr,
        })
    }
}

/// One `mtx` command, in hokan's numbering (which is `mtx`'s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtxCommand {
    /// `status`: drives and slots with barcodes.
    Status,
    /// `inventory`: make the library re-read every element.
    Inventory,
    /// `load SLOT DRIVE`.
    Load {
        /// Source slot (1-based).
        slot: u32,
        /// Destination drive (0-based).
        drive: u32,
    },
    /// `unload SLOT DRIVE`.
    Unload {
        /// Source drive (0-based).
        drive: u32,
        /// Destination slot (1-based).
        slot: u32,
    },
    /// `transfer FROM TO`, slot to slot.
    Transfer {
        /// Source slot.
        from: u32,
        /// Destination slot.
        to: u32,
    },
}

impl MtxCommand {
    /// The argument list for changer `device`.
    pub fn args(&self, device: &str) -> Vec<String> {
        let mut args = vec!["-f".to_string(), device.to_string()];
        let rest: Vec<String> = match *self {
            MtxCommand::Status => vec!["status".into()],
            MtxCommand::Inventory => vec!["inventory".into()],
            MtxCommand::Load { slot, drive } => {
                vec!["load".into(), slot.to_string(), drive.to_string()]
            }
            MtxCommand::Unload { drive, slot } => {
                vec!["unload".into(), slot.to_string(), drive.to_string()]
            }
            MtxCommand::Transfer { from, to } => {
                vec!["transfer".into(), from.to_string(), to.to_string()]
            }
        };
        args.extend(rest);
        args
    }

    /// What the command does, for messages.
    pub fn describe(&self) -> String {
        match *self {
            MtxCommand::Status => "reading the changer status".into(),
            MtxCommand::Inventory => "the inventory".into(),
            MtxCommand::Load { slot, drive } => format!("loading slot {slot} into drive {drive}"),
            MtxCommand::Unload { drive, slot } => {
                format!("unloading drive {drive} into slot {slot}")
            }
            MtxCommand::Transfer { from, to } => format!("moving slot {from} to slot {to}"),
        }
    }
}

/// The command line as a person would type it, for messages.
pub fn command_line(args: &[String]) -> String {
    std::iter::once("mtx")
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Counts announced by the `Storage Changer` header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Header {
    drives: Option<usize>,
    slots: Option<usize>,
    import_export: Option<usize>,
}

/// The number next to `word` in `line`: `N word` (mtx 1.3) or
/// `word: N`/`word = N` (tolerated for other builds).
fn count_near(line: &str, word: &str) -> Option<usize> {
    let at = line.find(word)?;
    let before = line[..at].trim_end();
    let digits: String = before
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if !digits.is_empty() {
        return digits.parse().ok();
    }
    let after = line[at + word.len()..].trim_start_matches([' ', ':', '=']);
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn parse_header(line: &str, header: &mut Header) {
    // The device path may contain ':' (by-path names), so look for the
    // counts by their words, not by position.
    if let Some(n) = count_near(line, "Drives") {
        header.drives = Some(n);
    }
    if let Some(n) = count_near(line, "Slots") {
        header.slots = Some(n);
    }
    if let Some(n) = count_near(line, "Import/Export") {
        header.import_export = Some(n);
    }
}

/// Barcode and alternate tag from the part after `Full…`:
/// `:VolumeTag = HKN003L9   :AlternateVolumeTag = X`.
fn parse_tags(rest: &str, line_no: usize) -> Result<Option<Cartridge>, BadAnswer> {
    let mut barcode = None;
    for part in rest.split(':') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((key, value)) = part.split_once('=') else {
            return Err(BadAnswer::new(
                "mtx status",
                format!("line {line_no}: expected `VolumeTag = …`, got {part:?}"),
            ));
        };
        let value = value.trim();
        match key.trim() {
            "VolumeTag" if !value.is_empty() => barcode = Some(value.to_string()),
            // The alternate tag is not a barcode hokan labels with.
            "VolumeTag" | "AlternateVolumeTag" => {}
            other => {
                return Err(BadAnswer::new(
                    "mtx status",
                    format!("line {line_no}: unknown field {other:?}"),
                ))
            }
        }
    }
    Ok(Some(Cartridge { barcode }))
}

fn element_number(text: &str, what: &str, line_no: usize) -> Result<u32, BadAnswer> {
    text.trim().parse().map_err(|_| {
        BadAnswer::new(
            "mtx status",
            format!(
                "line {line_no}: {what} number {:?} is not a number",
                text.trim()
            ),
        )
    })
}

fn parse_drive(rest: &str, line_no: usize) -> Result<DriveElement, BadAnswer> {
    let bad = |what: String| BadAnswer::new("mtx status", format!("line {line_no}: {what}"));
    let (number, state) = rest
        .split_once(':')
        .ok_or_else(|| bad("no ':' after the drive number".into()))?;
    let index = element_number(number, "drive", line_no)?;
    let state = state.trim();
    if state == "Empty" {
        return Ok(DriveElement {
            index,
            loaded: None,
            source_slot: None,
        });
    }
    let inner = state
        .strip_prefix("Full")
        .map(str::trim_start)
        .and_then(|s| s.strip_prefix('('))
        .ok_or_else(|| bad(format!("expected `Empty` or `Full (…)`, got {state:?}")))?;
    let (source, tags) = inner
        .split_once(')')
        .ok_or_else(|| bad("no ')' after the source element".into()))?;
    let source = source.trim();
    let source_slot = if source.starts_with("Unknown") {
        None
    } else {
        let number = source
            .strip_prefix("Storage Element")
            .and_then(|s| s.strip_suffix("Loaded"))
            .ok_or_else(|| bad(format!("unreadable source {source:?}")))?;
        Some(element_number(number, "source slot", line_no)?)
    };
    Ok(DriveElement {
        index,
        loaded: parse_tags(tags, line_no)?,
        source_slot,
    })
}

fn parse_slot(rest: &str, line_no: usize) -> Result<SlotElement, BadAnswer> {
    let bad = |what: String| BadAnswer::new("mtx status", format!("line {line_no}: {what}"));
    let (left, state) = rest
        .split_once(':')
        .ok_or_else(|| bad("no ':' after the slot number".into()))?;
    let left = left.trim();
    let (number, import_export) = match left.strip_suffix("IMPORT/EXPORT") {
        Some(number) => (number, true),
        None => (left, false),
    };
    let number = element_number(number, "slot", line_no)?;
    let state = state.trim_start();
    let cartridge = if state.trim_end() == "Empty" {
        None
    } else if let Some(tags) = state.strip_prefix("Full") {
        parse_tags(tags, line_no)?
    } else {
        return Err(bad(format!("expected `Empty` or `Full`, got {state:?}")));
    };
    Ok(SlotElement {
        number,
        import_export,
        cartridge,
    })
}

/// Reads the output of `mtx status`. Drive numbers must run 0, 1, 2, … and
/// slot numbers 1, 2, 3, … as `mtx` prints them; counts in the header, when
/// present, must match the lines (a cut-off output is an error, not a
/// smaller library).
pub fn parse_status(text: &str) -> Result<ChangerStatus, BadAnswer> {
    let mut header = Header::default();
    let mut seen_header = false;
    let mut status = ChangerStatus::default();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("Storage Changer") || line.starts_with("Maximum") {
            seen_header = true;
            parse_header(line, &mut header);
        } else if let Some(rest) = line.strip_prefix("Data Transfer Element") {
            let drive = parse_drive(rest, line_no)?;
            if drive.index as usize != status.drives.len() {
                return Err(BadAnswer::new(
                    "mtx status",
                    format!(
                        "line {line_no}: drive {} where drive {} was expected",
                        drive.index,
                        status.drives.len()
                    ),
                ));
            }
            status.drives.push(drive);
        } else if let Some(rest) = line.strip_prefix("Storage Element") {
            let slot = parse_slot(rest, line_no)?;
            if slot.number as usize != status.slots.len() + 1 {
                return Err(BadAnswer::new(
                    "mtx status",
                    format!(
                        "line {line_no}: slot {} where slot {} was expected",
                        slot.number,
                        status.slots.len() + 1
                    ),
                ));
            }
            status.slots.push(slot);
        } else {
            return Err(BadAnswer::new(
                "mtx status",
                format!("line {line_no}: unexpected line {line:?}"),
            ));
        }
    }
    if !seen_header && status.drives.is_empty() && status.slots.is_empty() {
        return Err(BadAnswer::new(
            "mtx status",
            "no changer status in the output",
        ));
    }
    let import_export = status.slots.iter().filter(|s| s.import_export).count();
    let checks = [
        ("drives", header.drives, status.drives.len()),
        ("slots", header.slots, status.slots.len()),
        ("import/export slots", header.import_export, import_export),
    ];
    for (what, announced, listed) in checks {
        if let Some(announced) = announced.filter(|n| *n != listed) {
            return Err(BadAnswer::new(
                "mtx status",
                format!(
                    "the header announces {announced} {what} but {listed} are listed; the output \
                     may be cut short"
                ),
            ));
        }
    }
    Ok(status)
}

/// The last sense report `mtx` printed on standard error
/// (`mtx: Request Sense: Sense Key=Not Ready`, `… Additional Sense Code = 04`,
/// …). `mtx` may print several (a failed MODE SENSE before the real
/// failure); the last one belongs to the failure.
pub fn parse_request_sense(stderr: &str) -> Option<Sense> {
    #[derive(Default)]
    struct Report {
        deferred: bool,
        key: Option<SenseKey>,
        asc: Option<u8>,
        ascq: Option<u8>,
        filemark: bool,
        eom: bool,
        ili: bool,
    }
    let mut reports: Vec<Report> = Vec::new();
    for line in stderr.lines() {
        let Some((_, field)) = line.split_once("Request Sense:") else {
            continue;
        };
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => continue,
        };
        if key == "Long Report" || reports.is_empty() {
            reports.push(Report::default());
        }
        let Some(report) = reports.last_mut() else {
            continue;
        };
        let yes = value.eq_ignore_ascii_case("yes");
        let hex = || u8::from_str_radix(value.split_whitespace().next().unwrap_or(""), 16).ok();
        match key {
            "Error Code" => report.deferred = value.starts_with("71") || value.starts_with("73"),
            "Sense Key" => report.key = SenseKey::from_name(value),
            "Additional Sense Code" => report.asc = hex(),
            "Additional Sense Qualifier" => report.ascq = hex(),
            "FileMark" => report.filemark = yes,
            "EOM" => report.eom = yes,
            "ILI" => report.ili = yes,
            _ => {}
        }
    }
    let report = reports.into_iter().rev().find(|r| r.key.is_some())?;
    Some(Sense {
        format: SenseFormat::Fixed,
        deferred: report.deferred,
        key: report.key?,
        asc: report.asc.unwrap_or(0),
        ascq: report.ascq.unwrap_or(0),
        filemark: report.filemark,
        eom: report.eom,
        ili: report.ili,
        information: None,
    })
}

/// `mtx`'s own failure message: the last line of standard error that is not
/// part of a sense report, without the `mtx: ` (or `/usr/sbin/mtx: `)
/// prefix its `FatalError` adds.
pub fn failure_message(stderr: &str) -> Option<String> {
    let line = stderr.lines().map(str::trim).rfind(|l| {
        !l.is_empty() && !l.contains("Request Sense:") && !l.starts_with("Mode sense (0x1A)")
    })?;
    let message = match line.split_once(": ") {
        Some((program, rest)) if program.ends_with("mtx") && !program.contains(' ') => rest,
        _ => line,
    };
    Some(message.trim().to_string())
}

/// Messages with which `mtx` refuses a move before or while trying it
/// (mtx.c `Load`, `Unload`, `Transfer`, `Move`).
const MOVE_REFUSALS: &[&str] = &[
    "is Empty",
    "is Already Full",
    "Already Full",
    "Invalid <",
    "illegal <",
    "Full (Storage Element",
    "No Source for tape",
    "Do not know which slot",
    "Invalid source",
    "Invalid destination",
    "No source specified",
    "No destination specified",
    "Drive needs offline before move",
    "Cleaning Cartridge Installed and Ejected",
];

/// The [`TapeError`] for a failed run of `cmd` on changer `device`:
/// [`TapeError::Move`] when the move cannot be made (source empty,
/// destination full, no such element, drive still holding the cartridge),
/// else [`TapeError::Device`]; both carry `mtx`'s message, the decoded sense
/// and the command line.
pub fn failure_error(device: &str, cmd: &MtxCommand, output: &MtxOutput) -> TapeError {
    let line = command_line(&cmd.args(device));
    let sense = parse_request_sense(&output.stderr);
    let message = failure_message(&output.stderr)
        .or_else(|| failure_message(&output.stdout))
        .unwrap_or_else(|| "no message".into());
    let says = sense
        .as_ref()
        .map(|s| format!("; the changer says: {}", s.sentence()))
        .unwrap_or_default();
    let refused = sense.as_ref().is_some_and(|s| {
        matches!(
            s.kind(),
            SenseKind::DestinationFull
                | SenseKind::SourceEmpty
                | SenseKind::ElementNotAccessible
                | SenseKind::RemovalPrevented
        )
    }) || MOVE_REFUSALS.iter().any(|p| message.contains(p));
    let is_move = matches!(
        cmd,
        MtxCommand::Load { .. } | MtxCommand::Unload { .. } | MtxCommand::Transfer { .. }
    );
    if is_move && refused {
        TapeError::Move {
            device: device.to_string(),
            what: format!("{} refused: {message}{says} (`{line}`)", cmd.describe()),
        }
    } else {
        let exit = match output.code {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".into(),
        };
        TapeError::Device {
            device: device.to_string(),
            what: format!(
                "{} failed ({exit}): {message}{says} (`{line}`)",
                cmd.describe()
            ),
        }
    }
}

/// An OS error with what hokan was doing; keeps the cause as its source.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct Context {
    what: String,
    #[source]
    source: io::Error,
}

/// A SCSI media changer driven by `mtx`.
pub struct MtxChanger<R: MtxRunner = ProcessRunner> {
    device: String,
    runner: R,
    eject_first: HashMap<u32, PathBuf>,
}

impl<R: MtxRunner> std::fmt::Debug for MtxChanger<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtxChanger")
            .field("device", &self.device)
            .field("eject_first", &self.eject_first)
            .finish()
    }
}

impl MtxChanger<ProcessRunner> {
    /// The changer at `device` (`/dev/sg3`, or a `/dev/tape/by-id/…`
    /// link), running `mtx` from `PATH`.
    pub fn new(device: impl Into<String>) -> Self {
        MtxChanger::with_runner(device, ProcessRunner::new())
    }
}

impl<R: MtxRunner> MtxChanger<R> {
    /// The changer at `device`, running `mtx` through `runner`.
    pub fn with_runner(device: impl Into<String>, runner: R) -> Self {
        MtxChanger {
            device: device.into(),
            runner,
            eject_first: HashMap::new(),
        }
    }

    /// Eject the cartridge of drive `drive` through its `st` node (MTOFFL)
    /// before [`Changer::unload`] moves it, for libraries that cannot take a
    /// cartridge the drive still holds (sense 53/03).
    pub fn eject_before_unload(mut self, drive: u32, st_node: impl Into<PathBuf>) -> Self {
        self.eject_first.insert(drive, st_node.into());
        self
    }

    /// The runner (tests read what it was asked).
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// Runs `cmd`; any exit status.
    fn spawn(&mut self, cmd: &MtxCommand) -> Result<MtxOutput, TapeError> {
        let args = cmd.args(&self.device);
        let line = command_line(&args);
        tracing::debug!(changer = %self.device, "{line}");
        self.runner.run(&args).map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut => TapeError::Device {
                device: self.device.clone(),
                what: format!(
                    "{} did not finish ({e}): the library may be busy or hung; check its panel \
                     (`{line}`)",
                    cmd.describe()
                ),
            },
            kind => {
                let what = if kind == io::ErrorKind::NotFound {
                    format!("cannot run `{line}`: is the mtx package installed?")
                } else {
                    format!("cannot run `{line}`")
                };
                TapeError::Io {
                    device: self.device.clone(),
                    source: io::Error::new(kind, Context { what, source: e }),
                }
            }
        })
    }

    /// Runs `cmd`; a failure becomes the matching [`TapeError`].
    fn run(&mut self, cmd: &MtxCommand) -> Result<MtxOutput, TapeError> {
        let output = self.spawn(cmd)?;
        if output.success() {
            if !output.stderr.trim().is_empty() {
                tracing::debug!(changer = %self.device, "mtx said on stderr: {}", output.stderr.trim());
            }
            Ok(output)
        } else {
            Err(failure_error(&self.device, cmd, &output))
        }
    }
}

impl<R: MtxRunner> Changer for MtxChanger<R> {
    fn name(&self) -> String {
        self.device.clone()
    }

    fn status(&mut self) -> Result<ChangerStatus, TapeError> {
        let output = self.run(&MtxCommand::Status)?;
        parse_status(&output.stdout).map_err(|e| e.for_device(&self.device))
    }

    fn inventory(&mut self) -> Result<(), TapeError> {
        let cmd = MtxCommand::Inventory;
        let output = self.spawn(&cmd)?;
        if output.success() {
            return Ok(());
        }
        // Libraries that scan by themselves may not implement INITIALIZE
        // ELEMENT STATUS; their status is current anyway.
        if parse_request_sense(&output.stderr)
            .is_some_and(|s| s.key == SenseKey::IllegalRequest && (s.asc, s.ascq) == (0x20, 0x00))
        {
            tracing::info!(changer = %self.device, "the library has no inventory command; it keeps its inventory itself");
            return Ok(());
        }
        Err(failure_error(&self.device, &cmd, &output))
    }

    fn load(&mut self, slot: u32, drive: u32) -> Result<(), TapeError> {
        self.run(&MtxCommand::Load { slot, drive }).map(drop)
    }

    fn unload(&mut self, drive: u32, slot: u32) -> Result<(), TapeError> {
        if let Some(node) = self.eject_first.get(&drive) {
            if super::st::eject(node)? {
                tracing::debug!(changer = %self.device, drive, "ejected through {}", node.display());
            }
        }
        self.run(&MtxCommand::Unload { drive, slot }).map(drop)
    }

    fn transfer(&mut self, from: u32, to: u32) -> Result<(), TapeError> {
        self.run(&MtxCommand::Transfer { from, to }).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_lists() {
        let d = "/dev/sg3";
        assert_eq!(MtxCommand::Status.args(d), ["-f", "/dev/sg3", "status"]);
        assert_eq!(
            MtxCommand::Inventory.args(d),
            ["-f", "/dev/sg3", "inventory"]
        );
        assert_eq!(
            MtxCommand::Load { slot: 4, drive: 1 }.args(d),
            ["-f", "/dev/sg3", "load", "4", "1"]
        );
        // mtx takes the slot first for unload too.
        assert_eq!(
            MtxCommand::Unload { drive: 1, slot: 4 }.args(d),
            ["-f", "/dev/sg3", "unload", "4", "1"]
        );
        assert_eq!(
            MtxCommand::Transfer { from: 3, to: 24 }.args(d),
            ["-f", "/dev/sg3", "transfer", "3", "24"]
        );
        assert_eq!(
            command_line(&MtxCommand::Load { slot: 4, drive: 0 }.args(d)),
            "mtx -f /dev/sg3 load 4 0"
        );
    }

    #[test]
    fn header_counts_by_word() {
        let mut h = Header::default();
        parse_header(
            "Storage Changer /dev/tape/by-path/pci-0000:03:00.0-sas-0x5000-lun-1:2 Drives, 24 \
             Slots ( 4 Import/Export )",
            &mut h,
        );
        assert_eq!(
            (h.drives, h.slots, h.import_export),
            (Some(2), Some(24), Some(4))
        );
    }

    #[test]
    fn header_without_import_export_count() {
        let mut h = Header::default();
        parse_header("Storage Changer /dev/sg1:1 Drives, 8 Slots", &mut h);
        assert_eq!(
            (h.drives, h.slots, h.import_export),
            (Some(1), Some(8), None)
        );
    }

    #[test]
    fn header_with_maximum_wording() {
        // Not seen in public mtx outputs; tolerated in case a build words
        // its header so.
        let text = "  Storage Changer /dev/sg2: Maximum Drives: 1, Maximum Slots: 2\n\
                    Data Transfer Element 0:Empty\n\
                    \x20     Storage Element 1:Empty\n\
                    \x20     Storage Element 2:Full :VolumeTag=HKN002L9\n";
        let s = parse_status(text).unwrap();
        assert_eq!((s.drives.len(), s.slots.len()), (1, 2));
        let short = text.replace("Maximum Slots: 2", "Maximum Slots: 3");
        assert!(parse_status(&short).is_err());
    }

    #[test]
    fn drive_lines() {
        let d = parse_drive(" 0:Full (Storage Element 3 Loaded):VolumeTag = HKN003L9", 1).unwrap();
        assert_eq!(d.source_slot, Some(3));
        assert_eq!(d.loaded.unwrap().barcode.as_deref(), Some("HKN003L9"));
        let d = parse_drive(" 1:Full (Unknown Storage Element Loaded)", 1).unwrap();
        assert_eq!(d.source_slot, None);
        assert_eq!(d.loaded, Some(Cartridge { barcode: None }));
        let d = parse_drive(" 2:Empty", 1).unwrap();
        assert_eq!((d.index, d.loaded), (2, None));
        assert!(parse_drive(" 0:Half", 7)
            .unwrap_err()
            .to_string()
            .contains("line 7"));
    }

    #[test]
    fn slot_lines() {
        let s = parse_slot(" 12 IMPORT/EXPORT:Full :VolumeTag=HKN012L9", 1).unwrap();
        assert!(s.import_export);
        assert_eq!(s.number, 12);
        assert_eq!(s.cartridge.unwrap().barcode.as_deref(), Some("HKN012L9"));
        let s = parse_slot(" 3:Full ", 1).unwrap();
        assert_eq!(s.cartridge, Some(Cartridge { barcode: None }));
        let s = parse_slot(" 4:Full :VolumeTag=HKN004L9      :AlternateVolumeTag=X", 1).unwrap();
        assert_eq!(s.cartridge.unwrap().barcode.as_deref(), Some("HKN004L9"));
        let s = parse_slot(" 5:Empty", 1).unwrap();
        assert!(s.cartridge.is_none() && !s.import_export);
    }

    #[test]
    fn numbering_gaps_and_garbage_are_errors() {
        let gap = "Data Transfer Element 0:Empty\n      Storage Element 2:Empty\n";
        assert!(parse_status(gap)
            .unwrap_err()
            .to_string()
            .contains("slot 1 was expected"));
        let drives = "Data Transfer Element 1:Empty\n";
        assert!(parse_status(drives).is_err());
        assert!(parse_status("").is_err());
        assert!(parse_status("mtx: cannot open SCSI device '/dev/sg9'\n").is_err());
    }

    #[test]
    fn sense_report_last_block_wins() {
        let stderr = "mtx: Request Sense: Long Report=yes\n\
            mtx: Request Sense: Error Code=70 (Current)\n\
            mtx: Request Sense: Sense Key=Unit Attention\n\
            mtx: Request Sense: Additional Sense Code = 28\n\
            mtx: Request Sense: Additional Sense Qualifier = 00\n\
            Mode sense (0x1A) for Page 0x1D failed\n\
            mtx: Request Sense: Long Report=yes\n\
            mtx: Request Sense: Error Code=70 (Current)\n\
            mtx: Request Sense: Sense Key=Illegal Request\n\
            mtx: Request Sense: EOM=no\n\
            mtx: Request Sense: Additional Sense Code = 3B\n\
            mtx: Request Sense: Additional Sense Qualifier = 0E\n\
            MOVE MEDIUM from Element Address 1000 to 256 Failed\n";
        let s = parse_request_sense(stderr).unwrap();
        assert_eq!(
            (s.key, s.asc, s.ascq),
            (SenseKey::IllegalRequest, 0x3b, 0x0e)
        );
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("MOVE MEDIUM from Element Address 1000 to 256 Failed")
        );
        assert!(parse_request_sense("no report").is_none());
    }

    #[test]
    fn refusals_are_move_errors_and_failures_device_errors() {
        let cmd = MtxCommand::Unload { drive: 0, slot: 5 };
        let out = MtxOutput {
            code: Some(1),
            stdout: String::new(),
            stderr: "Storage Element 5 is Already Full\n".into(),
        };
        match failure_error("/dev/sg3", &cmd, &out) {
            TapeError::Move { device, what } => {
                assert_eq!(device, "/dev/sg3");
                assert_eq!(
                    what,
                    "unloading drive 0 into slot 5 refused: Storage Element 5 is Already Full \
                     (`mtx -f /dev/sg3 unload 5 0`)"
                );
            }
            other => panic!("{other:?}"),
        }
        let out = MtxOutput {
            code: Some(1),
            stdout: String::new(),
            stderr: "READ ELEMENT STATUS Command Failed\n".into(),
        };
        assert!(matches!(
            failure_error("/dev/sg3", &MtxCommand::Status, &out),
            TapeError::Device { .. }
        ));
    }
}
