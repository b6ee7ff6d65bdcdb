//! A gRPC call that is not doing a device's work keeps no connection from
//! the devices: at the connection cap, a connection whose only call is an
//! enrollment whose request never arrives, a reflection stream that asks
//! nothing, or a pull whose answer its member never lets in (an HTTP/2
//! window of zero) gives way to a new device as an idle one would, and the
//! new device enrols. Were such a call counted as under way, no such
//! connection would ever be chosen to give way, and a handful of them (from
//! anyone, enrolled or not) would hold the server full until their age ran
//! out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use massline_core::Client;
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, raw};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::{ServerReflectionRequest, server_reflection_request};

/// Connections the server takes at once in these tests.
const CAP: usize = 3;

fn attacker(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 1, 10 + n as u8))
}

async fn server(town: &Township) -> TestServer {
    TestServer::start_configured(town, "127.0.0.1:0", |c| {
        c.connections.max_connections = CAP;
        // Long enough that nothing here is closed for being idle: a
        // connection makes room only by being chosen to give way.
        c.connections.idle_timeout = Duration::from_secs(60);
        c.limits.send_timeout = Duration::from_millis(500);
    })
    .await
}

fn pin_of(town: &Township) -> [u8; 32] {
    massline_server::certs::load_or_create(&town.data)
        .unwrap()
        .fingerprint
}

/// Waits until each of `events` has connected.
async fn connected(events: &[std::sync::Arc<raw::LinkEvents>]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while events
        .iter()
        .any(|e| e.connects.load(Ordering::SeqCst) == 0)
    {
        assert!(Instant::now() < deadline, "the attacker could not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The calls' headers reach the server.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// A new device of `person` enrols while the server is full of the
/// attacker's connections.
async fn a_device_still_enrols(town: &Township, server: &TestServer, person: &str) {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::open(dir.path().join("device.db")).unwrap();
    let code = town.code(person, server.addr);
    let enrolled =
        tokio::time::timeout(Duration::from_secs(8), client.enroll(&code, None, "phone")).await;
    match enrolled {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("a device could not enrol while the server was held: {e}"),
        Err(_) => panic!("a device's enrollment hung while the server was held"),
    }
}

/// Fills the server to its cap with the attacker's connections, each making
/// `call` on its own channel, and has a new device enrol meanwhile.
async fn a_device_enrols_past<F>(call: impl Fn(Channel) -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let town = Township::new();
    let server = server(&town).await;
    let pin = Some(pin_of(&town));
    let mut events = Vec::new();
    let mut calls = Vec::new();
    for n in 0..CAP {
        let (channel, e) = raw::channel_from(attacker(n), server.addr, pin);
        events.push(e);
        calls.push(tokio::spawn(call(channel)));
    }
    connected(&events).await;
    a_device_still_enrols(&town, &server, "wang").await;
    for c in calls {
        c.abort();
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollments_whose_request_never_arrives_make_room_for_a_device() {
    a_device_enrols_past(|channel| async move {
        // The call's headers, and not a byte of its message.
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let answer = grpc
            .client_streaming::<_, pb::EnrollRequest, pb::EnrollResponse, _>(
                tonic::Request::new(futures::stream::pending::<pb::EnrollRequest>()),
                PathAndQuery::from_static("/massline.v1.Enrollment/Enroll"),
                tonic_prost::ProstCodec::default(),
            )
            .await;
        drop(answer);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_streams_that_ask_nothing_make_room_for_a_device() {
    a_device_enrols_past(|channel| async move {
        // One question answered, then the stream stays open, silent.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let requests =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        tx.send(ServerReflectionRequest {
            host: String::new(),
            message_request: Some(server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        })
        .await
        .unwrap();
        let mut answers = ServerReflectionClient::new(channel)
            .server_reflection_info(requests)
            .await
            .unwrap()
            .into_inner();
        answers.message().await.unwrap().unwrap();
        futures::future::pending::<()>().await;
        drop(tx);
    })
    .await;
}

/// A pinned TLS channel from `local` whose HTTP/2 windows are zero: the
/// server can send nothing of any answer, and the device never opens them.
async fn shut_channel(local: IpAddr, server: SocketAddr, pin: [u8; 32]) -> Channel {
    let connector = tower::service_fn(move |_uri| async move {
        let tcp = raw::tcp_from(local, server).await?;
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from("massline.local").unwrap();
        let tls = tokio_rustls::TlsConnector::from(massline_core::sync::tls::client_config(pin))
            .connect(name, tcp)
            .await?;
        Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
    });
    Endpoint::from_static("http://massline.local")
        .initial_stream_window_size(Some(0))
        .initial_connection_window_size(Some(0))
        .connect_with_connector(connector)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_a_member_never_lets_in_make_room_for_a_device() {
    let town = Township::new();
    let server = server(&town).await;
    let zhao = Device::enrol(&town, server.addr, "zhao").await;
    let id = zhao.client.identity().unwrap().unwrap();
    let mut calls = Vec::new();
    for n in 0..CAP {
        let channel = shut_channel(attacker(n), server.addr, id.server.cert_sha256).await;
        let token = id.device_token.clone();
        calls.push(tokio::spawn(async move {
            // The answer (the member's scopes) waits on a window that never opens.
            let answers = raw::start_pull(channel, &token, pb::PullRequest::default()).await;
            let _kept = answers;
            futures::future::pending::<()>().await;
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Past the send timeout: the server has given up on every one of them.
    tokio::time::sleep(Duration::from_secs(1)).await;
    a_device_still_enrols(&town, &server, "wang").await;
    for c in calls {
        c.abort();
    }
    server.stop().await;
}
