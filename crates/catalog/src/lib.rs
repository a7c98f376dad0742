//! hokan's catalog: what the site knows about its copies, and since when.
//!
//! This crate owns the site's SQLite database: sources, snapshots mirrored
//! from repositories, media, copies (which snapshot is completely held by
//! which medium), where each medium was over time, protections (locks and
//! their retention), lock tests, attestations, jobs, drills and the
//! notification outbox ([`notification`]). It leaves
//! judging those facts to `hokan-offline` ([`Catalog::facts`] hands them
//! over) and reading repositories and devices to the binary and later crates.
//!
//! # The event log is the truth
//! Every change of fact is an [`Event`], appended to the `events` table in
//! the same transaction that applies it to the other tables (the
//! *projection*). Each event carries the BLAKE3 hash of the previous one
//! ([`event`] documents the exact bytes). [`Catalog::verify`] re-hashes the
//! chain, replays it into an empty in-memory catalog and compares the
//! projection, so an edited or deleted event, or an edited table, is found.
//! A deleted *tail* leaves a valid shorter chain; it is caught against the
//! head anchor file written after every commit (`<catalog>.head`), and
//! against the head hash printed on every report.
//!
//! # Crash and locking semantics
//! One event (or one batch, [`Catalog::record_all`]) is one SQLite
//! transaction in WAL mode with `synchronous = FULL`: after a crash the log
//! and the projection hold either all of it or none of it. Writers take the
//! database's write lock at the start of the transaction (`BEGIN
//! IMMEDIATE`) and wait up to 10 s for another writer; readers never block.
//! The head anchor is written after the commit; a crash in between leaves
//! it one step behind, which verify accepts (the anchored event is still in
//! the chain).
//!
//! # What only the catalog knows
//! Repositories and media carry snapshots, copies and (for stores) their
//! locks, so those can be rebuilt by scanning them. Manual moves recorded by
//! a person, attestations and their withdrawal, condition changes (retired,
//! damaged), drill results and notes exist nowhere else;
//! [`Event::catalog_only`] marks them and reports export them.
#![deny(missing_docs)]

pub mod anchor;
mod apply;
pub mod event;
pub mod notification;
pub mod query;
pub mod schema;
pub mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{de::DeserializeOwned, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

pub use anchor::{Anchor, AnchorError, Expected};
pub use event::{AppCheck, DrillFailure, DrillMeasures, Event, EventRecord, WebAccess};
pub use hokan_offline::Text;
pub use notification::{NotificationRow, NotificationState};
pub use query::{CopyVerifyRow, DrillRow, JobRow, MediaSetRow, MediumRow, Retained, SnapshotRow};
pub use schema::SCHEMA_VERSION;
use verify::HeadFile;
pub use verify::{Evidence, Head, VerifyProblem, VerifyReport};

use hokan_offline::{AttestationId, MediumId, SnapshotId};

/// Errors from the catalog. Refusals a caller branches on (an unknown
/// medium, a duplicate) are variants of their own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The database file could not be opened or created.
    #[error("cannot open catalog {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// The database file could not be created.
    #[error("cannot create catalog {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No space left on the device holding the catalog (the database, its
    /// write-ahead log or its head file). SQLite rolled back what did not
    /// fit, so the catalog is as it was and stays usable; the one exception
    /// is a head file that could not be replaced after a commit, which
    /// leaves it one step behind, as a crash there would (verify accepts
    /// that).
    #[error("no space left on the device holding the catalog {path}")]
    NoSpace {
        /// The database file.
        path: PathBuf,
    },
    /// The catalog was written by a newer hokan.
    #[error(
        "catalog {path} has schema version {found}; this hokan knows up to {known}: upgrade hokan"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The newest this build knows.
        known: u32,
    },
    /// Another process held the write lock too long.
    #[error("the catalog is busy: another hokan process is writing to it")]
    Busy,
    /// Any other database error.
    #[error("catalog database error: {0}")]
    Db(#[source] rusqlite::Error),
    /// Stored data that cannot be read back (the file was edited or damaged).
    #[error("catalog event {seq}: {what}")]
    Corrupt {
        /// The event (or row) concerned.
        seq: u64,
        /// What is wrong.
        what: String,
    },
    /// The head anchor file could not be written or read.
    #[error("catalog head anchor {path}: {source}")]
    Anchor {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The head file names an event the log does not hold (the database
    /// was rolled back or its tail deleted), or is missing or unreadable
    /// while the log has events. Nothing is written: writing would cover
    /// the evidence.
    #[error("catalog {path}: {why}; nothing was written")]
    Untrusted {
        /// The database file.
        path: PathBuf,
        /// What was found.
        why: String,
    },
    /// No catalog at this path, where one must already exist (`status`,
    /// `report` never create one).
    #[error("no catalog at {0}")]
    Missing(PathBuf),
    /// No medium with this id.
    #[error("no medium {0} in the catalog")]
    UnknownMedium(MediumId),
    /// A medium with this id already exists.
    #[error("medium {0} is already in the catalog")]
    MediumExists(MediumId),
    /// A retired medium cannot take new copies.
    #[error("medium {0} is retired")]
    MediumRetired(MediumId),
    /// No snapshot with this id.
    #[error("no snapshot {0} in the catalog")]
    UnknownSnapshot(SnapshotId),
    /// The snapshot is already recorded.
    #[error("snapshot {0} is already in the catalog")]
    SnapshotExists(SnapshotId),
    /// No such copy.
    #[error("no copy of snapshot {snapshot} on medium {medium}")]
    UnknownCopy {
        /// The snapshot.
        snapshot: SnapshotId,
        /// The medium.
        medium: MediumId,
    },
    /// A media set with this id already exists.
    #[error("media set {0} already exists")]
    SetExists(String),
    /// No media set with this id.
    #[error("no media set {0} in the catalog")]
    UnknownSet(String),
    /// The set already has a cartridge at this place.
    #[error("media set {set} already has a cartridge no. {seq}")]
    SetSeqTaken {
        /// The set.
        set: String,
        /// The place.
        seq: u32,
    },
    /// Labelling a cartridge that still holds recorded copies.
    #[error("cartridge {medium} still holds {count} recorded copies")]
    CartridgeHoldsCopies {
        /// The cartridge.
        medium: MediumId,
        /// How many.
        count: u64,
    },
    /// No attestation with this id.
    #[error("no attestation {0} in the catalog")]
    UnknownAttestation(AttestationId),
    /// An attestation with this id exists.
    #[error("attestation {0} already exists")]
    AttestationExists(AttestationId),
    /// The attestation was already withdrawn.
    #[error("attestation {0} was already withdrawn")]
    AlreadyWithdrawn(AttestationId),
    /// A notification with this id is already queued.
    #[error("notification {0} is already in the outbox")]
    NotificationExists(String),
    /// No queued notification with this id for this target.
    #[error("no notification {id} for target {target} in the outbox")]
    UnknownNotification {
        /// The id.
        id: String,
        /// The target named.
        target: String,
    },
    /// The notification was already sent or abandoned.
    #[error("notification {0} was already sent or abandoned")]
    NotificationClosed(String),
    /// This vault receipt (by the BLAKE3 of its envelope) is recorded.
    #[error("vault receipt {0} is already recorded")]
    ReceiptExists(String),
    /// An attestation must expire after it starts.
    #[error("an attestation must expire after it starts ({from} .. {until})")]
    BadPeriod {
        /// Start.
        from: OffsetDateTime,
        /// End.
        until: OffsetDateTime,
    },
}

impl From<rusqlite::Error> for CatalogError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
                CatalogError::Busy
            }
            _ => CatalogError::Db(e),
        }
    }
}

impl CatalogError {
    pub(crate) fn corrupt(seq: u64, what: impl Into<String>) -> Self {
        CatalogError::Corrupt {
            seq,
            what: what.into(),
        }
    }

    /// What went wrong and what to do, in both languages, for the binary.
    pub fn text(&self) -> Text {
        match self {
            CatalogError::UnknownMedium(m) => Text::new(
                format!("no medium {m} in the catalog; `hokan media list` shows the known media, `hokan media add` adds one"),
                format!("媒体 {m} はカタログにありません。`hokan media list` で一覧、`hokan media add` で登録できます"),
            ),
            CatalogError::MediumExists(m) => Text::new(
                format!("medium {m} is already in the catalog; choose another id, or see it with `hokan media show {m}`"),
                format!("媒体 {m} は登録済みです。別の ID にするか `hokan media show {m}` で確認してください"),
            ),
            CatalogError::MediumRetired(m) => Text::new(
                format!("medium {m} is retired and cannot hold new copies"),
                format!("媒体 {m} は廃棄済みのため新しいコピーを保持できません"),
            ),
            CatalogError::SetExists(s) => Text::new(
                format!("media set {s} already exists in the catalog"),
                format!("メディアセット {s} は登録済みです"),
            ),
            CatalogError::UnknownSet(s) => Text::new(
                format!("no media set {s} in the catalog; `hokan tape status` lists the sets"),
                format!("メディアセット {s} はカタログにありません。`hokan tape status` で一覧できます"),
            ),
            CatalogError::SetSeqTaken { set, seq } => Text::new(
                format!("media set {set} already has a cartridge no. {seq}"),
                format!("メディアセット {set} の {seq} 本目は既にあります"),
            ),
            CatalogError::CartridgeHoldsCopies { medium, count } => Text::new(
                format!("cartridge {medium} still holds {count} recorded copies: they must be removed from the catalog before it is labelled (erased)"),
                format!("カートリッジ {medium} には記録済みのコピーが {count} 件あります。ラベル書込（消去）の前にカタログから削除する必要があります"),
            ),
            CatalogError::UnknownAttestation(a) => Text::new(
                format!("no attestation {a}; `hokan attest list` shows them"),
                format!("証明 {a} はありません。`hokan attest list` で一覧できます"),
            ),
            CatalogError::BadPeriod { .. } => Text::new(
                "an attestation must expire after it starts: check --from and --until",
                "証明の有効期限は開始日より後にしてください（--from と --until を確認）",
            ),
            CatalogError::NewerSchema { path, found, known } => Text::new(
                format!("catalog {} has schema version {found}, newer than this hokan ({known}); install the newer hokan", path.display()),
                format!("カタログ {} のスキーマ版 {found} はこの hokan（{known}）より新しいため、新しい hokan を使用してください", path.display()),
            ),
            CatalogError::Untrusted { path, why } => Text::new(
                format!("catalog {} cannot be trusted: {why}. Nothing was written, so the evidence stays. Run `hokan catalog verify`, then see docs/catalog.md \"When the catalog cannot be trusted\"", path.display()),
                format!("カタログ {} は信頼できません: {why}。証拠を残すため何も書き込んでいません。`hokan catalog verify` を実行し、docs/catalog.md の「カタログが信頼できないとき」を参照してください", path.display()),
            ),
            CatalogError::Missing(path) => Text::new(
                format!("there is no catalog at {}: if this site has run before, the catalog was deleted or moved, and nothing can be judged — rebuild it from the media (docs/catalog.md \"When the catalog cannot be trusted\"); a new site creates it with its first `hokan catalog sync` or media job", path.display()),
                format!("{} にカタログがありません。運用中のサイトであればカタログが削除または移動されており、判定できません。媒体から再構築してください（docs/catalog.md「カタログが信頼できないとき」）。新しいサイトでは最初の `hokan catalog sync` か媒体のジョブで作成されます", path.display()),
            ),
            CatalogError::NoSpace { path } => Text::new(
                format!("no space left on the device holding the catalog {}: free space on it (or move the catalog to a larger disk and point [site] catalog there), then run the command again. The catalog is still usable: SQLite rolled back what did not fit; `hokan catalog verify` checks it", path.display()),
                format!("カタログ {} のあるデバイスに空き容量がありません。容量を空けるか、カタログを大きなディスクに移して [site] catalog を変更してから、もう一度実行してください。入りきらなかった書き込みは SQLite が取り消しているため、カタログはそのまま使えます（`hokan catalog verify` で確認できます）", path.display()),
            ),
            CatalogError::Create { path, source } => Text::new(
                format!("cannot create the catalog {}: {source}; check that its folder exists and this user may write to it", path.display()),
                format!("カタログ {} を作成できません: {source}。フォルダが存在し、このユーザーが書き込めるか確認してください", path.display()),
            ),
            CatalogError::Busy => Text::new(
                "the catalog is busy: another hokan process is writing to it; try again when it finishes",
                "カタログは他の hokan プロセスが書き込み中です。終了後に再実行してください",
            ),
            other => Text::new(
                format!("{other}; run `hokan catalog verify`"),
                format!("カタログのエラー: {other}。`hokan catalog verify` を実行してください"),
            ),
        }
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, CatalogError>;

/// An open catalog.
pub struct Catalog {
    conn: Connection,
    path: Option<PathBuf>,
}

impl Catalog {
    /// Open the catalog at `path`, creating it if missing and migrating an
    /// older schema. A new catalog gets its head file at once (for the empty
    /// log), so that from then on a missing head file means a deleted one.
    pub fn open(path: &Path) -> Result<Catalog> {
        let new = !path.exists();
        if new {
            // Created readable by its owner only: it names every medium and
            // where it is kept.
            create_private(path)?;
        }
        let conn = Connection::open(path).map_err(|source| CatalogError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut cat = Catalog {
            conn,
            path: Some(path.to_owned()),
        };
        match cat.start() {
            Ok(()) => Ok(cat),
            Err(e) => Err(cat.located(e)),
        }
    }

    /// Set up a catalog just opened from disk: pragmas, migrations, and the
    /// head file of a new catalog.
    fn start(&mut self) -> Result<()> {
        self.setup(true)?;
        if self.head()?.seq == 0 && self.read_anchor()? == HeadFile::Missing {
            self.refresh_anchor()?;
        }
        Ok(())
    }

    /// Name a full disk for what it is. SQLite says `SQLITE_FULL` when a
    /// write to the database or its log finds no space, but growing the
    /// shared-memory file on a full disk is a plain I/O error
    /// (`SQLITE_IOERR_SHMSIZE`, "disk I/O error"): for those, the errno
    /// behind it tells.
    fn located(&self, e: CatalogError) -> CatalogError {
        let (CatalogError::Db(db), Some(path)) = (&e, &self.path) else {
            return e;
        };
        let full = match db.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => true,
            Some(rusqlite::ErrorCode::SystemIoFailure) => {
                // SAFETY: the handle of our own open connection, used for one
                // read-only call on this thread.
                let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(self.conn.handle()) };
                matches!(errno, libc::ENOSPC | libc::EDQUOT)
            }
            _ => false,
        };
        if full {
            CatalogError::NoSpace { path: path.clone() }
        } else {
            e
        }
    }

    /// Open a catalog that must exist: for commands that judge (`status`,
    /// `report`), for which a missing catalog is a finding, not a fresh
    /// start.
    pub fn open_existing(path: &Path) -> Result<Catalog> {
        if !path.exists() {
            return Err(CatalogError::Missing(path.to_owned()));
        }
        Catalog::open(path)
    }

    /// A catalog in memory (tests, replays).
    pub fn in_memory() -> Result<Catalog> {
        let mut cat = Catalog {
            conn: Connection::open_in_memory()?,
            path: None,
        };
        cat.setup(false)?;
        Ok(cat)
    }

    /// The database file, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn setup(&mut self, on_disk: bool) -> Result<()> {
        self.conn.busy_timeout(Duration::from_secs(10))?;
        if on_disk {
            self.conn
                .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
            self.conn.execute_batch("PRAGMA synchronous = FULL;")?;
        }
        self.conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        self.migrate()
    }

    fn migrate(&mut self) -> Result<()> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let v: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if v as usize >= schema::MIGRATIONS.len() {
                if v > SCHEMA_VERSION {
                    return Err(CatalogError::NewerSchema {
                        path: self.path.clone().unwrap_or_default(),
                        found: v,
                        known: SCHEMA_VERSION,
                    });
                }
                return Ok(());
            }
            tx.execute_batch(schema::MIGRATIONS[v as usize])?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", v + 1))?;
            tx.commit()?;
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Record one event at `at` by `actor`: append it to the log and apply
    /// it, in one transaction. A refused event leaves nothing behind.
    pub fn record(&mut self, at: OffsetDateTime, actor: &str, event: Event) -> Result<EventRecord> {
        Ok(self
            .record_all(at, actor, vec![event])?
            .pop()
            .expect("one event in, one out"))
    }

    /// Record several events in one transaction: all or none.
    pub fn record_all(
        &mut self,
        at: OffsetDateTime,
        actor: &str,
        events: Vec<Event>,
    ) -> Result<Vec<EventRecord>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.append(at, actor, events).map_err(|e| self.located(e))
    }

    fn append(
        &mut self,
        at: OffsetDateTime,
        actor: &str,
        events: Vec<Event>,
    ) -> Result<Vec<EventRecord>> {
        // Read before taking the write lock: a writer in between can only
        // move the file forward to a head the transaction below then sees.
        let head_file = self.read_anchor()?;
        let path = self.path.clone().unwrap_or_default();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = verify::head_in(&tx)?;
        refuse_if_rolled_back(head_file, path, &tx, &head)?;
        let (mut seq, mut prev) = (head.seq, head.hash_bytes()?);
        let at_s = ts(at);
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            seq += 1;
            let body = serde_json::to_string(&event).expect("events serialise");
            let hash = event::chain_hash(&prev, seq, &at_s, actor, &body);
            apply::apply(&tx, seq, &at_s, &event)?;
            tx.execute(
                "INSERT INTO events (seq, at, actor, kind, body, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    seq as i64,
                    at_s,
                    actor,
                    event.kind(),
                    body,
                    &prev[..],
                    &hash[..]
                ],
            )?;
            out.push(EventRecord {
                seq,
                at,
                actor: actor.to_owned(),
                event,
                prev_hash: hex::encode(prev),
                hash: hex::encode(hash),
            });
            prev = hash;
        }
        tx.commit()?;
        self.refresh_anchor()?;
        Ok(out)
    }

    /// The attestation id the next attestation gets (`A-0001`, …).
    pub fn next_attestation_id(&self) -> Result<AttestationId> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM attestations", [], |r| r.get(0))?;
        Ok(AttestationId::new(format!("A-{:04}", n + 1)))
    }

    fn anchor_path(&self) -> Option<PathBuf> {
        self.path.as_ref().map(|p| {
            let mut s = p.as_os_str().to_owned();
            s.push(".head");
            PathBuf::from(s)
        })
    }

    /// Write the anchor for the catalog's current head, under the write lock
    /// so that concurrent writers never move it backwards or race on its
    /// temporary file. A crash before this leaves the anchor behind the head,
    /// which `verify` accepts: the anchor only proves that its event exists.
    fn refresh_anchor(&mut self) -> Result<()> {
        let Some(path) = self.anchor_path() else {
            return Ok(());
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = verify::head_in(&tx)?;
        write_anchor(&path, &head).map_err(|e| match e {
            CatalogError::Anchor { source, .. } if is_no_space(&source) => CatalogError::NoSpace {
                path: self.path.clone().unwrap_or_default(),
            },
            other => other,
        })?;
        drop(tx); // Nothing was written: rolling back releases the lock.
        Ok(())
    }

    pub(crate) fn read_anchor(&self) -> Result<HeadFile> {
        let Some(path) = self.anchor_path() else {
            return Ok(HeadFile::NotOnDisk);
        };
        match std::fs::read(&path) {
            Ok(b) => Ok(serde_json::from_slice::<Head>(&b)
                .ok()
                .and_then(|h| Head::parse(&h.to_string()))
                .map_or(HeadFile::Garbage, HeadFile::Head)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HeadFile::Missing),
            Err(source) => Err(CatalogError::Anchor { path, source }),
        }
    }

    /// The latest event: its number and hash. Reports print it.
    pub fn head(&self) -> Result<Head> {
        let tx = self.conn.unchecked_transaction()?;
        verify::head_in(&tx)
    }
}

/// Refuse to write when the head file says the log was longer, or
/// different, than it is (a rolled-back database), or is gone while the
/// log has events: a write would replace the head file and cover that.
fn refuse_if_rolled_back(
    head_file: HeadFile,
    path: PathBuf,
    tx: &rusqlite::Transaction<'_>,
    head: &Head,
) -> Result<()> {
    let why = match head_file {
        HeadFile::NotOnDisk => return Ok(()),
        HeadFile::Missing if head.seq == 0 => return Ok(()),
        HeadFile::Missing => format!(
            "its head file is missing although the log has {} events",
            head.seq
        ),
        HeadFile::Garbage => "its head file is damaged".to_owned(),
        HeadFile::Head(h) if h.seq == 0 => return Ok(()),
        HeadFile::Head(h) => {
            let found: Option<Vec<u8>> = optional(tx.query_row(
                "SELECT hash FROM events WHERE seq = ?1",
                [h.seq as i64],
                |r| r.get(0),
            ))?;
            match found {
                    Some(x) if hex::encode(&x) == h.hash => return Ok(()),
                    Some(_) => format!(
                        "its head file names event {} with another hash than the log (rewritten or rolled back)",
                        h.seq
                    ),
                    None => format!(
                        "its head file names event {}, but the log ends at {} (rolled back to an older copy)",
                        h.seq, head.seq
                    ),
                }
        }
    };
    Err(CatalogError::Untrusted { path, why })
}

/// Replace the head anchor file atomically (write beside it, rename over it),
/// readable by its owner only.
fn write_anchor(path: &Path, head: &Head) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // The process id keeps two processes from sharing one temporary file.
    let tmp = path.with_extension(format!("head.{}.tmp", std::process::id()));
    let body = serde_json::to_vec(head).expect("head serialises");
    let err = |source| CatalogError::Anchor {
        path: path.to_owned(),
        source,
    };
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // On a full disk, give back what the attempt took.
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

/// Whether an I/O error means the disk (or the user's quota) is full.
fn is_no_space(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
}

/// Create an empty file readable and writable by its owner only.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|source| {
            if is_no_space(&source) {
                CatalogError::NoSpace {
                    path: path.to_owned(),
                }
            } else {
                CatalogError::Create {
                    path: path.to_owned(),
                    source,
                }
            }
        })
}

/// A time as stored: RFC 3339 in UTC.
/// A time as stored in the tables: RFC 3339 in UTC. Never panics: a time
/// whose UTC form has no RFC 3339 spelling (a crafted event at
/// `9999-12-31T23:59:59-01:00` is year 10000 in UTC) is stored as the
/// nearest one that has, the same in the catalog and in its replay, so
/// verification still compares like with like.
pub(crate) fn ts(t: OffsetDateTime) -> String {
    let first = time::macros::datetime!(0000-01-01 00:00:00 UTC);
    let last = time::macros::datetime!(9999-12-31 23:59:59.999_999_999 UTC);
    let utc = t
        .checked_to_offset(UtcOffset::UTC)
        .unwrap_or(if t < first { first } else { last })
        .clamp(first, last);
    utc.format(&Rfc3339)
        .unwrap_or_else(|_| "9999-12-31T23:59:59Z".to_owned())
}

pub(crate) fn parse_ts(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| CatalogError::corrupt(0, format!("time {s:?}: {e}")))
}

pub(crate) fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("catalog values serialise")
}

pub(crate) fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| CatalogError::corrupt(0, format!("stored value {s:?}: {e}")))
}

/// A unit enum's serde name (`lto-library`), for text columns.
pub(crate) fn enum_text<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v).expect("enums serialise") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

pub(crate) fn parse_enum<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| CatalogError::corrupt(0, format!("stored value {s:?}: {e}")))
}

pub(crate) fn optional<T>(r: rusqlite::Result<T>) -> Result<Option<T>> {
    Ok(r.optional()?)
}

#[cfg(test)]
mod ts_tests {
    use time::macros::datetime;

    #[test]
    fn times_beyond_rfc3339_saturate_instead_of_panicking() {
        assert_eq!(
            super::ts(datetime!(9999-12-31 23:59:59 -01:00)),
            "9999-12-31T23:59:59.999999999Z"
        );
        assert_eq!(
            super::ts(datetime!(0000-01-01 00:00:00 +01:00)),
            "0000-01-01T00:00:00Z"
        );
        assert_eq!(
            super::ts(datetime!(2026-11-20 22:00 +09:00)),
            "2026-11-20T13:00:00Z"
        );
    }
}
