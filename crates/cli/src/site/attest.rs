//! `hokan attest`: facts the software cannot observe, signed by a person,
//! with evidence and an expiry. Expired or withdrawn attestations stop
//! counting.

use hokan_jobs::site::attest;
use hokan_offline::Claim;
use serde_json::json;

use super::args::{AttestCmd, AttestCommon};
use crate::ctx::{print_json, when, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::t;

pub fn run(ctx: &SiteCtx<'_>, cmd: AttestCmd) -> Result<i32, Failure> {
    let (claim, common) = match cmd {
        AttestCmd::List => return list(ctx),
        AttestCmd::Withdraw { id, by, reason } => return withdraw(ctx, &id, &by, reason),
        AttestCmd::NetworkSegmented { autoloader, common } => (
            Claim::NetworkSegmented {
                autoloader: autoloader.map(Into::into),
            },
            common,
        ),
        AttestCmd::ImmutableDevice { medium, common } => (
            Claim::ImmutableDevice {
                medium: medium.into(),
            },
            common,
        ),
        AttestCmd::ProviderIsolation { medium, common } => (
            Claim::ProviderIsolation {
                medium: medium.into(),
            },
            common,
        ),
        AttestCmd::PullOnlyVault { medium, common } => (
            Claim::PullOnlyVault {
                medium: medium.into(),
            },
            common,
        ),
    };
    add(ctx, claim, common)
}

/// A refused attestation: the catalog's failures as every command reports
/// them, the person's mistakes as usage.
fn failure(ctx: &SiteCtx<'_>, e: &attest::AttestError) -> Failure {
    match e {
        attest::AttestError::Catalog(c) => ctx.catalog_failure(c),
        other => Failure::new(exit::USAGE, ctx.pick(&other.text(ctx.offset()))),
    }
}

/// A usage failure about one argument: `--until "9999-12-31": …`.
fn usage(ctx: &SiteCtx<'_>, arg: &str, t: hokan_offline::Text) -> Failure {
    Failure::new(exit::USAGE, format!("{arg}: {}", ctx.pick(&t)))
}

fn add(ctx: &SiteCtx<'_>, claim: Claim, c: AttestCommon) -> Result<i32, Failure> {
    let l = ctx.lang;
    if c.by.trim().is_empty() || c.evidence.trim().is_empty() {
        return Err(Failure::new(
            exit::USAGE,
            t(
                l,
                "an attestation needs --by (who signs it) and --evidence (what shows it)",
                "証明には --by（署名者）と --evidence（根拠）が必要です",
            ),
        ));
    }
    let off = ctx.offset();
    let from = match &c.from {
        Some(f) => when::parse_ago(f, ctx.now, off).map_err(|e| usage(ctx, "--from", e))?,
        None => ctx.now,
    };
    // Refuses an end already past (it would be recorded and silently count
    // for nothing) and one more than ten years ahead.
    let until = when::parse_until(&c.until, ctx.now, off).map_err(|e| usage(ctx, "--until", e))?;
    let mut cat = ctx.catalog()?;
    let by = c.by.trim().to_owned();
    let (a, rec) = attest::attest(
        &mut cat,
        ctx.now,
        &format!("attest --by {by}"),
        attest::NewAttestation {
            claim,
            by: &by,
            evidence: &c.evidence,
            from,
            until,
        },
    )
    .map_err(|e| failure(ctx, &e))?;
    let id = a.id.clone();
    if ctx.g.json {
        print_json(&json!({"attestation": a, "event": rec}));
    } else {
        let name = match l {
            crate::i18n::Lang::En => a.claim.name_en(),
            crate::i18n::Lang::Ja => a.claim.name_ja(),
        };
        println!(
            "{} {id}: {name} ({by}), {} {}",
            t(l, "recorded attestation", "証明を記録しました"),
            t(l, "valid until", "有効期限"),
            ctx.when(until)
        );
    }
    Ok(exit::OK)
}

fn list(ctx: &SiteCtx<'_>) -> Result<i32, Failure> {
    let cat = ctx.catalog()?;
    let all = cat.attestations().map_err(|e| ctx.catalog_failure(&e))?;
    if ctx.g.json {
        let rows: Vec<_> = all
            .iter()
            .map(|a| json!({"attestation": a, "holds": a.holds_at(ctx.now)}))
            .collect();
        print_json(&json!({"at": ctx.now, "attestations": rows}));
        return Ok(exit::OK);
    }
    let l = ctx.lang;
    if all.is_empty() {
        println!(
            "{}",
            t(l, "no attestations recorded", "証明は記録されていません")
        );
    }
    for a in &all {
        let state = if a.withdrawn_at.is_some_and(|w| w <= ctx.now) {
            t(l, "withdrawn", "取消済み")
        } else if a.holds_at(ctx.now) {
            t(l, "holds", "有効")
        } else if ctx.now < a.valid_from {
            t(l, "not yet valid", "開始前")
        } else {
            t(l, "EXPIRED", "期限切れ")
        };
        let name = match l {
            crate::i18n::Lang::En => a.claim.name_en(),
            crate::i18n::Lang::Ja => a.claim.name_ja(),
        };
        println!(
            "{}  [{state}]  {name}  {} {} – {}  ({})",
            a.id,
            t(l, "by", "署名"),
            ctx.when(a.valid_from),
            ctx.when(a.ends_at()),
            a.by
        );
        println!("        {}: {}", t(l, "evidence", "根拠"), a.evidence);
    }
    Ok(exit::OK)
}

fn withdraw(ctx: &SiteCtx<'_>, id: &str, by: &str, reason: Option<String>) -> Result<i32, Failure> {
    let by = by.trim();
    if by.is_empty() {
        return Err(Failure::new(
            exit::USAGE,
            t(
                ctx.lang,
                "--by needs a name",
                "--by に名前を指定してください",
            ),
        ));
    }
    let mut cat = ctx.catalog()?;
    let rec = attest::withdraw(
        &mut cat,
        ctx.now,
        &format!("attest withdraw --by {by}"),
        &id.into(),
        by,
        reason,
    )
    .map_err(|e| failure(ctx, &e))?;
    if ctx.g.json {
        print_json(&json!({"event": rec}));
    } else {
        println!(
            "{id}: {}",
            t(
                ctx.lang,
                "withdrawn; it no longer counts",
                "取り消しました。以後は数えません"
            )
        );
    }
    Ok(exit::OK)
}
