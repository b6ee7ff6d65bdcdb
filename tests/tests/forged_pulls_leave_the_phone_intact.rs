//! Whatever changes a server sends, the phone stays whole: real changes
//! (the shared workload's records of every kind and their edits, replayed on
//! a real phone of the village's secretary) are forged — a change's number
//! in its actor's sequence, the number of its first operation, its
//! dependencies (its operations numbered on from the new one or not), an
//! operation's earlier value, object, list position, insert flag or action —
//! and encoded again as Automerge encodes them (hash and checksum right),
//! so that only the phone's own checks stand between them and its records.
//! A hand-made hostile server answers a fresh phone's pull with the honest
//! changes and a forged one in place of, before or after its original. For
//! every answer nothing panics, the sync ends (a refused message with more
//! behind it stops the reading of the rest too), succeeds or fails with an error
//! naming the record (or, for a change whose dependency never came, the
//! change), every record in the store loads with its history, the phone then
//! takes the honest changes (ending with the secretary's records exactly,
//! unless it took the forged change in) and a new record as before.
//!
//! A few seconds by default; `PROPTEST_CASES=500` runs longer, and
//! `MASSLINE_TEST_SEED` replays a run.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use automerge::Change;
use massline_core::Client;
use massline_proto::pb;
use massline_tests::forge::{self, Changes, Forgery, panics};
use massline_tests::hostile::{Enrols, HostileServer, pull_answer};
use massline_tests::{Device, TestServer, Township, problem};
use proptest::prelude::*;

/// Cases run unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 32;

/// Changes per message of a pull answer.
const CHANGES_PER_MESSAGE: usize = 6;

/// Where the forged change goes in the answer.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// In place of its original, which is not sent.
    Instead,
    /// Just before its original.
    Before,
    /// Just after its original.
    After,
}

/// One hostile answer: the honest changes, or one of them forged.
#[derive(Clone, Debug)]
enum Case {
    Honest,
    Forged {
        /// The change forged (counted round), among edits only if `edit`.
        change: usize,
        edit: bool,
        place: Place,
        forgeries: Vec<Forgery>,
    },
}

fn case() -> impl Strategy<Value = Case> {
    let place = prop_oneof![
        1 => Just(Place::Instead),
        1 => Just(Place::Before),
        2 => Just(Place::After),
    ];
    prop_oneof![
        1 => Just(Case::Honest),
        8 => (0usize..256, any::<bool>(), place, prop::collection::vec(forge::forgery(), 1..4))
            .prop_map(|(change, edit, place, forgeries)| Case::Forged {
                change,
                edit,
                place,
                forgeries,
            }),
    ]
}

/// The changes the hostile server sends for `case`, and the forged change
/// if it differs from its original.
fn answer(real: &Changes, case: &Case) -> (Vec<Vec<u8>>, Option<Vec<u8>>) {
    let mut changes = real.bytes.clone();
    let Case::Forged {
        change,
        edit,
        place,
        forgeries,
    } = case
    else {
        return (changes, None);
    };
    let c = if *edit && !real.edits.is_empty() {
        real.edits[change % real.edits.len()]
    } else {
        change % changes.len()
    };
    let forged = real.forge(c, forgeries);
    if forged == changes[c] {
        return (changes, None);
    }
    match place {
        Place::Instead => changes[c] = forged.clone(),
        Place::Before => changes.insert(c, forged.clone()),
        Place::After => changes.insert(c + 1, forged.clone()),
    }
    (changes, Some(forged))
}

/// The pull answer holding `changes`, packed as the server packs them,
/// its messages saying they cover through `first_through` on.
fn answer_of(changes: &[Vec<u8>], first_through: u64) -> Vec<pb::PullResponse> {
    let messages: Vec<Vec<Vec<u8>>> = changes
        .chunks(CHANGES_PER_MESSAGE)
        .map(<[Vec<u8>]>::to_vec)
        .collect();
    pull_answer(&messages, first_through)
}

/// The secretary's phone of the workload's village and its changes
/// ([`forge::replayed_village`]), and who the hostile server enrols a phone
/// as to send them.
async fn workload_changes(town: &Township, server: &TestServer) -> (Device, Vec<Vec<u8>>, Enrols) {
    let forge::Replayed {
        phone,
        secretary,
        village,
        changes,
    } = forge::replayed_village(town, server).await;
    let enrols = Enrols {
        person: secretary,
        role: pb::Role::Secretary,
        village,
        scopes: phone
            .client
            .status()
            .unwrap()
            .cursors
            .iter()
            .map(|(scope, _)| scope.to_string())
            .collect(),
    };
    (phone, changes, enrols)
}

/// Whether the phone's store holds the change `bytes`.
fn holds(store: &Path, bytes: &[u8]) -> bool {
    let hash = Change::from_bytes(bytes.to_vec()).unwrap().hash();
    let db =
        rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    db.query_row(
        "SELECT count(*) FROM changes WHERE hash = ?1",
        [&hash.0[..]],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

/// Every record in the phone's store, each loaded with its history, as
/// (id hex, record JSON or why it does not read), sorted.
fn every_record_loads(
    phone: &Client,
    store: &Path,
    case: &Case,
) -> Vec<(String, serde_json::Value)> {
    let db =
        rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let stored: i64 = db
        .query_row("SELECT count(*) FROM documents", [], |r| r.get(0))
        .unwrap();
    let rows = phone.list_all(None).unwrap();
    assert_eq!(
        rows.len() as i64,
        stored,
        "{case:?}: records left out of the list"
    );
    let mut out: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let history = phone.history(&row.id);
            assert!(
                history.as_ref().is_ok_and(|h| !h.is_empty()),
                "{case:?}: record {} does not load: {history:?}",
                row.id
            );
            let again = phone.get(&row.id).unwrap();
            let record = match again.record {
                Some(r) => serde_json::to_value(r).unwrap(),
                None => serde_json::Value::String(again.problem.unwrap_or_default()),
            };
            (row.id.to_hex(), record)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The phone's sync, which must end within 20 s whatever the answer.
fn sync(
    rt: &tokio::runtime::Runtime,
    phone: &Client,
    case: &Case,
) -> Result<massline_core::SyncReport, String> {
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), phone.sync())
            .await
            .unwrap_or_else(|_| panic!("{case:?}: the sync did not end within 20 s"))
    })
    .map_err(|e| e.to_string())
}

/// A failed sync names the record of the change it would not take, or,
/// when the answer holds an `orphan` (a change whose dependency came
/// nowhere before it, so that nothing tells the phone its record), a change.
fn names_what_failed(case: &Case, err: &str, orphan: bool) {
    assert!(
        err.contains("record ") || (orphan && err.contains("change ")),
        "{case:?}: the sync failed naming no record: {err}"
    );
}

/// Whether a change of `sent` depends first on none of the changes before
/// it: the forged change, or a change made after its original, which a
/// forgery sent in its place.
fn orphan(sent: &[Vec<u8>]) -> bool {
    let mut seen = std::collections::HashSet::new();
    sent.iter().any(|b| {
        let c = Change::from_bytes(b.clone()).unwrap();
        let lost = c.deps().first().is_some_and(|d| !seen.contains(d));
        seen.insert(c.hash());
        lost
    })
}

/// How a forged answer went, tallied to show where the inputs went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    /// The honest changes, taken.
    Honest,
    /// A forgery that comes out as its original.
    Unchanged,
    /// The sync failed; the forged change was not taken.
    Refused,
    /// The forged change was taken (a change Automerge could have made).
    Taken,
}

#[test]
fn forged_pulls_leave_the_phone_intact() {
    panics::count();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let town = Township::new();
    let server = rt.block_on(TestServer::start(&town));
    let (maker, bytes, enrols) = rt.block_on(workload_changes(&town, &server));
    rt.block_on(server.stop());
    let changes = Changes::new(bytes);
    assert!(changes.bytes.len() > 20, "{} changes", changes.bytes.len());
    let truth = maker.records();
    let hostile = rt.block_on(HostileServer::start(enrols.clone()));

    let mut runner = forge::runner("forged_pulls_leave_the_phone_intact", DEFAULT_CASES);
    let serial = AtomicUsize::new(0);
    let outcomes = std::sync::Mutex::new(HashMap::<Outcome, usize>::new());
    let result = runner.run(&case(), |case| {
        // A panic of the case before (a failed assertion, while shrinking)
        // is not this one's.
        panics::take();
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("phone.db");
        let phone = Client::open(&store).unwrap();
        rt.block_on(phone.enroll(&hostile.code(), None, &enrols.person))
            .unwrap();

        let (sent, forged) = answer(&changes, &case);
        hostile.answer_next_pull(answer_of(&sent, 1));
        let first = sync(&rt, &phone, &case);
        assert_eq!(panics::take(), 0, "{case:?}: a panic");
        let orphan = orphan(&sent);
        if let Err(err) = &first {
            names_what_failed(&case, err, orphan);
        }
        let taken = forged.as_ref().is_some_and(|f| holds(&store, f));
        let outcome = match (&case, &forged) {
            (Case::Honest, _) => Outcome::Honest,
            (_, None) => Outcome::Unchanged,
            _ if taken => Outcome::Taken,
            _ => Outcome::Refused,
        };
        if forged.is_none() {
            assert!(first.is_ok(), "{case:?}: honest changes refused: {first:?}");
        }
        every_record_loads(&phone, &store, &case);

        // The honest changes again: all taken, unless the forged change
        // took an honest one's place.
        hostile.answer_next_pull(answer_of(&changes.bytes, 1_000));
        let again = sync(&rt, &phone, &case);
        assert_eq!(panics::take(), 0, "{case:?}: a panic");
        match &again {
            Err(err) if taken => names_what_failed(&case, err, false),
            Err(err) => panic!("{case:?}: the honest changes refused: {err}"),
            Ok(_) => {}
        }
        let records = every_record_loads(&phone, &store, &case);
        if !taken {
            assert_eq!(records, truth, "{case:?}: the phone's records differ");
        }

        // A new record of the secretary's: taken as before.
        let n = serial.fetch_add(1, Ordering::Relaxed);
        maker
            .client
            .create(problem(&format!("村道坑洼 {n}")), None)
            .unwrap();
        let new = forge::pending(&maker.path).pop().unwrap();
        hostile.answer_next_pull(answer_of(&[new], 2_000));
        let r = sync(&rt, &phone, &case).unwrap_or_else(|e| panic!("{case:?}: a new record: {e}"));
        assert_eq!(r.pulled, 1, "{case:?}: {r:?}");
        assert_eq!(panics::take(), 0, "{case:?}: a panic");
        every_record_loads(&phone, &store, &case);
        *outcomes.lock().unwrap().entry(outcome).or_default() += 1;
        Ok(())
    });
    eprintln!(
        "{} changes of {} records from the workload; forged answers: {:?}",
        changes.bytes.len(),
        changes.records(),
        outcomes.lock().unwrap(),
    );
    result.unwrap();
}
