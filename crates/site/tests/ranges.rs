//! Every duration, count, offset and name in hokan.toml has a documented
//! range (docs/configuration.md); out of range is a problem naming its line
//! and key, in both languages, never a value that makes `status` or
//! `report` panic later (issue 12, "Values").

use std::path::Path;

use hokan_site::{parse, ConfigProblem, ProblemKind, SiteError};

/// A valid file with the [site] table left for each case to write.
fn file(site: &str, extra: &str) -> String {
    format!(
        "[site]\n{site}\n\n[repository]\npath = \"/srv/hokan/repo\"\n\n[[source]]\nname = \"emr\"\npaths = [\"/srv/emr/data\"]\n{extra}"
    )
}

const NAME: &str = "name = \"○○総合病院\"";

fn problems(text: &str) -> Vec<ConfigProblem> {
    match parse(text, Path::new("/etc/hokan/hokan.toml")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(SiteError::Invalid { problems, .. }) => problems,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

/// `text` gives exactly one problem, at `line` and `key`, of `kind`, whose
/// English and Japanese say `en` and `ja`.
#[track_caller]
fn refused(text: &str, line: usize, key: &str, kind: ProblemKind, en: &str, ja: &str) {
    let found = problems(text);
    assert_eq!(found.len(), 1, "{text}\n{found:#?}");
    let p = &found[0];
    assert_eq!((p.line, p.key.as_str(), p.kind), (line, key, kind), "{p}");
    let (all_en, all_ja) = (
        format!("{} {}", p.message.en, p.fix.en),
        format!("{} {}", p.message.ja, p.fix.ja),
    );
    assert!(all_en.contains(en), "{all_en}");
    assert!(all_ja.contains(ja), "{all_ja}");
}

#[test]
fn a_warning_horizon_of_thousands_of_years_is_refused() {
    refused(
        &file(NAME, "[policy]\nwarning_horizon = \"3000000d\"\n"),
        11,
        "policy.warning_horizon",
        ProblemKind::OutOfRange,
        "at most 100 years (36525d)",
        "最長 100 年",
    );
}

#[test]
fn a_huge_max_newest_age_is_refused_as_text_or_seconds() {
    for value in ["\"9999999w\"", "99999999999", "9223372036854775807"] {
        refused(
            &file(NAME, &format!("[policy]\nmax_newest_age = {value}\n")),
            11,
            "policy.max_newest_age",
            ProblemKind::OutOfRange,
            "too long",
            "長すぎます",
        );
    }
    refused(
        &file(NAME, "[source.policy]\nmax_newest_age = \"36526d\"\n"),
        11,
        "source[0].policy.max_newest_age",
        ProblemKind::OutOfRange,
        "100 years",
        "100 年",
    );
}

#[test]
fn a_hundred_years_is_the_longest_length_accepted() {
    let text = file(
        NAME,
        "[policy]\nwarning_horizon = \"36525d\"\nmax_newest_age = \"36525d\"\nmax_person_location_age = \"36525d\"\n\n[[vault]]\nname = \"v\"\naddress = \"10.0.0.1:7443\"\nretention = \"36525d\"\npublic_key = \"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\"\ntoken_blake3 = \"abababababababababababababababababababababababababababababababab\"\n",
    );
    parse(&text, Path::new("/etc/hokan/hokan.toml")).unwrap();
}

#[test]
fn a_retention_longer_than_a_hundred_years_is_refused() {
    refused(
        &file(
            NAME,
            "[[vault]]\nname = \"v\"\naddress = \"10.0.0.1:7443\"\nretention = \"36526d\"\npublic_key = \"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\"\ntoken_blake3 = \"abababababababababababababababababababababababababababababababab\"\n",
        ),
        13,
        "vault[0].retention",
        ProblemKind::OutOfRange,
        "at most 100 years",
        "最長 100 年",
    );
}

#[test]
fn a_pre_backup_timeout_longer_than_a_week_is_refused() {
    refused(
        &file(
            NAME,
            "[source.pre_backup]\ncommand = [\"/usr/local/bin/emr-dump\"]\ntimeout = \"8d\"\n",
        ),
        12,
        "source[0].pre_backup.timeout",
        ProblemKind::OutOfRange,
        "at most 7 days",
        "最長 7 日",
    );
}

#[test]
fn a_timezone_offset_that_exists_nowhere_is_refused() {
    for tz in ["+25:00", "+14:30", "-13:00"] {
        refused(
            &file(&format!("{NAME}\ntimezone = \"{tz}\""), ""),
            3,
            "site.timezone",
            ProblemKind::OutOfRange,
            "-12:00 to +14:00",
            "-12:00 から +14:00",
        );
    }
    for tz in ["+14:00", "-12:00", "+09:00", "+05:45"] {
        let text = file(&format!("{NAME}\ntimezone = \"{tz}\""), "");
        parse(&text, Path::new("/etc/hokan/hokan.toml")).unwrap();
    }
}

#[test]
fn a_site_name_with_a_control_character_is_refused() {
    for name in ["○○病院\\u001b[2J", "○○病院\\n偽の行", "tab\\there"] {
        refused(
            &file(&format!("name = \"{name}\""), ""),
            2,
            "site.name",
            ProblemKind::BadValue,
            "control character",
            "制御文字",
        );
    }
}

#[test]
fn a_site_name_longer_than_two_hundred_characters_is_refused() {
    let long = "病".repeat(201);
    refused(
        &file(&format!("name = \"{long}\""), ""),
        2,
        "site.name",
        ProblemKind::OutOfRange,
        "at most 200",
        "200 文字以内",
    );
    let ok = "病".repeat(200);
    parse(
        &file(&format!("name = \"{ok}\""), ""),
        Path::new("/etc/hokan/hokan.toml"),
    )
    .unwrap();
}

#[test]
fn a_pool_name_longer_than_sixty_four_characters_is_refused() {
    let long = "a".repeat(65);
    refused(
        &file(
            NAME,
            &format!("[[tape_pool]]\nname = \"{long}\"\nmode = \"library\"\nretention = \"28d\"\n"),
        ),
        11,
        "tape_pool[0].name",
        ProblemKind::OutOfRange,
        "at most 64",
        "64 文字以内",
    );
}

#[test]
fn far_too_many_generations_are_refused() {
    refused(
        &file(NAME, "[policy]\nmin_offline_generations = 100000\n"),
        11,
        "policy.min_offline_generations",
        ProblemKind::OutOfRange,
        "at most 1000",
        "1000 以下",
    );
}

#[test]
fn a_control_character_in_a_path_is_refused() {
    refused(
        &file(NAME, "[[source]]\nname = \"x\"\npaths = [\"/srv/x\\ny\"]\n"),
        12,
        "source[1].paths[0]",
        ProblemKind::BadValue,
        "U+000A",
        "U+000A",
    );
}
