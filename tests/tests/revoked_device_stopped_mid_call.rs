//! A device revoked while its calls are open is refused at its next push
//! message, with nothing of it stored, and its open pull stops before the
//! rest of its answer.

use massline_core::packing::Packer;
use massline_server::{admin, registry};
use massline_tests::{Device, TestServer, Township, raw};
use serde_json::json;

fn entry(serial: u64) -> serde_json::Value {
    json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": serial,
           "member": "wang", "date": "2024-05-01", "material": "mass_line_reading",
           "topic": "读本", "mode": "self_study", "minutes": 30, "reflection": ""})
}

fn revoke(town: &Township, device: &Device) {
    let id = device.client.identity().unwrap().unwrap().device_id;
    let db = admin::open(&town.data).unwrap();
    db.write(|tx| registry::revoke(tx, id)).unwrap();
}

fn hash_hex(change: &[u8]) -> String {
    let change = automerge::Change::try_from(change).unwrap();
    massline_core::ids::hex_encode(&change.hash().0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_push_is_refused_at_its_next_message_after_revocation() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let actor = raw::actor_of(&wang);
    let (before, after) = (
        raw::first_change(&actor, "wang", entry(1)),
        raw::first_change(&actor, "wang", entry(2)),
    );
    let (channel, token) = raw::channel_of(&wang).await;
    let (tx, mut answers) = raw::open_push(channel, &token).await.unwrap();
    let mut packer = Packer::new(3);
    tx.send(raw::next_message(
        &mut packer,
        std::slice::from_ref(&before),
    ))
    .await
    .unwrap();
    assert_eq!(answers.message().await.unwrap().unwrap().accepted, 1);

    revoke(&town, &wang);
    // The call is still open; its next message is refused.
    tx.send(raw::next_message(&mut packer, std::slice::from_ref(&after)))
        .await
        .unwrap();
    let status = answers.message().await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    let id = wang.client.identity().unwrap().unwrap().device_id;
    assert!(
        status
            .message()
            .contains(&format!("device {id} was revoked")),
        "{status:?}"
    );
    assert!(town.has_change(&hash_hex(&before)));
    assert!(
        !town.has_change(&hash_hex(&after)),
        "a change sent after the revocation was stored"
    );
    assert_eq!(town.stored_changes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_pull_stops_after_revocation() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    raw::push_big_problems(&zhang, "dongcun", 60).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let (channel, token) = raw::channel_of(&li).await;
    let req = raw::pull_everything(channel, &token).await;

    // A pull that has sent what it could, and waits for the device to read.
    let (stalling, token) = raw::stalling_channel_of(&li).await;
    let answer = raw::start_pull(stalling.clone(), &token, req)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    revoke(&town, &li);

    let (got, end) = raw::finish_pull(answer).await;
    let status = end.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("was revoked"), "{status:?}");
    let entries: u32 = got.iter().map(|a| a.entries).sum();
    assert!(entries < 60, "the whole answer went to a revoked device");
    assert!(!got.iter().any(|a| a.done));
}
