//! Every 項番 of the definitions, positive and negative, as one table.
//!
//! Each row builds a site with one source, one generation taken yesterday and
//! one complete copy of it on medium `M1` of the row's kind, applies the
//! row's facts, and checks the copy's verdict. Rows whose verdict is not
//! offline name the 項番 whose "does NOT count" column they exercise; a test
//! at the end checks that every 項番 has both kinds of row.

mod common;

use common::*;
use hokan_offline::*;
use time::Duration;

use Koban as Kb;
use MediumKind as K;
use WeakerReason as W;

#[derive(Debug)]
enum Expect {
    Full(Koban),
    Weaker(Koban, &'static [WeakerReason]),
    Online(fn(&OnlineReason) -> bool),
    Unknown(fn(&Missing) -> bool),
}

struct Row {
    name: &'static str,
    kind: MediumKind,
    facts: fn(&mut Site),
    expect: Expect,
    /// For rows that must not count: whose "does NOT count" column this is.
    negative_of: &'static [Koban],
}

fn held(s: &mut Site) {
    s.probe("M1", ProbeOutcome::Held);
}

fn rows() -> Vec<Row> {
    vec![
        // ①-1-1 LTO, single drive.
        Row {
            name: "①-1-1 ejected from the drive",
            kind: K::LtoSingleDrive,
            facts: |s| {
                s.at("M1", ejected());
            },
            expect: Expect::Full(Kb::LtoEjected),
            negative_of: &[],
        },
        Row {
            name: "①-1-1 put on a shelf by a person",
            kind: K::LtoSingleDrive,
            facts: |s| {
                s.person_put("M1", shelf(), ago(2));
            },
            expect: Expect::Full(Kb::LtoEjected),
            negative_of: &[],
        },
        Row {
            name: "①-1-1 offsite",
            kind: K::LtoSingleDrive,
            facts: |s| {
                s.person_put("M1", offsite(), ago(2));
            },
            expect: Expect::Full(Kb::LtoEjected),
            negative_of: &[],
        },
        Row {
            name: "①-1-1 NOT: still in the drive",
            kind: K::LtoSingleDrive,
            facts: |s| {
                s.at("M1", drive());
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::InDrive { .. })),
            negative_of: &[Kb::LtoEjected],
        },
        // ①-2-1 / ①-2-2 LTO, library.
        Row {
            name: "①-2-1 in a library slot",
            kind: K::LtoLibrary,
            facts: |s| {
                s.at("M1", library_slot());
            },
            expect: Expect::Full(Kb::LtoInLibrarySlot),
            negative_of: &[],
        },
        Row {
            name: "①-2-1 mail slot is still inside the library",
            kind: K::LtoLibrary,
            facts: |s| {
                s.at("M1", mail_slot());
            },
            expect: Expect::Full(Kb::LtoInLibrarySlot),
            negative_of: &[],
        },
        Row {
            name: "①-2-2 exported out of the library",
            kind: K::LtoLibrary,
            facts: |s| {
                s.at("M1", exported());
            },
            expect: Expect::Full(Kb::LtoExported),
            negative_of: &[],
        },
        Row {
            name: "①-2-2 offsite",
            kind: K::LtoLibrary,
            facts: |s| {
                s.person_put("M1", offsite(), ago(1));
            },
            expect: Expect::Full(Kb::LtoExported),
            negative_of: &[],
        },
        Row {
            name: "①-2-x NOT: in a drive of the library",
            kind: K::LtoLibrary,
            facts: |s| {
                s.at("M1", drive());
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::InDrive { .. })),
            negative_of: &[Kb::LtoInLibrarySlot, Kb::LtoExported],
        },
        Row {
            name: "①-2-1 NOT: back in a drive after the slot",
            kind: K::LtoLibrary,
            facts: |s| {
                s.device_saw("M1", library_slot(), ago(3)).at("M1", drive());
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::InDrive { .. })),
            negative_of: &[Kb::LtoInLibrarySlot],
        },
        // ②-1-1 RDX single drive, and removable disks by the note.
        Row {
            name: "②-1-1 RDX ejected",
            kind: K::RdxSingleDrive,
            facts: |s| {
                s.at("M1", ejected());
            },
            expect: Expect::Full(Kb::RdxEjected),
            negative_of: &[],
        },
        Row {
            name: "②-1-1 removable disk unplugged",
            kind: K::RemovableDisk,
            facts: |s| {
                s.person_put("M1", Location::Ejected { drive: None }, ago(1));
            },
            expect: Expect::Full(Kb::RdxEjected),
            negative_of: &[],
        },
        Row {
            name: "②-1-1 removable disk on the shelf",
            kind: K::RemovableDisk,
            facts: |s| {
                s.person_put("M1", shelf(), ago(1));
            },
            expect: Expect::Full(Kb::RdxEjected),
            negative_of: &[],
        },
        Row {
            name: "②-1-1 NOT: RDX inserted in the drive",
            kind: K::RdxSingleDrive,
            facts: |s| {
                s.at("M1", drive());
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::InDrive { .. })),
            negative_of: &[Kb::RdxEjected],
        },
        Row {
            name: "②-1-1 NOT: removable disk connected",
            kind: K::RemovableDisk,
            facts: |s| {
                s.at("M1", connected());
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::Connected { .. })),
            negative_of: &[Kb::RdxEjected],
        },
        // ②-2-1 / ②-2-2 RDX autoloader.
        Row {
            name: "②-2-1 inactive slot + segmentation of this autoloader",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at("M1", inactive("al1"))
                    .attest("A1", segmented(Some("al1")));
            },
            expect: Expect::Full(Kb::RdxInactiveSlotSegmented),
            negative_of: &[],
        },
        Row {
            name: "②-2-1 inactive slot + site-wide segmentation",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at("M1", inactive("al1")).attest("A1", segmented(None));
            },
            expect: Expect::Full(Kb::RdxInactiveSlotSegmented),
            negative_of: &[],
        },
        Row {
            name: "②-2-1 NOT: active slot, even when segmented",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at("M1", active("al1")).attest("A1", segmented(None));
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::ActiveSlot { .. })),
            negative_of: &[Kb::RdxInactiveSlotSegmented],
        },
        Row {
            name: "②-2-1 NOT: inactive slot, networks not attested segmented",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at("M1", inactive("al1"));
            },
            expect: Expect::Online(|r| {
                matches!(r, OnlineReason::NotSegmented { lapsed: None, .. })
            }),
            negative_of: &[Kb::RdxInactiveSlotSegmented],
        },
        Row {
            name: "②-2-1 NOT: segmentation attested for another autoloader",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at("M1", inactive("al1"))
                    .attest("A1", segmented(Some("al2")));
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::NotSegmented { .. })),
            negative_of: &[Kb::RdxInactiveSlotSegmented],
        },
        Row {
            name: "②-2-1 NOT: segmentation attestation expired",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at("M1", inactive("al1")).attest_between(
                    "A1",
                    segmented(None),
                    ago(400),
                    ago(35),
                );
            },
            expect: Expect::Online(
                |r| matches!(r, OnlineReason::NotSegmented { lapsed: Some(l), .. } if l.id.as_str() == "A1"),
            ),
            negative_of: &[Kb::RdxInactiveSlotSegmented],
        },
        Row {
            name: "②-2-1 NOT: segmentation attested only from next week",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at("M1", inactive("al1")).attest_between(
                    "A1",
                    segmented(None),
                    NOW + days(7),
                    NOW + days(300),
                );
            },
            expect: Expect::Online(|r| {
                matches!(r, OnlineReason::NotSegmented { lapsed: None, .. })
            }),
            negative_of: &[Kb::RdxInactiveSlotSegmented],
        },
        Row {
            name: "②-2-2 ejected from the autoloader",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.at(
                    "M1",
                    Location::Exported {
                        changer: dev("al1"),
                    },
                );
            },
            expect: Expect::Full(Kb::RdxExported),
            negative_of: &[],
        },
        Row {
            name: "②-2-2 on the shelf",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.person_put("M1", shelf(), ago(1));
            },
            expect: Expect::Full(Kb::RdxExported),
            negative_of: &[],
        },
        Row {
            name: "②-2-2 NOT: cartridge in a slot (and networks not segmented)",
            kind: K::RdxAutoloader,
            facts: |s| {
                s.person_put("M1", shelf(), ago(3))
                    .at("M1", inactive("al1"));
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::NotSegmented { .. })),
            negative_of: &[Kb::RdxExported],
        },
        // ③-1 cloud storage.
        Row {
            name: "③-1 compliance-mode lock, tested",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Compliance, until_in(days(60)));
                held(s);
            },
            expect: Expect::Full(Kb::CloudImmutable),
            negative_of: &[],
        },
        Row {
            name: "③-1 indefinite hold, tested",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Compliance, Retention::Indefinite);
                held(s);
            },
            expect: Expect::Full(Kb::CloudImmutable),
            negative_of: &[],
        },
        Row {
            name: "③-1 provider isolation attested, no lock",
            kind: K::ObjectStore,
            facts: |s| {
                s.attest(
                    "A1",
                    Claim::ProviderIsolation {
                        medium: MediumId::new("M1"),
                    },
                );
            },
            expect: Expect::Full(Kb::CloudImmutable),
            negative_of: &[],
        },
        Row {
            name: "③-1 governance mode is weaker",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Governance, until_in(days(60)));
                held(s);
            },
            expect: Expect::Weaker(Kb::CloudImmutable, &[W::GovernanceMode]),
            negative_of: &[],
        },
        Row {
            name: "③-1 lock never tested is weaker",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Compliance, until_in(days(60)));
            },
            expect: Expect::Weaker(Kb::CloudImmutable, &[W::LockNeverProbed]),
            negative_of: &[],
        },
        Row {
            name: "③-1 immutable flag without ④-1 attestation is weaker",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::ImmutableFlag, until_in(days(60)));
                held(s);
            },
            expect: Expect::Weaker(Kb::CloudImmutable, &[W::FlagClearable]),
            negative_of: &[],
        },
        Row {
            name: "③-1 NOT: not locked, deletable over the network",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Compliance, Retention::Unlocked);
                held(s);
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::Unlocked)),
            negative_of: &[Kb::CloudImmutable],
        },
        Row {
            name: "③-1 NOT: retention ended yesterday",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Compliance, until_in(-days(1)));
                held(s);
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::RetentionExpired { .. })),
            negative_of: &[Kb::CloudImmutable],
        },
        Row {
            name: "③-1 NOT: retention ends exactly now",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Compliance, until_in(Duration::ZERO));
                held(s);
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::RetentionExpired { .. })),
            negative_of: &[Kb::CloudImmutable],
        },
        Row {
            name: "③-1 NOT: lock test deleted data, isolation attested or not",
            kind: K::ObjectStore,
            facts: |s| {
                s.protect("M1", "g1", LockMode::Compliance, until_in(days(60)))
                    .probe("M1", ProbeOutcome::Failed)
                    .attest(
                        "A1",
                        Claim::ProviderIsolation {
                            medium: MediumId::new("M1"),
                        },
                    );
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::ProbeFailed { .. })),
            negative_of: &[Kb::CloudImmutable],
        },
        Row {
            name: "③-1 unknown: no lock recorded",
            kind: K::ObjectStore,
            facts: |_| {},
            expect: Expect::Unknown(|m| matches!(m, Missing::NoProtectionRecorded)),
            negative_of: &[Kb::CloudImmutable],
        },
        // ④-1 immutable device.
        Row {
            name: "④-1 WORM area, attested, tested",
            kind: K::ImmutableStorage,
            facts: |s| {
                s.protect("M1", "g1", LockMode::WormServer, until_in(days(30)))
                    .attest(
                        "A1",
                        Claim::ImmutableDevice {
                            medium: MediumId::new("M1"),
                        },
                    );
                held(s);
            },
            expect: Expect::Full(Kb::ImmutableDevice),
            negative_of: &[],
        },
        Row {
            name: "④-1 immutable flag on an attested device is full",
            kind: K::ImmutableStorage,
            facts: |s| {
                s.protect("M1", "g1", LockMode::ImmutableFlag, Retention::Indefinite)
                    .attest(
                        "A1",
                        Claim::ImmutableDevice {
                            medium: MediumId::new("M1"),
                        },
                    );
                held(s);
            },
            expect: Expect::Full(Kb::ImmutableDevice),
            negative_of: &[],
        },
        Row {
            name: "④-1 NOT: mutable area of the device",
            kind: K::ImmutableStorage,
            facts: |s| {
                s.protect("M1", "g1", LockMode::WormServer, Retention::Unlocked)
                    .attest(
                        "A1",
                        Claim::ImmutableDevice {
                            medium: MediumId::new("M1"),
                        },
                    );
                held(s);
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::Unlocked)),
            negative_of: &[Kb::ImmutableDevice],
        },
        Row {
            name: "④-1 unknown: nobody attested the device immutable",
            kind: K::ImmutableStorage,
            facts: |s| {
                s.protect("M1", "g1", LockMode::WormServer, until_in(days(30)));
                held(s);
            },
            expect: Expect::Unknown(|m| {
                matches!(
                    m,
                    Missing::Attestation {
                        claim: Claim::ImmutableDevice { .. },
                        lapsed: None
                    }
                )
            }),
            negative_of: &[Kb::ImmutableDevice],
        },
        Row {
            name: "④-1 unknown: the device's attestation expired",
            kind: K::ImmutableStorage,
            facts: |s| {
                s.protect("M1", "g1", LockMode::WormServer, until_in(days(30)))
                    .attest_between(
                        "A1",
                        Claim::ImmutableDevice {
                            medium: MediumId::new("M1"),
                        },
                        ago(400),
                        ago(1),
                    );
                held(s);
            },
            expect: Expect::Unknown(|m| {
                matches!(
                    m,
                    Missing::Attestation {
                        lapsed: Some(_),
                        ..
                    }
                )
            }),
            negative_of: &[Kb::ImmutableDevice],
        },
        // ⑤-1 access control.
        Row {
            name: "⑤-1 pull-only vault behind a firewall, attested",
            kind: K::PullVault,
            facts: |s| {
                s.attest(
                    "A1",
                    Claim::PullOnlyVault {
                        medium: MediumId::new("M1"),
                    },
                );
            },
            expect: Expect::Full(Kb::AccessControlled),
            negative_of: &[],
        },
        Row {
            name: "⑤-1 NOT: the vault could be written to (lock test deleted data)",
            kind: K::PullVault,
            facts: |s| {
                s.attest(
                    "A1",
                    Claim::PullOnlyVault {
                        medium: MediumId::new("M1"),
                    },
                )
                .probe("M1", ProbeOutcome::Failed);
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::ProbeFailed { .. })),
            negative_of: &[Kb::AccessControlled],
        },
        Row {
            name: "⑤-1 unknown: nobody attested the firewall",
            kind: K::PullVault,
            facts: |_| {},
            expect: Expect::Unknown(|m| {
                matches!(
                    m,
                    Missing::Attestation {
                        claim: Claim::PullOnlyVault { .. },
                        ..
                    }
                )
            }),
            negative_of: &[Kb::AccessControlled],
        },
        Row {
            name: "④-1 via a vault's WORM retention, without pull-only attestation",
            kind: K::PullVault,
            facts: |s| {
                s.protect("M1", "g1", LockMode::WormServer, until_in(days(30)))
                    .attest(
                        "A1",
                        Claim::ImmutableDevice {
                            medium: MediumId::new("M1"),
                        },
                    );
                held(s);
            },
            expect: Expect::Full(Kb::ImmutableDevice),
            negative_of: &[],
        },
        // The primary repository.
        Row {
            name: "primary repository disk is never offline",
            kind: K::PrimaryDisk,
            facts: |s| {
                s.person_put("M1", offsite(), ago(1));
            },
            expect: Expect::Online(|r| matches!(r, OnlineReason::PrimaryDisk)),
            negative_of: &[],
        },
    ]
}

fn run(row: &Row) -> Evaluation {
    let mut site = Site::new();
    site.source("emr")
        .generation("emr", "g1", 1)
        .medium("M1", row.kind)
        .copy("g1", "M1");
    (row.facts)(&mut site);
    site.eval()
}

#[test]
fn every_row_gives_its_verdict() {
    let mut failures = Vec::new();
    for row in rows() {
        let ev = run(&row);
        let c = verdict(&ev, "g1", "M1");
        let ok = match (&row.expect, &c.verdict) {
            (
                Expect::Full(k),
                Verdict::Offline {
                    koban,
                    strength: Strength::Full,
                    ..
                },
            ) => k == koban,
            (
                Expect::Weaker(k, why),
                Verdict::Offline {
                    koban,
                    strength: Strength::Weaker(r),
                    ..
                },
            ) => k == koban && r.as_slice() == *why,
            (Expect::Online(f), Verdict::Online(r)) => f(r),
            (Expect::Unknown(f), Verdict::Unknown(m)) => f(m),
            _ => false,
        };
        let counted = offline_count(&ev, "emr");
        let should_count = matches!(row.expect, Expect::Full(_) | Expect::Weaker(..));
        if !ok || counted != usize::from(should_count) {
            failures.push(format!(
                "{}: expected {:?}, got {:?} (offline generations: {counted})",
                row.name, row.expect, c.verdict
            ));
        }
        if let Some(k) = c.verdict.koban() {
            assert!(
                c.considered.contains(&k),
                "{}: {k} not among considered {:?}",
                row.name,
                c.considered
            );
        }
        assert_eq!(c.considered, row.kind.considered(), "{}", row.name);
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_koban_has_positive_and_negative_rows() {
    let rows = rows();
    for k in Koban::ALL {
        let positive = rows
            .iter()
            .any(|r| matches!(r.expect, Expect::Full(x) | Expect::Weaker(x, _) if x == k));
        let negative = rows.iter().any(|r| r.negative_of.contains(&k));
        assert!(positive, "no row shows {k} counting");
        assert!(negative, "no row shows {k}'s \"does NOT count\" column");
    }
}

#[test]
fn negative_rows_never_count() {
    for row in rows().iter().filter(|r| !r.negative_of.is_empty()) {
        let ev = run(row);
        assert!(!verdict(&ev, "g1", "M1").counts(), "{}", row.name);
        assert!(
            !ev.source(&SourceName::new("emr")).unwrap().compliant,
            "{}",
            row.name
        );
    }
}

#[test]
fn verdicts_describe_themselves_with_the_koban() {
    let row = rows()
        .into_iter()
        .find(|r| r.name.starts_with("②-2-1 inactive slot + seg"))
        .unwrap();
    let ev = run(&row);
    let text = verdict(&ev, "g1", "M1").verdict.describe(NOW.offset());
    assert_eq!(text.en, "offline under ②-2-1");
    assert_eq!(text.ja, "②-2-1 によりオフライン");
    let row = rows()
        .into_iter()
        .find(|r| r.name.starts_with("②-2-1 NOT: inactive slot, networks"))
        .unwrap();
    let ev = run(&row);
    let text = verdict(&ev, "g1", "M1").verdict.describe(NOW.offset());
    assert!(
        text.en.contains("network segmentation for autoloader al1"),
        "{}",
        text.en
    );
    assert!(
        text.ja.contains("オートローダ al1 のネットワーク分割"),
        "{}",
        text.ja
    );
}
