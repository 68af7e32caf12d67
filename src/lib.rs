//! idforensics: identity-document image forensics for KYC.
//!
//! Every upload answers three questions: is the image good enough to verify, has this document been
//! seen on another account, and was the image edited. The analysis is a pure function of the bytes,
//! the configuration and the store; the gRPC service and the CLI are thin shells around [`engine`].
//!
//! Layers, from the bottom: [`decode`] and [`fingerprint`] (pure, synchronous); the analysers
//! [`quality`], [`tamper`] and [`reuse`], with [`links`]; [`findings`] and [`policy`] (what was
//! seen and what it means); [`store`] (the embedded system of record); [`engine`] (the pipeline);
//! [`service`] and [`server`] (gRPC, the only layer that knows protobuf); [`batch`] and [`eval`]
//! (re-verification and measurement, over the engine).

pub mod batch;
pub mod decode;
pub mod engine;
pub mod eval;
pub mod findings;
pub mod fingerprint;
pub mod ids;
pub mod index;
pub mod input;
pub mod links;
pub mod policy;
pub mod quality;
pub mod report;
pub mod reuse;
pub mod server;
pub mod service;
pub mod settings;
pub mod store;
pub mod tamper;
#[cfg(test)]
mod test_images;

/// Generated protobuf messages and gRPC stubs for `idforensics.v1`.
pub mod pb {
    #![allow(missing_docs, unreachable_pub, clippy::all)]
    tonic::include_proto!("idforensics.v1");

    /// The encoded descriptor set of `proto/`, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/idforensics_descriptor.bin"));
}
