//! Round trips on the shared synthetic hospital data set
//! (`../shared/bench/make-dataset.py`) across several nights: every
//! snapshot restores byte-identical, with modes and mtimes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn dataset_script() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("HOKAN_DATASET_SCRIPT") {
        return Some(PathBuf::from(p));
    }
    // crates/cli → repo root → its parent holds shared/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("../shared/bench/make-dataset.py");
    p.exists().then_some(p)
}

fn py(script: &Path, args: &[&str]) {
    let st = Command::new("python3")
        .arg(script)
        .args(args)
        .status()
        .expect("python3");
    assert!(st.success(), "make-dataset.py {args:?}");
}

#[test]
fn shared_dataset_three_nights_every_snapshot_restores() {
    let script = dataset_script().expect(
        "the shared data set script ../shared/bench/make-dataset.py is missing (set HOKAN_DATASET_SCRIPT); this test proves the round trip and may not be skipped",
    );
    let t = tempfile::tempdir().unwrap();
    let (repo, data) = (t.path().join("repo"), t.path().join("hospital"));
    py(
        &script,
        &[
            "create",
            data.to_str().unwrap(),
            "--scale",
            "0.03",
            "--seed",
            "7",
        ],
    );
    init(&repo);
    let mut states = Vec::new();
    for night in 0..4 {
        if night > 0 {
            py(&script, &["night", data.to_str().unwrap(), "--seed", "7"]);
        }
        let b = json(
            &repo,
            &["backup", "--source", "emr", data.to_str().unwrap()],
        );
        assert_eq!(b["partial"], false);
        if night > 0 {
            assert!(
                b["summary"]["files_unchanged"].as_u64().unwrap() > 100,
                "incremental: {b}"
            );
        }
        let copy = t.path().join(format!("night{night}"));
        copy_tree(&data, &copy);
        states.push((b["snapshot_short"].as_str().unwrap().to_string(), copy));
    }
    ok(&repo, &["verify", "--read-data"]);
    for (id, state) in &states {
        let out = t.path().join(format!("restore-{id}"));
        ok(&repo, &["restore", id, "--target", out.to_str().unwrap()]);
        assert_same(state, &out.join("hospital"));
    }
}
