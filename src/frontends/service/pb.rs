//! Generated protobuf messages and gRPC stubs for `idforensics.v1` (compiled from `proto/` by
//! `build.rs`, with no system protoc).

#![allow(missing_docs, unreachable_pub, clippy::all)]
tonic::include_proto!("idforensics.v1");

/// The encoded descriptor set of `proto/`, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/idforensics_descriptor.bin"));
