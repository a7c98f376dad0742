//! The device traits: a tape drive and a media changer, as hokan uses them.
//!
//! The model is the one the Linux `st` driver and SCSI media changers give
//! (and that `mt` and `mtx` show): a drive reads and writes variable-length
//! **blocks**; **file marks** separate tape files; writing anywhere erases
//! everything after that point; near the physical end the drive signals an
//! **early warning** and still accepts some data (enough to close the current
//! tape file), and at the physical end a write fails with end of medium. A
//! changer moves cartridges between **elements**: drives, storage slots and
//! import/export slots (the mail slot through which cartridges leave and
//! enter the library). A cartridge is always in exactly one place.

use serde::{Deserialize, Serialize};

/// A cartridge as a changer or a drive knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cartridge {
    /// The barcode label (`HKN001L9`), when the library has a reader and the
    /// cartridge a label.
    pub barcode: Option<String>,
}

/// What a drive reports about itself (`mt status`, MTIOCGET).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveStatus {
    /// A cartridge is loaded and ready.
    pub loaded: bool,
    /// The loaded cartridge is write protected (its tab, or WORM).
    pub write_protected: bool,
    /// Tape file number of the current position (0 = first file), if known.
    pub file_number: Option<u64>,
    /// Block number within that tape file, if known.
    pub block_number: Option<u64>,
    /// At the beginning of the tape.
    pub at_bot: bool,
    /// Past the early-warning point: close the current file and change
    /// cartridge.
    pub early_warning: bool,
    /// At end of recorded data (EOD).
    pub at_eod: bool,
    /// The loaded cartridge's barcode or serial, where the drive can read it
    /// (cartridge memory, MAM), else `None`.
    pub cartridge_id: Option<String>,
    /// Nominal capacity of the loaded cartridge in bytes, where known.
    pub capacity: Option<u64>,
}

/// The result of writing one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteBlock {
    /// Written.
    Written,
    /// Written, and the early-warning point has been passed: finish the
    /// current tape file (a few more blocks and a file mark fit) and ask for
    /// the next cartridge.
    EarlyWarning,
}

/// The result of reading one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadBlock {
    /// A block of this many bytes was read into the buffer.
    Data(usize),
    /// A file mark was read: the tape file ended; the position is now at the
    /// start of the next tape file.
    FileMark,
    /// End of recorded data: nothing was ever written past here.
    EndOfData,
}

/// Errors of drives and changers. Messages name the device and, where one
/// is concerned, the cartridge.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    /// No cartridge in the drive.
    #[error("{device}: no cartridge loaded")]
    NotLoaded {
        /// The drive.
        device: String,
    },
    /// The cartridge refuses writes.
    #[error("{device}: cartridge {cartridge} is write protected")]
    WriteProtected {
        /// The drive.
        device: String,
        /// The cartridge (barcode, or "the loaded cartridge").
        cartridge: String,
    },
    /// Physical end of medium: the block was NOT written.
    #[error("{device}: end of medium on cartridge {cartridge}; the block was not written")]
    EndOfMedium {
        /// The drive.
        device: String,
        /// The cartridge.
        cartridge: String,
    },
    /// A block larger than the buffer offered, or than the drive accepts.
    #[error("{device}: block of {size} bytes does not fit ({limit} bytes at most)")]
    BlockSize {
        /// The drive.
        device: String,
        /// The block's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A changer move that cannot be made (source empty, destination full,
    /// no such element).
    #[error("{device}: cannot move: {what}")]
    Move {
        /// The changer.
        device: String,
        /// What is wrong, naming elements and cartridges.
        what: String,
    },
    /// The device answered something hokan cannot read.
    #[error("{device}: unexpected answer: {what}")]
    Protocol {
        /// The device.
        device: String,
        /// What was unexpected.
        what: String,
    },
    /// The device reported a hardware or medium error (sense data decoded
    /// where available).
    #[error("{device}: {what}")]
    Device {
        /// The device.
        device: String,
        /// What the device said.
        what: String,
    },
    /// An operating-system error on the device or its files.
    #[error("{device}: {source}")]
    Io {
        /// The device.
        device: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// A tape drive. Positions are the drive's: operations move forward from
/// where the last one ended, as on a no-rewind device (`/dev/nst0`).
pub trait TapeDrive: Send {
    /// A short name for messages (`/dev/nst0`, `lib1-drive0`).
    fn name(&self) -> String;

    /// The drive's state.
    fn status(&mut self) -> Result<DriveStatus, TapeError>;

    /// Rewind to the beginning of the tape.
    fn rewind(&mut self) -> Result<(), TapeError>;

    /// Write one block at the current position, erasing whatever followed.
    /// Fails with [`TapeError::EndOfMedium`] when the cartridge is full (the
    /// block is then not written).
    fn write_block(&mut self, data: &[u8]) -> Result<WriteBlock, TapeError>;

    /// Write `count` file marks at the current position (ends a tape file).
    fn write_filemarks(&mut self, count: u32) -> Result<(), TapeError>;

    /// Read the next block into `buf` (which must hold the largest block).
    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadBlock, TapeError>;

    /// Space forward over `count` file marks (MTFSF): the position is then
    /// at the start of the tape file after the `count`-th mark.
    fn space_filemarks_forward(&mut self, count: u32) -> Result<(), TapeError>;

    /// Go to the start of tape file `file` (0 = the first), from anywhere.
    fn locate_file(&mut self, file: u64) -> Result<(), TapeError> {
        self.rewind()?;
        if file > 0 {
            self.space_filemarks_forward(u32::try_from(file).unwrap_or(u32::MAX))?;
        }
        Ok(())
    }

    /// Go to the end of recorded data, where appending starts (MTEOM).
    fn seek_end_of_data(&mut self) -> Result<(), TapeError>;

    /// Rewind and eject the cartridge (MTOFFL). In a library the cartridge
    /// then waits in the drive for the changer to take it; from a single
    /// drive it leaves the drive (①-1-1).
    fn unload(&mut self) -> Result<(), TapeError>;
}

/// A drive element of a changer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveElement {
    /// The changer's drive number (0-based, as `mtx` numbers them).
    pub index: u32,
    /// The cartridge in it, if any.
    pub loaded: Option<Cartridge>,
    /// The storage slot the cartridge came from, where the changer knows it.
    pub source_slot: Option<u32>,
}

/// A storage or import/export slot of a changer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotElement {
    /// The slot number (1-based, as `mtx` numbers them; import/export slots
    /// are numbered after the storage slots, as `mtx` does).
    pub number: u32,
    /// An import/export (mail) slot: a cartridge put here can be taken out
    /// of the library by a person.
    pub import_export: bool,
    /// The cartridge in it, if any.
    pub cartridge: Option<Cartridge>,
}

/// What a changer reports (`mtx status`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangerStatus {
    /// Drives, by index.
    pub drives: Vec<DriveElement>,
    /// Storage and import/export slots, by number.
    pub slots: Vec<SlotElement>,
}

impl ChangerStatus {
    /// Where the cartridge with this barcode is: `Ok(Some(drive))` in a
    /// drive, `Err(slot)` in a slot. `None` when not in the library.
    pub fn find(&self, barcode: &str) -> Option<Result<u32, u32>> {
        let is =
            |c: &Option<Cartridge>| c.as_ref().and_then(|c| c.barcode.as_deref()) == Some(barcode);
        if let Some(d) = self.drives.iter().find(|d| is(&d.loaded)) {
            return Some(Ok(d.index));
        }
        self.slots
            .iter()
            .find(|s| is(&s.cartridge))
            .map(|s| Err(s.number))
    }

    /// The first empty import/export slot.
    pub fn free_import_export(&self) -> Option<u32> {
        self.slots
            .iter()
            .find(|s| s.import_export && s.cartridge.is_none())
            .map(|s| s.number)
    }

    /// The first empty storage slot.
    pub fn free_storage(&self) -> Option<u32> {
        self.slots
            .iter()
            .find(|s| !s.import_export && s.cartridge.is_none())
            .map(|s| s.number)
    }
}

/// A media changer (tape library or autoloader).
pub trait Changer: Send {
    /// A short name for messages (`/dev/sg3`, `lib1`).
    fn name(&self) -> String;

    /// Inventory: drives and slots with barcodes. Real changers may need
    /// [`Changer::inventory`] first to know barcodes after a door was opened.
    fn status(&mut self) -> Result<ChangerStatus, TapeError>;

    /// Re-read barcodes of every element (`mtx inventory`).
    fn inventory(&mut self) -> Result<(), TapeError>;

    /// Move the cartridge in `slot` into drive `drive`.
    fn load(&mut self, slot: u32, drive: u32) -> Result<(), TapeError>;

    /// Move the cartridge in drive `drive` into `slot`. The drive must have
    /// ejected it first ([`TapeDrive::unload`]) on real hardware; the
    /// implementations do that where the platform needs it.
    fn unload(&mut self, drive: u32, slot: u32) -> Result<(), TapeError>;

    /// Move a cartridge from one slot to another (storage ↔ import/export).
    fn transfer(&mut self, from: u32, to: u32) -> Result<(), TapeError>;
}
