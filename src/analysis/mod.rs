//! The analysers: pure, synchronous functions over one decoded upload. Decoding comes first; the
//! quality gate, tamper evidence and fingerprints read its planes; reuse judges fingerprints against
//! the registered documents' in an in-memory index. Nothing here does I/O beyond loading `models/`.

pub mod decode;
pub mod fingerprint;
pub mod mrz;
pub mod quality;
pub mod reuse;
pub mod tamper;
