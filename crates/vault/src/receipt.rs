//! The vault's signed receipt (`docs/vault.md` §5): what it holds, until
//! when, and in what state it keeps it, signed with Ed25519 so that the
//! primary (whose catalog records the vault's copies from it) can tell a
//! receipt the vault wrote from one an attacker on the primary wrote.
//!
//! The envelope carries the body as the exact string that was signed, so
//! that no JSON canonicalisation stands between signer and verifier.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The envelope posted to the primary's inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// The receipt, as JSON text: exactly the bytes signed.
    pub receipt: String,
    /// Ed25519 signature of `receipt`'s UTF-8 bytes, hex (128 digits).
    pub signature: String,
}

/// What the vault says about itself after a pull.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Receipt format version (1).
    pub version: u32,
    /// The vault's name (as registered on the primary).
    pub vault: String,
    /// The primary repository's id the vault copies.
    pub repository: String,
    /// When the receipt was made, by the vault's compliance clock (RFC 3339).
    pub issued: String,
    /// The compliance clock's state.
    pub clock: ClockReport,
    /// The ledger's head hash after the pull (hex).
    pub ledger_head: String,
    /// How many rows the ledger has: the primary flags a vault whose
    /// ledger went back (a folder restored from an older copy, rows cut).
    #[serde(default)]
    pub ledger_rows: u64,
    /// Whether the pull that preceded the receipt completed.
    pub pull: PullReport,
    /// The immutable flag, checked on every object the vault holds.
    pub immutable: ImmutableReport,
    /// The network check (⑤-1): the live ruleset against the one hokan wrote.
    pub firewall: FirewallReport,
    /// The generations the vault holds, oldest first.
    pub generations: Vec<Held>,
    /// Findings not yet acknowledged by the vault's operator, newest last
    /// (at most 100; `findings_total` says how many there are).
    pub findings: Vec<FindingReport>,
    /// How many unacknowledged findings there are in all.
    pub findings_total: u64,
    /// The restore drills run on the vault (`hokan vault drill`) in the
    /// last [`DRILLS_FOR_DAYS`] days of its compliance clock, oldest first.
    /// Absent from receipts of vaults that never drilled (and from those
    /// made before drills existed, which still verify).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drills: Vec<DrillReport>,
}

/// How long a drill is repeated in every receipt: the primary records each
/// once (by vault, snapshot and start), so a receipt that did not reach it
/// is made good by any later one within this time.
pub const DRILLS_FOR_DAYS: i64 = 400;

/// A restore drill run on the vault from its own copy (`hokan vault
/// drill`), as its ledger records it and its receipts carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillReport {
    /// The source of the generation drilled.
    pub source: String,
    /// The snapshot's name.
    pub snapshot: String,
    /// When the drill started (the vault's clock, RFC 3339).
    pub started: String,
    /// Seconds the whole drill took (restore, checks, application check).
    pub seconds: f64,
    /// Seconds from the start to the first file's first bytes written.
    #[serde(default)]
    pub first_file_secs: Option<f64>,
    /// Content bytes restored.
    pub bytes: u64,
    /// Bytes per second of the restore.
    pub throughput: f64,
    /// Files checked against the snapshot.
    pub files_checked: u64,
    /// The application check's outcome: `passed`, `failed`, `timed-out`,
    /// `not-run`; absent when vault.toml has none for the source.
    #[serde(default)]
    pub app_check: Option<String>,
    /// What failed: the file or the object (`pack 3fa2…`), or `check`;
    /// empty when the drill passed.
    #[serde(default)]
    pub failures: Vec<DrillFailureReport>,
    /// Who ran it (the login name at the vault, or `--by`).
    pub by: String,
}

impl DrillReport {
    /// Nothing failed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One thing a vault drill found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillFailureReport {
    /// The file (relative to the restore), the object, or `check`.
    pub what: String,
    /// Why.
    pub why: String,
}

/// The compliance clock's state in a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockReport {
    /// `ok`, `behind` (the wall clock is earlier than the ledger's last
    /// time: the ledger's time is used) or `frozen` (the wall clock jumped
    /// forward beyond the threshold: expiry is frozen until an operator
    /// accepts the time at the vault's console).
    pub state: String,
    /// The wall clock when the receipt was made.
    pub wall: String,
}

/// How the pull went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullReport {
    /// `ok`, or `failed` (then `error` says why).
    pub state: String,
    /// Generations added by this pull.
    pub added: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Why the pull failed.
    pub error: Option<String>,
}

/// The immutable flag on the vault's objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImmutableReport {
    /// Objects checked.
    pub checked: u64,
    /// Objects without the flag (the first few by path).
    pub without_flag: Vec<String>,
    /// How many objects lack it in all.
    pub without_flag_total: u64,
}

/// The network check in a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallReport {
    /// `ok` (the live ruleset is hokan's), `differs`, or `unchecked`
    /// (no ruleset configured, or nft could not be run).
    pub state: String,
    /// What differs, or why it could not be checked.
    pub detail: Vec<String>,
}

/// One generation the vault holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Held {
    /// The snapshot's name.
    pub snapshot: String,
    /// Its source.
    pub source: String,
    /// When it was taken (the primary's word when it was pulled).
    pub time: String,
    /// When the vault stored it (compliance clock).
    pub stored: String,
    /// Until when the vault keeps it, whatever anybody asks.
    pub retain_until: String,
    /// Every object it needs is in the vault and carries the immutable flag.
    pub immutable: bool,
}

/// A finding in a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingReport {
    /// Ledger sequence number.
    pub seq: u64,
    /// When (compliance clock).
    pub time: String,
    /// Its kind (`changed-bytes`, `vanished`, `future-dated`, …).
    pub kind: String,
    /// What was seen.
    pub detail: String,
}

/// Why a receipt was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Not an envelope, or not a receipt.
    #[error("not a hokan vault receipt: {0}")]
    Malformed(String),
    /// The signature does not verify with the registered key.
    #[error("the receipt's signature does not match the vault's registered public key")]
    BadSignature,
    /// A key that is not 32 bytes of hex.
    #[error("not an Ed25519 public key (64 hex digits): {0}")]
    BadKey(String),
    /// Reading or writing the key file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
}

/// Sign a receipt.
pub fn sign(key: &SigningKey, r: &Receipt) -> Signed {
    let receipt = serde_json::to_string(r).expect("a receipt serialises");
    let signature = hex::encode(key.sign(receipt.as_bytes()).to_bytes());
    Signed { receipt, signature }
}

/// Verify an envelope's signature with the registered public key, then
/// read the receipt. A receipt is believed only after this.
pub fn verify(envelope: &[u8], key: &VerifyingKey) -> Result<Receipt, ReceiptError> {
    let s: Signed =
        serde_json::from_slice(envelope).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let sig: [u8; 64] = hex::decode(&s.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(ReceiptError::BadSignature)?;
    key.verify(s.receipt.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| ReceiptError::BadSignature)?;
    serde_json::from_str(&s.receipt).map_err(|e| ReceiptError::Malformed(e.to_string()))
}

/// A public key from its hex form (as written in the primary's hokan.toml).
pub fn public_key(hex_key: &str) -> Result<VerifyingKey, ReceiptError> {
    let b: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ReceiptError::BadKey(hex_key.to_string()))?;
    VerifyingKey::from_bytes(&b).map_err(|_| ReceiptError::BadKey(hex_key.to_string()))
}

/// The public key's hex form.
pub fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

/// Make a new signing key and write it (hex, mode 0600, never replacing a
/// file that exists).
pub fn create_key(path: &Path) -> Result<SigningKey, ReceiptError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let io = |source| ReceiptError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(hex::encode(key.to_bytes()).as_bytes())
        .map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(key)
}

/// Read a signing key written by [`create_key`].
pub fn load_key(path: &Path) -> Result<SigningKey, ReceiptError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReceiptError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let b: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ReceiptError::BadKey(path.display().to_string()))?;
    Ok(SigningKey::from_bytes(&b))
}

#[cfg(test)]
pub(crate) fn sample(vault: &str) -> Receipt {
    Receipt {
        version: 1,
        vault: vault.into(),
        repository: "r".repeat(64),
        issued: "2026-12-06T03:00:00Z".into(),
        clock: ClockReport {
            state: "ok".into(),
            wall: "2026-12-06T03:00:00Z".into(),
        },
        ledger_head: "0".repeat(64),
        ledger_rows: 0,
        pull: PullReport {
            state: "ok".into(),
            added: 1,
            bytes: 10,
            error: None,
        },
        immutable: ImmutableReport {
            checked: 3,
            without_flag: vec![],
            without_flag_total: 0,
        },
        firewall: FirewallReport {
            state: "ok".into(),
            detail: vec![],
        },
        generations: vec![],
        findings: vec![],
        findings_total: 0,
        drills: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_verifies_only_with_its_own_key_and_unchanged() {
        let d = tempfile::tempdir().unwrap();
        let key = create_key(&d.path().join("k")).unwrap();
        assert!(
            create_key(&d.path().join("k")).is_err(),
            "a key file is never replaced"
        );
        let again = load_key(&d.path().join("k")).unwrap();
        assert_eq!(public_hex(&key), public_hex(&again));
        let pk = public_key(&public_hex(&key)).unwrap();
        let env = serde_json::to_vec(&sign(&key, &sample("v1"))).unwrap();
        assert_eq!(verify(&env, &pk).unwrap(), sample("v1"));

        // An attacker on the primary edits the receipt (more generations,
        // a firewall that passed) or signs with a key of its own.
        let mut s: Signed = serde_json::from_slice(&env).unwrap();
        s.receipt = s
            .receipt
            .replace("\"differs\"", "\"ok\"")
            .replace("\"added\":1", "\"added\":2");
        let forged = serde_json::to_vec(&s).unwrap();
        assert!(matches!(
            verify(&forged, &pk),
            Err(ReceiptError::BadSignature)
        ));
        let other = SigningKey::generate(&mut rand::rngs::OsRng);
        let env2 = serde_json::to_vec(&sign(&other, &sample("v1"))).unwrap();
        assert!(matches!(
            verify(&env2, &pk),
            Err(ReceiptError::BadSignature)
        ));
        assert!(matches!(verify(b"{", &pk), Err(ReceiptError::Malformed(_))));
    }
}

#[cfg(test)]
mod drill_tests {
    use super::*;

    #[test]
    fn a_receipt_without_drills_is_written_and_read_as_before() {
        let d = tempfile::tempdir().unwrap();
        let key = create_key(&d.path().join("k")).unwrap();
        let pk = public_key(&public_hex(&key)).unwrap();
        let env = sign(&key, &sample("v1"));
        assert!(!env.receipt.contains("drills"), "{}", env.receipt);
        // A receipt signed before drills existed verifies and reads.
        assert_eq!(
            verify(&serde_json::to_vec(&env).unwrap(), &pk).unwrap(),
            sample("v1")
        );
        let mut r = sample("v1");
        r.drills.push(DrillReport {
            source: "emr".into(),
            snapshot: "a".repeat(64),
            started: "2026-12-06T02:00:00Z".into(),
            seconds: 1.5,
            first_file_secs: None,
            bytes: 10,
            throughput: 20.0,
            files_checked: 1,
            app_check: Some("failed".into()),
            failures: vec![DrillFailureReport {
                what: "check".into(),
                why: "exit 3".into(),
            }],
            by: "suzuki".into(),
        });
        let env = serde_json::to_vec(&sign(&key, &r)).unwrap();
        let back = verify(&env, &pk).unwrap();
        assert_eq!(back, r);
        assert!(!back.drills[0].ok());
    }
}
