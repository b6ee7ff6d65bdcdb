//! A person given another role or village keeps on their phone only what
//! they may still read: at the next sync the records of scopes they lost
//! (a cadre's villagers' visits, once a member) leave the phone, the
//! village's shared records stay, and a record they made offline and had not
//! sent is not lost: it goes to the server, which refuses it with the reason,
//! and stays on the phone with that reason.

use massline_core::access::Role;
use massline_core::{PersonId, RecordKind, VillageCode};
use massline_server::admin;
use massline_tests::{Device, TestServer, Township, problem, visit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_moved_lose_what_they_may_no_longer_read() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let shared = zhang.client.create(problem("村道坑洼"), None).unwrap();
    let household = zhang
        .client
        .create(visit("王大爷家", &["看病报销难"]), None)
        .unwrap();
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    let held = |d: &Device| -> Vec<_> {
        d.client
            .list(None)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert!(
        held(&li).contains(&household),
        "a cadre reads the village's visits"
    );

    // li writes down a visit offline, then the office makes li a member.
    let offline = li
        .client
        .create(visit("李奶奶家", &["低保"]), None)
        .unwrap();
    let db = admin::open(&town.data).unwrap();
    admin::set_role(
        &db,
        &PersonId::new("li").unwrap(),
        Role::Member,
        Some(&VillageCode::new("dongcun").unwrap()),
    )
    .unwrap();

    let report = li.client.sync().await.unwrap();
    let now = held(&li);
    assert!(
        !now.contains(&household),
        "a villager's visit left the member's phone"
    );
    assert!(now.contains(&shared), "the shared list stays");
    assert!(
        now.contains(&offline),
        "what li made and had not sent stays"
    );
    assert_eq!(report.refused, 1, "{report:?}");
    let status = li.client.status().unwrap();
    assert_eq!(status.refused.len(), 1);
    assert_eq!(status.refused[0].doc, offline);
    // No change of the forgotten record is left indexed on the phone.
    let left: i64 = rusqlite::Connection::open(&li.path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM changes WHERE doc_id = ?1",
            [&household.as_bytes()[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    assert!(
        li.client
            .list(Some(RecordKind::Visit))
            .unwrap()
            .iter()
            .all(|r| r.id == offline)
    );
    server.stop().await;
}
