//! The rules beyond single verdicts: observations over time, conditions,
//! rotation, age, policy, problems and their wording.

mod common;

use common::*;
use hokan_offline::*;
use time::Duration;

fn src(name: &str) -> SourceName {
    SourceName::new(name)
}

/// Three weekly LTO tapes, each holding one generation, all ejected: the
/// compliant site the other tests break in one way each.
fn rotated_tapes() -> Site {
    let mut s = Site::new();
    s.source("emr");
    for (i, d) in [(1, 1), (2, 8), (3, 15)] {
        let (g, t) = (format!("g{i}"), format!("T{i}"));
        s.generation("emr", &g, d)
            .medium(&t, MediumKind::LtoSingleDrive)
            .copy(&g, &t)
            .device_saw(&t, ejected(), ago(d) + Duration::hours(3));
    }
    s
}

#[test]
fn rotated_tapes_are_compliant() {
    let ev = rotated_tapes().eval();
    assert!(ev.compliant, "{:?}", codes(&ev));
    let emr = ev.source(&src("emr")).unwrap();
    assert_eq!(emr.offline_generations.len(), 3);
    assert_eq!(emr.required, 3);
    assert!(emr.rotation.rotates);
    assert_eq!(emr.rotation.media.len(), 3);
    let newest = emr.newest.as_ref().unwrap();
    assert_eq!(newest.snapshot.as_str(), "g1");
    assert_eq!(newest.age, days(1));
    // Newest first, each with the medium and 項番 that make it offline.
    let g1 = &emr.offline_generations[0];
    assert_eq!(g1.snapshot.as_str(), "g1");
    assert_eq!(g1.copies[0].medium.as_str(), "T1");
    assert_eq!(g1.copies[0].koban.to_string(), "①-1-1");
    assert!(ev.all_problems().is_empty(), "{:?}", codes(&ev));
}

#[test]
fn tape_back_in_a_drive_is_online_and_named() {
    let mut s = rotated_tapes();
    s.at("T1", drive());
    let ev = s.eval();
    assert!(!ev.compliant);
    assert_eq!(offline_count(&ev, "emr"), 2);
    let p = problem(&ev, ProblemCode::MediumInDrive);
    assert_eq!(p.severity, Severity::Warning);
    assert_eq!(p.medium.as_ref().unwrap().as_str(), "T1");
    assert!(
        p.message.en.contains("Medium T1 is in drive drive1"),
        "{}",
        p.message.en
    );
    assert!(
        p.message
            .ja
            .contains("媒体 T1 がドライブ drive1 に入ったまま"),
        "{}",
        p.message.ja
    );
    assert!(
        p.next_step.en.contains("eject T1 from drive1"),
        "{}",
        p.next_step.en
    );
    // The source's own problem says which medium would fix it.
    let few = problem(&ev, ProblemCode::TooFewOfflineGenerations);
    assert_eq!(few.severity, Severity::Error);
    assert!(
        few.message
            .en
            .contains("has 2 offline generations; the policy requires 3"),
        "{}",
        few.message.en
    );
    assert!(
        few.next_step.en.contains("T1 (online: in drive drive1)"),
        "{}",
        few.next_step.en
    );
    assert!(
        few.next_step
            .ja
            .contains("T1（オンライン：ドライブ drive1 に装填中）"),
        "{}",
        few.next_step.ja
    );
    // Errors come first.
    assert_eq!(ev.all_problems()[0].severity, Severity::Error);
}

#[test]
fn blank_tape_in_a_drive_is_not_a_problem() {
    let mut s = rotated_tapes();
    s.medium("T9", MediumKind::LtoSingleDrive).at("T9", drive());
    let ev = s.eval();
    assert!(ev.compliant, "{:?}", codes(&ev));
    assert_eq!(ev.medium(&MediumId::new("T9")).unwrap().complete_copies, 0);
}

#[test]
fn latest_observation_wins_whoever_made_it() {
    // A person recorded the shelf, then the device saw the tape in a drive.
    let mut s = Site::new();
    s.generation("emr", "g1", 2)
        .medium("T1", MediumKind::LtoSingleDrive)
        .copy("g1", "T1")
        .person_put("T1", shelf(), ago(1))
        .device_saw("T1", drive(), ago(1) + Duration::hours(2));
    assert!(matches!(
        verdict(&s.eval(), "g1", "T1").verdict,
        Verdict::Online(OnlineReason::InDrive { .. })
    ));
    // The device saw it ejected, then a person put it offsite.
    let mut s2 = Site::new();
    s2.generation("emr", "g1", 2)
        .medium("T1", MediumKind::LtoSingleDrive)
        .copy("g1", "T1")
        .device_saw("T1", ejected(), ago(1))
        .person_put("T1", offsite(), ago(1) + Duration::hours(2));
    assert_eq!(
        verdict(&s2.eval(), "g1", "T1").verdict.koban(),
        Some(Koban::LtoEjected)
    );
    // A library slot, then a person's offsite record: ①-2-2.
    let mut s3 = Site::new();
    s3.generation("emr", "g1", 2)
        .medium("T1", MediumKind::LtoLibrary)
        .copy("g1", "T1")
        .device_saw("T1", library_slot(), ago(1))
        .person_put("T1", offsite(), ago(1) + Duration::hours(2));
    assert_eq!(
        verdict(&s3.eval(), "g1", "T1").verdict.koban(),
        Some(Koban::LtoExported)
    );
}

/// A tape the device last saw in a drive, then recorded elsewhere by a person.
fn drive_then_person(kind: MediumKind, device_saw: Location, person_said: Location) -> Site {
    let mut s = Site::new();
    s.generation("emr", "g1", 2)
        .medium("T1", kind)
        .copy("g1", "T1")
        .device_saw("T1", device_saw, ago(1))
        .person_put("T1", person_said, ago(1) + Duration::hours(2));
    s
}

#[test]
fn a_persons_record_contradicting_the_device_is_unknown_until_a_device_agrees() {
    // Devices over words: the library saw T1 in its drive; Sato says it is
    // in the bank vault. Not offline: unknown, naming both.
    let s = drive_then_person(MediumKind::LtoLibrary, drive(), offsite());
    let ev = s.eval();
    let v = verdict(&ev, "g1", "T1");
    assert!(!v.counts());
    match &v.verdict {
        Verdict::Unknown(Missing::PersonContradictsDevice {
            at,
            by,
            location,
            device,
            device_at,
            device_location,
        }) => {
            assert_eq!(*at, ago(1) + Duration::hours(2));
            assert!(matches!(by, ObservedBy::Person { .. }));
            assert_eq!(*location, offsite());
            assert_eq!(device.as_str(), "lib1");
            assert_eq!(*device_at, ago(1));
            assert_eq!(*device_location, drive());
        }
        other => panic!("{other:?}"),
    }
    let text = v.verdict.describe(NOW.offset());
    assert_eq!(
        text.en,
        "unknown: Sato recorded it offsite at bank vault on 2025-06-01 11:00 +09:00, \
         but device lib1 last saw it in drive drive1 on 2025-06-01 09:00 +09:00; \
         it needs a device observation"
    );
    assert_eq!(
        text.ja,
        "不明：2025-06-01 11:00 +09:00 に Sato が「遠隔地 bank vault に保管」と記録したが、\
         装置 lib1 は 2025-06-01 09:00 +09:00 に「ドライブ drive1 内」で確認したのが最後。\
         装置による確認が必要"
    );
    assert_eq!(offline_count(&ev, "emr"), 0);
    let p = problem(&ev, ProblemCode::LocationContradictsDevice);
    assert_eq!(p.severity, Severity::Warning);
    assert_eq!(p.medium.as_ref().unwrap().as_str(), "T1");
    assert!(
        p.message
            .en
            .contains("Sato recorded T1 offsite at bank vault")
            && p.message
                .en
                .contains("device lib1 last saw it in drive drive1"),
        "{}",
        p.message.en
    );
    assert!(
        p.message
            .ja
            .contains("装置 lib1 が最後に確認した所在は「ドライブ drive1 内」"),
        "{}",
        p.message.ja
    );
    assert!(
        p.next_step.en.contains("hokan tape move"),
        "{}",
        p.next_step.en
    );
    assert!(
        p.next_step.ja.contains("hokan disk eject"),
        "{}",
        p.next_step.ja
    );

    // Every place that takes it out of reach is refused the same way, for
    // every carried kind, and an RDX active slot or a connected disk is
    // "inside a device" like a drive.
    for (kind, inside) in [
        (MediumKind::LtoSingleDrive, drive()),
        (MediumKind::LtoLibrary, drive()),
        (MediumKind::RdxSingleDrive, drive()),
        (MediumKind::RdxAutoloader, active("al1")),
        (MediumKind::RemovableDisk, connected()),
    ] {
        for said in [
            shelf(),
            offsite(),
            exported(),
            ejected(),
            library_slot(),
            inactive("al1"),
        ] {
            let s = drive_then_person(kind, inside.clone(), said.clone());
            assert!(
                matches!(
                    verdict(&s.eval(), "g1", "T1").verdict,
                    Verdict::Unknown(Missing::PersonContradictsDevice { .. })
                ),
                "{kind:?}: device {inside:?}, person {said:?}"
            );
        }
    }
}

#[test]
fn a_later_device_report_settles_a_contradiction_either_way() {
    // The device agrees (the tape left the drive): the device's place counts.
    let mut s = drive_then_person(MediumKind::LtoLibrary, drive(), offsite());
    s.device_saw("T1", exported(), ago(1) + Duration::hours(3));
    assert_eq!(
        verdict(&s.eval(), "g1", "T1").verdict.koban(),
        Some(Koban::LtoExported)
    );
    // ... and a person's later record on top of that agreeing report counts.
    s.person_put("T1", offsite(), ago(1) + Duration::hours(4));
    assert_eq!(
        verdict(&s.eval(), "g1", "T1").verdict.koban(),
        Some(Koban::LtoExported)
    );
    // The device still sees it in the drive: online, the person's word gone.
    let mut s = drive_then_person(MediumKind::LtoLibrary, drive(), offsite());
    s.device_saw("T1", drive(), ago(1) + Duration::hours(3));
    assert!(matches!(
        verdict(&s.eval(), "g1", "T1").verdict,
        Verdict::Online(OnlineReason::InDrive { .. })
    ));
}

#[test]
fn a_person_who_agrees_with_the_device_or_says_unknown_is_not_a_contradiction() {
    // The person says it is in a drive too: online as before.
    let s = drive_then_person(MediumKind::LtoLibrary, drive(), drive());
    assert!(matches!(
        verdict(&s.eval(), "g1", "T1").verdict,
        Verdict::Online(OnlineReason::InDrive { .. })
    ));
    // The person says nobody knows: unknown as before, not a contradiction.
    let s = drive_then_person(MediumKind::LtoLibrary, drive(), Location::Unknown);
    assert!(matches!(
        verdict(&s.eval(), "g1", "T1").verdict,
        Verdict::Unknown(Missing::LocationUnknown { .. })
    ));
    // A device report after `now` does not exist yet: the earlier one decides.
    let mut s = Site::new();
    s.generation("emr", "g1", 2)
        .medium("T1", MediumKind::LtoSingleDrive)
        .copy("g1", "T1")
        .device_saw("T1", ejected(), ago(1))
        .person_put("T1", shelf(), ago(1) + Duration::hours(2))
        .device_saw("T1", drive(), NOW + Duration::hours(1));
    assert_eq!(
        verdict(&s.eval(), "g1", "T1").verdict.koban(),
        Some(Koban::LtoEjected)
    );
}

#[test]
fn at_the_same_instant_the_device_and_the_more_reachable_place_win() {
    let t = ago(1);
    for order in [false, true] {
        let mut s = Site::new();
        s.generation("emr", "g1", 2)
            .medium("T1", MediumKind::LtoSingleDrive)
            .copy("g1", "T1");
        if order {
            s.person_put("T1", shelf(), t).device_saw("T1", drive(), t);
        } else {
            s.device_saw("T1", drive(), t).person_put("T1", shelf(), t);
        }
        assert!(!verdict(&s.eval(), "g1", "T1").counts(), "order {order}");
    }
    // Two device reports at one instant: the drive beats the slot.
    let mut s = Site::new();
    s.generation("emr", "g1", 2)
        .medium("T1", MediumKind::LtoLibrary)
        .copy("g1", "T1")
        .device_saw("T1", library_slot(), t)
        .device_saw("T1", drive(), t);
    assert!(!verdict(&s.eval(), "g1", "T1").counts());
}

/// A library reports a tape exported and a person records where it went,
/// at the same instant (`hokan media move` asks the library first): the
/// person's record says where it is, and no "where it went is not
/// recorded" remains.
#[test]
fn at_the_same_instant_a_person_says_where_an_exported_tape_went() {
    let t = ago(1);
    for order in [false, true] {
        let mut s = Site::new();
        s.generation("emr", "g1", 2)
            .medium("T1", MediumKind::LtoLibrary)
            .copy("g1", "T1");
        if order {
            s.person_put("T1", offsite(), t)
                .device_saw("T1", exported(), t);
        } else {
            s.device_saw("T1", exported(), t)
                .person_put("T1", offsite(), t);
        }
        let ev = s.eval();
        assert!(verdict(&ev, "g1", "T1").counts(), "order {order}");
        assert!(
            !ev.problems
                .iter()
                .any(|p| p.code == ProblemCode::ExportNotRecorded),
            "order {order}: {:?}",
            ev.problems
        );
    }
}

#[test]
fn observations_after_now_are_ignored() {
    let mut s = Site::new();
    s.generation("emr", "g1", 2)
        .medium("T1", MediumKind::LtoSingleDrive)
        .copy("g1", "T1")
        .device_saw("T1", ejected(), ago(1))
        .device_saw("T1", drive(), NOW + Duration::hours(1));
    assert!(verdict(&s.eval(), "g1", "T1").counts());
}

#[test]
fn a_persons_record_goes_stale_a_devices_does_not() {
    let tape = |by_person: bool, days_ago: i64| {
        let mut s = Site::new();
        s.generation("emr", "g1", 200)
            .medium("T1", MediumKind::LtoSingleDrive)
            .copy("g1", "T1");
        if by_person {
            s.person_put("T1", offsite(), ago(days_ago));
        } else {
            s.device_saw("T1", ejected(), ago(days_ago));
        }
        s
    };
    // Fresh person record: counts, with the date it goes stale as deadline.
    let ev = tape(true, 30).eval();
    match &verdict(&ev, "g1", "T1").verdict {
        Verdict::Offline { until: Some(d), .. } => {
            assert_eq!(d.at, ago(30) + days(92));
            assert!(matches!(d.cause, DeadlineCause::LocationRecord { .. }));
        }
        v => panic!("{v:?}"),
    }
    // Older than the default 92 days: unknown, with a problem naming who and when.
    let ev = tape(true, 100).eval();
    assert!(matches!(
        verdict(&ev, "g1", "T1").verdict,
        Verdict::Unknown(Missing::LocationStale { .. })
    ));
    let p = problem(&ev, ProblemCode::LocationStale);
    assert!(
        p.message
            .en
            .contains("was made by Sato on 2025-02-22 09:00 +09:00"),
        "{}",
        p.message.en
    );
    // A device report of the same age still counts.
    assert!(verdict(&tape(false, 400).eval(), "g1", "T1").counts());
    // The policy decides how long.
    let strict = PolicyOptions {
        max_person_location_age: Some(days(14)),
        ..PolicyOptions::default()
    };
    assert!(!verdict(&tape(true, 30).eval_with(strict), "g1", "T1").counts());
    // Within the warning horizon before going stale: a reminder.
    let ev = tape(true, 85).eval();
    assert!(verdict(&ev, "g1", "T1").counts());
    let p = problem(&ev, ProblemCode::LocationConfirmDue);
    assert_eq!(p.date, Some(ago(85) + days(92)));
}

#[test]
fn unknown_location_is_never_offline() {
    let mut s = Site::new();
    s.generation("emr", "g1", 2)
        .medium("T1", MediumKind::LtoSingleDrive)
        .medium("T2", MediumKind::LtoLibrary)
        .medium("T3", MediumKind::LtoSingleDrive)
        .copy("g1", "T1")
        .copy("g1", "T2")
        .copy("g1", "T3")
        .person_put("T2", Location::Unknown, ago(1))
        .at("T3", library_slot());
    let ev = s.eval();
    assert!(matches!(
        verdict(&ev, "g1", "T1").verdict,
        Verdict::Unknown(Missing::NoLocationObserved)
    ));
    assert!(matches!(
        verdict(&ev, "g1", "T2").verdict,
        Verdict::Unknown(Missing::LocationUnknown { .. })
    ));
    assert!(matches!(
        verdict(&ev, "g1", "T3").verdict,
        Verdict::Unknown(Missing::LocationDoesNotFit {
            kind: MediumKind::LtoSingleDrive,
            ..
        })
    ));
    assert_eq!(offline_count(&ev, "emr"), 0);
    let unknown: Vec<_> = ev
        .problems
        .iter()
        .filter(|p| p.code == ProblemCode::LocationUnknown)
        .map(|p| p.medium.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(unknown, ["T1", "T2"]);
    problem(&ev, ProblemCode::LocationDoesNotFit);
}

#[test]
fn mail_slot_counts_as_library_slot_with_a_reminder() {
    let mut s = Site::new();
    s.generation("emr", "g1", 1)
        .medium("T1", MediumKind::LtoLibrary)
        .copy("g1", "T1")
        .at("T1", mail_slot());
    let ev = s.eval();
    assert_eq!(
        verdict(&ev, "g1", "T1").verdict.koban(),
        Some(Koban::LtoInLibrarySlot)
    );
    let p = problem(&ev, ProblemCode::MediumInMailSlot);
    assert_eq!(p.severity, Severity::Info);
    assert!(
        p.message.en.contains("①-2-1, not yet ①-2-2"),
        "{}",
        p.message.en
    );
}

#[test]
fn retired_and_damaged_media_and_incomplete_copies_do_not_count() {
    let mut s = Site::new();
    s.generation("emr", "g1", 1)
        .medium_full("T1", MediumKind::LtoSingleDrive, Condition::Retired, None)
        .medium_full("T2", MediumKind::LtoSingleDrive, Condition::Damaged, None)
        .medium_full("T3", MediumKind::LtoSingleDrive, Condition::Full, None)
        .copy("g1", "T1")
        .copy("g1", "T2")
        .incomplete_copy("g1", "T3");
    for t in ["T1", "T2", "T3"] {
        s.at(t, ejected());
    }
    let ev = s.eval();
    for (t, why) in [
        ("T1", Exclusion::MediumRetired),
        ("T2", Exclusion::MediumDamaged),
        ("T3", Exclusion::Incomplete),
    ] {
        let c = verdict(&ev, "g1", t);
        // Where it is is still shown; it just cannot restore.
        assert_eq!(c.verdict.koban(), Some(Koban::LtoEjected), "{t}");
        assert_eq!(c.excluded, Some(why), "{t}");
        assert!(!c.counts(), "{t}");
    }
    assert_eq!(offline_count(&ev, "emr"), 0);
    for code in [
        ProblemCode::MediumRetired,
        ProblemCode::MediumDamaged,
        ProblemCode::CopyIncomplete,
    ] {
        problem(&ev, code);
    }
}

#[test]
fn all_generations_on_one_medium_do_not_rotate() {
    let mut s = Site::new();
    s.medium("T1", MediumKind::LtoSingleDrive)
        .at("T1", ejected());
    for (g, d) in [("g1", 1), ("g2", 2), ("g3", 3)] {
        s.generation("emr", g, d).copy(g, "T1");
    }
    let ev = s.eval();
    let emr = ev.source(&src("emr")).unwrap();
    assert_eq!(emr.offline_generations.len(), 3);
    assert!(!emr.rotation.rotates);
    assert_eq!(emr.rotation.single_medium.as_ref().unwrap().as_str(), "T1");
    assert!(!emr.compliant);
    let p = problem(&ev, ProblemCode::GenerationsOnOneMedium);
    assert!(
        p.message.en.contains("on one medium, T1"),
        "{}",
        p.message.en
    );
    assert!(p.message.ja.contains("媒体 T1 1本"), "{}", p.message.ja);
}

/// Three generations in one bucket, each copy locked until `retention` from now.
fn bucket(retention: Duration) -> Site {
    let mut s = Site::new();
    s.medium("B1", MediumKind::ObjectStore)
        .probe("B1", ProbeOutcome::Held);
    for (g, d) in [("g1", 1), ("g2", 2), ("g3", 3)] {
        s.generation("emr", g, d).copy(g, "B1").protect(
            "B1",
            g,
            LockMode::Compliance,
            until_in(retention),
        );
    }
    s
}

#[test]
fn all_generations_under_one_lock_expiring_tomorrow_are_flagged() {
    let ev = bucket(days(1)).eval();
    let emr = ev.source(&src("emr")).unwrap();
    assert_eq!(emr.offline_generations.len(), 3);
    assert!(!emr.rotation.rotates);
    let d = emr.rotation.expiring.as_ref().unwrap();
    assert_eq!(d.at, NOW + days(1));
    assert_eq!(
        d.cause,
        DeadlineCause::Retention {
            medium: MediumId::new("B1")
        }
    );
    let p = problem(&ev, ProblemCode::GenerationsUnderOneExpiringLock);
    assert_eq!(p.medium.as_ref().unwrap().as_str(), "B1");
    assert!(
        p.message
            .en
            .contains("by 2025-06-03 09:00 +09:00, when the retention on B1 ends"),
        "{}",
        p.message.en
    );
    let p = problem(&ev, ProblemCode::RetentionExpiring);
    assert!(p.message.en.contains("3 copies on B1"), "{}", p.message.en);
    // The bucket is also one medium.
    assert!(emr.rotation.single_medium.is_some());
}

#[test]
fn a_lock_beyond_the_horizon_is_not_flagged_and_a_tape_breaks_the_tie() {
    let ev = bucket(days(60)).eval();
    let emr = ev.source(&src("emr")).unwrap();
    assert!(emr.rotation.expiring.is_none());
    // Locks expiring tomorrow, but one generation is also on an ejected tape:
    // not every generation goes at once.
    let mut s = bucket(days(1));
    s.medium("T1", MediumKind::LtoSingleDrive)
        .copy("g2", "T1")
        .at("T1", ejected());
    let ev = s.eval();
    let emr = ev.source(&src("emr")).unwrap();
    assert!(emr.rotation.expiring.is_none());
    assert!(emr.rotation.single_medium.is_none());
    assert!(emr.rotation.rotates);
}

#[test]
fn expired_retention_is_online() {
    let ev = bucket(-days(1)).eval();
    assert_eq!(offline_count(&ev, "emr"), 0);
    assert!(matches!(
        verdict(&ev, "g1", "B1").verdict,
        Verdict::Online(OnlineReason::RetentionExpired { .. })
    ));
    let p = problem(&ev, ProblemCode::RetentionExpired);
    assert!(p.message.en.contains("3 copies on B1"), "{}", p.message.en);
    // The same facts judged three days ago, before the retention ended and
    // with everything recorded by then: offline.
    let mut s = Site::new();
    s.medium("B1", MediumKind::ObjectStore)
        .generation("emr", "g1", 20)
        .copy("g1", "B1")
        .protect("B1", "g1", LockMode::Compliance, until_in(-days(1)));
    s.facts.protections[0].recorded_at = ago(19);
    s.facts.probes.push(LockProbe {
        medium: MediumId::new("B1"),
        at: ago(19),
        outcome: ProbeOutcome::Held,
        detail: None,
    });
    assert_eq!(offline_count(&s.eval(), "emr"), 0);
    let earlier = evaluate(&s.facts, &Policy::default(), ago(3));
    assert_eq!(
        earlier
            .source(&src("emr"))
            .unwrap()
            .offline_generations
            .len(),
        1
    );
}

#[test]
fn governance_counts_but_weaker_and_is_reported() {
    let mut s = Site::new();
    s.medium("B1", MediumKind::ObjectStore)
        .probe("B1", ProbeOutcome::Held);
    s.medium("T1", MediumKind::LtoSingleDrive)
        .at("T1", ejected());
    s.medium("T2", MediumKind::LtoSingleDrive)
        .at("T2", ejected());
    for (g, d) in [("g1", 1), ("g2", 2), ("g3", 3)] {
        s.generation("emr", g, d).copy(g, "B1").protect(
            "B1",
            g,
            LockMode::Governance,
            until_in(days(90)),
        );
    }
    s.copy("g2", "T1").copy("g3", "T2");
    let ev = s.eval();
    let emr = ev.source(&src("emr")).unwrap();
    assert_eq!(emr.offline_generations.len(), 3);
    assert!(emr.compliant, "{:?}", codes(&ev));
    let only_weaker: Vec<_> = emr
        .offline_generations
        .iter()
        .filter(|g| g.only_weaker())
        .map(|g| g.snapshot.as_str())
        .collect();
    assert_eq!(only_weaker, ["g1"]);
    let p = problem(&ev, ProblemCode::GenerationsOnlyWeaker);
    assert!(
        p.message.en.contains("1 generation of emr (g1)"),
        "{}",
        p.message.en
    );
    let p = problem(&ev, ProblemCode::RetentionGovernance);
    assert!(
        p.message
            .en
            .contains("3 copies on B1 are locked in governance mode"),
        "{}",
        p.message.en
    );
    let text = verdict(&ev, "g1", "B1").verdict.describe(NOW.offset());
    assert!(
        text.en
            .starts_with("offline under ③-1, but weaker: governance"),
        "{}",
        text.en
    );
}

#[test]
fn failed_lock_test_is_a_site_error() {
    let mut s = rotated_tapes();
    s.medium("B1", MediumKind::ObjectStore)
        .copy("g1", "B1")
        .protect("B1", "g1", LockMode::Compliance, until_in(days(30)))
        .probe("B1", ProbeOutcome::Failed);
    let ev = s.eval();
    assert!(ev.source(&src("emr")).unwrap().compliant);
    assert!(!ev.compliant);
    assert_eq!(ev.problems[0].code, ProblemCode::LockProbeFailed);
}

#[test]
fn a_store_that_lets_compliance_retention_be_shortened_counts_only_as_weaker() {
    // moto 5.2 refuses deleting a locked version but lets a compliance
    // retention be shortened: offline under ③-1, never plain ③-1.
    let mut s = Site::new();
    s.generation("emr", "g1", 1)
        .medium("B1", MediumKind::ObjectStore)
        .copy("g1", "B1")
        .protect("B1", "g1", LockMode::Compliance, until_in(days(30)))
        .probe("B1", ProbeOutcome::Shortenable);
    let ev = s.eval();
    let v = verdict(&ev, "g1", "B1");
    let text = v.verdict.describe(NOW.offset());
    assert!(
        text.en.starts_with(
            "offline under ③-1, but weaker: the store let a compliance retention be shortened"
        ),
        "{}",
        text.en
    );
    let p = problem(&ev, ProblemCode::RetentionShortenable);
    assert!(
        p.message
            .en
            .contains("B1 let a compliance-mode retention be shortened"),
        "{}",
        p.message.en
    );
}

#[test]
fn segmentation_attestation_missing_or_expiring_is_reported() {
    let mut s = Site::new();
    s.generation("emr", "g1", 1)
        .medium("R1", MediumKind::RdxAutoloader)
        .copy("g1", "R1")
        .at("R1", inactive("al1"))
        .attest_between("NET-1", segmented(Some("al1")), ago(365), ago(2));
    let ev = s.eval();
    let p = problem(&ev, ProblemCode::AttestationMissing);
    assert_eq!(p.attestation.as_ref().unwrap().as_str(), "NET-1");
    assert!(p.message.en.contains("network segmentation for autoloader al1 (attestation NET-1 ended 2025-05-31 09:00 +09:00)"), "{}", p.message.en);
    assert!(
        p.message
            .ja
            .contains("オートローダ al1 のネットワーク分割の有効な証明がありません"),
        "{}",
        p.message.ja
    );

    let mut s = Site::new();
    s.generation("emr", "g1", 1)
        .medium("R1", MediumKind::RdxAutoloader)
        .copy("g1", "R1")
        .at("R1", inactive("al1"))
        .attest_between("NET-2", segmented(None), ago(300), NOW + days(5));
    let ev = s.eval();
    assert_eq!(
        verdict(&ev, "g1", "R1").verdict.koban(),
        Some(Koban::RdxInactiveSlotSegmented)
    );
    let p = problem(&ev, ProblemCode::AttestationExpiring);
    assert_eq!(p.date, Some(NOW + days(5)));
    assert!(
        p.next_step.en.contains("Before 2025-06-07 09:00 +09:00"),
        "{}",
        p.next_step.en
    );
    // Withdrawn before expiry: stops counting at once.
    s.facts.attestations[0].withdrawn_at = Some(ago(1));
    assert!(!verdict(&s.eval(), "g1", "R1").counts());
}

#[test]
fn age_rule_measures_the_newest_offline_generation() {
    let mut s = Site::new();
    for (g, t, d) in [("g1", "T1", 10), ("g2", "T2", 17), ("g3", "T3", 24)] {
        s.generation("emr", g, d)
            .medium(t, MediumKind::LtoSingleDrive)
            .copy(g, t)
            .at(t, ejected());
    }
    // A newer generation exists, but only on the primary disk.
    s.generation("emr", "g0", 0)
        .medium("primary", MediumKind::PrimaryDisk)
        .copy("g0", "primary");
    let ev = s.eval();
    let emr = ev.source(&src("emr")).unwrap();
    assert_eq!(emr.newest.as_ref().unwrap().snapshot.as_str(), "g1");
    assert_eq!(emr.newest.as_ref().unwrap().age, days(10));
    assert!(!emr.compliant);
    let p = problem(&ev, ProblemCode::NewestOfflineTooOld);
    assert_eq!(p.date, Some(ago(10)));
    assert!(
        p.message
            .en
            .contains("was taken 2025-05-23 09:00 +09:00 (10 days ago); the policy allows 7 days"),
        "{}",
        p.message.en
    );
    assert!(p.message.ja.contains("（10日前）"), "{}", p.message.ja);
    // A longer limit for this source makes it compliant.
    let mut options = PolicyOptions::default();
    options.sources.insert(
        src("emr"),
        SourcePolicyOptions {
            max_newest_age: Some(days(14)),
            ..Default::default()
        },
    );
    assert!(s.eval_with(options).compliant);
}

#[test]
fn a_configured_source_without_generations_is_not_compliant() {
    let mut s = rotated_tapes();
    s.source("pacs");
    let ev = s.eval();
    let pacs = ev.source(&src("pacs")).unwrap();
    assert_eq!(pacs.generations, 0);
    assert!(!pacs.compliant);
    assert!(!ev.compliant);
    assert!(pacs
        .problems
        .iter()
        .any(|p| p.code == ProblemCode::TooFewOfflineGenerations));
}

#[test]
fn policy_floor_is_two() {
    let err = Policy::new(&PolicyOptions {
        min_offline_generations: Some(1),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        err,
        OfflineError::BelowFloor {
            for_source: None,
            asked: 1,
            floor: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "the policy asks for 1 offline generation(s); the offline definitions require several rotating generations, so at least 2 (複数世代のローテーションが前提のため 2 世代以上が必要です)"
    );
    let mut options = PolicyOptions::default();
    options.sources.insert(
        src("pacs"),
        SourcePolicyOptions {
            min_offline_generations: Some(0),
            ..Default::default()
        },
    );
    assert!(Policy::new(&options)
        .unwrap_err()
        .to_string()
        .contains("for source pacs"));
    let two = Policy::new(&PolicyOptions {
        min_offline_generations: Some(2),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(two.min_offline_generations(&src("emr")), 2);
    let d = Policy::default();
    assert_eq!(d.min_offline_generations(&src("emr")), 3);
    assert_eq!(d.max_newest_age(&src("emr")), days(7));
    assert_eq!(d.warning_horizon(), days(14));
    let zero_age = PolicyOptions {
        max_newest_age: Some(Duration::ZERO),
        ..Default::default()
    };
    assert_eq!(
        Policy::new(&zero_age).unwrap_err().to_string(),
        "policy setting max_newest_age = 0s must be longer than zero"
    );
}

#[test]
fn policy_reads_as_written_in_a_config_file() {
    let options: PolicyOptions = serde_json::from_str(
        r#"{"min_offline_generations": 4, "max_newest_age": "36h",
            "pool_retention": {"weekly": "28d"},
            "sources": {"pacs": {"min_offline_generations": 2}}}"#,
    )
    .unwrap();
    let p = Policy::new(&options).unwrap();
    assert_eq!(p.min_offline_generations(&src("emr")), 4);
    assert_eq!(p.min_offline_generations(&src("pacs")), 2);
    assert_eq!(p.max_newest_age(&src("emr")), Duration::hours(36));
    assert_eq!(p.pool_retention(&PoolName::new("weekly")), Some(days(28)));
    let printed = serde_json::to_value(&p).unwrap();
    assert_eq!(printed["max_newest_age"], "36h");
    assert_eq!(printed["max_person_location_age"], "92d");
    assert!(serde_json::from_str::<PolicyOptions>(r#"{"min_generations": 3}"#).is_err());
    assert!(serde_json::from_str::<PolicyOptions>(r#"{"max_newest_age": "7 days"}"#).is_err());
}

#[test]
fn pool_retention_is_reported_not_counted() {
    let mut s = Site::new();
    s.generation("emr", "g1", 40)
        .medium_full(
            "T1",
            MediumKind::LtoSingleDrive,
            Condition::Full,
            Some("weekly"),
        )
        .copy("g1", "T1")
        .at("T1", ejected());
    let mut options = PolicyOptions::default();
    options
        .pool_retention
        .insert(PoolName::new("weekly"), days(28));
    let ev = s.eval_with(options);
    assert!(verdict(&ev, "g1", "T1").counts());
    let p = problem(&ev, ProblemCode::PoolRetentionPassed);
    assert!(
        p.message.en.contains("pool weekly's retention (28 days)"),
        "{}",
        p.message.en
    );
}

#[test]
fn copies_and_generations_after_now_do_not_exist_yet() {
    let mut s = rotated_tapes();
    s.generation_at("emr", "g-future", NOW + Duration::hours(2))
        .copy("g-future", "T1");
    s.copy_full("g3", "T1", NOW + Duration::hours(1), true);
    let ev = s.eval();
    assert!(ev.compliant, "{:?}", codes(&ev));
    assert_eq!(ev.copies.len(), 3);
}

#[test]
fn contradictory_facts_become_problems_not_failures() {
    let mut s = rotated_tapes();
    s.copy_full("g-missing", "T1", ago(1), true)
        .copy("g1", "T-missing")
        .medium("T1", MediumKind::LtoLibrary);
    let ev = s.eval();
    let inconsistent = ev
        .problems
        .iter()
        .filter(|p| p.code == ProblemCode::CatalogInconsistent)
        .count();
    assert_eq!(inconsistent, 3);
    assert!(matches!(
        verdict(&ev, "g1", "T-missing").verdict,
        Verdict::Unknown(Missing::MediumNotRecorded)
    ));
    // The first record of T1 (single drive) is used: ①-1-1 still applies.
    assert_eq!(
        verdict(&ev, "g1", "T1").verdict.koban(),
        Some(Koban::LtoEjected)
    );
    assert_eq!(ev.media.iter().filter(|m| m.id.as_str() == "T1").count(), 1);
}

#[test]
fn facts_and_evaluation_serialise_for_reports() {
    let mut s = rotated_tapes();
    s.medium("B1", MediumKind::ObjectStore)
        .copy("g1", "B1")
        .protect("B1", "g1", LockMode::Governance, until_in(days(30)))
        .attest("A1", segmented(None));
    let json = serde_json::to_string(&s.facts).unwrap();
    let back: Facts = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s.facts);
    let ev = serde_json::to_value(s.eval()).unwrap();
    let g1 = &ev["sources"][0]["offline_generations"][0];
    assert_eq!(g1["snapshot"], "g1");
    assert_eq!(g1["copies"][0]["koban"], "③-1");
    assert_eq!(g1["copies"][1]["koban"], "①-1-1");
    assert_eq!(ev["copies"][0]["verdict"]["state"], "offline");
    assert_eq!(ev["problems"][0]["code"], "retention-governance");
    assert!(
        json.contains("\"taken_at\":\"2025-06-01T09:00:00+09:00\""),
        "{json}"
    );
}

/// A copy spanning a media set of three cartridges counts only while every
/// cartridge of the set is offline; one back in a drive makes it online and
/// names that cartridge; one never seen makes it unknown.
#[test]
fn a_copy_spanning_a_media_set_needs_every_cartridge_offline() {
    let set = ["S1", "S2", "S3"];
    let base = || {
        let mut s = Site::new();
        s.source("emr");
        s.generation("emr", "g1", 1);
        for m in set {
            s.medium(m, MediumKind::LtoLibrary);
        }
        s.copy_across("g1", &set, ago(1) + Duration::hours(1));
        s
    };
    let mut s = base();
    for m in set {
        s.device_saw(m, library_slot(), ago(1) + Duration::hours(2));
    }
    let ev = s.eval();
    assert_eq!(offline_count(&ev, "emr"), 1, "{:?}", codes(&ev));
    assert!(ev
        .copies
        .iter()
        .all(|c| c.verdict.koban().map(|k| k.to_string()) == Some("①-2-1".into())));

    s.at("S2", drive());
    let ev = s.eval();
    assert_eq!(offline_count(&ev, "emr"), 0);
    let on_s1 = ev
        .copies
        .iter()
        .find(|c| c.medium.as_str() == "S1")
        .unwrap();
    let why = on_s1.verdict.describe(time::UtcOffset::UTC).en;
    assert!(why.contains("S2") && why.contains("in drive"), "{why}");

    // S3 never observed: unknown, never offline.
    let mut s = base();
    for m in ["S1", "S2"] {
        s.device_saw(m, library_slot(), ago(1) + Duration::hours(2));
    }
    let ev = s.eval();
    assert_eq!(offline_count(&ev, "emr"), 0);
    let on_s1 = ev
        .copies
        .iter()
        .find(|c| c.medium.as_str() == "S1")
        .unwrap();
    assert!(
        matches!(on_s1.verdict, Verdict::Unknown(_)),
        "{:?}",
        on_s1.verdict
    );
}

/// Issue 14: a library's report that it exported a tape proves the robot
/// can no longer reach it, but not where it went. It counts as ①-2-2 with a
/// warning asking where it is kept, and stops counting after the grace.
#[test]
fn an_export_nobody_recorded_counts_for_the_grace_then_not() {
    use hokan_offline::EXPORT_RECORD_GRACE;
    let mut s = Site::new();
    s.generation("emr", "g1", 1)
        .medium("T1", MediumKind::LtoLibrary)
        .copy("g1", "T1")
        .device_saw("T1", exported(), ago(1));
    let ev = s.eval();
    assert_eq!(
        verdict(&ev, "g1", "T1").verdict.koban(),
        Some(Koban::LtoExported)
    );
    let p = problem(&ev, ProblemCode::ExportNotRecorded);
    assert_eq!(p.severity, Severity::Warning);
    assert!(
        p.message.en.contains("where it went is not recorded"),
        "{}",
        p.message.en
    );
    assert!(
        p.next_step.en.contains("hokan media move T1 --to shelf"),
        "{}",
        p.next_step.en
    );

    // Past the grace, the export alone no longer counts.
    let mut late = Site::new();
    late.generation("emr", "g1", 5)
        .medium("T1", MediumKind::LtoLibrary)
        .copy("g1", "T1")
        .device_saw(
            "T1",
            exported(),
            NOW - EXPORT_RECORD_GRACE - Duration::minutes(1),
        );
    let ev = late.eval();
    let c = verdict(&ev, "g1", "T1");
    assert_eq!(c.verdict.koban(), None, "{:?}", c.verdict);
    assert!(!c.counts());
    let p = problem(&ev, ProblemCode::ExportNotRecorded);
    assert!(
        p.message.en.contains("was never recorded"),
        "{}",
        p.message.en
    );
    assert!(
        p.message.ja.contains("行き先が記録されていません"),
        "{}",
        p.message.ja
    );

    // A person's record of where it went ends the question.
    late.person_put("T1", offsite(), NOW - Duration::hours(2));
    let ev = late.eval();
    assert_eq!(
        verdict(&ev, "g1", "T1").verdict.koban(),
        Some(Koban::LtoExported)
    );
    assert!(
        !codes(&ev).contains(&"export-not-recorded"),
        "{:?}",
        codes(&ev)
    );
}
