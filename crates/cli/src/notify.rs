//! `hokan notify`: test the notification targets, deliver the outbox, list
//! it. What a notification says and how it is sent is `hokan-notify`'s;
//! this prints what happened, in the user's language.

use clap::Subcommand;
use hokan_catalog::{NotificationRow, NotificationState};
use hokan_notify::{outbox, Delivery, Notice, Notification, Outcome, Select};
use serde_json::json;

use crate::ctx::{print_json, SiteCtx};
use crate::exit::{self, Failure};
use crate::i18n::{t, Lang};
use crate::Global;

/// `hokan notify …`.
#[derive(Subcommand, Debug)]
pub enum NotifyCmd {
    /// Send a test message to every notification target now; exit 0 only if
    /// every one was sent.
    Test,
    /// Deliver the queued notifications that are due (retries back off
    /// from 1 minute to 1 hour; given up after 24 hours).
    Flush,
    /// The outbox: every notification and where it is.
    List {
        /// Only those not yet sent or abandoned.
        #[arg(long)]
        queued: bool,
    },
}

pub fn run(cmd: NotifyCmd, g: &Global, lang: Lang) -> Result<i32, Failure> {
    let ctx = SiteCtx::new(g, lang)?;
    match cmd {
        NotifyCmd::Test => test(&ctx),
        NotifyCmd::Flush => flush(&ctx),
        NotifyCmd::List { queued } => list(&ctx, queued),
    }
}

fn targets<'c>(ctx: &'c SiteCtx<'_>) -> Result<&'c [hokan_site::Notify], Failure> {
    let found = ctx.conf.loaded.as_ref().map_or(&[][..], |s| s.notify());
    if found.is_empty() {
        return Err(Failure::new(
            exit::CONFIG,
            t(
                ctx.lang,
                "no notification targets: add a [[notify]] table to hokan.toml (docs/configuration.md, \"Notifications\")",
                "通知先がありません。hokan.toml に [[notify]] を追加してください（docs/configuration.md の「通知」）",
            ),
        ));
    }
    Ok(found)
}

pub use hokan_jobs::notices::hostname;

fn test(ctx: &SiteCtx<'_>) -> Result<i32, Failure> {
    let targets = targets(ctx)?;
    let mut cat = ctx.catalog()?;
    let n = Notification {
        site: ctx.conf.name.clone(),
        host: hostname(),
        raised_at: ctx.now,
        notice: Notice::Test,
    };
    let fail = |e: hokan_notify::NotifyError| match e {
        hokan_notify::NotifyError::Catalog(c) => ctx.catalog_failure(&c),
        other => Failure::new(exit::ERROR, other.to_string()),
    };
    let ids: Vec<String> = outbox::queue(&mut cat, targets, &n, ctx.now)
        .map_err(fail)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let done = outbox::deliver(&mut cat, targets, Select::Now(&ids), ctx.now).map_err(fail)?;
    report(ctx, &done)
}

fn flush(ctx: &SiteCtx<'_>) -> Result<i32, Failure> {
    let targets = ctx.conf.loaded.as_ref().map_or(&[][..], |s| s.notify());
    let mut cat = ctx.catalog()?;
    let done = outbox::deliver(&mut cat, targets, Select::Due, ctx.now).map_err(|e| match e {
        hokan_notify::NotifyError::Catalog(c) => ctx.catalog_failure(&c),
        other => Failure::new(exit::ERROR, other.to_string()),
    })?;
    if done.is_empty() && !ctx.g.json && !ctx.g.quiet {
        println!(
            "{}",
            t(
                ctx.lang,
                "nothing due to send",
                "送信予定の通知はありません"
            )
        );
    }
    report(ctx, &done)
}

/// One line per delivery; exit 0 only if every one was sent.
fn report(ctx: &SiteCtx<'_>, done: &[Delivery]) -> Result<i32, Failure> {
    let all_sent = done.iter().all(|d| d.outcome == Outcome::Sent);
    if ctx.g.json {
        print_json(&json!({"at": ctx.now, "ok": all_sent, "deliveries": done}));
    } else {
        let l = ctx.lang;
        for d in done {
            match &d.outcome {
                Outcome::Sent => {
                    println!("{}  {}: {}", d.id, d.target, t(l, "sent", "送信しました"))
                }
                Outcome::Failed { reason, retry_at } => println!(
                    "{}  {}: {}: {reason} ({} {})",
                    d.id,
                    d.target,
                    t(l, "FAILED", "失敗"),
                    t(l, "retried from", "再送予定"),
                    ctx.when(*retry_at)
                ),
                Outcome::Abandoned { reason } => println!(
                    "{}  {}: {}: {reason}",
                    d.id,
                    d.target,
                    t(l, "FAILED, given up", "失敗（再送しません）")
                ),
            }
        }
    }
    Ok(if all_sent { exit::OK } else { exit::ERROR })
}

fn list(ctx: &SiteCtx<'_>, queued: bool) -> Result<i32, Failure> {
    let cat = ctx.catalog()?;
    let rows = cat
        .notifications(queued)
        .map_err(|e| ctx.catalog_failure(&e))?;
    let event = |r: &NotificationRow| {
        r.notice["notice"]["type"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    };
    if ctx.g.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                let next = (r.state == NotificationState::Queued).then(|| outbox::due_at(r));
                json!({"notification": r, "event": event(r), "next_attempt": next.map(|n| n.to_string())})
            })
            .collect();
        print_json(&json!({"at": ctx.now, "outbox": rows}));
        return Ok(exit::OK);
    }
    let l = ctx.lang;
    if rows.is_empty() {
        println!("{}", t(l, "the outbox is empty", "送信箱は空です"));
    }
    for r in &rows {
        let state = match r.state {
            NotificationState::Queued => t(l, "queued", "送信待ち"),
            NotificationState::Sent => t(l, "sent", "送信済み"),
            NotificationState::Abandoned => t(l, "ABANDONED", "断念"),
        };
        println!(
            "{}  [{state}]  {}  {}  {} {}  ({} {})",
            r.id,
            r.target,
            event(r),
            t(l, "queued", "登録"),
            ctx.when(r.queued_at),
            t(l, "attempts", "試行回数"),
            r.attempts
        );
        if r.state == NotificationState::Queued && r.attempts > 0 {
            println!(
                "        {}: {}",
                t(l, "next attempt", "次の送信"),
                ctx.when(outbox::due_at(r))
            );
        }
        if let Some(e) = &r.last_error {
            println!("        {}: {e}", t(l, "last error", "直近のエラー"));
        }
    }
    Ok(exit::OK)
}
