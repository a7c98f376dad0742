//! What a copy job copies: the snapshots named, or each source's newest.
//!
//! Tape, disk and S3 copies all start here, so that `--snapshot` means the
//! same on every kind of medium.

use std::collections::BTreeMap;

use hokan_format::Id;
use hokan_repo::Repository;

use crate::JobError;

/// The snapshots named (id, prefix, `latest`), each once in the order
/// given, or by default each source's newest (by its time). An empty
/// result is [`JobError::NoSnapshotToCopy`].
pub fn snapshots_to_copy(repo: &Repository, specs: &[String]) -> Result<Vec<Id>, JobError> {
    let mut ids = Vec::new();
    if specs.is_empty() {
        let (all, _) = repo.snapshots()?;
        let mut newest: BTreeMap<String, (String, Id)> = BTreeMap::new();
        for (id, s) in all {
            let e = newest
                .entry(s.source.clone())
                .or_insert_with(|| (s.time.clone(), id));
            if s.time > e.0 {
                *e = (s.time.clone(), id);
            }
        }
        ids.extend(newest.into_values().map(|(_, id)| id));
    } else {
        for s in specs {
            let (id, _) = repo.find_snapshot(s, None)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    if ids.is_empty() {
        return Err(JobError::NoSnapshotToCopy);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_repo::{backup, new_repo};

    #[test]
    fn by_default_each_sources_newest() {
        let (_dir, repo) = new_repo();
        let err = snapshots_to_copy(&repo, &[]).unwrap_err();
        assert!(matches!(err, JobError::NoSnapshotToCopy), "{err:?}");
        let old_a = backup(&repo, "a", "2026-11-20T22:00:00Z");
        let new_a = backup(&repo, "a", "2026-11-21T22:00:00Z");
        let b = backup(&repo, "b", "2026-11-19T22:00:00Z");
        let mut got = snapshots_to_copy(&repo, &[]).unwrap();
        got.sort();
        let mut want = vec![new_a, b];
        want.sort();
        assert_eq!(got, want);
        // Named: in the order given, each once.
        let named = vec![old_a.to_hex(), b.to_hex(), old_a.to_hex()];
        assert_eq!(snapshots_to_copy(&repo, &named).unwrap(), vec![old_a, b]);
        let missing = snapshots_to_copy(&repo, &["ffffffff".into()]).unwrap_err();
        assert!(matches!(missing, JobError::Repo(_)), "{missing:?}");
    }
}
