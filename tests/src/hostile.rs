//! A township server that answers pulls with whatever a test hands it, to
//! prove the phone guards itself against a hostile or broken server. It
//! speaks plain gRPC on loopback (a device enrolled with a
//! `massline+plain://` code pins no certificate), enrols any code as one
//! person, takes every pushed change, and answers each pull with the next
//! answer a test queued (once they run out: nothing new).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::Stream;
use massline_core::packing::Packer;
use massline_proto::pb;
use tokio::sync::oneshot;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};

/// Who the server enrols every device as.
#[derive(Clone, Debug)]
pub struct Enrols {
    /// The person's id.
    pub person: String,
    /// Their role.
    pub role: pb::Role,
    /// Their village.
    pub village: String,
    /// The scopes they may read.
    pub scopes: Vec<String>,
}

#[derive(Debug, Default)]
struct Script {
    answers: VecDeque<Vec<pb::PullResponse>>,
    requests: Vec<pb::PullRequest>,
}

/// The server, in this process, on a free loopback port.
#[derive(Debug)]
pub struct HostileServer {
    /// Where it listens.
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    stop: Option<oneshot::Sender<()>>,
}

#[derive(Clone)]
struct Service {
    enrols: Enrols,
    script: Arc<Mutex<Script>>,
}

type Answers<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl pb::enrollment_server::Enrollment for Service {
    async fn enroll(
        &self,
        _: Request<pb::EnrollRequest>,
    ) -> Result<Response<pb::EnrollResponse>, Status> {
        let e = &self.enrols;
        Ok(Response::new(pb::EnrollResponse {
            device_token: "hostile".into(),
            device_id: 1,
            identity: Some(pb::Identity {
                person_id: e.person.clone(),
                name: e.person.clone(),
                role: e.role.into(),
                village: e.village.clone(),
                village_name: e.village.clone(),
                township: "红星镇".into(),
            }),
            readable_scopes: e.scopes.clone(),
        }))
    }
}

#[tonic::async_trait]
impl pb::sync_server::Sync for Service {
    type PushStream = Answers<pb::PushResponse>;
    type PullStream = Answers<pb::PullResponse>;

    async fn push(
        &self,
        request: Request<Streaming<pb::PushRequest>>,
    ) -> Result<Response<Self::PushStream>, Status> {
        let mut inbound = request.into_inner();
        let mut answers = Vec::new();
        while let Some(m) = inbound.message().await? {
            answers.push(Ok(pb::PushResponse {
                accepted: m.changes,
                refused: Vec::new(),
            }));
        }
        Ok(Response::new(Box::pin(futures::stream::iter(answers))))
    }

    async fn pull(
        &self,
        request: Request<pb::PullRequest>,
    ) -> Result<Response<Self::PullStream>, Status> {
        let answer = {
            let mut script = self.script.lock().unwrap();
            script.requests.push(request.into_inner());
            script.answers.pop_front().unwrap_or_else(|| {
                vec![pb::PullResponse {
                    done: true,
                    ..Default::default()
                }]
            })
        };
        Ok(Response::new(Box::pin(futures::stream::iter(
            answer.into_iter().map(Ok),
        ))))
    }

    async fn missing(
        &self,
        _request: Request<pb::MissingRequest>,
    ) -> Result<Response<pb::MissingResponse>, Status> {
        Ok(Response::new(pb::MissingResponse::default()))
    }
}

impl HostileServer {
    /// Starts serving, enrolling every device as `enrols` says.
    pub async fn start(enrols: Enrols) -> HostileServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let service = Service {
            enrols,
            script: script.clone(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(
            Server::builder()
                .add_service(pb::enrollment_server::EnrollmentServer::new(
                    service.clone(),
                ))
                .add_service(pb::sync_server::SyncServer::new(service))
                .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                    let _ = stopped.await;
                }),
        );
        HostileServer {
            addr,
            script,
            stop: Some(stop),
        }
    }

    /// An enrollment code for this server.
    pub fn code(&self) -> String {
        format!("massline+plain://{}/HOSTILE-1", self.addr)
    }

    /// Queues the messages that answer the next pull.
    pub fn answer_next_pull(&self, messages: Vec<pb::PullResponse>) {
        self.script.lock().unwrap().answers.push_back(messages);
    }

    /// The pull requests received so far.
    pub fn pull_requests(&self) -> Vec<pb::PullRequest> {
        self.script.lock().unwrap().requests.clone()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The messages of one pull answer made of `messages` (each a list of
/// change chunks, packed in one stream as the server packs them), the
/// `n`-th saying it covers through `first_through + n`, the last done.
pub fn pull_answer(messages: &[Vec<Vec<u8>>], first_through: u64) -> Vec<pb::PullResponse> {
    let mut packer = Packer::new(3);
    messages
        .iter()
        .enumerate()
        .map(|(n, changes)| {
            for c in changes {
                packer.push_change(c);
            }
            let (frame, entries) = packer.flush();
            pb::PullResponse {
                frame,
                entries,
                through: first_through + n as u64,
                done: n + 1 == messages.len(),
                ..pb::PullResponse::default()
            }
        })
        .collect()
}
