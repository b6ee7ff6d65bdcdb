//! `massline sync` as a person watches it: on a terminal, a line of changes
//! sent and taken in, bytes both ways, and the attempt after a cut link; off
//! a terminal, nothing but the report.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use massline_core::{Client, Error, SyncProgress, SyncReport};

/// How often the line is drawn again.
const TICK: Duration = Duration::from_millis(120);

/// Longest wait before another attempt after a cut.
const MOST_BACKOFF: Duration = Duration::from_secs(30);

/// Syncs, trying again after a cut link up to `attempts` times in all (the
/// sizes of the next attempt's messages follow the cut); draws the progress.
pub async fn sync(client: &Client, attempts: u32) -> Result<SyncReport, Error> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let attempts = attempts.max(1);
    let mut backoff = Duration::from_secs(1);
    for attempt in 1..=attempts {
        let draw = async {
            loop {
                bar.set_message(line(&client.progress(), attempt, attempts));
                bar.tick();
                tokio::time::sleep(TICK).await;
            }
        };
        let result = tokio::select! {
            r = client.sync() => r,
            () = draw => unreachable_draw(),
        };
        match result {
            Err(Error::Network(e)) if attempt < attempts => {
                bar.set_message(format!("{}; again in {} s", e, backoff.as_secs()));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MOST_BACKOFF);
            }
            other => {
                bar.finish_and_clear();
                return other;
            }
        }
    }
    unreachable_draw()
}

/// The line drawn for `p`.
fn line(p: &SyncProgress, attempt: u32, attempts: u32) -> String {
    let mut s = format!(
        "sent {}/{} changes, received {}; {} up, {} down",
        p.sent,
        p.to_send,
        p.received,
        bytes(p.bytes_sent),
        bytes(p.bytes_received)
    );
    if attempt > 1 {
        s.push_str(&format!(" (attempt {attempt} of {attempts})"));
    }
    s
}

/// `n` bytes, as a person reads them.
fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

#[allow(clippy::panic)]
fn unreachable_draw() -> ! {
    panic!("the progress line is drawn until the sync ends")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_what_went_and_which_attempt() {
        let p = SyncProgress {
            running: true,
            to_send: 500,
            sent: 120,
            received: 7,
            bytes_sent: 48_200,
            bytes_received: 950,
        };
        assert_eq!(
            line(&p, 3, 20),
            "sent 120/500 changes, received 7; 48.2 kB up, 950 B down (attempt 3 of 20)"
        );
        assert_eq!(
            line(&p, 1, 20),
            "sent 120/500 changes, received 7; 48.2 kB up, 950 B down"
        );
    }
}
