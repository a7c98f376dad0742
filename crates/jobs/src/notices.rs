//! What a night tells people: the [`Notice`]s worth sending after it.
//!
//! Pure: from how the night went, the site's verdict and the rotation plan
//! of the next night, the notices to queue (the caller queues and sends
//! them through `hokan-notify`'s outbox). The words are `hokan-notify`'s and
//! the evaluator's; nothing here builds a sentence.
//!
//! - a failed or partial night: one [`Notice::JobFailed`] naming the failed
//!   steps;
//! - a site not compliant: one [`Notice::NotCompliant`] with every error
//!   and what to do;
//! - what a person must do: insert the next night's cartridge (from the
//!   [`RotationPlan`]), take a medium out of a drive, carry media waiting in
//!   a mail slot or exported to the safe;
//! - what runs out soon: an attestation, a lock's retention, a person's
//!   record of where a medium is.
//!
//! [`raise`] queues notices for every `[[notify]]` target in the catalog's
//! durable outbox and sends what is due (the night, the daemon's dead-man
//! alert, a drill all raise through it).

use hokan_catalog::Catalog;
use hokan_notify::outbox::{self, Select};
use hokan_notify::{Action, Expiring, Finding, JobOutcome, Notice, Notification, NotifyError};
use hokan_offline::{Problem, ProblemCode, Severity, Text};
use time::{OffsetDateTime, UtcOffset};

use crate::rotation::{FirstStep, RotationPlan};

/// A step of the night that did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedStep {
    /// What it ran (`tape backup --pool weekly`).
    pub what: String,
    /// Its exit status.
    pub exit_code: i32,
    /// The last thing it said on standard error.
    pub said: Option<String>,
}

/// The next night's cartridge of a pool and when that night starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextMedium {
    /// The pool.
    pub pool: String,
    /// Its plan, knowing what the device reaches now.
    pub plan: RotationPlan,
    /// Where the cartridge goes.
    pub into: Text,
    /// When the night that needs it starts.
    pub before: OffsetDateTime,
}

/// How a night went, as the notices need it.
#[derive(Clone, Debug)]
pub struct NightEnd<'a> {
    /// The site's name.
    pub site: &'a str,
    /// When the night ended.
    pub at: OffsetDateTime,
    /// Steps that failed; empty when all succeeded.
    pub failed: Vec<FailedStep>,
    /// Every step failed.
    pub all_failed: bool,
    /// The verdict's problems (`None`: the site could not be judged).
    pub problems: Option<&'a [Problem]>,
    /// The next night's cartridges.
    pub next: &'a [NextMedium],
}

/// Queue `notices` for every notification target of `site` in the
/// catalog's outbox (raised at `at`, shown in `offset`), then send what is
/// due now. What cannot be sent stays queued for the next flush; each sent
/// or abandoned notice is an event in the catalog. Without targets,
/// nothing is queued.
pub fn raise(
    cat: &mut Catalog,
    site: &hokan_site::Site,
    notices: Vec<Notice>,
    at: OffsetDateTime,
    offset: UtcOffset,
) -> Result<(), NotifyError> {
    let targets = site.notify();
    if targets.is_empty() || notices.is_empty() {
        return Ok(());
    }
    for notice in notices {
        let n = Notification {
            site: site.name().to_owned(),
            host: hostname(),
            raised_at: at.to_offset(offset),
            notice,
        };
        outbox::queue(cat, targets, &n, at)?;
    }
    outbox::deliver(cat, targets, Select::Due, at)?;
    Ok(())
}

/// This machine's name, for "where" in every message.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The notices worth sending after a night.
pub fn after_night(end: &NightEnd<'_>) -> Vec<Notice> {
    let mut out = Vec::new();
    if !end.failed.is_empty() {
        let lines: Vec<String> = end
            .failed
            .iter()
            .map(|f| match &f.said {
                Some(s) => format!("hokan {} (exit {}): {s}", f.what, f.exit_code),
                None => format!("hokan {} (exit {})", f.what, f.exit_code),
            })
            .collect();
        let reason = lines.join("\n");
        out.push(Notice::JobFailed {
            job: "night".into(),
            target: end.site.to_owned(),
            outcome: if end.all_failed {
                JobOutcome::Failed
            } else {
                JobOutcome::Partial
            },
            at: end.at,
            reason: Some(Text::new(reason.clone(), reason)),
        });
    }
    let problems = end.problems.unwrap_or(&[]);
    let findings: Vec<Finding> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| Finding {
            problem: p.message.clone(),
            next_step: p.next_step.clone(),
        })
        .collect();
    if !findings.is_empty() {
        out.push(Notice::NotCompliant { findings });
    }
    for n in end.next {
        let action = match &n.plan.first {
            Some(FirstStep::Insert(c)) => Action::InsertCartridge {
                medium: c.to_string(),
                into: n.into.clone(),
                before: n.before,
            },
            Some(FirstStep::InsertAnyOfPool) => Action::InsertAnyOf {
                pool: n.pool.clone(),
                into: n.into.clone(),
                before: n.before,
            },
            None => continue,
        };
        out.push(Notice::ActionNeeded { action });
    }
    let mut to_safe = Vec::new();
    for p in problems {
        let medium = p.medium.as_ref().map(|m| m.to_string());
        match (p.code, medium, p.date) {
            (ProblemCode::MediumInDrive | ProblemCode::MediumConnected, Some(m), _) => {
                let from = if p.code == ProblemCode::MediumInDrive {
                    Text::new("the drive", "ドライブ")
                } else {
                    Text::new("the computer it is connected to", "接続先のコンピュータ")
                };
                out.push(Notice::ActionNeeded {
                    action: Action::RemoveMedium { medium: m, from },
                })
            }
            (ProblemCode::MediumInMailSlot | ProblemCode::ExportNotRecorded, Some(m), _)
                if !to_safe.contains(&m) =>
            {
                to_safe.push(m)
            }
            (ProblemCode::AttestationExpiring, _, Some(at)) => out.push(Notice::Expiring {
                what: Expiring::Attestation,
                subject: p
                    .attestation
                    .as_ref()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
                expires_at: at,
            }),
            (ProblemCode::RetentionExpiring, Some(m), Some(at)) => out.push(Notice::Expiring {
                what: Expiring::Lock,
                subject: m,
                expires_at: at,
            }),
            (ProblemCode::LocationConfirmDue, Some(m), Some(at)) => out.push(Notice::Expiring {
                what: Expiring::Location,
                subject: m,
                expires_at: at,
            }),
            _ => {}
        }
    }
    if !to_safe.is_empty() {
        out.push(Notice::ActionNeeded {
            action: Action::TakeToSafe {
                media: to_safe,
                to: Text::new(
                    "the place hokan.toml names for them",
                    "hokan.toml で定めた保管場所",
                ),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rotation::Tonight;
    use hokan_offline::MediumId;
    use time::macros::datetime;

    fn problem(severity: Severity, code: ProblemCode, medium: Option<&str>) -> Problem {
        let json = serde_json::json!({
            "severity": severity, "code": code, "source": null,
            "medium": medium, "attestation": null,
            "date": "2026-12-10T00:00:00Z",
            "message": {"en": "m", "ja": "m"}, "next_step": {"en": "n", "ja": "n"},
        });
        serde_json::from_value(json).unwrap()
    }

    fn end<'a>(
        failed: Vec<FailedStep>,
        problems: &'a [Problem],
        next: &'a [NextMedium],
    ) -> NightEnd<'a> {
        NightEnd {
            site: "s",
            at: datetime!(2026-12-04 23:00 +09:00),
            failed,
            all_failed: false,
            problems: Some(problems),
            next,
        }
    }

    #[test]
    fn a_good_compliant_night_with_tomorrows_cartridge_inserted_says_nothing() {
        let next = [NextMedium {
            pool: "rdx".into(),
            plan: RotationPlan {
                tonight: Tonight::Cartridge(MediumId::new("RDX-FRI")),
                first: None,
            },
            into: Text::new("drive", "ドライブ"),
            before: datetime!(2026-12-05 22:00 +09:00),
        }];
        let warn = [problem(
            Severity::Warning,
            ProblemCode::LockNeverProbed,
            Some("cloud"),
        )];
        assert!(after_night(&end(vec![], &warn, &next)).is_empty());
    }

    #[test]
    fn a_tape_failure_an_error_and_the_next_cartridge_each_give_a_notice() {
        let failed = vec![FailedStep {
            what: "tape backup --pool weekly".into(),
            exit_code: 1,
            said: Some("library vtl cannot be opened".into()),
        }];
        let problems = [
            problem(Severity::Error, ProblemCode::TooFewOfflineGenerations, None),
            problem(Severity::Warning, ProblemCode::MediumInDrive, Some("T1")),
            problem(Severity::Warning, ProblemCode::MediumInMailSlot, Some("T2")),
            problem(
                Severity::Warning,
                ProblemCode::ExportNotRecorded,
                Some("T2"),
            ),
            problem(
                Severity::Warning,
                ProblemCode::RetentionExpiring,
                Some("cloud"),
            ),
        ];
        let next = [NextMedium {
            pool: "rdx".into(),
            plan: RotationPlan {
                tonight: Tonight::Cartridge(MediumId::new("RDX-FRI")),
                first: Some(FirstStep::Insert(MediumId::new("RDX-FRI"))),
            },
            into: Text::new("drive", "ドライブ"),
            before: datetime!(2026-12-05 22:00 +09:00),
        }];
        let got = after_night(&end(failed, &problems, &next));
        let kinds: Vec<String> = got
            .iter()
            .map(|n| {
                serde_json::to_value(n).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "job-failed",
                "not-compliant",
                "action-needed",
                "action-needed",
                "expiring",
                "action-needed"
            ],
            "{got:?}"
        );
        match &got[0] {
            Notice::JobFailed {
                outcome, reason, ..
            } => {
                assert_eq!(*outcome, JobOutcome::Partial);
                assert!(reason.as_ref().unwrap().en.contains("vtl"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&got[2], Notice::ActionNeeded { action: Action::InsertCartridge { medium, .. } } if medium == "RDX-FRI")
        );
        assert!(
            matches!(&got[5], Notice::ActionNeeded { action: Action::TakeToSafe { media, .. } } if media == &["T2"])
        );
    }
}
