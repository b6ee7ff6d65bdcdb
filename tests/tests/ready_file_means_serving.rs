//! `serve --ready-file` is written once the server serves: its database
//! open and written to, its listeners taking connections; never while it
//! is still opening, and never half written.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use massline_tests::{Township, server_binary};

#[test]
fn the_ready_file_appears_only_once_the_database_is_open_and_whole() {
    let town = Township::new();
    let ready = town.data.join("ready");
    // Another connection holds the database's write lock: the server
    // cannot finish opening (it notes its address there) until it lets go.
    let holder = rusqlite::Connection::open(town.data.join("massline.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut server = Command::new(server_binary())
        .args(["serve", "--data"])
        .arg(&town.data)
        .args(["--listen", "127.0.0.1:0", "--no-web", "--ready-file"])
        .arg(&ready)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let held = Instant::now();
    while held.elapsed() < Duration::from_millis(1500) {
        assert!(
            !ready.exists(),
            "the ready file was written while the database could not be written"
        );
        assert!(server.try_wait().unwrap().is_none(), "the server exited");
        std::thread::sleep(Duration::from_millis(5));
    }
    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        // Whole at once: never found empty or cut short.
        if let Ok(text) = std::fs::read_to_string(&ready) {
            break text;
        }
        assert!(Instant::now() < deadline, "not serving after 30 s");
        std::thread::sleep(Duration::from_millis(1));
    };
    let addr: std::net::SocketAddr = text
        .parse()
        .unwrap_or_else(|e| panic!("ready file {text:?}: {e}"));
    std::net::TcpStream::connect(addr).expect("the gRPC port takes connections");
    server.kill().unwrap();
    server.wait().unwrap();
}
