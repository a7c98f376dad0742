//! Store faults at every write: the n-th put fails (as a full disk would),
//! for every n a backup makes. After each failure the repository must open,
//! verify, keep its earlier snapshot intact, and accept the next backup.
//! Also: prune never deletes a protected object.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use hokan_repo::prune::{KeepPolicy, PruneOptions};
use hokan_repo::{
    BackupOptions, InitOptions, KdfStrength, NoProgress, ObjectKind, Protection, Repository,
    RestoreOptions, Store,
};
use hokan_store::{FaultStore, MemStore};
use rand::{RngCore, SeedableRng};

const PW: &[u8] = b"pw";

fn opts() -> InitOptions {
    InitOptions {
        kdf: KdfStrength::TestOnly,
        pack_size: 64 * 1024,
        chunker: hokan_format::ChunkerParams {
            min_size: 4096,
            avg_size: 16384,
            max_size: 65536,
        },
        ..Default::default()
    }
}

fn data(dir: &Path, seed: u64, files: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    fs::create_dir_all(dir.join("sub")).unwrap();
    for i in 0..files {
        let mut v = vec![0u8; 20_000 + (i * 7919) % 60_000];
        rng.fill_bytes(&mut v);
        fs::write(
            dir.join(if i % 2 == 0 { "sub" } else { "" })
                .join(format!("f{i}")),
            v,
        )
        .unwrap();
    }
}

fn backup(repo: &Repository, dir: &Path) -> hokan_repo::Result<hokan_repo::BackupResult> {
    repo.backup(
        &BackupOptions {
            source: "s".into(),
            paths: vec![dir.to_path_buf()],
            ..Default::default()
        },
        &NoProgress,
    )
}

#[test]
fn a_failed_put_at_any_point_leaves_a_usable_repository() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    data(&src, 1, 12);
    let mem = Arc::new(MemStore::new());
    let fault = Arc::new(FaultStore::new(mem.clone()));
    let store: Arc<dyn Store> = fault.clone();
    let first = {
        let repo = Repository::init(store.clone(), PW, &opts()).unwrap();
        backup(&repo, &src).unwrap()
    };
    data(&src, 2, 16); // new data for the nights that fail
                       // How many puts does a successful second backup make?
    let probe_store = Arc::new(MemStore::new());
    let puts = {
        // Count on a copy: same data, fresh repository; an upper bound is enough.
        let f = Arc::new(FaultStore::new(probe_store));
        let r = Repository::init(f.clone(), PW, &opts()).unwrap();
        backup(&r, &src).unwrap();
        f.stats().puts
    };
    assert!(puts > 10, "the backup makes many writes ({puts})");
    for n in 0..puts {
        fault.fail_puts_after(n);
        let repo = Repository::open(store.clone(), PW).unwrap();
        let err = backup(&repo, &src).err();
        fault.clear_faults();
        if let Some(e) = &err {
            assert!(
                e.is_no_space(),
                "put {n}: a full medium is reported as such: {e}"
            );
        }
        drop(repo);
        // Still usable: opens, verifies, the first snapshot restores.
        let repo = Repository::open(store.clone(), PW).unwrap();
        let rep = repo.verify(true, &NoProgress).unwrap();
        assert!(rep.ok(), "after failing put {n}: {:?}", rep.damage);
        let out = t.path().join(format!("out{n}"));
        let st = repo
            .restore(
                &first.id,
                &RestoreOptions {
                    target: out.clone(),
                    ..Default::default()
                },
                &NoProgress,
            )
            .unwrap();
        assert!(st.errors.is_empty());
        if err.is_some() {
            let (snaps, _) = repo.snapshots().unwrap();
            assert!(snaps.iter().all(|(_, s)| !s.partial));
        }
        fs::remove_dir_all(&out).unwrap();
    }
    // And the next backup, with nothing failing, works and restores exactly.
    let repo = Repository::open(store.clone(), PW).unwrap();
    let last = backup(&repo, &src).unwrap();
    let out = t.path().join("final");
    repo.restore(
        &last.id,
        &RestoreOptions {
            target: out.clone(),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    let diff = hokan_repo::compare::compare_trees(&src, &out.join("src")).unwrap();
    assert!(diff.is_empty(), "{diff:?}");
}

#[test]
fn prune_never_deletes_protected_packs_and_says_until_when() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    data(&src, 3, 8);
    let mem = Arc::new(MemStore::new());
    let store: Arc<dyn Store> = mem.clone();
    let repo = Repository::init(store.clone(), PW, &opts()).unwrap();
    backup(&repo, &src).unwrap();
    // Replace all the data: the first snapshot's packs become garbage once it is forgotten.
    fs::remove_dir_all(&src).unwrap();
    data(&src, 4, 8);
    let second = backup(&repo, &src).unwrap();
    let packs_before = store.list(ObjectKind::Pack).unwrap();
    let until = time::OffsetDateTime::now_utc().unix_timestamp() + 86_400 * 30;
    for p in &packs_before {
        mem.protect(
            ObjectKind::Pack,
            &p.name,
            Protection::Until {
                unix_secs: until,
                bypassable: false,
            },
        )
        .unwrap();
    }
    repo.forget(
        &KeepPolicy {
            last: 1,
            ..Default::default()
        },
        None,
        false,
    )
    .unwrap();
    let plan = repo.prune(&PruneOptions::default()).unwrap();
    assert!(!plan.protected.is_empty(), "protected packs are listed");
    let after = store.list(ObjectKind::Pack).unwrap();
    for p in &packs_before {
        assert!(
            after.iter().any(|a| a.name == p.name),
            "protected pack {} survived",
            p.name
        );
    }
    // The kept snapshot is whole.
    let rep = repo.verify(true, &NoProgress).unwrap();
    assert!(rep.ok(), "{:?}", rep.damage);
    let out = t.path().join("out");
    repo.restore(
        &second.id,
        &RestoreOptions {
            target: out.clone(),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(hokan_repo::compare::compare_trees(&src, &out.join("src"))
        .unwrap()
        .is_empty());
}

#[test]
fn a_full_medium_can_still_be_pruned_of_what_failed_backups_left() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    data(&src, 5, 6);
    let mem = Arc::new(MemStore::new());
    let fault = Arc::new(FaultStore::new(mem.clone()));
    let store: Arc<dyn Store> = fault.clone();
    let repo = Repository::init(store.clone(), PW, &opts()).unwrap();
    let first = backup(&repo, &src).unwrap();
    data(&src, 6, 20);
    // The medium fills up part-way through the next backup.
    fault.fail_after_bytes(300_000);
    let err = backup(&repo, &src).unwrap_err();
    assert!(err.is_no_space(), "{err}");
    let orphans = store.list(ObjectKind::Pack).unwrap().len();
    // Now only a lock object still fits: prune must free space without
    // writing an index file or a pack first.
    fault.fail_after_bytes(1024);
    let before = fault.stats().put_bytes;
    let plan = repo.prune(&PruneOptions::default()).unwrap();
    assert!(
        plan.orphans_deleted > 0,
        "the failed backup's packs are gone: {plan:?}"
    );
    assert!(store.list(ObjectKind::Pack).unwrap().len() < orphans);
    assert!(
        fault.stats().put_bytes - before <= 1024,
        "prune wrote nothing but its lock"
    );
    fault.clear_faults();
    let repo = Repository::open(store.clone(), PW).unwrap();
    assert!(repo.verify(true, &NoProgress).unwrap().ok());
    let out = t.path().join("out");
    repo.restore(
        &first.id,
        &RestoreOptions {
            target: out.clone(),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    let last = backup(&repo, &src).unwrap();
    assert!(!last.snapshot.partial);
}
