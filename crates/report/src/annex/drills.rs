//! Restore drills per kind of medium, the text the 加算1 filing asks for,
//! and the annex's version and sign-off.

use super::Cx;
use crate::content::records::verification_title;
use crate::doc::{Block, Cell, Section, Table};
use crate::drills::{Class, DrillFacts};
use crate::Lang;

/// The drill schedule and the last result per kind of medium and source,
/// the same table the report shows.
pub(crate) fn drills(cx: &Cx<'_>) -> Section {
    let d = cx.d;
    let mut blocks = vec![Block::Para(Cell::text(cx.tr(
        "At least once a year for each kind of medium in use (tape, disk, cloud, vault), a chosen generation is restored from that medium alone into an isolated folder with hokan drill, every file is checked and the source's application check is run; the time taken, the throughput and the projected time to restore the whole source are recorded in the catalog (診療録管理体制加算1 asks for a drill at least once a year). The projected time is compared with each source's recovery-time target (rto in hokan.toml). The table below is from the catalog.",
        "使用している媒体の種類（テープ・ディスク・クラウド・保管サーバ）ごとに年1回以上、hokan drill で選んだ世代をその媒体だけから隔離したフォルダへ復元し、全ファイルを照合してアプリケーションの確認を行い、所要時間・転送速度・バックアップ対象全体の復元見込み時間をカタログに記録します（診療録管理体制加算1 では年1回以上の訓練が求められます）。復元見込み時間は対象ごとの目標復旧時間（hokan.toml の rto）と比べます。下表はカタログの記録です。",
    )))];
    // Targets whose drills the night runs by themselves (`drill_schedule`),
    // then the month a person drills the others in.
    let mut pairs: Vec<(String, Cell)> = d
        .site
        .targets()
        .iter()
        .filter_map(|t| {
            let c = t.drill_schedule.as_ref()?;
            Some((
                format!("{} {}", cx.tr("Drilled automatically:", "自動で訓練:"), t.name),
                Cell::text(format!(
                    "{} ({}) — {}",
                    c,
                    c.normalized(),
                    cx.tr(
                        "the night runs hokan drill --medium when it is due (drill_schedule in hokan.toml)",
                        "予定を過ぎると夜間ジョブが hokan drill --medium を実行します（hokan.toml の drill_schedule）"
                    )
                )),
            ))
        })
        .collect();
    pairs.push((
        cx.tr("Month(s) of the yearly drill", "年次訓練の実施月"),
        cx.blank(&cx.tr("month", "月")),
    ));
    blocks.push(Block::Pairs(pairs));
    let mut facts = DrillFacts::new(
        cx.lang,
        (d.generated_at, d.offset),
        &d.evaluation,
        &d.media,
        &d.drills,
    );
    facts.targets = d
        .site
        .targets()
        .iter()
        .filter_map(|t| Some((Class::of(t.medium_kind())?, t.name.to_string())))
        .collect();
    blocks.push(Block::Table(facts.table()));
    Section {
        id: "drills",
        title: cx.tr("Restore drills", "復旧訓練"),
        blocks,
    }
}

/// The product's functions and the emergency recovery method, in the
/// words the 診療録管理体制加算1 filing asks for.
pub(crate) fn filing(cx: &Cx<'_>) -> Section {
    let site = &cx.d.site;
    let sources: Vec<String> = site.source_names().map(str::to_owned).collect();
    let mut methods: Vec<String> = Vec::new();
    let mut offline: Vec<String> = Vec::new();
    for t in site.targets() {
        let kind = cx.kind(t);
        if !methods.contains(&kind) {
            methods.push(kind.clone());
        }
        let kob: Vec<&str> = t.koban().iter().map(|k| k.as_str()).collect();
        offline.push(format!("{}（{}）", t.name, kob.join("・")));
    }
    let n = site.policy_settings().min_offline_generations;
    let program = &cx.d.program;
    let functions = match cx.lang {
        Lang::Ja => format!(
            "{program} は、バックアップ対象（{}）を夜間に自動で取得し、重複排除・圧縮・暗号化した多世代のバックアップとして保存する。保存したバックアップを {} 種類の方式（{}）で複数の媒体へ複製し、各コピーが厚生労働省「各媒体におけるオフライン状態の定義」のどの項番でオフラインとみなされるかを、媒体の所在・ロック・受領書から判定する。オフラインの世代が {n} 世代に満たないとき、媒体がオンラインに戻ったとき、保持期限が近いときは警告・通知する。判定と記録は改ざんを検知できるカタログ（ハッシュ連鎖）に保存し、報告書（オフラインバックアップ状態確認報告書）として出力する。",
            sources.join("、"),
            methods.len(),
            methods.join("、")
        ),
        Lang::En => format!(
            "{program} backs up the sources ({}) automatically every night into deduplicated, compressed, encrypted backups of several generations. It copies them by {} method{} ({}) to several media, and judges from where each medium is, its lock or its receipts under which item number of the MHLW offline definitions each copy counts as offline. It warns and notifies when fewer than {n} offline generations remain, when a medium comes back online, or when a retention is about to end. Its judgements and records are kept in a tamper-evident catalog (a hash chain) and printed as the offline backup status report.",
            sources.join(", "),
            methods.len(),
            if methods.len() == 1 { "" } else { "s" },
            methods.join(", ")
        ),
    };
    let recovery = match cx.lang {
        Lang::Ja => format!(
            "非常時には、感染・障害の前に取得された世代を選び、オフラインの保管先（{}）のいずれか一つから、一次リポジトリやバックアップサーバを用いずに、ネットワークから隔離した環境へ復元する。復元したデータを検査・確認したうえで、管理責任者の承認を得て本番環境へ戻す。手順は本別紙「復旧の順序」「媒体別の復旧手順」「パスフレーズとペーパーキー」に定める。",
            offline.join("、")
        ),
        Lang::En => format!(
            "In an emergency, a generation taken before the infection or failure is chosen and restored from any one of the offline targets ({}), without the primary repository or the backup server, into an environment isolated from the network. The restored data is checked and, with the approval of the person responsible, put back into service. The steps are in this annex: “Recovery: the order”, “Recovery from each medium” and “Passphrase and paper key”.",
            offline.join(", ")
        ),
    };
    let blocks = vec![
        Block::Para(Cell::text(cx.tr(
            "The filing for 診療録管理体制加算1 must describe, in the operations rulebook or a contract, the functions of the backup product and the emergency recovery method. The following may be quoted as they stand.",
            "診療録管理体制加算1 の届出では、バックアップ製品の機能と非常時の復旧方法を運用管理規程または契約書に記載することが求められます。以下はそのまま引用できます。",
        ))),
        Block::Pairs(vec![
            (cx.tr("Functions of the product", "製品の機能"), Cell::text(functions)),
            (
                cx.tr("Backups by several methods, part of them offline", "複数の方式によるバックアップ（一部オフライン）"),
                Cell::text(offline.join(cx.sep())),
            ),
            (cx.tr("Emergency recovery method", "非常時の復旧方法"), Cell::text(recovery)),
            (
                cx.tr("Restore drills", "復旧訓練"),
                Cell::text(match cx.lang {
                    Lang::Ja => format!(
                        "媒体の種類ごとに年1回以上実施し、カタログに記録して報告書（オフラインバックアップ状態確認報告書）の「{}」の節に記載する。",
                        verification_title(cx.lang)
                    ),
                    Lang::En => format!(
                        "At least once a year for each kind of medium, recorded in the catalog and shown on the offline backup status report (section “{}”).",
                        verification_title(cx.lang)
                    ),
                }),
            ),
        ]),
    ];
    Section {
        id: "filing",
        title: cx.tr(
            "For the 診療録管理体制加算1 filing",
            "診療録管理体制加算1 の届出に記載する事項",
        ),
        blocks,
    }
}

/// Version, head, how to check and re-make it, sign-off.
pub(crate) fn revision(cx: &Cx<'_>) -> Section {
    let d = cx.d;
    let head = format!("{}:{}", d.head.seq, d.head.hash);
    let mut blocks = vec![Block::Pairs(vec![
        (cx.tr("Version", "版"), Cell::text(d.version(cx.lang))),
        (
            cx.tr("Generated on", "作成日"),
            Cell::text(cx.day(d.generated_at)),
        ),
        (cx.tr("Catalog head", "カタログ先頭"), Cell::code(&head)),
        (
            cx.tr(
                "Check that the catalog still holds this head",
                "カタログがこの先頭を含むことの確認",
            ),
            Cell::code(cx.cmd(&format!("catalog verify --expect {head}"))),
        ),
        (
            cx.tr("Generate again", "再生成"),
            Cell::code(cx.cmd(&format!(
                "annex --lang {} --format html -o annex.html",
                if cx.ja() { "ja" } else { "en" }
            ))),
        ),
    ])];
    let mut t = Table::new(vec![
        cx.tr("Role", "役割"),
        cx.tr("Name", "氏名"),
        cx.tr("Signature", "署名"),
        cx.tr("Date", "日付"),
    ]);
    for (en, ja) in [("Prepared by", "作成"), ("Approved by", "承認")] {
        t.row(vec![
            Cell::text(cx.tr(en, ja)),
            Cell::empty(),
            Cell::empty(),
            Cell::empty(),
        ]);
    }
    blocks.push(Block::Table(t));
    Section {
        id: "revision",
        title: cx.tr("Version and approval", "版と承認"),
        blocks,
    }
}
