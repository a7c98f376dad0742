//! Every route × every role, through the router itself: who is sent to
//! the login, who is refused, who gets through; every POST refused without
//! the session's CSRF token; the cookies' flags; the login's limits.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use hokan_web::server::{router, WebConfig, ROUTES, SESSION_COOKIE};
use hokan_web::{Accounts, Role};
use tower::ServiceExt;

const PW: &str = "a long enough password";

struct App {
    router: Router,
    _dir: tempfile::TempDir,
}

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.sqlite");
    let a = Accounts::open(&accounts).unwrap();
    a.add("viewer", Role::Viewer, PW).unwrap();
    a.add("operator", Role::Operator, PW).unwrap();
    a.add("admin", Role::Admin, PW).unwrap();
    drop(a);
    let router = router(WebConfig {
        // No site: the pages say so, which is enough to tell access apart.
        site: dir.path().join("missing/hokan.toml"),
        accounts,
        now: None,
    })
    .unwrap();
    App { router, _dir: dir }
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

async fn send(app: &App, method: &str, path: &str, cookie: &str, form: &str) -> Answer {
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

fn hidden_csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token")
        + 19;
    html[at..at + 64].to_owned()
}

fn cookie_value(cookies: &[String], name: &str) -> Option<String> {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// Log in as `user`; the session cookie and the session's CSRF token.
async fn login(app: &App, user: &str, password: &str) -> Result<(String, String), Answer> {
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

#[tokio::test]
async fn each_role_on_each_route() {
    let app = app();
    let mut sessions = vec![(None, String::new(), String::new())];
    for (user, role) in [
        ("viewer", Role::Viewer),
        ("operator", Role::Operator),
        ("admin", Role::Admin),
    ] {
        let (cookie, csrf) = login(&app, user, PW).await.ok().unwrap();
        sessions.push((Some(role), cookie, csrf));
    }
    for &(method, path, needs) in ROUTES {
        let Some(needs) = needs else { continue };
        if path == "/logout" {
            continue; // below: it ends the session
        }
        for (role, cookie, csrf) in &sessions {
            let form = format!("csrf={csrf}");
            let a = send(&app, method, path, cookie, &form).await;
            match role {
                None => {
                    assert_eq!(a.status, StatusCode::SEE_OTHER, "{method} {path} anonymous");
                    assert_eq!(a.location.as_deref(), Some("/login"));
                }
                Some(r) if *r < needs => {
                    assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {path} as {r:?}");
                    assert!(a.body.contains(needs.as_str()), "says which role it needs");
                }
                Some(r) => {
                    assert_ne!(a.status, StatusCode::FORBIDDEN, "{method} {path} as {r:?}");
                    assert_ne!(
                        a.location.as_deref(),
                        Some("/login"),
                        "{method} {path} as {r:?}"
                    );
                }
            }
            // Without the token (or with another session's), every POST is
            // refused before anything is read, whatever the role.
            if method == "POST" && role.is_some() {
                for bad in ["", "csrf=", &format!("csrf={}", "0".repeat(64))] {
                    let a = send(&app, method, path, cookie, bad).await;
                    assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {path} {bad:?}");
                }
            }
        }
    }
    // Logout needs the token too, and ends the session.
    let (_, cookie, csrf) = &sessions[1];
    assert_eq!(
        send(&app, "POST", "/logout", cookie, "").await.status,
        StatusCode::FORBIDDEN
    );
    let a = send(&app, "POST", "/logout", cookie, &format!("csrf={csrf}")).await;
    assert_eq!(a.location.as_deref(), Some("/login"));
    let a = send(&app, "GET", "/", cookie, "").await;
    assert_eq!(a.location.as_deref(), Some("/login"), "the session is gone");
}

#[tokio::test]
async fn logins_are_refused_alike_locked_after_five_and_limited_per_address() {
    let app = app();
    // A forged login (no token, or a token that is not the cookie's).
    let a = send(&app, "POST", "/login", "", "user=admin&password=x").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send(
        &app,
        "POST",
        "/login",
        "hokan_login=aaaa",
        "csrf=bbbb&user=admin&password=x",
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Unknown name and wrong password: the same answer.
    let unknown = login(&app, "nobody", PW).await.err().unwrap();
    let wrong = login(&app, "viewer", "wrong password!!")
        .await
        .err()
        .unwrap();
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let text = |a: &Answer| {
        let at = a.body.find("<p class=\"problem error\">").unwrap();
        a.body[at..at + 80].to_owned()
    };
    assert_eq!(text(&unknown), text(&wrong));
    // Five wrong in a row lock the account, even against the right one.
    for _ in 0..5 {
        assert!(login(&app, "operator", "wrong password!!").await.is_err());
    }
    let locked = login(&app, "operator", PW).await.err().unwrap();
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED, "locked");
    assert_eq!(text(&locked), text(&wrong), "locked looks like wrong");
    // Ten tries a minute from one address (eight so far), then 429 before
    // any check, even with the right password.
    for _ in 0..2 {
        let a = login(&app, "admin", "wrong password!!")
            .await
            .err()
            .unwrap();
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = login(&app, "admin", PW).await.err().unwrap();
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn pages_follow_the_browser_language_and_carry_strict_headers() {
    let app = app();
    let req = |lang: &str| {
        let mut r = Request::builder()
            .uri("/login")
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::empty())
            .unwrap();
        r.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));
        r
    };
    let ja = app
        .router
        .clone()
        .oneshot(req("ja,en;q=0.8"))
        .await
        .unwrap();
    let h = ja.headers().clone();
    let body = axum::body::to_bytes(ja.into_body(), 1 << 20).await.unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("ログイン") && body.contains("lang=\"ja\""));
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    assert!(h[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    let en = app.router.clone().oneshot(req("en-US")).await.unwrap();
    let body = axum::body::to_bytes(en.into_body(), 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("Log in"));
}
