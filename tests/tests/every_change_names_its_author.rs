//! Every change names its author: one whose message names nobody is refused
//! with the reason, so every record's history says who changed what.

use automerge::ROOT;
use automerge::transaction::{CommitOptions, Transactable};
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, raw, record_of, study};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_naming_no_author_is_refused() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let id = wang
        .client
        .create(study("wang", 45, "群众路线读本"), None)
        .unwrap();
    wang.client.sync().await.unwrap();

    let anonymous_edit = raw::edit_ops(&wang, &id, |tx, _| {
        tx.put(ROOT, "minutes", 60).unwrap();
        CommitOptions::default().with_time(1_700_000_000)
    });
    let anonymous_record = raw::first_ops(&raw::actor_of(&wang), |tx| {
        let fields = json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": 9,
            "member": "wang", "date": "2024-05-01", "material": "mass_line_reading",
            "topic": "读本", "mode": "self_study", "minutes": 30, "reflection": ""});
        if let serde_json::Value::Object(m) = fields {
            massline_core::doc_json::reconcile_map(tx, &ROOT, &Default::default(), &m).unwrap();
        }
        CommitOptions::default()
    });
    let named = raw::edit_ops(&wang, &id, |tx, _| {
        tx.put(ROOT, "minutes", 60).unwrap();
        raw::commit_by("wang")
    });
    let answer = raw::push_changes(&wang, &[anonymous_edit, anonymous_record, named]).await;
    assert_eq!(answer.accepted, 1, "{answer:?}");
    for r in &answer.refused {
        assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
        assert!(r.reason.contains("names no author"), "{}", r.reason);
    }
    assert_eq!(answer.refused.len(), 2);

    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    zhang.client.sync().await.unwrap();
    assert_eq!(record_of!(zhang, &id, StudyEntry).minutes, 60);
    let history = zhang.client.history(&id).unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .all(|h| h.by.as_ref().map(|p| p.as_str()) == Some("wang"))
    );
    server.stop().await;
}
