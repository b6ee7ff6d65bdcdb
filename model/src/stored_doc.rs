//! A record's document as phone and server both store it: a run of Automerge
//! chunks that loads as the document, appended to as changes arrive and
//! compacted into one save once it grows long.
//!
//! Appending is cheap (no document needs building); loading a long run costs
//! more than loading a save, so after [`COMPACT_AFTER`] chunks the run is
//! replaced by the document's save.

use automerge::Automerge;

/// After this many chunks a document's stored run is compacted into one save.
pub const COMPACT_AFTER: i64 = 32;

/// A stored run of chunks and how many it holds.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// The chunks, concatenated: they load as the document.
    pub state: &'a [u8],
    /// How many chunks that is.
    pub chunks: i64,
}

/// Whether writing `n_new` more chunks after `previous` compacts the run.
pub fn will_compact(previous: Option<Run<'_>>, n_new: i64) -> bool {
    previous.map_or(0, |p| p.chunks) + n_new > COMPACT_AFTER
}

/// The run to store after `n_new` chunks (`new_chunks`, concatenated) were
/// applied to the document stored as `previous` (none for a new document):
/// `(state, chunks)`. `save` makes the compacted document; it is called only
/// when the run would grow past [`COMPACT_AFTER`].
pub fn next_run<E>(
    previous: Option<Run<'_>>,
    new_chunks: &[u8],
    n_new: i64,
    save: impl FnOnce() -> Result<Vec<u8>, E>,
) -> Result<(Vec<u8>, i64), E> {
    Ok(match previous {
        _ if will_compact(previous, n_new) => (save()?, 1),
        Some(p) => {
            let mut s = Vec::with_capacity(p.state.len() + new_chunks.len());
            s.extend_from_slice(p.state);
            s.extend_from_slice(new_chunks);
            (s, p.chunks + n_new)
        }
        None => (new_chunks.to_vec(), n_new),
    })
}

/// Loads a stored run as its document.
pub fn load(state: &[u8]) -> Result<Automerge, automerge::AutomergeError> {
    Automerge::load(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    fn change(doc: &mut Automerge, n: i64) -> Vec<u8> {
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "n", n).expect("put");
        tx.commit();
        doc.get_last_local_change()
            .expect("change")
            .raw_bytes()
            .to_vec()
    }

    #[test]
    fn a_run_appends_until_it_compacts_and_always_loads_as_the_document() {
        let mut doc = Automerge::new();
        let mut state = Vec::new();
        let mut chunks = 0;
        for n in 0..(COMPACT_AFTER + 5) {
            let c = change(&mut doc, n);
            let previous = (chunks > 0).then_some(Run {
                state: &state,
                chunks,
            });
            let (s, k) = next_run::<automerge::AutomergeError>(previous, &c, 1, || Ok(doc.save()))
                .expect("run");
            (state, chunks) = (s, k);
            assert!(chunks <= COMPACT_AFTER, "the run never outgrows the limit");
            let loaded = load(&state).expect("loads");
            assert_eq!(loaded.get_heads(), doc.get_heads());
        }
        assert!(chunks < COMPACT_AFTER, "the run was compacted on the way");
    }
}
