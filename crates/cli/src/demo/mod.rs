//! `hokan demo`: the whole product on built-in defaults, no hardware, no cloud.
//!
//! Builds a small hospital-like data set, backs it up over a few simulated
//! nights (changing the data between nights as a hospital's would change),
//! verifies every pack, restores the last night and proves it matches.
//! Later parts of the product (tape, removable disks, S3, vault) extend it.

mod site;
mod vault;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hokan_repo::{BackupOptions, InitOptions, ParentChoice, Repository, RestoreOptions};
use hokan_store::local::LocalStore;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::exit::{self, from_repo, Failure};
use crate::i18n::{t, Bytes, Lang};
use crate::Global;

const MARKER: &str = ".hokan-demo";
const PASSWORD: &str = "hokan-demo-passphrase";

fn io(lang: Lang, what: &Path, e: std::io::Error) -> Failure {
    Failure::new(
        exit::ERROR,
        format!("{} {}: {e}", t(lang, "demo:", "デモ:"), what.display()),
    )
}

/// Run the demo.
pub fn run(dir: Option<PathBuf>, nights: u32, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("hokan-demo"));
    let nights = nights.max(1);
    prepare_dir(&dir, lang)?;
    let data = dir.join("data");
    let repo_path = dir.join("repo");
    let say = |s: String| {
        if !g.json {
            println!("{s}");
        }
    };
    say(format!("== hokan demo: {} ==", dir.display()));
    say(
        t(
            lang,
            "(simulated clock: the nights are dated in the past — the last one ended 3 hours ago — and the morning checks run a little later on the same simulated clock, so times shown below are not the time you ran this)",
            "(模擬時計: 各夜のバックアップは過去の日時 (最後の夜は3時間前に終了) として記録し、朝の確認もその少し後の模擬時刻で行います。以下の時刻は実行した時刻ではありません)",
        )
        .to_owned(),
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    make_dataset(&data, &mut rng).map_err(|e| io(lang, &data, e))?;
    // Readable by its owner only, as a real site's passphrase file must be.
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(dir.join("password.txt"))
            .and_then(|mut f| f.write_all(format!("{PASSWORD}\n").as_bytes()))
            .map_err(|e| io(lang, &dir, e))?;
    }

    let store = Arc::new(LocalStore::new(&repo_path));
    let repo = Repository::init(store, PASSWORD.as_bytes(), &InitOptions::default())
        .map_err(|e| from_repo(lang, &e))?;
    say(format!(
        "{} {}",
        t(
            lang,
            "1. repository created (encrypted, passphrase in password.txt):",
            "1. リポジトリを作成 (暗号化。パスフレーズは password.txt):"
        ),
        repo_path.display()
    ));

    let now = time::OffsetDateTime::now_utc();
    let mut nights_json = Vec::new();
    for n in 0..nights {
        if n > 0 {
            age_one_night(&data, n, &mut rng).map_err(|e| io(lang, &data, e))?;
        }
        // The last night ended three hours ago, so the site part can show
        // the following morning without looking into the future.
        let when = now - time::Duration::days((nights - 1 - n) as i64) - time::Duration::hours(3);
        let opts = BackupOptions {
            source: "emr".into(),
            tags: vec!["demo".into()],
            paths: vec![data.clone()],
            parent: ParentChoice::Auto,
            time: Some(when.format(&Rfc3339).expect("time")),
        };
        let r = repo
            .backup(&opts, &hokan_repo::NoProgress)
            .map_err(|e| from_repo(lang, &e))?;
        let m = &r.snapshot.summary;
        say(format!(
            "2.{} {} {}: {} {} {}, {} {}, {} {}, {} {} ({:.2}s)",
            n + 1,
            t(lang, "night", "夜間バックアップ"),
            n + 1,
            r.id.short(),
            m.files_new,
            t(lang, "new", "新規"),
            m.files_changed,
            t(lang, "changed", "変更"),
            m.files_unchanged,
            t(lang, "unchanged", "変更なし"),
            Bytes(m.bytes_added),
            t(lang, "added", "追加"),
            m.duration_secs
        ));
        nights_json.push(json!({"snapshot": r.id, "time": r.snapshot.time, "summary": m}));
    }

    let rep = repo
        .verify(true, &hokan_repo::NoProgress)
        .map_err(|e| from_repo(lang, &e))?;
    say(format!(
        "3. {}: {} ({} {}, {})",
        t(lang, "verify --read-data", "検証 (全データ読み込み)"),
        if rep.ok() { "OK" } else { "DAMAGE" },
        rep.packs,
        t(lang, "packs", "パック"),
        Bytes(rep.bytes_read)
    ));

    let target = dir.join("restore");
    let (latest, _) = repo
        .find_snapshot("latest", Some("emr"))
        .map_err(|e| from_repo(lang, &e))?;
    let st = repo
        .restore(
            &latest,
            &RestoreOptions {
                target: target.clone(),
                ..Default::default()
            },
            &hokan_repo::NoProgress,
        )
        .map_err(|e| from_repo(lang, &e))?;
    let mismatches = hokan_repo::compare::compare_trees(&data, &target.join("data"))
        .map_err(|e| io(lang, &target, e))?;
    say(format!(
        "4. {} {} → {}: {} {}, {}",
        t(lang, "restored last night", "最終夜を復元"),
        latest.short(),
        target.display(),
        st.files,
        t(lang, "files", "ファイル"),
        Bytes(st.bytes)
    ));
    let restored_ok = rep.ok() && st.errors.is_empty() && mismatches.is_empty();
    if mismatches.is_empty() {
        say(format!(
            "5. {}",
            t(
                lang,
                "restored data MATCHES the original byte for byte (content, owner, mode, times)",
                "復元データは元データとバイト単位で一致しました (内容・所有者・権限・更新日時)"
            )
        ));
    } else {
        for m in mismatches.iter().take(10) {
            say(format!("MISMATCH {m}"));
        }
    }
    let (site_json, site_ok) = site::run(&dir, &repo, g, lang, &say)?;
    let vault_json = vault::run(&dir, PASSWORD, g, lang, &say)?;
    let (drill_json, drill_ok) = site::drill(&dir, g, lang, &say)?;
    let annex = site::write_annex(&dir, g)?;
    say(format!(
        "\n{} {}",
        t(
            lang,
            "rulebook annex (運用管理規程 別紙) written:",
            "運用管理規程の別紙を出力:"
        ),
        annex.display()
    ));
    let ok = restored_ok
        && (site_ok || nights < 3)
        && vault_json["posted"] == true
        && vault_json["drills_ok"] == true
        && vault_json["drills_recorded_on_primary"].as_u64() > Some(0)
        && drill_ok;
    if g.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"ok": ok, "dir": dir, "repository": repo_path, "nights": nights_json,
                "verify_ok": rep.ok(), "restore": st, "mismatches": mismatches, "site": site_json,
                "vault": vault_json, "drills": drill_json, "annex": annex})
            )
            .expect("json")
        );
    } else {
        println!();
        println!("{}", t(lang, "Try it yourself:", "試してみる:"));
        // The program as it was started, so the lines can be pasted even
        // before `hokan` is installed on the PATH.
        let exe = std::env::args().next().unwrap_or_else(|| "hokan".into());
        let base = format!(
            "{exe} --repo {} --password-file {}",
            repo_path.display(),
            dir.join("password.txt").display()
        );
        println!("  {base} snapshots");
        println!("  {base} ls latest");
        println!("  {base} diff <ID> latest");
        println!("  {base} verify --read-data");
        let site = format!("{exe} --config {}", dir.join("hokan.toml").display());
        println!("  {site} status");
        println!("  {site} media list");
        println!("  {site} tape status --pool weekday");
        println!("  {site} disk status --pool rdx");
        println!("  {site} tape restore --pool weekday <ID> --target restored-from-tape");
        println!("  {site} media move HKN002L9 --to offsite:bank --by YOUR-NAME");
        println!("  {site} report --format html -o report.html");
        println!("  {site} annex --lang ja --format html -o annex-ja.html");
        println!("  {site} drill --kind tape");
        println!("  {site} catalog verify");
        println!("  {site} catalog jobs");
        println!("  {site} run --dry-run");
        println!(
            "  {}",
            t(
                lang,
                "# the web dashboard: an account, then open https://127.0.0.1:8443/",
                "# Web ダッシュボード: アカウントを作成し、https://127.0.0.1:8443/ を開きます",
            )
        );
        println!("  {site} web user add admin --role admin");
        println!("  {site} web serve --init-cert localhost");
        println!("  {exe} vault --dir {} status", dir.join("vault").display());
        println!(
            "  {exe} vault --dir {} restore latest --target restored-from-vault --password-file {}",
            dir.join("vault").display(),
            dir.join("password.txt").display()
        );
    }
    Ok(if ok { exit::OK } else { exit::ERROR })
}

fn prepare_dir(dir: &Path, lang: Lang) -> Result<(), Failure> {
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            if !dir.join(MARKER).exists() {
                return Err(Failure::new(
                    exit::ERROR,
                    format!(
                        "{} {}",
                        dir.display(),
                        t(lang, "exists and is not a hokan demo folder; choose another folder", "は既に存在し、hokan のデモ用フォルダではありません。別のフォルダを指定してください")
                    ),
                ));
            }
            vault::release(dir);
            fs::remove_dir_all(dir).map_err(|e| io(lang, dir, e))?;
        }
    }
    fs::create_dir_all(dir).map_err(|e| io(lang, dir, e))?;
    fs::write(
        dir.join(MARKER),
        "made by `hokan demo`; the next demo run replaces this folder\n",
    )
    .map_err(|e| io(lang, dir, e))
}

fn db_row(rng: &mut impl Rng, i: u64) -> String {
    const NAMES: [&str; 6] = ["SATO", "SUZUKI", "TAKAHASHI", "TANAKA", "WATANABE", "ITO"];
    const CODES: [&str; 5] = ["J45.9", "I10", "E11.9", "K21.0", "M54.5"];
    format!(
        "INSERT INTO encounter VALUES ({i},'{:08}','{}','{}','2026-{:02}-{:02}',{});\n",
        rng.gen_range(0..100_000_000u32),
        NAMES[rng.gen_range(0..NAMES.len())],
        CODES[rng.gen_range(0..CODES.len())],
        rng.gen_range(1..13),
        rng.gen_range(1..29),
        rng.gen_range(0..1_000_000)
    )
}

fn image(rng: &mut impl Rng, size: usize) -> Vec<u8> {
    let mut v = b"DICM".to_vec();
    let base: u16 = rng.gen_range(800..1200);
    while v.len() < size {
        v.extend_from_slice(&(base + rng.gen_range(0..64u16)).to_le_bytes());
    }
    v.truncate(size);
    v
}

fn add_files(
    d: &Path,
    night: u32,
    rng: &mut rand::rngs::StdRng,
    pacs: u32,
    docs: u32,
    hl7: u32,
) -> std::io::Result<()> {
    for sub in ["pacs", "docs", "hl7", "logs"] {
        fs::create_dir_all(d.join(sub))?;
    }
    for k in 0..pacs {
        fs::write(
            d.join(format!("pacs/n{night:03}-study{k:04}.dcm")),
            image(rng, 1536 * 1024),
        )?;
    }
    for k in 0..docs {
        let mut b = b"%PDF-1.7\n".to_vec();
        let mut r = vec![0u8; 100 * 1024];
        rng.fill_bytes(&mut r);
        b.extend(r);
        fs::write(d.join(format!("docs/n{night:03}-scan{k:05}.pdf")), b)?;
    }
    for k in 0..hl7 {
        let msg = format!(
            "<?xml version='1.0'?><ADT_A01><MSH>HOKAN|{k}</MSH><PID><ID>{:08}</ID><NAME>PATIENT^{k}</NAME></PID></ADT_A01>\n",
            rng.gen_range(0..100_000_000u32)
        );
        fs::write(
            d.join(format!("hl7/n{night:03}-msg{k:05}.xml")),
            msg.repeat(8),
        )?;
    }
    Ok(())
}

/// About 25 MiB that look like what a hospital backs up.
fn make_dataset(d: &Path, rng: &mut rand::rngs::StdRng) -> std::io::Result<()> {
    fs::create_dir_all(d.join("db"))?;
    let mut f = std::io::BufWriter::new(fs::File::create(d.join("db/emr.dump"))?);
    for i in 0..80_000 {
        f.write_all(db_row(rng, i).as_bytes())?;
    }
    f.flush()?;
    add_files(d, 0, rng, 6, 40, 300)?;
    let log: String = (0..5000)
        .map(|i| format!("2026-11-01T00:00:{:02} app started job {i} ok\n", i % 60))
        .collect();
    fs::write(d.join("logs/app.log"), log)?;
    std::os::unix::fs::symlink("db/emr.dump", d.join("current-dump"))?;
    Ok(())
}

/// One night of changes: rows updated, new studies, scans and messages, logs appended.
fn age_one_night(d: &Path, night: u32, rng: &mut rand::rngs::StdRng) -> std::io::Result<()> {
    let db = d.join("db/emr.dump");
    let text = fs::read_to_string(&db)?;
    let mut lines: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
    for _ in 0..lines.len() / 500 {
        let i = rng.gen_range(0..lines.len());
        lines[i] = db_row(rng, i as u64);
    }
    let tmp = d.join("db/emr.dump.tmp");
    fs::write(&tmp, lines.concat())?;
    fs::rename(&tmp, &db)?;
    add_files(d, night, rng, 1, 4, 30)?;
    let mut log = fs::OpenOptions::new()
        .append(true)
        .open(d.join("logs/app.log"))?;
    for i in 0..500 {
        writeln!(
            log,
            "2026-11-{:02} night {night} job {i} ok",
            night % 28 + 1
        )?;
    }
    Ok(())
}
