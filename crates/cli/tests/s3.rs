//! S3 with object lock end to end: the real binary against a real moto
//! server process on loopback (each test its own, on a free port; CI
//! installs moto). Proves: a copy to a locked bucket restores
//! byte-identical; a ransomware attacker with hokan's own credentials
//! cannot destroy the locked generation; the enforcement probe reports what
//! moto really enforces; extend-locks keeps live generations locked past
//! the horizon, and without it the copy turns online after expiry; a bucket
//! without lock is refused; a network that drops mid-copy is resumed.

mod common;

use std::fs;

use hokan_repo::store::{ObjectKind, Store};
use hokan_s3::testing::{FlakyProxy, MotoServer, TEST_ACCESS_KEY, TEST_SECRET};
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
    let s = Site::new(&format!(
        r#"[[s3]]
name = "cloud"
endpoint = "{endpoint}"
region = "us-east-1"
bucket = "{bucket}"
prefix = "hokan"
path_style = true
retention = "1d"
access_key_id = "{TEST_ACCESS_KEY}"
secret_access_key_file = "s3-secret"
{extra}"#
    ));
    fs::write(s.dir.join("s3-secret"), format!("{TEST_SECRET}\n")).unwrap();
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
                .content_md5("O1T1u6eqOS6S2cCXmXBnwQ==")
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
    fs::remove_dir_all(s.dir.join("repo")).unwrap();
    let target = s.dir.join("restored");
    s.ok(
        70,
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
    let c = copies(&s, 71);
    assert_eq!(c[0]["verdict"]["detail"]["koban"], "③-1", "{c:?}");
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
