//! hokan's offline evaluator: (facts, policy, now) → verdicts.
//!
//! This crate owns one question: *if ransomware encrypts everything that is
//! online tonight, which generations can we still restore, and from which
//! media?* It answers it under the MHLW definitions
//! 「各媒体におけるオフライン状態の定義」 (summarised in the repository's `docs/offline-definitions.md`), item
//! by item (項番 ①-1-1 … ⑤-1, see [`Koban`]), for every copy, and judges each
//! source against the site's [`Policy`].
//!
//! It is a pure function, [`evaluate`]: no I/O, no clock, no environment, no
//! database. The catalog gathers the [`Facts`]; `hokan status` and
//! `hokan report` print the [`Evaluation`]; tape, RDX, removable-disk, S3 and
//! vault code only ever add facts. Being pure is what lets the rules be tested
//! exhaustively, and lets a report for an inspector be re-created for any
//! past instant from the same facts.
//!
//! ```
//! use hokan_offline::*;
//! use time::macros::datetime;
//!
//! let mut facts = Facts::default();
//! facts.generations.push(Generation {
//!     snapshot: "9f2c01ab".into(),
//!     source: "emr".into(),
//!     taken_at: datetime!(2025-06-01 22:00 +09:00),
//! });
//! facts.media.push(Medium {
//!     id: "HKN003L9".into(),
//!     kind: MediumKind::LtoSingleDrive,
//!     pool: None,
//!     condition: Condition::Full,
//! });
//! facts.copies.push(Copy {
//!     snapshot: "9f2c01ab".into(),
//!     medium: "HKN003L9".into(),
//!     since: datetime!(2025-06-02 01:00 +09:00),
//!     complete: true,
//!     with: vec![],
//!     verified_at: None,
//! });
//! let in_drive = Observation {
//!     medium: "HKN003L9".into(),
//!     at: datetime!(2025-06-02 01:05 +09:00),
//!     location: Location::InDrive { drive: "drive1".into() },
//!     by: ObservedBy::Device { device: "drive1".into() },
//!     note: None,
//! };
//! facts.observations.push(in_drive.clone());
//!
//! let now = datetime!(2025-06-02 09:00 +09:00);
//! let ev = evaluate(&facts, &Policy::default(), now);
//! assert!(!ev.compliant);
//! assert_eq!(ev.problems[0].code.as_str(), "medium-in-drive");
//! assert!(ev.problems[0].next_step.ja.contains("HKN003L9 を drive1 から取り出し"));
//!
//! // Someone ejects the tape; the drive reports it.
//! facts.observations.push(Observation {
//!     at: datetime!(2025-06-02 08:30 +09:00),
//!     location: Location::Ejected { drive: Some("drive1".into()) },
//!     ..in_drive
//! });
//! let ev = evaluate(&facts, &Policy::default(), now);
//! assert_eq!(ev.copies[0].verdict.describe(now.offset()).en, "offline under ①-1-1");
//! // One offline generation; the policy wants three.
//! assert_eq!(ev.sources[0].offline_generations.len(), 1);
//! assert!(!ev.sources[0].compliant);
//! ```
//!
//! # Conservative by construction
//! - What was not observed or attested is [`Verdict::Unknown`], never offline.
//! - Facts stamped after `now` are ignored; ties at one instant are broken
//!   towards the answer that counts less.
//! - Moving any medium into a drive, or letting any lock or attestation run
//!   out, can never raise the number of offline generations of any source
//!   (a property test checks this on random sites).
//!
//! # Carried media: where the medium is
//! The latest location observation at or before `now` decides. In a drive, in
//! an autoloader's active slot, or connected: online, whatever the kind.
//!
//! | kind | offline | 項番 |
//! |---|---|---|
//! | LTO, single drive | ejected, shelf, offsite | ①-1-1 |
//! | LTO, library | library slot, **mail slot** | ①-2-1 |
//! | LTO, library | exported, shelf, offsite | ①-2-2 |
//! | RDX single drive, removable disk/NAS | ejected (unplugged), shelf, offsite | ②-1-1 |
//! | RDX autoloader | inactive slot **and** a valid segmentation attestation | ②-2-1 |
//! | RDX autoloader | exported, shelf, offsite | ②-2-2 |
//!
//! Any other combination (an LTO single-drive cartridge in a library slot, an
//! RDX cartridge "exported" from a drive) means the kind or the location
//! record is wrong, and is unknown.
//!
//! # Stored media: what protects the copy
//! - ③-1 (object store): the copy's latest protection record shows a lock
//!   whose retention has not ended, **or** a valid provider-isolation
//!   attestation.
//! - ④-1 (immutable appliance): a lock that has not ended **and** a valid
//!   immutable-device attestation.
//! - ⑤-1 (pull-only vault): a valid pull-only attestation; the vault's own
//!   WORM retention can also qualify it under ④-1, like an appliance.
//!
//! # Rules chosen where the definitions are silent
//! 1. **Mail slot** (import/export slot) is inside the library: the robot
//!    can load it again, so it is ①-2-1, not ①-2-2, and an info problem says
//!    to take it out.
//! 2. **Shelf/offsite** counts as "ejected" for single-drive media and as
//!    "exported" for library/autoloader media.
//! 3. **Removable disks and NAS** rotated by hand are judged as ②-1-1, per
//!    the definitions' note; connected (mounted, switched on) is online.
//! 4. **Latest observation wins**, whoever made it: a person's "shelf" record
//!    loses to a later device report of the tape in a drive, and a person's
//!    later record beats an older device report of a slot or an ejection
//!    (they took it on from there). At the same instant a device beats a
//!    person, unless the device reports that the medium left it (ejected,
//!    exported): the person then says where it went. Then the more
//!    reachable place wins.
//!    **Devices over words**: when the newest device report put the medium
//!    *inside* a device (a drive, an active slot, connected), a later
//!    person's record that takes it out of reach (shelf, offsite, exported,
//!    ejected, a slot) is [`Missing::PersonContradictsDevice`], unknown,
//!    until a later device report agrees: hokan asks the devices before
//!    judging (`hokan status`), so a cartridge really taken out is confirmed
//!    by the next look, and a person's word alone cannot make a cartridge
//!    that a drive holds count.
//! 5. **A person's record goes stale** after `max_person_location_age`
//!    (default 92 days) and the location becomes unknown: people forget to
//!    record moves and tapes get lost, so a record nobody re-confirms must
//!    stop counting. A warning comes within the warning horizon before.
//!    **Device reports do not go stale**: a medium that comes back into any
//!    drive or slot hokan watches produces a newer report, and the catalog
//!    records device inventories as they change, so age says nothing there.
//! 6. **②-2-1 without a segmentation attestation is online**, not unknown: a
//!    network is not segmented unless someone made it so; the reason names
//!    the missing (or lapsed) attestation. A site-wide attestation covers
//!    every autoloader.
//! 7. **④-1 and ⑤-1 without their attestation are unknown**: software cannot
//!    see whether a device's area is immutable or a firewall blocks inbound
//!    traffic. ③-1 needs an attestation only on the isolation route.
//! 8. **Locks**: compliance mode and WORM servers are full strength;
//!    governance mode is weaker (bypassable); an immutable flag is weaker
//!    unless the device is attested immutable; a lock nobody ever tested
//!    (no [`LockProbe`]) is weaker. A retention that has ended, or no lock,
//!    is online. A copy's retention is the earliest among its objects.
//! 9. **A failed lock test overrides everything** on that medium, attestations
//!    included: evidence that data could be deleted beats a claim that it
//!    cannot. It is a site-wide error.
//! 10. **Attestations always expire**; they count from `valid_from` up to (not
//!     including) `expires_at` or an earlier withdrawal.
//! 11. **Weaker copies count** towards offline generations (the definitions
//!     accept retention for a set period), and every generation that counts
//!     only through weaker copies is a warning.
//! 12. **Damaged and retired media, and incomplete copies, never count**, but
//!     their location verdict is still shown ([`CopyVerdict::excluded`]).
//! 13. **Rotation** needs at least two offline generations, not all on one
//!     medium, and not all losing protection by one instant within the warning
//!     horizon (see [`compliance`]).
//! 14. **Age** is measured from when the newest offline generation was
//!     *taken*, not copied: a restore brings back the data of that instant.
//! 15. **Pool retention** never changes a verdict; copies past it are only
//!     reported, because the catalog removes copies once a medium is reused.
//! 16. **Verification** (`verified_at`) does not change a verdict: offline is
//!     about reach, not integrity; verify and drill results are reported apart.
//! 17. **Site compliance** is every source compliant and no site-wide error.
//!     Media are only reported as a problem when they hold complete copies:
//!     a blank tape waiting in a drive is normal.
#![deny(missing_docs)]

pub mod compliance;
mod drill_kind;
mod evaluate;
pub mod facts;
pub mod id;
mod judge;
pub mod koban;
pub mod limits;
pub mod policy;
pub mod problem;
mod site;
pub mod span;
pub mod text;
pub mod verdict;

pub use compliance::{NewestOffline, OfflineCopy, OfflineGeneration, Rotation, SourceCompliance};
pub use drill_kind::MediumClass;
pub use evaluate::{evaluate, Evaluation, MediumState};
pub use facts::{
    Attestation, Claim, Condition, Copy, Drill, Facts, Generation, Location, LockMode, LockProbe,
    Medium, MediumKind, Observation, ObservedBy, ProbeOutcome, Protection, Retention, VaultFinding,
    VaultHeld, VaultReceipt,
};
pub use id::{AttestationId, DeviceId, MediumId, Person, PoolName, SnapshotId, SourceName};
pub use koban::Koban;
pub use policy::{
    Policy, PolicyOptions, SourcePolicyOptions, DEFAULT_VAULT_FRESH_FOR, DEFINITION_FLOOR,
    EXPORT_RECORD_GRACE, RECEIPT_CLOCK_SKEW,
};
pub use problem::{Problem, ProblemCode, Severity};
pub use text::Text;
pub use verdict::{
    CopyVerdict, Deadline, DeadlineCause, Exclusion, Lapsed, Missing, OnlineReason, Strength,
    Verdict, WeakerReason,
};

/// Errors from building a policy. Evaluation itself cannot fail: facts that
/// contradict each other become problems, so `status` always has an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineError {
    /// Fewer offline generations than the definitions' premise of several
    /// rotating generations allows.
    #[error("the policy asks for {asked} offline generation(s){}; the offline definitions require several rotating generations, so at least {floor} (複数世代のローテーションが前提のため {floor} 世代以上が必要です)", .for_source.as_ref().map(|s| format!(" for source {s}")).unwrap_or_default())]
    BelowFloor {
        /// The source the setting is for, `None` for the site default.
        for_source: Option<SourceName>,
        /// What was asked.
        asked: u32,
        /// The floor, [`DEFINITION_FLOOR`].
        floor: u32,
    },
    /// A length of time that makes no sense for its setting.
    #[error("policy setting {setting} = {value} must be {need}")]
    BadSetting {
        /// Which setting.
        setting: String,
        /// The value given.
        value: String,
        /// What it must be.
        need: &'static str,
    },
    /// A length of time that cannot be read.
    #[error("cannot read {text:?} as a length of time: {why}")]
    BadSpan {
        /// The text given.
        text: String,
        /// What is wrong with it.
        why: &'static str,
    },
}
