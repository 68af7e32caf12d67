//! The system of record: registrations, their fingerprints and decisions, stored durably. Images are
//! never stored. The in-memory index is rebuilt from it at start-up.

pub mod store;
