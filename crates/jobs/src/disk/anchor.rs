//! The catalog anchor on a cartridge (`HOKAN-ANCHOR.json`, see
//! `hokan_catalog::anchor` and docs/disk-format.md): checked before a job
//! writes ([`check_anchor`]), written before the cartridge is put away
//! ([`write_anchor`]), and read as it is for `disk status` and
//! `disk restore` ([`read`]).

use std::path::Path;

use hokan_catalog::anchor::{Anchor, AnchorError, MAX_ANCHOR_BYTES};
use hokan_catalog::Catalog;
use hokan_disk::DiskError;
use hokan_offline::MediumId;

use crate::JobError;

/// Why the catalog anchor on a cartridge cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorProblem {
    /// Reading the file failed (or it is too large, or not a file).
    #[error(transparent)]
    Read(DiskError),
    /// The file is not an anchor (damaged, a newer format).
    #[error("{file}: {0}", file = hokan_disk::ANCHOR_FILE)]
    Parse(AnchorError),
}

/// Before anything is written to the cartridge of `medium` attached at
/// `root`: the catalog must contain the head its anchor names, or the
/// catalog was rolled back since the cartridge was last written (and
/// writing now would cover that): [`JobError::CatalogRolledBack`]. The
/// anchor found, if any.
pub fn check_anchor(cat: &Catalog, medium: &str, root: &Path) -> Result<Option<Anchor>, JobError> {
    let unreadable = |source| JobError::AnchorUnreadable {
        medium: MediumId::new(medium),
        source,
    };
    let bytes = match hokan_disk::read_anchor(root, MAX_ANCHOR_BYTES) {
        Ok(None) => return Ok(None),
        Ok(Some(b)) => b,
        Err(e) => return Err(unreadable(AnchorProblem::Read(e))),
    };
    let anchor = Anchor::parse(&bytes).map_err(|e| unreadable(AnchorProblem::Parse(e)))?;
    match cat.check_anchor(medium, &anchor)? {
        Ok(()) => Ok(Some(anchor)),
        Err(rolled_back) => Err(JobError::CatalogRolledBack(rolled_back)),
    }
}

/// Write the catalog's head as the anchor of the cartridge of `medium`
/// attached at `root` (site `site`, at `at`).
pub fn write_anchor(
    cat: &Catalog,
    site: &str,
    medium: &str,
    root: &Path,
    at: time::OffsetDateTime,
) -> Result<Anchor, JobError> {
    let head = cat.head()?;
    let anchor = Anchor::new(site, &head, medium, at);
    hokan_disk::write_anchor(root, &anchor.to_bytes()).map_err(|source| JobError::AnchorWrite {
        medium: MediumId::new(medium),
        source,
    })?;
    Ok(anchor)
}

/// What a cartridge holds as its anchor, read without judging it.
#[derive(Debug)]
pub enum OnCartridge {
    /// No anchor (formatted, never written by a backup job of this
    /// version).
    None,
    /// An anchor.
    Found(Anchor),
    /// A file that is not an anchor (damaged, too large, a newer format).
    Unreadable(AnchorProblem),
}

/// Read the anchor at the root `root` of an attached cartridge.
pub fn read(root: &Path) -> OnCartridge {
    match hokan_disk::read_anchor(root, MAX_ANCHOR_BYTES) {
        Ok(None) => OnCartridge::None,
        Ok(Some(b)) => match Anchor::parse(&b) {
            Ok(a) => OnCartridge::Found(a),
            Err(e) => OnCartridge::Unreadable(AnchorProblem::Parse(e)),
        },
        Err(e) => OnCartridge::Unreadable(AnchorProblem::Read(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disk_crate_and_the_catalog_name_the_same_file() {
        assert_eq!(
            hokan_disk::ANCHOR_FILE,
            hokan_catalog::anchor::DISK_ANCHOR_FILE
        );
    }

    #[test]
    fn no_anchor_a_written_one_and_a_damaged_one() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path()), OnCartridge::None));
        let (_repo_dir, repo) = crate::test_repo::new_repo();
        let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        let at = time::macros::datetime!(2026-11-20 22:00 UTC);
        // A catalog with one event: its head can be an anchor.
        crate::catalog::sync(&repo, &mut cat, Default::default(), at).unwrap();
        let written = write_anchor(&cat, "site", "RDX-1", dir.path(), at).unwrap();
        match read(dir.path()) {
            OnCartridge::Found(a) => {
                assert_eq!((a.seq, &a.hash), (written.seq, &written.hash));
                assert_eq!(
                    check_anchor(&cat, "RDX-1", dir.path())
                        .unwrap()
                        .unwrap()
                        .seq,
                    a.seq
                );
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(dir.path().join(hokan_disk::ANCHOR_FILE), b"{not json").unwrap();
        let found = read(dir.path());
        match &found {
            OnCartridge::Unreadable(p @ AnchorProblem::Parse(_)) => {
                assert!(p.to_string().starts_with(hokan_disk::ANCHOR_FILE), "{p}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_anchor(&cat, "RDX-1", dir.path()),
            Err(JobError::AnchorUnreadable { .. })
        ));
    }
}
