//! A primary (a real repository served by a real `hokan serve` export over
//! TLS on loopback) and a vault folder, for the vault's tests.

#![allow(dead_code, clippy::new_without_default)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hokan_format::Id;
use hokan_repo::{BackupOptions, InitOptions, KdfStrength, NoProgress, Repository, RestoreOptions};
use hokan_store::LocalStore;
use hokan_vault::config::VaultConfig;
use hokan_vault::export::{self, Access, ExportConfig, Running};
use hokan_vault::ops::{self, Vault};
use hokan_vault::receipt::FirewallReport;

pub const PW: &[u8] = b"pw";

pub struct Primary {
    pub dir: tempfile::TempDir,
    pub repo_path: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub inbox: PathBuf,
}

impl Primary {
    pub fn new() -> Primary {
        let dir = tempfile::tempdir().unwrap();
        let repo_path = dir.path().join("repo");
        let store = Arc::new(LocalStore::new(&repo_path));
        let opts = InitOptions {
            kdf: KdfStrength::TestOnly,
            pack_size: 64 * 1024,
            ..Default::default()
        };
        Repository::init(store, PW, &opts).unwrap();
        let cert = dir.path().join("serve.crt");
        let key = dir.path().join("serve.key");
        export::init_cert(&cert, &key, &["127.0.0.1".into(), "localhost".into()]).unwrap();
        let inbox = dir.path().join("inbox");
        Primary {
            repo_path,
            cert,
            key,
            inbox,
            dir,
        }
    }

    pub fn repo(&self) -> Repository {
        Repository::open(Arc::new(LocalStore::new(&self.repo_path)), PW).unwrap()
    }

    /// A backup of `files` (name, content) as source `source` at `time`.
    pub fn backup(&self, source: &str, time: &str, files: &[(&str, Vec<u8>)]) -> Id {
        let data = tempfile::tempdir().unwrap();
        for (n, c) in files {
            std::fs::write(data.path().join(n), c).unwrap();
        }
        self.repo()
            .backup(
                &BackupOptions {
                    source: source.into(),
                    paths: vec![data.path().to_path_buf()],
                    time: Some(time.into()),
                    ..Default::default()
                },
                &NoProgress,
            )
            .unwrap()
            .id
    }

    pub fn serve(&self, token_blake3: &str) -> Running {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        export::start(
            l,
            self.repo(),
            ExportConfig {
                cert: self.cert.clone(),
                key: self.key.clone(),
                inbox: self.inbox.clone(),
                vaults: vec![Access {
                    name: "v1".into(),
                    token_blake3: token_blake3.into(),
                }],
            },
        )
        .unwrap()
    }
}

pub struct TestVault {
    pub dir: tempfile::TempDir,
    pub setup: ops::Setup,
}

impl TestVault {
    /// A vault for a primary at `url`.
    pub fn new(primary: &Primary, url: &str, tweak: impl FnOnce(&mut VaultConfig)) -> TestVault {
        let pem = std::fs::read(&primary.cert).unwrap();
        TestVault::with_cert(&pem, url, tweak)
    }

    /// A vault for a primary at `url` whose certificate is `pem` (a hostile
    /// server made by the test).
    pub fn with_cert(pem: &[u8], url: &str, tweak: impl FnOnce(&mut VaultConfig)) -> TestVault {
        let dir = tempfile::tempdir().unwrap();
        let mut c = VaultConfig::new("v1", url);
        c.reserve_mib = 1;
        tweak(&mut c);
        let setup = ops::init(&dir.path().join("vault"), &c, pem).unwrap();
        TestVault { dir, setup }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("vault")
    }

    pub fn open(&self) -> Vault {
        Vault::open(&self.root()).unwrap()
    }

    /// Rewrite the URL (a server restarted on another port).
    pub fn point_at(&self, url: &str) {
        let p = self.root().join("vault.toml");
        let mut c = VaultConfig::load(&p).unwrap();
        c.primary = url.into();
        // vault.toml is the operator's, not immutable.
        std::fs::write(&p, c.to_toml()).unwrap();
    }
}

impl Drop for TestVault {
    /// Clear the immutable flags, or the temporary folder stays behind.
    fn drop(&mut self) {
        clear_flags(self.dir.path());
    }
}

/// Clear the immutable flag on every file under `dir` (errors ignored).
pub fn clear_flags(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => {
                    let _ = hokan_vault::immutable::set_immutable(&e.path(), false);
                }
                _ => {}
            }
        }
    }
}

/// The ledger of a vault, opened (verifying its chain).
pub fn ledger(v: &TestVault) -> (hokan_vault::ledger::Ledger, hokan_vault::ledger::State) {
    hokan_vault::ledger::Ledger::open(&v.root().join("ledger.sqlite")).unwrap()
}

/// Files left in a vault's `tmp/`.
pub fn tmp_files(v: &TestVault) -> Vec<PathBuf> {
    std::fs::read_dir(v.root().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// Every file (not folder) under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fingerprint(dir).into_iter().map(|(n, _)| n).collect()
}

pub fn unchecked() -> FirewallReport {
    FirewallReport {
        state: "unchecked".into(),
        detail: vec!["test".into()],
    }
}

pub fn url(r: &Running) -> String {
    format!("https://127.0.0.1:{}", r.addr.port())
}

/// Restore a snapshot from a repository folder alone, into a new folder.
pub fn restore_from(repo_dir: &Path, snapshot: &str) -> tempfile::TempDir {
    let repo = Repository::open(Arc::new(LocalStore::new(repo_dir)), PW).unwrap();
    let t = tempfile::tempdir().unwrap();
    let stats = repo
        .restore(
            &Id::from_hex(snapshot).unwrap(),
            &RestoreOptions {
                target: t.path().to_path_buf(),
                include: vec![],
                overwrite: false,
            },
            &NoProgress,
        )
        .unwrap();
    // A restore reports damaged files in its stats, not as an error.
    assert!(
        stats.errors.is_empty(),
        "restore errors: {:?}",
        stats.errors
    );
    t
}

/// Every file under `dir` with its BLAKE3 (to prove byte-identity).
pub fn fingerprint(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((
                    e.path().strip_prefix(dir).unwrap().display().to_string(),
                    blake3::hash(&std::fs::read(e.path()).unwrap())
                        .to_hex()
                        .to_string(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Whether this process may set the immutable flag.
pub fn can_set_immutable() -> bool {
    let d = tempfile::tempdir().unwrap();
    match hokan_vault::immutable::probe(d.path()) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("\n\n*** SKIPPED (LOUD): the immutable flag cannot be set here ({e}); run as root with CAP_LINUX_IMMUTABLE (CI does) ***\n");
            false
        }
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
