//! Sync bundles: a push and a pull carried as a file, for places with no
//! link (a chat attachment, a USB stick).
//!
//! A bundle is a small header, a body and a tag:
//!
//! ```text
//! magic "MLBNDL" · format u8 · direction u8 · device u64 · server [16] ·
//! nonce [16] · body length u32 · body · HMAC-SHA256 tag [32]
//! ```
//!
//! (integers little-endian). The body is opaque here: the `massline.v1`
//! `BundleRequest` or `BundleReply`, converted by `massline_proto::bundle`.
//! The tag covers everything before it and is keyed by the device's
//! [`device_key`]: the phone derives it from the token it holds, the server
//! from the hash of that token it keeps, so neither stores anything new. A
//! reply carries the request's nonce and the device's number under the same
//! key, so a reply made for another device or another request is refused.
//!
//! Every length is checked against [`MAX_BUNDLE_BYTES`] before anything is
//! allocated, and nothing of a bundle is believed before its tag is checked.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::protocol::{PullBatch, PullRequest, PushAck, PushFrame, ServerId};

/// The first bytes of every bundle.
pub const MAGIC: &[u8; 6] = b"MLBNDL";

/// The format this code writes and reads.
pub const FORMAT: u8 = 1;

/// Largest bundle file either side writes or reads, header and tag
/// included: small enough to send as a chat attachment, and what a reader
/// allocates at most. A larger file is refused before it is read.
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;

/// Most push messages one bundle may carry: a full bundle of the device's
/// 256 KiB messages is 64.
pub const MAX_BUNDLE_PUSH_MESSAGES: usize = 256;

/// Most pull messages one reply may carry.
pub const MAX_BUNDLE_PULL_MESSAGES: usize = 256;

/// Bytes of the header: magic, format, direction, device, server, nonce,
/// body length.
pub const HEADER_BYTES: usize = 6 + 1 + 1 + 8 + 16 + 16 + 4;

/// Bytes of the tag (HMAC-SHA256).
pub const TAG_BYTES: usize = 32;

/// Which way a bundle goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From a device to the township: its changes and its pull request.
    Request = 1,
    /// From the township to a device: the answers and what it would have pulled.
    Reply = 2,
}

/// A bundle's header, as read (and, once [`Opened::verify`] passed, trusted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Which way it goes.
    pub direction: Direction,
    /// The server's number of the device it is from, or for.
    pub device: u64,
    /// A request: the server identity the device's cursors came from (zero
    /// when it has none yet). A reply: the identity of the server that made it.
    pub server: ServerId,
    /// A request: random, made at export. A reply: the nonce of the request
    /// it answers.
    pub nonce: [u8; 16],
}

/// What a device sends: its push messages and its pull request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleRequest {
    /// Push messages, one packed stream, as a push call sends them.
    pub push: Vec<PushFrame>,
    /// What the device would ask a pull for; every cursor listed.
    pub pull: PullRequest,
}

/// What the township answers: one answer per push message, and the pull.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleReply {
    /// The answer to each push message of the request, in order.
    pub push: Vec<PushAck>,
    /// The pull's messages, as a pull call streams them (a scope list first
    /// when the device's scopes were out of date, then the changes).
    pub pull: Vec<PullBatch>,
}

/// Why a bundle is refused. Nothing is changed by a refused bundle.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The file is larger than any bundle may be.
    #[error("the file is {0} bytes, more than a bundle's {MAX_BUNDLE_BYTES}")]
    TooLarge(u64),
    /// The file does not start like a bundle.
    #[error("not a massline bundle (it does not start with {MAGIC:?})")]
    NotABundle,
    /// A bundle of a format this version does not read.
    #[error("bundle format {0}, this version reads format {FORMAT}")]
    Format(u8),
    /// The direction byte is neither request nor reply.
    #[error("bundle direction {0} is neither a request (1) nor a reply (2)")]
    BadDirection(u8),
    /// A request where a reply is wanted, or the reverse.
    #[error("this is a {found}, and a {wanted} was expected")]
    WrongDirection {
        /// What the file is.
        found: &'static str,
        /// What was expected.
        wanted: &'static str,
    },
    /// The file ends before its declared length.
    #[error("the bundle is truncated: {got} bytes of {declared}")]
    Truncated {
        /// Bytes the file has.
        got: usize,
        /// Bytes its header says it has.
        declared: usize,
    },
    /// Bytes after the tag.
    #[error("the bundle has {0} bytes after its end")]
    Trailing(usize),
    /// The tag does not match: the file was changed after it was made, or it
    /// was made with another device's key.
    #[error(
        "the bundle's authentication does not match device {0}: it was changed after it was \
         made, or made by another device"
    )]
    BadTag(u64),
    /// A reply made for another device than this one.
    #[error("this reply is for device {bundle}, and this is device {this}")]
    ForAnotherDevice {
        /// The device the reply names.
        bundle: u64,
        /// This device.
        this: u64,
    },
    /// A reply to a bundle this device did not export last.
    #[error(
        "this reply answers another bundle than the one this device exported last: import the \
         reply to the latest bundle"
    )]
    AnswersAnotherBundle,
    /// A reply, and this device has exported nothing.
    #[error("this device has exported no bundle for a reply to answer")]
    NothingExported,
    /// A reply made by another server than the one the device syncs with.
    #[error("this reply comes from another server than the one this device syncs with")]
    FromAnotherServer,
    /// A request from a device the server does not know.
    #[error("device {0} is not enrolled with this server")]
    UnknownDevice(u64),
    /// A request from a revoked device.
    #[error("device {0} was revoked: its bundles are refused")]
    Revoked(u64),
    /// The bundle could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The body does not read.
    #[error("the bundle's body does not read: {0}")]
    BadBody(String),
    /// The body holds more messages than a bundle may.
    #[error("the bundle holds {found} {what}, more than {most}")]
    TooMany {
        /// Which messages.
        what: &'static str,
        /// How many it holds.
        found: usize,
        /// The limit.
        most: usize,
    },
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Request => "request bundle",
            Direction::Reply => "reply bundle",
        }
    }
}

/// The key a device's bundles are authenticated with, from the SHA-256 of
/// its token: the hash the server keeps ([`token_hash`]) and the phone can
/// compute. The token itself cannot be recovered from it, so the key proves
/// the file came from the holder of the token or from the server; a reader
/// of the server's database could make bundles too, but could as well
/// change the database.
pub fn device_key(token_sha256: &[u8]) -> [u8; 32] {
    hmac(token_sha256, b"massline bundle key v1")
}

/// SHA-256 of a device token, as the server keeps it.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// HMAC-SHA256 (RFC 2104) of `data` under `key`.
fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac_parts(key, &[data])
}

fn hmac_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Reads a bundle from `from` (a file, a stream an app was handed): one
/// whose `length` (a file's, when known) is over [`MAX_BUNDLE_BYTES`] is
/// refused before it is read, and reading stops once the limit is passed,
/// so what is allocated is bounded whatever the source holds.
pub fn read_bounded(from: impl std::io::Read, length: Option<u64>) -> Result<Vec<u8>, BundleError> {
    if let Some(len) = length.filter(|l| *l > MAX_BUNDLE_BYTES as u64) {
        return Err(BundleError::TooLarge(len));
    }
    let mut out = Vec::new();
    from.take(MAX_BUNDLE_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BundleError::Io(format!("reading the bundle: {e}")))?;
    if out.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(out.len() as u64));
    }
    Ok(out)
}

/// Seals `body` into a bundle under `key`.
pub fn seal(header: &Header, body: &[u8], key: &[u8; 32]) -> Result<Vec<u8>, BundleError> {
    let total = HEADER_BYTES + body.len() + TAG_BYTES;
    if total > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(total as u64));
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.push(header.direction as u8);
    out.extend_from_slice(&header.device.to_le_bytes());
    out.extend_from_slice(&header.server);
    out.extend_from_slice(&header.nonce);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    let tag = hmac(key, &out);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// A bundle whose layout reads, not yet authenticated.
#[derive(Debug)]
pub struct Opened<'a> {
    /// Its header, as the file says (not to be believed before [`Opened::verify`]).
    pub header: Header,
    signed: &'a [u8],
    body: &'a [u8],
    tag: &'a [u8],
}

/// Reads a bundle's layout: magic, format, direction, lengths. Nothing is
/// allocated; the body is a slice of `bytes`.
pub fn open(bytes: &[u8], wanted: Direction) -> Result<Opened<'_>, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(bytes.len() as u64));
    }
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(BundleError::NotABundle);
    }
    if bytes.len() < HEADER_BYTES {
        return Err(BundleError::Truncated {
            got: bytes.len(),
            declared: HEADER_BYTES + TAG_BYTES,
        });
    }
    let (head, rest) = bytes.split_at(HEADER_BYTES);
    if head[6] != FORMAT {
        return Err(BundleError::Format(head[6]));
    }
    let direction = match head[7] {
        1 => Direction::Request,
        2 => Direction::Reply,
        d => return Err(BundleError::BadDirection(d)),
    };
    let mut at = 8;
    let mut take = |n: usize| {
        let s = &head[at..at + n];
        at += n;
        s
    };
    let device = u64::from_le_bytes(take(8).try_into().unwrap_or_default());
    let server: ServerId = take(16).try_into().unwrap_or_default();
    let nonce: [u8; 16] = take(16).try_into().unwrap_or_default();
    let body_len = u32::from_le_bytes(take(4).try_into().unwrap_or_default()) as usize;
    let declared = HEADER_BYTES
        .saturating_add(body_len)
        .saturating_add(TAG_BYTES);
    if declared > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(declared as u64));
    }
    if bytes.len() < declared {
        return Err(BundleError::Truncated {
            got: bytes.len(),
            declared,
        });
    }
    if bytes.len() > declared {
        return Err(BundleError::Trailing(bytes.len() - declared));
    }
    if direction != wanted {
        return Err(BundleError::WrongDirection {
            found: direction.name(),
            wanted: wanted.name(),
        });
    }
    let (body, tag) = rest.split_at(body_len);
    Ok(Opened {
        header: Header {
            direction,
            device,
            server,
            nonce,
        },
        signed: &bytes[..HEADER_BYTES + body_len],
        body,
        tag,
    })
}

impl<'a> Opened<'a> {
    /// The body, once the tag matches `key`, the key of the device the
    /// header names.
    pub fn verify(&self, key: &[u8; 32]) -> Result<&'a [u8], BundleError> {
        let want = hmac(key, self.signed);
        // Compared in constant time: a tag is not to be guessed byte by byte.
        let diff = want
            .iter()
            .zip(self.tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 || self.tag.len() != TAG_BYTES {
            return Err(BundleError::BadTag(self.header.device));
        }
        Ok(self.body)
    }
}

impl BundleRequest {
    /// Holds the request's counts to their limits.
    pub fn check(&self) -> Result<(), BundleError> {
        if self.push.len() > MAX_BUNDLE_PUSH_MESSAGES {
            return Err(BundleError::TooMany {
                what: "push messages",
                found: self.push.len(),
                most: MAX_BUNDLE_PUSH_MESSAGES,
            });
        }
        Ok(())
    }
}

impl BundleReply {
    /// Holds the reply's counts to their limits.
    pub fn check(&self) -> Result<(), BundleError> {
        if self.pull.len() > MAX_BUNDLE_PULL_MESSAGES {
            return Err(BundleError::TooMany {
                what: "pull messages",
                found: self.pull.len(),
                most: MAX_BUNDLE_PULL_MESSAGES,
            });
        }
        if self.push.len() > MAX_BUNDLE_PUSH_MESSAGES {
            return Err(BundleError::TooMany {
                what: "push answers",
                found: self.push.len(),
                most: MAX_BUNDLE_PUSH_MESSAGES,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            direction: Direction::Request,
            device: 7,
            server: [1; 16],
            nonce: [2; 16],
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let tag = hmac(b"Jefe", b"what do ya want for nothing?");
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_sealed_bundle_opens_and_every_change_to_it_is_refused() {
        let key = device_key(&token_hash("t"));
        let sealed = seal(&header(), b"body", &key).unwrap();
        let opened = open(&sealed, Direction::Request).unwrap();
        assert_eq!(opened.header, header());
        assert_eq!(opened.verify(&key).unwrap(), b"body");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            let refused = open(&bad, Direction::Request).and_then(|o| o.verify(&key).map(|_| ()));
            assert!(refused.is_err(), "byte {i} flipped and still taken");
        }
        for n in 0..sealed.len() {
            assert!(open(&sealed[..n], Direction::Request).is_err(), "{n} bytes");
        }
        let other = device_key(&token_hash("u"));
        assert_eq!(opened.verify(&other), Err(BundleError::BadTag(7)));
        assert!(matches!(
            open(&sealed, Direction::Reply),
            Err(BundleError::WrongDirection { .. })
        ));
    }

    #[test]
    fn a_declared_length_past_the_limit_is_refused_before_reading() {
        let key = device_key(&token_hash("t"));
        let mut sealed = seal(&header(), b"", &key).unwrap();
        sealed[HEADER_BYTES - 4..HEADER_BYTES].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            open(&sealed, Direction::Request),
            Err(BundleError::TooLarge(_))
        ));
    }
}
