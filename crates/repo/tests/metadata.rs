//! Damage to the plaintext metadata, done as the accident does: every byte
//! of the config and of a key slot flipped in turn. Each flip must be
//! reported as damage (never as a wrong passphrase, never opened with
//! changed parameters); tampering that renames a slot to its new hash, and
//! a downgrade of a version-2 repository to version 1, are caught by the
//! MACs. Also: no key slots, a missing config, a real wrong passphrase, a
//! version-1 repository (the golden fixture), and `latest` over a damaged
//! snapshot.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use hokan_format::{KeySlot, RepoConfig};
use hokan_repo::{
    BackupOptions, InitOptions, KdfStrength, NoProgress, ObjectKind, RepoError, Repository, Store,
};
use hokan_store::{LocalStore, MemStore};

const PW: &[u8] = b"pw";
const MASKS: [u8; 3] = [0x01, 0x20, 0x80];

fn opts() -> InitOptions {
    InitOptions {
        kdf: KdfStrength::TestOnly,
        pack_size: 64 * 1024,
        ..Default::default()
    }
}

fn new_repo() -> (Arc<MemStore>, Repository) {
    let store = Arc::new(MemStore::new());
    let repo = Repository::init(store.clone(), PW, &opts()).unwrap();
    (store, repo)
}

fn backup(repo: &Repository, dir: &Path, time: &str) -> hokan_format::Id {
    repo.backup(
        &BackupOptions {
            source: "s".into(),
            paths: vec![dir.to_path_buf()],
            time: Some(time.into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap()
    .id
}

fn get(store: &MemStore, kind: ObjectKind, name: &str) -> Vec<u8> {
    store.get(kind, name).unwrap().to_vec()
}

fn set(store: &MemStore, kind: ObjectKind, name: &str, bytes: &[u8]) {
    store.tamper(kind, name, |b| *b = bytes.to_vec()).unwrap();
}

fn slot_names(store: &MemStore) -> Vec<String> {
    store
        .list(ObjectKind::Key)
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect()
}

/// Store a key slot under the BLAKE3 of its bytes (as an attacker who
/// knows the naming would), removing the old one.
fn replace_slot(store: &MemStore, old: &str, slot: &KeySlot) -> String {
    let bytes = serde_json::to_vec_pretty(slot).unwrap();
    let name = blake3::hash(&bytes).to_hex().to_string();
    store.delete(ObjectKind::Key, old).unwrap();
    store.put(ObjectKind::Key, &name, &bytes).unwrap();
    name
}

#[test]
fn new_repositories_are_version_2_with_macs() {
    let (store, repo) = new_repo();
    assert_eq!(repo.config().version, 2);
    assert!(repo.config().mac.is_some());
    let slot = KeySlot::decode(&get(&store, ObjectKind::Key, &slot_names(&store)[0])).unwrap();
    assert_eq!(slot.version, 2);
    assert!(slot.mac.is_some());
    drop(repo);
    Repository::open(store.clone(), PW).unwrap();
}

#[test]
fn every_config_byte_flip_is_damage_never_a_wrong_passphrase() {
    let (store, repo) = new_repo();
    let secret = *repo.key().secret();
    drop(repo);
    let orig = get(&store, ObjectKind::Config, "config");
    let version_at = String::from_utf8_lossy(&orig)
        .find("\"version\": 2")
        .unwrap()
        + "\"version\": ".len();
    let (mut total, mut damage, mut newer) = (0, 0, 0);
    for i in 0..orig.len() {
        for mask in MASKS {
            let mut b = orig.clone();
            b[i] ^= mask;
            set(&store, ObjectKind::Config, "config", &b);
            total += 1;
            match Repository::open(store.clone(), PW) {
                Err(RepoError::DamagedConfig { .. }) => damage += 1,
                // "2" flipped to "3": a newer version, exit 8, nothing read;
                // the message says that without a newer hokan it is damage.
                Err(RepoError::Format {
                    source: hokan_format::FormatError::UnsupportedVersion { found, .. },
                    ..
                }) if i == version_at && found > 2 => newer += 1,
                Err(e) => panic!("byte {i} ^ {mask:#04x}: not reported as damage: {e}"),
                Ok(r) => panic!(
                    "byte {i} ^ {mask:#04x}: opened silently with config {:?}",
                    r.config()
                ),
            }
            // The paper key checks the same MAC.
            assert!(
                Repository::open_with_secret(store.clone(), secret).is_err(),
                "byte {i} ^ {mask:#04x}: paper key opened a changed config"
            );
        }
    }
    eprintln!(
        "{damage} of {total} config flips reported as damaged config, {newer} as a newer version (the version digit), 0 as wrong passphrase, 0 opened"
    );
    assert_eq!(damage + newer, total);
    assert!(newer <= 1);
    set(&store, ObjectKind::Config, "config", &orig);
    Repository::open(store, PW).unwrap();
}

#[test]
fn every_key_slot_byte_flip_is_damage_never_a_wrong_passphrase() {
    let (store, repo) = new_repo();
    drop(repo);
    let name = slot_names(&store).pop().unwrap();
    let orig = get(&store, ObjectKind::Key, &name);
    let mut total = 0;
    for i in 0..orig.len() {
        for mask in MASKS {
            let mut b = orig.clone();
            b[i] ^= mask;
            set(&store, ObjectKind::Key, &name, &b);
            total += 1;
            match Repository::open(store.clone(), PW) {
                Err(RepoError::DamagedKeySlots {
                    damaged, intact: 0, ..
                }) => assert!(damaged[0].starts_with(&name), "{damaged:?}"),
                Err(e) => panic!("byte {i} ^ {mask:#04x}: not reported as damage: {e}"),
                Ok(_) => panic!("byte {i} ^ {mask:#04x}: opened with a changed key slot"),
            }
        }
    }
    eprintln!("{total} of {total} key slot flips reported as a damaged key slot, 0 as wrong passphrase, 0 opened");
    set(&store, ObjectKind::Key, &name, &orig);
    Repository::open(store, PW).unwrap();
}

#[test]
fn a_damaged_slot_beside_intact_ones_is_named_and_the_others_still_open() {
    let (store, repo) = new_repo();
    repo.add_key(b"other", "night", KdfStrength::TestOnly)
        .unwrap();
    let first = repo.key_slot().unwrap().to_string();
    drop(repo);
    store
        .tamper(ObjectKind::Key, &first, |b| b[40] ^= 1)
        .unwrap();
    // The passphrase of the damaged slot: damage, with one intact slot tried.
    match Repository::open(store.clone(), PW) {
        Err(RepoError::DamagedKeySlots {
            damaged, intact, ..
        }) => {
            assert_eq!(intact, 1);
            assert!(damaged[0].starts_with(&first));
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
    // The other passphrase opens, and the damage is reported, not hidden.
    let r = Repository::open(store.clone(), b"other").unwrap();
    assert_eq!(r.damaged_key_slots().len(), 1);
    let v = r.verify(false, &NoProgress).unwrap();
    assert!(!v.ok(), "verify reports the damaged key slot");
    assert!(v.damage[0].object.contains(&first));
}

#[test]
fn wrong_passphrase_with_intact_slots_is_a_wrong_passphrase() {
    let (store, repo) = new_repo();
    drop(repo);
    assert!(matches!(
        Repository::open(store, b"nope"),
        Err(RepoError::WrongPassword { .. })
    ));
}

#[test]
fn no_key_slots_is_not_a_wrong_passphrase_and_the_paper_key_recovers() {
    let (store, repo) = new_repo();
    let secret = *repo.key().secret();
    drop(repo);
    for n in slot_names(&store) {
        store.delete(ObjectKind::Key, &n).unwrap();
    }
    assert!(matches!(
        Repository::open(store.clone(), PW),
        Err(RepoError::NoKeySlots { .. })
    ));
    let r = Repository::open_with_secret(store.clone(), secret).unwrap();
    r.add_key(b"new", "recovered", KdfStrength::TestOnly)
        .unwrap();
    drop(r);
    Repository::open(store, b"new").unwrap();
}

#[test]
fn config_missing_or_unreadable_is_damage_where_a_repository_is() {
    let (store, repo) = new_repo();
    drop(repo);
    let orig = get(&store, ObjectKind::Config, "config");
    set(&store, ObjectKind::Config, "config", b"garbage");
    assert!(matches!(
        Repository::open(store.clone(), PW),
        Err(RepoError::DamagedConfig { .. })
    ));
    store.delete(ObjectKind::Config, "config").unwrap();
    assert!(matches!(
        Repository::read_config(&*store),
        Err(RepoError::DamagedConfig { .. })
    ));
    store.put(ObjectKind::Config, "config", &orig).unwrap();
    Repository::open(store, PW).unwrap();
    // Nothing at all there: not a repository.
    let empty = Arc::new(MemStore::new());
    assert!(matches!(
        Repository::read_config(&*empty),
        Err(RepoError::NotARepository { .. })
    ));
}

#[test]
fn changed_config_fields_in_canonical_form_fail_the_mac() {
    let (store, repo) = new_repo();
    let secret = *repo.key().secret();
    drop(repo);
    let orig = get(&store, ObjectKind::Config, "config");
    let c = RepoConfig::decode(&orig).unwrap();
    let mut variants = Vec::new();
    let mut v = c.clone();
    v.pack_size *= 2;
    variants.push(v);
    let mut v = c.clone();
    v.chunker.min_size /= 2;
    variants.push(v);
    let mut v = c.clone();
    v.id.0[0] ^= 1;
    variants.push(v);
    let mut v = c.clone();
    v.created = "2020-01-01T00:00:00Z".into();
    variants.push(v);
    for v in variants {
        set(
            &store,
            ObjectKind::Config,
            "config",
            &serde_json::to_vec_pretty(&v).unwrap(),
        );
        assert!(matches!(
            Repository::open(store.clone(), PW),
            Err(RepoError::DamagedConfig { .. })
        ));
        assert!(matches!(
            Repository::open_with_secret(store.clone(), secret),
            Err(RepoError::DamagedConfig { .. })
        ));
    }
}

#[test]
fn key_slot_metadata_changed_and_renamed_to_its_hash_fails_the_mac() {
    let (store, repo) = new_repo();
    drop(repo);
    let name = slot_names(&store).pop().unwrap();
    let orig = KeySlot::decode(&get(&store, ObjectKind::Key, &name)).unwrap();
    let edits: [fn(&mut KeySlot); 4] = [
        |s| s.label = "trusted admin".into(),
        |s| s.hostname = "elsewhere".into(),
        |s| s.created = "2020-01-01T00:00:00Z".into(),
        |s| s.username = "mallory".into(),
    ];
    let mut current = name;
    for edit in edits {
        let mut s = orig.clone();
        edit(&mut s);
        current = replace_slot(&store, &current, &s);
        match Repository::open(store.clone(), PW) {
            Err(RepoError::KeySlotAltered { slot, .. }) => assert_eq!(slot, current),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("opened with altered key slot metadata"),
        }
    }
    replace_slot(&store, &current, &orig);
    Repository::open(store, PW).unwrap();
}

#[test]
fn a_version_2_repository_cannot_be_downgraded_to_version_1() {
    let (store, repo) = new_repo();
    let secret = *repo.key().secret();
    drop(repo);
    let orig = get(&store, ObjectKind::Config, "config");
    let mut c = RepoConfig::decode(&orig).unwrap();
    c.version = 1;
    c.mac = None;
    set(
        &store,
        ObjectKind::Config,
        "config",
        &serde_json::to_vec_pretty(&c).unwrap(),
    );
    // The config says 1, the slot is version 2.
    assert!(matches!(
        Repository::open(store.clone(), PW),
        Err(RepoError::DamagedConfig { .. })
    ));
    assert!(matches!(
        Repository::open_with_secret(store.clone(), secret),
        Err(RepoError::DamagedConfig { .. })
    ));
    // The slot relabelled as version 1 too: it was wrapped as version 2.
    let name = slot_names(&store).pop().unwrap();
    let mut s = KeySlot::decode(&get(&store, ObjectKind::Key, &name)).unwrap();
    s.version = 1;
    s.mac = None;
    replace_slot(&store, &name, &s);
    assert!(matches!(
        Repository::open(store.clone(), PW),
        Err(RepoError::KeySlotAltered { .. })
    ));
    // Version 1 with the MAC left in is refused by the parser.
    let mut c = RepoConfig::decode(&orig).unwrap();
    c.version = 1;
    set(
        &store,
        ObjectKind::Config,
        "config",
        &serde_json::to_vec_pretty(&c).unwrap(),
    );
    assert!(matches!(
        Repository::open(store.clone(), PW),
        Err(RepoError::DamagedConfig { .. })
    ));
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn the_version_1_golden_repository_opens_and_stays_version_1() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/fixtures/golden-v1");
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("repo");
    copy_tree(&fixture, &root);
    for d in ["locks", "tmp"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(LocalStore::new(&root));
    let r = Repository::open(store.clone(), b"golden fixture passphrase").unwrap();
    assert_eq!(r.config().version, 1);
    assert!(r.verify(false, &NoProgress).unwrap().ok());
    // A new passphrase in a version-1 repository is a version-1 slot, so the
    // repository still opens (as version 1) with it.
    r.add_key(b"second", "", KdfStrength::TestOnly).unwrap();
    drop(r);
    let r = Repository::open(store, b"second").unwrap();
    assert_eq!(r.config().version, 1);
    assert!(r.list_keys().unwrap().iter().all(|(_, s)| s.version == 1));
    assert_eq!(
        r.find_snapshot("latest", None).unwrap().1.time,
        "2026-11-23T03:00:00Z"
    );
}

#[test]
fn latest_names_a_damaged_newest_snapshot_and_skips_it_only_when_asked() {
    let (store, repo) = new_repo();
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("a"), b"one").unwrap();
    let older = backup(&repo, t.path(), "2026-11-22T03:00:00Z");
    fs::write(t.path().join("a"), b"two").unwrap();
    let newer = backup(&repo, t.path(), "2026-11-23T03:00:00Z");
    assert_eq!(repo.find_snapshot("latest", None).unwrap().0, newer);
    store
        .tamper(ObjectKind::Snapshot, &newer.to_hex(), |b| b[30] ^= 1)
        .unwrap();
    match repo.find_snapshot("latest", None) {
        Err(RepoError::LatestDamaged { damaged, .. }) => assert_eq!(damaged, [newer.to_hex()]),
        other => panic!("{:?}", other.map(|x| x.0)),
    }
    // Also when limited to a source: the damaged one's source is unknown.
    assert!(matches!(
        repo.find_snapshot("latest", Some("s")),
        Err(RepoError::LatestDamaged { .. })
    ));
    let f = repo.find_snapshot_with("latest", None, true).unwrap();
    assert_eq!(f.id, older);
    assert_eq!(f.skipped.len(), 1);
    assert_eq!(f.skipped[0].0, newer.to_hex());
    // Named by its id, the damaged snapshot is damaged, not "not found".
    assert!(matches!(
        repo.find_snapshot(&newer.to_hex()[..8], None),
        Err(RepoError::SnapshotDamaged { .. })
    ));
    // A backup still finds a parent (the newest readable one).
    backup(&repo, t.path(), "2026-11-24T03:00:00Z");
}
