//! Verify: is everything every snapshot needs present and intact?
//!
//! Without `read_data`: every index file parses, every indexed pack exists
//! and is long enough, every snapshot and tree opens, every blob a file needs
//! is indexed. With `read_data`: additionally every pack is read whole, its
//! name checked against the hash of its bytes, and every indexed blob
//! authenticated and checked against its id.
//!
//! Damage is reported by object (pack, index file, snapshot, tree) *and* by
//! consequence: which files of which snapshots cannot be restored. Packs that
//! no index lists are warnings, not damage: they are what a killed backup
//! leaves, and the next backup or `hokan repair index` indexes them.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use hokan_format::{Id, NodeKind, Snapshot, Tree};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{RepoError, Result};
use crate::index::{IdMap, IdSet};
use crate::repository::Repository;
use crate::store::ObjectKind;

/// A tree as read: the tree, or why not and whether it holds an unsafe name
/// (which damages every snapshot that reaches it).
type TreeRead = std::result::Result<Tree, (String, bool)>;

/// Per pack: damage, bad blobs with reasons, blobs read, bytes read.
type PackCheck = (Vec<Damage>, Vec<(Id, String)>, u64, u64);

/// One damaged object.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Damage {
    /// The object, e.g. `pack 1a2b3c4d…`.
    pub object: String,
    /// What is wrong.
    pub detail: String,
}

/// A file (or folder) that cannot be restored completely.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Affected {
    /// Snapshot id.
    pub snapshot: String,
    /// Snapshot time.
    pub time: String,
    /// Source name.
    pub source: String,
    /// Path inside the snapshot.
    pub path: String,
}

/// The outcome of a verify.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    /// Snapshots checked.
    pub snapshots: usize,
    /// Distinct trees checked.
    pub trees: usize,
    /// Packs in the store.
    pub packs: usize,
    /// Blobs authenticated (read-data only).
    pub blobs_read: u64,
    /// Bytes read (read-data only).
    pub bytes_read: u64,
    /// Damaged objects.
    pub damage: Vec<Damage>,
    /// Files and folders that cannot be restored completely.
    pub affected: Vec<Affected>,
    /// Things worth knowing that are not damage.
    pub warnings: Vec<String>,
}

impl VerifyReport {
    /// True if nothing is damaged.
    pub fn ok(&self) -> bool {
        self.damage.is_empty() && self.affected.is_empty()
    }
}

/// Progress of a verify.
pub trait VerifyProgress: Send + Sync {
    /// Packs to read.
    fn packs(&self, _n: u64) {}
    /// One pack done.
    fn pack_done(&self, _bytes: u64) {}
}
impl VerifyProgress for crate::backup::NoProgress {}

impl Repository {
    /// Check the repository.
    pub fn verify(&self, read_data: bool, progress: &dyn VerifyProgress) -> Result<VerifyReport> {
        self.require_full_index("verify")?;
        let mut rep = VerifyReport::default();
        for (name, why) in self.damaged_key_slots() {
            rep.damage.push(Damage {
                object: format!("key slot {name}"),
                detail: format!(
                    "{why}; its passphrase no longer opens the repository: add a new one with `hokan key add`, then remove this slot with `hokan key remove`"
                ),
            });
        }
        let bad = self.unusable_blobs(read_data, progress, &mut rep)?;

        // Snapshots and trees: what can each snapshot restore?
        let (snaps, broken) = self.snapshots()?;
        for (name, e) in broken {
            rep.damage.push(Damage {
                object: format!("snapshot {name}"),
                detail: e.to_string(),
            });
        }
        rep.snapshots = snaps.len();
        let mut trees: IdMap<TreeRead> = IdMap::default();
        let mut clean = IdSet::default();
        let mut unindexed = IdSet::default();
        for (id, s) in &snaps {
            let mut ctx = TreeCheck {
                snap_id: id,
                snap: s,
                bad: &bad,
                cache: &mut trees,
                clean: &mut clean,
                unindexed: &mut unindexed,
            };
            self.check_tree(&s.tree, Path::new(""), &mut ctx, &mut rep);
        }
        rep.trees = trees.len();
        let no_index = {
            let idx = self.index();
            idx.is_empty() && idx.files.is_empty() && self.damaged_index_files().is_empty()
        };
        if no_index && !snaps.is_empty() {
            rep.damage.push(Damage {
                object: "index".into(),
                detail: "no index file is left (index/ is empty or missing); run `hokan repair index` to rebuild it from the packs".into(),
            });
        } else if !unindexed.is_empty() {
            rep.damage.push(Damage {
                object: "blobs".into(),
                detail: format!(
                    "{} blob(s) that snapshots need are in no pack (their pack is gone)",
                    unindexed.len()
                ),
            });
        }
        if !rep.affected.is_empty() {
            rep.warnings.push(
                "the next backup writes again whatever of the damaged files is still in the source; `hokan repair snapshots` saves what is left of the damaged snapshots into new ones".into(),
            );
        }
        rep.damage.sort_by(|a, b| a.object.cmp(&b.object));
        rep.damage.dedup();
        Ok(rep)
    }

    /// The blobs the index lists that cannot be read, with the reason:
    /// those of missing and truncated packs and, with `read_data`, those that
    /// fail authentication. Damaged objects and warnings go into `rep`.
    pub(crate) fn unusable_blobs(
        &self,
        read_data: bool,
        progress: &dyn VerifyProgress,
        rep: &mut VerifyReport,
    ) -> Result<IdMap<String>> {
        for (name, why) in self.damaged_index_files() {
            rep.damage.push(Damage {
                object: format!("index file {name}"),
                detail: format!(
                    "{why}; run `hokan repair index` to rebuild what it listed from the packs"
                ),
            });
        }
        let listed: HashMap<Id, u64> = self
            .store()
            .list(ObjectKind::Pack)?
            .into_iter()
            .filter_map(|i| Id::from_hex(&i.name).ok().map(|id| (id, i.size)))
            .collect();
        rep.packs = listed.len();

        // Which blobs are unusable, and why.
        let mut bad: IdMap<String> = IdMap::default();
        let by_pack = self.index().by_pack();
        for (pack, entries) in &by_pack {
            let need = entries
                .iter()
                .map(|e| e.offset as u64 + e.length as u64)
                .max()
                .unwrap_or(0);
            match listed.get(pack) {
                None => {
                    rep.damage.push(Damage {
                        object: format!("pack {pack}"),
                        detail: "missing from the store".into(),
                    });
                    for e in entries {
                        bad.insert(e.id, format!("pack {} is missing", pack.short()));
                    }
                }
                Some(&size) if size < need => {
                    rep.damage.push(Damage {
                        object: format!("pack {pack}"),
                        detail: format!("truncated: {size} bytes, the index needs {need}"),
                    });
                    for e in entries
                        .iter()
                        .filter(|e| e.offset as u64 + e.length as u64 > size)
                    {
                        bad.insert(e.id, format!("pack {} is truncated", pack.short()));
                    }
                }
                Some(_) => {}
            }
        }
        let orphans = listed.keys().filter(|p| !by_pack.contains_key(*p)).count();
        if orphans > 0 {
            rep.warnings.push(format!(
                "{orphans} pack(s) are not in any index (left by an interrupted backup, or listed only in a damaged index file); the next backup or `hokan repair index` indexes them"
            ));
        }

        if read_data {
            let packs: Vec<(&Id, &Vec<hokan_format::BlobEntry>)> = by_pack
                .iter()
                .filter(|(p, _)| listed.contains_key(*p))
                .collect();
            progress.packs(packs.len() as u64);
            let results: Vec<PackCheck> = packs
                .par_iter()
                .with_max_len(1)
                .map(|(pack, entries)| {
                    let mut dmg = Vec::new();
                    let mut badb = Vec::new();
                    let bytes = match self.store().get(ObjectKind::Pack, &pack.to_hex()) {
                        Ok(b) => b,
                        Err(e) => {
                            dmg.push(Damage {
                                object: format!("pack {pack}"),
                                detail: format!("unreadable: {e}"),
                            });
                            badb.extend(
                                entries
                                    .iter()
                                    .map(|e| (e.id, format!("pack {} unreadable", pack.short()))),
                            );
                            return (dmg, badb, 0, 0);
                        }
                    };
                    if crate::crypto::object_name(&bytes) != **pack {
                        dmg.push(Damage {
                            object: format!("pack {pack}"),
                            detail: "content does not match its name (bytes changed on the medium)"
                                .into(),
                        });
                    }
                    let mut n = 0;
                    for e in entries.iter() {
                        let (lo, hi) = (e.offset as usize, e.offset as usize + e.length as usize);
                        let r = if hi <= bytes.len() {
                            self.open_blob(
                                pack,
                                e.kind,
                                &e.id,
                                &bytes[lo..hi],
                                e.raw_length as usize,
                            )
                            .map(|_| ())
                        } else {
                            Err(crate::RepoError::Invalid(
                                "beyond the end of the pack".into(),
                            ))
                        };
                        n += 1;
                        if let Err(err) = r {
                            badb.push((
                                e.id,
                                format!("blob {} in pack {}: {err}", e.id.short(), pack.short()),
                            ));
                        }
                    }
                    progress.pack_done(bytes.len() as u64);
                    (dmg, badb, n, bytes.len() as u64)
                })
                .collect();
            for (d, b, n, bytes) in results {
                rep.damage.extend(d);
                if let Some((_, first)) = b.first() {
                    rep.damage.push(Damage {
                        object: "blobs".into(),
                        detail: format!("{} blob(s) fail authentication, first: {first}", b.len()),
                    });
                }
                for (id, why) in b {
                    bad.entry(id).or_insert(why);
                }
                rep.blobs_read += n;
                rep.bytes_read += bytes;
            }
        }
        Ok(bad)
    }

    /// Walk a tree, recording affected paths; returns true if the tree and
    /// everything below it is intact (remembered, so shared subtrees of later
    /// snapshots are not walked again).
    fn check_tree(
        &self,
        tree: &Id,
        at: &Path,
        ctx: &mut TreeCheck<'_>,
        rep: &mut VerifyReport,
    ) -> bool {
        if ctx.clean.contains(tree) {
            return true;
        }
        let affected = |path: PathBuf| Affected {
            snapshot: ctx.snap_id.short(),
            time: ctx.snap.time.clone(),
            source: ctx.snap.source.clone(),
            path: if path.as_os_str().is_empty() {
                "/".into()
            } else {
                path.display().to_string()
            },
        };
        if !ctx.cache.contains_key(tree) {
            let r = if let Some(why) = ctx.bad.get(tree) {
                Err((why.clone(), false))
            } else {
                self.read_tree(tree)
                    .map_err(|e| (e.to_string(), matches!(e, RepoError::UnsafeName { .. })))
            };
            if let Err((why, _)) = &r {
                rep.damage.push(Damage {
                    object: format!("tree {tree}"),
                    detail: why.clone(),
                });
            }
            ctx.cache.insert(*tree, r);
        }
        let t = match &ctx.cache[tree] {
            Ok(t) => t.clone(),
            Err((why, hostile)) => {
                // A name that could lead a restore outside its target makes
                // the whole snapshot unrestorable: name the snapshot itself.
                if *hostile {
                    rep.damage.push(Damage {
                        object: format!("snapshot {}", ctx.snap_id),
                        detail: why.clone(),
                    });
                }
                rep.affected.push(affected(at.to_path_buf()));
                return false;
            }
        };
        let mut ok = true;
        let mut subtrees = Vec::new();
        {
            let index = self.index();
            for n in &t.nodes {
                let p = at.join(OsStr::from_bytes(&crate::meta::node_name(n)));
                match n.kind {
                    NodeKind::File
                        if n.content
                            .iter()
                            .any(|c| ctx.bad.contains_key(c) || !index.contains(c)) =>
                    {
                        ctx.unindexed.extend(
                            n.content
                                .iter()
                                .filter(|c| !ctx.bad.contains_key(*c) && !index.contains(c)),
                        );
                        rep.affected.push(affected(p));
                        ok = false;
                    }
                    NodeKind::Dir => {
                        if let Some(s) = n.subtree {
                            subtrees.push((s, p));
                        }
                    }
                    _ => {}
                }
            }
        }
        for (s, p) in subtrees {
            ok &= self.check_tree(&s, &p, ctx, rep);
        }
        if ok {
            ctx.clean.insert(*tree);
        }
        ok
    }
}

struct TreeCheck<'a> {
    snap_id: &'a Id,
    snap: &'a Snapshot,
    bad: &'a IdMap<String>,
    cache: &'a mut IdMap<TreeRead>,
    clean: &'a mut IdSet,
    unindexed: &'a mut IdSet,
}
