//! The store on a real, strict S3 server: a single-node Ceph RGW (see
//! `hokan_s3::rgw`; `scripts/test.sh` starts one for the suite, else the
//! first test starts it under the target dir). The conformance suite on a
//! plain and on a locked bucket, and RGW's two gaps: `If-None-Match: *`
//! ignored on versioned buckets, lock headers dropped on multipart uploads.
//! Every test prints how long it took.

mod common;

use std::time::Instant;

use aws_sdk_s3::types::ObjectLockRetentionMode;
use hokan_repo::store::{ObjectKind, Store, StoreError};
use hokan_s3::testing::RgwServer;
use hokan_s3::{LockMode, S3Store};
use hokan_store::conformance;
use time::OffsetDateTime;

use common::*;

fn rgw() -> RgwServer {
    RgwServer::get().unwrap_or_else(|e| panic!("the Ceph RGW tests need Ceph: {e}"))
}

/// Prints the test's duration when dropped.
struct Timed(&'static str, Instant);

impl Drop for Timed {
    fn drop(&mut self) {
        eprintln!("{}: {:.1} s on RGW", self.0, self.1.elapsed().as_secs_f64());
    }
}

fn timed(name: &'static str) -> Timed {
    Timed(name, Instant::now())
}

fn locked(server: &RgwServer, stem: &str) -> S3Store {
    let bucket = server.bucket(stem);
    server.create_locked_bucket(&bucket).expect("locked bucket");
    connect(server.config(&bucket))
}

#[test]
fn conformance_on_a_plain_rgw_bucket() {
    let _t = timed("conformance_on_a_plain_rgw_bucket");
    let server = rgw();
    conformance::check_store(&|| {
        let bucket = server.bucket("plain");
        server.create_plain_bucket(&bucket).expect("plain bucket");
        let mut cfg = server.config(&bucket);
        cfg.lock = None;
        Box::new(connect(cfg))
    });
}

#[test]
fn conformance_on_a_locked_rgw_bucket() {
    let _t = timed("conformance_on_a_locked_rgw_bucket");
    let server = rgw();
    let make = || -> Box<dyn Store> { Box::new(locked(&server, "locked")) };
    let mut ran = 0;
    for (name, check) in conformance::CHECKS {
        // Deleting a locked object is refused by design.
        if *name == "delete, then not found" {
            continue;
        }
        conformance::run_check(&make, name, *check);
        ran += 1;
    }
    assert_eq!(ran, conformance::CHECKS.len() - 1);
}

/// RGW ignores `If-None-Match: *` on a versioned bucket: of racing puts of
/// one name, several would "succeed" as versions on top of each other.
/// hokan checks the versions after writing: exactly one put wins, the
/// others get AlreadyExists, and the object reads as the winner's.
#[test]
fn racing_puts_on_a_versioned_rgw_bucket_have_one_winner() {
    let _t = timed("racing_puts_on_a_versioned_rgw_bucket_have_one_winner");
    let server = rgw();
    let plain_versioned = {
        let bucket = server.bucket("versioned");
        server.create_versioned_bucket(&bucket).unwrap();
        let mut cfg = server.config(&bucket);
        cfg.lock = None;
        connect(cfg)
    };
    for store in [locked(&server, "race"), plain_versioned] {
        for round in 0..4u8 {
            let name = format!("{round:02x}race");
            let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 2000 + i as usize]).collect();
            let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = contents
                    .iter()
                    .map(|data| {
                        let (store, name) = (&store, &name);
                        scope.spawn(move || store.put(ObjectKind::Pack, name, data))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let winners: Vec<usize> = (0..8).filter(|&i| results[i].is_ok()).collect();
            assert_eq!(winners.len(), 1, "round {round}: {results:?}");
            for (i, r) in results.iter().enumerate() {
                if i != winners[0] {
                    assert!(
                        matches!(r, Err(StoreError::AlreadyExists { .. })),
                        "round {round}, put {i}: {r:?}"
                    );
                }
            }
            assert_eq!(
                store.get(ObjectKind::Pack, &name).unwrap(),
                contents[winners[0]],
                "round {round}: the object reads as the winner's"
            );
            let listed = store.list(ObjectKind::Pack).unwrap();
            let size = listed.iter().find(|o| o.name == name).unwrap().size;
            assert_eq!(size, contents[winners[0]].len() as u64);
        }
    }
}

/// RGW drops the lock headers of CreateMultipartUpload: hokan sets the
/// retention after completing, and the object ends with the COMPLIANCE
/// retention asked for, as GetObjectRetention reports it.
#[test]
fn a_multipart_object_on_rgw_ends_with_its_compliance_retention() {
    let _t = timed("a_multipart_object_on_rgw_ends_with_its_compliance_retention");
    let server = rgw();
    let store = locked(&server, "multipart");
    let data: Vec<u8> = (0..9 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(data.len() as u64 > store.config().multipart_threshold);
    let before = OffsetDateTime::now_utc();
    store.put(ObjectKind::Pack, "77big", &data).unwrap();
    let after = OffsetDateTime::now_utc();
    assert_eq!(store.get(ObjectKind::Pack, "77big").unwrap(), data);

    let key = store.key(ObjectKind::Pack, "77big");
    let head = store
        .block_on(
            store
                .client()
                .head_object()
                .bucket(store.bucket())
                .key(&key)
                .send(),
        )
        .unwrap();
    assert!(
        head.e_tag().unwrap_or_default().ends_with("-2\""),
        "uploaded in two parts: {head:?}"
    );
    let got = store
        .block_on(
            store
                .client()
                .get_object_retention()
                .bucket(store.bucket())
                .key(&key)
                .send(),
        )
        .unwrap();
    let retention = got.retention().expect("a retention");
    assert_eq!(retention.mode(), Some(&ObjectLockRetentionMode::Compliance));
    let until = retention.retain_until_date().expect("a date");
    let until = OffsetDateTime::from_unix_timestamp(until.secs()).unwrap();
    let day = time::Duration::days(1);
    assert!(
        until >= before + day - time::Duration::seconds(1)
            && until <= after + day + time::Duration::seconds(2),
        "retain until {until}, written between {before} and {after}"
    );
    let lock = store.object_lock(ObjectKind::Pack, "77big").unwrap();
    assert_eq!(lock.mode, Some(LockMode::Compliance));
    // And RGW enforces it: the version cannot be deleted.
    let version = lock.version_id.unwrap();
    let r = store.block_on(
        store
            .client()
            .delete_object()
            .bucket(store.bucket())
            .key(&key)
            .version_id(version)
            .bypass_governance_retention(true)
            .send(),
    );
    assert!(r.is_err(), "a COMPLIANCE version was deleted");
}

#[test]
fn rgw_enforces_compliance_where_moto_does_not_and_ignores_if_none_match() {
    let _t = timed("rgw_enforces_compliance_where_moto_does_not_and_ignores_if_none_match");
    let server = rgw();
    let store = locked(&server, "probe");
    let report = hokan_s3::probe(&store).unwrap();
    assert!(report.delete_version_refused, "{report:?}");
    assert!(report.shorten_refused, "{report:?}");
    assert!(report.enforced(), "{report:?}");
    // The bucket check sees RGW ignore If-None-Match on this versioned
    // bucket, and does not warn: hokan settles the race itself there.
    let check = hokan_s3::bucket_check(&store).unwrap();
    assert_eq!(check.conditional_put, Some(false), "{check:?}");
    assert_eq!(check.lock_visible, Some(true), "{check:?}");
    assert!(
        !check
            .warnings
            .iter()
            .any(|w| w.en.contains("If-None-Match")),
        "{check:?}"
    );
}
