//! A small builder for sites, shared by the test binaries.
#![allow(dead_code)]

use hokan_offline::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The instant every test judges at: a Monday morning in Japan.
pub const NOW: OffsetDateTime = datetime!(2025-06-02 09:00 +09:00);

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn ago(d: i64) -> OffsetDateTime {
    NOW - Duration::days(d)
}

pub fn dev(id: &str) -> DeviceId {
    DeviceId::new(id)
}

pub fn drive() -> Location {
    Location::InDrive {
        drive: dev("drive1"),
    }
}

pub fn library_slot() -> Location {
    Location::LibrarySlot {
        library: dev("lib1"),
        slot: Some(4),
    }
}

pub fn mail_slot() -> Location {
    Location::MailSlot {
        library: dev("lib1"),
    }
}

pub fn exported() -> Location {
    Location::Exported {
        changer: dev("lib1"),
    }
}

pub fn ejected() -> Location {
    Location::Ejected {
        drive: Some(dev("drive1")),
    }
}

pub fn shelf() -> Location {
    Location::Shelf {
        place: Some("cabinet A".into()),
    }
}

pub fn offsite() -> Location {
    Location::Offsite {
        site: "bank vault".into(),
    }
}

pub fn inactive(autoloader: &str) -> Location {
    Location::InactiveSlot {
        autoloader: dev(autoloader),
        slot: Some(2),
    }
}

pub fn active(autoloader: &str) -> Location {
    Location::ActiveSlot {
        autoloader: dev(autoloader),
    }
}

pub fn connected() -> Location {
    Location::Connected {
        host: Some("backup01".into()),
    }
}

pub fn segmented(autoloader: Option<&str>) -> Claim {
    Claim::NetworkSegmented {
        autoloader: autoloader.map(dev),
    }
}

/// A site under construction.
#[derive(Clone, Debug, Default)]
pub struct Site {
    pub facts: Facts,
}

impl Site {
    pub fn new() -> Site {
        Site::default()
    }

    pub fn source(&mut self, name: &str) -> &mut Site {
        self.facts.sources.push(SourceName::new(name));
        self
    }

    /// A generation of `source` taken `days_ago` days before [`NOW`].
    pub fn generation(&mut self, source: &str, snapshot: &str, days_ago: i64) -> &mut Site {
        self.generation_at(source, snapshot, ago(days_ago))
    }

    pub fn generation_at(&mut self, source: &str, snapshot: &str, at: OffsetDateTime) -> &mut Site {
        self.facts.generations.push(Generation {
            snapshot: SnapshotId::new(snapshot),
            source: SourceName::new(source),
            taken_at: at,
        });
        self
    }

    pub fn medium(&mut self, id: &str, kind: MediumKind) -> &mut Site {
        self.medium_full(id, kind, Condition::Writable, None)
    }

    pub fn medium_full(
        &mut self,
        id: &str,
        kind: MediumKind,
        condition: Condition,
        pool: Option<&str>,
    ) -> &mut Site {
        self.facts.media.push(Medium {
            id: MediumId::new(id),
            kind,
            pool: pool.map(PoolName::new),
            condition,
        });
        self
    }

    fn taken(&self, snapshot: &str) -> OffsetDateTime {
        self.facts
            .generations
            .iter()
            .find(|g| g.snapshot.as_str() == snapshot)
            .map_or(ago(30), |g| g.taken_at)
    }

    /// A complete copy, made an hour after the generation was taken.
    pub fn copy(&mut self, snapshot: &str, medium: &str) -> &mut Site {
        let since = self.taken(snapshot) + Duration::hours(1);
        self.copy_full(snapshot, medium, since, true)
    }

    pub fn incomplete_copy(&mut self, snapshot: &str, medium: &str) -> &mut Site {
        let since = self.taken(snapshot) + Duration::hours(1);
        self.copy_full(snapshot, medium, since, false)
    }

    pub fn copy_full(
        &mut self,
        snapshot: &str,
        medium: &str,
        since: OffsetDateTime,
        complete: bool,
    ) -> &mut Site {
        self.facts.copies.push(Copy {
            snapshot: SnapshotId::new(snapshot),
            medium: MediumId::new(medium),
            since,
            complete,
            with: vec![],
            verified_at: None,
        });
        self
    }

    /// A complete copy of `snapshot` spanning the media set `set` (each
    /// cartridge holds part; the copy needs them all).
    pub fn copy_across(
        &mut self,
        snapshot: &str,
        set: &[&str],
        since: OffsetDateTime,
    ) -> &mut Site {
        for m in set {
            self.facts.copies.push(Copy {
                snapshot: SnapshotId::new(snapshot),
                medium: MediumId::new(*m),
                since,
                complete: true,
                with: set
                    .iter()
                    .filter(|o| *o != m)
                    .map(|o| MediumId::new(*o))
                    .collect(),
                verified_at: None,
            });
        }
        self
    }

    /// A device reported `medium` at `location` at `at`.
    pub fn device_saw(
        &mut self,
        medium: &str,
        location: Location,
        at: OffsetDateTime,
    ) -> &mut Site {
        self.facts.observations.push(Observation {
            medium: MediumId::new(medium),
            at,
            location,
            by: ObservedBy::Device {
                device: dev("lib1"),
            },
            note: None,
        });
        self
    }

    /// A person recorded `medium` at `location` at `at`.
    pub fn person_put(
        &mut self,
        medium: &str,
        location: Location,
        at: OffsetDateTime,
    ) -> &mut Site {
        self.facts.observations.push(Observation {
            medium: MediumId::new(medium),
            at,
            location,
            by: ObservedBy::Person {
                person: Person::new("Sato"),
            },
            note: None,
        });
        self
    }

    /// A device saw it there an hour ago: the usual fresh observation.
    pub fn at(&mut self, medium: &str, location: Location) -> &mut Site {
        self.device_saw(medium, location, NOW - Duration::hours(1))
    }

    pub fn protect(
        &mut self,
        medium: &str,
        snapshot: &str,
        mode: LockMode,
        retention: Retention,
    ) -> &mut Site {
        self.facts.protections.push(Protection {
            medium: MediumId::new(medium),
            snapshot: SnapshotId::new(snapshot),
            recorded_at: NOW - Duration::hours(2),
            mode,
            retention,
        });
        self
    }

    pub fn probe(&mut self, medium: &str, outcome: ProbeOutcome) -> &mut Site {
        self.facts.probes.push(LockProbe {
            medium: MediumId::new(medium),
            at: ago(1),
            outcome,
            detail: None,
        });
        self
    }

    /// An attestation valid from `valid_from` until `expires_at`.
    pub fn attest_between(
        &mut self,
        id: &str,
        claim: Claim,
        valid_from: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> &mut Site {
        self.facts.attestations.push(Attestation {
            id: AttestationId::new(id),
            claim,
            by: Person::new("Suzuki (network admin)"),
            evidence: "network diagram rev. 3, firewall rules 2025-05".into(),
            valid_from,
            expires_at,
            withdrawn_at: None,
        });
        self
    }

    /// An attestation made 30 days ago, valid for a year.
    pub fn attest(&mut self, id: &str, claim: Claim) -> &mut Site {
        self.attest_between(id, claim, ago(30), NOW + days(335))
    }

    pub fn eval(&self) -> Evaluation {
        evaluate(&self.facts, &Policy::default(), NOW)
    }

    pub fn eval_with(&self, options: PolicyOptions) -> Evaluation {
        evaluate(&self.facts, &Policy::new(&options).unwrap(), NOW)
    }
}

pub fn until_in(d: Duration) -> Retention {
    Retention::Until { until: NOW + d }
}

/// The verdict on the copy of `snapshot` on `medium`.
pub fn verdict<'a>(ev: &'a Evaluation, snapshot: &str, medium: &str) -> &'a CopyVerdict {
    ev.copies
        .iter()
        .find(|c| c.snapshot.as_str() == snapshot && c.medium.as_str() == medium)
        .unwrap_or_else(|| panic!("no verdict for {snapshot} on {medium}"))
}

/// The codes of every problem, site and source, most severe first.
pub fn codes(ev: &Evaluation) -> Vec<&'static str> {
    ev.all_problems().iter().map(|p| p.code.as_str()).collect()
}

pub fn problem(ev: &Evaluation, code: ProblemCode) -> &Problem {
    ev.all_problems()
        .into_iter()
        .find(|p| p.code == code)
        .unwrap_or_else(|| panic!("no {code} problem in {:?}", codes(ev)))
}

pub fn offline_count(ev: &Evaluation, source: &str) -> usize {
    ev.source(&SourceName::new(source))
        .map_or(0, |s| s.offline_generations.len())
}
