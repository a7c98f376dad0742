//! The catalog anchor on a cartridge: [`ANCHOR_FILE`] at the root of its
//! filesystem, beside the label (see `docs/disk-format.md`).
//!
//! This crate only moves its bytes: reading them with a size limit, and
//! writing them atomically (a temporary file, fsynced, renamed over the
//! old anchor, the folder fsynced). What they mean (`hokan_catalog::anchor`)
//! is the caller's business.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::device::DiskError;

/// The anchor's file name at the root of the cartridge
/// (`hokan_catalog::anchor::DISK_ANCHOR_FILE`).
pub const ANCHOR_FILE: &str = "HOKAN-ANCHOR.json";

fn io(path: &Path, source: std::io::Error) -> DiskError {
    DiskError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The bytes of the anchor at the root `root` of a cartridge: `Ok(None)`
/// when there is none. A file longer than `max` bytes is refused unread
/// beyond `max + 1` bytes (a hostile cartridge must not make hokan read
/// gigabytes); so is anything that is not a plain file.
pub fn read_anchor(root: &Path, max: usize) -> Result<Option<Vec<u8>>, DiskError> {
    let path = root.join(ANCHOR_FILE);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path, e)),
    };
    if !meta.is_file() {
        return Err(DiskError::State {
            path,
            detail: "the catalog anchor is not a plain file".into(),
        });
    }
    let f = fs::File::open(&path).map_err(|e| io(&path, e))?;
    let mut bytes = Vec::new();
    f.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io(&path, e))?;
    if bytes.len() > max {
        return Err(DiskError::State {
            path,
            detail: format!("the catalog anchor is larger than {max} bytes"),
        });
    }
    Ok(Some(bytes))
}

/// Writes `bytes` as the anchor at the root `root` durably: a temporary
/// file `.HOKAN-ANCHOR.json.tmp`, fsynced, renamed over the old anchor, and
/// the folder fsynced. A crash leaves the old anchor or the new one, never
/// a part of either.
pub fn write_anchor(root: &Path, bytes: &[u8]) -> Result<PathBuf, DiskError> {
    let path = root.join(ANCHOR_FILE);
    let tmp = root.join(format!(".{ANCHOR_FILE}.tmp"));
    let mut f = fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
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

    #[test]
    fn an_anchor_round_trips_is_replaced_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_anchor(dir.path(), 100).unwrap(), None);
        write_anchor(dir.path(), b"{\"seq\":1}\n").unwrap();
        assert_eq!(
            read_anchor(dir.path(), 100).unwrap().as_deref(),
            Some(&b"{\"seq\":1}\n"[..])
        );
        write_anchor(dir.path(), b"{\"seq\":2}\n").unwrap();
        assert_eq!(
            read_anchor(dir.path(), 100).unwrap().as_deref(),
            Some(&b"{\"seq\":2}\n"[..])
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from(ANCHOR_FILE)],
            "no temporary file left"
        );
    }

    #[test]
    fn a_large_or_odd_anchor_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(ANCHOR_FILE), vec![b' '; 101]).unwrap();
        let e = read_anchor(dir.path(), 100).unwrap_err().to_string();
        assert!(e.contains("larger than 100"), "{e}");
        fs::remove_file(dir.path().join(ANCHOR_FILE)).unwrap();
        fs::create_dir(dir.path().join(ANCHOR_FILE)).unwrap();
        let e = read_anchor(dir.path(), 100).unwrap_err().to_string();
        assert!(e.contains("not a plain file"), "{e}");
    }
}
