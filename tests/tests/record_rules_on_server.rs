//! The record rules hold on the server for a device that skips its own
//! checks: each change below is one a phone refuses to make, sent by hand,
//! and the server refuses it with the field and the reason; the allowed edit
//! beside it passes.

use massline_core::DocId;
use massline_proto::pb;
use massline_tests::{
    Device, TestServer, Township, opinion, practical, raw, record_of, rectification, visit,
};
use serde_json::{Map, Value, json};

/// Pushes one hand-made change and returns the refusal (code, reason), if any.
async fn push_one(d: &Device, change: Vec<u8>) -> Option<(pb::RefusalCode, String)> {
    let a = raw::push_changes(d, &[change]).await;
    a.refused.first().map(|r| (r.code(), r.reason.clone()))
}

#[track_caller]
fn refused(got: Option<(pb::RefusalCode, String)>, code: pb::RefusalCode, field: &str) {
    let (c, reason) = got.expect("the change should be refused");
    assert_eq!(c, code, "{reason}");
    assert!(reason.contains(&format!("`{field}`")), "{reason}");
}

fn set(key: &'static str, v: Value) -> impl FnOnce(&mut Map<String, Value>) {
    move |root| {
        root.insert(key.into(), v);
    }
}

async fn town_with(people: &[&str]) -> (Township, TestServer, Vec<Device>) {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let mut devices = Vec::new();
    for p in people {
        devices.push(Device::enrol(&town, server.addr, p).await);
    }
    (town, server, devices)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opinions_words_never_change_its_status_and_answer_do() {
    let (_town, server, d) = town_with(&["li"]).await;
    let li = &d[0];
    let id = li.client.create(opinion("低保评定不公开"), None).unwrap();
    li.client.sync().await.unwrap();

    for (field, value) in [
        ("text", json!("低保评定已公开")),
        ("channel", json!("heart_to_heart")),
        ("source", json!("villager")),
    ] {
        let change = raw::edit_change(li, &id, "li", set(field, value));
        refused(
            push_one(li, change).await,
            pb::RefusalCode::ImmutableField,
            field,
        );
    }
    let answered = raw::edit_change(li, &id, "li", |root| {
        root.insert("status".into(), json!("answered"));
        root.insert("answer".into(), json!("评定结果已在公示栏公开"));
    });
    assert_eq!(push_one(li, answered).await, None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_township_acknowledges_a_filing_and_steps_are_not_taken_back() {
    let (_town, server, d) = town_with(&["zhang", "liu"]).await;
    let (zhang, liu) = (&d[0], &d[1]);
    let pb_id = zhang.problem("村务公开不及时");
    let id = zhang
        .client
        .create(rectification(pb_id, "每月公开一次"), None)
        .unwrap();
    zhang
        .client
        .edit(&id, |r| {
            if let massline_core::Record::Rectification(x) = r {
                x.advance(
                    massline_core::records::RectificationStatus::Done,
                    chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
                );
            }
            Ok(())
        })
        .unwrap();
    zhang.client.sync().await.unwrap();

    let undone = raw::edit_change(
        zhang,
        &id,
        "zhang",
        set("steps", json!({"planned": "2024-05-01"})),
    );
    refused(
        push_one(zhang, undone).await,
        pb::RefusalCode::ImmutableField,
        "steps.done",
    );

    // Announced and submitted by the secretary, the measure can be filed.
    zhang
        .client
        .edit(&id, |r| {
            if let massline_core::Record::Rectification(x) = r {
                x.announced_on = chrono::NaiveDate::from_ymd_opt(2024, 6, 2);
                x.submitted = Some(massline_core::records::Submission {
                    date: chrono::NaiveDate::from_ymd_opt(2024, 6, 2).unwrap(),
                    by: massline_core::PersonId::new("zhang").unwrap(),
                });
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(zhang.client.sync().await.unwrap().refused, 0);
    // Submitted, it is still not the secretary's to file.
    let self_filed = raw::edit_change(
        zhang,
        &id,
        "zhang",
        set(
            "filed",
            json!({"date": "2024-06-02", "acknowledged_by": "zhang"}),
        ),
    );
    refused(
        push_one(zhang, self_filed).await,
        pb::RefusalCode::ImmutableField,
        "filed",
    );
    liu.client.sync().await.unwrap();
    let filed = liu
        .client
        .edit(&id, |r| {
            if let massline_core::Record::Rectification(x) = r {
                x.filed = Some(massline_core::records::Filing {
                    date: chrono::NaiveDate::from_ymd_opt(2024, 6, 3).unwrap(),
                    acknowledged_by: massline_core::PersonId::new("liu").unwrap(),
                });
            }
            Ok(())
        })
        .unwrap();
    assert!(matches!(filed, massline_core::Record::Rectification(_)));
    assert_eq!(liu.client.sync().await.unwrap().refused, 0);
    zhang.client.sync().await.unwrap();
    let r = record_of!(zhang, &id, Rectification);
    assert_eq!(r.filed.unwrap().acknowledged_by.as_str(), "liu");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_and_records_named_must_be_of_the_village() {
    let (_town, server, d) = town_with(&["li", "chen"]).await;
    let (li, chen) = (&d[0], &d[1]);
    let ours = li.problem("村道坑洼");
    let theirs = chen.problem("西村的问题");
    li.client.sync().await.unwrap();
    chen.client.sync().await.unwrap();
    let id = li
        .client
        .create(rectification(ours, "修补村道"), None)
        .unwrap();
    li.client.sync().await.unwrap();

    let outsider = raw::edit_change(li, &id, "li", set("responsible", json!(["li", "chen"])));
    refused(
        push_one(li, outsider).await,
        pb::RefusalCode::InvalidRecord,
        "responsible[1]",
    );
    let nobody = raw::edit_change(li, &id, "li", set("responsible", json!(["nobody"])));
    refused(
        push_one(li, nobody).await,
        pb::RefusalCode::InvalidRecord,
        "responsible[0]",
    );
    let other_village = raw::edit_change(li, &id, "li", set("problem", json!(theirs.to_hex())));
    refused(
        push_one(li, other_village).await,
        pb::RefusalCode::InvalidRecord,
        "problem",
    );
    let missing = DocId::from_slice(&[9; 16]).unwrap();
    let no_such = raw::edit_change(li, &id, "li", set("problem", json!(missing.to_hex())));
    refused(
        push_one(li, no_such).await,
        pb::RefusalCode::InvalidRecord,
        "problem",
    );
    // The phone refuses the same before saving anything.
    assert!(
        li.client
            .create(rectification(theirs, "越界"), None)
            .is_err()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demand_is_linked_only_to_a_record_made_of_it() {
    let (_town, server, d) = town_with(&["li"]).await;
    let li = &d[0];
    let v = li
        .client
        .create(visit("李大爷", &["村道坑洼"]), None)
        .unwrap();
    let unrelated = li.client.create(opinion("与走访无关的意见"), None).unwrap();
    li.client.sync().await.unwrap();
    let demand = record_of!(li, &v, Visit).demands[0].id.clone();

    let forged = raw::edit_change(li, &v, "li", |root| {
        root["demands"][0]["opinion"] = json!(unrelated.to_hex());
    });
    refused(
        push_one(li, forged).await,
        pb::RefusalCode::InvalidRecord,
        "demands[0].opinion",
    );
    let made = li
        .client
        .make_from_demand(&v, &demand, opinion("村道坑洼，雨天难行"))
        .unwrap();
    assert_eq!(li.client.sync().await.unwrap().refused, 0);
    let unlinked = raw::edit_change(li, &v, "li", |root| {
        root["demands"][0]
            .as_object_mut()
            .unwrap()
            .remove("opinion");
    });
    refused(
        push_one(li, unlinked).await,
        pb::RefusalCode::ImmutableField,
        "demands[0]",
    );
    assert_eq!(record_of!(li, &made, Opinion).visit.unwrap().demand, demand);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_names_its_own_author_and_notes_keep_theirs() {
    let (_town, server, d) = town_with(&["li", "zhang"]).await;
    let (li, zhang) = (&d[0], &d[1]);
    let pb_id = zhang.problem("村务公开不及时");
    let id = zhang
        .client
        .create(rectification(pb_id, "每月公开一次"), None)
        .unwrap();
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();

    let impostor = raw::edit_change(li, &id, "zhang", set("objective", json!("冒名修改")));
    let (code, reason) = push_one(li, impostor).await.expect("refused");
    assert_eq!(code, pb::RefusalCode::WrongActor, "{reason}");
    let note_for_zhang = raw::edit_change(
        li,
        &id,
        "li",
        set(
            "progress",
            json!([{"date": "2024-06-01", "text": "替书记写的", "author": "zhang"}]),
        ),
    );
    refused(
        push_one(li, note_for_zhang).await,
        pb::RefusalCode::ImmutableField,
        "progress[0].author",
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixth_practical_thing_is_kept_and_warned_about() {
    let (town, server, d) = town_with(&["zhang"]).await;
    let zhang = &d[0];
    zhang.client.create(practical("硬化村道"), None).unwrap();
    assert_eq!(zhang.client.warnings().unwrap().len(), 1, "one is too few");
    for what in ["安装路灯", "修建水池", "整治河道"] {
        zhang.client.create(practical(what), None).unwrap();
    }
    assert!(zhang.client.warnings().unwrap().is_empty());
    for what in ["修建文化广场", "开办农技夜校"] {
        zhang.client.create(practical(what), None).unwrap();
    }
    let r = zhang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (6, 0), "never refused");
    let warned = zhang.client.warnings().unwrap();
    assert!(warned[0].text.contains("has 6"), "{}", warned[0].text);

    town.wait_for_rows();
    let db = massline_server::admin::open(&town.data).unwrap();
    let server_side = db
        .read(massline_server::rows::practical_thing_warnings)
        .unwrap();
    let texts: Vec<_> = server_side.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].contains("dongcun has 6"), "{texts:?}");
    assert!(texts[1].contains("xicun has 0"), "{texts:?}");
    server.stop().await;
}
