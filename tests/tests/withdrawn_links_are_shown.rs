//! A record linked to one withdrawn meanwhile, or made of a visit's demand
//! another record took up meanwhile, is kept: a phone that made it offline
//! could not know, and the server cannot tell an honest phone from one that
//! knew (a change's dependencies lie within its own record). Such a link is
//! shown for what it is wherever records are shown: `Client::links` (what a
//! UI reads), and `massline show` and `massline list`.

use massline_core::{DocId, LinkState, Record};
use massline_tests::{
    Device, TestServer, Township, massline, opinion, raw, record_of, rectification, visit,
};
use serde_json::json;

/// The record `field` of record `id` names on `d`, and how it stands.
fn link(d: &Device, id: &DocId, field: &str) -> Option<(DocId, LinkState)> {
    d.client
        .links(id)
        .unwrap()
        .into_iter()
        .find(|l| l.field == field)
        .map(|l| (l.id, l.state))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_withdrawn_record_is_kept_and_shown_as_such() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let problem = zhang.problem("村务公开不及时");
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();

    // li, offline, makes a measure of the problem zhang withdraws meanwhile.
    let measure = li
        .client
        .create(rectification(problem, "每月公开一次"), None)
        .unwrap();
    zhang.client.withdraw(&problem, "与另一问题重复").unwrap();
    zhang.client.sync().await.unwrap();
    let r = li.client.sync().await.unwrap();
    assert_eq!(r.refused, 0, "an honest offline edit is never refused");

    // A hand-made measure naming the problem after li's phone saw it
    // withdrawn: the server cannot tell it from the one above.
    let forged = raw::first_change(
        &raw::actor_of(&li),
        "li",
        json!({"kind": "rectification", "scope": "v/dongcun/shared", "serial": 99,
               "problem": problem.to_hex(), "measure": "明知已撤回", "objective": "",
               "responsible": ["li"], "deadline": "2024-12-31", "term": "short",
               "steps": {"planned": "2024-05-01"}, "progress": []}),
    );
    assert_eq!(raw::push_changes(&li, &[forged]).await.accepted, 1);
    zhang.client.sync().await.unwrap();

    for (d, id) in [(&li, measure), (&zhang, measure)] {
        let Some((named, LinkState::Withdrawn(w))) = link(d, &id, "problem") else {
            panic!("the link shows the withdrawal: {:?}", d.client.links(&id));
        };
        assert_eq!((named, w.reason.as_str()), (problem, "与另一问题重复"));
    }
    let on_zhang = zhang.client.list(None).unwrap();
    assert_eq!(on_zhang.len(), 2, "both measures, not the problem");
    for row in &on_zhang {
        assert!(matches!(
            link(&zhang, &row.id, "problem"),
            Some((_, LinkState::Withdrawn(_)))
        ));
    }

    let shown = massline(&li.path, &["show", &measure.to_hex()]);
    assert!(
        shown.contains(&format!("Problem {}: withdrawn", &problem.to_hex()[..10])),
        "{shown}"
    );
    assert!(shown.contains("与另一问题重复"), "{shown}");
    let listed = massline(&zhang.path, &["list"]);
    assert_eq!(
        listed
            .lines()
            .filter(|l| l.contains("[names a withdrawn or taken record]"))
            .count(),
        2,
        "{listed}"
    );
    let json = massline(&li.path, &["show", &measure.to_hex(), "--json"]);
    assert!(json.contains(r#""state":"withdrawn""#), "{json}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demand_taken_up_twice_offline_shows_on_the_one_it_does_not_name() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let v = li
        .client
        .create(visit("李大爷", &["村道坑洼"]), None)
        .unwrap();
    li.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();
    let demand = record_of!(li, &v, Visit).demands[0].id.clone();

    // Both take the demand up offline; both syncs are accepted.
    let a = li
        .client
        .make_from_demand(&v, &demand, opinion("村道坑洼，雨天难行"))
        .unwrap();
    let b = zhang
        .client
        .make_from_demand(&v, &demand, opinion("村道需要修补"))
        .unwrap();
    assert_eq!(li.client.sync().await.unwrap().refused, 0);
    assert_eq!(zhang.client.sync().await.unwrap().refused, 0);
    li.client.sync().await.unwrap();

    let taken = record_of!(li, &v, Visit).demands[0].opinion.unwrap();
    let other = if taken == a { b } else { a };
    for d in [&li, &zhang] {
        assert_eq!(
            link(d, &taken, "visit.visit").map(|l| l.1),
            Some(LinkState::Current)
        );
        assert_eq!(
            link(d, &other, "visit.visit").map(|l| l.1),
            Some(LinkState::DemandTakenBy(Some(taken)))
        );
    }
    let shown = massline(&li.path, &["show", &other.to_hex()]);
    assert!(
        shown.contains(&format!(
            "the demand became another record, {}",
            &taken.to_hex()[..10]
        )),
        "{shown}"
    );
    assert!(matches!(
        li.client.get(&other).unwrap().record,
        Some(Record::Opinion(_))
    ));
    server.stop().await;
}
