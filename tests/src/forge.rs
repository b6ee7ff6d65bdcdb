//! Real changes, and the same changes forged, for the property tests of
//! what a hostile device pushes and a hostile server answers: a phone of
//! the shared workload's village replays some of its records
//! ([`replayed_village`]), and [`Changes::forge`] writes one of them
//! otherwise (its numbers, dependencies or operations) and encodes it again
//! as Automerge encodes it, its hash and checksum right, so that only the
//! receiver's own checks stand between it and the record. [`panics`]
//! counts the panics of the whole process.

use std::collections::HashMap;
use std::path::Path;

use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{Change, ChangeHash, ExpandedChange, ObjType, ScalarValue};
use massline_core::PersonId;
use massline_core::store::{Db, outbox};
use proptest::prelude::*;

use crate::{Device, TestServer, Township};

/// The workload's reading as records, shared with the benchmark.
#[allow(dead_code)]
#[path = "../../bench/src/workload.rs"]
mod workload;

/// Records of each kind replayed from the workload, and updates per
/// rectification item: every kind of record and of edit, a short replay.
pub const PER_KIND: usize = 3;

/// A phone that replayed part of the workload's village.
pub struct Replayed {
    /// The village's secretary's phone, enrolled, its changes unsent.
    pub phone: Device,
    /// The secretary.
    pub secretary: String,
    /// The village's code.
    pub village: String,
    /// The phone's changes, in the order it made them.
    pub changes: Vec<Vec<u8>>,
}

/// The workload's first village added to `town`, and its secretary's phone
/// after replaying [`PER_KIND`] records of each kind and up to [`PER_KIND`]
/// updates of each rectification item kept.
pub async fn replayed_village(town: &Township, server: &TestServer) -> Replayed {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/data/workload-1-village.json");
    let village = workload::load(&path).unwrap().remove(0);
    let secretary = village.secretary();
    town.add_village(&village.id, &secretary, &village.members);
    let phone = Device::enrol(town, server.addr, &secretary).await;

    let mut kinds: HashMap<_, usize> = HashMap::new();
    let mut updates: HashMap<String, usize> = HashMap::new();
    let ops: Vec<_> = village
        .ops
        .iter()
        .filter(|op| match op {
            workload::Op::Create { key, record, .. } => {
                let n = kinds.entry(record.kind()).or_default();
                *n += 1;
                if *n <= PER_KIND {
                    updates.insert(key.clone(), 0);
                }
                *n <= PER_KIND
            }
            workload::Op::UpdateRectification { key, .. } => match updates.get_mut(key) {
                Some(n) if *n < PER_KIND => {
                    *n += 1;
                    true
                }
                _ => false,
            },
        })
        .cloned()
        .collect();
    let me = PersonId::new(&secretary).unwrap();
    workload::replay(&phone.client, &me, &ops, &mut HashMap::new()).unwrap();
    let changes = pending(&phone.path);
    Replayed {
        phone,
        secretary,
        village: village.id.clone(),
        changes,
    }
}

/// The changes waiting in a device's outbox, oldest first.
pub fn pending(store: &Path) -> Vec<Vec<u8>> {
    Db::open(store, None)
        .unwrap()
        .read(|tx| outbox::pending(tx, usize::MAX))
        .unwrap()
        .into_iter()
        .map(|p| p.bytes)
        .collect()
}

/// The `index`-th change (counted round) of all the changes, or of the
/// forged change's own record: a record's own changes are what a forgery
/// most often names to get past the receiver's checks.
#[derive(Clone, Copy, Debug)]
pub struct Other {
    index: usize,
    same_record: bool,
}

/// What a forged change says otherwise; `at` names an operation (counted
/// round) of another change, `op` one of the forged change.
#[derive(Clone, Debug)]
pub enum Forgery {
    /// Its number in its actor's sequence moved by this much.
    Seq(i64),
    /// The number of its first operation moved by this much.
    StartOp(i64),
    /// It depends on another change instead, its operations numbered on
    /// from that change's if `renumber`.
    DependOn { of: Other, renumber: bool },
    /// It depends on nothing.
    NoDependencies,
    /// An operation replaces another change's operation.
    Pred { op: usize, of: Other, at: usize },
    /// An operation writes into what another change's operation made.
    Obj { op: usize, of: Other, at: usize },
    /// An operation writes after a list item another change's operation
    /// inserted.
    ListKey { op: usize, of: Other, at: usize },
    /// An operation inserts where it wrote, or writes where it inserted.
    ToggleInsert { op: usize },
    /// An operation does something else.
    Action { op: usize, action: u8 },
}

fn other() -> impl Strategy<Value = Other> {
    (0usize..256, prop::bool::weighted(0.7))
        .prop_map(|(index, same_record)| Other { index, same_record })
}

/// One forgery; most often the change is numbered as its actor's next: sent
/// after its original, it is a second change on the same dependencies, its
/// operations numbered as the original's.
pub fn forgery() -> impl Strategy<Value = Forgery> {
    let i = 0usize..256;
    let seq = prop_oneof![3 => Just(1i64), 1 => -3i64..=3];
    prop_oneof![
        2 => seq.prop_map(Forgery::Seq),
        1 => (-8i64..=8).prop_map(Forgery::StartOp),
        1 => (other(), any::<bool>())
            .prop_map(|(of, renumber)| Forgery::DependOn { of, renumber }),
        1 => Just(Forgery::NoDependencies),
        1 => (i.clone(), other(), i.clone()).prop_map(|(op, of, at)| Forgery::Pred { op, of, at }),
        1 => (i.clone(), other(), i.clone()).prop_map(|(op, of, at)| Forgery::Obj { op, of, at }),
        1 => (i.clone(), other(), i.clone())
            .prop_map(|(op, of, at)| Forgery::ListKey { op, of, at }),
        1 => i.clone().prop_map(|op| Forgery::ToggleInsert { op }),
        1 => (i, 0u8..7).prop_map(|(op, action)| Forgery::Action { op, action }),
    ]
}

/// Real changes, each with the record it belongs to.
pub struct Changes {
    /// The changes, in the order they were made.
    pub bytes: Vec<Vec<u8>>,
    /// For each change, the number of its record (in order of first change).
    record: Vec<usize>,
    /// The changes of each record, in order.
    of_record: Vec<Vec<usize>>,
    /// The changes that depend on another (edits).
    pub edits: Vec<usize>,
}

impl Changes {
    /// `bytes`, each change after the one it depends on.
    pub fn new(bytes: Vec<Vec<u8>>) -> Changes {
        let mut by_hash: HashMap<ChangeHash, usize> = HashMap::new();
        let (mut record, mut of_record, mut edits) =
            (Vec::new(), Vec::<Vec<usize>>::new(), Vec::new());
        for (i, b) in bytes.iter().enumerate() {
            let c = Change::from_bytes(b.clone()).unwrap();
            let r = match c.deps().first() {
                None => {
                    of_record.push(Vec::new());
                    of_record.len() - 1
                }
                Some(d) => {
                    edits.push(i);
                    record[by_hash[d]]
                }
            };
            by_hash.insert(c.hash(), i);
            record.push(r);
            of_record[r].push(i);
        }
        Changes {
            bytes,
            record,
            of_record,
            edits,
        }
    }

    /// How many records the changes make.
    pub fn records(&self) -> usize {
        self.of_record.len()
    }

    /// The change `of` names for a forgery of change `c`.
    fn other(&self, c: usize, of: Other) -> usize {
        if of.same_record {
            let own = &self.of_record[self.record[c]];
            own[of.index % own.len()]
        } else {
            of.index % self.bytes.len()
        }
    }

    fn decode(&self, i: usize) -> Change {
        Change::from_bytes(self.bytes[i].clone()).unwrap()
    }

    /// Change `c` as `forgeries` say, encoded again by Automerge.
    pub fn forge(&self, c: usize, forgeries: &[Forgery]) -> Vec<u8> {
        let op_of = |of: Other, at: usize| {
            let other = self.decode(self.other(c, of));
            let at = at as u64 % other.len().max(1) as u64;
            OpId::new(other.start_op().get() + at, other.actor_id())
        };
        let mut e = ExpandedChange::from(&self.decode(c));
        let n = e.operations.len();
        let shift = |v: u64, by: i64| v.saturating_add_signed(by).max(1);
        for forgery in forgeries {
            match *forgery {
                Forgery::Seq(by) => e.seq = shift(e.seq, by),
                Forgery::StartOp(by) => {
                    e.start_op = std::num::NonZeroU64::new(shift(e.start_op.get(), by)).unwrap();
                }
                Forgery::DependOn { of, renumber } => {
                    let on = self.decode(self.other(c, of));
                    e.deps = vec![on.hash()];
                    if renumber {
                        e.start_op = std::num::NonZeroU64::new(on.max_op() + 1).unwrap();
                    }
                }
                Forgery::NoDependencies => e.deps.clear(),
                Forgery::Pred { op, of, at } => {
                    e.operations[op % n].pred = vec![op_of(of, at)].into();
                }
                Forgery::Obj { op, of, at } => {
                    e.operations[op % n].obj = ObjectId::Id(op_of(of, at));
                }
                Forgery::ListKey { op, of, at } => {
                    e.operations[op % n].key = Key::Seq(ElementId::Id(op_of(of, at)));
                }
                Forgery::ToggleInsert { op } => e.operations[op % n].insert ^= true,
                Forgery::Action { op, action } => {
                    e.operations[op % n].action = match action {
                        0 => OpType::Make(ObjType::Map),
                        1 => OpType::Make(ObjType::List),
                        2 => OpType::Make(ObjType::Text),
                        3 => OpType::Put(ScalarValue::Str("伪造".into())),
                        4 => OpType::Delete,
                        5 => OpType::Increment(1),
                        _ => OpType::Put(ScalarValue::counter(0)),
                    };
                }
            }
        }
        e.hash = None;
        Change::from(e).raw_bytes().to_vec()
    }
}

/// Panics anywhere in the process, counted: a server's or phone's tasks
/// catch their own panics and answer with an error, which a property test
/// must not take for a refusal.
/// The property runner of a forging test: `PROPTEST_CASES` cases (else
/// `default_cases`), from a seed that `MASSLINE_TEST_SEED` replays
/// ([`crate::seeded_rng`]); failures are not written to files.
pub fn runner(test: &str, default_cases: u32) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use rand::Rng;
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    let (_, mut seeds) = crate::seeded_rng(test);
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seeds.random::<[u8; 32]>()),
    )
}

pub mod panics {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static PANICS: AtomicUsize = AtomicUsize::new(0);

    /// Counts every panic from now on, then reports it as before.
    pub fn count() {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            report(info);
        }));
    }

    /// The panics counted since the last call: a panic of the case before
    /// (a failed assertion, while shrinking) is not the next one's.
    pub fn take() -> usize {
        PANICS.swap(0, Ordering::SeqCst)
    }
}
