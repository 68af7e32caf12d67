//! The front ends over the engine: the gRPC service, batch re-verification, and what they share
//! (validated settings, access control, bounded file input). The CLI binary (`src/bin/idforensics`) sits on top.

pub mod access;
pub mod batch;
pub mod input;
pub mod service;
pub mod settings;
