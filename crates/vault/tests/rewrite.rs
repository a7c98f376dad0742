//! A pack rewritten under its own name on the primary (ransomware that
//! encrypts the repository's files in place), before the vault fetched it
//! and after. The vault must never take the new bytes, must say which
//! object is wrong, and must keep the copy it checked on arrival.

mod common;

use std::path::PathBuf;

use common::*;
use hokan_format::{BlobKind, Id};
use hokan_vault::clock::Tick;
use hokan_vault::ops::Night;
use hokan_vault::wire::{rel_path, Kind};

/// Incompressible bytes (so that data really lands in packs of that size).
fn noise(seed: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    blake3::Hasher::new()
        .update(seed.as_bytes())
        .finalize_xof()
        .fill(&mut out);
    out
}

fn files(night: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("a.txt", night.as_bytes().to_vec()),
        ("big.bin", noise("big", 200_000)),
    ]
}

/// The pack holding the snapshot's root tree, and the packs holding only
/// data, largest first (the first holds chunks of big.bin).
fn packs(p: &Primary, snapshot: &Id) -> (String, Vec<String>) {
    let repo = p.repo();
    let tree = repo.read_snapshot(&snapshot.to_hex()).unwrap().tree;
    let idx = repo.index();
    let tree_pack = idx.pack_name(idx.get(&tree).unwrap().pack).to_hex();
    let mut data: Vec<(u64, String)> = idx
        .by_pack()
        .into_iter()
        .filter(|(_, e)| e.iter().all(|b| b.kind == BlobKind::Data))
        .map(|(p, e)| (e.iter().map(|b| b.length as u64).sum(), p.to_hex()))
        .collect();
    data.sort();
    data.reverse();
    let data: Vec<String> = data.into_iter().map(|(_, p)| p).collect();
    assert!(!data.is_empty());
    (tree_pack, data)
}

fn pack_path(p: &Primary, name: &str) -> PathBuf {
    p.repo_path.join(rel_path(Kind::Pack, name))
}

/// Rewrite a pack in place: other bytes of the same size, or `grow` more.
fn rewrite(p: &Primary, name: &str, grow: usize) -> Vec<u8> {
    let path = pack_path(p, name);
    let old = std::fs::read(&path).unwrap();
    let mut new: Vec<u8> = old.iter().map(|b| b ^ 0x5a).collect();
    new.extend(noise("more", grow));
    std::fs::write(&path, &new).unwrap();
    old
}

fn everything(n: &Night) -> String {
    format!(
        "added: {:?}\nerror: {:?}\nfindings: {:#?}",
        n.outcome.added, n.outcome.error, n.outcome.findings
    )
}

/// Restore from the vault's folder alone, as hokan would: `Err` if it cannot.
fn try_restore(v: &TestVault, snapshot: &Id) -> Result<tempfile::TempDir, String> {
    use hokan_repo::{NoProgress, Repository, RestoreOptions};
    let repo = Repository::open(
        std::sync::Arc::new(hokan_store::LocalStore::new(v.root().join("repo"))),
        PW,
    )
    .map_err(|e| e.to_string())?;
    let t = tempfile::tempdir().unwrap();
    let stats = repo
        .restore(
            snapshot,
            &RestoreOptions {
                target: t.path().to_path_buf(),
                include: vec![],
                overwrite: false,
            },
            &NoProgress,
        )
        .map_err(|e| e.to_string())?;
    if !stats.errors.is_empty() {
        return Err(format!("{:?}", stats.errors));
    }
    Ok(t)
}

/// The restored files match `want` byte for byte.
fn assert_restores(dir: &std::path::Path, want: &[(&str, Vec<u8>)]) {
    let got = fingerprint(dir);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (n, c) in want {
        let h = blake3::hash(c).to_hex().to_string();
        assert!(
            got.iter().any(|(p, g)| p.ends_with(n) && *g == h),
            "{n} is not restored byte-identically: {got:?}"
        );
    }
}

/// A data pack rewritten before the first pull, with the same size or not.
fn data_pack_rewritten_before_the_first_pull(grow: usize) {
    let p = Primary::new();
    let g1 = p.backup("emr", "2026-12-01T02:00:00Z", &files("first"));
    let (_, data) = packs(&p, &g1);
    let victim = data[0].clone();
    rewrite(&p, &victim, grow);

    let v = TestVault::new(&p, "https://127.0.0.1:1", |_| {});
    let server = p.serve(&v.setup.token_blake3);
    v.point_at(&url(&server));
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    let all = everything(&night);
    assert!(night.outcome.added.is_empty(), "{all}");
    let f = night
        .outcome
        .findings
        .iter()
        .find(|f| f.kind == "changed-bytes" && f.detail.contains(&victim))
        .unwrap_or_else(|| panic!("no finding names pack {victim}: {all}"));
    assert_eq!(f.snapshot.as_deref(), Some(g1.to_hex().as_str()));
    let vault = v.open();
    assert!(
        !vault.holds(Kind::Pack, &victim),
        "the rewritten pack is stored"
    );
    assert!(!vault.holds(Kind::Snapshot, &g1.to_hex()));
    assert!(vault.state().unwrap().generations.is_empty());
    assert!(night.receipt.generations.is_empty());
    assert!(tmp_files(&v).is_empty());
    // A restore from the vault says it cannot; it does not make wrong files.
    let e = try_restore(&v, &g1).expect_err("nothing to restore");
    assert!(!e.is_empty());
}

#[test]
fn a_data_pack_rewritten_with_the_same_size_before_the_first_pull_is_refused() {
    data_pack_rewritten_before_the_first_pull(0);
}

#[test]
fn a_data_pack_rewritten_with_another_size_before_the_first_pull_is_refused() {
    data_pack_rewritten_before_the_first_pull(4096);
}

/// The pack with the snapshot's tree rewritten: the export cannot even say
/// what the generation needs. The vault must still say what is wrong, and
/// still take the other, intact generations.
#[test]
fn a_tree_pack_rewritten_before_the_first_pull_is_named_and_later_generations_still_come() {
    let p = Primary::new();
    let g1 = p.backup("emr", "2026-12-01T02:00:00Z", &files("first"));
    let (tree_pack, _) = packs(&p, &g1);
    rewrite(&p, &tree_pack, 0);
    // A later generation on another source: its own trees are intact (a
    // new pack), its data deduplicated against the intact data packs.
    let g2 = p.backup("lab", "2026-12-02T02:00:00Z", &files("second"));
    let (tree2, _) = packs(&p, &g2);
    assert_ne!(tree2, tree_pack);

    let v = TestVault::new(&p, "https://127.0.0.1:1", |_| {});
    let server = p.serve(&v.setup.token_blake3);
    v.point_at(&url(&server));
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    let all = everything(&night);
    let short = &tree_pack[..8];
    assert!(
        night.outcome.findings.iter().any(
            |f| f.snapshot.as_deref() == Some(g1.to_hex().as_str()) && f.detail.contains(short)
        ),
        "a finding names generation {g1} and the damaged pack {short}: {all}"
    );
    assert_eq!(night.outcome.added, vec![g2.to_hex()], "{all}");
    assert!(!v.open().holds(Kind::Snapshot, &g1.to_hex()));
    assert!(!v.open().holds(Kind::Pack, &tree_pack));
    let t = try_restore(&v, &g2).unwrap();
    assert_restores(t.path(), &files("second"));
    assert!(try_restore(&v, &g1).is_err());
}

/// A pack the vault holds, rewritten on the primary afterwards, and a new
/// generation that needs it: the vault keeps its own, checked copy.
fn held_pack_rewritten_then_referenced_again(grow: usize) {
    let p = Primary::new();
    let g1 = p.backup("emr", "2026-12-01T02:00:00Z", &files("first"));
    let v = TestVault::new(&p, "https://127.0.0.1:1", |_| {});
    let server = p.serve(&v.setup.token_blake3);
    v.point_at(&url(&server));
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    assert_eq!(
        night.outcome.added,
        vec![g1.to_hex()],
        "{}",
        everything(&night)
    );

    let (_, data) = packs(&p, &g1);
    let victim = data[0].clone();
    let original = rewrite(&p, &victim, grow);
    let in_vault = v.root().join("repo").join(rel_path(Kind::Pack, &victim));
    assert_eq!(std::fs::read(&in_vault).unwrap(), original);

    // The same big file again: deduplicated into the rewritten pack.
    let g2 = p.backup("emr", "2026-12-02T02:00:00Z", &files("second"));
    drop(server);
    let server = p.serve(&v.setup.token_blake3);
    v.point_at(&url(&server));
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    let all = everything(&night);
    assert_eq!(night.outcome.added, vec![g2.to_hex()], "{all}");
    let plan = v.open().state().unwrap();
    assert!(plan.generations.contains_key(&g2.to_hex()));
    // The vault's copy is the original, byte for byte.
    assert_eq!(std::fs::read(&in_vault).unwrap(), original);
    if grow > 0 {
        assert!(
            night
                .outcome
                .findings
                .iter()
                .any(|f| f.kind == "changed-size" && f.detail.contains(&victim)),
            "the primary's new size for {victim} is a finding: {all}"
        );
    } else {
        // Same name, same size: the vault never fetches an object it holds
        // (its copy was checked against the name on arrival, so it *is* the
        // object of that name) and so cannot see the primary's damage. What
        // matters is that its copy is the right one: proved below.
        assert!(
            night.outcome.findings.is_empty(),
            "{all} (a finding here would mean the vault learnt of the damage: update this test)"
        );
    }
    // Both generations restore from the vault alone, byte-identically; the
    // primary itself can no longer restore the second one.
    assert_restores(try_restore(&v, &g1).unwrap().path(), &files("first"));
    assert_restores(try_restore(&v, &g2).unwrap().path(), &files("second"));
    let primary_restore = {
        let repo = p.repo();
        let t = tempfile::tempdir().unwrap();
        repo.restore(
            &g2,
            &hokan_repo::RestoreOptions {
                target: t.path().to_path_buf(),
                include: vec![],
                overwrite: false,
            },
            &hokan_repo::NoProgress,
        )
        .map(|s| s.errors)
    };
    assert!(
        primary_restore.as_ref().map_or(true, |e| !e.is_empty()),
        "the damage on the primary is real (else this test proves nothing)"
    );
}

#[test]
fn a_held_pack_rewritten_with_the_same_size_stays_the_vaults_original() {
    held_pack_rewritten_then_referenced_again(0);
}

#[test]
fn a_held_pack_rewritten_with_another_size_stays_the_vaults_original_and_is_reported() {
    held_pack_rewritten_then_referenced_again(4096);
}
