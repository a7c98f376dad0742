//! Restoring a snapshot of an opened repository: the routine `hokan
//! restore`, `tape restore`, `disk restore` and `s3 restore` share.
//!
//! Two steps, so the caller can tell a person which damaged snapshots were
//! passed over before the (long) restore starts: [`choose`] finds the
//! snapshot, [`restore`] writes it, reporting through the caller's
//! [`RestoreProgress`].

use hokan_repo::{FoundSnapshot, Repository, RestoreOptions, RestoreProgress, RestoreStats};

use crate::JobError;

/// The snapshot `spec` names (an id, a prefix or `latest`), of `source` if
/// given. With `latest_undamaged`, `latest` passes over damaged manifests
/// (listed in [`FoundSnapshot::skipped`]: the caller must say so); it goes
/// with `latest` only ([`JobError::LatestUndamagedNeedsLatest`]).
pub fn choose(
    repo: &Repository,
    spec: &str,
    source: Option<&str>,
    latest_undamaged: bool,
) -> Result<FoundSnapshot, JobError> {
    if latest_undamaged && spec != "latest" {
        return Err(JobError::LatestUndamagedNeedsLatest {
            spec: spec.to_owned(),
        });
    }
    Ok(repo.find_snapshot_with(spec, source, latest_undamaged)?)
}

/// Restore the snapshot `found` into `options.target`.
pub fn restore(
    repo: &Repository,
    found: &FoundSnapshot,
    options: &RestoreOptions,
    progress: &dyn RestoreProgress,
) -> Result<RestoreStats, JobError> {
    Ok(repo.restore(&found.id, options, progress)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_repo::{backup, new_repo};
    use hokan_repo::NoProgress;

    #[test]
    fn latest_is_the_newest_and_restores_its_files() {
        let (dir, repo) = new_repo();
        backup(&repo, "a", "2026-11-20T22:00:00Z");
        let newest = backup(&repo, "a", "2026-11-21T22:00:00Z");
        let found = choose(&repo, "latest", None, false).unwrap();
        assert_eq!(found.id, newest);
        assert!(found.skipped.is_empty());
        let target = dir.path().join("out");
        let stats = restore(
            &repo,
            &found,
            &RestoreOptions {
                target: target.clone(),
                include: Vec::new(),
                overwrite: false,
            },
            &NoProgress,
        )
        .unwrap();
        assert!(stats.errors.is_empty());
        assert_eq!(stats.files, 1);
        let restored: Vec<_> = walk(&target);
        assert_eq!(restored.len(), 1);
        assert_eq!(
            std::fs::read_to_string(&restored[0]).unwrap(),
            "a 2026-11-21T22:00:00Z\n"
        );
    }

    #[test]
    fn latest_undamaged_goes_with_latest_only() {
        let (_dir, repo) = new_repo();
        let id = backup(&repo, "a", "2026-11-20T22:00:00Z");
        let e = choose(&repo, &id.to_hex(), None, true).unwrap_err();
        assert!(
            matches!(&e, JobError::LatestUndamagedNeedsLatest { spec } if *spec == id.to_hex()),
            "{e:?}"
        );
        assert!(!e.is_transient());
        assert_eq!(choose(&repo, &id.to_hex(), None, false).unwrap().id, id);
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
