//! The dashboard over real HTTPS on loopback: the login page answers
//! through TLS with the site's certificate, in Japanese for a Japanese
//! browser; the port speaks nothing in clear; a missing certificate is a
//! clear error naming the file.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use hokan_web::server::{start, StartError, WebConfig};

#[test]
fn the_login_page_is_served_over_tls_and_nothing_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let config = WebConfig {
        site: dir.path().join("hokan.toml"),
        accounts: dir.path().join("accounts.sqlite"),
        now: None,
        hokan: Vec::new(),
    };
    let running = start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        config.clone(),
        &cert,
        &key,
    )
    .unwrap();
    let port = running.addr.port();

    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let root = Certificate::from_pem(ck.cert.pem().as_bytes()).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::Specific(Arc::new(vec![root])))
                .build(),
        )
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut r = agent
        .get(&format!("https://localhost:{port}/login"))
        .header("Accept-Language", "ja-JP,ja;q=0.9")
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let set = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(set.contains("Secure") && set.contains("HttpOnly"));
    let body = r.body_mut().read_to_string().unwrap();
    assert!(body.contains("ログイン"), "{body}");
    // Not logged in: the morning page sends to the login.
    let r = agent
        .get(&format!("https://localhost:{port}/"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 303);

    // Plain HTTP on the same port gets no page.
    let mut s = std::net::TcpStream::connect(running.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    s.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(
        !String::from_utf8_lossy(&got).contains("HTTP/1.1 200"),
        "answered in clear"
    );
    drop(running);

    // No certificate: the error names the file.
    let e = start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        config,
        &dir.path().join("none.pem"),
        &key,
    )
    .err()
    .unwrap();
    assert!(matches!(e, StartError::Setup { .. }));
    assert!(e.to_string().contains("none.pem"), "{e}");
}
