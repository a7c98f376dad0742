//! The reports to download, the drills, the vault receipts and the
//! configuration on a real site and catalog: one generation of `emr` on a
//! tape still in the library (not compliant), two drills from that tape
//! (the newer one failed), a vault's receipt, and a passphrase file whose
//! secret must never reach a page.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use common::{login, send, App};
use hokan_catalog::{AppCheck, Catalog, DrillFailure, DrillMeasures, Event};
use hokan_offline::{MediumKind, PoolName, VaultFinding, VaultHeld, VaultReceipt};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

/// The morning the pages are judged at.
const NOW: OffsetDateTime = datetime!(2026-11-24 08:00 +9);

const S1: &str = "a1a1a1a1c3d5f7091b2d4f6a8c0e2b4d6f8a1c3e5a7b9d1f3b5d7f9a1c3e5b7d";

/// What the passphrase file holds: it must appear on no page.
const SECRET: &str = "correct-horse-battery-staple-4d8f1e";

const SITE: &str = r#"[site]
name = "テスト総合病院"
timezone = "+09:00"
catalog = "catalog.db"

[repository]
path = "repo"
passphrase_file = "pw.secret"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
retention = "28d"
"#;

fn drill(started_at: OffsetDateTime, ok: bool) -> Event {
    Event::Drilled {
        snapshot: S1.into(),
        medium: "TAPE01L9".into(),
        started_at,
        seconds: 42.5,
        ok,
        by: Some("佐藤".into()),
        detail: None,
        measured: Some(DrillMeasures {
            kind: "tape".into(),
            source: "emr".into(),
            target: "/var/tmp/drill".into(),
            first_file_secs: Some(0.25),
            bytes: 1 << 30,
            throughput: 25_000_000.0,
            files_checked: 41,
            app_check: Some(if ok {
                AppCheck::Passed
            } else {
                AppCheck::NotRun
            }),
            failures: if ok {
                Vec::new()
            } else {
                vec![DrillFailure {
                    what: "pack 3fa2".into(),
                    why: "authentication failed".into(),
                }]
            },
            projected_secs: Some(3600.0),
            rto_secs: Some(86_400.0),
        }),
    }
}

fn site() -> App {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("hokan.toml");
    std::fs::write(&site, SITE).unwrap();
    let pw = dir.path().join("pw.secret");
    std::fs::write(&pw, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(
        &pw,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
    )
    .unwrap();
    let night = NOW - Duration::hours(10);
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    cat.record_all(
        NOW - Duration::days(30),
        "test",
        vec![
            Event::SourceDeclared {
                source: "emr".into(),
            },
            Event::MediumAdded {
                medium: "TAPE01L9".into(),
                kind: MediumKind::LtoLibrary,
                pool: Some(PoolName::new("weekday")),
                label: None,
                capacity: None,
                note: None,
            },
            Event::MediumAdded {
                medium: "vault1".into(),
                kind: MediumKind::PullVault,
                pool: None,
                label: None,
                capacity: None,
                note: None,
            },
        ],
    )
    .unwrap();
    cat.record_all(
        night,
        "hokan run",
        vec![
            Event::SnapshotRecorded {
                snapshot: S1.into(),
                source: "emr".into(),
                taken_at: night,
                hostname: "emr-db01".into(),
                paths: vec!["/srv/emr/data".into()],
                bytes: 1 << 30,
                files: 100,
                partial: false,
            },
            Event::CopyRecorded {
                snapshot: S1.into(),
                medium: "TAPE01L9".into(),
                since: night,
                complete: true,
                with: vec![],
            },
        ],
    )
    .unwrap();
    cat.record(
        NOW - Duration::hours(5),
        "hokan drill",
        drill(NOW - Duration::hours(5), true),
    )
    .unwrap();
    cat.record(
        NOW - Duration::hours(3),
        "hokan drill",
        drill(NOW - Duration::hours(3), false),
    )
    .unwrap();
    // An older receipt, all well, then the newest one.
    cat.record(
        NOW - Duration::hours(6),
        "hokan serve",
        Event::VaultReceipt {
            key: "1".repeat(64),
            file: "vault1/receipt-0.json".into(),
            receipt: VaultReceipt {
                vault: "vault1".into(),
                issued: NOW - Duration::hours(6),
                firewall: "ok".into(),
                firewall_detail: vec![],
                clock: "ok".into(),
                pull_failed: None,
                without_flag_total: 0,
                without_flag: vec![],
                generations: vec![],
                findings: vec![],
                findings_total: 0,
                ledger_head: String::new(),
                ledger_rows: 0,
            },
        },
    )
    .unwrap();
    cat.record(
        NOW - Duration::hours(2),
        "hokan serve",
        Event::VaultReceipt {
            key: "0".repeat(64),
            file: "vault1/receipt-1.json".into(),
            receipt: VaultReceipt {
                vault: "vault1".into(),
                issued: NOW - Duration::hours(2),
                firewall: "differs".into(),
                firewall_detail: vec!["port 22 open".into()],
                clock: "ok".into(),
                pull_failed: None,
                without_flag_total: 0,
                without_flag: vec![],
                generations: vec![VaultHeld {
                    snapshot: S1.into(),
                    stored: night + Duration::hours(1),
                    retain_until: datetime!(2027-01-05 00:00 UTC),
                    immutable: true,
                }],
                findings: vec![VaultFinding {
                    kind: "changed-bytes".into(),
                    time: "2026-11-23T22:00:00Z".into(),
                    detail: "data/3f/3fa2 changed".into(),
                }],
                findings_total: 1,
                ledger_head: String::new(),
                ledger_rows: 0,
            },
        },
    )
    .unwrap();
    drop(cat);
    common::app_at(dir, site, Some(NOW))
}

/// A GET with the session cookie: status, headers and body.
async fn get(app: &App, path: &str, cookie: &str) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder()
        .uri(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let r = app.router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = axum::body::to_bytes(r.into_body(), 8 << 20).await.unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

fn attachment(h: &HeaderMap) -> String {
    let d = h[header::CONTENT_DISPOSITION].to_str().unwrap().to_owned();
    assert!(d.starts_with("attachment; filename="), "{d}");
    d
}

#[tokio::test]
async fn reports_and_the_annex_download_as_files_in_either_language() {
    let app = site();
    let (cookie, _) = login(&app, "viewer", common::PW).await.ok().unwrap();

    let list = send(&app, "GET", "/reports", &cookie, "").await;
    assert_eq!(list.status, StatusCode::OK);
    for path in [
        "/reports/report.html",
        "/reports/report.md",
        "/reports/annex.html",
        "/reports/annex.md",
    ] {
        assert!(list.body.contains(path), "the list links {path}");
    }

    let (status, h, en) = get(&app, "/reports/report.html?lang=en", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(attachment(&h).contains(".html"));
    assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(en.contains("テスト総合病院"), "the site's name");
    assert!(en.contains("Offline backup status report"));
    assert!(
        en.contains("NOT compliant"),
        "the verdict: a tape in the library"
    );
    assert!(!en.contains(SECRET));
    assert!(
        h.get(header::SET_COOKIE).is_none(),
        "a download's language does not change the dashboard's"
    );

    let (status, h, ja) = get(&app, "/reports/report.html?lang=ja", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    attachment(&h);
    assert!(ja.contains("オフラインバックアップ状態確認報告書"));
    assert!(ja.contains("施設名") && ja.contains("不適合"));
    assert!(!ja.contains("NOT compliant"));

    let (status, h, md) = get(&app, "/reports/report.md?lang=en", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(attachment(&h).contains(".md"));
    assert_eq!(h[header::CONTENT_TYPE], "text/markdown; charset=utf-8");
    assert!(
        md.starts_with('#') && md.contains("NOT compliant"),
        "{md:.200}"
    );

    let (status, h, annex) = get(&app, "/reports/annex.html?lang=ja", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(attachment(&h).contains("hokan-annex-2026-11-24-ja.html"));
    assert!(annex.contains("運用管理規程") && annex.contains("テスト総合病院"));
    assert!(annex.contains("TAPE01L9"), "the annex lists the media");

    let (status, h, annex) = get(&app, "/reports/annex.md?lang=en", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(attachment(&h).contains(".md"));
    assert!(annex.contains("TAPE01L9") && !annex.contains("<html"));
}

#[tokio::test]
async fn the_drills_and_the_receipts_are_listed_newest_first() {
    let app = site();
    let (cookie, _) = login(&app, "viewer", common::PW).await.ok().unwrap();
    let a = send(&app, "GET", "/drills?lang=en", &cookie, "").await;
    assert_eq!(a.status, StatusCode::OK);
    let b = &a.body;
    assert!(b.contains("TAPE01L9"), "the medium");
    let failed = b.find(">failed<").expect("the failed drill");
    let ok = b.find(">ok<").expect("the drill that matched");
    assert!(failed < ok, "newest first: the failed one is newer");
    assert!(
        b.contains("pack 3fa2: authentication failed"),
        "its failure"
    );
    assert!(b.contains("25.0 MB/s") && b.contains("41"), "figures");
    assert!(
        b.contains("2026-11-24 05:00 +09:00"),
        "when, in the site's zone"
    );
    assert!(
        b.contains("1 hour / RTO 1 day"),
        "projected against the RTO"
    );

    let a = send(&app, "GET", "/drills?lang=ja", &cookie, "").await;
    assert!(a.body.contains("復旧訓練") && a.body.contains("失敗"));

    let a = send(&app, "GET", "/receipts?lang=en", &cookie, "").await;
    assert_eq!(a.status, StatusCode::OK);
    let b = &a.body;
    let newest = b.find("vault1 · 2026-11-24 06:00 +09:00").expect("newest");
    let older = b.find("vault1 · 2026-11-24 02:00 +09:00").expect("older");
    assert!(newest < older, "newest first");
    assert!(
        b.contains("differs") && b.contains("port 22 open"),
        "firewall"
    );
    assert!(b.contains(&S1[..16]), "the generation stored");
    assert!(b.contains("2027-01-05 09:00 +09:00"), "retained until");
    assert!(b.contains("changed-bytes") && b.contains("data/3f/3fa2 changed"));
}

#[tokio::test]
async fn the_configuration_is_for_admins_and_names_secret_files_without_their_content() {
    let app = site();
    for user in ["viewer", "operator"] {
        let (cookie, _) = login(&app, user, common::PW).await.ok().unwrap();
        let a = send(&app, "GET", "/config", &cookie, "").await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{user}");
        assert!(!a.body.contains(SECRET));
        assert!(!a.body.contains("pw.secret"), "{user} sees nothing of it");
        let home = send(&app, "GET", "/", &cookie, "").await;
        assert!(
            !home.body.contains("href=\"/config\""),
            "no link for {user}"
        );
    }
    let (cookie, _) = login(&app, "admin", common::PW).await.ok().unwrap();
    let home = send(&app, "GET", "/", &cookie, "").await;
    assert!(home.body.contains("href=\"/config\""), "a link for admins");
    for lang in ["en", "ja"] {
        let a = send(&app, "GET", &format!("/config?lang={lang}"), &cookie, "").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("<pre"), "in a pre");
        assert!(a.body.contains("pw.secret"), "the passphrase file is named");
        assert!(a.body.contains("テスト総合病院") && a.body.contains("weekday"));
        assert!(!a.body.contains(SECRET), "its content is not shown");
    }
}
