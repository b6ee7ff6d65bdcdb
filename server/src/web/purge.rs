//! Purging a record for good from the dashboard, at a villager's request
//! (彻底删除): a township officer's form on the page of a visit, opinion or
//! service request (`PURGEABLE` on the kind), a confirmation step, then
//! [`crate::purge::purge`] in the officer's name, as `admin purge` does. The
//! audit log (`/purged`) lists every purge, never any content; a purged
//! record's page says who purged it, when and why. Only township officers
//! see the form, post it or read the log.

use askama::Template;
use axum::Form;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use massline_model::{DocId, Principal, RecordKind, Scope};
use serde::Deserialize;

use super::State;
use super::access;
use super::filings::officer;
use super::ledger::{Cell, Column, Table};
use super::pages::{Chrome, html};
use super::session::{Ctx, WebError};
use crate::purge::{self, MAX_REASON_BYTES, Purge, PurgeError};
use crate::{documents, registry};

/// Most purges the log page lists, newest first.
pub const MAX_LOG_ROWS: usize = 1000;

/// The purge form as posted (its CSRF token is checked before it is read).
#[derive(Debug, Default, Deserialize)]
pub struct PurgeForm {
    #[serde(default)]
    reason: String,
    /// `yes` once the officer confirmed.
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "purge_confirm.html")]
struct ConfirmPage {
    c: Chrome,
    id: String,
    kind: String,
    village: String,
    reason: String,
    max_reason: usize,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "purged.html")]
struct LogPage {
    c: Chrome,
    table: Table,
    cut: bool,
}

#[derive(Template)]
#[template(path = "record_purged.html")]
struct PurgedRecordPage {
    c: Chrome,
    id: String,
    kind: String,
    village: String,
    by: String,
    at: String,
    reason: String,
}

/// A time as the dashboard shows it (local, to the minute).
fn local_time(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|d| {
            d.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A scope's village name (the township's name for the township's scope).
fn place(tx: &rusqlite::Transaction<'_>, scope: &str) -> Result<String, crate::Error> {
    let village = Scope::parse(scope).ok().and_then(|s| s.village().cloned());
    Ok(match village {
        Some(v) => registry::villages(tx)?
            .into_iter()
            .find(|(code, _)| *code == v)
            .map_or_else(|| v.to_string(), |(_, n)| n),
        None => registry::township(tx)?,
    })
}

/// A person as shown: name and id, or the id alone if unknown here.
fn named(tx: &rusqlite::Transaction<'_>, who: &massline_model::PersonId) -> String {
    match registry::person(tx, who) {
        Ok(Some(p)) => format!("{} ({who})", p.name),
        _ => who.to_string(),
    }
}

/// Whether `who` may see a record of `scope` on the dashboard.
fn may_see(who: &Principal, scope: &Scope) -> bool {
    who.can_read(scope) && scope.village().is_none_or(|v| access::may_see(who, v))
}

/// `POST /r/{id}/purge`: without `confirm=yes`, the confirmation step;
/// with it, the purge, then the record's page (which says it was purged).
/// A refusal (no reason, a reason too long, a kind that is not purged)
/// shows on the confirmation page, naming record and field, and nothing is
/// purged.
pub async fn purge(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Path(hex): Path<String>,
    Form(f): Form<PurgeForm>,
) -> Result<Response, WebError> {
    let s = officer(&ctx)?;
    let id = DocId::parse_hex(&hex).ok_or(WebError::NotFound)?;
    let found = web
        .blocking(move |db| {
            db.read(|tx| {
                let Some(stored) = documents::lookup(tx, &id)? else {
                    return Ok(None);
                };
                let village = place(tx, &stored.scope.to_string())?;
                Ok(Some((stored.record.kind(), village)))
            })
        })
        .await?;
    let Some((kind, village)) = found else {
        // Purged already (or never here): its page says which.
        return Ok(Redirect::to(&format!("/r/{hex}")).into_response());
    };
    let reason = f.reason.trim().to_string();
    let refusal = if !kind.purgeable() {
        Some(
            PurgeError::NotPurgeable {
                id,
                kind: kind.code(),
            }
            .to_string(),
        )
    } else if reason.is_empty() || reason.len() > MAX_REASON_BYTES {
        Some(format!("record {id}: `reason`: {}", PurgeError::Reason))
    } else {
        None
    };
    let confirm = |error: Option<String>| ConfirmPage {
        c: Chrome::new(
            ctx.words(),
            ctx.words().get("purge_confirm_title").into(),
            String::new(),
            Some(s),
            &ctx.path,
        ),
        id: id.to_hex(),
        kind: kind.label(ctx.lang).into(),
        village: village.clone(),
        reason: reason.clone(),
        max_reason: MAX_REASON_BYTES,
        error,
    };
    if let Some(why) = refusal {
        let mut res = html(confirm(Some(why)))?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    if f.confirm != "yes" {
        return html(confirm(None));
    }
    let by = s.who.person.clone();
    let why = reason.clone();
    let now = chrono::Utc::now().timestamp();
    let done = web
        .blocking(move |db| Ok(purge::purge(db, &id, &by, &why, now)))
        .await?;
    match done {
        Ok(p) => {
            tracing::info!(record = %p.id, kind = p.kind.code(), by = %p.by, "record purged from the dashboard");
            Ok(Redirect::to(&format!("/r/{}", id.to_hex())).into_response())
        }
        Err(PurgeError::Storage(e)) => Err(e.into()),
        Err(e) => {
            let mut res = html(confirm(Some(e.to_string())))?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

/// `GET /purged`: the audit log of purges, newest first: record, kind,
/// village, who, when, why; nothing of any record's content.
pub async fn log(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    let s = officer(&ctx)?;
    let (township, rows) = web
        .blocking(|db| {
            db.read(|tx| {
                let mut rows = Vec::new();
                for p in purge::log(tx)?.into_iter().take(MAX_LOG_ROWS + 1) {
                    let village = place(tx, &p.scope)?;
                    let by = named(tx, &p.by);
                    rows.push((p, village, by));
                }
                Ok((registry::township(tx)?, rows))
            })
        })
        .await?;
    let t = ctx.words();
    let cut = rows.len() > MAX_LOG_ROWS;
    let text = |label: &str| Column {
        label: label.to_string(),
        numeric: false,
    };
    let table = Table {
        columns: vec![
            text(t.get("c_record")),
            text(t.get("kind")),
            text(t.get("village")),
            text(t.get("purged_by")),
            text(t.get("purged_at")),
            text(t.get("purge_reason")),
        ],
        rows: rows
            .into_iter()
            .take(MAX_LOG_ROWS)
            .map(|(p, village, by): (Purge, String, String)| {
                let hex = p.id.to_hex();
                vec![
                    Cell::text_of(hex.clone())
                        .link(format!("/r/{hex}"))
                        .with_id(format!("purged-{hex}")),
                    Cell::text_of(p.kind.label(t.0)),
                    Cell::text_of(village),
                    Cell::text_of(by),
                    Cell::text_of(local_time(p.at)),
                    Cell::text_of(p.reason),
                ]
            })
            .collect(),
    };
    html(LogPage {
        c: Chrome::new(t, t.get("purged_log").into(), township, Some(s), &ctx.path),
        table,
        cut,
    })
}

/// The page of record `id` once purged: who purged it, when and why, shown
/// to whoever may read its scope; [`WebError::NotFound`] for anyone else,
/// and for a record never purged.
pub async fn purged_record(web: &State, ctx: &Ctx, id: DocId) -> Result<Response, WebError> {
    let s = ctx.viewer()?;
    let who = s.who.clone();
    let found = web
        .blocking(move |db| {
            db.read(|tx| {
                let Some(p) = purge::purged(tx, &id)? else {
                    return Ok(None);
                };
                let visible = Scope::parse(&p.scope).is_ok_and(|scope| may_see(&who, &scope));
                if !visible {
                    return Ok(None);
                }
                let village = place(tx, &p.scope)?;
                let by = named(tx, &p.by);
                Ok(Some((p, village, by, registry::township(tx)?)))
            })
        })
        .await?;
    let Some((p, village, by, township)) = found else {
        return Err(WebError::NotFound);
    };
    let t = ctx.words();
    let mut res = html(PurgedRecordPage {
        c: Chrome::new(
            t,
            format!("{} · {}", p.kind.label(t.0), t.get("purged_notice")),
            township,
            Some(s),
            &ctx.path,
        ),
        id: p.id.to_hex(),
        kind: p.kind.label(t.0).into(),
        village,
        by,
        at: local_time(p.at),
        reason: p.reason,
    })?;
    // Gone for good, and said so.
    *res.status_mut() = StatusCode::GONE;
    Ok(res)
}

/// Whether the record page of a record of `kind` shows `s` the purge form.
pub fn offered(s: &super::accounts::Session, kind: RecordKind) -> bool {
    super::filings::may_act(s) && kind.purgeable()
}
