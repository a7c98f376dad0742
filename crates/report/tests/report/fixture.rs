//! One small hospital, built through the real catalog and evaluator.
//!
//! Two sources (`emr`, `pacs`), four nights, one generation a night:
//! - night 1, `emr`: LTO tape TAPE01L9, back in library slot 1 (①-2-1),
//!   and the S3 bucket under a governance-mode lock (③-1, weaker);
//! - night 2, `pacs`: LTO tape TAPE03L9, exported from the library, then a
//!   person records it offsite at the bank (①-2-2), and the bucket again;
//! - night 3, `emr`: LTO tape TAPE02L9, **left in the drive** (online), so
//!   `emr` has one offline generation of the two it needs: NOT compliant.
//!   [`Options::tape_back`] has the library put it in slot 2: compliant;
//! - night 4, `pacs`: RDX cartridge RDX0001 moved to an inactive slot of the
//!   autoloader `rdx1`, covered by a network-segmentation attestation
//!   (②-2-1); an older attestation for the same autoloader has expired.
//!
//! Plus a verify job and a restore drill of night 1.

use std::collections::BTreeMap;

use hokan_catalog::{Catalog, Event};
use hokan_offline::*;
use hokan_report::{Lang, ReportData, SiteInfo};
use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime};

/// Night 1, 22:00 in Tokyo.
pub const T0: OffsetDateTime = datetime!(2026-11-20 13:00 UTC);

/// The snapshots, by night.
pub const E1: &str = "e1a0c3d5f7091b2d4f6a8c0e2b4d6f8a1c3e5a7b9d1f3b5d7f9a1c3e5b7d9f1a";
pub const P1: &str = "b2c4e6a8d0f21436587a9cbedf0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2";
pub const E2: &str = "e2f4a6c8e0b2d4f6a8c0e2f4a6c8e0b2d4f6a8c0e2f4a6c8e0b2d4f6a8c0e2f4";
pub const P2: &str = "b4d6f8a0c2e4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4a6c8e0b2d4f6a8c0e2b4d6";

/// Every medium of the fixture.
pub const MEDIA: [&str; 5] = [
    "TAPE01L9",
    "TAPE02L9",
    "TAPE03L9",
    "RDX0001",
    "hokan-s3-tokyo",
];

/// The RDX cartridge's note, with pipes a Markdown table must escape.
pub const RDX_NOTE: &str = "rotation Mon|Wed|Fri";

/// Text a user could type anywhere, trying to inject a script.
pub const HOSTILE: &str = "<script>alert(1)</script>";

/// Variations of the fixture.
#[derive(Clone, Copy, Default)]
pub struct Options {
    /// Put TAPE02L9 back in a library slot: the site becomes compliant.
    pub tape_back: bool,
    /// Add a medium whose note, a person's name and an attestation's
    /// evidence are [`HOSTILE`].
    pub hostile: bool,
}

/// When the report is made: the morning after night 4, in the site's
/// offset (the evaluator words its problems in the offset of `now`).
pub fn now() -> OffsetDateTime {
    (T0 + d(3) + h(11)).to_offset(offset!(+9))
}

pub fn h(n: i64) -> Duration {
    Duration::hours(n)
}

pub fn d(n: i64) -> Duration {
    Duration::days(n)
}

fn night(n: i64) -> OffsetDateTime {
    T0 + d(n - 1)
}

fn snap(id: &str, source: &str, at: OffsetDateTime, gib: u64, files: u64) -> Event {
    Event::SnapshotRecorded {
        snapshot: id.into(),
        source: source.into(),
        taken_at: at,
        hostname: format!("{source}-db01"),
        paths: vec![format!("/srv/{source}")],
        bytes: gib << 30,
        files,
        partial: false,
    }
}

fn medium(id: &str, kind: MediumKind, pool: Option<&str>, note: Option<&str>) -> Event {
    Event::MediumAdded {
        medium: id.into(),
        kind,
        pool: pool.map(PoolName::new),
        label: None,
        capacity: match kind {
            MediumKind::LtoLibrary => Some(18_000_000_000_000),
            MediumKind::RdxAutoloader => Some(4_000_000_000_000),
            _ => None,
        },
        note: note.map(str::to_owned),
    }
}

fn by_device(id: &str, at: OffsetDateTime, location: Location, device: &str) -> Event {
    Event::MediumLocated {
        medium: id.into(),
        at,
        location,
        by: ObservedBy::Device {
            device: device.into(),
        },
        note: None,
    }
}

fn drive() -> Location {
    Location::InDrive {
        drive: "drive0".into(),
    }
}

fn slot(n: u32) -> Location {
    Location::LibrarySlot {
        library: "lib1".into(),
        slot: Some(n),
    }
}

fn copy(s: &str, m: &str, since: OffsetDateTime) -> Event {
    Event::CopyRecorded {
        snapshot: s.into(),
        medium: m.into(),
        since,
        complete: true,
        with: vec![],
    }
}

fn governance(s: &str, at: OffsetDateTime) -> Event {
    Event::Protected {
        medium: "hokan-s3-tokyo".into(),
        snapshot: s.into(),
        at,
        mode: LockMode::Governance,
        retention: Retention::Until { until: at + d(60) },
    }
}

fn job(
    kind: &str,
    target: &str,
    start: OffsetDateTime,
    mins: i64,
    detail: serde_json::Value,
) -> Event {
    Event::JobFinished {
        job: kind.into(),
        target: target.into(),
        started_at: start,
        finished_at: start + Duration::minutes(mins),
        outcome: "ok".into(),
        detail,
    }
}

fn segmentation(
    id: &str,
    by: &str,
    evidence: &str,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Event {
    Event::Attested {
        attestation: Attestation {
            id: id.into(),
            claim: Claim::NetworkSegmented {
                autoloader: Some("rdx1".into()),
            },
            by: by.into(),
            evidence: evidence.into(),
            valid_from: from,
            expires_at: until,
            withdrawn_at: None,
        },
    }
}

/// The catalog of the fixture.
pub fn catalog(o: Options) -> Catalog {
    let mut cat = Catalog::in_memory().unwrap();
    let setup = T0 - d(30);
    cat.record_all(
        setup,
        "hokan media add",
        vec![
            Event::SourceDeclared {
                source: "emr".into(),
            },
            Event::SourceDeclared {
                source: "pacs".into(),
            },
            medium("TAPE01L9", MediumKind::LtoLibrary, Some("weekday"), None),
            medium("TAPE02L9", MediumKind::LtoLibrary, Some("weekday"), None),
            medium("TAPE03L9", MediumKind::LtoLibrary, Some("weekday"), None),
            medium(
                "RDX0001",
                MediumKind::RdxAutoloader,
                Some("rdx-weekly"),
                Some(RDX_NOTE),
            ),
            medium("hokan-s3-tokyo", MediumKind::ObjectStore, None, None),
        ],
    )
    .unwrap();
    cat.record_all(
        setup + h(1),
        "hokan attest",
        vec![
            segmentation(
                "A-0001",
                "山田 太郎（情報システム課）",
                "ネットワーク構成図 第3版",
                T0 - d(400),
                T0 - d(30),
            ),
            segmentation(
                "A-0002",
                "山田 太郎（情報システム課）",
                "ネットワーク構成図 第4版、FW ルール表 2026-10",
                T0 - d(29),
                T0 + d(335),
            ),
        ],
    )
    .unwrap();

    // Night 1: emr to TAPE01L9 (back to slot 1) and to the bucket.
    let n = night(1);
    cat.record_all(
        n + h(4),
        "backup",
        vec![
            snap(E1, "emr", n, 40, 120_000),
            by_device("TAPE01L9", n + h(2), drive(), "lib1"),
            copy(E1, "TAPE01L9", n + h(3)),
            by_device("TAPE01L9", n + h(3), slot(1), "lib1"),
            copy(E1, "hokan-s3-tokyo", n + h(4)),
            governance(E1, n + h(4)),
            Event::LockProbed {
                medium: "hokan-s3-tokyo".into(),
                at: n + h(4),
                outcome: ProbeOutcome::Held,
                detail: Some("DeleteObject refused: AccessDenied".into()),
            },
            job(
                "tape-backup",
                "weekday",
                n + h(2),
                55,
                serde_json::json!({"bytes": 42_949_672_960u64}),
            ),
        ],
    )
    .unwrap();

    // Night 2: pacs to TAPE03L9, exported, then carried to the bank.
    let n = night(2);
    cat.record_all(
        n + h(5),
        "backup",
        vec![
            snap(P1, "pacs", n, 300, 2_500_000),
            by_device("TAPE03L9", n + h(1), drive(), "lib1"),
            copy(P1, "TAPE03L9", n + h(4)),
            by_device("TAPE03L9", n + h(4), slot(3), "lib1"),
            by_device(
                "TAPE03L9",
                n + h(5),
                Location::Exported {
                    changer: "lib1".into(),
                },
                "lib1",
            ),
            copy(P1, "hokan-s3-tokyo", n + h(5)),
            governance(P1, n + h(5)),
        ],
    )
    .unwrap();
    let carried = n + h(14);
    cat.record(
        carried,
        "hokan media move",
        Event::MediumLocated {
            medium: "TAPE03L9".into(),
            at: carried,
            location: Location::Offsite {
                site: "銀行貸金庫（本店）".into(),
            },
            by: ObservedBy::Person {
                person: "田中 花子".into(),
            },
            note: Some("施錠ケースで搬送".into()),
        },
    )
    .unwrap();

    // Verify and drill of night 1's tape, the day after night 2.
    let v = n + h(16);
    cat.record_all(
        v + h(1),
        "hokan verify",
        vec![
            Event::CopyVerified {
                snapshot: E1.into(),
                medium: "TAPE01L9".into(),
                at: v,
                ok: true,
                detail: None,
            },
            job(
                "verify",
                "TAPE01L9",
                v - h(1),
                58,
                serde_json::json!({"snapshots": 1, "errors": 0}),
            ),
        ],
    )
    .unwrap();
    cat.record(
        v + h(3),
        "hokan drill",
        Event::Drilled {
            snapshot: E1.into(),
            medium: "TAPE01L9".into(),
            started_at: v + h(2),
            seconds: 1834.5,
            ok: true,
            by: Some("佐藤 一郎".into()),
            detail: Some("隔離環境 restore-lab に復元、全ファイル一致".into()),
            measured: None,
        },
    )
    .unwrap();

    // Night 3: emr to TAPE02L9, which stays in the drive.
    let n = night(3);
    let mut events = vec![
        snap(E2, "emr", n, 41, 121_000),
        by_device("TAPE02L9", n + h(2), drive(), "lib1"),
        copy(E2, "TAPE02L9", n + h(3)),
    ];
    if o.tape_back {
        events.push(by_device("TAPE02L9", n + h(4), slot(2), "lib1"));
    }
    cat.record_all(n + h(4), "backup", events).unwrap();

    // Night 4: pacs to RDX0001, then to an inactive slot.
    let n = night(4);
    let rdx1 = || DeviceId::new("rdx1");
    cat.record_all(
        n + h(4),
        "backup",
        vec![
            snap(P2, "pacs", n, 310, 2_510_000),
            by_device(
                "RDX0001",
                n + h(1),
                Location::ActiveSlot { autoloader: rdx1() },
                "rdx1",
            ),
            copy(P2, "RDX0001", n + h(3)),
            by_device(
                "RDX0001",
                n + h(3) + Duration::minutes(10),
                Location::InactiveSlot {
                    autoloader: rdx1(),
                    slot: Some(2),
                },
                "rdx1",
            ),
        ],
    )
    .unwrap();

    if o.hostile {
        let at = n + h(5);
        cat.record_all(
            at,
            HOSTILE,
            vec![
                medium("EVIL<b>01", MediumKind::LtoSingleDrive, None, Some(HOSTILE)),
                Event::MediumLocated {
                    medium: "EVIL<b>01".into(),
                    at,
                    location: Location::Shelf {
                        place: Some("A|B \"棚\" & 'C'".into()),
                    },
                    by: ObservedBy::Person {
                        person: HOSTILE.into(),
                    },
                    note: Some(format!("{HOSTILE}\nsecond line")),
                },
                segmentation("A-0003", HOSTILE, HOSTILE, at - d(1), at + d(30)),
            ],
        )
        .unwrap();
    }
    cat
}

/// The policy: two offline generations (the definitions' floor), the EMR
/// database's newest at most two days old, pool retentions.
pub fn policy() -> Policy {
    let mut o = PolicyOptions {
        min_offline_generations: Some(2),
        ..PolicyOptions::default()
    };
    o.pool_retention = BTreeMap::from([
        (PoolName::new("weekday"), d(28)),
        (PoolName::new("rdx-weekly"), d(35)),
    ]);
    o.sources.insert(
        "emr".into(),
        SourcePolicyOptions {
            min_offline_generations: Some(2),
            max_newest_age: Some(d(2)),
        },
    );
    Policy::new(&o).unwrap()
}

/// Everything a report shows, gathered as `hokan report` does.
pub fn report_data(cat: &Catalog, policy: &Policy, now: OffsetDateTime, site: &str) -> ReportData {
    let evaluation = evaluate(&cat.facts().unwrap(), policy, now);
    let verify = cat.verify(None).unwrap();
    ReportData {
        generated_at: now,
        offset: offset!(+9),
        program: "hokan 0.1.0".into(),
        site: SiteInfo {
            not_implemented: Vec::new(),
            simulated: Vec::new(),
            name: site.into(),
            config: Some("/etc/hokan/hokan.toml".into()),
            catalog: "/var/lib/hokan/catalog.db".into(),
            repository: Some("/srv/hokan/repo".into()),
        },
        policy: policy.clone(),
        evaluation,
        snapshots: cat.snapshots().unwrap(),
        media: cat.media().unwrap(),
        attestations: cat.attestations().unwrap(),
        jobs: cat.jobs(20).unwrap(),
        copy_verifications: cat.copy_verifications(200).unwrap(),
        drills: cat.drills(20).unwrap(),
        events: cat.events(50, false).unwrap(),
        catalog_only: cat.events(usize::MAX, true).unwrap(),
        head: cat.head().unwrap(),
        catalog_problems: verify
            .problems
            .iter()
            .map(|p| p.message.en.clone())
            .collect(),
    }
}

/// The fixture's report data.
pub fn data(o: Options) -> ReportData {
    let cat = catalog(o);
    report_data(&cat, &policy(), now(), "市立みなと病院")
}

/// A report of an empty catalog: no sources, no media, no events.
pub fn empty() -> ReportData {
    let cat = Catalog::in_memory().unwrap();
    report_data(&cat, &Policy::default(), now(), "")
}

/// Both languages.
pub const LANGS: [Lang; 2] = [Lang::Ja, Lang::En];
