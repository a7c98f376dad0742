//! What a library's inventory means for the catalog: pure, tested on
//! changer states.
//!
//! Every cartridge the changer reports is recorded where it is (drive →
//! online; storage slot → ①-2-1; mail slot → still in the library). A
//! cartridge the catalog last saw inside this library that the changer no
//! longer reports has left it through the mail slot: exported (①-2-2).
//! Only changes are recorded, so running the inventory every morning does not
//! flood the event log.

use std::collections::HashMap;

use hokan_catalog::{Event, MediumRow};
use hokan_offline::{DeviceId, Location, MediumId, Observation, ObservedBy, PoolName};
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

/// The newest device report of each medium, from the catalog's location
/// history in recording order (`Catalog::locations`). A person's later
/// record does not hide where a device last saw a medium.
pub fn device_last(history: &[Observation]) -> HashMap<MediumId, Location> {
    let mut last = HashMap::new();
    for o in history {
        if matches!(o.by, ObservedBy::Device { .. }) {
            last.insert(o.medium.clone(), o.location.clone());
        }
    }
    last
}

/// The device reports of the media rows themselves (a stand-in for
/// [`device_last`] when only the rows are at hand).
fn rows_device_last(media: &[MediumRow]) -> HashMap<MediumId, Location> {
    media
        .iter()
        .filter_map(|m| m.location.as_ref())
        .filter(|o| matches!(o.by, ObservedBy::Device { .. }))
        .map(|o| (o.medium.clone(), o.location.clone()))
        .collect()
}

/// Where the changer reports each labelled cartridge (by barcode), and the
/// places of cartridges without a barcode label (`slot 4`, `drive 0`).
pub fn places(library: &str, status: &ChangerStatus) -> (Vec<(String, Location)>, Vec<String>) {
    let lib = DeviceId::new(library);
    let mut seen: Vec<(String, Location)> = Vec::new();
    let mut unlabelled = Vec::new();
    for d in &status.drives {
        match d.loaded.as_ref().map(|c| c.barcode.clone()) {
            Some(Some(b)) => seen.push((
                b,
                Location::InDrive {
                    drive: drive_name(library, d.index),
                },
            )),
            Some(None) => unlabelled.push(format!("drive {}", d.index)),
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
            Some(None) => unlabelled.push(format!("slot {}", s.number)),
            None => {}
        }
    }
    (seen, unlabelled)
}

/// Compare the changer's state with the catalog's media (their latest
/// records, which are the device's own in the tests of this module).
pub fn reconcile(
    library: &str,
    status: &ChangerStatus,
    media: &[MediumRow],
    at: OffsetDateTime,
) -> Inventory {
    reconcile_with(library, status, media, &rows_device_last(media), at)
}

/// Compare the changer's state with the catalog's media. `device_last` is
/// where a device last saw each medium ([`device_last`]): a cartridge the
/// library last reported inside it counts as inside even when a person
/// recorded it elsewhere since, so that its leaving is confirmed by the
/// device (devices over words).
///
/// A cartridge without a barcode label may be any of the library's media,
/// so while there is one, a medium the changer does not name is left as it
/// was rather than recorded as exported.
pub fn reconcile_with(
    library: &str,
    status: &ChangerStatus,
    media: &[MediumRow],
    device_last: &HashMap<MediumId, Location>,
    at: OffsetDateTime,
) -> Inventory {
    let mut inv = Inventory::default();
    let by = ObservedBy::Device {
        device: DeviceId::new(library),
    };
    let lib = DeviceId::new(library);
    let (seen, unlabelled) = places(library, status);
    inv.unlabelled = unlabelled;
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
    if !inv.unlabelled.is_empty() {
        return inv;
    }
    for m in media {
        let recorded = m.location.as_ref().map(|o| &o.location);
        let was_inside = recorded.is_some_and(|l| inside(l, library))
            || device_last.get(&m.id).is_some_and(|l| inside(l, library));
        let exported = Location::Exported {
            changer: lib.clone(),
        };
        if was_inside && !seen.iter().any(|(b, _)| b.as_str() == m.id.as_str()) {
            inv.events.push(Event::MediumLocated {
                medium: m.id.clone(),
                at,
                location: exported,
                by: by.clone(),
                note: Some("no longer reported by the library".into()),
            });
        }
    }
    inv
}

/// Compare what a single drive holds (`inside`: the medium its label
/// names, if a hokan cartridge is loaded) with the catalog's media of
/// `pool`: a medium now in the drive is recorded there; one that was in it
/// (by its latest record or the drive's last report) and is not any more
/// is recorded ejected.
pub fn reconcile_drive(
    pool: &PoolName,
    drive: &str,
    inside: Option<&str>,
    media: &[MediumRow],
    device_last: &HashMap<MediumId, Location>,
    at: OffsetDateTime,
) -> Inventory {
    let mut inv = Inventory::default();
    let in_drive = Location::InDrive {
        drive: DeviceId::new(drive),
    };
    let ejected = Location::Ejected {
        drive: Some(DeviceId::new(drive)),
    };
    for m in media.iter().filter(|m| m.pool.as_ref() == Some(pool)) {
        let recorded = m.location.as_ref().map(|o| &o.location);
        let was_in = recorded == Some(&in_drive) || device_last.get(&m.id) == Some(&in_drive);
        let is_in = inside == Some(m.id.as_str());
        let to = match (was_in, is_in) {
            (_, true) if recorded != Some(&in_drive) => Some(in_drive.clone()),
            (true, false) => Some(ejected.clone()),
            _ => None,
        };
        if let Some(location) = to {
            inv.events.push(Event::MediumLocated {
                medium: m.id.clone(),
                at,
                location,
                by: ObservedBy::Device {
                    device: DeviceId::new(drive),
                },
                note: None,
            });
        }
    }
    if let Some(m) = inside.filter(|m| !media.iter().any(|x| x.id.as_str() == *m)) {
        inv.unknown.push(m.to_owned());
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use hokan_offline::{Condition, MediumKind};
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

    fn person(id: &str, location: Location) -> MediumRow {
        let mut m = medium(id, None);
        m.location = Some(Observation {
            medium: MediumId::new(id),
            at: AT,
            location,
            by: ObservedBy::Person {
                person: "Sato".into(),
            },
            note: None,
        });
        m
    }

    #[test]
    fn a_cartridge_a_person_moved_is_confirmed_by_the_library() {
        let drive = Location::InDrive {
            drive: drive_name("vtl", 0),
        };
        let offsite = Location::Offsite {
            site: "vault".into(),
        };
        // The library saw A in its drive, then Sato recorded it offsite.
        let media = [person("A", offsite.clone())];
        let last: HashMap<_, _> = [(MediumId::new("A"), drive.clone())].into();
        // Still in the drive: the device's place is recorded again.
        let inv = reconcile_with("vtl", &status("A", ["-", "-", "-", "-"]), &media, &last, AT);
        assert_eq!(moved(&inv), [("A".to_owned(), drive)]);
        // Gone from the library: the library confirms it left (exported).
        let inv = reconcile_with("vtl", &status("-", ["-", "-", "-", "-"]), &media, &last, AT);
        let exported = Location::Exported {
            changer: DeviceId::new("vtl"),
        };
        assert_eq!(moved(&inv), [("A".to_owned(), exported.clone())]);
        // Once confirmed, nothing more is recorded.
        let last: HashMap<_, _> = [(MediumId::new("A"), exported)].into();
        let inv = reconcile_with("vtl", &status("-", ["-", "-", "-", "-"]), &media, &last, AT);
        assert!(inv.events.is_empty(), "{inv:?}");
    }

    #[test]
    fn an_unlabelled_cartridge_keeps_unnamed_media_where_they_were() {
        let media = [medium("A", Some(slot(1)))];
        let inv = reconcile("vtl", &status("", ["-", "-", "-", "-"]), &media, AT);
        assert!(
            inv.events.is_empty(),
            "A may be the unlabelled one: {inv:?}"
        );
        assert_eq!(inv.unlabelled, ["drive 0"]);
    }

    #[test]
    fn a_single_drive_records_what_it_holds_and_what_left_it() {
        let pool = PoolName::new("single");
        let in_drive = Location::InDrive {
            drive: DeviceId::new("d"),
        };
        let ejected = Location::Ejected {
            drive: Some(DeviceId::new("d")),
        };
        let mut a = person("A", Location::Shelf { place: None });
        a.pool = Some(pool.clone());
        let media = [a];
        let none = HashMap::new();
        // Put back behind hokan's back: in the drive.
        let inv = reconcile_drive(&pool, "d", Some("A"), &media, &none, AT);
        assert_eq!(moved(&inv), [("A".to_owned(), in_drive.clone())]);
        // The drive last saw it, a person recorded the shelf, the drive is
        // empty now: the drive confirms it was ejected.
        let last: HashMap<_, _> = [(MediumId::new("A"), in_drive)].into();
        let inv = reconcile_drive(&pool, "d", None, &media, &last, AT);
        assert_eq!(moved(&inv), [("A".to_owned(), ejected)]);
        // Nothing to say otherwise; an unknown cartridge is reported.
        let inv = reconcile_drive(&pool, "d", Some("X"), &media, &none, AT);
        assert!(inv.events.is_empty());
        assert_eq!(inv.unknown, ["X"]);
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
