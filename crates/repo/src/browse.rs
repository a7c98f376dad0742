//! Looking into snapshots: listing a path, and what changed between two.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hokan_format::{Id, Node, NodeKind};
use serde::Serialize;

use crate::error::{RepoError, Result};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::meta::node_name;
use crate::repository::Repository;
use crate::restore::Entry;

/// One difference between two snapshots.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Change {
    /// `+` added, `-` removed, `M` content changed, `T` type changed, `U` metadata only.
    pub change: &'static str,
    /// Path inside the snapshots.
    pub path: String,
}

impl Repository {
    /// Entries at and below `path` (relative to the snapshot root; empty for all).
    pub fn ls(&self, snapshot: &Id, path: &str) -> Result<Vec<Entry>> {
        let snap = self.read_snapshot(&snapshot.to_hex())?;
        let want: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let mut tree = snap.tree;
        let mut base = PathBuf::new();
        for (i, comp) in want.iter().enumerate() {
            let t = self.read_tree(&tree)?;
            let node = t
                .nodes
                .into_iter()
                .find(|n| node_name(n) == comp.as_bytes())
                .ok_or_else(|| {
                    RepoError::Invalid(format!("{path:?} is not in snapshot {}", snapshot.short()))
                })?;
            base.push(comp);
            match (node.kind, node.subtree) {
                (NodeKind::Dir, Some(s)) => tree = s,
                _ if i + 1 == want.len() => {
                    return Ok(vec![Entry { rel: base, node }]);
                }
                _ => {
                    return Err(RepoError::Invalid(format!(
                        "{path:?}: {comp} is not a folder"
                    )))
                }
            }
        }
        let mut out = Vec::new();
        self.walk(&tree, &base, &mut out)?;
        Ok(out)
    }

    /// What changed from snapshot `a` to snapshot `b`. Subtrees with the same
    /// id are identical and skipped without reading.
    pub fn diff(&self, a: &Id, b: &Id) -> Result<Vec<Change>> {
        let sa = self.read_snapshot(&a.to_hex())?;
        let sb = self.read_snapshot(&b.to_hex())?;
        let mut out = Vec::new();
        self.diff_trees(Some(sa.tree), Some(sb.tree), Path::new(""), &mut out)?;
        Ok(out)
    }

    fn diff_trees(
        &self,
        a: Option<Id>,
        b: Option<Id>,
        at: &Path,
        out: &mut Vec<Change>,
    ) -> Result<()> {
        if a == b {
            return Ok(());
        }
        let load = |t: Option<Id>| -> Result<BTreeMap<Vec<u8>, Node>> {
            Ok(match t {
                Some(t) => self
                    .read_tree(&t)?
                    .nodes
                    .into_iter()
                    .map(|n| (node_name(&n), n))
                    .collect(),
                None => BTreeMap::new(),
            })
        };
        let (ma, mb) = (load(a)?, load(b)?);
        let mut names: Vec<&Vec<u8>> = ma.keys().chain(mb.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let p = at.join(OsStr::from_bytes(name));
            let ps = p.display().to_string();
            match (ma.get(name), mb.get(name)) {
                (None, Some(n)) => {
                    out.push(Change {
                        change: "+",
                        path: ps,
                    });
                    if n.kind == NodeKind::Dir {
                        self.diff_trees(None, n.subtree, &p, out)?;
                    }
                }
                (Some(n), None) => {
                    out.push(Change {
                        change: "-",
                        path: ps,
                    });
                    if n.kind == NodeKind::Dir {
                        self.diff_trees(n.subtree, None, &p, out)?;
                    }
                }
                (Some(x), Some(y)) => {
                    if x.kind != y.kind {
                        out.push(Change {
                            change: "T",
                            path: ps,
                        });
                    } else if x.kind == NodeKind::Dir {
                        self.diff_trees(x.subtree, y.subtree, &p, out)?;
                    } else if x.content != y.content || x.target != y.target || x.size != y.size {
                        out.push(Change {
                            change: "M",
                            path: ps,
                        });
                    } else if x.mode != y.mode
                        || x.uid != y.uid
                        || x.gid != y.gid
                        || x.mtime_ns != y.mtime_ns
                    {
                        out.push(Change {
                            change: "U",
                            path: ps,
                        });
                    }
                }
                (None, None) => {}
            }
        }
        Ok(())
    }
}
