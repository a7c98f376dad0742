//! A file-backed virtual tape library: drives, storage and import/export
//! slots, barcodes, capacity, write protection; or a single stand-alone
//! drive. Tests and the demo use it instead of LTO hardware, so it behaves
//! like the hardware where hokan can tell: positions, file marks, writing
//! erases what follows, early warning, end of medium, write protection,
//! cartridges that are in exactly one place.
//!
//! # The folder
//!
//! ```text
//! <dir>/state.json                 shape, cartridges and where they are, drive positions
//! <dir>/lock                       flock'ed around every read-modify-write of state.json;
//!                                  its first 8 bytes count the changes (u64 LE)
//! <dir>/cartridges/<BARCODE>.tape  one image per cartridge
//! ```
//!
//! `state.json` is replaced atomically (temporary file, fsync, rename, fsync
//! of the folder) under an exclusive `flock` of `lock`, so several processes
//! can share a library. Every [`VirtualChanger`] and [`VirtualDrive`]
//! operation starts from the state on disk: a handle reads the change
//! counter (one `pread`) and reads `state.json` again when it moved. A drive
//! handle whose cartridge was moved away (or ejected, or loaded again)
//! notices at its next operation: it hands its buffered records to the image
//! and answers [`TapeError::NotLoaded`].
//!
//! # Cartridge images
//!
//! An image is a sequence of records, nothing else (no header):
//!
//! ```text
//! [kind u8][len u32 LE][len bytes]
//! kind 1 = a block of len bytes; kind 2 = a file mark (len 0)
//! ```
//!
//! Writing at a position truncates the image there first: writing erases
//! everything after it, as on tape. When a drive handle opens an image, a
//! torn trailing record (the process was killed mid-write) is cut off: the
//! tape ends at the last whole record. A record of an unknown kind is
//! damage, reported and never cut.
//!
//! # Capacity
//!
//! A cartridge's used bytes are the payload bytes of its blocks up to the
//! position; headers and file marks cost nothing. Once the used bytes pass
//! the early-warning point, `capacity - capacity / 8` (the last eighth),
//! [`TapeDrive::write_block`] still writes but answers
//! [`WriteBlock::EarlyWarning`](crate::WriteBlock::EarlyWarning); a block that
//! would pass `capacity` is not written ([`TapeError::EndOfMedium`]). File
//! marks are always accepted.
//!
//! # Positions, buffering and crashes
//!
//! A drive keeps its position while its cartridge stays loaded, across
//! handles and processes: the position is saved in `state.json` by
//! [`TapeDrive::write_filemarks`], [`TapeDrive::rewind`],
//! [`TapeDrive::status`], [`TapeDrive::unload`] and when the handle is
//! dropped; other moves (reading, spacing) are kept in memory until then.
//! While writing, `state.json` is touched once (to note that the position is
//! the end of data), never per block: records gather in a 1 MiB buffer,
//! blocks of 64 KiB and more go out with the buffered bytes in one `writev`,
//! so writing large blocks costs what a plain `write` of them costs. The
//! buffer is handed to the OS at file marks, reads, rewind, status, unload
//! and drop. Images are never fsync'ed: the simulation models a killed
//! process (the drive then starts at the end of the data it finds), not a
//! power cut.
//!
//! `HOKAN_SIM_TAPE_DELAY_MS`, read when a drive handle is made, slows every
//! [`TapeDrive::write_block`] by that many milliseconds and hands each block
//! to the OS at once, so a test can kill a job mid-write.
//!
//! # Numbering
//!
//! As `mtx` numbers elements: drives `0..N`, storage slots `1..=S`,
//! import/export (mail) slots `S+1..=S+M`. A single drive has drive 0 and no
//! slots; a person puts the cartridge in by hand ([`VirtualLibrary::insert`])
//! and [`TapeDrive::unload`] ejects it to [`Place::Outside`].

#![deny(missing_docs)]

mod changer;
mod drive;
mod image;
mod state;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use changer::VirtualChanger;
pub use drive::VirtualDrive;

use crate::device::{SlotElement, TapeDrive, TapeError};
use state::{image_path, io_error, State, Store};

/// The drives and slots of a virtual library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryShape {
    /// Number of drives (numbered `0..drives`).
    pub drives: u32,
    /// Storage slots (numbered `1..=slots`).
    pub slots: u32,
    /// Import/export slots (numbered `slots+1..=slots+mail_slots`).
    pub mail_slots: u32,
    /// A stand-alone drive without changer: one drive, no slots.
    pub single_drive: bool,
}

impl LibraryShape {
    /// A single stand-alone drive: a person inserts and takes out the
    /// cartridge.
    pub fn single_drive() -> LibraryShape {
        LibraryShape {
            drives: 1,
            slots: 0,
            mail_slots: 0,
            single_drive: true,
        }
    }

    /// A library with a changer.
    pub fn library(drives: u32, slots: u32, mail_slots: u32) -> LibraryShape {
        LibraryShape {
            drives,
            slots,
            mail_slots,
            single_drive: false,
        }
    }

    /// Whether slot `number` is an import/export (mail) slot.
    pub fn is_mail_slot(&self, number: u32) -> bool {
        number > self.slots && number <= self.slots + self.mail_slots
    }
}

/// Where a cartridge is: always exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// In drive `n` (loaded, or ejected and waiting for the changer).
    Drive(u32),
    /// In slot `n`: storage, or import/export when
    /// [`LibraryShape::is_mail_slot`].
    Slot(u32),
    /// Outside the library (or the single drive): on a shelf, in a safe.
    Outside,
}

/// A cartridge the library knows, as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartridgeInfo {
    /// The barcode.
    pub barcode: String,
    /// Nominal capacity in bytes.
    pub capacity: u64,
    /// Payload bytes recorded on it (to its end of data; blocks still in a
    /// drive handle's buffer are not counted).
    pub used: u64,
    /// The write-protect tab is set.
    pub write_protected: bool,
    /// Where it is.
    pub place: Place,
}

/// A drive of the library, as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveView {
    /// The drive number.
    pub index: u32,
    /// The barcode of the cartridge in it.
    pub cartridge: Option<String>,
    /// The cartridge was ejected and waits for the changer.
    pub ejected: bool,
    /// The slot it was loaded from.
    pub source_slot: Option<u32>,
    /// Tape file number of the last saved position.
    pub file_number: u64,
    /// Block number of the last saved position.
    pub block_number: u64,
}

/// The whole library, as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryStatus {
    /// The library's name.
    pub name: String,
    /// Its drives and slots.
    pub shape: LibraryShape,
    /// Drives by index.
    pub drives: Vec<DriveView>,
    /// Slots by number (storage, then import/export).
    pub slots: Vec<SlotElement>,
    /// Every cartridge, inside or outside.
    pub cartridges: Vec<CartridgeInfo>,
}

/// A virtual library (or single drive) in a folder: what a person does
/// with it, and the handles to its changer and drives.
#[derive(Clone, Debug)]
pub struct VirtualLibrary {
    dir: PathBuf,
    name: String,
    shape: LibraryShape,
}

impl VirtualLibrary {
    /// Creates a library in `dir` (made if missing). Fails if one exists
    /// there. A shape with `single_drive` becomes one drive and no slots.
    pub fn create(
        dir: &Path,
        name: &str,
        shape: LibraryShape,
    ) -> Result<VirtualLibrary, TapeError> {
        let shape = if shape.single_drive {
            LibraryShape::single_drive()
        } else {
            shape
        };
        let refuse = |what: String| TapeError::Device {
            device: "simulated library".into(),
            what,
        };
        if name.trim().is_empty() {
            return Err(refuse("a library needs a name".into()));
        }
        if shape.drives == 0 {
            return Err(refuse("a library needs at least one drive".into()));
        }
        if dir.join(state::STATE).exists() {
            return Err(refuse(format!(
                "a simulated library already exists in {}",
                dir.display()
            )));
        }
        let cartridges = dir.join(state::CARTRIDGES);
        std::fs::create_dir_all(&cartridges).map_err(|e| io_error(&cartridges, e))?;
        state::save(dir, &State::new(name, shape))?;
        VirtualLibrary::open(dir)
    }

    /// Opens the library in `dir`; the error names the folder and says how
    /// to create one when there is none.
    pub fn open(dir: &Path) -> Result<VirtualLibrary, TapeError> {
        let (state, _) = Store::open(dir)?.read()?;
        Ok(VirtualLibrary {
            dir: dir.to_path_buf(),
            name: state.name,
            shape: state.shape,
        })
    }

    /// The library's name (`vtl-weekday`); drives are `<name>-drive<N>`,
    /// the single drive is `<name>`.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The library's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its drives and slots.
    pub fn shape(&self) -> LibraryShape {
        self.shape
    }

    /// A single stand-alone drive, without changer.
    pub fn is_single_drive(&self) -> bool {
        self.shape.single_drive
    }

    /// A fresh handle on the folder (its own lock file open, so that
    /// threads sharing `self` still exclude each other).
    fn store(&self) -> Result<Store, TapeError> {
        Store::open(&self.dir)
    }

    fn refuse(&self, what: String) -> TapeError {
        TapeError::Move {
            device: self.name.clone(),
            what,
        }
    }

    /// The changer. Fails for a single drive.
    pub fn changer(&self) -> Result<VirtualChanger, TapeError> {
        if self.shape.single_drive {
            return Err(TapeError::Device {
                device: self.name.clone(),
                what: "a single drive has no changer".into(),
            });
        }
        Ok(VirtualChanger::new(
            self.store()?,
            self.name.clone(),
            self.shape,
        ))
    }

    /// Drive `index`. Opening it cuts a torn trailing record off the
    /// image of the cartridge loaded in it.
    pub fn drive(&self, index: u32) -> Result<VirtualDrive, TapeError> {
        if index >= self.shape.drives {
            return Err(TapeError::Device {
                device: self.name.clone(),
                what: format!(
                    "no drive {index}: the library has drives 0..={}",
                    self.shape.drives - 1
                ),
            });
        }
        let name = if self.shape.single_drive {
            self.name.clone()
        } else {
            format!("{}-drive{index}", self.name)
        };
        let mut drive = VirtualDrive::new(self.store()?, name, index, self.shape.single_drive);
        drive.status()?;
        Ok(drive)
    }

    /// A person puts a cartridge in. A new barcode is a new blank
    /// cartridge of `capacity` bytes (its image is made empty); a known
    /// cartridge that is outside comes back with its data: its capacity
    /// stays what it was (`capacity` is ignored) and `write_protected` sets
    /// its tab. In a library it goes to the first free storage slot (the
    /// person used the mail slot and the robot put it away); in a single
    /// drive, into the drive, loaded at the beginning. Fails when there is
    /// no room or the cartridge is already inside.
    pub fn insert(
        &self,
        barcode: &str,
        capacity: u64,
        write_protected: bool,
    ) -> Result<Place, TapeError> {
        if !valid_barcode(barcode) {
            return Err(TapeError::Device {
                device: self.name.clone(),
                what: format!(
                    "{barcode:?} is not a barcode: use 1 to 32 letters, digits, '-' or '_'"
                ),
            });
        }
        let store = self.store()?;
        let ((place, new), _) = store.update(|s| {
            let place = match s.cartridges.iter().find(|c| c.barcode == barcode) {
                Some(c) if c.place != Place::Outside => {
                    return Err(self.refuse(format!(
                        "{barcode} is already inside, {}",
                        describe(&s.shape, c.place)
                    )))
                }
                _ => self.free_place(s)?,
            };
            let new = match s.find_mut(barcode) {
                Some(c) => {
                    c.place = place;
                    c.write_protected = write_protected;
                    false
                }
                None => {
                    if capacity == 0 {
                        return Err(self.refuse(format!("{barcode}: a capacity of 0 bytes")));
                    }
                    let path = image_path(&self.dir, barcode);
                    std::fs::File::options()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .map_err(|e| io_error(&path, e))?;
                    s.cartridges.push(state::CartridgeState {
                        barcode: barcode.to_string(),
                        capacity,
                        write_protected,
                        place,
                    });
                    true
                }
            };
            if let Place::Drive(d) = place {
                let load = s.take_load();
                s.drives[d as usize] = state::DriveState {
                    load,
                    ..Default::default()
                };
            }
            Ok((place, new))
        })?;
        tracing::info!(library = %self.name, barcode, ?place, new, "cartridge inserted");
        Ok(place)
    }

    /// Where an inserted cartridge goes.
    fn free_place(&self, s: &State) -> Result<Place, TapeError> {
        if s.shape.single_drive {
            return match s.at(Place::Drive(0)) {
                Some(c) => Err(self.refuse(format!(
                    "the drive already holds {}; unload it first",
                    c.barcode
                ))),
                None => Ok(Place::Drive(0)),
            };
        }
        (1..=s.shape.slots)
            .map(Place::Slot)
            .find(|p| s.at(*p).is_none())
            .ok_or_else(|| {
                self.refuse(format!(
                    "all {} storage slots are full; export a cartridge first",
                    s.shape.slots
                ))
            })
    }

    /// A person takes a cartridge out: from an import/export slot of a
    /// library, or (already done) a cartridge the single drive ejected. A
    /// cartridge already outside is left as it is. Fails naming where the
    /// cartridge is when a person cannot reach it.
    pub fn take_out(&self, barcode: &str) -> Result<(), TapeError> {
        self.store()?.update(|s| {
            let shape = s.shape;
            let c = s
                .find_mut(barcode)
                .ok_or_else(|| self.refuse(format!("no cartridge {barcode} in {}", self.name)))?;
            match c.place {
                Place::Outside => Ok(()),
                Place::Slot(n) if shape.is_mail_slot(n) => {
                    c.place = Place::Outside;
                    Ok(())
                }
                Place::Slot(n) => Err(self.refuse(format!(
                    "{barcode} is in storage slot {n}; export it to the mail slot first"
                ))),
                Place::Drive(_) if shape.single_drive => Err(self.refuse(format!(
                    "{barcode} is in the drive; unload (eject) it first"
                ))),
                Place::Drive(d) => Err(self.refuse(format!(
                    "{barcode} is in drive {d}; unload it and export it to the mail slot first"
                ))),
            }
        })?;
        tracing::info!(library = %self.name, barcode, "cartridge taken out");
        Ok(())
    }

    /// A person sets or clears the write-protect tab of a cartridge (a
    /// loaded cartridge too: the drive notices at its next operation).
    pub fn set_write_protect(&self, barcode: &str, protect: bool) -> Result<(), TapeError> {
        self.store()?
            .update(|s| {
                let c = s.find_mut(barcode).ok_or_else(|| {
                    self.refuse(format!("no cartridge {barcode} in {}", self.name))
                })?;
                c.write_protected = protect;
                Ok(())
            })
            .map(|_| ())
    }

    /// Every cartridge the library knows, inside or outside, in the order
    /// they were first inserted. `used` comes from scanning each image.
    pub fn cartridges(&self) -> Result<Vec<CartridgeInfo>, TapeError> {
        let (s, _) = self.store()?.read()?;
        self.infos(&s)
    }

    fn infos(&self, s: &State) -> Result<Vec<CartridgeInfo>, TapeError> {
        s.cartridges
            .iter()
            .map(|c| {
                let path = image_path(&self.dir, &c.barcode);
                let used = std::fs::File::open(&path)
                    .and_then(|f| image::scan(&f))
                    .map_err(|e| io_error(&path, e))?
                    .end
                    .used;
                Ok(CartridgeInfo {
                    barcode: c.barcode.clone(),
                    capacity: c.capacity,
                    used,
                    write_protected: c.write_protected,
                    place: c.place,
                })
            })
            .collect()
    }

    /// The whole library: drives, slots and cartridges.
    pub fn status(&self) -> Result<LibraryStatus, TapeError> {
        let (s, _) = self.store()?.read()?;
        let drives = s
            .drives
            .iter()
            .zip(0..)
            .map(|(d, index)| DriveView {
                index,
                cartridge: s.at(Place::Drive(index)).map(|c| c.barcode.clone()),
                ejected: d.ejected,
                source_slot: d.source_slot,
                file_number: d.position.file,
                block_number: d.position.block,
            })
            .collect();
        Ok(LibraryStatus {
            name: s.name.clone(),
            shape: s.shape,
            drives,
            slots: changer::slots(&s),
            cartridges: self.infos(&s)?,
        })
    }

    /// Writes the blocks of tape file `n` (0 = the first) of cartridge
    /// `barcode`, concatenated, to `out` (a tar tape file is then a tar
    /// archive GNU `tar` reads); returns the number of bytes. Blocks still
    /// in a drive handle's buffer are not seen. Fails when the cartridge
    /// holds fewer tape files.
    pub fn export_tape_file(
        &self,
        barcode: &str,
        n: u64,
        out: &mut impl Write,
    ) -> Result<u64, TapeError> {
        let (s, _) = self.store()?.read()?;
        if !s.cartridges.iter().any(|c| c.barcode == barcode) {
            return Err(self.refuse(format!("no cartridge {barcode} in {}", self.name)));
        }
        let path = image_path(&self.dir, barcode);
        image::export_file(&path, n, out)
            .map_err(|e| io_error(&path, e))?
            .ok_or_else(|| TapeError::Device {
                device: self.name.clone(),
                what: format!("{barcode} holds no tape file {n}"),
            })
    }

    /// [`VirtualLibrary::export_tape_file`] into memory.
    pub fn tape_file(&self, barcode: &str, n: u64) -> Result<Vec<u8>, TapeError> {
        let mut out = Vec::new();
        self.export_tape_file(barcode, n, &mut out)?;
        Ok(out)
    }
}

/// Barcodes double as file names: 1 to 32 ASCII letters, digits, `-`, `_`.
pub(crate) fn valid_barcode(barcode: &str) -> bool {
    (1..=32).contains(&barcode.len())
        && barcode
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A place in words, for messages.
pub(crate) fn describe(shape: &LibraryShape, place: Place) -> String {
    match place {
        Place::Drive(_) if shape.single_drive => "in the drive".into(),
        Place::Drive(d) => format!("in drive {d}"),
        Place::Slot(n) if shape.is_mail_slot(n) => format!("in mail slot {n}"),
        Place::Slot(n) => format!("in storage slot {n}"),
        Place::Outside => "outside".into(),
    }
}
