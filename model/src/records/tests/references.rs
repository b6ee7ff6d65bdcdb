//! The people and records a record names: of its village, checked when
//! named, and a visit's demand and the record made of it naming each other.

use super::*;

#[test]
fn references_must_be_people_and_records_of_the_village() {
    let li = cadre();
    create(&li, with!(Opinion, |o| o.meeting = Some(doc_id(MEETING)))).expect("heard at a meeting");
    broken(
        create(&li, with!(Opinion, |o| o.meeting = Some(doc_id(PROBLEM)))),
        false,
        "meeting",
    );
    broken(
        create(
            &li,
            with!(ListeningMeeting, |m| m.members = vec![p("chen")]),
        ),
        false,
        "members[0]",
    );
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
