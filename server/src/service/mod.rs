//! The gRPC edge of the server: the only server code that sees `massline.v1` types.

pub mod enrollment;
pub mod stream;
pub mod sync;

use std::sync::Arc;

use tonic::{Request, Status};

use crate::connections::{Call, Peer};
use crate::db::Db;
use crate::error::Error;
use crate::limits::LimitError;
use crate::registry::{self, Device};

/// The device behind a call, from its `authorization: Bearer <token>` metadata.
/// Read from the registry on every call, so a revoked device is refused at once;
/// on the reader kept for lookups, so it never waits behind pulls. One row
/// by key: read here, on the call's task, as it takes less than handing it
/// to a thread of its own (which a busy machine may not run at once).
async fn authenticate<T>(db: &Arc<Db>, req: &Request<T>) -> Result<Device, Status> {
    let token = req
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| Status::unauthenticated("missing device token (authorization: Bearer …)"))?
        .to_string();
    let version = req
        .metadata()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .and_then(registry::app_version);
    let device = match db.lookup(|tx| registry::authenticate(tx, &token)) {
        Ok(Some(device)) => device,
        Ok(None) => {
            return Err(Status::unauthenticated(
                "device token unknown or revoked: enrol again",
            ));
        }
        Err(e) => return Err(status_of(e)),
    };
    // The township office's device list shows when each device last
    // synced, pulls too; noted at most once a minute, so that idle syncs
    // stay reads, and beside the call, not before it: the call's work does
    // not wait for a write of bookkeeping.
    if registry::worth_noting(&device, version.as_deref(), registry::now()) {
        let (db, id) = (db.clone(), device.id);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = db.write(|tx| registry::called(tx, id, version.as_deref())) {
                tracing::warn!(device = id, error = %e, "noting a device's call failed");
            }
        });
    }
    Ok(device)
}

/// The call counted as under way on its connection (see
/// [`crate::connections::Call`]), from now until the guard is dropped: a
/// service takes it once it does a device's work, and keeps it while that
/// work goes on, never while a call only waits on a device without limit.
fn working<T>(req: &Request<T>) -> Option<Call> {
    req.extensions().get::<Peer>().map(Peer::call)
}

/// The status a call ends with when the server fails it.
fn status_of(e: Error) -> Status {
    match e {
        Error::Revoked(_) => Status::unauthenticated(e.to_string()),
        Error::MessageRefused(_) => Status::invalid_argument(e.to_string()),
        e => Status::internal(e.to_string()),
    }
}

/// The status of a device over one of its limits.
fn over_limit(e: LimitError) -> Status {
    Status::resource_exhausted(e.to_string())
}
