//! A notice to every village (发至各村): the township office makes it public
//! from its own scope when it names no village; a member of each village
//! gets it on sync; the notices ledger lists it beside a village's own
//! notices, as the township's, for the village's secretary and for the
//! office; a secretary cannot withdraw it, on the phone or by a hand-made
//! push; another officer of the township office can.

use massline_core::{Error, PersonId, RecordKind, Role, Scope, VillageCode};
use massline_proto::pb;
use massline_tests::web::{Https, PASSWORD};
use massline_tests::{Device, TestServer, Township, notice, raw};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_notice_reaches_every_village_and_stays_the_offices() {
    let town = Township::new();
    town.add_person("zhou", "周干事", Role::TownshipOfficer, None);
    let server = TestServer::start_with_dashboard(&town).await;
    let liu = Device::enrol(&town, server.addr, "liu").await;
    let zhou = Device::enrol(&town, server.addr, "zhou").await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let sun = Device::enrol(&town, server.addr, "sun").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;

    let ours = notice("三月村务公开");
    let own = zhang.client.create(ours, None).unwrap();
    let to_all = liu
        .client
        .create(notice("关于开展查摆问题的通知"), None)
        .unwrap();
    assert_eq!(
        liu.client.get(&to_all).unwrap().scope,
        Some(Scope::Township)
    );
    // The office makes no village's own notice.
    assert!(
        liu.client
            .create(
                notice("代东村公开"),
                Some(VillageCode::new("dongcun").unwrap())
            )
            .is_err()
    );
    liu.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();

    // A member of each village gets it; 西村's member does not get 东村's.
    for (device, is_dongcun) in [(&wang, true), (&sun, false)] {
        device.client.sync().await.unwrap();
        let ids: Vec<_> = device
            .client
            .list(Some(RecordKind::Notice))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert!(ids.contains(&to_all), "{ids:?}");
        assert_eq!(ids.contains(&own), is_dongcun);
    }

    // The ledger lists it as the township's, beside 东村's own.
    town.wait_for_rows();
    let https = Https::new(&town, server.web.unwrap());
    let db = massline_server::admin::open(&town.data).unwrap();
    for (person, village) in [("zhang", "dongcun"), ("liu", "dongcun")] {
        massline_server::admin::set_password(&db, &PersonId::new(person).unwrap(), PASSWORD)
            .unwrap();
        let login = https.login(person, PASSWORD).await;
        let csv = https
            .get_as(
                &login,
                &format!("/ledgers/notices?village={village}&period=campaign&format=csv"),
            )
            .await
            .text();
        let line = csv
            .lines()
            .find(|l| l.contains("关于开展查摆问题的通知"))
            .unwrap_or_else(|| panic!("{person} does not see the township's notice:\n{csv}"));
        assert!(line.contains("乡镇（发至各村）"), "{line}");
        assert!(csv.contains("三月村务公开"), "{person}:\n{csv}");
    }

    // The secretary may not withdraw it: refused on the phone and, pushed
    // by hand, by the server.
    match zhang.client.withdraw(&to_all, "不是本村的") {
        Err(Error::Forbidden(m)) => assert!(m.contains("t/shared"), "{m}"),
        other => panic!("a secretary may not withdraw the township's notice: {other:?}"),
    }
    let edit = raw::edit_change(&zhang, &to_all, "zhang", |root| {
        root.insert(
            "withdrawn".into(),
            serde_json::json!({"by": "zhang", "on": "2024-06-03", "reason": "不是本村的"}),
        );
    });
    let answer = raw::push_changes(&zhang, &[edit]).await;
    let [r] = answer.refused.as_slice() else {
        panic!("the secretary's withdrawal should be refused: {answer:?}")
    };
    assert_eq!(r.code(), pb::RefusalCode::ForbiddenScope, "{}", r.reason);

    // Another officer of the office withdraws it; every village hears.
    zhou.client.sync().await.unwrap();
    zhou.client.withdraw(&to_all, "通知有误，重新印发").unwrap();
    let r = zhou.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (1, 0), "{r:?}");
    sun.client.sync().await.unwrap();
    assert!(
        !sun.client
            .list(Some(RecordKind::Notice))
            .unwrap()
            .iter()
            .any(|r| r.id == to_all)
    );
    server.stop().await;
}
