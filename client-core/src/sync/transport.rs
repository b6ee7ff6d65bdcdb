//! The gRPC edge of the device: enrollment and sync calls over tonic.
//!
//! This is the only device code that sees `massline.v1` types; it converts
//! them to the engine's plain messages and drives the engine.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use massline_proto::pb;
use prost::Message;
use rustls::pki_types::ServerName;
use tokio::io::BufWriter;
use tokio::net::TcpStream;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

use super::engine::{self, PullDecoder, PullSession, PullStep, PushAcks, PushFrames, SyncOptions};
use super::link::{Counted, GATHER_BYTES, Handshake, LinkBytes, LinkStream};
use super::progress::Progress;
use super::sizes::{Adaptive, LinkSizes};
use super::tls;
use super::window::Window;
use crate::error::{Because, Error};
use crate::ids::DocId;
use crate::packing::Dictionary;
use crate::protocol::{MAX_MISSING_PER_CALL, PullBatch, PullRequest, PushAck, Seq};
use crate::store::Db;
use crate::store::identity;
use crate::store::outbox;

/// What one sync did, and what it cost on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Local changes the server stored.
    pub pushed: u64,
    /// Local changes the server refused (kept in the outbox with the reason).
    pub refused: u64,
    /// Changes (or whole records) received from the server.
    pub pulled: u64,
    /// Changes of this device sent again to a server restored from a backup
    /// that lacked them (counted in `pushed` and `refused` too).
    pub resent: u64,
    /// Records that the pulled changes changed on this device, each once.
    pub changed: Vec<DocId>,
    /// Where the device now stands in the server's numbering of changes.
    pub through: Seq,
    /// gRPC calls made.
    pub calls: u64,
    /// gRPC message bytes sent (after compression, with 5-byte framing).
    pub payload_sent: u64,
    /// gRPC message bytes received (after compression, with 5-byte framing).
    pub payload_received: u64,
    /// Bytes written to the TCP connection (TLS and HTTP/2 included).
    pub link_sent: u64,
    /// Bytes read from the TCP connection (TLS and HTTP/2 included).
    pub link_received: u64,
    /// How the connection's TLS handshake went.
    pub handshake: Handshake,
    /// Whether connecting took long enough for the link to be taken as slow
    /// (smaller messages, more compression).
    pub slow_link: bool,
    /// Wall time of the sync, from starting to connect.
    pub took: Duration,
}

/// Longest a connection is kept after a sync for the server's next ticket.
pub const TICKET_WAIT: Duration = Duration::from_secs(10);

/// A connection to a township server.
#[derive(Debug, Clone)]
pub struct Connection {
    channel: Channel,
    /// The server's address, as connected to.
    address: String,
    link: LinkBytes,
    /// Arrivals of the pinned server's TLS tickets (over TLS).
    tickets: Option<tokio::sync::watch::Receiver<u64>>,
    payload_sent: Arc<AtomicU64>,
    payload_received: Arc<AtomicU64>,
    calls: Arc<AtomicU64>,
}

fn status_error(s: tonic::Status) -> Error {
    use tonic::Code;
    match s.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
            Error::Network(s.message().into())
        }
        Code::Unauthenticated | Code::PermissionDenied => Error::Refused(s.message().to_string()),
        _ => Error::Refused(format!("{:?}: {}", s.code(), s.message())),
    }
}

fn framed(len: usize) -> u64 {
    len as u64 + 5
}

/// What a device says it is on every call, `massline/0.1.0 (android)`: the
/// township office's device list shows it.
pub fn user_agent() -> String {
    format!(
        "massline/{} ({})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}

/// What a pull asks of the server's answer, besides where the device stands.
#[derive(Clone, Copy, Debug)]
pub struct Answers<'a> {
    /// The zstd level asked of the server (0: its own choice).
    pub compression: u32,
    /// The newest zstd dictionary asked for.
    pub dictionary: Dictionary,
    /// The size of its messages, smaller after a cut.
    pub message_bytes: &'a Adaptive,
}

impl Connection {
    /// Connects to `address` (`host:port`), over TLS pinned to `pin`, or in
    /// plain text when `pin` is `None` (development servers only).
    pub async fn open(address: &str, pin: Option<[u8; 32]>) -> Result<Connection, Error> {
        let link = LinkBytes::default();
        // TLS, when used, is made inside the connector below, so tonic sees plain http.
        let endpoint = Endpoint::from_shared(format!("http://{address}"))
            .map_err(|e| Error::Network(Because::of(format!("bad server address {address}"), e)))?
            .user_agent(user_agent())
            .map_err(|e| Error::Network(Box::new(e)))?
            .connect_timeout(Duration::from_secs(15));
        let addr = address.to_string();
        link.opening();
        let counters = link.clone();
        let tickets = pin.map(tls::ticket_arrivals);
        let connector = tower::service_fn(move |_uri| {
            let addr = addr.clone();
            let counters = counters.clone();
            async move {
                let tcp = TcpStream::connect(&addr).await?;
                tcp.set_nodelay(true)?;
                let counted = Counted::new(tcp, counters.clone());
                let stream = match pin {
                    Some(pin) => {
                        let connector = tokio_rustls::TlsConnector::from(tls::client_config(pin))
                            .early_data(true);
                        let name = ServerName::try_from("massline.local")
                            .map_err(std::io::Error::other)?;
                        let tls = connector.connect(name, counted).await?;
                        if tls.get_ref().1.is_handshaking() {
                            counters.started_early();
                        }
                        LinkStream::Tls(Box::new(BufWriter::with_capacity(GATHER_BYTES, tls)))
                    }
                    None => LinkStream::Plain(counted),
                };
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        });
        let channel = endpoint
            .connect_with_connector(connector)
            .await
            .map_err(|e| {
                Error::Network(Because::of(format!("cannot reach {address}"), Chained(e)))
            })?;
        Ok(Connection {
            channel,
            address: address.to_string(),
            link,
            tickets,
            payload_sent: Arc::default(),
            payload_received: Arc::default(),
            calls: Arc::default(),
        })
    }

    /// After calls that went as early data, keeps the connection open in the
    /// background until the server's next TLS ticket is in, or for at most
    /// [`TICKET_WAIT`]. The server sends it once the device's `Finished`
    /// reaches it, a round trip after its answers; closed sooner, the
    /// device's next sync would make a full handshake.
    fn keep_for_ticket(self) {
        let Some(mut arrived) = self.tickets.clone() else {
            return;
        };
        if self.link.handshake() != Handshake::EarlyData || arrived.has_changed().unwrap_or(true) {
            return;
        }
        tokio::spawn(async move {
            let _ = tokio::time::timeout(TICKET_WAIT, arrived.changed()).await;
            drop(self);
        });
    }

    /// Remembers whether this connection's link was slow (its TCP and TLS
    /// handshakes took over `threshold`), for the next connection to the
    /// same server, whose calls may go as early data before it can tell.
    pub fn remember_link(&self, threshold: Duration) {
        if let Some(took) = self.link.handshake_took() {
            remember_slow(&self.address, took > threshold);
        }
    }

    /// The gRPC channel, for callers that speak `massline.v1` themselves.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    fn count_sent(&self, len: usize) {
        self.payload_sent.fetch_add(framed(len), Ordering::Relaxed);
    }

    fn count_received(&self, len: usize) {
        self.payload_received
            .fetch_add(framed(len), Ordering::Relaxed);
    }

    /// Exchanges a one-time code for a device token.
    pub async fn enroll(&self, req: pb::EnrollRequest) -> Result<pb::EnrollResponse, Error> {
        let mut client = pb::enrollment_client::EnrollmentClient::new(self.channel.clone());
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.count_sent(req.encoded_len());
        let resp = client.enroll(req).await.map_err(status_error)?.into_inner();
        self.count_received(resp.encoded_len());
        Ok(resp)
    }

    fn sync_client(
        &self,
        token: &str,
    ) -> Result<
        pb::sync_client::SyncClient<
            tonic::service::interceptor::InterceptedService<
                Channel,
                impl tonic::service::Interceptor + use<>,
            >,
        >,
        Error,
    > {
        let value: MetadataValue<_> = format!("Bearer {token}")
            .parse()
            .map_err(|e| Error::Storage(Because::of("the stored device token is damaged", e)))?;
        Ok(pb::sync_client::SyncClient::with_interceptor(
            self.channel.clone(),
            move |mut req: tonic::Request<()>| {
                req.metadata_mut().insert("authorization", value.clone());
                Ok(req)
            },
        )
        // A server's answers are bounded as a device's messages are: a
        // larger one is refused before it is read.
        .max_decoding_message_size(massline_model::protocol::MAX_GRPC_MESSAGE_BYTES)
        .max_encoding_message_size(massline_model::protocol::MAX_GRPC_MESSAGE_BYTES))
    }

    /// Pushes the outbox, call after call, until it is empty or a call stores nothing.
    /// `first` is what the first call sends, read while connecting
    /// (`Some(None)`: nothing was waiting; `None`: read it now). Returns
    /// (stored, refused).
    pub async fn push(
        &self,
        db: &Arc<Db>,
        token: &str,
        mut first: Option<Option<(PushFrames, PushAcks)>>,
        opts: &SyncOptions,
        message_bytes: &Arc<Adaptive>,
        progress: &Progress,
    ) -> Result<(u64, u64), Error> {
        let (mut stored, mut refused) = (0, 0);
        loop {
            let size = message_bytes.clone();
            let started = match first.take() {
                Some(started) => started,
                None => {
                    let (d, o) = (db.clone(), *opts);
                    tokio::task::spawn_blocking(move || engine::start_push(&d, &o, size))
                        .await
                        .map_err(|e| Error::Storage(Box::new(e)))??
                }
            };
            let Some((frames, acks)) = started else {
                return Ok((stored, refused));
            };
            let sent = self.payload_sent.clone();
            let window = Arc::new(Window::default());
            let state = (frames, window.clone(), message_bytes.clone());
            let budget = opts.push_in_flight_bytes;
            // A message is made once it may leave, at the size the answers
            // so far (and any cut) left. The budget shrinks with that size:
            // on a link cut every kilobyte or two, a message only gets
            // through if nothing travels with it. It is made (read, packed,
            // compressed) on a blocking thread: made on the call's task, the
            // messages after the first would all be made before the first
            // left, the connection's task waiting behind the call's.
            let requests = futures::stream::unfold(state, move |(frames, window, size)| {
                let sent = sent.clone();
                async move {
                    window.room(budget.min(size.get())).await;
                    let (f, frames) = tokio::task::spawn_blocking(move || {
                        let mut frames = frames;
                        (frames.next(), frames)
                    })
                    .await
                    .ok()?;
                    let f = f?;
                    window.sent(f.frame.len());
                    let m = pb::PushRequest {
                        frame: f.frame,
                        changes: f.changes,
                        dictionary: f.dictionary,
                    };
                    sent.fetch_add(framed(m.encoded_len()), Ordering::Relaxed);
                    Some((m, (frames, window, size)))
                }
            });
            self.calls.fetch_add(1, Ordering::Relaxed);
            let answered = self
                .answers(db, token, requests, acks, &window, progress)
                .await;
            // However the call ended, what it got answered leaves the outbox,
            // beside what follows and not before it: nothing waits on it (an
            // answered change is sent no more and counted as waiting no
            // more), and a store that could not take them out keeps them
            // answered, for the next sync's start to take out.
            let d = db.clone();
            drop(tokio::task::spawn_blocking(move || PushAcks::leave(&d)));
            let acks = match answered {
                Ok(acks) => acks,
                Err((e, acks)) => {
                    if let (Error::Network(_), Some(acks)) = (&e, acks) {
                        acks.cut_short();
                    }
                    return Err(e);
                }
            };
            if acks.accepted == 0 {
                return Ok((stored, refused + acks.refused));
            }
            stored += acks.accepted;
            refused += acks.refused;
        }
    }

    /// Makes one push call of `requests` and records its answers; the acks
    /// come back however the call ends (unless recording one panicked).
    async fn answers(
        &self,
        db: &Arc<Db>,
        token: &str,
        requests: impl futures::Stream<Item = pb::PushRequest> + Send + 'static,
        mut acks: PushAcks,
        window: &Window,
        progress: &Progress,
    ) -> Result<PushAcks, (Error, Option<PushAcks>)> {
        let mut answers = match self.sync_client(token) {
            Ok(mut client) => match client.push(requests).await {
                Ok(a) => a.into_inner(),
                Err(s) => return Err((status_error(s), Some(acks))),
            },
            Err(e) => return Err((e, Some(acks))),
        };
        loop {
            let a = match answers.message().await {
                Ok(Some(a)) => a,
                Ok(None) => return Ok(acks),
                Err(s) => return Err((status_error(s), Some(acks))),
            };
            self.count_received(a.encoded_len());
            let ack = PushAck::from(a);
            let answered = u64::from(ack.accepted) + ack.refused.len() as u64;
            let d = db.clone();
            let recorded = tokio::task::spawn_blocking(move || {
                let r = acks.record(&d, ack);
                (r, acks)
            })
            .await;
            match recorded {
                Ok((Ok(()), back)) => {
                    acks = back;
                    window.answered();
                    progress.answered(answered);
                }
                Ok((Err(e), back)) => return Err((e, Some(back))),
                Err(e) => return Err((Error::Storage(Box::new(e)), None)),
            }
        }
    }

    /// Pulls everything new in every readable scope, the server's answer
    /// as `answers` asks. `first` is the request made while connecting
    /// (`None`: made now). Returns (received, through, the records changed).
    pub async fn pull(
        &self,
        db: &Arc<Db>,
        token: &str,
        first: Option<PullRequest>,
        answers: Answers<'_>,
        progress: &Progress,
    ) -> Result<(u64, u64, Vec<DocId>), Error> {
        let pulled = self.pull_rounds(db, token, first, answers, progress).await;
        if let Err(Error::Network(_)) = &pulled {
            // A cut: the message under way did not get through.
            let size = answers.message_bytes;
            size.cut(size.get());
        }
        pulled
    }

    async fn pull_rounds(
        &self,
        db: &Arc<Db>,
        token: &str,
        mut first: Option<PullRequest>,
        answers: Answers<'_>,
        progress: &Progress,
    ) -> Result<(u64, u64, Vec<DocId>), Error> {
        let Answers {
            compression,
            dictionary,
            message_bytes,
        } = answers;
        let mut received = 0;
        let mut changed = BTreeSet::new();
        // More rounds only when the device's scopes changed or the server
        // was restored.
        for _round in 0..4 {
            let req = match first.take() {
                Some(req) => req,
                None => {
                    let d = db.clone();
                    tokio::task::spawn_blocking(move || engine::pull_request(&d))
                        .await
                        .map_err(|e| Error::Storage(Box::new(e)))??
                }
            };
            let req = pb::PullRequest::from(PullRequest {
                compression,
                message_bytes: u32::try_from(message_bytes.get()).unwrap_or(u32::MAX),
                dictionary: dictionary.number(),
                ..req
            });
            self.count_sent(req.encoded_len());
            self.calls.fetch_add(1, Ordering::Relaxed);
            let mut stream = self
                .sync_client(token)?
                .pull(req)
                .await
                .map_err(status_error)?
                .into_inner();
            // Two stages: decoding the next message (decompressing, parsing,
            // reading first changes) overlaps with applying the one before.
            let (ready, decoded) = tokio::sync::mpsc::channel::<Result<_, Error>>(1);
            let read = async move {
                let mut decoder = PullDecoder::default();
                loop {
                    let next = tokio::select! {
                        m = stream.message() => m,
                        () = ready.closed() => return,
                    };
                    let m = match next {
                        Ok(Some(m)) => m,
                        Ok(None) => return,
                        Err(status) => {
                            let _ = ready.send(Err(status_error(status))).await;
                            return;
                        }
                    };
                    self.count_received(m.encoded_len());
                    message_bytes.answered();
                    let batch = PullBatch::from(m);
                    let d = if batch.frame.is_empty() {
                        // Nothing to unpack (an idle sync's one answer).
                        decoder.decode(batch)
                    } else {
                        let out = tokio::task::spawn_blocking(move || {
                            let d = decoder.decode(batch);
                            (decoder, d)
                        })
                        .await;
                        let Ok((back, d)) = out else { return };
                        decoder = back;
                        d
                    };
                    let failed = d.is_err();
                    if ready.send(d).await.is_err() || failed {
                        return;
                    }
                }
            };
            let mut session = PullSession::new();
            let apply = async {
                // Held here, so that when applying stops (a message refused)
                // the reader's next hand-over fails and it stops too, rather
                // than waiting for ever on a message nobody takes.
                let mut decoded = decoded;
                while let Some(d) = decoded.recv().await {
                    let d = d?;
                    let db = db.clone();
                    let now = chrono::Utc::now().timestamp();
                    let before = session.received;
                    let (s, step) = tokio::task::spawn_blocking(move || {
                        let step = session.commit(&db, d, now);
                        (session, step)
                    })
                    .await
                    .map_err(|e| Error::Storage(Box::new(e)))?;
                    session = s;
                    progress.took_in(session.received - before);
                    match step? {
                        PullStep::More => {}
                        done => return Ok((Some(done), session)),
                    }
                }
                Ok::<_, Error>((None, session))
            };
            let ((), applied) = tokio::join!(read, apply);
            let (step, mut session) = applied?;
            let again = match step {
                Some(PullStep::Done { through }) => {
                    changed.append(&mut session.changed);
                    return Ok((
                        received + session.received,
                        through,
                        changed.into_iter().collect(),
                    ));
                }
                Some(PullStep::AskAgain) => true,
                _ => false,
            };
            received += session.received;
            changed.append(&mut session.changed);
            if !again {
                return Err(Error::Network(
                    "the pull ended before the server said it was done".into(),
                ));
            }
        }
        Err(Error::Protocol(
            "the server keeps changing the device's scopes".into(),
        ))
    }

    /// Which of `heads` (this device's latest change in each record it
    /// wrote) the server lacks, asked in calls of at most
    /// [`MAX_MISSING_PER_CALL`].
    async fn missing(
        &self,
        token: &str,
        heads: &[(DocId, automerge::ChangeHash)],
    ) -> Result<Vec<DocId>, Error> {
        let mut lacking = Vec::new();
        for batch in heads.chunks(MAX_MISSING_PER_CALL) {
            let req = pb::MissingRequest {
                heads: batch.iter().map(|(_, h)| h.0.to_vec()).collect(),
            };
            self.count_sent(req.encoded_len());
            self.calls.fetch_add(1, Ordering::Relaxed);
            let answer = self
                .sync_client(token)?
                .missing(req)
                .await
                .map_err(status_error)?
                .into_inner();
            self.count_received(answer.encoded_len());
            for i in answer.missing {
                let (id, _) = batch.get(i as usize).ok_or_else(|| {
                    Error::Protocol(
                        format!(
                            "the server says change {i} of a Missing call of {} is lacking",
                            batch.len()
                        )
                        .into(),
                    )
                })?;
                lacking.push(*id);
            }
        }
        Ok(lacking)
    }

    /// After the server was restored from a backup (a pull said `reset`):
    /// finds which records it lacks this device's changes of, and pushes
    /// those changes again, each checked like any push. The device stays
    /// recovering while changes wait for others' changes the server lacks
    /// (their devices send them), and tries again at its next sync. Returns
    /// (sent again, stored, refused).
    pub async fn recover(
        &self,
        db: &Arc<Db>,
        token: &str,
        opts: &SyncOptions,
        message_bytes: &Arc<Adaptive>,
        progress: &Progress,
    ) -> Result<(u64, u64, u64), Error> {
        if !off_thread(db, |d| d.read(identity::recovering)).await? {
            return Ok((0, 0, 0));
        }
        let heads = off_thread(db, engine::own_heads).await?;
        let lacking = self.missing(token, &heads).await?;
        let (mut resent, mut stored, mut refused) = (Vec::new(), 0, 0);
        if !lacking.is_empty() {
            let (docs, now) = (lacking.clone(), chrono::Utc::now().timestamp());
            resent = off_thread(db, move |d| engine::requeue_own(d, &docs, now)).await?;
            (stored, refused) = self
                .push(db, token, None, opts, message_bytes, progress)
                .await?;
        }
        let mut still: Vec<_> = heads
            .into_iter()
            .filter(|(id, _)| lacking.contains(id))
            .collect();
        if !still.is_empty() {
            let lacking = self.missing(token, &still).await?;
            still.retain(|(id, _)| lacking.contains(id));
        }
        let hashes = resent.clone();
        let waits = !still.is_empty()
            && off_thread(db, move |d| {
                d.read(|tx| outbox::waits_for_dependency(tx, &hashes))
            })
            .await?;
        if !waits {
            // Done, or what is left was refused for a reason of its own
            // (kept in the outbox with it, for the person to see).
            off_thread(db, |d| d.write(|tx| identity::set_recovering(tx, false))).await?;
        }
        Ok((resent.len() as u64, stored, refused))
    }

    /// Counts of this connection so far: (calls, payload sent, payload received,
    /// link sent, link received).
    pub fn counts(&self) -> (u64, u64, u64, u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.payload_sent.load(Ordering::Relaxed),
            self.payload_received.load(Ordering::Relaxed),
            self.link.sent(),
            self.link.received(),
        )
    }
}

/// Runs store work `f` off the async threads.
async fn off_thread<T: Send + 'static>(
    db: &Arc<Db>,
    f: impl FnOnce(&Db) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let d = db.clone();
    tokio::task::spawn_blocking(move || f(&d))
        .await
        .map_err(|e| Error::Storage(Box::new(e)))?
}

/// An error shown with its sources: tonic's transport error says only
/// "transport error" and leaves the reason (refused, timed out, a
/// certificate that does not match the pin) to them.
#[derive(Debug)]
struct Chained<E>(E);

impl<E: std::error::Error + 'static> std::fmt::Display for Chained<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::report::report(&self.0))
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Chained<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Whether each server address's link was last found slow, in this process.
fn slow_links() -> &'static std::sync::Mutex<std::collections::HashMap<String, bool>> {
    static SLOW: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> =
        std::sync::OnceLock::new();
    SLOW.get_or_init(Default::default)
}

fn slow_before(address: &str) -> Option<bool> {
    slow_links()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(address)
        .copied()
}

fn remember_slow(address: &str, slow: bool) {
    slow_links()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(address.to_string(), slow);
}

/// Runs a whole sync: push and pull at once on one connection.
pub async fn sync(
    db: &Arc<Db>,
    address: &str,
    pin: Option<[u8; 32]>,
    token: &str,
    opts: &SyncOptions,
    progress: &Progress,
) -> Result<SyncReport, Error> {
    let start = Instant::now();
    // What the store says is read while connecting, not after: first what
    // the pull asks, so that it goes once connected, then the first push
    // message, made for a link that is not slow.
    let (d, o) = (db.clone(), *opts);
    let (read, first_read) = tokio::sync::oneshot::channel();
    let making = tokio::task::spawn_blocking(move || {
        let stored = LinkSizes::stored(&d)?;
        let sizes = LinkSizes::under(stored, &o);
        let message_bytes = sizes.push.clone();
        // The receiver waits until connected; gone, the sync is over.
        let _ = read.send((stored, sizes, engine::pull_request(&d)?));
        // Answered changes a sync stopped before taking out (the app ended
        // meanwhile) leave first.
        PushAcks::leave(&d)?;
        let push = engine::start_push(&d, &o, message_bytes)?;
        Ok::<_, Error>(push.map(|(mut frames, acks)| {
            frames.make_first();
            (frames, acks)
        }))
    });
    let made = |m: Result<Result<_, Error>, tokio::task::JoinError>| {
        m.map_err(|e| Error::Storage(Box::new(e)))?
    };
    let conn = Connection::open(address, pin).await?;
    let (stored, fast_sizes, first_pull) = match first_read.await {
        Ok(read) => read,
        // Reading the store failed before the pull's request was read: why.
        Err(_) => {
            return Err(made(making.await).err().unwrap_or_else(|| {
                Error::Storage(
                    "the store's reading for a sync ended without the pull's request".into(),
                )
            }));
        }
    };
    progress.connected(conn.link.clone());
    let mut opts = *opts;
    let mut answer_level = 0;
    // Connecting is two round trips (TCP, then TLS). A connection whose
    // calls go as early data is handed over before the second, so it takes
    // the link as the last connection to this server in this process found
    // it (only a process that connected before holds a ticket).
    let slow_link = if conn.link.is_early() {
        slow_before(address).unwrap_or(false)
    } else {
        let slow = start.elapsed() > opts.slow_link_connect;
        remember_slow(address, slow);
        slow
    };
    // On a slow link the push is made again, at its sizes, from the store.
    let (sizes, making) = if slow_link {
        opts.compression_level = opts.slow_link_compression_level;
        opts.push_message_bytes = opts.slow_link_push_message_bytes;
        opts.push_in_flight_bytes = opts.slow_link_push_in_flight_bytes;
        opts.pull_message_bytes = opts.slow_link_pull_message_bytes;
        answer_level = opts.slow_link_compression_level as u32;
        (LinkSizes::under(stored, &opts), None)
    } else {
        (fast_sizes, Some(making))
    };
    let push = async {
        let first_push = match making {
            Some(making) => Some(made(making.await)?),
            None => None,
        };
        conn.push(db, token, first_push, &opts, &sizes.push, progress)
            .await
    };
    let (push, pull) = tokio::join!(
        push,
        conn.pull(
            db,
            token,
            Some(first_pull),
            Answers {
                compression: answer_level,
                dictionary: opts.dictionary,
                message_bytes: &sizes.pull,
            },
            progress
        )
    );
    conn.remember_link(opts.slow_link_connect);
    let recovered = match (&push, &pull) {
        (Ok(_), Ok(_)) => conn.recover(db, token, &opts, &sizes.push, progress).await,
        _ => Ok((0, 0, 0)),
    };
    if sizes.moved() {
        let d = db.clone();
        tokio::task::spawn_blocking(move || sizes.save(&d))
            .await
            .map_err(|e| Error::Storage(Box::new(e)))??;
    }
    let (mut pushed, mut refused) = push?;
    let (pulled, through, changed) = pull?;
    let (resent, stored, refused_again) = recovered?;
    pushed += stored;
    refused += refused_again;
    let (calls, payload_sent, payload_received, link_sent, link_received) = conn.counts();
    let handshake = conn.link.handshake();
    conn.keep_for_ticket();
    Ok(SyncReport {
        pushed,
        refused,
        pulled,
        resent,
        changed,
        through: Seq(through),
        calls,
        payload_sent,
        payload_received,
        link_sent,
        link_received,
        handshake,
        slow_link,
        took: start.elapsed(),
    })
}
