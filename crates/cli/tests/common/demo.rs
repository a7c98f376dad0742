//! The demo site (`hokan demo`) as a fixture: a `hokan` command with a
//! clean environment, and a fresh demo folder.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `hokan` with none of hokan's variables or the locale inherited, and
/// `LANG=C`.
pub fn hokan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hokan"));
    for v in [
        "HOKAN_REPO",
        "HOKAN_CONFIG",
        "HOKAN_CATALOG",
        "HOKAN_PASSWORD",
        "HOKAN_PASSPHRASE",
        "HOKAN_NOW",
        "HOKAN_LOG",
        "NO_COLOR",
        "LC_ALL",
        "LC_MESSAGES",
    ] {
        c.env_remove(v);
    }
    c.env("LANG", "C");
    c
}

/// stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scratch folder for a demo site, removed at the end of the test even
/// though the demo's vault made files in it immutable (`chattr +i`), which
/// a plain temporary folder could not remove (it was left behind, some
/// 80 MB per test).
pub struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    /// Where it is.
    pub fn path(&self) -> &std::path::Path {
        self.0.as_ref().expect("scratch folder").path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let _ = Command::new("chattr")
                .args(["-R", "-f", "-i"])
                .arg(t.path())
                .output();
            drop(t);
        }
    }
}

/// A fresh scratch folder (see [`Scratch`]).
pub fn scratch() -> Scratch {
    Scratch(Some(tempfile::tempdir().unwrap()))
}

/// A demo site in a fresh folder (the demo's S3 part is skipped when moto
/// is not installed).
pub fn demo() -> (Scratch, PathBuf) {
    let tmp = scratch();
    let dir = tmp.path().join("demo");
    let o = hokan()
        .args(["demo", "--lang", "en"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "demo failed: {}", text(&o));
    (tmp, dir)
}
