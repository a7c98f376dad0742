//! Round trips on the synthetic hospital data set of `hokan-testdata`
//! (crates/testdata) across several nights: every snapshot restores
//! byte-identical, with modes and mtimes.

mod common;

use common::*;

#[test]
fn hospital_dataset_three_nights_every_snapshot_restores() {
    let t = tempfile::tempdir().unwrap();
    let (repo, data) = (t.path().join("repo"), t.path().join("hospital"));
    // About 31 MiB: a dump, images, scans with Japanese names, HL7, logs.
    hokan_testdata::create(&data, 0.03, 7).expect("create the data set");
    init(&repo);
    let mut states = Vec::new();
    for night in 0..4 {
        // Files the generator wrote this night (the `.night` marker aside).
        let mut written = 0;
        if night > 0 {
            let (st, w) = hokan_testdata::night(&data).expect("age the data set");
            assert_eq!(st.night, night);
            written = w.files;
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
            // hokan sees exactly what the night touched: the new files, the
            // rewritten dump, the appended logs and the marker.
            let s = &b["summary"];
            assert_eq!(
                s["files_new"].as_u64().unwrap() + s["files_changed"].as_u64().unwrap(),
                written + 1,
                "night {night}: {b}"
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
