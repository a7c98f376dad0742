//! `disk restore`: which cartridge holds the snapshot asked for, by the
//! catalog when it can say, else by the cartridges' labels. Restoring
//! from the cartridge's repository is [`crate::restore`]; opening it (a
//! passphrase, a paper key) is the caller's.

use std::path::PathBuf;

use hokan_catalog::{Catalog, MediumRow};
use hokan_disk::{read_label, Cartridge, DiskDevice, DiskLabel, Status};
use hokan_offline::{MediumId, PoolName};
use time::OffsetDateTime;

use super::medium_of;
use crate::JobError;

/// The device's cartridges in the order a restore tries them: the one the
/// host reaches first.
pub fn order(st: &Status) -> Vec<Cartridge> {
    let mut order: Vec<Cartridge> = st.cartridges.clone();
    order.sort_by_key(|c| st.writable() != Some(c));
    order
}

/// A snapshot the catalog records complete copies of on the pool's media.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// The snapshot's full id.
    pub snapshot: String,
    /// When it was taken.
    pub taken_at: OffsetDateTime,
    /// The pool's media holding a complete copy, sorted.
    pub holders: Vec<MediumId>,
}

/// Which snapshot `snapshot` (`latest`, or an id prefix) is among those
/// the catalog records complete copies of on `media`, and which of them
/// hold it. `None` when the catalog records none.
pub fn held(cat: &Catalog, media: &[MediumRow], snapshot: &str) -> Result<Option<Held>, JobError> {
    let snaps = cat.snapshots()?;
    let copies = cat.copies()?;
    let rows: Vec<(&hokan_catalog::SnapshotRow, MediumId)> = copies
        .iter()
        .filter(|c| c.complete && media.iter().any(|m| m.id == c.medium))
        .filter_map(|c| {
            snaps
                .iter()
                .find(|s| s.id == c.snapshot)
                .map(|s| (s, c.medium.clone()))
        })
        .collect();
    let pick = if snapshot == "latest" {
        rows.iter().map(|r| r.0).max_by_key(|s| s.taken_at)
    } else {
        rows.iter()
            .map(|r| r.0)
            .find(|s| s.id.as_str().starts_with(snapshot))
    };
    Ok(pick.map(|s| {
        let mut holders: Vec<MediumId> = rows
            .iter()
            .filter(|r| r.0.id == s.id)
            .map(|r| r.1.clone())
            .collect();
        holders.sort();
        holders.dedup();
        Held {
            snapshot: s.id.to_string(),
            taken_at: s.taken_at,
            holders,
        }
    }))
}

/// Attach `c` and read its label (detached again when the label cannot
/// be read).
pub fn attach_read(
    dev: &mut dyn DiskDevice,
    c: &Cartridge,
) -> Result<(PathBuf, Option<DiskLabel>), JobError> {
    let root = dev.attach(c).map_err(JobError::Disk)?;
    match read_label(&root) {
        Ok(lb) => Ok((root, lb)),
        Err(e) => {
            let _ = dev.detach(&root);
            Err(JobError::Disk(e))
        }
    }
}

/// A cartridge attached for a restore, with its label.
pub type Found = (Cartridge, PathBuf, DiskLabel);

/// When none of the cartridges inside is named by the device as one of
/// `holders`: the first unnamed one whose label says it is one of them,
/// attached. The others tried are detached again.
pub fn by_label(
    dev: &mut dyn DiskDevice,
    order: &[Cartridge],
    media: &[MediumRow],
    pool: &PoolName,
    holders: &[MediumId],
) -> Result<Option<Found>, JobError> {
    if holders.is_empty()
        || order
            .iter()
            .any(|c| medium_of(c, media).is_some_and(|m| holders.contains(&m)))
    {
        return Ok(None);
    }
    for c in order.iter().filter(|c| medium_of(c, media).is_none()) {
        let (root, lb) = attach_read(dev, c)?;
        match lb {
            Some(lb)
                if lb.pool == pool.as_str() && holders.iter().any(|m| m.as_str() == lb.medium) =>
            {
                return Ok(Some((c.clone(), root, lb)));
            }
            _ => {
                let _ = dev.detach(&root);
            }
        }
    }
    Ok(None)
}

/// What [`from_holders`] found.
#[derive(Debug)]
pub enum FromHolders {
    /// A cartridge holding the snapshot, attached (boxed: the others are
    /// small).
    Found(Box<Found>),
    /// None of the holders is inside.
    NotInside,
    /// The device names a holder, but the cartridge carries no label of
    /// the pool (it was detached again).
    NoPoolLabel,
}

/// The first cartridge inside that the device names as one of `holders`,
/// attached, its label checked.
pub fn from_holders(
    dev: &mut dyn DiskDevice,
    order: &[Cartridge],
    media: &[MediumRow],
    pool: &PoolName,
    holders: &[MediumId],
) -> Result<FromHolders, JobError> {
    let Some(c) = order
        .iter()
        .find(|c| medium_of(c, media).is_some_and(|m| holders.contains(&m)))
    else {
        return Ok(FromHolders::NotInside);
    };
    let (root, lb) = attach_read(dev, c)?;
    match lb {
        Some(lb) if lb.pool == pool.as_str() => {
            Ok(FromHolders::Found(Box::new((c.clone(), root, lb))))
        }
        _ => {
            let _ = dev.detach(&root);
            Ok(FromHolders::NoPoolLabel)
        }
    }
}

/// A cartridge of the pool read when the catalog cannot say which holds
/// what: its label and its snapshots.
#[derive(Clone, Debug)]
pub struct ReadCartridge {
    /// The cartridge.
    pub cartridge: Cartridge,
    /// Its label.
    pub label: DiskLabel,
    /// Its repository's snapshots: full id and time, oldest first.
    pub snapshots: Vec<(String, String)>,
}

/// Read every cartridge of the pool inside (only `cartridge` when named):
/// `list` lists the snapshots of the repository at the folder it is given
/// (opening it is the caller's: a passphrase, a paper key). Each is
/// detached again. `Ok(Err(e))` when `list` failed.
pub fn read_cartridges<E>(
    dev: &mut dyn DiskDevice,
    order: &[Cartridge],
    pool: &PoolName,
    cartridge: Option<&str>,
    mut list: impl FnMut(&std::path::Path) -> Result<Vec<(String, String)>, E>,
) -> Result<Result<Vec<ReadCartridge>, E>, JobError> {
    let mut read = Vec::new();
    for c in order {
        let (root, lb) = attach_read(dev, c)?;
        let lb = match lb {
            Some(lb) if lb.pool == pool.as_str() => lb,
            _ => {
                let _ = dev.detach(&root);
                continue;
            }
        };
        if cartridge.is_some_and(|w| w != lb.medium) {
            let _ = dev.detach(&root);
            continue;
        }
        let listed = list(&super::repository_of(&root));
        let _ = dev.detach(&root);
        match listed {
            Ok(snapshots) => read.push(ReadCartridge {
                cartridge: c.clone(),
                label: lb,
                snapshots,
            }),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(read))
}

/// Among the cartridges read, the one to restore from: the one named, else
/// the one with the newest snapshot (`latest`), else the first holding a
/// snapshot whose id starts with `snapshot`.
pub fn pick<'a>(
    read: &'a [ReadCartridge],
    cartridge: Option<&str>,
    snapshot: &str,
) -> Option<&'a ReadCartridge> {
    if let Some(w) = cartridge {
        read.iter().find(|r| r.label.medium == w)
    } else if snapshot == "latest" {
        read.iter()
            .filter(|r| !r.snapshots.is_empty())
            .max_by(|a, b| {
                let newest = |r: &ReadCartridge| r.snapshots.last().map(|x| x.1.clone());
                newest(a).cmp(&newest(b))
            })
    } else {
        read.iter()
            .find(|r| r.snapshots.iter().any(|(id, _)| id.starts_with(snapshot)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::format::{format, FormatRequest};
    use crate::disk::status::pool_media;
    use crate::disk::tests::disk_pool;
    use crate::disk::PoolRef;
    use crate::test_repo::{backup, new_repo};
    use crate::Clock;
    use hokan_disk::virt::{Shape, Sim};
    use hokan_disk::REPOSITORY_DIR;
    use hokan_offline::MediumKind;
    use hokan_site::DiskAfterJob;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-20 22:00 UTC);

    #[test]
    fn the_catalog_names_the_simulated_cartridge_holding_the_snapshot() {
        let (dir, repo) = new_repo();
        let id = backup(&repo, "a", "2026-11-20T21:00:00Z");
        let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        crate::catalog::sync(&repo, &mut cat, Default::default(), NOW).unwrap();
        let sim = Sim::create(&dir.path().join("sim"), "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-1", None).unwrap();
        let mut dev: Box<dyn DiskDevice> = Box::new(sim.device().unwrap());
        let name = PoolName::new("p");
        let conf = disk_pool(DiskAfterJob::Eject);
        let pool = PoolRef {
            name: &name,
            conf: &conf,
        };
        let req = FormatRequest {
            medium: "RDX-1",
            force: false,
            relabel: None,
            kind: MediumKind::RdxSingleDrive,
            retention: time::Duration::days(28),
            now: NOW,
            actor: "t",
        };
        let clock = Clock::new(NOW);
        format(dev.as_mut(), &mut cat, &clock, pool, &req).unwrap();
        let media = pool_media(&cat, &name).unwrap();
        assert_eq!(held(&cat, &media, "latest").unwrap(), None);
        let rdx1 = MediumId::new("RDX-1");
        crate::disk::record_copies(&mut cat, &clock, "t", &[id], &rdx1, false).unwrap();
        let want = Held {
            snapshot: id.to_hex(),
            taken_at: datetime!(2026-11-20 21:00 UTC),
            holders: vec![rdx1.clone()],
        };
        assert_eq!(held(&cat, &media, "latest").unwrap().as_ref(), Some(&want));
        assert_eq!(held(&cat, &media, &id.to_hex()[..8]).unwrap(), Some(want));
        assert_eq!(held(&cat, &media, "ffffffff").unwrap(), None);
        // The device names it, so no label is read to find it.
        let st = dev.status().unwrap();
        let order = order(&st);
        assert_eq!(order.len(), 1);
        assert!(by_label(dev.as_mut(), &order, &media, &name, &[rdx1])
            .unwrap()
            .is_none());
        let (root, label) = attach_read(dev.as_mut(), &order[0]).unwrap();
        assert_eq!(label.unwrap().medium, "RDX-1");
        dev.detach(&root).unwrap();
        match from_holders(
            dev.as_mut(),
            &order,
            &media,
            &name,
            &[MediumId::new("RDX-1")],
        )
        .unwrap()
        {
            FromHolders::Found(found) => {
                let (_, root, label) = *found;
                assert_eq!(label.medium, "RDX-1");
                dev.detach(&root).unwrap();
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_holders(
                dev.as_mut(),
                &order,
                &media,
                &name,
                &[MediumId::new("RDX-2")]
            )
            .unwrap(),
            FromHolders::NotInside
        ));
        // Without the catalog: every pool cartridge inside is read.
        let read = read_cartridges(dev.as_mut(), &order, &name, None, |repo| {
            assert!(repo.ends_with(REPOSITORY_DIR), "{}", repo.display());
            Ok::<_, ()>(vec![(
                "abcdef12".to_owned(),
                "2026-11-20T21:00:00Z".to_owned(),
            )])
        })
        .unwrap()
        .unwrap();
        assert_eq!(read.len(), 1);
        assert!(pick(&read, None, "latest").is_some());
        assert!(pick(&read, None, "abcd").is_some());
        assert!(pick(&read, None, "ffff").is_none());
        assert!(pick(&read, Some("RDX-2"), "latest").is_none());
        let failed = read_cartridges(dev.as_mut(), &order, &name, None, |_| Err("no key"));
        assert_eq!(failed.unwrap().unwrap_err(), "no key");
        // Nothing stays attached.
        let st = dev.status().unwrap();
        assert!(
            st.cartridges.iter().all(|c| c.mounted_at.is_none()),
            "{st:?}"
        );
    }
}
