//! The last stage: an admitted change gets the next sequence number
//! (`AUTOINCREMENT`, never reused) and is stored; once the message is
//! through, every record it changed is written, in the same transaction.

use automerge::ChangeHash;
use massline_model::judge::Edit;
use massline_model::{DocId, Scope};
use rusqlite::params;

use super::Batch;
use super::admit::working;
use super::apply::Working;
use crate::documents;
use crate::error::Error;

/// Stores an admitted change of record `id`, and takes it into the record;
/// `record_json` is the record it leaves, as JSON, if that was written ahead.
pub(super) fn store(
    b: &mut Batch<'_>,
    id: DocId,
    hash: ChangeHash,
    bytes: Vec<u8>,
    (edit, record_json): (Edit, Option<String>),
    (scope, scope_id): (Scope, i64),
) -> Result<(), super::Stop> {
    b.tx.prepare_cached(
        "INSERT INTO changes (hash, doc_id, scope_id, device_id, bytes, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        &hash.0[..],
        &id.as_bytes()[..],
        scope_id,
        b.device.id as i64,
        bytes,
        b.now
    ])?;
    let seq = b.tx.last_insert_rowid();
    let w = working(&mut b.work, id)?;
    w.standing.accept(edit);
    w.record_json = record_json;
    w.scope = Some((scope, scope_id));
    w.chunks.extend_from_slice(&bytes);
    w.n_new += 1;
    w.last_seq = seq;
    b.docs_of.insert(hash, id);
    b.applied.remove(&hash);
    Ok(())
}

/// Writes every record that took changes.
pub(super) fn finish(b: &mut Batch<'_>) -> Result<(), Error> {
    for id in &b.order {
        let Some(w) = b.work.get_mut(id) else {
            continue;
        };
        if w.n_new == 0 {
            continue;
        }
        if documents::will_compact(w.current.as_ref(), w.n_new) {
            w.build(id)?;
        }
        write(b.tx, id, w)?;
    }
    Ok(())
}

fn write(tx: &rusqlite::Transaction<'_>, id: &DocId, w: &Working) -> Result<(), Error> {
    let (Some(record), Some((_, scope_id))) = (&w.standing.record, &w.scope) else {
        return Err(Error::damaged(
            *id,
            "a record took changes but stands as none",
        ));
    };
    documents::put(
        tx,
        id,
        &documents::Update {
            doc: w.doc.as_deref(),
            current: w.current.as_ref(),
            new_chunks: &w.chunks,
            n_new: w.n_new,
            scope_id: *scope_id,
            stored: record,
            record_json: w.record_json.as_deref(),
            seq: w.last_seq,
        },
    )
}
