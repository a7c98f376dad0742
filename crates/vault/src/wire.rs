//! What crosses the network between the primary's export and a vault
//! (`docs/vault.md` §2), and the checks the vault makes on everything it
//! receives before it believes any of it.
//!
//! The vault trusts nothing the primary says: a name must be 64 hex digits
//! (or `config`), a kind one of five, a size within [`Limits`]. Only then is
//! a path built from it, so that no answer can name a file outside the
//! vault's folder.

use serde::{Deserialize, Serialize};

/// The kinds of object a vault holds (a repository's, without locks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `config`: plaintext JSON; it has no BLAKE3 name.
    Config,
    /// `keys/<name>`: a key slot.
    Key,
    /// `data/<2 hex>/<name>`: a pack.
    Pack,
    /// `index/<name>`: an index file.
    Index,
    /// `snapshots/<name>`: a snapshot manifest.
    Snapshot,
}

impl Kind {
    /// Every kind, in the order a generation's objects are written.
    pub const ALL: [Kind; 5] = [
        Kind::Config,
        Kind::Key,
        Kind::Pack,
        Kind::Index,
        Kind::Snapshot,
    ];

    /// The word in the export's URL (`/v1/objects/<word>/<name>`).
    pub fn word(self) -> &'static str {
        match self {
            Kind::Config => "config",
            Kind::Key => "key",
            Kind::Pack => "pack",
            Kind::Index => "index",
            Kind::Snapshot => "snapshot",
        }
    }

    /// The kind for a URL word.
    pub fn from_word(w: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.word() == w)
    }

    /// The repository's own kind.
    pub fn object_kind(self) -> hokan_repo::store::ObjectKind {
        use hokan_repo::store::ObjectKind as O;
        match self {
            Kind::Config => O::Config,
            Kind::Key => O::Key,
            Kind::Pack => O::Pack,
            Kind::Index => O::Index,
            Kind::Snapshot => O::Snapshot,
        }
    }

    /// The vault's kind for a repository kind (`None` for locks).
    pub fn from_object_kind(k: hokan_repo::store::ObjectKind) -> Option<Kind> {
        use hokan_repo::store::ObjectKind as O;
        Some(match k {
            O::Config => Kind::Config,
            O::Key => Kind::Key,
            O::Pack => Kind::Pack,
            O::Index => Kind::Index,
            O::Snapshot => Kind::Snapshot,
            O::Lock => return None,
        })
    }
}

/// Why something the primary sent was refused before anything was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A name that is neither `config` (for the config) nor 64 lowercase hex digits.
    #[error("the name {0:?} is not a hokan object name (64 hex digits)")]
    BadName(String),
    /// An object bigger than the vault accepts.
    #[error("{kind:?} {name} is {size} bytes, more than the vault accepts ({max})")]
    TooBig {
        /// Its kind.
        kind: Kind,
        /// Its name.
        name: String,
        /// The size the primary declared.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// More entries than the vault reads in one answer.
    #[error("the primary listed {count} entries, more than the vault reads ({max})")]
    TooMany {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A plan that does not end with its own snapshot, or lacks the config.
    #[error("the plan for {0} is not a self-contained copy (no config, or not ending with the snapshot)")]
    NotSelfContained(String),
    /// One object listed twice (two sizes for one name would make the
    /// ledger's object list disagree with its hash).
    #[error("the plan lists {kind:?} {name} more than once")]
    Duplicate {
        /// Its kind.
        kind: Kind,
        /// Its name.
        name: String,
    },
    /// A time that is not RFC 3339.
    #[error("the time {0:?} is not an RFC 3339 time")]
    BadTime(String),
}

/// How much the vault accepts from the primary (a hostile primary cannot
/// make it hold more than this in memory, or wait longer).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest object (a pack is a few MiB; default 512 MiB).
    pub max_object: u64,
    /// Largest JSON answer (the listing, a plan; default 16 MiB).
    pub max_json: u64,
    /// Most generations in a listing and objects in a plan (default 1,000,000).
    pub max_entries: usize,
    /// Longest a single request may take, body included (default 10 min).
    pub request_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_object: 512 << 20,
            max_json: 16 << 20,
            max_entries: 1_000_000,
            request_timeout: std::time::Duration::from_secs(600),
        }
    }
}

/// `GET /v1/generations`: the snapshots the primary offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    /// The repository's id (from its config).
    pub repository: String,
    /// The generations, in no particular order.
    pub generations: Vec<Offered>,
}

/// One generation the primary offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offered {
    /// The snapshot's name (BLAKE3 of its sealed bytes).
    pub snapshot: String,
    /// The source it is of.
    pub source: String,
    /// When it was taken, RFC 3339 (the primary's word: the vault cannot
    /// read the sealed snapshot without the passphrase).
    pub time: String,
}

/// `GET /v1/generations/<snapshot>/plan`: every object a self-contained
/// copy of that generation needs, in the order to write them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The snapshot.
    pub snapshot: String,
    /// The objects; the last one is the snapshot itself.
    pub objects: Vec<PlanObject>,
}

/// One object of a [`Plan`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanObject {
    /// Its kind.
    pub kind: Kind,
    /// Its name (`config` for the config).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Is this a name the vault may build a path from?
pub fn check_name(kind: Kind, name: &str) -> Result<(), Refused> {
    let ok = match kind {
        Kind::Config => name == "config",
        _ => is_hex64(name),
    };
    if ok {
        Ok(())
    } else {
        Err(Refused::BadName(name.to_string()))
    }
}

/// 64 lowercase hex digits.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Offered {
    /// Check the name and the time; the time, parsed.
    pub fn check(&self) -> Result<time::OffsetDateTime, Refused> {
        check_name(Kind::Snapshot, &self.snapshot)?;
        time::OffsetDateTime::parse(&self.time, &time::format_description::well_known::Rfc3339)
            .map_err(|_| Refused::BadTime(self.time.clone()))
    }
}

impl Plan {
    /// Check every entry: names, sizes, count, and that the plan is a
    /// self-contained copy of its own snapshot.
    pub fn check(&self, limits: &Limits) -> Result<(), Refused> {
        if self.objects.len() > limits.max_entries {
            return Err(Refused::TooMany {
                count: self.objects.len(),
                max: limits.max_entries,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for o in &self.objects {
            check_name(o.kind, &o.name)?;
            if !seen.insert((o.kind, o.name.as_str())) {
                return Err(Refused::Duplicate {
                    kind: o.kind,
                    name: o.name.clone(),
                });
            }
            if o.size > limits.max_object {
                return Err(Refused::TooBig {
                    kind: o.kind,
                    name: o.name.clone(),
                    size: o.size,
                    max: limits.max_object,
                });
            }
        }
        let last_ok = self
            .objects
            .last()
            .is_some_and(|o| o.kind == Kind::Snapshot && o.name == self.snapshot);
        let snapshots = self
            .objects
            .iter()
            .filter(|o| o.kind == Kind::Snapshot)
            .count();
        let has_config = self.objects.iter().any(|o| o.kind == Kind::Config);
        if !last_ok || snapshots != 1 || !has_config {
            return Err(Refused::NotSelfContained(self.snapshot.clone()));
        }
        Ok(())
    }

    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        self.objects.iter().map(|o| o.size).sum()
    }
}

/// Where an object lives inside a repository folder (`data/3f/3f…`).
/// Only for names [`check_name`] accepted.
pub fn rel_path(kind: Kind, name: &str) -> std::path::PathBuf {
    kind.object_kind().path(name).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(objects: Vec<(Kind, &str, u64)>) -> Plan {
        Plan {
            snapshot: "a".repeat(64),
            objects: objects
                .into_iter()
                .map(|(kind, name, size)| PlanObject {
                    kind,
                    name: name.into(),
                    size,
                })
                .collect(),
        }
    }

    #[test]
    fn names_that_could_leave_the_folder_are_refused() {
        for bad in [
            "../../etc/passwd",
            "config",
            "",
            &"A".repeat(64),
            &format!("{}/x", "a".repeat(62)),
        ] {
            assert!(check_name(Kind::Pack, bad).is_err(), "{bad:?}");
        }
        assert!(check_name(Kind::Config, "../config").is_err());
        assert!(check_name(Kind::Config, "config").is_ok());
        assert!(check_name(Kind::Pack, &"0f".repeat(32)).is_ok());
    }

    #[test]
    fn a_plan_must_end_with_its_snapshot_and_hold_the_config() {
        let s = "a".repeat(64);
        let p = "b".repeat(64);
        let l = Limits::default();
        assert!(plan(vec![
            (Kind::Config, "config", 10),
            (Kind::Pack, &p, 5),
            (Kind::Snapshot, &s, 3)
        ])
        .check(&l)
        .is_ok());
        assert!(matches!(
            plan(vec![(Kind::Pack, &p, 5), (Kind::Snapshot, &s, 3)]).check(&l),
            Err(Refused::NotSelfContained(_))
        ));
        assert!(matches!(
            plan(vec![
                (Kind::Config, "config", 10),
                (Kind::Snapshot, &s, 3),
                (Kind::Pack, &p, 5)
            ])
            .check(&l),
            Err(Refused::NotSelfContained(_))
        ));
        assert!(matches!(
            plan(vec![
                (Kind::Config, "config", 10),
                (Kind::Pack, &p, u64::MAX),
                (Kind::Snapshot, &s, 3)
            ])
            .check(&l),
            Err(Refused::TooBig { .. })
        ));
    }

    #[test]
    fn unknown_fields_and_kinds_are_malformed() {
        assert!(
            serde_json::from_str::<PlanObject>(r#"{"kind":"lock","name":"x","size":1}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Listing>(r#"{"repository":"r","generations":[],"more":1}"#)
                .is_err()
        );
    }
}
