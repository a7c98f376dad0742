//! Block devices as `lsblk --json` lists them.
//!
//! hokan runs [`LSBLK_ARGS`]: `NAME` with `--paths` rather than the `PATH`
//! column, which lsblk only has since util-linux 2.33 (RHEL 8 ships 2.32),
//! and `MOUNTPOINT`, which every version has. The JSON differs between
//! versions, and [`parse_lsblk`] reads them all:
//!
//! - util-linux ≥ 2.33 prints booleans as `true`/`false` and, with
//!   `--bytes`, sizes as numbers; older versions print every value as a
//!   string (`"rm": "1"`, `"size": "1000204886016"`);
//! - util-linux ≥ 2.37 has `MOUNTPOINTS` (`"mountpoints": [null]` or a list
//!   of paths) next to `MOUNTPOINT` (`"mountpoint": "/"`): either is read;
//! - partitions are nested in `children` (tree output, the default when
//!   `NAME` is listed); a flat list without `children` is read too;
//! - empty values are `null` (or `""` in some versions);
//! - without `--bytes` sizes are human-readable (`"931.5G"`, `"0B"`): read
//!   as an approximate byte count.
//!
//! A drive without a medium (an empty RDX dock) is listed with size 0 and
//! no partitions.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::BadOutput;

/// The `lsblk` command hokan runs.
pub const LSBLK_ARGS: &[&str] = &[
    "lsblk",
    "--json",
    "--bytes",
    "--paths",
    "--output",
    "NAME,MAJ:MIN,UUID,LABEL,FSTYPE,MOUNTPOINT,HOTPLUG,RM,TRAN,SIZE,TYPE",
];

/// One block device (a disk, a partition, a mapped device).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockDev {
    /// The device node (`/dev/sdb1`), from `path` or, with `--paths`, `name`.
    pub path: PathBuf,
    /// `major:minor` (`8:17`), when listed.
    pub maj_min: Option<String>,
    /// Filesystem UUID.
    pub uuid: Option<String>,
    /// Filesystem label.
    pub label: Option<String>,
    /// Filesystem type (`ext4`, `xfs`, `exfat`).
    pub fstype: Option<String>,
    /// Where it is mounted (none, one, or several).
    pub mountpoints: Vec<PathBuf>,
    /// Removable or hotplug device (USB, …).
    pub hotplug: bool,
    /// Removable medium (an RDX dock, a card reader).
    pub removable: bool,
    /// Transport (`usb`, `sata`, `sas`); lsblk gives it for whole disks.
    pub transport: Option<String>,
    /// Size in bytes; 0 for a drive without a medium.
    pub size: Option<u64>,
    /// `disk`, `part`, `rom`, `lvm`, …
    pub kind: Option<String>,
    /// Partitions and devices stacked on it.
    pub children: Vec<BlockDev>,
}

impl BlockDev {
    /// Whether a medium is in: the size is not 0 (an unknown size counts as
    /// a medium).
    pub fn has_medium(&self) -> bool {
        self.size != Some(0)
    }

    /// This device and everything below it, depth first.
    pub fn walk(&self) -> Vec<&BlockDev> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.walk());
        }
        out
    }

    /// The device carrying the filesystem: itself when it has one, else the
    /// first device below it with one, else itself when a medium is in (a
    /// blank cartridge), else none.
    pub fn filesystem(&self) -> Option<&BlockDev> {
        self.walk()
            .into_iter()
            .find(|d| d.fstype.is_some() && d.has_medium())
            .or_else(|| self.has_medium().then_some(self))
    }
}

/// Every device of `devs`, depth first, with the top-level disk it is on.
pub fn walk_all(devs: &[BlockDev]) -> Vec<(&BlockDev, &BlockDev)> {
    devs.iter()
        .flat_map(|top| top.walk().into_iter().map(move |d| (d, top)))
        .collect()
}

/// The device listed at `path`, with its top-level disk.
pub fn find<'a>(devs: &'a [BlockDev], path: &Path) -> Option<(&'a BlockDev, &'a BlockDev)> {
    walk_all(devs).into_iter().find(|(d, _)| d.path == path)
}

fn bad(what: String) -> BadOutput {
    BadOutput::new("lsblk --json", what)
}

fn text(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<String>, BadOutput> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(bad(format!("{at}: `{key}` is {other}, not text"))),
    }
}

fn flag(obj: &serde_json::Map<String, Value>, key: &str, at: &str) -> Result<bool, BadOutput> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(Value::String(s)) => match s.as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" | "" => Ok(false),
            _ => Err(bad(format!("{at}: `{key}` is {s:?}, not a boolean"))),
        },
        Some(other) => Err(bad(format!("{at}: `{key}` is {other}, not a boolean"))),
    }
}

/// A human-readable lsblk size (`931.5G`, `0B`, `1,8T`), in bytes (binary
/// units, as lsblk prints them).
fn human_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let power = match unit.trim_end_matches("iB").trim_end_matches('B') {
        "" => 0,
        "K" | "k" => 1,
        "M" => 2,
        "G" => 3,
        "T" => 4,
        "P" => 5,
        "E" => 6,
        _ => return None,
    };
    let number: f64 = number.trim().replace(',', ".").parse().ok()?;
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    Some((number * 1024f64.powi(power)).round() as u64)
}

fn size(obj: &serde_json::Map<String, Value>, at: &str) -> Result<Option<u64>, BadOutput> {
    match obj.get("size") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(format!("{at}: size {n} is not a byte count"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .ok()
            .or_else(|| human_size(s))
            .map(Some)
            .ok_or_else(|| bad(format!("{at}: size {s:?} is not a size"))),
        Some(other) => Err(bad(format!("{at}: size is {other}, not a size"))),
    }
}

fn mountpoints(obj: &serde_json::Map<String, Value>, at: &str) -> Result<Vec<PathBuf>, BadOutput> {
    let mut out = Vec::new();
    if let Some(list) = obj.get("mountpoints") {
        match list {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Null => {}
                        Value::String(s) if s.is_empty() => {}
                        Value::String(s) => out.push(PathBuf::from(s)),
                        other => {
                            return Err(bad(format!("{at}: mount point {other} is not a path")))
                        }
                    }
                }
            }
            other => return Err(bad(format!("{at}: `mountpoints` is {other}, not a list"))),
        }
    }
    if let Some(single) = text(obj, "mountpoint", at)? {
        let single = PathBuf::from(single);
        if !out.contains(&single) {
            out.push(single);
        }
    }
    Ok(out)
}

fn device(value: &Value, at: &str) -> Result<BlockDev, BadOutput> {
    let obj = value
        .as_object()
        .ok_or_else(|| bad(format!("{at}: a device is {value}, not an object")))?;
    let path = match text(obj, "path", at)? {
        Some(p) => p,
        None => {
            let name = text(obj, "name", at)?
                .ok_or_else(|| bad(format!("{at}: a device has neither `path` nor `name`")))?;
            if !name.starts_with('/') {
                return Err(bad(format!(
                    "{at}: device name {name:?} is not a path (lsblk was run without --paths)"
                )));
            }
            name
        }
    };
    let at = path.as_str();
    let children = match obj.get("children") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|c| device(c, at))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(bad(format!("{at}: `children` is {other}, not a list"))),
    };
    Ok(BlockDev {
        maj_min: text(obj, "maj:min", at)?,
        uuid: text(obj, "uuid", at)?,
        label: text(obj, "label", at)?,
        fstype: text(obj, "fstype", at)?,
        mountpoints: mountpoints(obj, at)?,
        hotplug: flag(obj, "hotplug", at)?,
        removable: flag(obj, "rm", at)?,
        transport: text(obj, "tran", at)?,
        size: size(obj, at)?,
        kind: text(obj, "type", at)?,
        children,
        path: PathBuf::from(path),
    })
}

/// Reads what `lsblk --json` printed: the top-level devices, with their
/// partitions in `children`.
pub fn parse_lsblk(json: &str) -> Result<Vec<BlockDev>, BadOutput> {
    let root: Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON ({e})")))?;
    let list = root
        .get("blockdevices")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `blockdevices` list".to_string()))?;
    list.iter().map(|d| device(d, "blockdevices")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/lsblk")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn this_machine_util_linux_2_38() {
        let devs = parse_lsblk(&data("vm-2.38.json")).unwrap();
        assert_eq!(devs.len(), 2);
        assert_eq!(devs[0].path, Path::new("/dev/zram0"));
        assert_eq!(devs[0].size, Some(0));
        assert!(!devs[0].has_medium());
        assert_eq!(devs[1].path, Path::new("/dev/vda"));
        assert_eq!(devs[1].maj_min.as_deref(), Some("254:0"));
        assert_eq!(devs[1].mountpoints, [PathBuf::from("/")]);
        assert_eq!(devs[1].size, Some(274_877_906_944));
        assert_eq!(devs[1].kind.as_deref(), Some("disk"));
        assert!(!devs[1].removable && !devs[1].hotplug);
        assert_eq!(devs[1].uuid, None);
    }

    #[test]
    fn usb_disk_and_rdx_dock_new_format() {
        let devs = parse_lsblk(&data("usb-rdx-2.38.json")).unwrap();
        let (sdb1, top) = find(&devs, Path::new("/dev/sdb1")).unwrap();
        assert_eq!(top.path, Path::new("/dev/sdb"));
        assert_eq!(top.transport.as_deref(), Some("usb"));
        assert!(top.hotplug);
        assert_eq!(
            sdb1.uuid.as_deref(),
            Some("5f2b7c1e-8a4d-4e0b-9a53-2c1d7e6f9b10")
        );
        assert_eq!(sdb1.label.as_deref(), Some("HOKAN-MON"));
        assert_eq!(sdb1.fstype.as_deref(), Some("ext4"));
        assert!(sdb1.mountpoints.is_empty());
        let (sdc1, rdx) = find(&devs, Path::new("/dev/sdc1")).unwrap();
        assert!(rdx.removable);
        assert_eq!(rdx.filesystem().unwrap().path, sdc1.path);
        assert_eq!(sdc1.label.as_deref(), Some("RDX-TUE"));
        assert_eq!(
            sdc1.mountpoints,
            [
                PathBuf::from("/mnt/hokan-rdx"),
                PathBuf::from("/media/nurse/RDX-TUE")
            ]
        );
        // LVM below a partition: nested twice.
        let (root, sda) = find(&devs, Path::new("/dev/mapper/vg0-root")).unwrap();
        assert_eq!(sda.path, Path::new("/dev/sda"));
        assert_eq!(root.mountpoints, [PathBuf::from("/")]);
        assert_eq!(walk_all(&devs).len(), 10);
    }

    #[test]
    fn an_empty_rdx_dock_has_no_medium() {
        let devs = parse_lsblk(&data("rdx-empty-2.38.json")).unwrap();
        let (sdc, _) = find(&devs, Path::new("/dev/sdc")).unwrap();
        assert!(sdc.removable);
        assert!(!sdc.has_medium());
        assert!(sdc.children.is_empty());
        assert_eq!(sdc.filesystem(), None);
    }

    #[test]
    fn old_format_with_strings_and_a_single_mountpoint() {
        let devs = parse_lsblk(&data("usb-rdx-2.32.json")).unwrap();
        let (sdb1, sdb) = find(&devs, Path::new("/dev/sdb1")).unwrap();
        assert!(sdb.hotplug && !sdb.removable);
        assert_eq!(sdb.size, Some(1_000_204_886_016));
        assert_eq!(
            sdb1.uuid.as_deref(),
            Some("5f2b7c1e-8a4d-4e0b-9a53-2c1d7e6f9b10")
        );
        assert_eq!(sdb1.mountpoints, [PathBuf::from("/mnt/hokan-usb")]);
        let (sdc, _) = find(&devs, Path::new("/dev/sdc")).unwrap();
        assert!(sdc.removable && sdc.hotplug);
        let (sr0, _) = find(&devs, Path::new("/dev/sr0")).unwrap();
        assert!(!sr0.has_medium());
        // Empty strings are no value.
        assert_eq!(sr0.fstype, None);
    }

    #[test]
    fn human_readable_sizes_and_flat_lists() {
        let json = r#"{"blockdevices": [
            {"path": "/dev/sdb", "size": "931.5G", "rm": 0, "hotplug": 1, "mountpoints": [null]},
            {"path": "/dev/sdc", "size": "0B", "rm": true},
            {"path": "/dev/sdd", "size": "1,8T"}
        ]}"#;
        let devs = parse_lsblk(json).unwrap();
        assert_eq!(devs[0].size, Some(1_000_190_509_056));
        assert!(devs[0].hotplug && !devs[0].removable);
        assert!(devs[0].mountpoints.is_empty());
        assert_eq!(devs[1].size, Some(0));
        assert!(devs[1].removable);
        assert_eq!(devs[2].size, Some(1_979_120_929_997));
    }

    #[test]
    fn unreadable_outputs_are_errors_that_say_why() {
        let e = parse_lsblk("lsblk: unknown column: PATH").unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
        let e = parse_lsblk(r#"{"devices": []}"#).unwrap_err();
        assert!(e.to_string().contains("blockdevices"), "{e}");
        let e = parse_lsblk(r#"{"blockdevices": [{"name": "sdb"}]}"#).unwrap_err();
        assert!(e.to_string().contains("--paths"), "{e}");
        let e =
            parse_lsblk(r#"{"blockdevices": [{"path": "/dev/sdb", "rm": "yes"}]}"#).unwrap_err();
        assert!(
            e.to_string().contains("/dev/sdb") && e.to_string().contains("rm"),
            "{e}"
        );
        let e =
            parse_lsblk(r#"{"blockdevices": [{"path": "/dev/sdb", "size": "lots"}]}"#).unwrap_err();
        assert!(e.to_string().contains("lots"), "{e}");
    }
}
