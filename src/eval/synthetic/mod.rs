//! Synthetic inputs, in one place: ID-like cards, the capture chain an upload goes through, and the
//! test fixtures built from them. Production modules never import this; evaluations and tests do.

pub mod capture;
pub mod cards;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod mrz_documents;
pub mod ocr_b;
pub mod transforms;
