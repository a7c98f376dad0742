//! Every route × every role, through the router itself: who is sent to
//! the login, who is refused, who gets through; every POST refused without
//! the session's CSRF token; the cookies' flags; the login's limits.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use common::{login, send, Answer, App, PW};
use hokan_web::server::ROUTES;
use hokan_web::Role;
use tower::ServiceExt;

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    // No site: the pages say so, which is enough to tell access apart.
    let site = dir.path().join("missing/hokan.toml");
    common::app_at(dir, site, None)
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
