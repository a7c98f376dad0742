//! What a copy job copies (the snapshots named, or each source's newest),
//! and copying a [`CopyPlan`] into a store.
//!
//! Tape, disk and S3 copies all start here, so that `--snapshot` means the
//! same on every kind of medium; disk and S3 (random-access stores) then
//! share [`copy_plan`], so that resuming, ordering and counting are the
//! same for both.
//!
//! # Crash semantics of [`copy_plan`]
//! Objects go in the plan's order (config, keys, packs, the index, then
//! the snapshots), and the snapshots only after every other object is in:
//! a copy cut short at any moment holds no snapshot whose objects are
//! missing, and the next run completes it. An object the store already
//! holds with the planned size is not written again (a resumed copy, or
//! generations sharing data). Nothing is recorded in the catalog here: the
//! caller records the copy after `copy_plan` returned `Ok`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use hokan_format::Id;
use hokan_repo::copy::{objects_present, CopyObject, CopyPlan};
use hokan_repo::store::{ObjectKind, Store, StoreError};
use hokan_repo::Repository;

use crate::JobError;

/// The snapshots named (id, prefix, `latest`), each once in the order
/// given, or by default each source's newest (by its time). An empty
/// result is [`JobError::NoSnapshotToCopy`].
pub fn snapshots_to_copy(repo: &Repository, specs: &[String]) -> Result<Vec<Id>, JobError> {
    let mut ids = Vec::new();
    if specs.is_empty() {
        let (all, _) = repo.snapshots()?;
        let mut newest: BTreeMap<String, (String, Id)> = BTreeMap::new();
        for (id, s) in all {
            let e = newest
                .entry(s.source.clone())
                .or_insert_with(|| (s.time.clone(), id));
            if s.time > e.0 {
                *e = (s.time.clone(), id);
            }
        }
        ids.extend(newest.into_values().map(|(_, id)| id));
    } else {
        for s in specs {
            let (id, _) = repo.find_snapshot(s, None)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    if ids.is_empty() {
        return Err(JobError::NoSnapshotToCopy);
    }
    Ok(ids)
}

/// How [`copy_plan`] writes.
#[derive(Clone, Copy, Debug)]
pub struct CopyOptions {
    /// Objects written at once (a bucket takes several uploads in
    /// parallel; a disk is written one object at a time). The snapshots,
    /// last, always go one at a time. 0 counts as 1; at most 64.
    pub workers: usize,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions { workers: 1 }
    }
}

/// What happened to one object of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written into the store now.
    Written,
    /// The store held it already (listed with the planned size before the
    /// copy, or written by another run between the listing and the put).
    AlreadyThere,
}

/// What [`copy_plan`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Bytes written now.
    pub written: u64,
    /// Bytes the store held already.
    pub already_there: u64,
    /// The objects of the plan the store held already, in no particular
    /// order (a bucket locks them again).
    pub kept: Vec<(ObjectKind, String)>,
    /// Every object the store held before the copy (of the plan or not),
    /// with its size, as listed at the start.
    pub present: HashMap<(ObjectKind, String), u64>,
}

/// The progress handle of [`copy_plan`]: told about each object once it
/// is in the store. With several workers it is called from several
/// threads, hence `Sync`.
pub trait CopyProgress: Sync {
    /// `obj` is in the store. An error stops the copy (no further object
    /// is started) and is what [`copy_plan`] returns: a device can say
    /// here that the medium went away.
    fn copied(&self, obj: &CopyObject, outcome: Outcome) -> Result<(), JobError>;
}

/// A [`CopyProgress`] that wants to know nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCopyProgress;

impl CopyProgress for NoCopyProgress {
    fn copied(&self, _: &CopyObject, _: Outcome) -> Result<(), JobError> {
        Ok(())
    }
}

/// Copy `plan`'s objects from `repo` into `store`, skipping those already
/// there (see the module docs for the order and what a crash leaves).
///
/// Errors: [`JobError::Destination`] when listing or writing `store`
/// fails (a full medium is [`StoreError::NoSpace`] inside), [`JobError::Repo`]
/// when reading the repository fails, or what `progress` returned. The
/// first error stops the copy; objects already written stay (valid, and
/// skipped by the next run).
pub fn copy_plan(
    repo: &Repository,
    plan: &CopyPlan,
    store: &dyn Store,
    opts: &CopyOptions,
    progress: &dyn CopyProgress,
) -> Result<CopyStats, JobError> {
    let have = objects_present(store).map_err(JobError::Destination)?;
    let stats = Mutex::new(CopyStats::default());
    let send = |obj: &CopyObject| -> Result<(), JobError> {
        let outcome = if have.get(&(obj.kind, obj.name.clone())) == Some(&obj.size) {
            Outcome::AlreadyThere
        } else {
            let bytes = repo.copy_object_bytes(obj)?;
            match store.put(obj.kind, &obj.name, &bytes) {
                Ok(()) => Outcome::Written,
                // Written by an earlier, interrupted run after we listed.
                Err(StoreError::AlreadyExists { .. }) => Outcome::AlreadyThere,
                Err(e) => return Err(JobError::Destination(e)),
            }
        };
        {
            let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
            match outcome {
                Outcome::Written => s.written += obj.size,
                Outcome::AlreadyThere => {
                    s.already_there += obj.size;
                    s.kept.push((obj.kind, obj.name.clone()));
                }
            }
        }
        progress.copied(obj, outcome)
    };
    let (rest, snapshots): (Vec<_>, Vec<_>) = plan
        .objects
        .iter()
        .partition(|o| o.kind != ObjectKind::Snapshot);
    let workers = opts.workers.clamp(1, 64);
    if workers == 1 {
        for obj in rest {
            send(obj)?;
        }
    } else {
        // Everything but the snapshots, a few at a time.
        let next = Mutex::new(rest.iter());
        let failed: Mutex<Option<JobError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    if failed.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                        return;
                    }
                    let Some(obj) = next
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .next()
                        .copied()
                    else {
                        return;
                    };
                    if let Err(e) = send(obj) {
                        failed
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e);
                        return;
                    }
                });
            }
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
    }
    // Then the snapshots, each once everything it needs is in.
    for obj in snapshots {
        send(obj)?;
    }
    let mut stats = stats.into_inner().unwrap_or_else(|e| e.into_inner());
    stats.present = have;
    Ok(stats)
}

/// Read every object of `plan` back from `store` and compare it with the
/// repository's: [`JobError::ReadBackDiffers`] names the first that is
/// missing, unreadable or different.
pub fn verify_copy(repo: &Repository, plan: &CopyPlan, store: &dyn Store) -> Result<(), JobError> {
    for obj in &plan.objects {
        let want = repo.copy_object_bytes(obj)?;
        let got = store.get(obj.kind, &obj.name);
        if got.as_deref().ok() != Some(&want[..]) {
            return Err(JobError::ReadBackDiffers {
                medium: None,
                path: obj.path(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_repo::{backup, new_repo};

    #[test]
    fn by_default_each_sources_newest() {
        let (_dir, repo) = new_repo();
        let err = snapshots_to_copy(&repo, &[]).unwrap_err();
        assert!(matches!(err, JobError::NoSnapshotToCopy), "{err:?}");
        let old_a = backup(&repo, "a", "2026-11-20T22:00:00Z");
        let new_a = backup(&repo, "a", "2026-11-21T22:00:00Z");
        let b = backup(&repo, "b", "2026-11-19T22:00:00Z");
        let mut got = snapshots_to_copy(&repo, &[]).unwrap();
        got.sort();
        let mut want = vec![new_a, b];
        want.sort();
        assert_eq!(got, want);
        // Named: in the order given, each once.
        let named = vec![old_a.to_hex(), b.to_hex(), old_a.to_hex()];
        assert_eq!(snapshots_to_copy(&repo, &named).unwrap(), vec![old_a, b]);
        let missing = snapshots_to_copy(&repo, &["ffffffff".into()]).unwrap_err();
        assert!(matches!(missing, JobError::Repo(_)), "{missing:?}");
    }
}

#[cfg(test)]
mod copy_tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::test_repo::{backup, new_repo};
    use hokan_store::{FaultStore, MemStore};

    /// Counts what it is told, and can stop the copy after `stop_after`
    /// objects, as a pulled-out disk does.
    #[derive(Default)]
    struct Counting {
        objects: AtomicU64,
        bytes: AtomicU64,
        stop_after: Option<u64>,
    }

    impl CopyProgress for Counting {
        fn copied(&self, obj: &CopyObject, _: Outcome) -> Result<(), JobError> {
            let n = self.objects.fetch_add(1, Ordering::SeqCst) + 1;
            self.bytes.fetch_add(obj.size, Ordering::SeqCst);
            if self.stop_after.is_some_and(|s| n >= s) {
                return Err(JobError::NoSnapshotToCopy);
            }
            Ok(())
        }
    }

    fn planned(repo: &Repository) -> CopyPlan {
        backup(repo, "a", "2026-11-20T22:00:00Z");
        backup(repo, "b", "2026-11-21T22:00:00Z");
        let ids = snapshots_to_copy(repo, &[]).unwrap();
        repo.copy_plan(&ids).unwrap()
    }

    fn opened(store: MemStore) -> Repository {
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
        Repository::open(store, crate::test_repo::PW).unwrap()
    }

    #[test]
    fn a_copy_into_memory_opens_and_a_second_run_writes_nothing() {
        let (_dir, repo) = new_repo();
        let plan = planned(&repo);
        for workers in [1, 4] {
            let store = MemStore::new();
            let p = Counting::default();
            let stats = copy_plan(&repo, &plan, &store, &CopyOptions { workers }, &p).unwrap();
            assert_eq!(stats.written, plan.bytes());
            assert_eq!(stats.already_there, 0);
            assert!(stats.kept.is_empty());
            assert_eq!(p.objects.load(Ordering::SeqCst), plan.objects.len() as u64);
            assert_eq!(p.bytes.load(Ordering::SeqCst), plan.bytes());
            verify_copy(&repo, &plan, &store).unwrap();
            let again = copy_plan(
                &repo,
                &plan,
                &store,
                &CopyOptions { workers },
                &NoCopyProgress,
            )
            .unwrap();
            assert_eq!(again.written, 0);
            assert_eq!(again.already_there, plan.bytes());
            assert_eq!(again.kept.len(), plan.objects.len());
            let copy = opened(store);
            assert_eq!(copy.snapshots().unwrap().0.len(), 2);
        }
    }

    #[test]
    fn a_full_medium_stops_the_copy_without_any_snapshot_and_the_next_run_completes_it() {
        let (_dir, repo) = new_repo();
        let plan = planned(&repo);
        for workers in [1, 3] {
            let store = FaultStore::new(MemStore::new());
            store.fail_puts_after(2);
            let e = copy_plan(
                &repo,
                &plan,
                &store,
                &CopyOptions { workers },
                &NoCopyProgress,
            )
            .unwrap_err();
            assert!(
                matches!(e, JobError::Destination(StoreError::NoSpace { .. })),
                "{e:?}"
            );
            assert!(!e.is_transient());
            assert!(std::error::Error::source(&e).is_some());
            // Nothing a restore could trip on: no snapshot without its data.
            assert!(store.inner().list(ObjectKind::Snapshot).unwrap().is_empty());
            assert!(matches!(
                verify_copy(&repo, &plan, &store),
                Err(JobError::ReadBackDiffers { .. })
            ));
            store.clear_faults();
            let stats = copy_plan(
                &repo,
                &plan,
                &store,
                &CopyOptions { workers },
                &NoCopyProgress,
            )
            .unwrap();
            assert_eq!(stats.written + stats.already_there, plan.bytes());
            assert!(stats.already_there > 0);
            verify_copy(&repo, &plan, &store).unwrap();
        }
    }

    #[test]
    fn the_progress_handle_can_stop_the_copy_before_the_snapshots() {
        let (_dir, repo) = new_repo();
        let plan = planned(&repo);
        let store = MemStore::new();
        let p = Counting {
            stop_after: Some(1),
            ..Default::default()
        };
        let e = copy_plan(&repo, &plan, &store, &CopyOptions::default(), &p).unwrap_err();
        assert!(matches!(e, JobError::NoSnapshotToCopy), "{e:?}");
        assert_eq!(p.objects.load(Ordering::SeqCst), 1);
        assert!(store.list(ObjectKind::Snapshot).unwrap().is_empty());
    }

    #[test]
    fn a_read_back_that_differs_names_the_object() {
        let (_dir, repo) = new_repo();
        let plan = planned(&repo);
        let store = MemStore::new();
        copy_plan(
            &repo,
            &plan,
            &store,
            &CopyOptions::default(),
            &NoCopyProgress,
        )
        .unwrap();
        let snap = plan
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::Snapshot)
            .unwrap();
        store.delete(snap.kind, &snap.name).unwrap();
        store.put(snap.kind, &snap.name, b"garbage").unwrap();
        match verify_copy(&repo, &plan, &store) {
            Err(JobError::ReadBackDiffers { path, .. }) => assert_eq!(path, snap.path()),
            other => panic!("{other:?}"),
        }
    }
}
