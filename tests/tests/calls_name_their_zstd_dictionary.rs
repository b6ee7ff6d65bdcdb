//! Every call's stream of packed changes names the zstd dictionary it is
//! compressed with (`PushRequest.dictionary` on its first message,
//! `PullResponse.dictionary` on each message carrying a frame): a push
//! naming one the server does not have is refused with a reason naming it,
//! before anything is read, and the server keeps serving; a device with no
//! dictionary (an older client) still pushes and pulls, and one newer than
//! the server is answered with the newest the server has. A phone asks for
//! the newest it has, and a pull answer naming one it lacks, or another
//! than its stream began with, fails the sync naming it.

use automerge::ActorId;
use massline_core::Client;
use massline_core::packing::{Dictionary, Entry, Packer, Unpacker};
use massline_core::sync::engine::SyncOptions;
use massline_proto::pb;
use massline_tests::hostile::{Enrols, HostileServer};
use massline_tests::{Device, TestServer, Township, problem, raw, study};
use serde_json::{Value, json};

fn problem_root(serial: u64, title: &str) -> Value {
    json!({"kind": "problem", "scope": "v/dongcun/shared", "serial": serial, "title": title,
           "how_found": "self_search", "area": "mass_service", "background": "",
           "causes": "", "manifestations": "", "direction": "", "solutions": "",
           "opinions": []})
}

fn entry(serial: u64) -> Value {
    json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": serial,
           "member": "wang", "date": "2024-05-01", "material": "mass_line_reading",
           "topic": "读本", "mode": "self_study", "minutes": 30, "reflection": ""})
}

/// One push message of `change`, compressed against `dictionary` and
/// naming `named`.
fn message(change: &[u8], dictionary: Dictionary, named: u32) -> pb::PushRequest {
    let mut packer = Packer::with_dictionary(3, dictionary);
    packer.push_change(change);
    let (frame, changes) = packer.flush();
    pb::PushRequest {
        frame,
        changes,
        dictionary: named,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_naming_an_unknown_dictionary_is_refused_and_the_server_keeps_serving() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let (channel, token) = raw::channel_of(&wang).await;
    let good = raw::first_change(&raw::actor_of(&wang), "wang", entry(1));
    for unknown in [2, 7, u32::MAX] {
        let stored = town.stored_changes();
        let m = message(&good, Dictionary::NEWEST, unknown);
        let err = raw::push(channel.clone(), &token, vec![m])
            .await
            .expect_err("refused");
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
        assert!(
            err.message().contains(&format!("dictionary {unknown}")),
            "{}",
            err.message()
        );
        assert_eq!(town.stored_changes(), stored, "nothing of it is stored");
        li.still_syncs(problem(&format!("路灯不亮 {unknown}")))
            .await;
    }

    // A stream made with the dictionary but naming none does not decompress.
    let stored = town.stored_changes();
    let m = message(&good, Dictionary::NEWEST, 0);
    let err = raw::push(channel.clone(), &token, vec![m])
        .await
        .expect_err("refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert_eq!(town.stored_changes(), stored);
    li.still_syncs(problem("水渠堵塞")).await;

    // Named rightly, it is taken; later messages of the call need not name it.
    let second = raw::first_change(&raw::actor_of(&wang), "wang", entry(2));
    let mut packer = Packer::with_dictionary(3, Dictionary::NEWEST);
    let mut first = raw::next_message(&mut packer, &[good]);
    first.dictionary = Dictionary::NEWEST.number();
    let then = raw::next_message(&mut packer, &[second]);
    let answers = raw::push(channel, &token, vec![first, then])
        .await
        .expect("taken");
    let accepted: Vec<u32> = answers.iter().map(|a| a.accepted).collect();
    assert_eq!(accepted, vec![1, 1]);
}

/// The changes of a pull's answer, unpacked with the dictionary each
/// message carrying a frame names (all the same).
fn unpack_answer(answers: &[pb::PullResponse]) -> (Vec<u32>, usize) {
    let named: Vec<u32> = answers
        .iter()
        .filter(|a| !a.frame.is_empty())
        .map(|a| a.dictionary)
        .collect();
    let mut unpacker = Unpacker::for_number(named.first().copied().unwrap_or(0)).expect("known");
    let mut changes = 0;
    for a in answers {
        for e in unpacker.unpack(&a.frame, a.entries).expect("unpacks") {
            assert!(matches!(e, Entry::Change { .. }));
            changes += 1;
        }
    }
    (named, changes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_with_no_dictionary_or_a_newer_one_still_sync() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    li.still_syncs(problem("村道坑洼")).await;

    // An older client's push: no dictionary named, none used.
    let (channel, token) = raw::channel_of(&wang).await;
    let good = raw::first_change(&raw::actor_of(&wang), "wang", entry(1));
    let answers = raw::push(channel.clone(), &token, vec![raw::message(&[good])])
        .await
        .expect("taken");
    assert_eq!(answers[0].accepted, 1);

    // Its pull asks for none and gets none; ours asks for the newest; a
    // device newer than the server gets the newest the server has.
    let req = raw::pull_everything(channel.clone(), &token).await;
    for (asked, used) in [(0, 0), (1, 1), (9, Dictionary::NEWEST.number())] {
        let answers = raw::pull(
            channel.clone(),
            &token,
            pb::PullRequest {
                dictionary: asked,
                ..req.clone()
            },
        )
        .await
        .expect("answered");
        let (named, changes) = unpack_answer(&answers);
        assert!(
            !named.is_empty() && named.iter().all(|&n| n == used),
            "{named:?}"
        );
        assert!(changes >= 1, "li's problem");
    }

    // Our own client set to use no dictionary syncs with one that does.
    let mut zhao = Device::enrol(&town, server.addr, "zhao").await;
    zhao.client.set_sync_options(SyncOptions {
        dictionary: Dictionary::None,
        ..SyncOptions::default()
    });
    zhao.still_syncs(study("zhao", 45, "老客户端")).await;
    let held = format!("{:?}", zhao.records());
    assert!(held.contains("村道坑洼"), "{held}");
}

/// One pull answer of `messages` (change chunks each), packed in one stream
/// against `dictionary` and naming, message by message, `named`.
fn pull_answer_with(
    messages: &[Vec<Vec<u8>>],
    dictionary: Dictionary,
    named: &[u32],
) -> Vec<pb::PullResponse> {
    let mut packer = Packer::with_dictionary(3, dictionary);
    messages
        .iter()
        .zip(named)
        .enumerate()
        .map(|(n, (changes, &named))| {
            for c in changes {
                packer.push_change(c);
            }
            let (frame, entries) = packer.flush();
            pb::PullResponse {
                frame,
                entries,
                through: 1 + n as u64,
                done: n + 1 == messages.len(),
                dictionary: named,
                ..pb::PullResponse::default()
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_naming_an_unknown_or_another_dictionary_fails_and_keeps_what_came_before() {
    let server = HostileServer::start(Enrols {
        person: "li".into(),
        role: pb::Role::Cadre,
        village: "dongcun".into(),
        scopes: vec!["v/dongcun/shared".into(), "v/dongcun/cadre".into()],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let phone = Client::open(dir.path().join("phone.db")).unwrap();
    phone.enroll(&server.code(), None, "li").await.unwrap();
    let zhang = ActorId::from([9u8; 16]);
    let change = |serial, title| raw::first_change(&zhang, "zhang", problem_root(serial, title));
    let (first, second) = (change(1, "村道坑洼"), change(2, "路灯不亮"));
    let newest = Dictionary::NEWEST.number();

    server.answer_next_pull(pull_answer_with(
        &[vec![first.clone()]],
        Dictionary::NEWEST,
        &[9],
    ));
    let err = phone.sync().await.expect_err("unknown").to_string();
    assert!(err.contains("dictionary 9"), "{err}");
    assert!(phone.list(None).unwrap().is_empty());

    // The first message is taken; the second names another dictionary.
    server.answer_next_pull(pull_answer_with(
        &[vec![first.clone()], vec![second.clone()]],
        Dictionary::NEWEST,
        &[newest, 0],
    ));
    let err = phone.sync().await.expect_err("changed").to_string();
    assert!(err.contains(&format!("began with {newest}")), "{err}");
    assert_eq!(phone.list(None).unwrap().len(), 1);

    server.answer_next_pull(pull_answer_with(
        &[vec![second]],
        Dictionary::NEWEST,
        &[newest],
    ));
    let r = phone.sync().await.expect("answered properly");
    assert_eq!(r.pulled, 1, "{r:?}");
    assert_eq!(phone.list(None).unwrap().len(), 2);
    let asked: Vec<u32> = server
        .pull_requests()
        .iter()
        .map(|r| r.dictionary)
        .collect();
    assert!(asked.iter().all(|&d| d == newest), "{asked:?}");
}
