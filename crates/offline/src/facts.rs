//! The facts the evaluator judges.
//!
//! Facts are what the catalog knows, as plain data: generations, media, which
//! medium completely holds which generation, where each medium was seen and by
//! whom, what protects data on object stores and appliances, and what people
//! have attested. Tape, RDX, removable disks, S3 and the vault all reduce to
//! these shapes, so the evaluator never learns about any of them.
//!
//! Time: every fact carries the instant it was observed or starts to hold.
//! The evaluator is given `now` and ignores anything stamped after it, so an
//! evaluation at a past instant sees what was known then (reports can be
//! re-created) and a clock that runs late cannot make a future fact count.
//! Two exceptions, documented on the fields: a medium's [`Condition`] is its
//! current condition (conditions move towards damaged/retired, so using the
//! current one for a past instant only ever counts less), and [`Copy::complete`]
//! is the copy's current state.
//!
//! Where a medium is ([`Location`]) and what condition it is in
//! ([`Condition`]) are two enums on purpose: a damaged tape on the shelf is
//! offline and still useless; a full tape in a drive is online and fine.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::{AttestationId, DeviceId, MediumId, Person, PoolName, SnapshotId, SourceName};
use crate::koban::Koban;
use crate::text::Text;

/// Everything the evaluator is told. The catalog fills this; tests build it
/// by hand. Order within the vectors does not matter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Facts {
    /// Configured sources. A source listed here with no generation at all is
    /// reported as non-compliant rather than silently missing.
    pub sources: Vec<SourceName>,
    /// Generations (snapshots) of every source.
    pub generations: Vec<Generation>,
    /// Every medium, including the primary repository disk.
    pub media: Vec<Medium>,
    /// Which medium holds which generation.
    pub copies: Vec<Copy>,
    /// Where media were seen, over time.
    pub observations: Vec<Observation>,
    /// What protects copies on object stores, appliances and vaults, over time.
    pub protections: Vec<Protection>,
    /// Tests of whether a store really refuses to delete protected data.
    pub probes: Vec<LockProbe>,
    /// Facts people vouch for because software cannot observe them.
    pub attestations: Vec<Attestation>,
    /// What pull-only vaults said about themselves in receipts whose
    /// Ed25519 signature verified with the vault's registered key (nothing
    /// else reaches the catalog). Per vault, the newest counts.
    pub receipts: Vec<VaultReceipt>,
    /// Restore drills (復旧訓練): which medium, when, passed or not.
    #[serde(default)]
    pub drills: Vec<Drill>,
}

/// A restore drill of a generation from one medium (`hokan drill`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drill {
    /// The medium read.
    pub medium: MediumId,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Whether everything restored matched and the application check passed.
    pub ok: bool,
}

/// One generation (世代): one backup run of one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// The snapshot's id.
    pub snapshot: SnapshotId,
    /// The source it backs up.
    pub source: SourceName,
    /// When the backup was taken; the age rule measures from here, because a
    /// restore brings back the data as it was at this instant.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
}

/// One medium or store that can hold copies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Medium {
    /// Its id (barcode, label, bucket, vault name).
    pub id: MediumId,
    /// What it is and how it is set up; decides which 項番 can apply.
    pub kind: MediumKind,
    /// The pool it rotates in, if any.
    #[serde(default)]
    pub pool: Option<PoolName>,
    /// Its condition now.
    pub condition: Condition,
}

/// What a medium is and how it is set up. The definitions judge the same
/// cartridge differently in a single drive and in a library, so the set-up
/// is part of the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediumKind {
    /// LTO cartridge used in a single, stand-alone drive (①-1-1).
    LtoSingleDrive,
    /// LTO cartridge used in a tape library or LTO autoloader (①-2-1, ①-2-2).
    LtoLibrary,
    /// RDX cartridge used in a single RDX drive (②-1-1).
    RdxSingleDrive,
    /// RDX cartridge used in an RDX autoloader (②-2-1, ②-2-2).
    RdxAutoloader,
    /// External disk or NAS rotated by hand. The definitions' note says the
    /// removable-media rules apply to these too; they are judged like a
    /// single-drive RDX cartridge (②-1-1): unplugged counts, plugged in does not.
    RemovableDisk,
    /// Cloud object storage, e.g. an S3 bucket with object lock (③-1).
    ObjectStore,
    /// An appliance or file system with an immutable area (④-1).
    ImmutableStorage,
    /// A vault server that pulls backups and accepts no inbound connection
    /// (⑤-1); its own WORM retention can also qualify it under ④-1.
    PullVault,
    /// The primary repository disk. Always online: it is what ransomware
    /// encrypts first.
    PrimaryDisk,
}

impl MediumKind {
    /// The 項番 that can apply to a medium of this kind, in the definitions'
    /// order. Each verdict lists them as "considered".
    pub fn considered(self) -> &'static [Koban] {
        match self {
            MediumKind::LtoSingleDrive => &[Koban::LtoEjected],
            MediumKind::LtoLibrary => &[Koban::LtoInLibrarySlot, Koban::LtoExported],
            MediumKind::RdxSingleDrive | MediumKind::RemovableDisk => &[Koban::RdxEjected],
            MediumKind::RdxAutoloader => &[Koban::RdxInactiveSlotSegmented, Koban::RdxExported],
            MediumKind::ObjectStore => &[Koban::CloudImmutable],
            MediumKind::ImmutableStorage => &[Koban::ImmutableDevice],
            MediumKind::PullVault => &[Koban::AccessControlled, Koban::ImmutableDevice],
            MediumKind::PrimaryDisk => &[],
        }
    }

    /// Whether the medium's offline state follows from where it physically is
    /// (tapes, cartridges, disks). The others are always connected; what
    /// protects their data decides, and location observations of them are
    /// ignored.
    pub fn is_carried(self) -> bool {
        matches!(
            self,
            MediumKind::LtoSingleDrive
                | MediumKind::LtoLibrary
                | MediumKind::RdxSingleDrive
                | MediumKind::RdxAutoloader
                | MediumKind::RemovableDisk
        )
    }

    /// A short English name for messages.
    pub fn name_en(self) -> &'static str {
        match self {
            MediumKind::LtoSingleDrive => "LTO tape (single drive)",
            MediumKind::LtoLibrary => "LTO tape (library)",
            MediumKind::RdxSingleDrive => "RDX cartridge (single drive)",
            MediumKind::RdxAutoloader => "RDX cartridge (autoloader)",
            MediumKind::RemovableDisk => "removable disk",
            MediumKind::ObjectStore => "object storage",
            MediumKind::ImmutableStorage => "immutable storage",
            MediumKind::PullVault => "pull-only vault",
            MediumKind::PrimaryDisk => "primary repository disk",
        }
    }

    /// A short Japanese name for messages.
    pub fn name_ja(self) -> &'static str {
        match self {
            MediumKind::LtoSingleDrive => "LTOテープ（単体ドライブ）",
            MediumKind::LtoLibrary => "LTOテープ（ライブラリ）",
            MediumKind::RdxSingleDrive => "RDXカートリッジ（単体ドライブ）",
            MediumKind::RdxAutoloader => "RDXカートリッジ（オートローダ）",
            MediumKind::RemovableDisk => "外付けディスク",
            MediumKind::ObjectStore => "オブジェクトストレージ",
            MediumKind::ImmutableStorage => "イミュータブルストレージ",
            MediumKind::PullVault => "プル型保管サーバ",
            MediumKind::PrimaryDisk => "一次リポジトリのディスク",
        }
    }
}

/// The condition a medium is in, apart from where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    /// In use and accepting writes.
    Writable,
    /// In use, no more room; its copies are as good as ever.
    Full,
    /// Known to be damaged: its copies cannot be trusted to restore.
    Damaged,
    /// Taken out of service: its copies are not kept up and do not count.
    Retired,
}

impl Condition {
    /// Whether copies on a medium in this condition can count.
    pub fn can_restore(self) -> bool {
        matches!(self, Condition::Writable | Condition::Full)
    }
}

/// A medium holds a generation. Several records of the same generation on
/// the same medium are merged: complete if any of them is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    /// Which generation.
    pub snapshot: SnapshotId,
    /// On which medium.
    pub medium: MediumId,
    /// Since when the medium holds it (the copy job's end). Before this
    /// instant the copy does not exist.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// Whether the medium holds *everything* needed to restore the generation
    /// on its own. A copy interrupted half-way, or a tape that is one of a
    /// media set whose other tapes are elsewhere, is not complete.
    pub complete: bool,
    /// The other media the copy also needs: the rest of a media set that
    /// spans several cartridges. The copy is complete only together with
    /// them, and offline only while every one of them is offline. Empty for
    /// a copy held by one medium alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<MediumId>,
    /// When the copy was last read back and checked, if ever. Shown in
    /// reports; it does not change whether the copy is offline.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
}

/// Where a medium was seen, by whom, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// Which medium.
    pub medium: MediumId,
    /// When it was seen there.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where.
    pub location: Location,
    /// Whether a device reported it or a person recorded it.
    pub by: ObservedBy,
    /// Free text from the person or device.
    #[serde(default)]
    pub note: Option<String>,
}

/// Who saw a medium where it was.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ObservedBy {
    /// A drive, library or autoloader reported it (hokan asked the device).
    Device {
        /// The device that reported.
        device: DeviceId,
    },
    /// A person recorded it (`hokan media move … --by`).
    Person {
        /// Who.
        person: Person,
    },
}

/// Where a carried medium is. Which of these count as offline depends on the
/// medium's kind; see the crate documentation for the table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Location {
    /// Loaded in a drive: readable and writable by the host. Online.
    InDrive {
        /// Which drive.
        drive: DeviceId,
    },
    /// In an RDX autoloader's active slot, which the host sees as a disk.
    /// Online.
    ActiveSlot {
        /// Which autoloader.
        autoloader: DeviceId,
    },
    /// Plugged in or mounted (a removable disk, a NAS switched on). Online.
    Connected {
        /// The host it is connected to, if known.
        #[serde(default)]
        host: Option<String>,
    },
    /// In a storage slot of a tape library or LTO autoloader.
    LibrarySlot {
        /// Which library.
        library: DeviceId,
        /// Which slot, if known.
        #[serde(default)]
        slot: Option<u32>,
    },
    /// In a library's import/export (mail) slot. Still inside the library:
    /// the robot can take it back to a drive.
    MailSlot {
        /// Which library.
        library: DeviceId,
    },
    /// In an RDX autoloader's inactive slot, which the host's OS cannot read
    /// or write directly.
    InactiveSlot {
        /// Which autoloader.
        autoloader: DeviceId,
        /// Which slot, if known.
        #[serde(default)]
        slot: Option<u32>,
    },
    /// Taken out of a tape library or RDX autoloader through its export
    /// mechanism: the changer can no longer reach it.
    Exported {
        /// Which library or autoloader it left.
        changer: DeviceId,
    },
    /// Ejected from a single drive (tape or RDX), or a removable disk
    /// unplugged.
    Ejected {
        /// Which drive, if known.
        #[serde(default)]
        drive: Option<DeviceId>,
    },
    /// On a shelf or in a cabinet on site, out of every device.
    Shelf {
        /// Which shelf or cabinet, if recorded.
        #[serde(default)]
        place: Option<String>,
    },
    /// At another site (a bank vault, a branch office).
    Offsite {
        /// Where.
        site: String,
    },
    /// The device or person says they do not know where it is.
    Unknown,
}

impl Location {
    /// Where, in both languages, for messages.
    pub fn describe(&self) -> Text {
        match self {
            Location::InDrive { drive } => {
                Text::new(format!("in drive {drive}"), format!("ドライブ {drive} 内"))
            }
            Location::ActiveSlot { autoloader } => Text::new(
                format!("in the active slot of autoloader {autoloader}"),
                format!("オートローダ {autoloader} のアクティブスロット"),
            ),
            Location::Connected { host: Some(h) } => {
                Text::new(format!("connected to {h}"), format!("{h} に接続中"))
            }
            Location::Connected { host: None } => Text::new("connected", "接続中"),
            Location::LibrarySlot { library, slot } => Text::new(
                format!("in {} of library {library}", slot_en(*slot)),
                format!("ライブラリ {library} の{}", slot_ja(*slot)),
            ),
            Location::MailSlot { library } => Text::new(
                format!("in the mail slot of library {library}"),
                format!("ライブラリ {library} のメールスロット"),
            ),
            Location::InactiveSlot { autoloader, slot } => Text::new(
                format!("in inactive {} of autoloader {autoloader}", slot_en(*slot)),
                format!("オートローダ {autoloader} の非アクティブ{}", slot_ja(*slot)),
            ),
            Location::Exported { changer } => Text::new(
                format!("exported from {changer}"),
                format!("{changer} から搬出済み"),
            ),
            Location::Ejected { drive: Some(d) } => Text::new(
                format!("ejected from drive {d}"),
                format!("ドライブ {d} から排出済み"),
            ),
            Location::Ejected { drive: None } => Text::new("ejected", "排出済み"),
            Location::Shelf { place: Some(p) } => {
                Text::new(format!("on shelf {p}"), format!("棚 {p} に保管"))
            }
            Location::Shelf { place: None } => Text::new("on a shelf", "棚に保管"),
            Location::Offsite { site } => Text::new(
                format!("offsite at {site}"),
                format!("遠隔地 {site} に保管"),
            ),
            Location::Unknown => Text::new("unknown", "不明"),
        }
    }

    /// Whether a medium here is out of what the host can reach (its
    /// location could make it offline): everything but a drive, an active
    /// slot, connected, and unknown.
    pub fn takes_out_of_reach(&self) -> bool {
        !matches!(self, Location::Unknown) && self.reach_rank() > 0
    }

    /// Whether this place is inside a device hokan can ask: a drive, a slot
    /// or mail slot of a library, a slot of an autoloader, connected.
    pub fn inside_a_device(&self) -> bool {
        matches!(
            self,
            Location::InDrive { .. }
                | Location::ActiveSlot { .. }
                | Location::Connected { .. }
                | Location::LibrarySlot { .. }
                | Location::MailSlot { .. }
                | Location::InactiveSlot { .. }
        )
    }

    /// How directly a host can reach a medium here; lower is more reachable.
    /// Used only to break ties between observations made at the same instant:
    /// the more reachable one wins, so a tie can never make a copy count.
    pub fn reach_rank(&self) -> u8 {
        match self {
            Location::InDrive { .. } | Location::ActiveSlot { .. } | Location::Connected { .. } => {
                0
            }
            Location::Unknown => 1,
            Location::LibrarySlot { .. }
            | Location::MailSlot { .. }
            | Location::InactiveSlot { .. } => 2,
            Location::Ejected { .. } => 3,
            Location::Exported { .. } | Location::Shelf { .. } | Location::Offsite { .. } => 4,
        }
    }
}

fn slot_en(slot: Option<u32>) -> String {
    slot.map_or_else(|| "a slot".to_owned(), |n| format!("slot {n}"))
}

fn slot_ja(slot: Option<u32>) -> String {
    slot.map_or_else(|| "スロット".to_owned(), |n| format!("スロット {n}"))
}

/// What protects one copy on an object store, appliance or vault, as recorded
/// at one instant. The latest record at or before `now` counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protection {
    /// The medium (bucket, appliance, vault).
    pub medium: MediumId,
    /// The copy's generation.
    pub snapshot: SnapshotId,
    /// When this was read from the store.
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// How the lock is enforced.
    pub mode: LockMode,
    /// How long. For a copy this is the *earliest* retention among all the
    /// objects the generation needs (packs, index, snapshot): the copy is
    /// complete only while every one of them is, so it is offline only until
    /// the first of them can be deleted.
    pub retention: Retention,
}

/// How a lock is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockMode {
    /// Nobody, not even the account's administrator, can shorten or remove
    /// it (S3 object lock compliance mode, SnapLock compliance).
    Compliance,
    /// A user with a special permission can bypass it (S3 governance mode).
    /// Reported as weaker, never as plain offline: ransomware holding such a
    /// user's credentials can delete the data.
    Governance,
    /// An immutability flag the device sets on files or snapshots. Whoever
    /// administers the device can usually clear it, so it is full strength
    /// only on a device attested as immutable (④-1).
    ImmutableFlag,
    /// A WORM server refuses every change until retention ends.
    WormServer,
}

/// How long a lock holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Retention {
    /// The store reports no lock: the data can be deleted over the network.
    Unlocked,
    /// Locked until this instant; from it on, deletable.
    Until {
        /// The end of the retention.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// Locked with no end date (legal hold, append-only area).
    Indefinite,
}

/// A test of whether a store really enforces its locks: hokan tries to delete
/// or overwrite a locked canary object and records whether it was refused.
/// Per medium; the latest at or before `now` counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockProbe {
    /// Which medium (bucket, appliance, vault).
    pub medium: MediumId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub outcome: ProbeOutcome,
    /// The store's answer, for the report.
    #[serde(default)]
    pub detail: Option<String>,
}

/// The result of a [`LockProbe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// The store refused to delete or overwrite: the lock held.
    Held,
    /// The store deleted or overwrote locked data: the lock is not enforced,
    /// and the medium is reachable and writable from the backup server.
    Failed,
    /// The store refused to delete locked data but let a compliance-mode
    /// retention be shortened: whoever holds the credentials can shorten
    /// every lock and delete the data afterwards. Copies count, but weaker.
    Shortenable,
}

/// A fact a person vouches for because software cannot observe it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The catalog's id for it.
    pub id: AttestationId,
    /// What is attested, and about what.
    pub claim: Claim,
    /// Who attests it.
    pub by: Person,
    /// The evidence (network diagram, firewall rule set, contract clause).
    pub evidence: String,
    /// From when it holds.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    /// Until when. Always required: networks and contracts change, so a fact
    /// nobody re-checks must stop counting.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was withdrawn before expiry, if it was.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
}

impl Attestation {
    /// When it stops holding: its expiry, or its withdrawal if earlier.
    pub fn ends_at(&self) -> OffsetDateTime {
        match self.withdrawn_at {
            Some(w) if w < self.expires_at => w,
            _ => self.expires_at,
        }
    }

    /// Whether it counts at `now`: from `valid_from` (inclusive) to
    /// `expires_at` (exclusive), and not withdrawn at or before `now`.
    pub fn holds_at(&self, now: OffsetDateTime) -> bool {
        self.valid_from <= now
            && now < self.expires_at
            && !matches!(self.withdrawn_at, Some(w) if w <= now)
    }
}

/// What an attestation claims.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Claim {
    /// The backup server's network is segmented from the EMR network
    /// (ネットワークが構成分割), as ②-2-1 requires.
    NetworkSegmented {
        /// The autoloader whose backup server is meant, or `None` for the
        /// whole site (every autoloader).
        #[serde(default)]
        autoloader: Option<DeviceId>,
    },
    /// The device keeps data in an immutable area that nobody can delete or
    /// overwrite before retention ends (④-1).
    ImmutableDevice {
        /// Which medium (appliance, vault).
        medium: MediumId,
    },
    /// The cloud provider isolates the storage from the network (③-1).
    ProviderIsolation {
        /// Which medium (bucket).
        medium: MediumId,
    },
    /// The vault only pulls; a firewall blocks all traffic towards it (⑤-1).
    PullOnlyVault {
        /// Which vault.
        medium: MediumId,
    },
}

impl Claim {
    /// The claim in English, for messages.
    pub fn name_en(&self) -> String {
        match self {
            Claim::NetworkSegmented {
                autoloader: Some(a),
            } => {
                format!("network segmentation for autoloader {a}")
            }
            Claim::NetworkSegmented { autoloader: None } => {
                "site-wide network segmentation".to_owned()
            }
            Claim::ImmutableDevice { medium } => format!("immutable device {medium}"),
            Claim::ProviderIsolation { medium } => format!("provider isolation of {medium}"),
            Claim::PullOnlyVault { medium } => format!("pull-only firewall of vault {medium}"),
        }
    }

    /// The claim in Japanese, for messages.
    pub fn name_ja(&self) -> String {
        match self {
            Claim::NetworkSegmented {
                autoloader: Some(a),
            } => {
                format!("オートローダ {a} のネットワーク分割")
            }
            Claim::NetworkSegmented { autoloader: None } => "施設全体のネットワーク分割".to_owned(),
            Claim::ImmutableDevice { medium } => format!("{medium} の不変領域"),
            Claim::ProviderIsolation { medium } => format!("{medium} の事業者による隔離"),
            Claim::PullOnlyVault { medium } => {
                format!("保管サーバ {medium} のプル専用ファイアウォール")
            }
        }
    }
}

/// A vault's signed receipt, as the primary recorded it after checking its
/// signature with the vault's registered public key. Only the facts needed
/// to judge; the whole receipt stays in the inbox file it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultReceipt {
    /// The vault (its medium id: the `[[vault]]` name).
    pub vault: MediumId,
    /// When the vault made it, by its compliance clock. It counts from this
    /// instant (with [`crate::RECEIPT_CLOCK_SKEW`] of tolerance) until the
    /// vault's `fresh_for` has passed.
    #[serde(with = "time::serde::rfc3339")]
    pub issued: OffsetDateTime,
    /// The vault's network check: `ok`, `differs` or `unchecked`.
    pub firewall: String,
    /// What differs, or why it could not be checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firewall_detail: Vec<String>,
    /// The vault's compliance clock: `ok`, `behind` or `frozen`.
    pub clock: String,
    /// Whether the pull before the receipt completed (`ok`), or why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_failed: Option<String>,
    /// Objects the vault holds without the immutable flag.
    pub without_flag_total: u64,
    /// A few of them, by path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without_flag: Vec<String>,
    /// The generations the vault holds.
    pub generations: Vec<VaultHeld>,
    /// Findings the vault's operator has not acknowledged (at most 100).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<VaultFinding>,
    /// How many unacknowledged findings there are in all.
    #[serde(default)]
    pub findings_total: u64,
    /// The vault ledger's head hash when the receipt was made.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ledger_head: String,
    /// The vault ledger's rows then (0: not reported).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ledger_rows: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One generation a vault holds, per its receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultHeld {
    /// The snapshot (the repository's snapshot id, hex).
    pub snapshot: SnapshotId,
    /// When the vault stored it (its compliance clock).
    #[serde(with = "time::serde::rfc3339")]
    pub stored: OffsetDateTime,
    /// Until when the vault keeps it whatever anybody asks.
    #[serde(with = "time::serde::rfc3339")]
    pub retain_until: OffsetDateTime,
    /// Every object it needs carries the immutable flag.
    pub immutable: bool,
}

/// A finding a vault reports (changed bytes, vanished objects, a
/// future-dated snapshot, a frozen clock …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultFinding {
    /// Its kind (`changed-bytes`, `vanished`, `future-dated`, …).
    pub kind: String,
    /// When (the vault's compliance clock, as it wrote it).
    pub time: String,
    /// What was seen.
    pub detail: String,
}
