//! A cadre's comparison-inspection material (对照检查材料), written on the
//! field client's command line, reaches the village's secretary and the
//! township, not members; only its author changes it: the secretary's phone
//! refuses their edit naming `author`, and the same edit pushed by hand as a
//! hostile device would is refused by the server, which keeps the record as
//! the author left it.

use massline_core::records::FourWinds;
use massline_core::{Error, RecordKind};
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, massline, raw, record_of};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_its_author_writes_it_and_members_do_not_read_it() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let out = massline(
        &li.path,
        &[
            "comparison",
            "add",
            "--point",
            "formalism=开会多、落实少",
            "--point",
            "bureaucratism=下访少",
            "--causes",
            "宗旨意识淡化",
            "--measures",
            "每周入户走访",
        ],
    );
    let id = li.client.resolve(out.trim()).unwrap();
    li.client.sync().await.unwrap();

    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let liu = Device::enrol(&town, server.addr, "liu").await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    for d in [&zhang, &liu, &wang] {
        d.client.sync().await.unwrap();
    }
    let m = record_of!(zhang, &id, ComparisonMaterial);
    assert_eq!(m.author.as_str(), "li");
    assert_eq!(
        m.points.iter().map(|p| p.wind).collect::<Vec<_>>(),
        [FourWinds::Formalism, FourWinds::Bureaucratism]
    );
    record_of!(liu, &id, ComparisonMaterial);
    assert!(
        wang.client
            .list_all(Some(RecordKind::ComparisonMaterial))
            .unwrap()
            .is_empty(),
        "a member does not read it"
    );

    // The secretary's phone refuses to write in li's material.
    match zhang.client.edit(&id, |r| {
        if let massline_core::Record::ComparisonMaterial(m) = r {
            m.causes = "改写".into();
        }
        Ok(())
    }) {
        Err(Error::InvalidRecord(e)) => assert_eq!(e.field, "author", "{e}"),
        other => panic!("the secretary's edit should be refused: {other:?}"),
    }
    // Pushed by hand, the server refuses it alike.
    let forged = raw::edit_change(&zhang, &id, "zhang", |root| {
        root.insert("causes".into(), json!("改写"));
    });
    let answer = raw::push_changes(&zhang, &[forged]).await;
    let [r] = answer.refused.as_slice() else {
        panic!("the forged edit should be refused: {answer:?}")
    };
    assert_eq!(r.code(), pb::RefusalCode::ImmutableField, "{}", r.reason);
    assert!(r.reason.contains("author"), "{}", r.reason);
    assert_eq!(answer.accepted, 0);

    // The author edits it; everyone reading it gets the author's text.
    li.client
        .edit(&id, |r| {
            if let massline_core::Record::ComparisonMaterial(m) = r {
                m.measures = "每周入户走访，每月公开".into();
            }
            Ok(())
        })
        .unwrap();
    li.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();
    let m = record_of!(zhang, &id, ComparisonMaterial);
    assert_eq!(
        (m.causes.as_str(), m.measures.as_str()),
        ("宗旨意识淡化", "每周入户走访，每月公开")
    );
    server.stop().await;
}
