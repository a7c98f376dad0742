//! `repair snapshots`: salvage what is left of damaged generations.
//!
//! A snapshot is damaged when some blob it needs is gone (its pack was
//! deleted or lost) or fails authentication (`read_data`). Such a snapshot
//! cannot be pruned around and restores with holes. Repair writes, for each
//! damaged snapshot, a **new** snapshot with the same time, source and paths
//! whose trees leave out exactly the files whose data is gone; every file
//! left out is listed, by path, in the report and in the new snapshot's
//! `errors` (so `partial` is true), and the snapshot is tagged `repaired` and
//! `repaired-from-<original id>`. Folders whose listing (tree) is gone are
//! kept as empty folders marked `incomplete`, and listed too.
//!
//! The original snapshot stays unless `forget_originals` is set; a snapshot
//! that was already salvaged (a snapshot tagged `repaired-from-<its id>`
//! exists) is not salvaged twice. Nothing is deleted without that flag, and
//! nothing at all is written in a dry run.
//!
//! Order of writes, so that a crash leaves a usable repository: new tree
//! packs, then their index file, then the new snapshots, then (on request)
//! the originals are forgotten.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use hokan_format::{BlobEntry, BlobKind, Id, NodeKind, Snapshot, SnapshotError, Tree};
use serde::Serialize;

use crate::backup::NoProgress;
use crate::error::Result;
use crate::index::{IdMap, IdSet};
use crate::pack::PackBuilder;
use crate::repository::{PackCheck, Repository};
use crate::store::{ObjectKind, StoreError};
use crate::verify::{Damage, VerifyReport};

/// The tag every salvaged snapshot carries.
pub const REPAIRED_TAG: &str = "repaired";
/// Prefix of the tag naming the snapshot a salvaged one was made from.
pub const REPAIRED_FROM_PREFIX: &str = "repaired-from-";

/// Options for [`Repository::repair_snapshots`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RepairSnapshotsOptions {
    /// Only report what would be done; write and delete nothing.
    pub dry_run: bool,
    /// Read every pack and authenticate every blob, so that damaged (not only
    /// missing) data is found as well.
    pub read_data: bool,
    /// After the salvaged snapshots are written, forget (delete the manifest
    /// of) each original they were made from.
    pub forget_originals: bool,
}

/// One damaged snapshot and what was (or would be) saved of it.
#[derive(Clone, Debug, Serialize)]
pub struct SalvagedSnapshot {
    /// The damaged snapshot.
    pub original: Id,
    /// The new snapshot (None in a dry run).
    pub new: Option<Id>,
    /// The generation's time.
    pub time: String,
    /// Its source.
    pub source: String,
    /// Files and folders left out, with the reason.
    pub lost: Vec<SnapshotError>,
    /// Whether the original was forgotten.
    pub original_forgotten: bool,
}

/// What `repair snapshots` found and did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SnapshotRepair {
    /// Nothing was written.
    pub dry_run: bool,
    /// Readable snapshots checked.
    pub snapshots: usize,
    /// Damaged snapshots salvaged (or to salvage, in a dry run).
    pub salvaged: Vec<SalvagedSnapshot>,
    /// Damaged snapshots already salvaged earlier: (original, salvaged copy).
    pub already_salvaged: Vec<(Id, Id)>,
    /// Snapshots of which nothing can be saved (the root tree is gone), with
    /// the reason. They are left as they are.
    pub unsalvageable: Vec<(Id, String)>,
    /// Snapshot manifests that cannot be read at all.
    pub damaged_manifests: Vec<(String, String)>,
    /// Damaged objects found on the way (packs missing, truncated, failing
    /// authentication).
    pub damage: Vec<Damage>,
    /// The pack check done first (not in a dry run).
    pub packs: PackCheck,
}

impl SnapshotRepair {
    /// Files and folders left out over all salvaged snapshots.
    pub fn files_lost(&self) -> usize {
        self.salvaged.iter().map(|s| s.lost.len()).sum()
    }
}

/// Collects the new tree blobs into packs.
struct TreeWriter<'a> {
    repo: &'a Repository,
    write: bool,
    known: IdSet,
    pack: PackBuilder,
    written: Vec<(Id, Vec<BlobEntry>)>,
}

impl TreeWriter<'_> {
    fn add(&mut self, tree: &Tree) -> Result<Id> {
        let plain = tree.encode();
        let id = self.repo.key().blob_id(&plain);
        if !self.write || self.repo.index().contains(&id) || !self.known.insert(id) {
            return Ok(id);
        }
        let sealed = self
            .repo
            .seal_blob_with_id(BlobKind::Tree, &id, &plain, None);
        self.pack.add(BlobKind::Tree, id, &sealed, plain.len());
        if self.pack.len() >= self.repo.config().pack_size as usize {
            self.flush()?;
        }
        Ok(id)
    }

    fn flush(&mut self) -> Result<()> {
        if self.pack.is_empty() {
            return Ok(());
        }
        let cap = self.repo.config().pack_size as usize;
        let p = std::mem::replace(&mut self.pack, PackBuilder::with_capacity(cap));
        let (name, bytes, entries) = p.finish(self.repo.key());
        match self
            .repo
            .store()
            .put(ObjectKind::Pack, &name.to_hex(), &bytes)
        {
            Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.written.push((name, entries));
        Ok(())
    }

    /// Write the last pack and one index file for every pack written.
    fn finish(mut self) -> Result<()> {
        self.flush()?;
        if self.written.is_empty() {
            return Ok(());
        }
        let (name, _) = self.repo.put_index(self.written.clone())?;
        let mut idx = self.repo.index_mut();
        for (p, e) in &self.written {
            idx.add_pack(*p, e);
        }
        idx.files.push(name);
        Ok(())
    }
}

struct Salvage<'a, 'w> {
    bad: &'a IdMap<String>,
    out: TreeWriter<'w>,
    /// Trees found whole (shared by many snapshots: walked once).
    clean: IdSet,
    /// Writing a new tree failed: the repair stops with this error.
    failed: Option<crate::error::RepoError>,
}

impl Salvage<'_, '_> {
    fn add(&mut self, tree: &Tree) -> std::result::Result<Id, String> {
        self.out.add(tree).map_err(|e| {
            let msg = e.to_string();
            self.failed.get_or_insert(e);
            msg
        })
    }
}

impl Repository {
    /// Salvage damaged snapshots into new ones (see the module docs).
    pub fn repair_snapshots(&self, opts: &RepairSnapshotsOptions) -> Result<SnapshotRepair> {
        self.require_full_index("repair snapshots")?;
        let _lock = if opts.dry_run {
            None
        } else {
            Some(self.lock(false, "repair snapshots")?)
        };
        let mut rep = SnapshotRepair {
            dry_run: opts.dry_run,
            ..Default::default()
        };
        if !opts.dry_run {
            // Drop vanished packs from the index first, so that no new tree
            // is deduplicated against one of them.
            rep.packs = self.check_packs()?;
        }
        let mut vr = VerifyReport::default();
        let bad = self.unusable_blobs(opts.read_data, &NoProgress, &mut vr)?;
        rep.damage = vr.damage;

        let (snaps, broken) = self.snapshots()?;
        rep.damaged_manifests = broken
            .into_iter()
            .map(|(n, e)| (n, e.to_string()))
            .collect();
        rep.snapshots = snaps.len();
        // Originals already salvaged: tag `repaired-from-<id>` → that snapshot.
        let mut salvaged_from: IdMap<Id> = IdMap::default();
        for (id, s) in &snaps {
            for t in &s.tags {
                if let Some(orig) = t
                    .strip_prefix(REPAIRED_FROM_PREFIX)
                    .and_then(|h| Id::from_hex(h).ok())
                {
                    salvaged_from.insert(orig, *id);
                }
            }
        }
        let mut sv = Salvage {
            bad: &bad,
            out: TreeWriter {
                repo: self,
                write: !opts.dry_run,
                known: IdSet::default(),
                pack: PackBuilder::with_capacity(self.config().pack_size as usize),
                written: Vec::new(),
            },
            clean: IdSet::default(),
            failed: None,
        };
        let mut new_snaps: Vec<(usize, Snapshot)> = Vec::new();
        for (id, s) in &snaps {
            let mut lost = Vec::new();
            let got = self.salvage_tree(&s.tree, Path::new(""), &mut sv, &mut lost);
            if let Some(e) = sv.failed.take() {
                return Err(e);
            }
            let root = match got {
                Ok(r) => r,
                Err(why) => {
                    rep.unsalvageable.push((*id, why));
                    continue;
                }
            };
            if root == s.tree {
                continue;
            }
            if let Some(copy) = salvaged_from.get(id) {
                rep.already_salvaged.push((*id, *copy));
                continue;
            }
            let mut n = s.clone();
            n.tree = root;
            n.parent = Some(*id);
            n.tags.push(REPAIRED_TAG.into());
            n.tags.push(format!("{REPAIRED_FROM_PREFIX}{id}"));
            n.partial = true;
            n.errors.extend(lost.iter().cloned());
            n.program = format!("hokan {} (repair snapshots)", env!("CARGO_PKG_VERSION"));
            new_snaps.push((rep.salvaged.len(), n));
            rep.salvaged.push(SalvagedSnapshot {
                original: *id,
                new: None,
                time: s.time.clone(),
                source: s.source.clone(),
                lost,
                original_forgotten: false,
            });
        }
        if opts.dry_run {
            return Ok(rep);
        }
        sv.out.finish()?;
        for (i, n) in new_snaps {
            let (new_id, _) = self.put_snapshot(&n)?;
            rep.salvaged[i].new = Some(new_id);
        }
        if opts.forget_originals {
            let originals: Vec<(Id, Option<usize>)> = rep
                .salvaged
                .iter()
                .enumerate()
                .map(|(i, s)| (s.original, Some(i)))
                .chain(rep.already_salvaged.iter().map(|(o, _)| (*o, None)))
                .collect();
            for (orig, i) in originals {
                match self.store().delete(ObjectKind::Snapshot, &orig.to_hex()) {
                    Ok(()) | Err(StoreError::NotFound { .. }) => {
                        if let Some(i) = i {
                            rep.salvaged[i].original_forgotten = true;
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(rep)
    }

    /// The id of `tree` with every file whose data is unusable left out
    /// (recorded in `lost`); `tree` itself if nothing is missing. Err if the
    /// tree itself cannot be read.
    fn salvage_tree(
        &self,
        tree: &Id,
        at: &Path,
        sv: &mut Salvage<'_, '_>,
        lost: &mut Vec<SnapshotError>,
    ) -> std::result::Result<Id, String> {
        if sv.clean.contains(tree) {
            return Ok(*tree);
        }
        let t = match sv.bad.get(tree) {
            Some(why) => return Err(why.clone()),
            None => self.read_tree(tree).map_err(|e| e.to_string())?,
        };
        let usable = |c: &Id| -> Option<String> {
            if let Some(why) = sv.bad.get(c) {
                Some(why.clone())
            } else if !self.index().contains(c) {
                Some(format!(
                    "blob {} is in no pack (its pack is gone)",
                    c.short()
                ))
            } else {
                None
            }
        };
        let mut nodes = Vec::with_capacity(t.nodes.len());
        let mut changed = false;
        for mut n in t.nodes {
            let p = at.join(OsStr::from_bytes(&crate::meta::node_name(&n)));
            match n.kind {
                NodeKind::File => {
                    if let Some(why) = n.content.iter().find_map(usable) {
                        lost.push(SnapshotError {
                            path: p.display().to_string(),
                            error: format!("left out by `hokan repair snapshots`: {why}"),
                        });
                        changed = true;
                        continue;
                    }
                }
                NodeKind::Dir => {
                    if let Some(s) = n.subtree {
                        match self.salvage_tree(&s, &p, sv, lost) {
                            Ok(new) if new == s => {}
                            Ok(new) => {
                                n.subtree = Some(new);
                                changed = true;
                            }
                            Err(why) => {
                                lost.push(SnapshotError {
                                    path: format!("{}/", p.display()),
                                    error: format!(
                                        "folder listing lost, kept as an empty folder by `hokan repair snapshots`: {why}"
                                    ),
                                });
                                let empty = sv.add(&Tree { nodes: Vec::new() })?;
                                n.subtree = Some(empty);
                                n.incomplete = true;
                                changed = true;
                            }
                        }
                    }
                }
                _ => {}
            }
            nodes.push(n);
        }
        if !changed {
            sv.clean.insert(*tree);
            return Ok(*tree);
        }
        sv.add(&Tree { nodes })
    }
}
