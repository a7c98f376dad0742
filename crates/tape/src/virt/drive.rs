//! [`VirtualDrive`]: a drive of a virtual library, reading and writing the
//! image of the cartridge loaded in it.

use std::time::Duration;

use super::image::{Image, Pos, Record};
use super::state::{io_error, Store};
use super::Place;
use crate::device::{DriveStatus, ReadBlock, TapeDrive, TapeError, WriteBlock};

/// The environment variable that slows every block write (milliseconds).
const DELAY_VAR: &str = "HOKAN_SIM_TAPE_DELAY_MS";

/// A drive of a [`VirtualLibrary`](super::VirtualLibrary) (made by
/// [`VirtualLibrary::drive`](super::VirtualLibrary::drive)). Its position
/// lives in `state.json`, so another handle or process finds the drive
/// where this one left it.
pub struct VirtualDrive {
    store: Store,
    name: String,
    index: u32,
    single: bool,
    delay: Option<Duration>,
    /// The change counter of the state last read.
    seen: Option<u64>,
    mounted: Option<Mounted>,
}

/// The cartridge this handle reads and writes.
struct Mounted {
    barcode: String,
    load: u64,
    capacity: u64,
    write_protected: bool,
    image: Image,
    pos: Pos,
    /// `pos` differs from what `state.json` holds.
    dirty: bool,
    /// `state.json` says the position is the end of data.
    saved_at_eod: bool,
}

impl Mounted {
    fn early_warning_point(&self) -> u64 {
        self.capacity - self.capacity / 8
    }
}

impl VirtualDrive {
    pub(super) fn new(store: Store, name: String, index: u32, single: bool) -> VirtualDrive {
        let delay = std::env::var(DELAY_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        VirtualDrive {
            store,
            name,
            index,
            single,
            delay,
            seen: None,
            mounted: None,
        }
    }

    /// Sets the pause before every block write (as
    /// `HOKAN_SIM_TAPE_DELAY_MS` does); with a pause, every block goes to
    /// the OS at once.
    pub fn set_write_delay(&mut self, delay: Option<Duration>) {
        self.delay = delay;
    }

    /// The drive number in its library.
    pub fn index(&self) -> u32 {
        self.index
    }

    fn io(&self, e: std::io::Error) -> TapeError {
        match &self.mounted {
            Some(m) => io_error(&self.store.image(&m.barcode), e),
            None => TapeError::Io {
                device: self.name.clone(),
                source: e,
            },
        }
    }

    /// Brings the handle up to date with `state.json` when it changed:
    /// drops a cartridge that left (after handing its buffered records to
    /// the image), takes up the one that is loaded now.
    fn sync(&mut self) -> Result<(), TapeError> {
        let counter = self.store.counter()?;
        if self.seen == Some(counter) {
            return Ok(());
        }
        let (state, counter) = self.store.read()?;
        self.seen = Some(counter);
        let d = &state.drives[self.index as usize];
        let here = state
            .at(Place::Drive(self.index))
            .filter(|_| !d.ejected && d.load != 0);
        if let (Some(m), Some(c)) = (&mut self.mounted, here) {
            if m.barcode == c.barcode && m.load == d.load {
                m.write_protected = c.write_protected;
                m.capacity = c.capacity;
                return Ok(());
            }
        }
        if let Some(mut m) = self.mounted.take() {
            let flushed = m.image.flush();
            tracing::debug!(drive = %self.name, barcode = %m.barcode, "the cartridge left the drive");
            flushed.map_err(|e| io_error(&self.store.image(&m.barcode), e))?;
        }
        if let Some(c) = here {
            let path = self.store.image(&c.barcode);
            let (image, cut) = Image::open(&path).map_err(|e| io_error(&path, e))?;
            if cut > 0 {
                tracing::warn!(
                    drive = %self.name, barcode = %c.barcode, bytes = cut,
                    "cut a torn record off the end of the tape (a write was interrupted)"
                );
            }
            let eod = image.eod();
            let pos = if d.at_eod || d.position.offset > eod.offset {
                eod
            } else {
                d.position
            };
            self.mounted = Some(Mounted {
                barcode: c.barcode.clone(),
                load: d.load,
                capacity: c.capacity,
                write_protected: c.write_protected,
                image,
                pos,
                dirty: pos != d.position,
                saved_at_eod: d.at_eod,
            });
        }
        Ok(())
    }

    /// The mounted cartridge, after [`VirtualDrive::sync`], or
    /// [`TapeError::NotLoaded`].
    fn loaded(&mut self) -> Result<&mut Mounted, TapeError> {
        self.sync()?;
        let device = self.name.clone();
        self.mounted.as_mut().ok_or(TapeError::NotLoaded { device })
    }

    /// Saves the position (and whether it is the end of data) when it
    /// differs from what `state.json` holds, if the cartridge is still this
    /// handle's.
    fn save_position(&mut self, at_eod: bool) -> Result<(), TapeError> {
        let index = self.index as usize;
        let Some(m) = &self.mounted else {
            return Ok(());
        };
        if !m.dirty && m.saved_at_eod == at_eod {
            return Ok(());
        }
        let (load, pos) = (m.load, m.pos);
        let (still, counter) = self.store.update(|s| {
            let d = &mut s.drives[index];
            let still = d.load == load && !d.ejected;
            if still {
                d.position = pos;
                d.at_eod = at_eod;
            }
            Ok(still)
        })?;
        self.seen = Some(counter);
        match (&mut self.mounted, still) {
            (Some(m), true) => {
                m.dirty = false;
                m.saved_at_eod = at_eod;
            }
            // Moved away meanwhile: forget it at the next operation.
            _ => self.seen = None,
        }
        Ok(())
    }

    /// Hands buffered records to the image and saves the position.
    fn flush(&mut self) -> Result<(), TapeError> {
        let Some(m) = &mut self.mounted else {
            return Ok(());
        };
        let at_eod = m.saved_at_eod && m.pos == m.image.eod();
        let flushed = m.image.flush();
        flushed.map_err(|e| self.io(e))?;
        self.save_position(at_eod)
    }

    /// A position move that is not a write: no longer at the end of data
    /// as far as `state.json` is concerned.
    fn moved(&mut self, pos: Pos) {
        if let Some(m) = &mut self.mounted {
            if m.pos != pos {
                m.pos = pos;
                m.dirty = true;
            }
        }
    }

    fn end_of_data(&self, m: &Mounted, spaced: u32, count: u32) -> TapeError {
        TapeError::Device {
            device: self.name.clone(),
            what: format!(
                "end of data reached while spacing over {count} file marks (after {spaced}, in \
                 tape file {}): {} holds fewer tape files than asked for",
                m.pos.file, m.barcode
            ),
        }
    }
}

impl TapeDrive for VirtualDrive {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn status(&mut self) -> Result<DriveStatus, TapeError> {
        self.sync()?;
        self.flush()?;
        let Some(m) = &self.mounted else {
            return Ok(DriveStatus::default());
        };
        Ok(DriveStatus {
            loaded: true,
            write_protected: m.write_protected,
            file_number: Some(m.pos.file),
            block_number: Some(m.pos.block),
            at_bot: m.pos.offset == 0,
            early_warning: m.pos.used > m.early_warning_point(),
            at_eod: m.pos.offset == m.image.eod().offset,
            cartridge_id: Some(m.barcode.clone()),
            capacity: Some(m.capacity),
        })
    }

    fn rewind(&mut self) -> Result<(), TapeError> {
        let m = self.loaded()?;
        let flushed = m.image.flush();
        flushed.map_err(|e| self.io(e))?;
        self.moved(Pos::default());
        self.save_position(false)
    }

    fn write_block(&mut self, data: &[u8]) -> Result<WriteBlock, TapeError> {
        let device = self.name.clone();
        let delay = self.delay;
        let m = self.loaded()?;
        if m.write_protected {
            return Err(TapeError::WriteProtected {
                device,
                cartridge: m.barcode.clone(),
            });
        }
        if data.len() > u32::MAX as usize {
            return Err(TapeError::BlockSize {
                device,
                size: data.len(),
                limit: u32::MAX as usize,
            });
        }
        if m.pos.used + data.len() as u64 > m.capacity {
            return Err(TapeError::EndOfMedium {
                device,
                cartridge: m.barcode.clone(),
            });
        }
        if !m.saved_at_eod {
            // Once per write session, never per block: erase what follows,
            // then note that the position is the end of data, so a handle
            // that takes over after a crash starts at the end it finds.
            let erased = m.image.erase_after(m.pos);
            erased.map_err(|e| self.io(e))?;
            self.mounted.as_mut().expect("loaded above").dirty = true;
            self.save_position(true)?;
        }
        if let Some(delay) = delay {
            std::thread::sleep(delay);
        }
        let m = self.mounted.as_mut().expect("loaded above");
        let written = m.image.write_block(m.pos, data).and_then(|pos| {
            if delay.is_some() {
                m.image.flush()?;
            }
            Ok(pos)
        });
        let pos = written.map_err(|e| self.io(e))?;
        let m = self.mounted.as_mut().expect("loaded above");
        m.pos = pos;
        m.dirty = true;
        Ok(if pos.used > m.early_warning_point() {
            WriteBlock::EarlyWarning
        } else {
            WriteBlock::Written
        })
    }

    fn write_filemarks(&mut self, count: u32) -> Result<(), TapeError> {
        let device = self.name.clone();
        let m = self.loaded()?;
        if m.write_protected {
            return Err(TapeError::WriteProtected {
                device,
                cartridge: m.barcode.clone(),
            });
        }
        if count == 0 {
            // As st: writing zero file marks flushes the buffer.
            return self.flush();
        }
        if !m.saved_at_eod {
            let erased = m.image.erase_after(m.pos);
            erased.map_err(|e| self.io(e))?;
            self.mounted.as_mut().expect("loaded above").dirty = true;
            self.save_position(true)?;
        }
        let m = self.mounted.as_mut().expect("loaded above");
        let mut written = Ok(m.pos);
        for _ in 0..count {
            written = written.and_then(|pos| m.image.write_mark(pos));
        }
        let pos = written.map_err(|e| self.io(e))?;
        let m = self.mounted.as_mut().expect("loaded above");
        m.pos = pos;
        m.dirty = true;
        self.flush()
    }

    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadBlock, TapeError> {
        let device = self.name.clone();
        let m = self.loaded()?;
        let pos = m.pos;
        let record = m.image.record_at(pos, true);
        let record = record.map_err(|e| self.io(e))?;
        let m = self.mounted.as_mut().expect("loaded above");
        let (result, next) = match record {
            None => return Ok(ReadBlock::EndOfData),
            Some(Record::FileMark) => (ReadBlock::FileMark, Record::FileMark.after(pos)),
            Some(Record::Block(len)) => {
                let len = len as usize;
                if len > buf.len() {
                    // The position stays before the block: read it again
                    // with a larger buffer.
                    return Err(TapeError::BlockSize {
                        device,
                        size: len,
                        limit: buf.len(),
                    });
                }
                let read = m.image.read_payload(pos, len, buf);
                read.map_err(|e| self.io(e))?;
                (ReadBlock::Data(len), Record::Block(len as u32).after(pos))
            }
        };
        self.moved(next);
        Ok(result)
    }

    fn space_filemarks_forward(&mut self, count: u32) -> Result<(), TapeError> {
        let m = self.loaded()?;
        let mut pos = m.pos;
        let mut spaced = 0;
        while spaced < count {
            let m = self.mounted.as_mut().expect("loaded above");
            let record = m.image.record_at(pos, false).map_err(|e| self.io(e))?;
            match record {
                None => {
                    self.moved(pos);
                    let m = self.mounted.as_ref().expect("loaded above");
                    return Err(self.end_of_data(m, spaced, count));
                }
                Some(r) => {
                    if r == Record::FileMark {
                        spaced += 1;
                    }
                    pos = r.after(pos);
                }
            }
        }
        self.moved(pos);
        Ok(())
    }

    fn seek_end_of_data(&mut self) -> Result<(), TapeError> {
        let eod = self.loaded()?.image.eod();
        self.moved(eod);
        Ok(())
    }

    fn unload(&mut self) -> Result<(), TapeError> {
        self.sync()?;
        let (index, single) = (self.index, self.single);
        let Some(mut m) = self.mounted.take() else {
            // Already ejected and waiting for the changer: nothing to do.
            let (state, _) = self.store.read()?;
            return match state.at(Place::Drive(index)) {
                Some(_) => Ok(()),
                None => Err(TapeError::NotLoaded {
                    device: self.name.clone(),
                }),
            };
        };
        let flushed = m.image.flush();
        flushed.map_err(|e| io_error(&self.store.image(&m.barcode), e))?;
        let load = m.load;
        let barcode = m.barcode.clone();
        let (_, counter) = self.store.update(|s| {
            if s.drives[index as usize].load != load {
                return Ok(());
            }
            let source_slot = s.drives[index as usize].source_slot;
            s.drives[index as usize] = Default::default();
            if single {
                if let Some(c) = s.find_mut(&barcode) {
                    c.place = Place::Outside;
                }
            } else {
                // Rewound and ejected: waiting for the changer.
                let d = &mut s.drives[index as usize];
                d.load = load;
                d.source_slot = source_slot;
                d.ejected = true;
            }
            Ok(())
        })?;
        self.seen = Some(counter);
        tracing::info!(drive = %self.name, barcode, "cartridge ejected");
        Ok(())
    }
}

impl Drop for VirtualDrive {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(drive = %self.name, "could not save the drive's state: {e}");
        }
    }
}
