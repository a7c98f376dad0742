//! The offline targets: tape pools, disk pools, S3 buckets and vaults.
//!
//! Their names share one namespace, because each becomes a `PoolName` in
//! the catalog; a name used twice is reported at the later table, with the
//! line of the first. Every target needs a retention: without one hokan
//! cannot tell when a medium may be reused or an object may expire.

use std::collections::HashMap;
use std::ops::Range;

use hokan_offline::Text;
use time::Duration;
use toml::Spanned;

use super::{t, Check};
use crate::model::*;
use crate::problem::{self, ProblemKind};
use crate::raw::*;

impl Check<'_> {
    pub(super) fn targets(&mut self, raw: &RawFile) -> Vec<Target> {
        let mut found = Vec::new();
        for (i, p) in raw.tape_pool.iter().enumerate() {
            let key = format!("tape_pool[{i}]");
            let mut target = self.tape_pool(p, &key);
            target.schedule =
                self.schedule(p.get_ref().schedule.as_ref(), &format!("{key}.schedule"));
            target.drill_schedule = self.schedule(
                p.get_ref().drill_schedule.as_ref(),
                &format!("{key}.drill_schedule"),
            );
            found.push((p.span().start, key, p.get_ref().name.as_ref(), target));
        }
        for (i, p) in raw.disk_pool.iter().enumerate() {
            let key = format!("disk_pool[{i}]");
            let mut target = self.disk_pool(p, &key);
            target.schedule =
                self.schedule(p.get_ref().schedule.as_ref(), &format!("{key}.schedule"));
            target.drill_schedule = self.schedule(
                p.get_ref().drill_schedule.as_ref(),
                &format!("{key}.drill_schedule"),
            );
            found.push((p.span().start, key, p.get_ref().name.as_ref(), target));
        }
        for (i, p) in raw.s3.iter().enumerate() {
            let key = format!("s3[{i}]");
            let mut target = self.s3(p, &key);
            target.schedule =
                self.schedule(p.get_ref().schedule.as_ref(), &format!("{key}.schedule"));
            target.drill_schedule = self.schedule(
                p.get_ref().drill_schedule.as_ref(),
                &format!("{key}.drill_schedule"),
            );
            found.push((p.span().start, key, p.get_ref().name.as_ref(), target));
        }
        for (i, p) in raw.vault.iter().enumerate() {
            let key = format!("vault[{i}]");
            let mut target = self.vault(p, &key);
            target.schedule =
                self.schedule(p.get_ref().schedule.as_ref(), &format!("{key}.schedule"));
            found.push((p.span().start, key, p.get_ref().name.as_ref(), target));
        }
        found.sort_by_key(|(start, ..)| *start);
        // One namespace for all kinds: each name becomes a PoolName.
        let mut seen: HashMap<&str, (&str, usize)> = HashMap::new();
        for (_, key, name, target) in &found {
            let Some(name) = name else { continue };
            if target.name.as_str().is_empty() {
                continue;
            }
            let (line, _) = problem::position(self.text, name.span().start);
            match seen.get(target.name.as_str()) {
                Some((first, first_line)) => {
                    let n = target.name.as_str();
                    self.push(
                        name.span(),
                        &format!("{key}.name"),
                        ProblemKind::Duplicate,
                        t(
                            format!("Target name {n:?} is already used by {first} on line {first_line}; pools, S3 buckets and vaults share one set of names."),
                            format!("保管先の名前 {n:?} は {first_line} 行目の {first} で使われています。テープ・ディスクのプール、S3、保管サーバの名前は共通で重複できません。"),
                        ),
                        t(
                            "Give each pool or target its own name.",
                            "プール・保管先ごとに別の名前を付けてください。",
                        ),
                    );
                }
                None => {
                    seen.insert(target.name.as_str(), (key.as_str(), line));
                }
            }
        }
        found.into_iter().map(|(.., target)| target).collect()
    }

    /// A target's required retention.
    fn retention(
        &mut self,
        v: Option<&Spanned<RawSpan>>,
        table: Range<usize>,
        key: &str,
        what: Text,
    ) -> Duration {
        let key = format!("{key}.retention");
        match v {
            Some(v) => self.duration(v, &key, true),
            None => {
                self.missing(
                    table,
                    &key,
                    t(
                        format!("Add retention = \"…\" (e.g. \"28d\"): {}.", what.en),
                        format!(
                            "retention = \"…\"（例: \"28d\"）を追加してください: {}。",
                            what.ja
                        ),
                    ),
                );
                Duration::ZERO
            }
        }
    }

    fn tape_pool(&mut self, pool: &Spanned<RawTapePool>, key: &str) -> Target {
        let span = pool.span();
        let p = pool.get_ref();
        let name = self.name(
            p.name.as_ref(),
            span.clone(),
            &format!("{key}.name"),
            &t("pool's", "プール"),
        );
        let mode = match &p.mode {
            Some(m) => self.choice(
                m,
                &format!("{key}.mode"),
                &[
                    ("single-drive", TapeMode::SingleDrive),
                    ("library", TapeMode::Library),
                ],
            ),
            None => {
                self.missing(
                    span.clone(),
                    &format!("{key}.mode"),
                    t(
                        "Add mode = \"single-drive\" (one drive, ①-1-1) or \"library\" (tape library or autoloader, ①-2-1/①-2-2).",
                        "mode = \"single-drive\"（単体ドライブ、①-1-1）または \"library\"（テープライブラリ・オートローダ、①-2-1/①-2-2）を書いてください。",
                    ),
                );
                None
            }
        };
        let after_job = p.after_job.as_ref().and_then(|a| {
            let after = self.choice(
                a,
                &format!("{key}.after_job"),
                &[("unload", AfterJob::Unload), ("export", AfterJob::Export), ("eject", AfterJob::Eject)],
            )?;
            match (mode?, after) {
                (TapeMode::SingleDrive, AfterJob::Unload | AfterJob::Export) => {
                    let w = a.get_ref();
                    self.push(
                        a.span(),
                        &format!("{key}.after_job"),
                        ProblemKind::Mismatch,
                        t(
                            format!("after_job = {w:?} does not fit mode = \"single-drive\": a single drive has no slots to {w} to; its cartridge is ejected (①-1-1)."),
                            format!("after_job = {w:?} は mode = \"single-drive\" と合いません。単体ドライブにはスロットがなく、カートリッジは排出します（①-1-1）。"),
                        ),
                        t(
                            "Use after_job = \"eject\", or mode = \"library\" if the drive is in a library or autoloader.",
                            "after_job = \"eject\" にするか、ライブラリ・オートローダなら mode = \"library\" にしてください。",
                        ),
                    );
                }
                (TapeMode::Library, AfterJob::Eject) => {
                    self.push(
                        a.span(),
                        &format!("{key}.after_job"),
                        ProblemKind::Mismatch,
                        t(
                            "after_job = \"eject\" does not fit mode = \"library\": a library's cartridge goes back to a slot (\"unload\", ①-2-1) or out of the library (\"export\", ①-2-2).",
                            "after_job = \"eject\" は mode = \"library\" と合いません。ライブラリのカートリッジはスロットに戻す（\"unload\"、①-2-1）か、ライブラリの外へ出します（\"export\"、①-2-2）。",
                        ),
                        t(
                            "Use after_job = \"unload\" or \"export\", or mode = \"single-drive\" for a stand-alone drive.",
                            "after_job = \"unload\" か \"export\" にするか、単体ドライブなら mode = \"single-drive\" にしてください。",
                        ),
                    );
                }
                _ => {}
            }
            Some(after)
        });
        let mode = mode.unwrap_or(TapeMode::SingleDrive);
        let after_job = after_job.unwrap_or(match mode {
            TapeMode::SingleDrive => AfterJob::Eject,
            TapeMode::Library => AfterJob::Unload,
        });
        let retention = self.retention(
            p.retention.as_ref(),
            span,
            key,
            t(
                "how long a cartridge's data must be kept before it may be overwritten",
                "カートリッジのデータを上書きしてよくなるまで保持する期間",
            ),
        );
        let allocation = p
            .allocation
            .as_ref()
            .and_then(|a| {
                self.choice(
                    a,
                    &format!("{key}.allocation"),
                    &[
                        ("weekday", Allocation::Weekday),
                        ("weekly", Allocation::Weekly),
                        ("continue", Allocation::Continue),
                    ],
                )
            })
            .unwrap_or(Allocation::Continue);
        let device = p
            .device
            .as_ref()
            .map(|d| self.filled(d, &format!("{key}.device")));
        let changer = p
            .changer
            .as_ref()
            .map(|d| self.filled(d, &format!("{key}.changer")));
        let drive = match &p.drive {
            Some(d) if !(0..=255).contains(d.get_ref()) => {
                self.push(
                    d.span(),
                    &format!("{key}.drive"),
                    ProblemKind::BadValue,
                    t(
                        format!("drive = {} is not a drive number: mtx numbers a library's drives from 0.", d.get_ref()),
                        format!("drive = {} はドライブ番号ではありません。mtx はライブラリのドライブを 0 から数えます。", d.get_ref()),
                    ),
                    t("Write the drive's number from `mtx status` (Data Transfer Element N).", "`mtx status` の Data Transfer Element の番号を書いてください。"),
                );
                0
            }
            Some(d) => *d.get_ref() as u32,
            None => 0,
        };
        let virtual_library = p
            .virtual_library
            .as_ref()
            .map(|v| self.path(v, &format!("{key}.virtual_library")));
        Target {
            name: name.into(),
            retention,
            schedule: None,
            drill_schedule: None,
            kind: TargetKind::TapePool(TapePool {
                mode,
                after_job,
                allocation,
                device,
                changer,
                drive,
                virtual_library,
            }),
        }
    }

    fn disk_pool(&mut self, pool: &Spanned<RawDiskPool>, key: &str) -> Target {
        let span = pool.span();
        let p = pool.get_ref();
        let name = self.name(
            p.name.as_ref(),
            span.clone(),
            &format!("{key}.name"),
            &t("pool's", "プール"),
        );
        let mode = match &p.mode {
            Some(m) => self.choice(
                m,
                &format!("{key}.mode"),
                &[
                    ("rdx-single-drive", DiskMode::RdxSingleDrive),
                    ("rdx-autoloader", DiskMode::RdxAutoloader),
                    ("removable-disk", DiskMode::RemovableDisk),
                    ("nas", DiskMode::Nas),
                ],
            ),
            None => {
                self.missing(
                    span.clone(),
                    &format!("{key}.mode"),
                    t(
                        "Add mode = \"rdx-single-drive\", \"rdx-autoloader\", \"removable-disk\" or \"nas\".",
                        "mode = \"rdx-single-drive\"、\"rdx-autoloader\"、\"removable-disk\"、\"nas\" のどれかを書いてください。",
                    ),
                );
                None
            }
        };
        let retention = self.retention(
            p.retention.as_ref(),
            span.clone(),
            key,
            t(
                "how long a disk's data must be kept before it may be overwritten",
                "ディスクのデータを上書きしてよくなるまで保持する期間",
            ),
        );
        let mount_point = p
            .mount_point
            .as_ref()
            .map(|m| self.absolute(m, &format!("{key}.mount_point"), "/mnt/hokan-rdx"));
        let mode = mode.unwrap_or(DiskMode::RemovableDisk);
        let autoloader = mode == DiskMode::RdxAutoloader;
        let rotation = p
            .rotation
            .as_ref()
            .and_then(|r| {
                self.choice(
                    r,
                    &format!("{key}.rotation"),
                    &[
                        ("weekday", Rotation::Weekday),
                        ("weekly", Rotation::Weekly),
                        ("any", Rotation::Any),
                    ],
                )
            })
            .unwrap_or(Rotation::Any);
        let cartridges: Vec<String> = p
            .cartridges
            .as_ref()
            .map(|c| c.get_ref().iter().map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        let bad_cartridge = cartridges.iter().enumerate().find(|(i, c)| {
            c.is_empty()
                || c.len() > 64
                || !c
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
                || cartridges[..*i].contains(c)
        });
        if let (Some((_, c)), Some(sp)) = (bad_cartridge, p.cartridges.as_ref()) {
            self.push(
                sp.span(),
                &format!("{key}.cartridges"),
                ProblemKind::BadValue,
                t(
                    format!("cartridge id {c:?} is empty, repeated, too long or has characters other than letters, digits, '-', '_' and '.'."),
                    format!("カートリッジ ID {c:?} が空か、重複しているか、長すぎるか、英数字・'-'・'_'・'.' 以外の文字を含みます。"),
                ),
                t("Use short ids printed on the cartridges, e.g. [\"RDX-MON\", \"RDX-TUE\"].", "カートリッジに印字した短い ID を使ってください（例: [\"RDX-MON\", \"RDX-TUE\"]）。"),
            );
        }
        if rotation != Rotation::Any && cartridges.is_empty() {
            self.push(
                p.rotation.as_ref().map(|r| r.span()).unwrap_or(span.clone()),
                &format!("{key}.cartridges"),
                ProblemKind::Missing,
                t(
                    "a weekday or weekly rotation needs the list of cartridges to rotate through.",
                    "曜日・週ごとのローテーションには、回すカートリッジの一覧が必要です。",
                ),
                t(
                    "Add cartridges = [\"RDX-MON\", \"RDX-TUE\", \"RDX-WED\", \"RDX-THU\", \"RDX-FRI\"] (Monday first for weekday).",
                    "cartridges = [\"RDX-MON\", \"RDX-TUE\", \"RDX-WED\", \"RDX-THU\", \"RDX-FRI\"]（weekday では月曜から）を書いてください。",
                ),
            );
        }
        if rotation == Rotation::Weekday && cartridges.len() > 7 {
            self.push(
                p.cartridges.as_ref().map(|c| c.span()).unwrap_or(span.clone()),
                &format!("{key}.cartridges"),
                ProblemKind::BadValue,
                t(
                    format!("a weekday rotation has at most 7 cartridges (Monday to Sunday), not {}.", cartridges.len()),
                    format!("曜日ローテーションのカートリッジは最大 7 本（月〜日）です（{} 本あります）。", cartridges.len()),
                ),
                t("Use rotation = \"weekly\" for more cartridges, or list one per weekday.", "それより多いなら rotation = \"weekly\" にするか、曜日ごとに 1 本にしてください。"),
            );
        }
        let after_job = p
            .after_job
            .as_ref()
            .and_then(|a| {
                let after = self.choice(
                    a,
                    &format!("{key}.after_job"),
                    &[
                        ("eject", DiskAfterJob::Eject),
                        ("deactivate", DiskAfterJob::Deactivate),
                        ("export", DiskAfterJob::Export),
                        ("unmount", DiskAfterJob::Unmount),
                    ],
                )?;
                let fits = match after {
                    DiskAfterJob::Deactivate | DiskAfterJob::Export => autoloader,
                    DiskAfterJob::Eject => !autoloader,
                    DiskAfterJob::Unmount => true,
                };
                if !fits {
                    let w = a.get_ref();
                    self.push(
                        a.span(),
                        &format!("{key}.after_job"),
                        ProblemKind::Mismatch,
                        t(
                            format!("after_job = {w:?} does not fit this mode: an autoloader's cartridge goes to an inactive slot (\"deactivate\", ②-2-1) or out (\"export\", ②-2-2); a single drive's or a disk's is ejected (\"eject\", ②-1-1)."),
                            format!("after_job = {w:?} はこの mode と合いません。オートローダのカートリッジは非アクティブスロットへ（\"deactivate\"、②-2-1）または外へ（\"export\"、②-2-2）、単体ドライブやディスクは排出（\"eject\"、②-1-1）です。"),
                        ),
                        t("Choose the after_job that fits mode.", "mode に合う after_job を選んでください。"),
                    );
                }
                Some(after)
            })
            .unwrap_or(if autoloader {
                DiskAfterJob::Deactivate
            } else {
                DiskAfterJob::Eject
            });
        let device = p
            .device
            .as_ref()
            .map(|d| self.filled(d, &format!("{key}.device")));
        let slots = p
            .slots
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default();
        let mut command = |c: &Option<Spanned<Vec<String>>>, what: &str| {
            let c = c.as_ref()?;
            if c.get_ref().first().is_none_or(|p| p.trim().is_empty()) {
                self.push(
                    c.span(),
                    &format!("{key}.{what}"),
                    ProblemKind::Empty,
                    t(
                        "The command is empty: there is no program to run.",
                        "コマンドが空です。実行するプログラムがありません。",
                    ),
                    t(
                        "Name the program first, e.g. [\"udisksctl\", \"power-off\", \"-b\", \"{device}\"].",
                        "先頭にプログラムを書いてください（例: [\"udisksctl\", \"power-off\", \"-b\", \"{device}\"]）。",
                    ),
                );
            }
            Some(c.get_ref().clone())
        };
        let commands = DiskCommands {
            mount: command(&p.mount_command, "mount_command"),
            unmount: command(&p.unmount_command, "unmount_command"),
            eject: command(&p.eject_command, "eject_command"),
            activate: command(&p.activate_command, "activate_command"),
            deactivate: command(&p.deactivate_command, "deactivate_command"),
            export: command(&p.export_command, "export_command"),
        };
        let virtual_device = p
            .virtual_device
            .as_ref()
            .map(|v| self.path(v, &format!("{key}.virtual_device")));
        Target {
            name: name.into(),
            retention,
            schedule: None,
            drill_schedule: None,
            kind: TargetKind::DiskPool(DiskPool {
                mode,
                mount_point,
                rotation,
                cartridges,
                after_job,
                device,
                slots,
                commands,
                virtual_device,
            }),
        }
    }

    fn s3(&mut self, bucket: &Spanned<RawS3>, key: &str) -> Target {
        let span = bucket.span();
        let b = bucket.get_ref();
        let name = self.name(
            b.name.as_ref(),
            span.clone(),
            &format!("{key}.name"),
            &t("target's", "保管先"),
        );
        let connection = self.s3_connection(
            &b.connection(),
            span.clone(),
            key,
            (
                4,
                t(
                    "A hospital uplink is best served by 2 to 8 simultaneous uploads.",
                    "病院の回線では同時アップロード 2〜8 が適当です。",
                ),
            ),
        );
        let lock_mode = b
            .lock_mode
            .as_ref()
            .and_then(|m| {
                self.choice(
                    m,
                    &format!("{key}.lock_mode"),
                    &[
                        ("compliance", S3LockMode::Compliance),
                        ("governance", S3LockMode::Governance),
                    ],
                )
            })
            .unwrap_or(S3LockMode::Compliance);
        let retention = self.retention(
            b.retention.as_ref(),
            span,
            key,
            t(
                "how long each object stays locked against deletion",
                "各オブジェクトを削除できないようロックしておく期間",
            ),
        );
        Target {
            name: name.into(),
            retention,
            schedule: None,
            drill_schedule: None,
            kind: TargetKind::S3(S3Bucket {
                connection,
                lock_mode,
                allow_unlocked: b.allow_unlocked.unwrap_or(false),
            }),
        }
    }

    /// Where and how to reach a bucket (`key`: `s3[0]` or
    /// `repository.s3`, whose table is at `span`): the keys an `[[s3]]`
    /// target and an S3 primary share. `concurrency`: the default and the
    /// advice for a value out of range.
    pub(super) fn s3_connection(
        &mut self,
        b: &RawS3Connection,
        span: Range<usize>,
        key: &str,
        concurrency: (u32, Text),
    ) -> S3Connection {
        let endpoint = b.endpoint.as_ref().map(|e| {
            let url = self.filled(e, &format!("{key}.endpoint"));
            if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
                self.push(
                    e.span(),
                    &format!("{key}.endpoint"),
                    ProblemKind::BadValue,
                    t(
                        format!("{url:?} is not a URL."),
                        format!("{url:?} は URL ではありません。"),
                    ),
                    t(
                        "Write the endpoint with its scheme, e.g. \"https://s3.ap-northeast-1.amazonaws.com\", or leave it out for AWS.",
                        "\"https://s3.ap-northeast-1.amazonaws.com\" のようにスキーム付きで書くか、AWS なら省略してください。",
                    ),
                );
            }
            url
        });
        let region = self.required(
            b.region.as_ref(),
            span.clone(),
            &format!("{key}.region"),
            t(
                "Add region = \"…\", e.g. \"ap-northeast-1\" (S3-compatible stores usually accept \"us-east-1\").",
                "region = \"…\" を書いてください（例: \"ap-northeast-1\"。S3 互換ストレージは多くの場合 \"us-east-1\"）。",
            ),
        );
        let bucket_name = self.required(
            b.bucket.as_ref(),
            span.clone(),
            &format!("{key}.bucket"),
            t(
                "Add bucket = \"…\", the bucket's name.",
                "bucket = \"…\" にバケット名を書いてください。",
            ),
        );
        let access_key_id = b
            .access_key_id
            .as_ref()
            .map(|k| self.filled(k, &format!("{key}.access_key_id")));
        let secret_access_key_file = b
            .secret_access_key_file
            .as_ref()
            .map(|f| self.path(f, &format!("{key}.secret_access_key_file")));
        match (&b.access_key_id, &b.secret_access_key_file) {
            (Some(k), None) => self.push(
                k.span(),
                &format!("{key}.secret_access_key_file"),
                ProblemKind::Missing,
                t(
                    "access_key_id is given without secret_access_key_file.",
                    "access_key_id に対応する secret_access_key_file がありません。",
                ),
                t(
                    "Add secret_access_key_file = \"/etc/hokan/s3-secret\" (a file holding the secret key, readable by root only), or remove access_key_id to use the usual AWS credential sources.",
                    "secret_access_key_file = \"/etc/hokan/s3-secret\"（シークレットキーを書いた root のみ読めるファイル）を追加するか、access_key_id を削除して通常の AWS 認証情報を使ってください。",
                ),
            ),
            (None, Some(f)) => self.push(
                f.span(),
                &format!("{key}.access_key_id"),
                ProblemKind::Missing,
                t(
                    "secret_access_key_file is given without access_key_id.",
                    "secret_access_key_file に対応する access_key_id がありません。",
                ),
                t(
                    "Add access_key_id, or remove secret_access_key_file to use the usual AWS credential sources.",
                    "access_key_id を追加するか、secret_access_key_file を削除して通常の AWS 認証情報を使ってください。",
                ),
            ),
            _ => {}
        }
        let concurrency = match &b.concurrency {
            Some(c) if !(1..=64).contains(c.get_ref()) => {
                self.push(
                    c.span(),
                    &format!("{key}.concurrency"),
                    ProblemKind::BadValue,
                    t(
                        format!("concurrency = {} is not between 1 and 64.", c.get_ref()),
                        format!("concurrency = {} は 1 から 64 の範囲外です。", c.get_ref()),
                    ),
                    concurrency.1,
                );
                concurrency.0
            }
            Some(c) => *c.get_ref() as u32,
            None => concurrency.0,
        };
        if let Some(p) = &b.prefix {
            self.printable(p, &format!("{key}.prefix"));
        }
        let d = S3Timeouts::DEFAULT;
        let mut secs = |v: &Option<Spanned<i64>>, field: &str, max: u32, default: u32| -> u32 {
            match v {
                Some(n) if !(1..=i64::from(max)).contains(n.get_ref()) => {
                    self.push(
                        n.span(),
                        &format!("{key}.{field}"),
                        ProblemKind::OutOfRange,
                        t(
                            format!("{field} = {} is not between 1 and {max}.", n.get_ref()),
                            format!("{field} = {} は 1 から {max} の範囲外です。", n.get_ref()),
                        ),
                        t(
                            format!("Leave it out for the default of {default} seconds."),
                            format!("省略すると既定値の {default} 秒になります。"),
                        ),
                    );
                    default
                }
                Some(n) => *n.get_ref() as u32,
                None => default,
            }
        };
        let connect_secs = secs(
            &b.connect_timeout_secs,
            "connect_timeout_secs",
            300,
            d.connect_secs,
        );
        let read_secs = secs(&b.read_timeout_secs, "read_timeout_secs", 3600, d.read_secs);
        let attempt_default = if b.read_timeout_secs.is_some() || b.connect_timeout_secs.is_some() {
            (connect_secs + read_secs).min(3600)
        } else {
            d.attempt_secs
        };
        let attempt_secs = secs(
            &b.attempt_timeout_secs,
            "attempt_timeout_secs",
            3600,
            attempt_default,
        );
        let operation_secs = secs(
            &b.operation_timeout_secs,
            "operation_timeout_secs",
            86_400,
            d.operation_secs.max(attempt_secs),
        );
        let operation_secs = match &b.operation_timeout_secs {
            Some(n) if operation_secs < attempt_secs => {
                self.push(
                    n.span(),
                    &format!("{key}.operation_timeout_secs"),
                    ProblemKind::BadValue,
                    t(
                        format!("operation_timeout_secs = {operation_secs} is shorter than one attempt ({attempt_secs} s)."),
                        format!("operation_timeout_secs = {operation_secs} が 1 回の試行の上限（{attempt_secs} 秒）より短いです。"),
                    ),
                    t(
                        "The whole request, retries included, must allow at least one attempt: raise operation_timeout_secs or lower attempt_timeout_secs.",
                        "再試行を含む要求全体には少なくとも 1 回の試行が入る必要があります。operation_timeout_secs を上げるか attempt_timeout_secs を下げてください。",
                    ),
                );
                attempt_secs
            }
            _ => operation_secs,
        };
        let timeouts = S3Timeouts {
            connect_secs,
            read_secs,
            attempt_secs,
            operation_secs,
        };
        S3Connection {
            endpoint,
            region,
            bucket: bucket_name,
            prefix: b.prefix.as_ref().map(|p| p.get_ref().clone()),
            path_style: b.path_style.unwrap_or(false),
            access_key_id,
            secret_access_key_file,
            concurrency,
            timeouts,
        }
    }

    fn vault(&mut self, vault: &Spanned<RawVault>, key: &str) -> Target {
        let span = vault.span();
        let v = vault.get_ref();
        let name = self.name(
            v.name.as_ref(),
            span.clone(),
            &format!("{key}.name"),
            &t("target's", "保管先"),
        );
        let address = v
            .address
            .as_ref()
            .map(|a| self.filled(a, &format!("{key}.address")));
        let public_key = self.hex64(
            v.public_key.as_ref(),
            span.clone(),
            &format!("{key}.public_key"),
            t(
                "A vault without its public key cannot be believed: its signed receipts are what make its copies count. Run `hokan vault init` on the vault and copy the public_key = \"…\" line it prints into this [[vault]] table.",
                "公開鍵のない保管サーバは信用できません（署名付き受領書だけがコピーを数える根拠です）。保管サーバで `hokan vault init` を実行し、表示される public_key = \"…\" の行をこの [[vault]] に書き写してください。",
            ),
            true,
        );
        let token_blake3 = self.hex64(
            v.token_blake3.as_ref(),
            span.clone(),
            &format!("{key}.token_blake3"),
            t(
                "`hokan serve` lets a vault pull only with its access token, and checks it against this hash. Run `hokan vault init` on the vault and copy the token_blake3 = \"…\" line it prints into this [[vault]] table.",
                "`hokan serve` はアクセストークンを持つ保管サーバだけに取得を許し、このハッシュで照合します。保管サーバで `hokan vault init` を実行し、表示される token_blake3 = \"…\" の行をこの [[vault]] に書き写してください。",
            ),
            false,
        );
        let fresh_for = match &v.fresh_for {
            Some(f) => self.duration(f, &format!("{key}.fresh_for"), true),
            None => crate::model::DEFAULT_VAULT_FRESH_FOR,
        };
        let retention = self.retention(
            v.retention.as_ref(),
            span,
            key,
            t(
                "how long the vault keeps each copy before it may be removed",
                "保管サーバが各コピーを削除できるようになるまで保持する期間",
            ),
        );
        Target {
            name: name.into(),
            retention,
            schedule: None,
            drill_schedule: None,
            kind: TargetKind::Vault(Vault {
                address,
                public_key,
                token_blake3,
                fresh_for,
            }),
        }
    }

    /// A required 64-hex-digit value (an Ed25519 public key, a BLAKE3
    /// hash), given in lower case; `key_point` names it as a key. (Whether
    /// a key is a point of the curve is checked when a receipt is read.)
    fn hex64(
        &mut self,
        v: Option<&Str>,
        table: Range<usize>,
        key: &str,
        fix: Text,
        key_point: bool,
    ) -> String {
        let Some(v) = v else {
            self.missing(table, key, fix);
            return String::new();
        };
        let s = self.filled(v, key);
        let ok = s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !s.is_empty() && !ok {
            self.push(
                v.span(),
                key,
                ProblemKind::BadValue,
                t(
                    format!(
                        "{s:?} is not 64 lower-case hex digits{}.",
                        if key_point {
                            " of an Ed25519 public key"
                        } else {
                            ""
                        }
                    ),
                    format!(
                        "{s:?} は 64 桁の小文字の16進数{}ではありません。",
                        if key_point {
                            "（Ed25519 公開鍵）"
                        } else {
                            ""
                        }
                    ),
                ),
                fix,
            );
        }
        s
    }
}
