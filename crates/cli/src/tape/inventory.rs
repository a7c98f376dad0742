//! What a library's inventory means for the catalog: pure, tested on
//! changer states.
//!
//! Every cartridge the changer reports is recorded where it is (drive →
//! online; storage slot → ①-2-1; mail slot → still in the library). A
//! cartridge the catalog last saw inside this library that the changer no
//! longer reports has left it through the mail slot: exported (①-2-2).
//! Only changes are recorded, so running the inventory every morning does not
//! flood the event log.

use hokan_catalog::{Event, MediumRow};
use hokan_offline::{DeviceId, Location, MediumId, ObservedBy};
use hokan_tape::ChangerStatus;
use time::OffsetDateTime;

/// The name a library drive has in the catalog: `<library>-drive<N>`.
pub fn drive_name(library: &str, index: u32) -> DeviceId {
    DeviceId::new(format!("{library}-drive{index}"))
}

/// Whether a location is inside `library` (a drive, slot or mail slot of it).
pub fn inside(location: &Location, library: &str) -> bool {
    match location {
        Location::LibrarySlot { library: l, .. } | Location::MailSlot { library: l } => {
            l.as_str() == library
        }
        Location::InDrive { drive } => drive
            .as_str()
            .strip_prefix(library)
            .is_some_and(|rest| rest.starts_with("-drive")),
        _ => false,
    }
}

/// The result of reading an inventory against the catalog.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Location events to record (only changes).
    pub events: Vec<Event>,
    /// Barcodes the changer reports that the catalog does not know.
    pub unknown: Vec<String>,
    /// Cartridges without a barcode label, by place (`slot 4`, `drive 0`).
    pub unlabelled: Vec<String>,
}

/// Compare the changer's state with the catalog's media.
pub fn reconcile(
    library: &str,
    status: &ChangerStatus,
    media: &[MediumRow],
    at: OffsetDateTime,
) -> Inventory {
    let mut inv = Inventory::default();
    let by = ObservedBy::Device {
        device: DeviceId::new(library),
    };
    let lib = DeviceId::new(library);
    let mut seen: Vec<(String, Location)> = Vec::new();
    for d in &status.drives {
        match d.loaded.as_ref().map(|c| c.barcode.clone()) {
            Some(Some(b)) => seen.push((
                b,
                Location::InDrive {
                    drive: drive_name(library, d.index),
                },
            )),
            Some(None) => inv.unlabelled.push(format!("drive {}", d.index)),
            None => {}
        }
    }
    for s in &status.slots {
        match s.cartridge.as_ref().map(|c| c.barcode.clone()) {
            Some(Some(b)) => seen.push((
                b,
                if s.import_export {
                    Location::MailSlot {
                        library: lib.clone(),
                    }
                } else {
                    Location::LibrarySlot {
                        library: lib.clone(),
                        slot: Some(s.number),
                    }
                },
            )),
            Some(None) => inv.unlabelled.push(format!("slot {}", s.number)),
            None => {}
        }
    }
    let last = |id: &MediumId| {
        media
            .iter()
            .find(|m| &m.id == id)
            .and_then(|m| m.location.as_ref().map(|o| o.location.clone()))
    };
    for (barcode, location) in &seen {
        let id = MediumId::new(barcode.as_str());
        if !media.iter().any(|m| m.id == id) {
            inv.unknown.push(barcode.clone());
            continue;
        }
        if last(&id).as_ref() != Some(location) {
            inv.events.push(Event::MediumLocated {
                medium: id,
                at,
                location: location.clone(),
                by: by.clone(),
                note: None,
            });
        }
    }
    for m in media {
        let Some(loc) = m.location.as_ref().map(|o| &o.location) else {
            continue;
        };
        if inside(loc, library) && !seen.iter().any(|(b, _)| b.as_str() == m.id.as_str()) {
            inv.events.push(Event::MediumLocated {
                medium: m.id.clone(),
                at,
                location: Location::Exported {
                    changer: lib.clone(),
                },
                by: by.clone(),
                note: Some("no longer reported by the library".into()),
            });
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use hokan_offline::{Condition, MediumKind, Observation};
    use hokan_tape::{Cartridge, DriveElement, SlotElement};
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);

    fn cart(b: &str) -> Option<Cartridge> {
        Some(Cartridge {
            barcode: (!b.is_empty()).then(|| b.to_owned()),
        })
    }

    /// A library "vtl": drive 0 holds `drive`, slots 1-3 storage, 4 mail.
    fn status(drive: &str, slots: [&str; 4]) -> ChangerStatus {
        ChangerStatus {
            drives: vec![DriveElement {
                index: 0,
                loaded: (drive != "-").then(|| cart(drive)).flatten(),
                source_slot: None,
            }],
            slots: slots
                .iter()
                .enumerate()
                .map(|(i, b)| SlotElement {
                    number: i as u32 + 1,
                    import_export: i == 3,
                    cartridge: (*b != "-").then(|| cart(b)).flatten(),
                })
                .collect(),
        }
    }

    fn medium(id: &str, at: Option<Location>) -> MediumRow {
        MediumRow {
            id: MediumId::new(id),
            kind: MediumKind::LtoLibrary,
            pool: None,
            label: None,
            capacity: None,
            note: None,
            condition: Condition::Writable,
            added_at: AT,
            location: at.map(|location| Observation {
                medium: MediumId::new(id),
                at: AT,
                location,
                by: ObservedBy::Device {
                    device: DeviceId::new("vtl"),
                },
                note: None,
            }),
            copies: 0,
        }
    }

    fn slot(n: u32) -> Location {
        Location::LibrarySlot {
            library: DeviceId::new("vtl"),
            slot: Some(n),
        }
    }

    fn moved(inv: &Inventory) -> Vec<(String, Location)> {
        inv.events
            .iter()
            .map(|e| match e {
                Event::MediumLocated {
                    medium, location, ..
                } => (medium.to_string(), location.clone()),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn only_changes_are_recorded() {
        let media = [medium("A", Some(slot(1))), medium("B", Some(slot(2)))];
        let inv = reconcile("vtl", &status("-", ["A", "B", "-", "-"]), &media, AT);
        assert!(inv.events.is_empty(), "{inv:?}");
        let inv = reconcile("vtl", &status("-", ["A", "-", "B", "-"]), &media, AT);
        assert_eq!(moved(&inv), [("B".to_owned(), slot(3))]);
    }

    #[test]
    fn drive_and_mail_slot_are_inside_the_library() {
        let media = [medium("A", Some(slot(1))), medium("B", Some(slot(2)))];
        let inv = reconcile("vtl", &status("A", ["-", "-", "-", "B"]), &media, AT);
        assert_eq!(
            moved(&inv),
            [
                (
                    "A".to_owned(),
                    Location::InDrive {
                        drive: drive_name("vtl", 0)
                    }
                ),
                (
                    "B".to_owned(),
                    Location::MailSlot {
                        library: DeviceId::new("vtl")
                    }
                ),
            ]
        );
    }

    #[test]
    fn a_cartridge_gone_from_the_library_was_exported_and_others_are_left_alone() {
        let elsewhere = Location::LibrarySlot {
            library: DeviceId::new("vtl2"),
            slot: Some(1),
        };
        let media = [
            medium("A", Some(slot(1))),
            medium(
                "B",
                Some(Location::InDrive {
                    drive: drive_name("vtl", 0),
                }),
            ),
            medium("C", Some(elsewhere)),
            medium("D", None),
        ];
        let inv = reconcile("vtl", &status("-", ["-", "-", "-", "-"]), &media, AT);
        let exported = Location::Exported {
            changer: DeviceId::new("vtl"),
        };
        assert_eq!(
            moved(&inv),
            [
                ("A".to_owned(), exported.clone()),
                ("B".to_owned(), exported)
            ]
        );
    }

    #[test]
    fn unknown_and_unlabelled_cartridges_are_reported_not_recorded() {
        let inv = reconcile("vtl", &status("", ["X", "", "-", "-"]), &[], AT);
        assert!(inv.events.is_empty());
        assert_eq!(inv.unknown, ["X"]);
        assert_eq!(inv.unlabelled, ["drive 0", "slot 2"]);
    }

    #[test]
    fn a_drive_of_a_library_with_a_longer_name_is_not_inside() {
        let d = Location::InDrive {
            drive: drive_name("vtl2", 0),
        };
        assert!(!inside(&d, "vtl"));
        assert!(inside(&d, "vtl2"));
    }
}
