//! Applying one event to the projection tables.
//!
//! This is the only code that writes the projection. It also checks the
//! event against what is already known (a move of a medium nobody added, a
//! second medium with the same id) and refuses it with a [`CatalogError`]
//! variant, before anything is written: the caller's transaction then rolls
//! back, so a refused event leaves no trace in the log either. Replaying a
//! valid log through the same code gives the same tables, which is what
//! `catalog verify` checks.

use rusqlite::{params, OptionalExtension, Transaction};

use hokan_offline::{Condition, MediumId, SnapshotId};

use crate::event::Event;
use crate::{enum_text, json, ts, CatalogError, Result};

pub(crate) fn apply(tx: &Transaction<'_>, seq: u64, at: &str, event: &Event) -> Result<()> {
    match event {
        Event::SourceDeclared { source } => {
            tx.execute(
                "INSERT OR IGNORE INTO sources (name, declared_at) VALUES (?1, ?2)",
                params![source.as_str(), at],
            )?;
        }
        Event::SnapshotRecorded {
            snapshot,
            source,
            taken_at,
            hostname,
            paths,
            bytes,
            files,
            partial,
        } => {
            if snapshot_known(tx, snapshot)? {
                return Err(CatalogError::SnapshotExists(snapshot.clone()));
            }
            tx.execute(
                "INSERT OR IGNORE INTO sources (name, declared_at) VALUES (?1, ?2)",
                params![source.as_str(), at],
            )?;
            tx.execute(
                "INSERT INTO snapshots (id, source, taken_at, hostname, paths, bytes, files, \
                 partial, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    snapshot.as_str(),
                    source.as_str(),
                    ts(*taken_at),
                    hostname,
                    json(paths),
                    *bytes as i64,
                    *files as i64,
                    *partial,
                    at
                ],
            )?;
        }
        Event::SnapshotForgotten { snapshot } => {
            need_snapshot(tx, snapshot)?;
            tx.execute(
                "UPDATE snapshots SET forgotten_at = ?2 WHERE id = ?1",
                params![snapshot.as_str(), at],
            )?;
        }
        Event::MediumAdded {
            medium,
            kind,
            pool,
            label,
            capacity,
            note,
        } => {
            if medium_condition(tx, medium)?.is_some() {
                return Err(CatalogError::MediumExists(medium.clone()));
            }
            tx.execute(
                "INSERT INTO media (id, kind, pool, label, capacity, note, condition, added_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    medium.as_str(),
                    enum_text(kind),
                    pool.as_ref().map(|p| p.as_str()),
                    label,
                    capacity.map(|c| c as i64),
                    note,
                    enum_text(&Condition::Writable),
                    at
                ],
            )?;
        }
        Event::MediumCondition {
            medium, condition, ..
        } => {
            need_medium(tx, medium)?;
            tx.execute(
                "UPDATE media SET condition = ?2 WHERE id = ?1",
                params![medium.as_str(), enum_text(condition)],
            )?;
        }
        Event::MediumLocated {
            medium,
            at: when,
            location,
            by,
            note,
        } => {
            need_medium(tx, medium)?;
            tx.execute(
                "INSERT INTO locations (seq, medium, at, location, by, note) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    seq as i64,
                    medium.as_str(),
                    ts(*when),
                    json(location),
                    json(by),
                    note
                ],
            )?;
        }
        Event::CopyRecorded {
            snapshot,
            medium,
            since,
            complete,
            with,
        } => {
            need_snapshot(tx, snapshot)?;
            for m in std::iter::once(medium).chain(with) {
                if need_medium(tx, m)? == Condition::Retired {
                    return Err(CatalogError::MediumRetired(m.clone()));
                }
            }
            // Recording again updates: a partial copy becomes complete.
            tx.execute(
                "INSERT INTO copies (snapshot, medium, since, complete, with_media) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (snapshot, medium) DO UPDATE SET since = ?3, complete = ?4, \
                 with_media = ?5",
                params![
                    snapshot.as_str(),
                    medium.as_str(),
                    ts(*since),
                    *complete,
                    json(with)
                ],
            )?;
        }
        Event::MediaSetStarted {
            set,
            pool,
            at: when,
        } => {
            let n = tx.execute(
                "INSERT OR IGNORE INTO media_sets (id, pool, started_at) VALUES (?1, ?2, ?3)",
                params![set, pool.as_str(), ts(*when)],
            )?;
            if n == 0 {
                return Err(CatalogError::SetExists(set.clone()));
            }
        }
        Event::CartridgeLabeled {
            medium,
            set,
            seq,
            at: when,
        } => {
            if need_medium(tx, medium)? == Condition::Retired {
                return Err(CatalogError::MediumRetired(medium.clone()));
            }
            need_set(tx, set)?;
            let held: i64 = tx.query_row(
                "SELECT COUNT(*) FROM copies WHERE medium = ?1",
                [medium.as_str()],
                |r| r.get(0),
            )?;
            if held > 0 {
                return Err(CatalogError::CartridgeHoldsCopies {
                    medium: medium.clone(),
                    count: held as u64,
                });
            }
            tx.execute(
                "INSERT INTO set_cartridges (media_set, seq, medium, labeled_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![set, *seq, medium.as_str(), ts(*when)],
            )
            .map_err(|_| CatalogError::SetSeqTaken {
                set: set.clone(),
                seq: *seq,
            })?;
        }
        Event::MediaSetClosed {
            set,
            at: when,
            complete,
            snapshots,
            retained_until,
        } => {
            need_set(tx, set)?;
            tx.execute(
                "UPDATE media_sets SET closed_at = ?2, complete = ?3, snapshots = ?4, \
                 retained_until = ?5 WHERE id = ?1",
                params![
                    set,
                    ts(*when),
                    *complete,
                    json(snapshots),
                    ts(*retained_until)
                ],
            )?;
        }
        Event::CopyVerified {
            snapshot,
            medium,
            at: when,
            ok,
            ..
        } => {
            need_copy(tx, snapshot, medium)?;
            tx.execute(
                "UPDATE copies SET verified_at = ?3, verified_ok = ?4 \
                 WHERE snapshot = ?1 AND medium = ?2",
                params![snapshot.as_str(), medium.as_str(), ts(*when), *ok],
            )?;
        }
        Event::CopyRemoved {
            snapshot, medium, ..
        } => {
            need_copy(tx, snapshot, medium)?;
            tx.execute(
                "DELETE FROM copies WHERE snapshot = ?1 AND medium = ?2",
                params![snapshot.as_str(), medium.as_str()],
            )?;
        }
        Event::Protected {
            medium,
            snapshot,
            at: when,
            mode,
            retention,
        } => {
            need_medium(tx, medium)?;
            need_snapshot(tx, snapshot)?;
            tx.execute(
                "INSERT INTO protections (seq, medium, snapshot, at, mode, retention) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    seq as i64,
                    medium.as_str(),
                    snapshot.as_str(),
                    ts(*when),
                    enum_text(mode),
                    json(retention)
                ],
            )?;
        }
        Event::LockProbed {
            medium,
            at: when,
            outcome,
            detail,
        } => {
            need_medium(tx, medium)?;
            tx.execute(
                "INSERT INTO lock_probes (seq, medium, at, outcome, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    seq as i64,
                    medium.as_str(),
                    ts(*when),
                    enum_text(outcome),
                    detail
                ],
            )?;
        }
        Event::Attested { attestation } => {
            let a = attestation;
            if a.expires_at <= a.valid_from {
                return Err(CatalogError::BadPeriod {
                    from: a.valid_from,
                    until: a.expires_at,
                });
            }
            let exists: Option<String> = tx
                .query_row(
                    "SELECT id FROM attestations WHERE id = ?1",
                    [a.id.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(CatalogError::AttestationExists(a.id.clone()));
            }
            tx.execute(
                "INSERT INTO attestations (id, body, recorded_at) VALUES (?1, ?2, ?3)",
                params![a.id.as_str(), json(a), at],
            )?;
        }
        Event::AttestationWithdrawn {
            attestation,
            at: when,
            by,
            reason,
        } => {
            let body: Option<String> = tx
                .query_row(
                    "SELECT body FROM attestations WHERE id = ?1",
                    [attestation.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(body) = body else {
                return Err(CatalogError::UnknownAttestation(attestation.clone()));
            };
            let mut a: hokan_offline::Attestation = serde_json::from_str(&body)
                .map_err(|e| CatalogError::corrupt(seq, format!("attestation body: {e}")))?;
            if a.withdrawn_at.is_some() {
                return Err(CatalogError::AlreadyWithdrawn(attestation.clone()));
            }
            a.withdrawn_at = Some(*when);
            tx.execute(
                "UPDATE attestations SET body = ?2, withdrawn_by = ?3, withdrawn_reason = ?4 \
                 WHERE id = ?1",
                params![attestation.as_str(), json(&a), by.as_str(), reason],
            )?;
        }
        Event::JobFinished {
            job,
            target,
            started_at,
            finished_at,
            outcome,
            detail,
        } => {
            tx.execute(
                "INSERT INTO jobs (seq, job, target, started_at, finished_at, outcome, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    seq as i64,
                    job,
                    target,
                    ts(*started_at),
                    ts(*finished_at),
                    outcome,
                    json(detail)
                ],
            )?;
        }
        Event::Drilled {
            snapshot,
            medium,
            started_at,
            seconds,
            ok,
            by,
            detail,
            measured,
        } => {
            need_snapshot(tx, snapshot)?;
            need_medium(tx, medium)?;
            let m = measured.as_ref();
            tx.execute(
                "INSERT INTO drills (seq, snapshot, medium, started_at, seconds, ok, by, detail, \
                 kind, source, target, first_file_secs, bytes, throughput, files_checked, \
                 app_check, failures, projected_secs, rto_secs) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18, ?19)",
                params![
                    seq as i64,
                    snapshot.as_str(),
                    medium.as_str(),
                    ts(*started_at),
                    seconds,
                    *ok,
                    by.as_ref().map(|p| p.as_str()),
                    detail,
                    m.map(|m| m.kind.as_str()),
                    m.map(|m| m.source.as_str()),
                    m.map(|m| m.target.as_str()),
                    m.and_then(|m| m.first_file_secs),
                    m.map(|m| m.bytes as i64),
                    m.map(|m| m.throughput),
                    m.map(|m| m.files_checked as i64),
                    m.and_then(|m| m.app_check).map(|a| a.as_str()),
                    m.map(|m| json(&m.failures)),
                    m.and_then(|m| m.projected_secs),
                    m.and_then(|m| m.rto_secs),
                ],
            )?;
        }
        Event::VaultReceipt { key, file, receipt } => {
            need_medium(tx, &receipt.vault)?;
            let n = tx.execute(
                "INSERT OR IGNORE INTO vault_receipts (seq, key, vault, issued, file, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    seq as i64,
                    key,
                    receipt.vault.as_str(),
                    ts(receipt.issued),
                    file,
                    json(receipt)
                ],
            )?;
            if n == 0 {
                return Err(CatalogError::ReceiptExists(key.clone()));
            }
        }
        Event::NotificationQueued { .. }
        | Event::NotificationFailed { .. }
        | Event::NotificationSent { .. }
        | Event::NotificationAbandoned { .. } => crate::notification::apply(tx, at, event)?,
        // The log is the record; no table follows it.
        Event::WebAccess { .. } | Event::AlertAcknowledged { .. } => {}
    }
    Ok(())
}

fn snapshot_known(tx: &Transaction<'_>, s: &SnapshotId) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM snapshots WHERE id = ?1",
            [s.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn need_snapshot(tx: &Transaction<'_>, s: &SnapshotId) -> Result<()> {
    if snapshot_known(tx, s)? {
        Ok(())
    } else {
        Err(CatalogError::UnknownSnapshot(s.clone()))
    }
}

fn medium_condition(tx: &Transaction<'_>, m: &MediumId) -> Result<Option<Condition>> {
    let c: Option<String> = tx
        .query_row(
            "SELECT condition FROM media WHERE id = ?1",
            [m.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    c.map(|c| crate::parse_enum(&c)).transpose()
}

fn need_set(tx: &Transaction<'_>, set: &str) -> Result<()> {
    let found: Option<i64> = tx
        .query_row("SELECT 1 FROM media_sets WHERE id = ?1", [set], |r| {
            r.get(0)
        })
        .optional()?;
    match found {
        Some(_) => Ok(()),
        None => Err(CatalogError::UnknownSet(set.to_owned())),
    }
}

fn need_medium(tx: &Transaction<'_>, m: &MediumId) -> Result<Condition> {
    medium_condition(tx, m)?.ok_or_else(|| CatalogError::UnknownMedium(m.clone()))
}

fn need_copy(tx: &Transaction<'_>, s: &SnapshotId, m: &MediumId) -> Result<()> {
    let found = tx
        .query_row(
            "SELECT 1 FROM copies WHERE snapshot = ?1 AND medium = ?2",
            [s.as_str(), m.as_str()],
            |_| Ok(()),
        )
        .optional()?;
    found.ok_or_else(|| CatalogError::UnknownCopy {
        snapshot: s.clone(),
        medium: m.clone(),
    })
}
