//! The generator is deterministic, roughly the size asked for, and a night
//! changes some files but not all.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use hokan_testdata::{create, create_messages, create_pacs, list_files, night, state, MARKER};

const SCALE: f64 = 0.01; // about 10 MiB

/// Path → BLAKE3 of the content, for every file of the tree.
fn hashes(dir: &Path) -> BTreeMap<PathBuf, blake3::Hash> {
    list_files(dir)
        .unwrap()
        .into_iter()
        .map(|p| {
            let h = blake3::hash(&fs::read(dir.join(&p)).unwrap());
            (p, h)
        })
        .collect()
}

/// One hash over every path and content of the tree.
fn tree_hash(dir: &Path) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    for (p, c) in hashes(dir) {
        h.update(p.as_os_str().as_encoded_bytes());
        h.update(&[0]);
        h.update(c.as_bytes());
    }
    h.finalize()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let t = tempfile::tempdir().unwrap();
    let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
    create(&a, SCALE, 7).unwrap();
    create(&b, SCALE, 7).unwrap();
    create(&c, SCALE, 8).unwrap();
    assert_eq!(tree_hash(&a), tree_hash(&b), "night 0, same seed");
    assert_ne!(tree_hash(&a), tree_hash(&c), "night 0, other seed");
    for n in 1..=2 {
        night(&a).unwrap();
        night(&b).unwrap();
        assert_eq!(tree_hash(&a), tree_hash(&b), "night {n}, same seed");
    }
    assert_eq!(state(&a).unwrap().night, 2);
}

#[test]
fn next_night_changes_some_files_but_not_all() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("hospital");
    create(&d, SCALE, 3).unwrap();
    let before = hashes(&d);
    let (st, w) = night(&d).unwrap();
    assert_eq!(st.night, 1);
    let after = hashes(&d);

    let removed: Vec<_> = before.keys().filter(|p| !after.contains_key(*p)).collect();
    let added: Vec<_> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    let changed: Vec<_> = before
        .iter()
        .filter(|(p, h)| after.get(*p).is_some_and(|a| a != *h))
        .map(|(p, _)| p)
        .collect();
    let unchanged = before.len() - removed.len() - changed.len();
    assert!(removed.is_empty(), "a night removes nothing: {removed:?}");
    // The dump, the eight logs and the marker change; every image, scan and
    // message of night 0 stays as it was.
    assert_eq!(changed.len(), 1 + 8 + 1, "changed: {changed:?}");
    assert!(changed.contains(&&PathBuf::from("db/emr.dump")));
    assert!(changed.contains(&&PathBuf::from(MARKER)));
    assert!(
        unchanged > 100 && unchanged > 10 * (changed.len() + added.len()),
        "most files unchanged: {unchanged} unchanged, {} changed, {} added",
        changed.len(),
        added.len()
    );
    for kind in ["pacs/n001/", "docs/n001/", "hl7/n001-000/"] {
        assert!(
            added.iter().any(|p| p.to_str().unwrap().starts_with(kind)),
            "night 1 adds files under {kind}: {added:?}"
        );
    }
    // What `night` says it wrote: the new files, the dump and the logs.
    assert_eq!(w.files as usize, added.len() + 1 + 8);
}

#[test]
fn db_rows_rewritten_in_place_and_inserted() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("hospital");
    create(&d, SCALE, 5).unwrap();
    let log0 = fs::read(d.join("logs/pacs.log")).unwrap();
    let db0 = fs::read_to_string(d.join("db/emr.dump")).unwrap();
    night(&d).unwrap();
    let log1 = fs::read(d.join("logs/pacs.log")).unwrap();
    let db1 = fs::read_to_string(d.join("db/emr.dump")).unwrap();
    assert!(
        log1.len() > log0.len() && log1.starts_with(&log0),
        "log appended"
    );

    let rows = |s: &str| -> BTreeMap<u64, String> {
        s.lines()
            .filter_map(|l| Some((l.split('\t').next()?.parse().ok()?, l.to_string())))
            .collect()
    };
    let (r0, r1) = (rows(&db0), rows(&db1));
    assert!(r1.len() > r0.len(), "rows inserted");
    assert!(r0.keys().all(|id| r1.contains_key(id)), "no row lost");
    let rewritten = r0.iter().filter(|(id, l)| &r1[*id] != *l).count();
    // ~2 % drawn with repeats: between 1 % and 2 % of the rows differ.
    assert!(
        rewritten * 100 >= r0.len() && rewritten * 50 <= r0.len(),
        "{rewritten} of {} rows rewritten",
        r0.len()
    );
    // Inserted rows sit in the middle, not only at the end.
    let ids: Vec<u64> = db1
        .lines()
        .filter_map(|l| l.split('\t').next()?.parse().ok())
        .collect();
    let first_new = ids.iter().position(|&i| i >= 100_000_000).unwrap();
    assert!(first_new < ids.len() * 9 / 10, "inserts shift data");
    assert!(db1.starts_with("COPY ") && db1.ends_with("\\.\n"));
}

#[test]
fn size_follows_scale() {
    let t = tempfile::tempdir().unwrap();
    for (name, scale) in [("small", 0.005), ("big", 0.02)] {
        let d = t.path().join(name);
        let w = create(&d, scale, 1).unwrap();
        let want = scale * (1u64 << 30) as f64;
        let on_disk: u64 = list_files(&d)
            .unwrap()
            .iter()
            .map(|p| fs::metadata(d.join(p)).unwrap().len())
            .sum();
        assert!(
            (on_disk as f64) > want * 0.9 && (on_disk as f64) < want * 1.1,
            "scale {scale}: {on_disk} bytes, want about {want}"
        );
        assert!(w.bytes <= on_disk && w.bytes + 200 > on_disk);
    }
}

#[test]
fn refuses_a_non_empty_folder_and_a_folder_without_marker() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("patient.txt"), b"keep me").unwrap();
    let e = create(t.path(), SCALE, 1).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
    assert_eq!(fs::read(t.path().join("patient.txt")).unwrap(), b"keep me");
    let e = night(t.path()).unwrap_err();
    assert!(e.to_string().contains(".night"), "{e}");
    let e = create(&t.path().join("new"), 0.0, 1).unwrap_err();
    assert!(e.to_string().contains("positive"), "{e}");
}

/// The bytes of a seed are pinned: the benchmark's numbers and the tests
/// stay comparable across commits and machines. A deliberate change to the
/// generator updates this hash (and says so in its commit).
#[test]
fn seed_1_gives_the_pinned_bytes() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("d");
    create(&d, 0.002, 1).unwrap();
    night(&d).unwrap();
    assert_eq!(
        tree_hash(&d).to_hex().as_str(),
        "7ed01b84d074d56150b0e114cc66e2748034a0c195fad7fc249e77d058598dfd"
    );
}

#[test]
fn the_pacs_set_is_seeded_sized_and_made_of_distinct_images_with_a_header() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    let w = create_pacs(&a, 10, 5, 7).unwrap();
    assert_eq!((w.files, w.bytes), (10, 5 << 20));
    create_pacs(&b, 10, 5, 7).unwrap();
    assert_eq!(tree_hash(&a), tree_hash(&b), "same seed, same bytes");
    let files = list_files(&a).unwrap();
    assert_eq!(files.len(), 10);
    let h = hashes(&a);
    let distinct: std::collections::BTreeSet<[u8; 32]> =
        h.values().map(|x| *x.as_bytes()).collect();
    assert_eq!(distinct.len(), 10, "no two images alike (no dedup to win)");
    let one = fs::read(a.join(&files[0])).unwrap();
    assert_eq!(&one[128..132], b"DICM");
    // The pixel data looks random: every byte value, none much more common.
    let mut counts = [0u32; 256];
    for &x in &one[1024..] {
        counts[x as usize] += 1;
    }
    let mean = (one.len() - 1024) as f64 / 256.0;
    assert!(
        counts.iter().all(|&c| (c as f64 - mean).abs() < mean * 0.1),
        "{counts:?}"
    );
    assert!(
        create_pacs(&a, 1, 1, 1).is_err(),
        "a non-empty folder is refused"
    );
}

#[test]
fn the_messages_set_is_seeded_small_distinct_and_a_thousand_to_a_folder() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    let w = create_messages(&a, 2500, 3).unwrap();
    assert_eq!(w.files, 2500);
    create_messages(&b, 2500, 3).unwrap();
    assert_eq!(tree_hash(&a), tree_hash(&b), "same seed, same bytes");
    let files = list_files(&a).unwrap();
    assert_eq!(files.len(), 2500);
    let folders: std::collections::BTreeSet<_> = files
        .iter()
        .map(|f| f.parent().unwrap().to_owned())
        .collect();
    assert_eq!(folders.len(), 3, "1000 messages to a folder: {folders:?}");
    let h = hashes(&a);
    let distinct: std::collections::BTreeSet<[u8; 32]> =
        h.values().map(|x| *x.as_bytes()).collect();
    assert_eq!(distinct.len(), 2500, "every message is different");
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| fs::metadata(a.join(f)).unwrap().len())
        .collect();
    assert!(sizes.iter().all(|&s| (500..8192).contains(&s)), "{sizes:?}");
    assert!(fs::read(a.join(&files[0])).unwrap().starts_with(b"MSH|"));
    assert!(
        create_messages(&a, 1, 1).is_err(),
        "a non-empty folder is refused"
    );
}
