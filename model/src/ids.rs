//! Newtype identifiers: documents, people, villages, devices.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One record's document. It is the first 16 bytes of the hash of the
/// document's first change, so it never needs to travel beside its changes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocId([u8; 16]);

impl DocId {
    /// The id of the document whose first change has this hash.
    pub fn of_first_change(hash: &automerge::ChangeHash) -> Self {
        let mut id = [0u8; 16];
        id.copy_from_slice(&hash.0[..16]);
        DocId(id)
    }

    /// The raw bytes, as stored in SQLite.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// From stored bytes; `None` unless exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(DocId(bytes.try_into().ok()?))
    }

    /// Lower-case hex, 32 characters: the id people see and type.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }

    /// Parses the 32-character hex form.
    pub fn parse_hex(s: &str) -> Option<Self> {
        let bytes = hex_decode(s)?;
        Self::from_slice(&bytes)
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocId({})", self.to_hex())
    }
}

impl Serialize for DocId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for DocId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DocId::parse_hex(&s).ok_or_else(|| serde::de::Error::custom("not a 32-character record id"))
    }
}

/// Characters allowed in person ids and village codes: they appear in scope
/// names, so they must not contain `/`.
fn is_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

macro_rules! code_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks the form: 1 to 64 ASCII letters, digits, `-` or `_`.
            pub fn new(s: impl Into<String>) -> Result<Self, String> {
                let s = s.into();
                if s.is_empty() || s.len() > 64 || !s.chars().all(is_code_char) {
                    return Err(format!(
                        "{} `{}` must be 1 to 64 ASCII letters, digits, `-` or `_`",
                        $what, s
                    ));
                }
                Ok($name(s))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

code_id!(
    /// A person enrolled by the township office (member, cadre, secretary, officer).
    PersonId,
    "person id"
);
code_id!(
    /// A village's stable code, chosen by the township office (e.g. `dongcun`).
    VillageCode,
    "village code"
);

/// Lower-case hex of bytes.
pub fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

/// Bytes of an even-length hex string; `None` on any other character.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_id_round_trips_through_hex() {
        let id = DocId([0xab; 16]);
        assert_eq!(DocId::parse_hex(&id.to_hex()), Some(id));
        assert_eq!(DocId::parse_hex("abc"), None);
        assert_eq!(DocId::parse_hex(&"zz".repeat(16)), None);
    }

    #[test]
    fn codes_refuse_slashes_and_empty() {
        assert!(VillageCode::new("dongcun").is_ok());
        assert!(VillageCode::new("a/b").is_err());
        assert!(PersonId::new("").is_err());
        assert!(PersonId::new("x".repeat(65)).is_err());
    }
}
