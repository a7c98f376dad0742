//! Restoring a snapshot as `hokan restore` reports it (the routine is
//! `hokan_jobs::restore`): shared by `hokan restore` and the restores from
//! a tape, a disk cartridge or a bucket.

use std::path::{Path, PathBuf};

use hokan_repo::{Repository, RestoreOptions};
use serde_json::json;

use super::{load, open_repository, print_json};
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::job_error::failure as job_failure;
use crate::progress::Bar;
use crate::Global;

type Out = Result<i32, Failure>;

/// `hokan restore` from the repository folder `repo` (used by `tape
/// restore` on the objects read back from tape).
pub fn restore_from(
    g: &Global,
    lang: Lang,
    repo: &Path,
    snapshot: &str,
    target: PathBuf,
) -> Result<i32, Failure> {
    restore_from_with(
        g,
        lang,
        repo,
        snapshot,
        target,
        false,
        false,
        serde_json::Map::new(),
    )
}

/// [`restore_from`], adding `extra` to the `--json` report (`disk restore`
/// adds the cartridge's catalog anchor).
#[allow(clippy::too_many_arguments)] // the options of `hokan restore`
pub fn restore_from_with(
    g: &Global,
    lang: Lang,
    repo: &Path,
    snapshot: &str,
    target: PathBuf,
    latest_undamaged: bool,
    overwrite: bool,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Result<i32, Failure> {
    let mut g = g.clone();
    g.repo = Some(repo.to_owned());
    let conf = load(&g, lang, false)?;
    let repo = open_repository(&g, lang, repo, &conf)?;
    restore_snapshot_with(
        &g,
        lang,
        &repo,
        snapshot,
        target,
        Vec::new(),
        overwrite,
        None,
        latest_undamaged,
        extra,
    )
}

/// Restore snapshot `snap` of an opened repository (a folder, a cartridge,
/// a bucket) into `target`, reporting as `hokan restore` does.
#[allow(clippy::too_many_arguments)] // the options of `hokan restore`
pub fn restore_snapshot(
    g: &Global,
    lang: Lang,
    repo: &Repository,
    snap: &str,
    target: PathBuf,
    include: Vec<String>,
    overwrite: bool,
    source: Option<String>,
    latest_undamaged: bool,
) -> Out {
    restore_snapshot_with(
        g,
        lang,
        repo,
        snap,
        target,
        include,
        overwrite,
        source,
        latest_undamaged,
        serde_json::Map::new(),
    )
}

/// [`restore_snapshot`], adding `extra` to the `--json` report.
#[allow(clippy::too_many_arguments)] // the options of `hokan restore`
pub fn restore_snapshot_with(
    g: &Global,
    lang: Lang,
    repo: &Repository,
    snap: &str,
    target: PathBuf,
    include: Vec<String>,
    overwrite: bool,
    source: Option<String>,
    latest_undamaged: bool,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Out {
    let found = hokan_jobs::restore::choose(repo, snap, source.as_deref(), latest_undamaged)
        .map_err(|e| job_failure(lang, &e))?;
    let (id, s) = (&found.id, &found.snapshot);
    // Never silent: which damaged snapshots were passed over, and which one
    // is restored instead (stderr, so it shows also with --json).
    for (name, why) in &found.skipped {
        eprintln!(
            "{} {name} ({why})",
            t(
                lang,
                "warning: skipped damaged snapshot",
                "警告: 破損したスナップショットを飛ばしました:"
            ),
        );
    }
    if !found.skipped.is_empty() {
        eprintln!(
            "{} {} ({}). {}",
            t(
                lang,
                "restoring the newest undamaged snapshot",
                "破損していない最新のスナップショットを復元します:"
            ),
            id.short(),
            s.time,
            t(
                lang,
                "Run `hokan verify` to see the damage",
                "`hokan verify` で破損を確認してください"
            )
        );
    }
    let bar = Bar::new(g.quiet, g.json, lang, "restore");
    let r = hokan_jobs::restore::restore(
        repo,
        &found,
        &RestoreOptions {
            target: target.clone(),
            include,
            overwrite,
        },
        &bar,
    );
    bar.finish();
    let st = r.map_err(|e| job_failure(lang, &e))?;
    if g.json {
        let skipped: Vec<_> = found
            .skipped
            .iter()
            .map(|(n, why)| json!({"snapshot": n, "error": why}))
            .collect();
        let mut out = json!({"snapshot": id, "time": s.time, "target": target, "stats": st,
            "skipped_damaged": skipped});
        if let Some(o) = out.as_object_mut() {
            o.extend(extra);
        }
        print_json(&out);
    } else {
        let l = lang;
        println!(
            "{} {} → {}: {} {}, {} {}, {} ({:.1}s)",
            t(l, "restored", "復元しました"),
            id.short(),
            target.display(),
            st.files,
            t(l, "files", "ファイル"),
            st.dirs,
            t(l, "folders", "フォルダ"),
            Bytes(st.bytes),
            st.duration_secs
        );
        for (p, e) in &st.errors {
            eprintln!("{} {p}: {e}", t(l, "NOT RESTORED:", "復元できません:"));
        }
    }
    Ok(if st.errors.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}
