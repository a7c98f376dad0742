//! Devices over words: ask every configured device where its media are,
//! right before the catalog is judged.
//!
//! The offline verdict follows where each cartridge is. A person's record
//! (`hokan media move`) and the jobs' own reports are only as fresh as the
//! last time somebody typed or a job ran; a cartridge put back into a drive
//! by hand stays "offline" in the catalog until a device is asked again.
//! [`observe_devices`] asks them all: every tape library (changer status),
//! every single tape drive (loaded or not, and which hokan cartridge by its
//! label), every RDX drive or autoloader (the disk device's status). What
//! they report is recorded as `MediumLocated` events observed by the device,
//! exactly as the tape inventory and the disk status record it, so the
//! evaluator believes the device over an older or contradicting word.
//!
//! Each device is read on its own thread with a time limit (the caller's
//! `--observe-timeout`): a library that hangs, a drive that takes minutes
//! to load, or an unreachable device cannot stop the morning status. A
//! device that could not be observed in time leaves its media as they were
//! recorded, and its [`DeviceNote`] says why and when a device last
//! observed its media. A pool whose job lock is held is skipped (the
//! running job owns the drive, and records every move itself).

use std::sync::mpsc;
use std::time::Duration;

use hokan_catalog::{Catalog, Event, MediumRow};
use hokan_offline::{DeviceId, Location, MediumId, ObservedBy, PoolName};
use hokan_site::{DiskPool, TapeMode, TapePool, Target, TargetKind};
use serde::Serialize;
use time::OffsetDateTime;

use crate::disk::PoolRef as DiskPoolRef;
use crate::tape::inventory::{self, device_last};
use crate::{JobError, PoolLock};

/// The actor recorded on the events of an observation.
pub const ACTOR: &str = "hokan status (observe devices)";

/// What kind of device a note is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// A tape library or LTO autoloader (its changer).
    TapeLibrary,
    /// A single, stand-alone tape drive.
    TapeDrive,
    /// An RDX drive, RDX autoloader, removable disk or NAS.
    Disk,
}

/// Where a device saw one medium.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Seen {
    /// The medium.
    pub medium: MediumId,
    /// Where the device has it.
    pub location: Location,
}

/// What observing a device was doing when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Taking the pool's job lock (other than another job holding it).
    Lock,
    /// Opening the device from the pool's settings.
    Open,
    /// Reading the library's changer status.
    Changer,
    /// Asking the single tape drive whether it is loaded.
    Drive,
    /// Reading the label of the cartridge in the single drive.
    Label,
    /// Reading the disk device's status.
    DiskStatus,
    /// Reading the catalog's media or recording what the device reported.
    Catalog,
    /// The thread that reads the device (it could not be started, or
    /// stopped without an answer).
    Reader,
}

/// What came of asking one device.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// The device answered; its report was recorded.
    Observed {
        /// Every catalog medium the device holds, and where.
        seen: Vec<Seen>,
        /// The changes recorded in the catalog.
        moved: Vec<Seen>,
        /// Cartridges the device holds that the catalog does not know.
        unknown: Vec<String>,
        /// Places holding a cartridge without a barcode label.
        unlabelled: Vec<String>,
    },
    /// A job holds the pool's lock: it owns the drive, so the device was
    /// not asked.
    Busy,
    /// The device could not be opened or read, or its report not recorded.
    Failed {
        /// What was being done.
        step: Step,
        /// Why.
        error: JobError,
    },
    /// The device did not answer within the time limit.
    TimedOut {
        /// The limit.
        after: Duration,
    },
}

/// What [`observe_devices`] learned about one device.
#[derive(Debug)]
pub struct DeviceNote {
    /// The pool the device serves.
    pub pool: PoolName,
    /// What kind of device.
    pub kind: DeviceKind,
    /// The device's name as locations name it (`vtl-weekday`,
    /// `/dev/sg3`), or, when it could not be opened, what the configuration
    /// names (a device path, or the simulation's folder).
    pub device: String,
    /// Whether it is a SIMULATED device (`virtual_library`/`virtual_device`).
    pub simulated: bool,
    /// Observed, or why not.
    pub outcome: Outcome,
    /// When a device last observed any medium of the pool, at or before
    /// the observation's instant (none: never). Set only when this
    /// observation did not happen, so that the reader knows how old the
    /// locations the verdicts rest on are.
    pub last_observed: Option<OffsetDateTime>,
}

impl DeviceNote {
    /// Whether the device answered.
    pub fn observed(&self) -> bool {
        matches!(self.outcome, Outcome::Observed { .. })
    }

    /// Where the device saw `medium`, if it answered and holds it.
    pub fn sees(&self, medium: &MediumId) -> Option<&Location> {
        match &self.outcome {
            Outcome::Observed { seen, .. } => seen
                .iter()
                .find(|s| &s.medium == medium)
                .map(|s| &s.location),
            _ => None,
        }
    }
}

/// How an observation is made: its instant (the events' time) and the time
/// limit for reading one device.
#[derive(Clone, Copy, Debug)]
pub struct Observe {
    /// The instant recorded on the events, and the one the age of older
    /// observations is measured from.
    pub now: OffsetDateTime,
    /// How long one device may take to answer.
    pub timeout: Duration,
}

/// Ask the device of every tape and disk pool among `targets` where its
/// media are, and record what they report (only changes) in `cat`. Never
/// fails: a device that cannot be observed gets a note saying why, and its
/// media stay as recorded. Other targets (buckets, vaults) have no device
/// to ask and get no note.
pub fn observe_devices(targets: &[Target], cat: &mut Catalog, how: Observe) -> Vec<DeviceNote> {
    targets
        .iter()
        .filter_map(|target| observe_target(cat, target, how))
        .collect()
}

/// Ask the device of pool `pool` only (`None` when it is not a tape or
/// disk pool among `targets`).
pub fn observe_pool(
    targets: &[Target],
    cat: &mut Catalog,
    pool: &PoolName,
    how: Observe,
) -> Option<DeviceNote> {
    let target = targets.iter().find(|t| &t.name == pool)?;
    observe_target(cat, target, how)
}

fn observe_target(cat: &mut Catalog, target: &Target, how: Observe) -> Option<DeviceNote> {
    match &target.kind {
        TargetKind::TapePool(p) => Some(observe_tape(cat, &target.name, p, how)),
        TargetKind::DiskPool(p) => Some(observe_disk(cat, &target.name, p, how)),
        _ => None,
    }
}

/// A failure at `step`.
fn failed(step: Step) -> impl FnOnce(JobError) -> Outcome {
    move |error| Outcome::Failed { step, error }
}

/// What a tape pool's device reported, read on the observing thread.
enum TapeReading {
    Changer {
        library: String,
        status: hokan_tape::ChangerStatus,
    },
    Drive {
        drive: String,
        /// The hokan cartridge the drive holds (by its label), if any.
        inside: Option<String>,
    },
}

fn observe_tape(cat: &mut Catalog, pool: &PoolName, conf: &TapePool, how: Observe) -> DeviceNote {
    let single = conf.mode == TapeMode::SingleDrive;
    let configured = match (&conf.virtual_library, single, &conf.changer, &conf.device) {
        (Some(dir), _, _, _) => dir.display().to_string(),
        (None, false, Some(c), _) => c.clone(),
        (None, _, _, Some(d)) => d.clone(),
        _ => "-".to_owned(),
    };
    let mut note = DeviceNote {
        pool: pool.clone(),
        kind: if single {
            DeviceKind::TapeDrive
        } else {
            DeviceKind::TapeLibrary
        },
        device: configured,
        simulated: conf.virtual_library.is_some(),
        outcome: Outcome::Busy,
        last_observed: None,
    };
    let _lock = match lock(cat, pool) {
        Ok(l) => l,
        Err(outcome) => return finish(cat, note, outcome, how.now),
    };
    let (name, conf) = (pool.to_string(), conf.clone());
    let read = within(how.timeout, move || -> Result<TapeReading, Outcome> {
        let mut dev = crate::tape::devices::open(&name, &conf).map_err(failed(Step::Open))?;
        if dev.changer.is_some() {
            let status = dev.changer_status().map_err(failed(Step::Changer))?;
            return Ok(TapeReading::Changer {
                library: dev.library.clone(),
                status,
            });
        }
        let st = dev
            .drive
            .status()
            .map_err(|e| failed(Step::Drive)(JobError::Tape(e)))?;
        let inside = if st.loaded {
            hokan_tape::format::read_label(&mut *dev.drive)
                .map_err(|e| failed(Step::Label)(JobError::TapeFormat(e)))?
                .map(|l| l.medium)
        } else {
            None
        };
        Ok(TapeReading::Drive {
            drive: dev.drive_id.clone(),
            inside,
        })
    });
    let reading = match read {
        Ok(r) => r,
        Err(outcome) => return finish(cat, note, outcome, how.now),
    };
    let outcome = (|| -> Result<Outcome, JobError> {
        let media = pool_media(cat, pool)?;
        let last = device_last(&cat.locations(None)?);
        let (inv, seen) = match &reading {
            TapeReading::Changer { library, status } => {
                note.device = library.clone();
                let (places, _) = inventory::places(library, status);
                let seen = places
                    .into_iter()
                    .map(|(b, location)| Seen {
                        medium: MediumId::new(b),
                        location,
                    })
                    .filter(|s| media.iter().any(|m| m.id == s.medium))
                    .collect();
                (
                    inventory::reconcile_with(library, status, &media, &last, how.now),
                    seen,
                )
            }
            TapeReading::Drive { drive, inside } => {
                note.device = drive.clone();
                let seen = inside
                    .iter()
                    .filter(|m| media.iter().any(|x| x.id.as_str() == m.as_str()))
                    .map(|m| Seen {
                        medium: MediumId::new(m.as_str()),
                        location: Location::InDrive {
                            drive: DeviceId::new(drive.as_str()),
                        },
                    })
                    .collect();
                (
                    inventory::reconcile_drive(
                        pool,
                        drive,
                        inside.as_deref(),
                        &media,
                        &last,
                        how.now,
                    ),
                    seen,
                )
            }
        };
        let moved = moves_of(&inv.events);
        cat.record_all(how.now, ACTOR, inv.events)?;
        Ok(Outcome::Observed {
            seen,
            moved,
            unknown: inv.unknown,
            unlabelled: inv.unlabelled,
        })
    })();
    let outcome = outcome.unwrap_or_else(failed(Step::Catalog));
    finish(cat, note, outcome, how.now)
}

fn observe_disk(cat: &mut Catalog, pool: &PoolName, conf: &DiskPool, how: Observe) -> DeviceNote {
    let configured = match (&conf.virtual_device, &conf.device, &conf.mount_point) {
        (Some(dir), _, _) => dir.display().to_string(),
        (None, Some(d), _) => d.clone(),
        (None, None, Some(m)) => m.display().to_string(),
        _ => "-".to_owned(),
    };
    let mut note = DeviceNote {
        pool: pool.clone(),
        kind: DeviceKind::Disk,
        device: configured,
        simulated: conf.virtual_device.is_some(),
        outcome: Outcome::Busy,
        last_observed: None,
    };
    let _lock = match lock(cat, pool) {
        Ok(l) => l,
        Err(outcome) => return finish(cat, note, outcome, how.now),
    };
    let pool_ref = DiskPoolRef { name: pool, conf };
    let spec = match crate::disk::device::spec(pool_ref, cat) {
        Ok(s) => s,
        Err(e) => return finish(cat, note, failed(Step::Open)(e), how.now),
    };
    let read = within(how.timeout, move || {
        let mut dev = spec.open().map_err(failed(Step::Open))?;
        let status = dev
            .status()
            .map_err(|e| failed(Step::DiskStatus)(JobError::Disk(e)))?;
        Ok((dev.name().to_owned(), status))
    });
    let (name, status) = match read {
        Ok(r) => r,
        Err(outcome) => return finish(cat, note, outcome, how.now),
    };
    note.device = name.clone();
    let outcome = (|| -> Result<Outcome, JobError> {
        let media = pool_media(cat, pool)?;
        let history = cat.locations(None)?;
        let moves =
            crate::disk::inventory::reconcile(conf, &name, &status, &media, &device_last(&history));
        let seen = crate::disk::inventory::places(conf, &name, &status, &media)
            .into_iter()
            .map(|(medium, location)| Seen { medium, location })
            .collect();
        let events: Vec<Event> = moves
            .iter()
            .map(|(m, loc)| Event::MediumLocated {
                medium: m.clone(),
                at: how.now,
                location: loc.clone(),
                by: ObservedBy::Device {
                    device: DeviceId::new(name.as_str()),
                },
                note: None,
            })
            .collect();
        let moved = moves_of(&events);
        cat.record_all(how.now, ACTOR, events)?;
        Ok(Outcome::Observed {
            seen,
            moved,
            unknown: Vec::new(),
            unlabelled: Vec::new(),
        })
    })();
    let outcome = outcome.unwrap_or_else(failed(Step::Catalog));
    finish(cat, note, outcome, how.now)
}

/// The catalog's media of `pool`.
fn pool_media(cat: &Catalog, pool: &PoolName) -> Result<Vec<MediumRow>, JobError> {
    Ok(cat
        .media()?
        .into_iter()
        .filter(|m| m.pool.as_ref() == Some(pool))
        .collect())
}

fn moves_of(events: &[Event]) -> Vec<Seen> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MediumLocated {
                medium, location, ..
            } => Some(Seen {
                medium: medium.clone(),
                location: location.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Take the pool's job lock (none for a catalog without a file), or say
/// why not.
fn lock(cat: &Catalog, pool: &PoolName) -> Result<Option<PoolLock>, Outcome> {
    let Some(path) = cat.path() else {
        return Ok(None);
    };
    match PoolLock::take(path, pool.as_str()) {
        Ok(l) => Ok(Some(l)),
        Err(JobError::PoolBusy { .. }) => Err(Outcome::Busy),
        Err(e) => Err(failed(Step::Lock)(e)),
    }
}

/// The note, with the newest device observation of the pool's media when
/// the device was not observed.
fn finish(
    cat: &Catalog,
    mut note: DeviceNote,
    outcome: Outcome,
    now: OffsetDateTime,
) -> DeviceNote {
    note.outcome = outcome;
    if !note.observed() {
        note.last_observed = (|| {
            let media = cat.media().ok()?;
            let history = cat.locations(None).ok()?;
            history
                .iter()
                .filter(|o| matches!(o.by, ObservedBy::Device { .. }) && o.at <= now)
                .filter(|o| {
                    media
                        .iter()
                        .any(|m| m.id == o.medium && m.pool.as_ref() == Some(&note.pool))
                })
                .map(|o| o.at)
                .max()
        })();
    }
    note
}

/// Run `read` on its own thread and wait at most `limit` for it. A thread
/// still blocked in the device after the limit is left behind (it ends
/// with the process, or when the device answers); nothing it would report
/// is used.
fn within<T: Send + 'static>(
    limit: Duration,
    read: impl FnOnce() -> Result<T, Outcome> + Send + 'static,
) -> Result<T, Outcome> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("observe-device".into())
        .spawn(move || {
            let _ = tx.send(read());
        });
    if let Err(e) = spawned {
        return Err(failed(Step::Reader)(JobError::DeviceReaderSpawn(e)));
    }
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Outcome::TimedOut { after: limit }),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(failed(Step::Reader)(JobError::DeviceReaderStopped))
        }
    }
}
