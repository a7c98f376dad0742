//! The primary's side of a vault's signed receipts (issue 16).
//!
//! A pull-only vault cannot be reached from the primary: it pulls from
//! `hokan serve`, then posts an Ed25519-signed receipt of what it holds and
//! in what state to the inbox (`<inbox>/<vault name>/<anything>.json`, one
//! envelope per file, written append-only by `hokan serve`). [`ingest`]
//! reads every envelope of every configured vault, checks its signature
//! with that vault's registered `public_key`, and records each receipt that
//! verifies once, as a `vault-receipt` event of the hash-chained catalog;
//! then it makes the vault's recorded copies those of its newest receipt.
//! The evaluator judges the vault's copies from that newest receipt alone
//! (`hokan_offline`: ⑤-1, ④-1, unknown once it is older than `fresh_for`).
//!
//! Against an attacker on the primary (who holds the catalog, the inbox and
//! hokan's every secret, but not the vault's signing key): an edited
//! receipt, one signed with any other key, one naming another vault, one
//! dated in the future, or one too large is never recorded and is named as
//! a problem ([`ProblemCode::VaultReceiptRejected`]); deleting a recorded
//! receipt from the catalog breaks its chain (`catalog verify`); deleting
//! the inbox's files only makes the vault's copies unknown once its newest
//! recorded receipt is older than `fresh_for`. Inbox files are never
//! deleted or changed here.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use hokan_catalog::{AppCheck, Catalog, DrillFailure, DrillMeasures, Event};
use hokan_offline::{
    Evaluation, MediumId, MediumKind, PoolName, Problem, ProblemCode, Severity, SnapshotId, Text,
    VaultFinding, VaultHeld, VaultReceipt, RECEIPT_CLOCK_SKEW,
};
use hokan_site::{Site, Vault};
use hokan_vault::receipt::{self, Receipt, ReceiptError};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::JobError;

/// The largest envelope read from the inbox: a receipt lists at most a few
/// thousand generations and 100 findings; anything larger is not one.
pub const MAX_RECEIPT_BYTES: u64 = 256 * 1024;

/// The actor of the events [`ingest`] records.
pub const ACTOR: &str = "vault receipts (inbox)";

/// The inbox of a site whose catalog is `catalog`: `[serve] inbox`, else
/// `inbox` in the catalog's folder.
pub fn inbox(site: &Site, catalog: &Path) -> PathBuf {
    site.serve().inbox_in(&hokan_site::state_dir(catalog))
}

/// What [`ingest`] did.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Receipts recorded now: (vault, inbox file relative to the inbox).
    pub recorded: Vec<(PoolName, String)>,
    /// Receipts not believed, vaults without a usable key, and vaults that
    /// never sent a receipt that verified: problems to show with the
    /// evaluation ([`add_problems`]).
    pub problems: Vec<Problem>,
}

/// Read the inbox and record every receipt that verifies, once.
///
/// For each `[[vault]]` of `site`, every plain file of `<inbox>/<name>/`
/// (in name order; symbolic links, folders and other non-files are
/// ignored) is read, at most [`MAX_RECEIPT_BYTES`]. A receipt is recorded
/// (`vault-receipt`, keyed by the BLAKE3 of the envelope's bytes, so a file
/// read again is not recorded twice) only when its signature verifies with
/// the vault's `public_key`, it names that vault, and it was issued no more
/// than [`RECEIPT_CLOCK_SKEW`] after `now`. Then the vault's copies in the
/// catalog are made those its newest recorded receipt lists (for snapshots
/// the catalog knows): `copy-recorded` for new ones, `copy-removed` for
/// ones it no longer lists. The vault's medium (kind `pull-vault`, pool =
/// its name) is added when missing.
///
/// Errors: the catalog does not verify (`catalog verify`'s checks, run
/// before the first event is written: nothing is written on top of a
/// broken catalog), or refuses the events ([`JobError::Catalog`]).
pub fn ingest(
    inbox: &Path,
    site: &Site,
    catalog: &mut Catalog,
    now: OffsetDateTime,
) -> Result<Ingested, JobError> {
    let mut out = Ingested::default();
    let mut trusted = false;
    for (name, vault) in site.vaults() {
        ingest_vault(
            inbox,
            site,
            name,
            vault,
            catalog,
            now,
            &mut out,
            &mut trusted,
        )?;
        reconcile(name, catalog, now, &mut trusted)?;
        let medium = MediumId::new(name.as_str());
        if catalog.vault_receipts(Some(&medium))?.is_empty() {
            out.problems.push(no_receipt(name, inbox));
        }
    }
    Ok(out)
}

/// Add [`Ingested::problems`] to an evaluation (warnings: they never make
/// anything count, so they do not change compliance by themselves; what
/// they leave out is already not counted). An untrusted evaluation is left
/// as it is: nothing in it was judged.
pub fn add_problems(ev: &mut Evaluation, problems: &[Problem]) {
    if ev.is_untrusted() || problems.is_empty() {
        return;
    }
    ev.problems.extend(problems.iter().cloned());
    Problem::sort(&mut ev.problems);
    ev.compliant = ev.compliant && problems.iter().all(|p| p.severity != Severity::Error);
}

#[allow(clippy::too_many_arguments)]
fn ingest_vault(
    inbox: &Path,
    site: &Site,
    name: &PoolName,
    vault: &Vault,
    catalog: &mut Catalog,
    now: OffsetDateTime,
    out: &mut Ingested,
    trusted: &mut bool,
) -> Result<(), JobError> {
    let key = match receipt::public_key(&vault.public_key) {
        Ok(k) => k,
        Err(_) => {
            out.problems.push(rejected(
                name,
                Text::new(
                    format!("The public_key of vault {name} in hokan.toml is not an Ed25519 public key: none of its receipts can be believed."),
                    format!("hokan.toml の保管サーバ {name} の public_key は Ed25519 公開鍵ではありません。受領書をひとつも信用できません。"),
                ),
                Text::new(
                    format!("Copy the public_key line `hokan vault init` printed on vault {name} again (`hokan vault status` there shows it)."),
                    format!("保管サーバ {name} で `hokan vault init` が表示した public_key の行を書き写し直してください（保管サーバの `hokan vault status` でも表示されます）。"),
                ),
            ));
            return Ok(());
        }
    };
    let dir = inbox.join(name.as_str());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // No folder: the vault has posted nothing (yet).
        return Ok(());
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        // `.NAME.part`: a receipt `hokan serve` is still writing.
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    files.sort();
    let medium = MediumId::new(name.as_str());
    for (file, path) in files {
        let shown = format!("{name}/{file}");
        let bytes = match read_bounded(&path) {
            Ok(Some(b)) => b,
            Ok(None) => {
                out.problems.push(rejected(
                    name,
                    Text::new(
                        format!("The file {shown} in the vault inbox is larger than {} KiB: not a receipt, ignored.", MAX_RECEIPT_BYTES / 1024),
                        format!("保管サーバの受領書受け口のファイル {shown} は {} KiB を超えるため受領書ではありません。無視しました。", MAX_RECEIPT_BYTES / 1024),
                    ),
                    keep_and_check(name),
                ));
                continue;
            }
            Err(e) => {
                out.problems.push(rejected(
                    name,
                    Text::new(
                        format!("The file {shown} in the vault inbox cannot be read ({e}): ignored."),
                        format!("保管サーバの受領書受け口のファイル {shown} を読めません（{e}）。無視しました。"),
                    ),
                    keep_and_check(name),
                ));
                continue;
            }
        };
        let hash = blake3::hash(&bytes).to_hex().to_string();
        if catalog.vault_receipt_known(&hash)? {
            continue;
        }
        let r = match receipt::verify(&bytes, &key) {
            Ok(r) => r,
            Err(ReceiptError::BadSignature) => {
                out.problems.push(rejected(
                    name,
                    Text::new(
                        format!("The receipt in {shown} for vault {name} is not signed by its registered key: ignored. Someone may have written or edited it on this server."),
                        format!("{shown} の保管サーバ {name} 宛ての受領書は、登録された鍵で署名されていません。無視しました。このサーバ上で誰かが作成・改変した可能性があります。"),
                    ),
                    keep_and_check(name),
                ));
                continue;
            }
            Err(e) => {
                out.problems.push(rejected(
                    name,
                    Text::new(
                        format!("The file {shown} in the vault inbox is not a receipt ({e}): ignored."),
                        format!("保管サーバの受領書受け口のファイル {shown} は受領書ではありません（{e}）。無視しました。"),
                    ),
                    keep_and_check(name),
                ));
                continue;
            }
        };
        if r.vault != name.as_str() {
            out.problems.push(rejected(
                name,
                Text::new(
                    format!("The receipt in {shown} is signed for vault {:?}, not {name}: ignored (a receipt counts only in its own vault's folder).", r.vault),
                    format!("{shown} の受領書は保管サーバ {name} ではなく {:?} のものです。無視しました（受領書はその保管サーバのフォルダでのみ数えます）。", r.vault),
                ),
                keep_and_check(name),
            ));
            continue;
        }
        let fact = match fact(&medium, &r) {
            Ok(f) => f,
            Err(why) => {
                out.problems.push(rejected(
                    name,
                    Text::new(
                        format!("The receipt in {shown} for vault {name} is signed, but {why}: ignored."),
                        format!("{shown} の保管サーバ {name} の受領書は署名済みですが、{why} のため無視しました。"),
                    ),
                    keep_and_check(name),
                ));
                continue;
            }
        };
        if fact.issued > hokan_offline::limits::later(now, RECEIPT_CLOCK_SKEW) {
            out.problems.push(rejected(
                name,
                Text::new(
                    format!("The receipt in {shown} for vault {name} is issued {}, in the future (this server's time is {}): ignored. The vault's clock or this server's is wrong.", r.issued, rfc3339(now)),
                    format!("{shown} の保管サーバ {name} の受領書の発行時刻 {} は未来です（このサーバの時刻 {}）。無視しました。保管サーバかこのサーバの時計が狂っています。", r.issued, rfc3339(now)),
                ),
                Text::new(
                    format!("Check the clocks of vault {name} and of this server (NTP); the next receipt is read again."),
                    format!("保管サーバ {name} とこのサーバの時計（NTP）を確認してください。次の受領書から改めて読み込みます。"),
                ),
            ));
            continue;
        }
        let mut events = Vec::new();
        if catalog.medium(&medium).is_err() {
            events.push(Event::MediumAdded {
                medium: medium.clone(),
                kind: MediumKind::PullVault,
                pool: Some(name.clone()),
                label: None,
                capacity: None,
                note: None,
            });
        }
        events.push(Event::VaultReceipt {
            key: hash,
            file: file.clone(),
            receipt: fact,
        });
        events.extend(drilled(name, &shown, &r, site, catalog, &mut out.problems)?);
        write(catalog, now, events, trusted)?;
        out.recorded.push((name.clone(), shown));
    }
    Ok(())
}

/// The `drilled` events for the drills a verified receipt carries that
/// the catalog does not hold yet (the same vault, snapshot and start:
/// every receipt repeats a vault's drills for 400 days). Each is a drill
/// from the vault's medium, `by` "vault NAME: who", its figures kind
/// `vault`, with the projection made here: the source's newest complete
/// snapshot's bytes at the drill's throughput, against the source's `rto`.
///
/// A drill of a snapshot this catalog never recorded is not recorded (the
/// catalog's drills are drills of its own generations, and such a drill
/// proves none of them restorable); it is named as a problem instead, as
/// is one whose start is not a time.
fn drilled(
    name: &PoolName,
    shown: &str,
    r: &Receipt,
    site: &Site,
    catalog: &Catalog,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Event>, JobError> {
    if r.drills.is_empty() {
        return Ok(Vec::new());
    }
    let medium = MediumId::new(name.as_str());
    let recorded: BTreeSet<(SnapshotId, i128)> = catalog
        .drills(usize::MAX >> 1)?
        .into_iter()
        .filter(|d| d.medium == medium)
        .map(|d| (d.snapshot, d.started_at.unix_timestamp_nanos()))
        .collect();
    let snapshots = catalog.snapshots()?;
    let mut events = Vec::new();
    for d in &r.drills {
        let snapshot = SnapshotId::new(d.snapshot.to_ascii_lowercase());
        let Ok(started_at) = OffsetDateTime::parse(&d.started, &Rfc3339) else {
            problems.push(rejected(
                name,
                Text::new(
                    format!("The drill of {} in the receipt {shown} starts at {:?}, which is not a time: not recorded.", d.snapshot, d.started),
                    format!("受領書 {shown} の {} の復旧訓練の開始時刻 {:?} は時刻ではありません。記録しませんでした。", d.snapshot, d.started),
                ),
                keep_and_check(name),
            ));
            continue;
        };
        if recorded.contains(&(snapshot.clone(), started_at.unix_timestamp_nanos())) {
            continue;
        }
        let Some(gen) = snapshots.iter().find(|s| s.id == snapshot) else {
            problems.push(rejected(
                name,
                Text::new(
                    format!("Vault {name} drilled snapshot {} of {}, which this catalog never recorded: the drill is not recorded (it proves none of this server's generations restorable).", d.snapshot, d.source),
                    format!("保管サーバ {name} が {} の世代 {} で復旧訓練をしましたが、このカタログに記録のない世代のため記録しませんでした（このサーバの世代の復元性を示しません）。", d.source, d.snapshot),
                ),
                Text::new(
                    format!("Check that vault {name} copies this server's repository (`hokan vault status` there); run `hokan vault drill --snapshot ID` there with a generation `hokan status` lists."),
                    format!("保管サーバ {name} がこのサーバのリポジトリを複製しているか確認し（保管サーバで `hokan vault status`）、`hokan status` に出る世代で `hokan vault drill --snapshot ID` を実行してください。"),
                ),
            ));
            continue;
        };
        let whole_bytes = snapshots
            .iter()
            .filter(|s| s.source == gen.source && !s.partial)
            .max_by_key(|s| s.taken_at)
            .map(|s| s.bytes);
        let rto = site
            .sources()
            .iter()
            .find(|s| s.name == gen.source)
            .and_then(|s| s.rto);
        let measured = DrillMeasures {
            kind: crate::drill::MediumClass::Vault.as_str().to_owned(),
            source: gen.source.to_string(),
            target: format!("vault {name}"),
            first_file_secs: d.first_file_secs,
            bytes: d.bytes,
            throughput: d.throughput,
            files_checked: d.files_checked,
            app_check: d.app_check.as_deref().and_then(AppCheck::parse),
            failures: d
                .failures
                .iter()
                .map(|f| DrillFailure {
                    what: f.what.clone(),
                    why: f.why.clone(),
                })
                .collect(),
            projected_secs: whole_bytes
                .filter(|_| d.throughput > 0.0)
                .map(|b| b as f64 / d.throughput),
            rto_secs: rto.map(|r| r.as_seconds_f64()),
        };
        let stats = crate::drill::DrillStats {
            failures: measured.failures.clone(),
            ..Default::default()
        };
        events.push(Event::Drilled {
            snapshot,
            medium: medium.clone(),
            started_at,
            seconds: d.seconds,
            ok: d.ok(),
            by: Some(format!("vault {name}: {}", d.by).as_str().into()),
            detail: stats.detail(),
            measured: Some(measured),
        });
    }
    Ok(events)
}

/// Make the vault's recorded copies those its newest receipt lists.
fn reconcile(
    name: &PoolName,
    catalog: &mut Catalog,
    now: OffsetDateTime,
    trusted: &mut bool,
) -> Result<(), JobError> {
    let medium = MediumId::new(name.as_str());
    let receipts = catalog.vault_receipts(Some(&medium))?;
    // The evaluator's rule: the newest by issue time, ties to the one that
    // counts less.
    let Some(newest) = receipts.iter().max_by(|a, b| {
        a.issued
            .cmp(&b.issued)
            .then_with(|| (a.firewall != "ok").cmp(&(b.firewall != "ok")))
            .then_with(|| b.generations.len().cmp(&a.generations.len()))
    }) else {
        return Ok(());
    };
    let known: BTreeSet<SnapshotId> = catalog.snapshots()?.into_iter().map(|s| s.id).collect();
    let held: BTreeMap<&SnapshotId, &VaultHeld> = newest
        .generations
        .iter()
        .filter(|g| known.contains(&g.snapshot))
        .map(|g| (&g.snapshot, g))
        .collect();
    let have: BTreeSet<SnapshotId> = catalog
        .copies()?
        .into_iter()
        .filter(|c| c.medium == medium)
        .map(|c| c.snapshot)
        .collect();
    let mut events = Vec::new();
    for (snapshot, g) in &held {
        if !have.contains(*snapshot) {
            events.push(Event::CopyRecorded {
                snapshot: (*snapshot).clone(),
                medium: medium.clone(),
                since: g.stored.min(now),
                complete: true,
                with: Vec::new(),
            });
        }
    }
    for snapshot in have.iter().filter(|s| !held.contains_key(s)) {
        events.push(Event::CopyRemoved {
            snapshot: snapshot.clone(),
            medium: medium.clone(),
            reason: Some(format!(
                "not in the newest signed receipt of vault {name} ({})",
                rfc3339(newest.issued)
            )),
        });
    }
    write(catalog, now, events, trusted)?;
    Ok(())
}

/// Record `events`, after checking once (`trusted`) that the catalog is
/// still evidence: new events are never written on top of a broken chain,
/// an edited table or a rolled-back head, where they would cover it.
fn write(
    catalog: &mut Catalog,
    now: OffsetDateTime,
    events: Vec<Event>,
    trusted: &mut bool,
) -> Result<(), JobError> {
    if events.is_empty() {
        return Ok(());
    }
    if !*trusted {
        let report = catalog.verify(None)?;
        if !report.ok() {
            let why: Vec<String> = report
                .problems
                .iter()
                .map(|p| p.message.en.clone())
                .collect();
            return Err(JobError::Catalog(hokan_catalog::CatalogError::Untrusted {
                path: catalog.path().map(Path::to_owned).unwrap_or_default(),
                why: why.join("; "),
            }));
        }
        *trusted = true;
    }
    catalog.record_all(now, ACTOR, events)?;
    Ok(())
}

/// The envelope's bytes, or `None` when it is larger than
/// [`MAX_RECEIPT_BYTES`] (read no further than one byte past it).
fn read_bounded(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let f = std::fs::File::open(path)?;
    if f.metadata()?.len() > MAX_RECEIPT_BYTES {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    f.take(MAX_RECEIPT_BYTES + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_RECEIPT_BYTES).then_some(bytes))
}

/// The facts of a verified receipt, or why they cannot be read.
fn fact(medium: &MediumId, r: &Receipt) -> Result<VaultReceipt, String> {
    let time = |what: &str, s: &str| {
        OffsetDateTime::parse(s, &Rfc3339).map_err(|_| format!("its {what} {s:?} is not a time"))
    };
    let mut generations = Vec::new();
    for g in &r.generations {
        let hex = g.snapshot.len() == 64 && g.snapshot.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex {
            return Err(format!(
                "it names a snapshot {:?} that is not a repository snapshot id",
                g.snapshot
            ));
        }
        generations.push(VaultHeld {
            snapshot: SnapshotId::new(g.snapshot.to_ascii_lowercase()),
            stored: time("stored time", &g.stored)?,
            retain_until: time("retain_until", &g.retain_until)?,
            immutable: g.immutable,
        });
    }
    Ok(VaultReceipt {
        vault: medium.clone(),
        issued: time("issue time", &r.issued)?,
        firewall: r.firewall.state.clone(),
        firewall_detail: r.firewall.detail.clone(),
        clock: r.clock.state.clone(),
        pull_failed: (r.pull.state != "ok")
            .then(|| r.pull.error.clone().unwrap_or_else(|| r.pull.state.clone())),
        without_flag_total: r.immutable.without_flag_total,
        without_flag: r.immutable.without_flag.clone(),
        generations,
        findings: r
            .findings
            .iter()
            .map(|f| VaultFinding {
                kind: f.kind.clone(),
                time: f.time.clone(),
                detail: f.detail.clone(),
            })
            .collect(),
        findings_total: r.findings_total,
        ledger_head: r.ledger_head.clone(),
        ledger_rows: r.ledger_rows,
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn rejected(name: &PoolName, message: Text, next: Text) -> Problem {
    let mut p = Problem::new(
        Severity::Warning,
        ProblemCode::VaultReceiptRejected,
        message,
        next,
    );
    p.medium = Some(MediumId::new(name.as_str()));
    p
}

fn keep_and_check(name: &PoolName) -> Text {
    Text::new(
        format!("Keep the file as evidence (hokan never deletes it). Find out who wrote it; the copies on vault {name} count only from receipts that verify."),
        format!("ファイルは証拠として残してください（hokan は削除しません）。誰が書いたかを調べてください。保管サーバ {name} のコピーは検証できた受領書からのみ数えます。"),
    )
}

fn no_receipt(name: &PoolName, inbox: &Path) -> Problem {
    let mut p = Problem::new(
        Severity::Warning,
        ProblemCode::VaultNoReceipt,
        Text::new(
            format!("Vault {name} has never sent a receipt this server could verify (inbox {}): nothing on it counts.", inbox.join(name.as_str()).display()),
            format!("保管サーバ {name} から、このサーバで検証できる受領書がまだ届いていません（受け口 {}）。何も数えません。", inbox.join(name.as_str()).display()),
        ),
        Text::new(
            format!("On vault {name}, run `hokan vault status`; check that `hokan serve` runs here and that the vault's public_key in hokan.toml is the one `hokan vault init` printed."),
            format!("保管サーバ {name} で `hokan vault status` を実行し、このサーバで `hokan serve` が動いていること、hokan.toml の public_key が `hokan vault init` の表示と同じことを確認してください。"),
        ),
    );
    p.medium = Some(MediumId::new(name.as_str()));
    p
}

pub mod drill;
#[cfg(test)]
mod tests;
