//! The vault against a hostile primary: the attacker owns the primary's
//! export and answers whatever it likes (huge bodies, huge JSON, malformed
//! JSON, path-like names, a slow drip, bytes that are not the object named).
//! The vault pins the server's certificate, so the test makes its own with
//! rcgen (as `export::init_cert` does) and serves raw HTTP/1.1 over rustls.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hokan_vault::clock::Tick;

// ---------------------------------------------------------------------------
// The hostile server.

/// What the server answers to one request.
enum Reply {
    /// A status and a body, with its length.
    Body(u16, Vec<u8>),
    /// `prefix` then `repeat` again and again, `total` bytes in all (lazily:
    /// never more than one chunk in memory), with a Content-Length of
    /// `total` or chunked.
    Stream {
        prefix: Vec<u8>,
        repeat: Vec<u8>,
        total: u64,
        chunked: bool,
    },
    /// Headers declaring `len` bytes, then one byte a second.
    Drip { len: u64 },
}

type Handler = dyn Fn(&str) -> Reply + Send + Sync;

struct Hostile {
    port: u16,
    cert_pem: String,
    /// Every request line seen ("GET /v1/…").
    seen: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Hostile {
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .unwrap();
        let cert_pem = ck.cert.pem();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![ck.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into()),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(tcp) = conn else { continue };
                let (config, handler, seen) = (config.clone(), handler.clone(), seen2.clone());
                std::thread::spawn(move || {
                    let _ = serve_one(tcp, config, &*handler, &seen);
                });
            }
        });
        Hostile {
            port,
            cert_pem,
            seen,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// A vault pointed at this server.
    fn vault(&self, tweak: impl FnOnce(&mut hokan_vault::config::VaultConfig)) -> TestVault {
        TestVault::with_cert(self.cert_pem.as_bytes(), &self.url(), tweak)
    }
}

fn serve_one(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    handler: &Handler,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(30)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    // The request head (the vault sends no body but to the inbox, read below).
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b)? == 0 || head.len() > 64 << 10 {
            return Ok(());
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let line = head.lines().next().unwrap_or_default().to_string();
    let path = line.split(' ').nth(1).unwrap_or_default().to_string();
    seen.lock().unwrap().push(line.clone());
    let content_length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    if content_length > 0 {
        let mut body = vec![0u8; content_length.min(1 << 20)];
        s.read_exact(&mut body)?;
    }
    let reply = if line.starts_with("POST /v1/inbox") {
        Reply::Body(201, Vec::new())
    } else {
        handler(&path)
    };
    match reply {
        Reply::Body(status, body) => {
            write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )?;
            s.write_all(&body)?;
        }
        Reply::Stream {
            prefix,
            repeat,
            total,
            chunked,
        } => {
            if chunked {
                write!(
                    s,
                    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                )?;
            } else {
                write!(
                    s,
                    "HTTP/1.1 200 OK\r\ncontent-length: {total}\r\nconnection: close\r\n\r\n"
                )?;
            }
            let mut sent = 0u64;
            let mut first = true;
            while sent < total {
                let part = if first { &prefix } else { &repeat };
                first = false;
                let n = (part.len() as u64).min(total - sent) as usize;
                if n == 0 {
                    continue;
                }
                if chunked {
                    write!(s, "{n:x}\r\n")?;
                }
                s.write_all(&part[..n])?;
                if chunked {
                    s.write_all(b"\r\n")?;
                }
                sent += n as u64;
            }
            if chunked {
                s.write_all(b"0\r\n\r\n")?;
            }
        }
        Reply::Drip { len } => {
            write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
            )?;
            s.flush()?;
            for _ in 0..len {
                std::thread::sleep(Duration::from_secs(1));
                s.write_all(b"x")?;
                s.flush()?;
            }
        }
    }
    s.flush()?;
    s.conn.send_close_notify();
    let _ = s.flush();
    Ok(())
}

// ---------------------------------------------------------------------------
// Helpers.

fn name(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn json(v: serde_json::Value) -> Reply {
    Reply::Body(200, serde_json::to_vec(&v).unwrap())
}

fn listing(gens: &[(&str, &str)]) -> Reply {
    json(serde_json::json!({
        "repository": "hostile-repo",
        "generations": gens
            .iter()
            .map(|(s, t)| serde_json::json!({"snapshot": s, "source": "emr", "time": t}))
            .collect::<Vec<_>>(),
    }))
}

fn plan(snapshot: &str, objects: &[(&str, &str, u64)]) -> Reply {
    json(serde_json::json!({
        "snapshot": snapshot,
        "objects": objects
            .iter()
            .map(|(k, n, s)| serde_json::json!({"kind": k, "name": n, "size": s}))
            .collect::<Vec<_>>(),
    }))
}

/// Peak resident memory of this process (VmHWM), bytes.
fn vm_hwm() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

const T: &str = "2026-12-01T02:00:00Z";
const CONFIG: &[u8] = b"{\"hostile\":true}";

fn pull(v: &TestVault) -> hokan_vault::ops::Night {
    v.open().pull(Tick::now(), unchecked()).unwrap()
}

fn everything(n: &hokan_vault::ops::Night) -> String {
    format!(
        "error: {:?}\nfindings: {:?}",
        n.outcome.error, n.outcome.findings
    )
}

fn repo_objects(v: &TestVault) -> Vec<String> {
    files_under(&v.root().join("repo"))
}

// ---------------------------------------------------------------------------
// (a) An object far larger than declared, or than max_object_mib.

/// A server whose one pack, declared as 1 MiB, goes on for 2 GiB of zeros
/// (with a Content-Length of 2 GiB, or chunked with no length at all).
fn endless(snap: &str, pack: &str, chunked: bool) -> Hostile {
    let (snap, pack) = (snap.to_string(), pack.to_string());
    Hostile::start(move |path| match path {
        "/v1/generations" => listing(&[(&snap, T)]),
        p if p.ends_with("/plan") => plan(
            &snap,
            &[
                ("config", "config", CONFIG.len() as u64),
                ("pack", &pack, 1 << 20),
                ("snapshot", &snap, 10),
            ],
        ),
        "/v1/objects/config/config" => Reply::Body(200, CONFIG.to_vec()),
        p if p.starts_with("/v1/objects/pack/") => Reply::Stream {
            prefix: vec![0u8; 64 << 10],
            repeat: vec![0u8; 64 << 10],
            total: 2 << 30,
            chunked,
        },
        _ => Reply::Body(404, b"no".to_vec()),
    })
}

#[test]
fn an_endless_object_is_cut_off_at_its_declared_size_with_bounded_memory() {
    let snap = "5".repeat(64);
    for chunked in [false, true] {
        let pack = if chunked { "b" } else { "a" }.repeat(64);
        let h = endless(&snap, &pack, chunked);
        let v = h.vault(|_| {});
        let before = vm_hwm();
        let t0 = Instant::now();
        let night = pull(&v);
        let grew = vm_hwm().saturating_sub(before);
        let all = everything(&night);
        eprintln!("chunked={chunked}: {all}");
        assert!(night.outcome.added.is_empty(), "chunked={chunked}: {all}");
        assert!(
            night
                .outcome
                .findings
                .iter()
                .any(|f| f.kind == "changed-bytes" && f.detail.contains(&pack)),
            "chunked={chunked}: a finding names the pack that was too long: {all}"
        );
        assert!(
            grew < 64 << 20,
            "chunked={chunked}: peak memory grew by {} MiB while 2 GiB were offered",
            grew >> 20
        );
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "chunked={chunked}: the vault read far past the declared size ({:?})",
            t0.elapsed()
        );
        assert!(tmp_files(&v).is_empty(), "{:?}", tmp_files(&v));
        let held = repo_objects(&v);
        assert!(!held.iter().any(|f| f.contains(&pack)), "{held:?}");
        assert!(!held.iter().any(|f| f.contains(&snap)), "{held:?}");
        assert!(!ledger(&v).1.generations.contains_key(&snap));
    }
}

#[test]
fn an_object_declared_beyond_max_object_mib_is_never_requested() {
    let snap = "6".repeat(64);
    let big = "c".repeat(64);
    let (s1, b1) = (snap.clone(), big.clone());
    let h = Hostile::start(move |path| match path {
        "/v1/generations" => listing(&[(&s1, T)]),
        p if p.ends_with("/plan") => plan(
            &s1,
            &[
                ("config", "config", CONFIG.len() as u64),
                ("pack", &b1, 2 << 30),
                ("snapshot", &s1, 10),
            ],
        ),
        "/v1/objects/config/config" => Reply::Body(200, CONFIG.to_vec()),
        _ => Reply::Stream {
            prefix: vec![],
            repeat: vec![0u8; 64 << 10],
            total: 2 << 30,
            chunked: false,
        },
    });
    let v = h.vault(|c| c.max_object_mib = 1);
    let night = pull(&v);
    let all = everything(&night);
    assert!(night.outcome.added.is_empty(), "{all}");
    assert!(
        night
            .outcome
            .findings
            .iter()
            .any(|f| f.kind == "too-big" && f.detail.contains(&big)),
        "{all}"
    );
    assert!(
        !h.seen().iter().any(|l| l.contains("/v1/objects/")),
        "nothing of a refused plan is fetched: {:?}",
        h.seen()
    );
    assert!(repo_objects(&v).is_empty());
}

// ---------------------------------------------------------------------------
// (b) A huge listing or plan.

#[test]
fn a_huge_listing_or_plan_is_refused_with_bounded_memory() {
    let snap = "7".repeat(64);
    let entry = format!(
        r#"{{"snapshot":"{}","source":"emr","time":"{T}"}},"#,
        "8".repeat(64)
    );
    for (what, chunked) in [
        ("listing", false),
        ("listing", true),
        ("plan", false),
        ("plan", true),
    ] {
        let s1 = snap.clone();
        let entry = entry.clone();
        let h = Hostile::start(move |path| {
            let huge = |prefix: &str, repeat: &str| Reply::Stream {
                prefix: prefix.as_bytes().to_vec(),
                repeat: repeat.repeat(1000).into_bytes(),
                total: 100 << 20,
                chunked,
            };
            match (what, path) {
                ("listing", "/v1/generations") => {
                    huge(r#"{"repository":"r","generations":["#, &entry)
                }
                (_, "/v1/generations") => listing(&[(&s1, T)]),
                ("plan", p) if p.ends_with("/plan") => huge(
                    &format!(r#"{{"snapshot":"{s1}","objects":["#),
                    &format!(r#"{{"kind":"pack","name":"{}","size":1}},"#, "9".repeat(64)),
                ),
                _ => Reply::Body(404, vec![]),
            }
        });
        let v = h.vault(|_| {});
        let before = vm_hwm();
        let t0 = Instant::now();
        let night = pull(&v);
        let grew = vm_hwm().saturating_sub(before);
        let all = everything(&night);
        let err = night.outcome.error.clone().unwrap_or_default();
        eprintln!("{what} chunked={chunked} grew {} KiB: {all}", grew >> 10);
        assert!(
            err.contains(if what == "plan" {
                "/plan"
            } else {
                "/v1/generations"
            }),
            "{what} chunked={chunked}: the error names the answer refused: {all}"
        );
        assert!(night.outcome.added.is_empty());
        assert!(
            grew < 64 << 20,
            "{what} chunked={chunked}: peak memory grew {} MiB for a 100 MiB answer",
            grew >> 20
        );
        assert!(t0.elapsed() < Duration::from_secs(20));
        assert!(repo_objects(&v).is_empty());
        assert!(
            !h.seen().iter().any(|l| l.contains("/v1/objects/")),
            "{:?}",
            h.seen()
        );
    }
}

// ---------------------------------------------------------------------------
// (c) Malformed JSON, unknown fields, names that are paths, wrong kinds.

/// Every file under `dir` except those under `skip`.
fn tree_except(dir: &std::path::Path, skip: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d == skip {
            continue;
        }
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            out.push(e.path().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn malformed_answers_and_path_like_names_are_refused_and_nothing_is_written_outside() {
    let hex = |c: char| c.to_string().repeat(64);
    let (s_dots, s_abs, s_nul, s_upper, s_kind, s_unknown, s_broken, s_cfg, s_other, s_neg) = (
        hex('1'),
        hex('2'),
        hex('3'),
        hex('4'),
        hex('5'),
        hex('6'),
        hex('7'),
        hex('8'),
        hex('9'),
        hex('a'),
    );
    let good_pack = hex('b');
    let bad_snapshot_names = [
        "../../../../../../tmp/hokan-hostile-evil".to_string(),
        format!("/tmp/hokan-hostile-{}", hex('c')),
        format!("{}\u{0}", &hex('d')[..63]),
        "D".repeat(64),
        String::new(),
    ];
    let mut gens: Vec<(String, String)> = [
        &s_dots, &s_abs, &s_nul, &s_upper, &s_kind, &s_unknown, &s_broken, &s_cfg, &s_other, &s_neg,
    ]
    .iter()
    .map(|s| (s.to_string(), T.to_string()))
    .collect();
    for b in &bad_snapshot_names {
        gens.push((b.clone(), T.into()));
    }
    // A good name with a time that is not a time.
    let s_time = hex('e');
    gens.push((s_time.clone(), "yesterday; rm -rf /".into()));

    let g2 = gens.clone();
    let (a, b, c, d, e, f, g, hh, i, j, gp) = (
        s_dots.clone(),
        s_abs.clone(),
        s_nul.clone(),
        s_upper.clone(),
        s_kind.clone(),
        s_unknown.clone(),
        s_broken.clone(),
        s_cfg.clone(),
        s_other.clone(),
        s_neg.clone(),
        good_pack.clone(),
    );
    let h = Hostile::start(move |path| {
        let cfg = ("config", "config", CONFIG.len() as u64);
        let gpk = ("pack", gp.as_str(), 4u64);
        let plan_for = |s: &str| path == format!("/v1/generations/{s}/plan");
        if path == "/v1/generations" {
            let refs: Vec<(&str, &str)> =
                g2.iter().map(|(s, t)| (s.as_str(), t.as_str())).collect();
            return listing(&refs);
        }
        if plan_for(&a) {
            return plan(
                &a,
                &[
                    cfg,
                    ("pack", "../../../../../../tmp/hokan-hostile-evil", 4),
                    ("snapshot", &a, 4),
                ],
            );
        }
        if plan_for(&b) {
            return plan(&b, &[cfg, ("key", "/etc/passwd", 4), ("snapshot", &b, 4)]);
        }
        if plan_for(&c) {
            let nul = format!("{}\u{0}", &"f".repeat(63));
            return plan(&c, &[cfg, ("pack", &nul, 4), ("snapshot", &c, 4)]);
        }
        if plan_for(&d) {
            return plan(
                &d,
                &[cfg, ("pack", &"F".repeat(64), 4), ("snapshot", &d, 4)],
            );
        }
        if plan_for(&e) {
            return plan(
                &e,
                &[cfg, ("lock", &"f".repeat(64), 4), ("snapshot", &e, 4)],
            );
        }
        if plan_for(&f) {
            return json(serde_json::json!({
                "snapshot": f, "objects": [
                    {"kind": "config", "name": "config", "size": CONFIG.len()},
                    {"kind": "pack", "name": gp, "size": 4, "path": "../../evil"},
                    {"kind": "snapshot", "name": f, "size": 4}],
            }));
        }
        if plan_for(&g) {
            return Reply::Body(
                200,
                format!(r#"{{"snapshot":"{g}","objects":[{{"kind":"#).into_bytes(),
            );
        }
        if plan_for(&hh) {
            return plan(
                &hh,
                &[("config", "../config", 4), gpk, ("snapshot", &hh, 4)],
            );
        }
        if plan_for(&i) {
            // A plan for another snapshot than the one asked for.
            return plan(&j, &[cfg, gpk, ("snapshot", &j, 4)]);
        }
        if plan_for(&j) {
            return Reply::Body(
                200,
                format!(
                    r#"{{"snapshot":"{j}","objects":[{{"kind":"pack","name":"{gp}","size":-4}}]}}"#
                )
                .into_bytes(),
            );
        }
        // Any object asked for (none should be): bytes that would land somewhere.
        Reply::Body(200, b"evil".to_vec())
    });
    let v = h.vault(|_| {});
    let parent = v.dir.path().to_path_buf();
    let outside_before = tree_except(&parent, &v.root());
    let repo_before = tree_except(&v.root().join("repo"), std::path::Path::new("/nonexistent"));

    let night = pull(&v);
    let all = everything(&night);
    assert!(night.outcome.added.is_empty(), "{all}");

    // Every bad generation is named by a finding, as refused or malformed.
    let findings = &night.outcome.findings;
    for s in [
        &s_dots, &s_abs, &s_nul, &s_upper, &s_kind, &s_unknown, &s_broken, &s_cfg, &s_other,
        &s_neg, &s_time,
    ] {
        assert!(
            findings.iter().any(|f| {
                (f.kind == "refused" || f.kind == "malformed")
                    && (f.snapshot.as_deref() == Some(s.as_str()) || f.detail.contains(s.as_str()))
            }),
            "no finding for {s}: {all}"
        );
    }
    let refused_names = findings
        .iter()
        .filter(|f| f.kind == "refused" && f.snapshot.is_none())
        .count();
    assert_eq!(
        refused_names,
        bad_snapshot_names.len(),
        "each snapshot name that is not 64 lowercase hex digits is refused: {all}"
    );

    // Nothing asked for but the listing, the plans and the inbox.
    let seen = h.seen();
    assert!(
        seen.iter()
            .all(|l| l.starts_with("GET /v1/generations") || l.starts_with("POST /v1/inbox")),
        "{seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|l| l.contains("hokan-hostile") || l.contains("..")),
        "a refused name is never put in a URL: {seen:?}"
    );
    // Nothing written outside the vault folder, nothing in repo/ or tmp/.
    assert_eq!(tree_except(&parent, &v.root()), outside_before);
    assert!(!std::path::Path::new("/tmp/hokan-hostile-evil").exists());
    assert_eq!(
        tree_except(&v.root().join("repo"), std::path::Path::new("/nonexistent")),
        repo_before
    );
    assert!(tmp_files(&v).is_empty());
    let allowed = [
        "vault.toml",
        "vault.key",
        "token",
        "primary.crt",
        "ledger.sqlite",
        "ledger.sqlite-wal",
        "ledger.sqlite-shm",
        "lock",
        "tmp",
        "receipts",
        "repo",
    ];
    for e in std::fs::read_dir(v.root()).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            allowed.contains(&n.as_str()),
            "unexpected {n} in the vault folder"
        );
    }
}

#[test]
fn a_malformed_listing_is_a_finding_and_takes_nothing() {
    for body in [
        r#"{"repository":"r","generations":[],"delete":"everything"}"#.to_string(),
        r#"{"repository":"r","generations":[{"snapshot":1}]}"#.to_string(),
        "<html>not json</html>".to_string(),
        r#"{"repository":"r","generations":["#.to_string(),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    ] {
        let b2 = body.clone();
        let h = Hostile::start(move |path| match path {
            "/v1/generations" => Reply::Body(200, b2.clone().into_bytes()),
            _ => Reply::Body(200, b"evil".to_vec()),
        });
        let v = h.vault(|_| {});
        let night = pull(&v);
        let all = everything(&night);
        assert!(night.outcome.error.is_some(), "{all}");
        assert!(
            night.outcome.findings.iter().any(|f| f.kind == "malformed"),
            "{}: {all}",
            &body[..body.len().min(60)]
        );
        assert!(repo_objects(&v).is_empty());
        assert!(!h
            .seen()
            .iter()
            .any(|l| l.contains("/plan") || l.contains("/objects/")));
        // The repository id of a malformed listing is not learned.
        assert_eq!(ledger(&v).1.repository, None);
    }
}

// ---------------------------------------------------------------------------
// (d) A slow server.

#[test]
fn a_server_that_drips_one_byte_a_second_is_cut_off_at_the_request_timeout() {
    let snap = "1".repeat(64);
    let pack = "2".repeat(64);
    let (s1, p1) = (snap.clone(), pack.clone());
    let h = Hostile::start(move |path| match path {
        "/v1/generations" => listing(&[(&s1, T)]),
        p if p.ends_with("/plan") => plan(
            &s1,
            &[
                ("config", "config", CONFIG.len() as u64),
                ("pack", &p1, 100),
                ("snapshot", &s1, 10),
            ],
        ),
        "/v1/objects/config/config" => Reply::Body(200, CONFIG.to_vec()),
        _ => Reply::Drip { len: 100 },
    });
    let v = h.vault(|c| c.request_timeout_secs = 2);
    let t0 = Instant::now();
    let night = pull(&v);
    let took = t0.elapsed();
    let all = everything(&night);
    eprintln!("{took:?} {all}");
    assert!(
        took < Duration::from_secs(12),
        "a 2 s request timeout, yet the pull took {took:?}: {all}"
    );
    let err = night.outcome.error.clone().unwrap_or_default();
    assert!(
        err.to_lowercase().contains("timeout") || err.to_lowercase().contains("timed out"),
        "the error names the timeout: {all}"
    );
    assert!(err.contains(&pack), "and the object: {all}");
    assert!(night.outcome.added.is_empty());
    assert!(tmp_files(&v).is_empty(), "no partial object kept");
    assert!(!repo_objects(&v).iter().any(|f| f.contains(&pack)));
}

// ---------------------------------------------------------------------------
// (e) Bytes that do not hash to their name; a good generation as control.

#[test]
fn bytes_that_are_not_the_object_named_are_not_stored() {
    let real = b"real pack bytes".to_vec();
    let fake = b"fake pack bytes".to_vec(); // same length
    let pack = name(&real);
    let good_snap_bytes = b"good snapshot".to_vec();
    let good_snap = name(&good_snap_bytes);
    let bad_snap_bytes = b"bad snapshot".to_vec();
    let bad_snap = name(&bad_snap_bytes);
    let other_pack_bytes = b"another pack".to_vec();
    let other_pack = name(&other_pack_bytes);
    let (p1, gs, bs, op) = (
        pack.clone(),
        good_snap.clone(),
        bad_snap.clone(),
        other_pack.clone(),
    );
    let (gsb, bsb, opb) = (
        good_snap_bytes.clone(),
        bad_snap_bytes.clone(),
        other_pack_bytes.clone(),
    );
    let h = Hostile::start(move |path| {
        if path == "/v1/generations" {
            return listing(&[(&bs, "2026-12-01T02:00:00Z"), (&gs, "2026-12-02T02:00:00Z")]);
        }
        if path == format!("/v1/generations/{bs}/plan") {
            return plan(
                &bs,
                &[
                    ("config", "config", CONFIG.len() as u64),
                    ("pack", &p1, 15),
                    ("snapshot", &bs, bsb.len() as u64),
                ],
            );
        }
        if path == format!("/v1/generations/{gs}/plan") {
            return plan(
                &gs,
                &[
                    ("config", "config", CONFIG.len() as u64),
                    ("pack", &op, opb.len() as u64),
                    ("snapshot", &gs, gsb.len() as u64),
                ],
            );
        }
        match path.rsplit('/').next().unwrap() {
            "config" => Reply::Body(200, CONFIG.to_vec()),
            n if n == p1 => Reply::Body(200, fake.clone()),
            n if n == op => Reply::Body(200, opb.clone()),
            n if n == gs => Reply::Body(200, gsb.clone()),
            n if n == bs => Reply::Body(200, bsb.clone()),
            _ => Reply::Body(404, vec![]),
        }
    });
    let v = h.vault(|_| {});
    let night = pull(&v);
    let all = everything(&night);
    assert_eq!(night.outcome.added, vec![good_snap.clone()], "{all}");
    let f = night
        .outcome
        .findings
        .iter()
        .find(|f| f.kind == "changed-bytes")
        .unwrap_or_else(|| panic!("no changed-bytes finding: {all}"));
    assert!(f.detail.contains(&pack), "{f:?}");
    assert_eq!(f.snapshot.as_deref(), Some(bad_snap.as_str()));
    let vault = v.open();
    use hokan_vault::wire::Kind;
    assert!(!vault.holds(Kind::Pack, &pack));
    assert!(!vault.holds(Kind::Snapshot, &bad_snap));
    assert!(vault.holds(Kind::Snapshot, &good_snap));
    assert!(vault.holds(Kind::Pack, &other_pack));
    assert!(tmp_files(&v).is_empty());
    let st = ledger(&v).1;
    assert!(st.generations.contains_key(&good_snap));
    assert!(!st.generations.contains_key(&bad_snap));
    // The receipt lists the good generation only.
    assert_eq!(night.receipt.generations.len(), 1);
}

// ---------------------------------------------------------------------------
// A plan naming one object twice with two sizes.

#[test]
fn a_plan_naming_an_object_twice_cannot_break_the_ledger() {
    let pack_bytes = b"one pack".to_vec();
    let pack = name(&pack_bytes);
    let snap_bytes = b"snapshot".to_vec();
    let snap = name(&snap_bytes);
    let (p1, s1, pb, sb) = (
        pack.clone(),
        snap.clone(),
        pack_bytes.clone(),
        snap_bytes.clone(),
    );
    let h = Hostile::start(move |path| {
        if path == "/v1/generations" {
            return listing(&[(&s1, T)]);
        }
        if path.ends_with("/plan") {
            return plan(
                &s1,
                &[
                    ("config", "config", CONFIG.len() as u64),
                    ("pack", &p1, pb.len() as u64),
                    ("pack", &p1, pb.len() as u64 + 1),
                    ("snapshot", &s1, sb.len() as u64),
                ],
            );
        }
        match path.rsplit('/').next().unwrap() {
            "config" => Reply::Body(200, CONFIG.to_vec()),
            n if n == p1 => Reply::Body(200, pb.clone()),
            n if n == s1 => Reply::Body(200, sb.clone()),
            _ => Reply::Body(404, vec![]),
        }
    });
    let v = h.vault(|_| {});
    let night = pull(&v);
    let all = everything(&night);
    // Whatever the vault makes of it, its ledger must still open: a primary
    // must not be able to make the vault's ledger look tampered with.
    let opened = hokan_vault::ledger::Ledger::open(&v.root().join("ledger.sqlite"));
    assert!(opened.is_ok(), "{:?}\n{all}", opened.err());
    assert!(night.outcome.added.is_empty(), "{all}");
    assert!(
        night
            .outcome
            .findings
            .iter()
            .any(|f| f.kind == "refused" && f.detail.contains(&pack)),
        "{all}"
    );
    // And the next pull still works.
    let night = pull(&v);
    assert!(v.open().state().is_ok(), "{}", everything(&night));
}
