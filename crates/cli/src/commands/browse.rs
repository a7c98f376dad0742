//! `hokan snapshots|ls|diff|restore`: looking into the repository and
//! restoring from it.

use super::*;

impl Ctx<'_> {
    pub(super) fn snapshots(&self, source: Option<String>) -> Out {
        let offset = self.offset();
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
                pad(t(l, "time", "日時"), 26),
                pad(t(l, "source", "対象"), 12),
                pad_left(t(l, "size", "サイズ"), 10),
                t(l, "paths", "パス")
            );
            for (id, s) in &list {
                println!(
                    "{:<10} {} {} {:>10}  {}{}",
                    id.short(),
                    pad(&show_time(&s.time, offset), 26),
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

    pub(super) fn ls(&self, snap: &str, path: &str) -> Out {
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

    pub(super) fn diff(&self, a: &str, b: &str) -> Out {
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

    pub(super) fn restore(
        &self,
        snap: &str,
        target: PathBuf,
        include: Vec<String>,
        overwrite: bool,
        source: Option<String>,
        latest_undamaged: bool,
    ) -> Out {
        let repo = self.open()?;
        restore_snapshot(
            self.g,
            self.lang,
            &repo,
            snap,
            target,
            include,
            overwrite,
            source,
            latest_undamaged,
        )
    }
}
