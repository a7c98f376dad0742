//! Where the configuration file is found: --config, then HOKAN_CONFIG, then
//! ./hokan.toml, and the first place given decides.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use hokan_site::{locate, Place, SiteError, Tried};

struct Dirs {
    _tmp: tempfile::TempDir,
    cwd: PathBuf,
    flag: PathBuf,
    env: PathBuf,
}

/// A working directory holding hokan.toml, and two other files.
fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("work");
    std::fs::create_dir(&cwd).unwrap();
    std::fs::write(cwd.join("hokan.toml"), "").unwrap();
    let flag = tmp.path().join("flag.toml");
    let env = tmp.path().join("env.toml");
    std::fs::write(&flag, "").unwrap();
    std::fs::write(&env, "").unwrap();
    Dirs {
        _tmp: tmp,
        cwd,
        flag,
        env,
    }
}

fn tried(err: SiteError) -> Vec<Tried> {
    match err {
        SiteError::NotFound { tried } => tried,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_flag_comes_first() {
    let d = dirs();
    let found = locate(Some(&d.flag), Some(d.env.as_os_str()), &d.cwd).unwrap();
    assert_eq!(found, d.flag);
}

#[test]
fn then_the_environment() {
    let d = dirs();
    assert_eq!(
        locate(None, Some(d.env.as_os_str()), &d.cwd).unwrap(),
        d.env
    );
}

#[test]
fn then_the_working_directory() {
    let d = dirs();
    assert_eq!(
        locate(None, None, &d.cwd).unwrap(),
        d.cwd.join("hokan.toml")
    );
    // An empty HOKAN_CONFIG counts as unset.
    assert_eq!(
        locate(None, Some(OsStr::new("")), &d.cwd).unwrap(),
        d.cwd.join("hokan.toml")
    );
}

#[test]
fn relative_paths_are_taken_against_the_working_directory() {
    let d = dirs();
    let found = locate(Some(Path::new("../flag.toml")), None, &d.cwd).unwrap();
    assert_eq!(found, d.cwd.join("../flag.toml"));
    assert!(found.is_absolute());
    let found = locate(None, Some(OsStr::new("../env.toml")), &d.cwd).unwrap();
    assert_eq!(found, d.cwd.join("../env.toml"));
}

#[test]
fn a_missing_flag_file_is_an_error_not_a_fallback() {
    let d = dirs();
    let missing = d.cwd.join("nope.toml");
    let err = locate(Some(&missing), Some(d.env.as_os_str()), &d.cwd).unwrap_err();
    assert!(err
        .render(false)
        .contains(&format!("--config {}: no such file", missing.display())));
    assert_eq!(
        tried(err),
        [Tried {
            place: Place::Flag,
            path: Some(missing)
        }]
    );
}

#[test]
fn a_missing_env_file_is_an_error_not_a_fallback() {
    let d = dirs();
    let missing = d.cwd.join("nope.toml");
    let err = locate(None, Some(missing.as_os_str()), &d.cwd).unwrap_err();
    assert_eq!(
        tried(err),
        [
            Tried {
                place: Place::Flag,
                path: None
            },
            Tried {
                place: Place::Env,
                path: Some(missing)
            }
        ]
    );
}

#[test]
fn nothing_found_says_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let err = locate(None, None, tmp.path()).unwrap_err();
    let file = tmp.path().join("hokan.toml");
    assert_eq!(
        err.render(false),
        format!(
            "No configuration file found (looked at: --config not given; HOKAN_CONFIG not set; {}: no such file). \
             Pass --config PATH, set HOKAN_CONFIG, or run hokan in the folder that holds hokan.toml.",
            file.display()
        )
    );
    assert!(err.render(true).starts_with(
        "設定ファイルが見つかりません（確認した場所: --config 指定なし、HOKAN_CONFIG 未設定、"
    ));
    assert_eq!(
        tried(err),
        [
            Tried {
                place: Place::Flag,
                path: None
            },
            Tried {
                place: Place::Env,
                path: None
            },
            Tried {
                place: Place::WorkingDir,
                path: Some(file)
            }
        ]
    );
}
