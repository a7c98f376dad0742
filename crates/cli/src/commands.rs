//! The commands: parse → call the engine → print (human or `--json`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hokan_format::{Id, NodeKind};
use hokan_repo::prune::{KeepPolicy, PruneOptions};
use hokan_repo::{
    BackupOptions, InitOptions, KdfStrength, ParentChoice, RepoError, Repository, RestoreOptions,
    Store,
};
use hokan_store::local::LocalStore;
use serde_json::json;

use crate::exit::{self, from_repo, Failure};
use crate::i18n::{pad, pad_left, t, Bytes, Lang};
use crate::progress::Bar;
use crate::{Cli, Command, Global, KeyAction, RepairWhat};

type Out = Result<i32, Failure>;

/// Run a parsed command line; returns the exit code.
pub fn run(cli: Cli, lang: Lang) -> Out {
    let g = cli.global;
    let ctx = Ctx { g: &g, lang };
    match cli.command {
        Command::Init {
            insecure_fast_kdf,
            pack_size,
        } => ctx.init(insecure_fast_kdf, pack_size),
        Command::Backup {
            paths,
            source,
            tags,
            force,
            time,
        } => ctx.backup(paths, source, tags, force, time),
        Command::Snapshots { source } => ctx.snapshots(source),
        Command::Ls { snapshot, path } => ctx.ls(&snapshot, path.as_deref().unwrap_or("")),
        Command::Diff { a, b } => ctx.diff(&a, &b),
        Command::Restore {
            snapshot,
            target,
            include,
            overwrite,
            source,
        } => ctx.restore(&snapshot, target, include, overwrite, source),
        Command::Verify { read_data } => ctx.verify(read_data),
        Command::Forget {
            keep_last,
            keep_daily,
            keep_weekly,
            keep_monthly,
            keep_yearly,
            source,
            dry_run,
            prune,
        } => {
            let policy = KeepPolicy {
                last: keep_last,
                daily: keep_daily,
                weekly: keep_weekly,
                monthly: keep_monthly,
                yearly: keep_yearly,
            };
            ctx.forget(policy, source, dry_run, prune)
        }
        Command::Prune {
            dry_run,
            repack_threshold,
        } => ctx.prune(dry_run, repack_threshold),
        Command::Key { action } => ctx.key(action),
        Command::Repair {
            what: RepairWhat::Index,
        } => ctx.repair_index(),
        Command::Unlock { all } => ctx.unlock(all),
        Command::Demo { dir, nights } => crate::demo::run(dir, nights, &g, lang),
    }
}

struct Ctx<'a> {
    g: &'a Global,
    lang: Lang,
}

/// `2026-11-23T02:00:00.123456789Z` → `2026-11-23 02:00:00Z` for people; JSON keeps it all.
fn short_time(t: &str) -> String {
    match (t.get(..19), t.ends_with('Z')) {
        (Some(head), true) => format!("{}Z", head.replacen('T', " ", 1)),
        _ => t.to_string(),
    }
}

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("json"));
}

/// Read the passphrase: --password-file, HOKAN_PASSWORD, or a terminal prompt.
pub fn passphrase(g: &Global, lang: Lang, confirm: bool) -> Result<Vec<u8>, Failure> {
    if let Some(f) = &g.password_file {
        let s = std::fs::read_to_string(f).map_err(|e| {
            Failure::new(
                exit::PASSWORD,
                format!(
                    "{} {}: {e}",
                    t(
                        lang,
                        "cannot read password file",
                        "パスワードファイルを読めません"
                    ),
                    f.display()
                ),
            )
        })?;
        return Ok(s.lines().next().unwrap_or("").as_bytes().to_vec());
    }
    if let Ok(p) = std::env::var("HOKAN_PASSWORD") {
        return Ok(p.into_bytes());
    }
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password(t(
            lang,
            "Repository passphrase: ",
            "リポジトリのパスフレーズ: ",
        ))
        .map_err(|e| Failure::new(exit::PASSWORD, e.to_string()))?;
        if confirm {
            let again = rpassword::prompt_password(t(lang, "Again: ", "もう一度: "))
                .map_err(|e| Failure::new(exit::PASSWORD, e.to_string()))?;
            if again != p {
                return Err(Failure::new(
                    exit::PASSWORD,
                    t(lang, "the passphrases differ", "パスフレーズが一致しません"),
                ));
            }
        }
        return Ok(p.into_bytes());
    }
    Err(Failure::new(
        exit::PASSWORD,
        t(
            lang,
            "no passphrase: set HOKAN_PASSWORD, pass --password-file, or run on a terminal",
            "パスフレーズがありません: HOKAN_PASSWORD を設定するか --password-file を指定するか、端末から実行してください",
        ),
    ))
}

impl Ctx<'_> {
    fn fail(&self, e: RepoError) -> Failure {
        from_repo(self.lang, &e)
    }

    fn store(&self) -> Result<Arc<dyn Store>, Failure> {
        let path = self.g.repo.clone().ok_or_else(|| {
            Failure::new(
                exit::USAGE,
                t(
                    self.lang,
                    "no repository: pass --repo PATH or set HOKAN_REPO",
                    "リポジトリの指定がありません: --repo PATH か HOKAN_REPO を指定してください",
                ),
            )
        })?;
        Ok(Arc::new(LocalStore::new(path)))
    }

    fn open(&self) -> Result<Repository, Failure> {
        let store = self.store()?;
        // Config first: a newer format or a wrong path is reported before any prompt.
        Repository::read_config(&*store).map_err(|e| self.fail(e))?;
        if let Some(p) = &self.g.paper_key {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::new(exit::PASSWORD, format!("{}: {e}", p.display())))?;
            let secret = hokan_format::paper::decode(&text).map_err(|e| {
                Failure::new(
                    exit::PASSWORD,
                    format!("{}: {e}", t(self.lang, "paper key", "ペーパーキー")),
                )
            })?;
            return Repository::open_with_secret(store, secret).map_err(|e| self.fail(e));
        }
        let pw = passphrase(self.g, self.lang, false)?;
        Repository::open(store, &pw).map_err(|e| self.fail(e))
    }

    fn init(&self, fast: bool, pack_size: Option<u32>) -> Out {
        let store = self.store()?;
        let pw = passphrase(self.g, self.lang, true)?;
        if pw.is_empty() {
            return Err(Failure::new(
                exit::PASSWORD,
                t(
                    self.lang,
                    "an empty passphrase is not allowed",
                    "空のパスフレーズは使えません",
                ),
            ));
        }
        let mut opts = InitOptions {
            kdf: if fast {
                KdfStrength::TestOnly
            } else {
                KdfStrength::Standard
            },
            ..Default::default()
        };
        if let Some(p) = pack_size {
            opts.pack_size = p.clamp(64 * 1024, 512 << 20);
        }
        let repo = Repository::init(store.clone(), &pw, &opts).map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(
                &json!({"repository": store.describe(), "id": repo.config().id, "version": repo.config().version}),
            );
        } else {
            println!(
                "{} {}",
                t(self.lang, "created repository", "リポジトリを作成しました:"),
                store.describe()
            );
            println!(
                "{}",
                t(
                    self.lang,
                    "Keep the passphrase safe, and print a paper key now: hokan key export --paper",
                    "パスフレーズを安全に保管し、今ペーパーキーを印刷してください: hokan key export --paper"
                )
            );
        }
        Ok(exit::OK)
    }

    fn backup(
        &self,
        paths: Vec<PathBuf>,
        source: String,
        tags: Vec<String>,
        force: bool,
        time: Option<String>,
    ) -> Out {
        let repo = self.open()?;
        if let Some(ls) = self.g.repo.as_ref() {
            // Temp files of killed runs; an hour old so a concurrent writer's are safe.
            LocalStore::new(ls)
                .clean_temp(std::time::Duration::from_secs(3600))
                .ok();
        }
        let bar = Bar::new(self.g.quiet, self.g.json, self.lang, "backup");
        let opts = BackupOptions {
            source,
            tags,
            paths,
            parent: if force {
                ParentChoice::None
            } else {
                ParentChoice::Auto
            },
            time,
        };
        let r = repo.backup(&opts, &bar);
        bar.finish();
        let r = r.map_err(|e| self.fail(e))?;
        let s = &r.snapshot;
        let m = &s.summary;
        if self.g.json {
            print_json(
                &json!({"snapshot": r.id, "snapshot_short": r.id.short(), "time": s.time, "source": s.source,
                "partial": s.partial, "errors": s.errors, "summary": m}),
            );
        } else {
            let l = self.lang;
            println!(
                "{} {} ({})",
                t(l, "snapshot", "スナップショット"),
                r.id.short(),
                short_time(&s.time)
            );
            println!(
                "  {}: {} {} / {} {} / {} {}",
                t(l, "files", "ファイル"),
                m.files_new,
                t(l, "new", "新規"),
                m.files_changed,
                t(l, "changed", "変更"),
                m.files_unchanged,
                t(l, "unchanged", "変更なし")
            );
            println!(
                "  {}: {}   {}: {}   {}: {}",
                t(l, "read", "読み込み"),
                Bytes(m.bytes_read),
                t(l, "total", "合計"),
                Bytes(m.bytes_total),
                t(l, "added to repository", "リポジトリへの追加"),
                Bytes(m.bytes_added)
            );
            println!(
                "  {}: {:.1}s",
                t(l, "duration", "所要時間"),
                m.duration_secs
            );
            if s.partial {
                eprintln!(
                    "{} {} {}",
                    t(l, "PARTIAL snapshot:", "部分的なスナップショット:"),
                    s.errors.len(),
                    t(
                        l,
                        "path(s) could not be read (listed above; recorded in the snapshot)",
                        "件のパスを読めませんでした (上記参照。スナップショットに記録済み)"
                    )
                );
            }
        }
        Ok(if s.partial { exit::PARTIAL } else { exit::OK })
    }

    fn snapshots(&self, source: Option<String>) -> Out {
        let repo = self.open()?;
        let (list, broken) = repo.snapshots().map_err(|e| self.fail(e))?;
        let list: Vec<_> = list
            .into_iter()
            .filter(|(_, s)| source.as_ref().is_none_or(|x| &s.source == x))
            .collect();
        if self.g.json {
            let v: Vec<_> = list
                .iter()
                .map(|(id, s)| json!({"id": id, "short_id": id.short(), "time": s.time, "source": s.source, "hostname": s.hostname,
                    "tags": s.tags, "paths": s.paths, "partial": s.partial, "summary": s.summary}))
                .collect();
            print_json(&json!(v));
        } else {
            let l = self.lang;
            println!(
                "{:<10} {} {} {}  {}",
                "ID",
                pad(t(l, "time", "日時"), 20),
                pad(t(l, "source", "対象"), 12),
                pad_left(t(l, "size", "サイズ"), 10),
                t(l, "paths", "パス")
            );
            for (id, s) in &list {
                println!(
                    "{:<10} {} {} {:>10}  {}{}",
                    id.short(),
                    pad(&short_time(&s.time), 20),
                    pad(&s.source, 12),
                    Bytes(s.summary.bytes_total).to_string(),
                    s.paths.join(" "),
                    if s.partial {
                        t(l, "  (partial)", "  (部分的)")
                    } else {
                        ""
                    }
                );
            }
            println!("{} {}", list.len(), t(l, "snapshot(s)", "件"));
        }
        for (name, e) in &broken {
            eprintln!(
                "{} {name}: {e}",
                t(self.lang, "damaged snapshot", "破損したスナップショット")
            );
        }
        Ok(if broken.is_empty() {
            exit::OK
        } else {
            exit::DAMAGE
        })
    }

    fn ls(&self, snap: &str, path: &str) -> Out {
        let repo = self.open()?;
        let (id, _) = repo.find_snapshot(snap, None).map_err(|e| self.fail(e))?;
        let entries = repo.ls(&id, path).map_err(|e| self.fail(e))?;
        if self.g.json {
            let v: Vec<_> = entries
                .iter()
                .map(|e| json!({"path": e.rel.display().to_string(), "type": e.node.kind, "mode": format!("{:o}", e.node.mode),
                    "size": e.node.size, "mtime_ns": e.node.mtime_ns, "uid": e.node.uid, "gid": e.node.gid}))
                .collect();
            print_json(&json!(v));
        } else {
            for e in entries {
                let k = match e.node.kind {
                    NodeKind::Dir => 'd',
                    NodeKind::Symlink => 'l',
                    NodeKind::File => '-',
                    _ => '?',
                };
                println!(
                    "{k}{:04o} {:>6}:{:<6} {:>12}  {}",
                    e.node.mode,
                    e.node.uid,
                    e.node.gid,
                    e.node.size,
                    e.rel.display()
                );
            }
        }
        Ok(exit::OK)
    }

    fn diff(&self, a: &str, b: &str) -> Out {
        let repo = self.open()?;
        let (ia, _) = repo.find_snapshot(a, None).map_err(|e| self.fail(e))?;
        let (ib, _) = repo.find_snapshot(b, None).map_err(|e| self.fail(e))?;
        let changes = repo.diff(&ia, &ib).map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!(changes));
        } else {
            for c in &changes {
                println!("{}  {}", c.change, c.path);
            }
            println!(
                "{} {}",
                changes.len(),
                t(self.lang, "change(s)", "件の変更")
            );
        }
        Ok(exit::OK)
    }

    fn restore(
        &self,
        snap: &str,
        target: PathBuf,
        include: Vec<String>,
        overwrite: bool,
        source: Option<String>,
    ) -> Out {
        let repo = self.open()?;
        let (id, s) = repo
            .find_snapshot(snap, source.as_deref())
            .map_err(|e| self.fail(e))?;
        let bar = Bar::new(self.g.quiet, self.g.json, self.lang, "restore");
        let r = repo.restore(
            &id,
            &RestoreOptions {
                target: target.clone(),
                include,
                overwrite,
            },
            &bar,
        );
        bar.finish();
        let st = r.map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!({"snapshot": id, "time": s.time, "target": target, "stats": st}));
        } else {
            let l = self.lang;
            println!(
                "{} {} → {}: {} {}, {} {}, {} ({:.1}s)",
                t(l, "restored", "復元しました"),
                id.short(),
                target.display(),
                st.files,
                t(l, "files", "ファイル"),
                st.dirs,
                t(l, "folders", "フォルダ"),
                Bytes(st.bytes),
                st.duration_secs
            );
            for (p, e) in &st.errors {
                eprintln!("{} {p}: {e}", t(l, "NOT RESTORED:", "復元できません:"));
            }
        }
        Ok(if st.errors.is_empty() {
            exit::OK
        } else {
            exit::PARTIAL
        })
    }

    fn verify(&self, read_data: bool) -> Out {
        let repo = self.open()?;
        let bar = Bar::new(self.g.quiet, self.g.json, self.lang, "verify");
        let r = repo.verify(read_data, &bar);
        bar.finish();
        let rep = r.map_err(|e| self.fail(e))?;
        let l = self.lang;
        if self.g.json {
            print_json(&json!({"ok": rep.ok(), "read_data": read_data, "report": rep}));
        } else {
            for w in &rep.warnings {
                println!("{} {w}", t(l, "note:", "注意:"));
            }
            for d in &rep.damage {
                println!("{} {}: {}", t(l, "DAMAGED", "破損"), d.object, d.detail);
            }
            for a in &rep.affected {
                println!(
                    "{} {} ({} {}) {}",
                    t(l, "cannot restore:", "復元不可:"),
                    a.path,
                    a.snapshot,
                    a.time,
                    a.source
                );
            }
            if rep.ok() {
                println!(
                    "{}: {} {}, {} {}, {} {}{}",
                    t(l, "no damage found", "破損はありません"),
                    rep.snapshots,
                    t(l, "snapshots", "スナップショット"),
                    rep.trees,
                    t(l, "trees", "ツリー"),
                    rep.packs,
                    t(l, "packs", "パック"),
                    if read_data {
                        format!(
                            ", {} {}",
                            Bytes(rep.bytes_read),
                            t(l, "read and authenticated", "を読み込み認証")
                        )
                    } else {
                        String::new()
                    }
                );
            } else {
                println!(
                    "{}: {} {}, {} {}",
                    t(l, "DAMAGE FOUND", "破損を検出"),
                    rep.damage.len(),
                    t(l, "damaged object(s)", "個の破損オブジェクト"),
                    rep.affected.len(),
                    t(
                        l,
                        "file(s) or folder(s) cannot be restored completely",
                        "個のファイル/フォルダが完全には復元できません"
                    )
                );
            }
        }
        Ok(if rep.ok() { exit::OK } else { exit::DAMAGE })
    }

    fn forget(
        &self,
        policy: KeepPolicy,
        source: Option<String>,
        dry_run: bool,
        prune: bool,
    ) -> Out {
        let repo = self.open()?;
        let plan = repo
            .forget(&policy, source.as_deref(), dry_run)
            .map_err(|e| self.fail(e))?;
        let l = self.lang;
        if !self.g.json {
            for d in &plan.decisions {
                println!(
                    "{} {} {} {} {}",
                    if d.keep {
                        t(l, "keep  ", "保持  ")
                    } else {
                        t(l, "remove", "削除  ")
                    },
                    d.id.short(),
                    short_time(&d.time),
                    d.source,
                    d.reasons.join(",")
                );
            }
            if dry_run {
                println!(
                    "{}",
                    t(
                        l,
                        "dry run: nothing was removed",
                        "ドライラン: 何も削除していません"
                    )
                );
            }
        }
        let pruned = if prune && !dry_run {
            Some(
                repo.prune(&PruneOptions::default())
                    .map_err(|e| self.fail(e))?,
            )
        } else {
            None
        };
        if self.g.json {
            print_json(
                &json!({"dry_run": dry_run, "policy": policy, "plan": plan, "prune": pruned}),
            );
        } else if let Some(p) = pruned {
            self.print_prune(&p, false);
        }
        Ok(exit::OK)
    }

    fn print_prune(&self, p: &hokan_repo::prune::PrunePlan, dry_run: bool) {
        let l = self.lang;
        println!(
            "{}: {} {}, {} {}, {} {}; {} {}, {} {}",
            if dry_run {
                t(l, "prune plan", "prune 計画")
            } else {
                t(l, "pruned", "prune 完了")
            },
            p.packs_delete.len(),
            t(l, "packs deleted", "パック削除"),
            p.packs_repack.len(),
            t(l, "repacked", "再パック"),
            p.packs_keep,
            t(l, "kept", "保持"),
            Bytes(p.bytes_freed),
            t(l, "freed", "解放"),
            Bytes(p.bytes_repacked),
            t(l, "copied", "コピー")
        );
        for (id, when) in &p.protected {
            println!(
                "{} {} {} {when}",
                t(l, "protected, kept:", "保護中のため保持:"),
                id.short(),
                t(l, "deletable after", "削除可能日時")
            );
        }
    }

    fn prune(&self, dry_run: bool, threshold: u8) -> Out {
        let repo = self.open()?;
        let p = repo
            .prune(&PruneOptions {
                repack_threshold_pct: threshold.min(100),
                dry_run,
            })
            .map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!({"dry_run": dry_run, "plan": p}));
        } else {
            self.print_prune(&p, dry_run);
        }
        Ok(exit::OK)
    }

    fn key(&self, action: KeyAction) -> Out {
        let repo = self.open()?;
        let l = self.lang;
        match action {
            KeyAction::Add {
                label,
                new_password_file,
                insecure_fast_kdf,
            } => {
                let g2 = Global {
                    password_file: new_password_file,
                    ..self.g.clone()
                };
                let pw = match (&g2.password_file, std::env::var("HOKAN_NEW_PASSWORD")) {
                    (None, Ok(p)) => p.into_bytes(),
                    _ => passphrase(
                        &Global {
                            password_file: g2.password_file.clone(),
                            ..self.g.clone()
                        },
                        l,
                        true,
                    )?,
                };
                let kdf = if insecure_fast_kdf {
                    KdfStrength::TestOnly
                } else {
                    KdfStrength::Standard
                };
                let name = repo.add_key(&pw, &label, kdf).map_err(|e| self.fail(e))?;
                if self.g.json {
                    print_json(&json!({"added": name}));
                } else {
                    println!(
                        "{} {}",
                        t(l, "added key slot", "鍵スロットを追加しました:"),
                        &name[..8]
                    );
                }
            }
            KeyAction::List => {
                let keys = repo.list_keys().map_err(|e| self.fail(e))?;
                if self.g.json {
                    let v: Vec<_> = keys
                        .iter()
                        .map(|(n, k)| json!({"id": n, "created": k.created, "hostname": k.hostname, "username": k.username,
                            "label": k.label, "current": Some(n.as_str()) == repo.key_slot(), "kdf": {"m_cost": k.kdf.m_cost, "t_cost": k.kdf.t_cost, "p_cost": k.kdf.p_cost}}))
                        .collect();
                    print_json(&json!(v));
                } else {
                    for (n, k) in keys {
                        let cur = if Some(n.as_str()) == repo.key_slot() {
                            "*"
                        } else {
                            " "
                        };
                        println!(
                            "{cur} {} {} {}@{} {}",
                            &n[..8],
                            k.created,
                            k.username,
                            k.hostname,
                            k.label
                        );
                    }
                }
            }
            KeyAction::Remove { id } => {
                let name = repo.remove_key(&id, false).map_err(|e| self.fail(e))?;
                if self.g.json {
                    print_json(&json!({"removed": name}));
                } else {
                    println!(
                        "{} {}",
                        t(l, "removed key slot", "鍵スロットを削除しました:"),
                        &name[..8]
                    );
                }
            }
            KeyAction::Export { paper } => {
                let secret = repo.key().secret();
                let cfg = repo.config();
                if paper {
                    println!(
                        "{}",
                        paper_sheet(&cfg.id, &cfg.created, self.g.repo.as_deref(), secret)
                    );
                } else if self.g.json {
                    print_json(
                        &json!({"repository": cfg.id, "master_secret": hex::encode(secret)}),
                    );
                } else {
                    println!("{}", hex::encode(secret));
                }
                eprintln!(
                    "{}",
                    t(
                        l,
                        "WARNING: this opens the repository without any passphrase. Store it offline, in a safe.",
                        "警告: これがあればパスフレーズなしでリポジトリを開けます。金庫などオフラインで保管してください。"
                    )
                );
            }
        }
        Ok(exit::OK)
    }

    fn repair_index(&self) -> Out {
        let mut repo = self.open()?;
        let st = repo.repair_index().map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!(st));
        } else {
            let l = self.lang;
            println!(
                "{} {}",
                t(l, "packs indexed:", "索引に登録したパック:"),
                st.packs_indexed
            );
            for id in &st.damaged_index_removed {
                println!(
                    "{} {id}",
                    t(
                        l,
                        "removed damaged index file",
                        "破損した索引ファイルを削除:"
                    )
                );
            }
            for (id, e) in &st.unreadable_packs {
                println!(
                    "{} {id}: {e}",
                    t(
                        l,
                        "DAMAGED pack, header unreadable:",
                        "破損パック (ヘッダ読めず):"
                    )
                );
            }
        }
        Ok(if st.unreadable_packs.is_empty() {
            exit::OK
        } else {
            exit::DAMAGE
        })
    }

    fn unlock(&self, all: bool) -> Out {
        let repo = self.open()?;
        let n = repo.unlock(all).map_err(|e| self.fail(e))?;
        if self.g.json {
            print_json(&json!({"removed": n}));
        } else {
            println!("{} {n}", t(self.lang, "locks removed:", "削除したロック:"));
        }
        Ok(exit::OK)
    }
}

/// The printable paper key sheet (bilingual, so whoever finds it in ten years can use it).
pub fn paper_sheet(repo_id: &Id, created: &str, path: Option<&Path>, secret: &[u8; 32]) -> String {
    let mut s = String::new();
    s.push_str("hokan paper key / hokan ペーパーキー\n");
    s.push_str("==================================\n");
    s.push_str(&format!("repository id / リポジトリID : {repo_id}\n"));
    s.push_str(&format!("created / 作成日時          : {created}\n"));
    if let Some(p) = path {
        s.push_str(&format!(
            "location when printed / 印刷時の場所 : {}\n",
            p.display()
        ));
    }
    s.push('\n');
    for line in hokan_format::paper::encode_lines(secret) {
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(
        "\nTo restore without the passphrase: type the four K lines into a file and run\n  hokan --repo REPO --paper-key FILE restore latest --target DIR\n\
         Each line has its own checksum (ck): a typing mistake is reported with its line.\n\
         パスフレーズなしで復元するには: K1〜K4 の4行をファイルに入力し、次を実行します\n  hokan --repo REPO --paper-key FILE restore latest --target DIR\n\
         各行にチェックサム (ck) があり、入力誤りは行ごとに検出されます。\n\
         Keep this sheet in a safe, away from the servers. / サーバーから離れた金庫に保管してください。\n",
    );
    s
}
