//! The vocabulary every layer speaks: identifiers, findings and their evidence, the decision policy,
//! the report of one upload and the links between accounts. Depends on nothing else in the crate.

pub mod findings;
pub mod ids;
pub mod links;
pub mod policy;
pub mod report;
