//! The packing unpacker over the messages of one call (each piece a declared
//! entry count, little-endian `u32`, then the frame): whatever the frames and
//! counts, it gives entries or an error, never a panic or an allocation sized
//! by what a message declares; a message read holds as many entries as it
//! says, and each change's hash is that of its bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use massline_core::packing::{Entry, Unpacker};
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let mut unpacker = Unpacker::new();
    for piece in massline_fuzz_seeds::pieces(data) {
        let (count, frame) = match piece.split_first_chunk::<4>() {
            Some((c, f)) => (u32::from_le_bytes(*c), f),
            None => (0, piece),
        };
        // A call ends at its first bad message, on the server and the phone.
        let Ok(entries) = unpacker.unpack(frame, count) else {
            return;
        };
        assert_eq!(entries.len(), count as usize);
        for e in entries {
            if let Entry::Change { hash, bytes } = e
                && bytes.len() > 8
            {
                assert_eq!(hash.0[..], Sha256::digest(&bytes[8..])[..]);
            }
        }
    }
});
