//! Hand-made protocol traffic: changes and messages a real device never sends,
//! to prove the server refuses them, and calls a real device never makes: ones
//! that never read their answer, or stay open between messages.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use automerge::transaction::{CommitOptions, Transaction};
use automerge::{ActorId, Automerge, ROOT};
use futures::StreamExt;
use massline_core::DocId;
use massline_core::doc_json;
use massline_core::packing::Packer;
use massline_core::sync::transport::Connection;
use massline_proto::pb;
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tonic::transport::{Channel, Endpoint};

use crate::Device;

/// A pinned TLS channel to the server a device is enrolled with, and its token.
pub async fn channel_of(device: &Device) -> (Channel, String) {
    let id = device.client.identity().unwrap().unwrap();
    let conn = Connection::open(&id.server.address, Some(id.server.cert_sha256))
        .await
        .unwrap();
    (conn.channel(), id.device_token)
}

/// The HTTP/2 windows of [`stalling_channel_of`]: near the floor, so the
/// server can send next to nothing of an answer not read. (At zero a window
/// would never open again, even once the device reads.)
pub const STALLING_WINDOW: u32 = 1024;

/// A pinned TLS channel like [`channel_of`]'s whose HTTP/2 windows are
/// [`STALLING_WINDOW`]: a call's answer not read stalls the server at once,
/// as on a device that stops reading, and reading it later still works.
pub async fn stalling_channel_of(device: &Device) -> (Channel, String) {
    let id = device.client.identity().unwrap().unwrap();
    let (address, pin) = (id.server.address.clone(), id.server.cert_sha256);
    let connector = tower::service_fn(move |_uri| {
        let address = address.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(&address).await?;
            let name =
                tokio_rustls::rustls::pki_types::ServerName::try_from("massline.local").unwrap();
            let tls =
                tokio_rustls::TlsConnector::from(massline_core::sync::tls::client_config(pin))
                    .connect(name, tcp)
                    .await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
        }
    });
    let channel = Endpoint::from_static("http://massline.local")
        .initial_stream_window_size(Some(STALLING_WINDOW))
        .initial_connection_window_size(Some(STALLING_WINDOW))
        .connect_with_connector(connector)
        .await
        .unwrap();
    (channel, id.device_token)
}

/// A pull request for everything `device` may read, its scope digest got from
/// the server as a device with no scopes would.
pub async fn pull_everything(channel: Channel, token: &str) -> pb::PullRequest {
    let answers = pull(channel, token, pb::PullRequest::default())
        .await
        .unwrap();
    pb::PullRequest {
        scopes_digest: massline_core::protocol::scopes_digest(
            answers[0].scopes.iter().map(String::as_str),
        ),
        ..pb::PullRequest::default()
    }
}

/// Starts a pull and hands back its answer unread.
pub async fn start_pull(
    channel: Channel,
    token: &str,
    req: pb::PullRequest,
) -> Result<tonic::Streaming<pb::PullResponse>, tonic::Status> {
    Ok(sync_client(channel, token).pull(req).await?.into_inner())
}

/// Reads a started pull to its end: the messages, and how it ended.
pub async fn finish_pull(
    mut answers: tonic::Streaming<pb::PullResponse>,
) -> (Vec<pb::PullResponse>, Result<(), tonic::Status>) {
    let mut out = Vec::new();
    loop {
        match answers.message().await {
            Ok(Some(a)) => out.push(a),
            Ok(None) => return (out, Ok(())),
            Err(status) => return (out, Err(status)),
        }
    }
}

/// Opens a push call that stays open: messages go in one at a time through
/// the sender (dropping it ends the call), answers come out of the stream.
pub async fn open_push(
    channel: Channel,
    token: &str,
) -> Result<
    (
        tokio::sync::mpsc::Sender<pb::PushRequest>,
        tonic::Streaming<pb::PushResponse>,
    ),
    tonic::Status,
> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let requests =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
    let answers = sync_client(channel, token)
        .push(requests)
        .await?
        .into_inner();
    Ok((tx, answers))
}

/// A device's actor id.
pub fn actor_of(device: &Device) -> ActorId {
    device.client.identity().unwrap().unwrap().actor
}

/// The first change of a document whose root holds exactly `root`, by
/// `actor`, naming `by` as its author.
pub fn first_change(actor: &ActorId, by: &str, root: Value) -> Vec<u8> {
    let Value::Object(root) = root else {
        panic!("root must be an object")
    };
    let mut doc = Automerge::new().with_actor(actor.clone());
    let mut tx = doc.transaction();
    doc_json::reconcile_map(&mut tx, &ROOT, &Map::new(), &root).unwrap();
    tx.commit_with(commit_by(by));
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// How a device commits a change in `by`'s name.
pub fn commit_by(by: &str) -> CommitOptions {
    CommitOptions::default()
        .with_time(1_700_000_000)
        .with_message(serde_json::json!({ "by": by }).to_string())
}

/// One push message holding `changes`, packed like a device packs them: the
/// only message of its call.
pub fn message(changes: &[Vec<u8>]) -> pb::PushRequest {
    next_message(&mut Packer::new(3), changes)
}

/// The next push message of a call packed by `packer` (one per call: all
/// messages of a call are one compressed stream).
pub fn next_message(packer: &mut Packer, changes: &[Vec<u8>]) -> pb::PushRequest {
    for c in changes {
        packer.push_change(c);
    }
    let (frame, n) = packer.flush();
    // Named by no message: an old client's call, with no dictionary.
    pb::PushRequest {
        frame,
        changes: n,
        dictionary: 0,
    }
}

fn sync_client(
    channel: Channel,
    token: &str,
) -> pb::sync_client::SyncClient<
    tonic::service::interceptor::InterceptedService<Channel, impl tonic::service::Interceptor>,
> {
    sync_client_as(channel, token, None)
}

/// A sync client whose calls say they come from `user_agent`, if given.
fn sync_client_as(
    channel: Channel,
    token: &str,
    user_agent: Option<&str>,
) -> pb::sync_client::SyncClient<
    tonic::service::interceptor::InterceptedService<Channel, impl tonic::service::Interceptor>,
> {
    let value: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let agent: Option<tonic::metadata::MetadataValue<_>> = user_agent.map(|a| a.parse().unwrap());
    pb::sync_client::SyncClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", value.clone());
        if let Some(agent) = &agent {
            r.metadata_mut().insert("user-agent", agent.clone());
        }
        Ok(r)
    })
    .max_encoding_message_size(usize::MAX)
    .max_decoding_message_size(usize::MAX)
}

/// Pushes `messages` and collects the answers (or the call's error).
pub async fn push(
    channel: Channel,
    token: &str,
    messages: Vec<pb::PushRequest>,
) -> Result<Vec<pb::PushResponse>, tonic::Status> {
    let mut answers = sync_client(channel, token)
        .push(futures::stream::iter(messages))
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(a) = answers.message().await? {
        out.push(a);
    }
    Ok(out)
}

/// Pulls with `req` and collects the answers.
pub async fn pull(
    channel: Channel,
    token: &str,
    req: pb::PullRequest,
) -> Result<Vec<pb::PullResponse>, tonic::Status> {
    pull_as(channel, token, None, req).await
}

/// Pulls as [`pull`] does, saying the call comes from `user_agent`.
pub async fn pull_as(
    channel: Channel,
    token: &str,
    user_agent: Option<&str>,
    req: pb::PullRequest,
) -> Result<Vec<pb::PullResponse>, tonic::Status> {
    let mut answers = sync_client_as(channel, token, user_agent)
        .pull(req)
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(a) = answers.message().await? {
        out.push(a);
    }
    Ok(out)
}

/// Asks which of `heads` the server lacks (a `Missing` call).
pub async fn missing(
    channel: Channel,
    token: &str,
    heads: Vec<Vec<u8>>,
) -> Result<Vec<u32>, tonic::Status> {
    Ok(sync_client(channel, token)
        .missing(pb::MissingRequest { heads })
        .await?
        .into_inner()
        .missing)
}

/// A change by `device` to record `id` as the device holds it: `edit` changes
/// the document's root as JSON, and the change names `by` as its author. A
/// real device would have refused to make most of these.
pub fn edit_change(
    device: &Device,
    id: &DocId,
    by: &str,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> Vec<u8> {
    edit_ops(device, id, |tx, old| {
        let mut new = old.clone();
        edit(&mut new);
        doc_json::reconcile_map(tx, &ROOT, old, &new).unwrap();
        commit_by(by)
    })
}

/// A change by `device` to record `id` as the device holds it, made of the
/// operations `ops` writes (given the root as JSON), committed as it says.
pub fn edit_ops(
    device: &Device,
    id: &DocId,
    ops: impl FnOnce(&mut Transaction<'_>, &Map<String, Value>) -> CommitOptions,
) -> Vec<u8> {
    let mut doc = doc_of(device, id).with_actor(actor_of(device));
    let old = doc_json::read_root(&doc);
    let mut tx = doc.transaction();
    let commit = ops(&mut tx, &old);
    tx.commit_with(commit);
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// The document of record `id` as `device` holds it.
pub fn doc_of(device: &Device, id: &DocId) -> Automerge {
    let conn = rusqlite::Connection::open(&device.path).unwrap();
    let state: Vec<u8> = conn
        .query_row(
            "SELECT state FROM documents WHERE doc_id = ?1",
            [&id.as_bytes()[..]],
            |r| r.get(0),
        )
        .unwrap();
    Automerge::load(&state).unwrap()
}

/// The operation id Automerge gives as `exid` (an object or a list item).
pub fn op_id(exid: &automerge::ObjId) -> automerge::legacy::OpId {
    match exid {
        automerge::ObjId::Id(counter, actor, _) => automerge::legacy::OpId(*counter, actor.clone()),
        automerge::ObjId::Root => panic!("the root is no operation"),
    }
}

/// A change by `device` to record `id`, in `by`'s name, of operations
/// written out by hand (given the document as the device holds it), which
/// may name objects, items and values anywhere: what no Automerge
/// transaction would make.
pub fn hand_ops(
    device: &Device,
    id: &DocId,
    by: &str,
    ops: impl FnOnce(&Automerge) -> Vec<automerge::legacy::Op>,
) -> Vec<u8> {
    let doc = doc_of(device, id);
    let actor = actor_of(device);
    let changes = doc.get_changes(&[]);
    let seq = changes.iter().filter(|c| c.actor_id() == &actor).count() as u64 + 1;
    let max_op = changes.iter().map(|c| c.max_op()).max().unwrap_or(0);
    let expanded = automerge::ExpandedChange {
        operations: ops(&doc),
        actor_id: actor,
        hash: None,
        seq,
        start_op: std::num::NonZeroU64::new(max_op + 1).unwrap(),
        time: 1_700_000_000,
        message: Some(serde_json::json!({ "by": by }).to_string()),
        deps: doc.get_heads(),
        extra_bytes: Vec::new(),
        author: None,
    };
    automerge::Change::from(expanded).raw_bytes().to_vec()
}

/// The first change of a new document by `actor`, made of the operations
/// `ops` writes, committed as it says.
pub fn first_ops(
    actor: &ActorId,
    ops: impl FnOnce(&mut Transaction<'_>) -> CommitOptions,
) -> Vec<u8> {
    let mut doc = Automerge::new().with_actor(actor.clone());
    let mut tx = doc.transaction();
    let commit = ops(&mut tx);
    tx.commit_with(commit);
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

pub use massline_core::packing::{write_sleb as sleb, write_uleb as uleb};

/// One run of a run-length encoded column: `count` times the value whose
/// encoding is `value`.
pub fn run(count: i64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    sleb(&mut out, count);
    out.extend_from_slice(value);
    out
}

/// One run of `count` nulls of a run-length encoded column.
pub fn null_run(count: u64) -> Vec<u8> {
    let mut out = vec![0];
    uleb(&mut out, count);
    out
}

/// Column spec of a change's map keys (column id << 4 | encoding).
pub const KEY_STR: u32 = 0x15;
/// Column spec of the actors of the objects operations write into.
pub const OBJ_ACTOR: u32 = 0x01;
/// Column spec of the counters of the objects operations write into.
pub const OBJ_COUNTER: u32 = 0x02;
/// Column spec of whether an operation inserts a list item.
pub const INSERT: u32 = 0x34;
/// Column spec of operations' actions.
pub const ACTION: u32 = 0x42;
/// Column spec of operations' values' types and lengths.
pub const VALUE_META: u32 = 0x56;
/// Column spec of how many operations each operation replaces.
pub const PRED_GROUP: u32 = 0x70;

/// Columns of `n` operations setting root key `k` to null, run-length
/// encoded, in Automerge's order: a few bytes whatever `n` is.
pub fn puts_of_null(n: i64) -> Vec<(u32, Vec<u8>)> {
    let mut insert = Vec::new();
    uleb(&mut insert, n as u64);
    vec![
        (KEY_STR, run(n, &[1, b'k'])),
        (INSERT, insert),
        (ACTION, run(n, &[1])),
        (VALUE_META, run(n, &[0])),
        (PRED_GROUP, run(n, &[0])),
    ]
}

/// The parts of a change chunk written by hand: the header as a device would
/// write it, then columns as `(spec, data)` in Automerge's order, then
/// whatever follows them.
#[derive(Clone, Debug)]
pub struct HandChange {
    /// The actor writing it.
    pub actor: ActorId,
    /// The first operation's counter.
    pub start_op: u64,
    /// The change's message.
    pub message: String,
    /// The columns.
    pub columns: Vec<(u32, Vec<u8>)>,
    /// Bytes after the columns.
    pub extra: Vec<u8>,
}

impl HandChange {
    /// A first change by `device` in `by`'s name, of these columns.
    pub fn first(device: &Device, by: &str, columns: Vec<(u32, Vec<u8>)>) -> HandChange {
        HandChange {
            actor: actor_of(device),
            start_op: 1,
            message: serde_json::json!({ "by": by }).to_string(),
            columns,
            extra: Vec::new(),
        }
    }

    /// The chunk: magic, checksum, type, length, body.
    pub fn bytes(&self) -> Vec<u8> {
        let mut body = vec![0]; // no dependencies
        let actor = self.actor.to_bytes();
        uleb(&mut body, actor.len() as u64);
        body.extend_from_slice(actor);
        uleb(&mut body, 1); // seq
        uleb(&mut body, self.start_op);
        sleb(&mut body, 1_700_000_000);
        uleb(&mut body, self.message.len() as u64);
        body.extend_from_slice(self.message.as_bytes());
        uleb(&mut body, 0); // no other actors
        uleb(&mut body, self.columns.len() as u64);
        for (spec, data) in &self.columns {
            uleb(&mut body, u64::from(*spec));
            uleb(&mut body, data.len() as u64);
        }
        for (_, data) in &self.columns {
            body.extend_from_slice(data);
        }
        body.extend_from_slice(&self.extra);
        chunk(1, &body)
    }
}

/// An Automerge chunk of `kind` around `body`, with a correct checksum.
pub fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut head = vec![kind];
    uleb(&mut head, body.len() as u64);
    let hash = Sha256::new()
        .chain_update(&head)
        .chain_update(body)
        .finalize();
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&hash[..4]);
    out.extend_from_slice(&head);
    out.extend_from_slice(body);
    out
}

/// A found change chunk (a fuzz target's, say) made `actor`'s: the actor in
/// its header replaced, its checksum made right again. Panics unless the
/// chunk is a plain change naming a 16-byte actor.
pub fn with_actor(found: &[u8], actor: &ActorId) -> Vec<u8> {
    let read_uleb = |bytes: &[u8], pos: &mut usize| {
        let v = massline_core::packing::read_uleb(bytes, pos).expect("a number");
        usize::try_from(v).expect("a length")
    };
    assert_eq!(found[8], 1, "a plain change");
    // Magic, checksum and type, then the body's length and the body.
    let mut pos = 9;
    read_uleb(found, &mut pos);
    let mut body = found[pos..].to_vec();
    let mut at = 0;
    let deps = read_uleb(&body, &mut at);
    at += 32 * deps;
    assert_eq!(read_uleb(&body, &mut at), 16, "a 16-byte actor");
    body[at..at + 16].copy_from_slice(&actor.to_bytes()[..16]);
    chunk(1, &body)
}

/// A packed entry carrying `bytes` as a raw chunk (tag 3), as the packer
/// sends a chunk that is not a plain change.
pub fn raw_entry(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![3];
    uleb(&mut out, bytes.len() as u64);
    out.extend_from_slice(bytes);
    out
}

/// A push message whose packed entries are `plain`, saying it holds `changes`.
pub fn packed_message(plain: &[u8], changes: u32) -> pb::PushRequest {
    pb::PushRequest {
        frame: zstd::bulk::compress(plain, 3).unwrap(),
        changes,
        dictionary: 0,
    }
}

/// Pushes `changes` as one message from `device`; returns the answer.
pub async fn push_changes(device: &Device, changes: &[Vec<u8>]) -> pb::PushResponse {
    let (channel, token) = channel_of(device).await;
    push(channel, &token, vec![message(changes)])
        .await
        .unwrap()
        .remove(0)
}

/// A TCP connection to `server` from the loopback address `local` (Linux
/// routes all of 127.0.0.0/8 to this host), so that one test can play many
/// addresses.
pub async fn tcp_from(local: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = if local.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    socket.set_nodelay(true)?;
    socket.connect(server).await
}

/// What happened to the connections of a [`channel_from`].
#[derive(Debug, Default)]
pub struct LinkEvents {
    /// Connections opened.
    pub connects: AtomicUsize,
    /// Connections the server closed (the read side ended or failed).
    pub closed: AtomicUsize,
}

/// A gRPC channel to `server` from the address `local`, over TLS pinned to
/// `pin` (plain text without), and what happens to its connections.
/// Connecting waits for the first call.
pub fn channel_from(
    local: IpAddr,
    server: SocketAddr,
    pin: Option<[u8; 32]>,
) -> (Channel, Arc<LinkEvents>) {
    let events = Arc::new(LinkEvents::default());
    let seen = events.clone();
    let connector = tower::service_fn(move |_uri| {
        let seen = seen.clone();
        async move {
            let tcp = tcp_from(local, server).await?;
            let io: Box<dyn Io> = match pin {
                Some(pin) => {
                    let tls = tokio_rustls::TlsConnector::from(
                        massline_core::sync::tls::client_config(pin),
                    );
                    let name =
                        tokio_rustls::rustls::pki_types::ServerName::try_from("massline.local")
                            .unwrap();
                    Box::new(tls.connect(name, tcp).await?)
                }
                None => Box::new(tcp),
            };
            seen.connects.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(Watched {
                io,
                events: seen,
                ended: false,
            }))
        }
    });
    let channel = Endpoint::from_shared(format!("http://{server}"))
        .unwrap()
        .connect_with_connector_lazy(connector);
    (channel, events)
}

/// A byte stream a channel runs over.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A connection that notes when the server closes it.
struct Watched {
    io: Box<dyn Io>,
    events: Arc<LinkEvents>,
    ended: bool,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        let ended = match &read {
            Poll::Ready(Ok(())) => buf.filled().len() == before && buf.remaining() > 0,
            Poll::Ready(Err(_)) => true,
            Poll::Pending => false,
        };
        if ended && !self.ended {
            self.ended = true;
            self.events.closed.fetch_add(1, Ordering::SeqCst);
        }
        read
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A push call that sends nothing for `quiet`, then ends: a call under way
/// that says nothing for a while.
pub async fn quiet_push(
    channel: Channel,
    token: &str,
    quiet: Duration,
) -> Result<Vec<pb::PushResponse>, tonic::Status> {
    let messages = futures::stream::once(async move {
        tokio::time::sleep(quiet).await;
    })
    .filter_map(|()| async { None::<pb::PushRequest> });
    let mut answers = sync_client(channel, token)
        .push(messages)
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(a) = answers.message().await? {
        out.push(a);
    }
    Ok(out)
}

/// An enrollment call with `secret` (the code's secret, not the whole code).
pub async fn enroll(channel: Channel, secret: &str) -> Result<pb::EnrollResponse, tonic::Status> {
    pb::enrollment_client::EnrollmentClient::new(channel)
        .enroll(pb::EnrollRequest {
            code: secret.to_string(),
            actor_id: rand::random::<[u8; 16]>().to_vec(),
            device_name: "raw".to_string(),
            bundle_public_key: Vec::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// `n` problems on `device`'s village list, every text field full of random
/// characters (about 60 kB a record, compressing poorly), pushed ten to a
/// message: enough for a pull answer of many messages.
pub async fn push_big_problems(device: &Device, village: &str, n: usize) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
    let mut text = |len: usize| -> String {
        (0..len)
            .map(|_| char::from_u32(0x4E00 + rng.random_range(0..4000)).unwrap())
            .collect()
    };
    let actor = actor_of(device);
    let me = device.client.identity().unwrap().unwrap().principal.person;
    let changes: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            first_change(
                &actor,
                me.as_str(),
                serde_json::json!({
                    "kind": "problem", "scope": format!("v/{village}/shared"),
                    "serial": 1_000_000 + i, "title": format!("问题 {i}"),
                    "how_found": "self_search", "area": "mass_service",
                    "background": text(4000), "causes": text(4000),
                    "manifestations": text(4000), "direction": text(4000),
                    "solutions": text(4000), "opinions": [],
                }),
            )
        })
        .collect();
    let (channel, token) = channel_of(device).await;
    let mut packer = Packer::new(3);
    let messages = changes
        .chunks(10)
        .map(|c| next_message(&mut packer, c))
        .collect();
    let answers = push(channel, &token, messages).await.unwrap();
    let accepted: u32 = answers.iter().map(|a| a.accepted).sum();
    assert_eq!(accepted as usize, n, "{answers:?}");
}
