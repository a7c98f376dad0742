//! `[roles]`: who answers for the backups, as the rulebook annex names them.

use std::path::Path;

use hokan_site::{parse, ProblemKind, SiteError};

const BASE: &str = r#"[site]
name = "○○総合病院"

[repository]
path = "/srv/hokan/repo"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]
"#;

fn origin() -> &'static Path {
    Path::new("/etc/hokan/hokan.toml")
}

#[test]
fn roles_are_optional_and_empty_by_default() {
    let site = parse(BASE, origin()).unwrap();
    assert!(site.roles().is_empty());
    // Absent roles do not show in `config check --json`.
    let json = serde_json::to_value(&site).unwrap();
    assert!(json.get("roles").is_none(), "{json}");
}

#[test]
fn a_name_or_a_list_of_names() {
    let text = format!(
        "{BASE}\n[roles]\nresponsible = \" 情報システム課長 山田 \"\noperator = [\"佐藤\", \"鈴木\"]\nkey_custodian = \"事務長 田中\"\nvault_console = [\"佐藤\"]\n"
    );
    let site = parse(&text, origin()).unwrap();
    let r = site.roles();
    assert_eq!(r.responsible.as_deref(), Some("情報システム課長 山田"));
    assert_eq!(r.operators, ["佐藤", "鈴木"]);
    assert_eq!(r.key_custodians, ["事務長 田中"]);
    assert_eq!(r.vault_console, ["佐藤"]);
    let json = serde_json::to_value(&site).unwrap();
    assert_eq!(json["roles"]["operators"][1], "鈴木", "{json}");
}

fn problem(text: &str) -> (usize, String, ProblemKind) {
    match parse(text, origin()) {
        Err(SiteError::Invalid { problems, .. }) => {
            let p = &problems[0];
            (p.line, p.key.clone(), p.kind)
        }
        other => panic!("expected a problem, got {other:?}"),
    }
}

#[test]
fn empty_names_unknown_keys_and_wrong_types_are_refused_with_their_line() {
    let (line, key, kind) = problem(&format!("{BASE}\n[roles]\nresponsible = \"  \"\n"));
    assert_eq!(
        (line, key.as_str(), kind),
        (12, "roles.responsible", ProblemKind::Empty)
    );
    let (line, key, kind) = problem(&format!("{BASE}\n[roles]\noperator = []\n"));
    assert_eq!(
        (line, key.as_str(), kind),
        (12, "roles.operator", ProblemKind::OutOfRange)
    );
    let (line, key, kind) = problem(&format!("{BASE}\n[roles]\noperator = [\"a\\tb\"]\n"));
    assert_eq!(
        (line, key.as_str(), kind),
        (12, "roles.operator", ProblemKind::BadValue)
    );
    let (line, _, kind) = problem(&format!("{BASE}\n[roles]\nowner = \"x\"\n"));
    assert_eq!((line, kind), (12, ProblemKind::UnknownKey));
    let (line, _, _) = problem(&format!("{BASE}\n[roles]\nkey_custodian = 3\n"));
    assert_eq!(line, 12);
}
