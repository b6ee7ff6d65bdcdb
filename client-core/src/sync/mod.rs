//! Sync with the township server: the engine (plain code over the store) and
//! the gRPC transport that carries its messages (`massline_model::protocol`).

pub mod bundle;
pub mod engine;
pub mod link;
pub mod progress;
pub mod sizes;
pub mod tls;
pub mod transport;
pub mod window;
