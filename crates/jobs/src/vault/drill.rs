//! `hokan vault drill`: a restore drill run **on the vault**, from the
//! vault's own `repo/` alone, into a scratch folder, checked file by file
//! against the snapshot ([`crate::drill::run`]), with the application check
//! of vault.toml's `[[drill]]`; recorded in the vault's hash-chained ledger
//! and carried by every receipt of the next
//! [`hokan_vault::receipt::DRILLS_FOR_DAYS`] days. The
//! primary cannot reach the vault, so it learns of the drill only from a
//! signed receipt ([`super::ingest`] records it as a `drilled` event).
//!
//! A damaged object is a failed drill naming it, never an error: an error
//! is only for a drill that could not be attempted (nothing to drill, a
//! refused scratch folder, a ledger that does not verify).

use std::path::{Path, PathBuf};

use hokan_format::Id;
use hokan_repo::Repository;
use hokan_site::{Command, DrillCheck};
use hokan_vault::clock::Tick;
use hokan_vault::config::{DrillCommand, VaultConfig};
use hokan_vault::ledger::{self, GenerationRecord};
use hokan_vault::ops::Vault;
use hokan_vault::receipt::{DrillFailureReport, DrillReport, FirewallReport, Receipt};
use hokan_vault::VaultError;
use time::OffsetDateTime;

use crate::drill::{DrillRun, DrillStats};
use crate::JobError;

/// What to drill and how.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// This generation (a snapshot name or a unique prefix) instead of
    /// each source's newest.
    pub snapshot: Option<String>,
    /// Only this source.
    pub source: Option<String>,
    /// The scratch folder (default: a new folder under the temporary
    /// folder); with several sources, one subfolder per source.
    pub target: Option<PathBuf>,
    /// Keep the restored files.
    pub keep: bool,
    /// Who runs it.
    pub by: String,
}

/// Why a vault drill could not be attempted.
#[derive(Debug, thiserror::Error)]
pub enum VaultDrillError {
    /// The vault's folder, ledger or configuration.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The scratch folder was refused ([`crate::drill::check_target`]).
    #[error(transparent)]
    Target(#[from] JobError),
    /// No generation the vault holds matches.
    #[error(
        "no generation held by the vault matches (source {source_name:?}, snapshot {snapshot:?})"
    )]
    NothingToDrill {
        /// The source asked for.
        source_name: Option<String>,
        /// The snapshot asked for.
        snapshot: Option<String>,
    },
    /// A `[[drill]]` of vault.toml that cannot be used.
    #[error("vault.toml [[drill]] source = {source_name:?}: {message}")]
    BadCheck {
        /// Its source.
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// One drill done.
#[derive(Debug)]
pub struct Done {
    /// The generation, as the vault's ledger records it.
    pub generation: GenerationRecord,
    /// Where it was restored.
    pub target: PathBuf,
    /// What was measured and found.
    pub stats: DrillStats,
    /// What the ledger recorded and the receipts carry.
    pub report: DrillReport,
}

/// Every drill done, and the receipt posted after them.
#[derive(Debug)]
pub struct Drills {
    /// The drills, by source.
    pub done: Vec<Done>,
    /// The receipt made after the drills (it carries them).
    pub receipt: Receipt,
    /// Whether the primary took it (`Err`: why not; the drills are
    /// recorded all the same, and the next receipt carries them).
    pub posted: Result<(), String>,
}

impl Drills {
    /// Every drill passed.
    pub fn ok(&self) -> bool {
        self.done.iter().all(|d| d.stats.ok())
    }
}

/// The generations to drill: per source, the newest the vault holds (by
/// the time it was taken), or the one `request.snapshot` names.
pub fn choose(vault: &Vault, request: &Request) -> Result<Vec<GenerationRecord>, VaultDrillError> {
    let state = vault.state()?;
    let mut gens: Vec<&GenerationRecord> = state
        .generations
        .values()
        .filter(|g| request.source.as_deref().is_none_or(|s| s == g.source))
        .filter(|g| {
            request
                .snapshot
                .as_deref()
                .is_none_or(|s| !s.is_empty() && g.snapshot.starts_with(s))
        })
        .collect();
    // Newest first: by the time taken, then stored.
    gens.sort_by_key(|g| std::cmp::Reverse((ledger::parse(&g.taken), ledger::parse(&g.stored))));
    let mut picks: Vec<GenerationRecord> = Vec::new();
    for g in gens {
        if !picks.iter().any(|p| p.source == g.source) {
            picks.push(g.clone());
        }
    }
    if picks.is_empty() {
        return Err(VaultDrillError::NothingToDrill {
            source_name: request.source.clone(),
            snapshot: request.snapshot.clone(),
        });
    }
    picks.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(picks)
}

/// The application check vault.toml gives `source`.
pub fn app_check(
    config: &VaultConfig,
    source: &str,
) -> Result<Option<DrillCheck>, VaultDrillError> {
    let Some(d) = config.drill.iter().find(|d| d.source == source) else {
        return Ok(None);
    };
    let bad = |message: String| VaultDrillError::BadCheck {
        source_name: source.to_owned(),
        message,
    };
    let timeout = match &d.timeout {
        None => time::Duration::minutes(10),
        Some(t) => hokan_offline::span::parse(t)
            .map_err(|e| bad(format!("timeout {t:?}: {e} (write e.g. \"30m\")")))?,
    };
    if timeout <= time::Duration::ZERO || timeout > time::Duration::days(7) {
        return Err(bad(format!(
            "timeout {:?} must be from 1s to 7d",
            d.timeout.as_deref().unwrap_or_default()
        )));
    }
    let check = match &d.check {
        DrillCommand::Argv(v) => Command::Argv(v.clone()),
        DrillCommand::Shell(s) => Command::Shell(s.clone()),
    };
    Ok(Some(DrillCheck { check, timeout }))
}

/// Drill each generation [`choose`] picks, from `repo` (the vault's own
/// `repo/`, opened by the caller with the repository's key), record each
/// drill in the vault's ledger, then make, keep and post a receipt that
/// carries them, at the compliance clock's `tick` read once the drills
/// are done. The vault's lock is held while drilling, so no pull or
/// expiry changes the folder meanwhile.
pub fn run(
    vault: &Vault,
    repo: &Repository,
    request: &Request,
    tick: impl FnOnce() -> Tick,
    firewall: FirewallReport,
) -> Result<Drills, VaultDrillError> {
    let picks = choose(vault, request)?;
    let checks = picks
        .iter()
        .map(|g| app_check(&vault.config, &g.source))
        .collect::<Result<Vec<_>, _>>()?;
    let stamp = OffsetDateTime::now_utc().unix_timestamp();
    let targets: Vec<PathBuf> = picks
        .iter()
        .map(|g| match &request.target {
            Some(t) if picks.len() == 1 => t.clone(),
            Some(t) => t.join(&g.source),
            None => std::env::temp_dir().join(format!(
                "hokan-vault-drill-{}-{stamp}-{}",
                g.source,
                std::process::id()
            )),
        })
        .collect();
    for t in &targets {
        crate::drill::check_target(t, std::iter::empty())?;
    }
    let mut done = Vec::new();
    {
        let _lock = vault
            .folder
            .lock()
            .map_err(|e| VaultError::Folder(e.to_string()))?;
        for ((generation, target), check) in picks.into_iter().zip(targets).zip(checks) {
            let started = OffsetDateTime::now_utc();
            let stats = drill_one(repo, &generation, &target, check.as_ref(), request.keep);
            let report = report(&generation, started, &stats, &request.by);
            vault.record_drill(&report)?;
            done.push(Done {
                generation,
                target,
                stats,
                report,
            });
        }
    }
    // The clock is read after the drills: the ledger rows they added are
    // stamped when each ended, and a receipt older than its ledger would
    // read as a clock that went back.
    let (receipt, posted) = vault.post_state(&tick(), firewall)?;
    Ok(Drills {
        done,
        receipt,
        posted,
    })
}

fn drill_one(
    repo: &Repository,
    g: &GenerationRecord,
    target: &Path,
    check: Option<&DrillCheck>,
    keep: bool,
) -> DrillStats {
    let id = match Id::from_hex(&g.snapshot) {
        Ok(id) => id,
        Err(e) => {
            return DrillStats {
                failures: vec![hokan_catalog::DrillFailure {
                    what: format!("snapshot {}", g.snapshot),
                    why: e.to_string(),
                }],
                ..DrillStats::default()
            }
        }
    };
    crate::drill::run(
        &DrillRun {
            repo,
            snapshot: &id,
            target,
            check,
            keep,
            // The projection is the primary's: it knows the source's size
            // and its recovery-time target.
            whole_bytes: None,
            rto: None,
            before: std::time::Duration::ZERO,
        },
        &hokan_repo::NoProgress,
    )
}

fn report(g: &GenerationRecord, started: OffsetDateTime, st: &DrillStats, by: &str) -> DrillReport {
    DrillReport {
        source: g.source.clone(),
        snapshot: g.snapshot.clone(),
        started: ledger::fmt(started),
        seconds: st.seconds,
        first_file_secs: st.first_file_secs,
        bytes: st.bytes,
        throughput: st.throughput,
        files_checked: st.files_checked,
        app_check: st.app_check.map(|c| c.as_str().to_owned()),
        failures: st
            .failures
            .iter()
            .map(|f| DrillFailureReport {
                what: f.what.clone(),
                why: f.why.clone(),
            })
            .collect(),
        by: by.to_owned(),
    }
}
