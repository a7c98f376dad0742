//! `hokan tape backup`: copy snapshots from the primary repository to a new
//! media set of a pool. The job itself is [`hokan_jobs::tape::backup`];
//! here are its arguments, its progress on the terminal, and its results
//! and errors in the person's words.

use std::time::Instant;

use hokan_catalog::Catalog;
use hokan_jobs::tape::backup::{BackupJob, DriveProblem, Note, TapeProgress, TapeRefusal};
use hokan_jobs::tape::library::Moved;
use hokan_jobs::{Clock, JobError};
use hokan_offline::MediumKind;
use hokan_tape::format;
use serde_json::json;
use time::OffsetDateTime;

use super::devices::{Devices, DevicesExt};
use super::{tape_failure, Pool};
use crate::ctx::SiteCtx;
use crate::exit::{self, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::job_error::lock_pool;
use crate::progress::Bar;

/// The actor recorded on the job's events.
pub const ACTOR: &str = "hokan tape backup";

pub fn backup(
    ctx: &SiteCtx<'_>,
    pool: &Pool,
    specs: &[String],
    verify: bool,
    wait: std::time::Duration,
) -> Result<i32, Failure> {
    let l = ctx.lang;
    let started = Instant::now();
    let now = ctx.now;
    let repo = crate::ctx::primary_repository(ctx)?;
    let mut cat = ctx.catalog()?;
    let _lock = lock_pool(cat.path().expect("a file catalog"), pool.name.as_str(), l)?;
    crate::ctx::sync_catalog(&repo, &mut cat, &ctx.conf, now)
        .map_err(|e| crate::job_error::failure(l, &e))?;
    let ids = hokan_jobs::copy::snapshots_to_copy(&repo, specs)
        .map_err(|e| crate::job_error::failure(l, &e))?;
    let plan = repo
        .copy_plan(&ids)
        .map_err(|e| crate::exit::from_repo(l, &e))?;
    let mut dev = Devices::open(pool, l)?;
    let bar = Bar::new(ctx.g.quiet, ctx.g.json, l, "tape");
    let job = BackupJob {
        pool: pool_ref(pool),
        snapshots: &ids,
        plan: &plan,
        verify,
        wait,
        site: &ctx.conf.name,
        offset: ctx.offset(),
        started,
        actor: ACTOR,
    };
    let shown = Shown { ctx, bar: &bar };
    let done =
        hokan_jobs::tape::backup::backup(&repo, &mut cat, &mut dev, Clock::new(now), &job, &shown);
    bar.finish();
    let done = done.map_err(|e| job_failure(ctx, &e))?;
    let after: Vec<String> = done.after_job.iter().map(|m| moved_text(ctx, m)).collect();
    let refused: Vec<String> = done
        .refused
        .iter()
        .map(|(m, why)| refused_line(l, m, why))
        .collect();
    let snap_ids: Vec<String> = ids.iter().map(|i| i.to_hex()).collect();
    let mib_per_s = done.bytes as f64 / done.write_seconds.max(1e-9) / 1048576.0;
    if ctx.g.json {
        crate::ctx::print_json(&json!({
            "pool": pool.name,
            "set": done.set,
            "appended": done.appended,
            "cartridges": done.cartridges,
            "snapshots": snap_ids,
            "objects": plan.objects.len(),
            "bytes": done.bytes,
            "seconds": done.seconds,
            "write_mib_per_s": mib_per_s,
            "verified": done.verified,
            "refused": refused,
            "after_job": after,
            "simulated": dev.simulated,
        }));
    } else if !ctx.g.quiet {
        println!(
            "{} {} → {} ({}): {} {}, {} ({:.1}s, {:.0} MiB/s){}",
            t(l, "wrote set", "メディアセットを書き込みました"),
            done.set,
            pool.name,
            done.cartridges.join(", "),
            snap_ids.len(),
            t(l, "snapshot(s)", "スナップショット"),
            Bytes(done.bytes),
            done.seconds,
            mib_per_s,
            if verify {
                t(l, ", verified", "、検証済み")
            } else {
                ""
            }
        );
        for line in &after {
            println!("  {line}");
        }
        if dev.simulated {
            println!(
                "  ({})",
                t(
                    l,
                    "simulated library",
                    "模擬ライブラリ（実機ではありません）"
                )
            );
        }
    }
    Ok(exit::OK)
}

/// The job's progress on the terminal: the bar, and notes above it.
struct Shown<'a, 'c> {
    ctx: &'a SiteCtx<'c>,
    bar: &'a Bar,
}

impl TapeProgress for Shown<'_, '_> {
    fn total(&self, bytes: u64) {
        self.bar.set_total(bytes);
    }

    fn advance(&self, bytes: u64) {
        self.bar.add(bytes);
    }

    fn cartridge(&self, medium: &str) {
        self.bar.say(medium.to_owned());
    }

    fn verifying(&self) {
        self.bar
            .say(t(self.ctx.lang, "verifying", "検証中").to_owned());
    }

    fn note(&self, note: Note<'_>) {
        let l = self.ctx.lang;
        match note {
            Note::CartridgeFull { medium } => self.bar.note(&format!(
                "{medium}: {}",
                t(
                    l,
                    "cartridge full, continuing on the next one",
                    "カートリッジが一杯です。次のカートリッジに続けます"
                )
            )),
            Note::Refused { medium, why } => self.bar.note(&format!(
                "{}: {}",
                t(l, "warning", "警告"),
                refused_line(l, medium, why)
            )),
            Note::NoSetCatalog { medium, set } => self.bar.note(&format!(
                "{}: {medium} {} {set}",
                t(l, "warning", "警告"),
                t(
                    l,
                    "does not hold the catalog of media set",
                    "にメディアセットのカタログがありません:"
                ),
            )),
            _ => {}
        }
    }

    fn waiting(&self, why: &JobError, wait: std::time::Duration) {
        let l = self.ctx.lang;
        self.bar.ask(&format!(
            "{} {} ({} {})",
            job_failure(self.ctx, why).message,
            t(l, "— waiting", "— 待機中"),
            t(l, "up to", "最長"),
            hokan_offline::span::format(
                time::Duration::try_from(wait).unwrap_or(time::Duration::MAX)
            )
        ));
    }
}

/// A cartridge refused on the way: `<barcode> <why>`.
fn refused_line(l: Lang, medium: &str, why: &TapeRefusal) -> String {
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

/// What the after-job step did with one cartridge, in a sentence.
fn moved_text(ctx: &SiteCtx<'_>, m: &Moved) -> String {
    let l = ctx.lang;
    match m {
        Moved::Ejected { medium } => format!(
            "{medium}: {}",
            t(
                l,
                "ejected; take it out of the drive and store it (①-1-1)",
                "イジェクトしました。ドライブから取り出して保管してください（①-1-1）"
            )
        ),
        Moved::Unloaded { medium, slot } => format!(
            "{medium}: {} {slot} (①-2-1)",
            t(l, "unloaded to slot", "スロットへアンロード:")
        ),
        Moved::Exported { medium } => format!(
            "{medium}: {}",
            t(l, "exported to the mail slot: take it out of the library (①-2-2 once removed)", "メールスロットへ搬出しました。ライブラリから取り出してください（取り出すと ①-2-2）")
        ),
        Moved::NotExported { medium, error } => {
            format!("{medium}: {}", job_failure(ctx, error).message)
        }
        other => format!("{other:?}"),
    }
}

/// A tape job's error as the person reads it, with its exit code.
pub fn job_failure(ctx: &SiteCtx<'_>, e: &JobError) -> Failure {
    let l = ctx.lang;
    match e {
        JobError::Tape(e) => tape_failure(l, e),
        JobError::TapeFormat(e) => format_failure(l, e),
        JobError::CatalogRolledBack(rb) => super::anchor::refusal(ctx, std::slice::from_ref(rb)),
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
        e => crate::job_error::failure(l, e),
    }
}

/// Load `barcode` into the pool's drive; a cartridge already there (from an
/// interrupted job, or put there by a person) goes back to a slot first.
pub fn load(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    barcode: &str,
    clock: &Clock,
) -> Result<(), Failure> {
    hokan_jobs::tape::library::load(dev, cat, clock, ACTOR, barcode)
        .map_err(|e| job_failure(ctx, &e))
}

/// Unload the drive's cartridge to its home slot (or any free one); see
/// [`hokan_jobs::tape::library::put_away`]. Returns the slot.
pub fn put_away(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    barcode: &str,
    clock: &Clock,
) -> Result<u32, Failure> {
    hokan_jobs::tape::library::put_away(dev, cat, clock, ACTOR, barcode)
        .map_err(|e| job_failure(ctx, &e))
}

/// Move a cartridge from its storage slot to a free mail slot.
pub fn export(
    ctx: &SiteCtx<'_>,
    dev: &mut Devices,
    cat: &mut Catalog,
    barcode: &str,
    clock: &Clock,
) -> Result<(), Failure> {
    hokan_jobs::tape::library::export(dev, cat, clock, ACTOR, barcode)
        .map_err(|e| job_failure(ctx, &e))
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

/// The medium kind of a pool's cartridges.
pub fn kind_of(pool: &Pool) -> MediumKind {
    hokan_jobs::tape::kind_of(pool.conf.mode)
}

/// The pool as the jobs library takes it.
fn pool_ref(pool: &Pool) -> hokan_jobs::tape::PoolRef<'_> {
    hokan_jobs::tape::PoolRef {
        name: pool.name.as_str(),
        allocation: pool.conf.allocation,
        retention: pool.retention,
        mode: pool.conf.mode,
        after_job: pool.conf.after_job,
    }
}
