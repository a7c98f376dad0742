//! The media and generations pages on a real site and catalog: a tape
//! library with a cartridge in slot 3, one in drive 0 and one exported; an
//! RDX autoloader with one cartridge active and one in inactive slot 2;
//! three generations of `emr`, one on no medium at all.

mod common;

use axum::http::StatusCode;
use common::{login, send, App};
use hokan_catalog::{Catalog, Event};
use hokan_offline::{Location, MediumKind, ObservedBy, PoolName};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The morning the pages are judged at.
const NOW: OffsetDateTime = datetime!(2026-11-24 08:00 +9);

const S1: &str = "a1a1a1a1c3d5f7091b2d4f6a8c0e2b4d6f8a1c3e5a7b9d1f3b5d7f9a1c3e5b7d";
const S2: &str = "b2b2b2b2d0f21436587a9cbedf0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2";
const S3: &str = "c3c3c3c3e0b2d4f6a8c0e2f4a6c8e0b2d4f6a8c0e2f4a6c8e0b2d4f6a8c0e2f4";

const SITE: &str = r#"[site]
name = "テスト病院"
timezone = "+09:00"
catalog = "catalog.db"

[repository]
path = "repo"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
retention = "28d"

[[disk_pool]]
name = "rdx"
mode = "rdx-autoloader"
after_job = "deactivate"
rotation = "any"
slots = ["/dev/sdb", "/dev/sdc", "/dev/sdd", "/dev/sde"]
retention = "28d"
"#;

fn medium(id: &str, kind: MediumKind, pool: &str) -> Event {
    Event::MediumAdded {
        medium: id.into(),
        kind,
        pool: Some(PoolName::new(pool)),
        label: None,
        capacity: None,
        note: None,
    }
}

fn seen(id: &str, location: Location, device: &str) -> Event {
    Event::MediumLocated {
        medium: id.into(),
        at: NOW - Duration::hours(2),
        location,
        by: ObservedBy::Device {
            device: device.into(),
        },
        note: None,
    }
}

fn snapshot(id: &str, taken_at: OffsetDateTime) -> Event {
    Event::SnapshotRecorded {
        snapshot: id.into(),
        source: "emr".into(),
        taken_at,
        hostname: "emr-db01".into(),
        paths: vec!["/srv/emr/data".into()],
        bytes: 1 << 30,
        files: 100,
        partial: false,
    }
}

fn copy(snapshot: &str, medium: &str, since: OffsetDateTime) -> Event {
    Event::CopyRecorded {
        snapshot: snapshot.into(),
        medium: medium.into(),
        since,
        complete: true,
        with: vec![],
    }
}

fn site() -> App {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("hokan.toml");
    std::fs::write(&site, SITE).unwrap();
    let night = |n: i64| NOW - Duration::days(4 - n) - Duration::hours(10);
    let mut cat = Catalog::open(&dir.path().join("catalog.db")).unwrap();
    cat.record_all(
        NOW - Duration::days(30),
        "test",
        vec![
            Event::SourceDeclared {
                source: "emr".into(),
            },
            medium("TAPE01L9", MediumKind::LtoLibrary, "weekday"),
            medium("TAPE02L9", MediumKind::LtoLibrary, "weekday"),
            medium("TAPE03L9", MediumKind::LtoLibrary, "weekday"),
            medium("RDX-A", MediumKind::RdxAutoloader, "rdx"),
            medium("RDX-B", MediumKind::RdxAutoloader, "rdx"),
        ],
    )
    .unwrap();
    cat.record_all(
        night(1),
        "hokan run",
        vec![
            snapshot(S1, night(1)),
            copy(S1, "TAPE01L9", night(1) + Duration::hours(1)),
            copy(S1, "TAPE03L9", night(1) + Duration::hours(1)),
            snapshot(S2, night(2)),
            copy(S2, "TAPE02L9", night(2) + Duration::hours(1)),
            copy(S2, "RDX-B", night(2) + Duration::hours(1)),
            snapshot(S3, night(3)),
        ],
    )
    .unwrap();
    cat.record_all(
        NOW - Duration::hours(2),
        "hokan status",
        vec![
            seen(
                "TAPE01L9",
                Location::LibrarySlot {
                    library: "lib1".into(),
                    slot: Some(3),
                },
                "lib1",
            ),
            seen(
                "TAPE02L9",
                Location::InDrive {
                    drive: "lib1-drive0".into(),
                },
                "lib1",
            ),
            seen(
                "TAPE03L9",
                Location::Exported {
                    changer: "lib1".into(),
                },
                "lib1",
            ),
            seen(
                "RDX-A",
                Location::ActiveSlot {
                    autoloader: "al1".into(),
                },
                "al1",
            ),
            seen(
                "RDX-B",
                Location::InactiveSlot {
                    autoloader: "al1".into(),
                    slot: Some(2),
                },
                "al1",
            ),
        ],
    )
    .unwrap();
    drop(cat);
    common::app_at(dir, site, Some(NOW))
}

/// The HTML of the element that carries `attr` (up to its closing tag
/// `close`).
fn element<'a>(body: &'a str, attr: &str, close: &str) -> &'a str {
    let at = body
        .find(attr)
        .unwrap_or_else(|| panic!("no {attr} in the page:\n{body}"));
    let end = body[at..].find(close).unwrap() + at;
    &body[at..end]
}

/// A box of the device picture: from its start (with its classes) to
/// its end.
fn bay<'a>(body: &'a str, place: &str) -> &'a str {
    let at = body
        .find(&format!("data-place=\"{place}\""))
        .unwrap_or_else(|| panic!("no box {place} in the page:\n{body}"));
    let start = body[..at].rfind("<div").unwrap();
    let end = body[at..].find("</div>").unwrap() + at;
    &body[start..end]
}

async fn get(app: &App, path: &str) -> String {
    let (cookie, _) = login(app, "viewer", common::PW).await.ok().unwrap();
    let a = send(app, "GET", path, &cookie, "").await;
    assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
    a.body
}

#[tokio::test]
async fn the_media_page_draws_the_library_and_the_autoloader() {
    let app = site();
    let body = get(&app, "/media?lang=en").await;
    // The library: the highest slot seen is 3, so slots 1 to 3, with
    // TAPE01L9 in slot 3 only; TAPE02L9 in drive 0; an empty mail slot.
    assert!(body.contains("Library lib1"), "{body}");
    let s3 = bay(&body, "slot-3");
    assert!(
        s3.contains("TAPE01L9") && s3.contains("class=\"bay slot ok\""),
        "{s3}"
    );
    for n in [1, 2] {
        let s = bay(&body, &format!("slot-{n}"));
        assert!(s.contains("empty") && !s.contains("TAPE"), "{s}");
    }
    let d0 = bay(&body, "drive-0");
    assert!(
        d0.contains("TAPE02L9") && d0.contains("class=\"bay drive bad\""),
        "{d0}"
    );
    assert!(bay(&body, "mail").contains("empty"));
    // The exported tape is listed outside the library, not in a box.
    let library = element(&body, "Library lib1", "</section>");
    assert!(!library.contains("data-place=\"slot-4\""), "{library}");
    let outside = element(library, "Outside the library", "</ul>");
    assert!(outside.contains("TAPE03L9"), "{outside}");
    assert!(outside.contains("exported from lib1"), "{outside}");
    assert!(!outside.contains("TAPE01L9") && !outside.contains("TAPE02L9"));
    // The autoloader: four configured slots, RDX-B in slot 2, RDX-A in the
    // active slot.
    let autoloader = element(&body, "Autoloader al1", "</section>");
    assert!(bay(autoloader, "slot-2").contains("RDX-B"));
    assert!(bay(autoloader, "slot-4").contains("empty"));
    assert!(bay(autoloader, "active").contains("RDX-A"));
    // The table: where each medium is, who saw it, its 項番 now.
    let t1 = element(&body, "<tr data-medium=\"TAPE01L9\"", "</tr>");
    assert!(t1.contains("in slot 3 of library lib1"), "{t1}");
    assert!(t1.contains("device lib1"), "{t1}");
    assert!(t1.contains("①-2-1"), "{t1}");
    let t2 = element(&body, "<tr data-medium=\"TAPE02L9\"", "</tr>");
    assert!(
        t2.contains("in drive lib1-drive0") && t2.contains("online"),
        "{t2}"
    );
    assert!(!t2.contains("①-"), "{t2}");
    // In Japanese too.
    let ja = get(&app, "/media?lang=ja").await;
    assert!(ja.contains("ライブラリ lib1 のスロット 3"), "{ja}");
    assert!(ja.contains("ライブラリの外"));
}

#[tokio::test]
async fn the_generations_matrix_has_each_copys_verdict() {
    let app = site();
    let body = get(&app, "/generations?lang=en").await;
    let emr = element(&body, "data-source=\"emr\"", "</section>");
    // Columns: the media holding a copy, RDX-A (no copy) not among them.
    assert!(emr.contains("TAPE01L9") && emr.contains("TAPE02L9") && emr.contains("RDX-B"));
    assert!(!emr.contains("RDX-A"), "{emr}");
    // Newest first: S3 (no copy anywhere), then S2, then S1.
    let (p3, p2, p1) = (
        emr.find(&format!("data-snapshot=\"{S3}\"")).unwrap(),
        emr.find(&format!("data-snapshot=\"{S2}\"")).unwrap(),
        emr.find(&format!("data-snapshot=\"{S1}\"")).unwrap(),
    );
    assert!(p3 < p2 && p2 < p1, "newest first");
    let row = |s: &str| element(emr, &format!("data-snapshot=\"{s}\""), "</tr>");
    let cell = |s: &str, m: &str| {
        let r = row(s);
        let at = r
            .find(&format!("data-medium=\"{m}\""))
            .unwrap_or_else(|| panic!("no cell {m} in {r}"));
        // Back to the cell's start, for its classes.
        let start = r[..at].rfind("<td").unwrap();
        let end = r[at..].find("</td>").unwrap() + at;
        r[start..end].to_owned()
    };
    // What the cell says (its title says why).
    let text = |c: &str| c[c.rfind('>').unwrap() + 1..].to_owned();
    let c = cell(S1, "TAPE01L9");
    assert_eq!(text(&c), "①-2-1");
    assert!(c.contains("class=\"cell ok\""), "{c}");
    let c = cell(S2, "TAPE02L9");
    assert_eq!(text(&c), "online");
    assert!(c.contains("class=\"cell bad\""), "{c}");
    assert!(
        c.contains("title=\"online: "),
        "the reason in the title: {c}"
    );
    // In an inactive slot but without an attested network segmentation:
    // not ②-2-1.
    let c = cell(S2, "RDX-B");
    assert_eq!(text(&c), "online");
    assert!(c.contains("class=\"cell bad\""), "{c}");
    let c = cell(S1, "TAPE02L9");
    assert!(c.contains("cell none"), "S1 has no copy on TAPE02L9: {c}");
    // S1 counts as an offline generation, S2 and S3 do not.
    assert!(row(S1).contains("<td class=\"ok\">yes"));
    assert!(row(S2).contains("<td class=\"bad\">no"));
    assert!(row(S3).contains("<td class=\"bad\">no"));
    assert!(row(S3).contains("c3c3c3c3"), "short id");
    // Per source: offline generations against the policy (default 3).
    let sources = element(&body, "<table>", "</table>");
    assert!(
        sources.contains("emr") && sources.contains("1 / 3"),
        "{sources}"
    );
    assert!(sources.contains("not compliant"));
}
