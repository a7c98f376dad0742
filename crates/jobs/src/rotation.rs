//! Tonight's medium: the [`RotationPlan`] of a pool, as data.
//!
//! A plan says which cartridge tonight's job will write ([`Tonight`]) and,
//! once what the device reaches is known, what a person must do first
//! ([`FirstStep`], e.g. insert `RDX-TUE`). It is pure (no device, no
//! catalog), so `status`, the dashboard and a daemon can show the plan
//! before the job runs, and the rotation rules are tested without devices.
//! The sentences are the caller's.
//!
//! - Disk pools rotate by the calendar ([`RotationPlan::disk`]): a weekday
//!   rotation names Monday's to Friday's cartridge, a weekly one the
//!   cartridge of the ISO week, `any` whichever pool cartridge is inserted.
//! - Tape pools choose among the cartridges in the library by retention
//!   and age ([`tape::choose`]).

pub mod tape;

use hokan_offline::MediumId;
use hokan_site::Rotation;
use time::{OffsetDateTime, Weekday};

/// Which cartridge tonight's job of a pool writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tonight {
    /// This one.
    Cartridge(MediumId),
    /// The rotation has no cartridge for this day (a weekday rotation of
    /// five cartridges on a Saturday): no job tonight.
    NoneToday(Weekday),
    /// Any cartridge of the pool.
    Any,
}

/// What a person must do before tonight's job can run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FirstStep {
    /// Insert this cartridge (the device does not reach it now).
    Insert(MediumId),
    /// Insert any formatted cartridge of the pool (the device reaches none).
    InsertAnyOfPool,
}

/// Tonight's medium of a pool, and what a person must do first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationPlan {
    /// The cartridge tonight's job writes.
    pub tonight: Tonight,
    /// What a person must do first; `None` when nothing (or when what the
    /// device reaches is not known yet: see [`RotationPlan::reaching`]).
    pub first: Option<FirstStep>,
}

impl RotationPlan {
    /// The plan of a disk pool with this rotation and these cartridges
    /// (`cartridges[0]` is Monday's), at `now` in the site's zone.
    pub fn disk(rotation: Rotation, cartridges: &[String], now: OffsetDateTime) -> RotationPlan {
        let tonight = match rotation {
            Rotation::Any => Tonight::Any,
            Rotation::Weekday => {
                let day = now.weekday();
                match cartridges.get(day.number_days_from_monday() as usize) {
                    Some(c) => Tonight::Cartridge(MediumId::new(c.as_str())),
                    None => Tonight::NoneToday(day),
                }
            }
            Rotation::Weekly if cartridges.is_empty() => Tonight::Any,
            Rotation::Weekly => {
                let week = now.iso_week() as usize;
                Tonight::Cartridge(MediumId::new(cartridges[week % cartridges.len()].as_str()))
            }
        };
        RotationPlan {
            tonight,
            first: None,
        }
    }

    /// The plan of a tape library's pool: the cartridge the next set would
    /// start on ([`tape::choose`] among those the library holds now), or,
    /// when none may be written, that a person must first put one in.
    pub fn tape(candidates: &[tape::Candidate], now: OffsetDateTime) -> RotationPlan {
        match tape::choose(candidates, &[], now) {
            Ok(c) => RotationPlan {
                tonight: Tonight::Cartridge(c.medium.clone()),
                first: None,
            },
            Err(_) => RotationPlan {
                tonight: Tonight::Any,
                first: Some(FirstStep::InsertAnyOfPool),
            },
        }
    }

    /// The plan, knowing the pool cartridges the device reaches now: the
    /// first step is to insert tonight's cartridge when it is not among
    /// them (or any pool cartridge when none is).
    pub fn reaching(mut self, reachable: &[MediumId]) -> RotationPlan {
        self.first = match &self.tonight {
            Tonight::Cartridge(c) if !reachable.contains(c) => Some(FirstStep::Insert(c.clone())),
            Tonight::Any if reachable.is_empty() => Some(FirstStep::InsertAnyOfPool),
            _ => None,
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn five() -> Vec<String> {
        ["RDX-MON", "RDX-TUE", "RDX-WED", "RDX-THU", "RDX-FRI"]
            .map(String::from)
            .to_vec()
    }

    fn cartridge(id: &str) -> Tonight {
        Tonight::Cartridge(MediumId::new(id))
    }

    #[test]
    fn weekday_rotation_names_the_days_cartridge_and_none_at_the_weekend() {
        let tue = datetime!(2026-11-24 22:00 +09:00);
        assert_eq!(
            RotationPlan::disk(Rotation::Weekday, &five(), tue).tonight,
            cartridge("RDX-TUE")
        );
        let fri = datetime!(2026-11-27 22:00 +09:00);
        assert_eq!(
            RotationPlan::disk(Rotation::Weekday, &five(), fri).tonight,
            cartridge("RDX-FRI")
        );
        let sat = datetime!(2026-11-28 22:00 +09:00);
        assert_eq!(
            RotationPlan::disk(Rotation::Weekday, &five(), sat),
            RotationPlan {
                tonight: Tonight::NoneToday(Weekday::Saturday),
                first: None
            }
        );
    }

    /// The day is the site's: 23:30 on Monday in Tokyo is still Monday,
    /// although it is Monday 14:30 UTC; 08:00 Tuesday in Tokyo is Monday
    /// in UTC, and the caller must pass the site's offset.
    #[test]
    fn the_day_is_taken_in_the_offset_given() {
        let t = datetime!(2026-11-24 08:00 +09:00);
        assert_eq!(
            RotationPlan::disk(Rotation::Weekday, &five(), t).tonight,
            cartridge("RDX-TUE")
        );
        assert_eq!(
            RotationPlan::disk(
                Rotation::Weekday,
                &five(),
                t.to_offset(time::UtcOffset::UTC)
            )
            .tonight,
            cartridge("RDX-MON")
        );
    }

    #[test]
    fn weekly_rotation_changes_with_the_iso_week_and_any_is_any() {
        let c = vec!["A".to_owned(), "B".to_owned()];
        let mon = RotationPlan::disk(Rotation::Weekly, &c, datetime!(2026-11-23 22:00 +09:00));
        let next = RotationPlan::disk(Rotation::Weekly, &c, datetime!(2026-11-30 22:00 +09:00));
        let sun = RotationPlan::disk(Rotation::Weekly, &c, datetime!(2026-11-29 22:00 +09:00));
        assert_ne!(mon.tonight, next.tonight);
        assert_eq!(mon.tonight, sun.tonight, "Monday to Sunday is one ISO week");
        // ISO week 48 of 2026: 48 % 2 == 0.
        assert_eq!(mon.tonight, cartridge("A"));
        assert_eq!(
            RotationPlan::disk(Rotation::Weekly, &[], datetime!(2026-11-23 22:00 +09:00)).tonight,
            Tonight::Any
        );
        assert_eq!(
            RotationPlan::disk(Rotation::Any, &c, datetime!(2026-11-23 22:00 +09:00)).tonight,
            Tonight::Any
        );
    }

    #[test]
    fn the_first_step_is_to_insert_tonights_cartridge_when_the_device_lacks_it() {
        let tue = datetime!(2026-11-24 22:00 +09:00);
        let plan = RotationPlan::disk(Rotation::Weekday, &five(), tue);
        assert_eq!(
            plan.clone().reaching(&[MediumId::new("RDX-MON")]).first,
            Some(FirstStep::Insert(MediumId::new("RDX-TUE")))
        );
        assert_eq!(plan.reaching(&[MediumId::new("RDX-TUE")]).first, None);
        let sat = datetime!(2026-11-28 22:00 +09:00);
        assert_eq!(
            RotationPlan::disk(Rotation::Weekday, &five(), sat)
                .reaching(&[])
                .first,
            None,
            "no job tonight: nothing to insert"
        );
        let any = RotationPlan::disk(Rotation::Any, &five(), sat);
        assert_eq!(
            any.clone().reaching(&[]).first,
            Some(FirstStep::InsertAnyOfPool)
        );
        assert_eq!(any.reaching(&[MediumId::new("RDX-WED")]).first, None);
    }

    #[test]
    fn a_tape_pool_names_the_next_cartridge_or_asks_for_one() {
        use hokan_catalog::Retained;
        use tape::{Candidate, Place};
        let now = datetime!(2026-11-24 22:00 +09:00);
        let cand = |id: &str, retained| Candidate {
            medium: MediumId::new(id),
            place: Place::Slot(1),
            retained,
            last_labeled: None,
        };
        let free = [cand("T1", Retained::Free)];
        assert_eq!(RotationPlan::tape(&free, now).tonight, cartridge("T1"));
        assert_eq!(RotationPlan::tape(&free, now).first, None);
        let kept = [cand(
            "T1",
            Retained::Until {
                at: now + time::Duration::days(3),
            },
        )];
        let plan = RotationPlan::tape(&kept, now);
        assert_eq!(plan.tonight, Tonight::Any);
        assert_eq!(plan.first, Some(FirstStep::InsertAnyOfPool));
        assert_eq!(
            RotationPlan::tape(&[], now).first,
            Some(FirstStep::InsertAnyOfPool)
        );
    }
}
