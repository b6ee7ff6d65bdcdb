//! `massline.v1.Enrollment`: a one-time code becomes a device token.

use std::sync::Arc;

use massline_proto::pb;
use tonic::{Request, Response, Status};

use super::convert;
use crate::db::Db;
use crate::registry::{self, EnrollError};

/// The enrollment service.
#[derive(Debug, Clone)]
pub struct EnrollmentService {
    db: Arc<Db>,
}

impl EnrollmentService {
    /// Serves enrollment from `db`.
    pub fn new(db: Arc<Db>) -> Self {
        EnrollmentService { db }
    }
}

#[tonic::async_trait]
impl pb::enrollment_server::Enrollment for EnrollmentService {
    async fn enroll(
        &self,
        request: Request<pb::EnrollRequest>,
    ) -> Result<Response<pb::EnrollResponse>, Status> {
        let req = request.into_inner();
        let db = self.db.clone();
        let answer = tokio::task::spawn_blocking(move || {
            db.write(|tx| {
                let (device, token) =
                    registry::enroll(tx, &req.code, &req.actor_id, &req.device_name)?;
                let scopes = registry::readable_scopes(tx, &device.principal)
                    .map_err(|e| EnrollError::BadActor(e.to_string()))?;
                let township =
                    registry::township(tx).map_err(|e| EnrollError::BadActor(e.to_string()))?;
                let village_name = match &device.principal.village {
                    Some(v) => registry::villages(tx)
                        .map_err(|e| EnrollError::BadActor(e.to_string()))?
                        .into_iter()
                        .find(|(c, _)| c == v)
                        .map(|(_, n)| n)
                        .unwrap_or_default(),
                    None => String::new(),
                };
                Ok::<_, EnrollError>(pb::EnrollResponse {
                    device_token: token,
                    device_id: device.id,
                    identity: Some(pb::Identity {
                        person_id: device.principal.person.to_string(),
                        name: device.name.clone(),
                        role: convert::role(device.principal.role).into(),
                        village: device
                            .principal
                            .village
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        village_name,
                        township,
                    }),
                    readable_scopes: scopes.iter().map(ToString::to_string).collect(),
                })
            })
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        match answer {
            Ok(a) => {
                tracing::info!(device = a.device_id, "device enrolled");
                Ok(Response::new(a))
            }
            Err(EnrollError::BadCode) => {
                Err(Status::unauthenticated(EnrollError::BadCode.to_string()))
            }
            Err(EnrollError::BadActor(m)) => Err(Status::invalid_argument(m)),
            Err(EnrollError::Storage(e)) => Err(Status::internal(e.to_string())),
        }
    }
}
