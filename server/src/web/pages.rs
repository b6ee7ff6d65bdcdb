//! The dashboard's pages: login and logout, the township overview, a
//! village's page, the ledgers and their exports.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use massline_model::record_doc;
use massline_model::records::field::Target;
use massline_model::records::{
    FourWinds, OpinionChannel, PracticalThing, RecordKind, RectificationStatus, code_label,
    field_label,
};
use massline_model::{Coded, DocId, Lang, PersonId, Record, Role, VillageCode};
use serde::Deserialize;

use super::accounts::{self, LinkError, Session};
use super::chart::{self, Weekly};
use super::i18n::Words;
use super::ledger::{self, Cell, Column, Reading, Table, Value};
use super::session::{
    Ctx, LOGIN_COOKIE, LOGIN_COOKIE_AGE, SESSION_COOKIE, WebError, cookie, query_value,
};
use super::stats::{self, Counting, Figures, Period};
use super::{State, access, export};
use crate::{documents, registry};

/// What every page shows around its content.
#[derive(Clone, Debug)]
pub struct Chrome {
    /// The dashboard's words in the reader's language.
    pub t: Words,
    /// The page's title.
    pub title: String,
    /// The township's name.
    pub township: String,
    /// Who is logged in, and as what.
    pub user: Option<String>,
    /// The session's CSRF token, for the logout form.
    pub csrf: String,
    /// Links to the main pages: label and address.
    pub nav: Vec<(String, String)>,
    /// This page in the other language.
    pub switch_href: String,
}

impl Chrome {
    /// The chrome of a page at `path` for `session`.
    pub fn new(
        t: Words,
        title: String,
        township: String,
        session: Option<&Session>,
        path: &str,
    ) -> Chrome {
        let mut nav = Vec::new();
        if let Some(s) = session {
            match &s.who.village {
                None => nav.push((t.get("overview").to_string(), "/".to_string())),
                Some(v) => nav.push((t.get("village_page").to_string(), format!("/v/{v}"))),
            }
            if super::filings::may_act(s) {
                nav.push((t.get("filings").to_string(), "/filings".to_string()));
                nav.push((t.get("issue").to_string(), "/issue".to_string()));
                nav.push((t.get("bundles").to_string(), "/bundles".to_string()));
                nav.push((t.get("purged_log").to_string(), "/purged".to_string()));
            }
            for l in ledger::LEDGERS {
                nav.push((t.get(l.title).to_string(), format!("/ledgers/{}", l.name)));
            }
        }
        Chrome {
            t,
            title,
            township,
            user: session.map(|s| format!("{} · {}", s.name, s.who.role.label(t.0))),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            nav,
            switch_href: with_lang(
                path,
                match t.0 {
                    Lang::Zh => "en",
                    Lang::En => "zh",
                },
            ),
        }
    }
}

/// `path` (with its query) asking for the language `lang`.
fn with_lang(path: &str, lang: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        if k != "lang" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("lang", lang);
    format!("{p}?{}", query.finish())
}

/// A page with a heading and a line of text (errors).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The chrome.
    pub c: Chrome,
    /// The text.
    pub text: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    error: String,
    csrf: String,
    person: String,
    person_label: String,
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    c: Chrome,
    action: String,
    periods: Vec<(&'static str, String, bool)>,
    as_of: String,
    period_name: String,
    span_text: String,
    table: Table,
    ledger_links: Vec<(String, String)>,
    charts: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "village.html")]
struct VillagePage {
    c: Chrome,
    action: String,
    periods: Vec<(&'static str, String, bool)>,
    as_of: String,
    period_name: String,
    span_text: String,
    /// Each figure's heading and cell (the one row of the figures table).
    figures: Vec<(String, Cell)>,
    ledger_links: Vec<(String, String)>,
    charts: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    c: Chrome,
    heading: String,
    action: String,
    villages: Vec<(String, String, bool)>,
    periods: Vec<(&'static str, String, bool)>,
    statuses: Vec<(String, String, bool)>,
    as_of: String,
    table: Table,
    cut: bool,
    csv_href: String,
    xlsx_href: String,
    print_href: String,
    groups: Vec<ledger::Group>,
}

/// A ledger to print on A4: the township's and village's names, the
/// ledger's title and the day on top.
#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    c: Chrome,
    heading: String,
    title: String,
    date: String,
    period: String,
    table: Table,
    cut: bool,
}

pub(super) fn html(page: impl Template) -> Result<Response, WebError> {
    let body = page
        .render()
        .map_err(|e| WebError::Server(format!("page: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

/// The query of the overview and village pages, and of ledgers.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    period: Option<String>,
    village: Option<String>,
    status: Option<String>,
    format: Option<String>,
}

fn period_of(q: &PageQuery) -> Result<Period, WebError> {
    match q.period.as_deref() {
        None | Some("") => Ok(Period::default()),
        Some(p) => Period::from_code(p).ok_or_else(|| {
            WebError::BadRequest(format!("no period `{p}`: month, quarter or campaign"))
        }),
    }
}

fn periods(t: Words, chosen: Period) -> Vec<(&'static str, String, bool)> {
    Period::ALL
        .iter()
        .map(|p| (p.code(), t.get(p.word()).to_string(), *p == chosen))
        .collect()
}

pub(super) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn as_of() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M").to_string()
}

fn span_text(period: Period, today: NaiveDate) -> String {
    match period {
        Period::Campaign => format!("… – {today}"),
        p => {
            let s = p.span(today);
            format!("{} – {today}", s.from_day)
        }
    }
}

fn ledger_href(name: &str, village: &VillageCode, period: Period, status: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("village", village.as_str());
    q.append_pair("period", period.code());
    if let Some(s) = status {
        q.append_pair("status", s);
    }
    format!("/ledgers/{name}?{}", q.finish())
}

/// A column of the overview: its heading, its value for a village, and
/// the ledger (and filter) behind it.
struct FigureColumn {
    key: &'static str,
    label: fn(Words) -> String,
    value: fn(&Figures, NaiveDate, Lang) -> Value,
    ledger: Option<(&'static str, Option<&'static str>)>,
    /// Counted as things stand now, not by the period.
    current: bool,
    /// Whether the village's figure is shown highlighted.
    alert: fn(&Figures) -> bool,
}

fn word(key: &'static str) -> impl Fn(Words) -> String {
    move |t| t.get(key).to_string()
}

fn percent(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Empty
    } else {
        Value::Text(format!("{:.0}%", part as f64 * 100.0 / whole as f64))
    }
}

/// Every column of the overview, in order.
fn figure_columns() -> Vec<FigureColumn> {
    fn col(
        key: &'static str,
        label: fn(Words) -> String,
        value: fn(&Figures, NaiveDate, Lang) -> Value,
        ledger: Option<(&'static str, Option<&'static str>)>,
        current: bool,
    ) -> FigureColumn {
        FigureColumn {
            key,
            label,
            value,
            ledger,
            current,
            alert: |_| false,
        }
    }
    let study = Some(("study", None));
    let measures = |s| Some(("rectifications", Some(s)));
    let opinions = |s| Some(("opinions", s));
    vec![
        FigureColumn {
            key: "phase",
            label: |t| word("f_phase")(t),
            value: |f, _, lang| phase_value(f, lang),
            ledger: None,
            current: true,
            alert: |f| f.phase.is_behind(),
        },
        col(
            "members",
            |t| word("f_members")(t),
            |f, _, _| Value::Int(f.members),
            study,
            true,
        ),
        col(
            "mobile",
            |t| field_label("mobile", t.0).to_string(),
            |f, _, _| Value::Int(f.mobile),
            Some(("mobile", None)),
            true,
        ),
        col(
            "aged_60",
            |t| word("f_aged_60")(t),
            |f, _, _| Value::Int(f.aged_60),
            None,
            true,
        ),
        col(
            "studied",
            |t| word("f_studied")(t),
            |f, _, _| Value::Int(f.studied),
            Some(("study", Some("studied"))),
            false,
        ),
        col(
            "not_studied",
            |t| word("f_not_studied")(t),
            |f, _, _| Value::Int(f.members - f.studied),
            Some(("study", Some("not_studied"))),
            false,
        ),
        col(
            "avg_hours",
            |t| word("f_avg_hours")(t),
            |f, _, _| {
                if f.members == 0 {
                    Value::Empty
                } else {
                    Value::Num(f.member_minutes as f64 / 60.0 / f.members as f64)
                }
            },
            study,
            false,
        ),
        col(
            "sessions",
            |t| word("f_sessions")(t),
            |f, _, _| Value::Int(f.sessions),
            Some(("sessions", None)),
            false,
        ),
        col(
            "attendance",
            |t| word("f_attendance")(t),
            |f, _, _| percent(f.present, f.present + f.absent),
            None,
            false,
        ),
        col(
            "opinions",
            |t| word("f_opinions")(t),
            |f, _, _| Value::Int(f.opinions),
            opinions(None),
            false,
        ),
        col(
            "taken_up",
            |t| word("f_taken_up")(t),
            |f, _, _| Value::Int(f.taken_up),
            opinions(Some("taken_up")),
            false,
        ),
        col(
            "answered",
            |t| word("f_answered")(t),
            |f, _, _| Value::Int(f.answered),
            opinions(Some("answered")),
            false,
        ),
        col(
            "problems",
            |t| word("f_problems")(t),
            |f, _, _| Value::Int(f.problems_total()),
            Some(("problems", None)),
            true,
        ),
        col(
            "how_found",
            |t| field_label("how_found", t.0).to_string(),
            |f, _, lang| {
                Value::Text(
                    f.problems
                        .iter()
                        .map(|(how, n)| format!("{} {n}", how.label(lang)))
                        .collect::<Vec<_>>()
                        .join(" · "),
                )
            },
            None,
            true,
        ),
        col(
            "measures",
            |t| word("f_measures")(t),
            |f, _, _| Value::Int(f.measures),
            Some(("rectifications", None)),
            false,
        ),
        col(
            "done",
            |t| word("f_done")(t),
            |f, _, _| Value::Int(f.done),
            measures("done"),
            false,
        ),
        col(
            "accepted",
            |t| word("f_accepted")(t),
            |f, _, _| Value::Int(f.accepted),
            measures("accepted"),
            false,
        ),
        col(
            "overdue",
            |t| word("f_overdue")(t),
            |f, _, _| Value::Int(f.overdue),
            measures("overdue"),
            false,
        ),
        col(
            "unfiled",
            |t| word("f_unfiled")(t),
            |f, _, _| Value::Int(f.unfiled),
            measures("unfiled"),
            false,
        ),
        col(
            "practical",
            |t| word("f_practical")(t),
            |f, _, lang| {
                let warn =
                    PracticalThing::count_warning("", usize::try_from(f.practical).unwrap_or(0));
                match warn {
                    Some(_) => Value::Text(format!(
                        "{} ({})",
                        f.practical,
                        Words(lang).get("f_practical_range")
                    )),
                    None => Value::Int(f.practical),
                }
            },
            Some(("practical", None)),
            true,
        ),
        col(
            "practical_done",
            |t| word("f_practical_done")(t),
            |f, _, _| Value::Int(f.practical_done),
            Some(("practical", Some("done"))),
            true,
        ),
        col(
            "org_life",
            |t| word("f_org_life")(t),
            |f, _, _| Value::Int(f.org_life),
            Some(("org_life", None)),
            false,
        ),
        col(
            "notices",
            |t| word("f_notices")(t),
            |f, _, _| Value::Int(f.notices),
            Some(("notices", None)),
            false,
        ),
        col(
            "service_open",
            |t| word("f_service_open")(t),
            |f, _, _| Value::Int(f.service_open),
            Some(("services", Some("open"))),
            true,
        ),
        col(
            "service_age",
            |t| word("f_service_age")(t),
            |f, today, _| match f.service_oldest {
                Some(d) => Value::Int((today - d).num_days()),
                None => Value::Empty,
            },
            Some(("services", Some("open"))),
            true,
        ),
    ]
}

/// A village's phase in the campaign, and the phases it is behind the plan
/// in; nothing for the township's total.
fn phase_value(f: &Figures, lang: Lang) -> Value {
    let t = Words(lang);
    let now = f.phase.current.map(|p| p.label(lang));
    if f.phase.behind.is_empty() {
        return now.map_or(Value::Empty, |p| Value::Text(p.to_string()));
    }
    let behind: Vec<&str> = f.phase.behind.iter().map(|p| p.label(lang)).collect();
    Value::Text(format!(
        "{}（{}：{}）",
        now.unwrap_or(t.get("not_started")),
        t.get("behind_plan"),
        behind.join("、")
    ))
}

/// The overview's table: a row per village (linked to its page), each
/// figure linked to the ledger behind it, and the township's total.
fn figures_table(
    t: Words,
    villages: &[(VillageCode, String)],
    figures: &[Figures],
    period: Period,
    today: NaiveDate,
    with_total: bool,
) -> Table {
    let cols = figure_columns();
    let mut columns = vec![Column {
        label: t.get("village").to_string(),
        numeric: false,
    }];
    columns.extend(cols.iter().map(|c| Column {
        label: format!("{}{}", (c.label)(t), if c.current { " †" } else { "" }),
        numeric: true,
    }));
    let mut rows = Vec::new();
    let mut total = Figures::default();
    for ((code, name), f) in villages.iter().zip(figures) {
        total.add(f);
        let mut row = vec![
            Cell::text_of(name.clone())
                .link(format!("/v/{code}?period={}", period.code()))
                .with_id(format!("{code}-name")),
        ];
        for c in &cols {
            let mut cell = Cell::new((c.value)(f, today, t.0))
                .with_id(format!("{code}-{}", c.key))
                .alert_if((c.alert)(f));
            if let Some((ledger, status)) = c.ledger {
                // A figure of things as they stand counts them all, so its
                // ledger lists them over the whole campaign.
                let period = if c.current { Period::Campaign } else { period };
                cell = cell.link(ledger_href(ledger, code, period, status));
            }
            row.push(cell);
        }
        rows.push(row);
    }
    if with_total {
        let mut row = vec![Cell::text_of(t.get("total")).with_id("total-name".into())];
        for c in &cols {
            row.push(Cell::new((c.value)(&total, today, t.0)).with_id(format!("total-{}", c.key)));
        }
        rows.push(row);
    }
    Table { columns, rows }
}

/// Opinions per village by the codes of `C` as stacked bars, a part per code.
fn opinions_chart<C: Coded>(
    lang: Lang,
    villages: &[(VillageCode, String)],
    counts: &[(String, String, i64)],
) -> String {
    let parts: Vec<&str> = C::all().iter().map(|c| c.label(lang)).collect();
    let bars: Vec<(String, Vec<i64>)> = villages
        .iter()
        .map(|(code, name)| {
            let values = C::all()
                .iter()
                .map(|c| {
                    counts
                        .iter()
                        .filter(|(v, k, _)| v == code.as_str() && k == c.code())
                        .map(|(_, _, n)| n)
                        .sum()
                })
                .collect();
            (name.clone(), values)
        })
        .collect();
    chart::stacked_bars(&parts, &bars)
}

/// The charts of a set of villages.
fn charts(t: Words, counted: &Counted, today: NaiveDate) -> Vec<(String, String)> {
    let (villages, figures, per_day) = (&counted.villages, &counted.figures, &counted.per_day);
    let labels: Vec<(String, String)> = villages
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), n.clone()))
        .collect();
    let weekly = Weekly::from_days(&labels, per_day, today);
    let parts: Vec<&str> = [
        RectificationStatus::Planned,
        RectificationStatus::InProgress,
        RectificationStatus::Done,
        RectificationStatus::Accepted,
    ]
    .iter()
    .map(|s| s.label(t.0))
    .collect();
    let bars: Vec<(String, Vec<i64>)> = villages
        .iter()
        .zip(figures)
        .map(|((_, name), f)| {
            (
                name.clone(),
                vec![f.planned, f.in_progress, f.done - f.accepted, f.accepted],
            )
        })
        .collect();
    vec![
        (
            t.get("chart_study_weeks").to_string(),
            chart::heatmap(&weekly, t.get("week_of")),
        ),
        (
            t.get("chart_measures").to_string(),
            chart::stacked_bars(&parts, &bars),
        ),
        (
            t.get("chart_channels").to_string(),
            opinions_chart::<OpinionChannel>(t.0, villages, &counted.by_channel),
        ),
        (
            t.get("chart_four_winds").to_string(),
            opinions_chart::<FourWinds>(t.0, villages, &counted.by_winds),
        ),
    ]
}

/// Everything a page of figures reads, in one read transaction.
struct Counted {
    township: String,
    villages: Vec<(VillageCode, String)>,
    figures: Vec<Figures>,
    per_day: Vec<(String, NaiveDate, i64)>,
    by_channel: Vec<(String, String, i64)>,
    by_winds: Vec<(String, String, i64)>,
}

async fn count(
    web: &State,
    who: &Session,
    only: Option<VillageCode>,
    period: Period,
    today: NaiveDate,
) -> Result<Counted, WebError> {
    let who = who.who.clone();
    Ok(web
        .blocking(move |db| {
            db.read(|tx| {
                let mut villages = access::visible_villages(tx, &who)?;
                if let Some(v) = &only {
                    villages.retain(|(c, _)| c == v);
                }
                let codes: Vec<VillageCode> = villages.iter().map(|(c, _)| c.clone()).collect();
                let span = period.span(today);
                let c = Counting {
                    villages: &codes,
                    span: &span,
                    today,
                };
                Ok(Counted {
                    township: registry::township(tx)?,
                    figures: stats::figures(tx, &c)?,
                    per_day: stats::study_by_day(tx, &c)?,
                    by_channel: stats::opinions_by_code(tx, &c, "channel")?,
                    by_winds: stats::opinions_by_code(tx, &c, "four_winds")?,
                    villages,
                })
            })
        })
        .await?)
}

fn ledger_links(t: Words, village: Option<&VillageCode>, period: Period) -> Vec<(String, String)> {
    ledger::LEDGERS
        .iter()
        .map(|l| {
            let href = match village {
                Some(v) => ledger_href(l.name, v, period, None),
                None => format!("/ledgers/{}?period={}", l.name, period.code()),
            };
            (t.get(l.title).to_string(), href)
        })
        .collect()
}

/// `GET /`: the township overview; a village's cadres go to their village.
pub async fn overview(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let s = ctx.viewer()?;
    let period = period_of(&q)?;
    if let Some(v) = &s.who.village {
        return Ok(Redirect::to(&format!("/v/{v}?period={}", period.code())).into_response());
    }
    let t = ctx.words();
    let today = today();
    let counted = count(&web, s, None, period, today).await?;
    html(OverviewPage {
        c: Chrome::new(
            t,
            t.get("overview").into(),
            counted.township.clone(),
            Some(s),
            &ctx.path,
        ),
        action: "/".into(),
        periods: periods(t, period),
        as_of: as_of(),
        period_name: t.get(period.word()).into(),
        span_text: span_text(period, today),
        table: figures_table(t, &counted.villages, &counted.figures, period, today, true),
        ledger_links: ledger_links(t, None, period),
        charts: charts(t, &counted, today),
    })
}

/// The village a path names, if `s` may see it: refused before looking it
/// up, so a refusal tells nothing of which villages exist.
fn seen_village(s: &Session, code: &str) -> Result<VillageCode, WebError> {
    let v = VillageCode::new(code).map_err(|_| WebError::NotFound)?;
    if !access::may_see(&s.who, &v) {
        return Err(WebError::Forbidden);
    }
    Ok(v)
}

/// `GET /v/{village}`: one village's figures and charts.
pub async fn village(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let s = ctx.viewer()?;
    let v = seen_village(s, &code)?;
    let period = period_of(&q)?;
    let t = ctx.words();
    let today = today();
    let counted = count(&web, s, Some(v.clone()), period, today).await?;
    let Some((_, name)) = counted.villages.first() else {
        return Err(WebError::NotFound);
    };
    html(VillagePage {
        c: Chrome::new(
            t,
            name.clone(),
            counted.township.clone(),
            Some(s),
            &ctx.path,
        ),
        action: format!("/v/{v}"),
        periods: periods(t, period),
        as_of: as_of(),
        period_name: t.get(period.word()).into(),
        span_text: span_text(period, today),
        figures: {
            let table = figures_table(t, &counted.villages, &counted.figures, period, today, false);
            let row = table.rows.into_iter().next().unwrap_or_default();
            table
                .columns
                .into_iter()
                .map(|c| c.label)
                .zip(row)
                .collect()
        },
        ledger_links: ledger_links(t, Some(&v), period),
        charts: charts(t, &counted, today),
    })
}

/// `GET /ledgers/{name}`: a ledger as a page, or (`format=csv`, `xlsx`) a file.
pub async fn ledger_page(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let s = ctx.viewer()?;
    let def = ledger::find(&name).ok_or(WebError::NotFound)?;
    let t = ctx.words();
    let period = period_of(&q)?;
    let only = match q.village.as_deref() {
        None | Some("") => s.who.village.clone(),
        Some(code) => Some(seen_village(s, code)?),
    };
    let statuses = def.statuses(t.0);
    let status = match q.status.as_deref() {
        None | Some("") => def.filter_of(None).map(|f| f.code),
        Some(code) => Some(
            def.filter_of(Some(code))
                .ok_or_else(|| {
                    WebError::BadRequest(format!("ledger {name} has no filter `{code}`"))
                })?
                .code,
        ),
    };
    let format = q.format.as_deref().unwrap_or("html");
    if !matches!(format, "html" | "csv" | "xlsx" | "print") {
        return Err(WebError::BadRequest(format!(
            "no format `{format}`: html, csv, xlsx or print"
        )));
    }
    let today = today();
    let who = s.who.clone();
    let lang = t.0;
    let village = only.clone();
    let wants_groups = format == "html";
    let (township, visible, table, cut, groups) = web
        .blocking(move |db| {
            db.read(|tx| {
                let visible = access::visible_villages(tx, &who)?;
                let codes: Vec<VillageCode> = visible
                    .iter()
                    .map(|(c, _)| c.clone())
                    .filter(|c| village.as_ref().is_none_or(|v| v == c))
                    .collect();
                let span = period.span(today);
                let c = Counting {
                    villages: &codes,
                    span: &span,
                    today,
                };
                let reading = Reading {
                    lang,
                    today,
                    names: &visible,
                };
                let (table, cut) = ledger::fetch(tx, def, &c, status, &reading)?;
                let groups = if wants_groups {
                    ledger::groups(tx, def, &c, status, lang)?
                } else {
                    Vec::new()
                };
                Ok((registry::township(tx)?, visible, table, cut, groups))
            })
        })
        .await?;
    if let Some(v) = &only
        && !visible.iter().any(|(c, _)| c == v)
    {
        return Err(WebError::NotFound);
    }
    let village_name = only
        .as_ref()
        .and_then(|v| visible.iter().find(|(c, _)| c == v))
        .map_or_else(|| t.get("all_villages").to_string(), |(_, n)| n.clone());
    let title = t.get(def.title).to_string();
    if format == "print" {
        return html(PrintPage {
            c: Chrome::new(
                t,
                format!("{title} · {village_name}"),
                township.clone(),
                Some(s),
                &ctx.path,
            ),
            heading: format!("{township} {village_name}"),
            title,
            date: today.to_string(),
            period: format!("{} {}", t.get(period.word()), span_text(period, today)),
            table,
            cut,
        });
    }
    if format != "html" {
        let stem = format!(
            "{}-{}-{}-{today}",
            def.name,
            only.as_ref().map_or("all", |v| v.as_str()),
            period.code()
        );
        let (bytes, kind) = if format == "csv" {
            (export::csv(&table)?, "text/csv; charset=utf-8")
        } else {
            (
                export::xlsx(&table, &title)?,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        };
        let nice: String = form_urlencoded::byte_serialize(
            format!("{title}-{village_name}-{today}.{format}").as_bytes(),
        )
        .collect();
        let disposition =
            format!("attachment; filename=\"{stem}.{format}\"; filename*=UTF-8''{nice}");
        let mut res = (StatusCode::OK, bytes).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    let base = |format: &str| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &only {
            query.append_pair("village", v.as_str());
        }
        query.append_pair("period", period.code());
        if let Some(st) = status {
            query.append_pair("status", st);
        }
        query.append_pair("format", format);
        format!("/ledgers/{}?{}", def.name, query.finish())
    };
    let mut villages: Vec<(String, String, bool)> = Vec::new();
    if s.who.role == Role::TownshipOfficer {
        villages.push((String::new(), t.get("all_villages").into(), only.is_none()));
    }
    villages.extend(
        visible
            .iter()
            .map(|(c, n)| (c.as_str().to_string(), n.clone(), only.as_ref() == Some(c))),
    );
    let mut status_options = Vec::new();
    if def.default_filter.is_none() {
        status_options.push((String::new(), t.get("all").to_string(), status.is_none()));
    }
    status_options.extend(
        statuses
            .into_iter()
            .map(|(c, l)| (c.to_string(), l, Some(c) == status)),
    );
    html(LedgerPage {
        c: Chrome::new(
            t,
            format!("{title} · {village_name}"),
            township.clone(),
            Some(s),
            &ctx.path,
        ),
        heading: format!("{township} {village_name} {title}"),
        action: format!("/ledgers/{}", def.name),
        villages,
        periods: periods(t, period),
        statuses: status_options,
        as_of: as_of(),
        table,
        cut,
        csv_href: base("csv"),
        xlsx_href: base("xlsx"),
        print_href: base("print"),
        groups,
    })
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    c: Chrome,
    id: String,
    village: String,
    withdrawn: Option<String>,
    /// Its fields: label and value.
    table: Table,
    /// Its changes: when, by whom, which fields.
    history: Table,
    /// Whether the viewer is offered the purge form.
    purgeable: bool,
    max_reason: usize,
}

/// A field's value as shown: codes by their labels, lists joined, and
/// nested values (a note, a step's day) as written.
fn shown(kind: RecordKind, field: &str, v: &serde_json::Value, lang: Lang) -> String {
    shown_joined(kind, field, v, lang, "、")
}

/// A field's value as [`shown`], its list's items joined by `items` (a line
/// each, on paper).
fn shown_joined(
    kind: RecordKind,
    field: &str,
    v: &serde_json::Value,
    lang: Lang,
    items: &str,
) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => String::new(),
        J::String(s) => code_label(kind, field, s, lang).map_or_else(|| s.clone(), str::to_string),
        J::Bool(b) => if *b { "✓" } else { "" }.to_string(),
        J::Number(n) => n.to_string(),
        J::Array(list) => list
            .iter()
            .map(|i| shown(kind, field, i, lang))
            .collect::<Vec<_>>()
            .join(items),
        J::Object(map) => map
            .iter()
            .map(|(k, x)| {
                let k = code_label(kind, field, k, lang).unwrap_or(k);
                format!("{k}: {}", shown(kind, field, x, lang))
            })
            .collect::<Vec<_>>()
            .join("；"),
    }
}

/// The people a record's fields name (a person or a list of people):
/// field and id.
fn person_fields(record: &Record) -> impl Iterator<Item = (&'static str, String)> {
    let fields = record.fields();
    record
        .kind()
        .spec()
        .fields
        .iter()
        .filter(|f| f.refs == Some(Target::Person))
        .flat_map(move |f| {
            let ids: Vec<String> = match fields.get(f.name) {
                Some(serde_json::Value::String(id)) => vec![id.clone()],
                Some(serde_json::Value::Array(list)) => list
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            ids.into_iter().map(move |id| (f.name, id))
        })
}

/// A person field's value with each id replaced by the person's name, if known.
fn named_people(
    v: &serde_json::Value,
    names: &std::collections::BTreeMap<PersonId, String>,
) -> serde_json::Value {
    let name = |id: &str| {
        PersonId::new(id)
            .ok()
            .and_then(|p| names.get(&p).cloned())
            .unwrap_or_else(|| id.to_string())
    };
    match v {
        serde_json::Value::String(id) => name(id).into(),
        serde_json::Value::Array(list) => list
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.clone(), |id| name(id).into()))
            .collect(),
        other => other.clone(),
    }
}

/// The query of a record's page: `format=print` for its A4 form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecordQuery {
    format: Option<String>,
}

/// A record on A4, as the village hands or posts it: a problem is its
/// control-inspection table (对照检查表), a service request the one-time
/// checklist given to the villager (一次性告知单).
#[derive(Template)]
#[template(path = "record_print.html")]
struct RecordPrint {
    c: Chrome,
    heading: String,
    title: String,
    date: String,
    table: Table,
}

/// `GET /r/{id}`: one record's fields and its history; with `format=print`,
/// its fields on an A4 page. It loads the one document it shows; who may not
/// read the record's scope (by the sync's rules) is told it does not exist.
pub async fn record(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Path(hex): Path<String>,
    Query(q): Query<RecordQuery>,
) -> Result<Response, WebError> {
    let print = match q.format.as_deref() {
        None | Some("" | "html") => false,
        Some("print") => true,
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "no format `{other}`: html or print"
            )));
        }
    };
    let s = ctx.viewer()?;
    let id = DocId::parse_hex(&hex).ok_or(WebError::NotFound)?;
    let t = ctx.words();
    let who = s.who.clone();
    let found = web
        .blocking(move |db| {
            db.read(|tx| {
                let Some(stored) = documents::lookup(tx, &id)? else {
                    return Ok(None);
                };
                // A township record is shown to whoever reads it, under the
                // township's name.
                let village = stored.scope.village().cloned();
                if !who.can_read(&stored.scope)
                    || village.as_ref().is_some_and(|v| !access::may_see(&who, v))
                {
                    return Ok(None);
                }
                let Some(current) = documents::current(tx, &id)? else {
                    return Ok(None);
                };
                let history = record_doc::history(&documents::load(&id, &current.state)?);
                // The names of its authors and of the people its fields name.
                let named = person_fields(&stored.record)
                    .filter_map(|(_, v)| PersonId::new(v).ok())
                    .collect::<Vec<_>>();
                let mut names = std::collections::BTreeMap::new();
                for p in history.iter().filter_map(|h| h.by.as_ref()).chain(&named) {
                    if !names.contains_key(p)
                        && let Some(person) = registry::person(tx, p)?
                    {
                        names.insert(p.clone(), person.name);
                    }
                }
                let village_name = match &village {
                    Some(village) => registry::villages(tx)?
                        .into_iter()
                        .find(|(v, _)| v == village)
                        .map_or_else(|| village.to_string(), |(_, n)| n),
                    None => registry::township(tx)?,
                };
                Ok(Some((
                    stored,
                    village_name,
                    history,
                    names,
                    registry::township(tx)?,
                )))
            })
        })
        .await?;
    let Some((stored, village, history, names, township)) = found else {
        return super::purge::purged_record(&web, &ctx, id).await;
    };
    let kind = stored.record.kind();
    let lang = t.0;
    let fields = stored.record.fields();
    let text = |label: String| Column {
        label,
        numeric: false,
    };
    let mut table = Table {
        columns: vec![text(t.get("kind").into()), text(kind.label(lang).into())],
        rows: Vec::new(),
    };
    let items = if print { "\n" } else { "、" };
    for spec in kind.spec().fields {
        let value = fields
            .get(spec.name)
            .map(|v| {
                if spec.refs == Some(Target::Person) {
                    named_people(v, &names)
                } else {
                    v.clone()
                }
            })
            .map(|v| shown_joined(kind, spec.name, &v, lang, items))
            .unwrap_or_default();
        table.rows.push(vec![
            Cell::text_of(spec.label(lang)),
            Cell::text_of(value).with_id(format!("field-{}", spec.name)),
        ]);
    }
    if print {
        let title = match kind {
            RecordKind::Problem => t.get("print_problem").to_string(),
            RecordKind::ServiceRequest => t.get("print_service_request").to_string(),
            _ => kind.label(lang).to_string(),
        };
        return html(RecordPrint {
            c: Chrome::new(t, title.clone(), township.clone(), Some(s), &ctx.path),
            heading: format!("{township} {village}"),
            title,
            date: today().to_string(),
            table,
        });
    }
    let label_of = |f: &str| {
        kind.spec().field(f).map_or_else(
            || field_label(f, lang).to_string(),
            |s| s.label(lang).to_string(),
        )
    };
    let history = Table {
        columns: vec![
            text(t.get("h_when").into()),
            text(t.get("h_who").into()),
            text(t.get("h_what").into()),
        ],
        rows: history
            .iter()
            .map(|h| {
                let when = chrono::DateTime::from_timestamp(h.time, 0)
                    .map(|d| {
                        d.with_timezone(&chrono::Local)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default();
                let who = h.by.as_ref().map_or_else(String::new, |p| {
                    names
                        .get(p)
                        .map_or_else(|| p.to_string(), |n| format!("{n} ({p})"))
                });
                let what = if h.fields.is_empty() {
                    t.get("h_created").to_string()
                } else {
                    h.fields
                        .iter()
                        .map(|f| label_of(f))
                        .collect::<Vec<_>>()
                        .join("、")
                };
                vec![Cell::text_of(when), Cell::text_of(who), Cell::text_of(what)]
            })
            .collect(),
    };
    html(RecordPage {
        c: Chrome::new(
            t,
            format!("{} · {}", kind.label(lang), t.get("record_title")),
            township,
            Some(s),
            &ctx.path,
        ),
        id: id.to_hex(),
        village,
        withdrawn: stored
            .withdrawn
            .as_ref()
            .map(|_| field_label("withdrawn", lang).to_string()),
        table,
        history,
        purgeable: super::purge::offered(s, kind),
        max_reason: crate::purge::MAX_REASON_BYTES,
    })
}

/// The login form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    person: String,
    password: String,
    secret: String,
}

fn login_page(
    ctx: &Ctx,
    error: String,
    person: String,
    link: Option<String>,
) -> Result<Response, WebError> {
    let t = ctx.words();
    let token = ctx.login_token.clone().unwrap_or_else(base64_token);
    let title = if link.is_some() {
        t.get("login_link_title")
    } else {
        t.get("login_title")
    };
    let mut res = html(LoginPage {
        c: Chrome::new(t, title.into(), String::new(), None, &ctx.path),
        error,
        csrf: token.clone(),
        person,
        person_label: field_label("person", t.0).into(),
        link,
    })?;
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie(LOGIN_COOKIE, Some(&token), LOGIN_COOKIE_AGE),
    );
    Ok(res)
}

fn base64_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// `GET /login`.
pub async fn login_form(ctx: Ctx) -> Result<Response, WebError> {
    if ctx.session.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let person =
        query_value(ctx.path.split_once('?').map(|(_, q)| q), "person").unwrap_or_default();
    login_page(&ctx, String::new(), person, None)
}

/// The response that starts a session: its cookie, the login cookie ended,
/// and on to the start page.
fn logged_in(web: &State, session: &accounts::NewSession) -> Response {
    let mut res = Redirect::to("/").into_response();
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie(
            SESSION_COOKIE,
            Some(&session.token),
            web.options.session_lifetime,
        ),
    );
    h.append(
        header::SET_COOKIE,
        cookie(LOGIN_COOKIE, None, Duration::ZERO),
    );
    res
}

/// Refuses an address or a person over its failed logins.
fn check_attempts(web: &State, ctx: &Ctx, person: Option<&str>) -> Result<(), WebError> {
    if let Some(ip) = ctx.addr {
        web.address_failures.check(ip).map_err(WebError::TooMany)?;
    }
    if let Some(p) = person {
        web.person_failures
            .check(&p.to_string())
            .map_err(WebError::TooMany)?;
    }
    Ok(())
}

fn charge_failure(web: &State, ctx: &Ctx, person: Option<&str>) {
    if let Some(ip) = ctx.addr {
        web.address_failures.charge(ip);
    }
    if let Some(p) = person {
        web.person_failures.charge(p.to_string());
    }
}

/// `POST /login`: a person's id and password.
pub async fn login(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let key: String = form
        .person
        .trim()
        .chars()
        .take(64)
        .collect::<String>()
        .to_lowercase();
    check_attempts(&web, &ctx, Some(&key))?;
    let id = PersonId::new(form.person.trim()).ok();
    let stored = match &id {
        Some(id) => {
            let id = id.clone();
            web.blocking(move |db| db.read(|tx| accounts::password_of(tx, &id)))
                .await?
        }
        None => None,
    };
    let matched = {
        // Hashing is slow and large on purpose: a few at a time.
        let _turn = web
            .password_checks
            .acquire()
            .await
            .map_err(|e| WebError::Server(e.to_string()))?;
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| accounts::dummy_hash().to_string());
        let password = form.password;
        // Checked even for nobody, so an unknown id takes as long as a wrong password.
        tokio::task::spawn_blocking(move || accounts::verify_password(&stored, &password) && known)
            .await
            .map_err(|e| WebError::Server(e.to_string()))?
    };
    let (true, Some(id)) = (matched, id) else {
        charge_failure(&web, &ctx, Some(&key));
        let mut res = login_page(
            &ctx,
            ctx.words().get("login_failed").into(),
            form.person,
            None,
        )?;
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(res);
    };
    let lifetime = web.options.session_lifetime;
    let session = web
        .blocking(move |db| db.write(|tx| accounts::open_session(tx, &id, lifetime)))
        .await?;
    Ok(logged_in(&web, &session))
}

fn link_refused(web: &State, ctx: &Ctx, e: LinkError) -> WebError {
    match e {
        LinkError::Storage(e) => e.into(),
        e => {
            charge_failure(web, ctx, None);
            WebError::Gone(e.to_string())
        }
    }
}

/// `GET /login/link/{secret}`: the page of a one-time login link, which
/// logs in only when its button is pressed (so a link previewed by a chat
/// program is not used up).
pub async fn login_link_form(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> Result<Response, WebError> {
    check_attempts(&web, &ctx, None)?;
    let s = secret.clone();
    let checked = web
        .blocking(move |db| db.read(|tx| Ok::<_, crate::Error>(accounts::check_login_link(tx, &s))))
        .await?;
    match checked {
        Ok(_) => login_page(&ctx, String::new(), String::new(), Some(secret)),
        Err(e) => Err(link_refused(&web, &ctx, e)),
    }
}

/// `POST /login/link`: uses up a login link and logs in.
pub async fn login_link(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_attempts(&web, &ctx, None)?;
    let lifetime = web.options.session_lifetime;
    let secret = form.secret;
    let used = web
        .blocking(move |db| {
            db.write(|tx| match accounts::use_login_link(tx, &secret, lifetime) {
                // Nothing is kept of a link that failed for the database.
                Err(LinkError::Storage(e)) => Err(e),
                answer => Ok(answer),
            })
        })
        .await?;
    match used {
        Ok(session) => Ok(logged_in(&web, &session)),
        Err(e) => Err(link_refused(&web, &ctx, e)),
    }
}

/// `POST /logout`: ends the session.
pub async fn logout(
    axum::extract::State(web): axum::extract::State<State>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    if let Some(token) = ctx.token.clone() {
        web.blocking(move |db| db.write(|tx| accounts::end_session(tx, &token)))
            .await?;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, None, Duration::ZERO),
    );
    Ok(res)
}

/// Any other address.
pub async fn not_found() -> WebError {
    WebError::NotFound
}
