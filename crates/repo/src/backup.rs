//! Backup: sources → snapshot.
//!
//! Three phases:
//! 1. **Scan** the paths (`lstat` only) into an in-memory tree, matching every
//!    file against the parent snapshot: a file whose size, mtime, ctime and
//!    inode are unchanged reuses the parent's content list without being read.
//! 2. **Read** the other files in parallel (rayon): each file is cut into
//!    chunks in 16 MiB segments; the chunks of a segment are hashed,
//!    deduplicated, compressed and sealed in parallel, and appended to the
//!    current pack. Full packs go to one writer thread (bounded queue, so
//!    readers wait when the store is slower).
//! 3. **Trees** are written bottom-up, then the last packs, then an index file
//!    for this run's packs, and only then the snapshot manifest.
//!
//! # Crash semantics
//! Every object is put atomically. Until the snapshot manifest is written the
//! run is invisible; packs written before a kill are found by the next run
//! ([`Repository::check_packs`]) and their blobs reused. A killed
//! backup therefore never damages the repository and loses only the time
//! spent. Index files are written every [`INDEX_EVERY_PACKS`] packs so that
//! the orphan scan stays short.
//!
//! # Damage
//! The same listing at the start finds packs the index lists but the store
//! no longer has (deleted or lost on the medium). Their entries are dropped
//! from the index before anything is deduplicated, so the new snapshot
//! refers only to packs that exist: a file whose blobs were in a lost pack
//! is read again (it no longer matches the parent), and a blob that was in
//! a lost pack is written again. [`BackupResult::packs`] says what was found.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use hokan_format::{
    BlobEntry, BlobKind, Id, Node, NodeKind, Snapshot, SnapshotError, SnapshotSummary, Tree,
};
use rayon::prelude::*;

use crate::chunker::Chunker;
use crate::error::{RepoError, Result};
use crate::index::IdSet;
use crate::meta::{self, OwnerNames};
use crate::pack::PackBuilder;
use crate::repository::{now_rfc3339, Actor, Repository};
use crate::store::{ObjectKind, StoreError};

/// An index file is written after this many packs (and at the end).
pub const INDEX_EVERY_PACKS: usize = 64;
const SEGMENT: usize = 16 * 1024 * 1024;
/// Files at least this large choose their compression level on their first chunk.
const LEVEL_PROBE_MIN: u64 = 8 * 1024 * 1024;
/// How much of each chunk of a file found incompressible is tried.
const CHUNK_PROBE: usize = 8 * 1024;

/// A file's blob ids and the bytes read.
type FileContent = (Vec<Id>, u64);

/// Which snapshot a backup compares against.
#[derive(Clone, Debug, Default)]
pub enum ParentChoice {
    /// The latest snapshot of the same source.
    #[default]
    Auto,
    /// None: read every file.
    None,
    /// This one.
    Id(Id),
}

/// What to back up.
#[derive(Clone, Debug, Default)]
pub struct BackupOptions {
    /// Source name (a generation belongs to a source).
    pub source: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Paths; each becomes a top-level entry named by its last component.
    pub paths: Vec<PathBuf>,
    /// Parent selection.
    pub parent: ParentChoice,
    /// Override the snapshot time (RFC 3339), e.g. for simulated nights.
    pub time: Option<String>,
}

/// Progress reports from a backup. All methods have empty defaults.
pub trait BackupProgress: Send + Sync {
    /// The scan found this much to read.
    fn to_read(&self, _files: u64, _bytes: u64) {}
    /// Bytes read from a file.
    fn read(&self, _bytes: u64) {}
    /// A path could not be read; the backup goes on.
    fn warn(&self, _path: &Path, _error: &str) {}
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl BackupProgress for NoProgress {}

/// The result of a backup.
#[derive(Clone, Debug)]
pub struct BackupResult {
    /// The new snapshot's id.
    pub id: Id,
    /// The manifest as written.
    pub snapshot: Snapshot,
    /// What the check of the packs at the start found: packs left by an
    /// interrupted run (reused), and packs the index listed that are gone
    /// (their data was not deduplicated against, so whatever of it is still
    /// in the source was written again).
    pub packs: crate::repository::PackCheck,
}

struct Item {
    node: Node,
    path: PathBuf,
    children: Vec<usize>,
    read: bool,
}

struct Scan<'a> {
    repo: &'a Repository,
    items: Vec<Item>,
    errors: Vec<SnapshotError>,
    names: OwnerNames,
    summary: SnapshotSummary,
    progress: &'a dyn BackupProgress,
}

impl Scan<'_> {
    fn error(&mut self, path: &Path, e: impl std::fmt::Display) {
        let msg = e.to_string();
        self.progress.warn(path, &msg);
        self.errors.push(SnapshotError {
            path: path.display().to_string(),
            error: msg,
        });
    }

    /// Scan `path` as an entry called `name`; returns its item index.
    fn scan(&mut self, path: &Path, name: &OsStr, parent: Option<&Node>) -> Option<usize> {
        let md = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.error(path, e);
                return None;
            }
        };
        let mut node = meta::node_from_metadata(name, &md, path, &self.names);
        let parent = parent.filter(|p| p.kind == node.kind);
        let idx = self.items.len();
        let mut read = false;
        match node.kind {
            NodeKind::File => {
                self.summary.bytes_total += node.size;
                let reuse = parent.filter(|p| {
                    !p.incomplete
                        && p.size == node.size
                        && p.mtime_ns == node.mtime_ns
                        && p.ctime_ns == node.ctime_ns
                        && p.inode == node.inode
                        && {
                            let idx = self.repo.index();
                            p.content.iter().all(|c| idx.contains(c))
                        }
                });
                match (reuse, parent) {
                    (Some(p), _) => {
                        node.content = p.content.clone();
                        self.summary.files_unchanged += 1;
                    }
                    (None, Some(_)) => {
                        self.summary.files_changed += 1;
                        read = true;
                    }
                    (None, None) => {
                        self.summary.files_new += 1;
                        read = true;
                    }
                }
            }
            NodeKind::Dir => self.summary.dirs += 1,
            _ => {}
        }
        self.items.push(Item {
            node,
            path: path.to_path_buf(),
            children: Vec::new(),
            read,
        });
        if self.items[idx].node.kind == NodeKind::Dir {
            let parent_tree = parent
                .and_then(|p| p.subtree)
                .and_then(|t| self.repo.read_tree(&t).ok());
            let mut entries: Vec<(Vec<u8>, PathBuf, std::ffi::OsString)> =
                match std::fs::read_dir(path) {
                    Ok(rd) => rd
                        .filter_map(|e| match e {
                            Ok(e) => Some(e),
                            Err(err) => {
                                self.error(path, err);
                                None
                            }
                        })
                        .map(|e| {
                            let n = e.file_name();
                            (
                                std::os::unix::ffi::OsStrExt::as_bytes(n.as_os_str()).to_vec(),
                                e.path(),
                                n,
                            )
                        })
                        .collect(),
                    Err(e) => {
                        self.error(path, e);
                        self.items[idx].node.incomplete = true;
                        Vec::new()
                    }
                };
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut children = Vec::with_capacity(entries.len());
            for (bytes, child, n) in entries {
                let pnode = parent_tree
                    .as_ref()
                    .and_then(|t| t.nodes.iter().find(|c| meta::node_name(c) == bytes));
                if let Some(c) = self.scan(&child, &n, pnode) {
                    children.push(c);
                }
            }
            self.items[idx].children = children;
        }
        Some(idx)
    }
}

/// Collects blobs into packs and hands full packs to the writer thread.
struct Sink<'a> {
    repo: &'a Repository,
    known: Mutex<IdSet>,
    data: Mutex<PackBuilder>,
    trees: Mutex<PackBuilder>,
    tx: Mutex<Option<crossbeam_channel::Sender<PackBuilder>>>,
    failed: AtomicBool,
    blobs_added: AtomicU64,
    pack_size: usize,
}

impl Sink<'_> {
    fn add(&self, kind: BlobKind, plain: &[u8], level: Option<i32>) -> Result<Id> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(RepoError::Invalid(
                "backup stopped: the pack writer failed".into(),
            ));
        }
        let id = self.repo.key().blob_id(plain);
        if self.repo.index().contains(&id) || !self.known.lock().expect("known").insert(id) {
            return Ok(id);
        }
        let sealed = self.repo.seal_blob_with_id(kind, &id, plain, level);
        self.blobs_added.fetch_add(1, Ordering::Relaxed);
        let slot = if kind == BlobKind::Tree {
            &self.trees
        } else {
            &self.data
        };
        let full = {
            let mut p = slot.lock().expect("pack");
            p.add(kind, id, &sealed, plain.len());
            (p.len() >= self.pack_size)
                .then(|| std::mem::replace(&mut *p, PackBuilder::with_capacity(self.pack_size)))
        };
        if let Some(p) = full {
            self.send(p);
        }
        Ok(id)
    }

    fn send(&self, p: PackBuilder) {
        let tx = self.tx.lock().expect("tx").clone();
        if let Some(tx) = tx {
            let _ = tx.send(p);
        }
    }

    fn flush(&self) {
        for slot in [&self.data, &self.trees] {
            let p = std::mem::take(&mut *slot.lock().expect("pack"));
            if !p.is_empty() {
                self.send(p);
            }
        }
        self.tx.lock().expect("tx").take();
    }
}

/// What the writer thread did.
#[derive(Default)]
struct Written {
    bytes: u64,
    error: Option<RepoError>,
}

fn writer(
    repo: &Repository,
    rx: crossbeam_channel::Receiver<PackBuilder>,
    failed: &AtomicBool,
) -> Written {
    let mut w = Written::default();
    let mut pending: Vec<(Id, Vec<BlobEntry>)> = Vec::new();
    let flush_index = |pending: &mut Vec<(Id, Vec<BlobEntry>)>, w: &mut Written| {
        if pending.is_empty() || w.error.is_some() {
            return;
        }
        let packs = std::mem::take(pending);
        match repo.put_index(packs.clone()) {
            Ok((name, size)) => {
                w.bytes += size;
                let mut idx = repo.index_mut();
                for (p, e) in &packs {
                    idx.add_pack(*p, e);
                }
                idx.files.push(name);
            }
            Err(e) => w.error = Some(e),
        }
    };
    for p in rx {
        if w.error.is_some() {
            continue; // drain so senders never block
        }
        let (name, bytes, entries) = p.finish(repo.key());
        match repo.store().put(ObjectKind::Pack, &name.to_hex(), &bytes) {
            Ok(()) | Err(StoreError::AlreadyExists { .. }) => {
                w.bytes += bytes.len() as u64;
                pending.push((name, entries));
                if pending.len() >= INDEX_EVERY_PACKS {
                    flush_index(&mut pending, &mut w);
                }
            }
            Err(e) => {
                failed.store(true, Ordering::Relaxed);
                w.error = Some(e.into());
            }
        }
    }
    flush_index(&mut pending, &mut w);
    if w.error.is_some() {
        failed.store(true, Ordering::Relaxed);
    }
    w
}

fn read_file(
    path: &Path,
    size_hint: u64,
    chunker: &Chunker,
    sink: &Sink<'_>,
    progress: &dyn BackupProgress,
    sealers: &rayon::ThreadPool,
) -> Result<FileContent> {
    let mut f = File::open(path).map_err(|e| RepoError::io("open", path, e))?;
    let mut ids = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0u64;
    let mut eof = false;
    let mut level = None;
    while !eof || !buf.is_empty() {
        // Fill up to one segment (carry-over included). `read_to_end` grows
        // the buffer as data arrives, so a small file costs a small buffer.
        let want = SEGMENT.max(chunker.max_size() * 2);
        while !eof && buf.len() < want {
            let old = buf.len();
            buf.reserve((want - old).min(size_hint.saturating_sub(total) as usize + 1));
            match (&mut f).take((want - old) as u64).read_to_end(&mut buf) {
                Ok(0) => eof = true,
                Ok(n) => {
                    total += n as u64;
                    progress.read(n as u64);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RepoError::io("read", path, e)),
            }
        }
        let lens = chunker.cut(&buf, eof);
        let mut spans = Vec::with_capacity(lens.len());
        let mut at = 0;
        for l in lens {
            spans.push(at..at + l);
            at += l;
        }
        // Large files choose their level on their first chunk; one found
        // incompressible is probed again each segment, so that a file that
        // turns compressible is compressed from there on.
        let probe = matches!(level, None | Some(crate::crypto::STORE_RAW));
        if probe && size_hint >= LEVEL_PROBE_MIN {
            if let Some(first) = spans.first() {
                let base = sink.repo.config().zstd_level;
                level = Some(crate::crypto::best_level(&buf[first.clone()], &[base, 1]));
            }
        }
        // In a file found incompressible, each chunk still gets a quick
        // look at its first bytes: one that compresses is compressed.
        let add = |s: &std::ops::Range<usize>| {
            let chunk = &buf[s.clone()];
            let level = match level {
                Some(crate::crypto::STORE_RAW)
                    if crate::crypto::compresses(&chunk[..chunk.len().min(CHUNK_PROBE)]) =>
                {
                    None
                }
                l => l,
            };
            sink.add(BlobKind::Data, chunk, level)
        };
        let got: Vec<Result<Id>> = if spans.len() > 1 {
            sealers.install(|| spans.par_iter().map(add).collect())
        } else {
            spans.iter().map(add).collect()
        };
        for g in got {
            ids.push(g?);
        }
        buf.drain(..at);
        if eof && at == 0 && !buf.is_empty() {
            unreachable!("the chunker consumes everything at end of file");
        }
    }
    Ok((ids, total))
}

impl Repository {
    /// Back up `opts.paths` into a new snapshot.
    pub fn backup(
        &self,
        opts: &BackupOptions,
        progress: &dyn BackupProgress,
    ) -> Result<BackupResult> {
        let started = Instant::now();
        let time = opts.time.clone().unwrap_or_else(now_rfc3339);
        if opts.paths.is_empty() {
            return Err(RepoError::Invalid(
                "nothing to back up: give at least one path".into(),
            ));
        }
        let _lock = self.lock(false, "backup")?;
        // One listing of the packs: index what an interrupted run left, and
        // stop trusting index entries whose pack is gone (never build on holes).
        let packs = self.check_packs()?;
        if packs.orphans_indexed > 0 {
            tracing::info!(
                "reusing {} pack(s) written by an interrupted run",
                packs.orphans_indexed
            );
        }
        let parent = match &opts.parent {
            ParentChoice::None => None,
            ParentChoice::Id(id) => Some((*id, self.read_snapshot(&id.to_hex())?)),
            // The parent only saves reading unchanged files: any readable
            // snapshot will do, so a damaged manifest does not force a full read.
            ParentChoice::Auto => self
                .find_snapshot_with("latest", Some(&opts.source), true)
                .ok()
                .map(|f| (f.id, f.snapshot)),
        };
        let parent_root = parent
            .as_ref()
            .and_then(|(_, s)| self.read_tree(&s.tree).ok());

        // Phase 1: scan.
        let mut scan = Scan {
            repo: self,
            items: Vec::new(),
            errors: Vec::new(),
            names: OwnerNames::default(),
            summary: SnapshotSummary::default(),
            progress,
        };
        let mut roots = Vec::new();
        let mut abs_paths = Vec::new();
        let mut seen_names = std::collections::HashSet::new();
        for p in &opts.paths {
            let abs = std::path::absolute(p).map_err(|e| RepoError::io("resolve", p, e))?;
            let name = abs
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_else(|| "ROOT".into());
            if !seen_names.insert(name.clone()) {
                return Err(RepoError::Invalid(format!(
                    "two paths end in the same name {name:?}; back them up as separate sources"
                )));
            }
            let pnode = parent_root.as_ref().and_then(|t| {
                t.nodes.iter().find(|n| {
                    meta::node_name(n) == std::os::unix::ffi::OsStrExt::as_bytes(name.as_os_str())
                })
            });
            if let Some(i) = scan.scan(&abs, &name, pnode) {
                roots.push(i);
            }
            abs_paths.push(abs.display().to_string());
        }
        if roots.is_empty() {
            let why = scan
                .errors
                .first()
                .map(|e| format!("{}: {}", e.path, e.error))
                .unwrap_or_default();
            return Err(RepoError::Invalid(format!(
                "none of the paths could be read ({why})"
            )));
        }
        let Scan {
            mut items,
            mut errors,
            mut summary,
            ..
        } = scan;

        // Phase 2: read.
        let to_read: Vec<usize> = (0..items.len()).filter(|&i| items[i].read).collect();
        progress.to_read(
            to_read.len() as u64,
            to_read.iter().map(|&i| items[i].node.size).sum(),
        );
        let chunker = Chunker::new(self.config().chunker, self.key().chunker_seed());
        let pack_size = self.config().pack_size as usize;
        let (tx, rx) = crossbeam_channel::bounded::<PackBuilder>(2);
        let sink = Sink {
            repo: self,
            known: Mutex::new(IdSet::default()),
            data: Mutex::new(PackBuilder::with_capacity(pack_size)),
            trees: Mutex::new(PackBuilder::with_capacity(pack_size)),
            tx: Mutex::new(Some(tx)),
            failed: AtomicBool::new(false),
            blobs_added: AtomicU64::new(0),
            pack_size,
        };
        let (written, phase_result) = std::thread::scope(|s| {
            let w = s.spawn(|| writer(self, rx, &sink.failed));
            let r = (|| -> Result<()> {
                // Twice as many reader threads as cores: while some wait
                // for the disk, the others cut and hash. The chunks of a
                // segment are sealed on a pool of their own: readers are
                // plain threads, so no reader ever takes up another file
                // while it waits for its chunks (rayon's work stealing did,
                // and each file taken up held its own 16 MiB segment), and
                // memory stays at one segment per reader.
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                let readers = (cores * 2).min(to_read.len()).max(1);
                let sealers = rayon::ThreadPoolBuilder::new()
                    .num_threads(cores)
                    .thread_name(|i| format!("hokan-seal-{i}"))
                    .build()
                    .map_err(|e| {
                        RepoError::Invalid(format!("cannot start sealing threads: {e}"))
                    })?;
                let next = AtomicU64::new(0);
                let done: Mutex<Vec<(usize, Result<FileContent>)>> = Mutex::new(Vec::new());
                std::thread::scope(|rs| {
                    for n in 0..readers {
                        let (next, done, sealers) = (&next, &done, &sealers);
                        let (items, to_read, chunker, sink) = (&items, &to_read, &chunker, &sink);
                        std::thread::Builder::new()
                            .name(format!("hokan-read-{n}"))
                            .spawn_scoped(rs, move || loop {
                                let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                                let Some(&i) = to_read.get(k) else { break };
                                let r = read_file(
                                    &items[i].path,
                                    items[i].node.size,
                                    chunker,
                                    sink,
                                    progress,
                                    sealers,
                                );
                                done.lock().expect("results").push((k, r));
                            })
                            .map_err(|e| {
                                RepoError::Invalid(format!("cannot start reader threads: {e}"))
                            })?;
                    }
                    Ok::<(), RepoError>(())
                })?;
                let mut done = done.into_inner().expect("results");
                done.sort_by_key(|(k, _)| *k);
                let results: Vec<(usize, Result<FileContent>)> =
                    done.into_iter().map(|(k, r)| (to_read[k], r)).collect();
                for (i, r) in results {
                    match r {
                        Ok((ids, n)) => {
                            summary.bytes_read += n;
                            let node = &mut items[i].node;
                            summary.bytes_total = summary.bytes_total - node.size + n;
                            node.size = n;
                            node.content = ids;
                        }
                        Err(e) if sink.failed.load(Ordering::Relaxed) => return Err(e),
                        Err(e @ RepoError::Io { .. }) => {
                            let path = items[i].path.clone();
                            progress.warn(&path, &e.to_string());
                            errors.push(SnapshotError {
                                path: path.display().to_string(),
                                error: e.to_string(),
                            });
                            items[i].node.incomplete = true;
                            items[i].node.content.clear();
                        }
                        Err(e) => return Err(e),
                    }
                }
                // Phase 3: trees, children before parents (items are in pre-order).
                for i in (0..items.len()).rev() {
                    if items[i].node.kind != NodeKind::Dir {
                        continue;
                    }
                    let tree = Tree {
                        nodes: items[i]
                            .children
                            .iter()
                            .map(|&c| items[c].node.clone())
                            .collect(),
                    };
                    let id = sink.add(BlobKind::Tree, &tree.encode(), None)?;
                    items[i].node.subtree = Some(id);
                }
                Ok(())
            })();
            let root = r.as_ref().ok().map(|_| {
                let tree = Tree {
                    nodes: roots.iter().map(|&c| items[c].node.clone()).collect(),
                };
                sink.add(BlobKind::Tree, &tree.encode(), None)
            });
            sink.flush();
            let written = w.join().expect("pack writer thread");
            (written, r.and_then(|_| root.expect("root after success")))
        });
        if let Some(e) = written.error {
            return Err(e);
        }
        let root = phase_result?;
        summary.blobs_added = sink.blobs_added.load(Ordering::Relaxed);
        summary.bytes_added = written.bytes;
        summary.duration_secs = started.elapsed().as_secs_f64();
        let actor = Actor::current();
        let mut snapshot = Snapshot {
            version: 1,
            time,
            source: opts.source.clone(),
            hostname: actor.hostname,
            username: actor.username,
            tags: opts.tags.clone(),
            paths: abs_paths,
            tree: root,
            parent: parent.map(|(id, _)| id),
            partial: !errors.is_empty(),
            errors,
            summary,
            program: format!("hokan {}", env!("CARGO_PKG_VERSION")),
        };
        let (id, size) = self.put_snapshot(&snapshot)?;
        snapshot.summary.bytes_added += size;
        Ok(BackupResult {
            id,
            snapshot,
            packs,
        })
    }
}
