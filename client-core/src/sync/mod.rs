//! Sync with the township server: the engine (plain code over the store), the
//! messages it speaks, and the gRPC transport that carries them.

pub mod engine;
pub mod link;
pub mod protocol;
pub mod tls;
pub mod transport;
