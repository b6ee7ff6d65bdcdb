//! The errors a Kotlin caller can act on: each becomes a subclass of
//! `MasslineException`.

use massline_core::Error;

/// What went wrong, by what the app should do about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MasslineError {
    /// A record breaks a rule; nothing was saved. Show `reason` beside `field`.
    #[error("invalid record: field `{field}`: {reason}")]
    InvalidRecord {
        /// The field at fault, as a path (`minutes`, `progress[2].date`).
        field: String,
        /// Why, in plain words.
        reason: String,
    },
    /// The device has not enrolled yet: ask for an enrollment code.
    #[error("this device is not enrolled")]
    NotEnrolled,
    /// The device is already enrolled; a store holds one identity.
    #[error("this device is already enrolled as {name}")]
    AlreadyEnrolled {
        /// Who the device is enrolled as.
        name: String,
    },
    /// The enrollment code cannot be read: ask the township office for it again.
    #[error("enrollment code: {message}")]
    BadEnrollmentCode {
        /// What is wrong with it.
        message: String,
    },
    /// The enrolled person may not do this.
    #[error("not allowed: {message}")]
    Forbidden {
        /// What was refused, and why.
        message: String,
    },
    /// No record has that id.
    #[error("no record {id}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// The server could not be reached or the link broke: try again later;
    /// nothing recorded on the device is lost.
    #[error("network: {message}")]
    Network {
        /// What failed.
        message: String,
    },
    /// The server refused the call (a used or unknown enrollment code, a
    /// revoked device).
    #[error("server refused: {message}")]
    Refused {
        /// The server's reason.
        message: String,
    },
    /// The server answered something the device cannot use.
    #[error("protocol: {message}")]
    Protocol {
        /// What was wrong with the answer.
        message: String,
    },
    /// The database on the device failed.
    #[error("storage: {message}")]
    Storage {
        /// What failed.
        message: String,
    },
}

impl From<Error> for MasslineError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidRecord(v) => MasslineError::InvalidRecord {
                field: v.field,
                reason: v.reason,
            },
            Error::NotEnrolled => MasslineError::NotEnrolled,
            Error::AlreadyEnrolled(name) => MasslineError::AlreadyEnrolled { name },
            Error::Forbidden(message) => MasslineError::Forbidden { message },
            Error::NotFound(id) => MasslineError::NotFound { id },
            Error::BadEnrollmentCode(message) => MasslineError::BadEnrollmentCode { message },
            Error::Network(message) => MasslineError::Network { message },
            Error::Refused(message) => MasslineError::Refused { message },
            Error::Protocol(message) => MasslineError::Protocol { message },
            Error::Storage(message) => MasslineError::Storage { message },
        }
    }
}

impl From<massline_core::ValidationError> for MasslineError {
    fn from(v: massline_core::ValidationError) -> Self {
        Error::InvalidRecord(v).into()
    }
}
