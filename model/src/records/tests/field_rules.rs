//! Every field rule of every kind, each with one refused example: the rules
//! the fields declare and those the kinds add.

use serde_json::{Value, json};

use super::*;

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
        RecordKind::ListeningMeeting,
    ] {
        assert_eq!(scope(k), Scope::VillageCadre(v.clone()), "{k}");
    }
    for k in [
        RecordKind::StudySession,
        RecordKind::Problem,
        RecordKind::Rectification,
        RecordKind::PracticalThing,
        RecordKind::Notice,
        RecordKind::Regulation,
        RecordKind::PhaseEntry,
    ] {
        assert_eq!(scope(k), Scope::VillageShared(v.clone()), "{k}");
    }
    assert_eq!(scope(RecordKind::CampaignPlan), Scope::Township);
    sample(RecordKind::CampaignPlan)
        .check_scope(&Scope::Township)
        .expect("the plan is the township's");
    let e = sample(RecordKind::CampaignPlan)
        .check_scope(&Scope::VillageShared(v.clone()))
        .expect_err("the plan is no village's");
    assert_eq!(e.field, "kind");
    // A notice is a village's, or the township's to every village; a
    // regulation only a village's.
    sample(RecordKind::Notice)
        .check_scope(&Scope::Township)
        .expect("the township makes notices public to every village");
    let e = sample(RecordKind::Regulation)
        .check_scope(&Scope::Township)
        .expect_err("a regulation is a village's");
    assert_eq!(e.field, "kind");
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
fn listening_meeting_rules() {
    invalid(
        with!(ListeningMeeting, |m| m.place = String::new()),
        "place",
    );
    invalid(
        with!(ListeningMeeting, |m| m.topics = String::new()),
        "topics",
    );
    invalid(
        with!(ListeningMeeting, |m| m.date = day(1999, 1, 1)),
        "date",
    );
    invalid(
        with!(ListeningMeeting, |m| m.others =
            ListeningMeeting::MAX_OTHERS + 1),
        "others",
    );
    invalid(
        with!(ListeningMeeting, |m| m.members = vec![p("wang"), p("wang")]),
        "members[1]",
    );
}

#[test]
fn regulation_rules() {
    invalid(with!(Regulation, |r| r.title = String::new()), "title");
    invalid(
        with!(Regulation, |r| r.adopted_on = day(1999, 1, 1)),
        "adopted_on",
    );
    invalid(with!(Regulation, |r| r.text = "规".repeat(8001)), "text");
    invalid(
        with!(Regulation, |r| r.announced_on = Some(day(2024, 6, 9))),
        "announced_on",
    );
    with!(Regulation, |r| r.announced_on = None)
        .validate()
        .expect("adopted, not yet announced");
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
