//! Where the device stands in each scope it may read.

use std::collections::BTreeMap;

use rusqlite::{Transaction, params};

use super::documents;
use crate::access::Scope;
use crate::error::Error;
use crate::protocol::Seq;

/// Every known scope and its cursor.
pub fn all(tx: &Transaction<'_>) -> Result<BTreeMap<String, u64>, Error> {
    let mut stmt = tx.prepare_cached("SELECT scope, seq FROM cursors")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every known scope this version reads, and its cursor. (Scopes are kept
/// as the server names them, so a device asks for every one it was given.)
pub fn known(tx: &Transaction<'_>) -> Result<Vec<(Scope, Seq)>, Error> {
    Ok(all(tx)?
        .into_iter()
        .filter_map(|(s, seq)| Some((Scope::parse(&s).ok()?, Seq(seq))))
        .collect())
}

/// Makes the known scopes exactly `scopes`: new ones start at 0; ones no
/// longer readable (a person given another role or village) are forgotten,
/// and with them their records ([`documents::forget_scope`]).
pub fn set_scopes(tx: &Transaction<'_>, scopes: &[String]) -> Result<(), Error> {
    let known = all(tx)?;
    for s in known.keys() {
        if !scopes.contains(s) {
            tx.execute("DELETE FROM cursors WHERE scope = ?1", params![s])?;
            documents::forget_scope(tx, s)?;
        }
    }
    for s in scopes {
        tx.execute(
            "INSERT OR IGNORE INTO cursors (scope, seq) VALUES (?1, 0)",
            params![s],
        )?;
    }
    Ok(())
}

/// Moves every cursor up to `through`: everything up to it has been received.
pub fn advance_all(tx: &Transaction<'_>, through: u64) -> Result<(), Error> {
    tx.prepare_cached("UPDATE cursors SET seq = ?1 WHERE seq < ?1")?
        .execute(params![through as i64])?;
    Ok(())
}

/// Lowers every cursor above `to` to it: the server no longer holds what
/// came after (it was restored from a backup).
pub fn lower_all(tx: &Transaction<'_>, to: u64) -> Result<(), Error> {
    tx.prepare_cached("UPDATE cursors SET seq = ?1 WHERE seq > ?1")?
        .execute(params![to as i64])?;
    Ok(())
}
