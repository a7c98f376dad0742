//! `hokan verify|forget|prune|repair|unlock`: keeping the repository
//! sound and its size in check.

use super::*;

impl Ctx<'_> {
    pub(super) fn verify(&self, read_data: bool) -> Out {
        let repo = self.open()?;
        let bar = Bar::new(self.g.quiet, self.g.json, self.lang, "verify");
        let started = time::OffsetDateTime::now_utc();
        let r = repo.verify(read_data, &bar);
        bar.finish();
        let rep = r.map_err(|e| self.fail(e))?;
        let target = self.location().map(|l| l.label()).unwrap_or_default();
        let outcome = if rep.ok() { "ok" } else { "failed" };
        self.record_in_catalog(&repo, "verify", &target, started, outcome, |_| {
            json!({"read_data": read_data, "packs": rep.packs, "snapshots": rep.snapshots,
                   "bytes_read": rep.bytes_read, "damage": rep.damage.len()})
        });
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

    pub(super) fn forget(
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
                    show_time(&d.time, self.offset()),
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
            self.clean_temp()?;
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

    pub(super) fn print_prune(&self, p: &hokan_repo::prune::PrunePlan, dry_run: bool) {
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

    pub(super) fn prune(&self, dry_run: bool, threshold: u8) -> Out {
        let repo = self.open()?;
        if !dry_run {
            self.clean_temp()?;
        }
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

    pub(super) fn repair_index(&self) -> Out {
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
            if !st.missing_packs.is_empty() {
                println!(
                    "{}",
                    missing_packs_warning(
                        l,
                        &hokan_repo::repository::PackCheck {
                            missing_packs: st.missing_packs.clone(),
                            blobs_dropped: st.blobs_dropped,
                            ..Default::default()
                        }
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

    pub(super) fn repair_snapshots(&self, dry_run: bool, read_data: bool, forget: bool) -> Out {
        let repo = self.open()?;
        let r = repo
            .repair_snapshots(&hokan_repo::repair::RepairSnapshotsOptions {
                dry_run,
                read_data,
                forget_originals: forget,
            })
            .map_err(|e| self.fail(e))?;
        let failed = !r.unsalvageable.is_empty() || !r.damaged_manifests.is_empty();
        let code = if failed || (dry_run && !r.salvaged.is_empty()) {
            exit::DAMAGE
        } else {
            exit::OK
        };
        if self.g.json {
            print_json(&json!({"repair": r, "files_lost": r.files_lost(), "exit_code": code}));
            return Ok(code);
        }
        let l = self.lang;
        if !r.packs.missing_packs.is_empty() {
            println!("{}", missing_packs_warning(l, &r.packs));
        }
        for d in &r.damage {
            println!("{} {}: {}", t(l, "DAMAGED", "破損"), d.object, d.detail);
        }
        for s in &r.salvaged {
            let new = s
                .new
                .map(|id| id.short())
                .unwrap_or_else(|| t(l, "(dry run)", "(ドライラン)").to_owned());
            println!(
                "{} {} ({} {}) → {} : {} {}",
                t(l, "salvaged", "救済"),
                s.original.short(),
                show_time(&s.time, self.offset()),
                s.source,
                new,
                s.lost.len(),
                t(l, "file(s) left out", "件を除外")
            );
            for e in &s.lost {
                println!("  {} {}", t(l, "LEFT OUT:", "除外:"), e.path);
            }
            if s.original_forgotten {
                println!(
                    "  {} {}",
                    t(l, "original forgotten:", "元のスナップショットを削除:"),
                    s.original.short()
                );
            }
        }
        for (orig, copy) in &r.already_salvaged {
            println!(
                "{} {} → {}",
                t(l, "already salvaged:", "救済済み:"),
                orig.short(),
                copy.short()
            );
        }
        for (id, why) in &r.unsalvageable {
            println!(
                "{} {}: {why}",
                t(
                    l,
                    "CANNOT SALVAGE (its root folder listing is gone):",
                    "救済不可 (ルートのフォルダ一覧が失われています):"
                ),
                id.short()
            );
        }
        for (name, why) in &r.damaged_manifests {
            println!(
                "{} {name}: {why}",
                t(l, "damaged snapshot", "破損したスナップショット")
            );
        }
        println!(
            "{}: {} {}, {} {}, {} {}",
            if dry_run {
                t(
                    l,
                    "dry run, nothing written",
                    "ドライラン (何も書き込んでいません)",
                )
            } else {
                t(l, "repair snapshots", "スナップショット修復")
            },
            r.snapshots,
            t(l, "snapshot(s) checked", "件を確認"),
            r.salvaged.len(),
            t(l, "salvaged", "件を救済"),
            r.files_lost(),
            t(l, "file(s) left out", "件のファイルを除外")
        );
        if !r.salvaged.is_empty() && !forget {
            println!(
                "{}",
                t(
                    l,
                    "the damaged originals are kept; `hokan repair snapshots --forget` (or `hokan forget`) removes them, after which prune works again",
                    "破損した元のスナップショットは残しています。`hokan repair snapshots --forget` (または `hokan forget`) で削除すると prune が再び実行できます"
                )
            );
        }
        if !r.salvaged.is_empty() && forget && read_data && !dry_run {
            // Prune's default threshold leaves a pack alone when little of it
            // is unused, so a small damaged blob would stay and keep `verify
            // --read-data` failing.
            println!(
                "{}",
                t(
                    l,
                    "next: `hokan prune --repack-threshold 0` removes the damaged blobs nothing needs any more",
                    "次に `hokan prune --repack-threshold 0` で、どのスナップショットも使わなくなった破損ブロブを削除してください"
                )
            );
        }
        Ok(code)
    }

    pub(super) fn unlock(&self, all: bool) -> Out {
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
