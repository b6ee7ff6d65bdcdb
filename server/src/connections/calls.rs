//! Counts the calls under way on each connection, so an idle connection can
//! be told from one whose call is merely quiet: a call lasts until its
//! answer's body is done or dropped.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::server::TcpConnectInfo;

use super::Peer;
use super::table::Slot;

/// The tower layer that counts calls per connection (see the module).
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackCalls;

impl<S> tower::Layer<S> for TrackCalls {
    type Service = Tracked<S>;

    fn layer(&self, inner: S) -> Tracked<S> {
        Tracked { inner }
    }
}

/// A service whose calls are counted on their connection.
#[derive(Clone, Debug)]
pub struct Tracked<S> {
    inner: S,
}

/// A call under way on a connection, until dropped: while one is, the
/// connection is not idle.
#[derive(Debug)]
pub struct Call(Arc<Slot>);

impl Call {
    pub(super) fn start(slot: &Arc<Slot>) -> Call {
        slot.call_started();
        Call(slot.clone())
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.0.call_ended();
    }
}

impl<S, B> tower::Service<http::Request<B>> for Tracked<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<http::Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let peer = req.extensions().get::<Peer>().cloned();
        let call = peer.as_ref().map(|p| Call::start(&p.slot));
        if let Some(p) = peer {
            // So that `tonic::Request::remote_addr` works as with tonic's own
            // listener.
            req.extensions_mut().insert(TcpConnectInfo {
                local_addr: None,
                remote_addr: Some(p.addr),
            });
        }
        let answer = self.inner.call(req);
        Box::pin(async move {
            let res = answer.await?;
            Ok(match call {
                Some(call) => res.map(|body| {
                    Body::new(CallBody {
                        inner: body,
                        _call: call,
                    })
                }),
                None => res,
            })
        })
    }
}

/// An answer's body that ends its call when done or dropped.
struct CallBody {
    inner: Body,
    _call: Call,
}

impl http_body::Body for CallBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, tonic::Status>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
