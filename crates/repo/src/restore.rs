//! Restore: snapshot → files.
//!
//! Two passes over the snapshot's trees, each reading them lazily, depth
//! first, one folder's listing per level at a time: what is held in memory
//! follows the depth and width of the tree, not the number of files.
//!
//! The first pass writes nothing. It reads every tree (so a snapshot with an
//! unsafe name anywhere is refused before anything is written, see below),
//! applies `--include`, counts what will be written for the progress total,
//! and, unless asked to overwrite, looks in the target for every entry to
//! restore: existing files are never overwritten unless asked, and the check
//! runs before anything is written. (A folder missing from the target is not
//! looked into: nothing can be in the way below it.)
//!
//! The second pass restores in batches of at most [`BATCH_ENTRIES`] entries
//! (or [`BATCH_BLOBS`] blobs), read by a thread of their own while the
//! previous batch is written. For each batch: folders, special files and
//! empty files are created, then the blobs of its files are grouped into
//! ranges of a pack (neighbouring blobs in one read, only the parts of a
//! pack the batch needs), read in parallel, and every blob is authenticated
//! (its id is a keyed hash of its content) before it is written. Metadata
//! goes on last: files' at the end of their batch, and a folder's once
//! everything inside it is written (when the walk leaves it), so folders
//! are done deepest first and their times survive the writes inside them.
//!
//! A damaged or missing blob fails only the files that need it: the rest are
//! restored and the damaged files are listed in [`RestoreStats::errors`].
//! A tree that cannot be read during the second pass (the store failing
//! between the passes) stops the restore with what was written so far.
//!
//! Everything is created relative to directory handles of the target
//! ([`crate::confine`]): no name from a snapshot and no symlink already in
//! the target leads outside it. Trees with unsafe names (`..`, `/`, NUL,
//! twice the same name) are refused when read, so such a snapshot is not
//! restored at all.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use hokan_format::{Id, Node, NodeKind};
use rayon::prelude::*;
use serde::Serialize;

use crate::confine;
use crate::error::{RepoError, Result};
use crate::index::BlobLoc;
use crate::meta;
use crate::repository::Repository;
use crate::store::ObjectKind;

/// One blob to write: its id, where it is, which entry of the batch, at
/// which offset of the file.
type Placement = (Id, BlobLoc, usize, u64);

/// Restore waits on pack reads and on file creation in the kernel; this many
/// threads per core keep both cores busy.
const RESTORE_THREADS_PER_CORE: usize = 4;

/// A batch ends after this many entries...
pub const BATCH_ENTRIES: usize = 1024;
/// ... or once its files have this many blobs (a large file has many).
pub const BATCH_BLOBS: usize = 32 * 1024;
/// Blobs of a pack at most this far apart are read together (the gap is
/// read and dropped)...
const RANGE_GAP: u64 = 64 * 1024;
/// ... into one read of at most this many bytes (unless one blob is larger)...
const RANGE_BYTES: u64 = 4 * 1024 * 1024;
/// ... holding at most this many blobs, so that a batch of small files is
/// spread over the threads.
const RANGE_BLOBS: usize = 64;

/// What to restore and where.
#[derive(Clone, Debug, Default)]
pub struct RestoreOptions {
    /// Target folder; each top-level entry of the snapshot lands under it.
    pub target: PathBuf,
    /// Only entries matching one of these globs (and what is inside a matching
    /// folder). A pattern without `/` also matches any single name.
    pub include: Vec<String>,
    /// Replace existing files.
    pub overwrite: bool,
}

/// Progress reports from a restore.
pub trait RestoreProgress: Send + Sync {
    /// What will be written (once, before anything is).
    fn total(&self, _files: u64, _bytes: u64) {}
    /// Bytes written.
    fn written(&self, _bytes: u64) {}
}

impl RestoreProgress for crate::backup::NoProgress {}

/// What a restore did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RestoreStats {
    /// Files restored completely.
    pub files: u64,
    /// Directories.
    pub dirs: u64,
    /// Symlinks, fifos, devices.
    pub special: u64,
    /// Hard links made.
    pub hardlinks: u64,
    /// Content bytes written.
    pub bytes: u64,
    /// Paths that could not be restored (completely), with the reason.
    pub errors: Vec<(String, String)>,
    /// Wall-clock seconds.
    pub duration_secs: f64,
    /// The most snapshot entries held in memory at once (in the batches
    /// being read, waiting and written): a few batches, not every file.
    #[serde(skip)]
    pub peak_entries_held: usize,
}

/// One entry of a snapshot with its path relative to the snapshot root.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Path relative to the snapshot root.
    pub rel: PathBuf,
    /// The node.
    pub node: Node,
}

fn join_name(base: &Path, node: &Node) -> PathBuf {
    base.join(std::ffi::OsStr::from_bytes(&meta::node_name(node)))
}

/// One step of a lazy walk ([`Lazy`]).
enum Step {
    /// An entry to restore, parents before children.
    Entry(Entry),
    /// A folder (given before as an entry) whose entries have all been given.
    Close(Entry),
}

/// A folder being walked.
struct Frame {
    rel: PathBuf,
    /// The folder's own node; `None` for the snapshot root.
    node: Option<Node>,
    rest: std::vec::IntoIter<Node>,
    /// Given as an entry: it is restored.
    given: bool,
    /// Inside a matching folder (or no `--include`): all below is restored.
    inside: bool,
}

/// A depth-first walk of a snapshot that reads one tree per level at a time
/// and applies `--include` as it goes: the same entries, in the same order,
/// as [`Repository::walk`] followed by [`filter`]. A folder that does not
/// match is given only when something below it is kept, just before that.
struct Lazy<'r> {
    repo: &'r Repository,
    snapshot: Id,
    globs: Option<(GlobSet, GlobSet)>,
    stack: Vec<Frame>,
    ready: VecDeque<Step>,
}

impl<'r> Lazy<'r> {
    fn new(repo: &'r Repository, snapshot: &Id, tree: &Id, include: &[String]) -> Result<Self> {
        let globs = if include.is_empty() {
            None
        } else {
            Some(globs(include)?)
        };
        let root = repo.read_tree(tree).map_err(|e| e.in_snapshot(snapshot))?;
        Ok(Lazy {
            repo,
            snapshot: *snapshot,
            stack: vec![Frame {
                rel: PathBuf::new(),
                node: None,
                rest: root.nodes.into_iter(),
                given: true,
                inside: globs.is_none(),
            }],
            globs,
            ready: VecDeque::new(),
        })
    }

    fn matches(&self, rel: &Path) -> bool {
        self.globs.as_ref().is_none_or(|(full, names)| {
            full.is_match(rel)
                || rel
                    .file_name()
                    .is_some_and(|n| names.is_match(Path::new(n)))
        })
    }

    /// Give the folders on the way that were not given yet, outermost first.
    fn give_pending(&mut self) {
        for f in self.stack.iter_mut().filter(|f| !f.given) {
            f.given = true;
            if let Some(n) = &f.node {
                self.ready.push_back(Step::Entry(Entry {
                    rel: f.rel.clone(),
                    node: n.clone(),
                }));
            }
        }
    }

    fn next(&mut self) -> Result<Option<Step>> {
        loop {
            if let Some(s) = self.ready.pop_front() {
                return Ok(Some(s));
            }
            let Some(top) = self.stack.last_mut() else {
                return Ok(None);
            };
            let Some(n) = top.rest.next() else {
                let f = self.stack.pop().expect("frame");
                if let (true, Some(node)) = (f.given, f.node) {
                    return Ok(Some(Step::Close(Entry { rel: f.rel, node })));
                }
                continue;
            };
            let rel = join_name(&top.rel, &n);
            let keep = top.inside || self.matches(&rel);
            if n.kind != NodeKind::Dir {
                if keep {
                    self.give_pending();
                    self.ready.push_back(Step::Entry(Entry { rel, node: n }));
                }
                continue;
            }
            let rest = match &n.subtree {
                Some(s) => self
                    .repo
                    .read_tree(s)
                    .map_err(|e| e.in_snapshot(&self.snapshot))?
                    .nodes
                    .into_iter(),
                None => Vec::new().into_iter(),
            };
            if keep {
                self.give_pending();
                self.ready.push_back(Step::Entry(Entry {
                    rel: rel.clone(),
                    node: n.clone(),
                }));
            }
            self.stack.push(Frame {
                rel,
                node: Some(n),
                rest,
                given: keep,
                inside: keep,
            });
        }
    }
}

/// What the first pass found.
#[derive(Default)]
struct Survey {
    entries: u64,
    files: u64,
    bytes: u64,
    clashes: usize,
    first_clash: Option<PathBuf>,
}

/// A part of the snapshot restored together.
#[derive(Default)]
struct Batch {
    entries: Vec<Entry>,
    /// Folders completed in this batch, deepest first.
    closes: Vec<Entry>,
    blobs: usize,
}

impl Batch {
    fn held(&self) -> usize {
        self.entries.len() + self.closes.len()
    }
}

/// Neighbouring blobs of one pack, read together.
struct Range {
    pack: u32,
    start: u64,
    end: u64,
    blobs: Vec<Placement>,
}

/// Cut a batch's placements into reads: per pack, by offset, a new read
/// where the gap, the size or the count would grow too large.
fn ranges(plan: HashMap<u32, Vec<Placement>>) -> Vec<Range> {
    let mut packs: Vec<(u32, Vec<Placement>)> = plan.into_iter().collect();
    packs.sort_by_key(|(p, _)| *p);
    let mut out: Vec<Range> = Vec::new();
    for (pack, mut blobs) in packs {
        blobs.sort_by_key(|b| (b.1.offset, b.2, b.3));
        let mut cur: Option<Range> = None;
        for b in blobs {
            let (lo, hi) = (b.1.offset as u64, b.1.offset as u64 + b.1.length as u64);
            if let Some(r) = &mut cur {
                // The same blob again (identical files) always joins.
                let same = r.blobs.last().is_some_and(|l| l.0 == b.0);
                if same
                    || (lo <= r.end + RANGE_GAP
                        && hi.max(r.end) - r.start <= RANGE_BYTES
                        && r.blobs.len() < RANGE_BLOBS)
                {
                    r.end = r.end.max(hi);
                    r.blobs.push(b);
                    continue;
                }
                out.push(cur.take().expect("range"));
            }
            cur = Some(Range {
                pack,
                start: lo,
                end: hi,
                blobs: vec![b],
            });
        }
        out.extend(cur);
    }
    out
}

impl Repository {
    /// Every entry under a tree, in pre-order (parents before children).
    pub fn walk(&self, tree: &Id, base: &Path, out: &mut Vec<Entry>) -> Result<()> {
        let t = self.read_tree(tree)?;
        for n in t.nodes {
            let rel = join_name(base, &n);
            let sub = n.subtree;
            out.push(Entry {
                rel: rel.clone(),
                node: n,
            });
            if let Some(s) = sub {
                self.walk(&s, &rel, out)?;
            }
        }
        Ok(())
    }

    /// The first pass: reads every tree, counts, and (unless `overwrite`)
    /// finds what is in the way. Writes nothing.
    fn survey(
        &self,
        snapshot: &Id,
        tree: &Id,
        opts: &RestoreOptions,
        root: Option<&OwnedFd>,
    ) -> Result<Survey> {
        let mut s = Survey::default();
        let mut walk = Lazy::new(self, snapshot, tree, &opts.include)?;
        // For each folder given and not yet closed: missing from the target.
        let mut missing: Vec<bool> = Vec::new();
        let mut linked: HashSet<(u64, u64)> = HashSet::new();
        while let Some(step) = walk.next()? {
            let e = match step {
                Step::Entry(e) => e,
                Step::Close(_) => {
                    missing.pop();
                    continue;
                }
            };
            s.entries += 1;
            let is_dir = e.node.kind == NodeKind::Dir;
            if e.node.kind == NodeKind::File
                && (e.node.nlink <= 1 || linked.insert((e.node.dev, e.node.inode)))
            {
                s.files += 1;
                s.bytes += e.node.size;
            }
            // Nothing is followed: a symlink in the target where the
            // snapshot has a folder is in the way, too.
            let gone = match root {
                _ if opts.overwrite || missing.last() == Some(&true) => true,
                None => true,
                Some(root) => match confine::lstat_beneath(root.as_fd(), &e.rel) {
                    Ok(None) => true,
                    Ok(Some(st)) if is_dir && confine::is_dir(&st) => false,
                    Ok(Some(_)) => {
                        s.clashes += 1;
                        s.first_clash.get_or_insert_with(|| e.rel.clone());
                        false
                    }
                    Err(err) if matches!(err.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                        s.clashes += 1;
                        s.first_clash.get_or_insert_with(|| e.rel.clone());
                        false
                    }
                    Err(err) => {
                        return Err(RepoError::io("look at", opts.target.join(&e.rel), err))
                    }
                },
            };
            if is_dir {
                missing.push(gone);
            }
        }
        Ok(s)
    }

    /// Restore a snapshot.
    pub fn restore(
        &self,
        snapshot: &Id,
        opts: &RestoreOptions,
        progress: &dyn RestoreProgress,
    ) -> Result<RestoreStats> {
        self.require_full_index("restore")?;
        let started = Instant::now();
        let snap = self.read_snapshot(&snapshot.to_hex())?;
        // Refused before the target is touched, as before: a bad pattern.
        if !opts.include.is_empty() {
            globs(&opts.include)?;
        }
        let target = &opts.target;
        let open = || {
            fs::create_dir_all(target).map_err(|e| RepoError::io("create", target, e))?;
            confine::open_root(target).map_err(|e| RepoError::io("open", target, e))
        };
        // A target that is not there yet has nothing in the way, and is
        // created only once there is something to restore.
        let existing = match fs::symlink_metadata(target) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            _ => Some(open()?),
        };

        // First pass: refuse before writing anything.
        let survey = self.survey(snapshot, &snap.tree, opts, existing.as_ref())?;
        if survey.entries == 0 {
            return Err(RepoError::Invalid(
                "nothing in the snapshot matches --include".into(),
            ));
        }
        if let Some(first) = survey.first_clash {
            return Err(RepoError::WouldOverwrite {
                count: survey.clashes,
                first: target.join(first),
            });
        }
        let root = match existing {
            Some(r) => r,
            None => open()?,
        };
        progress.total(survey.files, survey.bytes);

        let threads =
            std::thread::available_parallelism().map_or(2, |n| n.get()) * RESTORE_THREADS_PER_CORE;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("hokan-restore-{i}"))
            .build()
            .map_err(|e| RepoError::Invalid(format!("cannot start restore threads: {e}")))?;
        let mut run = Run {
            repo: self,
            opts,
            progress,
            pool: &pool,
            tgt: Beneath {
                root,
                dirs: HashMap::new(),
                budget: confine::dir_budget(),
            },
            as_root: unsafe { libc::geteuid() } == 0,
            stats: RestoreStats::default(),
            errors: Mutex::new(Vec::new()),
            bytes: AtomicU64::new(0),
            primary: HashMap::new(),
        };
        let held = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);

        // Second pass: a thread walks the trees into batches, one ahead.
        let walked = std::thread::scope(|s| -> Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch>>(1);
            let (held, peak) = (&held, &peak);
            s.spawn(move || {
                let mut walk = match Lazy::new(self, snapshot, &snap.tree, &opts.include) {
                    Ok(w) => w,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let mut batch = Batch::default();
                loop {
                    let step = match walk.next() {
                        Ok(Some(s)) => s,
                        Ok(None) => break,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    match step {
                        Step::Entry(e) => {
                            batch.blobs += e.node.content.len();
                            batch.entries.push(e);
                        }
                        Step::Close(e) => batch.closes.push(e),
                    }
                    let now = held.fetch_add(1, Ordering::Relaxed) + 1;
                    peak.fetch_max(now, Ordering::Relaxed);
                    let full = batch.entries.len() >= BATCH_ENTRIES || batch.blobs >= BATCH_BLOBS;
                    if full && tx.send(Ok(std::mem::take(&mut batch))).is_err() {
                        return;
                    }
                }
                let _ = tx.send(Ok(batch));
            });
            let mut r = Ok(());
            for b in &rx {
                let b = match b {
                    Ok(b) => b,
                    Err(e) => {
                        r = Err(e);
                        break;
                    }
                };
                let n = b.held();
                let done = run.batch(b);
                held.fetch_sub(n, Ordering::Relaxed);
                if let Err(e) = done {
                    r = Err(e);
                    break;
                }
            }
            drop(rx);
            r
        });
        walked?;
        let Run {
            tgt,
            mut stats,
            errors,
            bytes,
            ..
        } = run;
        drop(tgt);
        stats.bytes = bytes.into_inner();
        stats.errors = errors.into_inner().expect("errors");
        stats.errors.sort();
        stats.peak_entries_held = peak.into_inner();
        stats.duration_secs = started.elapsed().as_secs_f64();
        Ok(stats)
    }
}

/// The state of one restore's second pass.
struct Run<'a> {
    repo: &'a Repository,
    opts: &'a RestoreOptions,
    progress: &'a dyn RestoreProgress,
    pool: &'a rayon::ThreadPool,
    tgt: Beneath,
    as_root: bool,
    stats: RestoreStats,
    errors: Mutex<Vec<(String, String)>>,
    bytes: AtomicU64,
    /// Hard links: the first path of each (dev, inode) gets the content.
    primary: HashMap<(u64, u64), PathBuf>,
}

impl Run<'_> {
    fn fail(&self, p: &Path, e: String) {
        self.errors
            .lock()
            .expect("errors")
            .push((self.opts.target.join(p).display().to_string(), e))
    }

    /// Restore one batch: everything in it written, its files' metadata,
    /// and the metadata of the folders it completes.
    fn batch(&mut self, batch: Batch) -> Result<()> {
        let Batch {
            entries, closes, ..
        } = batch;
        let target = &self.opts.target;
        let overwrite = self.opts.overwrite;

        // Folders (parents first: pre-order), each opened once and its
        // handle kept while the budget allows and it is not complete.
        for e in entries.iter().filter(|e| e.node.kind == NodeKind::Dir) {
            let fd = self
                .tgt
                .at(&e.rel)
                .and_then(|(d, n)| confine::make_dir(d.raw(), n, overwrite))
                .map_err(|err| RepoError::io("create folder", target.join(&e.rel), err))?;
            if self.tgt.budget > 0 {
                self.tgt.budget -= 1;
                self.tgt.dirs.insert(e.rel.clone(), fd);
            }
            self.stats.dirs += 1;
        }
        // Then special files; hard links wait for their first path's content.
        let mut links: Vec<(PathBuf, usize)> = Vec::new();
        let mut files = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match e.node.kind {
                NodeKind::File => {
                    if e.node.nlink > 1 {
                        let key = (e.node.dev, e.node.inode);
                        if let Some(p) = self.primary.get(&key) {
                            links.push((p.clone(), i));
                            continue;
                        }
                        self.primary.insert(key, e.rel.clone());
                    }
                    files.push(i);
                }
                NodeKind::Dir | NodeKind::Socket => {}
                _ => {
                    let r = self.tgt.at(&e.rel).and_then(|(d, n)| {
                        if overwrite && confine::lstat_at(d.raw(), n)?.is_some() {
                            let _ = confine::unlink_at(d.raw(), n);
                        }
                        if e.node.kind == NodeKind::Symlink {
                            // The target text is data: written, never followed.
                            confine::symlink_at(&meta::node_target(&e.node), d.raw(), n)
                        } else {
                            confine::special_at(d.raw(), n, &e.node)
                        }
                    });
                    match r {
                        Ok(()) => self.stats.special += 1,
                        Err(err) => self.fail(&e.rel, err.to_string()),
                    }
                }
            }
        }

        // Plan: which blobs of which pack go where.
        let mut broken = vec![false; entries.len()];
        let (reads, pack_names) = {
            let idx = self.repo.index();
            let mut plan: HashMap<u32, Vec<Placement>> = HashMap::new();
            for &i in &files {
                let n = &entries[i].node;
                if n.incomplete {
                    broken[i] = true;
                    self.fail(
                        &entries[i].rel,
                        "was not readable at backup time; its content is not in the snapshot"
                            .into(),
                    );
                    continue;
                }
                let mut off = 0u64;
                for id in &n.content {
                    match idx.get(id) {
                        Some(loc) => {
                            plan.entry(loc.pack).or_default().push((*id, loc, i, off));
                            off += loc.raw_length as u64;
                        }
                        None => {
                            broken[i] = true;
                            self.fail(
                                &entries[i].rel,
                                format!("blob {} is missing from the repository", id.short()),
                            );
                            break;
                        }
                    }
                }
            }
            let names: HashMap<u32, Id> = plan.keys().map(|&p| (p, idx.pack_name(p))).collect();
            (ranges(plan), names)
        };

        let this = &*self;
        // Files are created by their first write below. Here: empty files,
        // and with --overwrite, clear what is in the way.
        this.pool.install(|| {
            files.par_iter().for_each(|&i| {
                let rel = &entries[i].rel;
                let empty = entries[i].node.content.is_empty();
                let r = this.tgt.at(rel).and_then(|(d, n)| {
                    if overwrite {
                        match confine::lstat_at(d.raw(), n)? {
                            Some(st) if !confine::is_file(&st) => {
                                let _ = confine::unlink_at(d.raw(), n);
                            }
                            Some(_) if !empty => {
                                let _ = confine::unlink_at(d.raw(), n);
                            }
                            _ => {}
                        }
                    }
                    if empty {
                        confine::open_file(d.raw(), n, true)?;
                    }
                    Ok(())
                });
                if let Err(e) = r {
                    this.fail(rel, e.to_string());
                }
            })
        });

        // Content, one range of a pack at a time per thread.
        let done: Vec<AtomicBool> = (0..entries.len()).map(|_| Default::default()).collect();
        let broken = Mutex::new(broken);
        this.pool.install(|| {
            reads
                .par_iter()
                .with_max_len(1)
                .for_each(|r| this.read_range(r, &pack_names, &entries, &broken, &done))
        });
        let broken = broken.into_inner().expect("broken");
        self.stats.files += files.iter().filter(|&&i| !broken[i]).count() as u64;

        for (a, l) in links {
            let b = &entries[l].rel;
            let r = self.tgt.at(&a).and_then(|(da, na)| {
                let (db, nb) = self.tgt.at(b)?;
                if overwrite && confine::lstat_at(db.raw(), nb)?.is_some() {
                    let _ = confine::unlink_at(db.raw(), nb);
                }
                confine::link_at(da.raw(), na, db.raw(), nb)
            });
            match r {
                Ok(()) => self.stats.hardlinks += 1,
                Err(e) => self.fail(
                    b,
                    format!("hard link to {}: {e}", target.join(&a).display()),
                ),
            }
        }

        // Metadata: everything but folders, then the folders this batch
        // completes, deepest first (the walk leaves them in that order).
        let this = &*self;
        this.pool.install(|| {
            entries
                .par_iter()
                .enumerate()
                .filter(|(i, e)| {
                    !matches!(e.node.kind, NodeKind::Dir | NodeKind::Socket)
                        && !done[*i].load(Ordering::Relaxed)
                })
                .for_each(|(_, e)| {
                    let r = this.tgt.at(&e.rel).and_then(|(d, n)| {
                        if confine::lstat_at(d.raw(), n)?.is_some() {
                            confine::apply_at(d.raw(), n, &e.node, this.as_root)?;
                        }
                        Ok(())
                    });
                    if let Err(err) = r {
                        this.fail(&e.rel, format!("metadata: {err}"));
                    }
                })
        });
        for e in &closes {
            // Its own handle is not needed any more.
            if self.tgt.dirs.remove(&e.rel).is_some() {
                self.tgt.budget += 1;
            }
            let r = self
                .tgt
                .at(&e.rel)
                .and_then(|(d, n)| confine::apply_at(d.raw(), n, &e.node, self.as_root));
            if let Err(err) = r {
                self.fail(&e.rel, format!("metadata: {err}"));
            }
        }
        Ok(())
    }

    /// Read one range of a pack and write its blobs.
    fn read_range(
        &self,
        r: &Range,
        pack_names: &HashMap<u32, Id>,
        entries: &[Entry],
        broken: &Mutex<Vec<bool>>,
        done: &[AtomicBool],
    ) {
        let name = pack_names[&r.pack];
        let data = match self.repo.store().get_range(
            ObjectKind::Pack,
            &name.to_hex(),
            r.start,
            r.end - r.start,
        ) {
            Ok(d) => d,
            Err(e) => {
                let mut br = broken.lock().expect("broken");
                for b in r.blobs.iter() {
                    if !br[b.2] {
                        br[b.2] = true;
                        self.fail(
                            &entries[b.2].rel,
                            format!("pack {} unreadable: {e}", name.short()),
                        );
                    }
                }
                return;
            }
        };
        let mut last: Option<(Id, Vec<u8>)> = None;
        let mut open_file: Option<(usize, fs::File)> = None;
        for (id, loc, file, off) in r.blobs.iter() {
            if broken.lock().expect("broken")[*file] {
                continue;
            }
            let lo = (loc.offset as u64 - r.start) as usize;
            let hi = lo + loc.length as usize;
            let plain = match &last {
                Some((lid, pl)) if lid == id => Ok(pl.clone()),
                _ => {
                    if hi > data.len() {
                        Err(RepoError::Corrupt {
                            what: format!("pack {}", name.short()),
                            detail: "shorter than its index says (truncated)".into(),
                        })
                    } else {
                        self.repo.open_blob(
                            &name,
                            loc.kind,
                            id,
                            &data[lo..hi],
                            loc.raw_length as usize,
                        )
                    }
                }
            };
            let path = &entries[*file].rel;
            match plain {
                Ok(pl) => {
                    // Consecutive blobs of a pack mostly belong to one file: keep it open.
                    let w = match &open_file {
                        Some((i, f)) if i == file => f.write_all_at(&pl, *off),
                        _ => self
                            .tgt
                            .at(path)
                            .and_then(|(d, n)| confine::open_file(d.raw(), n, false))
                            .and_then(|f| {
                                let r = f.write_all_at(&pl, *off);
                                open_file = Some((*file, f));
                                r
                            }),
                    };
                    // A one-blob file is complete now: metadata through the open fd.
                    let node = &entries[*file].node;
                    let w = w.and_then(|()| match (&open_file, node.content.len()) {
                        (Some((_, f)), 1) if node.nlink <= 1 => {
                            meta::apply_fd(f, node, self.as_root)?;
                            done[*file].store(true, Ordering::Relaxed);
                            Ok(())
                        }
                        _ => Ok(()),
                    });
                    match w {
                        Ok(()) => {
                            self.bytes.fetch_add(pl.len() as u64, Ordering::Relaxed);
                            self.progress.written(pl.len() as u64);
                        }
                        Err(e) => {
                            broken.lock().expect("broken")[*file] = true;
                            self.fail(path, e.to_string());
                        }
                    }
                    last = Some((*id, pl));
                }
                Err(e) => {
                    broken.lock().expect("broken")[*file] = true;
                    self.fail(path, e.to_string());
                }
            }
        }
    }
}

/// The restore target as directory handles: the target itself and, while
/// the budget of open descriptors allows, the folders restored into it
/// that are not complete yet.
struct Beneath {
    root: OwnedFd,
    /// Open handles of folders, by path relative to the target.
    dirs: HashMap<PathBuf, OwnedFd>,
    /// How many more handles may be kept.
    budget: usize,
}

impl Beneath {
    /// The folder holding `rel`, and the last name of `rel`: a kept handle
    /// when there is one, else opened beneath the target without following
    /// any symlink.
    fn at<'r>(&self, rel: &'r Path) -> std::io::Result<(confine::Dir<'_>, &'r [u8])> {
        let (parent, name) = confine::split(rel)?;
        if parent.as_os_str().is_empty() {
            return Ok((confine::Dir::Borrowed(self.root.as_fd()), name));
        }
        if let Some(fd) = self.dirs.get(parent) {
            return Ok((confine::Dir::Borrowed(fd.as_fd()), name));
        }
        Ok((confine::open_dir_beneath(self.root.as_fd(), parent)?, name))
    }
}

fn globs(patterns: &[String]) -> Result<(GlobSet, GlobSet)> {
    let mut full = GlobSetBuilder::new();
    let mut names = GlobSetBuilder::new();
    for p in patterns {
        let g = GlobBuilder::new(p.trim_start_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| RepoError::Invalid(format!("bad --include pattern {p:?}: {e}")))?;
        if !p.contains('/') {
            names.add(g.clone());
        }
        full.add(g);
    }
    let build = |b: GlobSetBuilder| b.build().map_err(|e| RepoError::Invalid(e.to_string()));
    Ok((build(full)?, build(names)?))
}

/// Keep entries that match (or lie inside a match), and the folders leading to them.
pub fn filter(all: Vec<Entry>, include: &[String]) -> Result<Vec<Entry>> {
    if include.is_empty() {
        return Ok(all);
    }
    let (full, names) = globs(include)?;
    let matched: Vec<bool> = all
        .iter()
        .map(|e| {
            full.is_match(&e.rel)
                || e.rel
                    .file_name()
                    .is_some_and(|n| names.is_match(Path::new(n)))
        })
        .collect();
    // Entries are in pre-order, so everything inside a matching folder
    // follows it directly: remember the outermost matching folder we are in.
    let mut keep = vec![false; all.len()];
    let mut inside: Option<&Path> = None;
    for (i, e) in all.iter().enumerate() {
        if inside.is_some_and(|k| !e.rel.starts_with(k)) {
            inside = None;
        }
        if inside.is_some() || matched[i] {
            keep[i] = true;
            if inside.is_none() && e.node.kind == NodeKind::Dir {
                inside = Some(&e.rel);
            }
        }
    }
    // Folders on the way to anything kept are kept too: one pass over the
    // kept paths' ancestors, not a search per folder.
    let mut ancestors: std::collections::HashSet<&Path> = std::collections::HashSet::new();
    for (e, _) in all.iter().zip(&keep).filter(|(_, k)| **k) {
        ancestors.extend(e.rel.ancestors().skip(1));
    }
    for (i, e) in all.iter().enumerate() {
        if e.node.kind == NodeKind::Dir && ancestors.contains(e.rel.as_path()) {
            keep[i] = true;
        }
    }
    Ok(all
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(e, _)| e)
        .collect())
}
