//! A refusal tells a device nothing about what it may not see: a scope that
//! does not exist and one it may not write are refused alike, as are a person
//! or a record that does not exist and one of another village; and the scope
//! is checked before anything else, so no refusal speaks of the fields of a
//! record in a scope the device may not write.

use massline_core::DocId;
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, raw, rectification};
use serde_json::{Value, json};

fn entry(scope: &str, member: &str, minutes: i64, serial: u64) -> Value {
    json!({"kind": "study_entry", "scope": scope, "serial": serial, "member": member,
           "date": "2024-05-01", "material": "mass_line_reading", "topic": "读本",
           "mode": "self_study", "minutes": minutes, "reflection": ""})
}

/// A refusal's code and its reason with the words that differ by input
/// (`vary`) made alike.
fn gist(r: &pb::Refusal, vary: &[&str]) -> (pb::RefusalCode, String) {
    let mut reason = r.reason.clone();
    for v in vary {
        reason = reason.replace(v, "…");
    }
    (r.code(), reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_scope_and_one_not_yours_are_refused_alike_and_first() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let mine = raw::actor_of(&wang);

    let unknown = raw::first_change(&mine, "wang", entry("v/nowhere/m/wang", "wang", 30, 1));
    let not_mine = raw::first_change(&mine, "wang", entry("v/dongcun/m/zhao", "zhao", 30, 2));
    // Invalid too, but the scope is what it hears about.
    let not_mine_invalid =
        raw::first_change(&mine, "wang", entry("v/dongcun/m/zhao", "zhao", -5, 3));
    let answer = raw::push_changes(&wang, &[unknown, not_mine, not_mine_invalid]).await;
    assert_eq!(answer.accepted, 0);
    let ids: Vec<String> = answer
        .refused
        .iter()
        .map(|r| r.reason.split(':').next().unwrap().to_string())
        .collect();
    let vary = [
        ids[0].as_str(),
        ids[1].as_str(),
        ids[2].as_str(),
        "v/nowhere/m/wang",
        "v/dongcun/m/zhao",
    ];
    let g: Vec<_> = answer.refused.iter().map(|r| gist(r, &vary)).collect();
    assert_eq!(g[0].0, pb::RefusalCode::ForbiddenScope, "{}", g[0].1);
    assert_eq!(g[0], g[1]);
    assert_eq!(g[1], g[2]);
    assert!(!answer.refused[2].reason.contains("minutes"));

    // The same for a cadre: another village's shared scope, a made-up one.
    let theirs = raw::first_change(
        &raw::actor_of(&li),
        "li",
        json!({"kind": "problem", "scope": "v/xicun/shared", "serial": 1, "title": "t",
               "how_found": "self_search", "area": "mass_service"}),
    );
    let made_up = raw::first_change(
        &raw::actor_of(&li),
        "li",
        json!({"kind": "problem", "scope": "v/nowhere/shared", "serial": 2, "title": "t",
               "how_found": "self_search", "area": "mass_service"}),
    );
    let answer = raw::push_changes(&li, &[theirs, made_up]).await;
    let ids: Vec<String> = answer
        .refused
        .iter()
        .map(|r| r.reason.split(':').next().unwrap().to_string())
        .collect();
    let vary = [
        ids[0].as_str(),
        ids[1].as_str(),
        "v/xicun/shared",
        "v/nowhere/shared",
    ];
    assert_eq!(
        gist(&answer.refused[0], &vary),
        gist(&answer.refused[1], &vary)
    );
    assert_eq!(town.stored_changes(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_people_and_records_read_as_those_of_another_village() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let chen = Device::enrol(&town, server.addr, "chen").await;
    let ours = li.problem("村道坑洼");
    let theirs = chen.problem("西村的问题");
    li.client.sync().await.unwrap();
    chen.client.sync().await.unwrap();
    let id = li
        .client
        .create(rectification(ours, "修补村道"), None)
        .unwrap();
    li.client.sync().await.unwrap();

    let set = |k: &'static str, v: Value| {
        raw::edit_change(&li, &id, "li", move |root| {
            root.insert(k.into(), v);
        })
    };
    let missing = DocId::from_slice(&[9; 16]).unwrap();
    let answer = raw::push_changes(
        &li,
        &[
            set("responsible", json!(["li", "chen"])),
            set("responsible", json!(["li", "nobody"])),
            set("problem", json!(theirs.to_hex())),
            set("problem", json!(missing.to_hex())),
        ],
    )
    .await;
    assert_eq!(answer.accepted, 0);
    let g: Vec<_> = answer
        .refused
        .iter()
        .map(|r| gist(r, &["chen", "nobody", &theirs.to_hex(), &missing.to_hex()]))
        .collect();
    assert_eq!(g[0].0, pb::RefusalCode::InvalidRecord, "{}", g[0].1);
    assert_eq!(g[0], g[1]);
    assert_eq!(g[2], g[3]);
    server.stop().await;
}
