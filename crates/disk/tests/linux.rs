//! The Linux disk device on a scripted system: recorded lsblk outputs and
//! mountinfo texts (`tests/data/`), device nodes that appear and vanish,
//! and commands whose answers and effects each test sets. No test touches
//! a real block device; the mount points are temporary folders.

#![cfg(target_os = "linux")]

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hokan_disk::linux::{
    Commands, LinuxDisk, LinuxDiskConfig, Output, Runner, SlotDevice, SystemView,
};
use hokan_disk::{Cartridge, DiskDevice, DiskError, Place, Slot};

fn data(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

const SDB1_UUID: &str = "5f2b7c1e-8a4d-4e0b-9a53-2c1d7e6f9b10";
const SDC1_UUID: &str = "a3e9c5d2-71b4-4f08-8e6a-0d2f4b9c1e57";
const SDD1_UUID: &str = "c81f0e4b-3a27-4d9e-b6f5-91a2d3e4c5b6";
const SDF1_UUID: &str = "e2d4a6b8-0c1e-4f35-a7b9-c0d1e2f3a4b5";

type Effect = Box<dyn FnOnce(&mut World) + Send>;

/// What a scripted command answers, and what it changes (after `after`
/// more looks at lsblk, to model udev's delay).
struct Answer {
    output: Output,
    after: usize,
    effect: Option<Effect>,
}

fn answer(output: Output, effect: impl FnOnce(&mut World) + Send + 'static) -> Answer {
    Answer {
        output,
        after: 0,
        effect: Some(Box::new(effect)),
    }
}

fn no_effect(output: Output) -> Answer {
    Answer {
        output,
        after: 0,
        effect: None,
    }
}

#[derive(Default)]
struct World {
    lsblk: String,
    mountinfo: String,
    /// Symbolic links (`/dev/disk/by-…`) to device nodes.
    links: HashMap<PathBuf, PathBuf>,
    /// Device nodes that exist.
    nodes: HashSet<PathBuf>,
    ran: Vec<Vec<String>>,
    answers: VecDeque<Answer>,
    pending: Vec<(usize, Effect)>,
    looks: usize,
}

impl World {
    fn mount(&mut self, maj_min: &str, source: &str, mount_point: &Path) {
        let id = 500 + self.mountinfo.lines().count();
        let mp = mount_point.to_str().unwrap().replace(' ', "\\040");
        self.mountinfo.push_str(&format!(
            "{id} 22 {maj_min} / {mp} rw,relatime shared:1 - ext4 {source} rw\n"
        ));
    }

    fn unmount(&mut self, mount_point: &Path) {
        let mp = mount_point.to_str().unwrap().replace(' ', "\\040");
        let kept: Vec<&str> = self
            .mountinfo
            .lines()
            .filter(|l| l.split(' ').nth(4) != Some(mp.as_str()))
            .collect();
        self.mountinfo = kept.iter().map(|l| format!("{l}\n")).collect();
    }
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<World>>);

impl Fake {
    fn new(lsblk: &str, mountinfo: &str, nodes: &[&str]) -> Fake {
        let fake = Fake::default();
        {
            let mut w = fake.world();
            w.lsblk = data(lsblk);
            w.mountinfo = data(mountinfo);
            w.nodes = nodes.iter().map(PathBuf::from).collect();
        }
        fake
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap()
    }

    fn link(&self, from: &str, to: &str) -> &Self {
        self.world().links.insert(from.into(), to.into());
        self
    }

    fn expect(&self, a: Answer) -> &Self {
        self.world().answers.push_back(a);
        self
    }

    fn ran(&self) -> Vec<Vec<String>> {
        self.world().ran.clone()
    }
}

impl Runner for Fake {
    fn run(&mut self, argv: &[String]) -> io::Result<Output> {
        let mut w = self.world();
        w.ran.push(argv.to_vec());
        let a = w
            .answers
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected command {argv:?}"));
        if let Some(effect) = a.effect {
            if a.after == 0 {
                effect(&mut w);
            } else {
                w.pending.push((a.after, effect));
            }
        }
        Ok(a.output)
    }
}

impl SystemView for Fake {
    fn lsblk(&mut self) -> io::Result<String> {
        let mut w = self.world();
        w.looks += 1;
        let pending = std::mem::take(&mut w.pending);
        for (after, effect) in pending {
            if after <= 1 {
                effect(&mut w);
            } else {
                w.pending.push((after - 1, effect));
            }
        }
        Ok(w.lsblk.clone())
    }

    fn mountinfo(&mut self) -> io::Result<String> {
        Ok(self.world().mountinfo.clone())
    }

    fn resolve(&mut self, path: &Path) -> Option<PathBuf> {
        let w = self.world();
        let target = w
            .links
            .get(path)
            .cloned()
            .unwrap_or_else(|| path.to_owned());
        w.nodes.contains(&target).then_some(target)
    }
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn quick(mut config: LinuxDiskConfig) -> LinuxDiskConfig {
    config.poll_interval = Duration::from_millis(1);
    config.activate_timeout = Duration::from_millis(200);
    config.eject_timeout = Duration::from_millis(50);
    config
}

fn disk(config: LinuxDiskConfig, fake: &Fake) -> LinuxDisk {
    LinuxDisk::new(quick(config))
        .with_runner(fake.clone())
        .with_system(fake.clone())
}

fn drive_cartridge(device: &str, uuid: &str) -> Cartridge {
    Cartridge {
        place: Place::Drive,
        device: Some(device.into()),
        uuid: Some(uuid.into()),
        fs_label: None,
        mounted_at: None,
    }
}

const USB_NODES: &[&str] = &[
    "/dev/sda",
    "/dev/sda1",
    "/dev/sdb",
    "/dev/sdb1",
    "/dev/sdc",
    "/dev/sdc1",
];

// ---------------------------------------------------------------------------
// Status

#[test]
fn status_finds_the_cartridge_by_uuid_label_or_device_path() {
    let fake = Fake::new(
        "lsblk/usb-rdx-2.38.json",
        "mountinfo/host-rdx-nas.txt",
        USB_NODES,
    );
    fake.link("/dev/disk/by-id/usb-RDX_dock", "/dev/sdc");

    let mut by_uuid = LinuxDiskConfig::new("usb0", "/mnt/hokan-usb");
    by_uuid.select.uuids = vec!["not-inserted".into(), SDB1_UUID.into()];
    let status = disk(by_uuid, &fake).status().unwrap();
    assert_eq!(status.cartridges.len(), 1);
    let c = &status.cartridges[0];
    assert_eq!(c.device.as_deref(), Some(Path::new("/dev/sdb1")));
    assert_eq!(c.fs_label.as_deref(), Some("HOKAN-MON"));
    // Mounted whole at /mnt/stacked; its bind-mounted folder does not count.
    assert_eq!(c.mounted_at.as_deref(), Some(Path::new("/mnt/stacked")));
    assert!(status.slots.is_empty());

    let mut by_label = LinuxDiskConfig::new("rdx0", "/mnt/hokan-rdx");
    by_label.select.labels = vec!["RDX-TUE".into()];
    let status = disk(by_label, &fake).status().unwrap();
    let c = status.writable().unwrap();
    assert_eq!(c.uuid.as_deref(), Some(SDC1_UUID));
    // Mounted twice (by hokan and by a desktop): the pool's mount point wins.
    assert_eq!(c.mounted_at.as_deref(), Some(Path::new("/mnt/hokan-rdx")));

    // A whole disk through a link stands for its partition's filesystem.
    let mut by_path = LinuxDiskConfig::new("rdx0", "/mnt/hokan-rdx");
    by_path.select.devices = vec!["/dev/disk/by-id/usb-RDX_dock".into()];
    let status = disk(by_path, &fake).status().unwrap();
    assert_eq!(
        status.cartridges[0].device.as_deref(),
        Some(Path::new("/dev/sdc1"))
    );
    assert!(fake.ran().is_empty());
}

#[test]
fn an_empty_rdx_dock_reports_no_cartridge() {
    let fake = Fake::new(
        "lsblk/rdx-empty-2.38.json",
        "mountinfo/vm.txt",
        &["/dev/sdc"],
    );
    fake.link("/dev/disk/by-id/usb-RDX_dock", "/dev/sdc");
    let mut config = LinuxDiskConfig::new("rdx0", "/mnt/hokan-rdx");
    config.select.devices = vec!["/dev/disk/by-id/usb-RDX_dock".into()];
    config.select.uuids = vec![SDC1_UUID.into()];
    let mut d = disk(config, &fake);
    let status = d.status().unwrap();
    assert!(status.cartridges.is_empty(), "{status:?}");
    let e = d
        .attach(&drive_cartridge("/dev/sdc1", SDC1_UUID))
        .unwrap_err();
    assert!(matches!(e, DiskError::NoCartridge { .. }), "{e}");
}

#[test]
fn old_lsblk_output_is_read_the_same_way() {
    let fake = Fake::new("lsblk/usb-rdx-2.32.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("usb0", "/mnt/hokan-usb");
    config.select.uuids = vec![SDB1_UUID.into()];
    let status = disk(config, &fake).status().unwrap();
    assert_eq!(
        status.cartridges[0].device.as_deref(),
        Some(Path::new("/dev/sdb1"))
    );
}

// ---------------------------------------------------------------------------
// Attach, detach, eject on a single drive

#[test]
fn attach_mounts_with_the_configured_argv_then_detach_and_eject_take_it_offline() {
    let dir = tempfile::tempdir().unwrap();
    let mp = dir.path().join("hokan-usb");
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("usb0", &mp);
    config.select.uuids = vec![SDB1_UUID.into()];
    config.commands.eject = strings(&["udisksctl", "power-off", "-b", "{disk}"]);
    let mut d = disk(config, &fake);

    let c = d.status().unwrap().cartridges.remove(0);
    let mp_for_mount = mp.clone();
    fake.expect(answer(Output::ok(""), move |w| {
        w.mount("8:17", "/dev/sdb1", &mp_for_mount)
    }));
    let at = d.attach(&c).unwrap();
    assert_eq!(at, mp);
    assert!(mp.is_dir(), "the mount point is created");
    assert!(d.mounted_by_us());
    let mp_s = mp.to_str().unwrap();
    assert_eq!(fake.ran(), vec![strings(&["mount", "/dev/sdb1", mp_s])]);

    // Attaching again finds it mounted and runs nothing.
    assert_eq!(d.attach(&c).unwrap(), mp);
    assert_eq!(fake.ran().len(), 1);

    d.sync(&at).unwrap();

    let mp_for_umount = mp.clone();
    fake.expect(answer(Output::ok(""), move |w| w.unmount(&mp_for_umount)));
    d.detach(&at).unwrap();
    assert_eq!(fake.ran()[1], strings(&["umount", mp_s]));
    assert!(!d.mounted_by_us());

    // Powered off: the disk and its partition vanish.
    fake.expect(answer(Output::ok(""), |w| {
        w.lsblk = data("lsblk/rdx-empty-2.38.json");
        w.nodes.remove(Path::new("/dev/sdb"));
        w.nodes.remove(Path::new("/dev/sdb1"));
    }));
    d.eject(&c, false).unwrap();
    assert_eq!(
        fake.ran()[2],
        strings(&["udisksctl", "power-off", "-b", "/dev/sdb"])
    );
}

#[test]
fn an_rdx_eject_waits_for_the_medium_to_go() {
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("rdx0", "/mnt/hokan-rdx");
    config.select.labels = vec!["RDX-TUE".into()];
    let mut d = disk(config, &fake);
    let c = d.status().unwrap().cartridges.remove(0);
    // The dock stays, with size 0, three looks after the command returns.
    fake.expect(Answer {
        output: Output::ok(""),
        after: 3,
        effect: Some(Box::new(|w: &mut World| {
            w.lsblk = data("lsblk/rdx-empty-2.38.json");
            w.nodes.remove(Path::new("/dev/sdc1"));
        })),
    });
    d.eject(&c, false).unwrap();
    assert_eq!(fake.ran(), vec![strings(&["eject", "/dev/sdc1"])]);
    assert!(fake.world().looks >= 3);
    assert!(d.status().unwrap().cartridges.is_empty());
}

#[test]
fn an_eject_that_leaves_the_medium_visible_is_an_error_the_copy_stays_online() {
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("rdx0", "/mnt/hokan-rdx");
    config.select.labels = vec!["RDX-TUE".into()];
    let mut d = disk(config, &fake);
    let c = d.status().unwrap().cartridges.remove(0);
    fake.expect(no_effect(Output::ok("")));
    let e = d.eject(&c, false).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, DiskError::Command { .. }), "{e:?}");
    assert!(text.starts_with("rdx0: `eject /dev/sdc1` failed"), "{text}");
    assert!(text.contains("did not take effect"), "{text}");
    assert!(text.contains("the copy stays online"), "{text}");
    assert!(text.contains(SDC1_UUID), "{text}");
}

#[test]
fn a_failed_eject_says_the_cartridge_stays_in() {
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("rdx0", "/mnt/hokan-rdx");
    config.select.labels = vec!["RDX-TUE".into()];
    let mut d = disk(config, &fake);
    let c = d.status().unwrap().cartridges.remove(0);
    fake.expect(no_effect(Output::failed(
        1,
        "eject: /dev/sdc1: unable to eject",
    )));
    let text = d.eject(&c, false).unwrap_err().to_string();
    assert!(
        text.contains("exit status 1: eject: /dev/sdc1: unable to eject"),
        "{text}"
    );
    assert!(text.contains("stays in the drive"), "{text}");
}

#[test]
fn a_mount_that_mounts_nothing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("usb0", dir.path());
    config.select.uuids = vec![SDB1_UUID.into()];
    let mut d = disk(config, &fake);
    fake.expect(no_effect(Output::ok("")));
    let e = d
        .attach(&drive_cartridge("/dev/sdb1", SDB1_UUID))
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("reported success but nothing is mounted at"),
        "{text}"
    );
    assert!(text.contains(dir.path().to_str().unwrap()), "{text}");
    assert!(!d.mounted_by_us());
}

#[test]
fn a_failed_mount_names_the_command_and_what_it_said() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("usb0", dir.path());
    config.select.uuids = vec![SDB1_UUID.into()];
    let mut d = disk(config, &fake);
    fake.expect(no_effect(Output::failed(
        32,
        "mount: /mnt/x: wrong fs type, bad option, bad superblock on /dev/sdb1.",
    )));
    let text = d
        .attach(&drive_cartridge("/dev/sdb1", SDB1_UUID))
        .unwrap_err()
        .to_string();
    assert!(text.starts_with("usb0: `mount /dev/sdb1 "), "{text}");
    assert!(
        text.contains("exit status 32: mount: /mnt/x: wrong fs type"),
        "{text}"
    );
    assert!(text.contains("lsblk -f /dev/sdb1"), "{text}");
}

#[test]
fn a_busy_unmount_suggests_fuser() {
    let dir = tempfile::tempdir().unwrap();
    let mp = dir.path().to_path_buf();
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("usb0", &mp);
    config.select.uuids = vec![SDB1_UUID.into()];
    let mut d = disk(config, &fake);
    let m = mp.clone();
    fake.expect(answer(Output::ok(""), move |w| {
        w.mount("8:17", "/dev/sdb1", &m)
    }));
    d.attach(&drive_cartridge("/dev/sdb1", SDB1_UUID)).unwrap();
    fake.expect(no_effect(Output::failed(
        32,
        format!("umount: {}: target is busy.", mp.display()),
    )));
    let text = d.detach(&mp).unwrap_err().to_string();
    assert!(text.contains("target is busy"), "{text}");
    assert!(
        text.contains(&format!("fuser -vm {}", mp.display())),
        "{text}"
    );
    assert!(d.mounted_by_us(), "still mounted");

    // An unmount that "succeeds" but leaves it mounted.
    fake.expect(no_effect(Output::ok("")));
    let text = d.detach(&mp).unwrap_err().to_string();
    assert!(
        text.contains("is still a mount point (of /dev/sdb1)"),
        "{text}"
    );
}

#[test]
fn a_mount_point_holding_another_filesystem_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    fake.world().mount("0:60", "tmpfs", dir.path());
    let mut config = LinuxDiskConfig::new("usb0", dir.path());
    config.select.uuids = vec![SDB1_UUID.into()];
    let mut d = disk(config, &fake);
    let e = d
        .attach(&drive_cartridge("/dev/sdb1", SDB1_UUID))
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("tmpfs is mounted here, not the cartridge (/dev/sdb1"),
        "{text}"
    );
    assert!(fake.ran().is_empty());
}

#[test]
fn a_cartridge_swapped_since_status_is_not_mounted() {
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("rdx0", "/mnt/hokan-rdx");
    config.select.labels = vec!["RDX-TUE".into()];
    let mut d = disk(config, &fake);
    let e = d
        .attach(&drive_cartridge(
            "/dev/sdc1",
            "11111111-2222-3333-4444-555555555555",
        ))
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, DiskError::Gone { .. }), "{e:?}");
    assert!(
        text.contains("now holds /dev/sdc1, label RDX-TUE"),
        "{text}"
    );
    assert!(fake.ran().is_empty());
}

#[test]
fn an_unknown_placeholder_in_a_site_command_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new("lsblk/usb-rdx-2.38.json", "mountinfo/vm.txt", USB_NODES);
    let mut config = LinuxDiskConfig::new("usb0", dir.path());
    config.select.uuids = vec![SDB1_UUID.into()];
    config.commands.mount = strings(&["mount", "{dev}", "{mount_point}"]);
    let mut d = disk(config, &fake);
    let text = d
        .attach(&drive_cartridge("/dev/sdb1", SDB1_UUID))
        .unwrap_err()
        .to_string();
    assert!(text.contains("unknown placeholder {dev}"), "{text}");
    assert!(text.contains("fix mount_command"), "{text}");
    assert!(fake.ran().is_empty());
}

#[test]
fn sync_flushes_a_folder_and_names_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new("lsblk/vm-2.38.json", "mountinfo/vm.txt", &[]);
    let mut d = disk(LinuxDiskConfig::new("usb0", dir.path()), &fake);
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    d.sync(dir.path()).unwrap();
    let gone = dir.path().join("gone");
    let e = d.sync(&gone).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, DiskError::Io { ref path, .. } if *path == gone),
        "{e:?}"
    );
    assert!(
        text.contains("usb0") && text.contains("still attached"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// A NAS share or a disk mounted by someone else

#[test]
fn a_share_already_mounted_is_used_and_left_mounted_unless_configured() {
    let mp = Path::new("/mnt/nas backup");
    let fake = Fake::new(
        "lsblk/usb-rdx-2.38.json",
        "mountinfo/host-rdx-nas.txt",
        USB_NODES,
    );
    let mut d = disk(LinuxDiskConfig::new("nas0", mp), &fake);
    let status = d.status().unwrap();
    let c = status.writable().unwrap().clone();
    assert_eq!(c.device, None);
    assert_eq!(c.mounted_at.as_deref(), Some(mp));
    assert_eq!(d.attach(&c).unwrap(), mp);
    assert!(!d.mounted_by_us());
    d.detach(mp).unwrap();
    assert!(fake.ran().is_empty(), "neither mounted nor unmounted");

    // The default eject needs a device, which a share has not.
    let text = d.eject(&c, false).unwrap_err().to_string();
    assert!(text.contains("no block device for {device}"), "{text}");
    assert!(text.contains("copy stays online"), "{text}");

    let mut config = LinuxDiskConfig::new("nas0", mp);
    config.unmount_foreign = true;
    let mut d = disk(config, &fake);
    fake.expect(answer(Output::ok(""), |w| {
        w.unmount(Path::new("/mnt/nas backup"))
    }));
    d.detach(mp).unwrap();
    assert_eq!(fake.ran(), vec![strings(&["umount", "/mnt/nas backup"])]);
}

#[test]
fn a_share_can_be_mounted_by_a_command_without_device() {
    let dir = tempfile::tempdir().unwrap();
    let mp = dir.path().to_path_buf();
    let fake = Fake::new("lsblk/vm-2.38.json", "mountinfo/vm.txt", &[]);
    let mut config = LinuxDiskConfig::new("nas0", &mp);
    config.commands.mount = strings(&["mount", "{mount_point}"]);
    config.commands.eject = strings(&["umount", "{mount_point}"]);
    let mut d = disk(config, &fake);
    assert!(d.status().unwrap().cartridges.is_empty());
    let share = Cartridge {
        place: Place::Drive,
        device: None,
        uuid: None,
        fs_label: None,
        mounted_at: None,
    };
    let m = mp.clone();
    fake.expect(answer(Output::ok(""), move |w| {
        w.mount("0:70", "//nas01/hokan", &m)
    }));
    assert_eq!(d.attach(&share).unwrap(), mp);
    assert!(d.mounted_by_us());
    let m = mp.clone();
    fake.expect(answer(Output::ok(""), move |w| w.unmount(&m)));
    d.eject(&share, false).unwrap();
    let mp_s = mp.to_str().unwrap();
    assert_eq!(
        fake.ran(),
        vec![strings(&["mount", mp_s]), strings(&["umount", mp_s])]
    );
}

#[test]
fn no_cartridge_and_nothing_mounted_says_what_to_do() {
    let fake = Fake::new("lsblk/vm-2.38.json", "mountinfo/vm.txt", &[]);
    let mut d = disk(LinuxDiskConfig::new("nas0", "/mnt/hokan-nas"), &fake);
    let share = Cartridge {
        place: Place::Drive,
        device: None,
        uuid: None,
        fs_label: None,
        mounted_at: None,
    };
    let text = d.attach(&share).unwrap_err().to_string();
    assert!(text.contains("/mnt/hokan-nas"), "{text}");
    assert!(text.contains("no selector"), "{text}");
    assert!(text.contains("mount the share"), "{text}");
}

// ---------------------------------------------------------------------------
// Autoloader

fn autoloader(fake: &Fake, mp: &Path, commands: Commands) -> LinuxDisk {
    let mut config = LinuxDiskConfig::new("rdxal", mp);
    for (slot, dev) in [(1, "sdd"), (2, "sde"), (3, "sdf"), (4, "sdg")] {
        let link = format!(
            "/dev/disk/by-path/pci-0000:00:14.0-usb-0:2:1.0-scsi-0:0:0:{}",
            slot - 1
        );
        fake.link(&link, &format!("/dev/{dev}"));
        config.slots.push(SlotDevice {
            slot,
            device: link.into(),
        });
    }
    config.commands = commands;
    disk(config, fake)
}

const AL_NODES: &[&str] = &["/dev/sda", "/dev/sda1", "/dev/sdd", "/dev/sdd1", "/dev/sde"];

fn slot_cartridge(slot: u32, active: bool, uuid: Option<&str>) -> Cartridge {
    Cartridge {
        place: Place::Slot { slot, active },
        device: None,
        uuid: uuid.map(str::to_string),
        fs_label: None,
        mounted_at: None,
    }
}

#[test]
fn autoloader_status_lists_active_inactive_and_empty_slots() {
    let fake = Fake::new(
        "lsblk/autoloader-slots-1-2.json",
        "mountinfo/vm.txt",
        AL_NODES,
    );
    let mut d = autoloader(&fake, Path::new("/mnt/hokan-rdx"), Commands::default());
    let status = d.status().unwrap();
    assert_eq!(
        status.slots,
        vec![
            Slot {
                slot: 1,
                active: true,
                occupied: Some(true)
            },
            Slot {
                slot: 2,
                active: true,
                occupied: Some(false)
            },
            Slot {
                slot: 3,
                active: false,
                occupied: None
            },
            Slot {
                slot: 4,
                active: false,
                occupied: None
            },
        ]
    );
    assert_eq!(status.cartridges.len(), 1);
    let c = &status.cartridges[0];
    assert_eq!(
        c.place,
        Place::Slot {
            slot: 1,
            active: true
        }
    );
    assert_eq!(c.uuid.as_deref(), Some(SDD1_UUID));
    assert_eq!(c.fs_label.as_deref(), Some("RDX-MON"));
}

#[test]
fn autoloader_attach_of_an_inactive_slot_without_activate_command_is_a_clear_error() {
    let fake = Fake::new(
        "lsblk/autoloader-slots-1-2.json",
        "mountinfo/vm.txt",
        AL_NODES,
    );
    let mut d = autoloader(&fake, Path::new("/mnt/hokan-rdx"), Commands::default());
    let e = d.attach(&slot_cartridge(3, false, None)).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, DiskError::Slot { slot: 3, .. }), "{e:?}");
    assert!(text.contains("no activate_command is set"), "{text}");
    assert!(text.contains("set activate_command"), "{text}");
    assert!(fake.ran().is_empty());

    let e = d.attach(&slot_cartridge(9, false, None)).unwrap_err();
    assert!(
        e.to_string().contains("configured slots are 1, 2, 3, 4"),
        "{e}"
    );
    let e = d.attach(&slot_cartridge(2, true, None)).unwrap_err();
    assert!(e.to_string().contains("the slot is empty"), "{e}");
}

#[test]
fn autoloader_slot_appearing_after_activation_is_polled_found_and_mounted() {
    let dir = tempfile::tempdir().unwrap();
    let mp = dir.path().join("rdx");
    let fake = Fake::new(
        "lsblk/autoloader-slots-1-2.json",
        "mountinfo/vm.txt",
        AL_NODES,
    );
    let commands = Commands {
        activate: Some(strings(&["rdxtool", "--activate={slot}", "{device}"])),
        ..Commands::default()
    };
    let mut d = autoloader(&fake, &mp, commands);
    // The slot's disk shows up four looks after the command returns.
    fake.expect(Answer {
        output: Output::ok(""),
        after: 4,
        effect: Some(Box::new(|w: &mut World| {
            w.lsblk = data("lsblk/autoloader-slots-1-2-3.json");
            w.nodes.insert("/dev/sdf".into());
            w.nodes.insert("/dev/sdf1".into());
        })),
    });
    let m = mp.clone();
    fake.expect(answer(Output::ok(""), move |w| {
        w.mount("8:81", "/dev/sdf1", &m)
    }));
    let at = d
        .attach(&slot_cartridge(3, false, Some(SDF1_UUID)))
        .unwrap();
    assert_eq!(at, mp);
    assert!(fake.world().looks >= 4);
    assert_eq!(
        fake.ran(),
        vec![
            strings(&[
                "rdxtool",
                "--activate=3",
                "/dev/disk/by-path/pci-0000:00:14.0-usb-0:2:1.0-scsi-0:0:0:2"
            ]),
            strings(&["mount", "/dev/sdf1", mp.to_str().unwrap()]),
        ]
    );
    let status = d.status().unwrap();
    assert_eq!(
        status.slots[2],
        Slot {
            slot: 3,
            active: true,
            occupied: Some(true)
        }
    );
    let c = status
        .cartridges
        .iter()
        .find(|c| c.uuid.as_deref() == Some(SDF1_UUID))
        .unwrap();
    assert_eq!(c.mounted_at.as_deref(), Some(mp.as_path()));
}

#[test]
fn autoloader_slot_that_never_appears_times_out_with_advice() {
    let fake = Fake::new(
        "lsblk/autoloader-slots-1-2.json",
        "mountinfo/vm.txt",
        AL_NODES,
    );
    let commands = Commands {
        activate: Some(strings(&["rdxtool", "activate", "{slot}"])),
        ..Commands::default()
    };
    let mut d = autoloader(&fake, Path::new("/mnt/hokan-rdx"), commands);
    fake.expect(no_effect(Output::ok("")));
    let e = d.attach(&slot_cartridge(4, false, None)).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, DiskError::Slot { slot: 4, .. }), "{e:?}");
    assert!(text.contains("did not appear within"), "{text}");
    assert!(text.contains("scsi-0:0:0:3"), "{text}");
}

#[test]
fn autoloader_slot_holding_another_cartridge_is_refused() {
    let fake = Fake::new(
        "lsblk/autoloader-slots-1-2.json",
        "mountinfo/vm.txt",
        AL_NODES,
    );
    let mut d = autoloader(&fake, Path::new("/mnt/hokan-rdx"), Commands::default());
    let e = d
        .attach(&slot_cartridge(1, true, Some(SDF1_UUID)))
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("not the cartridge with filesystem UUID"),
        "{text}"
    );
    assert!(text.contains("label RDX-MON"), "{text}");
    assert!(fake.ran().is_empty());
}

#[test]
fn autoloader_eject_needs_deactivate_or_export_and_checks_the_slot_went_inactive() {
    let fake = Fake::new(
        "lsblk/autoloader-slots-1-2.json",
        "mountinfo/vm.txt",
        AL_NODES,
    );
    let mut d = autoloader(&fake, Path::new("/mnt/hokan-rdx"), Commands::default());
    let c = slot_cartridge(1, true, Some(SDD1_UUID));
    let text = d.eject(&c, false).unwrap_err().to_string();
    assert!(text.contains("no deactivate_command is set"), "{text}");
    let text = d.eject(&c, true).unwrap_err().to_string();
    assert!(text.contains("no export_command is set"), "{text}");
    assert!(fake.ran().is_empty());

    let commands = Commands {
        deactivate: Some(strings(&["rdxtool", "deactivate", "{slot}"])),
        export: Some(strings(&["rdxtool", "export", "{slot}"])),
        ..Commands::default()
    };
    let mut d = autoloader(&fake, Path::new("/mnt/hokan-rdx"), commands);
    // A deactivation that leaves the slot active.
    fake.expect(no_effect(Output::ok("")));
    let text = d.eject(&c, false).unwrap_err().to_string();
    assert!(text.contains("`rdxtool deactivate 1` failed"), "{text}");
    assert!(text.contains("deactivation did not take effect"), "{text}");
    assert!(text.contains("slot 1 is still active"), "{text}");

    // One that works: the slot's disk vanishes.
    fake.expect(answer(Output::ok(""), |w| {
        let mut devs: serde_json::Value = serde_json::from_str(&w.lsblk).unwrap();
        devs["blockdevices"]
            .as_array_mut()
            .unwrap()
            .retain(|d| d["name"] != "/dev/sdd");
        w.lsblk = devs.to_string();
        w.nodes.remove(Path::new("/dev/sdd"));
        w.nodes.remove(Path::new("/dev/sdd1"));
    }));
    d.eject(&c, false).unwrap();
    assert_eq!(fake.ran()[1], strings(&["rdxtool", "deactivate", "1"]));
    assert!(!d.status().unwrap().slots[0].active);
}

#[test]
fn autoloader_refuses_to_deactivate_a_mounted_slot() {
    let fake = Fake::new(
        "lsblk/autoloader-slots-1-2.json",
        "mountinfo/vm.txt",
        AL_NODES,
    );
    fake.world()
        .mount("8:49", "/dev/sdd1", Path::new("/mnt/hokan-rdx"));
    let commands = Commands {
        export: Some(strings(&["rdxtool", "export", "{slot}"])),
        ..Commands::default()
    };
    let mut d = autoloader(&fake, Path::new("/mnt/hokan-rdx"), commands);
    let text = d
        .eject(&slot_cartridge(1, true, Some(SDD1_UUID)), true)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("still mounted at /mnt/hokan-rdx: detach it first"),
        "{text}"
    );
    assert!(fake.ran().is_empty());
}
