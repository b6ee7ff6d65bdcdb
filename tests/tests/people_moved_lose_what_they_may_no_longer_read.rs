//! A person given another role or village keeps on their phone only what
//! they may still read: at the next sync the records of scopes they lost
//! (a cadre's villagers' visits, once a member) leave the phone, the
//! village's shared records stay, and a record they made offline and had not
//! sent is not lost: it goes to the server, which refuses it with the reason,
//! and stays on the phone with that reason. The phone's note of who its
//! person is follows too, with no call more than the scopes take: a member
//! made a cadre of another village records for that village at once, and a
//! cadre made secretary of the same village (the same scopes) is told.

use massline_core::access::Role;
use massline_core::{Error, PersonId, Record, RecordKind, VillageCode};
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
    // The phone knows li is a member now: it refuses a new visit itself.
    let me = li.client.identity().unwrap().unwrap();
    assert_eq!(me.principal.role, Role::Member);
    assert!(matches!(
        li.client.create(visit("赵家", &["修路"]), None),
        Err(Error::Forbidden(_))
    ));

    // wang, a member of 东村, is made a cadre of 西村: the next sync tells
    // the phone, which then records a visit in 西村, and the server takes it.
    let wang = Device::enrol(&town, server.addr, "wang").await;
    wang.client.sync().await.unwrap();
    admin::set_role(
        &db,
        &PersonId::new("wang").unwrap(),
        Role::Cadre,
        Some(&VillageCode::new("xicun").unwrap()),
    )
    .unwrap();
    wang.client.sync().await.unwrap();
    let me = wang.client.identity().unwrap().unwrap();
    assert_eq!(
        (
            me.principal.role,
            me.principal.village.as_ref().map(|v| v.as_str())
        ),
        (Role::Cadre, Some("xicun"))
    );
    assert_eq!(me.village_name.as_deref(), Some("西村"));
    let mut theirs = visit("孙大娘家", &["看病"]);
    if let Record::Visit(v) = &mut theirs {
        v.cadre = PersonId::new("wang").unwrap();
    }
    let there = wang.client.create(theirs, None).unwrap();
    assert_eq!(
        wang.client
            .get(&there)
            .unwrap()
            .scope
            .map(|s| s.to_string()),
        Some("v/xicun/cadre".to_string())
    );
    let r = wang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (1, 0), "{r:?}");

    // chen, a cadre of 西村, is made its secretary: the same scopes, and
    // still the phone is told, in the one pull call after the push.
    let chen = Device::enrol(&town, server.addr, "chen").await;
    chen.client.sync().await.unwrap();
    let idle = chen.client.sync().await.unwrap();
    assert_eq!(idle.calls, 1, "{idle:?}");
    admin::set_role(
        &db,
        &PersonId::new("chen").unwrap(),
        Role::Secretary,
        Some(&VillageCode::new("xicun").unwrap()),
    )
    .unwrap();
    chen.client.sync().await.unwrap();
    assert_eq!(
        chen.client.identity().unwrap().unwrap().principal.role,
        Role::Secretary
    );
    let idle = chen.client.sync().await.unwrap();
    assert_eq!(
        idle.calls, 1,
        "once told, an idle sync is one call again: {idle:?}"
    );
    server.stop().await;
}
