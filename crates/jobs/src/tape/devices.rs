//! Opening a pool's drive and changer from its settings: the SIMULATED
//! library (`hokan_tape::virt`) when the pool names a `virtual_library`,
//! else the real devices (Linux `st` drive and `mtx` changer).
//!
//! Mistakes in the settings are [`JobError::TapePoolSettings`], whose
//! [`SettingsProblem`] the caller puts in its words.

use hokan_site::{TapeMode, TapePool};
use hokan_tape::virt::VirtualLibrary;
use hokan_tape::Changer;

use super::inventory::drive_name;
use super::library::Devices;
use crate::JobError;

/// What is wrong with a tape pool's device settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsProblem {
    /// No `device` (the drive's no-rewind device) and no
    /// `virtual_library`.
    #[error("no `device` and no `virtual_library`")]
    NoDevice,
    /// A library without `changer` (its SCSI generic device).
    #[error("a library needs `changer`")]
    NoChanger,
    /// Real tape drives on a system other than Linux.
    #[error("tape drives are supported on Linux only")]
    Unsupported,
}

/// Open the devices of the tape pool `pool` with settings `conf`.
pub fn open(pool: &str, conf: &TapePool) -> Result<Devices, JobError> {
    let single = conf.mode == TapeMode::SingleDrive;
    if let Some(dir) = &conf.virtual_library {
        let lib = VirtualLibrary::open(dir).map_err(JobError::Tape)?;
        let name = lib.name();
        let changer: Option<Box<dyn Changer>> = if single {
            None
        } else {
            Some(Box::new(lib.changer().map_err(JobError::Tape)?))
        };
        let drive = lib.drive(conf.drive).map_err(JobError::Tape)?;
        let drive_id = if single {
            name.clone()
        } else {
            drive_name(&name, conf.drive).to_string()
        };
        return Ok(Devices {
            library: name,
            drive_id,
            simulated: true,
            drive_index: conf.drive,
            changer,
            drive: Box::new(drive),
        });
    }
    real(pool, conf, single)
}

fn settings(pool: &str, problem: SettingsProblem) -> JobError {
    JobError::TapePoolSettings {
        pool: pool.to_owned(),
        problem,
    }
}

#[cfg(target_os = "linux")]
fn real(pool: &str, conf: &TapePool, single: bool) -> Result<Devices, JobError> {
    use hokan_tape::linux::{MtxChanger, StDrive};
    let Some(device) = &conf.device else {
        return Err(settings(pool, SettingsProblem::NoDevice));
    };
    let changer: Option<Box<dyn Changer>> = match (&conf.changer, single) {
        (_, true) => None,
        (Some(c), false) => Some(Box::new(MtxChanger::new(c.as_str()))),
        (None, false) => return Err(settings(pool, SettingsProblem::NoChanger)),
    };
    let library = match &conf.changer {
        Some(c) if !single => c.clone(),
        _ => device.clone(),
    };
    let drive_id = if single {
        device.clone()
    } else {
        drive_name(&library, conf.drive).to_string()
    };
    Ok(Devices {
        library,
        drive_id,
        simulated: false,
        drive_index: conf.drive,
        changer,
        drive: Box::new(StDrive::new(device.as_str())),
    })
}

#[cfg(not(target_os = "linux"))]
fn real(pool: &str, _conf: &TapePool, _single: bool) -> Result<Devices, JobError> {
    Err(settings(pool, SettingsProblem::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hokan_site::{AfterJob, Allocation};
    use hokan_tape::virt::LibraryShape;

    fn conf(mode: TapeMode, virtual_library: Option<std::path::PathBuf>) -> TapePool {
        TapePool {
            mode,
            after_job: AfterJob::Unload,
            allocation: Allocation::Weekday,
            device: None,
            changer: None,
            drive: 0,
            virtual_library,
        }
    }

    #[test]
    fn a_simulated_library_opens_with_its_changer() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("lib");
        VirtualLibrary::create(&at, "vtl-p", LibraryShape::library(1, 4, 1)).unwrap();
        let mut dev = open("p", &conf(TapeMode::Library, Some(at))).unwrap();
        assert!(dev.simulated);
        assert_eq!(dev.library, "vtl-p");
        assert_eq!(dev.drive_id, drive_name("vtl-p", 0).to_string());
        assert_eq!(dev.changer_status().unwrap().slots.len(), 5);
    }

    #[test]
    fn a_simulated_single_drive_is_named_after_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("lib");
        VirtualLibrary::create(&at, "vtl-s", LibraryShape::single_drive()).unwrap();
        let dev = open("s", &conf(TapeMode::SingleDrive, Some(at))).unwrap();
        assert!(dev.changer.is_none());
        assert_eq!(dev.drive_id, "vtl-s");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn real_devices_need_their_settings() {
        let e = open("p", &conf(TapeMode::Library, None)).err().unwrap();
        assert!(matches!(
            e,
            JobError::TapePoolSettings {
                problem: SettingsProblem::NoDevice,
                ..
            }
        ));
        let mut c = conf(TapeMode::Library, None);
        c.device = Some("/dev/nst0".into());
        let e = open("p", &c).err().unwrap();
        assert!(matches!(
            e,
            JobError::TapePoolSettings {
                problem: SettingsProblem::NoChanger,
                ..
            }
        ));
        c.mode = TapeMode::SingleDrive;
        let dev = open("p", &c).unwrap();
        assert_eq!(dev.drive_id, "/dev/nst0");
        assert!(!dev.simulated);
    }
}
