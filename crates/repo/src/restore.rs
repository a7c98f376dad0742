//! Restore: snapshot → files.
//!
//! Plans first, writes second. The plan lists every entry to restore and,
//! for every pack, which blobs go to which file offsets; packs are then read
//! in parallel, each once, and every blob is authenticated (its id is a keyed
//! hash of its content) before it is written. Metadata goes on last, and
//! directories deepest-first so their times survive the writes inside them.
//!
//! A damaged or missing blob fails only the files that need it: the rest are
//! restored and the damaged files are listed in [`RestoreStats::errors`].
//! Existing files are never overwritten unless asked; the check runs before
//! anything is written.
//!
//! Everything is created relative to directory handles of the target
//! ([`crate::confine`]): no name from a snapshot and no symlink already in
//! the target leads outside it. Trees with unsafe names (`..`, `/`, NUL,
//! twice the same name) are refused when read, so such a snapshot is not
//! restored at all.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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

/// One blob to write: its id, where it is, which entry, at which offset.
type Placement = (Id, BlobLoc, usize, u64);

/// Restore waits on pack reads and on file creation in the kernel; this many
/// threads per core keep both cores busy.
const RESTORE_THREADS_PER_CORE: usize = 4;

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
    /// What will be written.
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

    /// Restore a snapshot.
    pub fn restore(
        &self,
        snapshot: &Id,
        opts: &RestoreOptions,
        progress: &dyn RestoreProgress,
    ) -> Result<RestoreStats> {
        let started = Instant::now();
        let snap = self.read_snapshot(&snapshot.to_hex())?;
        let mut all = Vec::new();
        self.walk(&snap.tree, Path::new(""), &mut all)
            .map_err(|e| e.in_snapshot(snapshot))?;
        let entries = filter(all, &opts.include)?;
        if entries.is_empty() {
            return Err(RepoError::Invalid(
                "nothing in the snapshot matches --include".into(),
            ));
        }
        let target = &opts.target;
        fs::create_dir_all(target).map_err(|e| RepoError::io("create", target, e))?;
        let root = confine::open_root(target).map_err(|e| RepoError::io("open", target, e))?;
        let mut tgt = Beneath {
            root,
            dirs: entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.node.kind == NodeKind::Dir)
                .map(|(i, e)| (e.rel.as_path(), i))
                .collect(),
            fds: (0..entries.len()).map(|_| None).collect(),
        };

        // Refuse before writing anything. Nothing is followed: a symlink in
        // the target where the snapshot has a folder is in the way, too.
        if !opts.overwrite {
            let mut missing: HashSet<&Path> = HashSet::new();
            let mut clashes: Vec<&Entry> = Vec::new();
            for e in &entries {
                let is_dir = e.node.kind == NodeKind::Dir;
                if missing.contains(e.rel.parent().unwrap_or(Path::new(""))) {
                    if is_dir {
                        missing.insert(&e.rel);
                    }
                    continue;
                }
                match confine::lstat_beneath(tgt.root.as_fd(), &e.rel) {
                    Ok(None) if is_dir => {
                        missing.insert(&e.rel);
                    }
                    Ok(None) => {}
                    Ok(Some(st)) if is_dir && confine::is_dir(&st) => {}
                    Ok(Some(_)) => clashes.push(e),
                    Err(err) if matches!(err.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                        clashes.push(e)
                    }
                    Err(err) => return Err(RepoError::io("look at", target.join(&e.rel), err)),
                }
            }
            if let Some(first) = clashes.first() {
                return Err(RepoError::WouldOverwrite {
                    count: clashes.len(),
                    first: target.join(&first.rel),
                });
            }
        }
        let as_root = unsafe { libc::geteuid() } == 0;
        let mut stats = RestoreStats::default();
        let errors = Mutex::new(Vec::<(String, String)>::new());
        let fail = |p: &Path, e: String| {
            errors
                .lock()
                .expect("errors")
                .push((target.join(p).display().to_string(), e))
        };

        // Folders (parents first: pre-order), each opened once and its
        // handle kept while the budget allows; then special files.
        let mut budget = confine::dir_budget();
        for (i, e) in entries.iter().enumerate() {
            if e.node.kind != NodeKind::Dir {
                continue;
            }
            let fd = tgt
                .at(&e.rel)
                .and_then(|(d, n)| confine::make_dir(d.raw(), n, opts.overwrite))
                .map_err(|err| RepoError::io("create folder", target.join(&e.rel), err))?;
            if budget > 0 {
                budget -= 1;
                tgt.fds[i] = Some(fd);
            }
            stats.dirs += 1;
        }
        // Hard links: the first path of each (dev, inode) gets the content.
        let mut primary: HashMap<(u64, u64), usize> = HashMap::new();
        let mut links = Vec::new();
        let mut files = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match e.node.kind {
                NodeKind::File => {
                    if e.node.nlink > 1 {
                        if let Some(&p) = primary.get(&(e.node.dev, e.node.inode)) {
                            links.push((p, i));
                            continue;
                        }
                        primary.insert((e.node.dev, e.node.inode), i);
                    }
                    files.push(i);
                }
                NodeKind::Dir | NodeKind::Socket => {}
                _ => {
                    let r = tgt.at(&e.rel).and_then(|(d, n)| {
                        if opts.overwrite && confine::lstat_at(d.raw(), n)?.is_some() {
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
                        Ok(()) => stats.special += 1,
                        Err(err) => fail(&e.rel, err.to_string()),
                    }
                }
            }
        }

        // Plan: which blobs of which pack go where.
        let idx = self.index();
        let mut plan: HashMap<u32, Vec<Placement>> = HashMap::new();
        let mut broken = vec![false; entries.len()];
        let total: u64 = files.iter().map(|&i| entries[i].node.size).sum();
        progress.total(files.len() as u64, total);
        for &i in &files {
            let n = &entries[i].node;
            if n.incomplete {
                broken[i] = true;
                fail(
                    &entries[i].rel,
                    "was not readable at backup time; its content is not in the snapshot".into(),
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
                        fail(
                            &entries[i].rel,
                            format!("blob {} is missing from the repository", id.short()),
                        );
                        break;
                    }
                }
            }
        }
        let pack_names: HashMap<u32, Id> = plan.keys().map(|&p| (p, idx.pack_name(p))).collect();
        drop(idx);

        // Files are created by their first write below. Here: empty files,
        // and with --overwrite, clear what is in the way.
        let threads =
            std::thread::available_parallelism().map_or(2, |n| n.get()) * RESTORE_THREADS_PER_CORE;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("hokan-restore-{i}"))
            .build()
            .map_err(|e| RepoError::Invalid(format!("cannot start restore threads: {e}")))?;
        pool.install(|| {
            files.par_iter().for_each(|&i| {
                let rel = &entries[i].rel;
                let empty = entries[i].node.content.is_empty();
                let r = tgt.at(rel).and_then(|(d, n)| {
                    if opts.overwrite {
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
                    fail(rel, e.to_string());
                }
            })
        });

        // Content, one pack at a time per thread.
        let bytes = AtomicU64::new(0);
        let done: Vec<std::sync::atomic::AtomicBool> =
            (0..entries.len()).map(|_| Default::default()).collect();
        let broken = Mutex::new(broken);
        let mut packs: Vec<(u32, Vec<Placement>)> = plan.into_iter().collect();
        packs.sort_by_key(|(p, _)| *p);
        pool.install(|| {
            packs.par_iter_mut().with_max_len(1).for_each(|(p, blobs)| {
                blobs.sort_by_key(|b| (b.1.offset, b.2, b.3));
                let name = pack_names[p];
                let start = blobs.first().map(|b| b.1.offset as u64).unwrap_or(0);
                let end = blobs
                    .iter()
                    .map(|b| b.1.offset as u64 + b.1.length as u64)
                    .max()
                    .unwrap_or(0);
                let data = match self.store().get_range(
                    ObjectKind::Pack,
                    &name.to_hex(),
                    start,
                    end - start,
                ) {
                    Ok(d) => d,
                    Err(e) => {
                        let mut br = broken.lock().expect("broken");
                        for b in blobs.iter() {
                            if !br[b.2] {
                                br[b.2] = true;
                                fail(
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
                for (id, loc, file, off) in blobs.iter() {
                    if broken.lock().expect("broken")[*file] {
                        continue;
                    }
                    let lo = (loc.offset as u64 - start) as usize;
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
                                self.open_blob(
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
                                _ => tgt
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
                                    meta::apply_fd(f, node, as_root)?;
                                    done[*file].store(true, Ordering::Relaxed);
                                    Ok(())
                                }
                                _ => Ok(()),
                            });
                            match w {
                                Ok(()) => {
                                    bytes.fetch_add(pl.len() as u64, Ordering::Relaxed);
                                    progress.written(pl.len() as u64);
                                }
                                Err(e) => {
                                    broken.lock().expect("broken")[*file] = true;
                                    fail(path, e.to_string());
                                }
                            }
                            last = Some((*id, pl));
                        }
                        Err(e) => {
                            broken.lock().expect("broken")[*file] = true;
                            fail(path, e.to_string());
                        }
                    }
                }
            })
        });
        let broken = broken.into_inner().expect("broken");
        stats.files = files.iter().filter(|&&i| !broken[i]).count() as u64;
        stats.bytes = bytes.into_inner();

        for (p, l) in links {
            let (a, b) = (&entries[p].rel, &entries[l].rel);
            let r = tgt.at(a).and_then(|(da, na)| {
                let (db, nb) = tgt.at(b)?;
                if opts.overwrite && confine::lstat_at(db.raw(), nb)?.is_some() {
                    let _ = confine::unlink_at(db.raw(), nb);
                }
                confine::link_at(da.raw(), na, db.raw(), nb)
            });
            match r {
                Ok(()) => stats.hardlinks += 1,
                Err(e) => fail(b, format!("hard link to {}: {e}", target.join(a).display())),
            }
        }

        // Metadata: everything but folders, then folders deepest first.
        entries
            .par_iter()
            .enumerate()
            .filter(|(i, e)| {
                !matches!(e.node.kind, NodeKind::Dir | NodeKind::Socket)
                    && !done[*i].load(Ordering::Relaxed)
            })
            .map(|(_, e)| e)
            .for_each(|e| {
                let r = tgt.at(&e.rel).and_then(|(d, n)| {
                    if confine::lstat_at(d.raw(), n)?.is_some() {
                        confine::apply_at(d.raw(), n, &e.node, as_root)?;
                    }
                    Ok(())
                });
                if let Err(err) = r {
                    fail(&e.rel, format!("metadata: {err}"));
                }
            });
        let mut dirs: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.node.kind == NodeKind::Dir)
            .collect();
        dirs.sort_by_key(|e| std::cmp::Reverse(e.rel.components().count()));
        for e in dirs {
            let r = tgt
                .at(&e.rel)
                .and_then(|(d, n)| confine::apply_at(d.raw(), n, &e.node, as_root));
            if let Err(err) = r {
                fail(&e.rel, format!("metadata: {err}"));
            }
        }
        drop(tgt);
        stats.errors = errors.into_inner().expect("errors");
        stats.errors.sort();
        stats.duration_secs = started.elapsed().as_secs_f64();
        Ok(stats)
    }
}

/// The restore target as directory handles: the target itself and, while
/// the budget of open descriptors allows, every folder restored into it.
struct Beneath<'a> {
    root: OwnedFd,
    /// Folder entries by path relative to the target.
    dirs: HashMap<&'a Path, usize>,
    /// Open handle of a folder entry (by entry index), where kept.
    fds: Vec<Option<OwnedFd>>,
}

impl Beneath<'_> {
    /// The folder holding `rel`, and the last name of `rel`: a kept handle
    /// when there is one, else opened beneath the target without following
    /// any symlink.
    fn at<'r>(&self, rel: &'r Path) -> std::io::Result<(confine::Dir<'_>, &'r [u8])> {
        let (parent, name) = confine::split(rel)?;
        if parent.as_os_str().is_empty() {
            return Ok((confine::Dir::Borrowed(self.root.as_fd()), name));
        }
        if let Some(fd) = self.dirs.get(parent).and_then(|&i| self.fds[i].as_ref()) {
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
