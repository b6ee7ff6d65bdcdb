//! Stretches of the sequence that hold only one device's changes.
//!
//! A pull never sends a device its own changes back, but it had to look
//! through them: after a phone uploads a village's records, its next sync
//! looked through thousands of numbers to find nothing. A push's
//! transaction numbers its changes one after another, and nothing else
//! takes a number inside it, so the numbers it gave are a run that holds
//! nothing but that device's changes (no other device's change, no purge).
//! Each push notes its run here, joined to the device's run before it when
//! no number came between them, and a pull steps over the runs of the
//! device asking ([`crate::feed`]).
//!
//! A run stays true: changes are never numbered again, a purge takes a
//! number of its own (never inside a run) and only deletes rows. Each
//! device keeps its [`RUNS_PER_DEVICE`] newest runs; a pull past older ones
//! looks through them as before.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::Error;

/// Runs kept for each device: a phone that syncs after every few pushes
/// needs one or two.
pub const RUNS_PER_DEVICE: i64 = 16;

/// Numbers `first..=last`, all given to one device's changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The first number of the run.
    pub first: i64,
    /// The last number of the run.
    pub last: i64,
}

/// Notes that the changes numbered `first..=last` are all `device`'s.
pub fn note(tx: &Transaction<'_>, device: u64, run: Run) -> Result<(), Error> {
    if run.last < run.first {
        return Ok(());
    }
    let device = device as i64;
    let newest: Option<(i64, i64)> = tx
        .prepare_cached(
            "SELECT first_seq, last_seq FROM own_runs WHERE device_id = ?1
             ORDER BY first_seq DESC LIMIT 1",
        )?
        .query_row(params![device], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match newest {
        Some((first, last)) if last.checked_add(1) == Some(run.first) => {
            tx.prepare_cached(
                "UPDATE own_runs SET last_seq = ?3 WHERE device_id = ?1 AND first_seq = ?2",
            )?
            .execute(params![device, first, run.last])?;
        }
        _ => {
            tx.prepare_cached(
                "INSERT INTO own_runs (device_id, first_seq, last_seq) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![device, run.first, run.last])?;
            tx.prepare_cached(
                "DELETE FROM own_runs WHERE device_id = ?1 AND first_seq <
                 (SELECT first_seq FROM own_runs WHERE device_id = ?1
                  ORDER BY first_seq DESC LIMIT 1 OFFSET ?2)",
            )?
            .execute(params![device, RUNS_PER_DEVICE - 1])?;
        }
    }
    Ok(())
}

/// The runs of `device` with numbers in `after + 1..=through`, in order.
pub fn within(
    tx: &Transaction<'_>,
    device: u64,
    after: i64,
    through: i64,
) -> Result<Vec<Run>, Error> {
    let mut stmt = tx.prepare_cached(
        "SELECT first_seq, last_seq FROM own_runs
         WHERE device_id = ?1 AND last_seq > ?2 AND first_seq <= ?3
         ORDER BY first_seq",
    )?;
    let runs = stmt
        .query_map(params![device as i64, after, through], |r| {
            Ok(Run {
                first: r.get(0)?,
                last: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn runs_of(db: &Db, device: u64) -> Vec<(i64, i64)> {
        db.read(|tx| within(tx, device, 0, i64::MAX))
            .expect("runs")
            .into_iter()
            .map(|r| (r.first, r.last))
            .collect()
    }

    #[test]
    fn a_run_joins_the_one_before_it_only_when_no_number_came_between() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(dir.path()).expect("open");
        let push = |device, first, last| {
            db.write(|tx| note(tx, device, Run { first, last }))
                .expect("note")
        };
        push(1, 1, 10);
        push(1, 11, 20);
        push(2, 21, 25);
        push(1, 26, 30);
        assert_eq!(runs_of(&db, 1), [(1, 20), (26, 30)]);
        assert_eq!(runs_of(&db, 2), [(21, 25)]);
    }

    #[test]
    fn a_device_keeps_only_its_newest_runs() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(dir.path()).expect("open");
        let n = RUNS_PER_DEVICE + 5;
        for i in 0..n {
            // A number left between each run and the next: none joins.
            db.write(|tx| {
                note(
                    tx,
                    1,
                    Run {
                        first: i * 10 + 1,
                        last: i * 10 + 5,
                    },
                )
            })
            .expect("note");
        }
        let kept = runs_of(&db, 1);
        assert_eq!(kept.len() as i64, RUNS_PER_DEVICE);
        assert_eq!(kept.first(), Some(&(50 + 1, 50 + 5)), "the oldest go first");
        assert_eq!(kept.last(), Some(&((n - 1) * 10 + 1, (n - 1) * 10 + 5)));
    }
}
