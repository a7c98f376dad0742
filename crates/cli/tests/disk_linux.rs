//! The REAL Linux removable-disk path (no simulation): an ext4 filesystem
//! image on a loop device stands for the RDX cartridge. hokan finds it with
//! lsblk, mounts it, writes and syncs its repository, unmounts it and
//! "ejects" it, where the eject command detaches the loop device (there is
//! no udev here, and `eject` refuses loop devices), then restores from it
//! alone. Needs root, losetup, lsblk and mkfs.ext4 (scripts/test.sh
//! installs them); without them it says SKIPPED loudly. The simulated
//! device's tests (tests/disk.rs) prove the rotation rules.

mod common;

use std::fs;
use std::process::Command;

use common::tape::*;
use common::*;

fn sh(args: &[&str]) -> Option<String> {
    let o = Command::new(args[0]).args(&args[1..]).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

fn can_run() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    for tool in ["losetup", "lsblk", "mkfs.ext4", "mount", "umount"] {
        if sh(&["sh", "-c", &format!("command -v {tool}")]).is_none() {
            return Err(format!("{tool} is not installed"));
        }
    }
    Ok(())
}

/// Detaches the loop device and unmounts whatever is left, even when the
/// test fails.
struct Loop {
    device: String,
    mnt: std::path::PathBuf,
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mnt).output();
        let _ = Command::new("losetup").args(["-d", &self.device]).output();
    }
}

#[test]
fn a_real_ext4_cartridge_on_a_loop_device_is_written_ejected_and_restored() {
    if let Err(why) = can_run() {
        eprintln!(
            "SKIPPED (LOUDLY): the real removable-disk test needs root and loop devices: {why}"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("rdx-mon.img");
    let mnt = tmp.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    sh(&["truncate", "-s", "64M", img.to_str().unwrap()]).unwrap();
    sh(&["mkfs.ext4", "-q", "-L", "RDX-MON", img.to_str().unwrap()]).expect("mkfs.ext4");
    let device = match sh(&["losetup", "-f", "--show", img.to_str().unwrap()]) {
        Some(d) => d,
        None => {
            eprintln!("SKIPPED (LOUDLY): losetup could not attach a loop device here");
            return;
        }
    };
    let guard = Loop {
        device: device.clone(),
        mnt: mnt.clone(),
    };
    let mut s = Site::new(&format!(
        r#"[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "1d"
mount_point = "{}"
device = "{device}"
eject_command = ["losetup", "-d", "{{device}}"]
"#,
        mnt.display()
    ));
    s.ok(0, &["disk", "format", "--pool", "rdx", "RDX-MON"]);
    s.night(1);
    let v = s.json(60, &["disk", "backup", "--pool", "rdx", "--verify"], 0);
    assert_eq!(v["medium"], "RDX-MON", "{v}");
    assert_eq!(v["simulated"], false, "{v}");
    // Unmounted, and the "drive" is empty: the loop device is detached.
    let mounted = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounted.contains(mnt.to_str().unwrap()), "{mounted}");
    assert!(
        sh(&["losetup", &device]).is_none(),
        "{device} is still attached"
    );
    assert_eq!(s.koban_of(70, "RDX-MON"), vec!["②-1-1"]);

    // The cartridge back in the same "drive"; the primary repository lost.
    sh(&["losetup", &device, img.to_str().unwrap()]).expect("re-attach");
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    s.ok(
        80,
        &[
            "disk",
            "restore",
            "--pool",
            "rdx",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &target.join("data"));
    assert!(
        sh(&["losetup", &device]).is_none(),
        "ejected after the restore"
    );
    drop(guard);
}
