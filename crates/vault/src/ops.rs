//! The vault's commands as library calls (`hokan vault init | pull |
//! status | clock --accept | findings --ack`), shared by the CLI and the
//! daemon. No printing: each returns what happened.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use time::OffsetDateTime;

use crate::clock::{self, Tick};
use crate::config::VaultConfig;
use crate::firewall::{self, FirewallError, Ruleset};
use crate::folder::Folder;
use crate::ledger::{self, Event, Ledger, State};
use crate::pull::{Client, PullOutcome, Puller};
use crate::receipt::{
    self, DrillReport, FindingReport, FirewallReport, Held, ImmutableReport, PullReport, Receipt,
    Signed, DRILLS_FOR_DAYS,
};
use crate::wire::Kind;
use crate::{immutable, VaultError};

/// What `init` made, to be written into the primary's hokan.toml.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The vault's Ed25519 public key (hex): `public_key` in `[[vault]]`.
    pub public_key: String,
    /// BLAKE3 of the vault's token (hex): `token_blake3` in `[[vault]]`.
    pub token_blake3: String,
    /// Why the immutable flag cannot be set here, if it cannot.
    pub immutable_problem: Option<String>,
}

/// Set up a vault folder: configuration, signing key, access token, the
/// primary's pinned certificate, the ledger. Refuses a folder that holds a
/// vault already.
pub fn init(
    root: &Path,
    config: &VaultConfig,
    primary_cert_pem: &[u8],
) -> Result<Setup, VaultError> {
    let folder = Folder::new(root);
    let setup =
        |e: std::io::Error, what: &Path| VaultError::Setup(format!("{}: {e}", what.display()));
    if folder.config_path().exists() {
        return Err(VaultError::Setup(format!(
            "{} holds a vault already ({} exists); nothing was changed",
            root.display(),
            folder.config_path().display()
        )));
    }
    ureq::tls::Certificate::from_pem(primary_cert_pem).map_err(|e| {
        VaultError::Setup(format!(
            "the primary's certificate is not a PEM certificate: {e}"
        ))
    })?;
    folder.create_dirs().map_err(|e| setup(e, root))?;
    let key = receipt::create_key(&folder.key_path())?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    write_new(&folder.token_path(), token.as_bytes(), 0o600)?;
    write_new(&root.join(&config.primary_cert), primary_cert_pem, 0o644)?;
    write_new(&folder.config_path(), config.to_toml().as_bytes(), 0o644)?;
    let (mut l, _) = Ledger::open(&folder.ledger_path())?;
    l.append(
        OffsetDateTime::now_utc(),
        &Event::Init {
            primary: config.primary.clone(),
        },
    )?;
    l.append(OffsetDateTime::now_utc(), &Event::Tick(Tick::now()))?;
    Ok(Setup {
        public_key: receipt::public_hex(&key),
        token_blake3: blake3::hash(token.as_bytes()).to_hex().to_string(),
        immutable_problem: immutable::probe(&folder.repo())
            .err()
            .map(|e| e.to_string()),
    })
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), VaultError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e: std::io::Error| VaultError::Setup(format!("{}: {e}", path.display()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(err)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(err)
}

/// An opened vault folder.
pub struct Vault {
    /// The folder.
    pub folder: Folder,
    /// Its configuration.
    pub config: VaultConfig,
}

impl Vault {
    /// Open the vault at `root`.
    pub fn open(root: &Path) -> Result<Vault, VaultError> {
        let folder = Folder::new(root);
        let config = VaultConfig::load(&folder.config_path())?;
        Ok(Vault { folder, config })
    }

    /// The client for the primary.
    pub fn client(&self) -> Result<Client, VaultError> {
        let cert_path = self.folder.root().join(&self.config.primary_cert);
        let cert = std::fs::read(&cert_path)
            .map_err(|e| VaultError::Setup(format!("{}: {e}", cert_path.display())))?;
        let token = std::fs::read_to_string(self.folder.token_path()).map_err(|e| {
            VaultError::Setup(format!("{}: {e}", self.folder.token_path().display()))
        })?;
        Client::new(&self.config.primary, &cert, &token, self.config.limits())
    }

    /// Pull, apply retention, make and sign a receipt, post it (and keep
    /// it in `receipts/`). `firewall` is the network check's result.
    pub fn pull(&self, tick: Tick, firewall: FirewallReport) -> Result<Night, VaultError> {
        self.pull_with(tick, firewall, &crate::pull::NoProgress)
    }

    /// [`Vault::pull`], telling `progress` of each generation and object.
    pub fn pull_with(
        &self,
        tick: Tick,
        firewall: FirewallReport,
        progress: &dyn crate::pull::PullProgress,
    ) -> Result<Night, VaultError> {
        let client = self.client()?;
        let outcome = Puller {
            folder: &self.folder,
            config: &self.config,
            client: &client,
            tick: tick.clone(),
            progress,
        }
        .run()?;
        let expired = crate::expire::run(&self.folder, &self.config, &tick)?;
        let receipt = self.receipt(&tick, Some(&outcome), firewall)?;
        let (signed, posted) = self.sign_and_post(&client, &receipt)?;
        Ok(Night {
            outcome,
            expired,
            receipt,
            signed,
            posted,
        })
    }

    /// Sign `receipt`, keep it in `receipts/`, post it to the primary
    /// (`Err`: why it was not taken).
    fn sign_and_post(
        &self,
        client: &Client,
        receipt: &Receipt,
    ) -> Result<(Signed, Result<(), String>), VaultError> {
        let key = receipt::load_key(&self.folder.key_path())?;
        let signed = receipt::sign(&key, receipt);
        let bytes = serde_json::to_vec(&signed).expect("an envelope serialises");
        self.keep_receipt(&bytes)?;
        let posted = client.post_receipt(&bytes).map_err(|e| e.to_string());
        Ok((signed, posted))
    }

    /// Record a drill run from the vault's own copy in the ledger (so it
    /// survives restarts and every later receipt carries it). The caller
    /// holds the folder's lock ([`Folder::lock`]), as a pull does.
    pub fn record_drill(&self, drill: &DrillReport) -> Result<(), VaultError> {
        let (mut l, st) = Ledger::open(&self.folder.ledger_path())?;
        let at = st.last_time.map_or_else(OffsetDateTime::now_utc, |t| {
            t.max(OffsetDateTime::now_utc())
        });
        l.append(at, &Event::Drill(drill.clone()))?;
        Ok(())
    }

    /// Make, sign, keep and post a receipt of the vault's state now,
    /// without pulling (after a drill, so that the primary learns of it at
    /// once). Its pull is the ledger's last one. Posting may fail (`Err`
    /// in the second part): the vault keeps the receipt, and every later
    /// one carries the same drills.
    pub fn post_state(
        &self,
        tick: &Tick,
        firewall: FirewallReport,
    ) -> Result<(Receipt, Result<(), String>), VaultError> {
        let mut receipt = self.receipt(tick, None, firewall)?;
        if let Some(last) = self.state()?.last_pull {
            receipt.pull = last;
        }
        let posted = match self.client() {
            Ok(client) => self.sign_and_post(&client, &receipt)?.1,
            Err(e) => Err(e.to_string()),
        };
        Ok((receipt, posted))
    }

    fn keep_receipt(&self, bytes: &[u8]) -> Result<(), VaultError> {
        let dir = self.folder.receipts();
        std::fs::create_dir_all(&dir).map_err(|e| VaultError::Folder(e.to_string()))?;
        let p = dir.join(format!(
            "{}.json",
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        write_new(&p, bytes, 0o644)
    }

    /// The vault's state as a receipt (unsigned): what `status` shows and
    /// what a pull signs.
    pub fn receipt(
        &self,
        tick: &Tick,
        pull: Option<&PullOutcome>,
        firewall: FirewallReport,
    ) -> Result<Receipt, VaultError> {
        let (ledger, state) = Ledger::open(&self.folder.ledger_path())?;
        let reading = clock::read(
            tick,
            state.last_time,
            state.last_tick.as_ref(),
            &state.clock,
            state.frozen.as_deref(),
            &self.config.clock(),
        );
        let (immutable, unsealed) = self.immutable_report()?;
        let mut generations = Vec::new();
        let mut gens: Vec<_> = state.generations.values().collect();
        gens.sort_by(|a, b| a.stored.cmp(&b.stored).then(a.snapshot.cmp(&b.snapshot)));
        for g in gens {
            let whole = ledger.objects(&g.snapshot)?.iter().all(|o| {
                let p = self.folder.object_path(o.kind, &o.name);
                self.folder.held(o.kind, &o.name).is_some()
                    && !unsealed.contains(&p.display().to_string())
            });
            generations.push(Held {
                snapshot: g.snapshot.clone(),
                source: g.source.clone(),
                time: g.taken.clone(),
                stored: g.stored.clone(),
                retain_until: g.retain_until.clone(),
                immutable: whole,
            });
        }
        let findings = state
            .findings
            .iter()
            .rev()
            .take(100)
            .rev()
            .map(|(seq, time, f)| FindingReport {
                seq: *seq,
                time: time.clone(),
                kind: f.kind.clone(),
                detail: f.detail.clone(),
            })
            .collect();
        Ok(Receipt {
            version: 1,
            vault: self.config.name.clone(),
            repository: state.repository.clone().unwrap_or_default(),
            issued: ledger::fmt(reading.now),
            clock: receipt::ClockReport {
                state: reading.state.word().into(),
                wall: ledger::fmt(tick.wall),
            },
            ledger_head: state.head.clone(),
            ledger_rows: state.rows,
            pull: match pull {
                Some(p) => PullReport {
                    state: if p.error.is_some() { "failed" } else { "ok" }.into(),
                    added: p.added.len() as u64,
                    bytes: p.bytes,
                    error: p.error.clone(),
                },
                None => PullReport {
                    state: "none".into(),
                    added: 0,
                    bytes: 0,
                    error: None,
                },
            },
            immutable,
            firewall,
            generations,
            findings,
            findings_total: state.findings.len() as u64,
            drills: recent_drills(&state.drills, reading.now),
        })
    }

    fn immutable_report(&self) -> Result<(ImmutableReport, BTreeSet<String>), VaultError> {
        let mut checked = 0;
        let mut without = BTreeSet::new();
        for (p, _) in self
            .folder
            .objects()
            .map_err(|e| VaultError::Folder(e.to_string()))?
        {
            checked += 1;
            if !immutable::is_immutable(&p).unwrap_or(false) {
                without.insert(p.display().to_string());
            }
        }
        Ok((
            ImmutableReport {
                checked,
                without_flag: without.iter().take(20).cloned().collect(),
                without_flag_total: without.len() as u64,
            },
            without,
        ))
    }

    /// The ledger's state (for `status`).
    pub fn state(&self) -> Result<State, VaultError> {
        Ok(Ledger::open(&self.folder.ledger_path())?.1)
    }

    /// Accept the wall clock after a freeze (at the vault's console).
    pub fn accept_clock(&self, tick: &Tick, by: &str) -> Result<bool, VaultError> {
        let _lock = self
            .folder
            .lock()
            .map_err(|e| VaultError::Folder(e.to_string()))?;
        let (mut l, st) = Ledger::open(&self.folder.ledger_path())?;
        if st.frozen.is_none() {
            return Ok(false);
        }
        let at = st.last_time.map_or(tick.wall, |t| t.max(tick.wall));
        l.append(
            at,
            &Event::ClockAccepted {
                wall: ledger::fmt(tick.wall),
                by: by.into(),
            },
        )?;
        l.append(at, &Event::Tick(tick.clone()))?;
        Ok(true)
    }

    /// Acknowledge every finding so far.
    pub fn acknowledge(&self, by: &str) -> Result<u64, VaultError> {
        let _lock = self
            .folder
            .lock()
            .map_err(|e| VaultError::Folder(e.to_string()))?;
        let (mut l, st) = Ledger::open(&self.folder.ledger_path())?;
        let n = st.findings.len() as u64;
        if let Some((upto, _, _)) = st.findings.last() {
            let at = st.last_time.unwrap_or_else(OffsetDateTime::now_utc);
            l.append(
                at,
                &Event::FindingsAcknowledged {
                    upto: *upto,
                    by: by.into(),
                },
            )?;
        }
        Ok(n)
    }

    /// The nftables ruleset this vault's configuration asks for: the
    /// primary's export (its host resolved now, every address it has), the
    /// NTP and DNS servers, the notification targets.
    pub fn ruleset(&self) -> Result<Ruleset, FirewallError> {
        use std::net::ToSocketAddrs;
        let fw = &self.config.firewall;
        let with_port = authority(&self.config.primary);
        let primary: Vec<SocketAddr> = with_port
            .to_socket_addrs()
            .map_err(|e| {
                FirewallError::Invalid(format!(
                    "the primary {} could not be resolved to an address ({e}): \
                     write its IP address in vault.toml's `primary`",
                    self.config.primary
                ))
            })?
            .collect();
        let ip = |what: &str, s: &String| {
            s.parse::<IpAddr>().map_err(|_| {
                FirewallError::Invalid(format!(
                    "vault.toml [firewall] {what}: {s:?} is not an IP address"
                ))
            })
        };
        let ntp = fw
            .ntp
            .iter()
            .map(|s| ip("ntp", s))
            .collect::<Result<_, _>>()?;
        let dns = fw
            .dns
            .iter()
            .map(|s| ip("dns", s))
            .collect::<Result<_, _>>()?;
        let notify = fw
            .notify
            .iter()
            .map(|s| {
                s.parse::<SocketAddr>().map_err(|_| {
                    FirewallError::Invalid(format!(
                        "vault.toml [firewall] notify: {s:?} is not ip:port"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let r = Ruleset {
            primary,
            ntp,
            notify,
            dns,
        };
        r.validate()?;
        Ok(r)
    }

    /// The network check as the receipt reports it: `ok`, `differs` (with
    /// each difference), `unchecked` (why the check could not be made), or
    /// `not-enforced` when vault.toml says `[firewall] enforce = false`
    /// (the primary then never counts the vault as ⑤-1).
    pub fn firewall_report(&self) -> FirewallReport {
        if !self.config.firewall.enforce {
            return FirewallReport {
                state: "not-enforced".into(),
                detail: vec!["vault.toml [firewall] enforce = false".into()],
            };
        }
        match self.ruleset().and_then(|r| firewall::check(&r)) {
            Ok(c) => c.report(),
            Err(e) => firewall::unchecked(&e),
        }
    }

    /// Apply retention now, without pulling.
    pub fn expire(&self, tick: &Tick) -> Result<crate::expire::Expired, VaultError> {
        crate::expire::run(&self.folder, &self.config, tick)
    }

    /// Does the vault hold `kind name`? (For restore's messages.)
    pub fn holds(&self, kind: Kind, name: &str) -> bool {
        self.folder.held(kind, name).is_some()
    }
}

/// `https://host[:port]/…` → `host:port` (443 when the URL has none),
/// with IPv6 literals kept in brackets.
fn authority(url: &str) -> String {
    let a = url
        .strip_prefix("https://")
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or_default();
    let has_port = match a.rfind(']') {
        Some(close) => a[close..].starts_with("]:"),
        None => a.contains(':'),
    };
    if has_port {
        a.to_string()
    } else {
        format!("{a}:443")
    }
}

/// The drills started in the last [`DRILLS_FOR_DAYS`] days before `now`
/// (a drill whose start cannot be read is kept: the primary says so).
fn recent_drills(drills: &[DrillReport], now: OffsetDateTime) -> Vec<DrillReport> {
    let since = now - time::Duration::days(DRILLS_FOR_DAYS);
    drills
        .iter()
        .filter(|d| ledger::parse(&d.started).is_none_or(|t| t >= since))
        .cloned()
        .collect()
}

/// What one scheduled or manual pull did.
pub struct Night {
    /// The pull.
    pub outcome: PullOutcome,
    /// The retention run after it.
    pub expired: crate::expire::Expired,
    /// The receipt made.
    pub receipt: Receipt,
    /// The receipt signed.
    pub signed: Signed,
    /// Whether the primary took it (`Err` says why not; the vault keeps it
    /// in `receipts/` and the next pull's receipt supersedes it).
    pub posted: Result<(), String>,
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn the_primary_url_gives_the_address_the_firewall_allows() {
        assert_eq!(authority("https://10.0.0.5:7443"), "10.0.0.5:7443");
        assert_eq!(authority("https://primary.local"), "primary.local:443");
        assert_eq!(authority("https://[fd00::5]:7443/"), "[fd00::5]:7443");
        assert_eq!(authority("https://[fd00::5]"), "[fd00::5]:443");
    }
}
