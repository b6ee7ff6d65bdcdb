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
    #[error("enrollment code: {reason}")]
    BadEnrollmentCode {
        /// What is wrong with it.
        reason: String,
    },
    /// The enrolled person may not do this.
    #[error("not allowed: {reason}")]
    Forbidden {
        /// What was refused, and why.
        reason: String,
    },
    /// No record has that id.
    #[error("no record {id}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// The server could not be reached or the link broke: try again later;
    /// nothing recorded on the device is lost.
    #[error("network: {reason}")]
    Network {
        /// What failed.
        reason: String,
    },
    /// The server refused the call (a used or unknown enrollment code, a
    /// revoked device).
    #[error("server refused: {reason}")]
    Refused {
        /// The server's reason.
        reason: String,
    },
    /// The server answered something the device cannot use.
    #[error("protocol: {reason}")]
    Protocol {
        /// What was wrong with the answer.
        reason: String,
    },
    /// The database on the device failed.
    #[error("storage: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// A sync bundle is refused (cut short, changed on the way, for another
    /// device or an older bundle, too large); nothing was changed.
    #[error("bundle refused: {reason}")]
    Bundle {
        /// Why, in plain words.
        reason: String,
    },
    /// The store's key is wrong or missing (the store is encrypted), given
    /// for a store that is not encrypted, not 32 bytes, or given to a library
    /// built without encryption.
    #[error("store key: {reason}")]
    StoreKey {
        /// Which of these it is.
        reason: String,
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
            Error::Forbidden(reason) => MasslineError::Forbidden { reason },
            Error::NotFound(id) => MasslineError::NotFound { id },
            Error::BadEnrollmentCode(e) => MasslineError::BadEnrollmentCode { reason: e.0 },
            Error::Network(e) => MasslineError::Network {
                reason: e.to_string(),
            },
            Error::Refused(reason) => MasslineError::Refused { reason },
            Error::Protocol(e) => MasslineError::Protocol {
                reason: e.to_string(),
            },
            Error::Storage(e) => MasslineError::Storage {
                reason: e.to_string(),
            },
            Error::StoreKey(reason) => MasslineError::StoreKey { reason },
            Error::Bundle(e) => MasslineError::Bundle {
                reason: e.to_string(),
            },
        }
    }
}

impl From<massline_core::ValidationError> for MasslineError {
    fn from(v: massline_core::ValidationError) -> Self {
        Error::InvalidRecord(v).into()
    }
}
