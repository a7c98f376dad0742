//! Objects as they were first written: re-checking that a copy's objects
//! are still there and locked, and small objects outside the repository
//! layout (catalog anchors).
//!
//! Everything here works on each object's **first version** (the oldest
//! that is not a delete marker): hokan writes an object once and never
//! overwrites it, so the first version is the one hokan wrote and locked.
//! An attacker holding the credentials can add versions and delete markers
//! on top; that changes nothing here. What it can do on a server that lets
//! a COMPLIANCE retention be shortened (moto does; AWS does not) is shorten
//! the first version's lock and then delete it: [`S3Store::check_objects`]
//! finds exactly that.

use std::collections::HashMap;

use hokan_repo::store::ObjectKind;
use time::OffsetDateTime;

use crate::error::S3Error;
use crate::requests::ceil_secs;
use crate::{LockMode, ObjectLockState, S3Store};

/// The first version of every object under the store's prefix, from one
/// listing of the versions: key → version id.
#[derive(Clone, Debug, Default)]
pub struct FirstVersions {
    first: HashMap<String, (aws_smithy_types::DateTime, String, u64)>,
}

impl FirstVersions {
    /// The first version's id of a full key, if the key has any version.
    pub fn version(&self, key: &str) -> Option<&str> {
        self.first.get(key).map(|(_, v, _)| v.as_str())
    }

    /// The first version's size of a full key.
    pub fn size(&self, key: &str) -> Option<u64> {
        self.first.get(key).map(|(_, _, s)| *s)
    }

    /// Every key that has a version.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.first.keys().map(String::as_str)
    }

    /// How many keys have a version.
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// Whether no key has a version.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }
}

/// What is wrong with one object a copy needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectFault {
    /// The object has no version at all: it was deleted (or never written).
    Missing,
    /// Its first version has no retention in force at the time of the
    /// check (none, or one that has ended), and no legal hold.
    Unlocked {
        /// The lock as HeadObject reported it.
        state: ObjectLockState,
    },
    /// Its first version is locked, but only until before the date the
    /// catalog recorded for the copy: the retention was shortened.
    Shortened {
        /// The lock as HeadObject reported it.
        state: ObjectLockState,
        /// The end of the retention the catalog recorded.
        recorded: OffsetDateTime,
    },
    /// Its first version is locked in GOVERNANCE mode while COMPLIANCE was
    /// asked for.
    WeakerMode {
        /// The lock as HeadObject reported it.
        state: ObjectLockState,
    },
}

/// One object of a copy that is not as it should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectFinding {
    /// The object's kind.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// Its full key in the bucket.
    pub key: String,
    /// What is wrong.
    pub fault: ObjectFault,
}

/// What the store must find for every object of a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockExpectation {
    /// Locked at least until this instant (the date the catalog recorded
    /// for the copy); `None`: locked at all, at the time of the check.
    pub until: Option<OffsetDateTime>,
    /// The mode asked for; a COMPLIANCE copy found in GOVERNANCE mode is
    /// reported.
    pub mode: Option<LockMode>,
}

impl S3Store {
    /// One listing of every object version under the store's prefix; the
    /// first version of each key. Needed by [`S3Store::check_objects`]; list
    /// once, check many copies.
    pub fn first_versions(&self) -> Result<FirstVersions, S3Error> {
        let prefix = self.prefix().to_string();
        self.block_on(async {
            let mut out = FirstVersions::default();
            for (key, id, at, size) in self.versions_under(&prefix).await? {
                // Listed newest first: on a tie (one-second resolution) the
                // later one listed is the older.
                let e = out.first.entry(key).or_insert((at, id.clone(), size));
                if at <= e.0 {
                    *e = (at, id, size);
                }
            }
            Ok(out)
        })
    }

    /// Check that each of `objects` exists (a first version) and that its
    /// first version is locked as `expect` says, at `now`. Returns what is
    /// wrong, object by object (empty: the copy's objects are whole and
    /// locked). Fails only if the bucket cannot be read.
    pub fn check_objects(
        &self,
        listed: &FirstVersions,
        objects: &[(ObjectKind, String)],
        expect: LockExpectation,
        now: OffsetDateTime,
    ) -> Result<Vec<ObjectFinding>, S3Error> {
        let mut out = Vec::new();
        for (kind, name) in objects {
            let key = self.key(*kind, name);
            let finding = |fault| ObjectFinding {
                kind: *kind,
                name: name.clone(),
                key: key.clone(),
                fault,
            };
            let Some(version) = listed.version(&key) else {
                out.push(finding(ObjectFault::Missing));
                continue;
            };
            let state = match self.block_on(self.lock_of_key(&key, Some(version))) {
                Ok(state) => state,
                // Deleted since the listing.
                Err(S3Error::NotFound { .. }) => {
                    out.push(finding(ObjectFault::Missing));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if state.legal_hold {
                continue;
            }
            let until = match (state.mode, state.retain_until) {
                (Some(_), Some(until)) if until > now => until,
                _ => {
                    out.push(finding(ObjectFault::Unlocked { state }));
                    continue;
                }
            };
            // Dates are whole seconds on the wire; allow the rounding.
            if let Some(recorded) = expect.until {
                if until + time::Duration::seconds(1) < ceil_secs(recorded) {
                    out.push(finding(ObjectFault::Shortened { state, recorded }));
                    continue;
                }
            }
            if expect.mode == Some(LockMode::Compliance) && state.mode == Some(LockMode::Governance)
            {
                out.push(finding(ObjectFault::WeakerMode { state }));
            }
        }
        Ok(out)
    }

    /// Write a small object at `path` under the prefix (outside the
    /// repository's folders, e.g. `anchors/…`), under the store's lock,
    /// never replacing an existing object. `Ok(false)`: an object (any
    /// version) was already there; nothing was written.
    pub fn put_once_at(&self, path: &str, data: &[u8]) -> Result<bool, S3Error> {
        let key = self.extra_key(path)?;
        let lock = self
            .cfg
            .lock
            .map(|l| (l.mode, ceil_secs(OffsetDateTime::now_utc() + l.retention)));
        self.block_on(async {
            if self.versions_under(&key).await?.iter().any(|v| v.0 == key) {
                return Ok(false);
            }
            match self
                .put_key(&key, bytes::Bytes::copy_from_slice(data), lock, true)
                .await
            {
                // A server that ignores If-None-Match (Ceph RGW on a versioned
                // bucket): the first version wins.
                Ok(Some(version)) if version != "null" => {
                    self.settle_race(&key, &version, lock).await
                }
                Ok(_) => Ok(true),
                Err(e) if e.code() == Some("PreconditionFailed") => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    /// The objects under `folder` (a path under the prefix, e.g.
    /// `anchors/`), from their versions: (path relative to the prefix,
    /// size of the first version). Objects hidden by a delete marker or
    /// overwritten are listed with their first version.
    pub fn list_first_at(&self, folder: &str) -> Result<Vec<(String, u64)>, S3Error> {
        let key = self.extra_key(folder)?;
        self.block_on(async {
            let mut first: std::collections::BTreeMap<String, (aws_smithy_types::DateTime, u64)> =
                Default::default();
            for (k, _, at, size) in self.versions_under(&key).await? {
                let Some(rel) = k.strip_prefix(self.prefix()) else {
                    continue;
                };
                let e = first.entry(rel.to_string()).or_insert((at, size));
                if at <= e.0 {
                    *e = (at, size);
                }
            }
            Ok(first.into_iter().map(|(k, (_, s))| (k, s)).collect())
        })
    }

    /// The first version of the object at `path` under the prefix, at most
    /// `max_bytes` of it (a hostile bucket must not make hokan read
    /// gigabytes): `Config` error if it is larger.
    pub fn get_first_at(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, S3Error> {
        let key = self.extra_key(path)?;
        self.block_on(async {
            let version = self.first_version(&key).await?;
            let head = self.head_key(&key, Some(&version)).await?;
            let size = head.content_length().unwrap_or(0).max(0) as u64;
            if size > max_bytes {
                return Err(S3Error::Config {
                    bucket: self.cfg.bucket.clone(),
                    what: format!("{key} is {size} bytes, more than the {max_bytes} expected"),
                });
            }
            let _permit = self.permit().await;
            let out = self
                .client
                .get_object()
                .bucket(&self.cfg.bucket)
                .key(&key)
                .version_id(version)
                .range(format!("bytes=0-{}", max_bytes.saturating_sub(1)))
                .send()
                .await
                .map_err(|e| self.err("GetObject", &key, crate::requests::SdkErr::from(e)))?;
            let data = out.body.collect().await.map_err(|e| S3Error::Request {
                op: "GetObject",
                bucket: self.cfg.bucket.clone(),
                key: key.clone(),
                detail: format!("the connection broke while reading ({e})"),
                code: None,
                transient: true,
                source: Box::new(e),
            })?;
            let mut data = data.into_bytes().to_vec();
            data.truncate(max_bytes as usize);
            Ok(data)
        })
    }

    /// The lock of the first version of the object at `path` under the
    /// prefix.
    pub fn first_lock_at(&self, path: &str) -> Result<ObjectLockState, S3Error> {
        let key = self.extra_key(path)?;
        self.block_on(async {
            let version = self.first_version(&key).await?;
            self.lock_of_key(&key, Some(&version)).await
        })
    }

    /// The full key of a path outside the repository's folders.
    fn extra_key(&self, path: &str) -> Result<String, S3Error> {
        let first = path.split('/').next().unwrap_or("");
        let taken = ObjectKind::ALL
            .iter()
            .any(|k| k.dir() == first || (first == "config" && *k == ObjectKind::Config))
            || first == "hokan-probe";
        if path.is_empty()
            || taken
            || path.starts_with('/')
            || path.split('/').any(|p| p == ".." || p == ".")
        {
            return Err(S3Error::Config {
                bucket: self.cfg.bucket.clone(),
                what: format!("{path:?} is not a path outside the repository's folders"),
            });
        }
        Ok(format!("{}{path}", self.prefix()))
    }
}
