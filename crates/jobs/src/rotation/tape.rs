//! Which cartridge a tape job writes to: pure, so the rotation rules are
//! tested without devices (moved from the `hokan` binary's `tape::select`).
//!
//! A cartridge may be written when it belongs to the pool, is in the library
//! (a storage slot or a drive, not the mail slot), is not already part of the
//! set being written, and its retention has passed (or it was never part of a
//! complete set). Among those, the one used longest ago goes first (never
//! used before all), so the pool rotates through its cartridges and each
//! generation lands on a different one.

use hokan_catalog::{Catalog, Retained};
use hokan_offline::MediumId;
use hokan_tape::ChangerStatus;
use time::OffsetDateTime;

use crate::JobError;

/// The pool's cartridges the library holds now (as its changer reports
/// them), with their retention and last use from the catalog.
pub fn candidates(
    cat: &Catalog,
    pool: &str,
    status: &ChangerStatus,
) -> Result<Vec<Candidate>, JobError> {
    let mut cands = Vec::new();
    for m in cat
        .media()?
        .iter()
        .filter(|m| m.pool.as_ref().is_some_and(|p| p.as_str() == pool))
    {
        let Some(place) = status.find(m.id.as_str()) else {
            continue;
        };
        let place = match place {
            Ok(d) => Place::Drive(d),
            Err(s) => match status.slots.iter().find(|x| x.number == s) {
                Some(x) if x.import_export => Place::MailSlot(s),
                _ => Place::Slot(s),
            },
        };
        cands.push(Candidate {
            medium: m.id.clone(),
            place,
            retained: cat.retention_of(&m.id)?,
            last_labeled: cat.sets_of(&m.id)?.iter().map(|s| s.started_at).max(),
        });
    }
    Ok(cands)
}

/// Where a candidate cartridge is in the library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A storage slot.
    Slot(u32),
    /// Already in a drive (index).
    Drive(u32),
    /// In the import/export slot: a person is about to take it out, or has
    /// just put it in; not used until it is moved to a storage slot.
    MailSlot(u32),
}

/// A cartridge the job could use.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Its id (barcode).
    pub medium: MediumId,
    /// Where it is.
    pub place: Place,
    /// Whether its data must still be kept.
    pub retained: Retained,
    /// When it was last labelled, if ever.
    pub last_labeled: Option<OffsetDateTime>,
}

/// Why no cartridge can be used: everything a message needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoCartridge {
    /// Pool cartridges whose retention has not passed, with the date.
    pub retained: Vec<(MediumId, OffsetDateTime)>,
    /// Pool cartridges that belong to a set still being written.
    pub in_open_set: Vec<(MediumId, String)>,
    /// Pool cartridges waiting in the mail slot.
    pub in_mail_slot: Vec<MediumId>,
    /// How many pool cartridges are in the library at all.
    pub in_library: usize,
}

/// Choose the cartridge for the next member of a set.
pub fn choose<'a>(
    candidates: &'a [Candidate],
    exclude: &[MediumId],
    now: OffsetDateTime,
) -> Result<&'a Candidate, NoCartridge> {
    let mut why = NoCartridge::default();
    let mut usable: Vec<&Candidate> = Vec::new();
    for c in candidates.iter().filter(|c| !exclude.contains(&c.medium)) {
        if let Place::MailSlot(_) = c.place {
            why.in_mail_slot.push(c.medium.clone());
            continue;
        }
        why.in_library += 1;
        match &c.retained {
            Retained::Free => usable.push(c),
            Retained::Until { at } if *at <= now => usable.push(c),
            Retained::Until { at } => why.retained.push((c.medium.clone(), *at)),
            Retained::OpenSet { set } => why.in_open_set.push((c.medium.clone(), set.clone())),
        }
    }
    usable.sort_by(|a, b| {
        // Never labelled first, then the oldest label; a cartridge already in
        // a drive wins a tie (no robot move); then by id for determinism.
        (
            a.last_labeled,
            !matches!(a.place, Place::Drive(_)),
            &a.medium,
        )
            .cmp(&(
                b.last_labeled,
                !matches!(b.place, Place::Drive(_)),
                &b.medium,
            ))
    });
    usable.first().copied().ok_or(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;

    const NOW: OffsetDateTime = datetime!(2026-11-23 01:00 UTC);

    fn c(id: &str, place: Place, retained: Retained, days_ago: Option<i64>) -> Candidate {
        Candidate {
            medium: id.into(),
            place,
            retained,
            last_labeled: days_ago.map(|d| NOW - Duration::days(d)),
        }
    }

    #[test]
    fn never_used_first_then_least_recently_used() {
        let cands = vec![
            c("A", Place::Slot(1), Retained::Free, Some(3)),
            c("B", Place::Slot(2), Retained::Free, Some(9)),
            c("C", Place::Slot(3), Retained::Free, None),
        ];
        assert_eq!(choose(&cands, &[], NOW).unwrap().medium.as_str(), "C");
        assert_eq!(
            choose(&cands, &["C".into()], NOW).unwrap().medium.as_str(),
            "B"
        );
    }

    #[test]
    fn retention_is_never_overridden_and_is_reported_with_its_date() {
        let until = NOW + Duration::days(2);
        let cands = vec![
            c("A", Place::Slot(1), Retained::Until { at: until }, Some(5)),
            c("B", Place::MailSlot(9), Retained::Free, None),
            c(
                "D",
                Place::Slot(4),
                Retained::OpenSet { set: "s1".into() },
                Some(0),
            ),
            c(
                "E",
                Place::Slot(5),
                Retained::Until {
                    at: NOW - Duration::hours(1),
                },
                Some(30),
            ),
        ];
        assert_eq!(choose(&cands, &[], NOW).unwrap().medium.as_str(), "E");
        let why = choose(&cands, &["E".into()], NOW).unwrap_err();
        assert_eq!(why.retained, vec![(MediumId::new("A"), until)]);
        assert_eq!(why.in_mail_slot, vec![MediumId::new("B")]);
        assert_eq!(why.in_open_set, vec![(MediumId::new("D"), "s1".into())]);
        assert_eq!(why.in_library, 2);
    }

    #[test]
    fn a_cartridge_in_the_drive_wins_a_tie() {
        let cands = vec![
            c("A", Place::Slot(1), Retained::Free, None),
            c("B", Place::Drive(0), Retained::Free, None),
        ];
        assert_eq!(choose(&cands, &[], NOW).unwrap().medium.as_str(), "B");
    }
}
