//! Issuing a problem to a village from the dashboard (上级点, "issued by
//! superiors"): a township officer's form, whose problem is made as the
//! officer's own change and taken in like a phone's ([`crate::acting`]).

use askama::Template;
use axum::Form;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use massline_model::records::{ProblemArea, field_label};
use massline_model::{Coded, VillageCode};
use serde::Deserialize;

use super::State;
use super::filings::officer;
use super::pages::{Chrome, html, today};
use super::session::{Ctx, WebError};
use crate::acting::{self, ActError};
use crate::registry;

#[derive(Template)]
#[template(path = "issue.html")]
struct IssuePage {
    c: Chrome,
    error: Option<String>,
    /// Code, name, chosen.
    villages: Vec<(String, String, bool)>,
    /// Code, label, chosen.
    areas: Vec<(&'static str, &'static str, bool)>,
    labels: [String; 3],
    title: String,
    background: String,
}

/// The issuing form as posted (its CSRF token is checked before it is read).
#[derive(Debug, Default, Deserialize)]
pub struct IssueForm {
    village: String,
    title: String,
    area: String,
    #[serde(default)]
    background: String,
}

/// `GET /issue`: the form.
pub async fn form(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    officer(&ctx)?;
    page(&web, &ctx, IssueForm::default(), None).await
}

/// `POST /issue`: issues the problem; a refusal shows on the form, naming
/// the field, and nothing is written.
pub async fn issue(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Form(f): Form<IssueForm>,
) -> Result<Response, WebError> {
    let s = officer(&ctx)?;
    let person = s.who.person.clone();
    let village =
        VillageCode::new(&f.village).map_err(|e| WebError::BadRequest(format!("village: {e}")))?;
    let mut fields = serde_json::Map::new();
    fields.insert("title".into(), f.title.clone().into());
    fields.insert("area".into(), f.area.clone().into());
    fields.insert("background".into(), f.background.clone().into());
    let date = today();
    let done = web
        .blocking(move |db| Ok(acting::issue_problem(db, &person, &village, date, fields)))
        .await?;
    match done {
        Ok(id) => Ok(Redirect::to(&format!("/r/{}", id.to_hex())).into_response()),
        Err(ActError::Server(e)) => Err(e.into()),
        Err(e) => {
            let mut res = page(&web, &ctx, f, Some(e.to_string())).await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

async fn page(
    web: &State,
    ctx: &Ctx,
    f: IssueForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let s = ctx.viewer()?;
    let (township, villages) = web
        .blocking(|db| db.read(|tx| Ok((registry::township(tx)?, registry::villages(tx)?))))
        .await?;
    let t = ctx.words();
    html(IssuePage {
        c: Chrome::new(t, t.get("issue").into(), township, Some(s), &ctx.path),
        error,
        villages: villages
            .into_iter()
            .map(|(code, name)| {
                let chosen = code.as_str() == f.village;
                (code.to_string(), name, chosen)
            })
            .collect(),
        areas: ProblemArea::all()
            .iter()
            .map(|a| (a.code(), a.label(t.0), a.code() == f.area))
            .collect(),
        labels: [
            field_label("title", t.0).into(),
            field_label("area", t.0).into(),
            field_label("background", t.0).into(),
        ],
        title: f.title,
        background: f.background,
    })
}
