//! Devices over words: every configured device asked where its media are,
//! right before the catalog is judged, as `status` and `media move` show
//! it.
//!
//! The asking and the recording are [`hokan_jobs::site::observe`]: every
//! tape library, single tape drive and RDX device, each on its own thread
//! within `--observe-timeout` (env `HOKAN_OBSERVE_TIMEOUT`, default 30 s),
//! pools whose job lock is held skipped. Here its notes get their words: a
//! [`DeviceNote`] says, in ja and en, what was observed or why not and how
//! old the newest device observation of the media is, and is what `--json`
//! prints.

use std::time::Duration as StdDuration;

use hokan_catalog::Catalog;
use hokan_jobs::site::observe::{self, Step};
use hokan_jobs::JobError;
use hokan_offline::{PoolName, Text};
use serde::Serialize;
use time::OffsetDateTime;

use crate::ctx::SiteCtx;
use crate::i18n::{t, Lang};
use crate::tape::devices::device_failure;

pub use hokan_jobs::site::observe::{DeviceKind, Seen};

/// What came of asking one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Outcome {
    /// The device answered; its report was recorded.
    Observed {
        /// Every catalog medium the device holds, and where.
        seen: Vec<Seen>,
        /// The changes recorded in the catalog.
        moved: Vec<Seen>,
        /// Cartridges the device holds that the catalog does not know.
        unknown: Vec<String>,
        /// Places holding a cartridge without a barcode label.
        unlabelled: Vec<String>,
    },
    /// A job holds the pool's lock: it owns the drive, so the device was
    /// not asked.
    Busy,
    /// The device could not be opened or read.
    Failed {
        /// Why, in the user's language.
        reason: String,
    },
    /// The device did not answer within the time limit.
    TimedOut {
        /// The limit, in seconds.
        after_seconds: u64,
    },
}

/// What `observe_devices` learned about one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceNote {
    /// The pool the device serves.
    pub pool: PoolName,
    /// What kind of device.
    pub kind: DeviceKind,
    /// The device's name as locations name it (`vtl-weekday`,
    /// `/dev/sg3`), or, when it could not be opened, what the configuration
    /// names (a device path, or the simulation's folder).
    pub device: String,
    /// Whether it is a SIMULATED device (`virtual_library`/`virtual_device`).
    pub simulated: bool,
    /// Observed, or why not.
    pub outcome: Outcome,
    /// When a device last observed any medium of the pool (none: never).
    /// Set when this observation did not happen, so that the reader knows
    /// how old the locations the verdicts rest on are.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_observed: Option<OffsetDateTime>,
    /// How long before the evaluation instant that was, in seconds.
    pub last_observed_age_seconds: Option<i64>,
}

impl DeviceNote {
    /// Whether the device answered.
    pub fn observed(&self) -> bool {
        matches!(self.outcome, Outcome::Observed { .. })
    }

    /// What the device is, in both languages (`tape library vtl (pool p)`).
    pub fn name(&self) -> Text {
        device_name(self.kind, &self.device, self.simulated, &self.pool)
    }

    /// One line in both languages: what was observed, or why not and how
    /// old the newest device observation is. Times in `ctx`'s zone.
    pub fn describe(&self, ctx: &SiteCtx<'_>) -> Text {
        let name = self.name();
        let age = || match (self.last_observed, self.last_observed_age_seconds) {
            (Some(at), Some(s)) => {
                let span = hokan_offline::text::span(time::Duration::seconds(s));
                let when = ctx.when(at);
                Text::new(
                    format!(
                        "the newest device observation of its media is {} old ({when}); its media are judged as last recorded",
                        span.en
                    ),
                    format!(
                        "この装置の媒体を装置が最後に確認したのは {}前（{when}）です。媒体は最後の記録のまま判定します",
                        span.ja
                    ),
                )
            }
            _ => Text::new(
                "no device has ever observed its media; they are judged as last recorded",
                "この装置の媒体を装置が確認した記録はありません。媒体は最後の記録のまま判定します",
            ),
        };
        match &self.outcome {
            Outcome::Observed {
                moved,
                unknown,
                unlabelled,
                ..
            } => {
                let (mut en, mut ja) = if moved.is_empty() {
                    (
                        format!("{}: observed, no change", name.en),
                        format!("{}: 確認しました（変化なし）", name.ja),
                    )
                } else {
                    let (me, mj): (Vec<String>, Vec<String>) = moved
                        .iter()
                        .map(|s| {
                            let d = s.location.describe();
                            (
                                format!("{} {}", s.medium, d.en),
                                format!("{} は{}", s.medium, d.ja),
                            )
                        })
                        .unzip();
                    (
                        format!("{}: observed; recorded {}", name.en, me.join(", ")),
                        format!("{}: 確認し、記録しました: {}", name.ja, mj.join("、")),
                    )
                };
                if !unknown.is_empty() {
                    en.push_str(&format!("; not in the catalog: {}", unknown.join(", ")));
                    ja.push_str(&format!("。カタログにない媒体: {}", unknown.join("、")));
                }
                if !unlabelled.is_empty() {
                    en.push_str(&format!(
                        "; without a barcode: {} (media it does not name are left as recorded)",
                        unlabelled.join(", ")
                    ));
                    ja.push_str(&format!(
                        "。バーコードのないカートリッジ: {}（名前の分からない媒体は記録のままにします）",
                        unlabelled.join("、")
                    ));
                }
                Text::new(en, ja)
            }
            Outcome::Busy => {
                let a = age();
                Text::new(
                    format!(
                        "{}: not observed, a job is running on the pool and owns the drive; {}",
                        name.en, a.en
                    ),
                    format!(
                        "{}: プールでジョブが実行中でドライブを使用しているため確認しませんでした。{}",
                        name.ja, a.ja
                    ),
                )
            }
            Outcome::Failed { reason } => {
                let a = age();
                Text::new(
                    format!("{}: could not be observed ({reason}); {}", name.en, a.en),
                    format!("{}: 確認できませんでした（{reason}）。{}", name.ja, a.ja),
                )
            }
            Outcome::TimedOut { after_seconds } => {
                let a = age();
                Text::new(
                    format!(
                        "{}: did not answer within {after_seconds} s (--observe-timeout); {}",
                        name.en, a.en
                    ),
                    format!(
                        "{}: {after_seconds} 秒以内に応答がありませんでした（--observe-timeout）。{}",
                        name.ja, a.ja
                    ),
                )
            }
        }
    }
}

/// What a device is, in both languages (`tape library vtl of pool p`).
pub fn device_name(kind: DeviceKind, device: &str, simulated: bool, pool: &PoolName) -> Text {
    let (en, ja) = match kind {
        DeviceKind::TapeLibrary => ("tape library", "テープライブラリ"),
        DeviceKind::TapeDrive => ("tape drive", "テープドライブ"),
        DeviceKind::Disk => ("disk device", "ディスク装置"),
    };
    let (sen, sja) = if simulated {
        (" (SIMULATED)", "（模擬）")
    } else {
        ("", "")
    };
    Text::new(
        format!("{en} {device}{sen} of pool {pool}"),
        format!("プール {pool} の{ja} {device}{sja}"),
    )
}

/// Ask every configured tape and disk pool's device where its media are,
/// and record what they report (only changes) in `cat`
/// ([`hokan_jobs::site::observe_devices`]). Never fails: a device that
/// cannot be observed gets a note saying why, and its media stay as
/// recorded. Without a site configuration there is nothing to ask.
pub fn observe_devices(ctx: &SiteCtx<'_>, cat: &mut Catalog) -> Vec<DeviceNote> {
    let Some(site) = &ctx.conf.loaded else {
        return Vec::new();
    };
    observe::observe_devices(site.targets(), cat, how(ctx))
        .into_iter()
        .map(|n| note(ctx, n))
        .collect()
}

/// How `ctx` observes: at its instant, within `--observe-timeout`.
pub(super) fn how(ctx: &SiteCtx<'_>) -> observe::Observe {
    observe::Observe {
        now: ctx.now,
        timeout: timeout(ctx),
    }
}

/// The library's note, with the reason a device was not observed in the
/// person's words.
pub(super) fn note(ctx: &SiteCtx<'_>, n: observe::DeviceNote) -> DeviceNote {
    let outcome = match n.outcome {
        observe::Outcome::Observed {
            seen,
            moved,
            unknown,
            unlabelled,
        } => Outcome::Observed {
            seen,
            moved,
            unknown,
            unlabelled,
        },
        observe::Outcome::Busy => Outcome::Busy,
        observe::Outcome::Failed { step, error } => Outcome::Failed {
            reason: reason(ctx, n.kind, step, &error),
        },
        observe::Outcome::TimedOut { after } => Outcome::TimedOut {
            after_seconds: after.as_secs().max(1),
        },
        other => Outcome::Failed {
            reason: format!("{other:?}"),
        },
    };
    DeviceNote {
        pool: n.pool,
        kind: n.kind,
        device: n.device,
        simulated: n.simulated,
        outcome,
        last_observed: n.last_observed,
        last_observed_age_seconds: n.last_observed.map(|at| (ctx.now - at).whole_seconds()),
    }
}

/// Why a device could not be observed, in the person's words: opening a
/// device or reading a changer as its own commands say it, the drive's or
/// the cartridge's own error when reading them failed.
fn reason(ctx: &SiteCtx<'_>, kind: DeviceKind, step: Step, e: &JobError) -> String {
    let l = ctx.lang;
    let tape = kind != DeviceKind::Disk;
    match (step, e) {
        (Step::Drive, JobError::Tape(e)) => e.to_string(),
        (Step::Label, JobError::TapeFormat(e)) => e.to_string(),
        (Step::DiskStatus, JobError::Disk(e)) => e.to_string(),
        (Step::Catalog, JobError::Catalog(e)) => ctx.catalog_failure(e).message,
        (Step::Reader, JobError::DeviceReaderSpawn(e)) => e.to_string(),
        (Step::Reader, JobError::DeviceReaderStopped) => {
            "the device reader stopped without an answer".into()
        }
        (Step::Open | Step::Changer, e) if tape => device_failure(l, e).message,
        (Step::Open, e) => crate::disk::disk_job_failure(l, e).message,
        (_, e) => crate::job_error::failure(l, e).message,
    }
}

/// The time limit for reading one device: `--observe-timeout`.
pub fn timeout(ctx: &SiteCtx<'_>) -> StdDuration {
    ctx.g.observe_timeout
}

/// Parse `--observe-timeout`: a length such as `30s`, `2m`.
pub fn parse_timeout(s: &str) -> Result<StdDuration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: a length of time such as 30s or 2m"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: a length of time such as 30s or 2m")),
    };
    if secs == 0 {
        return Err(format!("{s:?}: the time limit must be at least 1s"));
    }
    Ok(StdDuration::from_secs(secs))
}

/// The notes as printed by `status`: one line per device, in `lang`.
pub fn render(ctx: &SiteCtx<'_>, notes: &[DeviceNote]) -> String {
    let l: Lang = ctx.lang;
    if notes.is_empty() {
        return String::new();
    }
    let mut o = format!(
        "{}\n",
        t(
            l,
            "Devices (asked before judging):",
            "装置（判定の前に確認）:"
        )
    );
    for n in notes {
        let mark = match n.outcome {
            Outcome::Observed { .. } => "✓",
            Outcome::Busy => "–",
            _ => "✗",
        };
        o.push_str(&format!("  {mark} {}\n", ctx.pick(&n.describe(ctx))));
    }
    o.push('\n');
    o
}
