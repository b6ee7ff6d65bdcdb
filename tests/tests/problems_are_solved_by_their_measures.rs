//! A problem is solved only when its rectification measures are all done,
//! and accepted by the masses only once announced (its measures announced,
//! or a notice naming it); taking opinions up into a problem marks them
//! taken up. The phone refuses the early steps naming the step; what it
//! allows reaches the server, whose typed rows show the opinion taken up and
//! the problem accepted, and another cadre's phone.

use massline_core::records::{OpinionStatus, ProblemStatus, RectificationStatus};
use massline_core::{Error, Record};
use massline_tests::{Device, TestServer, Township, opinion, problem, record_of, rectification};

#[track_caller]
fn refused_on(result: Result<Record, Error>, field: &str) {
    match result {
        Err(Error::InvalidRecord(e)) => assert_eq!(e.field, field, "{e}"),
        other => panic!("expected a refusal of `{field}`, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_problem_is_solved_by_its_measures_and_accepted_once_announced() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let today = chrono::Local::now().date_naive();

    let heard = li.client.create(opinion("低保评定不公开"), None).unwrap();
    let Record::Problem(mut p) = problem("低保评定不公开") else {
        unreachable!()
    };
    p.opinions = vec![heard];
    let pid = li.client.create(Record::Problem(p), None).unwrap();
    let o = record_of!(li, &heard, Opinion);
    assert_eq!(
        o.status,
        OpinionStatus::TakenUp,
        "taken up with the problem"
    );

    let step = |s: ProblemStatus| {
        move |r: &mut Record| {
            if let Record::Problem(p) = r {
                p.steps.insert(s, today);
            }
            Ok(())
        }
    };
    refused_on(
        li.client.edit(&pid, step(ProblemStatus::Solved)),
        "steps.solved",
    );
    let m1 = li
        .client
        .create(rectification(pid, "公开评定名单"), None)
        .unwrap();
    let m2 = li
        .client
        .create(rectification(pid, "群众代表参与评定"), None)
        .unwrap();
    let measure = |announce: bool| {
        move |r: &mut Record| {
            if let Record::Rectification(m) = r {
                m.advance(RectificationStatus::Done, today);
                if announce {
                    m.announced_on = Some(today);
                }
            }
            Ok(())
        }
    };
    li.client.edit(&m1, measure(true)).unwrap();
    refused_on(
        li.client.edit(&pid, step(ProblemStatus::Solved)),
        "steps.solved",
    );
    li.client.edit(&m2, measure(false)).unwrap();
    li.client.edit(&pid, step(ProblemStatus::Solved)).unwrap();
    refused_on(
        li.client.edit(&pid, step(ProblemStatus::Accepted)),
        "steps.accepted",
    );
    li.client.edit(&m2, measure(true)).unwrap();
    li.client.edit(&pid, step(ProblemStatus::Accepted)).unwrap();
    let report = li.client.sync().await.unwrap();
    assert_eq!(report.refused, 0, "{report:?}");

    town.wait_for_rows();
    let db = town.server_db();
    let status: String = db
        .query_row(
            "SELECT status FROM opinions WHERE doc_id = ?1",
            [heard.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "taken_up");
    let status: String = db
        .query_row(
            "SELECT status FROM problems WHERE doc_id = ?1",
            [pid.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "accepted");

    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    zhang.client.sync().await.unwrap();
    assert_eq!(
        record_of!(zhang, &pid, Problem).status(),
        ProblemStatus::Accepted
    );
    assert_eq!(
        record_of!(zhang, &heard, Opinion).status,
        OpinionStatus::TakenUp
    );
    server.stop().await;
}
