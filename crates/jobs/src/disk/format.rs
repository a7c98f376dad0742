//! `disk format`: a cartridge prepared for a pool (label file and an empty
//! repository), only when it is blank or every identity it carries has
//! passed retention; what it held is recorded as erased.
//!
//! Only the cartridge named (or a blank one, or with `relabel` the one
//! carrying that id) is formatted: the device's cartridges are tried in
//! that order, the one the host reaches first among equals; a cartridge
//! the catalog knows as another medium is not even attached. Nothing is
//! changed when the job refuses ([`JobError::Format`] with a
//! [`FormatProblem`]).

use std::path::{Path, PathBuf};

use hokan_catalog::{Catalog, Event, MediumRow};
use hokan_disk::REPOSITORY_DIR;
use hokan_disk::{read_label, write_label, Cartridge, DiskDevice, DiskError, DiskLabel, Place};
use hokan_offline::{Condition, MediumId, MediumKind, PoolName};
use hokan_repo::store::{Store, StoreError};
use hokan_store::local::LocalStore;
use time::OffsetDateTime;

use super::status::{pool_media, retained_until};
use super::{attached_location, medium_of, record, recorded_uuid, uuid_note, PoolRef};
use crate::{Clock, JobError};

/// What to format, and as what.
#[derive(Clone, Copy, Debug)]
pub struct FormatRequest<'a> {
    /// The id the cartridge is given (`RDX-TUE`).
    pub medium: &'a str,
    /// Erase a disk that holds files hokan did not write.
    pub force: bool,
    /// Re-use the cartridge carrying this id, once its copies are past
    /// retention (it is retired).
    pub relabel: Option<&'a str>,
    /// The kind of medium the pool gives (recorded for a new medium).
    pub kind: MediumKind,
    /// How long the pool's copies are kept.
    pub retention: time::Duration,
    /// Now: copies kept until later are not erased.
    pub now: OffsetDateTime,
    /// The actor recorded on the events.
    pub actor: &'a str,
}

/// What [`format()`] did.
#[derive(Clone, Debug)]
pub struct Formatted {
    /// The cartridge's id.
    pub medium: MediumId,
    /// The device's name.
    pub device: String,
    /// Whether the device is a simulation.
    pub simulated: bool,
}

/// A cartridge the device holds, as a refusal names it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The medium the catalog knows it as, else its filesystem label.
    pub id: Option<String>,
    /// Where it is.
    pub place: Place,
}

/// Why a cartridge the device holds was not formatted.
#[derive(Debug)]
#[non_exhaustive]
pub enum Passed {
    /// The catalog knows it as another medium (it was not attached).
    CarriesAnotherId(Seen),
    /// Its label cannot be read.
    Unreadable(DiskError),
    /// It is labelled for another pool.
    OtherPool {
        /// The cartridge.
        seen: Seen,
        /// The medium its label names.
        medium: String,
        /// The pool its label names.
        pool: String,
    },
    /// It carries other hokan ids (its label, the catalog by filesystem
    /// UUID) than the one asked for and the one to relabel.
    CarriesIds {
        /// The cartridge.
        seen: Seen,
        /// Those ids.
        ids: Vec<MediumId>,
    },
}

/// Why a cartridge was not formatted (nothing was changed, except for
/// [`FormatProblem::Io`] and [`FormatProblem::CreateRepository`], where
/// the cartridge was being written).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatProblem {
    /// Not a cartridge id: letters, digits, '-', '_' and '.', 1 to 64.
    #[error("not a cartridge id")]
    InvalidId,
    /// The pool lists its cartridges and this is not one of them.
    #[error("not in the cartridges of the pool")]
    NotInPool {
        /// The pool's cartridges.
        cartridges: Vec<String>,
    },
    /// The catalog has the medium in another pool.
    #[error("belongs to another pool")]
    OtherPool {
        /// That pool.
        pool: Option<PoolName>,
    },
    /// No cartridge inside can be formatted as the id.
    #[error("no blank cartridge to format")]
    NoBlank {
        /// The cartridges passed over, with why.
        passed: Vec<Passed>,
    },
    /// An identity the cartridge carries (or the one asked for) holds
    /// copies whose retention has not passed.
    #[error("{medium} holds copies kept until {until}")]
    Retained {
        /// The medium.
        medium: MediumId,
        /// Until when.
        until: OffsetDateTime,
    },
    /// The id was formatted on another filesystem.
    #[error("formatted on filesystem {was}, this one is {now}")]
    UuidDiffers {
        /// The filesystem UUID recorded.
        was: String,
        /// This cartridge's.
        now: String,
    },
    /// The disk holds files hokan did not write (and `force` was not
    /// given).
    #[error("the disk holds files hokan did not write")]
    ForeignFiles {
        /// Their names.
        files: Vec<String>,
    },
    /// Listing or erasing files on the cartridge failed.
    #[error("{}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Creating the empty repository failed.
    #[error("creating the repository")]
    CreateRepository(#[source] StoreError),
}

fn refused(medium: &str, device: Option<&str>, problem: FormatProblem) -> JobError {
    JobError::Format {
        medium: medium.to_owned(),
        device: device.map(str::to_owned),
        problem: Box::new(problem),
    }
}

/// Whether `medium` can be formatted in the pool at all: a valid id, and
/// one of the pool's cartridges when it lists them. Needs no catalog.
pub fn check_id(conf: &hokan_site::DiskPool, medium: &str) -> Result<(), JobError> {
    let medium = medium.trim();
    let valid = !medium.is_empty()
        && medium.len() <= 64
        && medium
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid {
        return Err(refused(medium, None, FormatProblem::InvalidId));
    }
    if !conf.cartridges.is_empty() && !conf.cartridges.iter().any(|c| c == medium) {
        return Err(refused(
            medium,
            None,
            FormatProblem::NotInPool {
                cartridges: conf.cartridges.clone(),
            },
        ));
    }
    Ok(())
}

/// Whether the catalog has `medium` in another pool.
pub fn check_owner(cat: &Catalog, pool: &PoolName, medium: &str) -> Result<(), JobError> {
    let medium = medium.trim();
    if let Ok(m) = cat.medium(&MediumId::new(medium)) {
        if m.pool.as_ref() != Some(pool) {
            return Err(refused(
                medium,
                None,
                FormatProblem::OtherPool { pool: m.pool },
            ));
        }
    }
    Ok(())
}

/// The cartridge chosen, attached.
struct Chosen {
    cartridge: Cartridge,
    root: PathBuf,
    label: Option<DiskLabel>,
    idents: Vec<MediumId>,
}

/// Format a cartridge of the device as `req.medium` (after [`check_id`]
/// and [`check_owner`], checked again here), record it (and what it held
/// as erased, an old identity as retired), and leave it where the host
/// reaches it, recorded online until ejected.
pub fn format(
    dev: &mut dyn DiskDevice,
    cat: &mut Catalog,
    clock: &Clock,
    pool: PoolRef<'_>,
    req: &FormatRequest<'_>,
) -> Result<Formatted, JobError> {
    let medium = req.medium.trim();
    check_id(pool.conf, medium)?;
    check_owner(cat, pool.name, medium)?;
    let id = MediumId::new(medium);
    let name = dev.name().to_owned();
    let st = dev.status().map_err(JobError::Disk)?;
    let media = pool_media(cat, pool.name)?;
    let all_media: Vec<MediumRow> = cat
        .media()?
        .into_iter()
        .filter(|m| m.condition != Condition::Retired)
        .collect();
    let Chosen {
        cartridge,
        root,
        label,
        idents,
    } = choose(dev, &st, &media, &all_media, pool, medium, req.relabel)?;
    let result = write(
        dev,
        cat,
        clock,
        pool,
        req,
        &id,
        &name,
        (&cartridge, &root, label.as_ref(), &idents),
        &all_media,
    );
    let detached = dev.detach(&root);
    let mut events = result?;
    detached.map_err(JobError::Disk)?;
    if cat.medium(&id).is_err() {
        events.insert(
            0,
            Event::MediumAdded {
                medium: id.clone(),
                kind: req.kind,
                pool: Some(pool.name.clone()),
                label: None,
                capacity: None,
                note: cartridge.uuid.as_deref().map(uuid_note),
            },
        );
    }
    cat.record_all(clock.at(), req.actor, events)?;
    // Still in the drive (or an active slot): online until ejected.
    record(
        cat,
        clock,
        req.actor,
        &id,
        attached_location(pool.conf, &name),
        &name,
    )?;
    Ok(Formatted {
        medium: id,
        device: name,
        simulated: dev.simulated(),
    })
}

/// The cartridge to format, attached; [`FormatProblem::NoBlank`] naming
/// every one passed over when none fits.
fn choose(
    dev: &mut dyn DiskDevice,
    st: &hokan_disk::Status,
    media: &[MediumRow],
    all_media: &[MediumRow],
    pool: PoolRef<'_>,
    medium: &str,
    relabel: Option<&str>,
) -> Result<Chosen, JobError> {
    // The live medium the catalog recorded for a filesystem UUID.
    let by_uuid = |uuid: Option<&str>| -> Option<MediumId> {
        let note = uuid_note(uuid?);
        all_media
            .iter()
            .find(|m| m.note.as_deref() == Some(note.as_str()))
            .map(|m| m.id.clone())
    };
    let rank = |c: &Cartridge| -> u8 {
        let known = medium_of(c, media).map(|m| m.to_string());
        if relabel.is_some() && known.as_deref() == relabel {
            0
        } else if known.as_deref() == Some(medium) || c.fs_label.as_deref() == Some(medium) {
            1
        } else if known.is_none() {
            2
        } else {
            3
        }
    };
    let mut order: Vec<&Cartridge> = st.cartridges.iter().filter(|c| rank(c) < 3).collect();
    let reachable = |c: &Cartridge| st.writable() == Some(c);
    order.sort_by_key(|c| (rank(c), !reachable(c)));
    let seen = |c: &Cartridge| Seen {
        id: medium_of(c, media)
            .map(|m| m.to_string())
            .or_else(|| c.fs_label.clone()),
        place: c.place.clone(),
    };
    let mut passed: Vec<Passed> = st
        .cartridges
        .iter()
        .filter(|c| rank(c) == 3)
        .map(|c| Passed::CarriesAnotherId(seen(c)))
        .collect();
    for c in order {
        let root = dev.attach(c).map_err(JobError::Disk)?;
        let why = match read_label(&root) {
            Err(e) => Passed::Unreadable(e),
            Ok(Some(lb)) if lb.pool != pool.name.as_str() => Passed::OtherPool {
                seen: seen(c),
                medium: lb.medium,
                pool: lb.pool,
            },
            Ok(lb) => {
                let mut idents: Vec<MediumId> = lb
                    .as_ref()
                    .map(|lb| MediumId::new(lb.medium.as_str()))
                    .into_iter()
                    .chain(by_uuid(c.uuid.as_deref()))
                    .collect();
                idents.dedup();
                let others: Vec<MediumId> = idents
                    .iter()
                    .filter(|m| m.as_str() != medium)
                    .cloned()
                    .collect();
                if others.iter().all(|m| Some(m.as_str()) == relabel) {
                    return Ok(Chosen {
                        cartridge: c.clone(),
                        root,
                        label: lb,
                        idents,
                    });
                }
                Passed::CarriesIds {
                    seen: seen(c),
                    ids: others,
                }
            }
        };
        let _ = dev.detach(&root);
        passed.push(why);
    }
    Err(refused(
        medium,
        Some(dev.name()),
        FormatProblem::NoBlank { passed },
    ))
}

/// The checks on the attached cartridge, then the writing: what to record.
#[allow(clippy::too_many_arguments)] // the job's parts, each used once
fn write(
    dev: &mut dyn DiskDevice,
    cat: &Catalog,
    clock: &Clock,
    pool: PoolRef<'_>,
    req: &FormatRequest<'_>,
    id: &MediumId,
    name: &str,
    (cartridge, root, old, idents): (&Cartridge, &Path, Option<&DiskLabel>, &[MediumId]),
    all_media: &[MediumRow],
) -> Result<Vec<Event>, JobError> {
    let problem = |p| refused(id.as_str(), Some(name), p);
    let mut events = Vec::new();
    // Every identity the cartridge carries (label, catalog by UUID) and
    // the one it is given: their copies must have passed retention.
    let mut all = idents.to_vec();
    if !all.contains(id) {
        all.push(id.clone());
    }
    for m in &all {
        if let Some(until) = retained_until(cat, req.retention, m)? {
            if until > req.now {
                return Err(problem(FormatProblem::Retained {
                    medium: m.clone(),
                    until,
                }));
            }
        }
    }
    // An id already given to another filesystem is not moved onto this
    // one (the catalog keeps one filesystem per id, one id per filesystem).
    if let (Some(now), Some(row)) = (
        cartridge.uuid.as_deref(),
        all_media.iter().find(|m| &m.id == id),
    ) {
        if let Some(was) = recorded_uuid(row) {
            if was != now {
                return Err(problem(FormatProblem::UuidDiffers {
                    was: was.to_owned(),
                    now: now.to_owned(),
                }));
            }
        }
    }
    for m in &all {
        for c in cat.copies()?.into_iter().filter(|c| &c.medium == m) {
            events.push(Event::CopyRemoved {
                snapshot: c.snapshot,
                medium: m.clone(),
                reason: Some("erased by `hokan disk format`".into()),
            });
        }
        if m != id && all_media.iter().any(|x| &x.id == m) {
            events.push(Event::MediumCondition {
                medium: m.clone(),
                condition: Condition::Retired,
                reason: Some(format!(
                    "relabelled as {id} by `hokan disk format --relabel`"
                )),
            });
        }
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| FormatProblem::Io { path, source }
    };
    if old.is_none() {
        let foreign: Vec<String> = std::fs::read_dir(root)
            .map_err(io(root))
            .map_err(problem)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "lost+found" && n != REPOSITORY_DIR)
            .collect();
        if !foreign.is_empty() && !req.force {
            return Err(problem(FormatProblem::ForeignFiles { files: foreign }));
        }
        for n in foreign {
            let p = root.join(&n);
            let r = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            r.map_err(io(&p)).map_err(problem)?;
        }
    }
    let repo_dir = root.join(REPOSITORY_DIR);
    if repo_dir.exists() {
        std::fs::remove_dir_all(&repo_dir)
            .map_err(io(&repo_dir))
            .map_err(problem)?;
    }
    LocalStore::new(&repo_dir)
        .create()
        .map_err(|e| problem(FormatProblem::CreateRepository(e)))?;
    write_label(
        root,
        &DiskLabel {
            format: hokan_disk::label::FORMAT_VERSION,
            medium: id.as_str().to_owned(),
            pool: pool.name.to_string(),
            created: clock.at(),
            fs_uuid: cartridge.uuid.clone(),
        },
    )
    .map_err(JobError::Disk)?;
    dev.sync(root).map_err(JobError::Disk)?;
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::tests::disk_pool;
    use crate::test_repo::{backup, new_repo};
    use hokan_disk::virt::{Shape, Sim};
    use hokan_offline::Location;
    use hokan_site::DiskAfterJob;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-20 22:00 UTC);

    fn request(medium: &str) -> FormatRequest<'_> {
        FormatRequest {
            medium,
            force: false,
            relabel: None,
            kind: MediumKind::RdxSingleDrive,
            retention: time::Duration::days(28),
            now: NOW,
            actor: "t",
        }
    }

    fn problem(e: &JobError) -> &FormatProblem {
        match e {
            JobError::Format { problem, .. } => problem,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cartridge_id_is_checked_before_anything_else() {
        let mut conf = disk_pool(DiskAfterJob::Eject);
        assert!(check_id(&conf, " RDX-TUE ").is_ok());
        for bad in ["", "RDX TUE", "RDX/1", &"x".repeat(65)] {
            let e = check_id(&conf, bad).unwrap_err();
            assert!(matches!(problem(&e), FormatProblem::InvalidId), "{bad:?}");
        }
        conf.cartridges = vec!["RDX-MON".into()];
        let e = check_id(&conf, "RDX-TUE").unwrap_err();
        assert!(
            matches!(problem(&e), FormatProblem::NotInPool { cartridges } if cartridges == &conf.cartridges),
            "{e:?}"
        );
    }

    /// A SIMULATED drive with a blank cartridge `RDX-1` in it, a catalog
    /// with one snapshot, and the pool `p`.
    struct Site {
        _dir: tempfile::TempDir,
        sim: Sim,
        dev: Box<dyn DiskDevice>,
        cat: Catalog,
        name: PoolName,
        conf: hokan_site::DiskPool,
        snapshot: hokan_format::Id,
    }

    fn site() -> Site {
        let (dir, repo) = new_repo();
        let snapshot = backup(&repo, "a", "2026-11-20T21:00:00Z");
        let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        crate::catalog::sync(&repo, &mut cat, Default::default(), NOW).unwrap();
        let sim = Sim::create(&dir.path().join("sim"), "rdx0", Shape::Drive).unwrap();
        sim.insert("RDX-1", None).unwrap();
        let dev: Box<dyn DiskDevice> = Box::new(sim.device().unwrap());
        Site {
            _dir: dir,
            sim,
            dev,
            cat,
            name: PoolName::new("p"),
            conf: disk_pool(DiskAfterJob::Eject),
            snapshot,
        }
    }

    impl Site {
        fn format(&mut self, req: &FormatRequest<'_>) -> Result<Formatted, JobError> {
            let pool = PoolRef {
                name: &self.name,
                conf: &self.conf,
            };
            format(
                self.dev.as_mut(),
                &mut self.cat,
                &Clock::new(req.now),
                pool,
                req,
            )
        }
    }

    #[test]
    fn a_blank_cartridge_in_a_simulated_drive_is_formatted_and_recorded_online() {
        let mut s = site();
        let done = s.format(&request("RDX-1")).unwrap();
        assert_eq!(done.medium.as_str(), "RDX-1");
        assert_eq!(done.device, "rdx0");
        assert!(done.simulated);
        let row = s.cat.medium(&MediumId::new("RDX-1")).unwrap();
        assert_eq!(row.pool, Some(s.name.clone()));
        assert_eq!(
            row.location.map(|o| o.location),
            Some(Location::InDrive {
                drive: hokan_offline::DeviceId::new("rdx0")
            })
        );
        // The label and an empty repository are on the cartridge, which is
        // detached again.
        let folder = s.sim.folder("RDX-1").unwrap();
        let label = read_label(&folder).unwrap().unwrap();
        assert_eq!((label.medium.as_str(), label.pool.as_str()), ("RDX-1", "p"));
        assert!(folder.join(REPOSITORY_DIR).is_dir());
        // The same cartridge formatted again: it carries its own id.
        s.format(&request("RDX-1")).unwrap();
        // …but not as another id without --relabel.
        let e = s.format(&request("RDX-2")).unwrap_err();
        match problem(&e) {
            FormatProblem::NoBlank { passed } => {
                assert!(
                    matches!(&passed[..], [Passed::CarriesAnotherId(seen)] if seen.id.as_deref() == Some("RDX-1")),
                    "{passed:?}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn copies_under_retention_keep_a_simulated_cartridge_from_being_formatted() {
        let mut s = site();
        s.format(&request("RDX-1")).unwrap();
        let clock = Clock::new(NOW + time::Duration::minutes(1));
        crate::disk::record_copies(
            &mut s.cat,
            &clock,
            "t",
            &[s.snapshot],
            &MediumId::new("RDX-1"),
            false,
        )
        .unwrap();
        let mut req = request("RDX-1");
        req.now = NOW + time::Duration::days(1);
        let e = s.format(&req).unwrap_err();
        assert!(
            matches!(problem(&e), FormatProblem::Retained { medium, .. } if medium.as_str() == "RDX-1"),
            "{e:?}"
        );
        assert_eq!(s.cat.copies().unwrap().len(), 2, "nothing changed");
        // Past retention, relabelled: the copy is erased, the old id retired.
        req.now = NOW + time::Duration::days(30);
        req.medium = "RDX-9";
        req.relabel = Some("RDX-1");
        s.format(&req).unwrap();
        let copies = s.cat.copies().unwrap();
        assert!(
            copies.iter().all(|c| c.medium.as_str() == "primary"),
            "{copies:?}"
        );
        assert_eq!(
            s.cat.medium(&MediumId::new("RDX-1")).unwrap().condition,
            Condition::Retired
        );
    }

    #[test]
    fn files_hokan_did_not_write_are_erased_only_with_force() {
        let mut s = site();
        let folder = s.sim.folder("RDX-1").unwrap();
        std::fs::write(folder.join("holiday.jpg"), b"x").unwrap();
        let e = s.format(&request("RDX-1")).unwrap_err();
        assert!(
            matches!(problem(&e), FormatProblem::ForeignFiles { files } if files == &["holiday.jpg".to_owned()]),
            "{e:?}"
        );
        assert!(
            s.cat.medium(&MediumId::new("RDX-1")).is_err(),
            "not recorded"
        );
        let mut req = request("RDX-1");
        req.force = true;
        s.format(&req).unwrap();
        assert!(!folder.join("holiday.jpg").exists());
    }

    #[test]
    fn no_cartridge_in_the_simulated_drive_names_nothing_passed_over() {
        let mut s = site();
        s.sim.pull("RDX-1").unwrap();
        let e = s.format(&request("RDX-1")).unwrap_err();
        assert!(
            matches!(&e, JobError::Format { device: Some(d), problem, .. } if d == "rdx0" && matches!(&**problem, FormatProblem::NoBlank { passed } if passed.is_empty())),
            "{e:?}"
        );
    }

    #[test]
    fn a_medium_of_another_pool_is_not_formatted_into_this_one() {
        let mut s = site();
        s.format(&request("RDX-1")).unwrap();
        let e = check_owner(&s.cat, &PoolName::new("other"), "RDX-1").unwrap_err();
        assert!(
            matches!(problem(&e), FormatProblem::OtherPool { pool: Some(p) } if p.as_str() == "p"),
            "{e:?}"
        );
        assert!(check_owner(&s.cat, &s.name, "RDX-1").is_ok());
        assert!(check_owner(&s.cat, &s.name, "RDX-NEW").is_ok());
    }
}
