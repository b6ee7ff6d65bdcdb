//! Sync bundles: a push and a pull carried as a file, for places with no
//! link (a chat attachment, a USB stick).
//!
//! A bundle is a small header, a body and a tag:
//!
//! ```text
//! magic "MLBNDL" · format u8 · direction u8 · device u64 · server [16] ·
//! nonce [16] · body length u32 · body · tag
//! ```
//!
//! (integers little-endian). The body is opaque here: the `massline.v1`
//! `BundleRequest` or `BundleReply`, converted by `massline_proto::bundle`.
//! The tag covers everything before it. A device's request is signed with
//! its own Ed25519 key ([`SigningKey`], format 2, a 64-byte signature): the
//! phone made the key at enrollment and the server keeps only its public
//! half, so not even a reader of the server's database can make a bundle in
//! a device's name. A reply, and the request of a device enrolled before
//! devices had signing keys, is tagged with HMAC-SHA256 under the device's
//! [`device_key`] (format 1, 32 bytes): the phone derives it from the token
//! it holds, the server from the hash of that token it keeps. A reply
//! carries the request's nonce and the device's number under that key, so a
//! reply made for another device or another request is refused.
//!
//! Every length is checked against [`MAX_BUNDLE_BYTES`] before anything is
//! allocated, and nothing of a bundle is believed before its tag is checked.

use std::io::Read;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};

use crate::protocol::{PullBatch, PullRequest, PushAck, PushFrame, ServerId};

/// The first bytes of every bundle.
pub const MAGIC: &[u8; 6] = b"MLBNDL";

/// The format of a bundle tagged with HMAC-SHA256 under the device's
/// [`device_key`]: every reply, and the requests of devices enrolled before
/// devices had signing keys.
pub const FORMAT_SHARED_KEY: u8 = 1;

/// The format of a request signed with the device's own [`SigningKey`].
pub const FORMAT_SIGNED: u8 = 2;

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

/// Bytes of a format 1 tag (HMAC-SHA256).
pub const TAG_BYTES: usize = 32;

/// Bytes of a format 2 tag (an Ed25519 signature).
pub const SIGNATURE_BYTES: usize = 64;

/// Bytes of an Ed25519 public key, as enrollment carries it.
pub const PUBLIC_KEY_BYTES: usize = 32;

/// Bytes of the tag of a bundle of `format`, `None` for a format this
/// version does not read.
fn tag_bytes(format: u8) -> Option<usize> {
    match format {
        FORMAT_SHARED_KEY => Some(TAG_BYTES),
        FORMAT_SIGNED => Some(SIGNATURE_BYTES),
        _ => None,
    }
}

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
    #[error(
        "bundle format {0}, this version reads formats {FORMAT_SHARED_KEY} and {FORMAT_SIGNED}"
    )]
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
    /// A request not signed, from a device that signs its bundles: made
    /// with the key a reader of the server's database could derive.
    #[error(
        "device {0} signs its bundles with its own key, and this one is not signed: it was not \
         made by that device"
    )]
    NotSigned(u64),
    /// A signing key that does not read (a damaged store), or one that
    /// could not be made.
    #[error("the device's bundle signing key: {0}")]
    SigningKey(String),
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

/// A device's own key for signing its request bundles (Ed25519). The phone
/// makes it at enrollment and keeps it in its store; the server is given
/// its public half only.
pub struct SigningKey(Ed25519KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({:?})", self.public_key())
    }
}

impl SigningKey {
    /// Makes a new key; returns it as the PKCS#8 document to store.
    pub fn generate() -> Result<Vec<u8>, BundleError> {
        Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|e| BundleError::SigningKey(format!("cannot be made: {e}")))
    }

    /// The key stored as `pkcs8` (what [`SigningKey::generate`] gave).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SigningKey, BundleError> {
        Ed25519KeyPair::from_pkcs8(pkcs8)
            .map(SigningKey)
            .map_err(|e| BundleError::SigningKey(format!("does not read: {e}")))
    }

    /// The public half, for the server.
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_BYTES] {
        let mut out = [0; PUBLIC_KEY_BYTES];
        out.copy_from_slice(self.0.public_key().as_ref());
        out
    }
}

/// What a bundle is sealed with.
#[derive(Clone, Copy, Debug)]
pub enum Seal<'a> {
    /// HMAC-SHA256 under the device's [`device_key`] (format 1).
    SharedKey(&'a [u8; 32]),
    /// The device's own signature (format 2).
    Signature(&'a SigningKey),
}

/// What a bundle must be sealed with for its reader to take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// HMAC-SHA256 under this [`device_key`] (format 1).
    SharedKey([u8; 32]),
    /// A signature by the holder of this Ed25519 public key (format 2).
    Signature([u8; PUBLIC_KEY_BYTES]),
}

/// Seals `body` into a bundle with `seal`.
pub fn seal(header: &Header, body: &[u8], seal: Seal<'_>) -> Result<Vec<u8>, BundleError> {
    let (format, tag_len) = match seal {
        Seal::SharedKey(_) => (FORMAT_SHARED_KEY, TAG_BYTES),
        Seal::Signature(_) => (FORMAT_SIGNED, SIGNATURE_BYTES),
    };
    let total = HEADER_BYTES + body.len() + tag_len;
    if total > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(total as u64));
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.push(format);
    out.push(header.direction as u8);
    out.extend_from_slice(&header.device.to_le_bytes());
    out.extend_from_slice(&header.server);
    out.extend_from_slice(&header.nonce);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    match seal {
        Seal::SharedKey(key) => {
            let tag = hmac(key, &out);
            out.extend_from_slice(&tag);
        }
        Seal::Signature(key) => {
            let signature = key.0.sign(&out);
            out.extend_from_slice(signature.as_ref());
        }
    }
    Ok(out)
}

/// A bundle whose layout reads, not yet authenticated.
#[derive(Debug)]
pub struct Opened<'a> {
    /// Its header, as the file says (not to be believed before [`Opened::verify`]).
    pub header: Header,
    format: u8,
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
    let format = head[6];
    let tag_len = tag_bytes(format).ok_or(BundleError::Format(format))?;
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
        .saturating_add(tag_len);
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
        format,
        signed: &bytes[..HEADER_BYTES + body_len],
        body,
        tag,
    })
}

impl<'a> Opened<'a> {
    /// The body, once the tag is what `expect` asks of the device the
    /// header names: a signature where the device signs, or the tag under
    /// its shared key.
    pub fn verify(&self, expect: &Expect) -> Result<&'a [u8], BundleError> {
        let device = self.header.device;
        let good = match (expect, self.format) {
            (Expect::SharedKey(key), FORMAT_SHARED_KEY) => {
                let want = hmac(key, self.signed);
                // Compared in constant time: a tag is not to be guessed byte by byte.
                let diff = want
                    .iter()
                    .zip(self.tag)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b));
                diff == 0 && self.tag.len() == TAG_BYTES
            }
            (Expect::Signature(public), FORMAT_SIGNED) => UnparsedPublicKey::new(&ED25519, public)
                .verify(self.signed, self.tag)
                .is_ok(),
            (Expect::Signature(_), _) => return Err(BundleError::NotSigned(device)),
            (Expect::SharedKey(_), _) => false,
        };
        if good {
            Ok(self.body)
        } else {
            Err(BundleError::BadTag(device))
        }
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

    /// Every byte of `sealed` flipped, and every prefix, is refused.
    fn every_change_refused(sealed: &[u8], expect: &Expect) {
        for i in 0..sealed.len() {
            let mut bad = sealed.to_vec();
            bad[i] ^= 1;
            let refused = open(&bad, Direction::Request).and_then(|o| o.verify(expect).map(|_| ()));
            assert!(refused.is_err(), "byte {i} flipped and still taken");
        }
        for n in 0..sealed.len() {
            assert!(open(&sealed[..n], Direction::Request).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn a_sealed_bundle_opens_and_every_change_to_it_is_refused() {
        let key = device_key(&token_hash("t"));
        let sealed = seal(&header(), b"body", Seal::SharedKey(&key)).unwrap();
        let opened = open(&sealed, Direction::Request).unwrap();
        assert_eq!(opened.header, header());
        assert_eq!(opened.verify(&Expect::SharedKey(key)).unwrap(), b"body");
        every_change_refused(&sealed, &Expect::SharedKey(key));
        let other = device_key(&token_hash("u"));
        assert_eq!(
            opened.verify(&Expect::SharedKey(other)),
            Err(BundleError::BadTag(7))
        );
        assert!(matches!(
            open(&sealed, Direction::Reply),
            Err(BundleError::WrongDirection { .. })
        ));
    }

    #[test]
    fn a_signed_bundle_opens_with_its_public_key_only() {
        let pkcs8 = SigningKey::generate().unwrap();
        let key = SigningKey::from_pkcs8(&pkcs8).unwrap();
        let public = key.public_key();
        let sealed = seal(&header(), b"body", Seal::Signature(&key)).unwrap();
        assert_eq!(sealed[6], FORMAT_SIGNED);
        assert_eq!(sealed.len(), HEADER_BYTES + 4 + SIGNATURE_BYTES);
        let opened = open(&sealed, Direction::Request).unwrap();
        assert_eq!(opened.verify(&Expect::Signature(public)).unwrap(), b"body");
        every_change_refused(&sealed, &Expect::Signature(public));
        let other = SigningKey::from_pkcs8(&SigningKey::generate().unwrap()).unwrap();
        assert_eq!(
            opened.verify(&Expect::Signature(other.public_key())),
            Err(BundleError::BadTag(7))
        );
        // Signed where a shared key is expected (a reply), refused.
        assert_eq!(
            opened.verify(&Expect::SharedKey(device_key(&token_hash("t")))),
            Err(BundleError::BadTag(7))
        );
    }

    #[test]
    fn a_device_that_signs_has_bundles_made_with_its_shared_key_refused() {
        let public = SigningKey::from_pkcs8(&SigningKey::generate().unwrap())
            .unwrap()
            .public_key();
        // What a reader of the server's database can make: the shared key
        // derives from the token hash the server keeps.
        let forged = seal(
            &header(),
            b"body",
            Seal::SharedKey(&device_key(&token_hash("t"))),
        )
        .unwrap();
        let opened = open(&forged, Direction::Request).unwrap();
        assert_eq!(
            opened.verify(&Expect::Signature(public)),
            Err(BundleError::NotSigned(7))
        );
    }

    #[test]
    fn a_damaged_signing_key_is_refused_by_name() {
        assert!(matches!(
            SigningKey::from_pkcs8(b"not a key"),
            Err(BundleError::SigningKey(_))
        ));
    }

    #[test]
    fn a_declared_length_past_the_limit_is_refused_before_reading() {
        let key = device_key(&token_hash("t"));
        let mut sealed = seal(&header(), b"", Seal::SharedKey(&key)).unwrap();
        sealed[HEADER_BYTES - 4..HEADER_BYTES].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            open(&sealed, Direction::Request),
            Err(BundleError::TooLarge(_))
        ));
    }
}
