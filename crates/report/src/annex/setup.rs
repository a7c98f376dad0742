//! What is backed up, how often, how, for how long, where, and by whom.

use std::collections::{BTreeMap, BTreeSet};

use hokan_catalog::MediumRow;
use hokan_offline::{Koban, ObservedBy, Verdict};
use hokan_site::{
    AfterJob, Allocation, Command, DiskAfterJob, OnFailure, Rotation, S3LockMode, TapeMode, Target,
    TargetKind,
};

use super::{definition, Cx};
use crate::doc::{Block, Cell, Section, Span, Table, Tone};
use crate::Lang;

/// Why this annex exists and what it covers.
pub(crate) fn purpose(cx: &Cx<'_>) -> Section {
    let d = cx.d;
    let name = d.site.name();
    let mut blocks = vec![Block::Para(Cell::text(match cx.lang {
        Lang::Ja => format!(
            "本別紙は、{name} の運用管理規程に基づき、医療情報システムのバックアップ運用（対象・頻度・媒体と方式・世代管理・保管場所・責任者・復旧手順・復旧訓練）を定めるものです。厚生労働省「医療機関におけるサイバーセキュリティ確保事業」（2024年）別添5「各媒体におけるオフライン状態の定義」の項番を用いて、各バックアップがオフラインとみなされる状態を示します。"
        ),
        Lang::En => format!(
            "This annex sets out, under the operations rulebook of {name}, how the medical information systems are backed up: what, how often, on which media and by which method, how many generations, where media are kept, who is responsible, how to restore and how restores are drilled. It uses the item numbers (項番) of the Ministry of Health, Labour and Welfare's definitions of the offline state per medium (「各媒体におけるオフライン状態の定義」, 2024) to state when each backup counts as offline."
        ),
    }))];
    let repo = d.site.repository();
    blocks.push(Block::Pairs(vec![
        (
            cx.tr("Backup software", "バックアップソフトウェア"),
            Cell::text(&d.program),
        ),
        (
            cx.tr("Primary repository", "一次リポジトリ"),
            Cell::code(repo.location.label()),
        ),
        (
            cx.tr(
                "Catalog (records of media, copies, drills)",
                "カタログ（媒体・コピー・訓練の記録）",
            ),
            Cell::code(d.site.catalog_path().display().to_string()),
        ),
        (
            cx.tr("How commands are run here", "この施設でのコマンドの形"),
            Cell::code(cx.cmd("…")),
        ),
    ]));
    Section {
        id: "purpose",
        title: cx.tr("Purpose and scope", "目的と適用範囲"),
        blocks,
    }
}

/// `[roles]`, or blanks and who must fill them in.
pub(crate) fn roles(cx: &Cx<'_>) -> Section {
    let r = cx.d.site.roles();
    let list =
        |v: &[String]| -> Option<Cell> { (!v.is_empty()).then(|| Cell::text(v.join(cx.sep()))) };
    let rows: [(String, Option<Cell>, &str); 4] = [
        (
            cx.tr(
                "Responsible for the backups",
                "バックアップ運用の管理責任者",
            ),
            r.responsible.as_ref().map(Cell::text),
            "responsible",
        ),
        (
            cx.tr(
                "Operators (nights, media, records)",
                "運用担当者（夜間ジョブ・媒体の移動・記録）",
            ),
            list(&r.operators),
            "operator",
        ),
        (
            cx.tr(
                "Keepers of the passphrase and paper key",
                "パスフレーズ・ペーパーキーの保管者",
            ),
            list(&r.key_custodians),
            "key_custodian",
        ),
        (
            cx.tr("Vault console", "保管サーバ（vault）のコンソール担当"),
            list(&r.vault_console),
            "vault_console",
        ),
    ];
    let has_vault = cx.d.site.vaults().next().is_some();
    let mut missing = Vec::new();
    let mut pairs = Vec::new();
    for (label, value, key) in rows {
        if key == "vault_console" && !has_vault && value.is_none() {
            continue;
        }
        match value {
            Some(v) => pairs.push((label, v)),
            None => {
                missing.push(key);
                pairs.push((label, cx.blank(&format!("[roles] {key}"))));
            }
        }
    }
    let mut blocks = vec![Block::Pairs(pairs)];
    if !missing.is_empty() {
        blocks.push(Block::Note(
            Tone::Warn,
            Cell(vec![Span::Strong(cx.tr(
                "Not set in hokan.toml:",
                "hokan.toml に未設定の項目があります：",
            ))])
            .then(cx.tr(" ", ""))
            .push(Span::Code(missing.join(", ")))
            .then(cx.tr(
                ". The person responsible for the security of the medical information systems (医療情報システム安全管理責任者), who owns this rulebook, must name these people: write them in the [roles] table of hokan.toml (see docs/configuration.md) and generate the annex again, or fill in the blanks by hand and sign.",
                "。本規程を所管する医療情報システム安全管理責任者が担当者を定め、hokan.toml の [roles] に記入して別紙を再生成するか（docs/configuration.md 参照）、空欄に手書きで記入・署名してください。",
            )),
        ));
    }
    Section {
        id: "roles",
        title: cx.tr("Who is responsible", "責任者と担当者"),
        blocks,
    }
}

/// A command line as written.
fn command_text(c: &Command) -> String {
    match c {
        Command::Argv(v) => v
            .iter()
            .map(|a| {
                if a.is_empty()
                    || a.chars()
                        .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
                {
                    format!("'{}'", a.replace('\'', "'\\''"))
                } else {
                    a.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        Command::Shell(s) => format!("sh -c '{}'", s.replace('\'', "'\\''")),
    }
}

/// The sources: paths, pre-backup commands, the generations they need.
pub(crate) fn sources(cx: &Cx<'_>) -> Section {
    let site = &cx.d.site;
    let mut blocks = Vec::new();
    if site.sources().is_empty() {
        blocks.push(Block::Note(
            Tone::Bad,
            Cell::text(cx.tr(
                "No [[source]] is configured: nothing is backed up.",
                "[[source]] が設定されていません。何もバックアップされません。",
            )),
        ));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Source", "対象"),
            cx.tr("Paths backed up", "バックアップするパス"),
            cx.tr("Before the backup", "バックアップ前の処理"),
            cx.tr("Offline generations required", "必要なオフライン世代"),
        ]);
        for s in site.sources() {
            let mut paths = Cell::empty();
            for p in &s.paths {
                paths = paths.line(Cell::code(p.display().to_string()));
            }
            let pre = match &s.pre_backup {
                None => Cell::text(cx.tr("none", "なし")),
                Some(p) => {
                    Cell::code(command_text(&p.command)).small_line(match (cx.lang, p.on_failure) {
                        (Lang::Ja, OnFailure::Abort) => format!(
                            "制限時間 {}。失敗したらこの対象はバックアップしない",
                            cx.span(p.timeout)
                        ),
                        (Lang::Ja, OnFailure::Continue) => format!(
                            "制限時間 {}。失敗してもバックアップし、その世代に失敗を記録",
                            cx.span(p.timeout)
                        ),
                        (Lang::En, OnFailure::Abort) => format!(
                            "time limit {}; on failure the source is not backed up",
                            cx.span(p.timeout)
                        ),
                        (Lang::En, OnFailure::Continue) => format!(
                            "time limit {}; on failure backed up anyway, the generation marked",
                            cx.span(p.timeout)
                        ),
                    })
                }
            };
            let n = cx.d.policy.min_offline_generations(&s.name);
            let age = cx.d.policy.max_newest_age(&s.name);
            let need = Cell::text(match cx.lang {
                Lang::Ja => format!("{n} 世代以上"),
                Lang::En => format!("at least {n}"),
            })
            .small_line(match cx.lang {
                Lang::Ja => format!("最新のオフライン世代は {} 以内", cx.span(age)),
                Lang::En => format!("the newest offline one at most {} old", cx.span(age)),
            });
            t.row(vec![Cell::code(s.name.as_str()), paths, pre, need]);
        }
        blocks.push(Block::Table(t));
    }
    Section {
        id: "sources",
        title: cx.tr("What is backed up", "バックアップの対象"),
        blocks,
    }
}

/// The command that copies to a target, as the night runs it.
pub(crate) fn copy_command(cx: &Cx<'_>, t: &Target) -> String {
    match &t.kind {
        TargetKind::TapePool(_) => cx.cmd(&format!("tape backup --pool {}", t.name)),
        TargetKind::DiskPool(_) => cx.cmd(&format!("disk backup --pool {}", t.name)),
        TargetKind::S3(_) => cx.cmd(&format!("copy --to s3:{}", t.name)),
        TargetKind::Vault(_) => "hokan vault pull".to_owned(),
    }
}

/// When the night runs and when each target gets its copy.
pub(crate) fn schedules(cx: &Cx<'_>) -> Section {
    let site = &cx.d.site;
    let night = match site.schedule() {
        Some(c) => Cell::code(c.to_string()).small_line(c.normalized()),
        None => Cell::rich(&cx.tr(
            "not set in hokan.toml ([site] schedule): the night runs when cron or a systemd timer runs `hokan run`",
            "hokan.toml に未設定（[site] schedule）。cron または systemd タイマーが `hokan run` を実行した時",
        )),
    };
    let mut pairs = vec![
        (
            cx.tr(
                "The night (backup, then copies)",
                "夜間ジョブ（バックアップとコピー）",
            ),
            night,
        ),
        (
            cx.tr("Run by", "実行方法"),
            Cell::code(cx.cmd("daemon")).small_line(cx.tr(
                "as a service; or hokan run from cron / a systemd timer",
                "サービスとして常駐。または cron・systemd タイマーから hokan run",
            )),
        ),
    ];
    if let Some(t) = site.expect_done_by() {
        pairs.push((
            cx.tr("Must be done by", "終了期限"),
            Cell::text(format!("{:02}:{:02}", t.hour(), t.minute())).small_line(cx.tr(
                "later, the people notified are told",
                "過ぎると通知先へ知らせます",
            )),
        ));
    }
    let mut blocks = vec![Block::Pairs(pairs)];
    let mut t = Table::new(vec![
        cx.tr("Target", "保管先"),
        cx.tr("When its copy is made", "コピーの頻度"),
        cx.tr("Step of the night", "夜間ジョブの手順"),
    ]);
    for target in site.targets() {
        let when = match (&target.kind, &target.schedule) {
            (TargetKind::Vault(_), _) => Cell::text(cx.tr(
                "the vault pulls on its own schedule (vault.toml pull_every_minutes); the primary never connects to it",
                "保管サーバが自身の間隔（vault.toml の pull_every_minutes）で取得します。一次サーバからは接続しません",
            )),
            (_, Some(c)) => Cell::code(c.to_string()).small_line(c.normalized()),
            (_, None) => Cell::text(cx.tr("every night", "毎夜（夜間ジョブのたび）")),
        };
        t.row(vec![
            Cell::code(target.name.as_str()),
            when,
            Cell::code(copy_command(cx, target)),
        ]);
    }
    if site.targets().is_empty() {
        blocks.push(Block::Note(
            Tone::Bad,
            Cell::text(cx.tr(
                "No offline target is configured: no copy can be offline.",
                "オフラインの保管先が設定されていません。",
            )),
        ));
    } else {
        blocks.push(Block::Table(t));
    }
    Section {
        id: "schedules",
        title: cx.tr("How often", "バックアップの頻度"),
        blocks,
    }
}

/// How a target's copies become offline, in words.
pub(crate) fn offline_method(cx: &Cx<'_>, t: &Target) -> String {
    let ja = cx.ja();
    let s = |en: &str, jp: &str| if ja { jp.to_owned() } else { en.to_owned() };
    match &t.kind {
        TargetKind::TapePool(p) => match (p.mode, p.after_job) {
            (_, AfterJob::Eject) => s(
                "When the job ends hokan ejects the cartridge from the drive; the operator takes it to its place and records it (`media move`).",
                "ジョブ終了時に hokan がテープをドライブから排出します。担当者が保管場所へ移し、`media move` で記録します。",
            ),
            (_, AfterJob::Unload) => s(
                "When the job ends hokan moves the cartridge from the drive back to its library slot; hokan asks the library where every cartridge is and records it.",
                "ジョブ終了時に hokan がテープをドライブからライブラリのスロットへ戻します。所在は hokan がライブラリに問い合わせて記録します。",
            ),
            (TapeMode::Library | TapeMode::SingleDrive, AfterJob::Export) => s(
                "When the job ends hokan moves the cartridge to the library's mail slot; the operator takes it out to its place and records it (`media move`).",
                "ジョブ終了時に hokan がテープをメールスロットへ移します。担当者が取り出して保管場所へ移し、`media move` で記録します。",
            ),
        },
        TargetKind::DiskPool(p) => match p.after_job {
            DiskAfterJob::Eject => s(
                "When the job ends hokan unmounts and ejects the cartridge; the operator takes it to its place and records it (`media move`).",
                "ジョブ終了時に hokan がアンマウントして排出します。担当者が保管場所へ移し、`media move` で記録します。",
            ),
            DiskAfterJob::Deactivate => s(
                "When the job ends hokan unmounts the cartridge and makes its slot inactive; the network segmentation is attested (`attest network-segmented`) and renewed before it runs out.",
                "ジョブ終了時に hokan がアンマウントしてスロットを非アクティブにします。ネットワークの構成分割は `attest network-segmented` で記録し、期限前に更新します。",
            ),
            DiskAfterJob::Export => s(
                "When the job ends hokan unmounts the cartridge and moves it out of the autoloader; the operator takes it to its place and records it.",
                "ジョブ終了時に hokan がアンマウントしてオートローダーから搬出します。担当者が保管場所へ移し、記録します。",
            ),
            DiskAfterJob::Unmount => s(
                "When the job ends hokan only unmounts: the copy is online until the operator takes the disk away and records it (`media move`).",
                "ジョブ終了時はアンマウントのみです。担当者がディスクを外して `media move` で記録するまで、オンラインのままです。",
            ),
        },
        TargetKind::S3(b) => {
            let mode = match (b.lock_mode, ja) {
                (S3LockMode::Compliance, true) => "コンプライアンスモード（誰も短縮・解除できない）",
                (S3LockMode::Compliance, false) => "compliance mode (nobody can shorten or remove it)",
                (S3LockMode::Governance, true) => "ガバナンスモード（特権ユーザーは解除できるため弱い）",
                (S3LockMode::Governance, false) => "governance mode (a privileged user can bypass it: weaker)",
            };
            if ja {
                format!("バケット {} の各オブジェクトにオブジェクトロック（{mode}）を {} 付け、夜間ジョブがロックを延長します（s3 extend-locks）。", b.connection.bucket, cx.span(t.retention))
            } else {
                format!("Every object in bucket {} carries an object lock in {mode} for {}; the night extends the locks (s3 extend-locks).", b.connection.bucket, cx.span(t.retention))
            }
        }
        TargetKind::Vault(v) => {
            let listen = &cx.d.site.serve().listen;
            if ja {
                format!("保管サーバが一次サーバの読み取り専用の公開口（hokan serve、{listen}）から取得（プル）し、変更不可フラグで保管、署名した受領書を返します。一次サーバから保管サーバへは接続しません。保管サーバへ向かう通信はファイアウォール（hokan vault firewall）で遮断します。受領書が {} より古くなると、そのコピーは数えません。", cx.span(v.fresh_for))
            } else {
                format!("The vault pulls from the primary's read-only export (hokan serve, {listen}), keeps objects under immutable flags and returns signed receipts. The primary never connects to it; a firewall (hokan vault firewall) blocks all traffic towards it. With no receipt newer than {}, its copies do not count.", cx.span(v.fresh_for))
            }
        }
    }
}

/// The media of a pool, from the catalog.
pub(crate) fn media_of<'a>(cx: &'a Cx<'_>, pool: &str) -> Vec<&'a MediumRow> {
    cx.d.media
        .iter()
        .filter(|m| m.pool.as_ref().is_some_and(|p| p.as_str() == pool))
        .collect()
}

/// Generations of this target that count as offline now, by 項番.
fn offline_now(cx: &Cx<'_>, pool: &str) -> BTreeMap<Koban, BTreeSet<String>> {
    let ev = &cx.d.evaluation;
    let mut out: BTreeMap<Koban, BTreeSet<String>> = BTreeMap::new();
    for c in &ev.copies {
        let in_pool = ev
            .media
            .iter()
            .find(|m| m.id == c.medium)
            .and_then(|m| m.pool.as_ref())
            .is_some_and(|p| p.as_str() == pool);
        if !in_pool || c.excluded.is_some() {
            continue;
        }
        if let (Verdict::Offline { .. }, Some(k)) = (&c.verdict, c.verdict.koban()) {
            out.entry(k).or_default().insert(c.snapshot.to_string());
        }
    }
    out
}

/// Which methods and 項番, with the definitions' wording.
pub(crate) fn methods(cx: &Cx<'_>) -> Section {
    let site = &cx.d.site;
    let mut blocks = vec![Block::Para(Cell::text(cx.tr(
        "Each target, the item number (項番) under which its copies are meant to count as offline, and how that state is reached. The last column is the evaluator's answer when this annex was generated (distinct generations that count now).",
        "保管先ごとに、コピーがオフラインとみなされる項番と、その状態にする方法を示します。最後の列は本別紙の作成時点での判定（現在オフラインとみなされる世代の数）です。",
    )))];
    let mut used: BTreeSet<Koban> = BTreeSet::new();
    // The target's name and kind share a column: alone, a short name beside
    // long sentences gets a column too narrow for it.
    let mut t = Table::new(vec![
        cx.tr("Target: medium and method", "保管先：媒体・方式"),
        cx.tr("項番", "項番"),
        cx.tr(
            "How the offline state is reached",
            "オフライン状態にする方法",
        ),
        cx.tr("When generated", "作成時点"),
    ]);
    for target in site.targets() {
        let mut kobans = target.koban();
        kobans.sort();
        used.extend(kobans.iter().copied());
        let mut kind = Cell::code(target.name.as_str()).line(Cell::text(cx.kind(target)));
        if cx.simulated(target) {
            kind = kind.line(Cell::badge(Tone::Warn, cx.tr("SIMULATED", "模擬装置")));
        }
        let now = offline_now(cx, target.name.as_str());
        let now_cell = if now.is_empty() {
            Cell::badge(Tone::Warn, cx.tr("△ none counts now", "△ 該当なし"))
        } else {
            let parts: Vec<String> = now
                .iter()
                .map(|(k, gens)| match cx.lang {
                    Lang::Ja => format!("{k}：{} 世代", gens.len()),
                    Lang::En => format!(
                        "{k}: {} generation{}",
                        gens.len(),
                        if gens.len() == 1 { "" } else { "s" }
                    ),
                })
                .collect();
            Cell::text(parts.join(cx.sep()))
        };
        t.row(vec![
            kind,
            Cell::text(
                kobans
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(cx.sep()),
            ),
            Cell::rich(&offline_method(cx, target)),
            now_cell,
        ]);
    }
    blocks.push(Block::Table(t));
    if !used.is_empty() {
        blocks.push(Block::Sub(cx.tr(
            "The item numbers used here (definitions, in short)",
            "本施設で用いる項番（定義の要旨）",
        )));
        let mut d = Table::new(vec![
            cx.tr("項番", "項番"),
            cx.tr("Counts as offline when", "オフラインとみなされる状態"),
        ]);
        for k in used {
            d.row(vec![
                Cell::text(k.as_str()),
                Cell::text(cx.pick(&definition(k))),
            ]);
        }
        blocks.push(Block::Table(d));
        blocks.push(Block::Para(Cell(vec![Span::Small(cx.tr(
            "Source: Ministry of Health, Labour and Welfare, 「医療機関におけるサイバーセキュリティ確保事業」 (2024), attachment 5 「各媒体におけるオフライン状態の定義」. Premise of every pattern: several generations of backups are rotated.",
            "出典：厚生労働省「医療機関におけるサイバーセキュリティ確保事業」（2024年）別添5「各媒体におけるオフライン状態の定義」。いずれも、複数世代のバックアップがローテートされる運用が前提です。",
        ))])));
    }
    Section {
        id: "methods",
        title: cx.tr("Media, methods and 項番", "媒体・方式と項番"),
        blocks,
    }
}

/// Generations kept, retention and rotation per target.
pub(crate) fn generations(cx: &Cx<'_>) -> Section {
    let site = &cx.d.site;
    let ps = site.policy_settings();
    let mut blocks = vec![Block::Pairs(vec![
        (
            cx.tr(
                "Offline generations kept (site)",
                "保持するオフライン世代（施設全体）",
            ),
            Cell::text(match cx.lang {
                Lang::Ja => format!("{} 世代以上", ps.min_offline_generations),
                Lang::En => format!("at least {}", ps.min_offline_generations),
            }),
        ),
        (
            cx.tr(
                "Newest offline generation at most",
                "最新のオフライン世代の経過",
            ),
            Cell::text(cx.span(ps.max_newest_age)),
        ),
    ])];
    let mut t = Table::new(vec![
        cx.tr("Target", "保管先"),
        cx.tr("Kept for", "保持期間"),
        cx.tr("Rotation", "ローテーション"),
        cx.tr("Media in rotation", "ローテーションする媒体"),
    ]);
    for target in site.targets() {
        let rotation = rotation_text(cx, target);
        let mut names: Vec<String> = match &target.kind {
            TargetKind::DiskPool(p) => p.cartridges.clone(),
            _ => Vec::new(),
        };
        for m in media_of(cx, target.name.as_str()) {
            if !names.iter().any(|n| n == m.id.as_str()) {
                names.push(m.id.to_string());
            }
        }
        let media = if names.is_empty() {
            Cell(vec![Span::Small(cx.tr("none registered yet", "未登録"))])
        } else {
            Cell::code(names.join(" "))
        };
        t.row(vec![
            Cell::code(target.name.as_str()),
            Cell::text(cx.span(target.retention)),
            Cell::text(rotation),
            media,
        ]);
    }
    blocks.push(Block::Table(t));
    blocks.push(Block::Para(Cell::text(cx.tr(
        "A medium is not overwritten while its retention runs: hokan refuses to label, format or reuse it before then.",
        "保持期間中の媒体は上書きしません。hokan はその間、ラベル付け・フォーマット・再利用を拒否します。",
    ))));
    Section {
        id: "generations",
        title: cx.tr("Generations and rotation", "世代管理とローテーション"),
        blocks,
    }
}

fn rotation_text(cx: &Cx<'_>, t: &Target) -> String {
    let ja = cx.ja();
    let s = |en: &str, jp: &str| if ja { jp.to_owned() } else { en.to_owned() };
    match &t.kind {
        TargetKind::TapePool(p) => match p.allocation {
            Allocation::Weekday => s(
                "one cartridge set per weekday",
                "曜日ごとに別のテープセット",
            ),
            Allocation::Weekly => s("one cartridge set per week", "週ごとに別のテープセット"),
            Allocation::Continue => s(
                "appends to the current cartridge until full, then the next free one",
                "満杯になるまで同じテープに追記し、次の空きテープへ",
            ),
        },
        TargetKind::DiskPool(p) => match p.rotation {
            Rotation::Weekday => s(
                "the weekday's cartridge (Mon = first)",
                "曜日ごとのカートリッジ（月曜が1本目）",
            ),
            Rotation::Weekly => s(
                "the week's cartridge (ISO week)",
                "週ごとのカートリッジ（ISO週番号）",
            ),
            Rotation::Any => s(
                "whichever cartridge of the pool is inserted; the operator swaps them",
                "挿入されているプールのカートリッジ。担当者が差し替えます",
            ),
        },
        TargetKind::S3(_) => s(
            "every generation in the bucket; objects expire after their lock",
            "全世代をバケットに保管。ロック期限後に削除可能",
        ),
        TargetKind::Vault(_) => s(
            "every generation pulled; the vault expires them itself after retention",
            "取得した全世代。保持期間後は保管サーバ自身が期限切れにします",
        ),
    }
}

/// Where a store (a bucket, a vault) is: it is not carried, so no person
/// records its place; `None` for carried media.
pub(crate) fn store_place(cx: &Cx<'_>, t: &Target) -> Option<String> {
    match &t.kind {
        TargetKind::S3(b) => {
            let at = b
                .connection
                .endpoint
                .clone()
                .unwrap_or_else(|| format!("AWS {}", b.connection.region));
            Some(match cx.lang {
                Lang::Ja => format!("バケット {}（{at}）", b.connection.bucket),
                Lang::En => format!("bucket {} ({at})", b.connection.bucket),
            })
        }
        TargetKind::Vault(v) => Some(match (cx.lang, &v.address) {
            (Lang::Ja, Some(a)) => format!("保管サーバ {a}（別の機器）"),
            (Lang::Ja, None) => "保管サーバ（別の機器。所在は hokan.toml に未記入）".to_owned(),
            (Lang::En, Some(a)) => format!("vault server {a} (another machine)"),
            (Lang::En, None) => {
                "vault server (another machine; no address in hokan.toml)".to_owned()
            }
        }),
        _ => None,
    }
}

fn observer(cx: &Cx<'_>, by: &ObservedBy) -> String {
    match (by, cx.lang) {
        (ObservedBy::Device { device }, Lang::Ja) => format!("装置 {device}"),
        (ObservedBy::Device { device }, Lang::En) => format!("device {device}"),
        (ObservedBy::Person { person }, _) => person.to_string(),
    }
}

/// Where each medium is kept, from the catalog.
pub(crate) fn locations(cx: &Cx<'_>) -> Section {
    let mut blocks = Vec::new();
    if cx.d.media.is_empty() {
        blocks.push(Block::Note(
            Tone::Warn,
            Cell::text(cx.tr(
                "No medium is registered in the catalog yet.",
                "カタログに媒体がまだ登録されていません。",
            )),
        ));
    } else {
        let mut t = Table::new(vec![
            cx.tr("Medium", "媒体"),
            cx.tr("Target", "保管先"),
            cx.tr("Where it is (last record)", "保管場所（最新の記録）"),
            cx.tr("Recorded", "記録"),
            cx.tr("Copies", "コピー"),
        ]);
        for m in &cx.d.media {
            let Some(target) = m.pool.as_ref().and_then(|p| cx.d.site.target(p.as_str())) else {
                continue;
            };
            let (place, rec) = match &m.location {
                Some(o) => {
                    let mut place = Cell::text(cx.pick(&o.location.describe()));
                    if let Some(n) = &o.note {
                        place = place.small_line(n.clone());
                    }
                    (
                        place,
                        Cell::text(cx.when(o.at)).small_line(observer(cx, &o.by)),
                    )
                }
                None => match store_place(cx, target) {
                    Some(place) => (Cell::text(place), Cell::empty()),
                    None => (
                        Cell::badge(Tone::Warn, cx.tr("never recorded", "記録なし")),
                        Cell::empty(),
                    ),
                },
            };
            t.row(vec![
                Cell::code(m.id.as_str()),
                Cell::code(m.pool.as_ref().map_or("—".to_owned(), |p| p.to_string())),
                place,
                rec,
                Cell::text(m.copies.to_string()),
            ]);
        }
        blocks.push(Block::Table(t));
    }
    blocks.push(Block::Para(Cell::text(cx.tr(
        "Whoever moves a medium records it at once, with their name:",
        "媒体を移した人は、すぐに氏名とともに記録します：",
    ))));
    blocks.push(Block::Para(Cell::code(cx.cmd(&format!(
        "media move <{}> --to <{}> --by <{}>",
        cx.tr("MEDIUM", "媒体"),
        cx.tr("PLACE", "場所"),
        cx.tr("NAME", "氏名")
    )))));
    Section {
        id: "locations",
        title: cx.tr("Where media are kept", "媒体の保管場所"),
        blocks,
    }
}
