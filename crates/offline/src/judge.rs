//! The rules that turn facts into one verdict per copy.
//!
//! Two families of media, two families of rules:
//! - *carried* media (tapes, RDX cartridges, removable disks) are judged by
//!   where they are: the latest location observation at or before `now`,
//!   checked against the table in the crate documentation;
//! - *stored* media (object stores, immutable appliances, vaults) are judged
//!   by what protects each copy: its latest protection record, the medium's
//!   latest lock probe, and attestations.
//!
//! Every "latest" choice breaks ties at the same instant towards the answer
//! that counts *less*, so the order in which the catalog hands over facts can
//! never make a copy count.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::facts::{
    Attestation, Claim, Facts, Location, LockMode, LockProbe, Medium, MediumKind, Observation,
    ObservedBy, ProbeOutcome, Protection, Retention, VaultReceipt,
};
use crate::id::{MediumId, SnapshotId};
use crate::koban::Koban;
use crate::limits::later;
use crate::policy::{Policy, EXPORT_RECORD_GRACE, RECEIPT_CLOCK_SKEW};
use crate::text::Text;
use crate::verdict::WeakerReason;
use crate::verdict::{Deadline, DeadlineCause, Lapsed, Missing, OnlineReason, Strength, Verdict};

/// Facts indexed for one evaluation at one instant.
pub(crate) struct Judge<'a> {
    pub facts: &'a Facts,
    pub policy: &'a Policy,
    pub now: OffsetDateTime,
    media: HashMap<&'a MediumId, &'a Medium>,
}

impl<'a> Judge<'a> {
    pub fn new(facts: &'a Facts, policy: &'a Policy, now: OffsetDateTime) -> Judge<'a> {
        let mut media = HashMap::new();
        for m in &facts.media {
            // A duplicate id is reported as a catalog inconsistency; the first
            // record is used.
            media.entry(&m.id).or_insert(m);
        }
        Judge {
            facts,
            policy,
            now,
            media,
        }
    }

    pub fn medium(&self, id: &MediumId) -> Option<&'a Medium> {
        self.media.get(id).copied()
    }

    /// The observation that says where `medium` is now: the latest at or
    /// before `now`. At the same instant a device's report beats a person's
    /// record (the device saw it; the person may have typed ahead), unless
    /// the device reports that the medium left it (ejected, exported): then
    /// the person's record says where it went, as it would a moment later.
    /// Then the more reachable location wins.
    pub fn current_observation(&self, medium: &MediumId) -> Option<&'a Observation> {
        // Who wins a tie: a device that holds or saw the medium, then a
        // person, then a device that saw it leave.
        let tie_rank = |o: &Observation| match (&o.by, &o.location) {
            (ObservedBy::Device { .. }, Location::Ejected { .. } | Location::Exported { .. }) => 0,
            (ObservedBy::Person { .. }, _) => 1,
            (ObservedBy::Device { .. }, _) => 2,
        };
        self.facts
            .observations
            .iter()
            .filter(|o| &o.medium == medium && o.at <= self.now)
            .max_by(|a, b| {
                let key = |o: &Observation| {
                    (
                        o.at,
                        tie_rank(o),
                        std::cmp::Reverse(o.location.reach_rank()),
                    )
                };
                key(a)
                    .cmp(&key(b))
                    .then_with(|| b.location.cmp(&a.location))
                    .then_with(|| b.by.cmp(&a.by))
                    .then_with(|| b.note.cmp(&a.note))
            })
    }

    /// The newest device report of `medium` at or before `now`; at the same
    /// instant the more reachable place wins.
    pub fn latest_device_observation(&self, medium: &MediumId) -> Option<&'a Observation> {
        self.facts
            .observations
            .iter()
            .filter(|o| {
                &o.medium == medium && o.at <= self.now && matches!(o.by, ObservedBy::Device { .. })
            })
            .max_by(|a, b| {
                let key = |o: &Observation| (o.at, std::cmp::Reverse(o.location.reach_rank()));
                key(a)
                    .cmp(&key(b))
                    .then_with(|| b.location.cmp(&a.location))
                    .then_with(|| b.by.cmp(&a.by))
            })
    }

    /// Devices over words: when `obs` is a person's record that would take
    /// the medium out of every device, but the newest device report placed
    /// it inside one (a drive, an active slot, connected), that device
    /// report. No device has confirmed the person since (a later device
    /// report would be the current observation), so the record cannot count.
    pub fn contradicted_by_device(&self, obs: &Observation) -> Option<&'a Observation> {
        if !matches!(obs.by, ObservedBy::Person { .. }) || !obs.location.takes_out_of_reach() {
            return None;
        }
        self.latest_device_observation(&obs.medium)
            .filter(|d| d.at <= obs.at && d.location.reach_rank() == 0)
    }

    /// When a record stops counting: a person's after the policy's
    /// `max_person_location_age`; a changer's report that it exported the
    /// medium after [`EXPORT_RECORD_GRACE`] (someone must say where it
    /// went); other device reports never.
    pub fn stale_at(&self, obs: &Observation) -> Option<OffsetDateTime> {
        match (&obs.by, &obs.location) {
            (ObservedBy::Person { .. }, _) => {
                Some(later(obs.at, self.policy.max_person_location_age()))
            }
            (ObservedBy::Device { .. }, Location::Exported { .. }) => {
                Some(later(obs.at, EXPORT_RECORD_GRACE))
            }
            (ObservedBy::Device { .. }, _) => None,
        }
    }

    /// The latest lock probe of `medium`; at the same instant a failure wins.
    pub fn latest_probe(&self, medium: &MediumId) -> Option<&'a LockProbe> {
        self.facts
            .probes
            .iter()
            .filter(|p| &p.medium == medium && p.at <= self.now)
            .max_by_key(|p| (p.at, p.outcome == ProbeOutcome::Failed))
    }

    /// The latest protection record of one copy; at the same instant the one
    /// that ends first, then the weaker mode, wins.
    pub fn latest_protection(
        &self,
        medium: &MediumId,
        snapshot: &SnapshotId,
    ) -> Option<&'a Protection> {
        fn ends(r: &Retention) -> (u8, Option<OffsetDateTime>) {
            match r {
                Retention::Unlocked => (0, None),
                Retention::Until { until } => (1, Some(*until)),
                Retention::Indefinite => (2, None),
            }
        }
        fn firmness(m: LockMode) -> u8 {
            match m {
                LockMode::Governance => 0,
                LockMode::ImmutableFlag => 1,
                LockMode::WormServer => 2,
                LockMode::Compliance => 3,
            }
        }
        self.facts
            .protections
            .iter()
            .filter(|p| &p.medium == medium && &p.snapshot == snapshot && p.recorded_at <= self.now)
            .max_by(|a, b| {
                a.recorded_at
                    .cmp(&b.recorded_at)
                    .then_with(|| ends(&b.retention).cmp(&ends(&a.retention)))
                    .then_with(|| firmness(b.mode).cmp(&firmness(a.mode)))
            })
    }

    /// The attestation of a claim that holds now and lasts longest.
    fn holding(&self, wanted: impl Fn(&Claim) -> bool) -> Option<&'a Attestation> {
        self.facts
            .attestations
            .iter()
            .filter(|a| wanted(&a.claim) && a.holds_at(self.now))
            .max_by(|a, b| a.ends_at().cmp(&b.ends_at()).then_with(|| b.id.cmp(&a.id)))
    }

    /// The attestation of a claim that most recently stopped holding.
    fn lapsed(&self, wanted: impl Fn(&Claim) -> bool) -> Option<Lapsed> {
        self.facts
            .attestations
            .iter()
            .filter(|a| wanted(&a.claim) && a.valid_from <= self.now && a.ends_at() <= self.now)
            .max_by(|a, b| a.ends_at().cmp(&b.ends_at()).then_with(|| b.id.cmp(&a.id)))
            .map(|a| Lapsed {
                id: a.id.clone(),
                ended_at: a.ends_at(),
            })
    }

    /// The verdict on a copy of `snapshot` held by `medium`.
    pub fn verdict(&self, medium: &Medium, snapshot: &SnapshotId) -> Verdict {
        self.medium_verdict(medium)
            .unwrap_or_else(|| self.stored(medium, snapshot))
    }

    /// The verdict shared by every copy on `medium`, when it does not depend
    /// on the copy: carried media and the primary disk.
    pub fn medium_verdict(&self, medium: &Medium) -> Option<Verdict> {
        if medium.kind == MediumKind::PrimaryDisk {
            Some(Verdict::Online(OnlineReason::PrimaryDisk))
        } else if medium.kind.is_carried() {
            Some(self.carried(medium))
        } else {
            None
        }
    }

    /// A carried medium: where is it?
    fn carried(&self, medium: &Medium) -> Verdict {
        let Some(obs) = self.current_observation(&medium.id) else {
            return Verdict::Unknown(Missing::NoLocationObserved);
        };
        if let Some(dev) = self.contradicted_by_device(obs) {
            let device = match &dev.by {
                ObservedBy::Device { device } => device.clone(),
                ObservedBy::Person { .. } => unreachable!("a device observation"),
            };
            return Verdict::Unknown(Missing::PersonContradictsDevice {
                at: obs.at,
                by: obs.by.clone(),
                location: obs.location.clone(),
                device,
                device_at: dev.at,
                device_location: dev.location.clone(),
            });
        }
        let stale_at = self.stale_at(obs);
        if stale_at.is_some_and(|s| self.now >= s) {
            return Verdict::Unknown(Missing::LocationStale {
                at: obs.at,
                by: obs.by.clone(),
                location: obs.location.clone(),
            });
        }
        let record_deadline = stale_at.map(|at| Deadline {
            at,
            cause: DeadlineCause::LocationRecord {
                medium: medium.id.clone(),
            },
        });
        let offline = |koban, until| Verdict::Offline {
            koban,
            strength: Strength::Full,
            until,
        };
        use Location as L;
        use MediumKind as K;
        match (medium.kind, &obs.location) {
            (_, L::InDrive { drive }) => Verdict::Online(OnlineReason::InDrive {
                drive: drive.clone(),
            }),
            (_, L::ActiveSlot { autoloader }) => Verdict::Online(OnlineReason::ActiveSlot {
                autoloader: autoloader.clone(),
            }),
            (_, L::Connected { host }) => {
                Verdict::Online(OnlineReason::Connected { host: host.clone() })
            }
            (_, L::Unknown) => Verdict::Unknown(Missing::LocationUnknown {
                at: obs.at,
                by: obs.by.clone(),
            }),
            (K::LtoSingleDrive, L::Ejected { .. } | L::Shelf { .. } | L::Offsite { .. }) => {
                offline(Koban::LtoEjected, record_deadline)
            }
            // The mail slot is inside the library: the robot can fetch the
            // cartridge back into a drive, so it is a library slot (①-2-1),
            // not yet exported (①-2-2).
            (K::LtoLibrary, L::LibrarySlot { .. } | L::MailSlot { .. }) => {
                offline(Koban::LtoInLibrarySlot, record_deadline)
            }
            (K::LtoLibrary, L::Exported { .. } | L::Shelf { .. } | L::Offsite { .. }) => {
                offline(Koban::LtoExported, record_deadline)
            }
            (
                K::RdxSingleDrive | K::RemovableDisk,
                L::Ejected { .. } | L::Shelf { .. } | L::Offsite { .. },
            ) => offline(Koban::RdxEjected, record_deadline),
            (K::RdxAutoloader, L::Exported { .. } | L::Shelf { .. } | L::Offsite { .. }) => {
                offline(Koban::RdxExported, record_deadline)
            }
            (K::RdxAutoloader, L::InactiveSlot { autoloader, .. }) => {
                let covers = |c: &Claim| match c {
                    Claim::NetworkSegmented { autoloader: None } => true,
                    Claim::NetworkSegmented {
                        autoloader: Some(a),
                    } => a == autoloader,
                    _ => false,
                };
                match self.holding(covers) {
                    Some(att) => offline(
                        Koban::RdxInactiveSlotSegmented,
                        earliest(record_deadline, Some(attestation_deadline(att))),
                    ),
                    None => Verdict::Online(OnlineReason::NotSegmented {
                        autoloader: autoloader.clone(),
                        lapsed: self.lapsed(covers),
                    }),
                }
            }
            (kind, location) => Verdict::Unknown(Missing::LocationDoesNotFit {
                location: location.clone(),
                kind,
            }),
        }
    }

    /// A stored medium: what protects this copy?
    fn stored(&self, medium: &Medium, snapshot: &SnapshotId) -> Verdict {
        let probe = self.latest_probe(&medium.id);
        // Evidence beats every claim: if hokan could delete locked data there,
        // nothing on the medium is out of reach, whatever anyone attested.
        if let Some(p) = probe.filter(|p| p.outcome == ProbeOutcome::Failed) {
            return Verdict::Online(OnlineReason::ProbeFailed { at: p.at });
        }
        let routes = match medium.kind {
            MediumKind::ObjectStore => vec![
                self.locked(medium, snapshot, Koban::CloudImmutable, false),
                self.attested(
                    Claim::ProviderIsolation {
                        medium: medium.id.clone(),
                    },
                    Koban::CloudImmutable,
                ),
            ],
            MediumKind::ImmutableStorage => vec![self.immutable_device(medium, snapshot)],
            // A vault that has sent a signed receipt is judged on its
            // newest receipt alone: no attestation can outweigh what the
            // vault itself reported (a firewall that differs, objects
            // without the flag), nor keep counting a vault gone silent.
            MediumKind::PullVault if self.latest_receipt(&medium.id).is_some() => {
                return self.by_receipt(medium, snapshot).0;
            }
            MediumKind::PullVault => vec![
                self.attested(
                    Claim::PullOnlyVault {
                        medium: medium.id.clone(),
                    },
                    Koban::AccessControlled,
                ),
                self.immutable_device(medium, snapshot),
            ],
            _ => unreachable!("carried media are judged by location"),
        };
        best(routes)
    }

    /// The newest signed receipt of vault `medium` issued at or before
    /// `now` (with [`RECEIPT_CLOCK_SKEW`] for the vault's clock); at the
    /// same instant the one whose firewall check is not `ok`, then the one
    /// listing fewer generations, wins.
    pub fn latest_receipt(&self, medium: &MediumId) -> Option<&'a VaultReceipt> {
        let horizon = later(self.now, RECEIPT_CLOCK_SKEW);
        self.facts
            .receipts
            .iter()
            .filter(|r| &r.vault == medium && r.issued <= horizon)
            .max_by(|a, b| {
                a.issued
                    .cmp(&b.issued)
                    .then_with(|| (a.firewall != "ok").cmp(&(b.firewall != "ok")))
                    .then_with(|| b.generations.len().cmp(&a.generations.len()))
            })
    }

    /// The verdict on a copy on a vault that has sent a receipt, from its
    /// newest receipt: unknown when that is older than the vault's
    /// `fresh_for`; otherwise the better of ⑤-1 (its firewall check is
    /// `ok`) and ④-1 (the generation's objects carry the immutable flag and
    /// its retention has not ended and is not shorter than the vault's
    /// `retention`). With it, why the other 項番 is not met, if it is not.
    pub fn by_receipt(&self, medium: &Medium, snapshot: &SnapshotId) -> (Verdict, Option<Text>) {
        let Some(r) = self.latest_receipt(&medium.id) else {
            return (Verdict::Unknown(Missing::NoProtectionRecorded), None);
        };
        let pool = medium
            .pool
            .clone()
            .unwrap_or_else(|| medium.id.as_str().into());
        let fresh_for = self.policy.vault_fresh_for(&pool);
        let fresh_until = later(r.issued, fresh_for);
        if fresh_until <= self.now {
            return (
                Verdict::Unknown(Missing::ReceiptStale {
                    vault: medium.id.clone(),
                    issued: r.issued,
                    fresh_for,
                }),
                None,
            );
        }
        let Some(held) = r.generations.iter().find(|g| &g.snapshot == snapshot) else {
            return (
                Verdict::Unknown(Missing::NotInReceipt { issued: r.issued }),
                None,
            );
        };
        let receipt_deadline = Deadline {
            at: fresh_until,
            cause: DeadlineCause::Receipt {
                medium: medium.id.clone(),
            },
        };
        let access = match r.firewall.as_str() {
            "ok" => Verdict::Offline {
                koban: Koban::AccessControlled,
                strength: Strength::Full,
                until: Some(receipt_deadline.clone()),
            },
            "differs" => Verdict::Online(OnlineReason::VaultFirewallDiffers {
                detail: r.firewall_detail.clone(),
            }),
            _ => Verdict::Unknown(Missing::VaultFirewallUnchecked {
                detail: r.firewall_detail.clone(),
            }),
        };
        let wanted = self
            .policy
            .pool_retention(&pool)
            .map(|d| later(held.stored, d));
        let immutable = if !held.immutable {
            Verdict::Online(OnlineReason::VaultNotImmutable)
        } else if held.retain_until <= self.now {
            Verdict::Online(OnlineReason::RetentionExpired {
                at: held.retain_until,
            })
        } else if let Some(w) = wanted.filter(|w| held.retain_until < *w) {
            Verdict::Unknown(Missing::VaultRetentionShort {
                retain_until: held.retain_until,
                wanted: w,
            })
        } else {
            Verdict::Offline {
                koban: Koban::ImmutableDevice,
                strength: Strength::Full,
                until: earliest(
                    Some(receipt_deadline),
                    Some(Deadline {
                        at: held.retain_until,
                        cause: DeadlineCause::Retention {
                            medium: medium.id.clone(),
                        },
                    }),
                ),
            }
        };
        let why_not = |koban: Koban, v: &Verdict| {
            let d = v.describe(self.now.offset());
            Text::new(
                format!("not {koban}: {}", d.en),
                format!("{koban} には該当しない：{}", d.ja),
            )
        };
        let note = match (access.is_offline(), immutable.is_offline()) {
            (true, true) => None,
            (true, false) => Some(why_not(Koban::ImmutableDevice, &immutable)),
            (false, true) => Some(why_not(Koban::AccessControlled, &access)),
            // Neither: the verdict explains ⑤-1; the note ④-1.
            (false, false) => Some(why_not(Koban::ImmutableDevice, &immutable)),
        };
        (best(vec![access, immutable]), note)
    }

    /// ④-1: a lock on the copy AND an attestation that the device's area is
    /// immutable. The lock is checked first because an unlocked or expired
    /// copy is plainly online (the definitions' "mutable area").
    fn immutable_device(&self, medium: &Medium, snapshot: &SnapshotId) -> Verdict {
        let claim = Claim::ImmutableDevice {
            medium: medium.id.clone(),
        };
        let wanted = |c: &Claim| *c == claim;
        let attestation = self.holding(wanted);
        match self.locked(
            medium,
            snapshot,
            Koban::ImmutableDevice,
            attestation.is_some(),
        ) {
            Verdict::Offline {
                koban,
                strength,
                until,
            } => match attestation {
                Some(att) => Verdict::Offline {
                    koban,
                    strength,
                    until: earliest(until, Some(attestation_deadline(att))),
                },
                None => Verdict::Unknown(Missing::Attestation {
                    lapsed: self.lapsed(wanted),
                    claim,
                }),
            },
            other => other,
        }
    }

    /// Offline under `koban` because of the copy's lock.
    fn locked(
        &self,
        medium: &Medium,
        snapshot: &SnapshotId,
        koban: Koban,
        attested_immutable: bool,
    ) -> Verdict {
        let Some(protection) = self.latest_protection(&medium.id, snapshot) else {
            return Verdict::Unknown(Missing::NoProtectionRecorded);
        };
        let until = match protection.retention {
            Retention::Unlocked => return Verdict::Online(OnlineReason::Unlocked),
            Retention::Until { until } if until <= self.now => {
                return Verdict::Online(OnlineReason::RetentionExpired { at: until })
            }
            Retention::Until { until } => Some(Deadline {
                at: until,
                cause: DeadlineCause::Retention {
                    medium: medium.id.clone(),
                },
            }),
            Retention::Indefinite => None,
        };
        let mut weaker = Vec::new();
        match protection.mode {
            LockMode::Governance => weaker.push(WeakerReason::GovernanceMode),
            LockMode::ImmutableFlag if !attested_immutable => {
                weaker.push(WeakerReason::FlagClearable)
            }
            _ => {}
        }
        match self.latest_probe(&medium.id).map(|p| p.outcome) {
            None => weaker.push(WeakerReason::LockNeverProbed),
            Some(ProbeOutcome::Shortenable) => weaker.push(WeakerReason::RetentionShortenable),
            Some(_) => {}
        }
        Verdict::Offline {
            koban,
            strength: if weaker.is_empty() {
                Strength::Full
            } else {
                Strength::Weaker(weaker)
            },
            until,
        }
    }

    /// Offline under `koban` because a person attests `claim`.
    fn attested(&self, claim: Claim, koban: Koban) -> Verdict {
        let wanted = |c: &Claim| *c == claim;
        match self.holding(wanted) {
            Some(att) => Verdict::Offline {
                koban,
                strength: Strength::Full,
                until: Some(attestation_deadline(att)),
            },
            None => Verdict::Unknown(Missing::Attestation {
                lapsed: self.lapsed(wanted),
                claim,
            }),
        }
    }
}

fn attestation_deadline(att: &Attestation) -> Deadline {
    Deadline {
        at: att.ends_at(),
        cause: DeadlineCause::Attestation { id: att.id.clone() },
    }
}

/// The earlier of two deadlines (`None` is "never").
fn earliest(a: Option<Deadline>, b: Option<Deadline>) -> Option<Deadline> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.at < a.at { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Of several routes to offline for one copy, the strongest; among equally
/// strong ones the one that lasts longest, then the first. If none makes the
/// copy offline, the first route's answer (the kind's main 項番) explains why.
fn best(routes: Vec<Verdict>) -> Verdict {
    let rank = |v: &Verdict| match v {
        Verdict::Offline {
            strength: Strength::Full,
            ..
        } => 2,
        Verdict::Offline { .. } => 1,
        _ => 0,
    };
    // `None` (never ends) sorts after every instant.
    let lasts = |v: &Verdict| match v {
        Verdict::Offline { until: None, .. } => (1, None),
        Verdict::Offline { until: Some(d), .. } => (0, Some(d.at)),
        _ => (0, None),
    };
    let mut best: Option<Verdict> = None;
    for v in routes {
        best = match best {
            None => Some(v),
            Some(b) if (rank(&v), lasts(&v)) > (rank(&b), lasts(&b)) => Some(v),
            keep => keep,
        };
    }
    best.expect("every stored kind has at least one route")
}
