//! The device's side of sync, as plain code over the store: what to push, what
//! to do with each answer, what to ask for, and how to take in what arrives.
//!
//! What arrives is held to the limits the server holds a device's changes to
//! ([`crate::change_limits`], and [`OpIndex`] for what an edit names) before
//! Automerge sees it, so a hostile or broken server cannot make Automerge
//! panic, recurse or run away on the phone: a pull message holding a change
//! outside them fails the sync, naming the record and what is wrong, and
//! nothing of it is taken in.
//!
//! Nothing here touches the network; a transport moves the messages.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, mpsc};

use automerge::{Automerge, Change, ChangeHash, ExpandedChange};
use rustc_hash::{FxHashMap, FxHashSet};

use super::sizes::Adaptive;
use crate::change_limits::{self, ChangeLimitError, OpIndex, Within};
use crate::doc_json;
use crate::error::{Because, Error};
use crate::first_change::Plain;
use crate::ids::DocId;
use crate::packing::{self, Dictionary, Entry, Packer, Unpacker};
use crate::protocol::{
    MAX_PURGED_PER_MESSAGE, Person, PullBatch, PullRequest, PushAck, PushFrame, ServerId,
    person_digest, scopes_digest,
};
use crate::store::documents::{self, Row, StoredDoc};
use crate::store::outbox::{self, Pending};
use crate::store::{Db, cursors, identity};
use massline_model::parallel;
use massline_model::runs::ROWS_PER_STATEMENT;

/// Tuning of a sync.
#[derive(Clone, Copy, Debug)]
pub struct SyncOptions {
    /// zstd level for pushed changes on a fast link.
    pub compression_level: i32,
    /// zstd level, both ways, on a slow link: there compressing harder costs
    /// far less time than the bytes it saves.
    pub slow_link_compression_level: i32,
    /// A link whose connection (TCP and TLS handshakes) takes longer than this
    /// is taken to be slow. A connection whose calls go as TLS early data is
    /// handed over before it can tell, and takes the link as the last
    /// connection to the same server in this process found it.
    pub slow_link_connect: std::time::Duration,
    /// Most uncompressed bytes of changes per push message; after a cut
    /// link, fewer ([`sizes`](super::sizes)).
    pub push_message_bytes: usize,
    /// Uncompressed bytes of changes per push message on a slow link: the
    /// server answers each message once it is stored, so a cut link loses
    /// (and sends again) at most the messages not yet answered.
    pub slow_link_push_message_bytes: usize,
    /// Most compressed bytes of push messages sent and not yet answered
    /// ([`window`](super::window)); a message larger still goes alone.
    pub push_in_flight_bytes: usize,
    /// The same on a slow link: enough to keep it busy while answers come
    /// back (a 600 ms round trip at 64 kbit/s holds 4.8 kB, and messages
    /// written together are answered together), little enough that a cut
    /// loses little. On the emulated 2G link 12,000 bytes left the link idle
    /// between answers (S1 21.5 s without cuts, against 16.3 s with 20,000).
    pub slow_link_push_in_flight_bytes: usize,
    /// Uncompressed bytes of changes per push call; more waits for the next call.
    pub push_call_bytes: usize,
    /// Most uncompressed bytes of changes per pull answer message asked of
    /// the server; after a cut link, fewer.
    pub pull_message_bytes: usize,
    /// The same on a slow link.
    pub slow_link_pull_message_bytes: usize,
    /// The zstd dictionary pushes are compressed with, and the newest one
    /// pulls ask for.
    pub dictionary: Dictionary,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            compression_level: 3,
            slow_link_compression_level: 19,
            slow_link_connect: std::time::Duration::from_millis(250),
            push_message_bytes: 256 << 10,
            slow_link_push_message_bytes: 32 << 10,
            push_in_flight_bytes: 256 << 10,
            slow_link_push_in_flight_bytes: 20_000,
            push_call_bytes: 32 << 20,
            pull_message_bytes: 256 << 10,
            slow_link_pull_message_bytes: 32 << 10,
            dictionary: Dictionary::NEWEST,
        }
    }
}

/// Makes the messages of one push call from the outbox, reading it on as
/// they are made: the first message leaves once the changes it holds are
/// read, not those of the whole call.
#[derive(Debug)]
pub struct PushFrames {
    /// The first message, made before it may leave ([`PushFrames::make_first`]).
    first: Option<PushFrame>,
    packer: Packer,
    /// The dictionary's number, until the first message has named it.
    dictionary: Option<u32>,
    queue: VecDeque<Pending>,
    /// Bytes of the changes in `queue`.
    queued: usize,
    outbox: Reading,
    message_bytes: Arc<Adaptive>,
    sent: mpsc::Sender<Sent>,
}

/// Where a push call reads its changes on from: the outbox after those
/// read, up to the call's bytes.
#[derive(Debug)]
struct Reading {
    db: Arc<Db>,
    /// The place in the outbox of the last change read.
    after: i64,
    /// Whether changes of the call are left to read.
    more: bool,
    /// Bytes of changes the call may still read.
    left: usize,
}

/// Bytes of changes a push call reads from the outbox at a time, after what
/// its first message holds.
const READ_BYTES: usize = 1 << 20;

/// A push call whose first read holds less than this, and has more to
/// read, measures the rest as it starts, for zstd to size its window and
/// tables to the call ([`Packer::expect`]): at a slow link's level the
/// tables grow with the call, up to its window. A fast link's first read
/// (a whole message) holds this much, and at its level only the window
/// would follow the call's size: the rest is not measured there (that is a
/// pass over the outbox), and the window is sized for a large call.
const MEASURED_BELOW: usize = 256 << 10;

/// One message sent: its changes (outbox id, hash) and their uncompressed bytes.
type Sent = (Vec<(i64, ChangeHash)>, usize);

/// Pairs the server's answers with the messages they answer, and records them.
#[derive(Debug)]
pub struct PushAcks {
    sent: mpsc::Receiver<Sent>,
    message_bytes: Arc<Adaptive>,
    /// Changes the server stored in this call.
    pub accepted: u64,
    /// Changes the server refused in this call.
    pub refused: u64,
}

/// Starts a push call of the changes waiting in the outbox, oldest first,
/// up to about [`SyncOptions::push_call_bytes`], in messages of up to
/// `message_bytes` of changes each (read as each message is made); `None`
/// when nothing waits to be pushed. What the first message holds is read
/// now, and enough to tell a small call; the rest as messages are made.
pub fn start_push(
    db: &Arc<Db>,
    opts: &SyncOptions,
    message_bytes: Arc<Adaptive>,
) -> Result<Option<(PushFrames, PushAcks)>, Error> {
    let first = message_bytes
        .get()
        .max(Dictionary::SMALL_CALL_BYTES)
        .min(opts.push_call_bytes);
    let (pending, bytes, more, rest) = db.read(|tx| {
        let (pending, more) = outbox::pending_after(tx, 0, first)?;
        let bytes: usize = pending.iter().map(|p| p.bytes.len()).sum();
        let rest = match (more && bytes < MEASURED_BELOW, pending.last()) {
            (true, Some(last)) => Some(outbox::pending_bytes_after(tx, last.id)?),
            _ => None,
        };
        Ok((pending, bytes, more, rest))
    })?;
    let Some(last) = pending.last() else {
        return Ok(None);
    };
    let outbox = Reading {
        db: db.clone(),
        after: last.id,
        left: opts.push_call_bytes.saturating_sub(bytes),
        more: more && bytes < opts.push_call_bytes,
    };
    // A dictionary for a small call only: see `Dictionary::SMALL_CALL_BYTES`.
    // A call with more to read holds more than that.
    let dictionary = if !outbox.more && bytes <= Dictionary::SMALL_CALL_BYTES {
        opts.dictionary
    } else {
        Dictionary::None
    };
    let mut packer = Packer::with_dictionary(opts.compression_level, dictionary);
    packer.expect(match (outbox.more, rest) {
        (false, _) => bytes,
        (true, Some(rest)) => (bytes + rest).min(opts.push_call_bytes.max(bytes)),
        (true, None) => opts.push_call_bytes,
    });
    let (tx, rx) = mpsc::channel();
    Ok(Some((
        PushFrames {
            first: None,
            packer,
            dictionary: Some(dictionary.number()),
            queue: pending.into(),
            queued: bytes,
            outbox,
            message_bytes: message_bytes.clone(),
            sent: tx,
        },
        PushAcks {
            sent: rx,
            message_bytes,
            accepted: 0,
            refused: 0,
        },
    )))
}

impl PushFrames {
    /// Reads on from the outbox until the queue holds `most` bytes of
    /// changes or the call's are all read. A store that cannot be read ends
    /// the call here: what is left waits in the outbox for the next.
    fn read_on(&mut self, most: usize) {
        let reading = &mut self.outbox;
        while reading.more && self.queued < most {
            let max = READ_BYTES.max(most).min(reading.left);
            let read = reading
                .db
                .read(|tx| outbox::pending_after(tx, reading.after, max));
            let (pending, more) = match read {
                Ok(read) => read,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the outbox for a push: the rest waits");
                    reading.more = false;
                    return;
                }
            };
            let bytes: usize = pending.iter().map(|p| p.bytes.len()).sum();
            reading.left = reading.left.saturating_sub(bytes);
            reading.more = more && reading.left > 0;
            match pending.last() {
                Some(last) => reading.after = last.id,
                None => reading.more = false,
            }
            self.queued += bytes;
            self.queue.extend(pending);
        }
    }

    /// Makes the first message now, at the size it would be made at next:
    /// while the link is being set up, rather than once it is.
    pub fn make_first(&mut self) {
        if self.first.is_none() {
            self.first = self.next();
        }
    }
}

impl Iterator for PushFrames {
    type Item = PushFrame;

    fn next(&mut self) -> Option<PushFrame> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        let mut hashes = Vec::new();
        let most = self.message_bytes.get();
        self.read_on(most);
        while let Some(p) = self.queue.front() {
            if !hashes.is_empty() && self.packer.pending_bytes() + p.bytes.len() > most {
                break;
            }
            self.packer.push_change_known(p.hash, &p.bytes);
            hashes.push((p.id, p.hash));
            self.queued -= p.bytes.len();
            self.queue.pop_front();
        }
        if hashes.is_empty() {
            return None;
        }
        let bytes = self.packer.pending_bytes();
        let (frame, changes) = self.packer.flush();
        // The receiver lives as long as the call; if it is gone, the call is over.
        let _ = self.sent.send((hashes, bytes));
        Some(PushFrame {
            frame,
            changes,
            dictionary: self.dictionary.take().unwrap_or(0),
        })
    }
}

impl PushAcks {
    /// Records the answer to the oldest unanswered message, in one transaction:
    /// stored changes are answered (they leave the outbox together when the
    /// call ends, [`PushAcks::leave`]), refused ones are marked with the reason.
    /// Its commit does not wait for the disk ([`Db::write_lazily`]): an
    /// answer a power cut undoes sends its changes again, and the server
    /// answers them as before (it knows a change it holds by its hash).
    pub fn record(&mut self, db: &Db, ack: PushAck) -> Result<(), Error> {
        let (hashes, _) = self.sent.try_recv().map_err(|e| {
            Error::Protocol(Because::of(
                "an answer came for a push message never sent",
                e,
            ))
        })?;
        let refused: HashMap<u32, _> = ack.refused.iter().map(|r| (r.index, r)).collect();
        if refused.keys().any(|&i| i as usize >= hashes.len())
            || ack.accepted as usize + refused.len() != hashes.len()
        {
            return Err(Error::Protocol(
                format!(
                    "push answer covers {} accepted and {} refused of {} changes",
                    ack.accepted,
                    refused.len(),
                    hashes.len()
                )
                .into(),
            ));
        }
        db.write_lazily(|tx| {
            for (i, r) in &refused {
                let (id, _) = hashes[*i as usize];
                outbox::refuse(tx, id, r.code.code(), &r.reason)?;
            }
            match hashes.last() {
                Some((last, _)) => outbox::acknowledge(tx, *last),
                None => Ok(()),
            }
        })?;
        self.accepted += u64::from(ack.accepted);
        self.refused += refused.len() as u64;
        self.message_bytes.answered();
        Ok(())
    }

    /// Takes the changes answered so far out of the outbox, together (see
    /// [`outbox::clear_answered`]): when the call has ended, however it
    /// ended. Until then they stay, answered: an app stopped mid-call
    /// sends none of them again, and the next sync takes them out first.
    pub fn leave(db: &Db) -> Result<(), Error> {
        if db.read(outbox::any_answered)? {
            db.write_lazily(outbox::clear_answered)?;
        }
        Ok(())
    }

    /// The changes (outbox id, hash) of each message made and not yet
    /// answered, oldest first: a bundle keeps them until its reply comes.
    pub fn take_messages(&mut self) -> Vec<Vec<(i64, ChangeHash)>> {
        self.sent.try_iter().map(|(hashes, _)| hashes).collect()
    }

    /// Answers awaited for messages of `messages` (as [`PushAcks::take_messages`]
    /// gave them), recorded as a push call's are.
    pub fn resume(messages: Vec<Vec<(i64, ChangeHash)>>) -> PushAcks {
        let (tx, rx) = mpsc::channel();
        for m in messages {
            // The receiver is right here.
            let _ = tx.send((m, 0));
        }
        PushAcks {
            sent: rx,
            message_bytes: Arc::new(Adaptive::new(None, 1)),
            accepted: 0,
            refused: 0,
        }
    }

    /// The call ended early (a cut link): if a message went unanswered, the
    /// next ones are smaller than it.
    pub fn cut_short(&self) {
        if let Ok((_, bytes)) = self.sent.try_recv() {
            self.message_bytes.cut(bytes);
        }
    }
}

/// What the device asks for: its cursors, compressed to a common value plus
/// exceptions, the digest of the scopes it knows, and the newest dictionary
/// it has.
pub fn pull_request(db: &Db) -> Result<PullRequest, Error> {
    let (known, server, me) = db.read(|tx| {
        Ok::<_, Error>((
            cursors::all(tx)?,
            identity::server_seen(tx)?,
            identity::load(tx)?,
        ))
    })?;
    Ok(PullRequest {
        server,
        person_digest: me.map_or(0, |m| person_digest(&m.principal)),
        ..request_for(&known)
    })
}

/// The device's own changes of one record, oldest first, as the record
/// holds them.
fn own_changes(
    tx: &rusqlite::Transaction<'_>,
    id: &DocId,
    me: &automerge::ActorId,
) -> Result<Vec<Change>, Error> {
    let Some(stored) = documents::stored(tx, id)? else {
        return Ok(Vec::new());
    };
    let doc = documents::load(&stored)?;
    Ok(doc
        .get_changes(&[])
        .into_iter()
        .filter(|c| c.actor_id() == me)
        .collect())
}

fn actor(tx: &rusqlite::Transaction<'_>) -> Result<automerge::ActorId, Error> {
    Ok(identity::load(tx)?.ok_or_else(|| Error::NotEnrolled)?.actor)
}

/// After a server restore: for each record this device wrote, its latest
/// change there. A server holding it holds the device's earlier changes of
/// the record too (an actor's change depends on its previous one, and the
/// server takes a change only after what it depends on).
pub fn own_heads(db: &Db) -> Result<Vec<(DocId, ChangeHash)>, Error> {
    db.read(|tx| {
        let me = actor(tx)?;
        let mut heads = Vec::new();
        for id in documents::ids(tx)? {
            if let Some(last) = own_changes(tx, &id, &me)?.last() {
                heads.push((id, last.hash()));
            }
        }
        Ok(heads)
    })
}

/// Queues again, for a server that lacks them, every change of this device
/// in the records `docs`, in each record's order; returns their hashes.
pub fn requeue_own(db: &Db, docs: &[DocId], now: i64) -> Result<Vec<ChangeHash>, Error> {
    db.write(|tx| {
        let me = actor(tx)?;
        let mut changes = Vec::new();
        for id in docs {
            for c in own_changes(tx, id, &me)? {
                changes.push((c.hash(), *id, c.raw_bytes().to_vec()));
            }
        }
        outbox::requeue(tx, &changes, now)?;
        Ok(changes.into_iter().map(|(hash, _, _)| hash).collect())
    })
}

fn request_for(known: &BTreeMap<String, u64>) -> PullRequest {
    let mut freq: HashMap<u64, usize> = HashMap::new();
    for seq in known.values() {
        *freq.entry(*seq).or_default() += 1;
    }
    let common = freq
        .into_iter()
        .max_by_key(|(seq, n)| (*n, *seq))
        .map_or(0, |(seq, _)| seq);
    PullRequest {
        common,
        compression: 0,
        message_bytes: 0,
        server: None,
        dictionary: Dictionary::NEWEST.number(),
        person_digest: 0,
        scopes_digest: scopes_digest(known.keys().map(String::as_str)),
        cursors: known
            .iter()
            .filter(|(_, seq)| **seq != common)
            .map(|(s, seq)| (s.clone(), *seq))
            .collect(),
    }
}

/// What a pull message asked of the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullStep {
    /// More messages follow.
    More,
    /// The pull is complete: the device holds everything up to `through`.
    Done {
        /// The server's sequence number the device now stands at.
        through: u64,
    },
    /// The device's scopes were out of date and are now updated: pull again.
    AskAgain,
}

/// A pull message unpacked and parsed, ready to be applied.
#[derive(Debug)]
pub struct DecodedBatch {
    entries: Vec<Decoded>,
    through: u64,
    scopes: Vec<String>,
    person: Option<Person>,
    done: bool,
    server: Option<ServerId>,
    reset: bool,
    purged: Vec<DocId>,
}

/// One change of a pull message, parsed within the change limits; a change
/// without dependencies also carries the row of the record it makes when it
/// is a plain first change (read on the decoding thread), an edit its
/// operations, to be checked against its record's, and whether it continues
/// a plain chain of the message, with the row its record stands as after it
/// at the chain's end ([`plain_chains`]).
#[derive(Debug)]
enum Decoded {
    Change {
        hash: ChangeHash,
        bytes: Vec<u8>,
        /// Automerge's change, for an edit; a first change needs none (its
        /// record is read from its operations or, at the end, from the
        /// bytes taken).
        change: Option<Box<Change>>,
        row: Option<Row>,
        ops: Option<Box<ExpandedChange>>,
        /// The record's document as the change leaves it, read from plain
        /// changes only, while a later change of the message may build on it.
        plain: Option<Box<Plain>>,
        /// An edit read ahead on the plain document of the change it builds
        /// on; its `row` is read only where no change of the message builds
        /// on it in turn.
        in_chain: bool,
    },
    /// A change outside the limits: the message fails once its record is
    /// known, to name it.
    Refused {
        hash: ChangeHash,
        /// What it depends on, as its header says (`None`: not even that reads).
        deps: Option<Vec<ChangeHash>>,
        why: String,
    },
}

impl Decoded {
    /// A change read (by [`decode_change`]) with the bytes it was read from,
    /// which its message held meanwhile.
    fn with_bytes(mut self, read_from: Vec<u8>) -> Decoded {
        if let Decoded::Change { bytes, .. } = &mut self {
            *bytes = read_from;
        }
        self
    }
}

/// Parses a change from the server whose bytes [`change_limits::within`]
/// passed (or refused), reading it as a record when it is a plain first
/// change (keeping its plain document when another change of the message
/// builds on it: `built_on`); any other change without dependencies must
/// name only what it makes itself. Runs on any thread; its bytes are added
/// after ([`Decoded::with_bytes`]).
fn decode_change(
    hash: ChangeHash,
    bytes: &[u8],
    within: Result<Within<'_>, ChangeLimitError>,
    built_on: bool,
) -> Decoded {
    let refused = |deps, why: String| Decoded::Refused { hash, deps, why };
    let checked = match within.and_then(Within::parse) {
        Ok(c) => c,
        Err(e) => return refused(packing::dependencies(bytes), e.to_string()),
    };
    if !checked.deps().is_empty() {
        let (change, ops) = match checked.into_parts() {
            Ok(parts) => parts,
            Err(e) => return refused(packing::dependencies(bytes), e.to_string()),
        };
        return Decoded::Change {
            hash,
            bytes: Vec::new(),
            change: Some(Box::new(change)),
            row: None,
            ops: Some(Box::new(ops)),
            plain: None,
            in_chain: false,
        };
    }
    let plain = Plain::first(checked.expanded);
    let root = plain.as_ref().and_then(Plain::root);
    if root.is_none() {
        // Outside the plain shape (read again: its reading went into
        // `plain`), it must name only what it makes.
        let named = change_limits::parse(bytes).and_then(|c| OpIndex::default().check(&c.expanded));
        if let Err(e) = named {
            return refused(Some(Vec::new()), e.to_string());
        }
    }
    Decoded::Change {
        hash,
        bytes: Vec::new(),
        change: None,
        row: root.map(Row::of),
        ops: None,
        plain: plain.filter(|_| built_on).map(Box::new),
        in_chain: false,
    }
}

/// Reads ahead, on the decoding thread, the edits of plain chains: a record
/// made in the message and edited again in it, each edit by the same actor
/// on the one before ([`Plain`]), needs no Automerge document. The record's
/// row is read once, at the edit no change of the message builds on
/// (`built_on`): reading it at every edit would cost the record's size each
/// time. An edit outside that shape leaves its record (from it on) to
/// Automerge, as any edit of a record held before.
fn plain_chains(entries: &mut [Decoded], built_on: &FxHashSet<ChangeHash>) {
    let mut heads: FxHashMap<ChangeHash, Box<Plain>> = FxHashMap::default();
    for entry in entries.iter_mut() {
        let Decoded::Change {
            hash,
            change,
            row,
            ops,
            plain,
            in_chain,
            ..
        } = entry
        else {
            continue;
        };
        if let Some(p) = plain.take() {
            heads.insert(*hash, p);
            continue;
        }
        let (Some(ops), Some([dep])) = (ops.as_deref(), change.as_deref().map(Change::deps)) else {
            continue;
        };
        let Some(next) = heads.remove(dep).and_then(|p| p.then(ops.clone())) else {
            continue;
        };
        *in_chain = true;
        if built_on.contains(hash) {
            heads.insert(*hash, Box::new(next));
        } else {
            *row = next.root().map(Row::of);
        }
    }
}

/// Why a pull message is not taken in: `change` of `record` (when known) is
/// outside the limits.
fn refused_change(record: Option<DocId>, change: &ChangeHash, why: &str) -> Error {
    let record = record
        .map(|id| format!("record {id}: "))
        .unwrap_or_default();
    Error::Protocol(
        format!(
            "{record}the server sent change {change}, which the phone does not take: {why}; \
             nothing of its message was taken in"
        )
        .into(),
    )
}

/// Unpacks and parses the messages of one pull call, in order, touching no
/// database: it can run ahead of [`PullSession::commit`].
#[derive(Debug, Default)]
pub struct PullDecoder {
    /// Made at the first message carrying a frame, with the dictionary it
    /// names (the number kept to hold later messages to it).
    unpacker: Option<(u32, Unpacker)>,
}

impl PullDecoder {
    /// Unpacks and parses the next message. Its changes are held to the
    /// limits one message from a device is held to, its operations together
    /// to [`change_limits::MAX_OPS_PER_MESSAGE`].
    pub fn decode(&mut self, batch: PullBatch) -> Result<DecodedBatch, Error> {
        let mut entries = Vec::new();
        if batch.scopes.is_empty() && !batch.reset {
            let unpacked = match self.unpacker(&batch)? {
                Some(unpacker) => unpacker.unpack(&batch.frame, batch.entries),
                // No frame: it must say it holds nothing.
                None => Unpacker::new().unpack(&batch.frame, batch.entries),
            }
            .map_err(|e| Error::Protocol(Because::of("a pull message from the server", e)))?;
            let mut changes = Vec::with_capacity(unpacked.len());
            for e in unpacked {
                match e {
                    Entry::Change { hash, bytes } => changes.push((hash, bytes)),
                    // A saved document is read whole by Automerge, past every limit.
                    Entry::Document { doc, .. } => {
                        return Err(Error::Protocol(
                            format!(
                                "record {doc}: the server sent the whole record; a pull carries \
                                 changes, each checked before it is taken in"
                            )
                            .into(),
                        ));
                    }
                }
            }
            // The message's budget of operations is taken in order, cheaply;
            // Automerge's reading and the checks after it run on the cores.
            let mut budget = change_limits::MAX_OPS_PER_MESSAGE;
            let within: Vec<_> = changes
                .iter()
                .map(|(hash, bytes)| (*hash, &bytes[..], change_limits::within(bytes, &mut budget)))
                .collect();
            // The changes others of the message build on: a first change
            // among them keeps its plain document for them.
            let built_on: FxHashSet<ChangeHash> = changes
                .iter()
                .filter_map(|(_, bytes)| packing::dependencies(bytes))
                .flatten()
                .collect();
            let decoded = parallel::map_in_order(within, |(hash, bytes, within)| {
                decode_change(hash, bytes, within, built_on.contains(&hash))
            });
            entries = decoded
                .into_iter()
                .zip(changes)
                .map(|(d, (_, bytes))| d.with_bytes(bytes))
                .collect();
            plain_chains(&mut entries, &built_on);
        }
        if batch.purged.len() > MAX_PURGED_PER_MESSAGE {
            return Err(Error::Protocol(
                format!(
                    "a pull message names {} purged records in `purged`, more than {}",
                    batch.purged.len(),
                    MAX_PURGED_PER_MESSAGE
                )
                .into(),
            ));
        }
        let purged = batch
            .purged
            .iter()
            .map(|id| {
                DocId::from_slice(id).ok_or_else(|| {
                    Error::Protocol(
                        format!(
                            "a pull message's `purged` names a record id of {} bytes, not 16",
                            id.len()
                        )
                        .into(),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(DecodedBatch {
            purged,
            entries,
            through: batch.through,
            scopes: batch.scopes,
            person: batch.person,
            done: batch.done,
            server: batch.server,
            reset: batch.reset,
        })
    }

    /// The call's unpacker, made with the dictionary the first message
    /// carrying a frame names; a later one naming another is refused.
    /// `None` before the stream has begun and for a message with no frame.
    fn unpacker(&mut self, batch: &PullBatch) -> Result<Option<&mut Unpacker>, Error> {
        if batch.frame.is_empty() {
            return Ok(None);
        }
        let named = batch.dictionary;
        let made = match self.unpacker.take() {
            Some(made) => made,
            None => (
                named,
                Unpacker::for_number(named).map_err(|e| {
                    Error::Protocol(Because::of("a pull message from the server", e))
                })?,
            ),
        };
        let (number, unpacker) = self.unpacker.insert(made);
        if *number != named {
            return Err(Error::Protocol(
                format!(
                    "a pull message from the server names zstd dictionary {named}, \
                     but the call's stream began with {number}"
                )
                .into(),
            ));
        }
        Ok(Some(unpacker))
    }
}

/// The device's side of one pull call.
#[derive(Debug, Default)]
pub struct PullSession {
    decoder: PullDecoder,
    /// Changes (or whole documents) taken in so far.
    pub received: u64,
    /// Records that what was taken in changed on the device.
    pub changed: BTreeSet<DocId>,
}

/// A document being changed within one batch. A new record whose first
/// change reads directly (see [`first_change`]) needs no Automerge document
/// until another change of it arrives.
struct Working {
    /// Boxed, as a pull message's records are: most never need one, and
    /// the map of them grows by moving its entries.
    doc: Option<Box<Automerge>>,
    /// The row of a new record read from its first change, until another
    /// change of it arrives.
    row: Option<Row>,
    previous: Option<StoredDoc>,
    chunks: Vec<u8>,
    n_new: i64,
    /// Changes taken into `chunks` but not yet applied to a document: they are
    /// applied together (much cheaper than one by one) when the batch ends.
    deferred: Vec<ChangeHash>,
    /// The operations of the record's changes (stored and taken), built when
    /// the first edit arrives: what an edit may name.
    index: Option<OpIndex>,
    /// The length of the record's first change, taken at the start of
    /// `chunks` while `index` was not built: most new records take one
    /// change and never build it.
    first_taken: Option<usize>,
    /// The last change of the record read without a document (`row` is
    /// its row, or `None` where a later change of the message was to give it).
    plain_head: Option<ChangeHash>,
}

impl Working {
    fn open(tx: &rusqlite::Transaction<'_>, id: DocId) -> Result<Working, Error> {
        Ok(Working {
            previous: documents::stored(tx, &id)?,
            ..Working::new(None)
        })
    }

    /// A record new to the phone, whose first change reads as `row`.
    fn new(row: Option<Row>) -> Working {
        Working {
            doc: None,
            row,
            previous: None,
            chunks: Vec::new(),
            n_new: 0,
            deferred: Vec::new(),
            index: None,
            first_taken: None,
            plain_head: None,
        }
    }

    /// The operations of the record's changes so far, stored and taken.
    fn index(&mut self) -> Result<&mut OpIndex, Error> {
        if self.index.is_none() {
            let mut index = OpIndex::default();
            match (&self.doc, &self.previous) {
                (Some(doc), _) => {
                    for c in doc.get_changes(&[]) {
                        index.add(&c.decode());
                    }
                }
                (None, previous) => {
                    if let Some(p) = previous {
                        for c in documents::load(p)?.get_changes(&[]) {
                            index.add(&c.decode());
                        }
                    }
                    if let Some(len) = self.first_taken {
                        let first = self.chunks.get(..len).unwrap_or_default();
                        let read = change_limits::parse(first).map_err(|e| {
                            Error::Protocol(Because::of("a change taken does not read again", e))
                        })?;
                        index.add(&read.expanded);
                    }
                }
            }
            self.first_taken = None;
            self.index = Some(index);
        }
        self.index
            .as_mut()
            .ok_or_else(|| Error::Storage("record index not built".into()))
    }

    /// The Automerge document, loaded from what is stored and taken so far.
    fn doc(&mut self) -> Result<&mut Automerge, Error> {
        if self.doc.is_none() {
            let mut doc = match &self.previous {
                Some(p) => documents::load(p)?,
                None => Automerge::new(),
            };
            doc.load_incremental(&self.chunks)
                .map_err(|e| Error::Storage(Because::of("a received record does not load", e)))?;
            self.row = None;
            self.doc = Some(Box::new(doc));
        }
        self.doc
            .as_deref_mut()
            .ok_or_else(|| Error::Storage("document not loaded".into()))
    }
}

impl PullSession {
    /// A session for a new pull call.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in one pull message: its changes, and the cursors it moves, in one
    /// transaction, so a link that drops leaves the store at a message boundary.
    pub fn apply(&mut self, db: &Db, batch: PullBatch, now: i64) -> Result<PullStep, Error> {
        let decoded = self.decoder.decode(batch)?;
        self.commit(db, decoded, now)
    }

    /// [`PullSession::apply`] for a message decoded by a [`PullDecoder`].
    pub fn commit(&mut self, db: &Db, batch: DecodedBatch, now: i64) -> Result<PullStep, Error> {
        if batch.reset {
            // The server was restored: what it gave after `through` may be
            // gone, and so may changes of this device it acknowledged.
            db.write(|tx| {
                cursors::lower_all(tx, batch.through)?;
                if let Some(server) = &batch.server {
                    identity::met_server(tx, server)?;
                }
                identity::set_recovering(tx, true)
            })?;
            return Ok(PullStep::AskAgain);
        }
        if !batch.scopes.is_empty() {
            // A person moved to another role or village: their note of
            // themselves follows, so the phone allows what the server will.
            db.write(|tx| {
                if let Some(p) = &batch.person {
                    identity::set_person(tx, p)?;
                }
                cursors::set_scopes(tx, &batch.scopes)
            })?;
            return Ok(PullStep::AskAgain);
        }
        let entries = batch.entries;
        let purged = batch.purged;
        // A message that brings no change and no purge only moves the
        // cursors (past changes the device holds already, such as its own
        // pushed ones) and notes the server: lost to a power cut, that is
        // asked for again and taken as before, so its commit need not wait
        // for the disk (an idle sync's only write).
        let bookkeeping = entries.is_empty() && purged.is_empty();
        let take = |tx: &rusqlite::Transaction<'_>| {
            let (taken, mut changed) = apply_entries(tx, entries, now)?;
            // After the message's changes: none is of a purged record, which
            // the server takes no change to after its purge.
            let mut erased = false;
            for id in &purged {
                if documents::purge(tx, id)? {
                    changed.push(*id);
                    erased = true;
                }
            }
            if batch.through > 0 {
                cursors::advance_all(tx, batch.through)?;
            }
            if let Some(server) = &batch.server {
                identity::met_server(tx, server)?;
            }
            Ok((taken, changed, erased))
        };
        let (taken, changed, erased) = if bookkeeping {
            db.write_lazily(take)?
        } else {
            db.write(take)?
        };
        if erased {
            // The purged records' bytes leave the free pages and the log too.
            db.erase_freed()?;
        }
        self.received += taken;
        self.changed.extend(changed);
        Ok(if batch.done {
            PullStep::Done {
                through: batch.through,
            }
        } else {
            PullStep::More
        })
    }
}

/// Applies entries from the server to the store; returns how many were new,
/// and the records they changed.
/// Most bytes of records' new states held to be written together.
const MAX_STATES_HELD: usize = 4 << 20;

fn apply_entries(
    tx: &rusqlite::Transaction<'_>,
    entries: Vec<Decoded>,
    now: i64,
) -> Result<(u64, Vec<DocId>), Error> {
    let mut work: FxHashMap<DocId, Box<Working>> = FxHashMap::default();
    let mut order: Vec<DocId> = Vec::new();
    let mut batch_index: FxHashMap<ChangeHash, DocId> = FxHashMap::default();
    // The changes taken, indexed once the message is through, and which of
    // the records its first changes make the device had already: each
    // looked up or written many to a statement.
    let mut indexed: Vec<(ChangeHash, DocId)> = Vec::new();
    let firsts: Vec<DocId> = entries
        .iter()
        .filter_map(|e| match e {
            Decoded::Change { hash, change, .. }
                if change.as_deref().is_none_or(|c| c.deps().is_empty()) =>
            {
                Some(DocId::of_first_change(hash))
            }
            _ => None,
        })
        .collect();
    let stored_before = documents::existing(tx, &firsts)?;
    let mut taken = 0;
    for entry in entries {
        match entry {
            Decoded::Refused { hash, deps, why } => {
                let record = match deps.as_deref() {
                    Some([]) => Some(DocId::of_first_change(&hash)),
                    Some([dep, ..]) => match batch_index.get(dep) {
                        Some(id) => Some(*id),
                        None => documents::doc_of_change(tx, dep)?,
                    },
                    None => None,
                };
                return Err(refused_change(record, &hash, &why));
            }
            Decoded::Change {
                hash,
                bytes,
                change,
                mut row,
                ops,
                plain: _,
                in_chain,
            } => {
                let id = match change.as_deref().and_then(|c| c.deps().first()) {
                    // A first change is new exactly when its record is.
                    None => {
                        let id = DocId::of_first_change(&hash);
                        if work.contains_key(&id) || stored_before.contains(&id) {
                            continue;
                        }
                        work.insert(id, Box::new(Working::new(row.take())));
                        order.push(id);
                        id
                    }
                    Some(dep) => {
                        if batch_index.contains_key(&hash)
                            || documents::doc_of_change(tx, &hash)?.is_some()
                        {
                            continue;
                        }
                        match batch_index.get(dep) {
                            Some(id) => *id,
                            None => documents::doc_of_change(tx, dep)?.ok_or_else(|| {
                                Error::Protocol(
                                    format!(
                                        "server sent change {hash} before its dependency {dep}"
                                    )
                                    .into(),
                                )
                            })?,
                        }
                    }
                };
                if let std::collections::hash_map::Entry::Vacant(e) = work.entry(id) {
                    e.insert(Box::new(Working::open(tx, id)?));
                    order.push(id);
                }
                let w = work
                    .get_mut(&id)
                    .ok_or_else(|| Error::Protocol("lost document".into()))?;
                // Automerge trusts what it applies to name only what the
                // record has: an edit is checked first, as on the server.
                if let Some(ops) = &ops {
                    let index = w.index()?;
                    index
                        .check(ops)
                        .map_err(|e| refused_change(Some(id), &hash, &e.to_string()))?;
                    index.add(ops);
                }
                match (w.doc.as_mut(), change) {
                    (Some(doc), Some(change)) => {
                        doc.apply_changes([*change]).map_err(|e| {
                            Error::Protocol(Because::of(format!("change {hash} does not apply"), e))
                        })?;
                        if doc.get_change_meta_by_hash(&hash).is_none() {
                            return Err(Error::Protocol(
                                format!("change {hash} of record {id} lacks a dependency").into(),
                            ));
                        }
                    }
                    (Some(_), None) => {
                        return Err(Error::Protocol(
                            format!("change {hash} makes record {id}, which has changes before it")
                                .into(),
                        ));
                    }
                    (None, change) => {
                        // A plain first change of a new record reads without
                        // a document, and so does each edit of it read ahead
                        // on the last one taken (`plain_chains`).
                        // A record left without a row on the way (the change
                        // that was to give it not taken) is read through
                        // Automerge at the end, from every change taken.
                        let first = w.n_new == 0 && w.row.is_some();
                        let follows = in_chain
                            && w.plain_head.is_some_and(|h| {
                                change.as_deref().is_some_and(|c| c.deps() == [h])
                            });
                        if follows {
                            w.row = row;
                        } else if !first {
                            w.row = None;
                            w.deferred.push(hash);
                        }
                        w.plain_head = (first || follows).then_some(hash);
                        if change.is_none() && w.index.is_none() && w.chunks.is_empty() {
                            w.first_taken = Some(bytes.len());
                        }
                    }
                }
                w.chunks.extend_from_slice(&bytes);
                w.n_new += 1;
                batch_index.insert(hash, id);
                indexed.push((hash, id));
                taken += 1;
            }
        }
    }
    documents::index_changes(tx, &indexed)?;
    // Records' new states are written many to a statement, a statement's
    // worth (or a few MiB) at a time.
    let mut states = Vec::new();
    let mut held = 0;
    for id in &order {
        let Some(mut w) = work.remove(id) else {
            continue;
        };
        if documents::will_compact(w.previous.as_ref(), w.n_new) {
            w.doc()?;
        }
        let row = match w.row.take() {
            Some(row) if w.doc.is_none() => row,
            _ => {
                let deferred = std::mem::take(&mut w.deferred);
                let doc = w.doc()?;
                if let Some(h) = deferred
                    .iter()
                    .find(|h| doc.get_change_meta_by_hash(h).is_none())
                {
                    return Err(Error::Protocol(
                        format!("change {h} of record {id} lacks a dependency").into(),
                    ));
                }
                Row::of(doc_json::read_root(doc))
            }
        };
        let written = documents::Written {
            row,
            previous: w.previous.as_ref(),
            new_chunks: &w.chunks,
            n_new: w.n_new,
        };
        let doc = w.doc.as_deref();
        let state = documents::NewState::of(id, written, now, || {
            doc.map(Automerge::save)
                .ok_or_else(|| Error::Storage("document not loaded".into()))
        })?;
        held += state.state_bytes();
        states.push(state);
        if states.len() == ROWS_PER_STATEMENT || held >= MAX_STATES_HELD {
            documents::put_rows(tx, &states)?;
            states.clear();
            held = 0;
        }
    }
    documents::put_rows(tx, &states)?;
    Ok((taken, order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_request_lists_only_scopes_off_the_common_cursor() {
        let mut known = BTreeMap::new();
        known.insert("v/a/shared".to_string(), 40);
        known.insert("v/a/cadre".to_string(), 40);
        known.insert("v/a/m/p1".to_string(), 40);
        known.insert("v/a/m/p2".to_string(), 0);
        let r = request_for(&known);
        assert_eq!(r.common, 40);
        assert_eq!(r.cursors, vec![("v/a/m/p2".to_string(), 0)]);
        assert_eq!(
            r.scopes_digest,
            scopes_digest(["v/a/shared", "v/a/cadre", "v/a/m/p1", "v/a/m/p2"])
        );
    }

    #[test]
    fn a_device_with_no_scopes_asks_from_zero() {
        let r = request_for(&BTreeMap::new());
        assert_eq!((r.common, r.cursors.len()), (0, 0));
    }

    /// `n` first changes of records of their own; the one at `bad` holds a
    /// counter, which no record may.
    fn first_changes(n: usize, bad: Option<usize>) -> Vec<(ChangeHash, Vec<u8>)> {
        use automerge::transaction::Transactable;
        (0..n)
            .map(|i| {
                let mut doc = automerge::AutoCommit::new();
                let value = if Some(i) == bad {
                    automerge::ScalarValue::counter(1)
                } else {
                    automerge::ScalarValue::Int(i as i64)
                };
                doc.put(automerge::ROOT, "n", value).expect("a put");
                let c = doc.get_last_local_change().expect("a change");
                (c.hash(), c.raw_bytes().to_vec())
            })
            .collect()
    }

    fn message(changes: &[(ChangeHash, Vec<u8>)]) -> PullBatch {
        let mut packer = Packer::new(3);
        for (_, bytes) in changes {
            packer.push_change(bytes);
        }
        let (frame, entries) = packer.flush();
        PullBatch {
            frame,
            entries,
            through: 1,
            done: true,
            ..PullBatch::default()
        }
    }

    /// The `kind` and `scope` columns a record's row holds.
    fn kind_and_scope(db: &Db, id: &DocId) -> (String, String) {
        db.read(|tx| {
            Ok(tx.query_row(
                "SELECT kind, scope FROM documents WHERE doc_id = ?1",
                [&id.as_bytes()[..]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .expect("the record is held")
    }

    #[test]
    fn records_made_and_edited_in_one_message_stand_as_automerge_reads_them() {
        use automerge::transaction::Transactable;
        let put = |doc: &mut automerge::AutoCommit, kind: &str| {
            doc.put(automerge::ROOT, "kind", kind).expect("a put");
            doc.put(automerge::ROOT, "scope", format!("v/{kind}"))
                .expect("a put");
            let c = doc.get_last_local_change().expect("a change");
            (c.hash(), c.raw_bytes().to_vec())
        };
        // A record made and edited three times by one actor: a plain chain.
        let mut a = automerge::AutoCommit::new();
        let mut changes: Vec<_> = ["a0", "a1", "a2", "a3"]
            .iter()
            .map(|k| put(&mut a, k))
            .collect();
        // One edited by its maker and, at the same time, by another actor.
        let mut b = automerge::AutoCommit::new();
        changes.push(put(&mut b, "b0"));
        let mut other = b.fork();
        changes.push(put(&mut b, "b1"));
        changes.push(put(&mut other, "b2"));
        b.merge(&mut other).expect("merged");

        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("p.db"), None).expect("db");
        PullSession::new()
            .apply(&db, message(&changes), 1)
            .expect("taken in");
        for (doc, first) in [(&mut a, 0), (&mut b, 4)] {
            let root = doc_json::read_root(doc.document());
            let want = |k: &str| {
                root.get(k)
                    .and_then(serde_json::Value::as_str)
                    .expect(k)
                    .to_string()
            };
            assert_eq!(
                kind_and_scope(&db, &DocId::of_first_change(&changes[first].0)),
                (want("kind"), want("scope")),
                "record of change {first}"
            );
        }
    }

    #[test]
    fn a_plain_chain_is_read_as_a_record_once_at_its_end() {
        use automerge::transaction::Transactable;
        // A record of many fields, then many small edits: reading the whole
        // record at every edit would cost its size each time.
        let mut doc = automerge::AutoCommit::new();
        for i in 0..2_000 {
            doc.put(automerge::ROOT, format!("f{i}"), i as i64)
                .expect("a put");
        }
        let mut changes = Vec::new();
        let mut commit = |doc: &mut automerge::AutoCommit| {
            doc.commit();
            let c = doc.get_last_local_change().expect("a change");
            changes.push((c.hash(), c.raw_bytes().to_vec()));
        };
        commit(&mut doc);
        for i in 1..=50 {
            doc.put(automerge::ROOT, "f0", -i).expect("a put");
            commit(&mut doc);
        }
        let decoded = PullDecoder::default()
            .decode(message(&changes))
            .expect("decoded");
        let read: Vec<(bool, bool)> = decoded
            .entries
            .iter()
            .map(|e| match e {
                Decoded::Change { row, in_chain, .. } => (*in_chain, row.is_some()),
                Decoded::Refused { why, .. } => panic!("refused: {why}"),
            })
            .collect();
        let last = changes.len() - 1;
        assert_eq!(read[0], (false, true), "the first change");
        for (i, r) in read.iter().enumerate().take(last).skip(1) {
            assert_eq!(*r, (true, false), "edit {i}, which another builds on");
        }
        assert_eq!(read[last], (true, true), "the chain's last edit");
    }

    #[test]
    fn a_large_pull_message_read_on_the_cores_is_taken_whole_or_not_at_all() {
        let n = parallel::ITEMS_PER_THREAD * parallel::MAX_THREADS;
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("p.db"), None).expect("db");

        // A bad change late in the message (read on another thread than the
        // first): refused by its record, and nothing of the message is kept.
        let bad = n - 5;
        let changes = first_changes(n, Some(bad));
        let err = PullSession::new()
            .apply(&db, message(&changes), 1)
            .expect_err("a counter is refused");
        let record = DocId::of_first_change(&changes[bad].0);
        assert!(err.to_string().contains(&record.to_string()), "{err}");
        let held = db
            .read(|tx| documents::stored(tx, &DocId::of_first_change(&changes[0].0)))
            .expect("read");
        assert!(held.is_none(), "the message's first record was kept");

        // Without it, every record is taken, each with its own change's bytes.
        let changes = first_changes(n, None);
        let mut session = PullSession::new();
        session.apply(&db, message(&changes), 1).expect("taken in");
        assert_eq!(session.received, n as u64);
        for (hash, bytes) in &changes {
            let stored = db
                .read(|tx| documents::stored(tx, &DocId::of_first_change(hash)))
                .expect("read")
                .expect("the record is held");
            assert_eq!(&stored.state, bytes, "record of change {hash}");
        }
    }

    /// The changes of a push call's messages, in the order they went.
    fn sent(frames: impl Iterator<Item = PushFrame>) -> Vec<ChangeHash> {
        let mut unpacker = None;
        let mut hashes = Vec::new();
        for f in frames {
            let u = unpacker.get_or_insert_with(|| {
                Unpacker::for_number(f.dictionary).expect("a known dictionary")
            });
            for e in u.unpack(&f.frame, f.changes).expect("a message") {
                match e {
                    Entry::Change { hash, .. } => hashes.push(hash),
                    Entry::Document { .. } => panic!("a push holds changes only"),
                }
            }
        }
        hashes
    }

    #[test]
    fn a_push_call_reads_the_outbox_on_as_its_messages_are_made() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Arc::new(Db::open(&dir.path().join("p.db"), None).expect("db"));
        let queue = |changes: &[(ChangeHash, Vec<u8>)]| {
            db.write(|tx| {
                for (hash, bytes) in changes {
                    outbox::add(tx, hash, &DocId::of_first_change(hash), bytes, 0)?;
                }
                Ok(())
            })
            .expect("queued")
        };
        let mut changes = first_changes(4000, None);
        let total: usize = changes.iter().map(|(_, b)| b.len()).sum();
        assert!(total > 2 * Dictionary::SMALL_CALL_BYTES, "{total} bytes");
        queue(&changes);
        let opts = SyncOptions::default();
        let size = Arc::new(Adaptive::new(None, 4 << 10));
        let (mut frames, _acks) = start_push(&db, &opts, size)
            .expect("read")
            .expect("something to push");
        // What the first message holds, and enough to tell a small call.
        assert!(frames.queued >= Dictionary::SMALL_CALL_BYTES);
        assert!(
            frames.queue.len() < changes.len() / 2,
            "{} read",
            frames.queue.len()
        );
        assert_eq!(frames.dictionary, Some(Dictionary::None.number()));
        // The rest is measured without reading it, for zstd's sizes.
        let rest = db
            .read(|tx| outbox::pending_bytes_after(tx, frames.outbox.after))
            .expect("measured");
        assert_eq!(rest + frames.queued, total);
        frames.make_first();
        // A change queued while the call is under way goes with it.
        let later = first_changes(4001, None).pop().expect("one more");
        queue(std::slice::from_ref(&later));
        changes.push(later);
        let want: Vec<ChangeHash> = changes.iter().map(|(h, _)| *h).collect();
        assert_eq!(sent(frames), want);

        // A call still stops at about its bytes.
        let opts = SyncOptions {
            push_call_bytes: total / 2,
            ..opts
        };
        let size = Arc::new(Adaptive::new(None, 4 << 10));
        let (frames, _acks) = start_push(&db, &opts, size).expect("read").expect("a call");
        let hashes = sent(frames);
        let bytes: usize = changes[..hashes.len()].iter().map(|(_, b)| b.len()).sum();
        let last = changes[hashes.len() - 1].1.len();
        assert!(
            bytes >= total / 2 && bytes - last < total / 2,
            "{bytes} of {total}"
        );
        assert_eq!(hashes, want[..hashes.len()]);
    }

    /// A message of more records than one statement writes, half of them
    /// held already: the others are taken once each, every change indexed,
    /// every record's state its change.
    #[test]
    fn records_held_already_are_passed_over_and_the_rest_written_many_to_a_statement() {
        let n = 3 * ROWS_PER_STATEMENT + 7;
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("p.db"), None).expect("db");
        let changes = first_changes(n, None);
        let mut session = PullSession::new();
        session
            .apply(&db, message(&changes[..n / 2]), 1)
            .expect("the first half");
        let mut session = PullSession::new();
        session.apply(&db, message(&changes), 2).expect("all");
        assert_eq!(session.received, (n - n / 2) as u64);
        let count = |sql: &str| -> i64 {
            db.read(|tx| Ok::<_, Error>(tx.query_row(sql, [], |r| r.get(0))?))
                .expect("count")
        };
        assert_eq!(count("SELECT count(*) FROM documents"), n as i64);
        assert_eq!(count("SELECT count(*) FROM changes"), n as i64);
        for (i, (hash, bytes)) in changes.iter().enumerate() {
            let id = DocId::of_first_change(hash);
            let (stored, indexed) = db
                .read(|tx| {
                    Ok::<_, Error>((
                        documents::stored(tx, &id)?,
                        documents::doc_of_change(tx, hash)?,
                    ))
                })
                .expect("read");
            let stored = stored.expect("the record is held");
            assert_eq!((&stored.state, stored.chunks), (bytes, 1), "record {i}");
            assert_eq!(indexed, Some(id), "change {i}");
        }
    }
}
