//! `hokan serve`: the primary's read-only export for vaults
//! (`docs/vault.md` §2).
//!
//! Over HTTPS (rustls), for a caller holding one of the registered vault
//! tokens, it lists the repository's generations, serves each one's copy
//! plan and the objects in it, and accepts signed receipts into a small
//! append-only inbox. There is no call that writes, replaces or deletes
//! repository data: the router has no such route, and the repository is
//! only read. Someone who steals a vault's token can read encrypted
//! objects (useless without the passphrase) and drop receipts into the
//! inbox (useless without the vault's signing key).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hokan_repo::store::Store;
use hokan_repo::Repository;

use crate::wire::{check_name, Kind, Listing, Offered, Plan, PlanObject};
use crate::VaultError;

/// Largest receipt accepted.
pub const MAX_RECEIPT: usize = 256 << 10;
/// Most receipts kept per vault in the inbox; beyond, posts are refused
/// (507) until the primary's operator archives some.
pub const MAX_RECEIPTS: usize = 100_000;
/// Plans kept in memory (their fresh index files must be served after).
const PLAN_CACHE: usize = 64;

/// One vault allowed to pull.
#[derive(Clone, Debug)]
pub struct Access {
    /// Its name (as in `[[vault]]`).
    pub name: String,
    /// BLAKE3 of its token, hex.
    pub token_blake3: String,
}

/// What `hokan serve` needs.
#[derive(Clone, Debug)]
pub struct ExportConfig {
    /// TLS certificate (PEM).
    pub cert: PathBuf,
    /// TLS private key (PEM).
    pub key: PathBuf,
    /// The inbox folder (one sub-folder per vault).
    pub inbox: PathBuf,
    /// The vaults.
    pub vaults: Vec<Access>,
}

/// A plan, its fresh index file's name and bytes.
type CachedPlan = Arc<(Plan, String, Vec<u8>)>;

struct Shared {
    store: Arc<dyn Store>,
    secret: [u8; 32],
    repo: RwLock<Arc<Repository>>,
    plans: Mutex<HashMap<String, CachedPlan>>,
    config: ExportConfig,
}

type St = State<Arc<Shared>>;

fn status(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, msg.into()).into_response()
}

fn who(s: &Shared, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    let got = blake3::hash(token.as_bytes());
    s.config
        .vaults
        .iter()
        .find(|v| blake3::Hash::from_hex(&v.token_blake3).is_ok_and(|h| h == got))
        .map(|v| v.name.clone())
}

macro_rules! authorised {
    ($s:expr, $h:expr) => {
        match who(&$s, &$h) {
            Some(v) => v,
            None => return status(StatusCode::UNAUTHORIZED, "no valid vault token"),
        }
    };
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a blocking task does not panic")
}

async fn generations(State(s): St, headers: HeaderMap) -> Response {
    let _ = authorised!(s, headers);
    let r = blocking(move || -> Result<Listing, String> {
        // Re-open for a fresh index: backups ran since the last listing.
        let repo =
            Repository::open_with_secret(s.store.clone(), s.secret).map_err(|e| e.to_string())?;
        let (snaps, _) = repo.snapshots().map_err(|e| e.to_string())?;
        let listing = Listing {
            repository: repo.config().id.to_string(),
            generations: snaps
                .into_iter()
                .map(|(id, sn)| Offered {
                    snapshot: id.to_hex(),
                    source: sn.source,
                    time: sn.time,
                })
                .collect(),
        };
        *s.repo.write().expect("lock") = Arc::new(repo);
        Ok(listing)
    })
    .await;
    match r {
        Ok(l) => Json(l).into_response(),
        Err(e) => status(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn plan(State(s): St, headers: HeaderMap, UrlPath(snapshot): UrlPath<String>) -> Response {
    let _ = authorised!(s, headers);
    if check_name(Kind::Snapshot, &snapshot).is_err() {
        return status(StatusCode::BAD_REQUEST, "not a snapshot name");
    }
    if let Some(p) = s.plans.lock().expect("lock").get(&snapshot) {
        return Json(p.0.clone()).into_response();
    }
    let s2 = s.clone();
    let snap = snapshot.clone();
    let r = blocking(move || -> Result<CachedPlan, String> {
        let repo = s2.repo.read().expect("lock").clone();
        let id = hokan_format::Id::from_hex(&snap).map_err(|e| e.to_string())?;
        let cp = repo.copy_plan(&[id]).map_err(|e| e.to_string())?;
        let mut index = (String::new(), Vec::new());
        let objects = cp
            .objects
            .into_iter()
            .filter_map(|o| {
                let kind = Kind::from_object_kind(o.kind)?;
                if let Some(b) = o.bytes {
                    index = (o.name.clone(), b);
                }
                Some(PlanObject {
                    kind,
                    name: o.name,
                    size: o.size,
                })
            })
            .collect();
        Ok(Arc::new((
            Plan {
                snapshot: snap,
                objects,
            },
            index.0,
            index.1,
        )))
    })
    .await;
    match r {
        Ok(p) => {
            let mut plans = s.plans.lock().expect("lock");
            if plans.len() >= PLAN_CACHE {
                plans.clear();
            }
            plans.insert(snapshot, p.clone());
            Json(p.0.clone()).into_response()
        }
        Err(e) => status(StatusCode::NOT_FOUND, e),
    }
}

async fn object(
    State(s): St,
    headers: HeaderMap,
    UrlPath((kind, name)): UrlPath<(String, String)>,
) -> Response {
    let _ = authorised!(s, headers);
    let Some(kind) = Kind::from_word(&kind) else {
        return status(StatusCode::NOT_FOUND, "no such kind");
    };
    if check_name(kind, &name).is_err() {
        return status(StatusCode::BAD_REQUEST, "not an object name");
    }
    if kind == Kind::Index {
        let cached = s
            .plans
            .lock()
            .expect("lock")
            .values()
            .find(|p| p.1 == name)
            .map(|p| p.2.clone());
        if let Some(b) = cached {
            return (StatusCode::OK, b).into_response();
        }
    }
    let r = blocking(move || s.store.get(kind.object_kind(), &name)).await;
    match r {
        Ok(b) => (StatusCode::OK, b).into_response(),
        Err(hokan_repo::store::StoreError::NotFound { .. }) => {
            status(StatusCode::NOT_FOUND, "no such object")
        }
        Err(e) => status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn inbox(State(s): St, headers: HeaderMap, body: Bytes) -> Response {
    let vault = authorised!(s, headers);
    let r = blocking(move || store_receipt(&s.config.inbox, &vault, &body)).await;
    match r {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err((code, msg)) => status(code, msg),
    }
}

/// Write one receipt, never replacing one. The primary verifies its
/// signature when it reads the inbox, not here: the inbox only keeps.
fn store_receipt(inbox: &Path, vault: &str, body: &[u8]) -> Result<(), (StatusCode, String)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = inbox.join(vault);
    let ise = |e: std::io::Error| (StatusCode::INTERNAL_SERVER_ERROR, format!("inbox: {e}"));
    std::fs::create_dir_all(&dir).map_err(ise)?;
    if std::fs::read_dir(&dir).map_err(ise)?.count() >= MAX_RECEIPTS {
        return Err((StatusCode::INSUFFICIENT_STORAGE, "the inbox is full".into()));
    }
    let now = time::OffsetDateTime::now_utc();
    let name = format!(
        "{}-{}.json",
        now.unix_timestamp_nanos(),
        &blake3::hash(body).to_hex()[..16]
    );
    // Written under a hidden name and renamed when whole: a server killed
    // mid-write leaves no half receipt for the primary to stumble on (the
    // primary skips names starting with a dot).
    let part = dir.join(format!(".{name}.part"));
    let p = dir.join(&name);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(&part)
        .map_err(ise)?;
    f.write_all(body).map_err(ise)?;
    f.sync_all().map_err(ise)?;
    drop(f);
    if p.exists() {
        let _ = std::fs::remove_file(&part);
        return Err((
            StatusCode::CONFLICT,
            "that receipt is in the inbox already".into(),
        ));
    }
    std::fs::rename(&part, &p).map_err(ise)?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(ise)?;
    Ok(())
}

fn router(s: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/generations", get(generations))
        .route("/v1/generations/{snapshot}/plan", get(plan))
        .route("/v1/objects/{kind}/{name}", get(object))
        .route("/v1/inbox", post(inbox))
        .layer(DefaultBodyLimit::max(MAX_RECEIPT))
        .with_state(s)
}

/// A running export (for tests and the daemon): stops when dropped.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: axum_server::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Running {
    /// Serve until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start serving `repo` on `listener` (already bound).
pub fn start(
    listener: std::net::TcpListener,
    repo: Repository,
    config: ExportConfig,
) -> Result<Running, VaultError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = std::fs::read(&config.cert).map_err(|e| {
        VaultError::Setup(format!(
            "{}: {e} (make one with `hokan serve --init`)",
            config.cert.display()
        ))
    })?;
    let key = std::fs::read(&config.key).map_err(|e| {
        VaultError::Setup(format!(
            "{}: {e} (make one with `hokan serve --init`)",
            config.key.display()
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| VaultError::Setup(e.to_string()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| VaultError::Setup(e.to_string()))?;
    let shared = Arc::new(Shared {
        store: repo.store().clone(),
        secret: *repo.key().secret(),
        repo: RwLock::new(Arc::new(repo)),
        plans: Mutex::new(HashMap::new()),
        config,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| VaultError::Setup(e.to_string()))?;
    let tls = rt
        .block_on(axum_server::tls_rustls::RustlsConfig::from_pem(cert, key))
        .map_err(|e| VaultError::Setup(format!("the export's certificate or key: {e}")))?;
    let handle = axum_server::Handle::new();
    let h2 = handle.clone();
    let app = router(shared);
    let thread = std::thread::spawn(move || {
        rt.block_on(async move {
            if let Err(e) = axum_server::from_tcp_rustls(listener, tls)
                .handle(h2)
                .serve(app.into_make_service())
                .await
            {
                tracing::error!("hokan serve stopped: {e}");
            }
        });
    });
    Ok(Running {
        addr,
        handle,
        thread: Some(thread),
    })
}

/// Make a self-signed certificate and key for the export, valid for
/// `names` (host names or IP addresses the vault will use), never
/// replacing existing files.
pub fn init_cert(cert: &Path, key: &Path, names: &[String]) -> Result<(), VaultError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let ck = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| VaultError::Setup(format!("making the certificate: {e}")))?;
    for (path, text, mode) in [
        (key, ck.key_pair.serialize_pem(), 0o600),
        (cert, ck.cert.pem(), 0o644),
    ] {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)
                .map_err(|e| VaultError::Setup(format!("{}: {e}", d.display())))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .map_err(|e| VaultError::Setup(format!("{}: {e}", path.display())))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| VaultError::Setup(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}
