//! Each person's to-do list (待办事项), computed from the records a phone
//! holds, with no server: what needs doing, for whom, and why, each item
//! linking to its record and carrying an id that stays the same while the
//! reason stands (so an app posts it as a notification once).

use chrono::{Datelike, Duration, NaiveDate};

use crate::access::{Principal, Role};
use crate::coded_enum;
use crate::codes::Lang;
use crate::ids::{DocId, PersonId};
use crate::records::{
    PracticalThing, Record, RecordKind, RectificationStatus, first_entries, plan_in_force, standing,
};

/// A measure due within this many days is listed before it is overdue.
pub const DUE_SOON_DAYS: i64 = 7;
/// A member with no study credited in this many days is listed for their
/// contact cadre.
pub const NOT_STUDYING_DAYS: i64 = 30;
/// A service request open longer than this many days is listed for its agent.
pub const SERVICE_OPEN_DAYS: i64 = 15;

coded_enum! {
    /// Why an item is on a person's to-do list.
    pub enum TodoReason as "todo_reason" {
        MeasureOverdue = "measure_overdue", "整改措施已超期", "Measure overdue";
        MeasureDueSoon = "measure_due_soon", "整改措施7日内到期", "Measure due within 7 days";
        NotAnnounced = "not_announced", "措施已完成未向群众公布", "Measure done, not announced to the masses";
        NotSubmitted = "not_submitted", "措施已公布未报乡镇备案", "Measure announced, not submitted for filing";
        NotAcknowledged = "not_acknowledged", "报送备案待确认", "Submitted for filing, not acknowledged";
        NotStudying = "not_studying", "联系党员30日未学习", "Member not studying for 30 days";
        ServiceOpen = "service_open", "代办事项超过15日未办结", "Service request open over 15 days";
        PracticalThings = "practical_things", "为民办实事不在3至5件", "Practical things outside 3 to 5";
        OwnStudy = "own_study", "本月尚未学习", "No study of your own this month";
        BehindPlan = "behind_plan", "本村活动进度落后于实施方案", "Village behind the campaign plan";
    }
}

/// One thing on a person's list.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TodoItem {
    /// Stays the same while the item stands for the same reason: its
    /// reason, record and the day that makes it due (a new deadline, a new
    /// lapse in study, a new month make a new item).
    pub id: String,
    /// Why it is listed.
    pub reason: TodoReason,
    /// The record it is about (none for the village's count of practical things).
    pub record: Option<DocId>,
    /// That record's kind.
    pub kind: Option<RecordKind>,
    /// The day that makes it due: the deadline, the day done or announced
    /// or submitted, the day applied, the last study (none if never).
    pub day: Option<NaiveDate>,
    /// Why it is listed, in a sentence naming the record.
    pub why: String,
}

/// Builds items for one person.
struct List {
    lang: Lang,
    items: Vec<TodoItem>,
}

impl List {
    fn push(
        &mut self,
        reason: TodoReason,
        record: Option<(DocId, RecordKind)>,
        day: Option<NaiveDate>,
        what: &str,
    ) {
        let id = format!(
            "{}:{}:{}",
            reason.code(),
            record.map_or_else(String::new, |(r, _)| r.to_hex()),
            day.map_or_else(String::new, |d| d.to_string())
        );
        let on = day.map_or_else(String::new, |d| match self.lang {
            Lang::Zh => format!("（{d}）"),
            Lang::En => format!(" ({d})"),
        });
        let sep = match self.lang {
            Lang::Zh => "：",
            Lang::En => ": ",
        };
        self.items.push(TodoItem {
            id,
            reason,
            record: record.map(|(r, _)| r),
            kind: record.map(|(_, k)| k),
            day,
            why: format!("{}{sep}{what}{on}", reason.label(self.lang)),
        });
    }
}

/// The to-do list of `me` on `today` from the records their phone holds
/// (withdrawn ones left out), labels in `lang`:
/// - measures they are responsible for, overdue or due within
///   [`DUE_SOON_DAYS`], and done but not announced to the masses;
/// - for the village Party secretary, measures announced but not submitted
///   for filing, and the village's practical things outside 3 to 5;
/// - for a township officer, submissions not yet acknowledged;
/// - for a contact cadre, their members with no study in [`NOT_STUDYING_DAYS`];
/// - for an agent, service requests open over [`SERVICE_OPEN_DAYS`];
/// - for a member, no study of their own this month;
/// - for the village Party secretary, the village behind the campaign plan
///   (a phase whose planned start has passed not entered; see
///   [`crate::records::standing`]), about the plan, due from that start.
pub fn todo(
    me: &Principal,
    records: &[(DocId, Record)],
    today: NaiveDate,
    lang: Lang,
) -> Vec<TodoItem> {
    let mut list = List {
        lang,
        items: Vec::new(),
    };
    let person = &me.person;
    let last_study = |p: &PersonId| {
        records
            .iter()
            .flat_map(|(_, r)| r.study_credits())
            .filter(|c| c.person == *p)
            .map(|c| c.date)
            .max()
    };
    let mut practical = 0;
    for (id, record) in records {
        let at = Some((*id, record.kind()));
        match record {
            Record::Rectification(m) => {
                let mine = m.responsible.contains(person);
                let done = m.status() >= RectificationStatus::Done;
                if mine && !done && m.deadline < today {
                    list.push(TodoReason::MeasureOverdue, at, Some(m.deadline), &m.measure);
                } else if mine && !done && m.deadline <= today + Duration::days(DUE_SOON_DAYS) {
                    list.push(TodoReason::MeasureDueSoon, at, Some(m.deadline), &m.measure);
                }
                match (m.announced_on, &m.submitted, &m.filed) {
                    (None, _, _) if mine && done => {
                        let day = m.reached(RectificationStatus::Done);
                        list.push(TodoReason::NotAnnounced, at, day, &m.measure);
                    }
                    (Some(on), None, None) if done && me.role == Role::Secretary => {
                        list.push(TodoReason::NotSubmitted, at, Some(on), &m.measure);
                    }
                    (_, Some(s), None) if me.role == Role::TownshipOfficer => {
                        list.push(TodoReason::NotAcknowledged, at, Some(s.date), &m.measure);
                    }
                    _ => {}
                }
            }
            Record::Member(m) if m.contact_cadre.as_ref() == Some(person) => {
                let Some(p) = &m.person else { continue };
                let last = last_study(p);
                if last.is_none_or(|d| d <= today - Duration::days(NOT_STUDYING_DAYS)) {
                    list.push(TodoReason::NotStudying, at, last, &m.name);
                }
            }
            Record::ServiceRequest(s)
                if s.agent == *person
                    && !s.status.is_closed()
                    && s.applied_on < today - Duration::days(SERVICE_OPEN_DAYS) =>
            {
                let what = format!("{} {}", s.applicant, s.matter.label(lang));
                list.push(TodoReason::ServiceOpen, at, Some(s.applied_on), &what);
            }
            Record::PracticalThing(_) => practical += 1,
            _ => {}
        }
    }
    if me.role == Role::Secretary && !PracticalThing::PER_VILLAGE.contains(&practical) {
        let what = match lang {
            Lang::Zh => format!("本村{practical}件"),
            Lang::En => format!("the village has {practical}"),
        };
        list.push(TodoReason::PracticalThings, None, None, &what);
    }
    if me.role == Role::Secretary {
        behind_plan(&mut list, records, today);
    }
    if me.role == Role::Member {
        let month = today.with_day(1).unwrap_or(today);
        if last_study(person).is_none_or(|d| d < month) {
            let what = match lang {
                Lang::Zh => format!("{}年{}月", today.year(), today.month()),
                Lang::En => today.format("%B %Y").to_string(),
            };
            list.push(TodoReason::OwnStudy, None, Some(month), &what);
        }
    }
    list.items
}

/// The secretary's item when their village is behind the plan in force:
/// their phone holds only their own village's phase entries.
fn behind_plan(list: &mut List, records: &[(DocId, Record)], today: NaiveDate) {
    let plans = records.iter().filter_map(|(id, r)| match r {
        Record::CampaignPlan(p) => Some((*id, p)),
        _ => None,
    });
    let Some((plan_id, plan)) = plan_in_force(plans) else {
        return;
    };
    let entered = first_entries(records.iter().filter_map(|(_, r)| match r {
        Record::PhaseEntry(e) => Some(e),
        _ => None,
    }));
    let s = standing(Some(plan), &entered, today);
    if let Some(&phase) = s.behind.first() {
        let at = Some((plan_id, RecordKind::CampaignPlan));
        let start = plan.planned(phase).0;
        list.push(
            TodoReason::BehindPlan,
            at,
            Some(start),
            phase.label(list.lang),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::VillageCode;
    use crate::records::{Rectification, RectificationTerm, StudyEntry, StudyMaterial, StudyMode};

    fn p(s: &str) -> PersonId {
        PersonId::new(s).expect("person")
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).expect("day")
    }

    fn who(person: &str, role: Role) -> Principal {
        Principal {
            person: p(person),
            role,
            village: Some(VillageCode::new("dongcun").expect("village")),
        }
    }

    fn measure(deadline: NaiveDate) -> Rectification {
        Rectification {
            problem: DocId::from_slice(&[2; 16]).expect("id"),
            measure: "每月公开一次".into(),
            objective: String::new(),
            responsible: vec![p("li")],
            deadline,
            term: RectificationTerm::Short,
            steps: [(RectificationStatus::Planned, day(5, 1))].into(),
            progress: Vec::new(),
            announced_on: None,
            submitted: None,
            filed: None,
        }
    }

    fn id(n: u8) -> DocId {
        DocId::from_slice(&[n; 16]).expect("id")
    }

    #[test]
    fn due_soon_then_overdue_each_with_its_own_id() {
        let li = who("li", Role::Cadre);
        let records = vec![(id(1), Record::Rectification(measure(day(6, 10))))];
        let soon = todo(&li, &records, day(6, 3), Lang::Zh);
        let [item] = soon.as_slice() else {
            panic!("{soon:?}")
        };
        assert_eq!(item.reason, TodoReason::MeasureDueSoon);
        assert_eq!(item.record, Some(id(1)));
        assert!(item.why.contains("每月公开一次"), "{}", item.why);
        assert!(
            todo(&li, &records, day(6, 2), Lang::Zh).is_empty(),
            "8 days ahead"
        );
        let late = todo(&li, &records, day(6, 11), Lang::En);
        assert_eq!(late[0].reason, TodoReason::MeasureOverdue);
        assert_ne!(late[0].id, item.id);
        assert_eq!(
            todo(&li, &records, day(6, 20), Lang::Zh)[0].id,
            late[0].id,
            "the same item while it stands"
        );
        assert!(
            todo(
                &who("zhang", Role::Secretary),
                &records,
                day(6, 11),
                Lang::Zh
            )
            .iter()
            .all(|i| i.reason == TodoReason::PracticalThings),
            "only for the people responsible"
        );
    }

    #[test]
    fn a_member_is_reminded_of_their_own_study_this_month() {
        let wang = who("wang", Role::Member);
        let study = |d| {
            Record::StudyEntry(StudyEntry {
                member: p("wang"),
                date: d,
                material: StudyMaterial::MassLineReading,
                topic: "读本".into(),
                mode: StudyMode::SelfStudy,
                helper: None,
                minutes: 30,
                reflection: String::new(),
                comments: Vec::new(),
            })
        };
        let last_month = vec![(id(1), study(day(5, 30)))];
        let items = todo(&wang, &last_month, day(6, 3), Lang::Zh);
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0].reason, TodoReason::OwnStudy);
        let this_month = vec![(id(1), study(day(6, 1)))];
        assert!(todo(&wang, &this_month, day(6, 3), Lang::Zh).is_empty());
    }

    #[test]
    fn a_secretary_is_told_when_the_village_is_behind_the_plan() {
        use crate::records::{CampaignPhase, CampaignPlan, PhaseEntry};
        let plan = Record::CampaignPlan(CampaignPlan {
            title: "实施方案".into(),
            issued_on: day(5, 20),
            learning_start: day(6, 1),
            learning_end: day(7, 15),
            criticism_start: day(7, 16),
            criticism_end: day(8, 31),
            rectification_start: day(9, 1),
            rectification_end: day(11, 30),
        });
        let zhang = who("zhang", Role::Secretary);
        let behind = |records: &[(DocId, Record)], today| -> Vec<TodoItem> {
            todo(&zhang, records, today, Lang::Zh)
                .into_iter()
                .filter(|i| i.reason == TodoReason::BehindPlan)
                .collect()
        };
        let mut records = vec![(id(7), plan)];
        assert!(
            behind(&records, day(6, 1)).is_empty(),
            "the start day itself"
        );
        let [item] = behind(&records, day(6, 2)).try_into().expect("one item");
        assert_eq!((item.record, item.day), (Some(id(7)), Some(day(6, 1))));
        assert!(item.why.contains("学习教育"), "{}", item.why);
        // Nobody else gets it.
        for other in [who("li", Role::Cadre), who("wang", Role::Member)] {
            assert!(
                todo(&other, &records, day(6, 2), Lang::Zh)
                    .iter()
                    .all(|i| i.reason != TodoReason::BehindPlan)
            );
        }
        records.push((
            id(8),
            Record::PhaseEntry(PhaseEntry {
                phase: CampaignPhase::Learning,
                entered_on: day(6, 3),
                note: String::new(),
            }),
        ));
        assert!(behind(&records, day(7, 16)).is_empty(), "entered");
        let [item] = behind(&records, day(7, 17)).try_into().expect("one item");
        assert_eq!(item.day, Some(day(7, 16)), "a new item for the next phase");
    }
}
