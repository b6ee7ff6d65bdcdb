//! `massline.v1.Enrollment`: a one-time code becomes a device token.
//!
//! Failed attempts are limited per address ([`ENROLL_FAILURES`]): only a
//! refused attempt counts, so a township office enrolling a whole village
//! from one address at once is never held up, while guessing and flooding
//! are. An address with no attempt left is answered `resource_exhausted`
//! before anything else, without touching the database. A refused code is
//! found refused in a read transaction, so failures never wait for (or hold)
//! the database's writer.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use massline_model::bundle::PUBLIC_KEY_BYTES;
use massline_proto::{convert, pb};
use tonic::{Request, Response, Status};

use crate::db::Db;
use crate::rate::{PerAddress, Rate};
use crate::registry::{self, EnrollError};

/// Failed enrollment attempts one address may make at once.
pub const ENROLL_FAILURE_BURST: u32 = 10;

/// The time in which an address gets back one failed enrollment attempt
/// (ten a minute). Guessing an 80-bit code at this rate is hopeless.
pub const ENROLL_FAILURE_EVERY: Duration = Duration::from_secs(6);

/// The rate of failed enrollment attempts per address.
pub const ENROLL_FAILURES: Rate = Rate {
    burst: ENROLL_FAILURE_BURST,
    every: ENROLL_FAILURE_EVERY,
};

/// The enrollment service.
#[derive(Debug, Clone)]
pub struct EnrollmentService {
    db: Arc<Db>,
    failures: Arc<PerAddress>,
}

impl EnrollmentService {
    /// Serves enrollment from `db`, allowing failed attempts at `failures`
    /// per address.
    pub fn new(db: Arc<Db>, failures: Rate) -> Self {
        EnrollmentService {
            db,
            failures: Arc::new(PerAddress::new(failures)),
        }
    }
}

/// The bundle signing key a device enrols with: none, or an Ed25519 public key.
fn bundle_key(bytes: &[u8]) -> Result<Option<&[u8; PUBLIC_KEY_BYTES]>, EnrollError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    bytes.try_into().map(Some).map_err(|_| {
        EnrollError::BadDevice(format!(
            "bundle_public_key must be {PUBLIC_KEY_BYTES} bytes (Ed25519), not {}",
            bytes.len()
        ))
    })
}

#[tonic::async_trait]
impl pb::enrollment_server::Enrollment for EnrollmentService {
    async fn enroll(
        &self,
        request: Request<pb::EnrollRequest>,
    ) -> Result<Response<pb::EnrollResponse>, Status> {
        let ip = request
            .remote_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        if let Err(wait) = self.failures.check(ip) {
            return Err(Status::resource_exhausted(format!(
                "too many failed enrollment attempts from this address: try again in {} s",
                wait.as_secs().max(1)
            )));
        }
        // Counted on its connection while it runs, not while its request
        // was on its way.
        let _working = super::working(&request);
        let req = request.into_inner();
        let db = self.db.clone();
        let answer = tokio::task::spawn_blocking(move || {
            db.read(|tx| registry::code_person(tx, &req.code))?;
            db.write(|tx| {
                let (device, token) = registry::enroll(
                    tx,
                    &req.code,
                    &req.actor_id,
                    &req.device_name,
                    bundle_key(&req.bundle_public_key)?,
                )?;
                let scopes = registry::readable_scopes(tx, &device.principal)?;
                let township = registry::township(tx)?;
                Ok::<_, EnrollError>(pb::EnrollResponse {
                    device_token: token,
                    device_id: device.id,
                    identity: Some(pb::Identity {
                        township,
                        ..convert::identity(&device.person(tx)?)
                    }),
                    readable_scopes: scopes.iter().map(ToString::to_string).collect(),
                })
            })
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        if matches!(
            answer,
            Err(EnrollError::UnknownCode
                | EnrollError::UsedCode(_)
                | EnrollError::ExpiredCode(_)
                | EnrollError::BadDevice(_))
        ) {
            self.failures.charge(ip);
        }
        match answer {
            Ok(a) => {
                tracing::info!(device = a.device_id, "device enrolled");
                Ok(Response::new(a))
            }
            Err(
                e @ (EnrollError::UnknownCode
                | EnrollError::UsedCode(_)
                | EnrollError::ExpiredCode(_)),
            ) => Err(Status::unauthenticated(e.to_string())),
            Err(EnrollError::BadDevice(m)) => Err(Status::invalid_argument(m)),
            Err(e @ (EnrollError::Storage(_) | EnrollError::Server(_))) => {
                Err(Status::internal(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_key_is_none_or_32_bytes_and_a_wrong_length_is_named() {
        assert_eq!(bundle_key(&[]).unwrap(), None);
        assert_eq!(bundle_key(&[7; 32]).unwrap(), Some(&[7; 32]));
        for len in [1, 31, 33, 4096] {
            let err = bundle_key(&vec![7; len]).unwrap_err().to_string();
            assert!(
                err.contains("bundle_public_key must be 32 bytes")
                    && err.contains(&len.to_string()),
                "{err}"
            );
        }
    }
}
