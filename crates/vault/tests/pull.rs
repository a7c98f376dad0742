//! The vault against a real primary: pull, restore from the vault alone,
//! and ransomware on the primary with every credential it holds.

mod common;

use common::*;
use hokan_vault::clock::Tick;
use hokan_vault::receipt;

fn tick() -> Tick {
    Tick::now()
}

fn kinds(findings: &[hokan_vault::ledger::Finding]) -> Vec<String> {
    findings.iter().map(|f| f.kind.clone()).collect()
}

#[test]
fn the_vault_keeps_every_generation_whatever_the_primary_does() {
    let immutable = can_set_immutable();
    let p = Primary::new();
    let g1 = p.backup(
        "emr",
        "2026-12-01T02:00:00Z",
        &[
            ("a.txt", b"first night".to_vec()),
            ("big.bin", vec![7u8; 300_000]),
        ],
    );
    let g2 = p.backup(
        "emr",
        "2026-12-02T02:00:00Z",
        &[
            ("a.txt", b"second night".to_vec()),
            ("big.bin", vec![7u8; 300_000]),
        ],
    );

    // Set-up: the vault prints its key and token hash for hokan.toml.
    let v = TestVault::new(&p, "https://127.0.0.1:1", |_| {});
    let server = p.serve(&v.setup.token_blake3);
    v.point_at(&url(&server));
    let vault = v.open();

    let night = vault.pull(tick(), unchecked()).unwrap();
    assert_eq!(night.outcome.error, None);
    assert_eq!(night.outcome.added.len(), 2, "{:?}", night.outcome);
    assert!(night.posted.is_ok(), "{:?}", night.posted);

    // The receipt reached the primary's inbox and verifies with the key printed at init.
    let inbox: Vec<_> = std::fs::read_dir(p.inbox.join("v1")).unwrap().collect();
    assert_eq!(inbox.len(), 1);
    let pk = receipt::public_key(&v.setup.public_key).unwrap();
    let r = receipt::verify(
        &std::fs::read(inbox[0].as_ref().unwrap().path()).unwrap(),
        &pk,
    )
    .unwrap();
    assert_eq!(r.generations.len(), 2);
    assert_eq!(r.vault, "v1");
    if immutable {
        assert!(r.generations.iter().all(|g| g.immutable));
        assert_eq!(r.immutable.without_flag_total, 0);
    }

    // Restore both from the vault's folder alone.
    for (g, text) in [(&g1, "first night"), (&g2, "second night")] {
        let t = restore_from(&v.root().join("repo"), &g.to_hex());
        let files = fingerprint(t.path());
        assert!(files.iter().any(|(n, _)| n.ends_with("a.txt")));
        let a = files.iter().find(|(n, _)| n.ends_with("a.txt")).unwrap();
        assert_eq!(a.1, blake3::hash(text.as_bytes()).to_hex().to_string());
    }
    let before = fingerprint(&v.root().join("repo"));

    // Ransomware 1: a snapshot dated 2099, then a real one. The 2099 one is
    // refused once; the real one still comes (PBS would call it "already synced").
    p.backup(
        "emr",
        "2099-01-01T00:00:00Z",
        &[("a.txt", b"from the future".to_vec())],
    );
    let g3 = p.backup("emr", &now_rfc3339(), &[("a.txt", b"tonight".to_vec())]);
    let server = {
        drop(server);
        p.serve(&v.setup.token_blake3)
    };
    v.point_at(&url(&server));
    let night = v.open().pull(tick(), unchecked()).unwrap();
    assert_eq!(night.outcome.added, vec![g3.to_hex()]);
    assert_eq!(kinds(&night.outcome.findings), vec!["future-dated"]);
    // Reported once, not every night.
    let night = v.open().pull(tick(), unchecked()).unwrap();
    assert!(
        night.outcome.findings.is_empty(),
        "{:?}",
        night.outcome.findings
    );

    // Ransomware 2: the repository's snapshots are deleted. The vault keeps everything.
    std::fs::remove_dir_all(p.repo_path.join("snapshots")).unwrap();
    std::fs::create_dir(p.repo_path.join("snapshots")).unwrap();
    let night = v.open().pull(tick(), unchecked()).unwrap();
    assert_eq!(
        night
            .outcome
            .findings
            .iter()
            .filter(|f| f.kind == "vanished")
            .count(),
        3,
        "{:?}",
        night.outcome.findings
    );

    // Every earlier generation is byte-identical and restorable.
    let after = fingerprint(&v.root().join("repo"));
    for f in &before {
        assert!(after.contains(f), "{f:?} changed or vanished in the vault");
    }
    for g in [&g1, &g2, &g3] {
        restore_from(&v.root().join("repo"), &g.to_hex());
    }
    let state = v.open().state().unwrap();
    assert_eq!(state.generations.len(), 3);
}
