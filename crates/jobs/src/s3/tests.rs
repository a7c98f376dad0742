//! The S3 jobs against a real moto server on loopback (one per test, from
//! `hokan-s3`'s `testing` feature): the copy job, the check and re-check,
//! extend-locks, prune and the anchors read back. moto must be installed
//! (`pip install 'moto[server]'`): a skipped S3 test proves nothing, so
//! these fail without it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hokan_catalog::Catalog;
use hokan_offline::{MediumId, PoolName, ProbeOutcome, SnapshotId};
use hokan_repo::copy::CopyObject;
use hokan_repo::store::{ObjectKind, Store};
use hokan_repo::Repository;
use hokan_s3::testing::{MotoServer, TEST_ACCESS_KEY, TEST_SECRET};
use hokan_s3::{LockMode, LockSpec, NetworkOptions, S3Config, S3Store};
use tempfile::TempDir;
use time::OffsetDateTime;

use super::check::{self, LockProbe};
use super::recheck::{Repositories, Unplannable};
use super::*;
use crate::catalog::SyncOptions;
use crate::copy::{CopyProgress, Outcome};
use crate::repository::{self, Key};
use crate::test_repo::{backup, new_repo, PW};

const SITE: &str = "テスト病院";

fn moto() -> MotoServer {
    MotoServer::start().unwrap_or_else(|e| panic!("moto is needed: {e}"))
}

/// A bucket's store configuration on `m`, under prefix `hokan`.
fn config(m: &MotoServer, bucket: &str) -> S3Config {
    S3Config {
        prefix: Some("hokan".into()),
        lock: None,
        concurrency: 2,
        ..m.config(bucket)
    }
}

/// Few attempts: a test that fails does so quickly.
fn net() -> NetworkOptions {
    NetworkOptions {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        ..NetworkOptions::default()
    }
}

fn bucket<'a>(name: &'a PoolName, config: &'a S3Config, retention: Duration) -> BucketRef<'a> {
    BucketRef {
        name,
        config,
        network: net(),
        lock: LockSpec {
            mode: LockMode::Compliance,
            retention,
        },
        allow_unlocked: false,
    }
}

/// Counts what the copy job says.
#[derive(Default)]
struct Counted {
    total: AtomicU64,
    objects: AtomicU64,
}

impl CopyProgress for Counted {
    fn copied(&self, _: &CopyObject, _: Outcome) -> Result<(), JobError> {
        self.objects.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl S3Progress for Counted {
    fn total(&self, bytes: u64) {
        self.total.store(bytes, Ordering::Relaxed);
    }
}

/// A site with one snapshot, its catalog, and a copy of it in `b`.
struct Copied {
    dir: TempDir,
    repo: Repository,
    cat: Catalog,
    done: S3Copy,
}

fn copy_to(b: &BucketRef<'_>, dir: TempDir, repo: Repository) -> Copied {
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let done = run_copy(b, &repo, &mut cat).unwrap();
    Copied {
        dir,
        repo,
        cat,
        done,
    }
}

fn run_copy(b: &BucketRef<'_>, repo: &Repository, cat: &mut Catalog) -> Result<S3Copy, JobError> {
    let sources = vec!["emr".to_owned()];
    let job = CopyJob {
        bucket: *b,
        specs: &[],
        sync: SyncOptions {
            repository: None,
            sources: &sources,
        },
        site: SITE,
        actor: "test",
        now: OffsetDateTime::now_utc(),
    };
    let progress = Counted::default();
    let done = copy(repo, cat, &job, &progress)?;
    assert_eq!(progress.total.load(Ordering::Relaxed), done.planned);
    Ok(done)
}

/// Opens repositories with the test passphrase.
struct Opener<'a> {
    /// The folder the primary repository is in (`repo`).
    primary: &'a std::path::Path,
    bucket_opens: bool,
}

impl Repositories for Opener<'_> {
    fn bucket(&mut self, store: Arc<dyn Store>) -> Option<Repository> {
        if !self.bucket_opens {
            return None;
        }
        repository::open(store, Key::Passphrase(PW.to_vec())).ok()
    }

    fn primary(&mut self) -> Option<Repository> {
        let store = Arc::new(hokan_store::LocalStore::new(self.primary.join("repo")));
        repository::open(store, Key::Passphrase(PW.to_vec())).ok()
    }
}

/// A site configuration with one `[[s3]]` target `cloud`: bucket
/// `hospital`, prefix `hokan`, the secret in `secret`.
fn site_toml(site: &str, endpoint: &str, secret: &std::path::Path) -> String {
    format!(
        r#"[site]
name = "{site}"
catalog = "/srv/hokan/catalog.db"

[repository]
path = "/srv/hokan/repo"
passphrase_file = "/srv/hokan/pw.txt"

[[source]]
name = "emr"
paths = ["/srv/emr"]

[[s3]]
name = "cloud"
endpoint = "{endpoint}"
region = "us-east-1"
bucket = "hospital"
prefix = "hokan"
path_style = true
retention = "1d"
access_key_id = "{TEST_ACCESS_KEY}"
secret_access_key_file = "{secret}"
"#,
        secret = secret.display(),
    )
}

fn complete_on(cat: &Catalog, medium: &MediumId) -> Vec<bool> {
    cat.copies()
        .unwrap()
        .into_iter()
        .filter(|c| &c.medium == medium)
        .map(|c| c.complete)
        .collect()
}

#[test]
fn the_copy_job_sends_once_records_the_copy_locked_and_anchors_the_catalog() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let name = PoolName::new("cloud");
    let cfg = config(&m, "hospital");
    let b = bucket(&name, &cfg, Duration::from_secs(86_400));
    let (dir, repo) = new_repo();
    let id = backup(&repo, "emr", "2026-11-20T22:00:00Z");
    let Copied {
        dir,
        repo,
        mut cat,
        done,
    } = copy_to(&b, dir, repo);
    assert_eq!(done.snapshots, vec![id]);
    assert!(done.locked);
    let until = done.locked_until.expect("locked");
    assert!(until > OffsetDateTime::now_utc() + time::Duration::hours(23));
    assert!(done.copy.written > 0 && done.already_there() < done.planned);
    assert_eq!(complete_on(&cat, &done.medium), vec![true]);
    // The catalog was empty before the first job: nothing to anchor yet.
    let store = b.connect(false, true).unwrap();
    assert!(store.list_first_at("anchors/").unwrap().is_empty());

    // Again: nothing to send, and the catalog's head anchored in the bucket.
    let again = run_copy(&b, &repo, &mut cat).unwrap();
    assert!(again.snapshots.is_empty(), "{again:?}");
    assert_eq!(again.planned, 0);
    let anchors = store.list_first_at("anchors/").unwrap();
    assert_eq!(anchors.len(), 1, "{anchors:?}");

    // Read back as `status` does, from the site's configuration.
    let secret = dir.path().join("s3-secret");
    std::fs::write(&secret, format!("{TEST_SECRET}\n")).unwrap();
    let toml = site_toml(SITE, &m.endpoint(), &secret);
    let site = hokan_site::parse(&toml, &dir.path().join("hokan.toml")).unwrap();
    let found = anchor::bucket_anchors(&site, SITE);
    assert_eq!(found.len(), 1);
    assert!(found[0].problems.is_empty(), "{:?}", found[0].problems);
    assert_eq!(found[0].anchors.len(), 1);
    let (path, a) = &found[0].anchors[0];
    assert_eq!(*path, anchors[0].0);
    assert_eq!(a.site, SITE);
    // Another site sharing the bucket ignores it, and says so.
    let other = anchor::bucket_anchors(&site, "other");
    assert!(other[0].anchors.is_empty());
    assert!(
        matches!(&other[0].problems[..], [anchor::AnchorProblem::OtherSite { site, .. }] if site == SITE),
        "{:?}",
        other[0].problems
    );
    // A bucket that does not answer: unreadable, not silence.
    drop(m);
    let gone = anchor::bucket_anchors(&site, SITE);
    assert!(gone[0].anchors.is_empty());
    assert_eq!(gone[0].problems.len(), 1, "{:?}", gone[0].problems);
}

#[test]
fn a_bucket_without_object_lock_is_refused_unless_allowed_and_then_never_locked() {
    let m = moto();
    m.create_plain_bucket("plain").unwrap();
    let name = PoolName::new("cloud");
    let cfg = config(&m, "plain");
    let b = bucket(&name, &cfg, Duration::from_secs(86_400));
    let (dir, repo) = new_repo();
    backup(&repo, "emr", "2026-11-20T22:00:00Z");
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    let e = run_copy(&b, &repo, &mut cat).unwrap_err();
    assert!(
        matches!(&e, JobError::BucketUnlocked { bucket, .. } if bucket == "plain"),
        "{e:?}"
    );
    assert!(!e.is_transient());
    let allowed = BucketRef {
        allow_unlocked: true,
        ..b
    };
    let done = run_copy(&allowed, &repo, &mut cat).unwrap();
    assert_eq!(done.snapshots.len(), 1);
    assert!(!done.locked && done.locked_until.is_none());
    // The probe: no object lock, nothing to probe, never trusted.
    let probe = check::probe(&b).unwrap();
    assert!(probe.probe.is_none());
    assert_eq!(probe.outcome(), ProbeOutcome::Failed);
    assert!(probe.detail().contains("not enabled"), "{}", probe.detail());
}

#[test]
fn a_copy_whose_locks_ran_out_is_found_recorded_incomplete_and_extend_locks_relocks_it() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let name = PoolName::new("cloud");
    let cfg = config(&m, "hospital");
    // Locks that run out within the test (long enough for the first check
    // to find them in force on a busy machine).
    let b = bucket(&name, &cfg, Duration::from_secs(6));
    let (dir, repo) = new_repo();
    backup(&repo, "emr", "2026-11-20T22:00:00Z");
    let Copied {
        dir, mut cat, done, ..
    } = copy_to(&b, dir, repo);
    let now = OffsetDateTime::now_utc();
    let mut opener = Opener {
        primary: dir.path(),
        bucket_opens: true,
    };

    // Right after the copy: whole. moto lets a compliance lock be
    // shortened, so the probe finds the lock weaker than promised.
    let probe = check::probe(&b).unwrap();
    assert_eq!(probe.outcome(), ProbeOutcome::Shortenable, "{probe:?}");
    let checked = check::check(&b, &mut cat, probe, &mut opener, now, "test").unwrap();
    assert_eq!(checked.medium, done.medium);
    assert_eq!(checked.copies.len(), 1);
    assert!(checked.copies[0].whole(), "{:?}", checked.copies[0]);
    assert!(checked.copies[0].objects >= 4, "{:?}", checked.copies[0]);
    assert_eq!(checked.downgraded, 0);
    assert!(!checked.ok(), "a shortenable lock is never ok");

    // Once the locks ran out, every object is found unlocked and the copy
    // is recorded incomplete (once).
    let ran_out = done.locked_until.expect("locked") + time::Duration::seconds(3);
    let wait = ran_out - OffsetDateTime::now_utc();
    std::thread::sleep(Duration::try_from(wait).unwrap_or_default());
    let probe = LockProbe {
        report: hokan_s3::bucket_check(&b.connect(false, false).unwrap()).unwrap(),
        probe: None,
    };
    let checked = check::check(&b, &mut cat, probe, &mut opener, now, "test").unwrap();
    let c = &checked.copies[0];
    assert!(!c.whole() && c.was_complete);
    assert_eq!(c.findings.len(), c.objects, "{c:?}");
    assert!(
        c.findings
            .iter()
            .all(|f| matches!(f.fault, hokan_s3::ObjectFault::Unlocked { .. })),
        "{c:?}"
    );
    assert_eq!(checked.downgraded, 1);
    assert_eq!(complete_on(&cat, &done.medium), vec![false]);
    let again = recheck::recheck_copies(&b, &cat, &done.medium, &mut opener).unwrap();
    assert_eq!(
        recheck::record(&mut cat, &done.medium, &again, now, "test").unwrap(),
        0
    );

    // Without the bucket's repository, the primary's plan says what to check.
    let mut no_bucket = Opener {
        primary: dir.path(),
        bucket_opens: false,
    };
    let fallback = recheck::recheck_copies(&b, &cat, &done.medium, &mut no_bucket).unwrap();
    assert!(matches!(
        fallback[0].unplannable,
        Some(Unplannable::NotOpened)
    ));
    assert_eq!(fallback[0].objects, c.objects);

    // extend-locks locks everything again, for a day.
    let day = bucket(&name, &cfg, Duration::from_secs(86_400));
    let store = day.connect(true, true).unwrap();
    let bucket_repo = repository::open(
        Arc::new(day.connect(false, true).unwrap()),
        Key::Passphrase(PW.to_vec()),
    )
    .unwrap();
    let ext = locks::extend_locks(&day, &store, &bucket_repo, &mut cat, now, "test").unwrap();
    assert_eq!(ext.snapshots, 1);
    assert!(ext.extended >= c.objects - 1, "{ext:?}");
    let until = ext.locked_until.expect("locked");
    assert!(until > OffsetDateTime::now_utc() + time::Duration::hours(23));
    let whole = recheck::recheck_copies(&day, &cat, &done.medium, &mut opener).unwrap();
    assert!(whole[0].whole(), "{:?}", whole[0]);
}

#[test]
fn prune_deletes_unneeded_packs_whose_lock_ran_out_and_lists_the_locked_ones() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let name = PoolName::new("cloud");
    let cfg = config(&m, "hospital");
    let b = bucket(&name, &cfg, Duration::from_secs(86_400));
    let (dir, repo) = new_repo();
    backup(&repo, "emr", "2026-11-20T22:00:00Z");
    let Copied {
        dir: _dir, mut cat, ..
    } = copy_to(&b, dir, repo);
    // Two packs no snapshot names: one locked for a second, one for a day.
    let short = bucket(&name, &cfg, Duration::from_secs(1));
    let (stale, locked) = ("ab".repeat(32), "cd".repeat(32));
    short
        .connect(true, false)
        .unwrap()
        .put(ObjectKind::Pack, &stale, b"stale")
        .unwrap();
    b.connect(true, false)
        .unwrap()
        .put(ObjectKind::Pack, &locked, b"locked")
        .unwrap();
    let packs_before = b
        .connect(false, false)
        .unwrap()
        .list(ObjectKind::Pack)
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));

    let originals = b.connect(false, true).unwrap();
    let bucket_repo = repository::open(
        Arc::new(b.connect(false, true).unwrap()),
        Key::Passphrase(PW.to_vec()),
    )
    .unwrap();
    let now = OffsetDateTime::now_utc();
    let done = locks::prune(&b, &originals, &bucket_repo, &mut cat, now, now, "test").unwrap();
    assert_eq!(done.deleted, vec![stale.clone()]);
    assert_eq!(done.waiting.len(), 1, "{done:?}");
    assert_eq!(done.waiting[0].pack, locked);
    assert!(done.waiting[0].after.expect("an end") > now + time::Duration::hours(23));
    assert_eq!(done.waiting[0].bytes, Some(6));
    let json = done.waiting_json();
    assert_eq!(json[0]["pack"], locked.as_str());
    assert!(json[0]["after"].is_string(), "{json}");
    let after: Vec<String> = S3Store::connect_with(
        S3Config {
            lock: None,
            ..cfg.clone()
        },
        net(),
    )
    .unwrap()
    .list(ObjectKind::Pack)
    .unwrap()
    .into_iter()
    .map(|o| o.name)
    .collect();
    assert_eq!(after.len(), packs_before.len() - 1, "{after:?}");
    assert!(!after.contains(&stale));
}

#[test]
fn an_unreadable_secret_file_is_a_config_error_naming_the_file() {
    let toml = site_toml(
        "x",
        "http://127.0.0.1:9",
        std::path::Path::new("/nonexistent/secret"),
    );
    let site = hokan_site::parse(&toml, std::path::Path::new("/etc/hokan/hokan.toml")).unwrap();
    let hokan_site::TargetKind::S3(conf) = &site.targets()[0].kind else {
        panic!("an s3 target");
    };
    let e = super::config(&conf.connection).unwrap_err();
    assert!(
        matches!(&e, JobError::S3SecretFile { path, .. } if path.ends_with("secret")),
        "{e:?}"
    );
    assert!(std::error::Error::source(&e).is_some() && !e.is_transient());
    let found = anchor::bucket_anchors(&site, "x");
    assert!(matches!(
        &found[0].problems[..],
        [anchor::AnchorProblem::Unreachable(
            JobError::S3SecretFile { .. }
        )]
    ));
    let net = super::network(&conf.connection);
    assert!(net.operation_timeout >= net.attempt_timeout);
    assert_eq!(
        super::lock_spec(conf, time::Duration::days(7)).retention,
        Duration::from_secs(7 * 86_400)
    );
}

#[test]
fn run_copy_takes_the_lock_reads_the_secret_copies_and_extend_locks_relocks() {
    let m = moto();
    m.create_locked_bucket("hospital").unwrap();
    let (dir, repo) = new_repo();
    let id = backup(&repo, "emr", "2026-11-20T21:00:00Z");
    let secret = dir.path().join("s3-secret");
    std::fs::write(&secret, format!("{TEST_SECRET}\n")).unwrap();
    let toml = site_toml(SITE, &m.endpoint(), &secret);
    let site = hokan_site::parse(&toml, &dir.path().join("hokan.toml")).unwrap();
    let t = &site.targets()[0];
    let hokan_site::TargetKind::S3(conf) = &t.kind else {
        panic!("an s3 target");
    };
    let target = Target {
        name: &t.name,
        conf,
        retention: t.retention,
        network: net(),
    };
    let catalog = dir.path().join("catalog.db");
    let sources = vec!["emr".to_owned()];
    let job = CopyRun {
        target,
        catalog: &catalog,
        specs: &[],
        sync: SyncOptions {
            repository: None,
            sources: &sources,
        },
        site: SITE,
        actor: "test",
        now: OffsetDateTime::now_utc(),
    };
    // Another job holds the target: refused before anything is sent.
    {
        let _held = crate::PoolLock::take(&catalog, "cloud").unwrap();
        let e = super::run_copy(&repo, &job, &Counted::default()).unwrap_err();
        assert!(matches!(e, JobError::PoolBusy { .. }), "{e:?}");
    }
    let progress = Counted::default();
    let done = super::run_copy(&repo, &job, &progress).unwrap();
    assert_eq!(done.snapshots, vec![SnapshotId::new(id.to_hex())]);
    assert!(done.locked && done.bytes_sent > 0);
    assert_eq!(done.bucket, "hospital");
    assert_eq!(
        progress.total.load(Ordering::Relaxed),
        done.bytes_sent + done.bytes_already_there
    );
    let json = serde_json::to_value(&done).unwrap();
    assert_eq!(json["medium"], "cloud");
    assert!(json["locked_until"].is_string(), "{json}");
    let cat = Catalog::open(&catalog).unwrap();
    assert_eq!(complete_on(&cat, &done.medium), vec![true]);
    drop(cat);

    // The locks extended, the bucket's repository opened by the caller.
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(1);
    let ext = run_extend_locks(&target, &catalog, later, "test", |store| {
        repository::open(store, Key::Passphrase(PW.to_vec()))
    })
    .unwrap();
    assert_eq!(ext.snapshots, 1);
    assert!(ext.locked_until.is_some());
    // A caller's own error comes back as it was.
    let e = run_extend_locks(&target, &catalog, later, "test", |_| {
        Err::<Repository, _>(JobError::NoSnapshotToCopy)
    })
    .unwrap_err();
    assert!(matches!(e, JobError::NoSnapshotToCopy), "{e:?}");
}
