//! `massline-bench`: the village sync benchmark (scenarios S1 to S5 of
//! ../shared/bench/README.md) through massline's own client API against a real
//! server process.
//!
//! ```text
//! massline-bench run --scenario chain --runs 3 --out results.json
//! massline-bench run --scenario chain --runs 3 --encrypted   # with --features sqlcipher
//! massline-bench run --scenario s5 --workload-30 workload-30.json
//! massline-bench compare --ours results.json --peer peer.json
//! massline-bench link2g --runs 3 --out link2g.json
//! massline-bench load --devices 2000 --out load.json
//! massline-bench dashboard --villages 30 --runs 20 --out dashboard.json
//! massline-bench train-dictionary --out model/dict/changes-v1.zdict
//! ```
//!
//! Each phone connection runs in a fresh child process (`massline-bench phone …`)
//! so its peak RSS is its own; the server is the release `massline-server`.

mod compare;
mod dashboard;
mod link2g;
mod load;
mod phone;
mod profile;
mod scenarios;
mod server;
mod store;
mod train;
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
    /// S1 and S2 over an emulated 2G link (64 kbit/s, 600 ms), without and with cuts.
    Link2g(link2g::Link2gArgs),
    /// Many devices, each with its own store, syncing at once against one server.
    Load(load::LoadArgs),
    /// The township dashboard on many villages: overview, ledgers, XLSX.
    Dashboard(dashboard::DashboardArgs),
    /// Time the S1 and S4 steps in one process, without the network.
    Profile(profile::ProfileArgs),
    /// Train the zstd dictionary of packed changes on a workload.
    TrainDictionary(train::TrainArgs),
    /// One phone connection, in its own process (used by `run`).
    Phone(phone::PhoneArgs),
    /// Print massline against the automerge-repo peer, as ratios (medians
    /// over all the runs of each side's files).
    Compare {
        /// massline's results (from `run --out`); repeat for more rounds.
        #[arg(long, required = true)]
        ours: Vec<PathBuf>,
        /// The peer's results (from its bench.mjs --out); repeat for more rounds.
        #[arg(long, required = true)]
        peer: Vec<PathBuf>,
    },
}

/// Reading changes makes many small allocations, which mimalloc takes with less
/// CPU than the C library's malloc (ARCHITECTURE.md, after the crates).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => scenarios::run(args),
        Command::Link2g(args) => link2g::run(args),
        Command::Load(args) => load::run(args),
        Command::Phone(args) => phone::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Dashboard(args) => dashboard::run(args),
        Command::TrainDictionary(args) => train::run(args),
        Command::Compare { ours, peer } => compare::print(&ours, &peer),
    }
}
