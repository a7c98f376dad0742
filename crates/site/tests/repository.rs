//! `[repository]`: a folder (`path`) or a bucket (`s3 = { … }`), exactly
//! one of them; and `--repo s3://bucket/prefix`.

use std::path::Path;

use hokan_site::{parse, ProblemKind, RepositoryLocation, S3Connection, SiteError};

const SOURCE: &str = r#"
[[source]]
name = "emr"
paths = ["/srv/emr/data"]
"#;

fn origin() -> &'static Path {
    Path::new("/etc/hokan/hokan.toml")
}

fn site(repository: &str) -> String {
    format!("[site]\nname = \"○○総合病院\"\n\n[repository]\n{repository}\n{SOURCE}")
}

fn problems(text: &str) -> Vec<(usize, String, ProblemKind, String)> {
    match parse(text, origin()) {
        Err(SiteError::Invalid { problems, .. }) => problems
            .iter()
            .map(|p| (p.line, p.key.clone(), p.kind, p.message.en.clone()))
            .collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

const RGW: &str = r#"s3 = { endpoint = "http://rgw.lan:7480", region = "us-east-1", bucket = "hokan-primary", prefix = "main", path_style = true, access_key_id = "HOKANKEY", secret_access_key_file = "rgw.secret", concurrency = 16 }"#;

#[test]
fn an_s3_primary_is_read_with_its_connection_and_described_without_its_secret() {
    let s = parse(&site(RGW), origin()).unwrap();
    let RepositoryLocation::S3(c) = s.repository_location() else {
        panic!("expected a bucket: {:?}", s.repository_location());
    };
    assert_eq!(c.endpoint.as_deref(), Some("http://rgw.lan:7480"));
    assert_eq!(c.bucket, "hokan-primary");
    assert_eq!(c.prefix.as_deref(), Some("main"));
    assert!(c.path_style);
    assert_eq!(c.concurrency, 16);
    // The secret file resolves against the configuration's folder.
    assert_eq!(
        c.secret_access_key_file.as_deref(),
        Some(Path::new("/etc/hokan/rgw.secret"))
    );
    assert_eq!(
        s.repository_location().label(),
        "s3://hokan-primary/main at http://rgw.lan:7480"
    );
    assert_eq!(s.repository_location().folder(), None);
    let en = s.describe(false);
    assert!(en.contains("Repository: in a bucket"), "{en}");
    assert!(
        en.contains(
            "bucket: hokan-primary (region us-east-1, endpoint http://rgw.lan:7480, path-style)"
        ),
        "{en}"
    );
    assert!(en.contains("secret in /etc/hokan/rgw.secret"), "{en}");
    assert!(en.contains("16 requests in flight"), "{en}");
    let ja = s.describe(true);
    assert!(ja.contains("オブジェクトロック不要"), "{ja}");
    // `config check --json` writes it as hokan.toml does.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json["repository"]["s3"]["bucket"], "hokan-primary",
        "{json}"
    );
    assert!(json["repository"].get("path").is_none(), "{json}");
    let folder = parse(&site("path = \"/srv/hokan/repo\""), origin()).unwrap();
    let json = serde_json::to_value(&folder).unwrap();
    assert_eq!(json["repository"]["path"], "/srv/hokan/repo", "{json}");
}

#[test]
fn an_s3_primary_without_concurrency_gets_the_lan_default() {
    let s = parse(
        &site(r#"s3 = { endpoint = "http://minio.lan:9000", region = "us-east-1", bucket = "b" }"#),
        origin(),
    )
    .unwrap();
    let RepositoryLocation::S3(c) = s.repository_location() else {
        panic!("expected a bucket");
    };
    assert_eq!(c.concurrency, S3Connection::PRIMARY_CONCURRENCY);
    assert_eq!(S3Connection::PRIMARY_CONCURRENCY, 8);
}

#[test]
fn both_path_and_s3_or_neither_are_refused_with_their_line() {
    let text = site(&format!("path = \"/srv/hokan/repo\"\n{RGW}"));
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].0, p[0].1.as_str(), p[0].2),
        (6, "repository.s3", ProblemKind::Mismatch)
    );
    assert!(p[0].3.contains("both path and s3"), "{p:?}");

    let p = problems(&site("passphrase_file = \"/etc/hokan/pw\""));
    assert_eq!(p[0].1, "repository.path", "{p:?}");
    assert_eq!(p[0].2, ProblemKind::Missing, "{p:?}");
}

#[test]
fn a_bad_s3_primary_reports_every_key_at_its_line() {
    let text = site(
        r#"s3 = { endpoint = "rgw.lan:7480", bucket = "b", access_key_id = "K", concurrency = 0 }"#,
    );
    let p = problems(&text);
    let keys: Vec<&str> = p.iter().map(|p| p.1.as_str()).collect();
    for key in [
        "repository.s3.endpoint",
        "repository.s3.region",
        "repository.s3.secret_access_key_file",
        "repository.s3.concurrency",
    ] {
        assert!(keys.contains(&key), "{key} not in {p:?}");
    }
    assert!(p.iter().all(|p| p.0 == 5), "{p:?}");
    // An unknown key in the inline table is refused by name.
    let text = site(r#"s3 = { bucket = "b", region = "r", lock_mode = "compliance" }"#);
    match parse(&text, origin()) {
        Err(e) => assert!(e.render(false).contains("lock_mode"), "{}", e.render(false)),
        Ok(_) => panic!("lock_mode accepted in [repository] s3"),
    }
}

#[test]
fn repo_argument_names_a_folder_or_a_bucket() {
    let folder = RepositoryLocation::from_arg("/srv/hokan/repo", None, None).unwrap();
    assert_eq!(folder.folder(), Some(Path::new("/srv/hokan/repo")));

    let loc = RepositoryLocation::from_arg(
        "s3://hokan-primary/site/a/",
        Some("http://127.0.0.1:9000".into()),
        None,
    )
    .unwrap();
    let RepositoryLocation::S3(c) = &loc else {
        panic!("expected a bucket: {loc:?}");
    };
    assert_eq!(c.bucket, "hokan-primary");
    assert_eq!(c.prefix.as_deref(), Some("site/a"));
    assert_eq!(c.region, "us-east-1");
    assert!(c.path_style, "an explicit endpoint is addressed path-style");
    assert_eq!(
        c.access_key_id, None,
        "credentials come from the AWS sources"
    );
    assert_eq!(
        loc.label(),
        "s3://hokan-primary/site/a at http://127.0.0.1:9000"
    );

    let aws = RepositoryLocation::from_arg("s3://b", None, Some("ap-northeast-1".into())).unwrap();
    assert_eq!(aws.label(), "s3://b/ at AWS ap-northeast-1");

    let e = RepositoryLocation::from_arg("s3:///x", None, None).unwrap_err();
    assert!(e.en.contains("names no bucket"), "{e:?}");
    let e = RepositoryLocation::from_arg("s3://b", Some("rgw:7480".into()), None).unwrap_err();
    assert!(e.en.contains("HOKAN_S3_ENDPOINT"), "{e:?}");
}

#[test]
fn an_s3_target_in_the_primarys_own_bucket_and_prefix_is_refused() {
    let target = |prefix: &str| {
        format!(
            "{}\n[[s3]]\nname = \"cloud\"\nendpoint = \"http://rgw.lan:7480\"\nregion = \"us-east-1\"\nbucket = \"hokan-primary\"\nprefix = \"{prefix}\"\nretention = \"30d\"\n",
            site(RGW)
        )
    };
    let p = problems(&target("main/"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].1.as_str(), p[0].2),
        ("s3[0].bucket", ProblemKind::Mismatch)
    );
    assert!(p[0].3.contains("s3://hokan-primary/main"), "{p:?}");
    // Another prefix of the same bucket is another repository.
    parse(&target("offline"), origin()).unwrap();
}
