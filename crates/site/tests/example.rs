//! The documented example, the defaults, the policy handed to the
//! evaluator, and `describe` in both languages.

use std::path::{Path, PathBuf};

use hokan_offline::{Koban, MediumKind, PoolName, SourceName};
use hokan_site::*;
use time::{Duration, UtcOffset};

const EXAMPLE: &str = include_str!("../../../docs/hokan.example.toml");

fn example() -> Site {
    parse(EXAMPLE, Path::new("/etc/hokan/hokan.toml")).unwrap()
}

const MINIMAL: &str = r#"
[site]
name = "○○総合病院"

[repository]
path = "repo"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]
"#;

fn minimal() -> Site {
    parse(MINIMAL, Path::new("/etc/hokan/hokan.toml")).unwrap()
}

#[test]
fn the_example_parses_with_every_value() {
    let site = example();
    assert_eq!(site.name(), "○○総合病院");
    assert_eq!(site.timezone(), Some(UtcOffset::from_hms(9, 0, 0).unwrap()));
    assert_eq!(site.catalog_path(), Path::new("/etc/hokan/catalog.db"));
    assert_eq!(
        site.repository_location().folder(),
        Some(Path::new("/srv/hokan/repo"))
    );
    assert_eq!(
        site.passphrase_file(),
        Some(Path::new("/etc/hokan/passphrase"))
    );
    assert_eq!(site.source_names().collect::<Vec<_>>(), ["emr", "files"]);

    let emr = &site.sources()[0];
    assert_eq!(emr.paths, [PathBuf::from("/srv/emr/data")]);
    let pre = emr.pre_backup.as_ref().unwrap();
    assert_eq!(
        pre.command,
        Command::Argv(vec![
            "/usr/local/bin/emr-dump".into(),
            "--out".into(),
            "/srv/emr/dump".into()
        ])
    );
    assert_eq!(pre.timeout, Duration::minutes(30));
    assert_eq!(pre.on_failure, OnFailure::Abort);
    assert_eq!(emr.policy.min_offline_generations, Some(4));
    assert_eq!(emr.policy.max_newest_age, Some(Duration::days(3)));
    assert_eq!(site.sources()[1].pre_backup, None);
    assert_eq!(emr.rto, Some(Duration::hours(24)));
    let drill = emr.drill.as_ref().unwrap();
    assert_eq!(
        drill.check,
        Command::Argv(vec![
            "pg_restore".into(),
            "--list".into(),
            "{target}/data/emr.dump".into()
        ])
    );
    assert_eq!(drill.timeout, Duration::minutes(10));
    assert_eq!(site.sources()[1].rto, None);
    assert_eq!(site.policy_settings().drill_every, Duration::days(365));

    let names: Vec<&str> = site.targets().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["weekday", "rdx", "cloud", "vault1"]);
    let TargetKind::TapePool(tape) = &site.target("weekday").unwrap().kind else {
        panic!("weekday is a tape pool");
    };
    assert_eq!(
        (tape.mode, tape.after_job, tape.allocation),
        (TapeMode::Library, AfterJob::Unload, Allocation::Weekday)
    );
    assert_eq!(tape.device.as_deref(), Some("/dev/nst0"));
    let TargetKind::S3(s3) = &site.target("cloud").unwrap().kind else {
        panic!("cloud is an S3 bucket");
    };
    assert_eq!(s3.connection.bucket, "hospital-backup");
    assert_eq!(s3.lock_mode, S3LockMode::Compliance);
    assert!(!s3.allow_unlocked);
    assert_eq!(site.target("vault1").unwrap().retention, Duration::days(90));
    let notify: Vec<&str> = site.notify().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(notify, ["it-mail", "siem"]);
}

#[test]
fn the_example_file_loads_from_disk() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/hokan.example.toml");
    let site = load(&path).unwrap();
    // The relative catalog resolves beside the file, not the working directory.
    assert_eq!(
        site.catalog_path(),
        path.parent().unwrap().join("catalog.db")
    );
}

#[test]
fn defaults_fill_what_is_left_out() {
    let site = minimal();
    assert_eq!(site.timezone(), None);
    assert_eq!(
        site.catalog_path(),
        Path::new("/etc/hokan/hokan-catalog.db"),
        "the default catalog sits beside the config"
    );
    assert_eq!(
        site.repository_location().folder(),
        Some(Path::new("/etc/hokan/repo"))
    );
    assert_eq!(site.passphrase_file(), None);
    assert!(site.targets().is_empty());
    let p = site.policy_settings();
    assert_eq!(p.min_offline_generations, 3);
    assert_eq!(p.max_newest_age, Duration::days(7));
    assert_eq!(p.warning_horizon, Duration::days(14));
    assert_eq!(p.max_person_location_age, Duration::days(92));
    assert_eq!(
        p.defaults,
        [
            "min_offline_generations",
            "max_newest_age",
            "warning_horizon",
            "max_person_location_age",
            "drill_every"
        ]
    );

    let text = format!(
        "{MINIMAL}{}",
        r#"
[source.pre_backup]
command = "pg_dump emr > /srv/emr/dump.sql"

[[tape_pool]]
name = "single"
mode = "single-drive"
retention = "7d"

[[tape_pool]]
name = "library"
mode = "library"
retention = "7d"

[[s3]]
name = "cloud"
region = "us-east-1"
bucket = "b"
retention = "30d"
"#
    );
    let site = parse(&text, Path::new("/etc/hokan/hokan.toml")).unwrap();
    let pre = site.sources()[0].pre_backup.as_ref().unwrap();
    assert_eq!(
        pre.command,
        Command::Shell("pg_dump emr > /srv/emr/dump.sql".into()),
        "a string stays a shell command"
    );
    assert_eq!(pre.timeout, DEFAULT_PRE_BACKUP_TIMEOUT);
    assert_eq!(pre.timeout, Duration::hours(1));
    assert_eq!(pre.on_failure, OnFailure::Abort);
    let after = |name: &str| match &site.target(name).unwrap().kind {
        TargetKind::TapePool(t) => (t.after_job, t.allocation),
        _ => unreachable!(),
    };
    assert_eq!(after("single"), (AfterJob::Eject, Allocation::Continue));
    assert_eq!(after("library"), (AfterJob::Unload, Allocation::Continue));
    let TargetKind::S3(s3) = &site.target("cloud").unwrap().kind else {
        unreachable!()
    };
    assert_eq!(
        (
            s3.connection.endpoint.as_deref(),
            s3.connection.path_style,
            s3.lock_mode,
            s3.allow_unlocked
        ),
        (None, false, S3LockMode::Compliance, false)
    );
}

#[test]
fn the_policy_carries_the_files_values() {
    let site = example();
    let policy = site.policy().unwrap();
    let emr = SourceName::from("emr");
    let files = SourceName::from("files");
    assert_eq!(policy.min_offline_generations(&emr), 4, "the source's own");
    assert_eq!(policy.min_offline_generations(&files), 3, "the site's");
    assert_eq!(policy.max_newest_age(&emr), Duration::days(3));
    assert_eq!(policy.max_newest_age(&files), Duration::days(7));
    assert_eq!(policy.warning_horizon(), Duration::days(14));
    assert_eq!(policy.max_person_location_age(), Duration::days(92));
    assert_eq!(
        policy.pool_retention(&PoolName::from("weekday")),
        Some(Duration::days(28))
    );
    assert_eq!(
        policy.pool_retention(&PoolName::from("cloud")),
        Some(Duration::days(30))
    );
    assert_eq!(policy.pool_retention(&PoolName::from("nowhere")), None);

    let options = site.policy_options();
    assert_eq!(options.pool_retention.len(), 4);
    assert_eq!(
        options.sources.keys().collect::<Vec<_>>(),
        [&emr],
        "only sources with overrides"
    );

    let text = EXAMPLE.replace("min_offline_generations = 3", "min_offline_generations = 5");
    let site = parse(&text, Path::new("/etc/hokan/hokan.toml")).unwrap();
    let policy = site.policy().unwrap();
    assert_eq!(policy.min_offline_generations(&files), 5);
    assert_eq!(policy.min_offline_generations(&emr), 4);
}

#[test]
fn each_target_maps_to_its_medium_kind() {
    let text = format!(
        "{MINIMAL}{}",
        r#"
[[tape_pool]]
name = "t-single"
mode = "single-drive"
retention = "1d"
[[tape_pool]]
name = "t-export"
mode = "library"
after_job = "export"
retention = "1d"
[[disk_pool]]
name = "d-rdx"
mode = "rdx-single-drive"
retention = "1d"
[[disk_pool]]
name = "d-auto"
mode = "rdx-autoloader"
retention = "1d"
[[disk_pool]]
name = "d-usb"
mode = "removable-disk"
retention = "1d"
[[disk_pool]]
name = "d-nas"
mode = "nas"
retention = "1d"
[[s3]]
name = "s"
region = "r"
bucket = "b"
retention = "1d"
[[vault]]
name = "v"
address = "vault.local:7443"
retention = "1d"
public_key = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
token_blake3 = "abababababababababababababababababababababababababababababababab"
"#
    );
    let site = parse(&text, Path::new("/etc/hokan/hokan.toml")).unwrap();
    let kinds: Vec<(String, MediumKind)> = site
        .pool_kinds()
        .into_iter()
        .map(|(p, k)| (p.to_string(), k))
        .collect();
    let want = [
        ("t-single", MediumKind::LtoSingleDrive),
        ("t-export", MediumKind::LtoLibrary),
        ("d-rdx", MediumKind::RdxSingleDrive),
        ("d-auto", MediumKind::RdxAutoloader),
        ("d-usb", MediumKind::RemovableDisk),
        ("d-nas", MediumKind::RemovableDisk),
        ("s", MediumKind::ObjectStore),
        ("v", MediumKind::PullVault),
    ];
    assert_eq!(kinds, want.map(|(n, k)| (n.to_owned(), k)).to_vec());
    let koban = |name: &str| site.target(name).unwrap().koban();
    assert_eq!(koban("t-single"), [Koban::LtoEjected]);
    assert_eq!(koban("t-export"), [Koban::LtoExported]);
    assert_eq!(
        koban("d-auto"),
        [Koban::RdxInactiveSlotSegmented, Koban::RdxExported]
    );
    assert_eq!(koban("d-nas"), [Koban::RdxEjected]);
    assert_eq!(koban("s"), [Koban::CloudImmutable]);
    assert_eq!(
        koban("v"),
        [Koban::AccessControlled, Koban::ImmutableDevice]
    );
}

#[test]
fn json_shows_the_resolved_site() {
    let json = serde_json::to_value(example()).unwrap();
    assert_eq!(json["timezone"], "+09:00");
    assert_eq!(json["catalog"], "/etc/hokan/catalog.db");
    assert_eq!(json["sources"][0]["pre_backup"]["timeout"], "30m");
    assert_eq!(
        json["sources"][0]["pre_backup"]["command"]["argv"][0],
        "/usr/local/bin/emr-dump"
    );
    assert_eq!(json["policy"]["max_person_location_age"], "92d");
    let tape = &json["targets"][0];
    assert_eq!(tape["type"], "tape_pool");
    assert_eq!(tape["medium_kind"], "lto-library");
    assert_eq!(tape["koban"][0], "①-2-1");
    assert_eq!(tape["retention"], "28d");
    assert_eq!(
        json["targets"][3]["koban"],
        serde_json::json!(["⑤-1", "④-1"]),
        "a vault is meant for ⑤-1 and ④-1, as its receipts show"
    );
    assert_eq!(json["targets"][3]["fresh_for"], "36h");
    assert_eq!(json["serve"]["listen"], "0.0.0.0:7443");
}

const EXAMPLE_EN: &str = "\
Configuration file: /etc/hokan/hokan.toml
Site: ○○総合病院
Time zone: UTC+09:00
Catalog: /etc/hokan/catalog.db
Repository: /srv/hokan/repo
  passphrase file: /etc/hokan/passphrase

Sources (2):
  emr
    paths: /srv/emr/data
    before backup: /usr/local/bin/emr-dump --out /srv/emr/dump (run directly)
      timeout 30m; if it fails: abort the backup
    needs: 4 offline generations (this source), the newest at most 3d old (this source)
  files
    paths: /srv/files, /home
    before backup: nothing
    needs: 3 offline generations, the newest at most 7d old

Offline policy:
  min_offline_generations = 3: offline generations each source needs
  max_newest_age = 7d: oldest the newest offline generation may be
  warning_horizon = 14d: warn this long before a lock, attestation or location record runs out
  max_person_location_age = 92d: how long a person's record of where a medium is counts

Offline targets (4):
  weekday [tape_pool]: LTO tape (library); offline under ①-2-1
    after each job: unload to a library slot
    retention: 28d before a cartridge may be overwritten
    allocation: weekday (one set per weekday)
    drive: /dev/nst0
    changer: /dev/sg3 (drive 0)
  rdx [disk_pool]: RDX cartridge (single drive); offline under ②-1-1
    retention: 14d before a disk may be overwritten
    mount point: /mnt/hokan-rdx
    rotation: one cartridge per weekday, Monday first: RDX-MON, RDX-TUE, RDX-WED, RDX-THU, RDX-FRI
    after a job: unmount and eject
  cloud [s3]: object storage; offline under ③-1
    bucket: hospital-backup (region ap-northeast-1, endpoint https://s3.ap-northeast-1.amazonaws.com)
    prefix: hokan/
    object lock: compliance (nobody can remove it), 30d per object
  vault1 [vault]: pull-only vault; offline under ⑤-1, ④-1
    pull-only: the vault pulls from `hokan serve` and posts Ed25519-signed receipts; its copies count (⑤-1 with its firewall check ok, ④-1 for immutable generations) only while its newest verified receipt is younger than 36h
    public key: 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c
    address: 10.0.5.20 (for people; the primary never connects to it)
    retention: at least 90d per copy, from when the vault stored it
";

const EXAMPLE_JA: &str = "\
設定ファイル: /etc/hokan/hokan.toml
サイト: ○○総合病院
タイムゾーン: UTC+09:00
カタログ: /etc/hokan/catalog.db
リポジトリ: /srv/hokan/repo
  パスフレーズファイル: /etc/hokan/passphrase

バックアップ対象（2）:
  emr
    対象パス: /srv/emr/data
    事前処理: /usr/local/bin/emr-dump --out /srv/emr/dump（直接実行）
      タイムアウト 30m、失敗時: バックアップを中止
    必要条件: オフライン 4 世代（この対象の設定）、最新は 3d 以内（この対象の設定）
  files
    対象パス: /srv/files, /home
    事前処理: なし
    必要条件: オフライン 3 世代、最新は 7d 以内

オフライン方針:
  min_offline_generations = 3: 各対象に必要なオフライン世代数
  max_newest_age = 7d: 最新のオフライン世代の古さの上限
  warning_horizon = 14d: ロック・確認記録・所在記録の期限切れをこの期間前から警告
  max_person_location_age = 92d: 人が記録した媒体の所在を有効とみなす期間

オフライン保管先（4）:
  weekday [tape_pool]: LTOテープ（ライブラリ）、オフラインの項番 ①-2-1
    ジョブ終了後: ライブラリのスロットへ戻す
    保持期間: 28d（経過後に上書き可）
    割り当て: weekday（曜日ごと）
    ドライブ: /dev/nst0
    チェンジャ: /dev/sg3（ドライブ 0）
  rdx [disk_pool]: RDXカートリッジ（単体ドライブ）、オフラインの項番 ②-1-1
    保持期間: 14d（経過後に上書き可）
    マウントポイント: /mnt/hokan-rdx
    ローテーション: 曜日ごとに 1 本（月曜から）: RDX-MON, RDX-TUE, RDX-WED, RDX-THU, RDX-FRI
    ジョブの後: アンマウントして排出
  cloud [s3]: オブジェクトストレージ、オフラインの項番 ③-1
    バケット: hospital-backup（リージョン ap-northeast-1、エンドポイント https://s3.ap-northeast-1.amazonaws.com）
    プレフィックス: hokan/
    オブジェクトロック: compliance（誰も解除できない）、各オブジェクト 30d
  vault1 [vault]: プル型保管サーバ、オフラインの項番 ⑤-1, ④-1
    プル専用: 保管サーバが `hokan serve` から取得し、Ed25519 署名付きの受領書を送ります。検証済みの最新の受領書が 36h 以内のときだけコピーを数えます（ファイアウォール確認が正常なら ⑤-1、不変の世代は ④-1）
    公開鍵: 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c
    アドレス: 10.0.5.20（参考情報。一次サーバからは接続しません）
    保持期間: 各コピー 保管時から 90d 以上
";

#[test]
fn describe_the_example_in_english() {
    assert_eq!(example().describe(false), EXAMPLE_EN);
}

#[test]
fn describe_the_example_in_japanese() {
    assert_eq!(example().describe(true), EXAMPLE_JA);
}

#[test]
fn describe_marks_defaults() {
    let en = minimal().describe(false);
    let ja = minimal().describe(true);
    assert!(en.contains("Time zone: not set (this machine's local time)\n"));
    assert!(en.contains("Catalog: /etc/hokan/hokan-catalog.db\n"));
    assert!(en.contains(
        "Offline policy:\n  min_offline_generations = 3 (default): offline generations each source needs\n  \
         max_newest_age = 7d (default): oldest the newest offline generation may be\n"
    ));
    assert!(en.ends_with(
        "Offline targets: none; no copy can count as offline until one is configured\n"
    ));
    assert!(ja.contains(
        "  max_person_location_age = 92d（既定値）: 人が記録した媒体の所在を有効とみなす期間\n"
    ));
    assert!(ja.contains("    必要条件: オフライン 3 世代、最新は 7d 以内\n"));
    // A value written in the file is not marked, even when it equals the default.
    let written = MINIMAL.replace(
        "[[source]]",
        "[policy]\nmax_newest_age = \"7d\"\n\n[[source]]",
    );
    let site = parse(&written, Path::new("/etc/hokan/hokan.toml")).unwrap();
    assert!(site
        .describe(false)
        .contains("  max_newest_age = 7d: oldest the newest offline generation may be\n"));
}

#[test]
fn the_documented_error_lines_are_what_hokan_prints() {
    let doc = include_str!("../../../docs/configuration.md");
    let text = EXAMPLE.replacen(
        "min_offline_generations = 3",
        "min_offline_generations = 1",
        1,
    );
    let err = parse(&text, Path::new("/etc/hokan/hokan.toml")).unwrap_err();
    for ja in [false, true] {
        let line = err.render(ja);
        assert!(line.starts_with("/etc/hokan/hokan.toml:72:27: "), "{line}");
        assert!(
            doc.contains(&format!("\n{line}\n")),
            "docs/configuration.md lacks:\n{line}"
        );
    }
}
