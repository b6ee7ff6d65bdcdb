//! The village Party secretary submits a done and announced measure for
//! filing with the township in their own name (`massline rectification
//! update --submitted-on`); the server's typed row lists it as submitted but
//! not acknowledged until the township officer acknowledges it, then as
//! filed. A cadre's submission is refused on their phone, and pushed by
//! hand as a hostile device would, by the server, naming `submitted`.

use massline_core::records::RectificationStatus;
use massline_core::{Error, Record};
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, massline, raw, record_of, rectification};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secretary_submits_and_the_township_acknowledges() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let today = chrono::Local::now().date_naive();
    let pid = li.problem("村务公开不及时");
    let mut m = rectification(pid, "每月公开一次");
    if let Record::Rectification(r) = &mut m {
        r.advance(RectificationStatus::Done, today);
        r.announced_on = Some(today);
    }
    let id = li.client.create(m, None).unwrap();
    li.client.sync().await.unwrap();

    // A cadre may not submit, on the phone or by hand.
    let submit = |r: &mut Record| {
        if let Record::Rectification(m) = r {
            m.submitted = Some(massline_core::records::Submission {
                date: today,
                by: massline_core::PersonId::new("li").unwrap(),
            });
        }
        Ok(())
    };
    match li.client.edit(&id, submit) {
        Err(Error::InvalidRecord(e)) => assert_eq!(e.field, "submitted", "{e}"),
        other => panic!("a cadre's submission should be refused: {other:?}"),
    }
    let forged = raw::edit_change(&li, &id, "li", |root| {
        root.insert(
            "submitted".into(),
            json!({"date": today.to_string(), "by": "li"}),
        );
    });
    let answer = raw::push_changes(&li, &[forged]).await;
    let [r] = answer.refused.as_slice() else {
        panic!("the forged submission should be refused: {answer:?}")
    };
    assert_eq!(r.code(), pb::RefusalCode::ImmutableField, "{}", r.reason);
    assert!(r.reason.contains("submitted"), "{}", r.reason);

    let filing = || -> String {
        town.wait_for_rows();
        town.server_db()
            .query_row(
                "SELECT filing FROM rectifications WHERE doc_id = ?1",
                [id.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(filing(), "not_submitted");

    // The secretary submits on the command line.
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    zhang.client.sync().await.unwrap();
    massline(
        &zhang.path,
        &[
            "rectification",
            "update",
            &id.to_hex(),
            "--submitted-on",
            &today.to_string(),
        ],
    );
    let s = record_of!(zhang, &id, Rectification).submitted.unwrap();
    assert_eq!((s.by.as_str(), s.date), ("zhang", today));
    zhang.client.sync().await.unwrap();
    assert_eq!(filing(), "submitted");
    let waiting: Vec<Vec<u8>> = town
        .server_db()
        .prepare("SELECT doc_id FROM rectifications WHERE filing = 'submitted'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(waiting, [id.as_bytes().to_vec()], "the township's inbox");

    let liu = Device::enrol(&town, server.addr, "liu").await;
    liu.client.sync().await.unwrap();
    liu.client
        .edit(&id, |r| {
            if let Record::Rectification(m) = r {
                m.filed = Some(massline_core::records::Filing {
                    date: today,
                    acknowledged_by: massline_core::PersonId::new("liu").unwrap(),
                });
            }
            Ok(())
        })
        .unwrap();
    liu.client.sync().await.unwrap();
    assert_eq!(filing(), "filed");
    server.stop().await;
}
