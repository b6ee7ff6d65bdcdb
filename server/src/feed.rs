//! Answering a pull: the changes a device has not seen, in every scope it may
//! read, in sequence order, packed into byte-bounded messages.
//!
//! A device's cursors arrive as one common value plus exceptions, with a digest
//! of the scopes it knows. When the digest matches the scopes it may read now,
//! the answer needs no scope list; when nothing is new, it is one small message.

use std::collections::HashMap;

use massline_core::packing::Packer;
use massline_core::sync::protocol::{PullBatch, PullRequest, scopes_digest};
use rusqlite::params;

use crate::db::Db;
use crate::error::Error;
use crate::registry::{self, Device};

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
            message_bytes: 256 << 10,
            compression_level: 3,
        }
    }
}

/// Streams the answer to `req` into `send`, which returns `false` once the
/// device has gone (the answer then stops).
pub fn answer(
    db: &Db,
    device: &Device,
    req: &PullRequest,
    opts: &FeedOptions,
    mut send: impl FnMut(PullBatch) -> bool,
) -> Result<(), Error> {
    db.read(|tx| {
        let readable = registry::readable_scopes(tx, &device.principal)?;
        let names: Vec<String> = readable.iter().map(ToString::to_string).collect();
        if scopes_digest(names.iter().map(String::as_str)) != req.scopes_digest {
            send(PullBatch {
                scopes: names,
                done: true,
                ..PullBatch::default()
            });
            return Ok(());
        }
        let head: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
            r.get(0)
        })?;
        let asked: HashMap<&str, u64> = req.cursors.iter().map(|(s, c)| (s.as_str(), *c)).collect();
        let mut cursor_of: HashMap<i64, i64> = HashMap::new();
        {
            let mut id_of = tx.prepare_cached("SELECT id FROM scopes WHERE name = ?1")?;
            for name in &names {
                let id: Option<i64> = id_of
                    .query_row(params![name], |r| r.get(0))
                    .map(Some)
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })?;
                if let Some(id) = id {
                    let c = asked.get(name.as_str()).copied().unwrap_or(req.common);
                    cursor_of.insert(id, i64::try_from(c).unwrap_or(i64::MAX));
                }
            }
        }
        let level = match req.compression {
            1..=19 => req.compression as i32,
            _ => opts.compression_level,
        };
        let mut packer = Packer::new(level);
        let mut flushed = false;
        if let Some(&min) = cursor_of.values().min() {
            let ids = serde_json::to_string(&cursor_of.keys().collect::<Vec<_>>())
                .map_err(|e| Error::Invalid(e.to_string()))?;
            let mut stmt = tx.prepare_cached(
                "SELECT seq, scope_id, bytes FROM changes
                 WHERE seq > ?1 AND seq <= ?2 AND device_id != ?3
                   AND scope_id IN (SELECT value FROM json_each(?4))
                 ORDER BY seq",
            )?;
            let mut rows = stmt.query(params![min, head, device.id as i64, ids])?;
            while let Some(row) = rows.next()? {
                let (seq, scope): (i64, i64) = (row.get(0)?, row.get(1)?);
                if cursor_of.get(&scope).is_some_and(|c| seq > *c) {
                    let bytes = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
                    packer.push_change(bytes);
                    if packer.pending_bytes() >= opts.message_bytes {
                        flushed = true;
                        let (frame, entries) = packer.flush();
                        let more = send(PullBatch {
                            frame,
                            entries,
                            through: seq as u64,
                            ..PullBatch::default()
                        });
                        if !more {
                            return Ok(());
                        }
                    }
                }
            }
        }
        let (frame, entries) = if packer.pending_entries() > 0 {
            if !flushed {
                // The whole answer is in hand: let zstd size itself to it.
                packer.expect(packer.pending_bytes());
            }
            packer.flush()
        } else {
            (Vec::new(), 0)
        };
        send(PullBatch {
            frame,
            entries,
            through: head as u64,
            done: true,
            ..PullBatch::default()
        });
        Ok(())
    })
}
