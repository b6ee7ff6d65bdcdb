//! Taking in a device's sync bundle (`admin bundle import`), for a place with
//! no link, and making the reply bundle.
//!
//! A bundle is what a push call and a pull call would carry
//! ([`massline_model::bundle`]); it goes through the very code those calls
//! do: each push message is unpacked and handed to [`ingest::ingest`] (the
//! same limits, the same refusals naming record and field), and the pull is
//! answered by [`feed::start`]. Nothing of a bundle is read before its tag
//! is checked against the device its header names (its signature, for a
//! device that enrolled with a signing key), so a bundle changed on the
//! way, or passed off as another device's, changes nothing; a revoked
//! device's is refused. Importing the same bundle twice stores nothing twice
//! (the intake takes a change it holds as accepted) and answers the same;
//! the bundle's nonce is kept (`bundle_imports`), so the second import is
//! said to be one.
//!
//! Taken in from the dashboard ([`import_charged`]), a bundle's push
//! messages count against its device's push quota as a push call's do
//! ([`crate::limits`]), charged once its tag is checked and before any of it
//! is stored: a bundle over the quota is refused whole.

use massline_model::bundle::{
    self, BundleError, BundleReply, Direction, Expect, Header, MAX_BUNDLE_BYTES, Seal,
};
use massline_model::packing::Unpacker;
use massline_model::protocol::{PullBatch, PullRequest, scopes_digest};
use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::Error;
use crate::feed::{self, FeedOptions};
use crate::limits::LimitError;
use crate::{ingest, registry, rows};

/// Bytes kept free in a reply for its header, tag and protobuf framing.
pub const REPLY_MARGIN_BYTES: usize = 64 << 10;

/// What importing a bundle did.
#[derive(Debug)]
pub struct Imported {
    /// The reply bundle, for the device.
    pub reply: Vec<u8>,
    /// The device it came from.
    pub device: u64,
    /// Its changes stored (including ones the server already had).
    pub accepted: u64,
    /// Its changes refused.
    pub refused: u64,
    /// Why each refused change was refused (naming record and field).
    pub reasons: Vec<String>,
    /// The device's person: id and name.
    pub person: (String, String),
    /// When the same bundle was first taken in (Unix seconds), if it was before.
    pub imported_before: Option<i64>,
    /// Changes of others the reply carries.
    pub pulled: u64,
    /// Whether the reply carries all the device would have pulled.
    pub complete: bool,
}

/// Takes in the request bundle `bytes` (at most [`MAX_BUNDLE_BYTES`]) as a
/// push and a pull from its device, and makes the reply.
pub fn import(db: &Db, bytes: &[u8], now: i64) -> Result<Imported, Error> {
    import_charged(db, bytes, now, |_, _| Ok(()))
}

/// [`import`], first charging `charge` with the device and the bytes of the
/// bundle's push messages (as a push call charges each message's), once the
/// bundle's tag is checked; a refused charge refuses the bundle whole.
pub fn import_charged(
    db: &Db,
    bytes: &[u8],
    now: i64,
    charge: impl FnOnce(u64, u64) -> Result<(), LimitError>,
) -> Result<Imported, Error> {
    let opened = bundle::open(bytes, Direction::Request)?;
    let id = opened.header.device;
    let keys = db
        .read(|tx| registry::bundle_keys(tx, id))?
        .ok_or(BundleError::UnknownDevice(id))?;
    let key = bundle::device_key(&keys.token_hash);
    let body = opened.verify(&match keys.public_key {
        Some(public) => Expect::Signature(public),
        None => Expect::SharedKey(key),
    })?;
    if keys.revoked {
        return Err(BundleError::Revoked(id).into());
    }
    let request = massline_proto::bundle::decode_request(body)?;
    let device = db
        .read(|tx| registry::device(tx, id))?
        .ok_or(BundleError::Revoked(id))?;
    let pushed: u64 = request.push.iter().map(|m| m.frame.len() as u64).sum();
    charge(id, pushed).map_err(|e| Error::Invalid(format!("bundle refused: {e}")))?;
    let nonce = opened.header.nonce;
    let imported_before: Option<i64> = db.read(|tx| {
        tx.query_row(
            "SELECT imported_at FROM bundle_imports WHERE device_id = ?1 AND nonce = ?2",
            params![id as i64, &nonce[..]],
            |r| r.get(0),
        )
        .optional()
    })?;
    let mut reply = BundleReply::default();
    let (mut accepted, mut refused) = (0, 0);
    let mut reasons = Vec::new();
    // One packed stream, message after message, as a push call's, with the
    // dictionary its first message names.
    let dictionary = request.push.first().map_or(0, |m| m.dictionary);
    let mut unpacker = Unpacker::for_number(dictionary)
        .map_err(|e| Error::Invalid(format!("push messages of the bundle: {e}")))?;
    for message in &request.push {
        let entries = unpacker
            .unpack(&message.frame, message.changes)
            .map_err(|e| Error::Invalid(format!("push message of the bundle: {e}")))?;
        let ack = ingest::ingest(db, &device, entries, now)?;
        crate::metrics::answered(&ack);
        accepted += u64::from(ack.accepted);
        refused += ack.refused.len() as u64;
        reasons.extend(ack.refused.iter().map(|r| r.reason.clone()));
        reply.push.push(ack);
    }
    // The typed rows follow at once (a running server's follower would
    // only when next poked).
    db.write(|tx| {
        tx.execute(
            "INSERT OR IGNORE INTO bundle_imports (device_id, nonce, imported_at) VALUES (?1, ?2, ?3)",
            params![id as i64, &nonce[..], now],
        )?;
        rows::catch_up(tx)
    })?;
    let answers = massline_proto::bundle::encode_reply(&reply).len();
    let budget = MAX_BUNDLE_BYTES.saturating_sub(answers + REPLY_MARGIN_BYTES);
    let (pull, pulled, complete) = pull(db, &device, request.pull, budget)?;
    reply.pull = pull;
    let own = db.read(registry::server_id)?;
    let header = Header {
        direction: Direction::Reply,
        device: id,
        server: own,
        nonce: opened.header.nonce,
    };
    let body = massline_proto::bundle::encode_reply(&reply);
    Ok(Imported {
        reply: bundle::seal(&header, &body, Seal::SharedKey(&key))?,
        device: id,
        accepted,
        refused,
        reasons,
        person: (device.principal.person.to_string(), device.name.clone()),
        imported_before,
        pulled,
        complete,
    })
}

/// The pull's messages, up to `budget` bytes of frames and
/// [`bundle::MAX_BUNDLE_PULL_MESSAGES`]: when the device's scopes are out of
/// date, the scope list, then the answer the device's next request would get
/// (the scopes it knew at their cursors, new ones from the start). Returns
/// the messages, the changes they hold and whether they are the whole answer.
fn pull(
    db: &Db,
    device: &registry::Device,
    mut req: PullRequest,
    budget: usize,
) -> Result<(Vec<PullBatch>, u64, bool), Error> {
    let opts = FeedOptions {
        compression_level: req.compression.clamp(1, 19) as i32,
        ..FeedOptions::default()
    };
    let mut out: Vec<PullBatch> = Vec::new();
    let (mut bytes, mut pulled) = (0, 0);
    for _round in 0..2 {
        let mut answer = feed::start(db, device, &req, &opts)?;
        while let Some(batch) = answer.next_message(db)? {
            bytes += batch.frame.len();
            if bytes > budget || out.len() == bundle::MAX_BUNDLE_PULL_MESSAGES {
                return Ok((out, pulled, false));
            }
            pulled += u64::from(batch.entries);
            let scopes = (!batch.scopes.is_empty()).then(|| batch.scopes.clone());
            out.push(batch);
            if let Some(scopes) = scopes {
                req.cursors.retain(|(s, _)| scopes.contains(s));
                req.common = 0;
                req.scopes_digest = scopes_digest(scopes.iter().map(String::as_str));
                break;
            }
            if out.last().is_some_and(|b| b.done) {
                return Ok((out, pulled, true));
            }
        }
    }
    Ok((out, pulled, false))
}
