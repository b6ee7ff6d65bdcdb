//! What can go wrong on the server.

use massline_model::DocId;

/// The error behind another, kept as its source.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the township server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A stored record does not load, or does not read as a record.
    #[error("stored record {id} is damaged: {source}")]
    Corrupt {
        /// The record.
        id: DocId,
        /// What is wrong with it.
        #[source]
        source: Cause,
    },
    /// An administrative request is wrong (unknown village, bad role, …).
    #[error("{0}")]
    Invalid(String),
    /// Files in the data directory could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The calling device was revoked while its call was open.
    #[error("device {0} was revoked: enrol again")]
    Revoked(u64),
    /// The certificate could not be made or read.
    #[error("certificate: {what}: {source}")]
    Certificate {
        /// Which step failed.
        what: String,
        /// Why.
        #[source]
        source: Cause,
    },
    /// A sync bundle is refused; nothing of it was taken in.
    #[error("bundle refused: {0}")]
    Bundle(#[from] massline_model::bundle::BundleError),
    /// A push message is refused as a whole; nothing of it was stored.
    #[error("push message refused: {0}")]
    MessageRefused(String),
    /// Something the server does for itself failed (a task, an encoding).
    #[error("{what}: {source}")]
    Internal {
        /// What it was doing.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: Cause,
    },
}

impl Error {
    /// Record `id` is damaged, for the reason given.
    pub fn damaged(id: DocId, why: impl Into<Cause>) -> Self {
        Error::Corrupt {
            id,
            source: why.into(),
        }
    }

    /// The certificate step `what` failed, for the reason given.
    pub fn certificate(what: impl Into<String>, why: impl Into<Cause>) -> Self {
        Error::Certificate {
            what: what.into(),
            source: why.into(),
        }
    }

    /// The server's own step `what` failed, for the reason given.
    pub fn internal(what: &'static str, why: impl Into<Cause>) -> Self {
        Error::Internal {
            what,
            source: why.into(),
        }
    }
}
