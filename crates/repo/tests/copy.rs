//! Self-contained copies: the objects of a copy plan, put in an empty store,
//! make a repository that opens with the same passphrase, verifies clean with
//! every pack read, and restores the planned snapshots byte for byte — and
//! holds nothing of the snapshots left out.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use hokan_repo::{
    BackupOptions, InitOptions, KdfStrength, NoProgress, ObjectKind, Repository, RestoreOptions,
    Store,
};
use hokan_store::MemStore;
use rand::{RngCore, SeedableRng};

const PW: &[u8] = b"pw";

fn files(dir: &Path, seed: u64, n: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let mut v = vec![0u8; 30_000 + i * 1000];
        rng.fill_bytes(&mut v);
        fs::write(dir.join(format!("f{seed}-{i}")), v).unwrap();
    }
}

fn backup(repo: &Repository, dir: &Path, source: &str) -> hokan_format::Id {
    repo.backup(
        &BackupOptions {
            source: source.into(),
            paths: vec![dir.to_path_buf()],
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap()
    .id
}

fn same_tree(a: &Path, b: &Path) {
    let mut names: Vec<_> = fs::read_dir(a)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for n in names {
        assert_eq!(
            fs::read(a.join(&n)).unwrap(),
            fs::read(b.join(&n)).unwrap(),
            "{n:?}"
        );
    }
}

#[test]
fn a_copy_plan_makes_a_repository_that_restores_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(MemStore::new());
    let repo = Repository::init(
        store.clone(),
        PW,
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            pack_size: 64 * 1024,
            ..Default::default()
        },
    )
    .unwrap();
    let (emr, pacs) = (tmp.path().join("emr"), tmp.path().join("pacs"));
    files(&emr, 1, 12);
    files(&pacs, 2, 12);
    let a = backup(&repo, &emr, "emr");
    let b = backup(&repo, &pacs, "pacs");
    files(&emr, 3, 4); // night 2 of emr: new files beside the old
    let c = backup(&repo, &emr, "emr");

    let plan = repo.copy_plan(&[a, c]).unwrap();
    let copy: Arc<dyn Store> = Arc::new(MemStore::new());
    copy.create().unwrap();
    for o in &plan.objects {
        let bytes = repo.copy_object_bytes(o).unwrap();
        assert_eq!(bytes.len() as u64, o.size, "{}", o.path());
        copy.put(o.kind, &o.name, &bytes).unwrap();
    }
    // Manifests come last, packs before the index.
    let kinds: Vec<_> = plan.objects.iter().map(|o| o.kind).collect();
    assert_eq!(kinds.last(), Some(&ObjectKind::Snapshot));
    let first_index = kinds.iter().position(|k| *k == ObjectKind::Index).unwrap();
    assert!(kinds[..first_index].contains(&ObjectKind::Pack));
    assert!(!kinds[first_index..].contains(&ObjectKind::Pack));

    let copied = Repository::open(copy.clone(), PW).unwrap();
    let report = copied.verify(true, &NoProgress).unwrap();
    assert!(report.ok(), "{report:?}");
    let (snaps, broken) = copied.snapshots().unwrap();
    assert!(broken.is_empty());
    let ids: Vec<_> = snaps.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&a) && ids.contains(&c) && !ids.contains(&b));

    let out = tmp.path().join("out");
    copied
        .restore(
            &c,
            &RestoreOptions {
                target: out.clone(),
                include: vec![],
                overwrite: false,
            },
            &NoProgress,
        )
        .unwrap();
    same_tree(&emr, &out.join("emr"));

    // The pacs snapshot's data is not in the copy: fewer packs than the source.
    let all = store.list(ObjectKind::Pack).unwrap().len();
    assert!(plan.packs() < all, "{} of {all} packs", plan.packs());
}

#[test]
fn a_copy_of_a_missing_snapshot_is_refused() {
    let store: Arc<dyn Store> = Arc::new(MemStore::new());
    let repo = Repository::init(
        store,
        PW,
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(repo.copy_plan(&[hokan_format::Id([7; 32])]).is_err());
}
