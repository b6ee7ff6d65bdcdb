//! A sync cut mid-stream, at any byte, resumes on the next sync with nothing
//! lost and nothing stored twice, on the way up and on the way down.

use linksim::{LinkConfig, LinkSim};
use massline_server::feed::FeedOptions;
use massline_tests::{Device, TestServer, Township, study};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_cut_at_any_offset_resumes_without_loss_or_duplicates() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let link = LinkSim::start(server.addr, LinkConfig::default())
        .await
        .unwrap();
    let wang = Device::enrol_through(&town, server.addr, link.addr(), "wang").await;

    // Learn how many bytes one round of 15 records costs, then cut rounds at
    // offsets spread over (and past) that length.
    let mut made = 0;
    for i in 0..15 {
        wang.client
            .create(study("wang", 30, &format!("基准 {i}")), None)
            .unwrap();
        made += 1;
    }
    let full = wang.client.sync().await.unwrap();
    let round_bytes = full.link_sent + full.link_received;
    let offsets: Vec<u64> = (0..60).map(|k| k * round_bytes / 50).collect();
    let mut cut_failures = 0;
    for (round, offset) in offsets.iter().enumerate() {
        for i in 0..15 {
            wang.client
                .create(study("wang", 20 + i, &format!("第{round}轮第{i}条")), None)
                .unwrap();
            made += 1;
        }
        link.configure(|c| c.cuts.push_back(Some(*offset)));
        if wang.client.sync().await.is_err() {
            cut_failures += 1;
        }
        let resumed = wang.client.sync().await.unwrap();
        assert_eq!(resumed.refused, 0);
        assert!(
            wang.outbox().is_empty(),
            "round {round}: outbox not empty after resume"
        );
        assert_eq!(
            town.stored_changes(),
            made,
            "round {round}: lost or doubled"
        );
    }
    assert!(
        cut_failures >= 40,
        "only {cut_failures} syncs were actually cut"
    );
    assert_eq!(town.server_records(), wang.records());
    assert!(link.stats().cuts.load(std::sync::atomic::Ordering::Relaxed) >= 40);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_cut_at_any_offset_resumes_where_it_stopped() {
    let town = Township::new();
    // Small messages, so a cut can fall between many of them.
    let feed = FeedOptions {
        message_bytes: 4 << 10,
        ..FeedOptions::default()
    };
    let server = TestServer::start_with(&town, "127.0.0.1:0", feed).await;
    let link = LinkSim::start(server.addr, LinkConfig::default())
        .await
        .unwrap();
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    for i in 0..400 {
        zhang
            .client
            .create(
                study("wang", 30, &format!("第{i}次学习：群众路线读本")),
                None,
            )
            .unwrap();
    }
    zhang.client.sync().await.unwrap();

    // One uncut download, to learn its length.
    let probe = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
    let full = probe.client.sync().await.unwrap();
    assert_eq!(full.pulled, 400);
    let total = full.link_sent + full.link_received;

    let mut partial = 0;
    for k in 1..40u64 {
        let offset = k * total / 40;
        let li = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
        link.configure(|c| c.cuts.push_back(Some(offset)));
        if li.client.sync().await.is_err() {
            let got = li.client.list(None).unwrap().len();
            if got > 0 && got < 400 {
                partial += 1;
            }
        }
        let rest = li.client.sync().await.unwrap();
        assert!(rest.pulled <= 400);
        assert_eq!(
            li.records(),
            zhang.records(),
            "cut at {offset}: devices differ"
        );
        let idle = li.client.sync().await.unwrap();
        assert_eq!(idle.pulled, 0, "cut at {offset}: something came twice");
    }
    assert!(
        partial >= 10,
        "only {partial} cuts left a partial download to resume"
    );
    server.stop().await;
}
