//! The SIMULATED removable-disk device: a single RDX drive (or a place
//! where a USB disk is plugged in) or an RDX autoloader, kept in a folder.
//! Tests and the demo use it; nothing here touches real devices.
//!
//! ```text
//! <dir>/state.json      the device: its shape, where each cartridge is
//! <dir>/lock            flock(2) around every change of the state
//! <dir>/media/<ID>/     the filesystem of a cartridge the host can reach
//!                       (in the drive, or in the active slot)
//! <dir>/away/<ID>/      the filesystem of every other cartridge (ejected,
//!                       in an inactive slot, exported, pulled out)
//! ```
//!
//! A cartridge's folder moves between `media/` and `away/` as it comes
//! within and out of the host's reach, so a writer that still holds the old
//! path fails as it would when a disk is pulled out: [`Sim::pull`] moves it
//! away in the middle of a job. [`Sim::fail_next_eject`] makes the next
//! eject fail, as a jammed drive or a busy disk would.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::device::{Cartridge, DiskDevice, DiskError, Place, Slot, Status};

const STATE: &str = "state.json";
const LOCK: &str = "lock";
const MEDIA: &str = "media";
const AWAY: &str = "away";

/// The shape of a simulated device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Shape {
    /// One drive (RDX drive, USB dock, NAS share).
    Drive,
    /// An autoloader with this many slots.
    Autoloader {
        /// Slots.
        slots: u32,
    },
}

/// Where a simulated cartridge is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Where {
    /// In the drive.
    Drive,
    /// In an autoloader slot.
    Slot {
        /// The slot.
        slot: u32,
    },
    /// Out of the device: ejected, exported or pulled out; on a shelf.
    Outside,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SimCartridge {
    id: String,
    uuid: String,
    at: Where,
    /// Mounted (attached) now.
    mounted: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct State {
    name: String,
    shape: Shape,
    /// The active slot of an autoloader.
    active: Option<u32>,
    cartridges: Vec<SimCartridge>,
    /// The next eject fails (once).
    fail_next_eject: bool,
    /// Pull the mounted cartridge out once a job has written this many
    /// more bytes to it (once).
    #[serde(default)]
    pull_after: Option<u64>,
    /// Every eject and export that took effect, in order: (cartridge, what).
    ejects: Vec<(String, String)>,
}

impl State {
    fn get(&mut self, id: &str) -> Option<&mut SimCartridge> {
        self.cartridges.iter_mut().find(|c| c.id == id)
    }

    fn at(&self, w: Where) -> Option<&SimCartridge> {
        self.cartridges.iter().find(|c| c.at == w)
    }

    /// Whether the host can reach a cartridge there.
    fn reachable(&self, w: Where) -> bool {
        match w {
            Where::Drive => true,
            Where::Slot { slot } => self.active == Some(slot),
            Where::Outside => false,
        }
    }
}

/// A simulated device in a folder: both the person's side (insert, take
/// out, pull) and the host's side ([`DiskDevice`], through [`VirtualDisk`]).
pub struct Sim {
    dir: PathBuf,
}

fn io_err(path: &Path, source: io::Error) -> DiskError {
    DiskError::Io {
        path: path.to_owned(),
        source,
    }
}

struct Locked(File);

impl Drop for Locked {
    fn drop(&mut self) {
        // SAFETY: flock on a descriptor we own; no memory involved.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

impl Sim {
    /// Creates a simulated device named `name` in `dir` (which must not
    /// hold one yet).
    pub fn create(dir: &Path, name: &str, shape: Shape) -> Result<Sim, DiskError> {
        if dir.join(STATE).exists() {
            return Err(DiskError::State {
                path: dir.join(STATE),
                detail: "a simulated device already exists here".into(),
            });
        }
        for sub in [MEDIA, AWAY] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| io_err(&dir.join(sub), e))?;
        }
        let sim = Sim {
            dir: dir.to_owned(),
        };
        sim.save(&State {
            name: name.to_owned(),
            shape,
            active: None,
            cartridges: Vec::new(),
            fail_next_eject: false,
            pull_after: None,
            ejects: Vec::new(),
        })?;
        Ok(sim)
    }

    /// Opens the simulated device in `dir`.
    pub fn open(dir: &Path) -> Result<Sim, DiskError> {
        if !dir.join(STATE).is_file() {
            return Err(DiskError::State {
                path: dir.to_owned(),
                detail: "no simulated disk device here: create it with `hokan disk sim create`"
                    .into(),
            });
        }
        Ok(Sim {
            dir: dir.to_owned(),
        })
    }

    fn lock(&self) -> Result<Locked, DiskError> {
        let path = self.dir.join(LOCK);
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        loop {
            // SAFETY: flock on a descriptor we own; no memory involved.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Locked(f));
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(io_err(&path, e));
            }
        }
    }

    fn load(&self) -> Result<State, DiskError> {
        let path = self.dir.join(STATE);
        let bytes = fs::read(&path).map_err(|e| io_err(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| DiskError::State {
            path,
            detail: format!("damaged simulation state ({e})"),
        })
    }

    fn save(&self, state: &State) -> Result<(), DiskError> {
        let path = self.dir.join(STATE);
        let tmp = self.dir.join(format!("{STATE}.tmp"));
        let mut json = serde_json::to_vec_pretty(state).expect("the state serializes");
        json.push(b'\n');
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| io_err(&path, e))
    }

    /// Reads the state, applies `change` and saves it, under the lock.
    fn update<R>(
        &self,
        change: impl FnOnce(&mut State, &Path) -> Result<R, DiskError>,
    ) -> Result<R, DiskError> {
        let _l = self.lock()?;
        let mut state = self.load()?;
        let r = change(&mut state, &self.dir)?;
        self.save(&state)?;
        Ok(r)
    }

    /// The device's name.
    pub fn name(&self) -> Result<String, DiskError> {
        Ok(self.load()?.name)
    }

    /// The folder of the simulation.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A person inserts cartridge `id` (a new, empty one with a fresh
    /// filesystem UUID if the simulation has not seen it) into the drive or
    /// into `slot` (the first free slot when `None`). Returns where it went.
    pub fn insert(&self, id: &str, slot: Option<u32>) -> Result<Where, DiskError> {
        let name = self.name()?;
        self.update(|s, dir| {
            let to = match s.shape {
                Shape::Drive => {
                    if let Some(c) = s.at(Where::Drive) {
                        return Err(busy(&name, &format!("{} is in the drive", c.id)));
                    }
                    Where::Drive
                }
                Shape::Autoloader { slots } => {
                    let n = match slot {
                        Some(n) => n,
                        None => (1..=slots)
                            .find(|n| s.at(Where::Slot { slot: *n }).is_none())
                            .ok_or_else(|| busy(&name, "every slot is full"))?,
                    };
                    if n == 0 || n > slots {
                        return Err(DiskError::Slot {
                            device: name.clone(),
                            slot: n,
                            detail: format!("no such slot (1 to {slots})"),
                        });
                    }
                    if let Some(c) = s.at(Where::Slot { slot: n }) {
                        return Err(DiskError::Slot {
                            device: name.clone(),
                            slot: n,
                            detail: format!("{} is in it", c.id),
                        });
                    }
                    Where::Slot { slot: n }
                }
            };
            if s.get(id).is_none() {
                let away = dir.join(AWAY).join(id);
                fs::create_dir_all(&away).map_err(|e| io_err(&away, e))?;
                s.cartridges.push(SimCartridge {
                    id: id.to_owned(),
                    uuid: new_uuid(id),
                    at: Where::Outside,
                    mounted: false,
                });
            }
            let c = s.get(id).expect("added above");
            if c.at != Where::Outside {
                return Err(busy(&name, &format!("{id} is already inside")));
            }
            c.at = to;
            let reachable = s.reachable(to);
            place_folder(dir, id, reachable)?;
            Ok(to)
        })
    }

    /// A person takes cartridge `id` out of the autoloader's slot (a single
    /// drive's cartridge leaves it when ejected). Only an unmounted
    /// cartridge in an inactive slot can be taken out by hand.
    pub fn take_out(&self, id: &str) -> Result<(), DiskError> {
        let name = self.name()?;
        self.update(|s, dir| {
            let active = s.active;
            let c = s
                .get(id)
                .ok_or_else(|| busy(&name, &format!("{id} is not known")))?;
            match c.at {
                Where::Outside => return Ok(()),
                Where::Slot { slot } if active != Some(slot) => {}
                _ => {
                    return Err(busy(
                        &name,
                        &format!("{id} is in use by the host: eject it first"),
                    ))
                }
            }
            c.at = Where::Outside;
            place_folder(dir, id, false)
        })
    }

    /// A person pulls cartridge `id` out whatever the host is doing with it
    /// (the cartridge's folder disappears from under any writer).
    pub fn pull(&self, id: &str) -> Result<(), DiskError> {
        let name = self.name()?;
        self.update(|s, dir| {
            let c = s
                .get(id)
                .ok_or_else(|| busy(&name, &format!("{id} is not known")))?;
            c.at = Where::Outside;
            c.mounted = false;
            place_folder(dir, id, false)
        })
    }

    /// Pulls the mounted cartridge out once a job has written `bytes` more
    /// to it (a person pulling it in the middle of a job).
    pub fn pull_after(&self, bytes: u64) -> Result<(), DiskError> {
        self.update(|s, _| {
            s.pull_after = Some(bytes);
            Ok(())
        })
    }

    /// Makes the next eject or export fail.
    pub fn fail_next_eject(&self) -> Result<(), DiskError> {
        self.update(|s, _| {
            s.fail_next_eject = true;
            Ok(())
        })
    }

    /// Where cartridge `id` is, if the simulation knows it.
    pub fn where_is(&self, id: &str) -> Result<Option<Where>, DiskError> {
        Ok(self
            .load()?
            .cartridges
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.at))
    }

    /// The ejects and exports that took effect: (cartridge, "eject" |
    /// "deactivate" | "export").
    pub fn ejects(&self) -> Result<Vec<(String, String)>, DiskError> {
        Ok(self.load()?.ejects)
    }

    /// The folder of cartridge `id`'s filesystem, wherever it is (for
    /// tests that look at or damage a cartridge).
    pub fn folder(&self, id: &str) -> Result<PathBuf, DiskError> {
        let s = self.load()?;
        let c = s
            .cartridges
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| busy(&s.name, &format!("{id} is not known")))?;
        Ok(folder(&self.dir, id, s.reachable(c.at)))
    }

    /// The host's side of this simulation.
    pub fn device(&self) -> Result<VirtualDisk, DiskError> {
        Ok(VirtualDisk {
            name: self.name()?,
            sim: Sim {
                dir: self.dir.clone(),
            },
        })
    }
}

fn busy(device: &str, detail: &str) -> DiskError {
    DiskError::State {
        path: PathBuf::from(device),
        detail: detail.to_owned(),
    }
}

/// A stable made-up filesystem UUID for a simulated cartridge.
fn new_uuid(id: &str) -> String {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{:08x}-{:04x}-sim", h >> 32, h & 0xffff)
}

fn folder(dir: &Path, id: &str, reachable: bool) -> PathBuf {
    dir.join(if reachable { MEDIA } else { AWAY }).join(id)
}

/// Moves the cartridge's folder to where its reachability says.
fn place_folder(dir: &Path, id: &str, reachable: bool) -> Result<(), DiskError> {
    let want = folder(dir, id, reachable);
    let other = folder(dir, id, !reachable);
    if other.exists() && !want.exists() {
        fs::rename(&other, &want).map_err(|e| io_err(&want, e))?;
    }
    Ok(())
}

/// The host's side of a simulated device.
pub struct VirtualDisk {
    name: String,
    sim: Sim,
}

impl VirtualDisk {
    /// The simulation behind it.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }
}

fn cartridge_id(c: &Cartridge) -> Option<&str> {
    // The simulation names the filesystem after the cartridge.
    c.fs_label.as_deref()
}

impl DiskDevice for VirtualDisk {
    fn name(&self) -> &str {
        &self.name
    }

    fn simulated(&self) -> bool {
        true
    }

    fn status(&mut self) -> Result<Status, DiskError> {
        let s = self.sim.load()?;
        let mut st = Status::default();
        if let Shape::Autoloader { slots } = s.shape {
            for n in 1..=slots {
                st.slots.push(Slot {
                    slot: n,
                    active: s.active == Some(n),
                    occupied: Some(s.at(Where::Slot { slot: n }).is_some()),
                });
            }
        }
        for c in &s.cartridges {
            let place = match c.at {
                Where::Drive => Place::Drive,
                Where::Slot { slot } => Place::Slot {
                    slot,
                    active: s.active == Some(slot),
                },
                Where::Outside => continue,
            };
            let reachable = s.reachable(c.at);
            st.cartridges.push(Cartridge {
                place,
                device: None,
                uuid: Some(c.uuid.clone()),
                fs_label: Some(c.id.clone()),
                mounted_at: (c.mounted && reachable).then(|| folder(&self.sim.dir, &c.id, true)),
            });
        }
        Ok(st)
    }

    fn attach(&mut self, cartridge: &Cartridge) -> Result<PathBuf, DiskError> {
        let id = cartridge_id(cartridge)
            .ok_or_else(|| busy(&self.name, "not a cartridge of this simulation"))?
            .to_owned();
        let name = self.name.clone();
        self.sim.update(|s, dir| {
            let at = s
                .get(&id)
                .map(|c| c.at)
                .filter(|w| *w != Where::Outside)
                .ok_or_else(|| DiskError::Gone {
                    device: name.clone(),
                    detail: format!("{id} is no longer in the device"),
                })?;
            if let Where::Slot { slot } = at {
                if s.active != Some(slot) {
                    // One active slot at a time: the one before goes inactive.
                    if let Some(old) = s.active {
                        if let Some(c) = s
                            .cartridges
                            .iter_mut()
                            .find(|c| c.at == (Where::Slot { slot: old }))
                        {
                            c.mounted = false;
                            let old_id = c.id.clone();
                            place_folder(dir, &old_id, false)?;
                        }
                    }
                    s.active = Some(slot);
                }
            }
            let c = s.get(&id).expect("checked above");
            c.mounted = true;
            place_folder(dir, &id, true)?;
            Ok(folder(dir, &id, true))
        })
    }

    fn sync(&mut self, path: &Path) -> Result<(), DiskError> {
        let f = File::open(path).map_err(|e| DiskError::Gone {
            device: self.name.clone(),
            detail: format!("{}: {e}", path.display()),
        })?;
        // SAFETY: syncfs on a descriptor we own; no memory involved.
        if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
            return Err(io_err(path, io::Error::last_os_error()));
        }
        Ok(())
    }

    fn written(&mut self, path: &Path, bytes: u64) -> Result<(), DiskError> {
        let id = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.sim.update(|s, dir| {
            let Some(left) = s.pull_after else {
                return Ok(());
            };
            if bytes < left {
                s.pull_after = Some(left - bytes);
                return Ok(());
            }
            s.pull_after = None;
            if let Some(c) = s.get(&id) {
                c.at = Where::Outside;
                c.mounted = false;
                place_folder(dir, &id, false)?;
            }
            Ok(())
        })
    }

    fn detach(&mut self, path: &Path) -> Result<(), DiskError> {
        let id = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.sim.update(|s, _| {
            if let Some(c) = s.get(&id) {
                c.mounted = false;
            }
            Ok(())
        })
    }

    fn eject(&mut self, cartridge: &Cartridge, export: bool) -> Result<(), DiskError> {
        let id = cartridge_id(cartridge)
            .ok_or_else(|| busy(&self.name, "not a cartridge of this simulation"))?
            .to_owned();
        let name = self.name.clone();
        let failed = self
            .sim
            .update(|s, _| Ok(std::mem::take(&mut s.fail_next_eject)))?;
        self.sim.update(|s, dir| {
            if failed {
                return Err(DiskError::Command {
                    device: name.clone(),
                    command: "eject (simulated)".into(),
                    detail: "the simulated drive refused to eject (as a jammed drive or a busy disk would)".into(),
                });
            }
            let active = s.active;
            let c = s.get(&id).ok_or_else(|| DiskError::Gone {
                device: name.clone(),
                detail: format!("{id} is no longer in the device"),
            })?;
            c.mounted = false;
            let what = match (c.at, export) {
                (Where::Drive, _) => {
                    c.at = Where::Outside;
                    "eject"
                }
                (Where::Slot { slot }, true) => {
                    c.at = Where::Outside;
                    // The slot is empty now: nothing in it is active.
                    if active == Some(slot) {
                        s.active = None;
                    }
                    "export"
                }
                (Where::Slot { slot }, false) => {
                    if active == Some(slot) {
                        s.active = None;
                    }
                    "deactivate"
                }
                (Where::Outside, _) => return Ok(()),
            };
            place_folder(dir, &id, false)?;
            s.ejects.push((id.clone(), what.to_owned()));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(d: &mut VirtualDisk) -> Cartridge {
        d.status().unwrap().cartridges.remove(0)
    }

    #[test]
    fn a_drive_holds_one_cartridge_and_eject_takes_it_out_of_reach() {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::create(dir.path(), "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-MON", None).unwrap();
        assert!(
            sim.insert("RDX-TUE", None).is_err(),
            "one cartridge per drive"
        );
        let mut d = sim.device().unwrap();
        let c = first(&mut d);
        assert_eq!(c.place, Place::Drive);
        let root = d.attach(&c).unwrap();
        fs::write(root.join("f"), b"x").unwrap();
        d.sync(&root).unwrap();
        d.detach(&root).unwrap();
        d.eject(&c, false).unwrap();
        assert!(!root.exists(), "out of the host's reach");
        assert_eq!(sim.where_is("RDX-MON").unwrap(), Some(Where::Outside));
        assert!(d.status().unwrap().cartridges.is_empty());
        // Inserted again: its data is still there.
        sim.insert("RDX-MON", None).unwrap();
        let c = first(&mut d);
        let root = d.attach(&c).unwrap();
        assert_eq!(fs::read(root.join("f")).unwrap(), b"x");
        assert_eq!(sim.ejects().unwrap(), [("RDX-MON".into(), "eject".into())]);
    }

    #[test]
    fn an_autoloader_has_one_active_slot_and_inactive_slots_are_out_of_reach() {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::create(dir.path(), "ql0", Shape::Autoloader { slots: 4 }).unwrap();
        assert_eq!(sim.insert("A", None).unwrap(), Where::Slot { slot: 1 });
        assert_eq!(sim.insert("B", Some(3)).unwrap(), Where::Slot { slot: 3 });
        let mut d = sim.device().unwrap();
        let st = d.status().unwrap();
        assert!(st.writable().is_none(), "no slot is active yet");
        let b = st
            .cartridges
            .iter()
            .find(|c| c.fs_label.as_deref() == Some("B"))
            .unwrap()
            .clone();
        let root_b = d.attach(&b).unwrap();
        let st = d.status().unwrap();
        assert_eq!(st.writable().unwrap().fs_label.as_deref(), Some("B"));
        assert_eq!(st.slots.iter().filter(|s| s.active).count(), 1);
        let a = st
            .cartridges
            .iter()
            .find(|c| c.fs_label.as_deref() == Some("A"))
            .unwrap()
            .clone();
        d.attach(&a).unwrap();
        assert!(!root_b.exists(), "B's slot went inactive");
        // Deactivate: the cartridge stays in its slot, out of reach.
        d.eject(&a, false).unwrap();
        assert_eq!(sim.where_is("A").unwrap(), Some(Where::Slot { slot: 1 }));
        assert!(d.status().unwrap().writable().is_none());
        // Export: out of the autoloader.
        d.eject(&b, true).unwrap();
        assert_eq!(sim.where_is("B").unwrap(), Some(Where::Outside));
    }

    #[test]
    fn a_pulled_cartridge_vanishes_from_under_the_writer_and_a_failed_eject_leaves_it_in() {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::create(dir.path(), "rdx0", Shape::Drive).unwrap();
        sim.insert("X", None).unwrap();
        let mut d = sim.device().unwrap();
        let c = first(&mut d);
        let root = d.attach(&c).unwrap();
        sim.fail_next_eject().unwrap();
        let e = d.eject(&c, false).unwrap_err().to_string();
        assert!(e.contains("refused to eject"), "{e}");
        assert_eq!(sim.where_is("X").unwrap(), Some(Where::Drive));
        sim.pull("X").unwrap();
        assert!(
            fs::write(root.join("f"), b"x").is_err(),
            "the folder is gone"
        );
        assert!(matches!(d.attach(&c), Err(DiskError::Gone { .. })));
    }

    #[test]
    fn the_state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        Sim::create(dir.path(), "rdx0", Shape::Drive).unwrap();
        Sim::open(dir.path()).unwrap().insert("X", None).unwrap();
        let sim = Sim::open(dir.path()).unwrap();
        assert_eq!(sim.where_is("X").unwrap(), Some(Where::Drive));
        assert!(Sim::create(dir.path(), "rdx0", Shape::Drive).is_err());
        assert!(Sim::open(&dir.path().join("nothing")).is_err());
    }
}
