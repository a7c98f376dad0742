//! [`MemStore`]: the store contract in memory, for fast engine tests.
//!
//! It keeps the same rules as [`crate::LocalStore`] — put once, the same
//! object names, `NotFound` and `AlreadyExists` in the same places — and
//! passes the same [conformance suite](crate::conformance), so an engine test
//! that passes on it means something for real stores. What it cannot show is
//! durability: everything is gone when it is dropped. Crash tests belong on a
//! local store or a fault store.
//!
//! Puts are atomic by construction: an object is inserted complete under the
//! write lock, so a concurrent reader sees all of it or nothing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use hokan_repo::store::{ObjectInfo, ObjectKind, Protection, Store, StoreError};

use crate::{check_name, invalid_name};

/// Numbers each `MemStore`, so two of them in one test describe themselves
/// differently in error messages.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct MemObject {
    data: Arc<[u8]>,
    protection: Protection,
}

/// An in-memory store. Cheap to make; safe to share between threads.
pub struct MemStore {
    description: String,
    objects: RwLock<BTreeMap<(ObjectKind, String), MemObject>>,
}

impl Default for MemStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemStore")
            .field("description", &self.description)
            .field("objects", &self.object_count())
            .finish()
    }
}

impl MemStore {
    /// An empty store, described as `mem:<n>`.
    pub fn new() -> Self {
        MemStore {
            description: format!("mem:{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)),
            objects: RwLock::new(BTreeMap::new()),
        }
    }

    /// Mark an object as protected, the way a retention lock or an immutable
    /// flag would. While [`Protection::Until`] lies in the future or the
    /// protection is [`Protection::Indefinite`], `delete` returns
    /// [`StoreError::Protected`]. [`Protection::Unknown`] does not stop a
    /// deletion (the store "cannot tell"), but `protection` reports it, so
    /// engine code that must handle it can be tested.
    pub fn protect(
        &self,
        kind: ObjectKind,
        name: &str,
        protection: Protection,
    ) -> Result<(), StoreError> {
        let mut objects = self.objects.write().unwrap_or_else(PoisonError::into_inner);
        match objects.get_mut(&(kind, name.to_string())) {
            Some(object) => {
                object.protection = protection;
                Ok(())
            }
            None => Err(self.not_found(kind, name)),
        }
    }

    /// Change an object's bytes behind the contract's back, the way bit rot or
    /// a tampering attacker would, so tests can prove that verify and restore
    /// notice. Not something a real store allows.
    pub fn tamper(
        &self,
        kind: ObjectKind,
        name: &str,
        change: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), StoreError> {
        let mut objects = self.objects.write().unwrap_or_else(PoisonError::into_inner);
        match objects.get_mut(&(kind, name.to_string())) {
            Some(object) => {
                let mut data = object.data.to_vec();
                change(&mut data);
                object.data = data.into();
                Ok(())
            }
            None => Err(self.not_found(kind, name)),
        }
    }

    /// How many objects the store holds, of all kinds.
    pub fn object_count(&self) -> usize {
        self.objects
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn check(&self, op: &'static str, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
        check_name(kind, name).map_err(|why| invalid_name(op, kind, name, self.describe(), why))
    }

    fn not_found(&self, kind: ObjectKind, name: &str) -> StoreError {
        StoreError::NotFound {
            kind,
            name: name.to_string(),
            store: self.describe(),
        }
    }

    fn data(&self, kind: ObjectKind, name: &str) -> Result<Arc<[u8]>, StoreError> {
        self.check("read", kind, name)?;
        let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
        objects
            .get(&(kind, name.to_string()))
            .map(|object| Arc::clone(&object.data))
            .ok_or_else(|| self.not_found(kind, name))
    }
}

/// The protection in force at `now` (Unix seconds): an expired retention
/// date protects nothing.
fn current(protection: Protection, now: i64) -> Protection {
    match protection {
        Protection::Until { unix_secs, .. } if unix_secs <= now => Protection::None,
        other => other,
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Store for MemStore {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn create(&self) -> Result<(), StoreError> {
        let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
        if objects.contains_key(&(ObjectKind::Config, "config".to_string())) {
            return Err(StoreError::AlreadyExists {
                kind: ObjectKind::Config,
                name: "config".to_string(),
                store: self.describe(),
            });
        }
        Ok(())
    }

    fn put(&self, kind: ObjectKind, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.check("write", kind, name)?;
        let mut objects = self.objects.write().unwrap_or_else(PoisonError::into_inner);
        match objects.entry((kind, name.to_string())) {
            std::collections::btree_map::Entry::Occupied(_) => Err(StoreError::AlreadyExists {
                kind,
                name: name.to_string(),
                store: self.describe(),
            }),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(MemObject {
                    data: data.into(),
                    protection: Protection::None,
                });
                Ok(())
            }
        }
    }

    fn get(&self, kind: ObjectKind, name: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self.data(kind, name)?.to_vec())
    }

    fn get_range(
        &self,
        kind: ObjectKind,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        let data = self.data(kind, name)?;
        let size = data.len() as u64;
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        Ok(data[start as usize..end as usize].to_vec())
    }

    fn list(&self, kind: ObjectKind) -> Result<Vec<ObjectInfo>, StoreError> {
        let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
        Ok(objects
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, name), object)| ObjectInfo {
                name: name.clone(),
                size: object.data.len() as u64,
            })
            .collect())
    }

    fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), StoreError> {
        self.check("delete", kind, name)?;
        let mut objects = self.objects.write().unwrap_or_else(PoisonError::into_inner);
        let key = (kind, name.to_string());
        let Some(object) = objects.get(&key) else {
            return Err(self.not_found(kind, name));
        };
        let why = match current(object.protection, now_unix()) {
            Protection::None | Protection::Unknown => None,
            Protection::Indefinite => Some("indefinite hold".to_string()),
            Protection::Until {
                unix_secs,
                bypassable,
            } => Some(format!(
                "retained until Unix time {unix_secs}{}",
                if bypassable { ", governance mode" } else { "" }
            )),
        };
        if let Some(why) = why {
            return Err(StoreError::Protected {
                kind,
                name: name.to_string(),
                store: self.describe(),
                why,
            });
        }
        objects.remove(&key);
        Ok(())
    }

    fn protection(&self, kind: ObjectKind, name: &str) -> Result<Protection, StoreError> {
        self.check("check the protection of", kind, name)?;
        let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
        objects
            .get(&(kind, name.to_string()))
            .map(|object| current(object.protection, now_unix()))
            .ok_or_else(|| self.not_found(kind, name))
    }
}
