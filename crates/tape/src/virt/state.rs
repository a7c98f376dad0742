//! `state.json` and its lock: reading, checking and atomically replacing
//! the library's state.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::image::Pos;
use super::{LibraryShape, Place};
use crate::device::TapeError;

/// The state file's name in the library folder.
pub(crate) const STATE: &str = "state.json";
/// The lock file's name.
pub(crate) const LOCK: &str = "lock";
/// The folder of cartridge images.
pub(crate) const CARTRIDGES: &str = "cartridges";
/// The version of `state.json` this code writes and reads.
const FORMAT: u32 = 1;

/// The whole library as `state.json` holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct State {
    /// [`FORMAT`].
    pub format: u32,
    /// The library's name (device names derive from it).
    pub name: String,
    /// Drives and slots.
    pub shape: LibraryShape,
    /// The number the next load gets.
    pub next_load: u64,
    /// One per drive, by index.
    pub drives: Vec<DriveState>,
    /// Every cartridge the library knows, inside or outside.
    pub cartridges: Vec<CartridgeState>,
}

/// A drive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DriveState {
    /// Which load of a cartridge this is (a new number at every load; 0
    /// when the drive is empty): a drive handle that sees another number
    /// knows its cartridge was moved.
    pub load: u64,
    /// The slot the cartridge was loaded from.
    pub source_slot: Option<u32>,
    /// The drive ejected the cartridge ([`crate::TapeDrive::unload`]); it
    /// waits for the changer.
    pub ejected: bool,
    /// The position as last saved.
    pub position: Pos,
    /// The position is the end of data, wherever that is now: a handle
    /// was writing. A handle taking the drive over (after a crash) then
    /// starts at the end of data it finds.
    pub at_eod: bool,
}

/// A cartridge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CartridgeState {
    /// Barcode, also the image's file name.
    pub barcode: String,
    /// Nominal capacity in bytes.
    pub capacity: u64,
    /// The write-protect tab.
    pub write_protected: bool,
    /// Where it is.
    pub place: Place,
}

impl State {
    /// A new, empty library.
    pub(crate) fn new(name: &str, shape: LibraryShape) -> State {
        State {
            format: FORMAT,
            name: name.to_string(),
            shape,
            next_load: 1,
            drives: vec![DriveState::default(); shape.drives as usize],
            cartridges: Vec::new(),
        }
    }

    /// The cartridge at `place`.
    pub(crate) fn at(&self, place: Place) -> Option<&CartridgeState> {
        self.cartridges.iter().find(|c| c.place == place)
    }

    /// The cartridge with this barcode.
    pub(crate) fn find_mut(&mut self, barcode: &str) -> Option<&mut CartridgeState> {
        self.cartridges.iter_mut().find(|c| c.barcode == barcode)
    }

    /// A fresh load number.
    pub(crate) fn take_load(&mut self) -> u64 {
        let n = self.next_load;
        self.next_load += 1;
        n
    }

    /// Why this state cannot be right, if it cannot.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "format {} (this hokan reads format {FORMAT})",
                self.format
            ));
        }
        if self.drives.len() != self.shape.drives as usize {
            return Err(format!(
                "{} drive entries for {} drives",
                self.drives.len(),
                self.shape.drives
            ));
        }
        let mut seen: Vec<(&str, Place)> = Vec::new();
        for c in &self.cartridges {
            if !super::valid_barcode(&c.barcode) {
                return Err(format!("bad barcode {:?}", c.barcode));
            }
            match c.place {
                Place::Drive(d) if d >= self.shape.drives => {
                    return Err(format!(
                        "{} is in drive {d}, which does not exist",
                        c.barcode
                    ))
                }
                Place::Slot(s) if s == 0 || s > self.shape.slots + self.shape.mail_slots => {
                    return Err(format!(
                        "{} is in slot {s}, which does not exist",
                        c.barcode
                    ))
                }
                _ => {}
            }
            for (b, p) in &seen {
                if *b == c.barcode {
                    return Err(format!("{b} is listed twice"));
                }
                if *p == c.place && c.place != Place::Outside {
                    return Err(format!("{b} and {} are both in {:?}", c.barcode, c.place));
                }
            }
            seen.push((&c.barcode, c.place));
        }
        Ok(())
    }
}

/// The library folder with an open lock file: what every handle holds.
/// Each handle opens its own lock file, because `flock` excludes open
/// files, not processes: two handles in one process exclude each other
/// only through two opens.
pub(crate) struct Store {
    dir: PathBuf,
    lock: File,
}

/// Holds the exclusive `flock` until dropped.
struct Locked<'a>(&'a File);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // SAFETY: flock on a descriptor the Store owns; no memory involved.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

impl Store {
    /// Opens the library in `dir`, failing with guidance when there is none.
    pub(crate) fn open(dir: &Path) -> Result<Store, TapeError> {
        if !dir.join(STATE).is_file() {
            return Err(TapeError::Device {
                device: "simulated library".into(),
                what: format!(
                    "no simulated library in {}: create it with `hokan tape sim create`",
                    dir.display()
                ),
            });
        }
        let path = dir.join(LOCK);
        let lock = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        Ok(Store {
            dir: dir.to_path_buf(),
            lock,
        })
    }

    /// The image of cartridge `barcode`.
    pub(crate) fn image(&self, barcode: &str) -> PathBuf {
        image_path(&self.dir, barcode)
    }

    fn lock(&self) -> Result<Locked<'_>, TapeError> {
        loop {
            // SAFETY: flock on a descriptor we own; no memory involved.
            let r = unsafe { libc::flock(self.lock.as_raw_fd(), libc::LOCK_EX) };
            if r == 0 {
                return Ok(Locked(&self.lock));
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(io_error(&self.dir.join(LOCK), e));
            }
        }
    }

    /// The change counter in the lock file: it grows with every change of
    /// `state.json`, so a handle learns with one `pread` whether to read
    /// the state again.
    pub(crate) fn counter(&self) -> Result<u64, TapeError> {
        let mut b = [0u8; 8];
        match self.lock.read_exact_at(&mut b, 0) {
            Ok(()) => Ok(u64::from_le_bytes(b)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            Err(e) => Err(io_error(&self.dir.join(LOCK), e)),
        }
    }

    fn load(&self) -> Result<State, TapeError> {
        let path = self.dir.join(STATE);
        let bytes = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
        let state: State = serde_json::from_slice(&bytes).map_err(|e| TapeError::Protocol {
            device: path.display().to_string(),
            what: e.to_string(),
        })?;
        state.check().map_err(|what| TapeError::Protocol {
            device: path.display().to_string(),
            what,
        })?;
        Ok(state)
    }

    /// The state and the change counter it goes with, read under the lock.
    pub(crate) fn read(&self) -> Result<(State, u64), TapeError> {
        let _locked = self.lock()?;
        Ok((self.load()?, self.counter()?))
    }

    /// Reads the state under the lock, lets `change` modify it and, when
    /// that succeeds, saves it before unlocking. Returns what `change`
    /// returned and the new change counter.
    pub(crate) fn update<R>(
        &self,
        change: impl FnOnce(&mut State) -> Result<R, TapeError>,
    ) -> Result<(R, u64), TapeError> {
        let _locked = self.lock()?;
        let mut state = self.load()?;
        let r = change(&mut state)?;
        // The counter first: a crash between the two makes handles read
        // the state once more for nothing, never miss a change.
        let counter = self.counter()? + 1;
        self.lock
            .write_all_at(&counter.to_le_bytes(), 0)
            .map_err(|e| io_error(&self.dir.join(LOCK), e))?;
        save(&self.dir, &state)?;
        Ok((r, counter))
    }
}

/// Writes `state.json` atomically: a temporary file, fsync, rename, fsync
/// of the folder.
pub(crate) fn save(dir: &Path, state: &State) -> Result<(), TapeError> {
    let tmp = dir.join(format!("{STATE}.tmp"));
    let path = dir.join(STATE);
    let mut json = serde_json::to_vec_pretty(state).expect("the state serializes");
    json.push(b'\n');
    let write = || -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| io_error(&path, e))
}

/// The image path of `barcode` in library folder `dir`.
pub(crate) fn image_path(dir: &Path, barcode: &str) -> PathBuf {
    dir.join(CARTRIDGES).join(format!("{barcode}.tape"))
}

/// An OS error on a file of the library.
pub(crate) fn io_error(path: &Path, source: io::Error) -> TapeError {
    TapeError::Io {
        device: path.display().to_string(),
        source,
    }
}
