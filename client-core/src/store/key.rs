//! The key of an encrypted store.
//!
//! With the `sqlcipher` feature the store is an SQLCipher database: every
//! page of the database file and of its write-ahead log is encrypted
//! (AES-256, each page authenticated), so the file read without the key
//! shows neither records nor the device token. The key is 32 random bytes
//! that the app keeps (on Android wrapped by a key of the Android Keystore;
//! see `mobile/README.md`), handed to SQLCipher as a raw key, so opening a
//! store costs no key derivation.
//!
//! Without the feature the store is a plain SQLite file, and asking for a key
//! is an error that says so.

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, ErrorCode};
use zeroize::Zeroize;

use crate::error::Error;

/// Bytes in a store key (AES-256).
pub const STORE_KEY_BYTES: usize = 32;

/// Whether this build can encrypt stores (built with the `sqlcipher` feature).
pub const ENCRYPTION_BUILT_IN: bool = cfg!(feature = "sqlcipher");

/// The first bytes of every plain SQLite database file. An SQLCipher file
/// starts with its random salt instead.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A store's key: 32 secret bytes. Its `Debug` shows nothing of it, and it is
/// wiped from memory when dropped.
pub struct StoreKey([u8; STORE_KEY_BYTES]);

impl StoreKey {
    /// The key of these 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<StoreKey, Error> {
        let key: [u8; STORE_KEY_BYTES] = bytes.try_into().map_err(|_| {
            Error::StoreKey(format!(
                "a store key is {STORE_KEY_BYTES} bytes, not {}",
                bytes.len()
            ))
        })?;
        Ok(StoreKey(key))
    }

    /// The key written as 64 hex characters (surrounding white space, such as
    /// the end of a key file's line, is ignored).
    pub fn from_hex(text: &str) -> Result<StoreKey, Error> {
        let text = text.trim();
        let mut bytes = crate::ids::hex_decode(text)
            .filter(|b| b.len() == STORE_KEY_BYTES)
            .ok_or_else(|| {
                Error::StoreKey(format!(
                    "a store key is written as {} hex characters (0-9, a-f), nothing else",
                    STORE_KEY_BYTES * 2
                ))
            })?;
        let key = StoreKey::from_bytes(&bytes);
        bytes.zeroize();
        key
    }

    /// A new random key.
    pub fn random() -> StoreKey {
        StoreKey(rand::random())
    }

    /// The key as 64 hex characters, to write to a key file or hand to
    /// another process. Keep it as secret as the key.
    pub fn to_hex(&self) -> String {
        crate::ids::hex_encode(&self.0)
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Gives `conn`, just opened on `path`, its key (if any), and checks that it
/// reads the database, so that a wrong or missing key is one clear error
/// here rather than "file is not a database" from whatever query comes first.
pub(crate) fn unlock(conn: &Connection, path: &Path, key: Option<&StoreKey>) -> Result<(), Error> {
    if let Some(key) = key {
        apply(conn, key)?;
    }
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            Err(Error::StoreKey(unreadable(path, key.is_some())))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(feature = "sqlcipher")]
fn apply(conn: &Connection, key: &StoreKey) -> Result<(), Error> {
    // SQLCipher would also print its own lines about a page it cannot
    // decrypt (to stderr, or logcat); the error `unlock` returns says it.
    conn.pragma_update(None, "cipher_log_level", "NONE")?;
    // `x'…'`: a raw 256-bit key, used as it is (no passphrase derivation).
    let mut pragma = format!("x'{}'", key.to_hex());
    let done = conn.pragma_update(None, "key", &pragma);
    pragma.zeroize();
    Ok(done?)
}

#[cfg(not(feature = "sqlcipher"))]
fn apply(_conn: &Connection, _key: &StoreKey) -> Result<(), Error> {
    Err(Error::StoreKey(
        "this build of massline has no store encryption (it was built without the \
         `sqlcipher` feature), so it cannot open a store with a key"
            .into(),
    ))
}

/// Why the file at `path` does not read as a database.
fn unreadable(path: &Path, keyed: bool) -> String {
    let mut header = [0u8; 16];
    let plain = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok()
        && &header == PLAIN_HEADER;
    let path = path.display();
    match (keyed, plain) {
        (true, true) => format!("the store {path} is not encrypted: open it without a key"),
        (true, false) => format!(
            "the key does not open the store {path} (a wrong key, or a file that is not a \
             massline store)"
        ),
        (false, _) if ENCRYPTION_BUILT_IN => format!(
            "the store {path} is encrypted (or is not a massline store): open it with its key"
        ),
        (false, _) => format!(
            "the store {path} is encrypted (or is not a massline store), and this build of \
             massline has no store encryption (the `sqlcipher` feature)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_bytes_in_64_hex_characters_and_never_shown() {
        let key = StoreKey::random();
        let again = StoreKey::from_hex(&format!("  {}\n", key.to_hex())).expect("hex");
        assert_eq!(key.to_hex(), again.to_hex());
        assert_eq!(format!("{key:?}"), "StoreKey(…)");
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(66)] {
            let e = StoreKey::from_hex(bad).expect_err(bad);
            assert!(e.to_string().contains("64 hex characters"), "{e}");
        }
        let e = StoreKey::from_bytes(&[0; 16]).expect_err("short");
        assert!(e.to_string().contains("32 bytes, not 16"), "{e}");
    }

    #[cfg(not(feature = "sqlcipher"))]
    #[test]
    fn a_build_without_encryption_says_so_when_given_a_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let e = crate::Client::open_with_key(&path, &StoreKey::random()).expect_err("a key");
        assert!(matches!(e, Error::StoreKey(_)), "{e:?}");
        assert!(e.to_string().contains("no store encryption"), "{e}");
        assert!(e.to_string().contains("`sqlcipher` feature"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_a_database_is_named_with_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        std::fs::write(&path, [7u8; 8192]).expect("write");
        let e = crate::Client::open(&path).expect_err("garbage");
        assert!(matches!(e, Error::StoreKey(_)), "{e:?}");
        assert!(e.to_string().contains("is encrypted"), "{e}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }
}
