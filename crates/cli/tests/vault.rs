//! Issue 16, end to end through the real binary: a primary (`hokan serve`)
//! and a vault (`hokan vault …`) in two network namespaces joined by a veth
//! pair, the vault behind the nftables ruleset hokan writes. The primary's
//! `status` counts the vault's copies under ⑤-1 and ④-1 only from its
//! signed receipt, only while the receipt is fresh, and not once someone
//! opens a port on the vault. Then: a restore from the vault alone, and a
//! pull killed with SIGKILL twenty times.
//!
//! Needs root, `ip` (iproute2), `nft` (nftables) and `chattr`
//! (e2fsprogs); `scripts/test.sh` installs them. These tests never skip:
//! they are the proof of the issue's main claim.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::site::{site, Site};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn require_root_and_tools() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the vault tests need root (network namespaces, nftables, the immutable flag)"
    );
    for tool in ["ip", "nft", "chattr"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "{tool} is missing: scripts/test.sh installs it");
    }
}

fn sh(args: &[&str]) {
    let o = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Two namespaces, `hkp-PID` (the primary) and `hkv-PID` (the vault),
/// joined by a veth pair on 10.214.x.0/24.
struct Net {
    primary: String,
    vault: String,
    x: u32,
}

impl Net {
    fn new() -> Net {
        let pid = std::process::id();
        let n = Net {
            primary: format!("hkp-{pid}"),
            vault: format!("hkv-{pid}"),
            x: pid % 250 + 1,
        };
        n.delete();
        let (p, v) = (n.primary.as_str(), n.vault.as_str());
        sh(&["ip", "netns", "add", p]);
        sh(&["ip", "netns", "add", v]);
        sh(&[
            "ip", "-n", p, "link", "add", "hkp0", "type", "veth", "peer", "name", "hkv0", "netns",
            v,
        ]);
        sh(&[
            "ip",
            "-n",
            p,
            "addr",
            "add",
            &format!("{}/24", n.ip(1)),
            "dev",
            "hkp0",
        ]);
        sh(&[
            "ip",
            "-n",
            v,
            "addr",
            "add",
            &format!("{}/24", n.ip(2)),
            "dev",
            "hkv0",
        ]);
        for (ns, dev) in [(p, "hkp0"), (v, "hkv0")] {
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        n
    }

    fn ip(&self, host: u8) -> String {
        format!("10.214.{}.{host}", self.x)
    }

    fn delete(&self) {
        for ns in [&self.primary, &self.vault] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.delete();
    }
}

/// `hokan ARGS`, inside namespace `ns` if given.
fn hokan(ns: Option<&str>) -> Command {
    let mut c = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_hokan")]);
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_hokan")),
    };
    c.env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("HOKAN_REPO")
        .env_remove("HOKAN_PASSWORD")
        .env_remove("HOKAN_PASSPHRASE")
        .env_remove("HOKAN_VAULT");
    c
}

fn output(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn code(o: &Output, want: i32, what: &str) -> String {
    assert_eq!(
        o.status.code(),
        Some(want),
        "{what}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A vault folder, its flags cleared when the test ends (else the
/// temporary folder could not be removed).
struct VaultDir(PathBuf);

impl Drop for VaultDir {
    fn drop(&mut self) {
        let _ = Command::new("chattr")
            .args(["-R", "-i"])
            .arg(&self.0)
            .output();
    }
}

/// `hokan serve`, killed when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `hokan serve` and wait for the line that says it listens.
fn serve(site: &Site, ns: Option<&str>) -> Serving {
    let mut child = hokan(ns)
        .arg("--config")
        .arg(site.config())
        .args(["--lang", "en", "serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line.contains("https://") {
                let _ = tx.send(line);
            }
        }
    });
    let serving = Serving(child);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("hokan serve did not say it listens within 30 s");
    serving
}

/// `--now` for the primary: the real time plus `days` (the vault's
/// receipts carry the real time; a receipt from the future is refused).
fn now_plus(days: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::days(days) + time::Duration::minutes(1))
        .format(&Rfc3339)
        .unwrap()
}

fn primary_status(site: &Site, days: i64) -> Value {
    let o = output(hokan(None).arg("--config").arg(site.config()).args([
        "--now",
        &now_plus(days),
        "--json",
        "status",
        "--no-observe",
    ]));
    assert!(
        matches!(o.status.code(), Some(0 | 9)),
        "status: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn vault_line(status: &Value) -> &Value {
    let v = &status["vaults"][0];
    assert_eq!(v["name"], "vault1", "{status:#}");
    v
}

/// Set up the vault (`hokan vault init`) and register it in the primary's
/// hokan.toml with the table init printed; the export listens on `listen`.
fn init_vault(site: &Site, ns: Option<&str>, dir: &Path, listen: &str) {
    let o = output(hokan(None).arg("--config").arg(site.config()).args([
        "serve",
        "--init",
        "--name",
        listen.split(':').next().unwrap(),
    ]));
    code(&o, 0, "serve --init");
    let cert = site.dir.join("serve-cert.pem");
    assert!(cert.is_file(), "serve --init wrote no {}", cert.display());
    let o = output(
        hokan(ns)
            .args(["--json", "vault", "--dir"])
            .arg(dir)
            .args(["init", "--name", "vault1", "--keep-days", "30"])
            .args(["--primary", &format!("https://{listen}")])
            .arg("--primary-cert")
            .arg(&cert),
    );
    let v: Value = serde_json::from_str(&code(&o, 0, "vault init")).unwrap();
    assert!(v["immutable_problem"].is_null(), "{v:#}");
    let mut toml = std::fs::read_to_string(site.config()).unwrap();
    toml.push_str(&format!(
        "\n{}\n[serve]\nlisten = \"{listen}\"\n",
        v["hokan_toml"].as_str().unwrap()
    ));
    std::fs::write(site.config(), toml).unwrap();
    // The primary learns the token's hash, never the token.
    let token = std::fs::read_to_string(dir.join("token")).unwrap();
    assert!(!std::fs::read_to_string(site.config())
        .unwrap()
        .contains(token.trim()));
}

/// `hokan vault restore latest` from the vault at `dir` into
/// `restored/` of the site's folder, with the site's passphrase file.
fn restore_latest(s: &Site, dir: &Path) -> PathBuf {
    let target = s.dir.join("restored");
    let o = output(
        hokan(None)
            .args(["vault", "--dir"])
            .arg(dir)
            .args(["restore", "latest", "--target"])
            .arg(&target)
            .arg("--password-file")
            .arg(s.dir.join("pw.txt")),
    );
    code(&o, 0, "vault restore");
    target
}

/// `hokan --json vault --dir DIR ARGS…`: its exit code and its JSON.
fn vault_json(ns: Option<&str>, dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let o = output(
        hokan(ns)
            .args(["--json", "vault", "--dir"])
            .arg(dir)
            .args(args),
    );
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "vault {args:?} printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code(), v)
}

fn pull(ns: Option<&str>, dir: &Path) -> (Option<i32>, Value) {
    vault_json(ns, dir, &["pull"])
}

#[test]
fn a_vault_behind_its_firewall_counts_as_5_1_and_4_1_only_while_its_receipt_is_fresh() {
    require_root_and_tools();
    let s = site();
    let net = Net::new();
    let dir = VaultDir(s.dir.join("vault"));
    let listen = format!("{}:7443", net.ip(1));
    let v = Some(net.vault.as_str());
    init_vault(&s, v, &dir.0, &listen);
    let _serving = serve(&s, Some(&net.primary));

    // Before any receipt, the vault counts for nothing.
    let st = primary_status(&s, 0);
    assert!(vault_line(&st)["last_receipt"].is_null(), "{st:#}");

    // A service someone left listening on the vault answers the primary's
    // side before the ruleset is loaded, and not after.
    let mut listener = Serving(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &net.vault,
                "python3",
                "-m",
                "http.server",
                "2222",
            ])
            .args(["--bind", &net.ip(2)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let reach = || {
        Command::new("ip")
            .args(["netns", "exec", &net.primary, "timeout", "3", "bash", "-c"])
            .arg(format!("exec 3<>/dev/tcp/{}/2222", net.ip(2)))
            .status()
            .unwrap()
            .success()
    };
    let t0 = Instant::now();
    while !reach() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the test listener never answered"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The ruleset, loaded in the vault's namespace, checks clean.
    let o = output(
        hokan(v)
            .args(["vault", "--dir"])
            .arg(&dir.0)
            .args(["firewall", "--apply"]),
    );
    let out = code(&o, 0, "vault firewall --apply");
    assert!(out.contains("ok (the live ruleset is hokan's)"), "{out}");
    assert!(
        !reach(),
        "port 2222 on the vault still answers behind the ruleset"
    );
    let _ = listener.0.kill();

    let (c, night) = pull(v, &dir.0);
    assert_eq!(c, Some(0), "{night:#}");
    assert_eq!(night["added"].as_array().unwrap().len(), 3, "{night:#}");
    assert_eq!(night["posted"], true, "{night:#}");
    assert_eq!(night["receipt"]["firewall"]["state"], "ok", "{night:#}");

    // The primary believes the signed receipt: three generations under
    // ⑤-1 (pull-only behind a firewall; each copy counts once, under the
    // better of ⑤-1 and ④-1).
    let st = primary_status(&s, 0);
    let line = vault_line(&st);
    assert_eq!(line["firewall"], "ok", "{st:#}");
    assert_eq!(line["generations_held"], 3, "{st:#}");
    assert_eq!(line["offline_5_1"], 3, "{st:#}");
    assert_eq!(line["unknown"], 0, "{st:#}");

    // The vault's own status agrees, in both languages.
    let o = output(
        hokan(v)
            .args(["--lang", "ja", "vault", "--dir"])
            .arg(&dir.0)
            .arg("status"),
    );
    let out = code(&o, 0, "vault status (ja)");
    assert!(out.contains("保管中の世代: 3"), "{out}");
    assert!(out.contains("変更不可フラグ:"), "{out}");

    // A stale receipt: 40 days on, nothing from the vault counts.
    let st = primary_status(&s, 40);
    let line = vault_line(&st);
    assert_eq!(line["offline_5_1"], 0, "{st:#}");
    assert_eq!(line["offline_4_1"], 0, "{st:#}");
    assert_eq!(line["unknown"], 3, "{st:#}");

    // Someone opens SSH on the vault: the check names the rule (exit 9),
    // the next receipt says so, and ⑤-1 is gone on the primary; the copies
    // still count under ④-1, since every object is still immutable.
    sh(&[
        "ip",
        "netns",
        "exec",
        &net.vault,
        "nft",
        "add",
        "rule",
        "inet",
        "hokan_vault",
        "input",
        "tcp",
        "dport",
        "22",
        "accept",
    ]);
    let o = output(hokan(v).args(["vault", "--dir"]).arg(&dir.0).arg("check"));
    let out = code(&o, 9, "vault check after a rule was added");
    assert!(out.contains("DIFFERS") && out.contains("22"), "{out}");
    let (c, night) = pull(v, &dir.0);
    assert_eq!(c, Some(0), "{night:#}");
    assert_eq!(
        night["receipt"]["firewall"]["state"], "differs",
        "{night:#}"
    );
    let st = primary_status(&s, 0);
    let line = vault_line(&st);
    assert_eq!(line["firewall"], "differs", "{st:#}");
    assert_eq!(line["offline_5_1"], 0, "{st:#}");
    assert_eq!(line["offline_4_1"], 3, "{st:#}");
    let problems = st.to_string();
    assert!(problems.contains("firewall"), "{st:#}");

    // The primary's repository is lost: the vault alone restores the
    // newest generation, byte for byte.
    std::fs::rename(s.dir.join("repo"), s.dir.join("repo.lost")).unwrap();
    let target = restore_latest(&s, &dir.0);
    common::assert_same(&s.dir.join("data"), &target.join("data"));
}

/// A vault set up in `vault/` of the site's folder, and `hokan serve`,
/// on loopback in the test's own namespace (a free port).
fn loopback_vault(s: &Site) -> (VaultDir, Serving) {
    let dir = VaultDir(s.dir.join("vault"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    init_vault(s, None, &dir.0, &format!("127.0.0.1:{port}"));
    let serving = serve(s, None);
    (dir, serving)
}

/// A pull killed with SIGKILL at twenty moments leaves a vault the next
/// pull completes: every generation held, every object immutable, no
/// temporary file left, the ledger verifying, a restore byte-identical.
#[test]
fn a_pull_killed_twenty_times_leaves_a_vault_the_next_pull_completes() {
    require_root_and_tools();
    let s = site();
    let (dir, _serving) = loopback_vault(&s);
    let data = s.dir.join("data");
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut killed_mid_way = 0;
    let started = Instant::now();
    for round in 0..20 {
        // New data each round, so that every pull has work to be killed in.
        let mut bytes = vec![0u8; 16 << 20];
        for b in bytes.iter_mut() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            *b = rng as u8;
        }
        std::fs::write(data.join(format!("scan{round}.bin")), &bytes).unwrap();
        let when = (s.night + time::Duration::minutes(round + 1))
            .format(&Rfc3339)
            .unwrap();
        s.code(
            0,
            &[
                "backup",
                "--source",
                "emr",
                "--time",
                &when,
                data.to_str().unwrap(),
            ],
            0,
        );
        let mut child = hokan(None)
            .args(["--json", "vault", "--dir"])
            .arg(&dir.0)
            .arg("pull")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + (rng % 150)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.code().is_none() {
            killed_mid_way += 1;
        }
    }
    eprintln!(
        "20 pulls, {killed_mid_way} killed before they ended ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    assert!(
        killed_mid_way >= 10,
        "only {killed_mid_way} of 20 pulls were killed mid-way: the test proves little"
    );
    let (c, night) = pull(None, &dir.0);
    assert_eq!(c, Some(0), "{night:#}");
    let o = output(
        hokan(None)
            .args(["--json", "vault", "--dir"])
            .arg(&dir.0)
            .arg("status"),
    );
    // Exit 9: this namespace has no hokan ruleset (the firewall is not the
    // point here); everything else must be whole.
    let st: Value = serde_json::from_str(&code(&o, 9, "vault status")).unwrap();
    let r = &st["vault"];
    assert_eq!(r["immutable"]["without_flag_total"], 0, "{st:#}");
    assert_eq!(r["clock"]["state"], "ok", "{st:#}");
    let gens = r["generations"].as_array().unwrap();
    assert_eq!(gens.len(), 3 + 20, "{st:#}");
    assert!(gens.iter().all(|g| g["immutable"] == true), "{st:#}");
    let tmp: Vec<_> = std::fs::read_dir(dir.0.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(tmp.is_empty(), "left in tmp/: {tmp:?}");
    let target = restore_latest(&s, &dir.0);
    common::assert_same(&data, &target.join("data"));

    // The daemon pulls at once and then on schedule; SIGTERM stops it.
    let receipts = || std::fs::read_dir(dir.0.join("receipts")).unwrap().count();
    let before = receipts();
    let mut daemon = hokan(None)
        .args(["vault", "--dir"])
        .arg(&dir.0)
        .arg("daemon")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while receipts() == before && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(receipts(), before + 1, "the daemon made no receipt in 30 s");
    // SAFETY: kill with a valid pid and signal.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = daemon.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the daemon did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0), "daemon exit");
}

/// A vault on loopback (no firewall: drills are the point), registered
/// with the primary, that has pulled the site's three generations; the
/// source `emr` has `rto = "4h"` on the primary.
fn pulled_vault(s: &Site) -> (VaultDir, Serving) {
    let toml = std::fs::read_to_string(s.config()).unwrap();
    let toml = toml.replacen("[policy]", "rto = \"4h\"\n\n[policy]", 1);
    std::fs::write(s.config(), toml).unwrap();
    let (dir, serving) = loopback_vault(s);
    let (c, night) = pull(None, &dir.0);
    assert_eq!(c, Some(0), "{night:#}");
    assert_eq!(night["posted"], true, "{night:#}");
    (dir, serving)
}

/// `[[drill]]` of the vault's vault.toml for `emr`.
fn vault_check(dir: &Path, check: &str) {
    let p = dir.join("vault.toml");
    let mut toml = std::fs::read_to_string(&p).unwrap();
    if let Some(i) = toml.find("\n[[drill]]") {
        toml.truncate(i + 1);
    }
    toml.push_str(&format!(
        "\n[[drill]]\nsource = \"emr\"\ncheck = {check}\ntimeout = \"1m\"\n"
    ));
    std::fs::write(p, toml).unwrap();
}

/// `hokan vault drill --json` with the site's passphrase file.
fn vault_drill(s: &Site, dir: &Path) -> (Option<i32>, Value) {
    let pw = s.dir.join("pw.txt");
    vault_json(
        None,
        dir,
        &[
            "drill",
            "--by",
            "suzuki",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    )
}

/// The drills the primary's catalog holds, newest first, once `status`
/// has read the inbox.
fn primary_drills(s: &Site) -> Vec<hokan_catalog::DrillRow> {
    primary_status(s, 0);
    hokan_catalog::Catalog::open(&s.catalog())
        .unwrap()
        .drills(100)
        .unwrap()
}

/// Issue 17 on the vault: with the primary's repository gone, the vault
/// drills its own copy, checks every file, runs vault.toml's check, and
/// the primary's catalog learns of the drill from the signed receipt
/// alone (kind vault, by the vault, projected against the source's rto).
/// A failing application check is a failed drill, recorded as one.
#[test]
fn a_drill_on_the_vault_reaches_the_primary_through_its_signed_receipt() {
    require_root_and_tools();
    let s = site();
    let (dir, _serving) = pulled_vault(&s);
    vault_check(&dir.0, r#"["test", "-f", "{target}/data/night0.txt"]"#);
    std::fs::rename(s.dir.join("repo"), s.dir.join("repo.lost")).unwrap();

    let (c, v) = vault_drill(&s, &dir.0);
    assert_eq!(c, Some(0), "{v:#}");
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["posted"], true, "{v:#}");
    let d = &v["drills"][0];
    assert_eq!(d["source"], "emr", "{v:#}");
    assert!(d["stats"]["files_checked"].as_u64().unwrap() > 0, "{v:#}");
    assert!(d["stats"]["bytes"].as_u64().unwrap() > 0, "{v:#}");
    assert_eq!(d["stats"]["app_check"], "passed", "{v:#}");
    assert!(!Path::new(d["target"].as_str().unwrap()).exists());

    let rows = primary_drills(&s);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let r = &rows[0];
    assert!(r.ok, "{r:#?}");
    assert_eq!(r.medium.as_str(), "vault1");
    assert_eq!(r.snapshot.as_str(), d["snapshot"].as_str().unwrap());
    assert_eq!(r.by.as_deref(), Some("vault vault1: suzuki"));
    let m = r.measured.as_ref().unwrap();
    assert_eq!(m.kind, "vault");
    assert_eq!(
        m.files_checked,
        d["stats"]["files_checked"].as_u64().unwrap()
    );
    assert_eq!(m.rto_secs, Some(4.0 * 3600.0));
    assert!(m.projected_secs.is_some_and(|p| p > 0.0), "{m:#?}");
    // Read again (the next status, the next receipt carrying the same
    // drill): recorded once.
    assert_eq!(primary_drills(&s).len(), 1);
    // The receipt made after the drill reads its clock after the drill's
    // ledger row: no clock that went back.
    let problems = primary_status(&s, 0)["evaluation"]["problems"].to_string();
    assert!(!problems.contains("vault-clock"), "{problems}");

    // A check that fails: a failed drill, here and on the primary.
    vault_check(
        &dir.0,
        r#"["sh", "-c", "echo 'pg_restore: invalid dump' >&2; exit 3"]"#,
    );
    let (c, v) = vault_drill(&s, &dir.0);
    assert_eq!(c, Some(1), "{v:#}");
    assert_eq!(v["drills"][0]["stats"]["app_check"], "failed", "{v:#}");
    let rows = primary_drills(&s);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(!rows[0].ok, "{rows:#?}");
    let m = rows[0].measured.as_ref().unwrap();
    assert_eq!(m.app_check, Some(hokan_catalog::AppCheck::Failed));
    assert!(m.failures[0].why.contains("invalid dump"), "{m:#?}");
}

/// Bytes flipped in one of the vault's packs (the immutable flag cleared
/// for it, then put back): the drill fails naming the pack, and the
/// primary records a failed drill naming it.
#[test]
fn bytes_flipped_in_a_vault_pack_fail_its_drill_naming_the_pack() {
    require_root_and_tools();
    let s = site();
    let (dir, _serving) = pulled_vault(&s);
    let mut packs: Vec<(u64, PathBuf)> = Vec::new();
    for sub in std::fs::read_dir(dir.0.join("repo/data")).unwrap() {
        for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            packs.push((std::fs::metadata(&p).unwrap().len(), p));
        }
    }
    // The largest pack holds the files' bytes.
    let (_, pack) = packs.into_iter().max().unwrap();
    sh(&["chattr", "-i", pack.to_str().unwrap()]);
    let mut bytes = std::fs::read(&pack).unwrap();
    for i in (0..bytes.len()).step_by(16) {
        bytes[i] ^= 0x01;
    }
    std::fs::write(&pack, &bytes).unwrap();
    sh(&["chattr", "+i", pack.to_str().unwrap()]);
    let name = pack.file_name().unwrap().to_string_lossy().into_owned();

    let (c, v) = vault_drill(&s, &dir.0);
    assert_eq!(c, Some(1), "{v:#}");
    assert_eq!(v["ok"], false, "{v:#}");
    let failures = v["drills"][0]["stats"]["failures"].to_string();
    assert!(failures.contains(&format!("pack {}", &name[..8])), "{v:#}");

    let rows = primary_drills(&s);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(!rows[0].ok);
    assert!(
        rows[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains(&format!("pack {}", &name[..8]))),
        "{rows:#?}"
    );
}

/// `hokan serve` exports a primary kept in a bucket (moto on loopback) as
/// it exports a folder: the vault pulls its three generations through the
/// export, and with every object of the bucket deleted, the vault alone
/// restores the newest byte for byte.
#[test]
fn a_vault_pulls_from_a_primary_in_a_bucket_and_restores_without_it() {
    require_root_and_tools();
    let m = hokan_s3::testing::MotoServer::start().unwrap_or_else(|e| {
        panic!("needs moto's server (scripts/test.sh installs it: pip install 'moto[server]'): {e}")
    });
    m.create_plain_bucket("primary").unwrap();
    let s = common::site::site_in(
        &format!(
            r#"s3 = {{ endpoint = "{}", region = "us-east-1", bucket = "primary", prefix = "main", path_style = true, access_key_id = "{}", secret_access_key_file = "s3-secret", concurrency = 4 }}"#,
            m.endpoint(),
            hokan_s3::testing::TEST_ACCESS_KEY
        ),
        &[("s3-secret", hokan_s3::testing::TEST_SECRET)],
    );
    assert!(!s.dir.join("repo").exists(), "the primary is in the bucket");
    let (dir, _serving) = loopback_vault(&s);
    let (c, night) = pull(None, &dir.0);
    assert_eq!(c, Some(0), "{night:#}");
    // Exit 9: no firewall in this namespace, not the point here.
    let (c, st) = vault_json(None, &dir.0, &["status"]);
    assert_eq!(c, Some(9), "{st:#}");
    let gens = st["vault"]["generations"].as_array().unwrap();
    assert_eq!(gens.len(), 3, "{st:#}");
    assert!(gens.iter().all(|g| g["immutable"] == true), "{st:#}");
    // The bucket emptied: the vault alone restores.
    let mut cfg = m.config("primary");
    cfg.lock = None;
    let raw = hokan_s3::S3Store::connect(cfg).unwrap();
    for kind in [
        hokan_repo::ObjectKind::Pack,
        hokan_repo::ObjectKind::Index,
        hokan_repo::ObjectKind::Snapshot,
    ] {
        use hokan_repo::Store as _;
        for o in raw.list(kind).unwrap() {
            raw.delete(kind, &o.name).unwrap();
        }
    }
    let target = restore_latest(&s, &dir.0);
    common::assert_same(&s.dir.join("data"), &target.join("data"));
}
