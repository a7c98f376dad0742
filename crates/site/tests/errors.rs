//! Every kind of mistake in hokan.toml: where it is reported (line, column,
//! key), what kind it is, and that both languages say the right thing.

use std::path::Path;

use hokan_site::{parse, ConfigProblem, ProblemKind, SiteError};

/// A valid file of nine lines; each case appends from line 10 on.
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

fn problems(text: &str) -> Vec<ConfigProblem> {
    match parse(text, origin()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(SiteError::Invalid { file, problems }) => {
            assert_eq!(file, origin());
            problems
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

struct Case {
    what: &'static str,
    text: String,
    line: usize,
    column: usize,
    key: &'static str,
    kind: ProblemKind,
    en: &'static str,
    ja: &'static str,
}

fn case(
    what: &'static str,
    extra: &str,
    (line, column): (usize, usize),
    key: &'static str,
    kind: ProblemKind,
    en: &'static str,
    ja: &'static str,
) -> Case {
    Case {
        what,
        text: format!("{BASE}{extra}"),
        line,
        column,
        key,
        kind,
        en,
        ja,
    }
}

fn cases() -> Vec<Case> {
    use ProblemKind::*;
    vec![
        case(
            "TOML syntax: a bare word as a value",
            "[policy]\nmax_newest_age = 7d\n",
            (11, 18),
            "policy.max_newest_age",
            Syntax,
            "not valid TOML",
            "TOML として読めません",
        ),
        case(
            "TOML syntax: a key written twice",
            "[policy]\nmax_newest_age = \"7d\"\nmax_newest_age = \"3d\"\n",
            (12, 1),
            "policy.max_newest_age",
            Syntax,
            "written twice",
            "二度書かれています",
        ),
        case(
            "TOML syntax: an unclosed string",
            "[[tape_pool]]\nname = \"weekday\nmode = \"library\"\n",
            (11, 16),
            "tape_pool[0].name",
            Syntax,
            "invalid basic string",
            "閉じていません",
        ),
        case(
            "unknown key, naming the allowed ones",
            "[policy]\nmin_generations = 3\n",
            (11, 1),
            "policy.min_generations",
            UnknownKey,
            "allowed here are `min_offline_generations`, `max_newest_age`, `warning_horizon`, `max_person_location_age`",
            "`min_generations` という設定項目はありません",
        ),
        case(
            "unknown table",
            "[polcy]\nmax_newest_age = \"7d\"\n",
            (10, 2),
            "polcy",
            UnknownKey,
            "`policy`",
            "`polcy`",
        ),
        case(
            "wrong type: a quoted number",
            "[policy]\nmin_offline_generations = \"3\"\n",
            (11, 27),
            "policy.min_offline_generations",
            WrongType,
            "Expected a whole number, found string \"3\"",
            "整数を書いてください",
        ),
        case(
            "wrong type: a boolean for a duration",
            "[[source]]\nname = \"files\"\npaths = [\"/srv/files\"]\n[source.policy]\nmax_newest_age = true\n",
            (14, 18),
            "source[1].policy.max_newest_age",
            WrongType,
            "a length of time such as \"7d\"",
            "\"7d\" のような期間",
        ),
        case(
            "wrong type: a list element",
            "[[source]]\nname = \"files\"\npaths = [\"/srv/files\", 3]\n",
            (12, 24),
            "source[1].paths[1]",
            WrongType,
            "text in quotes",
            "引用符で囲んだ文字列",
        ),
        case(
            "missing required key",
            "[[vault]]\nname = \"vault1\"\nretention = \"90d\"\ntoken_blake3 = \"abababababababababababababababababababababababababababababababab\"\n",
            (10, 1),
            "vault[0].public_key",
            Missing,
            "Required key `public_key` is missing",
            "必須の項目 `public_key` がありません",
        ),
        case(
            "missing retention",
            "[[disk_pool]]\nname = \"rdx\"\nmode = \"rdx-single-drive\"\n",
            (10, 1),
            "disk_pool[0].retention",
            Missing,
            "Add retention = ",
            "保持する期間",
        ),
        case(
            "bad duration",
            "[source.pre_backup]\ncommand = [\"/usr/local/bin/emr-dump\"]\ntimeout = \"30 minutes\"\n",
            (12, 11),
            "source[0].pre_backup.timeout",
            BadDuration,
            "Cannot read \"30 minutes\" as a length of time",
            "\"30 minutes\" を期間として読めません",
        ),
        case(
            "bad drill check timeout",
            "[source.drill]\ncheck = [\"pg_restore\", \"--list\", \"{target}/db/emr.dump\"]\ntimeout = \"ten minutes\"\n",
            (12, 11),
            "source[0].drill.timeout",
            BadDuration,
            "Cannot read \"ten minutes\" as a length of time",
            "\"ten minutes\" を期間として読めません",
        ),
        case(
            "drill without a check",
            "[source.drill]\ntimeout = \"10m\"\n",
            (10, 1),
            "source[0].drill.check",
            Missing,
            "Add check = ",
            "check = ",
        ),
        case(
            "zero rto",
            "rto = \"0s\"\n",
            (10, 7),
            "source[0].rto",
            BadValue,
            "longer than zero",
            "",
        ),
        case(
            "zero where a length must be positive",
            "[policy]\nmax_person_location_age = \"0d\"\n",
            (11, 27),
            "policy.max_person_location_age",
            BadValue,
            "longer than zero",
            "0 より長く",
        ),
        case(
            "below the definitions' floor, site-wide",
            "[policy]\nmin_offline_generations = 1\n",
            (11, 27),
            "policy.min_offline_generations",
            BelowFloor,
            "at least 2",
            "2 以上が必要",
        ),
        case(
            "below the floor, for one source",
            "[source.policy]\nmin_offline_generations = 0\n",
            (11, 27),
            "source[0].policy.min_offline_generations",
            BelowFloor,
            "at least 2",
            "2 以上が必要",
        ),
        case(
            "duplicate source name",
            "\n[[source]]\nname = \"emr\"\npaths = [\"/srv/emr/archive\"]\n",
            (12, 8),
            "source[1].name",
            Duplicate,
            "already used by source[0] on line 8",
            "8 行目の source[0] で使われています",
        ),
        case(
            "duplicate name across target kinds",
            "[[tape_pool]]\nname = \"offsite\"\nmode = \"library\"\nretention = \"28d\"\n\n[[vault]]\nname = \"offsite\"\naddress = \"10.0.5.20:7443\"\nretention = \"90d\"\npublic_key = \"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\"\ntoken_blake3 = \"abababababababababababababababababababababababababababababababab\"\n",
            (16, 8),
            "vault[0].name",
            Duplicate,
            "already used by tape_pool[0] on line 11",
            "11 行目の tape_pool[0] で使われています",
        ),
        case(
            "relative source path",
            "[[source]]\nname = \"files\"\npaths = [\"/srv/files\", \"home\"]\n",
            (12, 24),
            "source[1].paths[1]",
            RelativePath,
            "\"home\" is a relative path",
            "\"home\" は相対パスです",
        ),
        case(
            "a library drive number out of range",
            "[[tape_pool]]\nname = \"lib\"\nmode = \"library\"\nretention = \"28d\"\ndrive = 300\n",
            (14, 9),
            "tape_pool[0].drive",
            BadValue,
            "mtx numbers a library's drives from 0",
            "0 から数えます",
        ),
        case(
            "after_job that does not fit the mode",
            "[[tape_pool]]\nname = \"daily\"\nmode = \"single-drive\"\nafter_job = \"export\"\nretention = \"28d\"\n",
            (13, 13),
            "tape_pool[0].after_job",
            Mismatch,
            "does not fit mode = \"single-drive\"",
            "mode = \"single-drive\" と合いません",
        ),
        case(
            "empty paths",
            "[[source]]\nname = \"files\"\npaths = []\n",
            (12, 9),
            "source[1].paths",
            Empty,
            "would back up nothing",
            "何もバックアップしません",
        ),
        case(
            "a word that is not one of the choices",
            "[[s3]]\nname = \"cloud\"\nregion = \"ap-northeast-1\"\nbucket = \"b\"\nretention = \"30d\"\nlock_mode = \"strict\"\n",
            (15, 13),
            "s3[0].lock_mode",
            BadValue,
            "allowed: \"compliance\", \"governance\"",
            "使える値: \"compliance\", \"governance\"",
        ),
        case(
            "a name with upper case and a space",
            "[[source]]\nname = \"EMR data\"\npaths = [\"/srv/x\"]\n",
            (11, 8),
            "source[1].name",
            BadValue,
            "cannot be a name",
            "名前に使えません",
        ),
        case(
            "an empty command",
            "[source.pre_backup]\ncommand = \"  \"\n",
            (11, 11),
            "source[0].pre_backup.command",
            Empty,
            "The command is empty",
            "コマンドが空です",
        ),
    ]
}

#[test]
fn each_mistake_is_reported_at_its_line_and_key() {
    let cases = cases();
    assert!(cases.len() >= 15);
    for c in &cases {
        let found = problems(&c.text);
        assert_eq!(found.len(), 1, "{}: {found:#?}", c.what);
        let p = &found[0];
        assert_eq!(
            (p.line, p.column, p.key.as_str(), p.kind),
            (c.line, c.column, c.key, c.kind),
            "{}: {p}",
            c.what
        );
        assert!(
            p.message.en.contains(c.en) || p.fix.en.contains(c.en),
            "{}: {} {}",
            c.what,
            p.message.en,
            p.fix.en
        );
        assert!(
            p.message.ja.contains(c.ja) || p.fix.ja.contains(c.ja),
            "{}: {} {}",
            c.what,
            p.message.ja,
            p.fix.ja
        );
        assert!(!p.fix.en.is_empty() && !p.fix.ja.is_empty(), "{}", c.what);
    }
}

#[test]
fn a_missing_table_points_at_the_top_of_the_file() {
    let text = "[site]\nname = \"H\"\n\n[[source]]\nname = \"emr\"\npaths = [\"/srv\"]\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].line, found[0].column, found[0].key.as_str()),
        (1, 1, "repository")
    );
    assert_eq!(found[0].kind, ProblemKind::Missing);
}

#[test]
fn every_semantic_mistake_is_reported_in_one_go() {
    let text = format!(
        "{BASE}{}",
        r#"
[[source]]
name = "emr"
paths = []

[policy]
min_offline_generations = 1
max_newest_age = "a week"

[[tape_pool]]
name = "weekday"
mode = "library"
after_job = "eject"

[[disk_pool]]
name = "weekday"
mode = "rdx-single-drive"
retention = "14d"
mount_point = "mnt/rdx"
"#
    );
    let found = problems(&text);
    let got: Vec<(usize, &str, ProblemKind)> = found
        .iter()
        .map(|p| (p.line, p.key.as_str(), p.kind))
        .collect();
    use ProblemKind::*;
    assert_eq!(
        got,
        [
            (12, "source[1].name", Duplicate),
            (13, "source[1].paths", Empty),
            (16, "policy.min_offline_generations", BelowFloor),
            (17, "policy.max_newest_age", BadDuration),
            (19, "tape_pool[0].retention", Missing),
            (22, "tape_pool[0].after_job", Mismatch),
            (25, "disk_pool[0].name", Duplicate),
            (28, "disk_pool[0].mount_point", RelativePath),
        ]
    );
}

#[test]
fn syntax_errors_are_all_reported_together() {
    let text = format!("{BASE}[policy]\nmax_newest_age = 7d\nwarning_horizon = 14d\n");
    let found = problems(&text);
    let got: Vec<(usize, &str)> = found.iter().map(|p| (p.line, p.key.as_str())).collect();
    assert_eq!(
        got,
        [
            (11, "policy.max_newest_age"),
            (12, "policy.warning_horizon")
        ]
    );
}

#[test]
fn a_table_written_twice_is_one_problem() {
    let text = format!("{BASE}\n[site]\nname = \"again\"\n");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].line, found[0].key.as_str()), (11, "site"));
}

#[test]
fn the_floor_is_named_in_both_languages() {
    let err = parse(
        &format!("{BASE}[policy]\nmin_offline_generations = 1\n"),
        origin(),
    )
    .unwrap_err();
    assert_eq!(
        err.render(false),
        "/etc/hokan/hokan.toml:11:27: policy.min_offline_generations: 1 offline generation(s) is too few: \
         the offline definitions assume several generations rotating, so at least 2. \
         Set it to 2 or more (the default is 3)."
    );
    assert_eq!(
        err.render(true),
        "/etc/hokan/hokan.toml:11:27: policy.min_offline_generations: オフライン世代数 1 は少なすぎます。\
         オフラインの定義は複数世代のローテーションを前提としているため、2 以上が必要です。\
         2 以上にしてください（既定値は 3）。"
    );
    assert_eq!(
        hokan_offline::DEFINITION_FLOOR,
        2,
        "the messages above name 2"
    );
    // Exactly the floor is fine.
    parse(
        &format!("{BASE}[policy]\nmin_offline_generations = 2\n"),
        origin(),
    )
    .unwrap();
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = BASE.replace("name = \"emr\"", "name = \"電子カルテ\"");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].line, found[0].column), (8, 8));
    let text = format!("{BASE}[policy]\n世代 = 3\n");
    let found = problems(&text);
    assert_eq!(
        (found[0].line, found[0].column, found[0].key.as_str()),
        (11, 1, "policy.世代")
    );
}

mod files {
    use super::*;
    use hokan_site::load;

    #[test]
    fn a_missing_file_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hokan.toml");
        let err = load(&path).unwrap_err();
        assert!(matches!(err, SiteError::Missing { .. }), "{err:?}");
        assert!(err.render(false).contains(&path.display().to_string()));
        assert!(err.render(true).contains("がありません"));
    }

    #[test]
    fn an_unreadable_file_names_its_path() {
        // A folder where the file should be: unreadable even for root.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hokan.toml");
        std::fs::create_dir(&path).unwrap();
        let err = load(&path).unwrap_err();
        assert!(matches!(err, SiteError::Unreadable { .. }), "{err:?}");
        assert!(err.render(false).starts_with(&format!(
            "Cannot read configuration file {}",
            path.display()
        )));
        assert!(err.render(true).contains("読めません"));
    }

    #[test]
    fn a_shift_jis_file_is_refused_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hokan.toml");
        // 「病院」 in Shift_JIS on line 2, after `name = "`.
        let mut bytes = b"[site]\nname = \"".to_vec();
        bytes.extend_from_slice(&[0x95, 0x61, 0x89, 0x40]);
        bytes.extend_from_slice(b"\"\n");
        std::fs::write(&path, bytes).unwrap();
        let err = load(&path).unwrap_err();
        match &err {
            SiteError::NotUtf8 { line, column, .. } => assert_eq!((*line, *column), (2, 9)),
            other => panic!("{other:?}"),
        }
        assert!(err.render(false).contains(&path.display().to_string()));
        assert!(err.render(true).contains("Shift_JIS"));
    }

    #[test]
    fn problems_in_a_loaded_file_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hokan.toml");
        std::fs::write(
            &path,
            format!("{BASE}[policy]\nmin_offline_generations = 1\n"),
        )
        .unwrap();
        let err = load(&path).unwrap_err();
        assert_eq!(err.problems().len(), 1);
        assert!(err
            .render(false)
            .starts_with(&format!("{}:11:27: ", path.display())));
    }
}

#[test]
fn windows_line_endings_and_a_byte_order_mark_keep_positions() {
    let text =
        format!("\u{feff}{BASE}[policy]\nmin_offline_generations = 1\n").replace('\n', "\r\n");
    let found = problems(&text);
    assert_eq!(
        (found[0].line, found[0].column, found[0].key.as_str()),
        (11, 27, "policy.min_offline_generations")
    );
}

#[test]
fn disk_pool_rotation_after_job_and_commands_are_checked() {
    let text = format!(
        r#"{BASE}
[[disk_pool]]
name = "rdx"
mode = "rdx-single-drive"
retention = "14d"
rotation = "weekday"
after_job = "deactivate"
eject_command = []

[[disk_pool]]
name = "ql"
mode = "rdx-autoloader"
retention = "14d"
rotation = "weekly"
cartridges = ["Q-1", "Q-1"]
after_job = "eject"
"#
    );
    let found = problems(&text);
    let got: Vec<(usize, &str, ProblemKind)> = found
        .iter()
        .map(|p| (p.line, p.key.as_str(), p.kind))
        .collect();
    use ProblemKind::*;
    assert_eq!(
        got,
        [
            (15, "disk_pool[0].cartridges", Missing),
            (16, "disk_pool[0].after_job", Mismatch),
            (17, "disk_pool[0].eject_command", Empty),
            (24, "disk_pool[1].cartridges", BadValue),
            (25, "disk_pool[1].after_job", Mismatch),
        ],
        "{found:#?}"
    );
    let weekday = problems(&format!(
        "{BASE}\n[[disk_pool]]\nname = \"rdx\"\nmode = \"nas\"\nretention = \"14d\"\nrotation = \"weekday\"\ncartridges = [\"A\", \"B\", \"C\", \"D\", \"E\", \"F\", \"G\", \"H\"]\n"
    ));
    assert_eq!(weekday.len(), 1, "{weekday:#?}");
    assert!(weekday[0].message.en.contains("at most 7"), "{weekday:#?}");
}
