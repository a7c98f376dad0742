//! Problems: what is wrong, how bad, and what to do next.
//!
//! Each problem has a stable code (monitoring scripts match on it; it never
//! changes once released), a severity, the medium/source/date it is about,
//! and two sentences in English and Japanese: what is wrong, and the next
//! step, naming the medium, source or date so staff can act without looking
//! anything up. Severity means:
//! - `Error`: the site or a source is not compliant now;
//! - `Warning`: something needs a person soon, or a copy does not count;
//! - `Info`: worth knowing, nothing breaks.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::{AttestationId, MediumId, SourceName};
use crate::text::Text;

/// How bad a problem is. Sorting puts errors first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Not compliant now.
    Error,
    /// Needs a person soon.
    Warning,
    /// Worth knowing.
    Info,
}

/// A stable, machine-readable problem code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemCode {
    /// A source has fewer offline generations than the policy requires.
    TooFewOfflineGenerations,
    /// A source's newest offline generation is older than the policy allows.
    NewestOfflineTooOld,
    /// All offline generations of a source are on one medium.
    GenerationsOnOneMedium,
    /// All offline generations of a source lose protection by one date,
    /// within the warning horizon.
    GenerationsUnderOneExpiringLock,
    /// Some offline generations count only through weaker copies.
    GenerationsOnlyWeaker,
    /// A medium holding copies is in a drive or an autoloader's active slot.
    MediumInDrive,
    /// A removable disk holding copies is connected.
    MediumConnected,
    /// A tape is in a library's mail slot: still ①-2-1, not yet ①-2-2.
    MediumInMailSlot,
    /// Nobody knows where a medium holding copies is.
    LocationUnknown,
    /// A person's location record is too old to count.
    LocationStale,
    /// A recorded location cannot hold a medium of that kind.
    LocationDoesNotFit,
    /// A person's location record contradicts the newest device report
    /// (the device saw the medium inside it); it counts once a device agrees.
    LocationContradictsDevice,
    /// A person's location record will go stale within the warning horizon.
    LocationConfirmDue,
    /// A changer exported a medium holding copies and nobody has recorded
    /// where it went; it stops counting after the export grace.
    ExportNotRecorded,
    /// A copy does not count for want of an attestation.
    AttestationMissing,
    /// An attestation expires within the warning horizon.
    AttestationExpiring,
    /// Copies on a store are not locked.
    CopiesNotLocked,
    /// The retention of copies has ended.
    RetentionExpired,
    /// The retention of copies ends within the warning horizon.
    RetentionExpiring,
    /// Copies are locked in governance mode (weaker).
    RetentionGovernance,
    /// Copies rely on an immutable flag the administrator can clear (weaker).
    ImmutableFlagClearable,
    /// A store's lock enforcement was never tested (weaker).
    LockNeverProbed,
    /// A store let a compliance retention be shortened when tested (weaker).
    RetentionShortenable,
    /// A store deleted locked data when tested.
    LockProbeFailed,
    /// No protection is recorded for copies on a store.
    ProtectionNotRecorded,
    /// A damaged medium holds copies.
    MediumDamaged,
    /// A retired medium holds copies.
    MediumRetired,
    /// Copies are incomplete.
    CopyIncomplete,
    /// Copies are older than their pool's retention.
    PoolRetentionPassed,
    /// The facts contradict each other (duplicate ids, dangling references).
    CatalogInconsistent,
    /// The catalog is missing, damaged, edited or rolled back: nothing was
    /// judged (see [`crate::Evaluation::untrusted`]).
    CatalogUntrusted,
    /// A vault's newest signed receipt is older than its `fresh_for`: its copies are unknown.
    VaultReceiptStale,
    /// A vault's receipt says its firewall differs from hokan's ruleset (or could not be checked): its copies do not count under ⑤-1.
    VaultFirewallDiffers,
    /// A vault's receipt says objects lack the immutable flag: those generations do not count under ④-1.
    VaultNotImmutable,
    /// A vault reports findings its operator has not acknowledged (changed bytes, vanished objects, future-dated snapshots …).
    VaultFindings,
    /// A vault's compliance clock is frozen or behind.
    VaultClock,
    /// A vault's last pull failed.
    VaultPullFailed,
    /// A vault's ledger went back: a receipt reports fewer rows than an earlier one, or the same rows with another head (its folder restored from an older copy, or the ledger edited).
    VaultLedgerWentBack,
    /// A receipt in the inbox was not believed (bad signature, another vault's, issued in the future, too large): ignored.
    VaultReceiptRejected,
    /// A configured vault has never sent a receipt the primary could verify.
    VaultNoReceipt,
    /// A kind of offline medium in use has had no successful restore drill
    /// within the policy's `drill_every`.
    DrillOverdue,
    /// The last restore drill from a kind of medium failed (no success since).
    DrillFailed,
}

impl ProblemCode {
    /// The code as printed and matched by monitoring.
    pub fn as_str(self) -> &'static str {
        use ProblemCode as C;
        match self {
            C::TooFewOfflineGenerations => "too-few-offline-generations",
            C::NewestOfflineTooOld => "newest-offline-too-old",
            C::GenerationsOnOneMedium => "generations-on-one-medium",
            C::GenerationsUnderOneExpiringLock => "generations-under-one-expiring-lock",
            C::GenerationsOnlyWeaker => "generations-only-weaker",
            C::MediumInDrive => "medium-in-drive",
            C::MediumConnected => "medium-connected",
            C::MediumInMailSlot => "medium-in-mail-slot",
            C::LocationUnknown => "location-unknown",
            C::LocationStale => "location-stale",
            C::LocationDoesNotFit => "location-does-not-fit",
            C::LocationContradictsDevice => "location-contradicts-device",
            C::LocationConfirmDue => "location-confirm-due",
            C::ExportNotRecorded => "export-not-recorded",
            C::AttestationMissing => "attestation-missing",
            C::AttestationExpiring => "attestation-expiring",
            C::CopiesNotLocked => "copies-not-locked",
            C::RetentionExpired => "retention-expired",
            C::RetentionExpiring => "retention-expiring",
            C::RetentionGovernance => "retention-governance",
            C::ImmutableFlagClearable => "immutable-flag-clearable",
            C::LockNeverProbed => "lock-never-probed",
            C::RetentionShortenable => "retention-shortenable",
            C::LockProbeFailed => "lock-probe-failed",
            C::ProtectionNotRecorded => "protection-not-recorded",
            C::MediumDamaged => "medium-damaged",
            C::MediumRetired => "medium-retired",
            C::CopyIncomplete => "copy-incomplete",
            C::PoolRetentionPassed => "pool-retention-passed",
            C::CatalogInconsistent => "catalog-inconsistent",
            C::CatalogUntrusted => "catalog-untrusted",
            C::VaultReceiptStale => "vault-receipt-stale",
            C::VaultFirewallDiffers => "vault-firewall-differs",
            C::VaultNotImmutable => "vault-not-immutable",
            C::VaultFindings => "vault-findings",
            C::VaultClock => "vault-clock",
            C::VaultPullFailed => "vault-pull-failed",
            C::VaultLedgerWentBack => "vault-ledger-went-back",
            C::VaultReceiptRejected => "vault-receipt-rejected",
            C::VaultNoReceipt => "vault-no-receipt",
            C::DrillOverdue => "drill-overdue",
            C::DrillFailed => "drill-failed",
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: [ProblemCode; 42] = {
        use ProblemCode as C;
        [
            C::TooFewOfflineGenerations,
            C::NewestOfflineTooOld,
            C::GenerationsOnOneMedium,
            C::GenerationsUnderOneExpiringLock,
            C::GenerationsOnlyWeaker,
            C::MediumInDrive,
            C::MediumConnected,
            C::MediumInMailSlot,
            C::LocationUnknown,
            C::LocationStale,
            C::LocationDoesNotFit,
            C::LocationContradictsDevice,
            C::LocationConfirmDue,
            C::ExportNotRecorded,
            C::AttestationMissing,
            C::AttestationExpiring,
            C::CopiesNotLocked,
            C::RetentionExpired,
            C::RetentionExpiring,
            C::RetentionGovernance,
            C::ImmutableFlagClearable,
            C::LockNeverProbed,
            C::RetentionShortenable,
            C::LockProbeFailed,
            C::ProtectionNotRecorded,
            C::MediumDamaged,
            C::MediumRetired,
            C::CopyIncomplete,
            C::PoolRetentionPassed,
            C::CatalogInconsistent,
            C::CatalogUntrusted,
            C::VaultReceiptStale,
            C::VaultFirewallDiffers,
            C::VaultNotImmutable,
            C::VaultFindings,
            C::VaultClock,
            C::VaultPullFailed,
            C::VaultLedgerWentBack,
            C::VaultReceiptRejected,
            C::VaultNoReceipt,
            C::DrillOverdue,
            C::DrillFailed,
        ]
    };
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// How bad.
    pub severity: Severity,
    /// Stable code.
    pub code: ProblemCode,
    /// The source it is about, if any.
    pub source: Option<SourceName>,
    /// The medium it is about, if any.
    pub medium: Option<MediumId>,
    /// The attestation it is about, if any.
    pub attestation: Option<AttestationId>,
    /// The date that matters (expiry, last record), if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub date: Option<OffsetDateTime>,
    /// What is wrong.
    pub message: Text,
    /// What to do next.
    pub next_step: Text,
}

impl Problem {
    /// A problem with no subject yet; see the `with_*` methods.
    pub fn new(severity: Severity, code: ProblemCode, message: Text, next: Text) -> Problem {
        Problem {
            severity,
            code,
            source: None,
            medium: None,
            attestation: None,
            date: None,
            message,
            next_step: next,
        }
    }

    /// About medium `m`.
    pub fn with_medium(mut self, m: &MediumId) -> Problem {
        self.medium = Some(m.clone());
        self
    }

    pub(crate) fn with_source(mut self, s: &SourceName) -> Problem {
        self.source = Some(s.clone());
        self
    }

    pub(crate) fn with_attestation(mut self, a: &AttestationId) -> Problem {
        self.attestation = Some(a.clone());
        self
    }

    pub(crate) fn with_date(mut self, d: OffsetDateTime) -> Problem {
        self.date = Some(d);
        self
    }

    /// The order problems are listed in: most severe first, then by code and
    /// subject, so the list is the same on every run.
    pub fn sort(problems: &mut [Problem]) {
        problems.sort_by(|a, b| {
            (
                a.severity,
                a.code,
                &a.source,
                &a.medium,
                &a.attestation,
                a.date,
            )
                .cmp(&(
                    b.severity,
                    b.code,
                    &b.source,
                    &b.medium,
                    &b.attestation,
                    b.date,
                ))
                .then_with(|| a.message.en.cmp(&b.message.en))
        });
    }
}

/// `1 generation`, `3 generations`.
pub(crate) fn count_en(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_as_serialised() {
        for code in ProblemCode::ALL {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str()),
                "as_str and serde disagree for {code:?}"
            );
        }
    }
}
