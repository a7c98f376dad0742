//! The dashboard's HTTPS server: login, sessions, CSRF, roles, and the
//! pages (see [`crate::pages`]).
//!
//! Sessions live in memory (a restart logs everyone out). The session
//! cookie is `Secure; HttpOnly; SameSite=Strict`; every form carries the
//! session's CSRF token, and a POST without it is refused before anything
//! is read. Logins are limited per client address ([`LOGIN_BURST`] in
//! [`LOGIN_WINDOW`]) on top of the per-account lockout
//! ([`crate::accounts::LOCK_AFTER`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use time::OffsetDateTime;

use hokan_catalog::{Event, WebAccess};

use crate::accounts::{Accounts, Refused, Role};
use crate::pages::{self, Lang, Pick};

/// Login attempts one client address may make in [`LOGIN_WINDOW`].
pub const LOGIN_BURST: usize = 10;
/// The window of [`LOGIN_BURST`].
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hokan_session";
const LOGIN_COOKIE: &str = "hokan_login";
const LANG_COOKIE: &str = "hokan_lang";

/// Where the dashboard reads from.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The site's hokan.toml.
    pub site: PathBuf,
    /// The accounts file.
    pub accounts: PathBuf,
    /// The instant pages are judged at, if not the clock's (`HOKAN_NOW`,
    /// for the demo's simulated nights and tests).
    pub now: Option<OffsetDateTime>,
    /// The `hokan` program and its global arguments (`hokan --config FILE
    /// [--now T]`), for the Jobs page's "run tonight's job now" (`run`)
    /// and "run a restore drill now" (`drill`); empty: neither is offered.
    pub hokan: Vec<std::ffi::OsString>,
}

/// A logged-in person.
#[derive(Clone, Debug)]
pub struct Session {
    /// The account.
    pub user: String,
    /// Its role at login.
    pub role: Role,
    /// The token every form of this session carries.
    pub csrf: String,
    last_seen: Instant,
}

pub(crate) struct Shared {
    pub(crate) config: WebConfig,
    accounts: Mutex<Accounts>,
    sessions: Mutex<HashMap<String, Session>>,
    attempts: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl Shared {
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.config.now.unwrap_or_else(OffsetDateTime::now_utc)
    }
}

fn token() -> String {
    let mut b = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Equal without telling, by its time, how much of it was.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Secure; HttpOnly; SameSite=Strict; Path=/{age}"
    ))
    .expect("cookie text is ASCII")
}

/// The page's language: `?lang=`, else the cookie, else the browser's
/// first choice between Japanese and English.
fn lang(headers: &HeaderMap, asked: Option<&str>) -> Lang {
    let pick = |s: &str| match s {
        "ja" => Some(Lang::Ja),
        "en" => Some(Lang::En),
        _ => None,
    };
    if let Some(l) = asked.and_then(pick) {
        return l;
    }
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(pick) {
        return l;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for part in accept.split(',') {
        let tag = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("ja") {
            return Lang::Ja;
        }
        if tag.starts_with("en") {
            return Lang::En;
        }
    }
    Lang::En
}

/// Who is asking, if logged in (and the session still alive).
fn session(s: &Shared, headers: &HeaderMap) -> Option<Session> {
    let t = cookie(headers, SESSION_COOKIE)?;
    let mut sessions = s.sessions.lock().expect("sessions");
    let now = Instant::now();
    sessions.retain(|_, v| now.duration_since(v.last_seen) < IDLE);
    let found = sessions.get_mut(t)?;
    found.last_seen = now;
    Some(found.clone())
}

/// The outcome of checking a request's rights.
enum Access {
    Granted(Session),
    Denied(Response),
}

fn require(s: &Shared, headers: &HeaderMap, role: Role, l: Lang) -> Access {
    match session(s, headers) {
        None => Access::Denied(Redirect::to("/login").into_response()),
        Some(sess) if sess.role < role => Access::Denied(
            (
                StatusCode::FORBIDDEN,
                Html(pages::forbidden(l, &sess, role)),
            )
                .into_response(),
        ),
        Some(sess) => Access::Granted(sess),
    }
}

/// A POST's form must carry the session's token.
fn check_csrf(sess: &Session, form: &HashMap<String, String>, l: Lang) -> Option<Response> {
    match form.get("csrf") {
        Some(t) if same(t, &sess.csrf) => None,
        _ => Some(
            (
                StatusCode::FORBIDDEN,
                Html(pages::message(
                    l,
                    Some(sess),
                    pages::tr(l, "Refused: the form's token is missing or wrong (a form from another page, or an old one). Nothing was changed; open the page again.", "拒否しました: フォームのトークンがないか、正しくありません（別のページや古いフォームからの送信です）。何も変更していません。ページを開き直してください。"),
                )),
            )
                .into_response(),
        ),
    }
}

/// Record what happened at the door in the catalog's event log (actor
/// `hokan web`). A catalog that cannot be written is logged, and the
/// request goes on: the dashboard's log (tracing) still has it.
async fn audit(s: &Arc<Shared>, user: &str, from: IpAddr, access: WebAccess, path: Option<&str>) {
    let shared = s.clone();
    let event = Event::WebAccess {
        user: user.chars().take(64).collect(),
        from: from.to_string(),
        access,
        path: path.map(str::to_owned),
    };
    let done = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let site = hokan_site::load(&shared.config.site).map_err(|e| e.to_string())?;
        let mut cat = hokan_catalog::Catalog::open_existing(site.catalog_path())
            .map_err(|e| e.to_string())?;
        cat.record(shared.now(), "hokan web", event)
            .map_err(|e| e.to_string())?;
        Ok(())
    })
    .await
    .expect("audit task");
    if let Err(e) = done {
        tracing::error!(
            "dashboard: {} of {user:?} from {from} not recorded in the catalog: {e}",
            access.as_str()
        );
    }
}

/// A form's POST by a logged-in person of at least `role`, carrying the
/// session's CSRF token. A logged-in person's refusal is recorded in the
/// catalog (`web-access`, `action-refused`); an anonymous one is not (it
/// could be repeated without limit) and is sent to the login page.
async fn acting(
    s: &Arc<Shared>,
    headers: &HeaderMap,
    peer: IpAddr,
    role: Role,
    form: &HashMap<String, String>,
    path: &str,
) -> Access {
    let l = lang(headers, None);
    let refused = match require(s, headers, role, l) {
        Access::Granted(sess) => match check_csrf(&sess, form, l) {
            None => return Access::Granted(sess),
            Some(r) => (sess.user, r),
        },
        Access::Denied(r) => match session(s, headers) {
            Some(sess) => (sess.user, r),
            None => return Access::Denied(r),
        },
    };
    tracing::warn!("dashboard: {path} by {} from {peer} refused", refused.0);
    audit(s, &refused.0, peer, WebAccess::ActionRefused, Some(path)).await;
    Access::Denied(refused.1)
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn with_lang_cookie(mut r: Response, asked: Option<&str>) -> Response {
    if let Some(l @ ("ja" | "en")) = asked {
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, l, Some(365 * 24 * 3600)),
        );
    }
    r
}

async fn login_page(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let l = lang(&headers, q.lang.as_deref());
    let t = token();
    let mut r = Html(pages::login(l, &t, None)).into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &t, Some(600)));
    with_lang_cookie(r, q.lang.as_deref())
}

async fn login(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let l = lang(&headers, None);
    // Double submit: the form's token must be the login cookie's, so a
    // login cannot be forged from another site.
    let ok_token = match (cookie(&headers, LOGIN_COOKIE), form.get("csrf")) {
        (Some(c), Some(f)) => same(c, f),
        _ => false,
    };
    if !ok_token {
        return (
            StatusCode::FORBIDDEN,
            Html(pages::message(
                l,
                None,
                pages::tr(l, "Refused: the login form's token is missing or wrong. Open the login page again.", "拒否しました: ログインフォームのトークンがないか、正しくありません。ログインページを開き直してください。"),
            )),
        )
            .into_response();
    }
    {
        let mut attempts = s.attempts.lock().expect("attempts");
        let now = Instant::now();
        let list = attempts.entry(peer.ip()).or_default();
        list.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
        if list.len() >= LOGIN_BURST {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Html(pages::message(
                    l,
                    None,
                    pages::tr(
                        l,
                        "Too many login attempts from this address; wait a minute.",
                        "このアドレスからのログイン試行が多すぎます。1 分待ってください。",
                    ),
                )),
            )
                .into_response();
        }
        list.push(now);
    }
    let user = form.get("user").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let code = form
        .get("code")
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    let shared = s.clone();
    let now = s.now();
    let u = user.clone();
    let result = tokio::task::spawn_blocking(move || {
        shared.accounts.lock().expect("accounts").login_with_code(
            &u,
            &password,
            code.as_deref(),
            now,
        )
    })
    .await
    .expect("login task");
    match result {
        Ok(Ok(role)) => {
            let t = token();
            s.sessions.lock().expect("sessions").insert(
                t.clone(),
                Session {
                    user: user.clone(),
                    role,
                    csrf: token(),
                    last_seen: Instant::now(),
                },
            );
            tracing::info!("dashboard: {user} logged in from {}", peer.ip());
            audit(&s, &user, peer.ip(), WebAccess::LoggedIn, None).await;
            let mut r = Redirect::to("/").into_response();
            let h = r.headers_mut();
            h.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &t, None));
            h.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", Some(0)));
            r
        }
        Ok(Err(why)) => {
            let access = match why {
                Refused::WrongNameOrPassword => WebAccess::LoginRefused,
                Refused::Locked(_) => WebAccess::LoginLocked,
            };
            audit(&s, &user, peer.ip(), access, None).await;
            tracing::warn!(
                "dashboard: login of {user:?} from {} refused ({})",
                peer.ip(),
                match why {
                    Refused::WrongNameOrPassword => "wrong name or password",
                    Refused::Locked(_) => "account locked",
                }
            );
            let t = token();
            let mut r = (
                StatusCode::UNAUTHORIZED,
                Html(pages::login(
                    l,
                    &t,
                    Some(pages::tr(l, "Wrong name or password (or authenticator code), or the account is locked after too many failures (it unlocks after 15 minutes, or an admin sets a new password).", "名前かパスワード（または認証コード）が違うか、失敗が多すぎてアカウントがロックされています（15 分後に解除されます。管理者がパスワードを設定し直しても解除されます）。")),
                )),
            )
                .into_response();
            r.headers_mut()
                .append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &t, Some(600)));
            r
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(pages::message(l, None, &e.to_string())),
        )
            .into_response(),
    }
}

async fn logout(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let sess = match acting(&s, &headers, peer.ip(), Role::Viewer, &form, "/logout").await {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    if let Some(t) = cookie(&headers, SESSION_COOKIE) {
        s.sessions.lock().expect("sessions").remove(t);
    }
    audit(&s, &sess.user, peer.ip(), WebAccess::LoggedOut, None).await;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    r
}

async fn morning(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let l = lang(&headers, q.lang.as_deref());
    let sess = match require(&s, &headers, Role::Viewer, l) {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let shared = s.clone();
    let page = tokio::task::spawn_blocking(move || pages::morning(&shared, l, &sess))
        .await
        .expect("page task");
    with_lang_cookie(Html(page).into_response(), q.lang.as_deref())
}

async fn events(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let l = lang(&headers, q.lang.as_deref());
    let sess = match require(&s, &headers, Role::Viewer, l) {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let shared = s.clone();
    let page = tokio::task::spawn_blocking(move || pages::events(&shared, l, &sess, false))
        .await
        .expect("page task");
    with_lang_cookie(Html(page).into_response(), q.lang.as_deref())
}

async fn jobs(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let l = lang(&headers, q.lang.as_deref());
    let sess = match require(&s, &headers, Role::Viewer, l) {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let shared = s.clone();
    let (page, running) = tokio::task::spawn_blocking(move || crate::jobs::jobs(&shared, l, &sess))
        .await
        .expect("page task");
    let mut r = with_lang_cookie(Html(page).into_response(), q.lang.as_deref());
    if running {
        // The running night's log, fresh without any script.
        r.headers_mut()
            .insert("refresh", HeaderValue::from_static("5"));
    }
    r
}

/// An operator starts a night or a drill now; recorded with their name.
async fn background(
    s: Arc<Shared>,
    peer: SocketAddr,
    headers: HeaderMap,
    form: HashMap<String, String>,
    what: crate::jobs::Background,
) -> Response {
    let l = lang(&headers, None);
    let sess = match acting(&s, &headers, peer.ip(), Role::Operator, &form, what.path()).await {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let shared = s.clone();
    let user = sess.user.clone();
    let started = tokio::task::spawn_blocking(move || crate::jobs::start(&shared, what, &user))
        .await
        .expect("start task");
    match started {
        Ok(pid) => {
            tracing::info!(
                "dashboard: {} started {} (pid {pid})",
                sess.user,
                what.path()
            );
            audit(&s, &sess.user, peer.ip(), what.event(), None).await;
            Redirect::to("/jobs").into_response()
        }
        Err(msg) => (
            StatusCode::CONFLICT,
            Html(pages::message(l, Some(&sess), &msg.pick(l))),
        )
            .into_response(),
    }
}

/// A page's answer, boxed so that [`viewer`] can name its handlers.
type PageFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

/// The handler of a read-only page any logged-in role may see.
fn viewer(
    render: fn(&Shared, Lang, &Session) -> String,
) -> impl Fn(State<Arc<Shared>>, HeaderMap, Query<LangQuery>) -> PageFuture + Clone + Send + Sync + 'static
{
    move |State(s), headers, Query(q)| Box::pin(viewer_page(s, headers, q, render))
}

/// A read-only page any logged-in role may see, rendered off the async
/// threads.
async fn viewer_page(
    s: Arc<Shared>,
    headers: HeaderMap,
    q: LangQuery,
    render: fn(&Shared, Lang, &Session) -> String,
) -> Response {
    let l = lang(&headers, q.lang.as_deref());
    let sess = match require(&s, &headers, Role::Viewer, l) {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let page = tokio::task::spawn_blocking(move || render(&s, l, &sess))
        .await
        .expect("page task");
    with_lang_cookie(Html(page).into_response(), q.lang.as_deref())
}

async fn events_verify(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let l = lang(&headers, None);
    let sess = match acting(
        &s,
        &headers,
        peer.ip(),
        Role::Viewer,
        &form,
        "/events/verify",
    )
    .await
    {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let shared = s.clone();
    let page = tokio::task::spawn_blocking(move || pages::events(&shared, l, &sess, true))
        .await
        .expect("page task");
    Html(page).into_response()
}

/// What an operator's form does: an action on the catalog, or starting a
/// night or a drill.
#[derive(Clone, Copy)]
enum Post {
    Act(Act),
    Start(crate::jobs::Background),
}

/// The handler of an operator's form (its extractors spelled out: axum
/// needs them in the closure's type).
#[allow(clippy::type_complexity)]
fn operator(
    post: Post,
) -> impl Fn(
    State<Arc<Shared>>,
    ConnectInfo<SocketAddr>,
    HeaderMap,
    Form<HashMap<String, String>>,
) -> PageFuture
       + Clone
       + Send
       + Sync
       + 'static {
    move |State(s), ConnectInfo(peer), headers, Form(form)| match post {
        Post::Act(act) => Box::pin(operator_action(s, peer, headers, form, act)),
        Post::Start(what) => Box::pin(background(s, peer, headers, form, what)),
    }
}

/// An operator's action on a form: where it is posted, where the person is
/// sent back to, and what it does (recording in the catalog with the
/// person's name, or saying why not).
#[derive(Clone, Copy)]
struct Act {
    path: &'static str,
    back: &'static str,
    does: FormAction,
}

/// What an operator's form does, with the posted fields.
type FormAction =
    fn(&Shared, &Session, &HashMap<String, String>) -> Result<(), hokan_offline::Text>;

async fn operator_action(
    s: Arc<Shared>,
    peer: SocketAddr,
    headers: HeaderMap,
    form: HashMap<String, String>,
    act: Act,
) -> Response {
    let l = lang(&headers, None);
    let sess = match acting(&s, &headers, peer.ip(), Role::Operator, &form, act.path).await {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let who = sess.clone();
    let shared = s.clone();
    let result = tokio::task::spawn_blocking(move || (act.does)(&shared, &who, &form))
        .await
        .expect("action task");
    match result {
        Ok(()) => Redirect::to(act.back).into_response(),
        Err(msg) => (
            StatusCode::BAD_REQUEST,
            Html(pages::message(l, Some(&sess), &msg.pick(l))),
        )
            .into_response(),
    }
}

/// The resolved configuration: admins only (it names the files secrets
/// are kept in).
async fn config_page(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let l = lang(&headers, q.lang.as_deref());
    let sess = match require(&s, &headers, Role::Admin, l) {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let page = tokio::task::spawn_blocking(move || crate::config::config(&s, l, &sess))
        .await
        .expect("page task");
    with_lang_cookie(Html(page).into_response(), q.lang.as_deref())
}

/// A report or the annex as a file to save, in the language asked
/// (`?lang=`, which here does not change the dashboard's own language).
async fn download(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path(file): Path<String>,
) -> Response {
    let l = lang(&headers, q.lang.as_deref());
    let sess = match require(&s, &headers, Role::Viewer, l) {
        Access::Granted(x) => x,
        Access::Denied(r) => return r,
    };
    let Some(doc) = crate::reports::Doc::named(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let shared = s.clone();
    let made = tokio::task::spawn_blocking(move || crate::reports::download(&shared, l, doc))
        .await
        .expect("report task");
    match made {
        Ok(d) => {
            let disposition = format!("attachment; filename=\"{}\"", d.file_name);
            let mut r = d.body.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(d.content_type),
            );
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(pages::error_page(
                l,
                pages::tr(l, "Reports", "報告書"),
                &sess,
                &e,
            )),
        )
            .into_response(),
    }
}

/// Every route, the least role it needs, and whether it is a form's POST
/// (for the authorization tests: each role × each route).
pub const ROUTES: &[(&str, &str, Option<Role>)] = &[
    ("GET", "/login", None),
    ("POST", "/login", None),
    ("POST", "/logout", Some(Role::Viewer)),
    ("GET", "/", Some(Role::Viewer)),
    ("GET", "/media", Some(Role::Viewer)),
    ("GET", "/generations", Some(Role::Viewer)),
    ("GET", "/events", Some(Role::Viewer)),
    ("POST", "/events/verify", Some(Role::Viewer)),
    ("POST", "/media/move", Some(Role::Operator)),
    ("GET", "/jobs", Some(Role::Viewer)),
    ("POST", "/jobs/run", Some(Role::Operator)),
    ("POST", "/jobs/drill", Some(Role::Operator)),
    ("GET", "/attestations", Some(Role::Viewer)),
    ("POST", "/attestations", Some(Role::Operator)),
    ("POST", "/attestations/withdraw", Some(Role::Operator)),
    ("POST", "/alerts/acknowledge", Some(Role::Operator)),
    ("GET", "/reports", Some(Role::Viewer)),
    ("GET", "/reports/report.html", Some(Role::Viewer)),
    ("GET", "/reports/report.md", Some(Role::Viewer)),
    ("GET", "/reports/annex.html", Some(Role::Viewer)),
    ("GET", "/reports/annex.md", Some(Role::Viewer)),
    ("GET", "/drills", Some(Role::Viewer)),
    ("GET", "/receipts", Some(Role::Viewer)),
    ("GET", "/config", Some(Role::Admin)),
];

/// The dashboard's routes.
pub fn router(config: WebConfig) -> Result<Router, crate::accounts::AccountError> {
    let accounts = Accounts::open(&config.accounts)?;
    let shared = Arc::new(Shared {
        config,
        accounts: Mutex::new(accounts),
        sessions: Mutex::new(HashMap::new()),
        attempts: Mutex::new(HashMap::new()),
    });
    Ok(Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/", get(morning))
        .route("/media", get(viewer(crate::media::media)))
        .route("/generations", get(viewer(crate::generations::generations)))
        .route("/events", get(events))
        .route("/events/verify", post(events_verify))
        .route(
            "/media/move",
            post(operator(Post::Act(Act {
                path: "/media/move",
                back: "/",
                does: pages::record_move,
            }))),
        )
        .route("/jobs", get(jobs))
        .route(
            "/jobs/run",
            post(operator(Post::Start(crate::jobs::Background::Night))),
        )
        .route(
            "/jobs/drill",
            post(operator(Post::Start(crate::jobs::Background::Drill))),
        )
        .route(
            "/attestations",
            get(viewer(crate::attest::attestations)).post(operator(Post::Act(Act {
                path: "/attestations",
                back: "/attestations",
                does: crate::attest::add,
            }))),
        )
        .route(
            "/alerts/acknowledge",
            post(operator(Post::Act(Act {
                path: "/alerts/acknowledge",
                back: "/",
                does: crate::alerts::acknowledge,
            }))),
        )
        .route(
            "/attestations/withdraw",
            post(operator(Post::Act(Act {
                path: "/attestations/withdraw",
                back: "/attestations",
                does: crate::attest::withdraw,
            }))),
        )
        .route("/reports", get(viewer(crate::reports::reports)))
        .route("/reports/{file}", get(download))
        .route("/drills", get(viewer(crate::drills::drills)))
        .route("/receipts", get(viewer(crate::receipts::receipts)))
        .route("/config", get(config_page))
        .route("/style.css", get(style))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(shared))
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLE,
    )
        .into_response()
}

/// Headers every answer carries: no framing, no sniffing, nothing loaded
/// from elsewhere, not cached.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// A running dashboard; dropping it stops the server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    handle: axum_server::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Wait until the server stops.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What stops the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The accounts file.
    #[error(transparent)]
    Accounts(#[from] crate::accounts::AccountError),
    /// The certificate or key, the listener or the runtime.
    #[error("{what}: {why}")]
    Setup {
        /// What was being set up.
        what: String,
        /// Why it failed.
        why: String,
    },
}

/// Serve the dashboard over HTTPS on `listener` with the PEM certificate
/// and key at `cert` and `key`.
pub fn start(
    listener: TcpListener,
    config: WebConfig,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Running, StartError> {
    let setup = |what: String| {
        move |e: std::io::Error| StartError::Setup {
            what,
            why: e.to_string(),
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert_pem = std::fs::read(cert).map_err(setup(format!("certificate {}", cert.display())))?;
    let key_pem = std::fs::read(key).map_err(setup(format!("private key {}", key.display())))?;
    let addr = listener.local_addr().map_err(setup("listener".into()))?;
    listener
        .set_nonblocking(true)
        .map_err(setup("listener".into()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(setup("runtime".into()))?;
    let tls = rt
        .block_on(axum_server::tls_rustls::RustlsConfig::from_pem(
            cert_pem, key_pem,
        ))
        .map_err(setup(format!(
            "certificate {} and key {}",
            cert.display(),
            key.display()
        )))?;
    let app = router(config)?;
    let handle = axum_server::Handle::new();
    let h2 = handle.clone();
    let thread = std::thread::spawn(move || {
        rt.block_on(async move {
            if let Err(e) = axum_server::from_tcp_rustls(listener, tls)
                .handle(h2)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
            {
                tracing::error!("hokan web stopped: {e}");
            }
        })
    });
    Ok(Running {
        addr,
        handle,
        thread: Some(thread),
    })
}
