//! What can go wrong on the server.

/// Errors of the township server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A stored document does not load.
    #[error("stored record {0} is damaged: {1}")]
    Corrupt(String, String),
    /// An administrative request is wrong (unknown village, bad role, …).
    #[error("{0}")]
    Invalid(String),
    /// Files in the data directory could not be read or written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The calling device was revoked while its call was open.
    #[error("device {0} was revoked: enrol again")]
    Revoked(u64),
    /// The certificate could not be made or read.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A push message is refused as a whole; nothing of it was stored.
    #[error("push message refused: {0}")]
    MessageRefused(String),
}
