//! idforensics: identity-document image forensics for KYC.
//!
//! Every upload answers three questions: is the image good enough to verify, has this document been
//! seen on another account, and was the image edited. The analysis is a pure function of the bytes,
//! the configuration and the store; the gRPC service and the CLI are thin shells around [`engine`].
//!
//! The folders are the layers, and imports point down only (a test reads the `use` lines):
//! - [`domain`]: the vocabulary: ids, findings, the decision policy, the report, account links;
//! - [`analysis`]: pure, synchronous analysers over decoded documents (decode, quality, tamper,
//!   fingerprint, reuse), never tonic or SQL;
//! - [`storage`]: the embedded system of record;
//! - [`engine`]: the one pipeline every front end shares;
//! - [`frontends`]: the gRPC service, batch re-verification, settings and file input;
//! - `eval` (feature `eval`): measurement over synthetic and real labelled images, beside the
//!   service, not inside it.

pub mod analysis;
pub mod domain;
pub mod engine;
#[cfg(any(test, feature = "eval"))]
pub mod eval;
pub mod frontends;
pub mod storage;
