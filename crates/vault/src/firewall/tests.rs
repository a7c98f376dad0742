//! The firewall's tests. The main one builds two real network namespaces
//! joined by a veth pair and scans every TCP port of the vault from the
//! primary's side; nothing is mocked.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::RawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use super::*;

fn sample() -> Ruleset {
    Ruleset {
        primary: vec![
            "192.0.2.10:8443".parse().unwrap(),
            "[2001:db8::10]:8443".parse().unwrap(),
        ],
        ntp: vec!["192.0.2.123".parse().unwrap()],
        notify: vec!["192.0.2.25:587".parse().unwrap()],
        dns: vec!["192.0.2.53".parse().unwrap()],
    }
}

#[test]
fn render_holds_the_expected_pieces() {
    let s = render(&sample());
    for piece in [
        "table inet hokan_vault {}\ndelete table inet hokan_vault\ntable inet hokan_vault {\n",
        "type filter hook input priority 0; policy drop;",
        "type filter hook output priority 0; policy drop;",
        "type filter hook forward priority 0; policy drop;",
        "ct state established,related accept",
        "iif lo accept",
        "oif lo accept",
        "nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert",
        "ip daddr 192.0.2.10 tcp dport 8443 accept",
        "ip6 daddr 2001:db8::10 tcp dport 8443 accept",
        "ip daddr 192.0.2.123 udp dport 123 accept",
        "ip daddr 192.0.2.53 udp dport 53 accept",
        "ip daddr 192.0.2.53 tcp dport 53 accept",
        "ip daddr 192.0.2.25 tcp dport 587 accept",
        "comment \"hokan",
    ] {
        assert!(s.contains(piece), "missing {piece:?} in:\n{s}");
    }
    // Nothing new comes in: the input chain holds no port and no echo.
    let input = s.split("chain input {").nth(1).unwrap();
    let input = input.split("chain output {").next().unwrap();
    assert!(!input.contains("dport"), "{input}");
    assert!(!input.contains("echo"), "{input}");
    // The same address twice is one rule.
    let mut twice = sample();
    twice.primary.push(twice.primary[0]);
    assert_eq!(render(&twice), s);
}

#[test]
fn no_primary_renders_only_loopback_and_is_refused() {
    let empty = Ruleset::default();
    let s = render(&empty);
    assert!(!s.contains("daddr"), "{s}");
    assert!(s.contains("iif lo accept") && s.contains("oif lo accept"));
    let e = empty.validate().unwrap_err().to_string();
    assert!(e.contains("no primary"), "{e}");
    // apply refuses before running anything.
    let e = apply(&empty).unwrap_err().to_string();
    assert!(e.contains("no primary"), "{e}");
    let mut zero = sample();
    zero.primary = vec!["192.0.2.10:0".parse().unwrap()];
    assert!(zero.validate().unwrap_err().to_string().contains("port 0"));
}

#[test]
fn missing_nft_says_install_nftables() {
    let nft = Nft {
        program: "/nonexistent/hokan-test/nft".into(),
        netns: None,
    };
    let e = nft.apply(&sample()).unwrap_err();
    assert!(matches!(e, FirewallError::NftMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("install nftables"), "{e}");
    assert_eq!(unchecked(&e).state, "unchecked");
}

#[test]
fn rule_words_and_flags_come_from_the_text_listing() {
    let text = "table inet hokan_vault { # handle 3\n\tflags dormant\n\tchain input { # handle 1\n\t\ttype filter hook input priority filter; policy drop;\n\t\ttcp dport 22 accept # handle 9\n\t}\n}\n";
    assert_eq!(rule_words(text).get(&9).unwrap(), "tcp dport 22 accept");
    assert_eq!(rule_words(text).len(), 1);
    assert_eq!(table_flags(text).as_deref(), Some("dormant"));
    assert_eq!(table_flags(&text.replace("\tflags dormant\n", "")), None);
}

// ---------------------------------------------------------------- namespaces

/// Checks the main test can run, and panics loudly if not: it must never
/// pass by doing nothing.
fn require_root_and_tools() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "THE VAULT FIREWALL TEST NEEDS ROOT: it creates network namespaces and loads \
         nftables rules into them. Run the tests as root (CI does)."
    );
    for (tool, package) in [("nft", "nftables"), ("ip", "iproute2")] {
        let found = Command::new(tool)
            .arg(if tool == "ip" { "-V" } else { "--version" })
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "THE VAULT FIREWALL TEST NEEDS `{tool}`: install it with \
             `apt-get install {package}` (scripts/test.sh does)."
        );
    }
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn nft_in(ns: &str, args: &[&str]) {
    let mut all = vec!["ip", "netns", "exec", ns, "nft"];
    all.extend_from_slice(args);
    sh(&all);
}

/// Two namespaces, `hkp-PID` (the primary) and `hkv-PID` (the vault),
/// deleted on drop, even when the test panics.
struct Pair {
    primary: String,
    vault: String,
}

impl Pair {
    fn new() -> Pair {
        let pid = std::process::id();
        let pair = Pair {
            primary: format!("hkp-{pid}"),
            vault: format!("hkv-{pid}"),
        };
        // Leftovers of an earlier run with the same pid.
        pair.delete();
        let x = pid % 250 + 1;
        let (p, v) = (pair.primary.as_str(), pair.vault.as_str());
        sh(&["ip", "netns", "add", p]);
        sh(&["ip", "netns", "add", v]);
        sh(&[
            "ip", "-n", p, "link", "add", "hkp0", "type", "veth", "peer", "name", "hkv0", "netns",
            v,
        ]);
        let pa = format!("10.213.{x}.1/24");
        let va = format!("10.213.{x}.2/24");
        sh(&["ip", "-n", p, "addr", "add", &pa, "dev", "hkp0"]);
        sh(&["ip", "-n", v, "addr", "add", &va, "dev", "hkv0"]);
        for (ns, dev) in [(p, "hkp0"), (v, "hkv0")] {
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        pair
    }

    fn addresses(&self) -> (Ipv4Addr, Ipv4Addr) {
        let x = (std::process::id() % 250 + 1) as u8;
        (Ipv4Addr::new(10, 213, x, 1), Ipv4Addr::new(10, 213, x, 2))
    }

    fn delete(&self) {
        for ns in [&self.primary, &self.vault] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.delete();
    }
}

/// Runs `f` on a thread inside the named namespace (sockets it makes stay
/// there, wherever they are used afterwards).
fn inside<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    in_netns(Ns::Named(ns), || Ok(f())).unwrap()
}

/// A TCP connect scan of `ports` on `target`, run from the calling thread's
/// namespace: non-blocking connects, `batch` in flight, each batch given
/// `wait` to answer. Returns the ports where a connection was made.
fn scan(
    target: Ipv4Addr,
    ports: std::ops::RangeInclusive<u16>,
    batch: usize,
    wait: Duration,
) -> BTreeSet<u16> {
    let ports: Vec<u16> = ports.collect();
    let mut open = BTreeSet::new();
    for chunk in ports.chunks(batch) {
        let mut pending: Vec<(RawFd, u16)> = Vec::with_capacity(chunk.len());
        for &port in chunk {
            // SAFETY: plain socket calls on a descriptor this loop owns.
            unsafe {
                let fd = libc::socket(
                    libc::AF_INET,
                    libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    0,
                );
                assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
                let addr = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: port.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from(target).to_be(),
                    },
                    sin_zero: [0; 8],
                };
                let r = libc::connect(
                    fd,
                    &addr as *const libc::sockaddr_in as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                );
                if r == 0 {
                    open.insert(port);
                    libc::close(fd);
                } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINPROGRESS)
                {
                    pending.push((fd, port));
                } else {
                    libc::close(fd);
                }
            }
        }
        let deadline = Instant::now() + wait;
        while !pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let mut fds: Vec<libc::pollfd> = pending
                .iter()
                .map(|&(fd, _)| libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                })
                .collect();
            // SAFETY: fds is a valid array of fds.len() entries.
            let n = unsafe {
                libc::poll(
                    fds.as_mut_ptr(),
                    fds.len() as libc::nfds_t,
                    left.as_millis().max(1) as libc::c_int,
                )
            };
            assert!(n >= 0, "poll: {}", std::io::Error::last_os_error());
            let mut still = Vec::with_capacity(pending.len());
            for (p, &(fd, port)) in fds.iter().zip(&pending) {
                if p.revents == 0 {
                    still.push((fd, port));
                    continue;
                }
                let mut err: libc::c_int = 0;
                let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                // SAFETY: err and len are valid for the call.
                unsafe {
                    libc::getsockopt(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_ERROR,
                        &mut err as *mut libc::c_int as *mut libc::c_void,
                        &mut len,
                    );
                    libc::close(fd);
                }
                if err == 0 {
                    open.insert(port);
                }
            }
            pending = still;
        }
        for (fd, _) in pending {
            // SAFETY: fd is ours and still open.
            unsafe { libc::close(fd) };
        }
    }
    open
}

fn connect(to: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    TcpStream::connect_timeout(&to, timeout)
}

#[test]
fn vault_namespace_has_no_open_port_and_still_pulls() {
    require_root_and_tools();
    let pair = Pair::new();
    let (primary_ip, vault_ip) = pair.addresses();
    let pull_port = 8443;
    let closed_port = 9000;

    // Listeners inside the vault: what an attacker would look for.
    let high = 40000 + (std::process::id() % 20000) as u16;
    let listen_ports = [22u16, 80, 443, 8443, high];
    let _listeners: Vec<TcpListener> = inside(&pair.vault, || {
        listen_ports
            .iter()
            .map(|&p| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, p)).unwrap())
            .collect()
    });
    // The primary's export, and another port of the primary that is open
    // but not in the vault's ruleset.
    let (export, other) = inside(&pair.primary, || {
        (
            TcpListener::bind(SocketAddrV4::new(primary_ip, pull_port)).unwrap(),
            TcpListener::bind(SocketAddrV4::new(primary_ip, closed_port)).unwrap(),
        )
    });

    // As many connects in flight as the descriptor limit allows (raised to
    // its hard limit), at most 8192 (well under the ephemeral port range).
    // SAFETY: getrlimit/setrlimit with a valid struct.
    let batch = unsafe {
        let mut lim = std::mem::zeroed::<libc::rlimit>();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max.min(16384);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        (lim.rlim_cur.saturating_sub(256) as usize).clamp(256, 8192)
    };
    // Each batch's time to answer: a veth answers in microseconds, and the
    // scan without the ruleset proves this is enough to see open ports.
    let wait = Duration::from_millis(500);

    // Without the ruleset the scan finds exactly the listeners: it can fail.
    let started = Instant::now();
    let open = inside(&pair.primary, || scan(vault_ip, 1..=65535, batch, wait));
    eprintln!(
        "scan of 65535 ports without the ruleset ({batch} in flight): {:?}, open {open:?}",
        started.elapsed()
    );
    assert_eq!(open, listen_ports.iter().copied().collect::<BTreeSet<_>>());

    let ruleset = Ruleset {
        primary: vec![SocketAddr::from((primary_ip, pull_port))],
        ntp: vec!["192.0.2.123".parse().unwrap()],
        notify: vec!["192.0.2.25:587".parse().unwrap()],
        dns: vec![],
    };
    let nft = Nft::in_netns(pair.vault.clone());
    nft.apply(&ruleset).unwrap();
    // Applying again replaces the table in place (the idiom's second half).
    nft.apply(&ruleset).unwrap();

    let started = Instant::now();
    let open = inside(&pair.primary, || scan(vault_ip, 1..=65535, batch, wait));
    let took = started.elapsed();
    eprintln!("scan of 65535 ports with the ruleset: {took:?}, open {open:?}");
    assert!(
        open.is_empty(),
        "ports open through hokan's firewall: {open:?}"
    );
    assert!(took < Duration::from_secs(50), "the scan took {took:?}");

    // The vault still pulls: its connection to the export works both ways.
    let server = std::thread::spawn(move || {
        let (mut s, _) = export.accept().unwrap();
        s.write_all(b"generation list").unwrap();
    });
    let got = inside(&pair.vault, || {
        let mut s = connect(
            SocketAddr::from((primary_ip, pull_port)),
            Duration::from_secs(3),
        )
        .expect("the vault must reach the primary's export through its firewall");
        let mut buf = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.read_to_end(&mut buf).unwrap();
        buf
    });
    server.join().unwrap();
    assert_eq!(got, b"generation list");
    // …and nothing else of the primary, although that port listens too.
    let other_try = inside(&pair.vault, || {
        connect(
            SocketAddr::from((primary_ip, closed_port)),
            Duration::from_secs(1),
        )
    });
    assert!(
        other_try.is_err(),
        "the vault reached {closed_port} on the primary"
    );
    drop(other);

    // The live table is hokan's.
    let c = nft.check(&ruleset).unwrap();
    assert!(c.ok(), "{:?}", c.differences);
    assert_eq!(c.report().state, "ok");
    // Another ruleset (another port) differs, in both directions.
    let mut moved = ruleset.clone();
    moved.primary = vec![SocketAddr::from((primary_ip, 9443))];
    let c = nft.check(&moved).unwrap();
    assert_eq!(c.differences.len(), 2, "{:?}", c.differences);

    // Someone opens ssh: the scan finds it, and so does the check, by name.
    nft_in(
        &pair.vault,
        &[
            "add",
            "rule",
            "inet",
            "hokan_vault",
            "input",
            "tcp",
            "dport",
            "22",
            "accept",
        ],
    );
    let open = inside(&pair.primary, || scan(vault_ip, 1..=1024, batch, wait));
    assert_eq!(open, BTreeSet::from([22]));
    let c = nft.check(&ruleset).unwrap();
    assert!(!c.ok());
    assert_eq!(c.report().state, "differs");
    assert_eq!(c.differences.len(), 1, "{:?}", c.differences);
    let d = &c.differences[0];
    assert!(
        d.contains("chain input has a rule hokan did not write: `tcp dport 22 accept`"),
        "{d}"
    );
    eprintln!("check after `tcp dport 22 accept`: {d}");

    // Writing the table again restores it.
    nft.apply(&ruleset).unwrap();
    assert!(nft.check(&ruleset).unwrap().ok());

    // Policy accept, a dormant table, an extra chain, a missing rule, a
    // missing table: each is named.
    nft_in(
        &pair.vault,
        &[
            "add",
            "chain",
            "inet",
            "hokan_vault",
            "input",
            "{ policy accept; }",
        ],
    );
    let c = nft.check(&ruleset).unwrap();
    assert!(
        c.differences.iter().any(|d| d.contains("chain input is `type filter hook input priority 0 policy accept`")),
        "{:?}",
        c.differences
    );
    nft.apply(&ruleset).unwrap();
    nft_in(
        &pair.vault,
        &["add", "table", "inet", "hokan_vault", "{ flags dormant; }"],
    );
    let c = nft.check(&ruleset).unwrap();
    assert!(
        c.differences.iter().any(|d| d.contains("flags `dormant`")),
        "{:?}",
        c.differences
    );
    nft.apply(&ruleset).unwrap();
    nft_in(
        &pair.vault,
        &["add", "chain", "inet", "hokan_vault", "sneaky"],
    );
    nft_in(
        &pair.vault,
        &[
            "delete",
            "rule",
            "inet",
            "hokan_vault",
            "output",
            "handle",
            &output_rule_handle(&pair.vault, "8443"),
        ],
    );
    let c = nft.check(&ruleset).unwrap();
    let all = c.differences.join("\n");
    assert!(all.contains("a chain hokan did not write: sneaky"), "{all}");
    assert!(
        all.contains("chain output lacks hokan's rule `ip daddr"),
        "{all}"
    );
    assert!(all.contains("tcp dport 8443 accept"), "{all}");

    // Another table accepting on input is a note, not a difference.
    nft.apply(&ruleset).unwrap();
    nft_in(&pair.vault, &["add", "table", "ip", "other"]);
    nft_in(
        &pair.vault,
        &[
            "add",
            "chain",
            "ip",
            "other",
            "in",
            "{ type filter hook input priority 10; policy accept; }",
        ],
    );
    nft_in(
        &pair.vault,
        &[
            "add", "rule", "ip", "other", "in", "tcp", "dport", "80", "accept",
        ],
    );
    let c = nft.check(&ruleset).unwrap();
    assert!(c.ok(), "{:?}", c.differences);
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    // …and indeed it does not re-open port 80.
    let open = inside(&pair.primary, || scan(vault_ip, 1..=1024, batch, wait));
    assert!(open.is_empty(), "{open:?}");

    nft_in(&pair.vault, &["delete", "table", "inet", "hokan_vault"]);
    let c = nft.check(&ruleset).unwrap();
    assert_eq!(c.differences.len(), 1, "{:?}", c.differences);
    assert!(c.differences[0].contains("table inet hokan_vault is missing"));
}

/// The handle of the output rule mentioning `port` in the vault namespace.
fn output_rule_handle(ns: &str, port: &str) -> String {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "nft",
            "-a",
            "list",
            "chain",
            "inet",
            "hokan_vault",
            "output",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains(&format!("dport {port} ")))
        .and_then(|l| l.rsplit_once("# handle "))
        .map(|(_, h)| h.trim().to_string())
        .unwrap_or_else(|| panic!("no output rule for port {port} in {ns}"))
}
