//! What can go wrong on the device.

use crate::records::ValidationError;

/// The error behind another, kept as its source.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the device core.
///
/// Each error keeps what caused it as its source; its message says it too,
/// so `to_string` alone tells the whole story (and
/// [`report`](crate::report::report) prints a chain without saying anything
/// twice).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A record breaks a rule; nothing was saved.
    #[error("invalid record: {0}")]
    InvalidRecord(ValidationError),
    /// The device has not enrolled with a township server yet.
    #[error("this device is not enrolled: run `enroll` with a code from the township office")]
    NotEnrolled,
    /// The device is already enrolled; a store holds one identity.
    #[error("this device is already enrolled as {0}")]
    AlreadyEnrolled(String),
    /// The enrolled person may not do this.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// No record has that id.
    #[error("no record {0}")]
    NotFound(String),
    /// The enrollment code cannot be read.
    #[error("enrollment code: {0}")]
    BadEnrollmentCode(#[from] crate::enrollment_code::BadEnrollmentCode),
    /// The server could not be reached, or the link broke.
    #[error("network: {0}")]
    Network(#[source] Cause),
    /// The server refused the call; its reason.
    #[error("server refused: {0}")]
    Refused(String),
    /// The server broke the protocol.
    #[error("protocol: {0}")]
    Protocol(#[source] Cause),
    /// The database failed, or a record stored on the device does not load.
    #[error("storage: {0}")]
    Storage(#[source] Cause),
    /// A sync bundle is refused; nothing was changed.
    #[error("bundle refused: {0}")]
    Bundle(#[from] massline_model::bundle::BundleError),
    /// The store's key is missing, wrong or malformed, or this build has no
    /// encryption.
    #[error("store key: {0}")]
    StoreKey(String),
}

/// What failed, and the error that made it fail.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct Because {
    what: String,
    #[source]
    source: Cause,
}

impl Because {
    /// `what` failed because of `source`.
    pub fn of(what: impl Into<String>, source: impl Into<Cause>) -> Cause {
        Box::new(Because {
            what: what.into(),
            source: source.into(),
        })
    }
}

// Not `#[from]`: the message already holds the field and the reason, and a
// source would make error reports say them twice.
impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::InvalidRecord(e)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(Box::new(e))
    }
}

impl From<crate::record_doc::RecordDocError> for Error {
    fn from(e: crate::record_doc::RecordDocError) -> Self {
        match e {
            crate::record_doc::RecordDocError::Invalid(v) => Error::InvalidRecord(v),
            crate::record_doc::RecordDocError::Automerge(a) => Error::Storage(Box::new(a)),
        }
    }
}

// The device judges only the changes it has just made on a record's
// document: they are held there, and never fail to apply.
impl From<crate::judge::JudgeError> for Error {
    fn from(e: crate::judge::JudgeError) -> Self {
        Error::Storage(Box::new(e))
    }
}
