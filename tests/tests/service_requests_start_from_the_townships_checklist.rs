//! The township office issues a service matter's one-time checklist
//! (一次性告知清单) in the township's scope; on a cadre's phone a service
//! request for that matter made with no checklist of its own starts from the
//! latest issued one, even offline; one with its own keeps it, and one for a
//! matter without a checklist has none. A secretary may not issue one.

use chrono::NaiveDate;
use massline_core::records::{ServiceChecklist, ServiceMatter};
use massline_core::{Error, Record};
use massline_tests::{Device, TestServer, Township, service};

fn checklist(day: u32, items: &[&str]) -> Record {
    Record::ServiceChecklist(ServiceChecklist {
        matter: ServiceMatter::SubsistenceAllowance,
        issued_on: NaiveDate::from_ymd_opt(2024, 6, day).unwrap(),
        items: items.iter().map(|s| s.to_string()).collect(),
    })
}

/// The checklist the service request `id` holds on `device`.
fn checklist_of(device: &Device, id: &massline_core::DocId) -> Vec<String> {
    match device.client.get(id).unwrap().record {
        Some(Record::ServiceRequest(r)) => r.checklist,
        other => panic!("not a service request: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_request_starts_from_the_checklist_in_force() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let liu = Device::enrol(&town, server.addr, "liu").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;

    liu.client.create(checklist(1, &["户口本"]), None).unwrap();
    let in_force = ["户口本", "身份证", "家庭收入证明"];
    liu.client.create(checklist(9, &in_force), None).unwrap();
    assert_eq!(liu.client.sync().await.unwrap().refused, 0);
    li.client.sync().await.unwrap();

    // Made with no checklist of its own: the township's latest.
    let mut bare = service("张大爷");
    if let Record::ServiceRequest(r) = &mut bare {
        r.checklist.clear();
    }
    let filled = li.client.create(bare.clone(), None).unwrap();
    assert_eq!(checklist_of(&li, &filled), in_force);
    // With its own: kept.
    let own = li.client.create(service("李大妈"), None).unwrap();
    assert_eq!(checklist_of(&li, &own), ["户口本", "收入证明"]);
    // Another matter, with no checklist issued: none.
    let mut other = bare.clone();
    if let Record::ServiceRequest(r) = &mut other {
        r.matter = ServiceMatter::Homestead;
    }
    let none = li.client.create(other, None).unwrap();
    assert!(checklist_of(&li, &none).is_empty());
    // What the phone filled in is the record: the server and the village get it.
    assert_eq!(li.client.sync().await.unwrap().refused, 0);
    zhang.client.sync().await.unwrap();
    assert_eq!(checklist_of(&zhang, &filled), in_force);

    // Only the township office issues checklists.
    match zhang.client.create(checklist(10, &["申请书"]), None) {
        Err(Error::Forbidden(m)) => assert!(m.contains("t/shared"), "{m}"),
        other => panic!("a secretary may not issue a checklist: {other:?}"),
    }
    server.stop().await;
}
