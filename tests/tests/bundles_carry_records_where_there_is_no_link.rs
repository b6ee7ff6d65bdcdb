//! Where there is no link, a sync bundle carried as a file does what a sync
//! does: the township's server takes the device's changes in through the
//! intake a push goes through, the reply empties the device's outbox and
//! brings it what it would have pulled, and importing either twice doubles
//! nothing.

use massline_tests::{Device, TestServer, Township, import_bundle, massline, opinion};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_travel_by_file_both_ways_and_twice_changes_nothing() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let addr = server.addr;
    server.stop().await;

    // No link from here on.
    let pb = zhang.problem("村务公开不及时");
    zhang
        .client
        .create(opinion("低保评定不公开"), None)
        .unwrap();
    assert_eq!(zhang.outbox().len(), 2);
    let bundle = zhang.client.export_bundle().unwrap();
    assert_eq!(bundle.changes, 2);
    eprintln!("a bundle of 2 records: {} bytes", bundle.bytes.len());

    let reply = import_bundle(&town, &bundle.bytes).unwrap();
    assert_eq!(town.stored_changes(), 2);
    let again = import_bundle(&town, &bundle.bytes).unwrap();
    assert_eq!(
        town.stored_changes(),
        2,
        "a bundle imported twice stores nothing twice"
    );
    assert_eq!(again, reply, "and is answered the same");
    eprintln!("its reply: {} bytes", reply.len());

    let done = zhang.client.import_bundle(&reply).unwrap();
    assert_eq!((done.pushed, done.refused), (2, 0), "{done:?}");
    assert!(done.complete);
    assert!(
        zhang.outbox().is_empty(),
        "acknowledged changes leave the outbox"
    );
    let held = zhang.held_changes();
    zhang.client.import_bundle(&reply).unwrap();
    assert_eq!(
        zhang.held_changes(),
        held,
        "a reply imported twice is harmless"
    );
    assert!(zhang.outbox().is_empty());

    // Another device of the village gets them by bundle too.
    let li_bundle = li.client.export_bundle().unwrap();
    assert_eq!(li_bundle.changes, 0);
    let li_reply = import_bundle(&town, &li_bundle.bytes).unwrap();
    let got = li.client.import_bundle(&li_reply).unwrap();
    assert_eq!(got.pulled, 2, "{got:?}");
    assert!(got.changed.contains(&pb));
    assert_eq!(li.records(), zhang.records());
    assert_eq!(town.server_records(), zhang.records());
    let li_held = li.held_changes();
    let twice = li.client.import_bundle(&li_reply).unwrap();
    assert_eq!(twice.pulled, 0, "nothing is taken twice");
    assert_eq!(li.held_changes(), li_held);
    assert_eq!(li.records(), zhang.records());

    // The command line does the same with files.
    let dir = tempfile::tempdir().unwrap();
    let (out, back) = (
        dir.path().join("zhang.bundle"),
        dir.path().join("reply.bundle"),
    );
    zhang.client.create(opinion("道路维修"), None).unwrap();
    let said = massline(
        &zhang.path,
        &["bundle", "export", "--out", out.to_str().unwrap()],
    );
    assert!(said.contains("1 change(s)"), "{said}");
    let reply = import_bundle(&town, &std::fs::read(&out).unwrap()).unwrap();
    std::fs::write(&back, reply).unwrap();
    let said = massline(&zhang.path, &["bundle", "import", back.to_str().unwrap()]);
    assert!(said.contains("pushed 1, refused 0"), "{said}");
    assert!(zhang.outbox().is_empty());
    assert_eq!(town.stored_changes(), 3);

    // Once the link is back, a sync finds nothing left to carry: importing
    // the replies did what a push and a pull would have.
    let server = TestServer::start_at(&town, &addr.to_string()).await;
    let r = zhang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.pulled), (0, 0), "{r:?}");
    let r = li.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.pulled), (0, 1), "{r:?}");
    assert_eq!(li.records(), zhang.records());
    server.stop().await;
}
