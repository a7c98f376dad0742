//! Anchors: the catalog's head, written where the backup server cannot
//! rewrite it.
//!
//! The local head file (`<catalog>.head`) catches a clumsy edit, but an
//! attacker with root on the backup server replaces it together with the
//! database. So every job that writes offline media also writes the head of
//! the chain *there*: a small `HOKAN-ANCHOR.json` on each disk cartridge, the
//! `anchor` field of each tape media set's catalog, and a locked object
//! `anchors/<seq>-<hash>.json` in each S3 bucket. Media that have left the
//! server (a cartridge on the shelf, an object under compliance lock) keep
//! that head whatever happens to the catalog afterwards.
//!
//! # What an anchor proves
//! An anchor says "event `seq` of this site's chain had hash `hash`". A
//! catalog whose chain ends before `seq`, or has another hash there, was
//! rolled back (or rewritten) after the anchor was written:
//! [`crate::Catalog::verify_against`] reports it, and `status` refuses to
//! judge. Anchors are *not* signed: the attacker holds every key the server
//! has. A forged anchor can only make a genuine catalog look rolled back — a
//! false alarm, never a false "compliant". What anchors cannot catch: a
//! rollback to a point after the newest anchor the attacker could not reach
//! (everything recorded since the last job that wrote offline media), and
//! events that were false when recorded.
//!
//! # Format
//! UTF-8 JSON, one object (see [`Anchor`]); `format` is
//! [`ANCHOR_FORMAT`]. Readers ignore unknown fields so later versions can add
//! some; they refuse another `format`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::verify::Head;
use crate::Text;

/// The `format` value of anchors this build writes and reads.
pub const ANCHOR_FORMAT: &str = "hokan-catalog-anchor-v1";

/// The file name of the anchor on a disk cartridge (beside its label).
pub const DISK_ANCHOR_FILE: &str = "HOKAN-ANCHOR.json";

/// The prefix of anchor objects in an S3 bucket.
pub const STORE_ANCHOR_PREFIX: &str = "anchors/";

/// Anchors larger than this are refused unread (a hostile medium must not
/// make hokan read gigabytes to find a head).
pub const MAX_ANCHOR_BYTES: usize = 4096;

/// The head of a site's chain as written on one medium.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// Always [`ANCHOR_FORMAT`].
    pub format: String,
    /// The site's name (`[site] name`), to tell anchors of two sites apart.
    pub site: String,
    /// The event number of the head.
    pub seq: u64,
    /// Its hash, 64 lower-case hex digits.
    pub hash: String,
    /// When the anchor was written.
    #[serde(with = "time::serde::rfc3339")]
    pub written_at: OffsetDateTime,
    /// The medium it was written on, as the catalog names it.
    pub medium: String,
}

/// Why bytes are not an anchor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// Longer than [`MAX_ANCHOR_BYTES`].
    #[error("the anchor is {0} bytes, more than an anchor can be")]
    TooLarge(usize),
    /// Not the JSON of an anchor.
    #[error("not a hokan catalog anchor: {0}")]
    Parse(#[source] serde_json::Error),
    /// Another format.
    #[error("anchor format {0:?} is not {ANCHOR_FORMAT:?} (written by a newer hokan?)")]
    Format(String),
    /// The hash is not 64 hex digits, or seq is 0.
    #[error("the anchor names no valid head ({0})")]
    Head(String),
}

impl Anchor {
    /// An anchor of `head`, to be written on `medium` at `at`.
    pub fn new(site: &str, head: &Head, medium: &str, at: OffsetDateTime) -> Anchor {
        Anchor {
            format: ANCHOR_FORMAT.to_owned(),
            site: site.to_owned(),
            seq: head.seq,
            hash: head.hash.clone(),
            written_at: at,
            medium: medium.to_owned(),
        }
    }

    /// The bytes to write.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("anchors serialise");
        v.push(b'\n');
        v
    }

    /// Read an anchor, refusing anything that is not one.
    pub fn parse(bytes: &[u8]) -> Result<Anchor, AnchorError> {
        if bytes.len() > MAX_ANCHOR_BYTES {
            return Err(AnchorError::TooLarge(bytes.len()));
        }
        let a: Anchor = serde_json::from_slice(bytes).map_err(AnchorError::Parse)?;
        if a.format != ANCHOR_FORMAT {
            return Err(AnchorError::Format(a.format));
        }
        if a.seq == 0 || Head::parse(&format!("{}:{}", a.seq, a.hash)).is_none() {
            return Err(AnchorError::Head(format!("{}:{}", a.seq, a.hash)));
        }
        Ok(a)
    }

    /// The head it names.
    pub fn head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.hash.to_ascii_lowercase(),
        }
    }

    /// The object name in a store: `anchors/<seq, 20 digits>-<hash>.json`,
    /// so that a listing alone shows every head in order.
    pub fn object_name(&self) -> String {
        format!("{STORE_ANCHOR_PREFIX}{:020}-{}.json", self.seq, self.hash)
    }

    /// Whether an object name is an anchor's (see [`Anchor::object_name`]).
    pub fn is_object_name(name: &str) -> bool {
        name.strip_prefix(STORE_ANCHOR_PREFIX)
            .and_then(|n| n.strip_suffix(".json"))
            .is_some_and(|n| n.len() == 20 + 1 + 64)
    }

    /// Where this anchor was read, for [`Expected`].
    pub fn expected(&self, from: Text) -> Expected {
        Expected {
            head: self.head(),
            from,
        }
    }
}

/// A head the catalog's chain must contain, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The head.
    pub head: Head,
    /// Where it was read ("anchor on cartridge RDX-MON", "S3 bucket x"),
    /// in both languages, for the message.
    pub from: Text,
}

/// A catalog that does not contain an anchor read from offline media: it
/// was rolled back to an older copy (or replaced) after the anchor was
/// written. Jobs refuse to write to that medium, so that the anchor — the
/// evidence — stays as it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "{medium} carries the catalog head {anchor} (written {written_at}), which the catalog does not contain (its head is {head}): the catalog was rolled back or replaced"
)]
pub struct RolledBack {
    /// The medium the anchor was read from (`RDX-MON`, a tape barcode).
    pub medium: String,
    /// The head the anchor names.
    pub anchor: Head,
    /// When the anchor was written.
    pub written_at: OffsetDateTime,
    /// The catalog's head now.
    pub head: Head,
}

impl RolledBack {
    /// The refusal for `anchor`, read from `medium`, against a catalog whose
    /// head is `head`.
    pub fn new(medium: &str, anchor: &Anchor, head: Head) -> RolledBack {
        RolledBack {
            medium: medium.to_owned(),
            anchor: anchor.head(),
            written_at: anchor.written_at,
            head,
        }
    }

    /// What was found and what to do, in both languages: names the medium,
    /// the anchor's event number and the catalog's head.
    pub fn text(&self) -> Text {
        let at = self
            .written_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Text::new(
            format!(
                "{m} carries the catalog head of event {a} ({ah}, written {at}), but the catalog does not contain it: its head is event {h} ({hh}). The catalog was rolled back to an older copy or replaced. Nothing was written to {m}, so the evidence stays. Run `hokan catalog verify`, then see docs/catalog.md \"When the catalog cannot be trusted\"",
                m = self.medium,
                a = self.anchor.seq,
                ah = short(&self.anchor.hash),
                h = self.head.seq,
                hh = short(&self.head.hash),
            ),
            format!(
                "{m} にはカタログのヘッド（イベント {a}、{ah}、{at} に書込）が記録されていますが、カタログにはそれがありません（カタログのヘッドはイベント {h}、{hh}）。カタログが古い複製に巻き戻されたか、差し替えられています。証拠を残すため {m} には何も書き込んでいません。`hokan catalog verify` を実行し、docs/catalog.md の「カタログが信頼できないとき」を参照してください",
                m = self.medium,
                a = self.anchor.seq,
                ah = short(&self.anchor.hash),
                h = self.head.seq,
                hh = short(&self.head.hash),
            ),
        )
    }
}

/// The first 16 hex digits of a hash, as messages show it.
fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

impl crate::Catalog {
    /// Whether the event log holds event `head.seq` with hash `head.hash`:
    /// the cheap check of an anchor read from offline media (one indexed
    /// lookup; [`crate::Catalog::verify_against`] checks the whole chain).
    /// The empty head (seq 0) is in every catalog. `false` means the catalog
    /// was rolled back to before that event, or its log was rewritten from
    /// there on (or it is another site's catalog).
    pub fn contains(&self, head: &Head) -> crate::Result<bool> {
        if head.seq == 0 {
            return Ok(true);
        }
        let Ok(seq) = i64::try_from(head.seq) else {
            return Ok(false);
        };
        let found: Option<Vec<u8>> = crate::optional(self.conn.query_row(
            "SELECT hash FROM events WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        ))?;
        Ok(found.is_some_and(|h| hex::encode(h) == head.hash.to_ascii_lowercase()))
    }

    /// [`crate::Catalog::contains`] for an anchor read from `medium`:
    /// `Ok(Err(_))` names the rollback.
    pub fn check_anchor(
        &self,
        medium: &str,
        anchor: &Anchor,
    ) -> crate::Result<Result<(), RolledBack>> {
        if self.contains(&anchor.head())? {
            return Ok(Ok(()));
        }
        Ok(Err(RolledBack::new(medium, anchor, self.head()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head {
            seq: 42,
            hash: "ab".repeat(32),
        }
    }

    #[test]
    fn round_trip_and_name() {
        let a = Anchor::new("病院", &head(), "RDX-MON", OffsetDateTime::UNIX_EPOCH);
        let b = Anchor::parse(&a.to_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.head(), head());
        assert!(Anchor::is_object_name(&a.object_name()));
        assert!(a
            .object_name()
            .starts_with("anchors/00000000000000000042-abab"));
        assert!(!Anchor::is_object_name("anchors/42-ab.json"));
    }

    #[test]
    fn refuses_what_is_not_an_anchor() {
        let a = Anchor::new("s", &head(), "m", OffsetDateTime::UNIX_EPOCH);
        let mut other = a.clone();
        other.format = "hokan-catalog-anchor-v9".into();
        assert!(matches!(
            Anchor::parse(&serde_json::to_vec(&other).unwrap()),
            Err(AnchorError::Format(_))
        ));
        let mut bad = a.clone();
        bad.hash = "zz".into();
        assert!(matches!(
            Anchor::parse(&serde_json::to_vec(&bad).unwrap()),
            Err(AnchorError::Head(_))
        ));
        assert!(matches!(
            Anchor::parse(&vec![b' '; MAX_ANCHOR_BYTES + 1]),
            Err(AnchorError::TooLarge(_))
        ));
        assert!(matches!(
            Anchor::parse(b"garbage"),
            Err(AnchorError::Parse(_))
        ));
    }

    #[test]
    fn contains_finds_each_head_of_the_chain_and_nothing_else() {
        use crate::{Catalog, Event};
        use hokan_offline::{MediumId, MediumKind};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let mut cat = Catalog::open(&path).unwrap();
        let empty = cat.head().unwrap();
        assert!(cat.contains(&empty).unwrap(), "seq 0 is in every catalog");
        let mut heads = Vec::new();
        for i in 0..3 {
            cat.record(
                OffsetDateTime::UNIX_EPOCH,
                "test",
                Event::MediumAdded {
                    medium: MediumId::new(format!("M{i}")),
                    kind: MediumKind::RemovableDisk,
                    pool: None,
                    label: None,
                    capacity: None,
                    note: None,
                },
            )
            .unwrap();
            heads.push(cat.head().unwrap());
        }
        for h in &heads {
            assert!(cat.contains(h).unwrap(), "{h}");
            let upper = Head {
                seq: h.seq,
                hash: h.hash.to_ascii_uppercase(),
            };
            assert!(cat.contains(&upper).unwrap(), "hex case does not matter");
        }
        // Another hash at a seq the log has: a rewritten log.
        let other = Head {
            seq: 2,
            hash: "00".repeat(32),
        };
        assert!(!cat.contains(&other).unwrap());
        // Beyond the end: a rolled-back log.
        let beyond = Head {
            seq: 4,
            hash: heads[2].hash.clone(),
        };
        assert!(!cat.contains(&beyond).unwrap());
        assert!(!cat
            .contains(&Head {
                seq: u64::MAX,
                hash: heads[0].hash.clone()
            })
            .unwrap());

        // An anchor of head 3 against a copy rolled back to head 2.
        let anchor = Anchor::new("s", &heads[2], "RDX-MON", OffsetDateTime::UNIX_EPOCH);
        assert_eq!(cat.check_anchor("RDX-MON", &anchor).unwrap(), Ok(()));
        let old = Catalog::in_memory().unwrap();
        let refused = old.check_anchor("RDX-MON", &anchor).unwrap().unwrap_err();
        assert_eq!(refused.anchor, heads[2]);
        assert_eq!(refused.head.seq, 0);
        let text = refused.text();
        assert!(
            text.en.contains("RDX-MON") && text.en.contains("event 3"),
            "{}",
            text.en
        );
        assert!(text.en.contains("hokan catalog verify"), "{}", text.en);
        assert!(
            text.ja.contains("RDX-MON") && text.ja.contains("イベント 3"),
            "{}",
            text.ja
        );
    }
}
