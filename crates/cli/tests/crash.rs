//! Crash safety: `hokan backup` killed with SIGKILL at many points.
//!
//! After every kill the repository must verify with --read-data; backups
//! after kills must succeed and reuse what the killed run wrote; every
//! snapshot made along the way must restore byte-identical at the end.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use rand::{Rng, RngCore, SeedableRng};

fn add_random_file(dir: &Path, name: &str, size: usize, rng: &mut impl RngCore) {
    let mut v = vec![0u8; size];
    rng.fill_bytes(&mut v);
    fs::write(dir.join(name), v).unwrap();
}

fn backup_json(repo: &Path, src: &Path) -> serde_json::Value {
    json(
        repo,
        &["backup", "--source", "crash", src.to_str().unwrap()],
    )
}

/// Start a backup (reading every file, so runs are comparable) and kill it
/// after `delay`. Returns `Err(duration)` if it finished first.
fn kill_backup_after(repo: &Path, src: &Path, delay: Duration) -> Result<(), Duration> {
    let started = Instant::now();
    let mut child = cmd(repo)
        .args([
            "backup",
            "--force",
            "--source",
            "crash",
            src.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while started.elapsed() < delay {
        if let Ok(Some(_)) = child.try_wait() {
            return Err(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let st = child.wait().unwrap();
    if st.code().is_none() {
        Ok(())
    } else {
        Err(started.elapsed())
    }
}

#[test]
fn sigkill_at_twenty_points_never_damages_the_repository() {
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = (t.path().join("repo"), t.path().join("src"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261122);
    make_tree(&src, 11, 1 << 20);
    for i in 0..12 {
        add_random_file(&src, &format!("base{i}.bin"), 2 << 20, &mut rng);
    }
    ok(
        &repo,
        &["init", "--insecure-fast-kdf", "--pack-size", "1048576"],
    );
    // How long does an uninterrupted first backup take? Kill points spread over it.
    let probe = t.path().join("probe");
    ok(
        &probe,
        &["init", "--insecure-fast-kdf", "--pack-size", "1048576"],
    );
    let started = Instant::now();
    ok(&probe, &["backup", src.to_str().unwrap()]);
    let mut full = started.elapsed().max(Duration::from_millis(50));
    fs::remove_dir_all(&probe).unwrap();

    let mut snapshots: Vec<(String, std::path::PathBuf)> = Vec::new();
    let mut kills = 0;
    let mut delays = Vec::new();
    let mut round = 0;
    while kills < 24 && round < 80 {
        round += 1;
        // New data every round, so every killed run has something to write.
        add_random_file(&src, &format!("night{round}.bin"), 3 << 20, &mut rng);
        fs::write(
            src.join("a/journal.txt"),
            format!("round {round}\n").repeat(round * 100),
        )
        .unwrap();
        let delay = full.mul_f64(rng.gen_range(0.02..0.95));
        let outcome = kill_backup_after(&repo, &src, delay);
        if let Err(took) = outcome {
            // It finished first: aim the next kills inside what a run really takes.
            full = took;
        }
        if outcome.is_ok() {
            kills += 1;
            delays.push(delay.as_millis());
            let o = run(&repo, &["verify", "--read-data"]);
            assert!(
                o.status.success(),
                "verify after kill {kills} at {delay:?} failed:\n{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        if round % 6 == 0 {
            let b = backup_json(&repo, &src);
            let copy = t.path().join(format!("state{round}"));
            copy_tree(&src, &copy);
            snapshots.push((b["snapshot_short"].as_str().unwrap().to_string(), copy));
        }
    }
    assert!(
        kills >= 20,
        "only {kills} kills landed in {round} rounds (delays {delays:?})"
    );
    delays.sort();
    delays.dedup();
    assert!(delays.len() >= 15, "kill points should differ: {delays:?}");

    // Reuse: a run killed after writing packs leaves them for the next run.
    // Start from a completed backup so the only new data is reuse.bin.
    let b = backup_json(&repo, &src);
    let copy = t.path().join("state-before-reuse");
    copy_tree(&src, &copy);
    snapshots.push((b["snapshot_short"].as_str().unwrap().to_string(), copy));
    add_random_file(&src, "reuse.bin", 12 << 20, &mut rng);
    let before: Vec<_> = packs(&repo);
    let new_bytes = || -> u64 {
        packs(&repo)
            .iter()
            .filter(|p| !before.contains(p))
            .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum()
    };
    let mut child = cmd(&repo)
        .args(["backup", "--source", "crash", src.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while new_bytes() < 6 << 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let written = new_bytes();
    assert!(
        written >= 6 << 20,
        "the killed run wrote packs ({written} bytes)"
    );
    let b = backup_json(&repo, &src);
    let added = b["summary"]["bytes_added"].as_u64().unwrap();
    // Without reuse the next run would add the whole 12 MiB again.
    assert!(
        added + written <= (12 << 20) + (2 << 20),
        "next backup reused the killed run's packs: killed run wrote {written}, next run added {added}"
    );
    let copy = t.path().join("state-final");
    copy_tree(&src, &copy);
    snapshots.push((b["snapshot_short"].as_str().unwrap().to_string(), copy));

    ok(&repo, &["verify", "--read-data"]);
    for (i, (id, state)) in snapshots.iter().enumerate() {
        let out = t.path().join(format!("restore{i}"));
        ok(&repo, &["restore", id, "--target", out.to_str().unwrap()]);
        assert_same(state, &out.join("src"));
    }
    eprintln!(
        "{kills} kills at {} distinct points over {round} rounds; {} snapshots restored",
        delays.len(),
        snapshots.len()
    );
}

/// A backup killed while writing leaves temp files; the next backup (or
/// prune) removes them at once, since their process is gone, and keeps the
/// files of processes that still run.
#[test]
fn temp_files_of_a_killed_backup_are_removed_by_the_next_run() {
    let t = tempfile::tempdir().unwrap();
    let (repo, src) = (t.path().join("repo"), t.path().join("src"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    fs::create_dir_all(&src).unwrap();
    for i in 0..8 {
        add_random_file(&src, &format!("scan{i}.bin"), 4 << 20, &mut rng);
    }
    ok(
        &repo,
        &["init", "--insecure-fast-kdf", "--pack-size", "4194304"],
    );
    let tmp = repo.join("tmp");
    let temp_files = || -> Vec<std::path::PathBuf> {
        fs::read_dir(&tmp)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    };
    // Kill a real backup the moment it has a temp file (a few tries: the
    // window between create and rename is short).
    let mut killed_pid = None;
    for _ in 0..20 {
        let mut child = cmd(&repo)
            .args(["backup", "--force", src.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if !temp_files().is_empty() {
                // SAFETY: plain kill(2) on our own child.
                unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
                break;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
        }
        let pid = child.id();
        if child.wait().unwrap().code().is_none() && !temp_files().is_empty() {
            killed_pid = Some(pid);
            break;
        }
    }
    // As a killed run would leave them, in case the race was never won, and
    // beside them a file of a process that still runs (this test).
    let me = hokan_store::local::host_tag();
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let forged = tmp.join(format!("{dead_pid}-{me}-{:032x}.tmp", 7u128));
    let live = tmp.join(format!("{}-{me}-{:032x}.tmp", std::process::id(), 8u128));
    fs::create_dir_all(&tmp).unwrap();
    fs::write(&forged, vec![1u8; 100_000]).unwrap();
    fs::write(&live, vec![2u8; 100]).unwrap();
    let left: Vec<_> = temp_files().into_iter().filter(|p| p != &live).collect();
    assert!(!left.is_empty());
    eprintln!(
        "killed backup pid {killed_pid:?}; temp files before the next run: {}",
        left.len()
    );
    ok(&repo, &["backup", src.to_str().unwrap()]);
    assert_eq!(
        temp_files(),
        vec![live.clone()],
        "only the live one is kept"
    );
    ok(&repo, &["verify", "--read-data"]);
    // Prune cleans too.
    fs::write(&forged, b"again").unwrap();
    ok(&repo, &["prune"]);
    assert!(!forged.exists());
    assert!(live.exists());
}
