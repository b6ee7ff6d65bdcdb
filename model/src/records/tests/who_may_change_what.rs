//! Who may change what: evidence that never changes, withdrawals, filings,
//! steps that never go back, what the township office may make and change,
//! notes kept by their authors.

use serde_json::{Value, json};

use super::*;

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
        ("meeting", json!(doc_id(MEETING).to_hex())),
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
    let submitted = |r: &mut Rectification| {
        r.announced_on = Some(day(2024, 5, 20));
        r.advance(RectificationStatus::Done, day(2024, 5, 19));
        r.submitted = Some(Submission {
            date: day(2024, 5, 20),
            by: p("zhang"),
        });
    };
    let before = stored(with!(Rectification, |r| submitted(&mut r)));
    let filed = |by: &str| {
        stored(with!(Rectification, |r| {
            submitted(&mut r);
            r.filed = Some(Filing {
                date: day(2024, 6, 1),
                acknowledged_by: p(by),
            });
        }))
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
    // Nor a measure its secretary never submitted.
    let never_submitted = stored(sample(RecordKind::Rectification));
    let filed_alone = stored(with!(Rectification, |r| r.filed = Some(Filing {
        date: day(2024, 6, 1),
        acknowledged_by: p("liu"),
    })));
    broken(
        change(&liu, "li", &never_submitted, &filed_alone),
        false,
        "filed",
    );
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
fn a_problem_moves_on_and_is_accepted_only_once_solved() {
    let open = stored(sample(RecordKind::Problem));
    let Record::Problem(p) = &open.record else {
        unreachable!()
    };
    assert_eq!(
        p.status(),
        ProblemStatus::Open,
        "a problem with no step is open"
    );
    let solved = stored(with!(Problem, |x| {
        x.four_winds = Some(FourWinds::Formalism);
        x.steps
            .insert(ProblemStatus::BeingRectified, day(2024, 5, 20));
        x.steps.insert(ProblemStatus::Solved, day(2024, 6, 1));
    }));
    // On the server's copy: a problem's measures are judged on the
    // author's phone (`campaign.rs`).
    let mut server = Town::new();
    server.server = true;
    let li = PersonId::new("li").expect("person");
    rules::check(
        &Change {
            id: doc_id(NEW),
            seen: Some(&open),
            made: &solved,
            merged: &solved,
            by: &cadre(),
            created_by: Some(&li),
        },
        &server,
    )
    .expect("labelled and moved on");
    broken(
        change(&cadre(), "li", &solved, &open),
        true,
        "steps.being_rectified",
    );
    let accepted_unsolved = with!(Problem, |x| {
        x.steps.insert(ProblemStatus::Accepted, day(2024, 6, 1));
    });
    assert_eq!(
        accepted_unsolved.validate().expect_err("not solved").field,
        "steps.accepted"
    );
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
