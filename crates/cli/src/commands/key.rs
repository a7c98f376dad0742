//! `hokan init` and `hokan key`: a new repository, its key slots and its
//! paper key.

use super::*;

impl Ctx<'_> {
    /// `init` wants an empty or missing folder: a repository mixed into a
    /// folder of other files is easily damaged by whoever tidies it, and a
    /// mistyped path must not scatter hokan's folders among someone's
    /// documents. A folder holding a repository gets the engine's own
    /// refusal; `lost+found` alone (a freshly made filesystem) counts as
    /// empty.
    /// A bucket gets the store's own refusal when it holds a repository
    /// already (other objects beside it are tolerated: a bucket is often
    /// shared, each user under its prefix).
    pub(super) fn refuse_non_empty_folder(&self) -> Result<(), Failure> {
        let location = self.location()?;
        let Some(path) = location.folder() else {
            return Ok(());
        };
        if path.join("config").exists() {
            return Ok(());
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return Ok(()); // Missing (created below), or the engine reports why not.
        };
        let other = entries
            .filter_map(|e| e.ok())
            .find(|e| e.file_name() != "lost+found");
        match other {
            None => Ok(()),
            Some(e) => Err(Failure::new(
                exit::USAGE,
                match self.lang {
                    Lang::En => format!(
                        "folder {} is not empty (it holds {:?}, …): hokan init wants an empty or missing folder. Choose a new one, e.g. {}; nothing was changed",
                        path.display(),
                        e.file_name(),
                        path.join("hokan").display()
                    ),
                    Lang::Ja => format!(
                        "フォルダ {} は空ではありません（{:?} などがあります）。hokan init には空のフォルダか存在しないフォルダを指定してください（例: {}）。何も変更していません",
                        path.display(),
                        e.file_name(),
                        path.join("hokan").display()
                    ),
                },
            )),
        }
    }

    pub(super) fn init(&self, fast: bool, pack_size: Option<u32>) -> Out {
        self.refuse_non_empty_folder()?;
        let store = self.store()?;
        let pw = passphrase_from(
            self.g,
            self.site()?.passphrase_file.as_deref(),
            self.lang,
            true,
        )?;
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
        // Advice only: the repository is made whatever the bucket says.
        let warnings =
            hokan_jobs::repository::primary_warnings(&self.location()?).unwrap_or_else(|e| {
                vec![hokan_offline::Text::new(
                    format!("could not read the bucket's settings: {e}"),
                    format!("バケットの設定を読めませんでした: {e}"),
                )]
            });
        for w in &warnings {
            eprintln!(
                "{} {}",
                t(self.lang, "warning:", "警告:"),
                crate::i18n::pick(self.lang, w)
            );
        }
        if self.g.json {
            print_json(
                &json!({"repository": store.describe(), "id": repo.config().id, "version": repo.config().version, "warnings": warnings}),
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

    pub(super) fn key(&self, action: KeyAction) -> Out {
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
                let new_env = std::env::var("HOKAN_NEW_PASSPHRASE")
                    .or_else(|_| std::env::var("HOKAN_NEW_PASSWORD"));
                let pw = match (&g2.password_file, new_env) {
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
                for (n, why) in repo.damaged_key_slots() {
                    eprintln!(
                        "{} {n}: {why}",
                        t(l, "DAMAGED key slot", "破損した鍵スロット")
                    );
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
                        paper_sheet(
                            &cfg.id,
                            &cfg.created,
                            self.location().ok().map(|l| l.label()).as_deref(),
                            secret
                        )
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
}

/// The printable paper key sheet (bilingual, so whoever finds it in ten years can use it).
pub fn paper_sheet(repo_id: &Id, created: &str, path: Option<&str>, secret: &[u8; 32]) -> String {
    let mut s = String::new();
    s.push_str("hokan paper key / hokan ペーパーキー\n");
    s.push_str("==================================\n");
    s.push_str(&format!("repository id / リポジトリID : {repo_id}\n"));
    s.push_str(&format!("created / 作成日時          : {created}\n"));
    if let Some(p) = path {
        s.push_str(&format!("location when printed / 印刷時の場所 : {p}\n"));
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
