//! The `massline.v1` wire types and gRPC stubs.
//!
//! Only this crate and the two edges (the server's services, the device's
//! transport) see these types; everything else works on the model's own
//! ([`massline_model::protocol`]), converted here, once, by [`convert`].

pub mod bundle;
pub mod convert;

/// Generated protobuf messages and tonic clients and servers.
pub mod pb {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("massline.v1");
}

/// The encoded `FileDescriptorSet` of `massline.v1`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/massline_descriptor.bin"));
