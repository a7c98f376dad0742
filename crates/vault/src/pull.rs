//! `hokan vault pull`: fetch every generation the primary offers that the
//! vault does not hold yet, each checked on arrival, none replacing
//! anything (`docs/vault.md` §3).
//!
//! What the vault does with what a hostile primary sends:
//! - a generation is new when its *name* is not in the ledger; the times
//!   the primary claims decide nothing about what is "already synced", so a
//!   snapshot dated 2099 cannot hide later real ones (it is refused as
//!   future-dated, once, as a finding);
//! - a generation the vault holds and the primary no longer lists is kept
//!   and reported once as vanished: deletions never reach the vault;
//! - an object whose bytes do not hash to its name, or that is longer or
//!   shorter than declared, is not stored: the generation stays incomplete
//!   (invisible) and a finding names the object;
//! - an object the vault already holds is never fetched again; since a
//!   name is the BLAKE3 of the bytes, the vault's copy *is* the object, and
//!   a primary declaring another size for it is reported;
//! - a plan that lists one object twice is refused, and one the primary
//!   cannot build is a finding for that generation only;
//! - a file in the vault's folder without the immutable flag is not taken
//!   for an object unless its bytes are that object (`planted`);
//! - every answer is size-limited and every request time-limited
//!   ([`crate::wire::Limits`]); names are checked before any path is made.

use std::io::Read;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::{self, Tick};
use crate::config::VaultConfig;
use crate::folder::{Folder, Put, PutError};
use crate::ledger::{self, Event, Finding, GenerationRecord, Ledger, State};
use crate::wire::{Kind, Limits, Listing, Plan, PlanObject, Refused};
use crate::VaultError;

/// The vault's client for the primary's export.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
    limits: Limits,
}

/// A request that did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The connection, TLS, a timeout, a body too long.
    #[error("{url}: {message}")]
    Transport {
        /// What was asked.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// An HTTP status other than 200.
    #[error("{url}: the primary answered {status}{}", if words.is_empty() { String::new() } else { format!(": {words}") })]
    Status {
        /// What was asked.
        url: String,
        /// The status.
        status: u16,
        /// The start of the answer's body (at most [`STATUS_WORDS`] bytes,
        /// control characters replaced): the export says there what is
        /// wrong, e.g. which pack is damaged.
        words: String,
    },
    /// JSON that does not parse.
    #[error("{url}: malformed answer: {message}")]
    Malformed {
        /// What was asked.
        url: String,
        /// The parser's words.
        message: String,
    },
}

impl Client {
    /// A client that trusts only `cert_pem` (the primary's pinned
    /// certificate) and sends `token`.
    pub fn new(
        base: &str,
        cert_pem: &[u8],
        token: &str,
        limits: Limits,
    ) -> Result<Client, VaultError> {
        use ureq::tls::{Certificate, RootCerts, TlsConfig};
        let cert = Certificate::from_pem(cert_pem).map_err(|e| {
            VaultError::Setup(format!(
                "the primary's certificate is not a PEM certificate: {e}"
            ))
        })?;
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::Specific(Arc::new(vec![cert])))
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(limits.request_timeout))
            .timeout_connect(Some(std::time::Duration::from_secs(20)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
            limits,
        })
    }

    fn get(&self, path: &str) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        let url = format!("{}{path}", self.base);
        let mut resp = self
            .agent
            .get(&url)
            .header("authorization", &format!("Bearer {}", self.token))
            .call()
            .map_err(|e| FetchError::Transport {
                url: url.clone(),
                message: e.to_string(),
            })?;
        if resp.status().as_u16() != 200 {
            let status = resp.status().as_u16();
            let mut head = Vec::new();
            let _ = resp
                .body_mut()
                .with_config()
                .limit(STATUS_WORDS)
                .reader()
                .take(STATUS_WORDS)
                .read_to_end(&mut head);
            return Err(FetchError::Status {
                url,
                status,
                words: printable(&head),
            });
        }
        Ok(resp)
    }

    fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, FetchError> {
        let url = format!("{}{path}", self.base);
        let mut resp = self.get(path)?;
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(self.limits.max_json)
            .read_to_vec()
            .map_err(|e| FetchError::Transport {
                url: url.clone(),
                message: e.to_string(),
            })?;
        serde_json::from_slice(&bytes).map_err(|e| FetchError::Malformed {
            url,
            message: e.to_string(),
        })
    }

    /// The generations offered.
    pub fn listing(&self) -> Result<Listing, FetchError> {
        self.json("/v1/generations")
    }

    /// A generation's plan.
    pub fn plan(&self, snapshot: &str) -> Result<Plan, FetchError> {
        self.json(&format!("/v1/generations/{snapshot}/plan"))
    }

    /// Store one object into the folder, streaming.
    pub fn fetch_into(&self, folder: &Folder, o: &PlanObject) -> Result<Put, PutError> {
        let path = format!("/v1/objects/{}/{}", o.kind.word(), o.name);
        let transfer = |message: String| PutError::Transfer {
            name: o.name.clone(),
            source: std::io::Error::other(message),
        };
        let mut resp = self.get(&path).map_err(|e| transfer(e.to_string()))?;
        let mut reader = resp.body_mut().with_config().limit(o.size + 1).reader();
        folder.put(o.kind, &o.name, o.size, &mut reader as &mut dyn Read)
    }

    /// Post a signed receipt to the primary's inbox.
    pub fn post_receipt(&self, envelope: &[u8]) -> Result<(), FetchError> {
        let url = format!("{}/v1/inbox", self.base);
        let resp = self
            .agent
            .post(&url)
            .header("authorization", &format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .send(envelope)
            .map_err(|e| FetchError::Transport {
                url: url.clone(),
                message: e.to_string(),
            })?;
        match resp.status().as_u16() {
            200 | 201 | 204 => Ok(()),
            status => Err(FetchError::Status {
                url,
                status,
                words: String::new(),
            }),
        }
    }
}

/// How much of an error answer's body is kept for the operator.
pub const STATUS_WORDS: u64 = 1024;

/// A hostile answer's bytes as one line of text fit for a log.
fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// What a pull reports while it works (a progress bar; the daemon's log).
pub trait PullProgress: Sync {
    /// A generation is about to be fetched: `bytes` must come for it.
    fn generation(&self, _snapshot: &str, _source: &str, _bytes: u64) {}
    /// An object of `bytes` was stored.
    fn stored(&self, _bytes: u64) {}
}

/// No progress reporting.
pub struct NoProgress;

impl PullProgress for NoProgress {}

/// What one pull did.
#[derive(Clone, Debug, Default)]
pub struct PullOutcome {
    /// Generations added.
    pub added: Vec<String>,
    /// Bytes received.
    pub bytes: u64,
    /// Findings recorded by this pull.
    pub findings: Vec<Finding>,
    /// Why the pull stopped early (the vault keeps what it has).
    pub error: Option<String>,
    /// Objects whose immutable flag was set after a killed run.
    pub resealed: u64,
}

/// Context of one pull.
pub struct Puller<'a> {
    /// The folder.
    pub folder: &'a Folder,
    /// Its config.
    pub config: &'a VaultConfig,
    /// The client.
    pub client: &'a Client,
    /// The clocks, read at the start.
    pub tick: Tick,
    /// Told of each generation and object as they come.
    pub progress: &'a dyn PullProgress,
}

/// How many packs a pull fetches at once.
pub const FETCHERS: usize = 3;

/// How far into the vault's future a snapshot may be dated (clock skew
/// between the two machines).
pub const FUTURE_SLACK: time::Duration = time::Duration::hours(24);

impl Puller<'_> {
    /// Pull. Errors are for the vault's own folder (ledger, disk); what the
    /// primary does wrong ends in `PullOutcome::error` and findings.
    pub fn run(&self) -> Result<PullOutcome, VaultError> {
        let _lock = self
            .folder
            .lock()
            .map_err(|e| VaultError::Folder(e.to_string()))?;
        let (mut ledger, state) = Ledger::open(&self.folder.ledger_path())?;
        let now = observe(&mut ledger, &state, &self.tick, &self.config.clock())?;
        let state = ledger.replay()?;
        let mut out = PullOutcome::default();
        let folder_err = |e: std::io::Error| {
            VaultError::Folder(format!("{}: {e}", self.folder.root().display()))
        };
        self.folder.clean_tmp().map_err(|e| {
            folder_err(std::io::Error::new(e.kind(), format!("cleaning tmp/: {e}")))
        })?;
        let (resealed, planted) = self.folder.seal_all().map_err(|e| {
            folder_err(std::io::Error::new(
                e.kind(),
                format!("sealing objects: {e}"),
            ))
        })?;
        out.resealed = resealed;
        for p in planted {
            self.planted(&mut ledger, now, &mut out, &p)
                .map_err(VaultError::Folder)?;
        }

        let r = self.pull_all(&mut ledger, &state, now, &mut out);
        if let Err(e) = &r {
            out.error = Some(e.clone());
        }
        ledger.append(
            now,
            &Event::Pull {
                state: if out.error.is_some() { "failed" } else { "ok" }.into(),
                added: out.added.len() as u64,
                bytes: out.bytes,
                error: out.error.clone(),
            },
        )?;
        Ok(out)
    }

    /// A file found under an object's name that the vault did not put
    /// there, removed.
    fn planted(
        &self,
        ledger: &mut Ledger,
        now: OffsetDateTime,
        out: &mut PullOutcome,
        path: &std::path::Path,
    ) -> Result<(), String> {
        let f = finding(
            "planted",
            format!(
                "{} was in the vault's folder without the immutable flag and is not the object of that name: someone without CAP_LINUX_IMMUTABLE put it there. Removed; the object is fetched and checked",
                path.display()
            ),
            None,
        );
        tracing::warn!(kind = "planted", "{}", f.detail);
        ledger
            .append(now, &Event::Finding(f.clone()))
            .map_err(|e| e.to_string())?;
        out.findings.push(f);
        Ok(())
    }

    fn finding(
        &self,
        ledger: &mut Ledger,
        state: &State,
        now: OffsetDateTime,
        out: &mut PullOutcome,
        f: Finding,
        once: bool,
    ) -> Result<(), String> {
        if once
            && state
                .reported
                .contains(&(f.kind.clone(), f.snapshot.clone().unwrap_or_default()))
        {
            return Ok(());
        }
        tracing::warn!(kind = %f.kind, "{}", f.detail);
        ledger
            .append(now, &Event::Finding(f.clone()))
            .map_err(|e| e.to_string())?;
        out.findings.push(f);
        Ok(())
    }

    fn pull_all(
        &self,
        ledger: &mut Ledger,
        state: &State,
        now: OffsetDateTime,
        out: &mut PullOutcome,
    ) -> Result<(), String> {
        let limits = self.config.limits();
        let listing = match self.client.listing() {
            Ok(l) => l,
            Err(e) => {
                if matches!(e, FetchError::Malformed { .. }) {
                    self.finding(
                        ledger,
                        state,
                        now,
                        out,
                        finding("malformed", e.to_string(), None),
                        false,
                    )?;
                }
                return Err(e.to_string());
            }
        };
        if listing.generations.len() > limits.max_entries {
            let e = Refused::TooMany {
                count: listing.generations.len(),
                max: limits.max_entries,
            };
            self.finding(
                ledger,
                state,
                now,
                out,
                finding("refused", e.to_string(), None),
                false,
            )?;
            return Err(e.to_string());
        }
        match &state.repository {
            None => {
                ledger
                    .append(
                        now,
                        &Event::Repository {
                            id: listing.repository.clone(),
                        },
                    )
                    .map_err(|e| e.to_string())?;
            }
            Some(id) if *id != listing.repository => {
                let detail = format!(
                    "the primary now offers repository {} instead of {id}; nothing is taken from it",
                    listing.repository
                );
                self.finding(
                    ledger,
                    state,
                    now,
                    out,
                    finding("other-repository", detail.clone(), None),
                    false,
                )?;
                return Err(detail);
            }
            Some(_) => {}
        }

        let offered: std::collections::BTreeSet<&str> = listing
            .generations
            .iter()
            .map(|g| g.snapshot.as_str())
            .collect();
        for held in state.generations.keys() {
            if !offered.contains(held.as_str()) {
                let detail = format!(
                    "generation {held} is no longer offered by the primary (deleted or hidden there); the vault keeps its copy"
                );
                self.finding(
                    ledger,
                    state,
                    now,
                    out,
                    finding("vanished", detail, Some(held)),
                    true,
                )?;
            }
        }

        let mut todo: Vec<_> = listing.generations.iter().collect();
        todo.sort_by(|a, b| a.time.cmp(&b.time).then(a.snapshot.cmp(&b.snapshot)));
        for g in todo {
            let taken = match g.check() {
                Ok(t) => t,
                Err(e) => {
                    let snap = crate::wire::is_hex64(&g.snapshot).then_some(g.snapshot.as_str());
                    self.finding(
                        ledger,
                        state,
                        now,
                        out,
                        finding("refused", e.to_string(), snap),
                        true,
                    )?;
                    continue;
                }
            };
            if state.generations.contains_key(&g.snapshot) || state.expired.contains(&g.snapshot) {
                continue;
            }
            if taken > now + FUTURE_SLACK {
                let detail = format!(
                    "generation {} is dated {} , in the vault's future (now {}): not taken; it decides nothing about later generations",
                    g.snapshot, g.time, ledger::fmt(now)
                );
                self.finding(
                    ledger,
                    state,
                    now,
                    out,
                    finding("future-dated", detail, Some(&g.snapshot)),
                    true,
                )?;
                continue;
            }
            self.pull_one(
                ledger,
                state,
                now,
                out,
                &g.snapshot,
                &g.source,
                &g.time,
                &limits,
            )?;
        }
        Ok(())
    }

    /// Fetch `objects` with up to [`FETCHERS`] at a time; the outcomes in
    /// the order of `objects`. After a failure no new fetch starts.
    fn fetch_all<'o>(
        &self,
        objects: &[&'o PlanObject],
    ) -> Vec<(&'o PlanObject, Result<Put, PutError>)> {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: Vec<std::sync::Mutex<Option<Result<Put, PutError>>>> = objects
            .iter()
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        std::thread::scope(|scope| {
            for _ in 0..FETCHERS.min(objects.len()) {
                scope.spawn(|| loop {
                    if failed.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(o) = objects.get(i) else { break };
                    let r = self.client.fetch_into(self.folder, o);
                    if r.is_err() {
                        failed.store(true, Ordering::SeqCst);
                    } else if matches!(r, Ok(Put::Stored)) {
                        self.progress.stored(o.size);
                    }
                    *results[i].lock().expect("lock") = Some(r);
                });
            }
        });
        objects
            .iter()
            .zip(results)
            .map_while(|(o, r)| r.into_inner().expect("lock").map(|r| (*o, r)))
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn pull_one(
        &self,
        ledger: &mut Ledger,
        state: &State,
        now: OffsetDateTime,
        out: &mut PullOutcome,
        snapshot: &str,
        source: &str,
        taken: &str,
        limits: &Limits,
    ) -> Result<(), String> {
        let plan = match self.client.plan(snapshot) {
            Ok(p) => p,
            Err(e @ FetchError::Malformed { .. }) => {
                self.finding(
                    ledger,
                    state,
                    now,
                    out,
                    finding("malformed", e.to_string(), Some(snapshot)),
                    false,
                )?;
                return Ok(());
            }
            // The primary cannot say what this generation needs (a damaged
            // tree or a missing pack there): that generation is not taken,
            // the operator is told why in the primary's words, and the
            // generations after it still come.
            Err(e @ FetchError::Status { .. }) => {
                let detail = format!(
                    "generation {snapshot} not taken: the primary could not list what it needs ({e})"
                );
                self.finding(
                    ledger,
                    state,
                    now,
                    out,
                    finding("no-plan", detail, Some(snapshot)),
                    true,
                )?;
                return Ok(());
            }
            Err(e) => return Err(e.to_string()),
        };
        if plan.snapshot != snapshot {
            let detail = format!("the plan asked for {snapshot} is for {}", plan.snapshot);
            self.finding(
                ledger,
                state,
                now,
                out,
                finding("refused", detail, Some(snapshot)),
                false,
            )?;
            return Ok(());
        }
        if let Err(e) = plan.check(limits) {
            let kind = if matches!(e, Refused::TooBig { .. }) {
                "too-big"
            } else {
                "refused"
            };
            self.finding(
                ledger,
                state,
                now,
                out,
                finding(kind, e.to_string(), Some(snapshot)),
                true,
            )?;
            return Ok(());
        }
        // Anything in the vault's folders under these names that the vault
        // did not seal (put there by someone without CAP_LINUX_IMMUTABLE)
        // goes before sizes are compared or anything is skipped as held.
        for o in &plan.objects {
            let planted = self
                .folder
                .sealed_or_clear(o.kind, &o.name)
                .map_err(|e| format!("{} {}: {e}", o.kind.word(), o.name))?;
            if let Some(p) = planted {
                self.planted(ledger, now, out, &p)?;
            }
        }
        // What must come, and whether there is room for it.
        let mut need = 0u64;
        for o in &plan.objects {
            match self.folder.held(o.kind, &o.name) {
                None => need += o.size,
                Some(have) if have != o.size => {
                    let what = if o.kind == Kind::Config {
                        "changed-config"
                    } else {
                        "changed-size"
                    };
                    let detail = format!(
                        "the primary declares {} {} as {} bytes; the vault holds it as {have} bytes, checked on arrival, and keeps its own",
                        o.kind.word(), o.name, o.size
                    );
                    self.finding(
                        ledger,
                        state,
                        now,
                        out,
                        finding(what, detail, Some(&o.name)),
                        true,
                    )?;
                }
                Some(_) => {}
            }
        }
        let (used, free) = self.folder.usage().map_err(|e| e.to_string())?;
        let reserve = self.config.reserve_mib << 20;
        let over_max = self.config.max_bytes.is_some_and(|m| used + need > m);
        if over_max || free < need.saturating_add(reserve) {
            let detail = format!(
                "generation {snapshot} needs {need} more bytes; the vault holds {used} bytes, {free} are free, {reserve} are kept in reserve{}: not taken. Give the vault more disk or a shorter keep_days",
                self.config.max_bytes.map(|m| format!(", max_bytes is {m}")).unwrap_or_default()
            );
            self.finding(
                ledger,
                state,
                now,
                out,
                finding("no-room", detail.clone(), Some(snapshot)),
                false,
            )?;
            return Err(detail);
        }
        self.progress.generation(snapshot, source, need);
        // Packs come first, FETCHERS at a time (so that one object's fsync
        // overlaps the next one's transfer); then everything else one by
        // one in the plan's order, the snapshot last. The outcomes are read
        // in the plan's order, so the first failure decides as before.
        let todo: Vec<&PlanObject> = plan
            .objects
            .iter()
            .filter(|o| !self.folder.held_sealed(o.kind, &o.name))
            .collect();
        let packs: Vec<&PlanObject> = todo
            .iter()
            .copied()
            .filter(|o| o.kind == Kind::Pack)
            .collect();
        let mut fetched = self.fetch_all(&packs);
        for o in todo.iter().filter(|o| o.kind != Kind::Pack) {
            let done = fetched.iter().all(|(_, r)| r.is_ok());
            if !done {
                break;
            }
            fetched.push((o, self.client.fetch_into(self.folder, o)));
        }
        for (o, result) in fetched {
            match result {
                Ok(Put::Stored) => {
                    out.bytes += o.size;
                    if o.kind != Kind::Pack {
                        self.progress.stored(o.size);
                    }
                }
                Ok(Put::Kept) => {}
                Err(e @ (PutError::Mismatch { .. } | PutError::Size { .. })) => {
                    let detail = format!(
                        "{} {}: {e}; not stored, generation {snapshot} not taken",
                        o.kind.word(),
                        o.name
                    );
                    self.finding(
                        ledger,
                        state,
                        now,
                        out,
                        finding("changed-bytes", detail, Some(snapshot)),
                        false,
                    )?;
                    return Ok(());
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        let rec = GenerationRecord {
            snapshot: snapshot.into(),
            source: source.into(),
            taken: taken.into(),
            stored: ledger::fmt(now),
            retain_until: ledger::fmt(now + self.config.keep()),
            objects: plan.objects.len() as u64,
            bytes: plan.bytes(),
            objects_hash: ledger::objects_hash(&plan.objects),
        };
        ledger
            .add_generation(now, &rec, &plan.objects)
            .map_err(|e| e.to_string())?;
        out.added.push(snapshot.into());
        Ok(())
    }
}

fn finding(kind: &str, detail: String, snapshot: Option<&str>) -> Finding {
    Finding {
        kind: kind.into(),
        detail,
        snapshot: snapshot.map(str::to_string),
    }
}

/// Read the compliance clock against the ledger; record the tick (and a
/// freeze, as a finding, when the clock jumped). Returns the compliance time.
pub fn observe(
    ledger: &mut Ledger,
    state: &State,
    tick: &Tick,
    policy: &clock::ClockPolicy,
) -> Result<OffsetDateTime, VaultError> {
    let r = clock::read(
        tick,
        state.last_time,
        state.last_tick.as_ref(),
        &state.clock,
        state.frozen.as_deref(),
        policy,
    );
    if r.new_jump {
        if let clock::State::Frozen { reason } = &r.state {
            ledger.append(
                r.now,
                &Event::ClockFrozen {
                    reason: reason.clone(),
                },
            )?;
            ledger.append(
                r.now,
                &Event::Finding(finding(
                    "clock-jump",
                    format!("{reason}: expiry is frozen until an operator at the vault's console runs `hokan vault clock --accept`"),
                    None,
                )),
            )?;
        }
    }
    ledger.append(r.now, &Event::Tick(tick.clone()))?;
    Ok(r.now)
}
