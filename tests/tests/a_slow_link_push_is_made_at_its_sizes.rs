//! A sync's first push message is made while the link is being set up, at
//! the sizes of a link that is not slow. A link found slow gets its push
//! made again from the store at its own sizes: messages of
//! `slow_link_push_message_bytes`, not the one made ahead; nothing is sent
//! twice or lost.

use std::time::Duration;

use linksim::{LinkConfig, LinkSim};
use massline_core::sync::engine::SyncOptions;
use massline_tests::metrics::{sample, scrape};
use massline_tests::{Device, TestServer, Township, study};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_over_a_slow_link_is_made_again_at_its_sizes() {
    let town = Township::new();
    let (server, metrics) = TestServer::start_with_metrics(&town).await;
    // A 200 ms round trip is slow: connecting takes two of them, over the
    // 250 ms threshold (and the enrollment's handshake found it so).
    let rtt = Duration::from_millis(200);
    let link = LinkSim::start(
        server.addr,
        LinkConfig {
            one_way_delay: rtt / 2,
            connect_delay: rtt,
            ..LinkConfig::default()
        },
    )
    .await
    .unwrap();
    let li = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
    let n = 150;
    for i in 0..n {
        let topic = format!(
            "第{i}次学习：{}",
            "党的群众路线教育实践活动学习材料".repeat(8)
        );
        li.client.create(study("li", 30, &topic), None).unwrap();
    }
    let queued: usize = li.outbox_bytes();
    let slow = SyncOptions::default().slow_link_push_message_bytes;
    assert!(
        queued > 2 * slow && queued < SyncOptions::default().push_message_bytes,
        "{queued} bytes queued: one message on a fast link, three or more on a slow one"
    );

    let report = li.client.sync().await.unwrap();
    assert!(report.slow_link, "{report:?}");
    assert_eq!((report.pushed, report.refused), (n, 0), "{report:?}");
    assert!(li.outbox().is_empty());
    assert_eq!(town.stored_changes(), n as i64);
    let text = tokio::task::spawn_blocking(move || scrape(metrics))
        .await
        .unwrap();
    // Messages received, not the groups taken in together.
    let messages = sample(&text, "massline_push_messages_total").unwrap_or(0.0);
    assert!(
        messages >= queued.div_ceil(slow) as f64,
        "{messages} push messages for {queued} bytes on a slow link: {text}"
    );
    server.stop().await;
}
