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
//! exactly as `hokan tape inventory` and `hokan disk status` record it, so
//! the evaluator believes the device over an older or contradicting word.
//!
//! Each device is read on its own thread with a time limit (global option
//! `--observe-timeout`, env `HOKAN_OBSERVE_TIMEOUT`, default 30 s): a
//! library that hangs, a drive that takes minutes to load, or an
//! unreachable device cannot stop the morning status. A device that could
//! not be observed in time leaves its media as they were recorded, and its
//! [`DeviceNote`] says why and how old the newest device observation of its
//! media is. A pool whose job lock is held is skipped (the running job owns
//! the drive, and records every move itself).

use std::sync::mpsc;
use std::time::Duration as StdDuration;

use hokan_catalog::{Catalog, Event, MediumRow};
use hokan_offline::{DeviceId, Location, MediumId, ObservedBy, PoolName, Text};
use hokan_site::{DiskPool, TapeMode, TapePool, Target, TargetKind};
use serde::Serialize;
use time::OffsetDateTime;

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::job_error::lock_pool;
use crate::tape::devices::{Devices, DevicesExt};
use crate::tape::inventory::{self, device_last};
use hokan_jobs::PoolLock;

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

/// What came of asking one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
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
    /// The device could not be opened or read.
    Failed {
        /// Why, in the user's language.
        reason: String,
    },
    /// The device did not answer within the time limit.
    TimedOut {
        /// The limit, in seconds.
        after_seconds: u64,
    },
}

/// What `observe_devices` learned about one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    /// When a device last observed any medium of the pool (none: never).
    /// Set when this observation did not happen, so that the reader knows
    /// how old the locations the verdicts rest on are.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_observed: Option<OffsetDateTime>,
    /// How long before the evaluation instant that was, in seconds.
    pub last_observed_age_seconds: Option<i64>,
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

    /// What the device is, in both languages (`tape library vtl (pool p)`).
    pub fn name(&self) -> Text {
        let (en, ja) = match self.kind {
            DeviceKind::TapeLibrary => ("tape library", "テープライブラリ"),
            DeviceKind::TapeDrive => ("tape drive", "テープドライブ"),
            DeviceKind::Disk => ("disk device", "ディスク装置"),
        };
        let (sen, sja) = if self.simulated {
            (" (SIMULATED)", "（模擬）")
        } else {
            ("", "")
        };
        Text::new(
            format!("{en} {}{sen} of pool {}", self.device, self.pool),
            format!("プール {} の{ja} {}{sja}", self.pool, self.device),
        )
    }

    /// One line in both languages: what was observed, or why not and how
    /// old the newest device observation is. Times in `ctx`'s zone.
    pub fn describe(&self, ctx: &SiteCtx<'_>) -> Text {
        let name = self.name();
        let age = || match (self.last_observed, self.last_observed_age_seconds) {
            (Some(at), Some(s)) => {
                let span = hokan_offline::text::span(time::Duration::seconds(s));
                let when = ctx.when(at);
                Text::new(
                    format!(
                        "the newest device observation of its media is {} old ({when}); its media are judged as last recorded",
                        span.en
                    ),
                    format!(
                        "この装置の媒体を装置が最後に確認したのは {}前（{when}）です。媒体は最後の記録のまま判定します",
                        span.ja
                    ),
                )
            }
            _ => Text::new(
                "no device has ever observed its media; they are judged as last recorded",
                "この装置の媒体を装置が確認した記録はありません。媒体は最後の記録のまま判定します",
            ),
        };
        match &self.outcome {
            Outcome::Observed {
                moved,
                unknown,
                unlabelled,
                ..
            } => {
                let (mut en, mut ja) = if moved.is_empty() {
                    (
                        format!("{}: observed, no change", name.en),
                        format!("{}: 確認しました（変化なし）", name.ja),
                    )
                } else {
                    let (me, mj): (Vec<String>, Vec<String>) = moved
                        .iter()
                        .map(|s| {
                            let d = s.location.describe();
                            (
                                format!("{} {}", s.medium, d.en),
                                format!("{} は{}", s.medium, d.ja),
                            )
                        })
                        .unzip();
                    (
                        format!("{}: observed; recorded {}", name.en, me.join(", ")),
                        format!("{}: 確認し、記録しました: {}", name.ja, mj.join("、")),
                    )
                };
                if !unknown.is_empty() {
                    en.push_str(&format!("; not in the catalog: {}", unknown.join(", ")));
                    ja.push_str(&format!("。カタログにない媒体: {}", unknown.join("、")));
                }
                if !unlabelled.is_empty() {
                    en.push_str(&format!(
                        "; without a barcode: {} (media it does not name are left as recorded)",
                        unlabelled.join(", ")
                    ));
                    ja.push_str(&format!(
                        "。バーコードのないカートリッジ: {}（名前の分からない媒体は記録のままにします）",
                        unlabelled.join("、")
                    ));
                }
                Text::new(en, ja)
            }
            Outcome::Busy => {
                let a = age();
                Text::new(
                    format!(
                        "{}: not observed, a job is running on the pool and owns the drive; {}",
                        name.en, a.en
                    ),
                    format!(
                        "{}: プールでジョブが実行中でドライブを使用しているため確認しませんでした。{}",
                        name.ja, a.ja
                    ),
                )
            }
            Outcome::Failed { reason } => {
                let a = age();
                Text::new(
                    format!("{}: could not be observed ({reason}); {}", name.en, a.en),
                    format!("{}: 確認できませんでした（{reason}）。{}", name.ja, a.ja),
                )
            }
            Outcome::TimedOut { after_seconds } => {
                let a = age();
                Text::new(
                    format!(
                        "{}: did not answer within {after_seconds} s (--observe-timeout); {}",
                        name.en, a.en
                    ),
                    format!(
                        "{}: {after_seconds} 秒以内に応答がありませんでした（--observe-timeout）。{}",
                        name.ja, a.ja
                    ),
                )
            }
        }
    }
}

/// Ask every configured tape and disk pool's device where its media are,
/// and record what they report (only changes) in `cat`. Never fails: a
/// device that cannot be observed gets a note saying why, and its media
/// stay as recorded. Without a site configuration there is nothing to ask.
pub fn observe_devices(ctx: &SiteCtx<'_>, cat: &mut Catalog) -> Vec<DeviceNote> {
    let Some(site) = &ctx.conf.loaded else {
        return Vec::new();
    };
    site.targets()
        .iter()
        .filter_map(|target| observe_target(ctx, cat, target))
        .collect()
}

/// Ask the device of pool `pool` only (`None` when the pool is not a
/// configured tape or disk pool).
pub fn observe_pool(ctx: &SiteCtx<'_>, cat: &mut Catalog, pool: &PoolName) -> Option<DeviceNote> {
    let site = ctx.conf.loaded.as_ref()?;
    let target = site.targets().iter().find(|t| &t.name == pool)?;
    observe_target(ctx, cat, target)
}

fn observe_target(ctx: &SiteCtx<'_>, cat: &mut Catalog, target: &Target) -> Option<DeviceNote> {
    match &target.kind {
        TargetKind::TapePool(p) => Some(observe_tape(ctx, cat, target, p)),
        TargetKind::DiskPool(p) => Some(observe_disk(ctx, cat, target, p)),
        _ => None,
    }
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

fn observe_tape(
    ctx: &SiteCtx<'_>,
    cat: &mut Catalog,
    target: &Target,
    conf: &TapePool,
) -> DeviceNote {
    let single = conf.mode == TapeMode::SingleDrive;
    let configured = match (&conf.virtual_library, single, &conf.changer, &conf.device) {
        (Some(dir), _, _, _) => dir.display().to_string(),
        (None, false, Some(c), _) => c.clone(),
        (None, _, _, Some(d)) => d.clone(),
        _ => "-".to_owned(),
    };
    let mut note = DeviceNote {
        pool: target.name.clone(),
        kind: if single {
            DeviceKind::TapeDrive
        } else {
            DeviceKind::TapeLibrary
        },
        device: configured,
        simulated: conf.virtual_library.is_some(),
        outcome: Outcome::Busy,
        last_observed: None,
        last_observed_age_seconds: None,
    };
    let _lock = match lock(ctx, cat, &target.name) {
        Ok(l) => l,
        Err(outcome) => return finish(ctx, cat, note, outcome),
    };
    let pool = crate::tape::Pool {
        name: target.name.clone(),
        conf: conf.clone(),
        retention: target.retention,
    };
    let lang = ctx.lang;
    let read = within(timeout(ctx), move || -> Result<TapeReading, Failure> {
        let mut dev = Devices::open(&pool, lang)?;
        if dev.changer.is_some() {
            let status = dev.status_in(lang)?;
            return Ok(TapeReading::Changer {
                library: dev.library.clone(),
                status,
            });
        }
        let st = dev
            .drive
            .status()
            .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
        let inside = if st.loaded {
            hokan_tape::format::read_label(&mut *dev.drive)
                .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?
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
        Err(outcome) => return finish(ctx, cat, note, outcome),
    };
    let outcome = (|| -> Result<Outcome, Failure> {
        let media = cat.media().map_err(|e| ctx.catalog_failure(&e))?;
        let history = cat.locations(None).map_err(|e| ctx.catalog_failure(&e))?;
        let last = device_last(&history);
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
                    inventory::reconcile_with(library, status, &media, &last, ctx.now),
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
                        &target.name,
                        drive,
                        inside.as_deref(),
                        &media,
                        &last,
                        ctx.now,
                    ),
                    seen,
                )
            }
        };
        let moved = moves_of(&inv.events);
        cat.record_all(ctx.now, ACTOR, inv.events)
            .map_err(|e| ctx.catalog_failure(&e))?;
        Ok(Outcome::Observed {
            seen,
            moved,
            unknown: inv.unknown,
            unlabelled: inv.unlabelled,
        })
    })();
    let outcome = outcome.unwrap_or_else(|f| Outcome::Failed { reason: f.message });
    finish(ctx, cat, note, outcome)
}

fn observe_disk(
    ctx: &SiteCtx<'_>,
    cat: &mut Catalog,
    target: &Target,
    conf: &DiskPool,
) -> DeviceNote {
    let configured = match (&conf.virtual_device, &conf.device, &conf.mount_point) {
        (Some(dir), _, _) => dir.display().to_string(),
        (None, Some(d), _) => d.clone(),
        (None, None, Some(m)) => m.display().to_string(),
        _ => "-".to_owned(),
    };
    let note = DeviceNote {
        pool: target.name.clone(),
        kind: DeviceKind::Disk,
        device: configured,
        simulated: conf.virtual_device.is_some(),
        outcome: Outcome::Busy,
        last_observed: None,
        last_observed_age_seconds: None,
    };
    let _lock = match lock(ctx, cat, &target.name) {
        Ok(l) => l,
        Err(outcome) => return finish(ctx, cat, note, outcome),
    };
    let pool = crate::disk::Pool {
        name: target.name.clone(),
        conf: conf.clone(),
        retention: target.retention,
    };
    let spec = match crate::disk::device::spec(ctx, &pool, cat) {
        Ok(s) => s,
        Err(f) => return finish(ctx, cat, note, Outcome::Failed { reason: f.message }),
    };
    let lang = ctx.lang;
    let read = within(timeout(ctx), move || {
        let mut dev = spec.open(lang)?;
        let status = dev
            .status()
            .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
        Ok((dev.name().to_owned(), status))
    });
    let (name, status) = match read {
        Ok(r) => r,
        Err(outcome) => return finish(ctx, cat, note, outcome),
    };
    let mut note = note;
    note.device = name.clone();
    let outcome = (|| -> Result<Outcome, Failure> {
        let media: Vec<MediumRow> = cat
            .media()
            .map_err(|e| ctx.catalog_failure(&e))?
            .into_iter()
            .filter(|m| m.pool.as_ref() == Some(&pool.name))
            .collect();
        let history = cat.locations(None).map_err(|e| ctx.catalog_failure(&e))?;
        let moves = hokan_jobs::disk::inventory::reconcile(
            &pool.conf,
            &name,
            &status,
            &media,
            &device_last(&history),
        );
        let seen = hokan_jobs::disk::inventory::places(&pool.conf, &name, &status, &media)
            .into_iter()
            .map(|(medium, location)| Seen { medium, location })
            .collect();
        let events: Vec<Event> = moves
            .iter()
            .map(|(m, loc)| Event::MediumLocated {
                medium: m.clone(),
                at: ctx.now,
                location: loc.clone(),
                by: ObservedBy::Device {
                    device: DeviceId::new(name.as_str()),
                },
                note: None,
            })
            .collect();
        let moved = moves_of(&events);
        cat.record_all(ctx.now, ACTOR, events)
            .map_err(|e| ctx.catalog_failure(&e))?;
        Ok(Outcome::Observed {
            seen,
            moved,
            unknown: Vec::new(),
            unlabelled: Vec::new(),
        })
    })();
    let outcome = outcome.unwrap_or_else(|f| Outcome::Failed { reason: f.message });
    finish(ctx, cat, note, outcome)
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

/// Take the pool's job lock, or say why not.
fn lock(ctx: &SiteCtx<'_>, cat: &Catalog, pool: &PoolName) -> Result<Option<PoolLock>, Outcome> {
    let Some(path) = cat.path() else {
        return Ok(None);
    };
    match lock_pool(path, pool.as_str(), ctx.lang) {
        Ok(l) => Ok(Some(l)),
        Err(f) if f.code == exit::LOCKED => Err(Outcome::Busy),
        Err(f) => Err(Outcome::Failed { reason: f.message }),
    }
}

/// The note, with the age of the newest device observation of the pool's
/// media when the device was not observed.
fn finish(ctx: &SiteCtx<'_>, cat: &Catalog, mut note: DeviceNote, outcome: Outcome) -> DeviceNote {
    note.outcome = outcome;
    if !note.observed() {
        let newest = (|| {
            let media = cat.media().ok()?;
            let history = cat.locations(None).ok()?;
            history
                .iter()
                .filter(|o| matches!(o.by, ObservedBy::Device { .. }) && o.at <= ctx.now)
                .filter(|o| {
                    media
                        .iter()
                        .any(|m| m.id == o.medium && m.pool.as_ref() == Some(&note.pool))
                })
                .map(|o| o.at)
                .max()
        })();
        note.last_observed = newest;
        note.last_observed_age_seconds = newest.map(|at| (ctx.now - at).whole_seconds());
    }
    note
}

/// The time limit for reading one device: `--observe-timeout`.
pub fn timeout(ctx: &SiteCtx<'_>) -> StdDuration {
    ctx.g.observe_timeout
}

/// Run `read` on its own thread and wait at most `limit` for it. A thread
/// still blocked in the device after the limit is left behind (it ends
/// with the process); nothing it would report is used.
fn within<T: Send + 'static>(
    limit: StdDuration,
    read: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Outcome> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("observe-device".into())
        .spawn(move || {
            let _ = tx.send(read());
        });
    if let Err(e) = spawned {
        return Err(Outcome::Failed {
            reason: e.to_string(),
        });
    }
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(f)) => Err(Outcome::Failed { reason: f.message }),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Outcome::TimedOut {
            after_seconds: limit.as_secs().max(1),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Outcome::Failed {
            reason: "the device reader stopped without an answer".into(),
        }),
    }
}

/// Parse `--observe-timeout`: a length such as `30s`, `2m`.
pub fn parse_timeout(s: &str) -> Result<StdDuration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: a length of time such as 30s or 2m"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: a length of time such as 30s or 2m")),
    };
    if secs == 0 {
        return Err(format!("{s:?}: the time limit must be at least 1s"));
    }
    Ok(StdDuration::from_secs(secs))
}

/// The notes as printed by `status`: one line per device, in `lang`.
pub fn render(ctx: &SiteCtx<'_>, notes: &[DeviceNote]) -> String {
    let l: Lang = ctx.lang;
    if notes.is_empty() {
        return String::new();
    }
    let mut o = format!(
        "{}\n",
        t(
            l,
            "Devices (asked before judging):",
            "装置（判定の前に確認）:"
        )
    );
    for n in notes {
        let mark = match n.outcome {
            Outcome::Observed { .. } => "✓",
            Outcome::Busy => "–",
            _ => "✗",
        };
        o.push_str(&format!("  {mark} {}\n", ctx.pick(&n.describe(ctx))));
    }
    o.push('\n');
    o
}
