//! Backup: sources → snapshot.
//!
//! One pass, directory by directory:
//! 1. **Scan** (one thread, depth first): each folder is listed, its entries
//!    `lstat`ed and matched against the parent snapshot's tree of the same
//!    folder, read from the repository as the scan reaches it. A file whose
//!    size, mtime, ctime and inode are unchanged reuses the parent's content
//!    list without being read; the others go to the readers through a
//!    bounded queue, so the scan is never more than [`READ_QUEUE`] files
//!    ahead.
//! 2. **Read** (plain reader threads): each file is cut into chunks in
//!    16 MiB segments; the chunks of a segment are hashed, deduplicated,
//!    compressed and sealed in parallel, and appended to the current pack.
//!    A file of a segment or more holds a whole segment's buffer, so only
//!    as many of those are read at once as there are cores. Full packs go
//!    to the writer threads (bounded queue, so readers wait when the store
//!    is slower). The process's allocator returns large buffers when they
//!    are freed ([`crate::memory`]).
//! 3. **Trees**: a folder's tree is written as soon as its last entry is
//!    complete (its last file read, its last subfolder's tree written), by
//!    whichever thread completed it, which then completes the folder's entry
//!    in its parent. Only the folders on the scan's path and those with a
//!    file still being read are held in memory, so memory follows the
//!    tree's depth and width, not the number of files. Then the last packs,
//!    an index file for this run's packs, and only then the snapshot
//!    manifest.
//!
//! # Crash semantics
//! Every object is put atomically. Until the snapshot manifest is written the
//! run is invisible; packs written before a kill are found by the next run
//! ([`Repository::check_packs`]) and their blobs reused. A killed
//! backup therefore never damages the repository and loses only the time
//! spent. Index files are written every [`INDEX_EVERY_PACKS`] packs (or
//! [`INDEX_EVERY_BLOBS`] blobs, whichever comes first) so that
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
/// An index file is also written after this many blobs: many small files
/// make many blobs per pack, and until they are indexed the run keeps each
/// one's entry and id twice (about 130 bytes a blob with the hash set's
/// spare room and the file being encoded: 4 MiB here).
pub const INDEX_EVERY_BLOBS: usize = 32_768;
/// Tree packs are this many times smaller than data packs: trees are few
/// bytes against the data, and their pack's buffer is held for the whole
/// backup beside the data pack's.
pub const TREE_PACK_DIVISOR: usize = 4;
const SEGMENT: usize = 16 * 1024 * 1024;
/// Files handed to the readers that the scan may be ahead by.
pub const READ_QUEUE: usize = 256;
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
    /// The scan found this much more to read. Called as the scan goes (once
    /// per directory, while files are already being read): the totals are
    /// the sums of all calls.
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
    /// The most directory entries held in memory at once: it follows the
    /// depth and width of the tree (and how far the scan may run ahead of
    /// the readers), not the number of files.
    pub peak_entries_held: usize,
}

/// A file to read: entry `entry` of the open directory in slot `dir`.
struct ReadJob {
    dir: usize,
    entry: usize,
    path: PathBuf,
    size: u64,
}

/// A directory whose tree is not written yet: its entries, and how many of
/// them still wait (a file being read, a subdirectory not finished, plus
/// one for the scan until it has handed out all of them).
struct OpenDir {
    nodes: Vec<Node>,
    pending: usize,
    /// Where its tree's id goes: an entry of another open directory, or
    /// (`None`) the snapshot's root.
    up: Option<(usize, usize)>,
}

/// The open directories by slot. Only the directories on the scan's path
/// from the root, and those with a file still being read, are open: memory
/// follows the depth and the width of the tree, not the number of files.
#[derive(Default)]
struct Open {
    dirs: Vec<Option<OpenDir>>,
    free: Vec<usize>,
    /// Entries held now, and the most ever held at once.
    held: usize,
    peak: usize,
}

impl Open {
    fn insert(&mut self, d: OpenDir) -> usize {
        self.held += d.nodes.len();
        self.peak = self.peak.max(self.held);
        match self.free.pop() {
            Some(i) => {
                self.dirs[i] = Some(d);
                i
            }
            None => {
                self.dirs.push(Some(d));
                self.dirs.len() - 1
            }
        }
    }

    fn take(&mut self, dir: usize) -> OpenDir {
        let d = self.dirs[dir].take().expect("open directory");
        self.free.push(dir);
        self.held -= d.nodes.len();
        d
    }

    fn node(&mut self, dir: usize, entry: usize) -> &mut Node {
        &mut self.dirs[dir].as_mut().expect("open directory").nodes[entry]
    }
}

/// What the scan found an entry needs.
enum Work {
    /// Nothing more: its node is complete.
    None,
    /// A file to read.
    Read,
    /// A directory to scan, with the parent snapshot's tree of it.
    Dir(Option<Id>),
}

/// One backup run's shared state: the scan (one thread) hands files to the
/// readers through a bounded queue; whoever completes a directory's last
/// entry writes its tree and completes the entry in its parent.
struct Walk<'a> {
    repo: &'a Repository,
    sink: &'a Sink<'a>,
    names: OwnerNames,
    open: Mutex<Open>,
    errors: Mutex<Vec<SnapshotError>>,
    summary: Mutex<SnapshotSummary>,
    root: Mutex<Option<Id>>,
    fatal: Mutex<Option<RepoError>>,
    stop: AtomicBool,
    progress: &'a dyn BackupProgress,
    /// Readers holding a whole segment (files of a segment or more).
    large: Slots,
}

/// A counting semaphore: at most `limit` holders at once.
struct Slots {
    held: Mutex<usize>,
    freed: std::sync::Condvar,
    limit: usize,
}

impl Slots {
    fn new(limit: usize) -> Slots {
        Slots {
            held: Mutex::new(0),
            freed: std::sync::Condvar::new(),
            limit: limit.max(1),
        }
    }

    /// Run `f` holding one slot.
    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut held = self.held.lock().expect("slots");
        while *held >= self.limit {
            held = self.freed.wait(held).expect("slots");
        }
        *held += 1;
        drop(held);
        let out = f();
        *self.held.lock().expect("slots") -= 1;
        self.freed.notify_one();
        out
    }
}

impl Walk<'_> {
    fn error(&self, path: &Path, e: impl std::fmt::Display) {
        let msg = e.to_string();
        self.progress.warn(path, &msg);
        self.errors.lock().expect("errors").push(SnapshotError {
            path: path.display().to_string(),
            error: msg,
        });
    }

    /// Stop the run with `e` (the first such error is the one returned).
    fn fail(&self, e: RepoError) {
        self.fatal.lock().expect("fatal").get_or_insert(e);
        self.stop.store(true, Ordering::Relaxed);
    }

    /// `lstat` one entry and match it against the parent snapshot's node.
    fn stat(&self, path: &Path, name: &OsStr, parent: Option<&Node>) -> Option<(Node, Work)> {
        let md = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.error(path, e);
                return None;
            }
        };
        let mut node = meta::node_from_metadata(name, &md, path, &self.names);
        let parent = parent.filter(|p| p.kind == node.kind);
        let mut summary = self.summary.lock().expect("summary");
        let work = match node.kind {
            NodeKind::File => {
                summary.bytes_total += node.size;
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
                        summary.files_unchanged += 1;
                        Work::None
                    }
                    (None, Some(_)) => {
                        summary.files_changed += 1;
                        Work::Read
                    }
                    (None, None) => {
                        summary.files_new += 1;
                        Work::Read
                    }
                }
            }
            NodeKind::Dir => {
                summary.dirs += 1;
                Work::Dir(parent.and_then(|p| p.subtree))
            }
            _ => Work::None,
        };
        Some((node, work))
    }

    /// Open a directory made of `entries` (path and name, in tree order),
    /// whose tree's id goes to `up`; hand its files to the readers, then
    /// scan its subdirectories depth first. Returns how many entries it has.
    fn fill(
        &self,
        entries: Vec<(PathBuf, std::ffi::OsString)>,
        parent: Option<Tree>,
        up: Option<(usize, usize)>,
        queue: &crossbeam_channel::Sender<ReadJob>,
    ) -> usize {
        let by_name: std::collections::HashMap<Vec<u8>, &Node> = parent
            .iter()
            .flat_map(|t| t.nodes.iter())
            .map(|n| (meta::node_name(n), n))
            .collect();
        let mut nodes = Vec::with_capacity(entries.len());
        let (mut reads, mut dirs) = (Vec::new(), Vec::new());
        let (mut read_bytes, mut read_files) = (0u64, 0u64);
        for (path, name) in entries {
            if self.stop.load(Ordering::Relaxed) {
                return 0;
            }
            let key = std::os::unix::ffi::OsStrExt::as_bytes(name.as_os_str());
            let Some((node, work)) = self.stat(&path, &name, by_name.get(key).copied()) else {
                continue;
            };
            match work {
                Work::None => {}
                Work::Read => {
                    read_files += 1;
                    read_bytes += node.size;
                    reads.push((nodes.len(), path, node.size));
                }
                Work::Dir(sub) => dirs.push((nodes.len(), path, sub)),
            }
            nodes.push(node);
        }
        drop(by_name);
        drop(parent);
        let count = nodes.len();
        if up.is_none() && count == 0 {
            return 0; // no root at all: the caller says why
        }
        self.progress.to_read(read_files, read_bytes);
        let slot = self.open.lock().expect("open").insert(OpenDir {
            nodes,
            pending: reads.len() + dirs.len() + 1,
            up,
        });
        for (entry, path, size) in reads {
            let job = ReadJob {
                dir: slot,
                entry,
                path,
                size,
            };
            if self.stop.load(Ordering::Relaxed) || queue.send(job).is_err() {
                return count;
            }
        }
        for (entry, path, sub) in dirs {
            if self.stop.load(Ordering::Relaxed) {
                return count;
            }
            self.scan_dir(&path, (slot, entry), sub, queue);
        }
        self.settle(slot, |_| {});
        count
    }

    /// Scan the directory at `path`, the entry `up` of an open directory.
    fn scan_dir(
        &self,
        path: &Path,
        up: (usize, usize),
        parent: Option<Id>,
        queue: &crossbeam_channel::Sender<ReadJob>,
    ) {
        let parent = parent.and_then(|t| self.repo.read_tree(&t).ok());
        let mut entries: Vec<(PathBuf, std::ffi::OsString)> = match std::fs::read_dir(path) {
            Ok(rd) => rd
                .filter_map(|e| match e {
                    Ok(e) => Some((e.path(), e.file_name())),
                    Err(err) => {
                        self.error(path, err);
                        None
                    }
                })
                .collect(),
            Err(e) => {
                self.error(path, e);
                self.open.lock().expect("open").node(up.0, up.1).incomplete = true;
                Vec::new()
            }
        };
        entries.sort_by(|a, b| {
            use std::os::unix::ffi::OsStrExt;
            a.1.as_bytes().cmp(b.1.as_bytes())
        });
        self.fill(entries, parent, Some(up), queue);
    }

    /// One entry of the open directory `dir` is complete (`f` fills it in),
    /// or the scan has handed out all of them (`f` does nothing). The
    /// directory that has nothing more pending gets its tree written, and
    /// completes its entry in its parent in turn.
    fn settle(&self, dir: usize, f: impl FnOnce(&mut OpenDir)) {
        let mut open = self.open.lock().expect("open");
        f(open.dirs[dir].as_mut().expect("open directory"));
        let mut dir = dir;
        loop {
            let d = open.dirs[dir].as_mut().expect("open directory");
            d.pending -= 1;
            if d.pending > 0 {
                return;
            }
            let d = open.take(dir);
            drop(open);
            let tree = Tree { nodes: d.nodes }.encode();
            let id = match self.sink.add(BlobKind::Tree, &tree, None) {
                Ok(id) => id,
                Err(e) => return self.fail(e),
            };
            open = self.open.lock().expect("open");
            match d.up {
                None => {
                    *self.root.lock().expect("root") = Some(id);
                    return;
                }
                Some((parent, entry)) => {
                    open.node(parent, entry).subtree = Some(id);
                    dir = parent;
                }
            }
        }
    }

    /// A reader thread: read files until the queue closes.
    fn reader(
        &self,
        queue: crossbeam_channel::Receiver<ReadJob>,
        chunker: &Chunker,
        sealers: &rayon::ThreadPool,
    ) {
        for job in queue {
            if self.stop.load(Ordering::Relaxed) {
                continue; // drain, so the scan never waits on a full queue
            }
            let read = || {
                read_file(
                    &job.path,
                    job.size,
                    chunker,
                    self.sink,
                    self.progress,
                    sealers,
                )
            };
            // A small file costs a small buffer; a large one a whole
            // segment, and as many of those at once as there are cores.
            let r = if job.size >= SEGMENT as u64 {
                self.large.with(read)
            } else {
                read()
            };
            match r {
                Ok((ids, n)) => {
                    {
                        let mut s = self.summary.lock().expect("summary");
                        s.bytes_read += n;
                        s.bytes_total = s.bytes_total - job.size + n;
                    }
                    self.settle(job.dir, |d| {
                        let node = &mut d.nodes[job.entry];
                        node.size = n;
                        node.content = ids;
                    });
                }
                Err(e) if self.sink.failed.load(Ordering::Relaxed) => self.fail(e),
                Err(e @ RepoError::Io { .. }) => {
                    self.error(&job.path, &e);
                    self.settle(job.dir, |d| {
                        let node = &mut d.nodes[job.entry];
                        node.incomplete = true;
                        node.content.clear();
                    });
                }
                Err(e) => self.fail(e),
            }
        }
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
    /// Buffers of packs written, to fill again.
    spare: Mutex<Vec<Vec<u8>>>,
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
        let full = if kind == BlobKind::Tree {
            let mut p = self.trees.lock().expect("pack");
            p.add(kind, id, &sealed, plain.len());
            let size = self.pack_size / TREE_PACK_DIVISOR;
            (p.len() >= size).then(|| std::mem::replace(&mut *p, PackBuilder::growing(size)))
        } else {
            let mut p = self.data.lock().expect("pack");
            p.add(kind, id, &sealed, plain.len());
            (p.len() >= self.pack_size).then(|| std::mem::replace(&mut *p, self.fresh()))
        };
        if let Some(p) = full {
            self.send(p);
        }
        Ok(id)
    }

    /// An empty pack in a spare buffer, or a new one.
    fn fresh(&self) -> PackBuilder {
        let spare = self.spare.lock().expect("spare").pop();
        PackBuilder::with_buffer(
            spare.unwrap_or_else(|| Vec::with_capacity(self.pack_size + self.pack_size / 8)),
        )
    }

    /// Keep a written data pack's buffer for the next one (one at most:
    /// every buffer held is 9 MiB of the backup's memory, and a pack fills
    /// far more slowly than a buffer is allocated). A tree pack's smaller
    /// buffer is let go.
    fn recycle(&self, buf: Vec<u8>) {
        let mut spare = self.spare.lock().expect("spare");
        let room = self.pack_size + self.pack_size / 8;
        if spare.is_empty() && (room..=self.pack_size * 2).contains(&buf.capacity()) {
            spare.push(buf);
        }
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

/// Packs written and not yet in an index file, and what was written.
#[derive(Default)]
struct Pending {
    packs: Vec<(Id, Vec<BlobEntry>)>,
    blobs: usize,
    written: Written,
}

/// Write one index file for the pending packs and add them to the index.
fn flush_index(sink: &Sink<'_>, p: &mut Pending) {
    if p.packs.is_empty() || p.written.error.is_some() {
        return;
    }
    let repo = sink.repo;
    // Moved, not copied: the entries of up to INDEX_EVERY_BLOBS blobs.
    let file = crate::index::index_file(std::mem::take(&mut p.packs));
    p.blobs = 0;
    match repo.put_index_file(&file) {
        Ok((name, size)) => {
            p.written.bytes += size;
            let mut idx = repo.index_mut();
            for pack in &file.packs {
                idx.add_pack(pack.pack, &pack.entries);
            }
            idx.files.push(name);
            drop(idx);
            // Indexed now: the run's own set need not hold them any
            // more, so it stays as small as the packs not yet indexed.
            let mut known = sink.known.lock().expect("known");
            for e in file.packs.iter().flat_map(|p| &p.entries) {
                known.remove(&e.id);
            }
        }
        Err(e) => p.written.error = Some(e),
    }
}

/// The pack writers: as many threads as the store takes writes at once
/// ([`crate::Store::parallel_writes`]: one for a folder, more for a bucket
/// on the network), each finishing and putting the packs it receives.
fn writer(sink: &Sink<'_>, rx: crossbeam_channel::Receiver<PackBuilder>) -> Written {
    let repo = sink.repo;
    let pending = Mutex::new(Pending::default());
    let put = |rx: crossbeam_channel::Receiver<PackBuilder>| {
        for p in rx {
            if sink.failed.load(Ordering::Relaxed) {
                continue; // drain so senders never block
            }
            let (name, bytes, entries) = p.finish(repo.key());
            let size = bytes.len() as u64;
            let r = repo
                .store()
                .put_vec(ObjectKind::Pack, &name.to_hex(), bytes);
            let mut p = pending.lock().expect("pending");
            match r {
                Ok(_) | Err(StoreError::AlreadyExists { .. }) => {
                    p.written.bytes += size;
                    if let Ok(Some(bytes)) = r {
                        sink.recycle(bytes);
                    }
                    p.blobs += entries.len();
                    p.packs.push((name, entries));
                    if p.packs.len() >= INDEX_EVERY_PACKS || p.blobs >= INDEX_EVERY_BLOBS {
                        flush_index(sink, &mut p);
                    }
                }
                Err(e) => {
                    p.written.error.get_or_insert(e.into());
                }
            }
            if p.written.error.is_some() {
                sink.failed.store(true, Ordering::Relaxed);
            }
        }
    };
    let writers = repo.store().parallel_writes().clamp(1, 64);
    std::thread::scope(|s| {
        for _ in 1..writers {
            let rx = rx.clone();
            s.spawn(move || put(rx));
        }
        put(rx);
    });
    let mut p = pending.into_inner().expect("pending");
    flush_index(sink, &mut p);
    if p.written.error.is_some() {
        sink.failed.store(true, Ordering::Relaxed);
    }
    p.written
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
        // Scan, read and write trees together, directory by directory.
        let chunker = Chunker::new(self.config().chunker, self.key().chunker_seed());
        let pack_size = self.config().pack_size as usize;
        // A full pack is handed from hand to hand: the thread that filled
        // it waits until a writer takes it (the others go on filling the
        // next). Memory holds no more packs than the two being filled, one
        // waiting, those being written and one spare buffer.
        let (tx, rx) = crossbeam_channel::bounded::<PackBuilder>(0);
        let sink = Sink {
            repo: self,
            known: Mutex::new(IdSet::default()),
            data: Mutex::new(PackBuilder::with_capacity(pack_size)),
            // Tree packs are a quarter of a data pack, and grown as needed.
            trees: Mutex::new(PackBuilder::growing(pack_size / TREE_PACK_DIVISOR)),
            tx: Mutex::new(Some(tx)),
            failed: AtomicBool::new(false),
            blobs_added: AtomicU64::new(0),
            pack_size,
            spare: Mutex::new(Vec::new()),
        };
        let walk = Walk {
            repo: self,
            sink: &sink,
            names: OwnerNames::default(),
            open: Mutex::new(Open::default()),
            errors: Mutex::new(Vec::new()),
            summary: Mutex::new(SnapshotSummary::default()),
            root: Mutex::new(None),
            fatal: Mutex::new(None),
            stop: AtomicBool::new(false),
            progress,
            large: Slots::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
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
            abs_paths.push(abs.display().to_string());
            roots.push((abs, name));
        }
        let written = std::thread::scope(|s| {
            let w = s.spawn(|| writer(&sink, rx));
            let r = (|| -> Result<usize> {
                // Twice as many reader threads as cores: while some wait
                // for the disk, the others cut and hash. The chunks of a
                // segment are sealed on a pool of their own: readers are
                // plain threads, so no reader ever takes up another file
                // while it waits for its chunks (rayon's work stealing did,
                // and each file taken up held its own 16 MiB segment), and
                // memory stays at one segment per reader. The queue to the
                // readers is bounded, so the scan is never far ahead.
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                let sealers = rayon::ThreadPoolBuilder::new()
                    .num_threads(cores)
                    .thread_name(|i| format!("hokan-seal-{i}"))
                    .build()
                    .map_err(|e| {
                        RepoError::Invalid(format!("cannot start sealing threads: {e}"))
                    })?;
                let (queue, jobs) = crossbeam_channel::bounded::<ReadJob>(READ_QUEUE);
                std::thread::scope(|rs| {
                    for n in 0..cores * 2 {
                        let (jobs, walk, chunker, sealers) =
                            (jobs.clone(), &walk, &chunker, &sealers);
                        std::thread::Builder::new()
                            .name(format!("hokan-read-{n}"))
                            .spawn_scoped(rs, move || walk.reader(jobs, chunker, sealers))
                            .map_err(|e| {
                                RepoError::Invalid(format!("cannot start reader threads: {e}"))
                            })?;
                    }
                    drop(jobs);
                    let parent_root = parent
                        .as_ref()
                        .and_then(|(_, s)| self.read_tree(&s.tree).ok());
                    let n = walk.fill(std::mem::take(&mut roots), parent_root, None, &queue);
                    drop(queue);
                    Ok::<usize, RepoError>(n)
                })
            })();
            sink.flush();
            let written = w.join().expect("pack writer thread");
            (written, r)
        });
        let (written, scanned) = written;
        if let Some(e) = written.error {
            return Err(e);
        }
        let scanned = scanned?;
        if let Some(e) = walk.fatal.lock().expect("fatal").take() {
            return Err(e);
        }
        let mut errors = walk.errors.into_inner().expect("errors");
        if scanned == 0 {
            let why = errors
                .first()
                .map(|e| format!("{}: {}", e.path, e.error))
                .unwrap_or_default();
            return Err(RepoError::Invalid(format!(
                "none of the paths could be read ({why})"
            )));
        }
        // Readers finish in any order: errors are listed by path.
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        let root = walk
            .root
            .into_inner()
            .expect("root")
            .ok_or_else(|| RepoError::Invalid("backup ended before its root tree".into()))?;
        let peak_entries_held = walk.open.lock().expect("open").peak;
        let mut summary = walk.summary.into_inner().expect("summary");
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
            peak_entries_held,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_readers_hold_a_segment_at_once_than_the_slots_allow() {
        let slots = Slots::new(2);
        let (inside, most) = (AtomicU64::new(0), AtomicU64::new(0));
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..20 {
                        slots.with(|| {
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(1));
                            inside.fetch_sub(1, Ordering::SeqCst);
                        })
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2, "two slots, eight threads");
    }
}
