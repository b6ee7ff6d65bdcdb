//! A push message with an empty frame holds nothing, however many come in a
//! row: the server answers each with nothing accepted, and the call's
//! changes after them land. (zstd counts each read given no input as no
//! progress and fails the stream after 16 in a row; the `pack_roundtrip`
//! fuzz target found it, flushing a packer with nothing in it 20 times.)

use massline_core::packing::Packer;
use massline_tests::{Device, TestServer, Township, raw, study};

/// Empty messages in a row: more than zstd's 16 reads without progress.
const EMPTY: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_messages_in_a_row_leave_the_call_working() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let first = wang.client.create(study("wang", 30, "读本"), None).unwrap();
    let second = wang.client.create(study("wang", 45, "党章"), None).unwrap();
    let changes: Vec<Vec<u8>> = [first, second]
        .iter()
        .map(|id| {
            raw::doc_of(&wang, id).get_changes(&[])[0]
                .raw_bytes()
                .to_vec()
        })
        .collect();

    let mut packer = Packer::new(3);
    let mut call = vec![raw::next_message(&mut packer, &changes[..1])];
    for _ in 0..EMPTY {
        let empty = raw::next_message(&mut packer, &[]);
        assert!(empty.frame.is_empty() && empty.changes == 0);
        call.push(empty);
    }
    call.push(raw::next_message(&mut packer, &changes[1..]));

    let (channel, token) = raw::channel_of(&wang).await;
    let answers = raw::push(channel, &token, call).await.unwrap();
    let accepted: Vec<u32> = answers.iter().map(|a| a.accepted).collect();
    let mut expected = vec![0; EMPTY + 2];
    (expected[0], expected[EMPTY + 1]) = (1, 1);
    assert_eq!(accepted, expected);
    assert!(answers.iter().all(|a| a.refused.is_empty()), "{answers:?}");
    assert_eq!(town.stored_changes(), 2);
    server.stop().await;
}
