//! The calls a device makes to recover from a restored server, spoken by a
//! hostile device in hand-made frames: `Missing` answers only for the
//! asking device's own changes (another device's change the server holds is
//! "lacking" to it, so it learns nothing of others'), refuses more than
//! `MAX_MISSING_PER_CALL` hashes and a hash of the wrong length, naming
//! them; a pull naming another server identity, or cursors past what the
//! server numbered, is answered `reset` in one message and nothing else,
//! an identity of the wrong length counts as none. The server serves on.

use massline_core::protocol::MAX_MISSING_PER_CALL;
use massline_proto::pb;
use massline_tests::raw::{self, channel_of};
use massline_tests::{Device, TestServer, Township, opinion, study};

fn bytes(hex: &str) -> Vec<u8> {
    massline_core::ids::hex_decode(hex).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_reset_answer_only_what_the_device_may_know() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    zhang.client.create(opinion("修路"), None).unwrap();
    let zhangs = bytes(&zhang.outbox()[0]);
    zhang.client.sync().await.unwrap();
    li.client.create(study("wang", 30, "学习"), None).unwrap();
    let lis = bytes(&li.outbox()[0]);
    li.client.sync().await.unwrap();
    assert!(li.outbox().is_empty());

    let (channel, token) = channel_of(&li).await;
    let answer = raw::missing(
        channel.clone(),
        &token,
        vec![zhangs.clone(), lis.clone(), vec![7; 32]],
    )
    .await
    .unwrap();
    assert_eq!(
        answer,
        [0, 2],
        "another's change, or a made-up one, is lacking"
    );

    let status = raw::missing(
        channel.clone(),
        &token,
        vec![lis.clone(); MAX_MISSING_PER_CALL + 1],
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains(&(MAX_MISSING_PER_CALL + 1).to_string())
            && status.message().contains(&MAX_MISSING_PER_CALL.to_string()),
        "{status:?}"
    );
    let status = raw::missing(
        channel.clone(),
        &token,
        vec![lis.clone(), lis[..31].to_vec()],
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("change 1") && status.message().contains("31 bytes"),
        "{status:?}"
    );

    // The identity the device learnt, and one from nowhere.
    let everything = raw::pull_everything(channel.clone(), &token).await;
    let answers = raw::pull(channel.clone(), &token, everything.clone())
        .await
        .unwrap();
    let last = answers.last().unwrap();
    assert_eq!(last.server.len(), 16, "the server names itself: {last:?}");
    assert!(!last.reset);
    let own = last.server.clone();
    let head = last.through;

    for (what, req) in [
        (
            "another identity",
            pb::PullRequest {
                server: vec![9; 16],
                ..everything.clone()
            },
        ),
        (
            "cursors past the numbering",
            pb::PullRequest {
                server: own.clone(),
                common: head + 1,
                ..everything.clone()
            },
        ),
    ] {
        let answers = raw::pull(channel.clone(), &token, req).await.unwrap();
        assert_eq!(answers.len(), 1, "{what}: {answers:?}");
        let a = &answers[0];
        assert!(
            a.reset && a.done && a.frame.is_empty() && a.entries == 0,
            "{what}: {a:?}"
        );
        assert_eq!((a.through, &a.server), (0, &own), "{what}");
    }
    // The same identity: no reset, and no identity sent back.
    let answers = raw::pull(
        channel.clone(),
        &token,
        pb::PullRequest {
            server: own.clone(),
            ..everything.clone()
        },
    )
    .await
    .unwrap();
    assert!(
        answers.iter().all(|a| !a.reset && a.server.is_empty()),
        "{answers:?}"
    );
    // Garbage for an identity: taken for none.
    let answers = raw::pull(
        channel.clone(),
        &token,
        pb::PullRequest {
            server: vec![1; 300],
            ..everything
        },
    )
    .await
    .unwrap();
    assert!(answers.iter().all(|a| !a.reset), "{answers:?}");

    zhang.still_syncs(opinion("还能同步")).await;
    server.stop().await;
}
