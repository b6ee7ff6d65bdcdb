//! `serve --metrics ADDR` serves Prometheus metrics over plain HTTP, and they
//! count what the server did: push and pull calls, changes stored, changes
//! refused by their reason's code, push messages, bytes both ways, connections open, the
//! database's size and the rows' lag.

use automerge::ActorId;
use massline_tests::metrics::{sample, scrape};
use massline_tests::{Device, TestServer, Township, opinion, raw};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_the_server_does() {
    let town = Township::new();
    let (server, addr) = TestServer::start_with_metrics(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    for i in 0..3 {
        li.client
            .create(opinion(&format!("第{i}条：路灯不亮")), None)
            .unwrap();
    }
    li.client.sync().await.unwrap();
    // A change written by another actor than the device's: refused.
    let (channel, token) = raw::channel_of(&li).await;
    let forged = raw::first_change(
        &ActorId::random(),
        "li",
        serde_json::json!({"kind": "opinion"}),
    );
    let answers = raw::push(channel, &token, vec![raw::message(&[forged])])
        .await
        .unwrap();
    assert_eq!(answers[0].refused.len(), 1);

    // A device connection open while the metrics are read.
    let (open, _) = raw::channel_of(&li).await;
    let text = tokio::task::spawn_blocking(move || scrape(addr))
        .await
        .unwrap();
    drop(open);
    assert_eq!(
        sample(&text, "massline_changes_accepted_total"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "massline_changes_refused_total{reason=\"wrong_actor\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "massline_push_calls_total"),
        Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, "massline_pull_calls_total") >= Some(1.0),
        "{text}"
    );
    // The sync's one message and the forged one.
    assert_eq!(
        sample(&text, "massline_push_messages_total"),
        Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, "massline_push_bytes_total") > Some(100.0),
        "{text}"
    );
    assert!(
        sample(&text, "massline_pull_bytes_total").is_some(),
        "{text}"
    );
    assert!(sample(&text, "massline_connections") >= Some(1.0), "{text}");
    assert!(text.contains("massline_push_message_seconds"), "{text}");
    assert!(
        sample(&text, "massline_database_bytes") > Some(4096.0),
        "sampled at start: {text}"
    );
    assert_eq!(
        sample(&text, "massline_rows_lag_changes").map(|_| ()),
        Some(())
    );
    server.stop().await;
}
