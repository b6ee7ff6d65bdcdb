//! A dashboard request that is not being worked on keeps no connection from
//! the township office: at the dashboard's connection cap, connections whose
//! only request is a login form whose body never arrives, or a page whose
//! reader never lets it in (an HTTP/2 window of zero), give way to a new
//! browser as idle ones would, and the login page is served. Were such a
//! request counted as under way until its body came or its answer was sent,
//! no such connection would be chosen to give way, and a few of them, from
//! anyone on the network with no login, would hold the dashboard full until
//! their age ran out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use massline_tests::web::Https;
use massline_tests::{TestServer, Township};
use tokio::io::AsyncWriteExt;
use tower::{Service, ServiceExt};

/// Dashboard connections taken at once in these tests.
const CAP: usize = 3;

fn attacker(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 2, 10 + n as u8))
}

async fn server(town: &Township) -> TestServer {
    TestServer::start_dashboard_configured(town, |c| {
        c.web.connections.max_connections = CAP;
        // Nothing here is closed for being idle: a connection makes room
        // only by being chosen to give way.
        c.web.connections.idle_timeout = Duration::from_secs(60);
    })
    .await
}

fn client_config(town: &Township, alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    let pin = massline_server::certs::load_or_create(&town.data)
        .unwrap()
        .fingerprint;
    let mut config = (*massline_core::sync::tls::client_config(pin)).clone();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

async fn tls_from(
    local: IpAddr,
    server: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = massline_tests::raw::tcp_from(local, server).await?;
    let name = rustls::pki_types::ServerName::try_from("massline.local").unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

/// The login page, for a browser arriving while the dashboard is held.
async fn login_page_is_served(town: &Township, web: SocketAddr) {
    let https = Https::new(town, web);
    let page = tokio::time::timeout(
        Duration::from_secs(8),
        tokio::spawn(async move { https.get("/login", &[]).await.status }),
    )
    .await
    .expect("the login page hung while the dashboard was held");
    match page {
        Ok(status) => assert_eq!(status, 200),
        Err(e) => panic!("no login page while the dashboard was held: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_forms_whose_body_never_arrives_make_room_for_a_browser() {
    let town = Township::new();
    let server = server(&town).await;
    let web = server.web.unwrap();
    let config = client_config(&town, b"http/1.1");
    let mut held = Vec::new();
    for n in 0..CAP {
        let mut tls = tls_from(attacker(n), web, config.clone()).await.unwrap();
        tls.write_all(
            b"POST /login HTTP/1.1\r\nHost: massline.local\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 1000\r\n\r\ncsrf=",
        )
        .await
        .unwrap();
        tls.flush().await.unwrap();
        held.push(tls);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    login_page_is_served(&town, web).await;
    drop(held);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_never_let_in_make_room_for_a_browser() {
    let town = Township::new();
    let server = server(&town).await;
    let web = server.web.unwrap();
    let config = client_config(&town, b"h2");
    let mut held = Vec::new();
    for n in 0..CAP {
        let config = config.clone();
        let connector = tower::service_fn(move |_uri| {
            let config = config.clone();
            async move {
                let tls = tls_from(attacker(n), web, config).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        });
        // HTTP/2 with windows of zero: the page's headers come, its body
        // never can.
        let mut channel = tonic::transport::Endpoint::from_static("http://massline.local")
            .initial_stream_window_size(Some(0))
            .connect_with_connector(connector)
            .await
            .unwrap();
        let request = tonic::codegen::http::Request::get("http://massline.local/login")
            .body(tonic::body::Body::empty())
            .unwrap();
        let answer = channel.ready().await.unwrap().call(request).await.unwrap();
        assert_eq!(answer.status(), 200);
        held.push((channel, answer));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    login_page_is_served(&town, web).await;
    drop(held);
    server.stop().await;
}
