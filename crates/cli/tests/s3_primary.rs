//! The primary repository in a bucket of an S3-compatible store
//! (`[repository] s3 = { … }`, `--repo s3://…`): the real binary against a
//! real moto server process on loopback (each test its own; CI installs
//! moto, and these tests fail rather than skip without it). Proves: init,
//! two backups, a byte-identical restore, verify --read-data, forget and
//! prune deleting packs from the bucket, a copy to an offline `[[s3]]`
//! target and a whole night (`hokan run`) all work from the bucket; wrong
//! credentials, a missing bucket, a deleted pack and a network cut in the
//! middle of a backup are each reported with the bucket and what to do,
//! and the repository stays usable after the cut.

mod common;

use std::collections::BTreeSet;
use std::fs;

use hokan_catalog::Catalog;
use hokan_offline::MediumId;
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

/// An `[[s3]]` offline target named `cloud` in the locked bucket `offline`.
fn offline_target(endpoint: &str) -> String {
    offline_target_in(endpoint, "offline", TEST_ACCESS_KEY)
}

/// An `[[s3]]` offline target named `cloud` in the locked bucket `bucket`,
/// with the key id `key` (its secret in the same file as the primary's).
fn offline_target_in(endpoint: &str, bucket: &str, key: &str) -> String {
    format!(
        r#"[[s3]]
name = "cloud"
endpoint = "{endpoint}"
region = "us-east-1"
bucket = "{bucket}"
prefix = "hokan"
path_style = true
retention = "1d"
access_key_id = "{key}"
secret_access_key_file = "s3-secret"
schedule = "*-*-* 22:00"
"#
    )
}

/// A site whose primary repository is under `main/` in `bucket` at
/// `endpoint`, the secret written; not initialised.
fn site(endpoint: &str, bucket: &str, secret: &str, pool: &str) -> Site {
    site_as(endpoint, bucket, TEST_ACCESS_KEY, secret, pool)
}

/// [`site`] with the key id `key`.
fn site_as(endpoint: &str, bucket: &str, key: &str, secret: &str, pool: &str) -> Site {
    let repository = format!(
        r#"s3 = {{ endpoint = "{endpoint}", region = "us-east-1", bucket = "{bucket}", prefix = "main", path_style = true, access_key_id = "{key}", secret_access_key_file = "s3-secret", concurrency = 4 }}"#
    );
    let s = Site::uninitialised(&repository, pool);
    fs::write(s.dir.join("s3-secret"), format!("{secret}\n")).unwrap();
    s
}

/// The primary's bucket as the test sees it, straight through the store.
fn bucket(m: &MotoServer, name: &str) -> S3Store {
    let mut cfg = m.config(name);
    cfg.prefix = Some("main".into());
    cfg.lock = None;
    S3Store::connect(cfg).unwrap()
}

fn packs(store: &S3Store) -> BTreeSet<String> {
    store
        .list(ObjectKind::Pack)
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect()
}

fn init(s: &Site) {
    s.ok(0, &["init", "--insecure-fast-kdf"]);
}

#[test]
fn backup_restore_verify_prune_and_copy_work_from_a_primary_in_a_bucket() {
    let m = moto();
    m.create_plain_bucket("primary").unwrap();
    m.create_locked_bucket("offline").unwrap();
    let mut s = site(
        &m.endpoint(),
        "primary",
        TEST_SECRET,
        &offline_target(&m.endpoint()),
    );
    let check = s.ok(0, &["config", "check"]);
    assert!(check.contains("Repository: in a bucket"), "{check}");
    assert!(check.contains("bucket: primary"), "{check}");
    assert!(
        !check.contains(TEST_SECRET),
        "the secret is never printed: {check}"
    );
    init(&s);
    // A bucket already holding a repository is refused, and left as it was.
    let (out, err) = s.code(0, &["init", "--insecure-fast-kdf"], 1);
    assert!(err.contains("primary"), "names the bucket: {out}{err}");
    assert!(err.contains("already"), "{out}{err}");

    // Two nights; the second one's data entirely new, so forgetting the
    // first leaves its packs unused.
    s.night(1);
    let raw = bucket(&m, "primary");
    let first = packs(&raw);
    assert!(!first.is_empty(), "the backup wrote packs into the bucket");
    fs::remove_dir_all(&s.data).unwrap();
    make_tree(&s.data, 77, 300_000);
    s.night(2);
    let snaps = s.json(1, &["snapshots"], 0);
    assert_eq!(snaps.as_array().unwrap().len(), 2, "{snaps}");

    let target = s.dir.join("restored");
    s.ok(
        2,
        &["restore", "latest", "--target", target.to_str().unwrap()],
    );
    assert_same(&s.data, &target.join("data"));

    let v = s.json(3, &["verify", "--read-data"], 0);
    assert_eq!(v["ok"], true, "{v}");

    s.ok(4, &["forget", "--keep-last", "1", "--prune"]);
    let after = packs(&raw);
    let gone: Vec<_> = first.difference(&after).collect();
    assert!(
        !gone.is_empty(),
        "prune deleted the first night's packs from the bucket: before {first:?}, after {after:?}"
    );
    assert_eq!(s.json(5, &["snapshots"], 0).as_array().unwrap().len(), 1);
    let v = s.json(6, &["verify", "--read-data"], 0);
    assert_eq!(v["ok"], true, "still sound after prune: {v}");

    // The catalog calls the primary by its bucket and endpoint.
    let cat = Catalog::open(&s.dir.join("catalog.db")).unwrap();
    let primary = cat.medium(&MediumId::new("primary")).unwrap();
    assert_eq!(
        primary.label.as_deref(),
        Some(format!("s3://primary/main at {}", m.endpoint()).as_str())
    );
    drop(cat);

    // A copy from the bucket to the offline target, restored from there.
    let v = s.json(7, &["copy", "--to", "s3:cloud"], 0);
    assert_eq!(v["locked"], true, "{v}");
    let from_copy = s.dir.join("from-copy");
    s.ok(
        8,
        &[
            "s3",
            "restore",
            "cloud",
            "latest",
            "--target",
            from_copy.to_str().unwrap(),
        ],
    );
    assert_same(&s.data, &from_copy.join("data"));
}

#[test]
fn a_night_runs_from_a_primary_in_a_bucket() {
    let m = moto();
    m.create_plain_bucket("primary").unwrap();
    m.create_locked_bucket("offline").unwrap();
    let s = site(
        &m.endpoint(),
        "primary",
        TEST_SECRET,
        &offline_target(&m.endpoint()),
    );
    init(&s);
    night_backs_up_and_copies_to_cloud(&s);
    assert!(!packs(&bucket(&m, "primary")).is_empty());
}

/// `hokan run` at 23:00 at +09:00 on the first evening, when the S3 target
/// is due: the backup and the copy to `cloud` both end ok.
fn night_backs_up_and_copies_to_cloud(s: &Site) {
    let o = s.run(16 * 60, &["--json", "run"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let code = o.status.code().unwrap();
    assert!(
        code == 0 || code == 9,
        "exit {code}: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let night: Value = serde_json::from_str(&out).unwrap();
    let done: Vec<(&str, &str)> = night["night"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                st["target"].as_str().unwrap_or("(backup)"),
                st["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(done.contains(&("(backup)", "ok")), "{done:?}");
    assert!(done.contains(&("cloud", "ok")), "{done:?}");
}

#[test]
fn a_night_on_ceph_rgw_with_the_primary_and_its_locked_copy_there() {
    // A real distributed store (single-node Ceph, RADOS Gateway), which
    // enforces COMPLIANCE: the primary in a plain bucket, the night's
    // offline copy in a locked one, both on the same cluster.
    let rgw = RgwServer::get().unwrap_or_else(|e| panic!("{e}"));
    let (key, secret) = rgw.credentials();
    let (primary, offline) = (rgw.bucket("primary"), rgw.bucket("offline"));
    rgw.create_plain_bucket(&primary).unwrap();
    rgw.create_locked_bucket(&offline).unwrap();
    let s = site_as(
        &rgw.endpoint(),
        &primary,
        &key,
        &secret,
        &offline_target_in(&rgw.endpoint(), &offline, &key),
    );
    init(&s);
    night_backs_up_and_copies_to_cloud(&s);
    // The primary restores from the cluster, and reads back whole.
    let v = s.json(17 * 60, &["verify", "--read-data"], 0);
    assert_eq!(v["ok"], true, "{v}");
    let target = s.dir.join("restored");
    let t = target.to_str().unwrap();
    s.ok(17 * 60, &["restore", "latest", "--target", t]);
    assert_same(&s.data, &target.join("data"));
    // And so does the offline copy, from its locked bucket alone.
    let from_copy = s.dir.join("from-copy");
    let t = from_copy.to_str().unwrap();
    s.ok(
        17 * 60,
        &["s3", "restore", "cloud", "latest", "--target", t],
    );
    assert_same(&s.data, &from_copy.join("data"));
}

#[test]
fn a_missing_bucket_is_named_with_what_to_do() {
    let m = moto();
    let s = site(&m.endpoint(), "nowhere", TEST_SECRET, "");
    let (out, err) = s.code(0, &["init", "--insecure-fast-kdf"], 1);
    assert!(err.contains("nowhere"), "{out}{err}");
    assert!(err.contains("does not exist"), "{out}{err}");
    let o = s.run(0, &["snapshots"]);
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn wrong_credentials_are_refused_with_the_bucket_and_endpoint() {
    // moto checks signatures only with its IAM emulation on; no key is
    // known to it then, so every request is refused as a wrong key would be.
    std::env::set_var("INITIAL_NO_AUTH_ACTION_COUNT", "1");
    let m = moto();
    let s = site(&m.endpoint(), "primary", "not-the-secret", "");
    let o = s.run(0, &["init", "--insecure-fast-kdf"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("primary"), "names the bucket: {err}");
    assert!(err.contains(&m.endpoint()), "names the endpoint: {err}");
    let lower = err.to_lowercase();
    assert!(
        lower.contains("does not accept these credentials"),
        "says the credentials are refused, and what to check: {err}"
    );
}

#[test]
fn a_deleted_pack_is_named_by_verify() {
    let m = moto();
    m.create_plain_bucket("primary").unwrap();
    let mut s = site(&m.endpoint(), "primary", TEST_SECRET, "");
    init(&s);
    s.night(1);
    let raw = bucket(&m, "primary");
    let victim = packs(&raw).into_iter().next().unwrap();
    raw.delete(ObjectKind::Pack, &victim).unwrap();
    // Exit 4: damage found.
    let (out, err) = s.code(1, &["verify"], 4);
    assert!(
        out.contains(&format!("DAMAGED pack {victim}: missing from the store")),
        "verify names the missing pack: {out}{err}"
    );
}

#[test]
fn a_network_cut_during_a_backup_fails_it_and_the_next_backup_succeeds() {
    let m = moto();
    m.create_plain_bucket("primary").unwrap();
    let proxy = FlakyProxy::start(&m.endpoint()).unwrap();
    let mut s = site(&proxy.endpoint(), "primary", TEST_SECRET, "");
    init(&s);
    // A large incompressible file: the cut comes in the middle of its packs.
    fs::write(s.data.join("ct-scan.dcm"), noise(12_000_000, 5)).unwrap();
    proxy.cut_after(4_000_000);
    s.night += time::Duration::days(1);
    let t = s.at(0);
    let o = s
        .command(0, &["backup", "--source", "emr", "--time", &t])
        .env("HOKAN_S3_ATTEMPTS", "2")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_ne!(o.status.code(), Some(0), "the backup cannot succeed: {err}");
    assert!(proxy.is_cut());
    assert!(err.contains("primary"), "names the bucket: {err}");
    proxy.restore();
    s.night(2);
    let snaps = s.json(1, &["snapshots"], 0);
    assert_eq!(snaps.as_array().unwrap().len(), 1, "{snaps}");
    let v = s.json(2, &["verify", "--read-data"], 0);
    assert_eq!(v["ok"], true, "{v}");
    let target = s.dir.join("restored");
    s.ok(
        3,
        &["restore", "latest", "--target", target.to_str().unwrap()],
    );
    assert_same(&s.data, &target.join("data"));
}

#[test]
fn repo_s3_url_reaches_the_bucket_with_the_environment() {
    let m = moto();
    m.create_plain_bucket("primary").unwrap();
    let s = site(&m.endpoint(), "primary", TEST_SECRET, "");
    init(&s);
    let mut s2 = s;
    s2.night(1);
    // Without the configuration's [repository]: --repo and the environment.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hokan"))
        .env_remove("HOKAN_CONFIG")
        .env("HOKAN_PASSPHRASE", PW)
        .env("HOKAN_S3_ENDPOINT", m.endpoint())
        .env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET)
        .env("LANG", "C")
        .current_dir(std::env::temp_dir())
        .args(["--json", "--repo", "s3://primary/main", "snapshots"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn init_on_a_versioned_bucket_warns_that_pruned_packs_stay_as_old_versions() {
    let m = moto();
    m.create_plain_bucket("versioned").unwrap();
    m.enable_versioning("versioned").unwrap();
    m.create_plain_bucket("plain").unwrap();
    let s = site(&m.endpoint(), "versioned", TEST_SECRET, "");
    let (out, err) = s.code(0, &["init", "--insecure-fast-kdf"], 0);
    assert!(err.contains("warning"), "{out}{err}");
    assert!(err.contains("versioned"), "names the bucket: {err}");
    assert!(err.contains("lifecycle rule"), "says what to do: {err}");
    // Made all the same, and usable.
    s.ok(0, &["snapshots"]);
    // The same in Japanese, and in --json.
    m.create_plain_bucket("versioned-ja").unwrap();
    m.enable_versioning("versioned-ja").unwrap();
    let ja = site(&m.endpoint(), "versioned-ja", TEST_SECRET, "");
    let c = ja.command(0, &["init", "--insecure-fast-kdf"]);
    let args: Vec<_> = c.get_args().map(|a| a.to_owned()).collect();
    let mut c = std::process::Command::new(c.get_program());
    c.current_dir(&ja.dir)
        .env_remove("HOKAN_PASSWORD")
        .args(args.iter().map(|a| {
            if a == "en" {
                "ja".as_ref()
            } else {
                a.as_os_str()
            }
        }));
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("ライフサイクルルール"), "{err}");
    m.create_plain_bucket("versioned-json").unwrap();
    m.enable_versioning("versioned-json").unwrap();
    let js = site(&m.endpoint(), "versioned-json", TEST_SECRET, "");
    let v = js.json(0, &["init", "--insecure-fast-kdf"], 0);
    assert!(
        v["warnings"][0]["en"]
            .as_str()
            .unwrap()
            .contains("lifecycle rule"),
        "{v}"
    );
    // A bucket without versioning: no warning.
    let plain = site(&m.endpoint(), "plain", TEST_SECRET, "");
    let (out, err) = plain.code(0, &["init", "--insecure-fast-kdf"], 0);
    assert!(!err.contains("warning"), "{out}{err}");
}
