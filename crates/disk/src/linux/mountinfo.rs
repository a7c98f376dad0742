//! What is mounted where, from `/proc/self/mountinfo` (proc(5)):
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)    (10)         (11)
//! ```
//!
//! mount ID, parent ID, `major:minor`, root of the mount inside its
//! filesystem, mount point, mount options, zero or more optional fields, a
//! `-`, the filesystem type, the mount source, the superblock options.
//! Space, tab, newline and backslash in paths are written as octal escapes
//! (`\040`, `\011`, `\012`, `\134`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use super::BadOutput;

/// One line of mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    /// Mount ID.
    pub id: u64,
    /// Parent mount ID.
    pub parent: u64,
    /// `major:minor` of the filesystem's device (`8:33`; an anonymous
    /// `0:N` for network and virtual filesystems).
    pub maj_min: String,
    /// The folder of the filesystem that is mounted (`/` for the whole
    /// filesystem, another folder for a bind mount).
    pub root: PathBuf,
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// Per-mount options (`rw,relatime`).
    pub options: String,
    /// Filesystem type (`ext4`, `nfs4`, `cifs`).
    pub fstype: String,
    /// Mount source (`/dev/sdc1`, `//nas/share`, `host:/export`).
    pub source: String,
}

impl MountEntry {
    /// Whether it is mounted read-only.
    pub fn read_only(&self) -> bool {
        self.options.split(',').any(|o| o == "ro")
    }
}

/// Replaces the octal escapes the kernel writes (`\040` for a space) by
/// the bytes they stand for; anything else is kept as it is.
pub fn unescape(field: &str) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let value = (bytes[i + 1] - b'0') as u32 * 64
                + (bytes[i + 2] - b'0') as u32 * 8
                + (bytes[i + 3] - b'0') as u32;
            if let Ok(byte) = u8::try_from(value) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn path(field: &str) -> PathBuf {
    PathBuf::from(OsString::from_vec(unescape(field)))
}

/// Reads a mountinfo file, in its order (later lines are mounted later, so
/// the last entry for a mount point is the one on top).
pub fn parse_mountinfo(text: &str) -> Result<Vec<MountEntry>, BadOutput> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad =
            |what: &str| BadOutput::new("/proc/self/mountinfo", format!("line {line_no}: {what}"));
        let fields: Vec<&str> = line.split(' ').collect();
        let dash = fields
            .iter()
            .position(|f| *f == "-")
            .ok_or_else(|| bad("no `-` before the filesystem type"))?;
        if dash < 6 || fields.len() < dash + 3 {
            return Err(bad("too few fields"));
        }
        let number = |f: &str, what: &str| {
            f.parse::<u64>()
                .map_err(|_| bad(&format!("{what} {f:?} is not a number")))
        };
        out.push(MountEntry {
            id: number(fields[0], "mount ID")?,
            parent: number(fields[1], "parent ID")?,
            maj_min: fields[2].to_string(),
            root: path(fields[3]),
            mount_point: path(fields[4]),
            options: fields[5].to_string(),
            fstype: String::from_utf8_lossy(&unescape(fields[dash + 1])).into_owned(),
            source: String::from_utf8_lossy(&unescape(fields[dash + 2])).into_owned(),
        });
    }
    Ok(out)
}

/// The filesystem on top at `mount_point`, if something is mounted there.
pub fn mounted_at<'a>(mounts: &'a [MountEntry], mount_point: &Path) -> Option<&'a MountEntry> {
    mounts.iter().rev().find(|m| m.mount_point == mount_point)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mountinfo")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn this_machine() {
        let mounts = parse_mountinfo(&data("vm.txt")).unwrap();
        assert_eq!(mounts.len(), 19);
        let root = mounted_at(&mounts, Path::new("/")).unwrap();
        assert_eq!(root.source, "/dev/vda");
        assert_eq!(root.fstype, "ext4");
        assert_eq!(root.maj_min, "254:0");
        // /dev/pts is mounted twice: the later one is on top.
        assert_eq!(mounted_at(&mounts, Path::new("/dev/pts")).unwrap().id, 29);
        assert_eq!(mounted_at(&mounts, Path::new("/mnt/hokan-rdx")), None);
    }

    #[test]
    fn escapes_optional_fields_network_shares_and_stacked_mounts() {
        let mounts = parse_mountinfo(&data("host-rdx-nas.txt")).unwrap();
        assert_eq!(mounts.len(), 13);
        let rdx = mounted_at(&mounts, Path::new("/mnt/hokan-rdx")).unwrap();
        assert_eq!(
            (rdx.source.as_str(), rdx.maj_min.as_str()),
            ("/dev/sdc1", "8:33")
        );
        assert_eq!(rdx.root, Path::new("/"));
        assert!(!rdx.read_only());
        let nas = mounted_at(&mounts, Path::new("/mnt/nas backup")).unwrap();
        assert_eq!(nas.source, "//nas01/hokan share");
        assert_eq!(nas.fstype, "cifs");
        // Two optional fields before the dash.
        let nfs = mounted_at(&mounts, Path::new("/mnt/hokan-nfs")).unwrap();
        assert_eq!(nfs.source, "10.0.5.31:/export/hokan");
        assert_eq!(nfs.fstype, "nfs4");
        // No optional field; tab and backslash; a bind mount of a folder.
        let odd = mounted_at(&mounts, Path::new("/srv/tab\tand\\backslash")).unwrap();
        assert_eq!(odd.root, Path::new("/backup"));
        assert_eq!(odd.source, "/dev/sdb1");
        let top = mounted_at(&mounts, Path::new("/mnt/stacked")).unwrap();
        assert_eq!(
            (top.id, top.parent, top.fstype.as_str()),
            (431, 430, "ext4")
        );
    }

    #[test]
    fn unescape_keeps_what_is_not_an_escape() {
        assert_eq!(unescape(r"a\040b"), b"a b");
        assert_eq!(unescape(r"\012"), b"\n");
        assert_eq!(unescape(r"a\04"), br"a\04");
        assert_eq!(unescape(r"a\x20"), br"a\x20");
        assert_eq!(unescape(r"\777"), br"\777");
        assert_eq!(unescape("日本\\040語"), "日本 語".as_bytes());
    }

    #[test]
    fn damaged_lines_are_errors_naming_the_line() {
        let e = parse_mountinfo(
            "22 1 253:0 / / rw shared:1 - xfs /dev/x rw\n23 22 0:21 / /proc rw proc proc rw\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/proc/self/mountinfo: line 2: no `-` before the filesystem type"
        );
        let e = parse_mountinfo("x 1 253:0 / / rw - xfs /dev/x rw").unwrap_err();
        assert!(e.to_string().contains("mount ID \"x\""), "{e}");
        let e = parse_mountinfo("22 1 253:0 / / rw - xfs").unwrap_err();
        assert!(e.to_string().contains("too few fields"), "{e}");
    }
}
