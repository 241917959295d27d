//! sei-jira's library crate: Jira wire formats and, as the product grows, the Jira client and
//! all domain logic (sync, hygiene, monitoring, DORA). Lambda binaries and local tools stay thin
//! wrappers around what lives here.

pub mod adf;
pub mod jira_time;
