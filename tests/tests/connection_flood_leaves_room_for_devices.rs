//! The real server binary, limited to 1,024 open files, flooded with 1,000
//! idle TCP connections (from many loopback addresses, or all from one)
//! still enrols devices and syncs them in normal time, and stays up; and it
//! raises its open-file soft limit to the hard limit when it starts.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use massline_server::connections;
use massline_tests::{Device, ServerProcess, Township, raw, study};
use tokio::net::TcpStream;

const FLOOD: usize = 1_000;
const OPEN_FILES: u64 = 1_024;

/// This process holds the flood's sockets: give it room for them.
fn raise_own_open_file_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    assert!(
        hard >= 2 * FLOOD as u64,
        "open-file hard limit {hard} too low for this test"
    );
}

async fn flood(server: &ServerProcess, from: impl Fn(usize) -> IpAddr) -> Vec<TcpStream> {
    let mut sockets = Vec::with_capacity(FLOOD);
    for i in 0..FLOOD {
        sockets.push(raw::tcp_from(from(i), server.addr).await.unwrap());
    }
    sockets
}

/// How many of `sockets` the server has closed.
async fn closed(sockets: &[TcpStream]) -> usize {
    let mut n = 0;
    let mut buf = [0u8; 64];
    for s in sockets {
        match s.try_read(&mut buf) {
            Ok(0) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(_) => {}
            Err(_) => n += 1,
        }
    }
    n
}

fn open_files_of(server: &ServerProcess) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .unwrap()
        .count()
}

/// Two devices enrol, one records study and syncs, the other syncs and gets
/// it: how long that took.
async fn devices_enrol_and_sync(town: &Township, server: &ServerProcess) -> Duration {
    let t = Instant::now();
    let zhang = Device::enrol(town, server.addr, "zhang").await;
    let wang = Device::enrol(town, server.addr, "wang").await;
    let id = wang
        .client
        .create(study("wang", 30, "群众路线读本"), None)
        .unwrap();
    assert_eq!(wang.client.sync().await.unwrap().pushed, 1);
    assert!(zhang.client.sync().await.unwrap().changed.contains(&id));
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_from_many_addresses_leave_room_for_devices() {
    raise_own_open_file_limit();
    let town = Township::new();
    let mut server =
        ServerProcess::spawn_limited(&town, "127.0.0.1:0", Some((OPEN_FILES, OPEN_FILES)));
    // 127.0.1.1 … 127.0.4.250: four per /24 address block, one each.
    let sockets = flood(&server, |i| {
        IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            1 + (i / 250) as u8,
            1 + (i % 250) as u8,
        ))
    })
    .await;
    // Over its cap the server closes the oldest silent connections, and
    // while many of those are still closing it refuses newcomers at once:
    // the devices come once it has made room.
    let cap = connections::connection_cap(OPEN_FILES, connections::MAX_CONNECTIONS);
    let deadline = Instant::now() + Duration::from_secs(10);
    while closed(&sockets).await < FLOOD - cap && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = devices_enrol_and_sync(&town, &server).await;
    eprintln!(
        "enrol and sync under a flood of {FLOOD} from {FLOOD} addresses: {took:?}; server holds {} files",
        open_files_of(&server)
    );
    assert!(took < Duration::from_secs(10), "devices took {took:?}");
    assert!(open_files_of(&server) < OPEN_FILES as usize);
    // The server made room by closing flood connections that never spoke.
    let gave_way = closed(&sockets).await;
    assert!(gave_way > 0, "no flood connection was closed");
    assert!(server.is_running());
    drop(sockets);
    devices_enrol_and_sync(&town, &server).await;
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_opening_many_connections_keeps_only_its_share() {
    raise_own_open_file_limit();
    let town = Township::new();
    let mut server =
        ServerProcess::spawn_limited(&town, "127.0.0.1:0", Some((OPEN_FILES, OPEN_FILES)));
    let attacker = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));
    let sockets = flood(&server, |_| attacker).await;
    // Those over the address's cap are accepted and closed at once.
    let over = FLOOD - massline_server::connections::MAX_CONNECTIONS_PER_ADDRESS;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut shut = closed(&sockets).await;
    while shut < over && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        shut = closed(&sockets).await;
    }
    assert_eq!(shut, over, "connections over the per-address cap left open");
    let took = devices_enrol_and_sync(&town, &server).await;
    eprintln!("enrol and sync beside {FLOOD} connections from one address: {took:?}");
    assert!(took < Duration::from_secs(10), "devices took {took:?}");
    assert!(server.is_running());
    server.terminate();
}

#[tokio::test]
async fn the_open_file_soft_limit_is_raised_to_the_hard_limit() {
    let town = Township::new();
    let server = ServerProcess::spawn_limited(&town, "127.0.0.1:0", Some((256, OPEN_FILES)));
    // Serving: past its start.
    Device::enrol(&town, server.addr, "wang").await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, ["1024", "1024"], "{line}");
}
