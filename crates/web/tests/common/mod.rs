//! Helpers of the dashboard's tests: a router with one account per role,
//! requests through it, logging in.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use hokan_web::server::{router, WebConfig, SESSION_COOKIE};
use hokan_web::{Accounts, Role};
use time::OffsetDateTime;
use tower::ServiceExt;

/// Every account's password.
pub const PW: &str = "a long enough password";

/// The dashboard's router, and the folder its files live in.
pub struct App {
    pub router: Router,
    pub _dir: tempfile::TempDir,
}

/// The router for the site at `site`, judged at `now`, with one account
/// per role (`viewer`, `operator`, `admin`) in `dir`.
pub fn app_at(dir: tempfile::TempDir, site: PathBuf, now: Option<OffsetDateTime>) -> App {
    let accounts = dir.path().join("accounts.sqlite");
    let a = Accounts::open(&accounts).unwrap();
    a.add("viewer", Role::Viewer, PW).unwrap();
    a.add("operator", Role::Operator, PW).unwrap();
    a.add("admin", Role::Admin, PW).unwrap();
    drop(a);
    let router = router(WebConfig {
        site,
        accounts,
        now,
        hokan: Vec::new(),
    })
    .unwrap();
    App { router, _dir: dir }
}

/// What the router answered.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
}

/// Send one request from 127.0.0.1.
pub async fn send(app: &App, method: &str, path: &str, cookie: &str, form: &str) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let mut req = req.body(Body::from(form.to_owned())).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let r = app.router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let cookies = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    Answer {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The CSRF token of the page's first form.
pub fn hidden_csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token")
        + 19;
    html[at..at + 64].to_owned()
}

/// The value of the cookie `name` among `Set-Cookie` headers.
pub fn cookie_value(cookies: &[String], name: &str) -> Option<String> {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// Log in as `user`; the session cookie and the session's CSRF token.
pub async fn login(app: &App, user: &str, password: &str) -> Result<(String, String), Answer> {
    let page = send(app, "GET", "/login", "", "").await;
    let token = hidden_csrf(&page.body);
    let login_cookie = cookie_value(&page.cookies, "hokan_login").unwrap();
    assert_eq!(token, login_cookie, "double submit: form token = cookie");
    let a = send(
        app,
        "POST",
        "/login",
        &format!("hokan_login={login_cookie}"),
        &format!(
            "csrf={token}&user={user}&password={}",
            password.replace(' ', "+")
        ),
    )
    .await;
    let Some(session) = cookie_value(&a.cookies, SESSION_COOKIE) else {
        return Err(a);
    };
    let set = a
        .cookies
        .iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .unwrap();
    for flag in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(set.contains(flag), "session cookie lacks {flag}: {set}");
    }
    let cookie = format!("{SESSION_COOKIE}={session}");
    let home = send(app, "GET", "/", &cookie, "").await;
    assert_eq!(home.status, StatusCode::OK);
    Ok((cookie, hidden_csrf(&home.body)))
}

/// A folder with a site named `name` (one source, a repository path, no
/// targets) and an empty catalog, for pages that need a catalog and little
/// else.
pub fn plain_site(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hokan.toml"),
        format!(
            r#"[site]
name = "{name}"
timezone = "+09:00"
catalog = "catalog.db"

[repository]
path = "repo"

[[source]]
name = "emr"
paths = ["/srv/emr/data"]
"#
        ),
    )
    .unwrap();
    drop(hokan_catalog::Catalog::open(&dir.path().join("catalog.db")).unwrap());
    dir
}
