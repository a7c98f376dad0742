//! The dashboard in real Chromium (Debian's `chromium` and
//! `chromium-driver`, which scripts/test.sh installs), driven over WebDriver
//! from Rust, on a site with the SIMULATED tape library (no tape hardware).
//!
//! The site: three nights on three cartridges, the first exported through
//! the mail slot and taken out, and nobody said where it went. Four days
//! later its copy no longer counts, so the site is not compliant. An
//! operator logs in, sees the problem and today's task, records where the
//! tape is, and sees the site compliant. A viewer sees no form and is
//! refused; a form posted from another site and a form stripped of its
//! CSRF token are refused and record nothing; the Japanese page renders.
//! Each step's screenshot is kept in `target/test-artifacts/web/`.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::tape::library_with;
use common::web::{accesses, add_users, moves, serve, WEB_PW};
use fantoccini::{Client, ClientBuilder, Locator};

/// `chromedriver` on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "chromedriver did not start ({e}): this test needs Debian's chromium and \
                 chromium-driver (`apt-get install chromium chromium-driver`; scripts/test.sh \
                 installs them)"
            )
        });
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let caps = serde_json::json!({
        "browserName": "chrome",
        // The dashboard's certificate is self-signed for localhost; its
        // pinning is tested over TLS in crates/web/tests/tls.rs.
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1100,1400",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver")
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-artifacts/web")
        .components()
        .collect::<PathBuf>();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Save the page as `NAME.png` and check it is a picture of some size.
async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(width >= 800 && height >= 600, "{name}: {width}x{height}");
    let path = artifacts().join(format!("{name}.png"));
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// Type `text` into the field `css`.
async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Click `css` and wait until the next page has replaced this one (the old
/// page's root element goes stale).
async fn click_through(c: &Client, css: &str) {
    let root = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while root.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "no new page after clicking {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn log_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login?lang=en")).await.unwrap();
    type_into(c, "input[name=user]", user).await;
    type_into(c, "input[name=password]", WEB_PW).await;
    click_through(c, "form[action='/login'] button").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        "/",
        "{user} logged in and sent to the morning page: {}",
        text(c).await
    );
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A page on another site (another origin: another port) whose script posts
/// a move form to the dashboard as soon as it loads: the attack CSRF tokens
/// and SameSite cookies are there for. Serves it once.
fn attacker_page(dashboard: &str, medium: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = format!(
        "<!doctype html><html><body><form method=post action='{dashboard}/media/move'>\
         <input name=medium value='{medium}'><input name=to value='offsite:attacker'></form>\
         <script>document.forms[0].submit()</script></body></html>"
    );
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/")
}

#[test]
fn an_operator_makes_a_non_compliant_site_compliant_in_chromium() {
    // Three nights, three cartridges, all in their slots: compliant (①-2-1).
    let mut s = library_with(&["HKN001L9", "HKN002L9", "HKN003L9", "HKN004L9"], "256MiB");
    let mut used = Vec::new();
    for n in 1..=3 {
        s.night(n);
        let v = s.json(60, &["tape", "backup", "--pool", "weekday"], 0);
        used.push(v["cartridges"][0].as_str().unwrap().to_owned());
    }
    let t = used[0].clone();
    s.ok(
        62,
        &["tape", "move", "--pool", "weekday", &t, "--to", "export"],
    );
    s.ok(63, &["tape", "sim", "take-out", "--pool", "weekday", &t]);
    s.ok(64, &["tape", "inventory", "--pool", "weekday"]);
    // Four days on, nobody has said where the exported tape went.
    let later = 4 * 24 * 60;
    add_users(&s, later, &[("op", "operator"), ("viewer", "viewer")]);
    let served = serve(&s, later);
    let base = served.base.clone();
    let before = moves(&s, later);

    // This run's screenshots only.
    let _ = std::fs::remove_dir_all(artifacts());
    let driver = chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver, profile.path()).await;

        // The login page, then the operator's morning: not compliant, the
        // tape named in a problem and in today's task, a form to record it.
        c.goto(&format!("{base}/login?lang=en")).await.unwrap();
        shot(&c, "01-login").await;
        log_in(&c, &base, "op").await;
        let page = text(&c).await;
        assert!(page.contains("Not compliant"), "{page}");
        assert!(
            page.contains(&format!("{t} left")) && page.contains("never recorded"),
            "the problem names the tape: {page}"
        );
        assert!(page.contains("Today's tasks"), "{page}");
        assert!(
            page.contains("take 1 exported medium(s)") && page.contains(&format!("Take {t}")),
            "today's task says to carry it: {page}"
        );
        shot(&c, "02-operator-not-compliant").await;

        // A page on another site posts a move: no session cookie goes with
        // it (SameSite=Strict) and it has no token; nothing is recorded.
        c.goto(&attacker_page(&base, &t)).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.current_url().await.unwrap().as_str().starts_with("http://") {
            assert!(Instant::now() < deadline, "the attacker's form was not sent");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // No session came with it: the dashboard asks to log in.
        assert_eq!(c.current_url().await.unwrap().path(), "/login");
        let src = c.source().await.unwrap();
        assert!(
            src.contains("Log in") || src.contains("ログイン"),
            "a cross-site post is refused: {src}"
        );
        shot(&c, "03-cross-site-form-refused").await;
        assert_eq!(moves(&s, later), before, "nothing recorded");

        // The operator's own form with its CSRF token taken out: refused.
        c.goto(&format!("{base}/?lang=en")).await.unwrap();
        let form = format!("form.move:has(input[name=medium][value='{t}'])");
        c.execute(
            &format!("document.querySelector(\"{form} input[name=csrf]\").remove()"),
            vec![],
        )
        .await
        .unwrap();
        type_into(&c, &format!("{form} input[name=to]"), "offsite:金庫").await;
        click_through(&c, &format!("{form} button")).await;
        let page = text(&c).await;
        assert!(
            page.contains("the form's token is missing or wrong"),
            "a form without its token is refused: {page}"
        );
        shot(&c, "04-form-without-token-refused").await;
        assert_eq!(moves(&s, later), before, "nothing recorded");

        // The form as served: recorded, and the site is compliant.
        c.goto(&format!("{base}/?lang=en")).await.unwrap();
        type_into(&c, &format!("{form} input[name=to]"), "offsite:金庫").await;
        type_into(&c, &format!("{form} input[name=note]"), "金庫へ搬送").await;
        click_through(&c, &format!("{form} button")).await;
        assert_eq!(c.current_url().await.unwrap().path(), "/");
        let page = text(&c).await;
        assert!(page.contains("Compliant: every source"), "{page}");
        assert!(!page.contains(&format!("{t} left")), "{page}");
        assert!(!page.contains("exported medium"), "the task is done: {page}");
        shot(&c, "05-operator-recorded-compliant").await;
        assert_eq!(moves(&s, later), before + 1);
        c.goto(&format!("{base}/events")).await.unwrap();
        let page = text(&c).await;
        assert!(page.contains("hokan web (op)") && page.contains("金庫"), "{page}");
        shot(&c, "06-events-with-the-move").await;

        // The other pages, as the operator sees them.
        c.goto(&format!("{base}/media?lang=en")).await.unwrap();
        let page = text(&c).await;
        assert!(page.contains(&t) && page.contains("①-2-2"), "{page}");
        assert!(page.contains("Outside the library"), "{page}");
        shot(&c, "07-media").await;
        c.goto(&format!("{base}/generations")).await.unwrap();
        let page = text(&c).await;
        assert!(page.contains("①-2-2") && page.contains("①-2-1"), "{page}");
        shot(&c, "07-generations").await;
        c.goto(&format!("{base}/jobs")).await.unwrap();
        let page = text(&c).await;
        assert!(page.contains("Tonight's plan") && page.contains("Run tonight's job now"), "{page}");
        shot(&c, "07-jobs").await;
        c.goto(&format!("{base}/reports")).await.unwrap();
        shot(&c, "07-reports").await;

        // The Japanese page.
        c.goto(&format!("{base}/?lang=ja")).await.unwrap();
        let page = text(&c).await;
        assert!(page.contains("朝の確認") && page.contains("適合"), "{page}");
        let lang = c
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap();
        assert_eq!(lang.as_deref(), Some("ja"));
        shot(&c, "08-japanese").await;

        // The viewer: the page, no form; a form made in the page is refused.
        c.delete_all_cookies().await.unwrap();
        log_in(&c, &base, "viewer").await;
        let src = c.source().await.unwrap();
        assert!(!src.contains("/media/move"), "no form for a viewer");
        c.execute(
            &format!(
                "const f = document.createElement('form'); f.method = 'post'; \
                 f.action = '/media/move'; \
                 for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], \
                 ['medium', '{t}'], ['to', 'shelf:viewer']]) {{ \
                 const i = document.createElement('input'); i.name = k; i.value = v; f.append(i); }} \
                 document.body.append(f); f.submit();"
            ),
            vec![],
        )
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.current_url().await.unwrap().path() != "/media/move" {
            assert!(Instant::now() < deadline, "the viewer's form was not sent");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page = text(&c).await;
        assert!(page.contains("needs the operator role"), "{page}");
        shot(&c, "09-viewer-refused").await;
        assert_eq!(moves(&s, later), before + 1, "nothing recorded");
        // A wrong password, recorded as a refused login.
        c.delete_all_cookies().await.unwrap();
        c.goto(&format!("{base}/login?lang=en")).await.unwrap();
        type_into(&c, "input[name=user]", "op").await;
        type_into(&c, "input[name=password]", "not the password").await;
        click_through(&c, "form[action='/login'] button").await;
        assert!(text(&c).await.contains("Wrong name or password"));
        c.close().await.unwrap();
    });
    // Every login, refusal and refused action is in the catalog's
    // hash-chained log, with the person (the cross-site post came without
    // a session, so there was nobody to name: it was sent to the login).
    let got = accesses(&s, later);
    let want = [
        ("op", "logged-in", ""),
        ("op", "action-refused", "/media/move"),
        ("viewer", "logged-in", ""),
        ("viewer", "action-refused", "/media/move"),
        ("op", "login-refused", ""),
    ];
    // `catalog events` lists the newest first.
    let got_ref: Vec<(&str, &str, &str)> = got
        .iter()
        .rev()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(got_ref, want);
    s.ok(later, &["catalog", "verify"]);
    drop(served);
}
