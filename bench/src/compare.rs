//! massline against the automerge-repo peer, from the result files of one
//! run: each side's files are taken together (the rounds of
//! `bench/run-vs-peer.sh`, which runs the two sides in turn), and each figure
//! is the median over all their runs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

fn load(p: &Path) -> anyhow::Result<Value> {
    Ok(serde_json::from_slice(&std::fs::read(p).with_context(
        || format!("cannot read {}", p.display()),
    )?)?)
}

/// Every run found at `runs` (a JSON pointer to an array) in `files`.
fn runs_of(files: &[Value], runs: &str) -> Vec<Value> {
    files
        .iter()
        .filter_map(|f| f.pointer(runs).and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect()
}

/// The median of `ptr` over the runs that have it.
fn median_of(runs: &[Value], ptr: &str) -> Option<f64> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.pointer(ptr).and_then(Value::as_f64))
        .collect();
    (!values.is_empty()).then(|| crate::scenarios::median(values))
}

fn row(name: &str, peer: Option<f64>, ours: Option<f64>, unit: &str) {
    let fmt = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.0} {unit}"));
    let ratio = match (peer, ours) {
        (Some(p), Some(o)) if o > 0.0 => format!("{:.1}× ({:.3})", p / o, o / p),
        _ => "-".into(),
    };
    println!(
        "{name:<34} {:>16} {:>16} {:>22}",
        fmt(peer),
        fmt(ours),
        ratio
    );
}

/// Prints the comparison table: peer, massline, and peer/massline (massline/peer).
pub fn print(ours: &[PathBuf], peer: &[PathBuf]) -> anyhow::Result<()> {
    let load_all = |files: &[PathBuf]| {
        files
            .iter()
            .map(|f| load(f))
            .collect::<anyhow::Result<Vec<_>>>()
    };
    let (o, p) = (load_all(ours)?, load_all(peer)?);
    let ours_chain = runs_of(&o, "/chain/runs");
    let ours_s5 = runs_of(&o, "/s5/runs");
    let peer_runs = |s: &str| runs_of(&p, &format!("/runs/{s}"));
    let peer_s5 = peer_runs("S5");
    println!(
        "runs: automerge-repo {} (S5 {}), massline {} (S5 {})",
        peer_runs("S1").len(),
        peer_s5.len(),
        ours_chain.len(),
        ours_s5.len()
    );
    println!(
        "{:<34} {:>16} {:>16} {:>22}",
        "", "automerge-repo", "massline", "ratio peer/ours (ours/peer)"
    );
    let pm = |s: &str, k: &str| median_of(&peer_runs(s), &format!("/{k}"));
    let om = |s: &str, k: &str| median_of(&ours_chain, &format!("/scenarios/{s}/{k}"));
    let p5 = |k: &str| median_of(&peer_s5, &format!("/{k}"));
    let o5 = |k: &str| median_of(&ours_s5, &format!("/{k}"));
    row(
        "S1 time to durable upload",
        pm("S1", "storedMs"),
        om("S1", "millis"),
        "ms",
    );
    row(
        "S1 payload up",
        pm("S1", "up/bytes"),
        om("S1", "payload_up"),
        "B",
    );
    row(
        "S1 payload down",
        pm("S1", "down/bytes"),
        om("S1", "payload_down"),
        "B",
    );
    row(
        "S1 link up",
        pm("S1", "up/tcpBytes"),
        om("S1", "link_up"),
        "B",
    );
    row(
        "S1 server peak RSS",
        pm("S1", "serverRssPeakWindow"),
        om("S1", "server_peak_rss"),
        "B",
    );
    row(
        "S1 phone peak RSS",
        pm("S1", "phoneMaxRss"),
        om("S1", "phone_max_rss"),
        "B",
    );
    row(
        "S2 time (settled)",
        pm("S2", "settledMs"),
        om("S2", "millis"),
        "ms",
    );
    row(
        "S2 payload up",
        pm("S2", "up/bytes"),
        om("S2", "payload_up"),
        "B",
    );
    row(
        "S2 payload down",
        pm("S2", "down/bytes"),
        om("S2", "payload_down"),
        "B",
    );
    row(
        "S2 link up+down",
        pm("S2", "up/tcpBytes")
            .zip(pm("S2", "down/tcpBytes"))
            .map(|(a, b)| a + b),
        om("S2", "link_up")
            .zip(om("S2", "link_down"))
            .map(|(a, b)| a + b),
        "B",
    );
    row(
        "S3 time to durable upload",
        pm("S3", "storedMs"),
        om("S3", "millis"),
        "ms",
    );
    row(
        "S3 payload up",
        pm("S3", "up/bytes"),
        om("S3", "payload_up"),
        "B",
    );
    row(
        "S3 payload down",
        pm("S3", "down/bytes"),
        om("S3", "payload_down"),
        "B",
    );
    row(
        "S4 time to durable download",
        pm("S4", "storedMs"),
        om("S4", "millis"),
        "ms",
    );
    row(
        "S4 payload down",
        pm("S4", "down/bytes"),
        om("S4", "payload_down"),
        "B",
    );
    row(
        "S4 payload up",
        pm("S4", "up/bytes"),
        om("S4", "payload_up"),
        "B",
    );
    row(
        "S4 phone peak RSS",
        pm("S4", "phoneMaxRss"),
        om("S4", "phone_max_rss"),
        "B",
    );
    row(
        "S5 wall, 30 phones in turn",
        p5("totalWallMs"),
        o5("wall_ms"),
        "ms",
    );
    row(
        "S5 sum of connect→stored",
        p5("sumStoredMs"),
        o5("sum_ms"),
        "ms",
    );
    row(
        "S5 server peak RSS",
        p5("serverMaxRss"),
        o5("server_peak_rss"),
        "B",
    );
    row("S5 payload up", p5("up/bytes"), o5("payload_up"), "B");
    Ok(())
}
