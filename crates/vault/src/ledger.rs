//! The vault's ledger (`ledger.sqlite` in the vault's folder): every
//! generation the vault took in and until when it keeps it, every finding,
//! every expiry, every clock tick, as a hash chain (like the catalog's
//! event log): each row's hash covers the previous row's hash, so a row
//! edited, removed or reordered with SQL breaks the chain at that row and
//! [`Ledger::open`] refuses to go on.
//!
//! A generation's object list is too long for a chained row; it lives in
//! `generation_objects`, and the chained row carries the BLAKE3 of the
//! sorted list, checked on open.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::clock::{self, Tick};
use crate::receipt::{DrillReport, PullReport};
use crate::wire::{Kind, PlanObject};

/// One entry of the ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Event {
    /// The vault was set up to copy this repository from this primary.
    Init {
        /// The primary's export URL.
        primary: String,
    },
    /// The repository's id, learned at the first pull; a primary that later
    /// offers another repository is a finding.
    Repository {
        /// The id.
        id: String,
    },
    /// Both clocks, read now (see [`crate::clock`]).
    Tick(Tick),
    /// A generation is complete in the vault.
    Generation(GenerationRecord),
    /// Something the primary did that the vault refused or noticed.
    Finding(Finding),
    /// The operator has read the findings up to `upto` (a ledger seq).
    FindingsAcknowledged {
        /// Last seq acknowledged.
        upto: u64,
        /// Who (the login name at the vault's console).
        by: String,
    },
    /// The vault starts removing a generation whose retention ended.
    Expiring {
        /// The snapshot.
        snapshot: String,
    },
    /// The generation is gone, and with it `removed` objects no retained
    /// generation needed.
    Expired {
        /// The snapshot.
        snapshot: String,
        /// Objects removed.
        removed: u64,
    },
    /// The compliance clock froze (see [`crate::clock`]).
    ClockFrozen {
        /// What was seen.
        reason: String,
    },
    /// An operator accepted the wall clock after a freeze.
    ClockAccepted {
        /// The wall clock accepted.
        wall: String,
        /// Who.
        by: String,
    },
    /// A pull ended.
    Pull {
        /// `ok` or `failed`.
        state: String,
        /// Generations added.
        added: u64,
        /// Bytes received.
        bytes: u64,
        /// Why it failed.
        error: Option<String>,
    },
    /// A restore drill ran from the vault's own copy (`hokan vault drill`).
    Drill(DrillReport),
}

/// A generation as the ledger holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationRecord {
    /// The snapshot's name.
    pub snapshot: String,
    /// Its source.
    pub source: String,
    /// When it was taken (the primary's word).
    pub taken: String,
    /// When the vault stored it (compliance clock).
    pub stored: String,
    /// Until when it is kept.
    pub retain_until: String,
    /// Objects it needs.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// BLAKE3 of the sorted object list in `generation_objects`.
    pub objects_hash: String,
}

/// What the vault noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Its kind: `changed-bytes`, `changed-size`, `changed-config`,
    /// `vanished`, `future-dated`, `too-big`, `malformed`, `no-plan`, `no-room`, `planted`,
    /// `other-repository`, `clock-jump`, `refused`.
    pub kind: String,
    /// What was seen, in words.
    pub detail: String,
    /// The snapshot concerned.
    pub snapshot: Option<String>,
}

/// A ledger that does not verify, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// SQLite failed.
    #[error("vault ledger {path}: {source}")]
    Sql {
        /// The file.
        path: String,
        /// What failed.
        source: rusqlite::Error,
    },
    /// The chain is broken.
    #[error("vault ledger {path}: row {seq} {what}; the ledger was changed outside hokan. Keep the folder as it is and compare with the last receipt the primary holds (ledger_head)")]
    Broken {
        /// The file.
        path: String,
        /// The first bad row.
        seq: u64,
        /// What is wrong with it.
        what: String,
    },
}

/// The ledger, open.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// Everything the ledger says now, read by replaying it.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// The primary's URL from `init`.
    pub primary: Option<String>,
    /// The repository's id.
    pub repository: Option<String>,
    /// Generations held (not expired), by snapshot.
    pub generations: BTreeMap<String, GenerationRecord>,
    /// Generations expired.
    pub expired: BTreeSet<String>,
    /// A removal started and not finished.
    pub expiring: Option<String>,
    /// Findings not acknowledged: (seq, time, finding).
    pub findings: Vec<(u64, String, Finding)>,
    /// Every (kind, snapshot) a finding was recorded for, acknowledged or
    /// not: a vanished snapshot is reported once, not every night.
    pub reported: BTreeSet<(String, String)>,
    /// The last time recorded.
    pub last_time: Option<OffsetDateTime>,
    /// The last tick.
    pub last_tick: Option<Tick>,
    /// The clock's anchor and cross-reboot gaps, derived from the ticks,
    /// freezes and accepts (see [`crate::clock::Memory`]).
    pub clock: clock::Memory,
    /// A clock freeze not yet accepted.
    pub frozen: Option<String>,
    /// The last pull's result.
    pub last_pull: Option<PullReport>,
    /// Every drill recorded, oldest first.
    pub drills: Vec<DrillReport>,
    /// The head hash.
    pub head: String,
    /// Rows.
    pub rows: u64,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn row_hash(seq: u64, time: &str, body: &str, prev: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"hokan vault ledger v1\n");
    h.update(format!("{seq}\n{time}\n{prev}\n").as_bytes());
    h.update(body.as_bytes());
    h.finalize().to_hex().to_string()
}

/// BLAKE3 of a generation's object list (sorted), as the chained row holds it.
pub fn objects_hash(objects: &[PlanObject]) -> String {
    let mut lines: Vec<String> = objects
        .iter()
        .map(|o| format!("{} {} {}\n", o.kind.word(), o.name, o.size))
        .collect();
    lines.sort();
    lines.dedup();
    let mut h = blake3::Hasher::new();
    for l in lines {
        h.update(l.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// RFC 3339 text of a time.
pub fn fmt(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("a UTC time formats")
}

/// A time from RFC 3339 text.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

impl Ledger {
    /// Open (or create) the ledger and verify its whole chain.
    pub fn open(path: &Path) -> Result<(Ledger, State), LedgerError> {
        let sql = |source| LedgerError::Sql {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS events(
                seq INTEGER PRIMARY KEY, time TEXT NOT NULL, body TEXT NOT NULL,
                prev TEXT NOT NULL, hash TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS generation_objects(
                snapshot TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
                size INTEGER NOT NULL, PRIMARY KEY(snapshot, kind, name));",
        )
        .map_err(sql)?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        let state = ledger.replay()?;
        Ok((ledger, state))
    }

    fn sql(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError::Sql {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn broken(&self, seq: u64, what: impl Into<String>) -> LedgerError {
        LedgerError::Broken {
            path: self.path.display().to_string(),
            seq,
            what: what.into(),
        }
    }

    /// Replay every row, checking the chain, into a [`State`].
    pub fn replay(&self) -> Result<State, LedgerError> {
        let mut st = State {
            head: GENESIS.into(),
            ..State::default()
        };
        let mut stmt = self
            .conn
            .prepare("SELECT seq, time, body, prev, hash FROM events ORDER BY seq")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        for row in rows {
            let (seq, time, body, prev, hash) = row.map_err(|e| self.sql(e))?;
            if seq != st.rows + 1 {
                return Err(self.broken(seq, format!("follows row {} (rows are missing)", st.rows)));
            }
            if prev != st.head {
                return Err(self.broken(seq, "does not follow the row before it"));
            }
            if row_hash(seq, &time, &body, &prev) != hash {
                return Err(self.broken(seq, "does not match its hash (it was edited)"));
            }
            let event: Event = serde_json::from_str(&body)
                .map_err(|e| self.broken(seq, format!("is unreadable: {e}")))?;
            let at = parse(&time).ok_or_else(|| self.broken(seq, "has no valid time"))?;
            st.last_time = Some(st.last_time.map_or(at, |l| l.max(at)));
            self.apply(&mut st, seq, &time, at, event)?;
            st.head = hash;
            st.rows = seq;
        }
        Ok(st)
    }

    fn apply(
        &self,
        st: &mut State,
        seq: u64,
        time: &str,
        at: OffsetDateTime,
        event: Event,
    ) -> Result<(), LedgerError> {
        match event {
            Event::Init { primary } => st.primary = Some(primary),
            Event::Repository { id } => st.repository = Some(id),
            Event::Tick(t) => {
                st.clock
                    .record(st.last_tick.as_ref(), &t, at, st.frozen.is_some());
                st.last_tick = Some(t);
            }
            Event::Generation(g) => {
                let objects = self.objects(&g.snapshot)?;
                if objects_hash(&objects) != g.objects_hash {
                    return Err(self.broken(
                        seq,
                        format!(
                            "lists objects for {} that are not the ones recorded",
                            g.snapshot
                        ),
                    ));
                }
                st.expired.remove(&g.snapshot);
                st.generations.insert(g.snapshot.clone(), g);
            }
            Event::Finding(f) => {
                st.reported
                    .insert((f.kind.clone(), f.snapshot.clone().unwrap_or_default()));
                st.findings.push((seq, time.to_string(), f));
            }
            Event::FindingsAcknowledged { upto, .. } => st.findings.retain(|(s, _, _)| *s > upto),
            Event::Expiring { snapshot } => st.expiring = Some(snapshot),
            Event::Expired { snapshot, .. } => {
                st.generations.remove(&snapshot);
                st.expired.insert(snapshot);
                st.expiring = None;
            }
            Event::ClockFrozen { reason } => st.frozen = Some(reason),
            Event::ClockAccepted { .. } => {
                st.frozen = None;
                st.clock.reset();
            }
            Event::Pull {
                state,
                added,
                bytes,
                error,
            } => {
                st.last_pull = Some(PullReport {
                    state,
                    added,
                    bytes,
                    error,
                })
            }
            Event::Drill(d) => st.drills.push(d),
        }
        Ok(())
    }

    /// The objects recorded for a generation.
    pub fn objects(&self, snapshot: &str) -> Result<Vec<PlanObject>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, name, size FROM generation_objects WHERE snapshot = ?1")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([snapshot], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (kind, name, size) = r.map_err(|e| self.sql(e))?;
            let kind = Kind::from_word(&kind)
                .ok_or_else(|| self.broken(0, format!("has an unknown kind {kind:?}")))?;
            out.push(PlanObject {
                kind,
                name,
                size: size as u64,
            });
        }
        Ok(out)
    }

    /// Append one event at compliance time `at`; returns the new head.
    pub fn append(&mut self, at: OffsetDateTime, event: &Event) -> Result<String, LedgerError> {
        self.append_with(at, event, &[])
    }

    /// Record a complete generation and its objects, in one transaction.
    pub fn add_generation(
        &mut self,
        at: OffsetDateTime,
        g: &GenerationRecord,
        objects: &[PlanObject],
    ) -> Result<String, LedgerError> {
        self.append_with(at, &Event::Generation(g.clone()), objects)
    }

    fn append_with(
        &mut self,
        at: OffsetDateTime,
        event: &Event,
        objects: &[PlanObject],
    ) -> Result<String, LedgerError> {
        let path = self.path.display().to_string();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql)?;
        let (seq, prev) = match last {
            Some((s, h)) => (s as u64 + 1, h),
            None => (1, GENESIS.to_string()),
        };
        if let Event::Generation(g) = event {
            for o in objects {
                tx.execute(
                    "INSERT OR IGNORE INTO generation_objects(snapshot, kind, name, size) VALUES (?1, ?2, ?3, ?4)",
                    params![g.snapshot, o.kind.word(), o.name, o.size as i64],
                )
                .map_err(sql)?;
            }
        }
        let time = fmt(at);
        let body = serde_json::to_string(event).expect("an event serialises");
        let hash = row_hash(seq, &time, &body, &prev);
        tx.execute(
            "INSERT INTO events(seq, time, body, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq as i64, time, body, prev, hash],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(hash)
    }

    /// Every event with its seq and time (for `status --json` and tests).
    pub fn events(&self) -> Result<Vec<(u64, String, Event)>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, time, body FROM events ORDER BY seq")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (seq, time, body) = r.map_err(|e| self.sql(e))?;
            let ev = serde_json::from_str(&body).map_err(|e| self.broken(seq, e.to_string()))?;
            out.push((seq, time, ev));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn gen(snapshot: &str, objects: &[PlanObject]) -> GenerationRecord {
        GenerationRecord {
            snapshot: snapshot.into(),
            source: "emr".into(),
            taken: "2026-12-06T02:00:00Z".into(),
            stored: "2026-12-06T03:00:00Z".into(),
            retain_until: "2027-03-06T03:00:00Z".into(),
            objects: objects.len() as u64,
            bytes: objects.iter().map(|o| o.size).sum(),
            objects_hash: objects_hash(objects),
        }
    }

    #[test]
    fn sql_on_the_ledger_is_caught_where_it_was_made() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ledger.sqlite");
        let objs = vec![PlanObject {
            kind: Kind::Pack,
            name: "a".repeat(64),
            size: 5,
        }];
        {
            let (mut l, st) = Ledger::open(&p).unwrap();
            assert_eq!(st.rows, 0);
            let t = datetime!(2026-12-06 03:00 UTC);
            l.append(
                t,
                &Event::Init {
                    primary: "https://p".into(),
                },
            )
            .unwrap();
            l.add_generation(t, &gen(&"s".repeat(64), &objs), &objs)
                .unwrap();
            l.append(
                t,
                &Event::Finding(Finding {
                    kind: "vanished".into(),
                    detail: "x".into(),
                    snapshot: Some("s".into()),
                }),
            )
            .unwrap();
        }
        let (_, st) = Ledger::open(&p).unwrap();
        assert_eq!(st.rows, 3);
        assert_eq!(st.generations.len(), 1);
        assert_eq!(st.findings.len(), 1);

        // Shorten a retention with SQL: caught at row 2.
        let c = Connection::open(&p).unwrap();
        c.execute(
            "UPDATE events SET body = replace(body, '2027-03-06', '2026-12-07') WHERE seq = 2",
            [],
        )
        .unwrap();
        let e = Ledger::open(&p).err().expect("an edited row is refused");
        assert!(matches!(e, LedgerError::Broken { seq: 2, .. }), "{e}");

        // Put it back, then drop an object from the generation's list.
        c.execute(
            "UPDATE events SET body = replace(body, '2026-12-07', '2027-03-06') WHERE seq = 2",
            [],
        )
        .unwrap();
        assert!(Ledger::open(&p).is_ok());
        c.execute("DELETE FROM generation_objects", []).unwrap();
        assert!(matches!(
            Ledger::open(&p).err(),
            Some(LedgerError::Broken { seq: 2, .. })
        ));
    }
}
