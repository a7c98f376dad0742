//! [`LinuxDisk`]: a single RDX drive, an RDX autoloader, a place where a
//! USB disk is plugged in, or a NAS share, as a [`DiskDevice`].
//!
//! **Finding the cartridge.** A single drive's cartridge is the first
//! block device with a medium that matches one of the [`Selectors`]: a
//! filesystem UUID (the pool's known cartridges), a filesystem label, or a
//! device path (`/dev/disk/by-label/RDX`, `/dev/sdc`; a whole disk stands
//! for the partition holding its filesystem). When none matches but the
//! mount point already has something mounted (a NAS share mounted by
//! fstab or an automounter, a disk mounted by hand), that filesystem is the
//! cartridge. An autoloader's slots are each given a device path
//! (`/dev/disk/by-path/…-lun-N`); a slot is **active** when that device
//! node exists and lsblk lists it.
//!
//! **Steps.** Each step runs a command of [`Commands`] and then checks,
//! from lsblk and mountinfo, that it took effect: `attach` that the mount
//! point now has the cartridge mounted, `detach` that it is no longer a
//! mount point, `eject` that the cartridge is no longer visible (its
//! device gone, or no medium). A command that reports success without
//! effect is an error: in particular an eject that left the cartridge
//! visible means the copy **stays online**.
//!
//! **What hokan mounted.** `attach` mounts only when the cartridge is not
//! mounted yet; a cartridge found mounted (at the mount point or elsewhere)
//! is used where it is. `detach` unmounts only what this `LinuxDisk`
//! mounted itself, unless [`LinuxDiskConfig::unmount_foreign`] is set: a
//! share mounted by fstab or a desktop's automounter is left as it was
//! found (an RDX's `eject` unmounts it anyway). The record of what hokan
//! mounted lives in memory, for the job that mounted it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::command::{self, command_line, expand, Commands, Output, ProcessRunner, Runner, Values};
use super::lsblk::{find, parse_lsblk, walk_all, BlockDev, LSBLK_ARGS};
use super::mountinfo::{mounted_at, parse_mountinfo, MountEntry};
use crate::device::{Cartridge, DiskDevice, DiskError, Place, Slot, Status};

const MOUNTINFO: &str = "/proc/self/mountinfo";

/// How hokan looks at the system: lsblk, mountinfo, device nodes. The real
/// one is [`LiveSystem`]; tests script it.
pub trait SystemView: Send {
    /// What [`LSBLK_ARGS`] printed. `Err` when it could not run or failed.
    fn lsblk(&mut self) -> io::Result<String>;
    /// The text of `/proc/self/mountinfo`.
    fn mountinfo(&mut self) -> io::Result<String>;
    /// `path` with symbolic links resolved (`/dev/disk/by-label/RDX` →
    /// `/dev/sdc1`); `None` when it does not exist.
    fn resolve(&mut self, path: &Path) -> Option<PathBuf>;
}

/// The running system: runs `lsblk`, reads `/proc/self/mountinfo`,
/// resolves paths with `realpath`.
#[derive(Clone, Debug)]
pub struct LiveSystem {
    runner: ProcessRunner,
}

impl Default for LiveSystem {
    fn default() -> Self {
        LiveSystem {
            runner: ProcessRunner::new().with_timeout(Duration::from_secs(30)),
        }
    }
}

impl SystemView for LiveSystem {
    fn lsblk(&mut self) -> io::Result<String> {
        let argv: Vec<String> = LSBLK_ARGS.iter().map(|a| a.to_string()).collect();
        let out = self.runner.run(&argv)?;
        if out.success() {
            Ok(out.stdout)
        } else {
            Err(io::Error::other(out.describe()))
        }
    }

    fn mountinfo(&mut self) -> io::Result<String> {
        fs::read_to_string(MOUNTINFO)
    }

    fn resolve(&mut self, path: &Path) -> Option<PathBuf> {
        fs::canonicalize(path).ok()
    }
}

/// Where a single drive's cartridge may be found: a block device matching
/// any of them is taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selectors {
    /// Filesystem UUIDs (of the pool's known cartridges).
    pub uuids: Vec<String>,
    /// Device paths (`/dev/disk/by-label/RDX`, `/dev/sdc`, `/dev/sdb1`).
    pub devices: Vec<PathBuf>,
    /// Filesystem labels.
    pub labels: Vec<String>,
}

impl Selectors {
    fn is_empty(&self) -> bool {
        self.uuids.is_empty() && self.devices.is_empty() && self.labels.is_empty()
    }
}

/// An autoloader slot and the device node it shows up as when active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotDevice {
    /// The slot (1-based).
    pub slot: u32,
    /// Its device (`/dev/disk/by-path/pci-0000:00:14.0-usb-0:2:1.0-scsi-0:0:0:2`).
    pub device: PathBuf,
}

/// How a [`LinuxDisk`] is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxDiskConfig {
    /// The device's name in messages and the catalog (`rdx0`).
    pub name: String,
    /// Where the cartridge is mounted (absolute).
    pub mount_point: PathBuf,
    /// Where a single drive's cartridge is found.
    pub select: Selectors,
    /// An autoloader's slots; empty for a single drive.
    pub slots: Vec<SlotDevice>,
    /// The commands of each step.
    pub commands: Commands,
    /// Also unmount, at `detach`, a filesystem hokan found mounted rather
    /// than mounted itself. Off by default.
    pub unmount_foreign: bool,
    /// How long to wait for a slot's device after the activate command.
    pub activate_timeout: Duration,
    /// How long to wait, after eject / deactivate / export, for the
    /// cartridge to go out of sight before declaring the step failed.
    pub eject_timeout: Duration,
    /// How often to look while waiting.
    pub poll_interval: Duration,
}

impl LinuxDiskConfig {
    /// A single drive `name` mounting at `mount_point`, with the default
    /// commands, no selectors (add them), 60 s to activate a slot, 30 s
    /// for an eject to take effect, looking every 500 ms.
    pub fn new(name: impl Into<String>, mount_point: impl Into<PathBuf>) -> Self {
        LinuxDiskConfig {
            name: name.into(),
            mount_point: mount_point.into(),
            select: Selectors::default(),
            slots: Vec::new(),
            commands: Commands::default(),
            unmount_foreign: false,
            activate_timeout: Duration::from_secs(60),
            eject_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// What lsblk and mountinfo said, at one moment.
struct Seen {
    devs: Vec<BlockDev>,
    mounts: Vec<MountEntry>,
}

/// A filesystem found for a cartridge, and the whole disk it is on.
#[derive(Clone, Debug)]
struct Found {
    fs: BlockDev,
    disk: PathBuf,
}

impl Found {
    fn new(fs: &BlockDev, disk: &BlockDev) -> Found {
        let mut fs = fs.clone();
        fs.children.clear();
        Found {
            fs,
            disk: disk.path.clone(),
        }
    }

    fn describe(&self) -> String {
        describe_dev(&self.fs)
    }
}

fn describe_dev(d: &BlockDev) -> String {
    let mut words = vec![d.path.display().to_string()];
    if let Some(label) = &d.label {
        words.push(format!("label {label}"));
    }
    if let Some(uuid) = &d.uuid {
        words.push(format!("UUID {uuid}"));
    }
    if let Some(size) = d.size {
        words.push(format!("{:.1} GB", size as f64 / 1e9));
    }
    words.join(", ")
}

/// The mounts of the whole filesystem on `dev` (not bind mounts of one of
/// its folders): by source path, or by device number for a block device.
fn mounts_of<'a>(mounts: &'a [MountEntry], dev: &BlockDev) -> Vec<&'a MountEntry> {
    mounts
        .iter()
        .filter(|m| m.root == Path::new("/"))
        .filter(|m| {
            Path::new(&m.source) == dev.path
                || dev
                    .maj_min
                    .as_deref()
                    .is_some_and(|mm| !mm.starts_with("0:") && mm == m.maj_min)
        })
        .collect()
}

/// The lsblk device of what `m` mounts, if it is a block device.
fn device_of_mount<'a>(devs: &'a [BlockDev], m: &MountEntry) -> Option<&'a BlockDev> {
    walk_all(devs)
        .into_iter()
        .map(|(d, _)| d)
        .find(|d| mounts_of(std::slice::from_ref(m), d).len() == 1)
}

/// A running disk device.
pub struct LinuxDisk {
    config: LinuxDiskConfig,
    runner: Box<dyn Runner>,
    system: Box<dyn SystemView>,
    mounted_by_us: bool,
}

impl std::fmt::Debug for LinuxDisk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinuxDisk")
            .field("config", &self.config)
            .field("mounted_by_us", &self.mounted_by_us)
            .finish_non_exhaustive()
    }
}

impl LinuxDisk {
    /// A device on the running system, running its commands as processes.
    pub fn new(config: LinuxDiskConfig) -> LinuxDisk {
        LinuxDisk {
            config,
            runner: Box::new(ProcessRunner::new()),
            system: Box::new(LiveSystem::default()),
            mounted_by_us: false,
        }
    }

    /// Runs the commands through `runner` instead.
    pub fn with_runner(mut self, runner: impl Runner + 'static) -> LinuxDisk {
        self.runner = Box::new(runner);
        self
    }

    /// Looks at the system through `system` instead.
    pub fn with_system(mut self, system: impl SystemView + 'static) -> LinuxDisk {
        self.system = Box::new(system);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &LinuxDiskConfig {
        &self.config
    }

    /// Whether the filesystem at the mount point was mounted by this
    /// device (and so is unmounted by `detach`).
    pub fn mounted_by_us(&self) -> bool {
        self.mounted_by_us
    }

    fn name(&self) -> String {
        self.config.name.clone()
    }

    fn is_autoloader(&self) -> bool {
        !self.config.slots.is_empty()
    }

    /// The mount point, with symbolic links resolved when it exists (as
    /// mountinfo names it).
    fn mount_point(&self) -> PathBuf {
        fs::canonicalize(&self.config.mount_point)
            .unwrap_or_else(|_| self.config.mount_point.clone())
    }

    fn io_error(&self, path: &Path, kind: io::ErrorKind, what: String) -> DiskError {
        DiskError::Io {
            path: path.to_owned(),
            source: io::Error::new(kind, format!("{}: {what}", self.config.name)),
        }
    }

    fn look(&mut self) -> Result<Seen, DiskError> {
        let lsblk_line =
            command_line(&LSBLK_ARGS.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        let json = self.system.lsblk().map_err(|e| DiskError::Command {
            device: self.name(),
            command: lsblk_line.clone(),
            detail: format!(
                "{e}: hokan needs lsblk from util-linux 2.27 or later (for --json); install util-linux"
            ),
        })?;
        let devs = parse_lsblk(&json).map_err(|e| DiskError::Command {
            device: self.name(),
            command: lsblk_line,
            detail: format!(
                "{e}: report this to hokan's maintainers with the output of the command"
            ),
        })?;
        let text = self.system.mountinfo().map_err(|e| DiskError::Io {
            path: PathBuf::from(MOUNTINFO),
            source: e,
        })?;
        let mounts = parse_mountinfo(&text).map_err(|e| {
            self.io_error(
                Path::new(MOUNTINFO),
                io::ErrorKind::InvalidData,
                format!("{e}: report this to hokan's maintainers"),
            )
        })?;
        Ok(Seen { devs, mounts })
    }

    /// Looks until `check` finds what it wants or `timeout` has passed
    /// (looking at least once).
    fn poll<T>(
        &mut self,
        timeout: Duration,
        mut check: impl FnMut(&mut Self, &Seen) -> Option<T>,
    ) -> Result<(Option<T>, Seen), DiskError> {
        let start = Instant::now();
        loop {
            let seen = self.look()?;
            if let Some(t) = check(self, &seen) {
                return Ok((Some(t), seen));
            }
            if start.elapsed() >= timeout {
                return Ok((None, seen));
            }
            std::thread::sleep(self.config.poll_interval);
        }
    }

    /// Expands and runs a step's command. `Err` when it cannot be expanded
    /// or run; a failed exit is returned for the caller to explain.
    fn run_step(
        &mut self,
        key: &str,
        template: &[String],
        values: &Values<'_>,
    ) -> Result<(String, Output), DiskError> {
        let argv = expand(template, values).map_err(|e| DiskError::Command {
            device: self.name(),
            command: command_line(template),
            detail: format!("{key}: {e}; fix {key} in the disk pool's configuration"),
        })?;
        let line = command_line(&argv);
        info!(device = %self.config.name, command = %line, "running");
        let out = self.runner.run(&argv).map_err(|e| DiskError::Command {
            device: self.name(),
            command: line.clone(),
            detail: format!("{e}; check that the program is installed, or fix {key}"),
        })?;
        Ok((line, out))
    }

    fn failed(&self, command: String, detail: String) -> DiskError {
        DiskError::Command {
            device: self.name(),
            command,
            detail,
        }
    }

    fn slot_config(&self, slot: u32) -> Result<SlotDevice, DiskError> {
        self.config
            .slots
            .iter()
            .find(|s| s.slot == slot)
            .cloned()
            .ok_or_else(|| {
                let known: Vec<String> =
                    self.config.slots.iter().map(|s| s.slot.to_string()).collect();
                DiskError::Slot {
                    device: self.name(),
                    slot,
                    detail: format!(
                        "no such slot (the configured slots are {}): add the slot and its device path to the disk pool's configuration",
                        known.join(", ")
                    ),
                }
            })
    }

    /// The lsblk device an autoloader slot shows up as, with its top-level
    /// disk, when the slot is active.
    fn slot_node(&mut self, seen: &Seen, slot: &SlotDevice) -> Option<(BlockDev, BlockDev)> {
        let resolved = self.system.resolve(&slot.device)?;
        find(&seen.devs, &resolved)
            .or_else(|| find(&seen.devs, &slot.device))
            .map(|(d, top)| (d.clone(), top.clone()))
    }

    /// The slot's filesystem, once it is active, has a medium and lsblk
    /// shows a filesystem on it.
    fn slot_filesystem(&mut self, seen: &Seen, slot: &SlotDevice) -> Option<Found> {
        let (node, top) = self.slot_node(seen, slot)?;
        let fs = node.filesystem()?;
        fs.fstype.is_some().then(|| Found::new(fs, &top))
    }

    /// The slot a cartridge is in: the one its place names, or, for a
    /// cartridge known only by its UUID, the active slot holding it.
    fn slot_of(&mut self, cartridge: &Cartridge, seen: &Seen) -> Result<SlotDevice, DiskError> {
        if let Place::Slot { slot, .. } = cartridge.place {
            return self.slot_config(slot);
        }
        if let Some(uuid) = &cartridge.uuid {
            for slot in self.config.slots.clone() {
                if let Some(found) = self.slot_filesystem(seen, &slot) {
                    if found.fs.uuid.as_ref() == Some(uuid) {
                        return Ok(slot);
                    }
                }
            }
        }
        Err(DiskError::Slot {
            device: self.name(),
            slot: 0,
            detail: "the cartridge names no slot, and no active slot holds its filesystem: say which slot it is in".into(),
        })
    }

    /// A single drive's candidates: devices with a medium matching the
    /// selectors, in lsblk's order.
    fn candidates(&mut self, seen: &Seen) -> Vec<Found> {
        let select = self.config.select.clone();
        let mut paths: Vec<PathBuf> = Vec::new();
        for device in &select.devices {
            paths.push(device.clone());
            if let Some(resolved) = self.system.resolve(device) {
                paths.push(resolved);
            }
        }
        let mut out: Vec<Found> = Vec::new();
        for (d, top) in walk_all(&seen.devs) {
            let by_path = paths.contains(&d.path);
            let by_fs = d.uuid.as_ref().is_some_and(|u| select.uuids.contains(u))
                || d.label.as_ref().is_some_and(|l| select.labels.contains(l));
            let fs = if by_path {
                d.filesystem()
            } else if by_fs && d.has_medium() {
                Some(d)
            } else {
                None
            };
            if let Some(fs) = fs {
                if !out.iter().any(|f| f.fs.path == fs.path) {
                    out.push(Found::new(fs, top));
                }
            }
        }
        out
    }

    fn cartridge(&self, seen: &Seen, found: &Found, place: Place) -> Cartridge {
        let mp = self.mount_point();
        let mounts = mounts_of(&seen.mounts, &found.fs);
        let mounted_at = mounts
            .iter()
            .find(|m| m.mount_point == mp)
            .or(mounts.first())
            .map(|m| m.mount_point.clone());
        Cartridge {
            place,
            device: Some(found.fs.path.clone()),
            uuid: found.fs.uuid.clone(),
            fs_label: found.fs.label.clone(),
            mounted_at,
        }
    }

    /// Whatever is mounted at the mount point, as a cartridge (a NAS share,
    /// a disk mounted by hand).
    fn mounted_cartridge(&self, seen: &Seen) -> Option<Cartridge> {
        let mp = self.mount_point();
        let m = mounted_at(&seen.mounts, &mp)?;
        let dev = device_of_mount(&seen.devs, m);
        Some(Cartridge {
            place: Place::Drive,
            device: dev.map(|d| d.path.clone()).or_else(|| {
                m.source
                    .starts_with("/dev/")
                    .then(|| PathBuf::from(&m.source))
            }),
            uuid: dev.and_then(|d| d.uuid.clone()),
            fs_label: dev.and_then(|d| d.label.clone()),
            mounted_at: Some(mp),
        })
    }

    /// Whether the filesystem mounted at `m` is `cartridge`'s.
    fn is_mount_of(seen: &Seen, m: &MountEntry, cartridge: &Cartridge) -> bool {
        if cartridge.device.is_none() && cartridge.uuid.is_none() {
            return true;
        }
        if cartridge
            .device
            .as_ref()
            .is_some_and(|d| Path::new(&m.source) == d)
        {
            return true;
        }
        let dev = device_of_mount(&seen.devs, m);
        cartridge.uuid.is_some() && dev.and_then(|d| d.uuid.as_ref()) == cartridge.uuid.as_ref()
    }

    /// Whether `cartridge` can still be seen by the host: its device listed
    /// with a medium, its filesystem UUID anywhere, or (a share without a
    /// device) something mounted at the mount point.
    fn still_visible(
        &mut self,
        seen: &Seen,
        cartridge: &Cartridge,
        slot: Option<&SlotDevice>,
    ) -> Option<String> {
        if let Some(slot) = slot {
            if let Some((node, _)) = self.slot_node(seen, slot) {
                if node.has_medium() {
                    return Some(format!(
                        "slot {} is still active as {}",
                        slot.slot,
                        describe_dev(&node)
                    ));
                }
            }
        }
        if let Some(device) = &cartridge.device {
            let resolved = self.system.resolve(device);
            let listed = find(&seen.devs, device)
                .or_else(|| resolved.as_deref().and_then(|r| find(&seen.devs, r)));
            if let Some((d, _)) = listed {
                if d.has_medium() {
                    return Some(describe_dev(d));
                }
            }
        }
        if let Some(uuid) = &cartridge.uuid {
            if let Some((d, _)) = walk_all(&seen.devs)
                .into_iter()
                .find(|(d, _)| d.uuid.as_ref() == Some(uuid) && d.has_medium())
            {
                return Some(describe_dev(d));
            }
        }
        if cartridge.device.is_none() && cartridge.uuid.is_none() {
            let mp = self.mount_point();
            if let Some(m) = mounted_at(&seen.mounts, &mp) {
                return Some(format!("{} is still mounted at {}", m.source, mp.display()));
            }
        }
        None
    }

    /// Mounts `found` at the mount point unless it is mounted already, and
    /// checks that it is.
    fn mount_found(
        &mut self,
        seen: &Seen,
        found: &Found,
        slot: Option<u32>,
    ) -> Result<PathBuf, DiskError> {
        let mp = self.mount_point();
        let mounts = mounts_of(&seen.mounts, &found.fs);
        if mounts.iter().any(|m| m.mount_point == mp) {
            info!(device = %self.config.name, mount_point = %mp.display(), "the cartridge is already mounted");
            return Ok(mp);
        }
        if let Some(m) = mounts.first() {
            info!(device = %self.config.name, mount_point = %m.mount_point.display(), "the cartridge is already mounted elsewhere; using it there");
            return Ok(m.mount_point.clone());
        }
        if let Some(other) = mounted_at(&seen.mounts, &mp) {
            return Err(self.io_error(
                &mp,
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} is mounted here, not the cartridge ({}): unmount it (`umount {}`) or set another mount_point",
                    other.source,
                    found.describe(),
                    mp.display()
                ),
            ));
        }
        fs::create_dir_all(&self.config.mount_point).map_err(|e| {
            self.io_error(
                &self.config.mount_point,
                e.kind(),
                format!("cannot create the mount point ({e}): create it, or check that hokan runs as root"),
            )
        })?;
        let mp = self.mount_point();
        let template = self.config.commands.mount.clone();
        let values = Values {
            device: Some(&found.fs.path),
            disk: Some(&found.disk),
            mount_point: Some(&mp),
            slot,
        };
        let (line, out) = self.run_step("mount_command", &template, &values)?;
        if !out.success() {
            return Err(self.failed(
                line,
                format!(
                    "{}; check that the cartridge is formatted (`lsblk -f {}` shows its filesystem) and that hokan runs as root, then attach again",
                    out.describe(),
                    found.fs.path.display()
                ),
            ));
        }
        let seen = self.look()?;
        match mounted_at(&seen.mounts, &mp) {
            None => Err(self.failed(
                line,
                format!(
                    "it reported success but nothing is mounted at {}: check mount_command in the disk pool's configuration",
                    mp.display()
                ),
            )),
            Some(m) if mounts_of(std::slice::from_ref(m), &found.fs).is_empty() => Err(self.failed(
                line,
                format!(
                    "it reported success but {} has {} mounted, not {}: check mount_command and unmount {} by hand",
                    mp.display(),
                    m.source,
                    found.fs.path.display(),
                    mp.display()
                ),
            )),
            Some(_) => {
                self.mounted_by_us = true;
                Ok(mp)
            }
        }
    }

    /// Attaches a share (no block device): mounts it with a mount command
    /// that needs no device, unless already mounted.
    fn attach_share(&mut self, seen: &Seen) -> Result<PathBuf, DiskError> {
        let mp = self.mount_point();
        if mounted_at(&seen.mounts, &mp).is_some() {
            return Ok(mp);
        }
        let template = self.config.commands.mount.clone();
        if command::uses(&template, "device") || command::uses(&template, "disk") {
            let what = if self.config.select.is_empty() {
                "no selector (UUID, label, device) is configured"
            } else {
                "no block device matches the selectors"
            };
            return Err(self.io_error(
                &mp,
                io::ErrorKind::NotFound,
                format!(
                    "nothing is mounted here and {what}: insert the cartridge or plug in the disk; for a NAS share, switch the NAS on and mount the share (or set mount_command to a command without {{device}} that mounts it)"
                ),
            ));
        }
        fs::create_dir_all(&self.config.mount_point).map_err(|e| {
            self.io_error(
                &self.config.mount_point,
                e.kind(),
                format!("cannot create the mount point ({e})"),
            )
        })?;
        let mp = self.mount_point();
        let values = Values {
            mount_point: Some(&mp),
            ..Values::default()
        };
        let (line, out) = self.run_step("mount_command", &template, &values)?;
        if !out.success() {
            return Err(self.failed(
                line,
                format!(
                    "{}; check that the share is reachable, then attach again",
                    out.describe()
                ),
            ));
        }
        let seen = self.look()?;
        if mounted_at(&seen.mounts, &mp).is_none() {
            return Err(self.failed(
                line,
                format!(
                    "it reported success but nothing is mounted at {}: check mount_command",
                    mp.display()
                ),
            ));
        }
        self.mounted_by_us = true;
        Ok(mp)
    }

    fn attach_slot(&mut self, cartridge: &Cartridge, seen: Seen) -> Result<PathBuf, DiskError> {
        let slot = self.slot_of(cartridge, &seen)?;
        let n = slot.slot;
        let slot_error = |this: &Self, detail: String| DiskError::Slot {
            device: this.name(),
            slot: n,
            detail,
        };
        let mut seen = seen;
        if self.slot_node(&seen, &slot).is_none() {
            let Some(template) = self.config.commands.activate.clone() else {
                return Err(slot_error(
                    self,
                    format!(
                        "the slot is not active ({} does not exist) and no activate_command is set: set activate_command to the autoloader's command that makes a slot visible to the host (with {{slot}}), or activate slot {n} on the autoloader",
                        slot.device.display()
                    ),
                ));
            };
            let mp = self.mount_point();
            let values = Values {
                device: Some(&slot.device),
                mount_point: Some(&mp),
                slot: Some(n),
                ..Values::default()
            };
            let (line, out) = self.run_step("activate_command", &template, &values)?;
            if !out.success() {
                return Err(self.failed(
                    line,
                    format!(
                        "{}; check that a cartridge is in slot {n} and the autoloader is ready, then attach again",
                        out.describe()
                    ),
                ));
            }
            let timeout = self.config.activate_timeout;
            let (found, after) =
                self.poll(timeout, |this, seen| this.slot_filesystem(seen, &slot))?;
            seen = after;
            if found.is_none() && self.slot_node(&seen, &slot).is_none() {
                return Err(slot_error(
                    self,
                    format!(
                        "`{line}` succeeded but {} did not appear within {} s: check that the cartridge is in slot {n}, the autoloader's mode, and the slot's device path in the configuration",
                        slot.device.display(),
                        timeout.as_secs()
                    ),
                ));
            }
        }
        let Some(found) = self.slot_filesystem(&seen, &slot) else {
            let (node, _) = self.slot_node(&seen, &slot).expect("the slot is active");
            let detail = if node.has_medium() {
                format!(
                    "{} holds no filesystem: format the cartridge with hokan first",
                    describe_dev(&node)
                )
            } else {
                format!(
                    "the slot is empty ({} has no medium): put the cartridge in slot {n}",
                    node.path.display()
                )
            };
            return Err(slot_error(self, detail));
        };
        if let Some(want) = &cartridge.uuid {
            if found.fs.uuid.as_ref() != Some(want) {
                return Err(slot_error(
                    self,
                    format!(
                        "holds {}, not the cartridge with filesystem UUID {want}: the cartridges were moved; look at the device's status again",
                        found.describe()
                    ),
                ));
            }
        }
        self.mount_found(&seen, &found, Some(n))
    }

    fn attach_drive(&mut self, cartridge: &Cartridge, seen: Seen) -> Result<PathBuf, DiskError> {
        if cartridge.device.is_none() && cartridge.uuid.is_none() {
            return self.attach_share(&seen);
        }
        let candidates = self.candidates(&seen);
        let chosen = if let Some(uuid) = &cartridge.uuid {
            candidates.iter().find(|f| f.fs.uuid.as_ref() == Some(uuid))
        } else {
            let device = cartridge.device.clone().expect("checked above");
            let resolved = self.system.resolve(&device);
            candidates
                .iter()
                .find(|f| f.fs.path == device || Some(&f.fs.path) == resolved.as_ref())
        };
        match chosen {
            Some(found) => {
                let found = found.clone();
                self.mount_found(&seen, &found, None)
            }
            None if candidates.is_empty() => Err(DiskError::NoCartridge { device: self.name() }),
            None => Err(DiskError::Gone {
                device: self.name(),
                detail: format!(
                    "the cartridge asked for ({}) is no longer in the drive, which now holds {}: insert it again, or look at the device's status again to use the one inserted",
                    describe_cartridge(cartridge),
                    candidates
                        .iter()
                        .map(Found::describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            }),
        }
    }

    /// Waits for `cartridge` to go out of sight after `line` ran; an error
    /// when it stays.
    fn expect_gone(
        &mut self,
        line: String,
        cartridge: &Cartridge,
        slot: Option<&SlotDevice>,
        what: &str,
    ) -> Result<(), DiskError> {
        let timeout = self.config.eject_timeout;
        let slot = slot.cloned();
        let (gone, seen) = self.poll(timeout, |this, seen| {
            this.still_visible(seen, cartridge, slot.as_ref())
                .is_none()
                .then_some(())
        })?;
        if gone.is_some() {
            return Ok(());
        }
        let visible = self
            .still_visible(&seen, cartridge, slot.as_ref())
            .unwrap_or_default();
        Err(self.failed(
            line,
            format!(
                "it reported success but the cartridge is still visible after {} s ({visible}): the {what} did not take effect and the copy stays online; take the cartridge out by hand and check the command in the disk pool's configuration",
                timeout.as_secs()
            ),
        ))
    }
}

fn describe_cartridge(c: &Cartridge) -> String {
    let mut words = Vec::new();
    if let Some(d) = &c.device {
        words.push(d.display().to_string());
    }
    if let Some(l) = &c.fs_label {
        words.push(format!("label {l}"));
    }
    if let Some(u) = &c.uuid {
        words.push(format!("UUID {u}"));
    }
    if words.is_empty() {
        "the filesystem at the mount point".into()
    } else {
        words.join(", ")
    }
}

/// Whether umount's message says a process holds the filesystem
/// (util-linux ≥ 2.23: "target is busy"; older: "device is busy").
pub fn is_busy(stderr: &str) -> bool {
    stderr.contains("target is busy") || stderr.contains("device is busy")
}

impl DiskDevice for LinuxDisk {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn status(&mut self) -> Result<Status, DiskError> {
        let seen = self.look()?;
        let mut status = Status::default();
        if self.is_autoloader() {
            for slot in self.config.slots.clone() {
                let node = self.slot_node(&seen, &slot);
                status.slots.push(Slot {
                    slot: slot.slot,
                    active: node.is_some(),
                    occupied: node.as_ref().map(|(n, _)| n.has_medium()),
                });
                if let Some(found) = self.slot_filesystem(&seen, &slot) {
                    let place = Place::Slot {
                        slot: slot.slot,
                        active: true,
                    };
                    status.cartridges.push(self.cartridge(&seen, &found, place));
                }
            }
        } else if let Some(found) = self.candidates(&seen).first() {
            status
                .cartridges
                .push(self.cartridge(&seen, found, Place::Drive));
        } else if let Some(c) = self.mounted_cartridge(&seen) {
            status.cartridges.push(c);
        }
        Ok(status)
    }

    fn attach(&mut self, cartridge: &Cartridge) -> Result<PathBuf, DiskError> {
        let seen = self.look()?;
        let mp = self.mount_point();
        if let Some(m) = mounted_at(&seen.mounts, &mp) {
            if Self::is_mount_of(&seen, m, cartridge) {
                info!(device = %self.config.name, mount_point = %mp.display(), "already mounted; not mounting again");
                return Ok(mp);
            }
        }
        if self.is_autoloader() {
            self.attach_slot(cartridge, seen)
        } else {
            self.attach_drive(cartridge, seen)
        }
    }

    fn sync(&mut self, path: &Path) -> Result<(), DiskError> {
        use std::os::fd::AsRawFd;
        let dir = fs::File::open(path).map_err(|e| {
            self.io_error(
                path,
                e.kind(),
                format!(
                    "cannot open it to sync the cartridge ({e}): is the cartridge still attached?"
                ),
            )
        })?;
        // SAFETY: the descriptor is open for the duration of the call.
        let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            return Err(self.io_error(
                path,
                e.kind(),
                format!(
                    "syncfs failed ({e}): what was written may not be on the cartridge; check the cartridge and the system log (`journalctl -k`), then run the job again"
                ),
            ));
        }
        Ok(())
    }

    fn detach(&mut self, path: &Path) -> Result<(), DiskError> {
        let seen = self.look()?;
        let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let ours_at = self.mount_point();
        let Some(m) = mounted_at(&seen.mounts, &target).cloned() else {
            info!(device = %self.config.name, path = %target.display(), "nothing mounted; nothing to unmount");
            if target == ours_at {
                self.mounted_by_us = false;
            }
            return Ok(());
        };
        let ours = self.mounted_by_us && target == ours_at;
        if !ours && !self.config.unmount_foreign {
            info!(
                device = %self.config.name,
                path = %target.display(),
                "left mounted: hokan did not mount it (set unmount_foreign to unmount it anyway)"
            );
            return Ok(());
        }
        let template = self.config.commands.unmount.clone();
        let source = m
            .source
            .starts_with("/dev/")
            .then(|| PathBuf::from(&m.source));
        let values = Values {
            device: source.as_deref(),
            disk: None,
            mount_point: Some(&target),
            slot: None,
        };
        let (line, out) = self.run_step("unmount_command", &template, &values)?;
        if !out.success() {
            let detail = if is_busy(&out.stderr) {
                format!(
                    "{}: a process still uses the cartridge; find it with `fuser -vm {}`, stop it, then detach again",
                    out.describe(),
                    target.display()
                )
            } else {
                format!(
                    "{}; unmount it by hand (`umount {}`) and check unmount_command",
                    out.describe(),
                    target.display()
                )
            };
            return Err(self.failed(line, detail));
        }
        let seen = self.look()?;
        if let Some(still) = mounted_at(&seen.mounts, &target) {
            return Err(self.failed(
                line,
                format!(
                    "it reported success but {} is still a mount point (of {}): unmount it by hand (`umount {}`) and check unmount_command",
                    target.display(),
                    still.source,
                    target.display()
                ),
            ));
        }
        if target == ours_at {
            self.mounted_by_us = false;
        }
        Ok(())
    }

    fn eject(&mut self, cartridge: &Cartridge, export: bool) -> Result<(), DiskError> {
        let seen = self.look()?;
        let mp = self.mount_point();
        if self.is_autoloader() {
            let slot = self.slot_of(cartridge, &seen)?;
            let (key, what, template) = if export {
                (
                    "export_command",
                    "export",
                    self.config.commands.export.clone(),
                )
            } else {
                (
                    "deactivate_command",
                    "deactivation",
                    self.config.commands.deactivate.clone(),
                )
            };
            let Some(template) = template else {
                return Err(DiskError::Slot {
                    device: self.name(),
                    slot: slot.slot,
                    detail: format!(
                        "no {key} is set: set {key} to the autoloader's command (with {{slot}}); until then the cartridge stays reachable and the copy stays online"
                    ),
                });
            };
            if let Some(found) = self.slot_filesystem(&seen, &slot) {
                if let Some(m) = mounts_of(&seen.mounts, &found.fs).first() {
                    return Err(DiskError::Slot {
                        device: self.name(),
                        slot: slot.slot,
                        detail: format!(
                            "{} is still mounted at {}: detach it first",
                            found.fs.path.display(),
                            m.mount_point.display()
                        ),
                    });
                }
            }
            let disk = self.slot_node(&seen, &slot).map(|(_, top)| top.path);
            let values = Values {
                device: Some(&slot.device),
                disk: disk.as_deref(),
                mount_point: Some(&mp),
                slot: Some(slot.slot),
            };
            let (line, out) = self.run_step(key, &template, &values)?;
            if !out.success() {
                return Err(self.failed(
                    line,
                    format!(
                        "{}: the cartridge stays in an active slot and the copy stays online; check the autoloader, then eject again",
                        out.describe()
                    ),
                ));
            }
            return self.expect_gone(line, cartridge, Some(&slot), what);
        }

        // A single drive, a USB disk, a share.
        if self.still_visible(&seen, cartridge, None).is_none() {
            info!(device = %self.config.name, "the cartridge is already out of sight; nothing to eject");
            return Ok(());
        }
        let current = if cartridge.device.is_none() && cartridge.uuid.is_none() {
            None
        } else {
            let candidates = self.candidates(&seen);
            candidates
                .into_iter()
                .find(|f| {
                    (cartridge.uuid.is_some() && f.fs.uuid == cartridge.uuid)
                        || cartridge.device.as_ref() == Some(&f.fs.path)
                })
                .or_else(|| {
                    // A cartridge found mounted but matching no selector.
                    walk_all(&seen.devs).into_iter().find_map(|(d, top)| {
                        let same = cartridge.device.as_ref() == Some(&d.path)
                            || (cartridge.uuid.is_some() && d.uuid == cartridge.uuid);
                        same.then(|| Found::new(d, top))
                    })
                })
        };
        let template = self.config.commands.eject.clone();
        if current.is_none()
            && (command::uses(&template, "device") || command::uses(&template, "disk"))
        {
            return Err(self.failed(
                command_line(&template),
                "the cartridge has no block device for {device}: for a NAS share set eject_command to a command that takes it offline (with {mount_point} or none); until then the copy stays online".into(),
            ));
        }
        let values = Values {
            device: current.as_ref().map(|f| f.fs.path.as_path()),
            disk: current.as_ref().map(|f| f.disk.as_path()),
            mount_point: Some(&mp),
            slot: None,
        };
        let (line, out) = self.run_step("eject_command", &template, &values)?;
        if !out.success() {
            let hint = if is_busy(&out.stderr) {
                format!(
                    "; a process still uses the cartridge: find it with `fuser -vm {}`",
                    mp.display()
                )
            } else {
                String::new()
            };
            return Err(self.failed(
                line,
                format!(
                    "{}{hint}: the cartridge stays in the drive and the copy stays online; take it out by hand (the drive's eject button) or fix the cause and eject again",
                    out.describe()
                ),
            ));
        }
        let cartridge = Cartridge {
            device: current
                .as_ref()
                .map(|f| f.fs.path.clone())
                .or_else(|| cartridge.device.clone()),
            ..cartridge.clone()
        };
        if self.mounted_by_us && mounted_at(&seen.mounts, &mp).is_some() {
            warn!(device = %self.config.name, "ejected while still mounted by hokan");
        }
        let result = self.expect_gone(line, &cartridge, None, "eject");
        if result.is_ok() {
            self.mounted_by_us = false;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(maj_min: &str, root: &str, source: &str, mp: &str) -> MountEntry {
        MountEntry {
            id: 1,
            parent: 0,
            maj_min: maj_min.into(),
            root: root.into(),
            mount_point: mp.into(),
            options: "rw".into(),
            fstype: "ext4".into(),
            source: source.into(),
        }
    }

    #[test]
    fn mounts_match_by_source_or_device_number_but_not_bind_mounts() {
        let dev = BlockDev {
            path: "/dev/sdc1".into(),
            maj_min: Some("8:33".into()),
            ..BlockDev::default()
        };
        let mounts = [
            entry("8:33", "/", "/dev/sdc1", "/mnt/a"),
            // Mounted under another name of the device: same device number.
            entry("8:33", "/", "/dev/disk/by-label/RDX", "/mnt/b"),
            // A bind mount of one folder is not the cartridge's root.
            entry("8:33", "/hokan", "/dev/sdc1", "/mnt/c"),
            entry("8:17", "/", "/dev/sdb1", "/mnt/d"),
        ];
        let found: Vec<_> = mounts_of(&mounts, &dev)
            .iter()
            .map(|m| m.mount_point.clone())
            .collect();
        assert_eq!(found, [PathBuf::from("/mnt/a"), PathBuf::from("/mnt/b")]);
        // Anonymous device numbers (network shares, btrfs) never match.
        let share = BlockDev {
            path: "/dev/sdx".into(),
            maj_min: Some("0:58".into()),
            ..BlockDev::default()
        };
        assert!(mounts_of(&[entry("0:58", "/", "//nas/x", "/mnt/n")], &share).is_empty());
    }

    #[test]
    fn busy_messages_of_old_and_new_umount() {
        assert!(is_busy("umount: /mnt/hokan-rdx: target is busy."));
        assert!(is_busy("umount: /mnt/hokan-rdx: device is busy."));
        assert!(!is_busy("umount: /mnt/hokan-rdx: not mounted."));
    }

    #[test]
    fn devices_are_described_with_label_uuid_and_size() {
        let dev = BlockDev {
            path: "/dev/sdc1".into(),
            label: Some("RDX-TUE".into()),
            uuid: Some("a3e9".into()),
            size: Some(2_000_397_885_440),
            ..BlockDev::default()
        };
        assert_eq!(
            describe_dev(&dev),
            "/dev/sdc1, label RDX-TUE, UUID a3e9, 2000.4 GB"
        );
    }
}
