//! Answering a pull: the changes a device has not seen, in every scope it may
//! read, in sequence order, packed into byte-bounded messages.
//!
//! A device's cursors arrive as one common value plus exceptions, with a digest
//! of the scopes it knows. When the digest matches the scopes it may read now,
//! the answer needs no scope list; when nothing is new, it is one small message.
//!
//! An answer is read in bounded batches, each in a read transaction of its
//! own that lets its connection go before anything is sent, so a device that
//! reads slowly, or not at all, holds no database connection.

use std::collections::{HashMap, VecDeque};

use massline_model::packing::{Dictionary, Packer};
use massline_model::protocol::{
    MAX_MISSING_PER_CALL, MAX_PURGED_PER_MESSAGE, Person, PullBatch, PullRequest, ServerId,
    person_digest, scopes_digest,
};
use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::Error;
use crate::own_runs::{self, Run};
use crate::registry::{self, Device};

/// Uncompressed bytes of changes per message, by default.
pub const MESSAGE_BYTES: usize = 256 << 10;

/// How many sequence numbers one read of an answer looks through for the
/// device's changes (in the scope index, without their bytes), by default: so
/// also the most changes one read may fetch. A read also stops fetching once
/// it holds a message's bytes ([`FeedOptions::message_bytes`]).
pub const READ_ROWS: usize = 4096;

/// The changes numbered in a stretch of the sequence, in the given scopes,
/// with who sent each: answered from the scope index alone.
const SCAN: &str = "SELECT seq, scope_id, device_id FROM changes
     WHERE scope_id IN (SELECT value FROM json_each(?1))
       AND seq > ?2 AND seq <= ?3";

/// Tuning of pull answers.
#[derive(Clone, Copy, Debug)]
pub struct FeedOptions {
    /// Uncompressed bytes of changes per message.
    pub message_bytes: usize,
    /// zstd level of the answer stream.
    pub compression_level: i32,
    /// Sequence numbers one read looks through ([`READ_ROWS`]).
    pub read_rows: usize,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            message_bytes: MESSAGE_BYTES,
            compression_level: 3,
            read_rows: READ_ROWS,
        }
    }
}

/// Where an answer stands.
#[derive(Debug)]
enum Stage {
    /// The server lacks changes the device's cursors say it was sent: the
    /// answer tells it to lower them to this number and ask again.
    Reset(u64),
    /// The device's scopes, or its note of its person, are out of date: the
    /// answer is the scope list and the person.
    Scopes(Vec<String>, Person),
    /// Changes to read and send.
    Changes,
    /// The last message was given.
    Done,
}

/// One pull's answer, message by message ([`Answer::next_message`]).
///
/// It is read in several read transactions, and is still one consistent
/// answer: its end (`head`) is fixed when it starts, and the rows up to it
/// never change after. The server's one writer numbers each change inside its
/// transaction (`AUTOINCREMENT`, above every number committed or used), and
/// write transactions commit one at a time, so once a reader sees `head`,
/// every change numbered up to it is committed and no later commit can add
/// one below it; changes are never updated, and deleted only by a purge
/// (`crate::purge`), which takes a number of its own above them: a change
/// found and gone by the time it is read is left out, and the purge is
/// named in this answer or the next.
#[derive(Debug)]
pub struct Answer {
    stage: Stage,
    device: u64,
    /// The number and the device's cursor of every scope it reads.
    cursor_of: HashMap<i64, i64>,
    /// The numbers of those scopes, as a JSON array for the query.
    scope_ids: String,
    /// The last change of the answer, fixed when it starts.
    head: i64,
    /// Sequence numbers up to here have been looked through.
    scanned: i64,
    /// The runs of numbers ahead that hold only the device's own changes,
    /// in order: stepped over, not looked through ([`own_runs`]).
    own: VecDeque<Run>,
    /// Changes found for the device and not yet read, in sequence order.
    found: VecDeque<i64>,
    /// Changes read and not yet packed: (sequence number, bytes).
    read: VecDeque<(i64, Vec<u8>)>,
    /// The last change packed.
    packed_through: i64,
    /// Purges found for the device and not yet named, in sequence order:
    /// (sequence number, record id). Each is named in the next message,
    /// though its number may be past what that message covers: a device
    /// that deletes a record early misses nothing, for nothing of the record
    /// is sent after its purge.
    purged: VecDeque<(i64, Vec<u8>)>,
    /// Made with the first change packed: an idle sync's answer packs none.
    packer: Option<Packer>,
    /// The zstd level and dictionary `packer` compresses with.
    level: i32,
    dictionary: Dictionary,
    message_bytes: usize,
    read_rows: i64,
    /// Whether a message of changes went out before the last.
    flushed: bool,
    /// This server's identity, for a device that named another or none.
    server: Option<ServerId>,
}

/// Starts the answer to `req` from `device`: which scopes it reads, and where
/// the answer ends. One short read.
pub fn start(
    db: &Db,
    device: &Device,
    req: &PullRequest,
    opts: &FeedOptions,
) -> Result<Answer, Error> {
    let level = match req.compression {
        1..=19 => req.compression as i32,
        _ => opts.compression_level,
    };
    let mut answer = Answer {
        stage: Stage::Changes,
        device: device.id,
        cursor_of: HashMap::new(),
        scope_ids: String::new(),
        head: 0,
        scanned: 0,
        own: VecDeque::new(),
        found: VecDeque::new(),
        read: VecDeque::new(),
        packed_through: 0,
        purged: VecDeque::new(),
        packer: None,
        level,
        // Chosen once the answer's size is known, below.
        dictionary: Dictionary::None,
        message_bytes: match req.message_bytes {
            0 => opts.message_bytes,
            asked => opts.message_bytes.min(asked as usize),
        }
        .max(1),
        read_rows: i64::try_from(opts.read_rows.max(1)).unwrap_or(i64::MAX),
        flushed: false,
        server: None,
    };
    db.read(|tx| {
        let own = registry::server_id(tx)?;
        let head = registry::last_seq(tx)?;
        if let Some(keep) = reset(tx, req, own, head)? {
            answer.stage = Stage::Reset(keep);
            answer.server = Some(own);
            return Ok(());
        }
        if req.server != Some(own) {
            answer.server = Some(own);
        }
        let readable = registry::readable_scopes(tx, &device.principal)?;
        let names: Vec<String> = readable.iter().map(ToString::to_string).collect();
        // A person moved to another role or village: their scopes, and who
        // they now are, so the device's note of it follows (a device that
        // does not say whom it takes itself for is told with its scopes).
        let moved = req.person_digest != 0 && req.person_digest != person_digest(&device.principal);
        if moved || scopes_digest(names.iter().map(String::as_str)) != req.scopes_digest {
            answer.stage = Stage::Scopes(names, device.person(tx)?);
            return Ok::<_, Error>(());
        }
        answer.head = head;
        let asked: HashMap<&str, u64> = req.cursors.iter().map(|(s, c)| (s.as_str(), *c)).collect();
        let mut id_of = tx.prepare_cached("SELECT id FROM scopes WHERE name = ?1")?;
        for name in &names {
            let id: Option<i64> = id_of.query_row(params![name], |r| r.get(0)).optional()?;
            if let Some(id) = id {
                let c = asked.get(name.as_str()).copied().unwrap_or(req.common);
                answer
                    .cursor_of
                    .insert(id, i64::try_from(c).unwrap_or(i64::MAX));
            }
        }
        answer.scanned = answer.cursor_of.values().min().copied().unwrap_or(head);
        answer.own = own_runs::within(tx, device.id, answer.scanned, head)?.into();
        Ok(())
    })?;
    // How many of the numbers ahead are the device's own (in its runs).
    let own: i64 = answer
        .own
        .iter()
        .map(|r| r.last.min(answer.head) - r.first.max(answer.scanned + 1) + 1)
        .sum();
    // The newest dictionary both sides have (a device may be newer than the
    // server), for an answer that may be small: past that its stream's own
    // history serves as well (see `Dictionary::SMALL_CALL_CHANGES`).
    let most = u64::try_from(answer.head - answer.scanned - own).unwrap_or(0);
    answer.step_over_own();
    if most <= Dictionary::SMALL_CALL_CHANGES {
        answer.dictionary = Dictionary::newest_up_to(req.dictionary);
    }
    answer.scope_ids = serde_json::to_string(&answer.cursor_of.keys().collect::<Vec<_>>())
        .map_err(|e| Error::internal("listing the scopes of a pull", e))?;
    Ok(answer)
}

/// Whether a device asking `req` must lower its cursors, and to what: when
/// this server has another identity than the one that gave them (it was
/// restored from a backup), or its numbering does not reach them (its files
/// were put back by hand). A device that last met the server the backup was
/// made of keeps what that backup held; any other, nothing.
fn reset(
    tx: &rusqlite::Transaction<'_>,
    req: &PullRequest,
    own: ServerId,
    head: i64,
) -> Result<Option<u64>, Error> {
    let head = u64::try_from(head).unwrap_or(0);
    let behind = req.common > head || req.cursors.iter().any(|(_, c)| *c > head);
    Ok(match req.server {
        Some(id) if id != own => match registry::restored_from(tx)? {
            Some((from, through)) if from == id => Some(through),
            _ => Some(0),
        },
        _ if behind => Some(0),
        _ => None,
    })
}

impl Answer {
    /// The next message of the answer, `None` after the last. Reads what it
    /// needs in bounded batches; holds no connection when it returns. A
    /// device revoked meanwhile gets [`Error::Revoked`].
    pub fn next_message(&mut self, db: &Db) -> Result<Option<PullBatch>, Error> {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Done => return Ok(None),
            Stage::Reset(keep) => {
                return Ok(Some(PullBatch {
                    through: keep,
                    server: self.server,
                    reset: true,
                    done: true,
                    ..PullBatch::default()
                }));
            }
            Stage::Scopes(names, person) => {
                return Ok(Some(PullBatch {
                    scopes: names,
                    person: Some(person),
                    done: true,
                    ..PullBatch::default()
                }));
            }
            Stage::Changes => self.stage = Stage::Changes,
        }
        loop {
            if self.purged.len() >= MAX_PURGED_PER_MESSAGE {
                return Ok(Some(self.message()));
            }
            while let Some((seq, bytes)) = self.read.pop_front() {
                let packer = self.packer();
                packer.push_change(&bytes);
                let pending = packer.pending_bytes();
                self.packed_through = seq;
                if pending >= self.message_bytes {
                    return Ok(Some(self.message()));
                }
            }
            if self.found.is_empty() && self.scanned >= self.head {
                break;
            }
            self.read_more(db)?;
        }
        self.stage = Stage::Done;
        let (frame, entries) = match &mut self.packer {
            Some(packer) if packer.pending_entries() > 0 => {
                if !self.flushed {
                    // The whole answer is in hand: let zstd size itself to it.
                    packer.expect(packer.pending_bytes());
                }
                packer.flush()
            }
            _ => (Vec::new(), 0),
        };
        Ok(Some(PullBatch {
            dictionary: self.dictionary_of(&frame),
            frame,
            entries,
            through: self.head as u64,
            done: true,
            server: self.server,
            purged: self.purged.drain(..).map(|(_, id)| id).collect(),
            ..PullBatch::default()
        }))
    }

    /// The dictionary a message names: the stream's, when it carries a frame.
    fn dictionary_of(&self, frame: &[u8]) -> u32 {
        if frame.is_empty() {
            0
        } else {
            self.dictionary.number()
        }
    }

    /// The call's packer, made at the first change it packs.
    fn packer(&mut self) -> &mut Packer {
        let (level, dictionary) = (self.level, self.dictionary);
        self.packer
            .get_or_insert_with(|| Packer::with_dictionary(level, dictionary))
    }

    /// A message before the last: the changes packed so far and up to
    /// [`MAX_PURGED_PER_MESSAGE`] purges. It covers what it packed, short of
    /// the first purge it leaves for the next.
    fn message(&mut self) -> PullBatch {
        let (frame, entries) = match &mut self.packer {
            Some(packer) if packer.pending_entries() > 0 => {
                self.flushed = true;
                packer.flush()
            }
            _ => (Vec::new(), 0),
        };
        let n = self.purged.len().min(MAX_PURGED_PER_MESSAGE);
        let purged = self.purged.drain(..n).map(|(_, id)| id).collect();
        let through = match self.purged.front() {
            Some((next, _)) => self.packed_through.min(next - 1),
            None => self.packed_through,
        };
        PullBatch {
            dictionary: self.dictionary_of(&frame),
            frame,
            entries,
            through: u64::try_from(through).unwrap_or(0),
            purged,
            ..PullBatch::default()
        }
    }

    /// Moves past the device's runs of its own that start where the answer
    /// has looked through to: none of their numbers is for the device.
    fn step_over_own(&mut self) {
        while let Some(run) = self.own.front() {
            if run.first > self.scanned + 1 {
                break;
            }
            self.scanned = self.scanned.max(run.last.min(self.head));
            self.own.pop_front();
        }
    }

    /// Reads the next batch: looks through the next `read_rows` sequence
    /// numbers if all found so far are read, then reads changes found, up to
    /// a message's bytes. Work bounded either way, in one read transaction.
    fn read_more(&mut self, db: &Db) -> Result<(), Error> {
        db.read(|tx| {
            if !registry::enrolled(tx, self.device)? {
                return Err(Error::Revoked(self.device));
            }
            if self.found.is_empty() {
                // Up to the device's next run of its own, which is stepped
                // over after.
                let mut to = self.head.min(self.scanned.saturating_add(self.read_rows));
                if let Some(run) = self.own.front() {
                    to = to.min(run.first - 1);
                }
                // The scope index alone (it holds the sequence number and
                // the device), in scope order: sorted here, at most
                // `read_rows` numbers. The device's own changes are not sent
                // back, nor read.
                let mut stmt = tx.prepare_cached(SCAN)?;
                let mut rows = stmt.query(params![self.scope_ids, self.scanned, to])?;
                let mut found = Vec::new();
                while let Some(row) = rows.next()? {
                    let (seq, scope, by): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
                    if by != self.device as i64
                        && self.cursor_of.get(&scope).is_some_and(|c| seq > *c)
                    {
                        found.push(seq);
                    }
                }
                found.sort_unstable();
                self.found = found.into();
                // The purges numbered in the same stretch (at most
                // `read_rows`: each has a number of its own).
                let mut stmt = tx.prepare_cached(
                    "SELECT seq, scope_id, doc_id FROM purges
                     WHERE scope_id IN (SELECT value FROM json_each(?1))
                       AND seq > ?2 AND seq <= ?3",
                )?;
                let mut rows = stmt.query(params![self.scope_ids, self.scanned, to])?;
                let mut purged = Vec::new();
                while let Some(row) = rows.next()? {
                    let (seq, scope): (i64, i64) = (row.get(0)?, row.get(1)?);
                    if self.cursor_of.get(&scope).is_some_and(|c| seq > *c) {
                        purged.push((seq, row.get(2)?));
                    }
                }
                purged.sort_unstable();
                self.purged.extend(purged);
                self.scanned = to;
                self.step_over_own();
            }
            let mut get = tx.prepare_cached("SELECT bytes FROM changes WHERE seq = ?1")?;
            let mut bytes = 0;
            while bytes < self.message_bytes
                && let Some(seq) = self.found.pop_front()
            {
                let mut rows = get.query(params![seq])?;
                let Some(row) = rows.next()? else { continue };
                let change = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
                bytes += change.len();
                self.read.push_back((seq, change.to_vec()));
            }
            Ok(())
        })
    }
}

/// Of `heads`, the changes of `device` this server does not hold, by
/// position: after a restore, the device pushes its changes of those
/// records again. Only the device's own changes are looked for, so the
/// answer tells it nothing of others'. `heads` is at most
/// [`MAX_MISSING_PER_CALL`] hashes, each an indexed lookup.
pub fn missing(db: &Db, device: &Device, heads: &[[u8; 32]]) -> Result<Vec<u32>, Error> {
    debug_assert!(heads.len() <= MAX_MISSING_PER_CALL);
    db.read(|tx| {
        let mut held =
            tx.prepare_cached("SELECT 1 FROM changes WHERE hash = ?1 AND device_id = ?2")?;
        let mut out = Vec::new();
        for (i, hash) in heads.iter().take(MAX_MISSING_PER_CALL).enumerate() {
            if !held.exists(params![&hash[..], device.id as i64])? {
                out.push(i as u32);
            }
        }
        Ok(out)
    })
}

/// Streams the whole answer to `req` into `send`, which returns `false` once
/// the device has gone (the answer then stops). For callers that do not wait
/// on a network between messages.
pub fn answer(
    db: &Db,
    device: &Device,
    req: &PullRequest,
    opts: &FeedOptions,
    mut send: impl FnMut(PullBatch) -> bool,
) -> Result<(), Error> {
    let mut answer = start(db, device, req, opts)?;
    while let Some(batch) = answer.next_message(db)? {
        if !send(batch) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use massline_model::packing::{Entry, Unpacker};
    use massline_model::{PersonId, Role, Scope, VillageCode};

    use super::*;

    fn enrol(tx: &rusqlite::Transaction<'_>, person: &PersonId, actor: u8) -> Device {
        let code =
            registry::new_enrollment_code(tx, person, registry::DEFAULT_CODE_VALIDITY).unwrap();
        registry::enroll(tx, &code, &[actor; 16], "phone", None)
            .unwrap()
            .0
    }

    /// A village with a secretary's device and a cadre's.
    fn village() -> (tempfile::TempDir, Db, VillageCode, Device, Device) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let v = VillageCode::new("dongcun").unwrap();
        let (me, other) = db
            .write(|tx| {
                registry::add_village(tx, &v, "东村")?;
                let a = registry::add_person(tx, None, "张", Role::Secretary, Some(&v))?;
                let b = registry::add_person(tx, None, "李", Role::Cadre, Some(&v))?;
                Ok::<_, Error>((enrol(tx, &a, 1), enrol(tx, &b, 2)))
            })
            .unwrap();
        (dir, db, v, me, other)
    }

    /// A change numbered next, known by `hash` (its bytes, little-endian),
    /// sent by `from`.
    fn put_change(
        tx: &rusqlite::Transaction<'_>,
        hash: u64,
        scope: i64,
        from: &Device,
        bytes: &[u8],
    ) -> Result<(), Error> {
        tx.execute(
            "INSERT INTO changes (hash, doc_id, scope_id, device_id, bytes, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            params![hash.to_le_bytes(), [0_u8; 16], scope, from.id as i64, bytes],
        )?;
        Ok(())
    }

    /// The digest of the scopes `device` reads, as it would send it.
    fn digest_of(db: &Db, device: &Device) -> u64 {
        let names: Vec<String> = db
            .read(|tx| registry::readable_scopes(tx, &device.principal))
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        scopes_digest(names.iter().map(String::as_str))
    }

    /// Every message of the answer to `req`.
    fn answered(db: &Db, device: &Device, req: &PullRequest, opts: &FeedOptions) -> Vec<PullBatch> {
        let mut batches = Vec::new();
        answer(db, device, req, opts, |b| {
            batches.push(b);
            true
        })
        .unwrap();
        batches
    }

    /// The changes an answer's messages carry, in order.
    fn changes_in(batches: &[PullBatch]) -> Vec<Vec<u8>> {
        let mut unpacker = Unpacker::with_dictionary(Dictionary::NEWEST);
        batches
            .iter()
            .flat_map(|b| unpacker.unpack(&b.frame, b.entries).unwrap())
            .map(|e| match e {
                Entry::Change { bytes, .. } => bytes,
                Entry::Document { .. } => panic!("a document"),
            })
            .collect()
    }

    /// An idle pull after an upload passes over the device's own changes in
    /// the scope index, never reading their rows.
    #[test]
    fn a_scan_for_changes_reads_the_scope_index_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let plan: Vec<String> = db
            .read(|tx| {
                let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {SCAN}"))?;
                let details = stmt
                    .query_map(params!["[1]", 0, 10], |r| r.get::<_, String>(3))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, Error>(details)
            })
            .unwrap();
        assert!(
            plan.iter()
                .any(|d| d.contains("USING COVERING INDEX changes_by_scope")),
            "{plan:?}"
        );
    }

    /// Whatever the size of its reads, an answer is the same messages, and
    /// holds each change after its scope's cursor, not the device's own,
    /// whether their numbers are stepped over (the device's newest runs)
    /// or looked through (older runs, single numbers).
    #[test]
    fn an_answer_read_in_any_batches_is_the_same_messages() {
        let (_dir, db, v, me, other) = village();
        let (shared, cadre) = (Scope::VillageShared(v.clone()), Scope::VillageCadre(v));
        let mut changes = Vec::new();
        db.write(|tx| {
            let ids = [
                registry::scope_id(tx, &shared)?,
                registry::scope_id(tx, &cadre)?,
            ];
            for i in 0..60_u32 {
                let from = if i % 3 == 0 || (45..50).contains(&i) {
                    &me
                } else {
                    &other
                };
                let bytes: Vec<u8> = (0..(i * 37 % 500 + 1)).map(|b| (b ^ i) as u8).collect();
                put_change(tx, i.into(), ids[(i % 2) as usize], from, &bytes)?;
                changes.push((i64::from(i) + 1, (i % 2) as usize, from.id, bytes));
            }
            // The device's numbers, noted as its pushes would: 1, 4, …, 43,
            // 46 to 50, 52, 55, 58; the oldest three runs are not kept.
            for (seq, _, device, _) in &changes {
                if *device == me.id {
                    own_runs::note(
                        tx,
                        me.id,
                        Run {
                            first: *seq,
                            last: *seq,
                        },
                    )?;
                }
            }
            Ok::<_, Error>(())
        })
        .unwrap();
        let runs = db.read(|tx| own_runs::within(tx, me.id, 0, 60)).unwrap();
        assert!(
            runs.contains(&Run {
                first: 46,
                last: 50
            }),
            "{runs:?}"
        );
        assert_eq!(
            runs.first(),
            Some(&Run {
                first: 10,
                last: 10
            }),
            "{runs:?}"
        );
        let req = PullRequest {
            common: 0,
            scopes_digest: digest_of(&db, &me),
            cursors: vec![(cadre.to_string(), 25)],
            compression: 0,
            message_bytes: 0,
            server: None,
            dictionary: Dictionary::NEWEST.number(),
            person_digest: 0,
        };
        let expected: Vec<Vec<u8>> = changes
            .iter()
            .filter(|(seq, scope, device, _)| *device != me.id && (*scope == 0 || *seq > 25))
            .map(|c| c.3.clone())
            .collect();

        for message_bytes in [1, 700, MESSAGE_BYTES] {
            let mut first: Option<Vec<PullBatch>> = None;
            for read_rows in [1, 2, 7, READ_ROWS] {
                let opts = FeedOptions {
                    message_bytes,
                    read_rows,
                    ..FeedOptions::default()
                };
                let batches = answered(&db, &me, &req, &opts);
                let last = batches.last().unwrap();
                assert!(last.done);
                assert_eq!(last.through, 60);
                assert!(
                    batches
                        .iter()
                        .all(|b| b.frame.is_empty() || b.dictionary == Dictionary::NEWEST.number())
                );
                let got = changes_in(&batches);
                // Compared whole, reported short: the changes are long.
                assert!(
                    got == expected,
                    "{message_bytes} B messages, reads of {read_rows}: {} changes, expected {}",
                    got.len(),
                    expected.len()
                );
                match &first {
                    None => first = Some(batches),
                    Some(f) => assert!(
                        *f == batches,
                        "{message_bytes} B messages: reads of {read_rows} changed them"
                    ),
                }
            }
        }
    }

    /// A pull steps over the device's runs of its own rather than looking
    /// through them: a change of another device put by hand inside such a
    /// run (which no push can do) is not found, and one after it is.
    #[test]
    fn a_pull_steps_over_the_numbers_of_the_devices_own_pushes() {
        let (_dir, db, v, me, other) = village();
        let shared = Scope::VillageShared(v);
        db.write(|tx| {
            let scope = registry::scope_id(tx, &shared)?;
            for i in 1..=10_i64 {
                // 5 and 10 are the other device's; 5 sits in the run.
                let from = if i % 5 == 0 { &other } else { &me };
                put_change(tx, i as u64, scope, from, &[i as u8])?;
            }
            own_runs::note(tx, me.id, Run { first: 1, last: 9 })
        })
        .unwrap();
        let req = PullRequest {
            common: 0,
            scopes_digest: digest_of(&db, &me),
            dictionary: Dictionary::NEWEST.number(),
            ..PullRequest::default()
        };
        for read_rows in [1, 3, READ_ROWS] {
            let opts = FeedOptions {
                read_rows,
                ..FeedOptions::default()
            };
            let batches = answered(&db, &me, &req, &opts);
            let got = changes_in(&batches);
            assert_eq!(got, [vec![10_u8]], "reads of {read_rows}");
            assert_eq!(batches.last().map(|b| b.through), Some(10));
        }
    }
}
