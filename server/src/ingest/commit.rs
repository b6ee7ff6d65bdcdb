//! The last stage: an admitted change is taken into its record and kept
//! for storing; once the message is through, its changes are stored, many
//! rows to a statement ([`massline_model::runs`]), each getting the next sequence
//! number (`AUTOINCREMENT`, never reused, in the order they were admitted;
//! noted as a run of the device's own, [`crate::own_runs`]), and every
//! record it changed is written (the new ones many to a
//! statement too), in the same transaction.

use automerge::ChangeHash;
use massline_model::judge::Edit;
use massline_model::{DocId, Scope};
use rusqlite::types::ToSql;

use super::Batch;
use super::admit::working;
use super::apply::Working;
use crate::documents;
use crate::error::Error;
use crate::own_runs::{self, Run};
use massline_model::runs;

/// An admitted change, to be stored once the message is through.
pub(super) struct Admitted {
    hash: ChangeHash,
    doc: DocId,
    scope_id: i64,
    bytes: Vec<u8>,
}

/// Takes an admitted change of record `id` into the record, to be stored
/// when the message is through; `record_json` is the record it leaves, as
/// JSON, if that was written ahead.
pub(super) fn store(
    b: &mut Batch<'_>,
    id: DocId,
    hash: ChangeHash,
    bytes: Vec<u8>,
    (edit, record_json): (Edit, Option<String>),
    (scope, scope_id): (Scope, i64),
) -> Result<(), super::Stop> {
    let w = working(&mut b.work, id)?;
    w.standing.accept(edit);
    w.record_json = record_json;
    w.scope = Some((scope, scope_id));
    w.chunks.extend_from_slice(&bytes);
    w.n_new += 1;
    w.admitted.push(b.admitted.len());
    b.admitted.push(Admitted {
        hash,
        doc: id,
        scope_id,
        bytes,
    });
    b.docs_of.insert(hash, id);
    b.applied.remove(&hash);
    Ok(())
}

impl Admitted {
    /// The change's bytes.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Stores the message's admitted changes, in order; their sequence numbers.
fn store_admitted(b: &Batch<'_>) -> Result<Vec<i64>, Error> {
    let mut seqs = Vec::with_capacity(b.admitted.len());
    let device = b.device.id as i64;
    for rows in runs::of(&b.admitted) {
        let sql = format!(
            "INSERT OR FAIL INTO changes (hash, doc_id, scope_id, device_id, bytes, received_at) VALUES {}",
            runs::values(rows.len(), 6)
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(rows.len() * 6);
        let keys: Vec<(&[u8], &[u8])> = rows
            .iter()
            .map(|r| (&r.hash.0[..], &r.doc.as_bytes()[..]))
            .collect();
        for (r, (hash, id)) in rows.iter().zip(&keys) {
            values.extend([
                hash as &dyn ToSql,
                id,
                &r.scope_id,
                &device,
                &r.bytes,
                &b.now,
            ]);
        }
        let stored = b.tx.prepare_cached(&sql)?.execute(&values[..])?;
        // One statement's rows are numbered one after another, in order.
        let last = b.tx.last_insert_rowid();
        if stored != rows.len() {
            return Err(Error::internal(
                "storing a push message's changes",
                format!("{stored} of {} were stored", rows.len()),
            ));
        }
        let first = last - rows.len() as i64 + 1;
        seqs.extend(first..=last);
    }
    Ok(seqs)
}

/// Writes every record that took changes: those the server had before one
/// at a time, the new ones many to a statement, and notes the numbers the
/// changes took as the device's own ([`own_runs`]).
pub(super) fn finish(b: &mut Batch<'_>) -> Result<(), Error> {
    let seqs = store_admitted(b)?;
    if let (Some(&first), Some(&last)) = (seqs.first(), seqs.last())
        && last - first + 1 == seqs.len() as i64
    {
        own_runs::note(b.tx, b.device.id, Run { first, last })?;
    }
    for id in &b.order {
        let Some(w) = b.work.get_mut(id) else {
            continue;
        };
        if w.n_new == 0 {
            continue;
        }
        if let Some(&last) = w.admitted.last() {
            w.last_seq = seqs[last];
        }
        if documents::will_compact(w.current.as_ref(), w.n_new) {
            w.build(id)?;
        }
    }
    let mut new = Vec::new();
    for id in &b.order {
        let Some(w) = b.work.get(id).filter(|w| w.n_new > 0) else {
            continue;
        };
        let row = row(id, w)?;
        if w.current.is_none() {
            new.push(row);
        } else {
            documents::put(b.tx, &row)?;
        }
    }
    documents::put_new(b.tx, &new)
}

fn row<'a>(id: &DocId, w: &'a Working) -> Result<documents::Row<'a>, Error> {
    let (Some(record), Some((_, scope_id))) = (&w.standing.record, &w.scope) else {
        return Err(Error::damaged(
            *id,
            "a record took changes but stands as none",
        ));
    };
    documents::Row::of(
        id,
        &documents::Update {
            doc: w.doc.as_deref(),
            current: w.current.as_ref(),
            n_new: w.n_new,
            scope_id: *scope_id,
            stored: record,
            record_json: w.record_json.as_deref(),
            seq: w.last_seq,
        },
    )
}
