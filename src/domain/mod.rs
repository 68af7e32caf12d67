//! The vocabulary every layer speaks: identifiers, findings and their evidence, the decision policy,
//! the report of one upload, the links between accounts and the audit log's entries. Depends on nothing else in the crate.

pub mod audit;
pub mod findings;
pub mod ids;
pub mod links;
pub mod policy;
pub mod report;
