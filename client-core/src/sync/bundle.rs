//! Sync by file, for a place with no link: the device exports a bundle of
//! what a push and a pull call would send ([`export`]), the township imports
//! it and answers with a reply bundle, and the device imports the reply
//! ([`import_reply`]) as it takes in a push's answers and a pull's messages.
//!
//! The same code as a sync makes and takes the messages: the push messages
//! come from the outbox through [`engine::start_push`]; the reply's answers
//! are recorded by [`PushAcks::record`] and its pull messages applied by
//! [`PullSession`]. The bundle's layout and authentication are
//! [`massline_model::bundle`]'s.
//!
//! The device keeps the last bundle it exported (its nonce and the changes
//! of each message, `bundle_export`): a reply is taken only for it, so a
//! reply to an older bundle, or made for another device, is refused before
//! anything changes. Importing a reply twice is harmless: the acknowledged
//! changes are gone already, and pulled changes the device holds are skipped.

use std::collections::BTreeSet;
use std::sync::Arc;

use automerge::ChangeHash;
use massline_model::bundle::{
    self, BundleError, BundleReply, BundleRequest, Direction, Expect, Header, MAX_BUNDLE_BYTES,
    Seal, SigningKey,
};
use rusqlite::{OptionalExtension, params};

use super::engine::{self, PullSession, PullStep, PushAcks, SyncOptions};
use super::sizes::Adaptive;
use crate::error::Error;
use crate::ids::DocId;
use crate::protocol::{PullRequest, Seq, person_digest, scopes_digest};
use crate::store::{Db, cursors, identity};

/// Most bytes of changes (uncompressed) one bundle carries: what is left
/// waits for the next. Below [`MAX_BUNDLE_BYTES`] by two push messages, so
/// the packed bundle fits however little its changes compress.
pub const BUNDLE_CHANGE_BYTES: usize = MAX_BUNDLE_BYTES - 2 * BUNDLE_MESSAGE_BYTES;

/// Uncompressed bytes of changes per push message in a bundle.
pub const BUNDLE_MESSAGE_BYTES: usize = 256 << 10;

/// zstd level of a bundle: bytes cost more than CPU where there is no link.
pub const BUNDLE_COMPRESSION_LEVEL: i32 = 19;

/// What an export made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    /// The bundle.
    pub bytes: Vec<u8>,
    /// Changes of this device it carries.
    pub changes: u64,
}

/// What importing a reply did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Local changes the server stored.
    pub pushed: u64,
    /// Local changes the server refused (kept in the outbox with the reason).
    pub refused: u64,
    /// Changes received.
    pub pulled: u64,
    /// Records the pulled changes changed on this device, each once.
    pub changed: Vec<DocId>,
    /// Where the device now stands in the server's numbering of changes.
    pub through: Seq,
    /// Whether the reply held all the device would have pulled; when not,
    /// another bundle brings the rest.
    pub complete: bool,
}

/// The key this device's reply bundles are authenticated with (and its
/// requests, when it has no signing key).
fn key_of(me: &identity::Identity) -> [u8; 32] {
    bundle::device_key(&bundle::token_hash(&me.device_token))
}

/// Makes a bundle of the outbox's unacknowledged changes (up to
/// [`BUNDLE_CHANGE_BYTES`]) and of the pull the device would ask for, and
/// remembers it, so its reply can be taken.
pub fn export(db: &Arc<Db>, now: i64) -> Result<Exported, Error> {
    let opts = SyncOptions {
        compression_level: BUNDLE_COMPRESSION_LEVEL,
        push_call_bytes: BUNDLE_CHANGE_BYTES,
        ..SyncOptions::default()
    };
    let size = Arc::new(Adaptive::new(None, BUNDLE_MESSAGE_BYTES));
    let (push, messages) = match engine::start_push(db, &opts, size)? {
        Some((frames, mut acks)) => {
            let push: Vec<_> = frames.collect();
            (push, acks.take_messages())
        }
        None => (Vec::new(), Vec::new()),
    };
    let (me, signing, server, known) = db.read(|tx| {
        let me = identity::load(tx)?.ok_or(Error::NotEnrolled)?;
        Ok::<_, Error>((
            me,
            identity::bundle_signing_key(tx)?,
            identity::server_seen(tx)?,
            cursors::all(tx)?,
        ))
    })?;
    // Every cursor listed, none left to a common value: the server answers
    // a device whose scopes changed at once, with the scopes it knew at
    // their cursors and the new ones from the start, as the device will set them.
    let pull = PullRequest {
        common: 0,
        scopes_digest: scopes_digest(known.keys().map(String::as_str)),
        cursors: known.into_iter().collect(),
        compression: BUNDLE_COMPRESSION_LEVEL as u32,
        server,
        message_bytes: 0,
        dictionary: opts.dictionary.number(),
        person_digest: person_digest(&me.principal),
    };
    let request = BundleRequest { push, pull };
    let header = Header {
        direction: Direction::Request,
        device: me.device_id,
        server: server.unwrap_or_default(),
        nonce: rand::random(),
    };
    let body = massline_proto::bundle::encode_request(&request);
    let bytes = match signing {
        Some(pkcs8) => {
            let key = SigningKey::from_pkcs8(&pkcs8)?;
            bundle::seal(&header, &body, Seal::Signature(&key))?
        }
        None => bundle::seal(&header, &body, Seal::SharedKey(&key_of(&me)))?,
    };
    let changes = messages.iter().map(|m| m.len() as u64).sum();
    db.write(|tx| {
        tx.execute(
            "INSERT INTO bundle_export (id, nonce, messages, created_at) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET nonce = ?1, messages = ?2, created_at = ?3",
            params![&header.nonce[..], encode_messages(&messages), now],
        )?;
        Ok(())
    })?;
    Ok(Exported { bytes, changes })
}

fn encode_messages(messages: &[Vec<(i64, ChangeHash)>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend_from_slice(&(m.len() as u32).to_le_bytes());
        for (id, hash) in m {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&hash.0);
        }
    }
    out
}

fn decode_messages(mut bytes: &[u8]) -> Result<Vec<Vec<(i64, ChangeHash)>>, Error> {
    let damaged = || Error::Storage("the last exported bundle's record is damaged".into());
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (n, rest) = bytes.split_first_chunk::<4>().ok_or_else(damaged)?;
        let n = u32::from_le_bytes(*n) as usize;
        if rest.len() < n.saturating_mul(40) {
            return Err(damaged());
        }
        let (changes, rest) = rest.split_at(n * 40);
        out.push(
            changes
                .chunks_exact(40)
                .map(|c| {
                    let (id, hash) = c.split_at(8);
                    let id = i64::from_le_bytes(id.try_into().unwrap_or_default());
                    (id, ChangeHash(hash.try_into().unwrap_or_default()))
                })
                .collect(),
        );
        bytes = rest;
    }
    Ok(out)
}

/// Takes in a reply bundle: the answers to the last exported bundle's push
/// messages (stored changes leave the outbox, refused ones are marked), then
/// its pull messages. A reply that is not for this device's last bundle, or
/// whose bytes were changed, is refused before anything changes.
pub fn import_reply(db: &Db, bytes: &[u8], now: i64) -> Result<Imported, Error> {
    let opened = bundle::open(bytes, Direction::Reply)?;
    let (me, seen, sent) = db.read(|tx| {
        let me = identity::load(tx)?.ok_or(Error::NotEnrolled)?;
        let sent: Option<(Vec<u8>, Vec<u8>)> = tx
            .query_row(
                "SELECT nonce, messages FROM bundle_export WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok::<_, Error>((me, identity::server_seen(tx)?, sent))
    })?;
    if opened.header.device != me.device_id {
        return Err(BundleError::ForAnotherDevice {
            bundle: opened.header.device,
            this: me.device_id,
        }
        .into());
    }
    let body = opened.verify(&Expect::SharedKey(key_of(&me)))?;
    let (nonce, messages) = sent.ok_or(BundleError::NothingExported)?;
    if nonce != opened.header.nonce {
        return Err(BundleError::AnswersAnotherBundle.into());
    }
    let reply: BundleReply = massline_proto::bundle::decode_reply(body)?;
    // A server restored from a backup has a new identity, and says so with a
    // reset; any other change of server is not the device's server.
    let reset = reply.pull.first().is_some_and(|b| b.reset);
    if seen.is_some_and(|s| s != opened.header.server) && !reset {
        return Err(BundleError::FromAnotherServer.into());
    }
    let messages = decode_messages(&messages)?;
    if reply.push.len() != messages.len() {
        return Err(Error::Protocol(
            format!(
                "the reply answers {} push messages of the bundle's {}",
                reply.push.len(),
                messages.len()
            )
            .into(),
        ));
    }
    let mut acks = PushAcks::resume(messages);
    for ack in reply.push {
        acks.record(db, ack)?;
    }
    PushAcks::leave(db)?;
    let mut imported = Imported {
        pushed: acks.accepted,
        refused: acks.refused,
        ..Imported::default()
    };
    let mut changed = BTreeSet::new();
    let mut session = PullSession::new();
    // One session per answer: its messages are one packed stream. A scope
    // list or a reset ends an answer, and the next starts anew.
    for batch in reply.pull {
        let before = session.received;
        let step = session.apply(db, batch, now)?;
        imported.pulled += session.received - before;
        match step {
            PullStep::More => {}
            PullStep::AskAgain => {
                changed.append(&mut session.changed);
                session = PullSession::new();
            }
            PullStep::Done { through } => {
                imported.through = Seq(through);
                imported.complete = true;
            }
        }
    }
    changed.append(&mut session.changed);
    if !imported.complete {
        let through =
            db.read(|tx| Ok::<_, Error>(cursors::all(tx)?.values().copied().min().unwrap_or(0)))?;
        imported.through = Seq(through);
    }
    imported.changed = changed.into_iter().collect();
    Ok(imported)
}
