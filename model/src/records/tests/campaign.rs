//! The campaign as the seed runs it: a problem solved only when its measures
//! are done and accepted only once announced (judged on the author's copy),
//! opinions taken up, a cadre's own comparison-inspection material, a
//! measure submitted for filing by the secretary, mobile members' contacts
//! and each member's contact cadre.

use super::*;

fn secretary() -> Principal {
    who("zhang", Role::Secretary)
}

/// Measure `n` of the problem `NEW`, at `step`, announced or not.
fn measure(step: RectificationStatus, announced: bool) -> StoredRecord {
    stored(with!(Rectification, |r| {
        r.problem = doc_id(NEW);
        r.advance(step, day(2024, 6, 1));
        if announced {
            r.announced_on = Some(day(2024, 6, 2));
        }
    }))
}

/// The problem `NEW` moved on from open to `steps`, judged in `town`.
fn move_problem(town: &Town, steps: &[ProblemStatus]) -> Result<(), Broken> {
    let open = stored(sample(RecordKind::Problem));
    let moved = stored(with!(Problem, |x| {
        for s in steps {
            x.steps.insert(*s, day(2024, 6, 3));
        }
    }));
    rules::check(
        &Change {
            id: doc_id(NEW),
            seen: Some(&open),
            made: &moved,
            merged: &moved,
            by: &cadre(),
            created_by: Some(&p("li")),
        },
        town,
    )
}

fn town_with(records: Vec<StoredRecord>) -> Town {
    let mut town = Town::new();
    for (i, r) in records.into_iter().enumerate() {
        town.records.insert(doc_id(100 + i as u8), r);
    }
    town
}

#[test]
fn a_problem_is_solved_only_when_its_measures_are_all_done() {
    use ProblemStatus::Solved;
    broken(move_problem(&Town::new(), &[Solved]), false, "steps.solved");
    let half = town_with(vec![
        measure(RectificationStatus::Done, false),
        measure(RectificationStatus::InProgress, false),
    ]);
    broken(move_problem(&half, &[Solved]), false, "steps.solved");
    let done = town_with(vec![
        measure(RectificationStatus::Done, false),
        measure(RectificationStatus::Accepted, true),
    ]);
    move_problem(&done, &[Solved]).expect("all done");

    // A withdrawn measure does not count.
    let mut withdrawn = measure(RectificationStatus::Planned, false);
    withdrawn.withdrawn = Some(Withdrawal {
        by: p("li"),
        on: day(2024, 6, 1),
        reason: "重复".into(),
    });
    let mut town = town_with(vec![measure(RectificationStatus::Done, false), withdrawn]);
    move_problem(&town, &[Solved]).expect("the withdrawn measure left out");

    // The server cannot tell which measures the author had seen: it leaves
    // the rule to the author's phone.
    town = half;
    town.server = true;
    move_problem(&town, &[Solved]).expect("judged on the author's copy only");
}

#[test]
fn a_problem_is_accepted_only_once_announced() {
    use ProblemStatus::{Accepted, Solved};
    let unannounced = town_with(vec![measure(RectificationStatus::Done, false)]);
    broken(
        move_problem(&unannounced, &[Solved, Accepted]),
        false,
        "steps.accepted",
    );
    let announced = town_with(vec![measure(RectificationStatus::Done, true)]);
    move_problem(&announced, &[Solved, Accepted]).expect("its measures announced");
    let notice = stored(with!(Notice, |n| n.about = vec![doc_id(NEW)]));
    let by_notice = town_with(vec![measure(RectificationStatus::Done, false), notice]);
    move_problem(&by_notice, &[Solved, Accepted]).expect("a notice names it");
}

#[test]
fn a_problem_takes_up_only_the_opinions_it_newly_names() {
    let Record::Problem(before) = sample(RecordKind::Problem) else {
        unreachable!()
    };
    let mut after = before.clone();
    after.opinions.push(doc_id(NEW));
    assert_eq!(after.takes_up(Some(&before)), vec![doc_id(NEW)]);
    assert_eq!(after.takes_up(None), vec![doc_id(OPINION), doc_id(NEW)]);
    let Record::Opinion(mut o) = sample(RecordKind::Opinion) else {
        unreachable!()
    };
    o.take_up();
    assert_eq!(o.status, OpinionStatus::TakenUp);
    o.status = OpinionStatus::Answered;
    o.answer = Some("已公开".into());
    o.take_up();
    assert_eq!(o.status, OpinionStatus::Answered, "an answer stands");
}

#[test]
fn only_its_author_writes_a_comparison_material() {
    let mine = with!(ComparisonMaterial, |m| m.author = p("li"));
    create(&cadre(), mine.clone()).expect("li writes their own");
    broken(create(&secretary(), mine.clone()), true, "author");
    let before = stored(mine);
    let after = stored(with!(ComparisonMaterial, |m| m.causes = "改写".into()));
    change(&cadre(), "li", &before, &after).expect("the author edits it");
    broken(change(&secretary(), "li", &before, &after), true, "author");
    invalid(
        with!(ComparisonMaterial, |m| m.points =
            vec![m.points[0].clone(); ComparisonMaterial::MAX_POINTS + 1]),
        "points",
    );
    invalid(
        with!(ComparisonMaterial, |m| m.points[0].text = String::new()),
        "points[0].text",
    );
    assert_eq!(
        sample(RecordKind::ComparisonMaterial).home_scope(&village("dongcun")),
        Scope::VillageCadre(village("dongcun")),
        "members do not read it"
    );
}

#[test]
fn the_secretary_submits_a_done_and_announced_measure_for_filing() {
    let done = with!(Rectification, |r| {
        r.advance(RectificationStatus::Done, day(2024, 6, 1));
        r.announced_on = Some(day(2024, 6, 2));
    });
    let submitted = |by: &str| {
        let Record::Rectification(mut r) = done.clone() else {
            unreachable!()
        };
        r.submitted = Some(Submission {
            date: day(2024, 6, 3),
            by: p(by),
        });
        stored(Record::Rectification(r))
    };
    let before = stored(done.clone());
    change(&secretary(), "li", &before, &submitted("zhang")).expect("the secretary submits");
    broken(
        change(&cadre(), "li", &before, &submitted("li")),
        true,
        "submitted",
    );
    broken(
        change(&secretary(), "li", &before, &submitted("li")),
        true,
        "submitted.by",
    );
    broken(
        change(&secretary(), "li", &submitted("zhang"), &before),
        true,
        "submitted",
    );
    invalid(
        with!(Rectification, |r| r.submitted = Some(Submission {
            date: day(2024, 6, 3),
            by: p("zhang")
        })),
        "submitted",
    );
    let Record::Rectification(r) = submitted("zhang").record else {
        unreachable!()
    };
    assert_eq!(r.filing_state(), FilingState::Submitted);
}

#[test]
fn a_contact_is_with_a_mobile_member_and_a_member_has_a_contact_cadre() {
    create(&cadre(), sample(RecordKind::MobileContact)).expect("a mobile member");
    let mut town = Town::new();
    town.records
        .insert(doc_id(MOBILE_MEMBER), stored(sample(RecordKind::Member)));
    broken(
        create_in(&town, &cadre(), sample(RecordKind::MobileContact)),
        false,
        "member",
    );
    broken(
        create(
            &cadre(),
            with!(MobileContact, |c| c.member = doc_id(OPINION)),
        ),
        false,
        "member",
    );
    invalid(with!(MobileContact, |c| c.said = String::new()), "said");
    create(&cadre(), with!(Member, |m| m.contact_cadre = Some(p("li")))).expect("li contacts wang");
    broken(
        create(
            &cadre(),
            with!(Member, |m| m.contact_cadre = Some(p("chen"))),
        ),
        false,
        "contact_cadre",
    );
    invalid(
        with!(Member, |m| m.contact_cadre = Some(p("wang"))),
        "contact_cadre",
    );
}
