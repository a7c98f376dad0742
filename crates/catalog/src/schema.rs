//! The schema and its migrations.
//!
//! The schema version is SQLite's `user_version`. Each migration runs in its
//! own transaction together with the version bump, so a crash leaves either
//! the old or the new schema, never half of one. A catalog written by a newer
//! hokan (a version above [`SCHEMA_VERSION`]) is refused, not guessed at.
//!
//! Migrations are append-only: a released migration is never edited; a
//! change is a new entry at the end.

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the event log and its projection.
    r#"
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    body      TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL UNIQUE
);
-- Append-only against casual edits. Someone who drops these triggers is
-- still caught by `catalog verify`, which rechecks the hash chain.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the hokan event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the hokan event log is append-only'); END;

CREATE TABLE sources (
    name        TEXT PRIMARY KEY,
    declared_at TEXT NOT NULL
);
CREATE TABLE snapshots (
    id           TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    taken_at     TEXT NOT NULL,
    hostname     TEXT NOT NULL,
    paths        TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    files        INTEGER NOT NULL,
    partial      INTEGER NOT NULL,
    recorded_at  TEXT NOT NULL,
    forgotten_at TEXT
);
CREATE TABLE media (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    pool      TEXT,
    label     TEXT,
    capacity  INTEGER,
    note      TEXT,
    condition TEXT NOT NULL,
    added_at  TEXT NOT NULL
);
CREATE TABLE locations (
    seq      INTEGER PRIMARY KEY,
    medium   TEXT NOT NULL,
    at       TEXT NOT NULL,
    location TEXT NOT NULL,
    by       TEXT NOT NULL,
    note     TEXT
);
CREATE INDEX locations_by_medium ON locations (medium);
CREATE TABLE copies (
    snapshot    TEXT NOT NULL,
    medium      TEXT NOT NULL,
    since       TEXT NOT NULL,
    complete    INTEGER NOT NULL,
    verified_at TEXT,
    verified_ok INTEGER,
    PRIMARY KEY (snapshot, medium)
);
CREATE TABLE protections (
    seq       INTEGER PRIMARY KEY,
    medium    TEXT NOT NULL,
    snapshot  TEXT NOT NULL,
    at        TEXT NOT NULL,
    mode      TEXT NOT NULL,
    retention TEXT NOT NULL
);
CREATE TABLE lock_probes (
    seq     INTEGER PRIMARY KEY,
    medium  TEXT NOT NULL,
    at      TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail  TEXT
);
CREATE TABLE attestations (
    id               TEXT PRIMARY KEY,
    body             TEXT NOT NULL,
    recorded_at      TEXT NOT NULL,
    withdrawn_by     TEXT,
    withdrawn_reason TEXT
);
CREATE TABLE jobs (
    seq         INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    target      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE TABLE drills (
    seq        INTEGER PRIMARY KEY,
    snapshot   TEXT NOT NULL,
    medium     TEXT NOT NULL,
    started_at TEXT NOT NULL,
    seconds    REAL NOT NULL,
    ok         INTEGER NOT NULL,
    by         TEXT,
    detail     TEXT
);
"#,
    // 2: tape media sets, and copies spanning several media.
    r#"
ALTER TABLE copies ADD COLUMN with_media TEXT NOT NULL DEFAULT '[]';
CREATE TABLE media_sets (
    id             TEXT PRIMARY KEY,
    pool           TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    closed_at      TEXT,
    complete       INTEGER NOT NULL DEFAULT 0,
    snapshots      TEXT NOT NULL DEFAULT '[]',
    retained_until TEXT
);
CREATE TABLE set_cartridges (
    media_set  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    medium     TEXT NOT NULL,
    labeled_at TEXT NOT NULL,
    PRIMARY KEY (media_set, seq)
);
CREATE INDEX set_cartridges_by_medium ON set_cartridges (medium);
"#,
    // 3: the notification outbox.
    r#"
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    target          TEXT NOT NULL,
    notice          TEXT NOT NULL,
    queued_at       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error      TEXT,
    state           TEXT NOT NULL,
    closed_at       TEXT
);
CREATE INDEX notifications_open ON notifications (state);
"#,
    // 4: vaults' signed receipts.
    r#"
CREATE TABLE vault_receipts (
    seq    INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE,
    vault  TEXT NOT NULL,
    issued TEXT NOT NULL,
    file   TEXT NOT NULL,
    body   TEXT NOT NULL
);
CREATE INDEX vault_receipts_by_vault ON vault_receipts (vault);
"#,
    // 5: what `hokan drill` measured (NULL on drills recorded before it).
    r#"
ALTER TABLE drills ADD COLUMN kind TEXT;
ALTER TABLE drills ADD COLUMN source TEXT;
ALTER TABLE drills ADD COLUMN target TEXT;
ALTER TABLE drills ADD COLUMN first_file_secs REAL;
ALTER TABLE drills ADD COLUMN bytes INTEGER;
ALTER TABLE drills ADD COLUMN throughput REAL;
ALTER TABLE drills ADD COLUMN files_checked INTEGER;
ALTER TABLE drills ADD COLUMN app_check TEXT;
ALTER TABLE drills ADD COLUMN failures TEXT;
ALTER TABLE drills ADD COLUMN projected_secs REAL;
ALTER TABLE drills ADD COLUMN rto_secs REAL;
"#,
];

/// The projection tables, in the order `catalog verify` compares them, each
/// with the column that orders its rows.
pub(crate) const PROJECTION: &[(&str, &str)] = &[
    ("sources", "name"),
    ("snapshots", "id"),
    ("media", "id"),
    ("locations", "seq"),
    ("copies", "snapshot, medium"),
    ("protections", "seq"),
    ("lock_probes", "seq"),
    ("attestations", "id"),
    ("jobs", "seq"),
    ("drills", "seq"),
    ("media_sets", "id"),
    ("set_cartridges", "media_set, seq"),
    ("notifications", "id"),
    ("vault_receipts", "seq"),
];
