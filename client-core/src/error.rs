//! What can go wrong on the device.

use crate::records::ValidationError;

/// Errors of the device core.
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
    BadEnrollmentCode(String),
    /// The server could not be reached, or the link broke.
    #[error("network: {0}")]
    Network(String),
    /// The server refused the call.
    #[error("server refused: {0}")]
    Refused(String),
    /// The server broke the protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The database failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The store's key is missing, wrong or malformed, or this build has no
    /// encryption.
    #[error("store key: {0}")]
    StoreKey(String),
}

// Not `#[from]`: the message already holds the field and the reason, and a
// source would make error reports say them twice.
impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::InvalidRecord(e)
    }
}

impl From<crate::enrollment_code::BadEnrollmentCode> for Error {
    fn from(e: crate::enrollment_code::BadEnrollmentCode) -> Self {
        Error::BadEnrollmentCode(e.0)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<crate::record_doc::RecordDocError> for Error {
    fn from(e: crate::record_doc::RecordDocError) -> Self {
        match e {
            crate::record_doc::RecordDocError::Invalid(v) => Error::InvalidRecord(v),
            crate::record_doc::RecordDocError::Automerge(a) => Error::Storage(a.to_string()),
        }
    }
}
