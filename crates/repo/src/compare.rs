//! Comparing a restored tree with the original, file by file.
//!
//! Used by `hokan demo` and by tests, and meant for restore drills: after a
//! drill restores a generation into scratch space, this says whether what came
//! back is what was backed up (content, type, permission bits, mtime, symlink
//! targets).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Compare two trees: content, mode, mtime, symlink targets. Returns the differences.
pub fn compare_trees(a: &Path, b: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    compare(a, b, Path::new(""), &mut out)?;
    Ok(out)
}

fn compare(a: &Path, b: &Path, rel: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let (ma, mb) = match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Ok(_), Err(_)) => {
            out.push(format!("missing in restore: {}", rel.display()));
            return Ok(());
        }
        (Err(e), _) => return Err(e),
    };
    if ma.file_type() != mb.file_type() {
        out.push(format!("type differs: {}", rel.display()));
        return Ok(());
    }
    if ma.is_symlink() {
        if fs::read_link(a)? != fs::read_link(b)? {
            out.push(format!("link target differs: {}", rel.display()));
        }
        return Ok(());
    }
    if ma.mode() != mb.mode() {
        out.push(format!("mode differs: {}", rel.display()));
    }
    if ma.is_file() {
        if ma.mtime() != mb.mtime() || ma.mtime_nsec() != mb.mtime_nsec() {
            out.push(format!("mtime differs: {}", rel.display()));
        }
        if fs::read(a)? != fs::read(b)? {
            out.push(format!("content differs: {}", rel.display()));
        }
    } else if ma.is_dir() {
        let mut names: Vec<_> = fs::read_dir(a)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort();
        let nb = fs::read_dir(b)?.count();
        if nb != names.len() {
            out.push(format!(
                "entry count differs in {}: {} vs {}",
                rel.display(),
                names.len(),
                nb
            ));
        }
        for n in names {
            compare(&a.join(&n), &b.join(&n), &rel.join(&n), out)?;
        }
    }
    Ok(())
}
