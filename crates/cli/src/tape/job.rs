//! `hokan tape backup`: copy snapshots from the primary repository to a new
//! media set of a pool.
//!
//! The order of events is what keeps the catalog truthful when the job is
//! killed: the set is started, then each cartridge is recorded as part of
//! the set (its old copies removed) *before* anything is written on it; the
//! copies are recorded only after the set's catalog is on tape. A killed job
//! leaves an open set without copies, which the next job closes as partial.

use std::time::Instant;

use hokan_catalog::{Catalog, Event, MediaSetRow};
use hokan_format::Id;
use hokan_offline::{MediumId, MediumKind};
use hokan_site::{AfterJob, TapeMode};
use hokan_tape::format::{self, Finish, Progress, SetWriter};
use hokan_tape::TapeError;
use serde_json::json;
use time::OffsetDateTime;

use super::devices::Devices;
use super::inventory::reconcile;
use super::{located, tape_failure, Pool};
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::job_error::lock_pool;
use crate::progress::Bar;
use crate::site::SiteCtx;
use hokan_jobs::rotation::tape::{choose, Candidate, NoCartridge, Place};
use hokan_jobs::Clock;

/// The actor recorded on the job's events.
pub const ACTOR: &str = "hokan tape backup";

/// Largest tape-file segment of one object (see docs/tape-format.md).
const MAX_SEGMENT: u64 = 64 << 20;

pub fn backup(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    specs: &[String],
    verify: bool,
    wait: std::time::Duration,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let clock = Instant::now();
    let now = ctx.now;
    let repo = crate::site::primary_repository(ctx)?;
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    crate::site::sync_catalog(&repo, &mut cat, &ctx.conf, now)
        .map_err(|e| crate::job_error::failure(l, &e))?;
    let ids = hokan_jobs::copy::snapshots_to_copy(&repo, specs)
        .map_err(|e| crate::job_error::failure(l, &e))?;
    let plan = repo
        .copy_plan(&ids)
        .map_err(|e| crate::exit::from_repo(l, &e))?;
    let mut dev = Devices::open(pool, l)?;
    let mut job = Job {
        ctx,
        pool,
        cat: &mut cat,
        used: Vec::new(),
        refused: Vec::new(),
        set: String::new(),
        clock: Clock::new(now),
        wait,
        in_drive: None,
    };
    job.take_inventory(&mut dev)?;
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "tape");
    bar.set_total(plan.bytes());
    // The set this job writes: the pool's open set when the allocation
    // continues it, else a new one.
    let appended = match job.settle_open_sets()? {
        Some(open) => job.resume(&mut dev, &open, &bar)?,
        None => None,
    };
    let appending = appended.is_some();
    let mut writer = match appended {
        Some(w) => w,
        None => {
            job.set = job.new_set_id()?;
            job.used.clear();
            job.record(vec![Event::MediaSetStarted {
                set: job.set.clone(),
                pool: pool.name.clone(),
                at: job.clock.at(),
            }])?;
            let first = job.mount_next(&mut dev, &bar)?;
            let capacity = dev
                .drive
                .status()
                .ok()
                .and_then(|s| s.capacity)
                .unwrap_or(u64::MAX);
            let segment = (capacity / 16).clamp(format::BLOCK_SIZE as u64, MAX_SEGMENT);
            let mut writer = SetWriter::new(&job.set, pool.name.as_str(), now, segment);
            job.begin_cartridge(&mut dev, &mut writer, &first)?;
            bar.say(first.clone());
            writer
        }
    };

    // Every set catalog of this job carries the catalog's head as its
    // anchor (refreshed before the last one, below).
    writer.set_anchor(Some(super::anchor::of_head(ctx, job.cat, &job.set)?));

    let write_clock = Instant::now();
    let mut bytes_total = 0u64;
    // A reader thread keeps the next objects ready while this one writes,
    // so the drive streams instead of waiting for each read.
    let (ahead, objects) = std::sync::mpsc::sync_channel(READ_AHEAD);
    let plan_objects = &plan.objects;
    let repo_ref = &repo;
    let written = std::thread::scope(|scope| -> Result<(), Failure> {
        // Owned here, so that an early return drops it and the reader's
        // next send fails instead of blocking the scope's join.
        let objects = objects;
        scope.spawn(move || {
            for obj in plan_objects {
                // Hashed here too, off the writer's thread.
                let read = repo_ref.copy_object_bytes(obj).map(|bytes| {
                    let hash = blake3::hash(&bytes);
                    (std::sync::Arc::new(bytes), hash)
                });
                let failed = read.is_err();
                if ahead.send(read).is_err() || failed {
                    break;
                }
            }
        });
        for obj in &plan.objects {
            let (bytes, hash) = objects
                .recv()
                .expect("the reader sends every object or an error")
                .map_err(|e| crate::exit::from_repo(l, &e))?;
            let path = obj.path();
            loop {
                match writer
                    .write_shared(&mut *dev.drive, &path, &bytes, hash, now)
                    .map_err(|e| format_failure(l, &e))?
                {
                    Progress::Done => break,
                    Progress::NeedCartridge => {
                        let full = job.used.last().cloned().expect("a cartridge");
                        bar.note(&format!(
                            "{full}: {}",
                            t(
                                l,
                                "cartridge full, continuing on the next one",
                                "カートリッジが一杯です。次のカートリッジに続けます"
                            )
                        ));
                        job.put_away(&mut dev, &full)?;
                        let next = job.mount_next(&mut dev, &bar)?;
                        job.begin_cartridge(&mut dev, &mut writer, &next)?;
                        bar.say(next);
                    }
                }
            }
            bytes_total += obj.size;
            bar.add(obj.size);
        }
        Ok(())
    });
    written?;
    let snap_ids: Vec<String> = ids.iter().map(Id::to_hex).collect();
    writer.set_anchor(Some(super::anchor::of_head(ctx, job.cat, &job.set)?));
    let set_catalog = loop {
        match writer
            .finish(&mut *dev.drive, snap_ids.clone(), now)
            .map_err(|e| format_failure(l, &e))?
        {
            Finish::Done(c) => break c,
            Finish::NeedCartridge => {
                let full = job.used.last().cloned().expect("a cartridge");
                job.put_away(&mut dev, &full)?;
                let next = job.mount_next(&mut dev, &bar)?;
                job.begin_cartridge(&mut dev, &mut writer, &next)?;
            }
        }
    };
    let write_secs = write_clock.elapsed().as_secs_f64();

    let mut verified = None;
    if verify {
        bar.say(t(l, "verifying", "検証中").to_owned());
        job.verify(&mut dev, &set_catalog, &bar)?;
        verified = Some(true);
    }
    bar.finish();

    // The set is on tape: record the copies, and close the set.
    hokan_jobs::tape::record_set(
        job.cat,
        &job.clock,
        ACTOR,
        pool_ref(pool),
        hokan_jobs::tape::WrittenSet {
            set: &job.set,
            snapshots: &ids,
            cartridges: &job.used,
            verified: verify,
            in_set_catalog: &set_catalog.snapshots,
        },
    )
    .map_err(|e| crate::job_error::failure(l, &e))?;

    let after = job.after_job(&mut dev)?;
    let seconds = clock.elapsed().as_secs_f64();
    job.record(vec![Event::JobFinished {
        job: "tape-backup".into(),
        target: pool.name.to_string(),
        started_at: now,
        finished_at: job.clock.at(),
        outcome: "ok".into(),
        detail: json!({
            "set": job.set, "cartridges": job.used, "snapshots": snap_ids,
            "bytes": bytes_total, "seconds": seconds, "verified": verified,
        }),
    }])?;

    if ctx.g.json {
        crate::site::print_json(&json!({
            "pool": pool.name,
            "set": job.set,
            "appended": appending,
            "cartridges": job.used,
            "snapshots": snap_ids,
            "objects": plan.objects.len(),
            "bytes": bytes_total,
            "seconds": seconds,
            "write_mib_per_s": bytes_total as f64 / write_secs.max(1e-9) / 1048576.0,
            "verified": verified,
            "refused": job.refused,
            "after_job": after,
            "simulated": dev.simulated,
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → {} ({}): {} {}, {} ({:.1}s, {:.0} MiB/s){}",
            t(l, "wrote set", "メディアセットを書き込みました"),
            job.set,
            pool.name,
            job.used.join(", "),
            snap_ids.len(),
            t(l, "snapshot(s)", "スナップショット"),
            Bytes(bytes_total),
            seconds,
            bytes_total as f64 / write_secs.max(1e-9) / 1048576.0,
            if verify {
                t(l, ", verified", "、検証済み")
            } else {
                ""
            }
        );
        for line in &after {
            println!("  {line}");
        }
        if dev.simulated {
            println!(
                "  ({})",
                t(
                    l,
                    "simulated library",
                    "模擬ライブラリ（実機ではありません）"
                )
            );
        }
    }
    Ok(exit::OK)
}

struct Job<'a, 'c> {
    ctx: &'a SiteCtx<'c>,
    pool: &'a Pool,
    cat: &'a mut Catalog,
    /// Cartridges of the set, in order.
    used: Vec<String>,
    /// Cartridges refused in this job, with why.
    refused: Vec<String>,
    set: String,
    clock: Clock,
    /// How long a single-drive job waits for a person to insert a
    /// cartridge (zero: fail at once, asking for it).
    wait: std::time::Duration,
    /// The single drive's cartridge when it is not the set's last (the
    /// verify read the others back after it).
    in_drive: Option<String>,
}

impl Job<'_, '_> {
    fn lang(&self) -> Lang {
        self.ctx.lang
    }

    fn record(&mut self, events: Vec<Event>) -> Result<(), Failure> {
        self.cat
            .record_all(self.clock.at(), ACTOR, events)
            .map(|_| ())
            .map_err(|e| self.ctx.catalog_failure(&e))
    }

    /// Where the library says each cartridge is, into the catalog.
    fn take_inventory(&mut self, dev: &mut Devices) -> Result<(), Failure> {
        if dev.changer.is_none() {
            return Ok(());
        }
        let status = dev.changer_status(self.lang())?;
        let media = self.cat.media().map_err(|e| self.ctx.catalog_failure(&e))?;
        let inv = reconcile(&dev.library, &status, &media, self.clock.at());
        self.record(inv.events)
    }

    /// The pool's open sets: the one this job continues (by the pool's
    /// allocation), and the others closed. A set left open by a killed
    /// job without any copy is closed as partial: never counted, and its
    /// cartridges free again. A set with copies (weekly or continuing
    /// sets hold one per finished job) is closed complete, kept for the
    /// retention from now.
    fn settle_open_sets(&mut self) -> Result<Option<MediaSetRow>, Failure> {
        hokan_jobs::tape::settle_open_sets(
            self.cat,
            &self.clock,
            ACTOR,
            pool_ref(self.pool),
            self.ctx.offset(),
        )
        .map_err(|e| crate::job_error::failure(self.lang(), &e))
    }

    /// Continue `open` on its last cartridge. `None` (with the set closed)
    /// when that cartridge does not hold the set's catalog any more.
    fn resume(
        &mut self,
        dev: &mut Devices,
        open: &MediaSetRow,
        bar: &Bar,
    ) -> Result<Option<SetWriter>, Failure> {
        let l = self.lang();
        let Some(last) = open.cartridges.last().map(|m| m.to_string()) else {
            return Ok(None);
        };
        self.set = open.id.clone();
        self.used = open.cartridges.iter().map(|m| m.to_string()).collect();
        if dev.changer.is_some() {
            self.load(dev, &last)?;
        } else {
            let inside = self.mount_single(dev, Some(&last), bar)?;
            debug_assert_eq!(inside, last);
        }
        let found = format::last_catalog(&mut *dev.drive)
            .map_err(|e| format_failure(l, &e))?
            .filter(|c| c.set == open.id);
        let Some(catalog) = found else {
            bar.note(&format!(
                "{}: {last} {} {}",
                t(l, "warning", "警告"),
                t(
                    l,
                    "does not hold the catalog of media set",
                    "にメディアセットのカタログがありません:"
                ),
                open.id
            ));
            hokan_jobs::tape::close_lost_set(
                self.cat,
                &self.clock,
                ACTOR,
                open,
                self.pool.retention,
            )
            .map_err(|e| crate::job_error::failure(l, &e))?;
            return Ok(None);
        };
        // Nothing is written to the set while the catalog lacks the head
        // its last set catalog carries (a rolled-back catalog).
        if let Some(rolled_back) = super::anchor::check(self.ctx, self.cat, &last, &catalog)? {
            return Err(super::anchor::refusal(self.ctx, &[rolled_back]));
        }
        let writer =
            SetWriter::append(&mut *dev.drive, catalog).map_err(|e| format_failure(l, &e))?;
        bar.say(last);
        Ok(Some(writer))
    }

    fn new_set_id(&self) -> Result<String, Failure> {
        hokan_jobs::tape::new_set_id(self.cat, &self.clock, self.pool.name.as_str())
            .map_err(|e| crate::job_error::failure(self.lang(), &e))
    }

    /// Bring the next usable cartridge into the drive: chosen by the
    /// rotation, not write protected, carrying this pool's label.
    fn mount_next(&mut self, dev: &mut Devices, bar: &Bar) -> Result<String, Failure> {
        if dev.changer.is_none() {
            return self.mount_single(dev, None, bar);
        }
        let l = self.lang();
        let mut exclude: Vec<MediumId> = self
            .used
            .iter()
            .map(|m| MediumId::new(m.as_str()))
            .collect();
        loop {
            let status = dev.changer_status(l)?;
            let media = self.cat.media().map_err(|e| self.ctx.catalog_failure(&e))?;
            let mut cands = Vec::new();
            for m in media
                .iter()
                .filter(|m| m.pool.as_ref() == Some(&self.pool.name))
            {
                let Some(place) = status.find(m.id.as_str()) else {
                    continue;
                };
                let place = match place {
                    Ok(d) => Place::Drive(d),
                    Err(s) => match status.slots.iter().find(|x| x.number == s) {
                        Some(x) if x.import_export => Place::MailSlot(s),
                        _ => Place::Slot(s),
                    },
                };
                let retained = self
                    .cat
                    .retention_of(&m.id)
                    .map_err(|e| self.ctx.catalog_failure(&e))?;
                let last_labeled = self
                    .cat
                    .sets_of(&m.id)
                    .map_err(|e| self.ctx.catalog_failure(&e))?
                    .iter()
                    .map(|s| s.started_at)
                    .max();
                cands.push(Candidate {
                    medium: m.id.clone(),
                    place,
                    retained,
                    last_labeled,
                });
            }
            let chosen = match choose(&cands, &exclude, self.clock.at()) {
                Ok(c) => c.clone(),
                Err(why) => return Err(self.no_cartridge(&why)),
            };
            let barcode = chosen.medium.to_string();
            self.load(dev, &barcode)?;
            let st = dev.drive.status().map_err(|e| tape_failure(l, &e))?;
            let refusal = if st.write_protected {
                Some(
                    t(
                        l,
                        "is write protected (its tab is set): skipped; slide the tab off to use it",
                        "は書き込み禁止です（タブが設定されています）: 使用しません。使うにはタブを解除してください",
                    )
                    .to_owned(),
                )
            } else {
                match format::read_label(&mut *dev.drive) {
                    Ok(Some(label))
                        if label.medium == barcode && label.pool == self.pool.name.as_str() =>
                    {
                        None
                    }
                    Ok(Some(label)) => Some(format!(
                        "{} {} / {} ({})",
                        t(l, "carries another label:", "のラベルが違います:"),
                        label.medium,
                        label.pool,
                        t(
                            l,
                            "run `hokan tape label` to relabel it",
                            "`hokan tape label` でラベルを付け直してください"
                        )
                    )),
                    Ok(None) => Some(
                        t(
                            l,
                            "is blank: label it with `hokan tape label` first",
                            "は空です。先に `hokan tape label` でラベルを付けてください",
                        )
                        .to_owned(),
                    ),
                    Err(e) => Some(format!("{e}")),
                }
            };
            match refusal {
                None => return Ok(barcode),
                Some(why) => {
                    let line = format!("{barcode} {why}");
                    bar.note(&format!("{}: {line}", t(l, "warning", "警告")));
                    self.refused.push(line);
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
        let l = self.lang();
        let st = dev
            .drive
            .status()
            .map_err(|e| Refused::Fatal(tape_failure(l, &e)))?;
        let ask = |what: String| {
            Refused::Retry(Failure::new(
                exit::ERROR,
                format!(
                    "{what} {} {}: {}",
                    t(l, "insert a labelled cartridge of pool", "プール"),
                    self.pool.name,
                    t(
                        l,
                        "then run the command again (a single drive has no changer to fetch one)",
                        "のラベル付きカートリッジを挿入してから、もう一度実行してください（単体ドライブにはチェンジャーがありません）"
                    )
                ),
            ))
        };
        if !st.loaded {
            return Err(ask(format!("{}:", dev.drive_id)));
        }
        if st.write_protected {
            return Err(Refused::Retry(tape_failure(
                l,
                &TapeError::WriteProtected {
                    device: dev.drive_id.clone(),
                    cartridge: st.cartridge_id.unwrap_or_else(|| "?".into()),
                },
            )));
        }
        let label = format::read_label(&mut *dev.drive)
            .map_err(|e| Refused::Fatal(format_failure(l, &e)))?
            .ok_or_else(|| {
                ask(t(
                    l,
                    "the cartridge in the drive is blank;",
                    "ドライブのカートリッジは空です。",
                )
                .to_owned())
            })?;
        if label.pool != self.pool.name.as_str() {
            return Err(ask(format!(
                "{} {} {} {};",
                t(
                    l,
                    "the cartridge in the drive is",
                    "ドライブのカートリッジは"
                ),
                label.medium,
                t(l, "of pool", "プール"),
                label.pool
            )));
        }
        match expect {
            Some(want) if want == label.medium => {
                let ev = located(want, self.clock.at(), dev.in_drive(), &dev.drive_id);
                self.record(vec![ev]).map_err(Refused::Fatal)?;
                return Ok(label.medium);
            }
            Some(want) => {
                return Err(Refused::Retry(Failure::new(
                    exit::ERROR,
                    format!(
                        "{}: {} {}; {} {} {} {want}: {} {want}",
                        dev.drive_id,
                        t(l, "holds", "のカートリッジは"),
                        label.medium,
                        t(l, "the open media set", "書き込み中のメディアセット"),
                        self.set,
                        t(l, "continues on", "の続きは"),
                        t(l, "insert", "挿入してください:"),
                    ),
                )))
            }
            None => {}
        }
        if self.used.contains(&label.medium) {
            return Err(ask(format!(
                "{} {};",
                label.medium,
                t(
                    l,
                    "is already part of this set",
                    "はこのセットで使用済みです"
                )
            )));
        }
        let id = MediumId::new(label.medium.as_str());
        if let hokan_catalog::Retained::Until { at } = self
            .cat
            .retention_of(&id)
            .map_err(|e| Refused::Fatal(self.ctx.catalog_failure(&e)))?
        {
            if at > self.clock.at() {
                return Err(Refused::Retry(retained_failure(
                    self.ctx,
                    &label.medium,
                    at,
                )));
            }
        }
        let loc = dev.in_drive();
        let ev = located(&label.medium, self.clock.at(), loc, &dev.drive_id);
        self.record(vec![ev]).map_err(Refused::Fatal)?;
        Ok(label.medium)
    }

    /// The single drive: the cartridge a person inserted (`expect`: the
    /// one that must be there, the open set's last when continuing it).
    /// With `--wait-for-cartridge`, a missing or unusable cartridge is
    /// asked for (an unusable one is ejected so it can be swapped) and the
    /// drive watched until one that fits is inserted, or the time is up.
    fn mount_single(
        &mut self,
        dev: &mut Devices,
        expect: Option<&str>,
        bar: &Bar,
    ) -> Result<String, Failure> {
        let deadline = std::time::Instant::now() + self.wait;
        let mut asked = false;
        loop {
            let why = match self.try_mount_single(dev, expect) {
                Ok(m) => return Ok(m),
                Err(Refused::Fatal(f)) => return Err(f),
                Err(Refused::Retry(f)) => f,
            };
            if std::time::Instant::now() >= deadline {
                return Err(why);
            }
            let l = self.lang();
            let loaded = dev.drive.status().map(|s| s.loaded).unwrap_or(false);
            if loaded {
                // Out with it, so that a person can put the right one in.
                let who = dev.drive.status().ok().and_then(|s| s.cartridge_id);
                dev.drive.unload().map_err(|e| tape_failure(l, &e))?;
                if let Some(m) = who {
                    let ev = located(&m, self.clock.at(), dev.ejected(), &dev.drive_id);
                    record_move(self.ctx, self.cat, &self.clock, ev)?;
                }
            }
            if !asked {
                bar.ask(&format!(
                    "{} {} ({} {})",
                    why.message,
                    t(l, "— waiting", "— 待機中"),
                    t(l, "up to", "最長"),
                    hokan_offline::span::format(
                        time::Duration::try_from(self.wait).unwrap_or(time::Duration::MAX)
                    )
                ));
                asked = true;
            }
            std::thread::sleep(WAIT_POLL);
        }
    }

    fn no_cartridge(&self, why: &NoCartridge) -> Failure {
        let l = self.lang();
        let mut lines = vec![format!(
            "{} {}.",
            t(
                l,
                "no cartridge of pool",
                "書き込めるカートリッジがありません: プール"
            ),
            self.pool.name
        )];
        for (m, until) in &why.retained {
            lines.push(format!(
                "  {m}: {} {}",
                t(l, "kept until", "保持期限"),
                self.ctx.when(*until)
            ));
        }
        for (m, set) in &why.in_open_set {
            lines.push(format!(
                "  {m}: {} {set}",
                t(l, "in the open set", "書き込み中のセット")
            ));
        }
        for m in &why.in_mail_slot {
            lines.push(format!(
                "  {m}: {}",
                t(
                    l,
                    "in the mail slot (move it into a storage slot to use it)",
                    "メールスロットにあります（使うには格納スロットへ移してください）"
                )
            ));
        }
        for r in &self.refused {
            lines.push(format!("  {r}"));
        }
        lines.push(
            t(
                l,
                "Insert and label a new cartridge (`hokan tape label`), or wait until a retention passes. A cartridge is never overwritten before its retention date.",
                "新しいカートリッジを入れてラベルを付ける（`hokan tape label`）か、保持期限が過ぎるまでお待ちください。保持期限前のカートリッジは上書きしません。",
            )
            .to_owned(),
        );
        Failure::new(exit::ERROR, lines.join("\n"))
    }

    /// Load `barcode` into the pool's drive (clearing the drive first).
    fn load(&mut self, dev: &mut Devices, barcode: &str) -> Result<(), Failure> {
        load(self.ctx, dev, self.cat, barcode, &self.clock)
    }

    /// Take the cartridge out of the drive back to a storage slot.
    /// Take the cartridge out of the drive: back to a storage slot, or
    /// ejected from a single drive (for the person to take, and insert the
    /// next).
    fn put_away(&mut self, dev: &mut Devices, barcode: &str) -> Result<(), Failure> {
        if dev.changer.is_none() {
            dev.drive
                .unload()
                .map_err(|e| tape_failure(self.lang(), &e))?;
            let ev = located(barcode, self.clock.at(), dev.ejected(), &dev.drive_id);
            return record_move(self.ctx, self.cat, &self.clock, ev);
        }
        put_away(self.ctx, dev, self.cat, barcode, &self.clock).map(|_| ())
    }

    /// Make the loaded cartridge the next of the set: record it first
    /// (its old copies are gone from now on), then write its label.
    fn begin_cartridge(
        &mut self,
        dev: &mut Devices,
        writer: &mut SetWriter,
        medium: &str,
    ) -> Result<(), Failure> {
        self.used.push(medium.to_owned());
        hokan_jobs::tape::start_cartridge(
            self.cat,
            &self.clock,
            ACTOR,
            &self.set,
            medium,
            self.used.len() as u32,
        )
        .map_err(|e| crate::job_error::failure(self.lang(), &e))?;
        writer
            .start_cartridge(&mut *dev.drive, medium, self.clock.at())
            .map_err(|e| format_failure(self.lang(), &e))
    }

    /// Read back every cartridge of the set and check every object.
    /// On a single drive, the other cartridges of the set are asked for
    /// in turn (see `--wait-for-cartridge`).
    fn verify(
        &mut self,
        dev: &mut Devices,
        catalog: &format::SetCatalog,
        bar: &Bar,
    ) -> Result<(), Failure> {
        let l = self.lang();
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
                self.mount_single(dev, Some(m), bar)?;
                self.in_drive = Some(m.clone());
            }
            let mut sink = |_: &str, _: u64, _: &[u8]| Ok(());
            let report = format::read_cartridge_objects(&mut *dev.drive, catalog, &mut sink)
                .map_err(|e| format_failure(l, &e))?;
            whole.extend(report.whole);
            whole.extend(report.partial);
        }
        let whole = whole.len();
        if whole != catalog.objects.len() {
            return Err(Failure::new(
                exit::DAMAGE,
                format!(
                    "{} {}: {whole}/{} {}",
                    t(l, "verify of media set", "メディアセットの検証"),
                    self.set,
                    catalog.objects.len(),
                    t(
                        l,
                        "objects read back whole",
                        "個のオブジェクトしか読み戻せませんでした"
                    )
                ),
            ));
        }
        Ok(())
    }

    /// The pool's policy for where cartridges go after the job. Returns
    /// a line per move, for the report.
    fn after_job(&mut self, dev: &mut Devices) -> Result<Vec<String>, Failure> {
        let l = self.lang();
        let mut lines = Vec::new();
        let single = self.pool.conf.mode == TapeMode::SingleDrive;
        if single {
            let m = match &self.in_drive {
                Some(m) => m.clone(),
                None => self.used.last().cloned().expect("a cartridge"),
            };
            if self.pool.conf.after_job == AfterJob::Eject {
                dev.drive.unload().map_err(|e| tape_failure(l, &e))?;
                let ev = located(&m, self.clock.at(), dev.ejected(), &dev.drive_id);
                self.record(vec![ev])?;
                lines.push(format!(
                    "{m}: {}",
                    t(
                        l,
                        "ejected; take it out of the drive and store it (①-1-1)",
                        "イジェクトしました。ドライブから取り出して保管してください（①-1-1）"
                    )
                ));
            }
            return Ok(lines);
        }
        let status = dev.changer_status(l)?;
        let inside = status
            .drives
            .iter()
            .find(|d| d.index == dev.drive_index)
            .and_then(|d| d.loaded.as_ref())
            .and_then(|c| c.barcode.clone());
        if let Some(m) = inside {
            let slot = put_away(self.ctx, dev, self.cat, &m, &self.clock)?;
            lines.push(format!(
                "{m}: {} {slot} (①-2-1)",
                t(l, "unloaded to slot", "スロットへアンロード:")
            ));
        }
        if self.pool.conf.after_job == AfterJob::Export {
            for m in self.used.clone() {
                match export(self.ctx, dev, self.cat, &m, &self.clock) {
                    Ok(()) => lines.push(format!(
                        "{m}: {}",
                        t(l, "exported to the mail slot: take it out of the library (①-2-2 once removed)", "メールスロットへ搬出しました。ライブラリから取り出してください（取り出すと ①-2-2）")
                    )),
                    Err(f) => lines.push(format!("{m}: {}", f.message)),
                }
            }
        }
        Ok(lines)
    }
}

/// How often a waiting job looks at the single drive again.
const WAIT_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Why the single drive's cartridge cannot be used now.
enum Refused {
    /// A person can put it right by inserting another cartridge.
    Retry(Failure),
    /// Nothing a cartridge swap would fix.
    Fatal(Failure),
}

/// How many objects the reader thread may hold ready ahead of the writer.
const READ_AHEAD: usize = 2;

/// Load `barcode` into the pool's drive; a cartridge already there (from an
/// interrupted job, or put there by a person) goes back to a slot first.
pub fn load(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    barcode: &str,
    clock: &Clock,
) -> Result<(), Failure> {
    let l = ctx.lang;
    let status = dev.changer_status(l)?;
    let here = status
        .drives
        .iter()
        .find(|d| d.index == dev.drive_index)
        .and_then(|d| d.loaded.clone());
    if let Some(c) = here {
        if c.barcode.as_deref() == Some(barcode) {
            return Ok(());
        }
        let other = c.barcode.unwrap_or_default();
        put_away(ctx, dev, cat, &other, clock)?;
    }
    let status = dev.changer_status(l)?;
    let slot = match status.find(barcode) {
        Some(Err(slot)) => slot,
        Some(Ok(drive)) => {
            return Err(Failure::new(
                exit::ERROR,
                format!(
                    "{barcode}: {} {drive}; {}",
                    t(l, "is in drive", "はドライブ"),
                    t(
                        l,
                        "wait for the job using it to end, or unload it with `hokan tape move --to slot`",
                        "にあります。使用中のジョブの終了を待つか、`hokan tape move --to slot` でアンロードしてください"
                    )
                ),
            ))
        }
        None => {
            return Err(Failure::new(
                exit::ERROR,
                format!(
                    "{barcode}: {}",
                    t(
                        l,
                        "is not in the library: bring it back, put it in through the mail slot and run `hokan tape inventory`, then run the command again",
                        "はライブラリにありません。持ち帰ってメールスロットから入れ、`hokan tape inventory` を実行してから、もう一度実行してください"
                    )
                ),
            ))
        }
    };
    let changer = dev.changer.as_mut().expect("a library");
    changer
        .load(slot, dev.drive_index)
        .map_err(|e| tape_failure(l, &e))?;
    let ev = located(barcode, clock.at(), dev.in_drive(), &dev.library);
    record_move(ctx, cat, clock, ev)
}

/// Record a move of a cartridge the catalog knows (a cartridge not yet in
/// the catalog, e.g. one being labelled or scanned, is recorded when added).
fn record_move(
    ctx: &SiteCtx<'_>,
    cat: &mut Catalog,
    clock: &Clock,
    ev: Event,
) -> Result<(), Failure> {
    hokan_jobs::tape::record_move(cat, clock, ACTOR, ev)
        .map_err(|e| crate::job_error::failure(ctx.lang, &e))
}

/// Unload the drive's cartridge to its home slot (or any free one), and
/// record where the cartridge the changer reports in the drive went (which
/// is normally `barcode`; the device's word is what is recorded). Returns
/// the slot; with an empty drive, the slot `barcode` is in already.
pub fn put_away(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    barcode: &str,
    clock: &Clock,
) -> Result<u32, Failure> {
    let l = ctx.lang;
    let status = dev.changer_status(l)?;
    let d = status.drives.iter().find(|d| d.index == dev.drive_index);
    let Some(inside) = d.and_then(|d| d.loaded.clone()) else {
        return match status.find(barcode) {
            Some(Err(slot)) => Ok(slot),
            _ => Err(Failure::new(
                exit::ERROR,
                format!(
                    "{barcode}: {} {}",
                    t(
                        l,
                        "is neither in the drive nor in a slot of",
                        "はドライブにもスロットにもありません:"
                    ),
                    dev.library
                ),
            )),
        };
    };
    let actual = inside.barcode.unwrap_or_else(|| barcode.to_owned());
    if actual != barcode {
        tracing::warn!(
            "expected {barcode} in {}, the changer reports {actual}",
            dev.drive_id
        );
    }
    let home = d
        .and_then(|d| d.source_slot)
        .filter(|s| {
            status
                .slots
                .iter()
                .any(|x| x.number == *s && x.cartridge.is_none() && !x.import_export)
        })
        .or_else(|| status.free_storage())
        .ok_or_else(|| {
            Failure::new(
                exit::ERROR,
                format!(
                    "{actual}: {}",
                    t(
                        l,
                        "no free storage slot to unload to",
                        "アンロード先の空きスロットがありません"
                    )
                ),
            )
        })?;
    // The drive ejects; then the changer takes the cartridge.
    let _ = dev.drive.unload();
    let changer = dev.changer.as_mut().expect("a library");
    changer
        .unload(dev.drive_index, home)
        .map_err(|e| tape_failure(l, &e))?;
    let ev = located(&actual, clock.at(), dev.in_slot(home), &dev.library);
    record_move(ctx, cat, clock, ev)?;
    Ok(home)
}

/// Move a cartridge from its storage slot to a free mail slot.
pub fn export(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    barcode: &str,
    clock: &Clock,
) -> Result<(), Failure> {
    let l = ctx.lang;
    let status = dev.changer_status(l)?;
    let from = match status.find(barcode) {
        Some(Err(s)) => s,
        Some(Ok(_)) => put_away(ctx, dev, cat, barcode, clock)?,
        None => {
            return Err(Failure::new(
                exit::ERROR,
                format!(
                    "{barcode}: {}",
                    t(l, "is not in the library", "はライブラリにありません")
                ),
            ))
        }
    };
    let status = dev.changer_status(l)?;
    let to = status.free_import_export().ok_or_else(|| {
        Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {}",
                t(
                    l,
                    "the mail slot is full: take out the cartridges there, then run `hokan tape move --to export` for this one",
                    "メールスロットが一杯です。そこにあるカートリッジを取り出してから、`hokan tape move --to export` を実行してください"
                )
            ),
        )
    })?;
    let changer = dev.changer.as_mut().expect("a library");
    changer
        .transfer(from, to)
        .map_err(|e| tape_failure(l, &e))?;
    let ev = located(barcode, clock.at(), dev.in_mail_slot(), &dev.library);
    record_move(ctx, cat, clock, ev)
}

/// A cartridge whose retention has not passed.
pub fn retained_failure(ctx: &SiteCtx<'_>, medium: &str, until: OffsetDateTime) -> Failure {
    let l = ctx.lang;
    Failure::new(
        exit::ERROR,
        format!(
            "{medium}: {} {}. {}",
            t(l, "holds a media set kept until", "は保持期限内のメディアセットを保持しています: 期限"),
            ctx.when(until),
            t(
                l,
                "hokan never overwrites a cartridge before its retention has passed; use another cartridge",
                "保持期限が過ぎるまで上書きしません。別のカートリッジを使ってください"
            )
        ),
    )
}

/// A format error (bad data on tape, or the drive's error underneath).
pub fn format_failure(l: Lang, e: &format::FormatError) -> Failure {
    Failure::new(
        exit::ERROR,
        format!(
            "{e}. {}",
            t(
                l,
                "check the cartridge and the drive (clean it), then run the command again",
                "カートリッジとドライブを確認（クリーニング）してから、もう一度実行してください"
            )
        ),
    )
}

/// The medium kind of a pool's cartridges.
pub fn kind_of(pool: &Pool) -> MediumKind {
    hokan_jobs::tape::kind_of(pool.conf.mode)
}

/// The pool as the jobs library takes it.
fn pool_ref(pool: &Pool) -> hokan_jobs::tape::PoolRef<'_> {
    hokan_jobs::tape::PoolRef {
        name: pool.name.as_str(),
        allocation: pool.conf.allocation,
        retention: pool.retention,
    }
}
