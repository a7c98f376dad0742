//! JSON documents: repository config, key slots, snapshots and trees.
//!
//! JSON is used where a person or another implementation benefits from a
//! self-describing document and where size does not matter much. Unknown
//! fields are rejected in the config (a newer writer must bump the version)
//! and ignored elsewhere (so optional fields can be added compatibly).

use serde::{Deserialize, Serialize};

use crate::{FormatError, Id, FORMAT_VERSION};

/// Content-defined chunking parameters (FastCDC 2020, normalization level 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkerParams {
    /// Smallest chunk, bytes.
    pub min_size: u32,
    /// Target average chunk, bytes.
    pub avg_size: u32,
    /// Largest chunk, bytes.
    pub max_size: u32,
}

impl Default for ChunkerParams {
    /// 512 KiB / 1 MiB / 8 MiB: large enough that a 10 TiB site keeps its
    /// index in memory, small enough that appended logs and new PACS studies
    /// dedup well.
    fn default() -> Self {
        ChunkerParams {
            min_size: 512 * 1024,
            avg_size: 1024 * 1024,
            max_size: 8 * 1024 * 1024,
        }
    }
}

/// The `config` object: plaintext, holds no secret and no user data.
/// Read first, before any key, so that a newer format is refused cleanly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// Format version ([`FORMAT_VERSION`] when written by this build).
    pub version: u32,
    /// Random repository id.
    pub id: Id,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Chunking parameters.
    pub chunker: ChunkerParams,
    /// Target pack size in bytes.
    pub pack_size: u32,
    /// zstd level used for new blobs (readers do not need it).
    pub zstd_level: i32,
    /// Version 2 on: keyed BLAKE3 of [`RepoConfig::authenticated_bytes`]
    /// under the metadata key. Absent in version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Id>,
}

/// Append a length-prefixed (u32 LE) byte string.
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

impl RepoConfig {
    /// Parse, and refuse versions newer than this build reads.
    pub fn decode(b: &[u8]) -> Result<RepoConfig, FormatError> {
        // Look at the version before the strict parse, so a newer config with
        // new fields gets "upgrade hokan", not "unknown field".
        #[derive(Deserialize)]
        struct V {
            version: u32,
        }
        let v: V = serde_json::from_slice(b).map_err(|source| FormatError::Json {
            what: "repository config",
            source,
        })?;
        if v.version == 0 {
            return Err(FormatError::Invalid {
                what: "repository config",
                field: "version",
                detail: "0 (no hokan ever wrote version 0)".into(),
            });
        }
        if v.version > FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion {
                what: "repository",
                found: v.version,
                supported: FORMAT_VERSION,
            });
        }
        let c: RepoConfig = serde_json::from_slice(b).map_err(|source| FormatError::Json {
            what: "repository config",
            source,
        })?;
        let ch = c.chunker;
        if !(64..=ch.avg_size).contains(&ch.min_size)
            || ch.avg_size > ch.max_size
            || ch.max_size > 16 * 1024 * 1024
            || c.pack_size < 1024
        {
            return Err(FormatError::Invalid {
                what: "repository config",
                field: "chunker",
                detail: format!("{ch:?}, pack size {}", c.pack_size),
            });
        }
        match (c.version, c.mac.is_some()) {
            (1, true) => {
                return Err(FormatError::Invalid {
                    what: "repository config",
                    field: "version",
                    detail: "1, but the config carries a MAC, which only version 2 on has: \
                             a version-2 config whose version was changed"
                        .into(),
                })
            }
            (1, false) => {}
            (_, false) => {
                return Err(FormatError::Invalid {
                    what: "repository config",
                    field: "mac",
                    detail: "missing".into(),
                })
            }
            (_, true) => {
                // One canonical form, so that a changed byte anywhere (also in
                // white space, or a hex digit's case) is damage, not ignored.
                if serde_json::to_vec_pretty(&c).expect("config serializes") != b {
                    return Err(FormatError::Invalid {
                        what: "repository config",
                        field: "layout",
                        detail: "not in the canonical form hokan writes (bytes changed)".into(),
                    });
                }
            }
        }
        Ok(c)
    }

    /// The bytes the config's MAC covers (version 2 on; see
    /// docs/repository-format.md §3): independent of JSON formatting.
    pub fn authenticated_bytes(&self) -> Vec<u8> {
        let mut out = b"hokan config v2".to_vec();
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.id.0);
        put_bytes(&mut out, self.created.as_bytes());
        for v in [
            self.chunker.min_size,
            self.chunker.avg_size,
            self.chunker.max_size,
            self.pack_size,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.zstd_level.to_le_bytes());
        out
    }
}

/// Argon2id parameters of a key slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
    /// Random salt.
    #[serde(with = "hex_bytes")]
    pub salt: Vec<u8>,
}

/// A key slot (`keys/<name>`): the master secret wrapped by a passphrase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySlot {
    /// Key slot format version: 1 in version-1 repositories, 2
    /// ([`KEY_SLOT_VERSION`]) from repository version 2 on.
    pub version: u32,
    /// When it was added, RFC 3339.
    pub created: String,
    /// Host that added it.
    pub hostname: String,
    /// User that added it.
    pub username: String,
    /// A free label ("night operator", "paper key recovery").
    #[serde(default)]
    pub label: String,
    /// How the wrapping key is derived from the passphrase.
    pub kdf: KdfParams,
    /// nonce (12) | AES-256-GCM ciphertext of the 32-byte master secret | tag (16).
    #[serde(with = "hex_bytes")]
    pub wrapped: Vec<u8>,
    /// Version 2: keyed BLAKE3 of [`KeySlot::authenticated_bytes`] under the
    /// metadata key. Absent in version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Id>,
}

/// The key slot version written in version-2 repositories.
pub const KEY_SLOT_VERSION: u32 = 2;

impl KeySlot {
    /// Parse a key slot document.
    pub fn decode(b: &[u8]) -> Result<KeySlot, FormatError> {
        let k: KeySlot = serde_json::from_slice(b).map_err(|source| FormatError::Json {
            what: "key slot",
            source,
        })?;
        if k.version == 0 || k.version > KEY_SLOT_VERSION {
            return Err(FormatError::UnsupportedVersion {
                what: "key slot",
                found: k.version,
                supported: KEY_SLOT_VERSION,
            });
        }
        match (k.version, k.mac.is_some()) {
            (1, true) => {
                return Err(FormatError::Invalid {
                    what: "key slot",
                    field: "version",
                    detail: "1, but the slot carries a MAC, which only version 2 has: \
                             a version-2 slot whose version was changed"
                        .into(),
                })
            }
            (2, false) => {
                return Err(FormatError::Invalid {
                    what: "key slot",
                    field: "mac",
                    detail: "missing".into(),
                })
            }
            _ => {}
        }
        if k.kdf.algorithm != "argon2id" {
            return Err(FormatError::Invalid {
                what: "key slot",
                field: "kdf.algorithm",
                detail: k.kdf.algorithm,
            });
        }
        Ok(k)
    }

    /// The bytes a version-2 slot's MAC covers (docs/repository-format.md §4).
    pub fn authenticated_bytes(&self) -> Vec<u8> {
        let mut out = b"hokan key slot v2".to_vec();
        out.extend_from_slice(&self.version.to_le_bytes());
        for s in [
            &self.created,
            &self.hostname,
            &self.username,
            &self.label,
            &self.kdf.algorithm,
        ] {
            put_bytes(&mut out, s.as_bytes());
        }
        for v in [self.kdf.m_cost, self.kdf.t_cost, self.kdf.p_cost] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        put_bytes(&mut out, &self.kdf.salt);
        put_bytes(&mut out, &self.wrapped);
        out
    }
}

/// What a backup run counted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSummary {
    /// Files not in the parent snapshot.
    pub files_new: u64,
    /// Files whose metadata changed since the parent (re-read).
    pub files_changed: u64,
    /// Files reused from the parent without reading.
    pub files_unchanged: u64,
    /// Directories.
    pub dirs: u64,
    /// Bytes of file content read.
    pub bytes_read: u64,
    /// Total size of the files in the snapshot.
    pub bytes_total: u64,
    /// Bytes written to the store (after dedup, compression, encryption).
    pub bytes_added: u64,
    /// New blobs stored.
    pub blobs_added: u64,
    /// Wall-clock seconds.
    pub duration_secs: f64,
}

/// A path that could not be read, recorded in a partial snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotError {
    /// The path.
    pub path: String,
    /// What went wrong.
    pub error: String,
}

/// A snapshot manifest (`snapshots/<name>`): one generation of one source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Snapshot format version (1).
    pub version: u32,
    /// When the backup started, RFC 3339 UTC.
    pub time: String,
    /// The source's name (from the site config, or the command line).
    pub source: String,
    /// Host that made it.
    pub hostname: String,
    /// User that made it.
    pub username: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The absolute paths that were backed up, each a top-level entry of the root tree.
    pub paths: Vec<String>,
    /// The root tree blob.
    pub tree: Id,
    /// The snapshot this one was made incrementally against.
    #[serde(default)]
    pub parent: Option<Id>,
    /// True if some files could not be read (see `errors`).
    #[serde(default)]
    pub partial: bool,
    /// What could not be read.
    #[serde(default)]
    pub errors: Vec<SnapshotError>,
    /// Counters of the run.
    #[serde(default)]
    pub summary: SnapshotSummary,
    /// The program that wrote it (`hokan 0.1.0`).
    pub program: String,
}

impl Snapshot {
    /// Parse a snapshot manifest.
    pub fn decode(b: &[u8]) -> Result<Snapshot, FormatError> {
        let s: Snapshot = serde_json::from_slice(b).map_err(|source| FormatError::Json {
            what: "snapshot",
            source,
        })?;
        if s.version != 1 {
            return Err(FormatError::UnsupportedVersion {
                what: "snapshot",
                found: s.version,
                supported: 1,
            });
        }
        Ok(s)
    }
}

/// The type of a tree entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Named pipe.
    Fifo,
    /// Character device.
    Chardev,
    /// Block device.
    Blockdev,
    /// Unix socket (recorded, not restored).
    Socket,
}

/// One entry of a directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// File name (UTF-8). Names that are not UTF-8 are stored in `name_raw`
    /// and this holds a lossy rendering.
    pub name: String,
    /// The exact name bytes, hex, when the name is not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_raw: Option<String>,
    /// Entry type.
    #[serde(rename = "type")]
    pub kind: NodeKind,
    /// Permission bits including setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Owner name, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Group name, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Status change time, nanoseconds since the Unix epoch (change detection only).
    pub ctime_ns: i64,
    /// Inode number (change detection and hard links).
    pub inode: u64,
    /// Device number of the file system (hard links).
    pub dev: u64,
    /// Link count; >1 with the same (dev, inode) means hard links.
    pub nlink: u64,
    /// Size in bytes (files).
    #[serde(default)]
    pub size: u64,
    /// Data blobs, in order, whose plaintexts concatenate to the file (files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Id>,
    /// The tree blob of this directory (dirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtree: Option<Id>,
    /// Link target (symlinks), UTF-8 or lossy; exact bytes in `target_raw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Exact target bytes, hex, when not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_raw: Option<String>,
    /// Device number (device nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdev: Option<u64>,
    /// True if the file could not be read completely: its content is missing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

/// A directory listing, sorted by name bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// The entries.
    pub nodes: Vec<Node>,
}

impl Node {
    /// The exact bytes of this entry's name: `name_raw` decoded when present,
    /// else `name`. `None` when `name_raw` is not hex.
    pub fn name_bytes(&self) -> Option<Vec<u8>> {
        match &self.name_raw {
            Some(h) => hex::decode(h).ok(),
            None => Some(self.name.as_bytes().to_vec()),
        }
    }
}

/// Why `name` cannot be the name of an entry in a folder, or `None` if it
/// can. A name is one path component: not empty, not `.` or `..`, without
/// `/` and without NUL. Anything else could make a restore write somewhere
/// other than inside its target.
pub fn unsafe_name_reason(name: &[u8]) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name == b"." || name == b".." {
        Some("is a reference to a folder, not a name")
    } else if name.contains(&b'/') {
        Some("contains `/`")
    } else if name.contains(&0) {
        Some("contains NUL")
    } else {
        None
    }
}

/// A name as it can be shown: quoted, with control characters and (for
/// names that are not UTF-8) every non-ASCII byte escaped.
pub fn escape_name(name: &[u8]) -> String {
    match std::str::from_utf8(name) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("\"{}\"", name.escape_ascii()),
    }
}

impl Tree {
    /// Parse a tree blob's plaintext, and refuse names that are not one safe
    /// path component ([`unsafe_name_reason`], in `name` and in `name_raw`)
    /// or that appear twice: see [`Tree::check_names`].
    pub fn decode(b: &[u8]) -> Result<Tree, FormatError> {
        let t: Tree = serde_json::from_slice(b).map_err(|source| FormatError::Json {
            what: "tree",
            source,
        })?;
        t.check_names()?;
        Ok(t)
    }

    /// Every name is one safe path component, `name_raw` (when present) is
    /// hex, and no name (exact bytes) appears twice. A writer never produces
    /// anything else; a tree that breaks this is damaged or was crafted by
    /// someone holding the repository key to make a restore write outside
    /// its target (`..`, `/etc/passwd`, or a symlink followed by a folder of
    /// the same name).
    pub fn check_names(&self) -> Result<(), FormatError> {
        let mut seen = std::collections::HashSet::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let Some(raw) = n.name_bytes() else {
                return Err(FormatError::Invalid {
                    what: "tree",
                    field: "name_raw",
                    detail: format!(
                        "{} is not hex (entry {})",
                        escape_name(n.name_raw.as_deref().unwrap_or_default().as_bytes()),
                        escape_name(n.name.as_bytes())
                    ),
                });
            };
            for candidate in [raw.as_slice(), n.name.as_bytes()] {
                if let Some(reason) = unsafe_name_reason(candidate) {
                    return Err(FormatError::UnsafeName {
                        name: escape_name(candidate),
                        reason,
                    });
                }
            }
            if !seen.insert(raw) {
                return Err(FormatError::UnsafeName {
                    name: escape_name(&n.name_bytes().unwrap_or_default()),
                    reason: "appears twice in one folder",
                });
            }
        }
        Ok(())
    }
    /// Encode as a tree blob's plaintext (compact JSON).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a tree always serializes")
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_repository_version_is_refused_with_upgrade_hint() {
        let b = br#"{"version": 3, "id": "00", "something_new": true}"#;
        let e = RepoConfig::decode(b).unwrap_err();
        assert!(
            matches!(e, FormatError::UnsupportedVersion { found: 3, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("Upgrade hokan"));
    }

    fn tree_of(names: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
        let nodes: Vec<serde_json::Value> = names
            .iter()
            .map(|(n, raw)| {
                let mut v = serde_json::json!({"name": n, "type": "file", "mode": 420, "uid": 0,
                    "gid": 0, "mtime_ns": 0, "ctime_ns": 0, "inode": 0, "dev": 0, "nlink": 1});
                if let Some(r) = raw {
                    v["name_raw"] = hex::encode(r).into();
                }
                v
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "nodes": nodes })).unwrap()
    }

    #[test]
    fn trees_with_unsafe_names_are_refused() {
        let bad: &[(&str, Option<&[u8]>, &str)] = &[
            ("..", None, "\"..\""),
            (".", None, "\".\""),
            ("", None, "\"\""),
            ("/etc/passwd", None, "\"/etc/passwd\""),
            ("a/b", None, "\"a/b\""),
            ("a\0b", None, "\"a\\0b\""),
            ("innocent", Some(b".."), "\"..\""),
            ("x", Some(b"../\xffx"), "\"../\\xffx\""),
            ("x", Some(b"\xff\0"), "\"\\xff\\x00\""),
            ("..", Some(b"\xff"), "\"..\""),
        ];
        for (name, raw, shown) in bad {
            let e = Tree::decode(&tree_of(&[(name, *raw)])).unwrap_err();
            match &e {
                FormatError::UnsafeName { name, .. } => assert_eq!(name, shown, "{e}"),
                other => panic!("{name:?}: {other}"),
            }
        }
        let e = Tree::decode(&tree_of(&[("a", None), ("a", None)])).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let e = Tree::decode(&tree_of(&[("a", None), ("\u{fffd}", Some(b"a"))])).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let mut not_hex = tree_of(&[("a", None)]);
        not_hex = String::from_utf8(not_hex)
            .unwrap()
            .replace(r#""name":"a""#, r#""name":"a","name_raw":"zz""#)
            .into_bytes();
        assert!(Tree::decode(&not_hex).is_err());
    }

    #[test]
    fn ordinary_names_including_raw_ones_are_accepted() {
        let t = Tree::decode(&tree_of(&[
            ("...", None),
            ("..a", None),
            (".hidden", None),
            ("カルテ.pdf", None),
            ("\u{fffd}", Some(b"\xff")),
            ("\u{fffd}", Some(b"\xfe")),
            ("a\\b", None),
        ]))
        .unwrap();
        assert_eq!(t.nodes.len(), 7);
        assert_eq!(t.nodes[4].name_bytes().unwrap(), b"\xff");
    }

    #[test]
    fn config_round_trips() {
        let c = RepoConfig {
            version: 1,
            id: Id([7; 32]),
            created: "2026-11-22T00:00:00Z".into(),
            chunker: ChunkerParams::default(),
            pack_size: 8 << 20,
            zstd_level: 3,
            mac: None,
        };
        let b = serde_json::to_vec(&c).unwrap();
        assert_eq!(RepoConfig::decode(&b).unwrap(), c);
        let c2 = RepoConfig {
            version: 2,
            mac: Some(Id([9; 32])),
            ..c.clone()
        };
        let b = serde_json::to_vec_pretty(&c2).unwrap();
        assert_eq!(RepoConfig::decode(&b).unwrap(), c2);
        // v2 must be canonical; v1 with a MAC is a downgraded v2.
        let loose = serde_json::to_vec(&c2).unwrap();
        assert!(RepoConfig::decode(&loose).is_err());
        let down = String::from_utf8(b)
            .unwrap()
            .replace("\"version\": 2", "\"version\": 1");
        assert!(RepoConfig::decode(down.as_bytes()).is_err());
        let nomac = serde_json::to_vec_pretty(&RepoConfig { mac: None, ..c2 }).unwrap();
        assert!(RepoConfig::decode(&nomac).is_err());
    }
}
