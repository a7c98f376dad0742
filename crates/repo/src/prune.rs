//! Forget (which generations to keep) and prune (delete what no snapshot needs).
//!
//! **Forget** applies a grandfather-father-son policy per source: keep the
//! last N snapshots, and the newest snapshot of each of the last N days,
//! ISO weeks, months and years (days, weeks, … are taken in UTC, the zone the
//! snapshot times are written in). A snapshot kept by any rule is kept.
//! Forget removes only snapshot manifests; the data stays until prune.
//!
//! **Prune** works in a fixed order so that a crash at any step leaves a
//! usable repository:
//! 1. take the exclusive lock (no backup may run: it could be about to reuse
//!    a blob prune is deleting), and delete packs that no index lists and no
//!    snapshot needs (what failed or killed backups left) before writing
//!    anything, so that a full medium can still be pruned;
//! 2. find every blob any snapshot needs (refuse if any tree is unreadable:
//!    prune must know, not guess);
//! 3. plan: packs with nothing used are deleted; packs with more unused bytes
//!    than the threshold are repacked (their used blobs copied, still sealed,
//!    into new packs); all others are left alone — prune repacks only what it
//!    must. Protected objects (retention lock, immutable flag) are never
//!    touched: they are listed with the date after which they can go;
//! 4. write the new packs, then one new index file for everything kept;
//! 5. delete the old index files, then the old packs.

use std::collections::{BTreeMap, HashMap};

use hokan_format::{BlobEntry, Id, Snapshot};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::crypto::aad;
use crate::error::{RepoError, Result};
use crate::index::IdSet;
use crate::pack::PackBuilder;
use crate::repository::Repository;
use crate::store::{ObjectKind, Protection, StoreError};

/// How many generations to keep. Zero means the rule is off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeepPolicy {
    /// The last N snapshots.
    pub last: u32,
    /// The newest of each of the last N days.
    pub daily: u32,
    /// The newest of each of the last N ISO weeks.
    pub weekly: u32,
    /// The newest of each of the last N months.
    pub monthly: u32,
    /// The newest of each of the last N years.
    pub yearly: u32,
}

impl KeepPolicy {
    /// True if no rule is set (forget would remove everything: refused).
    pub fn is_empty(&self) -> bool {
        *self == KeepPolicy::default()
    }
}

/// One snapshot's fate under a policy.
#[derive(Clone, Debug, Serialize)]
pub struct ForgetDecision {
    /// Snapshot id.
    pub id: Id,
    /// Its time.
    pub time: String,
    /// Its source.
    pub source: String,
    /// Kept?
    pub keep: bool,
    /// The rules that keep it (`last`, `daily`, …).
    pub reasons: Vec<&'static str>,
}

/// What forget will do (or did).
#[derive(Clone, Debug, Serialize, Default)]
pub struct ForgetPlan {
    /// Every snapshot, newest first within each source.
    pub decisions: Vec<ForgetDecision>,
}

impl ForgetPlan {
    /// Snapshots to remove.
    pub fn remove(&self) -> impl Iterator<Item = &ForgetDecision> {
        self.decisions.iter().filter(|d| !d.keep)
    }
}

/// Decide which snapshots a policy keeps. Pure: no I/O.
pub fn plan_forget(snaps: &[(Id, Snapshot)], policy: &KeepPolicy) -> ForgetPlan {
    let mut by_source: BTreeMap<&str, Vec<&(Id, Snapshot)>> = BTreeMap::new();
    for s in snaps {
        by_source.entry(&s.1.source).or_default().push(s);
    }
    let mut plan = ForgetPlan::default();
    for (_, mut list) in by_source {
        list.sort_by(|a, b| b.1.time.cmp(&a.1.time).then(b.0.cmp(&a.0)));
        type KeyFn = fn(&OffsetDateTime) -> (i32, u32);
        let rules: [(&'static str, u32, KeyFn); 4] = [
            ("daily", policy.daily, |t| (t.year(), t.ordinal() as u32)),
            ("weekly", policy.weekly, |t| {
                let (y, w, _) = t.to_iso_week_date();
                (y, w as u32)
            }),
            ("monthly", policy.monthly, |t| (t.year(), t.month() as u32)),
            ("yearly", policy.yearly, |t| (t.year(), 0)),
        ];
        let mut left: Vec<u32> = rules.iter().map(|r| r.1).collect();
        let mut last_key: Vec<Option<(i32, u32)>> = vec![None; rules.len()];
        let mut last_left = policy.last;
        for (id, s) in list {
            let mut reasons = Vec::new();
            if last_left > 0 {
                last_left -= 1;
                reasons.push("last");
            }
            if let Ok(t) = OffsetDateTime::parse(&s.time, &Rfc3339) {
                let t = t.to_offset(time::UtcOffset::UTC);
                for (i, (name, _, key)) in rules.iter().enumerate() {
                    let k = key(&t);
                    if left[i] > 0 && last_key[i] != Some(k) {
                        left[i] -= 1;
                        last_key[i] = Some(k);
                        reasons.push(*name);
                    }
                }
            } else {
                // A time we cannot read: keep it, never guess towards deletion.
                reasons.push("unreadable-time");
            }
            plan.decisions.push(ForgetDecision {
                id: *id,
                time: s.time.clone(),
                source: s.source.clone(),
                keep: !reasons.is_empty(),
                reasons,
            });
        }
    }
    plan
}

/// Options for prune.
#[derive(Clone, Copy, Debug)]
pub struct PruneOptions {
    /// Repack a pack when more than this percentage of its bytes is unused.
    pub repack_threshold_pct: u8,
    /// Only plan; change nothing.
    pub dry_run: bool,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            repack_threshold_pct: 20,
            dry_run: false,
        }
    }
}

/// What prune will do (or did).
#[derive(Clone, Debug, Default, Serialize)]
pub struct PrunePlan {
    /// Unindexed packs nothing needed (left by failed or killed backups),
    /// deleted before anything was written.
    pub orphans_deleted: u64,
    /// Packs in the repository.
    pub packs_total: usize,
    /// Packs left as they are.
    pub packs_keep: usize,
    /// Packs deleted: nothing in them is used.
    pub packs_delete: Vec<Id>,
    /// Packs repacked: used blobs copied out, then deleted.
    pub packs_repack: Vec<Id>,
    /// Packs that would go but are protected, with when they can go.
    pub protected: Vec<(Id, String)>,
    /// Blobs any snapshot needs.
    pub blobs_used: usize,
    /// Bytes of the deleted and repacked packs that no snapshot needs.
    pub bytes_freed: u64,
    /// Bytes copied into new packs.
    pub bytes_repacked: u64,
    /// Index files replaced by one new file.
    pub index_files: usize,
}

impl Repository {
    /// Remove snapshot manifests that the policy does not keep.
    pub fn forget(
        &self,
        policy: &KeepPolicy,
        source: Option<&str>,
        dry_run: bool,
    ) -> Result<ForgetPlan> {
        if policy.is_empty() {
            return Err(RepoError::Invalid(
                "no --keep-* rule given: forget would remove every snapshot; give at least one rule".into(),
            ));
        }
        let (snaps, _) = self.snapshots()?;
        let snaps: Vec<_> = snaps
            .into_iter()
            .filter(|(_, s)| source.is_none_or(|x| s.source == x))
            .collect();
        let plan = plan_forget(&snaps, policy);
        if !dry_run {
            let _lock = self.lock(false, "forget")?;
            for d in plan.remove() {
                match self.store().delete(ObjectKind::Snapshot, &d.id.to_hex()) {
                    Ok(()) | Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(plan)
    }

    /// Every blob (data and tree) that some snapshot needs.
    pub fn used_blobs(&self) -> Result<IdSet> {
        let (snaps, broken) = self.snapshots()?;
        if let Some((name, e)) = broken.into_iter().next() {
            return Err(RepoError::Invalid(format!(
                "snapshot {name} is damaged ({e}); prune cannot tell what it needs. Run `hokan verify` and remove or repair it first"
            )));
        }
        self.blobs_reachable(snaps.iter().map(|(_, s)| s.tree).collect())
    }

    /// Delete objects, as many at once as the store takes writes
    /// ([`crate::Store::parallel_writes`]: one by one in a folder, a
    /// bucket's `concurrency` on the network, where each delete is a round
    /// trip or two). With `skip_protected`, an object still protected is
    /// left alone without a delete being tried. Results in the given order.
    fn delete_each(
        &self,
        kind: ObjectKind,
        names: Vec<Id>,
        skip_protected: bool,
    ) -> Vec<(Id, std::result::Result<(), StoreError>)> {
        let store = self.store();
        let one = |id: &Id| {
            let name = id.to_hex();
            if skip_protected {
                match store.protection(kind, &name) {
                    Ok(Protection::None) => {}
                    Ok(_) => {
                        return Err(StoreError::Protected {
                            kind,
                            name,
                            store: store.describe(),
                            why: "protected".into(),
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
            store.delete(kind, &name)
        };
        let threads = store.parallel_writes().clamp(1, 64).min(names.len());
        if threads <= 1 {
            return names.iter().map(|id| (*id, one(id))).collect();
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done = std::sync::Mutex::new(Vec::with_capacity(names.len()));
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(id) = names.get(i) else { break };
                    let r = one(id);
                    done.lock().expect("deletes").push((i, r));
                });
            }
        });
        let mut done = done.into_inner().expect("deletes");
        done.sort_unstable_by_key(|(i, _)| *i);
        done.into_iter().map(|(i, r)| (names[i], r)).collect()
    }

    /// Plan and (unless dry-run) carry out a prune.
    pub fn prune(&self, opts: &PruneOptions) -> Result<PrunePlan> {
        self.require_full_index("prune")?;
        let _lock = self.lock(true, "prune")?;
        let used = self.used_blobs()?;
        // Packs no index lists and no snapshot needs (left by failed or killed
        // backups) go first, before anything is written: a full medium must
        // still be prunable. Safe under the exclusive lock: no backup runs.
        let (orphans, _) = self.find_orphans()?;
        let mut orphans_deleted = 0u64;
        if !opts.dry_run {
            let unused = orphans
                .iter()
                .filter(|(_, entries)| !entries.iter().any(|e| used.contains(&e.id)))
                .map(|(pack, _)| *pack);
            for (_, r) in self.delete_each(ObjectKind::Pack, unused.collect(), true) {
                match r {
                    Ok(()) | Err(StoreError::NotFound { .. }) => orphans_deleted += 1,
                    Err(StoreError::Protected { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // Index the orphans kept, and drop packs that are gone: prune must
        // not write a new index file naming a pack that no longer exists.
        self.check_packs()?;
        {
            let idx = self.index();
            if let Some(missing) = used.iter().find(|b| !idx.contains(b)) {
                return Err(RepoError::Invalid(format!(
                    "blob {missing} needed by a snapshot is in no pack; the repository is damaged. Run `hokan verify`, then `hokan repair snapshots --forget` to replace the damaged snapshots by what is left of them, then prune"
                )));
            }
        }
        let by_pack = self.index().by_pack();
        let sizes: HashMap<Id, u64> = self
            .store()
            .list(ObjectKind::Pack)?
            .into_iter()
            .filter_map(|i| Id::from_hex(&i.name).ok().map(|id| (id, i.size)))
            .collect();
        let mut plan = PrunePlan {
            orphans_deleted,
            packs_total: by_pack.len(),
            blobs_used: used.len(),
            index_files: self.index().files.len(),
            ..Default::default()
        };
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut kept: Vec<(Id, Vec<BlobEntry>)> = Vec::new();
        let mut to_repack: Vec<(Id, Vec<BlobEntry>)> = Vec::new();
        for (pack, entries) in by_pack {
            let size = sizes.get(&pack).copied().unwrap_or(0);
            let used_bytes: u64 = entries
                .iter()
                .filter(|e| used.contains(&e.id))
                .map(|e| e.length as u64)
                .sum();
            let blob_bytes: u64 = entries.iter().map(|e| e.length as u64).sum();
            let unused = blob_bytes - used_bytes;
            let goes =
                used_bytes == 0 || unused * 100 > blob_bytes * opts.repack_threshold_pct as u64;
            if !goes {
                plan.packs_keep += 1;
                kept.push((pack, entries));
                continue;
            }
            match self.store().protection(ObjectKind::Pack, &pack.to_hex())? {
                Protection::None => {}
                Protection::Until { unix_secs, .. } if unix_secs <= now => {}
                p => {
                    let when = match p {
                        Protection::Until { unix_secs, .. } => {
                            OffsetDateTime::from_unix_timestamp(unix_secs)
                                .ok()
                                .and_then(|t| t.format(&Rfc3339).ok())
                                .unwrap_or_default()
                        }
                        Protection::Indefinite => "never (indefinite protection)".into(),
                        _ => "unknown".into(),
                    };
                    plan.protected.push((pack, when));
                    plan.packs_keep += 1;
                    kept.push((pack, entries));
                    continue;
                }
            }
            plan.bytes_freed += size.saturating_sub(used_bytes);
            if used_bytes == 0 {
                plan.packs_delete.push(pack);
            } else {
                plan.bytes_repacked += used_bytes;
                plan.packs_repack.push(pack);
                to_repack.push((pack, entries));
            }
        }
        if opts.dry_run
            || (plan.packs_delete.is_empty()
                && plan.packs_repack.is_empty()
                && plan.index_files <= 1)
        {
            return Ok(plan);
        }

        // Copy used blobs of repacked packs, still sealed, into new packs.
        let pack_size = self.config().pack_size as usize;
        let mut builder = PackBuilder::with_capacity(pack_size);
        let mut new_packs: Vec<(Id, Vec<BlobEntry>)> = Vec::new();
        let mut copied = IdSet::default();
        let flush = |b: PackBuilder, out: &mut Vec<(Id, Vec<BlobEntry>)>| -> Result<()> {
            let (name, bytes, entries) = b.finish(self.key());
            match self.store().put(ObjectKind::Pack, &name.to_hex(), &bytes) {
                Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            out.push((name, entries));
            Ok(())
        };
        for (pack, entries) in &to_repack {
            let bytes = self.store().get(ObjectKind::Pack, &pack.to_hex())?;
            for e in entries.iter().filter(|e| used.contains(&e.id)) {
                if !copied.insert(e.id) {
                    continue;
                }
                let (lo, hi) = (e.offset as usize, e.offset as usize + e.length as usize);
                let sealed = bytes.get(lo..hi).ok_or_else(|| RepoError::Corrupt {
                    what: format!("pack {pack}"),
                    detail: "shorter than its index says".into(),
                })?;
                // Authenticate before copying: never spread damage into new packs.
                self.open_blob(pack, e.kind, &e.id, sealed, e.raw_length as usize)?;
                builder.add(e.kind, e.id, sealed, e.raw_length as usize);
                if builder.len() >= pack_size {
                    flush(
                        std::mem::replace(&mut builder, PackBuilder::with_capacity(pack_size)),
                        &mut new_packs,
                    )?;
                }
            }
        }
        if !builder.is_empty() {
            flush(builder, &mut new_packs)?;
        }

        // One new index file for everything that stays.
        let old_files = self.index().files.clone();
        let mut all = kept;
        all.extend(new_packs);
        let (new_index, _) = self.put_index(all)?;
        let mut undeletable_index = Vec::new();
        let old: Vec<Id> = old_files.into_iter().filter(|f| *f != new_index).collect();
        for (f, r) in self.delete_each(ObjectKind::Index, old, false) {
            match r {
                Ok(()) | Err(StoreError::NotFound { .. }) => {}
                Err(StoreError::Protected { .. }) => undeletable_index.push(f),
                Err(e) => return Err(e.into()),
            }
        }
        // A pack still listed by an index file we could not delete must stay,
        // or that file would point at nothing.
        let mut still_listed = IdSet::default();
        for f in &undeletable_index {
            let b = self.store().get(ObjectKind::Index, &f.to_hex())?;
            if let Ok(p) = self.open_object(&b, &f.to_hex(), aad::INDEX) {
                if let Ok(file) = hokan_format::IndexFile::decode(&p) {
                    still_listed.extend(file.packs.iter().map(|p| p.pack));
                }
            }
        }
        let gone = plan
            .packs_delete
            .iter()
            .chain(plan.packs_repack.iter())
            .filter(|p| !still_listed.contains(p))
            .copied();
        for (p, r) in self.delete_each(ObjectKind::Pack, gone.collect(), false) {
            match r {
                Ok(()) | Err(StoreError::NotFound { .. }) => {}
                Err(StoreError::Protected { why, .. }) => plan.protected.push((p, why)),
                Err(e) => return Err(e.into()),
            }
        }
        // Reload the index as it now is.
        let mut fresh = self.empty_index();
        let b = self.store().get(ObjectKind::Index, &new_index.to_hex())?;
        let p = self.open_object(&b, &new_index.to_hex(), aad::INDEX)?;
        let file = hokan_format::IndexFile::decode(&p).map_err(|source| RepoError::Format {
            object: format!("index file {new_index}"),
            source,
        })?;
        fresh.add_file(new_index, &file);
        *self.index_mut() = fresh;
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(time: &str) -> Snapshot {
        Snapshot {
            version: 1,
            time: time.into(),
            source: "emr".into(),
            hostname: "h".into(),
            username: "u".into(),
            tags: vec![],
            paths: vec![],
            tree: Id::default(),
            parent: None,
            partial: false,
            errors: vec![],
            summary: Default::default(),
            program: "t".into(),
        }
    }

    #[test]
    fn gfs_keeps_newest_of_each_period() {
        // 60 nightly snapshots at 02:00, plus a second one on the last day.
        let mut snaps = Vec::new();
        let start = OffsetDateTime::parse("2026-01-01T02:00:00Z", &Rfc3339).unwrap();
        for d in 0..60 {
            let t = start + time::Duration::days(d);
            snaps.push((Id([d as u8; 32]), snap(&t.format(&Rfc3339).unwrap())));
        }
        snaps.push((Id([200; 32]), snap("2026-03-01T23:00:00Z")));
        let plan = plan_forget(
            &snaps,
            &KeepPolicy {
                daily: 7,
                weekly: 4,
                monthly: 3,
                ..Default::default()
            },
        );
        let kept: Vec<&str> = plan
            .decisions
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.time.as_str())
            .collect();
        // 7 days: Mar 1 (the 23:00 one), Feb 28..23.
        assert_eq!(kept[0], "2026-03-01T23:00:00Z");
        assert!(!plan
            .decisions
            .iter()
            .any(|d| d.time == "2026-03-01T02:00:00Z" && d.keep));
        // Months: Mar, Feb (newest = Feb 28), Jan (newest = Jan 31).
        assert!(kept.contains(&"2026-01-31T02:00:00Z"));
        let monthly: Vec<_> = plan
            .decisions
            .iter()
            .filter(|d| d.reasons.contains(&"monthly"))
            .map(|d| d.time.as_str())
            .collect();
        assert_eq!(
            monthly,
            [
                "2026-03-01T23:00:00Z",
                "2026-02-28T02:00:00Z",
                "2026-01-31T02:00:00Z"
            ]
        );
        assert_eq!(
            plan.decisions
                .iter()
                .filter(|d| d.reasons.contains(&"weekly"))
                .count(),
            4
        );
        assert_eq!(plan.decisions.len(), 61);
    }

    #[test]
    fn keep_last_and_unreadable_time() {
        let snaps = vec![
            (Id([1; 32]), snap("2026-01-01T00:00:00Z")),
            (Id([2; 32]), snap("2026-01-02T00:00:00Z")),
            (Id([3; 32]), snap("garbage")),
        ];
        let plan = plan_forget(
            &snaps,
            &KeepPolicy {
                last: 1,
                ..Default::default()
            },
        );
        let keep: Vec<bool> = plan.decisions.iter().map(|d| d.keep).collect();
        // "garbage" sorts last-newest; it is kept by `last`, and 01-02/01-01 go.
        assert_eq!(keep.iter().filter(|k| **k).count(), 1);
        assert!(plan.decisions.iter().any(|d| d.time == "garbage" && d.keep));
    }
}
