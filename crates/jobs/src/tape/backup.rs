//! `tape backup` as a library: snapshots copied from the primary
//! repository to a media set of a pool (a new one, or the pool's open set
//! when its allocation continues it).
//!
//! The order of events is what keeps the catalog truthful when the job is
//! killed (see [the module above](super)). A reader thread keeps the next
//! objects ready (read and hashed) while the drive writes, so that the
//! drive streams.
//!
//! A single drive has no changer: the cartridge a person inserted is used,
//! and with [`BackupJob::wait`] the job asks for another through
//! [`TapeProgress::waiting`] and watches the drive until one that fits is
//! inserted.

use std::time::{Duration, Instant};

use hokan_catalog::{Catalog, Event, MediaSetRow, Retained};
use hokan_format::Id;
use hokan_offline::{MediumId, PoolName};
use hokan_repo::copy::CopyPlan;
use hokan_repo::Repository;
use hokan_tape::format::{self, Finish, Progress, SetCatalog, SetWriter};
use hokan_tape::TapeError;
use serde_json::json;
use time::UtcOffset;

use super::anchor::{anchor_of_head, check_anchor};
use super::inventory::reconcile;
use super::library::{self, located, record_move, Devices, Moved};
use super::{PoolRef, WrittenSet};
use crate::rotation::tape::{candidates, choose};
use crate::{Clock, JobError};

/// Largest tape-file segment of one object (see docs/tape-format.md).
const MAX_SEGMENT: u64 = 64 << 20;

/// How many objects the reader thread may hold ready ahead of the writer.
const READ_AHEAD: usize = 2;

/// How often a waiting job looks at the single drive again.
const WAIT_POLL: Duration = Duration::from_millis(250);

/// Why a cartridge the changer brought was not used (the job goes on with
/// another).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TapeRefusal {
    /// Its write-protect tab is set.
    #[error("write protected")]
    WriteProtected,
    /// Its label names another medium or pool.
    #[error("labelled {medium} / {pool}")]
    OtherLabel {
        /// The medium its label names.
        medium: String,
        /// The pool its label names.
        pool: String,
    },
    /// It has no label.
    #[error("blank")]
    Blank,
    /// Its label cannot be read.
    #[error(transparent)]
    Unreadable(format::FormatError),
}

/// What is wrong with the single drive's cartridge, that inserting
/// another puts right.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriveProblem {
    /// No cartridge in the drive.
    Empty,
    /// The cartridge has no label.
    Blank,
    /// The cartridge is of another pool.
    OtherPool {
        /// The medium its label names.
        medium: String,
        /// The pool its label names.
        pool: String,
    },
    /// The cartridge is already part of this set.
    AlreadyInSet {
        /// The medium.
        medium: String,
    },
}

/// Something the job says while it runs.
#[derive(Debug)]
#[non_exhaustive]
pub enum Note<'a> {
    /// The cartridge is full; the set continues on the next one.
    CartridgeFull {
        /// The full cartridge.
        medium: &'a str,
    },
    /// A cartridge the changer brought was refused (and put back).
    Refused {
        /// The cartridge.
        medium: &'a str,
        /// Why.
        why: &'a TapeRefusal,
    },
    /// The open set's last cartridge does not hold the set's catalog any
    /// more: the set is closed and a new one begun.
    NoSetCatalog {
        /// The cartridge.
        medium: &'a str,
        /// The set.
        set: &'a str,
    },
}

/// The progress handle of a tape backup job.
pub trait TapeProgress {
    /// The bytes the job will write.
    fn total(&self, bytes: u64);
    /// `bytes` more written.
    fn advance(&self, bytes: u64);
    /// Cartridge `medium` is being written now.
    fn cartridge(&self, medium: &str);
    /// The set is being read back.
    fn verifying(&self);
    /// Something worth saying.
    fn note(&self, note: Note<'_>);
    /// The job waits (at most `wait`) for a person to insert a cartridge
    /// in the single drive, because of `why`. Said once per wait.
    fn waiting(&self, why: &JobError, wait: Duration);
}

/// A tape backup job: what to copy, where, and how.
#[derive(Clone, Copy, Debug)]
pub struct BackupJob<'a> {
    /// The pool.
    pub pool: PoolRef<'a>,
    /// The snapshots written.
    pub snapshots: &'a [Id],
    /// Their copy plan.
    pub plan: &'a CopyPlan,
    /// Read every cartridge back after writing.
    pub verify: bool,
    /// How long a single-drive job waits for a person to insert a
    /// cartridge (zero: fail at once, asking for it).
    pub wait: Duration,
    /// The site's name, carried by the set catalog's anchor.
    pub site: &'a str,
    /// The site's time zone (where weeks begin).
    pub offset: UtcOffset,
    /// When the job began, for its duration.
    pub started: Instant,
    /// The actor recorded on the job's events.
    pub actor: &'a str,
}

/// What a tape backup job did.
#[derive(Debug, serde::Serialize)]
pub struct TapeBackup {
    /// The set written.
    pub set: String,
    /// Whether it continued an open set.
    pub appended: bool,
    /// The set's cartridges, in order.
    pub cartridges: Vec<String>,
    /// Bytes written.
    pub bytes: u64,
    /// Seconds from [`BackupJob::started`] to the end.
    pub seconds: f64,
    /// Seconds spent writing (for the throughput).
    pub write_seconds: f64,
    /// Whether the set was read back.
    pub verified: Option<bool>,
    /// Cartridges refused on the way, with why.
    pub refused: Vec<(String, TapeRefusal)>,
    /// Where the cartridges went after the job.
    pub after_job: Vec<Moved>,
}

/// A refusal is serialized as its short English text (for logs and
/// `--json` consumers; people read the binary's sentences).
impl serde::Serialize for TapeRefusal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Run a tape backup job on `dev` (see the module docs).
pub fn backup(
    repo: &Repository,
    cat: &mut Catalog,
    dev: &mut Devices,
    clock: Clock,
    job: &BackupJob<'_>,
    progress: &dyn TapeProgress,
) -> Result<TapeBackup, JobError> {
    let now = clock.start;
    let mut j = Job {
        job,
        cat,
        used: Vec::new(),
        refused: Vec::new(),
        set: String::new(),
        clock,
        in_drive: None,
        progress,
    };
    j.take_inventory(dev)?;
    progress.total(job.plan.bytes());
    // The set this job writes: the pool's open set when the allocation
    // continues it, else a new one.
    let appended = match super::settle_open_sets(j.cat, &j.clock, job.actor, job.pool, job.offset)?
    {
        Some(open) => j.resume(dev, &open)?,
        None => None,
    };
    let appending = appended.is_some();
    let mut writer = match appended {
        Some(w) => w,
        None => {
            j.set = super::new_set_id(j.cat, &j.clock, job.pool.name)?;
            j.used.clear();
            j.record(vec![Event::MediaSetStarted {
                set: j.set.clone(),
                pool: PoolName::new(job.pool.name),
                at: j.clock.at(),
            }])?;
            let first = j.mount_next(dev)?;
            let capacity = dev
                .drive
                .status()
                .ok()
                .and_then(|s| s.capacity)
                .unwrap_or(u64::MAX);
            let segment = (capacity / 16).clamp(format::BLOCK_SIZE as u64, MAX_SEGMENT);
            let mut writer = SetWriter::new(&j.set, job.pool.name, now, segment);
            j.begin_cartridge(dev, &mut writer, &first)?;
            progress.cartridge(&first);
            writer
        }
    };

    // Every set catalog of this job carries the catalog's head as its
    // anchor (refreshed before the last one, below).
    writer.set_anchor(Some(anchor_of_head(j.cat, job.site, &j.set, now)?));

    let write_clock = Instant::now();
    let mut bytes_total = 0u64;
    // A reader thread keeps the next objects ready while this one writes,
    // so the drive streams instead of waiting for each read.
    let (ahead, objects) = std::sync::mpsc::sync_channel(READ_AHEAD);
    let plan_objects = &job.plan.objects;
    let written = std::thread::scope(|scope| -> Result<(), JobError> {
        // Owned here, so that an early return drops it and the reader's
        // next send fails instead of blocking the scope's join.
        let objects = objects;
        scope.spawn(move || {
            for obj in plan_objects {
                // Hashed here too, off the writer's thread.
                let read = repo.copy_object_bytes(obj).map(|bytes| {
                    let hash = blake3::hash(&bytes);
                    (std::sync::Arc::new(bytes), hash)
                });
                let failed = read.is_err();
                if ahead.send(read).is_err() || failed {
                    break;
                }
            }
        });
        for obj in plan_objects {
            let (bytes, hash) = objects
                .recv()
                .expect("the reader sends every object or an error")?;
            let path = obj.path();
            loop {
                match writer
                    .write_shared(&mut *dev.drive, &path, &bytes, hash, now)
                    .map_err(JobError::TapeFormat)?
                {
                    Progress::Done => break,
                    Progress::NeedCartridge => {
                        let full = j.used.last().cloned().expect("a cartridge");
                        progress.note(Note::CartridgeFull { medium: &full });
                        j.put_away(dev, &full)?;
                        let next = j.mount_next(dev)?;
                        j.begin_cartridge(dev, &mut writer, &next)?;
                        progress.cartridge(&next);
                    }
                }
            }
            bytes_total += obj.size;
            progress.advance(obj.size);
        }
        Ok(())
    });
    written?;
    let snap_ids: Vec<String> = job.snapshots.iter().map(Id::to_hex).collect();
    writer.set_anchor(Some(anchor_of_head(j.cat, job.site, &j.set, now)?));
    let set_catalog = loop {
        match writer
            .finish(&mut *dev.drive, snap_ids.clone(), now)
            .map_err(JobError::TapeFormat)?
        {
            Finish::Done(c) => break c,
            Finish::NeedCartridge => {
                let full = j.used.last().cloned().expect("a cartridge");
                j.put_away(dev, &full)?;
                let next = j.mount_next(dev)?;
                j.begin_cartridge(dev, &mut writer, &next)?;
            }
        }
    };
    let write_seconds = write_clock.elapsed().as_secs_f64();

    let mut verified = None;
    if job.verify {
        progress.verifying();
        j.verify(dev, &set_catalog)?;
        verified = Some(true);
    }

    // The set is on tape: record the copies, and close the set.
    super::record_set(
        j.cat,
        &j.clock,
        job.actor,
        job.pool,
        WrittenSet {
            set: &j.set,
            snapshots: job.snapshots,
            cartridges: &j.used,
            verified: job.verify,
            in_set_catalog: &set_catalog.snapshots,
        },
    )?;

    let in_drive = match &j.in_drive {
        Some(m) => m.clone(),
        None => j.used.last().cloned().expect("a cartridge"),
    };
    let after_job = library::after_job(
        dev,
        j.cat,
        &j.clock,
        job.actor,
        (job.pool.mode, job.pool.after_job),
        &in_drive,
        &j.used,
    )?;
    let seconds = job.started.elapsed().as_secs_f64();
    j.record(vec![Event::JobFinished {
        job: "tape-backup".into(),
        target: job.pool.name.to_owned(),
        started_at: now,
        finished_at: j.clock.at(),
        outcome: "ok".into(),
        detail: json!({
            "set": j.set, "cartridges": j.used, "snapshots": snap_ids,
            "bytes": bytes_total, "seconds": seconds, "verified": verified,
        }),
    }])?;
    Ok(TapeBackup {
        set: j.set,
        appended: appending,
        cartridges: j.used,
        bytes: bytes_total,
        seconds,
        write_seconds,
        verified,
        refused: j.refused,
        after_job,
    })
}

/// Why the single drive's cartridge cannot be used now.
enum Refused {
    /// A person can put it right by inserting another cartridge.
    Retry(JobError),
    /// Nothing a cartridge swap would fix.
    Fatal(JobError),
}

struct Job<'a, 'j> {
    job: &'a BackupJob<'j>,
    cat: &'a mut Catalog,
    /// Cartridges of the set, in order.
    used: Vec<String>,
    /// Cartridges refused in this job, with why.
    refused: Vec<(String, TapeRefusal)>,
    set: String,
    clock: Clock,
    /// The single drive's cartridge when it is not the set's last (the
    /// verify read the others back after it).
    in_drive: Option<String>,
    progress: &'a dyn TapeProgress,
}

impl Job<'_, '_> {
    fn record(&mut self, events: Vec<Event>) -> Result<(), JobError> {
        self.cat
            .record_all(self.clock.at(), self.job.actor, events)?;
        Ok(())
    }

    /// Where the library says each cartridge is, into the catalog.
    fn take_inventory(&mut self, dev: &mut Devices) -> Result<(), JobError> {
        if dev.changer.is_none() {
            return Ok(());
        }
        let status = dev.changer_status()?;
        let media = self.cat.media()?;
        let inv = reconcile(&dev.library, &status, &media, self.clock.at());
        self.record(inv.events)
    }

    /// Continue `open` on its last cartridge. `None` (with the set closed)
    /// when that cartridge does not hold the set's catalog any more.
    fn resume(
        &mut self,
        dev: &mut Devices,
        open: &MediaSetRow,
    ) -> Result<Option<SetWriter>, JobError> {
        let Some(last) = open.cartridges.last().map(|m| m.to_string()) else {
            return Ok(None);
        };
        self.set = open.id.clone();
        self.used = open.cartridges.iter().map(|m| m.to_string()).collect();
        if dev.changer.is_some() {
            self.load(dev, &last)?;
        } else {
            let inside = self.mount_single(dev, Some(&last))?;
            debug_assert_eq!(inside, last);
        }
        let found = format::last_catalog(&mut *dev.drive)
            .map_err(JobError::TapeFormat)?
            .filter(|c| c.set == open.id);
        let Some(catalog) = found else {
            self.progress.note(Note::NoSetCatalog {
                medium: &last,
                set: &open.id,
            });
            super::close_lost_set(
                self.cat,
                &self.clock,
                self.job.actor,
                open,
                self.job.pool.retention,
            )?;
            return Ok(None);
        };
        // Nothing is written to the set while the catalog lacks the head
        // its last set catalog carries (a rolled-back catalog).
        if let Some(rolled_back) = check_anchor(self.cat, &last, &catalog)? {
            return Err(JobError::CatalogRolledBack(rolled_back));
        }
        let writer = SetWriter::append(&mut *dev.drive, catalog).map_err(JobError::TapeFormat)?;
        self.progress.cartridge(&last);
        Ok(Some(writer))
    }

    /// Bring the next usable cartridge into the drive: chosen by the
    /// rotation, not write protected, carrying this pool's label.
    fn mount_next(&mut self, dev: &mut Devices) -> Result<String, JobError> {
        if dev.changer.is_none() {
            return self.mount_single(dev, None);
        }
        let pool = self.job.pool.name;
        let mut exclude: Vec<MediumId> = self
            .used
            .iter()
            .map(|m| MediumId::new(m.as_str()))
            .collect();
        loop {
            let status = dev.changer_status()?;
            let cands = candidates(self.cat, pool, &status)?;
            let chosen = match choose(&cands, &exclude, self.clock.at()) {
                Ok(c) => c.clone(),
                Err(why) => {
                    return Err(JobError::NoTapeCartridge {
                        pool: pool.to_owned(),
                        why: Box::new(why),
                        refused: std::mem::take(&mut self.refused),
                    })
                }
            };
            let barcode = chosen.medium.to_string();
            self.load(dev, &barcode)?;
            let st = dev.drive.status().map_err(JobError::Tape)?;
            let refusal = if st.write_protected {
                Some(TapeRefusal::WriteProtected)
            } else {
                match format::read_label(&mut *dev.drive) {
                    Ok(Some(label)) if label.medium == barcode && label.pool == pool => None,
                    Ok(Some(label)) => Some(TapeRefusal::OtherLabel {
                        medium: label.medium,
                        pool: label.pool,
                    }),
                    Ok(None) => Some(TapeRefusal::Blank),
                    Err(e) => Some(TapeRefusal::Unreadable(e)),
                }
            };
            match refusal {
                None => return Ok(barcode),
                Some(why) => {
                    self.progress.note(Note::Refused {
                        medium: &barcode,
                        why: &why,
                    });
                    self.refused.push((barcode.clone(), why));
                    exclude.push(chosen.medium.clone());
                    self.put_away(dev, &barcode)?;
                }
            }
        }
    }

    /// One look at the single drive: the cartridge there, or why it cannot
    /// be used: `Retry` when a person can put that right by inserting
    /// another cartridge.
    fn try_mount_single(
        &mut self,
        dev: &mut Devices,
        expect: Option<&str>,
    ) -> Result<String, Refused> {
        let pool = self.job.pool.name;
        let st = dev
            .drive
            .status()
            .map_err(|e| Refused::Fatal(JobError::Tape(e)))?;
        let ask = |problem: DriveProblem| {
            Refused::Retry(JobError::InsertCartridge {
                drive: dev.drive_id.clone(),
                pool: pool.to_owned(),
                problem,
            })
        };
        if !st.loaded {
            return Err(ask(DriveProblem::Empty));
        }
        if st.write_protected {
            return Err(Refused::Retry(JobError::Tape(TapeError::WriteProtected {
                device: dev.drive_id.clone(),
                cartridge: st.cartridge_id.unwrap_or_else(|| "?".into()),
            })));
        }
        let label = format::read_label(&mut *dev.drive)
            .map_err(|e| Refused::Fatal(JobError::TapeFormat(e)))?
            .ok_or_else(|| ask(DriveProblem::Blank))?;
        if label.pool != pool {
            return Err(ask(DriveProblem::OtherPool {
                medium: label.medium,
                pool: label.pool,
            }));
        }
        match expect {
            Some(want) if want == label.medium => {
                let ev = located(want, self.clock.at(), dev.in_drive(), &dev.drive_id);
                self.record(vec![ev]).map_err(Refused::Fatal)?;
                return Ok(label.medium);
            }
            Some(want) => {
                return Err(Refused::Retry(JobError::WrongCartridgeForSet {
                    drive: dev.drive_id.clone(),
                    holds: label.medium,
                    set: self.set.clone(),
                    want: want.to_owned(),
                }))
            }
            None => {}
        }
        if self.used.contains(&label.medium) {
            return Err(ask(DriveProblem::AlreadyInSet {
                medium: label.medium,
            }));
        }
        let id = MediumId::new(label.medium.as_str());
        if let Retained::Until { at } = self
            .cat
            .retention_of(&id)
            .map_err(|e| Refused::Fatal(e.into()))?
        {
            if at > self.clock.at() {
                return Err(Refused::Retry(JobError::Retained {
                    medium: label.medium,
                    until: at,
                }));
            }
        }
        let loc = dev.in_drive();
        let ev = located(&label.medium, self.clock.at(), loc, &dev.drive_id);
        self.record(vec![ev]).map_err(Refused::Fatal)?;
        Ok(label.medium)
    }

    /// The single drive: the cartridge a person inserted (`expect`: the
    /// one that must be there, the open set's last when continuing it).
    /// With a wait, a missing or unusable cartridge is asked for (an
    /// unusable one is ejected so it can be swapped) and the drive watched
    /// until one that fits is inserted, or the time is up.
    fn mount_single(
        &mut self,
        dev: &mut Devices,
        expect: Option<&str>,
    ) -> Result<String, JobError> {
        let deadline = Instant::now() + self.job.wait;
        let mut asked = false;
        loop {
            let why = match self.try_mount_single(dev, expect) {
                Ok(m) => return Ok(m),
                Err(Refused::Fatal(e)) => return Err(e),
                Err(Refused::Retry(e)) => e,
            };
            if Instant::now() >= deadline {
                return Err(why);
            }
            let loaded = dev.drive.status().map(|s| s.loaded).unwrap_or(false);
            if loaded {
                // Out with it, so that a person can put the right one in.
                let who = dev.drive.status().ok().and_then(|s| s.cartridge_id);
                dev.drive.unload().map_err(JobError::Tape)?;
                if let Some(m) = who {
                    let ev = located(&m, self.clock.at(), dev.ejected(), &dev.drive_id);
                    record_move(self.cat, &self.clock, self.job.actor, ev)?;
                }
            }
            if !asked {
                self.progress.waiting(&why, self.job.wait);
                asked = true;
            }
            std::thread::sleep(WAIT_POLL);
        }
    }

    /// Load `barcode` into the pool's drive (clearing the drive first).
    fn load(&mut self, dev: &mut Devices, barcode: &str) -> Result<(), JobError> {
        library::load(dev, self.cat, &self.clock, self.job.actor, barcode)
    }

    /// Take the cartridge out of the drive: back to a storage slot, or
    /// ejected from a single drive (for the person to take, and insert the
    /// next).
    fn put_away(&mut self, dev: &mut Devices, barcode: &str) -> Result<(), JobError> {
        if dev.changer.is_none() {
            dev.drive.unload().map_err(JobError::Tape)?;
            let ev = located(barcode, self.clock.at(), dev.ejected(), &dev.drive_id);
            return record_move(self.cat, &self.clock, self.job.actor, ev);
        }
        library::put_away(dev, self.cat, &self.clock, self.job.actor, barcode).map(|_| ())
    }

    /// Make the loaded cartridge the next of the set: record it first
    /// (its old copies are gone from now on), then write its label.
    fn begin_cartridge(
        &mut self,
        dev: &mut Devices,
        writer: &mut SetWriter,
        medium: &str,
    ) -> Result<(), JobError> {
        self.used.push(medium.to_owned());
        super::start_cartridge(
            self.cat,
            &self.clock,
            self.job.actor,
            &self.set,
            medium,
            self.used.len() as u32,
        )?;
        writer
            .start_cartridge(&mut *dev.drive, medium, self.clock.at())
            .map_err(JobError::TapeFormat)
    }

    /// Read back every cartridge of the set and check every object.
    /// On a single drive, the other cartridges of the set are asked for
    /// in turn (see [`BackupJob::wait`]).
    fn verify(&mut self, dev: &mut Devices, catalog: &SetCatalog) -> Result<(), JobError> {
        let mut order = self.used.clone();
        // The last cartridge is in the drive: read it first.
        order.rotate_right(1);
        let mut whole = std::collections::BTreeSet::new();
        for (i, m) in order.iter().enumerate() {
            if dev.changer.is_some() {
                self.load(dev, m)?;
            } else {
                if i > 0 {
                    // Out with the one read, in with the next.
                    self.put_away(dev, &order[i - 1])?;
                }
                self.mount_single(dev, Some(m))?;
                self.in_drive = Some(m.clone());
            }
            let mut sink = |_: &str, _: u64, _: &[u8]| Ok(());
            let report = format::read_cartridge_objects(&mut *dev.drive, catalog, &mut sink)
                .map_err(JobError::TapeFormat)?;
            whole.extend(report.whole);
            whole.extend(report.partial);
        }
        let whole = whole.len();
        if whole != catalog.objects.len() {
            return Err(JobError::SetVerifyIncomplete {
                set: self.set.clone(),
                whole,
                objects: catalog.objects.len(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
