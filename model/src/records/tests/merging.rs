//! How each kind's document merges edits made on two phones at once.

use serde_json::{Value, json};

use super::*;

/// Two phones edit different fields of the same record offline; after they
/// merge, both edits are there, for every kind.
#[test]
fn every_kind_merges_edits_of_different_fields() {
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
        (
            RecordKind::ListeningMeeting,
            ("topics", json!("村务公开、低保评定")),
            ("others", json!(30)),
        ),
        (
            RecordKind::Regulation,
            ("text", json!("每月五日前公开。")),
            ("announced_on", json!("2024-06-15")),
        ),
        (
            RecordKind::ComparisonMaterial,
            ("causes", json!("理论学习不深")),
            (
                "points",
                json!([
                    {"wind": "formalism", "text": "开会多、落实少"},
                    {"wind": "bureaucratism", "text": "下访少"}
                ]),
            ),
        ),
        (
            RecordKind::MobileContact,
            ("materials_sent", json!(false)),
            ("how", json!("message")),
        ),
        (
            RecordKind::CampaignPlan,
            ("title", json!("修订后的实施方案")),
            ("learning_end", json!("2024-07-10")),
        ),
        (
            RecordKind::PhaseEntry,
            ("note", json!("召开全体党员动员大会")),
            ("entered_on", json!("2024-06-02")),
        ),
        (
            RecordKind::ServiceChecklist,
            (
                "items",
                json!(["户口本", "身份证", "家庭收入证明", "残疾证"]),
            ),
            ("issued_on", json!("2024-05-21")),
        ),
    ];
    assert_eq!(edits.len(), RecordKind::all().len());
    for (kind, a, b) in edits {
        both_stand(sample(kind), a, b);
    }
}

/// The campaign's fields added to older kinds merge like the rest: a
/// member's contact cadre and pairing helper, a measure's submission for
/// filing beside a progress note.
#[test]
fn campaign_fields_merge_with_other_edits() {
    both_stand(
        sample(RecordKind::Member),
        ("contact_cadre", json!("li")),
        (
            "pairing",
            json!({"kind": "graduate_official", "name": "小刘"}),
        ),
    );
    both_stand(
        with!(Rectification, |r| {
            r.advance(RectificationStatus::Done, day(2024, 6, 1));
            r.announced_on = Some(day(2024, 6, 2));
        }),
        ("submitted", json!({"date": "2024-06-03", "by": "zhang"})),
        (
            "progress",
            json!([{"date": "2024-06-04", "text": "群众满意", "author": "li"}]),
        ),
    );
}

type Edit = (&'static str, Value);

/// Two phones edit `base` offline, one field each; after they merge, both
/// edits are there, on both.
fn both_stand(base: Record, (fa, va): Edit, (fb, vb): Edit) {
    let kind = base.kind();
    let li = p("li");
    let zhang = p("zhang");
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
