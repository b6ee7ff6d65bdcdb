//! How much of a push call may be on its way at once.
//!
//! The server answers each push message once it has stored it; a cut link
//! loses the messages not yet answered, and the next call sends them again.
//! A message leaves only while the unanswered ones hold fewer compressed
//! bytes than the call's budget ([`SyncOptions::push_in_flight_bytes`],
//! smaller on a slow link): enough to keep the link busy while answers come
//! back, little enough that a cut loses little; and never more than a
//! message's uncompressed size, which shrinks after a cut, so that on a link
//! cut every kilobyte or two one message travels alone. The budget counts the frames
//! as they go on the wire; the uncompressed size a message is made to says
//! little of that (a 32 KiB message of the village is some 3.4 kB).
//!
//! [`SyncOptions::push_in_flight_bytes`]: super::engine::SyncOptions::push_in_flight_bytes

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

/// The push messages of one call sent and not yet answered: their frames'
/// compressed bytes, oldest first.
#[derive(Debug, Default)]
pub struct Window {
    unanswered: Mutex<VecDeque<usize>>,
    answered: Notify,
}

impl Window {
    /// Waits until the unanswered messages hold fewer than `budget` bytes
    /// (or none: a message larger than the budget still goes, alone).
    pub async fn room(&self, budget: usize) {
        loop {
            let answer = self.answered.notified();
            if self.in_flight() < budget || self.unanswered() == 0 {
                return;
            }
            answer.await;
        }
    }

    /// Compressed bytes sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.queue().iter().sum()
    }

    /// Messages sent and not yet answered.
    pub fn unanswered(&self) -> usize {
        self.queue().len()
    }

    /// A message of `bytes` (its frame) left.
    pub fn sent(&self, bytes: usize) {
        self.queue().push_back(bytes);
    }

    /// The oldest unanswered message was answered.
    pub fn answered(&self) {
        self.queue().pop_front();
        self.answered.notify_waiters();
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<usize>> {
        self.unanswered.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    #[test]
    fn messages_wait_while_the_unanswered_fill_the_budget() {
        let window = Window::default();
        // Frames of 3,400 bytes (a 32 KiB message of the village at level
        // 19) under a 12,000-byte budget: four go, the fifth waits.
        for _ in 0..4 {
            assert!(window.room(12_000).now_or_never().is_some());
            window.sent(3_400);
        }
        assert_eq!(window.in_flight(), 13_600);
        assert!(
            window.room(12_000).now_or_never().is_none(),
            "the unanswered frames hold the next one back"
        );
        window.answered();
        assert!(window.room(12_000).now_or_never().is_some());
        assert_eq!(window.unanswered(), 3);
    }

    #[test]
    fn a_frame_larger_than_the_budget_goes_alone() {
        let window = Window::default();
        assert!(window.room(1_000).now_or_never().is_some());
        window.sent(50_000);
        assert!(window.room(1_000).now_or_never().is_none());
        window.answered();
        assert!(window.room(1_000).now_or_never().is_some());
    }
}
