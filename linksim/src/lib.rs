//! A TCP proxy that behaves like a bad link: limited bandwidth, added latency,
//! and connections cut at chosen (or random) byte offsets. It stands in for
//! `tc netem`, in user space, for tests and benchmarks.
//!
//! Each direction of a connection is paced on its own: a chunk read at time
//! `t` is delivered no earlier than `t + latency`, and no faster than the
//! bandwidth allows, a segment (1460 bytes) at a time. A new connection waits
//! `connect_delay` (the TCP handshake's round trip) before carrying anything.
//! A cut counts the bytes delivered in both directions and drops the
//! connection once the offset is reached, mid-message if it falls there;
//! whatever the link still held is lost.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// How the link behaves.
#[derive(Clone, Debug, Default)]
pub struct LinkConfig {
    /// Bits per second in each direction; `None` is unlimited.
    pub bits_per_second: Option<u64>,
    /// One-way delay added to every chunk (half the round trip).
    pub one_way_delay: Duration,
    /// Time before a new connection carries anything. The proxy accepts at
    /// once on loopback, so a link's TCP handshake (one round trip before the
    /// client's first byte leaves) is emulated by waiting this long.
    pub connect_delay: Duration,
    /// Cut offsets for the next connections, in order: connection k is cut
    /// after `cuts[k]` bytes (both directions together); `None` is no cut.
    pub cuts: VecDeque<Option<u64>>,
    /// Once `cuts` is used up: cut each further connection at a random
    /// offset below this many bytes, with probability `random_cut_chance`.
    pub random_cut_below: Option<u64>,
    /// Chance (0 to 1) that a further connection is cut at a random offset.
    pub random_cut_chance: f64,
}

impl LinkConfig {
    /// A link of `kbit` kbit/s each way and `rtt` round trip, whose
    /// connections take one round trip to set up.
    pub fn slow(kbit: u64, rtt: Duration) -> Self {
        LinkConfig {
            bits_per_second: Some(kbit * 1000),
            one_way_delay: rtt / 2,
            connect_delay: rtt,
            ..LinkConfig::default()
        }
    }
}

/// What went through the proxy.
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections cut on purpose.
    pub cuts: AtomicU64,
    /// Bytes forwarded towards the target.
    pub upstream_bytes: AtomicU64,
    /// Bytes forwarded back to the client.
    pub downstream_bytes: AtomicU64,
}

/// A running proxy. Dropping it stops accepting and closes its connections.
#[derive(Debug)]
pub struct LinkSim {
    addr: SocketAddr,
    config: Arc<Mutex<LinkConfig>>,
    stats: Arc<LinkStats>,
    stop: watch::Sender<bool>,
}

impl LinkSim {
    /// Starts a proxy on a free loopback port forwarding to `target`.
    /// Must be called within a tokio runtime.
    pub async fn start(target: SocketAddr, config: LinkConfig) -> std::io::Result<LinkSim> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Self::serve(listener, target, config)
    }

    /// Proxies connections accepted on `listener` to `target`.
    pub fn serve(
        listener: TcpListener,
        target: SocketAddr,
        config: LinkConfig,
    ) -> std::io::Result<LinkSim> {
        let addr = listener.local_addr()?;
        let config = Arc::new(Mutex::new(config));
        let stats = Arc::new(LinkStats::default());
        let (stop, stopped) = watch::channel(false);
        let (cfg, st) = (config.clone(), stats.clone());
        tokio::spawn(async move {
            let mut stopped_accept = stopped.clone();
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stopped_accept.changed() => return,
                };
                let Ok((client, _)) = accepted else { continue };
                st.connections.fetch_add(1, Ordering::Relaxed);
                let (cut, shape, connect_delay) = {
                    let mut c = cfg.lock().unwrap_or_else(|p| p.into_inner());
                    let cut = match c.cuts.pop_front() {
                        Some(cut) => cut,
                        None => match c.random_cut_below {
                            Some(max) if max > 0 && rand::random::<f64>() < c.random_cut_chance => {
                                Some(rand::random_range(0..max))
                            }
                            _ => None,
                        },
                    };
                    (cut, (c.bits_per_second, c.one_way_delay), c.connect_delay)
                };
                let (st, stopped) = (st.clone(), stopped.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(connect_delay).await;
                    if let Ok(server) = TcpStream::connect(target).await {
                        relay(client, server, cut, shape, st, stopped).await;
                    }
                });
            }
        });
        Ok(LinkSim {
            addr,
            config,
            stats,
            stop,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes how further connections behave.
    pub fn configure(&self, f: impl FnOnce(&mut LinkConfig)) {
        f(&mut self.config.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// What went through so far.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }
}

impl Drop for LinkSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Bytes both directions may still forward before the cut.
struct Budget(Option<AtomicU64>);

impl Budget {
    /// Takes up to `n` bytes; returns how many may go and whether the cut is reached.
    fn take(&self, n: usize) -> (usize, bool) {
        let Some(left) = &self.0 else {
            return (n, false);
        };
        let mut cur = left.load(Ordering::Relaxed);
        loop {
            let give = cur.min(n as u64);
            match left.compare_exchange(cur, cur - give, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return (give as usize, cur - give == 0),
                Err(actual) => cur = actual,
            }
        }
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    cut: Option<u64>,
    shape: (Option<u64>, Duration),
    stats: Arc<LinkStats>,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let budget = Arc::new(Budget(cut.map(AtomicU64::new)));
    let (cut_tx, mut cut_rx) = watch::channel(false);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(
        cr,
        sw,
        shape,
        budget.clone(),
        cut_tx.clone(),
        stats.clone(),
        true,
    );
    let down = pump(sr, cw, shape, budget, cut_tx, stats.clone(), false);
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        _ = cut_rx.wait_for(|c| *c) => {}
        _ = stopped.wait_for(|s| *s) => {}
    }
    // Counted here, not in the branch above: once the budget is spent both
    // directions end at once, and either branch may be the one taken.
    if *cut_rx.borrow() {
        stats.cuts.fetch_add(1, Ordering::Relaxed);
    }
}

/// Bytes a limited link delivers at a time, like one TCP segment.
const SEGMENT: usize = 1460;

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    (bps, delay): (Option<u64>, Duration),
    budget: Arc<Budget>,
    cut: watch::Sender<bool>,
    stats: Arc<LinkStats>,
    upstream: bool,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if tx
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
        // dropping tx lets the writer finish and close its side
    };
    let writer = async move {
        let counter = if upstream {
            &stats.upstream_bytes
        } else {
            &stats.downstream_bytes
        };
        let mut free_at = Instant::now();
        while let Some((due, chunk)) = rx.recv().await {
            // On a limited link, deliver segment by segment as the bandwidth
            // allows; the cut budget counts bytes as they are delivered.
            let step = if bps.is_some() { SEGMENT } else { chunk.len() };
            for segment in chunk.chunks(step.max(1)) {
                let start = due.max(free_at);
                tokio::time::sleep_until(start).await;
                if let Some(bps) = bps {
                    free_at = start
                        + Duration::from_nanos(
                            segment.len() as u64 * 8 * 1_000_000_000 / bps.max(1),
                        );
                    tokio::time::sleep_until(free_at).await;
                }
                let (give, reached) = budget.take(segment.len());
                if to.write_all(&segment[..give]).await.is_err() {
                    return;
                }
                counter.fetch_add(give as u64, Ordering::Relaxed);
                if reached {
                    let _ = cut.send(true);
                    return;
                }
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
