//! Self-contained copies: the objects another medium must hold so that some
//! snapshots can be restored from it alone (a tape media set, a removable
//! disk, a bucket).
//!
//! A copy holds the config, every key slot (so each passphrase and the paper
//! key open it), the snapshots' manifests, the packs holding any blob their
//! trees reach, and one **fresh index file** describing exactly those packs —
//! the repository's own index files also describe packs the copy does not
//! hold, and a copy whose index points at missing packs would fail `verify`.
//! The order of [`CopyPlan::objects`] is the order to write them in: packs
//! before the index before the manifests, so that a copy cut short holds no
//! manifest whose data is missing.

use hokan_format::{BlobEntry, Id};

use crate::crypto::aad;
use crate::error::{RepoError, Result};
use crate::index::{index_file, IdMap, IdSet};
use crate::store::ObjectKind;
use crate::Repository;
use hokan_format::NodeKind;

/// The objects a copy can hold (every kind but locks) that `store` has
/// already, with their sizes: a copy that resumes sends only the others.
pub fn objects_present(
    store: &dyn crate::store::Store,
) -> std::result::Result<
    std::collections::HashMap<(ObjectKind, String), u64>,
    crate::store::StoreError,
> {
    let mut have = std::collections::HashMap::new();
    for kind in ObjectKind::ALL
        .into_iter()
        .filter(|k| *k != ObjectKind::Lock)
    {
        for o in store.list(kind)? {
            have.insert((kind, o.name), o.size);
        }
    }
    Ok(have)
}

/// One object of a copy.
#[derive(Clone, Debug)]
pub struct CopyObject {
    /// Its kind (decides its folder).
    pub kind: ObjectKind,
    /// Its name in that folder.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The bytes, when the plan made them (the fresh index); `None` means
    /// "read it from the repository's store".
    pub bytes: Option<Vec<u8>>,
}

impl CopyObject {
    /// The object's path in a repository folder (`data/3f/3f…`).
    pub fn path(&self) -> String {
        self.kind.path(&self.name)
    }
}

/// What a self-contained copy of some snapshots holds.
#[derive(Clone, Debug)]
pub struct CopyPlan {
    /// The snapshots, by id.
    pub snapshots: Vec<Id>,
    /// The objects, in the order to write them.
    pub objects: Vec<CopyObject>,
}

impl CopyPlan {
    /// Total bytes of the copy.
    pub fn bytes(&self) -> u64 {
        self.objects.iter().map(|o| o.size).sum()
    }

    /// Number of packs.
    pub fn packs(&self) -> usize {
        self.objects
            .iter()
            .filter(|o| o.kind == ObjectKind::Pack)
            .count()
    }
}

impl Repository {
    /// Plan a self-contained copy of `snapshots` (full ids). Fails, naming
    /// the object, when a snapshot, tree or blob cannot be found: a copy
    /// that cannot restore must not be started.
    pub fn copy_plan(&self, snapshots: &[Id]) -> Result<CopyPlan> {
        self.require_full_index("a copy")?;
        let mut roots = Vec::new();
        for id in snapshots {
            let s = self.read_snapshot(&id.to_hex())?;
            roots.push(s.tree);
        }
        let used = self.blobs_reachable(roots)?;
        let index = self.index();
        let mut packs: IdMap<Vec<BlobEntry>> = IdMap::default();
        for id in &used {
            let loc = index.get(id).ok_or_else(|| RepoError::Corrupt {
                what: format!("blob {id}"),
                detail: "is needed by a snapshot to copy but is in no pack (run `hokan verify`)"
                    .into(),
            })?;
            packs.entry(index.pack_name(loc.pack)).or_default();
        }
        // The copy's index describes its packs whole: every blob in them.
        for (pack, entries) in index.by_pack() {
            if let Some(e) = packs.get_mut(&pack) {
                *e = entries;
            }
        }
        drop(index);
        let mut pack_list: Vec<(Id, Vec<BlobEntry>)> = packs.into_iter().collect();
        pack_list.sort_by_key(|(p, _)| *p);

        let mut objects = Vec::new();
        let info = |kind| -> Result<IdMap<u64>> {
            Ok(self
                .store()
                .list(kind)?
                .into_iter()
                .filter_map(|o| Id::from_hex(&o.name).ok().map(|id| (id, o.size)))
                .collect())
        };
        objects.push(CopyObject {
            kind: ObjectKind::Config,
            name: "config".into(),
            size: self.store().get(ObjectKind::Config, "config")?.len() as u64,
            bytes: None,
        });
        for k in self.store().list(ObjectKind::Key)? {
            objects.push(CopyObject {
                kind: ObjectKind::Key,
                name: k.name,
                size: k.size,
                bytes: None,
            });
        }
        let pack_sizes = info(ObjectKind::Pack)?;
        for (pack, _) in &pack_list {
            let size = *pack_sizes.get(pack).ok_or_else(|| RepoError::Corrupt {
                what: format!("pack {pack}"),
                detail: "is in the index but missing from the repository (run `hokan verify`)"
                    .into(),
            })?;
            objects.push(CopyObject {
                kind: ObjectKind::Pack,
                name: pack.to_hex(),
                size,
                bytes: None,
            });
        }
        let file = index_file(pack_list);
        let sealed =
            self.key()
                .seal_compressed(&file.encode(), self.config().zstd_level, aad::INDEX);
        objects.push(CopyObject {
            kind: ObjectKind::Index,
            name: crate::crypto::object_name(&sealed).to_hex(),
            size: sealed.len() as u64,
            bytes: Some(sealed),
        });
        let snap_sizes = info(ObjectKind::Snapshot)?;
        for id in snapshots {
            objects.push(CopyObject {
                kind: ObjectKind::Snapshot,
                name: id.to_hex(),
                size: snap_sizes.get(id).copied().unwrap_or(0),
                bytes: None,
            });
        }
        Ok(CopyPlan {
            snapshots: snapshots.to_vec(),
            objects,
        })
    }

    /// Read one object of a plan: its own bytes, or the store's.
    pub fn copy_object_bytes(&self, o: &CopyObject) -> Result<Vec<u8>> {
        match &o.bytes {
            Some(b) => Ok(b.clone()),
            None => Ok(self.store().get(o.kind, &o.name)?),
        }
    }

    /// Every blob (data and tree) reachable from these trees.
    pub(crate) fn blobs_reachable(&self, roots: Vec<Id>) -> Result<IdSet> {
        let mut used = IdSet::default();
        let mut stack = roots;
        while let Some(t) = stack.pop() {
            if !used.insert(t) {
                continue;
            }
            let tree = self.read_tree(&t).map_err(|e| {
                RepoError::Invalid(format!(
                    "tree {t} is unreadable ({e}); cannot tell what the snapshot needs. Run `hokan verify`"
                ))
            })?;
            for n in tree.nodes {
                if n.kind == NodeKind::Dir {
                    if let Some(s) = n.subtree {
                        stack.push(s);
                    }
                }
                used.extend(n.content);
            }
        }
        Ok(used)
    }
}
