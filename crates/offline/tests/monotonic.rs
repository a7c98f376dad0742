//! Property tests on random sites: things that make media *more* reachable
//! (a medium going into a drive) or protections *end* (time passing a lock's
//! or an attestation's end) can never raise the number of offline generations
//! of any source. Also: the order of the facts never changes the answer.
//!
//! Every generated fact starts at or before `NOW` (as the catalog's would), so
//! moving `NOW` forward only lets things run out. The seed is fixed, so a run
//! is the same on every machine.

mod common;

use std::collections::BTreeMap;

use common::*;
use hokan_offline::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use time::{Duration, OffsetDateTime};

const KINDS: [MediumKind; 9] = [
    MediumKind::LtoSingleDrive,
    MediumKind::LtoLibrary,
    MediumKind::RdxSingleDrive,
    MediumKind::RdxAutoloader,
    MediumKind::RemovableDisk,
    MediumKind::ObjectStore,
    MediumKind::ImmutableStorage,
    MediumKind::PullVault,
    MediumKind::PrimaryDisk,
];

const SOURCES: [&str; 2] = ["emr", "pacs"];

/// An instant at most `max_days` before NOW, NOW itself included (ties matter).
fn before(max_days: i64) -> impl Strategy<Value = OffsetDateTime> {
    (0..=max_days * 24).prop_map(|h| NOW - Duration::hours(h))
}

fn location() -> impl Strategy<Value = Location> {
    let device = prop::sample::select(vec!["lib1", "al1", "al2", "drive1"]).prop_map(dev);
    prop_oneof![
        device.clone().prop_map(|drive| Location::InDrive { drive }),
        device
            .clone()
            .prop_map(|autoloader| Location::ActiveSlot { autoloader }),
        Just(Location::Connected { host: None }),
        device.clone().prop_map(|library| Location::LibrarySlot {
            library,
            slot: None
        }),
        device
            .clone()
            .prop_map(|library| Location::MailSlot { library }),
        device
            .clone()
            .prop_map(|autoloader| Location::InactiveSlot {
                autoloader,
                slot: None
            }),
        device
            .clone()
            .prop_map(|changer| Location::Exported { changer }),
        Just(Location::Ejected { drive: None }),
        Just(Location::Shelf { place: None }),
        Just(Location::Offsite {
            site: "bank".into()
        }),
        Just(Location::Unknown),
    ]
}

fn retention() -> impl Strategy<Value = Retention> {
    prop_oneof![
        Just(Retention::Unlocked),
        Just(Retention::Indefinite),
        (-20i64..60).prop_map(|d| Retention::Until {
            until: NOW + Duration::days(d)
        }),
    ]
}

fn mode() -> impl Strategy<Value = LockMode> {
    prop::sample::select(vec![
        LockMode::Compliance,
        LockMode::Governance,
        LockMode::ImmutableFlag,
        LockMode::WormServer,
    ])
}

#[derive(Clone, Debug)]
struct Raw {
    media: Vec<(usize, u8)>,
    generations: Vec<(usize, OffsetDateTime)>,
    copies: Vec<(usize, usize, bool)>,
    observations: Vec<(usize, OffsetDateTime, Location, bool)>,
    protections: Vec<(usize, usize, LockMode, Retention, OffsetDateTime)>,
    probes: Vec<(usize, bool, OffsetDateTime)>,
    attestations: Vec<(u8, usize, OffsetDateTime, i64, Option<i64>)>,
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        prop::collection::vec((0..KINDS.len(), 0u8..10), 1..7),
        prop::collection::vec((0..SOURCES.len(), before(30)), 0..8),
        prop::collection::vec((0usize..8, 0usize..7, prop::bool::weighted(0.85)), 0..20),
        prop::collection::vec((0usize..7, before(150), location(), any::<bool>()), 0..16),
        prop::collection::vec(
            (0usize..7, 0usize..8, mode(), retention(), before(10)),
            0..16,
        ),
        prop::collection::vec((0usize..7, prop::bool::weighted(0.8), before(10)), 0..4),
        prop::collection::vec(
            (
                0u8..5,
                0usize..7,
                before(200),
                -30i64..90,
                prop::option::weighted(0.2, -10i64..30),
            ),
            0..6,
        ),
    )
        .prop_map(
            |(media, generations, copies, observations, protections, probes, attestations)| Raw {
                media,
                generations,
                copies,
                observations,
                protections,
                probes,
                attestations,
            },
        )
}

fn build(raw: &Raw) -> Facts {
    let mut f = Facts::default();
    let mid = |i: usize| MediumId::new(format!("M{}", i % raw.media.len()));
    for (i, (k, c)) in raw.media.iter().enumerate() {
        f.media.push(Medium {
            id: MediumId::new(format!("M{i}")),
            kind: KINDS[*k],
            pool: None,
            condition: match c {
                0 => Condition::Damaged,
                1 => Condition::Retired,
                2..=4 => Condition::Full,
                _ => Condition::Writable,
            },
        });
    }
    for (i, (s, t)) in raw.generations.iter().enumerate() {
        f.generations.push(Generation {
            snapshot: SnapshotId::new(format!("g{i}")),
            source: SourceName::new(SOURCES[*s]),
            taken_at: *t,
        });
    }
    f.sources = SOURCES.iter().map(|s| SourceName::new(*s)).collect();
    if !raw.generations.is_empty() {
        for (g, m, complete) in &raw.copies {
            let g = g % raw.generations.len();
            let since = (raw.generations[g].1 + Duration::hours(1)).min(NOW);
            f.copies.push(Copy {
                snapshot: SnapshotId::new(format!("g{g}")),
                medium: mid(*m),
                since,
                complete: *complete,
                // Some copies span a media set of two cartridges.
                with: if *m % 3 == 0 {
                    vec![mid(*m + 1)]
                } else {
                    vec![]
                },
                verified_at: None,
            });
        }
        for (m, g, mode, retention, at) in &raw.protections {
            f.protections.push(Protection {
                medium: mid(*m),
                snapshot: SnapshotId::new(format!("g{}", g % raw.generations.len())),
                recorded_at: *at,
                mode: *mode,
                retention: *retention,
            });
        }
    }
    for (m, at, location, by_device) in &raw.observations {
        f.observations.push(Observation {
            medium: mid(*m),
            at: *at,
            location: location.clone(),
            by: if *by_device {
                ObservedBy::Device {
                    device: dev("lib1"),
                }
            } else {
                ObservedBy::Person {
                    person: Person::new("Sato"),
                }
            },
            note: None,
        });
    }
    for (m, held, at) in &raw.probes {
        f.probes.push(LockProbe {
            medium: mid(*m),
            at: *at,
            outcome: if *held {
                ProbeOutcome::Held
            } else {
                ProbeOutcome::Failed
            },
            detail: None,
        });
    }
    for (i, (kind, m, from, expires, withdrawn)) in raw.attestations.iter().enumerate() {
        let medium = mid(*m);
        let claim = match kind {
            0 => Claim::NetworkSegmented { autoloader: None },
            1 => Claim::NetworkSegmented {
                autoloader: Some(dev(if m % 2 == 0 { "al1" } else { "al2" })),
            },
            2 => Claim::ImmutableDevice { medium },
            3 => Claim::ProviderIsolation { medium },
            _ => Claim::PullOnlyVault { medium },
        };
        f.attestations.push(Attestation {
            id: AttestationId::new(format!("A{i}")),
            claim,
            by: Person::new("Suzuki"),
            evidence: "diagram".into(),
            valid_from: *from,
            expires_at: NOW + Duration::days(*expires),
            withdrawn_at: withdrawn.map(|d| NOW + Duration::days(d)),
        });
    }
    f
}

fn counts(facts: &Facts, now: OffsetDateTime) -> BTreeMap<String, usize> {
    let ev = evaluate(facts, &Policy::default(), now);
    ev.sources
        .iter()
        .map(|s| (s.source.to_string(), s.offline_generations.len()))
        .collect()
}

fn never_more(
    before: &BTreeMap<String, usize>,
    after: &BTreeMap<String, usize>,
) -> Result<(), TestCaseError> {
    for (source, n) in after {
        let was = before.get(source).copied().unwrap_or(0);
        prop_assert!(
            *n <= was,
            "source {source}: {was} offline generations became {n}"
        );
    }
    Ok(())
}

/// Every instant at or after NOW at which something runs out by itself.
fn deadlines(facts: &Facts) -> Vec<OffsetDateTime> {
    let mut out: Vec<OffsetDateTime> = Vec::new();
    for a in &facts.attestations {
        out.push(a.ends_at());
    }
    for p in &facts.protections {
        if let Retention::Until { until } = p.retention {
            out.push(until);
        }
    }
    let stale = Policy::default().max_person_location_age();
    for o in &facts.observations {
        out.push(o.at + stale);
    }
    out.retain(|t| *t >= NOW);
    out.sort();
    out.dedup();
    out
}

fn config() -> Config {
    Config {
        cases: 400,
        rng_seed: RngSeed::Fixed(0x686f_6b61_6e00),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn moving_any_medium_into_a_drive_never_raises_offline_generations(raw in raw()) {
        let facts = build(&raw);
        let before = counts(&facts, NOW);
        for m in &facts.media {
            for by_device in [true, false] {
                let mut moved = facts.clone();
                moved.observations.push(Observation {
                    medium: m.id.clone(),
                    at: NOW,
                    location: Location::InDrive { drive: dev("drive1") },
                    by: if by_device {
                        ObservedBy::Device { device: dev("drive1") }
                    } else {
                        ObservedBy::Person { person: Person::new("Tanaka") }
                    },
                    note: None,
                });
                never_more(&before, &counts(&moved, NOW))?;
            }
        }
    }

    #[test]
    fn letting_any_lock_or_attestation_run_out_never_raises_offline_generations(
        raw in raw(),
        jump in 0i64..(120 * 24),
    ) {
        let facts = build(&raw);
        let before = counts(&facts, NOW);
        let mut instants = deadlines(&facts);
        instants.push(NOW + Duration::hours(jump));
        let mut previous = before.clone();
        instants.sort();
        for t in instants {
            for now in [t, t + Duration::seconds(1)] {
                let after = counts(&facts, now);
                never_more(&before, &after)?;
                never_more(&previous, &after)?;
                previous = after;
            }
        }
    }

    #[test]
    fn the_order_of_the_facts_does_not_matter(raw in raw()) {
        let facts = build(&raw);
        let mut reversed = facts.clone();
        reversed.generations.reverse();
        reversed.copies.reverse();
        reversed.observations.reverse();
        reversed.protections.reverse();
        reversed.probes.reverse();
        reversed.attestations.reverse();
        prop_assert_eq!(
            evaluate(&facts, &Policy::default(), NOW),
            evaluate(&reversed, &Policy::default(), NOW)
        );
    }

    #[test]
    fn nothing_unobserved_is_offline(raw in raw()) {
        let facts = build(&raw);
        let ev = evaluate(&facts, &Policy::default(), NOW);
        for c in ev.copies.iter().filter(|c| c.verdict.is_offline()) {
            let kind = c.kind.expect("offline copies are on known media");
            if kind.is_carried() {
                prop_assert!(
                    facts.observations.iter().any(|o| o.medium == c.medium && o.at <= NOW),
                    "{} offline without any observation", c.medium
                );
            } else {
                let protected = facts.protections.iter().any(|p| p.medium == c.medium && p.snapshot == c.snapshot);
                let attested = facts.attestations.iter().any(|a| a.holds_at(NOW));
                prop_assert!(protected || attested, "{} offline with neither lock nor attestation", c.medium);
            }
            prop_assert!(c.considered.contains(&c.verdict.koban().unwrap()));
        }
        prop_assert_eq!(
            ev.compliant,
            ev.sources.iter().all(|s| s.compliant)
                && ev.problems.iter().all(|p| p.severity != Severity::Error)
        );
    }
}

/// Guards the properties above against being vacuous: the generator must
/// produce sites where generations are offline, and moves and expiries that
/// really lower the count.
#[test]
fn the_generator_reaches_interesting_sites() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(config());
    let (mut with_offline, mut lowered_by_move, mut lowered_by_time) = (0, 0, 0);
    let mut kobans = std::collections::BTreeSet::new();
    for _ in 0..400 {
        let facts = build(&raw().new_tree(&mut runner).unwrap().current());
        let ev = evaluate(&facts, &Policy::default(), NOW);
        kobans.extend(ev.copies.iter().filter_map(|c| c.verdict.koban()));
        let before = counts(&facts, NOW);
        if before.values().any(|n| *n > 0) {
            with_offline += 1;
        }
        let mut moved = facts.clone();
        for m in &facts.media {
            moved.observations.push(Observation {
                medium: m.id.clone(),
                at: NOW,
                location: Location::InDrive {
                    drive: dev("drive1"),
                },
                by: ObservedBy::Device {
                    device: dev("drive1"),
                },
                note: None,
            });
        }
        if counts(&moved, NOW) != before {
            lowered_by_move += 1;
        }
        if counts(&facts, NOW + Duration::days(120)) != before {
            lowered_by_time += 1;
        }
    }
    eprintln!("{with_offline} with offline generations, {lowered_by_move} lowered by moves, {lowered_by_time} by time; 項番 seen: {kobans:?}");
    assert!(with_offline > 80, "{with_offline}");
    assert!(lowered_by_move > 30, "{lowered_by_move}");
    assert!(lowered_by_time > 30, "{lowered_by_time}");
    assert_eq!(kobans.len(), Koban::ALL.len(), "{kobans:?}");
}
