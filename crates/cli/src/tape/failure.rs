//! Tape errors ([`hokan_jobs::JobError`]) as the person reads them: the
//! sentence in their language and the exit code. The jobs library keeps
//! the data; the words are here.

use hokan_catalog::anchor::RolledBack;
use hokan_catalog::MediaSetRow;
use hokan_jobs::tape::backup::{DriveProblem, TapeRefusal};
use hokan_jobs::tape::devices::SettingsProblem;
use hokan_jobs::tape::restore::{is_latest, InDrive, NoSet, SetCartridge};
use hokan_jobs::JobError;
use hokan_tape::format;
use time::OffsetDateTime;

use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};

/// A tape pool's settings that name no device (exit 10).
fn settings_failure(l: Lang, e: &JobError) -> Failure {
    let JobError::TapePoolSettings { pool, problem } = e else {
        return crate::job_error::failure(l, e);
    };
    let text = match problem {
        SettingsProblem::NoDevice => t(
            l,
            "set `device` (the drive's no-rewind device, e.g. /dev/nst0), or `virtual_library` for a simulated one",
            "`device`（ドライブの巻き戻しなしデバイス、例 /dev/nst0）か、模擬ライブラリの `virtual_library` を設定してください",
        ),
        SettingsProblem::NoChanger => t(
            l,
            "a library needs `changer` (its SCSI generic device, e.g. /dev/sg3)",
            "ライブラリには `changer`（SCSI 汎用デバイス、例 /dev/sg3）が必要です",
        ),
        _ => t(
            l,
            "tape drives are supported on Linux only; use `virtual_library` to try hokan",
            "テープドライブは Linux でのみ使えます。試すには `virtual_library` を使ってください",
        ),
    };
    Failure::new(exit::CONFIG, format!("[[tape_pool]] {pool}: {text}"))
}

/// The failure for a device error while opening or asking the devices:
/// the device's sentence, or the settings' mistake.
pub fn device_failure(l: Lang, e: &JobError) -> Failure {
    match e {
        JobError::Tape(e) => tape_failure(l, e),
        JobError::TapePoolSettings { .. } => settings_failure(l, e),
        e => crate::job_error::failure(l, e),
    }
}

/// A tape error as a failure: the device's sentence, and what to do.
pub fn tape_failure(lang: Lang, e: &hokan_tape::TapeError) -> Failure {
    use hokan_tape::TapeError as E;
    let hint = match e {
        E::NotLoaded { .. } => t(
            lang,
            "insert or load a cartridge, then run the command again",
            "カートリッジを挿入（ロード）してから、もう一度実行してください",
        ),
        E::WriteProtected { .. } => t(
            lang,
            "slide the cartridge's write-protect tab off, or use another cartridge",
            "カートリッジの書き込み禁止タブを解除するか、別のカートリッジを使ってください",
        ),
        E::EndOfMedium { .. } => t(
            lang,
            "the cartridge is full: load the next cartridge",
            "カートリッジが一杯です。次のカートリッジを入れてください",
        ),
        E::Move { .. } => t(
            lang,
            "check the library with `hokan tape status`",
            "`hokan tape status` でライブラリの状態を確認してください",
        ),
        _ => t(
            lang,
            "check the drive and cartridge (cleaning, cabling, the drive's display), then run the command again",
            "ドライブとカートリッジ（クリーニング、ケーブル、ドライブの表示）を確認してから、もう一度実行してください",
        ),
    };
    Failure::new(exit::ERROR, format!("{e}. {hint}"))
}

/// A cartridge whose retention has not passed.
pub fn retained_failure(ctx: &SiteCtx<'_>, medium: &str, until: OffsetDateTime) -> Failure {
    let l = ctx.lang;
    Failure::new(
        exit::ERROR,
        format!(
            "{medium}: {} {}. {}",
            t(l, "holds a media set kept until", "は保持期限内のメディアセットを保持しています: 期限"),
            ctx.when(until),
            t(
                l,
                "hokan never overwrites a cartridge before its retention has passed; use another cartridge",
                "保持期限が過ぎるまで上書きしません。別のカートリッジを使ってください"
            )
        ),
    )
}

/// A format error (bad data on tape, or the drive's error underneath).
pub fn format_failure(l: Lang, e: &format::FormatError) -> Failure {
    Failure::new(
        exit::ERROR,
        format!(
            "{e}. {}",
            t(
                l,
                "check the cartridge and the drive (clean it), then run the command again",
                "カートリッジとドライブを確認（クリーニング）してから、もう一度実行してください"
            )
        ),
    )
}

/// A tape job's error as the person reads it, with its exit code.
pub fn job_failure(ctx: &SiteCtx<'_>, e: &JobError) -> Failure {
    let l = ctx.lang;
    match e {
        JobError::Tape(e) => tape_failure(l, e),
        JobError::TapeFormat(e) => format_failure(l, e),
        JobError::CatalogRolledBack(rb) => rolled_back(ctx, std::slice::from_ref(rb)),
        JobError::Retained { medium, until } => retained_failure(ctx, medium, *until),
        JobError::CartridgeInDrive { barcode, drive } => Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {} {drive}; {}",
                t(l, "is in drive", "はドライブ"),
                t(
                    l,
                    "wait for the job using it to end, or unload it with `hokan tape move --to slot`",
                    "にあります。使用中のジョブの終了を待つか、`hokan tape move --to slot` でアンロードしてください"
                )
            ),
        ),
        JobError::NotInLibrary {
            barcode,
            exporting: false,
        } => Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {}",
                t(
                    l,
                    "is not in the library: bring it back, put it in through the mail slot and run `hokan tape inventory`, then run the command again",
                    "はライブラリにありません。持ち帰ってメールスロットから入れ、`hokan tape inventory` を実行してから、もう一度実行してください"
                )
            ),
        ),
        JobError::NotInLibrary {
            barcode,
            exporting: true,
        } => Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {}",
                t(l, "is not in the library", "はライブラリにありません")
            ),
        ),
        JobError::NotInDriveOrSlot { barcode, library } => Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {} {}",
                t(
                    l,
                    "is neither in the drive nor in a slot of",
                    "はドライブにもスロットにもありません:"
                ),
                library
            ),
        ),
        JobError::NoFreeSlot { barcode } => Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {}",
                t(
                    l,
                    "no free storage slot to unload to",
                    "アンロード先の空きスロットがありません"
                )
            ),
        ),
        JobError::MailSlotFull { barcode } => Failure::new(
            exit::ERROR,
            format!(
                "{barcode}: {}",
                t(
                    l,
                    "the mail slot is full: take out the cartridges there, then run `hokan tape move --to export` for this one",
                    "メールスロットが一杯です。そこにあるカートリッジを取り出してから、`hokan tape move --to export` を実行してください"
                )
            ),
        ),
        JobError::NoTapeCartridge { pool, why, refused } => {
            let mut lines = vec![format!(
                "{} {}.",
                t(
                    l,
                    "no cartridge of pool",
                    "書き込めるカートリッジがありません: プール"
                ),
                pool
            )];
            for (m, until) in &why.retained {
                lines.push(format!(
                    "  {m}: {} {}",
                    t(l, "kept until", "保持期限"),
                    ctx.when(*until)
                ));
            }
            for (m, set) in &why.in_open_set {
                lines.push(format!(
                    "  {m}: {} {set}",
                    t(l, "in the open set", "書き込み中のセット")
                ));
            }
            for m in &why.in_mail_slot {
                lines.push(format!(
                    "  {m}: {}",
                    t(
                        l,
                        "in the mail slot (move it into a storage slot to use it)",
                        "メールスロットにあります（使うには格納スロットへ移してください）"
                    )
                ));
            }
            for (m, why) in refused {
                lines.push(format!("  {}", refused_line(l, m, why)));
            }
            lines.push(
                t(
                    l,
                    "Insert and label a new cartridge (`hokan tape label`), or wait until a retention passes. A cartridge is never overwritten before its retention date.",
                    "新しいカートリッジを入れてラベルを付ける（`hokan tape label`）か、保持期限が過ぎるまでお待ちください。保持期限前のカートリッジは上書きしません。",
                )
                .to_owned(),
            );
            Failure::new(exit::ERROR, lines.join("\n"))
        }
        JobError::InsertCartridge {
            drive,
            pool,
            problem,
        } => {
            let what = match problem {
                DriveProblem::Empty => format!("{drive}:"),
                DriveProblem::Blank => t(
                    l,
                    "the cartridge in the drive is blank;",
                    "ドライブのカートリッジは空です。",
                )
                .to_owned(),
                DriveProblem::OtherPool { medium, pool } => format!(
                    "{} {} {} {};",
                    t(
                        l,
                        "the cartridge in the drive is",
                        "ドライブのカートリッジは"
                    ),
                    medium,
                    t(l, "of pool", "プール"),
                    pool
                ),
                DriveProblem::AlreadyInSet { medium } => format!(
                    "{} {};",
                    medium,
                    t(
                        l,
                        "is already part of this set",
                        "はこのセットで使用済みです"
                    )
                ),
                other => format!("{other:?};"),
            };
            Failure::new(
                exit::ERROR,
                format!(
                    "{what} {} {}: {}",
                    t(l, "insert a labelled cartridge of pool", "プール"),
                    pool,
                    t(
                        l,
                        "then run the command again (a single drive has no changer to fetch one)",
                        "のラベル付きカートリッジを挿入してから、もう一度実行してください（単体ドライブにはチェンジャーがありません）"
                    )
                ),
            )
        }
        JobError::WrongCartridgeForSet {
            drive,
            holds,
            set,
            want,
        } => Failure::new(
            exit::ERROR,
            format!(
                "{}: {} {}; {} {} {} {want}: {} {want}",
                drive,
                t(l, "holds", "のカートリッジは"),
                holds,
                t(l, "the open media set", "書き込み中のメディアセット"),
                set,
                t(l, "continues on", "の続きは"),
                t(l, "insert", "挿入してください:"),
            ),
        ),
        JobError::SetVerifyIncomplete {
            set,
            whole,
            objects,
        } => Failure::new(
            exit::DAMAGE,
            format!(
                "{} {}: {whole}/{} {}",
                t(l, "verify of media set", "メディアセットの検証"),
                set,
                objects,
                t(
                    l,
                    "objects read back whole",
                    "個のオブジェクトしか読み戻せませんでした"
                )
            ),
        ),
        JobError::NoStorageSlot => Failure::new(
            exit::ERROR,
            t(l, "no free storage slot", "空きスロットがありません"),
        ),
        JobError::OtherPoolsMedium { medium, pool } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} {}",
                t(l, "belongs to another pool:", "は別のプールの媒体です:"),
                pool.as_deref().unwrap_or("-")
            ),
        ),
        JobError::InOpenSet { medium, set } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} {set}",
                t(
                    l,
                    "is part of a media set still being written (or left open by an interrupted job; the next `hokan tape backup` closes it):",
                    "は書き込み中のメディアセットの一部です（中断したジョブの場合は次の `hokan tape backup` で閉じられます）:"
                )
            ),
        ),
        JobError::OtherCartridgesLabel {
            medium,
            label,
            pool,
        } => Failure::new(
            exit::ERROR,
            format!(
                "{medium}: {} {} / {}",
                t(
                    l,
                    "carries the label of another hokan cartridge:",
                    "には別の hokan カートリッジのラベルがあります:"
                ),
                label,
                pool
            ),
        ),
        JobError::TapePoolSettings { .. } => settings_failure(l, e),
        e @ (JobError::NoSetToRestore { .. }
        | JobError::SnapshotNotInSet { .. }
        | JobError::SetCartridgesAway { .. }
        | JobError::InsertSetCartridge { .. }
        | JobError::SetCatalogMissing { .. }
        | JobError::SetObjectsIncomplete { .. }) => restore_failure(l, e),
        e => crate::job_error::failure(l, e),
    }
}

/// A cartridge refused on the way: `<barcode> <why>`.
pub fn refused_line(l: Lang, medium: &str, why: &TapeRefusal) -> String {
    let why = match why {
        TapeRefusal::WriteProtected => t(
            l,
            "is write protected (its tab is set): skipped; slide the tab off to use it",
            "は書き込み禁止です（タブが設定されています）: 使用しません。使うにはタブを解除してください",
        )
        .to_owned(),
        TapeRefusal::OtherLabel { medium, pool } => format!(
            "{} {} / {} ({})",
            t(l, "carries another label:", "のラベルが違います:"),
            medium,
            pool,
            t(
                l,
                "run `hokan tape label` to relabel it",
                "`hokan tape label` でラベルを付け直してください"
            )
        ),
        TapeRefusal::Blank => t(
            l,
            "is blank: label it with `hokan tape label` first",
            "は空です。先に `hokan tape label` でラベルを付けてください",
        )
        .to_owned(),
        TapeRefusal::Unreadable(e) => format!("{e}"),
        other => format!("{other}"),
    };
    format!("{medium} {why}")
}

/// The refusal for one or more rollbacks found: the first named in full.
pub fn rolled_back(ctx: &SiteCtx<'_>, found: &[RolledBack]) -> Failure {
    let mut msg = ctx.pick(&found[0].text());
    if found.len() > 1 {
        let others: Vec<&str> = found[1..].iter().map(|r| r.medium.as_str()).collect();
        msg.push_str(&format!(" (+ {})", others.join(", ")));
    }
    Failure::new(exit::UNTRUSTED, msg)
}

/// A short form of a snapshot id for messages.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// One set in words for messages: its id, its cartridges (barcodes) and the
/// generations (snapshots) it holds, e.g. `weekday-… on HKN001L9, HKN002L9
/// (snapshots 1a2b3c4d5e6f)`.
fn set_words(l: Lang, s: &MediaSetRow) -> String {
    let carts: Vec<&str> = s.cartridges.iter().map(|m| m.as_str()).collect();
    let snaps: Vec<&str> = s.snapshots.iter().map(|x| short(x.as_str())).collect();
    let carts = if carts.is_empty() {
        "-".to_owned()
    } else {
        carts.join(", ")
    };
    let snaps = if snaps.is_empty() {
        t(l, "not recorded", "記録なし").to_owned()
    } else {
        snaps.join(", ")
    };
    match l {
        Lang::En => format!("{} on {carts} (snapshots {snaps})", s.id),
        Lang::Ja => {
            format!("{}（カートリッジ {carts}、スナップショット {snaps}）", s.id)
        }
    }
}

/// What the catalog knows of the pool's complete sets, as a sentence, and
/// what to do when the catalog was lost: for every message that finds no
/// set to restore from.
pub fn known_sets(l: Lang, p: &str, sets: &[MediaSetRow]) -> String {
    let complete: Vec<String> = sets
        .iter()
        .filter(|s| s.complete)
        .take(8)
        .map(|s| set_words(l, s))
        .collect();
    let known = if complete.is_empty() {
        match l {
            Lang::En => {
                format!("The catalog knows no complete media set of pool {p}.")
            }
            Lang::Ja => {
                format!("カタログにはプール {p} の完全なメディアセットがありません。")
            }
        }
    } else {
        match l {
            Lang::En => format!(
                "The catalog's complete sets of pool {p}, newest first: {}.",
                complete.join("; ")
            ),
            Lang::Ja => format!(
                "カタログにあるプール {p} の完全なメディアセット（新しい順）: {}。",
                complete.join("、")
            ),
        }
    };
    match l {
        Lang::En => format!(
            "{known} If the catalog was lost or is older than the tapes, put the pool's cartridges into the library (a single drive: insert each in turn) and run `hokan tape scan --pool {p}`, then run this command again."
        ),
        Lang::Ja => format!(
            "{known}カタログを失った場合やテープより古い場合は、プールのカートリッジをライブラリに入れ（単体ドライブでは 1 本ずつ挿入し）、`hokan tape scan --pool {p}` を実行してから、もう一度このコマンドを実行してください。"
        ),
    }
}

fn not_in_set(l: Lang, p: &str, set: &str, snapshot: &str, holds: &[String]) -> Failure {
    let list = if holds.is_empty() {
        t(l, "none", "なし").to_owned()
    } else {
        holds
            .iter()
            .map(|s| short(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Failure::new(
        exit::ERROR,
        match l {
            Lang::En => format!(
                "Media set {set} of pool {p} holds no snapshot {snapshot}; it holds: {list}. Name one of these, or leave out --set to restore from the newest set that holds {snapshot}."
            ),
            Lang::Ja => format!(
                "プール {p} のメディアセット {set} にはスナップショット {snapshot} がありません。含まれるもの: {list}。このいずれかを指定するか、--set を外して {snapshot} を含む最新のセットから復元してください。"
            ),
        },
    )
}

/// A cartridge of the set in words, for a person to find it: its barcode,
/// the set, its place in the set and the generation being restored.
fn cartridge_words(l: Lang, c: &SetCartridge, snapshot: &str) -> String {
    let (medium, n, seq) = (&c.medium, c.of, c.seq);
    let snap = if is_latest(snapshot) {
        t(l, "the newest on it", "その中の最新").to_owned()
    } else {
        short(snapshot).to_owned()
    };
    match l {
        Lang::En => {
            format!(
                "{medium} (media set {}, cartridge {seq} of {n}, snapshot {snap})",
                c.set
            )
        }
        Lang::Ja => {
            format!(
                "{medium}（メディアセット {} の {seq}/{n} 本目、スナップショット {snap}）",
                c.set
            )
        }
    }
}

/// A restore from tape that cannot go on, in the person's words: no set,
/// a cartridge to bring (exit 13), a damaged set (exit 4).
fn restore_failure(l: Lang, e: &JobError) -> Failure {
    match e {
        JobError::NoSetToRestore { pool: p, why, known } => {
            let rest = known_sets(l, p, known);
            let text = match (why, l) {
                (NoSet::NotComplete { set: id }, Lang::En) => format!(
                    "Media set {id} of pool {p} is not in the catalog as a complete set. {rest}"
                ),
                (NoSet::NotComplete { set: id }, Lang::Ja) => format!(
                    "プール {p} のメディアセット {id} は完全なセットとしてカタログにありません。{rest}"
                ),
                (NoSet::NoLatest, Lang::En) => format!(
                    "There is no latest generation to restore from pool {p}: no complete media set of it is in the catalog. {rest}"
                ),
                (NoSet::NoLatest, Lang::Ja) => format!(
                    "プール {p} から復元する最新の世代がありません。このプールの完全なメディアセットがカタログにありません。{rest}"
                ),
                (NoSet::NoneHolds { snapshot }, Lang::En) => format!(
                    "No complete media set of pool {p} in the catalog holds snapshot {snapshot}. {rest}"
                ),
                (NoSet::NoneHolds { snapshot }, Lang::Ja) => format!(
                    "スナップショット {snapshot} を含むプール {p} の完全なメディアセットがカタログにありません。{rest}"
                ),
                (NoSet::NoCartridges { set }, Lang::En) => {
                    format!("Media set {set} has no cartridges in the catalog. {rest}")
                }
                (NoSet::NoCartridges { set }, Lang::Ja) => {
                    format!("メディアセット {set} のカートリッジがカタログにありません。{rest}")
                }
                (other, _) => format!("{other:?}. {rest}"),
            };
            Failure::new(exit::ERROR, text)
        }
        JobError::SnapshotNotInSet {
            pool,
            set,
            snapshot,
            holds,
        } => not_in_set(l, pool, set, snapshot, holds),
        JobError::SetCartridgesAway {
            library: lib,
            pool,
            away,
            snapshot,
        } => {
            let words: Vec<String> = away
                .iter()
                .map(|c| cartridge_words(l, c, snapshot))
                .collect();
            Failure::new(
                exit::INSERT_CARTRIDGE,
                match l {
                    Lang::En => format!(
                        "Library {lib} lacks {} cartridge(s) of the set: {}. Put them in through the mail slot, run `hokan tape inventory --pool {pool}`, then run this command again.",
                        words.len(),
                        words.join("; "),
                    ),
                    Lang::Ja => format!(
                        "ライブラリ {lib} にこのセットのカートリッジが {} 本ありません: {}。メールスロットから入れて `hokan tape inventory --pool {pool}` を実行し、もう一度このコマンドを実行してください。",
                        words.len(),
                        words.join("、"),
                    ),
                },
            )
        }
        JobError::InsertSetCartridge {
            drive,
            holds,
            want,
            snapshot,
        } => {
            let what = cartridge_words(l, want, snapshot);
            let now_in = match (holds, l) {
                (InDrive::Empty, Lang::En) => format!("Drive {drive} holds no cartridge."),
                (InDrive::Empty, Lang::Ja) => {
                    format!("ドライブ {drive} にカートリッジがありません。")
                }
                (InDrive::Other { medium: other }, Lang::En) => {
                    format!("Drive {drive} holds {other}, not the cartridge needed.")
                }
                (InDrive::Other { medium: other }, Lang::Ja) => format!(
                    "ドライブ {drive} には {other} が入っており、必要なカートリッジではありません。"
                ),
                (_, Lang::En) => format!(
                    "Drive {drive} holds a cartridge without a hokan label, not the cartridge needed."
                ),
                (_, Lang::Ja) => format!(
                    "ドライブ {drive} には hokan のラベルのないカートリッジが入っており、必要なカートリッジではありません。"
                ),
            };
            Failure::new(
                exit::INSERT_CARTRIDGE,
                match l {
                    Lang::En => format!("{now_in} Insert {what} and run the command again."),
                    Lang::Ja => format!("{now_in}{what} を挿入して、もう一度実行してください。"),
                },
            )
        }
        JobError::SetCatalogMissing {
            pool,
            medium: last,
            set,
        } => Failure::new(
            exit::DAMAGE,
            match l {
                Lang::En => format!(
                    "Cartridge {last} holds no complete catalog of media set {set}: it may be damaged or rewritten. Restore from another set (`hokan tape status --pool {pool}` lists them)."
                ),
                Lang::Ja => format!(
                    "カートリッジ {last} にメディアセット {set} の完全なカタログがありません。損傷または上書きされた可能性があります。別のセットから復元してください（`hokan tape status --pool {pool}` で一覧できます）。"
                ),
            },
        ),
        JobError::SetObjectsIncomplete { set, objects } => Failure::new(
            exit::DAMAGE,
            format!(
                "{} {}: {}",
                t(
                    l,
                    "objects incomplete after reading every cartridge of set",
                    "すべてのカートリッジを読んでも不完全なオブジェクト: セット"
                ),
                set,
                objects.join(", ")
            ),
        ),
        e => crate::job_error::failure(l, e),
    }
}
