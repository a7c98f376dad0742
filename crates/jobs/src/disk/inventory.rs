//! What a disk device's report means for the catalog: pure, so that
//! `status`, `disk inventory` and a daemon judge a report alike.
//!
//! Every pool cartridge the device reports is recorded where it is (in the
//! drive or connected → online; active slot → online; inactive slot →
//! ②-2-1). A medium the catalog last saw inside this device that the
//! device no longer reports has left it: exported from an autoloader's
//! slot, ejected from a drive. Only changes are returned, so observing
//! every morning does not flood the event log.

use std::collections::HashMap;

use hokan_catalog::MediumRow;
use hokan_disk::{Place, Status};
use hokan_offline::{DeviceId, Location, MediumId};
use hokan_site::DiskPool;

use super::{attached_location, medium_of};

/// Where a cartridge the device `name` of a pool (`conf`) reports is, for
/// the catalog.
pub fn reported_location(conf: &DiskPool, name: &str, place: &Place) -> Location {
    match place {
        Place::Drive => attached_location(conf, name),
        Place::Slot { active: true, .. } => Location::ActiveSlot {
            autoloader: DeviceId::new(name),
        },
        Place::Slot {
            slot,
            active: false,
        } => Location::InactiveSlot {
            autoloader: DeviceId::new(name),
            slot: Some(*slot),
        },
    }
}

/// Whether a location puts a medium inside the device `name`.
pub fn inside(location: &Location, name: &str) -> bool {
    match location {
        Location::InDrive { drive } => drive.as_str() == name,
        Location::ActiveSlot { autoloader } | Location::InactiveSlot { autoloader, .. } => {
            autoloader.as_str() == name
        }
        Location::Connected { host } => host.as_deref() == Some(name),
        _ => false,
    }
}

/// Where the device `name` sees each of the pool's media (`media`).
pub fn places(
    conf: &DiskPool,
    name: &str,
    st: &Status,
    media: &[MediumRow],
) -> Vec<(MediumId, Location)> {
    st.cartridges
        .iter()
        .filter_map(|c| {
            Some((
                medium_of(c, media)?,
                reported_location(conf, name, &c.place),
            ))
        })
        .collect()
}

/// The moves to record from what the device `name` reports (`st`), against
/// the pool's media (`media`, their latest records) and where a device last
/// saw each (`device_last`, [`crate::tape::inventory::device_last`]): every
/// reported cartridge where its record differs, and every medium that was
/// inside the device (by its record, or by the device's last report even
/// if a person recorded it elsewhere since) and is not any more: exported
/// from an autoloader's slot, ejected from a drive.
pub fn reconcile(
    conf: &DiskPool,
    name: &str,
    st: &Status,
    media: &[MediumRow],
    device_last: &HashMap<MediumId, Location>,
) -> Vec<(MediumId, Location)> {
    let mut moves = Vec::new();
    let seen = places(conf, name, st, media);
    for (m, loc) in &seen {
        let last = media
            .iter()
            .find(|x| &x.id == m)
            .and_then(|x| x.location.as_ref())
            .map(|o| &o.location);
        if last != Some(loc) {
            moves.push((m.clone(), loc.clone()));
        }
    }
    for m in media {
        if seen.iter().any(|(s, _)| s == &m.id) {
            continue;
        }
        let recorded = m.location.as_ref().map(|o| &o.location);
        let was = match (recorded, device_last.get(&m.id)) {
            (Some(r), _) if inside(r, name) => r,
            (_, Some(d)) if inside(d, name) => d,
            _ => continue,
        };
        let gone = match was {
            Location::InactiveSlot { .. } | Location::ActiveSlot { .. } => Location::Exported {
                changer: DeviceId::new(name),
            },
            _ => Location::Ejected {
                drive: Some(DeviceId::new(name)),
            },
        };
        moves.push((m.id.clone(), gone));
    }
    moves
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::tests::disk_pool;
    use hokan_disk::Cartridge;
    use hokan_offline::{Condition, MediumKind, Observation, ObservedBy};
    use hokan_site::DiskAfterJob;
    use time::macros::datetime;

    const AT: time::OffsetDateTime = datetime!(2026-11-20 22:00 UTC);

    fn autoloader() -> DiskPool {
        DiskPool {
            mode: hokan_site::DiskMode::RdxAutoloader,
            ..disk_pool(DiskAfterJob::Deactivate)
        }
    }

    fn medium(id: &str, at: Option<Location>, by_device: bool) -> MediumRow {
        MediumRow {
            id: MediumId::new(id),
            kind: MediumKind::RdxAutoloader,
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
                by: if by_device {
                    ObservedBy::Device {
                        device: DeviceId::new("rdx0"),
                    }
                } else {
                    ObservedBy::Person {
                        person: "Sato".into(),
                    }
                },
                note: None,
            }),
            copies: 0,
        }
    }

    fn cart(label: &str, place: Place) -> Cartridge {
        Cartridge {
            place,
            device: None,
            uuid: None,
            fs_label: Some(label.into()),
            mounted_at: None,
        }
    }

    fn slot(slot: u32, active: bool) -> Place {
        Place::Slot { slot, active }
    }

    #[test]
    fn where_a_reported_cartridge_is_follows_the_pool_and_the_slot() {
        let drive = disk_pool(DiskAfterJob::Eject);
        assert_eq!(
            reported_location(&drive, "rdx0", &Place::Drive),
            Location::InDrive {
                drive: DeviceId::new("rdx0")
            }
        );
        let al = autoloader();
        assert_eq!(
            reported_location(&al, "rdx0", &slot(2, true)),
            Location::ActiveSlot {
                autoloader: DeviceId::new("rdx0")
            }
        );
        assert_eq!(
            reported_location(&al, "rdx0", &slot(2, false)),
            Location::InactiveSlot {
                autoloader: DeviceId::new("rdx0"),
                slot: Some(2)
            }
        );
        let usb = DiskPool {
            mode: hokan_site::DiskMode::RemovableDisk,
            ..disk_pool(DiskAfterJob::Unmount)
        };
        let here = reported_location(&usb, "usb0", &Place::Drive);
        assert_eq!(
            here,
            Location::Connected {
                host: Some("usb0".into())
            }
        );
        assert!(inside(&here, "usb0"));
        assert!(!inside(&here, "usb1"));
        assert!(!inside(&Location::Ejected { drive: None }, "usb0"));
    }

    #[test]
    fn only_the_pools_cartridges_are_placed_and_only_changes_are_moves() {
        let al = autoloader();
        let st = Status {
            cartridges: vec![
                cart("RDX-1", slot(1, true)),
                cart("RDX-2", slot(2, false)),
                cart("STRANGER", slot(3, false)),
            ],
            slots: Vec::new(),
        };
        let active = Location::ActiveSlot {
            autoloader: DeviceId::new("rdx0"),
        };
        let media = vec![
            medium("RDX-1", Some(active.clone()), true),
            medium("RDX-2", None, false),
        ];
        let seen = places(&al, "rdx0", &st, &media);
        assert_eq!(seen.len(), 2, "{seen:?}");
        // RDX-1 is recorded where it is: no move; RDX-2 is new in slot 2.
        let moves = reconcile(&al, "rdx0", &st, &media, &HashMap::new());
        assert_eq!(
            moves,
            vec![(
                MediumId::new("RDX-2"),
                Location::InactiveSlot {
                    autoloader: DeviceId::new("rdx0"),
                    slot: Some(2)
                }
            )]
        );
    }

    #[test]
    fn a_cartridge_no_longer_reported_has_left_the_device() {
        let al = autoloader();
        let st = Status::default();
        let media = vec![
            // Recorded in a slot of this autoloader: exported.
            medium(
                "RDX-1",
                Some(Location::InactiveSlot {
                    autoloader: DeviceId::new("rdx0"),
                    slot: Some(1),
                }),
                true,
            ),
            // In another device: not this device's business.
            medium(
                "RDX-2",
                Some(Location::InDrive {
                    drive: DeviceId::new("rdx9"),
                }),
                true,
            ),
            // A person recorded it on a shelf, but the device last saw it
            // in its drive: it has left the drive.
            medium("RDX-3", Some(Location::Ejected { drive: None }), false),
        ];
        let mut last = HashMap::new();
        last.insert(
            MediumId::new("RDX-3"),
            Location::InDrive {
                drive: DeviceId::new("rdx0"),
            },
        );
        let moves = reconcile(&al, "rdx0", &st, &media, &last);
        assert_eq!(
            moves,
            vec![
                (
                    MediumId::new("RDX-1"),
                    Location::Exported {
                        changer: DeviceId::new("rdx0")
                    }
                ),
                (
                    MediumId::new("RDX-3"),
                    Location::Ejected {
                        drive: Some(DeviceId::new("rdx0"))
                    }
                ),
            ]
        );
    }
}
