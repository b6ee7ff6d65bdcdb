//! The township office's filing inbox: the measures villages submitted for
//! filing and the township has not acknowledged yet, by village, each with a
//! form that acknowledges it. Acknowledging is the officer's own change,
//! taken in like a phone's ([`crate::acting`]); only township officers see
//! the inbox or post its forms.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use massline_model::records::field_label;
use massline_model::{DocId, Role};
use rusqlite::params;

use super::State;
use super::accounts::Session;
use super::ledger::PROBLEM_TITLE;
use super::pages::{Chrome, html, today};
use super::session::{Ctx, WebError, query_value};
use crate::acting::{self, ActError};
use crate::{registry, rows};

/// Most measures the inbox lists at once; past this it says more wait (a
/// township has a few hundred measures in all, so this is never reached in
/// practice, and no page grows without bound).
pub const MAX_INBOX_ROWS: usize = 500;

/// A measure awaiting acknowledgement, as listed.
#[derive(Clone, Debug)]
struct Waiting {
    id: String,
    village: String,
    measure: String,
    problem: String,
    submitted_on: String,
    submitted_by: String,
}

#[derive(Template)]
#[template(path = "filings.html")]
struct InboxPage {
    c: Chrome,
    /// The outcome of the last act: (is it an error, text).
    notice: Option<(bool, String)>,
    heads: Vec<String>,
    rows: Vec<Waiting>,
    cut: bool,
}

/// Whether `s` may see the inbox and acknowledge filings: a township officer.
pub fn may_act(s: &Session) -> bool {
    s.who.role == Role::TownshipOfficer && s.who.village.is_none()
}

pub(super) fn officer(ctx: &Ctx) -> Result<&Session, WebError> {
    let s = ctx.viewer()?;
    if !may_act(s) {
        return Err(WebError::Forbidden);
    }
    Ok(s)
}

/// `GET /filings`: the inbox.
pub async fn inbox(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    let s = officer(&ctx)?;
    let notice = query_value(ctx.path.split_once('?').map(|(_, q)| q), "done")
        .and_then(|hex| DocId::parse_hex(&hex))
        .map(|id| (false, format!("{}: {id}", ctx.words().get("filing_done"))));
    page(&web, &ctx, s, notice).await
}

/// `POST /filings/{id}`: acknowledges the filing of measure `id`, as the
/// officer's own change; a refusal shows on the inbox, naming record and
/// field, and nothing is written.
pub async fn acknowledge(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Path(hex): Path<String>,
) -> Result<Response, WebError> {
    let s = officer(&ctx)?;
    let id = DocId::parse_hex(&hex).ok_or(WebError::NotFound)?;
    let person = s.who.person.clone();
    let date = today();
    let done = web
        .blocking(move |db| {
            let done = acting::acknowledge_filing(db, &person, &id, date);
            if done.is_ok() {
                // The inbox shows the act at once, not after the rows' follower.
                db.write(rows::catch_up)?;
            }
            Ok(done)
        })
        .await?;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/filings?done={}", id.to_hex())).into_response()),
        Err(ActError::Server(e)) => Err(e.into()),
        Err(e) => {
            let mut res = page(&web, &ctx, s, Some((true, e.to_string()))).await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

async fn page(
    web: &State,
    ctx: &Ctx,
    s: &Session,
    notice: Option<(bool, String)>,
) -> Result<Response, WebError> {
    let (township, mut rows) = web
        .blocking(|db| {
            db.read(|tx| {
                let sql = format!(
                    "SELECT lower(hex(r.doc_id)), v.name, r.measure, {PROBLEM_TITLE},
                            r.submitted_on, coalesce(who.name, r.submitted_by)
                     FROM rectifications r JOIN villages v ON v.code = r.village
                     LEFT JOIN people who ON who.id = r.submitted_by
                     WHERE r.filing = 'submitted' AND r.withdrawn = 0
                     ORDER BY r.village, r.submitted_on, r.doc_id LIMIT ?1"
                );
                let rows = tx
                    .prepare(&sql)?
                    .query_map(params![MAX_INBOX_ROWS as i64 + 1], |r| {
                        Ok(Waiting {
                            id: r.get(0)?,
                            village: r.get(1)?,
                            measure: r.get(2)?,
                            problem: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                            submitted_on: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                            submitted_by: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((registry::township(tx)?, rows))
            })
        })
        .await?;
    let cut = rows.len() > MAX_INBOX_ROWS;
    rows.truncate(MAX_INBOX_ROWS);
    let t = ctx.words();
    html(InboxPage {
        c: Chrome::new(t, t.get("filings").into(), township, Some(s), &ctx.path),
        notice,
        heads: vec![
            t.get("village").into(),
            field_label("measure", t.0).into(),
            field_label("problem", t.0).into(),
            field_label("submitted", t.0).into(),
            field_label("by", t.0).into(),
            String::new(),
        ],
        rows,
        cut,
    })
}
