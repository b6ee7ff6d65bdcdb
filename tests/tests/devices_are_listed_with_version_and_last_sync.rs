//! `massline-server admin device list` lists each person's devices with the
//! app version they called with and when they last synced, pulls counting
//! too; `--person` lists one person's. An idle sync within a minute of the
//! last noted one writes nothing. A hostile `user-agent` is kept as at most
//! 40 plain characters of its first word.

use std::process::Command;

use massline_tests::{Device, TestServer, Township, raw, server_binary};

/// `admin device list [args]` as run by the township office.
fn device_list(town: &Township, args: &[&str]) -> Vec<String> {
    let out = Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(&town.data)
        .args(["device", "list"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The device's last noted call (unix seconds).
fn last_seen(town: &Township, person: &str) -> i64 {
    town.server_db()
        .query_row(
            "SELECT last_seen_at FROM devices WHERE person = ?1",
            [person],
            |r| r.get(0),
        )
        .unwrap()
}

/// The device's last noted call once it is later than `after`: a call is
/// noted beside its work, so just after the call is let in (gives up after
/// five seconds, returning what is noted then).
fn noted_after(town: &Township, person: &str, after: i64) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seen = last_seen(town, person);
        if seen > after || std::time::Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn set_last_seen(town: &Township, person: &str, at: i64) {
    rusqlite::Connection::open(town.data.join("massline.db"))
        .unwrap()
        .execute(
            "UPDATE devices SET last_seen_at = ?2 WHERE person = ?1",
            rusqlite::params![person, at],
        )
        .unwrap();
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_show_their_version_and_last_sync_pulls_included() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let _li = Device::enrol(&town, server.addr, "li").await;

    // A device that only pulls (nothing to send) has synced all the same.
    let long_ago = now() - 7_200;
    set_last_seen(&town, "wang", long_ago);
    wang.client.sync().await.unwrap();
    let seen = noted_after(&town, "wang", long_ago);
    assert!(
        now() - seen < 60,
        "a pull is a sync: last noted {} s ago",
        now() - seen
    );

    let lines = device_list(&town, &["--person", "wang"]);
    assert_eq!(lines.len(), 1, "only wang's device: {lines:?}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(fields[1], "wang", "{lines:?}");
    assert_eq!(
        fields[3],
        format!("massline/{}", env!("CARGO_PKG_VERSION")),
        "the app version it called with: {lines:?}"
    );
    let shown = chrono::DateTime::from_timestamp(seen, 0)
        .unwrap()
        .format("last sync %Y-%m-%d %H:%M")
        .to_string();
    assert_eq!(fields[5], shown, "{lines:?}");

    let all = device_list(&town, &[]);
    let people: Vec<&str> = all.iter().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(people, ["li", "wang"], "every phone, by person: {all:?}");

    // Within a minute of the last noted call, an idle sync is a read only.
    let recent = now() - 30;
    set_last_seen(&town, "wang", recent);
    wang.client.sync().await.unwrap();
    // (A note would be written beside the calls, so give it time to land.)
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        last_seen(&town, "wang"),
        recent,
        "an idle sync within a minute wrote to the registry"
    );

    // A device that says it is something odd and long: only the first word,
    // cut and cleaned, is kept.
    let long_ago = now() - 7_200;
    set_last_seen(&town, "wang", long_ago);
    let (channel, token) = raw::channel_of(&wang).await;
    let agent = format!("massline/9.9<script>\\\"{}'; x y", "7".repeat(4_000));
    raw::pull_as(
        channel,
        &token,
        Some(&agent),
        massline_proto::pb::PullRequest::default(),
    )
    .await
    .unwrap();
    noted_after(&town, "wang", long_ago);
    let kept: String = town
        .server_db()
        .query_row(
            "SELECT app_version FROM devices WHERE person = 'wang'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let cleaned = "massline/9.9script";
    assert_eq!(kept, format!("{cleaned}{}", "7".repeat(40 - cleaned.len())));
    server.stop().await;
}
