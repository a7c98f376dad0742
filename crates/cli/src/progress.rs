//! Progress bars on a terminal; silence elsewhere.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hokan_repo::verify::VerifyProgress;
use hokan_repo::{BackupProgress, RestoreProgress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::i18n::{t, Lang};

/// A bar as the progress handle of a copy ([`hokan_jobs::copy::copy_plan`]):
/// it counts each object's bytes once the object is in the store.
pub struct BarProgress<'a>(pub &'a Bar);

impl hokan_jobs::copy::CopyProgress for BarProgress<'_> {
    fn copied(
        &self,
        obj: &hokan_repo::copy::CopyObject,
        _: hokan_jobs::copy::Outcome,
    ) -> Result<(), hokan_jobs::JobError> {
        self.0.add(obj.size);
        Ok(())
    }
}

/// A byte-counting bar shown on stderr when it is a terminal.
pub struct Bar {
    bar: Option<ProgressBar>,
    lang: Lang,
    warnings: Mutex<Vec<String>>,
    quiet_warnings: bool,
    /// Files the backup's scan found to read so far.
    files: AtomicU64,
}

impl Bar {
    /// A bar, hidden if `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool, json: bool, lang: Lang, label: &str) -> Bar {
        let show = !quiet && !json && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(5));
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            b.set_prefix(label.to_string());
            b
        });
        Bar {
            bar,
            lang,
            warnings: Mutex::new(Vec::new()),
            quiet_warnings: json,
            files: AtomicU64::new(0),
        }
    }

    /// Set the total of a byte count.
    pub fn set_total(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.set_length(bytes);
        }
    }

    /// Count bytes done.
    pub fn add(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
        }
    }

    /// Show what is happening now (the cartridge being written).
    pub fn say(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    /// Print a line above the bar (or on stderr without one).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None if !self.quiet_warnings => eprintln!("{line}"),
            None => {}
        }
    }

    /// Ask a person for something (insert a cartridge): above the bar, or
    /// on stderr even with `--json` or `--quiet`, since nothing happens
    /// until someone reads it.
    pub fn ask(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Remove the bar from the screen.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl BackupProgress for Bar {
    fn to_read(&self, files: u64, bytes: u64) {
        // The scan reports as it goes: the bar's length grows with it.
        if let Some(b) = &self.bar {
            b.inc_length(bytes);
            let files = self.files.fetch_add(files, Ordering::Relaxed) + files;
            b.set_message(format!("{files} {}", t(self.lang, "files", "ファイル")));
        }
    }
    fn read(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
        }
    }
    fn warn(&self, path: &Path, error: &str) {
        let line = format!(
            "{}: {}: {error}",
            t(self.lang, "warning: cannot read", "警告: 読めません"),
            path.display()
        );
        match (&self.bar, self.quiet_warnings) {
            (Some(b), _) => b.println(&line),
            (None, false) => eprintln!("{line}"),
            (None, true) => {}
        }
        self.warnings.lock().expect("warnings").push(line);
    }
}

impl RestoreProgress for Bar {
    fn total(&self, _files: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            b.set_length(bytes);
        }
    }
    fn written(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
        }
    }
}

impl VerifyProgress for Bar {
    fn packs(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} packs",
                )
                .expect("template"),
            );
            b.set_length(n);
        }
    }
    fn pack_done(&self, _bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
}
