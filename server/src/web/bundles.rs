//! Taking in a device's sync bundle from the dashboard (`/bundles`): the
//! township officer uploads the file a device with no link exported, the
//! server takes it in with the very code `admin bundle import` runs
//! ([`crate::bundle`]), counting its push messages against the device's
//! push quota as a push does, shows what came of it, and offers the reply
//! bundle to download and carry back to the device. Only township officers
//! see the page, upload or download.
//!
//! A reply is kept in memory for the officer who made it, for
//! [`REPLY_KEPT_FOR`], and only the [`MAX_REPLIES_KEPT`] newest, so the
//! replies kept never take more than that many bundles' bytes.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use massline_model::PersonId;

use super::State;
use super::filings::officer;
use super::pages::{Chrome, html, today};
use super::session::{Ctx, WebError};
use crate::error::Error;
use crate::{bundle, registry};

/// Most reply bundles kept at once, newest first.
pub const MAX_REPLIES_KEPT: usize = 4;

/// How long a reply bundle stays to download.
pub const REPLY_KEPT_FOR: Duration = Duration::from_secs(3600);

/// The upload's field holding the bundle file.
pub const FILE_FIELD: &str = "bundle";

/// A reply bundle waiting to be downloaded.
#[derive(Debug)]
struct Reply {
    token: String,
    officer: PersonId,
    file_name: String,
    bytes: Vec<u8>,
    made: Instant,
}

/// The reply bundles made from the dashboard, kept to download.
#[derive(Debug, Default)]
pub struct Replies(Mutex<VecDeque<Reply>>);

impl Replies {
    fn keep(&self, reply: Reply) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|r| r.made.elapsed() < REPLY_KEPT_FOR);
        kept.push_front(reply);
        kept.truncate(MAX_REPLIES_KEPT);
    }

    fn take(&self, token: &str, officer: &PersonId) -> Option<(String, Vec<u8>)> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|r| {
                r.token == token && r.officer == *officer && r.made.elapsed() < REPLY_KEPT_FOR
            })
            .map(|r| (r.file_name.clone(), r.bytes.clone()))
    }
}

/// What came of an upload, as shown.
#[derive(Debug)]
struct Outcome {
    device: String,
    accepted: u64,
    refused: u64,
    reasons: Vec<String>,
    pulled: u64,
    complete: bool,
    again: bool,
    reply_href: String,
    reply_name: String,
}

#[derive(Template)]
#[template(path = "bundles.html")]
struct BundlesPage {
    c: Chrome,
    outcome: Option<Outcome>,
    error: Option<String>,
}

/// `GET /bundles`: the upload form.
pub async fn form(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    officer(&ctx)?;
    page(&web, &ctx, None, None).await
}

/// Whether an import's failure is the bundle's (shown on the page, nothing
/// taken in) rather than the server's.
fn refusal(e: &Error) -> bool {
    !matches!(
        e,
        Error::Storage(_)
            | Error::Io(..)
            | Error::Corrupt { .. }
            | Error::Certificate { .. }
            | Error::Internal { .. }
    )
}

/// `POST /bundles`: takes in the uploaded bundle (its form's token and the
/// officer checked, and its size bounded, before it was read: see
/// [`super::session`]) and shows what came of it, with the reply to
/// download; a refused bundle shows why, and nothing of it is taken in.
pub async fn import(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    let s = officer(&ctx)?;
    let file = ctx
        .upload
        .as_ref()
        .and_then(|f| f.part(FILE_FIELD))
        .map(|p| p.body.clone())
        .filter(|b| !b.is_empty());
    let Some(file) = file else {
        let mut res = page(
            &web,
            &ctx,
            None,
            Some(format!("`{FILE_FIELD}`: choose the device's bundle file")),
        )
        .await?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    };
    let limiter = web.limiter.clone();
    let now = chrono::Utc::now();
    let done = web
        .blocking(move |db| {
            Ok(bundle::import_charged(
                db,
                &file,
                now.timestamp(),
                |device, bytes| limiter.charge(device, bytes, now),
            ))
        })
        .await?;
    let done = match done {
        Ok(done) => done,
        Err(e) if refusal(&e) => {
            tracing::info!(error = %e, by = %s.who.person, "bundle refused on the dashboard");
            let mut res = page(&web, &ctx, None, Some(e.to_string())).await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(res);
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(
        device = done.device,
        accepted = done.accepted,
        refused = done.refused,
        by = %s.who.person,
        "bundle taken in on the dashboard"
    );
    let token = massline_model::ids::hex_encode(&rand::random::<[u8; 16]>());
    let reply_name = format!(
        "massline-reply-device-{}-{}.bundle",
        done.device,
        today().format("%Y%m%d")
    );
    web.replies.keep(Reply {
        token: token.clone(),
        officer: s.who.person.clone(),
        file_name: reply_name.clone(),
        bytes: done.reply,
        made: Instant::now(),
    });
    let outcome = Outcome {
        device: format!("{} · {} ({})", done.device, done.person.1, done.person.0),
        accepted: done.accepted,
        refused: done.refused,
        reasons: done.reasons,
        pulled: done.pulled,
        complete: done.complete,
        again: done.imported_before.is_some(),
        reply_href: format!("/bundles/reply/{token}"),
        reply_name,
    };
    page(&web, &ctx, Some(outcome), None).await
}

/// `GET /bundles/reply/{token}`: the reply bundle of an import, as a file
/// to save, for the officer who made it.
pub async fn reply(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let s = officer(&ctx)?;
    let (name, bytes) = web
        .replies
        .take(&token, &s.who.person)
        .ok_or(WebError::NotFound)?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| WebError::Server(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

async fn page(
    web: &State,
    ctx: &Ctx,
    outcome: Option<Outcome>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let s = ctx.viewer()?;
    let township = web.blocking(|db| db.read(registry::township)).await?;
    let t = ctx.words();
    html(BundlesPage {
        c: Chrome::new(t, t.get("bundles").into(), township, Some(s), &ctx.path),
        outcome,
        error,
    })
}
