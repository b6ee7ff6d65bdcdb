//! `massline status` says how much waits to be sent (changes and bytes, as
//! the outbox holds them), and `massline sync --attempts N` gets through a
//! link cut on its first connections by trying again, where one attempt
//! fails with the cut; afterwards nothing waits and the server holds every
//! change once.

use std::process::{Command, Stdio};

use linksim::{LinkConfig, LinkSim};
use massline_tests::{Device, TestServer, Township, cli_binary, massline, opinion};

/// Records made before the syncs.
const RECORDS: i64 = 20;

/// `massline status --json` of the store at `path`.
fn status(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&massline(path, &["status", "--json"])).unwrap()
}

/// Runs `massline sync --attempts <n>`; whether it succeeded.
fn sync(path: &std::path::Path, attempts: u32) -> bool {
    Command::new(cli_binary())
        .arg("--store")
        .arg(path)
        .args(["sync", "--attempts", &attempts.to_string()])
        .env("MASSLINE_LANG", "en")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_sync_tries_again_after_cuts() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let link = LinkSim::start(server.addr, LinkConfig::default())
        .await
        .unwrap();
    let li = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
    for i in 0..RECORDS {
        li.client
            .create(opinion(&format!("第{i}条：路灯不亮")), None)
            .unwrap();
    }

    let waiting: (i64, i64) = rusqlite::Connection::open(&li.path)
        .unwrap()
        .query_row("SELECT count(*), sum(length(bytes)) FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let s = status(&li.path);
    assert_eq!(
        (s["unsent"].as_i64(), s["unsent_bytes"].as_i64()),
        (Some(waiting.0), Some(waiting.1)),
        "{s}"
    );
    assert_eq!(waiting.0, RECORDS);

    // One attempt, cut during its handshake: it fails, nothing is sent.
    link.configure(|c| c.cuts.push_back(Some(300)));
    let path = li.path.clone();
    assert!(
        !tokio::task::spawn_blocking(move || sync(&path, 1))
            .await
            .unwrap()
    );
    assert_eq!(status(&li.path)["unsent"].as_i64(), Some(RECORDS));

    // Two cuts, then a whole link: three attempts get through.
    link.configure(|c| c.cuts.extend([Some(300), Some(1500)]));
    let path = li.path.clone();
    assert!(
        tokio::task::spawn_blocking(move || sync(&path, 3))
            .await
            .unwrap()
    );
    assert_eq!(status(&li.path)["unsent"].as_i64(), Some(0));
    assert_eq!(town.stored_changes(), RECORDS);
    server.stop().await;
}
