//! `massline.v1.Sync`: push and pull.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use massline_core::packing::Unpacker;
use massline_proto::pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::{authenticate, convert};
use crate::db::Db;
use crate::error::Error;
use crate::feed::{self, FeedOptions};
use crate::follower::Follower;
use crate::ingest;

/// The sync service.
#[derive(Debug, Clone)]
pub struct SyncService {
    db: Arc<Db>,
    feed: FeedOptions,
    rows: Follower,
}

impl SyncService {
    /// Serves sync from `db`.
    pub fn new(db: Arc<Db>, feed: FeedOptions, rows: Follower) -> Self {
        SyncService { db, feed, rows }
    }
}

type Answers<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl pb::sync_server::Sync for SyncService {
    type PushStream = Answers<pb::PushResponse>;
    type PullStream = Answers<pb::PullResponse>;

    async fn push(
        &self,
        request: Request<Streaming<pb::PushRequest>>,
    ) -> Result<Response<Self::PushStream>, Status> {
        let device = Arc::new(authenticate(&self.db, &request).await?);
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(4);
        let db = self.db.clone();
        let rows = self.rows.clone();
        // Two stages, so the work of one message that needs no database
        // (decompressing, parsing, reading first changes) overlaps with taking
        // in the message before it.
        let (ready, mut readied) = mpsc::channel::<Result<Vec<ingest::Prepared>, Status>>(1);
        tokio::spawn(async move {
            let mut unpacker = Unpacker::new();
            loop {
                let msg = match inbound.message().await {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(status) => {
                        // Oversized or undecodable message, or the device went away.
                        tracing::debug!(%status, "push stream ended");
                        let _ = ready.send(Err(status)).await;
                        break;
                    }
                };
                let entries = match unpacker.unpack(&msg.frame, msg.changes) {
                    Ok(e) => e,
                    Err(e) => {
                        let _ = ready
                            .send(Err(Status::invalid_argument(e.to_string())))
                            .await;
                        break;
                    }
                };
                let started = std::time::Instant::now();
                let n = entries.len();
                let Ok(prepared) =
                    tokio::task::spawn_blocking(move || ingest::prepare(entries)).await
                else {
                    break;
                };
                tracing::debug!(
                    entries = n,
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "push message prepared"
                );
                if ready.send(Ok(prepared)).await.is_err() {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            while let Some(next) = readied.recv().await {
                let answer = match next {
                    Err(status) => Err(status),
                    Ok(prepared) => {
                        let (db, device) = (db.clone(), device.clone());
                        let now = chrono::Utc::now().timestamp();
                        let started = std::time::Instant::now();
                        let done = tokio::task::spawn_blocking(move || {
                            ingest::ingest_prepared(&db, &device, prepared, now)
                        })
                        .await;
                        tracing::debug!(
                            ms = started.elapsed().as_secs_f64() * 1e3,
                            "push message taken in"
                        );
                        match done {
                            Ok(Ok(a)) => {
                                rows.poke();
                                Ok(convert::push_ack(a))
                            }
                            Ok(Err(e @ Error::MessageRefused(_))) => {
                                Err(Status::invalid_argument(e.to_string()))
                            }
                            Ok(Err(e)) => Err(Status::internal(e.to_string())),
                            Err(e) => Err(Status::internal(e.to_string())),
                        }
                    }
                };
                let failed = answer.is_err();
                if tx.send(answer).await.is_err() || failed {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn pull(
        &self,
        request: Request<pb::PullRequest>,
    ) -> Result<Response<Self::PullStream>, Status> {
        let device = authenticate(&self.db, &request).await?;
        let req = convert::pull_request(request.into_inner());
        let (tx, rx) = mpsc::channel(4);
        let (db, opts) = (self.db.clone(), self.feed);
        tokio::task::spawn_blocking(move || {
            let sent = feed::answer(&db, &device, &req, &opts, |batch| {
                tx.blocking_send(Ok(convert::pull_batch(batch))).is_ok()
            });
            if let Err(e) = sent {
                let _ = tx.blocking_send(Err(Status::internal(e.to_string())));
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
