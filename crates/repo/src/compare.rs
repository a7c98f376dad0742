//! Comparing a restored tree with the original, file by file.
//!
//! Used by `hokan demo` and by tests, and meant for restore drills: after a
//! drill restores a generation into scratch space, this says whether what came
//! back is what was backed up (content, type, permission bits, owner, mtime of
//! files and folders, symlink targets). Owners can only match when the
//! restore ran as root.

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
    if ma.uid() != mb.uid() || ma.gid() != mb.gid() {
        out.push(format!(
            "owner differs: {} ({}:{} vs {}:{})",
            rel.display(),
            ma.uid(),
            ma.gid(),
            mb.uid(),
            mb.gid()
        ));
    }
    // The compared root's own time is left out: it is the folder that was
    // named, not something inside it, and callers often touch it afterwards.
    let is_root = rel.as_os_str().is_empty();
    if !is_root && (ma.mtime() != mb.mtime() || ma.mtime_nsec() != mb.mtime_nsec()) {
        out.push(format!("mtime differs: {}", rel.display()));
    }
    if ma.is_file() {
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
