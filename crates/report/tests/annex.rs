//! The rulebook annex rendered from the report's fixture catalog (a real
//! catalog and evaluation) and a parsed hokan.toml: the last drill per
//! target, a target never drilled, roles, and data that cannot break out.

#[path = "report/fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::path::Path;

use fixture::{catalog, now, policy, Options, HOSTILE, LANGS};
use hokan_offline::evaluate;
use hokan_report::{render_annex_html, render_annex_markdown, AnnexData, Lang};
use time::macros::offset;

fn site(roles: &str) -> hokan_site::Site {
    let text = format!(
        r#"[site]
name = "市立みなと病院"

[repository]
path = "/srv/hokan/repo"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]

[source.pre_backup]
command = ["/usr/local/bin/emr-dump", "--out", "/srv/emr/dump"]

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "unload"
retention = "28d"

[[disk_pool]]
name = "rdx-weekly"
mode = "rdx-autoloader"
after_job = "deactivate"
rotation = "weekly"
cartridges = ["RDX-A", "RDX-B"]
retention = "35d"
{roles}"#
    );
    hokan_site::parse(&text, Path::new("/etc/hokan/hokan.toml")).unwrap()
}

fn data(roles: &str) -> AnnexData {
    let cat = catalog(Options {
        tape_back: true,
        hostile: false,
    });
    let policy = policy();
    AnnexData {
        generated_at: now(),
        offset: offset!(+9),
        program: "hokan 0.1.0".into(),
        site: site(roles),
        command: "hokan --config /etc/hokan/hokan.toml".into(),
        evaluation: evaluate(&cat.facts().unwrap(), &policy, now()),
        policy,
        media: cat.media().unwrap(),
        drills: cat.drills(100).unwrap(),
        head: cat.head().unwrap(),
    }
}

#[test]
fn the_last_drill_per_kind_of_medium_and_no_drill_where_none() {
    let d = data("");
    let ja = render_annex_markdown(&d, Lang::Ja);
    // The fixture drilled TAPE01L9 (pool weekday) once, for emr, in 30 min
    // 35 s, by hand (nothing measured).
    let row = ja
        .lines()
        .find(|l| l.starts_with("| **テープ（LTO）**") && l.contains("対象 `emr`"))
        .unwrap_or_else(|| panic!("no tape drill row for emr:\n{ja}"));
    assert!(row.contains("○ 成功") && row.contains("TAPE01L9"), "{row}");
    assert!(
        row.contains("30分35秒") && row.contains("佐藤 一郎"),
        "{row}"
    );
    assert!(row.contains("未計測"), "{row}");
    // pacs is on the tape and on the RDX cartridges, never drilled.
    for kind in ["テープ（LTO）", "ディスク（RDX等）"] {
        let row = ja
            .lines()
            .find(|l| l.starts_with(&format!("| **{kind}**")) && l.contains("対象 `pacs`"))
            .unwrap_or_else(|| panic!("no {kind} row for pacs:\n{ja}"));
        assert!(row.contains("訓練の記録なし"), "{row}");
        assert!(row.contains("hokan drill --kind"), "{row}");
    }
    let en = render_annex_markdown(&d, Lang::En);
    assert!(en.contains("30 min 35 s") && en.contains("no drill recorded"));
    assert!(en.contains("section “Verification and restore drills”"));
    // The site's own commands, pre-backup command and cartridges.
    assert!(ja.contains("`hokan --config /etc/hokan/hokan.toml tape restore --pool weekday <世代ID> --target /srv/hokan-restore/weekday`"));
    assert!(ja.contains("`/usr/local/bin/emr-dump --out /srv/emr/dump`"));
    assert!(ja.contains("RDX-A") && ja.contains("②-2-1"));
    assert!(
        ja.contains("attest network-segmented"),
        "②-2-1 needs the attestation"
    );
}

#[test]
fn roles_are_escaped_and_named() {
    let roles = format!("\n[roles]\nresponsible = \"{HOSTILE}\"\noperator = [\"佐藤\"]\n");
    let d = data(&roles);
    for lang in LANGS {
        let html = render_annex_html(&d, lang);
        assert!(!html.contains(HOSTILE), "unescaped data");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let md = render_annex_markdown(&d, lang);
        assert!(!md.contains(HOSTILE), "unescaped data in Markdown");
    }
    // Only the roles not given are asked for.
    let ja = render_annex_markdown(&d, Lang::Ja);
    assert!(
        ja.contains("`key_custodian`") && !ja.contains("`responsible"),
        "{ja}"
    );
}
