//! A backup holds in memory only the directories on the scan's path and
//! those with a file still being read: what it holds follows the tree's
//! depth and width, not the number of files. Trees are written as their
//! directories complete, in whatever order the readers finish, and still
//! come out the same for the same files.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use hokan_repo::Store as _;
use hokan_repo::{
    BackupOptions, IndexScope, InitOptions, KdfStrength, NoProgress, ParentChoice, Repository,
    RestoreOptions,
};
use hokan_store::MemStore;

const DIRS: usize = 40;
const PER_DIR: usize = 250;

/// DIRS folders of PER_DIR small distinct files, two levels deep.
fn tree(root: &Path) {
    for d in 0..DIRS {
        let dir = root.join(format!("y{}", d / 10)).join(format!("m{d:03}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..PER_DIR {
            let body = format!("MSH|^~\\&|LAB|{d}|{f}|\r{}\r", "OBX|".repeat(f % 40));
            fs::write(dir.join(format!("ORU{f:05}.hl7")), body).unwrap();
        }
    }
}

fn repo() -> Repository {
    Repository::init(
        Arc::new(MemStore::new()),
        b"pw",
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            ..Default::default()
        },
    )
    .unwrap()
}

fn opts(data: &Path, parent: ParentChoice) -> BackupOptions {
    BackupOptions {
        source: "lab".into(),
        paths: vec![data.to_path_buf()],
        parent,
        time: Some("2026-12-07T00:00:00Z".into()),
        ..Default::default()
    }
}

fn same_files(a: &Path, b: &Path) {
    let mut n = 0;
    for e in walk(a) {
        let rel = e.strip_prefix(a).unwrap();
        assert_eq!(
            fs::read(&e).unwrap(),
            fs::read(b.join(rel)).unwrap(),
            "{}",
            rel.display()
        );
        n += 1;
    }
    assert_eq!(n, walk(b).len());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_backup_holds_a_few_directories_not_every_file_and_restores_them_all() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    tree(&data);
    let repo = repo();
    let first = repo
        .backup(&opts(&data, ParentChoice::None), &NoProgress)
        .unwrap();
    let files = DIRS * PER_DIR;
    assert_eq!(first.snapshot.summary.files_new, files as u64);
    // Before, every file's entry was held until the end (10,000 here).
    // Now: the open folders of 250, plus what the readers' queue holds.
    assert!(
        first.peak_entries_held < files / 4,
        "held {} of {files} entries at once",
        first.peak_entries_held
    );
    let out = tmp.path().join("out");
    let restored = repo
        .restore(
            &first.id,
            &RestoreOptions {
                target: out.clone(),
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
    same_files(&data, &out.join("data"));
    assert_eq!(restored.files, files as u64);
    // Before, the restore walked every entry into memory first (10,041
    // here) and planned every blob at once. Now: a batch being written,
    // one waiting and one being walked.
    assert!(
        restored.peak_entries_held < files / 2,
        "held {} of {files} entries at once",
        restored.peak_entries_held
    );

    // The night: nothing changed but one file; the parent's trees are read
    // folder by folder alongside.
    fs::write(data.join("y2/m021/ORU00007.hl7"), "changed").unwrap();
    let night = repo
        .backup(&opts(&data, ParentChoice::Auto), &NoProgress)
        .unwrap();
    let s = &night.snapshot.summary;
    assert_eq!((s.files_unchanged, s.files_changed), (files as u64 - 1, 1));
    assert!(
        night.peak_entries_held < files / 4,
        "{}",
        night.peak_entries_held
    );
    assert_ne!(night.snapshot.tree, first.snapshot.tree);
}

#[test]
fn the_same_files_give_the_same_trees_whatever_order_the_readers_finish_in() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    tree(&data);
    let repo = repo();
    let roots: Vec<_> = (0..3)
        .map(|_| {
            repo.backup(&opts(&data, ParentChoice::None), &NoProgress)
                .unwrap()
                .snapshot
                .tree
        })
        .collect();
    assert!(roots.iter().all(|r| *r == roots[0]), "{roots:?}");
    // And a fresh repository with the same key material is not needed:
    // the unchanged night reuses every entry and gives the same root.
    let night = repo
        .backup(&opts(&data, ParentChoice::Auto), &NoProgress)
        .unwrap();
    assert_eq!(night.snapshot.tree, roots[0]);
    assert_eq!(night.snapshot.summary.bytes_read, 0);
}

/// A store on the network: puts and deletes take a while, and it says how
/// many it takes at once. Records the most puts, and the most deletes, it
/// saw in flight together.
struct Slow {
    inner: MemStore,
    limit: usize,
    puts: InFlight,
    deletes: InFlight,
}

impl Slow {
    fn new(limit: usize) -> Slow {
        Slow {
            inner: MemStore::new(),
            limit,
            puts: InFlight::default(),
            deletes: InFlight::default(),
        }
    }
}

#[derive(Default)]
struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl InFlight {
    /// Run `f` as one request taking 30 ms.
    fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(n, SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(30));
        let r = f();
        self.now.fetch_sub(1, SeqCst);
        r
    }

    fn most(&self) -> usize {
        self.most.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl hokan_repo::Store for Slow {
    fn describe(&self) -> String {
        "slow".into()
    }
    fn create(&self) -> Result<(), hokan_repo::store::StoreError> {
        self.inner.create()
    }
    fn put(
        &self,
        kind: hokan_repo::store::ObjectKind,
        name: &str,
        data: &[u8],
    ) -> Result<(), hokan_repo::store::StoreError> {
        self.puts.during(|| self.inner.put(kind, name, data))
    }
    fn get(
        &self,
        kind: hokan_repo::store::ObjectKind,
        name: &str,
    ) -> Result<Vec<u8>, hokan_repo::store::StoreError> {
        self.inner.get(kind, name)
    }
    fn get_range(
        &self,
        kind: hokan_repo::store::ObjectKind,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, hokan_repo::store::StoreError> {
        self.inner.get_range(kind, name, offset, len)
    }
    fn list(
        &self,
        kind: hokan_repo::store::ObjectKind,
    ) -> Result<Vec<hokan_repo::store::ObjectInfo>, hokan_repo::store::StoreError> {
        self.inner.list(kind)
    }
    fn delete(
        &self,
        kind: hokan_repo::store::ObjectKind,
        name: &str,
    ) -> Result<(), hokan_repo::store::StoreError> {
        self.deletes.during(|| self.inner.delete(kind, name))
    }
    fn protection(
        &self,
        kind: hokan_repo::store::ObjectKind,
        name: &str,
    ) -> Result<hokan_repo::store::Protection, hokan_repo::store::StoreError> {
        self.inner.protection(kind, name)
    }
    fn parallel_writes(&self) -> usize {
        self.limit
    }
}

/// Distinct incompressible files, so that there are many packs.
fn images(dir: &Path, seed: u64) {
    fs::create_dir_all(dir).unwrap();
    for i in 0..24 {
        let mut b = vec![0u8; 1 << 20];
        rand::RngCore::fill_bytes(
            &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed * 100 + i),
            &mut b,
        );
        fs::write(dir.join(format!("img{i}.dcm")), b).unwrap();
    }
}

fn slow_repo(store: &Arc<Slow>) -> Repository {
    Repository::init(
        store.clone(),
        b"pw",
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            pack_size: 1 << 20,
            ..Default::default()
        },
    )
    .unwrap()
}

fn restores_whole(repo: &Repository, id: &hokan_format::Id, data: &Path, out: &Path) {
    repo.restore(
        id,
        &RestoreOptions {
            target: out.to_path_buf(),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    same_files(data, &out.join(data.file_name().unwrap()));
    let report = repo.verify(true, &NoProgress).unwrap();
    assert!(report.ok(), "{:?}", report.damage);
}

#[test]
fn packs_go_to_a_network_store_as_many_at_once_as_it_takes_and_the_backup_is_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    tree(&data);
    images(&data, 0);
    let store = Arc::new(Slow::new(4));
    let repo = slow_repo(&store);
    let r = repo
        .backup(&opts(&data, ParentChoice::None), &NoProgress)
        .unwrap();
    let most = store.puts.most();
    assert!((2..=4).contains(&most), "{most} puts in flight at once");
    restores_whole(&repo, &r.id, &data, &tmp.path().join("out"));
}

#[test]
fn prune_deletes_on_a_network_store_as_many_at_once_as_it_takes_and_keeps_what_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, kept) = (tmp.path().join("old"), tmp.path().join("kept"));
    images(&old, 1);
    images(&kept, 2);
    let store = Arc::new(Slow::new(4));
    let repo = slow_repo(&store);
    let gone = repo
        .backup(&opts(&old, ParentChoice::None), &NoProgress)
        .unwrap();
    let r = repo
        .backup(&opts(&kept, ParentChoice::None), &NoProgress)
        .unwrap();
    // Forgotten: its packs are now unused.
    store
        .inner
        .delete(hokan_repo::ObjectKind::Snapshot, &gone.id.to_hex())
        .unwrap();
    let plan = repo.prune(&Default::default()).unwrap();
    assert!(plan.packs_delete.len() >= 20, "{plan:?}");
    let most = store.deletes.most();
    assert!((2..=4).contains(&most), "{most} deletes in flight at once");
    let left = store.inner.list(hokan_repo::ObjectKind::Pack).unwrap();
    assert!(plan
        .packs_delete
        .iter()
        .all(|p| left.iter().all(|o| o.name != p.to_hex())));
    restores_whole(&repo, &r.id, &kept, &tmp.path().join("out"));
}

/// Every path under `dir`, folders included, relative to it.
fn paths(dir: &Path) -> std::collections::BTreeSet<std::path::PathBuf> {
    let mut out = std::collections::BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.insert(p.strip_prefix(dir).unwrap().to_path_buf());
            if p.is_dir() && !p.is_symlink() {
                todo.push(p);
            }
        }
    }
    out
}

#[test]
fn a_restore_in_batches_keeps_include_hard_links_and_folder_times() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    tree(&data);
    // Hard links far apart in the walk: in different batches.
    fs::hard_link(
        data.join("y0/m000/ORU00001.hl7"),
        data.join("y3/m039/link.hl7"),
    )
    .unwrap();
    fs::write(data.join("y3/m038/empty.hl7"), "").unwrap();
    std::os::unix::fs::symlink("../m000/ORU00002.hl7", data.join("y3/m038/sym")).unwrap();
    // Folder times from long ago: each is set after what is inside it.
    for d in 0..DIRS {
        let dir = data.join(format!("y{}", d / 10)).join(format!("m{d:03}"));
        filetime(&dir, 1_000_000 + d as i64);
    }
    for y in 0..DIRS / 10 {
        filetime(&data.join(format!("y{y}")), 2_000_000 + y as i64);
    }
    let repo = repo();
    let snap = repo
        .backup(&opts(&data, ParentChoice::None), &NoProgress)
        .unwrap();

    let out = tmp.path().join("out");
    let all = repo
        .restore(
            &snap.id,
            &RestoreOptions {
                target: out.clone(),
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
    assert!(all.errors.is_empty(), "{:?}", all.errors);
    assert_eq!((all.hardlinks, all.special), (1, 1));
    let r = out.join("data");
    assert_eq!(
        fs::metadata(r.join("y0/m000/ORU00001.hl7")).unwrap().ino(),
        fs::metadata(r.join("y3/m039/link.hl7")).unwrap().ino()
    );
    for d in 0..DIRS {
        let dir = r.join(format!("y{}", d / 10)).join(format!("m{d:03}"));
        assert_eq!(fs::metadata(&dir).unwrap().mtime(), 1_000_000 + d as i64);
    }
    for y in 0..DIRS / 10 {
        let m = fs::metadata(r.join(format!("y{y}"))).unwrap().mtime();
        assert_eq!(m, 2_000_000 + y as i64);
    }
    // Nothing is overwritten unless asked, and nothing is written first.
    fs::remove_file(r.join("y3/m039/ORU00100.hl7")).unwrap();
    let again = repo.restore(
        &snap.id,
        &RestoreOptions {
            target: out.clone(),
            ..Default::default()
        },
        &NoProgress,
    );
    assert!(again.is_err());
    assert!(!r.join("y3/m039/ORU00100.hl7").exists());

    // --include: the same entries the full walk and `filter` keep.
    let tree_id = snap.snapshot.tree;
    let mut every = Vec::new();
    repo.walk(&tree_id, Path::new(""), &mut every).unwrap();
    for pats in [
        vec!["ORU0000[12].hl7".to_string()],
        vec!["data/y2".to_string(), "link.hl7".to_string()],
        vec!["data/y1/m01[3-5]/ORU001*".to_string()],
    ] {
        let want: std::collections::BTreeSet<_> = hokan_repo::restore::filter(every.clone(), &pats)
            .unwrap()
            .into_iter()
            .map(|e| e.rel)
            .collect();
        let to = tmp
            .path()
            .join(format!("inc{}", pats.len() + pats[0].len()));
        let got = repo
            .restore(
                &snap.id,
                &RestoreOptions {
                    target: to.clone(),
                    include: pats.clone(),
                    ..Default::default()
                },
                &NoProgress,
            )
            .unwrap();
        assert!(got.errors.is_empty(), "{pats:?}: {:?}", got.errors);
        assert_eq!(paths(&to), want, "{pats:?}");
    }
}

fn filetime(p: &Path, secs: i64) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let t = libc::timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: a valid C string and a two-element array.
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) };
    assert_eq!(rc, 0);
}

/// A process that only backs up opens with [`IndexScope::Backup`]: data
/// blobs are known by id alone. It must still deduplicate exactly (against
/// the repository and within the run), write a snapshot a full open
/// restores byte for byte, and refuse everything that needs data
/// locations with an error that says so, never a wrong answer.
#[test]
fn a_backup_with_the_index_for_backup_deduplicates_and_everything_else_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    tree(&data);
    let store = Arc::new(MemStore::new());
    Repository::init(
        store.clone(),
        b"pw",
        &InitOptions {
            kdf: KdfStrength::TestOnly,
            ..Default::default()
        },
    )
    .unwrap();
    let for_backup = || Repository::open_scoped(store.clone(), b"pw", IndexScope::Backup).unwrap();
    let files = (DIRS * PER_DIR) as u64;

    // Copies of files within the first run, too.
    let dup = data.join("dup");
    fs::create_dir_all(&dup).unwrap();
    for f in 0..30 {
        fs::copy(
            data.join(format!("y0/m000/ORU{f:05}.hl7")),
            dup.join(format!("{f}.hl7")),
        )
        .unwrap();
    }
    // The same two runs with the whole index, in a repository of its own:
    // each run must add exactly as many blobs with either index.
    let reference = repo();
    let repo = for_backup();
    assert!(!repo.index().locates_data());
    let first = repo
        .backup(&opts(&data, ParentChoice::None), &NoProgress)
        .unwrap();
    let want = reference
        .backup(&opts(&data, ParentChoice::None), &NoProgress)
        .unwrap();
    assert_eq!(first.snapshot.summary.files_new, files + 30);
    assert_eq!(
        first.snapshot.summary.blobs_added,
        want.snapshot.summary.blobs_added
    );
    // 10,000 distinct contents (the 30 copies are not among the blobs)
    // and a tree for each folder (46, with `data` itself) and the root.
    assert_eq!(first.snapshot.summary.blobs_added, files + 46 + 1);

    // The night, in a new process: one file changed, a folder of copies of
    // files already backed up, and one new file.
    fs::write(data.join("y2/m021/ORU00007.hl7"), "changed").unwrap();
    let copies = data.join("copies");
    fs::create_dir_all(&copies).unwrap();
    for f in 0..20 {
        fs::copy(
            data.join(format!("y0/m003/ORU{f:05}.hl7")),
            copies.join(format!("{f}.hl7")),
        )
        .unwrap();
    }
    fs::write(copies.join("new.hl7"), "a new result").unwrap();
    let repo = for_backup();
    let night = repo
        .backup(&opts(&data, ParentChoice::Auto), &NoProgress)
        .unwrap();
    let want = reference
        .backup(&opts(&data, ParentChoice::Auto), &NoProgress)
        .unwrap();
    let s = &night.snapshot.summary;
    assert_eq!(
        (s.files_unchanged, s.files_changed, s.files_new),
        (files + 30 - 1, 1, 21)
    );
    assert_eq!(s.blobs_added, want.snapshot.summary.blobs_added);
    // Two new contents and the trees on the way to them (m021, y2, the
    // copies, data, the root): the 20 copies are in the repository already.
    assert!(s.blobs_added <= 2 + 5, "{} blobs added", s.blobs_added);

    // What needs data locations says so and does nothing.
    let why = |e: hokan_repo::RepoError| {
        let m = e.to_string();
        assert!(m.contains("opened for a backup only"), "{m}");
    };
    let out = tmp.path().join("refused");
    why(repo
        .restore(
            &night.id,
            &RestoreOptions {
                target: out.clone(),
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap_err());
    assert!(!out.exists(), "a refused restore wrote nothing");
    why(repo.verify(false, &NoProgress).unwrap_err());
    why(repo.prune(&Default::default()).unwrap_err());
    why(repo.copy_plan(&[night.id]).unwrap_err());
    // Trees are still located (a backup reads its parent's); data is not.
    let mut tree = repo.read_tree(&night.snapshot.tree).unwrap();
    let some_data = loop {
        let n = &tree.nodes[0];
        match n.subtree {
            Some(sub) => tree = repo.read_tree(&sub).unwrap(),
            None => break n.content[0],
        }
    };
    why(repo.read_blob(&some_data).unwrap_err());

    // A full open restores the night whole, and verify finds nothing wrong.
    let full = Repository::open(store.clone(), b"pw").unwrap();
    restores_whole(&full, &night.id, &data, &tmp.path().join("out"));
    assert!(full.verify(true, &NoProgress).unwrap().ok());
}
