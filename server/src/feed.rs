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

use massline_core::packing::Packer;
use massline_core::sync::protocol::{PullBatch, PullRequest, scopes_digest};
use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::Error;
use crate::registry::{self, Device};

/// Uncompressed bytes of changes per message, by default.
pub const MESSAGE_BYTES: usize = 256 << 10;

/// The most rows of changes one read of an answer goes through before it lets
/// its connection go; it also stops once it holds a message's bytes
/// ([`FeedOptions::message_bytes`]) of changes.
pub const READ_ROWS: usize = 2048;

/// Tuning of pull answers.
#[derive(Clone, Copy, Debug)]
pub struct FeedOptions {
    /// Uncompressed bytes of changes per message.
    pub message_bytes: usize,
    /// zstd level of the answer stream.
    pub compression_level: i32,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            message_bytes: MESSAGE_BYTES,
            compression_level: 3,
        }
    }
}

/// Where an answer stands.
#[derive(Debug)]
enum Stage {
    /// The device's scopes are out of date: the answer is the scope list.
    Scopes(Vec<String>),
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
/// one below it; changes are never updated or deleted.
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
    /// Every change up to here has been read.
    read_through: i64,
    /// Changes read and not yet packed: (sequence number, bytes).
    read: VecDeque<(i64, Vec<u8>)>,
    packer: Packer,
    message_bytes: usize,
    /// Whether a message of changes went out before the last.
    flushed: bool,
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
        read_through: 0,
        read: VecDeque::new(),
        packer: Packer::new(level),
        message_bytes: opts.message_bytes.max(1),
        flushed: false,
    };
    db.read(|tx| {
        let readable = registry::readable_scopes(tx, &device.principal)?;
        let names: Vec<String> = readable.iter().map(ToString::to_string).collect();
        if scopes_digest(names.iter().map(String::as_str)) != req.scopes_digest {
            answer.stage = Stage::Scopes(names);
            return Ok::<_, Error>(());
        }
        answer.head = tx.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
            r.get(0)
        })?;
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
        Ok(())
    })?;
    answer.read_through = answer
        .cursor_of
        .values()
        .min()
        .copied()
        .unwrap_or(answer.head);
    answer.scope_ids = serde_json::to_string(&answer.cursor_of.keys().collect::<Vec<_>>())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(answer)
}

impl Answer {
    /// The next message of the answer, `None` after the last. Reads what it
    /// needs in bounded batches; holds no connection when it returns. A
    /// device revoked meanwhile gets [`Error::Revoked`].
    pub fn next_message(&mut self, db: &Db) -> Result<Option<PullBatch>, Error> {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Done => return Ok(None),
            Stage::Scopes(names) => {
                return Ok(Some(PullBatch {
                    scopes: names,
                    done: true,
                    ..PullBatch::default()
                }));
            }
            Stage::Changes => self.stage = Stage::Changes,
        }
        loop {
            while let Some((seq, bytes)) = self.read.pop_front() {
                self.packer.push_change(&bytes);
                if self.packer.pending_bytes() >= self.message_bytes {
                    self.flushed = true;
                    let (frame, entries) = self.packer.flush();
                    return Ok(Some(PullBatch {
                        frame,
                        entries,
                        through: seq as u64,
                        ..PullBatch::default()
                    }));
                }
            }
            if self.read_through >= self.head {
                break;
            }
            self.read_more(db)?;
        }
        self.stage = Stage::Done;
        let (frame, entries) = if self.packer.pending_entries() > 0 {
            if !self.flushed {
                // The whole answer is in hand: let zstd size itself to it.
                self.packer.expect(self.packer.pending_bytes());
            }
            self.packer.flush()
        } else {
            (Vec::new(), 0)
        };
        Ok(Some(PullBatch {
            frame,
            entries,
            through: self.head as u64,
            done: true,
            ..PullBatch::default()
        }))
    }

    /// Reads the next batch of changes after `read_through`: at most
    /// [`READ_ROWS`] rows, and no more once a message's bytes are in hand.
    fn read_more(&mut self, db: &Db) -> Result<(), Error> {
        db.read(|tx| {
            if !registry::enrolled(tx, self.device)? {
                return Err(Error::Revoked(self.device));
            }
            let mut stmt = tx.prepare_cached(
                "SELECT seq, scope_id, bytes FROM changes
                 WHERE seq > ?1 AND seq <= ?2 AND device_id != ?3
                   AND scope_id IN (SELECT value FROM json_each(?4))
                 ORDER BY seq LIMIT ?5",
            )?;
            let mut rows = stmt.query(params![
                self.read_through,
                self.head,
                self.device as i64,
                self.scope_ids,
                READ_ROWS as i64
            ])?;
            let (mut scanned, mut bytes, mut last, mut full) = (0, 0, self.read_through, false);
            while let Some(row) = rows.next()? {
                let (seq, scope): (i64, i64) = (row.get(0)?, row.get(1)?);
                (scanned, last) = (scanned + 1, seq);
                if self.cursor_of.get(&scope).is_some_and(|c| seq > *c) {
                    let change = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
                    bytes += change.len();
                    self.read.push_back((seq, change.to_vec()));
                    if bytes >= self.message_bytes {
                        full = true;
                        break;
                    }
                }
            }
            // Fewer rows than asked, and not stopped for bytes: all read.
            self.read_through = if full || scanned == READ_ROWS {
                last
            } else {
                self.head
            };
            Ok(())
        })
    }
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
