//! A disk job's error ([`hokan_jobs::JobError`]) as the person reads it,
//! and what a job did, in a sentence: the words and exit codes of
//! `hokan disk`; the data is the jobs library's.

use hokan_jobs::disk::format::{FormatProblem, Passed, Seen};
use hokan_jobs::disk::{PutAway, Refusal};
use hokan_jobs::JobError;
use hokan_repo::store::StoreError;

use super::Pool;
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use hokan_jobs::rotation::Tonight;

/// A device error as a failure: its sentence, and what to do.
pub(crate) fn disk_failure(lang: Lang, e: &hokan_disk::DiskError) -> Failure {
    use hokan_disk::DiskError as E;
    let hint = match e {
        E::NoCartridge { .. } => t(
            lang,
            "insert the cartridge, then run the command again",
            "カートリッジを挿入してから、もう一度実行してください",
        ),
        E::Gone { .. } => t(
            lang,
            "the cartridge went away while in use: nothing was recorded as copied, and its repository stays usable; insert it and run the command again",
            "使用中にカートリッジが外れました。コピーは記録していません。カートリッジのリポジトリはそのまま使えます。挿入して、もう一度実行してください",
        ),
        E::Command { .. } => t(
            lang,
            "check the device and the command in hokan.toml ([[disk_pool]] *_command), then run again",
            "装置と hokan.toml のコマンド（[[disk_pool]] の *_command）を確認して、もう一度実行してください",
        ),
        _ => t(
            lang,
            "check the device and the cartridge, then run the command again",
            "装置とカートリッジを確認して、もう一度実行してください",
        ),
    };
    Failure::new(exit::ERROR, format!("{e}. {hint}"))
}

/// A disk job's error as the person reads it.
pub(crate) fn disk_job_failure(l: Lang, e: &JobError) -> Failure {
    match e {
        JobError::Disk(e) => disk_failure(l, e),
        JobError::NoCartridge {
            device: name,
            pool,
            wanted,
        } => {
            let what = match wanted {
                Some(id) => id.to_string(),
                None => wanted_any(l).to_owned(),
            };
            Failure::new(
                exit::ERROR,
                match l {
                    Lang::Ja => format!(
                        "{name}: 書き込むカートリッジがありません。{what} を挿入してください（プール {pool}）"
                    ),
                    _ => format!("{name}: no cartridge to write; insert {what} (pool {pool})"),
                },
            )
        }
        JobError::EjectFailed { medium, source } => Failure::new(
            exit::ERROR,
            format!(
                "{}: {} ({source}). {}",
                medium,
                t(l, "the eject failed", "排出に失敗しました"),
                t(
                    l,
                    "The cartridge is still where the host can reach it, so its copies count as ONLINE. Eject it by hand (or fix the device) and run `hokan disk status` so hokan sees it gone",
                    "カートリッジはまだホストから届く場所にあり、コピーはオンライン扱いです。手で排出する（または装置を直す）と、`hokan disk status` で確認できます"
                )
            ),
        ),
        JobError::NoMountPoint { pool } => Failure::new(
            exit::CONFIG,
            format!(
                "{}: {}",
                pool,
                t(
                    l,
                    "set `mount_point` (where hokan mounts the cartridge, e.g. /mnt/hokan-rdx), or `virtual_device` for a simulated device",
                    "`mount_point`（カートリッジをマウントする場所、例 /mnt/hokan-rdx）か、模擬装置の `virtual_device` を設定してください",
                )
            ),
        ),
        e => crate::job_error::failure(l, e),
    }
}

/// A job that attached a cartridge for `want`, failed: a refusal names
/// both cartridges.
pub(super) fn attach_failure(l: Lang, pool: &Pool, want: &Tonight, e: &JobError) -> Failure {
    match e {
        JobError::CartridgeRefused { device, refusal } => {
            Failure::new(exit::ERROR, refusal_text(l, pool, want, device, refusal))
        }
        e => disk_job_failure(l, e),
    }
}

/// A cartridge the device holds, as `disk format` names it.
fn seen_text(l: Lang, c: &Seen) -> String {
    let place = match c.place {
        hokan_disk::Place::Drive => t(l, "in the drive", "ドライブ内").to_owned(),
        hokan_disk::Place::Slot { slot, .. } => format!("{} {slot}", t(l, "slot", "スロット")),
    };
    format!("{} ({place})", c.id.as_deref().unwrap_or("?"))
}

/// Why `disk format` passed a cartridge over, in a sentence.
fn passed_text(l: Lang, p: &Passed) -> String {
    match p {
        Passed::CarriesAnotherId(c) => format!(
            "{} {}",
            seen_text(l, c),
            t(
                l,
                "carries another hokan id",
                "は別の hokan ID のカートリッジです"
            )
        ),
        Passed::Unreadable(e) => e.to_string(),
        Passed::OtherPool { seen, medium, pool } => format!(
            "{}: {} {} {} {}; {}",
            seen_text(l, seen),
            t(l, "the cartridge is", "カートリッジは"),
            medium,
            t(l, "of pool", "（プール"),
            pool,
            t(
                l,
                "it is not formatted over from another pool",
                "）のものです。別のプールのカートリッジは上書きしません"
            )
        ),
        Passed::CarriesIds { seen, ids } => format!(
            "{} {} {}",
            seen_text(l, seen),
            t(l, "carries hokan id", "は次の hokan ID を持っています:"),
            ids.iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// A failed `disk format`, as the person reads it (`relabel` as given).
pub(super) fn format_failure(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    relabel: Option<&str>,
    e: &JobError,
) -> Failure {
    let l = ctx.lang;
    let JobError::Format {
        medium,
        device,
        problem,
    } = e
    else {
        return disk_job_failure(l, e);
    };
    let name = device.as_deref().unwrap_or("-");
    match &**problem {
        FormatProblem::InvalidId => Failure::new(
            exit::USAGE,
            format!(
                "{medium:?}: {}",
                t(
                    l,
                    "a cartridge id is letters, digits, '-', '_' and '.' (e.g. RDX-TUE)",
                    "カートリッジ ID は英数字・'-'・'_'・'.' です（例: RDX-TUE）"
                )
            ),
        ),
        FormatProblem::NotInPool { cartridges } => Failure::new(
            exit::USAGE,
            format!(
                "{medium}: {} {} ({})",
                t(
                    l,
                    "is not in the cartridges of pool",
                    "はプールのカートリッジ一覧にありません:"
                ),
                pool.name,
                cartridges.join(", ")
            ),
        ),
        FormatProblem::OtherPool { pool: other } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} {}",
                t(l, "belongs to another pool:", "は別のプールの媒体です:"),
                other.as_ref().map(|p| p.as_str()).unwrap_or("-")
            ),
        ),
        FormatProblem::NoBlank { passed } => {
            let inside = if passed.is_empty() {
                t(
                    l,
                    "no cartridge is inserted",
                    "カートリッジが入っていません",
                )
                .to_owned()
            } else {
                passed
                    .iter()
                    .map(|p| passed_text(l, p))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let relabel_said = match relabel {
                Some(r) => format!(
                    " {} {r}.",
                    t(
                        l,
                        "No cartridge inside carries",
                        "次の ID のカートリッジは入っていません:"
                    )
                ),
                None => String::new(),
            };
            Failure::new(
                exit::ERROR,
                format!(
                    "{name}: {} {medium}: {inside}.{relabel_said} {} {medium} {}",
                    t(l, "no blank cartridge to format as", "次の ID でフォーマットできる空のカートリッジがありません:"),
                    t(l, "Insert a blank cartridge (or", "空のカートリッジ（または"),
                    t(
                        l,
                        "itself) and run again. Nothing was changed. To re-use a cartridge under a new id once its copies are past retention, add `--relabel CURRENT-ID`",
                        "自身）を挿入して、もう一度実行してください。何も変更していません。保持期間を過ぎたカートリッジを新しい ID で使うには `--relabel 現在のID` を付けてください"
                    )
                ),
            )
        }
        FormatProblem::Retained { medium: m, until } => Failure::new(
            exit::ERROR,
            format!(
                "{m}: {} {}; {} {m} {} `hokan disk format --pool {} NEW-ID`{}",
                t(l, "holds copies kept until", "のコピーは次の日時まで保持します:"),
                ctx.when(*until),
                t(l, "this cartridge is not formatted as", "それまでこのカートリッジを"),
                t(
                    l,
                    "before then. Nothing was changed. Give this cartridge another id, or use another cartridge:",
                    "としてフォーマットしません。何も変更していません。このカートリッジには別の ID を付けるか、別のカートリッジを使ってください:"
                ),
                pool.name,
                t(l, "", "")
            ),
        ),
        FormatProblem::UuidDiffers { was, now } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} {was}, {} {now}. {}",
                t(l, "was formatted on another cartridge (filesystem UUID", "は別のカートリッジ（ファイルシステム UUID"),
                t(l, "this one is", "）でフォーマットされています。このカートリッジは"),
                t(
                    l,
                    "Nothing was changed. Give this cartridge another id, or insert the cartridge that carries it",
                    "です。何も変更していません。このカートリッジには別の ID を付けるか、その ID のカートリッジを挿入してください"
                )
            ),
        ),
        FormatProblem::ForeignFiles { files } => Failure::new(
            exit::ERROR,
            format!(
                "{name}: {} ({}); {}",
                t(
                    l,
                    "the disk holds files hokan did not write",
                    "ディスクに hokan 以外のファイルがあります"
                ),
                files.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                t(
                    l,
                    "check that it is the right disk; `--force` erases them",
                    "正しいディスクか確認してください。`--force` で消去します"
                )
            ),
        ),
        FormatProblem::Io { path, source } => {
            Failure::new(exit::ERROR, format!("{}: {source}", path.display()))
        }
        FormatProblem::CreateRepository(e) => Failure::new(exit::ERROR, e.to_string()),
        other => Failure::new(exit::ERROR, format!("{medium}: {other}")),
    }
}

/// "a formatted cartridge", when the rotation wants none in particular.
fn wanted_any(l: Lang) -> &'static str {
    t(l, "a formatted cartridge", "フォーマット済みのカートリッジ")
}

/// Why the cartridge in `name` is not written to, in a sentence.
pub(super) fn refusal_text(
    l: Lang,
    pool: &Pool,
    want: &Tonight,
    name: &str,
    refusal: &Refusal,
) -> String {
    let wanted = match want {
        Tonight::Cartridge(id) => id.to_string(),
        _ => wanted_any(l).to_owned(),
    };
    match refusal {
        Refusal::Unreadable(e) => e.to_string(),
        Refusal::NotFormatted => format!(
            "{}: {} `hokan disk format --pool {} <ID>`{}",
            name,
            t(
                l,
                "the cartridge inserted is not formatted for hokan; format it with",
                "挿入されたカートリッジは hokan 用にフォーマットされていません。フォーマットするには"
            ),
            pool.name,
            t(l, "", " を実行してください")
        ),
        Refusal::OtherPool {
            medium,
            pool: other,
        } => format!(
            "{}: {} {} {} {}, {} {}; {} {wanted}",
            name,
            t(l, "the cartridge inserted is", "挿入されたカートリッジは"),
            medium,
            t(l, "of pool", "（プール"),
            other,
            t(l, "not of pool", "）で、プール"),
            pool.name,
            t(l, "insert", "のものではありません。挿入してください:"),
        ),
        Refusal::NotInCatalog { medium } => format!(
            "{}: {} {}",
            name,
            medium,
            t(
                l,
                "is labelled for this pool but is not in this site's catalog (a catalog rebuilt or from another site): `hokan disk restore` can still read it; it is not written to. `hokan disk format` adds it, erasing it",
                "はこのプールのラベルがありますが、このサイトのカタログにありません（カタログの再作成か別サイトのもの）。`hokan disk restore` で読めますが、書き込みはしません。`hokan disk format` で追加できますが、内容は消去されます"
            ),
        ),
        Refusal::UuidDiffers { medium, uuid } => format!(
            "{}: {} {} {} {}; {} {}",
            name,
            t(l, "the cartridge labelled", "ラベル"),
            medium,
            t(
                l,
                "has another filesystem UUID than when it was formatted:",
                "のカートリッジは、フォーマット時と異なるファイルシステム UUID です:"
            ),
            uuid.as_deref().unwrap_or("-"),
            t(
                l,
                "it is another disk carrying a copy of its label (or it was reformatted outside hokan); it is not written to. Insert",
                "ラベルを複製した別のディスク（または hokan 以外で再フォーマットされたもの）なので書き込みません。挿入してください:"
            ),
            medium
        ),
        Refusal::NotTonight { inserted, due: id } => format!(
            "{}: {} {}, {} {id} {}; {} {id}",
            name,
            t(l, "the cartridge inserted is", "挿入されたカートリッジは"),
            inserted,
            t(l, "but", "ですが、今夜は"),
            t(l, "is due tonight", "の番です"),
            t(l, "insert", "挿入してください:"),
        ),
        other => format!("{name}: {other}"),
    }
}

/// What the after-job step did, in a sentence.
pub(super) fn put_away_text(l: Lang, done: PutAway) -> String {
    match done {
        PutAway::Unmounted => t(
            l,
            "unmounted; still connected, so its copies are ONLINE until it is taken away and recorded",
            "アンマウントしました。接続されたままなので、取り外して記録するまでコピーはオンラインです",
        ),
        PutAway::Ejected => t(l, "unmounted and ejected (②-1-1)", "アンマウントして排出しました（②-1-1）"),
        PutAway::Deactivated => t(
            l,
            "unmounted, slot made inactive (②-2-1 with an attested network segmentation)",
            "アンマウントし、スロットを非アクティブにしました（ネットワーク分離の証明があれば ②-2-1）",
        ),
        PutAway::Exported => t(
            l,
            "unmounted and exported from the autoloader (②-2-2)",
            "アンマウントしてオートローダから搬出しました（②-2-2）",
        ),
    }
    .to_owned()
}

/// A failed disk backup job, as the person reads it.
pub(super) fn backup_failure(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    want: &Tonight,
    e: &JobError,
) -> Failure {
    let l = ctx.lang;
    match e {
        JobError::CartridgeRefused { device, refusal } => {
            Failure::new(exit::ERROR, refusal_text(l, pool, want, device, refusal))
        }
        JobError::CatalogRolledBack(rolled_back) => {
            Failure::new(exit::UNTRUSTED, ctx.pick(&rolled_back.text()))
        }
        JobError::AnchorUnreadable { medium, source } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} ({source}). {}",
                t(
                    l,
                    "the catalog anchor on the cartridge cannot be read",
                    "カートリッジのカタログアンカーを読めません"
                ),
                t(
                    l,
                    "Nothing was written to the cartridge. Keep it as it is, run `hokan catalog verify`, and see docs/catalog.md \"When the catalog cannot be trusted\"",
                    "カートリッジには何も書き込んでいません。そのまま保管し、`hokan catalog verify` を実行して、docs/catalog.md の「カタログが信頼できないとき」を参照してください"
                )
            ),
        ),
        JobError::AnchorWrite { medium, source } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} ({source}). {}",
                t(
                    l,
                    "writing the catalog anchor failed",
                    "カタログアンカーの書き込みに失敗しました"
                ),
                t(
                    l,
                    "The copy is recorded; check the cartridge and run the job again so that it carries the catalog's head",
                    "コピーは記録済みです。カートリッジを確認し、カタログのヘッドが記録されるようにもう一度ジョブを実行してください"
                )
            ),
        ),
        JobError::ReadBackDiffers { medium, path } => Failure::new(
            exit::DAMAGE,
            format!(
                "{}: {} {}: {}",
                medium.as_ref().map(|m| m.as_str()).unwrap_or("-"),
                t(l, "read-back differs for", "読み戻しが一致しません:"),
                path,
                t(
                    l,
                    "the copy is not recorded; check the cartridge (it may be failing) and run again",
                    "コピーは記録していません。カートリッジを確認して（故障の可能性）、もう一度実行してください"
                )
            ),
        ),
        JobError::CartridgeWrite {
            medium,
            gone,
            source: e,
        } => {
            let code = match e {
                StoreError::NoSpace { .. } => exit::NO_SPACE,
                _ => exit::ERROR,
            };
            let what = if *gone {
                t(
                    l,
                    "the cartridge went away during the copy (pulled out, unplugged?)",
                    "コピー中にカートリッジが外れました（引き抜き、接続断?）",
                )
            } else {
                t(
                    l,
                    "writing to the cartridge failed",
                    "カートリッジへの書き込みに失敗しました",
                )
            };
            Failure::new(
                code,
                format!(
                    "{}: {what}: {e}. {}",
                    medium,
                    t(
                        l,
                        "Nothing was recorded as copied; what was written stays valid and the next job completes it. Insert the cartridge and run the command again",
                        "コピーとしては何も記録していません。書き込んだ分は有効なまま残り、次のジョブで完了します。カートリッジを挿入して、もう一度実行してください"
                    )
                ),
            )
        }
        e => disk_job_failure(l, e),
    }
}
