//! `hokan config check`: the site as hokan understood it, in words.
//!
//! Every line is written in both languages side by side and one is picked
//! at the end, so the English and Japanese renderings cannot drift apart in
//! structure. Values are printed the way they are written in the file
//! (`7d`, `"+09:00"`), so a person can match each line to the file; what a
//! value means (a 項番, a default) is said next to it.

use hokan_offline::{span, Text};
use time::Duration;

use crate::check::format_offset;
use crate::model::*;

struct Lines(Vec<Text>);

impl Lines {
    fn push(&mut self, en: impl Into<String>, ja: impl Into<String>) {
        self.0.push(Text::new(en, ja));
    }

    fn blank(&mut self) {
        self.push("", "");
    }
}

/// Where a bucket is and whose credentials reach it (the file holding the
/// secret, never the secret), each line indented by `indent`.
fn bucket_lines(out: &mut Lines, b: &S3Connection, indent: &str) {
    let endpoint = b.endpoint.as_deref().unwrap_or("AWS");
    out.push(
        format!(
            "{indent}bucket: {} (region {}, endpoint {endpoint}{})",
            b.bucket,
            b.region,
            if b.path_style { ", path-style" } else { "" }
        ),
        format!(
            "{indent}バケット: {}（リージョン {}、エンドポイント {endpoint}{}）",
            b.bucket,
            b.region,
            if b.path_style { "、パス形式" } else { "" }
        ),
    );
    if let Some(prefix) = &b.prefix {
        out.push(
            format!("{indent}prefix: {prefix}"),
            format!("{indent}プレフィックス: {prefix}"),
        );
    }
    if let (Some(id), Some(file)) = (&b.access_key_id, &b.secret_access_key_file) {
        let file = file.display();
        out.push(
            format!("{indent}credentials: access key {id}, secret in {file}"),
            format!("{indent}認証情報: アクセスキー {id}、シークレットは {file}"),
        );
    }
}

fn d(x: Duration) -> String {
    span::format(x)
}

fn command_line(c: &Command) -> Text {
    match c {
        Command::Argv(argv) => {
            let line = argv
                .iter()
                .map(|a| {
                    if a.is_empty() || a.contains(char::is_whitespace) || a.contains('"') {
                        format!("{a:?}")
                    } else {
                        a.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            Text::new(
                format!("{line} (run directly)"),
                format!("{line}（直接実行）"),
            )
        }
        Command::Shell(s) => Text::new(
            format!("sh -c {s:?} (run by the shell)"),
            format!("sh -c {s:?}（シェルで実行）"),
        ),
    }
}

fn koban_list(target: &Target) -> String {
    target
        .koban()
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Site {
    /// The site in words, for `hokan config check`: the file, site,
    /// catalog and repository; each source with its paths, pre-backup
    /// command and effective policy; the policy with defaults marked; each
    /// target with what it is and the 項番 it serves. Japanese if `ja`.
    pub fn describe(&self, ja: bool) -> String {
        let mut out = Lines(Vec::new());
        self.describe_site(&mut out);
        out.blank();
        self.describe_sources(&mut out);
        out.blank();
        self.describe_policy(&mut out);
        out.blank();
        self.describe_targets(&mut out);
        let mut text = out
            .0
            .iter()
            .map(|t| if ja { t.ja.as_str() } else { t.en.as_str() })
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        text
    }

    fn describe_site(&self, out: &mut Lines) {
        let file = self.file.display();
        out.push(
            format!("Configuration file: {file}"),
            format!("設定ファイル: {file}"),
        );
        out.push(
            format!("Site: {}", self.name),
            format!("サイト: {}", self.name),
        );
        match self.timezone {
            Some(o) => {
                let o = format_offset(o);
                out.push(
                    format!("Time zone: UTC{o}"),
                    format!("タイムゾーン: UTC{o}"),
                );
            }
            None => out.push(
                "Time zone: not set (this machine's local time)",
                "タイムゾーン: 未設定（このマシンの時刻）",
            ),
        }
        if let Some(c) = &self.schedule {
            out.push(
                format!("Night schedule: {c} ({})", c.normalized()),
                format!("夜間ジョブの予定: {c}（{}）", c.normalized()),
            );
        }
        if let Some(t) = self.expect_done_by {
            let t = format!("{:02}:{:02}", t.hour(), t.minute());
            out.push(
                format!("  expected done by {t} (an alert if the night has not finished by then)"),
                format!("  完了予定 {t}（それまでに終わらなければ通知）"),
            );
        }
        let catalog = self.catalog.display();
        out.push(
            format!("Catalog: {catalog}"),
            format!("カタログ: {catalog}"),
        );
        match &self.repository.location {
            RepositoryLocation::Folder(p) => {
                let p = p.display();
                out.push(format!("Repository: {p}"), format!("リポジトリ: {p}"));
            }
            RepositoryLocation::S3(c) => {
                out.push(
                    "Repository: in a bucket of an S3-compatible store (no object lock needed)",
                    "リポジトリ: S3 互換ストレージのバケット（オブジェクトロック不要）",
                );
                bucket_lines(out, c, "  ");
                let n = c.concurrency;
                out.push(
                    format!("  {n} requests in flight at most"),
                    format!("  同時リクエスト 最大 {n}"),
                );
            }
        }
        match &self.repository.passphrase_file {
            Some(p) => {
                let p = p.display();
                out.push(
                    format!("  passphrase file: {p}"),
                    format!("  パスフレーズファイル: {p}"),
                );
            }
            None => out.push(
                "  passphrase file: none (asked for, or taken from HOKAN_PASSPHRASE)",
                "  パスフレーズファイル: なし（実行時に入力、または HOKAN_PASSPHRASE）",
            ),
        }
    }

    fn describe_sources(&self, out: &mut Lines) {
        let n = self.sources.len();
        out.push(
            format!("Sources ({n}):"),
            format!("バックアップ対象（{n}）:"),
        );
        for s in &self.sources {
            out.push(format!("  {}", s.name), format!("  {}", s.name));
            let paths = s
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                format!("    paths: {paths}"),
                format!("    対象パス: {paths}"),
            );
            match &s.pre_backup {
                Some(p) => {
                    let cmd = command_line(&p.command);
                    let timeout = d(p.timeout);
                    let (fail_en, fail_ja) = match p.on_failure {
                        OnFailure::Abort => ("abort the backup", "バックアップを中止"),
                        OnFailure::Continue => (
                            "back up anyway, marked as taken with a failed pre-backup command",
                            "事前処理の失敗を記録してバックアップを続行",
                        ),
                    };
                    out.push(
                        format!("    before backup: {}", cmd.en),
                        format!("    事前処理: {}", cmd.ja),
                    );
                    out.push(
                        format!("      timeout {timeout}; if it fails: {fail_en}"),
                        format!("      タイムアウト {timeout}、失敗時: {fail_ja}"),
                    );
                }
                None => out.push("    before backup: nothing", "    事前処理: なし"),
            }
            let (gens, gens_own) = match s.policy.min_offline_generations {
                Some(n) => (n, true),
                None => (self.policy.min_offline_generations, false),
            };
            let (age, age_own) = match s.policy.max_newest_age {
                Some(a) => (a, true),
                None => (self.policy.max_newest_age, false),
            };
            let own = |yes: bool, en: &'static str, ja: &'static str| {
                if yes {
                    (en, ja)
                } else {
                    ("", "")
                }
            };
            let (g_en, g_ja) = own(gens_own, " (this source)", "（この対象の設定）");
            let (a_en, a_ja) = own(age_own, " (this source)", "（この対象の設定）");
            let age = d(age);
            out.push(
                format!("    needs: {gens} offline generations{g_en}, the newest at most {age} old{a_en}"),
                format!("    必要条件: オフライン {gens} 世代{g_ja}、最新は {age} 以内{a_ja}"),
            );
        }
    }

    fn describe_policy(&self, out: &mut Lines) {
        let p = &self.policy;
        out.push("Offline policy:", "オフライン方針:");
        let rows = [
            (
                "min_offline_generations",
                p.min_offline_generations.to_string(),
                "offline generations each source needs",
                "各対象に必要なオフライン世代数",
            ),
            (
                "max_newest_age",
                d(p.max_newest_age),
                "oldest the newest offline generation may be",
                "最新のオフライン世代の古さの上限",
            ),
            (
                "warning_horizon",
                d(p.warning_horizon),
                "warn this long before a lock, attestation or location record runs out",
                "ロック・確認記録・所在記録の期限切れをこの期間前から警告",
            ),
            (
                "max_person_location_age",
                d(p.max_person_location_age),
                "how long a person's record of where a medium is counts",
                "人が記録した媒体の所在を有効とみなす期間",
            ),
        ];
        for (key, value, en, ja) in rows {
            let (def_en, def_ja) = if p.is_default(key) {
                (" (default)", "（既定値）")
            } else {
                ("", "")
            };
            out.push(
                format!("  {key} = {value}{def_en}: {en}"),
                format!("  {key} = {value}{def_ja}: {ja}"),
            );
        }
    }

    fn describe_targets(&self, out: &mut Lines) {
        let n = self.targets.len();
        if n == 0 {
            out.push(
                "Offline targets: none; no copy can count as offline until one is configured",
                "オフライン保管先: なし。設定するまで、オフラインとして数えられるコピーはありません",
            );
            return;
        }
        out.push(
            format!("Offline targets ({n}):"),
            format!("オフライン保管先（{n}）:"),
        );
        for target in &self.targets {
            let kind = target.medium_kind();
            let (koban_en, koban_ja) = match koban_list(target) {
                k if k.is_empty() => ("none".to_owned(), "なし".to_owned()),
                k => (k.clone(), k),
            };
            out.push(
                format!(
                    "  {} [{}]: {}; offline under {koban_en}",
                    target.name,
                    target.table(),
                    kind.name_en()
                ),
                format!(
                    "  {} [{}]: {}、オフラインの項番 {koban_ja}",
                    target.name,
                    target.table(),
                    kind.name_ja()
                ),
            );
            let retention = d(target.retention);
            if let Some(c) = &target.schedule {
                out.push(
                    format!("    schedule: {c} ({})", c.normalized()),
                    format!("    予定: {c}（{}）", c.normalized()),
                );
            }
            if let Some(c) = &target.drill_schedule {
                out.push(
                    format!("    restore drill: {c} ({})", c.normalized()),
                    format!("    復旧訓練の予定: {c}（{}）", c.normalized()),
                );
            }
            match &target.kind {
                TargetKind::TapePool(t) => {
                    let (en, ja) = match t.after_job {
                        AfterJob::Unload => {
                            ("unload to a library slot", "ライブラリのスロットへ戻す")
                        }
                        AfterJob::Export => ("export out of the library", "ライブラリの外へ搬出"),
                        AfterJob::Eject => ("eject from the drive", "ドライブから排出"),
                    };
                    out.push(
                        format!("    after each job: {en}"),
                        format!("    ジョブ終了後: {ja}"),
                    );
                    out.push(
                        format!("    retention: {retention} before a cartridge may be overwritten"),
                        format!("    保持期間: {retention}（経過後に上書き可）"),
                    );
                    let (en, ja) = match t.allocation {
                        Allocation::Weekday => {
                            ("weekday (one set per weekday)", "weekday（曜日ごと）")
                        }
                        Allocation::Weekly => ("weekly (one set per week)", "weekly（週ごと）"),
                        Allocation::Continue => (
                            "continue (append until the cartridge is full)",
                            "continue（満杯まで追記）",
                        ),
                    };
                    out.push(
                        format!("    allocation: {en}"),
                        format!("    割り当て: {ja}"),
                    );
                    if let Some(dev) = &t.device {
                        out.push(format!("    drive: {dev}"), format!("    ドライブ: {dev}"));
                    }
                    if let Some(ch) = &t.changer {
                        out.push(
                            format!("    changer: {ch} (drive {})", t.drive),
                            format!("    チェンジャ: {ch}（ドライブ {}）", t.drive),
                        );
                    }
                    if let Some(v) = &t.virtual_library {
                        let v = v.display();
                        out.push(
                            format!("    SIMULATED library in {v} (no real tape hardware)"),
                            format!("    模擬ライブラリ: {v}（実機のテープ装置ではありません）"),
                        );
                    }
                }
                TargetKind::DiskPool(p) => {
                    out.push(
                        format!("    retention: {retention} before a disk may be overwritten"),
                        format!("    保持期間: {retention}（経過後に上書き可）"),
                    );
                    if let Some(m) = &p.mount_point {
                        let m = m.display();
                        out.push(
                            format!("    mount point: {m}"),
                            format!("    マウントポイント: {m}"),
                        );
                    }
                    let list = p.cartridges.join(", ");
                    let (en, ja) = match p.rotation {
                        Rotation::Weekday => (
                            format!("one cartridge per weekday, Monday first: {list}"),
                            format!("曜日ごとに 1 本（月曜から）: {list}"),
                        ),
                        Rotation::Weekly => (
                            format!("one cartridge per ISO week, in turn: {list}"),
                            format!("週ごとに 1 本（順番）: {list}"),
                        ),
                        Rotation::Any => (
                            "any cartridge of the pool that is inserted".to_owned(),
                            "挿入されたプールのカートリッジ".to_owned(),
                        ),
                    };
                    out.push(
                        format!("    rotation: {en}"),
                        format!("    ローテーション: {ja}"),
                    );
                    let (en, ja) = match p.after_job {
                        DiskAfterJob::Eject => ("unmount and eject", "アンマウントして排出"),
                        DiskAfterJob::Deactivate => (
                            "unmount, slot made inactive (②-2-1 also needs an attested network segmentation)",
                            "アンマウントしてスロットを非アクティブに（②-2-1 にはネットワーク分離の証明も必要）",
                        ),
                        DiskAfterJob::Export => ("unmount and export", "アンマウントして搬出"),
                        DiskAfterJob::Unmount => (
                            "unmount only (online until taken away and recorded)",
                            "アンマウントのみ（取り外して記録するまでオンライン）",
                        ),
                    };
                    out.push(
                        format!("    after a job: {en}"),
                        format!("    ジョブの後: {ja}"),
                    );
                    if let Some(v) = &p.virtual_device {
                        let v = v.display();
                        out.push(
                            format!("    SIMULATED device in {v} (no real disk hardware)"),
                            format!("    模擬装置: {v}（実機ではありません）"),
                        );
                    }
                }
                TargetKind::S3(b) => {
                    bucket_lines(out, &b.connection, "    ");
                    let (en, ja) = match b.lock_mode {
                        S3LockMode::Compliance => (
                            "compliance (nobody can remove it)",
                            "compliance（誰も解除できない）",
                        ),
                        S3LockMode::Governance => (
                            "governance (weaker: a privileged user can remove it)",
                            "governance（弱い: 特権ユーザが解除できる）",
                        ),
                    };
                    out.push(
                        format!("    object lock: {en}, {retention} per object"),
                        format!("    オブジェクトロック: {ja}、各オブジェクト {retention}"),
                    );
                    if b.allow_unlocked {
                        out.push(
                            "    allow_unlocked: a bucket without object lock may be used; its copies never count as offline",
                            "    allow_unlocked: オブジェクトロックのないバケットも使用可。そのコピーはオフラインとして数えません",
                        );
                    }
                }
                TargetKind::Vault(v) => {
                    let fresh = span::format(v.fresh_for);
                    out.push(
                        format!("    pull-only: the vault pulls from `hokan serve` and posts Ed25519-signed receipts; its copies count (⑤-1 with its firewall check ok, ④-1 for immutable generations) only while its newest verified receipt is younger than {fresh}"),
                        format!("    プル専用: 保管サーバが `hokan serve` から取得し、Ed25519 署名付きの受領書を送ります。検証済みの最新の受領書が {fresh} 以内のときだけコピーを数えます（ファイアウォール確認が正常なら ⑤-1、不変の世代は ④-1）"),
                    );
                    out.push(
                        format!("    public key: {}", v.public_key),
                        format!("    公開鍵: {}", v.public_key),
                    );
                    if let Some(a) = &v.address {
                        out.push(
                            format!(
                                "    address: {a} (for people; the primary never connects to it)"
                            ),
                            format!("    アドレス: {a}（参考情報。一次サーバからは接続しません）"),
                        );
                    }
                    out.push(
                        format!("    retention: at least {retention} per copy, from when the vault stored it"),
                        format!("    保持期間: 各コピー 保管時から {retention} 以上"),
                    );
                }
            }
        }
    }
}
