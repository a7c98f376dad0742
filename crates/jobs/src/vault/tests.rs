//! Receipts from real files, signed with real Ed25519 keys, recorded in a
//! real SQLite catalog and judged as `hokan status` judges them; and the
//! attacker on the primary, who can write the inbox and run SQL on the
//! catalog but does not hold the vault's signing key.

use std::path::PathBuf;

use hokan_catalog::{Catalog, Event};
use hokan_offline::{
    CopyVerdict, Evaluation, Koban, Missing, ProblemCode, SnapshotId, SourceName, Text, Verdict,
};
use hokan_site::Site;
use hokan_vault::receipt::{
    self, ClockReport, DrillFailureReport, DrillReport, FindingReport, FirewallReport, Held,
    ImmutableReport, PullReport, Receipt,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;

const NOW: OffsetDateTime = datetime!(2026-12-06 03:30 UTC);
const S1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const S2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    site: Site,
    catalog: PathBuf,
    inbox: PathBuf,
}

/// A site with vaults `a` and `b` (keys made in `dir`), two generations
/// in its catalog.
fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let ka = receipt::create_key(&dir.join("a.key")).unwrap();
    let kb = receipt::create_key(&dir.join("b.key")).unwrap();
    let text = format!(
        r#"[site]
name = "test"
catalog = "catalog.db"
[repository]
path = "repo"
[[source]]
name = "emr"
paths = ["/srv/emr"]
[[vault]]
name = "a"
retention = "30d"
public_key = "{}"
token_blake3 = "{}"
[[vault]]
name = "b"
retention = "30d"
public_key = "{}"
token_blake3 = "{}"
fresh_for = "12h"
"#,
        receipt::public_hex(&ka),
        "ab".repeat(32),
        receipt::public_hex(&kb),
        "cd".repeat(32),
    );
    let site = hokan_site::parse(&text, &dir.join("hokan.toml")).unwrap();
    let catalog = site.catalog_path().to_owned();
    let mut cat = Catalog::open(&catalog).unwrap();
    for (s, at) in [
        (S1, datetime!(2026-12-05 13:00 UTC)),
        (S2, datetime!(2026-12-04 13:00 UTC)),
    ] {
        cat.record(
            at,
            "backup",
            Event::SnapshotRecorded {
                snapshot: SnapshotId::new(s),
                source: SourceName::new("emr"),
                taken_at: at,
                hostname: "h".into(),
                paths: vec!["/srv/emr".into()],
                bytes: 1,
                files: 1,
                partial: false,
            },
        )
        .unwrap();
    }
    let inbox = inbox(&site, &catalog);
    Setup {
        _dir: tmp,
        dir,
        site,
        catalog,
        inbox,
    }
}

fn held(snapshot: &str, retain_until: &str, immutable: bool) -> Held {
    Held {
        snapshot: snapshot.into(),
        source: "emr".into(),
        time: "2026-12-05T13:00:00Z".into(),
        stored: "2026-12-05T14:00:00Z".into(),
        retain_until: retain_until.into(),
        immutable,
    }
}

/// A clean receipt of vault `vault` issued at `issued`: firewall ok, S1
/// immutable for 60 days, S2 immutable for 60 days.
fn clean(vault: &str, issued: &str) -> Receipt {
    Receipt {
        version: 1,
        vault: vault.into(),
        repository: "r".repeat(64),
        issued: issued.into(),
        clock: ClockReport {
            state: "ok".into(),
            wall: issued.into(),
        },
        ledger_head: "0".repeat(64),
        ledger_rows: 0,
        pull: PullReport {
            state: "ok".into(),
            added: 1,
            bytes: 10,
            error: None,
        },
        immutable: ImmutableReport {
            checked: 3,
            without_flag: vec![],
            without_flag_total: 0,
        },
        firewall: FirewallReport {
            state: "ok".into(),
            detail: vec![],
        },
        generations: vec![
            held(S2, "2027-02-03T14:00:00Z", true),
            held(S1, "2027-02-03T14:00:00Z", true),
        ],
        findings: vec![],
        findings_total: 0,
        drills: vec![],
    }
}

fn post(s: &Setup, folder: &str, file: &str, bytes: &[u8]) {
    let d = s.inbox.join(folder);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(file), bytes).unwrap();
}

/// The envelope of `r` signed with key `key` (`a`, `b`, or any other name
/// for a key the vaults do not have).
fn signed(s: &Setup, key: &str, r: &Receipt) -> Vec<u8> {
    let path = s.dir.join(format!("{key}.key"));
    let k = if path.exists() {
        receipt::load_key(&path).unwrap()
    } else {
        receipt::create_key(&path).unwrap()
    };
    serde_json::to_vec(&receipt::sign(&k, r)).unwrap()
}

/// Ingest at `NOW`, then judge at `at` as `hokan status` does.
fn status(s: &Setup, at: OffsetDateTime) -> (Ingested, Evaluation) {
    let mut cat = Catalog::open(&s.catalog).unwrap();
    let ingested = ingest(&s.inbox, &s.site, &mut cat, NOW).unwrap();
    drop(cat);
    let policy = s.site.policy().unwrap();
    let sources = vec!["emr".to_owned()];
    let judged = crate::site::judge(
        crate::site::Judge {
            catalog: &s.catalog,
            policy: &policy,
            sources: &sources,
            now: at,
            site: None,
            extra: Vec::new(),
        },
        &|_, _| Text::new("", ""),
    )
    .unwrap();
    let mut ev = judged.evaluation;
    add_problems(&mut ev, &ingested.problems);
    (ingested, ev)
}

fn copy<'a>(ev: &'a Evaluation, snapshot: &str, medium: &str) -> &'a CopyVerdict {
    ev.copies
        .iter()
        .find(|c| c.snapshot.as_str() == snapshot && c.medium.as_str() == medium)
        .unwrap_or_else(|| panic!("no copy of {snapshot} on {medium}: {:#?}", ev.copies))
}

fn codes(ev: &Evaluation) -> Vec<ProblemCode> {
    ev.all_problems().iter().map(|p| p.code).collect()
}

#[test]
fn a_fresh_signed_receipt_makes_the_vaults_copies_offline() {
    let s = setup();
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    // S2's objects lost the flag: ⑤-1 only, and why not ④-1.
    r.generations[0].immutable = false;
    post(&s, "a", "0001.json", &signed(&s, "a", &r));
    let (ingested, ev) = status(&s, NOW);
    assert_eq!(ingested.recorded.len(), 1, "{:?}", ingested.problems);
    assert_eq!(
        s.inbox,
        s.dir.join("inbox"),
        "the inbox defaults to the catalog's folder"
    );

    let c1 = copy(&ev, S1, "a");
    assert_eq!(c1.verdict.koban(), Some(Koban::AccessControlled), "{c1:#?}");
    assert!(c1.counts());
    assert_eq!(c1.note, None, "both ⑤-1 and ④-1 are met");
    let until = match &c1.verdict {
        Verdict::Offline { until, .. } => until.clone().unwrap().at,
        v => panic!("{v:?}"),
    };
    assert_eq!(until, datetime!(2026-12-07 15:00 UTC), "issued + 36h");

    let c2 = copy(&ev, S2, "a");
    assert_eq!(c2.verdict.koban(), Some(Koban::AccessControlled));
    let note = c2.note.as_ref().expect("why not ④-1");
    assert!(note.en.contains("not ④-1"), "{note:?}");
    assert!(note.en.contains("without the immutable flag"), "{note:?}");
    // Vault b never posted anything.
    assert!(codes(&ev).contains(&ProblemCode::VaultNoReceipt));
}

#[test]
fn an_immutable_generation_counts_under_4_1_when_the_firewall_differs() {
    let s = setup();
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    r.firewall = FirewallReport {
        state: "differs".into(),
        detail: vec!["extra rule: accept tcp dport 22".into()],
    };
    post(&s, "a", "0001.json", &signed(&s, "a", &r));
    let (_, ev) = status(&s, NOW);
    let c = copy(&ev, S1, "a");
    assert_eq!(c.verdict.koban(), Some(Koban::ImmutableDevice), "{c:#?}");
    let note = c.note.as_ref().expect("why not ⑤-1");
    assert!(note.en.contains("not ⑤-1"), "{note:?}");
    assert!(note.en.contains("firewall check differs"), "{note:?}");
    assert!(note.en.contains("accept tcp dport 22"), "{note:?}");
    assert!(codes(&ev).contains(&ProblemCode::VaultFirewallDiffers));

    // A person's old word that the vault is pull-only does not outweigh
    // the vault's own signed report: still ④-1, never ⑤-1.
    let mut cat = Catalog::open(&s.catalog).unwrap();
    let id = cat.next_attestation_id().unwrap();
    cat.record(
        NOW - Duration::days(1),
        "attest",
        Event::Attested {
            attestation: hokan_offline::Attestation {
                id,
                claim: hokan_offline::Claim::PullOnlyVault {
                    medium: MediumId::new("a"),
                },
                by: hokan_offline::Person::new("佐藤"),
                evidence: "diagram".into(),
                valid_from: NOW - Duration::days(30),
                expires_at: NOW + Duration::days(300),
                withdrawn_at: None,
            },
        },
    )
    .unwrap();
    drop(cat);
    let (_, ev) = status(&s, NOW);
    assert_eq!(
        copy(&ev, S1, "a").verdict.koban(),
        Some(Koban::ImmutableDevice)
    );
}

#[test]
fn retention_ended_or_shorter_than_expected_is_not_4_1() {
    let s = setup();
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    r.firewall.state = "unchecked".into();
    // S2: retention ended; S1: kept 10 days, the site expects 30.
    r.generations[0].retain_until = "2026-12-06T00:00:00Z".into();
    r.generations[1].retain_until = "2026-12-15T14:00:00Z".into();
    post(&s, "a", "0001.json", &signed(&s, "a", &r));
    let (_, ev) = status(&s, NOW);
    let c2 = copy(&ev, S2, "a");
    assert!(!c2.counts(), "{c2:#?}");
    assert!(c2.note.as_ref().unwrap().en.contains("retention ended"));
    let c1 = copy(&ev, S1, "a");
    assert!(!c1.counts(), "{c1:#?}");
    assert!(
        matches!(
            c1.verdict,
            Verdict::Unknown(Missing::VaultFirewallUnchecked { .. })
        ),
        "{c1:#?}"
    );
    assert!(c1
        .note
        .as_ref()
        .unwrap()
        .en
        .contains("shorter than the retention"));
}

#[test]
fn a_stale_receipt_turns_the_vaults_copies_unknown_in_status() {
    let s = setup();
    post(
        &s,
        "a",
        "0001.json",
        &signed(&s, "a", &clean("a", "2026-12-06T03:00:00Z")),
    );
    // 36h and one minute after it was issued, and nothing newer came.
    let later = datetime!(2026-12-07 15:01 UTC);
    let (_, ev) = status(&s, later);
    for snapshot in [S1, S2] {
        let c = copy(&ev, snapshot, "a");
        assert!(
            matches!(c.verdict, Verdict::Unknown(Missing::ReceiptStale { .. })),
            "unknown, never offline nor online: {c:#?}"
        );
        let text = c.verdict.describe(time::UtcOffset::UTC).en;
        assert!(text.contains("hokan vault status"), "{text}");
    }
    let p = ev
        .all_problems()
        .into_iter()
        .find(|p| p.code == ProblemCode::VaultReceiptStale)
        .expect("a stale receipt is a problem");
    assert!(p.message.en.contains("36 hours old"), "{:?}", p.message);
    // Just before it turned, it counted.
    let (_, ev) = status(&s, datetime!(2026-12-07 14:59 UTC));
    assert!(copy(&ev, S1, "a").counts());
}

#[test]
fn an_edited_or_foreign_signed_receipt_is_never_counted() {
    let s = setup();
    // The vault reported a firewall that differs; the attacker turns it
    // into "ok" in the file on the primary.
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    r.firewall.state = "differs".into();
    r.generations.iter_mut().for_each(|g| g.immutable = false);
    let mut env: receipt::Signed = serde_json::from_slice(&signed(&s, "a", &r)).unwrap();
    env.receipt = env.receipt.replace("\"differs\"", "\"ok\"");
    post(&s, "a", "0001.json", &serde_json::to_vec(&env).unwrap());
    // And writes one of its own, signed with a key it made.
    post(
        &s,
        "a",
        "0002.json",
        &signed(&s, "attacker", &clean("a", "2026-12-06T03:10:00Z")),
    );
    // Not a receipt at all, too large, and a folder: no harm.
    post(&s, "a", "0003.json", b"{\"receipt\":1}");
    post(&s, "a", "0004.json", &vec![b' '; 300 * 1024]);
    std::fs::create_dir_all(s.inbox.join("a").join("sub")).unwrap();
    // A receipt `hokan serve` was killed while writing: skipped, not a problem.
    post(&s, "a", ".0005.json.part", b"{\"rece");
    let (ingested, ev) = status(&s, NOW);
    assert!(ingested.recorded.is_empty(), "{:?}", ingested.recorded);
    assert!(ev.copies.iter().all(|c| c.medium.as_str() != "a"));
    let rejected: Vec<String> = ev
        .all_problems()
        .into_iter()
        .filter(|p| p.code == ProblemCode::VaultReceiptRejected)
        .map(|p| p.message.en.clone())
        .collect();
    assert_eq!(rejected.len(), 4, "{rejected:#?}");
    for want in [
        "a/0001.json for vault a is not signed by its registered key",
        "a/0002.json for vault a is not signed by its registered key",
        "a/0003.json in the vault inbox is not a receipt",
        "a/0004.json in the vault inbox is larger than 256 KiB",
    ] {
        assert!(
            rejected.iter().any(|m| m.contains(want)),
            "{want}: {rejected:#?}"
        );
    }
    assert!(codes(&ev).contains(&ProblemCode::VaultNoReceipt));
    // The files stay as evidence.
    assert!(s.inbox.join("a/0001.json").exists());
}

#[test]
fn a_receipt_counts_only_in_its_own_vaults_folder() {
    let s = setup();
    // Vault a's genuine receipt copied into b's folder: b's key does not
    // verify it.
    post(
        &s,
        "b",
        "0001.json",
        &signed(&s, "a", &clean("a", "2026-12-06T03:00:00Z")),
    );
    // A receipt b signed but that names a (a confused or replayed one).
    post(
        &s,
        "b",
        "0002.json",
        &signed(&s, "b", &clean("a", "2026-12-06T03:00:00Z")),
    );
    let (ingested, ev) = status(&s, NOW);
    assert!(ingested.recorded.is_empty());
    assert!(ev
        .copies
        .iter()
        .all(|c| c.medium.as_str() != "a" && c.medium.as_str() != "b"));
    let msgs: Vec<String> = ingested
        .problems
        .iter()
        .map(|p| p.message.en.clone())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("b/0001.json for vault b is not signed")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("signed for vault \"a\", not b")),
        "{msgs:#?}"
    );
}

#[test]
fn a_receipt_from_the_future_is_refused() {
    let s = setup();
    post(
        &s,
        "a",
        "0001.json",
        &signed(&s, "a", &clean("a", "2026-12-06T03:41:00Z")),
    );
    let (ingested, _) = status(&s, NOW);
    assert!(ingested.recorded.is_empty());
    assert!(ingested.problems[0].message.en.contains("in the future"));
    // Within the ten minutes of clock difference: believed.
    post(
        &s,
        "a",
        "0002.json",
        &signed(&s, "a", &clean("a", "2026-12-06T03:39:00Z")),
    );
    let (ingested, ev) = status(&s, NOW);
    assert_eq!(ingested.recorded.len(), 1);
    assert!(copy(&ev, S1, "a").counts());
}

#[test]
fn the_same_receipt_read_twice_is_recorded_once() {
    let s = setup();
    let env = signed(&s, "a", &clean("a", "2026-12-06T03:00:00Z"));
    post(&s, "a", "0001.json", &env);
    post(&s, "a", "copy-of-0001.json", &env);
    let (first, _) = status(&s, NOW);
    assert_eq!(first.recorded.len(), 1);
    let (again, _) = status(&s, NOW);
    assert!(again.recorded.is_empty());
    let cat = Catalog::open(&s.catalog).unwrap();
    assert_eq!(cat.vault_receipts(None).unwrap().len(), 1);
    let kinds: Vec<String> = cat
        .events(100_000, false)
        .unwrap()
        .into_iter()
        .map(|e| e.event.kind().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "vault-receipt").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "copy-recorded").count(), 2);
}

#[test]
fn findings_and_a_newer_receipt_without_a_generation_are_shown() {
    let s = setup();
    post(
        &s,
        "a",
        "0001.json",
        &signed(&s, "a", &clean("a", "2026-12-05T03:00:00Z")),
    );
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    r.generations.remove(0);
    r.clock.state = "frozen".into();
    r.findings = vec![FindingReport {
        seq: 7,
        time: "2026-12-06T02:00:00Z".into(),
        kind: "changed-bytes".into(),
        detail: "pack 3f… changed on the primary".into(),
    }];
    r.findings_total = 1;
    post(&s, "a", "0002.json", &signed(&s, "a", &r));
    let (_, ev) = status(&s, NOW);
    assert!(ev
        .copies
        .iter()
        .all(|c| !(c.medium.as_str() == "a" && c.snapshot.as_str() == S2)));
    assert!(copy(&ev, S1, "a").counts());
    let all = codes(&ev);
    assert!(all.contains(&ProblemCode::VaultFindings), "{all:?}");
    assert!(all.contains(&ProblemCode::VaultClock), "{all:?}");
    assert!(!ev.compliant);
}

#[test]
fn deleting_a_recorded_receipt_with_sql_is_caught() {
    let s = setup();
    post(
        &s,
        "a",
        "0001.json",
        &signed(&s, "a", &clean("a", "2026-12-06T03:00:00Z")),
    );
    let (_, ev) = status(&s, NOW);
    assert!(copy(&ev, S1, "a").counts());
    let db = rusqlite::Connection::open(&s.catalog).unwrap();
    db.execute_batch(
        "DROP TRIGGER events_no_delete; \
         DELETE FROM events WHERE kind = 'vault-receipt'; \
         DELETE FROM vault_receipts;",
    )
    .unwrap();
    drop(db);
    // The file is still in the inbox, but the catalog is no longer
    // evidence: nothing is written to it and nothing is judged.
    let policy = s.site.policy().unwrap();
    let judged = crate::site::judge(
        crate::site::Judge {
            catalog: &s.catalog,
            policy: &policy,
            sources: &[],
            now: NOW,
            site: None,
            extra: Vec::new(),
        },
        &|_, _| Text::new("", ""),
    )
    .unwrap();
    assert!(!judged.trusted());
    let mut cat = Catalog::open(&s.catalog).unwrap();
    assert!(ingest(&s.inbox, &s.site, &mut cat, NOW).is_err());
}

/// A clean receipt of vault `a` whose ledger has `rows` rows and a head
/// of `head` repeated.
fn at(issued: &str, rows: u64, head: char) -> Receipt {
    let mut r = clean("a", issued);
    r.ledger_rows = rows;
    r.ledger_head = head.to_string().repeat(64);
    r
}

/// A vault whose folder was put back from an older copy (a VM snapshot):
/// its ledger reports fewer rows than before, or as many with another
/// head. The primary says so (an error), from the receipts alone; a ledger
/// that only grows raises nothing.
#[test]
fn a_vault_ledger_that_went_back_is_an_error_on_the_primary() {
    let s = setup();
    post(
        &s,
        "a",
        "0001.json",
        &signed(&s, "a", &at("2026-12-05T03:00:00Z", 40, 'a')),
    );
    post(
        &s,
        "a",
        "0002.json",
        &signed(&s, "a", &at("2026-12-05T15:00:00Z", 55, 'b')),
    );
    let (_, ev) = status(&s, NOW);
    assert!(
        !codes(&ev).contains(&ProblemCode::VaultLedgerWentBack),
        "{:?}",
        codes(&ev)
    );

    // Put back to the state of the first receipt, then one pull later.
    post(
        &s,
        "a",
        "0003.json",
        &signed(&s, "a", &at("2026-12-06T03:00:00Z", 47, 'c')),
    );
    let (_, ev) = status(&s, NOW);
    let p = ev
        .all_problems()
        .into_iter()
        .find(|p| p.code == ProblemCode::VaultLedgerWentBack)
        .unwrap_or_else(|| panic!("no ledger problem: {:?}", codes(&ev)));
    assert_eq!(p.severity, hokan_offline::Severity::Error);
    assert!(p.message.en.contains("reports 47 rows"), "{}", p.message.en);
    assert!(p.message.en.contains("reported 55"), "{}", p.message.en);
    assert!(!ev.compliant);
}

#[test]
fn the_same_row_count_with_another_head_is_a_ledger_that_went_back() {
    let s = setup();
    post(
        &s,
        "a",
        "0001.json",
        &signed(&s, "a", &at("2026-12-05T03:00:00Z", 40, 'a')),
    );
    post(
        &s,
        "a",
        "0002.json",
        &signed(&s, "a", &at("2026-12-06T03:00:00Z", 40, 'd')),
    );
    let (_, ev) = status(&s, NOW);
    assert!(
        codes(&ev).contains(&ProblemCode::VaultLedgerWentBack),
        "{:?}",
        codes(&ev)
    );
}

/// A drill vault `a` ran on S1 (failed when `failure` names something).
fn drill(started: &str, failure: Option<&str>) -> DrillReport {
    DrillReport {
        source: "emr".into(),
        snapshot: S1.into(),
        started: started.into(),
        seconds: 2.0,
        first_file_secs: Some(0.5),
        bytes: 1000,
        throughput: 500.0,
        files_checked: 3,
        app_check: None,
        failures: failure
            .map(|w| {
                vec![DrillFailureReport {
                    what: w.into(),
                    why: "authentication failed".into(),
                }]
            })
            .unwrap_or_default(),
        by: "suzuki".into(),
    }
}

fn drills(s: &Setup) -> Vec<hokan_catalog::DrillRow> {
    Catalog::open(&s.catalog).unwrap().drills(100).unwrap()
}

#[test]
fn a_signed_receipts_drills_are_recorded_once_with_the_projection() {
    let s = setup();
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    r.drills = vec![
        drill("2026-12-06T02:00:00.123456789Z", None),
        drill("2026-12-06T02:10:00Z", Some("pack 3fa2c0de")),
    ];
    post(&s, "a", "0001.json", &signed(&s, "a", &r));
    let (_, ev) = status(&s, NOW);
    let rows = drills(&s);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    // The newest drill failed: an error for vault media, whose next step
    // is a drill on the vault (the primary has no way in to it).
    let failed = ev
        .problems
        .iter()
        .find(|p| p.code == ProblemCode::DrillFailed)
        .unwrap_or_else(|| panic!("{:?}", codes(&ev)));
    assert!(failed.message.en.contains("vault media"), "{failed:?}");
    assert!(
        failed
            .next_step
            .en
            .contains("`hokan vault drill` on the vault"),
        "{failed:?}"
    );
    let (failed, passed) = (&rows[0], &rows[1]);
    assert!(passed.ok && !failed.ok);
    assert_eq!(passed.medium.as_str(), "a");
    assert_eq!(passed.by.as_deref(), Some("vault a: suzuki"));
    assert_eq!(
        passed.started_at,
        datetime!(2026-12-06 02:00:00.123456789 UTC)
    );
    let m = passed.measured.as_ref().unwrap();
    assert_eq!(m.kind, "vault");
    // The newest complete snapshot of emr has 1 byte, at 500 B/s; no rto.
    assert_eq!(m.projected_secs, Some(1.0 / 500.0));
    assert_eq!(m.rto_secs, None);
    assert!(failed
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("pack 3fa2c0de: authentication failed")));

    // The same receipt replayed under another name, and a later receipt
    // repeating both drills: nothing recorded twice.
    post(&s, "a", "0002.json", &signed(&s, "a", &r));
    r.issued = "2026-12-06T03:10:00Z".into();
    post(&s, "a", "0003.json", &signed(&s, "a", &r));
    let (ingested, _) = status(&s, NOW);
    assert_eq!(ingested.recorded.len(), 1, "{:?}", ingested.problems);
    assert_eq!(drills(&s).len(), 2);
}

#[test]
fn drills_edited_into_a_receipt_on_the_primary_are_never_recorded() {
    let s = setup();
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    r.drills = vec![drill("2026-12-06T02:00:00Z", Some("pack 3fa2c0de"))];
    // The attacker turns the vault's failed drill into a passed one, and
    // adds a drill to a receipt without one; or signs one with its own key.
    let mut env: receipt::Signed = serde_json::from_slice(&signed(&s, "a", &r)).unwrap();
    env.receipt = env.receipt.replace(
        "\"failures\":[{\"what\":\"pack 3fa2c0de\",\"why\":\"authentication failed\"}]",
        "\"failures\":[]",
    );
    assert!(!env.receipt.contains("3fa2c0de"));
    post(&s, "a", "0001.json", &serde_json::to_vec(&env).unwrap());
    let plain = clean("a", "2026-12-06T03:01:00Z");
    let mut env: receipt::Signed = serde_json::from_slice(&signed(&s, "a", &plain)).unwrap();
    let added = serde_json::to_string(&vec![drill("2026-12-06T02:30:00Z", None)]).unwrap();
    env.receipt = format!("{},\"drills\":{added}}}", env.receipt.trim_end_matches('}'));
    post(&s, "a", "0002.json", &serde_json::to_vec(&env).unwrap());
    r.drills[0].failures.clear();
    post(&s, "a", "0003.json", &signed(&s, "mallory", &r));
    let (ingested, ev) = status(&s, NOW);
    assert!(ingested.recorded.is_empty(), "{:?}", ingested.recorded);
    assert_eq!(
        ingested
            .problems
            .iter()
            .filter(|p| p.code == ProblemCode::VaultReceiptRejected)
            .count(),
        3,
        "{:?}",
        ingested.problems
    );
    assert!(codes(&ev).contains(&ProblemCode::VaultReceiptRejected));
    assert!(drills(&s).is_empty());
}

#[test]
fn a_drill_of_a_snapshot_the_catalog_never_recorded_is_named_not_recorded() {
    let s = setup();
    let mut r = clean("a", "2026-12-06T03:00:00Z");
    let mut d = drill("2026-12-06T02:00:00Z", None);
    d.snapshot = "9".repeat(64);
    r.drills = vec![d, drill("2026-12-06T02:05:00Z", None)];
    post(&s, "a", "0001.json", &signed(&s, "a", &r));
    let (ingested, _) = status(&s, NOW);
    // The receipt counts; the known drill is recorded, the other named.
    assert_eq!(ingested.recorded.len(), 1);
    assert_eq!(drills(&s).len(), 1);
    let p = ingested
        .problems
        .iter()
        .find(|p| p.message.en.contains(&"9".repeat(64)))
        .unwrap_or_else(|| panic!("{:?}", ingested.problems));
    assert!(p.message.en.contains("never recorded"), "{p:?}");
}
