//! `linksim`: run the bad-link proxy by hand, e.g. to try the field client
//! over a 64 kbit/s link with a 600 ms round trip.

use std::time::Duration;

use clap::Parser;
use linksim::{LinkConfig, LinkSim};

/// A TCP proxy that emulates a slow, high-latency link that drops.
#[derive(Parser)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:9443")]
    listen: String,
    /// Where to forward (the real server).
    #[arg(long, default_value = "127.0.0.1:7443")]
    target: String,
    /// Bandwidth each way, kbit/s.
    #[arg(long)]
    kbit: Option<u64>,
    /// Round-trip time added, milliseconds.
    #[arg(long, default_value_t = 0)]
    rtt_ms: u64,
    /// Cut connections at a random byte offset below this.
    #[arg(long)]
    cut_below: Option<u64>,
    /// Chance that a connection is cut (with --cut-below).
    #[arg(long, default_value_t = 0.5)]
    cut_chance: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let target = tokio::net::lookup_host(&a.target)
        .await?
        .next()
        .ok_or_else(|| anyhow::anyhow!("cannot resolve {}", a.target))?;
    let listener = tokio::net::TcpListener::bind(&a.listen).await?;
    let sim = LinkSim::serve(
        listener,
        target,
        LinkConfig {
            bits_per_second: a.kbit.map(|k| k * 1000),
            one_way_delay: Duration::from_millis(a.rtt_ms / 2),
            connect_delay: Duration::from_millis(a.rtt_ms),
            random_cut_below: a.cut_below,
            random_cut_chance: a.cut_chance,
            ..LinkConfig::default()
        },
    )?;
    eprintln!("linksim: {} -> {target}", sim.addr());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
