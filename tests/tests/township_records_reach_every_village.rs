//! The township's own scope (`t/shared`): a record the township office makes
//! there (the campaign plan) reaches a member and a cadre of two villages;
//! a secretary's attempt to write it is refused on the phone and, pushed by
//! hand, by the server, naming the scope; a member's idle sync with it is
//! still one call.

use massline_core::{Error, Record, RecordKind, Scope};
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, campaign_plan, raw};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_township_office_writes_the_township_scope_and_every_village_reads_it() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let liu = Device::enrol(&town, server.addr, "liu").await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let chen = Device::enrol(&town, server.addr, "chen").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;

    let plan = liu.client.create(campaign_plan("实施方案"), None).unwrap();
    assert_eq!(liu.client.get(&plan).unwrap().scope, Some(Scope::Township));
    let r = liu.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (1, 0));

    // A member of 东村 and a cadre of 西村 both get it.
    for device in [&wang, &chen] {
        device.client.sync().await.unwrap();
        let row = device.client.get(&plan).unwrap();
        assert_eq!(row.scope, Some(Scope::Township));
        assert_eq!(row.record, Some(campaign_plan("实施方案")));
    }
    // With the township's scope among its own, a member's idle sync is one call.
    let idle = wang.client.sync().await.unwrap();
    assert_eq!(
        (idle.pushed, idle.pulled, idle.calls),
        (0, 0, 1),
        "{idle:?}"
    );

    // The secretary's phone refuses to make a township record or change one.
    zhang.client.sync().await.unwrap();
    match zhang.client.create(campaign_plan("书记的方案"), None) {
        Err(Error::Forbidden(m)) => assert!(m.contains("t/shared"), "{m}"),
        other => panic!("a secretary may not write the township scope: {other:?}"),
    }
    let mut changed = campaign_plan("实施方案");
    if let Record::CampaignPlan(p) = &mut changed {
        p.title = "书记改的方案".into();
    }
    match zhang
        .client
        .update(&plan, &campaign_plan("实施方案"), &changed)
    {
        Err(Error::Forbidden(m)) => assert!(m.contains("t/shared"), "{m}"),
        other => panic!("a secretary may not change the plan: {other:?}"),
    }

    // Pushed by hand, as a hostile device would, the server refuses both,
    // naming the scope, and stores nothing of them.
    let before = town.stored_changes();
    let made = raw::first_change(
        &raw::actor_of(&zhang),
        "zhang",
        json!({"kind": "campaign_plan", "scope": "t/shared", "serial": 99,
               "title": "书记的方案", "issued_on": "2024-05-20",
               "learning_start": "2024-06-01", "learning_end": "2024-07-15",
               "criticism_start": "2024-07-16", "criticism_end": "2024-08-31",
               "rectification_start": "2024-09-01", "rectification_end": "2024-11-30"}),
    );
    let edit = raw::edit_change(&zhang, &plan, "zhang", |root| {
        root.insert("title".into(), json!("书记改的方案"));
    });
    for change in [made, edit] {
        let answer = raw::push_changes(&zhang, &[change]).await;
        let [r] = answer.refused.as_slice() else {
            panic!("the secretary's change should be refused: {answer:?}")
        };
        assert_eq!(r.code(), pb::RefusalCode::ForbiddenScope, "{}", r.reason);
        assert!(r.reason.contains("t/shared"), "{}", r.reason);
    }
    assert_eq!(town.stored_changes(), before);
    wang.client.sync().await.unwrap();
    assert_eq!(
        wang.client
            .list(Some(RecordKind::CampaignPlan))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        wang.client.get(&plan).unwrap().record,
        Some(campaign_plan("实施方案"))
    );
    server.stop().await;
}
