//! Records made in a message, judged ahead: part of the first stage, so it
//! needs no database and runs on the machine's cores while the message
//! before is taken in.
//!
//! A record a device made offline and then changed again arrives with its
//! whole history in one message: its plain first change and the edits after
//! it. Judging an edit (applying it to the record's document and reading
//! the record back, [`judge::apply`]) is most of what taking such a message
//! in costs, and it needs nothing but the record's earlier changes, which
//! are all in the message. So each such edit is judged here, on the
//! assumption that every change of its record before it in the message will
//! be accepted. The serial stage takes the judgement only where that came
//! true (see `apply::Working::takes_foreseen`); anywhere else (a change
//! refused, a record the server already had) it judges the change itself,
//! as it judges every other.
//!
//! The work is bounded as the message is: each change is judged at most
//! once here, on a document holding only the message's own changes, and no
//! more than [`MAX_BYTES_AHEAD`] of changes stand behind the judgements.

use automerge::{Automerge, ChangeHash};
use massline_model::DocId;
use massline_model::change_limits::{self, OpIndex};
use massline_model::first_change::Plain;
use massline_model::judge::{self, Judgement, Standing};
use massline_model::parallel;
use rustc_hash::FxHashMap;

use super::{Later, Parsed, Prepared};

/// Fewest records each thread judges ahead: judging a record's edits costs
/// what reading some 16 changes does (in S1, 60 records' 300 edits take
/// 98 M instructions, reading its 2,720 changes 280 M), so 4 records are
/// worth a thread as 64 changes are.
pub const RECORDS_PER_THREAD: usize = 4;

/// Most bytes of changes behind the judgements one message holds ahead. A
/// judgement holds its record three times (as seen, made and merged), and
/// reading the record costs about as much as the record is large, which is
/// about as large as the bytes of its changes so far: each judgement is
/// counted at the bytes of its change and every change of its record before
/// it in the message. Past this, a record's edits are left to the serial
/// stage, which holds one at a time.
pub const MAX_BYTES_AHEAD: usize = 1 << 20;

/// A change judged ahead, with what its judgement assumes.
#[derive(Debug)]
pub struct Foreseen {
    /// The record it changes.
    pub record: DocId,
    /// How many changes of the record come before it in the message, its
    /// first change among them: the judgement holds if the record was new
    /// to the server and took exactly those.
    pub after: i64,
    /// What the judge read.
    pub judgement: Judgement,
}

/// Judges ahead the edits of every record made in `entries` (read by the
/// rest of the first stage), on at most `threads` threads, and keeps each
/// judgement with its change.
pub(super) fn foresee(entries: &mut [Prepared], threads: usize) {
    let made: Vec<Vec<usize>> = records_made(entries, MAX_BYTES_AHEAD)
        .into_iter()
        .filter(|at| at.len() > 1)
        .collect();
    if made.is_empty() {
        return;
    }
    let read: &[Prepared] = entries;
    let judged = parallel::map_in_order_on(made, RECORDS_PER_THREAD, threads, |at| {
        judge_ahead(read, &at)
    });
    for (i, foreseen) in judged.into_iter().flatten() {
        if let Some(Prepared::Change { ahead, .. }) = entries.get_mut(i) {
            ahead.foreseen = Some(Box::new(foreseen));
        }
    }
}

/// One record made in the message: where its changes are, whether every
/// change that builds on them so far is among them, and their bytes.
struct Made {
    at: Vec<usize>,
    open: bool,
    bytes: usize,
}

/// The records whose plain first change is in the message, each with the
/// places of its changes that follow, in order: every change building only
/// on the record's changes, until one that builds on them and on anything
/// else, or one whose judgement would take the message past `budget` bytes
/// (see [`MAX_BYTES_AHEAD`]), after which nothing more of the record is
/// judged ahead.
fn records_made(entries: &[Prepared], mut budget: usize) -> Vec<Vec<usize>> {
    let mut made: Vec<Made> = Vec::new();
    let mut of: FxHashMap<ChangeHash, usize> = FxHashMap::default();
    for (i, entry) in entries.iter().enumerate() {
        let Prepared::Change {
            hash,
            bytes,
            parsed: Ok(change),
            ..
        } = entry
        else {
            continue;
        };
        if of.contains_key(hash) {
            // Sent again: the serial stage skips it as held.
            continue;
        }
        let deps = change.deps();
        if deps.is_empty() {
            if let Parsed::First(f) = change
                && f.judged.edit.is_ok()
            {
                of.insert(*hash, made.len());
                made.push(Made {
                    at: vec![i],
                    open: true,
                    bytes: bytes.len(),
                });
            }
            continue;
        }
        let mut touched: Vec<usize> = deps.iter().filter_map(|d| of.get(d).copied()).collect();
        touched.sort_unstable();
        touched.dedup();
        let only_the_records = deps.iter().all(|d| of.contains_key(d));
        match touched[..] {
            [g] if only_the_records && made[g].open => {
                let m = &mut made[g];
                let behind = m.bytes + bytes.len();
                match budget.checked_sub(behind) {
                    Some(left) => {
                        budget = left;
                        m.bytes = behind;
                        m.at.push(i);
                        of.insert(*hash, g);
                    }
                    None => m.open = false,
                }
            }
            _ => touched.into_iter().for_each(|g| made[g].open = false),
        }
    }
    made.into_iter().map(|m| m.at).collect()
}

/// Judges the changes at `at` (a record's first change, then its edits) one
/// after another, each on the record as the ones before it left it, until
/// one the serial stage would refuse: its operations name what the record
/// does not have, Automerge does not apply it, or the record does not read.
/// While the record's changes stay plain (each by the same actor on the one
/// before, no write meeting another) they are read straight from their
/// operations ([`Plain`]); from the first that is not, an Automerge document
/// is built and applied to.
fn judge_ahead(entries: &[Prepared], at: &[usize]) -> Vec<(usize, Foreseen)> {
    let Some(Prepared::Change {
        hash,
        bytes,
        parsed: Ok(Parsed::First(first)),
        ..
    }) = at.first().and_then(|&i| entries.get(i))
    else {
        return Vec::new();
    };
    let Judgement { edit: Ok(made), .. } = &first.judged else {
        return Vec::new();
    };
    // The first change's operations, read again (its reading went into its
    // judgement); Automerge's change of it is built only with a document.
    let Ok(first) = change_limits::parse(bytes) else {
        return Vec::new();
    };
    let record = DocId::of_first_change(hash);
    let ops = first.expanded.clone();
    let mut first = Some(first);
    let mut index = OpIndex::default();
    index.add(&ops);
    let mut plain = Plain::first(ops);
    // Built at the first change that is not plain, from those before it.
    let mut doc: Option<Automerge> = None;
    let mut before: Vec<&Later> = Vec::new();
    let mut standing = Standing::default();
    standing.accept(made.clone());
    let mut judged = Vec::new();
    for (after, &i) in at.iter().enumerate().skip(1) {
        let Some(Prepared::Change {
            parsed: Ok(Parsed::Change(change)),
            ..
        }) = entries.get(i)
        else {
            break;
        };
        let ops = change.ops().clone();
        if index.check(&ops).is_err() {
            break;
        }
        index.add(&ops);
        let next = if doc.is_none() {
            plain.take().and_then(|p| p.then(ops))
        } else {
            None
        };
        let judgement = match next.as_ref().and_then(Plain::root) {
            Some(root) => {
                plain = next;
                before.push(&**change);
                judge::next_in_chain(&standing, root)
            }
            None => {
                let doc = match &mut doc {
                    Some(doc) => doc,
                    None => {
                        let Some(Ok(first)) = first.take().map(|f| f.into_change()) else {
                            break;
                        };
                        let Ok(before) = before
                            .iter()
                            .map(|c| c.to_change())
                            .collect::<Result<Vec<_>, _>>()
                        else {
                            break;
                        };
                        let mut built = Automerge::new();
                        let changes = std::iter::once(first).chain(before);
                        if built.apply_changes(changes).is_err() {
                            break;
                        }
                        doc.insert(built)
                    }
                };
                let Ok(change) = change.to_change() else {
                    break;
                };
                let Ok(judgement) = judge::apply(doc, &standing, change, Vec::new) else {
                    break;
                };
                judgement
            }
        };
        let Ok(edit) = &judgement.edit else {
            break;
        };
        standing.accept(edit.clone());
        judged.push((
            i,
            Foreseen {
                record,
                after: after as i64,
                judgement,
            },
        ));
    }
    judged
}

#[cfg(test)]
mod tests {
    use automerge::{ActorId, Change};
    use chrono::NaiveDate;
    use massline_model::access::Scope;
    use massline_model::packing::Entry;
    use massline_model::record_doc::{self, Author};
    use massline_model::records::{Record, StudyEntry, StudyMaterial, StudyMode};
    use massline_model::{PersonId, VillageCode};

    use super::*;
    use crate::ingest::{Ahead, prepare};

    fn entry(minutes: u32) -> Record {
        Record::StudyEntry(StudyEntry {
            member: PersonId::new("wang").expect("id"),
            date: NaiveDate::from_ymd_opt(2024, 5, 1).expect("date"),
            material: StudyMaterial::MassLineReading,
            topic: "群众路线读本".into(),
            mode: StudyMode::SelfStudy,
            helper: None,
            minutes,
            reflection: String::new(),
            comments: Vec::new(),
        })
    }

    /// A study entry of 30 minutes made by `actor`, and its document.
    fn made(actor: &ActorId) -> (Change, Automerge) {
        let person = PersonId::new("wang").expect("id");
        let scope = Scope::MemberStudy {
            village: VillageCode::new("dongcun").expect("code"),
            member: person.clone(),
        };
        let by = Author {
            actor,
            person: &person,
            time: 1_700_000_000,
        };
        let (_, doc, _) = record_doc::create(&by, &scope, 1, &entry(30)).expect("made");
        (doc.get_last_local_change().expect("a change"), doc)
    }

    /// Sets the entry's minutes in `doc`, by `actor`: the change.
    fn minutes(doc: &mut Automerge, actor: &ActorId, to: u32) -> Change {
        let person = PersonId::new("wang").expect("id");
        let by = Author {
            actor,
            person: &person,
            time: 1_700_000_000,
        };
        let now = record_doc::read(doc).expect("reads").record;
        record_doc::update(doc, &by, &now, &entry(to)).expect("updated");
        doc.get_last_local_change().expect("a change")
    }

    fn doc_of(changes: &[&Change]) -> Automerge {
        let mut doc = Automerge::new();
        doc.apply_changes(changes.iter().map(|c| (*c).clone()))
            .expect("applies");
        doc
    }

    fn prepared(changes: &[&Change]) -> Vec<Prepared> {
        prepare(
            changes
                .iter()
                .map(|c| Entry::Change {
                    hash: c.hash(),
                    bytes: c.raw_bytes().to_vec(),
                })
                .collect(),
        )
    }

    /// Each entry's judgement made ahead: (changes before it, minutes it made).
    fn ahead(entries: &[Prepared]) -> Vec<Option<(i64, u32)>> {
        entries
            .iter()
            .map(|e| match e {
                Prepared::Change {
                    ahead:
                        Ahead {
                            foreseen: Some(f), ..
                        },
                    ..
                } => {
                    let edit = f.judgement.edit.as_ref().expect("reads");
                    let Record::StudyEntry(s) = &edit.made.record else {
                        panic!("not a study entry");
                    };
                    Some((f.after, s.minutes))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_edits_of_a_record_made_in_the_message_are_judged_ahead_in_order() {
        let a = ActorId::from([1u8; 16]);
        let (first, mut doc) = made(&a);
        let edits: Vec<Change> = [40, 50, 60].map(|m| minutes(&mut doc, &a, m)).into();
        let (other, mut other_doc) = made(&ActorId::from([2u8; 16]));
        let other_edit = minutes(&mut other_doc, &ActorId::from([2u8; 16]), 45);
        let entries = prepared(&[&first, &other, &edits[0], &other_edit, &edits[1], &edits[2]]);
        assert_eq!(
            ahead(&entries),
            [
                None,
                None,
                Some((1, 40)),
                Some((1, 45)),
                Some((2, 50)),
                Some((3, 60))
            ]
        );
        let Prepared::Change {
            ahead: Ahead {
                foreseen: Some(f), ..
            },
            ..
        } = &entries[5]
        else {
            panic!("not judged ahead");
        };
        assert_eq!(f.record, DocId::of_first_change(&first.hash()));
        let seen = f.judgement.edit.as_ref().expect("reads").seen.as_ref();
        assert_eq!(
            seen.map(|s| &s.record),
            Some(&entry(50)),
            "judged on the edit before"
        );
    }

    #[test]
    fn edits_past_the_plain_shape_are_judged_ahead_on_an_automerge_document() {
        let (a, b) = (ActorId::from([1u8; 16]), ActorId::from([2u8; 16]));
        let (first, mut doc) = made(&a);
        let one = minutes(&mut doc, &a, 40);
        // Another actor's edit, then one meeting it: no longer plain, so
        // Automerge judges them, on a document of the changes before.
        let mut theirs_doc = doc.fork().with_actor(b.clone());
        let theirs = minutes(&mut theirs_doc, &b, 45);
        doc.merge(&mut theirs_doc).expect("merges");
        let met = minutes(&mut doc, &a, 50);
        let after = minutes(&mut doc, &a, 60);
        let entries = prepared(&[&first, &one, &theirs, &met, &after]);
        assert_eq!(
            ahead(&entries),
            [
                None,
                Some((1, 40)),
                Some((2, 45)),
                Some((3, 50)),
                Some((4, 60))
            ]
        );
    }

    #[test]
    fn judging_ahead_stops_where_the_bytes_behind_it_pass_the_budget() {
        let a = ActorId::from([1u8; 16]);
        let (first, mut doc) = made(&a);
        let edits: Vec<Change> = (1..=6).map(|n| minutes(&mut doc, &a, 30 + n)).collect();
        let mut changes = vec![&first];
        changes.extend(&edits);
        let entries = prepared(&changes);
        let size = |c: &Change| c.raw_bytes().len();
        // The first three edits are counted at the bytes behind each.
        let behind: Vec<usize> = (0..3)
            .map(|k| size(&first) + edits[..=k].iter().map(size).sum::<usize>())
            .collect();
        let budget = behind.iter().sum::<usize>();
        let judged = |budget| {
            records_made(&entries, budget)
                .into_iter()
                .map(|at| at.len() - 1)
                .collect::<Vec<_>>()
        };
        assert_eq!(judged(usize::MAX), [6]);
        assert_eq!(judged(budget), [3]);
        assert_eq!(judged(budget - 1), [2]);
    }

    /// A record made by `a` and edited (one), then met by an edit made
    /// elsewhere and not sent, then edited twice more (met, after): the
    /// changes sent, and the document of the first two.
    fn met_from_outside(a: &ActorId) -> ([Change; 4], Automerge) {
        let b = ActorId::from([2u8; 16]);
        let (first, mut doc) = made(a);
        let one = minutes(&mut doc, a, 40);
        let before = doc_of(&[&first, &one]);
        let mut elsewhere = doc.fork().with_actor(b.clone());
        minutes(&mut elsewhere, &b, 45);
        doc.merge(&mut elsewhere).expect("merges");
        let met = minutes(&mut doc, a, 50);
        let after = minutes(&mut doc, a, 60);
        ([first, one, met, after], before)
    }

    #[test]
    fn a_record_met_by_a_change_from_outside_the_message_is_judged_ahead_no_further() {
        let a = ActorId::from([1u8; 16]);
        let ([first, one, met, after], mut doc) = met_from_outside(&a);
        let entries = prepared(&[&first, &one, &met, &after]);
        assert_eq!(ahead(&entries), [None, Some((1, 40)), None, None]);
        // An edit sent twice is judged once: the second is skipped as held.
        let two = minutes(&mut doc, &a, 50);
        let entries = prepared(&[&first, &one, &one, &two]);
        assert_eq!(ahead(&entries), [None, Some((1, 40)), None, Some((2, 50))]);
    }

    #[test]
    fn automerges_change_is_built_ahead_only_for_an_edit_not_judged_ahead() {
        let ([first, one, met, after], _) = met_from_outside(&ActorId::from([1u8; 16]));
        let entries = prepared(&[&first, &one, &met, &after]);
        assert_eq!(ahead(&entries), [None, Some((1, 40)), None, None]);
        let built: Vec<Option<bool>> = entries
            .iter()
            .map(|e| match e {
                Prepared::Change {
                    parsed: Ok(Parsed::Change(later)),
                    ..
                } => Some(later.is_built()),
                _ => None,
            })
            .collect();
        // The serial stage judges `met` and `after` on the record's document:
        // their changes are built ahead; `one`'s judgement needs none.
        assert_eq!(built, [None, Some(false), Some(true), Some(true)]);
        for (e, c) in entries.iter().zip([&first, &one, &met, &after]) {
            if let Prepared::Change {
                parsed: Ok(Parsed::Change(later)),
                ..
            } = e
            {
                let change = later.to_change().expect("builds");
                assert_eq!(change.raw_bytes(), c.raw_bytes(), "the change as sent");
            }
        }
    }
}
