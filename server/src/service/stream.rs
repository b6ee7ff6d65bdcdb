//! The answer stream of a streaming call, fed by the call's task under the
//! call's clock ([`CallClock`]): a device that stops taking its answer, or a
//! call that outlives its time, is cut off with the reason as its status.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tonic::Status;

use crate::limits::{CallClock, Cut};

/// Answers waiting to go out, between the call's task and the network: enough
/// for the task to read ahead while the last goes out, few so that a device
/// that stops reading holds little memory.
pub const QUEUED_ANSWERS: usize = 4;

/// The status a call is ended with when it is cut off.
pub fn cut_status(cut: Cut) -> Status {
    match cut {
        Cut::TooLong(_) | Cut::NotReading(_) | Cut::NotSending(_) => {
            Status::deadline_exceeded(cut.to_string())
        }
        Cut::Gone => Status::cancelled(cut.to_string()),
    }
}

/// A new answer: the task's end and the stream tonic sends.
pub fn channel<T>(clock: CallClock) -> (Answering<T>, Answer<T>) {
    let (tx, rx) = mpsc::channel(QUEUED_ANSWERS);
    let ending = Arc::new(OnceLock::new());
    (
        Answering {
            tx,
            ending: ending.clone(),
            clock,
        },
        Answer {
            rx,
            ending,
            ended: false,
        },
    )
}

/// The call task's end of an answer.
#[derive(Debug)]
pub struct Answering<T> {
    tx: mpsc::Sender<Result<T, Status>>,
    /// Set when the call ends with a status the queue had no room for.
    ending: Arc<OnceLock<Status>>,
    clock: CallClock,
}

impl<T> Answering<T> {
    /// The call's clock.
    pub fn clock(&self) -> &CallClock {
        &self.clock
    }

    /// Sends `item` when the device has room for it. `false`: the call is
    /// over (the device went away, or was cut off); stop.
    pub async fn send(&self, item: T) -> bool {
        match self.clock.send(&self.tx, Ok(item)).await {
            Ok(()) => true,
            Err(cut) => {
                self.fail(cut_status(cut));
                false
            }
        }
    }

    /// Ends the answer with `status`: after the answers queued if there is
    /// room, otherwise (a device that stopped reading) ahead of them, which
    /// are dropped.
    pub fn fail(&self, status: Status) {
        if let Err(TrySendError::Full(Err(status))) = self.tx.try_send(Err(status)) {
            let _ = self.ending.set(status);
        }
    }
}

/// The stream of a call's answers, as tonic sends them.
#[derive(Debug)]
pub struct Answer<T> {
    rx: mpsc::Receiver<Result<T, Status>>,
    ending: Arc<OnceLock<Status>>,
    ended: bool,
}

impl<T> Answer<T> {
    fn end(&mut self, status: Status) -> Poll<Option<Result<T, Status>>> {
        self.ended = true;
        // The answers still queued will not be sent: free them now.
        self.rx.close();
        while self.rx.try_recv().is_ok() {}
        Poll::Ready(Some(Err(status)))
    }
}

impl<T> Stream for Answer<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if let Some(status) = self.ending.get().cloned() {
            return self.end(status);
        }
        match self.rx.poll_recv(cx) {
            // The task has ended; it may have set the ending after the last poll.
            Poll::Ready(None) => match self.ending.get().cloned() {
                Some(status) => self.end(status),
                None => {
                    self.ended = true;
                    Poll::Ready(None)
                }
            },
            Poll::Ready(Some(Err(status))) => self.end(status),
            other => other,
        }
    }
}
