//! How changes travel: packed, then compressed as one stream per call.
//!
//! An Automerge change chunk is `magic(4) checksum(4) type(1) len body`, and
//! its body starts with the hashes of the changes it depends on. Both the
//! checksum and most dependency hashes are redundant on the wire: the checksum
//! is the start of the hash of `type len body`, which the receiver computes
//! anyway, and a dependency is usually a change sent earlier in the same
//! stream. A packed change therefore drops magic, checksum and type, and names
//! each dependency either by a back-reference into the stream or, failing
//! that, by its 32 bytes. The receiver rebuilds the exact original bytes.
//!
//! Entries of one call form a single zstd stream, flushed at the end of every
//! message, so later messages compress against everything sent before, and
//! the first against a [`Dictionary`] when the call names one.
//!
//! Entry forms (after one tag byte):
//! - `1` change: `uleb n`, `n` dependencies (`uleb 0` + 32 bytes, or `uleb k`
//!   for the k-th previous change of the stream), `uleb len`, rest of the body.
//! - `2` document: 16-byte document id, `uleb len`, a saved Automerge document.
//! - `3` raw chunk: `uleb len`, an Automerge chunk as it is. None of ours: a
//!   device sends the changes Automerge made, which are plain change chunks,
//!   and the server sends only what it accepted. The form is kept so that a
//!   chunk that is not a plain change still travels and is refused on its own
//!   (with its checksum and everything else checked, see
//!   [`crate::change_limits`]) rather than failing its whole message.
//!
//! Nothing a message declares sizes an allocation: it decompresses to at most
//! [`MAX_MESSAGE_BYTES`] through a window of at most 2^[`MAX_WINDOW_LOG`]
//! bytes, and holds at most [`MAX_ENTRIES_PER_MESSAGE`] entries, exactly as
//! many as it says. A dictionary changes none of this: it is one of ours,
//! named by number, and the window and output bounds hold with it.

use std::collections::HashMap;

use automerge::ChangeHash;
use sha2::{Digest, Sha256};

use crate::change_limits::{MAX_CHANGE_BYTES, MAX_DEPENDENCIES};
pub use crate::dictionary::{Dictionary, UnknownDictionary};
use crate::ids::DocId;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_CHANGE: u8 = 1;
const TAG_CHANGE: u8 = 1;
const TAG_DOCUMENT: u8 = 2;
const TAG_RAW: u8 = 3;

/// Most bytes one message may decompress to; a larger message is refused.
/// Devices and the server pack messages of about 256 KiB (a message ends
/// with the change that reaches that size, or holds one larger change
/// alone), so a real message is at most 256 KiB plus one change of at most
/// [`MAX_CHANGE_BYTES`]: 1.25 MiB.
pub const MAX_MESSAGE_BYTES: usize = 2 << 20;
const _: () = assert!(MAX_MESSAGE_BYTES >= (256 << 10) + MAX_CHANGE_BYTES);

/// Most entries one message may hold. A packed change is at least some 60
/// bytes (its actor id alone is 16), so a 256 KiB message holds at most
/// about 4,400; the count a message declares is checked against this before
/// anything is read.
pub const MAX_ENTRIES_PER_MESSAGE: u32 = 16_384;

/// How far back in its call's stream a change may name a dependency by
/// back-reference, in entries; one further back is sent as its 32-byte hash.
/// The receiver keeps this many hashes per call (2 MiB), not one for every
/// entry a device ever sends in the call.
pub const MAX_BACK_REFERENCE: u64 = 1 << 16;

/// Largest zstd window (as a power of two) a stream may ask the receiver to
/// keep: 4 MiB. Our streams are told they are at most 1 MiB long, so zstd
/// uses a window of 1 MiB at any level; without a bound, a frame header of a
/// few bytes could make the receiver allocate 128 MiB.
pub const MAX_WINDOW_LOG: u32 = 22;

/// Why packed bytes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackingError {
    /// The zstd stream is corrupt.
    #[error("compressed stream is corrupt: {0}")]
    Compression(#[source] std::io::Error),
    /// The message decompresses to more than [`MAX_MESSAGE_BYTES`].
    #[error("message decompresses to more than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
    /// The message says it holds more than [`MAX_ENTRIES_PER_MESSAGE`] entries.
    #[error("message says it holds {0} entries; at most {MAX_ENTRIES_PER_MESSAGE} are allowed")]
    TooManyEntries(u32),
    /// The entries are cut short or malformed.
    #[error("packed entry {index} is malformed: {why}")]
    Malformed {
        /// Position of the entry in its message.
        index: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// The message holds another number of entries than it says.
    #[error("message says {said} entries but holds {found}")]
    CountMismatch {
        /// The count the message gave.
        said: usize,
        /// The count found (reading stops at one more than said).
        found: usize,
    },
    /// The call names a dictionary this side does not have.
    #[error(transparent)]
    UnknownDictionary(#[from] UnknownDictionary),
}

/// One unpacked entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// An Automerge change, with its hash.
    Change {
        /// The change's hash, computed while rebuilding it.
        hash: ChangeHash,
        /// The change chunk, byte for byte as its author made it.
        bytes: Vec<u8>,
    },
    /// A whole document, saved (used to bootstrap a fresh device).
    Document {
        /// The document.
        doc: DocId,
        /// `Automerge::save` output.
        bytes: Vec<u8>,
    },
}

/// Appends `v` as unsigned LEB128 (as Automerge's chunks and this format
/// write numbers).
#[inline]
pub fn write_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends `v` as signed LEB128 (as Automerge's columns write deltas and
/// integers), in its fewest bytes.
#[inline]
pub fn write_sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0) {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// How many bytes [`write_uleb`] writes `v` in.
pub(crate) fn uleb_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).div_ceil(7).max(1)
}

/// How many bytes [`write_sleb`] writes `v` in.
pub(crate) fn sleb_len(mut v: i64) -> usize {
    let mut len = 1;
    loop {
        let byte = v & 0x7f;
        v >>= 7;
        if (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0) {
            return len;
        }
        len += 1;
    }
}

/// Reads an unsigned LEB128 number at `pos`, moving past it; `None` when the
/// input ends first or the number is longer than 64 bits.
pub fn read_uleb(input: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *input.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn take<'a>(input: &'a [u8], pos: &mut usize, n: usize) -> Option<&'a [u8]> {
    let end = pos.checked_add(n)?;
    let s = input.get(*pos..end)?;
    *pos = end;
    Some(s)
}

/// A change chunk split at its dependencies; `None` if it is not a plain change chunk.
struct SplitChange<'a> {
    deps: Vec<ChangeHash>,
    rest: &'a [u8],
}

fn split_change(bytes: &[u8]) -> Option<SplitChange<'_>> {
    if bytes.get(..4)? != MAGIC || *bytes.get(8)? != CHUNK_CHANGE {
        return None;
    }
    let mut pos = 9;
    let len = usize::try_from(read_uleb(bytes, &mut pos)?).ok()?;
    if bytes.len() - pos != len {
        return None;
    }
    let n = read_uleb(bytes, &mut pos)?;
    let mut deps = Vec::new();
    for _ in 0..n {
        let h: [u8; 32] = take(bytes, &mut pos, 32)?.try_into().ok()?;
        deps.push(ChangeHash(h));
    }
    Some(SplitChange {
        deps,
        rest: &bytes[pos..],
    })
}

/// The changes a plain change chunk depends on, as its header lists them;
/// `None` if it is not a plain change chunk.
pub fn dependencies(chunk: &[u8]) -> Option<Vec<ChangeHash>> {
    split_change(chunk).map(|s| s.deps)
}

/// Packs entries and compresses them as one stream; one [`Packer`] per call.
pub struct Packer {
    zstd: zstd::stream::write::Encoder<'static, Vec<u8>>,
    plain: Vec<u8>,
    entries: u32,
    /// Each change's place in the stream, by its hash (SHA-256's, spread
    /// already: hashed again by foldhash, seeded per process, not SipHash).
    sent: HashMap<ChangeHash, u64, foldhash::fast::RandomState>,
    next_index: u64,
}

impl std::fmt::Debug for Packer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packer")
            .field("entries", &self.entries)
            .finish()
    }
}

/// The size zstd is told to expect of a call's stream, from which it sizes its
/// window and match tables. A village's year is under a megabyte before
/// compression; zstd's defaults for a stream of unknown size (at level 19 an
/// 8 MiB window and some 80 MiB of tables, zeroed for every call) cost a
/// server answering many calls at once far more than they could save.
const STREAM_SIZE_HINT: u32 = 1 << 20;

impl Packer {
    /// A packer compressing at `level` (zstd levels, 1 to 19), with no dictionary.
    pub fn new(level: i32) -> Self {
        Self::with_dictionary(level, Dictionary::None)
    }

    /// A packer compressing at `level` against `dictionary`; the receiver
    /// must be told which ([`Unpacker::with_dictionary`]).
    pub fn with_dictionary(level: i32, dictionary: Dictionary) -> Self {
        let zstd = match dictionary.encoder(level) {
            Some(prepared) => {
                zstd::stream::write::Encoder::with_prepared_dictionary(Vec::new(), prepared)
            }
            None => zstd::stream::write::Encoder::new(Vec::new(), level),
        };
        let mut zstd = zstd.unwrap_or_else(|_| unreachable_encoder());
        // Only a hint: a longer stream still compresses, in a 1 MiB window.
        let _ = zstd.set_parameter(zstd::stream::raw::CParameter::SrcSizeHint(STREAM_SIZE_HINT));
        Packer {
            zstd,
            plain: Vec::new(),
            entries: 0,
            sent: HashMap::default(),
            next_index: 0,
        }
    }

    /// Adds a change (its chunk bytes, as Automerge made them).
    pub fn push_change(&mut self, bytes: &[u8]) {
        self.push(bytes, || hash_of(&bytes[8..]));
    }

    /// [`Packer::push_change`] of a change whose hash the caller holds (a
    /// phone keeps each change's hash, as Automerge gave it, beside it in
    /// the outbox), so it is not worked out again. The hash lets later
    /// changes name this one by its place in the stream; it must be the
    /// change's own: one that is not costs the later changes their
    /// back-references, and one that is another change's of the stream
    /// would name this change in its place.
    pub fn push_change_known(&mut self, hash: ChangeHash, bytes: &[u8]) {
        self.push(bytes, || hash);
    }

    /// Adds a change, with `hash` giving its hash if it is sent split.
    fn push(&mut self, bytes: &[u8], hash: impl FnOnce() -> ChangeHash) {
        match split_change(bytes) {
            Some(split) => {
                let hash = hash();
                self.plain.push(TAG_CHANGE);
                write_uleb(&mut self.plain, split.deps.len() as u64);
                for dep in &split.deps {
                    match self.sent.get(dep) {
                        Some(&i) if self.next_index - i <= MAX_BACK_REFERENCE => {
                            write_uleb(&mut self.plain, self.next_index - i)
                        }
                        _ => {
                            self.plain.push(0);
                            self.plain.extend_from_slice(&dep.0);
                        }
                    }
                }
                write_uleb(&mut self.plain, split.rest.len() as u64);
                self.plain.extend_from_slice(split.rest);
                self.sent.insert(hash, self.next_index);
            }
            None => {
                self.plain.push(TAG_RAW);
                write_uleb(&mut self.plain, bytes.len() as u64);
                self.plain.extend_from_slice(bytes);
            }
        }
        self.next_index += 1;
        self.entries += 1;
    }

    /// Adds a whole saved document.
    pub fn push_document(&mut self, doc: &DocId, bytes: &[u8]) {
        self.plain.push(TAG_DOCUMENT);
        self.plain.extend_from_slice(doc.as_bytes());
        write_uleb(&mut self.plain, bytes.len() as u64);
        self.plain.extend_from_slice(bytes);
        self.next_index += 1;
        self.entries += 1;
    }

    /// Says how many bytes (about) the whole call will carry, before the
    /// first [`Packer::flush`], so zstd sizes its window and tables to fit
    /// rather than for a megabyte: a sync of a few changes then sets up
    /// kilobytes, not megabytes, even at level 19.
    pub fn expect(&mut self, bytes: usize) {
        let hint = bytes.clamp(1 << 10, STREAM_SIZE_HINT as usize) as u32;
        let _ = self
            .zstd
            .set_parameter(zstd::stream::raw::CParameter::SrcSizeHint(hint));
    }

    /// Uncompressed bytes waiting for the next [`Packer::flush`].
    pub fn pending_bytes(&self) -> usize {
        self.plain.len()
    }

    /// The packed entries waiting for the next [`Packer::flush`], before
    /// compression: what a dictionary is trained on.
    pub fn pending(&self) -> &[u8] {
        &self.plain
    }

    /// Entries waiting for the next [`Packer::flush`].
    pub fn pending_entries(&self) -> u32 {
        self.entries
    }

    /// Compresses what is pending into the next message: `(frame, entries)`.
    pub fn flush(&mut self) -> (Vec<u8>, u32) {
        use std::io::Write;
        // Writing to a Vec cannot fail; zstd only fails on a corrupt context.
        let _ = self.zstd.write_all(&self.plain);
        let _ = self.zstd.flush();
        self.plain.clear();
        let frame = std::mem::take(self.zstd.get_mut());
        (frame, std::mem::take(&mut self.entries))
    }
}

#[allow(clippy::panic)]
fn unreachable_encoder() -> zstd::stream::write::Encoder<'static, Vec<u8>> {
    // Level is clamped by zstd; creation fails only without memory.
    panic!("zstd encoder could not be created")
}

fn hash_of(type_len_body: &[u8]) -> ChangeHash {
    ChangeHash(Sha256::digest(type_len_body).into())
}

/// Most bytes of decompressed message an [`Unpacker`] keeps between
/// messages: the usual messages' size and more, never a hostile message's
/// worth for as long as its call lasts.
const KEPT_PLAIN_BYTES: usize = 1 << 20;

/// Unpacks the messages of one call, in order.
pub struct Unpacker {
    /// Made at the first message that holds anything: a call answered
    /// with nothing (an idle sync's pull) makes no decoder.
    zstd: Option<zstd::stream::raw::Decoder<'static>>,
    dictionary: Dictionary,
    /// The hashes of the last [`MAX_BACK_REFERENCE`] entries.
    seen: std::collections::VecDeque<ChangeHash>,
    /// The last message decompressed, kept for the next: a call's messages
    /// are decompressed into memory already in use, not into new memory each.
    plain: Vec<u8>,
}

impl std::fmt::Debug for Unpacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unpacker")
            .field("seen", &self.seen.len())
            .finish()
    }
}

impl Default for Unpacker {
    fn default() -> Self {
        Self::new()
    }
}

impl Unpacker {
    /// A fresh unpacker for a new call with no dictionary.
    pub fn new() -> Self {
        Self::with_dictionary(Dictionary::None)
    }

    /// A fresh unpacker for a new call whose stream was compressed against
    /// the dictionary numbered `number` on the wire; a number this side does
    /// not know is refused before anything is allocated.
    pub fn for_number(number: u32) -> Result<Self, PackingError> {
        Ok(Self::with_dictionary(Dictionary::from_number(number)?))
    }

    /// A fresh unpacker for a new call compressed against `dictionary`.
    pub fn with_dictionary(dictionary: Dictionary) -> Self {
        Unpacker {
            zstd: None,
            dictionary,
            seen: std::collections::VecDeque::new(),
            plain: Vec::new(),
        }
    }

    /// The call's decoder, made on first use.
    #[allow(clippy::panic)]
    fn decoder(&mut self) -> &mut zstd::stream::raw::Decoder<'static> {
        let dictionary = self.dictionary;
        self.zstd.get_or_insert_with(|| {
            let zstd = match dictionary.decoder() {
                Some(prepared) => zstd::stream::raw::Decoder::with_prepared_dictionary(prepared),
                None => zstd::stream::raw::Decoder::new(),
            };
            let mut zstd = zstd.unwrap_or_else(|_| panic!("zstd decoder could not be created"));
            // Only fails for a value out of zstd's range, which this is not.
            let _ = zstd.set_parameter(zstd::stream::raw::DParameter::WindowLogMax(MAX_WINDOW_LOG));
            zstd
        })
    }

    /// Keeps an entry's hash for back-references, forgetting the oldest one
    /// past [`MAX_BACK_REFERENCE`].
    fn remember(&mut self, hash: ChangeHash) {
        if self.seen.len() as u64 == MAX_BACK_REFERENCE {
            self.seen.pop_front();
        }
        self.seen.push_back(hash);
    }

    /// The message in `frame`, decompressed into the buffer the last one
    /// was (taken out of the unpacker; [`Unpacker::unpack`] puts it back).
    fn decompress(&mut self, frame: &[u8]) -> Result<Vec<u8>, PackingError> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        /// Room made for each step of decompression.
        const STEP: usize = 128 << 10;
        let mut out = std::mem::take(&mut self.plain);
        out.clear();
        // An empty message holds nothing. zstd counts each call given no
        // input as no progress, and fails the stream after a few in a row.
        if frame.is_empty() {
            return Ok(out);
        }
        let mut input = InBuffer::around(frame);
        loop {
            out.reserve(STEP);
            let (before, room) = (out.len(), out.capacity() - out.len());
            let mut output = OutBuffer::around_pos(&mut out, before);
            self.decoder()
                .run(&mut input, &mut output)
                .map_err(PackingError::Compression)?;
            let produced = output.pos() - before;
            if out.len() > MAX_MESSAGE_BYTES {
                return Err(PackingError::TooLarge);
            }
            if input.pos() == frame.len() && produced < room {
                return Ok(out);
            }
        }
    }

    /// The entries of the next message, which says it holds `count`.
    pub fn unpack(&mut self, frame: &[u8], count: u32) -> Result<Vec<Entry>, PackingError> {
        if count > MAX_ENTRIES_PER_MESSAGE {
            return Err(PackingError::TooManyEntries(count));
        }
        let plain = self.decompress(frame)?;
        let mut pos = 0;
        let mut entries = Vec::new();
        while pos < plain.len() {
            let index = entries.len();
            if index == count as usize {
                // More than it said: stop before reading (and allocating) more.
                return Err(PackingError::CountMismatch {
                    said: count as usize,
                    found: index + 1,
                });
            }
            let bad = |why| PackingError::Malformed { index, why };
            let tag = plain[pos];
            pos += 1;
            let entry = match tag {
                TAG_CHANGE => {
                    let n = read_uleb(&plain, &mut pos).ok_or_else(|| bad("dependency count"))?;
                    if n > MAX_DEPENDENCIES {
                        return Err(bad("too many dependencies"));
                    }
                    let mut deps = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        let back = read_uleb(&plain, &mut pos).ok_or_else(|| bad("dependency"))?;
                        let hash = if back == 0 {
                            let h =
                                take(&plain, &mut pos, 32).ok_or_else(|| bad("dependency hash"))?;
                            let mut a = [0u8; 32];
                            a.copy_from_slice(h);
                            ChangeHash(a)
                        } else {
                            let at = (self.seen.len() as u64)
                                .checked_sub(back)
                                .ok_or_else(|| bad("back-reference before the stream"))?;
                            self.seen
                                .get(at as usize)
                                .copied()
                                .ok_or_else(|| bad("back-reference before the stream"))?
                        };
                        deps.push(hash);
                    }
                    let len = read_uleb(&plain, &mut pos).ok_or_else(|| bad("length"))?;
                    let rest =
                        take(&plain, &mut pos, len as usize).ok_or_else(|| bad("cut short"))?;
                    let (hash, bytes) = rebuild_change(&deps, rest);
                    self.remember(hash);
                    Entry::Change { hash, bytes }
                }
                TAG_DOCUMENT => {
                    let id = take(&plain, &mut pos, 16).and_then(DocId::from_slice);
                    let doc = id.ok_or_else(|| bad("document id"))?;
                    let len = read_uleb(&plain, &mut pos).ok_or_else(|| bad("length"))?;
                    let bytes =
                        take(&plain, &mut pos, len as usize).ok_or_else(|| bad("cut short"))?;
                    self.remember(ChangeHash([0; 32]));
                    Entry::Document {
                        doc,
                        bytes: bytes.to_vec(),
                    }
                }
                TAG_RAW => {
                    let len = read_uleb(&plain, &mut pos).ok_or_else(|| bad("length"))?;
                    let bytes =
                        take(&plain, &mut pos, len as usize).ok_or_else(|| bad("cut short"))?;
                    // A raw chunk's hash is checked when Automerge parses it.
                    let hash = if bytes.len() > 8 {
                        hash_of(&bytes[8..])
                    } else {
                        ChangeHash([0; 32])
                    };
                    self.remember(hash);
                    Entry::Change {
                        hash,
                        bytes: bytes.to_vec(),
                    }
                }
                _ => return Err(bad("unknown entry tag")),
            };
            entries.push(entry);
        }
        if entries.len() != count as usize {
            return Err(PackingError::CountMismatch {
                said: count as usize,
                found: entries.len(),
            });
        }
        if plain.capacity() <= KEPT_PLAIN_BYTES {
            self.plain = plain;
        }
        Ok(entries)
    }
}

/// Rebuilds a change chunk from its dependencies and the rest of its body.
fn rebuild_change(deps: &[ChangeHash], rest: &[u8]) -> (ChangeHash, Vec<u8>) {
    let body = uleb_len(deps.len() as u64) + 32 * deps.len() + rest.len();
    let mut bytes = Vec::with_capacity(8 + 1 + uleb_len(body as u64) + body);
    bytes.extend_from_slice(&MAGIC);
    // The checksum, the hash's first bytes, once the hash is known.
    bytes.extend_from_slice(&[0; 4]);
    bytes.push(CHUNK_CHANGE);
    write_uleb(&mut bytes, body as u64);
    write_uleb(&mut bytes, deps.len() as u64);
    for d in deps {
        bytes.extend_from_slice(&d.0);
    }
    bytes.extend_from_slice(rest);
    let hash = ChangeHash(Sha256::digest(&bytes[8..]).into());
    bytes[4..8].copy_from_slice(&hash.0[..4]);
    (hash, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{Automerge, ROOT, transaction::Transactable};

    fn changes() -> Vec<automerge::Change> {
        let mut doc = Automerge::new();
        let mut out = Vec::new();
        for i in 0..5i64 {
            let mut tx = doc.transaction();
            tx.put(ROOT, "n", i).expect("put");
            tx.put(ROOT, "text", format!("第{i}次")).expect("put");
            tx.commit();
            out.push(doc.get_last_local_change().expect("change"));
        }
        out
    }

    #[test]
    fn changes_come_back_byte_for_byte_across_messages() {
        let cs = changes();
        let mut packer = Packer::new(3);
        let mut unpacker = Unpacker::new();
        let mut got = Vec::new();
        for pair in cs.chunks(2) {
            for c in pair {
                packer.push_change(c.raw_bytes());
            }
            let (frame, n) = packer.flush();
            got.extend(unpacker.unpack(&frame, n).expect("unpack"));
        }
        assert_eq!(got.len(), cs.len());
        for (c, e) in cs.iter().zip(got) {
            assert_eq!(
                e,
                Entry::Change {
                    hash: c.hash(),
                    bytes: c.raw_bytes().to_vec()
                }
            );
        }
    }

    #[test]
    fn a_stream_longer_than_its_size_hint_comes_back_whole() {
        // 2.5 MiB at level 19 told to expect 1 KiB: past the window, blocks
        // repeat ones sent a megabyte and more earlier.
        let mut x = 1u64;
        let block: Vec<u8> = (0..64 << 10)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect();
        let mut packer = Packer::new(19);
        packer.expect(1);
        let mut unpacker = Unpacker::new();
        for k in 0..40u8 {
            let id = DocId::from_slice(&[k; 16]).expect("id");
            let mut bytes = block.clone();
            bytes[usize::from(k)] = k;
            packer.push_document(&id, &bytes);
            let (frame, n) = packer.flush();
            let got = unpacker.unpack(&frame, n).expect("unpack");
            assert_eq!(got, vec![Entry::Document { doc: id, bytes }]);
        }
    }

    #[test]
    fn a_small_message_after_a_large_one_holds_only_its_own_entries() {
        // The second is decompressed into the memory the first was.
        let mut packer = Packer::new(3);
        let mut unpacker = Unpacker::new();
        let doc = |k: u8, len: usize| {
            let id = DocId::from_slice(&[k; 16]).expect("id");
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8 ^ k).collect();
            (id, bytes)
        };
        for (k, len) in [(1, 600 << 10), (2, 10), (3, 300 << 10), (4, 0)] {
            let (id, bytes) = doc(k, len);
            packer.push_document(&id, &bytes);
            let (frame, n) = packer.flush();
            let got = unpacker.unpack(&frame, n).expect("unpack");
            assert_eq!(got, vec![Entry::Document { doc: id, bytes }], "message {k}");
        }
    }

    #[test]
    fn a_number_takes_the_bytes_its_length_says() {
        for v in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            write_uleb(&mut out, v);
            assert_eq!(uleb_len(v), out.len(), "{v}");
        }
        for v in [0, 1, -1, 63, 64, -64, -65, 8_191, 8_192, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_sleb(&mut out, v);
            assert_eq!(sleb_len(v), out.len(), "{v}");
        }
    }

    #[test]
    fn a_dependency_sent_earlier_costs_a_back_reference_not_a_hash() {
        let cs = changes();
        let mut alone = Packer::new(3);
        alone.push_change(cs[1].raw_bytes());
        let mut after = Packer::new(3);
        after.push_change(cs[0].raw_bytes());
        let first = after.pending_bytes();
        after.push_change(cs[1].raw_bytes());
        assert_eq!(alone.pending_bytes() - (after.pending_bytes() - first), 32);
        assert!(alone.pending_bytes() < cs[1].raw_bytes().len());
    }

    #[test]
    fn a_known_hash_packs_as_one_worked_out_and_a_hash_of_no_change_costs_back_references() {
        let cs = changes();
        let packed = |hash: &dyn Fn(&automerge::Change) -> ChangeHash| {
            let mut packer = Packer::new(3);
            for c in &cs {
                packer.push_change_known(hash(c), c.raw_bytes());
            }
            (packer.pending_bytes(), packer.flush())
        };
        let mut worked_out = Packer::new(3);
        for c in &cs {
            worked_out.push_change(c.raw_bytes());
        }
        let (known_bytes, known) = packed(&|c| c.hash());
        assert_eq!(known_bytes, worked_out.pending_bytes());
        assert_eq!(known, worked_out.flush());
        let (wrong_bytes, (frame, n)) = packed(&|_| ChangeHash([7; 32]));
        assert!(
            wrong_bytes > known_bytes,
            "no back-references without hashes"
        );
        let got = Unpacker::new().unpack(&frame, n).expect("unpack");
        let sent: Vec<Entry> = cs
            .iter()
            .map(|c| Entry::Change {
                hash: c.hash(),
                bytes: c.raw_bytes().to_vec(),
            })
            .collect();
        assert_eq!(got, sent);
    }

    #[test]
    fn documents_and_foreign_chunks_pass_through() {
        let doc = Automerge::new();
        let saved = changes_doc().save();
        let id = DocId::from_slice(&[7; 16]).expect("id");
        let mut packer = Packer::new(1);
        packer.push_document(&id, &saved);
        packer.push_change(&saved); // a document chunk is not a change: sent raw
        let (frame, n) = packer.flush();
        let got = Unpacker::new().unpack(&frame, n).expect("unpack");
        assert_eq!(
            got[0],
            Entry::Document {
                doc: id,
                bytes: saved.clone()
            }
        );
        assert!(matches!(&got[1], Entry::Change { bytes, .. } if *bytes == saved));
        drop(doc);
    }

    fn changes_doc() -> Automerge {
        let mut doc = Automerge::new();
        for c in changes() {
            doc.apply_changes([c]).expect("apply");
        }
        doc
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic() {
        let mut unpacker = Unpacker::new();
        assert!(unpacker.unpack(b"not zstd at all", 1).is_err());
        let mut packer = Packer::new(3);
        packer.push_change(changes()[0].raw_bytes());
        let (frame, n) = packer.flush();
        assert!(matches!(
            Unpacker::new().unpack(&frame, n + 1),
            Err(PackingError::CountMismatch { .. })
        ));
        // every truncation of a valid message fails cleanly
        for cut in 0..frame.len() {
            let _ = Unpacker::new().unpack(&frame[..cut], n);
        }
    }

    #[test]
    fn a_dependency_further_back_than_the_window_travels_as_its_hash() {
        let cs = changes();
        let mut packer = Packer::new(1);
        let mut unpacker = Unpacker::new();
        packer.push_change(cs[0].raw_bytes());
        let id = DocId::from_slice(&[1; 16]).expect("id");
        for i in 0..MAX_BACK_REFERENCE {
            packer.push_document(&id, b"");
            if i % 10_000 == 0 {
                let (frame, n) = packer.flush();
                unpacker.unpack(&frame, n).expect("unpack");
            }
        }
        let before = packer.pending_bytes();
        packer.push_change(cs[1].raw_bytes());
        assert!(packer.pending_bytes() - before > 32, "sent as a hash");
        let (frame, n) = packer.flush();
        let got = unpacker.unpack(&frame, n).expect("unpack");
        assert_eq!(
            got.last(),
            Some(&Entry::Change {
                hash: cs[1].hash(),
                bytes: cs[1].raw_bytes().to_vec()
            })
        );
        assert_eq!(unpacker.seen.len() as u64, MAX_BACK_REFERENCE);
    }

    /// A call of `cs` packed at `level` against `dictionary`, two changes a
    /// message, unpacked by `unpacker`; returns the call's compressed bytes.
    fn round_trip(level: i32, dictionary: Dictionary, mut unpacker: Unpacker) -> usize {
        let cs = changes();
        let mut packer = Packer::with_dictionary(level, dictionary);
        packer.expect(cs.iter().map(|c| c.raw_bytes().len()).sum());
        let (mut got, mut bytes) = (Vec::new(), 0);
        for pair in cs.chunks(2) {
            for c in pair {
                packer.push_change(c.raw_bytes());
            }
            let (frame, n) = packer.flush();
            bytes += frame.len();
            got.extend(unpacker.unpack(&frame, n).expect("unpack"));
        }
        let want: Vec<_> = cs
            .iter()
            .map(|c| Entry::Change {
                hash: c.hash(),
                bytes: c.raw_bytes().to_vec(),
            })
            .collect();
        assert_eq!(got, want);
        bytes
    }

    #[test]
    fn a_push_and_a_pull_with_the_dictionary_come_back_byte_for_byte() {
        // A device's push at its fast and slow levels, a server's answer at 3.
        for level in [3, 19] {
            let unpacker = Unpacker::for_number(Dictionary::ChangesV1.number()).expect("known");
            round_trip(level, Dictionary::ChangesV1, unpacker);
        }
        round_trip(3, Dictionary::None, Unpacker::new());
    }

    #[test]
    fn the_dictionary_makes_a_small_call_smaller() {
        let with = round_trip(
            19,
            Dictionary::ChangesV1,
            Unpacker::with_dictionary(Dictionary::ChangesV1),
        );
        let without = round_trip(19, Dictionary::None, Unpacker::new());
        assert!(
            with < without,
            "{with} B with the dictionary, {without} B without"
        );
    }

    #[test]
    fn a_stream_made_with_the_dictionary_is_refused_without_it() {
        let mut packer = Packer::with_dictionary(3, Dictionary::ChangesV1);
        for c in changes() {
            packer.push_change(c.raw_bytes());
        }
        let (frame, n) = packer.flush();
        assert!(Unpacker::new().unpack(&frame, n).is_err());
    }

    #[test]
    fn an_unknown_dictionary_is_refused_before_anything_is_read() {
        let err = Unpacker::for_number(9).expect_err("unknown");
        assert!(matches!(
            err,
            PackingError::UnknownDictionary(UnknownDictionary(9))
        ));
        assert!(err.to_string().contains("dictionary 9"), "{err}");
    }

    #[test]
    fn the_window_bound_holds_with_the_dictionary() {
        // As a_stream_longer_than_its_size_hint_comes_back_whole, against the
        // dictionary: the receiver's window stays at most 2^MAX_WINDOW_LOG.
        let mut x = 7u64;
        let block: Vec<u8> = (0..64 << 10)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect();
        let mut packer = Packer::with_dictionary(19, Dictionary::ChangesV1);
        let mut unpacker = Unpacker::with_dictionary(Dictionary::ChangesV1);
        for k in 0..40u8 {
            let id = DocId::from_slice(&[k; 16]).expect("id");
            let mut bytes = block.clone();
            bytes[usize::from(k)] = k;
            packer.push_document(&id, &bytes);
            let (frame, n) = packer.flush();
            let got = unpacker.unpack(&frame, n).expect("unpack");
            assert_eq!(got, vec![Entry::Document { doc: id, bytes }]);
        }
    }

    #[test]
    fn a_back_reference_before_the_stream_is_refused() {
        let mut plain = vec![TAG_CHANGE, 1, 5, 0];
        plain.extend_from_slice(&[0; 4]);
        let frame = zstd::bulk::compress(&plain, 1).expect("compress");
        assert!(matches!(
            Unpacker::new().unpack(&frame, 1),
            Err(PackingError::Malformed { .. })
        ));
    }
}
