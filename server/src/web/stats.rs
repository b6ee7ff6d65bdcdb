//! The overview's figures: SQL over the typed rows (`crate::rows`), one
//! query per group of figures for all the villages shown at once, each
//! reaching its table through the table's village index. No document is
//! loaded.
//!
//! What each figure counts is written once, here ([`measure_filter`],
//! [`PER_MEMBER_STUDY`]), and the ledgers behind the figures use the same
//! words, so a figure and the rows of its ledger always agree.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use massline_model::records::{
    AppraisalGrade, CampaignPhase, CampaignPlan, HowFound, OpinionStatus, PhaseStanding,
    RecordKind, RectificationStatus, ServiceStatus, StudyMode, ThingStatus,
};
use massline_model::{Coded, VillageCode};
use rusqlite::types::Value;
use rusqlite::{Statement, Transaction};

use crate::error::Error;

/// The period the dashboard counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Period {
    /// The current calendar month.
    #[default]
    Month,
    /// The current calendar quarter.
    Quarter,
    /// Everything recorded so far.
    Campaign,
}

impl Period {
    /// Every period, in the order offered.
    pub const ALL: [Period; 3] = [Period::Month, Period::Quarter, Period::Campaign];

    /// Its code in links.
    pub fn code(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Campaign => "campaign",
        }
    }

    /// The period with this code.
    pub fn from_code(code: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.code() == code)
    }

    /// The key of its name in [`super::i18n`].
    pub fn word(self) -> &'static str {
        match self {
            Period::Month => "period_month",
            Period::Quarter => "period_quarter",
            Period::Campaign => "period_campaign",
        }
    }

    /// The months and days it covers as of `today`.
    pub fn span(self, today: NaiveDate) -> Span {
        let (y, m) = (today.year(), today.month());
        let first = match self {
            Period::Month => Some((y, m)),
            Period::Quarter => Some((y, (m - 1) / 3 * 3 + 1)),
            Period::Campaign => None,
        };
        match first {
            Some((fy, fm)) => Span {
                from_month: format!("{fy:04}-{fm:02}"),
                to_month: format!("{y:04}-{m:02}"),
                from_day: format!("{fy:04}-{fm:02}-01"),
                to_day: format!("{y:04}-{m:02}-31"),
            },
            None => Span {
                from_month: "0000-00".into(),
                to_month: "9999-99".into(),
                from_day: "0000-00-00".into(),
                to_day: "9999-99-99".into(),
            },
        }
    }
}

/// A period as the typed rows' columns compare it: months `YYYY-MM` and days
/// `YYYY-MM-DD`, both ends included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// First month.
    pub from_month: String,
    /// Last month.
    pub to_month: String,
    /// First day.
    pub from_day: String,
    /// Last day (the 31st of its month: days compare as text).
    pub to_day: String,
}

/// What a query counts: which villages, which period, as of which day.
#[derive(Clone, Debug)]
pub struct Counting<'a> {
    /// The villages shown.
    pub villages: &'a [VillageCode],
    /// The period.
    pub span: &'a Span,
    /// Today, for what is overdue and how old.
    pub today: NaiveDate,
}

impl Counting<'_> {
    /// Every named parameter the dashboard's queries use, with its value;
    /// codes come from the model's enumerations.
    fn parameters(&self) -> Vec<(&'static str, Value)> {
        let text = |s: &str| Value::Text(s.to_string());
        let villages =
            serde_json::to_string(&self.villages.iter().map(|v| v.as_str()).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into());
        let mut out = vec![
            (":villages", Value::Text(villages)),
            (":from_month", text(&self.span.from_month)),
            (":to_month", text(&self.span.to_month)),
            (":from_day", text(&self.span.from_day)),
            (":to_day", text(&self.span.to_day)),
            (
                ":today",
                Value::Text(self.today.format("%Y-%m-%d").to_string()),
            ),
            (
                ":old_born",
                Value::Integer(i64::from(self.today.year() - 60)),
            ),
            (":entry_kind", text(RecordKind::StudyEntry.code())),
            (":session_kind", text(RecordKind::StudySession.code())),
            (":centralized", text(StudyMode::Centralized.code())),
            (":planned", text(RectificationStatus::Planned.code())),
            (":in_progress", text(RectificationStatus::InProgress.code())),
            (":done", text(RectificationStatus::Done.code())),
            (":accepted", text(RectificationStatus::Accepted.code())),
            (":received", text(OpinionStatus::Received.code())),
            (":thing_done", text(ThingStatus::Done.code())),
            (":service_done", text(ServiceStatus::Done.code())),
            (":service_declined", text(ServiceStatus::Declined.code())),
        ];
        out.extend(AppraisalGrade::all().iter().map(|g| {
            (
                match g {
                    AppraisalGrade::Excellent => ":grade_excellent",
                    AppraisalGrade::Qualified => ":grade_qualified",
                    AppraisalGrade::BasicallyQualified => ":grade_basically_qualified",
                    AppraisalGrade::Unqualified => ":grade_unqualified",
                },
                text(g.code()),
            )
        }));
        out
    }

    /// Binds the parameters `stmt` names (and only those), plus `extra`.
    pub(super) fn bind(
        &self,
        stmt: &mut Statement<'_>,
        extra: &[(&str, Value)],
    ) -> Result<(), Error> {
        for (name, value) in self.parameters().iter().chain(extra) {
            if let Some(i) = stmt.parameter_index(name)? {
                stmt.raw_bind_parameter(i, value)?;
            }
        }
        Ok(())
    }
}

/// The villages of a query: every table is reached through its village index.
macro_rules! villages_in {
    ($col:literal) => {
        concat!($col, " IN (SELECT value FROM json_each(:villages))")
    };
}
pub(super) use villages_in;

/// Study credited to each person in the period, per village: minutes,
/// own entries, sessions attended, last day. A member "studied" when they
/// have a row here. (A macro, so the ledgers' SQL can be made of it at
/// compile time.)
macro_rules! per_member_study {
    () => {
        concat!(
            "SELECT village, person, sum(minutes) AS minutes,
                    sum(CASE WHEN mode = :centralized THEN minutes ELSE 0 END) AS centralized,
                    sum(kind = :entry_kind) AS entries, sum(kind = :session_kind) AS sessions,
                    max(date) AS last
             FROM study_credits
             WHERE ",
            villages_in!("village"),
            " AND month BETWEEN :from_month AND :to_month AND withdrawn = 0
             GROUP BY village, person"
        )
    };
}
pub(super) use per_member_study;

/// Opinions taken up: any status past received.
pub(super) const OPINION_TAKEN_UP: &str = "status <> :received";

/// Opinions answered to the masses.
pub(super) const OPINION_ANSWERED: &str = "answered = 1";

/// Service requests still open: neither done nor declined.
pub(super) const SERVICE_OPEN: &str = "status NOT IN (:service_done, :service_declined)";

/// A filter of rectification measures, as the overview counts them and the
/// ledger lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasureFilter {
    /// At this step now.
    At(RectificationStatus),
    /// Done, or further (accepted by the masses).
    Done,
    /// Not done by its deadline.
    Overdue,
    /// Not yet filed with the township.
    Unfiled,
}

impl MeasureFilter {
    /// Every filter, in the order offered.
    pub fn all() -> Vec<MeasureFilter> {
        let mut out: Vec<_> = [
            RectificationStatus::Planned,
            RectificationStatus::InProgress,
        ]
        .into_iter()
        .map(MeasureFilter::At)
        .collect();
        out.extend([
            MeasureFilter::Done,
            MeasureFilter::At(RectificationStatus::Accepted),
            MeasureFilter::Overdue,
            MeasureFilter::Unfiled,
        ]);
        out
    }

    /// Its code in links: a step's code, or `done`, `overdue`, `unfiled`.
    pub fn code(self) -> &'static str {
        match self {
            MeasureFilter::At(s) => s.code(),
            MeasureFilter::Done => "done",
            MeasureFilter::Overdue => "overdue",
            MeasureFilter::Unfiled => "unfiled",
        }
    }

    /// The filter with this code.
    pub fn from_code(code: &str) -> Option<MeasureFilter> {
        MeasureFilter::all().into_iter().find(|f| f.code() == code)
    }
}

/// The SQL condition of a measure filter on the `rectifications` table.
pub const fn measure_filter(f: MeasureFilter) -> &'static str {
    match f {
        MeasureFilter::At(RectificationStatus::Planned) => "status = :planned",
        MeasureFilter::At(RectificationStatus::InProgress) => "status = :in_progress",
        MeasureFilter::At(RectificationStatus::Done) => "status = :done",
        MeasureFilter::At(RectificationStatus::Accepted) => "status = :accepted",
        MeasureFilter::Done => "status IN (:done, :accepted)",
        MeasureFilter::Overdue => "(status IN (:planned, :in_progress) AND deadline < :today)",
        MeasureFilter::Unfiled => "filed_on IS NULL",
    }
}

/// The measures a period counts: those planned in it.
pub(super) const MEASURES_IN_PERIOD: &str = "planned_on BETWEEN :from_day AND :to_day";

/// One village's figures for a period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Party members on file (not by period).
    pub members: i64,
    /// Of them mobile members.
    pub mobile: i64,
    /// Of them aged 60 or more this year.
    pub aged_60: i64,
    /// Members with study credited in the period.
    pub studied: i64,
    /// Minutes of study credited to members in the period.
    pub member_minutes: i64,
    /// Study sessions held in the period.
    pub sessions: i64,
    /// Attendees marked present at them.
    pub present: i64,
    /// Attendees marked absent.
    pub absent: i64,
    /// Opinions heard in the period.
    pub opinions: i64,
    /// Of them taken up (any status past received).
    pub taken_up: i64,
    /// Of them answered to the masses.
    pub answered: i64,
    /// Problems on the list, by how found (not by period: problems have no day).
    pub problems: BTreeMap<HowFound, i64>,
    /// Measures planned in the period.
    pub measures: i64,
    /// Of them planned only.
    pub planned: i64,
    /// In progress.
    pub in_progress: i64,
    /// Done or accepted.
    pub done: i64,
    /// Accepted by the masses.
    pub accepted: i64,
    /// Overdue.
    pub overdue: i64,
    /// Not yet filed with the township.
    pub unfiled: i64,
    /// Practical things promised (not by period).
    pub practical: i64,
    /// Of them done.
    pub practical_done: i64,
    /// Organizational-life meetings held in the period.
    pub org_life: i64,
    /// Notices published in the period.
    pub notices: i64,
    /// Service requests not closed (not by period).
    pub service_open: i64,
    /// The day the oldest open one was applied for.
    pub service_oldest: Option<NaiveDate>,
    /// Where the village stands in the campaign today (not by period; none
    /// for the township's total).
    pub phase: PhaseStanding,
}

impl Figures {
    /// Problems of every kind.
    pub fn problems_total(&self) -> i64 {
        self.problems.values().sum()
    }

    /// Adds another village's figures (for the township's total).
    pub fn add(&mut self, o: &Figures) {
        self.members += o.members;
        self.mobile += o.mobile;
        self.aged_60 += o.aged_60;
        self.studied += o.studied;
        self.member_minutes += o.member_minutes;
        self.sessions += o.sessions;
        self.present += o.present;
        self.absent += o.absent;
        self.opinions += o.opinions;
        self.taken_up += o.taken_up;
        self.answered += o.answered;
        for (k, n) in &o.problems {
            *self.problems.entry(*k).or_default() += n;
        }
        self.measures += o.measures;
        self.planned += o.planned;
        self.in_progress += o.in_progress;
        self.done += o.done;
        self.accepted += o.accepted;
        self.overdue += o.overdue;
        self.unfiled += o.unfiled;
        self.practical += o.practical;
        self.practical_done += o.practical_done;
        self.org_life += o.org_life;
        self.notices += o.notices;
        self.service_open += o.service_open;
        self.service_oldest = match (self.service_oldest, o.service_oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

type Reader = fn(&rusqlite::Row<'_>, &mut Figures) -> rusqlite::Result<()>;

/// A query of the overview: its name, its SQL (first column the village),
/// and how a row of it fills a village's figures.
pub struct FigureQuery {
    /// What it counts.
    pub name: &'static str,
    /// The SQL.
    pub sql: String,
    read: Reader,
}

impl std::fmt::Debug for FigureQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FigureQuery")
            .field("name", &self.name)
            .finish()
    }
}

fn q(name: &'static str, sql: String, read: Reader) -> FigureQuery {
    FigureQuery { name, sql, read }
}

/// Every query of the overview.
pub fn overview_queries() -> Vec<FigureQuery> {
    use MeasureFilter as M;
    use RectificationStatus as S;
    let measure = |f| measure_filter(f);
    vec![
        q(
            "members",
            concat!(
                "SELECT village, count(*), sum(mobile), sum(birth_year <= :old_born)
                 FROM members WHERE ",
                villages_in!("village"),
                " AND withdrawn = 0 GROUP BY village"
            )
            .into(),
            |r, f| {
                (f.members, f.mobile, f.aged_60) = (r.get(1)?, r.get(2)?, r.get(3)?);
                Ok(())
            },
        ),
        q(
            "study",
            format!(
                "SELECT m.village, count(s.person), coalesce(sum(s.minutes), 0)
                 FROM members m JOIN ({}) s
                   ON s.village = m.village AND s.person = m.person
                 WHERE {} AND m.withdrawn = 0 GROUP BY m.village",
                per_member_study!(),
                villages_in!("m.village")
            ),
            |r, f| {
                (f.studied, f.member_minutes) = (r.get(1)?, r.get(2)?);
                Ok(())
            },
        ),
        q(
            "sessions",
            concat!(
                "SELECT village, count(*), sum(present), sum(absent) FROM study_sessions WHERE ",
                villages_in!("village"),
                " AND month BETWEEN :from_month AND :to_month AND withdrawn = 0
                 GROUP BY village"
            )
            .into(),
            |r, f| {
                (f.sessions, f.present, f.absent) = (r.get(1)?, r.get(2)?, r.get(3)?);
                Ok(())
            },
        ),
        q(
            "opinions",
            format!(
                "SELECT village, count(*), sum({OPINION_TAKEN_UP}), sum({OPINION_ANSWERED})
                 FROM opinions WHERE {} AND month BETWEEN :from_month AND :to_month
                 AND withdrawn = 0 GROUP BY village",
                villages_in!("village"),
            ),
            |r, f| {
                (f.opinions, f.taken_up, f.answered) = (r.get(1)?, r.get(2)?, r.get(3)?);
                Ok(())
            },
        ),
        q(
            "problems",
            concat!(
                "SELECT village, how_found, count(*) FROM problems WHERE ",
                villages_in!("village"),
                " AND withdrawn = 0 GROUP BY village, how_found"
            )
            .into(),
            |r, f| {
                let how: String = r.get(1)?;
                if let Ok(how) = how.parse::<HowFound>() {
                    f.problems.insert(how, r.get(2)?);
                }
                Ok(())
            },
        ),
        q(
            "measures",
            format!(
                "SELECT village, count(*), sum({}), sum({}), sum({}), sum({}), sum({}), sum({})
                 FROM rectifications WHERE {} AND withdrawn = 0 AND {MEASURES_IN_PERIOD}
                 GROUP BY village",
                measure(M::At(S::Planned)),
                measure(M::At(S::InProgress)),
                measure(M::Done),
                measure(M::At(S::Accepted)),
                measure(M::Overdue),
                measure(M::Unfiled),
                villages_in!("village"),
            ),
            |r, f| {
                (f.measures, f.planned, f.in_progress) = (r.get(1)?, r.get(2)?, r.get(3)?);
                (f.done, f.accepted, f.overdue, f.unfiled) =
                    (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
                Ok(())
            },
        ),
        q(
            "practical_things",
            concat!(
                "SELECT village, count(*), sum(status = :thing_done) FROM practical_things WHERE ",
                villages_in!("village"),
                " AND withdrawn = 0 GROUP BY village"
            )
            .into(),
            |r, f| {
                (f.practical, f.practical_done) = (r.get(1)?, r.get(2)?);
                Ok(())
            },
        ),
        q(
            "org_life_meetings",
            concat!(
                "SELECT village, count(*) FROM org_life_meetings WHERE ",
                villages_in!("village"),
                " AND month BETWEEN :from_month AND :to_month AND withdrawn = 0
                 GROUP BY village"
            )
            .into(),
            |r, f| {
                f.org_life = r.get(1)?;
                Ok(())
            },
        ),
        q(
            "notices",
            concat!(
                "SELECT village, count(*) FROM notices WHERE ",
                villages_in!("village"),
                " AND month BETWEEN :from_month AND :to_month AND withdrawn = 0
                 GROUP BY village"
            )
            .into(),
            |r, f| {
                f.notices = r.get(1)?;
                Ok(())
            },
        ),
        q(
            "service_requests",
            format!(
                "SELECT village, count(*), min(applied_on) FROM service_requests WHERE {}
                 AND {SERVICE_OPEN} AND withdrawn = 0 GROUP BY village",
                villages_in!("village"),
            ),
            |r, f| {
                f.service_open = r.get(1)?;
                f.service_oldest = r.get::<_, Option<String>>(2)?.and_then(|d| d.parse().ok());
                Ok(())
            },
        ),
    ]
}

/// The plan in force, from its typed row: the latest issued, the greatest
/// id among those issued the same day (as `records::plan_in_force`).
pub const PLAN_IN_FORCE: &str = "SELECT title, issued_on, learning_start, learning_end,
    criticism_start, criticism_end, rectification_start, rectification_end
    FROM campaign_plans WHERE withdrawn = 0 ORDER BY issued_on DESC, doc_id DESC LIMIT 1";

/// The first day each shown village entered each phase, from the typed rows.
pub const FIRST_ENTRIES: &str = concat!(
    "SELECT village, phase, min(entered_on) FROM phase_entries WHERE ",
    villages_in!("village"),
    " AND withdrawn = 0 GROUP BY village, phase"
);

/// Where each shown village stands in the campaign today, by the model's
/// `records::standing`, read from the typed rows (no document loaded).
pub fn phases(
    tx: &Transaction<'_>,
    c: &Counting<'_>,
) -> Result<BTreeMap<String, PhaseStanding>, Error> {
    let day = |s: String| s.parse::<NaiveDate>().ok();
    let plan = tx
        .prepare_cached(PLAN_IN_FORCE)?
        .query_map([], |r| {
            let d = |i| r.get::<_, String>(i).map(day);
            Ok((|| {
                Some(CampaignPlan {
                    title: r.get(0).ok()?,
                    issued_on: d(1).ok()??,
                    learning_start: d(2).ok()??,
                    learning_end: d(3).ok()??,
                    criticism_start: d(4).ok()??,
                    criticism_end: d(5).ok()??,
                    rectification_start: d(6).ok()??,
                    rectification_end: d(7).ok()??,
                })
            })())
        })?
        .next()
        .transpose()?
        .flatten();
    let mut entered: BTreeMap<String, BTreeMap<CampaignPhase, NaiveDate>> = BTreeMap::new();
    let mut stmt = tx.prepare_cached(FIRST_ENTRIES)?;
    c.bind(&mut stmt, &[])?;
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        let (village, phase, on): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if let (Some(phase), Some(on)) = (CampaignPhase::from_code(&phase), day(on)) {
            entered.entry(village).or_default().insert(phase, on);
        }
    }
    let none = BTreeMap::new();
    Ok(c.villages
        .iter()
        .map(|v| {
            let v = v.as_str().to_string();
            let s = massline_model::records::standing(
                plan.as_ref(),
                entered.get(&v).unwrap_or(&none),
                c.today,
            );
            (v, s)
        })
        .collect())
}

/// Every shown village's figures for the period, in the order given.
pub fn figures(tx: &Transaction<'_>, c: &Counting<'_>) -> Result<Vec<Figures>, Error> {
    let mut by_village: BTreeMap<String, Figures> = c
        .villages
        .iter()
        .map(|v| (v.as_str().to_string(), Figures::default()))
        .collect();
    for query in overview_queries() {
        let mut stmt = tx.prepare_cached(&query.sql)?;
        c.bind(&mut stmt, &[])?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            let village: String = row.get(0)?;
            if let Some(f) = by_village.get_mut(&village) {
                (query.read)(row, f)?;
            }
        }
    }
    for (village, standing) in phases(tx, c)? {
        if let Some(f) = by_village.get_mut(&village) {
            f.phase = standing;
        }
    }
    Ok(c.villages
        .iter()
        .map(|v| by_village.remove(v.as_str()).unwrap_or_default())
        .collect())
}

/// The query of [`opinions_by`]: opinions heard in the period per village
/// and code of `field` (a column of `opinions`).
pub fn opinions_by(field: &str) -> String {
    format!(
        "SELECT village, {field}, count(*) FROM opinions WHERE {}
         AND month BETWEEN :from_month AND :to_month AND withdrawn = 0
         GROUP BY village, {field}",
        villages_in!("village")
    )
}

/// Opinions heard in the period per village and code of `field`
/// (`channel` or `four_winds`), for the charts.
pub fn opinions_by_code(
    tx: &Transaction<'_>,
    c: &Counting<'_>,
    field: &str,
) -> Result<Vec<(String, String, i64)>, Error> {
    let mut stmt = tx.prepare_cached(&opinions_by(field))?;
    c.bind(&mut stmt, &[])?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((r.get(0)?, r.get(1)?, r.get(2)?));
    }
    Ok(out)
}

/// The query of [`study_by_day`].
pub const STUDY_BY_DAY: &str = concat!(
    "SELECT village, date, sum(minutes) FROM study_credits WHERE ",
    villages_in!("village"),
    " AND month BETWEEN :from_month AND :to_month AND withdrawn = 0
     GROUP BY village, date"
);

/// Minutes of study credited per village and day in the period.
pub fn study_by_day(
    tx: &Transaction<'_>,
    c: &Counting<'_>,
) -> Result<Vec<(String, NaiveDate, i64)>, Error> {
    let mut stmt = tx.prepare_cached(STUDY_BY_DAY)?;
    c.bind(&mut stmt, &[])?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let day: String = r.get(1)?;
        if let Ok(day) = day.parse() {
            out.push((r.get(0)?, day, r.get(2)?));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn periods_cover_whole_months() {
        let s = Period::Quarter.span(day("2026-05-17"));
        assert_eq!(
            (s.from_month.as_str(), s.to_month.as_str()),
            ("2026-04", "2026-05")
        );
        assert_eq!(
            (s.from_day.as_str(), s.to_day.as_str()),
            ("2026-04-01", "2026-05-31")
        );
        let s = Period::Month.span(day("2026-12-03"));
        assert_eq!(
            (s.from_month.as_str(), s.to_month.as_str()),
            ("2026-12", "2026-12")
        );
        assert!("2026-12-31" <= s.to_day.as_str());
        let s = Period::Campaign.span(day("2026-12-03"));
        assert!(s.from_day.as_str() < "1900" && s.to_day.as_str() > "2100");
    }

    /// Every table the overview reads is reached through an index, never
    /// scanned: the page stays fast as a township's records grow.
    #[test]
    fn the_overview_searches_its_tables_through_their_indexes() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let villages = [VillageCode::new("a").unwrap_or_else(|e| panic!("{e}"))];
        let span = Period::Quarter.span(day("2026-05-17"));
        let c = Counting {
            villages: &villages,
            span: &span,
            today: day("2026-05-17"),
        };
        let mut queries: Vec<(String, String)> = overview_queries()
            .into_iter()
            .map(|q| (q.name.to_string(), q.sql))
            .collect();
        queries.push(("study by day".into(), STUDY_BY_DAY.into()));
        queries.push(("phases entered".into(), FIRST_ENTRIES.into()));
        queries.push(("opinions by code".into(), opinions_by("channel")));
        for ledger in super::super::ledger::LEDGERS {
            queries.push((ledger.name.into(), ledger.sql(None)));
            for f in ledger.filters() {
                queries.push((
                    format!("{} {}", ledger.name, f.code),
                    ledger.sql(Some(f.code)),
                ));
            }
            for g in ledger.groups {
                queries.push((format!("{} by {g}", ledger.name), ledger.group_sql(g, None)));
            }
        }
        for (name, sql) in queries {
            let plan: Vec<String> = db
                .read(|tx| {
                    let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    c.bind(
                        &mut stmt,
                        &[
                            (":limit", Value::Integer(10)),
                            (":code", Value::Text("x".into())),
                        ],
                    )?;
                    let mut rows = stmt.raw_query();
                    let mut out = Vec::new();
                    while let Some(r) = rows.next()? {
                        out.push(r.get::<_, String>(3)?);
                    }
                    Ok::<_, Error>(out)
                })
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            for table in crate::rows::tables() {
                assert!(
                    !plan.iter().any(|d| d == &format!("SCAN {table}")
                        || d.starts_with(&format!("SCAN {table} "))),
                    "{name} scans {table}: {plan:#?}"
                );
            }
            assert!(
                plan.iter().any(|d| d.contains("USING INDEX")
                    || d.contains("USING COVERING INDEX")
                    || d.contains("USING PRIMARY KEY")),
                "{name} uses no index: {plan:#?}"
            );
        }
    }

    #[test]
    fn each_village_stands_where_its_typed_rows_put_it() {
        use massline_model::Scope;
        use massline_model::record_doc::StoredRecord;
        use massline_model::records::{PhaseEntry, Record};
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let v = |s: &str| VillageCode::new(s).unwrap_or_else(|e| panic!("{e}"));
        let plan = Record::CampaignPlan(CampaignPlan {
            title: "方案".into(),
            issued_on: day("2026-01-05"),
            learning_start: day("2026-02-01"),
            learning_end: day("2026-03-31"),
            criticism_start: day("2026-04-01"),
            criticism_end: day("2026-05-31"),
            rectification_start: day("2026-06-01"),
            rectification_end: day("2026-09-30"),
        });
        let entry = |phase, on| {
            Record::PhaseEntry(PhaseEntry {
                phase,
                entered_on: day(on),
                note: String::new(),
            })
        };
        let records = [
            (1_u8, Scope::Township, plan),
            (
                2,
                Scope::VillageShared(v("a")),
                entry(CampaignPhase::Learning, "2026-02-01"),
            ),
            (
                3,
                Scope::VillageShared(v("a")),
                entry(CampaignPhase::Criticism, "2026-04-01"),
            ),
            (
                4,
                Scope::VillageShared(v("b")),
                entry(CampaignPhase::Learning, "2026-02-03"),
            ),
        ];
        db.write(|tx| {
            for (n, scope, record) in records {
                let id = massline_model::DocId::from_slice(&[n; 16]).expect("id");
                let s = StoredRecord {
                    scope,
                    record,
                    withdrawn: None,
                };
                crate::rows::put(tx, &id, &s, true)?;
            }
            Ok::<_, Error>(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let villages = [v("a"), v("b"), v("c")];
        let span = Period::Quarter.span(day("2026-04-02"));
        let c = Counting {
            villages: &villages,
            span: &span,
            today: day("2026-04-02"),
        };
        let s = db
            .read(|tx| phases(tx, &c))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s["a"].current, Some(CampaignPhase::Criticism));
        assert!(!s["a"].is_behind());
        assert_eq!(s["b"].current, Some(CampaignPhase::Learning));
        assert_eq!(s["b"].behind, vec![CampaignPhase::Criticism]);
        assert_eq!(s["c"].current, None);
        assert_eq!(
            s["c"].behind,
            vec![CampaignPhase::Learning, CampaignPhase::Criticism]
        );
    }
}
