//! Repository locks.
//!
//! Backups take a shared lock, prune an exclusive one: prune must never delete
//! a pack that a running backup is about to reference. A lock is a small
//! object in `locks/`; it is the one kind of object that is routinely deleted
//! (when the operation ends). A lock whose process is gone (same host, pid no
//! longer running) is stale and removed automatically; locks from other hosts
//! are removed only by `hokan unlock --all`, because this host cannot tell
//! whether that process still runs.

use serde::{Deserialize, Serialize};

use crate::error::{RepoError, Result};
use crate::repository::{now_rfc3339, Actor, Repository};
use crate::store::ObjectKind;

#[derive(Serialize, Deserialize, Debug, Clone)]
struct LockFile {
    hostname: String,
    pid: u32,
    operation: String,
    time: String,
    exclusive: bool,
}

/// Held while an operation runs; removes its lock object when dropped.
pub struct LockGuard<'a> {
    repo: &'a Repository,
    name: String,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.repo.store().delete(ObjectKind::Lock, &self.name) {
            tracing::warn!("could not remove lock {}: {e}", self.name);
        }
    }
}

impl Repository {
    fn live_locks(&self, except: Option<&str>) -> Result<Vec<(String, LockFile)>> {
        let me = Actor::current().hostname;
        let mut out = Vec::new();
        for i in self.store().list(ObjectKind::Lock)? {
            if Some(i.name.as_str()) == except {
                continue;
            }
            let Ok(b) = self.store().get(ObjectKind::Lock, &i.name) else {
                continue;
            };
            let Ok(l) = serde_json::from_slice::<LockFile>(&b) else {
                continue;
            };
            if l.hostname == me && !std::path::Path::new(&format!("/proc/{}", l.pid)).exists() {
                tracing::info!("removing stale lock {} of dead process {}", i.name, l.pid);
                let _ = self.store().delete(ObjectKind::Lock, &i.name);
                continue;
            }
            out.push((i.name, l));
        }
        Ok(out)
    }

    /// Take a lock. Shared locks coexist; an exclusive lock excludes all.
    pub fn lock(&self, exclusive: bool, operation: &str) -> Result<LockGuard<'_>> {
        let conflict = |locks: &[(String, LockFile)]| {
            locks
                .iter()
                .find(|(_, l)| exclusive || l.exclusive)
                .map(|(_, l)| RepoError::Locked {
                    holder: format!(
                        "`{}` on {} (pid {}) since {}",
                        l.operation, l.hostname, l.pid, l.time
                    ),
                })
        };
        if let Some(e) = conflict(&self.live_locks(None)?) {
            return Err(e);
        }
        let lf = LockFile {
            hostname: Actor::current().hostname,
            pid: std::process::id(),
            operation: operation.into(),
            time: now_rfc3339(),
            exclusive,
        };
        let mut rnd = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut rnd);
        let name = hex::encode(rnd);
        self.store().put(
            ObjectKind::Lock,
            &name,
            &serde_json::to_vec(&lf).expect("lock serializes"),
        )?;
        let guard = LockGuard { repo: self, name };
        // Check again: another process may have locked between our look and our put.
        if let Some(e) = conflict(&self.live_locks(Some(&guard.name))?) {
            return Err(e);
        }
        Ok(guard)
    }

    /// Remove stale locks (and with `all`, every lock). Returns how many remain removed.
    pub fn unlock(&self, all: bool) -> Result<usize> {
        let before = self.store().list(ObjectKind::Lock)?.len();
        let live = self.live_locks(None)?;
        let mut removed = before - live.len();
        if all {
            for (name, _) in live {
                self.store().delete(ObjectKind::Lock, &name)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
