//! Reading the catalog: the facts for the evaluator, and rows for listings.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use hokan_offline::{
    Attestation, Condition, Copy, Drill, Facts, Generation, LockProbe, Medium, MediumId,
    MediumKind, Observation, PoolName, Protection, SnapshotId, SourceName, VaultReceipt,
};

use crate::event::{AppCheck, DrillMeasures, Event};
use crate::{from_json, parse_enum, parse_ts, Catalog, CatalogError, EventRecord, Result};

/// One medium as listings show it.
#[derive(Clone, Debug, Serialize)]
pub struct MediumRow {
    /// Its id.
    pub id: MediumId,
    /// Its kind.
    pub kind: MediumKind,
    /// Its pool.
    pub pool: Option<PoolName>,
    /// Printed label or barcode, if different from the id.
    pub label: Option<String>,
    /// Capacity in bytes.
    pub capacity: Option<u64>,
    /// Free text.
    pub note: Option<String>,
    /// Its condition.
    pub condition: Condition,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    /// Its latest recorded location (by recording order; the evaluator
    /// decides by time).
    pub location: Option<Observation>,
    /// Complete copies it holds.
    pub copies: u64,
}

/// One snapshot as listings show it.
#[derive(Clone, Debug, Serialize)]
pub struct SnapshotRow {
    /// Full id.
    pub id: SnapshotId,
    /// Its source.
    pub source: SourceName,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    /// Host.
    pub hostname: String,
    /// Bytes of content.
    pub bytes: u64,
    /// Files.
    pub files: u64,
    /// Some files could not be read.
    pub partial: bool,
    /// When it left the primary repository, if it did.
    #[serde(with = "time::serde::rfc3339::option")]
    pub forgotten_at: Option<OffsetDateTime>,
}

/// One finished job.
#[derive(Clone, Debug, Serialize)]
pub struct JobRow {
    /// Its event number.
    pub seq: u64,
    /// Kind of job.
    pub job: String,
    /// What it worked on.
    pub target: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// End.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// `ok`, `partial`, `failed`.
    pub outcome: String,
    /// Figures.
    pub detail: serde_json::Value,
}

/// One restore drill.
#[derive(Clone, Debug, Serialize)]
pub struct DrillRow {
    /// Its event number.
    pub seq: u64,
    /// Snapshot.
    pub snapshot: SnapshotId,
    /// Medium.
    pub medium: MediumId,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Seconds taken.
    pub seconds: f64,
    /// Whether it matched.
    pub ok: bool,
    /// Who ran it.
    pub by: Option<String>,
    /// Notes.
    pub detail: Option<String>,
    /// What `hokan drill` measured (`None` for drills recorded before it).
    pub measured: Option<DrillMeasures>,
}

/// One check that a copy on a medium reads back (`copy-verified`): a tape
/// or disk job's read-back after writing, or a later verify of the medium.
#[derive(Clone, Debug, Serialize)]
pub struct CopyVerifyRow {
    /// Its event number.
    pub seq: u64,
    /// Snapshot.
    pub snapshot: SnapshotId,
    /// Medium.
    pub medium: MediumId,
    /// When it was checked.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether it read back correctly.
    pub ok: bool,
    /// Who recorded it (the event's actor: `hokan tape`, `hokan disk`…).
    pub actor: String,
    /// What was checked, or what failed.
    pub detail: Option<String>,
}

/// One tape media set.
#[derive(Clone, Debug, Serialize)]
pub struct MediaSetRow {
    /// Its id.
    pub id: String,
    /// Its pool.
    pub pool: String,
    /// When the first job began it.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it was closed, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// Whether its final catalog was written.
    pub complete: bool,
    /// The snapshots it holds completely.
    pub snapshots: Vec<SnapshotId>,
    /// No cartridge of it may be overwritten before this.
    #[serde(with = "time::serde::rfc3339::option")]
    pub retained_until: Option<OffsetDateTime>,
    /// Its cartridges, in order (seq from 1).
    pub cartridges: Vec<MediumId>,
}

fn opt_ts(s: Option<String>) -> Result<Option<OffsetDateTime>> {
    s.as_deref().map(parse_ts).transpose()
}

impl Catalog {
    /// Everything the evaluator needs, as of now (the evaluator ignores
    /// facts stamped after the `now` it is given).
    pub fn facts(&self) -> Result<Facts> {
        let mut f = Facts::default();
        let mut names: Vec<String> = self.strings("SELECT name FROM sources ORDER BY name")?;
        names.dedup();
        f.sources = names.into_iter().map(SourceName::new).collect();
        f.generations = self
            .snapshots()?
            .into_iter()
            .map(|s| Generation {
                snapshot: s.id,
                source: s.source,
                taken_at: s.taken_at,
            })
            .collect();
        f.media = self
            .media()?
            .into_iter()
            .map(|m| Medium {
                id: m.id,
                kind: m.kind,
                pool: m.pool,
                condition: m.condition,
            })
            .collect();
        f.copies = self.copies()?;
        f.observations = self.locations(None)?;
        let mut stmt = self.conn.prepare(
            "SELECT medium, snapshot, at, mode, retention FROM protections ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (m, s, at, mode, ret) = row?;
            f.protections.push(Protection {
                medium: m.into(),
                snapshot: s.into(),
                recorded_at: parse_ts(&at)?,
                mode: parse_enum(&mode)?,
                retention: from_json(&ret)?,
            });
        }
        let mut stmt = self
            .conn
            .prepare("SELECT medium, at, outcome, detail FROM lock_probes ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (m, at, outcome, detail) = row?;
            f.probes.push(LockProbe {
                medium: m.into(),
                at: parse_ts(&at)?,
                outcome: parse_enum(&outcome)?,
                detail,
            });
        }
        f.attestations = self.attestations()?;
        f.receipts = self.vault_receipts(None)?;
        f.drills = self
            .drills(usize::MAX >> 1)?
            .into_iter()
            .rev()
            .map(|d| Drill {
                medium: d.medium,
                started_at: d.started_at,
                ok: d.ok,
            })
            .collect();
        Ok(f)
    }

    /// The vaults' signed receipts as recorded (all vaults, or one), in
    /// the order they were recorded.
    pub fn vault_receipts(&self, vault: Option<&MediumId>) -> Result<Vec<VaultReceipt>> {
        let bodies: Vec<String> = match vault {
            None => self.strings("SELECT body FROM vault_receipts ORDER BY seq")?,
            Some(v) => {
                let mut stmt = self
                    .conn
                    .prepare("SELECT body FROM vault_receipts WHERE vault = ?1 ORDER BY seq")?;
                let rows = stmt.query_map([v.as_str()], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            }
        };
        bodies.iter().map(|b| from_json(b)).collect()
    }

    /// Whether a vault receipt with this key (BLAKE3 of its envelope, hex)
    /// is recorded.
    pub fn vault_receipt_known(&self, key: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM vault_receipts WHERE key = ?1", [key], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }

    fn strings(&self, sql: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// All snapshots, oldest first.
    pub fn snapshots(&self) -> Result<Vec<SnapshotRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, source, taken_at, hostname, bytes, files, partial, forgotten_at \
             FROM snapshots",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, source, taken, host, bytes, files, partial, forgotten) = row?;
            out.push(SnapshotRow {
                id: id.into(),
                source: source.into(),
                taken_at: parse_ts(&taken)?,
                hostname: host,
                bytes: bytes as u64,
                files: files as u64,
                partial,
                forgotten_at: opt_ts(forgotten)?,
            });
        }
        out.sort_by(|a, b| (a.taken_at, &a.id).cmp(&(b.taken_at, &b.id)));
        Ok(out)
    }

    /// Find a snapshot by full id or unique prefix.
    pub fn find_snapshot(&self, prefix: &str) -> Result<SnapshotRow> {
        let p = prefix.to_ascii_lowercase();
        let mut hits: Vec<SnapshotRow> = self
            .snapshots()?
            .into_iter()
            .filter(|s| s.id.as_str().starts_with(&p))
            .collect();
        match hits.len() {
            1 => Ok(hits.remove(0)),
            _ => Err(CatalogError::UnknownSnapshot(SnapshotId::new(prefix))),
        }
    }

    /// All copies.
    pub fn copies(&self) -> Result<Vec<Copy>> {
        let mut stmt = self.conn.prepare(
            "SELECT snapshot, medium, since, complete, verified_at, verified_ok, with_media \
             FROM copies ORDER BY snapshot, medium",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<bool>>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (s, m, since, complete, vat, vok, with) = row?;
            out.push(Copy {
                snapshot: s.into(),
                medium: m.into(),
                since: parse_ts(&since)?,
                complete,
                with: from_json(&with)?,
                // Only a check that passed counts as verified.
                verified_at: if vok == Some(true) {
                    opt_ts(vat)?
                } else {
                    None
                },
            });
        }
        Ok(out)
    }

    /// Location records, in recording order; of one medium, or all.
    pub fn locations(&self, medium: Option<&MediumId>) -> Result<Vec<Observation>> {
        let mut stmt = self.conn.prepare(
            "SELECT medium, at, location, by, note FROM locations \
             WHERE ?1 IS NULL OR medium = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![medium.map(|m| m.as_str())], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (m, at, loc, by, note) = row?;
            out.push(Observation {
                medium: m.into(),
                at: parse_ts(&at)?,
                location: from_json(&loc)?,
                by: from_json(&by)?,
                note,
            });
        }
        Ok(out)
    }

    /// All media, by id.
    pub fn media(&self) -> Result<Vec<MediumRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.id, m.kind, m.pool, m.label, m.capacity, m.note, m.condition, m.added_at, \
             (SELECT COUNT(*) FROM copies c WHERE c.medium = m.id AND c.complete) \
             FROM media m ORDER BY m.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })?;
        let locations = self.locations(None)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, pool, label, cap, note, cond, added, copies) = row?;
            let id = MediumId::new(id);
            out.push(MediumRow {
                location: locations.iter().rev().find(|o| o.medium == id).cloned(),
                id,
                kind: parse_enum(&kind)?,
                pool: pool.map(PoolName::new),
                label,
                capacity: cap.map(|c| c as u64),
                note,
                condition: parse_enum(&cond)?,
                added_at: parse_ts(&added)?,
                copies: copies as u64,
            });
        }
        Ok(out)
    }

    /// One medium.
    pub fn medium(&self, id: &MediumId) -> Result<MediumRow> {
        self.media()?
            .into_iter()
            .find(|m| &m.id == id)
            .ok_or_else(|| CatalogError::UnknownMedium(id.clone()))
    }

    /// All attestations, in id order.
    pub fn attestations(&self) -> Result<Vec<Attestation>> {
        self.strings("SELECT body FROM attestations ORDER BY id")?
            .iter()
            .map(|b| from_json(b))
            .collect()
    }

    /// Finished jobs, newest first, at most `limit`.
    pub fn jobs(&self, limit: usize) -> Result<Vec<JobRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, job, target, started_at, finished_at, outcome, detail FROM jobs \
             ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, job, target, st, fin, outcome, detail) = row?;
            out.push(JobRow {
                seq: seq as u64,
                job,
                target,
                started_at: parse_ts(&st)?,
                finished_at: parse_ts(&fin)?,
                outcome,
                detail: from_json(&detail)?,
            });
        }
        Ok(out)
    }

    /// Copy verifications (`copy-verified` events), newest first, at most
    /// `limit`.
    pub fn copy_verifications(&self, limit: usize) -> Result<Vec<CopyVerifyRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, actor, body FROM events WHERE kind = 'copy-verified' \
             ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, actor, body) = row?;
            let seq = seq as u64;
            let event: Event = serde_json::from_str(&body)
                .map_err(|e| CatalogError::corrupt(seq, format!("unreadable event: {e}")))?;
            if let Event::CopyVerified {
                snapshot,
                medium,
                at,
                ok,
                detail,
            } = event
            {
                out.push(CopyVerifyRow {
                    seq,
                    snapshot,
                    medium,
                    at,
                    ok,
                    actor,
                    detail,
                });
            }
        }
        Ok(out)
    }

    /// Restore drills, newest first, at most `limit`.
    pub fn drills(&self, limit: usize) -> Result<Vec<DrillRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, snapshot, medium, started_at, seconds, ok, by, detail, kind, source, \
             target, first_file_secs, bytes, throughput, files_checked, app_check, failures, \
             projected_secs, rto_secs FROM drills ORDER BY seq DESC LIMIT ?1",
        )?;
        let mut rows = stmt.query([limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let kind: Option<String> = r.get(8)?;
            let measured = match kind {
                None => None,
                Some(kind) => Some(DrillMeasures {
                    kind,
                    source: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                    target: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
                    first_file_secs: r.get(11)?,
                    bytes: r.get::<_, Option<i64>>(12)?.unwrap_or(0) as u64,
                    throughput: r.get::<_, Option<f64>>(13)?.unwrap_or(0.0),
                    files_checked: r.get::<_, Option<i64>>(14)?.unwrap_or(0) as u64,
                    app_check: r
                        .get::<_, Option<String>>(15)?
                        .as_deref()
                        .and_then(AppCheck::parse),
                    failures: match r.get::<_, Option<String>>(16)? {
                        Some(f) => from_json(&f)?,
                        None => Vec::new(),
                    },
                    projected_secs: r.get(17)?,
                    rto_secs: r.get(18)?,
                }),
            };
            out.push(DrillRow {
                seq: r.get::<_, i64>(0)? as u64,
                snapshot: r.get::<_, String>(1)?.into(),
                medium: r.get::<_, String>(2)?.into(),
                started_at: parse_ts(&r.get::<_, String>(3)?)?,
                seconds: r.get(4)?,
                ok: r.get(5)?,
                by: r.get(6)?,
                detail: r.get(7)?,
                measured,
            });
        }
        Ok(out)
    }

    /// Events, newest first: at most `limit`, optionally only those only the
    /// catalog knows ([`Event::catalog_only`]).
    pub fn events(&self, limit: usize, catalog_only: bool) -> Result<Vec<EventRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, actor, body, prev_hash, hash FROM events ORDER BY seq DESC",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            if out.len() >= limit {
                break;
            }
            let seq = r.get::<_, i64>(0)? as u64;
            let body: String = r.get(3)?;
            let event: Event = serde_json::from_str(&body)
                .map_err(|e| CatalogError::corrupt(seq, format!("unreadable event: {e}")))?;
            if catalog_only && !event.catalog_only() {
                continue;
            }
            out.push(EventRecord {
                seq,
                at: parse_ts(&r.get::<_, String>(1)?)?,
                actor: r.get(2)?,
                event,
                prev_hash: hex::encode(r.get::<_, Vec<u8>>(4)?),
                hash: hex::encode(r.get::<_, Vec<u8>>(5)?),
            });
        }
        Ok(out)
    }
}

impl Catalog {
    /// Media sets, newest first; only those of `pool` when given.
    pub fn media_sets(&self, pool: Option<&str>) -> Result<Vec<MediaSetRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, pool, started_at, closed_at, complete, snapshots, retained_until \
             FROM media_sets WHERE ?1 IS NULL OR pool = ?1 ORDER BY started_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([pool], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, pool, started, closed, complete, snaps, until) = row?;
            let mut c = self
                .conn
                .prepare("SELECT medium FROM set_cartridges WHERE media_set = ?1 ORDER BY seq")?;
            let cartridges = c
                .query_map([&id], |r| r.get::<_, String>(0))?
                .map(|m| m.map(MediumId::new))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            out.push(MediaSetRow {
                id,
                pool,
                started_at: parse_ts(&started)?,
                closed_at: opt_ts(closed)?,
                complete,
                snapshots: from_json(&snaps)?,
                retained_until: opt_ts(until)?,
                cartridges,
            });
        }
        Ok(out)
    }

    /// One media set.
    pub fn media_set(&self, id: &str) -> Result<MediaSetRow> {
        self.media_sets(None)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| CatalogError::UnknownSet(id.to_owned()))
    }

    /// The media sets a cartridge was labelled into, newest first.
    pub fn sets_of(&self, medium: &MediumId) -> Result<Vec<MediaSetRow>> {
        Ok(self
            .media_sets(None)?
            .into_iter()
            .filter(|s| s.cartridges.contains(medium))
            .collect())
    }

    /// Whether the cartridge may be overwritten: the latest retention of the
    /// complete sets it belongs to; a set still open holds it with no end.
    pub fn retention_of(&self, medium: &MediumId) -> Result<Retained> {
        let mut until: Option<OffsetDateTime> = None;
        for s in self.sets_of(medium)? {
            if s.closed_at.is_none() {
                return Ok(Retained::OpenSet { set: s.id });
            }
            if s.complete {
                until = until.max(s.retained_until);
            }
        }
        Ok(match until {
            Some(at) => Retained::Until { at },
            None => Retained::Free,
        })
    }
}

/// Whether a cartridge may be overwritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Retained {
    /// Never written by hokan, or only by sets that were never completed.
    Free,
    /// It holds a complete set retained until then.
    Until {
        /// The instant.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// It belongs to a set still being written (appended to night by night).
    OpenSet {
        /// The set.
        set: String,
    },
}
