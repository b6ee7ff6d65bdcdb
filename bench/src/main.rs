//! `massline-bench`: the village sync benchmark (scenarios S1 to S5 of
//! ../shared/bench/README.md) through massline's own client API against a real
//! server process.
//!
//! ```text
//! massline-bench run --scenario chain --runs 3 --out results.json
//! massline-bench run --scenario s5 --workload-30 workload-30.json
//! massline-bench compare --ours results.json --peer peer.json
//! ```
//!
//! Each phone connection runs in a fresh child process (`massline-bench phone …`)
//! so its peak RSS is its own; the server is the release `massline-server`.

mod compare;
mod phone;
mod profile;
mod scenarios;
mod server;
mod workload;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The village sync benchmark.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios and print a table (and write JSON with --out).
    Run(scenarios::RunArgs),
    /// Time the S1 and S4 steps in one process, without the network.
    Profile(profile::ProfileArgs),
    /// One phone connection, in its own process (used by `run`).
    Phone(phone::PhoneArgs),
    /// Print massline against the automerge-repo peer, as ratios.
    Compare {
        /// massline's results (from `run --out`).
        #[arg(long)]
        ours: PathBuf,
        /// The peer's results (from its bench.mjs --out).
        #[arg(long)]
        peer: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => scenarios::run(args),
        Command::Phone(args) => phone::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Compare { ours, peer } => compare::print(&ours, &peer),
    }
}
