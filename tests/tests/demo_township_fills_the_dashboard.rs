//! `massline-server serve --demo` on an empty data directory fills it with
//! the demo township through the server's own intake (every change accepted,
//! a typed row for every record), prints a login link, and the dashboard it
//! serves shows every demo village with records; the demo fills only an
//! empty directory.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use massline_server::demo;
use massline_tests::web::Https;
use massline_tests::{Township, server_binary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_fills_an_empty_directory_and_prints_a_login_link() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let started = Instant::now();
    let mut child = Command::new(server_binary())
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--web",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut link = None;
    let mut made = String::new();
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with("demo township made") {
            made = line.clone();
        }
        if line.contains("township officer") {
            link = line.split_whitespace().last().map(str::to_string);
            break;
        }
    }
    let link = link.expect("a login link printed");
    eprintln!("{made} in {:?}", started.elapsed());
    assert!(made.contains("6 villages"), "{made}");

    // Every record the demo made has its typed row, and nothing was refused.
    let town = Township::at(&data);
    town.wait_for_rows();
    let db = town.server_db();
    let (records, members): (i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM members)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        records > 1000 && members > 90,
        "{records} records, {members} members"
    );

    // The link logs the officer in; the overview shows every village.
    let (address, path) = link.trim_start_matches("https://").split_once('/').unwrap();
    let https = Https::new(&town, address.parse().unwrap());
    let path = format!("/{path}");
    let page = https.get(&path, &[]).await;
    let cookie = page.set_cookie(massline_tests::web::LOGIN_COOKIE).unwrap();
    let answer = https
        .post(
            "/login/link",
            &[(massline_tests::web::LOGIN_COOKIE, &cookie)],
            &[
                ("csrf", &page.csrf().unwrap()),
                ("secret", path.rsplit('/').next().unwrap()),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.text());
    let officer = https
        .session(
            answer
                .set_cookie(massline_tests::web::SESSION_COOKIE)
                .unwrap(),
        )
        .await;
    let overview = https.get_as(&officer, "/?period=campaign").await;
    let timing = overview
        .header("server-timing")
        .unwrap_or_default()
        .to_string();
    eprintln!("overview of the demo: {timing}");
    let text = overview.text();
    for (code, name) in demo::VILLAGES {
        assert!(text.contains(name), "{name} missing");
        assert!(
            !text.contains(&format!("id=\"{code}-members\">0<")),
            "{name} has no members"
        );
    }
    let _ = child.kill();
    let _ = child.wait();

    // A directory with villages is not filled again.
    let deadline = Instant::now() + Duration::from_secs(10);
    let err = loop {
        match demo::fill_dir(&data, demo::DEFAULT_SEED) {
            Err(e) if e.to_string().contains("database is locked") && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            other => break other.unwrap_err(),
        }
    };
    assert!(
        err.to_string().contains("only an empty data directory"),
        "{err}"
    );
}
