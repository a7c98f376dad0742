//! Verdicts: whether one copy is offline now, under which 項番, and if not, why.
//!
//! A verdict answers one question — *could something on the network reach and
//! destroy this copy tonight?* — with three answers: offline under a 項番,
//! online (with the definitions' "does NOT count" reason), or unknown (with
//! what is missing to decide). Whether the copy can actually restore its
//! generation (complete? medium damaged?) is a separate answer,
//! [`CopyVerdict::excluded`], so a damaged tape on the shelf is shown as what
//! it is: offline, and useless.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::facts::{Claim, Location, MediumKind, ObservedBy};
use crate::id::{AttestationId, DeviceId, MediumId, SnapshotId, SourceName};
use crate::koban::Koban;
use crate::text::{when, Text};

/// The verdict on one copy at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "kebab-case")]
pub enum Verdict {
    /// Offline under `koban`.
    Offline {
        /// The 項番 it counts under.
        koban: Koban,
        /// Full, or weaker with the reasons.
        strength: Strength,
        /// When this stops holding unless something is renewed (a retention
        /// ending, an attestation expiring, a person's record going stale).
        /// `None`: it holds until something changes.
        until: Option<Deadline>,
    },
    /// Reachable (or not protected) now.
    Online(OnlineReason),
    /// Cannot be decided; the conservative answer is "not offline".
    Unknown(Missing),
}

impl Verdict {
    /// Whether it counts as offline (full or weaker).
    pub fn is_offline(&self) -> bool {
        matches!(self, Verdict::Offline { .. })
    }

    /// The 項番, when offline.
    pub fn koban(&self) -> Option<Koban> {
        match self {
            Verdict::Offline { koban, .. } => Some(*koban),
            _ => None,
        }
    }

    /// One line in both languages, times in `offset`.
    pub fn describe(&self, offset: UtcOffset) -> Text {
        match self {
            Verdict::Offline {
                koban,
                strength: Strength::Full,
                ..
            } => Text::new(
                format!("offline under {koban}"),
                format!("{koban} によりオフライン"),
            ),
            Verdict::Offline {
                koban,
                strength: Strength::Weaker(reasons),
                ..
            } => {
                let (en, ja): (Vec<String>, Vec<String>) = reasons
                    .iter()
                    .map(|r| {
                        let t = r.describe();
                        (t.en, t.ja)
                    })
                    .unzip();
                Text::new(
                    format!("offline under {koban}, but weaker: {}", en.join("; ")),
                    format!("{koban} によりオフライン（ただし弱い：{}）", ja.join("、")),
                )
            }
            Verdict::Online(reason) => {
                let r = reason.describe(offset);
                Text::new(format!("online: {}", r.en), format!("オンライン：{}", r.ja))
            }
            Verdict::Unknown(missing) => {
                let m = missing.describe(offset);
                Text::new(format!("unknown: {}", m.en), format!("不明：{}", m.ja))
            }
        }
    }
}

/// How strong an offline verdict is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "strength", content = "reasons", rename_all = "kebab-case")]
pub enum Strength {
    /// Nothing known weakens it.
    Full,
    /// Offline, but someone with enough privilege could still destroy it, or
    /// the protection was never tested. Never empty.
    Weaker(Vec<WeakerReason>),
}

/// Why an offline verdict is weaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeakerReason {
    /// Governance-mode retention: a user with bypass permission can delete.
    GovernanceMode,
    /// An immutable flag that the device's administrator can clear, on a
    /// device nobody attested as immutable.
    FlagClearable,
    /// Nobody ever tested that the store refuses to delete locked data.
    LockNeverProbed,
    /// The store let a test lock's compliance retention be shortened.
    RetentionShortenable,
}

impl WeakerReason {
    /// One phrase in both languages.
    pub fn describe(self) -> Text {
        match self {
            WeakerReason::GovernanceMode => Text::new(
                "governance-mode retention can be bypassed by a privileged user",
                "ガバナンスモードの保持は特権ユーザーが解除できる",
            ),
            WeakerReason::FlagClearable => Text::new(
                "the device's administrator can clear the immutable flag",
                "装置の管理者が不変フラグを解除できる",
            ),
            WeakerReason::LockNeverProbed => Text::new(
                "nobody has tested that the store refuses deletion",
                "削除が拒否されることを一度も確認していない",
            ),
            WeakerReason::RetentionShortenable => Text::new(
                "the store let a compliance retention be shortened in a test",
                "テストでコンプライアンスモードの保持期間を短縮できた",
            ),
        }
    }
}

/// When an offline verdict stops holding by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The instant.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What runs out.
    pub cause: DeadlineCause,
}

/// What runs out at a [`Deadline`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DeadlineCause {
    /// The earliest retention among the copy's objects on this medium.
    Retention {
        /// The medium.
        medium: MediumId,
    },
    /// An attestation the verdict relies on.
    Attestation {
        /// Which.
        id: AttestationId,
    },
    /// A person's record of where the medium is goes stale.
    LocationRecord {
        /// The medium.
        medium: MediumId,
    },
    /// A vault's newest signed receipt stops being fresh (its `fresh_for`
    /// passes without a newer one).
    Receipt {
        /// The vault.
        medium: MediumId,
    },
}

impl DeadlineCause {
    /// What runs out, in both languages.
    pub fn describe(&self) -> Text {
        match self {
            DeadlineCause::Retention { medium } => Text::new(
                format!("the retention on {medium}"),
                format!("{medium} の保持期間"),
            ),
            DeadlineCause::Attestation { id } => {
                Text::new(format!("attestation {id}"), format!("証明 {id}"))
            }
            DeadlineCause::LocationRecord { medium } => Text::new(
                format!("the location record of {medium}"),
                format!("{medium} の所在記録"),
            ),
            DeadlineCause::Receipt { medium } => Text::new(
                format!("the newest signed receipt of vault {medium}"),
                format!("保管サーバ {medium} の最新の署名付き受領書"),
            ),
        }
    }
}

/// Why a copy is online: the definitions' "does NOT count" column, or the
/// missing protection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum OnlineReason {
    /// The cartridge is in a drive (①-1-1, ①-2-1, ①-2-2, ②-1-1 negatives).
    InDrive {
        /// Which drive.
        drive: DeviceId,
    },
    /// The RDX cartridge is in the autoloader's active slot (②-2-1 negative).
    ActiveSlot {
        /// Which autoloader.
        autoloader: DeviceId,
    },
    /// The disk is plugged in or mounted (②-1-1 negative, by the note).
    Connected {
        /// To which host, if known.
        host: Option<String>,
    },
    /// In an inactive slot, but no valid attestation says the backup server's
    /// network is segmented from the EMR network (②-2-1 negative).
    NotSegmented {
        /// The autoloader.
        autoloader: DeviceId,
        /// The last attestation that covered it, if one lapsed.
        lapsed: Option<Lapsed>,
    },
    /// The store reports no lock: deletable over the network (③-1, ④-1
    /// negatives).
    Unlocked,
    /// The retention ended; the data is deletable again.
    RetentionExpired {
        /// When it ended.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The latest probe deleted or overwrote locked data: the medium is
    /// reachable and writable (③-1, ④-1, ⑤-1 negatives). This overrides any
    /// attestation, because it is evidence against it.
    ProbeFailed {
        /// When the probe ran.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The primary repository disk is always online.
    PrimaryDisk,
    /// The vault's signed receipt says its live firewall ruleset is not the
    /// one hokan wrote: it may be reachable from outside (⑤-1 negative).
    VaultFirewallDiffers {
        /// What differs, as the vault reported it.
        detail: Vec<String>,
    },
    /// The vault's signed receipt says objects of this generation lack the
    /// immutable flag: they can be changed on the vault (④-1 negative).
    VaultNotImmutable,
    /// The copy spans a media set, and another cartridge of that set is
    /// online: ransomware reaching that one destroys the copy.
    SetMemberOnline {
        /// The other cartridge.
        medium: MediumId,
        /// Why it is online.
        because: Box<OnlineReason>,
    },
}

impl OnlineReason {
    /// One phrase in both languages.
    pub fn describe(&self, offset: UtcOffset) -> Text {
        match self {
            OnlineReason::InDrive { drive } => Text::new(
                format!("in drive {drive}"),
                format!("ドライブ {drive} に装填中"),
            ),
            OnlineReason::ActiveSlot { autoloader } => Text::new(
                format!("in the active slot of autoloader {autoloader}"),
                format!("オートローダ {autoloader} のアクティブスロットにある"),
            ),
            OnlineReason::Connected { host } => match host {
                Some(h) => Text::new(format!("connected to {h}"), format!("{h} に接続中")),
                None => Text::new("connected", "接続中"),
            },
            OnlineReason::NotSegmented { autoloader, lapsed } => {
                let claim = Claim::NetworkSegmented {
                    autoloader: Some(autoloader.clone()),
                };
                let (en_l, ja_l) = lapsed_phrase(lapsed, offset);
                Text::new(
                    format!(
                        "in an inactive slot, but ②-2-1 also needs a valid attestation of {}{en_l}",
                        claim.name_en()
                    ),
                    format!(
                        "非アクティブスロットにあるが、②-2-1 には{}の有効な証明が必要{ja_l}",
                        claim.name_ja()
                    ),
                )
            }
            OnlineReason::Unlocked => Text::new(
                "not locked; it can be deleted over the network",
                "ロックされておらず、ネットワーク経由で削除できる",
            ),
            OnlineReason::RetentionExpired { at } => Text::new(
                format!("retention ended {}", when(*at, offset)),
                format!("保持期間が {} に終了", when(*at, offset)),
            ),
            OnlineReason::ProbeFailed { at } => Text::new(
                format!(
                    "the lock test of {} deleted locked data; the store is reachable and writable",
                    when(*at, offset)
                ),
                format!(
                    "{} のロック確認でロック中のデータが削除できた（到達・書込可能）",
                    when(*at, offset)
                ),
            ),
            OnlineReason::VaultFirewallDiffers { detail } => Text::new(
                format!(
                    "the vault's firewall check differs from the ruleset hokan wrote{}",
                    detail_phrase(detail)
                ),
                format!(
                    "保管サーバのファイアウォール確認が hokan の書いたルールと異なる{}",
                    detail_phrase(detail)
                ),
            ),
            OnlineReason::VaultNotImmutable => Text::new(
                "objects of this generation on the vault are without the immutable flag",
                "保管サーバ上のこの世代のオブジェクトに不変フラグがない",
            ),
            OnlineReason::PrimaryDisk => Text::new(
                "the primary repository disk is always online",
                "一次リポジトリのディスクは常にオンライン",
            ),
            OnlineReason::SetMemberOnline { medium, because } => {
                let r = because.describe(offset);
                Text::new(
                    format!(
                        "{medium}, which holds part of this copy, is online: {}",
                        r.en
                    ),
                    format!("このコピーの一部を持つ {medium} がオンライン: {}", r.ja),
                )
            }
        }
    }
}

/// An attestation that used to hold and no longer does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lapsed {
    /// Which.
    pub id: AttestationId,
    /// When it stopped holding (expiry or withdrawal).
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
}

/// `: a; b` (at most three items), or nothing.
fn detail_phrase(detail: &[String]) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        let mut d: Vec<&str> = detail.iter().take(3).map(String::as_str).collect();
        if detail.len() > 3 {
            d.push("…");
        }
        format!(": {}", d.join("; "))
    }
}

fn lapsed_phrase(lapsed: &Option<Lapsed>, offset: UtcOffset) -> (String, String) {
    match lapsed {
        Some(l) => (
            format!(" (attestation {} ended {})", l.id, when(l.ended_at, offset)),
            format!("（証明 {} は {} に失効）", l.id, when(l.ended_at, offset)),
        ),
        None => (String::new(), String::new()),
    }
}

/// What is missing to decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "missing", rename_all = "kebab-case")]
pub enum Missing {
    /// The copy names a medium the catalog does not list.
    MediumNotRecorded,
    /// Nobody ever recorded where the medium is.
    NoLocationObserved,
    /// The latest record says the location is unknown.
    LocationUnknown {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// By whom.
        by: ObservedBy,
    },
    /// Only a person's record says where it is, and it is older than the
    /// policy's `max_person_location_age`.
    LocationStale {
        /// When it was recorded.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// By whom.
        by: ObservedBy,
        /// What it said.
        location: Location,
    },
    /// Devices over words: a person recorded the medium out of every device
    /// (shelf, offsite, exported, ejected, a slot), but the newest device
    /// report, made before, placed it inside a device (a drive, an active
    /// slot, connected), and no device has confirmed the person's record
    /// since. Unknown until a device observes it again.
    PersonContradictsDevice {
        /// When the person recorded it.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The person.
        by: ObservedBy,
        /// Where the person said it is.
        location: Location,
        /// The device that last saw it.
        device: DeviceId,
        /// When the device last saw it.
        #[serde(with = "time::serde::rfc3339")]
        device_at: OffsetDateTime,
        /// Where the device saw it.
        device_location: Location,
    },
    /// The recorded location cannot hold a medium of this kind (an LTO
    /// cartridge of a single-drive set-up in a library slot): one of the two
    /// records is wrong.
    LocationDoesNotFit {
        /// The location recorded.
        location: Location,
        /// The medium's kind.
        kind: MediumKind,
    },
    /// No protection was ever recorded for this copy.
    NoProtectionRecorded,
    /// A fact only a person can vouch for is not attested (or lapsed).
    Attestation {
        /// What needs attesting.
        claim: Claim,
        /// The last such attestation, if one lapsed.
        lapsed: Option<Lapsed>,
    },
    /// The vault's newest signed receipt is older than its `fresh_for`:
    /// what it said may no longer hold (the vault stopped pulling, or cannot
    /// reach the primary's inbox).
    ReceiptStale {
        /// The vault.
        vault: MediumId,
        /// When the newest receipt was issued.
        #[serde(with = "time::serde::rfc3339")]
        issued: OffsetDateTime,
        /// How old it may be.
        #[serde(with = "crate::span")]
        fresh_for: Duration,
    },
    /// The vault's newest signed receipt does not list this generation.
    NotInReceipt {
        /// When that receipt was issued.
        #[serde(with = "time::serde::rfc3339")]
        issued: OffsetDateTime,
    },
    /// The vault could not check its firewall (no ruleset configured, or
    /// `nft` could not be run): ⑤-1 cannot be decided.
    VaultFirewallUnchecked {
        /// Why, as the vault reported it.
        detail: Vec<String>,
    },
    /// The vault keeps this generation for less than the retention the
    /// primary expects of it (`[[vault]] retention`): ④-1 is not met.
    VaultRetentionShort {
        /// Until when the vault keeps it.
        #[serde(with = "time::serde::rfc3339")]
        retain_until: OffsetDateTime,
        /// Until when it should (stored + retention).
        #[serde(with = "time::serde::rfc3339")]
        wanted: OffsetDateTime,
    },
    /// The copy spans a media set, and the state of another cartridge of the
    /// set cannot be decided.
    SetMember {
        /// The other cartridge.
        medium: MediumId,
        /// What is missing about it.
        lacks: Box<Missing>,
    },
}

impl Missing {
    /// One phrase in both languages.
    pub fn describe(&self, offset: UtcOffset) -> Text {
        match self {
            Missing::MediumNotRecorded => Text::new(
                "the medium is not in the catalog",
                "媒体がカタログに登録されていない",
            ),
            Missing::SetMember { medium, lacks } => {
                let m = lacks.describe(offset);
                Text::new(
                    format!("{medium}, which holds part of this copy: {}", m.en),
                    format!("このコピーの一部を持つ {medium}: {}", m.ja),
                )
            }
            Missing::ReceiptStale {
                vault,
                issued,
                fresh_for,
            } => {
                let f = crate::text::span(*fresh_for);
                Text::new(
                    format!(
                        "the newest signed receipt of vault {vault} was issued {}, longer ago than {} (fresh_for); check `hokan vault status` on the vault and its network to the primary",
                        when(*issued, offset),
                        f.en
                    ),
                    format!(
                        "保管サーバ {vault} の最新の署名付き受領書は {} 発行で、{}（fresh_for）より古い。保管サーバで `hokan vault status` を実行し、一次サーバへのネットワークを確認すること",
                        when(*issued, offset),
                        f.ja
                    ),
                )
            }
            Missing::NotInReceipt { issued } => Text::new(
                format!(
                    "the vault's newest signed receipt ({}) does not list this generation",
                    when(*issued, offset)
                ),
                format!(
                    "保管サーバの最新の署名付き受領書（{}）にこの世代がない",
                    when(*issued, offset)
                ),
            ),
            Missing::VaultFirewallUnchecked { detail } => Text::new(
                format!(
                    "the vault could not check its firewall{}",
                    detail_phrase(detail)
                ),
                format!(
                    "保管サーバがファイアウォールを確認できなかった{}",
                    detail_phrase(detail)
                ),
            ),
            Missing::VaultRetentionShort {
                retain_until,
                wanted,
            } => Text::new(
                format!(
                    "the vault keeps it until {}, shorter than the retention expected of the vault (until {})",
                    when(*retain_until, offset),
                    when(*wanted, offset)
                ),
                format!(
                    "保管サーバの保持は {} までで、保管サーバに求める保持期間（{} まで）より短い",
                    when(*retain_until, offset),
                    when(*wanted, offset)
                ),
            ),
            Missing::NoLocationObserved => Text::new(
                "nobody has recorded where the medium is",
                "媒体の所在が一度も記録されていない",
            ),
            Missing::LocationUnknown { at, .. } => Text::new(
                format!("recorded as unknown on {}", when(*at, offset)),
                format!("{} に所在不明と記録された", when(*at, offset)),
            ),
            Missing::LocationStale {
                at,
                by: ObservedBy::Device { device },
                location: Location::Exported { .. },
            } => Text::new(
                format!(
                    "it left {device} on {} and where it went was never recorded",
                    when(*at, offset)
                ),
                format!(
                    "{} に {device} から搬出された後の行き先が記録されていない",
                    when(*at, offset)
                ),
            ),
            Missing::LocationStale { at, by, .. } => {
                let who = match by {
                    ObservedBy::Person { person } => person.to_string(),
                    ObservedBy::Device { device } => device.to_string(),
                };
                Text::new(
                    format!(
                        "the location was last confirmed by {who} on {}, too long ago",
                        when(*at, offset)
                    ),
                    format!(
                        "所在の最後の確認が {} の {who} によるもので、古すぎる",
                        when(*at, offset)
                    ),
                )
            }
            Missing::PersonContradictsDevice {
                at,
                by,
                location,
                device,
                device_at,
                device_location,
            } => {
                let who = match by {
                    ObservedBy::Person { person } => person.to_string(),
                    ObservedBy::Device { device } => device.to_string(),
                };
                let (l, d) = (location.describe(), device_location.describe());
                Text::new(
                    format!(
                        "{who} recorded it {} on {}, but device {device} last saw it {} on {}; it needs a device observation",
                        l.en,
                        when(*at, offset),
                        d.en,
                        when(*device_at, offset)
                    ),
                    format!(
                        "{} に {who} が「{}」と記録したが、装置 {device} は {} に「{}」で確認したのが最後。装置による確認が必要",
                        when(*at, offset),
                        l.ja,
                        when(*device_at, offset),
                        d.ja
                    ),
                )
            }
            Missing::LocationDoesNotFit { kind, .. } => Text::new(
                format!(
                    "the recorded location cannot hold a {}; the kind or the location record is wrong",
                    kind.name_en()
                ),
                format!(
                    "記録された所在に{}は置けない。種別か所在の記録が誤っている",
                    kind.name_ja()
                ),
            ),
            Missing::NoProtectionRecorded => Text::new(
                "no retention or lock has been recorded for this copy",
                "このコピーの保持期間・ロックが記録されていない",
            ),
            Missing::Attestation { claim, lapsed } => {
                let (en_l, ja_l) = lapsed_phrase(lapsed, offset);
                Text::new(
                    format!("no valid attestation of {}{en_l}", claim.name_en()),
                    format!("{}の有効な証明がない{ja_l}", claim.name_ja()),
                )
            }
        }
    }
}

/// Why a copy cannot count even if its medium is offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exclusion {
    /// The copy is not complete: it cannot restore the generation on its own.
    Incomplete,
    /// The medium is damaged.
    MediumDamaged,
    /// The medium is retired.
    MediumRetired,
}

/// The verdict on one copy, with what was considered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyVerdict {
    /// The generation.
    pub snapshot: SnapshotId,
    /// Its source.
    pub source: SourceName,
    /// When the generation was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    /// The medium.
    pub medium: MediumId,
    /// Since when the medium holds it.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The medium's kind, if the medium is known.
    pub kind: Option<MediumKind>,
    /// Every 項番 that could apply to this medium's kind.
    pub considered: Vec<Koban>,
    /// Offline, online or unknown.
    pub verdict: Verdict,
    /// Why it cannot count even when offline, if so.
    pub excluded: Option<Exclusion>,
    /// When it was last verified, if ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
    /// For a medium that can meet two 項番 (a vault: ⑤-1 and ④-1), why the
    /// one the verdict does not name is not met. `None` when both are met,
    /// or for media with one 項番.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl CopyVerdict {
    /// Whether this copy makes its generation an offline generation.
    pub fn counts(&self) -> bool {
        self.verdict.is_offline() && self.excluded.is_none()
    }
}
