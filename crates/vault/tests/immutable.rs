//! Root on the vault, but without CAP_LINUX_IMMUTABLE (docs/vault.md §4: a
//! login whose bounding set lacks it), against the objects of a pulled
//! generation: nothing it does changes, moves or removes them. The same
//! commands with the capability prove the test can fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use hokan_vault::clock::Tick;
use hokan_vault::immutable::is_immutable;
use hokan_vault::wire::Kind;

const CAP_LINUX_IMMUTABLE: u32 = 9;

/// `sh -c script file` as root without CAP_LINUX_IMMUTABLE.
fn without_cap(script: &str, file: &Path) -> Output {
    Command::new("setpriv")
        .args([
            "--bounding-set",
            "-linux_immutable",
            "--inh-caps",
            "-linux_immutable",
            "--",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(file)
        .output()
        .expect("setpriv (util-linux) runs")
}

/// The same, with this process's capabilities.
fn with_cap(script: &str, file: &Path) -> Output {
    Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(file)
        .output()
        .unwrap()
}

fn cap_bit(field: &str, status: &str) -> bool {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap()
        .trim();
    u64::from_str_radix(hex, 16).unwrap() & (1 << CAP_LINUX_IMMUTABLE) != 0
}

#[test]
fn root_without_cap_linux_immutable_cannot_touch_a_stored_object() {
    if !can_set_immutable() {
        eprintln!("SKIPPED: this file system or process cannot set the immutable flag");
        return;
    }
    let p = Primary::new();
    let g = p.backup(
        "emr",
        "2026-12-01T02:00:00Z",
        &[("a.txt", b"patient record".to_vec())],
    );
    let v = TestVault::new(&p, "https://127.0.0.1:1", |_| {});
    let server = p.serve(&v.setup.token_blake3);
    v.point_at(&url(&server));
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    assert_eq!(night.outcome.added, vec![g.to_hex()]);

    let (l, _) = ledger(&v);
    let objects = l.objects(&g.to_hex()).unwrap();
    let pick = |k: Kind| -> PathBuf {
        let o = objects.iter().find(|o| o.kind == k).unwrap();
        v.open().folder.object_path(k, &o.name)
    };
    let targets = [pick(Kind::Pack), pick(Kind::Snapshot), pick(Kind::Index)];

    // The wrapper really drops the capability, and only that: it can still
    // write a file that is not immutable.
    let status =
        String::from_utf8(without_cap("cat /proc/self/status", Path::new("x")).stdout).unwrap();
    assert!(!cap_bit("CapBnd:", &status), "{status}");
    assert!(!cap_bit("CapEff:", &status), "{status}");
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    assert!(
        cap_bit("CapEff:", &own),
        "this test runs with the capability"
    );
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path().join("plain");
    std::fs::write(&s, b"plain").unwrap();
    assert!(without_cap("echo x > \"$1\"", &s).status.success());
    assert_eq!(std::fs::read(&s).unwrap(), b"x\n");

    let attacks = [
        "rm -f \"$1\"",
        "mv \"$1\" \"$1.moved\"",
        "echo x > \"$1\"",
        "echo x >> \"$1\"",
        "chmod 0666 \"$1\"",
        "chown 1:1 \"$1\"",
        "truncate -s 0 \"$1\"",
        "ln \"$1\" \"$1.link\"",
        "touch \"$1\"",
        "chattr -i \"$1\"",
    ];
    for t in &targets {
        let bytes = std::fs::read(t).unwrap();
        let meta = std::fs::metadata(t).unwrap();
        assert!(is_immutable(t).unwrap(), "{} is not immutable", t.display());
        for a in attacks {
            let out = without_cap(a, t);
            assert!(
                !out.status.success(),
                "`{a}` on {} succeeded without CAP_LINUX_IMMUTABLE",
                t.display()
            );
            assert_eq!(
                std::fs::read(t).unwrap(),
                bytes,
                "`{a}` changed {}",
                t.display()
            );
            assert!(is_immutable(t).unwrap(), "`{a}` cleared the flag");
            let m = std::fs::metadata(t).unwrap();
            use std::os::unix::fs::MetadataExt;
            assert_eq!(
                (m.mode(), m.uid(), m.gid(), m.mtime(), m.nlink()),
                (
                    meta.mode(),
                    meta.uid(),
                    meta.gid(),
                    meta.mtime(),
                    meta.nlink()
                ),
                "`{a}` changed the metadata of {}",
                t.display()
            );
        }
        for suffix in [".moved", ".link"] {
            let mut other = t.as_os_str().to_owned();
            other.push(suffix);
            assert!(!Path::new(&other).exists());
        }
    }
    // The vault's own check still finds every object sealed.
    let r = v.open().receipt(&Tick::now(), None, unchecked()).unwrap();
    assert_eq!(r.immutable.without_flag_total, 0);
    assert!(r.generations.iter().all(|g| g.immutable));

    // Control: with the capability, the same `chattr -i` works, and then
    // the vault's check notices an object without the flag.
    let t = &targets[0];
    let out = with_cap("chattr -i \"$1\"", t);
    assert!(out.status.success(), "{out:?}");
    assert!(!is_immutable(t).unwrap());
    let r = v.open().receipt(&Tick::now(), None, unchecked()).unwrap();
    assert_eq!(r.immutable.without_flag_total, 1);
    assert!(!r.generations[0].immutable);
    // The next pull seals it again.
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    assert_eq!(night.outcome.resealed, 1);
    assert!(is_immutable(t).unwrap());
    drop(server);
    clear_flags(v.dir.path());
}

/// Root without the capability cannot change a stored object, but the
/// folders are writable: it can put a file where an object the primary
/// will offer next is to go (it owns the primary too, so it knows the
/// name). The vault must not seal that file as its own and skip the real
/// object: the generation would be recorded whole and never restore.
#[test]
fn a_file_planted_under_a_future_objects_name_is_not_taken_for_the_object() {
    if !can_set_immutable() {
        eprintln!("SKIPPED: this file system or process cannot set the immutable flag");
        return;
    }
    let p = Primary::new();
    let g1 = p.backup(
        "emr",
        "2026-12-01T02:00:00Z",
        &[("a.txt", b"first".to_vec())],
    );
    let v = TestVault::new(&p, "https://127.0.0.1:1", |_| {});
    let server = p.serve(&v.setup.token_blake3);
    v.point_at(&url(&server));
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    assert_eq!(night.outcome.added, vec![g1.to_hex()]);

    let second = vec![("b.txt", b"second night, new data".to_vec())];
    let g2 = p.backup("emr", "2026-12-02T02:00:00Z", &second);
    let plan = p.repo().copy_plan(&[g2]).unwrap();
    let vault = v.open();
    let new: Vec<_> = plan
        .objects
        .iter()
        .filter(|o| o.kind == hokan_repo::store::ObjectKind::Pack)
        .filter_map(|o| {
            let k = Kind::from_object_kind(o.kind).unwrap();
            (!vault.holds(k, &o.name)).then(|| vault.folder.object_path(k, &o.name))
        })
        .collect();
    assert!(
        new.len() >= 2,
        "the second generation brings a data and a tree pack: {new:?}"
    );
    // A file with other bytes, and (if there is a second new pack) a
    // symlink to a file elsewhere.
    for (i, path) in new.iter().enumerate() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let script = if i == 0 {
            "printf planted > \"$1\""
        } else {
            "ln -s /etc/hostname \"$1\""
        };
        let out = without_cap(script, path);
        assert!(out.status.success(), "{out:?}");
    }

    let server = {
        drop(server);
        p.serve(&v.setup.token_blake3)
    };
    v.point_at(&url(&server));
    let night = v.open().pull(Tick::now(), unchecked()).unwrap();
    assert_eq!(
        night.outcome.added,
        vec![g2.to_hex()],
        "{:?}",
        night.outcome
    );
    assert!(
        night.outcome.findings.iter().any(|f| f.kind == "planted"
            && new.iter().any(|p| f
                .detail
                .contains(&*p.file_name().unwrap().to_string_lossy()))),
        "{:?}",
        night.outcome.findings
    );
    for path in &new {
        assert!(std::fs::symlink_metadata(path).unwrap().is_file());
        let bytes = std::fs::read(path).unwrap();
        assert_ne!(bytes, b"planted");
        assert_eq!(
            blake3::hash(&bytes).to_hex().as_str(),
            path.file_name().unwrap().to_str().unwrap()
        );
        assert!(is_immutable(path).unwrap());
    }
    let t = restore_from(&v.root().join("repo"), &g2.to_hex());
    let files = fingerprint(t.path());
    assert!(files.iter().any(
        |(n, h)| n.ends_with("b.txt") && *h == blake3::hash(&second[0].1).to_hex().to_string()
    ));
    drop(server);
}
