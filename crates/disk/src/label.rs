//! The cartridge label: a small JSON file at the root of the cartridge's
//! filesystem, written when hokan formats it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::device::DiskError;

/// The label's file name at the root of the cartridge.
pub const LABEL_FILE: &str = "HOKAN-DISK.json";

/// The folder of the cartridge's hokan repository.
pub const REPOSITORY_DIR: &str = "hokan";

/// The label format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a cartridge says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskLabel {
    /// Label format version, 1.
    pub format: u32,
    /// The cartridge's id (`RDX-TUE`), as printed on it.
    pub medium: String,
    /// The pool it belongs to.
    pub pool: String,
    /// When it was formatted.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The filesystem's UUID when it was formatted, where there is one.
    #[serde(default)]
    pub fs_uuid: Option<String>,
}

fn io(path: &Path, source: std::io::Error) -> DiskError {
    DiskError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the label at the root `root` of a cartridge: `Ok(None)` when there
/// is none (a blank disk, or not a hokan cartridge).
pub fn read_label(root: &Path) -> Result<Option<DiskLabel>, DiskError> {
    let path = root.join(LABEL_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path, e)),
    };
    let label: DiskLabel = serde_json::from_slice(&bytes).map_err(|e| DiskError::State {
        path: path.clone(),
        detail: format!("not a hokan cartridge label ({e})"),
    })?;
    if label.format != FORMAT_VERSION {
        return Err(DiskError::State {
            path,
            detail: format!(
                "label format {} (this hokan reads {FORMAT_VERSION}): use a newer hokan",
                label.format
            ),
        });
    }
    Ok(Some(label))
}

/// Writes `label` at the root `root` durably: a temporary file, fsynced,
/// renamed over the old label, and the folder fsynced.
pub fn write_label(root: &Path, label: &DiskLabel) -> Result<PathBuf, DiskError> {
    let path = root.join(LABEL_FILE);
    let tmp = root.join(format!(".{LABEL_FILE}.tmp"));
    let mut json = serde_json::to_vec_pretty(label).expect("a label serializes");
    json.push(b'\n');
    let mut f = fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(&json).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    fs::File::open(root)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(root, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_label_round_trips_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_label(dir.path()).unwrap(), None);
        let label = DiskLabel {
            format: FORMAT_VERSION,
            medium: "RDX-TUE".into(),
            pool: "rdx".into(),
            created: datetime!(2026-11-23 01:00 UTC),
            fs_uuid: Some("3f1c-22aa".into()),
        };
        write_label(dir.path(), &label).unwrap();
        assert_eq!(read_label(dir.path()).unwrap(), Some(label));
    }

    #[test]
    fn a_damaged_label_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(LABEL_FILE), b"{\"format\":1,").unwrap();
        let e = read_label(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains(LABEL_FILE) && e.contains("not a hokan cartridge label"),
            "{e}"
        );
    }
}
