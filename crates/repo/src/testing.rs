//! Test support, not part of the API: write trees and snapshots as anyone
//! holding the repository key could, including ones no writer of hokan
//! produces (a tree blob is any bytes the key seals). Tests use it to check
//! that readers refuse what a hostile key holder writes.

use hokan_format::{BlobKind, Id, Snapshot, SnapshotSummary};

use crate::error::Result;
use crate::pack::PackBuilder;
use crate::repository::{now_rfc3339, Repository};
use crate::store::{ObjectKind, StoreError};

/// Collects blobs, then writes them in one data pack and one tree pack, an
/// index file for both, and a snapshot manifest.
pub struct Crafter<'a> {
    repo: &'a Repository,
    data: PackBuilder,
    trees: PackBuilder,
}

impl<'a> Crafter<'a> {
    /// A crafter writing into `repo`.
    pub fn new(repo: &'a Repository) -> Crafter<'a> {
        Crafter {
            repo,
            data: PackBuilder::default(),
            trees: PackBuilder::default(),
        }
    }

    /// Add a blob with this plaintext; its id.
    pub fn blob(&mut self, kind: BlobKind, plain: &[u8]) -> Id {
        let id = self.repo.key().blob_id(plain);
        let sealed = self.repo.seal_blob_with_id(kind, &id, plain, None);
        let p = if kind == BlobKind::Tree {
            &mut self.trees
        } else {
            &mut self.data
        };
        p.add(kind, id, &sealed, plain.len());
        id
    }

    /// Add a tree blob whose plaintext is exactly `json` (not checked).
    pub fn tree_json(&mut self, json: &str) -> Id {
        self.blob(BlobKind::Tree, json.as_bytes())
    }

    /// Write the packs and their index, then a snapshot of source `source`
    /// whose root tree is `tree`; the snapshot's id.
    pub fn snapshot(self, tree: Id, source: &str) -> Result<Id> {
        let mut written = Vec::new();
        for p in [self.data, self.trees] {
            if p.is_empty() {
                continue;
            }
            let (name, bytes, entries) = p.finish(self.repo.key());
            match self
                .repo
                .store()
                .put(ObjectKind::Pack, &name.to_hex(), &bytes)
            {
                Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            written.push((name, entries));
        }
        if !written.is_empty() {
            let (file, _) = self.repo.put_index(written.clone())?;
            let mut idx = self.repo.index_mut();
            for (p, e) in &written {
                idx.add_pack(*p, e);
            }
            idx.files.push(file);
        }
        let s = Snapshot {
            version: 1,
            time: now_rfc3339(),
            source: source.into(),
            hostname: "crafted".into(),
            username: "crafted".into(),
            tags: Vec::new(),
            paths: vec!["/crafted".into()],
            tree,
            parent: None,
            partial: false,
            errors: Vec::new(),
            summary: SnapshotSummary::default(),
            program: "crafted by a test".into(),
        };
        Ok(self.repo.put_snapshot(&s)?.0)
    }
}

/// Every kind of hostile snapshot [`craft_hostile`] writes: names that
/// would lead a restore outside its target, or a name twice.
pub const HOSTILE: &[&str] = &[
    "dotdot",
    "absolute",
    "slash-escape",
    "slash",
    "nul",
    "empty",
    "dot",
    "raw-dotdot",
    "raw-slash",
    "symlink-then-dir",
];

fn node(name: &str, raw: Option<&[u8]>, kind: &str) -> serde_json::Value {
    let mut n = serde_json::json!({
        "name": name, "type": kind, "mode": if kind == "dir" { 0o755 } else { 0o644 },
        "uid": 0, "gid": 0, "mtime_ns": 1_000_000_000u64, "ctime_ns": 1_000_000_000u64,
        "inode": 0, "dev": 0, "nlink": 1, "size": 0,
    });
    if let Some(r) = raw {
        n["name_raw"] = hex::encode(r).into();
    }
    n
}

/// Write a snapshot of the hostile kind `case` (one of [`HOSTILE`]) whose
/// files, if a restore ever followed its names, would land in `outside`
/// (a folder outside the restore target, given as an absolute path, or
/// `..` steps away from a target three folders deep). Returns the
/// snapshot's id and the exact bytes of the name a reader must refuse.
pub fn craft_hostile(
    repo: &Repository,
    case: &str,
    outside: &std::path::Path,
) -> Result<(Id, Vec<u8>)> {
    use std::os::unix::ffi::OsStrExt;
    let mut c = Crafter::new(repo);
    let body = format!("written by hostile snapshot {case}\n");
    let data = c.blob(BlobKind::Data, body.as_bytes());
    let file = |name: &str, raw: Option<&[u8]>| {
        let mut n = node(name, raw, "file");
        n["content"] = serde_json::json!([data]);
        n["size"] = body.len().into();
        n
    };
    let abs = outside.join(format!("escaped-{case}"));
    let abs = abs.as_os_str().as_bytes();
    let (nodes, bad): (Vec<serde_json::Value>, Vec<u8>) = match case {
        "dotdot" => {
            // ../../../../escaped-dotdot, one folder at a time.
            let mut t = serde_json::json!({ "nodes": [file("escaped-dotdot", None)] });
            for _ in 0..4 {
                let id = c.tree_json(&t.to_string());
                let mut d = node("..", None, "dir");
                d["subtree"] = serde_json::json!(id);
                t = serde_json::json!({ "nodes": [d] });
            }
            (
                t["nodes"].as_array().cloned().unwrap_or_default(),
                b"..".to_vec(),
            )
        }
        "absolute" => (
            vec![file(&String::from_utf8_lossy(abs), None)],
            abs.to_vec(),
        ),
        "slash-escape" => {
            let n = "../../../../escaped-slash-escape";
            (vec![file(n, None)], n.as_bytes().to_vec())
        }
        "slash" => (vec![file("a/b", None)], b"a/b".to_vec()),
        "nul" => (vec![file("escaped\0nul", None)], b"escaped\0nul".to_vec()),
        "empty" => (vec![file("", None)], Vec::new()),
        "dot" => (vec![file(".", None)], b".".to_vec()),
        "raw-dotdot" => {
            // An innocent `name` over a hostile `name_raw`: the raw bytes
            // are what a restore would use.
            let mut t = serde_json::json!({ "nodes": [file("escaped-raw-dotdot", None)] });
            for _ in 0..4 {
                let id = c.tree_json(&t.to_string());
                let mut d = node("innocent", Some(b".."), "dir");
                d["subtree"] = serde_json::json!(id);
                t = serde_json::json!({ "nodes": [d] });
            }
            (
                t["nodes"].as_array().cloned().unwrap_or_default(),
                b"..".to_vec(),
            )
        }
        "raw-slash" => {
            let raw = b"../../../../\xffescaped-raw-slash".to_vec();
            (vec![file(&String::from_utf8_lossy(&raw), Some(&raw))], raw)
        }
        "symlink-then-dir" => {
            let inner = c.tree_json(
                &serde_json::json!({ "nodes": [file("escaped-symlink-then-dir", None)] })
                    .to_string(),
            );
            let mut l = node("a", None, "symlink");
            l["target"] = String::from_utf8_lossy(outside.as_os_str().as_bytes()).into();
            let mut d = node("a", None, "dir");
            d["subtree"] = serde_json::json!(inner);
            (vec![l, d], b"a".to_vec())
        }
        other => {
            return Err(crate::RepoError::Invalid(format!(
                "no hostile case {other:?}"
            )))
        }
    };
    // The hostile entry sits in a folder, next to an innocent file, so that
    // a reader has to go down a level to meet it.
    let inner = c.tree_json(&serde_json::json!({ "nodes": nodes }).to_string());
    let mut d = node("d", None, "dir");
    d["subtree"] = serde_json::json!(inner);
    let root =
        c.tree_json(&serde_json::json!({ "nodes": [d, file("innocent", None)] }).to_string());
    Ok((c.snapshot(root, case)?, bad))
}
