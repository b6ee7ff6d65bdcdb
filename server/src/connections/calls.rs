//! The calls under way on each connection, so an idle connection can be
//! told from one whose call is merely quiet.
//!
//! A call counts only while the server does a device's work on it: the
//! sync service starts a [`Call`] once the device's token is checked (see
//! [`Peer::call`]) and keeps it while the call's work goes on, which the
//! device's own limits and timeouts bound; enrollment counts while it
//! runs. A call that is not (yet) a device's work does not count: one
//! whose request never arrives, a reflection or health stream, an answer
//! whose device never opens its window. Counted, any of these would keep
//! its connection from ever being idle, or chosen to give way at the cap,
//! until its age ran out, and a few of them, from anyone, would hold the
//! server full.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::server::TcpConnectInfo;

use super::Peer;
use super::table::Slot;

/// The tower layer that hands each call its connection's address as
/// tonic's own listener does (`tonic::Request::remote_addr`).
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackCalls;

impl<S> tower::Layer<S> for TrackCalls {
    type Service = Tracked<S>;

    fn layer(&self, inner: S) -> Tracked<S> {
        Tracked { inner }
    }
}

/// A service whose calls know their connection's address.
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
        if let Some(p) = req.extensions().get::<Peer>().cloned() {
            // So that `tonic::Request::remote_addr` works as with tonic's own
            // listener.
            req.extensions_mut().insert(TcpConnectInfo {
                local_addr: None,
                remote_addr: Some(p.addr),
            });
        }
        Box::pin(self.inner.call(req))
    }
}
