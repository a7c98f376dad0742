//! The backup annex to a hospital's operations rulebook (運用管理規程 別紙:
//! バックアップ運用), generated from the site.
//!
//! A hospital filing for 診療録管理体制加算1 must describe, in its rulebook
//! or a contract, the product's functions and the emergency recovery
//! method; inspectors then ask whether the backups and the restore
//! procedure were checked. This module writes that annex from what hokan
//! actually knows at one instant ([`AnnexData`]): `hokan.toml` (sources,
//! schedules, targets, roles), the catalog (media and where they are, the
//! drills, its head) and the evaluator (which 項番 each copy meets now).
//! Nothing in it is a fixed template alone: every command, pool, cartridge
//! and place is the site's own, so the paper and the site cannot drift
//! apart without the next generated annex showing it.
//!
//! It reuses the report's document model and renderers, so it prints on A4
//! under the same rules (headers repeated, rows kept on a page, every mark
//! also in words). Like the report it does no I/O and reads no clock.

mod drills;
mod recovery;
mod setup;

use time::{OffsetDateTime, UtcOffset};

use hokan_catalog::{DrillRow, Head, MediumRow};
use hokan_offline::text::{day, span, when};
use hokan_offline::{Evaluation, Koban, Policy, Text};
use hokan_site::{Site, Target, TargetKind};

use crate::doc::{pick, tr, Banner, Cell, Document, Span, Tone};
use crate::Lang;

/// The annex's format version: bumped when its sections or their meaning
/// change, so a hospital can tell which wording its filed copy has.
/// 2: the drills are per kind of medium and source, with the measured
/// throughput and the projected whole-source restore time against `rto`.
pub const ANNEX_FORMAT: u32 = 2;

/// The version printed on the annex and referenced by the report:
/// `hokan 0.1.0, annex format 2`.
pub fn annex_version(program: &str, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{program}・別紙様式 第{ANNEX_FORMAT}版"),
        Lang::En => format!("{program}, annex format {ANNEX_FORMAT}"),
    }
}

/// Everything the annex shows, gathered at one instant.
#[derive(Clone, Debug)]
pub struct AnnexData {
    /// When the annex was made.
    pub generated_at: OffsetDateTime,
    /// The offset times are shown in (the site's time zone).
    pub offset: UtcOffset,
    /// `hokan 0.1.0`.
    pub program: String,
    /// The site as `hokan.toml` describes it.
    pub site: Site,
    /// How this site's commands start, as an operator types them:
    /// `hokan --config /etc/hokan/hokan.toml`.
    pub command: String,
    /// The offline policy in force.
    pub policy: Policy,
    /// The evaluator's answer at `generated_at`.
    pub evaluation: Evaluation,
    /// The media inventory with latest locations.
    pub media: Vec<MediumRow>,
    /// Restore drills, newest first.
    pub drills: Vec<DrillRow>,
    /// The catalog's head when the annex was made.
    pub head: Head,
}

impl AnnexData {
    /// The version printed on the annex.
    pub fn version(&self, lang: Lang) -> String {
        annex_version(&self.program, lang)
    }
}

/// The annex as self-contained HTML that prints on A4.
pub fn render_annex_html(data: &AnnexData, lang: Lang) -> String {
    crate::html::render_document(&build(data, lang))
}

/// The annex as Markdown.
pub fn render_annex_markdown(data: &AnnexData, lang: Lang) -> String {
    crate::markdown::render_document(&build(data, lang))
}

/// The annex's title.
pub(crate) fn title(lang: Lang) -> &'static str {
    tr(
        lang,
        "Operations rulebook, annex: backup operations",
        "運用管理規程 別紙：バックアップ運用",
    )
}

/// The data and the language, with the formatting every section needs.
pub(crate) struct Cx<'a> {
    pub d: &'a AnnexData,
    pub lang: Lang,
}

impl Cx<'_> {
    pub fn tr(&self, en: &str, ja: &str) -> String {
        tr(self.lang, en, ja).to_owned()
    }

    pub fn ja(&self) -> bool {
        self.lang == Lang::Ja
    }

    pub fn pick(&self, t: &Text) -> String {
        pick(self.lang, t)
    }

    pub fn when(&self, t: OffsetDateTime) -> String {
        when(t, self.d.offset)
    }

    pub fn day(&self, t: OffsetDateTime) -> String {
        day(t, self.d.offset)
    }

    pub fn span(&self, d: time::Duration) -> String {
        self.pick(&span(d))
    }

    pub fn sep(&self) -> &'static str {
        tr(self.lang, ", ", "、")
    }

    /// `hokan --config FILE ARGS`.
    pub fn cmd(&self, args: &str) -> String {
        format!("{} {args}", self.d.command)
    }

    /// What a target's media are, in words.
    pub fn kind(&self, t: &Target) -> String {
        let k = t.medium_kind();
        match self.lang {
            Lang::Ja => k.name_ja().to_owned(),
            Lang::En => k.name_en().to_owned(),
        }
    }

    /// A target uses a simulated device (the demo, a trial).
    pub fn simulated(&self, t: &Target) -> bool {
        match &t.kind {
            TargetKind::TapePool(p) => p.virtual_library.is_some(),
            TargetKind::DiskPool(p) => p.virtual_device.is_some(),
            _ => false,
        }
    }

    /// A placeholder the reader fills in, marked so it is not read as data.
    pub fn blank(&self, what: &str) -> Cell {
        Cell::badge(
            Tone::Warn,
            format!("{}：{what}", self.tr("to fill in", "要記入")),
        )
    }
}

/// The definitions' wording of each 項番, in short (厚生労働省「医療機関に
/// おけるサイバーセキュリティ確保事業」別添5「各媒体におけるオフライン状態の
/// 定義」): the state in which a copy counts as offline.
pub(crate) fn definition(k: Koban) -> Text {
    let (en, ja) = match k {
        Koban::LtoEjected => (
            "LTO tape, single drive: the cartridge is physically ejected from the drive.",
            "LTO（単体ドライブ）：テープをドライブから排出した状態。",
        ),
        Koban::LtoInLibrarySlot => (
            "LTO tape, library or autoloader: the cartridge is in a library slot, not in any drive.",
            "LTO（テープライブラリ・オートローダー）：テープがスロットに格納され、ドライブに装填されていない状態。",
        ),
        Koban::LtoExported => (
            "LTO tape, library or autoloader: the cartridge is exported out of the library itself.",
            "LTO（テープライブラリ・オートローダー）：テープをライブラリ装置自体から搬出した状態。",
        ),
        Koban::RdxEjected => (
            "RDX, single drive (also external disks or NAS rotated by hand): the cartridge is ejected from the drive.",
            "RDX（単体ドライブ。外付けHDD・NASのローテーションも同様）：カートリッジをドライブから排出した状態。",
        ),
        Koban::RdxInactiveSlotSegmented => (
            "RDX autoloader: the backup server's network is segmented from the EMR network, AND the cartridge is in an area (inactive slot) the backup server's OS cannot read or write directly.",
            "RDX（オートローダー）：オートローダーを接続したバックアップサーバのネットワークが電子カルテのネットワークと構成分割され、かつカートリッジがバックアップサーバのOSから直接読み書きできない領域（非アクティブスロット）にある状態。",
        ),
        Koban::RdxExported => (
            "RDX autoloader: the cartridge is ejected from the autoloader itself.",
            "RDX（オートローダー）：カートリッジをオートローダー自体から排出した状態。",
        ),
        Koban::CloudImmutable => (
            "Cloud storage: the backup data cannot be deleted or overwritten for a set period or indefinitely (e.g. object lock), or the provider isolates the storage from the network.",
            "クラウドストレージ：オブジェクトロック等により、一定期間または無期限にバックアップデータを削除・上書きできない状態（または事業者によりネットワークから隔離された状態）。",
        ),
        Koban::ImmutableDevice => (
            "Other device: a product feature keeps the data from being deleted or overwritten for a set period or indefinitely (an immutable file system or area; appending allowed).",
            "その他の装置：製品の機能により、一定期間または無期限にデータを削除・上書きできない状態（イミュータブルなファイルシステム・不変領域へのバックアップ等。追記は可）。",
        ),
        Koban::AccessControlled => (
            "Device under access control: the backup data cannot be deleted or overwritten from outside (e.g. backup server ② pulls from server ①, and a firewall blocks all traffic towards ②).",
            "アクセス制御された装置：外部からバックアップデータを削除・上書きできない状態（例：バックアップサーバ②がサーバ①からデータを取得し、②へ向かう通信をファイアウォールですべて遮断）。",
        ),
    };
    Text::new(en, ja)
}

/// Build the whole annex.
pub(crate) fn build(data: &AnnexData, lang: Lang) -> Document {
    let cx = Cx { d: data, lang };
    let sections = vec![
        setup::purpose(&cx),
        setup::roles(&cx),
        setup::sources(&cx),
        setup::schedules(&cx),
        setup::methods(&cx),
        setup::generations(&cx),
        setup::locations(&cx),
        recovery::order(&cx),
        recovery::procedures(&cx),
        recovery::keys(&cx),
        drills::drills(&cx),
        drills::filing(&cx),
        drills::revision(&cx),
    ];
    let sections = crate::doc::numbered(sections);
    Document {
        lang,
        title: title(lang).to_owned(),
        meta: meta(&cx),
        banner: banner(&cx),
        // The annex says which targets are simulated in its own banner.
        simulated: None,
        sections,
        footer: footer(&cx),
    }
}

fn site_name(cx: &Cx<'_>) -> String {
    let n = cx.d.site.name().trim();
    if n.is_empty() {
        cx.tr("(unnamed site)", "（名称未設定）")
    } else {
        n.to_owned()
    }
}

fn meta(cx: &Cx<'_>) -> Vec<(String, Cell)> {
    let d = cx.d;
    vec![
        (
            cx.tr("Site", "施設名"),
            Cell(vec![Span::Strong(site_name(cx))]),
        ),
        (cx.tr("Version", "版"), Cell::text(d.version(cx.lang))),
        (
            cx.tr("Generated at", "作成日時"),
            Cell::text(cx.when(d.generated_at)),
        ),
        (
            cx.tr("Configuration", "設定ファイル"),
            Cell::code(d.site.file().display().to_string()),
        ),
        (
            cx.tr("Catalog head", "カタログ先頭"),
            Cell::code(format!("{}:{}", d.head.seq, d.head.hash)),
        ),
    ]
}

fn banner(cx: &Cx<'_>) -> Banner {
    let ev = &cx.d.evaluation;
    let (tone, state) = if ev.is_untrusted() {
        (
            Tone::Bad,
            cx.tr(
                "× the catalog is not trusted: nothing was judged",
                "× カタログが信頼できないため判定していません",
            ),
        )
    } else if ev.sources.is_empty() {
        (
            Tone::Warn,
            cx.tr("△ nothing to judge yet", "△ 判定対象なし"),
        )
    } else if ev.compliant {
        (Tone::Ok, cx.tr("○ compliant", "○ 適合"))
    } else {
        (Tone::Bad, cx.tr("× NOT compliant", "× 不適合"))
    };
    let mut lines = vec![Cell::rich(&cx.tr(
        "This annex is generated by `hokan annex` from hokan.toml, the catalog and the offline evaluator. Generate it again after any change to the configuration, the media or the roles, and file the new version.",
        "この別紙は `hokan annex` が hokan.toml・カタログ・オフライン判定から生成したものです。設定・媒体・担当者を変更したときは再生成し、新しい版を規程に綴じてください。",
    ))];
    let sims: Vec<String> =
        cx.d.site
            .targets()
            .iter()
            .filter(|t| cx.simulated(t))
            .map(|t| t.name.to_string())
            .collect();
    if !sims.is_empty() {
        lines.push(Cell::badge(
            Tone::Warn,
            match cx.lang {
                Lang::Ja => format!(
                    "模擬装置（SIMULATED）を使う保管先があります：{}。実機の手順ではありません。",
                    sims.join("、")
                ),
                Lang::En => format!(
                    "Some targets use SIMULATED devices: {}. Their steps are not those of real hardware.",
                    sims.join(", ")
                ),
            },
        ));
    }
    Banner {
        tone,
        headline: format!(
            "{}{state}",
            cx.tr("State when generated: ", "作成時点の判定：")
        ),
        lines,
    }
}

fn footer(cx: &Cx<'_>) -> String {
    let d = cx.d;
    format!(
        "{} — {} — {} — {} — {} {}",
        title(cx.lang),
        site_name(cx),
        cx.day(d.generated_at),
        d.version(cx.lang),
        cx.tr("catalog head", "カタログ先頭"),
        d.head.seq
    )
}
