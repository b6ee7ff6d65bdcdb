//! The township dashboard on a township of many villages (the demo's
//! generator, 30 villages by default): the overview, every ledger's page and
//! every ledger's XLSX of the whole township, asked for as a township
//! officer's browser does, from the release `massline-server`. Each answer's
//! server time is its `Server-Timing` header; the time a client waited (a new
//! TLS connection each) is given beside it.
//!
//! ```text
//! massline-bench dashboard --villages 30 --runs 20 --out dashboard.json
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use massline_core::PersonId;
use massline_server::{admin, demo, web::ledger::LEDGERS};
use massline_tests::Township;
use massline_tests::web::Https;
use serde_json::json;

use crate::server::Server;

/// Options of `massline-bench dashboard`.
#[derive(clap::Args)]
pub struct DashboardArgs {
    /// Villages in the township.
    #[arg(long, default_value_t = 30)]
    villages: usize,
    /// Times each page is asked for.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Write the figures as JSON here too.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The officer's password in the bench's township.
const PASSWORD: &str = "bench password for the office";

/// Medians of one page: server time and the client's wait, milliseconds.
struct Timed {
    name: String,
    server_ms: f64,
    client_ms: f64,
    bytes: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the dashboard benchmark.
pub fn run(args: DashboardArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let started = Instant::now();
    let made = {
        let db = admin::open(&data)?;
        let made = demo::fill_villages(
            &db,
            demo::DEFAULT_SEED,
            chrono::Local::now().date_naive(),
            &demo::villages(args.villages),
        )?;
        let officer = PersonId::new(demo::OFFICER).map_err(anyhow::Error::msg)?;
        admin::set_password(&db, &officer, PASSWORD)?;
        made
    };
    let db_bytes = std::fs::metadata(data.join("massline.db"))?.len();
    eprintln!(
        "township of {} villages, {} records, {:.1} MiB, made in {:.1} s",
        made.villages,
        made.records,
        db_bytes as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );
    let web_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let web = format!("127.0.0.1:{web_port}");
    let server = Server::start_with(&data, "127.0.0.1:0", &["--web", &web])?;
    let rt = tokio::runtime::Runtime::new()?;
    let pages: Vec<(String, String)> =
        std::iter::once(("overview".into(), "/?period=campaign".into()))
            .chain(LEDGERS.iter().map(|l| {
                (
                    format!("ledger {}", l.name),
                    format!("/ledgers/{}?period=campaign", l.name),
                )
            }))
            .chain(LEDGERS.iter().map(|l| {
                (
                    format!("xlsx {}", l.name),
                    format!("/ledgers/{}?period=campaign&format=xlsx", l.name),
                )
            }))
            .collect();
    let timed = rt.block_on(async {
        let client = Https::new(&Township::at(&data), web.parse()?);
        let login = client.login(demo::OFFICER, PASSWORD).await;
        let mut out = Vec::new();
        for (name, path) in &pages {
            let (mut server_ms, mut client_ms, mut bytes) = (Vec::new(), Vec::new(), 0);
            for _ in 0..args.runs.max(1) {
                let asked = Instant::now();
                let answer = client.get_as(&login, path).await;
                client_ms.push(asked.elapsed().as_secs_f64() * 1000.0);
                if answer.status != 200 {
                    bail!("{path}: {} {}", answer.status, answer.text());
                }
                let timing = answer
                    .header("server-timing")
                    .and_then(|t| t.strip_prefix("app;dur="))
                    .and_then(|t| t.parse::<f64>().ok())
                    .with_context(|| format!("{path}: no Server-Timing"))?;
                server_ms.push(timing);
                bytes = answer.body.len();
            }
            out.push(Timed {
                name: name.clone(),
                server_ms: median(server_ms),
                client_ms: median(client_ms),
                bytes,
            });
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    server.stop()?;

    println!(
        "{:<28} {:>12} {:>12} {:>10}",
        "page (median of runs)", "server ms", "client ms", "bytes"
    );
    for t in &timed {
        println!(
            "{:<28} {:>12.1} {:>12.1} {:>10}",
            t.name, t.server_ms, t.client_ms, t.bytes
        );
    }
    if let Some(out) = args.out {
        let rows: Vec<_> = timed
            .iter()
            .map(|t| {
                json!({"page": t.name, "server_ms": t.server_ms,
                       "client_ms": t.client_ms, "bytes": t.bytes})
            })
            .collect();
        std::fs::write(
            out,
            serde_json::to_vec_pretty(&json!({
                "villages": made.villages,
                "records": made.records,
                "database_bytes": db_bytes,
                "runs": args.runs,
                "pages": rows,
            }))?,
        )?;
    }
    Ok(())
}
