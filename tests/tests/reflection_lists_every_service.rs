//! gRPC server reflection answers in both versions clients use (`v1`, and
//! `v1alpha`, which many tools still ask for first), each listing every
//! service the server serves: sync, enrollment, health and reflection.

use futures::StreamExt;
use massline_tests::{Device, TestServer, Township, raw};
use tonic_reflection::pb::{v1, v1alpha};

/// What the server must list, sorted.
const SERVICES: [&str; 5] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "massline.v1.Enrollment",
    "massline.v1.Sync",
];

#[tokio::test]
async fn reflection_lists_every_service() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let phone = Device::enrol(&town, server.addr, "wang").await;
    let (channel, _) = raw::channel_of(&phone).await;

    let ask = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut answers = v1::server_reflection_client::ServerReflectionClient::new(channel.clone())
        .server_reflection_info(futures::stream::iter([ask]))
        .await
        .unwrap()
        .into_inner();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answers.next().await.unwrap().unwrap().message_response
    else {
        panic!("v1: no list of services");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(names, SERVICES, "v1");

    let ask = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut answers = v1alpha::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter([ask]))
        .await
        .unwrap()
        .into_inner();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answers.next().await.unwrap().unwrap().message_response
    else {
        panic!("v1alpha: no list of services");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(names, SERVICES, "v1alpha");
    server.stop().await;
}
