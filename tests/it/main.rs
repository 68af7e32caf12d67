//! Integration tests: the real server on 127.0.0.1:0, the real binary, real files.

mod access;
mod batch;
mod calibrate;
mod cli;
mod console;
mod corpus;
mod durability;
mod fuzz_replay;
mod grpc;
mod hostile;
mod layers;
mod metrics;
mod pdq;
mod pg_cluster;
mod quality_captures;
mod replicas;
mod reuse;
mod store_contract;
mod stream;
mod support;
