//! The zstd dictionaries a call's stream of packed changes may be compressed
//! with, named on the wire by a number (0: none).
//!
//! A dictionary holds what packed changes have in common (the columns of
//! an Automerge change, the records' field names, their words), so even
//! the first change of a call compresses as if others had gone before it.
//! Dictionaries are ours: built into both sides (`model/dict/`, made by
//! `massline-bench train-dictionary`), never sent. A new one gets the next
//! number and the old ones stay, so a device and a server of different
//! versions use the newest both know: a pull names the newest the device
//! has, the server answers with the newest it has up to that, and a push
//! names the one it was compressed with, which a server that does not know
//! it refuses before it reads anything.
//!
//! Nothing a device sends picks the bytes of a dictionary or sizes one: a
//! number is looked up in this list, and each dictionary is prepared once
//! per process (for each zstd level a stream uses, for compressing).

use std::sync::OnceLock;

use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// A dictionary a stream of packed changes is compressed with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dictionary {
    /// No dictionary: the stream compresses against itself only.
    #[default]
    None,
    /// Changes of a village's year (`model/dict/changes-v1.zdict`), trained
    /// on the shared workload's packed changes.
    ChangesV1,
}

/// The bytes of [`Dictionary::ChangesV1`].
static CHANGES_V1: &[u8] = include_bytes!("../dict/changes-v1.zdict");

/// Highest zstd level; a stream's level is clamped to 1 to this.
const MAX_LEVEL: usize = 22;

/// A number on the wire that names no dictionary this side knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "zstd dictionary {0} is not one of ours: we know 0 (none) to {newest}",
    newest = Dictionary::NEWEST.number()
)]
pub struct UnknownDictionary(pub u32);

impl Dictionary {
    /// The newest dictionary this side has: what a device asks for and
    /// compresses with.
    pub const NEWEST: Dictionary = Dictionary::ChangesV1;

    /// Largest call (uncompressed bytes of packed changes) compressed with
    /// a dictionary. A dictionary saves most on a call's first changes
    /// (a third of a one-change call, a quarter of 13 changes); by a
    /// village's year the stream's own history does as well, and at level
    /// 19 the dictionary cost 9 % more bytes (`massline-bench
    /// train-dictionary` prints both).
    pub const SMALL_CALL_BYTES: usize = 64 << 10;

    /// The same as a count of changes, for a pull answer whose bytes are
    /// not known when its stream starts: at most this many changes are
    /// numbered after the device's lowest cursor (about 64 KiB of changes
    /// of some 370 bytes; the count includes the device's own changes and
    /// other scopes', so it errs towards no dictionary).
    pub const SMALL_CALL_CHANGES: u64 = 176;

    /// Its number on the wire.
    pub fn number(self) -> u32 {
        match self {
            Dictionary::None => 0,
            Dictionary::ChangesV1 => 1,
        }
    }

    /// The dictionary a number names.
    pub fn from_number(n: u32) -> Result<Dictionary, UnknownDictionary> {
        match n {
            0 => Ok(Dictionary::None),
            1 => Ok(Dictionary::ChangesV1),
            _ => Err(UnknownDictionary(n)),
        }
    }

    /// The newest dictionary this side has whose number is at most `n`
    /// (the newest a peer has): what a server compresses its answer with.
    pub fn newest_up_to(n: u32) -> Dictionary {
        Dictionary::from_number(n.min(Dictionary::NEWEST.number())).unwrap_or_default()
    }

    /// The dictionary's bytes; `None` for no dictionary.
    pub fn bytes(self) -> Option<&'static [u8]> {
        match self {
            Dictionary::None => None,
            Dictionary::ChangesV1 => Some(CHANGES_V1),
        }
    }

    /// The dictionary prepared for compressing at `level`, once per process.
    pub(crate) fn encoder(self, level: i32) -> Option<&'static EncoderDictionary<'static>> {
        static PREPARED: [OnceLock<EncoderDictionary<'static>>; MAX_LEVEL] =
            [const { OnceLock::new() }; MAX_LEVEL];
        // Only one dictionary yet: each new one gets a table of its own.
        let bytes = self.bytes()?;
        let level = level.clamp(1, MAX_LEVEL as i32);
        Some(PREPARED[level as usize - 1].get_or_init(|| EncoderDictionary::copy(bytes, level)))
    }

    /// The dictionary prepared for decompressing, once per process.
    pub(crate) fn decoder(self) -> Option<&'static DecoderDictionary<'static>> {
        static PREPARED: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
        let bytes = self.bytes()?;
        Some(PREPARED.get_or_init(|| DecoderDictionary::copy(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dictionary_has_its_own_number_and_bytes() {
        for d in [Dictionary::None, Dictionary::ChangesV1] {
            assert_eq!(Dictionary::from_number(d.number()), Ok(d));
        }
        assert_eq!(Dictionary::from_number(2), Err(UnknownDictionary(2)));
        assert!(Dictionary::None.bytes().is_none());
        // A trained zstd dictionary starts with its magic number.
        let v1 = Dictionary::ChangesV1.bytes().expect("bytes");
        assert_eq!(&v1[..4], &[0x37, 0xa4, 0x30, 0xec]);
    }

    #[test]
    fn a_dictionary_never_changes_once_numbered() {
        // Devices and servers in the field decompress with these exact
        // bytes: a new dictionary takes a new number.
        use sha2::{Digest, Sha256};
        let v1 = Dictionary::ChangesV1.bytes().expect("bytes");
        let hex: String = Sha256::digest(v1)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "2afc19409d2cee176a026ebe0b81442fadb9b37725d32f1fef81a9f73101e855"
        );
    }

    #[test]
    fn a_server_answers_with_the_newest_dictionary_both_sides_have() {
        assert_eq!(Dictionary::newest_up_to(0), Dictionary::None);
        assert_eq!(Dictionary::newest_up_to(1), Dictionary::ChangesV1);
        assert_eq!(Dictionary::newest_up_to(u32::MAX), Dictionary::NEWEST);
    }

    #[test]
    fn an_unknown_dictionary_is_named_in_the_refusal() {
        let why = UnknownDictionary(7).to_string();
        assert!(why.contains("dictionary 7"), "{why}");
    }
}
