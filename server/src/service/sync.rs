//! `massline.v1.Sync`: push and pull.
//!
//! Each call holds one of its device's call slots while the server works on
//! it, runs under the call's clock (a device that stops reading or sending is
//! cut off, and no call outlives [`crate::limits::CALL_TIME`]), and holds a
//! database connection only for bounded work, never while it waits on the
//! device.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use massline_model::packing::Unpacker;
use massline_model::parallel;
use massline_proto::pb;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use super::stream::{self, cut_status};
use super::{authenticate, over_limit, status_of, working};
use crate::db::Db;
use crate::feed::{self, FeedOptions};
use crate::follower::Follower;
use crate::ingest;
use crate::limits::{CallClock, Limiter};
use massline_model::protocol::{MAX_MISSING_PER_CALL, PullRequest};

/// Most push messages of one call taken in by one transaction: those that
/// came in, read and prepared, while the ones before them were taken in.
pub const MAX_TOGETHER: usize = 4;

/// Most push messages of one call read and prepared, waiting to be taken in.
pub const READ_AHEAD: usize = 2;

/// The sync service.
#[derive(Debug, Clone)]
pub struct SyncService {
    db: Arc<Db>,
    feed: FeedOptions,
    rows: Follower,
    limiter: Limiter,
}

impl SyncService {
    /// Serves sync from `db`, each device within `limiter`'s limits.
    pub fn new(db: Arc<Db>, feed: FeedOptions, rows: Follower, limiter: Limiter) -> Self {
        SyncService {
            db,
            feed,
            rows,
            limiter,
        }
    }
}

type Answers<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Runs blocking work `f` off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(e.to_string()))
}

#[tonic::async_trait]
impl pb::sync_server::Sync for SyncService {
    type PushStream = Answers<pb::PushResponse>;
    type PullStream = Answers<pb::PullResponse>;

    async fn push(
        &self,
        request: Request<Streaming<pb::PushRequest>>,
    ) -> Result<Response<Self::PushStream>, Status> {
        let device = Arc::new(authenticate(&self.db, &request).await?);
        metrics::counter!(crate::metrics::PUSH_CALLS).increment(1);
        // Held by both stages below: the slot is free, and the call no
        // longer keeps its connection busy, once both have ended.
        let slot = Arc::new((
            self.limiter.begin_call(device.id).map_err(over_limit)?,
            working(&request),
            self.rows.pushing(),
        ));
        let mut inbound = request.into_inner();
        let (answering, answer) = stream::channel(CallClock::start(self.limiter.limits()));
        let clock = *answering.clock();
        let (db, rows, limiter) = (self.db.clone(), self.rows.clone(), self.limiter.clone());
        // Two stages, so the work of one message that needs no database
        // (decompressing, parsing, reading first changes) overlaps with taking
        // in the messages before it; up to two wait, read, to be taken in
        // together next.
        let (ready, mut readied) =
            mpsc::channel::<Result<Vec<ingest::Prepared>, Status>>(READ_AHEAD);
        let (receiving, sender) = (slot.clone(), device.clone());
        tokio::spawn(async move {
            let (_slot, device) = (receiving, sender);
            // Made with the dictionary the first message names.
            let mut unpacker: Option<Unpacker> = None;
            let mut first = true;
            loop {
                let next = tokio::select! {
                    next = clock.receive(inbound.message()) => next,
                    // The answer has ended (a refusal, a failure): stop
                    // waiting on the device, and give its call back.
                    () = ready.closed() => break,
                };
                let msg = match next {
                    Ok(Ok(Some(m))) => m,
                    Ok(Ok(None)) => break,
                    Ok(Err(status)) => {
                        // Oversized or undecodable message, or the device went away.
                        tracing::debug!(%status, "push stream ended");
                        let _ = ready.send(Err(status)).await;
                        break;
                    }
                    Err(cut) => {
                        tracing::debug!(device = device.id, %cut, "push cut off");
                        let _ = ready.send(Err(cut_status(cut))).await;
                        break;
                    }
                };
                // Counted before any work is done on it.
                let bytes = msg.frame.len() as u64;
                metrics::counter!(crate::metrics::PUSH_MESSAGES).increment(1);
                metrics::counter!(crate::metrics::PUSH_BYTES).increment(bytes);
                if let Err(e) = limiter.charge(device.id, bytes, chrono::Utc::now()) {
                    tracing::info!(device = device.id, %e, "push refused");
                    let _ = ready.send(Err(over_limit(e))).await;
                    break;
                }
                if unpacker.is_none() {
                    match Unpacker::for_number(msg.dictionary) {
                        Ok(u) => unpacker = Some(u),
                        Err(e) => {
                            tracing::info!(device = device.id, %e, "push refused");
                            let _ = ready
                                .send(Err(Status::invalid_argument(format!("push: {e}"))))
                                .await;
                            break;
                        }
                    }
                }
                let Some(unpacker) = unpacker.as_mut() else {
                    break;
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
                // The first message has the cores to itself; each after it
                // is read while the one before is taken in.
                let threads = if first {
                    parallel::cores()
                } else {
                    parallel::cores().saturating_sub(1).max(1)
                };
                first = false;
                let Ok(prepared) = blocking(move || ingest::prepare_on(entries, threads)).await
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
            let _slot = slot;
            while let Some(next) = readied.recv().await {
                // The messages that came in while the last ones were taken in
                // share one transaction, and one commit.
                let (mut group, mut failed, mut next) = (Vec::new(), None, Some(next));
                while let Some(n) = next.take() {
                    match n {
                        Ok(p) => group.push(p),
                        Err(status) => {
                            failed = Some(status);
                            break;
                        }
                    }
                    if group.len() < MAX_TOGETHER {
                        next = readied.try_recv().ok();
                    }
                }
                if !group.is_empty() {
                    let (db, device) = (db.clone(), device.clone());
                    let now = chrono::Utc::now().timestamp();
                    let started = std::time::Instant::now();
                    let n = group.len();
                    let done =
                        blocking(move || ingest::ingest_together(&db, &device, group, now)).await;
                    let took = started.elapsed().as_secs_f64();
                    metrics::histogram!(crate::metrics::PUSH_MESSAGE_SECONDS).record(took);
                    tracing::debug!(messages = n, ms = took * 1e3, "push messages taken in");
                    let taken = match done.and_then(|r| r.map_err(status_of)) {
                        Ok(t) => t,
                        Err(status) => return answering.fail(status),
                    };
                    if !taken.acks.is_empty() {
                        rows.poke();
                    }
                    for ack in taken.acks {
                        crate::metrics::answered(&ack);
                        if !answering.send(pb::PushResponse::from(ack)).await {
                            return;
                        }
                    }
                    if let Some(e) = taken.refused {
                        return answering.fail(status_of(e));
                    }
                }
                if let Some(status) = failed {
                    return answering.fail(status);
                }
            }
        });
        Ok(Response::new(Box::pin(answer)))
    }

    async fn missing(
        &self,
        request: Request<pb::MissingRequest>,
    ) -> Result<Response<pb::MissingResponse>, Status> {
        let device = authenticate(&self.db, &request).await?;
        let _slot = self.limiter.begin_call(device.id).map_err(over_limit)?;
        let _working = working(&request);
        let asked = request.into_inner().heads;
        if asked.len() > MAX_MISSING_PER_CALL {
            return Err(Status::invalid_argument(format!(
                "a Missing call names {} changes, more than {MAX_MISSING_PER_CALL}",
                asked.len()
            )));
        }
        let mut heads = Vec::with_capacity(asked.len());
        for (i, h) in asked.iter().enumerate() {
            heads.push(<[u8; 32]>::try_from(h.as_slice()).map_err(|_| {
                Status::invalid_argument(format!(
                    "change {i} of the Missing call is {} bytes, not a 32-byte hash",
                    h.len()
                ))
            })?);
        }
        let db = self.db.clone();
        let missing = blocking(move || feed::missing(&db, &device, &heads))
            .await?
            .map_err(status_of)?;
        Ok(Response::new(pb::MissingResponse { missing }))
    }

    async fn pull(
        &self,
        request: Request<pb::PullRequest>,
    ) -> Result<Response<Self::PullStream>, Status> {
        let device = authenticate(&self.db, &request).await?;
        // Until the task below has handed over its last message: it waits
        // on the device only within the send timeout.
        let slot = (
            self.limiter.begin_call(device.id).map_err(over_limit)?,
            working(&request),
        );
        metrics::counter!(crate::metrics::PULL_CALLS).increment(1);
        let begun = std::time::Instant::now();
        let req = PullRequest::from(request.into_inner());
        let (answering, answer) = stream::channel(CallClock::start(self.limiter.limits()));
        let (db, opts) = (self.db.clone(), self.feed);
        tokio::spawn(async move {
            let _slot = slot;
            // Each message is read with the connection let go before it is
            // sent, so waiting on the device holds none. The first is read
            // with the answer's start: an idle sync's answer is that one.
            let d = db.clone();
            let first = blocking(move || {
                let mut pull = feed::start(&d, &device, &req, &opts)?;
                let next = pull.next_message(&d)?;
                Ok::<_, crate::error::Error>((pull, next))
            })
            .await;
            let (mut pull, mut next) = match first.and_then(|r| r.map_err(status_of)) {
                Ok(p) => p,
                Err(status) => return answering.fail(status),
            };
            while let Some(b) = next {
                let last = b.done;
                metrics::counter!(crate::metrics::PULL_BYTES).increment(b.frame.len() as u64);
                if !answering.send(pb::PullResponse::from(b)).await {
                    return;
                }
                if last {
                    break;
                }
                let d = db.clone();
                next = match blocking(move || {
                    let next = pull.next_message(&d);
                    (pull, next)
                })
                .await
                {
                    Ok((p, Ok(batch))) => {
                        pull = p;
                        batch
                    }
                    Ok((_, Err(e))) => return answering.fail(status_of(e)),
                    Err(status) => return answering.fail(status),
                };
            }
            metrics::histogram!(crate::metrics::PULL_CALL_SECONDS)
                .record(begun.elapsed().as_secs_f64());
        });
        Ok(Response::new(Box::pin(answer)))
    }
}
