//! `catalog verify`: is the event log whole, and do the tables follow from it?
//!
//! Checks, in order, each reported with the event number it concerns:
//! 1. SQLite's own `integrity_check`;
//! 2. event numbers run 1, 2, 3, … without a gap (a deleted event);
//! 3. each event's `prev_hash` is the hash of the one before, and its hash
//!    recomputes from its bytes (an edited event);
//! 4. each body parses as an event of the kind its row says;
//! 5. the head file `<catalog>.head` exists once the log has an event, reads
//!    as a head, and names an event that is in the chain with that hash, not
//!    beyond the end (a deleted tail or a rolled-back database); every
//!    expected head given by the caller — printed on an earlier report, or
//!    read from an anchor on offline media ([`crate::anchor`]) — likewise;
//! 6. replaying the log into an empty catalog gives the same projection
//!    tables, row for row (an edited table).
//!
//! [`Catalog::evidence`] runs all of this and hands over the facts of the
//! *replayed* catalog, never the tables of the file, so that a judgment is
//! made on nothing but the verified chain.

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

use hokan_offline::Facts;

use crate::anchor::Expected;
use crate::event::{chain_hash, Event};
use crate::{schema, Catalog, CatalogError, Result, Text};

/// The end of the chain: the last event's number and hash (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The last event's number, 0 for an empty log.
    pub seq: u64,
    /// Its hash, hex; 64 zeros for an empty log.
    pub hash: String,
}

impl Head {
    pub(crate) fn hash_bytes(&self) -> Result<[u8; 32]> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&self.hash, &mut out)
            .map_err(|e| CatalogError::corrupt(self.seq, format!("hash {:?}: {e}", self.hash)))?;
        Ok(out)
    }

    /// Parse `SEQ:HASH` as printed on reports.
    pub fn parse(s: &str) -> Option<Head> {
        let (seq, hash) = s.split_once(':')?;
        let seq = seq.trim().parse().ok()?;
        let hash = hash.trim().to_ascii_lowercase();
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(Head { seq, hash })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

pub(crate) fn head_in(tx: &Transaction<'_>) -> Result<Head> {
    let row: Option<(i64, Vec<u8>)> = crate::optional(tx.query_row(
        "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?;
    Ok(match row {
        Some((seq, hash)) => Head {
            seq: seq as u64,
            hash: hex::encode(hash),
        },
        None => Head {
            seq: 0,
            hash: hex::encode([0u8; 32]),
        },
    })
}

/// One thing `verify` found wrong.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyProblem {
    /// The event concerned, if one.
    pub seq: Option<u64>,
    /// What is wrong, in both languages.
    pub message: Text,
}

/// What `verify` found.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// The head as found.
    pub head: Head,
    /// The anchor file's head, if there is one.
    pub anchor: Option<Head>,
    /// The expected heads (reports, anchors on media) that were checked.
    pub expected: Vec<Expected>,
    /// Everything wrong; empty when the catalog is intact.
    pub problems: Vec<VerifyProblem>,
}

/// The catalog as evidence: what verification found, and — only when it
/// found nothing wrong — the facts of the replayed chain.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// What verification found.
    pub report: VerifyReport,
    /// The facts replayed from the verified chain; `None` when the report
    /// has any problem (nothing may then be judged).
    pub facts: Option<Facts>,
}

/// What the head file `<catalog>.head` held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HeadFile {
    /// A catalog in memory has none.
    NotOnDisk,
    /// There is no file.
    Missing,
    /// The file does not read as a head.
    Garbage,
    /// A head.
    Head(Head),
}

impl VerifyReport {
    /// Whether nothing was found wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn problem(seq: Option<u64>, en: String, ja: String) -> VerifyProblem {
    VerifyProblem {
        seq,
        message: Text::new(en, ja),
    }
}

impl Catalog {
    /// Check the event log and the tables (see the module documentation).
    /// `expect` is a head from an earlier report that must still be in the
    /// chain.
    pub fn verify(&self, expect: Option<&Head>) -> Result<VerifyReport> {
        let expected: Vec<Expected> = expect
            .map(|h| Expected {
                head: h.clone(),
                from: Text::new("the expected head", "指定されたヘッド"),
            })
            .into_iter()
            .collect();
        Ok(self.verify_against(&expected)?.report)
    }

    /// [`Catalog::verify`] against several expected heads (from reports and
    /// from anchors on offline media), returning the replayed facts when
    /// nothing is wrong.
    pub fn evidence(&self, expected: &[Expected]) -> Result<Evidence> {
        self.verify_against(expected)
    }

    /// The whole check (see the module documentation).
    pub fn verify_against(&self, expected: &[Expected]) -> Result<Evidence> {
        let mut problems = Vec::new();
        let integrity: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            problems.push(problem(
                None,
                format!("SQLite integrity check failed: {integrity}"),
                format!("SQLite の整合性検査に失敗: {integrity}"),
            ));
        }

        let mut replay = Catalog::in_memory()?;
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, actor, kind, body, prev_hash, hash FROM events ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut expected_seq = 1u64;
        let mut prev = [0u8; 32];
        let mut hashes: Vec<[u8; 32]> = Vec::new();
        let mut replay_broken = false;
        while let Some(r) = rows.next()? {
            let seq = r.get::<_, i64>(0)? as u64;
            let at: String = r.get(1)?;
            let actor: String = r.get(2)?;
            let kind: String = r.get(3)?;
            let body: String = r.get(4)?;
            let prev_hash: Vec<u8> = r.get(5)?;
            let hash: Vec<u8> = r.get(6)?;
            if seq != expected_seq {
                problems.push(problem(
                    Some(seq),
                    format!(
                        "events {expected_seq}..{} are missing (deleted from the log)",
                        seq - 1
                    ),
                    format!(
                        "イベント {expected_seq}..{} が欠落しています（ログから削除）",
                        seq - 1
                    ),
                ));
                // Pad so that anchors into the gap are reported, not panicked on.
                while (hashes.len() as u64) < seq - 1 {
                    hashes.push([0xff; 32]);
                }
            }
            if prev_hash != prev {
                problems.push(problem(
                    Some(seq),
                    format!("event {seq} does not follow from the event before it (previous hash differs)"),
                    format!("イベント {seq} の前ハッシュが直前のイベントと一致しません"),
                ));
            }
            let recomputed = chain_hash(
                &prev_hash.clone().try_into().unwrap_or([0; 32]),
                seq,
                &at,
                &actor,
                &body,
            );
            if hash != recomputed {
                problems.push(problem(
                    Some(seq),
                    format!("event {seq} was changed after it was recorded (hash does not match its content)"),
                    format!("イベント {seq} は記録後に改変されています（内容とハッシュが不一致）"),
                ));
            }
            match serde_json::from_str::<Event>(&body) {
                Ok(ev) if ev.kind() == kind => {
                    if !replay_broken {
                        let at_t = crate::parse_ts(&at)?;
                        if let Err(e) = replay.replay_one(seq, at_t, &actor, &ev) {
                            replay_broken = true;
                            problems.push(problem(
                                Some(seq),
                                format!("event {seq} cannot be replayed: {e}"),
                                format!("イベント {seq} を再生できません: {e}"),
                            ));
                        }
                    }
                }
                Ok(_) | Err(_) => {
                    replay_broken = true;
                    problems.push(problem(
                        Some(seq),
                        format!("event {seq} cannot be read as a {kind} event"),
                        format!("イベント {seq} を {kind} として読めません"),
                    ));
                }
            }
            prev = hash.clone().try_into().unwrap_or([0; 32]);
            hashes.push(prev);
            expected_seq = seq + 1;
        }
        drop(rows);
        drop(stmt);
        let head = {
            let tx = self.conn.unchecked_transaction()?;
            head_in(&tx)?
        };

        let head_file = self.read_anchor()?;
        match &head_file {
            HeadFile::Missing if head.seq > 0 => problems.push(problem(
                None,
                format!(
                    "the head file {} is missing although the log has {} events: it is written after every change, so it was deleted (a rolled-back or replaced catalog looks like this)",
                    self.anchor_path().unwrap_or_default().display(),
                    head.seq
                ),
                format!(
                    "ヘッドファイル {} がありません（ログには {} 件のイベントがあります）。変更のたびに書かれるため、削除されたと考えられます（巻き戻し・差し替えられたカタログがこの状態になります）",
                    self.anchor_path().unwrap_or_default().display(),
                    head.seq
                ),
            )),
            HeadFile::Garbage => problems.push(problem(
                None,
                format!(
                    "the head file {} does not read as a head (damaged or replaced)",
                    self.anchor_path().unwrap_or_default().display()
                ),
                format!(
                    "ヘッドファイル {} をヘッドとして読めません（破損または差し替え）",
                    self.anchor_path().unwrap_or_default().display()
                ),
            )),
            _ => {}
        }
        let anchor = match head_file {
            HeadFile::Head(h) => Some(h),
            _ => None,
        };
        let mut check_head = |h: &Head, what_en: &str, what_ja: &str| {
            let found = (h.seq >= 1)
                .then(|| hashes.get(h.seq as usize - 1))
                .flatten()
                .map(hex::encode);
            match found {
                _ if h.seq == 0 => {}
                Some(x) if x == h.hash => {}
                Some(_) => problems.push(problem(
                    Some(h.seq),
                    format!("{what_en} names event {} with another hash: the log was rewritten from there on, or the catalog was rolled back and written again", h.seq),
                    format!("{what_ja}のイベント {} のハッシュが異なります。そこから後のログが書き換えられたか、巻き戻された後に書き込まれています", h.seq),
                )),
                None => problems.push(problem(
                    Some(h.seq),
                    format!("{what_en} names event {}, but the log ends at {}: the catalog was rolled back to an older copy, or events were deleted from its end", h.seq, head.seq),
                    format!("{what_ja}はイベント {} を指しますが、ログは {} で終わっています。カタログが古い複製に巻き戻されたか、末尾のイベントが削除されています", h.seq, head.seq),
                )),
            }
        };
        if let Some(a) = &anchor {
            check_head(a, "the head anchor file", "ヘッドアンカーファイル");
        }
        for e in expected {
            check_head(&e.head, &e.from.en, &e.from.ja);
        }

        if !replay_broken {
            for (table, order) in schema::PROJECTION {
                let mine = self.dump(table, order)?;
                let theirs = replay.dump(table, order)?;
                if mine != theirs {
                    problems.push(problem(
                        None,
                        format!(
                            "table {table} does not match the event log (edited outside hokan)"
                        ),
                        format!(
                            "テーブル {table} がイベントログと一致しません（hokan 以外で編集）"
                        ),
                    ));
                }
            }
        }

        let report = VerifyReport {
            events: expected_seq - 1,
            head,
            anchor,
            expected: expected.to_vec(),
            problems,
        };
        let facts = if report.ok() {
            Some(replay.facts()?)
        } else {
            None
        };
        Ok(Evidence { report, facts })
    }

    /// Apply a stored event to this (replay) catalog under its original
    /// number, without re-hashing.
    fn replay_one(
        &mut self,
        seq: u64,
        at: time::OffsetDateTime,
        _actor: &str,
        ev: &Event,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        crate::apply::apply(&tx, seq, &crate::ts(at), ev)?;
        tx.commit()?;
        Ok(())
    }

    fn dump(&self, table: &str, order: &str) -> Result<Vec<Vec<String>>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))?;
        let n = stmt.column_count();
        let rows = stmt.query_map([], |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => "∅".to_owned(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                        rusqlite::types::ValueRef::Blob(b) => hex::encode(b),
                    })
                })
                .collect::<rusqlite::Result<Vec<String>>>()
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
