//! How massline's fuzz targets read their input, shared with the generator
//! that writes their seed corpus (`src/main.rs`).
//!
//! - A sequence of messages (the frames of one call) is [`pieces`]: each a
//!   little-endian `u32` length, then that many bytes.
//! - A change chunk is [`chunk_of`] its input: the first byte says whether
//!   the rest is the body of a plain change (wrapped with a correct checksum
//!   and length, so mutations reach past the header), of a compressed chunk,
//!   or the whole chunk as it is.

use sha2::{Digest, Sha256};

/// The first bytes of every Automerge chunk.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// The pieces of `data`: each a little-endian `u32` length, then that many
/// bytes; a last piece cut short keeps the bytes there are.
pub fn pieces(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((len, after)) = rest.split_first_chunk::<4>() {
        let n = (u32::from_le_bytes(*len) as usize).min(after.len());
        out.push(&after[..n]);
        rest = &after[n..];
    }
    out
}

/// The input [`pieces`] reads back as `parts`.
pub fn join<T: AsRef<[u8]>>(parts: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let p = p.as_ref();
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

pub use massline_core::packing::{read_uleb, write_uleb as uleb};

/// An Automerge chunk of `kind` (1: a change, 2: a compressed change) around
/// `body`, with the checksum and length a real one has.
pub fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut head = vec![kind];
    uleb(&mut head, body.len() as u64);
    let hash = Sha256::new()
        .chain_update(&head)
        .chain_update(body)
        .finalize();
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&hash[..4]);
    out.extend_from_slice(&head);
    out.extend_from_slice(body);
    out
}

/// The chunk a change target reads from its input: after a first byte of 0
/// mod 3 the rest is the body of a plain change, of 1 mod 3 that of a
/// compressed one, otherwise the chunk itself.
pub fn chunk_of(data: &[u8]) -> Vec<u8> {
    match data.split_first() {
        None => Vec::new(),
        Some((mode, rest)) => match mode % 3 {
            0 => chunk(1, rest),
            1 => chunk(2, rest),
            _ => rest.to_vec(),
        },
    }
}

/// The body of a chunk (what follows magic, checksum, type and length).
pub fn body(chunk: &[u8]) -> Option<&[u8]> {
    let mut pos = 9;
    let len = read_uleb(chunk, &mut pos)?;
    chunk.get(pos..).filter(|b| b.len() as u64 == len)
}

/// A change body without its dependencies: what follows the count and
/// hashes at its start.
pub fn without_dependencies(body: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    let n = read_uleb(body, &mut pos)?;
    let skip = usize::try_from(n.checked_mul(32)?).ok()?;
    body.get(pos.checked_add(skip)?..)
}

/// A change body of `rest` (read by [`without_dependencies`]) depending on `deps`.
pub fn with_dependencies(deps: &[[u8; 32]], rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    uleb(&mut out, deps.len() as u64);
    for d in deps {
        out.extend_from_slice(d);
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_read_back_what_join_wrote() {
        let parts: Vec<Vec<u8>> = vec![vec![1, 2, 3], vec![], vec![9; 300]];
        assert_eq!(pieces(&join(&parts)), parts);
        assert_eq!(pieces(&[5, 0, 0, 0, 1, 2]), vec![&[1u8, 2][..]]);
    }

    #[test]
    fn a_body_wrapped_as_a_change_reads_back() {
        let body = with_dependencies(&[[7; 32]], b"rest");
        let c = chunk_of(&[[0u8].as_slice(), &body].concat());
        assert_eq!(super::body(&c), Some(&body[..]));
        assert_eq!(without_dependencies(&body), Some(&b"rest"[..]));
    }
}
