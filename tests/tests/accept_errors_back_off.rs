//! A server out of file descriptors (every accept fails with EMFILE while a
//! connection waits in the backlog) backs off instead of spinning, and
//! serves again once descriptors are free.
//!
//! The server runs in this process, so the test can use up the process's
//! descriptors itself; this file holds one test, as it lowers the process's
//! open-file limit for good.

use std::fs::File;
use std::time::{Duration, Instant};

use massline_tests::{Device, TestServer, Township, study};
use nix::sys::resource::{Resource, UsageWho, getrusage, setrlimit};

const OPEN_FILES: u64 = 256;

fn cpu_time() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let secs = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    secs(usage.user_time()) + secs(usage.system_time())
}

fn out_of_descriptors(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(nix::libc::EMFILE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_accept_loop_backs_off_and_recovers() {
    setrlimit(Resource::RLIMIT_NOFILE, OPEN_FILES, OPEN_FILES).unwrap();
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;

    // Use up every descriptor.
    let mut fillers = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => fillers.push(f),
            Err(e) if out_of_descriptors(&e) => break,
            Err(e) => panic!("{e}"),
        }
    }
    // Free one at a time until a connection of ours takes it: that
    // connection then waits in the backlog, and the server's accept fails
    // with EMFILE for as long as no descriptor is free.
    let mut waiting = None;
    while waiting.is_none() {
        fillers.pop().expect("ran out of descriptors to free");
        match std::net::TcpStream::connect(server.addr) {
            Ok(tcp) => waiting = Some(tcp),
            Err(e) if out_of_descriptors(&e) => {}
            Err(e) => panic!("{e}"),
        }
    }

    let (cpu, wall) = (cpu_time(), Instant::now());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (cpu, wall) = (cpu_time() - cpu, wall.elapsed());
    eprintln!("out of descriptors: {cpu:?} of CPU in {wall:?}");
    assert!(
        cpu < wall / 4,
        "the server spun on accept errors: {cpu:?} of CPU in {wall:?}"
    );

    drop(fillers);
    drop(waiting);
    wang.client.create(study("wang", 20, "学习"), None).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(10), wang.client.sync())
        .await
        .expect("the server did not recover")
        .unwrap();
    assert_eq!(report.pushed, 1);
    server.stop().await;
}
