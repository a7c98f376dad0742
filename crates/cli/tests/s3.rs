//! S3 with object lock end to end: the real binary against a real moto
//! server process on loopback (each test its own, on a free port; CI
//! installs moto). Proves: a copy to a locked bucket restores
//! byte-identical; a ransomware attacker with hokan's own credentials
//! cannot destroy the locked generation; the enforcement probe reports what
//! moto really enforces; extend-locks keeps live generations locked past
//! the horizon, and without it the copy turns online after expiry; a bucket
//! without lock is refused; a network that drops mid-copy is resumed. One
//! test runs the ransomware attack on a real, strict server instead, a
//! single-node Ceph RGW (`hokan_s3::rgw`), where the copy must stay a plain
//! ③-1.

mod common;

use std::fs;

use hokan_repo::store::{ObjectKind, Store};
use hokan_s3::testing::{FlakyProxy, MotoServer, RgwServer, TEST_ACCESS_KEY, TEST_SECRET};
use hokan_s3::S3Store;
use serde_json::Value;

use common::tape::*;
use common::*;

fn moto() -> MotoServer {
    MotoServer::start().unwrap_or_else(|e| {
        panic!("the S3 tests need moto's server (scripts/test.sh installs it: pip install 'moto[server]'): {e}")
    })
}

/// A site with an `[[s3]] name = "cloud"` on `endpoint`/`bucket`.
fn site(endpoint: &str, bucket: &str, extra: &str) -> Site {
    site_as(endpoint, bucket, extra, TEST_ACCESS_KEY, TEST_SECRET)
}

/// [`site`] with the given credentials.
fn site_as(endpoint: &str, bucket: &str, extra: &str, key_id: &str, secret: &str) -> Site {
    let s = Site::new(&format!(
        r#"[[s3]]
name = "cloud"
endpoint = "{endpoint}"
region = "us-east-1"
bucket = "{bucket}"
prefix = "hokan"
path_style = true
retention = "1d"
access_key_id = "{key_id}"
secret_access_key_file = "s3-secret"
{extra}"#
    ));
    fs::write(s.dir.join("s3-secret"), format!("{secret}\n")).unwrap();
    s
}

/// The store as an attacker holding hokan's credentials sees it.
fn raw(m: &MotoServer, bucket: &str, endpoint: Option<String>) -> S3Store {
    let mut cfg = m.config(bucket);
    cfg.prefix = Some("hokan".into());
    cfg.lock = None;
    if let Some(e) = endpoint {
        cfg.endpoint = Some(e);
    }
    S3Store::connect(cfg).unwrap()
}

fn copies(s: &Site, minutes: i64) -> Vec<Value> {
    s.copies_on(minutes, "cloud")
}

#[test]
fn a_copy_to_a_locked_bucket_is_weaker_on_moto_and_restores_from_the_bucket_alone() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(&m.endpoint(), "hospital", "");
    s.night(1);
    let v = s.json(60, &["copy", "--to", "s3:cloud"], 0);
    assert_eq!(v["locked"], true, "{v}");
    assert!(v["bytes_sent"].as_u64().unwrap() > 100_000, "{v}");
    // Never probed: offline under ③-1, weaker.
    let c = copies(&s, 61);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["verdict"]["detail"]["koban"], "③-1", "{c:?}");
    // The probe: moto refuses deleting a locked version but lets compliance
    // retention be shortened, so hokan says so and exits 1.
    let o = s.run(62, &["--json", "s3", "check", "cloud"]);
    assert_eq!(o.status.code(), Some(1));
    let check: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(check["probe"]["delete_version_refused"], true, "{check}");
    assert_eq!(check["probe"]["shorten_refused"], false, "{check}");
    assert_eq!(check["outcome"], "shortenable", "{check}");
    let st: Value = serde_json::from_slice(&s.run(63, &["--json", "status"]).stdout).unwrap();
    let weaker = &copies(&s, 63)[0]["verdict"]["detail"]["strength"];
    assert!(
        weaker.to_string().contains("retention-shortenable"),
        "never plain ③-1 on moto: {weaker}"
    );
    let problems = st["evaluation"]["problems"].to_string();
    assert!(problems.contains("retention-shortenable"), "{problems}");

    // A second copy sends nothing already there.
    let v = s.json(64, &["copy", "--to", "s3:cloud"], 0);
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 0, "{v}");

    // The primary repository is gone: restore from the bucket.
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    s.ok(
        65,
        &[
            "s3",
            "restore",
            "cloud",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &target.join("data"));
}

/// With the primary repository gone, `s3 restore` (step `step`) gives the
/// source back from bucket `cloud` alone; then the copies as the catalog
/// judges them (step `step + 1`).
fn restored_from_the_bucket_alone(s: &Site, step: i64) -> Vec<Value> {
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    let t = target.to_str().unwrap();
    s.ok(step, &["s3", "restore", "cloud", "latest", "--target", t]);
    assert_same(&s.data, &target.join("data"));
    copies(s, step + 1)
}

#[test]
fn ransomware_with_hokans_own_credentials_cannot_destroy_the_locked_generation() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(&m.endpoint(), "hospital", "");
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    let attacker = raw(&m, "hospital", None);
    let mut keys = Vec::new();
    for kind in [
        ObjectKind::Config,
        ObjectKind::Key,
        ObjectKind::Pack,
        ObjectKind::Index,
        ObjectKind::Snapshot,
    ] {
        for o in attacker.list(kind).unwrap() {
            keys.push((kind, o.name));
        }
    }
    assert!(keys.len() > 5, "{keys:?}");
    let client = attacker.client();
    let mut deleted = 0;
    let mut overwritten = 0;
    for (kind, name) in &keys {
        let key = attacker.key(*kind, name);
        // Delete every version it can see, even with the bypass header.
        let versions = attacker
            .block_on(
                client
                    .list_object_versions()
                    .bucket("hospital")
                    .prefix(&key)
                    .send(),
            )
            .unwrap();
        for v in versions.versions() {
            let r = attacker.block_on(
                client
                    .delete_object()
                    .bucket("hospital")
                    .key(&key)
                    .version_id(v.version_id().unwrap_or_default())
                    .bypass_governance_retention(true)
                    .send(),
            );
            if r.is_ok() {
                deleted += 1;
            }
        }
        // Overwrite the object with garbage (a new version).
        let r = attacker.block_on(
            client
                .put_object()
                .bucket("hospital")
                .key(&key)
                .body(b"encrypted by ransomware".to_vec().into())
                .content_md5("bPqFWQPx/kSc1pf8oq/OSQ==")
                .send(),
        );
        if r.is_ok() {
            overwritten += 1;
        }
    }
    assert_eq!(deleted, 0, "no locked version could be deleted");
    // And the bucket itself cannot be deleted while it holds objects.
    let r = attacker.block_on(client.delete_bucket().bucket("hospital").send());
    assert!(r.is_err(), "the bucket was deleted");
    // Overwrites are accepted, as new versions on top.
    assert_eq!(overwritten, keys.len(), "every overwrite added a version");

    // The generation still restores, from the locked first versions.
    let c = restored_from_the_bucket_alone(&s, 70);
    assert_eq!(c[0]["verdict"]["detail"]["koban"], "③-1", "{c:?}");
    // Never a plain ③-1 on moto: its lock was never probed (and moto lets
    // COMPLIANCE be shortened; the RGW test below is the strict one).
    assert_ne!(
        c[0]["verdict"]["detail"]["strength"]["strength"], "full",
        "{c:?}"
    );
}

/// The same attack on a real, strict S3 server, a single-node Ceph RGW
/// (`scripts/test.sh` starts it; see `hokan_s3::rgw`): every attack on the
/// locked generation is refused with 403 (deleting versions, with the
/// bypass header too; shortening the COMPLIANCE retention; switching it to
/// GOVERNANCE), the probe passes, and the copy is a plain ③-1 that still
/// restores from the bucket alone after overwrites and delete markers.
#[test]
fn ransomware_on_ceph_rgw_is_refused_and_the_copy_stays_a_plain_3_1() {
    use aws_sdk_s3::types::{ObjectLockRetention, ObjectLockRetentionMode};
    let started = std::time::Instant::now();
    let r = RgwServer::get().unwrap_or_else(|e| panic!("this test needs Ceph RGW: {e}"));
    let bucket = r.bucket("hospital");
    r.create_locked_bucket(&bucket).unwrap();
    let (key_id, secret) = r.credentials();
    let mut s = site_as(&r.endpoint(), &bucket, "", &key_id, &secret);
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    // The probe: RGW refuses deleting a locked version and shortening it.
    let o = s.run(61, &["--json", "s3", "check", "cloud"]);
    let check: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{check}");
    assert_eq!(check["probe"]["delete_version_refused"], true, "{check}");
    assert_eq!(check["probe"]["shorten_refused"], true, "{check}");

    let mut cfg = r.config(&bucket);
    cfg.prefix = Some("hokan".into());
    cfg.lock = None;
    let attacker = S3Store::connect(cfg).unwrap();
    let client = attacker.client();
    let mut keys = Vec::new();
    for kind in [
        ObjectKind::Config,
        ObjectKind::Key,
        ObjectKind::Pack,
        ObjectKind::Index,
        ObjectKind::Snapshot,
    ] {
        for o in attacker.list(kind).unwrap() {
            keys.push(attacker.key(kind, &o.name));
        }
    }
    assert!(keys.len() > 5, "{keys:?}");
    // An hour from now: still far shorter than the day each object is locked.
    let soon = aws_smithy_types::DateTime::from_secs(
        time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
    );
    let later = aws_smithy_types::DateTime::from_secs(
        time::OffsetDateTime::now_utc().unix_timestamp() + 3 * 86_400,
    );
    let mut refused = 0;
    for key in &keys {
        for v in versions_of(&attacker, &bucket, key) {
            let delete = attacker.block_on(
                client
                    .delete_object()
                    .bucket(&bucket)
                    .key(key)
                    .version_id(&v)
                    .bypass_governance_retention(true)
                    .send(),
            );
            assert_eq!(status(delete), 403, "delete {key} {v}");
            let shorten = attacker.block_on(
                client
                    .put_object_retention()
                    .bucket(&bucket)
                    .key(key)
                    .version_id(&v)
                    .retention(
                        ObjectLockRetention::builder()
                            .mode(ObjectLockRetentionMode::Compliance)
                            .retain_until_date(soon)
                            .build(),
                    )
                    .send(),
            );
            assert_eq!(status(shorten), 403, "shorten {key} {v}");
            let governance = attacker.block_on(
                client
                    .put_object_retention()
                    .bucket(&bucket)
                    .key(key)
                    .version_id(&v)
                    .bypass_governance_retention(true)
                    .retention(
                        ObjectLockRetention::builder()
                            .mode(ObjectLockRetentionMode::Governance)
                            .retain_until_date(later)
                            .build(),
                    )
                    .send(),
            );
            assert_eq!(status(governance), 403, "governance {key} {v}");
            refused += 3;
        }
        // What RGW does accept: garbage on top as a new version, then a
        // delete marker hiding it.
        let put = attacker.block_on(
            client
                .put_object()
                .bucket(&bucket)
                .key(key)
                .body(b"encrypted by ransomware".to_vec().into())
                .content_md5("bPqFWQPx/kSc1pf8oq/OSQ==")
                .send(),
        );
        assert_eq!(status(put), 200, "overwrite {key}");
        let marker = attacker.block_on(client.delete_object().bucket(&bucket).key(key).send());
        assert_eq!(status(marker), 200, "delete marker on {key}");
    }
    assert!(refused >= 3 * keys.len(), "{refused}");
    let r = attacker.block_on(client.delete_bucket().bucket(&bucket).send());
    assert!(r.is_err(), "the bucket was deleted");

    // The re-check finds every object of the copy whole and locked.
    let o = s.run(70, &["--json", "s3", "check", "cloud"]);
    let check: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{check}");
    assert_eq!(check["copies_not_whole"], 0, "{check}");
    // The generation restores from the bucket alone.
    let c = restored_from_the_bucket_alone(&s, 71);
    // A plain ③-1: probed, COMPLIANCE, nothing weakens it.
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["verdict"]["detail"]["koban"], "③-1", "{c:?}");
    assert_eq!(
        c[0]["verdict"]["detail"]["strength"]["strength"], "full",
        "{c:?}"
    );
    eprintln!(
        "ransomware_on_ceph_rgw_is_refused_and_the_copy_stays_a_plain_3_1: {:.1} s on RGW",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_bucket_without_object_lock_is_refused_and_if_allowed_never_offline() {
    let m = moto();
    m.create_plain_bucket("plain").unwrap();
    let mut s = site(&m.endpoint(), "plain", "");
    s.night(1);
    let (_, err) = s.code(60, &["copy", "--to", "s3:cloud"], 10);
    assert!(
        err.contains("plain") && err.contains("no object lock") && err.contains("allow_unlocked"),
        "{err}"
    );
    assert!(copies(&s, 61).is_empty(), "nothing recorded");
    assert!(
        raw(&m, "plain", None)
            .list(ObjectKind::Pack)
            .unwrap()
            .is_empty(),
        "nothing sent"
    );

    let mut s = site(&m.endpoint(), "plain", "allow_unlocked = true\n");
    s.night(1);
    let v = s.json(60, &["copy", "--to", "s3:cloud"], 0);
    assert_eq!(v["locked"], false, "{v}");
    assert_eq!(s.koban_of(61, "cloud"), vec!["online"]);
    let c = copies(&s, 61);
    assert!(c[0]["verdict"].to_string().contains("unlocked"), "{c:?}");
}

/// Minutes from the site's current night to `hours` from the real clock:
/// locks are set by the real clock, the evaluation is at `--now`.
fn real_hours(s: &Site, hours: i64) -> i64 {
    let now = time::OffsetDateTime::now_utc() + time::Duration::hours(hours);
    (now - s.night).whole_minutes()
}

#[test]
fn extend_locks_keeps_live_generations_locked_and_without_it_they_turn_online() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(&m.endpoint(), "hospital", "");
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    // Locked for a day: a warning now, online after a day.
    let o = s.run(real_hours(&s, 1), &["--json", "status"]);
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        st["evaluation"]["problems"]
            .to_string()
            .contains("retention-expiring"),
        "{st}"
    );
    assert_eq!(s.koban_of(real_hours(&s, 25), "cloud"), vec!["online"]);

    // The policy now keeps 3 days: extend every lock a live snapshot needs.
    let conf = fs::read_to_string(s.dir.join("hokan.toml")).unwrap();
    fs::write(
        s.dir.join("hokan.toml"),
        conf.replace("retention = \"1d\"", "retention = \"3d\""),
    )
    .unwrap();
    let v = s.json(real_hours(&s, 0), &["s3", "extend-locks", "cloud"], 0);
    assert!(v["objects"].as_u64().unwrap() > 3, "{v}");
    let floor =
        time::OffsetDateTime::now_utc() + time::Duration::days(3) - time::Duration::minutes(5);
    let store = raw(&m, "hospital", None);
    for kind in [
        ObjectKind::Config,
        ObjectKind::Key,
        ObjectKind::Pack,
        ObjectKind::Index,
        ObjectKind::Snapshot,
    ] {
        for o in store.list(kind).unwrap() {
            let lock = store.object_lock(kind, &o.name).unwrap();
            let until = lock.retain_until.expect("locked");
            assert!(
                until >= floor,
                "{kind:?} {} locked only until {until}",
                o.name
            );
        }
    }
    assert_eq!(s.koban_of(real_hours(&s, 25), "cloud"), vec!["③-1"]);
    assert_eq!(s.koban_of(real_hours(&s, 73), "cloud"), vec!["online"]);
}

#[test]
fn a_network_that_drops_mid_copy_leaves_nothing_half_written_and_the_copy_resumes() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let proxy = FlakyProxy::start(&m.endpoint()).unwrap();
    // One upload at a time: the first pack is whole before the cut.
    let mut s = site(&proxy.endpoint(), "hospital", "concurrency = 1\n");
    fs::write(s.data.join("ct-scan.dcm"), noise(30_000_000, 11)).unwrap();
    s.night(1);
    // The uplink goes down after about 12 MB.
    proxy.cut_after(12_000_000);
    let o = s
        .command(60, &["copy", "--to", "s3:cloud"])
        .env("HOKAN_S3_ATTEMPTS", "2")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("run the command again"), "{err}");
    assert!(copies(&s, 61).is_empty(), "no copy recorded");
    let store = raw(&m, "hospital", None);
    assert!(
        store.list(ObjectKind::Snapshot).unwrap().is_empty(),
        "no snapshot sent"
    );
    let packs_before = store.list(ObjectKind::Pack).unwrap();
    assert!(
        !packs_before.is_empty(),
        "some packs were sent before the cut"
    );
    for p in &packs_before {
        // Whatever is there is whole (its size is what the primary holds).
        let bytes = store.get(ObjectKind::Pack, &p.name).unwrap();
        assert_eq!(bytes.len() as u64, p.size);
    }
    // Back up. Prune first: the packs of the interrupted copy are needed by
    // no snapshot in the bucket, but locked, so none is even tried; each is
    // listed with the date it may go.
    proxy.restore();
    let p = s.json(61, &["s3", "prune", "cloud"], 0);
    assert_eq!(p["deleted"], 0, "{p}");
    let waiting = p["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), packs_before.len(), "{p}");
    assert!(waiting.iter().all(|w| w["after"].is_string()), "{p}");
    assert_eq!(
        store.list(ObjectKind::Pack).unwrap().len(),
        packs_before.len()
    );
    // The copy resumes.
    let v = s.json(62, &["copy", "--to", "s3:cloud"], 0);
    assert!(v["bytes_already_there"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(s.koban_of(63, "cloud"), vec!["③-1"]);
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    s.ok(
        64,
        &[
            "s3",
            "restore",
            "cloud",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &target.join("data"));
}

#[test]
fn prune_deletes_unneeded_unlocked_objects_and_keeps_what_snapshots_need() {
    let m = moto();
    m.create_plain_bucket("plain").unwrap();
    let proxy = FlakyProxy::start(&m.endpoint()).unwrap();
    let mut s = site(
        &proxy.endpoint(),
        "plain",
        "allow_unlocked = true\nconcurrency = 1\n",
    );
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    // A second night's copy is cut off after its first pack.
    fs::write(s.data.join("ct-scan.dcm"), noise(30_000_000, 12)).unwrap();
    s.night(2);
    proxy.cut_after(12_000_000);
    s.command(60, &["copy", "--to", "s3:cloud"])
        .env("HOKAN_S3_ATTEMPTS", "2")
        .output()
        .unwrap();
    proxy.restore();
    let store = raw(&m, "plain", None);
    let before = store.list(ObjectKind::Pack).unwrap().len();
    let p = s.json(61, &["s3", "prune", "cloud"], 0);
    let deleted = p["deleted"].as_u64().unwrap() as usize;
    assert!(deleted >= 1, "the interrupted copy's packs go: {p}");
    assert_eq!(p["waiting"], serde_json::json!([]), "{p}");
    assert_eq!(
        store.list(ObjectKind::Pack).unwrap().len(),
        before - deleted
    );
    // The first night still restores from the bucket.
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    s.ok(
        62,
        &[
            "s3",
            "restore",
            "cloud",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert!(target.join("data").join("night-1.txt").exists());
    assert!(!target.join("data").join("ct-scan.dcm").exists());
}

/// The HTTP status of a request's answer: 200 for success, 0 if none came.
fn status<T, E: std::fmt::Debug>(
    r: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => {
            let code = e.raw_response().map_or(0, |r| r.status().as_u16());
            if code != 403 {
                eprintln!("answer {code}: {e:?}");
            }
            code
        }
    }
}

/// Every version id of `key`, newest first.
fn versions_of(store: &S3Store, bucket: &str, key: &str) -> Vec<String> {
    let out = store
        .block_on(
            store
                .client()
                .list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .send(),
        )
        .unwrap();
    out.versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .filter_map(|v| v.version_id().map(str::to_owned))
        .collect()
}

/// As an attacker on a server that lets COMPLIANCE retention be shortened
/// (moto): shorten the lock of every version of `key` to two seconds from
/// now. Returns the version ids.
fn shorten(store: &S3Store, bucket: &str, key: &str) -> Vec<String> {
    use aws_sdk_s3::types::{ObjectLockRetention, ObjectLockRetentionMode};
    let versions = versions_of(store, bucket, key);
    assert!(!versions.is_empty(), "{key} has no version");
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    for v in &versions {
        store
            .block_on(
                store
                    .client()
                    .put_object_retention()
                    .bucket(bucket)
                    .key(key)
                    .version_id(v)
                    .retention(
                        ObjectLockRetention::builder()
                            .mode(ObjectLockRetentionMode::Compliance)
                            .retain_until_date(aws_smithy_types::DateTime::from_secs(
                                soon.unix_timestamp(),
                            ))
                            .build(),
                    )
                    .send(),
            )
            .unwrap_or_else(|e| panic!("moto let {key} be shortened before: {e:?}"));
    }
    versions
}

/// As an attacker whose lock on `key`'s version `v` has run out: delete it.
fn delete_version(store: &S3Store, bucket: &str, key: &str, v: &str) {
    store
        .block_on(
            store
                .client()
                .delete_object()
                .bucket(bucket)
                .key(key)
                .version_id(v)
                .send(),
        )
        .unwrap_or_else(|e| panic!("delete {key}: {e:?}"));
}

#[test]
fn a_copy_whose_objects_were_deleted_counts_online_until_a_copy_makes_it_whole() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(&m.endpoint(), "hospital", "");
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    assert_eq!(s.koban_of(61, "cloud"), vec!["③-1"]);
    assert_eq!(s.offline(61), 1, "the copy counts as an offline generation");
    // Whole: the re-check finds nothing (the probe on moto still exits 1).
    let v = s.json(62, &["s3", "check", "cloud"], 1);
    assert_eq!(v["copies_not_whole"], 0, "{v}");
    assert!(v["copies"][0]["objects"].as_u64().unwrap() >= 5, "{v}");

    // The attacker shortens the locks of a pack and the snapshot and then
    // deletes them; an index is only unlocked.
    let attacker = raw(&m, "hospital", None);
    let pack = attacker.list(ObjectKind::Pack).unwrap()[0].name.clone();
    let snap = attacker.list(ObjectKind::Snapshot).unwrap()[0].name.clone();
    let index = attacker.list(ObjectKind::Index).unwrap()[0].name.clone();
    let doomed = [
        attacker.key(ObjectKind::Pack, &pack),
        attacker.key(ObjectKind::Snapshot, &snap),
    ];
    let unlocked = attacker.key(ObjectKind::Index, &index);
    let mut to_delete = Vec::new();
    for key in &doomed {
        for v in shorten(&attacker, "hospital", key) {
            to_delete.push((key.clone(), v));
        }
    }
    shorten(&attacker, "hospital", &unlocked);
    std::thread::sleep(std::time::Duration::from_secs(4));
    for (key, v) in &to_delete {
        delete_version(&attacker, "hospital", key, v);
    }

    // The re-check names them and exits non-zero; the copy is online now.
    let o = s.run(63, &["s3", "check", "cloud"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for key in &doomed {
        assert!(err.contains(&format!("{key}: missing")), "{key}: {err}");
    }
    assert!(err.contains(&format!("{unlocked}: NOT locked")), "{err}");
    assert!(err.contains("counts as online"), "{err}");
    let c = copies(&s, 64);
    assert_eq!(c.len(), 1, "{c:?}");
    // Recorded incomplete: the evaluator never counts it as offline.
    assert_eq!(c[0]["excluded"], "incomplete", "{c:?}");
    assert_eq!(s.offline(64), 0, "the broken copy no longer counts as ③-1");
    let st: Value = serde_json::from_slice(&s.run(64, &["--json", "status"]).stdout).unwrap();
    assert!(
        st["evaluation"]["problems"]
            .to_string()
            .contains("copy-incomplete"),
        "{st}"
    );
    let v = s.json(64, &["s3", "check", "cloud"], 1);
    assert_eq!(v["copies_not_whole"], 1, "{v}");
    let problems = v["copies"][0]["problems"].to_string();
    assert!(
        problems.contains("missing") && problems.contains("unlocked"),
        "{problems}"
    );

    // The next copy sends what is missing and locks again what is not.
    let v = s.json(65, &["copy", "--to", "s3:cloud"], 0);
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(s.koban_of(66, "cloud"), vec!["③-1"]);
    assert_eq!(copies(&s, 66)[0]["excluded"], serde_json::Value::Null);
    assert_eq!(s.offline(66), 1, "whole again, offline again");
    let v = s.json(67, &["s3", "check", "cloud"], 1);
    assert_eq!(v["copies_not_whole"], 0, "{v}");
    let lock = attacker.object_lock(ObjectKind::Index, &index).unwrap();
    assert!(
        lock.retain_until.unwrap() > time::OffsetDateTime::now_utc() + time::Duration::hours(20),
        "the unlocked index is locked again: {lock:?}"
    );
    // And it restores from the bucket alone.
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    s.ok(
        68,
        &[
            "s3",
            "restore",
            "cloud",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &target.join("data"));
}

#[test]
fn overwritten_keys_and_config_do_not_stop_extend_locks_or_restore() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(&m.endpoint(), "hospital", "");
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    // New versions with other bytes on top of the key objects and the config.
    let attacker = raw(&m, "hospital", None);
    let mut keys: Vec<String> = attacker
        .list(ObjectKind::Key)
        .unwrap()
        .into_iter()
        .map(|o| attacker.key(ObjectKind::Key, &o.name))
        .collect();
    assert!(!keys.is_empty());
    keys.push(attacker.key(ObjectKind::Config, "config"));
    for key in &keys {
        attacker
            .block_on(
                attacker
                    .client()
                    .put_object()
                    .bucket("hospital")
                    .key(key)
                    .body(b"encrypted by ransomware".to_vec().into())
                    .content_md5("bPqFWQPx/kSc1pf8oq/OSQ==")
                    .send(),
            )
            .unwrap();
        assert_eq!(versions_of(&attacker, "hospital", key).len(), 2, "{key}");
    }
    // extend-locks opens the repository from the first versions.
    let conf = fs::read_to_string(s.dir.join("hokan.toml")).unwrap();
    fs::write(
        s.dir.join("hokan.toml"),
        conf.replace("retention = \"1d\"", "retention = \"3d\""),
    )
    .unwrap();
    let v = s.json(61, &["s3", "extend-locks", "cloud"], 0);
    assert!(v["objects"].as_u64().unwrap() > 3, "{v}");
    // It extended the locks of the first versions, the ones hokan wrote.
    let mut cfg = m.config("hospital");
    cfg.prefix = Some("hokan".into());
    cfg.lock = None;
    cfg.original_versions = true;
    let originals = S3Store::connect(cfg).unwrap();
    let floor =
        time::OffsetDateTime::now_utc() + time::Duration::days(3) - time::Duration::minutes(5);
    for o in originals.list(ObjectKind::Key).unwrap() {
        let lock = originals.object_lock(ObjectKind::Key, &o.name).unwrap();
        assert!(lock.retain_until.unwrap() >= floor, "{lock:?}");
    }
    // The re-check reads first versions too: the copy is whole.
    let v = s.json(62, &["s3", "check", "cloud"], 1);
    assert_eq!(v["copies_not_whole"], 0, "{v}");
    // And the restore opens with the right passphrase.
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    s.ok(
        63,
        &[
            "s3",
            "restore",
            "cloud",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &target.join("data"));
}

#[test]
fn a_stalled_server_is_named_and_every_command_ends_in_bounded_time() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(
        &m.endpoint(),
        "hospital",
        "connect_timeout_secs = 2\nread_timeout_secs = 2\nattempt_timeout_secs = 3\noperation_timeout_secs = 6\n",
    );
    s.night(1);
    let pid = m.pid().expect("moto runs") as libc::pid_t;
    // SAFETY: signals to the child process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let endpoint = m.endpoint();
    let mut results = Vec::new();
    for args in [
        &["copy", "--to", "s3:cloud"][..],
        &["s3", "check", "cloud"][..],
    ] {
        let started = std::time::Instant::now();
        let o = s
            .command(60, args)
            .env("HOKAN_S3_ATTEMPTS", "2")
            .output()
            .unwrap();
        results.push((args, started.elapsed(), o));
    }
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    for (args, took, o) in &results {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            *took < std::time::Duration::from_secs(60),
            "{args:?} took {took:?}"
        );
        assert!(
            err.contains(&endpoint) && err.contains("did not answer") && err.contains("hospital"),
            "{args:?}: {err}"
        );
    }
    assert!(copies(&s, 61).is_empty(), "nothing recorded");
    // Awake again, the copy goes through.
    s.ok(62, &["copy", "--to", "s3:cloud"]);
}

#[test]
fn each_copy_writes_a_locked_anchor_of_the_catalog_head() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(&m.endpoint(), "hospital", "");
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    let mut cfg = m.config("hospital");
    cfg.prefix = Some("hokan".into());
    cfg.lock = None;
    let store = S3Store::connect(cfg).unwrap();
    let anchors = store.list_first_at("anchors/").unwrap();
    assert_eq!(anchors.len(), 1, "{anchors:?}");
    let (path, _) = &anchors[0];
    assert!(hokan_catalog::Anchor::is_object_name(path), "{path}");
    let a = hokan_catalog::Anchor::parse(
        &store
            .get_first_at(path, hokan_catalog::anchor::MAX_ANCHOR_BYTES as u64)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(&a.object_name(), path);
    assert_eq!(a.site, "テープ病院");
    assert!(a.seq > 0);
    let lock = store.first_lock_at(path).unwrap();
    assert_eq!(lock.mode, Some(hokan_s3::LockMode::Compliance), "{lock:?}");
    assert!(
        lock.retain_until.unwrap() > time::OffsetDateTime::now_utc() + time::Duration::hours(20)
    );
    // The head is in the catalog's chain: `catalog verify` with it passes.
    s.ok(
        61,
        &[
            "catalog",
            "verify",
            "--expect",
            &format!("{}:{}", a.seq, a.hash),
        ],
    );
    // A second night's copy adds an anchor; it never replaces one.
    s.night(2);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    let again = store.list_first_at("anchors/").unwrap();
    assert_eq!(again.len(), 2, "{again:?}");
    assert!(again.contains(&anchors[0]));
}

#[test]
fn a_drill_reads_the_bucket_alone_and_a_pack_rewritten_under_a_shortened_lock_fails_it_by_name() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let mut s = site(&m.endpoint(), "hospital", "");
    let conf = s.dir.join("hokan.toml");
    let text = fs::read_to_string(&conf).unwrap();
    fs::write(
        &conf,
        text.replacen("name = \"emr\"\n", "name = \"emr\"\nrto = \"24h\"\n", 1),
    )
    .unwrap();
    s.night(1);
    s.ok(60, &["copy", "--to", "s3:cloud"]);
    // Only the bucket can answer.
    fs::rename(s.dir.join("repo"), s.dir.join("repo.away")).unwrap();
    let v = s.json(61, &["drill", "--kind", "s3"], 0);
    let d = &v["drills"][0];
    assert_eq!(d["ok"], true, "{v}");
    assert_eq!(
        (d["kind"].as_str(), d["pool"].as_str()),
        (Some("s3"), Some("cloud")),
        "{v}"
    );
    assert!(d["stats"]["files_checked"].as_u64().unwrap() >= 43, "{v}");
    assert!(d["stats"]["bytes"].as_u64().unwrap() >= 300_000, "{v}");
    assert_eq!(d["meets_rto"], true, "{v}");
    let snapshot = d["snapshot"].as_str().unwrap().to_owned();

    // An attacker on a server that lets COMPLIANCE be shortened (moto)
    // replaces every pack's locked version with bytes flipped.
    let attacker = raw(&m, "hospital", None);
    let packs: Vec<String> = attacker
        .list(ObjectKind::Pack)
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut doomed = Vec::new();
    for p in &packs {
        let key = attacker.key(ObjectKind::Pack, p);
        let bytes = attacker.get(ObjectKind::Pack, p).unwrap();
        doomed.push((key.clone(), shorten(&attacker, "hospital", &key), bytes));
    }
    std::thread::sleep(std::time::Duration::from_secs(4));
    for (key, versions, mut bytes) in doomed {
        for v in &versions {
            delete_version(&attacker, "hospital", &key, v);
        }
        for i in (0..bytes.len()).step_by(64) {
            bytes[i] ^= 0x20;
        }
        attacker
            .block_on(
                attacker
                    .client()
                    .put_object()
                    .bucket("hospital")
                    .key(&key)
                    .body(bytes.into())
                    .send(),
            )
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    }
    let v = s.json(62, &["drill", "--kind", "s3", "--snapshot", &snapshot], 1);
    let d = &v["drills"][0];
    assert_eq!(d["ok"], false, "{v}");
    let failures = d["stats"]["failures"].to_string();
    assert!(
        packs
            .iter()
            .any(|p| failures.contains(&format!("pack {}", &p[..8]))),
        "a damaged pack is named: {failures}"
    );
    let cat = hokan_catalog::Catalog::open(&s.dir.join("catalog.db")).unwrap();
    let rows = cat.drills(10).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(!rows[0].ok && rows[1].ok);
    assert_eq!(rows[0].medium.as_str(), rows[1].medium.as_str());
    assert_eq!(rows[0].measured.as_ref().unwrap().kind, "s3");
}
