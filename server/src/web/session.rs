//! What runs around every request of the dashboard ([`around`]): the
//! language, the session, the CSRF check of every form, error pages in the
//! reader's language, security headers and the server's time.
//!
//! Every request that is not a GET or HEAD is a form, and is refused unless
//! it carries the token of its session (or, for the login forms, before a
//! session exists, the token of the login cookie): no route can forget it.
//!
//! A request counts as a call on its connection (which then is neither
//! idle nor chosen to give way at the cap) only while it is worked on: from
//! when its form's body has arrived (a file's, from when its officer is
//! known and the one upload's turn taken) until its answer is made. A body
//! that never arrives, or an answer the browser never lets in, keeps no
//! connection.
//!
//! A form with a file (`multipart/form-data`, the sync bundle's upload) is
//! taken only at [`UPLOAD_PATHS`], only from a township officer (asked
//! before a byte of it is read), one at a time, up to
//! [`MAX_UPLOAD_BYTES`]; its token is checked the same way, and its parts
//! reach the handler in [`Ctx::upload`].

use std::time::{Duration, Instant};

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use massline_model::Lang;

use super::accounts::{self, Session};
use super::i18n::Words;
use super::multipart;
use super::pages::{Chrome, MessagePage};
use super::{State, Web};
use crate::registry::hash;

/// The session cookie. `__Host-`: the browser keeps it only from HTTPS, for
/// this host and every path, as sent.
pub const SESSION_COOKIE: &str = "__Host-massline-session";

/// The cookie carrying the CSRF token of the login forms, before a session exists.
pub const LOGIN_COOKIE: &str = "__Host-massline-login";

/// The reader's language (`zh` or `en`).
pub const LANG_COOKIE: &str = "__Host-massline-lang";

/// Most bytes of a form's body; a longer one is refused unread.
pub const MAX_FORM_BYTES: usize = 16 << 10;

/// Longest an upload's body may take to arrive (16 MiB at 28 kB/s).
pub const UPLOAD_TIME: Duration = Duration::from_secs(600);

/// Most bytes of a form with a file: the largest sync bundle and room for
/// the form around it.
pub const MAX_UPLOAD_BYTES: usize = massline_model::bundle::MAX_BUNDLE_BYTES + (64 << 10);

/// The only paths that take a form with a file.
pub const UPLOAD_PATHS: &[&str] = &["/bundles"];

/// How long the login cookie lives.
pub const LOGIN_COOKIE_AGE: Duration = Duration::from_secs(3600);

/// The request as the dashboard's handlers see it: who asks, in which
/// language, from where.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The reader's language.
    pub lang: Lang,
    /// Their session, if logged in.
    pub session: Option<Session>,
    /// The session cookie's token, if a live session has one.
    pub token: Option<String>,
    /// The login forms' token (the login cookie), if the browser has one.
    pub login_token: Option<String>,
    /// Path and query of the request, for the language switch.
    pub path: String,
    /// The browser's address, for limits on failed logins.
    pub addr: Option<std::net::IpAddr>,
    /// The parts of a form with a file, its token checked.
    pub upload: Option<multipart::Form>,
}

impl Ctx {
    /// The dashboard's words in the reader's language.
    pub fn words(&self) -> Words {
        Words(self.lang)
    }

    /// The session, or [`WebError::LoginNeeded`].
    pub fn viewer(&self) -> Result<&Session, WebError> {
        self.session.as_ref().ok_or(WebError::LoginNeeded)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, WebError> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| WebError::Server("request without its context".into()))
    }
}

/// Why a request gets no page; shown as a page in the reader's language.
#[derive(Clone, Debug, thiserror::Error)]
pub enum WebError {
    /// Not logged in: go to the login page.
    #[error("log in first")]
    LoginNeeded,
    /// A member: the dashboard is not for them.
    #[error("members have no dashboard")]
    NoDashboard,
    /// Logged in, but the page is of a village they do not see.
    #[error("not allowed")]
    Forbidden,
    /// No such page, village or ledger.
    #[error("not found")]
    NotFound,
    /// The request is malformed; says what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// Too many failed attempts; try again after this long.
    #[error("too many failed attempts: try again in {} minutes", .0.as_secs().div_ceil(60))]
    TooMany(Duration),
    /// A login link that no longer logs in; says why.
    #[error("{0}")]
    Gone(String),
    /// A form without its CSRF token, or with a wrong one.
    #[error("form refused: its token is missing or wrong")]
    Csrf,
    /// A request larger than it may be; says how large it may be.
    #[error("{0}")]
    TooLarge(String),
    /// Another upload is being taken in; try again in a moment.
    #[error("another sync bundle is being uploaded: try again in a moment")]
    Busy,
    /// Something failed on the server.
    #[error("{0}")]
    Server(String),
}

impl From<crate::Error> for WebError {
    fn from(e: crate::Error) -> Self {
        tracing::error!(error = %e, "dashboard request failed");
        WebError::Server(e.to_string())
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::LoginNeeded => StatusCode::SEE_OTHER,
            WebError::NoDashboard | WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Gone(_) => StatusCode::GONE,
            WebError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The heading's key in [`super::i18n`], and the text under it.
    fn message(&self, w: Words) -> (&'static str, String) {
        match self {
            WebError::LoginNeeded => ("login", String::new()),
            WebError::NoDashboard => ("e_forbidden", w.get("e_no_dashboard").into()),
            WebError::Forbidden => ("e_forbidden", String::new()),
            WebError::NotFound => ("e_not_found", String::new()),
            WebError::BadRequest(why) => ("e_bad_request", why.clone()),
            WebError::TooMany(_) => ("e_too_many", self.to_string()),
            WebError::TooLarge(why) => ("e_too_large", why.clone()),
            WebError::Busy => ("e_busy", w.get("e_busy_text").into()),
            WebError::Gone(why) => ("e_gone", why.clone()),
            WebError::Csrf => ("e_bad_request", w.get("e_csrf").into()),
            WebError::Server(_) => ("e_server", String::new()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        // Rendered by `around`, which knows the reader's language.
        let mut res = self.status().into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// A `Set-Cookie` value: Secure, HttpOnly, SameSite=Strict, for every
/// path; `None` as the value ends the cookie.
pub fn cookie(name: &str, value: Option<&str>, max_age: Duration) -> HeaderValue {
    let text = match value {
        Some(v) => format!(
            "{name}={v}; Max-Age={}; Path=/; Secure; HttpOnly; SameSite=Strict",
            max_age.as_secs()
        ),
        None => format!("{name}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of a cookie the browser sent.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The value of a query parameter.
pub fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Whether two secrets are equal, comparing their hashes (so the time taken
/// tells nothing of where they differ).
fn same_secret(a: &str, b: &str) -> bool {
    hash(a) == hash(b)
}

/// Runs around every request (see the module).
pub async fn around(
    axum::extract::State(web): axum::extract::State<State>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let query_lang = query_value(parts.uri.query(), "lang").and_then(|l| Lang::from_code(&l));
    let lang = query_lang
        .or_else(|| cookie_value(&parts.headers, LANG_COOKIE).and_then(|l| Lang::from_code(&l)))
        .unwrap_or_default();
    let sent_token = cookie_value(&parts.headers, SESSION_COOKIE);
    let session = match &sent_token {
        Some(token) => match lookup(&web, token).await {
            Ok(s) => s,
            Err(e) => return finish(e.into_response(), lang, None, started),
        },
        None => None,
    };
    let peer = parts.extensions.get::<crate::connections::Peer>().cloned();
    let addr = peer.as_ref().map(|p| p.addr.ip());
    let mut ctx = Ctx {
        lang,
        token: sent_token.clone().filter(|_| session.is_some()),
        session,
        login_token: cookie_value(&parts.headers, LOGIN_COOKIE),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".into(), |p| p.as_str().to_string()),
        addr,
        upload: None,
    };
    // Held until the answer is made: uploads are taken in one at a time.
    let mut _uploading = None;
    // Held until the answer is made: the request is worked on.
    let mut _working = None;
    let body = if parts.method == Method::GET || parts.method == Method::HEAD {
        _working = peer.as_ref().map(crate::connections::Peer::call);
        body
    } else if let Some(boundary) = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary)
    {
        match checked_upload(&web, &ctx, &parts, body, &boundary, peer.as_ref()).await {
            Ok((form, permit, working)) => {
                ctx.upload = Some(form);
                _uploading = Some(permit);
                _working = working;
                Body::empty()
            }
            Err(e) => return finish(e.into_response(), lang, ctx.session, started),
        }
    } else {
        match checked_form(&ctx, body).await {
            Ok(bytes) => {
                _working = peer.as_ref().map(crate::connections::Peer::call);
                Body::from(bytes)
            }
            Err(e) => return finish(e.into_response(), lang, ctx.session, started),
        }
    };
    parts.extensions.insert(ctx.clone());
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let headers = res.headers_mut();
    if query_lang.is_some() {
        headers.append(
            header::SET_COOKIE,
            cookie(
                LANG_COOKIE,
                Some(Words(lang).code()),
                Duration::from_secs(365 * 86_400),
            ),
        );
    }
    if sent_token.is_some() && ctx.session.is_none() {
        headers.append(
            header::SET_COOKIE,
            cookie(SESSION_COOKIE, None, Duration::ZERO),
        );
    }
    finish(res, lang, ctx.session, started)
}

/// The session of a token, as the registry says now; a stale one is
/// touched (in the background: no request waits for the writer).
async fn lookup(web: &Web, token: &str) -> Result<Option<Session>, WebError> {
    let idle = web.options.session_idle;
    let t = token.to_string();
    let session = web
        .blocking(move |db| db.lookup(|tx| accounts::session(tx, &t, idle)))
        .await?;
    if session.as_ref().is_some_and(|s| s.stale) {
        let (db, t) = (web.db.clone(), token.to_string());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = db.write(|tx| accounts::touch(tx, &t)) {
                tracing::warn!(error = %e, "cannot note a session's use");
            }
        });
    }
    Ok(session)
}

/// A form's body, once its CSRF token is found right.
async fn checked_form(ctx: &Ctx, body: Body) -> Result<bytes::Bytes, WebError> {
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| WebError::BadRequest(format!("a form has at most {MAX_FORM_BYTES} bytes")))?;
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    let expected = match &ctx.session {
        Some(s) => Some(s.csrf.clone()),
        None => ctx.login_token.clone(),
    };
    match (sent, expected) {
        (Some(sent), Some(expected)) if same_secret(&sent, &expected) => Ok(bytes),
        _ => Err(WebError::Csrf),
    }
}

/// A form with a file, read and its token checked (see the module).
async fn checked_upload<'a>(
    web: &'a Web,
    ctx: &Ctx,
    parts: &Parts,
    body: Body,
    boundary: &str,
    peer: Option<&crate::connections::Peer>,
) -> Result<
    (
        multipart::Form,
        tokio::sync::SemaphorePermit<'a>,
        Option<crate::connections::Call>,
    ),
    WebError,
> {
    if !UPLOAD_PATHS.contains(&parts.uri.path()) {
        return Err(WebError::BadRequest(
            "only the sync bundle's form takes a file".into(),
        ));
    }
    // Who may upload is known before a byte is read.
    let s = ctx.viewer()?;
    if !super::filings::may_act(s) {
        return Err(WebError::Forbidden);
    }
    let too_large = || {
        WebError::TooLarge(format!(
            "an upload has at most {MAX_UPLOAD_BYTES} bytes: a sync bundle is at most {} bytes \
             (16 MiB); export the device's changes in more than one bundle",
            massline_model::bundle::MAX_BUNDLE_BYTES
        ))
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES as u64) {
        return Err(too_large());
    }
    // Nobody waits behind an upload whose body is still on its way: another
    // is refused at once, and the one under way has a deadline.
    let permit = web.uploads.try_acquire().map_err(|_| WebError::Busy)?;
    // The one upload, an officer's, within its deadline: it counts as
    // worked on while it arrives.
    let working = peer.map(crate::connections::Peer::call);
    let bytes = tokio::time::timeout(UPLOAD_TIME, axum::body::to_bytes(body, MAX_UPLOAD_BYTES))
        .await
        .map_err(|_| {
            WebError::BadRequest(format!(
                "the upload did not arrive within {} minutes",
                UPLOAD_TIME.as_secs() / 60
            ))
        })?
        .map_err(|_| too_large())?;
    let form = multipart::parse(boundary, bytes).map_err(WebError::BadRequest)?;
    match form.text("csrf") {
        Some(sent) if same_secret(&sent, &s.csrf) => Ok((form, permit, working)),
        _ => Err(WebError::Csrf),
    }
}

/// Renders an error page in the reader's language, adds the security
/// headers and the server's time.
fn finish(mut res: Response, lang: Lang, session: Option<Session>, started: Instant) -> Response {
    if let Some(e) = res.extensions_mut().remove::<WebError>() {
        let mut page = match e {
            WebError::LoginNeeded => Redirect::to("/login").into_response(),
            e => error_page(&e, lang, session),
        };
        for cookie in res.headers().get_all(header::SET_COOKIE) {
            page.headers_mut()
                .append(header::SET_COOKIE, cookie.clone());
        }
        res = page;
    }
    let h = res.headers_mut();
    // No script of any origin runs (`default-src 'none'`). `connect-src
    // 'self'` lets code the browser itself runs in the page (the browser
    // tests, through WebDriver) fetch the dashboard's own files.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Login links carry their secret in the path.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.1}")) {
        h.insert("server-timing", v);
    }
    tracing::debug!(status = res.status().as_u16(), ms, "dashboard request");
    res
}

fn error_page(e: &WebError, lang: Lang, session: Option<Session>) -> Response {
    let w = Words(lang);
    let (heading, text) = e.message(w);
    let page = MessagePage {
        c: Chrome::new(
            w,
            w.get(heading).to_string(),
            String::new(),
            session.as_ref(),
            "/",
        ),
        text,
    };
    let body = page.render().unwrap_or_else(|_| w.get(heading).to_string());
    (
        e.status(),
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}
