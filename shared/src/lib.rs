//! sei-jira's library crate: the Jira client, credential validation and, as the product grows,
//! all domain logic (sync, hygiene, monitoring, DORA). Lambda binaries and local tools stay thin
//! wrappers around what lives here.

pub mod adf;
#[cfg(feature = "aws")]
pub mod aws;
pub mod jira;
pub mod jira_time;
pub mod memory;
pub mod ports;
pub mod store;
pub mod sync;
pub mod validation;
