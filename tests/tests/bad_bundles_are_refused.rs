//! A sync bundle that was cut short, changed on the way, passed off as
//! another device's, from a revoked device, too large, or a reply made for
//! another device or an older bundle, is refused with its reason, and
//! changes nothing on the server or the phone. A device signs its requests
//! with its own key, so one made with what the server's database holds is
//! refused too.

use massline_core::bundle::{
    FORMAT_SHARED_KEY, FORMAT_SIGNED, HEADER_BYTES, MAX_BUNDLE_BYTES, SIGNATURE_BYTES, Seal,
    device_key,
};
use massline_tests::{Device, TestServer, Township, import_bundle, opinion, study};

/// What must not change while bad bundles are refused.
fn state(
    town: &Township,
    devices: &[&Device],
) -> (i64, Vec<(String, serde_json::Value)>, Vec<Vec<String>>) {
    (
        town.stored_changes(),
        town.server_records(),
        devices.iter().map(|d| d.outbox()).collect(),
    )
}

fn refused(town: &Township, bytes: &[u8], reason: &str) {
    let err = import_bundle(town, bytes).expect_err("a bad bundle is refused");
    assert!(err.contains(reason), "expected {reason:?} in: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bundles_change_nothing_and_say_why() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    server.stop().await;
    let zhang_id = zhang.client.identity().unwrap().unwrap().device_id;

    zhang
        .client
        .create(opinion("低保评定不公开"), None)
        .unwrap();
    li.client.create(opinion("道路维修"), None).unwrap();
    wang.client
        .create(study("wang", 40, "党的群众路线学习读本"), None)
        .unwrap();
    let good = zhang.client.export_bundle().unwrap().bytes;
    let before = state(&town, &[&zhang, &li, &wang]);

    // Cut short, anywhere.
    for cut in [good.len() - 1, good.len() / 2, HEADER_BYTES + 3] {
        refused(&town, &good[..cut], "truncated");
    }
    refused(&town, &good[..4], "not a massline bundle");
    // One byte changed, in the body or in the header.
    let mut tampered = good.clone();
    tampered[HEADER_BYTES + 5] ^= 0x20;
    refused(
        &town,
        &tampered,
        &format!("authentication does not match device {zhang_id}"),
    );
    let mut tampered = good.clone();
    tampered[30] ^= 1; // the nonce
    refused(&town, &tampered, "authentication does not match");
    // Another device's bundle passed off as zhang's.
    let mut passed_off = li.client.export_bundle().unwrap().bytes;
    passed_off[8..16].copy_from_slice(&zhang_id.to_le_bytes());
    refused(
        &town,
        &passed_off,
        &format!("authentication does not match device {zhang_id}"),
    );
    // A file too large is refused from its length.
    let mut huge = good.clone();
    huge.resize(MAX_BUNDLE_BYTES + 1, 0);
    refused(&town, &huge, "more than a bundle's");
    assert_eq!(state(&town, &[&zhang, &li, &wang]), before);

    // A revoked device's bundle, good as it is.
    let wang_bundle = wang.client.export_bundle().unwrap().bytes;
    let wang_id = wang.client.identity().unwrap().unwrap().device_id;
    let db = massline_server::admin::open(&town.data).unwrap();
    db.write(|tx| massline_server::registry::revoke(tx, wang_id))
        .unwrap();
    refused(
        &town,
        &wang_bundle,
        &format!("device {wang_id} was revoked"),
    );
    assert_eq!(state(&town, &[&zhang, &li, &wang]), before);

    // The good bundle still goes through: the refusals took nothing.
    let reply = import_bundle(&town, &good).unwrap();
    assert_eq!(town.stored_changes(), before.0 + 1);
    refused(
        &town,
        &reply,
        "this is a reply bundle, and a request bundle was expected",
    );

    // On the phones: a reply for another device, changed, or to an older bundle.
    let li_before = (li.outbox(), li.held_changes());
    let err = li.client.import_bundle(&reply).unwrap_err().to_string();
    assert!(
        err.contains(&format!("this reply is for device {zhang_id}")),
        "{err}"
    );
    assert_eq!((li.outbox(), li.held_changes()), li_before);

    let zhang_before = (zhang.outbox(), zhang.held_changes());
    for at in [10, HEADER_BYTES + 2, reply.len() - 1] {
        let mut bad = reply.clone();
        bad[at] ^= 4;
        let err = zhang.client.import_bundle(&bad).unwrap_err().to_string();
        assert!(err.contains("bundle refused"), "{err}");
    }
    let err = zhang
        .client
        .import_bundle(&reply[..reply.len() - 7])
        .unwrap_err()
        .to_string();
    assert!(err.contains("truncated"), "{err}");
    // A newer export makes this reply an older bundle's.
    zhang.client.export_bundle().unwrap();
    let err = zhang.client.import_bundle(&reply).unwrap_err().to_string();
    assert!(err.contains("answers another bundle"), "{err}");
    assert_eq!((zhang.outbox(), zhang.held_changes()), zhang_before);
}

/// The server's row of `device`: its token hash and bundle public key.
fn server_keys(town: &Township, device: u64) -> (Vec<u8>, Option<Vec<u8>>) {
    let db = rusqlite::Connection::open(town.data.join("massline.db")).unwrap();
    db.query_row(
        "SELECT token_hash, bundle_public_key FROM devices WHERE id = ?1",
        [device as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_made_from_the_servers_database_is_refused() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    server.stop().await;
    let zhang_id = zhang.client.identity().unwrap().unwrap().device_id;
    zhang
        .client
        .create(opinion("低保评定不公开"), None)
        .unwrap();
    let good = zhang.client.export_bundle().unwrap().bytes;
    assert_eq!(good[6], FORMAT_SIGNED, "a device enrolled now signs");

    // The server keeps the public half of zhang's key and the token's hash:
    // with the hash, a reader of the database can make the shared key, and
    // with it a bundle in zhang's name, as a device without a key would.
    let (token_hash, public) = server_keys(&town, zhang_id);
    assert_eq!(public.as_ref().map(Vec::len), Some(32));
    let signed = &good[..good.len() - SIGNATURE_BYTES];
    let header = massline_core::bundle::open(&good, massline_core::bundle::Direction::Request)
        .unwrap()
        .header;
    let body = &signed[HEADER_BYTES..];
    let forged =
        massline_core::bundle::seal(&header, body, Seal::SharedKey(&device_key(&token_hash)))
            .unwrap();
    let before = town.stored_changes();
    refused(
        &town,
        &forged,
        &format!(
            "device {zhang_id} signs its bundles with its own key, and this one is not signed"
        ),
    );
    assert_eq!(town.stored_changes(), before);
    // Signed by another device's key, refused as not matching.
    let mut passed_off = li.client.export_bundle().unwrap().bytes;
    passed_off[8..16].copy_from_slice(&zhang_id.to_le_bytes());
    refused(
        &town,
        &passed_off,
        &format!("authentication does not match device {zhang_id}"),
    );
    // zhang's own signed bundle goes through, and its reply is taken.
    let reply = import_bundle(&town, &good).unwrap();
    assert_eq!(town.stored_changes(), before + 1);
    zhang.client.import_bundle(&reply).unwrap();
    assert!(zhang.outbox().is_empty());

    // A device enrolled before devices had signing keys (no key on the
    // phone, none on the server) still exchanges bundles under the shared key.
    rusqlite::Connection::open(&li.path)
        .unwrap()
        .execute("UPDATE identity SET bundle_signing_key = NULL", [])
        .unwrap();
    let li_id = li.client.identity().unwrap().unwrap().device_id;
    rusqlite::Connection::open(town.data.join("massline.db"))
        .unwrap()
        .execute(
            "UPDATE devices SET bundle_public_key = NULL WHERE id = ?1",
            [li_id as i64],
        )
        .unwrap();
    li.client.create(opinion("道路维修"), None).unwrap();
    let old = li.client.export_bundle().unwrap().bytes;
    assert_eq!(old[6], FORMAT_SHARED_KEY);
    let reply = import_bundle(&town, &old).unwrap();
    li.client.import_bundle(&reply).unwrap();
    assert!(li.outbox().is_empty());
    assert_eq!(town.stored_changes(), before + 2);
}
