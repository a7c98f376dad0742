//! The recovery: the order, each medium step by step with this site's
//! commands, and the passphrase / paper-key procedure.

use hokan_site::{AfterJob, DiskAfterJob, TapeMode, Target, TargetKind};

use super::setup::{media_of, store_place};
use super::Cx;
use crate::doc::{Block, Cell, Section, Span, Table, Tone};
use crate::Lang;

/// Where restores go first: a folder on an isolated machine. Named once
/// here so every command of the annex uses the same one.
pub(crate) const RESTORE_ROOT: &str = "/srv/hokan-restore";

/// The isolated restore folder for one target.
fn restore_dir(t: &Target) -> String {
    format!("{RESTORE_ROOT}/{}", t.name)
}

fn gen(cx: &Cx<'_>) -> &'static str {
    if cx.ja() {
        "<世代ID>"
    } else {
        "<GENERATION-ID>"
    }
}

/// A table of numbered steps: what to do, and the command if there is one.
struct Steps<'a, 'b> {
    cx: &'a Cx<'b>,
    table: Table,
    n: usize,
}

impl<'a, 'b> Steps<'a, 'b> {
    fn new(cx: &'a Cx<'b>) -> Self {
        Steps {
            cx,
            table: Table::new(vec![
                cx.tr("Step", "手順"),
                cx.tr("What to do", "作業"),
                cx.tr("Command", "コマンド"),
            ]),
            n: 0,
        }
    }

    fn step(&mut self, en: &str, ja: &str, command: Option<String>) {
        self.n += 1;
        self.table.row(vec![
            Cell::text(self.n.to_string()),
            Cell::rich(&self.cx.tr(en, ja)),
            command.map_or_else(|| Cell(vec![Span::Small("—".into())]), Cell::code),
        ]);
    }

    fn owned(&mut self, text: String, command: Option<String>) {
        self.n += 1;
        self.table.row(vec![
            Cell::text(self.n.to_string()),
            Cell::rich(&text),
            command.map_or_else(|| Cell(vec![Span::Small("—".into())]), Cell::code),
        ]);
    }

    fn done(self) -> Block {
        Block::Table(self.table)
    }
}

/// The order in which to restore, whatever the medium.
pub(crate) fn order(cx: &Cx<'_>) -> Section {
    let mut s = Steps::new(cx);
    s.step(
        "Cut the EMR network and the backup server off the network. Never connect an offline medium to a machine that may be infected.",
        "電子カルテのネットワークとバックアップサーバをネットワークから切り離します。オフラインの媒体を、感染のおそれがある機器には接続しません。",
        None,
    );
    s.step(
        "Find out when the infection or damage began, and choose a generation taken BEFORE it. The generations and the media holding each are in the newest printed report (section “Generations”) and in the catalog.",
        "感染・破損が始まった時点を特定し、それより前に取得された世代を選びます。世代と、それを持つ媒体は、最新の報告書（「世代」の節）とカタログで確認します。",
        Some(cx.cmd("report --format html -o report.html")),
    );
    s.owned(
        match cx.lang {
            Lang::Ja => format!("隔離した復元先を用意します。電子カルテのネットワークにつながっていない、初期化済みの機器に hokan を入れ、フォルダ {RESTORE_ROOT} に復元します。元の場所へ直接は戻しません。"),
            Lang::En => format!("Prepare an isolated place: a freshly installed machine with hokan, NOT on the EMR network; restore into {RESTORE_ROOT} on it. Never restore straight over the original."),
        },
        None,
    );
    let names: Vec<String> =
        cx.d.site
            .targets()
            .iter()
            .map(|t| t.name.to_string())
            .collect();
    s.owned(
        match cx.lang {
            Lang::Ja => format!("次節の媒体別の手順で、選んだ世代を復元します。どの保管先も単独で（一次リポジトリなしで）復元できます。順に試す保管先：{}。", names.join(" → ")),
            Lang::En => format!("Restore the chosen generation by the medium's procedure in the next section. Each target restores alone, without the primary repository. Targets in the order to try: {}.", names.join(" → ")),
        },
        None,
    );
    s.step(
        "Check what was restored: scan it with anti-malware software, and open it with the application (the database loads, records can be read).",
        "復元したデータをウイルス対策ソフトで検査し、アプリケーションで開けること（データベースの読み込み、記録の参照）を確認します。",
        None,
    );
    s.step(
        "With the approval of the person responsible (section “Who is responsible”), put the data back into service.",
        "管理責任者（「責任者と担当者」の節）の承認を得て、本番環境へ戻します。",
        None,
    );
    s.step(
        "Put every medium back into its offline state and place, record it, and make a report for the records.",
        "使った媒体をオフラインの状態と保管場所へ戻して記録し、報告書を作成して保存します。",
        Some(cx.cmd("status")),
    );
    Section {
        id: "recovery-order",
        title: cx.tr("Recovery: the order", "復旧の順序"),
        blocks: vec![s.done()],
    }
}

/// The cartridges of a pool with where each is, one line each.
fn media_list(cx: &Cx<'_>, t: &Target) -> Cell {
    let media = media_of(cx, t.name.as_str());
    if media.is_empty() {
        return Cell(vec![Span::Small(cx.tr("none registered yet", "未登録"))]);
    }
    let mut c = Cell::empty();
    for m in media {
        let place = match &m.location {
            Some(o) => cx.pick(&o.location.describe()),
            None => store_place(cx, t).unwrap_or_else(|| cx.tr("never recorded", "記録なし")),
        };
        c = c.line(Cell::code(m.id.as_str()).then(format!(" — {place}")));
    }
    c
}

/// Every target's procedure, step by step.
pub(crate) fn procedures(cx: &Cx<'_>) -> Section {
    let mut blocks = Vec::new();
    for t in cx.d.site.targets() {
        blocks.push(Block::Sub(format!("{} ({})", t.name, cx.kind(t))));
        let mut pairs = vec![(
            cx.tr("Media and where they are", "媒体と保管場所"),
            media_list(cx, t),
        )];
        if cx.simulated(t) {
            pairs.push((
                cx.tr("Device", "装置"),
                Cell::badge(
                    Tone::Warn,
                    cx.tr(
                        "SIMULATED (a folder, not hardware)",
                        "模擬装置（実機ではありません）",
                    ),
                ),
            ));
        }
        blocks.push(Block::Pairs(pairs));
        blocks.push(match &t.kind {
            TargetKind::TapePool(p) => tape(cx, t, p.mode, p.after_job),
            TargetKind::DiskPool(p) => disk(cx, t, p.after_job),
            TargetKind::S3(_) => s3(cx, t),
            TargetKind::Vault(_) => vault(cx, t),
        });
    }
    if blocks.is_empty() {
        blocks.push(Block::Note(
            Tone::Bad,
            Cell::text(cx.tr(
                "No offline target is configured: there is nothing to restore from.",
                "オフラインの保管先が設定されていないため、復元元がありません。",
            )),
        ));
    }
    Section {
        id: "recovery",
        title: cx.tr(
            "Recovery from each medium, step by step",
            "媒体別の復旧手順",
        ),
        blocks,
    }
}

fn tape(cx: &Cx<'_>, t: &Target, mode: TapeMode, after: AfterJob) -> Block {
    let pool = t.name.as_str();
    let mut s = Steps::new(cx);
    s.step(
        "See which media set (cartridges) holds the chosen generation.",
        "選んだ世代を持つテープセット（カートリッジ）を確認します。",
        Some(cx.cmd(&format!("tape status --pool {pool}"))),
    );
    match mode {
        TapeMode::Library => {
            s.step(
                "If a cartridge of the set is outside the library (exported, off site), bring it back, put it in through the mail slot, and let hokan read the barcodes.",
                "セットのテープがライブラリの外（搬出・遠隔地）にあれば持ち帰り、メールスロットから入れて、hokan にバーコードを読ませます。",
                Some(cx.cmd(&format!("tape inventory --pool {pool}"))),
            );
        }
        TapeMode::SingleDrive => {
            s.step(
                "Fetch the cartridge from its place and insert it into the drive.",
                "テープを保管場所から持ってきて、ドライブに挿入します。",
                None,
            );
        }
    }
    s.owned(
        cx.tr(
            "Restore the generation from tape alone into the isolated folder (the passphrase or paper key is needed: see “Passphrase and paper key”).",
            "テープだけから、隔離した復元先へ世代を復元します（パスフレーズまたはペーパーキーが必要です。「パスフレーズとペーパーキー」参照）。",
        ),
        Some(cx.cmd(&format!("tape restore --pool {pool} {} --target {}", gen(cx), restore_dir(t)))),
    );
    let (en, ja, to) = match (mode, after) {
        (_, AfterJob::Eject) => (
            "Eject the cartridge, take it back to its place and record it.",
            "テープを排出し、保管場所へ戻して記録します。",
            "eject",
        ),
        (_, AfterJob::Export) => (
            "Move the cartridge to the mail slot, take it back to its place and record it.",
            "テープをメールスロットへ移し、保管場所へ戻して記録します。",
            "export",
        ),
        (_, AfterJob::Unload) => (
            "Make sure no cartridge stays in a drive (its copies would be online): move it back to its slot.",
            "テープがドライブに残っていないことを確認します（残るとオンラインになります）。スロットへ戻します。",
            "slot",
        ),
    };
    s.step(
        en,
        ja,
        Some(cx.cmd(&format!(
            "tape move --pool {pool} <{}> --to {to}",
            cx.tr("CARTRIDGE", "テープ")
        ))),
    );
    s.done()
}

fn disk(cx: &Cx<'_>, t: &Target, after: DiskAfterJob) -> Block {
    let pool = t.name.as_str();
    let mut s = Steps::new(cx);
    s.step(
        "Fetch the cartridge that holds the chosen generation from its place and insert it.",
        "選んだ世代を持つカートリッジを保管場所から持ってきて、挿入します。",
        None,
    );
    s.step(
        "See what the inserted cartridge holds.",
        "挿入したカートリッジが持つ世代を確認します。",
        Some(cx.cmd(&format!("disk status --pool {pool}"))),
    );
    s.owned(
        cx.tr(
            "Restore the generation from the cartridge alone into the isolated folder (passphrase or paper key needed).",
            "カートリッジだけから、隔離した復元先へ世代を復元します（パスフレーズまたはペーパーキーが必要）。",
        ),
        Some(cx.cmd(&format!("disk restore --pool {pool} {} --target {}", gen(cx), restore_dir(t)))),
    );
    let (en, ja) = match after {
        DiskAfterJob::Deactivate => (
            "Unmount and make the slot inactive again, and check that the network-segmentation attestation still holds.",
            "アンマウントしてスロットを非アクティブに戻し、ネットワーク構成分割の記録が有効であることを確認します。",
        ),
        _ => (
            "Unmount and eject the cartridge, take it back to its place and record it (`media move`).",
            "アンマウントして排出し、保管場所へ戻して記録します（`media move`）。",
        ),
    };
    s.step(en, ja, Some(cx.cmd(&format!("disk eject --pool {pool}"))));
    s.done()
}

fn s3(cx: &Cx<'_>, t: &Target) -> Block {
    let name = t.name.as_str();
    let mut s = Steps::new(cx);
    s.step(
        "On the isolated machine, put hokan.toml and the bucket's credentials (the secret key file it names); allow the network only towards the bucket's endpoint.",
        "隔離した機器に hokan.toml とバケットの認証情報（設定が指す秘密鍵ファイル）を置き、通信はバケットのエンドポイント宛てだけを許可します。",
        None,
    );
    s.step(
        "Check the bucket and its object lock (the locked objects cannot have been deleted or overwritten).",
        "バケットとオブジェクトロックを確認します（ロック中のオブジェクトは削除・上書きされていません）。",
        Some(cx.cmd(&format!("s3 check {name}"))),
    );
    s.step(
        "Restore the generation from the bucket alone into the isolated folder (passphrase or paper key needed).",
        "バケットだけから、隔離した復元先へ世代を復元します（パスフレーズまたはペーパーキーが必要）。",
        Some(cx.cmd(&format!("s3 restore {name} {} --target {}", gen(cx), restore_dir(t)))),
    );
    s.done()
}

fn vault(cx: &Cx<'_>, t: &Target) -> Block {
    let mut s = Steps::new(cx);
    let dir = "/var/lib/hokan-vault";
    s.step(
        "Work at the vault's own console (people in “Who is responsible”). Do not open its firewall: the vault is never reached over the network.",
        "保管サーバ自身のコンソールで作業します（「責任者と担当者」の担当者）。ファイアウォールは開けません。保管サーバへはネットワーク経由で接続しません。",
        None,
    );
    s.step(
        "List the generations the vault keeps, with their retention and its findings.",
        "保管サーバが持つ世代・保持期限・検出事項を確認します。",
        Some(format!("hokan vault --dir {dir} status")),
    );
    s.owned(
        cx.tr(
            "Restore the generation from the vault's own copy (the vault holds no key: give the passphrase or paper key), then carry the folder to the isolated machine on a clean medium.",
            "保管サーバ自身のコピーから世代を復元します（保管サーバは鍵を持たないため、パスフレーズまたはペーパーキーを与えます）。復元したフォルダは、未使用の媒体で隔離した機器へ運びます。",
        ),
        Some(format!(
            "hokan vault --dir {dir} restore {} --target {} --password-file <{}>",
            gen(cx),
            restore_dir(t),
            cx.tr("FILE", "ファイル")
        )),
    );
    s.done()
}

/// The passphrase and the paper key: where they are, how to use them.
pub(crate) fn keys(cx: &Cx<'_>) -> Section {
    let r = cx.d.site.roles();
    let keepers = if r.key_custodians.is_empty() {
        cx.blank("[roles] key_custodian")
    } else {
        Cell::text(r.key_custodians.join(cx.sep()))
    };
    let file = match cx.d.site.passphrase_file() {
        Some(p) => Cell::code(p.display().to_string()).small_line(cx.tr(
            "on the backup server: lost with it in an attack",
            "バックアップサーバ上にあり、攻撃を受けると失われます",
        )),
        None => Cell::text(cx.tr(
            "none: the passphrase is typed, or given in HOKAN_PASSPHRASE",
            "なし（入力するか、環境変数 HOKAN_PASSPHRASE で与えます）",
        )),
    };
    let mut blocks = vec![
        Block::Para(Cell::text(cx.tr(
            "Every backup is encrypted. No medium can be restored without the repository's passphrase or its paper key, and neither is kept on any backup medium. Losing both loses every backup.",
            "すべてのバックアップは暗号化されています。リポジトリのパスフレーズまたはペーパーキーがなければ、どの媒体からも復元できません。どちらもバックアップ媒体には保存されていません。両方を失うと全バックアップを失います。",
        ))),
        Block::Pairs(vec![
            (cx.tr("Kept by", "保管者"), keepers),
            (
                cx.tr("Where the sealed copies are kept", "封印した控えの保管場所"),
                cx.blank(&cx.tr("safe or vault, apart from the media", "媒体とは別の金庫など")),
            ),
            (cx.tr("Passphrase file of hokan.toml", "hokan.toml のパスフレーズファイル"), file),
        ]),
    ];
    let mut s = Steps::new(cx);
    s.step(
        "Once, and after every key change: print the paper key, seal it with the written passphrase, and keep it apart from the media.",
        "導入時と鍵を変更したとき：ペーパーキーを印刷し、書き留めたパスフレーズとともに封印して、媒体とは別の場所に保管します。",
        Some(cx.cmd("key export --paper")),
    );
    s.step(
        "At a restore, the keeper opens the seal and writes the passphrase into a file on the isolated machine (first line), used with --password-file.",
        "復元時：保管者が封を開け、隔離した機器でパスフレーズをファイル（1行目）に書き、--password-file で指定します。",
        Some(cx.cmd(&format!(
            "--password-file <{}> {}",
            cx.tr("FILE", "ファイル"),
            cx.tr("<restore command above>", "<上記の復元コマンド>")
        ))),
    );
    s.step(
        "Without the passphrase: type the paper key's K1..K4 lines into a file and give it with --paper-key instead.",
        "パスフレーズがないとき：ペーパーキーの K1〜K4 の行をファイルに入力し、代わりに --paper-key で指定します。",
        Some(cx.cmd(&format!(
            "--paper-key <{}> {}",
            cx.tr("FILE", "ファイル"),
            cx.tr("<restore command above>", "<上記の復元コマンド>")
        ))),
    );
    s.step(
        "After the restore, delete the file, seal the copies again, and record who opened them and when.",
        "復元後はそのファイルを削除し、控えを再び封印して、誰がいつ開封したかを記録します。",
        None,
    );
    blocks.push(s.done());
    Section {
        id: "keys",
        title: cx.tr("Passphrase and paper key", "パスフレーズとペーパーキー"),
        blocks,
    }
}
