//! [`VirtualChanger`]: the robot of a virtual library.

use super::state::{DriveState, State, Store};
use super::{describe, LibraryShape, Place};
use crate::device::{Cartridge, Changer, ChangerStatus, DriveElement, SlotElement, TapeError};

/// The changer of a [`VirtualLibrary`](super::VirtualLibrary) (made by
/// [`VirtualLibrary::changer`](super::VirtualLibrary::changer)). Every
/// operation reads and writes `state.json` under the library's lock.
///
/// [`Changer::unload`] of a drive whose cartridge is still loaded ejects it
/// first, as `mtx` does on most libraries; a [`VirtualDrive`](super::VirtualDrive)
/// handle of that drive hands its buffered blocks to the image and answers
/// [`TapeError::NotLoaded`] at its next operation.
pub struct VirtualChanger {
    store: Store,
    name: String,
    shape: LibraryShape,
}

fn cartridge(barcode: &str) -> Option<Cartridge> {
    Some(Cartridge {
        barcode: Some(barcode.to_string()),
    })
}

/// The slots of the library, storage then import/export.
pub(super) fn slots(s: &State) -> Vec<SlotElement> {
    (1..=s.shape.slots + s.shape.mail_slots)
        .map(|number| SlotElement {
            number,
            import_export: s.shape.is_mail_slot(number),
            cartridge: s
                .at(Place::Slot(number))
                .and_then(|c| cartridge(&c.barcode)),
        })
        .collect()
}

impl VirtualChanger {
    pub(super) fn new(store: Store, name: String, shape: LibraryShape) -> VirtualChanger {
        VirtualChanger { store, name, shape }
    }

    fn refuse(&self, what: String) -> TapeError {
        TapeError::Move {
            device: self.name.clone(),
            what,
        }
    }

    fn check_drive(&self, drive: u32) -> Result<(), TapeError> {
        if drive >= self.shape.drives {
            return Err(self.refuse(format!(
                "no drive {drive} (drives 0..={})",
                self.shape.drives - 1
            )));
        }
        Ok(())
    }

    fn check_slot(&self, slot: u32) -> Result<(), TapeError> {
        let last = self.shape.slots + self.shape.mail_slots;
        if slot == 0 || slot > last {
            let mail = if self.shape.mail_slots > 0 {
                format!(", mail slots {}..={last}", self.shape.slots + 1)
            } else {
                String::new()
            };
            return Err(self.refuse(format!(
                "no slot {slot} (storage slots 1..={}{mail})",
                self.shape.slots
            )));
        }
        Ok(())
    }

    /// The barcode in slot `slot`, or an error naming it empty.
    fn full_slot(&self, s: &State, slot: u32) -> Result<String, TapeError> {
        s.at(Place::Slot(slot))
            .map(|c| c.barcode.clone())
            .ok_or_else(|| self.refuse(format!("slot {slot} is empty")))
    }

    /// An error when slot `slot` holds a cartridge.
    fn empty_slot(&self, s: &State, slot: u32) -> Result<(), TapeError> {
        match s.at(Place::Slot(slot)) {
            Some(c) => Err(self.refuse(format!("slot {slot} already holds {}", c.barcode))),
            None => Ok(()),
        }
    }

    /// Moves cartridge `barcode` to `to`.
    fn put(s: &mut State, barcode: &str, to: Place) {
        if let Some(c) = s.find_mut(barcode) {
            c.place = to;
        }
    }
}

impl Changer for VirtualChanger {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn status(&mut self) -> Result<ChangerStatus, TapeError> {
        let (s, _) = self.store.read()?;
        let drives = s
            .drives
            .iter()
            .zip(0..)
            .map(|(d, index)| DriveElement {
                index,
                loaded: s
                    .at(Place::Drive(index))
                    .and_then(|c| cartridge(&c.barcode)),
                source_slot: d.source_slot,
            })
            .collect();
        Ok(ChangerStatus {
            drives,
            slots: slots(&s),
        })
    }

    fn inventory(&mut self) -> Result<(), TapeError> {
        // The state is always known: every barcode is read.
        Ok(())
    }

    fn load(&mut self, slot: u32, drive: u32) -> Result<(), TapeError> {
        self.check_slot(slot)?;
        self.check_drive(drive)?;
        let (barcode, _) = self.store.update(|s| {
            let barcode = self.full_slot(s, slot)?;
            if let Some(c) = s.at(Place::Drive(drive)) {
                return Err(self.refuse(format!(
                    "drive {drive} already holds {}; cannot load {barcode} from slot {slot}",
                    c.barcode
                )));
            }
            Self::put(s, &barcode, Place::Drive(drive));
            let load = s.take_load();
            s.drives[drive as usize] = DriveState {
                load,
                source_slot: Some(slot),
                ..Default::default()
            };
            Ok(barcode)
        })?;
        tracing::info!(changer = %self.name, barcode, slot, drive, "loaded");
        Ok(())
    }

    fn unload(&mut self, drive: u32, slot: u32) -> Result<(), TapeError> {
        self.check_drive(drive)?;
        self.check_slot(slot)?;
        let (barcode, _) = self.store.update(|s| {
            let barcode = s
                .at(Place::Drive(drive))
                .map(|c| c.barcode.clone())
                .ok_or_else(|| self.refuse(format!("drive {drive} is empty")))?;
            if let Some(c) = s.at(Place::Slot(slot)) {
                return Err(self.refuse(format!(
                    "slot {slot} already holds {}; cannot unload {barcode} from drive {drive} \
                     there",
                    c.barcode
                )));
            }
            Self::put(s, &barcode, Place::Slot(slot));
            s.drives[drive as usize] = DriveState::default();
            Ok(barcode)
        })?;
        tracing::info!(changer = %self.name, barcode, drive, slot, "unloaded");
        Ok(())
    }

    fn transfer(&mut self, from: u32, to: u32) -> Result<(), TapeError> {
        self.check_slot(from)?;
        self.check_slot(to)?;
        if from == to {
            return Err(self.refuse(format!("slot {from} is both source and destination")));
        }
        let (barcode, _) = self.store.update(|s| {
            let barcode = self.full_slot(s, from)?;
            self.empty_slot(s, to)?;
            Self::put(s, &barcode, Place::Slot(to));
            Ok(barcode)
        })?;
        tracing::info!(
            changer = %self.name, barcode, from, to,
            "moved to {}", describe(&self.shape, Place::Slot(to))
        );
        Ok(())
    }
}
