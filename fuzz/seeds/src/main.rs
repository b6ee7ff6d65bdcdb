//! Writes the seed corpus of the fuzz targets (`fuzz/seed-corpus/<target>/`)
//! from the shared workload: a phone of the village's secretary, enrolled
//! offline, replays the village's year through the client API; its changes
//! are the changes, its push calls (made by the sync engine, as a device
//! makes them) the push frames, and the same changes packed as the server
//! answers a fresh phone the pull frames.
//!
//! ```sh
//! cargo run --release --manifest-path fuzz/Cargo.toml -p massline-fuzz-seeds
//! ```
//!
//! `--workload FILE` and `--out DIR` override the defaults
//! (`bench/data/workload-1-village.json`, `fuzz/seed-corpus`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use automerge::{ActorId, Automerge, Change};
use massline_core::access::Principal;
use massline_core::enrollment_code::EnrollmentCode;
use massline_core::packing::Packer;
use massline_core::protocol::PushAck;
use massline_core::store::identity::{self, Identity, ServerPin};
use massline_core::store::outbox::{self, Pending};
use massline_core::store::{Db, cursors};
use massline_core::sync::engine::{self, SyncOptions};
use massline_core::sync::sizes::Adaptive;
use massline_core::{Client, DocId, PersonId, Role, VillageCode, doc_json, first_change};
use massline_fuzz_seeds::{body, join, without_dependencies};
use massline_proto::pb;
use prost::Message;
use sha2::{Digest, Sha256};

/// The workload's reading as massline records, shared with the benchmark.
#[allow(dead_code)]
#[path = "../../../bench/src/workload.rs"]
mod workload;

/// Uncompressed bytes per seed message: small, so a seed holds several
/// messages of one call within the targets' `-max_len`.
const MESSAGE_BYTES: usize = 2 << 10;

/// Seeds kept of each kind: enough to reach every path, small enough to commit.
const SEEDS: usize = 40;

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = std::env::args().skip(1);
    let (mut workload, mut out) = (
        root.join("bench/data/workload-1-village.json"),
        root.join("fuzz/seed-corpus"),
    );
    while let Some(a) = args.next() {
        let value = PathBuf::from(args.next().with_context(|| format!("{a} needs a value"))?);
        match a.as_str() {
            "--workload" => workload = value,
            "--out" => out = value,
            _ => anyhow::bail!("unknown argument {a}"),
        }
    }
    let village = workload::load(&workload)?
        .into_iter()
        .next()
        .context("no village in the workload")?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("phone.db");
    let me = enrol_offline(&path, &village)?;
    let client = Client::open(&path)?;
    let mut ids = HashMap::new();
    workload::replay(&client, &me, &village.ops, &mut ids)?;
    workload::replay(&client, &me, &village.incremental, &mut ids)?;
    // A few records withdrawn (opinions are evidence: those stay).
    let mut sorted: Vec<_> = ids.values().copied().collect();
    sorted.sort();
    let withdrawn = sorted
        .iter()
        .filter(|id| client.withdraw(id, "录入错误").is_ok())
        .take(4)
        .count();
    anyhow::ensure!(withdrawn == 4, "records to withdraw");
    let db = Db::open(&path, None)?;
    let changes = db.read(|tx| outbox::pending(tx, usize::MAX))?;
    eprintln!("{} changes of {} records", changes.len(), ids.len());

    let mut seeds = Seeds::new(&out)?;
    change_seeds(&mut seeds, &changes)?;
    record_seeds(&mut seeds, &changes)?;
    pull_seeds(&mut seeds, &changes)?;
    request_seeds(&mut seeds, &db)?;
    push_seeds(&mut seeds, &db)?;
    other_seeds(&mut seeds)?;
    Ok(())
}

/// Makes `path` the store of the village secretary's phone, as enrollment
/// would (identity and the scopes of the village), with no server.
fn enrol_offline(path: &Path, village: &workload::Village) -> anyhow::Result<PersonId> {
    let code = VillageCode::new(village.id.clone()).map_err(anyhow::Error::msg)?;
    let me = PersonId::new(village.secretary()).map_err(anyhow::Error::msg)?;
    let mut scopes = vec![format!("v/{code}/shared"), format!("v/{code}/cadre")];
    scopes.extend(village.members.iter().map(|m| format!("v/{code}/m/{m}")));
    let id = Identity {
        server: ServerPin {
            address: "127.0.0.1:7443".into(),
            cert_sha256: [1; 32],
        },
        device_id: 1,
        device_token: "seed".into(),
        actor: ActorId::from([0x5e; 16]),
        principal: Principal {
            person: me.clone(),
            role: Role::Secretary,
            village: Some(code),
        },
        name: "书记".into(),
        village_name: Some(format!("{}村", village.id)),
        township: "基准镇".into(),
    };
    Db::open(path, None)?.write(|tx| {
        identity::save(tx, &id, 1_700_000_000)?;
        cursors::set_scopes(tx, &scopes)
    })?;
    Ok(me)
}

/// The seed directories, one per target.
struct Seeds {
    out: PathBuf,
    written: HashMap<&'static str, (usize, usize)>,
}

impl Seeds {
    fn new(out: &Path) -> anyhow::Result<Seeds> {
        std::fs::create_dir_all(out)?;
        Ok(Seeds {
            out: out.to_path_buf(),
            written: HashMap::new(),
        })
    }

    /// Writes one seed of `target`, named by its content.
    fn put(&mut self, target: &'static str, bytes: &[u8]) -> anyhow::Result<()> {
        let dir = self.out.join(target);
        std::fs::create_dir_all(&dir)?;
        let name: String = Sha256::digest(bytes)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(dir.join(name), bytes)?;
        let n = self.written.entry(target).or_default();
        n.0 += 1;
        n.1 += bytes.len();
        Ok(())
    }
}

impl Drop for Seeds {
    fn drop(&mut self) {
        let mut all: Vec<_> = self.written.iter().collect();
        all.sort();
        for (target, (n, bytes)) in all {
            eprintln!("{target}: {n} seeds, {bytes} bytes");
        }
    }
}

/// Every `len / SEEDS`-th item, so the seeds span the whole year.
fn spread<T>(items: &[T]) -> impl Iterator<Item = &T> {
    items.iter().step_by((items.len() / SEEDS).max(1))
}

fn parse(p: &Pending) -> anyhow::Result<Change> {
    Change::try_from(&p.bytes[..]).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `change`: change bodies, first changes and edits alike; `edit`: a record's
/// first change with its first edit.
fn change_seeds(seeds: &mut Seeds, changes: &[Pending]) -> anyhow::Result<()> {
    for p in spread(changes) {
        let b = body(&p.bytes).context("a change chunk")?;
        seeds.put("change", &[&[0u8][..], b].concat())?;
    }
    let firsts: HashMap<_, _> = changes.iter().map(|p| (p.hash, p)).collect();
    let edits: Vec<(&Pending, &Pending)> = changes
        .iter()
        .filter_map(|p| {
            let c = parse(p).ok()?;
            match c.deps() {
                [dep] => firsts.get(dep).map(|f| (*f, p)),
                _ => None,
            }
        })
        .filter(|(f, _)| parse(f).is_ok_and(|c| c.deps().is_empty()))
        .collect();
    for (first, edit) in spread(&edits) {
        let first = [&[0u8][..], body(&first.bytes).context("a chunk")?].concat();
        let rest = without_dependencies(body(&edit.bytes).context("a chunk")?).context("deps")?;
        seeds.put("edit", &join(&[&first[..], rest]))?;
    }
    Ok(())
}

/// `record`: the roots of records as they stand after all their changes.
fn record_seeds(seeds: &mut Seeds, changes: &[Pending]) -> anyhow::Result<()> {
    let mut by_doc: HashMap<DocId, Vec<Change>> = HashMap::new();
    for p in changes {
        by_doc.entry(p.doc).or_default().push(parse(p)?);
    }
    let mut docs: Vec<_> = by_doc.into_iter().collect();
    docs.sort_by_key(|(id, c)| (c.len() == 1, *id));
    for (_, cs) in spread(&docs) {
        let mut doc = Automerge::new();
        doc.apply_changes(cs.iter().cloned())?;
        let root = doc_json::read_root(&doc);
        seeds.put("record", &serde_json::to_vec(&root)?)?;
    }
    // As first_change reads them, straight from their bytes.
    for p in spread(changes).take(10) {
        if let Some(root) = first_change::root_of(&parse(p)?) {
            seeds.put("record", &serde_json::to_vec(&root)?)?;
        }
    }
    Ok(())
}

/// `pull_response`: the changes as the server answers a phone pulling from
/// a cursor, in messages of one stream; and an answer naming the scopes.
fn pull_seeds(seeds: &mut Seeds, changes: &[Pending]) -> anyhow::Result<()> {
    let starts: Vec<usize> = (0..changes.len()).collect();
    for &start in spread(&starts).take(16) {
        let mut packer = Packer::new(3);
        let mut messages = Vec::new();
        let mut through = start as u64;
        for p in changes[start..].iter().take(40) {
            packer.push_change(&p.bytes);
            through += 1;
            if packer.pending_bytes() >= MESSAGE_BYTES {
                let (frame, entries) = packer.flush();
                messages.push(pull_message(frame, entries, through, false));
            }
        }
        let (frame, entries) = packer.flush();
        messages.push(pull_message(frame, entries, through, true));
        seeds.put("pull_response", &join(&messages))?;
    }
    let scopes = pb::PullResponse {
        scopes: vec!["v/v00/shared".into(), "v/v00/cadre".into()],
        done: true,
        ..Default::default()
    };
    seeds.put("pull_response", &join(&[scopes.encode_to_vec()]))
}

fn pull_message(frame: Vec<u8>, entries: u32, through: u64, done: bool) -> Vec<u8> {
    pb::PullResponse {
        frame,
        entries,
        through,
        scopes: Vec::new(),
        done,
        ..Default::default()
    }
    .encode_to_vec()
}

/// `requests`: the phone's own pull request, and enrollment requests.
fn request_seeds(seeds: &mut Seeds, db: &Db) -> anyhow::Result<()> {
    let r = engine::pull_request(db)?;
    let mut req = pb::PullRequest {
        common: r.common,
        compression: 19,
        scopes_digest: r.scopes_digest,
        cursors: Vec::new(),
        message_bytes: 4096,
        server: vec![7; 16],
        dictionary: 1,
        person_digest: r.person_digest,
    };
    seeds.put("requests", &req.encode_to_vec())?;
    req.cursors = r
        .cursors
        .iter()
        .take(3)
        .map(|(scope, seq)| pb::ScopeCursor {
            scope: scope.clone(),
            seq: seq + 7,
        })
        .collect();
    seeds.put("requests", &req.encode_to_vec())?;
    let enroll = pb::EnrollRequest {
        code: "K7QM-2XRT-9WPA-H3CD".into(),
        actor_id: vec![0x5e; 16],
        device_name: "书记的手机".into(),
        bundle_public_key: vec![0x3b; 32],
    };
    seeds.put("requests", &enroll.encode_to_vec())
}

/// `push_request` and `unpack`: the push calls the sync engine makes of the
/// whole outbox, in small messages; every few calls a seed.
fn push_seeds(seeds: &mut Seeds, db: &Db) -> anyhow::Result<()> {
    let opts = SyncOptions {
        push_message_bytes: MESSAGE_BYTES,
        push_call_bytes: 4 * MESSAGE_BYTES,
        ..SyncOptions::default()
    };
    let mut calls = Vec::new();
    while let Some((frames, mut acks)) = engine::start_push(
        db,
        &opts,
        Arc::new(Adaptive::new(None, opts.push_message_bytes)),
    )? {
        let frames: Vec<_> = frames.collect();
        for f in &frames {
            acks.record(
                db,
                PushAck {
                    accepted: f.changes,
                    refused: Vec::new(),
                },
            )?;
        }
        calls.push(frames);
    }
    for call in spread(&calls) {
        let push: Vec<Vec<u8>> = call
            .iter()
            .map(|f| {
                pb::PushRequest {
                    frame: f.frame.clone(),
                    changes: f.changes,
                    dictionary: f.dictionary,
                }
                .encode_to_vec()
            })
            .collect();
        seeds.put("push_request", &join(&push))?;
        let unpack: Vec<Vec<u8>> = call
            .iter()
            .map(|f| [&f.changes.to_le_bytes()[..], &f.frame].concat())
            .collect();
        seeds.put("unpack", &join(&unpack))?;
    }
    Ok(())
}

/// `enrollment_code` and `pack_roundtrip`: codes as the office prints them,
/// and scripts of a few dozen actions.
fn other_seeds(seeds: &mut Seeds) -> anyhow::Result<()> {
    for code in [
        EnrollmentCode {
            address: "192.168.1.10:7443".into(),
            secret: "K7QM-2XRT-9WPA-H3CD".into(),
            pin: Some([0xa7; 32]),
        },
        EnrollmentCode {
            address: "[::1]:7443".into(),
            secret: "AB12-CD34".into(),
            pin: Some([3; 32]),
        },
        EnrollmentCode {
            address: "127.0.0.1:7443".into(),
            secret: "AB12".into(),
            pin: None,
        },
    ] {
        seeds.put("enrollment_code", code.to_string().as_bytes())?;
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [16, 48, 96, 160] {
        let script: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        seeds.put("pack_roundtrip", &script)?;
    }
    Ok(())
}
