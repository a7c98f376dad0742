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
