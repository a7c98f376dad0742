//! Attestations: facts the software cannot observe (a segmented network,
//! an immutable device, a provider's isolation, a pull-only vault), signed
//! by a person with evidence and an end. `hokan attest` and the dashboard
//! record them here, so both refuse the same things in the same words.

use hokan_catalog::{Catalog, CatalogError, Event, EventRecord};
use hokan_offline::{Attestation, AttestationId, Claim, MediumId, Text};
use time::OffsetDateTime;

/// A new attestation, as a person gives it.
#[derive(Clone, Debug)]
pub struct NewAttestation<'a> {
    /// What is attested.
    pub claim: Claim,
    /// Who signs it.
    pub by: &'a str,
    /// What shows it (a document, a ticket, a configuration reviewed).
    pub evidence: &'a str,
    /// From when it holds.
    pub from: OffsetDateTime,
    /// Until when it holds (already checked: after now, at most 10 years
    /// ahead, see [`crate::when::parse_until`]).
    pub until: OffsetDateTime,
}

/// Why an attestation was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    /// Nobody signs it, or nothing shows it.
    #[error("an attestation needs who signs it and what shows it")]
    Incomplete,
    /// It would start after it ends.
    #[error("the attestation would start ({from}) after it ends ({until})")]
    StartsAfterEnd {
        /// Its start.
        from: OffsetDateTime,
        /// Its end.
        until: OffsetDateTime,
    },
    /// The catalog refused it or could not record it (an unknown medium or
    /// attestation among them).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl AttestError {
    /// The sentence a person reads; times shown in `offset`.
    pub fn text(&self, offset: time::UtcOffset) -> Text {
        match self {
            AttestError::Incomplete => Text::new(
                "an attestation needs who signs it and what shows it (the evidence)",
                "証明には署名者と根拠が必要です",
            ),
            AttestError::StartsAfterEnd { from, until } => {
                let (f, u) = (
                    hokan_offline::text::when(*from, offset),
                    hokan_offline::text::when(*until, offset),
                );
                Text::new(
                    format!("the attestation would start ({f}) after it ends ({u})"),
                    format!("証明の開始（{f}）が終了（{u}）より後になっています"),
                )
            }
            AttestError::Catalog(e) => e.text(),
        }
    }
}

/// Record `a` at `now` under `actor`: the attestation (with its new id)
/// and its event. A claim about a medium must name one the catalog knows.
pub fn attest(
    cat: &mut Catalog,
    now: OffsetDateTime,
    actor: &str,
    a: NewAttestation<'_>,
) -> Result<(Attestation, EventRecord), AttestError> {
    let (by, evidence) = (a.by.trim(), a.evidence.trim());
    if by.is_empty() || evidence.is_empty() {
        return Err(AttestError::Incomplete);
    }
    if a.from >= a.until {
        return Err(AttestError::StartsAfterEnd {
            from: a.from,
            until: a.until,
        });
    }
    let medium: Option<&MediumId> = match &a.claim {
        Claim::ImmutableDevice { medium }
        | Claim::ProviderIsolation { medium }
        | Claim::PullOnlyVault { medium } => Some(medium),
        Claim::NetworkSegmented { .. } => None,
    };
    if let Some(m) = medium {
        cat.medium(m)?;
    }
    let attestation = Attestation {
        id: cat.next_attestation_id()?,
        claim: a.claim,
        by: by.into(),
        evidence: evidence.to_owned(),
        valid_from: a.from,
        expires_at: a.until,
        withdrawn_at: None,
    };
    let rec = cat.record(
        now,
        actor,
        Event::Attested {
            attestation: attestation.clone(),
        },
    )?;
    Ok((attestation, rec))
}

/// Withdraw attestation `id` at `now`, signed by `by`: it stops counting.
pub fn withdraw(
    cat: &mut Catalog,
    now: OffsetDateTime,
    actor: &str,
    id: &AttestationId,
    by: &str,
    reason: Option<String>,
) -> Result<EventRecord, AttestError> {
    let by = by.trim();
    if by.is_empty() {
        return Err(AttestError::Incomplete);
    }
    Ok(cat.record(
        now,
        actor,
        Event::AttestationWithdrawn {
            attestation: id.clone(),
            at: now,
            by: by.into(),
            reason,
        },
    )?)
}
