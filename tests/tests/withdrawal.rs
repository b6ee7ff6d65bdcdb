//! A record entered by mistake is withdrawn with a reason by its author or a
//! cadre: the tombstone syncs, the record leaves every list but stays in the
//! history. Opinions are evidence: no village role withdraws one, on the
//! phone or past it; the township office can.

use massline_core::{Error, RecordKind};
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, notice, opinion, raw, study};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_record_leaves_every_list_and_keeps_its_history() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let id = li.client.create(notice("五月村务公开"), None).unwrap();
    li.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();
    wang.client.sync().await.unwrap();
    assert_eq!(wang.client.list(Some(RecordKind::Notice)).unwrap().len(), 1);

    zhang.client.withdraw(&id, "与四月重复").unwrap();
    assert!(
        zhang
            .client
            .list(Some(RecordKind::Notice))
            .unwrap()
            .is_empty()
    );
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    wang.client.sync().await.unwrap();

    for d in [&li, &zhang, &wang] {
        assert!(d.client.list(Some(RecordKind::Notice)).unwrap().is_empty());
        let all = d.client.list_all(Some(RecordKind::Notice)).unwrap();
        let w = all[0].withdrawn.as_ref().expect("withdrawn");
        assert_eq!((w.by.as_str(), w.reason.as_str()), ("zhang", "与四月重复"));
        assert!(all[0].record.is_some(), "the record itself is kept");
    }
    // Every phone can tell who made it and who withdrew it.
    let h = wang.client.history(&id).unwrap();
    let who: Vec<_> = h.iter().map(|c| c.by.as_ref().unwrap().as_str()).collect();
    assert_eq!(who, ["li", "zhang"]);
    assert_eq!(h[1].fields, ["withdrawn"]);
    // A withdrawn record no longer changes.
    assert!(matches!(
        li.client.edit(&id, |_| Ok(())).and_then(|_| li.client.withdraw(&id, "再撤一次")),
        Err(Error::InvalidRecord(e)) if e.field == "withdrawn"
    ));
    town.wait_for_rows();
    let flagged: i64 = town
        .server_db()
        .query_row("SELECT withdrawn FROM notices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(flagged, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_withdraws_their_own_entry_but_not_one_a_cadre_made() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let own = wang.client.create(study("wang", 30, "自学"), None).unwrap();
    let by_cadre = zhang
        .client
        .create(study("wang", 60, "夜访帮学记录"), None)
        .unwrap();
    zhang.client.sync().await.unwrap();
    wang.client.sync().await.unwrap();

    wang.client.withdraw(&own, "日期记错").unwrap();
    match wang.client.withdraw(&by_cadre, "不是我记的") {
        Err(Error::InvalidRecord(e)) => assert_eq!(e.field, "withdrawn"),
        other => panic!("a member withdrew a cadre's entry: {other:?}"),
    }
    // Sent anyway, past the phone's check, the server refuses it too.
    let forced = raw::edit_change(&wang, &by_cadre, "wang", |root| {
        root.insert(
            "withdrawn".into(),
            json!({"by": "wang", "on": "2024-06-01", "reason": "不是我记的"}),
        );
    });
    let answer = raw::push_changes(&wang, &[forced]).await;
    assert_eq!(answer.refused[0].code(), pb::RefusalCode::ImmutableField);
    let r = wang.client.sync().await.unwrap();
    assert_eq!(r.refused, 0);
    zhang.client.sync().await.unwrap();
    let entries = zhang.client.list(Some(RecordKind::StudyEntry)).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, by_cadre);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_village_role_withdraws_an_opinion_the_township_office_can() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let liu = Device::enrol(&town, server.addr, "liu").await;
    let id = li.client.create(opinion("村干部办事拖拉"), None).unwrap();
    li.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();

    for d in [&li, &zhang] {
        match d.client.withdraw(&id, "说错了") {
            Err(Error::InvalidRecord(e)) => assert_eq!(e.field, "withdrawn"),
            other => panic!("a village role withdrew an opinion: {other:?}"),
        }
    }
    let forced = raw::edit_change(&zhang, &id, "zhang", |root| {
        root.insert(
            "withdrawn".into(),
            json!({"by": "zhang", "on": "2024-06-01", "reason": "说错了"}),
        );
    });
    let answer = raw::push_changes(&zhang, &[forced]).await;
    assert_eq!(answer.accepted, 0);
    assert_eq!(answer.refused[0].code(), pb::RefusalCode::ImmutableField);
    assert!(
        answer.refused[0].reason.contains("evidence"),
        "{}",
        answer.refused[0].reason
    );

    liu.client.sync().await.unwrap();
    liu.client.withdraw(&id, "重复录入，已核实").unwrap();
    let r = liu.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (1, 0));
    li.client.sync().await.unwrap();
    assert!(
        li.client
            .list(Some(RecordKind::Opinion))
            .unwrap()
            .is_empty()
    );
    // The township office does not otherwise write a village's cadre records.
    assert!(matches!(
        liu.client.create(
            opinion("乡镇代填"),
            Some(massline_core::VillageCode::new("dongcun").unwrap())
        ),
        Err(Error::InvalidRecord(_))
    ));
    server.stop().await;
}
