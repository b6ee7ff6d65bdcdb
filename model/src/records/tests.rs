//! Every field rule, every rule of who may change what, and every reference
//! check, each with one refused example; and how each kind's document merges
//! edits made on two phones at once.

use std::collections::{BTreeMap, HashMap};

use automerge::ActorId;
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::rules::{self, Broken, Change, Context, Lookup};
use super::*;
use crate::access::{Principal, Role, Scope};
use crate::codes::Coded;
use crate::ids::{DocId, PersonId, VillageCode};
use crate::record_doc::{self, Author, StoredRecord};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn p(s: &str) -> PersonId {
    PersonId::new(s).expect("person")
}

fn village(s: &str) -> VillageCode {
    VillageCode::new(s).expect("village")
}

fn doc_id(n: u8) -> DocId {
    DocId::from_slice(&[n; 16]).expect("id")
}

const OPINION: u8 = 1;
const PROBLEM: u8 = 2;
const VISIT: u8 = 3;
const XICUN_PROBLEM: u8 = 4;
const WITHDRAWN_PROBLEM: u8 = 5;
const SERVICE: u8 = 6;
const NEW: u8 = 9;

fn sample(kind: RecordKind) -> Record {
    match kind {
        RecordKind::Member => Record::Member(Member {
            person: Some(p("wang")),
            name: "王党员".into(),
            birth_year: 1960,
            joined_on: day(1985, 7, 1),
            education: Education::JuniorMiddle,
            phone: "138 0000 0000".into(),
            mobile: false,
            whereabouts: String::new(),
        }),
        RecordKind::StudySession => Record::StudySession(StudySession {
            date: day(2024, 5, 10),
            material: StudyMaterial::PartyCongress,
            topic: "学习十八届三中全会精神".into(),
            format: SessionFormat::Lecture,
            organizer: p("zhang"),
            place: "村部会议室".into(),
            minutes: 90,
            notes: "张书记领学".into(),
            attendance: BTreeMap::from([
                (p("wang"), Attendance::present()),
                (p("zhao"), Attendance::absent("外出务工")),
            ]),
        }),
        RecordKind::StudyEntry => Record::StudyEntry(StudyEntry {
            member: p("wang"),
            date: day(2024, 5, 1),
            material: StudyMaterial::MassLineReading,
            topic: "群众路线读本".into(),
            mode: StudyMode::SelfStudy,
            helper: None,
            minutes: 45,
            reflection: "深受教育".into(),
            comments: Vec::new(),
        }),
        RecordKind::Opinion => Record::Opinion(Opinion {
            date: day(2024, 5, 2),
            channel: OpinionChannel::HouseholdVisit,
            source: SourceGroup::Poor,
            area: OpinionArea::VillageAffairs,
            four_winds: FourWinds::Formalism,
            text: "低保评定不公开".into(),
            anonymous: false,
            raised_by: None,
            status: OpinionStatus::Received,
            answer: None,
            visit: None,
        }),
        RecordKind::Problem => Record::Problem(Problem {
            title: "村务公开不及时".into(),
            how_found: HowFound::RaisedByMasses,
            area: ProblemArea::MassService,
            background: String::new(),
            causes: "制度不落实".into(),
            manifestations: String::new(),
            direction: String::new(),
            solutions: String::new(),
            opinions: vec![doc_id(OPINION)],
        }),
        RecordKind::Rectification => Record::Rectification(Rectification {
            problem: doc_id(PROBLEM),
            measure: "每月公开一次村务".into(),
            objective: "群众知情".into(),
            responsible: vec![p("li"), p("zhang")],
            deadline: day(2024, 12, 31),
            term: RectificationTerm::Short,
            steps: BTreeMap::from([(RectificationStatus::Planned, day(2024, 5, 5))]),
            progress: Vec::new(),
            announced_on: None,
            filed: None,
        }),
        RecordKind::Visit => Record::Visit(Visit {
            cadre: p("li"),
            household: "李大爷".into(),
            group: HouseholdGroup::Poor,
            date: day(2024, 5, 3),
            notes: String::new(),
            demands: vec![Demand {
                id: "d1".into(),
                text: "村道坑洼".into(),
                opinion: None,
                service_request: None,
            }],
        }),
        RecordKind::ServiceRequest => Record::ServiceRequest(ServiceRequest {
            matter: ServiceMatter::SubsistenceAllowance,
            applicant: "赵大娘".into(),
            applied_on: day(2024, 5, 3),
            details: String::new(),
            checklist: vec!["户口本".into(), "收入证明".into()],
            agent: p("li"),
            status: ServiceStatus::Accepted,
            result: String::new(),
            closed_on: None,
            published_on: None,
            visit: None,
        }),
        RecordKind::PracticalThing => Record::PracticalThing(PracticalThing {
            what: "硬化村道".into(),
            target_date: day(2024, 10, 1),
            responsible: vec![p("zhang")],
            status: ThingStatus::Promised,
            done_on: None,
            satisfaction: None,
        }),
        RecordKind::OrgLifeMeeting => Record::OrgLifeMeeting(OrgLifeMeeting {
            date: day(2024, 6, 1),
            topic: "对照“四风”查摆问题".into(),
            attendance: BTreeMap::from([(p("wang"), Attendance::present())]),
            points: vec![MeetingPoint {
                member: p("wang"),
                kind: PointKind::SelfCriticism,
                text: "学习不够主动".into(),
            }],
            appraisal: BTreeMap::from([(p("wang"), AppraisalGrade::Qualified)]),
        }),
        RecordKind::Notice => Record::Notice(Notice {
            date: day(2024, 6, 2),
            category: NoticeCategory::VillageAffairs,
            medium: NoticeMedium::Board,
            title: "五月村务公开".into(),
            content: String::new(),
            about: Vec::new(),
        }),
    }
}

fn stored_in(v: &str, record: Record) -> StoredRecord {
    StoredRecord {
        scope: record.home_scope(&village(v)),
        record,
        withdrawn: None,
    }
}

fn stored(record: Record) -> StoredRecord {
    stored_in("dongcun", record)
}

/// A township of two villages, as the rules see it.
struct Town {
    people: HashMap<PersonId, Option<VillageCode>>,
    records: HashMap<DocId, StoredRecord>,
    unknown_people: bool,
    /// The server's copy rather than the author's phone.
    server: bool,
}

impl Town {
    fn new() -> Town {
        let mut people = HashMap::new();
        for (who, v) in [
            ("zhang", Some("dongcun")),
            ("li", Some("dongcun")),
            ("wang", Some("dongcun")),
            ("zhao", Some("dongcun")),
            ("chen", Some("xicun")),
            ("liu", None),
        ] {
            people.insert(p(who), v.map(village));
        }
        let mut withdrawn = stored(sample(RecordKind::Problem));
        withdrawn.withdrawn = Some(Withdrawal {
            by: p("li"),
            on: day(2024, 5, 6),
            reason: "重复录入".into(),
        });
        let records = HashMap::from([
            (doc_id(OPINION), stored(sample(RecordKind::Opinion))),
            (doc_id(PROBLEM), stored(sample(RecordKind::Problem))),
            (doc_id(VISIT), stored(sample(RecordKind::Visit))),
            (doc_id(SERVICE), stored(sample(RecordKind::ServiceRequest))),
            (
                doc_id(XICUN_PROBLEM),
                stored_in("xicun", sample(RecordKind::Problem)),
            ),
            (doc_id(WITHDRAWN_PROBLEM), withdrawn),
        ]);
        Town {
            people,
            records,
            unknown_people: false,
            server: false,
        }
    }
}

impl Context for Town {
    fn person_village(&self, person: &PersonId) -> Lookup<Option<VillageCode>> {
        match self.people.get(person) {
            Some(v) => Lookup::Found(v.clone()),
            None if self.unknown_people => Lookup::Unknown,
            None => Lookup::Missing,
        }
    }
    fn record(&self, id: &DocId) -> Lookup<StoredRecord> {
        self.records
            .get(id)
            .cloned()
            .map_or(Lookup::Missing, Lookup::Found)
    }
    fn is_authors_copy(&self) -> bool {
        !self.server
    }
}

fn who(person: &str, role: Role) -> Principal {
    Principal {
        person: p(person),
        role,
        village: (role != Role::TownshipOfficer).then(|| village("dongcun")),
    }
}

fn cadre() -> Principal {
    who("li", Role::Cadre)
}

fn create(by: &Principal, record: Record) -> Result<(), Broken> {
    create_in(&Town::new(), by, record)
}

fn create_in(town: &Town, by: &Principal, record: Record) -> Result<(), Broken> {
    let s = stored(record);
    rules::check(
        &Change {
            id: doc_id(NEW),
            seen: None,
            made: &s,
            merged: &s,
            by,
            created_by: Some(&by.person),
        },
        town,
    )
}

fn change(
    by: &Principal,
    created_by: &str,
    before: &StoredRecord,
    after: &StoredRecord,
) -> Result<(), Broken> {
    change_of(doc_id(NEW), by, created_by, before, after)
}

fn change_of(
    id: DocId,
    by: &Principal,
    created_by: &str,
    before: &StoredRecord,
    after: &StoredRecord,
) -> Result<(), Broken> {
    let creator = p(created_by);
    rules::check(
        &Change {
            id,
            seen: Some(before),
            made: after,
            merged: after,
            by,
            created_by: Some(&creator),
        },
        &Town::new(),
    )
}

/// Asserts that the record is refused on its own with the given field at fault.
#[track_caller]
fn invalid(record: Record, field: &str) {
    match record.validate() {
        Err(e) => assert_eq!(e.field, field, "{e}"),
        Ok(()) => panic!("{record:?} should be refused on `{field}`"),
    }
}

#[track_caller]
fn broken(result: Result<(), Broken>, not_allowed: bool, field: &str) {
    match result {
        Err(Broken::NotAllowed(e)) if not_allowed => assert_eq!(e.field, field, "{e}"),
        Err(Broken::Invalid(e)) if !not_allowed => assert_eq!(e.field, field, "{e}"),
        other => panic!("expected refusal of `{field}`, got {other:?}"),
    }
}

macro_rules! with {
    ($kind:ident, |$r:ident| $body:expr) => {{
        let Record::$kind(mut $r) = sample(RecordKind::$kind) else {
            unreachable!()
        };
        $body;
        Record::$kind($r)
    }};
}

#[test]
fn every_sample_is_valid_and_allowed() {
    for kind in RecordKind::all() {
        let r = sample(*kind);
        assert_eq!(r.kind(), *kind);
        r.validate().unwrap_or_else(|e| panic!("{kind}: {e}"));
        create(&cadre(), r).unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
}

#[test]
fn each_kind_lives_in_its_scope() {
    let v = village("dongcun");
    let scope = |k| sample(k).home_scope(&v);
    for k in [
        RecordKind::Member,
        RecordKind::Opinion,
        RecordKind::Visit,
        RecordKind::ServiceRequest,
        RecordKind::OrgLifeMeeting,
    ] {
        assert_eq!(scope(k), Scope::VillageCadre(v.clone()), "{k}");
    }
    for k in [
        RecordKind::StudySession,
        RecordKind::Problem,
        RecordKind::Rectification,
        RecordKind::PracticalThing,
        RecordKind::Notice,
    ] {
        assert_eq!(scope(k), Scope::VillageShared(v.clone()), "{k}");
    }
    assert_eq!(
        scope(RecordKind::StudyEntry),
        Scope::MemberStudy {
            village: v.clone(),
            member: p("wang")
        }
    );
    let e = sample(RecordKind::Opinion)
        .check_scope(&Scope::VillageShared(v.clone()))
        .expect_err("an opinion is cadre-only");
    assert_eq!(e.field, "kind");
    let e = sample(RecordKind::StudyEntry)
        .check_scope(&Scope::MemberStudy {
            village: v,
            member: p("zhao"),
        })
        .expect_err("another member's log");
    assert_eq!(e.field, "member");
}

#[test]
fn a_record_in_the_wrong_form_names_the_field() {
    let fields = |kind: RecordKind, f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut m = sample(kind).fields();
        f(&mut m);
        Record::from_fields(kind, Value::Object(m)).expect_err("refused")
    };
    let e = fields(RecordKind::Opinion, &|m| {
        m.remove("channel");
    });
    assert_eq!(e.field, "record");
    assert!(e.reason.contains("channel"), "{e}");
    let e = fields(RecordKind::Opinion, &|m| {
        m.insert("channel".into(), json!("rumour"));
    });
    assert_eq!(e.field, "channel");
    assert!(e.reason.contains("household_visit"), "lists the codes: {e}");
    let e = fields(RecordKind::Rectification, &|m| {
        m.insert("problem".into(), json!("村务公开不及时"));
    });
    assert_eq!(e.field, "problem");
    let e = fields(RecordKind::Rectification, &|m| {
        m.insert("steps".into(), json!({"finished": "2024-05-05"}));
    });
    assert_eq!(e.field, "steps.finished");
    let e = fields(RecordKind::Member, &|m| {
        m.insert("birth_year".into(), json!(-3));
    });
    assert_eq!(e.field, "birth_year");
    let e = fields(RecordKind::Notice, &|m| {
        m.insert("secret".into(), json!(true));
    });
    assert!(
        e.reason.contains("secret"),
        "unknown fields are refused: {e}"
    );
}

#[test]
fn member_rules() {
    invalid(with!(Member, |m| m.name = " ".into()), "name");
    invalid(with!(Member, |m| m.birth_year = 1850), "birth_year");
    invalid(
        with!(Member, |m| m.birth_year = check_year(-5)),
        "birth_year",
    );
    invalid(
        with!(Member, |m| m.joined_on = day(1900, 1, 1)),
        "joined_on",
    );
    invalid(
        with!(Member, |m| m.joined_on = day(1970, 1, 1)),
        "joined_on",
    );
    invalid(with!(Member, |m| m.phone = "call me".into()), "phone");
    invalid(with!(Member, |m| m.mobile = true), "whereabouts");
    invalid(
        with!(Member, |m| m.whereabouts = "广".repeat(201)),
        "whereabouts",
    );
    with!(Member, |m| {
        m.mobile = true;
        m.whereabouts = "广东东莞".into();
    })
    .validate()
    .expect("a mobile member with whereabouts");
}

fn check_year(offset: i32) -> u16 {
    use chrono::Datelike;
    (chrono::Local::now().year() + offset) as u16
}

#[test]
fn study_session_rules() {
    invalid(with!(StudySession, |s| s.date = day(1999, 12, 31)), "date");
    invalid(with!(StudySession, |s| s.date = day(2999, 1, 1)), "date");
    invalid(with!(StudySession, |s| s.topic = String::new()), "topic");
    invalid(with!(StudySession, |s| s.place = String::new()), "place");
    invalid(with!(StudySession, |s| s.minutes = 0), "minutes");
    invalid(with!(StudySession, |s| s.minutes = 481), "minutes");
    invalid(
        with!(StudySession, |s| s.notes = "记".repeat(8001)),
        "notes",
    );
    invalid(
        with!(StudySession, |s| s
            .attendance
            .insert(p("li"), Attendance::absent(""))),
        "attendance.li.reason",
    );
}

#[test]
fn study_entry_rules() {
    invalid(with!(StudyEntry, |e| e.date = day(1990, 1, 1)), "date");
    invalid(with!(StudyEntry, |e| e.topic = "  ".into()), "topic");
    invalid(with!(StudyEntry, |e| e.topic = "题".repeat(201)), "topic");
    invalid(with!(StudyEntry, |e| e.minutes = 0), "minutes");
    invalid(with!(StudyEntry, |e| e.minutes = 721), "minutes");
    invalid(
        with!(StudyEntry, |e| e.mode = StudyMode::NightVisit),
        "helper",
    );
    invalid(
        with!(StudyEntry, |e| {
            e.mode = StudyMode::Pairing;
            e.helper = Some(Helper {
                kind: HelperKind::BackboneMember,
                name: String::new(),
            });
        }),
        "helper.name",
    );
    invalid(
        with!(StudyEntry, |e| e.reflection = "好".repeat(4001)),
        "reflection",
    );
    invalid(
        with!(StudyEntry, |e| e.comments.push(Note {
            date: day(2024, 5, 2),
            text: String::new(),
            author: p("li"),
        })),
        "comments[0].text",
    );
    invalid(
        with!(StudyEntry, |e| e.comments.push(Note {
            date: day(1980, 5, 2),
            text: "好".into(),
            author: p("li"),
        })),
        "comments[0].date",
    );
}

#[test]
fn opinion_rules() {
    invalid(with!(Opinion, |o| o.date = day(2999, 1, 1)), "date");
    invalid(with!(Opinion, |o| o.text = String::new()), "text");
    invalid(
        with!(Opinion, |o| {
            o.anonymous = true;
            o.raised_by = Some("王五".into());
        }),
        "raised_by",
    );
    invalid(
        with!(Opinion, |o| o.raised_by = Some(" ".into())),
        "raised_by",
    );
    invalid(
        with!(Opinion, |o| o.status = OpinionStatus::Answered),
        "answer",
    );
    invalid(with!(Opinion, |o| o.answer = Some(String::new())), "answer");
}

#[test]
fn problem_rules() {
    invalid(with!(Problem, |x| x.title = String::new()), "title");
    invalid(with!(Problem, |x| x.causes = "因".repeat(4001)), "causes");
    invalid(
        with!(Problem, |x| x.opinions.push(doc_id(OPINION))),
        "opinions[1]",
    );
}

#[test]
fn rectification_rules() {
    invalid(
        with!(Rectification, |r| r.measure = String::new()),
        "measure",
    );
    invalid(
        with!(Rectification, |r| r.objective = "目".repeat(2001)),
        "objective",
    );
    invalid(
        with!(Rectification, |r| r.responsible.clear()),
        "responsible",
    );
    invalid(
        with!(Rectification, |r| r.responsible.push(p("li"))),
        "responsible[2]",
    );
    invalid(
        with!(Rectification, |r| r.deadline = day(2200, 1, 1)),
        "deadline",
    );
    invalid(with!(Rectification, |r| r.steps.clear()), "steps.planned");
    invalid(
        with!(Rectification, |r| r
            .steps
            .insert(RectificationStatus::Done, day(2999, 1, 1))),
        "steps.done",
    );
    invalid(
        with!(Rectification, |r| r.progress.push(Note {
            date: day(2024, 6, 1),
            text: String::new(),
            author: p("li"),
        })),
        "progress[0].text",
    );
    invalid(
        with!(Rectification, |r| r.announced_on = Some(day(1999, 1, 1))),
        "announced_on",
    );
    invalid(
        with!(Rectification, |r| r
            .advance(RectificationStatus::Accepted, day(2024, 7, 1))),
        "announced_on",
    );
    invalid(
        with!(Rectification, |r| r.filed = Some(Filing {
            date: day(1999, 1, 1),
            acknowledged_by: p("liu"),
        })),
        "filed.date",
    );
}

#[test]
fn a_measure_stands_at_its_furthest_step() {
    let Record::Rectification(mut r) = sample(RecordKind::Rectification) else {
        unreachable!()
    };
    assert_eq!(r.status(), RectificationStatus::Planned);
    r.advance(RectificationStatus::Done, day(2024, 6, 1));
    r.advance(RectificationStatus::InProgress, day(2024, 7, 1));
    assert_eq!(r.status(), RectificationStatus::Done);
    assert_eq!(
        r.reached(RectificationStatus::InProgress),
        Some(day(2024, 7, 1))
    );
    r.advance(RectificationStatus::Done, day(2024, 8, 1));
    assert_eq!(r.reached(RectificationStatus::Done), Some(day(2024, 6, 1)));
    assert!(!r.overdue(day(2025, 6, 1)), "done is not overdue");
    let Record::Rectification(open) = sample(RecordKind::Rectification) else {
        unreachable!()
    };
    assert!(open.overdue(day(2025, 1, 1)));
    assert!(!open.overdue(day(2024, 12, 31)));
}

#[test]
fn visit_rules() {
    invalid(with!(Visit, |v| v.household = String::new()), "household");
    invalid(with!(Visit, |v| v.date = day(1999, 1, 1)), "date");
    invalid(with!(Visit, |v| v.notes = "记".repeat(4001)), "notes");
    invalid(
        with!(Visit, |v| v.demands[0].id = "d 1".into()),
        "demands[0].id",
    );
    invalid(
        with!(Visit, |v| v.demands.push(Demand {
            id: "d1".into(),
            text: "另一件事".into(),
            opinion: None,
            service_request: None,
        })),
        "demands[1].id",
    );
    invalid(
        with!(Visit, |v| v.demands[0].text = String::new()),
        "demands[0].text",
    );
    let a = Demand::new("修桥");
    let b = Demand::new("修桥");
    assert_ne!(a.id, b.id, "fresh ids");
}

#[test]
fn service_request_rules() {
    use ServiceStatus::*;
    invalid(
        with!(ServiceRequest, |s| s.applicant = String::new()),
        "applicant",
    );
    invalid(
        with!(ServiceRequest, |s| s.applied_on = day(2999, 1, 1)),
        "applied_on",
    );
    invalid(
        with!(ServiceRequest, |s| s.details = "详".repeat(2001)),
        "details",
    );
    invalid(
        with!(ServiceRequest, |s| s.checklist = vec!["证".into(); 51]),
        "checklist",
    );
    invalid(
        with!(ServiceRequest, |s| s.checklist.push(String::new())),
        "checklist[2]",
    );
    invalid(with!(ServiceRequest, |s| s.status = Done), "closed_on");
    invalid(
        with!(ServiceRequest, |s| s.closed_on = Some(day(2024, 5, 9))),
        "closed_on",
    );
    invalid(
        with!(ServiceRequest, |s| {
            s.status = Done;
            s.result = "已批准".into();
            s.closed_on = Some(day(2024, 5, 1));
        }),
        "closed_on",
    );
    invalid(
        with!(ServiceRequest, |s| {
            s.status = Declined;
            s.closed_on = Some(day(2024, 5, 9));
        }),
        "result",
    );
    invalid(
        with!(ServiceRequest, |s| s.published_on = Some(day(2024, 5, 9))),
        "published_on",
    );
    invalid(
        with!(ServiceRequest, |s| {
            s.status = Done;
            s.result = "已批准".into();
            s.closed_on = Some(day(2024, 5, 9));
            s.published_on = Some(day(2024, 5, 8));
        }),
        "published_on",
    );
}

#[test]
fn practical_thing_rules() {
    invalid(with!(PracticalThing, |t| t.what = String::new()), "what");
    invalid(
        with!(PracticalThing, |t| t.target_date = day(1990, 1, 1)),
        "target_date",
    );
    invalid(
        with!(PracticalThing, |t| t.responsible.push(p("zhang"))),
        "responsible[1]",
    );
    invalid(
        with!(PracticalThing, |t| t.status = ThingStatus::Done),
        "done_on",
    );
    invalid(
        with!(PracticalThing, |t| t.done_on = Some(day(2024, 6, 1))),
        "done_on",
    );
    invalid(
        with!(PracticalThing, |t| t.satisfaction =
            Some(Satisfaction::Satisfied)),
        "satisfaction",
    );
}

#[test]
fn three_to_five_practical_things_is_a_warning_never_a_refusal() {
    for n in [0, 1, 2, 6, 9] {
        let w = PracticalThing::count_warning("dongcun", n).expect("warned");
        assert!(w.text.contains("3 to 5"), "{}", w.text);
    }
    for n in 3..=5 {
        assert_eq!(PracticalThing::count_warning("dongcun", n), None);
    }
}

#[test]
fn org_life_meeting_rules() {
    invalid(with!(OrgLifeMeeting, |m| m.date = day(2999, 1, 1)), "date");
    invalid(with!(OrgLifeMeeting, |m| m.topic = String::new()), "topic");
    invalid(
        with!(OrgLifeMeeting, |m| m
            .attendance
            .insert(p("zhao"), Attendance::absent(" "))),
        "attendance.zhao.reason",
    );
    invalid(
        with!(OrgLifeMeeting, |m| m.points[0].text = String::new()),
        "points[0].text",
    );
}

#[test]
fn notice_rules() {
    invalid(with!(Notice, |n| n.date = day(1999, 1, 1)), "date");
    invalid(with!(Notice, |n| n.title = String::new()), "title");
    invalid(with!(Notice, |n| n.content = "文".repeat(8001)), "content");
    invalid(
        with!(Notice, |n| n.about = vec![doc_id(PROBLEM), doc_id(PROBLEM)]),
        "about[1]",
    );
}

#[test]
fn a_withdrawal_needs_its_reason() {
    let w = |reason: &str, on| Withdrawal {
        by: p("li"),
        on,
        reason: reason.into(),
    };
    assert_eq!(
        w(" ", day(2024, 5, 1))
            .validate()
            .expect_err("no reason")
            .field,
        "withdrawn.reason"
    );
    assert_eq!(
        w("录错", day(2999, 5, 1))
            .validate()
            .expect_err("future")
            .field,
        "withdrawn.on"
    );
    let mut s = stored(sample(RecordKind::Notice));
    s.withdrawn = Some(w("", day(2024, 5, 1)));
    assert_eq!(
        rules::check_record(&s).expect_err("no reason").field,
        "withdrawn.reason"
    );
}

#[test]
fn an_opinion_is_evidence_its_words_never_change() {
    let before = stored(sample(RecordKind::Opinion));
    for (field, edit) in [
        ("text", json!("改过的意见")),
        ("channel", json!("heart_to_heart")),
        ("source", json!("villager")),
        ("date", json!("2024-05-01")),
        ("anonymous", json!(true)),
        ("raised_by", json!("王五")),
        (
            "visit",
            json!({"visit": doc_id(VISIT).to_hex(), "demand": "d1"}),
        ),
    ] {
        let mut fields = before.record.fields();
        fields.insert(field.into(), edit);
        let after =
            stored(Record::from_fields(RecordKind::Opinion, Value::Object(fields)).expect("valid"));
        for by in [cadre(), who("zhang", Role::Secretary)] {
            broken(change(&by, "li", &before, &after), true, field);
        }
    }
    // Its status, its answer and how it is classified move on.
    let after = stored(with!(Opinion, |o| {
        o.status = OpinionStatus::Answered;
        o.answer = Some("已在公示栏公开评定结果".into());
        o.four_winds = FourWinds::Bureaucratism;
    }));
    change(&cadre(), "li", &before, &after).expect("status and answer change");
}

fn withdrawn_by(s: &StoredRecord, by: &str) -> StoredRecord {
    let mut w = s.clone();
    w.withdrawn = Some(Withdrawal {
        by: p(by),
        on: day(2024, 6, 1),
        reason: "录入错误".into(),
    });
    w
}

#[test]
fn a_record_is_withdrawn_by_its_author_or_a_cadre_with_a_reason() {
    let notice = stored(sample(RecordKind::Notice));
    change(&cadre(), "zhang", &notice, &withdrawn_by(&notice, "li")).expect("a cadre");
    let entry = stored(sample(RecordKind::StudyEntry));
    let wang = who("wang", Role::Member);
    change(&wang, "wang", &entry, &withdrawn_by(&entry, "wang")).expect("its author");
    broken(
        change(&wang, "li", &entry, &withdrawn_by(&entry, "wang")),
        true,
        "withdrawn",
    );
    broken(
        change(&cadre(), "li", &notice, &withdrawn_by(&notice, "zhang")),
        true,
        "withdrawn.by",
    );
    let mut edited = withdrawn_by(&notice, "li");
    edited.record = with!(Notice, |n| n.title = "改标题".into());
    broken(change(&cadre(), "li", &notice, &edited), true, "withdrawn");
    // Once withdrawn, it stays as it was.
    let gone = withdrawn_by(&notice, "li");
    let mut revived = gone.clone();
    revived.withdrawn = None;
    broken(change(&cadre(), "li", &gone, &revived), true, "withdrawn");
    let mut changed = gone.clone();
    changed.record = with!(Notice, |n| n.title = "改标题".into());
    broken(change(&cadre(), "li", &gone, &changed), true, "withdrawn");
    // A new record is never made withdrawn.
    let s = withdrawn_by(&notice, "li");
    broken(
        rules::check(
            &Change {
                id: doc_id(NEW),
                seen: None,
                made: &s,
                merged: &s,
                by: &cadre(),
                created_by: None,
            },
            &Town::new(),
        ),
        true,
        "withdrawn",
    );
}

#[test]
fn village_roles_cannot_withdraw_an_opinion_the_township_can() {
    let o = stored(sample(RecordKind::Opinion));
    for (by, role) in [("li", Role::Cadre), ("zhang", Role::Secretary)] {
        broken(
            change(&who(by, role), by, &o, &withdrawn_by(&o, by)),
            true,
            "withdrawn",
        );
    }
    let liu = who("liu", Role::TownshipOfficer);
    change(&liu, "li", &o, &withdrawn_by(&o, "liu")).expect("the township office");
}

#[test]
fn only_the_township_acknowledges_a_filing() {
    let before = stored(sample(RecordKind::Rectification));
    let filed = |by: &str| {
        stored(with!(Rectification, |r| r.filed = Some(Filing {
            date: day(2024, 6, 1),
            acknowledged_by: p(by),
        })))
    };
    broken(change(&cadre(), "li", &before, &filed("li")), true, "filed");
    broken(
        create(&who("zhang", Role::Secretary), filed("liu").record),
        true,
        "filed",
    );
    let liu = who("liu", Role::TownshipOfficer);
    broken(
        change(&liu, "li", &before, &filed("zhu")),
        true,
        "filed.acknowledged_by",
    );
    change(&liu, "li", &before, &filed("liu")).expect("the officer acknowledges");
    // The township does not otherwise edit a village's list.
    let edited = stored(with!(Rectification, |r| r.measure = "乡镇改的".into()));
    broken(change(&liu, "li", &before, &edited), true, "record");
}

#[test]
fn a_step_reached_is_not_taken_back() {
    let done = stored(with!(Rectification, |r| r
        .advance(RectificationStatus::Done, day(2024, 6, 1))));
    let back = stored(sample(RecordKind::Rectification));
    broken(change(&cadre(), "li", &done, &back), true, "steps.done");
    change(&cadre(), "li", &back, &done).expect("forward");
}

#[test]
fn the_township_issues_problems_and_makes_nothing_else() {
    let liu = who("liu", Role::TownshipOfficer);
    let issued = with!(Problem, |x| {
        x.how_found = HowFound::SuperiorIssued;
        x.opinions.clear();
    });
    create(&liu, issued).expect("issuing a problem");
    broken(create(&liu, sample(RecordKind::Problem)), true, "kind");
    broken(create(&liu, sample(RecordKind::Notice)), true, "kind");
}

#[test]
fn notes_keep_their_authors() {
    let note = |author: &str, text: &str| Note {
        date: day(2024, 6, 1),
        text: text.into(),
        author: p(author),
    };
    let before = stored(with!(Rectification, |r| r
        .progress
        .push(note("zhang", "开会"))));
    let mine = stored(with!(Rectification, |r| {
        r.progress.push(note("zhang", "开会"));
        r.progress.push(note("li", "张贴公示"));
    }));
    change(&cadre(), "li", &before, &mine).expect("a note in one's own name");
    let forged = stored(with!(Rectification, |r| {
        r.progress.push(note("zhang", "开会"));
        r.progress.push(note("zhang", "冒名"));
    }));
    broken(
        change(&cadre(), "li", &before, &forged),
        true,
        "progress[1].author",
    );
    let removed = stored(sample(RecordKind::Rectification));
    broken(change(&cadre(), "li", &before, &removed), true, "progress");
    // A member comments on their own entry; a cadre's comment stays theirs.
    let entry = stored(with!(StudyEntry, |e| e.comments.push(note("li", "很好"))));
    let wang = who("wang", Role::Member);
    let altered = stored(with!(StudyEntry, |e| e.comments.push(note("li", "一般"))));
    broken(
        change(&wang, "wang", &entry, &altered),
        true,
        "comments[0].author",
    );
}

#[test]
fn a_record_keeps_its_kind_and_scope() {
    let before = stored(sample(RecordKind::Notice));
    let other = stored(sample(RecordKind::Problem));
    broken(change(&cadre(), "li", &before, &other), true, "kind");
    let mut moved = before.clone();
    moved.scope = Scope::VillageShared(village("xicun"));
    broken(change(&cadre(), "li", &before, &moved), true, "scope");
}

#[test]
fn references_must_be_people_and_records_of_the_village() {
    let li = cadre();
    broken(
        create(
            &li,
            with!(Rectification, |r| r.responsible = vec![p("chen")]),
        ),
        false,
        "responsible[0]",
    );
    broken(
        create(
            &li,
            with!(Rectification, |r| r.responsible = vec![p("nobody")]),
        ),
        false,
        "responsible[0]",
    );
    broken(
        create(
            &li,
            with!(Rectification, |r| r.responsible = vec![p("liu")]),
        ),
        false,
        "responsible[0]",
    );
    broken(
        create(
            &li,
            with!(Rectification, |r| r.problem = doc_id(XICUN_PROBLEM)),
        ),
        false,
        "problem",
    );
    broken(
        create(&li, with!(Rectification, |r| r.problem = doc_id(OPINION))),
        false,
        "problem",
    );
    broken(
        create(
            &li,
            with!(Rectification, |r| r.problem = doc_id(WITHDRAWN_PROBLEM)),
        ),
        false,
        "problem",
    );
    broken(
        create(&li, with!(Rectification, |r| r.problem = doc_id(77))),
        false,
        "problem",
    );
    broken(
        create(
            &li,
            with!(StudySession, |s| s
                .attendance
                .insert(p("sun"), Attendance::present())),
        ),
        false,
        "attendance.sun",
    );
    broken(
        create(
            &li,
            with!(OrgLifeMeeting, |m| m
                .appraisal
                .insert(p("chen"), AppraisalGrade::Excellent)),
        ),
        false,
        "appraisal.chen",
    );
    broken(
        create(&li, with!(Problem, |x| x.opinions = vec![doc_id(PROBLEM)])),
        false,
        "opinions[0]",
    );
    broken(
        create(&li, with!(Visit, |v| v.cadre = p("chen"))),
        false,
        "cadre",
    );
    broken(
        create(&li, with!(ServiceRequest, |s| s.agent = p("nobody"))),
        false,
        "agent",
    );
    broken(
        create(&li, with!(Member, |m| m.person = Some(p("chen")))),
        false,
        "person",
    );
    broken(
        create(
            &li,
            with!(Notice, |n| n.about = vec![doc_id(XICUN_PROBLEM)]),
        ),
        false,
        "about[0]",
    );
    // A copy that cannot tell (a member's phone) leaves it to the server.
    let mut town = Town::new();
    town.unknown_people = true;
    create_in(
        &town,
        &li,
        with!(Rectification, |r| r.responsible = vec![p("nobody")]),
    )
    .expect("unknown is not refused");
}

#[test]
fn a_record_withdrawn_meanwhile_on_another_phone_may_still_be_named() {
    // On the author's phone, which shows the problem withdrawn: refused.
    let measure = with!(Rectification, |r| r.problem = doc_id(WITHDRAWN_PROBLEM));
    broken(create(&cadre(), measure.clone()), false, "problem");
    // On the server, which cannot tell whether the author saw it withdrawn
    // (the withdrawal may come from another phone, made while both were
    // offline): accepted, so the two phones do not part for good.
    let mut server = Town::new();
    server.server = true;
    create_in(&server, &cadre(), measure).expect("a withdrawal that met the measure later");
}

#[test]
fn a_demand_taken_up_meanwhile_on_another_phone_may_be_taken_up_again() {
    let of_d1 = with!(Opinion, |o| o.visit = Some(DemandLink {
        visit: doc_id(VISIT),
        demand: "d1".into(),
    }));
    let taken = stored(with!(Visit, |v| v.demands[0].opinion = Some(doc_id(OPINION))));
    // On the author's phone, which shows d1 already taken up: refused.
    let mut phone = Town::new();
    phone.records.insert(doc_id(VISIT), taken.clone());
    broken(
        create_in(&phone, &cadre(), of_d1.clone()),
        false,
        "visit.demand",
    );
    // On the server, where another cadre's opinion of d1 may have come first
    // from a phone that was offline too: accepted.
    let mut server = Town::new();
    server.server = true;
    server.records.insert(doc_id(VISIT), taken);
    create_in(&server, &cadre(), of_d1).expect("taken up on two phones at once");
}

#[test]
fn references_are_checked_when_made_not_ever_after() {
    // The problem was withdrawn after the measure named it: the measure still moves on.
    let before = stored(with!(Rectification, |r| r.problem = doc_id(WITHDRAWN_PROBLEM)));
    let after = stored(with!(Rectification, |r| {
        r.problem = doc_id(WITHDRAWN_PROBLEM);
        r.advance(RectificationStatus::InProgress, day(2024, 6, 1));
    }));
    change(&cadre(), "li", &before, &after).expect("an old reference stands");
}

#[test]
fn a_demand_and_the_record_made_of_it_name_each_other() {
    let li = cadre();
    let link = |demand: &str| {
        Some(DemandLink {
            visit: doc_id(VISIT),
            demand: demand.into(),
        })
    };
    create(&li, with!(Opinion, |o| o.visit = link("d1"))).expect("an opinion of demand d1");
    create(&li, with!(ServiceRequest, |s| s.visit = link("d1"))).expect("a service of d1");
    broken(
        create(&li, with!(Opinion, |o| o.visit = link("d9"))),
        false,
        "visit.demand",
    );
    broken(
        create(
            &li,
            with!(Opinion, |o| o.visit = Some(DemandLink {
                visit: doc_id(PROBLEM),
                demand: "d1".into(),
            })),
        ),
        false,
        "visit.visit",
    );
    // The visit may name the opinion only if the opinion names the visit.
    let mut town = Town::new();
    let made = stored(with!(Opinion, |o| o.visit = link("d1")));
    town.records.insert(doc_id(NEW), made);
    town.records
        .insert(doc_id(OPINION + 100), stored(sample(RecordKind::Opinion)));
    let visit = stored(sample(RecordKind::Visit));
    let linked = |to: u8| stored(with!(Visit, |v| v.demands[0].opinion = Some(doc_id(to))));
    let check = |after: &StoredRecord| {
        rules::check(
            &Change {
                id: doc_id(VISIT),
                seen: Some(&visit),
                made: after,
                merged: after,
                by: &li,
                created_by: Some(&p("li")),
            },
            &town,
        )
    };
    check(&linked(NEW)).expect("the link both ways");
    broken(check(&linked(OPINION + 100)), false, "demands[0].opinion");
    // Once made, the link and the demand stay.
    let mut d = stored(with!(Visit, |v| v.demands[0].opinion = Some(doc_id(NEW))));
    let Record::Visit(v) = &mut d.record else {
        unreachable!()
    };
    v.demands[0].text = "改了".into();
    broken(
        change_of(doc_id(VISIT), &li, "li", &linked(NEW), &d),
        true,
        "demands[0]",
    );
    let before = stored(with!(ServiceRequest, |s| s.visit = link("d1")));
    let after = stored(sample(RecordKind::ServiceRequest));
    broken(change(&li, "li", &before, &after), true, "visit");
}

#[test]
fn study_counts_for_the_member_and_for_each_attendee_present() {
    let credits = sample(RecordKind::StudySession).study_credits();
    assert_eq!(credits.len(), 1, "zhao was absent: {credits:?}");
    assert_eq!(credits[0].person, p("wang"));
    assert_eq!(credits[0].minutes, 90);
    assert_eq!(credits[0].mode, StudyMode::Centralized);
    let credits = sample(RecordKind::StudyEntry).study_credits();
    assert_eq!(
        (credits[0].person.as_str(), credits[0].minutes),
        ("wang", 45)
    );
    assert!(sample(RecordKind::Opinion).study_credits().is_empty());
}

#[test]
fn codes_and_fields_have_labels_in_both_languages() {
    use crate::codes::Lang;
    assert_eq!(
        code_label(RecordKind::Rectification, "steps", "accepted", Lang::Zh),
        Some("群众认可")
    );
    assert_eq!(
        code_label(RecordKind::ServiceRequest, "status", "done", Lang::Zh),
        Some("已办结")
    );
    assert_eq!(
        code_label(
            RecordKind::OrgLifeMeeting,
            "appraisal",
            "excellent",
            Lang::En
        ),
        Some("Excellent")
    );
    assert_eq!(code_label(RecordKind::Notice, "title", "x", Lang::Zh), None);
    for kind in RecordKind::all() {
        for field in sample(*kind).fields().keys() {
            assert_ne!(
                field_label(field, Lang::Zh),
                field.as_str(),
                "{kind}.{field} has no Chinese label"
            );
        }
    }
}

/// Two phones edit different fields of the same record offline; after they
/// merge, both edits are there, for every kind.
#[test]
fn every_kind_merges_edits_of_different_fields() {
    type Edit = (&'static str, Value);
    let edits: Vec<(RecordKind, Edit, Edit)> = vec![
        (
            RecordKind::Member,
            ("phone", json!("139 1111 2222")),
            ("education", json!("senior_middle")),
        ),
        (
            RecordKind::StudySession,
            ("notes", json!("讨论热烈")),
            ("minutes", json!(120)),
        ),
        (
            RecordKind::StudyEntry,
            ("reflection", json!("更深的体会")),
            (
                "comments",
                json!([{"date": "2024-05-02", "text": "很好", "author": "li"}]),
            ),
        ),
        (
            RecordKind::Opinion,
            ("status", json!("taken_up")),
            ("four_winds", json!("bureaucratism")),
        ),
        (
            RecordKind::Problem,
            ("background", json!("多年未公开")),
            ("solutions", json!("建立制度")),
        ),
        (
            RecordKind::Rectification,
            ("deadline", json!("2024-11-30")),
            (
                "steps",
                json!({"planned": "2024-05-05", "in_progress": "2024-06-01"}),
            ),
        ),
        (
            RecordKind::Visit,
            ("notes", json!("家中困难")),
            (
                "demands",
                json!([{"id": "d1", "text": "村道坑洼"}, {"id": "d2", "text": "自来水"}]),
            ),
        ),
        (
            RecordKind::ServiceRequest,
            ("status", json!("in_progress")),
            ("checklist", json!(["户口本", "收入证明", "残疾证"])),
        ),
        (
            RecordKind::PracticalThing,
            ("target_date", json!("2024-11-01")),
            ("status", json!("in_progress")),
        ),
        (
            RecordKind::OrgLifeMeeting,
            ("topic", json!("查摆“四风”")),
            ("appraisal", json!({"wang": "excellent"})),
        ),
        (
            RecordKind::Notice,
            ("content", json!("收支明细")),
            ("medium", json!("meeting")),
        ),
    ];
    assert_eq!(edits.len(), RecordKind::all().len());
    let li = p("li");
    let zhang = p("zhang");
    for (kind, (fa, va), (fb, vb)) in edits {
        let base = sample(kind);
        let edited = |f: &str, v: &Value| {
            let mut m = base.fields();
            m.insert(f.into(), v.clone());
            Record::from_fields(kind, Value::Object(m)).expect("valid edit")
        };
        let (a1, a2) = (ActorId::from([1u8; 16]), ActorId::from([2u8; 16]));
        let by1 = Author {
            actor: &a1,
            person: &li,
            time: 1,
        };
        let by2 = Author {
            actor: &a2,
            person: &zhang,
            time: 2,
        };
        let scope = base.home_scope(&village("dongcun"));
        let (_, mut one, _) = record_doc::create(&by1, &scope, 1, &base).expect("create");
        let mut two = one.fork().with_actor(a2.clone());
        record_doc::update(&mut one, &by1, &base, &edited(fa, &va)).expect("edit a");
        record_doc::update(&mut two, &by2, &base, &edited(fb, &vb)).expect("edit b");
        one.merge(&mut two).expect("merge");
        two.merge(&mut one).expect("merge");
        let merged = record_doc::read(&one).expect("read").record.fields();
        assert_eq!(merged.get(fa), Some(&va), "{kind}: {fa}");
        assert_eq!(merged.get(fb), Some(&vb), "{kind}: {fb}");
        assert_eq!(
            record_doc::read(&two).expect("read").record.fields(),
            merged
        );
    }
}

#[test]
fn concurrent_steps_merge_to_the_furthest() {
    let base = sample(RecordKind::Rectification);
    let step = |s: RectificationStatus, d| with!(Rectification, |r| r.advance(s, d));
    let (a1, a2) = (ActorId::from([1u8; 16]), ActorId::from([2u8; 16]));
    let (li, zhang) = (p("li"), p("zhang"));
    let by1 = Author {
        actor: &a1,
        person: &li,
        time: 1,
    };
    let by2 = Author {
        actor: &a2,
        person: &zhang,
        time: 2,
    };
    let scope = base.home_scope(&village("dongcun"));
    let (_, mut one, _) = record_doc::create(&by1, &scope, 1, &base).expect("create");
    let mut two = one.fork().with_actor(a2.clone());
    let done = step(RectificationStatus::Done, day(2024, 6, 2));
    record_doc::update(&mut one, &by1, &base, &done).expect("done");
    // Many edits on the other phone, so its operations outnumber the first's.
    let mut cur = base.clone();
    for i in 0..5 {
        let mut next = step(RectificationStatus::InProgress, day(2024, 6, 1));
        if let Record::Rectification(r) = &mut next {
            r.objective = format!("目标{i}");
        }
        record_doc::update(&mut two, &by2, &cur, &next).expect("in progress");
        cur = next;
    }
    one.merge(&mut two).expect("merge");
    let Record::Rectification(r) = record_doc::read(&one).expect("read").record else {
        unreachable!()
    };
    assert_eq!(r.status(), RectificationStatus::Done);
    assert_eq!(
        r.reached(RectificationStatus::InProgress),
        Some(day(2024, 6, 1))
    );
}

#[test]
fn attendance_marked_on_two_phones_merges_per_person() {
    let base = with!(StudySession, |s| s.attendance.clear());
    let mark = |who: &str, a: Attendance| {
        with!(StudySession, |s| {
            s.attendance.clear();
            s.attendance.insert(p(who), a);
        })
    };
    let (a1, a2) = (ActorId::from([1u8; 16]), ActorId::from([2u8; 16]));
    let (li, zhang) = (p("li"), p("zhang"));
    let by1 = Author {
        actor: &a1,
        person: &li,
        time: 1,
    };
    let by2 = Author {
        actor: &a2,
        person: &zhang,
        time: 2,
    };
    let scope = base.home_scope(&village("dongcun"));
    let (_, mut one, _) = record_doc::create(&by1, &scope, 1, &base).expect("create");
    let mut two = one.fork().with_actor(a2.clone());
    record_doc::update(&mut one, &by1, &base, &mark("wang", Attendance::present())).expect("a");
    record_doc::update(
        &mut two,
        &by2,
        &base,
        &mark("zhao", Attendance::absent("生病")),
    )
    .expect("b");
    one.merge(&mut two).expect("merge");
    let Record::StudySession(s) = record_doc::read(&one).expect("read").record else {
        unreachable!()
    };
    assert_eq!(s.attendance.len(), 2);
    assert!(s.attendance[&p("wang")].present);
    assert_eq!(s.attendance[&p("zhao")].reason, "生病");
    assert_eq!(roll_counts(&s.attendance), (1, 1));
}

/// The stored form of every kind (field names and codes) and every code of
/// every enumeration, as written to documents and SQLite. A change here is a
/// change of format: existing records would no longer read.
#[test]
fn the_stored_form_of_records_and_codes_is_pinned() {
    let mut records = String::new();
    for kind in RecordKind::all() {
        records.push_str(&serde_json::to_string(&sample(*kind)).expect("json"));
        records.push('\n');
    }
    let mut codes = String::new();
    for list in crate::catalog::code_lists() {
        let values: Vec<_> = list.values.iter().map(|v| v.code).collect();
        codes.push_str(&format!("{}: {}\n", list.name, values.join(" ")));
    }
    if std::env::var_os("MASSLINE_WRITE_FIXTURES").is_some() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/records/fixtures");
        std::fs::write(format!("{dir}/records.jsonl"), &records).expect("write");
        std::fs::write(format!("{dir}/codes.txt"), &codes).expect("write");
    }
    assert_eq!(records, include_str!("fixtures/records.jsonl"));
    assert_eq!(codes, include_str!("fixtures/codes.txt"));
    for line in include_str!("fixtures/records.jsonl").lines() {
        let back: Record = serde_json::from_str(line).expect("reads back");
        back.validate().expect("valid");
    }
}
